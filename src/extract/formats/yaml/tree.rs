//! YAML text -> documents of [`Node`]s that remember their lines, with exact line maps for
//! scalars that hold shell commands.
//!
//! Built on the event parser of `granit-parser` (the parser under `serde-saphyr`): anchors and
//! aliases are resolved (within a node budget, so alias bombs cannot explode), merge keys
//! (`<<: *defaults`) are applied, and a syntax error is one warning naming its line after which
//! parsing resumes at the next document (`---`), the partial document being kept.
//!
//! Invariants: never panics; nesting is bounded by the parser's limits; the total number of
//! nodes built (aliases included) is bounded by [`MAX_NODES`].

use crate::extract::ExtractWarning;
use granit_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

/// Most nodes built per file (aliases expanded count too).
const MAX_NODES: usize = 500_000;
/// Deepest collection nesting accepted by the parser.
const MAX_NESTING: usize = 64;
/// Most syntax errors reported (and recovered from) per file.
const MAX_ERRORS: usize = 20;

/// A scalar with its source position and notation.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Scalar {
    pub value: String,
    pub style: ScalarStyle,
    /// First and last line of the scalar's source (for block scalars, of the first line with
    /// content, not the `|` indicator), and the column where it starts.
    pub line: u32,
    pub end_line: u32,
    pub col: usize,
    /// Byte range of the scalar's source, when the parser gives it.
    pub bytes: Option<std::ops::Range<usize>>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// One YAML node and the line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub line: u32,
    pub kind: Kind,
}

impl Node {
    fn null(line: u32) -> Node {
        Node {
            line,
            kind: Kind::Scalar(Scalar {
                value: String::new(),
                style: ScalarStyle::Plain,
                line,
                end_line: line,
                col: 0,
                bytes: None,
            }),
        }
    }

    /// The scalar's text (`None` for collections and for `null`/`~`).
    pub fn str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar(s)
                if s.style == ScalarStyle::Plain
                    && matches!(s.value.as_str(), "" | "~" | "null" | "Null" | "NULL") =>
            {
                None
            }
            Kind::Scalar(s) => Some(&s.value),
            _ => None,
        }
    }

    pub fn scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn seq(&self) -> &[Node] {
        match &self.kind {
            Kind::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn is_seq(&self) -> bool {
        matches!(self.kind, Kind::Seq(_))
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.kind {
            Kind::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.kind, Kind::Map(_))
    }

    /// The value of a key in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .find(|(k, _)| k.str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The entry (key node, value node) of a key, for the key's line.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.entries()
            .iter()
            .find(|(k, _)| k.str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// Mapping entries with string keys.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &Node, &Node)> {
        self.entries()
            .iter()
            .filter_map(|(k, v)| k.str().map(|key| (key, k, v)))
    }

    /// A path of keys (`spec.template.spec`).
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        let mut node = self;
        for key in path {
            node = node.get(key)?;
        }
        Some(node)
    }

    /// The text of a scalar, or of a boolean/number as written.
    pub fn text(&self) -> Option<String> {
        self.str().map(str::to_string)
    }
}

/// A document of the stream: its root (absent for an empty document) and first line.
#[derive(Debug)]
pub(crate) struct Document {
    pub root: Option<Node>,
}

/// Parses a YAML stream into documents, with a warning per syntax error.
pub(crate) fn parse(text: &str, warnings: &mut Vec<ExtractWarning>) -> Vec<Document> {
    let options = granit_parser::options! {
        emit_unresolved_aliases: true,
        flow_nesting_limit: MAX_NESTING,
        block_nesting_limit: MAX_NESTING,
    };
    let mut parser = Parser::new_from_str_with_options(text, options);
    let mut builder = Builder::default();
    let mut errors = 0;
    loop {
        match parser.next_event() {
            None => break,
            Some(Ok((event, span))) => {
                if builder.event(event, span).is_break() {
                    warnings.push(ExtractWarning {
                        line: line_u32(span.start.line()),
                        message: "YAML has too many nodes (aliases expand too far); the rest was not read".to_string(),
                    });
                    builder.finish_document();
                    break;
                }
            }
            Some(Err(error)) => {
                errors += 1;
                let line = line_u32(error.marker().line());
                if errors <= MAX_ERRORS {
                    warnings.push(ExtractWarning {
                        line,
                        message: format!(
                            "YAML syntax error: {}; the rest of this document was skipped",
                            error.info()
                        ),
                    });
                }
                builder.finish_document();
                if errors > MAX_ERRORS || !matches!(parser.proceed_next_document(), Ok(true)) {
                    break;
                }
            }
        }
    }
    builder.finish_document();
    builder.documents
}

