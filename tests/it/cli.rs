//! The command-line contract: one-line errors with exit code 2, exit codes by `--fail-on`, and
//! the shape of the JSON and text reports on the incident.

use crate::support::{Mode, knockon, run_built, testdata};
use knockon::scenario::Scenario;
use std::process::Output;

fn incident() -> Scenario {
    let text = std::fs::read_to_string(testdata("scenarios/sharded-ticker.scenario")).unwrap();
    Scenario::parse(&text).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_usage_error(output: &Output, needle: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
}

#[test]
fn missing_repo_is_a_one_line_error() {
    let out = knockon()
        .args([
            "check",
            "--repo",
            "/nonexistent/knockon-repo",
            "--base",
            "HEAD",
        ])
        .output()
        .unwrap();
    assert_usage_error(&out, "/nonexistent/knockon-repo");
}

#[test]
fn directory_that_is_not_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let out = knockon()
        .arg("check")
        .arg("--repo")
        .arg(dir.path())
        .args(["--base", "HEAD"])
        .output()
        .unwrap();
    assert_usage_error(&out, "not a git repository");
}

#[test]
fn unknown_revision_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let built = incident().build(dir.path()).unwrap();
    let out = knockon()
        .arg("check")
        .arg("--repo")
        .arg(&built.changed_repo)
        .args(["--base", "no-such-rev"])
        .output()
        .unwrap();
    assert_usage_error(&out, "unknown revision `no-such-rev`");
}

#[test]
fn unknown_revision_in_a_shallow_clone_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let built = incident().build(dir.path()).unwrap();
    let clone = dir.path().join("shallow");
    let status = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1"])
        .arg(format!("file://{}", built.changed_repo.display()))
        .arg(&clone)
        .status();
    let Ok(status) = status else {
        eprintln!("git is not installed; skipping");
        return;
    };
    assert!(status.success());
    let out = knockon()
        .arg("check")
        .arg("--repo")
        .arg(&clone)
        .args(["--base", &built.base])
        .output()
        .unwrap();
    assert_usage_error(&out, "shallow");
}

#[test]
fn diff_that_applies_in_neither_direction() {
    let dir = tempfile::tempdir().unwrap();
    let built = incident().build(dir.path()).unwrap();
    let diff = "--- a/loader/write.py\n+++ b/loader/write.py\n@@ -1,2 +1,2 @@\n-this line is not there\n+nor this one\n context\n";
    let path = dir.path().join("bad.diff");
    std::fs::write(&path, diff).unwrap();
    let out = knockon()
        .arg("check")
        .arg("--repo")
        .arg(&built.changed_repo)
        .arg("--diff")
        .arg(&path)
        .output()
        .unwrap();
    assert_usage_error(&out, "neither direction");
}

#[test]
fn malformed_diff_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let built = incident().build(dir.path()).unwrap();
    let path = dir.path().join("garbage.diff");
    std::fs::write(&path, "this is not a diff\n").unwrap();
    let out = knockon()
        .arg("check")
        .arg("--repo")
        .arg(&built.changed_repo)
        .arg("--diff")
        .arg(&path)
        .output()
        .unwrap();
    assert_usage_error(&out, "garbage.diff");
}

#[test]
fn bad_rule_file_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let built = incident().build(dir.path()).unwrap();
    let rules = dir.path().join("my-rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("extra.toml"),
        "schema = 1\n\n[[rule]]\nid = \"path.mine\"\nkind = \"path\"\nsevrity = \"error\"\n",
    )
    .unwrap();
    let out = knockon()
        .arg("check")
        .arg("--repo")
        .arg(&built.changed_repo)
        .args(["--base", &built.base])
        .arg("--rules")
        .arg(&rules)
        .output()
        .unwrap();
    assert_usage_error(&out, "extra.toml:");
    assert!(stderr(&out).contains("sevrity"), "{}", stderr(&out));
}

