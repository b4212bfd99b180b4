//! Calls: who is called (through the file's imports), with which arguments, which model row
//! matches, the accesses it yields, and what iterating over its result gives.

use super::parse::line_of;
use super::strings::parse_open_mode;
use super::translate::{concat, expand_home, globify, join, strftime_hole};
use super::walk::{Ctx, Extractor, MAX_DEPTH, MAX_TARGET_DEPTH, named};
use crate::expr::Expr;
use crate::extract::{FindSpec, PathTarget, RawAccess, RawResource, Reach};
use crate::model::Mode;
use crate::rules::models::python::{
    AccessModel, ArgRef, ArgSource, CallKind, CallModel, ReachModel, Yields,
};
use std::collections::BTreeMap;
use std::rc::Rc;
use tree_sitter::Node;

/// The arguments of a call.
#[derive(Debug, Default)]
pub(super) struct Args<'t> {
    /// Positional arguments up to the first `*args` (after it, positions are unknown).
    pub positional: Vec<Node<'t>>,
    pub keywords: Vec<(String, Node<'t>)>,
    /// A `*args` or `**kwargs` makes the argument count unknown.
    pub splat: bool,
}

impl<'t> Args<'t> {
    pub fn keyword(&self, name: &str) -> Option<Node<'t>> {
        self.keywords
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }

    /// The argument a model names, by keyword first, then by position.
    pub fn get(&self, arg: &ArgRef) -> Option<Node<'t>> {
        if let Some(k) = &arg.keyword
            && let Some(v) = self.keyword(k)
        {
            return Some(v);
        }
        let position = usize::try_from(arg.position?).ok()?;
        self.positional.get(position).copied()
    }

    fn count(&self) -> usize {
        self.positional.len() + self.keywords.len()
    }
}

/// What a call calls.
#[derive(Debug)]
pub(super) enum Callee<'t> {
    /// A function by qualified name (`os.path.join`, `open`, `pathlib.Path.home`); `method`
    /// is the same call read as a method on an object reached through a module
    /// (`config.OUT_DIR.mkdir()`), tried when no function row matches.
    Function {
        name: String,
        method: Option<(Node<'t>, String)>,
    },
    /// A method on a receiver whose type is not known (`out.parent.mkdir()`).
    Method {
        receiver: Node<'t>,
        name: String,
    },
    Unknown,
}

/// A call matched by a model row.
pub(super) struct Matched<'m, 't> {
    pub model: &'m CallModel,
    pub receiver: Option<Node<'t>>,
    pub args: Args<'t>,
}

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
const PASS_THROUGH: &[&str] = &[
    "sorted",
    "list",
    "reversed",
    "set",
    "tuple",
    "frozenset",
    "iter",
];

impl<'a> Extractor<'a> {
    // ---- names ---------------------------------------------------------------------------

