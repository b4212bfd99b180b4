//! The walk over one parsed file: scopes, bindings, imports and accesses.
//!
//! One [`Walker`] visits the syntax tree in source order. Items open scopes; `use` items are
//! registered when their module or block is entered (they are visible before their line);
//! `let`, assignments, loops and mutating calls add bindings; calls that a model row recognises
//! add accesses, with their path arguments translated by `convert`. Each method chain is
//! analysed once, at its outermost expression, for the resource rows (`resources`); loops are
//! scanned before their body is walked (`loops`), and calls of other functions become
//! [`CallRef`]s.

use super::chain::{Chain, is_chain_expr, key};
use super::convert::{is_bare_hole, to_glob};
use super::loops::{LoopFrame, LoopKind};
use super::messages::{Decode, Message, Messages};
use super::resources::EnvUse;
use crate::expr::{Expr, ScopeId};
use crate::extract::{
    Binding, FileFacts, Import, PathTarget, RawAccess, RawResource, RunRef, RunTarget, Scope,
    ScopeKind,
};
use crate::model::Mode;
use crate::rules::models::rust::{BuilderModel, PathAccess, PathPosition, RustModels};
use foldhash::{HashMap, HashMapExt as _, HashSet, HashSetExt as _};
use proc_macro2::Span;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

/// Expressions nested deeper than this are not visited. The nesting bound checked before
/// parsing already keeps the walk within the stack; this is a second, independent guard.
const MAX_VISIT_DEPTH: usize = 1200;

/// Macro bodies are parsed again to be walked; nesting them deeper than this is not, so that a
/// file of macros inside macros cannot make the walk quadratic.
const MAX_MACRO_DEPTH: usize = 4;

/// The 1-based line where a span starts.
pub(super) fn line_of(span: Span) -> u32 {
    u32::try_from(span.start().line).unwrap_or(u32::MAX).max(1)
}

/// Walks a parsed file into facts. `idents` are the identifiers of the whole file.
pub(super) fn walk_file(
    module: &str,
    file: &syn::File,
    models: &RustModels,
    idents: HashSet<String>,
    work: crate::extract::Budget,
) -> FileFacts {
    let mut walker = Walker::new(module, models);
    walker.idents = idents;
    walker.work = work;
    walker.messages = Messages::collect(file);
    walker.collect_constants(&file.items, 0);
    super::fields::collect_field_types(&file.items, &mut walker.field_types);
    walker.visit_file(file);
    walker.finish_function();
    walker.attach_consumed_fields();
    let stopped = walker.work.warning();
    walker.facts.warnings.extend(stopped);
    walker.facts
}

/// A span as line and column positions, to ask whether one expression lies inside another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Region {
    start: (usize, usize),
    end: (usize, usize),
}

impl Region {
    pub(super) fn of(span: Span) -> Region {
        let (start, end) = (span.start(), span.end());
        Region {
            start: (start.line, start.column),
            end: (end.line, end.column),
        }
    }

    pub(super) fn contains(&self, other: Region) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// A `notify` watch, decided when its function ends: a wait if the function waits for the
/// event with a timeout, else a watched file.
pub(super) struct PendingWatch {
    pub(super) path: Expr,
    pub(super) line: u32,
    pub(super) via: String,
    pub(super) region: Region,
}

/// What the walk tracks per function.
#[derive(Default)]
pub(super) struct FunctionState {
    pub(super) watches: Vec<PendingWatch>,
    /// The function waits with a timeout (`recv_timeout`, `tokio::time::timeout`).
    pub(super) timeouts: bool,
}

/// What `use` items make visible in one scope.
#[derive(Default)]
struct Names {
    /// Local name -> full path (`fs` -> `std::fs`, `rm` -> `std::fs::remove_file`).
    imports: HashMap<String, String>,
    /// Modules imported with `*`.
    globs: Vec<String>,
}

/// The state of the walk: the facts so far and where in the file the walk is.
pub(super) struct Walker<'m> {
    pub(super) models: &'m RustModels,
    pub(super) facts: FileFacts,
    /// Where bindings and accesses go: the function, or the module for item initialisers.
    pub(super) scope: ScopeId,
    /// The innermost module scope.
    module: ScopeId,
    /// What `Self` names in the current `impl` or `trait`.
    pub(super) self_type: Option<String>,
    /// The class scope of the current `impl`, where `self.x` bindings go.
    class: Option<ScopeId>,
    classes: HashMap<(ScopeId, String), ScopeId>,
    /// Locals (and parameters) known to hold a value of a type, by function (see `fields`).
    pub(super) local_types: HashMap<(ScopeId, String), String>,
    /// The field types of the file's structs.
    pub(super) field_types: super::fields::FieldTypes,
    /// Types whose field types have class scopes, by module.
    pub(super) expanded_types: HashSet<(ScopeId, String)>,
    names: HashMap<ScopeId, Names>,
    /// Local variables known to hold a `PathBuf`, whose `push` extends a path.
    path_vars: HashSet<(ScopeId, String)>,
    depth: usize,
    pub(super) macro_depth: usize,
    /// Every identifier of the file (`requires` conditions of model rows).
    pub(super) idents: HashSet<String>,
    /// The serde structs of the file.
    pub(super) messages: Messages,
    /// Chain expressions already analysed as part of an enclosing chain.
    inner: HashSet<usize>,
    /// What a `match` on a chain (by its address) says about an environment read.
    pub(super) match_uses: HashMap<usize, EnvUse>,
    /// The declared type of a `let` initialiser (by its address): `let o: Order = ..`.
    pub(super) let_types: HashMap<usize, String>,
    /// Variables holding a message or a value of a named type.
    pub(super) typed: HashMap<(ScopeId, String), Message>,
    /// Values decoded from messages.
    pub(super) decodes: Vec<Decode>,
    /// Variables holding an untyped decoded message (`serde_json::Value`).
    pub(super) value_vars: HashSet<(ScopeId, String)>,
    /// Keys read from untyped messages, by function.
    pub(super) value_reads: Vec<(ScopeId, crate::extract::FieldUse)>,
    /// Variables holding what was read from a file, by that file's path (pid files).
    pub(super) read_sources: HashMap<(ScopeId, String), Expr>,
    /// Variables holding an interval ticker, with its period in words.
    pub(super) intervals: HashMap<(ScopeId, String), Option<String>>,
    /// Variables holding a duration, in words.
    pub(super) durations: HashMap<(ScopeId, String), String>,
    /// Integer and duration constants of the file.
    pub(super) const_ints: HashMap<String, u64>,
    pub(super) const_durations: HashMap<String, String>,
    /// The loops being walked, innermost last.
    pub(super) loops: Vec<LoopFrame>,
    /// The region of each access's call, parallel to `facts.accesses`.
    pub(super) access_regions: Vec<Region>,
    pub(super) function_state: FunctionState,
    /// First segments of the models' function paths: calls into those crates are APIs, not
    /// the repository's own functions.
    pub(super) model_roots: &'m HashSet<String>,
    /// Last segments of the models' function paths and their method names: a call by another
    /// name matches no row.
    pub(super) model_names: &'m HashSet<String>,
    /// The work left for the file: a step per expression visited.
    pub(super) work: crate::extract::Budget,
}

