//! Which lines a change touched: the hunks between each changed file's base and head content,
//! computed the way `git diff` computes them (libgit2's diff of the two buffers, no context), so
//! that later stages can hold every finding's change site to lines the change really touched.

use super::Snapshot;
use crate::model::{ChangedLines, FileLines};
use std::collections::{BTreeSet, HashMap};

/// The whole of a side that was added or removed.
const WHOLE_FILE: (u32, u32) = (1, u32::MAX);

/// Touched lines of every changed path.
pub fn changed_lines(
    repo: &str,
    base: &Snapshot,
    head: &Snapshot,
    changed_paths: &BTreeSet<String>,
) -> ChangedLines {
    let mut out = ChangedLines::new(repo);
    let renamed = renames(base, head, changed_paths);
    for path in changed_paths {
        let lines = match (base.files.get(path), head.files.get(path)) {
            (Some(old), Some(new)) => file_lines(&old.bytes, &new.bytes),
            // A file moved (and maybe edited): only what differs from where it came from was
            // written by the change.
            (None, Some(new)) => match renamed
                .get(path.as_str())
                .and_then(|from| base.files.get(*from))
            {
                Some(old) => FileLines {
                    base: Vec::new(),
                    head: file_lines(&old.bytes, &new.bytes).head,
                },
                None => FileLines {
                    base: Vec::new(),
                    head: vec![WHOLE_FILE],
                },
            },
            (Some(_), None) => FileLines {
                base: vec![WHOLE_FILE],
                head: Vec::new(),
            },
            (None, None) => continue,
        };
        out.insert(path.clone(), lines);
    }
    out
}

/// Added paths that are a removed file moved: the same content, else the only removed file of
/// the same name when it is the only added one of that name. Linear in the changed paths.
fn renames<'p>(
    base: &Snapshot,
    head: &Snapshot,
    changed_paths: &'p BTreeSet<String>,
) -> HashMap<&'p str, &'p str> {
    let file_name = |p: &'p str| p.rsplit('/').next().unwrap_or(p);
    let mut removed_by_content: HashMap<&[u8], &'p str> = HashMap::new();
    let mut removed_by_name: HashMap<&'p str, Vec<&'p str>> = HashMap::new();
    let mut added_by_name: HashMap<&'p str, usize> = HashMap::new();
    for path in changed_paths {
        match (base.files.get(path), head.files.get(path)) {
            (Some(old), None) => {
                removed_by_content.entry(&old.bytes).or_insert(path);
                removed_by_name
                    .entry(file_name(path))
                    .or_default()
                    .push(path);
            }
            (None, Some(_)) => *added_by_name.entry(file_name(path)).or_default() += 1,
            _ => {}
        }
    }
    let mut out = HashMap::new();
    for path in changed_paths {
        let (None, Some(new)) = (base.files.get(path), head.files.get(path)) else {
            continue;
        };
        let name = file_name(path);
        let from = removed_by_content.get(&*new.bytes).copied().or_else(|| {
            match (
                removed_by_name.get(name).map(Vec::as_slice),
                added_by_name.get(name),
            ) {
                (Some([only]), Some(1)) => Some(*only),
                _ => None,
            }
        });
        if let Some(from) = from {
            out.insert(path.as_str(), from);
        }
    }
    out
}

