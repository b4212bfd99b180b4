//! Receiver types: which variable holds which kind of client.
//!
//! A method row with `receiver-type` (`SQS.send_message` on a `boto3.sqs`) must not match a
//! same-named method of another object, so the extractor remembers the type of every name bound
//! to a call whose row `returns` one (`sqs = boto3.client("sqs")`, `self.r = redis.Redis()`,
//! `with pika.BlockingConnection(p) as conn`), and of parameters annotated with such a type.
//! Types follow the scoping of bindings: the last binding before the use in the use's own scope,
//! then any binding of an enclosing scope; `self.x` lives in the method's class. Lookups through
//! chained calls are bounded by [`MAX_TYPE_DEPTH`].

use super::walk::{Ctx, Extractor, named};
use crate::expr::ScopeId;
use crate::extract::FieldExt as _;
use tree_sitter::Node;

/// How many chained calls and names a type lookup follows (`boto3.Session().client("sqs")`).
pub(super) const MAX_TYPE_DEPTH: u32 = 8;

impl<'a> Extractor<'a> {
    /// The type of an expression: a name's recorded type, or the type a modelled call returns.
    pub(super) fn type_of(&mut self, node: Node<'_>, ctx: &Ctx, depth: u32) -> Option<String> {
        if depth > MAX_TYPE_DEPTH {
            return None;
        }
        match node.kind_name() {
            "identifier" | "attribute" => {
                let dotted = self.dotted(node)?;
                let name = self.normalize_self(&dotted, ctx);
                self.lookup_type(&name, ctx).map(str::to_string)
            }
            "parenthesized_expression" | "await" => {
                let inner = named(node).into_iter().next()?;
                self.type_of(inner, ctx, depth + 1)
            }
            "call" => {
                let function = node.field("function")?;
                let args = self.args(node);
                let Some(matched) = self.match_parts(function, args, ctx, false, depth + 1) else {
                    return self.returned_type(node, ctx);
                };
                let returns = matched.model.returns.as_deref()?;
                let Some(fill) = &matched.model.returns_fill else {
                    return Some(returns.to_string());
                };
                let arg = matched.args.get(fill)?;
                let text = self.literal_string(arg, ctx)?;
                Some(returns.replace("{}", &text))
            }
            _ => None,
        }
    }

    /// The type recorded for a dotted name visible at the context's line.
    pub(super) fn lookup_type(&self, name: &str, ctx: &Ctx) -> Option<&str> {
        if name.starts_with("self.") {
            let class = ctx.self_class?;
            return self.last_type(class, name, None);
        }
        let mut current = Some(ctx.scope);
        let mut first = true;
        while let Some(scope) = current {
            let before = first.then_some(ctx.line);
            if let Some(found) = self.type_entry(scope, name, before) {
                return found;
            }
            first = false;
            current = self.facts.scopes.get(scope).and_then(|s| s.parent);
        }
        None
    }

    fn last_type(&self, scope: ScopeId, name: &str, before: Option<u32>) -> Option<&str> {
        self.type_entry(scope, name, before).flatten()
    }

    /// `Some(None)` when the name was last bound to something untyped in this scope.
    fn type_entry(&self, scope: ScopeId, name: &str, before: Option<u32>) -> Option<Option<&str>> {
        let entries = self.types.get(&(scope, name.to_string()))?;
        entries
            .iter()
            .rev()
            .find(|(line, _)| before.is_none_or(|b| *line < b))
            .map(|(_, t)| t.as_deref())
    }

    /// Records the type of an assignment target bound to `value` (an untyped value shadows a
    /// type recorded earlier for the same name).
    pub(super) fn bind_type(&mut self, target: Node<'_>, value: Node<'_>, ctx: &Ctx) {
        if !matches!(target.kind_name(), "identifier" | "attribute") {
            return;
        }
        let found = self.type_of(value, ctx, 0);
        self.record_type(target, found, ctx);
    }

    /// Records a type (or its absence) for a name or `self.x` target.
    pub(super) fn record_type(&mut self, target: Node<'_>, found: Option<String>, ctx: &Ctx) {
        let Some(dotted) = self.dotted(target) else {
            return;
        };
        let name = self.normalize_self(&dotted, ctx);
        // A class attribute is what methods read as `self.x`.
        if let (Some(class), "identifier") = (ctx.class_body, target.kind_name()) {
            let key = (class, format!("self.{name}"));
            if found.is_some() || self.types.contains_key(&key) {
                self.types
                    .entry(key)
                    .or_default()
                    .push((ctx.line, found.clone()));
            }
        }
        let scope = match (name.starts_with("self."), ctx.self_class) {
            (true, Some(class)) => class,
            _ if ctx.globals.contains(&name) => 0,
            _ => ctx.scope,
        };
        let key = (scope, name);
        if found.is_none() && !self.types.contains_key(&key) {
            return;
        }
        self.types.entry(key).or_default().push((ctx.line, found));
    }

    /// The type a parameter annotation names, when a model row for that class returns one
    /// (`def f(r: redis.Redis)`).
    pub(super) fn annotation_type(&self, annotation: Node<'_>) -> Option<String> {
        let node = match annotation.kind_name() {
            "type" => annotation.named_child(0)?,
            _ => annotation,
        };
        let dotted = match node.kind_name() {
            "identifier" | "attribute" => self.dotted(node)?,
            "string" => {
                let text = self.text(node);
                text.trim_matches(['"', '\'']).to_string()
            }
            _ => return None,
        };
        let qualified = self.qualified(&dotted);
        let row = self.models.function(&qualified)?;
        match (&row.returns, &row.returns_fill) {
            (Some(returns), None) => Some(returns.clone()),
            _ => None,
        }
    }

    /// Records the annotated types of a function's parameters.
    pub(super) fn parameter_types(&mut self, params: Node<'_>, scope: ScopeId, line: u32) {
        for param in named(params) {
            if !matches!(
                param.kind_name(),
                "typed_parameter" | "typed_default_parameter"
            ) {
                continue;
            }
            let Some(annotation) = param.field("type") else {
                continue;
            };
            let name = match param.kind_name() {
                "typed_default_parameter" => param.field("name"),
                _ => param
                    .named_child(0)
                    .filter(|n| n.kind_name() == "identifier"),
            };
            let (Some(name), Some(found)) = (name, self.annotation_type(annotation)) else {
                continue;
            };
            let name = self.text(name).to_string();
            self.types
                .entry((scope, name))
                .or_default()
                .push((line, Some(found)));
        }
    }
}
