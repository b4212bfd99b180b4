//! Pieces -> a normalised pattern: display text, literal prefix and automaton.
//!
//! Every piece is first lexed into [`Item`]s: one token of the pattern language each (a
//! literal character, a wildcard, a hole's characters...) with how it is displayed. Items are
//! then split into segments at literal `/` and normalised the way a path is (`//`, `.`,
//! `dir/..`, trailing `/`), wherever the pieces' boundaries fall; holes and globs are never
//! folded away, since what they stand for is unknown. The normalised segments give the
//! display, the literal prefix and the automaton.

use super::automaton::{Nfa, Thompson};
use super::charset::{CharSet, SLASH, SYM_CLOSE, SYM_OPEN, case_variants};
use super::glob::{self, GlobFlags};
use super::{Pattern, Piece, strftime};
use crate::expr::HoleShape;

/// One token of the pattern language.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(super) enum Tok {
    /// A literal character; `/` separates segments.
    Lit(u32),
    /// A literal letter in any case (a case-insensitive glob).
    Fold(u32),
    /// One code of a symbol's encoding.
    Sym(u32),
    /// Exactly one code of the set. (Boxed: sets are rare among a pattern's tokens, and inline
    /// they would double the size of every literal character a resolved world holds.)
    One(Box<CharSet>),
    /// Zero or more codes of the set.
    Many(Box<CharSet>),
    /// `**` in a glob: zero or more directories when it is a whole segment, else `*`.
    DoubleStar,
    /// Matches nothing, consumes nothing: where a hole or symbol is displayed.
    Mark,
}

impl Tok {
    /// Does the token consume characters (everything but a display mark)?
    fn consumes(&self) -> bool {
        !matches!(self, Tok::Mark)
    }

    /// A literal character for normalisation (`.`, `..` and `dir/..` are decided on these).
    fn is_literal(&self) -> bool {
        matches!(self, Tok::Lit(_) | Tok::Fold(_))
    }
}

/// How an item is displayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Show {
    /// As its literal character.
    Char,
    /// As this text (a glob fragment as written, `{label}`, `${NAME}`).
    Text(String),
    /// Not at all (the characters of a hole, shown by its mark).
    Hidden,
}

/// A token and its display.
#[derive(Clone, Debug)]
pub(super) struct Item {
    pub(super) tok: Tok,
    pub(super) show: Show,
}

impl Item {
    fn hidden(tok: Tok) -> Item {
        Item {
            tok,
            show: Show::Hidden,
        }
    }

    fn mark(text: String) -> Item {
        Item {
            tok: Tok::Mark,
            show: Show::Text(text),
        }
    }
}

/// One segment of a normalised pattern.
#[derive(Clone, Debug, Default)]
struct Seg {
    /// Is the separator before this segment displayed? (A hole's own `/` is not.)
    sep_visible: bool,
    items: Vec<Item>,
}

impl Seg {
    fn consumes(&self) -> bool {
        self.items.iter().any(|i| i.tok.consumes())
    }

    fn is_literal_text(&self, text: &str) -> bool {
        let mut toks = self.items.iter().map(|i| &i.tok);
        text.chars()
            .all(|c| toks.next() == Some(&Tok::Lit(c as u32)))
            && toks.next().is_none()
    }

    /// A plain name that `name/..` may cancel.
    fn is_foldable_name(&self) -> bool {
        self.items.iter().all(|i| i.tok.is_literal()) && !self.is_literal_text("..")
    }

    /// A whole-segment `**`.
    fn is_recursive(&self) -> bool {
        let mut toks = self.items.iter().map(|i| &i.tok).filter(|t| t.consumes());
        toks.next() == Some(&Tok::DoubleStar) && toks.next().is_none()
    }

    fn starts_with_symbol(&self) -> bool {
        self.items.iter().find(|i| i.tok.consumes()).map(|i| &i.tok) == Some(&Tok::Sym(SYM_OPEN))
    }
}

/// A pattern after normalisation.
#[derive(Debug, Default)]
struct Norm {
    absolute: bool,
    /// Is the leading `/` displayed? Not when a symbol makes the pattern absolute.
    lead_visible: bool,
    segs: Vec<Seg>,
}

/// The normal form of `pieces`, and whether it names a remote object.
fn normalised(pieces: &[Piece]) -> (Norm, bool) {
    let items = lex(pieces);
    let (root, items) = url_root(items);
    let mut norm = normalise(items);
    let remote = !root.is_empty();
    if remote {
        // The root is literal text of the first segment: `s3:` `/` `/` then the bucket.
        match norm.segs.first_mut() {
            Some(first) if !norm.absolute => {
                first.items.splice(0..0, root);
            }
            _ => {
                norm.absolute = false;
                norm.lead_visible = false;
                norm.segs.insert(
                    0,
                    Seg {
                        sep_visible: false,
                        items: root,
                    },
                );
            }
        }
    }
    (norm, remote)
}