impl<'m> Walker<'m> {
    fn new(module: &str, models: &'m RustModels) -> Walker<'m> {
        Walker {
            models,
            facts: FileFacts::new(module, ScopeKind::Module),
            scope: 0,
            module: 0,
            self_type: None,
            class: None,
            classes: HashMap::new(),
            local_types: HashMap::new(),
            field_types: super::fields::FieldTypes::default(),
            expanded_types: HashSet::new(),
            names: HashMap::new(),
            path_vars: HashSet::new(),
            depth: 0,
            macro_depth: 0,
            idents: HashSet::new(),
            messages: Messages::default(),
            inner: HashSet::new(),
            match_uses: HashMap::new(),
            let_types: HashMap::new(),
            typed: HashMap::new(),
            decodes: Vec::new(),
            value_vars: HashSet::new(),
            value_reads: Vec::new(),
            read_sources: HashMap::new(),
            intervals: HashMap::new(),
            durations: HashMap::new(),
            const_ints: HashMap::new(),
            const_durations: HashMap::new(),
            loops: Vec::new(),
            access_regions: Vec::new(),
            function_state: FunctionState::default(),
            model_roots: models.model_roots(),
            model_names: models.model_names(),
            work: crate::extract::Budget::default(),
        }
    }

    pub(super) fn var(&self, name: String, line: u32) -> Expr {
        Expr::Var {
            name: name.into(),
            scope: self.scope,
            line,
            env_fallback: false,
            default: None,
        }
    }

    pub(super) fn bind_field(&mut self, class: ScopeId, name: String, value: Expr, line: u32) {
        self.bind(class, name, value, line);
    }

    fn bind(&mut self, scope: ScopeId, name: String, value: Expr, line: u32) {
        self.facts.bindings.push(Binding {
            scope,
            name: name.into(),
            value: value.into(),
            line,
        });
    }

    fn access(&mut self, expr: Expr, access: &PathAccess, line: u32, via: String, region: Region) {
        let reach = access.reach.to_reach();
        self.push_access(expr, access.mode, reach, line, via, region);
    }

    fn push_access(
        &mut self,
        expr: Expr,
        mode: Mode,
        reach: crate::extract::Reach,
        line: u32,
        via: String,
        region: Region,
    ) {
        let resource = RawResource::Path(PathTarget {
            expr,
            reach,
            retention: None,
        });
        self.push_resource(resource, mode, line, via, region);
    }

    /// Records an access; a read or check of a path or secret that decides when a polling
    /// loop ends is a `wait-for`.
    pub(super) fn push_resource(
        &mut self,
        resource: RawResource,
        mode: Mode,
        line: u32,
        via: String,
        region: Region,
    ) {
        let mode = match resource {
            RawResource::Path(_) | RawResource::Secret(_) => self.mode_in_loops(mode, region),
            _ => mode,
        };
        self.facts.accesses.push(RawAccess {
            resource,
            mode,
            line,
            scope: self.scope,
            via: via.into(),
        });
        self.access_regions.push(region);
    }

    // --- names -------------------------------------------------------------------------------

    /// The full path a call path names, through the `use` items in scope (`fs::write` ->
    /// `std::fs::write`); unchanged when its first segment is not imported.
    pub(super) fn resolve(&self, segments: &[String]) -> String {
        let Some((first, rest)) = segments.split_first() else {
            return String::new();
        };
        let full = self
            .visible_names()
            .find_map(|names| names.imports.get(first));
        match full {
            Some(full) if rest.is_empty() => full.clone(),
            Some(full) => format!("{full}::{}", rest.join("::")),
            None => segments.join("::"),
        }
    }

    /// Looks a call path up with `find`: as resolved, then under each glob-imported module.
    pub(super) fn lookup<T>(
        &self,
        segments: &[String],
        find: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let resolved = self.resolve(segments);
        if let Some(found) = find(&resolved) {
            return Some(found);
        }
        let joined = segments.join("::");
        self.visible_names()
            .flat_map(|names| names.globs.iter())
            .find_map(|module| find(&format!("{module}::{joined}")))
    }

    /// The names of the current scope, then of enclosing scopes that share them: a function's
    /// module, and a module's parent when it has `use super::*`.
    fn visible_names(&self) -> impl Iterator<Item = &Names> {
        let mut current = Some(self.scope);
        std::iter::from_fn(move || {
            loop {
                let id = current?;
                let scope = self.facts.scopes.get(id)?;
                let names = self.names.get(&id);
                let inherits = match scope.kind {
                    ScopeKind::Module => {
                        names.is_some_and(|n| n.globs.iter().any(|g| g == "super"))
                    }
                    _ => true,
                };
                current = if inherits { scope.parent } else { None };
                if let Some(names) = names {
                    return Some(names);
                }
            }
        })
    }

    fn register_uses<'a>(&mut self, items: impl Iterator<Item = &'a syn::Item>) {
        for item in items {
            if let syn::Item::Use(item) = item
                && !is_test_only(&item.attrs)
            {
                self.register_use(item);
            }
        }
    }

