//! One pull-request comment that a reviewer reads in ten seconds: a hidden marker (so that a bot
//! finds and updates its own comment), a summary line, a table of what needs a patch, then one
//! collapsed block per finding with both code excerpts, the resource before and after, the
//! explanation, the help and a Mermaid diagram of changed site -> resource -> impacted site.
//!
//! Everything from analysed code is hostile here: a file name, repository name, string or source
//! line is escaped for the context it lands in, so that it cannot open HTML, a link or an image,
//! mention a user or team, split a table cell, or close the surrounding `<details>`, code fence
//! or comment:
//!
//! - Markdown text ([`text`]): `&`, `<`, `>`, `"` as HTML entities; Markdown punctuation with a
//!   backslash; `@`, `#`, `://` and `www.` broken with a zero-width joiner (GitHub links mentions,
//!   issue references and bare URLs in rendered text, after backslash escapes are gone).
//! - Raw HTML (the `<summary>` line, where Markdown is not parsed: [`html`]): entities, and the
//!   same zero-width joiners.
//! - Code blocks: a backtick fence longer than any backtick run in the content ([`fence_for`]).
//! - Mermaid labels: everything but plain characters as Mermaid's `#code;` entities.
//!
//! Control characters are made visible first ([`super::text::clean`]), so no untrusted text spans
//! lines. The comment stays under GitHub's limit of 65,536 characters: when too long, the details
//! of the least severe findings go first, then their table rows, and the comment says how many
//! were left out.

use super::text::clean;
use super::{Counts, Report, truncate, unreadable_files};
use crate::finding::{Finding, Location, Severity};
use std::fmt::Write;

/// The first line of every comment: a bot finds its previous comment by it.
pub const MARKER: &str = "<!-- knockon-report -->";

/// GitHub's limit on a comment body. Lengths are measured in bytes, which is never less than
/// the characters (or UTF-16 units) GitHub counts.
pub const COMMENT_LIMIT: usize = 65_536;

/// Longest untrusted text shown in one place (a title, a path, a source line), in characters.
const MAX_FIELD: usize = 300;
/// Longest label in a diagram.
const MAX_LABEL: usize = 80;
/// Unreadable files listed by name, and the length of each name and message: the header and
/// footer are never cut, so even text that escapes to six bytes a character must leave room.
const MAX_WARNINGS: usize = 10;
const MAX_WARNING_FIELD: usize = 150;

/// Zero-width joiner: invisible, but GitHub no longer sees a mention or a link.
const ZWJ: char = '\u{200D}';

pub fn render(report: &Report) -> String {
    render_within(report, COMMENT_LIMIT)
}

/// The comment, at most `limit` bytes long (as long as the header and footer fit).
pub fn render_within(report: &Report, limit: usize) -> String {
    let mut order: Vec<&Finding> = report.findings.iter().collect();
    order.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let head = header(report);
    let foot = footer(report);
    if order.is_empty() {
        return format!("{head}{foot}");
    }
    let rows: Vec<String> = order.iter().map(|f| row(f)).collect();
    let details: Vec<String> = order.iter().map(|f| details(f)).collect();
    let fixed = head.len() + TABLE_HEAD.len() + foot.len() + 1;
    let total = order.len();
    let row_len = prefix_sums(&rows);
    let details_len = prefix_sums(&details);
    let size = |rows: usize, details: usize| {
        fixed + row_len[rows] + details_len[details] + omitted(total, rows, details).len()
    };
    // Most severe first: keep as many details as fit with every row, else as many rows as fit.
    let mut kept_rows = total;
    let mut kept_details = total;
    while kept_details > 0 && size(kept_rows, kept_details) > limit {
        kept_details -= 1;
    }
    while kept_rows > 0 && size(kept_rows, kept_details) > limit {
        kept_rows -= 1;
    }
    let mut out = head;
    out.push_str(TABLE_HEAD);
    for r in &rows[..kept_rows] {
        out.push_str(r);
    }
    out.push('\n');
    out.push_str(&omitted(order.len(), kept_rows, kept_details));
    for d in &details[..kept_details] {
        out.push_str(d);
    }
    out.push_str(&foot);
    out
}

