//! Translation of a Rust expression into the language-neutral [`Expr`], without evaluating
//! anything: names stay [`Expr::Var`]s, environment reads stay [`Expr::Env`]s, and what cannot
//! be modelled is an [`Expr::Hole`] labelled after what it stands for.
//!
//! Conversions that preserve the path text (`String::from`, `Path::new`, `.to_string()`,
//! `&x`, `x?`, `.unwrap()`, ...) are transparent. Recursion is bounded by [`MAX_EXPR_DEPTH`], so
//! the resulting expressions stay small for the resolver too.

use super::format::{self, ArgRef, Piece};
use super::walk::{Walker, call_path, expr_ident, line_of, start_line};
use crate::expr::{Expr, HoleShape};
use crate::model::Mode;
use crate::rules::models::rust::{PathPosition, ReachKind};
use syn::punctuated::Punctuated;

/// Deeper expressions become holes: no real path expression nests this far.
const MAX_EXPR_DEPTH: usize = 48;

/// Larger arrays and matches are not turned into alternatives.
const MAX_OPTIONS: usize = 256;

/// Methods whose result names the same path or text as their receiver.
const TRANSPARENT_METHODS: &[&str] = &[
    "as_deref",
    "as_os_str",
    "as_path",
    "as_ref",
    "as_str",
    "borrow",
    "clone",
    "display",
    "into",
    "into_boxed_path",
    "into_os_string",
    "into_owned",
    "into_path_buf",
    "into_string",
    "ok",
    "path",
    "to_os_string",
    "to_owned",
    "to_path_buf",
    "to_str",
    "to_string",
    "to_string_lossy",
    "unwrap",
    "unwrap_unchecked",
];

/// Iterator adaptors that select elements without changing them (for `for` loops).
const SELECTING_ADAPTORS: &[&str] = &[
    "by_ref",
    "cloned",
    "copied",
    "expect",
    "filter",
    "filter_map",
    "flatten",
    "into_iter",
    "iter",
    "peekable",
    "rev",
    "skip",
    "take",
    "unwrap",
];

/// `Type::function` calls that return their single argument's text.
const TRANSPARENT_CONSTRUCTORS: &[(&str, &str)] = &[
    ("PathBuf", "from"),
    ("Path", "new"),
    ("String", "from"),
    ("OsString", "from"),
    ("OsStr", "new"),
    ("Utf8PathBuf", "from"),
    ("Utf8Path", "new"),
    ("Cow", "from"),
    ("Box", "from"),
    ("Arc", "from"),
    ("Rc", "from"),
    ("From", "from"),
    ("Into", "into"),
    ("", "Some"),
    ("", "Ok"),
];

/// Lazily initialised statics whose value is their closure's result.
const LAZY_TYPES: &[&str] = &["LazyLock", "Lazy", "LazyCell"];

/// Clock types whose `now()` is formatted into dates.
const CLOCKS: &[&str] = &["Utc", "Local", "OffsetDateTime", "SystemTime", "Zoned"];

/// Macros that never return (an arm or branch ending in one adds no value).
const DIVERGING_MACROS: &[&str] = &["panic", "unreachable", "todo", "unimplemented", "bail"];

