//! `knockon audit`: the incidents' standing mismatches with no change, the report formats and
//! exit codes it shares with `check`, the baseline round trip (write, edit unrelated lines and
//! move the impacted one, re-run: nothing new; a new mismatch: reported), and bad input.

use crate::support::{knockon, run_built, testdata};
use knockon::scenario::{BuiltScenario, Scenario};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

fn scenario(name: &str) -> Scenario {
    let text = std::fs::read_to_string(testdata(&format!("scenarios/{name}.scenario"))).unwrap();
    Scenario::parse(&text).unwrap()
}

/// Every repository of a built scenario, the changed one (at head) first.
fn dirs(built: &BuiltScenario) -> Vec<PathBuf> {
    let mut out = vec![built.changed_repo.clone()];
    out.extend(built.context.iter().cloned());
    out
}

fn audit(dirs: &[PathBuf], extra: &[&str]) -> Output {
    knockon()
        .arg("audit")
        .args(dirs)
        .args(extra)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            stdout(output),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn rules_and_sites(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                format!(
                    "{}/{}:{}",
                    f["impacted"]["repo"].as_str().unwrap(),
                    f["impacted"]["path"].as_str().unwrap(),
                    f["impacted"]["line"]
                ),
            )
        })
        .collect()
}

#[test]
fn the_sharded_ticker_incident_at_head_shows_its_three_standing_mismatches() {
    let dir = tempfile::tempdir().unwrap();
    let built = scenario("sharded-ticker").build(dir.path()).unwrap();
    let out = audit(&dirs(&built), &["--color", "never"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for needle in [
        "warning[path.audit-read-unproduced]: panels.ticker.latest_prices lists /data/ticker/ticker_*.csv, which nothing produces",
        " --> dashboards/panels/ticker.py:8",
        "warning[path.audit-cleanup-matches-nothing]: cron/cleanup_ticker.sh deletes /data/ticker/ticker_*.csv, which nothing writes",
        " --> host-ops/cron/cleanup_ticker.sh:8",
        "warning[path.audit-dated-output-uncleaned]: loader.write.write_day writes /data/ticker/{day}/NYSE.csv, /data/ticker/{day}/LSE.csv, /data/ticker/{day}/TSE.csv, named by date, and nothing deletes them",
        "  --> ticker-loader/loader/write.py:13",
        "knockon audit: 3 findings (3 warnings) · 3 repositories, 8 files analysed",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    // One site per finding: no "(changed)" block.
    assert!(!text.contains("(changed)"), "{text}");
    let report = json(&audit(&dirs(&built), &["--format", "json"]));
    assert_eq!(report["version"], 1);
    assert_eq!(report["stats"]["audit"], true);
    for f in report["findings"].as_array().unwrap() {
        assert_eq!(f["change"], f["impacted"], "{f:#}");
    }
    // Exit codes as check: --fail-on error leaves warnings at 0.
    assert_eq!(
        audit(&dirs(&built), &["--fail-on", "error"]).status.code(),
        Some(0)
    );
}

#[test]
fn the_refresher_incident_at_head_reports_the_wait_at_the_wait() {
    let dir = tempfile::tempdir().unwrap();
    let built = scenario("refresher-incident").build(dir.path()).unwrap();
    let report = json(&audit(&dirs(&built), &["--format", "json"]));
    let found = rules_and_sites(&report);
    let waits: Vec<&(String, String)> = found
        .iter()
        .filter(|(rule, _)| rule == "credential.audit-wait-on-scheduled-producer")
        .collect();
    assert!(!waits.is_empty(), "{report:#}");
    for (_, site) in waits {
        assert!(
            site.starts_with("api-client/"),
            "at the waiting code: {site}"
        );
    }
}

#[test]
fn a_world_with_nothing_left_behind_is_clean() {
    // The incident before the change: the loader writes what the cleanup and the dashboard use.
    let dir = tempfile::tempdir().unwrap();
    let built = scenario("sharded-ticker").build(dir.path()).unwrap();
    built.checkout_base().unwrap();
    let out = audit(&dirs(&built), &["--color", "never"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("knockon audit: no mismatch found · 3 repositories"),
        "{text}"
    );
}

/// Inserts `lines` before line `at` (1-based) of a file.
fn insert_lines(path: &Path, at: usize, lines: &[&str]) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut all: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        all.insert(at - 1 + i, line);
    }
    std::fs::write(path, all.join("\n") + "\n").unwrap();
}

#[test]
fn baseline_round_trip_reports_only_new_mismatches() {
    let dir = tempfile::tempdir().unwrap();
    let built = scenario("sharded-ticker").build(dir.path()).unwrap();
    let dirs = dirs(&built);
    let baseline = dir.path().join("knockon-baseline.json");
    let baseline_arg = baseline.to_str().unwrap();
    let first = audit(
        &dirs,
        &["--format", "json", "--write-baseline", baseline_arg],
    );
    assert_eq!(rules_and_sites(&json(&first)).len(), 3);
    let recorded: Value = serde_json::from_slice(&std::fs::read(&baseline).unwrap()).unwrap();
    assert_eq!(recorded["version"], 1);
    let entries = recorded["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    for e in entries {
        for key in ["fingerprint", "rule", "resource", "repo", "path", "unit"] {
            assert!(e[key].is_string(), "{key} in {e:#}");
        }
    }
    // The baseline's fingerprints are SARIF's partialFingerprints.
    let sarif = json(&audit(&dirs, &["--format", "sarif"]));
    let prints: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["partialFingerprints"].as_object())
        .flat_map(|m| m.values().filter_map(Value::as_str))
        .collect();
    for e in entries {
        assert!(
            prints.contains(&e["fingerprint"].as_str().unwrap()),
            "{e:#} not in {prints:?}"
        );
    }

    // Unrelated edits: a comment at the top of the cleanup script and lines inserted above the
    // impacted `find` line (it moves down), a new line in the dashboard's module.
    let cleanup = built.context[0].join("cron/cleanup_ticker.sh");
    insert_lines(
        &cleanup,
        2,
        &["# Reviewed in the 2026 audit.", "", "echo starting >&2"],
    );
    let panel = built.context[1].join("panels/ticker.py");
    insert_lines(&panel, 1, &["# Ticker panels."]);
    let again = audit(&dirs, &["--color", "never", "--baseline", baseline_arg]);
    let text = stdout(&again);
    assert_eq!(again.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "knockon audit: no mismatch found · 3 repositories, 8 files analysed · 3 findings suppressed by the baseline, 0 baseline entries no longer match"
        ),
        "{text}"
    );
    let again_json = json(&audit(
        &dirs,
        &["--format", "json", "--baseline", baseline_arg],
    ));
    assert_eq!(again_json["findings"].as_array().unwrap().len(), 0);
    assert_eq!(again_json["stats"]["baseline"]["suppressed"], 3);
    assert_eq!(again_json["stats"]["baseline"]["unmatched"], 0);

    // A new mismatch is reported; fixing an old one shows as an entry that no longer matches.
    insert_lines(
        &panel,
        3,
        &[
            "def legacy():",
            "    return open(\"/data/ticker/summary.csv\").read()",
            "",
        ],
    );
    std::fs::write(
        &cleanup,
        "#!/usr/bin/env bash\nfind /data/ticker -mindepth 2 -name '*.csv' -mtime +3 -delete\n",
    )
    .unwrap();
    let new = audit(&dirs, &["--format", "json", "--baseline", baseline_arg]);
    assert_eq!(new.status.code(), Some(1));
    let report = json(&new);
    assert_eq!(
        rules_and_sites(&report),
        vec![(
            "path.audit-read-unproduced".to_string(),
            "dashboards/panels/ticker.py:4".to_string()
        )],
        "{report:#}"
    );
    assert_eq!(report["stats"]["baseline"]["suppressed"], 1);
    assert_eq!(report["stats"]["baseline"]["unmatched"], 2);
}