/// `sums[n]` is the total length of the first `n` parts.
fn prefix_sums(parts: &[String]) -> Vec<usize> {
    let mut sums = Vec::with_capacity(parts.len() + 1);
    sums.push(0);
    for part in parts {
        sums.push(sums[sums.len() - 1] + part.len());
    }
    sums
}

const TABLE_HEAD: &str = "| Severity | Needs a patch | Why |\n|---|---|---|\n";

fn header(report: &Report) -> String {
    let counts = Counts::of(&report.findings);
    let stats = &report.stats;
    let mut out = format!("{MARKER}\n");
    let mut reach = format!(
        "{} {}, {} {} analysed",
        stats.repositories,
        plural(stats.repositories, "repository", "repositories"),
        stats.files_analysed,
        plural(stats.files_analysed, "file", "files"),
    );
    if stats.audit {
        // An audit has no change: it reports standing mismatches of the current state.
        match report.findings.len() {
            0 => {
                let _ = writeln!(out, "### ✅ knockon audit: no mismatch found\n");
                let _ = writeln!(out, "No standing mismatch found. {reach}\n");
            }
            n => {
                let _ = writeln!(
                    out,
                    "### knockon audit: {n} standing {} {} a patch\n",
                    plural(n, "mismatch", "mismatches"),
                    plural(n, "needs", "need")
                );
                let _ = writeln!(out, "**{}** · {reach}\n", counts.describe());
            }
        }
        return out;
    }
    reach.push_str(&format!(
        " · change {}",
        text(&truncate(&stats.change, MAX_FIELD))
    ));
    match report.findings.len() {
        0 => {
            let _ = writeln!(out, "### ✅ knockon: no impact found\n");
            let _ = writeln!(out, "No code found that this change breaks. {reach}\n");
        }
        n => {
            let _ = writeln!(
                out,
                "### knockon: {n} {} outside this change {} a patch\n",
                plural(n, "place", "places"),
                plural(n, "needs", "need")
            );
            let _ = writeln!(out, "**{}** · {reach}\n", counts.describe());
        }
    }
    out
}

