//! Evaluation of an [`Expr`] into the pattern pieces it can stand for.
//!
//! A value is a small set of alternatives (a loop over a literal list, a brace expansion), each a
//! sequence of [`Piece`]s. Names are substituted through [`Lookup`]; environment variables
//! through the run's environment (job `VAR=` lines, configuration), then their defaults, else
//! they stay opaque symbols. Whatever cannot be known becomes a hole named after what it stands
//! for. Evaluation is bounded — depth, number of alternatives, size of each value and the number
//! of expression nodes one evaluation visits — and linear in the size of what it builds, so
//! hostile input cannot make it loop, explode or stall.

use super::lookup::{FileRef, Lookup, Target};
use super::params;
use crate::expr::ScopeId;
use crate::expr::{Expr, HoleShape};
use crate::model::{Origin, Site};
use crate::pattern::Piece;
use std::collections::BTreeMap;

/// Alternatives beyond this collapse into a hole.
const MAX_ALTERNATIVES: usize = 16;
/// Nested substitutions beyond this are treated as unknown (and break cycles).
const MAX_DEPTH: usize = 24;
/// Origins kept per evaluation: the nearest ones are what a reviewer needs.
const MAX_ORIGINS: usize = 16;
/// Expression nodes one top-level evaluation visits; beyond this, what is left is unknown.
/// Bounds `X2="$X1$X1"; X3="$X2$X2"; ...`, which doubles the work per name within the depth.
const MAX_STEPS: usize = 20_000;
/// Pieces of one value beyond this, or text beyond [`MAX_VALUE_BYTES`]: the middle of the value
/// becomes a hole, keeping its start and end (which say the most about a path).
const MAX_PIECES: usize = 128;
const MAX_VALUE_BYTES: usize = 4096;

/// One alternative value: a sequence of pieces.
pub type Value = Vec<Piece>;

pub struct Evaluator<'a, 'e> {
    pub lookup: &'e Lookup<'a>,
    /// Environment variables known to be set for this code (from jobs and configuration).
    pub env: &'e BTreeMap<String, String>,
    /// Assumptions made, for the explanation: "$TICKER_DIR unset: default /data/ticker".
    pub notes: Vec<String>,
    /// Environment variables the evaluated expressions read, so that a value can be
    /// re-evaluated for each way the program is launched.
    pub used_env: Vec<String>,
    /// Where the values were built: the binding of each name substituted, in the order met
    /// (the use's own variable first, then what its value was built from). A change to any of
    /// these lines changes the value, so the change stage can point at the line that did.
    pub origins: Vec<Origin>,
    depth: usize,
    /// Expression nodes visited by the current top-level evaluation.
    steps: usize,
    /// The values of the names and bindings this evaluator already evaluated (see [`MemoKey`]),
    /// with the depth they started from when the depth bound cut them. One access's value often
    /// reaches the same names many times (a parameter is what up to eight callers pass, each
    /// perhaps a parameter too): over the corpus, 97 % of binding evaluations were repeats
    /// within one evaluator. See [`Memo`] for when an entry stands for evaluating again.
    memo: foldhash::HashMap<(MemoKey, Option<usize>), Memo>,
    /// The deepest `depth` an evaluation entered since the innermost recording began.
    deepest: usize,
    /// How many evaluations the depth bound cut short so far.
    depth_cuts: usize,
    /// How many evaluations the step budget cut short so far.
    step_cuts: usize,
}

/// What a [`Memo`] is the value of: a binding (by address), or a name used in a file (the
/// `Var` expression's address, and the file's, which an expression is evaluated in).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum MemoKey {
    Binding(usize),
    Use {
        expr: usize,
        repo: usize,
        path: usize,
    },
}

