//! What an earlier load learnt about a repository's files, so that a warm run does not read
//! the files that did not change.
//!
//! Loading used to read every file of every repository on every run, to learn two things: the
//! file's content key, and whether the selector keeps it. On a warm check over a large
//! context that was most of the run's time (inflating every blob of the changed repository,
//! reading and hashing every file of each context directory), though the facts of nearly all
//! of them came from the cache. A [`Recall`] keeps both answers per file:
//!
//! - for a revision, by (path, blob id): both depend on nothing else, so a blob seen before is
//!   never inflated again;
//! - for a working tree, by path and the file's [`Stamp`] (size, modification and change
//!   times, inode, device), as git's index does. A stamp is trusted only when the file's times
//!   are older than the load that recorded it by [`RACY_SLACK`]: a file written in the same
//!   clock tick as it was read could otherwise change without changing its stamp ("racily
//!   clean" in git); such a file is read again until it is old enough. Writing a file always
//!   moves its change time, which nothing but the clock sets, so a file edited and given its
//!   old modification time back is read again too.
//!
//! A file whose answers are recalled is loaded released ([`super::FileContent::released`]):
//! its bytes are read from the snapshot's origin only if something needs them (its facts are
//! not in the cache, a report quotes it, the change touches it).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How much older than the recording load a file's times must be for its stamp to be trusted:
/// file systems keep times in ticks of a few milliseconds, some (FAT) of two seconds.
pub const RACY_SLACK: Duration = Duration::from_secs(2);

/// What a load learnt about the files of one repository (a working tree, or revisions).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Recall {
    /// When the load that learnt this began, in nanoseconds since the Unix epoch.
    taken_at: u128,
    entries: Vec<Entry>,
    /// How many of the entries this load read afresh rather than recalled.
    #[serde(skip)]
    read_afresh: usize,
}

/// One file as a load found it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub path: String,
    /// The content key (git blob id); empty for a working-tree file that was not kept (its
    /// key was never computed).
    pub key: String,
    pub found: Found,
    /// The working-tree file's stamp when it was read; `None` for a file of a revision.
    pub stamp: Option<Stamp>,
}

/// What the loader decided about a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Found {
    /// Kept: the selector wants it.
    Kept,
    NotSelected,
    Oversized,
    Binary,
}

/// The metadata of a working-tree file that changes whenever its content can have changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    size: u64,
    modified: i128,
    changed: i128,
    inode: u64,
    device: u64,
}

impl Stamp {
    /// The stamp of the file at `file` (not following a symlink), or `None` where the platform
    /// gives no change time and inode (then the file is always read).
    pub fn of(file: &Path) -> Option<Stamp> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let m = std::fs::symlink_metadata(file).ok()?;
            let nanos =
                |secs: i64, nsecs: i64| i128::from(secs) * 1_000_000_000 + i128::from(nsecs);
            Some(Stamp {
                size: m.size(),
                modified: nanos(m.mtime(), m.mtime_nsec()),
                changed: nanos(m.ctime(), m.ctime_nsec()),
                inode: m.ino(),
                device: m.dev(),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = file;
            None
        }
    }
}

/// The time a load begins, for [`Recall::begin`].
pub fn now() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

impl Recall {
    /// An empty record of a load that began at `taken_at` ([`now`]).
    pub fn begin(taken_at: u128) -> Recall {
        Recall {
            taken_at,
            entries: Vec::new(),
            read_afresh: 0,
        }
    }

    /// Adds a file's entry; `afresh` when this load read the file rather than recalled it.
    pub fn push(&mut self, entry: Entry, afresh: bool) {
        self.read_afresh += usize::from(afresh);
        self.entries.push(entry);
    }

    /// How many files this load read rather than recalled.
    pub fn read_afresh(&self) -> usize {
        self.read_afresh
    }

    /// The same files with the same answers (whenever each record was taken): nothing new to
    /// keep.
    pub fn same_files(&self, other: &Recall) -> bool {
        fn sorted(r: &Recall) -> Vec<&Entry> {
            let mut entries: Vec<&Entry> = r.entries.iter().collect();
            entries.sort_by(|a, b| (&a.path, &a.key).cmp(&(&b.path, &b.key)));
            entries
        }
        self.entries.len() == other.entries.len() && sorted(self) == sorted(other)
    }

