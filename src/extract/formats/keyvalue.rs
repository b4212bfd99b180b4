//! INI, `key = value` and `key value;` configurations -> the files they point programs at.
//!
//! Input: `*.conf`, `*.ini`, `*.cfg`, `*.cnf`, `*.properties`, `*.toml`, fail2ban `jail.local` and
//! `jail.d/*`, nginx `sites-*/*`, rsyslog and dnsmasq configurations. Output: for each key the
//! `[[key]]` rows of `rules/models/config.toml` name (`logpath`, `access_log`, `*_dir`, ...),
//! one access per path in its value (values may list several, space- or comma-separated,
//! quoted, or continued on indented lines as fail2ban writes them; TOML arrays too), in the
//! mode the row gives, in a scope per `[section]` (a fail2ban jail, a fluent-bit input).
//! rsyslog's file actions (`*.info -/var/log/app.log`, `action(type="omfile" file=...)`,
//! `input(type="imfile" File=...)`) are appends and reads. Other values that look like
//! absolute paths are low-confidence `unknown` accesses (`via = "generic: config"`).
//!
//! Invariants: one pass over the lines; lines longer than [`MAX_LINE`] are skipped; a line
//! that is not understood is skipped without a warning (these files have many dialects).

use super::common::{self, line_of, path_access, push_scope};
use crate::expr::ScopeId;
use crate::extract::{FileFacts, Reach, ScopeKind};
use crate::model::Mode;
use crate::rules::models::Models;
use crate::rules::models::bash::ReachKind;

mod supervisor;

const MAX_LINE: usize = 4096;
/// Most low-confidence accesses per file.
const MAX_GENERIC: usize = 200;

/// Keys whose values are URL paths or addresses, not files (nginx).
const NOT_FILES: &[&str] = &[
    "location",
    "rewrite",
    "return",
    "try_files",
    "proxy_pass",
    "proxy_redirect",
    "error_page",
    "uwsgi_pass",
    "fastcgi_pass",
    "add_header",
    "server_name",
    "listen",
    "url",
    "uri",
    "endpoint",
    "prefix",
    "route",
];

/// Whether the path is a key-value configuration.
pub(crate) fn is_key_value_path(lower_name: &str, ext: Option<&str>, dirs: &[&str]) -> bool {
    const EXTENSIONS: &[&str] = &["conf", "ini", "cfg", "cnf", "properties", "toml", "local"];
    const NOT_CONFIG: &[&str] = &[
        "cargo.toml",
        "pyproject.toml",
        "rust-toolchain.toml",
        "setup.cfg",
    ];
    if NOT_CONFIG.contains(&lower_name) || lower_name.ends_with(".lock") {
        return false;
    }
    let parent = dirs.first().copied().unwrap_or("");
    if ext == Some("local") {
        return lower_name.starts_with("jail") || parent == "jail.d";
    }
    if ext.is_some_and(|e| EXTENSIONS.contains(&e)) {
        return true;
    }
    let config_dir = matches!(
        parent,
        "jail.d" | "sites-available" | "sites-enabled" | "conf.d" | "rsyslog.d" | "dnsmasq.d"
    );
    config_dir && ext.is_none() && !lower_name.starts_with('.')
}

/// State carried from line to line.
struct Reader<'a> {
    path: &'a str,
    models: &'a Models,
    scope: ScopeId,
    /// The key of the last `key = value` line, for indented continuation lines.
    continued: Option<String>,
    /// The key of an open TOML array (`paths = [` up to `]`).
    array: Option<String>,
    generic: usize,
    /// The open section, when it is one of supervisord's.
    supervisor: Option<supervisor::Section>,
}

/// Extracts the facts of a key-value configuration.
pub fn extract(path: &str, text: &str, models: &Models) -> FileFacts {
    let mut facts = FileFacts::new(path, ScopeKind::Module);
    let mut reader = Reader {
        path,
        models,
        scope: 0,
        continued: None,
        array: None,
        generic: 0,
        supervisor: None,
    };
    for (index, raw) in text.split('\n').enumerate() {
        if raw.len() > MAX_LINE {
            continue;
        }
        reader.line(&mut facts, raw, line_of(index));
    }
    if let Some(section) = reader.supervisor.take() {
        supervisor::finish(&mut facts, section, models);
    }
    facts
}

