//! `knockon.toml` and inline suppressions, through the real binary.

use crate::support::{Mode, impacted_sites, knockon, run_built, testdata};
use knockon::scenario::Scenario;

fn incident_with(extra_loader_files: &str, host_ops_cleanup: Option<&str>) -> Scenario {
    let mut text = std::fs::read_to_string(testdata("scenarios/sharded-ticker.scenario")).unwrap();
    // Strip the expectation markers: these tests assert on their own.
    text = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("#@"))
        .collect::<Vec<_>>()
        .join("\n");
    if let Some(cleanup) = host_ops_cleanup {
        let start = text.find("=== file cron/cleanup_ticker.sh").unwrap();
        let end = text[start..].find("=== repo dashboards").unwrap() + start;
        text.replace_range(
            start..end,
            &format!("=== file cron/cleanup_ticker.sh\n{cleanup}\n"),
        );
    }
    let insert_at = text.find("=== repo host-ops").unwrap();
    text.insert_str(insert_at, extra_loader_files);
    Scenario::parse(&text).unwrap()
}

fn rules_of(json: &serde_json::Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn context_from_knockon_toml() {
    let scenario = incident_with(
        "=== file knockon.toml\ncontext = [\"../host-ops\", \"../dashboards\"]\n",
        None,
    );
    let dir = tempfile::tempdir().unwrap();
    let built = scenario.build(dir.path()).unwrap();
    let out = knockon()
        .arg("check")
        .arg("--repo")
        .arg(&built.changed_repo)
        .args([
            "--base",
            &built.base,
            "--head",
            &built.head,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = rules_of(&json);
    assert!(
        rules.contains(&"path.cleanup-misses-new-outputs".to_string()),
        "{json:#}"
    );
    assert!(rules.contains(&"path.reader-of-vanished-output".to_string()));
}

#[test]
fn rule_settings_and_fail_on_from_knockon_toml() {
    let scenario = incident_with(
        "=== file knockon.toml\nfail_on = \"error\"\n[rules.\"path.reader-of-vanished-output\"]\nenabled = false\n",
        None,
    );
    let dir = tempfile::tempdir().unwrap();
    let built = scenario.build(dir.path()).unwrap();
    let out = run_built(&built, Mode::Revisions, &[]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rules_of(&json), vec!["path.cleanup-misses-new-outputs"]);
    // Only a warning is left and the file says to fail on errors: exit 0.
    assert_eq!(out.status.code(), Some(0));
    // The flag wins over the file.
    let out = run_built(&built, Mode::Revisions, &["--fail-on", "warning"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn env_bindings_from_knockon_toml_change_resolution() {
    // The cleanup deletes under $TICKER_ROOT, which nothing in the repositories sets: without a
    // binding it is an opaque value and nothing links; bound to /data/ticker, the incident shows.
    let cleanup = "#!/bin/bash\nfind \"$TICKER_ROOT\" -maxdepth 1 -name 'ticker_*.csv' -delete";
    let unbound = incident_with("", Some(cleanup));
    let dir = tempfile::tempdir().unwrap();
    let built = unbound.build(dir.path()).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&run_built(&built, Mode::Revisions, &[]).stdout).unwrap();
    assert!(!rules_of(&json).contains(&"path.cleanup-misses-new-outputs".to_string()));

    let bound = incident_with(
        "=== file knockon.toml\n[env]\nTICKER_ROOT = \"/data/ticker\"\n",
        Some(cleanup),
    );
    let dir = tempfile::tempdir().unwrap();
    let built = bound.build(dir.path()).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&run_built(&built, Mode::Revisions, &[]).stdout).unwrap();
    assert!(impacted_sites(&json).contains(&(
        "path.cleanup-misses-new-outputs".to_string(),
        "host-ops".to_string(),
        "cron/cleanup_ticker.sh".to_string(),
        2
    )));
}

#[test]
fn unknown_key_in_knockon_toml_is_an_error_with_its_line() {
    let scenario = incident_with(
        "=== file knockon.toml\ncontext = []\ncolour = \"blue\"\n",
        None,
    );
    let dir = tempfile::tempdir().unwrap();
    let built = scenario.build(dir.path()).unwrap();
    let out = run_built(&built, Mode::Revisions, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("knockon.toml:2:"), "{err}");
    assert!(err.contains("colour"), "{err}");
}

#[test]
fn inline_suppression_at_the_impacted_site() {
    let cleanup = "#!/bin/bash\n# knockon: ignore[path.cleanup-misses-new-outputs] the host is being retired\nfind /data/ticker -maxdepth 1 -name 'ticker_*.csv' -delete";
    let scenario = incident_with("", Some(cleanup));
    let dir = tempfile::tempdir().unwrap();
    let built = scenario.build(dir.path()).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&run_built(&built, Mode::Revisions, &[]).stdout).unwrap();
    let rules = rules_of(&json);
    assert!(
        !rules.contains(&"path.cleanup-misses-new-outputs".to_string()),
        "{json:#}"
    );
    // Other findings are untouched.
    assert!(rules.contains(&"path.reader-of-vanished-output".to_string()));
}

#[test]
fn suppression_for_another_rule_does_not_silence() {
    let cleanup = "#!/bin/bash\nfind /data/ticker -maxdepth 1 -name 'ticker_*.csv' -delete  # knockon: ignore[queue.field-dropped]";
    let scenario = incident_with("", Some(cleanup));
    let dir = tempfile::tempdir().unwrap();
    let built = scenario.build(dir.path()).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&run_built(&built, Mode::Revisions, &[]).stdout).unwrap();
    assert!(rules_of(&json).contains(&"path.cleanup-misses-new-outputs".to_string()));
}

#[test]
fn unused_suppression_in_a_changed_file_is_reported_as_info() {
    let text = "=== repo app changed\n=== base app.py\nx = 1\n=== head app.py\nx = 2  # knockon: ignore[path.reader-of-vanished-output] stale\n";
    let scenario = Scenario::parse(text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let built = scenario.build(dir.path()).unwrap();
    let out = run_built(&built, Mode::Revisions, &[]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{json:#}");
    assert_eq!(findings[0]["rule"], "knockon.unused-suppression");
    assert_eq!(findings[0]["severity"], "info");
    assert_eq!(findings[0]["impacted"]["line"], 1);
    // Info does not fail the default threshold.
    assert_eq!(out.status.code(), Some(0));
}
