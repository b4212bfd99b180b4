//! Environment variables that are not calls: items of an `[[environ]]` mapping
//! (`os.environ["X"]` reads and requires X — unless it is read on a branch of a test whether X
//! is set, `if "X" in os.environ:` —, `"X" in os.environ` checks it,
//! `os.environ["X"] = v` sets it) and the fields of `[[settings]]` classes (pydantic
//! `BaseSettings`: each annotated field is read from the variable of its upper-cased name with
//! the class's `env_prefix`, required unless it has a default).

use super::effects::NO_DEFAULT;
use super::parse::line_of;
use super::walk::{Ctx, Extractor, named};
use crate::expr::{Expr, ScopeId};
use crate::extract::FieldExt as _;
use crate::extract::{EnvTarget, RawAccess, RawResource};
use crate::model::Mode;
use tree_sitter::Node;

/// Most enclosing nodes searched for a presence test around an `os.environ["X"]` read.
const MAX_GUARD_DEPTH: usize = 64;
/// Most nodes of one condition searched for a presence test.
const MAX_GUARD_NODES: usize = 2_000;

impl<'a> Extractor<'a> {
    /// The qualified mapping a node names, if it is an environment mapping.
    fn environ_mapping(&self, node: Node<'_>, ctx: &Ctx) -> Option<String> {
        let dotted = self.dotted(node)?;
        let head = dotted.split('.').next().unwrap_or("");
        if ctx.locals.contains_key(head) || self.is_param(ctx.scope, head) {
            return None;
        }
        let qualified = self.qualified(&dotted);
        self.models.is_environ(&qualified).then_some(qualified)
    }

    fn push_env(
        &mut self,
        name: Expr,
        value: Option<Expr>,
        mode: Mode,
        line: u32,
        scope: ScopeId,
        via: &str,
    ) {
        self.facts.accesses.push(RawAccess {
            resource: RawResource::Env(EnvTarget { name, value }),
            mode,
            line,
            scope,
            via: via.to_string().into(),
        });
    }

    /// `os.environ["X"]` read in an expression: required.
    pub(super) fn environ_subscript(&mut self, node: Node<'_>, ctx: &Ctx) {
        let (Some(value), Some(key)) = (node.field("value"), node.field("subscript")) else {
            return;
        };
        let Some(mapping) = self.environ_mapping(value, ctx) else {
            return;
        };
        let name = self.translate(key, ctx);
        // Under `if "X" in os.environ:` (or `... if os.environ.get("X") else ...`) the item is
        // read only when it is set: optional, with no visible default.
        let value = self
            .under_presence_test(node, self.text(key), ctx)
            .then(|| Expr::hole(NO_DEFAULT));
        self.push_env(name, value, Mode::Read, line_of(node), ctx.scope, &mapping);
    }

    /// Whether `node` is on a branch of a test of whether the variable `key` (its source text)
    /// is set: the body or else-branch of an `if`/`elif`/`while`, a conditional expression,
    /// or the right operand of `and`/`or`, whose condition is `key in <environ>` (or `not in`),
    /// `<environ>.get(key)` or `os.getenv(key)`. Stops at the enclosing function or class.
    fn under_presence_test(&self, node: Node<'_>, key: &str, ctx: &Ctx) -> bool {
        let mut child = node;
        for _ in 0..MAX_GUARD_DEPTH {
            let Some(parent) = child.parent() else {
                return false;
            };
            let condition = match parent.kind_name() {
                "if_statement" | "elif_clause" | "while_statement" => parent.field("condition"),
                "conditional_expression" => parent.named_child(1),
                "boolean_operator" => parent.field("left"),
                "function_definition" | "class_definition" | "lambda" | "module" => {
                    return false;
                }
                _ => None,
            };
            if let Some(condition) = condition
                && condition.id() != child.id()
                && self.tests_presence(condition, key, ctx)
            {
                return true;
            }
            child = parent;
        }
        false
    }

    /// Whether an expression tests whether the variable `key` is set (see
    /// [`Self::under_presence_test`]).
    fn tests_presence(&self, condition: Node<'_>, key: &str, ctx: &Ctx) -> bool {
        let mut stack = vec![condition];
        let mut seen = 0;
        while let Some(n) = stack.pop() {
            seen += 1;
            if seen > MAX_GUARD_NODES {
                return false;
            }
            match n.kind_name() {
                "comparison_operator" => {
                    let parts = named(n);
                    if let [left, right] = parts.as_slice()
                        && self.text(*left) == key
                        && self.environ_mapping(*right, ctx).is_some()
                    {
                        return true;
                    }
                }
                "call" => {
                    let first_arg = n.field("arguments").and_then(|a| a.named_child(0));
                    let function = n.field("function");
                    if let (Some(arg), Some(function)) = (first_arg, function)
                        && self.text(arg) == key
                        && self.is_env_lookup(function, ctx)
                    {
                        return true;
                    }
                }
                _ => {}
            }
            stack.extend(named(n));
        }
        false
    }

