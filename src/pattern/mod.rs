//! The path and name pattern algebra: the heart of knockon's precision.
//!
//! Input: [`Piece`]s from the resolver (literal text, globs in the program's own syntax, holes
//! for unknown values, opaque symbols for unset environment variables). Output: [`Pattern`]s, each
//! denoting a set of concrete paths, and the set relations the rules ask of them: does A *cover* B
//! (every path B can name, A matches), do they *overlap*, or are they *disjoint*.
//!
//! Invariants: relations are exact for the pattern language (literals, `*`, `?`, `[...]`, `**`,
//! holes, subtrees), decided on automata rather than by heuristics, and property-tested against a
//! brute-force matcher. Depth limits and directory prefixes are expressed by the resolver as
//! patterns (`dir/*/*.csv`, a subtree flag), so every caller gets the same answers.
//!
//! The language, where tools disagree:
//! - Every set holds only *well-formed* paths: non-empty, no `//`, no trailing `/` (the root
//!   `/` aside). So `a/*/b` does not claim `a//b`, `a/**` matches what is under `a` (not `a`
//!   or `a/`), and literal parts are normalised (`//`, `.`, `dir/..`) before building.
//! - `**` as a whole segment is zero or more directories, as in gitignore and globset; a
//!   leading `**/` also matches absolute paths. With `star_matches_slash` (`find -path`), the
//!   glob is plain fnmatch: `*`, `?` and brackets may match `/`, and `**` is two stars.
//! - A subtree holds each matched path and everything below it (below `/`, everything absolute).
//! - A symbol (`${NAME}`) is one opaque unit, which may stand for several directories: only
//!   `**`, path holes, slash-crossing stars and the same symbol match it; a pattern that starts
//!   with one is absolute. What a pattern *names* (the side being covered) holds symbols only
//!   where its own symbol pieces stand: its wildcards and holes stand for concrete text.
//! - Searches are bounded; [`try_covers`] and [`try_overlaps`] say when a budget ran out
//!   (adversarial patterns only), and the plain functions then claim nothing.

mod automaton;
mod build;
mod charset;
mod glob;
#[cfg(test)]
mod proptests;
mod strftime;
#[cfg(test)]
mod tests;

pub use build::normalize_literal_path;

use crate::expr::{HoleShape, Text};
use serde::Serialize;

/// One piece of a path as the resolver sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Piece {
    /// Literal text; may contain `/`.
    Lit(Text),
    /// A glob in shell/fnmatch syntax: `*`, `?`, `[...]`, `[!...]`, `[[:digit:]]`, `\x`, and `**`
    /// as a whole segment (zero or more directories). With `star_matches_slash`, the glob is
    /// plain fnmatch as in `find -path`: `*` (and `?`, brackets) also match `/`. With
    /// `case_insensitive`, letters match either case (`find -iname`).
    Glob {
        text: Text,
        star_matches_slash: bool,
        case_insensitive: bool,
    },
    /// A value the tool cannot know, named for display (`{day}`).
    Hole { label: Text, shape: HoleShape },
    /// An environment variable with no default: an opaque value that is equal to itself in every
    /// program (two repositories reading `$DATA_DIR` mean the same directory), matched by `**` and
    /// path holes but never equal to a different literal.
    Symbol(Text),
}

/// A set of paths. Built once, compared many times.
#[derive(Clone)]
pub struct Pattern {
    display: String,
    absolute: bool,
    /// Names objects on another machine or in an object store (`s3://bucket/key`,
    /// `rsync://host/module/path`): see [`Pattern::is_remote`].
    remote: bool,
    subtree: bool,
    literal_prefix: String,
    /// Built on the first comparison ([`Pattern::nfa`]): a world resolves thousands of
    /// patterns and resolution compares none of them, while a check compares only those that
    /// can meet its changed ones; built eagerly, the automata were about a third of a corpus
    /// world's resolved answers (8 of 26 MiB).
    nfa: std::sync::OnceLock<Box<automaton::Nfa>>,
    /// The normalised tokens: two patterns with the same display may still differ (a literal
    /// `*` and a glob `*`, a literal `{day}` and a hole).
    toks: Box<[build::Tok]>,
    /// Holds a date or time formatted with `strftime` (`$(date +%F)`, `f"{day:%Y-%m-%d}"`): a
    /// new name every day, the shape of outputs that pile up unless something cleans them.
    dated: bool,
}

