//! Scanning and iteration: finding the calls in an expression (iteratively), and what a loop,
//! a comprehension or a lambda binds its variables to.

use super::calls::Callee;
use super::parse::line_of;
use super::translate::join;
use super::walk::{Ctx, Extractor, MAX_DEPTH, MAX_TARGET_DEPTH, named};
use crate::expr::Expr;
use crate::extract::FieldExt as _;
use std::collections::BTreeMap;
use std::rc::Rc;
use tree_sitter::Node;

/// What one iteration over a value gives.
#[derive(Clone, Debug)]
pub(super) enum Element {
    One(Expr),
    /// `os.scandir` entries in this directory pattern: `.path` is the entry, `.name` its name.
    Entries(Expr),
    /// `os.walk(top)` triples.
    Walk(Expr),
    Tuple(Vec<Element>),
}

/// Builtins whose iteration yields the elements of their argument.
pub(super) const PASS_THROUGH: &[&str] = &[
    "sorted",
    "list",
    "reversed",
    "set",
    "tuple",
    "frozenset",
    "iter",
];

impl<'a> Extractor<'a> {
    /// What one iteration over `node` gives: a name's value, a literal list's elements, the
    /// paths a listing call lists, or a hole.
    pub fn element_of(&mut self, node: Node<'_>, ctx: &Ctx) -> Element {
        match node.kind_name() {
            "identifier" | "attribute" => {
                if let Some(var) = self.var_of(node, ctx) {
                    return Element::One(var);
                }
            }
            "list" | "tuple" | "set" => return Element::One(self.translate(node, ctx)),
            "parenthesized_expression" => {
                if let Some(inner) = named(node).first() {
                    return self.element_of(*inner, ctx);
                }
            }
            "call" => {
                let args = self.args(node);
                if let Callee::Function { name, .. } = self.callee(node, ctx)
                    && let Some(first) = args.positional.first().copied()
                {
                    if PASS_THROUGH.contains(&name.as_str()) && args.positional.len() == 1 {
                        return self.element_of(first, ctx);
                    }
                    if name == "enumerate" {
                        let inner = self.element_of(first, ctx);
                        return Element::Tuple(vec![Element::One(Expr::hole("index")), inner]);
                    }
                }
                if let Some(element) = self.yielded(node, ctx) {
                    return element;
                }
            }
            _ => {}
        }
        Element::One(Expr::hole(self.label(node)))
    }

    /// Binds a loop target to what one iteration gives.
    pub fn bind_element(&mut self, target: Node<'_>, element: Element, ctx: &Ctx) {
        for (name, value) in self.element_bindings(target, element, ctx, 0) {
            self.bind_expr(name, value, ctx);
        }
    }

