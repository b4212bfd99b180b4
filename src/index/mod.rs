//! Index: the extracted facts of whole repositories, stored so that a check can use
//! repositories it has not checked out.
//!
//! Input (`knockon index`): repository directories, read and extracted as a check reads its
//! context. Stored per repository: its name, commit, commit time, knockon version and models
//! fingerprint; per file, its codec-encoded [`FileFacts`] (repository-independent, so a check
//! re-resolves indexed repositories together with checked-out ones and finds exactly what it
//! would find with them checked out), whether it is a generic-format file, and the text of every
//! line a fact names and the line above it (what reports quote and suppressions are read from),
//! never the whole source; and the repository's query [`keys`].
//!
//! Output (`knockon check --index`): the indexed repositories a change can involve, selected by
//! keys ([`select`]) rather than read whole, as [`RepoFacts`] plus their stored lines.
//!
//! Two backends share one schema ([`schema`]): a SQLite file and PostgreSQL. Publishing one
//! repository is one transaction (under a per-repository lock in PostgreSQL), so readers never
//! see half a repository; a check reads in one snapshot.

pub mod build;
pub mod keys;
mod postgres;
pub mod schema;
pub mod select;
mod sqlite;

use crate::extract::FileFacts;
use crate::load::SkipCounts;
use keys::Key;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

/// Why the index could not be used. Each displays as one line naming the problem.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("index {target}: {reason}")]
    Open { target: String, reason: String },
    #[error("index {target}: {reason}")]
    Query { target: String, reason: String },
    #[error(
        "index {target}: schema version {found} is newer than this knockon knows ({known}); upgrade knockon"
    )]
    NewerSchema {
        target: String,
        found: i64,
        known: i64,
    },
    #[error(
        "index {target}: repository {repo}, file {path}: stored facts cannot be read ({reason}); re-index it"
    )]
    Corrupt {
        target: String,
        repo: String,
        path: String,
        reason: String,
    },
}

/// One file of an indexed repository.
#[derive(Clone, Debug)]
pub struct IndexedFile {
    pub path: String,
    /// The git blob id of the content the facts were extracted from.
    pub blob: String,
    /// Read by the generic fallback (a format knockon does not parse), which a check may turn
    /// off (`--no-generic`, `generic = false`).
    pub generic: bool,
    pub facts: Arc<FileFacts>,
    /// Line number -> text, for every line a report or a suppression can read.
    pub lines: BTreeMap<u32, String>,
}

/// Everything stored for one repository.
#[derive(Clone, Debug)]
pub struct RepoEntry {
    pub name: String,
    /// The commit indexed (`HEAD` of the directory's repository; empty for a plain directory).
    pub commit: String,
    /// The commit's time (seconds since the epoch): a newer commit replaces an older one.
    pub commit_time: i64,
    pub knockon_version: String,
    /// The fingerprint of the models the facts were extracted with.
    pub models: String,
    pub skipped: SkipCounts,
    pub files: Vec<IndexedFile>,
    pub keys: BTreeSet<Key>,
}

/// What publishing one repository did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    Added,
    /// An older commit (or another knockon/models version) was replaced.
    Replaced {
        previous: String,
    },
    /// The same commit with the same knockon and models is already there.
    Unchanged,
    /// The index holds a newer commit; nothing was written.
    Older {
        stored: String,
    },
}

/// How many rows each table holds and how many a check read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RowCounts {
    pub repos: u64,
    pub files: u64,
    pub keys: u64,
}

impl RowCounts {
    pub fn total(&self) -> u64 {
        self.repos + self.files + self.keys
    }
}

/// One row of the `keys` table, with its repository.
#[derive(Clone, Debug)]
pub struct KeyRow {
    pub repo_id: i64,
    pub repo: String,
    pub key: Key,
}

/// A read of the index inside one snapshot: what [`select`] asks of a backend.
pub trait Reader {
    /// The key rows that may match `probes` (a superset is allowed; the caller filters with
    /// [`Key::matches`]): equal keys, keys that are prefixes of a probe, and, for an inexact
    /// probe, keys that start with it.
    fn matching(&mut self, probes: &[Key]) -> Result<Vec<KeyRow>, IndexError>;
    /// Every `file` and `run` key of these repositories.
    fn program_keys(&mut self, repo_ids: &[i64]) -> Result<Vec<KeyRow>, IndexError>;
    /// The stored repositories, files and all.
    fn load(&mut self, repo_ids: &[i64]) -> Result<Vec<RepoEntry>, IndexError>;
    /// Every stored repository: (id, name). An audit reads the whole index.
    fn all_repos(&mut self) -> Result<Vec<(i64, String)>, IndexError>;
    /// Rows read so far.
    fn rows_read(&self) -> RowCounts;
}

/// An open index.
pub enum Index {
    File(sqlite::FileIndex),
    Postgres(postgres::PgIndex),
}

impl Index {
    /// Opens (creating when absent) an index: a `postgres://` or `postgresql://` URL, else a
    /// SQLite file. Migrations are applied first.
    pub fn open(target: &str) -> Result<Index, IndexError> {
        if is_postgres(target) {
            Ok(Index::Postgres(postgres::PgIndex::open(target)?))
        } else {
            Ok(Index::File(sqlite::FileIndex::open(Path::new(target))?))
        }
    }