    /// Fills the import alias table and the file's own top-level names, before the walk, so a
    /// call resolves the same whether the import is above or below it.
    pub fn collect_names(&mut self, top: &[Node<'_>]) {
        let mut stack: Vec<(Node<'_>, u32)> = top.iter().rev().map(|n| (*n, 0)).collect();
        while let Some((node, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                continue;
            }
            match node.kind() {
                "import_statement" => self.collect_import(node),
                "import_from_statement" => self.collect_from_import(node),
                "function_definition" | "class_definition" if depth == 0 => {
                    if let Some(name) = node.child_by_field_name("name") {
                        self.local_defs.insert(self.text(name).to_string());
                    }
                }
                "decorated_definition" if depth == 0 => {
                    if let Some(name) = node
                        .child_by_field_name("definition")
                        .and_then(|d| d.child_by_field_name("name"))
                    {
                        self.local_defs.insert(self.text(name).to_string());
                    }
                }
                _ => {}
            }
            if matches!(node.kind(), "import_statement" | "import_from_statement") {
                continue;
            }
            let children = named(node);
            for child in children.into_iter().rev() {
                if is_import_container(child.kind()) {
                    stack.push((child, depth + 1));
                }
            }
        }
        for alias in self.aliases.keys() {
            self.local_defs.remove(alias);
        }
    }

    fn collect_import(&mut self, node: Node<'_>) {
        let mut cursor = node.walk();
        let names: Vec<Node<'_>> = node.children_by_field_name("name", &mut cursor).collect();
        for name in names {
            let (module, local) = match name.kind() {
                "aliased_import" => (
                    name.child_by_field_name("name").map(|n| self.text(n)),
                    name.child_by_field_name("alias").map(|n| self.text(n)),
                ),
                _ => (Some(self.text(name)), Some(self.text(name))),
            };
            if let (Some(module), Some(local)) = (module, local) {
                self.aliases.insert(compact(local), compact(module));
            }
        }
    }

    fn collect_from_import(&mut self, node: Node<'_>) {
        let Some((module, level)) = self.import_source(node) else {
            return;
        };
        let base = self.absolute_module(&module, level);
        let module_node = node.child_by_field_name("module_name").map(|m| m.id());
        for child in named(node) {
            if Some(child.id()) == module_node {
                continue;
            }
            let (name, local) = match child.kind() {
                "aliased_import" => (
                    child.child_by_field_name("name").map(|n| self.text(n)),
                    child.child_by_field_name("alias").map(|n| self.text(n)),
                ),
                "dotted_name" => (Some(self.text(child)), Some(self.text(child))),
                _ => (None, None),
            };
            if let (Some(name), Some(local)) = (name, local) {
                let qualified = if base.is_empty() {
                    compact(name)
                } else {
                    format!("{base}.{}", compact(name))
                };
                self.aliases.insert(compact(local), qualified);
            }
        }
    }

    /// The absolute module of a relative import, from this file's module name (`from .x
    /// import y` in `pkg/mod.py` is `pkg.x`); relative spelling kept when it climbs too far.
    fn absolute_module(&self, module: &str, level: u32) -> String {
        if level == 0 {
            return module.to_string();
        }
        let mut parts: Vec<&str> = self.module.split('.').filter(|p| !p.is_empty()).collect();
        if !self.is_package {
            parts.pop();
        }
        for _ in 1..level {
            if parts.pop().is_none() {
                let dots = ".".repeat(usize::try_from(level).unwrap_or(1));
                return format!("{dots}{module}");
            }
        }
        if !module.is_empty() {
            parts.push(module);
        }
        parts.join(".")
    }

    /// The qualified name of a dotted name through the imports, and how many of its
    /// components the import covered; `None` when no import or top-level definition names it.
    pub fn qualify(&self, dotted: &str) -> Option<(String, usize)> {
        let parts: Vec<&str> = dotted.split('.').collect();
        for k in (1..=parts.len()).rev() {
            let prefix = parts[..k].join(".");
            if let Some(target) = self.aliases.get(&prefix) {
                let rest = &parts[k..];
                let name = if rest.is_empty() {
                    target.clone()
                } else {
                    format!("{target}.{}", rest.join("."))
                };
                return Some((name, k));
            }
        }
        let first = parts.first()?;
        if self.local_defs.contains(*first) {
            let name = if self.module.is_empty() {
                dotted.to_string()
            } else {
                format!("{}.{dotted}", self.module)
            };
            return Some((name, 1));
        }
        None
    }

    /// The qualified name, or the name itself (builtins, unknown names).
    pub fn qualified(&self, dotted: &str) -> String {
        self.qualify(dotted)
            .map_or_else(|| dotted.to_string(), |q| q.0)
    }

    /// Who a call calls. A name that is imported but also assigned or a parameter in the
    /// current scope is the variable (`path = Path(x); path.unlink()` despite
    /// `from os import path`).
    pub(super) fn callee<'t>(&self, call: Node<'t>, ctx: &Ctx) -> Callee<'t> {
        let Some(function) = call.child_by_field_name("function") else {
            return Callee::Unknown;
        };
        match function.kind() {
            "identifier" => Callee::Function {
                name: self.qualified(self.text(function)),
                method: None,
            },
            "attribute" => {
                let (Some(object), Some(attr)) = (
                    function.child_by_field_name("object"),
                    function.child_by_field_name("attribute"),
                ) else {
                    return Callee::Unknown;
                };
                let method = self.text(attr).to_string();
                if let Some(dotted) = self.dotted(function)
                    && !self.is_variable(dotted.split('.').next().unwrap_or(""), ctx)
                    && let Some((name, covered)) = self.qualify(&dotted)
                {
                    let object_parts = dotted.split('.').count().saturating_sub(1);
                    let method = (object_parts > covered).then_some((object, method));
                    return Callee::Function { name, method };
                }
                Callee::Method {
                    receiver: object,
                    name: method,
                }
            }
            _ => Callee::Unknown,
        }
    }

