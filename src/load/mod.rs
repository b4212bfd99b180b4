//! Load: repositories, revisions, working trees and diffs -> a [`Workspace`] of file contents.
//!
//! Input: the `check` request (the changed repository and how its change is given, the context
//! directories). Output: for the changed repository, its files at base and at head and the paths
//! that differ; for each context repository, its working tree.
//!
//! This is the only stage that touches the disk or git. Invariants: every path is relative to its
//! repository, uses `/` and names the file losslessly ([`path_from_bytes`]); nothing outside the
//! given directories is read (symlinks are not followed, submodules are not descended into, a
//! diff's paths must stay inside the repository); only regular files are read; binary, vendored
//! and oversized files are skipped and counted, not read — files a diff creates included; every
//! file carries a content key (its git blob id) so later stages can cache by content. A file an
//! earlier load found unchanged ([`recall`]: the same blob, or the same working-tree stamp) is
//! not read at all: it is loaded released, and read from its snapshot's [`Origin`] only by the
//! stage that needs its bytes.

pub mod diff;
mod git;
mod lines;
pub use lines::removed_files;
mod recall;
pub use recall::{Forgetful, Recall, Recollection};
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
    #[error("{path} is a bare repository: {advice}")]
    BareRepo { path: String, advice: String },
}

/// One file's bytes with a content key (the git blob id of the bytes).
#[derive(Clone, Debug)]
pub struct FileContent {
    pub key: String,
    pub bytes: Arc<[u8]>,
    /// The bytes were let go once the file's facts were extracted ([`Snapshot::release`]):
    /// `bytes` is empty and the few lines a report quotes are read again ([`Quoter`]).
    pub released: bool,
}

impl FileContent {
    pub fn new(bytes: Vec<u8>) -> FileContent {
        let key = crate::digest::blob_id(&bytes);
        FileContent {
            key,
            bytes: bytes.into(),
            released: false,
        }
    }

    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        text_of(&self.bytes)
    }

    /// The 1-based line of the text, without its newline, for excerpts in reports.
    pub fn line(&self, line: u32) -> Option<String> {
        nth_line(&self.text(), line)
    }
}

/// Line `line` (1-based) of `text`, without its newline.
fn nth_line(text: &str, line: u32) -> Option<String> {
    let index = usize::try_from(line).ok()?.checked_sub(1)?;
    text.lines().nth(index).map(str::to_string)
}

/// A file's text with where each of its lines starts, for quoting many lines of it: finding
/// each line from the start of the text was a third of a warm `who` (13,600 lines quoted).
struct Lines {
    text: String,
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: String) -> Lines {
        let starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|at| at + 1))
            .filter(|&start| start < text.len())
            .collect();
        Lines { text, starts }
    }

    /// Line `line` (1-based), as [`nth_line`] gives it.
    fn line(&self, line: u32) -> Option<String> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        let start = *self.starts.get(index)?;
        let end = self
            .starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len());
        // `lines` of the line's own span: the same line ending rules as over the whole text.
        self.text
            .get(start..end)?
            .lines()
            .next()
            .map(str::to_string)
    }
}

/// What became of one file a checkout or a revision lists: read, or left out and why.
pub(super) enum FileRead {
    File(FileContent),
    NotSelected,
    Oversized,
    Unreadable,
    Binary,
}

impl FileRead {
    /// What an earlier load found, without reading the file: a kept file is loaded released.
    fn recalled(entry: &recall::Entry) -> FileRead {
        match entry.found {
            recall::Found::Kept => FileRead::File(FileContent {
                key: entry.key.clone(),
                bytes: Arc::from(Vec::new()),
                released: true,
            }),
            recall::Found::NotSelected => FileRead::NotSelected,
            recall::Found::Oversized => FileRead::Oversized,
            recall::Found::Binary => FileRead::Binary,
        }
    }

    /// What a load records of this outcome: `None` for a file that could not be read (it is
    /// tried again next time).
    fn found(&self) -> Option<(recall::Found, &str)> {
        Some(match self {
            FileRead::File(content) => (recall::Found::Kept, content.key.as_str()),
            FileRead::NotSelected => (recall::Found::NotSelected, ""),
            FileRead::Oversized => (recall::Found::Oversized, ""),
            FileRead::Binary => (recall::Found::Binary, ""),
            FileRead::Unreadable => return None,
        })
    }

    /// Why the bytes of `path` are left out, if they are: too large, not a file knockon
    /// reads, or binary.
    fn left_out(path: &str, bytes: &[u8], select: Selector<'_>) -> Option<FileRead> {
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Some(FileRead::Oversized);
        }
        if !select(path, bytes) {
            return Some(FileRead::NotSelected);
        }
        looks_binary(bytes).then_some(FileRead::Binary)
    }

    /// Files the content in `snapshot`, or lists the path as unread and counts why.
    fn file_into(self, path: String, snapshot: &mut Snapshot, skipped: &mut SkipCounts) {
        let counter = match self {
            FileRead::File(content) => {
                snapshot.files.insert(path, content);
                return;
            }
            FileRead::NotSelected => None,
            FileRead::Oversized => Some(&mut skipped.oversized),
            FileRead::Unreadable => Some(&mut skipped.unreadable),
            FileRead::Binary => Some(&mut skipped.binary),
        };
        if let Some(counter) = counter {
            *counter += 1;
        }
        snapshot.unread.insert(path);
    }
}