    /// Adds or replaces one repository (see [`Published`]).
    pub fn publish(&mut self, entry: &RepoEntry) -> Result<Published, IndexError> {
        match self {
            Index::File(db) => db.publish(entry),
            Index::Postgres(db) => db.publish(entry),
        }
    }

    /// Runs `f` on a reader that sees one consistent snapshot of the index.
    pub fn read<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Reader) -> Result<T, IndexError>,
    ) -> Result<T, IndexError> {
        match self {
            Index::File(db) => db.read(f),
            Index::Postgres(db) => db.read(f),
        }
    }

    /// Rows in each table.
    pub fn counts(&mut self) -> Result<RowCounts, IndexError> {
        match self {
            Index::File(db) => db.counts(),
            Index::Postgres(db) => db.counts(),
        }
    }

    /// The repositories indexed: (name, commit), by name.
    pub fn repositories(&mut self) -> Result<Vec<(String, String)>, IndexError> {
        match self {
            Index::File(db) => db.repositories(),
            Index::Postgres(db) => db.repositories(),
        }
    }
}

/// Is this index target a PostgreSQL URL?
pub fn is_postgres(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

/// What to do with a repository already in the index (the same decision in both backends).
pub(crate) fn decide(
    stored: Option<(String, i64, String, String)>,
    entry: &RepoEntry,
) -> Option<Published> {
    let (commit, time, version, models) = stored?;
    if commit == entry.commit && version == entry.knockon_version && models == entry.models {
        return Some(Published::Unchanged);
    }
    if time > entry.commit_time {
        return Some(Published::Older { stored: commit });
    }
    None
}

/// The stored lines of a file, as text for a column.
pub(crate) fn lines_to_json(lines: &BTreeMap<u32, String>) -> String {
    serde_json::to_string(lines).unwrap_or_else(|_| "{}".to_string())
}

pub(crate) fn lines_from_json(text: &str) -> Result<BTreeMap<u32, String>, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_prefix(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Every prefix of every probe that a stored inexact key could be (one per character
/// boundary), with the probes themselves: the equality half of [`Reader::matching`].
pub(crate) fn probe_prefixes(probes: &[Key]) -> BTreeMap<keys::KeyKind, BTreeSet<String>> {
    let mut out: BTreeMap<keys::KeyKind, BTreeSet<String>> = BTreeMap::new();
    for probe in probes {
        let set = out.entry(probe.kind).or_default();
        set.insert(probe.key.clone());
        if probe.kind.by_prefix() {
            for (at, _) in probe.key.char_indices() {
                set.insert(probe.key[..at].to_string());
            }
        }
    }
    out
}

/// `knockon index DIR... --out FILE`: a new index file holding exactly these repositories.
/// Written beside FILE and renamed over it, so a reader never sees half an index.
pub fn write_file(
    out: &Path,
    dirs: &[std::path::PathBuf],
    models: &crate::rules::models::Models,
) -> Result<String, crate::error::Error> {
    let entries = build::index_directories(dirs, models)?;
    let partial = out.with_extension("partial");
    let fail = |reason: String| IndexError::Open {
        target: out.display().to_string(),
        reason,
    };
    if partial.exists() {
        std::fs::remove_file(&partial).map_err(|e| fail(e.to_string()))?;
    }
    {
        let mut index = Index::File(sqlite::FileIndex::open(&partial)?);
        for entry in &entries {
            index.publish(entry)?;
        }
    }
    std::fs::rename(&partial, out).map_err(|e| fail(e.to_string()))?;
    Ok(summary(
        &entries,
        &vec![Published::Added; entries.len()],
        &out.display().to_string(),
    ))
}

/// `knockon index DIR... --publish --index TARGET`: adds or replaces each repository.
pub fn publish(
    target: &str,
    dirs: &[std::path::PathBuf],
    models: &crate::rules::models::Models,
) -> Result<String, crate::error::Error> {
    let entries = build::index_directories(dirs, models)?;
    let mut index = Index::open(target)?;
    let mut results = Vec::new();
    for entry in &entries {
        results.push(index.publish(entry)?);
    }
    let shown = if is_postgres(target) {
        "the shared index".to_string()
    } else {
        target.to_string()
    };
    Ok(summary(&entries, &results, &shown))
}

/// One line per repository: what was stored where.
fn summary(entries: &[RepoEntry], results: &[Published], target: &str) -> String {
    let mut out = String::new();
    for (entry, result) in entries.iter().zip(results) {
        let commit = if entry.commit.is_empty() {
            "no commit".to_string()
        } else {
            entry.commit.chars().take(12).collect()
        };
        let what = match result {
            Published::Added => "added".to_string(),
            Published::Replaced { previous } => {
                format!("replaced {}", previous.chars().take(12).collect::<String>())
            }
            Published::Unchanged => "already indexed, unchanged".to_string(),
            Published::Older { stored } => format!(
                "not published: the index holds a newer commit ({})",
                stored.chars().take(12).collect::<String>()
            ),
        };
        out.push_str(&format!(
            "{} at {commit}: {} files, {} keys — {what} ({target})\n",
            crate::error::escape_controls(&entry.name),
            entry.files.len(),
            entry.keys.len(),
        ));
    }
    out
}
