//! Models for configuration formats: the schema of `rules/models/config.toml` rows and their
//! merged table.
//!
//! Three tables, all data so that a user's file can add to or override them:
//! - `[[key]]`: configuration keys whose values name files, and what the program configured
//!   does to them (`logpath` is read by fail2ban, `access_log` is appended to by nginx,
//!   `*_dir` is created). Names are exact (case-insensitive) or `*` globs; an exact name beats
//!   a glob, and a longer glob beats a shorter one. `files` limits a row to files whose path
//!   matches one of its globs.
//! - `[[ansible]]`: Ansible modules and which arguments are paths in which mode, with variants
//!   selected by an argument's value (`state: absent` deletes the tree), or a `kind` with a
//!   grammar of its own (`shell`, `cron`, `find`, `script`).
//! - `[generic]`: the calls through which other languages read environment variables
//!   (`getenv("`, `process.env.`), for the generic fallback.
//!
//! ```toml
//! [[key]]
//! names = ["logpath"]
//! mode = "read"
//!
//! [[ansible]]
//! modules = ["file", "ansible.builtin.file"]
//! paths = [{ keys = ["path", "dest", "name"], mode = "check" }]
//! when = [{ key = "state", values = ["absent"], paths = [{ keys = ["path", "dest", "name"], mode = "delete", reach = "tree" }] }]
//! ```
//!
//! Rows are parsed with unknown keys rejected, so a typo is an error with file and line.

use crate::model::Mode;
use crate::rules::RulesError;
use crate::rules::models::bash::ReachKind;
use serde::{Deserialize, Deserializer, de::Error as _};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

/// A mode name from a model file, checked against [`Mode::ALL`] where it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ModeName(Mode);

impl<'de> Deserialize<'de> for ModeName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Mode::parse(&text).map(ModeName).ok_or_else(|| {
            let known: Vec<&str> = Mode::ALL.iter().map(|m| m.as_str()).collect();
            D::Error::custom(format!(
                "unknown mode `{text}` (expected one of {})",
                known.join(", ")
            ))
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: u32,
    language: String,
    #[serde(default)]
    key: Vec<RawKey>,
    #[serde(default)]
    ansible: Vec<RawAnsible>,
    generic: Option<RawGeneric>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    names: Vec<String>,
    mode: ModeName,
    #[serde(default)]
    reach: ReachKind,
    #[serde(default)]
    files: Vec<String>,
    via: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnsible {
    modules: Vec<String>,
    #[serde(default)]
    kind: AnsibleKind,
    #[serde(default)]
    paths: Vec<RawArg>,
    #[serde(default)]
    when: Vec<RawWhen>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArg {
    keys: Vec<String>,
    mode: ModeName,
    #[serde(default)]
    reach: ReachKind,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    key: String,
    values: Vec<String>,
    paths: Vec<RawArg>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGeneric {
    #[serde(default)]
    env_readers: Vec<String>,
}

/// A configuration key whose value names files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyModel {
    /// Exact names (compared case-insensitively) or `*` globs.
    pub names: Vec<String>,
    pub mode: Mode,
    pub reach: ReachKind,
    /// `*` globs over the file's path; empty means every file.
    pub files: Vec<String>,
    /// How the access is explained; default `config KEY`.
    pub via: Option<String>,
}

/// How an Ansible module's task is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnsibleKind {
    /// Arguments that are paths, per [`AnsibleModule::paths`] and its `when` variants.
    #[default]
    Paths,
    /// A shell command (`cmd`, `argv` or the free-form text), run in `chdir`.
    Shell,
    /// A cron entry (`minute`..`weekday` or `special_time`, `job`, `user`).
    Cron,
    /// `find` (`paths`, `patterns`, `age`, `recurse`), whose results a later `file` task with
    /// `state: absent` may delete in a loop.
    Find,
    /// A local script copied and run on the host (`script: x.sh args`).
    Script,
}

/// One argument that is a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgRule {
    /// Argument names; the first present is the path.
    pub keys: Vec<String>,
    pub mode: Mode,
    pub reach: ReachKind,
}

/// A variant selected by an argument's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhenRule {
    pub key: String,
    pub values: Vec<String>,
    /// Replace the module's `paths` when the argument has one of `values`.
    pub paths: Vec<ArgRule>,
}