/// Where a snapshot's files can be read again: the bytes of a released file are read from
/// here when something needs them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// Nowhere: every file's bytes are held (a snapshot built in memory).
    #[default]
    Held,
    /// A working tree at this root; a file that changed since is looked for among the objects
    /// of the repository there, by its content key.
    Tree(PathBuf),
    /// The objects of the repository with this git directory, by blob id.
    Git(PathBuf),
}

impl Origin {
    /// The bytes of the file `path` whose content key is `key`, if they can still be read.
    pub fn read(&self, path: &str, key: &str) -> Option<Vec<u8>> {
        match self {
            Origin::Held => None,
            Origin::Tree(root) => worktree::file_with_key(root, path, key).or_else(|| {
                let repo = git::open_root(root)?;
                let blob = repo.find_blob(git2::Oid::from_str(key).ok()?).ok()?;
                Some(blob.content().to_vec())
            }),
            Origin::Git(git_dir) => git::blob_bytes(git_dir, key),
        }
    }
}

/// A file's bytes for a later stage: held, or to be read from the snapshot's origin.
#[derive(Clone, Debug)]
pub enum Source {
    Held(Arc<[u8]>),
    Origin(Arc<Origin>),
}

impl Source {
    /// The bytes of `path` (content key `key`); `None` when they can no longer be read.
    pub fn bytes(&self, path: &str, key: &str) -> Option<Arc<[u8]>> {
        match self {
            Source::Held(bytes) => Some(Arc::clone(bytes)),
            Source::Origin(origin) => origin.read(path, key).map(Arc::from),
        }
    }

    /// The size of held bytes (0 for bytes still to be read), to order work by.
    pub fn held_len(&self) -> usize {
        match self {
            Source::Held(bytes) => bytes.len(),
            Source::Origin(_) => 0,
        }
    }
}

impl Snapshot {
    /// Where the bytes of `content` (one of this snapshot's files) are.
    pub fn source(&self, content: &FileContent) -> Source {
        if content.released {
            Source::Origin(Arc::clone(&self.origin))
        } else {
            Source::Held(Arc::clone(&content.bytes))
        }
    }

    /// The bytes of the file `path`, held or read again; `None` for a file the snapshot does not
    /// have or that can no longer be read.
    pub fn bytes_of(&self, path: &str) -> Option<Arc<[u8]>> {
        let content = self.files.get(path)?;
        self.source(content).bytes(path, &content.key)
    }

    /// Reads the bytes of the released files among `paths` back in, for the stages that compare
    /// or patch their text (the lines a change touched, a diff applied). A file that can no
    /// longer be read keeps empty bytes.
    pub fn fill<'p>(&mut self, paths: impl IntoIterator<Item = &'p String>) {
        for path in paths {
            let Some(content) = self.files.get(path) else {
                continue;
            };
            if !content.released {
                continue;
            }
            let read = self.origin.read(path, &content.key);
            if let (Some(bytes), Some(content)) = (read, self.files.get_mut(path)) {
                content.bytes = Arc::from(bytes);
                content.released = false;
            }
        }
    }

    /// Lets go of every file's bytes, keeping the paths and content keys: after extraction a
    /// check needs the text of a context repository only for the lines its findings quote,
    /// and holding all of it was a seventh of the memory of a large check.
    ///
    /// Bytes that could not be read again (a snapshot built in memory) are kept.
    pub fn release(&mut self) {
        if *self.origin == Origin::Held {
            return;
        }
        for content in self.files.values_mut() {
            content.bytes = Arc::from(Vec::new());
            content.released = true;
        }
    }
}

/// The lines of a released file, read again from its snapshot's origin (`None` when it is gone
/// or changed).
fn reread(snapshot: &Snapshot, path: &str, content: &FileContent) -> Option<Arc<Lines>> {
    let bytes = snapshot.origin.read(path, &content.key)?;
    Some(Arc::new(Lines::new(text_of(&bytes).into_owned())))
}

/// Quotes lines of the files of loaded repositories, whether their text is still held or was
/// let go ([`Snapshot::release`]) or never read (recalled): a released file is read again from
/// its snapshot's [`Origin`] once, however many of its lines a report quotes. Shared between
/// threads: a whole-corpus `who` quotes ten thousand lines from a thousand files read again,
/// which [`Quoter::read_ahead`] reads in parallel.
pub struct Quoter<'r> {
    repos: Vec<(&'r str, &'r Snapshot)>,
    reread: std::sync::Mutex<ReRead<'r>>,
}

