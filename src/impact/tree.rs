//! References to repository files the change deleted or moved (see `change::tree`): the
//! impacted site is the reference, the change site the removed file.

use super::{Candidate, Excerpts, Parts, Version};
use crate::change::Deltas;
use crate::model::{ResourceKind, Site};
use crate::rules::impact::{ImpactRule, When};

pub fn candidates(
    deltas: &Deltas,
    rules: &[(usize, &ImpactRule)],
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (order, rule) in rules.iter().copied() {
        if rule.when != When::FileRemoved {
            continue;
        }
        for reference in &deltas.removed_file_references {
            let access = &reference.access;
            let change = Site {
                repo: access.site.repo.clone(),
                path: reference.file.clone(),
                line: 1,
            };
            let (change_note, after) = match &reference.moved_to {
                Some(to) => (
                    format!("moves {} to {to}", reference.file),
                    Some(to.clone()),
                ),
                None => (format!("deletes {}", reference.file), None),
            };
            let written = access.resource.display().to_string();
            let parts = Parts {
                kind: ResourceKind::Path,
                before: Some(reference.file.clone()),
                after: after.clone(),
                change: change.clone(),
                change_version: Version::Base,
                change_note,
                impacted: access.site.clone(),
                impacted_version: Version::Head,
                impacted_note: format!("{} {written}", access.mode.verb()),
                change_origins: Vec::new(),
                impacted_origins: access.origins.clone(),
                values: vec![
                    ("counterpart_unit", access.unit.clone()),
                    ("counterpart", written.clone()),
                    ("before", reference.file.clone()),
                    (
                        "moved",
                        after
                            .as_ref()
                            .map(|to| format!(", which the change moved to {to}"))
                            .unwrap_or_else(|| ", which the change deleted".to_string()),
                    ),
                    ("after", after.clone().unwrap_or_default()),
                ],
                explanation: vec![
                    format!(
                        "{} names {written} ({}), the repository file {}",
                        access.unit, access.site, reference.file
                    ),
                    match &after {
                        Some(to) => format!("the change moves {} to {to}", reference.file),
                        None => format!("the change deletes {}", reference.file),
                    },
                ],
                notes: access.notes.clone(),
            };
            out.push(Candidate {
                order,
                group: (access.site.repo.clone(), access.unit.clone(), change),
                finding: parts.finish(rule, excerpts),
            });
        }
    }
    out
}
