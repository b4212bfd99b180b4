//! Inline suppressions: `# knockon: ignore[rule-id] reason` (or `// knockon: ignore[...]`) on a
//! finding's impacted or changed line, or on the line just above it, silences that finding.
//! `ignore` without brackets silences every rule there. A suppression in a file of the change
//! that silences nothing is reported at info level (`knockon.unused-suppression`), so stale
//! suppressions do not pile up.

use crate::finding::{Finding, Location, ResourceChange, Severity};
use crate::model::{ResourceKind, Site};

/// The rule id of unused-suppression reports.
pub const UNUSED_SUPPRESSION: &str = "knockon.unused-suppression";

/// A suppression comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// The rules it silences; `None` for all.
    pub rules: Option<Vec<String>>,
    pub reason: String,
}

impl Directive {
    fn silences(&self, rule: &str) -> bool {
        self.rules
            .as_ref()
            .is_none_or(|rules| rules.iter().any(|r| r == rule))
    }
}

/// Reads a suppression directive from a source line, if it has one in a comment.
pub fn parse_directive(line: &str) -> Option<Directive> {
    let lower = line.to_ascii_lowercase();
    let at = lower
        .find("knockon: ignore")
        .or_else(|| lower.find("knockon:ignore"))?;
    // It must be inside a comment: a `#` or `//` before it on the line.
    let before = &line[..at];
    if !before.contains('#') && !before.contains("//") {
        return None;
    }
    let rest = &line[at..];
    let rest = &rest[rest.find("ignore")? + "ignore".len()..];
    let (rules, reason) = match rest.strip_prefix('[') {
        Some(inner) => {
            let end = inner.find(']')?;
            let rules: Vec<String> = inner[..end]
                .split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect();
            (Some(rules), inner[end + 1..].trim())
        }
        None => (None, rest.trim()),
    };
    Some(Directive {
        rules,
        reason: reason.trim_start_matches([':', '-', ' ']).to_string(),
    })
}

/// Reads a line of a site; `true` for the changed side (head or base as the finding says).
pub type LineReader<'a> = &'a dyn Fn(&Location, bool, u32) -> Option<String>;

/// Removes suppressed findings and adds reports of unused suppressions found in `scanned`
/// (the changed repository's changed files at head: repo, path, text).
pub fn apply(
    findings: Vec<Finding>,
    read: LineReader<'_>,
    scanned: &[(String, String, String)],
) -> Vec<Finding> {
    let mut used: Vec<Site> = Vec::new();
    let mut kept = Vec::new();
    for finding in findings {
        let mut suppressed = false;
        for (location, changed) in [(&finding.impacted, false), (&finding.change, true)] {
            for line in [location.line, location.line.saturating_sub(1)] {
                if line == 0 {
                    continue;
                }
                let Some(text) = read(location, changed, line) else {
                    continue;
                };
                let Some(directive) = parse_directive(&text) else {
                    continue;
                };
                // The line above only counts when it is a comment of its own.
                if line != location.line && !is_comment_line(&text) {
                    continue;
                }
                if directive.silences(&finding.rule) {
                    suppressed = true;
                    used.push(Site {
                        repo: location.repo.clone(),
                        path: location.path.clone(),
                        line,
                    });
                }
            }
        }
        if !suppressed {
            kept.push(finding);
        }
    }
    for (repo, path, text) in scanned {
        for (index, line) in text.lines().enumerate() {
            let Some(directive) = parse_directive(line) else {
                continue;
            };
            let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let site = Site {
                repo: repo.clone(),
                path: path.clone(),
                line: number,
            };
            if used.contains(&site) {
                continue;
            }
            let what = match &directive.rules {
                Some(rules) => rules.join(", "),
                None => "every rule".to_string(),
            };
            let location = Location {
                repo: repo.clone(),
                path: path.clone(),
                line: number,
                excerpt: Some(line.to_string()),
                note: format!("suppresses {what}"),
                origins: Vec::new(),
            };
            kept.push(Finding {
                rule: UNUSED_SUPPRESSION.to_string(),
                severity: Severity::Info,
                message: format!("this suppression of {what} silences no finding; remove it"),
                resource: ResourceChange {
                    kind: ResourceKind::Path,
                    before: None,
                    after: None,
                },
                change: location.clone(),
                impacted: location,
                title: "unused suppression".to_string(),
                explanation: Vec::new(),
                notes: Vec::new(),
                help: Some("delete the comment, or fix the rule id it names".to_string()),
                patch: None,
            });
        }
    }
    kept.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    kept
}

fn is_comment_line(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('#') || t.starts_with("//")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives() {
        let d = parse_directive(
            "find /x -delete  # knockon: ignore[path.cleanup-misses-new-outputs] retired host",
        )
        .unwrap();
        assert_eq!(
            d.rules,
            Some(vec!["path.cleanup-misses-new-outputs".to_string()])
        );
        assert_eq!(d.reason, "retired host");
        let d = parse_directive("    // knockon: ignore").unwrap();
        assert_eq!(d.rules, None);
        assert!(parse_directive("print('knockon: ignore')").is_none());
        let d = parse_directive("# knockon: ignore[a, b]").unwrap();
        assert!(d.silences("a") && d.silences("b") && !d.silences("c"));
    }
}
