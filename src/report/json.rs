//! The JSON contract of DESIGN.md: `{"version": 1, "findings": [...]}`, extended (never broken)
//! with `stats` and `warnings`.

use super::Report;
use serde::Serialize;

/// The schema version of the JSON output.
pub const JSON_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: &'a [crate::finding::Finding],
    stats: &'a super::Stats,
    warnings: &'a [super::ReportWarning],
}

pub fn render(report: &Report) -> String {
    let document = Document {
        version: JSON_VERSION,
        findings: &report.findings,
        stats: &report.stats,
        warnings: &report.warnings,
    };
    let mut text = serde_json::to_string_pretty(&document)
        .unwrap_or_else(|e| format!("{{\"version\": 1, \"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
