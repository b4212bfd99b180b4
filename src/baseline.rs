//! Baselines: findings a team has accepted, recorded so that CI reports only new ones.
//!
//! A baseline file is versioned JSON: `{"version": 1, "entries": [{fingerprint, rule, resource,
//! repo, path, unit?}]}`. Entries match findings by [`crate::report::fingerprints`], the same
//! fingerprints SARIF carries as `partialFingerprints` and GitLab as `fingerprint`: the rule,
//! the impacted repository and path, the impacted line's text with whitespace normalised, the
//! changed repository and path and the resource — never a line number, so a finding survives
//! lines inserted above it and edits elsewhere in its file. The other fields are for people
//! reading the file in review; matching uses the fingerprint alone.

use crate::finding::Finding;
use crate::report::fingerprints;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The schema version of baseline files.
pub const BASELINE_VERSION: u32 = 1;

/// A baseline file that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BaselineError {
    #[error("not a knockon baseline ({0})")]
    Invalid(String),
    #[error("baseline version {0} is not supported (this build reads version {BASELINE_VERSION})")]
    Version(u32),
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub entries: Vec<Entry>,
}

/// One accepted finding.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fingerprint: String,
    pub rule: String,
    /// The resource as the finding shows it (the path, variable or queue).
    pub resource: String,
    pub repo: String,
    pub path: String,
    /// The unit (function, script, job) at the impacted site, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// What applying a baseline did, for the report's summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BaselineStats {
    /// Findings left out because the baseline records them.
    pub suppressed: usize,
    /// Entries that matched no finding of this run (fixed, or changed beyond recognition).
    pub unmatched: usize,
}

impl BaselineStats {
    /// "2 findings suppressed by the baseline, 1 baseline entry no longer matches".
    pub fn describe(self) -> String {
        format!(
            "{} {} suppressed by the baseline, {} baseline {} no longer {}",
            self.suppressed,
            if self.suppressed == 1 {
                "finding"
            } else {
                "findings"
            },
            self.unmatched,
            if self.unmatched == 1 {
                "entry"
            } else {
                "entries"
            },
            if self.unmatched == 1 {
                "matches"
            } else {
                "match"
            },
        )
    }
}

impl Baseline {
    /// The baseline that accepts every one of `findings`; `units[i]` names the unit at the
    /// impacted site of finding `i` when the caller knows it (a shorter list is fine).
    pub fn of(findings: &[Finding], units: &[Option<String>]) -> Baseline {
        let entries = findings
            .iter()
            .zip(fingerprints(findings))
            .enumerate()
            .map(|(i, (f, fingerprint))| Entry {
                fingerprint,
                rule: f.rule.clone(),
                resource: f
                    .resource
                    .after
                    .clone()
                    .or_else(|| f.resource.before.clone())
                    .unwrap_or_default(),
                repo: f.impacted.repo.clone(),
                path: f.impacted.path.clone(),
                unit: units.get(i).cloned().flatten(),
            })
            .collect();
        Baseline {
            version: BASELINE_VERSION,
            entries,
        }
    }

    pub fn parse(text: &str) -> Result<Baseline, BaselineError> {
        // The version first, so that a newer file says so rather than failing on a new field.
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| BaselineError::Invalid(e.to_string()))?;
        let version = value
            .get("version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| BaselineError::Invalid("no `version` number".into()))?;
        if version != u64::from(BASELINE_VERSION) {
            return Err(BaselineError::Version(
                u32::try_from(version).unwrap_or(u32::MAX),
            ));
        }
        serde_json::from_value(value).map_err(|e| BaselineError::Invalid(e.to_string()))
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Removes the findings the baseline records. Fingerprints are computed on the whole list
    /// before filtering, so a finding keeps the rank (`:n`) it was recorded with.
    pub fn apply(&self, findings: Vec<Finding>) -> (Vec<Finding>, BaselineStats) {
        let mut recorded: BTreeMap<&str, usize> = BTreeMap::new();
        for e in &self.entries {
            *recorded.entry(e.fingerprint.as_str()).or_default() += 1;
        }
        let prints = fingerprints(&findings);
        let mut matched: BTreeMap<&str, usize> = BTreeMap::new();
        let mut kept = Vec::new();
        let mut stats = BaselineStats::default();
        for (finding, print) in findings.into_iter().zip(&prints) {
            match recorded.get_key_value(print.as_str()) {
                Some((key, count)) if matched.get(key).copied().unwrap_or(0) < *count => {
                    *matched.entry(key).or_default() += 1;
                    stats.suppressed += 1;
                }
                _ => kept.push(finding),
            }
        }
        stats.unmatched = self.entries.len() - stats.suppressed;
        (kept, stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Location, ResourceChange, Severity};
    use crate::model::ResourceKind;

    fn finding(line: u32, excerpt: &str) -> Finding {
        let at = Location {
            repo: "ops".into(),
            path: "c.sh".into(),
            line,
            excerpt: Some(excerpt.into()),
            note: String::new(),
            origins: Vec::new(),
        };
        Finding {
            rule: "path.audit-cleanup-matches-nothing".into(),
            severity: Severity::Warning,
            message: "m".into(),
            resource: ResourceChange {
                kind: ResourceKind::Path,
                before: None,
                after: Some("/a/b/*.csv".into()),
            },
            change: at.clone(),
            impacted: at,
            title: "t".into(),
            explanation: vec![],
            notes: vec![],
            help: None,
            patch: None,
        }
    }

    #[test]
    fn round_trip_survives_line_moves_and_counts_what_no_longer_matches() {
        let old = vec![finding(7, "rm /a/b/*.csv"), finding(9, "rm /a/b/old")];
        let baseline = Baseline::of(&old, &[Some("cleanup".into())]);
        let read = Baseline::parse(&baseline.to_json()).unwrap();
        assert_eq!(read, baseline);
        // The first moved down 20 lines, the second fixed, a new one appeared.
        let now = vec![finding(27, "  rm  /a/b/*.csv"), finding(30, "rm /a/b/new")];
        let (kept, stats) = read.apply(now);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].impacted.line, 30);
        assert_eq!(
            stats,
            BaselineStats {
                suppressed: 1,
                unmatched: 1
            }
        );
        assert_eq!(
            stats.describe(),
            "1 finding suppressed by the baseline, 1 baseline entry no longer matches"
        );
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(matches!(
            Baseline::parse("{\"version\": 2, \"entries\": []}"),
            Err(BaselineError::Version(2))
        ));
        assert!(Baseline::parse("[]").is_err());
        assert!(Baseline::parse("{\"version\": 1}").is_err());
    }
}
