//! Every report format on the incident: snapshots (deterministic, with commit ids and the version
//! filtered out), SARIF validated against the official 2.1.0 schema, the exit code by `--fail-on`
//! for every format, and colour only when asked for.

use crate::support::{knockon, testdata};
use knockon::scenario::{BuiltScenario, Scenario};
use std::process::Output;

pub const FORMATS: [&str; 7] = [
    "text", "json", "sarif", "markdown", "github", "gitlab", "rdjson",
];

pub fn scenario(name: &str) -> Scenario {
    let text = std::fs::read_to_string(testdata(&format!("scenarios/{name}.scenario"))).unwrap();
    Scenario::parse(&text).unwrap()
}

/// `knockon check` on a built scenario (base..head committed), with `args`.
pub fn check(built: &BuiltScenario, args: &[&str]) -> Output {
    let mut cmd = knockon();
    cmd.arg("check").arg("--repo").arg(&built.changed_repo);
    for context in &built.context {
        cmd.arg("--context").arg(context);
    }
    cmd.args(["--base", &built.base, "--head", &built.head])
        .args(args)
        .env_remove("NO_COLOR");
    cmd.output().unwrap()
}

/// Stdout with what differs between runs (commit ids, the version) replaced.
pub fn normalised(built: &BuiltScenario, output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout)
        .replace(&built.base, "[base]")
        .replace(&built.head, "[head]")
        .replace(env!("CARGO_PKG_VERSION"), "[version]");
    condense_sarif_rules(text)
}

/// SARIF's rule descriptors carry each rule's whole documentation, which `rules/` owns and
/// `sarif_is_valid_against_the_official_schema` checks: snapshots keep their ids and links.
fn condense_sarif_rules(text: String) -> String {
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&text) else {
        return text;
    };
    let Some(rules) = value
        .pointer_mut("/runs/0/tool/driver/rules")
        .and_then(|r| r.as_array_mut())
    else {
        return text;
    };
    for rule in rules.iter_mut() {
        for key in ["fullDescription", "help"] {
            if let Some(object) = rule.as_object_mut() {
                object.insert(key.into(), "[from the rule's doc]".into());
            }
        }
    }
    let mut out = serde_json::to_string_pretty(&value).unwrap();
    out.push('\n');
    out
}

fn incident_output(format: &str) -> (String, Output) {
    let dir = tempfile::tempdir().unwrap();
    let built = scenario("sharded-ticker").build(dir.path()).unwrap();
    let output = check(&built, &["--format", format, "--color", "never"]);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{format}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (normalised(&built, &output), output)
}

#[test]
fn incident_in_every_format() {
    for format in FORMATS {
        let (text, _) = incident_output(format);
        insta::assert_snapshot!(format!("incident_{format}"), text);
    }
}

#[test]
fn incident_text_in_colour() {
    let dir = tempfile::tempdir().unwrap();
    let built = scenario("sharded-ticker").build(dir.path()).unwrap();
    let output = check(&built, &["--color", "always"]);
    let text = normalised(&built, &output).replace('\u{1b}', "\\e");
    insta::assert_snapshot!("incident_text_colour", text);
}

#[test]
fn no_impact_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let built = scenario("control-unrelated-output")
        .build(dir.path())
        .unwrap();
    for format in FORMATS {
        let output = check(&built, &["--format", format]);
        assert_eq!(output.status.code(), Some(0), "{format}");
        insta::assert_snapshot!(format!("no_impact_{format}"), normalised(&built, &output));
    }
}

