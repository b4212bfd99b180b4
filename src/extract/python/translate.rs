//! Expressions -> [`Expr`]: string literals, f-strings, `%` and `.format` templates, names and
//! attribute chains, `+` and `/`, and the path-building calls of `os.path` and `pathlib`.
//!
//! Translation never evaluates what it cannot see: a name stays a `Var` (with the statement's
//! line, so the resolver picks the binding in force), an environment read stays an `Env`, and
//! anything else becomes a hole named after its source text. Recursion is bounded by
//! [`MAX_DEPTH`]; chains of `+` and `/` are flattened iteratively.

use super::parse::line_of;
use super::strings::{self, FieldKey, Piece, Prefix};
use super::walk::{Ctx, Extractor, MAX_DEPTH, named};
use crate::expr::{Expr, HoleShape, ScopeId};
use crate::extract::FieldExt as _;
use tree_sitter::Node;

/// Longest list literal translated element by element; longer ones are a hole.
const MAX_ALTERNATIVES: usize = 256;
/// How many bindings a glob inlining follows (`pattern = f"{BASE}/*.csv"` through `BASE`).
const MAX_INLINE: u32 = 4;

/// `Concat`, flattened, with adjacent literals merged (`"a" "b"` is one literal).
pub(super) fn concat(parts: Vec<Expr>) -> Expr {
    let mut out: Vec<Expr> = Vec::new();
    for part in parts {
        let items = match part {
            Expr::Concat { parts } => parts,
            other => vec![other],
        };
        for item in items {
            match (out.last_mut(), item) {
                (_, Expr::Lit { text }) if text.is_empty() => {}
                (Some(Expr::Lit { text: last }), Expr::Lit { text }) => last.push_str(&text),
                (Some(Expr::Glob { text: last }), Expr::Glob { text }) => last.push_str(&text),
                (_, item) => out.push(item),
            }
        }
    }
    if out.is_empty() {
        return Expr::lit("");
    }
    Expr::concat(out)
}

