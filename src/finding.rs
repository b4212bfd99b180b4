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
    /// Where the value used here was built, nearest first (the assignment, then what it was
    /// built from). Empty when the value is written at the site itself.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<OriginLocation>,
}

/// A line that built the value used at a site: where the literal or the variable's value is
/// written down, which is usually the line a fix changes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct OriginLocation {
    pub repo: String,
    pub path: String,
    pub line: u32,
    /// What the line contributes: "sets APP_LOG".
    pub note: String,
    /// The source line, as written (untrusted: reports escape it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
}

/// Origins shown in a sentence; the JSON keeps them all.
const ORIGINS_IN_WORDS: usize = 4;

impl Location {
    /// "the value used here is built at cron/x.sh:5 (sets DIR), from ..." — where a reviewer
    /// goes to patch, when that is not the line itself. None when the value is written here.
    pub fn origins_sentence(&self) -> Option<String> {
        let (first, rest) = self.origins.split_first()?;
        let at = |o: &OriginLocation| {
            if o.repo == self.repo {
                format!("{}:{} ({})", o.path, o.line, o.note)
            } else {
                format!("{}/{}:{} ({})", o.repo, o.path, o.line, o.note)
            }
        };
        let mut text = format!(
            "the value used at {}:{} is built at {}",
            self.path,
            self.line,
            at(first)
        );
        let shown: Vec<String> = rest.iter().take(ORIGINS_IN_WORDS - 1).map(at).collect();
        if !shown.is_empty() {
            text.push_str(", from ");
            text.push_str(&shown.join(", "));
        }
        if rest.len() >= ORIGINS_IN_WORDS {
            text.push_str(&format!(" and {} more", rest.len() + 1 - ORIGINS_IN_WORDS));
        }
        Some(text)
    }
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
    /// Where to make the fix when the impacted use takes its value from another file of its
    /// repository: that origin, unless it also feeds uses this change does not impact (then the
    /// use itself). Absent when the use and its value are in one file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<PatchAdvice>,
}

/// The line a fix should change, and why that one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PatchAdvice {
    pub repo: String,
    pub path: String,
    pub line: u32,
    /// In words, for reports: "DUMP_DIR is written there and feeds no other use".
    pub reason: String,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(repo: &str, path: &str, line: u32, note: &str) -> OriginLocation {
        OriginLocation {
            repo: repo.into(),
            path: path.into(),
            line,
            note: note.into(),
            excerpt: None,
        }
    }

    #[test]
    fn origins_read_nearest_first_and_name_other_repositories() {
        let mut at = Location {
            repo: "ops".into(),
            path: "bin/debug.sh".into(),
            line: 131,
            excerpt: None,
            note: String::new(),
            origins: Vec::new(),
        };
        assert_eq!(at.origins_sentence(), None);
        at.origins = vec![
            origin("ops", "bin/debug.sh", 129, "sets APP_LOG"),
            origin("ops", "bin/debug.sh", 69, "sets LOG_DIRECTORY"),
            origin(
                "deploy",
                "crontab",
                3,
                "sets LOG_ROOT=/var/log for this launch",
            ),
        ];
        assert_eq!(
            at.origins_sentence().as_deref(),
            Some(
                "the value used at bin/debug.sh:131 is built at bin/debug.sh:129 (sets APP_LOG), \
                 from bin/debug.sh:69 (sets LOG_DIRECTORY), \
                 deploy/crontab:3 (sets LOG_ROOT=/var/log for this launch)"
            )
        );
        at.origins
            .extend((1..=3).map(|i| origin("ops", "lib.sh", i, "sets X")));
        assert!(
            at.origins_sentence()
                .unwrap_or_default()
                .ends_with(" and 2 more")
        );
    }
}
