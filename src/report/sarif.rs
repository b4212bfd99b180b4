//! SARIF 2.1.0, as GitHub code scanning reads it: one run, the rules of the run with their
//! documentation, and one result per finding.
//!
//! The impacted site (what needs a patch) is the result's location; the changed site is a related
//! location that the message links to (`[site](1)`), which is how GitHub shows related locations.
//! Each site's `uriBaseId` is its repository's name, declared in `originalUriBaseIds`: a viewer
//! maps it to the checkout of that repository. GitHub resolves relative URIs against the
//! repository that received the upload, so sites in other repositories are listed there without
//! a source view (docs/ci.md says so). `partialFingerprints` come from
//! [`super::fingerprints`], which ignores line numbers. Files that could not be fully read become
//! tool execution notifications.
//!
//! Text from analysed code is JSON-escaped by serde and cleaned of control characters; in
//! message texts, square brackets are escaped where SARIF's embedded-link syntax would read them.

use super::{Report, ReportWarning, catalog, fingerprints, text::clean};
use crate::finding::{Finding, Location, Severity};
use crate::rules::impact::ImpactRules;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The schema the output declares (OASIS SARIF 2.1.0, errata 01).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key of knockon's own fingerprint in `partialFingerprints`; bump the version if the hash
/// inputs change, so that services do not confuse old and new fingerprints.
pub const FINGERPRINT_KEY: &str = "knockonFinding/v1";

pub fn render(report: &Report, rules: &ImpactRules) -> String {
    let document = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [run(report, rules)],
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

fn run(report: &Report, rules: &ImpactRules) -> Value {
    // The rules the run evaluated: a check's change rules, or an audit's audit rules.
    let evaluated = ImpactRules {
        rules: rules
            .rules
            .iter()
            .filter(|r| r.when.is_audit() == report.stats.audit)
            .cloned()
            .collect(),
    };
    let rules = &evaluated;
    let prints = fingerprints(&report.findings);
    let results: Vec<Value> = report
        .findings
        .iter()
        .zip(&prints)
        .map(|(f, print)| result(f, print, rules))
        .collect();
    json!({
        "tool": {"driver": driver(rules)},
        "originalUriBaseIds": base_ids(report),
        "invocations": [invocation(report)],
        "results": results,
        "properties": {
            "change": clean(&report.stats.change),
            "repositories": report.stats.repositories,
            "filesAnalysed": report.stats.files_analysed,
        },
    })
}

fn driver(rules: &ImpactRules) -> Value {
    json!({
        "name": "knockon",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "informationUri": super::REPOSITORY_URL,
        "rules": rules.rules.iter().map(rule_descriptor).collect::<Vec<_>>(),
    })
}

fn rule_descriptor(rule: &crate::rules::impact::ImpactRule) -> Value {
    let mut descriptor = json!({
        "id": rule.id,
        "name": catalog::pascal_case(&rule.id),
        "shortDescription": {"text": catalog::generic_title(rule)},
        "fullDescription": {"text": catalog::summary(rule)},
        "help": {
            "text": catalog::help_text(rule),
            "markdown": catalog::help_markdown(rule),
        },
        "defaultConfiguration": {
            "level": level(rule.severity),
            "enabled": rule.enabled,
        },
        "properties": {
            "tags": ["knockon", "change-impact", rule.kind.as_str()],
            "precision": "high",
        },
    });
    if let (Some(uri), Some(object)) = (catalog::help_uri(rule), descriptor.as_object_mut()) {
        object.insert("helpUri".into(), Value::String(uri));
    }
    descriptor
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn result(f: &Finding, fingerprint: &str, rules: &ImpactRules) -> Value {
    // An audit's finding has no changed site to relate.
    let one_site = super::about_one_site(f);
    let mut related = if one_site {
        Vec::new()
    } else {
        vec![json!({
            "id": 1,
            "physicalLocation": physical(&f.change),
            "message": {"text": changed_note(&f.change)},
        })]
    };
    // Where the values were built: related locations, and one thread per site from its
    // nearest origin to its use, as a code flow.
    let mut threads: Vec<Value> = Vec::new();
    let sites: &[&Location] = if one_site {
        &[&f.impacted]
    } else {
        &[&f.impacted, &f.change]
    };
    for location in sites.iter().copied() {
        if location.origins.is_empty() {
            continue;
        }
        let mut steps: Vec<Value> = Vec::new();
        for origin in location.origins.iter().rev() {
            let origin_site = Location {
                repo: origin.repo.clone(),
                path: origin.path.clone(),
                line: origin.line,
                excerpt: origin.excerpt.clone(),
                note: String::new(),
                origins: Vec::new(),
            };
            related.push(json!({
                "id": related.len() + 1,
                "physicalLocation": physical(&origin_site),
                "message": {"text": clean(&origin.note)},
            }));
            steps.push(json!({"location": {
                "physicalLocation": physical(&origin_site),
                "message": {"text": clean(&origin.note)},
            }}));
        }
        steps.push(json!({"location": {
            "physicalLocation": physical(location),
            "message": {"text": if location.note.is_empty() { "used here".to_string() } else { clean(&location.note) }},
        }}));
        threads.push(json!({"locations": steps}));
    }
    let mut result = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": {"text": message(f)},
        "locations": [{"physicalLocation": physical(&f.impacted)}],
        "relatedLocations": related,
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": {
            "resource": {
                "kind": f.resource.kind.as_str(),
                "before": f.resource.before.as_deref().map(clean),
                "after": f.resource.after.as_deref().map(clean),
            },
            "explanation": f.explanation.iter().map(|s| clean(s)).collect::<Vec<_>>(),
            "notes": f.notes.iter().map(|s| clean(s)).collect::<Vec<_>>(),
            "help": f.help.as_deref().map(clean),
        },
    });
    if let (false, Some(object)) = (threads.is_empty(), result.as_object_mut()) {
        object.insert("codeFlows".into(), json!([{ "threadFlows": threads }]));
    }
    let index = rules.rules.iter().position(|r| r.id == f.rule);
    if let (Some(index), Some(object)) = (index, result.as_object_mut()) {
        object.insert("ruleIndex".into(), json!(index));
    }
    result
}

