//! The fact cache from the outside: a cached run reports what an uncached run reports, and the
//! cache survives concurrent runs, a killed run, a corrupt database file and a change of models.

use crate::support::{Mode, knockon, run_built, testdata};
use knockon::scenario::Scenario;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A workspace of `n` scripts and modules sharing paths, big enough that a run takes a while.
fn workspace(root: &Path, n: usize) {
    for i in 0..n {
        let dir = root.join(format!("repo{}", i % 3));
        std::fs::create_dir_all(dir.join("jobs")).unwrap();
        let body: String = (0..30)
            .map(|j| format!("cp /srv/in/{i}/{j}.csv \"$OUT/{j}.csv\"\n"))
            .collect();
        std::fs::write(
            dir.join(format!("jobs/job{i}.sh")),
            format!(
                "#!/bin/bash\nOUT=/srv/out/{i}\nmkdir -p \"$OUT\"\n{body}rm -rf /srv/tmp/{i}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("jobs/load{i}.py")),
            format!(
                "import os\nBASE = os.environ.get('BASE', '/srv/out')\n\ndef load(day):\n    with open(f'{{BASE}}/{i}/{{day}}.csv') as f:\n        return f.read()\n"
            ),
        )
        .unwrap();
    }
}

fn who(root: &Path, cache: Option<&Path>) -> Command {
    let mut cmd = knockon();
    cmd.args(["who", "/srv/**", "--format", "json"]);
    for i in 0..3 {
        cmd.arg(root.join(format!("repo{i}")));
    }
    match cache {
        Some(dir) => cmd.arg("--cache").arg(dir),
        None => cmd.arg("--no-cache"),
    };
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ok(out: Output) -> Output {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    out
}

fn stats(cache: &Path) -> String {
    let out = ok(knockon()
        .args(["cache", "stats", "--cache"])
        .arg(cache)
        .output()
        .unwrap());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_warm_run_reads_the_cache_and_reports_the_same() {
    let dir = tempfile::tempdir().unwrap();
    workspace(dir.path(), 30);
    let cache = dir.path().join("cache");
    let fresh = ok(who(dir.path(), None).output().unwrap());
    assert!(fresh.stdout.len() > 1000, "the workspace gives accesses");
    let cold = ok(who(dir.path(), Some(&cache)).output().unwrap());
    let warm = ok(who(dir.path(), Some(&cache)).output().unwrap());
    assert_eq!(cold.stdout, fresh.stdout);
    assert_eq!(warm.stdout, fresh.stdout);
    assert_eq!(stderr(&warm), "");
    // 60 files' facts, the world they make and each repository's record of what its load
    // found; the warm run read the world alone.
    let text = stats(&cache);
    assert!(text.contains("entries: 64 "), "{text}");
    assert!(text.contains("lookups: 0 hits, 60 misses"), "{text}");
    assert!(text.contains("worlds:  1 hits, 1 misses"), "{text}");
    // One file edited: another world, resolved from 59 cached files' facts and one fresh.
    let edited = dir.path().join("repo0/jobs/job0.sh");
    let mut script = std::fs::read_to_string(&edited).unwrap();
    script.push_str("rm -f /srv/out/0/stale.csv\n");
    std::fs::write(&edited, script).unwrap();
    let fresh = ok(who(dir.path(), None).output().unwrap());
    let warm = ok(who(dir.path(), Some(&cache)).output().unwrap());
    assert_eq!(warm.stdout, fresh.stdout);
    assert!(String::from_utf8_lossy(&warm.stdout).contains("stale.csv"));
    let text = stats(&cache);
    assert!(text.contains("lookups: 59 hits, 61 misses"), "{text}");
    assert!(text.contains("worlds:  1 hits, 2 misses"), "{text}");
}

/// The files each repository's load read, from `KNOCKON_TIMINGS` output: (read, found).
fn files_read(stderr: &str) -> Vec<(usize, usize)> {
    stderr
        .lines()
        .filter_map(|line| line.split_once("files read: ")?.1.split_once(" in "))
        .filter_map(|(counts, _)| {
            let (read, of) = counts.split_once(" of ")?;
            Some((read.parse().ok()?, of.parse().ok()?))
        })
        .collect()
}

#[test]
fn a_warm_run_reads_only_the_files_that_changed_since_the_last() {
    let dir = tempfile::tempdir().unwrap();
    workspace(dir.path(), 12);
    let cache = dir.path().join("cache");
    // A stamp proves nothing about a file written in the same clock tick as it was read:
    // files younger than the record by less than the slack are read again every time.
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let timed = |cache: Option<&Path>| {
        ok(who(dir.path(), cache)
            .env("KNOCKON_TIMINGS", "1")
            .output()
            .unwrap())
    };
    let cold = timed(Some(&cache));
    assert_eq!(files_read(&stderr(&cold)), [(8, 8); 3]);
    let warm = timed(Some(&cache));
    assert_eq!(warm.stdout, cold.stdout);
    assert_eq!(files_read(&stderr(&warm)), [(0, 8); 3]);
    // Edited to the same size: read again, and what it does now is what is reported.
    let edited = dir.path().join("repo1/jobs/job4.sh");
    let script = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(
        &edited,
        script.replace("rm -rf /srv/tmp/4", "rm -rf /srv/tmq/4"),
    )
    .unwrap();
    let after = timed(Some(&cache));
    assert_eq!(files_read(&stderr(&after)), [(0, 8), (1, 8), (0, 8)]);
    assert_eq!(after.stdout, timed(None).stdout);
    let report = String::from_utf8_lossy(&after.stdout);
    assert!(
        report.contains("/srv/tmq/4") && !report.contains("/srv/tmp/4"),
        "{report}"
    );
}

#[test]
fn a_warm_check_of_a_diff_patches_files_it_did_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let (built, _, cache_arg) = sharded_ticker(dir.path());
    let diff = dir.path().join("change.diff");
    std::fs::write(&diff, built.diff_text().unwrap()).unwrap();
    // Old enough for the load records to be trusted (see the test above).
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let check = |cache: Option<&str>| {
        let mut cmd = knockon();
        cmd.arg("check").arg("--repo").arg(&built.changed_repo);
        for context in &built.context {
            cmd.arg("--context").arg(context);
        }
        cmd.args(["--format", "json", "--diff"]).arg(&diff);
        match cache {
            Some(dir) => cmd.args(["--cache", dir]),
            None => cmd.arg("--no-cache"),
        };
        cmd.env("KNOCKON_TIMINGS", "1").output().unwrap()
    };
    let fresh = check(None);
    assert_eq!(fresh.status.code(), Some(1), "{}", stderr(&fresh));
    let cold = check(Some(&cache_arg));
    let warm = check(Some(&cache_arg));
    assert_eq!(cold.stdout, fresh.stdout);
    assert_eq!(warm.stdout, fresh.stdout);
    let report = String::from_utf8_lossy(&warm.stdout);
    assert!(report.contains("cleanup_ticker.sh"), "{report}");
    // The warm check read no file afresh: the ones the diff patches were read for patching.
    let read = files_read(&stderr(&warm));
    assert!(
        !read.is_empty() && read.iter().all(|(afresh, of)| *afresh == 0 && *of > 0),
        "{read:?}"
    );
}

#[test]
fn a_checks_base_is_read_from_the_head_world_of_an_earlier_check() {
    let dir = tempfile::tempdir().unwrap();
    let (built, cache, cache_arg) = sharded_ticker(dir.path());
    let first = run_built(&built, Mode::Revisions, &["--cache", &cache_arg]);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let before = stats(&cache);
    // The next change starts where the first ended: its base world is the first's head.
    let next = ok(check_between(
        &built,
        &built.head,
        &built.head,
        Some(&cache_arg),
    ));
    let fresh = ok(check_between(&built, &built.head, &built.head, None));
    assert_eq!(next.stdout, fresh.stdout);
    let after = stats(&cache);
    // No file's facts were read: both worlds came whole from the first check's head.
    assert_eq!(
        stats_line(&before, "lookups:"),
        stats_line(&after, "lookups:"),
        "{after}"
    );
    assert!(before.contains("worlds:  0 hits, 3 misses"), "{before}");
    assert!(after.contains("worlds:  2 hits, 4 misses"), "{after}");
}

#[test]
fn a_checks_base_read_from_a_whole_world_beside_a_kept_head_compares_the_changed_repository() {
    let dir = tempfile::tempdir().unwrap();
    let (built, cache, cache_arg) = sharded_ticker(dir.path());
    // A commit of its own: the base's files and one more script, so that its world is another.
    let repo = git2::Repository::open(&built.changed_repo).unwrap();
    let base = commit_at(&repo, &built.base);
    let note = repo.blob(b"#!/bin/sh\necho released\n").unwrap();
    let mut tree = repo.treebuilder(Some(&base.tree().unwrap())).unwrap();
    tree.insert("release.sh", note, 0o100644).unwrap();
    let tree = repo.find_tree(tree.write().unwrap()).unwrap();
    let other = commit_on(&repo, &base, &tree, "release script");
    // Earlier checks keep the head's world whole and the base's whole, but never the base's
    // world as this check resolves it (the changed repository's accesses alone).
    for head in [&built.head, &built.base] {
        earlier_check(&built, &other, head, &cache_arg);
    }
    let before = stats(&cache);
    the_change_reports_as_without_a_cache(&built, &cache_arg);
    // The base as resolved missed; the head's world and the base's whole world were read.
    let worlds = |text: &str| stats_numbers(text, "worlds:");
    let (before, after) = (worlds(&before), worlds(&stats(&cache)));
    assert_eq!(
        after
            .iter()
            .zip(&before)
            .map(|(a, b)| a - b)
            .collect::<Vec<_>>(),
        vec![2, 1],
        "{before:?} -> {after:?}"
    );
}

/// The commit `revision` names in `repo`.
fn commit_at<'r>(repo: &'r git2::Repository, revision: &str) -> git2::Commit<'r> {
    repo.revparse_single(revision)
        .unwrap()
        .peel_to_commit()
        .unwrap()
}