/// A binding's or a name's value as one evaluation found it. Evaluating it again would give
/// the same values and record nothing new: values depend only on the world, the environment (fixed per
/// evaluator) and the bounds; what an evaluation records (origins, notes, variables read) only
/// grows and is deduplicated, so a second evaluation adds nothing the first did not. The
/// bounds are what is left. An entry is made only when the step budget did not cut the
/// evaluation short, and used only within the budget left. One that the depth bound did not
/// cut either holds wherever the evaluation would again stay above that bound; one it cut
/// holds only at the depth it started from (keyed by it), where the same cuts fall the same
/// way — a long chain of callers is cut at the bottom for every path that reaches it.
struct Memo {
    values: Vec<Value>,
    /// Expression nodes the evaluation visited.
    steps: usize,
    /// How much deeper than its start the evaluation went.
    reach: usize,
}

impl<'a, 'e> Evaluator<'a, 'e> {
    pub fn new(lookup: &'e Lookup<'a>, env: &'e BTreeMap<String, String>) -> Self {
        Evaluator {
            lookup,
            env,
            notes: Vec::new(),
            used_env: Vec::new(),
            origins: Vec::new(),
            depth: 0,
            steps: 0,
            memo: foldhash::HashMap::default(),
            deepest: 0,
            depth_cuts: 0,
            step_cuts: 0,
        }
    }

    /// The alternatives an expression stands for, in `file`.
    pub fn eval(&mut self, file: FileRef<'a>, expr: &'a Expr) -> Vec<Value> {
        if self.depth == 0 {
            self.steps = 0;
        }
        self.steps += 1;
        if self.steps == MAX_STEPS {
            let note = "the value is built in too many steps to follow; the rest of it is unknown"
                .to_string();
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
        }
        self.deepest = self.deepest.max(self.depth);
        if self.steps >= MAX_STEPS {
            self.step_cuts += 1;
            return vec![vec![hole_for(expr)]];
        }
        if self.depth >= MAX_DEPTH {
            self.depth_cuts += 1;
            return vec![vec![hole_for(expr)]];
        }
        self.depth += 1;
        let out = self.eval_inner(file, expr);
        self.depth -= 1;
        out.into_iter().map(bounded).collect()
    }

