//! CI pipelines -> environment blocks and scripts: GitHub Actions workflows and GitLab CI.
//!
//! GitHub Actions (`.github/workflows/*.yml`): `env:` at workflow, job and step level as `Env`
//! sets (and bindings, so the scripts of the job resolve them); each step's `run:` analysed as
//! shell in a scope `step NAME` under `jobs.NAME`, in its `working-directory`, with `${{ expr }}`
//! expressions as holes (`env.X` as the variable); `on.schedule[].cron` as [`ScheduleFact`]s
//! whose `CronEntry` scope holds the jobs.
//!
//! GitLab CI (`.gitlab-ci.yml`): `variables:` (global and per job) as `Env` sets; each job's
//! `before_script`, `script` and `after_script` items (strings, lists, block scalars) analysed
//! as shell in a scope `job NAME`, each at its own lines.

use super::Ctx;
use super::tree::{Node, shell_text};
use crate::expr::ScopeId;
use crate::extract::formats::common::{self, Interpolation, push_scope, set_env, value_expr};
use crate::extract::formats::template::{self, Placeholder, Syntax, TokenStyle, expression_expr};
use crate::extract::{FileFacts, ScheduleFact, Scope, ScopeKind, cron};

fn interpolation(scope: ScopeId, line: u32) -> Interpolation {
    Interpolation {
        braces: true,
        dollar: true,
        ..Interpolation::default()
    }
    .at(scope, line)
}

fn env_block(facts: &mut FileFacts, scope: ScopeId, env: Option<&Node>, via: &str) {
    for (name, key, value) in env.map(Node::pairs).into_iter().flatten() {
        let text = value
            .text()
            .or_else(|| value.get("value").and_then(Node::text));
        let expr = text.map(|t| value_expr(&t, interpolation(scope, key.line), false));
        set_env(facts, scope, name, expr, key.line, via);
    }
}

pub(super) fn github(ctx: &Ctx, facts: &mut FileFacts, root: &Node) {
    env_block(facts, 0, root.get("env"), "github env");
    let mut parent = 0;
    let schedules = root
        .get("on")
        .or_else(|| root.get("true"))
        .and_then(|on| on.get("schedule"))
        .map(Node::seq)
        .unwrap_or_default();
    let first_index = facts.schedules.len();
    for (i, entry) in schedules.iter().enumerate() {
        let Some((key, value)) = entry.entry("cron") else {
            continue;
        };
        let expression = value.str().unwrap_or("").trim().to_string();
        let description = cron::describe_schedule(&expression)
            .map(|d| format!("{d} (UTC)"))
            .unwrap_or_else(|| format!("on the schedule `{expression}`"));
        if parent == 0 {
            parent = facts.push_scope(Scope {
                parent: Some(0),
                kind: ScopeKind::CronEntry,
                name: "on.schedule".to_string().into(),
                class: None,
                job: Some(first_index + i),
                line: key.line,
            });
        }
        facts.schedules.push(ScheduleFact {
            line: key.line,
            expression,
            description,
            user: None,
            command: "jobs".to_string(),
            env: Vec::new(),
            scope: parent,
        });
    }
    let mut placeholders = Vec::new();
    for (name, key, job) in root.get("jobs").map(Node::pairs).into_iter().flatten() {
        let scope = push_scope(
            facts,
            parent,
            ScopeKind::Function,
            format!("jobs.{name}"),
            key.line,
        );
        env_block(facts, scope, job.get("env"), "github env");
        let job_dir = job
            .at(&["defaults", "run", "working-directory"])
            .and_then(Node::str);
        for step in job.get("steps").map(Node::seq).unwrap_or_default() {
            let label = step
                .get("name")
                .or_else(|| step.get("id"))
                .or_else(|| step.get("uses"))
                .and_then(Node::str)
                .unwrap_or("step");
            let step_scope = push_scope(
                facts,
                scope,
                ScopeKind::Function,
                format!("step {label}"),
                step.line,
            );
            env_block(facts, step_scope, step.get("env"), "github env");
            let Some(run) = step.get("run").and_then(Node::scalar) else {
                continue;
            };
            let cwd = step
                .get("working-directory")
                .and_then(Node::str)
                .or(job_dir);
            let (text, first) = shell_text(run, ctx.source);
            let text = github_expressions(&text, first, step_scope, &mut placeholders);
            common::shell(facts, step_scope, &text, first, cwd, ctx.models);
        }
    }
    template::fill(facts, &placeholders);
}

/// Replaces `${{ expr }}` by placeholders (filled after the shell is analysed).
fn github_expressions(
    text: &str,
    first_line: u32,
    scope: ScopeId,
    placeholders: &mut Vec<Placeholder>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut line = first_line;
    while let Some(at) = rest.find("${{") {
        let Some(end) = rest[at..].find("}}") else {
            break;
        };
        let before = &rest[..at];
        line = line.saturating_add(u32::try_from(before.matches('\n').count()).unwrap_or(0));
        out.push_str(before);
        let source = &rest[at..at + end + 2];
        let inner = &source[3..source.len() - 2];
        out.push_str(&template::token(placeholders.len(), TokenStyle::Dollar));
        placeholders.push(Placeholder {
            expr: expression_expr(inner, Syntax::Github, scope, line),
            source: source.to_string(),
        });
        for _ in 0..source.matches('\n').count() {
            out.push('\n');
        }
        rest = &rest[at + end + 2..];
    }
    out.push_str(rest);
    out
}

/// Top-level GitLab keys that are not jobs.
const GITLAB_RESERVED: &[&str] = &[
    "image",
    "services",
    "stages",
    "variables",
    "default",
    "include",
    "workflow",
    "cache",
    "before_script",
    "after_script",
    "types",
    "pages",
];

pub(super) fn gitlab(ctx: &Ctx, facts: &mut FileFacts, root: &Node) {
    env_block(facts, 0, root.get("variables"), "gitlab variables");
    for key in ["before_script", "after_script"] {
        scripts(ctx, facts, 0, root.get(key));
    }
    if let Some(default) = root.get("default") {
        for key in ["before_script", "after_script"] {
            scripts(ctx, facts, 0, default.get(key));
        }
    }
    for (name, key, job) in root.pairs() {
        if GITLAB_RESERVED.contains(&name) || !job.is_map() {
            continue;
        }
        if ["script", "before_script", "after_script", "variables"]
            .iter()
            .all(|k| job.get(k).is_none())
        {
            continue;
        }
        let scope = push_scope(
            facts,
            0,
            ScopeKind::Function,
            format!("job {name}"),
            key.line,
        );
        env_block(facts, scope, job.get("variables"), "gitlab variables");
        for key in ["before_script", "script", "after_script"] {
            scripts(ctx, facts, scope, job.get(key));
        }
    }
}

/// A script: one string or a list of strings (nested lists, as `!reference` leaves them).
fn scripts(ctx: &Ctx, facts: &mut FileFacts, scope: ScopeId, node: Option<&Node>) {
    let Some(node) = node else { return };
    if node.scalar().is_some() {
        return ctx.shell_node(facts, scope, node, None);
    }
    for item in node.seq() {
        if item.scalar().is_some() {
            ctx.shell_node(facts, scope, item, None);
        } else {
            for inner in item.seq() {
                ctx.shell_node(facts, scope, inner, None);
            }
        }
    }
}
