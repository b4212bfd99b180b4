//! Shared helpers: build a scenario's repositories and run the real binary on them.

use knockon::scenario::{BuiltScenario, ExpectKind, Scenario};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

/// The binary, with its fact cache in the build's temporary directory: the suite never writes
/// to the user's cache, and every scenario run also exercises the cache (runs of the same
/// files at other modes, and later test runs of the same build, read facts back from it).
pub fn knockon() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_knockon"));
    cmd.env("KNOCKON_CACHE", test_cache_dir())
        .env("KNOCKON_CACHE_MAX_BYTES", "64M");
    cmd
}

/// The cache every test run of the binary shares unless it says otherwise.
pub fn test_cache_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("knockon-it-cache")
}

pub fn testdata(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// How the change is handed to the binary.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// `--base B --head H`.
    Revisions,
    /// `--base B` with head as uncommitted edits.
    WorkingTree,
    /// `--diff FILE` with the working tree at base.
    DiffNotApplied,
    /// `--diff -` (stdin) with the working tree at head.
    DiffApplied,
}

pub const ALL_MODES: [Mode; 4] = [
    Mode::Revisions,
    Mode::WorkingTree,
    Mode::DiffNotApplied,
    Mode::DiffApplied,
];

pub struct Run {
    pub output: Output,
    pub json: Value,
}

/// Builds the scenario in a fresh directory and runs `knockon check --format json` in `mode`.
pub fn run_scenario(scenario: &Scenario, mode: Mode, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let built = scenario.build(dir.path()).unwrap();
    let output = run_built(&built, mode, extra);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    Run { output, json }
}

pub fn run_built(built: &BuiltScenario, mode: Mode, extra: &[&str]) -> Output {
    let mut cmd = knockon();
    cmd.arg("check").arg("--repo").arg(&built.changed_repo);
    for context in &built.context {
        cmd.arg("--context").arg(context);
    }
    cmd.args(["--format", "json"]).args(extra);
    match mode {
        Mode::Revisions => {
            cmd.args(["--base", &built.base, "--head", &built.head]);
        }
        Mode::WorkingTree => {
            built.head_as_uncommitted().unwrap();
            cmd.args(["--base", &built.base]);
        }
        Mode::DiffNotApplied => {
            let diff = built.diff_text().unwrap();
            built.checkout_base().unwrap();
            let path = built.root.join("change.diff");
            std::fs::write(&path, diff).unwrap();
            cmd.arg("--diff").arg(path);
        }
        Mode::DiffApplied => {
            let diff = built.diff_text().unwrap();
            let path = built.root.join("change.diff");
            std::fs::write(&path, diff).unwrap();
            cmd.arg("--diff")
                .arg("-")
                .stdin(std::fs::File::open(&path).unwrap());
        }
    }
    cmd.output().unwrap()
}

/// (rule, repo, path, line) of each finding's impacted site.
pub fn impacted_sites(json: &Value) -> BTreeSet<(String, String, String, u64)> {
    sites(json, "impacted")
}

pub fn change_sites(json: &Value) -> BTreeSet<(String, String, String, u64)> {
    sites(json, "change")
}

fn sites(json: &Value, key: &str) -> BTreeSet<(String, String, String, u64)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f[key]["repo"].as_str().unwrap().to_string(),
                f[key]["path"].as_str().unwrap().to_string(),
                f[key]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

pub fn expected_sites(
    scenario: &Scenario,
    kind: ExpectKind,
) -> BTreeSet<(String, String, String, u64)> {
    scenario
        .expected
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| {
            (
                e.rule.clone(),
                e.repo.clone(),
                e.path.clone(),
                u64::from(e.line),
            )
        })
        .collect()
}

/// Asserts that the findings are exactly the scenario's `#@ impacted` markers, and that every
/// finding's change site is one of its rule's `#@ changed` markers.
pub fn assert_expected(name: &str, scenario: &Scenario, run: &Run, mode: Mode) {
    let stderr = String::from_utf8_lossy(&run.output.stderr);
    let expected = expected_sites(scenario, ExpectKind::Impacted);
    let actual = impacted_sites(&run.json);
    assert_eq!(
        actual, expected,
        "{name} ({mode:?}): impacted sites differ\nstderr: {stderr}\njson: {:#}",
        run.json
    );
    let expected_changes = expected_sites(scenario, ExpectKind::Changed);
    for change in change_sites(&run.json) {
        assert!(
            expected_changes.contains(&change),
            "{name} ({mode:?}): unexpected change site {change:?}; expected one of {expected_changes:?}"
        );
    }
    let code = run.output.status.code();
    let want = if expected.is_empty() { Some(0) } else { None };
    if let Some(want) = want {
        assert_eq!(
            code,
            Some(want),
            "{name} ({mode:?}): exit code; stderr: {stderr}"
        );
    } else {
        assert!(
            matches!(code, Some(0) | Some(1)),
            "{name}: exit code {code:?}; stderr: {stderr}"
        );
    }
}

/// Builds an audit scenario (`=== audit`) and runs `knockon audit --format json` on all of its
/// repositories, in order.
pub fn run_audit_scenario(scenario: &Scenario, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let built = scenario.build(dir.path()).unwrap();
    let output = knockon()
        .arg("audit")
        .args(&built.context)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    Run { output, json }
}

/// Asserts that the findings of `rule` are exactly the scenario's `#@ impacted` markers of it,
/// each about one site (its change site is its impacted site).
pub fn assert_audit_expected(name: &str, scenario: &Scenario, run: &Run, rule: &str) {
    let stderr = String::from_utf8_lossy(&run.output.stderr);
    let of_rule = |sites: BTreeSet<(String, String, String, u64)>| {
        sites
            .into_iter()
            .filter(|s| s.0 == rule)
            .collect::<BTreeSet<_>>()
    };
    let expected = of_rule(expected_sites(scenario, ExpectKind::Impacted));
    let actual = of_rule(impacted_sites(&run.json));
    assert_eq!(
        actual, expected,
        "{name}: impacted sites differ\nstderr: {stderr}\njson: {:#}",
        run.json
    );
    assert_eq!(
        impacted_sites(&run.json),
        change_sites(&run.json),
        "{name}: an audit finding's change site is its impacted site"
    );
    assert!(
        matches!(run.output.status.code(), Some(0) | Some(1)),
        "{name}: exit code {:?}; stderr: {stderr}",
        run.output.status.code()
    );
}