    fn register_use(&mut self, item: &syn::ItemUse) {
        let line = line_of(item.use_token.span);
        let mut leaves = Vec::new();
        use_leaves(&item.tree, &mut Vec::new(), &mut leaves);
        for leaf in leaves {
            self.register_leaf(leaf, line);
        }
    }

    fn register_leaf(&mut self, leaf: UseLeaf, line: u32) {
        let scope = self.scope;
        let names = self.names.entry(scope).or_default();
        let import = match leaf {
            UseLeaf::Glob(module) => {
                let module = module.join("::");
                names.globs.push(module.clone());
                Import {
                    scope,
                    local: "*".to_string().into(),
                    module: module.into(),
                    name: Some("*".to_string().into()),
                    level: 0,
                    line,
                }
            }
            UseLeaf::Name { path, local } => {
                if local == "_" {
                    return;
                }
                names.imports.insert(local.clone(), path.join("::"));
                let (module, name) = match path.split_last() {
                    Some((last, init)) if !init.is_empty() => (init.join("::"), Some(last.clone())),
                    _ => (path.join("::"), None),
                };
                Import {
                    scope,
                    local: local.into(),
                    module: module.into(),
                    name: name.map(Into::into),
                    level: 0,
                    line,
                }
            }
        };
        self.facts.imports.push(import);
    }

    // --- scopes ------------------------------------------------------------------------------

    /// The class scope of a type in the current module, if it exists.
    pub(super) fn class_id(&self, type_name: &str) -> Option<ScopeId> {
        self.classes
            .get(&(self.module, type_name.to_string()))
            .copied()
    }

    /// The innermost module scope.
    pub(super) fn module_id(&self) -> ScopeId {
        self.module
    }

    /// The class scope of a type in the current module, created on first use.
    pub(super) fn class_scope(&mut self, type_name: &str) -> ScopeId {
        let key = (self.module, type_name.to_string());
        if let Some(id) = self.classes.get(&key) {
            return *id;
        }
        let line = self.facts.scopes.get(self.module).map_or(1, |s| s.line);
        let id = self.facts.push_scope(Scope {
            parent: Some(self.module),
            kind: ScopeKind::Class,
            name: type_name.to_string().into(),
            class: None,
            job: None,
            line,
        });
        self.classes.insert(key, id);
        id
    }

    /// Opens a function's scope and walks its body. `owner` is the type of an `impl` or
    /// `trait` method. A function that returns a value also binds its result, as `name()` (or
    /// `Type::name()`, or `self.name()` in the class scope for methods), so that a call such
    /// as `fs::write(day_dir(d), ..)` can be resolved to the path the function builds.
    fn function(
        &mut self,
        owner: Option<String>,
        sig: &syn::Signature,
        class: Option<ScopeId>,
        body: &syn::Block,
        attrs: &[syn::Attribute],
    ) {
        let line = line_of(sig.fn_token.span);
        let name = match &owner {
            Some(owner) => format!("{owner}::{}", sig.ident),
            None => sig.ident.to_string(),
        };
        let id = self.facts.push_scope(Scope {
            parent: Some(self.module),
            kind: ScopeKind::Function,
            name: name.clone().into(),
            class,
            job: None,
            line,
        });
        let mut params: Vec<String> = Vec::new();
        for input in &sig.inputs {
            if let syn::FnArg::Typed(arg) = input {
                // A parameter that is not a plain name (`(a, b): (T, U)`) ends the list:
                // positions after it would be wrong.
                let Some(name) = pat_ident(&arg.pat) else {
                    break;
                };
                params.push(name.clone());
                if is_path_type(&arg.ty) {
                    self.path_vars.insert((id, name));
                }
            }
        }
        if !params.is_empty() {
            self.facts.params.push(crate::extract::FunctionParams {
                scope: id,
                names: params.into_iter().map(Into::into).collect(),
                positional_only: false,
                keyword_only: Vec::new(),
            });
        }
        let saved = std::mem::replace(&mut self.scope, id);
        let saved_state = std::mem::take(&mut self.function_state);
        let saved_loops = std::mem::take(&mut self.loops);
        self.record_typed_params(sig, id);
        for input in &sig.inputs {
            if let syn::FnArg::Typed(arg) = input
                && let Some(name) = pat_ident(&arg.pat)
            {
                let type_name = super::messages::type_name(&arg.ty).map(|t| self.named_type_of(t));
                self.set_local_type(&name, type_name);
            }
        }
        self.route_attributes(attrs, line);
        self.visit_block(body);
        self.finish_function();
        // Bound at the tail expression's line: the line a change of the returned value edits.
        let (result, line) = match (&sig.output, body.stmts.last()) {
            (syn::ReturnType::Type(..), Some(syn::Stmt::Expr(tail, None))) => {
                (Some(self.convert(tail)), start_line(tail).max(line))
            }
            _ => (None, line),
        };
        self.function_state = saved_state;
        self.loops = saved_loops;
        self.scope = saved;
        let Some(result) = result.filter(|r| !is_bare_hole(r)) else {
            return;
        };
        match class {
            Some(class) if sig.receiver().is_some() => {
                self.bind(class, format!("self.{}()", sig.ident), result, line);
            }
            _ => self.bind(self.module, format!("{name}()"), result, line),
        }
    }

    /// Whether a local of the current function is known to hold a `PathBuf`.
    pub(super) fn is_path_var(&self, name: &str) -> bool {
        self.path_vars.contains(&(self.scope, name.to_string()))
    }