/// First line: the finding in words. Second: the changed site as an embedded link to related
/// location 1, on its own line so that brackets in the first cannot swallow it.
fn message(f: &Finding) -> String {
    let mut text = format!(
        "{}: {}.",
        clean(&f.title),
        clean(&f.message).trim_end_matches('.')
    );
    if let Some(help) = &f.help {
        text.push_str(&format!(" Help: {}.", clean(help).trim_end_matches('.')));
    }
    if !super::about_one_site(f) {
        text.push_str(&format!(
            "\nChanged at [{}](1): {}",
            link_text(&super::site_label(&f.change)),
            clean(&f.change.note)
        ));
    }
    text
}

fn changed_note(change: &Location) -> String {
    if change.note.is_empty() {
        "changed".to_string()
    } else {
        format!("changed: {}", clean(&change.note))
    }
}

/// Link text of an embedded link: `\`, `[` and `]` escaped with a backslash (SARIF §3.11.6).
fn link_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in clean(text).chars() {
        if matches!(c, '\\' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn physical(location: &Location) -> Value {
    let mut region = json!({"startLine": location.line.max(1)});
    if let (Some(excerpt), Some(object)) = (&location.excerpt, region.as_object_mut()) {
        object.insert("snippet".into(), json!({"text": clean(excerpt)}));
    }
    json!({
        "artifactLocation": {"uri": uri_path(&location.path), "uriBaseId": location.repo},
        "region": region,
    })
}

/// A repository-relative path as a relative URI reference: every byte but unreserved characters
/// and `/` percent-encoded, so that `:`, `#`, `?`, spaces and non-ASCII names stay a path.
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Each repository named by a site, so that a viewer can ask where its checkout is.
fn base_ids(report: &Report) -> Value {
    let mut repos: BTreeSet<&str> = BTreeSet::new();
    for f in &report.findings {
        repos.insert(&f.impacted.repo);
        repos.insert(&f.change.repo);
    }
    for w in &report.warnings {
        repos.insert(&w.repo);
    }
    let map: serde_json::Map<String, Value> = repos
        .into_iter()
        .map(|repo| {
            (
                repo.to_string(),
                json!({"description": {"text": format!("The root of the repository {}", clean(repo))}}),
            )
        })
        .collect();
    Value::Object(map)
}

fn invocation(report: &Report) -> Value {
    let notifications: Vec<Value> = report.warnings.iter().map(notification).collect();
    json!({
        "executionSuccessful": true,
        "toolExecutionNotifications": notifications,
    })
}

fn notification(warning: &ReportWarning) -> Value {
    let location = Location {
        repo: warning.repo.clone(),
        path: warning.path.clone(),
        line: warning.line,
        excerpt: None,
        note: String::new(),
        origins: Vec::new(),
    };
    json!({
        "level": "warning",
        "message": {"text": format!("not fully read, the rest was analysed: {}", clean(&warning.message))},
        "locations": [{"physicalLocation": physical(&location)}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri_path("cron/clean up.sh"), "cron/clean%20up.sh");
        assert_eq!(uri_path("a:b/c#d?e"), "a%3Ab/c%23d%3Fe");
        assert_eq!(uri_path("é"), "%C3%A9");
    }

    #[test]
    fn link_text_escapes_brackets() {
        assert_eq!(link_text("a[0]\\b"), "a\\[0\\]\\\\b");
    }
}
