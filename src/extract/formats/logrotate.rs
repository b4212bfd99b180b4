//! logrotate configuration -> what rotation does to the log files it names.
//!
//! Input: `logrotate.conf`, files under `logrotate.d/`, files named `*logrotate*`. Output, per
//! stanza (a scope named `logrotate PATHS`), for each of its path globs (several per stanza,
//! possibly quoted):
//! - `move-from` on the log (rotation moves it away), or with `copytruncate` a `read` and a
//!   `write` (the log is copied, then truncated in place);
//! - `write` on the log when `create` is in effect (a fresh log is created after rotation);
//! - `move-to` on the rotated names (`LOG.1`, `LOG.2.gz`, or `LOG-DATE` with `dateext`, under
//!   `olddir` when set) and `delete` on the same names, with the retention in words ("beyond 7
//!   rotations, rotated daily"; `maxage N` as "older than N days");
//! - `postrotate`/`prerotate`/`firstaction`/`lastaction` scripts analysed as shell at their
//!   own lines.
//!
//! Directives before the first stanza (and in `logrotate.conf` outside stanzas) are defaults
//! for every stanza of the file. Invariants: a stanza that is never closed is still read up to
//! the end of the file, with a warning; an unknown directive is ignored.

use super::common::{self, line_of, path_access, push_scope};
use crate::expr::{Expr, ScopeId};
use crate::extract::{
    ExtractWarning, FileFacts, PathTarget, RawAccess, RawResource, Reach, ScopeKind,
};
use crate::model::Mode;
use crate::rules::models::Models;

/// Whether the path is a logrotate configuration.
pub(crate) fn is_logrotate_path(lower_name: &str, ext: Option<&str>, dirs: &[&str]) -> bool {
    const NOT_CONFIG: &[&str] = &[
        "sh", "bash", "py", "rb", "pl", "yml", "yaml", "json", "md", "txt", "rst", "html", "j2",
        "erb", "tmpl", "service", "timer",
    ];
    if ext.is_some_and(|e| NOT_CONFIG.contains(&e)) || lower_name.starts_with('.') {
        return false;
    }
    dirs.first().is_some_and(|d| *d == "logrotate.d")
        || lower_name == "logrotate.conf"
        || lower_name.contains("logrotate")
}

/// The directives that change what rotation touches.
#[derive(Clone, Debug, Default)]
struct Settings {
    rotate: Option<u32>,
    compress: bool,
    copytruncate: bool,
    create: bool,
    dateext: bool,
    olddir: Option<String>,
    maxage: Option<u32>,
    period: Option<&'static str>,
}

impl Settings {
    fn apply(&mut self, directive: &str, argument: &str) {
        match directive {
            "rotate" => self.rotate = argument.parse().ok(),
            "compress" => self.compress = true,
            "nocompress" => self.compress = false,
            "copytruncate" => self.copytruncate = true,
            "nocopytruncate" => self.copytruncate = false,
            "create" => self.create = true,
            "nocreate" => self.create = false,
            "dateext" => self.dateext = true,
            "nodateext" => self.dateext = false,
            "olddir" => self.olddir = Some(common::unquote(argument).to_string()),
            "noolddir" => self.olddir = None,
            "maxage" => self.maxage = argument.parse().ok(),
            "hourly" => self.period = Some("hourly"),
            "daily" => self.period = Some("daily"),
            "weekly" => self.period = Some("weekly"),
            "monthly" => self.period = Some("monthly"),
            "yearly" => self.period = Some("yearly"),
            _ => {}
        }
    }

    /// How long rotated files are kept, in words.
    fn retention(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(n) = self.rotate {
            let rotations = if n == 1 { "rotation" } else { "rotations" };
            parts.push(match self.period {
                Some(period) => format!("beyond {n} {rotations}, rotated {period}"),
                None => format!("beyond {n} {rotations}"),
            });
        }
        if let Some(days) = self.maxage {
            parts.push(format!("older than {days} days"));
        }
        (!parts.is_empty()).then(|| parts.join(" or "))
    }
}

/// Script directives, ended by `endscript`.
const SCRIPTS: &[&str] = &[
    "postrotate",
    "prerotate",
    "firstaction",
    "lastaction",
    "preremove",
];

/// Extracts the facts of a logrotate file.
pub fn extract(path: &str, text: &str, models: &Models) -> FileFacts {
    let mut facts = FileFacts::new(path, ScopeKind::Module);
    let lines: Vec<&str> = text.split('\n').collect();
    let mut defaults = Settings::default();
    let mut index = 0;
    while index < lines.len() {
        let line = line_of(index);
        let trimmed = lines[index].trim();
        index += 1;
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let brace_next = lines.get(index).is_some_and(|next| next.trim() == "{");
        let head = match trimmed.strip_suffix('{') {
            Some(head) => Some(head),
            None if brace_next && looks_like_paths(trimmed) => {
                index += 1;
                Some(trimmed)
            }
            None => None,
        };
        if let Some(head) = head {
            let paths = common::split_values(head.trim());
            index = stanza(&mut facts, &lines, index, &paths, line, &defaults, models);
            continue;
        }
        if trimmed == "}" {
            continue;
        }
        let (directive, argument) = split_directive(trimmed);
        if SCRIPTS.contains(&directive) {
            index = skip_script(&lines, index);
            continue;
        }
        defaults.apply(directive, argument);
    }
    facts
}

