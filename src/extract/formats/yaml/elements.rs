//! The elements of lists a values or variables file writes literally, for the templates that
//! loop over them (`{% for q in queues %}`, `{{ range .Values.queues }}`): such a loop's
//! variable is `Var NAME.*` (see `template/locals.rs`).
//!
//! `queues: [orders, mail]` binds `queues.*` to any of `orders`, `mail`; a list of dicts
//! `[{name: a, dir: /x}, {name: b, dir: /y}]` binds `servers.*.name` and `servers.*.dir`, the
//! fields every element has (one element without it, or with a null, leaves that field
//! unbound: never a guess); lists inside elements give `servers.*.ports.*`.
//!
//! Bounds: at most [`MAX_ELEMENTS`] values per binding (more leave it unbound), [`MAX_DEPTH`]
//! levels, and [`MAX_PATHS`] bindings per list.

use super::tree::{Kind, Node};
use crate::expr::Expr;

const MAX_ELEMENTS: usize = 64;
const MAX_DEPTH: usize = 16;
const MAX_PATHS: usize = 256;

/// The bindings (`NAME.*…`, value) of the list `list` named `name`; with `maps`, of a dict's
/// values too (Go's `range` over a map gives its values; Jinja's `for` its keys, so Ansible
/// variables do not). Empty for anything else. `leaf` reads a scalar (`None` for a null).
pub(super) fn element_bindings(
    name: &str,
    list: &Node,
    leaf: &dyn Fn(&Node) -> Option<Expr>,
    maps: bool,
) -> Vec<(String, Expr)> {
    let paths = match &list.kind {
        Kind::Seq(items) => elements(items.iter(), leaf, 0),
        Kind::Map(_) if maps => elements(list.pairs().map(|(_, _, v)| v), leaf, 0),
        _ => None,
    };
    let Some(paths) = paths else {
        return Vec::new();
    };
    paths
        .into_iter()
        .filter(|(_, values)| !values.is_empty() && values.len() <= MAX_ELEMENTS)
        .map(|(rel, mut values)| {
            let value = if values.len() == 1 {
                values.pop().unwrap_or_else(|| Expr::lit(""))
            } else {
                Expr::Alt { options: values }
            };
            (format!("{name}{rel}"), value)
        })
        .collect()
}

/// Each path below `node` (`""` for itself, `.key`, `.*`) with the values it may have.
fn aggregate(
    node: &Node,
    leaf: &dyn Fn(&Node) -> Option<Expr>,
    depth: usize,
) -> Option<Vec<(String, Vec<Expr>)>> {
    if depth > MAX_DEPTH {
        return None;
    }
    match &node.kind {
        Kind::Scalar(_) => leaf(node).map(|e| vec![(String::new(), vec![e])]),
        Kind::Map(_) => {
            let mut out = Vec::new();
            for (key, _, value) in node.pairs() {
                for (rel, values) in aggregate(value, leaf, depth + 1).into_iter().flatten() {
                    if out.len() < MAX_PATHS {
                        out.push((format!(".{key}{rel}"), values));
                    }
                }
            }
            Some(out)
        }
        Kind::Seq(items) => elements(items.iter(), leaf, depth),
    }
}

/// The paths every one of these elements has (`.*`, `.*.name`), with their values.
fn elements<'n>(
    items: impl Iterator<Item = &'n Node>,
    leaf: &dyn Fn(&Node) -> Option<Expr>,
    depth: usize,
) -> Option<Vec<(String, Vec<Expr>)>> {
    let mut common: Option<Vec<(String, Vec<Expr>)>> = None;
    for item in items {
        let Some(paths) = aggregate(item, leaf, depth + 1) else {
            // An element that is null or too deep: nothing is known of every element.
            return Some(Vec::new());
        };
        common = Some(match common {
            None => paths,
            Some(before) => {
                let paths: std::collections::HashMap<String, Vec<Expr>> =
                    paths.into_iter().collect();
                before
                    .into_iter()
                    .filter_map(|(rel, mut values)| {
                        for v in paths.get(&rel)? {
                            if !values.contains(v) && values.len() <= MAX_ELEMENTS {
                                values.push(v.clone());
                            }
                        }
                        Some((rel, values))
                    })
                    .collect()
            }
        });
    }
    Some(
        common
            .unwrap_or_default()
            .into_iter()
            .map(|(rel, values)| (format!(".*{rel}"), values))
            .collect(),
    )
}