impl Walker<'_> {
    /// The expression a Rust expression stands for, as a path or text.
    pub(super) fn convert(&self, expr: &syn::Expr) -> Expr {
        self.value(expr, 0)
    }

    fn value(&self, expr: &syn::Expr, depth: usize) -> Expr {
        if depth > MAX_EXPR_DEPTH {
            return Expr::hole("expression");
        }
        let depth = depth + 1;
        match expr {
            syn::Expr::Lit(e) => literal(&e.lit),
            syn::Expr::Paren(e) => self.value(&e.expr, depth),
            syn::Expr::Group(e) => self.value(&e.expr, depth),
            syn::Expr::Reference(e) => self.value(&e.expr, depth),
            syn::Expr::Unary(e) if matches!(e.op, syn::UnOp::Deref(_)) => {
                self.value(&e.expr, depth)
            }
            syn::Expr::Try(e) => self.value(&e.expr, depth),
            syn::Expr::Await(e) => self.value(&e.base, depth),
            syn::Expr::Path(e) => self.path_value(e),
            syn::Expr::Field(e) => self.field_value(e),
            syn::Expr::Macro(e) => self.macro_value(&e.mac, depth),
            syn::Expr::Call(e) => self.call_value(e, depth),
            // `get_queue_url().queue_name(n)...queue_url()` stands for the queue's name.
            syn::Expr::MethodCall(e) => self
                .queue_name_value(expr)
                .unwrap_or_else(|| self.method_value(e, depth)),
            syn::Expr::Binary(e) if matches!(e.op, syn::BinOp::Add(_)) => self.sum_value(e, depth),
            syn::Expr::Array(e) => self.alternatives(e.elems.iter(), depth),
            syn::Expr::If(e) => self.if_value(e, depth),
            syn::Expr::Match(e) => self.match_value(e, depth),
            syn::Expr::Block(e) => self.block_value(&e.block, depth),
            syn::Expr::Unsafe(e) => self.block_value(&e.block, depth),
            other => Expr::hole(kind_label(other)),
        }
    }

    /// `x`, `config::OUT_DIR`, `Self::DIR` (written with the impl's type).
    fn path_value(&self, expr: &syn::ExprPath) -> Expr {
        if expr.qself.is_some() {
            return Expr::hole("path");
        }
        let mut names: Vec<String> = expr
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if names.first().is_some_and(|n| n == "Self")
            && let Some(self_type) = &self.self_type
        {
            names[0] = self_type.clone();
        }
        self.var(names.join("::"), start_line_of_path(expr))
    }

    /// `self.dir`, `config.paths.out`: a dotted name; other field reads are holes.
    fn field_value(&self, expr: &syn::ExprField) -> Expr {
        let mut members = vec![member_name(&expr.member)];
        let mut base = &*expr.base;
        loop {
            match base {
                syn::Expr::Field(f) if members.len() < 8 => {
                    members.push(member_name(&f.member));
                    base = &f.base;
                }
                syn::Expr::Paren(p) => base = &p.expr,
                _ => break,
            }
        }
        match expr_ident(base) {
            Some(root) => {
                members.reverse();
                if let Some(field) = self.typed_field(&root, &members, start_line(base)) {
                    return field;
                }
                members.reverse();
                members.push(root);
                members.reverse();
                self.var(members.join("."), start_line(base))
            }
            None => Expr::hole(member_name(&expr.member)),
        }
    }

    // --- macros ------------------------------------------------------------------------------

    fn macro_value(&self, mac: &syn::Macro, depth: usize) -> Expr {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let args =
            || mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated);
        match name.as_str() {
            "format" | "format_args" | "formatcp" => match args() {
                Ok(args) => self.format_value(&args, depth),
                Err(_) => Expr::hole("format!"),
            },
            "concat" => match args() {
                Ok(args) => concat(args.iter().map(|a| self.value(a, depth)).collect()),
                Err(_) => Expr::hole("concat!"),
            },
            "env" | "option_env" => match args()
                .ok()
                .as_ref()
                .and_then(|a| a.first())
                .and_then(string_literal)
            {
                Some(variable) => Expr::Env {
                    name: variable.into(),
                    default: None,
                },
                None => Expr::hole(format!("{name}!")),
            },
            "vec" => match args() {
                Ok(args) if !args.is_empty() => self.alternatives(args.iter(), depth),
                _ => Expr::hole("vec!"),
            },
            _ => Expr::hole(format!("{name}!")),
        }
    }

    /// `format!("{}/{day}/{0}.csv", dir, name = x)`: literal text and the arguments in place.
    fn format_value(&self, args: &Punctuated<syn::Expr, syn::Token![,]>, depth: usize) -> Expr {
        let Some((template, line)) = args
            .first()
            .and_then(|a| string_literal(a).map(|s| (s, start_line(a))))
        else {
            return Expr::hole("format!");
        };
        let Some(pieces) = format::parse(&template) else {
            return Expr::hole("format!");
        };
        let mut positional = Vec::new();
        let mut named = Vec::new();
        for arg in args.iter().skip(1) {
            match arg {
                syn::Expr::Assign(a) if expr_ident(&a.left).is_some() => {
                    named.push((expr_ident(&a.left).unwrap_or_default(), &*a.right));
                }
                other => positional.push(other),
            }
        }
        let mut next = 0;
        let mut parts = Vec::new();
        for piece in pieces {
            let placeholder = match piece {
                Piece::Text(text) => {
                    parts.push(Expr::lit(text));
                    continue;
                }
                Piece::Arg(p) => p,
            };
            if placeholder.star_precision {
                next += 1;
            }
            let arg = match &placeholder.arg {
                ArgRef::Next => {
                    next += 1;
                    positional.get(next - 1).map(|e| self.value(e, depth))
                }
                ArgRef::Index(i) => positional.get(*i).map(|e| self.value(e, depth)),
                ArgRef::Name(n) => Some(match named.iter().find(|(name, _)| name == n) {
                    Some((_, e)) => self.value(e, depth),
                    None => self.var(n.clone(), line),
                }),
            };
            parts.push(match arg {
                _ if placeholder.debug => Expr::hole("debug format"),
                Some(arg) => arg,
                None => Expr::hole("format argument"),
            });
        }
        concat(parts)
    }

    // --- calls -------------------------------------------------------------------------------

    fn call_value(&self, call: &syn::ExprCall, depth: usize) -> Expr {
        let Some(segments) = call_path(&call.func) else {
            return Expr::hole("call");
        };
        let models = self.models;
        if let Some((row, _)) = self.lookup(&segments, |p| models.env_getter(p)) {
            return match call.args.iter().nth(row.arg).and_then(string_literal) {
                Some(name) => Expr::Env {
                    name: name.into(),
                    default: None,
                },
                None => Expr::hole("environment variable"),
            };
        }
        if let Some((row, _)) = self.lookup(&segments, |p| models.value(p)) {
            return row.value.clone();
        }
        let function = segments.last().map(String::as_str).unwrap_or_default();
        let owner = match segments.len() {
            0 | 1 => "",
            n => segments[n - 2].as_str(),
        };
        let args: Vec<&syn::Expr> = call.args.iter().collect();
        match args.as_slice() {
            [arg] if TRANSPARENT_CONSTRUCTORS.contains(&(owner, function)) => {
                self.value(arg, depth)
            }
            [arg] if owner == "PathBuf" && function == "from_iter" => match arg {
                syn::Expr::Array(a) => {
                    Expr::join(a.elems.iter().map(|e| self.value(e, depth)).collect())
                }
                _ => Expr::hole("from_iter()"),
            },
            [] if matches!(owner, "PathBuf" | "String" | "OsString") && function == "new" => {
                Expr::lit("")
            }
            [syn::Expr::Closure(c)] if LAZY_TYPES.contains(&owner) && function == "new" => {
                self.value(&c.body, depth)
            }
            [] if CLOCKS.contains(&owner) && matches!(function, "now" | "today") => {
                Expr::hole("now")
            }
            _ => self.call_result(&segments, start_line(&call.func)),
        }
    }

    /// A call the models do not know: a `Var` named after the call, `day_dir()` or
    /// `config::data_dir()`, which the resolver substitutes with the function's result binding.
    fn call_result(&self, segments: &[String], line: u32) -> Expr {
        let mut names = segments.to_vec();
        if names.first().is_some_and(|n| n == "Self")
            && let Some(self_type) = &self.self_type
        {
            names[0] = self_type.clone();
        }
        self.var(format!("{}()", names.join("::")), line)
    }

    fn method_value(&self, call: &syn::ExprMethodCall, depth: usize) -> Expr {
        let method = call.method.to_string();
        let receiver = || self.value(&call.receiver, depth);
        let args: Vec<&syn::Expr> = call.args.iter().collect();
        match (method.as_str(), args.as_slice()) {
            (m, []) if TRANSPARENT_METHODS.contains(&m) => receiver(),
            ("expect", [_]) => receiver(),
            ("unwrap_or" | "or", [default]) => {
                attach_default(receiver(), self.value(default, depth))
            }
            ("unwrap_or_else" | "or_else", [default]) => {
                attach_default(receiver(), self.closure_result(default, depth))
            }
            ("unwrap_or_default", []) => attach_default(receiver(), Expr::lit("")),
            ("map", [f]) => self.mapped(receiver(), f, depth),
            ("join", [separator]) if is_list_literal(&call.receiver) => {
                self.joined_text(&call.receiver, separator, depth)
            }
            // `parts.join("/")` on a list the extractor cannot see: joining a path with a bare
            // separator would be meaningless, so this is text joined with a separator.
            ("join", [separator])
                if string_literal(separator).is_some_and(|s| is_separator(&s)) =>
            {
                Expr::hole("join()")
            }
            ("join", [part]) => self.join(receiver(), self.value(part, depth)),
            ("concat", []) if is_list_literal(&call.receiver) => {
                match list_elements(&call.receiver) {
                    Some(elems) => concat(elems.iter().map(|e| self.value(e, depth)).collect()),
                    None => Expr::hole("concat()"),
                }
            }
            ("parent", []) => Expr::Parent {
                of: Box::new(receiver()),
            },
            ("with_extension", [extension]) => Expr::ReplaceName {
                of: Box::new(receiver()),
                name: Box::new(self.extension(extension)),
                suffix_only: true,
            },
            ("with_file_name", [name]) => Expr::ReplaceName {
                of: Box::new(receiver()),
                name: Box::new(self.value(name, depth)),
                suffix_only: false,
            },
            ("format", [format]) => self.date_value(&call.receiver, format),
            _ if expr_ident(&call.receiver).as_deref() == Some("self") => {
                self.var(format!("self.{method}()"), start_line(&call.receiver))
            }
            // `spool.path(id)` on a value of a known type: that type's method's result.
            _ if let Some(result) = self.typed_method(&call.receiver, &method) => result,
            _ => Expr::hole(format!("{method}()")),
        }
    }

    /// `date.format("%Y-%m-%d")`, `Utc::now().format(..)`: a date of that shape.
    fn date_value(&self, receiver: &syn::Expr, format: &syn::Expr) -> Expr {
        let label = match expr_ident(receiver) {
            Some(name) => name,
            None if matches!(receiver, syn::Expr::Call(_)) => "now".to_string(),
            None => "date".to_string(),
        };
        match string_literal(format) {
            Some(format) if format.contains('%') => Expr::Hole {
                label: label.into(),
                shape: HoleShape::Strftime {
                    format: format.into(),
                },
            },
            _ => Expr::hole(label),
        }
    }

    /// The value a fallback closure (`|_| OUT_DIR.to_string()`) or function returns.
    fn closure_result(&self, f: &syn::Expr, depth: usize) -> Expr {
        match f {
            syn::Expr::Closure(c) => self.value(&c.body, depth),
            syn::Expr::Path(p) => {
                let name = p.path.segments.last().map(|s| s.ident.to_string());
                Expr::hole(format!("{}()", name.unwrap_or_default()))
            }
            other => self.value(other, depth),
        }
    }

    /// `opt.map(|v| PathBuf::from(v).join("x"))`, `.map(PathBuf::from)`: the closure's result
    /// with its parameter replaced by the receiver's value.
    fn mapped(&self, receiver: Expr, f: &syn::Expr, depth: usize) -> Expr {
        match f {
            syn::Expr::Closure(c) if c.inputs.len() == 1 => {
                let body = self.value(&c.body, depth);
                match c.inputs.first().and_then(closure_param) {
                    Some(param) => substitute(body, &param, &receiver),
                    None => body,
                }
            }
            syn::Expr::Path(p) => {
                let names: Vec<String> = p
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                let owner = names.iter().rev().nth(1).map_or("", String::as_str);
                let function = names.last().map_or("", String::as_str);
                let transparent = TRANSPARENT_CONSTRUCTORS.contains(&(owner, function))
                    || TRANSPARENT_METHODS.contains(&function);
                if transparent {
                    receiver
                } else {
                    Expr::hole(format!("{function}()"))
                }
            }
            _ => Expr::hole("map()"),
        }
    }

    /// `["a", "b"].join("/")`: text joined with a separator.
    fn joined_text(&self, list: &syn::Expr, separator: &syn::Expr, depth: usize) -> Expr {
        let Some(elems) = list_elements(list) else {
            return Expr::hole("join()");
        };
        let separator = self.value(separator, depth);
        let mut parts = Vec::new();
        for (i, elem) in elems.iter().enumerate() {
            if i > 0 {
                parts.push(separator.clone());
            }
            parts.push(self.value(elem, depth));
        }
        concat(parts)
    }

    // --- operators and control flow ----------------------------------------------------------

    /// `a + &b + "c"`: the left-leaning chain is walked iteratively, then concatenated.
    fn sum_value(&self, expr: &syn::ExprBinary, depth: usize) -> Expr {
        let mut operands = vec![&*expr.right];
        let mut left = &*expr.left;
        while let syn::Expr::Binary(b) = left {
            if !matches!(b.op, syn::BinOp::Add(_)) || operands.len() > MAX_OPTIONS {
                break;
            }
            operands.push(&b.right);
            left = &b.left;
        }
        operands.push(left);
        operands.reverse();
        concat(operands.iter().map(|e| self.value(e, depth)).collect())
    }

    fn alternatives<'a>(
        &self,
        elems: impl ExactSizeIterator<Item = &'a syn::Expr>,
        depth: usize,
    ) -> Expr {
        if elems.len() > MAX_OPTIONS {
            return Expr::hole("list");
        }
        alt(elems.map(|e| self.value(e, depth)).collect())
    }

    /// `if c { a } else { b }`: either branch's value.
    fn if_value(&self, expr: &syn::ExprIf, depth: usize) -> Expr {
        let Some((_, otherwise)) = &expr.else_branch else {
            return Expr::hole("if");
        };
        let mut options = Vec::new();
        if !block_diverges(&expr.then_branch) {
            options.push(self.block_value(&expr.then_branch, depth));
        }
        if !diverges(otherwise) {
            options.push(self.value(otherwise, depth));
        }
        alt(options)
    }

    fn match_value(&self, expr: &syn::ExprMatch, depth: usize) -> Expr {
        if expr.arms.len() > MAX_OPTIONS {
            return Expr::hole("match");
        }
        let options = expr
            .arms
            .iter()
            .filter(|arm| !diverges(&arm.body))
            .map(|arm| self.value(&arm.body, depth))
            .collect();
        alt(options)
    }

    fn block_value(&self, block: &syn::Block, depth: usize) -> Expr {
        match block.stmts.last() {
            Some(syn::Stmt::Expr(tail, None)) => self.value(tail, depth),
            _ => Expr::hole("block"),
        }
    }

    // --- helpers shared with the walk ------------------------------------------------------

    /// `a.join(b)`: one `Join` for a chain of joins.
    pub(super) fn join(&self, base: Expr, part: Expr) -> Expr {
        match base {
            Expr::Join { mut parts } => {
                parts.push(part);
                Expr::Join { parts }
            }
            base => Expr::Join {
                parts: vec![base, part],
            },
        }
    }

    /// The suffix that `with_extension(e)` / `set_extension(e)` gives: `.e`, or nothing.
    pub(super) fn extension(&self, arg: &syn::Expr) -> Expr {
        match string_literal(arg) {
            Some(ext) if ext.is_empty() => Expr::lit(""),
            Some(ext) => Expr::lit(format!(".{ext}")),
            None => concat(vec![Expr::lit("."), self.convert(arg)]),
        }
    }

    /// The value each iteration of `for x in expr` binds: the elements of a literal list, an
    /// entry of a listed directory, a match of a glob; otherwise what `expr` converts to.
    pub(super) fn iteration_value(&self, expr: &syn::Expr) -> Expr {
        let mut current = expr;
        loop {
            current = match current {
                syn::Expr::Reference(e) => &e.expr,
                syn::Expr::Paren(e) => &e.expr,
                syn::Expr::Try(e) => &e.expr,
                syn::Expr::MethodCall(m)
                    if SELECTING_ADAPTORS.contains(&m.method.to_string().as_str()) =>
                {
                    &m.receiver
                }
                syn::Expr::MethodCall(m) if m.method == "map" && m.args.len() == 1 => {
                    let elements = self.iteration_value(&m.receiver);
                    return match m.args.first() {
                        Some(f) => self.mapped(elements, f, 1),
                        None => elements,
                    };
                }
                _ => break,
            };
        }
        match current {
            syn::Expr::Array(a) => self.alternatives(a.elems.iter(), 0),
            syn::Expr::Call(call) => self
                .listed_entries(call)
                .unwrap_or_else(|| self.convert(current)),
            syn::Expr::MethodCall(m) if m.method == "read_dir" && m.args.is_empty() => {
                self.join(self.convert(&m.receiver), Expr::hole("entry"))
            }
            other => self.convert(other),
        }
    }

    /// The entries a listing call yields: `read_dir(d)` -> `d/{entry}`, `WalkDir::new(d)` ->
    /// `d/{entry...}`, `glob(p)` -> the pattern.
    fn listed_entries(&self, call: &syn::ExprCall) -> Option<Expr> {
        let segments = call_path(&call.func)?;
        let models = self.models;
        let (row, _) = self.lookup(&segments, |p| models.function(p))?;
        let access = row.accesses.iter().find(|a| a.mode == Mode::List)?;
        let PathPosition::Arg(index) = access.at else {
            return None;
        };
        let listed = self.convert(call.args.iter().nth(index)?);
        Some(match (access.glob, access.reach) {
            (true, _) => to_glob(listed),
            (false, ReachKind::Tree) => self.join(listed, Expr::path_hole("entry")),
            (false, _) => self.join(listed, Expr::hole("entry")),
        })
    }

    /// Whether a `let` initialiser makes a `PathBuf` (whose `push` extends a path).
    pub(super) fn looks_like_pathbuf(&self, init: &syn::Expr, value: &Expr) -> bool {
        if matches!(
            value,
            Expr::Join { .. } | Expr::Parent { .. } | Expr::ReplaceName { .. }
        ) {
            return true;
        }
        let mut current = init;
        loop {
            current = match current {
                syn::Expr::Try(e) => &e.expr,
                syn::Expr::Paren(e) => &e.expr,
                syn::Expr::MethodCall(m) => {
                    let method = m.method.to_string();
                    if matches!(
                        method.as_str(),
                        "to_path_buf" | "into_path_buf" | "path" | "canonicalize"
                    ) {
                        return true;
                    }
                    if !TRANSPARENT_METHODS.contains(&method.as_str()) && method != "expect" {
                        return false;
                    }
                    &m.receiver
                }
                syn::Expr::Call(call) => {
                    let Some(segments) = call_path(&call.func) else {
                        return false;
                    };
                    let models = self.models;
                    return segments.iter().any(|s| s == "PathBuf")
                        || self.lookup(&segments, |p| models.value(p)).is_some();
                }
                syn::Expr::Path(_) => {
                    return expr_ident(current).is_some_and(|name| self.is_path_var(&name));
                }
                _ => return false,
            };
        }
    }
}