    /// `Self` in an `impl` is its type.
    pub(super) fn named_type_of(&self, name: String) -> String {
        match (&self.self_type, name.as_str()) {
            (Some(t), "Self") => t.clone(),
            _ => name,
        }
    }

    fn self_type_name(&self) -> String {
        self.self_type.clone().unwrap_or_else(|| "Self".to_string())
    }

    // --- bindings ----------------------------------------------------------------------------

    /// Binds the names of a `let`, `if let` or `for` pattern. A plain name (also `mut x`,
    /// `x: T`, `Some(x)`, `Ok(x)`, `&x`) gets `value`; names inside other patterns are bound to
    /// holes, so that they shadow outer bindings of the same name.
    fn bind_pattern(&mut self, pat: &syn::Pat, value: Expr, init: Option<&syn::Expr>, line: u32) {
        match pat {
            syn::Pat::Ident(p) if p.subpat.is_none() => {
                let name = p.ident.to_string();
                if init.is_some_and(|init| self.looks_like_pathbuf(init, &value)) {
                    self.path_vars.insert((self.scope, name.clone()));
                }
                let type_name = init.and_then(|init| self.value_type(init));
                self.set_local_type(&name, type_name);
                self.bind(self.scope, name, value, line);
            }
            syn::Pat::Type(p) => {
                if is_path_type(&p.ty)
                    && let Some(name) = pat_ident(&p.pat)
                {
                    self.path_vars.insert((self.scope, name));
                }
                self.bind_pattern(&p.pat, value, init, line);
                if let Some(name) = pat_ident(&p.pat)
                    && let Some(type_name) = super::messages::type_name(&p.ty)
                {
                    let type_name = self.named_type_of(type_name);
                    self.set_local_type(&name, Some(type_name));
                }
            }
            syn::Pat::Reference(p) => self.bind_pattern(&p.pat, value, init, line),
            syn::Pat::Paren(p) => self.bind_pattern(&p.pat, value, init, line),
            syn::Pat::TupleStruct(p)
                if p.elems.len() == 1
                    && p.qself.is_none()
                    && p.path
                        .segments
                        .last()
                        .is_some_and(|s| s.ident == "Some" || s.ident == "Ok") =>
            {
                if let Some(inner) = p.elems.first() {
                    self.bind_pattern(inner, value, init, line);
                }
            }
            _ => {
                let mut names = Vec::new();
                pattern_idents(pat, &mut names);
                for name in names {
                    let hole = Expr::hole(name.clone());
                    self.bind(self.scope, name, hole, line);
                }
            }
        }
    }

    /// `p.push(x)`, `p.set_extension(e)`, `s.push_str(x)` and the like rebind `p` to the
    /// mutated value, at the line of the call.
    fn bind_mutation(&mut self, call: &syn::ExprMethodCall) {
        let Some(name) = expr_ident(&call.receiver) else {
            return;
        };
        let line = start_line(&call.receiver);
        let is_path = self.is_path_var(&name);
        let current = self.var(name.clone(), line);
        let method = call.method.to_string();
        let value = match (method.as_str(), call.args.first(), call.args.len()) {
            ("push", Some(arg), 1) if is_path => self.join(current, self.convert(arg)),
            ("pop", None, 0) if is_path => Expr::Parent {
                of: Box::new(current),
            },
            ("set_extension", Some(arg), 1) => Expr::ReplaceName {
                of: Box::new(current),
                name: Box::new(self.extension(arg)),
                suffix_only: true,
            },
            ("set_file_name", Some(arg), 1) => Expr::ReplaceName {
                of: Box::new(current),
                name: Box::new(self.convert(arg)),
                suffix_only: false,
            },
            ("push_str", Some(arg), 1) => super::convert::concat(vec![current, self.convert(arg)]),
            _ => return,
        };
        self.bind(self.scope, name, value, line);
    }

    // --- accesses ----------------------------------------------------------------------------

    fn function_accesses(&mut self, call: &syn::ExprCall) {
        let Some(segments) = call_path(&call.func) else {
            return;
        };
        let models = self.models;
        let line = start_line(&call.func);
        if let Some((row, _)) = self.lookup(&segments, |p| models.run(p))
            && let Some(program) = call.args.get(row.arg)
        {
            let expr = self.convert(program);
            self.facts.runs.push(RunRef {
                scope: self.scope,
                line,
                target: RunTarget::Path { expr },
            });
        }
        let Some((row, via)) = self.lookup(&segments, |p| models.function(p)) else {
            return;
        };
        for access in &row.accesses {
            let PathPosition::Arg(index) = access.at else {
                continue;
            };
            if let Some(arg) = call.args.get(index) {
                let expr = self.path_argument(arg, access.glob);
                self.access(expr, access, line, via.clone(), Region::of(call.span()));
            }
        }
    }

    fn method_accesses(&mut self, call: &syn::ExprMethodCall) {
        let method = call.method.to_string();
        let models = self.models;
        let line = start_line(&call.receiver);
        if let Some(row) = models.method(&method, call.args.len()) {
            for access in &row.accesses {
                let expr = match access.at {
                    PathPosition::Receiver => self.convert(&call.receiver),
                    PathPosition::Arg(i) => match call.args.get(i) {
                        Some(arg) => self.path_argument(arg, access.glob),
                        None => continue,
                    },
                };
                // No type information: on a receiver the extractor knows nothing about, a
                // method named like a path method is too weak a signal to report
                // (`entry.file_type()?.is_dir()`, `meta.is_file()`).
                if is_bare_hole(&expr) || is_call_result(&expr) || self.is_bound_to_unknown(&expr) {
                    continue;
                }
                self.access(
                    expr,
                    access,
                    line,
                    row.name.clone(),
                    Region::of(call.span()),
                );
            }
        }
        for builder in models.builders_finished_by(&method) {
            if let Some(mode) = self.builder_mode(builder, &call.receiver)
                && let Some(arg) = call.args.get(builder.arg)
            {
                let expr = self.convert(arg);
                let reach = crate::extract::Reach::Exact;
                let region = Region::of(call.span());
                self.push_access(expr, mode, reach, line, builder.name.clone(), region);
            }
        }
    }