impl Reader<'_> {
    fn line(&mut self, facts: &mut FileFacts, raw: &str, line: u32) {
        let trimmed = raw.trim_start_matches('\u{feff}').trim();
        if trimmed.is_empty() || trimmed.starts_with(['#', ';']) || trimmed.starts_with("//") {
            return;
        }
        if let Some(key) = self.array.clone() {
            let (body, closed) = match trimmed.find(']') {
                Some(at) => (&trimmed[..at], true),
                None => (trimmed, false),
            };
            self.values(facts, &key, body, line);
            if closed {
                self.array = None;
            }
            return;
        }
        let indented = raw.starts_with([' ', '\t']);
        if indented
            && let Some(key) = self.continued.clone()
            && !trimmed.contains(['=', ':'])
            && trimmed.split_whitespace().count() == 1
        {
            self.values(facts, &key, trimmed, line);
            return;
        }
        self.continued = None;
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            let name = trimmed.trim_matches(['[', ']']).trim();
            self.scope = push_scope(facts, 0, ScopeKind::Function, format!("[{name}]"), line);
            if let Some(section) = self.supervisor.take() {
                supervisor::finish(facts, section, self.models);
            }
            self.supervisor = supervisor::section(name, self.scope);
            return;
        }
        if rsyslog(facts, self.scope, trimmed, line) {
            return;
        }
        let Some((key, value, equals)) = split_key_value(trimmed) else {
            return;
        };
        if equals
            && let Some(section) = self.supervisor.as_mut()
            && supervisor::entry(facts, section, key, value, line)
        {
            return;
        }
        let expanded = self
            .supervisor
            .as_ref()
            .and_then(|section| supervisor::expand_value(section, value));
        let value = expanded.as_deref().unwrap_or(value);
        let value = value.trim().trim_end_matches(';').trim();
        if value.starts_with('[') && !value.contains(']') {
            self.array = Some(key.to_string());
            self.values(facts, key, &value[1..], line);
            return;
        }
        let value = value.trim_start_matches('[').trim_end_matches(']');
        self.values(facts, key, value, line);
        if equals {
            self.continued = Some(key.to_string());
        }
    }

    /// The paths of one value of `key`.
    fn values(&mut self, facts: &mut FileFacts, key: &str, value: &str, line: u32) {
        let key_lower = key.to_ascii_lowercase();
        if NOT_FILES.contains(&key_lower.as_str()) {
            return;
        }
        let model = self.models.config.key(self.path, &key_lower);
        for token in common::split_values(value) {
            let token = token.trim_start_matches('-');
            if !common::looks_like_path(token) {
                continue;
            }
            let expr = common::path_expr(token);
            match model {
                Some(m) => {
                    let via = m.via.clone().unwrap_or_else(|| format!("config {key}"));
                    path_access(facts, self.scope, expr, m.mode, reach(m.reach), line, &via);
                }
                None if segments(token) >= 2 && self.generic < MAX_GENERIC => {
                    self.generic += 1;
                    path_access(
                        facts,
                        self.scope,
                        expr,
                        Mode::Unknown,
                        Reach::Exact,
                        line,
                        "generic: config",
                    );
                }
                None => {}
            }
        }
    }
}

pub(crate) fn reach(kind: ReachKind) -> Reach {
    match kind {
        ReachKind::Exact => Reach::Exact,
        ReachKind::Tree => Reach::Tree,
        ReachKind::Children => Reach::Children,
    }
}

fn segments(path: &str) -> usize {
    path.split('/').filter(|s| !s.is_empty()).count()
}

/// `key = value`, `key: value`, `key value`: the key, the value, and whether `=` separated
/// them (which allows indented continuation lines).
fn split_key_value(line: &str) -> Option<(&str, &str, bool)> {
    let key_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$')))
        .unwrap_or(line.len());
    let key = line[..key_end].trim_start_matches('$');
    if key.is_empty() {
        return None;
    }
    let rest = line[key_end..].trim_start();
    if let Some(value) = rest.strip_prefix('=') {
        return Some((key, value, true));
    }
    if let Some(value) = rest.strip_prefix(':') {
        return Some((key, value, false));
    }
    (key_end < line.len() && line[key_end..].starts_with([' ', '\t'])).then_some((key, rest, false))
}

/// rsyslog file actions; true when the line was one.
fn rsyslog(facts: &mut FileFacts, scope: ScopeId, line_text: &str, line: u32) -> bool {
    let lower = line_text.to_ascii_lowercase();
    if lower.starts_with("action(") || lower.starts_with("input(") || lower.contains(" action(") {
        let file = attribute(line_text, "file");
        if lower.contains("\"omfile\"")
            && let Some(file) = file
        {
            path_access(
                facts,
                scope,
                common::path_expr(&file),
                Mode::Append,
                Reach::Exact,
                line,
                "rsyslog omfile",
            );
        } else if lower.contains("\"imfile\"")
            && let Some(file) = file
        {
            path_access(
                facts,
                scope,
                common::path_expr(&file),
                Mode::Read,
                Reach::Exact,
                line,
                "rsyslog imfile",
            );
        }
        return true;
    }
    if let Some(file) = line_text.strip_prefix("$InputFileName") {
        path_access(
            facts,
            scope,
            common::path_expr(file.trim()),
            Mode::Read,
            Reach::Exact,
            line,
            "rsyslog imfile",
        );
        return true;
    }
    let mut words = line_text.split_whitespace();
    let (Some(selector), Some(target)) = (words.next(), words.next_back()) else {
        return false;
    };
    let is_selector = (selector.contains('.')
        && selector
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "*.,;=!".contains(c)))
        || selector.starts_with(':');
    let file = target.trim_start_matches('-');
    if is_selector && file.starts_with('/') && !lower.starts_with("include") {
        path_access(
            facts,
            scope,
            common::path_expr(file),
            Mode::Append,
            Reach::Exact,
            line,
            "rsyslog action",
        );
        return true;
    }
    false
}

/// `name="value"` (case-insensitive name) inside an rsyslog `action(...)`.
fn attribute(text: &str, name: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let mut search = 0;
    while let Some(found) = lower[search..].find(name) {
        let at = search + found;
        let before_ok = at == 0 || !lower.as_bytes()[at - 1].is_ascii_alphanumeric();
        let rest = lower[at + name.len()..].trim_start();
        if before_ok && let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let offset = text.len() - after.len();
            let value = &text[offset..];
            let quote = value.chars().next()?;
            if quote == '"' || quote == '\'' {
                let inner = &value[1..];
                let end = inner.find(quote)?;
                return Some(inner[..end].to_string());
            }
        }
        search = at + name.len();
    }
    None
}

#[cfg(test)]
mod tests;