// --- free helpers ----------------------------------------------------------------------------

/// The line of a path expression's first token.
fn start_line_of_path(expr: &syn::ExprPath) -> u32 {
    match (&expr.path.leading_colon, expr.path.segments.first()) {
        (Some(colon), _) => line_of(colon.spans[0]),
        (None, Some(segment)) => line_of(segment.ident.span()),
        (None, None) => 1,
    }
}

/// A hole's label for an expression that is not modelled: what it is, or `args[1]` for an
/// element of a named collection.
fn kind_label(expr: &syn::Expr) -> String {
    let label = match expr {
        syn::Expr::Index(e) => {
            let index = match &*e.index {
                syn::Expr::Lit(l) => match &l.lit {
                    syn::Lit::Int(i) => i.base10_digits().to_string(),
                    _ => "..".to_string(),
                },
                _ => "..".to_string(),
            };
            return match expr_ident(&e.expr) {
                Some(base) => format!("{base}[{index}]"),
                None => "element".to_string(),
            };
        }
        syn::Expr::Closure(_) => "closure",
        syn::Expr::Tuple(_) => "tuple",
        syn::Expr::Cast(_) => "cast",
        syn::Expr::Struct(_) => "struct",
        syn::Expr::Range(_) => "range",
        syn::Expr::Binary(_) | syn::Expr::Unary(_) => "operation",
        syn::Expr::Loop(_) | syn::Expr::While(_) | syn::Expr::ForLoop(_) => "loop",
        _ => "expression",
    };
    label.to_string()
}

