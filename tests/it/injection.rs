//! Hostile names and contents cannot inject anything into the reports: a scenario whose
//! repository names, file paths, path strings and source lines carry HTML, Markdown links and
//! images, mentions, backtick runs, table pipes, `</details>`, `-->`, terminal escapes and
//! bidirectional overrides. The Markdown is parsed with a CommonMark parser (pulldown-cmark, with
//! GitHub's tables) and its rendered HTML is checked too.

use crate::reports::{assert_schema_valid, check};
use knockon::scenario::{BuiltScenario, Scenario};
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// Backtick runs, `</details>` and `-->` sit in the file path and in the source line; the
/// resource itself contains `<script>` and a mention.
const HOSTILE: &str = "\
# Hostile names and contents.
=== repo load<i>er@team changed
=== base loader.py
def write(day, rows):
    with open(f\"/data/t<script>alert(1)</script>@org/team/ticker_{day}.csv\", \"w\") as f:
        f.write(rows)
=== head loader.py
def write(day, exchange, rows):
    with open(f\"/data/t<script>alert(1)</script>@org/team/{day}/{exchange}.csv\", \"w\") as f:
#@ changed path.cleanup-misses-new-outputs
#@ changed path.reader-of-vanished-output
        f.write(rows)
=== repo ops@org![x](evil)|<b>x
=== file cron/<script>alert(1)<!--x-->/@org/team/![x](http:/evil)/a|b/````x``/</details>/-->/clean.sh
find '/data/t<script>alert(1)</script>@org/team' -maxdepth 1 -name 'ticker_*.csv' -delete # ```` </details> --> ![x](http://evil) [a](b) @org/team | <img src=x onerror=alert(1)> $\\color{red}x$ www.evil.com \u{1b}[31mred \u{202e}txt.exe
#@ impacted path.cleanup-misses-new-outputs
=== file panels/`x`@y/[z](w)|.py
import glob

def latest():
    return sorted(glob.glob(\"/data/t<script>alert(1)</script>@org/team/ticker_*.csv\"))
#@ impacted path.reader-of-vanished-output
=== file cron/<b>bad</b>.sh
if then fi ((( <<< $( ]]
";

fn build(dir: &std::path::Path) -> BuiltScenario {
    Scenario::parse(HOSTILE).unwrap().build(dir).unwrap()
}

fn run(built: &BuiltScenario, format: &str) -> String {
    let output = check(built, &["--format", format, "--fail-on", "never"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn hostile_scenario_has_findings_and_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let built = build(dir.path());
    let json: serde_json::Value = serde_json::from_str(&run(&built, "json")).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), 2, "{json:#}");
    assert!(!json["warnings"].as_array().unwrap().is_empty(), "{json:#}");
}

/// Our own HTML: the marker, collapsible blocks, bold and small text.
const OWN_HTML: [&str; 9] = [
    "<!-- knockon-report -->",
    "<details>",
    "</details>",
    "<summary>",
    "</summary>",
    "<b>",
    "</b>",
    "<sub>",
    "</sub>",
];

#[test]
fn markdown_cannot_be_injected() {
    let dir = tempfile::tempdir().unwrap();
    let built = build(dir.path());
    let markdown = run(&built, "markdown");
    assert!(markdown.starts_with("<!-- knockon-report -->\n"));

    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_GFM;
    let mut in_code: Option<String> = None;
    let mut code_blocks: Vec<(String, String)> = Vec::new();
    let mut prose = String::new();
    let mut cells_in_row = 0;
    for (event, range) in Parser::new_ext(&markdown, options).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => "indented".to_string(),
                };
                in_code = Some(info);
                code_blocks.push((in_code.clone().unwrap(), String::new()));
            }
            Event::End(TagEnd::CodeBlock) => in_code = None,
            Event::Text(text) if in_code.is_some() => {
                code_blocks.last_mut().unwrap().1.push_str(&text);
            }
            Event::Text(text) | Event::Code(text) => {
                prose.push_str(&text);
                prose.push('\n');
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                let mut rest = html.to_string();
                for own in OWN_HTML {
                    rest = rest.replace(own, "");
                }
                assert!(
                    !rest.contains('<') && !rest.contains('>'),
                    "raw HTML from analysed code: {html:?} at {range:?}"
                );
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                assert_eq!(
                    dest_url.as_ref(),
                    "https://github.com/knockon-dev/knockon",
                    "a link from analysed code at {range:?}"
                );
            }
            Event::Start(Tag::Image { .. }) => panic!("an image at {range:?}"),
            Event::Start(Tag::TableRow | Tag::TableHead) => cells_in_row = 0,
            Event::Start(Tag::TableCell) => cells_in_row += 1,
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => {
                assert_eq!(cells_in_row, 3, "a table row split at {range:?}")
            }
            _ => {}
        }
    }
    // Two findings: each has its two excerpts and its diagram in code blocks, nothing more.
    let infos: Vec<&str> = code_blocks.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(
        infos,
        ["python", "python", "mermaid", "bash", "python", "mermaid"],
        "{markdown}"
    );
    let find_line = &code_blocks[3].1;
    assert!(find_line.contains("# ```` </details> --> ![x](http://evil)"));
    assert!(find_line.contains("\\u{1b}[31mred \\u{202e}txt.exe"));
    // Mentions, bare URLs and e-mail addresses are broken by a zero-width joiner.
    for (i, _) in prose.match_indices('@') {
        assert!(
            prose[i + 1..].starts_with('\u{200D}'),
            "a live mention: {}",
            &prose[i..prose.len().min(i + 20)]
        );
    }
    assert!(!prose.contains("://"), "a bare URL in {prose}");
    assert!(!prose.contains("www."), "a bare URL in {prose}");
    assert!(!prose.contains('\u{1b}') && !prose.contains('\u{202e}'));
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(&markdown, options));
    let outside_code = strip_code(&html);
    // Each block is closed where it opened: three <details> (two findings, one warning list).
    assert_eq!(outside_code.matches("<details>").count(), 3, "{html}");
    assert_eq!(outside_code.matches("</details>").count(), 3, "{html}");
    for needle in ["<script", "<img", "<i>", "<b>x", "onerror"] {
        assert!(
            !outside_code.contains(needle),
            "`{needle}` in the rendered HTML:\n{html}"
        );
    }
    assert_eq!(html.matches("<a ").count(), 1, "{html}");
}

/// Rendered HTML without its `<pre>` blocks (code is shown escaped there).
fn strip_code(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<pre>") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</pre>") {
            Some(end) => rest = &rest[start + end + 6..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// The raw Markdown outside code blocks has none of the dangerous forms.
#[test]
fn raw_markdown_outside_code_has_no_dangerous_forms() {
    let dir = tempfile::tempdir().unwrap();
    let built = build(dir.path());
    let markdown = run(&built, "markdown");
    let mut prose = String::new();
    let mut fence: Option<String> = None;
    for line in markdown.lines() {
        let run: String = line.chars().take_while(|c| *c == '`').collect();
        match &fence {
            Some(open) if run.len() >= open.len() && line.trim_end() == run => fence = None,
            Some(_) => {}
            None if run.len() >= 3 => fence = Some(run),
            None => {
                prose.push_str(line);
                prose.push('\n');
            }
        }
    }
    let prose = prose.replacen("<!-- knockon-report -->", "", 1).replacen(
        "[knockon](https://github.com/knockon-dev/knockon)",
        "",
        1,
    );
    for bad in [
        "<script", "<img", "<i>", "<b>x", "](", "![", "-->", "<!--", "@org", "@team", "@y",
    ] {
        assert!(!prose.contains(bad), "`{bad}` in:\n{prose}");
    }
}

#[test]
fn github_commands_cannot_be_injected() {
    let dir = tempfile::tempdir().unwrap();
    let built = build(dir.path());
    let out = run(&built, "github");
    assert!(!out.contains('\u{1b}') && !out.contains('\r'));
    let lines: Vec<&str> = out.lines().collect();
    // Two findings, a notice for the unreadable file, the summary.
    assert_eq!(lines.len(), 4, "{out}");
    for line in &lines {
        let (command, rest) = line[2..].split_once(' ').unwrap();
        assert!(["error", "warning", "notice"].contains(&command), "{line}");
        let (properties, _message) = rest.split_once("::").unwrap();
        for property in properties.split(',') {
            let (key, value) = property.split_once('=').unwrap();
            assert!(["file", "line", "title"].contains(&key), "{line}");
            assert!(!value.contains(':'), "unescaped `:` in {key}: {line}");
        }
    }
    // The impacted sites are in another repository: annotated at the changed line.
    assert!(lines[0].contains("file=loader.py,line=2,"), "{}", lines[0]);
}

#[test]
fn sarif_and_json_formats_stay_valid() {
    let dir = tempfile::tempdir().unwrap();
    let built = build(dir.path());
    let sarif: serde_json::Value = serde_json::from_str(&run(&built, "sarif")).unwrap();
    assert_schema_valid(&sarif);
    let run0 = &sarif["runs"][0];
    let notes = run0["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(!notes.is_empty());
    let uri = run0["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        uri.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b)),
        "{uri}"
    );
    for result in run0["results"].as_array().unwrap() {
        let text = result["message"]["text"].as_str().unwrap();
        assert!(!text.contains('\u{1b}'));
        // The only embedded link is ours, on the second line.
        let link_line = text.lines().nth(1).unwrap();
        assert!(link_line.starts_with("Changed at ["), "{text}");
    }
    for format in ["gitlab", "rdjson", "json"] {
        let text = run(&built, format);
        assert!(!text.contains('\u{1b}'), "{format}");
        let _: serde_json::Value = serde_json::from_str(&text).unwrap();
    }
}

#[test]
fn text_shows_escapes_instead_of_running_them() {
    let dir = tempfile::tempdir().unwrap();
    let built = build(dir.path());
    let text = run(&built, "text");
    assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'));
    assert!(text.contains("\\u{1b}[31mred"));
}
