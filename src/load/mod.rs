//! Load: repositories, revisions, working trees and diffs -> a [`Workspace`] of file contents.
//!
//! Input: the `check` request (the changed repository and how its change is given, the context
//! directories). Output: for the changed repository, its files at base and at head and the paths
//! that differ; for each context repository, its working tree.
//!
//! This is the only stage that touches the disk or git. Invariants: every path is relative to its
//! repository and uses `/`; nothing outside the given directories is read (symlinks are not
//! followed); binary, vendored and oversized files are skipped and counted, not read; every file
//! carries a content key (its git blob id) so later stages can cache by content.

pub mod diff;
mod git;
mod lines;
mod worktree;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use git::open_repo;

/// Files larger than this are not analysed (generated data, bundles, dumps).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Directory names whose contents are third-party code, not the repository's own.
pub const VENDORED_DIRS: &[&str] = &[
    "node_modules",
    "vendor",
    "third_party",
    "third-party",
    ".venv",
    "venv",
    "site-packages",
    "__pycache__",
    ".tox",
    ".git",
    "target",
    ".mypy_cache",
];

/// Why loading failed. Each displays as one line naming the problem.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: not a git repository ({reason})")]
    NotARepo { path: String, reason: String },
    #[error("{path}: no such directory")]
    NoSuchDir { path: String },
    #[error("unknown revision `{rev}` in {repo}{hint}")]
    UnknownRevision {
        rev: String,
        repo: String,
        hint: String,
    },
    #[error("{repo}: cannot read {what}: {reason}")]
    Git {
        repo: String,
        what: String,
        reason: String,
    },
    #[error("cannot read {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("diff {source_name}: {reason}")]
    BadDiff { source_name: String, reason: String },
}

/// One file's bytes with a content key (the git blob id of the bytes).
#[derive(Clone, Debug)]
pub struct FileContent {
    pub key: String,
    pub bytes: Arc<[u8]>,
}

impl FileContent {
    pub fn new(bytes: Vec<u8>) -> FileContent {
        let key = git2::Oid::hash_object(git2::ObjectType::Blob, &bytes)
            .map(|oid| oid.to_string())
            .unwrap_or_default();
        FileContent {
            key,
            bytes: bytes.into(),
        }
    }

    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes)
    }

    /// The 1-based line of the text, without its newline, for excerpts in reports.
    pub fn line(&self, line: u32) -> Option<String> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        self.text().lines().nth(index).map(str::to_string)
    }
}

/// The files of one repository at one point in time.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub files: BTreeMap<String, FileContent>,
    /// Paths that exist but were not loaded (skipped, or not a format knockon reads), so a diff
    /// that touches them is recognised as irrelevant rather than as not applying.
    pub unread: BTreeSet<String>,
}

/// What was left out, so the report can say how much it did not read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SkipCounts {
    pub binary: usize,
    pub vendored: usize,
    pub oversized: usize,
    pub unreadable: usize,
}

impl SkipCounts {
    pub fn total(&self) -> usize {
        self.binary + self.vendored + self.oversized + self.unreadable
    }

    fn add(&mut self, other: SkipCounts) {
        self.binary += other.binary;
        self.vendored += other.vendored;
        self.oversized += other.oversized;
        self.unreadable += other.unreadable;
    }
}

/// The changed repository at base and head.
#[derive(Clone, Debug)]
pub struct ChangedRepo {
    pub name: String,
    pub root: PathBuf,
    pub base: Snapshot,
    pub head: Snapshot,
    /// Paths whose content differs between base and head (added, removed or modified).
    pub changed_paths: BTreeSet<String>,
    /// The lines of those paths that the change touched, on each side.
    pub changed_lines: crate::model::ChangedLines,
    /// How the change was given, for the report: `abc123..def456`, `abc123..working tree`, a diff.
    pub description: String,
}

/// A context repository's working tree.
#[derive(Clone, Debug)]
pub struct ContextRepo {
    pub name: String,
    pub root: PathBuf,
    pub snapshot: Snapshot,
}

/// Everything the analysis reads.
#[derive(Clone, Debug)]
pub struct Workspace {
    pub changed: ChangedRepo,
    pub context: Vec<ContextRepo>,
    pub skipped: SkipCounts,
}

/// How the change is given on the command line.
#[derive(Clone, Debug)]
pub enum ChangeSpec {
    /// `--base REV [--head REV]`; without head, the working tree.
    Revisions { base: String, head: Option<String> },
    /// `--diff FILE`: the diff's text and where it came from (`-` for stdin).
    Diff { text: String, source_name: String },
}

/// Which files to keep: the caller decides from the path and the bytes (the extractors'
/// language detection), so the loader stays ignorant of languages.
pub type Selector<'a> = &'a (dyn Fn(&str, &[u8]) -> bool + Sync);