fn member_name(member: &syn::Member) -> String {
    match member {
        syn::Member::Named(ident) => ident.to_string(),
        syn::Member::Unnamed(index) => index.index.to_string(),
    }
}

/// A literal's text (numbers and booleans as written, byte strings decoded lossily).
fn literal(lit: &syn::Lit) -> Expr {
    match lit {
        syn::Lit::Str(s) => Expr::lit(s.value()),
        syn::Lit::ByteStr(s) => Expr::lit(String::from_utf8_lossy(&s.value())),
        syn::Lit::CStr(s) => Expr::lit(String::from_utf8_lossy(s.value().to_bytes())),
        syn::Lit::Char(c) => Expr::lit(c.value().to_string()),
        syn::Lit::Int(i) => Expr::lit(i.base10_digits()),
        syn::Lit::Float(f) => Expr::lit(f.base10_digits()),
        syn::Lit::Bool(b) => Expr::lit(b.value().to_string()),
        _ => Expr::hole("literal"),
    }
}

/// The text of a string literal expression.
fn string_literal(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Lit(l) => match &l.lit {
            syn::Lit::Str(s) => Some(s.value()),
            _ => None,
        },
        syn::Expr::Group(g) => string_literal(&g.expr),
        syn::Expr::Paren(p) => string_literal(&p.expr),
        _ => None,
    }
}

