//! The one [`Finding`] type that every report renders.
//!
//! A finding is about two sites: the code that needs a patch (`impacted`, the primary location)
//! and the changed code that breaks it (`change`). The contract fields of DESIGN.md come first;
//! the rest (excerpts, notes, explanation, help) extend the JSON without breaking it.

use crate::model::ResourceKind;
use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The resource a finding is about, before and after the change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResourceChange {
    pub kind: ResourceKind,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A site in a finding, with what a reviewer needs to see there.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    pub repo: String,
    pub path: String,
    pub line: u32,
    /// The source line, as written (untrusted: reports escape it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// What the code there does, in words: "deletes /data/ticker/ticker_*.csv (depth 1)".
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub resource: ResourceChange,
    pub change: Location,
    pub impacted: Location,
    /// The headline: "cleanup no longer matches what the loader writes".
    pub title: String,
    /// Why the two sites are connected, step by step.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub explanation: Vec<String>,
    /// Assumptions made on the way (an environment variable's default taken as its value).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Finding {
    /// Sort key: most severe first, then by impacted site, then rule.
    pub fn sort_key(&self) -> (std::cmp::Reverse<Severity>, &str, &str, u32, &str) {
        (
            std::cmp::Reverse(self.severity),
            &self.impacted.repo,
            &self.impacted.path,
            self.impacted.line,
            &self.rule,
        )
    }
}