/// The released files read again, by repository (its place among the quoted ones) and path;
/// `None` for one that could not be read.
type ReRead<'r> = std::collections::HashMap<(usize, &'r str), Option<Arc<Lines>>>;

impl<'r> Quoter<'r> {
    pub fn new(repos: &'r [ContextRepo]) -> Quoter<'r> {
        Quoter::of(
            repos
                .iter()
                .map(|r| (r.name.as_str(), &r.snapshot))
                .collect(),
        )
    }

    /// Quotes the snapshots given with their repositories' names.
    pub fn of(repos: Vec<(&'r str, &'r Snapshot)>) -> Quoter<'r> {
        Quoter {
            repos,
            reread: std::sync::Mutex::new(ReRead::new()),
        }
    }

    /// The file `path` of the repository named `repo`: where it is among the quoted ones, its
    /// path as the snapshot holds it, and its content.
    fn file(
        &self,
        repo: &str,
        path: &str,
    ) -> Option<(usize, &'r Snapshot, &'r str, &'r FileContent)> {
        let (at, (_, snapshot)) = self
            .repos
            .iter()
            .enumerate()
            .find(|(_, (name, _))| *name == repo)?;
        let (path, content) = snapshot.files.get_key_value(path)?;
        Some((at, snapshot, path.as_str(), content))
    }

    /// Line `line` (1-based) of `path` in the repository named `repo`; `None` for a repository
    /// that is not loaded, a file it does not have, or a file that changed since it was read.
    pub fn line(&self, repo: &str, path: &str, line: u32) -> Option<String> {
        let (at, snapshot, path, content) = self.file(repo, path)?;
        if !content.released {
            return content.line(line);
        }
        let known = self.reread_lines(at, path);
        let lines = match known {
            Some(lines) => lines,
            // Read outside the lock; another thread reading it meanwhile reads the same text.
            None => {
                let lines = reread(snapshot, path, content);
                self.remember(at, path, lines.clone());
                lines
            }
        };
        lines?.line(line)
    }

    /// Reads again, in parallel, the released files of `sites` (repository name, path) that
    /// are not read yet, so that quoting their lines afterwards reads nothing.
    pub fn read_ahead<'s>(&self, sites: impl IntoIterator<Item = (&'s str, &'s str)>) {
        use rayon::prelude::*;
        let mut wanted: Vec<(usize, &'r Snapshot, &'r str, &'r FileContent)> = sites
            .into_iter()
            .filter_map(|(repo, path)| self.file(repo, path))
            .filter(|(at, _, path, content)| {
                content.released && self.reread_lines(*at, path).is_none()
            })
            .collect();
        wanted.sort_by_key(|(at, _, path, _)| (*at, *path));
        wanted.dedup_by_key(|(at, _, path, _)| (*at, *path));
        let read: Vec<(usize, &'r str, Option<Arc<Lines>>)> = wanted
            .into_par_iter()
            .map(|(at, snapshot, path, content)| (at, path, reread(snapshot, path, content)))
            .collect();
        let mut texts = self.reread.lock().unwrap_or_else(|e| e.into_inner());
        for (at, path, lines) in read {
            texts.entry((at, path)).or_insert(lines);
        }
    }

    /// A released file's lines if it was read again already (`Some(None)`: it could not be).
    fn reread_lines(&self, at: usize, path: &'r str) -> Option<Option<Arc<Lines>>> {
        let texts = self.reread.lock().unwrap_or_else(|e| e.into_inner());
        texts.get(&(at, path)).cloned()
    }

    fn remember(&self, at: usize, path: &'r str, lines: Option<Arc<Lines>>) {
        let mut texts = self.reread.lock().unwrap_or_else(|e| e.into_inner());
        texts.entry((at, path)).or_insert(lines);
    }

    /// Whether `repo` is one of the loaded repositories (not an indexed one).
    pub fn has_repo(&self, repo: &str) -> bool {
        self.repos.iter().any(|(name, _)| *name == repo)
    }
}

/// The files of one repository at one point in time.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub files: BTreeMap<String, FileContent>,
    /// Paths that exist but were not loaded (skipped, or not a format knockon reads), so a diff
    /// that touches them is recognised as irrelevant rather than as not applying.
    pub unread: BTreeSet<String>,
    /// Where released files are read again.
    pub origin: Arc<Origin>,
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
    /// Parts of the input that were left out while the rest was analysed (a diff's binary
    /// changes), for the report's warnings.
    pub warnings: Vec<LoadWarning>,
}

/// A file of a repository that was not read, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadWarning {
    pub repo: String,
    pub path: String,
    pub message: String,
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

/// A [`Selector`] with the text of everything its choice depends on besides the file's path and
/// bytes (a configuration's excludes): what an earlier load's record of the files it kept is
/// recalled under.
#[derive(Clone, Copy)]
pub struct Selection<'a> {
    pub select: Selector<'a>,
    pub depends_on: &'a str,
}

