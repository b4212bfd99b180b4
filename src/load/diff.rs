//! Unified diffs (git format, and plain `diff -u`): parsing, and applying them forwards or in
//! reverse to file contents in memory.
//!
//! `--diff FILE` gives a change against the working tree that may or may not be applied yet; the
//! loader tries both directions with [`FilePatch::apply`] and [`FilePatch::unapply`] and keeps the
//! one that fits. Hunks are found near their stated line first, then anywhere (as `patch` does),
//! but their lines must match exactly.

use std::fmt;

/// One file's part of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilePatch {
    /// Path before the change; `None` for a new file.
    pub old_path: Option<String>,
    /// Path after the change; `None` for a deleted file.
    pub new_path: Option<String>,
    pub hunks: Vec<Hunk>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hunk {
    /// 1-based first line in the old file (0 for an empty old side).
    pub old_start: usize,
    /// 1-based first line in the new file.
    pub new_start: usize,
    pub lines: Vec<HunkLine>,
    /// 1-based line of the `@@` header in the diff, for errors.
    pub header_line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HunkLine {
    Context(String),
    Removed(String),
    Added(String),
}

/// A diff that cannot be read; `line` is 1-based in the diff text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for DiffParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A hunk that does not match the content it is applied to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyError {
    pub path: String,
    pub hunk: usize,
    pub line: usize,
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hunk {} of {} (at line {}) does not match the file",
            self.hunk, self.path, self.line
        )
    }
}

/// Parses a unified diff into per-file patches. An empty diff is an error: there is no change.
pub fn parse(text: &str) -> Result<Vec<FilePatch>, DiffParseError> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut patches = Vec::new();
    let mut i = 0;
    let mut git_paths: Option<(String, String)> = None;
    let mut pending_new = false;
    let mut pending_deleted = false;
    let mut pending_rename: (Option<String>, Option<String>) = (None, None);
    while i < lines.len() {
        let line = lines[i].trim_end_matches('\r');
        if let Some(rest) = line.strip_prefix("diff --git ") {
            flush_header_only(
                &mut patches,
                &git_paths,
                pending_new,
                pending_deleted,
                &pending_rename,
            );
            git_paths = parse_git_header(rest);
            pending_new = false;
            pending_deleted = false;
            pending_rename = (None, None);
            i += 1;
            continue;
        }
        if line.starts_with("new file mode") {
            pending_new = true;
        } else if line.starts_with("deleted file mode") {
            pending_deleted = true;
        } else if let Some(p) = line.strip_prefix("rename from ") {
            pending_rename.0 = Some(p.to_string());
        } else if let Some(p) = line.strip_prefix("rename to ") {
            pending_rename.1 = Some(p.to_string());
        } else if line.starts_with("Binary files ") || line.starts_with("GIT binary patch") {
            return Err(DiffParseError {
                line: i + 1,
                message: "binary patches are not supported".into(),
            });
        }
        if let Some(old) = line.strip_prefix("--- ") {
            let Some(next) = lines.get(i + 1).map(|l| l.trim_end_matches('\r')) else {
                return Err(DiffParseError {
                    line: i + 1,
                    message: "`---` header without `+++`".into(),
                });
            };
            let Some(new) = next.strip_prefix("+++ ") else {
                return Err(DiffParseError {
                    line: i + 2,
                    message: "expected a `+++` line after `---`".into(),
                });
            };
            let old_path = header_path(old, git_paths.is_some());
            let new_path = header_path(new, git_paths.is_some());
            i += 2;
            let (hunks, next_i) = parse_hunks(&lines, i)?;
            i = next_i;
            patches.push(FilePatch {
                old_path,
                new_path,
                hunks,
            });
            git_paths = None;
            pending_new = false;
            pending_deleted = false;
            pending_rename = (None, None);
            continue;
        }
        i += 1;
    }
    flush_header_only(
        &mut patches,
        &git_paths,
        pending_new,
        pending_deleted,
        &pending_rename,
    );
    if patches.is_empty() {
        return Err(DiffParseError {
            line: 1,
            message: "no file changes found (expected `---`/`+++` headers and `@@` hunks)".into(),
        });
    }
    Ok(patches)
}