fn closure_param(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::Ident(p) => Some(p.ident.to_string()),
        syn::Pat::Type(p) => closure_param(&p.pat),
        syn::Pat::Reference(p) => closure_param(&p.pat),
        _ => None,
    }
}

/// Text that only separates (`"/"`, `", "`), never a path component (`".."` is one).
fn is_separator(text: &str) -> bool {
    let dots_only = !text.is_empty() && text.chars().all(|c| c == '.');
    text.chars().count() <= 3 && !text.chars().any(char::is_alphanumeric) && !dots_only
}

/// `[a, b]`, `&[a, b]`, `vec![a, b]`.
fn is_list_literal(expr: &syn::Expr) -> bool {
    list_elements(expr).is_some()
}

fn list_elements(expr: &syn::Expr) -> Option<Vec<syn::Expr>> {
    match expr {
        syn::Expr::Array(a) => Some(a.elems.iter().cloned().collect()),
        syn::Expr::Reference(r) => list_elements(&r.expr),
        syn::Expr::Paren(p) => list_elements(&p.expr),
        syn::Expr::Macro(m) if m.mac.path.is_ident("vec") => m
            .mac
            .parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
            .ok()
            .map(|args| args.into_iter().collect()),
        _ => None,
    }
}

/// Whether evaluating the expression never produces a value (`return`, `panic!`, ...).
pub(super) fn diverges(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Return(_) | syn::Expr::Break(_) | syn::Expr::Continue(_) => true,
        syn::Expr::Macro(m) => m
            .mac
            .path
            .segments
            .last()
            .is_some_and(|s| DIVERGING_MACROS.contains(&s.ident.to_string().as_str())),
        syn::Expr::Block(b) => block_diverges(&b.block),
        _ => false,
    }
}