/// Loads the changed repository at base and head and every context directory's working tree.
pub fn load_workspace(
    repo_dir: &Path,
    change: &ChangeSpec,
    context_dirs: &[PathBuf],
    select: Selector<'_>,
    memory: &mut dyn Recollection,
) -> Result<Workspace, LoadError> {
    let mut skipped = SkipCounts::default();
    let mut warnings = Vec::new();
    let repo = open_repo(repo_dir)?;
    let name = repo_name(repo_dir);
    let root = repo
        .workdir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo_dir.to_path_buf());
    // A bare repository has no working tree: the change must name both its ends.
    if repo.is_bare() {
        let advice = match change {
            ChangeSpec::Revisions { head: None, .. } => Some("give --head REV"),
            ChangeSpec::Diff { .. } => {
                Some("a diff applies to a working tree; give --base REV --head REV")
            }
            ChangeSpec::Revisions { head: Some(_), .. } => None,
        };
        if let Some(advice) = advice {
            return Err(LoadError::BareRepo {
                path: repo_dir.display().to_string(),
                advice: advice.to_string(),
            });
        }
    }
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.clone());
    let mut changed_memory = recall::Remembering::begin(memory, &canonical_root);
    let planned = plan_directories(context_dirs, &[(name.clone(), root.clone())])?;
    let mut context_memory = remember_each(memory, &planned);
    // The changed repository and the context load at once.
    let (changed, context) = rayon::join(
        || {
            changed_memory.load(|recall, learnt| {
                load_change(
                    repo,
                    &name,
                    &root,
                    change,
                    select,
                    (recall, learnt),
                    &mut skipped,
                    &mut warnings,
                )
            })
        },
        || read_planned(&planned, &mut context_memory, select),
    );
    changed_memory.end(memory);
    end_each(memory, context_memory);
    let (mut base, mut head, description) = changed?;
    let (context, s) = context?;
    skipped.add(s);
    let changed_paths = changed_paths(&base, &head);
    // The lines a change touched compare the changed files' text, which a file an earlier load
    // found was not read for.
    base.fill(&changed_paths);
    head.fill(&changed_paths);
    let changed_lines = lines::changed_lines(&name, &base, &head, &changed_paths);
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
        warnings,
    })
}

/// The changed repository at base and head, as `change` gives them, and how to name the change.
#[allow(clippy::too_many_arguments)]
fn load_change(
    repo: git2::Repository,
    name: &str,
    root: &Path,
    change: &ChangeSpec,
    select: Selector<'_>,
    memory: git::Memory<'_, '_>,
    skipped: &mut SkipCounts,
    warnings: &mut Vec<LoadWarning>,
) -> Result<(Snapshot, Snapshot, String), LoadError> {
    let (recall, learnt) = memory;
    match change {
        ChangeSpec::Revisions { base, head } => {
            let (base_snap, s1) =
                git::snapshot_at(&repo, name, base, select, (recall, &mut *learnt))?;
            skipped.add(s1);
            let (head_snap, s2, head_name) = match head {
                Some(rev) => {
                    let (snap, s) = git::snapshot_beside(
                        &repo,
                        name,
                        rev,
                        select,
                        Some(&base_snap),
                        (recall, learnt),
                    )?;
                    (snap, s, rev.clone())
                }
                None => {
                    let (snap, s) = worktree::snapshot(root, select, (recall, learnt))?;
                    (snap, s, "working tree".to_string())
                }
            };
            skipped.add(s2);
            Ok((base_snap, head_snap, format!("{base}..{head_name}")))
        }
        ChangeSpec::Diff { text, source_name } => {
            let (mut snap, s) = worktree::snapshot(root, select, (recall, learnt))?;
            skipped.add(s);
            let applied = apply_diff(&mut snap, text, source_name, select)?;
            skipped.add(applied.skipped);
            warnings.extend(applied.binary.into_iter().map(|path| LoadWarning {
                repo: name.to_string(),
                path,
                message: "a binary change in the diff, skipped".to_string(),
            }));
            let (base, head, applied) = (applied.base, applied.head, applied.applied);
            let state = if applied {
                "applied"
            } else {
                "not yet applied"
            };
            Ok((base, head, format!("diff {source_name} ({state})")))
        }
    }
}

/// Loads the working trees of directories (any directory; git is not required), naming each by
/// its basename (`-2`, `-3`... when two share one). Directories that are one of `taken` (by
/// canonical path) are skipped; names in `taken` are not reused.
pub fn load_directories(
    dirs: &[PathBuf],
    taken: &[(String, PathBuf)],
    select: Selector<'_>,
    memory: &mut dyn Recollection,
) -> Result<(Vec<ContextRepo>, SkipCounts), LoadError> {
    let planned = plan_directories(dirs, taken)?;
    let mut remembering = remember_each(memory, &planned);
    let loaded = read_planned(&planned, &mut remembering, select);
    end_each(memory, remembering);
    loaded
}

