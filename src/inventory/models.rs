//! `knockon models`: the API and command models, one row per model row of the files.
//!
//! The rows are read from the model files themselves (built-in, then `--rules` directories, the
//! same files and order the run loads), after the loader has validated them, so every language's
//! schema is listed the same way: the row's table (`function`, `method`, `command`, `key`...),
//! what it matches (its `name`, `path`, `names`, `modules` or `operators`), the modes it gives
//! and the kinds of resource they are on. A user's row with the same language, table and name
//! replaces the built-in one, as the loader does.

use super::suggest;
use crate::cli::ListFormat;
use crate::error::Error;
use crate::report::text::clean;
use crate::rules::models::BUILTIN_MODEL_FILES;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::PathBuf;

/// The languages model files are written for.
pub const LANGUAGES: &[&str] = &["python", "bash", "rust", "config"];

/// One model row.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ModelRow {
    pub language: String,
    /// The table the row is in: `function`, `method`, `command`, `redirect`, `key`...
    pub table: String,
    /// What the row matches: a call's name, a command's names, a config key...
    pub name: String,
    /// The modes the row can give, sorted.
    pub modes: Vec<String>,
    /// What its accesses are on: path, env, secret, queue, and the behaviours it models
    /// (trigger, send, codec, sleep).
    pub effects: Vec<String>,
    /// `file:line` of the row.
    pub source: String,
}

/// Every model row of the built-in files and the `--rules` directories, for one language or all.
pub fn list(rules_dirs: &[PathBuf], language: Option<&str>) -> Result<Vec<ModelRow>, Error> {
    if let Some(language) = language
        && !LANGUAGES.contains(&language)
    {
        let hint = suggest::closest(language, LANGUAGES.iter().copied())
            .map(|c| format!(" (did you mean `{c}`?)"))
            .unwrap_or_default();
        return Err(Error::Usage(format!(
            "unknown language `{language}`{hint}; models are written for python, bash, rust and config"
        )));
    }
    // Validates every file first: a broken user file is reported as `check` reports it.
    crate::app::load_rules(rules_dirs)?;
    let mut files: Vec<(String, String)> = BUILTIN_MODEL_FILES
        .iter()
        .map(|(name, text)| (name.to_string(), text.to_string()))
        .collect();
    for dir in rules_dirs {
        let mut found = Vec::new();
        crate::app::collect_toml(dir, &mut found);
        found.sort();
        for path in found {
            // Read and parsed without error a moment ago by `load_rules`.
            if let Ok(text) = std::fs::read_to_string(&path) {
                files.push((path.display().to_string(), text));
            }
        }
    }
    let mut rows: BTreeMap<(String, String, String), ModelRow> = BTreeMap::new();
    let mut order: Vec<(String, String, String)> = Vec::new();
    for (name, text) in &files {
        for row in rows_of(name, text) {
            if language.is_some_and(|l| l != row.language) {
                continue;
            }
            let key = (row.language.clone(), row.table.clone(), row.name.clone());
            if rows.insert(key.clone(), row).is_none() {
                order.push(key);
            }
        }
    }
    Ok(order.into_iter().filter_map(|k| rows.remove(&k)).collect())
}

/// The rows of one model file (a rule file or a file of another shape gives none).
pub fn rows_of(file: &str, text: &str) -> Vec<ModelRow> {
    let Ok(table) = toml::from_str::<toml::Table>(text) else {
        return Vec::new();
    };
    let Some(language) = table.get("language").and_then(toml::Value::as_str) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value) in &table {
        let Some(items) = value.as_array() else {
            continue;
        };
        let mut lines = header_lines(text, key).into_iter();
        for item in items {
            let Some(row) = item.as_table() else {
                continue;
            };
            let line = lines.next().unwrap_or(1);
            let mut modes = BTreeSet::new();
            let mut effects = BTreeSet::new();
            collect(key, item, &mut modes, &mut effects);
            if effects.is_empty() && !modes.is_empty() {
                effects.insert("path".to_string());
            }
            // Rows that model a behaviour rather than an access say which (`kind = "find"`).
            if effects.is_empty()
                && let Some(kind) = row.get("kind").and_then(toml::Value::as_str)
            {
                effects.insert(kind.to_string());
            }
            out.push(ModelRow {
                language: language.to_string(),
                table: key.clone(),
                name: name_of(row),
                modes: modes.into_iter().collect(),
                effects: effects.into_iter().collect(),
                source: format!("{file}:{line}"),
            });
        }
    }
    out.sort_by_key(|r| line_number(&r.source));
    out
}

fn line_number(source: &str) -> u32 {
    source
        .rsplit(':')
        .next()
        .and_then(|l| l.parse().ok())
        .unwrap_or(0)
}

/// Lines of the `[[key]]` headers, in order.
fn header_lines(text: &str, key: &str) -> Vec<u32> {
    let header = format!("[[{key}]]");
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == header)
        .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX))
        .collect()
}