fn block_diverges(block: &syn::Block) -> bool {
    match block.stmts.last() {
        Some(syn::Stmt::Expr(e, _)) => diverges(e),
        Some(syn::Stmt::Macro(m)) => m
            .mac
            .path
            .segments
            .last()
            .is_some_and(|s| DIVERGING_MACROS.contains(&s.ident.to_string().as_str())),
        _ => false,
    }
}

/// A value that is only an unknown: nothing about it can be matched.
pub(super) fn is_bare_hole(expr: &Expr) -> bool {
    matches!(expr, Expr::Hole { .. })
}

/// The same expression with its literal text read as a glob pattern.
pub(super) fn to_glob(expr: Expr) -> Expr {
    match expr {
        Expr::Lit { text } => Expr::Glob { text },
        Expr::Concat { parts } => Expr::Concat {
            parts: parts.into_iter().map(to_glob).collect(),
        },
        Expr::Join { parts } => Expr::Join {
            parts: parts.into_iter().map(to_glob).collect(),
        },
        Expr::Alt { options } => Expr::Alt {
            options: options.into_iter().map(to_glob).collect(),
        },
        other => other,
    }
}

/// Concatenation with nested concatenations flattened and adjacent literals merged.
pub(super) fn concat(parts: Vec<Expr>) -> Expr {
    let mut flat: Vec<Expr> = Vec::new();
    let push = |part: Expr, flat: &mut Vec<Expr>| match (flat.last_mut(), part) {
        (_, Expr::Lit { text }) if text.is_empty() => {}
        (Some(Expr::Lit { text: previous }), Expr::Lit { text }) => previous.push_str(&text),
        (_, part) => flat.push(part),
    };
    for part in parts {
        match part {
            Expr::Concat { parts } => parts.into_iter().for_each(|p| push(p, &mut flat)),
            part => push(part, &mut flat),
        }
    }
    if flat.is_empty() {
        Expr::lit("")
    } else {
        Expr::concat(flat)
    }
}