    fn eval_inner(&mut self, file: FileRef<'a>, expr: &'a Expr) -> Vec<Value> {
        match expr {
            Expr::Lit { text } => vec![vec![Piece::Lit(text.clone())]],
            Expr::Glob { text } => vec![vec![Piece::Glob {
                text: text.clone(),
                star_matches_slash: false,
                case_insensitive: false,
            }]],
            Expr::Concat { parts } => {
                let evaluated: Vec<Vec<Value>> = parts.iter().map(|p| self.eval(file, p)).collect();
                product(evaluated, |acc, next| acc.extend(next.iter().cloned()))
            }
            Expr::Join { parts } => {
                let evaluated: Vec<Vec<Value>> = parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let values = self.eval(file, p);
                        if i == 0 {
                            values.into_iter().map(widen_leading_hole).collect()
                        } else {
                            values
                        }
                    })
                    .collect();
                product(evaluated, join_onto)
            }
            Expr::Var { .. } => {
                let key = MemoKey::Use {
                    expr: std::ptr::from_ref(expr) as usize,
                    repo: file.repo,
                    path: file.path.as_ptr() as usize,
                };
                self.memoized(key, |this| this.var_value(file, expr))
            }
            Expr::Env { name, default } => self.env_value(file, name, default.as_deref()),
            Expr::Hole { label, shape } => vec![vec![Piece::Hole {
                label: label.clone(),
                shape: shape.clone(),
            }]],
            Expr::Parent { of } => self.eval(file, of).into_iter().map(parent_of).collect(),
            Expr::ReplaceName {
                of,
                name,
                suffix_only,
            } => {
                let bases = self.eval(file, of);
                let names = self.eval(file, name);
                let mut out = Vec::new();
                for base in &bases {
                    for n in &names {
                        out.push(replace_name(base, n, *suffix_only));
                    }
                }
                cap(out)
            }
            Expr::Alt { options } => {
                let mut out = Vec::new();
                for option in options {
                    out.extend(self.eval(file, option));
                }
                cap(out)
            }
        }
    }

    /// A name's values: a Rust field's, a parameter's (what the callers pass), its binding's,
    /// the environment's, or a hole named after it.
    fn var_value(&mut self, file: FileRef<'a>, expr: &'a Expr) -> Vec<Value> {
        let Expr::Var {
            name,
            scope,
            line,
            env_fallback,
            default,
        } = expr
        else {
            return vec![vec![hole_for(expr)]];
        };
        if let Some(values) = self.field_value(file, *scope, name) {
            return values;
        }
        match self.lookup.find(file, *scope, name, *line) {
            // A parameter, unbound or bound to its default: what the callers pass.
            target
                if let Some(values) =
                    self.parameter_value(file, *scope, name, &target, default.as_deref()) =>
            {
                values
            }
            Target::Binding(at, binding) => {
                self.record_origin(at, binding.line, name);
                let bound = self.eval_binding(at, binding);
                // `${X:-d}` with X bound to something unknown (`X=$(lookup)`): X may be
                // empty, so the value is X's or the default.
                match default {
                    Some(default) if bound.iter().any(|v| !is_known(v)) => {
                        let mut both = bound;
                        both.extend(self.eval(file, default));
                        cap(both)
                    }
                    _ => bound,
                }
            }
            Target::Unbound if *env_fallback => self.env_value(file, name, default.as_deref()),
            // `CFG.get("k", d)` of a key the dict lacks: `d` when every key of the dict is
            // known (the `CFG[]` marker), else the dict's value or `d`.
            Target::Unbound
                if let Some(default) = default
                    && super::lookup::is_item(name) =>
            {
                let container = name.rsplit_once('[').map_or(name.as_str(), |(c, _)| c);
                let closed = matches!(
                    self.lookup.find(file, *scope, &format!("{container}[]"), *line),
                    Target::Binding(_, b) if b.value.as_lit() == Some("")
                );
                let mut values = self.eval(file, default);
                if !closed {
                    let shown: Vec<String> = values.iter().map(display_value).collect();
                    let note = format!(
                        "{} is not known before the program runs; assuming its default {}",
                        item_label(name),
                        shown.join(" or ")
                    );
                    if !self.notes.contains(&note) {
                        self.notes.push(note);
                    }
                    values.insert(
                        0,
                        vec![Piece::Hole {
                            label: item_label(name).into(),
                            shape: HoleShape::Segment,
                        }],
                    );
                }
                cap(values)
            }
            // A name that may be bound elsewhere and stands for something known otherwise
            // (a call of a function that may be the repository's: its returns, else what
            // the call was before).
            Target::Unbound if let Some(default) = default => self.eval(file, default),
            Target::Unbound if super::lookup::is_item(name) => vec![vec![Piece::Hole {
                label: item_label(name).into(),
                shape: HoleShape::Segment,
            }]],
            Target::Unbound => vec![vec![Piece::Hole {
                label: short_label(name).into(),
                shape: HoleShape::Segment,
            }]],
        }
    }

    /// The value a binding is bound to, from [`Memo`] when an earlier evaluation stands for it.
    fn eval_binding(
        &mut self,
        at: FileRef<'a>,
        binding: &'a crate::extract::Binding,
    ) -> Vec<Value> {
        let key = MemoKey::Binding(std::ptr::from_ref(binding) as usize);
        self.memoized(key, |this| this.eval(at, &binding.value))
    }

    /// `evaluate`'s values, from [`Memo`] when an earlier evaluation of `key` stands for them.
    fn memoized(
        &mut self,
        key: MemoKey,
        evaluate: impl FnOnce(&mut Self) -> Vec<Value>,
    ) -> Vec<Value> {
        if !self.lookup.memo() {
            return evaluate(self);
        }
        let anywhere = self
            .memo
            .get(&(key, None))
            .filter(|memo| self.depth + memo.reach < MAX_DEPTH);
        let here = || self.memo.get(&(key, Some(self.depth)));
        if let Some((memo, was_cut)) = anywhere
            .map(|m| (m, false))
            .or_else(|| here().map(|m| (m, true)))
            && self.steps + memo.steps < MAX_STEPS
        {
            // What the entry stands for was cut by the depth bound: so is what it is part of.
            if was_cut {
                self.depth_cuts += 1;
            }
            self.steps += memo.steps;
            self.deepest = self.deepest.max(self.depth + memo.reach);
            return memo.values.clone();
        }
        let (steps, depth_cuts, step_cuts, outer_deepest) =
            (self.steps, self.depth_cuts, self.step_cuts, self.deepest);
        self.deepest = self.depth;
        let values = evaluate(self);
        let reach = self.deepest - self.depth;
        self.deepest = self.deepest.max(outer_deepest);
        if self.step_cuts == step_cuts {
            let at_depth = (self.depth_cuts != depth_cuts).then_some(self.depth);
            self.memo.insert(
                (key, at_depth),
                Memo {
                    values: values.clone(),
                    steps: self.steps - steps,
                    reach,
                },
            );
        }
        values
    }

    /// The value of parameter `name` of the function around `scope`, when the name is one
    /// and `target` is no binding but its default: the union of what the function's call
    /// sites pass (the default, or an unknown, where a call leaves it out or hides it in a
    /// spread). None when the name is no parameter or the function has no known caller.
    fn parameter_value(
        &mut self,
        file: FileRef<'a>,
        scope: ScopeId,
        name: &str,
        target: &Target<'a>,
        use_default: Option<&'a Expr>,
    ) -> Option<Vec<Value>> {
        let facts = self.lookup.facts(file)?;
        // Most names are bound by an assignment: answered before any scope is searched.
        if let Target::Binding(at, b) = target {
            let is_default = *at == file
                && facts.scopes.get(b.scope).is_some_and(|s| {
                    s.kind == crate::extract::ScopeKind::Function && s.line == b.line
                });
            if !is_default {
                return None;
            }
        }
        let function = self.lookup.parameter_scope(file, scope, name)?;
        let def_line = facts.scopes.get(function)?.line;
        let default = match target {
            Target::Unbound => None,
            Target::Binding(at, b) if *at == file && b.scope == function && b.line == def_line => {
                Some(*b)
            }
            Target::Binding(..) => return None,
        };
        let all = self.lookup.callers_of(file, function);
        let more = all.len() > params::MAX_CALLERS;
        let callers: Vec<(FileRef<'a>, &'a crate::extract::CallRef)> =
            all.iter().take(params::MAX_CALLERS).copied().collect();
        if callers.is_empty() {
            return None;
        }
        let position = facts
            .params_of(function)
            .and_then(|p| p.names.iter().position(|n| n == name));
        let unknown = || {
            vec![Piece::Hole {
                label: short_label(name).into(),
                shape: HoleShape::Segment,
            }]
        };
        let mut out: Vec<Value> = Vec::new();
        for (caller, call) in callers {
            match params::argument(call, name, position) {
                Some(Some(arg)) => {
                    self.record_origin_note(caller, call.line, || {
                        if name.bytes().all(|b| b.is_ascii_digit()) {
                            format!("passes ${name}")
                        } else {
                            format!("passes {name}")
                        }
                    });
                    out.extend(self.eval(caller, &arg.value));
                }
                // Left out: the parameter's default (`def f(x=d)`), else the use's own
                // (`${2:-d}`), else unknown.
                Some(None) => match (default, use_default) {
                    (Some(b), _) => {
                        self.record_origin(file, b.line, name);
                        out.extend(self.eval(file, &b.value));
                    }
                    (None, Some(d)) => out.extend(self.eval(file, d)),
                    (None, None) => out.push(unknown()),
                },
                None => out.push(unknown()),
            }
        }
        if more {
            out.push(unknown());
        }
        let mut unique: Vec<Value> = Vec::new();
        for v in out {
            if !unique.contains(&v) {
                unique.push(v);
            }
        }
        Some(cap(unique))
    }

    /// A Rust struct field (`self.dir` in a method or in the class scope of a typed value) or
    /// a method's result (`self.path()`): the union of what the crate assigns to it (see `lookup::rust`), at most
    /// `MAX_FIELD_VALUES` (8) of them and an unknown for the rest. None when it is no
    /// field or nothing assigns it.
    fn field_value(&mut self, file: FileRef<'a>, scope: ScopeId, name: &str) -> Option<Vec<Value>> {
        if !file.path.ends_with(".rs") || !name.starts_with("self.") {
            return None;
        }
        let (bindings, more) = self.lookup.field_values(file, scope, name)?;
        if bindings.is_empty() {
            return None;
        }
        let mut out: Vec<Value> = Vec::new();
        for (at, binding) in bindings {
            self.record_origin(at, binding.line, name);
            for value in self.eval(at, &binding.value) {
                if !out.contains(&value) {
                    out.push(value);
                }
            }
        }
        if more {
            out.push(vec![Piece::Hole {
                label: short_label(name).into(),
                shape: HoleShape::Segment,
            }]);
        }
        Some(cap(out))
    }

    fn record_origin(&mut self, file: FileRef<'a>, line: u32, name: &str) {
        self.record_origin_note(file, line, || match name.strip_suffix("()") {
            Some(function) => format!("{function}() returns it"),
            None => format!("sets {name}"),
        });
    }

    /// The note is written only for a site not yet recorded: evaluations meet the same
    /// bindings again and again (a warm check of the bench corpus wrote 76,000 notes for
    /// 22,000 new sites when each was written first).
    fn record_origin_note(&mut self, file: FileRef<'a>, line: u32, note: impl FnOnce() -> String) {
        if self.origins.len() >= MAX_ORIGINS {
            return;
        }
        let Some(repo) = self.lookup.repos.get(file.repo) else {
            return;
        };
        let recorded = self
            .origins
            .iter()
            .any(|o| o.site.line == line && o.site.path == file.path && o.site.repo == repo.name);
        if !recorded {
            let site = Site {
                repo: repo.name.clone(),
                path: file.path.to_string(),
                line,
            };
            self.origins.push(Origin { site, note: note() });
        }
    }

    fn env_value(
        &mut self,
        file: FileRef<'a>,
        name: &str,
        default: Option<&'a Expr>,
    ) -> Vec<Value> {
        if !self.used_env.iter().any(|n| n == name) {
            self.used_env.push(name.to_string());
        }
        if let Some(value) = self.env.get(name) {
            return vec![vec![Piece::Lit(value.clone().into())]];
        }
        if name == "HOME" && default.is_none() {
            return vec![vec![Piece::Symbol("HOME".into())]];
        }
        match default {
            Some(default) => {
                let values = self.eval(file, default);
                let shown: Vec<String> = values.iter().map(display_value).collect();
                let note = format!(
                    "${name} is not set in any repository; assuming its default {}",
                    shown.join(" or ")
                );
                if !self.notes.contains(&note) {
                    self.notes.push(note);
                }
                values
            }
            None => vec![vec![Piece::Symbol(name.to_string().into())]],
        }
    }
}

