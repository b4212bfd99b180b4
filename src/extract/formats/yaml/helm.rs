//! Helm `values.yaml` -> bindings `values.a.b.c` for every scalar leaf, in the file scope.
//!
//! A chart's templates read these as `{{ .Values.a.b.c }}`, which the template pass turns into
//! `Var values.a.b.c`; the resolver binds it through the chart's `values.yaml` (the file beside
//! the `templates/` directory). List items are indexed (`values.args.0`), and any element of a
//! list is `values.args.*` (see `elements.rs`).
//!
//! Invariants: at most [`MAX_BINDINGS`] bindings and [`MAX_DEPTH`] levels per file.

use super::tree::{Kind, Node};
use crate::expr::Expr;
use crate::extract::{Binding, FileFacts};

const MAX_BINDINGS: usize = 10_000;
const MAX_DEPTH: usize = 32;

pub(super) fn extract(facts: &mut FileFacts, root: &Node) {
    let mut count = 0;
    walk(facts, root, "values", root.line, 0, &mut count);
}

fn walk(
    facts: &mut FileFacts,
    node: &Node,
    name: &str,
    line: u32,
    depth: usize,
    count: &mut usize,
) {
    if depth > MAX_DEPTH || *count >= MAX_BINDINGS {
        return;
    }
    match &node.kind {
        Kind::Scalar(_) => {
            let Some(text) = node.str() else { return };
            *count += 1;
            facts.bindings.push(Binding {
                scope: 0,
                name: name.to_string().into(),
                value: Expr::lit(text).into(),
                line,
            });
        }
        Kind::Map(_) => {
            // `{{ range $name, $dir := .Values.dirs }}`: any of the map's values.
            if depth > 0 {
                element_bindings(facts, node, name, line, count);
            }
            for (key, key_node, value) in node.pairs() {
                walk(
                    facts,
                    value,
                    &format!("{name}.{key}"),
                    key_node.line,
                    depth + 1,
                    count,
                );
            }
        }
        Kind::Seq(items) => {
            // `{{ range .Values.queues }}`: any element (`values.queues.*`, and fields of
            // elements that are dicts, `values.queues.*.name`).
            element_bindings(facts, node, name, line, count);
            for (index, item) in items.iter().enumerate() {
                walk(
                    facts,
                    item,
                    &format!("{name}.{index}"),
                    item.line,
                    depth + 1,
                    count,
                );
            }
        }
    }
}

fn element_bindings(facts: &mut FileFacts, node: &Node, name: &str, line: u32, count: &mut usize) {
    let leaf = |n: &Node| n.str().map(Expr::lit);
    for (element, value) in super::elements::element_bindings(name, node, &leaf, true) {
        if *count >= MAX_BINDINGS {
            return;
        }
        *count += 1;
        facts.bindings.push(Binding {
            scope: 0,
            name: element.into(),
            value: value.into(),
            line,
        });
    }
}