/// Files of the repository tree that the change removes — deleted, or moved elsewhere — with
/// where each went when that is plain (the same content, or the one added file of the same
/// name, or of the same name plus an extension: `netd-disp` -> `netd-disp.j2`). Files knockon
/// does not read count too: a compose file names an env file, a role task names a template.
pub fn removed_files(
    base: &Snapshot,
    head: &Snapshot,
    changed_paths: &BTreeSet<String>,
) -> std::collections::BTreeMap<String, Option<String>> {
    let exists = |s: &Snapshot, p: &str| s.files.contains_key(p) || s.unread.contains(p);
    let moved: HashMap<&str, &str> = renames(base, head, changed_paths)
        .into_iter()
        .map(|(to, from)| (from, to))
        .collect();
    // `changed_paths` holds the files knockon reads; the unread ones are compared here.
    let candidates: BTreeSet<&String> = changed_paths
        .iter()
        .chain(base.unread.difference(&head.unread))
        .chain(head.unread.difference(&base.unread))
        .collect();
    let added: Vec<&str> = candidates
        .iter()
        .filter(|p| !exists(base, p) && exists(head, p))
        .map(|p| p.as_str())
        .collect();
    let mut out = std::collections::BTreeMap::new();
    for path in candidates {
        if !exists(base, path) || exists(head, path) {
            continue;
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        let to = moved.get(path.as_str()).map(|s| s.to_string()).or_else(|| {
            let mut similar = added.iter().filter(|a| {
                let added_name = a.rsplit('/').next().unwrap_or(a);
                added_name == name
                    || added_name
                        .strip_prefix(name)
                        .is_some_and(|rest| rest.starts_with('.') && !rest[1..].contains('.'))
            });
            match (similar.next(), similar.next()) {
                (Some(only), None) => Some(only.to_string()),
                _ => None,
            }
        });
        out.insert(path.clone(), to);
    }
    out
}

/// The hunks of one modified file. A pure insertion touches no base line, and a pure deletion
/// no head line; each is recorded as the line on either side of where it happened, so that code
/// next to a removed argument or an inserted line still counts as touched. When libgit2 cannot
/// diff the buffers (it judged them binary), the whole file counts as touched.
fn file_lines(old: &[u8], new: &[u8]) -> FileLines {
    let mut options = git2::DiffOptions::new();
    options.context_lines(0).force_text(true);
    let Ok(patch) = git2::Patch::from_buffers(old, None, new, None, Some(&mut options)) else {
        return FileLines {
            base: vec![WHOLE_FILE],
            head: vec![WHOLE_FILE],
        };
    };
    let mut lines = FileLines::default();
    for i in 0..patch.num_hunks() {
        let Ok((hunk, _)) = patch.hunk(i) else {
            continue;
        };
        lines.base.push(range(hunk.old_start(), hunk.old_lines()));
        lines.head.push(range(hunk.new_start(), hunk.new_lines()));
    }
    lines.base = merged(lines.base);
    lines.head = merged(lines.head);
    lines
}

/// `count` lines from `start`; an empty side (`start` is the line before the edit) becomes the
/// lines just before and after the edit.
fn range(start: u32, count: u32) -> (u32, u32) {
    if count == 0 {
        (start.max(1), start.saturating_add(1))
    } else {
        (start, start.saturating_add(count - 1))
    }
}

/// Sorted, with overlapping or adjacent ranges merged, as `ChangedLines::touches` expects.
fn merged(mut ranges: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    ranges.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match out.last_mut() {
            Some(last) if start <= last.1.saturating_add(1) => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Version;

    fn lines(old: &str, new: &str) -> FileLines {
        file_lines(old.as_bytes(), new.as_bytes())
    }

    #[test]
    fn modified_line_is_touched_on_both_sides() {
        let l = lines("a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(l.base, vec![(2, 2)]);
        assert_eq!(l.head, vec![(2, 2)]);
    }

    #[test]
    fn insertion_touches_its_neighbours_at_base() {
        let l = lines("a\nc\n", "a\nb\nc\n");
        assert_eq!(l.head, vec![(2, 2)]);
        assert_eq!(l.base, vec![(1, 2)]);
    }

    #[test]
    fn deletion_touches_its_neighbours_at_head() {
        let l = lines("a\nb\nc\n", "a\nc\n");
        assert_eq!(l.base, vec![(2, 2)]);
        assert_eq!(l.head, vec![(1, 2)]);
    }

    #[test]
    fn statement_span_reaches_lines_below_a_site() {
        let mut changed = ChangedLines::new("r");
        changed.insert(
            "x.py".into(),
            lines("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nd\nE\nf\ng\n"),
        );
        assert!(changed.touches("x.py", 5, Version::Head));
        assert!(changed.touches("x.py", 2, Version::Head));
        assert!(!changed.touches("x.py", 1, Version::Head));
        assert!(!changed.touches("x.py", 6, Version::Head));
        assert!(!changed.touches("y.py", 5, Version::Head));
    }

    #[test]
    fn added_and_removed_files_are_touched_everywhere() {
        let mut base = Snapshot::default();
        let mut head = Snapshot::default();
        base.files.insert(
            "old.sh".into(),
            super::super::FileContent::new(b"rm x\n".to_vec()),
        );
        head.files.insert(
            "new.sh".into(),
            super::super::FileContent::new(b"rm y\n".to_vec()),
        );
        let paths: BTreeSet<String> = ["old.sh", "new.sh"].map(String::from).into();
        let changed = changed_lines("r", &base, &head, &paths);
        assert!(changed.touches("new.sh", 900, Version::Head));
        assert!(!changed.touches("new.sh", 1, Version::Base));
        assert!(changed.touches("old.sh", 1, Version::Base));
    }

    fn snapshot(files: &[(&str, &str)]) -> Snapshot {
        let mut snapshot = Snapshot::default();
        for (path, text) in files {
            snapshot.files.insert(
                (*path).into(),
                super::super::FileContent::new(text.as_bytes().to_vec()),
            );
        }
        snapshot
    }

    /// A moved file is not code the change wrote: only its edits are (iiab commit 4462652d moved
    /// a script unchanged, and its stale reader must still be reported).
    #[test]
    fn a_moved_file_is_touched_only_where_it_was_edited() {
        let base = snapshot(&[
            (
                "roles/a/gen-iptables",
                "#!/bin/sh\ncat /etc/xs_wan_device\n",
            ),
            ("old/run.sh", "a\nb\nc\n"),
        ]);
        let head = snapshot(&[
            (
                "roles/b/gen-iptables",
                "#!/bin/sh\ncat /etc/xs_wan_device\n",
            ),
            ("new/run.sh", "a\nB\nc\n"),
        ]);
        let paths: BTreeSet<String> = [
            "roles/a/gen-iptables",
            "roles/b/gen-iptables",
            "old/run.sh",
            "new/run.sh",
        ]
        .map(String::from)
        .into();
        let changed = changed_lines("r", &base, &head, &paths);
        assert!(!changed.wrote_head_line("r", "roles/b/gen-iptables", 2));
        assert!(changed.wrote_head_line("r", "new/run.sh", 2));
        assert!(!changed.wrote_head_line("r", "new/run.sh", 1));
        assert!(changed.touches("roles/a/gen-iptables", 2, Version::Base));
    }
}