/// The cartesian product of the parts' alternatives, combined left to right by `combine`
/// (which appends its second argument to its first). A part with one alternative extends every
/// value in place, so that a long concatenation or join costs time linear in its length; values
/// are copied only for a part with several alternatives, which happens a bounded number of
/// times because the product never exceeds [`MAX_ALTERNATIVES`].
fn product(parts: Vec<Vec<Value>>, combine: impl Fn(&mut Value, &Value)) -> Vec<Value> {
    let mut acc: Vec<Value> = vec![Vec::new()];
    for (index, alternatives) in parts.into_iter().enumerate() {
        let alternatives = if acc.len() * alternatives.len().max(1) > MAX_ALTERNATIVES {
            vec![vec![Piece::Hole {
                label: "…".into(),
                shape: HoleShape::Segment,
            }]]
        } else {
            alternatives
        };
        if index == 0 {
            acc = alternatives;
        } else if let [only] = alternatives.as_slice() {
            for a in &mut acc {
                combine(a, only);
            }
        } else {
            let mut next = Vec::with_capacity(acc.len() * alternatives.len());
            for a in &acc {
                for b in &alternatives {
                    let mut v = a.clone();
                    combine(&mut v, b);
                    next.push(v);
                }
            }
            acc = next;
        }
    }
    acc.into_iter().map(merge_literals).collect()
}