fn footer(report: &Report) -> String {
    let mut out = String::new();
    if !report.warnings.is_empty() {
        let files = unreadable_files(report);
        let _ = writeln!(out, "<details>");
        let _ = writeln!(
            out,
            "<summary>⚠️ {files} {} could not be fully read; the rest was analysed</summary>\n",
            plural(files, "file", "files")
        );
        for w in report.warnings.iter().take(MAX_WARNINGS) {
            let _ = writeln!(
                out,
                "- {}: {}",
                text(&truncate(
                    &site_of(&w.repo, &w.path, w.line),
                    MAX_WARNING_FIELD
                )),
                text(&truncate(&w.message, MAX_WARNING_FIELD))
            );
        }
        if report.warnings.len() > MAX_WARNINGS {
            let _ = writeln!(out, "- … and {} more", report.warnings.len() - MAX_WARNINGS);
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    let _ = writeln!(
        out,
        "<sub>[knockon]({}) {}</sub>",
        super::REPOSITORY_URL,
        env!("CARGO_PKG_VERSION")
    );
    out
}

/// The note on what was left out, or nothing.
fn omitted(total: usize, kept_rows: usize, kept_details: usize) -> String {
    if kept_rows == total && kept_details == total {
        return String::new();
    }
    let mut parts = Vec::new();
    if kept_details < total {
        parts.push(format!(
            "the details of {} {}",
            total - kept_details,
            plural(total - kept_details, "finding", "findings")
        ));
    }
    if kept_rows < total {
        parts.push(format!(
            "{} {} from the table",
            total - kept_rows,
            plural(total - kept_rows, "finding", "findings")
        ));
    }
    format!(
        "> [!NOTE]\n> Left out to stay under GitHub's comment size limit: {} (the least severe). \
         Run `knockon check` or read the CI log for all of them.\n\n",
        parts.join(" and ")
    )
}

fn row(f: &Finding) -> String {
    format!(
        "| {} | {} | {} |\n",
        severity_label(f.severity),
        text(&truncate(&site(&f.impacted), MAX_FIELD)),
        text(&truncate(&f.title, MAX_FIELD))
    )
}

fn details(f: &Finding) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "<details>");
    let _ = writeln!(
        out,
        "<summary>{} <b>{}</b> · {}</summary>\n",
        severity_label(f.severity),
        html(&truncate(&f.title, MAX_FIELD)),
        html(&truncate(&site(&f.impacted), MAX_FIELD))
    );
    let _ = writeln!(out, "Rule `{}`\n", rule_id(&f.rule));
    let _ = writeln!(
        out,
        "**Needs a patch:** {}{}\n",
        text(&truncate(&site(&f.impacted), MAX_FIELD)),
        note_suffix(&f.impacted)
    );
    code_block(&mut out, &f.impacted);
    let one_site = super::about_one_site(f);
    if !one_site {
        let _ = writeln!(
            out,
            "**Changed:** {}{}\n",
            text(&truncate(&site(&f.change), MAX_FIELD)),
            note_suffix(&f.change)
        );
        code_block(&mut out, &f.change);
    }
    let _ = writeln!(out, "**Resource** ({}):\n", f.resource.kind.as_str());
    let _ = writeln!(out, "- before: {}", resource(f.resource.before.as_deref()));
    let _ = writeln!(out, "- after: {}\n", resource(f.resource.after.as_deref()));
    let _ = writeln!(
        out,
        "**Why:** {}\n",
        text(&truncate(&f.message, MAX_FIELD * 2))
    );
    for (i, step) in f.explanation.iter().enumerate() {
        let _ = writeln!(out, "{}. {}", i + 1, text(&truncate(step, MAX_FIELD)));
    }
    if !f.explanation.is_empty() {
        out.push('\n');
    }
    let origins = if one_site {
        [f.impacted.origins_sentence(), None]
    } else {
        [&f.impacted, &f.change].map(Location::origins_sentence)
    };
    for note in origins.iter().flatten().chain(&f.notes) {
        let _ = writeln!(out, "**Note:** {}\n", text(&truncate(note, MAX_FIELD)));
    }
    if let Some(help) = &f.help {
        let _ = writeln!(out, "**Help:** {}\n", text(&truncate(help, MAX_FIELD)));
    }
    // The diagram draws a change's before and after; an audit's finding has neither.
    if !one_site {
        mermaid(&mut out, f);
    }
    let _ = writeln!(out, "</details>\n");
    out
}

fn note_suffix(location: &Location) -> String {
    if location.note.is_empty() {
        String::new()
    } else {
        format!(" — {}", text(&truncate(&location.note, MAX_FIELD)))
    }
}

fn resource(value: Option<&str>) -> String {
    match value {
        Some(v) => text(&truncate(v, MAX_FIELD)),
        None => "(none)".to_string(),
    }
}

fn code_block(out: &mut String, location: &Location) {
    let Some(excerpt) = &location.excerpt else {
        return;
    };
    let content = clean(&truncate(excerpt.trim(), MAX_FIELD));
    let fence = fence_for(&content);
    let _ = writeln!(
        out,
        "{fence}{}\n{content}\n{fence}\n",
        language(&location.path)
    );
}