#[test]
fn check_takes_the_same_baseline_flags() {
    let dir = tempfile::tempdir().unwrap();
    let built = scenario("sharded-ticker").build(dir.path()).unwrap();
    let baseline = dir.path().join("b.json");
    let b = baseline.to_str().unwrap();
    let first = run_built(
        &built,
        crate::support::Mode::Revisions,
        &["--write-baseline", b],
    );
    assert_eq!(first.status.code(), Some(1));
    let second = run_built(&built, crate::support::Mode::Revisions, &["--baseline", b]);
    assert_eq!(second.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);
    assert_eq!(report["stats"]["baseline"]["suppressed"], 2);
    assert!(report["stats"].get("audit").is_none());
}

fn assert_one_line_error(output: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
}

#[test]
fn bad_input_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let built = scenario("sharded-ticker").build(dir.path()).unwrap();
    let dirs = dirs(&built);
    assert_one_line_error(
        &audit(&[PathBuf::from("/nonexistent/knockon-dir")], &[]),
        "/nonexistent/knockon-dir",
    );
    assert_one_line_error(
        &audit(&dirs, &["--baseline", "/nonexistent/b.json"]),
        "cannot read the baseline /nonexistent/b.json",
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"version\": 9, \"entries\": []}").unwrap();
    assert_one_line_error(
        &audit(&dirs, &["--baseline", bad.to_str().unwrap()]),
        "baseline version 9 is not supported",
    );
    std::fs::write(&bad, "not json").unwrap();
    assert_one_line_error(
        &audit(&dirs, &["--baseline", bad.to_str().unwrap()]),
        "not a knockon baseline",
    );
}

