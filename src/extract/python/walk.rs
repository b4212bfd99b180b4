//! Statements: scopes, bindings, imports, loops and `with` blocks.
//!
//! The walk records what each statement binds and hands every expression to the call scanner
//! ([`Extractor::scan`]) so that calls matched by a model become accesses. Recursion over
//! statements is bounded by [`MAX_DEPTH`]; expression scanning uses an explicit stack.

use super::parse::line_of;
use crate::expr::{Expr, ScopeId};
use crate::extract::FieldExt as _;
use crate::extract::{Binding, ExtractWarning, FileFacts, Import, Scope, ScopeKind};
use crate::rules::models::python::PythonModels;
use foldhash::{HashMap, HashMapExt as _, HashSet, HashSetExt as _};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use tree_sitter::Node;

/// Deepest nesting of statements or expressions that is followed; deeper code is skipped with a
/// warning (no real program nests this deep; an attacker's file may).
pub(super) const MAX_DEPTH: u32 = 150;

/// Deepest nesting of a destructuring target (`(a, (b, c)) = ...`) that is paired with its
/// value; deeper targets are bound to holes.
pub(super) const MAX_TARGET_DEPTH: u32 = 16;

/// Where a statement or expression is: the scope its names belong to, and what encloses it.
#[derive(Clone, Debug)]
pub(super) struct Ctx {
    /// The scope where names are bound and looked up (a class body binds in its class).
    pub scope: ScopeId,
    /// The nearest function or module scope: the parent of a `def` or `class` found here
    /// (class bodies do not enclose methods in Python).
    pub def_parent: ScopeId,
    /// Set while directly in a class body: a `def` here is a method of this class.
    pub class_body: Option<ScopeId>,
    /// In a method (or a function nested in one): the class where `self.x = ...` is recorded,
    /// and the name of the method's first parameter, which is spelled `self` in facts.
    pub self_class: Option<ScopeId>,
    pub self_name: Option<Rc<str>>,
    /// Names declared `global` in the current function: bound in the module scope.
    pub globals: Rc<BTreeSet<String>>,
    /// Values of comprehension and lambda variables, visible only inside their expression:
    /// substituted directly instead of recorded as bindings.
    pub locals: Rc<BTreeMap<String, Expr>>,
    /// Lowest statement line in a body written on its header's line (`for f in x: rm(f)`),
    /// so that its names see the header's bindings.
    pub floor: u32,
    /// Line of the statement being visited: the `line` of every `Var` in it, so a name used
    /// in a statement refers to bindings made before that statement.
    pub line: u32,
    pub depth: u32,
}

impl Ctx {
    pub(super) fn module() -> Ctx {
        Ctx {
            scope: 0,
            def_parent: 0,
            class_body: None,
            self_class: None,
            self_name: None,
            globals: Rc::default(),
            locals: Rc::default(),
            floor: 0,
            line: 1,
            depth: 0,
        }
    }

    pub fn at(&self, line: u32) -> Ctx {
        Ctx {
            line: line.max(self.floor),
            ..self.clone()
        }
    }

    fn deeper(&self) -> Ctx {
        Ctx {
            depth: self.depth + 1,
            ..self.clone()
        }
    }
}

