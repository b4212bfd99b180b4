//! Shell words -> [`Expr`]: quoting, parameter expansions, command substitutions, globs, brace
//! expansion and tilde.
//!
//! Tree-sitter gives the structure of a word (strings, expansions, substitutions); the text of
//! its literal parts is decoded here into [`Atom`]s that remember whether each character was
//! quoted, because quoting decides what is a glob and what is a brace expansion. A [`Word`] is
//! then read in one of three ways: as the shell expands an argument ([`Word::expr`]), as a
//! pattern that the program itself matches (`find -name`, [`Word::pattern`]), or as the value of
//! an assignment ([`Word::value_expr`]).

use crate::expr::{Expr, HoleShape, ScopeId};
use crate::extract::FieldExt as _;
use tree_sitter::Node;

/// Deepest nesting of expansions inside a word that is translated; deeper parts become holes.
const MAX_WORD_DEPTH: u32 = 48;
/// Nesting of expansions read in the default of a use ([`Translator::parameter_use`]). Uses
/// are collected for every expansion of a file, so the default of each nested `${a:-${b:-...}}`
/// is read again inside every enclosing one: a small depth keeps that linear in the file.
const MAX_USE_DEFAULT_DEPTH: u32 = 12;
/// Longest word searched for brace expansions (the search is quadratic).
const MAX_BRACE_WORD: usize = 2048;
/// Largest numeric brace range (`{1..31}`) expanded into alternatives.
const MAX_BRACE_RANGE: u64 = 256;
/// Label of the placeholder that stands for "each path the producer yields" (`{}` of
/// `find -exec`, the input lines of `xargs`, the variable of a `while read` loop). It never
/// reaches the facts: accesses to it are captured or dropped.
const ITEM_LABEL: &str = "\u{1}item";

/// One decoded piece of a word.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Atom {
    Char { c: char, quoted: bool },
    Expr(Expr),
}

/// A shell word, decoded, with the line it is on.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Word {
    pub atoms: Vec<Atom>,
    pub line: u32,
    /// The scope of the variables the word names (for `~`, which is `$HOME`).
    pub scope: ScopeId,
    /// The source text, for plain-words descriptions (`-mtime +$DAYS`).
    pub source: String,
    /// When the whole word is one command substitution that prints a file or looks a process
    /// up: the file (`$(cat F)`, `$(< F)`) or the process name (`$(pgrep -f name)`), so that
    /// `kill -HUP "$(cat /run/x.pid)"` names the pid file it signals.
    pub reads: Option<Expr>,
}

/// The fields an unquoted expansion of a value gives: the value split at the whitespace in its
/// literal text (`"/var/a /var/b"` -> `/var/a`, `/var/b`; `"$BASE/a $BASE/b"` -> `$BASE/a`,
/// `$BASE/b`); an `Alt` splits each option. `None` when there is nothing to split (one field),
/// or the value is not built of literals, variables and holes.
pub(super) fn split_fields(value: &Expr) -> Option<Vec<Expr>> {
    fn fields_of(value: &Expr, out: &mut Vec<Vec<Expr>>, depth: u32) -> bool {
        if depth > MAX_WORD_DEPTH {
            return false;
        }
        match value {
            Expr::Lit { text } | Expr::Glob { text } => {
                let glob = matches!(value, Expr::Glob { .. });
                let make = |t: &str| if glob { Expr::glob(t) } else { Expr::lit(t) };
                let mut pieces = text.split([' ', '\t', '\n']).peekable();
                while let Some(piece) = pieces.next() {
                    if !piece.is_empty()
                        && let Some(current) = out.last_mut()
                    {
                        current.push(make(piece));
                    }
                    // A separator ends the field (empty fields are dropped below).
                    if pieces.peek().is_some() {
                        out.push(Vec::new());
                    }
                }
                true
            }
            Expr::Concat { parts } => parts.iter().all(|p| fields_of(p, out, depth + 1)),
            Expr::Var { .. } | Expr::Env { .. } | Expr::Hole { .. } => {
                if let Some(current) = out.last_mut() {
                    current.push(value.clone());
                }
                true
            }
            _ => false,
        }
    }
    let options: Vec<&Expr> = match value {
        Expr::Alt { options } => options.iter().collect(),
        other => vec![other],
    };
    let mut result = Vec::new();
    let mut split = false;
    for option in options {
        let mut fields: Vec<Vec<Expr>> = vec![Vec::new()];
        if !fields_of(option, &mut fields, 0) {
            result.push(option.clone());
            continue;
        }
        let fields: Vec<Vec<Expr>> = fields.into_iter().filter(|f| !f.is_empty()).collect();
        split |= fields.len() > 1;
        result.extend(fields.into_iter().map(normalize_concat));
    }
    (split && !result.is_empty()).then_some(result)
}

/// The expression standing for each item a producer yields.
pub(super) fn placeholder() -> Expr {
    Expr::Hole {
        label: ITEM_LABEL.to_string().into(),
        shape: HoleShape::Path,
    }
}

