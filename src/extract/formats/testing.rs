//! Test helpers: compact, readable renderings of facts for assertions.

use crate::expr::Expr;
use crate::extract::{FileFacts, RawAccess, RawResource, Reach, RunTarget};
use crate::rules::models::Models;

pub(crate) fn models() -> Models {
    Models::builtin().expect("built-in models load")
}

/// `/data/{day}/$QUEUE/<hole>` style rendering of an expression.
pub(crate) fn render(expr: &Expr) -> String {
    match expr {
        Expr::Lit { text } | Expr::Glob { text } => text.to_string(),
        Expr::Concat { parts } => parts.iter().map(render).collect(),
        Expr::Join { parts } => parts.iter().map(render).collect::<Vec<_>>().join("/"),
        Expr::Var { name, default, .. } => match default {
            Some(d) => format!("{{{name}:-{}}}", render(d)),
            None => format!("{{{name}}}"),
        },
        Expr::Env { name, default } => match default {
            Some(d) => format!("${{{name}:-{}}}", render(d)),
            None => format!("${name}"),
        },
        Expr::Hole { label, .. } => format!("<{label}>"),
        Expr::Parent { of } => format!("parent({})", render(of)),
        Expr::ReplaceName { of, name, .. } => format!("replace({}, {})", render(of), render(name)),
        Expr::Alt { options } => format!(
            "({})",
            options.iter().map(render).collect::<Vec<_>>().join("|")
        ),
    }
}

/// `L7 delete /var/log/app find[*.log] older than 7 days @CronJob/x.container c.command via find -delete`
pub(crate) fn access(facts: &FileFacts, a: &RawAccess) -> String {
    let what = match &a.resource {
        RawResource::Path(p) => {
            let reach = match &p.reach {
                Reach::Exact => String::new(),
                Reach::Tree => " (tree)".to_string(),
                Reach::Children => " (children)".to_string(),
                Reach::Find(spec) => format!(
                    " find[{}]",
                    spec.names.iter().map(render).collect::<Vec<_>>().join(",")
                ),
            };
            let retention = p
                .retention
                .as_ref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            format!("{}{reach}{retention}", render(&p.expr))
        }
        RawResource::Env(e) => match &e.value {
            Some(v) => format!("env {}={}", render(&e.name), render(v)),
            None => format!("env {}", render(&e.name)),
        },
        RawResource::Secret(s) => format!("secret {}:{}", s.provider, render(&s.id)),
        RawResource::Queue(q) => format!("queue {}", render(&q.name)),
    };
    format!(
        "L{} {} {} @{} via {}",
        a.line,
        a.mode,
        what,
        facts.unit_name(a.scope),
        a.via
    )
}

pub(crate) fn accesses(facts: &FileFacts) -> Vec<String> {
    facts.accesses.iter().map(|a| access(facts, a)).collect()
}

pub(crate) fn runs(facts: &FileFacts) -> Vec<String> {
    facts
        .runs
        .iter()
        .map(|r| {
            let target = match &r.target {
                RunTarget::Path { expr } => render(expr),
                RunTarget::PythonModule { module } => format!("python -m {module}"),
                RunTarget::Unit { name } => format!("unit {name}"),
                RunTarget::Program { name } => format!("program {name}"),
                RunTarget::Image { image, build } => format!(
                    "image {} build {}",
                    image.as_deref().unwrap_or("-"),
                    build.as_deref().unwrap_or("-")
                ),
            };
            format!("L{} {} @{}", r.line, target, facts.unit_name(r.scope))
        })
        .collect()
}

/// Asserts that every expected line is among the rendered facts.
#[track_caller]
pub(crate) fn assert_has(got: &[String], expected: &[&str]) {
    for e in expected {
        assert!(
            got.iter().any(|g| g == e),
            "missing `{e}` in\n{}",
            got.join("\n")
        );
    }
}