/// The state of one file's extraction.
pub(super) struct Extractor<'a> {
    pub src: &'a str,
    /// The file's repository-relative path: the value of `__file__`.
    pub file_path: String,
    pub module: String,
    pub is_package: bool,
    pub models: &'a PythonModels,
    /// Local dotted name -> qualified name, from the file's imports (`osp` -> `os.path`,
    /// `P` -> `pathlib.Path`, `os.path` -> `os.path`).
    /// Hashed: every call's callee is looked up here once per prefix of its dotted name.
    pub aliases: HashMap<String, String>,
    /// Functions and classes defined at the top of this file, qualified with the module name.
    pub local_defs: HashSet<String>,
    pub facts: FileFacts,
    /// Indexes into `facts.bindings` by (scope, name), for lookups and shadowing checks.
    bound: HashMap<(ScopeId, String), Vec<usize>>,
    /// Parameter names of each function scope (parameters without a default are not bound,
    /// but still shadow imports).
    params: HashSet<(ScopeId, String)>,
    deep_warned: bool,
    /// Names bound by `from m import name` (which may be objects, not modules).
    pub from_imported: BTreeSet<String>,
    /// Types of names, by (scope, dotted name): (line, type), `None` for an untyped rebinding.
    pub types: TypeTable,
    /// Types returned by functions of this file, by call name (`_sm()`, `self.client()`).
    pub return_types: HashMap<String, String>,
    /// Options declared with `add_argument`, for `args = parser.parse_args()`.
    pub option_defaults: Vec<super::options::OptionDefault>,
    /// The function whose decorators are being scanned.
    pub decorating: Option<Decorated>,
    /// The node id of the decorator expression being scanned (decorator rows match it only).
    pub current_decorator: Option<usize>,
    /// Loop triggers whose interval is a name to look up at the end: (trigger index, name).
    pub pending_intervals: Vec<(usize, String)>,
    /// Names bound to numeric expressions (`INTERVAL = 5 * 60`), by (scope, name).
    pub numbers: HashMap<(ScopeId, String), String>,
    /// What message-field analysis may still read in this file.
    pub budget: super::messages::Budget,
    /// The work left for the whole file: a step per statement, scanned node and translated
    /// expression.
    pub work: crate::extract::Budget,
    /// The file's syntax trees, to find a node's ancestors from its root.
    pub trees: Rc<Vec<tree_sitter::Tree>>,
    /// Celery tasks defined in this file, by function name.
    pub tasks: BTreeMap<String, TaskDef>,
    /// Schedule triggers whose job is a function named here, to be given that function's
    /// scope once every scope exists: (index in `facts.triggers`, function name).
    pub pending_jobs: Vec<(usize, String)>,
    /// Names bound to `functools.partial(fn, ...)`, by (scope, name): the callee as calls
    /// record it and the arguments the partial binds.
    pub partials: HashMap<(ScopeId, String), (String, Vec<crate::extract::CallArg>)>,
    /// Methods decorated `@property` (or `cached_property`): read without a call.
    pub properties: HashSet<ScopeId>,
}

/// Types of names by (scope, dotted name): the lines where they were bound, each with its type
/// (`None` for an untyped rebinding).
pub(super) type TypeTable = HashMap<(ScopeId, String), Vec<(u32, Option<String>)>>;

/// A function whose decorators are being scanned: effects of decorator rows belong to it.
#[derive(Clone, Debug)]
pub(super) struct Decorated {
    pub name: String,
    /// The scope the function will get (scopes are numbered in order of creation).
    pub scope: ScopeId,
    pub params: Vec<Param>,
    /// Byte range of the `def`, to find it again from a decorator.
    pub start: usize,
    pub end: usize,
}

/// A parameter of a function, as message-field analysis needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Param {
    pub name: String,
    pub has_default: bool,
    /// `*args` or `**kwargs`.
    pub splat: bool,
    pub line: u32,
}

/// A Celery task of this file: its wire name and parameters.
#[derive(Clone, Debug)]
pub(super) struct TaskDef {
    pub name: Expr,
    pub params: Vec<Param>,
}

impl<'a> Extractor<'a> {
    pub fn new(src: &'a str, module: String, is_package: bool, models: &'a PythonModels) -> Self {
        Extractor {
            src,
            file_path: String::new(),
            facts: FileFacts::new(module.clone(), ScopeKind::Module),
            module,
            is_package,
            models,
            aliases: HashMap::new(),
            local_defs: HashSet::new(),
            bound: HashMap::new(),
            params: HashSet::new(),
            deep_warned: false,
            from_imported: BTreeSet::new(),
            types: HashMap::new(),
            return_types: HashMap::new(),
            option_defaults: Vec::new(),
            decorating: None,
            current_decorator: None,
            numbers: HashMap::new(),
            pending_intervals: Vec::new(),
            trees: Rc::default(),
            budget: super::messages::Budget::default(),
            work: crate::extract::Budget::default(),
            tasks: BTreeMap::new(),
            pending_jobs: Vec::new(),
            partials: HashMap::new(),
            properties: HashSet::new(),
        }
    }