/// A `diff --git` block without hunks: an empty new or deleted file, or a pure rename.
fn flush_header_only(
    patches: &mut Vec<FilePatch>,
    git_paths: &Option<(String, String)>,
    new: bool,
    deleted: bool,
    rename: &(Option<String>, Option<String>),
) {
    let Some((a, b)) = git_paths else { return };
    if let (Some(from), Some(to)) = rename {
        patches.push(FilePatch {
            old_path: Some(from.clone()),
            new_path: Some(to.clone()),
            hunks: Vec::new(),
        });
    } else if new {
        patches.push(FilePatch {
            old_path: None,
            new_path: Some(b.clone()),
            hunks: Vec::new(),
        });
    } else if deleted {
        patches.push(FilePatch {
            old_path: Some(a.clone()),
            new_path: None,
            hunks: Vec::new(),
        });
    }
}

fn parse_git_header(rest: &str) -> Option<(String, String)> {
    // `a/x b/x`; paths with spaces are ambiguous, so split at " b/" when present.
    let rest = rest.trim();
    let idx = rest.find(" b/")?;
    let a = rest[..idx].strip_prefix("a/").unwrap_or(&rest[..idx]);
    let b = &rest[idx + 3..];
    Some((a.to_string(), b.to_string()))
}

fn header_path(raw: &str, git_style: bool) -> Option<String> {
    // Strip a trailing timestamp (`diff -u` puts a tab before it).
    let raw = raw.split('\t').next().unwrap_or(raw).trim();
    let raw = raw.trim_matches('"');
    if raw == "/dev/null" {
        return None;
    }
    let stripped = if git_style || raw.starts_with("a/") || raw.starts_with("b/") {
        raw.strip_prefix("a/")
            .or_else(|| raw.strip_prefix("b/"))
            .unwrap_or(raw)
    } else {
        raw
    };
    Some(stripped.trim_start_matches("./").to_string())
}

fn parse_hunks(lines: &[&str], mut i: usize) -> Result<(Vec<Hunk>, usize), DiffParseError> {
    let mut hunks = Vec::new();
    while i < lines.len() {
        let line = lines[i].trim_end_matches('\r');
        let Some(header) = line.strip_prefix("@@") else {
            break;
        };
        let (old_start, old_len, new_start, new_len) =
            parse_range_header(header).ok_or_else(|| DiffParseError {
                line: i + 1,
                message: format!("malformed hunk header `{}`", truncate(line, 60)),
            })?;
        let header_line = i + 1;
        i += 1;
        let mut hunk_lines = Vec::new();
        let (mut seen_old, mut seen_new) = (0usize, 0usize);
        while seen_old < old_len || seen_new < new_len {
            let Some(raw) = lines.get(i) else {
                return Err(DiffParseError {
                    line: i,
                    message: "hunk ends early (fewer lines than its header says)".into(),
                });
            };
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            if raw.starts_with('\\') {
                i += 1;
                continue;
            }
            let (tag, body) = match raw.chars().next() {
                Some(c) => (c, &raw[c.len_utf8()..]),
                // An empty line inside a hunk is an empty context line (some tools strip the space).
                None => (' ', ""),
            };
            match tag {
                ' ' => {
                    hunk_lines.push(HunkLine::Context(body.to_string()));
                    seen_old += 1;
                    seen_new += 1;
                }
                '-' => {
                    hunk_lines.push(HunkLine::Removed(body.to_string()));
                    seen_old += 1;
                }
                '+' => {
                    hunk_lines.push(HunkLine::Added(body.to_string()));
                    seen_new += 1;
                }
                _ => {
                    return Err(DiffParseError {
                        line: i + 1,
                        message: "hunk line does not start with ' ', '-' or '+'".into(),
                    });
                }
            }
            i += 1;
        }
        while lines.get(i).is_some_and(|l| l.starts_with('\\')) {
            i += 1;
        }
        hunks.push(Hunk {
            old_start,
            new_start,
            lines: hunk_lines,
            header_line,
        });
    }
    Ok((hunks, i))
}

