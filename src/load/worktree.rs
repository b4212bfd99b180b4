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

use super::recall::{Entry, RecallIndex, Stamp};
use super::{
    FileRead, LoadError, MAX_FILE_BYTES, Origin, Regular, Selector, SkipCounts, Snapshot, git,
    path_from_bytes,
};
use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The files under `root`, skipping ignored, vendored, binary and oversized files. A file
/// whose stamp an earlier load recorded (`memory`) is not read: it is loaded released.
pub fn snapshot(
    root: &Path,
    select: Selector<'_>,
    memory: git::Memory<'_, '_>,
) -> Result<(Snapshot, SkipCounts), LoadError> {
    if !root.is_dir() {
        return Err(LoadError::NoSuchDir {
            path: root.display().to_string(),
        });
    }
    let (recall, learnt) = memory;
    let mut reader = Reader {
        snapshot: Snapshot {
            origin: Arc::new(Origin::Tree(root.to_path_buf())),
            ..Snapshot::default()
        },
        skipped: SkipCounts::default(),
        select,
        pending: Vec::new(),
        recall,
        learnt,
    };
    let rules = Arc::new(IgnoreRules::new(root));
    let walk_rules = Arc::clone(&rules);
    // The walker's own ignore-file reading is off: it opens `.gitignore` files with a plain
    // `open`, which blocks forever on a FIFO of that name. `IgnoreRules` reads them as any file.
    let walker = ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .follow_links(false)
        .filter_entry(move |entry| {
            entry.file_name() != ".git"
                && !is_nested_repository(entry, &walk_rules)
                && !walk_rules.ignores(entry)
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
            if rules.has_git(entry.path()) {
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
    reader.flush();
    for repository in &repositories {
        reader.add_tracked(root, repository);
    }
    reader.flush();
    Ok((reader.snapshot, reader.skipped))
}

/// `.gitignore` files (each directory's own, deeper ones first), then a repository's
/// `.git/info/exclude`, then the user's global excludes file: git's order of precedence. A
/// directory that is ignored is not entered, so nothing under it is re-included, as in git.
struct IgnoreRules {
    root: PathBuf,
    global: Gitignore,
    /// By the directory's path as bytes: hashing a `Path` walks its components, and every
    /// entry asks for each of its ancestors.
    per_dir: Mutex<foldhash::HashMap<std::ffi::OsString, Option<Arc<Gitignore>>>>,
    /// Each directory's `.git`, looked up once (`None`: none; else whether it is a directory):
    /// the walk asks it of every directory three times, each a lookup of the whole path that
    /// fails in almost every directory (a warm check over 2,500 plain directories: 13,900
    /// `statx` calls, 9,900 failing, before; 8,900 and 5,000 after).
    git: Mutex<foldhash::HashMap<std::ffi::OsString, Option<bool>>>,
}

impl IgnoreRules {
    fn new(root: &Path) -> IgnoreRules {
        IgnoreRules {
            root: root.to_path_buf(),
            global: GitignoreBuilder::new(root).build_global().0,
            per_dir: Mutex::new(foldhash::HashMap::default()),
            git: Mutex::new(foldhash::HashMap::default()),
        }
    }

    /// Does this directory hold a repository (`.git` directory, or file for a submodule)?
    fn has_git(&self, dir: &Path) -> bool {
        self.git_kind(dir).is_some()
    }

    /// The directory's `.git`: none, or whether it is a directory.
    fn git_kind(&self, dir: &Path) -> Option<bool> {
        let mut known = self
            .git
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(kind) = known.get(dir.as_os_str()) {
            return *kind;
        }
        let kind = std::fs::symlink_metadata(dir.join(".git"))
            .ok()
            .map(|m| m.is_dir());
        known.insert(dir.as_os_str().to_owned(), kind);
        kind
    }

    fn ignores(&self, entry: &ignore::DirEntry) -> bool {
        if entry.depth() == 0 {
            return false;
        }
        let path = entry.path();
        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
        // The walk's paths are the root's joined with names: an entry `depth` levels down has
        // that many ancestors from its parent up to the root.
        for dir in path.ancestors().skip(1).take(entry.depth()) {
            if let Some(rules) = self.rules_of(dir) {
                match rules.matched(path, is_dir) {
                    Match::Ignore(_) => return true,
                    Match::Whitelist(_) => return false,
                    Match::None => {}
                }
            }
        }
        let relative = path.strip_prefix(&self.root).unwrap_or(path);
        self.global.matched(relative, is_dir).is_ignore()
    }

    /// The rules a directory's own files give, read once.
    fn rules_of(&self, dir: &Path) -> Option<Arc<Gitignore>> {
        let mut cache = self
            .per_dir
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(rules) = cache.get(dir.as_os_str()) {
            return rules.clone();
        }
        let rules = read_rules(dir, self.git_kind(dir) == Some(true));
        cache.insert(dir.as_os_str().to_owned(), rules.clone());
        rules
    }
}

/// A directory's `.git/info/exclude` (when `.git` is a directory: `git_is_dir`) and
/// `.gitignore`, later lines winning. Files that are not regular, too large or unreadable give
/// no rules.
fn read_rules(dir: &Path, git_is_dir: bool) -> Option<Arc<Gitignore>> {
    let mut builder = GitignoreBuilder::new(dir);
    let mut any = false;
    let exclude = git_is_dir.then(|| dir.join(".git").join("info").join("exclude"));
    for file in exclude.into_iter().chain([dir.join(".gitignore")]) {
        if !std::fs::symlink_metadata(&file).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let Ok(Regular::Bytes(bytes)) = super::read_regular_file(&file, MAX_FILE_BYTES) else {
            continue;
        };
        for line in String::from_utf8_lossy(&bytes).lines() {
            // A malformed pattern is left out, as git leaves it out.
            let _ = builder.add_line(Some(file.clone()), line);
            any = true;
        }
    }
    if !any {
        return None;
    }
    builder.build().ok().map(Arc::new)
}

struct Reader<'a, 'm, 'r> {
    snapshot: Snapshot,
    skipped: SkipCounts,
    select: Selector<'a>,
    /// Files found and not yet read: (name, file on disk).
    pending: Vec<(String, PathBuf)>,
    recall: Option<&'m RecallIndex<'r>>,
    learnt: &'m mut super::Recall,
}

impl Reader<'_, '_, '_> {
    fn seen(&self, path: &str) -> bool {
        self.snapshot.files.contains_key(path) || self.snapshot.unread.contains(path)
    }

    /// Queues one regular file the walk or the index found; [`Reader::flush`] reads it.
    fn read(&mut self, path: String, file: &Path) {
        if super::is_vendored(&path) {
            self.skipped.vendored += 1;
            self.snapshot.unread.insert(path);
            return;
        }
        self.pending.push((path, file.to_path_buf()));
    }

    /// Reads the queued files in parallel (reading and hashing them is most of loading a large
    /// checkout) and files each one, in the order they were queued.
    fn flush(&mut self) {
        let (select, recall) = (self.select, self.recall);
        // Each file with its stamp, and whether it was read rather than recalled.
        type Found = (String, FileRead, Option<(Stamp, bool)>);
        let read: Vec<Found> = std::mem::take(&mut self.pending)
            .into_par_iter()
            .map(|(path, file)| {
                let stamp = Stamp::of(&file);
                if let (Some(stamp), Some(recall)) = (stamp, recall)
                    && let Some(entry) = recall.stamped(&path, &stamp)
                {
                    return (path, FileRead::recalled(entry), Some((stamp, false)));
                }
                let read = read_one(&path, &file, select);
                (path, read, stamp.map(|s| (s, true)))
            })
            .collect();
        for (path, read, stamp) in read {
            if let (Some((stamp, afresh)), Some((found, key))) = (stamp, read.found()) {
                let entry = Entry {
                    path: path.clone(),
                    key: key.to_string(),
                    found,
                    stamp: Some(stamp),
                };
                self.learnt.push(entry, afresh);
            }
            read.file_into(path, &mut self.snapshot, &mut self.skipped);
        }
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
            let name = format!("{prefix}{}", path_from_bytes(&entry.path));
            // Submodules (gitlinks) are other repositories: listed, not read.
            if entry.mode & 0o170000 == 0o160000 {
                self.snapshot.unread.insert(name);
                continue;
            }
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

fn read_one(path: &str, file: &Path, select: Selector<'_>) -> FileRead {
    let bytes = match super::read_regular_file(file, MAX_FILE_BYTES) {
        Ok(Regular::Bytes(bytes)) => bytes,
        Ok(Regular::TooLarge) => return FileRead::Oversized,
        Ok(Regular::NotRegular) | Err(_) => return FileRead::Unreadable,
    };
    match FileRead::left_out(path, &bytes, select) {
        Some(left_out) => left_out,
        None => FileRead::File(super::FileContent::new(bytes)),
    }
}

/// The bytes of the file `path` of the working tree at `root`, when it is a regular file
/// inside the repository (no symlink on the way) whose content key is still `key`.
pub(super) fn file_with_key(root: &Path, path: &str, key: &str) -> Option<Vec<u8>> {
    let Some(Inside::File(file)) = regular_inside(root, path.as_bytes()) else {
        return None;
    };
    let Ok(Regular::Bytes(bytes)) = super::read_regular_file(&file, MAX_FILE_BYTES) else {
        return None;
    };
    (crate::digest::blob_id(&bytes) == key).then_some(bytes)
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

/// A directory below the walk's root that holds a repository and lies in another repository's
/// working tree (one of its ancestors up to the root holds one too).
fn is_nested_repository(entry: &ignore::DirEntry, rules: &IgnoreRules) -> bool {
    entry.depth() > 0
        && entry.file_type().is_some_and(|t| t.is_dir())
        && rules.has_git(entry.path())
        && entry
            .path()
            .ancestors()
            .skip(1)
            .take(entry.depth())
            .any(|dir| rules.has_git(dir))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn files(root: &Path) -> Vec<String> {
        let select = |_: &str, _: &[u8]| true;
        let (snapshot, _) =
            snapshot(root, &select, (None, &mut super::super::Recall::default())).unwrap();
        snapshot.files.keys().cloned().collect()
    }

    fn put(root: &Path, path: &str, text: &str) {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    #[test]
    fn ignore_rules_follow_git_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        put(root, ".gitignore", "*.log\nbuild/\n!keep.log\n/top.txt\n");
        put(root, "a.log", "");
        put(root, "keep.log", "");
        put(root, "top.txt", "");
        put(root, "sub/top.txt", "");
        put(root, "build/x.sh", "");
        // A deeper `.gitignore` wins over its parent's.
        put(root, "sub/.gitignore", "!again.log\n");
        put(root, "sub/again.log", "");
        put(root, "sub/other.log", "");
        assert_eq!(
            files(root),
            [
                ".gitignore",
                "keep.log",
                "sub/.gitignore",
                "sub/again.log",
                "sub/top.txt"
            ]
        );
    }

    #[test]
    fn info_exclude_and_nested_repositories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git2::Repository::init(root).unwrap();
        put(root, ".git/info/exclude", "*.tmp\n");
        put(root, "a.tmp", "");
        put(root, "a.sh", "");
        // An embedded repository is not descended into; in a directory that is not a
        // repository, a repository is read like any directory.
        git2::Repository::init(root.join("inner")).unwrap();
        put(root, "inner/x.sh", "");
        assert_eq!(files(root), ["a.sh"]);
        let plain = tempfile::tempdir().unwrap();
        git2::Repository::init(plain.path().join("one")).unwrap();
        put(plain.path(), "one/y.sh", "");
        assert_eq!(files(plain.path()), ["one/y.sh"]);
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_are_kept_apart() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        for name in [&b"x\xff.sh"[..], b"x\xfe.sh", b"x\\xff.sh"] {
            std::fs::write(dir.path().join(std::ffi::OsStr::from_bytes(name)), "").unwrap();
        }
        assert_eq!(files(dir.path()), ["x\\\\xff.sh", "x\\xfe.sh", "x\\xff.sh"]);
    }
}