/// A commit of `tree` on `parent` in `repo`, on no branch: a revision for an earlier check.
fn commit_on(
    repo: &git2::Repository,
    parent: &git2::Commit<'_>,
    tree: &git2::Tree<'_>,
    message: &str,
) -> String {
    let sig =
        git2::Signature::new("t", "t@example.com", &git2::Time::new(1_700_000_000, 0)).unwrap();
    repo.commit(None, &sig, &sig, message, tree, &[parent])
        .unwrap()
        .to_string()
}

/// A check from `base` to `head` through the cache at `cache_arg`, for what it keeps there;
/// asserted only to run (with or without findings).
fn earlier_check(
    built: &knockon::scenario::BuiltScenario,
    base: &str,
    head: &str,
    cache_arg: &str,
) {
    let earlier = check_between(built, base, head, Some(cache_arg));
    assert!(
        earlier.status.code().is_some_and(|c| c < 2),
        "{}",
        stderr(&earlier)
    );
}

/// Checks the sharded-ticker change through the cache at `cache_arg` and asserts that it
/// reports what the same check without a cache reports: the cleanup job's finding.
fn the_change_reports_as_without_a_cache(
    built: &knockon::scenario::BuiltScenario,
    cache_arg: &str,
) {
    let next = check_between(built, &built.base, &built.head, Some(cache_arg));
    let fresh = check_between(built, &built.base, &built.head, None);
    assert_eq!(next.status.code(), Some(1), "{}", stderr(&next));
    assert_eq!(next.stdout, fresh.stdout);
    assert_eq!(stderr(&next), stderr(&fresh));
    let report = String::from_utf8_lossy(&next.stdout);
    assert!(report.contains("cleanup_ticker.sh"), "{report}");
}