/// An Ansible module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnsibleModule {
    pub kind: AnsibleKind,
    pub paths: Vec<ArgRule>,
    pub when: Vec<WhenRule>,
}

impl AnsibleModule {
    /// The path arguments in effect for a task's arguments (`value_of` gives an argument's
    /// literal value).
    pub fn paths_for(&self, value_of: impl Fn(&str) -> Option<String>) -> &[ArgRule] {
        self.when
            .iter()
            .rev()
            .find(|w| value_of(&w.key).is_some_and(|v| w.values.contains(&v)))
            .map(|w| w.paths.as_slice())
            .unwrap_or(&self.paths)
    }
}

/// One `language = "config"` model file, validated.
#[derive(Clone, Debug, Default)]
pub struct ConfigModelFile {
    keys: Vec<KeyModel>,
    ansible: Vec<(Vec<String>, AnsibleModule)>,
    env_readers: Vec<String>,
}

impl ConfigModelFile {
    pub fn parse(name: &str, text: &str) -> Result<Self, RulesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| RulesError::toml(name, text, &e))?;
        let _ = (raw.schema, raw.language);
        let mut file = ConfigModelFile::default();
        for key in raw.key {
            if key.names.is_empty() {
                return Err(RulesError::at(
                    name,
                    crate::rules::line_of_key(text, "names"),
                    "a [[key]] row needs at least one name",
                ));
            }
            file.keys.push(KeyModel {
                names: key.names.iter().map(|n| n.to_ascii_lowercase()).collect(),
                mode: key.mode.0,
                reach: key.reach,
                files: key.files,
                via: key.via,
            });
        }
        let args = |raw: Vec<RawArg>| -> Vec<ArgRule> {
            raw.into_iter()
                .map(|a| ArgRule {
                    keys: a.keys,
                    mode: a.mode.0,
                    reach: a.reach,
                })
                .collect()
        };
        for row in raw.ansible {
            let module = AnsibleModule {
                kind: row.kind,
                paths: args(row.paths),
                when: row
                    .when
                    .into_iter()
                    .map(|w| WhenRule {
                        key: w.key,
                        values: w.values,
                        paths: args(w.paths),
                    })
                    .collect(),
            };
            file.ansible.push((row.modules, module));
        }
        file.env_readers = raw.generic.map(|g| g.env_readers).unwrap_or_default();
        Ok(file)
    }
}

/// The merged configuration models the format extractors read.
#[derive(Clone, Debug, Default)]
pub struct ConfigModels {
    keys: Vec<KeyModel>,
    ansible: BTreeMap<String, AnsibleModule>,
    env_readers: Vec<String>,
    /// Lookup tables over `keys`, rebuilt by every merge.
    index: KeyIndex,
}

/// Where [`ConfigModels::key`] finds the rows for a key without trying every row: the
/// extractors ask for every key of every configuration file, and a user's table may hold tens
/// of thousands of rows.
#[derive(Clone, Debug, Default)]
struct KeyIndex {
    /// Distinguishes this table from every other one (clones share it, having the same rows),
    /// for the per-file cache of which rows apply.
    generation: u64,
    /// Exact name -> the rows that have it, in row order.
    exact: HashMap<String, Vec<usize>>,
    /// `*tail` globs (one star, leading) by their tail -> (row, name length).
    suffixes: HashMap<String, Vec<(usize, usize)>>,
    longest_suffix: usize,
    /// `head*` globs (one star, trailing) by their head -> (row, name length).
    prefixes: HashMap<String, Vec<(usize, usize)>>,
    longest_prefix: usize,
    /// Every other glob: (row, index of the name in the row).
    other: Vec<(usize, usize)>,
    /// Rows limited to some files (`files`); the others apply to every file.
    scoped: Vec<usize>,
}