/// A backtick fence that the content cannot close: one longer than its longest backtick run,
/// and at least three.
pub fn fence_for(content: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in content.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// The info string of a code block, from a fixed list (never from the file name itself).
fn language(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
    match extension {
        "py" => "python",
        "sh" | "bash" => "bash",
        "rs" => "rust",
        "toml" => "toml",
        "yml" | "yaml" => "yaml",
        "json" => "json",
        _ => "",
    }
}

/// changed site -> resource before -> impacted site, and changed site -.-> resource after.
fn mermaid(out: &mut String, f: &Finding) {
    let _ = writeln!(out, "```mermaid\nflowchart LR");
    let _ = writeln!(
        out,
        "  changed[\"{}<br>(changed)\"]",
        label(&site(&f.change))
    );
    let _ = writeln!(
        out,
        "  before[\"{}\"]",
        label(f.resource.before.as_deref().unwrap_or("(none)"))
    );
    let _ = writeln!(
        out,
        "  impacted[\"{}<br>needs a patch\"]",
        label(&site(&f.impacted))
    );
    let _ = writeln!(out, "  changed -->|\"no longer produces\"| before");
    if let Some(after) = &f.resource.after {
        let _ = writeln!(out, "  after[\"{}\"]", label(after));
        let _ = writeln!(out, "  changed -.->|\"now produces\"| after");
    }
    let _ = writeln!(out, "  before -->|\"still used by\"| impacted");
    let _ = writeln!(out, "```\n");
}

/// A Mermaid label: letters, digits, spaces and `/._-:,*` as they are, anything else (quotes,
/// brackets, `<`, `#`, backticks, non-ASCII) as a `#code;` entity, which Mermaid decodes.
fn label(raw: &str) -> String {
    let cleaned = clean(&truncate(raw, MAX_LABEL));
    let mut out = String::with_capacity(cleaned.len());
    for c in cleaned.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, ' ' | '/' | '.' | '_' | '-' | ':' | ',' | '*') {
            out.push(c);
        } else {
            let _ = write!(out, "#{};", u32::from(c));
        }
    }
    out
}

/// Rule ids are validated kebab-case when rules load; anything else is dropped all the same.
fn rule_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect()
}

fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "🔴 error",
        Severity::Warning => "🟡 warning",
        Severity::Info => "🔵 info",
    }
}

fn site(location: &Location) -> String {
    site_of(&location.repo, &location.path, location.line)
}