/// A stanza header on its own line: paths, not a directive.
fn looks_like_paths(line: &str) -> bool {
    line.starts_with(['/', '"', '\'', '~', '$']) || common::has_glob(line)
}

fn split_directive(line: &str) -> (&str, &str) {
    match line.split_once(char::is_whitespace) {
        Some((d, a)) => (d, a.trim()),
        None => (line, ""),
    }
}

/// Lines up to and including `endscript`.
fn skip_script(lines: &[&str], mut index: usize) -> usize {
    while index < lines.len() {
        let done = lines[index].trim() == "endscript";
        index += 1;
        if done {
            break;
        }
    }
    index
}

/// Reads one stanza from the line after its `{`; returns the index after its `}`.
fn stanza(
    facts: &mut FileFacts,
    lines: &[&str],
    mut index: usize,
    paths: &[String],
    line: u32,
    defaults: &Settings,
    models: &Models,
) -> usize {
    let scope = push_scope(
        facts,
        0,
        ScopeKind::Function,
        format!("logrotate {}", paths.join(" ")),
        line,
    );
    let mut settings = defaults.clone();
    let mut closed = false;
    while index < lines.len() {
        let trimmed = lines[index].trim();
        index += 1;
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed == "}" {
            closed = true;
            break;
        }
        let (directive, argument) = split_directive(trimmed);
        if SCRIPTS.contains(&directive) {
            let start = index;
            index = skip_script(lines, index);
            let end = if lines
                .get(index.saturating_sub(1))
                .is_some_and(|l| l.trim() == "endscript")
            {
                index - 1
            } else {
                index
            };
            let body = lines.get(start..end).unwrap_or_default().join("\n");
            common::shell(facts, scope, &body, line_of(start), None, models);
            continue;
        }
        settings.apply(directive, argument);
    }
    if !closed {
        facts.warnings.push(ExtractWarning {
            line,
            message: "logrotate stanza is not closed with `}`; read to the end of the file"
                .to_string(),
        });
    }
    for path in paths {
        rotation(facts, scope, path, line, &settings);
    }
    index
}

/// What rotating one log path does.
fn rotation(facts: &mut FileFacts, scope: ScopeId, path: &str, line: u32, settings: &Settings) {
    let log = common::path_expr(path);
    if settings.copytruncate {
        path_access(
            facts,
            scope,
            log.clone(),
            Mode::Read,
            Reach::Exact,
            line,
            "logrotate copytruncate",
        );
        path_access(
            facts,
            scope,
            log.clone(),
            Mode::Create,
            Reach::Exact,
            line,
            "logrotate copytruncate",
        );
    } else {
        path_access(
            facts,
            scope,
            log.clone(),
            Mode::MoveFrom,
            Reach::Exact,
            line,
            "logrotate",
        );
        if settings.create {
            path_access(
                facts,
                scope,
                log,
                Mode::Create,
                Reach::Exact,
                line,
                "logrotate create",
            );
        }
    }
    let rotated = rotated_names(path, settings);
    path_access(
        facts,
        scope,
        rotated.clone(),
        Mode::MoveTo,
        Reach::Exact,
        line,
        "logrotate",
    );
    facts.accesses.push(RawAccess {
        resource: RawResource::Path(PathTarget {
            expr: rotated,
            reach: Reach::Exact,
            retention: settings.retention(),
        }),
        mode: Mode::Delete,
        line,
        scope,
        via: "logrotate rotate".to_string().into(),
    });
}

/// The names rotated copies of `path` get: `LOG.N[.gz]`, `LOG-DATE[.gz]`, under `olddir`.
fn rotated_names(path: &str, settings: &Settings) -> Expr {
    let suffix = if settings.dateext { "-*" } else { ".*" };
    let (dir, base) = match path.rsplit_once('/') {
        Some((dir, base)) => (dir, base),
        None => ("", path),
    };
    let name = format!("{base}{suffix}");
    match &settings.olddir {
        Some(old) if old.starts_with('/') => {
            Expr::glob(format!("{}/{name}", old.trim_end_matches('/')))
        }
        Some(old) => Expr::glob(format!("{dir}/{}/{name}", old.trim_end_matches('/'))),
        None => Expr::glob(format!("{dir}/{name}")),
    }
}

#[cfg(test)]
mod tests;