fn line_u32(line: usize) -> u32 {
    u32::try_from(line.max(1)).unwrap_or(u32::MAX)
}

/// An open collection.
enum Frame {
    Seq {
        items: Vec<Node>,
        line: u32,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        line: u32,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    in_document: bool,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    documents: Vec<Document>,
}

impl Builder {
    fn event(&mut self, event: Event, span: Span) -> std::ops::ControlFlow<()> {
        let line = line_u32(span.start.line());
        match event {
            Event::DocumentStart(..) => {
                self.finish_document();
                self.in_document = true;
            }
            Event::DocumentEnd => self.finish_document(),
            Event::Scalar(value, style, anchor, _) => {
                let node = Node {
                    line,
                    kind: Kind::Scalar(Scalar {
                        value: value.into_owned(),
                        style,
                        line,
                        end_line: line_u32(span.end.line()),
                        col: span.start.col(),
                        bytes: span.byte_range(),
                    }),
                };
                self.complete(node, anchor)?;
            }
            Event::SequenceStart(_, anchor, _) => self.stack.push(Frame::Seq {
                items: Vec::new(),
                line,
                anchor,
            }),
            Event::MappingStart(_, anchor, _) => self.stack.push(Frame::Map {
                entries: Vec::new(),
                key: None,
                line,
                anchor,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(frame) = self.stack.pop() {
                    let (node, anchor) = close(frame);
                    self.complete(node, anchor)?;
                }
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| Node::null(line));
                self.nodes = self.nodes.saturating_add(size(&node, MAX_NODES));
                if self.nodes > MAX_NODES {
                    return std::ops::ControlFlow::Break(());
                }
                let node = Node { line, ..node };
                self.complete(node, 0)?;
            }
            Event::UnresolvedAlias(_) => self.complete(Node::null(line), 0)?,
            _ => {}
        }
        std::ops::ControlFlow::Continue(())
    }

    fn complete(&mut self, node: Node, anchor: usize) -> std::ops::ControlFlow<()> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return std::ops::ControlFlow::Break(());
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
            None => self.root = Some(node),
        }
        std::ops::ControlFlow::Continue(())
    }

    /// Closes whatever is open (after an error, the partial document) and stores it.
    fn finish_document(&mut self) {
        while let Some(frame) = self.stack.pop() {
            let (node, _) = close(frame);
            match self.stack.last_mut() {
                Some(Frame::Seq { items, .. }) => items.push(node),
                Some(Frame::Map { entries, key, .. }) => match key.take() {
                    None => {}
                    Some(k) => entries.push((k, node)),
                },
                None => self.root = Some(node),
            }
        }
        if self.in_document || self.root.is_some() {
            self.documents.push(Document {
                root: self.root.take(),
            });
        }
        self.in_document = false;
    }
}

/// A finished collection, with merge keys applied.
fn close(frame: Frame) -> (Node, usize) {
    match frame {
        Frame::Seq {
            items,
            line,
            anchor,
        } => (
            Node {
                line,
                kind: Kind::Seq(items),
            },
            anchor,
        ),
        Frame::Map {
            entries,
            line,
            anchor,
            ..
        } => (
            Node {
                line,
                kind: Kind::Map(merge_keys(entries)),
            },
            anchor,
        ),
    }
}

