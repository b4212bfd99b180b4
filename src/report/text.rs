//! Human text in the style of DESIGN.md: the impacted site first (that is what needs a patch),
//! then the changed site, each with its source line and what it does.
//!
//! Source lines come from analysed code: control characters are shown escaped so that a hostile
//! file cannot drive the reader's terminal. Colour (when asked for) is added around text that is
//! already clean, so the only escape sequences in the output are knockon's own.

use super::Report;
use crate::finding::{Finding, Location, Severity};
use anstyle::{AnsiColor, Style};
use std::fmt::Write;

/// Styles of the text report, or none.
#[derive(Clone, Copy)]
struct Paint {
    enabled: bool,
}

const BOLD: Style = Style::new().bold();
const GUTTER: Style = AnsiColor::Blue.on_default().bold();
const HELP: Style = AnsiColor::Cyan.on_default().bold();

impl Paint {
    fn paint(self, style: Style, text: &str) -> String {
        if self.enabled {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }

    fn severity(self, severity: Severity) -> Style {
        match severity {
            Severity::Error => AnsiColor::Red.on_default().bold(),
            Severity::Warning => AnsiColor::Yellow.on_default().bold(),
            Severity::Info => AnsiColor::Cyan.on_default().bold(),
        }
    }
}

pub fn render(report: &Report, color: bool) -> String {
    let paint = Paint { enabled: color };
    let mut out = String::new();
    for finding in &report.findings {
        render_finding(&mut out, finding, paint);
        out.push('\n');
    }
    for (repo, kinds) in report.warnings_by_repo() {
        let files: usize = kinds.values().sum();
        let by_kind: Vec<String> = kinds
            .iter()
            .map(|(k, n)| format!("{}: {n}", clean(k)))
            .collect();
        let _ = writeln!(
            out,
            "{}: {files} {} in {} could not be parsed fully ({}); see --format json",
            paint.paint(paint.severity(Severity::Warning), "warning"),
            if files == 1 { "file" } else { "files" },
            clean(repo),
            by_kind.join(", ")
        );
    }
    for (repo, count) in report.unread_templates() {
        let _ = writeln!(
            out,
            "note: {count} {} in {} {} to a format knockon does not read and {} skipped",
            if count == 1 { "template" } else { "templates" },
            clean(repo),
            if count == 1 { "renders" } else { "render" },
            if count == 1 { "was" } else { "were" },
        );
    }
    let _ = writeln!(out, "{}", summary(report));
    out
}

/// The last line: how many findings, and how much was read.
pub fn summary(report: &Report) -> String {
    let counts = super::Counts::of(&report.findings).describe();
    let findings = match report.findings.len() {
        0 => "no impact found".to_string(),
        1 => format!("1 finding ({counts})"),
        n => format!("{n} findings ({counts})"),
    };
    let stats = &report.stats;
    let skipped = stats.files_skipped.total();
    let skipped_text = if skipped > 0 {
        format!(
            ", {skipped} skipped ({} binary, {} vendored, {} oversized, {} unreadable)",
            stats.files_skipped.binary,
            stats.files_skipped.vendored,
            stats.files_skipped.oversized,
            stats.files_skipped.unreadable
        )
    } else {
        String::new()
    };
    let baseline = stats
        .baseline
        .map(|b| format!(" · {}", b.describe()))
        .unwrap_or_default();
    if stats.audit {
        let findings = if report.findings.is_empty() {
            "no mismatch found".to_string()
        } else {
            findings
        };
        return format!(
            "knockon audit: {findings} · {} repositories, {} files analysed{skipped_text}{baseline}",
            stats.repositories, stats.files_analysed,
        );
    }
    format!(
        "knockon: {findings} · {} repositories, {} files analysed{skipped_text} · change {}{baseline}",
        stats.repositories,
        stats.files_analysed,
        clean(&stats.change)
    )
}

fn render_finding(out: &mut String, f: &Finding, paint: Paint) {
    let _ = writeln!(
        out,
        "{}: {}",
        paint.paint(
            paint.severity(f.severity),
            &format!("{}[{}]", f.severity, f.rule)
        ),
        paint.paint(BOLD, &clean(&f.title))
    );
    let width = f.impacted.line.max(f.change.line).to_string().len();
    let pad = " ".repeat(width);
    let bar = paint.paint(GUTTER, &format!("{pad} |"));
    let _ = writeln!(
        out,
        "{} {}",
        paint.paint(GUTTER, &format!("{pad}-->")),
        paint.paint(BOLD, &site(&f.impacted))
    );
    let _ = writeln!(out, "{bar}");
    excerpt(out, &f.impacted, width, paint);
    // An audit's finding is about one site: its change site is the impacted one.
    if f.change != f.impacted {
        let _ = writeln!(out, "{bar}");
        let _ = writeln!(
            out,
            "{} {}  (changed)",
            paint.paint(GUTTER, &format!("{pad}:::")),
            paint.paint(BOLD, &site(&f.change))
        );
        excerpt(out, &f.change, width, paint);
    }
    let eq = paint.paint(GUTTER, &format!("{pad} ="));
    let _ = writeln!(out, "{eq} {}", clean(&f.message));
    let origins = if f.change == f.impacted {
        [f.impacted.origins_sentence(), None]
    } else {
        [&f.impacted, &f.change].map(Location::origins_sentence)
    };
    for note in origins.iter().flatten().chain(&f.notes) {
        let _ = writeln!(out, "{eq} {} {}", paint.paint(BOLD, "note:"), clean(note));
    }
    if let Some(help) = &f.help {
        let _ = writeln!(out, "{eq} {} {}", paint.paint(HELP, "help:"), clean(help));
    }
}

fn site(location: &Location) -> String {
    format!(
        "{}/{}:{}",
        clean(&location.repo),
        clean(&location.path),
        location.line
    )
}

fn excerpt(out: &mut String, location: &Location, width: usize, paint: Paint) {
    let pad = " ".repeat(width);
    if let Some(line) = &location.excerpt {
        let number = paint.paint(GUTTER, &format!("{:>width$} |", location.line));
        let _ = writeln!(out, "{number} {}", clean(line));
    }
    if !location.note.is_empty() {
        let bar = paint.paint(GUTTER, &format!("{pad} |"));
        let _ = writeln!(out, "{bar} {}", clean(&location.note));
    }
}

/// Control characters (escape sequences, carriage returns) shown as `\u{..}`; tabs as spaces.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' => out.push_str("    "),
            c if c.is_control()
                || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') =>
            {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::clean;
    use crate::report::{Report, ReportWarning, Stats};

    fn warning(repo: &str, path: &str, line: u32, message: &str) -> ReportWarning {
        ReportWarning {
            repo: repo.into(),
            path: path.into(),
            line,
            message: message.into(),
        }
    }

    #[test]
    fn parse_warnings_are_summarised_per_repository_and_kind() {
        let unread = crate::extract::formats::template::UNKNOWN_INNER_FORMAT;
        let mut warnings = Vec::new();
        for i in 0..10 {
            warnings.push(warning("chef-repo", &format!("t/{i}.conf.erb"), 3, "x"));
            warnings.push(warning("chef-repo", &format!("t/{i}.conf.erb"), 9, "y"));
        }
        warnings.push(warning("chef-repo", "bin/a.sh", 1, "parse error"));
        warnings.push(warning("chef-repo", "bin/b.sh", 1, "parse error"));
        warnings.push(warning("chef-repo", "t/motd.erb", 1, unread));
        warnings.push(warning("chef-repo", "t/issue.erb", 1, unread));
        warnings.push(warning("other", "bin/tool", 4, "parse error"));
        let report = Report {
            findings: vec![],
            stats: Stats::default(),
            warnings,
            config_fail_on: None,
        };
        let out = super::render(&report, false);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[..3],
            [
                "warning: 12 files in chef-repo could not be parsed fully (erb: 10, sh: 2); see --format json",
                "warning: 1 file in other could not be parsed fully (other: 1); see --format json",
                "note: 2 templates in chef-repo render to a format knockon does not read and were skipped",
            ],
            "{out}"
        );
        assert_eq!(lines.len(), 4, "{out}");
        let json: serde_json::Value =
            serde_json::from_str(&crate::report::json::render(&report)).expect("json");
        assert_eq!(json["warnings"].as_array().map(Vec::len), Some(23));
        assert_eq!(json["warnings"][0]["kind"], "erb");
        assert_eq!(json["unread_templates"]["chef-repo"], 2);
    }

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(clean("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(clean("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(clean("tab\there"), "tab    here");
    }
}