/// Whether the placeholder occurs anywhere in the expression.
pub(super) fn contains_placeholder(expr: &Expr) -> bool {
    match expr {
        Expr::Hole { label, .. } => label == ITEM_LABEL,
        Expr::Concat { parts } | Expr::Join { parts } => parts.iter().any(contains_placeholder),
        Expr::Alt { options } => options.iter().any(contains_placeholder),
        Expr::Var { default, .. } | Expr::Env { default, .. } => {
            default.as_deref().is_some_and(contains_placeholder)
        }
        Expr::Parent { of } => contains_placeholder(of),
        Expr::ReplaceName { of, name, .. } => {
            contains_placeholder(of) || contains_placeholder(name)
        }
        Expr::Lit { .. } | Expr::Glob { .. } => false,
    }
}

impl Word {
    /// A word made of literal text (a default command, a start directory).
    pub fn from_lit(text: &str, line: u32) -> Word {
        Word {
            atoms: text
                .chars()
                .map(|c| Atom::Char { c, quoted: true })
                .collect(),
            line,
            scope: 0,
            source: text.to_string(),
            reads: None,
        }
    }

    /// One field of a split expansion (see [`split_fields`]) as a word: literal text stays
    /// literal, glob text stays glob, variables and holes stay expansions.
    pub fn from_field(field: &Expr, line: u32, scope: ScopeId, source: &str) -> Word {
        fn atoms_of(e: &Expr, out: &mut Vec<Atom>) {
            match e {
                Expr::Lit { text } => {
                    out.extend(text.chars().map(|c| Atom::Char { c, quoted: true }))
                }
                Expr::Glob { text } => {
                    out.extend(text.chars().map(|c| Atom::Char { c, quoted: false }))
                }
                Expr::Concat { parts } => parts.iter().for_each(|p| atoms_of(p, out)),
                other => out.push(Atom::Expr(other.clone())),
            }
        }
        let mut atoms = Vec::new();
        atoms_of(field, &mut atoms);
        Word {
            atoms,
            line,
            scope,
            source: source.to_string(),
            reads: None,
        }
    }

    /// The placeholder as a word.
    pub fn placeholder(line: u32) -> Word {
        Word {
            atoms: vec![Atom::Expr(placeholder())],
            line,
            scope: 0,
            source: "{}".to_string(),
            reads: None,
        }
    }

    /// The whole word as text, when it has no expansion.
    pub fn lit(&self) -> Option<String> {
        // Sized once: collecting chars into a `String` grew it a few bytes at a time, and this
        // is asked of most words.
        let mut text = String::with_capacity(self.atoms.len());
        for atom in &self.atoms {
            match atom {
                Atom::Char { c, .. } => text.push(*c),
                Atom::Expr(_) => return None,
            }
        }
        Some(text)
    }

    /// The literal text before the first expansion (`--file=` of `--file="$OUT"`).
    pub fn leading_lit(&self) -> String {
        let mut text = String::with_capacity(self.atoms.len());
        for atom in &self.atoms {
            match atom {
                Atom::Char { c, .. } => text.push(*c),
                Atom::Expr(_) => break,
            }
        }
        text
    }