/// A value within [`MAX_PIECES`] and [`MAX_VALUE_BYTES`]: an oversized one keeps as much of its
/// start and end as fits in half the bounds each, with a path hole between them, so that what
/// it stands for still includes every path the whole value names.
fn bounded(value: Value) -> Value {
    let size = |p: &Piece| match p {
        Piece::Lit(t) | Piece::Symbol(t) => t.len(),
        Piece::Glob { text, .. } => text.len(),
        Piece::Hole { label, .. } => label.len(),
    };
    if value.len() <= MAX_PIECES && value.iter().map(size).sum::<usize>() <= MAX_VALUE_BYTES {
        return value;
    }
    let (half_pieces, half_bytes) = (MAX_PIECES / 2, MAX_VALUE_BYTES / 2);
    let mut head = Vec::new();
    let mut used = 0;
    let mut next = 0;
    // A literal cut by the head: its index and how much of it the head took.
    let mut cut_in_head = None;
    while let Some(piece) = value.get(next)
        && head.len() < half_pieces
    {
        if used + size(piece) <= half_bytes {
            head.push(piece.clone());
            used += size(piece);
            next += 1;
            continue;
        }
        if let Piece::Lit(text) = piece {
            let cut = text.floor_char_boundary(half_bytes - used);
            if cut > 0 {
                head.push(Piece::Lit(text[..cut].to_string().into()));
            }
            cut_in_head = Some((next, cut));
        }
        break;
    }
    let mut tail = Vec::new();
    let mut used = 0;
    let mut last = value.len();
    while last > next && tail.len() < half_pieces {
        let piece = &value[last - 1];
        let taken_by_head = match cut_in_head {
            Some((index, cut)) if index == last - 1 => cut,
            _ => 0,
        };
        if taken_by_head == 0 && used + size(piece) <= half_bytes {
            tail.push(piece.clone());
            used += size(piece);
            last -= 1;
            continue;
        }
        if let Piece::Lit(text) = piece {
            let start = text
                .ceil_char_boundary(text.len().saturating_sub(half_bytes - used))
                .max(taken_by_head);
            if start < text.len() {
                tail.push(Piece::Lit(text[start..].to_string().into()));
            }
        }
        break;
    }
    head.push(Piece::Hole {
        label: "…".into(),
        shape: HoleShape::Path,
    });
    head.extend(tail.into_iter().rev());
    head
}

