//! `.env`-style files -> environment variables set, with their values.
//!
//! Input: `.env`, `.env.*`, `*.env`, and `KEY=value` files under `default/` or `sysconfig/`
//! (`/etc/default/app`). Output: per `KEY=value` line (optionally `export KEY=value`), an `Env`
//! access with mode `set` and the value (quotes removed; `${VAR}` references in unquoted or
//! double-quoted values as environment reads), and a binding of the same name in the file
//! scope.
//!
//! Invariants: comments (`# ...`, and ` #` after an unquoted value) and blank lines are
//! skipped; a line that is not an assignment is a warning (at most [`MAX_WARNINGS`]); a quoted
//! value may span lines, and its access is on the line of its key.

use super::common::{Interpolation, is_env_name, line_of, set_env, value_expr};
use crate::expr::Expr;
use crate::extract::{ExtractWarning, FileFacts, ScopeKind};
use crate::rules::models::Models;

const MAX_WARNINGS: usize = 20;

/// Whether the path is an environment file: by its name (`.env`, `x.env`), or, for a plain
/// file in a directory that usually holds them (`/etc/default/app`, `sysconfig/`, `env/`), by
/// its content too — a `README` there, or an Ansible role named `environment`, is not one.
pub(crate) fn is_dotenv_path(
    lower_name: &str,
    ext: Option<&str>,
    dirs: &[&str],
    content: &[u8],
) -> bool {
    if lower_name == ".env" || lower_name.starts_with(".env.") || ext == Some("env") {
        return true;
    }
    let parent = dirs.first().copied().unwrap_or("");
    let env_dir = matches!(parent, "default" | "sysconfig" | "env" | "environment");
    let plain_name = !lower_name.starts_with('.') && ext.is_none();
    let by_place = (env_dir && plain_name) || (lower_name == "environment" && parent == "etc");
    by_place && looks_like_assignments(content)
}

/// Whether the first lines of a text are assignments (`KEY=value`, `export KEY=value`),
/// comments and blank lines only, with at least one assignment. An empty file counts: it sets
/// nothing, but it is where the settings go.
fn looks_like_assignments(content: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&content[..content.len().min(16 * 1024)]);
    let mut assignments = 0;
    let mut in_quote = false;
    for raw in head.lines().take(200) {
        let line = raw.trim();
        if in_quote {
            // A quoted value spanning lines ends at a line with its closing quote.
            in_quote = !(line.contains('"') || line.contains('\''));
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return false;
        };
        let name = name.trim();
        let identifier = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        // A template's `{{ key }}={{ value }}` line, as rendered text.
        let templated = !super::template::find_tokens(name).is_empty();
        if !identifier && !templated {
            return false;
        }
        let value = value.trim();
        in_quote = value.starts_with(['"', '\'']) && value.len() == 1
            || (value.starts_with('"') && !value[1..].contains('"'))
            || (value.starts_with('\'') && !value[1..].contains('\''));
        assignments += 1;
    }
    assignments > 0 || head.trim().is_empty()
}

/// Extracts the assignments of an environment file.
pub fn extract(path: &str, text: &str, _models: &Models) -> FileFacts {
    let mut facts = FileFacts::new(path, ScopeKind::Module);
    let via = "env file";
    let lines: Vec<&str> = text.split('\n').collect();
    let mut index = 0;
    while index < lines.len() {
        let line = line_of(index);
        let raw = lines[index].trim_start_matches('\u{feff}').trim();
        index += 1;
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let assignment = raw.strip_prefix("export ").unwrap_or(raw).trim_start();
        let Some((name, value)) = assignment.split_once('=') else {
            warn(&mut facts, line, "not a `KEY=value` line");
            continue;
        };
        let name = name.trim();
        if !is_env_name(name) {
            warn(
                &mut facts,
                line,
                &format!("`{name}` is not a variable name"),
            );
            continue;
        }
        let value = value.trim_start();
        let (value, consumed) = read_value(value, &lines[index..]);
        index += consumed;
        set_env(&mut facts, 0, name, Some(value), line, via);
    }
    facts
}

