//! Message fields: consumers that read a field the producer stopped sending, or use without a
//! null check a field the producer may now send as null.

use super::names::counterparts;
use super::{Candidate, Excerpts, Parts, Version};
use crate::change::{Deltas, FieldChange, Side};
use crate::extract::FieldUse;
use crate::graph::Graph;
use crate::model::Site;
use crate::resolve::Resource;
use crate::rules::impact::{ImpactRule, When};

pub fn candidates(
    deltas: &Deltas,
    graph: &Graph,
    rules: &[(usize, &ImpactRule)],
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (order, rule) in rules.iter().copied() {
        let dropped = match rule.when {
            When::FieldDropped => true,
            When::FieldNullable => false,
            _ => continue,
        };
        for change in &deltas.fields {
            let fields = if dropped {
                &change.dropped
            } else {
                &change.nullable
            };
            for field in fields {
                out.extend(field_candidates(
                    rule, order, change, field, dropped, graph, excerpts,
                ));
            }
        }
    }
    out
}

pub(super) fn field_candidates(
    rule: &ImpactRule,
    order: usize,
    change: &FieldChange,
    field: &FieldUse,
    dropped: bool,
    graph: &Graph,
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for id in counterparts(graph, &change.head, Side::Consumer) {
        let consumer = graph.access(id);
        let Resource::Queue(queue) = &consumer.resource else {
            continue;
        };
        let Some(read) = queue.fields.iter().find(|f| f.name == field.name) else {
            continue;
        };
        // A reader with a default copes with absence; a null check copes with null.
        let copes = if dropped {
            read.optional
        } else {
            read.nullable
        };
        if copes {
            continue;
        }
        let destination = change.head.resource.display().to_string();
        let impacted = Site {
            repo: consumer.site.repo.clone(),
            path: consumer.site.path.clone(),
            line: read.line,
        };
        let (change_site, change_note) = if dropped {
            (
                change.head.site.clone(),
                format!("publishes to {destination} without `{}`", field.name),
            )
        } else {
            (
                Site {
                    repo: change.head.site.repo.clone(),
                    path: change.head.site.path.clone(),
                    line: field.line,
                },
                format!("may now send `{}` as null", field.name),
            )
        };
        let how = if read.optional {
            "with a default"
        } else {
            "without a default"
        };
        let parts = Parts {
            kind: crate::model::ResourceKind::Queue,
            before: Some(format!("{destination} with field `{}`", field.name)),
            after: Some(if dropped {
                format!("{destination} without field `{}`", field.name)
            } else {
                format!("{destination} with nullable field `{}`", field.name)
            }),
            change: change_site,
            change_version: Version::Head,
            change_note,
            impacted,
            impacted_version: Version::Head,
            change_origins: change.head.origins.clone(),
            impacted_origins: consumer.origins.clone(),
            impacted_note: format!(
                "reads `{}` {how} from messages of {}",
                field.name,
                consumer.resource.display()
            ),
            values: vec![
                ("producer", change.head.unit.clone()),
                ("field", field.name.clone()),
                ("before", change.base.resource.display().to_string()),
                ("after", destination.clone()),
                ("counterpart", consumer.resource.display().to_string()),
                ("counterpart_verb", consumer.mode.verb().to_string()),
                ("counterpart_unit", consumer.unit.clone()),
            ],
            explanation: vec![
                format!(
                    "{} {} ({}) and reads `{}` at line {}",
                    consumer.unit,
                    consumer.describe(),
                    consumer.site,
                    field.name,
                    read.line
                ),
                format!(
                    "at base, {} sent `{}` ({})",
                    change.base.unit, field.name, change.base.site
                ),
                if dropped {
                    format!(
                        "at head, {} publishes without it ({})",
                        change.head.unit, change.head.site
                    )
                } else {
                    format!(
                        "at head, {} may send it as null (line {})",
                        change.head.unit, field.line
                    )
                },
            ],
            notes: consumer.notes.clone(),
        };
        out.push(Candidate {
            order,
            group: (
                consumer.site.repo.clone(),
                format!("{}#{}", consumer.unit, field.name),
                change.head.site.clone(),
            ),
            finding: parts.finish(rule, excerpts),
        });
    }
    out
}