fn cap(mut values: Vec<Value>) -> Vec<Value> {
    values.dedup();
    if values.len() > MAX_ALTERNATIVES {
        return vec![vec![Piece::Hole {
            label: "…".into(),
            shape: HoleShape::Path,
        }]];
    }
    values
}

/// Joins a path value onto another: an absolute right side restarts the path.
fn join_onto(left: &mut Value, right: &Value) {
    if starts_absolute(right) || left.is_empty() {
        *left = right.clone();
        return;
    }
    let left_ends_slash = matches!(left.last(), Some(Piece::Lit(t)) if t.ends_with('/'));
    if !left_ends_slash {
        left.push(Piece::Lit("/".into()));
    }
    left.extend(right.iter().cloned());
}

fn starts_absolute(value: &Value) -> bool {
    match value.first() {
        Some(Piece::Lit(t)) => t.starts_with('/'),
        Some(Piece::Glob { text, .. }) => text.starts_with('/'),
        _ => false,
    }
}

/// An unknown value at the start of a path is a directory, which may span several segments.
fn widen_leading_hole(mut value: Value) -> Value {
    if let Some(Piece::Hole { shape, .. }) = value.first_mut()
        && *shape == HoleShape::Segment
    {
        *shape = HoleShape::Path;
    }
    value
}

