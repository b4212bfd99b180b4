//! Working trees: every file a `git status` would consider, honouring `.gitignore`.

use super::{FileContent, LoadError, MAX_FILE_BYTES, Selector, SkipCounts, Snapshot};
use std::path::Path;

/// The files under `root`, skipping ignored, vendored, binary and oversized files.
pub fn snapshot(root: &Path, select: Selector<'_>) -> Result<(Snapshot, SkipCounts), LoadError> {
    if !root.is_dir() {
        return Err(LoadError::NoSuchDir {
            path: root.display().to_string(),
        });
    }
    let mut snapshot = Snapshot::default();
    let mut skipped = SkipCounts::default();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .follow_links(false)
        .require_git(false)
        .filter_entry(|entry| entry.file_name() != ".git")
        .build();
    for entry in walker {
        let Ok(entry) = entry else {
            skipped.unreadable += 1;
            continue;
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let path = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if super::is_vendored(&path) {
            skipped.vendored += 1;
            snapshot.unread.insert(path);
            continue;
        }
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        if size > MAX_FILE_BYTES {
            skipped.oversized += 1;
            snapshot.unread.insert(path);
            continue;
        }
        let bytes = match std::fs::read(entry.path()) {
            Ok(bytes) => bytes,
            Err(_) => {
                skipped.unreadable += 1;
                snapshot.unread.insert(path);
                continue;
            }
        };
        if !select(&path, &bytes) {
            snapshot.unread.insert(path);
            continue;
        }
        if super::looks_binary(&bytes) {
            skipped.binary += 1;
            snapshot.unread.insert(path);
            continue;
        }
        snapshot.files.insert(path, FileContent::new(bytes));
    }
    Ok((snapshot, skipped))
}