/// `Join`, flattened (`a / b / c` and `os.path.join(a, os.path.join(b, c))` are one join).
pub(super) fn join(parts: Vec<Expr>) -> Expr {
    let mut out = Vec::new();
    for part in parts {
        match part {
            Expr::Join { parts } => out.extend(parts),
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return Expr::lit(".");
    }
    Expr::join(out)
}

/// `Alt`, flattened and without repeated options; one option is itself.
pub(super) fn alt(options: Vec<Expr>) -> Expr {
    let mut out: Vec<Expr> = Vec::new();
    for option in options {
        let items = match option {
            Expr::Alt { options } => options,
            other => vec![other],
        };
        for item in items {
            if !out.contains(&item) {
                out.push(item);
            }
        }
    }
    match out.len() {
        0 => Expr::hole("empty"),
        1 => out.pop().unwrap_or_else(|| Expr::hole("empty")),
        _ => Expr::Alt { options: out },
    }
}

/// A date hole: `{day:%Y-%m-%d}`, `day.strftime(fmt)`, `day.isoformat()`.
pub(super) fn strftime_hole(label: impl Into<String>, format: impl Into<String>) -> Expr {
    Expr::Hole {
        label: label.into().into(),
        shape: HoleShape::Strftime {
            format: format.into().into(),
        },
    }
}

/// The expression's literal text read as a glob (`glob.glob`, `Path.glob` patterns). Without
/// `recursive`, `**` means `*` (as in `glob.glob` without `recursive=True`).
pub(super) fn globify(expr: Expr, recursive: bool) -> Expr {
    let fix = |text: String| {
        if recursive {
            return text;
        }
        let mut text = text;
        while text.contains("**") {
            text = text.replace("**", "*");
        }
        text
    };
    match expr {
        Expr::Lit { text } | Expr::Glob { text } => Expr::Glob {
            text: fix(text.to_string()).into(),
        },
        Expr::Concat { parts } => {
            concat(parts.into_iter().map(|p| globify(p, recursive)).collect())
        }
        Expr::Join { parts } => join(parts.into_iter().map(|p| globify(p, recursive)).collect()),
        Expr::Alt { options } => alt(options.into_iter().map(|p| globify(p, recursive)).collect()),
        other => other,
    }
}

/// Whether a literal in the expression holds glob syntax.
fn has_glob_meta(expr: &Expr) -> bool {
    match expr {
        Expr::Lit { text } => text.contains(['*', '?', '[']),
        Expr::Concat { parts } | Expr::Join { parts } => parts.iter().any(has_glob_meta),
        Expr::Alt { options } => options.iter().any(has_glob_meta),
        _ => false,
    }
}

/// `~` and `~/x` as `expanduser` reads them: the home directory, from `$HOME`.
pub(super) fn expand_home(expr: Expr) -> Expr {
    let home = || Expr::Env {
        name: "HOME".to_string().into(),
        default: None,
    };
    match expr {
        Expr::Lit { text } if text == "~" => home(),
        Expr::Lit { text } if text.starts_with("~/") => {
            join(vec![home(), Expr::lit(text.trim_start_matches("~/"))])
        }
        Expr::Concat { mut parts } if !parts.is_empty() => {
            let first = expand_home(parts.remove(0));
            parts.insert(0, first);
            concat(parts)
        }
        Expr::Join { mut parts } if !parts.is_empty() => {
            let first = expand_home(parts.remove(0));
            parts.insert(0, first);
            join(parts)
        }
        other => other,
    }
}

impl<'a> Extractor<'a> {
    /// Translates an expression node into an [`Expr`].
    pub fn translate(&mut self, node: Node<'_>, ctx: &Ctx) -> Expr {
        self.tr(node, ctx, ctx.depth)
    }

    pub(super) fn tr(&mut self, node: Node<'_>, ctx: &Ctx, depth: u32) -> Expr {
        if !self.work.spend(|| line_of(node)) {
            return Expr::hole(self.label(node));
        }
        if depth > MAX_DEPTH {
            self.warn_deep(line_of(node));
            return Expr::hole(self.label(node));
        }
        let d = depth + 1;
        match node.kind_name() {
            "string" => self.string(node, ctx, d),
            "concatenated_string" => {
                let parts = named(node)
                    .into_iter()
                    .map(|s| self.tr(s, ctx, d))
                    .collect();
                concat(parts)
            }
            "identifier" => self.name_expr(node, ctx),
            "attribute" => self.attribute(node, ctx, d),
            "call" => self.call_value(node, ctx, d),
            "binary_operator" => self.binary(node, ctx, d),
            "parenthesized_expression" | "await" => match named(node).first() {
                Some(inner) => self.tr(*inner, ctx, d),
                None => Expr::hole(self.label(node)),
            },
            "conditional_expression" => {
                let parts = named(node);
                match (parts.first(), parts.get(2)) {
                    (Some(a), Some(b)) => {
                        let options = vec![self.tr(*a, ctx, d), self.tr(*b, ctx, d)];
                        alt(options)
                    }
                    _ => Expr::hole(self.label(node)),
                }
            }
            "boolean_operator" => self.boolean(node, ctx, d),
            "list" | "tuple" | "set" | "expression_list" => self.sequence(node, ctx, d),
            "subscript" => self.subscript(node, ctx, d),
            "integer" | "float" => Expr::lit(self.text(node)),
            "named_expression" => match node.field("value") {
                Some(value) => self.tr(value, ctx, d),
                None => Expr::hole(self.label(node)),
            },
            _ => Expr::hole(self.label(node)),
        }
    }

    // ---- names ---------------------------------------------------------------------------

    /// A `Var` for a dotted name used in this statement, or the value of a comprehension or
    /// lambda variable that is only visible here.
    pub fn var(&self, name: &str, ctx: &Ctx) -> Expr {
        if let Some(value) = ctx.locals.get(name) {
            return value.clone();
        }
        let root = name.split(['.', '[']).next().unwrap_or(name);
        if root != name && ctx.locals.contains_key(root) {
            return Expr::hole(name.rsplit('.').next().unwrap_or(name));
        }
        Expr::Var {
            name: name.to_string().into(),
            scope: ctx.scope,
            line: ctx.line,
            env_fallback: false,
            default: None,
        }
    }

    /// The `Var` for an identifier or attribute chain, `self.` spelled for the method's first
    /// parameter.
    pub fn var_of(&self, node: Node<'_>, ctx: &Ctx) -> Option<Expr> {
        let dotted = self.dotted(node)?;
        Some(self.var(&self.normalize_self(&dotted, ctx), ctx))
    }

    /// The scope and name an assignment to `target` (an attribute) binds: `self.x` in a
    /// method belongs to its class, `obj.x` to the enclosing scope.
    pub fn attribute_target(&self, target: Node, ctx: &Ctx) -> Option<(ScopeId, String)> {
        let dotted = self.dotted(target)?;
        let name = self.normalize_self(&dotted, ctx);
        let scope = match (name.starts_with("self."), ctx.self_class) {
            (true, Some(class)) => class,
            _ => ctx.scope,
        };
        Some((scope, name))
    }

    /// `self.x` for the method's first parameter, whatever it is called.
    pub fn normalize_self(&self, dotted: &str, ctx: &Ctx) -> String {
        if let Some(self_name) = &ctx.self_name {
            let own: &str = self_name;
            if dotted == own {
                return "self".to_string();
            }
            if let Some(rest) = dotted.strip_prefix(own).and_then(|r| r.strip_prefix('.')) {
                return format!("self.{rest}");
            }
        }
        dotted.to_string()
    }

    /// `a.b.c` for an identifier or a chain of attributes on one, else `None`.
    pub fn dotted(&self, node: Node<'_>) -> Option<String> {
        // Most chains are written as they are named (`os.path.join`): their text is the answer,
        // without two field lookups per attribute.
        if node.kind_name() == "attribute"
            && let Some(plain) = plain_dotted(self.text(node))
        {
            return Some(plain.to_string());
        }
        self.dotted_by_nodes(node)
    }

    /// [`Extractor::dotted`] read from the nodes of the chain, whatever its text.
    pub(super) fn dotted_by_nodes(&self, node: Node<'_>) -> Option<String> {
        let mut parts = Vec::new();
        let mut current = node;
        loop {
            match current.kind_name() {
                "identifier" => {
                    parts.push(self.text(current));
                    break;
                }
                "attribute" => {
                    parts.push(self.text(current.field("attribute")?));
                    current = current.field("object")?;
                }
                _ => return None,
            }
            if parts.len() > 64 {
                return None;
            }
        }
        parts.reverse();
        Some(parts.join("."))
    }

    fn name_expr(&self, node: Node<'_>, ctx: &Ctx) -> Expr {
        let name = self.text(node);
        // The file itself, as a repository-relative path: `Path(__file__).parent / "data"` is
        // a directory of the repository (compared only with paths of the same repository).
        if name == "__file__" && !self.file_path.is_empty() && !self.is_variable(name, ctx) {
            return Expr::lit(self.file_path.clone());
        }
        if name == "__file__" {
            return Expr::path_hole("__file__");
        }
        self.var(name, ctx)
    }

    fn attribute(&mut self, node: Node<'_>, ctx: &Ctx, d: u32) -> Expr {
        let attr = node.field("attribute").map(|a| self.text(a)).unwrap_or("");
        if attr == "parent"
            && let Some(object) = node.field("object")
        {
            return Expr::Parent {
                of: Box::new(self.tr(object, ctx, d)),
            };
        }
        let Some(dotted) = self.dotted(node) else {
            return Expr::hole(attr);
        };
        match self.qualify(&dotted).map(|q| q.0).as_deref() {
            Some("os.sep" | "os.path.sep" | "posixpath.sep") => return Expr::lit("/"),
            Some("os.curdir" | "os.path.curdir") => return Expr::lit("."),
            Some("os.pardir" | "os.path.pardir") => return Expr::lit(".."),
            _ => {}
        }
        self.var(&self.normalize_self(&dotted, ctx), ctx)
    }

    /// `os.environ["X"]` is an environment read; `resp["QueueUrl"]` on a modelled call's
    /// result (or a name bound to one) is that call's value; anything else is a hole.
    fn subscript(&mut self, node: Node<'_>, ctx: &Ctx, d: u32) -> Expr {
        let value = node.field("value");
        let key = node.field("subscript");
        if let (Some(value), Some(key)) = (value, key)
            && let Some(text) = self.literal_string(key, ctx)
        {
            if let Some(dotted) = self.dotted(value)
                && self.models.is_environ(&self.qualified(&dotted))
            {
                return Expr::Env {
                    name: text.into(),
                    default: None,
                };
            }
            if self.models.is_value_key(&text)
                && matches!(value.kind_name(), "identifier" | "attribute" | "call")
            {
                return self.tr(value, ctx, d);
            }
        }
        // `p.parents[1]`: the parent's parent.
        if let (Some(value), Some(key)) = (value, key)
            && value.kind_name() == "attribute"
            && key.kind_name() == "integer"
            && value
                .field("attribute")
                .is_some_and(|a| self.text(a) == "parents")
            && let Some(object) = value.field("object")
            && let Ok(n) = self.text(key).parse::<u8>()
            && n < 8
        {
            let mut out = self.tr(object, ctx, d);
            for _ in 0..=n {
                out = Expr::Parent { of: Box::new(out) };
            }
            return out;
        }
        // `CFG["paths"]["out"]`: an entry of a configuration object (see `structures.rs`).
        if let Some(name) = self.item_name(node, ctx) {
            return self.var(&name, ctx);
        }
        Expr::hole(self.label(node))
    }

    // ---- operators -----------------------------------------------------------------------

    fn binary(&mut self, node: Node<'_>, ctx: &Ctx, d: u32) -> Expr {
        let op = self.operator(node);
        match op {
            "+" | "/" => {
                let operands = self.chain(node, op);
                if operands
                    .iter()
                    .any(|o| matches!(o.kind_name(), "integer" | "float"))
                {
                    return Expr::hole(self.label(node));
                }
                let parts = operands.into_iter().map(|o| self.tr(o, ctx, d)).collect();
                if op == "+" {
                    concat(parts)
                } else {
                    join(parts)
                }
            }
            "%" => match (node.field("left"), node.field("right")) {
                (Some(left), Some(right))
                    if matches!(left.kind_name(), "string" | "concatenated_string") =>
                {
                    self.printf(left, right, ctx, d)
                }
                _ => Expr::hole(self.label(node)),
            },
            _ => Expr::hole(self.label(node)),
        }
    }

    fn operator(&self, node: Node<'_>) -> &'a str {
        node.field("operator").map(|o| self.text(o)).unwrap_or("")
    }

    /// The operands of a left-nested chain of one operator (`a / b / c`), without recursion.
    fn chain<'t>(&self, node: Node<'t>, op: &str) -> Vec<Node<'t>> {
        let mut operands = Vec::new();
        let mut current = node;
        loop {
            if let Some(right) = current.field("right") {
                operands.push(right);
            }
            match current.field("left") {
                Some(left)
                    if left.kind_name() == "binary_operator" && self.operator(left) == op =>
                {
                    current = left;
                }
                Some(left) => {
                    operands.push(left);
                    break;
                }
                None => break,
            }
        }
        operands.reverse();
        operands
    }

    /// `x or y`: an unset environment variable with a fallback is an `Env` with a default;
    /// anything else is one of the two.
    fn boolean(&mut self, node: Node<'_>, ctx: &Ctx, d: u32) -> Expr {
        let (Some(left), Some(right)) = (node.field("left"), node.field("right")) else {
            return Expr::hole(self.label(node));
        };
        if self.operator(node) != "or" {
            return Expr::hole(self.label(node));
        }
        let left = self.tr(left, ctx, d);
        let right = self.tr(right, ctx, d);
        match left {
            Expr::Env {
                name,
                default: None,
            } => Expr::Env {
                name,
                default: Some(Box::new(right)),
            },
            left => alt(vec![left, right]),
        }
    }

    fn sequence(&mut self, node: Node<'_>, ctx: &Ctx, d: u32) -> Expr {
        let items = named(node);
        if items.len() > MAX_ALTERNATIVES
            || items
                .iter()
                .any(|i| matches!(i.kind_name(), "list_splat" | "parenthesized_list_splat"))
        {
            return Expr::hole(self.label(node));
        }
        let options = items
            .into_iter()
            .filter(|i| i.kind_name() != "comment")
            .map(|i| self.tr(i, ctx, d))
            .collect();
        alt(options)
    }

    // ---- strings -------------------------------------------------------------------------

    /// A string literal or f-string: literal parts decoded, interpolations translated.
    fn string(&mut self, node: Node<'_>, ctx: &Ctx, d: u32) -> Expr {
        let mut prefix = Prefix::default();
        let mut pos = node.start_byte();
        let mut end = node.end_byte();
        let mut parts = Vec::new();
        let children: Vec<Node<'_>> = node.children_vec();
        for child in children {
            match child.kind_name() {
                "string_start" => {
                    prefix = Prefix::parse(self.text(child));
                    pos = child.end_byte();
                }
                "string_end" => end = child.start_byte(),
                "interpolation" => {
                    parts.push(Expr::lit(strings::decode_literal(
                        self.slice(pos, child.start_byte()),
                        prefix,
                    )));
                    parts.push(self.interpolation(child, ctx, d));
                    pos = child.end_byte();
                }
                _ => {}
            }
        }
        parts.push(Expr::lit(strings::decode_literal(
            self.slice(pos, end),
            prefix,
        )));
        concat(parts)
    }

    fn slice(&self, start: usize, end: usize) -> &str {
        self.src.get(start..end.max(start)).unwrap_or("")
    }

    /// `{x}`, `{day:%Y-%m-%d}` (a date hole), `{n:03d}` (a hole), `{x!r}` (a hole).
    fn interpolation(&mut self, node: Node<'_>, ctx: &Ctx, d: u32) -> Expr {
        let Some(expr) = node.field("expression") else {
            return Expr::hole("value");
        };
        if let Some(spec) = node.field("format_specifier") {
            let label = self.value_label(expr);
            let text = self.text(spec);
            let text = text.strip_prefix(':').unwrap_or(text);
            if named(spec).iter().any(|c| c.kind_name() != "comment") {
                return Expr::hole(label);
            }
            if text.contains('%') {
                return strftime_hole(label, text);
            }
            if !text.is_empty() {
                return Expr::hole(label);
            }
        }
        if let Some(conversion) = node.field("type_conversion")
            && self.text(conversion) != "!s"
        {
            return Expr::hole(self.value_label(expr));
        }
        self.tr(expr, ctx, d)
    }

    /// `"%s/%s.csv" % (a, b)`, `"%(day)s" % {"day": d}`.
    fn printf(&mut self, left: Node<'_>, right: Node<'_>, ctx: &Ctx, d: u32) -> Expr {
        let template = self.tr(left, ctx, d);
        let Some(pieces) = template.as_lit().and_then(strings::parse_printf) else {
            return Expr::hole(self.label(left));
        };
        let right = match right.kind_name() {
            "parenthesized_expression" => named(right).first().copied().unwrap_or(right),
            _ => right,
        };
        let positional = match right.kind_name() {
            "tuple" => named(right),
            "dictionary" => Vec::new(),
            _ => vec![right],
        };
        let mut keyed = Vec::new();
        // `"%(a)s/%(b)s" % d` with `d` a name: its entries.
        let dict_name = match right.kind_name() {
            "identifier" | "attribute" => self.followable(right, ctx),
            _ => None,
        };
        if right.kind_name() == "dictionary" {
            for pair in named(right) {
                if let (Some(k), Some(v)) = (pair.field("key"), pair.field("value"))
                    && let Some(key) = self.literal_string(k, ctx)
                {
                    keyed.push((key, v));
                }
            }
        }
        let mut parts = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Lit(text) => parts.push(Expr::lit(text)),
                Piece::Field(field) => {
                    let arg = match &field.key {
                        FieldKey::Index(i) => positional.get(*i).copied(),
                        FieldKey::Name(n) => keyed.iter().find(|(k, _)| k == n).map(|(_, v)| *v),
                    };
                    let entry = match (&field.key, &dict_name) {
                        (FieldKey::Name(n), Some(dict)) if arg.is_none() => {
                            Some(self.var(&format!("{dict}[{n}]"), ctx))
                        }
                        _ => None,
                    };
                    parts.push(match (arg, entry) {
                        (_, Some(entry)) if strings::printf_is_plain(&field) => entry,
                        (Some(arg), _) if strings::printf_is_plain(&field) => self.tr(arg, ctx, d),
                        (Some(arg), _) => Expr::hole(self.value_label(arg)),
                        (None, _) => Expr::hole(field_label(&field.key)),
                    });
                }
            }
        }
        concat(parts)
    }

    /// `"{}/{name:%Y}".format(a, name=d)`.
    pub(super) fn format_call(
        &mut self,
        template: Node<'_>,
        args: &super::calls::Args<'_>,
        ctx: &Ctx,
        d: u32,
    ) -> Option<Expr> {
        let template = self.tr(template, ctx, d);
        let pieces = strings::parse_brace_format(template.as_lit()?)?;
        let mut parts = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Lit(text) => parts.push(Expr::lit(text)),
                Piece::Field(field) => {
                    let arg = match &field.key {
                        FieldKey::Index(i) => args.positional.get(*i).copied(),
                        FieldKey::Name(n) => args.keyword(n),
                    };
                    // `.format(**d)` with `d` a name: its entry.
                    if arg.is_none()
                        && field.is_plain()
                        && let FieldKey::Name(n) = &field.key
                        && let [spread] = args.dict_splats.as_slice()
                        && let Some(dict) = spread
                            .named_child(0)
                            .and_then(|inner| self.followable(inner, ctx))
                    {
                        parts.push(self.var(&format!("{dict}[{n}]"), ctx));
                        continue;
                    }
                    parts.push(match arg {
                        Some(arg) if field.is_plain() => self.tr(arg, ctx, d),
                        Some(arg) if !field.indirect && field.spec.contains('%') => {
                            strftime_hole(self.value_label(arg), field.spec.clone())
                        }
                        Some(arg) => Expr::hole(self.value_label(arg)),
                        None => Expr::hole(field_label(&field.key)),
                    });
                }
            }
        }
        Some(concat(parts))
    }

    /// The text of a string literal, or of a name bound to one earlier in this file.
    pub fn literal_string(&mut self, node: Node<'_>, ctx: &Ctx) -> Option<String> {
        match node.kind_name() {
            "string" | "concatenated_string" | "parenthesized_expression" => {
                self.translate(node, ctx).as_lit().map(str::to_string)
            }
            "identifier" => {
                let value = self.local_value(self.text(node), ctx.scope, ctx.line)?;
                value.as_lit().map(str::to_string)
            }
            _ => None,
        }
    }

    /// The value last bound to a name before a line, in a scope or the scopes enclosing it
    /// (any line there: a module constant is usually set before the function runs).
    pub fn local_value(&self, name: &str, scope: ScopeId, line: u32) -> Option<&Expr> {
        let mut current = Some(scope);
        let mut first = true;
        while let Some(s) = current {
            let found = self.bound_indexes(s, name).iter().rev().find_map(|i| {
                let b = self.facts.bindings.get(*i)?;
                (!first || b.line < line).then_some(&*b.value)
            });
            if found.is_some() {
                return found;
            }
            first = false;
            current = self.facts.scopes.get(s).and_then(|sc| sc.parent);
        }
        None
    }

    /// A glob argument with the names it is built from inlined when their values hold glob
    /// syntax (`pattern = os.path.join(D, "*.csv"); glob.glob(pattern)`), so that the literal
    /// text becomes glob text that a resolver would otherwise keep literal.
    pub(super) fn inline_globs(&self, expr: Expr, depth: u32) -> Expr {
        match expr {
            Expr::Var {
                ref name,
                scope,
                line,
                ..
            } if depth < MAX_INLINE => match self.local_value(name, scope, line) {
                Some(value) if has_glob_meta(value) || self.inlines(value, depth + 1) => {
                    self.inline_globs(value.clone(), depth + 1)
                }
                _ => expr,
            },
            Expr::Concat { parts } => concat(
                parts
                    .into_iter()
                    .map(|p| self.inline_globs(p, depth))
                    .collect(),
            ),
            Expr::Join { parts } => join(
                parts
                    .into_iter()
                    .map(|p| self.inline_globs(p, depth))
                    .collect(),
            ),
            Expr::Alt { options } => alt(options
                .into_iter()
                .map(|p| self.inline_globs(p, depth))
                .collect()),
            other => other,
        }
    }

    /// Whether inlining would reach glob syntax through the names inside `expr`.
    fn inlines(&self, expr: &Expr, depth: u32) -> bool {
        if depth >= MAX_INLINE {
            return false;
        }
        match expr {
            Expr::Var {
                name, scope, line, ..
            } => self
                .local_value(name, *scope, *line)
                .is_some_and(|v| has_glob_meta(v) || self.inlines(v, depth + 1)),
            Expr::Concat { parts } | Expr::Join { parts } => {
                parts.iter().any(|p| self.inlines(p, depth))
            }
            Expr::Alt { options } => options.iter().any(|p| self.inlines(p, depth)),
            _ => false,
        }
    }

    // ---- labels --------------------------------------------------------------------------

    /// A short name for a hole, from the source text: the variable, attribute or call name.
    pub fn label(&self, node: Node<'_>) -> String {
        match node.kind_name() {
            "identifier" => self.text(node).to_string(),
            "attribute" => self
                .dotted(node)
                .unwrap_or_else(|| self.attr_name(node).to_string()),
            "call" => match node.field("function") {
                Some(f) if matches!(f.kind_name(), "identifier" | "attribute") => {
                    match self.dotted(f) {
                        Some(d) => d,
                        None => self.attr_name(f).to_string(),
                    }
                }
                _ => "call".to_string(),
            },
            "subscript" => {
                let text = self.text(node);
                if text.len() <= 40 && !text.contains('\n') {
                    return text.to_string();
                }
                // `a[i][j]...`: named after the innermost value, found without recursion.
                let mut value = node;
                while value.kind_name() == "subscript" {
                    match value.field("value") {
                        Some(v) => value = v,
                        None => return "item".to_string(),
                    }
                }
                match value.kind_name() {
                    "identifier" | "attribute" => self
                        .dotted(value)
                        .unwrap_or_else(|| self.attr_name(value).to_string()),
                    _ => "item".to_string(),
                }
            }
            kind => {
                let text = self.text(node);
                if !text.is_empty() && text.len() <= 40 && !text.contains('\n') {
                    text.to_string()
                } else {
                    kind.to_string()
                }
            }
        }
    }

    fn attr_name(&self, node: Node<'_>) -> &'a str {
        node.field("attribute")
            .map(|a| self.text(a))
            .unwrap_or("value")
    }

    /// The label of a value inside a template or a date: the last name of a variable or
    /// attribute (`self.day` -> `day`), `date` for `now()`/`today()`.
    pub fn value_label(&self, node: Node<'_>) -> String {
        match node.kind_name() {
            "identifier" => self.text(node).to_string(),
            "attribute" => self.attr_name(node).to_string(),
            "call" => {
                let name = node
                    .field("function")
                    .map(|f| self.label(f))
                    .unwrap_or_default();
                let last = name.rsplit('.').next().unwrap_or("");
                match last {
                    "now" | "today" | "utcnow" | "fromtimestamp" | "date" | "" => {
                        "date".to_string()
                    }
                    other => other.to_string(),
                }
            }
            _ => self.label(node),
        }
    }
}