/// Structural equality: the same normalised pattern with the same display; patterns with equal
/// languages but different spellings differ (use [`relation`] for sets).
impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.display == other.display && self.subtree == other.subtree && self.toks == other.toks
    }
}
impl Eq for Pattern {}

impl std::hash::Hash for Pattern {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.display.hash(state);
        self.subtree.hash(state);
    }
}

/// Shows the pattern as reviewers read it, not its automaton: debug output and snapshots of
/// facts stay readable.
impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Pattern").field(&self.display()).finish()
    }
}

/// Reports (JSON) show a pattern as reviewers read it; the compact binary forms
/// (`store::codec`, MessagePack) keep all of it, so a cached resolution compares exactly as
/// the fresh one did. The cache's positional form leaves the automaton out (the same build
/// reads it and rebuilds it from the tokens when it is first needed); the index's named form,
/// which other builds read, carries it.
impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return s.serialize_str(&self.display());
        }
        Stored {
            display: std::borrow::Cow::Borrowed(&self.display),
            absolute: self.absolute,
            remote: self.remote,
            subtree: self.subtree,
            literal_prefix: std::borrow::Cow::Borrowed(&self.literal_prefix),
            nfa: (!crate::store::codec::writing_positionally())
                .then(|| std::borrow::Cow::Borrowed(self.nfa())),
            toks: std::borrow::Cow::Borrowed(&self.toks),
            dated: self.dated,
        }
        .serialize(s)
    }
}

/// Only the binary form reads back: a display string alone cannot rebuild the automaton.
impl<'de> serde::Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let stored = Stored::deserialize(d)?;
        Ok(Pattern {
            display: stored.display.into_owned(),
            absolute: stored.absolute,
            remote: stored.remote,
            subtree: stored.subtree,
            literal_prefix: stored.literal_prefix.into_owned(),
            nfa: stored.nfa.map_or_else(std::sync::OnceLock::new, |nfa| {
                Box::new(nfa.into_owned()).into()
            }),
            toks: stored.toks.into_owned().into(),
            dated: stored.dated,
        })
    }
}

/// Every field of a [`Pattern`], for its binary form.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored<'a> {
    display: std::borrow::Cow<'a, str>,
    absolute: bool,
    remote: bool,
    subtree: bool,
    literal_prefix: std::borrow::Cow<'a, str>,
    #[serde(default)]
    nfa: Option<std::borrow::Cow<'a, automaton::Nfa>>,
    toks: std::borrow::Cow<'a, [build::Tok]>,
    dated: bool,
}

impl Pattern {
    /// The pattern's automaton, built on first use.
    fn nfa(&self) -> &automaton::Nfa {
        self.nfa.get_or_init(|| {
            Box::new(build::compile_tokens(
                &self.toks,
                self.absolute,
                self.subtree,
            ))
        })
    }

    /// Builds a pattern from pieces. Normalises the literal parts (`//`, `/./`, `dir/..`,
    /// trailing `/`). With `subtree`, the pattern also names everything under each path it
    /// matches (a deleted directory covers its contents).
    pub fn from_pieces(pieces: &[Piece], subtree: bool) -> Pattern {
        build::build(pieces, subtree)
    }

    /// A pattern from glob text alone (`/data/ticker/ticker_*.csv`), for tests and config.
    pub fn glob(text: &str) -> Pattern {
        Pattern::from_pieces(
            &[Piece::Glob {
                text: text.to_string().into(),
                star_matches_slash: false,
                case_insensitive: false,
            }],
            false,
        )
    }

    /// Whether the pattern names a value resolution left open (`{name}`: a loop item nobody
    /// can list, a parameter no call binds) — not a symbol (`${DATA_DIR}`, equal to itself
    /// everywhere).
    pub fn has_open_value(&self) -> bool {
        let shown = self.display();
        shown.contains('{') && !shown.contains("${")
    }