fn parse_range_header(header: &str) -> Option<(usize, usize, usize, usize)> {
    // ` -l,s +l,s @@ section`
    let body = header.trim_start();
    let end = body.find("@@")?;
    let mut parts = body[..end].split_whitespace();
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let (os, ol) = parse_range(old)?;
    let (ns, nl) = parse_range(new)?;
    Some((os, ol, ns, nl))
}

fn parse_range(text: &str) -> Option<(usize, usize)> {
    match text.split_once(',') {
        Some((s, l)) => Some((s.parse().ok()?, l.parse().ok()?)),
        None => Some((text.parse().ok()?, 1)),
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

impl FilePatch {
    /// The path to show for this patch.
    pub fn display_path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or("?")
    }

    /// Applies the patch to the old content, giving the new content.
    pub fn apply(&self, old: &str) -> Result<String, ApplyError> {
        self.apply_direction(old, false)
    }

    /// Applies the patch in reverse to the new content, giving the old content.
    pub fn unapply(&self, new: &str) -> Result<String, ApplyError> {
        self.apply_direction(new, true)
    }

    fn apply_direction(&self, content: &str, reverse: bool) -> Result<String, ApplyError> {
        let had_trailing_newline = content.ends_with('\n') || content.is_empty();
        let mut lines: Vec<String> = if content.is_empty() {
            Vec::new()
        } else {
            content
                .strip_suffix('\n')
                .unwrap_or(content)
                .split('\n')
                .map(str::to_string)
                .collect()
        };
        let mut offset: isize = 0;
        for (index, hunk) in self.hunks.iter().enumerate() {
            let (from, to): (Vec<&str>, Vec<&str>) = hunk.sides(reverse);
            let stated = if reverse {
                hunk.new_start
            } else {
                hunk.old_start
            };
            let expected = (stated.saturating_sub(1) as isize + offset).max(0) as usize;
            // Like `git apply`: a hunk without leading context at line 1 must match at the start
            // of the file, and a hunk without trailing context must match at its end. Without
            // this, a pure addition at either end applies again to a file that already has it.
            let anchors = Anchors {
                start: stated <= 1 && hunk.leading_context() == 0,
                end: hunk.trailing_context() == 0,
            };
            let at = find_block(&lines, &from, expected, anchors).ok_or_else(|| ApplyError {
                path: self.display_path().to_string(),
                hunk: index + 1,
                line: stated,
            })?;
            let replacement: Vec<String> = to.iter().map(|s| s.to_string()).collect();
            lines.splice(at..at + from.len(), replacement);
            offset += at as isize - expected as isize + to.len() as isize - from.len() as isize;
        }
        let mut out = lines.join("\n");
        if !lines.is_empty() && had_trailing_newline {
            out.push('\n');
        }
        Ok(out)
    }
}

/// Where a hunk must match.
#[derive(Clone, Copy)]
struct Anchors {
    start: bool,
    end: bool,
}

impl Hunk {
    /// Context lines before the first change.
    fn leading_context(&self) -> usize {
        self.lines
            .iter()
            .take_while(|l| matches!(l, HunkLine::Context(_)))
            .count()
    }

    /// Context lines after the last change.
    fn trailing_context(&self) -> usize {
        self.lines
            .iter()
            .rev()
            .take_while(|l| matches!(l, HunkLine::Context(_)))
            .count()
    }

    fn sides(&self, reverse: bool) -> (Vec<&str>, Vec<&str>) {
        let mut old = Vec::new();
        let mut new = Vec::new();
        for line in &self.lines {
            match line {
                HunkLine::Context(s) => {
                    old.push(s.as_str());
                    new.push(s.as_str());
                }
                HunkLine::Removed(s) => old.push(s.as_str()),
                HunkLine::Added(s) => new.push(s.as_str()),
            }
        }
        if reverse { (new, old) } else { (old, new) }
    }
}

/// Finds `block` in `lines`, nearest to `expected` first.
fn find_block(
    lines: &[String],
    block: &[&str],
    expected: usize,
    anchors: Anchors,
) -> Option<usize> {
    if block.is_empty() {
        return Some(if anchors.end {
            lines.len()
        } else if anchors.start {
            0
        } else {
            expected.min(lines.len())
        });
    }
    if block.len() > lines.len() {
        return None;
    }
    let last_start = lines.len() - block.len();
    let matches_at = |at: usize| {
        (!anchors.start || at == 0)
            && (!anchors.end || at == last_start)
            && block.iter().zip(&lines[at..]).all(|(b, l)| l == b)
    };
    let expected = expected.min(last_start);
    for distance in 0..=last_start {
        let below = expected.checked_sub(distance);
        let above = expected + distance;
        if let Some(at) = below
            && matches_at(at)
        {
            return Some(at);
        }
        if distance > 0 && above <= last_start && matches_at(above) {
            return Some(above);
        }
        if below.is_none() && above > last_start {
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/loader/write.py b/loader/write.py
index 111..222 100644
--- a/loader/write.py
+++ b/loader/write.py
@@ -1,3 +1,3 @@
 import os
-OUT = \"/data/ticker/ticker_{day}.csv\"
+OUT = \"/data/ticker/{day}/{exchange}.csv\"
 print(OUT)
";

    #[test]
    fn parses_and_applies_both_directions() {
        let patches = parse(DIFF).unwrap();
        assert_eq!(patches.len(), 1);
        assert_eq!(patches[0].old_path.as_deref(), Some("loader/write.py"));
        let old = "import os\nOUT = \"/data/ticker/ticker_{day}.csv\"\nprint(OUT)\n";
        let new = patches[0].apply(old).unwrap();
        assert!(new.contains("{exchange}"));
        assert_eq!(patches[0].unapply(&new).unwrap(), old);
        assert!(patches[0].apply(&new).is_err());
    }

    #[test]
    fn finds_hunks_that_moved() {
        let patches = parse(DIFF).unwrap();
        let old =
            "# header\n# more\nimport os\nOUT = \"/data/ticker/ticker_{day}.csv\"\nprint(OUT)\n";
        assert!(patches[0].apply(old).unwrap().contains("{exchange}"));
    }

    #[test]
    fn new_and_deleted_files() {
        let diff = "diff --git a/n.sh b/n.sh\nnew file mode 100644\n--- /dev/null\n+++ b/n.sh\n@@ -0,0 +1,2 @@\n+a\n+b\ndiff --git a/d.sh b/d.sh\ndeleted file mode 100644\n--- a/d.sh\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n";
        let patches = parse(diff).unwrap();
        assert_eq!(patches[0].old_path, None);
        assert_eq!(patches[0].apply("").unwrap(), "a\nb\n");
        assert_eq!(patches[1].new_path, None);
        assert_eq!(patches[1].apply("x\n").unwrap(), "");
    }

    #[test]
    fn malformed_diffs_are_errors_not_panics() {
        assert!(parse("").is_err());
        assert!(parse("hello\nworld\n").is_err());
        assert!(parse("--- a/x\n+++ b/x\n@@ garbage @@\n").is_err());
        assert!(parse("--- a/x\n+++ b/x\n@@ -1,5 +1,5 @@\n x\n").is_err());
        assert!(parse("--- a/x\n").is_err());
        assert!(parse("--- a/x\n+++ b/x\n@@ -1 +1 @@\n*x\n").is_err());
    }

    #[test]
    fn an_addition_at_the_end_does_not_apply_twice() {
        let diff = "--- a/w.py\n+++ b/w.py\n@@ -1,2 +1,3 @@\n import os\n X = 1\n+Y = 2\n";
        let patches = parse(diff).unwrap();
        let base = "import os\nX = 1\n";
        let head = patches[0].apply(base).unwrap();
        assert_eq!(head, "import os\nX = 1\nY = 2\n");
        assert!(patches[0].apply(&head).is_err(), "applied twice");
        assert_eq!(patches[0].unapply(&head).unwrap(), base);
    }

    #[test]
    fn plain_diff_u_paths() {
        let diff =
            "--- x.sh\t2026-01-01 00:00:00\n+++ x.sh\t2026-01-02 00:00:00\n@@ -1 +1 @@\n-a\n+b\n";
        let patches = parse(diff).unwrap();
        assert_eq!(patches[0].new_path.as_deref(), Some("x.sh"));
    }
}