fn merge_literals(value: Value) -> Value {
    let mut out: Value = Vec::with_capacity(value.len());
    for piece in value {
        match (out.last_mut(), piece) {
            (Some(Piece::Lit(prev)), Piece::Lit(next)) => prev.push_str(&next),
            (_, Piece::Lit(next)) if next.is_empty() => {}
            (_, piece) => out.push(piece),
        }
    }
    out
}

/// The directory containing a path value; unknown when the last separator is not visible.
fn parent_of(value: Value) -> Value {
    let value = merge_literals(value);
    for i in (0..value.len()).rev() {
        match &value[i] {
            Piece::Lit(text) => {
                if let Some(pos) = text.trim_end_matches('/').rfind('/') {
                    let mut out: Value = value[..i].to_vec();
                    match (pos, i) {
                        // `/x.csv` alone: the parent is the root.
                        (0, 0) => out.push(Piece::Lit("/".into())),
                        // `.../{day}` + `/x.csv`: the parent is everything before the literal.
                        (0, _) => {}
                        _ => out.push(Piece::Lit(text[..pos].to_string().into())),
                    }
                    return merge_literals(out);
                }
            }
            Piece::Hole {
                shape: HoleShape::Path,
                label,
            } => {
                let mut out: Value = value[..i].to_vec();
                out.push(Piece::Hole {
                    label: format!("{label}/..").into(),
                    shape: HoleShape::Path,
                });
                return out;
            }
            Piece::Symbol(_) if i == 0 => {
                return vec![Piece::Hole {
                    label: "parent".into(),
                    shape: HoleShape::Path,
                }];
            }
            Piece::Glob { text, .. } if text.contains('/') => {
                return vec![Piece::Hole {
                    label: "parent".into(),
                    shape: HoleShape::Path,
                }];
            }
            _ => {}
        }
    }
    // No separator: the parent is the working directory.
    vec![Piece::Lit(".".into())]
}

/// Replaces the file name (or only its suffix) of a path value.
fn replace_name(base: &Value, name: &Value, suffix_only: bool) -> Value {
    let base = merge_literals(base.clone());
    if suffix_only {
        // Cut at the last `.` of the final segment, if it is in a literal of that segment.
        let mut out = base.clone();
        if let Some(Piece::Lit(text)) = out.last_mut() {
            let segment_start = text.rfind('/').map(|p| p + 1).unwrap_or(0);
            if let Some(dot) = text[segment_start..].rfind('.')
                && (dot > 0 || segment_start > 0)
            {
                text.truncate(segment_start + dot);
            }
        }
        out.extend(name.iter().cloned());
        return merge_literals(out);
    }
    let mut parent = parent_of(base);
    if matches!(parent.as_slice(), [Piece::Lit(t)] if t == ".") {
        return name.clone();
    }
    parent.push(Piece::Lit("/".into()));
    parent.extend(name.iter().cloned());
    merge_literals(parent)
}

fn hole_for(expr: &Expr) -> Piece {
    let label = match expr {
        Expr::Var { name, .. } | Expr::Env { name, .. } => short_label(name),
        Expr::Hole { label, .. } => label.to_string(),
        _ => "…".to_string(),
    };
    Piece::Hole {
        label: label.into(),
        shape: HoleShape::Segment,
    }
}

/// A value with no unknown part: literals, globs and environment symbols only.
fn is_known(value: &Value) -> bool {
    !value.is_empty() && value.iter().all(|p| !matches!(p, Piece::Hole { .. }))
}