/// The sharded-ticker incident built as git repositories under `root`, and a cache directory
/// beside them (as a path, and as the argument of `--cache`).
fn sharded_ticker(root: &Path) -> (knockon::scenario::BuiltScenario, PathBuf, String) {
    let text = std::fs::read_to_string(testdata("scenarios/sharded-ticker.scenario")).unwrap();
    let built = Scenario::parse(&text).unwrap().build(root).unwrap();
    let cache = root.join("cache");
    let cache_arg = cache.to_string_lossy().into_owned();
    (built, cache, cache_arg)
}

/// A check of `built`'s changed repository from `base` to `head`, reading and writing `cache`
/// (or none), with every context repository.
fn check_between(
    built: &knockon::scenario::BuiltScenario,
    base: &str,
    head: &str,
    cache: Option<&str>,
) -> Output {
    check_command(built, base, head, cache).output().unwrap()
}

/// The command [`check_between`] runs.
fn check_command(
    built: &knockon::scenario::BuiltScenario,
    base: &str,
    head: &str,
    cache: Option<&str>,
) -> Command {
    let mut cmd = knockon();
    cmd.arg("check").arg("--repo").arg(&built.changed_repo);
    for context in &built.context {
        cmd.arg("--context").arg(context);
    }
    cmd.args(["--format", "json", "--base", base, "--head", head]);
    match cache {
        Some(dir) => cmd.args(["--cache", dir]),
        None => cmd.arg("--no-cache"),
    };
    cmd
}