pub fn build(pieces: &[Piece], subtree: bool) -> Pattern {
    let (norm, remote) = normalised(pieces);
    let toks = key(&norm);
    Pattern {
        display: display(&norm),
        absolute: norm.absolute,
        remote,
        subtree,
        literal_prefix: literal_prefix(&norm),
        nfa: std::sync::OnceLock::new(),
        toks: toks.into(),
        dated: pieces.iter().any(|p| {
            matches!(
                p,
                Piece::Hole {
                    shape: HoleShape::Strftime { .. },
                    ..
                }
            )
        }),
    }
}

/// Normalises a literal path: collapses `//` and `/./`, folds `dir/..`, drops a trailing `/`.
/// A relative path that folds away entirely is `.`; the empty string stays empty.
pub fn normalize_literal_path(path: &str) -> String {
    display(&normalise(lex(&[Piece::Lit(path.to_string().into())])))
}

/// Longest URL scheme recognised as a remote root.
const MAX_SCHEME: usize = 16;

/// Splits a leading literal `scheme://` off the items (`s3://b/k`: `s3://` and `b/k`); the
/// scheme is lower-case letters, digits, `+`, `-`, `.`, starting with a letter. Nothing is split
/// when there is no such root.
fn url_root(items: Vec<Item>) -> (Vec<Item>, Vec<Item>) {
    let lit = |i: usize| match items.get(i).map(|item| &item.tok) {
        Some(Tok::Lit(c)) => char::from_u32(*c),
        _ => None,
    };
    let mut n = 0;
    while n <= MAX_SCHEME
        && lit(n).is_some_and(|c| {
            c.is_ascii_lowercase()
                || (n > 0 && (c.is_ascii_digit() || matches!(c, '+' | '-' | '.')))
        })
    {
        n += 1;
    }
    if n == 0
        || n > MAX_SCHEME
        || lit(n) != Some(':')
        || lit(n + 1) != Some('/')
        || lit(n + 2) != Some('/')
    {
        return (Vec::new(), items);
    }
    // The rest must name something after the root (`s3://` alone names no object).
    if items.len() <= n + 3 {
        return (Vec::new(), items);
    }
    let mut items = items;
    let rest = items.split_off(n + 3);
    // `://` is one code no path spells, shown as written: a path never has `//`, and no
    // local pattern can name the root.
    items.truncate(n);
    items.push(Item {
        tok: Tok::Lit(REMOTE_ROOT),
        show: Show::Text("://".into()),
    });
    (items, rest)
}

/// The code that stands for a remote pattern's `://` (a private-use character).
pub(super) const REMOTE_ROOT: u32 = 0xF_FFFD;

// ---------------------------------------------------------------------------------------------
// Lexing.

fn lex(pieces: &[Piece]) -> Vec<Item> {
    // Room for the literal characters at least (most of a path), reserved once.
    let literal_bytes = pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(text) => text.len(),
            _ => 0,
        })
        .sum();
    let mut items = Vec::with_capacity(literal_bytes);
    for piece in pieces {
        match piece {
            Piece::Lit(text) => items.extend(text.chars().map(|c| Item {
                tok: Tok::Lit(c as u32),
                show: Show::Char,
            })),
            Piece::Glob {
                text,
                star_matches_slash,
                case_insensitive,
            } => {
                let flags = GlobFlags {
                    star_matches_slash: *star_matches_slash,
                    case_insensitive: *case_insensitive,
                };
                glob::lex(text, flags, &mut items);
            }
            Piece::Hole { label, shape } => lex_hole(label, shape, &mut items),
            Piece::Symbol(name) => lex_symbol(name, &mut items),
        }
    }
    items
}

fn lex_hole(label: &str, shape: &HoleShape, items: &mut Vec<Item>) {
    items.push(Item::mark(["{", label, "}"].concat()));
    let set = match shape {
        HoleShape::Segment => CharSet::non_slash(),
        HoleShape::Path => CharSet::any(),
        HoleShape::Strftime { format } => return strftime::lex(format, items),
    };
    items.push(Item::hidden(Tok::One(Box::new(set.clone()))));
    items.push(Item::hidden(Tok::Many(Box::new(set))));
}

