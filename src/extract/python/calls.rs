//! Calls: who is called (through the file's imports), with which arguments, which model row
//! matches, the accesses it yields, and what iterating over its result gives.

use super::parse::line_of;
use super::scan::Element;
use super::strings::parse_open_mode;
use super::translate::{concat, globify, join};
use super::walk::{Ctx, Extractor, named};
use crate::expr::Expr;
use crate::extract::FieldExt as _;
use crate::extract::{CallRef, FindSpec, PathTarget, RawAccess, RawResource, Reach};
use crate::model::Mode;
use crate::rules::models::python::{
    AccessModel, ArgRef, ArgSource, CallKind, CallModel, ReachModel, Yields,
};

/// Whether a row's receiver type admits a receiver: a typed row needs a receiver of its type
/// (or, with `untyped-receiver`, one of unknown type); a receiver of a known type matches only
/// rows for its type.
fn receiver_fits(model: &CallModel, found: Option<&str>) -> bool {
    match (&model.receiver_type, found) {
        (Some(want), Some(have)) => want == have,
        (Some(_), None) => model.untyped_receiver,
        (None, Some(_)) => false,
        (None, None) => true,
    }
}
use tree_sitter::Node;

/// The arguments of a call.
#[derive(Debug, Default)]
pub(super) struct Args<'t> {
    /// Positional arguments up to the first `*args` (after it, positions are unknown).
    pub positional: Vec<Node<'t>>,
    /// Every positional argument in order, `*args` included (for joins of path parts).
    pub sequence: Vec<Node<'t>>,
    pub keywords: Vec<(String, Node<'t>)>,
    /// A `*args` or `**kwargs` makes the argument count unknown.
    pub splat: bool,
    /// The `**kwargs` spreads.
    pub dict_splats: Vec<Node<'t>>,
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

    pub fn count(&self) -> usize {
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
        /// The method's receiver is a name imported with `from m import x` or defined in
        /// this file (an object, a task, a class), not an attribute reached through a module:
        /// only rows for typed objects and codecs are tried on it, so that an in-house
        /// module's `storage.rename(key)` is not `Path.rename`.
        imported_object: bool,
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

impl<'a> Extractor<'a> {
    /// Who a call calls. A name that is imported but also assigned or a parameter in the
    /// current scope is the variable (`path = Path(x); path.unlink()` despite
    /// `from os import path`).
    pub(super) fn callee<'t>(&self, call: Node<'t>, ctx: &Ctx) -> Callee<'t> {
        match call.field("function") {
            Some(function) => self.callee_of(function, ctx),
            None => Callee::Unknown,
        }
    }

    /// Who the expression in a call's function position (or a bare decorator) names.
    pub(super) fn callee_of<'t>(&self, function: Node<'t>, ctx: &Ctx) -> Callee<'t> {
        self.callee_written(function, written_name(self, function).as_deref(), ctx)
    }

    /// [`Self::callee_of`] for a function expression whose dotted name, for an attribute
    /// (`written_name`), the caller has read already.
    fn callee_written<'t>(
        &self,
        function: Node<'t>,
        written: Option<&str>,
        ctx: &Ctx,
    ) -> Callee<'t> {
        match function.kind_name() {
            "identifier" => Callee::Function {
                name: self.qualified(self.text(function)),
                method: None,
                imported_object: false,
            },
            "attribute" => self.attribute_callee(function, written, ctx),
            _ => Callee::Unknown,
        }
    }

    /// [`Self::callee_of`] for an attribute, whose dotted name (`a.b.c`, if it is one) the
    /// caller has read already.
    fn attribute_callee<'t>(
        &self,
        function: Node<'t>,
        dotted: Option<&str>,
        ctx: &Ctx,
    ) -> Callee<'t> {
        let (Some(object), Some(attr)) = (function.field("object"), function.field("attribute"))
        else {
            return Callee::Unknown;
        };
        let method = self.text(attr).to_string();
        if let Some(dotted) = dotted
            && !self.is_variable(dotted.split('.').next().unwrap_or(""), ctx)
            && let Some((name, covered)) = self.qualify(dotted)
        {
            let object_parts = dotted.split('.').count().saturating_sub(1);
            // `from app.cache import redis_client; redis_client.lpush(...)`: an
            // imported name may be an object, and a function or class of this file
            // has methods too (`task.delay()`, `Order.parse_raw(b)`).
            let head = dotted.split('.').next().unwrap_or("");
            let object_import = object_parts == covered
                && covered == 1
                && (self.from_imported.contains(head) || self.local_defs.contains(head));
            let method = (object_parts > covered || object_import).then_some((object, method));
            let imported_object = object_import && object_parts == covered;
            return Callee::Function {
                name,
                method,
                imported_object,
            };
        }
        Callee::Method {
            receiver: object,
            name: method,
        }
    }

    pub(super) fn is_variable(&self, name: &str, ctx: &Ctx) -> bool {
        ctx.locals.contains_key(name)
            || !self.bound_indexes(ctx.scope, name).is_empty()
            || self.is_param(ctx.scope, name)
    }

    pub(super) fn args<'t>(&self, call: Node<'t>) -> Args<'t> {
        let mut args = Args::default();
        let Some(list) = call.field("arguments") else {
            return args;
        };
        if list.kind_name() == "generator_expression" {
            args.positional.push(list);
            return args;
        }
        let mut positional_known = true;
        for child in named(list) {
            match child.kind_name() {
                "keyword_argument" => {
                    if let (Some(name), Some(value)) = (child.field("name"), child.field("value")) {
                        args.keywords.push((self.text(name).to_string(), value));
                    }
                }
                "list_splat" => {
                    args.splat = true;
                    positional_known = false;
                    args.sequence.push(child);
                }
                "dictionary_splat" => {
                    args.splat = true;
                    args.dict_splats.push(child);
                }
                "comment" => {}
                _ if positional_known => {
                    args.positional.push(child);
                    args.sequence.push(child);
                }
                _ => args.sequence.push(child),
            }
        }
        args
    }

    /// The model row a call matches, if any.
    pub(super) fn match_call<'t>(&mut self, call: Node<'t>, ctx: &Ctx) -> Option<Matched<'a, 't>> {
        let function = call.field("function")?;
        let callee = self.callee_of(function, ctx);
        self.match_read_call(call, function, callee, |this| this.args(call), ctx)
    }

    /// [`Self::match_call`] with the callee already read from the call's `function`; the
    /// arguments are asked for only when some row is for the callee's name (most calls name
    /// nothing a row is for).
    pub(super) fn match_read_call<'t>(
        &mut self,
        call: Node<'t>,
        function: Node<'t>,
        callee: Callee<'t>,
        args: impl FnOnce(&Self) -> Args<'t>,
        ctx: &Ctx,
    ) -> Option<Matched<'a, 't>> {
        self.match_or_unmatched(call, function, callee, args, ctx)
            .ok()
    }

    /// [`Self::match_read_call`], giving the callee back when no row is for its name (most
    /// calls), so that recording the call does not read it again.
    fn match_or_unmatched<'t>(
        &mut self,
        call: Node<'t>,
        function: Node<'t>,
        callee: Callee<'t>,
        args: impl FnOnce(&Self) -> Args<'t>,
        ctx: &Ctx,
    ) -> Result<Matched<'a, 't>, Option<Callee<'t>>> {
        if !self.may_match(&callee, function) {
            return Err(Some(callee));
        }
        let args = args(self);
        let decorator = self.current_decorator == Some(call.id());
        self.match_callee(function, callee, args, ctx, decorator, 0)
            .ok_or(None)
    }

    /// Whether some row is for a callee's name (a function row for its qualified name, a
    /// method row for its method): what [`Self::match_callee`] needs before anything else.
    fn may_match(&self, callee: &Callee<'_>, function: Node<'_>) -> bool {
        let models = self.models;
        match callee {
            Callee::Function { name, method, .. } => {
                models.function(name).is_some()
                    || match method {
                        Some((_, method)) => models.methods(method).next().is_some(),
                        None => {
                            function.kind_name() == "identifier"
                                && models.methods("__call__").next().is_some()
                        }
                    }
            }
            Callee::Method { name, .. } => models.methods(name).next().is_some(),
            Callee::Unknown => false,
        }
    }

    /// The model row for a callee and its arguments. `decorator` says the call is a decorator
    /// (rows marked `decorator` match nothing else); `depth` bounds the type lookups of
    /// chained receivers.
    pub(super) fn match_parts<'t>(
        &mut self,
        function: Node<'t>,
        args: Args<'t>,
        ctx: &Ctx,
        decorator: bool,
        depth: u32,
    ) -> Option<Matched<'a, 't>> {
        let callee = self.callee_of(function, ctx);
        self.match_callee(function, callee, args, ctx, decorator, depth)
    }

    /// [`Self::match_parts`] for a callee already read from `function`.
    fn match_callee<'t>(
        &mut self,
        function: Node<'t>,
        callee: Callee<'t>,
        args: Args<'t>,
        ctx: &Ctx,
        decorator: bool,
        depth: u32,
    ) -> Option<Matched<'a, 't>> {
        let models = self.models;
        let mut restricted = false;
        let (receiver, method) = match callee {
            Callee::Function {
                name,
                method,
                imported_object,
            } => {
                restricted = imported_object;
                if let Some(model) = models.function(&name)
                    && self.applies(model, &args, ctx, decorator)
                {
                    return Some(Matched {
                        model,
                        receiver: None,
                        args,
                    });
                }
                match method {
                    Some(method) => method,
                    // A variable holding a typed object, called: `env("X")` on `environ.Env()`.
                    None if function.kind_name() == "identifier" => {
                        (function, "__call__".to_string())
                    }
                    None => return None,
                }
            }
            Callee::Method { receiver, name } => (receiver, name),
            Callee::Unknown => return None,
        };
        // A method on a string literal is a `str` method, never a path method.
        if matches!(receiver.kind_name(), "string" | "concatenated_string") {
            return None;
        }
        models.methods(&method).next()?;
        let receiver_type = if method == "__call__" {
            self.type_of(receiver, ctx, depth)
        } else {
            self.type_of(receiver, ctx, depth + 1)
        };
        if method == "__call__" && receiver_type.is_none() {
            return None;
        }
        let model = models.methods(&method).find(|m| {
            (!restricted || m.receiver_type.is_some() || m.codec.is_some())
                && receiver_fits(m, receiver_type.as_deref())
                && self.applies(m, &args, ctx, decorator)
        })?;
        Some(Matched {
            model,
            receiver: Some(receiver),
            args,
        })
    }

    /// Whether a row applies to a call: the argument count is in bounds, every required path
    /// argument is there, a literal mode argument is a mode string (`zipfile.open("data.csv")`
    /// is not `Path.open`), and a decorator row is used as a decorator.
    fn applies(&mut self, model: &CallModel, args: &Args<'_>, ctx: &Ctx, decorator: bool) -> bool {
        if model.decorator && !decorator {
            return false;
        }
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

    /// Scans a call, whose `function` the caller has read: a matched model yields its accesses
    /// and other effects; any other call of a function by name is recorded as a call. Who is
    /// called is read once for both.
    pub(super) fn call_site(&mut self, call: Node<'_>, function: Option<Node<'_>>, ctx: &Ctx) {
        let Some(function) = function else {
            return;
        };
        let written = written_name(self, function);
        let callee = self.callee_written(function, written.as_deref(), ctx);
        let matched =
            match self.match_or_unmatched(call, function, callee, |this| this.args(call), ctx) {
                Ok(matched) => matched,
                Err(callee) => {
                    self.call_ref(call, function, written, callee, ctx);
                    return;
                }
            };
        let line = line_of(call);
        let scope = self.effect_scope(call, ctx);
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
                scope,
                via: matched.model.name.clone().into(),
            });
        }
        self.effects(call, &matched, ctx);
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
        // An object's key in a bucket: `s3://BUCKET/KEY`. Without a bucket there is no access.
        let base = match &access.bucket {
            None => base,
            Some(bucket) => {
                let name = self.translate(m.args.get(&bucket.arg)?, ctx);
                concat(vec![
                    Expr::lit(format!("{}://", bucket.scheme)),
                    name,
                    Expr::lit("/"),
                    base,
                ])
            }
        };
        let recursive = match &access.recursive {
            None => true,
            Some(flag) => m.args.get(flag).is_some_and(|n| n.kind_name() == "true"),
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
    pub(super) fn access_mode(
        &mut self,
        m: &Matched<'_, '_>,
        access: &AccessModel,
        ctx: &Ctx,
    ) -> Mode {
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
    pub(super) fn yielded(&mut self, call: Node<'_>, ctx: &Ctx) -> Option<Element> {
        let m = self.match_call(call, ctx)?;
        self.yielded_by(&m, ctx)
    }

    /// [`Self::yielded`] for the row the call matched.
    pub(super) fn yielded_by(&mut self, m: &Matched<'_, '_>, ctx: &Ctx) -> Option<Element> {
        let access = m.model.accesses.iter().find(|a| a.yields.is_some())?;
        let path = self.access_path(m, access, ctx)?;
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
        node.kind_name() == "call"
            && self
                .match_call(node, ctx)
                .is_some_and(|m| m.model.accesses.iter().all(|a| a.yields.is_none()))
    }
}

/// Builtins whose calls are never the repository's own functions.
/// Python's builtins: calls of them are never calls of a repository function.
pub(super) fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
}

