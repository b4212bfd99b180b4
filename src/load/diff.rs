//! Unified diffs (git format, and plain `diff -u`): parsing, and applying them forwards or in
//! reverse to file contents in memory.
//!
//! `--diff FILE` gives a change against the working tree that may or may not be applied yet; the
//! loader tries both directions with [`FilePatch::apply_within`] and keeps the one that fits.
//! Hunks are found near their stated line first, then anywhere after the previous hunk (as `patch`
//! does), but their lines must match exactly — a line's `\r` included, so a diff of a file with
//! CRLF line endings applies to that file.
//!
//! The diff is untrusted and may be large: parsing is one pass that borrows every hunk line from
//! the text, paths are decoded as git writes them (C-style quoting with octal escapes) and must
//! stay inside the repository, and a result larger than the caller's limit is never built.

use std::fmt;

/// One file's part of a diff. Hunk lines borrow from the diff text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilePatch<'a> {
    /// Path before the change; `None` for a new file.
    pub old_path: Option<String>,
    /// Path after the change; `None` for a deleted file.
    pub new_path: Option<String>,
    /// `git diff -C`: the new path is a copy of the old one, which stays.
    pub copy: bool,
    /// A binary change (`Binary files ... differ`, `GIT binary patch`): not applied.
    pub binary: bool,
    /// A submodule's commit changes (mode 160000): another repository's, not applied.
    pub submodule: bool,
    pub hunks: Vec<Hunk<'a>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hunk<'a> {
    /// 1-based first line in the old file (0 for an empty old side).
    pub old_start: usize,
    /// 1-based first line in the new file.
    pub new_start: usize,
    pub lines: Vec<HunkLine<'a>>,
    /// 1-based line of the `@@` header in the diff, for errors.
    pub header_line: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HunkLine<'a> {
    Context(&'a str),
    Removed(&'a str),
    Added(&'a str),
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

/// What a file's `diff --git` header block said before its hunks (or instead of them).
#[derive(Default)]
struct Header {
    /// The `diff --git` line's paths, when it had one.
    git_paths: Option<(String, String)>,
    new: bool,
    deleted: bool,
    rename_from: Option<String>,
    rename_to: Option<String>,
    copy_from: Option<String>,
    copy_to: Option<String>,
    binary: bool,
    /// Mode 160000: the path is a submodule.
    submodule: bool,
}

impl Header {
    fn copy(&self) -> bool {
        self.copy_from.is_some() && self.copy_to.is_some()
    }

    /// The paths of a rename or copy, which the `rename`/`copy` lines give without prefixes.
    fn moved(&self) -> Option<(String, String)> {
        match (
            &self.rename_from,
            &self.rename_to,
            &self.copy_from,
            &self.copy_to,
        ) {
            (Some(from), Some(to), _, _) | (_, _, Some(from), Some(to)) => {
                Some((from.clone(), to.clone()))
            }
            _ => None,
        }
    }

    /// The patch of a block without hunks: an empty new or deleted file, a pure rename or copy,
    /// a binary change. `None` when the block changes nothing knockon reads (a mode change).
    fn without_hunks<'a>(&self) -> Option<FilePatch<'a>> {
        let patch = |old_path, new_path| FilePatch {
            old_path,
            new_path,
            copy: self.copy(),
            binary: self.binary,
            submodule: self.submodule,
            hunks: Vec::new(),
        };
        if let Some((from, to)) = self.moved() {
            return Some(patch(Some(from), Some(to)));
        }
        let (a, b) = self.git_paths.clone()?;
        if self.new {
            Some(patch(None, Some(b)))
        } else if self.deleted {
            Some(patch(Some(a), None))
        } else if self.binary || self.submodule {
            Some(patch(Some(a), Some(b)))
        } else {
            None
        }
    }
}

/// Parses a unified diff into per-file patches. An empty diff is an error: there is no change.
pub fn parse(text: &str) -> Result<Vec<FilePatch<'_>>, DiffParseError> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut patches = Vec::new();
    let mut header: Option<Header> = None;
    let mut i = 0;
    while i < lines.len() {
        let number = i + 1;
        let line = lines[i].trim_end_matches('\r');
        if let Some(rest) = line.strip_prefix("diff --git ") {
            if let Some(done) = header.take().and_then(|h| h.without_hunks()) {
                patches.push(done);
            }
            header = Some(Header {
                git_paths: Some(git_header_paths(rest, number)?),
                ..Header::default()
            });
            i += 1;
            continue;
        }
        if let Some(h) = header.as_mut() {
            if line.starts_with("index ") || line.contains(" file mode ") {
                h.submodule |= line.ends_with(" 160000");
            }
            if line.starts_with("new file mode") {
                h.new = true;
            } else if line.starts_with("deleted file mode") {
                h.deleted = true;
            } else if let Some(p) = line.strip_prefix("rename from ") {
                h.rename_from = Some(whole_path(p, number)?);
            } else if let Some(p) = line.strip_prefix("rename to ") {
                h.rename_to = Some(whole_path(p, number)?);
            } else if let Some(p) = line.strip_prefix("copy from ") {
                h.copy_from = Some(whole_path(p, number)?);
            } else if let Some(p) = line.strip_prefix("copy to ") {
                h.copy_to = Some(whole_path(p, number)?);
            }
        }
        if line.starts_with("GIT binary patch") || is_binary_notice(line) {
            let mut h = header.take().unwrap_or_default();
            if h.git_paths.is_none() {
                h.git_paths = Some(binary_notice_paths(line, number)?);
            }
            h.binary = true;
            if let Some(done) = h.without_hunks() {
                patches.push(done);
            }
            // The base85 lines of a binary patch run until the next file's header.
            i += 1;
            while i < lines.len() && !lines[i].starts_with("diff --git ") {
                i += 1;
            }
            continue;
        }
        if let Some(old) = line.strip_prefix("--- ")
            && let Some(next) = lines.get(i + 1)
            && let Some(new) = next.strip_prefix("+++ ")
        {
            // A diff converted to CRLF as a whole (git writes its headers with bare LF): its hunk
            // lines' `\r` is not part of the file either.
            let converted = new.ends_with('\r');
            let h = header.take().unwrap_or_default();
            let git_style = h.git_paths.is_some();
            let (mut old_path, mut new_path) = (
                header_path(old.trim_end_matches('\r'), git_style, number)?,
                header_path(new.trim_end_matches('\r'), git_style, number + 1)?,
            );
            if let Some((from, to)) = h.moved() {
                old_path = Some(from);
                new_path = Some(to);
            }
            let (hunks, next_i) = parse_hunks(&lines, i + 2, converted)?;
            i = next_i;
            patches.push(FilePatch {
                old_path,
                new_path,
                copy: h.copy(),
                binary: false,
                submodule: h.submodule,
                hunks,
            });
            continue;
        }
        if line.starts_with("--- ") {
            return Err(DiffParseError {
                line: number,
                message: "expected a `+++` line after `---`".into(),
            });
        }
        i += 1;
    }
    if let Some(done) = header.and_then(|h| h.without_hunks()) {
        patches.push(done);
    }
    if patches.is_empty() {
        return Err(DiffParseError {
            line: 1,
            message: "no file changes found (expected `---`/`+++` headers and `@@` hunks)".into(),
        });
    }
    Ok(patches)
}

fn is_binary_notice(line: &str) -> bool {
    line.starts_with("Binary files ") && line.ends_with(" differ")
}

/// The paths of `Binary files A and B differ` outside a `diff --git` block (plain `diff`).
fn binary_notice_paths(line: &str, number: usize) -> Result<(String, String), DiffParseError> {
    let body = line
        .strip_prefix("Binary files ")
        .and_then(|l| l.strip_suffix(" differ"))
        .unwrap_or(line);
    let (a, b) = body.split_once(" and ").unwrap_or((body, body));
    let fallback = |p: &str| -> Result<String, DiffParseError> {
        Ok(header_path(p, true, number)?.unwrap_or_else(|| "?".to_string()))
    };
    Ok((fallback(a)?, fallback(b)?))
}

/// The two paths of `diff --git A B`, each quoted or not. Unquoted paths with spaces are
/// ambiguous: `a/X b/X` splits in the middle when both halves name the same file, else at the
/// first ` b/`.
fn git_header_paths(rest: &str, number: usize) -> Result<(String, String), DiffParseError> {
    let rest = rest.trim_end_matches('\r');
    let (a, b): (Vec<u8>, Vec<u8>) = if rest.starts_with('"') {
        let (a, tail) = unquote(rest, number)?;
        let tail = tail.trim_start();
        let b = if tail.starts_with('"') {
            unquote(tail, number)?.0
        } else {
            tail.as_bytes().to_vec()
        };
        (a, b)
    } else if let Some(at) = rest.find(" \"") {
        let (b, _) = unquote(&rest[at + 1..], number)?;
        (rest.as_bytes()[..at].to_vec(), b)
    } else {
        // `a/X b/X`, or `X X` without prefixes: the same name on both sides.
        let half = rest.len() / 2;
        let same_name = rest.len() % 2 == 1
            && rest.as_bytes()[half] == b' '
            && rest[..half].strip_prefix("a/").unwrap_or(&rest[..half])
                == rest[half + 1..]
                    .strip_prefix("b/")
                    .unwrap_or(&rest[half + 1..]);
        let at = if same_name {
            Some(half)
        } else {
            rest.find(" b/")
        };
        match at {
            Some(at) => (
                rest.as_bytes()[..at].to_vec(),
                rest.as_bytes()[at + 1..].to_vec(),
            ),
            None => {
                return Err(DiffParseError {
                    line: number,
                    message: "cannot tell the two paths of the `diff --git` line apart".into(),
                });
            }
        }
    };
    let strip = |p: Vec<u8>, prefix: &[u8]| match p.strip_prefix(prefix) {
        Some(rest) => rest.to_vec(),
        None => p,
    };
    Ok((
        checked_path(strip(a, b"a/"), number)?,
        checked_path(strip(b, b"b/"), number)?,
    ))
}

/// A path that is the whole rest of a line (`rename from P`), quoted or not.
fn whole_path(raw: &str, number: usize) -> Result<String, DiffParseError> {
    let raw = raw.trim_end_matches('\r');
    let bytes = if raw.starts_with('"') {
        unquote(raw, number)?.0
    } else {
        raw.as_bytes().to_vec()
    };
    checked_path(bytes, number)
}

/// The path of a `---` or `+++` line; `None` for `/dev/null`.
fn header_path(
    raw: &str,
    git_style: bool,
    number: usize,
) -> Result<Option<String>, DiffParseError> {
    let bytes = if raw.starts_with('"') {
        unquote(raw, number)?.0
    } else {
        // git puts a tab after a name with a space in it; `diff -u`, before its timestamp.
        raw.split('\t')
            .next()
            .unwrap_or(raw)
            .trim()
            .as_bytes()
            .to_vec()
    };
    if bytes == b"/dev/null" {
        return Ok(None);
    }
    let stripped = if git_style || bytes.starts_with(b"a/") || bytes.starts_with(b"b/") {
        bytes
            .strip_prefix(b"a/")
            .or_else(|| bytes.strip_prefix(b"b/"))
            .unwrap_or(&bytes)
    } else {
        &bytes
    };
    let mut stripped = stripped;
    while let Some(rest) = stripped.strip_prefix(b"./") {
        stripped = rest;
    }
    checked_path(stripped.to_vec(), number).map(Some)
}

/// Decodes a C-style quoted string as git writes paths (`core.quotePath`): `\a \b \t \n \v \f
/// \r \" \\` and octal byte escapes. Returns the bytes and the text after the closing quote.
fn unquote(text: &str, number: usize) -> Result<(Vec<u8>, &str), DiffParseError> {
    let bad = |message: &str| DiffParseError {
        line: number,
        message: message.to_string(),
    };
    let body = text
        .strip_prefix('"')
        .ok_or_else(|| bad("expected a quoted path"))?;
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Ok((out, &body[i + 1..])),
            b'\\' => {
                let escape = *bytes
                    .get(i + 1)
                    .ok_or_else(|| bad("unterminated quoted path"))?;
                i += 2;
                match escape {
                    b'a' => out.push(0x07),
                    b'b' => out.push(0x08),
                    b't' => out.push(b'\t'),
                    b'n' => out.push(b'\n'),
                    b'v' => out.push(0x0b),
                    b'f' => out.push(0x0c),
                    b'r' => out.push(b'\r'),
                    b'"' | b'\\' => out.push(escape),
                    b'0'..=b'7' => {
                        let mut value = u32::from(escape - b'0');
                        let mut digits = 1;
                        while digits < 3
                            && let Some(d @ b'0'..=b'7') = bytes.get(i).copied()
                        {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                            digits += 1;
                        }
                        out.push(
                            u8::try_from(value)
                                .map_err(|_| bad("octal escape above \\377 in a quoted path"))?,
                        );
                    }
                    _ => return Err(bad("unknown escape in a quoted path")),
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Err(bad("unterminated quoted path"))
}

/// A repository-relative path from a diff, named as the loader names files (see
/// [`super::path_from_bytes`]). Absolute paths and `..` components are refused: a diff names
/// files of the repository, and a path that leaves it must not reach a report.
fn checked_path(bytes: Vec<u8>, number: usize) -> Result<String, DiffParseError> {
    let path = super::path_from_bytes(&bytes);
    let refuse = |why: &str| DiffParseError {
        line: number,
        message: format!("path `{path}` {why}; a diff names files inside the repository"),
    };
    if bytes.is_empty() {
        return Err(refuse("is empty"));
    }
    if bytes.starts_with(b"/") {
        return Err(refuse("is absolute"));
    }
    if bytes.split(|b| *b == b'/').any(|segment| segment == b"..") {
        return Err(refuse("has a `..` component"));
    }
    Ok(path)
}

fn parse_hunks<'a>(
    lines: &[&'a str],
    mut i: usize,
    converted: bool,
) -> Result<(Vec<Hunk<'a>>, usize), DiffParseError> {
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
            let raw: &'a str = if converted {
                raw.strip_suffix('\r').unwrap_or(raw)
            } else {
                raw
            };
            if raw.starts_with('\\') {
                i += 1;
                continue;
            }
            // An empty line inside a hunk is an empty context line (some tools strip the space).
            let (tag, body) = match raw.as_bytes().first() {
                Some(&tag @ (b' ' | b'-' | b'+')) => (tag, &raw[1..]),
                Some(_) => {
                    return Err(DiffParseError {
                        line: i + 1,
                        message: "hunk line does not start with ' ', '-' or '+'".into(),
                    });
                }
                None => (b' ', ""),
            };
            match tag {
                b' ' => {
                    hunk_lines.push(HunkLine::Context(body));
                    seen_old += 1;
                    seen_new += 1;
                }
                b'-' => {
                    hunk_lines.push(HunkLine::Removed(body));
                    seen_old += 1;
                }
                _ => {
                    hunk_lines.push(HunkLine::Added(body));
                    seen_new += 1;
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

impl FilePatch<'_> {
    /// The path to show for this patch.
    pub fn display_path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or("?")
    }

    /// Applies the patch to the old content, giving the new content.
    pub fn apply(&self, old: &str) -> Result<String, ApplyError> {
        self.apply_within(old, false, usize::MAX)
            .map(Option::unwrap_or_default)
    }

    /// Applies the patch in reverse to the new content, giving the old content.
    pub fn unapply(&self, new: &str) -> Result<String, ApplyError> {
        self.apply_within(new, true, usize::MAX)
            .map(Option::unwrap_or_default)
    }

    /// Applies the patch (in reverse when `reverse`) to `content`. Every hunk is matched first;
    /// when the result would be longer than `limit` bytes it is not built and the answer is
    /// `None`, so a diff that creates a huge file costs no more than reading the diff.
    pub fn apply_within(
        &self,
        content: &str,
        reverse: bool,
        limit: usize,
    ) -> Result<Option<String>, ApplyError> {
        let had_trailing_newline = content.ends_with('\n') || content.is_empty();
        let lines: Vec<&str> = if content.is_empty() {
            Vec::new()
        } else {
            content
                .strip_suffix('\n')
                .unwrap_or(content)
                .split('\n')
                .collect()
        };
        // Where each hunk goes, in order: (first line it replaces, lines replaced, replacement).
        let mut placed: Vec<(usize, usize, Vec<&str>)> = Vec::with_capacity(self.hunks.len());
        let mut next_free = 0usize;
        let mut drift: isize = 0;
        let mut size = content.len();
        for (index, hunk) in self.hunks.iter().enumerate() {
            let (from, to) = hunk.sides(reverse);
            let stated = if reverse {
                hunk.new_start
            } else {
                hunk.old_start
            };
            let expected = stated.saturating_sub(1).saturating_add_signed(drift);
            // Like `git apply`: a hunk without leading context at line 1 must match at the start
            // of the file, and a hunk without trailing context must match at its end. Without
            // this, a pure addition at either end applies again to a file that already has it.
            let anchors = Anchors {
                start: stated <= 1 && hunk.leading_context() == 0,
                end: hunk.trailing_context() == 0,
            };
            let at = find_block(&lines, &from, expected, next_free, anchors).ok_or_else(|| {
                ApplyError {
                    path: self.display_path().to_string(),
                    hunk: index + 1,
                    line: stated,
                }
            })?;
            drift = isize::try_from(at).unwrap_or(isize::MAX)
                - isize::try_from(stated.saturating_sub(1)).unwrap_or(isize::MAX);
            next_free = at + from.len();
            size = size.saturating_sub(from.iter().map(|l| l.len() + 1).sum());
            size = size.saturating_add(to.iter().map(|l| l.len() + 1).sum());
            placed.push((at, from.len(), to));
        }
        if size > limit.saturating_add(1) {
            return Ok(None);
        }
        let mut out = String::with_capacity(size);
        let mut kept_any = false;
        let mut push = |line: &str, out: &mut String| {
            if kept_any {
                out.push('\n');
            }
            out.push_str(line);
            kept_any = true;
        };
        let mut cursor = 0;
        for (at, removed, replacement) in &placed {
            for line in &lines[cursor..*at] {
                push(line, &mut out);
            }
            for line in replacement {
                push(line, &mut out);
            }
            cursor = at + removed;
        }
        for line in &lines[cursor.min(lines.len())..] {
            push(line, &mut out);
        }
        if kept_any && had_trailing_newline {
            out.push('\n');
        }
        if out.len() > limit {
            return Ok(None);
        }
        Ok(Some(out))
    }
}

/// Where a hunk must match.
#[derive(Clone, Copy)]
struct Anchors {
    start: bool,
    end: bool,
}

impl<'a> Hunk<'a> {
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

    fn sides(&self, reverse: bool) -> (Vec<&'a str>, Vec<&'a str>) {
        let mut old = Vec::new();
        let mut new = Vec::new();
        for line in &self.lines {
            match *line {
                HunkLine::Context(s) => {
                    old.push(s);
                    new.push(s);
                }
                HunkLine::Removed(s) => old.push(s),
                HunkLine::Added(s) => new.push(s),
            }
        }
        if reverse { (new, old) } else { (old, new) }
    }
}

/// Finds `block` in `lines` at or after `first` (hunks apply in order and never overlap),
/// nearest to `expected` first.
fn find_block(
    lines: &[&str],
    block: &[&str],
    expected: usize,
    first: usize,
    anchors: Anchors,
) -> Option<usize> {
    if block.is_empty() {
        let at = if anchors.end {
            lines.len()
        } else if anchors.start {
            0
        } else {
            expected.clamp(first, lines.len().max(first))
        };
        return (at >= first && at <= lines.len()).then_some(at);
    }
    let last_start = lines.len().checked_sub(block.len())?;
    if first > last_start {
        return None;
    }
    let matches_at = |at: usize| {
        (!anchors.start || at == 0)
            && (!anchors.end || at == last_start)
            && block.iter().zip(&lines[at..]).all(|(b, l)| l == b)
    };
    if anchors.end {
        return matches_at(last_start).then_some(last_start);
    }
    if anchors.start {
        return (first == 0 && matches_at(0)).then_some(0);
    }
    let expected = expected.clamp(first, last_start);
    for distance in 0..=(last_start - first) {
        let below = expected.checked_sub(distance).filter(|at| *at >= first);
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
        assert!(parse("--- a/x\n+++ b/x\n@@ -1 +1 @@\né\n").is_err());
        assert!(parse("diff --git \"a/x b/x\n--- a/x\n+++ b/x\n").is_err());
        assert!(parse("diff --git \"a/\\400\" \"b/\\400\"\n").is_err());
        assert!(parse("diff --git \"a/\\q\" \"b/\\q\"\n").is_err());
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

    #[test]
    fn crlf_lines_keep_their_carriage_return() {
        let diff = "--- a/w.py\n+++ b/w.py\n@@ -1,2 +1,2 @@\n a = 1\r\n-b = 2\r\n+b = 3\r\n";
        let patches = parse(diff).unwrap();
        assert_eq!(
            patches[0].apply("a = 1\r\nb = 2\r\n").unwrap(),
            "a = 1\r\nb = 3\r\n"
        );
        assert!(patches[0].apply("a = 1\nb = 2\n").is_err(), "LF file");
        // The same diff converted to CRLF as a whole applies to the LF file.
        let converted = diff.replace('\n', "\r\n").replace("\r\r", "\r");
        let patches = parse(&converted).unwrap();
        assert_eq!(
            patches[0].apply("a = 1\nb = 2\n").unwrap(),
            "a = 1\nb = 3\n"
        );
    }

    #[test]
    fn quoted_paths_are_decoded_as_git_writes_them() {
        let diff = "diff --git \"a/caf\\303\\251 \\\"q\\\"\\\\\\t.py\" \"b/caf\\303\\251 \\\"q\\\"\\\\\\t.py\"\nindex 1..2 100644\n--- \"a/caf\\303\\251 \\\"q\\\"\\\\\\t.py\"\n+++ \"b/caf\\303\\251 \\\"q\\\"\\\\\\t.py\"\n@@ -1 +1 @@\n-a\n+b\n";
        let patches = parse(diff).unwrap();
        // A backslash in a name is doubled (see `path_from_bytes`).
        let want = "café \"q\"\\\\\t.py";
        assert_eq!(patches[0].old_path.as_deref(), Some(want));
        assert_eq!(patches[0].new_path.as_deref(), Some(want));
        // A name that is not UTF-8 gets the loader's escaped name.
        let diff = "diff --git \"a/\\377.sh\" \"b/\\377.sh\"\nnew file mode 100644\n";
        assert_eq!(
            parse(diff).unwrap()[0].new_path.as_deref(),
            Some("\\xff.sh")
        );
    }

    #[test]
    fn paths_leaving_the_repository_are_refused() {
        for diff in [
            "--- a/../x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n",
            "--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+b\n",
            "diff --git a/x b/x\nrename from x\nrename to a/../../y\n",
            "diff --git \"a/\\056\\056/x\" \"b/\\056\\056/x\"\nnew file mode 100644\n",
        ] {
            let e = parse(diff).unwrap_err();
            assert!(e.message.contains("inside the repository"), "{e}");
        }
    }

    #[test]
    fn binary_sections_are_marked_not_parsed() {
        let diff = "diff --git a/x.png b/x.png\nindex 1..2 100644\nBinary files a/x.png and b/x.png differ\ndiff --git a/y.bin b/y.bin\nnew file mode 100644\nindex 0..3\nGIT binary patch\nliteral 3\nKcmZQzWB>pF\n\n--- not a header\nliteral 0\nHcmV?d00001\n\ndiff --git a/w.py b/w.py\n--- a/w.py\n+++ b/w.py\n@@ -1 +1 @@\n-a\n+b\n";
        let patches = parse(diff).unwrap();
        assert_eq!(patches.len(), 3, "{patches:?}");
        assert!(patches[0].binary && patches[1].binary && !patches[2].binary);
        assert_eq!(patches[1].old_path, None);
        assert_eq!(patches[2].display_path(), "w.py");
    }

    #[test]
    fn submodule_changes_are_marked() {
        let diff = "diff --git a/lib/sub b/lib/sub\nindex 1111111..2222222 160000\n--- a/lib/sub\n+++ b/lib/sub\n@@ -1 +1 @@\n-Subproject commit 1111111\n+Subproject commit 2222222\ndiff --git a/new b/new\nnew file mode 160000\nindex 0000000..3333333\n--- /dev/null\n+++ b/new\n@@ -0,0 +1 @@\n+Subproject commit 3333333\ndiff --git a/w.py b/w.py\nindex 1..2 100644\n--- a/w.py\n+++ b/w.py\n@@ -1 +1 @@\n-a\n+b\n";
        let patches = parse(diff).unwrap();
        let marked: Vec<bool> = patches.iter().map(|p| p.submodule).collect();
        assert_eq!(marked, [true, true, false]);
    }

    #[test]
    fn copies_keep_their_source() {
        let diff = "diff --git a/a.py b/b.py\nsimilarity index 90%\ncopy from a.py\ncopy to b.py\n--- a/a.py\n+++ b/b.py\n@@ -1 +1 @@\n-x\n+y\ndiff --git a/a.py b/c.py\nsimilarity index 100%\ncopy from a.py\ncopy to c.py\n";
        let patches = parse(diff).unwrap();
        assert_eq!(patches.len(), 2);
        assert!(patches.iter().all(|p| p.copy));
        assert_eq!(patches[1].old_path.as_deref(), Some("a.py"));
        assert_eq!(patches[1].new_path.as_deref(), Some("c.py"));
    }

    #[test]
    fn results_over_the_limit_are_not_built() {
        let diff = "--- /dev/null\n+++ b/n.py\n@@ -0,0 +1,2 @@\n+0123456789\n+0123456789\n";
        let patch = &parse(diff).unwrap()[0];
        assert_eq!(
            patch.apply_within("", false, 22).unwrap().as_deref(),
            Some("0123456789\n0123456789\n")
        );
        assert_eq!(patch.apply_within("", false, 21).unwrap(), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        /// Hostile diffs: any text built from diff-like pieces parses or is refused, and what
        /// parses applies or is refused, in both directions, without a panic.
        #[test]
        fn hostile_diffs_never_panic(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "diff --git a/x b/x\n", "diff --git \"a/\\303\\251\" \"b/\\303\\251\"\n",
                "--- a/x\n", "+++ b/x\n", "--- /dev/null\n", "+++ /dev/null\n",
                "@@ -1 +1 @@\n", "@@ -0,0 +1,2 @@\n", "@@ -2,3 +1 @@ f\n", "@@ -1,2 +3,4\n",
                " a\n", "-a\n", "+b\n", "\n", "\\ No newline at end of file\n", "é\n",
                "new file mode 100644\n", "deleted file mode 100644\n", "copy from x\n",
                "copy to y\n", "rename from ../z\n", "rename to z\n", "index 1..2 160000\n",
                "GIT binary patch\n", "Binary files a/x and b/x differ\n", "\r\n", " a\r\n",
            ]), 0..24),
            content in "(a|b|é|\r)?(\n(a|b))*\n?",
        ) {
            let text: String = pieces.concat();
            if let Ok(patches) = parse(&text) {
                for patch in &patches {
                    let _ = patch.apply_within(&content, false, 64);
                    let _ = patch.apply_within(&content, true, usize::MAX);
                }
            }
        }
    }

    #[test]
    fn hunks_apply_in_order() {
        // The second hunk's block also occurs before the first hunk: it must not be used.
        let diff =
            "--- a/w\n+++ b/w\n@@ -3,3 +3,3 @@\n p\n-x\n+y\n c\n@@ -6,3 +6,3 @@\n k\n-x\n+z\n c\n";
        let patch = &parse(diff).unwrap()[0];
        assert!(patch.apply("k\nx\nc\na\np\nx\nc\n").is_err());
        assert_eq!(
            patch.apply("a\nb\np\nx\nc\nk\nx\nc\n").unwrap(),
            "a\nb\np\ny\nc\nk\nz\nc\n"
        );
    }
}