    /// `os.environ.get`, `os.getenv` (after imports): calls that return None for an unset
    /// variable.
    fn is_env_lookup(&self, function: Node<'_>, ctx: &Ctx) -> bool {
        if function.kind_name() == "attribute"
            && let (Some(object), Some(attr)) =
                (function.field("object"), function.field("attribute"))
            && self.text(attr) == "get"
            && self.environ_mapping(object, ctx).is_some()
        {
            return true;
        }
        self.dotted(function)
            .is_some_and(|d| matches!(self.qualified(&d).as_str(), "os.getenv" | "os.getenvb"))
    }

    /// `"X" in os.environ`, `"X" not in os.environ`: a check.
    pub(super) fn environ_membership(&mut self, node: Node<'_>, ctx: &Ctx) {
        let parts = named(node);
        let (Some(left), Some(right)) = (parts.first().copied(), parts.get(1).copied()) else {
            return;
        };
        if parts.len() != 2 {
            return;
        }
        let between = self
            .src
            .get(left.end_byte()..right.start_byte())
            .unwrap_or("");
        if between.split_whitespace().last() != Some("in") {
            return;
        }
        let Some(mapping) = self.environ_mapping(right, ctx) else {
            return;
        };
        let name = self.translate(left, ctx);
        self.push_env(name, None, Mode::Check, line_of(node), ctx.scope, &mapping);
    }

    /// `os.environ["X"] = v`: a set, with the value.
    pub(super) fn environ_store(&mut self, target: Node<'_>, value: Node<'_>, ctx: &Ctx) -> bool {
        let (Some(object), Some(key)) = (target.field("value"), target.field("subscript")) else {
            return false;
        };
        let Some(mapping) = self.environ_mapping(object, ctx) else {
            return false;
        };
        let name = self.translate(key, ctx);
        let value = self.translate(value, ctx);
        self.push_env(
            name,
            Some(value),
            Mode::Set,
            line_of(target),
            ctx.scope,
            &mapping,
        );
        true
    }

    /// The settings base a class derives from, if any.
    pub(super) fn settings_base(&self, class: Node<'_>) -> Option<String> {
        let bases = class.field("superclasses")?;
        named(bases).into_iter().find_map(|base| {
            let dotted = self.dotted(base)?;
            let qualified = self.qualified(&dotted);
            self.models
                .is_settings_base(&qualified)
                .then_some(qualified)
        })
    }

    /// The environment reads of a settings class's fields, in its scope (`inner`), and each
    /// field's value as the class gives it: the variable, with the field's default (for
    /// `settings.out_dir` once the class body's own bindings are made).
    pub(super) fn settings_fields(
        &mut self,
        class: Node<'_>,
        base: &str,
        inner: &Ctx,
    ) -> Vec<(String, Expr, u32)> {
        let mut values = Vec::new();
        let Some(body) = class.field("body") else {
            return values;
        };
        let prefix = self.env_prefix(body, inner);
        for statement in named(body) {
            let Some(assignment) = statement
                .named_child(0)
                .filter(|a| a.kind_name() == "assignment")
            else {
                continue;
            };
            let (Some(left), Some(annotation)) =
                (assignment.field("left"), assignment.field("type"))
            else {
                continue;
            };
            let field = self.text(left);
            if left.kind_name() != "identifier"
                || field.starts_with('_')
                || field == "model_config"
                || self.text(annotation).contains("ClassVar")
            {
                continue;
            }
            let ctx = inner.at(line_of(statement));
            let default = assignment.field("right");
            let (alias, value) = match default {
                Some(d) => self.settings_default(d, &ctx),
                None => (None, None),
            };
            let name = alias.unwrap_or_else(|| format!("{prefix}{field}").to_ascii_uppercase());
            values.push((
                field.to_string(),
                Expr::Env {
                    name: name.clone().into(),
                    default: value.clone().map(Box::new),
                },
                line_of(statement),
            ));
            self.push_env(
                Expr::lit(name),
                value,
                Mode::Read,
                line_of(statement),
                inner.scope,
                base,
            );
        }
        values
    }