    /// The word without its first `n` atoms (the value attached to `-fFILE`, `--file=FILE`).
    pub fn slice_from(&self, n: usize) -> Word {
        Word {
            atoms: self.atoms.get(n..).unwrap_or_default().to_vec(),
            line: self.line,
            scope: self.scope,
            source: self.source.clone(),
            reads: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.atoms.is_empty()
    }

    /// The word up to the first literal occurrence of `sep` (`REPO` of `REPO::ARCHIVE`), when
    /// it has one.
    pub fn before(&self, sep: &str) -> Option<Word> {
        let sep: Vec<char> = sep.chars().collect();
        if sep.is_empty() {
            return None;
        }
        let at = (0..self.atoms.len()).find(|&i| {
            sep.iter()
                .enumerate()
                .all(|(k, s)| matches!(self.atoms.get(i + k), Some(Atom::Char { c, .. }) if c == s))
        })?;
        Some(Word {
            atoms: self.atoms.get(..at).unwrap_or_default().to_vec(),
            line: self.line,
            scope: self.scope,
            source: self.source.clone(),
            reads: None,
        })
    }

    /// The word cut at each literal `c` (`-Q a,b`: `a` and `b`); expansions stay whole.
    pub fn split_on(&self, c: char) -> Vec<Word> {
        self.atoms
            .split(|a| matches!(a, Atom::Char { c: ch, .. } if *ch == c))
            .map(|atoms| Word {
                atoms: atoms.to_vec(),
                line: self.line,
                scope: self.scope,
                source: self.source.clone(),
                reads: None,
            })
            .collect()
    }

    pub fn is_placeholder(&self) -> bool {
        matches!(self.atoms.as_slice(), [Atom::Expr(e)] if *e == placeholder())
    }

    /// The word with every `{}` (or another replace string) in its text turned into the
    /// placeholder.
    pub fn replace_text(&self, needle: &str) -> Word {
        let needle: Vec<char> = needle.chars().collect();
        if needle.is_empty() {
            return self.clone();
        }
        let mut atoms = Vec::with_capacity(self.atoms.len());
        let mut i = 0;
        while i < self.atoms.len() {
            let matches = needle.iter().enumerate().all(
                |(k, n)| matches!(self.atoms.get(i + k), Some(Atom::Char { c, .. }) if c == n),
            );
            if matches {
                atoms.push(Atom::Expr(placeholder()));
                i += needle.len();
            } else if let Some(atom) = self.atoms.get(i) {
                atoms.push(atom.clone());
                i += 1;
            }
        }
        Word {
            atoms,
            line: self.line,
            scope: self.scope,
            source: self.source.clone(),
            reads: None,
        }
    }

    /// The word as the shell expands an argument: tilde, brace expansion, then globbing of
    /// unquoted text.
    pub fn expr(&self) -> Expr {
        let (mut parts, rest) = tilde(&self.atoms, self.scope, self.line);
        parts.push(expand_braces(rest, 0));
        normalize_concat(parts)
    }

    /// The word as a pattern the program matches itself (`find -name`): every literal
    /// character, quoted or not, is glob text.
    pub fn pattern(&self) -> Expr {
        let mut parts = Vec::new();
        let mut text = String::new();
        for atom in &self.atoms {
            match atom {
                Atom::Char { c, .. } => text.push(*c),
                Atom::Expr(e) => {
                    if !text.is_empty() {
                        parts.push(Expr::glob(std::mem::take(&mut text)));
                    }
                    parts.push(e.clone());
                }
            }
        }
        if !text.is_empty() || parts.is_empty() {
            parts.push(Expr::glob(text));
        }
        normalize_concat(parts)
    }

    /// The word as the value of an assignment: no brace expansion or globbing happens there,
    /// but the value is usually expanded unquoted or handed to `find -name` later, so glob
    /// characters, quoted or not, make it a glob.
    pub fn value_expr(&self) -> Expr {
        let (mut parts, rest) = tilde(&self.atoms, self.scope, self.line);
        let mut text = String::new();
        let flush = |text: &mut String, parts: &mut Vec<Expr>| {
            if text.is_empty() {
                return;
            }
            let t = std::mem::take(text);
            parts.push(if has_glob_meta(&t) {
                Expr::glob(t)
            } else {
                Expr::lit(t)
            });
        };
        for atom in rest {
            match atom {
                Atom::Char { c, .. } => text.push(*c),
                Atom::Expr(e) => {
                    flush(&mut text, &mut parts);
                    parts.push(e.clone());
                }
            }
        }
        flush(&mut text, &mut parts);
        normalize_concat(parts)
    }
}

/// A leading `~` or `~/...` is `$HOME`; `~user` is an unknown directory.
fn tilde(atoms: &[Atom], scope: ScopeId, line: u32) -> (Vec<Expr>, &[Atom]) {
    if !matches!(
        atoms.first(),
        Some(Atom::Char {
            c: '~',
            quoted: false
        })
    ) {
        return (Vec::new(), atoms);
    }
    let end = atoms
        .iter()
        .position(|a| matches!(a, Atom::Char { c: '/', .. }) || matches!(a, Atom::Expr(_)))
        .unwrap_or(atoms.len());
    let rest = atoms.get(end..).unwrap_or_default();
    if end == 1 {
        let home = Expr::Var {
            name: "HOME".to_string().into(),
            scope,
            line,
            env_fallback: true,
            default: None,
        };
        return (vec![home], rest);
    }
    let user: String = atoms
        .get(..end)
        .unwrap_or_default()
        .iter()
        .filter_map(|a| match a {
            Atom::Char { c, .. } => Some(*c),
            Atom::Expr(_) => None,
        })
        .collect();
    (vec![Expr::path_hole(user)], rest)
}

fn has_glob_meta(text: &str) -> bool {
    text.contains(['*', '?']) || text.find('[').is_some_and(|i| text[i..].contains(']'))
}

/// Brace expansion `pre{a,b}post` -> `pre` + Alt[a, b] + `post`, on unquoted braces only.
fn expand_braces(atoms: &[Atom], depth: u32) -> Expr {
    if depth < 16
        && atoms.len() <= MAX_BRACE_WORD
        && let Some((open, close, commas)) = find_brace(atoms)
    {
        let mut parts = runs(atoms.get(..open).unwrap_or_default());
        let mut options = Vec::with_capacity(commas.len() + 1);
        let mut start = open + 1;
        for end in commas.iter().copied().chain(std::iter::once(close)) {
            let option = atoms.get(start..end).unwrap_or_default();
            options.push(expand_braces(option, depth + 1));
            start = end + 1;
        }
        parts.push(Expr::Alt { options });
        parts.push(expand_braces(
            atoms.get(close + 1..).unwrap_or_default(),
            depth + 1,
        ));
        return normalize_concat(parts);
    }
    normalize_concat(runs(atoms))
}

/// The first unquoted `{` with a matching `}` and at least one top-level unquoted comma.
fn find_brace(atoms: &[Atom]) -> Option<(usize, usize, Vec<usize>)> {
    let is = |i: usize, ch: char| matches!(atoms.get(i), Some(Atom::Char { c, quoted: false }) if *c == ch);
    for open in (0..atoms.len()).filter(|&i| is(i, '{')) {
        let mut level = 0usize;
        let mut commas = Vec::new();
        for i in open + 1..atoms.len() {
            if is(i, '{') {
                level += 1;
            } else if is(i, '}') {
                if level == 0 {
                    if !commas.is_empty() {
                        return Some((open, i, commas));
                    }
                    break;
                }
                level -= 1;
            } else if is(i, ',') && level == 0 {
                commas.push(i);
            }
        }
    }
    None
}

/// Groups characters into literal and glob runs; expansions stay as they are.
fn runs(atoms: &[Atom]) -> Vec<Expr> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut quoted_run = false;
    let flush = |text: &mut String, quoted: bool, parts: &mut Vec<Expr>| {
        if text.is_empty() {
            return;
        }
        let t = std::mem::take(text);
        parts.push(if !quoted && has_glob_meta(&t) {
            Expr::glob(t)
        } else {
            Expr::lit(t)
        });
    };
    for atom in atoms {
        match atom {
            Atom::Char { c, quoted } => {
                if *quoted != quoted_run {
                    flush(&mut text, quoted_run, &mut parts);
                    quoted_run = *quoted;
                }
                text.push(*c);
            }
            Atom::Expr(e) => {
                flush(&mut text, quoted_run, &mut parts);
                parts.push(e.clone());
            }
        }
    }
    flush(&mut text, quoted_run, &mut parts);
    parts
}