#[test]
fn a_new_change_takes_the_contexts_answers_from_its_bases_world() {
    // The earlier check ends where this change starts; it started either from another tree
    // (the sharded loader) or from a commit with the base's own tree, whose world as this
    // check's base is then kept too.
    for same_tree_before in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let (built, _, cache_arg) = sharded_ticker(dir.path());
        let repo = git2::Repository::open(&built.changed_repo).unwrap();
        let base = commit_at(&repo, &built.base);
        let from = if same_tree_before {
            base.clone()
        } else {
            commit_at(&repo, &built.head)
        };
        let earlier_base = commit_on(&repo, &base, &from.tree().unwrap(), "before");
        earlier_check(&built, &earlier_base, &built.base, &cache_arg);
        let next = check_command(&built, &built.base, &built.head, Some(&cache_arg))
            .env("KNOCKON_TIMINGS", "1")
            .output()
            .unwrap();
        let fresh = check_between(&built, &built.base, &built.head, None);
        let timings = stderr(&next);
        assert!(
            timings.contains("context answers: taken from the base's world"),
            "same tree before: {same_tree_before}\n{timings}"
        );
        assert_eq!(next.status.code(), Some(1), "{timings}");
        assert_eq!(next.stdout, fresh.stdout);
        let report = String::from_utf8_lossy(&next.stdout);
        assert!(report.contains("cleanup_ticker.sh"), "{report}");
    }
}

#[test]
fn a_new_change_reads_its_base_world_beside_resolving_its_head() {
    let dir = tempfile::tempdir().unwrap();
    let (built, cache, cache_arg) = sharded_ticker(dir.path());
    // An earlier check whose head is this change's base (the last change merged), from a
    // commit of its own: one that holds the sharded loader.
    let repo = git2::Repository::open(&built.changed_repo).unwrap();
    let head = commit_at(&repo, &built.head);
    let earlier_base = commit_on(&repo, &head, &head.tree().unwrap(), "shard");
    earlier_check(&built, &earlier_base, &built.base, &cache_arg);
    let before = stats(&cache);
    the_change_reports_as_without_a_cache(&built, &cache_arg);
    // Its base and head worlds were not kept before (two misses); the earlier check's head
    // world was read for its base (a hit); every file's facts came from the cache (the earlier
    // check read both versions of the loader).
    assert!(before.contains("worlds:  0 hits, 3 misses"), "{before}");
    let after = stats(&cache);
    assert!(after.contains("worlds:  1 hits, 5 misses"), "{after}");
    let misses = |text: &str| stats_numbers(text, "lookups:").get(1).copied();
    assert_eq!(misses(&after), misses(&before), "{before}\n{after}");
    // One more entry, the new head's world: the base was read, not resolved and kept again.
    let entries = |text: &str| stats_numbers(text, "entries:").first().copied();
    assert_eq!(
        entries(&after),
        entries(&before).map(|n| n + 1),
        "{before}\n{after}"
    );
}

