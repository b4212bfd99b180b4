//! The picture as a Mermaid flowchart (GitHub and GitLab render it in Markdown): a subgraph per
//! repository and per resource group, accesses as labelled edges, reads drawn from the resource
//! to the unit.
//!
//! Every label is written inside double quotes with each character outside a small safe set as
//! a Mermaid entity (`#34;`), so no label can close its quotes, start a comment or an edge, or
//! carry HTML.

use super::view::{EdgeKind, GraphView, NodeKind, edge_class};
use crate::report::text::clean;
use std::collections::BTreeMap;
use std::fmt::Write;

/// A quoted Mermaid label.
pub fn label(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in clean(text).chars() {
        if c.is_alphanumeric() || " ./_-:,*?+=@$!~^'".contains(c) {
            out.push(c);
        } else {
            let _ = write!(out, "#{};", u32::from(c));
        }
    }
    out.push('"');
    out
}

pub fn render(view: &GraphView) -> String {
    let mut out = String::from("flowchart LR\n");
    for note in &view.notes {
        let _ = writeln!(out, "  %% {}", clean(note).replace(['\n', '%'], " "));
    }
    let mut groups: BTreeMap<(bool, &str), Vec<usize>> = BTreeMap::new();
    for (i, node) in view.nodes.iter().enumerate() {
        let resource_side = node.kind == NodeKind::Resource
            || (node.kind == NodeKind::Hidden && !view.repositories.contains(&node.group));
        groups
            .entry((resource_side, node.group.as_str()))
            .or_default()
            .push(i);
    }
    for (n, ((_, group), members)) in groups.iter().enumerate() {
        let _ = writeln!(out, "  subgraph g{n}[{}]", label(group));
        for i in members {
            let node = &view.nodes[*i];
            let text = label(&node.drawn_label());
            let shape = match node.kind {
                NodeKind::Job => format!("{}([{text}]):::job", node.id),
                NodeKind::Unit => format!("{}[{text}]:::unit", node.id),
                NodeKind::Resource => format!("{}[({text})]:::resource", node.id),
                NodeKind::Hidden => format!("{}[{text}]:::hidden", node.id),
            };
            let _ = writeln!(out, "    {shape}");
        }
        let _ = writeln!(out, "  end");
    }
    for edge in &view.edges {
        match edge.kind {
            EdgeKind::Runs => {
                let _ = writeln!(out, "  {} -.->|{}| {}", edge.from, label("runs"), edge.to);
            }
            EdgeKind::Access => {
                let modes: Vec<&str> = edge.modes.iter().map(|m| m.as_str()).collect();
                let text = label(&modes.join(", "));
                if edge_class(&edge.modes) == "consumes" {
                    let _ = writeln!(out, "  {} -->|{text}| {}", edge.to, edge.from);
                } else {
                    let _ = writeln!(out, "  {} -->|{text}| {}", edge.from, edge.to);
                }
            }
        }
    }
    out.push_str("  classDef job fill:#fff8e1,stroke:#8d6e63\n");
    out.push_str("  classDef unit fill:#e3f2fd,stroke:#1565c0\n");
    out.push_str("  classDef resource fill:#f5f5f5,stroke:#607d8b\n");
    out.push_str(
        "  classDef hidden fill:#ffffff,stroke:#9e9e9e,stroke-dasharray:4 4,color:#616161\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn labels_cannot_be_broken_out_of() {
        assert_eq!(label("/data/{day}.csv"), "\"/data/#123;day#125;.csv\"");
        assert_eq!(label("a\"] --> x[\"b"), "\"a#34;#93; --#62; x#91;#34;b\"");
        assert_eq!(label("<img src=x>"), "\"#60;img src=x#62;\"");
        assert_eq!(label("%%{init}%%"), "\"#37;#37;#123;init#125;#37;#37;\"");
    }
}
