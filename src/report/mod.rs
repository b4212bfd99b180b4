//! Report: findings -> bytes, one renderer per format.
//!
//! Input: a [`Report`] (findings sorted by severity and site, the run's statistics and the files
//! that could not be fully read). Output: text for a terminal, or the versioned JSON contract.
//! Renderers never decide anything: what to report is the impact stage's job.

pub mod audit;
pub mod json;
pub mod text;

use crate::finding::Finding;
use crate::load::SkipCounts;
use serde::Serialize;

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
}

/// A file that could not be fully read.
#[derive(Clone, Debug, Serialize)]
pub struct ReportWarning {
    pub repo: String,
    pub path: String,
    pub line: u32,
    pub message: String,
}

/// Output formats of `knockon check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Renders a report in a format.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text => text::render(report),
        Format::Json => json::render(report),
    }
}