#[test]
fn two_runs_at_once_both_answer_right() {
    let dir = tempfile::tempdir().unwrap();
    workspace(dir.path(), 150);
    let fresh = ok(who(dir.path(), None).output().unwrap());
    for round in ["cold", "warm"] {
        let cache = dir.path().join("cache");
        let children: Vec<_> = (0..2)
            .map(|_| {
                who(dir.path(), Some(&cache))
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = ok(child.wait_with_output().unwrap());
            assert_eq!(out.stdout, fresh.stdout, "{round}");
            assert_eq!(stderr(&out), "", "{round}");
        }
    }
    let text = stats(&dir.path().join("cache"));
    // 300 files' facts, one world and three load records, written twice by the cold runs and
    // read by the warm ones.
    assert!(text.contains("entries: 304 "), "{text}");
    // Four lookups of the world; the warm runs' two hit (a cold run that starts after the
    // other's has finished hits too).
    let worlds = stats_numbers(&text, "worlds:");
    assert!(
        worlds.len() == 2 && worlds[0] + worlds[1] == 4 && worlds[0] >= 2,
        "{text}"
    );
}

#[test]
fn a_corrupt_cache_file_is_rebuilt_with_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    workspace(dir.path(), 10);
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let garbage: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(cache.join("facts.sqlite3"), &garbage).unwrap();
    let fresh = ok(who(dir.path(), None).output().unwrap());
    let out = ok(who(dir.path(), Some(&cache)).output().unwrap());
    assert_eq!(out.stdout, fresh.stdout);
    let warning = stderr(&out);
    assert_eq!(warning.lines().count(), 1, "{warning}");
    assert!(
        warning.starts_with("knockon: cache database ") && warning.contains("rebuilt"),
        "{warning}"
    );
    let again = ok(who(dir.path(), Some(&cache)).output().unwrap());
    assert_eq!(again.stdout, fresh.stdout);
    assert_eq!(stderr(&again), "");
    assert!(
        stats(&cache).contains("worlds:  1 hits"),
        "{}",
        stats(&cache)
    );
}

#[test]
fn a_killed_run_leaves_a_usable_cache() {
    let dir = tempfile::tempdir().unwrap();
    workspace(dir.path(), 300);
    let fresh = ok(who(dir.path(), None).output().unwrap());
    let cache = dir.path().join("cache");
    // Killed at several points of a cold run: while loading, extracting, writing.
    let mut killed_mid_run = 0;
    for delay_ms in [50, 300, 700, 1200, 2000] {
        let mut child = who(dir.path(), Some(&cache))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() && cache.join("facts.sqlite3").exists() {
            killed_mid_run += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let out = ok(who(dir.path(), Some(&cache)).output().unwrap());
        assert_eq!(out.stdout, fresh.stdout, "after a kill at {delay_ms} ms");
        assert_eq!(stderr(&out), "", "after a kill at {delay_ms} ms");
        // Start the next kill from an empty cache again.
        ok(knockon()
            .args(["cache", "clear", "--cache"])
            .arg(&cache)
            .output()
            .unwrap());
    }
    assert!(killed_mid_run > 0, "every run finished before its kill");
}

#[test]
fn other_models_do_not_read_the_facts_of_the_builtin_ones() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join("ship.sh"),
        "#!/bin/bash\nshipit /srv/outbox/today.tar\n",
    )
    .unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("shipit.toml"),
        "schema = 1\nlanguage = \"bash\"\n\n[[command]]\nnames = [\"shipit\"]\noperands = [{ select = \"all\", mode = \"read\" }]\n",
    )
    .unwrap();
    let cache = dir.path().join("cache");
    let run = |with_rules: bool| {
        let mut cmd = knockon();
        cmd.args(["who", "/srv/**", "--format", "json", "--cache"])
            .arg(&cache)
            .arg(&repo);
        if with_rules {
            cmd.arg("--rules").arg(&rules);
        }
        let out = ok(cmd.output().unwrap());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let without = run(false);
    let with = run(true);
    assert!(!without.contains("/srv/outbox/today.tar"), "{without}");
    assert!(with.contains("/srv/outbox/today.tar"), "{with}");
    assert_eq!(run(false), without);
    assert_eq!(run(true), with);
}

