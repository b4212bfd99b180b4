//! Configuration objects: dict literals, `dict(...)`, `SimpleNamespace(...)` and list or tuple
//! literals bound to names, read back by key, attribute or spread.
//!
//! Conventions for the resolver (see `resolve/lookup.rs`, "items"):
//!
//! - `CFG = {"paths": {"out": "/srv/out"}}` binds, besides `CFG` itself, each entry whose key is
//!   a literal as the name `CFG[paths]`, `CFG[paths][out]` (at the entry's line), and the
//!   marker `CFG[]`, `CFG[paths][]` when every key of that dict is known (no `**spread`, no
//!   computed key): the dict is *closed*, so `CFG.get("x", d)` of a key it lacks is `d`.
//!   A list or tuple literal binds `XS[0]`…, and its marker `XS[]` is its length.
//! - A read `CFG["paths"]["out"]` or `CFG.get("out", d)` is the `Var` `CFG[paths][out]` (with
//!   `d` as its default); keys are literals (or names bound to one in this file) without `[`,
//!   `]` or `.`; anything else stays a hole as before.
//! - `CFG["out"] = v` binds `CFG[out]` in the scope that holds `CFG` (a function that stores
//!   into a module's dict changes it for every reader). Any other mutation — `update`,
//!   `setdefault`, `pop`, `clear`, `append`, a computed key, `del` — rebinds `CFG` itself to a
//!   hole there, so what was known of its entries is no longer used: the resolver uses an entry
//!   only while the binding of its container in force is the one it belongs to.
//! - `NS = SimpleNamespace(out_dir=...)` binds `NS.out_dir`.
//!
//! Bounds: [`MAX_ENTRIES`] entries and [`MAX_NESTING`] levels per assigned value; keys of at
//! most [`MAX_KEY`] bytes.

use super::parse::line_of;
use super::walk::{Ctx, Extractor, named};
use crate::expr::{Expr, ScopeId};
use crate::extract::FieldExt as _;
use tree_sitter::Node;

/// Entries bound per assigned value (all levels together); more leave the dict open.
const MAX_ENTRIES: usize = 64;
/// Levels of nested dicts followed.
const MAX_NESTING: u32 = 4;
/// Longest key kept.
const MAX_KEY: usize = 128;

/// Methods that change a dict or list in place.
const MUTATORS: &[&str] = &[
    "update",
    "setdefault",
    "pop",
    "popitem",
    "clear",
    "append",
    "extend",
    "insert",
    "remove",
    "sort",
    "reverse",
    "__setitem__",
    "__delitem__",
];

