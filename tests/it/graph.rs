//! `knockon graph`: the picture of the incident in every format (snapshots), the selection, the
//! limits that keep a large graph readable, escaping of hostile names, and the HTML page
//! rendered by a real browser when one is installed.

use crate::support::{knockon, testdata};
use knockon::scenario::{BuiltScenario, Scenario};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The sharded-ticker incident built as git repositories, working trees at head.
fn incident(dir: &Path) -> BuiltScenario {
    let text = std::fs::read_to_string(testdata("scenarios/sharded-ticker.scenario")).unwrap();
    Scenario::parse(&text).unwrap().build(dir).unwrap()
}

fn dirs(built: &BuiltScenario) -> Vec<PathBuf> {
    let mut dirs = vec![built.changed_repo.clone()];
    dirs.extend(built.context.iter().cloned());
    dirs
}

fn graph(dirs: &[PathBuf], args: &[&str]) -> Output {
    knockon()
        .arg("graph")
        .args(dirs)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn labels_of(doc: &Value, kind: &str) -> Vec<String> {
    doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == kind)
        .map(|n| n["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn incident_graph_in_every_text_format() {
    let dir = tempfile::tempdir().unwrap();
    let dirs = dirs(&incident(dir.path()));
    insta::assert_snapshot!(
        "graph_incident_dot",
        stdout(&graph(&dirs, &["--format", "dot"]))
    );
    insta::assert_snapshot!(
        "graph_incident_mermaid",
        stdout(&graph(&dirs, &["--format", "mermaid"]))
    );
    insta::assert_snapshot!(
        "graph_incident_json",
        stdout(&graph(&dirs, &["--format", "json"]))
    );
}

#[test]
fn incident_graph_links_the_cleanup_to_its_schedule_and_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let dirs = dirs(&incident(dir.path()));
    let doc: Value = serde_json::from_str(&stdout(&graph(&dirs, &["--format", "json"]))).unwrap();
    assert_eq!(doc["version"], 1);
    let id_of = |label: &str| {
        doc["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["label"] == label)
            .unwrap_or_else(|| panic!("no node {label}: {doc:#}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let edge = |from: &str, to: &str| {
        doc["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["from"] == from && e["to"] == to)
            .cloned()
    };
    let cleanup = id_of("cron/cleanup_ticker.sh");
    let old_files = id_of("/data/ticker/ticker_*.csv");
    let delete = edge(&cleanup, &old_files).expect("cleanup -> old files");
    assert_eq!(delete["modes"], serde_json::json!(["delete"]));
    let nightly = id_of("schedule 0 2 * * *");
    assert_eq!(edge(&nightly, &cleanup).unwrap()["kind"], "runs");
    let dashboard = id_of("panels.ticker.latest_prices");
    assert_eq!(
        edge(&dashboard, &old_files).unwrap()["modes"],
        serde_json::json!(["list"])
    );
    let group = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == old_files.as_str())
        .unwrap()["group"]
        .clone();
    assert_eq!(group, "/data/ticker");
    // Every edge joins drawn nodes; every access row names its edge's ends.
    let ids: Vec<&str> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    for e in doc["edges"].as_array().unwrap() {
        assert!(
            ids.contains(&e["from"].as_str().unwrap()) && ids.contains(&e["to"].as_str().unwrap())
        );
    }
    let delete_row = doc["accesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["mode"] == "delete")
        .unwrap();
    assert_eq!(delete_row["site"]["path"], "cron/cleanup_ticker.sh");
    assert_eq!(delete_row["site"]["line"], 8);
    assert!(
        delete_row["excerpt"]
            .as_str()
            .unwrap()
            .starts_with("find \"$TICKER_DIR\"")
    );
    assert!(
        delete_row["jobs"][0]
            .as_str()
            .unwrap()
            .contains("host-ops/crontab:7")
    );
}

#[test]
fn resource_and_repo_select_what_is_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let dirs = dirs(&incident(dir.path()));
    let doc: Value = serde_json::from_str(&stdout(&graph(
        &dirs,
        &[
            "--resource",
            "/data/ticker/ticker_*.csv",
            "--format",
            "json",
        ],
    )))
    .unwrap();
    assert_eq!(
        labels_of(&doc, "resource"),
        vec!["/data/ticker/ticker_*.csv".to_string()]
    );
    let mut units = labels_of(&doc, "unit");
    units.sort();
    assert_eq!(
        units,
        vec!["cron/cleanup_ticker.sh", "panels.ticker.latest_prices"]
    );
    assert!(doc["hidden"]["units"].as_u64().unwrap() > 0);
    assert!(
        labels_of(&doc, "hidden")
            .iter()
            .any(|l| l.ends_with("other units"))
    );

    let doc: Value = serde_json::from_str(&stdout(&graph(
        &dirs,
        &[
            "--resource",
            "env:TICKER_*",
            "--repo",
            "host-ops",
            "--format",
            "json",
        ],
    )))
    .unwrap();
    assert_eq!(labels_of(&doc, "resource"), vec!["TICKER_DIR".to_string()]);
    assert!(
        doc["accesses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["site"]["repo"] == "host-ops")
    );

    let doc: Value = serde_json::from_str(&stdout(&graph(
        &dirs,
        &["--resource", "queue:orders", "--format", "json"],
    )))
    .unwrap();
    assert!(doc["edges"].as_array().unwrap().is_empty());
    assert!(doc["notes"][0].as_str().unwrap().contains("no access"));
}

#[test]
fn unknown_repository_is_a_one_line_error_with_the_closest_name() {
    let dir = tempfile::tempdir().unwrap();
    let dirs = dirs(&incident(dir.path()));
    let out = graph(&dirs, &["--repo", "host_ops"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("(did you mean `host-ops`?)"), "{err}");
    let out = graph(&dirs, &["--resource", " "]);
    assert_eq!(out.status.code(), Some(2));
}

/// 600 scripts: each reads one of 60 shared files and a hub variable, and writes its own file.
fn large_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("many");
    std::fs::create_dir_all(repo.join("bin")).unwrap();
    for i in 0..600 {
        std::fs::write(
            repo.join(format!("bin/job_{i:03}.sh")),
            format!(
                "#!/bin/sh\ncat /data/shared/in_{:02}.csv > /data/out/out_{i:03}.csv\necho \"$COMMON_TOKEN\"\n",
                i % 60
            ),
        )
        .unwrap();
    }
    repo
}

#[test]
fn a_large_graph_is_capped_grouped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let repo = large_repo(dir.path());
    let doc: Value = serde_json::from_str(&stdout(&graph(
        std::slice::from_ref(&repo),
        &["--format", "json"],
    )))
    .unwrap();
    let nodes = doc["nodes"].as_array().unwrap();
    let drawn = nodes.iter().filter(|n| n["kind"] != "hidden").count();
    assert!(drawn <= knockon::report::graph::view::MAX_NODES, "{drawn}");
    assert!(drawn > 300, "the budget is used: {drawn}");
    // Private outputs (one unit each) are not drawn; the shared inputs and the hub are.
    assert!(
        labels_of(&doc, "resource")
            .iter()
            .all(|l| !l.starts_with("/data/out/"))
    );
    let hub = nodes.iter().find(|n| n["label"] == "COMMON_TOKEN").unwrap();
    assert_eq!(
        hub["units_not_drawn"].as_u64().unwrap(),
        600 - knockon::report::graph::view::HUB_UNITS as u64
    );
    let notes: Vec<&str> = doc["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("only shared resources are drawn")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("left out to keep the picture under")),
        "{notes:?}"
    );
    assert!(doc["hidden"]["units"].as_u64().unwrap() > 0);
    assert!(
        labels_of(&doc, "hidden")
            .iter()
            .any(|l| l.ends_with("other units"))
    );
    // The page lays it out: every drawn node is in the SVG.
    let html = stdout(&graph(&[repo], &["--format", "html"]));
    assert_eq!(html.matches("<g class=\"node ").count(), nodes.len());
}

fn hostile_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("evil");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join("x.py"),
        "def f():\n    open('/data/x\"] -> evil [label=\"<script>alert(1)</script>|#quot;%%{init}`.csv', 'w').write('x')\n\n\ndef g():\n    open('/data/x\"] -> evil [label=\"<script>alert(1)</script>|#quot;%%{init}`.csv').read()\n",
    )
    .unwrap();
    repo
}

/// Double quotes not preceded by a backslash, per line.
fn unescaped_quotes(line: &str) -> usize {
    let mut count = 0;
    let mut escaped = false;
    for c in line.chars() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => count += 1,
            _ => {}
        }
    }
    count
}

