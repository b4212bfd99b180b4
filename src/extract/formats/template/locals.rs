//! Names a template binds itself, kept in a stack of blocks as the tags are read in order: loop
//! variables (`{% for q in ['a', 'b'] %}`, `{{ range .Values.queues }}`, `<% %w[a b].each do
//! |q| %>`), assignments (`{% set %}`, `{{ $x := }}`, `<% x = 'a' %>`) and a Go template's dot.
//!
//! A loop variable over a literal list is any one of its elements (an `Alt`); over a variable's
//! list it is `Var NAME.*`, which a variables file or a chart's `values.yaml` binds when it
//! writes that list literally (see `yaml/elements.rs`), and a hole otherwise. A field of an
//! element (`s.name`, `.name` in a `range`) is that field of each element. Elements are read
//! independently: `{{ s.name }}/{{ s.dir }}` stands for every pairing of names and directories
//! (more than the template renders, never less).
//!
//! A block's names end with it; used after it, with nothing else binding it, such a name is no
//! value at all (Jinja renders an undefined name empty, Ansible fails, Go does not parse). A name assigned inside a branch (Jinja's `{% if %}`, Ruby's
//! `if`), or a Go `$x = ` / Ruby assignment of a name an enclosing block has, is afterwards any
//! of the values it may have had (the value before the block included unless every branch of
//! an `if … else` assigns it). A Jinja `{% set %}` in a loop ends with the loop, as in Jinja.
//!
//! Bounds: literal lists and dicts of at most [`MAX_ELEMENTS`] entries (longer ones are
//! unknown); blocks nested at most [`MAX_FRAMES`] deep: deeper blocks bind their names in the
//! deepest tracked block, as unknown, until it ends. Lookups walk at most that many blocks.

use crate::expr::{Expr, ScopeId};
use std::collections::{BTreeMap, BTreeSet};

/// Most entries of a literal list or dict followed; a longer one is unknown.
pub(super) const MAX_ELEMENTS: usize = 64;
/// Deepest nesting of blocks tracked (see the module doc).
pub(super) const MAX_FRAMES: usize = 32;
/// Most parts of one bound value (elements, entries, scalars); a larger one is unknown, and
/// each scalar is within the bounds of [`Expr::bounded`].
const MAX_LOCAL_NODES: usize = 1024;
/// Most names of ended blocks remembered.
const MAX_ENDED: usize = 256;

/// What a name bound by the template stands for.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Local {
    /// A scalar value (a string, a concatenation, a variable bound elsewhere).
    Value(Expr),
    /// A literal list.
    List(Vec<Local>),
    /// A literal dict: its keys, in order, and values.
    Map(Vec<(String, Local)>),
    /// One element of a literal list, any of these (a loop variable).
    Element(Vec<Local>),
    /// Not followed: a hole wherever it is used.
    Unknown,
}

impl Local {
    /// `x.field` (`x['field']`, Go's `.field` of the dot).
    pub(super) fn field(&self, field: &str) -> Local {
        match self {
            Local::Value(Expr::Var {
                name,
                scope,
                line,
                default,
                ..
            }) => {
                let mut field = var(format!("{name}.{field}"), *scope, *line);
                // An element's field keeps the element's "nothing when unbound".
                if default.as_deref().is_some_and(is_nothing)
                    && let Expr::Var { default: slot, .. } = &mut field
                {
                    *slot = Some(Box::new(nothing()));
                }
                Local::Value(field)
            }
            Local::Map(entries) => entries
                .iter()
                .find(|(k, _)| k == field)
                .map_or(Local::Unknown, |(_, v)| v.clone()),
            Local::Element(items) => {
                let fields: Vec<Local> = items.iter().map(|i| i.field(field)).collect();
                if fields.contains(&Local::Unknown) {
                    Local::Unknown
                } else {
                    Local::Element(fields)
                }
            }
            _ => Local::Unknown,
        }
    }

    /// The element a loop over this value binds. `map_values`: a loop over a dict gives its
    /// values (Go's `range`) rather than its keys (Jinja's `for`).
    pub(super) fn element(&self, map_values: bool) -> Local {
        match self {
            Local::Value(Expr::Var {
                name, scope, line, ..
            }) => Local::Value(element_of(name, *scope, *line)),
            Local::List(items) => Local::Element(items.clone()),
            Local::Map(entries) => Local::Element(
                entries
                    .iter()
                    .map(|(k, v)| {
                        if map_values {
                            v.clone()
                        } else {
                            Local::Value(Expr::lit(k))
                        }
                    })
                    .collect(),
            ),
            // A loop over a loop variable's list: any element of any of them.
            Local::Element(items) => {
                let mut out = Vec::new();
                for item in items {
                    match item.element(map_values) {
                        Local::Element(inner) => out.extend(inner),
                        _ => return Local::Unknown,
                    }
                    if out.len() > MAX_ELEMENTS {
                        return Local::Unknown;
                    }
                }
                Local::Element(out)
            }
            _ => Local::Unknown,
        }
    }

