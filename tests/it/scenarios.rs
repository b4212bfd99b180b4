//! Every scenario in `testdata/scenarios/`, in every way a change can be given.

use crate::support::{ALL_MODES, assert_expected, run_scenario, testdata};
use knockon::scenario::Scenario;

fn scenarios() -> Vec<(String, Scenario)> {
    let mut out = Vec::new();
    let dir = testdata("scenarios");
    let mut entries: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "scenario") {
            let text = std::fs::read_to_string(&path).unwrap();
            let scenario =
                Scenario::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push((entry.file_name().to_string_lossy().into_owned(), scenario));
        }
    }
    assert!(out.len() >= 10, "scenarios missing from {}", dir.display());
    out
}

#[test]
fn every_scenario_gives_exactly_its_expected_findings_in_every_mode() {
    let mut failures = Vec::new();
    for (name, scenario) in scenarios() {
        for mode in ALL_MODES {
            let result = std::panic::catch_unwind(|| {
                let run = run_scenario(&scenario, mode, &[]);
                assert_expected(&name, &scenario, &run, mode);
            });
            if let Err(e) = result {
                let message = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(message);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn controls_are_at_least_four_and_incident_is_present() {
    let all = scenarios();
    let controls = all.iter().filter(|(_, s)| s.expected.is_empty()).count();
    assert!(controls >= 4, "only {controls} control scenarios");
    assert!(all.iter().any(|(n, _)| n == "sharded-ticker.scenario"));
}

/// A revision compared with itself changes nothing, so nothing can need a patch — whatever
/// standing mismatches the repositories hold (they are the audit's business, not a change's).
#[test]
fn no_scenario_reports_anything_when_base_equals_head() {
    let mut failures = Vec::new();
    for (name, scenario) in scenarios() {
        let dir = tempfile::tempdir().unwrap();
        let built = scenario.build(dir.path()).unwrap();
        for rev in [&built.base, &built.head] {
            let mut cmd = crate::support::knockon();
            cmd.arg("check").arg("--repo").arg(&built.changed_repo);
            for context in &built.context {
                cmd.arg("--context").arg(context);
            }
            let output = cmd
                .args(["--format", "json", "--base", rev, "--head", rev])
                .output()
                .unwrap();
            let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            let findings = json["findings"].as_array().map_or(0, Vec::len);
            if findings != 0 || output.status.code() != Some(0) {
                failures.push(format!("{name} at {rev}: {findings} finding(s)"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