    /// The pattern with every open value replaced by a character no real path spells: what it
    /// names through what it spells alone. A writer of `/etc/systemd/system/{name}` meets
    /// `/etc/systemd/system/app.service` only through its open value, and its spelled form does
    /// not meet it. `None` when the pattern has no open value.
    pub fn spelled_only(&self) -> Option<Pattern> {
        if !self.has_open_value() {
            return None;
        }
        let shown = self.display();
        let mut strict = String::with_capacity(shown.len());
        let mut rest = shown.as_str();
        while let Some(start) = rest.find('{') {
            strict.push_str(&rest[..start]);
            match rest[start..].find('}') {
                Some(end) => {
                    strict.push('\u{1}');
                    rest = &rest[start + end + 1..];
                }
                None => {
                    strict.push_str(&rest[start..]);
                    rest = "";
                }
            }
        }
        strict.push_str(rest);
        let (text, subtree) = match strict.strip_suffix("/**") {
            Some(base) => (base.to_string(), true),
            None => (strict, false),
        };
        Some(Pattern::from_pieces(
            &[Piece::Glob {
                text: text.into(),
                star_matches_slash: false,
                case_insensitive: false,
            }],
            subtree,
        ))
    }

    /// How reviewers read the pattern: globs as written, holes as `{label}`, symbols as
    /// `${NAME}`, and `/**` appended for a subtree.
    pub fn display(&self) -> String {
        if self.subtree && !(self.display == "**" || self.display.ends_with("/**")) {
            format!("{}/**", self.display.trim_end_matches('/'))
        } else {
            self.display.clone()
        }
    }

    /// The path as built, without the subtree suffix.
    pub fn base_display(&self) -> &str {
        &self.display
    }

    /// Starts at `/` (or at a symbol that stands for an absolute directory), or is a remote
    /// pattern: both name the same thing from every repository.
    pub fn is_absolute(&self) -> bool {
        self.absolute || self.remote
    }

    /// Starts with a URL root, `scheme://` (`s3://bucket/key`, `gs://b/k`,
    /// `rsync://host/module/p`, `ssh://host/p`): what it names is matched as text that starts
    /// with the scheme, so it never matches a local path (which starts with `/` or is
    /// relative), and `**` or a leading hole of a local pattern never reaches it.
    pub fn is_remote(&self) -> bool {
        self.remote
    }

    /// Does a path of this pattern carry a `strftime` date or time (see the `dated` field)?
    pub fn is_dated(&self) -> bool {
        self.dated
    }

    /// Also names everything below each matched path (a recursive delete, a directory prefix).
    pub fn is_subtree(&self) -> bool {
        self.subtree
    }

    /// The longest literal directory prefix (ending in `/`, or empty): an index key that every
    /// path the pattern matches starts with.
    pub fn literal_prefix(&self) -> &str {
        &self.literal_prefix
    }

    /// Matches no path at all (for instance a literal part that normalisation cannot make
    /// well-formed): a resolver can drop it rather than compare it.
    pub fn is_empty(&self) -> bool {
        automaton::included(self.nfa(), std::iter::empty()).unwrap_or(false)
    }

    /// Does this pattern match this concrete path? The path must be normalised (see
    /// [`normalize_literal_path`]): `a//b` or `a/` never match.
    pub fn matches(&self, path: &str) -> bool {
        if self.remote
            && let Some((scheme, rest)) = path.split_once("://")
        {
            let root = char::from_u32(build::REMOTE_ROOT).unwrap_or(char::REPLACEMENT_CHARACTER);
            return self.nfa().matches(&format!("{scheme}{root}{rest}"));
        }
        self.nfa().matches(path)
    }
}

/// How two patterns' sets relate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    /// The same set.
    Equal,
    /// A ⊋ B: A matches every path B names, and more.
    Covers,
    /// A ⊊ B.
    CoveredBy,
    /// Some paths in common, each has paths the other lacks.
    Overlaps,
    /// No path in common.
    Disjoint,
}

impl Relation {
    /// A matches every path B names (equal or strictly more).
    pub fn a_covers_b(self) -> bool {
        matches!(self, Relation::Equal | Relation::Covers)
    }