fn field_label(key: &FieldKey) -> String {
    match key {
        FieldKey::Index(i) => format!("arg{i}"),
        FieldKey::Name(n) => n.clone(),
    }
}

/// `text` when it can only be an attribute chain on a name: ASCII identifiers joined by single
/// dots, none a keyword (`None.x`, `True.real` are attributes of constants, not of names) and
/// at most as many as [`Extractor::dotted`] follows. Anything else (spaces, comments, calls,
/// non-ASCII names) is left to the walk over the nodes.
pub(super) fn plain_dotted(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut segments = 0;
    let mut start = 0;
    // One pass: each segment is checked when its dot (or the end) is reached.
    for at in 0..=bytes.len() {
        let byte = bytes.get(at).copied();
        if byte.is_some_and(|b| b != b'.') {
            continue;
        }
        let segment = text.get(start..at)?;
        if !crate::extract::formats::common::is_ascii_identifier(segment)
            || is_not_plain_name(segment.as_bytes())
        {
            return None;
        }
        segments += 1;
        start = at + 1;
    }
    (segments <= 64).then_some(text)
}

/// Words that are not a plain identifier everywhere in a chain: the keywords, the constants,
/// and the soft keywords that begin statements of their own (`print`, `exec` in the grammar's
/// Python 2 forms, `async`, `await`).
fn is_not_plain_name(word: &[u8]) -> bool {
    matches!(
        word,
        b"False"
            | b"None"
            | b"True"
            | b"and"
            | b"as"
            | b"assert"
            | b"async"
            | b"await"
            | b"break"
            | b"class"
            | b"continue"
            | b"def"
            | b"del"
            | b"elif"
            | b"else"
            | b"except"
            | b"exec"
            | b"finally"
            | b"for"
            | b"from"
            | b"global"
            | b"if"
            | b"import"
            | b"in"
            | b"is"
            | b"lambda"
            | b"nonlocal"
            | b"not"
            | b"or"
            | b"pass"
            | b"print"
            | b"raise"
            | b"return"
            | b"try"
            | b"while"
            | b"with"
            | b"yield"
    )
}
