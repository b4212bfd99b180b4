//! Report: findings -> bytes, one renderer per format.
//!
//! Input: a [`Report`] (findings sorted by severity and site, the run's statistics and the files
//! that could not be fully read) and [`RenderOptions`] (the run's rules, for formats that describe
//! them, and whether to colour). Output: text for a terminal, the versioned JSON contract, SARIF
//! for code scanning, a Markdown PR comment, GitHub workflow commands, a GitLab Code Quality
//! report or reviewdog's rdjson. Renderers never decide anything: what to report is the impact
//! stage's job, and the exit code is the same whatever the format.
//!
//! Everything in a finding that comes from analysed code (names, paths, excerpts, messages built
//! from them) is untrusted: each renderer escapes it for its own syntax.

pub mod audit;
pub mod catalog;
pub mod github;
pub mod gitlab;
pub mod graph;
pub mod json;
pub mod markdown;
pub mod rdjson;
pub mod sarif;
pub mod text;

use crate::finding::{Finding, Location, Severity};
use crate::load::SkipCounts;
use crate::rules::impact::ImpactRules;
use serde::Serialize;
use std::collections::BTreeMap;
use std::ffi::OsStr;

/// Where knockon lives: rule documentation links and SARIF's `informationUri` start here.
pub const REPOSITORY_URL: &str = "https://github.com/knockon-dev/knockon";

/// Rule files are linked at this revision of [`REPOSITORY_URL`].
pub const DOCS_REVISION: &str = "main";

/// What a run produced, for every renderer.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub stats: Stats,
    pub warnings: Vec<ReportWarning>,
    /// `fail_on` of knockon.toml, used when `--fail-on` is not given.
    #[serde(skip)]
    pub config_fail_on: Option<String>,
}

/// How much was read.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    /// How the change was given: `abc..def`, `abc..working tree`, `diff x.patch (applied)`.
    pub change: String,
    pub repositories: usize,
    pub files_analysed: usize,
    pub files_skipped: SkipCounts,
    pub accesses: usize,
    pub jobs: usize,
    /// An audit of the current state (`knockon audit`): there is no change, and each finding's
    /// `change` is its impacted site.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub audit: bool,
    /// What `--baseline` left out, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::baseline::BaselineStats>,
    /// With `--index`: what was taken from the index and how much of it was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexStats>,
}

/// How a check used an index: the repositories it took, and the rows it read of all there are
/// (a check reads the rows that can matter to the change, not the whole index).
#[derive(Clone, Debug, Default, Serialize)]
pub struct IndexStats {
    pub repositories: Vec<String>,
    pub rows_read: crate::index::RowCounts,
    pub selection_rounds: usize,
}

/// A file that could not be fully read.
#[derive(Clone, Debug, Serialize)]
pub struct ReportWarning {
    pub repo: String,
    pub path: String,
    pub line: u32,
    pub message: String,
}

impl ReportWarning {
    /// A template that renders to a format knockon does not read: counted, not a warning.
    pub fn is_unread_template(&self) -> bool {
        self.message == crate::extract::formats::template::UNKNOWN_INNER_FORMAT
    }

    /// The kind of file, for summaries: its extension (`erb`, `sh`, `yml`), or `other`.
    pub fn kind(&self) -> String {
        let name = self.path.rsplit('/').next().unwrap_or(&self.path);
        match name.rsplit_once('.') {
            Some((stem, ext))
                if !stem.is_empty()
                    && (1..=10).contains(&ext.len())
                    && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
            {
                ext.to_ascii_lowercase()
            }
            _ => "other".to_string(),
        }
    }
}

impl Report {
    /// The warnings about files that could not be fully read (not the templates of an unknown
    /// format, which are only counted).
    pub fn parse_warnings(&self) -> impl Iterator<Item = &ReportWarning> {
        self.warnings.iter().filter(|w| !w.is_unread_template())
    }

    /// Per repository, how many templates render to a format knockon does not read.
    pub fn unread_templates(&self) -> BTreeMap<&str, usize> {
        let mut out: BTreeMap<&str, usize> = BTreeMap::new();
        for w in self.warnings.iter().filter(|w| w.is_unread_template()) {
            *out.entry(w.repo.as_str()).or_default() += 1;
        }
        out
    }

    /// Per repository, the files with parse warnings by kind (`erb` -> 10 files), so that a
    /// repository of a thousand templates is one line, not a thousand.
    pub fn warnings_by_repo(&self) -> BTreeMap<&str, BTreeMap<String, usize>> {
        let mut files: BTreeMap<&str, BTreeMap<&str, String>> = BTreeMap::new();
        for w in self.parse_warnings() {
            files
                .entry(w.repo.as_str())
                .or_default()
                .entry(w.path.as_str())
                .or_insert_with(|| w.kind());
        }
        files
            .into_iter()
            .map(|(repo, paths)| {
                let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
                for kind in paths.into_values() {
                    *kinds.entry(kind).or_default() += 1;
                }
                (repo, kinds)
            })
            .collect()
    }

