//! Working trees: the files git considers part of a working tree.
//!
//! That is every file `.gitignore` does not exclude, and every tracked file even when an ignore
//! pattern matches it: git tracks it, so it is part of the repository in every change mode (a
//! revision's tree has it too). A directory inside a repository's working tree that is another
//! repository (a submodule, or an embedded clone) is not descended into, as a submodule is only a
//! commit id in a revision's tree. A directory that is not a repository is read the same way,
//! without tracking; a repository found inside it starts a working tree of its own.
//!
//! Only regular files are read: symlinks, FIFOs, sockets and devices are listed as unread.

use super::{
    LoadError, MAX_FILE_BYTES, Regular, Selector, SkipCounts, Snapshot, git, path_from_bytes,
};
use std::path::{Path, PathBuf};

/// The files under `root`, skipping ignored, vendored, binary and oversized files.
pub fn snapshot(root: &Path, select: Selector<'_>) -> Result<(Snapshot, SkipCounts), LoadError> {
    if !root.is_dir() {
        return Err(LoadError::NoSuchDir {
            path: root.display().to_string(),
        });
    }
    let mut reader = Reader {
        snapshot: Snapshot::default(),
        skipped: SkipCounts::default(),
        select,
    };
    let walk_root = root.to_path_buf();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .follow_links(false)
        .require_git(false)
        .filter_entry(move |entry| {
            entry.file_name() != ".git" && !is_nested_repository(&walk_root, entry)
        })
        .build();
    let mut repositories: Vec<PathBuf> = Vec::new();
    for entry in walker {
        let Ok(entry) = entry else {
            reader.skipped.unreadable += 1;
            continue;
        };
        let Some(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            if has_git(entry.path()) {
                repositories.push(entry.path().to_path_buf());
            }
            continue;
        }
        let Some(path) = relative_name(root, entry.path()) else {
            continue;
        };
        if file_type.is_file() {
            reader.read(path, entry.path());
        } else {
            reader.snapshot.unread.insert(path);
        }
    }
    for repository in &repositories {
        reader.add_tracked(root, repository);
    }
    Ok((reader.snapshot, reader.skipped))
}

struct Reader<'a> {
    snapshot: Snapshot,
    skipped: SkipCounts,
    select: Selector<'a>,
}

impl Reader<'_> {
    fn seen(&self, path: &str) -> bool {
        self.snapshot.files.contains_key(path) || self.snapshot.unread.contains(path)
    }

    /// Reads one regular file the walk or the index found.
    fn read(&mut self, path: String, file: &Path) {
        if super::is_vendored(&path) {
            self.skipped.vendored += 1;
            self.snapshot.unread.insert(path);
            return;
        }
        let bytes = match super::read_regular_file(file, MAX_FILE_BYTES) {
            Ok(Regular::Bytes(bytes)) => bytes,
            Ok(Regular::TooLarge) => {
                self.skipped.oversized += 1;
                self.snapshot.unread.insert(path);
                return;
            }
            Ok(Regular::NotRegular) | Err(_) => {
                self.skipped.unreadable += 1;
                self.snapshot.unread.insert(path);
                return;
            }
        };
        if !(self.select)(&path, &bytes) {
            self.snapshot.unread.insert(path);
            return;
        }
        if super::looks_binary(&bytes) {
            self.skipped.binary += 1;
            self.snapshot.unread.insert(path);
            return;
        }
        self.snapshot
            .files
            .insert(path, super::FileContent::new(bytes));
    }

    /// Reads the files of the repository at `repository` that git tracks but the walk left out
    /// because an ignore pattern matches them.
    fn add_tracked(&mut self, root: &Path, repository: &Path) {
        let Some(repo) = git::open_root(repository) else {
            return;
        };
        if repo.is_bare() {
            return;
        }
        let Ok(index) = repo.index() else {
            return;
        };
        let prefix = match relative_name(root, repository) {
            Some(p) if !p.is_empty() => format!("{p}/"),
            _ => String::new(),
        };
        for entry in index.iter() {
            // Submodules (gitlinks) are other repositories.
            if entry.mode & 0o170000 == 0o160000 {
                continue;
            }
            let name = format!("{prefix}{}", path_from_bytes(&entry.path));
            if self.seen(&name) {
                continue;
            }
            match regular_inside(repository, &entry.path) {
                Some(Inside::File(file)) => self.read(name, &file),
                Some(Inside::Other) => {
                    self.snapshot.unread.insert(name);
                }
                // Deleted in the working tree, or reached only through a symlink.
                None => {}
            }
        }
    }
}

enum Inside {
    File(PathBuf),
    Other,
}

/// Where a tracked path is on disk, if it is there and every directory on the way is a real
/// directory of the repository (not a symlink that would lead out of it).
fn regular_inside(repository: &Path, tracked: &[u8]) -> Option<Inside> {
    let mut at = repository.to_path_buf();
    let segments: Vec<&[u8]> = tracked.split(|b| *b == b'/').collect();
    let (last, dirs) = segments.split_last()?;
    for segment in dirs {
        at.push(segment_path(segment)?);
        if !std::fs::symlink_metadata(&at).ok()?.is_dir() {
            return None;
        }
    }
    at.push(segment_path(last)?);
    let metadata = std::fs::symlink_metadata(&at).ok()?;
    Some(if metadata.is_file() {
        Inside::File(at)
    } else {
        Inside::Other
    })
}

fn segment_path(segment: &[u8]) -> Option<PathBuf> {
    if matches!(segment, b"" | b"." | b"..") {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Some(PathBuf::from(std::ffi::OsStr::from_bytes(segment)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(segment).ok().map(PathBuf::from)
    }
}

/// Does this directory hold a repository (`.git` directory, or file for a submodule)?
fn has_git(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir.join(".git")).is_ok()
}

/// A directory below `root` that holds a repository and lies in another repository's working
/// tree (one of its ancestors up to `root` holds one too).
fn is_nested_repository(root: &Path, entry: &ignore::DirEntry) -> bool {
    entry.depth() > 0
        && entry.file_type().is_some_and(|t| t.is_dir())
        && has_git(entry.path())
        && entry
            .path()
            .ancestors()
            .skip(1)
            .take_while(|dir| dir.starts_with(root))
            .any(has_git)
}

/// `path` relative to `root`, `/`-separated, each name as [`path_from_bytes`] writes it.
fn relative_name(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let names: Vec<String> = relative
        .components()
        .map(|c| {
            #[cfg(unix)]
            {
                use std::os::unix::ffi::OsStrExt;
                path_from_bytes(c.as_os_str().as_bytes())
            }
            #[cfg(not(unix))]
            {
                c.as_os_str().to_string_lossy().into_owned()
            }
        })
        .collect();
    Some(names.join("/"))
}
