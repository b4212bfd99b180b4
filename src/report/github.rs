//! GitHub Actions workflow commands: one annotation per finding, then a notice with the summary.
//!
//! ```text
//! ::error file=loader/write.py,line=13,title=knockon path.x%3A host-ops/c.sh%3A8 needs a patch::...
//! ```
//!
//! Severity maps to `error`, `warning` and `notice`. GitHub can only annotate files of the
//! checked-out repository (the changed one, checked out at the workspace root): a finding whose
//! impacted site is in it is annotated there; one whose impacted site is in another repository is
//! annotated at the changed line, which is in the pull request's diff, with the impacted
//! `repo/path:line` in its title and message (see [`super::annotation_site`]).
//!
//! Escaping follows the runner's parser: in the message, `%`, `\r` and `\n` are percent-encoded;
//! in properties, also `:` and `,`. Control characters are made visible first, so analysed text
//! cannot start a new command.

use super::text::{clean, summary};
use super::{Report, annotation_site, site_label};
use crate::finding::{Finding, Severity};
use std::fmt::Write;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        annotation(&mut out, f);
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(
            out,
            "::notice title={}::{}",
            property("knockon: files not fully read"),
            data(&format!(
                "{} file(s) could not be fully read; the rest was analysed. Run knockon with --format text to list them.",
                super::unreadable_files(report)
            ))
        );
    }
    let _ = writeln!(
        out,
        "::notice title={}::{}",
        property("knockon"),
        data(&summary(report))
    );
    out
}

fn annotation(out: &mut String, f: &Finding) {
    let command = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let at = annotation_site(f);
    let impacted = clean(&site_label(&f.impacted));
    let (title, mut message) = if super::about_one_site(f) {
        (
            format!("knockon {}: {}", f.rule, clean(&f.title)),
            clean(&f.message),
        )
    } else if at.at_impacted {
        (
            format!("knockon {}: {}", f.rule, clean(&f.title)),
            format!(
                "{}\nChanged: {}: {}",
                clean(&f.message),
                clean(&site_label(&f.change)),
                clean(&f.change.note)
            ),
        )
    } else {
        (
            format!("knockon {}: {impacted} needs a patch", f.rule),
            format!(
                "{}: {}\nNeeds a patch: {impacted}: {}{}",
                clean(&f.title),
                clean(&f.message),
                clean(&f.impacted.note),
                f.impacted
                    .excerpt
                    .as_deref()
                    .map(|e| format!("\n    {}", clean(e.trim())))
                    .unwrap_or_default()
            ),
        )
    };
    if let Some(help) = &f.help {
        message.push_str(&format!("\nHelp: {}", clean(help)));
    }
    let _ = writeln!(
        out,
        "::{command} file={},line={},title={}::{}",
        property(&at.location.path),
        at.location.line.max(1),
        property(&title),
        data(&message)
    );
}

/// The message part of a command.
pub fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value (`file=`, `title=`).
pub fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_the_runner_parses() {
        assert_eq!(data("50%\r\nx::y"), "50%25%0D%0Ax::y");
        assert_eq!(property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn impacted_sites_elsewhere_are_annotated_at_the_change() {
        let f = super::super::tests::finding(8, "rm x");
        let report = Report {
            config_fail_on: None,
            findings: vec![f],
            stats: super::super::Stats::default(),
            warnings: vec![],
        };
        let out = render(&report);
        let first = out.lines().next().unwrap();
        assert!(
            first.starts_with("::warning file=w.py,line=3,title=knockon path.cleanup-misses-new-outputs%3A ops/c.sh%3A8 needs a patch::"),
            "{first}"
        );
        assert!(out.lines().all(|l| l.starts_with("::")));
    }
}
