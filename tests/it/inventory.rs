//! `knockon rules`, `knockon rules explain ID` and `knockon models`: what they list, the
//! repository's knockon.toml applied, the examples run, and one-line errors naming the closest id.

use crate::support::knockon;
use knockon::rules::impact::ImpactRules;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

fn run(args: &[&str], dir: Option<&Path>) -> Output {
    let mut cmd = knockon();
    cmd.args(args);
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    cmd.output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json(output: &Output) -> Value {
    serde_json::from_str(&stdout(output)).unwrap()
}

fn one_line_error(output: &Output) -> String {
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(output.stdout.is_empty());
    err.trim_end().to_string()
}

/// A git repository with a knockon.toml that turns one rule off and raises another.
fn configured_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git2::Repository::init(dir.path()).unwrap();
    std::fs::write(
        dir.path().join("knockon.toml"),
        "[rules.\"queue.publish-unconsumed\"]\nenabled = false\n\n[rules.\"path.cleanup-misses-new-outputs\"]\nseverity = \"error\"\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    dir
}

#[test]
fn rules_lists_every_rule_with_kind_severity_and_state() {
    let builtin = ImpactRules::builtin().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let text = stdout(&run(&["rules"], Some(empty.path())));
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with("ID ") && header.contains("SEVERITY"),
        "{header}"
    );
    for rule in &builtin.rules {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(rule.id.as_str()))
            .unwrap_or_else(|| panic!("{} not listed:\n{text}", rule.id));
        assert!(line.contains(rule.severity.as_str()), "{line}");
        assert!(line.contains(" yes "), "{line}");
        assert!(!line.contains('{'), "placeholders left in {line}");
    }
    let doc = json(&run(&["rules", "--format", "json"], Some(empty.path())));
    assert_eq!(doc["version"], 1);
    let rules = doc["rules"].as_array().unwrap();
    assert_eq!(rules.len(), builtin.rules.len());
    assert_eq!(rules[0]["id"], builtin.rules[0].id.as_str());
    assert_eq!(rules[0]["source"], "rules/impact/path.toml");
    assert!(
        rules
            .iter()
            .all(|r| r["enabled"] == true && r["summary"] != "")
    );
}

