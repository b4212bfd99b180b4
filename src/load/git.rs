//! Revisions and trees through git2.
//!
//! Repositories are opened so that a broken global git configuration (a `~/.gitconfig` that does
//! not parse or cannot be read) does not make a repository look like none: knockon needs nothing
//! from it, so on such a failure the global, XDG and system configurations are left out and the
//! repository is opened again.

use super::recall::{Entry, Recall, RecallIndex};
use super::{FileContent, FileRead, LoadError, Origin, Selector, SkipCounts, Snapshot};
use std::path::Path;

/// Opens the repository at `dir` (its root or a directory inside it).
pub fn open_repo(dir: &Path) -> Result<git2::Repository, LoadError> {
    skip_hash_verification();
    if !dir.is_dir() {
        return Err(LoadError::NoSuchDir {
            path: dir.display().to_string(),
        });
    }
    tolerant(|| git2::Repository::discover(dir)).map_err(|e| LoadError::NotARepo {
        path: dir.display().to_string(),
        reason: e.message().to_string(),
    })
}

/// The repository whose root is `dir`, when it is a bare one (a mirror); `None` otherwise.
pub fn open_bare(dir: &Path) -> Option<git2::Repository> {
    open_root(dir).filter(git2::Repository::is_bare)
}

/// The repository whose root (working tree, or git directory when bare) is exactly `dir`.
pub fn open_root(dir: &Path) -> Option<git2::Repository> {
    skip_hash_verification();
    let no_parents: [&std::ffi::OsStr; 0] = [];
    tolerant(|| git2::Repository::open_ext(dir, git2::RepositoryOpenFlags::NO_SEARCH, no_parents))
        .ok()
}

/// Objects are read without hashing them again to check their id, as git itself reads them:
/// the check (SHA-1 with collision detection) was a quarter of loading a revision, and a
/// damaged object in a repository is `git fsck`'s business, not a change's.
fn skip_hash_verification() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| git2::opts::strict_hash_verification(false));
}

/// Runs `open`; when it fails for another reason than "no repository here" or "not yours", runs
/// it again with the global, XDG and system configurations left out.
fn tolerant(
    open: impl Fn() -> Result<git2::Repository, git2::Error>,
) -> Result<git2::Repository, git2::Error> {
    match open() {
        Ok(repo) => Ok(repo),
        Err(e) if matches!(e.code(), git2::ErrorCode::NotFound | git2::ErrorCode::Owner) => Err(e),
        Err(e) => {
            ignore_global_config();
            open().map_err(|_| e)
        }
    }
}

/// Leaves the configuration files outside repositories out of every later libgit2 call.
fn ignore_global_config() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for level in [
            git2::ConfigLevel::Global,
            git2::ConfigLevel::XDG,
            git2::ConfigLevel::System,
            git2::ConfigLevel::ProgramData,
        ] {
            // SAFETY: libgit2's search paths are process-wide; `Once` keeps two knockon threads
            // from setting them at the same time. This runs only after an open failed, which the
            // CLI does first thing, before it starts any other thread.
            let _ = unsafe { git2::opts::set_search_path(level, "") };
        }
    });
}

/// The files of the tree at `rev`. Submodules (commit entries) are not descended into.
pub fn snapshot_at(
    repo: &git2::Repository,
    repo_name: &str,
    rev: &str,
    select: Selector<'_>,
    memory: Memory<'_, '_>,
) -> Result<(Snapshot, SkipCounts), LoadError> {
    snapshot_beside(repo, repo_name, rev, select, None, memory)
}