/// Flattens nested concatenations, merges adjacent literals and drops empty ones.
pub(super) fn normalize_concat(parts: Vec<Expr>) -> Expr {
    let mut out: Vec<Expr> = Vec::with_capacity(parts.len());
    let mut stack: Vec<Expr> = parts.into_iter().rev().collect();
    while let Some(part) = stack.pop() {
        match part {
            Expr::Concat { parts } => stack.extend(parts.into_iter().rev()),
            Expr::Lit { text } if text.is_empty() => {}
            Expr::Lit { text } => match out.last_mut() {
                Some(Expr::Lit { text: prev }) => prev.push_str(&text),
                _ => out.push(Expr::Lit { text }),
            },
            other => out.push(other),
        }
    }
    match out.len() {
        0 => Expr::lit(""),
        _ => Expr::concat(out),
    }
}

/// The parts of a `${...}` expansion.
#[derive(Default)]
struct ExpansionParts<'n> {
    prefix: Option<String>,
    name: Option<String>,
    operator: Option<String>,
    values: Vec<Node<'n>>,
}

/// What a parameter expansion says about its variable being unset.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum ParameterUse {
    /// `$X`, `${X}`: unset expands to nothing (or fails under `set -u`).
    Plain,
    /// `${X:-d}`, `${X-d}`, `${X:=d}`: unset means `d`.
    Default(Expr),
    /// `${X:?msg}`: unset stops the script.
    Required,
}

/// What `$1`…`$9` stand for in a function's body, walked in order: `shift` and `set --` in
/// straight-line code move them; in a loop or a branch they make them unknown.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Positions {
    /// The function's parameters, shifted by this many places (after `shift 2`, `$1` is the
    /// call's third argument).
    Params(u32),
    /// The words of the last `set -- a b` (`$1` is `a`; past the last word, unset).
    Values(Vec<Expr>),
    /// After a `shift` or `set --` in a loop, a branch, or with words that cannot be counted.
    Unknown,
}

/// Reads the words of one file or snippet; knows the scope and line base for variables, the
/// loop variables that stand for a producer's items, and the current directory for `$(pwd)`.
pub(super) struct Translator<'a> {
    pub src: &'a str,
    pub scope: ScopeId,
    pub line_base: u32,
    pub item_vars: &'a [String],
    /// Variables of the loops the text is inside, innermost last, with the values the loop
    /// gives them: inside its body a loop variable is the loop's own, whatever line an earlier
    /// binding of the same name is on (`for f in a b; do ...; done; for f in $(cat l); do rm
    /// "$f"; done` on one line each).
    pub loop_vars: &'a [(String, Expr)],
    pub cwd: Option<&'a Expr>,
    /// In a function: what `$1`…`$9` stand for at this point of its body (its parameters,
    /// shifted or not, the words of a `set --`, or unknown).
    pub positions: Option<&'a Positions>,
    /// The functions the text defines: `$(name ...)` of one of them gives what it prints.
    pub functions: Option<&'a std::collections::BTreeSet<String>>,
}