    fn is_variable(&self, name: &str, ctx: &Ctx) -> bool {
        ctx.locals.contains_key(name)
            || !self.bound_indexes(ctx.scope, name).is_empty()
            || self.is_param(ctx.scope, name)
    }

    pub(super) fn args<'t>(&self, call: Node<'t>) -> Args<'t> {
        let mut args = Args::default();
        let Some(list) = call.child_by_field_name("arguments") else {
            return args;
        };
        if list.kind() == "generator_expression" {
            args.positional.push(list);
            return args;
        }
        let mut positional_known = true;
        for child in named(list) {
            match child.kind() {
                "keyword_argument" => {
                    if let (Some(name), Some(value)) = (
                        child.child_by_field_name("name"),
                        child.child_by_field_name("value"),
                    ) {
                        args.keywords.push((self.text(name).to_string(), value));
                    }
                }
                "list_splat" => {
                    args.splat = true;
                    positional_known = false;
                }
                "dictionary_splat" => args.splat = true,
                "comment" => {}
                _ if positional_known => args.positional.push(child),
                _ => {}
            }
        }
        args
    }

    // ---- matching ------------------------------------------------------------------------

    /// The model row a call matches, if any.
    pub(super) fn match_call<'t>(&mut self, call: Node<'t>, ctx: &Ctx) -> Option<Matched<'a, 't>> {
        let models = self.models;
        let callee = self.callee(call, ctx);
        let args = self.args(call);
        let (receiver, method) = match callee {
            Callee::Function { name, method } => {
                if let Some(model) = models.function(&name)
                    && self.applies(model, &args, ctx)
                {
                    return Some(Matched {
                        model,
                        receiver: None,
                        args,
                    });
                }
                method?
            }
            Callee::Method { receiver, name } => (receiver, name),
            Callee::Unknown => return None,
        };
        // A method on a string literal is a `str` method, never a path method.
        if matches!(receiver.kind(), "string" | "concatenated_string") {
            return None;
        }
        let model = models
            .methods(&method)
            .find(|m| self.applies(m, &args, ctx))?;
        Some(Matched {
            model,
            receiver: Some(receiver),
            args,
        })
    }

    /// Whether a row applies to a call: the argument count is in bounds, every required path
    /// argument is there, and a literal mode argument is a mode string
    /// (`zipfile.open("data.csv")` is not `Path.open`).
    fn applies(&mut self, model: &CallModel, args: &Args<'_>, ctx: &Ctx) -> bool {
        let count = u32::try_from(args.count()).unwrap_or(u32::MAX);
        if !args.splat {
            if model.min_args.is_some_and(|min| count < min) {
                return false;
            }
            if model.max_args.is_some_and(|max| count > max) {
                return false;
            }
        }
        for access in &model.accesses {
            if let ArgSource::Arg(arg) = &access.path
                && args.get(arg).is_none()
                && access.default.is_none()
                && !access.optional
                && !args.splat
            {
                return false;
            }
            let Some(node) = access.mode_arg.as_ref().and_then(|a| args.get(a)) else {
                continue;
            };
            match self.literal_string(node, ctx) {
                Some(text) if parse_open_mode(&text).is_none() => return false,
                // On a receiver of unknown type, a mode that is not visible is more likely
                // another API's argument (`fs.open(path)`) than a variable mode.
                None if model.kind == CallKind::Method => return false,
                _ => {}
            }
        }
        true
    }

    /// Scans a call: a matched model yields its accesses.
    fn call_site(&mut self, call: Node<'_>, ctx: &Ctx) {
        let Some(matched) = self.match_call(call, ctx) else {
            return;
        };
        let line = line_of(call);
        for access in &matched.model.accesses {
            let Some(expr) = self.access_path(&matched, access, ctx) else {
                continue;
            };
            let mode = self.access_mode(&matched, access, ctx);
            let reach = match access.reach {
                ReachModel::Exact | ReachModel::Glob => Reach::Exact,
                ReachModel::Tree => Reach::Tree,
                ReachModel::Children => Reach::Children,
                ReachModel::Find => Reach::Find(FindSpec::default()),
            };
            self.facts.accesses.push(RawAccess {
                resource: RawResource::Path(PathTarget {
                    expr,
                    reach,
                    retention: None,
                }),
                mode,
                line,
                scope: ctx.scope,
                via: matched.model.name.clone(),
            });
        }
    }

    /// The path of one access of a matched call; `None` when its argument is absent.
    fn access_path(
        &mut self,
        m: &Matched<'_, '_>,
        access: &AccessModel,
        ctx: &Ctx,
    ) -> Option<Expr> {
        let base = match &access.path {
            ArgSource::Receiver => self.translate(m.receiver?, ctx),
            ArgSource::Arg(arg) => match m.args.get(arg) {
                Some(node) => self.translate(node, ctx),
                None => Expr::lit(access.default.as_deref()?),
            },
        };
        let recursive = match &access.recursive {
            None => true,
            Some(flag) => m.args.get(flag).is_some_and(|n| n.kind() == "true"),
        };
        let mut expr = match access.reach {
            ReachModel::Glob => globify(self.inline_globs(base, 0), recursive),
            _ => base,
        };
        if let Some(glob) = &access.glob {
            let pattern = self.translate(m.args.get(&glob.arg)?, ctx);
            let pattern = globify(self.inline_globs(pattern, 0), recursive);
            let pattern = concat(vec![Expr::glob(glob.prefix.clone()), pattern]);
            expr = join(vec![expr, pattern]);
        }
        if let Some(suffix) = &access.suffix_glob {
            expr = concat(vec![expr, Expr::glob(suffix.clone())]);
        }
        Some(expr)
    }

    /// The mode of one access: fixed, or read from the call's mode argument. A mode argument
    /// that cannot be read statically gives [`Mode::Unknown`].
    fn access_mode(&mut self, m: &Matched<'_, '_>, access: &AccessModel, ctx: &Ctx) -> Mode {
        let Some(arg) = &access.mode_arg else {
            return access.mode;
        };
        let Some(node) = m.args.get(arg) else {
            return access.mode;
        };
        self.literal_string(node, ctx)
            .and_then(|t| parse_open_mode(&t))
            .unwrap_or(Mode::Unknown)
    }

    /// What iterating over a matched listing call gives, from its `yields`.
    fn yielded(&mut self, call: Node<'_>, ctx: &Ctx) -> Option<Element> {
        let m = self.match_call(call, ctx)?;
        let access = m.model.accesses.iter().find(|a| a.yields.is_some())?;
        let path = self.access_path(&m, access, ctx)?;
        Some(match access.yields? {
            Yields::Paths => Element::One(match access.reach {
                ReachModel::Children => join(vec![path, Expr::glob("*")]),
                ReachModel::Find => join(vec![path, Expr::glob("**")]),
                _ => path,
            }),
            Yields::Names => Element::One(Expr::glob("*")),
            Yields::Entries => Element::Entries(join(vec![path, Expr::glob("*")])),
            Yields::Walk => Element::Walk(path),
        })
    }

    /// Whether a `with` value opens a file (a matched model with nothing to iterate), so the
    /// `as` name is a file object rather than a path.
    pub fn opens_file(&mut self, node: Node<'_>, ctx: &Ctx) -> bool {
        node.kind() == "call"
            && self
                .match_call(node, ctx)
                .is_some_and(|m| m.model.accesses.iter().all(|a| a.yields.is_none()))
    }

    // ---- values of calls -----------------------------------------------------------------

    /// The value of a call: path building, environment reads, dates; the listed paths for a
    /// listing call; otherwise a hole named after the callee.
    pub(super) fn call_value(&mut self, call: Node<'_>, ctx: &Ctx, d: u32) -> Expr {
        let callee = self.callee(call, ctx);
        let args = self.args(call);
        let value = match &callee {
            Callee::Function { name, method } => match self.function_value(name, &args, ctx, d) {
                Some(v) => Some(v),
                None => match method {
                    Some((receiver, m)) => self.method_value(*receiver, m, &args, ctx, d),
                    None => None,
                },
            },
            Callee::Method { receiver, name } => self.method_value(*receiver, name, &args, ctx, d),
            Callee::Unknown => None,
        };
        if let Some(value) = value {
            return value;
        }
        match self.yielded(call, ctx) {
            Some(Element::One(e) | Element::Entries(e)) => e,
            _ => {
                let label = self.label(call);
                if label.starts_with("tempfile.") {
                    Expr::path_hole(label)
                } else {
                    Expr::hole(label)
                }
            }
        }
    }

    fn function_value(&mut self, name: &str, args: &Args<'_>, ctx: &Ctx, d: u32) -> Option<Expr> {
        let first = args.positional.first().copied();
        Some(match name {
            "os.path.join" | "posixpath.join" => {
                if args.splat {
                    return Some(Expr::path_hole("os.path.join"));
                }
                let parts = args
                    .positional
                    .iter()
                    .map(|a| self.tr(*a, ctx, d))
                    .collect();
                join(parts)
            }
            "pathlib.Path" | "pathlib.PurePath" | "pathlib.PosixPath" | "pathlib.PurePosixPath" => {
                if args.splat {
                    return Some(Expr::path_hole("Path"));
                }
                let parts = args
                    .positional
                    .iter()
                    .map(|a| self.tr(*a, ctx, d))
                    .collect();
                join(parts)
            }
            "str" | "os.fspath" | "os.fsdecode" | "os.fsencode" | "os.path.abspath"
            | "os.path.realpath" | "os.path.normpath" | "os.path.expandvars" => {
                self.tr(first?, ctx, d)
            }
            "os.path.expanduser" => expand_home(self.tr(first?, ctx, d)),
            "os.path.dirname" => Expr::Parent {
                of: Box::new(self.tr(first?, ctx, d)),
            },
            "os.environ.get" | "os.getenv" | "os.environ.setdefault" => {
                let key = args.get(&ArgRef {
                    position: Some(0),
                    keyword: Some("key".to_string()),
                })?;
                let Some(env) = self.literal_string(key, ctx) else {
                    return Some(Expr::hole("env"));
                };
                let default = args
                    .get(&ArgRef {
                        position: Some(1),
                        keyword: Some("default".to_string()),
                    })
                    .filter(|n| n.kind() != "none")
                    .map(|n| Box::new(self.tr(n, ctx, d)));
                Expr::Env { name: env, default }
            }
            "pathlib.Path.home" => Expr::Env {
                name: "HOME".to_string(),
                default: None,
            },
            "pathlib.Path.cwd" | "os.getcwd" => Expr::path_hole("cwd"),
            "tempfile.gettempdir" => Expr::Env {
                name: "TMPDIR".to_string(),
                default: Some(Box::new(Expr::lit("/tmp"))),
            },
            "time.strftime" => match first.and_then(|f| self.literal_string(f, ctx)) {
                Some(format) => strftime_hole("date", format),
                None => Expr::hole("date"),
            },
            n if PASS_THROUGH.contains(&n) && args.positional.len() == 1 => self.tr(first?, ctx, d),
            _ => return None,
        })
    }

    fn method_value(
        &mut self,
        receiver: Node<'_>,
        method: &str,
        args: &Args<'_>,
        ctx: &Ctx,
        d: u32,
    ) -> Option<Expr> {
        let first = args.positional.first().copied();
        let is_string = matches!(receiver.kind(), "string" | "concatenated_string");
        Some(match method {
            "format" if is_string => return self.format_call(receiver, args, ctx, d),
            "join" if is_string => {
                let list = first.filter(|f| matches!(f.kind(), "list" | "tuple"))?;
                let separator = self.tr(receiver, ctx, d);
                let mut parts = Vec::new();
                for (i, item) in named(list).into_iter().enumerate() {
                    if i > 0 {
                        parts.push(separator.clone());
                    }
                    parts.push(self.tr(item, ctx, d));
                }
                concat(parts)
            }
            _ if is_string => return None,
            "joinpath" => {
                let mut parts = vec![self.tr(receiver, ctx, d)];
                for arg in &args.positional {
                    parts.push(self.tr(*arg, ctx, d));
                }
                join(parts)
            }
            "resolve" | "absolute" | "as_posix" | "__fspath__" => self.tr(receiver, ctx, d),
            "expanduser" => expand_home(self.tr(receiver, ctx, d)),
            "with_suffix" | "with_name" if args.positional.len() == 1 => Expr::ReplaceName {
                of: Box::new(self.tr(receiver, ctx, d)),
                name: Box::new(self.tr(first?, ctx, d)),
                suffix_only: method == "with_suffix",
            },
            "strftime" if args.positional.len() == 1 => {
                let label = self.value_label(receiver);
                match first.and_then(|f| self.literal_string(f, ctx)) {
                    Some(format) => strftime_hole(label, format),
                    None => Expr::hole(label),
                }
            }
            "isoformat" if args.count() == 0 => {
                let label = self.value_label(receiver);
                strftime_hole(label, self.iso_format(receiver, ctx))
            }
            _ => return None,
        })
    }

    /// `isoformat()` of a `datetime.now()`-style value has a time part; of anything else (a
    /// `date`, or a variable of unknown type) the date alone.
    fn iso_format(&self, receiver: Node<'_>, ctx: &Ctx) -> &'static str {
        if receiver.kind() == "call"
            && let Callee::Function { name, .. } = self.callee(receiver, ctx)
            && name.starts_with("datetime.datetime.")
        {
            return "%Y-%m-%dT%H:%M:%S.%f";
        }
        "%Y-%m-%d"
    }

    // ---- iteration -----------------------------------------------------------------------

    /// What one iteration over `node` gives: a name's value, a literal list's elements, the
    /// paths a listing call lists, or a hole.
    pub fn element_of(&mut self, node: Node<'_>, ctx: &Ctx) -> Element {
        match node.kind() {
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
            target.kind(),
            "pattern_list" | "tuple_pattern" | "list_pattern"
        );
        match (target.kind(), element) {
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
        match (target.kind(), element) {
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
            if node.kind() == "identifier" {
                let name = self.text(node).to_string();
                out.insert(name.clone(), Expr::hole(name));
            } else {
                stack.extend(named(node));
            }
        }
    }

    // ---- scanning ------------------------------------------------------------------------

    /// Finds the calls in an expression and records their accesses; binds walrus targets;
    /// gives comprehension and lambda variables their values. Iterative, so long operator
    /// chains cannot exhaust the stack.
    pub fn scan(&mut self, node: Node<'_>, ctx: &Ctx) {
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            match n.kind() {
                "call" => self.call_site(n, ctx),
                "named_expression" => {
                    if let (Some(name), Some(value)) = (
                        n.child_by_field_name("name"),
                        n.child_by_field_name("value"),
                    ) {
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
            let children = named(n);
            stack.extend(children.into_iter().rev());
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
        for clause in children.iter().filter(|c| c.kind() == "for_in_clause") {
            let (Some(left), Some(right)) = (
                clause.child_by_field_name("left"),
                clause.child_by_field_name("right"),
            ) else {
                continue;
            };
            self.scan(right, &inner);
            let element = self.element_of(right, &inner);
            let mut locals = (*inner.locals).clone();
            self.element_locals(left, element, &mut locals, 0);
            inner.locals = Rc::new(locals);
        }
        for child in children.iter().filter(|c| c.kind() != "for_in_clause") {
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
        if let Some(params) = node.child_by_field_name("parameters") {
            self.hole_locals(params, &mut locals);
        }
        let inner = Ctx {
            depth: ctx.depth + 1,
            locals: Rc::new(locals),
            ..ctx.clone()
        };
        if let Some(body) = node.child_by_field_name("body") {
            self.scan(body, &inner);
        }
    }
}

/// Node kinds that may contain import statements (statements and blocks, not expressions).
fn is_import_container(kind: &str) -> bool {
    matches!(
        kind,
        "block"
            | "function_definition"
            | "class_definition"
            | "decorated_definition"
            | "ERROR"
            | "elif_clause"
            | "else_clause"
            | "except_clause"
            | "finally_clause"
            | "import_statement"
            | "import_from_statement"
    ) || kind.ends_with("_statement")
}

fn compact(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}