fn site_of(repo: &str, path: &str, line: u32) -> String {
    format!("{repo}/{path}:{line}")
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// Untrusted text for Markdown (a paragraph, a list item, a table cell).
pub fn text(raw: &str) -> String {
    let cleaned = clean(raw);
    let mut out = String::with_capacity(cleaned.len() + 16);
    let mut rest = cleaned.as_str();
    while let Some(c) = rest.chars().next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Emphasis, code spans, links, images, table cells, strikethrough and math; none of
            // this text starts a line, so block syntax (`#`, `-`, `1.`) needs no escape.
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '!' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '#' => {
                out.push(c);
                out.push(ZWJ);
            }
            _ => push_breaking_links(&mut out, c, rest),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Untrusted text inside raw HTML, where Markdown is not parsed.
pub fn html(raw: &str) -> String {
    let cleaned = clean(raw);
    let mut out = String::with_capacity(cleaned.len() + 16);
    let mut rest = cleaned.as_str();
    while let Some(c) = rest.chars().next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Not Markdown here, but a renderer that parses Markdown inside HTML finds nothing.
            '[' | ']' | '(' | ')' | '!' | '|' | '`' | '*' | '_' | '~' | '$' | '\\' => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            '#' => {
                out.push(c);
                out.push(ZWJ);
            }
            _ => push_breaking_links(&mut out, c, rest),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `c` (the first character of `rest`), with a zero-width joiner after an `@` (mentions, e-mail
/// autolinks), the `:` of `://` and the `w` that starts `www.` (bare URL autolinks).
fn push_breaking_links(out: &mut String, c: char, rest: &str) {
    out.push(c);
    let starts_url = c == ':' && rest[1..].starts_with("//");
    let starts_www = (c == 'w' || c == 'W')
        && rest
            .get(..4)
            .is_some_and(|w| w.eq_ignore_ascii_case("www."));
    if c == '@' || starts_url || starts_www {
        out.push(ZWJ);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_open_html_links_mentions_or_cells() {
        let out = text("<script>x</script> ![i](http://evil) [l](x) @org/team a|b -->");
        assert!(!out.contains('<') && !out.contains('>'));
        assert!(!out.contains("!["));
        assert!(!out.contains("]("));
        assert!(!out.contains("@o"));
        assert!(!out.contains("://"));
        assert!(out.contains("a\\|b"));
        assert!(!out.contains("-->"));
    }

    #[test]
    fn html_escapes_entities_and_mentions() {
        assert_eq!(html("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        assert_eq!(html("@x"), "@\u{200D}x");
        assert_eq!(html("</details>"), "&lt;/details&gt;");
    }

    #[test]
    fn fences_outrun_backticks() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("a ``` b"), "````");
        assert_eq!(fence_for("`````"), "``````");
    }

    #[test]
    fn labels_are_entities_except_plain_characters() {
        assert_eq!(label("a\"b]<c>"), "a#34;b#93;#60;c#62;");
        assert_eq!(label("/data/{day}.csv"), "/data/#123;day#125;.csv");
    }

    #[test]
    fn www_and_schemes_are_broken() {
        assert_eq!(text("www.x"), "w\u{200D}ww.x");
        assert_eq!(html("s3://b"), "s3:\u{200D}//b");
    }

    #[test]
    fn worst_case_escaping_stays_under_githubs_limit() {
        let hostile = "\"<".repeat(5000);
        let findings = (0..500)
            .map(|i| {
                let mut f = super::super::tests::finding(i + 1, &hostile);
                f.title = hostile.clone();
                f.message = hostile.clone();
                f.impacted.path = hostile.clone();
                f.change.note = hostile.clone();
                f.explanation = vec![hostile.clone(); 20];
                f.resource.after = Some(hostile.clone());
                f
            })
            .collect();
        let warnings = (0..100)
            .map(|i| super::super::ReportWarning {
                repo: hostile.clone(),
                path: format!("{i}{hostile}"),
                line: 1,
                message: hostile.clone(),
            })
            .collect();
        let report = Report {
            config_fail_on: None,
            findings,
            stats: super::super::Stats {
                change: hostile.clone(),
                ..Default::default()
            },
            warnings,
        };
        let out = render(&report);
        assert!(out.len() <= COMMENT_LIMIT, "{}", out.len());
        assert!(out.contains("Left out to stay under"));
        assert!(out.matches("| 🟡 warning |").count() > 5);
    }

    #[test]
    fn stays_under_the_limit_dropping_details_first() {
        let mut findings = Vec::new();
        for i in 0..40 {
            let mut f = super::super::tests::finding(i + 1, &"x".repeat(250));
            f.severity = if i < 5 {
                Severity::Error
            } else {
                Severity::Warning
            };
            f.impacted.path = format!("file{i}.sh");
            findings.push(f);
        }
        let report = Report {
            config_fail_on: None,
            findings,
            stats: super::super::Stats::default(),
            warnings: vec![],
        };
        let full = render_within(&report, usize::MAX);
        assert!(!full.contains("Left out"));
        let limit = full.len() / 2;
        let cut = render_within(&report, limit);
        assert!(cut.len() <= limit, "{} > {limit}", cut.len());
        assert!(cut.contains("Left out to stay under GitHub's comment size limit: the details of"));
        // Every row is still there; the errors (first) kept their details.
        assert_eq!(cut.matches("| 🟡 warning |").count(), 35);
        assert!(cut.contains("<summary>🔴 error"));
        let tiny = render_within(&report, 1500);
        assert!(tiny.len() <= 1500, "{}", tiny.len());
        assert!(tiny.contains("from the table"));
        assert!(!tiny.contains("<summary>🔴"));
    }
}