/// `<<: *defaults` (or a list of them): entries of the merged maps that the map does not set.
fn merge_keys(entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
    if !entries.iter().any(|(k, _)| k.str() == Some("<<")) {
        return entries;
    }
    let mut own = Vec::with_capacity(entries.len());
    let mut merged = Vec::new();
    for (key, value) in entries {
        if key.str() == Some("<<") {
            let sources: Vec<Node> = match value.kind {
                Kind::Seq(items) => items,
                other => vec![Node {
                    line: value.line,
                    kind: other,
                }],
            };
            for source in sources {
                if let Kind::Map(source_entries) = source.kind {
                    merged.extend(source_entries);
                }
            }
        } else {
            own.push((key, value));
        }
    }
    for (key, value) in merged {
        let present = own
            .iter()
            .any(|(k, _)| k.str().is_some() && k.str() == key.str());
        if !present {
            own.push((key, value));
        }
    }
    own
}

/// The number of nodes in a tree, counting up to `limit`.
fn size(node: &Node, limit: usize) -> usize {
    let mut count = 0;
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        count += 1;
        if count > limit {
            return count;
        }
        match &n.kind {
            Kind::Scalar(_) => {}
            Kind::Seq(items) => stack.extend(items.iter()),
            Kind::Map(entries) => {
                for (k, v) in entries {
                    stack.push(k);
                    stack.push(v);
                }
            }
        }
    }
    count
}

/// Shell text for a scalar, laid out so that line N of the text is line `first + N - 1` of the
/// file: literal blocks as they are (leading blank lines counted back from the first content
/// line, where the parser's span starts); folded blocks and multi-line plain or single-quoted
/// scalars from their source lines, joined where YAML folds them with `\` continuations (the
/// shell reads the same command); other scalars on their first line.
pub(crate) fn shell_text(scalar: &Scalar, source: &str) -> (String, u32) {
    let leading_blank =
        u32::try_from(scalar.value.bytes().take_while(|b| *b == b'\n').count()).unwrap_or(0);
    match scalar.style {
        ScalarStyle::Literal => (
            scalar.value.clone(),
            scalar.line.saturating_sub(leading_blank).max(1),
        ),
        ScalarStyle::Folded => {
            folded(scalar, source).unwrap_or_else(|| (scalar.value.clone(), scalar.line))
        }
        _ if scalar.end_line <= scalar.line => (scalar.value.clone(), scalar.line),
        ScalarStyle::Plain | ScalarStyle::SingleQuoted => {
            multi_line(scalar, source).unwrap_or_else(|| (scalar.value.clone(), scalar.line))
        }
        _ => (scalar.value.clone(), scalar.line),
    }
}

/// The source lines of a scalar.
fn source_lines<'s>(scalar: &Scalar, source: &'s str) -> Option<Vec<&'s str>> {
    let range = scalar.bytes.clone()?;
    let text = source.get(range)?;
    Some(text.split('\n').collect())
}

/// A folded block (`>`): its source lines from the first with content (where the span starts),
/// dedented, folded lines joined with continuations, more-indented and blank lines kept.
fn folded(scalar: &Scalar, source: &str) -> Option<(String, u32)> {
    let lines = source_lines(scalar, source)?;
    let indent = scalar.col;
    let dedented: Vec<&str> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let l = if i == 0 {
                l
            } else {
                l.get(indent..).unwrap_or("")
            };
            l.trim_end_matches('\r')
        })
        .collect();
    let mut text = String::new();
    for (i, line) in dedented.iter().enumerate() {
        text.push_str(line);
        if let Some(next) = dedented.get(i + 1) {
            let folds = !line.is_empty()
                && !next.is_empty()
                && !line.starts_with([' ', '\t'])
                && !next.starts_with([' ', '\t']);
            text.push_str(if folds { " \\\n" } else { "\n" });
        }
    }
    Some((text, scalar.line))
}