/// What earlier loads of a repository found ([`RecallIndex`]), and the record of this one.
pub type Memory<'m, 'r> = (Option<&'m RecallIndex<'r>>, &'m mut Recall);

/// [`snapshot_at`], sharing the bytes of every file `known` (another revision's snapshot) has
/// with the same path and blob: a change's head differs from its base in a few files, and
/// inflating every other blob a second time would double the time to load the change. A blob
/// an earlier load found (`memory`) is not inflated at all: it is loaded released.
pub fn snapshot_beside(
    repo: &git2::Repository,
    repo_name: &str,
    rev: &str,
    select: Selector<'_>,
    known: Option<&Snapshot>,
    memory: Memory<'_, '_>,
) -> Result<(Snapshot, SkipCounts), LoadError> {
    let (recall, learnt) = memory;
    let commit = repo
        .revparse_single(rev)
        .and_then(|object| object.peel_to_commit())
        .map_err(|_| LoadError::UnknownRevision {
            rev: rev.to_string(),
            repo: repo_name.to_string(),
            hint: if repo.is_shallow() {
                " (the clone is shallow: fetch more history, e.g. `git fetch --unshallow`, or `fetch-depth: 0` in CI)".to_string()
            } else {
                String::new()
            },
        })?;
    let tree = commit.tree().map_err(|e| LoadError::Git {
        repo: repo_name.to_string(),
        what: format!("the tree of {rev}"),
        reason: e.message().to_string(),
    })?;
    let mut snapshot = Snapshot {
        origin: std::sync::Arc::new(Origin::Git(repo.path().to_path_buf())),
        ..Snapshot::default()
    };
    let mut skipped = SkipCounts::default();
    let (blobs, submodules) = blobs(repo, tree, &mut skipped);
    // Listed so that a diff that changes a submodule's commit is recognised as irrelevant.
    snapshot.unread.extend(submodules);
    let mut to_read = Vec::new();
    for (path, oid, filemode) in blobs {
        // Symlinks (mode 120000) are stored as blobs holding the target path: never follow them.
        if filemode == 0o120000 {
            snapshot.unread.insert(path);
            continue;
        }
        if super::is_vendored(&path) {
            skipped.vendored += 1;
            snapshot.unread.insert(path);
            continue;
        }
        let id = oid.to_string();
        if let Some(content) = known
            .and_then(|k| k.files.get(&path))
            .filter(|c| c.key == id)
        {
            snapshot.files.insert(path, content.clone());
            continue;
        }
        if let Some(entry) = recall.and_then(|r| r.blob(&path, &id)) {
            learnt.push(entry.clone(), false);
            FileRead::recalled(entry).file_into(path, &mut snapshot, &mut skipped);
            continue;
        }
        to_read.push((path, oid));
    }
    for (path, oid, read) in read_blobs(repo, to_read, select) {
        if let Some((found, _)) = read.found() {
            learnt.push(
                Entry {
                    path: path.clone(),
                    key: oid.to_string(),
                    found,
                    stamp: None,
                },
                true,
            );
        }
        read.file_into(path, &mut snapshot, &mut skipped);
    }
    Ok((snapshot, skipped))
}

/// Reads the blobs in parallel, each thread through its own handle on the repository
/// (inflating objects is most of loading a revision, and a `Repository` cannot be shared
/// between threads). A blob another handle could not read is read again through `repo`, so
/// a repository only `repo` can open fully (a linked worktree) loses nothing.
fn read_blobs(
    repo: &git2::Repository,
    blobs: Vec<(String, git2::Oid)>,
    select: Selector<'_>,
) -> Vec<(String, git2::Oid, FileRead)> {
    use rayon::prelude::*;
    let git_dir = repo.path().to_path_buf();
    let chunk = (blobs.len() / (rayon::current_num_threads() * 4)).max(64);
    let read: Vec<(String, git2::Oid, FileRead)> = blobs
        .par_chunks(chunk)
        .flat_map_iter(|chunk| {
            let handle = tolerant(|| git2::Repository::open_bare(&git_dir)).ok();
            chunk
                .iter()
                .map(|(path, oid)| {
                    let read = match &handle {
                        Some(handle) => read_blob(handle, path, *oid, select),
                        None => FileRead::Unreadable,
                    };
                    (path.clone(), *oid, read)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    read.into_iter()
        .map(|(path, oid, read)| match read {
            FileRead::Unreadable => {
                let again = read_blob(repo, &path, oid, select);
                (path, oid, again)
            }
            read => (path, oid, read),
        })
        .collect()
}

/// The bytes of blob `key` of the repository whose git directory is `git_dir`, through a
/// handle each thread opens once per repository (extraction reads released files this way, in
/// parallel, and opening a repository costs more than reading a blob).
pub(super) fn blob_bytes(git_dir: &Path, key: &str) -> Option<Vec<u8>> {
    use std::cell::RefCell;
    thread_local! {
        static OPEN: RefCell<Vec<(std::path::PathBuf, git2::Repository)>> =
            const { RefCell::new(Vec::new()) };
    }
    let oid = git2::Oid::from_str(key).ok()?;
    OPEN.with(|open| {
        let mut open = open.borrow_mut();
        let at = match open.iter().position(|(dir, _)| dir == git_dir) {
            Some(at) => at,
            None => {
                let repo = tolerant(|| git2::Repository::open_bare(git_dir))
                    .or_else(|_| tolerant(|| git2::Repository::open(git_dir)))
                    .ok()?;
                open.push((git_dir.to_path_buf(), repo));
                open.len() - 1
            }
        };
        let (_, repo) = open.get(at)?;
        let blob = repo.find_blob(oid).ok()?;
        Some(blob.content().to_vec())
    })
}

fn read_blob(
    repo: &git2::Repository,
    path: &str,
    oid: git2::Oid,
    select: Selector<'_>,
) -> FileRead {
    let Ok(blob) = repo.find_blob(oid) else {
        return FileRead::Unreadable;
    };
    let bytes = blob.content();
    if let Some(left_out) = FileRead::left_out(path, bytes, select) {
        return left_out;
    }
    FileRead::File(FileContent {
        key: oid.to_string(),
        bytes: bytes.into(),
        released: false,
    })
}

/// Every blob of `tree` as (path, id, mode), and the paths of its submodules. Names are bytes in git, so they go through
/// [`super::path_from_bytes`] (`Tree::walk` stops at the first name that is not UTF-8). An
/// entry whose name could not be a file of a checkout (empty, `.`, `..`, with a `/`) and a
/// subtree that cannot be read are counted unreadable.
fn blobs(
    repo: &git2::Repository,
    tree: git2::Tree<'_>,
    skipped: &mut SkipCounts,
) -> (Vec<(String, git2::Oid, i32)>, Vec<String>) {
    let mut out = Vec::new();
    let mut submodules = Vec::new();
    let mut pending = vec![(String::new(), tree)];
    while let Some((prefix, tree)) = pending.pop() {
        for entry in tree.iter() {
            let name = entry.name_bytes();
            if matches!(name, b"" | b"." | b"..") || name.contains(&b'/') {
                skipped.unreadable += 1;
                continue;
            }
            let path = format!("{prefix}{}", super::path_from_bytes(name));
            match entry.kind() {
                Some(git2::ObjectType::Blob) => out.push((path, entry.id(), entry.filemode())),
                Some(git2::ObjectType::Tree) => match repo.find_tree(entry.id()) {
                    Ok(subtree) => pending.push((format!("{path}/"), subtree)),
                    Err(_) => skipped.unreadable += 1,
                },
                // A submodule: its commit is another repository's, which is not read.
                Some(git2::ObjectType::Commit) => submodules.push(path),
                _ => {}
            }
        }
    }
    (out, submodules)
}