    /// Whether `expr` is a variable whose latest binding in this function (or, for `self.x`,
    /// in the class) is an unknown value.
    fn is_bound_to_unknown(&self, expr: &Expr) -> bool {
        let Expr::Var { name, line, .. } = expr else {
            return false;
        };
        let scope = match self.class {
            Some(class) if name.starts_with("self.") => class,
            _ => self.scope,
        };
        let in_class = scope != self.scope;
        self.facts
            .bindings
            .iter()
            .rev()
            .find(|b| b.scope == scope && b.name == name && (in_class || b.line <= *line))
            .is_some_and(|b| is_bare_hole(&b.value))
    }

    /// The mode of a builder chain ending at `receiver`, if the chain starts with one of the
    /// builder's functions: the first of its flags that the chain sets, else its default.
    fn builder_mode(&self, builder: &BuilderModel, mut receiver: &syn::Expr) -> Option<Mode> {
        let mut set = Vec::new();
        loop {
            receiver = match receiver {
                syn::Expr::MethodCall(call) => {
                    if !call.args.first().is_some_and(is_false) {
                        set.push(call.method.to_string());
                    }
                    &call.receiver
                }
                syn::Expr::Paren(p) => &p.expr,
                syn::Expr::Reference(r) => &r.expr,
                syn::Expr::Call(call) => {
                    let segments = call_path(&call.func)?;
                    let models = self.models;
                    let starts = self.lookup(&segments, |p| {
                        models.path_matches(p, &builder.start).then_some(())
                    });
                    starts?;
                    let flag = builder.flags.iter().find(|f| set.contains(&f.method));
                    return Some(flag.map_or(builder.default, |f| f.mode));
                }
                _ => return None,
            };
        }
    }

    fn path_argument(&self, arg: &syn::Expr, glob: bool) -> Expr {
        let expr = self.convert(arg);
        if glob { to_glob(expr) } else { expr }
    }

    // --- macros ------------------------------------------------------------------------------

    /// Walks the body of a macro call when it parses as expressions or statements (`assert!`,
    /// `vec!`, `tokio::select!`-free code); other macros are skipped.
    fn macro_body(&mut self, mac: &syn::Macro) {
        if self.macro_depth >= MAX_MACRO_DEPTH {
            return;
        }
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        self.macro_depth += 1;
        if name == "lazy_static" {
            self.lazy_statics(mac);
        } else if let Some(arms) = (name == "select" || name == "select_biased")
            .then(|| mac.parse_body_with(parse_select_arms).ok())
            .flatten()
        {
            for arm in &arms {
                self.select_arm(arm);
            }
        } else if let Ok(exprs) =
            mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
        {
            for expr in &exprs {
                self.visit_expr(expr);
            }
        } else if let Ok(stmts) = mac.parse_body_with(syn::Block::parse_within) {
            for stmt in &stmts {
                self.visit_stmt(stmt);
            }
        }
        self.macro_depth -= 1;
    }

    /// One branch of `tokio::select!`: its future, its pattern bound to the future's value,
    /// its handler.
    fn select_arm(&mut self, arm: &SelectArm) {
        self.visit_expr(&arm.future);
        if let Some(pat) = &arm.pat {
            let value = self.convert(&arm.future);
            let line = start_line(&arm.future);
            self.bind_pattern(pat, value, None, line);
        }
        if let Some(guard) = &arm.guard {
            self.visit_expr(guard);
        }
        self.visit_expr(&arm.handler);
    }

    /// `lazy_static! { static ref NAME: T = expr; }` binds NAME like a `static`.
    fn lazy_statics(&mut self, mac: &syn::Macro) {
        let Ok(statics) = mac.parse_body_with(parse_lazy_statics) else {
            return;
        };
        for (name, expr) in &statics {
            let value = self.convert(expr);
            self.bind(self.scope, name.to_string(), value, line_of(name.span()));
            self.visit_expr(expr);
        }
    }

    fn item_macro(&mut self, item: &syn::ItemMacro) {
        // `macro_rules! name { .. }` defines a macro; its body is a template, not code.
        if item.ident.is_some() || self.macro_depth >= MAX_MACRO_DEPTH {
            return;
        }
        let name = item.mac.path.segments.last().map(|s| s.ident.to_string());
        if name.as_deref() == Some("lazy_static") {
            self.macro_depth += 1;
            self.lazy_statics(&item.mac);
            self.macro_depth -= 1;
            return;
        }
        if let Ok(items) = item.mac.parse_body_with(parse_items) {
            self.macro_depth += 1;
            self.register_uses(items.iter());
            for item in &items {
                self.visit_item(item);
            }
            self.macro_depth -= 1;
        }
    }
}