/// What a row matches, from the first key of these it has.
fn name_of(row: &toml::Table) -> String {
    for key in [
        "name",
        "path",
        "names",
        "modules",
        "operators",
        "method",
        "macro",
        "attribute",
    ] {
        match row.get(key) {
            Some(toml::Value::String(s)) => return s.clone(),
            Some(toml::Value::Array(items)) => {
                let names: Vec<&str> = items.iter().filter_map(toml::Value::as_str).collect();
                if !names.is_empty() {
                    return names.join(", ");
                }
            }
            _ => {}
        }
    }
    row.iter()
        .find_map(|(_, v)| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "-".to_string())
}

/// Every `mode` under `value`, and the resource kinds and behaviours its keys name.
fn collect(
    key: &str,
    value: &toml::Value,
    modes: &mut BTreeSet<String>,
    effects: &mut BTreeSet<String>,
) {
    match key {
        "env" | "env_reads" | "env_macro" | "env_struct" | "env_attribute" | "environ"
        | "settings" => {
            effects.insert("env".into());
        }
        "secret" | "secrets" => {
            effects.insert("secret".into());
        }
        "queue" | "queues" | "queue_name" => {
            effects.insert("queue".into());
        }
        "access" | "args" | "operands" | "paths" | "flag_values" | "receiver" | "redirect" => {
            effects.insert("path".into());
        }
        "trigger" | "signal_handler" | "route" | "route_attribute" | "watch" | "timer"
        | "schedule" => {
            effects.insert("trigger".into());
        }
        "send" | "signal_send" | "signal_command" | "http" => {
            effects.insert("send".into());
        }
        "codec" | "sleep" => {
            effects.insert(key.to_string());
        }
        _ => {}
    }
    match value {
        toml::Value::Table(table) => {
            for (k, v) in table {
                if k == "mode"
                    && let Some(mode) = v.as_str()
                {
                    modes.insert(mode.to_string());
                } else {
                    collect(k, v, modes, effects);
                }
            }
        }
        toml::Value::Array(items) => {
            for item in items {
                collect(key, item, modes, effects);
            }
        }
        _ => {}
    }
}

/// The rows as a table (text) or the versioned JSON document.
pub fn render(rows: &[ModelRow], format: ListFormat) -> String {
    match format {
        ListFormat::Json => {
            let mut text = serde_json::to_string_pretty(&serde_json::json!({
                "version": 1,
                "models": rows,
            }))
            .unwrap_or_default();
            text.push('\n');
            text
        }
        ListFormat::Text => {
            let width = |f: &dyn Fn(&ModelRow) -> usize, min: usize| {
                rows.iter().map(f).max().unwrap_or(min).clamp(min, 40)
            };
            let table_w = width(&|r| r.table.chars().count(), 5);
            let name_w = width(&|r| r.name.chars().count(), 4);
            let mut out = String::new();
            let _ = writeln!(
                out,
                "{:8}  {:table_w$}  {:name_w$}  {:22}  MODES",
                "LANGUAGE", "TABLE", "NAME", "ON"
            );
            for r in rows {
                let name = crate::report::truncate(&r.name, name_w);
                let _ = writeln!(
                    out,
                    "{:8}  {:table_w$}  {:name_w$}  {:22}  {}",
                    r.language,
                    clean(&r.table),
                    clean(&name),
                    r.effects.join(", "),
                    if r.modes.is_empty() {
                        "-".to_string()
                    } else {
                        r.modes.join(", ")
                    }
                );
            }
            let mut per_language: BTreeMap<&str, usize> = BTreeMap::new();
            for r in rows {
                *per_language.entry(&r.language).or_default() += 1;
            }
            let counts: Vec<String> = per_language
                .iter()
                .map(|(l, n)| format!("{n} {l}"))
                .collect();
            let _ = writeln!(
                out,
                "\n{} models ({}). Each row is in its file at the line shown by --format json.",
                rows.len(),
                counts.join(", ")
            );
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_name_their_table_modes_and_line() {
        let text = "schema = 1\nlanguage = \"python\"\n\n[[function]]\nname = \"open\"\naccess = [{ arg = 0, mode = \"read\" }]\n\n[[method]]\nname = \"boto3.sqs.send_message\"\nqueue = [{ mode = \"publish\", name = { keyword = \"QueueUrl\" } }]\n";
        let rows = rows_of("m.toml", text);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].table, "function");
        assert_eq!(rows[0].name, "open");
        assert_eq!(rows[0].modes, vec!["read"]);
        assert_eq!(rows[0].effects, vec!["path"]);
        assert_eq!(rows[0].source, "m.toml:4");
        assert_eq!(rows[1].effects, vec!["queue"]);
        assert_eq!(rows[1].modes, vec!["publish"]);
        assert_eq!(rows[1].source, "m.toml:8");
    }

    #[test]
    fn every_builtin_file_gives_rows_with_names() {
        let rows = list(&[], None).unwrap();
        for language in LANGUAGES {
            assert!(
                rows.iter().filter(|r| r.language == *language).count() > 5,
                "{language}"
            );
        }
        assert!(
            rows.iter().all(|r| r.name != "-"),
            "{:?}",
            rows.iter().find(|r| r.name == "-")
        );
        let rm = rows
            .iter()
            .find(|r| r.language == "bash" && r.name == "rm")
            .unwrap();
        assert_eq!(rm.modes, vec!["delete"]);
        let e = list(&[], Some("pyhton")).unwrap_err().to_string();
        assert!(e.contains("did you mean `python`?"), "{e}");
    }
}
