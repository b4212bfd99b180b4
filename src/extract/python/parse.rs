//! Parsing with error isolation.
//!
//! tree-sitter recovers from a syntax error, but a broken statement at the top of a file often
//! swallows the well-formed statements after it into one `ERROR` node. So when the whole-file
//! tree has errors, each top-level region that contains an error is parsed again in chunks that
//! start at unindented lines (each chunk with `set_included_ranges`, so positions stay those of
//! the file): an error then spoils only its own chunk. The result is the list of top-level
//! nodes to visit, in source order, and one warning per region that still does not parse.

use crate::extract::ExtractWarning;
use crate::extract::FieldExt as _;
use tree_sitter::{Node, Parser, Point, Range, Tree};

/// Above this many re-parsed chunks a file is garbage; the whole-file tree is used as is.
const MAX_CHUNKS: usize = 2000;
/// Warnings kept per file; the rest are summarised in one more.
const MAX_WARNINGS: usize = 50;

/// The trees of one file: the whole-file parse and the chunks re-parsed around its errors.
pub(super) struct Parsed {
    main: Option<Tree>,
    /// Byte ranges of the whole-file tree replaced by chunk trees.
    replaced: Vec<std::ops::Range<usize>>,
    chunks: Vec<Tree>,
    pub warnings: Vec<ExtractWarning>,
}

impl Parsed {
    /// Lets go of the trees ([`crate::extract::tree_memory::release`]), keeping the warnings.
    pub fn release(self) -> Vec<ExtractWarning> {
        self.main
            .into_iter()
            .chain(self.chunks)
            .for_each(crate::extract::tree_memory::release);
        self.warnings
    }

    /// Copies of every tree (cheap: trees are shared, reference-counted), so that analyses
    /// can find a node's ancestors by descending from its root instead of walking up.
    pub fn trees(&self) -> Vec<Tree> {
        self.main
            .iter()
            .chain(self.chunks.iter())
            .cloned()
            .collect()
    }

    /// The top-level statements (or error nodes) to visit, in source order.
    pub fn top_nodes(&self) -> Vec<Node<'_>> {
        let mut nodes = Vec::new();
        if let Some(main) = &self.main {
            let root = main.root_node();
            for child in root.children_vec() {
                let inside = self
                    .replaced
                    .iter()
                    .any(|r| child.start_byte() >= r.start && child.end_byte() <= r.end);
                if !inside {
                    nodes.push(child);
                }
            }
        }
        for chunk in &self.chunks {
            let root = chunk.root_node();
            root.push_children(&mut nodes);
        }
        nodes.sort_by_key(|n| n.start_byte());
        nodes
    }
}

/// Distinct indentation widths beyond which the rest of a file is not parsed. The grammar's
/// scanner saves its stack of indentation widths (two bytes each, after up to 257 bytes of
/// string delimiters) in tree-sitter's 1024-byte buffer, and a deeper stack fails an assertion
/// that aborts the process. Each width on the stack is the indentation of some line, so a file
/// whose lines have at most this many distinct widths cannot overflow it.
const MAX_INDENT_WIDTHS: usize = 380;

/// The part of `text` the parser can take without overflowing its scanner's state (see
/// [`MAX_INDENT_WIDTHS`]), and a warning when that is not all of it.
fn parseable_prefix(text: &str) -> (&str, Option<ExtractWarning>) {
    let bytes = text.as_bytes();
    // One bit per width, on the stack: a `bool` per width was a 64 KiB zeroed allocation per
    // file (0.9 % of a run's instructions over `ansible`).
    let mut seen = [0u64; (u16::MAX as usize + 1) / 64];
    let mut distinct = 0usize;
    let mut line = 1u32;
    let mut at = 0;
    while at < bytes.len() {
        // The indentation after a line break, measured as the scanner does (a tab is 8, the
        // width is 16 bits); any of `\n`, `\r`, `\f` may start it.
        let start = at;
        let mut width = 0u16;
        while let Some(b) = bytes.get(at) {
            match b {
                b' ' => width = width.wrapping_add(1),
                b'\t' => width = width.wrapping_add(8),
                _ => break,
            }
            at += 1;
        }
        let (word, bit) = (usize::from(width / 64), 1u64 << (width % 64));
        if width > 0 && seen[word] & bit == 0 {
            seen[word] |= bit;
            distinct += 1;
            if distinct > MAX_INDENT_WIDTHS {
                return (
                    text.get(..start).unwrap_or(""),
                    Some(warning(
                        line,
                        &format!(
                            "analysis stopped: indented more than {MAX_INDENT_WIDTHS} different ways (deeper than the Python parser can follow); facts from line {line} on are not read"
                        ),
                    )),
                );
            }
        }
        match bytes[at..]
            .iter()
            .position(|b| matches!(b, b'\n' | b'\r' | 0x0c))
        {
            Some(offset) => {
                if bytes[at + offset] == b'\n' {
                    line += 1;
                }
                at += offset + 1;
            }
            None => break,
        }
    }
    (text, None)
}

