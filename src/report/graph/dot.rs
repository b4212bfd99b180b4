//! The picture as Graphviz DOT: one cluster per repository (its jobs and units) and per resource
//! group, accesses as edges labelled with their modes. Reads point from the resource to the unit
//! (`dir=back`), so arrows follow the data while the layout keeps units left of resources.

use super::view::{EdgeKind, GraphView, NodeKind, edge_class};
use crate::report::text::clean;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Colours of edge classes, shared with the other formats.
pub fn colour(class: &str) -> &'static str {
    match class {
        "produces" => "#1565c0",
        "removes" => "#c62828",
        "consumes" => "#2e7d32",
        _ => "#757575",
    }
}

/// A DOT quoted string: backslashes and quotes escaped, controls shown as `\u{..}` (no raw
/// newline can end the string or start a statement).
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in clean(text).chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn render(view: &GraphView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph knockon {{");
    let _ = writeln!(
        out,
        "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=11, nodesep=0.25, ranksep=1.2];"
    );
    let _ = writeln!(out, "  node [fontname=\"Helvetica\", fontsize=10];");
    let _ = writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=9];");
    for note in &view.notes {
        let _ = writeln!(out, "  // {}", clean(note).replace('\n', " "));
    }
    let mut groups: BTreeMap<(bool, &str), Vec<usize>> = BTreeMap::new();
    for (i, node) in view.nodes.iter().enumerate() {
        let resource_side = matches!(node.kind, NodeKind::Resource)
            || (node.kind == NodeKind::Hidden && !view.repositories.contains(&node.group));
        groups
            .entry((resource_side, node.group.as_str()))
            .or_default()
            .push(i);
    }
    for (n, ((resource_side, group), members)) in groups.iter().enumerate() {
        let _ = writeln!(out, "  subgraph cluster_{n} {{");
        let _ = writeln!(out, "    label={};", quote(group));
        let _ = writeln!(
            out,
            "    style=\"rounded\"; color={};",
            if *resource_side {
                "\"#b0bec5\""
            } else {
                "\"#9e9e9e\""
            }
        );
        for i in members {
            let node = &view.nodes[*i];
            let shape = match node.kind {
                NodeKind::Job => "shape=ellipse, style=filled, fillcolor=\"#fff8e1\"",
                NodeKind::Unit => "shape=box, style=\"rounded,filled\", fillcolor=\"#e3f2fd\"",
                NodeKind::Resource => "shape=note, style=filled, fillcolor=\"#f5f5f5\"",
                NodeKind::Hidden => "shape=box, style=dashed, fontcolor=\"#616161\"",
            };
            let mut tooltip = node.detail.clone().unwrap_or_default();
            if let Some(site) = &node.site {
                tooltip = format!("{tooltip} — {site}");
            }
            let _ = writeln!(
                out,
                "    {} [{shape}, label={}, tooltip={}];",
                quote(&node.id),
                quote(&node.drawn_label()),
                quote(&tooltip)
            );
        }
        let _ = writeln!(out, "  }}");
    }
    for edge in &view.edges {
        match edge.kind {
            EdgeKind::Runs => {
                let _ = writeln!(
                    out,
                    "  {} -> {} [style=dashed, color=\"#8d6e63\", label=\"runs\"];",
                    quote(&edge.from),
                    quote(&edge.to)
                );
            }
            EdgeKind::Access => {
                let class = edge_class(&edge.modes);
                let modes: Vec<&str> = edge.modes.iter().map(|m| m.as_str()).collect();
                let back = if class == "consumes" {
                    ", dir=back"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "  {} -> {} [label={}, color=\"{}\", fontcolor=\"{}\"{back}];",
                    quote(&edge.from),
                    quote(&edge.to),
                    quote(&modes.join(", ")),
                    colour(class),
                    colour(class)
                );
            }
        }
    }
    let _ = writeln!(out, "}}");
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_cannot_be_broken_out_of() {
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
        assert_eq!(quote("a\\\"; x -> y"), "\"a\\\\\\\"; x -> y\"");
        assert_eq!(quote("a\nb"), "\"a\\\\u{a}b\"");
    }
}