const BUILTINS: &[&str] = &[
    "abs",
    "all",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "ord",
    "pow",
    "print",
    "property",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
];

impl Extractor<'_> {
    /// Records a call of a function or method by name that no model row matched, with the
    /// callee qualified through the imports (`auth.wait_for_refresh`), the module for a
    /// function of this file (`pkg.mod.helper`), `self.method` for a method of the class.
    /// `written` and `read` are what matching read of `function` (its `written_name`, and who
    /// it names when matching gave that back).
    fn call_ref<'t>(
        &mut self,
        call: Node<'t>,
        function: Node<'t>,
        written: Option<String>,
        read: Option<Callee<'t>>,
        ctx: &Ctx,
    ) {
        let Some(callee) = self.callee_name_read(function, written.as_deref(), read, ctx) else {
            return;
        };
        if callee.ends_with(".add_argument") {
            self.argparse_option(call, ctx);
        }
        let mut args = self.call_args(call, ctx);
        // `w(x)` with `w = functools.partial(fn, a, k=v)`: a call of `fn` with `a, x, k=v`
        // (the call's own keywords win over the partial's).
        let written = if self.partials.is_empty() {
            String::new()
        } else {
            written
                .or_else(|| self.dotted(function))
                .map(|d| self.normalize_self(&d, ctx))
                .unwrap_or_default()
        };
        let callee = match self.partial_for(&written, ctx) {
            Some((target, bound)) => {
                let (keywords, positional): (Vec<_>, Vec<_>) =
                    bound.iter().cloned().partition(|a| a.keyword.is_some());
                let mut all = positional;
                all.append(&mut args);
                all.extend(keywords);
                args = all;
                target.clone()
            }
            None => callee,
        };
        self.facts.calls.push(CallRef {
            scope: ctx.scope,
            line: line_of(call),
            callee: callee.into(),
            args: args.into(),
        });
    }

    /// The callee of a call as [`CallRef`] records it, for its function expression; `None`
    /// for builtins, comprehension variables and what is not a name.
    pub(super) fn callee_name(&self, function: Node<'_>, ctx: &Ctx) -> Option<String> {
        self.callee_name_read(function, written_name(self, function).as_deref(), None, ctx)
    }

    /// [`Self::callee_name`] for a function expression whose `written_name` the caller has
    /// read, and who it names ([`Self::callee_of`]) when the caller has that too.
    fn callee_name_read<'t>(
        &self,
        function: Node<'t>,
        written: Option<&str>,
        read: Option<Callee<'t>>,
        ctx: &Ctx,
    ) -> Option<String> {
        match function.kind_name() {
            "identifier" => {
                let name = self.text(function);
                if ctx.locals.contains_key(name) {
                    return None;
                }
                match self.qualify(name) {
                    Some((qualified, _)) if !self.is_variable(name, ctx) => Some(qualified),
                    _ if BUILTINS.contains(&name) => None,
                    _ => Some(name.to_string()),
                }
            }
            "attribute" => {
                let written = written?;
                let dotted = self.normalize_self(written, ctx);
                // `d.run()` with `d = Dumper(...)`: the method of the class.
                if let Some((head, method)) = dotted.split_once('.')
                    && !method.contains('.')
                    && let Some(class) = self.instance_class(head, ctx)
                {
                    return Some(format!("{}.{method}", self.qualified(&class)));
                }
                let callee =
                    read.unwrap_or_else(|| self.attribute_callee(function, Some(written), ctx));
                match callee {
                    Callee::Function { name, .. } => Some(name),
                    _ => Some(dotted),
                }
            }
            _ => None,
        }
    }

    /// A call's arguments as values: positional ones until a `*spread` (after which positions
    /// are unknown), and keyword ones by name. Bounded, like any value.
    pub(super) fn call_args(&mut self, call: Node<'_>, ctx: &Ctx) -> Vec<crate::extract::CallArg> {
        const MAX_ARGS: usize = 16;
        let Some(list) = call.field("arguments") else {
            return Vec::new();
        };
        let mut args = Vec::new();
        let mut positional = true;
        for arg in super::walk::named(list).into_iter().take(MAX_ARGS) {
            match arg.kind_name() {
                "keyword_argument" => {
                    let (Some(name), Some(value)) = (arg.field("name"), arg.field("value")) else {
                        continue;
                    };
                    let keyword = Some(self.text(name).into());
                    let value = self.translate(value, ctx);
                    args.push(crate::extract::CallArg { keyword, value });
                }
                // Spreads hide what they pass: marked, so a parameter they may fill is unknown.
                "list_splat" | "dictionary_splat" => {
                    positional = false;
                    let keyword = if arg.kind_name() == "list_splat" {
                        "*"
                    } else {
                        "**"
                    };
                    args.push(crate::extract::CallArg {
                        keyword: Some(keyword.to_string().into()),
                        value: crate::expr::Expr::hole(keyword),
                    });
                }
                "comment" => {}
                _ if positional => {
                    let value = self.translate(arg, ctx);
                    args.push(crate::extract::CallArg {
                        keyword: None,
                        value,
                    });
                }
                _ => {}
            }
        }
        args
    }
}

/// The dotted name of a call's function expression as written (`a.b.c`), read for an attribute
/// only: both who a call names and how it is recorded start from it.
fn written_name(extractor: &Extractor<'_>, function: Node<'_>) -> Option<String> {
    if function.kind_name() == "attribute" {
        extractor.dotted(function)
    } else {
        None
    }
}