    /// Lookups into the record.
    pub fn index(&self) -> RecallIndex<'_> {
        let mut stamped = HashMap::new();
        let mut blobs = HashMap::new();
        let trusted_before = i128::try_from(self.taken_at.saturating_sub(RACY_SLACK.as_nanos()))
            .unwrap_or(i128::MAX);
        for entry in &self.entries {
            match &entry.stamp {
                Some(stamp) => {
                    if stamp.modified < trusted_before && stamp.changed < trusted_before {
                        stamped.insert(entry.path.as_str(), entry);
                    }
                }
                None => {
                    blobs.insert((entry.path.as_str(), entry.key.as_str()), entry);
                }
            }
        }
        RecallIndex { stamped, blobs }
    }
}

/// A [`Recall`]'s entries by what finds them.
#[derive(Default)]
pub struct RecallIndex<'r> {
    /// Working-tree files whose stamps can be trusted, by path.
    stamped: HashMap<&'r str, &'r Entry>,
    /// Revision files by (path, blob id).
    blobs: HashMap<(&'r str, &'r str), &'r Entry>,
}

impl RecallIndex<'_> {
    /// The entry of the working-tree file `path` when its stamp is still `stamp`.
    pub fn stamped(&self, path: &str, stamp: &Stamp) -> Option<&Entry> {
        self.stamped
            .get(path)
            .copied()
            .filter(|e| e.stamp.as_ref() == Some(stamp))
    }

    /// The entry of the revision file `path` with blob id `key`.
    pub fn blob(&self, path: &str, key: &str) -> Option<&Entry> {
        self.blobs.get(&(path, key)).copied()
    }
}

/// Where a load's records are kept between runs (the content cache), by repository root.
pub trait Recollection {
    /// The record an earlier load of the repository at `root` left, if any.
    fn recall(&mut self, root: &Path) -> Option<Recall>;
    /// Keeps what this load learnt about the repository at `root`.
    fn learn(&mut self, root: &Path, learnt: Recall);
}

/// No records: every file is read (`knockon index`, which extracts every file's text anyway).
pub struct Forgetful;

impl Recollection for Forgetful {
    fn recall(&mut self, _root: &Path) -> Option<Recall> {
        None
    }

    fn learn(&mut self, _root: &Path, _learnt: Recall) {}
}

/// The load of one repository with the record an earlier load of it left, and the record this
/// one is making. Begun and ended with the memory ([`Remembering::begin`], [`Remembering::end`]);
/// the load between needs neither, so repositories load in parallel.
pub(super) struct Remembering {
    root: std::path::PathBuf,
    earlier: Option<Recall>,
    learnt: Recall,
}

impl Remembering {
    pub fn begin(memory: &mut dyn Recollection, root: &Path) -> Remembering {
        Remembering {
            root: root.to_path_buf(),
            earlier: memory.recall(root),
            learnt: Recall::begin(now()),
        }
    }