fn warn(facts: &mut FileFacts, line: u32, message: &str) {
    if facts.warnings.len() < MAX_WARNINGS {
        facts.warnings.push(ExtractWarning {
            line,
            message: message.to_string(),
        });
    }
}

/// The value of an assignment, and how many following lines a multi-line quoted value used.
fn read_value(value: &str, following: &[&str]) -> (Expr, usize) {
    let dollar = Interpolation {
        dollar: true,
        ..Interpolation::default()
    };
    let Some(quote) = value
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\'' | '`'))
    else {
        let unquoted = match value.find(" #") {
            Some(at) => &value[..at],
            None => value,
        };
        return (value_expr(unquoted.trim_end(), dollar, false), 0);
    };
    let mut text = value[1..].to_string();
    let mut consumed = 0;
    loop {
        if let Some(end) = closing_quote(&text, quote) {
            text.truncate(end);
            break;
        }
        let Some(next) = following.get(consumed) else {
            break;
        };
        text.push('\n');
        text.push_str(next);
        consumed += 1;
    }
    let expr = if quote == '"' {
        value_expr(
            &text.replace("\\\"", "\"").replace("\\n", "\n"),
            dollar,
            false,
        )
    } else {
        Expr::lit(text)
    };
    (expr, consumed)
}

/// The offset of the first unescaped closing quote.
fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' && quote == '"' {
            escaped = true;
            continue;
        }
        if c == quote {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{EnvTarget, RawResource};
    use crate::model::Mode;

    fn sets(facts: &FileFacts) -> Vec<(u32, String, Option<Expr>)> {
        facts
            .accesses
            .iter()
            .filter(|a| a.mode == Mode::Set)
            .filter_map(|a| match &a.resource {
                RawResource::Env(EnvTarget { name, value }) => {
                    Some((a.line, name.as_lit()?.to_string(), value.clone()))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn assignments_with_quotes_export_and_comments() {
        let models = Models::builtin().expect("models");
        let text = "# worker settings\nQUEUE_NAME=jobs\nexport DATA_DIR=\"/data/x\"\nTOKEN='a#b' \nLOG_DIR=/var/log/app # where logs go\nOUT=${DATA_DIR}/out\nbad line\nMULTI=\"a\nb\"\nAFTER=1\n";
        let f = extract(".env", text, &models);
        let got = sets(&f);
        assert_eq!(
            got,
            vec![
                (2, "QUEUE_NAME".into(), Some(Expr::lit("jobs"))),
                (3, "DATA_DIR".into(), Some(Expr::lit("/data/x"))),
                (4, "TOKEN".into(), Some(Expr::lit("a#b"))),
                (5, "LOG_DIR".into(), Some(Expr::lit("/var/log/app"))),
                (
                    6,
                    "OUT".into(),
                    Some(Expr::concat(vec![
                        Expr::Env {
                            name: "DATA_DIR".into(),
                            default: None
                        },
                        Expr::lit("/out")
                    ]))
                ),
                (8, "MULTI".into(), Some(Expr::lit("a\nb"))),
                (10, "AFTER".into(), Some(Expr::lit("1"))),
            ]
        );
        assert_eq!(f.warnings.len(), 1);
        assert_eq!(f.warnings[0].line, 7);
        assert!(
            f.bindings
                .iter()
                .any(|b| b.name == "QUEUE_NAME" && b.scope == 0)
        );
        assert!(f.accesses.iter().all(|a| a.via == "env file"));
    }

    #[test]
    fn unterminated_quote_and_binary_input_do_not_panic() {
        let models = Models::builtin().expect("models");
        let f = extract(".env", "A=\"never closed\nB=2\n", &models);
        assert_eq!(sets(&f).len(), 1);
        let binary = String::from_utf8_lossy(&[0xff, 0xfe, b'=', 0, b'\n', b'"', 0x80]).to_string();
        let _ = extract(".env", &binary, &models);
    }
}