#[test]
fn rules_apply_the_knockon_toml_of_the_repository_around_them() {
    let repo = configured_repo();
    // From a subdirectory: the repository's root is found as `check` finds it.
    let doc = json(&run(
        &["rules", "--format", "json"],
        Some(&repo.path().join("sub")),
    ));
    let rule = |id: &str| {
        doc["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(rule("queue.publish-unconsumed")["enabled"], false);
    assert_eq!(rule("path.cleanup-misses-new-outputs")["severity"], "error");
    assert_eq!(
        rule("path.cleanup-misses-new-outputs")["default_severity"],
        "warning"
    );
    assert!(doc["config"].as_str().unwrap().ends_with("knockon.toml"));
    let repo_arg = repo.path().to_str().unwrap();
    let text = stdout(&run(
        &[
            "rules",
            "--repo",
            repo_arg,
            "explain",
            "queue.publish-unconsumed",
        ],
        None,
    ));
    assert!(text.contains("  enabled:  no"), "{text}");
    let text = stdout(&run(
        &[
            "rules",
            "explain",
            "path.cleanup-misses-new-outputs",
            "--repo",
            repo_arg,
        ],
        None,
    ));
    assert!(
        text.contains("  severity: error (built-in: warning)"),
        "{text}"
    );
}

#[test]
fn explain_prints_the_doc_and_runs_both_examples() {
    let empty = tempfile::tempdir().unwrap();
    let id = "path.cleanup-misses-new-outputs";
    let text = stdout(&run(&["rules", "explain", id], Some(empty.path())));
    assert!(text.starts_with(&format!("{id}  (path rule)\n")), "{text}");
    assert!(
        text.contains("  severity: warning\n  enabled:  yes\n"),
        "{text}"
    );
    assert!(text.contains("Finds cleanup jobs"), "{text}");
    assert!(
        text.contains("Example that fires:\n    # A loader shards"),
        "{text}"
    );
    // The finding the firing example produces, as `check` renders it.
    assert!(
        text.contains(&format!(
            "knockon check on it reports 1 finding:\n\n    warning[{id}]"
        )),
        "{text}"
    );
    assert!(text.contains("     --> ops/cleanup.sh:1"), "{text}");
    assert!(text.contains("Example that does not fire:"), "{text}");
    assert!(
        text.contains(&format!("knockon check on it: no finding of {id}.")),
        "{text}"
    );

    let doc = json(&run(
        &["rules", "explain", id, "--format", "json"],
        Some(empty.path()),
    ));
    let rule = &doc["rule"];
    assert_eq!(rule["when"], "output-replaced");
    let examples = rule["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 2);
    assert_eq!(examples[0]["fires"], true);
    let findings = examples[0]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["rule"], id);
    assert_eq!(findings[0]["impacted"]["path"], "cleanup.sh");
    assert_eq!(examples[1]["fires"], false);
    assert!(examples[1]["findings"].as_array().unwrap().is_empty());
}

#[test]
fn every_rule_explains_with_its_examples_behaving_as_documented() {
    let empty = tempfile::tempdir().unwrap();
    for rule in &ImpactRules::builtin().unwrap().rules {
        let doc = json(&run(
            &["rules", "explain", &rule.id, "--format", "json"],
            Some(empty.path()),
        ));
        for example in doc["rule"]["examples"].as_array().unwrap() {
            assert!(example.get("error").is_none(), "{}: {example}", rule.id);
            let fired = !example["findings"].as_array().unwrap().is_empty();
            assert_eq!(fired, example["fires"] == true, "{}: {example}", rule.id);
        }
    }
}

#[test]
fn unknown_rule_id_names_the_closest() {
    let empty = tempfile::tempdir().unwrap();
    let err = one_line_error(&run(
        &["rules", "explain", "path.cleanup-miss-new-outputs"],
        Some(empty.path()),
    ));
    assert_eq!(
        err,
        "knockon: unknown rule id `path.cleanup-miss-new-outputs` (did you mean `path.cleanup-misses-new-outputs`?)"
    );
    let err = one_line_error(&run(
        &["rules", "explain", "publish-unconsumed"],
        Some(empty.path()),
    ));
    assert!(
        err.ends_with("(did you mean `queue.publish-unconsumed`?)"),
        "{err}"
    );
}

#[test]
fn user_rules_are_listed_and_explained() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("mine.toml"),
        r#"schema = 1
[[rule]]
id = "path.mine-reader-gone"
kind = "path"
severity = "info"
when = "output-removed"
counterpart_modes = ["read"]
before = "intersects"
after = "unproduced"
title = "{counterpart_unit} reads what {producer} stopped writing"
message = "m"
doc = "My own rule."
"#,
    )
    .unwrap();
    let dir = rules.path().to_str().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let text = stdout(&run(&["rules", "--rules", dir], Some(empty.path())));
    assert!(text.contains("path.mine-reader-gone"), "{text}");
    let text = stdout(&run(
        &["rules", "explain", "path.mine-reader-gone", "--rules", dir],
        Some(empty.path()),
    ));
    assert!(text.contains("My own rule."), "{text}");
    assert!(text.contains("mine.toml"), "{text}");
}

#[test]
fn models_list_rows_by_language() {
    let text = stdout(&run(&["models", "--language", "bash"], None));
    assert!(
        text.lines()
            .skip(1)
            .take_while(|l| !l.is_empty())
            .all(|l| l.starts_with("bash ")),
        "{text}"
    );
    let rm = text
        .lines()
        .find(|l| l.split_whitespace().nth(2) == Some("rm"))
        .unwrap();
    assert!(rm.contains("path") && rm.ends_with("delete"), "{rm}");
    let doc = json(&run(&["models", "--format", "json"], None));
    assert_eq!(doc["version"], 1);
    let models = doc["models"].as_array().unwrap();
    let open = models
        .iter()
        .find(|m| m["language"] == "python" && m["name"] == "open")
        .unwrap();
    assert_eq!(open["table"], "function");
    assert!(
        open["source"]
            .as_str()
            .unwrap()
            .starts_with("rules/models/python.toml:")
    );
    for language in ["python", "bash", "rust", "config"] {
        assert!(
            models.iter().any(|m| m["language"] == language),
            "{language}"
        );
    }
    let err = one_line_error(&run(&["models", "--language", "pyton"], None));
    assert!(
        err.contains("unknown language `pyton` (did you mean `python`?)"),
        "{err}"
    );
}

#[test]
fn a_user_model_replaces_the_builtin_row_of_the_same_name() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("models.toml"),
        "schema = 1\nlanguage = \"python\"\n\n[[function]]\nname = \"open\"\naccess = [{ arg = 0, mode = \"write\" }]\n",
    )
    .unwrap();
    let doc = json(&run(
        &[
            "models",
            "--language",
            "python",
            "--format",
            "json",
            "--rules",
            rules.path().to_str().unwrap(),
        ],
        None,
    ));
    let opens: Vec<&Value> = doc["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["name"] == "open")
        .collect();
    assert_eq!(opens.len(), 1);
    assert_eq!(opens[0]["modes"], serde_json::json!(["write"]));
    assert!(
        opens[0]["source"]
            .as_str()
            .unwrap()
            .contains("models.toml:4")
    );
}
