//! supervisord: `[program:NAME]` sections launch their `command=` as a systemd unit launches its
//! `ExecStart=`.
//!
//! In `supervisord.conf`, `conf.d/*.conf` or `supervisord.d/*.ini`, a `[program:x]` (also
//! `[fcgi-program:x]`, `[eventlistener:x]`) section's `command=` is analysed as shell in a child
//! scope of the section's, with `directory=` as its working directory wherever the key stands
//! in the section; `environment=A="1",B="2"` sets each variable for the section's program
//! (`[supervisord]`'s `environment=` for every program of the file). supervisord's own
//! expansions: `%(ENV_X)s` is the variable `X` of supervisord's environment (read as `${X}` in
//! the command, so the section's own `environment=` is looked up too, which supervisord does
//! not do),
//! `%(program_name)s` the section's name; others (`%(process_num)02d`, `%(here)s`) stay unknown.
//! `stdout_logfile=` and friends stay the log keys of `rules/models/config.toml`.

use crate::expr::{Expr, ScopeId};
use crate::extract::formats::common::{self, push_scope, set_env};
use crate::extract::{FileFacts, ScopeKind};
use crate::rules::models::Models;

/// Most variables read from one `environment=` value.
const MAX_ENV_PAIRS: usize = 256;

/// A `[program:x]` section being read: its scope, name, command and working directory.
#[derive(Debug)]
pub(super) struct Program {
    scope: ScopeId,
    name: String,
    command: Option<(String, u32)>,
    directory: Option<String>,
}

/// What a section header means to supervisord.
pub(super) enum Section {
    /// `[supervisord]`: its `environment=` is every program's.
    Daemon,
    Program(Program),
}

/// The section a header opens, if it is one of supervisord's (`program:x`, `supervisord`).
pub(super) fn section(name: &str, scope: ScopeId) -> Option<Section> {
    if name == "supervisord" {
        return Some(Section::Daemon);
    }
    let (kind, program) = name.split_once(':')?;
    let program = program.trim();
    (matches!(kind.trim(), "program" | "fcgi-program" | "eventlistener") && !program.is_empty())
        .then(|| {
            Section::Program(Program {
                scope,
                name: program.to_string(),
                command: None,
                directory: None,
            })
        })
}

/// A `key=value` line of a supervisord section; true when it was one of the keys handled here
/// (the caller then reads no paths from it).
pub(super) fn entry(
    facts: &mut FileFacts,
    section: &mut Section,
    key: &str,
    value: &str,
    line: u32,
) -> bool {
    let key = key.to_ascii_lowercase();
    match (section, key.as_str()) {
        (Section::Daemon, "environment") => {
            environment(facts, 0, value, "", line);
            true
        }
        (Section::Program(p), "environment") => {
            let name = p.name.clone();
            environment(facts, p.scope, value, &name, line);
            true
        }
        (Section::Program(p), "command") => {
            p.command = Some((value.trim().to_string(), line));
            true
        }
        (Section::Program(p), "directory") => {
            p.directory = Some(expand(value.trim(), &p.name));
            true
        }
        _ => false,
    }
}

/// A value of another key of a program's section, with supervisord's expansions
/// (`stdout_logfile=/var/log/%(program_name)s.log`); `None` outside program sections.
pub(super) fn expand_value(section: &Section, value: &str) -> Option<String> {
    match section {
        Section::Program(p) if value.contains('%') => Some(expand(value, &p.name)),
        _ => None,
    }
}

/// At the end of a program's section: its command, analysed in a child scope.
pub(super) fn finish(facts: &mut FileFacts, section: Section, models: &Models) {
    let Section::Program(p) = section else {
        return;
    };
    let Some((command, line)) = p.command else {
        return;
    };
    let command = expand(&command, &p.name);
    let scope = push_scope(facts, p.scope, ScopeKind::Function, "command", line);
    common::shell(facts, scope, &command, line, p.directory.as_deref(), models);
}

/// `A="1",B='x,y',C=plain` (commas inside quotes belong to the value): a `set` of each.
fn environment(facts: &mut FileFacts, scope: ScopeId, value: &str, program: &str, line: u32) {
    let via = "supervisord environment";
    for pair in split_pairs(value).into_iter().take(MAX_ENV_PAIRS) {
        let Some((name, raw)) = pair.split_once('=') else {
            continue;
        };
        let name = name.trim();
        let raw = raw.trim();
        let unquoted = raw
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .or_else(|| raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')))
            .unwrap_or(raw);
        // A value built from supervisord's own environment is not known here.
        let value = (!unquoted.contains("%(")).then(|| Expr::lit(expand(unquoted, program)));
        set_env(facts, scope, name, value, line, via);
    }
}

/// Splits at commas outside quotes.
fn split_pairs(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in value.chars() {
        match (quote, c) {
            (None, ',') => out.push(std::mem::take(&mut current)),
            (None, '"' | '\'') => {
                quote = Some(c);
                current.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (_, c) => current.push(c),
        }
    }
    out.push(current);
    out.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// supervisord's `%(name)s` expansions: `%(ENV_X)s` is `${X}`, `%(program_name)s` the
/// section's name; any other is a lower-case shell variable no one sets (unknown, never a read
/// of the environment). `%%` is `%`.
fn expand(text: &str, program: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('%') {
            out.push('%');
            rest = tail;
            continue;
        }
        let Some(inner) = after.strip_prefix('(') else {
            out.push('%');
            rest = after;
            continue;
        };
        let Some(close) = inner.find(')') else {
            out.push('%');
            rest = after;
            continue;
        };
        let name = &inner[..close];
        // The conversion (`s`, `02d`) after the parenthesis.
        let tail = &inner[close + 1..];
        let conversion = tail
            .find(|c: char| c.is_ascii_alphabetic())
            .map_or(0, |i| i + 1);
        rest = &tail[conversion..];
        match name.strip_prefix("ENV_") {
            Some(var) if !var.is_empty() => out.push_str(&format!("${{{var}}}")),
            _ if name == "program_name" => out.push_str(program),
            _ => {
                let safe: String = name
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() {
                            c.to_ascii_lowercase()
                        } else {
                            '_'
                        }
                    })
                    .collect();
                out.push_str(&format!("${{supervisor_{safe}}}"));
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansions() {
        assert_eq!(expand("%(ENV_HOME)s/x", "p"), "${HOME}/x");
        assert_eq!(
            expand("/var/log/%(program_name)s-%(process_num)02d.log", "web"),
            "/var/log/web-${supervisor_process_num}.log"
        );
        assert_eq!(expand("100%% done", "p"), "100% done");
        assert_eq!(expand("50% off", "p"), "50% off");
    }

    #[test]
    fn environment_pairs_keep_commas_inside_quotes() {
        assert_eq!(
            split_pairs(r#"A="1,2",B='x',C=plain"#),
            vec![r#"A="1,2""#, "B='x'", "C=plain"]
        );
    }
}
