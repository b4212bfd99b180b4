//! Build: repository directories -> [`RepoEntry`]s to store; and, for a check, the probes of
//! a change and the indexed repositories they select, as the pipeline's [`RepoFacts`].

use super::keys::{self, Key, KeyKind};
use super::select::{self, Selection};
use super::{Index, IndexError, IndexedFile, RepoEntry};
use crate::extract::{self, FileFacts, Language};
use crate::load::{self, SkipCounts};
use crate::resolve::{self, RepoFacts};
use crate::rules::models::Models;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The version written into every entry.
pub const KNOCKON_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Reads, extracts and resolves the directories (together, as a check would with all of them
/// as context) and returns one entry per repository, named as a check names them.
pub fn index_directories(
    dirs: &[PathBuf],
    models: &Models,
) -> Result<Vec<RepoEntry>, crate::error::Error> {
    let select = |path: &str, bytes: &[u8]| Language::detect(path, bytes).is_some();
    let mut loaded = Vec::new();
    let mut taken: Vec<(String, PathBuf)> = Vec::new();
    for dir in dirs {
        let (mut repos, skipped) = load::load_directories(
            std::slice::from_ref(dir),
            &taken,
            &select,
            &mut load::Forgetful,
        )?;
        if let Some(repo) = repos.pop() {
            taken.push((repo.name.clone(), repo.root.clone()));
            loaded.push((repo, skipped));
        }
    }
    let fingerprint = crate::store::codec::fingerprint(models);
    let extracted: Vec<Vec<IndexedFile>> = loaded
        .iter()
        .map(|(repo, _)| {
            repo.snapshot
                .files
                .par_iter()
                .filter_map(|(path, content)| {
                    let language = Language::detect(path, &content.bytes)?;
                    let facts = extract::extract_as(language, path, &content.bytes, models);
                    let text = content.text();
                    let all: Vec<&str> = text.lines().collect();
                    let lines = quoted_lines(&facts)
                        .into_iter()
                        .filter_map(|n| {
                            let index = usize::try_from(n).ok()?.checked_sub(1)?;
                            Some((n, all.get(index)?.to_string()))
                        })
                        .collect();
                    Some(IndexedFile {
                        path: path.clone(),
                        blob: content.key.clone(),
                        generic: language
                            == Language::Config(extract::formats::ConfigFormat::Generic),
                        facts: Arc::new(facts),
                        lines,
                    })
                })
                .collect()
        })
        .collect();
    let world: Vec<RepoFacts> = loaded
        .iter()
        .zip(&extracted)
        .map(|((repo, _), files)| RepoFacts {
            name: repo.name.clone(),
            files: files
                .iter()
                .map(|f| (f.path.clone(), Arc::clone(&f.facts)))
                .collect(),
        })
        .collect();
    let joint = resolve::resolve(&world, &BTreeMap::new());
    let tails = resolve::run_tails(&world);
    let mut out = Vec::new();
    for (index, (((repo, skipped), files), facts)) in
        loaded.iter().zip(extracted).zip(&world).enumerate()
    {
        // Keys from the repository alone (what a publish of it alone computes) and from the
        // directories together (which may resolve a path through another one's settings).
        let alone = resolve::resolve(std::slice::from_ref(facts), &BTreeMap::new());
        let repo_tails: Vec<String> = tails
            .iter()
            .filter(|(r, _)| *r == index)
            .map(|(_, t)| t.clone())
            .collect();
        let mut keys = keys::repo_keys(&alone, &repo.name, &facts.files, &repo_tails);
        keys.extend(keys::repo_keys(
            &joint,
            &repo.name,
            &facts.files,
            &repo_tails,
        ));
        let (commit, commit_time) = head_commit(&repo.root);
        out.push(RepoEntry {
            name: repo.name.clone(),
            commit,
            commit_time,
            knockon_version: KNOCKON_VERSION.to_string(),
            models: fingerprint.clone(),
            skipped: *skipped,
            files,
            keys,
        });
    }
    Ok(out)
}

/// The commit at `HEAD` of the directory's repository and its time; empty and 0 for a
/// directory that is not one.
fn head_commit(dir: &Path) -> (String, i64) {
    let Ok(repo) = git2::Repository::open(dir) else {
        return (String::new(), 0);
    };
    match repo.head().ok().and_then(|h| h.peel_to_commit().ok()) {
        Some(commit) => (commit.id().to_string(), commit.time().seconds()),
        None => (String::new(), 0),
    }
}

/// Every line a fact of the file names, and the line above each (where a suppression comment
/// may stand): the lines a report can quote or read from an indexed repository.
pub fn quoted_lines(facts: &FileFacts) -> BTreeSet<u32> {
    fn walk(value: &serde_json::Value, in_line: bool, out: &mut BTreeSet<u32>) {
        match value {
            serde_json::Value::Number(n) if in_line => {
                if let Some(n) = n.as_u64().and_then(|n| u32::try_from(n).ok()) {
                    out.insert(n);
                    if n > 1 {
                        out.insert(n - 1);
                    }
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    walk(item, in_line, out);
                }
            }
            serde_json::Value::Object(map) => {
                for (key, item) in map {
                    walk(item, key.contains("line"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    if let Ok(value) = serde_json::to_value(facts) {
        walk(&value, false, &mut out);
    }
    out.insert(1);
    out
}

/// What a check takes from the index.
#[derive(Default)]
pub struct Indexed {
    pub repos: Vec<RepoFacts>,
    /// (repository, path) -> the stored lines.
    pub lines: BTreeMap<(String, String), BTreeMap<u32, String>>,
    pub skipped: SkipCounts,
    /// Repositories indexed with other models than this run's: their facts may differ from
    /// what this run would extract.
    pub stale: Vec<String>,
    pub selection: Selection,
    /// An index was given.
    pub used: bool,
}

impl Indexed {
    /// The report's account of the index's use; `None` when no index was given.
    pub fn stats(&self) -> Option<crate::report::IndexStats> {
        self.used.then(|| crate::report::IndexStats {
            repositories: self.repos.iter().map(|r| r.name.clone()).collect(),
            rows_read: self.selection.rows_read,
            selection_rounds: self.selection.rounds,
        })
    }
}

/// What the check has read itself, from which the probes are made.
pub struct CheckSide<'a> {
    pub changed: &'a str,
    /// The changed repository at base and head, resolved with the context.
    pub worlds: [&'a resolve::Resolved; 2],
    pub changed_files: [&'a BTreeMap<String, Arc<FileFacts>>; 2],
    /// Paths whose content differs between base and head.
    pub changed_paths: &'a BTreeSet<String>,
    pub context: &'a [RepoFacts],
}

/// The probes of a change: the keys of what it touches in the changed repository (at base and
/// head), and the program keys of the changed and the context repositories (what launches them,
/// what they launch).
pub fn probes(side: &CheckSide<'_>) -> BTreeSet<Key> {
    let [base, head] = side.worlds;
    let mut keys = keys::change_keys(base, head, side.changed, side.changed_paths);
    let empty = resolve::Resolved::default();
    for files in side.changed_files {
        let repo = RepoFacts {
            name: side.changed.to_string(),
            files: files.clone(),
        };
        let tails: Vec<String> = resolve::run_tails(std::slice::from_ref(&repo))
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        keys.extend(
            keys::repo_keys(&empty, side.changed, files, &tails)
                .into_iter()
                .filter(|k| matches!(k.kind, KeyKind::File | KeyKind::Run)),
        );
    }
    let tails = resolve::run_tails(side.context);
    for (index, repo) in side.context.iter().enumerate() {
        let repo_tails: Vec<String> = tails
            .iter()
            .filter(|(r, _)| *r == index)
            .map(|(_, t)| t.clone())
            .collect();
        let empty = resolve::Resolved::default();
        keys.extend(
            keys::repo_keys(&empty, &repo.name, &repo.files, &repo_tails)
                .into_iter()
                .filter(|k| matches!(k.kind, KeyKind::File | KeyKind::Run)),
        );
    }
    keys::probes_of(&keys)
}

/// Selects the indexed repositories the change can involve and turns them into the
/// pipeline's input; `keep` says which files a check of this configuration reads.
pub fn from_index(
    index: &mut Index,
    side: &CheckSide<'_>,
    models: &Models,
    keep: &dyn Fn(&str, bool) -> bool,
) -> Result<Indexed, IndexError> {
    let probes = probes(side);
    let mut excluded: BTreeSet<String> = side.context.iter().map(|r| r.name.clone()).collect();
    excluded.insert(side.changed.to_string());
    let selection = index.read(|reader| select::select(reader, &probes, &excluded))?;
    Ok(indexed_of(selection, models, keep))
}

/// Every indexed repository but the `excluded` names (the directories an audit reads itself:
/// a checkout wins), as the pipeline's input; `keep` as for [`from_index`].
pub fn whole_index(
    index: &mut Index,
    excluded: &BTreeSet<String>,
    models: &Models,
    keep: &dyn Fn(&str, bool) -> bool,
) -> Result<Indexed, IndexError> {
    let selection = index.read(|reader| select::select_all(reader, excluded))?;
    Ok(indexed_of(selection, models, keep))
}

/// The selected entries as [`RepoFacts`] with their stored lines, skip counts and staleness.
fn indexed_of(selection: Selection, models: &Models, keep: &dyn Fn(&str, bool) -> bool) -> Indexed {
    let fingerprint = crate::store::codec::fingerprint(models);
    let mut out = Indexed {
        used: true,
        ..Indexed::default()
    };
    for entry in &selection.repos {
        if entry.models != fingerprint {
            out.stale.push(entry.name.clone());
        }
        let mut files = BTreeMap::new();
        for file in &entry.files {
            if !keep(&file.path, file.generic) {
                continue;
            }
            files.insert(file.path.clone(), Arc::clone(&file.facts));
            out.lines
                .insert((entry.name.clone(), file.path.clone()), file.lines.clone());
        }
        out.skipped.binary += entry.skipped.binary;
        out.skipped.vendored += entry.skipped.vendored;
        out.skipped.oversized += entry.skipped.oversized;
        out.skipped.unreadable += entry.skipped.unreadable;
        out.repos.push(RepoFacts {
            name: entry.name.clone(),
            files,
        });
    }
    out.selection = Selection {
        repos: Vec::new(),
        ..selection
    };
    out
}