    /// A and B share at least one path.
    pub fn intersects(self) -> bool {
        !matches!(self, Relation::Disjoint)
    }
}

/// The relation of A to B. When a search exceeds its budget (only adversarial patterns do), the
/// undecided parts count as "no": no coverage and no overlap are claimed that were not proven.
pub fn relation(a: &Pattern, b: &Pattern) -> Relation {
    let a_covers = covers(std::slice::from_ref(a), b);
    let b_covers = covers(std::slice::from_ref(b), a);
    match (a_covers, b_covers) {
        (true, true) => Relation::Equal,
        (true, false) => Relation::Covers,
        (false, true) => Relation::CoveredBy,
        (false, false) => {
            if overlaps(a, b) {
                Relation::Overlaps
            } else {
                Relation::Disjoint
            }
        }
    }
}

/// Does the union of `a` match every path `b` names? `false` when undecided (see
/// [`try_covers`]).
pub fn covers(a: &[Pattern], b: &Pattern) -> bool {
    try_covers(a, b).unwrap_or(false)
}

/// Does the union of `a` match every path `b` names? `None` when the patterns are too complex
/// to decide within the search budget, so that a caller can report "unknown" rather than guess.
pub fn try_covers(a: &[Pattern], b: &Pattern) -> Option<bool> {
    if a.len() <= SMALL_UNION {
        return automaton::included(b.nfa(), relevant(a, b).map(|p| p.nfa())).ok();
    }
    // A pattern that shares no path with `b` cannot help cover it: leaving it out of the union
    // keeps the subset search as small as the patterns that matter, so the budget does not
    // depend on how many unrelated outputs a repository has. Undecided overlaps stay in.
    let touching: Vec<&Pattern> = relevant(a, b)
        .filter(|p| try_overlaps(p, b) != Some(false))
        .collect();
    automaton::included(b.nfa(), touching.iter().map(|p| p.nfa())).ok()
}

/// Unions up to this size go to the inclusion search whole; larger ones are first narrowed to
/// the patterns that overlap the one being covered.
const SMALL_UNION: usize = 4;

/// Do `a` and `b` share at least one path? `false` when undecided (see [`try_overlaps`]).
pub fn overlaps(a: &Pattern, b: &Pattern) -> bool {
    try_overlaps(a, b).unwrap_or(false)
}

/// Do `a` and `b` share at least one path? `None` when undecided within the search budget.
pub fn try_overlaps(a: &Pattern, b: &Pattern) -> Option<bool> {
    if !prefixes_compatible(a, b) {
        return Some(false);
    }
    automaton::intersect_codes(a.nfa(), b.nfa())
        .ok()
        .map(|w| w.is_some())
}

/// A shortest path that both patterns match, if any: evidence for explanations and tests.
/// Symbols are shown as `${NAME}`.
pub fn overlap_witness(a: &Pattern, b: &Pattern) -> Option<String> {
    if !prefixes_compatible(a, b) {
        return None;
    }
    automaton::intersect_witness(a.nfa(), b.nfa())
}

/// A shortest path that `b` names and no pattern of `a` matches, if any.
pub fn uncovered_witness(a: &[Pattern], b: &Pattern) -> Option<String> {
    automaton::difference_witness(b.nfa(), relevant(a, b).map(|p| p.nfa()))
}

/// Every path of a pattern starts with its literal prefix: when neither prefix extends the
/// other, the patterns are disjoint without a search.
/// A remote pattern and a local one never share a path either (a local `**/x.csv` would
/// otherwise reach `s3://b/x.csv`).
fn prefixes_compatible(a: &Pattern, b: &Pattern) -> bool {
    if a.remote != b.remote {
        return false;
    }
    let (x, y) = (a.literal_prefix.as_str(), b.literal_prefix.as_str());
    x.starts_with(y) || y.starts_with(x)
}

/// The patterns of `a` that may share a path with `b`.
fn relevant<'a>(a: &'a [Pattern], b: &'a Pattern) -> impl Iterator<Item = &'a Pattern> {
    a.iter().filter(move |p| prefixes_compatible(p, b))
}