#[test]
fn assumptions_are_listed_and_extended_with_assume() {
    let out = knockon()
        .args(["audit", "--explain-assumptions"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0));
    for needle in [
        "/etc/**",
        "/proc/**",
        "/opt/**",
        "/run/**",
        "mounted volumes",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    // The dashboard's glob, assumed produced elsewhere, is no longer reported.
    let dir = tempfile::tempdir().unwrap();
    let built = scenario("sharded-ticker").build(dir.path()).unwrap();
    let report = json(&audit(
        &dirs(&built),
        &["--format", "json", "--assume", "/data/ticker/ticker_*"],
    ));
    let rules: Vec<String> = rules_and_sites(&report).into_iter().map(|r| r.0).collect();
    assert_eq!(
        rules,
        vec!["path.audit-dated-output-uncleaned"],
        "{report:#}"
    );
}

#[test]
fn every_format_renders_an_audit() {
    let dir = tempfile::tempdir().unwrap();
    let built = scenario("sharded-ticker").build(dir.path()).unwrap();
    for format in ["markdown", "github", "gitlab", "rdjson", "sarif"] {
        let out = audit(&dirs(&built), &["--format", format]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        let text = stdout(&out);
        assert!(
            text.contains("audit-cleanup-matches-nothing")
                || text.contains("AuditCleanupMatchesNothing"),
            "{format}: {text}"
        );
        // An audit has no change: no format speaks of one or of a changed site.
        for word in [
            "this change",
            "Changed:",
            "Changed at",
            "(changed)",
            "changed:",
        ] {
            assert!(!text.contains(word), "{format} says `{word}`:\n{text}");
        }
    }
    let markdown = stdout(&audit(&dirs(&built), &["--format", "markdown"]));
    assert!(
        markdown.contains("### knockon audit: 3 standing mismatches need a patch"),
        "{markdown}"
    );
    assert!(!markdown.contains("mermaid"), "{markdown}");
    let sarif = json(&audit(&dirs(&built), &["--format", "sarif"]));
    // Related locations are where values were built, never a changed site.
    for result in sarif["runs"][0]["results"].as_array().unwrap() {
        for related in result["relatedLocations"].as_array().unwrap() {
            let message = related["message"]["text"].as_str().unwrap();
            assert!(!message.starts_with("changed"), "{result:#}");
        }
    }
}

fn index_file(dirs: &[PathBuf], out: &Path) {
    let done = knockon()
        .arg("index")
        .args(dirs)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
}

/// `audit --index` (or `KNOCKON_INDEX`) finds from the index what it finds from checkouts: all
/// three repositories indexed, none checked out; or one checked out and the rest indexed.
fn assert_audit_from_index(target: &str, built: &BuiltScenario) {
    let from_dirs = json(&audit(&dirs(built), &["--format", "json"]));
    let expected = rules_and_sites(&from_dirs);
    assert_eq!(expected.len(), 3, "{from_dirs:#}");
    let alone = json(&audit(&[], &["--format", "json", "--index", target]));
    assert_eq!(rules_and_sites(&alone), expected, "{alone:#}");
    assert_eq!(alone["stats"]["repositories"], 3);
    assert_eq!(
        alone["stats"]["index"]["repositories"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // Stored lines are quoted as from a checkout.
    assert_eq!(alone["findings"], from_dirs["findings"]);
    let mixed = knockon()
        .arg("audit")
        .arg(&built.changed_repo)
        .args(["--format", "json"])
        .env("KNOCKON_INDEX", target)
        .output()
        .unwrap();
    let mixed = json(&mixed);
    assert_eq!(rules_and_sites(&mixed), expected, "{mixed:#}");
    // The checkout wins: the index gives only the two others.
    assert_eq!(
        mixed["stats"]["index"]["repositories"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{mixed:#}"
    );
}

#[test]
fn audit_reads_every_repository_of_a_file_index() {
    let dir = tempfile::tempdir().unwrap();
    let built = scenario("sharded-ticker")
        .build(&dir.path().join("repos"))
        .unwrap();
    let file = dir.path().join("world.db");
    index_file(&dirs(&built), &file);
    assert_audit_from_index(&file.to_string_lossy(), &built);
    let missing = audit(
        &[],
        &["--index", &dir.path().join("nope.db").to_string_lossy()],
    );
    assert_one_line_error(&missing, "no such index file");
}

#[test]
fn audit_reads_every_repository_of_a_postgres_index() {
    let url = match std::env::var("KNOCKON_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            eprintln!("skipped: KNOCKON_TEST_POSTGRES is not set");
            return;
        }
    };
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .batch_execute(
            "DROP SCHEMA IF EXISTS knockon_it_audit CASCADE; CREATE SCHEMA knockon_it_audit;",
        )
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    let target = format!("{url}{separator}options=-c%20search_path%3Dknockon_it_audit");
    let dir = tempfile::tempdir().unwrap();
    let built = scenario("sharded-ticker").build(dir.path()).unwrap();
    let done = knockon()
        .arg("index")
        .args(dirs(&built))
        .args(["--publish", "--index", &target])
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_audit_from_index(&target, &built);
}

/// Builds an inline audit scenario and audits all its repositories, as text.
fn audit_text(text: &str) -> (Output, String) {
    let dir = tempfile::tempdir().unwrap();
    let built = Scenario::parse(text).unwrap().build(dir.path()).unwrap();
    let out = audit(&built.context, &["--color", "never", "--fail-on", "never"]);
    let text = stdout(&out);
    (out, text)
}

const RUST_CONSUMER: &str = r#"=== audit
=== repo shop
=== file publish.py
import json
import pika

channel = pika.BlockingConnection().channel()


def publish(order):
    message = {"id": order.id, "total": order.total}
    channel.basic_publish(exchange="", routing_key="orders", body=json.dumps(message))
=== repo billing
=== file consume.py
import json
import pika

channel = pika.BlockingConnection().channel()


def on_order(ch, method, properties, body):
    order = json.loads(body)
    bill(order["id"], order["total"], order[FIELD])


channel.basic_consume(queue="orders", on_message_callback=on_order)
"#;

#[test]
fn a_field_no_producer_sends_is_reported_at_the_read() {
    let (_, text) = audit_text(&RUST_CONSUMER.replace("FIELD", "\"currency\""));
    for needle in [
        "warning[queue.audit-field-unsent]: consume reads `currency` from orders, which no producer sends",
        " --> billing/consume.py:9",
        "no producer of orders in the analysed repositories sends `currency` (publish.publish is one)",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    // The fields the producer sends, or a field read with a default: nothing.
    let (_, text) =
        audit_text(&RUST_CONSUMER.replace("order[FIELD]", "order.get(\"currency\", \"EUR\")"));
    assert!(!text.contains("audit-field-unsent"), "{text}");
    // A producer whose message knockon cannot see into: nothing.
    let opaque = RUST_CONSUMER.replace("FIELD", "\"currency\"").replace(
        "message = {\"id\": order.id, \"total\": order.total}",
        "message = order.as_dict()",
    );
    let (_, text) = audit_text(&opaque);
    assert!(!text.contains("audit-field-unsent"), "{text}");
}

const SYSTEMD_UNIT: &str = r#"=== audit
=== repo exporter
=== file exporter/main.py
import os

PORT = int(os.environ.get("EXPORTER_PORT", "9100"))
READER
=== file deploy/exporter.service
[Unit]
Description=exporter

[Service]
Environment=EXPORTER_PORT=9200
Environment=EXPORTER_VERBOSE=1
Environment=PYTHONUNBUFFERED=1
ExecStart=/usr/bin/python3 /opt/exporter/exporter/main.py
"#;

#[test]
fn a_setting_the_launched_program_never_reads_is_reported_at_the_setting() {
    let (_, text) = audit_text(&SYSTEMD_UNIT.replace("READER", ""));
    let findings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("[env.audit-set-unread]"))
        .collect();
    assert_eq!(findings.len(), 1, "{text}");
    assert!(
        findings[0].contains("sets EXPORTER_VERBOSE, which exporter/main.py never reads"),
        "{text}"
    );
    assert!(
        text.contains(" --> exporter/deploy/exporter.service:6"),
        "{text}"
    );
    // Read by the program: nothing.
    let (_, text) = audit_text(&SYSTEMD_UNIT.replace(
        "READER",
        "VERBOSE = os.environ.get(\"EXPORTER_VERBOSE\") == \"1\"",
    ));
    assert!(!text.contains("audit-set-unread"), "{text}");
    // A program that starts another one hands it its environment: nothing.
    let (_, text) = audit_text(&SYSTEMD_UNIT.replace(
        "READER",
        "import subprocess\nsubprocess.run([\"collector\"])",
    ));
    assert!(!text.contains("audit-set-unread"), "{text}");
}

const ROTATION: &str = r#"=== audit
=== repo ops
=== file rotate.py
import boto3

client = boto3.client("secretsmanager")


def rotate():
    client.rotate_secret(SecretId="prod/db-password")
ROTATE_MORE
=== repo api
=== file secrets.py
import boto3

client = boto3.client("secretsmanager")


def token():
    return client.get_secret_value(SecretId="prod/api-token")["SecretString"]
"#;

#[test]
fn a_secret_left_out_of_the_rotation_is_reported_at_the_read() {
    let (_, text) = audit_text(&ROTATION.replace("ROTATE_MORE", ""));
    for needle in [
        "info[credential.audit-secret-unrotated]: secrets.token reads prod/api-token, a secret nothing rotates or writes",
        " --> api/secrets.py:7",
        "although rotate.rotate rotates prod/db-password",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    let (_, text) = audit_text(&ROTATION.replace(
        "ROTATE_MORE",
        "    client.rotate_secret(SecretId=\"prod/api-token\")",
    ));
    assert!(!text.contains("audit-secret-unrotated"), "{text}");
    // No rotation in the analysed code at all: rotation is done elsewhere, nothing to say.
    let (_, text) = audit_text(&ROTATION.replace(
        "    client.rotate_secret(SecretId=\"prod/db-password\")\nROTATE_MORE",
        "    pass",
    ));
    assert!(!text.contains("audit-secret-unrotated"), "{text}");
}