#[test]
fn base_and_diff_together_is_bad_usage() {
    let out = knockon()
        .args(["check", "--base", "HEAD", "--diff", "x.diff"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn exit_codes_follow_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let built = incident().build(dir.path()).unwrap();
    let code = |fail_on: &str| {
        run_built(&built, Mode::Revisions, &["--fail-on", fail_on])
            .status
            .code()
    };
    // The incident has an error (the dashboard) and a warning (the cleanup).
    assert_eq!(code("warning"), Some(1));
    assert_eq!(code("error"), Some(1));
    assert_eq!(code("info"), Some(1));
    assert_eq!(code("never"), Some(0));
}

#[test]
fn json_follows_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let built = incident().build(dir.path()).unwrap();
    let out = run_built(&built, Mode::Revisions, &[]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["version"], 1);
    let findings = json["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        for key in [
            "rule", "severity", "message", "resource", "change", "impacted",
        ] {
            assert!(f.get(key).is_some(), "missing {key} in {f}");
        }
        assert!(["error", "warning", "info"].contains(&f["severity"].as_str().unwrap()));
        assert_eq!(f["resource"]["kind"], "path");
        for site in ["change", "impacted"] {
            assert!(f[site]["line"].as_u64().unwrap() >= 1);
            assert!(f[site]["repo"].is_string() && f[site]["path"].is_string());
        }
    }
    let cleanup = findings
        .iter()
        .find(|f| f["rule"] == "path.cleanup-misses-new-outputs")
        .unwrap();
    assert_eq!(
        cleanup["resource"]["before"],
        "/data/ticker/ticker_{day}.csv"
    );
    assert_eq!(
        cleanup["resource"]["after"],
        "/data/ticker/{day}/NYSE.csv, /data/ticker/{day}/LSE.csv, /data/ticker/{day}/TSE.csv"
    );
}

#[test]
fn text_report_shows_both_sites_the_schedule_and_the_patterns() {
    let dir = tempfile::tempdir().unwrap();
    let built = incident().build(dir.path()).unwrap();
    let out = knockon()
        .arg("check")
        .arg("--repo")
        .arg(&built.changed_repo)
        .arg("--context")
        .arg(&built.context[0])
        .arg("--context")
        .arg(&built.context[1])
        .args(["--base", &built.base, "--head", &built.head])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "warning[path.cleanup-misses-new-outputs]",
        "--> host-ops/cron/cleanup_ticker.sh:8",
        "find \"$TICKER_DIR\" -maxdepth 1 -name 'ticker_*.csv' -mtime +\"$RETENTION_DAYS\" -delete",
        "deletes /data/ticker/ticker_*.csv (depth 1",
        "0 2 * * *",
        "host-ops/crontab:7",
        "::: ticker-loader/loader/write.py:13  (changed)",
        "frames[exchange].to_csv(out, index=False)",
        "/data/ticker/{day}/NYSE.csv",
        "help: make the cleanup cover /data/ticker/*/*.csv",
        "error[path.reader-of-vanished-output]",
        "--> dashboards/panels/ticker.py:8",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}

#[test]
fn who_lists_producers_and_consumers_with_schedules() {
    let dir = tempfile::tempdir().unwrap();
    let built = incident().build(dir.path()).unwrap();
    let out = knockon()
        .args(["who", "/data/ticker/**", "--format", "json", "--no-cache"])
        .arg(&built.changed_repo)
        .args(&built.context)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = json["entries"].as_array().unwrap();
    let find = |path: &str, line: u64| {
        entries
            .iter()
            .find(|e| e["site"]["path"] == path && e["site"]["line"] == line)
            .unwrap_or_else(|| panic!("no entry at {path}:{line} in {json:#}"))
    };
    let cleanup = find("cron/cleanup_ticker.sh", 8);
    assert_eq!(cleanup["mode"], "delete");
    assert_eq!(cleanup["producer"], false);
    assert!(
        cleanup["jobs"][0]
            .as_str()
            .unwrap()
            .contains("every day at 02:00")
    );
    // The text is let go after extraction: quoted lines are read again from the checkouts.
    assert_eq!(
        cleanup["excerpt"],
        "find \"$TICKER_DIR\" -maxdepth 1 -name 'ticker_*.csv' -mtime +\"$RETENTION_DAYS\" -delete"
    );
    let writer = find("loader/write.py", 13);
    assert_eq!(
        writer["excerpt"],
        "        frames[exchange].to_csv(out, index=False)"
    );
    assert_eq!(writer["producer"], true);
    // The loader runs from host-ops' crontab through bin/run_loader.sh and `python3 -m`.
    assert!(
        writer["jobs"][0]
            .as_str()
            .unwrap()
            .starts_with("runs 15 1 * * 1-5")
    );
    // Nothing outside the queried directory.
    assert!(
        entries
            .iter()
            .all(|e| e["resource"].as_str().unwrap().starts_with("/data/ticker"))
    );
}

