//! The index (`knockon index`, `check --index`): on every scenario, a check that takes the other
//! repositories from an index finds exactly what it finds with them checked out — as a file
//! index, and as a shared PostgreSQL index that each repository publishes on its own (when
//! KNOCKON_TEST_POSTGRES names a database; `.ci/run` starts one).

use crate::support::{knockon, testdata};
use knockon::scenario::{BuiltScenario, Scenario};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

fn scenarios() -> Vec<(String, Scenario)> {
    let mut entries: Vec<_> = std::fs::read_dir(testdata("scenarios"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "scenario"))
        .collect();
    // KNOCKON_IT_SCENARIO=name narrows the runs to one scenario while investigating.
    if let Ok(only) = std::env::var("KNOCKON_IT_SCENARIO") {
        entries.retain(|e| e.file_name().to_string_lossy().contains(&only));
    }
    entries.sort_by_key(|e| e.file_name());
    entries
        .into_iter()
        .map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                Scenario::parse(&text).unwrap(),
            )
        })
        .collect()
}

fn check(built: &BuiltScenario, context: bool, index: Option<&str>, format: &str) -> Output {
    let mut cmd = knockon();
    cmd.arg("check").arg("--repo").arg(&built.changed_repo);
    if context {
        for dir in &built.context {
            cmd.arg("--context").arg(dir);
        }
    }
    if let Some(index) = index {
        cmd.args(["--index", index]);
    }
    cmd.args([
        "--format",
        format,
        "--base",
        &built.base,
        "--head",
        &built.head,
    ])
    .env_remove("KNOCKON_INDEX")
    .output()
    .unwrap()
}

fn findings(output: &Output) -> Value {
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    json["findings"].clone()
}

/// The text report without its summary line (which counts the repositories read: an index
/// check reads only those the change can involve).
fn text_body(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.starts_with("knockon: "))
        .collect::<Vec<_>>()
        .join("\n")
}

fn index(args: &[&str], dirs: &[std::path::PathBuf]) -> Output {
    let output = knockon()
        .arg("index")
        .args(dirs)
        .args(args)
        .env_remove("KNOCKON_INDEX")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "knockon index {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Compares a check with the context checked out and one with it taken from `target`, in
/// JSON (findings) and in text (every excerpt a reviewer sees).
fn compare(name: &str, built: &BuiltScenario, target: &str, failures: &mut Vec<String>) {
    let plain = check(built, true, None, "json");
    let indexed = check(built, false, Some(target), "json");
    if plain.status.code() != indexed.status.code() {
        failures.push(format!(
            "{name}: exit {:?} checked out, {:?} from the index; stderr: {}",
            plain.status.code(),
            indexed.status.code(),
            String::from_utf8_lossy(&indexed.stderr)
        ));
        return;
    }
    let (a, b) = (findings(&plain), findings(&indexed));
    if a != b {
        failures.push(format!(
            "{name}: findings differ\nchecked out: {a:#}\nindexed: {b:#}"
        ));
        return;
    }
    let (a, b) = (
        text_body(&check(built, true, None, "text")),
        text_body(&check(built, false, Some(target), "text")),
    );
    if a != b {
        failures.push(format!(
            "{name}: text reports differ\nchecked out:\n{a}\nindexed:\n{b}"
        ));
    }
}

#[test]
fn every_scenario_finds_the_same_from_an_index_file_as_from_checkouts() {
    let mut failures = Vec::new();
    let mut with_findings = 0;
    for (name, scenario) in scenarios() {
        let dir = tempfile::tempdir().unwrap();
        let built = scenario.build(dir.path()).unwrap();
        if built.context.is_empty() {
            continue;
        }
        with_findings += usize::from(!scenario.expected.is_empty());
        let file = dir.path().join("index.db");
        index(&["--out", file.to_str().unwrap()], &built.context);
        compare(&name, &built, file.to_str().unwrap(), &mut failures);
    }
    assert!(
        with_findings >= 30,
        "only {with_findings} scenarios with findings and context"
    );
    assert!(
        failures.is_empty(),
        "{} scenario(s) differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The PostgreSQL database of the tests, or a note that they are skipped.
fn postgres() -> Option<String> {
    match std::env::var("KNOCKON_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "skipped: KNOCKON_TEST_POSTGRES is not set (no PostgreSQL to test the shared index against; .ci/run starts one)"
            );
            None
        }
    }
}

/// A fresh schema of the test database, as a URL that selects it.
fn fresh_schema(url: &str, name: &str) -> String {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name};"
        ))
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{name}")
}