/// A symbol is `SYM_OPEN name SYM_CLOSE`, codes no real path contains. A `/` in the name
/// (never in a real variable name) becomes `∕` so that the encoding stays one segment.
fn lex_symbol(name: &str, items: &mut Vec<Item>) {
    items.push(Item::mark(["${", name, "}"].concat()));
    items.push(Item::hidden(Tok::Sym(SYM_OPEN)));
    for c in name.chars() {
        let c = if c == '/' { '\u{2215}' } else { c };
        items.push(Item::hidden(Tok::Sym(c as u32)));
    }
    items.push(Item::hidden(Tok::Sym(SYM_CLOSE)));
}

// ---------------------------------------------------------------------------------------------
// Normalisation.

fn split(items: Vec<Item>) -> Vec<Seg> {
    // Each segment's room first: pushed into from empty, a segment's items were moved again
    // at every growth, and every resolved path is split.
    let mut lengths = vec![0usize];
    for item in &items {
        if item.tok == Tok::Lit(SLASH) {
            lengths.push(0);
        } else if let Some(length) = lengths.last_mut() {
            *length += 1;
        }
    }
    let mut segs = Vec::with_capacity(lengths.len());
    let mut lengths = lengths.into_iter();
    segs.push(Seg {
        sep_visible: false,
        items: Vec::with_capacity(lengths.next().unwrap_or_default()),
    });
    for item in items {
        if item.tok == Tok::Lit(SLASH) {
            segs.push(Seg {
                sep_visible: item.show != Show::Hidden,
                items: Vec::with_capacity(lengths.next().unwrap_or_default()),
            });
        } else if let Some(last) = segs.last_mut() {
            last.items.push(item);
        }
    }
    segs
}

fn normalise(items: Vec<Item>) -> Norm {
    if !items.iter().any(|i| i.tok.consumes()) {
        // Nothing to match: the empty pattern (with whatever marks it has).
        return Norm {
            absolute: false,
            lead_visible: false,
            segs: vec![Seg {
                sep_visible: false,
                items,
            }],
        };
    }
    let mut segs = split(items).into_iter();
    let first = segs.next().unwrap_or_default();
    let absolute = !first.consumes();
    let mut lead_visible = false;
    // Marks (and the visibility of separators) of dropped empty segments, for the next segment.
    let mut pending = Seg::default();
    let mut out: Vec<Seg> = Vec::new();
    let rest = if absolute {
        pending.items = first.items;
        None
    } else {
        Some(first)
    };
    for (i, mut seg) in rest.into_iter().chain(segs).enumerate() {
        if absolute && i == 0 {
            lead_visible = seg.sep_visible;
        }
        seg.sep_visible |= pending.sep_visible;
        let marks = std::mem::take(&mut pending.items);
        if !marks.is_empty() {
            seg.items.splice(0..0, marks);
        }
        pending.sep_visible = false;
        if !seg.consumes() {
            pending = seg;
            continue;
        }
        if seg.is_literal_text(".") {
            continue;
        }
        if seg.is_literal_text("..") {
            if out.last().is_some_and(Seg::is_foldable_name) {
                out.pop();
                continue;
            }
            if absolute && out.is_empty() {
                continue;
            }
        }
        out.push(seg);
    }
    finish_norm(absolute, lead_visible, out, pending)
}

/// Places leftover marks, restores `.` or `/` for a path that folded away, and makes a pattern
/// that starts with a symbol absolute.
fn finish_norm(absolute: bool, lead_visible: bool, mut out: Vec<Seg>, pending: Seg) -> Norm {
    if out.is_empty() && !absolute {
        out.push(Seg {
            sep_visible: false,
            items: vec![Item {
                tok: Tok::Lit('.' as u32),
                show: Show::Char,
            }],
        });
    }
    if !pending.items.is_empty() {
        match out.last_mut() {
            Some(last) => last.items.extend(pending.items),
            None => out.push(Seg {
                sep_visible: false,
                items: pending.items,
            }),
        }
    }
    let symbol_led = !absolute && out.first().is_some_and(Seg::starts_with_symbol);
    Norm {
        absolute: absolute || symbol_led,
        lead_visible: absolute && lead_visible,
        segs: out,
    }
}

// ---------------------------------------------------------------------------------------------
// What is derived from the normalised pattern.