    /// Runs the load with the earlier record's lookups and the new record.
    pub fn load<T>(&mut self, load: impl FnOnce(Option<&RecallIndex<'_>>, &mut Recall) -> T) -> T {
        let index = self.earlier.as_ref().map(Recall::index);
        load(index.as_ref(), &mut self.learnt)
    }

    /// Keeps the new record when this load read any file afresh (a newer record also trusts
    /// the stamps of files that were too recent before) or found other files.
    pub fn end(self, memory: &mut dyn Recollection) {
        let Remembering {
            root,
            earlier,
            learnt,
        } = self;
        crate::timings::count(
            "files read",
            format!(
                "{} of {} in {}",
                learnt.read_afresh,
                learnt.entries.len(),
                root.display()
            ),
        );
        if learnt.read_afresh > 0 || earlier.as_ref().is_none_or(|e| !e.same_files(&learnt)) {
            memory.learn(&root, learnt);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{SkipCounts, Snapshot, git, worktree};
    use super::*;

    /// Keeps shell scripts, as the loader's callers keep the files of languages they read.
    fn select(path: &str, _: &[u8]) -> bool {
        path.ends_with(".sh")
    }

    fn load_tree(root: &Path, recall: Option<&Recall>) -> (Snapshot, SkipCounts, Recall) {
        let index = recall.map(Recall::index);
        let mut learnt = Recall::begin(now());
        let (snapshot, skipped) =
            worktree::snapshot(root, &select, (index.as_ref(), &mut learnt)).unwrap();
        (snapshot, skipped, learnt)
    }

    /// The record as a load that began `by` after now would have left it: its files are then
    /// old enough for their stamps to be trusted.
    fn taken_later(mut recall: Recall, by: Duration) -> Recall {
        recall.taken_at = now() + by.as_nanos();
        recall
    }

    fn released(snapshot: &Snapshot) -> Vec<&str> {
        let mut out: Vec<&str> = snapshot
            .files
            .iter()
            .filter(|(_, c)| c.released)
            .map(|(p, _)| p.as_str())
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_working_tree_file_is_read_again_only_when_its_stamp_moved() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("clean.sh"), "rm -f /srv/out/*.csv\n").unwrap();
        std::fs::write(root.join("load.sh"), "cp /srv/in/a /srv/out/a\n").unwrap();
        std::fs::write(root.join("notes.txt"), "not a script\n").unwrap();
        std::fs::write(root.join("big.sh"), vec![b'#'; 2 * 1024 * 1024]).unwrap();
        let (first, first_skipped, learnt) = load_tree(root, None);
        assert_eq!(learnt.read_afresh(), 4);
        assert!(released(&first).is_empty());
        assert_eq!(first_skipped.oversized, 1);

        // Recorded long enough ago: nothing is read, and the loader knows what it knew.
        let old = taken_later(learnt.clone(), Duration::from_secs(10));
        let (second, second_skipped, relearnt) = load_tree(root, Some(&old));
        assert_eq!(relearnt.read_afresh(), 0);
        assert!(relearnt.same_files(&learnt));
        assert_eq!(released(&second), ["clean.sh", "load.sh"]);
        assert_eq!(second.unread, first.unread);
        assert_eq!(second_skipped, first_skipped);
        for (path, content) in &second.files {
            assert_eq!(content.key, first.files[path].key, "{path}");
            // A released file is read again, and is what was read the first time.
            assert_eq!(
                second.bytes_of(path).as_deref(),
                Some(&*first.files[path].bytes),
                "{path}"
            );
        }

        // The same size, and the old modification time given back: the change time moved.
        let file = root.join("clean.sh");
        let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
        std::fs::write(&file, "rm -f /srv/out/*.tsv\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let (third, _, learnt_again) = load_tree(root, Some(&old));
        assert_eq!(learnt_again.read_afresh(), 1);
        assert_eq!(released(&third), ["load.sh"]);
        assert_eq!(&*third.files["clean.sh"].bytes, b"rm -f /srv/out/*.tsv\n");
        assert_ne!(third.files["clean.sh"].key, first.files["clean.sh"].key);
    }

    #[test]
    fn files_as_recent_as_the_record_are_read_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("clean.sh"), "rm -f /srv/out/*.csv\n").unwrap();
        let (_, _, learnt) = load_tree(dir.path(), None);
        // Written in the same tick as the record was taken: its stamp proves nothing.
        let (again, _, relearnt) = load_tree(dir.path(), Some(&learnt));
        assert_eq!(relearnt.read_afresh(), 1);
        assert!(released(&again).is_empty());
    }

    #[test]
    fn a_blob_found_before_is_not_inflated_again() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let commit = |files: &[(&str, &str)]| {
            for (path, text) in files {
                std::fs::write(dir.path().join(path), text).unwrap();
            }
            let mut index = repo.index().unwrap();
            index
                .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
                .unwrap();
            index.write().unwrap();
            let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
            let who = git2::Signature::now("t", "t@example.com").unwrap();
            let parents: Vec<git2::Commit<'_>> = repo
                .head()
                .ok()
                .and_then(|h| h.peel_to_commit().ok())
                .into_iter()
                .collect();
            let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
            repo.commit(Some("HEAD"), &who, &who, "c", &tree, &parents)
                .unwrap()
                .to_string()
        };
        let base = commit(&[("clean.sh", "rm -f /srv/out/*.csv\n"), ("notes.txt", "x\n")]);
        let head = commit(&[("load.sh", "cp /srv/in/a /srv/out/a\n")]);
        let load = |rev: &str, recall: Option<&Recall>| {
            let index = recall.map(Recall::index);
            let mut learnt = Recall::begin(now());
            let (snapshot, _) =
                git::snapshot_at(&repo, "r", rev, &select, (index.as_ref(), &mut learnt)).unwrap();
            (snapshot, learnt)
        };
        let (at_base, learnt) = load(&base, None);
        assert_eq!(learnt.read_afresh(), 2);
        // Blob ids need no waiting: the record is trusted at once.
        let (at_head, relearnt) = load(&head, Some(&learnt));
        assert_eq!(relearnt.read_afresh(), 1);
        assert_eq!(released(&at_head), ["clean.sh"]);
        assert!(at_head.unread.contains("notes.txt"));
        assert_eq!(
            at_head.bytes_of("clean.sh").as_deref(),
            Some(&*at_base.files["clean.sh"].bytes)
        );
        assert_eq!(
            &*at_head.files["load.sh"].bytes,
            b"cp /srv/in/a /srv/out/a\n"
        );
    }
}
