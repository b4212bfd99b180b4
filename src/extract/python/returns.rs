//! Return values: `def log_path(): return os.path.join(LOG_DIR, "app.log")` makes
//! `open(log_path())` a write of that path, and `def _sm(): return boto3.client("secretsmanager")`
//! makes `_sm().get_secret_value(...)` a secret read.
//!
//! A function's returns are recorded as a binding named after the call, `log_path()`, in the
//! scope that holds the function (`self.path()` in the class of a method), so that name lookup
//! — across imports too — finds them like any other name; several returns become alternatives.
//! The type of what a function of this file returns is remembered for receiver types.

use super::walk::{Ctx, Extractor, named};
use crate::expr::Expr;
use crate::extract::FieldExt as _;
use crate::extract::ScopeKind;
use tree_sitter::Node;

impl Extractor<'_> {
    /// `return value` inside a function: one more alternative of what a call of it gives.
    pub(super) fn return_statement(&mut self, node: Node<'_>, ctx: &Ctx) {
        let Some(value) = named(node).into_iter().find(|n| n.kind_name() != "comment") else {
            return;
        };
        let Some((names, def_line)) = self.call_binding_names(ctx) else {
            return;
        };
        let Some((_, first)) = names.first() else {
            return;
        };
        if let Some(t) = self.type_of(value, ctx, 0) {
            self.return_types.insert(first.clone(), t);
        }
        let expr = self.translate(value, ctx);
        for (holder, name) in names {
            // Several returns: the call gives any of them.
            if let Some(&last) = self.bound_indexes(holder, &name).last()
                && let Some(binding) = self.facts.bindings.get_mut(last)
                && binding.line >= def_line
            {
                binding.value.add_alternative(expr.clone(), MAX_RETURNS);
                continue;
            }
            // At the first return's line: the line a fix of the value changes.
            self.bind(holder, name, expr.clone(), ctx.line);
        }
    }

    /// Where a call of the function around `ctx` is bound, and under which names: `f()` in
    /// the scope that holds `f`; `self.m()` in the class of method `m` and `C.m()` beside the
    /// class (for `c = C(...); c.m()`); a property's also without the call (`self.m`, `C.m`).
    fn call_binding_names(&self, ctx: &Ctx) -> Option<(Vec<(usize, String)>, u32)> {
        let scope = self.facts.scopes.get(ctx.scope)?;
        if scope.kind != ScopeKind::Function || scope.name.is_empty() {
            return None;
        }
        let m = &scope.name;
        match scope.class {
            Some(class) => {
                let property = self.properties.contains(&ctx.scope);
                let mut names = vec![(class, format!("self.{m}()"))];
                if property {
                    names.push((class, format!("self.{m}")));
                }
                if let Some(class_scope) = self.facts.scopes.get(class)
                    && let Some(parent) = class_scope.parent
                {
                    let c = &class_scope.name;
                    names.push((parent, format!("{c}.{m}()")));
                    if property {
                        names.push((parent, format!("{c}.{m}")));
                    }
                }
                Some((names, scope.line))
            }
            None => Some((vec![(scope.parent?, format!("{m}()"))], scope.line)),
        }
    }

    /// A call of a function by name that no model describes: the value of its returns,
    /// looked up like a name (`log_path()`, `paths.log_path()`, `self.path()`), and `unknown`
    /// when no function of the repositories has that name. Calls into well-known libraries
    /// and on objects of unknown type stay `unknown` at once.
    pub(super) fn returned_value(&mut self, call: Node<'_>, ctx: &Ctx, unknown: Expr) -> Expr {
        let Some(function) = call.field("function") else {
            return unknown;
        };
        let Some(dotted) = self
            .dotted(function)
            .filter(|_| matches!(function.kind_name(), "identifier" | "attribute"))
        else {
            return unknown;
        };
        let name = self.normalize_self(&dotted, ctx);
        let head = name.split('.').next().unwrap_or(&name);
        let repository_function = match name.matches('.').count() {
            0 => {
                !super::calls::is_builtin(&name)
                    && !ctx.locals.contains_key(&name)
                    && !is_library(&self.qualified(&name))
            }
            // `self.path()`, or `paths.log_path()` through an import of a module that may be
            // the repository's own.
            1 => {
                head == "self"
                    || self.aliases.contains_key(head) && !is_library(&self.qualified(head))
                    || self.instance_class(head, ctx).is_some()
            }
            _ => self.aliases.contains_key(head) && !is_library(&self.qualified(head)),
        };
        if !repository_function {
            return unknown;
        }
        // `d.path(x)` with `d = Dumper(...)`: the returns of `Dumper.path`.
        let name = match name.split_once('.') {
            Some((head, method)) if head != "self" && !method.contains('.') => {
                match self.instance_class(head, ctx) {
                    Some(class) => format!("{class}.{method}"),
                    None => name,
                }
            }
            _ => name,
        };
        match self.var(&format!("{name}()"), ctx) {
            Expr::Var {
                name,
                scope,
                line,
                env_fallback,
                ..
            } => Expr::Var {
                name,
                scope,
                line,
                env_fallback,
                default: Some(Box::new(unknown)),
            },
            other => other,
        }
    }

    /// The class of an instance: `Dumper` for `d` after `d = Dumper(...)` (a class of this
    /// file or an imported one, named as written), when that binding is in force here.
    pub(super) fn instance_class(&self, name: &str, ctx: &Ctx) -> Option<String> {
        if name == "self" || ctx.locals.contains_key(name) || self.is_param(ctx.scope, name) {
            return None;
        }
        let Expr::Var { name: call, .. } = self.local_value(name, ctx.scope, ctx.line)? else {
            return None;
        };
        let class = call.strip_suffix("()")?;
        let last = class.rsplit('.').next().unwrap_or(class);
        let is_class = last.starts_with(char::is_uppercase)
            && class
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
            && !is_library(&self.qualified(class));
        is_class.then(|| class.to_string())
    }

    /// The type a function of this file returns, for `_sm().get_secret_value(...)`.
    pub(super) fn returned_type(&self, call: Node<'_>, ctx: &Ctx) -> Option<String> {
        let function = call.field("function")?;
        let dotted = self.dotted(function)?;
        let name = self.normalize_self(&dotted, ctx);
        self.return_types.get(&format!("{name}()")).cloned()
    }
}

