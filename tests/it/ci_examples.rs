//! The CI examples a team copies (`examples/ci/*.yml`, `.pre-commit-hooks.yaml`) parse as YAML,
//! have the shape their CI system needs, and use only flags and formats `knockon check` has.

use crate::support::knockon;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every example file: `examples/ci/*.y*ml` (found by listing) and the pre-commit hook file.
fn example_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples/ci"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    files.push(root().join(".pre-commit-hooks.yaml"));
    files
}

fn parse(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The flags and `--format` values of `knockon check --help`.
fn check_help() -> (BTreeSet<String>, BTreeSet<String>) {
    let out = knockon().args(["check", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let flags = help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_string()
        })
        .collect();
    let formats = help
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("--format"))
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with("--color"))
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter_map(|l| l.split(':').next())
        .map(str::to_string)
        .collect();
    (flags, formats)
}

fn strings<'a>(value: &'a Value, key: Option<&str>, out: &mut Vec<(Option<String>, &'a str)>) {
    match value {
        Value::String(s) => out.push((key.map(str::to_string), s)),
        Value::Array(items) => items.iter().for_each(|v| strings(v, key, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| strings(v, Some(k), out)),
        _ => {}
    }
}

/// The arguments of every `knockon check` command in a script (continuation lines joined, up to
/// a redirection, pipe or list operator), and every item of a pre-commit hook's `args`.
fn knockon_arguments(doc: &Value) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut all = Vec::new();
    strings(doc, None, &mut all);
    let mut hook_args = Vec::new();
    for (key, text) in all {
        if key.as_deref() == Some("args") {
            hook_args.push(text.to_string());
            continue;
        }
        let joined = text.replace("\\\n", " ");
        for line in joined.lines() {
            let mut rest = line;
            while let Some(start) = rest.find("knockon check") {
                let tail = &rest[start + "knockon check".len()..];
                let end = tail.find(['>', '|', ';', '&']).unwrap_or(tail.len());
                found.push(tail[..end].split_whitespace().map(str::to_string).collect());
                rest = &tail[end..];
            }
        }
    }
    if !hook_args.is_empty() {
        found.push(hook_args);
    }
    found
}

#[test]
fn examples_use_only_existing_flags_and_formats() {
    let (flags, formats) = check_help();
    for flag in [
        "--base",
        "--head",
        "--context",
        "--format",
        "--fail-on",
        "--color",
    ] {
        assert!(flags.contains(flag), "help lacks {flag}: {flags:?}");
    }
    assert!(
        formats.contains("sarif") && formats.contains("markdown"),
        "{formats:?}"
    );
    let mut commands = 0;
    for file in example_files() {
        let doc = parse(&file);
        for args in knockon_arguments(&doc) {
            commands += 1;
            for (i, arg) in args.iter().enumerate() {
                if let Some(flag) = arg
                    .strip_prefix("--")
                    .map(|f| f.split('=').next().unwrap_or(f))
                {
                    assert!(
                        flags.contains(&format!("--{flag}")),
                        "{}: `knockon check` has no --{flag}",
                        file.display()
                    );
                    if flag == "format" {
                        let value = args.get(i + 1).map(String::as_str).unwrap_or("");
                        assert!(
                            formats.contains(value),
                            "{}: no format {value}",
                            file.display()
                        );
                    }
                }
            }
        }
    }
    assert!(commands >= 6, "found only {commands} knockon commands");
}

fn steps(workflow: &Value) -> Vec<&Value> {
    workflow["jobs"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|job| job["steps"].as_array().unwrap())
        .collect()
}

#[test]
fn github_workflow_checks_out_uploads_and_comments() {
    let workflow = parse(&root().join("examples/ci/github-workflow.yml"));
    assert!(workflow["on"].get("pull_request").is_some(), "{workflow:#}");
    let steps = steps(&workflow);
    let uses = |name: &str| {
        steps
            .iter()
            .filter(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(name)))
            .collect::<Vec<_>>()
    };
    let checkouts = uses("actions/checkout@");
    assert_eq!(checkouts[0]["with"]["fetch-depth"], 0);
    assert!(
        checkouts
            .iter()
            .any(|s| s["with"]["repository"].is_string() && s["with"]["path"].is_string())
    );
    assert_eq!(uses("github/codeql-action/upload-sarif@").len(), 1);
    let scripts: String = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for needle in [
        "--format sarif",
        "--format markdown",
        "--format github",
        "<!-- knockon-report -->",
        "gh api",
        "--method PATCH",
        "github.event.pull_request.base.sha",
    ] {
        let haystack = format!("{scripts}\n{workflow}");
        assert!(haystack.contains(needle), "workflow lacks {needle}");
    }
    assert_eq!(workflow["permissions"]["security-events"], "write");
    assert_eq!(workflow["permissions"]["pull-requests"], "write");
}

#[test]
fn gitlab_job_publishes_a_code_quality_report() {
    let ci = parse(&root().join("examples/ci/gitlab-ci.yml"));
    assert_eq!(
        ci["knockon"]["artifacts"]["reports"]["codequality"],
        "gl-code-quality-report.json"
    );
    let script = ci["knockon"]["script"].to_string();
    assert!(script.contains("--format gitlab"), "{script}");
    assert!(script.contains("> gl-code-quality-report.json"), "{script}");
}

#[test]
fn pre_commit_hook_checks_the_working_tree_against_head() {
    let hooks = parse(&root().join(".pre-commit-hooks.yaml"));
    let hook = &hooks.as_array().unwrap()[0];
    assert_eq!(hook["id"], "knockon");
    assert_eq!(hook["entry"], "knockon check --base HEAD");
    assert_eq!(hook["pass_filenames"], false);
    assert_eq!(hook["language"], "rust");
}