#[test]
fn hostile_names_are_escaped_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let repo = vec![hostile_repo(dir.path())];
    let json: Value = serde_json::from_str(&stdout(&graph(&repo, &["--format", "json"]))).unwrap();
    assert!(
        labels_of(&json, "resource")
            .iter()
            .any(|l| l.contains("<script>")),
        "the fixture reaches the picture: {json:#}"
    );
    let dot = stdout(&graph(&repo, &["--format", "dot"]));
    for line in dot.lines() {
        assert_eq!(unescaped_quotes(line) % 2, 0, "{line}");
    }
    assert!(
        dot.contains("/data/x\\\"] -> evil [label=\\\"<script>"),
        "{dot}"
    );
    let mermaid = stdout(&graph(&repo, &["--format", "mermaid"]));
    for line in mermaid
        .lines()
        .filter(|l| !l.trim_start().starts_with("%%"))
    {
        assert_eq!(line.matches('"').count() % 2, 0, "{line}");
        let inside: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        for label in inside {
            assert!(
                !label.contains(['<', '>', '`', '%', '[', ']', '|']),
                "{label}"
            );
        }
    }
    let html = stdout(&graph(&repo, &["--format", "html"]));
    assert!(!html.contains("<script>alert"), "raw markup in the page");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the page's own script"
    );
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
}

#[test]
fn html_page_renders_in_a_real_browser() {
    let Some(browser) = chromium() else {
        println!("skipped: no `chromium` on PATH (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dirs = dirs(&incident(&dir.path().join("repos")));
    let html = stdout(&graph(&dirs, &["--format", "html"]));
    assert!(
        !html.contains("http://") || html.matches("http://").count() == 1,
        "only the SVG namespace"
    );
    let page = dir.path().join("graph.html");
    std::fs::write(&page, &html).unwrap();
    let png = dir.path().join("graph.png");
    let base_args = |cmd: &mut std::process::Command| {
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ));
    };
    let mut cmd = std::process::Command::new(&browser);
    base_args(&mut cmd);
    let out = cmd
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1400,900")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let bytes = std::fs::read(&png).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        bytes.len() > 20_000,
        "a blank page is smaller: {} bytes",
        bytes.len()
    );
    let mut cmd = std::process::Command::new(&browser);
    base_args(&mut cmd);
    let out = cmd
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert_eq!(dom.matches("class=\"node unit\"").count(), 6, "{dom}");
    assert!(dom.contains("class=\"node resource path\""), "{dom}");
    assert!(dom.contains("Accesses (9)"), "{dom}");
    assert!(dom.contains("<svg class=\"graph\""), "{dom}");
}
