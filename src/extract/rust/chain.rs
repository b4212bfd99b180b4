//! Method chains: `client.get_secret_value().secret_id(ID).send().await?` as one unit.
//!
//! Builder-style APIs spread one call over a chain: the call a model row recognises (a root
//! function such as `FutureRecord::to(topic)`, or a method such as `get_secret_value()`) and,
//! later in the chain, the methods that name the resource (`.secret_id(id)`), carry the payload
//! (`.payload(&json)`) or send the request (`.send()`); what follows an environment read
//! (`.unwrap_or(d)`, `?`) says whether a default exists. A [`Chain`] is the innermost
//! expression (its *root*) and the postfix operations applied to it, innermost first; the walk
//! builds one for the outermost expression of every chain and analyses it once.

use super::walk::{Walker, call_path, start_line};
use crate::expr::Expr;
use crate::rules::models::rust::resources::{CallMatch, CallPattern, CallRow, Locator};
use syn::punctuated::Punctuated;

/// Longer chains are cut here (the rest is treated as the root); no API chain is this long.
const MAX_CHAIN: usize = 64;

/// One postfix operation of a chain.
#[derive(Clone, Copy)]
pub(super) enum Op<'a> {
    Method(&'a syn::ExprMethodCall),
    Try,
    Await,
}

/// An expression's chain of postfix operations.
pub(super) struct Chain<'a> {
    pub(super) root: &'a syn::Expr,
    /// Innermost first.
    pub(super) ops: Vec<Op<'a>>,
    /// Every expression of the chain except the outermost, by address: the walk analyses a
    /// chain once, at its outermost expression.
    pub(super) inner: Vec<usize>,
}

/// Where in a chain a call is: the root, or the method at an index of [`Chain::ops`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Position {
    Root,
    Op(usize),
}

/// An expression's identity for the walk's bookkeeping: its address in the syntax tree.
pub(super) fn key(expr: &syn::Expr) -> usize {
    expr as *const syn::Expr as usize
}

/// Whether an expression can be the outermost expression of a chain worth analysing.
pub(super) fn is_chain_expr(expr: &syn::Expr) -> bool {
    matches!(
        expr,
        syn::Expr::MethodCall(_)
            | syn::Expr::Try(_)
            | syn::Expr::Await(_)
            | syn::Expr::Call(_)
            | syn::Expr::Macro(_)
    )
}

impl<'a> Chain<'a> {
    pub(super) fn of(expr: &'a syn::Expr) -> Chain<'a> {
        let mut ops = Vec::new();
        let mut inner = Vec::new();
        let mut current = expr;
        while ops.len() < MAX_CHAIN {
            let (op, next): (Op<'a>, &'a syn::Expr) = match current {
                syn::Expr::MethodCall(m) => (Op::Method(m), &m.receiver),
                syn::Expr::Try(t) => (Op::Try, &t.expr),
                syn::Expr::Await(a) => (Op::Await, &a.base),
                _ => break,
            };
            ops.push(op);
            inner.push(key(next));
            current = next;
        }
        ops.reverse();
        Chain {
            root: current,
            ops,
            inner,
        }
    }

    /// The root, when it is a function call.
    pub(super) fn root_call(&self) -> Option<&'a syn::ExprCall> {
        match self.root {
            syn::Expr::Call(call) => Some(call),
            _ => None,
        }
    }

    /// The method calls after a position, innermost first.
    pub(super) fn methods_after(
        &self,
        position: Position,
    ) -> impl Iterator<Item = &'a syn::ExprMethodCall> + '_ {
        let start = match position {
            Position::Root => 0,
            Position::Op(i) => i + 1,
        };
        self.ops.iter().skip(start).filter_map(|op| match op {
            Op::Method(m) => Some(*m),
            _ => None,
        })
    }

    /// The operations after a position, innermost first.
    pub(super) fn ops_after(&self, position: Position) -> &[Op<'a>] {
        let start = match position {
            Position::Root => 0,
            Position::Op(i) => i + 1,
        };
        self.ops.get(start..).unwrap_or(&[])
    }

    /// The arguments of the call at a position.
    pub(super) fn args_at(&self, position: Position) -> Vec<&'a syn::Expr> {
        match position {
            Position::Root => self
                .root_call()
                .map(|c| c.args.iter().collect())
                .unwrap_or_default(),
            Position::Op(i) => match self.ops.get(i) {
                Some(Op::Method(m)) => m.args.iter().collect(),
                _ => Vec::new(),
            },
        }
    }

    /// The method call at a position.
    pub(super) fn method_at(&self, position: Position) -> Option<&'a syn::ExprMethodCall> {
        match position {
            Position::Root => None,
            Position::Op(i) => match self.ops.get(i) {
                Some(Op::Method(m)) => Some(m),
                _ => None,
            },
        }
    }

    /// Every call position: the root (when it is a call) and each method.
    pub(super) fn positions(&self) -> Vec<Position> {
        let mut out = Vec::new();
        if self.root_call().is_some() {
            out.push(Position::Root);
        }
        for (i, op) in self.ops.iter().enumerate() {
            if matches!(op, Op::Method(_)) {
                out.push(Position::Op(i));
            }
        }
        out
    }

    /// The line where the chain starts: its statement's line for a chain on its own.
    pub(super) fn line(&self) -> u32 {
        start_line(self.root)
    }
}

