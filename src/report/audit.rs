//! `knockon who`: the producers and consumers of a path, for an engineer who asks "who reads
//! this?". Text groups producers before consumers; JSON is versioned like `check`'s.

use crate::load::SkipCounts;
use crate::model::{Mode, Site};
use crate::report::text::clean;
use serde::Serialize;
use std::fmt::Write;

/// The answer to one `who` question.
#[derive(Clone, Debug, Serialize)]
pub struct Audit {
    pub query: String,
    pub entries: Vec<AuditEntry>,
    pub repositories: usize,
    pub files_analysed: usize,
    pub files_skipped: SkipCounts,
}

/// One access that may touch the queried path.
#[derive(Clone, Debug, Serialize)]
pub struct AuditEntry {
    pub producer: bool,
    pub mode: Mode,
    pub resource: String,
    pub description: String,
    pub site: Site,
    pub unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// How it comes to run (schedules, handlers, loops), in words, with where each is declared.
    pub jobs: Vec<String>,
    pub notes: Vec<String>,
}

pub fn render_text(audit: &Audit) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", clean(&audit.query));
    for (title, producers) in [("produced by", true), ("consumed by", false)] {
        let entries: Vec<&AuditEntry> = audit
            .entries
            .iter()
            .filter(|e| e.producer == producers)
            .collect();
        let _ = writeln!(
            out,
            "  {title}: {}",
            if entries.is_empty() {
                "nothing found"
            } else {
                ""
            }
        );
        for e in entries {
            let _ = writeln!(
                out,
                "    {}  {}",
                clean(&e.site.to_string()),
                clean(&e.description)
            );
            if let Some(excerpt) = &e.excerpt {
                let _ = writeln!(out, "        | {}", clean(excerpt.trim()));
            }
            let _ = writeln!(out, "        in {}", clean(&e.unit));
            for job in &e.jobs {
                let _ = writeln!(out, "        {}", clean(job));
            }
            for note in &e.notes {
                let _ = writeln!(out, "        note: {}", clean(note));
            }
        }
    }
    let skipped = &audit.files_skipped;
    let skipped_text = if skipped.total() > 0 {
        format!(
            ", {} skipped ({} binary, {} vendored, {} oversized, {} unreadable)",
            skipped.total(),
            skipped.binary,
            skipped.vendored,
            skipped.oversized,
            skipped.unreadable
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "knockon: {} access(es) · {} repositories, {} files analysed{skipped_text}",
        audit.entries.len(),
        audit.repositories,
        audit.files_analysed
    );
    out
}

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    #[serde(flatten)]
    audit: &'a Audit,
}

pub fn render_json(audit: &Audit) -> String {
    let mut text = serde_json::to_string_pretty(&Document { version: 1, audit })
        .unwrap_or_else(|e| format!("{{\"version\": 1, \"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