fn display(norm: &Norm) -> String {
    let mut s = String::new();
    if norm.absolute && norm.lead_visible {
        s.push('/');
    }
    for (i, seg) in norm.segs.iter().enumerate() {
        if i > 0 && seg.sep_visible {
            s.push('/');
        }
        for item in &seg.items {
            match (&item.show, &item.tok) {
                (Show::Char, Tok::Lit(c) | Tok::Fold(c) | Tok::Sym(c)) => {
                    s.push(char::from_u32(*c).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
                (Show::Text(t), _) => s.push_str(t),
                _ => {}
            }
        }
    }
    s
}

/// The literal text up to the last `/` before the first non-literal item.
fn literal_prefix(norm: &Norm) -> String {
    if norm.absolute && !norm.lead_visible {
        // Led by a symbol: no literal text at all.
        return String::new();
    }
    let mut s = String::new();
    let mut last_slash = 0;
    if norm.absolute {
        s.push('/');
        last_slash = 1;
    }
    'segs: for (i, seg) in norm.segs.iter().enumerate() {
        if i > 0 {
            if !seg.sep_visible {
                break;
            }
            s.push('/');
            last_slash = s.len();
        }
        for item in &seg.items {
            match (&item.tok, &item.show) {
                (Tok::Lit(c), Show::Char | Show::Text(_)) => {
                    s.push(char::from_u32(*c).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
                _ => break 'segs,
            }
        }
    }
    s.truncate(last_slash);
    s
}

/// The token sequence that decides structural equality.
fn key(norm: &Norm) -> Vec<Tok> {
    let mut toks = Vec::new();
    if norm.absolute {
        toks.push(Tok::Lit(SLASH));
    }
    for (i, seg) in norm.segs.iter().enumerate() {
        if i > 0 {
            toks.push(Tok::Lit(SLASH));
        }
        toks.extend(seg.items.iter().map(|i| i.tok.clone()));
    }
    toks
}

// ---------------------------------------------------------------------------------------------
// Compilation.

/// The automaton of a pattern's normalised tokens ([`key`]'s output): what [`compile`] builds
/// from the normalised pattern, read back from the tokens, so that a pattern need not build its
/// automaton before something compares it (most resolved patterns never are).
pub(super) fn compile_tokens(toks: &[Tok], absolute: bool, subtree: bool) -> Nfa {
    let rest = match (absolute, toks.split_first()) {
        (true, Some((Tok::Lit(SLASH), rest))) => rest,
        _ => toks,
    };
    let norm = Norm {
        absolute,
        lead_visible: absolute,
        segs: rest
            .split(|t| *t == Tok::Lit(SLASH))
            .map(|items| Seg {
                sep_visible: true,
                items: items.iter().cloned().map(Item::hidden).collect(),
            })
            .collect(),
    };
    compile(&norm, subtree)
}

/// The automaton [`build`] made before patterns built theirs from their tokens, for the tests
/// that hold [`compile_tokens`] to it.
#[cfg(test)]
pub(super) fn compile_eagerly(pieces: &[Piece], subtree: bool) -> Nfa {
    compile(&normalised(pieces).0, subtree)
}

fn compile(norm: &Norm, subtree: bool) -> Nfa {
    let mut t = Thompson::default();
    let start = t.state();
    let mut cur = start;
    if norm.absolute {
        cur = code(&mut t, cur, SLASH);
    }
    let last = norm.segs.len().saturating_sub(1);
    for (i, seg) in norm.segs.iter().enumerate() {
        if seg.is_recursive() {
            if i == last {
                cur = many(&mut t, cur, &CharSet::any());
            } else {
                // `**/`: nothing, or anything that ends with `/`.
                let end = t.state();
                let m = t.state();
                t.eps(cur, end);
                t.eps(cur, m);
                t.set(m, &CharSet::any(), m);
                t.code(m, SLASH, end);
                cur = end;
                continue;
            }
        } else {
            for item in &seg.items {
                cur = token(&mut t, cur, &item.tok);
            }
        }
        if i != last {
            cur = code(&mut t, cur, SLASH);
        }
    }
    t.finish(start, &[cur], subtree)
}

fn token(t: &mut Thompson, cur: u32, tok: &Tok) -> u32 {
    match tok {
        Tok::Lit(c) | Tok::Sym(c) => code(t, cur, *c),
        Tok::Fold(c) => {
            let next = t.state();
            t.code(cur, *c, next);
            for v in case_variants(*c).into_iter().flatten() {
                t.code(cur, v, next);
            }
            next
        }
        Tok::One(set) => {
            let next = t.state();
            t.set(cur, set, next);
            next
        }
        Tok::Many(set) => many(t, cur, set),
        Tok::DoubleStar => many(t, cur, &CharSet::non_slash()),
        Tok::Mark => cur,
    }
}

fn code(t: &mut Thompson, cur: u32, c: u32) -> u32 {
    let next = t.state();
    t.code(cur, c, next);
    next
}

/// Zero or more codes of `set`, on a fresh looping state (so that consecutive loops on
/// different sets stay in order).
fn many(t: &mut Thompson, cur: u32, set: &CharSet) -> u32 {
    let next = t.state();
    t.eps(cur, next);
    t.set(next, set, next);
    next
}