impl Translator<'_> {
    pub fn line(&self, node: Node) -> u32 {
        let row = u32::try_from(node.start_position().row).unwrap_or(u32::MAX);
        self.line_base.saturating_add(row).saturating_add(1)
    }

    pub fn text(&self, node: Node) -> &str {
        self.src.get(node.byte_range()).unwrap_or("")
    }

    pub fn word(&self, node: Node) -> Word {
        let mut word = self.word_at(node, 0);
        word.reads = self.substitution_reads(node);
        word
    }

    fn word_at(&self, node: Node, depth: u32) -> Word {
        let mut atoms = Vec::new();
        self.atoms(node, &mut atoms, depth);
        Word {
            atoms,
            line: self.line(node),
            scope: self.scope,
            source: self.text(node).to_string(),
            reads: None,
        }
    }

    fn atoms(&self, node: Node, out: &mut Vec<Atom>, depth: u32) {
        if depth > MAX_WORD_DEPTH {
            out.push(Atom::Expr(Expr::path_hole("deeply nested expansion")));
            return;
        }
        match node.kind_name() {
            "string" => self.double_quoted(node, out, depth),
            "raw_string" => {
                let text = self.text(node);
                let inner = text.strip_prefix('\'').unwrap_or(text);
                let inner = inner.strip_suffix('\'').unwrap_or(inner);
                out.extend(inner.chars().map(|c| Atom::Char { c, quoted: true }));
            }
            "ansi_c_string" => {
                let text = self.text(node);
                let inner = text.strip_prefix("$'").unwrap_or(text);
                let inner = inner.strip_suffix('\'').unwrap_or(inner);
                out.extend(
                    ansi_c_unescape(inner)
                        .chars()
                        .map(|c| Atom::Char { c, quoted: true }),
                );
            }
            "translated_string" | "concatenation" => self.sequence(node, out, depth, false),
            "simple_expansion" => out.push(Atom::Expr(self.simple_expansion(node))),
            "expansion" => out.push(Atom::Expr(self.expansion(node, depth))),
            "command_substitution" => out.push(Atom::Expr(self.command_substitution(node, depth))),
            "process_substitution" => out.push(Atom::Expr(Expr::path_hole("<(...)"))),
            "arithmetic_expansion" => out.push(Atom::Expr(Expr::hole("$((...))"))),
            "brace_expression" => out.push(Atom::Expr(self.brace_range(node))),
            "``" => {}
            _ => unquoted(self.text(node), out),
        }
    }

    /// Children in order, with any text between them taken as unquoted (or quoted) text.
    fn sequence(&self, node: Node, out: &mut Vec<Atom>, depth: u32, quoted: bool) {
        let mut pos = node.start_byte();
        for child in node.children_vec() {
            self.gap(pos, child.start_byte(), quoted, out);
            self.atoms(child, out, depth + 1);
            pos = child.end_byte();
        }
        self.gap(pos, node.end_byte(), quoted, out);
    }

    fn gap(&self, from: usize, to: usize, quoted: bool, out: &mut Vec<Atom>) {
        if to <= from {
            return;
        }
        let text = self.src.get(from..to).unwrap_or("");
        if quoted {
            out.extend(
                double_quote_unescape(text)
                    .chars()
                    .map(|c| Atom::Char { c, quoted: true }),
            );
        } else {
            unquoted(text, out);
        }
    }

    fn double_quoted(&self, node: Node, out: &mut Vec<Atom>, depth: u32) {
        let text = self.text(node);
        let start = node.start_byte() + usize::from(text.starts_with('"'));
        let end = node.end_byte() - usize::from(text.len() >= 2 && text.ends_with('"'));
        let mut pos = start;
        for child in node.children_vec() {
            if child.kind_name() == "\"" || child.start_byte() < pos {
                continue;
            }
            self.gap(pos, child.start_byte().min(end), true, out);
            match child.kind_name() {
                "string_content" | "$" => {
                    let t = self.text(child);
                    out.extend(
                        double_quote_unescape(t)
                            .chars()
                            .map(|c| Atom::Char { c, quoted: true }),
                    );
                }
                _ => {
                    let mut inner = Vec::new();
                    self.atoms(child, &mut inner, depth + 1);
                    out.extend(inner.into_iter().map(|a| match a {
                        Atom::Char { c, .. } => Atom::Char { c, quoted: true },
                        other => other,
                    }));
                }
            }
            pos = child.end_byte();
        }
        self.gap(pos, end, true, out);
    }

    fn simple_expansion(&self, node: Node) -> Expr {
        let name = node
            .named_child(0)
            .map(|n| self.text(n).to_string())
            .unwrap_or_default();
        self.variable(&name, self.line(node), None)
    }

    /// A variable reference: a shell variable, a positional or special parameter, or a loop
    /// variable standing for a producer's items.
    pub fn variable(&self, name: &str, line: u32, default: Option<Expr>) -> Expr {
        if self.item_vars.iter().any(|v| v == name) {
            return placeholder();
        }
        if let Some((_, value)) = self.loop_vars.iter().rev().find(|(v, _)| v == name) {
            return value.clone();
        }
        let special = name.is_empty()
            || name.chars().all(|c| c.is_ascii_digit())
            || matches!(name, "@" | "*" | "#" | "?" | "$" | "!" | "-" | "_");
        if let (Some(positions), [digit @ b'1'..=b'9']) = (self.positions, name.as_bytes()) {
            let n = u32::from(digit - b'0');
            match positions {
                Positions::Params(offset) if n + offset <= 9 => {
                    return Expr::Var {
                        name: (n + offset).to_string().into(),
                        scope: self.scope,
                        line,
                        env_fallback: false,
                        default: default.map(Box::new),
                    };
                }
                Positions::Values(values) => {
                    let index = usize::try_from(n - 1).unwrap_or(usize::MAX);
                    return match (values.get(index), default) {
                        (Some(value), _) => value.clone(),
                        (None, Some(d)) => d,
                        (None, None) => Expr::lit(""),
                    };
                }
                _ => {}
            }
        }
        if special {
            let hole = if name == "0" {
                Expr::path_hole("$0")
            } else {
                Expr::hole(format!("${name}"))
            };
            return match default {
                Some(d) => Expr::Alt {
                    options: vec![hole, d],
                },
                None => hole,
            };
        }
        Expr::Var {
            name: name.to_string().into(),
            scope: self.scope,
            line,
            env_fallback: true,
            default: default.map(Box::new),
        }
    }

    /// The parts of a `${...}` expansion: prefix (`#`, `!`), name, operator and the operator's
    /// value nodes.
    fn expansion_parts<'n>(&self, node: Node<'n>) -> ExpansionParts<'n> {
        let mut parts = ExpansionParts::default();
        for child in node.children_vec() {
            let kind = child.kind_name();
            if matches!(kind, "${" | "}") {
                continue;
            }
            if parts.name.is_none() {
                match kind {
                    "variable_name" | "special_variable_name" => {
                        parts.name = Some(self.text(child).to_string())
                    }
                    "subscript" => {
                        parts.name = child.field("name").map(|n| self.text(n).to_string())
                    }
                    _ if !child.is_named() => parts.prefix = Some(self.text(child).to_string()),
                    _ => {}
                }
            } else if parts.operator.is_none() && !child.is_named() {
                parts.operator = Some(self.text(child).to_string());
            } else if parts.operator.is_some() {
                parts.values.push(child);
            }
        }
        parts
    }

    /// A parameter expansion (`$X`, `${X}`, `${X:-d}`, `${X:?}`) as a use of a variable: its
    /// name, and what the expansion says about the variable being unset.
    pub fn parameter_use(&self, node: Node) -> Option<(String, ParameterUse)> {
        match node.kind_name() {
            "simple_expansion" => {
                let name = node.named_child(0).map(|n| self.text(n).to_string())?;
                Some((name, ParameterUse::Plain))
            }
            "expansion" => {
                let parts = self.expansion_parts(node);
                let name = parts.name?;
                if parts.prefix.as_deref() == Some("!") {
                    return None;
                }
                let kind = match parts.operator.as_deref() {
                    Some(":-") | Some("-") | Some(":=") | Some("=") => ParameterUse::Default(
                        self.value_of(&parts.values, MAX_WORD_DEPTH - MAX_USE_DEFAULT_DEPTH),
                    ),
                    Some(":?") | Some("?") => ParameterUse::Required,
                    _ => ParameterUse::Plain,
                };
                Some((name, kind))
            }
            _ => None,
        }
    }

    /// `${!KEY}`: the name of the variable read is KEY's value (`KEY="APP_$NAME"`). `None` for
    /// other expansions, and for `${!PREFIX@}` / `${!ARRAY[@]}`, which list names or indices.
    pub fn indirect_name(&self, node: Node) -> Option<Expr> {
        if node.kind_name() != "expansion" {
            return None;
        }
        let parts = self.expansion_parts(node);
        if parts.prefix.as_deref() != Some("!") || parts.operator.is_some() {
            return None;
        }
        let name = parts.name?;
        if node
            .children_vec()
            .iter()
            .any(|c| c.kind_name() == "subscript")
        {
            return None;
        }
        Some(self.variable(&name, self.line(node), None))
    }

    /// Whether the words inside an `${X:-word}`-style expansion are expanded only on one
    /// branch (`:-`, `-`, `:=`, `=`, `:+`, `+`): `${NEW:-$OLD}` expands `$OLD` only when NEW is
    /// unset, so `$OLD` is not needed when NEW is given.
    pub fn expands_conditionally(&self, node: Node) -> bool {
        node.kind_name() == "expansion"
            && matches!(
                self.expansion_parts(node).operator.as_deref(),
                Some(":-" | "-" | ":=" | "=" | ":+" | "+")
            )
    }

    /// `${...}`: defaults, `${x%/*}` as the parent directory; other operators make a hole.
    fn expansion(&self, node: Node, depth: u32) -> Expr {
        let ExpansionParts {
            prefix,
            name,
            operator,
            values,
        } = self.expansion_parts(node);
        let line = self.line(node);
        let source = self.text(node);
        let Some(name) = name else {
            return Expr::path_hole(source);
        };
        match prefix.as_deref() {
            Some("#") => return Expr::hole(source),
            Some("!") => return Expr::path_hole(source),
            _ => {}
        }
        let value = || self.value_of(&values, depth);
        match operator.as_deref() {
            None | Some(":?") | Some("?") => self.variable(&name, line, None),
            Some(":-") | Some("-") | Some(":=") | Some("=") => {
                self.variable(&name, line, Some(value()))
            }
            Some(":+") | Some("+") => Expr::Alt {
                options: vec![Expr::lit(""), value()],
            },
            Some("%") | Some("%%") if values.len() == 1 && self.text(values[0]) == "/*" => {
                Expr::Parent {
                    of: Box::new(self.variable(&name, line, None)),
                }
            }
            Some(_) => Expr::path_hole(source),
        }
    }

    /// The default of `${VAR:-default}`, possibly several nodes.
    fn value_of(&self, nodes: &[Node], depth: u32) -> Expr {
        let Some(first) = nodes.first() else {
            return Expr::lit("");
        };
        let mut atoms = Vec::new();
        let mut pos = first.start_byte();
        for node in nodes {
            self.gap(pos, node.start_byte(), false, &mut atoms);
            self.atoms(*node, &mut atoms, depth + 1);
            pos = node.end_byte();
        }
        // Only the expression is wanted, so the source text is not copied: a default holds
        // the default inside it, and copying each one's text made nested `${a:-${b:-...}}`
        // quadratic in the file's size.
        let word = Word {
            atoms,
            line: self.line(*first),
            scope: self.scope,
            source: String::new(),
            reads: None,
        };
        word.expr()
    }

    /// `$(...)`: a hole named after the command, with a shape where the command tells it
    /// (`date +FMT`), or the value itself for `dirname` and `pwd`.
    fn command_substitution(&self, node: Node, depth: u32) -> Expr {
        let text = self.text(node);
        let script_relative = ["$0", "${0", "BASH_SOURCE"]
            .iter()
            .any(|s| text.contains(s));
        if script_relative
            && ["dirname", "pwd", "realpath", "readlink"]
                .iter()
                .any(|s| text.contains(s))
        {
            return Expr::path_hole("script dir");
        }
        let Some(command) = first_command(node) else {
            return Expr::path_hole("$(...)");
        };
        let words: Vec<Word> = command_words(command)
            .into_iter()
            .map(|n| self.word_at(n, depth + 1))
            .collect();
        let Some(name) = words.first().and_then(Word::lit) else {
            return Expr::path_hole("$(...)");
        };
        let name = name.rsplit('/').next().unwrap_or(&name).to_string();
        let label = format!("$({name})");
        let args = words.get(1..).unwrap_or_default();
        match name.as_str() {
            "date" | "gdate" => date_hole(label, args),
            "dirname" => match args.iter().rfind(|w| !w.leading_lit().starts_with('-')) {
                Some(arg) => Expr::Parent {
                    of: Box::new(arg.expr()),
                },
                None => Expr::path_hole(label),
            },
            "pwd" => self.cwd.cloned().unwrap_or_else(|| Expr::path_hole(label)),
            "basename" | "hostname" | "whoami" | "id" | "uname" | "logname" | "hostid"
            | "nproc" => Expr::hole(label),
            // A function of the script gives what it prints (its `name()` binding).
            _ if self.functions.is_some_and(|f| f.contains(&name)) => Expr::Var {
                name: format!("{name}()").into(),
                scope: self.scope,
                line: words.first().map_or(0, |w| w.line),
                env_fallback: false,
                default: Some(Box::new(Expr::path_hole(label))),
            },
            _ => Expr::path_hole(label),
        }
    }

    /// What a word that is one command substitution reads: the file of `$(cat F)`,
    /// `$(< F)`, `$(head -n1 F)`, or the process name of `$(pgrep -f name)`, `$(pidof name)`.
    fn substitution_reads(&self, node: Node) -> Option<Expr> {
        let depth = 1;
        let substitution = match node.kind_name() {
            "command_substitution" => node,
            "string" => {
                let named: Vec<Node> = node.named_children_vec();
                match named.as_slice() {
                    [only] if only.kind_name() == "command_substitution" => *only,
                    _ => return None,
                }
            }
            _ => return None,
        };
        let mut cursor = substitution.walk();
        let inner = substitution
            .named_children(&mut cursor)
            .find(|c| c.kind_name() != "comment")?;
        if inner.kind_name() == "file_redirect" {
            let operator = inner.child(0).map(|o| self.text(o));
            let destination = inner.field("destination")?;
            return (operator == Some("<")).then(|| self.word_at(destination, depth + 1).expr());
        }
        let command = first_command(inner)?;
        let nodes = command_words(command);
        let (name, args) = nodes.split_first()?;
        let name = self.text(*name);
        let name = name.rsplit('/').next().unwrap_or(name);
        if !matches!(name, "cat" | "head" | "tail" | "pgrep" | "pidof") {
            return None;
        }
        let args: Vec<Word> = args.iter().map(|n| self.word_at(*n, depth + 1)).collect();
        let operands: Vec<&Word> = args
            .iter()
            .filter(|w| !w.leading_lit().starts_with('-') || w.leading_lit() == "-")
            .collect();
        match name {
            "cat" => operands.first().map(|w| w.expr()),
            "head" | "tail" => operands.last().map(|w| w.expr()),
            "pgrep" | "pidof" => operands.last().map(|w| w.expr()),
            _ => None,
        }
    }

    /// `{1..3}` -> Alt["1", "2", "3"], zero-padded like bash when a bound is.
    fn brace_range(&self, node: Node) -> Expr {
        let mut cursor = node.walk();
        let numbers: Vec<&str> = node
            .named_children(&mut cursor)
            .filter(|n| n.kind_name() == "number")
            .map(|n| self.text(n))
            .collect();
        let source = self.text(node);
        let [from, to] = numbers.as_slice() else {
            return Expr::hole(source);
        };
        let (Ok(a), Ok(b)) = (from.parse::<u64>(), to.parse::<u64>()) else {
            return Expr::hole(source);
        };
        let (lo, hi) = (a.min(b), a.max(b));
        if hi - lo >= MAX_BRACE_RANGE {
            return Expr::hole(source);
        }
        let padded =
            (from.len() > 1 && from.starts_with('0')) || (to.len() > 1 && to.starts_with('0'));
        let width = if padded { from.len().max(to.len()) } else { 0 };
        Expr::Alt {
            options: (lo..=hi)
                .map(|n| Expr::lit(format!("{n:0width$}")))
                .collect(),
        }
    }
}

