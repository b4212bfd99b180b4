//! Revisions and trees through git2.

use super::{FileContent, LoadError, MAX_FILE_BYTES, Selector, SkipCounts, Snapshot};
use std::path::Path;

/// Opens the repository at `dir` (its root or a directory inside it).
pub fn open_repo(dir: &Path) -> Result<git2::Repository, LoadError> {
    if !dir.is_dir() {
        return Err(LoadError::NoSuchDir {
            path: dir.display().to_string(),
        });
    }
    git2::Repository::discover(dir).map_err(|e| LoadError::NotARepo {
        path: dir.display().to_string(),
        reason: e.message().to_string(),
    })
}

/// The files of the tree at `rev`.
pub fn snapshot_at(
    repo: &git2::Repository,
    repo_name: &str,
    rev: &str,
    select: Selector<'_>,
) -> Result<(Snapshot, SkipCounts), LoadError> {
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
    let mut snapshot = Snapshot::default();
    let mut skipped = SkipCounts::default();
    let mut entries = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob)
            && let Ok(name) = entry.name()
        {
            entries.push((format!("{dir}{name}"), entry.id(), entry.filemode()));
        }
        git2::TreeWalkResult::Ok
    })
    .map_err(|e| LoadError::Git {
        repo: repo_name.to_string(),
        what: format!("the tree of {rev}"),
        reason: e.message().to_string(),
    })?;
    for (path, oid, filemode) in entries {
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
        let blob = match repo.find_blob(oid) {
            Ok(blob) => blob,
            Err(_) => {
                skipped.unreadable += 1;
                snapshot.unread.insert(path);
                continue;
            }
        };
        let bytes = blob.content();
        if bytes.len() as u64 > MAX_FILE_BYTES {
            skipped.oversized += 1;
            snapshot.unread.insert(path);
            continue;
        }
        if !select(&path, bytes) {
            snapshot.unread.insert(path);
            continue;
        }
        if super::looks_binary(bytes) {
            skipped.binary += 1;
            snapshot.unread.insert(path);
            continue;
        }
        snapshot.files.insert(
            path,
            FileContent {
                key: oid.to_string(),
                bytes: bytes.into(),
            },
        );
    }
    Ok((snapshot, skipped))
}