/// What a value node builds, for binding its entries.
enum Structure<'t> {
    /// Key-value pairs (`None` key: unknown, the dict is open), and whether spreads or
    /// positional arguments may add keys.
    Dict(Vec<(Option<String>, Node<'t>, u32)>, bool),
    /// Attribute-value pairs of a namespace.
    Namespace(Vec<(String, Node<'t>, u32)>),
    Sequence(Vec<Node<'t>>),
}

impl Extractor<'_> {
    /// Binds the entries of a dict, namespace or sequence literal assigned to `target` (see
    /// the module docs), after the target itself was bound.
    pub(super) fn bind_structure(&mut self, target: Node<'_>, value: Node<'_>, ctx: &Ctx) {
        let names = match target.kind_name() {
            "identifier" => {
                let name = self.text(target).to_string();
                let mut names = vec![(self.assigned_scope(&name, ctx), name.clone())];
                if let Some(class) = ctx.class_body {
                    names.push((class, format!("self.{name}")));
                    if let Some(scope) = self.facts.scopes.get(class)
                        && let Some(parent) = scope.parent
                    {
                        names.push((parent, format!("{}.{name}", scope.name)));
                    }
                }
                names
            }
            "attribute" => {
                let Some(bound) = self.attribute_target(target, ctx) else {
                    return;
                };
                vec![bound]
            }
            _ => return,
        };
        let mut budget = MAX_ENTRIES;
        for (scope, name) in names {
            self.bind_entries(scope, &name, value, ctx, 0, &mut budget);
        }
    }

    /// The scope a plain name assigned here is bound in.
    fn assigned_scope(&self, name: &str, ctx: &Ctx) -> ScopeId {
        if ctx.globals.contains(name) {
            0
        } else {
            ctx.scope
        }
    }

    fn bind_entries(
        &mut self,
        scope: ScopeId,
        name: &str,
        value: Node<'_>,
        ctx: &Ctx,
        depth: u32,
        budget: &mut usize,
    ) {
        if depth >= MAX_NESTING {
            return;
        }
        let Some(structure) = self.structure(value, ctx) else {
            return;
        };
        match structure {
            Structure::Dict(entries, mut open) => {
                for (key, node, line) in entries {
                    let Some(key) = key else {
                        open = true;
                        continue;
                    };
                    if *budget == 0 {
                        open = true;
                        break;
                    }
                    *budget -= 1;
                    let entry = format!("{name}[{key}]");
                    let at = ctx.at(line);
                    let expr = self.translate(node, &at);
                    self.bind(scope, entry.clone(), expr, line);
                    self.bind_entries(scope, &entry, node, &at, depth + 1, budget);
                }
                if !open {
                    self.bind(scope, format!("{name}[]"), Expr::lit(""), ctx.line);
                }
            }
            Structure::Namespace(entries) => {
                for (attr, node, line) in entries {
                    if *budget == 0 {
                        break;
                    }
                    *budget -= 1;
                    let entry = format!("{name}.{attr}");
                    let at = ctx.at(line);
                    let expr = self.translate(node, &at);
                    self.bind(scope, entry.clone(), expr, line);
                    self.bind_entries(scope, &entry, node, &at, depth + 1, budget);
                }
            }
            Structure::Sequence(items) => {
                if items.len() > *budget {
                    return;
                }
                *budget -= items.len();
                for (i, node) in items.iter().enumerate() {
                    let at = ctx.at(line_of(*node));
                    let expr = self.translate(*node, &at);
                    self.bind(scope, format!("{name}[{i}]"), expr, line_of(*node));
                }
                self.bind(
                    scope,
                    format!("{name}[]"),
                    Expr::lit(items.len().to_string()),
                    ctx.line,
                );
            }
        }
    }

    fn structure<'t>(&mut self, value: Node<'t>, ctx: &Ctx) -> Option<Structure<'t>> {
        let mut value = value;
        for _ in 0..MAX_NESTING {
            if value.kind_name() != "parenthesized_expression" {
                break;
            }
            value = named(value)
                .into_iter()
                .find(|n| n.kind_name() != "comment")?;
        }
        match value.kind_name() {
            "dictionary" => {
                let mut entries = Vec::new();
                let mut open = false;
                for child in named(value) {
                    match child.kind_name() {
                        "pair" => {
                            let (Some(k), Some(v)) = (child.field("key"), child.field("value"))
                            else {
                                open = true;
                                continue;
                            };
                            let key = self.key_text(k, ctx);
                            entries.push((key, v, line_of(child)));
                        }
                        "comment" => {}
                        _ => open = true,
                    }
                }
                Some(Structure::Dict(entries, open))
            }
            "list" | "tuple" => {
                let items: Vec<Node<'t>> = named(value)
                    .into_iter()
                    .filter(|n| n.kind_name() != "comment")
                    .collect();
                if items
                    .iter()
                    .any(|i| matches!(i.kind_name(), "list_splat" | "parenthesized_list_splat"))
                {
                    return None;
                }
                Some(Structure::Sequence(items))
            }
            "call" => {
                let function = value.field("function")?;
                let dotted = self.dotted(function)?;
                let qualified = self.qualified(&dotted);
                let args = self.args(value);
                match qualified.as_str() {
                    "dict" | "collections.OrderedDict" => {
                        let open = args.splat || !args.positional.is_empty();
                        let entries = args
                            .keywords
                            .iter()
                            .map(|(k, v)| (Some(k.clone()), *v, line_of(*v)))
                            .collect();
                        Some(Structure::Dict(entries, open))
                    }
                    "types.SimpleNamespace" | "argparse.Namespace" => Some(Structure::Namespace(
                        args.keywords
                            .iter()
                            .map(|(k, v)| (k.clone(), *v, line_of(*v)))
                            .collect(),
                    )),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// A key as item names spell it: a literal string or integer (or a name bound to a literal
    /// string in this file), without the characters item names use.
    pub(super) fn key_text(&mut self, key: Node<'_>, ctx: &Ctx) -> Option<String> {
        let text = match key.kind_name() {
            "integer" => self.text(key).to_string(),
            _ => self.literal_string(key, ctx)?,
        };
        let usable = !text.is_empty()
            && text.len() <= MAX_KEY
            && !text.contains(['[', ']', '.', '\n', '"', '\'']);
        usable.then_some(text)
    }

    /// The item name a subscript chain reads (`CFG["paths"]["out"]` -> `CFG[paths][out]`), when
    /// every key is literal and the chain starts at a name this file can follow.
    pub(super) fn item_name(&mut self, node: Node<'_>, ctx: &Ctx) -> Option<String> {
        let mut keys = Vec::new();
        let mut current = node;
        while current.kind_name() == "subscript" {
            if keys.len() >= MAX_NESTING as usize * 2 {
                return None;
            }
            let key = current.field("subscript")?;
            keys.push(self.key_text(key, ctx)?);
            current = current.field("value")?;
        }
        let base = self.followable(current, ctx)?;
        keys.reverse();
        let mut name = base;
        for key in keys {
            name.push('[');
            name.push_str(&key);
            name.push(']');
        }
        Some(name)
    }

    /// The name (as `Var`s spell it) of a container the resolver can follow: a name bound in
    /// this file, a parameter, `self.x`, or a name imported from a module that is not a
    /// well-known library's.
    pub(super) fn followable(&self, node: Node<'_>, ctx: &Ctx) -> Option<String> {
        let dotted = self.dotted(node)?;
        let name = self.normalize_self(&dotted, ctx);
        let root = name.split('.').next().unwrap_or(&name);
        if ctx.locals.contains_key(root) {
            return None;
        }
        let known = root == "self"
            || self.local_value(root, ctx.scope, u32::MAX).is_some()
            || self.is_param_in_chain(root, ctx.scope)
            || self.local_defs.contains(root)
            || self.aliases.contains_key(root)
                && !super::returns::is_library(&self.qualified(root));
        known.then_some(name)
    }

    fn is_param_in_chain(&self, name: &str, scope: ScopeId) -> bool {
        let mut current = Some(scope);
        while let Some(s) = current {
            if self.is_param(s, name) {
                return true;
            }
            current = self.facts.scopes.get(s).and_then(|sc| sc.parent);
        }
        false
    }

    /// `CFG.get("out", "/d")`: the entry, with the default for a key the dict lacks.
    pub(super) fn dict_get(
        &mut self,
        receiver: Node<'_>,
        args: &super::calls::Args<'_>,
        ctx: &Ctx,
        d: u32,
    ) -> Option<Expr> {
        if args.splat || args.positional.is_empty() || args.positional.len() > 2 {
            return None;
        }
        let key = self.key_text(*args.positional.first()?, ctx)?;
        let base = match receiver.kind_name() {
            "subscript" => self.item_name(receiver, ctx)?,
            _ => self.followable(receiver, ctx)?,
        };
        let default = match args.positional.get(1) {
            Some(node) if node.kind_name() != "none" => Some(Box::new(self.tr(*node, ctx, d))),
            _ => None,
        };
        Some(Expr::Var {
            name: format!("{base}[{key}]").into(),
            scope: ctx.scope,
            line: ctx.line,
            env_fallback: false,
            default,
        })
    }

    /// `CFG["out"] = v`: binds the entry where `CFG` is held; with a key that cannot be told,
    /// the whole container becomes unknown.
    pub(super) fn item_store(&mut self, target: Node<'_>, value: Node<'_>, ctx: &Ctx) {
        let line = line_of(target);
        match self.item_name(target, ctx) {
            Some(name) => {
                let root = name.split(['[', '.']).next().unwrap_or(&name).to_string();
                let scope = self.holder_scope(&root, &name, ctx);
                let expr = self.translate(value, ctx);
                self.bind(scope, name.clone(), expr, line);
                let mut budget = MAX_ENTRIES;
                self.bind_entries(scope, &name, value, ctx, 1, &mut budget);
            }
            None => {
                if let Some(container) = target.field("value") {
                    self.forget(container, ctx, line);
                }
            }
        }
    }

    /// `CFG.update(...)`, `parts.append(x)`, `del CFG["x"]`: the container is no longer known.
    /// `function` is the call's, which the caller has read.
    pub(super) fn mutation(&mut self, call: Node<'_>, function: Option<Node<'_>>, ctx: &Ctx) {
        let Some(function) = function else {
            return;
        };
        if function.kind_name() != "attribute" {
            return;
        }
        let method = function
            .field("attribute")
            .map(|a| self.text(a))
            .unwrap_or("");
        if !MUTATORS.contains(&method) {
            return;
        }
        if let Some(object) = function.field("object") {
            self.forget(object, ctx, line_of(call));
        }
    }

    /// Rebinds a container (a name, `self.x`, or an entry of one) to a hole at `line`.
    pub(super) fn forget(&mut self, container: Node<'_>, ctx: &Ctx, line: u32) {
        let name = match container.kind_name() {
            "subscript" => self.item_name(container, ctx),
            "identifier" | "attribute" => {
                let name = self.dotted(container).map(|d| self.normalize_self(&d, ctx));
                // Only containers that something was learned about.
                name.filter(|n| {
                    self.local_value(&format!("{n}[]"), ctx.scope, u32::MAX)
                        .is_some()
                        || self.has_entries(n, ctx)
                })
            }
            _ => None,
        };
        let Some(name) = name else {
            return;
        };
        let root = name.split(['[', '.']).next().unwrap_or(&name).to_string();
        let scope = self.holder_scope(&root, &name, ctx);
        let label = name.rsplit(['.', '[']).next().unwrap_or(&name);
        let label = label.trim_end_matches(']').to_string();
        self.bind(scope, name, Expr::hole(label), line);
    }

    /// Whether entries of `name` were bound in a scope around `ctx` (`self.x` in the class).
    fn has_entries(&self, name: &str, ctx: &Ctx) -> bool {
        let marker = format!("{name}[]");
        if name.starts_with("self.")
            && let Some(class) = ctx.self_class
        {
            return !self.bound_indexes(class, &marker).is_empty();
        }
        self.local_value(&marker, ctx.scope, u32::MAX).is_some()
    }

    /// The scope that holds a container: the class for `self.x`, else the nearest scope
    /// around the use that binds its root name (a module's dict changed in a function), else
    /// the use's own.
    fn holder_scope(&self, root: &str, name: &str, ctx: &Ctx) -> ScopeId {
        if name.starts_with("self.")
            && let Some(class) = ctx.self_class
        {
            return class;
        }
        if ctx.globals.contains(root) {
            return 0;
        }
        let mut current = Some(ctx.scope);
        while let Some(s) = current {
            if !self.bound_indexes(s, root).is_empty() || self.is_param(s, root) {
                return s;
            }
            current = self.facts.scopes.get(s).and_then(|sc| sc.parent);
        }
        ctx.scope
    }

    /// The items of a list or tuple bound to `name` in force at the use: `Var`s of its
    /// entries, when its length is known and it was not changed since.
    pub(super) fn sequence_items(&self, name: &str, ctx: &Ctx) -> Option<Vec<Expr>> {
        let marker = format!("{name}[]");
        let (marker_line, length) = self.binding_in_force(&marker, ctx)?;
        let (own_line, _) = self.binding_in_force(name, ctx)?;
        if own_line > marker_line {
            return None;
        }
        let length: usize = length.as_lit()?.parse().ok()?;
        if length > MAX_ENTRIES {
            return None;
        }
        Some(
            (0..length)
                .map(|i| self.var(&format!("{name}[{i}]"), ctx))
                .collect(),
        )
    }

    /// The line and value of the binding of `name` a use at `ctx` sees in this file.
    fn binding_in_force(&self, name: &str, ctx: &Ctx) -> Option<(u32, &Expr)> {
        let mut current = Some(ctx.scope);
        let mut first = true;
        while let Some(s) = current {
            let found = self.bound_indexes(s, name).iter().rev().find_map(|i| {
                let b = self.facts.bindings.get(*i)?;
                (!first || b.line < ctx.line).then_some((b.line, &*b.value))
            });
            if found.is_some() {
                return found;
            }
            first = false;
            current = self.facts.scopes.get(s).and_then(|sc| sc.parent);
        }
        None
    }

    /// `w = functools.partial(fn, a, k=v)`: remembered, so that `w(x)` is recorded as a call
    /// of `fn` with `a, x, k=v`; and `w()`'s value is `fn()`'s.
    pub(super) fn bind_partial(&mut self, target: Node<'_>, value: Node<'_>, ctx: &Ctx) {
        if target.kind_name() != "identifier" && target.kind_name() != "attribute" {
            return;
        }
        let Some(dotted) = self.dotted(target) else {
            return;
        };
        let name = self.normalize_self(&dotted, ctx);
        let scope = match (name.starts_with("self."), ctx.self_class) {
            (true, Some(class)) => class,
            _ => self.assigned_scope(&name, ctx),
        };
        let partial = (value.kind_name() == "call")
            .then(|| self.partial_of(value, ctx))
            .flatten();
        match partial {
            Some((callee, args)) => {
                self.bind(
                    scope,
                    format!("{name}()"),
                    Expr::Var {
                        name: format!("{}()", self.callee_var_name(&callee)).into(),
                        scope: ctx.scope,
                        line: ctx.line,
                        env_fallback: false,
                        default: None,
                    },
                    ctx.line,
                );
                self.partials.insert((scope, name), (callee, args));
            }
            None => {
                self.partials.remove(&(scope, name));
            }
        }
    }

    /// The callee and bound arguments of a `functools.partial(fn, ...)` call.
    fn partial_of(
        &mut self,
        call: Node<'_>,
        ctx: &Ctx,
    ) -> Option<(String, Vec<crate::extract::CallArg>)> {
        let function = call.field("function")?;
        let qualified = self.qualified(&self.dotted(function)?);
        if qualified != "functools.partial" {
            return None;
        }
        let list = call.field("arguments")?;
        let first = named(list)
            .into_iter()
            .find(|n| n.kind_name() != "comment")?;
        let callee = self.callee_name(first, ctx)?;
        let mut args = self.call_args(call, ctx);
        if args.first().is_some_and(|a| a.keyword.is_none()) {
            args.remove(0);
        }
        Some((callee, args))
    }

    /// The partial bound to a called name, in the scopes around the call.
    pub(super) fn partial_for(
        &self,
        name: &str,
        ctx: &Ctx,
    ) -> Option<&(String, Vec<crate::extract::CallArg>)> {
        // Most files bind no partial: no scope needs looking at.
        if self.partials.is_empty() {
            return None;
        }
        if name.starts_with("self.") {
            return self.partials.get(&(ctx.self_class?, name.to_string()));
        }
        let mut current = Some(ctx.scope);
        while let Some(s) = current {
            if let Some(found) = self.partials.get(&(s, name.to_string())) {
                return Some(found);
            }
            // A later plain binding of the name in this scope is no partial.
            if !self.bound_indexes(s, name).is_empty() {
                return None;
            }
            current = self.facts.scopes.get(s).and_then(|sc| sc.parent);
        }
        None
    }

    /// The name a call's returns are bound under for a callee as `call_ref` records it:
    /// the module-qualified name of a function of this file is its bare name here.
    fn callee_var_name(&self, callee: &str) -> String {
        let own = format!("{}.", self.module);
        match callee.strip_prefix(&own) {
            Some(rest) if !self.module.is_empty() => rest.to_string(),
            _ => callee.to_string(),
        }
    }
}