/// Parses a file, isolating syntax errors to the smallest top-level chunks that contain them.
pub(super) fn parse(text: &str) -> Parsed {
    let (text, cut) = parseable_prefix(text);
    let mut parsed = Parsed {
        main: None,
        replaced: Vec::new(),
        chunks: Vec::new(),
        warnings: Vec::new(),
    };
    let mut parser = Parser::new();
    if parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .is_err()
    {
        parsed
            .warnings
            .push(warning(1, "the Python grammar could not be loaded"));
        return parsed;
    }
    let Some(main) = parser.parse(text, None) else {
        parsed
            .warnings
            .push(warning(1, "the file could not be parsed"));
        return parsed;
    };
    if main.root_node().has_error() {
        let lines = LineIndex::new(text);
        let regions = error_regions(&main, text, &lines);
        let mut budget = MAX_CHUNKS;
        for region in regions {
            let chunks = split_chunks(text, region.clone());
            if chunks.len() > budget {
                break;
            }
            budget -= chunks.len();
            let mut trees = Vec::new();
            for chunk in chunks {
                match parse_range(&mut parser, text, &lines, chunk) {
                    Some(tree) => trees.push(tree),
                    None => {
                        trees.clear();
                        break;
                    }
                }
            }
            if !trees.is_empty() {
                parsed.replaced.push(region);
                parsed.chunks.extend(trees);
            }
        }
    }
    parsed.main = Some(main);
    parsed.warnings = syntax_warnings(&parsed);
    parsed.warnings.extend(cut);
    parsed
}

/// Byte ranges (from line starts) of runs of top-level nodes that contain errors.
fn error_regions(tree: &Tree, text: &str, lines: &LineIndex) -> Vec<std::ops::Range<usize>> {
    let root = tree.root_node();
    let mut regions: Vec<std::ops::Range<usize>> = Vec::new();
    let mut cursor = root.walk();
    let mut children = root.children(&mut cursor).peekable();
    if children.peek().is_none() && root.has_error() {
        let whole = 0..text.len();
        return vec![whole];
    }
    for child in children {
        if !(child.has_error() || child.is_error() || child.is_missing()) {
            continue;
        }
        let start = lines.line_start(child.start_byte());
        let end = child.end_byte().min(text.len());
        match regions.last_mut() {
            Some(last) if start <= last.end => last.end = last.end.max(end),
            _ => regions.push(start..end),
        }
    }
    regions
}

/// Splits a region into chunks that each start at an unindented line that begins a statement.
fn split_chunks(text: &str, region: std::ops::Range<usize>) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut starts = vec![region.start];
    let mut offset = region.start;
    let mut previous_continues = true;
    while offset < region.end {
        let line_end = bytes[offset..region.end]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(region.end, |i| offset + i + 1);
        let line = String::from_utf8_lossy(&bytes[offset..line_end]);
        let content = line.trim_end();
        if offset != region.start && starts_statement(content) && !previous_continues {
            starts.push(offset);
        }
        if !content.trim().is_empty() && !content.trim_start().starts_with('#') {
            previous_continues = content.ends_with('\\') || content.starts_with('@');
        }
        offset = line_end;
    }
    let mut chunks = Vec::new();
    for (i, start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(region.end);
        if end > *start {
            chunks.push(*start..end);
        }
    }
    chunks
}

/// Whether an unindented line can start a top-level statement of its own.
fn starts_statement(line: &str) -> bool {
    let Some(first) = line.chars().next() else {
        return false;
    };
    if first.is_whitespace() || "#)]}".contains(first) {
        return false;
    }
    let word: String = line
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    !matches!(
        word.as_str(),
        "else" | "elif" | "except" | "finally" | "case"
    )
}