impl KeyIndex {
    fn build(keys: &[KeyModel]) -> KeyIndex {
        static GENERATION: AtomicU64 = AtomicU64::new(1);
        let mut index = KeyIndex {
            generation: GENERATION.fetch_add(1, Ordering::Relaxed),
            ..KeyIndex::default()
        };
        for (row, model) in keys.iter().enumerate() {
            if !model.files.is_empty() {
                index.scoped.push(row);
            }
            for (at, name) in model.names.iter().enumerate() {
                let stars = name.bytes().filter(|b| *b == b'*').count();
                if stars == 0 {
                    let rows = index.exact.entry(name.clone()).or_default();
                    if rows.last() != Some(&row) {
                        rows.push(row);
                    }
                } else if let Some(tail) = name.strip_prefix('*').filter(|_| stars == 1) {
                    index.longest_suffix = index.longest_suffix.max(tail.len());
                    let entry = index.suffixes.entry(tail.to_string()).or_default();
                    entry.push((row, name.len()));
                } else if let Some(head) = name.strip_suffix('*').filter(|_| stars == 1) {
                    index.longest_prefix = index.longest_prefix.max(head.len());
                    let entry = index.prefixes.entry(head.to_string()).or_default();
                    entry.push((row, name.len()));
                } else {
                    index.other.push((row, at));
                }
            }
        }
        index
    }
}

impl ConfigModels {
    /// Adds a file's rows; a row named like an existing one replaces it.
    pub fn merge(&mut self, file: ConfigModelFile) {
        // Rows of one file may share names (a row limited to some files, a general one);
        // only rows of earlier files are replaced.
        let incoming: std::collections::HashSet<&String> =
            file.keys.iter().flat_map(|k| &k.names).collect();
        self.keys
            .retain(|k| !k.names.iter().any(|n| incoming.contains(n)));
        self.keys.extend(file.keys);
        self.index = KeyIndex::build(&self.keys);
        for (names, module) in file.ansible {
            for name in names {
                self.ansible.insert(name, module.clone());
            }
        }
        let mut seen: std::collections::HashSet<String> =
            self.env_readers.iter().cloned().collect();
        for reader in file.env_readers {
            if seen.insert(reader.clone()) {
                self.env_readers.push(reader);
            }
        }
    }

    /// The row for a key in a file: an exact name first, then the longest matching glob (of
    /// equally long ones, the last row's).
    pub fn key(&self, path: &str, key: &str) -> Option<&KeyModel> {
        let key = key.to_ascii_lowercase();
        let row = self.with_excluded(path, |excluded| self.select(&key, excluded));
        row.and_then(|row| self.keys.get(row))
    }

    /// Calls `f` with the rows that do not apply to the file at `path`, sorted. Which rows
    /// apply is the same for every key of a file: it is remembered for the last file seen on
    /// this thread (the extractors ask key after key).
    fn with_excluded<T>(&self, path: &str, f: impl FnOnce(&[usize]) -> T) -> T {
        thread_local! {
            static EXCLUDED: std::cell::RefCell<(String, u64, Vec<usize>)> =
                const { std::cell::RefCell::new((String::new(), 0, Vec::new())) };
        }
        EXCLUDED.with(|cell| {
            let mut cache = cell.borrow_mut();
            if cache.0 != path || cache.1 != self.index.generation {
                cache.0 = path.to_string();
                cache.1 = self.index.generation;
                cache.2 = self
                    .index
                    .scoped
                    .iter()
                    .copied()
                    .filter(|row| {
                        self.keys
                            .get(*row)
                            .is_some_and(|m| !m.files.iter().any(|g| wildcard_match(g, path)))
                    })
                    .collect();
            }
            f(&cache.2)
        })
    }