    /// The (target, value) pairs a loop target gets, as nodes to bind.
    fn element_bindings<'t>(
        &mut self,
        target: Node<'t>,
        element: Element,
        ctx: &Ctx,
        depth: u32,
    ) -> Vec<(Node<'t>, Expr)> {
        if depth > MAX_TARGET_DEPTH {
            self.bind_holes(target, ctx);
            return Vec::new();
        }
        let is_tuple = matches!(
            target.kind_name(),
            "pattern_list" | "tuple_pattern" | "list_pattern"
        );
        match (target.kind_name(), element) {
            ("identifier" | "attribute", Element::One(value)) => vec![(target, value)],
            ("identifier", Element::Entries(path)) => {
                let name = self.text(target).to_string();
                let scope = ctx.scope;
                self.bind(scope, format!("{name}.path"), path.clone(), ctx.line);
                self.bind(scope, format!("{name}.name"), Expr::glob("*"), ctx.line);
                vec![(target, path)]
            }
            (_, Element::Walk(top)) if is_tuple && named(target).len() == 3 => {
                let parts = named(target);
                vec![
                    (parts[0], join(vec![top, Expr::glob("**")])),
                    (parts[1], Expr::glob("*")),
                    (parts[2], Expr::glob("*")),
                ]
            }
            (_, Element::Tuple(items)) if is_tuple && named(target).len() == items.len() => {
                let mut out = Vec::new();
                for (t, e) in named(target).into_iter().zip(items) {
                    out.extend(self.element_bindings(t, e, ctx, depth + 1));
                }
                out
            }
            ("parenthesized_expression", element) => match named(target).first() {
                Some(inner) => self.element_bindings(*inner, element, ctx, depth + 1),
                None => Vec::new(),
            },
            _ => {
                self.bind_holes(target, ctx);
                Vec::new()
            }
        }
    }

    /// The substitutions a comprehension or lambda variable gets (not recorded as bindings:
    /// these names are local to their expression).
    fn element_locals(
        &self,
        target: Node<'_>,
        element: Element,
        out: &mut BTreeMap<String, Expr>,
        depth: u32,
    ) {
        if depth > MAX_TARGET_DEPTH {
            self.hole_locals(target, out);
            return;
        }
        match (target.kind_name(), element) {
            ("identifier", Element::One(value)) => {
                out.insert(self.text(target).to_string(), value);
            }
            ("identifier", Element::Entries(path)) => {
                let name = self.text(target).to_string();
                out.insert(format!("{name}.path"), path.clone());
                out.insert(format!("{name}.name"), Expr::glob("*"));
                out.insert(name, path);
            }
            ("pattern_list" | "tuple_pattern" | "list_pattern", Element::Walk(top))
                if named(target).len() == 3 =>
            {
                let parts = named(target);
                let values = [
                    join(vec![top, Expr::glob("**")]),
                    Expr::glob("*"),
                    Expr::glob("*"),
                ];
                for (t, v) in parts.into_iter().zip(values) {
                    self.element_locals(t, Element::One(v), out, depth + 1);
                }
            }
            ("pattern_list" | "tuple_pattern" | "list_pattern", Element::Tuple(items))
                if named(target).len() == items.len() =>
            {
                for (t, e) in named(target).into_iter().zip(items) {
                    self.element_locals(t, e, out, depth + 1);
                }
            }
            ("parenthesized_expression", element) => {
                if let Some(inner) = named(target).first() {
                    self.element_locals(*inner, element, out, depth + 1);
                }
            }
            _ => self.hole_locals(target, out),
        }
    }

    fn hole_locals(&self, target: Node<'_>, out: &mut BTreeMap<String, Expr>) {
        let mut stack = vec![target];
        while let Some(node) = stack.pop() {
            if node.kind_name() == "identifier" {
                let name = self.text(node).to_string();
                out.insert(name.clone(), Expr::hole(name));
            } else {
                stack.extend(named(node));
            }
        }
    }

    /// Finds the calls in an expression and records their accesses; binds walrus targets;
    /// gives comprehension and lambda variables their values. Iterative, so long operator
    /// chains cannot exhaust the stack.
    pub fn scan(&mut self, node: Node<'_>, ctx: &Ctx) {
        // Room for the nodes pending at once in most expressions: grown from one, the list was
        // moved three or four times per scan, a third of a million scans over the corpus.
        let mut stack = Vec::with_capacity(SCAN_STACK);
        stack.push(node);
        // Children listed in one pass (`push_named_children`), in order once reversed.
        while let Some(n) = stack.pop() {
            if !self.work.spend(|| line_of(n)) {
                return;
            }
            match n.kind_name() {
                "call" => {
                    let function = n.field("function");
                    self.call_site(n, function, ctx);
                    self.mutation(n, function, ctx);
                }
                // A name, or a chain of names written plainly, holds nothing to scan.
                "identifier" => continue,
                "attribute" if super::translate::plain_dotted(self.text(n)).is_some() => continue,
                "subscript" => self.environ_subscript(n, ctx),
                "comparison_operator" => self.environ_membership(n, ctx),
                // Only an f-string (or a t-string) holds expressions; the parts of any other
                // string are text, escapes and quotes. A third of the nodes scanned are those.
                "string" if !may_interpolate(self.text(n)) => continue,
                "named_expression" => {
                    if let (Some(name), Some(value)) = (n.field("name"), n.field("value")) {
                        let expr = self.translate(value, ctx);
                        self.bind_expr(name, expr, ctx);
                    }
                }
                "list_comprehension"
                | "set_comprehension"
                | "generator_expression"
                | "dictionary_comprehension" => {
                    self.comprehension(n, ctx);
                    continue;
                }
                "lambda" => {
                    self.lambda(n, ctx);
                    continue;
                }
                "block" | "function_definition" | "class_definition" | "decorated_definition" => {
                    self.visit_nested_stmt(n, ctx);
                    continue;
                }
                kind if kind.ends_with("_statement") => {
                    self.visit_nested_stmt(n, ctx);
                    continue;
                }
                _ => {}
            }
            let first_child = stack.len();
            n.push_named_children(&mut stack);
            stack[first_child..].reverse();
        }
    }

    /// Scans a comprehension with its loop variables bound to what they iterate over.
    fn comprehension(&mut self, node: Node<'_>, ctx: &Ctx) {
        if ctx.depth > MAX_DEPTH {
            self.warn_deep(line_of(node));
            return;
        }
        let mut inner = Ctx {
            depth: ctx.depth + 1,
            ..ctx.clone()
        };
        let children = named(node);
        for clause in children.iter().filter(|c| c.kind_name() == "for_in_clause") {
            let (Some(left), Some(right)) = (clause.field("left"), clause.field("right")) else {
                continue;
            };
            self.scan(right, &inner);
            let element = self.element_of(right, &inner);
            let mut locals = (*inner.locals).clone();
            self.element_locals(left, element, &mut locals, 0);
            inner.locals = Rc::new(locals);
        }
        for child in children.iter().filter(|c| c.kind_name() != "for_in_clause") {
            self.scan(*child, &inner);
        }
    }

    /// Scans a lambda's body with its parameters as holes.
    fn lambda(&mut self, node: Node<'_>, ctx: &Ctx) {
        if ctx.depth > MAX_DEPTH {
            self.warn_deep(line_of(node));
            return;
        }
        let mut locals = (*ctx.locals).clone();
        if let Some(params) = node.field("parameters") {
            self.hole_locals(params, &mut locals);
        }
        let inner = Ctx {
            depth: ctx.depth + 1,
            locals: Rc::new(locals),
            ..ctx.clone()
        };
        if let Some(body) = node.field("body") {
            self.scan(body, &inner);
        }
    }
}

/// Nodes a scan's list of pending nodes has room for from the start.
const SCAN_STACK: usize = 32;

/// Whether a string literal's prefix (`f`, `rf`, `t`) makes it a template whose `{…}` parts are
/// expressions.
fn may_interpolate(literal: &str) -> bool {
    literal
        .bytes()
        .take_while(|b| !matches!(b, b'"' | b'\''))
        .any(|b| matches!(b, b'f' | b'F' | b't' | b'T'))
}