#[test]
fn cache_commands_show_prune_and_clear() {
    let dir = tempfile::tempdir().unwrap();
    workspace(dir.path(), 20);
    let cache = dir.path().join("cache");
    ok(who(dir.path(), Some(&cache)).output().unwrap());
    let text = stats(&cache);
    assert!(text.contains("entries: 44 "), "{text}");
    assert!(text.contains("facts.sqlite3"), "{text}");
    let out = ok(knockon()
        .args(["cache", "prune", "--max-size", "0", "--cache"])
        .arg(&cache)
        .output()
        .unwrap());
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("pruned 44 entries; 0 entries"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    ok(who(dir.path(), Some(&cache)).output().unwrap());
    ok(knockon()
        .args(["cache", "clear", "--cache"])
        .arg(&cache)
        .output()
        .unwrap());
    assert!(stats(&cache).contains("entries: 0 "), "{}", stats(&cache));
    let bad = knockon()
        .args(["cache", "prune", "--max-size", "lots", "--cache"])
        .arg(&cache)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(stderr(&bad).lines().count(), 1, "{}", stderr(&bad));
    let off = ok(knockon()
        .args(["cache", "stats"])
        .env("KNOCKON_CACHE", "off")
        .output()
        .unwrap());
    assert!(String::from_utf8_lossy(&off.stdout).starts_with("cache: off"));
}

/// The hits the cache has counted so far (file facts read back).
fn hits(cache: &Path) -> String {
    stats_line(&stats(cache), "lookups:")
}

/// The line of `knockon cache stats` output that starts with `start`.
/// The numbers on the line of `text` that starts with `start`, in order (`lookups: 8 hits, 9
/// misses (47.1% hits)` -> 8, 9, 47, 1).
fn stats_numbers(text: &str, start: &str) -> Vec<usize> {
    stats_line(text, start)
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect()
}

fn stats_line(text: &str, start: &str) -> String {
    text.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_default()
        .to_string()
}

/// Every scenario file, by name.
fn scenario_paths() -> Vec<std::path::PathBuf> {
    let mut paths: Vec<_> = std::fs::read_dir(testdata("scenarios"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "scenario"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_scenario_reports_the_same_from_its_cached_worlds() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for path in scenario_paths() {
        let Ok(scenario) = Scenario::parse(&std::fs::read_to_string(&path).unwrap()) else {
            continue;
        };
        if scenario.audit {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let built = scenario.build(dir.path()).unwrap();
        let cache = dir.path().join("cache");
        let cache_arg = cache.to_string_lossy().into_owned();
        let fresh = run_built(&built, Mode::Revisions, &["--no-cache"]);
        let cold = run_built(&built, Mode::Revisions, &["--cache", &cache_arg]);
        let read_back = hits(&cache);
        let warm = run_built(&built, Mode::Revisions, &["--cache", &cache_arg]);
        compared += 1;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if (cold.stdout != fresh.stdout) || (warm.stdout != fresh.stdout) {
            failures.push(format!(
                "{name}: reports differ\nfresh: {}\nwarm: {}",
                String::from_utf8_lossy(&fresh.stdout),
                String::from_utf8_lossy(&warm.stdout)
            ));
        } else if warm.status.code() != fresh.status.code() || stderr(&warm) != stderr(&fresh) {
            failures.push(format!("{name}: exit codes or warnings differ"));
        } else if hits(&cache) != read_back {
            // Both worlds were read whole: no file's facts were looked up.
            failures.push(format!(
                "{name}: the warm run read file facts, not its worlds"
            ));
        } else if !stats(&cache).contains("worlds:  2 hits, 3 misses") {
            // Cold: base (as a check resolves it, then whole) and head missed; warm: both hit.
            failures.push(format!("{name}: {}", stats(&cache)));
        }
    }
    assert!(compared >= 60, "only {compared} scenarios compared");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
