//! GitLab Code Quality report: a JSON array of issues that GitLab shows in the merge request's
//! widget and diff (`artifacts: reports: codequality:`).
//!
//! Each issue has `description`, `check_name` (the rule id), `fingerprint` (stable across
//! unrelated edits: [`super::fingerprints`]), `severity` (error -> critical, warning -> major,
//! info -> info) and `location` (`path`, `lines.begin`). Like every line-based annotation, it
//! points into the changed repository ([`super::annotation_site`]).

use super::text::clean;
use super::{Report, annotation_site, fingerprints, site_label};
use crate::finding::{Finding, Severity};
use serde_json::{Value, json};

pub fn render(report: &Report) -> String {
    let prints = fingerprints(&report.findings);
    let issues: Vec<Value> = report
        .findings
        .iter()
        .zip(&prints)
        .map(|(f, print)| issue(f, print))
        .collect();
    let mut text = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".into());
    text.push('\n');
    text
}

fn issue(f: &Finding, fingerprint: &str) -> Value {
    let at = annotation_site(f);
    let description = if at.at_impacted {
        format!("{}: {}", clean(&f.title), clean(&f.message))
    } else {
        format!(
            "{} needs a patch: {}: {}",
            clean(&site_label(&f.impacted)),
            clean(&f.title),
            clean(&f.message)
        )
    };
    json!({
        "type": "issue",
        "description": description,
        "check_name": f.rule,
        "fingerprint": fingerprint,
        "severity": severity(f.severity),
        "categories": ["Bug Risk"],
        "location": {
            "path": at.location.path,
            "lines": {"begin": at.location.line.max(1)},
        },
    })
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Info => "info",
    }
}