/// The first simple command inside a substitution or statement.
pub(super) fn first_command(node: Node) -> Option<Node> {
    let mut current = node;
    for _ in 0..16 {
        if current.kind_name() == "command" {
            return Some(current);
        }
        let next = match current.kind_name() {
            "redirected_statement" => current.field("body"),
            _ => {
                let mut cursor = current.walk();
                current.named_children(&mut cursor).find(|c| {
                    !matches!(
                        c.kind_name(),
                        "comment" | "file_redirect" | "heredoc_redirect"
                    )
                })
            }
        };
        current = next?;
    }
    None
}

/// The name and argument nodes of a simple command, in order.
pub(super) fn command_words(command: Node) -> Vec<Node> {
    let mut nodes = Vec::new();
    for (i, child) in command.children_vec().into_iter().enumerate() {
        let field = u32::try_from(i)
            .ok()
            .and_then(|i| command.field_name_for_child(i));
        match field {
            Some("name") => nodes.push(child.named_child(0).unwrap_or(child)),
            Some("argument") if child.is_named() => nodes.push(child),
            _ => {}
        }
    }
    nodes
}

/// `$(date ... +FMT)` -> a strftime-shaped hole; without a format, date's default one.
fn date_hole(label: String, args: &[Word]) -> Expr {
    let mut format = None;
    let mut iso = None;
    for arg in args {
        let lead = arg.leading_lit();
        if let Some(f) = lead.strip_prefix('+') {
            format = arg.lit().map(|_| f.to_string());
            if format.is_none() {
                return Expr::hole(label);
            }
        } else if lead == "-I"
            || lead == "--iso-8601"
            || lead == "-Idate"
            || lead == "--iso-8601=date"
        {
            iso = Some("%Y-%m-%d");
        }
    }
    let format = format
        .or_else(|| iso.map(str::to_string))
        .unwrap_or_else(|| "%a %b %e %H:%M:%S %Z %Y".to_string());
    Expr::Hole {
        label: label.into(),
        shape: HoleShape::Strftime {
            format: format.into(),
        },
    }
}

/// Unquoted text: a backslash quotes the next character; a backslash-newline disappears.
fn unquoted(text: &str, out: &mut Vec<Atom>) {
    // At most one atom per byte.
    out.reserve(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(Atom::Char { c, quoted: false });
            continue;
        }
        match chars.next() {
            Some('\n') => {}
            Some(next) => out.push(Atom::Char {
                c: next,
                quoted: true,
            }),
            None => out.push(Atom::Char {
                c: '\\',
                quoted: true,
            }),
        }
    }
}

/// Inside double quotes a backslash only escapes `$`, `` ` ``, `"`, `\` and newline.
fn double_quote_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some('$' | '`' | '"' | '\\') => {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                    continue;
                }
                Some('\n') => {
                    chars.next();
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
    }
    out
}

/// `$'...'` escapes.
fn ansi_c_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'e' | 'E' => out.push('\u{1b}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            'x' => {
                let mut value = 0u32;
                let mut digits = 0;
                while digits < 2 {
                    match chars.peek().and_then(|d| d.to_digit(16)) {
                        Some(d) => {
                            value = value * 16 + d;
                            chars.next();
                            digits += 1;
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(value).unwrap_or('\u{fffd}'));
            }
            other => out.push(other),
        }
    }
    out
}