/// A plain or single-quoted scalar over several lines: line breaks fold into continuations.
fn multi_line(scalar: &Scalar, source: &str) -> Option<(String, u32)> {
    let lines = source_lines(scalar, source)?;
    let quoted = scalar.style == ScalarStyle::SingleQuoted;
    let mut text = String::new();
    for (i, line) in lines.iter().enumerate() {
        let mut piece = line.trim();
        if quoted {
            if i == 0 {
                piece = piece.strip_prefix('\'').unwrap_or(piece);
            }
            if i + 1 == lines.len() {
                piece = piece.strip_suffix('\'').unwrap_or(piece);
            }
        }
        let piece = if quoted {
            piece.replace("''", "'")
        } else {
            piece.to_string()
        };
        text.push_str(&piece);
        if i + 1 < lines.len() {
            text.push_str(if piece.is_empty() { "\n" } else { " \\\n" });
        }
    }
    Some((text, scalar.line))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(text: &str) -> (Vec<Document>, Vec<ExtractWarning>) {
        let mut warnings = Vec::new();
        let docs = parse(text, &mut warnings);
        (docs, warnings)
    }

    #[test]
    fn nodes_keep_lines_across_documents() {
        let (d, w) = docs("a: 1\nb:\n  - x\n  - y\n---\nc: |\n  echo hi\n  rm /tmp/x\n");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(d.len(), 2);
        let first = d[0].root.as_ref().expect("root");
        assert_eq!(first.get("b").expect("b").seq()[1].line, 4);
        let second = d[1].root.as_ref().expect("root");
        let c = second.get("c").and_then(Node::scalar).expect("c");
        assert_eq!(c.style, ScalarStyle::Literal);
        assert_eq!(
            shell_text(
                c,
                "a: 1\nb:\n  - x\n  - y\n---\nc: |\n  echo hi\n  rm /tmp/x\n"
            ),
            ("echo hi\nrm /tmp/x\n".to_string(), 7)
        );
        let src = "k: |-\n\n  after blank\n";
        let (d, _) = docs(src);
        let k = d[0]
            .root
            .as_ref()
            .and_then(|r| r.get("k"))
            .and_then(Node::scalar)
            .expect("k");
        assert_eq!(shell_text(k, src), ("\nafter blank".to_string(), 2));
    }

    #[test]
    fn folded_and_plain_scalars_map_each_word_to_its_line() {
        let src = "run: >\n  find /var/log\n  -delete\nplain: rm\n  /tmp/a\nq: 'a\n  b'\n";
        let (d, _) = docs(src);
        let root = d[0].root.as_ref().expect("root");
        let run = root.get("run").and_then(Node::scalar).expect("run");
        assert_eq!(
            shell_text(run, src),
            ("find /var/log \\\n-delete\n".to_string(), 2)
        );
        let plain = root.get("plain").and_then(Node::scalar).expect("plain");
        assert_eq!(plain.value, "rm /tmp/a");
        assert_eq!(shell_text(plain, src), ("rm \\\n/tmp/a".to_string(), 4));
        let q = root.get("q").and_then(Node::scalar).expect("q");
        assert_eq!(shell_text(q, src), ("a \\\nb".to_string(), 6));
    }

    #[test]
    fn a_syntax_error_is_one_warning_and_later_documents_are_read() {
        let (d, w) = docs("a: [1, 2\nb: 3\n---\nhealthy: true\n");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].message.contains("YAML syntax error"));
        assert!(d.iter().any(|doc| {
            doc.root
                .as_ref()
                .is_some_and(|r| r.get("healthy").is_some())
        }));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let (d, w) = docs("x: &env\n  A: 1\n  B: 2\nsvc:\n  <<: *env\n  B: 3\n");
        assert!(w.is_empty());
        let svc = d[0].root.as_ref().and_then(|r| r.get("svc")).expect("svc");
        assert_eq!(svc.get("A").and_then(Node::str), Some("1"));
        assert_eq!(svc.get("B").and_then(Node::str), Some("3"));
    }

    #[test]
    fn alias_bombs_stop_at_the_node_budget() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!("a{i}: &a{i} [{prev}, {prev}, {prev}, {prev}, {prev}, {prev}, {prev}, {prev}, {prev}, {prev}]\n"));
        }
        let (_, w) = docs(&text);
        assert!(
            w.iter().any(|w| w.message.contains("too many nodes")),
            "{w:?}"
        );
    }

    #[test]
    fn binary_and_deep_input_do_not_panic() {
        let binary = String::from_utf8_lossy(&[0, 1, 2, 0xff, b':', b'\n', b'-', 0x80]).to_string();
        let _ = docs(&binary);
        let deep = "[".repeat(10_000);
        let (_, w) = docs(&deep);
        assert!(!w.is_empty());
        let deep_block: String = (0..200)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i * 2)))
            .collect();
        let _ = docs(&deep_block);
    }
}