    /// The text it renders to: a scalar, any one of an element's scalars; `None` for a list, a
    /// dict or anything unknown.
    pub(super) fn expr(&self) -> Option<Expr> {
        match self {
            Local::Value(e) => Some(e.clone()),
            Local::Element(items) => {
                let mut options = Vec::new();
                for item in items {
                    push_option(&mut options, item.expr()?);
                }
                alt(options)
            }
            _ => None,
        }
    }
}

/// No value at all: what a loop over a list nobody defines renders (nothing: Jinja and Go
/// iterate an undefined value zero times, Ansible fails the task), and what a loop variable is
/// after its loop when nothing else binds the name.
pub(super) fn nothing() -> Expr {
    Expr::Alt {
        options: Vec::new(),
    }
}

fn is_nothing(expr: &Expr) -> bool {
    matches!(expr, Expr::Alt { options } if options.is_empty())
}

/// Any element of the list `name` (`Var name.*`), nothing when no file binds it.
fn element_of(name: &str, scope: ScopeId, line: u32) -> Expr {
    Expr::Var {
        name: format!("{name}.*").into(),
        scope,
        line,
        env_fallback: false,
        default: Some(Box::new(nothing())),
    }
}

/// The value within the bounds (see [`MAX_LOCAL_NODES`]): what a template binds is cloned where
/// it is used, and a value assigned in a branch grows with every merge.
fn bounded(local: Local) -> Local {
    fn within(local: &Local, budget: &mut usize) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        match local {
            Local::Value(_) | Local::Unknown => true,
            Local::List(items) | Local::Element(items) => items.iter().all(|i| within(i, budget)),
            Local::Map(entries) => entries.iter().all(|(_, v)| within(v, budget)),
        }
    }
    fn bound_values(local: Local) -> Local {
        match local {
            Local::Value(e) => Local::Value(e.bounded()),
            Local::List(items) => Local::List(items.into_iter().map(bound_values).collect()),
            Local::Element(items) => Local::Element(items.into_iter().map(bound_values).collect()),
            Local::Map(entries) => Local::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, bound_values(v)))
                    .collect(),
            ),
            Local::Unknown => Local::Unknown,
        }
    }
    let mut budget = MAX_LOCAL_NODES;
    if within(&local, &mut budget) {
        bound_values(local)
    } else {
        Local::Unknown
    }
}

pub(super) fn var(name: String, scope: ScopeId, line: u32) -> Expr {
    Expr::Var {
        name: name.into(),
        scope,
        line,
        env_fallback: false,
        default: None,
    }
}

fn alt(mut options: Vec<Expr>) -> Option<Expr> {
    match options.len() {
        0 => None,
        1 => options.pop(),
        _ => Some(Expr::Alt { options }),
    }
}

fn push_option(options: &mut Vec<Expr>, option: Expr) {
    match option {
        Expr::Alt { options: inner } => {
            for o in inner {
                push_option(options, o);
            }
        }
        other => {
            if !options.contains(&other) {
                options.push(other);
            }
        }
    }
}

/// Any one of several values a name may have after a block.
fn merge(values: Vec<Local>) -> Local {
    let Some(first) = values.first() else {
        return Local::Unknown;
    };
    if values.iter().all(|v| v == first) {
        return first.clone();
    }
    let mut options = Vec::new();
    for value in &values {
        match value.expr() {
            Some(e) => push_option(&mut options, e),
            None => return Local::Unknown,
        }
    }
    alt(options).map_or(Local::Unknown, Local::Value)
}

/// How a block treats the names assigned in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Block {
    /// Its names end with it (a loop, `with`, a macro, any Go block).
    Scope,
    /// A conditional branch that assigns the enclosing names (`{% if %}`, Ruby's `if`).
    Branch,
}

#[derive(Debug)]
struct Frame {
    block: Block,
    names: BTreeMap<String, Local>,
    /// Go's dot inside a `range` or `with`; `None` inherits the enclosing one.
    dot: Option<Local>,
    /// The names assigned in this block that outlive it, in the current branch.
    leaks: BTreeSet<String>,
    /// Those of earlier branches (`{% if %}` … `{% else %}`), with their values.
    done: Vec<BTreeMap<String, Local>>,
    has_else: bool,
}