    /// The report without the counted-only notes, for formats that list every warning.
    fn with_parse_warnings_only(&self) -> Report {
        Report {
            warnings: self.parse_warnings().cloned().collect(),
            ..self.clone()
        }
    }
}

/// Output formats of `knockon check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For a terminal (coloured when `--color` allows).
    Text,
    /// The versioned JSON contract.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// One pull-request comment.
    Markdown,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// GitLab Code Quality report.
    Gitlab,
    /// reviewdog's Diagnostic JSON (rdjson).
    Rdjson,
}

/// When the text report is coloured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// When standard output is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour. `auto` follows <https://no-color.org>: a non-empty `NO_COLOR` turns
    /// colour off, and an explicit `--color always` wins over it. A dumb terminal gets none.
    pub fn enabled(
        self,
        is_terminal: bool,
        no_color: Option<&OsStr>,
        term: Option<&OsStr>,
    ) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal
                    && no_color.is_none_or(OsStr::is_empty)
                    && term.is_none_or(|t| t != "dumb")
            }
        }
    }
}

/// What renderers need besides the report.
#[derive(Clone, Copy, Debug)]
pub struct RenderOptions<'a> {
    /// The rules of the run (SARIF and rdjson describe them; links point at their docs).
    pub rules: &'a ImpactRules,
    /// Colour the text report with ANSI escapes.
    pub color: bool,
}

/// Renders a report in a format.
pub fn render(report: &Report, format: Format, options: &RenderOptions<'_>) -> String {
    if !matches!(format, Format::Text | Format::Json)
        && report.warnings.iter().any(|w| w.is_unread_template())
    {
        return render(&report.with_parse_warnings_only(), format, options);
    }
    match format {
        Format::Text => text::render(report, options.color),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report, options.rules),
        Format::Markdown => markdown::render(report),
        Format::Github => github::render(report),
        Format::Gitlab => gitlab::render(report),
        Format::Rdjson => rdjson::render(report, options.rules),
    }
}

/// How many findings of each severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

impl Counts {
    pub fn of(findings: &[Finding]) -> Counts {
        let mut counts = Counts::default();
        for f in findings {
            match f.severity {
                Severity::Error => counts.error += 1,
                Severity::Warning => counts.warning += 1,
                Severity::Info => counts.info += 1,
            }
        }
        counts
    }

    /// "1 error, 2 warnings"; severities with no finding are left out.
    pub fn describe(self) -> String {
        let mut parts = Vec::new();
        for (n, name, plural) in [
            (self.error, "error", "errors"),
            (self.warning, "warning", "warnings"),
            (self.info, "info", "info"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {}", if n == 1 { name } else { plural }));
            }
        }
        parts.join(", ")
    }
}

/// The distinct files of the report's warnings.
pub fn unreadable_files(report: &Report) -> usize {
    let mut files: Vec<(&str, &str)> = report
        .parse_warnings()
        .map(|w| (w.repo.as_str(), w.path.as_str()))
        .collect();
    files.sort_unstable();
    files.dedup();
    files.len()
}

/// Where a line-based annotation (GitHub, GitLab, rdjson) goes. Those tools can only point into
/// the repository that was checked out, which is the changed one: a finding whose impacted site
/// is in that repository is annotated there; one whose impacted site is elsewhere is annotated at
/// the changed site (which is in the diff under review), naming the impacted `repo/path:line` in
/// its text.
pub struct AnnotationSite<'a> {
    pub location: &'a Location,
    /// True when `location` is the impacted site itself.
    pub at_impacted: bool,
}

pub fn annotation_site(finding: &Finding) -> AnnotationSite<'_> {
    let in_changed_repo = finding.impacted.repo == finding.change.repo;
    AnnotationSite {
        location: if in_changed_repo {
            &finding.impacted
        } else {
            &finding.change
        },
        at_impacted: in_changed_repo,
    }
}

/// Is the finding about one site (an audit's: there is no changed site, its change site is the
/// impacted one)? Renderers then name no "changed" site.
pub fn about_one_site(finding: &Finding) -> bool {
    finding.change == finding.impacted
}

/// `repo/path:line`.
pub fn site_label(location: &Location) -> String {
    format!("{}/{}:{}", location.repo, location.path, location.line)
}