    /// A field's explicit variable name and its default: `= "x"`, `= None`,
    /// `= Field("x", env="X")`, `= Field(..., validation_alias="X")`; `...` is required.
    fn settings_default(&mut self, default: Node<'_>, ctx: &Ctx) -> (Option<String>, Option<Expr>) {
        let is_field_call = default.kind_name() == "call"
            && default
                .field("function")
                .and_then(|f| self.dotted(f))
                .is_some_and(|d| {
                    let q = self.qualified(&d);
                    q == "Field" || q.ends_with(".Field")
                });
        if !is_field_call {
            return (None, Some(self.default_value(default, ctx)));
        }
        let args = self.args(default);
        let alias = ["env", "validation_alias", "alias"]
            .into_iter()
            .find_map(|k| args.keyword(k))
            .and_then(|n| self.literal_string(n, ctx));
        let value = match args
            .positional
            .first()
            .copied()
            .or_else(|| args.keyword("default"))
        {
            Some(n) if n.kind_name() == "ellipsis" => None,
            Some(n) => Some(self.default_value(n, ctx)),
            None if args.keyword("default_factory").is_some() => {
                Some(Expr::hole("default_factory"))
            }
            None => None,
        };
        (alias, value)
    }

    fn default_value(&mut self, node: Node<'_>, ctx: &Ctx) -> Expr {
        match node.kind_name() {
            "none" => Expr::hole(NO_DEFAULT),
            "true" | "false" => Expr::lit(self.text(node)),
            _ => self.translate(node, ctx),
        }
    }

    /// `env_prefix` from `model_config = SettingsConfigDict(env_prefix=...)`, a
    /// `model_config = {"env_prefix": ...}` dict or a nested `class Config`.
    fn env_prefix(&mut self, body: Node<'_>, ctx: &Ctx) -> String {
        for statement in named(body) {
            match statement.kind_name() {
                "expression_statement" => {
                    let Some(assignment) = statement
                        .named_child(0)
                        .filter(|a| a.kind_name() == "assignment")
                    else {
                        continue;
                    };
                    let (Some(left), Some(right)) =
                        (assignment.field("left"), assignment.field("right"))
                    else {
                        continue;
                    };
                    if self.text(left) != "model_config" {
                        continue;
                    }
                    let prefix = match right.kind_name() {
                        "call" => self
                            .args(right)
                            .keyword("env_prefix")
                            .and_then(|n| self.literal_string(n, ctx)),
                        "dictionary" => self
                            .dict_item(right, "env_prefix", ctx)
                            .and_then(|n| self.literal_string(n, ctx)),
                        _ => None,
                    };
                    if let Some(prefix) = prefix {
                        return prefix;
                    }
                }
                "class_definition" => {
                    let is_config = statement
                        .field("name")
                        .is_some_and(|n| self.text(n) == "Config");
                    let Some(inner) = statement.field("body").filter(|_| is_config) else {
                        continue;
                    };
                    for line in named(inner) {
                        let Some(assignment) = line
                            .named_child(0)
                            .filter(|a| a.kind_name() == "assignment")
                        else {
                            continue;
                        };
                        let is_prefix = assignment
                            .field("left")
                            .is_some_and(|l| self.text(l) == "env_prefix");
                        if let (true, Some(right)) = (is_prefix, assignment.field("right"))
                            && let Some(prefix) = self.literal_string(right, ctx)
                        {
                            return prefix;
                        }
                    }
                }
                _ => {}
            }
        }
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::super::resource_tests;
    use super::super::tests::facts;

    /// `L<line> <mode> <name> = <default>|required` of each environment access.
    fn envs(src: &str) -> Vec<String> {
        resource_tests::envs(&facts(src))
    }

    #[test]
    fn reads_behind_a_presence_test_are_optional() {
        let got = envs(
            "import os\n\
             if 'A' in os.environ:\n    a = os.environ['A']\n\
             b = os.environ['B'] if 'B' in os.environ else 'x'\n\
             if os.environ.get('C') is not None:\n    c = os.environ['C']\n\
             elif os.getenv('D'):\n    d = os.environ['D']\n\
             e = 'E' in os.environ and os.environ['E']\n",
        );
        for name in ["A", "B", "C", "D", "E"] {
            let reads: Vec<&String> = got
                .iter()
                .filter(|l| l.contains(&format!("read \"{name}\"")))
                .collect();
            assert!(!reads.is_empty(), "{name}: {got:?}");
            assert!(
                reads.iter().all(|l| !l.ends_with("required")),
                "{name}: {got:?}"
            );
        }
    }

    #[test]
    fn reads_after_a_guard_or_of_another_variable_stay_required() {
        let got = envs(
            "import os, sys\n\
             if 'A' not in os.environ:\n    sys.exit('A?')\n\
             a = os.environ['A']\n\
             if 'B' in os.environ:\n    c = os.environ['C']\n\
             def f():\n    if 'D' in os.environ:\n        def g():\n            return os.environ['D']\n",
        );
        assert!(
            got.contains(&r#"L4 read "A" = required"#.to_string()),
            "{got:?}"
        );
        assert!(
            got.contains(&r#"L6 read "C" = required"#.to_string()),
            "{got:?}"
        );
        assert!(
            got.contains(&r#"L10 read "D" = required"#.to_string()),
            "{got:?}"
        );
    }
}