#[test]
fn every_scenario_finds_the_same_from_postgres_published_one_repository_at_a_time() {
    let Some(url) = postgres() else { return };
    let mut failures = Vec::new();
    for (i, (name, scenario)) in scenarios().into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let built = scenario.build(dir.path()).unwrap();
        if built.context.is_empty() {
            continue;
        }
        let target = fresh_schema(&url, &format!("knockon_it_scenario_{i}"));
        // As each repository's own CI would: one publish per repository, alone.
        for context in &built.context {
            index(
                &["--publish", "--index", &target],
                std::slice::from_ref(context),
            );
        }
        compare(&name, &built, &target, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} scenario(s) differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn commit(dir: &Path, files: &[(&str, &str)], time: i64) {
    let repo = git2::Repository::open(dir).unwrap_or_else(|_| git2::Repository::init(dir).unwrap());
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::new("t", "t@example.com", &git2::Time::new(time, 0)).unwrap();
    let parents: Vec<git2::Commit> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    let parents: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents)
        .unwrap();
}

fn publish(target: &str, dir: &Path) -> String {
    let output = index(&["--publish", "--index", target], &[dir.to_path_buf()]);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Same commit twice: unchanged; a newer one replaces it; an older one is refused.
fn assert_publishing_is_idempotent_and_newest_wins(target: &str, root: &Path) {
    let dir = root.join("cleanup-ops");
    std::fs::create_dir_all(&dir).unwrap();
    commit(&dir, &[("bin/clean.sh", "rm -rf /data/old/*\n")], 1_000);
    assert!(publish(target, &dir).contains("added"));
    assert!(publish(target, &dir).contains("unchanged"));
    let old = root.join("cleanup-ops-old");
    std::fs::create_dir_all(&old).unwrap();
    commit(&dir, &[("bin/clean.sh", "rm -rf /data/new/*\n")], 2_000);
    let out = publish(target, &dir);
    assert!(out.contains("replaced"), "{out}");
    // The older commit, checked out again: the index keeps the newer one.
    let repo = git2::Repository::open(&dir).unwrap();
    let first = repo
        .head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .parent(0)
        .unwrap();
    repo.reset(first.as_object(), git2::ResetType::Hard, None)
        .unwrap();
    let out = publish(target, &dir);
    assert!(
        out.contains("not published: the index holds a newer commit"),
        "{out}"
    );
}

#[test]
fn file_index_publishing_is_idempotent_and_keeps_the_newest_commit() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("shared.db");
    assert_publishing_is_idempotent_and_newest_wins(file.to_str().unwrap(), root.path());
}

#[test]
fn postgres_publishing_is_idempotent_and_keeps_the_newest_commit() {
    let Some(url) = postgres() else { return };
    let root = tempfile::tempdir().unwrap();
    let target = fresh_schema(&url, "knockon_it_idempotent");
    assert_publishing_is_idempotent_and_newest_wins(&target, root.path());
}

/// Publishers of the same repository at the same time: afterwards the index holds exactly one
/// commit's rows of it (never a mix, never twice), and it is the newest.
#[test]
fn concurrent_postgres_publishers_never_interleave_a_repository() {
    let Some(url) = postgres() else { return };
    let target = fresh_schema(&url, "knockon_it_concurrent");
    let root = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for n in 0..6 {
        // Six clones of one repository, each at its own commit with its own number of files.
        let dir = root.path().join(format!("c{n}")).join("shared-jobs");
        std::fs::create_dir_all(&dir).unwrap();
        let files: Vec<(String, String)> = (0..=n)
            .map(|i| {
                (
                    format!("bin/job{i}.sh"),
                    format!("rm -f /data/job{i}/*.tmp\n"),
                )
            })
            .collect();
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        commit(&dir, &borrowed, 10_000 + n);
        dirs.push(dir);
    }
    let handles: Vec<_> = dirs
        .iter()
        .cloned()
        .map(|dir| {
            let target = target.clone();
            std::thread::spawn(move || publish(&target, &dir))
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let rows = client
        .query(
            "SELECT r.commit_time, (SELECT COUNT(*) FROM knockon_it_concurrent.files f WHERE f.repo_id = r.id) \
             FROM knockon_it_concurrent.repos r",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 1, "one row per repository");
    let (time, files): (i64, i64) = (rows[0].get(0), rows[0].get(1));
    assert_eq!(time, 10_005, "the newest commit wins");
    assert_eq!(files, 6, "exactly the newest commit's files");
}

#[test]
fn a_bad_index_is_a_one_line_error_with_exit_code_2() {
    let root = tempfile::tempdir().unwrap();
    let junk = root.path().join("junk.db");
    std::fs::write(&junk, "not a database at all, just text").unwrap();
    let scenario = scenarios().into_iter().next().unwrap().1;
    let built = scenario.build(root.path()).unwrap();
    let output = check(&built, false, Some(junk.to_str().unwrap()), "json");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("junk.db"), "{stderr}");
    let missing = root.path().join("missing.db");
    let output = check(&built, false, Some(missing.to_str().unwrap()), "json");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no such index file"));
    assert!(!missing.exists(), "a check never creates an index");
    let output = check(
        &built,
        false,
        Some("postgres://nobody@127.0.0.1:1/none"),
        "json",
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}