/// Any one of the options; a single option is itself.
fn alt(options: Vec<Expr>) -> Expr {
    match options.len() {
        0 => Expr::hole("no value"),
        1 => options
            .into_iter()
            .next()
            .unwrap_or_else(|| Expr::hole("no value")),
        _ => Expr::Alt { options },
    }
}

/// `env::var("X").unwrap_or(d)`: the default of the innermost environment read without one;
/// for anything else, either value.
fn attach_default(expr: Expr, default: Expr) -> Expr {
    match expr {
        Expr::Env {
            name,
            default: None,
        } => Expr::Env {
            name,
            default: Some(Box::new(default)),
        },
        Expr::Env {
            name,
            default: Some(inner),
        } => Expr::Env {
            name,
            default: Some(Box::new(attach_default(*inner, default))),
        },
        other => alt(vec![other, default]),
    }
}

/// Replaces the variable `name` (a closure parameter) with `value`.
fn substitute(expr: Expr, name: &str, value: &Expr) -> Expr {
    let go = |e: Expr| substitute(e, name, value);
    let go_box = |e: Box<Expr>| Box::new(substitute(*e, name, value));
    match expr {
        Expr::Var { name: n, .. } if n == name => value.clone(),
        Expr::Concat { parts } => Expr::Concat {
            parts: parts.into_iter().map(go).collect(),
        },
        Expr::Join { parts } => Expr::Join {
            parts: parts.into_iter().map(go).collect(),
        },
        Expr::Alt { options } => Expr::Alt {
            options: options.into_iter().map(go).collect(),
        },
        Expr::Parent { of } => Expr::Parent { of: go_box(of) },
        Expr::ReplaceName {
            of,
            name: new_name,
            suffix_only,
        } => Expr::ReplaceName {
            of: go_box(of),
            name: go_box(new_name),
            suffix_only,
        },
        Expr::Env { name: n, default } => Expr::Env {
            name: n,
            default: default.map(go_box),
        },
        other => other,
    }
}