#[test]
fn who_on_a_missing_directory_is_an_error() {
    let out = knockon()
        .args(["who", "/x", "/nonexistent/dir"])
        .output()
        .unwrap();
    assert_usage_error(&out, "/nonexistent/dir");
}

#[test]
fn facts_resolves_accesses_with_their_origins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.sh"), "LOG_DIR=\"/var/log\"\n").unwrap();
    std::fs::write(
        dir.path().join("run.sh"),
        "#!/bin/bash\n. \"$(dirname \"$0\")/lib.sh\"\nAPP_LOG=\"${LOG_DIR}/app.log\"\nhead -n 20 \"${APP_LOG}\"\n",
    )
    .unwrap();
    let out = knockon()
        .current_dir(dir.path())
        .args(["facts", "run.sh", "lib.sh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let resolved = json["run.sh"]["resolved"].as_array().unwrap();
    let head = resolved
        .iter()
        .find(|a| a["line"] == 4)
        .expect("the read of APP_LOG is resolved");
    assert_eq!(head["resource"], "/var/log/app.log");
    let origins: Vec<(String, u64)> = head["origins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["path"].as_str().unwrap().to_string(),
                o["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        origins,
        [("run.sh".to_string(), 3), ("lib.sh".to_string(), 1)]
    );
    // Extraction alone still says what was written, unresolved.
    assert_eq!(json["run.sh"]["accesses"].as_array().unwrap().len(), 3);
}

/// The `patch` advice of the cleanup finding of the installed-config scenario, with `edit`
/// applied to the scenario text first.
fn cleanup_patch(edit: impl Fn(String) -> String) -> serde_json::Value {
    let text = std::fs::read_to_string(testdata(
        "scenarios/installed-config-sourced-elsewhere.scenario",
    ))
    .unwrap();
    let scenario = Scenario::parse(&edit(text)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let built = scenario.build(dir.path()).unwrap();
    let out = run_built(&built, Mode::Revisions, &[]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let cleanup = findings
        .iter()
        .find(|f| f["rule"] == "path.cleanup-misses-new-outputs")
        .expect("the cleanup is reported");
    cleanup["patch"].clone()
}

#[test]
fn findings_say_which_line_to_patch() {
    // DUMP_DIR of conf/backup.env also feeds the `*.sql.gz` cleanup, which this change leaves
    // alone: moving DUMP_DIR would move it too, so the use is the line to patch.
    let patch = cleanup_patch(|t| t);
    assert_eq!(patch["path"], "cron/prune-dumps.sh");
    assert_eq!(patch["line"], 3);
    assert!(
        patch["reason"]
            .as_str()
            .unwrap()
            .contains("also feeds cron/prune-dumps.sh:4"),
        "{patch}"
    );
    // Without that second use, the origin is the line to patch.
    let patch = cleanup_patch(|t| {
        t.replace(
            "find \"$DUMP_DIR\" -maxdepth 1 -name '*.sql.gz' -mtime +14 -delete\n",
            "",
        )
    });
    assert_eq!(patch["path"], "conf/backup.env");
    assert_eq!(patch["line"], 1);
}
