//! The JSON contract of DESIGN.md: `{"version": 1, "findings": [...]}`, extended (never broken)
//! with `stats`, `warnings` (every file that could not be fully read, each with the line and
//! message and the `kind` of file: its extension, or `other`) and, when there are any,
//! `unread_templates` (per repository, how many templates render to a format knockon does not
//! read; they are counted, not warned about).

use super::{Report, ReportWarning};
use serde::Serialize;
use std::collections::BTreeMap;

/// The schema version of the JSON output.
pub const JSON_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: &'a [crate::finding::Finding],
    stats: &'a super::Stats,
    warnings: Vec<Warning<'a>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    unread_templates: BTreeMap<&'a str, usize>,
}

/// A warning as the contract shows it: the report's fields, and the kind of file.
#[derive(Serialize)]
struct Warning<'a> {
    #[serde(flatten)]
    warning: &'a ReportWarning,
    kind: String,
}

pub fn render(report: &Report) -> String {
    let document = Document {
        version: JSON_VERSION,
        findings: &report.findings,
        stats: &report.stats,
        warnings: report
            .parse_warnings()
            .map(|w| Warning {
                warning: w,
                kind: w.kind(),
            })
            .collect(),
        unread_templates: report.unread_templates(),
    };
    let mut text = serde_json::to_string_pretty(&document)
        .unwrap_or_else(|e| format!("{{\"version\": 1, \"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