/// A stable identity for each finding, one per finding in report order: a 128-bit FNV-1a hash
/// of the rule id, the impacted repository and path, the impacted source line with whitespace
/// normalised, the changed repository and path and the resource before the change — never line
/// numbers, so that the fingerprint survives unrelated edits above either site — followed by
/// `:n`, the finding's rank among findings with the same hash (identical lines in one file).
pub fn fingerprints(findings: &[Finding]) -> Vec<String> {
    let mut seen: std::collections::HashMap<u128, usize> = std::collections::HashMap::new();
    findings
        .iter()
        .map(|f| {
            let hash = fingerprint_hash(f);
            let rank = seen.entry(hash).or_insert(0);
            *rank += 1;
            format!("{hash:032x}:{rank}")
        })
        .collect()
}

fn fingerprint_hash(f: &Finding) -> u128 {
    let excerpt = f
        .impacted
        .excerpt
        .as_deref()
        .map(|e| e.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let mut hasher = Fnv128::default();
    for field in [
        f.rule.as_str(),
        &f.impacted.repo,
        &f.impacted.path,
        &excerpt,
        &f.change.repo,
        &f.change.path,
        f.resource.before.as_deref().unwrap_or(""),
    ] {
        // Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
        hasher.write(&(field.len() as u64).to_le_bytes());
        hasher.write(field.as_bytes());
    }
    hasher.0
}

/// FNV-1a, 128 bits: defined by its constants, so the same on every platform and release (unlike
/// `std`'s `DefaultHasher`), which fingerprints stored by code-scanning services need.
struct Fnv128(u128);

impl Default for Fnv128 {
    fn default() -> Self {
        Fnv128(0x6c62_272e_07bb_0142_62b8_2175_6295_c58d)
    }
}

impl Fnv128 {
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u128::from(*b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }
}

/// At most `max` characters of `text`, with `…` when cut. Cut before escaping, never after, so an
/// escape sequence is never split.
pub fn truncate(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => {
            let keep = text[..end]
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(end, |(i, _)| i);
            std::borrow::Cow::Owned(format!("{}…", &text[..keep]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::ResourceChange;
    use crate::model::ResourceKind;

    pub(crate) fn finding(impacted_line: u32, excerpt: &str) -> Finding {
        Finding {
            rule: "path.cleanup-misses-new-outputs".into(),
            severity: Severity::Warning,
            message: "m".into(),
            resource: ResourceChange {
                kind: ResourceKind::Path,
                before: Some("/a/*.csv".into()),
                after: None,
            },
            change: Location {
                repo: "loader".into(),
                path: "w.py".into(),
                line: 3,
                excerpt: None,
                note: String::new(),
                origins: Vec::new(),
            },
            impacted: Location {
                repo: "ops".into(),
                path: "c.sh".into(),
                line: impacted_line,
                excerpt: Some(excerpt.into()),
                note: String::new(),
                origins: Vec::new(),
            },
            title: "t".into(),
            explanation: vec![],
            notes: vec![],
            help: None,
            patch: None,
        }
    }

    #[test]
    fn fingerprints_ignore_line_numbers_and_whitespace() {
        let a = fingerprints(&[finding(7, "find /a -delete")]);
        let b = fingerprints(&[finding(70, "  find   /a\t-delete ")]);
        assert_eq!(a, b);
        let c = fingerprints(&[finding(7, "find /b -delete")]);
        assert_ne!(a, c);
    }

    #[test]
    fn identical_findings_get_distinct_fingerprints() {
        let prints = fingerprints(&[finding(7, "rm x"), finding(9, "rm x")]);
        assert!(prints[0].ends_with(":1") && prints[1].ends_with(":2"));
        assert_eq!(prints[0][..32], prints[1][..32]);
    }

    #[test]
    fn colour_follows_no_color_and_the_terminal() {
        let set = Some(OsStr::new("1"));
        let empty = Some(OsStr::new(""));
        assert!(ColorChoice::Auto.enabled(true, None, None));
        assert!(!ColorChoice::Auto.enabled(false, None, None));
        assert!(!ColorChoice::Auto.enabled(true, set, None));
        assert!(ColorChoice::Auto.enabled(true, empty, None));
        assert!(!ColorChoice::Auto.enabled(true, None, Some(OsStr::new("dumb"))));
        assert!(ColorChoice::Always.enabled(false, set, None));
        assert!(!ColorChoice::Never.enabled(true, None, None));
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate("abcdef", 10), "abcdef");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("ééééé", 3), "éé…");
        assert_eq!(truncate("abc", 3), "abc");
    }

    #[test]
    fn counts_are_described_in_words() {
        let c = Counts {
            error: 1,
            warning: 2,
            info: 0,
        };
        assert_eq!(c.describe(), "1 error, 2 warnings");
    }
}