/// Top-level packages whose functions are never the repository's: calls into them are not
/// looked up as returns.
pub(super) fn is_library(module: &str) -> bool {
    const LIBRARIES: &[&str] = &[
        "os",
        "sys",
        "io",
        "re",
        "json",
        "time",
        "datetime",
        "pathlib",
        "shutil",
        "glob",
        "tempfile",
        "subprocess",
        "logging",
        "socket",
        "uuid",
        "random",
        "hashlib",
        "base64",
        "gzip",
        "bz2",
        "lzma",
        "zipfile",
        "tarfile",
        "csv",
        "sqlite3",
        "typing",
        "functools",
        "itertools",
        "collections",
        "string",
        "textwrap",
        "urllib",
        "http",
        "email",
        "signal",
        "threading",
        "multiprocessing",
        "asyncio",
        "argparse",
        "configparser",
        "pickle",
        "copy",
        "math",
        "platform",
        "getpass",
        "pwd",
        "grp",
        "stat",
        "fnmatch",
        "boto3",
        "botocore",
        "requests",
        "httpx",
        "redis",
        "pika",
        "kombu",
        "celery",
        "kafka",
        "confluent_kafka",
        "yaml",
        "toml",
        "tomllib",
        "click",
        "typer",
        "pandas",
        "numpy",
        "sqlalchemy",
        "django",
        "flask",
        "fastapi",
        "pydantic",
        "jinja2",
        "hvac",
        "google",
        "azure",
        "paramiko",
    ];
    let top = module.split('.').next().unwrap_or(module);
    LIBRARIES.contains(&top)
}

/// Alternatives kept per function's returns.
const MAX_RETURNS: usize = 16;
