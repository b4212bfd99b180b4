//! Decorated functions: Celery tasks of this file (collected before the walk, so that a
//! `task.delay()` above the task's `def` knows its wire name and parameters), bare decorators
//! (`@shared_task`, `@app.task` without a call), and the resolution of schedule jobs to the
//! scopes of the functions they name.

use super::calls::Args;
use super::parse::line_of;
use super::walk::{Ctx, Extractor, Param, TaskDef, named};
use crate::expr::Expr;
use crate::extract::FieldExt as _;
use tree_sitter::Node;

impl<'a> Extractor<'a> {
    /// Finds the Celery tasks defined at the top of the file.
    pub fn collect_tasks(&mut self, top: &[Node<'_>]) {
        let ctx = Ctx::module();
        for node in top {
            if node.kind_name() != "decorated_definition" {
                continue;
            }
            let Some(def) = node
                .field("definition")
                .filter(|d| d.kind_name() == "function_definition")
            else {
                continue;
            };
            let Some(function) = def.field("name").map(|n| self.text(n)) else {
                continue;
            };
            for decorator in named(*node)
                .into_iter()
                .filter(|c| c.kind_name() == "decorator")
            {
                let Some((name, bound)) = self.task_decorator_name(decorator, function, &ctx)
                else {
                    continue;
                };
                let mut params = self.params_of(def);
                if bound && !params.is_empty() {
                    params.remove(0);
                }
                self.tasks
                    .insert(function.to_string(), TaskDef { name, params });
                break;
            }
        }
    }

    /// The task name a decorator gives, if it is a task decorator, and whether the task is
    /// bound (`bind=True`: its first parameter is the task itself).
    fn task_decorator_name(
        &mut self,
        decorator: Node<'_>,
        function: &str,
        ctx: &Ctx,
    ) -> Option<(Expr, bool)> {
        let expr = decorator.named_child(0)?;
        let matched = match expr.kind_name() {
            "call" => {
                let callee = expr.field("function")?;
                let args = self.args(expr);
                self.match_parts(callee, args, ctx, true, 0)?
            }
            "identifier" | "attribute" => self.match_parts(expr, Args::default(), ctx, true, 0)?,
            _ => return None,
        };
        let queue = matched.model.queues.iter().find(|q| q.task)?;
        let explicit = self
            .spec_exprs(&matched, &queue.name, ctx)
            .into_iter()
            .next();
        let bound = matched
            .args
            .keyword("bind")
            .is_some_and(|b| b.kind_name() == "true");
        let name = explicit.unwrap_or_else(|| Expr::lit(self.default_task_name(function)));
        Some((name, bound))
    }

    /// The parameters of a function.
    pub(super) fn params_of(&self, def: Node<'_>) -> Vec<Param> {
        let Some(params) = def.field("parameters") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for param in named(params) {
            let (name, has_default, splat) = match param.kind_name() {
                "identifier" => (Some(param), false, false),
                "typed_parameter" => (
                    param
                        .named_child(0)
                        .filter(|n| n.kind_name() == "identifier"),
                    false,
                    false,
                ),
                "default_parameter" | "typed_default_parameter" => {
                    (param.field("name"), true, false)
                }
                "list_splat_pattern" | "dictionary_splat_pattern" => {
                    (param.named_child(0), false, true)
                }
                _ => (None, false, false),
            };
            let Some(name) = name else { continue };
            out.push(Param {
                name: self.text(name).to_string(),
                has_default,
                splat,
                line: line_of(param),
            });
        }
        out
    }

    /// A decorator that is a name rather than a call (`@shared_task`, `@app.task`): its row
    /// applies as if called without arguments.
    pub(super) fn bare_decorator(&mut self, expr: Node<'_>, ctx: &Ctx) {
        if let Some(matched) = self.match_parts(expr, Args::default(), ctx, true, 0) {
            self.effects(expr, &matched, ctx);
        }
    }

    /// Gives each schedule trigger the scope of the job function it names, now that every
    /// scope exists (a job defined below its registration included).
    pub fn finish(&mut self) {
        self.finish_intervals();
        if self.budget.exhausted.get() {
            self.facts.warnings.push(crate::extract::ExtractWarning {
                line: 1,
                message: "too much code to follow every message's fields; some were not read"
                    .to_string(),
            });
        }
        for (index, name) in std::mem::take(&mut self.pending_jobs) {
            let scopes = &self.facts.scopes;
            let found = scopes
                .iter()
                .position(|s| {
                    s.kind == crate::extract::ScopeKind::Function
                        && s.parent == Some(0)
                        && s.name == name
                })
                .or_else(|| {
                    scopes.iter().position(|s| {
                        s.kind == crate::extract::ScopeKind::Function && s.name == name
                    })
                });
            if let (Some(scope), Some(trigger)) = (found, self.facts.triggers.get_mut(index)) {
                trigger.scope = scope;
            }
        }
    }
}