impl<'ast> Visit<'ast> for Walker<'_> {
    fn visit_file(&mut self, file: &'ast syn::File) {
        self.register_uses(file.items.iter());
        for item in &file.items {
            self.visit_item(item);
        }
    }

    fn visit_item(&mut self, item: &'ast syn::Item) {
        if is_test_only(item_attrs(item)) {
            return;
        }
        visit::visit_item(self, item);
    }

    fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {
        // Registered when the enclosing module or block was entered.
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.function(None, &item.sig, None, &item.block, &item.attrs);
    }

    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        self.env_attribute_reads(item);
        self.field_attribute_values(item);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        let Some((_, items)) = &item.content else {
            return;
        };
        let id = self.facts.push_scope(Scope {
            parent: Some(self.module),
            kind: ScopeKind::Module,
            name: item.ident.to_string().into(),
            class: None,
            job: None,
            line: line_of(item.mod_token.span),
        });
        let saved = (
            self.scope,
            self.module,
            self.self_type.take(),
            self.class.take(),
        );
        self.scope = id;
        self.module = id;
        self.register_uses(items.iter());
        for item in items {
            self.visit_item(item);
        }
        (self.scope, self.module, self.self_type, self.class) = saved;
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let type_name = type_name(&item.self_ty).unwrap_or_else(|| "Self".to_string());
        let class = self.class_scope(&type_name);
        // `self.config.out_dir` reads fields of the fields' types.
        self.typed_class(&type_name);
        let saved_type = self.self_type.replace(type_name);
        let saved_class = self.class.replace(class);
        for item in &item.items {
            self.visit_impl_item(item);
        }
        self.self_type = saved_type;
        self.class = saved_class;
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        let attrs = match item {
            syn::ImplItem::Fn(f) => &f.attrs,
            syn::ImplItem::Const(c) => &c.attrs,
            _ => return,
        };
        if !is_test_only(attrs) {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        let owner = Some(self.self_type_name());
        self.function(owner, &item.sig, self.class, &item.block, &item.attrs);
    }

    fn visit_impl_item_const(&mut self, item: &'ast syn::ImplItemConst) {
        let name = format!("{}::{}", self.self_type_name(), item.ident);
        let value = self.convert(&item.expr);
        self.bind(self.module, name, value, line_of(item.ident.span()));
        self.visit_expr(&item.expr);
    }

    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        let saved_type = self.self_type.replace(item.ident.to_string());
        let saved_class = self.class.take();
        for item in &item.items {
            if let syn::TraitItem::Fn(f) = item
                && let Some(body) = &f.default
                && !is_test_only(&f.attrs)
            {
                let owner = Some(self.self_type_name());
                self.function(owner, &f.sig, None, body, &f.attrs);
            }
        }
        self.self_type = saved_type;
        self.class = saved_class;
    }

    fn visit_item_const(&mut self, item: &'ast syn::ItemConst) {
        let value = self.convert(&item.expr);
        self.bind(
            self.scope,
            item.ident.to_string(),
            value,
            line_of(item.ident.span()),
        );
        self.visit_expr(&item.expr);
    }

    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        let value = self.convert(&item.expr);
        self.bind(
            self.scope,
            item.ident.to_string(),
            value,
            line_of(item.ident.span()),
        );
        self.visit_expr(&item.expr);
    }

    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        self.item_macro(item);
    }

    fn visit_block(&mut self, block: &'ast syn::Block) {
        let uses = block.stmts.iter().filter_map(|s| match s {
            syn::Stmt::Item(item) => Some(item),
            _ => None,
        });
        self.register_uses(uses);
        for stmt in &block.stmts {
            self.visit_stmt(stmt);
        }
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        let line = line_of(local.let_token.span);
        self.record_local(local);
        match &local.init {
            Some(init) => {
                let value = self.convert(&init.expr);
                self.bind_pattern(&local.pat, value, Some(&init.expr), line);
            }
            None => {
                if let syn::Pat::Type(p) = &local.pat
                    && is_path_type(&p.ty)
                    && let Some(name) = pat_ident(&p.pat)
                {
                    self.path_vars.insert((self.scope, name));
                }
            }
        }
        visit::visit_local(self, local);
        if let Some(init) = &local.init {
            self.let_types.remove(&key(&init.expr));
        }
    }

    fn visit_expr(&mut self, expr: &'ast syn::Expr) {
        if self.depth >= MAX_VISIT_DEPTH || !self.work.spend(|| start_line(expr)) {
            return;
        }
        self.depth += 1;
        let mut marked = Vec::new();
        if is_chain_expr(expr) && !self.inner.contains(&key(expr)) {
            let chain = Chain::of(expr);
            self.analyse_chain(&chain, expr);
            for inner in chain.inner {
                if self.inner.insert(inner) {
                    marked.push(inner);
                }
            }
        }
        visit::visit_expr(self, expr);
        for inner in marked {
            self.inner.remove(&inner);
        }
        self.depth -= 1;
    }

    fn visit_expr_match(&mut self, expr: &'ast syn::ExprMatch) {
        let scrutinee = key(&expr.expr);
        if let Some(usage) = self.match_env_use(expr) {
            self.match_uses.insert(scrutinee, usage);
        }
        visit::visit_expr_match(self, expr);
        self.match_uses.remove(&scrutinee);
    }

    fn visit_expr_loop(&mut self, expr: &'ast syn::ExprLoop) {
        let line = line_of(expr.loop_token.span);
        self.enter_loop(LoopKind::Loop, &expr.body, line);
        visit::visit_expr_loop(self, expr);
        self.leave_loop();
    }

    fn visit_expr_while(&mut self, expr: &'ast syn::ExprWhile) {
        let line = line_of(expr.while_token.span);
        self.enter_loop(LoopKind::While(&expr.cond), &expr.body, line);
        visit::visit_expr_while(self, expr);
        self.leave_loop();
    }

    fn visit_expr_let(&mut self, expr: &'ast syn::ExprLet) {
        let value = self.convert(&expr.expr);
        let line = line_of(expr.let_token.span);
        self.bind_pattern(&expr.pat, value, Some(&expr.expr), line);
        visit::visit_expr_let(self, expr);
    }

    fn visit_expr_for_loop(&mut self, expr: &'ast syn::ExprForLoop) {
        let value = self.iteration_value(&expr.expr);
        let line = line_of(expr.for_token.span);
        self.bind_pattern(&expr.pat, value, None, line);
        self.enter_loop(LoopKind::For(&expr.expr), &expr.body, line);
        visit::visit_expr_for_loop(self, expr);
        self.leave_loop();
    }

    fn visit_expr_assign(&mut self, expr: &'ast syn::ExprAssign) {
        let line = start_line(&expr.left);
        if let Some(name) = expr_ident(&expr.left) {
            let value = self.convert(&expr.right);
            self.bind(self.scope, name, value, line);
        } else if let syn::Expr::Field(field) = &*expr.left
            && let Some(class) = self.class
            && expr_ident(&field.base).as_deref() == Some("self")
            && let syn::Member::Named(member) = &field.member
        {
            let value = self.convert(&expr.right);
            self.bind(class, format!("self.{member}"), value, line);
        }
        visit::visit_expr_assign(self, expr);
    }

    fn visit_expr_binary(&mut self, expr: &'ast syn::ExprBinary) {
        if let syn::BinOp::AddAssign(_) = expr.op
            && let Some(name) = expr_ident(&expr.left)
        {
            let line = start_line(&expr.left);
            let current = self.var(name.clone(), line);
            let value = super::convert::concat(vec![current, self.convert(&expr.right)]);
            self.bind(self.scope, name, value, line);
        }
        visit::visit_expr_binary(self, expr);
    }

    fn visit_expr_struct(&mut self, expr: &'ast syn::ExprStruct) {
        let type_name = expr.path.segments.last().map(|s| s.ident.to_string());
        if let Some(type_name) = type_name
            && expr.qself.is_none()
        {
            let type_name = if type_name == "Self" {
                self.self_type_name()
            } else {
                type_name
            };
            let class = self.class_scope(&type_name);
            for field in &expr.fields {
                if let syn::Member::Named(member) = &field.member {
                    let value = self.convert(&field.expr);
                    let line = line_of(member.span());
                    self.bind(class, format!("self.{member}"), value, line);
                }
            }
        }
        visit::visit_expr_struct(self, expr);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        self.function_accesses(call);
        self.record_call(call);
        visit::visit_expr_call(self, call);
    }

    fn visit_expr_index(&mut self, expr: &'ast syn::ExprIndex) {
        self.record_value_read(&expr.expr, &expr.index, false);
        visit::visit_expr_index(self, expr);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if call.method == "get"
            && let Some(key) = call.args.first()
            && call.args.len() == 1
        {
            self.record_value_read(&call.receiver, key, true);
        }
        self.bind_mutation(call);
        self.method_accesses(call);
        self.record_method_call(call);
        visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_macro(&mut self, expr: &'ast syn::ExprMacro) {
        self.macro_body(&expr.mac);
    }

    fn visit_stmt_macro(&mut self, stmt: &'ast syn::StmtMacro) {
        self.macro_body(&stmt.mac);
    }

    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}

    fn visit_type(&mut self, _: &'ast syn::Type) {}

    fn visit_pat(&mut self, _: &'ast syn::Pat) {}

    fn visit_generics(&mut self, _: &'ast syn::Generics) {}
}

// --- helpers over syntax ---------------------------------------------------------------------

/// One name or glob that a `use` tree imports.
enum UseLeaf {
    Name { path: Vec<String>, local: String },
    Glob(Vec<String>),
}

fn use_leaves(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<UseLeaf>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_leaves(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => out.push(use_name(prefix, &n.ident, None)),
        syn::UseTree::Rename(r) => out.push(use_name(prefix, &r.ident, Some(&r.rename))),
        syn::UseTree::Glob(_) => out.push(UseLeaf::Glob(prefix.clone())),
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                use_leaves(tree, prefix, out);
            }
        }
    }
}