impl Walker<'_> {
    /// The first row of `rows` that the call at `position` of `chain` matches.
    pub(super) fn row_at<'r, T: CallRow>(
        &self,
        rows: &'r [T],
        chain: &Chain<'_>,
        position: Position,
    ) -> Option<&'r T> {
        // The row's own conditions are asked last, of rows the call matches: asked first,
        // they were asked of every row for every call (2.3 million times over `cargo`).
        let applicable = |row: &'r T| self.conditions_hold(row.call(), chain, position);
        match position {
            Position::Root => {
                let call = chain.root_call()?;
                let segments = call_path(&call.func)?;
                let models = self.models;
                self.lookup(&segments, |p| {
                    models
                        .function_row_where(rows.iter(), applicable, p)
                        .map(|(row, _)| row)
                })
            }
            Position::Op(_) => {
                let method = chain.method_at(position)?;
                let name = method.method.to_string();
                rows.iter().find(|row| {
                    matches!(&row.call().matcher, CallMatch::Method { method: m, arity, requires }
                        if *m == name
                            && arity.is_none_or(|a| a == method.args.len())
                            && requires.as_ref().is_none_or(|r| self.mentions(r)))
                        && applicable(row)
                })
            }
        }
    }

    /// `command` and `finish` conditions of a row at a call.
    fn conditions_hold(&self, call: &CallPattern, chain: &Chain<'_>, position: Position) -> bool {
        if let Some(command) = &call.command {
            let first = chain
                .args_at(position)
                .first()
                .and_then(|a| string_literal(a));
            if !first.is_some_and(|f| f.eq_ignore_ascii_case(command)) {
                return false;
            }
        }
        call.finish.is_empty()
            || chain
                .methods_after(position)
                .any(|m| call.finish.iter().any(|f| m.method == f))
    }

    /// The syntax a locator points at (one expression; `args` locators give their first).
    pub(super) fn locate<'c>(
        &self,
        locator: &Locator,
        chain: &Chain<'c>,
        position: Position,
    ) -> Option<&'c syn::Expr> {
        match locator {
            Locator::Arg(i) => chain.args_at(position).get(*i).copied(),
            Locator::Args { args, .. } => args
                .first()
                .and_then(|i| chain.args_at(position).get(*i).copied()),
            Locator::Receiver => chain.method_at(position).map(|m| &*m.receiver),
            Locator::Method { method, nth } => chain
                .methods_after(position)
                .filter(|m| m.method == method)
                .nth(*nth)
                .and_then(|m| m.args.first()),
        }
    }

    /// The value a locator points at, translated.
    pub(super) fn locate_expr(
        &self,
        locator: &Locator,
        chain: &Chain<'_>,
        position: Position,
    ) -> Option<Expr> {
        match locator {
            Locator::Args { args, separator } => {
                let all = chain.args_at(position);
                let mut parts = Vec::new();
                for (n, i) in args.iter().enumerate() {
                    if n > 0 && !separator.is_empty() {
                        parts.push(Expr::lit(separator.clone()));
                    }
                    parts.push(self.convert(all.get(*i)?));
                }
                Some(super::convert::concat(parts))
            }
            other => self.locate(other, chain, position).map(|e| self.convert(e)),
        }
    }
}

/// Parentheses, groups and `&`, which keep a value what it is.
fn peel(mut expr: &syn::Expr) -> &syn::Expr {
    for _ in 0..MAX_CHAIN {
        expr = match expr {
            syn::Expr::Group(g) => &g.expr,
            syn::Expr::Paren(p) => &p.expr,
            syn::Expr::Reference(r) => &r.expr,
            _ => return expr,
        };
    }
    expr
}

/// The text of a string literal expression (through parentheses, `&` and `.into()`-style
/// conversions that keep the text).
pub(super) fn string_literal(expr: &syn::Expr) -> Option<String> {
    let mut current = peel(expr);
    for _ in 0..MAX_CHAIN {
        match current {
            syn::Expr::Lit(l) => {
                return match &l.lit {
                    syn::Lit::Str(s) => Some(s.value()),
                    _ => None,
                };
            }
            syn::Expr::MethodCall(m)
                if m.args.is_empty()
                    && matches!(
                        m.method.to_string().as_str(),
                        "into" | "to_string" | "to_owned" | "as_str"
                    ) =>
            {
                current = peel(&m.receiver);
            }
            _ => return None,
        }
    }
    None
}

/// The elements of a list literal (`[a, b]`, `&[a, b]`, `vec![a, b]`), if the expression is one.
pub(super) fn list_elements(expr: &syn::Expr) -> Option<Vec<syn::Expr>> {
    match peel(expr) {
        syn::Expr::Array(a) => Some(a.elems.iter().cloned().collect()),
        syn::Expr::Macro(m) if m.mac.path.is_ident("vec") => m
            .mac
            .parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
            .ok()
            .map(|args| args.into_iter().collect()),
        _ => None,
    }
}

/// The last segment of a path expression (`Signal::SIGHUP` -> `SIGHUP`), through casts.
pub(super) fn last_segment(expr: &syn::Expr) -> Option<String> {
    let mut current = peel(expr);
    for _ in 0..MAX_CHAIN {
        match current {
            syn::Expr::Path(p) => return p.path.segments.last().map(|s| s.ident.to_string()),
            syn::Expr::Cast(c) => current = peel(&c.expr),
            _ => return None,
        }
    }
    None
}