    /// The row for a lower-case key, given the rows that do not apply.
    fn select(&self, key: &str, excluded: &[usize]) -> Option<usize> {
        let applies = |row: &usize| excluded.binary_search(row).is_err();
        let index = &self.index;
        if let Some(row) = index
            .exact
            .get(key)
            .and_then(|rows| rows.iter().copied().find(applies))
        {
            return Some(row);
        }
        // The longest matching glob; of equally long ones, the last row's.
        let mut best: Option<(usize, usize)> = None;
        let mut consider = |row: usize, len: usize| {
            if applies(&row) && best.is_none_or(|b| (len, row) > b) {
                best = Some((len, row));
            }
        };
        for n in 0..=index.longest_suffix.min(key.len()) {
            let Some(tail) = key.get(key.len() - n..) else {
                continue;
            };
            for (row, len) in index.suffixes.get(tail).into_iter().flatten() {
                consider(*row, *len);
            }
        }
        for n in 0..=index.longest_prefix.min(key.len()) {
            let Some(head) = key.get(..n) else {
                continue;
            };
            for (row, len) in index.prefixes.get(head).into_iter().flatten() {
                consider(*row, *len);
            }
        }
        for (row, at) in &index.other {
            if let Some(name) = self.keys.get(*row).and_then(|m| m.names.get(*at))
                && wildcard_match(name, key)
            {
                consider(*row, name.len());
            }
        }
        best.map(|(_, row)| row)
    }

    /// The model of an Ansible module, by its full name (`ansible.builtin.copy`) or short name.
    pub fn ansible(&self, module: &str) -> Option<&AnsibleModule> {
        self.ansible.get(module).or_else(|| {
            let short = module.rsplit('.').next()?;
            self.ansible.get(short)
        })
    }

    /// Whether a task key names a modelled Ansible module.
    pub fn is_ansible_module(&self, name: &str) -> bool {
        self.ansible(name).is_some()
    }

    /// The call prefixes after which a quoted environment variable name is read.
    pub fn env_readers(&self) -> &[String] {
        &self.env_readers
    }
}