impl Frame {
    fn new(block: Block) -> Frame {
        Frame {
            block,
            names: BTreeMap::new(),
            dot: None,
            leaks: BTreeSet::new(),
            done: Vec::new(),
            has_else: false,
        }
    }

    fn get(&self, name: &str) -> Option<&Local> {
        self.names.get(name)
    }

    fn set(&mut self, name: &str, value: Local) {
        self.names.insert(name.to_string(), bounded(value));
    }

    fn branch_values(&self) -> BTreeMap<String, Local> {
        self.leaks
            .iter()
            .map(|n| (n.clone(), self.get(n).cloned().unwrap_or(Local::Unknown)))
            .collect()
    }
}

/// The stack of blocks (see the module doc); the file itself is the first, never closed.
#[derive(Debug)]
pub(crate) struct Locals {
    frames: Vec<Frame>,
    /// Blocks opened beyond [`MAX_FRAMES`] and not closed yet.
    overflow: u32,
    /// Names bound by blocks that have ended (a loop variable after its loop), at most
    /// [`MAX_ENDED`].
    ended: Vec<String>,
    /// Whether an assignment to a name of an enclosing block changes that name (Ruby, Go's
    /// `=`), rather than binding a new one for the block (Jinja).
    assigns_outer: bool,
}

impl Default for Locals {
    fn default() -> Locals {
        Locals::new(false)
    }
}

