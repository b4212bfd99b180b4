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
            let written_at = literal_line(access, &reference.literal, excerpts);
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
                impacted: written_at.clone(),
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
                        "{} reads {written} ({}), the repository file {}",
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
                group: (written_at.repo.clone(), access.unit.clone(), change),
                finding: parts.finish(rule, excerpts),
            });
        }
    }
    out
}

/// How far from a use its literal is looked for: a loop's items below an Ansible task's `src:`.
const LITERAL_SEARCH_LINES: u32 = 60;

/// The line that writes the reference down — the line a fix changes: the use's own line when
/// the literal is there, else the nearest line of the same file that spells it in quotes or
/// as a YAML item (`- hostapd/x`, `{ src: 'hostapd/x' }`) when the value came from within the
/// file (a loop item, a variable), else the use.
fn literal_line(access: &crate::resolve::Access, literal: &str, excerpts: Excerpts<'_>) -> Site {
    let at = |line: u32| Site {
        repo: access.site.repo.clone(),
        path: access.site.path.clone(),
        line,
    };
    let spells = |line: u32| {
        excerpts(&at(line), Version::Head).is_some_and(|text| {
            let text = text.trim();
            text.contains(&format!("'{literal}'"))
                || text.contains(&format!("\"{literal}\""))
                || text
                    .strip_prefix("- ")
                    .is_some_and(|item| item.trim() == literal)
                || text.ends_with(&format!(" {literal}"))
        })
    };
    let line = access.site.line;
    if spells(line)
        || !access
            .origins
            .iter()
            .any(|o| o.site.path == access.site.path)
    {
        return access.site.clone();
    }
    for distance in 1..=LITERAL_SEARCH_LINES {
        if spells(line + distance) {
            return at(line + distance);
        }
        if distance < line && spells(line - distance) {
            return at(line - distance);
        }
    }
    access.site.clone()
}
