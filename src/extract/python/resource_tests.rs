//! Tests of the Python extractor's credentials, queues, message fields, triggers, sends,
//! waits and calls: one or more per idiom, with controls. Facts are compared in a compact
//! notation: `L<line> <mode> ...` per access, names and values in the notation of
//! [`super::tests::show`].

use super::tests::{facts, models, show};
use super::*;
use crate::extract::{FieldUse, RawResource, SendKind, TriggerKind};

/// Environment accesses: `L<line> <mode> <name> = <value>|required`.
fn envs(f: &FileFacts) -> Vec<String> {
    f.accesses
        .iter()
        .filter_map(|a| match &a.resource {
            RawResource::Env(e) => Some(format!(
                "L{} {} {} = {}",
                a.line,
                a.mode,
                show(&e.name),
                e.value.as_ref().map_or("required".to_string(), show)
            )),
            _ => None,
        })
        .collect()
}

/// Secret accesses: `L<line> <mode> <provider> <id> via <model>`.
fn secrets(f: &FileFacts) -> Vec<String> {
    f.accesses
        .iter()
        .filter_map(|a| match &a.resource {
            RawResource::Secret(s) => Some(format!(
                "L{} {} {} {} via {}",
                a.line,
                a.mode,
                s.provider,
                show(&s.id),
                a.via
            )),
            _ => None,
        })
        .collect()
}

/// Queue accesses: `L<line> <mode> <broker>/<role> <name> [ex=<e>] [to=<q>]`.
fn queues(f: &FileFacts) -> Vec<String> {
    f.accesses
        .iter()
        .filter_map(|a| match &a.resource {
            RawResource::Queue(q) => {
                let mut text = format!(
                    "L{} {} {}/{} {}",
                    a.line,
                    a.mode,
                    serde_json::to_value(q.broker).ok()?.as_str()?,
                    serde_json::to_value(q.role).ok()?.as_str()?,
                    show(&q.name)
                );
                if let Some(e) = &q.exchange {
                    text.push_str(&format!(" ex={}", show(e)));
                }
                if let Some(b) = &q.bound_queue {
                    text.push_str(&format!(" to={}", show(b)));
                }
                Some(text)
            }
            _ => None,
        })
        .collect()
}

/// The fields of the queue access at a line: `name@L<line>` with `?` for optional and `~`
/// for nullable.
fn fields_at(f: &FileFacts, line: u32) -> Vec<String> {
    let access = f
        .accesses
        .iter()
        .find(|a| a.line == line && matches!(a.resource, RawResource::Queue(_)))
        .unwrap_or_else(|| panic!("no queue access at L{line}: {:#?}", queues(f)));
    let RawResource::Queue(q) = &access.resource else {
        unreachable!()
    };
    q.fields.iter().map(field).collect()
}

fn field(u: &FieldUse) -> String {
    format!(
        "{}@L{}{}{}",
        u.name,
        u.line,
        if u.optional { "?" } else { "" },
        if u.nullable { "~" } else { "" }
    )
}

/// Accesses of other kinds with a mode: `L<line> <mode> <expr>` for paths.
fn paths(f: &FileFacts) -> Vec<String> {
    f.accesses
        .iter()
        .filter_map(|a| {
            let p = a.resource.as_path()?;
            Some(format!("L{} {} {}", a.line, a.mode, show(&p.expr)))
        })
        .collect()
}

fn triggers(f: &FileFacts) -> Vec<String> {
    f.triggers
        .iter()
        .map(|t| {
            let what = match &t.kind {
                TriggerKind::Signal { signal } => format!("signal {signal}"),
                TriggerKind::WatchFile { path } => format!("watch {}", show(path)),
                TriggerKind::Route { method, path } => {
                    format!("route {} {path}", method.as_deref().unwrap_or("*"))
                }
                TriggerKind::Schedule {
                    expression,
                    description,
                } => format!("schedule {expression} | {description}"),
                TriggerKind::Loop { interval } => {
                    format!("loop {}", interval.as_deref().unwrap_or("?"))
                }
            };
            format!("L{} {} {what}", t.line, f.unit_name(t.scope))
        })
        .collect()
}

fn sends(f: &FileFacts) -> Vec<String> {
    f.sends
        .iter()
        .map(|s| {
            let what = match &s.kind {
                SendKind::Signal { signal, target } => {
                    format!("signal {signal} -> {}", show(target))
                }
                SendKind::Http { method, url } => {
                    format!("http {} {}", method.as_deref().unwrap_or("*"), show(url))
                }
            };
            format!("L{} {} {what}", s.line, f.unit_name(s.scope))
        })
        .collect()
}

fn calls(f: &FileFacts) -> Vec<String> {
    f.calls
        .iter()
        .map(|c| format!("L{} {} {}", c.line, f.unit_name(c.scope), c.callee))
        .collect()
}

#[test]
fn zz_dump() {
    let src = std::fs::read_to_string("/tmp/dump.py").unwrap_or_default();
    let f = facts(&src);
    eprintln!("ENV {:#?}", envs(&f));
    eprintln!("SECRETS {:#?}", secrets(&f));
    eprintln!("QUEUES {:#?}", queues(&f));
    for a in &f.accesses {
        if let RawResource::Queue(q) = &a.resource {
            eprintln!(
                "  L{} fields {:?}",
                a.line,
                q.fields.iter().map(field).collect::<Vec<_>>()
            );
        }
    }
    eprintln!("PATHS {:#?}", paths(&f));
    eprintln!("TRIGGERS {:#?}", triggers(&f));
    eprintln!("SENDS {:#?}", sends(&f));
    eprintln!("CALLS {:#?}", calls(&f));
    eprintln!("WARN {:#?}", f.warnings);
    let _ = models();
}
