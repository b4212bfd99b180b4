//! Human text in the style of DESIGN.md: the impacted site first (that is what needs a patch),
//! then the changed site, each with its source line and what it does.
//!
//! Source lines come from analysed code: control characters are shown escaped so that a hostile
//! file cannot drive the reader's terminal.

use super::Report;
use crate::finding::{Finding, Location, Severity};
use std::fmt::Write;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        render_finding(&mut out, finding);
        out.push('\n');
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(
            out,
            "note: {} file(s) could not be fully read; the rest was analysed:",
            count_files(report)
        );
        for w in report.warnings.iter().take(20) {
            let _ = writeln!(
                out,
                "  {}/{}:{}: {}",
                clean(&w.repo),
                clean(&w.path),
                w.line,
                clean(&w.message)
            );
        }
        if report.warnings.len() > 20 {
            let _ = writeln!(out, "  ... and {} more", report.warnings.len() - 20);
        }
    }
    let _ = writeln!(out, "{}", summary(report));
    out
}

fn count_files(report: &Report) -> usize {
    let mut files: Vec<(&str, &str)> = report
        .warnings
        .iter()
        .map(|w| (w.repo.as_str(), w.path.as_str()))
        .collect();
    files.sort_unstable();
    files.dedup();
    files.len()
}

/// The last line: how many findings, and how much was read.
pub fn summary(report: &Report) -> String {
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let mut parts = Vec::new();
    for (s, name) in [
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Info, "info"),
    ] {
        let n = count(s);
        if n > 0 {
            parts.push(format!(
                "{n} {name}{}",
                if n == 1 || name == "info" { "" } else { "s" }
            ));
        }
    }
    let findings = match report.findings.len() {
        0 => "no impact found".to_string(),
        1 => format!("1 finding ({})", parts.join(", ")),
        n => format!("{n} findings ({})", parts.join(", ")),
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
    format!(
        "knockon: {findings} · {} repositories, {} files analysed{skipped_text} · change {}",
        stats.repositories,
        stats.files_analysed,
        clean(&stats.change)
    )
}

fn render_finding(out: &mut String, f: &Finding) {
    let _ = writeln!(out, "{}[{}]: {}", f.severity, f.rule, clean(&f.title));
    let width = f.impacted.line.max(f.change.line).to_string().len();
    let pad = " ".repeat(width);
    let _ = writeln!(out, "{pad}--> {}", site(&f.impacted));
    let _ = writeln!(out, "{pad} |");
    excerpt(out, &f.impacted, width);
    let _ = writeln!(out, "{pad} |");
    let _ = writeln!(out, "{pad}::: {}  (changed)", site(&f.change));
    excerpt(out, &f.change, width);
    let _ = writeln!(out, "{pad} = {}", clean(&f.message));
    for note in &f.notes {
        let _ = writeln!(out, "{pad} = note: {}", clean(note));
    }
    if let Some(help) = &f.help {
        let _ = writeln!(out, "{pad} = help: {}", clean(help));
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

fn excerpt(out: &mut String, location: &Location, width: usize) {
    let pad = " ".repeat(width);
    if let Some(line) = &location.excerpt {
        let _ = writeln!(out, "{:>width$} | {}", location.line, clean(line));
    }
    if !location.note.is_empty() {
        let _ = writeln!(out, "{pad} | {}", clean(&location.note));
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

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(clean("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(clean("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(clean("tab\there"), "tab    here");
    }
}