fn parse_range(
    parser: &mut Parser,
    text: &str,
    lines: &LineIndex,
    range: std::ops::Range<usize>,
) -> Option<Tree> {
    let ts_range = Range {
        start_byte: range.start,
        end_byte: range.end,
        start_point: lines.point(range.start),
        end_point: lines.point(range.end),
    };
    parser.set_included_ranges(&[ts_range]).ok()?;
    let tree = parser.parse(text, None);
    // Back to whole-file parsing for the next caller; an empty list cannot fail.
    let _ = parser.set_included_ranges(&[]);
    tree
}

/// Byte offsets of line starts, for turning offsets into tree-sitter points.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    fn point(&self, offset: usize) -> Point {
        let row = self
            .starts
            .partition_point(|s| *s <= offset)
            .saturating_sub(1);
        let start = self.starts.get(row).copied().unwrap_or(0);
        Point {
            row,
            column: offset.saturating_sub(start),
        }
    }

    fn line_start(&self, offset: usize) -> usize {
        let row = self
            .starts
            .partition_point(|s| *s <= offset)
            .saturating_sub(1);
        self.starts.get(row).copied().unwrap_or(0)
    }
}

/// One warning per error region of the trees actually visited.
fn syntax_warnings(parsed: &Parsed) -> Vec<ExtractWarning> {
    let mut found: Vec<(u32, u32, Option<String>)> = Vec::new();
    for node in parsed.top_nodes() {
        if node.has_error() || node.is_error() || node.is_missing() {
            collect_errors(node, &mut found);
        }
    }
    found.sort();
    found.dedup();
    let mut warnings: Vec<ExtractWarning> = found
        .iter()
        .take(MAX_WARNINGS)
        .map(|(first, last, missing)| match missing {
            Some(kind) => warning(
                *first,
                &format!("syntax error: missing `{kind}`; facts here may be incomplete"),
            ),
            None if first == last => {
                warning(*first, "syntax error; this line was only partly read")
            }
            None => warning(
                *first,
                &format!("syntax error in lines {first}-{last}; they were only partly read"),
            ),
        })
        .collect();
    if found.len() > MAX_WARNINGS {
        let line = found.get(MAX_WARNINGS).map_or(1, |f| f.0);
        warnings.push(warning(
            line,
            &format!(
                "{} more syntax errors not listed",
                found.len() - MAX_WARNINGS
            ),
        ));
    }
    warnings
}

/// The outermost error and missing nodes under `node`, as (first line, last line, missing kind).
fn collect_errors(node: Node<'_>, found: &mut Vec<(u32, u32, Option<String>)>) {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.is_error() {
            found.push((line_of(n), end_line_of(n), None));
            continue;
        }
        if n.is_missing() {
            found.push((line_of(n), line_of(n), Some(n.kind_name().to_string())));
            continue;
        }
        if !n.has_error() {
            continue;
        }
        n.push_children(&mut stack);
    }
}

pub(super) fn line_of(node: Node<'_>) -> u32 {
    u32::try_from(node.start_position().row + 1).unwrap_or(u32::MAX)
}

fn end_line_of(node: Node<'_>) -> u32 {
    let end = node.end_position();
    // A node ending at column 0 ends with the previous line's newline.
    let row = if end.column == 0 && end.row > node.start_position().row {
        end.row
    } else {
        end.row + 1
    };
    u32::try_from(row).unwrap_or(u32::MAX)
}

fn warning(line: u32, message: &str) -> ExtractWarning {
    ExtractWarning {
        line,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod prefix_tests {
    use super::*;

    /// One line per width: `width` spaces, then a statement.
    fn lines(widths: impl IntoIterator<Item = usize>) -> String {
        widths
            .into_iter()
            .map(|w| format!("{}x = 1\n", " ".repeat(w)))
            .collect()
    }

    #[test]
    fn the_prefix_ends_at_the_line_with_one_width_too_many() {
        // Widths 1..=380, each twice, and wide ones a tab makes: all distinct widths count once.
        let mut text = lines((1..=380).chain(1..=380));
        text.push_str("\t\tx = 1\n");
        let (prefix, cut) = parseable_prefix(&text);
        assert_eq!(prefix, text);
        assert!(cut.is_none());
        // Width 16 (two tabs) was seen; the next new width is the 381st and cuts there.
        let whole = format!("{text}{}", lines([5000, 1, 64_000]));
        let (prefix, cut) = parseable_prefix(&whole);
        assert_eq!(prefix, text);
        let cut = cut.expect("a warning for the lines left out");
        assert_eq!(cut.line, 762);
        assert!(
            cut.message
                .contains("indented more than 380 different ways")
        );
    }
}