/// `*` matches any run of characters (including `/`); everything else literally. Linear in
/// practice: patterns are short, and the match keeps one backtrack point.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    // Byte-wise: `*` is ASCII and literal runs are whole UTF-8 sequences, so comparing bytes
    // gives the same answer as comparing characters, without allocating (this runs for every
    // key of every configuration file).
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::models::Models;

    #[test]
    fn builtin_rows_resolve_exact_names_before_globs() {
        let models = Models::builtin().expect("built-in models load");
        let config = &models.config;
        let logpath = config
            .key("etc/fail2ban/jail.local", "logpath")
            .expect("logpath");
        assert_eq!(logpath.mode, Mode::Read);
        let access = config.key("nginx.conf", "access_log").expect("access_log");
        assert_eq!(access.mode, Mode::Append);
        let dir = config.key("app.ini", "upload_dir").expect("*_dir");
        assert_eq!(dir.mode, Mode::Create);
        assert!(config.key("app.ini", "timeout").is_none());
        let file = config.ansible("ansible.builtin.file").expect("file module");
        let absent = file.paths_for(|k| (k == "state").then(|| "absent".to_string()));
        assert_eq!(absent[0].mode, Mode::Delete);
        assert_eq!(absent[0].reach, ReachKind::Tree);
        assert_eq!(file.paths_for(|_| None)[0].mode, Mode::Check);
        assert!(config.env_readers().iter().any(|r| r == "process.env."));
    }

    #[test]
    fn user_rows_replace_builtin_rows_and_typos_are_errors() {
        let mut models = Models::builtin().expect("built-in models load");
        let user = "schema = 1\nlanguage = \"config\"\n[[key]]\nnames = [\"logpath\"]\nmode = \"unknown\"\n";
        models
            .load_file("mine.toml", user)
            .expect("user file loads");
        let row = models.config.key("jail.local", "logpath").expect("row");
        assert_eq!(row.mode, Mode::Unknown);
        let typo = "schema = 1\nlanguage = \"config\"\n[[key]]\nnames = [\"x\"]\nmode = \"reed\"\n";
        let error = models
            .load_file("bad.toml", typo)
            .expect_err("unknown mode");
        assert_eq!(error.line, 5, "{error}");
        let unknown_key = "schema = 1\nlanguage = \"config\"\n[[key]]\nnames = [\"x\"]\nmode = \"read\"\nmodes = 1\n";
        assert!(models.load_file("bad.toml", unknown_key).is_err());
    }

    /// The indexed lookup picks what trying every row in order picks: an exact name first
    /// (the first row that has it), else the longest matching glob (the last row of equally
    /// long ones), among the rows that apply to the file.
    #[test]
    fn indexed_key_lookup_agrees_with_trying_every_row() {
        let names = [
            "log",
            "*_log",
            "log_*",
            "*log*",
            "*",
            "*_dir",
            "data_*_dir",
            "x*y*z",
            "*_log_file",
            "log_file",
            "a*",
            "*a",
        ];
        let mut rows = String::from("schema = 1\nlanguage = \"config\"\n");
        for (i, name) in names.iter().enumerate() {
            let files = if i % 3 == 0 {
                "files = [\"*app*\"]\n"
            } else {
                ""
            };
            let mode = ["read", "write", "append", "delete"][i % 4];
            rows.push_str(&format!(
                "[[key]]\nnames = [\"{name}\", \"n{i}\"]\nmode = \"{mode}\"\nvia = \"row {i}\"\n{files}"
            ));
        }
        let mut models = ConfigModels::default();
        models.merge(ConfigModelFile::parse("t.toml", &rows).expect("rows parse"));
        let reference = |path: &str, key: &str| -> Option<usize> {
            let applies = |m: &KeyModel| {
                m.files.is_empty() || m.files.iter().any(|g| wildcard_match(g, path))
            };
            let rows = &models.keys;
            if let Some(i) = (0..rows.len()).find(|i| {
                applies(&rows[*i]) && rows[*i].names.iter().any(|n| !n.contains('*') && n == key)
            }) {
                return Some(i);
            }
            (0..rows.len())
                .filter(|i| applies(&rows[*i]))
                .filter_map(|i| {
                    rows[i]
                        .names
                        .iter()
                        .filter(|n| n.contains('*') && wildcard_match(n, key))
                        .map(|n| n.len())
                        .max()
                        .map(|len| (len, i))
                })
                .max_by_key(|(len, _)| *len)
                .map(|(_, i)| i)
        };
        let keys = [
            "log",
            "error_log",
            "log_dir",
            "data_x_dir",
            "xayaz",
            "a",
            "ba",
            "ab",
            "log_file",
            "my_log_file",
            "n3",
            "n0",
            "",
            "zzz",
            "é_log",
            "logé",
        ];
        for path in ["app.ini", "other.conf"] {
            for key in keys {
                let expected = reference(path, key).and_then(|i| models.keys[i].via.clone());
                let got = models.key(path, key).and_then(|m| m.via.clone());
                assert_eq!(got, expected, "{path}: {key}");
            }
        }
    }

    #[test]
    fn wildcards_match_without_backtracking_blowup() {
        assert!(wildcard_match("*_log", "error_log"));
        assert!(wildcard_match("*jail*", "etc/fail2ban/jail.d/x.conf"));
        assert!(!wildcard_match("*_log", "logfile"));
        let long = "a".repeat(5000);
        assert!(!wildcard_match("*a*a*a*a*b", &long));
    }
}
