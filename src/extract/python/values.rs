//! Values of calls: path building (`os.path.join`, `Path(...)`, `joinpath`), environment
//! reads, dates, conversions that keep the path, and the paths a listing call lists.

use super::calls::{Args, Callee, Matched};
use super::scan::{Element, PASS_THROUGH};
use super::translate::{concat, expand_home, join, strftime_hole};
use super::walk::{Ctx, Extractor, named};
use crate::expr::Expr;
use crate::extract::FieldExt as _;
use crate::rules::models::python::ArgRef;
use tree_sitter::Node;

impl<'a> Extractor<'a> {
    /// The value of a call: path building, environment reads, dates; the listed paths for a
    /// listing call; otherwise a hole named after the callee.
    pub(super) fn call_value(&mut self, call: Node<'_>, ctx: &Ctx, d: u32) -> Expr {
        // Read once: who is called, with what, and the row that matches, for every way a call
        // may have a value.
        let function = call.field("function");
        let callee = match function {
            Some(function) => self.callee_of(function, ctx),
            None => Callee::Unknown,
        };
        let args = self.args(call);
        // `CFG.get("out", d)`: an entry of a configuration object.
        if let Some(function) = function
            && function.kind_name() == "attribute"
            && function
                .field("attribute")
                .is_some_and(|a| self.text(a) == "get")
            && let Some(object) = function.field("object")
            && let Some(value) = self.dict_get(object, &args, ctx, d)
        {
            return value;
        }
        let value = match &callee {
            Callee::Function {
                name,
                method,
                imported_object,
            } => match self.function_value(name, &args, ctx, d) {
                Some(v) => Some(v),
                None => match method {
                    Some((receiver, m)) if !imported_object => {
                        self.method_value(*receiver, m, &args, ctx, d)
                    }
                    _ => None,
                },
            },
            Callee::Method { receiver, name } => self.method_value(*receiver, name, &args, ctx, d),
            Callee::Unknown => None,
        };
        if let Some(value) = value {
            return value;
        }
        let matched = function
            .and_then(|function| self.match_read_call(call, function, callee, |_| args, ctx));
        let listed = match matched {
            Some(matched) => {
                if let Some(value) = self.modelled_value(&matched, ctx, d) {
                    return value;
                }
                self.yielded_by(&matched, ctx)
            }
            None => None,
        };
        match listed {
            Some(Element::One(e) | Element::Entries(e)) => e,
            _ => {
                let label = self.label(call);
                let unknown = if label.starts_with("tempfile.") {
                    Expr::path_hole(label)
                } else {
                    Expr::hole(label)
                };
                self.returned_value(call, ctx, unknown)
            }
        }
    }

    /// The value the row a call matched gives its result (`get_queue_url(QueueName=q)` names
    /// `q`).
    fn modelled_value(&mut self, matched: &Matched<'_, '_>, ctx: &Ctx, d: u32) -> Option<Expr> {
        let spec = matched.model.value.as_ref()?;
        match self.spec_node(matched, spec, ctx) {
            Some(node) => Some(self.tr(node, ctx, d)),
            None => spec.default.as_ref().map(Expr::lit),
        }
    }

    fn function_value(&mut self, name: &str, args: &Args<'_>, ctx: &Ctx, d: u32) -> Option<Expr> {
        let first = args.positional.first().copied();
        Some(match name {
            "os.path.join"
            | "posixpath.join"
            | "pathlib.Path"
            | "pathlib.PurePath"
            | "pathlib.PosixPath"
            | "pathlib.PurePosixPath" => self.join_parts(args, ctx, d),
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
                    .filter(|n| n.kind_name() != "none")
                    .map(|n| Box::new(self.tr(n, ctx, d)));
                Expr::Env {
                    name: env.into(),
                    default,
                }
            }
            // `typer.Option("/srv/out", envvar="OUT_DIR")` as a parameter's default: the
            // variable, with the default.
            "typer.Option" | "typer.Argument" => {
                let default = args
                    .get(&ArgRef {
                        position: Some(0),
                        keyword: Some("default".to_string()),
                    })
                    .filter(|n| !matches!(n.kind_name(), "none" | "ellipsis"))
                    .map(|n| self.tr(n, ctx, d));
                let envvar = args
                    .keyword("envvar")
                    .and_then(|n| self.literal_string(n, ctx));
                match (envvar, default) {
                    (Some(name), default) => Expr::Env {
                        name: name.into(),
                        default: default.map(Box::new),
                    },
                    (None, Some(default)) => default,
                    (None, None) => return None,
                }
            }
            "pathlib.Path.home" => Expr::Env {
                name: "HOME".to_string().into(),
                default: None,
            },
            "pathlib.Path.cwd" | "os.getcwd" => Expr::path_hole("cwd"),
            "tempfile.gettempdir" => Expr::Env {
                name: "TMPDIR".to_string().into(),
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

    /// The parts of `os.path.join(a, *rest)` or `Path(a, b)`: a `*rest` is an unknown run of
    /// segments.
    fn join_parts(&mut self, args: &Args<'_>, ctx: &Ctx, d: u32) -> Expr {
        let mut parts = Vec::new();
        for arg in &args.sequence {
            // `*parts` with `parts` a list or tuple literal: its items.
            if arg.kind_name() == "list_splat"
                && let Some(inner) = arg.named_child(0)
                && let Some(name) = self.followable(inner, ctx)
                && let Some(items) = self.sequence_items(&name, ctx)
            {
                parts.extend(items);
                continue;
            }
            parts.push(match (arg.kind_name(), arg.named_child(0)) {
                ("list_splat", Some(inner)) => Expr::path_hole(self.label(inner)),
                ("list_splat", None) => Expr::path_hole("parts"),
                _ => self.tr(*arg, ctx, d),
            });
        }
        join(parts)
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
        let is_string = matches!(receiver.kind_name(), "string" | "concatenated_string");
        Some(match method {
            "format" if is_string => return self.format_call(receiver, args, ctx, d),
            "join" if is_string => {
                let list = first?;
                let items: Vec<Expr> = match list.kind_name() {
                    "list" | "tuple" => named(list)
                        .into_iter()
                        .filter(|n| n.kind_name() != "comment")
                        .map(|item| self.tr(item, ctx, d))
                        .collect(),
                    // `"/".join(parts)` with `parts` a list or tuple literal.
                    "identifier" | "attribute" => {
                        let name = self.followable(list, ctx)?;
                        self.sequence_items(&name, ctx)?
                    }
                    _ => return None,
                };
                let separator = self.tr(receiver, ctx, d);
                let mut parts = Vec::new();
                for (i, item) in items.into_iter().enumerate() {
                    if i > 0 {
                        parts.push(separator.clone());
                    }
                    parts.push(item);
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
        if receiver.kind_name() == "call"
            && let Callee::Function { name, .. } = self.callee(receiver, ctx)
            && name.starts_with("datetime.datetime.")
        {
            return "%Y-%m-%dT%H:%M:%S.%f";
        }
        "%Y-%m-%d"
    }
}