#[test]
fn colour_only_when_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let built = scenario("sharded-ticker").build(dir.path()).unwrap();
    let has_escape = |args: &[&str], no_color: Option<&str>| {
        let mut cmd = knockon();
        cmd.arg("check").arg("--repo").arg(&built.changed_repo);
        for context in &built.context {
            cmd.arg("--context").arg(context);
        }
        cmd.args(["--base", &built.base]).args(args);
        match no_color {
            Some(v) => cmd.env("NO_COLOR", v),
            None => cmd.env_remove("NO_COLOR"),
        };
        cmd.output().unwrap().stdout.contains(&0x1b)
    };
    // Standard output is a pipe here: `auto` means no colour.
    assert!(!has_escape(&[], None));
    assert!(!has_escape(&["--color", "auto"], None));
    assert!(!has_escape(&["--color", "never"], None));
    assert!(has_escape(&["--color", "always"], None));
    // An explicit --color always wins over NO_COLOR (no-color.org).
    assert!(has_escape(&["--color", "always"], Some("1")));
    // Colour never leaks into machine formats.
    for format in FORMATS.iter().filter(|f| **f != "text") {
        assert!(!has_escape(
            &["--color", "always", "--format", format],
            None
        ));
    }
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let (_, output) = incident_output("sarif");
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_schema_valid(&sarif);
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.len() >= 3);
    for rule in rules {
        assert!(
            rule["helpUri"]
                .as_str()
                .unwrap()
                .starts_with("https://github.com/knockon-dev/knockon/blob/main/rules/impact/")
        );
        assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
    }
    for result in run["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert_eq!(result["relatedLocations"][0]["id"], 1);
        assert!(result["message"]["text"].as_str().unwrap().contains("](1)"));
    }
}

/// The SARIF of `sarif` satisfies `testdata/sarif/sarif-schema-2.1.0.json`, formats included.
pub fn assert_schema_valid(sarif: &serde_json::Value) {
    let schema_text = std::fs::read_to_string(testdata("sarif/sarif-schema-2.1.0.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn sarif_schema_check_catches_a_broken_document() {
    let (_, output) = incident_output("sarif");
    let mut sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    sarif["runs"][0]["results"][0]["level"] = "fatal".into();
    let result = std::panic::catch_unwind(|| assert_schema_valid(&sarif));
    assert!(result.is_err());
}

#[test]
fn fingerprints_survive_unrelated_lines_moving() {
    let prints = |scenario: &Scenario| {
        let dir = tempfile::tempdir().unwrap();
        let built = scenario.build(dir.path()).unwrap();
        let output = check(&built, &["--format", "sarif"]);
        let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let mut out: Vec<(String, String, u64)> = sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["ruleId"].as_str().unwrap().to_string(),
                    r["partialFingerprints"]["knockonFinding/v1"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap(),
                )
            })
            .collect();
        out.sort();
        out
    };
    let original = scenario("sharded-ticker");
    let mut moved = original.clone();
    // Comment lines above the impacted `find` and above the loader's changed line.
    for repo in &mut moved.repos {
        for files in [&mut repo.base, &mut repo.head] {
            for (path, content) in files.iter_mut() {
                if path == "cron/cleanup_ticker.sh" {
                    *content = content.replacen(
                        "set -euo pipefail\n",
                        "set -euo pipefail\n# one\n# two\n",
                        1,
                    );
                }
                if path == "loader/write.py" {
                    *content = format!("# moved\n\n{content}");
                }
            }
        }
    }
    let before = prints(&original);
    let after = prints(&moved);
    assert_eq!(before.len(), 2);
    assert_ne!(
        before.iter().map(|p| p.2).collect::<Vec<_>>(),
        after.iter().map(|p| p.2).collect::<Vec<_>>(),
        "the lines did move"
    );
    let ids = |v: &[(String, String, u64)]| {
        v.iter()
            .map(|(r, p, _)| (r.clone(), p.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&before), ids(&after));
}

/// `--fail-on` alone decides the exit code; the format never does.
#[test]
fn exit_code_depends_on_fail_on_never_on_the_format() {
    // (scenario, expected exit code for --fail-on error, warning, info, never)
    let cases = [
        ("sharded-ticker", [1, 1, 1, 0]),           // an error and a warning
        ("python-cleanup", [0, 1, 1, 0]),           // a warning only
        ("control-unrelated-output", [0, 0, 0, 0]), // nothing
    ];
    for (name, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let built = scenario(name).build(dir.path()).unwrap();
        for format in FORMATS {
            for (fail_on, want) in ["error", "warning", "info", "never"].iter().zip(expected) {
                let output = check(&built, &["--format", format, "--fail-on", fail_on]);
                assert_eq!(
                    output.status.code(),
                    Some(want),
                    "{name} --format {format} --fail-on {fail_on}: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                assert!(!output.stdout.is_empty(), "{name} {format}: empty output");
            }
            // The default is --fail-on warning.
            let output = check(&built, &["--format", format]);
            assert_eq!(output.status.code(), Some(expected[1]), "{name} {format}");
        }
    }
}