/// Begins the record of each planned directory's load ([`read_planned`] fills them).
fn remember_each(memory: &mut dyn Recollection, planned: &[Planned]) -> Vec<recall::Remembering> {
    planned
        .iter()
        .map(|p| recall::Remembering::begin(memory, &p.canonical))
        .collect()
}

/// Ends the records [`remember_each`] began, keeping those that learnt something.
fn end_each(memory: &mut dyn Recollection, remembering: Vec<recall::Remembering>) {
    for remembered in remembering {
        remembered.end(memory);
    }
}

/// A directory to load, and the name its repository goes by.
struct Planned {
    dir: PathBuf,
    canonical: PathBuf,
    name: String,
}

/// The directories to load, named by their basenames (`-2`, `-3`... when two share one);
/// directories that are one of `taken` (by canonical path), or given twice, are left out, and
/// names in `taken` are not reused. Every directory must exist.
fn plan_directories(
    dirs: &[PathBuf],
    taken: &[(String, PathBuf)],
) -> Result<Vec<Planned>, LoadError> {
    let mut planned = Vec::new();
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
        seen.push(canonical.clone());
        let base_name = repo_name(dir);
        let mut name = base_name.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base_name}-{n}");
            n += 1;
        }
        names.insert(name.clone());
        planned.push(Planned {
            dir: dir.clone(),
            canonical,
            name,
        });
    }
    Ok(planned)
}

/// Loads the planned directories in parallel (a large checkout's walk is most of a warm load),
/// each with its own record; the first failure, in the order given, is the error.
fn read_planned(
    planned: &[Planned],
    remembering: &mut [recall::Remembering],
    select: Selector<'_>,
) -> Result<(Vec<ContextRepo>, SkipCounts), LoadError> {
    use rayon::prelude::*;
    let loaded: Vec<Result<(Snapshot, SkipCounts), LoadError>> = planned
        .par_iter()
        .zip(remembering.par_iter_mut())
        .map(|(p, memory)| {
            memory.load(|recall, learnt| context_snapshot(&p.dir, select, (recall, learnt)))
        })
        .collect();
    let mut skipped = SkipCounts::default();
    let mut repos = Vec::new();
    for (p, loaded) in planned.iter().zip(loaded) {
        let (snapshot, s) = loaded?;
        skipped.add(s);
        repos.push(ContextRepo {
            name: p.name.clone(),
            root: p.dir.clone(),
            snapshot,
        });
    }
    Ok((repos, skipped))
}

