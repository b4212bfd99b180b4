//! reviewdog's Diagnostic JSON (`reviewdog -f=rdjson`): one diagnostic per finding, placed like
//! every line-based annotation ([`super::annotation_site`]), with the other site as a related
//! location, the rule as `code` (linked to its documentation for built-in rules) and severity
//! ERROR, WARNING or INFO.
//!
//! reviewdog's default filter keeps only diagnostics on lines the change added; findings whose
//! impacted site is in the changed repository but outside the diff need `-filter-mode=nofilter`.

use super::text::clean;
use super::{Report, annotation_site, catalog, site_label};
use crate::finding::{Finding, Location, Severity};
use crate::rules::impact::ImpactRules;
use serde_json::{Value, json};

pub fn render(report: &Report, rules: &ImpactRules) -> String {
    let diagnostics: Vec<Value> = report
        .findings
        .iter()
        .map(|f| diagnostic(f, rules))
        .collect();
    let document = json!({
        "source": {"name": "knockon", "url": super::REPOSITORY_URL},
        "diagnostics": diagnostics,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

fn diagnostic(f: &Finding, rules: &ImpactRules) -> Value {
    let at = annotation_site(f);
    let (other, other_label) = if at.at_impacted {
        (&f.change, "changed")
    } else {
        (&f.impacted, "needs a patch")
    };
    let message = if at.at_impacted {
        format!("{}: {}", clean(&f.title), clean(&f.message))
    } else {
        format!(
            "{} needs a patch: {}: {}",
            clean(&site_label(&f.impacted)),
            clean(&f.title),
            clean(&f.message)
        )
    };
    let mut code = json!({"value": f.rule});
    let url = rules.get(&f.rule).and_then(catalog::help_uri);
    if let (Some(url), Some(object)) = (url, code.as_object_mut()) {
        object.insert("url".into(), Value::String(url));
    }
    // A site in another repository has no path reviewdog could open: the message names it.
    let related: Vec<Value> = if other.repo == f.change.repo && !super::about_one_site(f) {
        vec![json!({
            "message": format!("{other_label}: {}: {}", clean(&site_label(other)), clean(&other.note)),
            "location": location(other),
        })]
    } else {
        Vec::new()
    };
    json!({
        "message": message,
        "location": location(at.location),
        "severity": severity(f.severity),
        "source": {"name": "knockon", "url": super::REPOSITORY_URL},
        "code": code,
        "related_locations": related,
    })
}

fn location(location: &Location) -> Value {
    json!({
        "path": location.path,
        "range": {"start": {"line": location.line.max(1)}},
    })
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "ERROR",
        Severity::Warning => "WARNING",
        Severity::Info => "INFO",
    }
}