/// An unknown entry is named as the source reads it: `CFG[paths][out]` -> `CFG["paths"]["out"]`.
fn item_label(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        match c {
            '[' => out.push_str("[\""),
            ']' => out.push_str("\"]"),
            c => out.push(c),
        }
    }
    out
}

/// `self.out_dir` -> `out_dir`; `config::OUT` -> `OUT`.
fn short_label(name: &str) -> String {
    super::calls::last_name(name).to_string()
}

/// A value as reviewers read it (same conventions as pattern display).
pub fn display_value(value: &Value) -> String {
    let mut out = String::new();
    for piece in value {
        match piece {
            Piece::Lit(t) => out.push_str(t),
            Piece::Glob { text, .. } => out.push_str(text),
            Piece::Hole { label, .. } => {
                out.push('{');
                out.push_str(label);
                out.push('}');
            }
            Piece::Symbol(name) => {
                out.push_str("${");
                out.push_str(name);
                out.push('}');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Piece {
        Piece::Lit(s.into())
    }

    #[test]
    fn parent_of_literal_paths() {
        assert_eq!(
            parent_of(vec![lit("/data/ticker/x.csv")]),
            vec![lit("/data/ticker")]
        );
        assert_eq!(parent_of(vec![lit("/x.csv")]), vec![lit("/")]);
        assert_eq!(parent_of(vec![lit("x.csv")]), vec![lit(".")]);
        let with_hole = vec![
            lit("/data/"),
            Piece::Hole {
                label: "day".into(),
                shape: HoleShape::Segment,
            },
            lit("/x.csv"),
        ];
        assert_eq!(display_value(&parent_of(with_hole)), "/data/{day}");
    }

    fn joined(left: Value, right: Value) -> Value {
        let mut left = left;
        join_onto(&mut left, &right);
        left
    }

    #[test]
    fn join_restarts_at_absolute() {
        assert_eq!(
            joined(vec![lit("/a")], vec![lit("b")]),
            vec![lit("/a"), lit("/"), lit("b")]
        );
        assert_eq!(joined(vec![lit("/a")], vec![lit("/b")]), vec![lit("/b")]);
    }

    #[test]
    fn oversized_values_keep_their_ends_around_a_hole() {
        let mut parts = vec![lit("/data/")];
        for i in 0..1000 {
            parts.push(Piece::Hole {
                label: format!("x{i}").into(),
                shape: HoleShape::Segment,
            });
            parts.push(lit("/"));
        }
        parts.push(lit("out.csv"));
        let value = bounded(parts);
        assert!(value.len() <= MAX_PIECES + 1, "{}", value.len());
        let shown = display_value(&value);
        assert!(shown.starts_with("/data/{x0}/"), "{shown}");
        assert!(shown.contains("{…}"), "{shown}");
        assert!(shown.ends_with("{x999}/out.csv"), "{shown}");

        let long = format!("/data/{}.csv", "é".repeat(10_000));
        let value = bounded(vec![Piece::Lit(long.into())]);
        let shown = display_value(&value);
        assert!(shown.len() <= MAX_VALUE_BYTES + 8, "{}", shown.len());
        assert!(
            shown.starts_with("/data/é") && shown.ends_with("é.csv"),
            "{shown}"
        );
        assert!(shown.contains("{…}"), "{shown}");
        // Within bounds, a value is untouched.
        assert_eq!(bounded(vec![lit("/a/b")]), vec![lit("/a/b")]);
    }

    #[test]
    fn suffix_replacement() {
        let v = replace_name(&vec![lit("/logs/app.log")], &vec![lit(".gz")], true);
        assert_eq!(display_value(&v), "/logs/app.gz");
        let v = replace_name(&vec![lit("/logs/app.log")], &vec![lit("other.txt")], false);
        assert_eq!(display_value(&v), "/logs/other.txt");
    }
}