/// A context directory's files: its working tree, or, for a bare repository (a mirror), its
/// tree at HEAD.
fn context_snapshot(
    dir: &Path,
    select: Selector<'_>,
    memory: git::Memory<'_, '_>,
) -> Result<(Snapshot, SkipCounts), LoadError> {
    match git::open_bare(dir) {
        Some(repo) => {
            if repo.head().is_err() {
                return Err(LoadError::BareRepo {
                    path: dir.display().to_string(),
                    advice: "its HEAD names no commit to read".to_string(),
                });
            }
            git::snapshot_at(&repo, &repo_name(dir), "HEAD", select, memory)
        }
        None => worktree::snapshot(dir, select, memory),
    }
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

/// A diff applied to the working tree.
struct AppliedDiff {
    base: Snapshot,
    head: Snapshot,
    /// The working tree is head (the diff is applied), not base.
    applied: bool,
    /// Files the diff creates or changes that are not read (oversized, binary, vendored).
    skipped: SkipCounts,
    /// Paths of binary changes, which are not applied.
    binary: Vec<String>,
}

/// Applies a diff to the working tree in whichever direction fits.
fn apply_diff(
    worktree: &mut Snapshot,
    text: &str,
    source_name: &str,
    select: Selector<'_>,
) -> Result<AppliedDiff, LoadError> {
    let bad = |reason: String| LoadError::BadDiff {
        source_name: source_name.to_string(),
        reason,
    };
    let patches = diff::parse(text).map_err(|e| bad(e.to_string()))?;
    // Patching needs the text of the files the diff names.
    let named: Vec<String> = patches
        .iter()
        .flat_map(|p| [&p.old_path, &p.new_path])
        .flatten()
        .map(|path| path.to_string())
        .collect();
    worktree.fill(&named);
    let worktree = &*worktree;
    let binary: Vec<String> = patches
        .iter()
        .filter(|p| p.binary)
        .map(|p| p.display_path().to_string())
        .collect();
    let forward_error = match apply_all(worktree, &patches, false, select) {
        Ok((head, skipped)) => {
            return Ok(AppliedDiff {
                base: worktree.clone(),
                head,
                applied: false,
                skipped,
                binary,
            });
        }
        Err(e) => e,
    };
    match apply_all(worktree, &patches, true, select) {
        Ok((base, skipped)) => Ok(AppliedDiff {
            base,
            head: worktree.clone(),
            applied: true,
            skipped,
            binary,
        }),
        Err(_) => Err(bad(format!(
            "applies to the working tree in neither direction: {forward_error}"
        ))),
    }
}

/// Applies every patch in one direction to the working tree's files. A copy reads its source as
/// the working tree has it and leaves it in place; reversed, it removes the copy.
fn apply_all(
    worktree: &Snapshot,
    patches: &[diff::FilePatch<'_>],
    reverse: bool,
    select: Selector<'_>,
) -> Result<(Snapshot, SkipCounts), String> {
    let mut out = worktree.clone();
    let mut skipped = SkipCounts::default();
    // Binary changes are reported by the caller; submodules are never read.
    for patch in patches.iter().filter(|p| !p.binary && !p.submodule) {
        let (from, to) = if reverse {
            (&patch.new_path, &patch.old_path)
        } else {
            (&patch.old_path, &patch.new_path)
        };
        // `git diff --submodule=diff` writes a submodule's own files under its path.
        if [from, to]
            .into_iter()
            .flatten()
            .any(|path| in_unread_directory(worktree, path))
        {
            continue;
        }
        let current = match from {
            Some(path) => match worktree.files.get(path) {
                Some(content) => Some(content.text()),
                // A file the loader skipped (binary, vendored, not a format knockon reads) is
                // not part of the analysis; its patch is irrelevant, and so is what it creates.
                None if worktree.unread.contains(path) => {
                    if let Some(to) = to
                        && !(patch.copy && reverse)
                    {
                        out.files.remove(to);
                        out.unread.insert(to.clone());
                    }
                    continue;
                }
                None => return Err(format!("{path} does not exist in the working tree")),
            },
            None => None,
        };
        // A new file, or a copy, must not be there yet.
        let creates = if (patch.copy && !reverse) || current.is_none() {
            to.as_ref()
        } else {
            None
        };
        if let Some(path) = creates
            && (worktree.files.contains_key(path) || worktree.unread.contains(path))
        {
            return Err(format!("{path} already exists in the working tree"));
        }
        let result = patch
            .apply_within(current.as_deref().unwrap_or_default(), reverse, limit())
            .map_err(|e| e.to_string())?;
        if patch.copy && reverse {
            // Undoing a copy: the copy goes, its source (the other side) stays as it is.
            if let Some(path) = from {
                out.files.remove(path);
            }
            continue;
        }
        if let Some(path) = from
            && !patch.copy
        {
            out.files.remove(path);
            out.unread.remove(path);
        }
        let Some(path) = to else { continue };
        out.files.remove(path);
        let Some(result) = result else {
            skipped.oversized += 1;
            out.unread.insert(path.clone());
            continue;
        };
        let bytes = result.into_bytes();
        if is_vendored(path) {
            skipped.vendored += 1;
            out.unread.insert(path.clone());
        } else if !select(path, &bytes) {
            out.unread.insert(path.clone());
        } else if looks_binary(&bytes) {
            skipped.binary += 1;
            out.unread.insert(path.clone());
        } else {
            out.unread.remove(path);
            out.files.insert(path.clone(), FileContent::new(bytes));
        }
    }
    Ok((out, skipped))
}

/// Is a directory above `path` one that is not read (a submodule)?
fn in_unread_directory(snapshot: &Snapshot, path: &str) -> bool {
    path.match_indices('/')
        .any(|(at, _)| snapshot.unread.contains(&path[..at]))
}

/// [`MAX_FILE_BYTES`] as a length in memory.
fn limit() -> usize {
    usize::try_from(MAX_FILE_BYTES).unwrap_or(usize::MAX)
}

/// A file's bytes as text, invalid UTF-8 replaced as `String::from_utf8_lossy` replaces it.
/// Valid text (nearly every file) is checked by `str::from_utf8`, which runs through ASCII a
/// word at a time where the lossy decoder goes byte by byte (0.5 % of a cold run over the
/// benchmark corpus, whose 50 MB are all read as text).
pub fn text_of(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// A file name from its raw bytes (git trees and indexes, Unix file names and diffs are bytes).
/// A name that is UTF-8 with no `\` in it is used as it is; any other has each backslash
/// written `\\` and each byte that is not part of UTF-8 written `\xNN`. Two different names
/// never get the same string, so a file is never dropped or merged with another for its name,
/// and the working tree, the trees and a diff name the same file the same way.
pub fn path_from_bytes(bytes: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(bytes)
        && !text.contains('\\')
    {
        return text.to_string();
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// What [`read_regular_file`] found.
#[derive(Debug)]
pub enum Regular {
    Bytes(Vec<u8>),
    /// Larger than the limit (by its size, or by what reading it gave).
    TooLarge,
    /// A FIFO, socket, device, directory or a file of a kernel pseudo-file system (`/proc`,
    /// `/sys`): reading it could block, never end, or read the machine rather than a repository.
    NotRegular,
}

/// Reads a file only if it is a regular file of at most `limit` bytes. The type is checked
/// before opening (opening a FIFO blocks until a writer comes) and again on the opened handle,
/// and at most `limit + 1` bytes are read whatever the size claimed.
pub fn read_regular_file(path: &Path, limit: u64) -> std::io::Result<Regular> {
    use std::io::Read;
    if !std::fs::metadata(path)?.is_file() {
        return Ok(Regular::NotRegular);
    }
    let file = std::fs::File::open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() || on_pseudo_file_system(&metadata) {
        return Ok(Regular::NotRegular);
    }
    if metadata.len() > limit {
        return Ok(Regular::TooLarge);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Ok(Regular::TooLarge);
    }
    Ok(Regular::Bytes(bytes))
}

/// Is this file on the file system mounted at `/proc` or `/sys` (same device)? Their entries
/// claim to be regular files but describe the running machine.
#[cfg(target_os = "linux")]
fn on_pseudo_file_system(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    static DEVICES: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    DEVICES
        .get_or_init(|| {
            ["/proc", "/sys"]
                .iter()
                .filter_map(|mount| std::fs::metadata(mount).ok().map(|m| m.dev()))
                .collect()
        })
        .contains(&metadata.dev())
}

#[cfg(not(target_os = "linux"))]
fn on_pseudo_file_system(_metadata: &std::fs::Metadata) -> bool {
    false
}

/// Is this relative path inside a vendored directory?
pub fn is_vendored(path: &str) -> bool {
    path.split('/').any(|seg| VENDORED_DIRS.contains(&seg))
}

/// Does this content look binary (a NUL byte in its first 8 KiB)?
pub fn looks_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(8192).any(|b| *b == 0)
}

#[cfg(test)]
mod reread_tests {
    use super::*;

    proptest::proptest! {
        /// Text read through the fast check is what the lossy decoder gives, valid or not,
        /// and borrowed when it is valid.
        #[test]
        fn text_of_bytes_is_their_lossy_decoding(
            bytes in proptest::collection::vec(proptest::prop_oneof![
                0u8..0x80, 0x80u8..=0xff, proptest::strategy::Just(0xe2u8),
            ], 0..64),
            valid in "\\PC{0,24}",
        ) {
            let text = text_of(&bytes);
            proptest::prop_assert_eq!(&*text, &*String::from_utf8_lossy(&bytes));
            proptest::prop_assert_eq!(
                matches!(text, std::borrow::Cow::Borrowed(_)),
                std::str::from_utf8(&bytes).is_ok()
            );
            // Any text, multi-byte characters included, comes back as it is, unchanged.
            let text = text_of(valid.as_bytes());
            proptest::prop_assert!(matches!(text, std::borrow::Cow::Borrowed(_)));
            proptest::prop_assert_eq!(&*text, valid.as_str());
        }
    }

    proptest::proptest! {
        /// Quoting through a line index gives what finding the line from the start gives, for
        /// any text: `\r\n` and `\n` endings, a last line with or without one, empty lines.
        #[test]
        fn indexed_lines_are_the_lines_of_the_text(
            text in "[a\r\n ]{0,40}",
            line in 0u32..45,
        ) {
            proptest::prop_assert_eq!(Lines::new(text.clone()).line(line), nth_line(&text, line));
        }
    }

    fn commit_all(repo: &git2::Repository) {
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let who = git2::Signature::now("t", "t@example.com").unwrap();
        repo.commit(Some("HEAD"), &who, &who, "c", &tree, &[])
            .unwrap();
    }

    #[test]
    fn a_released_line_is_read_again_only_from_the_same_content() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("jobs")).unwrap();
        let text = "#!/bin/sh\nrm -f /srv/out/*.csv\n";
        std::fs::write(root.join("jobs/clean.sh"), text).unwrap();
        let mut snapshot = Snapshot {
            origin: Arc::new(Origin::Tree(root.to_path_buf())),
            ..Snapshot::default()
        };
        snapshot.files.insert(
            "jobs/clean.sh".to_string(),
            FileContent::new(text.as_bytes().to_vec()),
        );
        let key = snapshot.files["jobs/clean.sh"].key.clone();
        snapshot.release();
        let released = &snapshot.files["jobs/clean.sh"];
        assert!(released.released && released.bytes.is_empty());
        assert_eq!(released.key, key);
        let reread_line = |path: &str, key: &str, n| {
            let bytes = snapshot.origin.read(path, key)?;
            nth_line(&text_of(&bytes), n)
        };
        let line = |n| reread_line("jobs/clean.sh", &key, n);
        assert_eq!(line(2).as_deref(), Some("rm -f /srv/out/*.csv"));
        assert_eq!(line(3), None);
        // Edited since it was read, in a plain directory: nothing, never the new text.
        std::fs::write(root.join("jobs/clean.sh"), "#!/bin/sh\necho other\n").unwrap();
        assert_eq!(line(2), None);
        // In a repository, the analysed content is still among its objects.
        std::fs::write(root.join("jobs/clean.sh"), text).unwrap();
        let repo = git2::Repository::init(root).unwrap();
        commit_all(&repo);
        std::fs::write(root.join("jobs/clean.sh"), "#!/bin/sh\necho other\n").unwrap();
        assert_eq!(line(2).as_deref(), Some("rm -f /srv/out/*.csv"));
        // A path that leaves the repository through a symlink is not followed.
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("clean.sh"), text).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("linked")).unwrap();
        assert_eq!(reread_line("linked/clean.sh", "0000", 2), None);
        assert_eq!(worktree::file_with_key(root, "linked/clean.sh", &key), None);
    }

    /// A repository named `name` whose files (path, text) were loaded from the directory
    /// `root`, their text held or, if `released`, let go.
    fn tree_repo(name: &str, root: &Path, files: &[(&str, &str)], released: bool) -> ContextRepo {
        let mut snapshot = Snapshot {
            files: files
                .iter()
                .map(|(path, text)| (path.to_string(), FileContent::new(text.as_bytes().to_vec())))
                .collect(),
            origin: Arc::new(Origin::Tree(root.to_path_buf())),
            ..Snapshot::default()
        };
        if released {
            snapshot.release();
        }
        ContextRepo {
            name: name.to_string(),
            root: root.to_path_buf(),
            snapshot,
        }
    }

    #[test]
    fn a_quoter_quotes_held_and_released_files_and_reads_each_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let text = "#!/bin/sh\nrm -f /srv/out/*.csv\nls /srv/out\n";
        std::fs::write(root.join("clean.sh"), text).unwrap();
        let files = [("clean.sh", text)];
        let repos = [
            tree_repo("held", root, &files, false),
            tree_repo("ops", root, &files, true),
        ];
        let quoter = Quoter::new(&repos);
        assert!(quoter.has_repo("ops") && !quoter.has_repo("elsewhere"));
        assert_eq!(
            quoter.line("held", "clean.sh", 3).as_deref(),
            Some("ls /srv/out")
        );
        assert_eq!(
            quoter.line("ops", "clean.sh", 2).as_deref(),
            Some("rm -f /srv/out/*.csv")
        );
        // Read once: a later edit does not reach lines quoted from the same file afterwards.
        std::fs::write(root.join("clean.sh"), "#!/bin/sh\necho other\n").unwrap();
        assert_eq!(
            quoter.line("ops", "clean.sh", 3).as_deref(),
            Some("ls /srv/out")
        );
        assert_eq!(quoter.line("ops", "missing.sh", 1), None);
        assert_eq!(quoter.line("elsewhere", "clean.sh", 1), None);
        // A fresh quoter of the edited directory finds the content changed: no line at all.
        let fresh = Quoter::new(&repos);
        assert_eq!(fresh.line("ops", "clean.sh", 2), None);
    }

    #[test]
    fn files_read_ahead_are_quoted_from_what_was_read_then() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let texts = [
            ("a.sh", "#!/bin/sh\nrm -f /srv/a\n"),
            ("b.sh", "#!/bin/sh\nrm -f /srv/b\n"),
            ("c.sh", "#!/bin/sh\nrm -f /srv/c\n"),
        ];
        for (path, text) in texts {
            std::fs::write(root.join(path), text).unwrap();
        }
        let repos = [tree_repo("ops", root, &texts, true)];
        let quoter = Quoter::new(&repos);
        // Each file once, whatever the repetitions; other repositories and paths are skipped.
        quoter.read_ahead([
            ("ops", "a.sh"),
            ("ops", "b.sh"),
            ("ops", "a.sh"),
            ("elsewhere", "c.sh"),
            ("ops", "missing.sh"),
        ]);
        for (path, _) in texts {
            std::fs::remove_file(root.join(path)).unwrap();
        }
        // Read ahead before the files went: quoted from what was read then.
        assert_eq!(
            quoter.line("ops", "a.sh", 2).as_deref(),
            Some("rm -f /srv/a")
        );
        assert_eq!(
            quoter.line("ops", "b.sh", 2).as_deref(),
            Some("rm -f /srv/b")
        );
        // Not read ahead, and gone since: no line.
        assert_eq!(quoter.line("ops", "c.sh", 2), None);
        // Quoted from several threads at once, the same lines.
        let lines: Vec<Option<String>> = std::thread::scope(|scope| {
            let quoter = &quoter;
            let threads: Vec<_> = (0..4)
                .map(|_| scope.spawn(move || quoter.line("ops", "b.sh", 2)))
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert!(lines.iter().all(|l| l.as_deref() == Some("rm -f /srv/b")));
    }
}