/// Loads the changed repository at base and head and every context directory's working tree.
pub fn load_workspace(
    repo_dir: &Path,
    change: &ChangeSpec,
    context_dirs: &[PathBuf],
    select: Selector<'_>,
) -> Result<Workspace, LoadError> {
    let mut skipped = SkipCounts::default();
    let repo = open_repo(repo_dir)?;
    let name = repo_name(repo_dir);
    let root = repo
        .workdir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo_dir.to_path_buf());
    let (base, head, description) = match change {
        ChangeSpec::Revisions { base, head } => {
            let (base_snap, s1) = git::snapshot_at(&repo, &name, base, select)?;
            skipped.add(s1);
            let (head_snap, s2, head_name) = match head {
                Some(rev) => {
                    let (snap, s) = git::snapshot_at(&repo, &name, rev, select)?;
                    (snap, s, rev.clone())
                }
                None => {
                    let (snap, s) = worktree::snapshot(&root, select)?;
                    (snap, s, "working tree".to_string())
                }
            };
            skipped.add(s2);
            (base_snap, head_snap, format!("{base}..{head_name}"))
        }
        ChangeSpec::Diff { text, source_name } => {
            let (snap, s) = worktree::snapshot(&root, select)?;
            skipped.add(s);
            let (base, head, applied) = apply_diff(&snap, text, source_name, select)?;
            let state = if applied {
                "applied"
            } else {
                "not yet applied"
            };
            (base, head, format!("diff {source_name} ({state})"))
        }
    };
    let changed_paths = changed_paths(&base, &head);
    let changed_lines = lines::changed_lines(&name, &base, &head, &changed_paths);
    let (context, s) = load_directories(context_dirs, &[(name.clone(), root.clone())], select)?;
    skipped.add(s);
    Ok(Workspace {
        changed: ChangedRepo {
            name,
            root,
            base,
            head,
            changed_paths,
            changed_lines,
            description,
        },
        context,
        skipped,
    })
}

/// Loads the working trees of directories (any directory; git is not required), naming each by
/// its basename (`-2`, `-3`... when two share one). Directories that are one of `taken` (by
/// canonical path) are skipped; names in `taken` are not reused.
pub fn load_directories(
    dirs: &[PathBuf],
    taken: &[(String, PathBuf)],
    select: Selector<'_>,
) -> Result<(Vec<ContextRepo>, SkipCounts), LoadError> {
    let mut skipped = SkipCounts::default();
    let mut repos = Vec::new();
    let mut names: BTreeSet<String> = taken.iter().map(|(n, _)| n.clone()).collect();
    let mut seen: Vec<PathBuf> = taken
        .iter()
        .map(|(_, p)| p.canonicalize().unwrap_or_else(|_| p.clone()))
        .collect();
    for dir in dirs {
        if !dir.is_dir() {
            return Err(LoadError::NoSuchDir {
                path: dir.display().to_string(),
            });
        }
        let canonical = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if seen.contains(&canonical) {
            continue;
        }
        seen.push(canonical);
        let (snapshot, s) = worktree::snapshot(dir, select)?;
        skipped.add(s);
        let base_name = repo_name(dir);
        let mut name = base_name.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base_name}-{n}");
            n += 1;
        }
        names.insert(name.clone());
        repos.push(ContextRepo {
            name,
            root: dir.clone(),
            snapshot,
        });
    }
    Ok((repos, skipped))
}

/// A repository's name: its directory's basename.
pub fn repo_name(dir: &Path) -> String {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    canonical
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "repo".to_string())
}

fn changed_paths(base: &Snapshot, head: &Snapshot) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, content) in &base.files {
        match head.files.get(path) {
            Some(other) if other.key == content.key => {}
            _ => {
                out.insert(path.clone());
            }
        }
    }
    for path in head.files.keys() {
        if !base.files.contains_key(path) {
            out.insert(path.clone());
        }
    }
    out
}

/// Applies a diff to the working tree in whichever direction fits. Returns (base, head, applied).
fn apply_diff(
    worktree: &Snapshot,
    text: &str,
    source_name: &str,
    select: Selector<'_>,
) -> Result<(Snapshot, Snapshot, bool), LoadError> {
    let bad = |reason: String| LoadError::BadDiff {
        source_name: source_name.to_string(),
        reason,
    };
    let patches = diff::parse(text).map_err(|e| bad(e.to_string()))?;
    let forward = apply_all(worktree, &patches, false, select);
    let forward_error = match forward {
        Ok(head) => return Ok((worktree.clone(), head, false)),
        Err(e) => e,
    };
    match apply_all(worktree, &patches, true, select) {
        Ok(base) => Ok((base, worktree.clone(), true)),
        Err(_) => Err(bad(format!(
            "applies to the working tree in neither direction: {forward_error}"
        ))),
    }
}

fn apply_all(
    worktree: &Snapshot,
    patches: &[diff::FilePatch],
    reverse: bool,
    select: Selector<'_>,
) -> Result<Snapshot, String> {
    let mut out = worktree.clone();
    for patch in patches {
        let (from, to) = if reverse {
            (&patch.new_path, &patch.old_path)
        } else {
            (&patch.old_path, &patch.new_path)
        };
        let current = match from {
            Some(path) => match worktree.files.get(path) {
                Some(content) => Some(content.text().into_owned()),
                // A file the loader skipped (binary, vendored, not a format knockon reads) is
                // not part of the analysis; its patch is irrelevant.
                None if worktree.unread.contains(path) => continue,
                None => return Err(format!("{path} does not exist in the working tree")),
            },
            None => None,
        };
        if current.is_none()
            && let Some(path) = to
            && worktree.files.contains_key(path)
        {
            return Err(format!("{path} already exists in the working tree"));
        }
        let old_text = current.unwrap_or_default();
        let result = if reverse {
            patch.unapply(&old_text)
        } else {
            patch.apply(&old_text)
        }
        .map_err(|e| e.to_string())?;
        if let Some(path) = from {
            out.files.remove(path);
        }
        if let Some(path) = to
            && select(path, result.as_bytes())
        {
            out.files
                .insert(path.clone(), FileContent::new(result.into_bytes()));
        }
    }
    Ok(out)
}

/// Is this relative path inside a vendored directory?
pub fn is_vendored(path: &str) -> bool {
    path.split('/').any(|seg| VENDORED_DIRS.contains(&seg))
}

/// Does this content look binary (a NUL byte in its first 8 KiB)?
pub fn looks_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(8192).any(|b| *b == 0)
}