    /// Visits the file's top-level nodes in order.
    pub fn run(&mut self, top: &[Node<'_>]) {
        let ctx = Ctx::module();
        for node in top {
            self.visit_stmt(*node, &ctx);
        }
    }

    /// A node's text: a slice of the file's text, whose nodes start and end between
    /// characters (checked in O(1), where `utf8_text` validated every byte again).
    pub fn text(&self, node: Node<'_>) -> &'a str {
        self.src.get(node.byte_range()).unwrap_or("")
    }

    /// Notes, once per file, that nesting beyond [`MAX_DEPTH`] was skipped.
    pub fn warn_deep(&mut self, line: u32) {
        if !self.deep_warned {
            self.deep_warned = true;
            self.facts.warnings.push(ExtractWarning {
                line,
                message: format!("code nested deeper than {MAX_DEPTH} levels was skipped"),
            });
        }
    }

    pub fn bind(&mut self, scope: ScopeId, name: String, value: Expr, line: u32) {
        self.bound
            .entry((scope, name.clone()))
            .or_default()
            .push(self.facts.bindings.len());
        self.facts.bindings.push(Binding {
            scope,
            name: name.into(),
            value: value.into(),
            line,
        });
    }

    /// Indexes of the bindings of a name in a scope, in order.
    pub fn bound_indexes(&self, scope: ScopeId, name: &str) -> &[usize] {
        self.bound
            .get(&(scope, name.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    pub fn is_param(&self, scope: ScopeId, name: &str) -> bool {
        self.params.contains(&(scope, name.to_string()))
    }

    /// Visits a statement found inside an expression (in an error region).
    pub fn visit_nested_stmt(&mut self, node: Node<'_>, ctx: &Ctx) {
        self.visit_stmt(node, ctx);
    }

    /// The scope a plain name assigned here belongs to (`global` names go to the module).
    fn binding_scope(&self, name: &str, ctx: &Ctx) -> ScopeId {
        if ctx.globals.contains(name) {
            0
        } else {
            ctx.scope
        }
    }

    // ---- statements --------------------------------------------------------------------

    fn visit_block(&mut self, block: Node<'_>, ctx: &Ctx) {
        let children: Vec<Node<'_>> = block.named_children_vec();
        for child in children {
            self.visit_stmt(child, ctx);
        }
    }

    fn visit_stmt(&mut self, node: Node<'_>, ctx: &Ctx) {
        if !self.work.spend(|| line_of(node)) {
            return;
        }
        if ctx.depth > MAX_DEPTH {
            self.warn_deep(line_of(node));
            return;
        }
        // A block is not a level of its own: its statement already counted.
        let ctx = &if node.kind_name() == "block" {
            ctx.at(line_of(node))
        } else {
            ctx.at(line_of(node)).deeper()
        };
        match node.kind_name() {
            "expression_statement" => {
                let children: Vec<Node<'_>> = node.named_children_vec();
                for child in children {
                    match child.kind_name() {
                        "assignment" => self.assignment(child, ctx),
                        "augmented_assignment" => self.augmented(child, ctx),
                        _ => self.scan(child, ctx),
                    }
                }
            }
            "function_definition" => self.function_def(node, ctx, false),
            "class_definition" => self.class_def(node, ctx),
            "decorated_definition" => self.decorated(node, ctx),
            "import_statement" => self.import(node, ctx),
            "import_from_statement" => self.import_from(node, ctx),
            "for_statement" => self.for_stmt(node, ctx),
            "while_statement" => {
                let first_access = self.facts.accesses.len();
                self.generic(node, ctx);
                self.loop_effects(node, ctx, first_access);
            }
            "with_statement" => self.with_stmt(node, ctx),
            // `del os.environ["X"]` reads nothing; `del CFG["x"]` changes a container.
            "delete_statement" => {
                let mut stack = named(node);
                while let Some(target) = stack.pop() {
                    match target.kind_name() {
                        "subscript" => {
                            if let Some(container) = target.field("value") {
                                self.forget(container, ctx, ctx.line);
                            }
                        }
                        "expression_list" => stack.extend(named(target)),
                        _ => {}
                    }
                }
            }
            "global_statement"
            | "nonlocal_statement"
            | "pass_statement"
            | "comment"
            | "future_import_statement"
            | "break_statement"
            | "continue_statement" => {}
            "block" => self.visit_block(node, ctx),
            "return_statement" => {
                self.return_statement(node, ctx);
                self.generic(node, ctx);
            }
            kind if is_statement_like(kind) => self.generic(node, ctx),
            // An expression where a statement was expected (error recovery).
            _ => self.scan(node, ctx),
        }
    }

    /// A compound statement or an error region: nested statements are visited, everything
    /// else is scanned for calls.
    fn generic(&mut self, node: Node<'_>, ctx: &Ctx) {
        let children: Vec<Node<'_>> = node.named_children_vec();
        if children.is_empty() {
            return;
        }
        for child in children {
            if is_statement_like(child.kind_name()) {
                self.visit_stmt(child, ctx);
            } else {
                self.scan(child, ctx);
            }
        }
    }

    // ---- assignments -------------------------------------------------------------------

    fn assignment(&mut self, node: Node<'_>, ctx: &Ctx) {
        let mut targets = Vec::new();
        let mut current = node;
        loop {
            if let Some(left) = current.field("left") {
                targets.push(left);
            }
            match current.field("right") {
                Some(right) if right.kind_name() == "assignment" => current = right,
                Some(right) => {
                    for target in targets {
                        self.bind_target(target, right, ctx);
                        self.bind_parsed_args(target, right, ctx);
                    }
                    self.scan(right, ctx);
                    return;
                }
                // `x: int` binds nothing.
                None => return,
            }
        }
    }

    /// Binds one assignment target to a value, element-wise for `a, b = x, y`.
    fn bind_target(&mut self, target: Node<'_>, value: Node<'_>, ctx: &Ctx) {
        self.bind_target_at(target, value, ctx, 0);
    }

    fn bind_target_at(&mut self, target: Node<'_>, value: Node<'_>, ctx: &Ctx, depth: u32) {
        if depth > MAX_TARGET_DEPTH {
            self.bind_holes(target, ctx);
            return;
        }
        match target.kind_name() {
            "pattern_list" | "tuple_pattern" | "list_pattern" => {
                let targets = named(target);
                let values = match value.kind_name() {
                    "expression_list" | "tuple" | "list" | "pattern_list" => named(value),
                    _ => Vec::new(),
                };
                let spread = values.iter().any(|v| v.kind_name() == "list_splat");
                if values.len() == targets.len() && !spread {
                    for (t, v) in targets.into_iter().zip(values) {
                        self.bind_target_at(t, v, ctx, depth + 1);
                    }
                } else {
                    self.bind_holes(target, ctx);
                }
            }
            "parenthesized_expression" => {
                if let Some(inner) = target.named_child(0) {
                    self.bind_target_at(inner, value, ctx, depth + 1);
                }
            }
            "subscript" => {
                if !self.environ_store(target, value, ctx) {
                    self.item_store(target, value, ctx);
                }
            }
            _ => {
                let expr = self.translate(value, ctx);
                self.bind_expr(target, expr, ctx);
                self.bind_type(target, value, ctx);
                self.bind_number(target, value, ctx);
                self.bind_structure(target, value, ctx);
                self.bind_partial(target, value, ctx);
            }
        }
    }

    /// Binds a single target (a name or an attribute chain) to a value.
    pub fn bind_expr(&mut self, target: Node<'_>, value: Expr, ctx: &Ctx) {
        match target.kind_name() {
            "identifier" => {
                let name = self.text(target).to_string();
                if let Some(class) = ctx.class_body {
                    self.bind_class_attribute(class, &name, &value, ctx.line);
                }
                let scope = self.binding_scope(&name, ctx);
                self.bind(scope, name, value, ctx.line);
            }
            "attribute" => {
                let Some((scope, name)) = self.attribute_target(target, ctx) else {
                    return;
                };
                self.bind(scope, name, value, ctx.line);
            }
            "pattern_list"
            | "tuple_pattern"
            | "list_pattern"
            | "list_splat_pattern"
            | "parenthesized_expression" => self.bind_holes(target, ctx),
            _ => {}
        }
    }

    /// A class attribute (`ROOT = "/srv"` in a class body, a dataclass field default) is also
    /// what methods read as `self.ROOT`, and what the enclosing scope reads as
    /// `Class.ROOT`: both spellings are bound, so the resolver needs no Python class rules.
    fn bind_class_attribute(&mut self, class: ScopeId, name: &str, value: &Expr, line: u32) {
        self.bind(class, format!("self.{name}"), value.clone(), line);
        let Some(scope) = self.facts.scopes.get(class) else {
            return;
        };
        let (qualified, parent) = (format!("{}.{name}", scope.name), scope.parent);
        if let Some(parent) = parent {
            self.bind(parent, qualified, value.clone(), line);
        }
    }

    /// Binds every name in a destructuring target to a hole: the values are not known, but
    /// the names no longer mean what they meant before.
    pub fn bind_holes(&mut self, target: Node<'_>, ctx: &Ctx) {
        let mut names = Vec::new();
        let mut stack = vec![target];
        while let Some(node) = stack.pop() {
            match node.kind_name() {
                "identifier" | "attribute" => names.push(node),
                _ => stack.extend(named(node).into_iter().rev()),
            }
        }
        for name in names {
            let label = self.text(name).rsplit('.').next().unwrap_or("").to_string();
            self.bind_expr(name, Expr::hole(label), ctx);
        }
    }

    /// `x += e` is `x = x + e`, `p /= e` is `p = p / e`.
    fn augmented(&mut self, node: Node<'_>, ctx: &Ctx) {
        let (Some(left), Some(right)) = (node.field("left"), node.field("right")) else {
            return;
        };
        let operator = node.field("operator").map(|o| self.text(o)).unwrap_or("");
        let value = match (operator, self.var_of(left, ctx)) {
            ("+=", Some(var)) => super::translate::concat(vec![var, self.translate(right, ctx)]),
            ("/=", Some(var)) => super::translate::join(vec![var, self.translate(right, ctx)]),
            _ => Expr::hole(self.text(left).rsplit('.').next().unwrap_or("").to_string()),
        };
        self.bind_expr(left, value, ctx);
        self.scan(right, ctx);
    }

    // ---- definitions -------------------------------------------------------------------

    /// A decorated definition: decorator rows (`@app.task`, `@app.post("/x")`) act for the
    /// decorated function, whose scope is created right after its decorators are scanned.
    fn decorated(&mut self, node: Node<'_>, ctx: &Ctx) {
        let definition = node.field("definition");
        let decorated = definition
            .filter(|d| d.kind_name() == "function_definition")
            .map(|d| Decorated {
                name: d
                    .field("name")
                    .map(|n| self.text(n).to_string())
                    .unwrap_or_default(),
                scope: self.facts.scopes.len(),
                params: self.params_of(d),
                start: d.start_byte(),
                end: d.end_byte(),
            });
        let saved = std::mem::replace(&mut self.decorating, decorated);
        let mut is_static = false;
        for child in named(node) {
            if child.kind_name() == "decorator" {
                let text = self.text(child);
                is_static |= text.trim_start_matches('@').trim() == "staticmethod";
                let bare = text.trim_start_matches('@').trim();
                if matches!(
                    bare,
                    "property" | "cached_property" | "functools.cached_property"
                ) && definition.is_some_and(|d| d.kind_name() == "function_definition")
                {
                    self.properties.insert(self.facts.scopes.len());
                }
                let expr = child.named_child(0);
                self.current_decorator = expr.map(|e| e.id());
                if let Some(expr) =
                    expr.filter(|e| matches!(e.kind_name(), "identifier" | "attribute"))
                    && self.decorating.is_some()
                {
                    self.bare_decorator(expr, ctx);
                }
                if let (Some(expr), Some(def)) = (expr, definition) {
                    self.click_option(expr, ctx, line_of(def));
                }
                self.scan(child, ctx);
                self.current_decorator = None;
            }
        }
        self.decorating = saved;
        if let Some(def) = definition {
            let ctx = ctx.at(line_of(def));
            match def.kind_name() {
                "function_definition" => self.function_def(def, &ctx, is_static),
                "class_definition" => self.class_def(def, &ctx),
                _ => self.visit_stmt(def, &ctx),
            }
        }
    }

    fn function_def(&mut self, node: Node<'_>, ctx: &Ctx, is_static: bool) {
        let name = node
            .field("name")
            .map(|n| self.text(n).to_string())
            .unwrap_or_default();
        let line = line_of(node);
        let scope = self.facts.push_scope(Scope {
            parent: Some(ctx.def_parent),
            kind: ScopeKind::Function,
            name: name.into(),
            class: ctx.class_body,
            job: None,
            line,
        });
        let mut first_param = None;
        let mut names: Vec<String> = Vec::new();
        let mut keyword_only: Vec<String> = Vec::new();
        let mut positional = true;
        if let Some(params) = node.field("parameters") {
            self.parameter_types(params, scope, line);
            for (i, param) in named(params).into_iter().enumerate() {
                let name = param_name(param).map(|n| self.text(n).to_string());
                if i == 0 {
                    first_param.clone_from(&name);
                }
                // After `*args` or a bare `*`, names are keyword-only: their positions mean
                // nothing, so the list stops there.
                if matches!(
                    param.kind_name(),
                    "list_splat_pattern" | "dictionary_splat_pattern" | "keyword_separator"
                ) {
                    positional = false;
                }
                if let Some(name) = name {
                    if positional {
                        names.push(name.clone());
                    } else {
                        keyword_only.push(name.clone());
                    }
                    self.params.insert((scope, name));
                }
                self.parameter_default(param, scope, ctx);
            }
        }
        // A method's first parameter is its receiver, which no call site writes as an argument.
        if ctx.class_body.is_some() && !is_static && !names.is_empty() {
            names.remove(0);
        }
        if !names.is_empty() || !keyword_only.is_empty() {
            self.facts.params.push(crate::extract::FunctionParams {
                scope,
                names: names.into_iter().map(Into::into).collect(),
                positional_only: false,
                keyword_only: keyword_only.into_iter().map(Into::into).collect(),
            });
        }
        let (self_class, self_name) = match ctx.class_body {
            Some(class) if !is_static => (Some(class), first_param.map(Rc::from)),
            Some(_) => (None, None),
            None => (ctx.self_class, ctx.self_name.clone()),
        };
        let Some(body) = node.field("body") else {
            return;
        };
        let inner = Ctx {
            scope,
            def_parent: scope,
            class_body: None,
            self_class,
            self_name,
            globals: Rc::new(self.declared_globals(body)),
            locals: Rc::default(),
            floor: 0,
            line,
            depth: ctx.depth,
        };
        self.visit_block(body, &inner);
    }

    /// `def f(out_dir=OUT_DIR)`: `out_dir` is bound in the function to the default, which is
    /// evaluated in the enclosing scope at the `def` line.
    fn parameter_default(&mut self, param: Node<'_>, scope: ScopeId, ctx: &Ctx) {
        if !matches!(
            param.kind_name(),
            "default_parameter" | "typed_default_parameter"
        ) {
            return;
        }
        let (Some(name), Some(value)) = (param.field("name"), param.field("value")) else {
            return;
        };
        if name.kind_name() != "identifier" {
            return;
        }
        let expr = self.translate(value, ctx);
        let name = self.text(name).to_string();
        self.bind(scope, name, expr, ctx.line);
        self.scan(value, ctx);
    }

    /// Names declared `global` in a function body (not in nested functions).
    fn declared_globals(&self, body: Node<'_>) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        // Most bodies declare nothing: a search of their text is much cheaper than a walk of
        // their statements, and a `global` statement's text holds the word.
        if memchr::memmem::find(self.text(body).as_bytes(), b"global").is_none() {
            return names;
        }
        let mut stack = vec![(body, 0u32)];
        while let Some((node, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                continue;
            }
            for child in named(node) {
                match child.kind_name() {
                    "global_statement" => {
                        for id in named(child) {
                            names.insert(self.text(id).to_string());
                        }
                    }
                    "function_definition" | "class_definition" | "decorated_definition" => {}
                    k if is_statement_like(k) => stack.push((child, depth + 1)),
                    _ => {}
                }
            }
        }
        names
    }

    fn class_def(&mut self, node: Node<'_>, ctx: &Ctx) {
        let name = node
            .field("name")
            .map(|n| self.text(n).to_string())
            .unwrap_or_default();
        let scope = self.facts.push_scope(Scope {
            parent: Some(ctx.def_parent),
            kind: ScopeKind::Class,
            name: name.into(),
            class: None,
            job: None,
            line: line_of(node),
        });
        if let Some(bases) = node.field("superclasses") {
            self.scan(bases, ctx);
        }
        let Some(body) = node.field("body") else {
            return;
        };
        let inner = Ctx {
            scope,
            def_parent: ctx.def_parent,
            class_body: Some(scope),
            self_class: None,
            self_name: None,
            globals: Rc::default(),
            locals: Rc::default(),
            floor: 0,
            line: ctx.line,
            depth: ctx.depth,
        };
        let fields = match self.settings_base(node) {
            Some(base) => self.settings_fields(node, &base, &inner),
            None => Vec::new(),
        };
        self.visit_block(body, &inner);
        for (field, value, line) in fields {
            self.bind_class_attribute(scope, &field, &value, line);
        }
    }

    // ---- imports -----------------------------------------------------------------------

    fn import(&mut self, node: Node<'_>, ctx: &Ctx) {
        let mut cursor = node.walk();
        let names: Vec<Node<'_>> = node.children_by_field_name("name", &mut cursor).collect();
        for name in names {
            let (module, local) = match name.kind_name() {
                "aliased_import" => {
                    let module = name.field("name").map(|n| self.text(n));
                    let alias = name.field("alias").map(|n| self.text(n));
                    match (module, alias) {
                        (Some(m), Some(a)) => (m, a),
                        _ => continue,
                    }
                }
                _ => (self.text(name), self.text(name)),
            };
            // `import a.b` makes the dotted name `a.b` usable: recorded with local `a.b`.
            self.facts.imports.push(Import {
                scope: ctx.scope,
                local: compact(local).into(),
                module: compact(module).into(),
                name: None,
                level: 0,
                line: ctx.line,
            });
        }
    }

    fn import_from(&mut self, node: Node<'_>, ctx: &Ctx) {
        let Some((module, level)) = self.import_source(node) else {
            return;
        };
        for child in named(node) {
            if node_field_is(node, child, "module_name") {
                continue;
            }
            let (name, local) = match child.kind_name() {
                "aliased_import" => {
                    let n = child.field("name").map(|n| self.text(n));
                    let a = child.field("alias").map(|n| self.text(n));
                    match (n, a) {
                        (Some(n), Some(a)) => (n, a),
                        _ => continue,
                    }
                }
                "dotted_name" => (self.text(child), self.text(child)),
                "wildcard_import" => ("*", "*"),
                _ => continue,
            };
            self.facts.imports.push(Import {
                scope: ctx.scope,
                local: compact(local).into(),
                module: module.clone().into(),
                name: Some(compact(name).into()),
                level,
                line: ctx.line,
            });
        }
    }

    /// The module of a `from ... import` and its relative level (leading dots).
    pub fn import_source(&self, node: Node<'_>) -> Option<(String, u32)> {
        let module = node.field("module_name")?;
        match module.kind_name() {
            "relative_import" => {
                let mut level = 0;
                let mut name = String::new();
                for child in named(module) {
                    match child.kind_name() {
                        "import_prefix" => {
                            level =
                                u32::try_from(self.text(child).matches('.').count()).unwrap_or(0)
                        }
                        "dotted_name" => name = compact(self.text(child)),
                        _ => {}
                    }
                }
                Some((name, level))
            }
            _ => Some((compact(self.text(module)), 0)),
        }
    }

    // ---- loops and with ----------------------------------------------------------------

    fn for_stmt(&mut self, node: Node<'_>, ctx: &Ctx) {
        let first_access = self.facts.accesses.len();
        if let (Some(left), Some(right)) = (node.field("left"), node.field("right")) {
            let element = self.element_of(right, ctx);
            self.bind_element(left, element, ctx);
            self.scan(right, ctx);
        }
        for field in ["body", "alternative"] {
            if let Some(child) = node.child_by_field_name(field) {
                let body_ctx = same_line_body(child, ctx);
                self.visit_stmt(child, &body_ctx);
            }
        }
        self.loop_effects(node, ctx, first_access);
    }

    fn with_stmt(&mut self, node: Node<'_>, ctx: &Ctx) {
        for child in named(node) {
            match child.kind_name() {
                "with_clause" => {
                    for item in named(child) {
                        if let Some(value) = item.field("value") {
                            self.with_item(value, ctx);
                        }
                    }
                }
                "block" => self.visit_block(child, &same_line_body(child, ctx)),
                _ => self.generic(child, ctx),
            }
        }
    }

    /// `with open(p) as f`: the call is scanned; `f` is a file object (a hole), while
    /// `with TemporaryDirectory() as d` binds `d` to what the call evaluates to.
    fn with_item(&mut self, value: Node<'_>, ctx: &Ctx) {
        if value.kind_name() != "as_pattern" {
            self.scan(value, ctx);
            return;
        }
        let parts = named(value);
        let Some(expr) = parts.first().copied() else {
            return;
        };
        let target = value.field("alias").and_then(|alias| alias.named_child(0));
        if let Some(target) = target {
            let bound = match self.opens_file(expr, ctx) {
                true => Expr::hole(self.text(target).to_string()),
                false => self.translate(expr, ctx),
            };
            self.bind_expr(target, bound, ctx);
            self.bind_type(target, expr, ctx);
        }
        self.scan(expr, ctx);
    }
}

/// The context of a body: one written on its header's line (`for f in x: os.remove(f)`) is
/// placed on the next line, so its names see what the header bound.
fn same_line_body(body: Node<'_>, ctx: &Ctx) -> Ctx {
    if line_of(body) == ctx.line {
        Ctx {
            floor: ctx.line.saturating_add(1),
            ..ctx.clone()
        }
    } else {
        ctx.clone()
    }
}

/// Statement-like node kinds, which [`Extractor::generic`] visits rather than scans.
fn is_statement_like(kind: &str) -> bool {
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
            | "except_group_clause"
            | "finally_clause"
            | "case_clause"
    ) || kind.ends_with("_statement")
}

/// The named children of a node.
pub(super) fn named(node: Node<'_>) -> Vec<Node<'_>> {
    node.named_children_vec()
}

fn node_field_is(parent: Node<'_>, child: Node<'_>, field: &str) -> bool {
    parent
        .child_by_field_name(field)
        .is_some_and(|f| f.id() == child.id())
}

/// The identifier a parameter declares.
fn param_name(param: Node<'_>) -> Option<Node<'_>> {
    match param.kind_name() {
        "identifier" => Some(param),
        "default_parameter" | "typed_default_parameter" => param.field("name"),
        "typed_parameter" => param
            .named_child(0)
            .filter(|n| n.kind_name() == "identifier"),
        _ => None,
    }
}

/// A dotted name as written, without the spaces or line breaks the source may put in it.
pub(super) fn compact(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}