impl Locals {
    pub(super) fn new(assigns_outer: bool) -> Locals {
        Locals {
            frames: vec![Frame::new(Block::Scope)],
            overflow: 0,
            ended: Vec::new(),
            assigns_outer,
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<&Local> {
        self.frames.iter().rev().find_map(|f| f.get(name))
    }

    /// Whether a block that has ended bound this name, and no block still open binds it: a loop
    /// variable used after its loop.
    pub(super) fn ended(&self, name: &str) -> bool {
        self.get(name).is_none() && self.ended.iter().any(|n| n == name)
    }

    /// Go's dot: `None` at the template's root.
    pub(super) fn dot(&self) -> Option<&Local> {
        self.frames.iter().rev().find_map(|f| f.dot.as_ref())
    }

    /// Opens a block binding these names (and the dot, for Go).
    pub(super) fn open(&mut self, block: Block, names: Vec<(String, Local)>, dot: Option<Local>) {
        if self.frames.len() >= MAX_FRAMES {
            self.overflow = self.overflow.saturating_add(1);
            if let Some(top) = self.frames.last_mut() {
                for (name, _) in names {
                    top.set(&name, Local::Unknown);
                }
                if dot.is_some() {
                    top.dot = Some(Local::Unknown);
                }
            }
            return;
        }
        let mut frame = Frame::new(block);
        for (name, value) in names {
            frame.set(&name, value);
        }
        frame.dot = dot.map(bounded);
        self.frames.push(frame);
    }

    /// A name bound for the rest of the current block (Go's `$x := `).
    pub(super) fn declare(&mut self, name: &str, value: Local) {
        if let Some(top) = self.frames.last_mut() {
            top.set(name, value);
        }
    }

    /// An assignment (`{% set %}`, Go's `$x = `, Ruby's `x = `): see the module doc.
    pub(super) fn assign(&mut self, name: &str, value: Local) {
        let len = self.frames.len();
        let outer = self.assigns_outer
            && self.frames[..len.saturating_sub(1)]
                .iter()
                .any(|f| f.get(name).is_some());
        let Some(top) = self.frames.last_mut() else {
            return;
        };
        let leaks = len > 1 && (top.block == Block::Branch || outer) && self.overflow == 0;
        top.set(name, value);
        if leaks {
            top.leaks.insert(name.to_string());
        }
    }

    /// `{% else %}`, `{% elif %}`, `{{ else }}`, Ruby's `elsif`/`when`: the names bound by the
    /// block's opening and earlier branch end; `is_else` for a final `else`.
    pub(super) fn branch(&mut self, is_else: bool) {
        if self.overflow > 0 || self.frames.len() < 2 {
            return;
        }
        if let Some(top) = self.frames.last_mut() {
            let values = top.branch_values();
            top.done.push(values);
            top.names.clear();
            top.leaks.clear();
            top.dot = None;
            top.has_else |= is_else;
        }
    }

    /// Closes the innermost block; what its branches assigned to enclosing names is merged with
    /// what they had before (`before` says what an unbound name stands for).
    pub(super) fn close(&mut self, before: impl Fn(&str) -> Local) {
        if self.overflow > 0 {
            self.overflow -= 1;
            return;
        }
        if self.frames.len() < 2 {
            return;
        }
        let Some(frame) = self.frames.pop() else {
            return;
        };
        for name in frame.names.keys() {
            if !frame.leaks.contains(name)
                && !self.ended.contains(name)
                && self.ended.len() < MAX_ENDED
            {
                self.ended.push(name.clone());
            }
        }
        let mut branches = frame.done.clone();
        branches.push(frame.branch_values());
        let names: BTreeSet<&String> = branches.iter().flat_map(|b| b.keys()).collect();
        let mut merged = Vec::new();
        for name in names {
            let mut values: Vec<Local> = branches
                .iter()
                .filter_map(|b| b.get(name.as_str()).cloned())
                .collect();
            let every_branch = frame.has_else && values.len() == branches.len();
            if !every_branch {
                values.push(self.get(name).cloned().unwrap_or_else(|| before(name)));
            }
            merged.push((name.clone(), merge(values)));
        }
        for (name, value) in merged {
            self.assign(&name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(items: &[&str]) -> Local {
        Local::List(items.iter().map(|i| Local::Value(Expr::lit(*i))).collect())
    }

    #[test]
    fn elements_fields_and_scoping() {
        let mut locals = Locals::new(false);
        locals.open(
            Block::Scope,
            vec![("q".into(), lits(&["a", "b"]).element(false))],
            None,
        );
        assert_eq!(
            locals.get("q").and_then(Local::expr),
            Some(Expr::Alt {
                options: vec![Expr::lit("a"), Expr::lit("b")]
            })
        );
        locals.close(|_| Local::Unknown);
        assert_eq!(locals.get("q"), None);
        let records = Local::List(vec![
            Local::Map(vec![("name".into(), Local::Value(Expr::lit("a")))]),
            Local::Map(vec![("dir".into(), Local::Value(Expr::lit("/b")))]),
        ]);
        // One element lacks the field: unknown, not the other's value.
        assert_eq!(records.element(false).field("name"), Local::Unknown);
        let queues = Local::Value(var("values.queues".into(), 0, 3));
        assert_eq!(
            queues.element(true).field("name").expr(),
            Some(Expr::Var {
                name: "values.queues.*.name".into(),
                scope: 0,
                line: 3,
                env_fallback: false,
                default: Some(Box::new(nothing())),
            })
        );
    }

    #[test]
    fn branch_assignments_merge_with_the_value_before() {
        let mut locals = Locals::new(false);
        locals.assign("x", Local::Value(Expr::lit("a")));
        locals.open(Block::Branch, Vec::new(), None);
        locals.assign("x", Local::Value(Expr::lit("b")));
        locals.close(|_| Local::Unknown);
        assert_eq!(
            locals.get("x").and_then(Local::expr),
            Some(Expr::Alt {
                options: vec![Expr::lit("b"), Expr::lit("a")]
            })
        );
        // `if … else` both assigning: only their values.
        locals.open(Block::Branch, Vec::new(), None);
        locals.assign("y", Local::Value(Expr::lit("1")));
        locals.branch(true);
        locals.assign("y", Local::Value(Expr::lit("2")));
        locals.close(|_| Local::Unknown);
        assert_eq!(
            locals.get("y").and_then(Local::expr),
            Some(Expr::Alt {
                options: vec![Expr::lit("1"), Expr::lit("2")]
            })
        );
        // A Jinja set in a loop ends with the loop.
        locals.open(Block::Scope, Vec::new(), None);
        locals.assign("z", Local::Value(Expr::lit("in-loop")));
        locals.close(|_| Local::Unknown);
        assert_eq!(locals.get("z"), None);
    }

    #[test]
    fn values_merged_in_branches_stay_bounded() {
        let mut locals = Locals::new(false);
        locals.assign("x", Local::Value(Expr::lit("a")));
        for _ in 0..200 {
            let before = locals
                .get("x")
                .and_then(Local::expr)
                .unwrap_or(Expr::lit(""));
            locals.open(Block::Branch, Vec::new(), None);
            locals.assign(
                "x",
                Local::Value(Expr::concat(vec![before, Expr::lit("-a")])),
            );
            locals.close(|_| Local::Unknown);
        }
        let x = locals.get("x").and_then(Local::expr).expect("a value");
        assert!(x.is_bounded(), "{x:?}");
    }

    #[test]
    fn nesting_beyond_the_bound_binds_unknowns() {
        let mut locals = Locals::new(false);
        for _ in 0..MAX_FRAMES + 5 {
            locals.open(
                Block::Scope,
                vec![("q".into(), Local::Value(Expr::lit("a")))],
                None,
            );
        }
        assert_eq!(locals.get("q"), Some(&Local::Unknown));
        for _ in 0..MAX_FRAMES + 10 {
            locals.close(|_| Local::Unknown);
        }
        assert_eq!(locals.get("q"), None);
    }
}