/// `a::b::c`, `a::b::c as d`, and `a::b::{self}` (which imports `a::b` as `b`).
fn use_name(prefix: &[String], ident: &syn::Ident, rename: Option<&syn::Ident>) -> UseLeaf {
    let mut path = prefix.to_vec();
    if ident != "self" {
        path.push(ident.to_string());
    }
    let local = match rename {
        Some(rename) => rename.to_string(),
        None => path.last().cloned().unwrap_or_default(),
    };
    UseLeaf::Name { path, local }
}

/// Whether attributes mark code that only exists in test builds.
pub(super) fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let path = attr.path();
        let last = path.segments.last().map(|s| s.ident.to_string());
        match (&attr.meta, last.as_deref()) {
            (syn::Meta::Path(_), Some("test")) => true,
            (syn::Meta::List(list), Some("cfg")) if path.segments.len() == 1 => {
                let text = list.tokens.to_string();
                let words: Vec<&str> = text
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .filter(|w| !w.is_empty())
                    .collect();
                // `cfg(test)` and `cfg(all(test, ..))`; not `cfg(not(test))` or
                // `cfg(any(test, ..))`, which may be compiled in production.
                match words.first() {
                    Some(&"test") => true,
                    Some(&"all") => words.contains(&"test") && !words.contains(&"not"),
                    _ => false,
                }
            }
            _ => false,
        }
    })
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        _ => &[],
    }
}

/// The segments of a call's function path (`fs::write` -> `["fs", "write"]`), without generics.
pub(super) fn call_path(func: &syn::Expr) -> Option<Vec<String>> {
    match func {
        syn::Expr::Path(p) if p.qself.is_none() => Some(
            p.path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect(),
        ),
        syn::Expr::Paren(p) => call_path(&p.expr),
        _ => None,
    }
}

/// The identifier an expression is, if it is a plain one (`x`, not `a::x`).
pub(super) fn expr_ident(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Path(p) if p.qself.is_none() && p.path.leading_colon.is_none() => {
            p.path.get_ident().map(ToString::to_string)
        }
        _ => None,
    }
}

pub(super) fn pat_ident(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::Ident(p) if p.subpat.is_none() => Some(p.ident.to_string()),
        syn::Pat::Type(p) => pat_ident(&p.pat),
        _ => None,
    }
}

/// Every name a pattern binds.
fn pattern_idents(pat: &syn::Pat, out: &mut Vec<String>) {
    match pat {
        syn::Pat::Ident(p) => {
            out.push(p.ident.to_string());
            if let Some((_, sub)) = &p.subpat {
                pattern_idents(sub, out);
            }
        }
        syn::Pat::Or(p) => p.cases.iter().take(1).for_each(|c| pattern_idents(c, out)),
        syn::Pat::Paren(p) => pattern_idents(&p.pat, out),
        syn::Pat::Reference(p) => pattern_idents(&p.pat, out),
        syn::Pat::Slice(p) => p.elems.iter().for_each(|e| pattern_idents(e, out)),
        syn::Pat::Struct(p) => p.fields.iter().for_each(|f| pattern_idents(&f.pat, out)),
        syn::Pat::Tuple(p) => p.elems.iter().for_each(|e| pattern_idents(e, out)),
        syn::Pat::TupleStruct(p) => p.elems.iter().for_each(|e| pattern_idents(e, out)),
        syn::Pat::Type(p) => pattern_idents(&p.pat, out),
        _ => {}
    }
}

/// The name of the type an `impl` is for: the last segment of its path.
fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => {
            p.path.segments.last().map(|s| s.ident.to_string())
        }
        syn::Type::Reference(r) => type_name(&r.elem),
        syn::Type::Paren(p) => type_name(&p.elem),
        syn::Type::Group(g) => type_name(&g.elem),
        _ => None,
    }
}

/// `PathBuf` (or `std::path::PathBuf`), possibly behind `mut` references.
fn is_path_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "PathBuf"),
        syn::Type::Reference(r) => r.mutability.is_some() && is_path_type(&r.elem),
        _ => false,
    }
}

/// A function's result (`make()`), whose type the extractor does not know.
fn is_call_result(expr: &Expr) -> bool {
    matches!(expr, Expr::Var { name, .. } if name.ends_with("()"))
}

fn is_false(expr: &syn::Expr) -> bool {
    matches!(expr, syn::Expr::Lit(l) if matches!(&l.lit, syn::Lit::Bool(b) if !b.value()))
}

/// The line where an expression starts: a call's line is that of its receiver or function
/// path, even when its arguments span several lines.
pub(super) fn start_line(mut expr: &syn::Expr) -> u32 {
    loop {
        expr = match expr {
            syn::Expr::MethodCall(e) => &e.receiver,
            syn::Expr::Call(e) => &e.func,
            syn::Expr::Field(e) => &e.base,
            syn::Expr::Try(e) => &e.expr,
            syn::Expr::Await(e) => &e.base,
            syn::Expr::Index(e) => &e.expr,
            syn::Expr::Binary(e) => &e.left,
            syn::Expr::Cast(e) => &e.expr,
            syn::Expr::Path(e) => return path_line(&e.path),
            syn::Expr::Lit(e) => return line_of(e.lit.span()),
            syn::Expr::Macro(e) => return path_line(&e.mac.path),
            syn::Expr::Reference(e) => return line_of(e.and_token.span),
            syn::Expr::Paren(e) => return line_of(e.paren_token.span.open()),
            syn::Expr::Array(e) => return line_of(e.bracket_token.span.open()),
            syn::Expr::Block(e) => return line_of(e.block.brace_token.span.open()),
            syn::Expr::Struct(e) => return path_line(&e.path),
            syn::Expr::Tuple(e) => return line_of(e.paren_token.span.open()),
            other => return line_of(other.span()),
        };
    }
}

fn path_line(path: &syn::Path) -> u32 {
    match (&path.leading_colon, path.segments.first()) {
        (Some(colon), _) => line_of(colon.spans[0]),
        (None, Some(segment)) => line_of(segment.ident.span()),
        (None, None) => 1,
    }
}

fn parse_lazy_statics(input: ParseStream) -> syn::Result<Vec<(syn::Ident, syn::Expr)>> {
    let mut statics = Vec::new();
    while !input.is_empty() {
        input.call(syn::Attribute::parse_outer)?;
        input.parse::<syn::Visibility>()?;
        input.parse::<syn::Token![static]>()?;
        input.parse::<syn::Token![ref]>()?;
        let name: syn::Ident = input.parse()?;
        input.parse::<syn::Token![:]>()?;
        input.parse::<syn::Type>()?;
        input.parse::<syn::Token![=]>()?;
        let expr: syn::Expr = input.parse()?;
        input.parse::<syn::Token![;]>()?;
        statics.push((name, expr));
    }
    Ok(statics)
}

/// A branch of `tokio::select!` / `futures::select!`: `pat = future, if guard => handler`, or
/// `else => handler` (no pattern; the future is `()`).
pub(super) struct SelectArm {
    pat: Option<syn::Pat>,
    future: syn::Expr,
    guard: Option<syn::Expr>,
    handler: syn::Expr,
}

fn parse_select_arms(input: ParseStream) -> syn::Result<Vec<SelectArm>> {
    let mut arms = Vec::new();
    if input.peek(syn::Ident) && input.fork().parse::<syn::Ident>()? == "biased" {
        input.parse::<syn::Ident>()?;
        input.parse::<syn::Token![;]>()?;
    }
    while !input.is_empty() {
        let (pat, future) = if input.peek(syn::Token![else]) {
            input.parse::<syn::Token![else]>()?;
            (None, syn::Expr::Tuple(syn::parse_quote!(())))
        } else {
            let pat = syn::Pat::parse_multi(input)?;
            input.parse::<syn::Token![=]>()?;
            (Some(pat), input.parse::<syn::Expr>()?)
        };
        let guard = if input.peek(syn::Token![,]) && input.peek2(syn::Token![if]) {
            input.parse::<syn::Token![,]>()?;
            input.parse::<syn::Token![if]>()?;
            Some(input.parse::<syn::Expr>()?)
        } else {
            None
        };
        input.parse::<syn::Token![=>]>()?;
        let handler: syn::Expr = input.parse()?;
        if !input.is_empty() {
            input.parse::<syn::Token![,]>().ok();
        }
        arms.push(SelectArm {
            pat,
            future,
            guard,
            handler,
        });
    }
    Ok(arms)
}

fn parse_items(input: ParseStream) -> syn::Result<Vec<syn::Item>> {
    let mut items = Vec::new();
    while !input.is_empty() {
        items.push(input.parse()?);
    }
    Ok(items)
}
