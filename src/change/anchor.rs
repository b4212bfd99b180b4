//! Anchoring: each delta's access points at a line the change touched.
//!
//! An access can change meaning without its own line changing: `OUT=/data/etl` becomes
//! `OUT=/data/etl2` at the top of a script and the `touch "$OUT/done"` forty lines below now
//! writes elsewhere. The reviewer's change site is the assignment, so an access whose own line is
//! untouched is moved to the nearest origin of its value that the change touched (its version:
//! base for what the change removed, head for what it added). An access with neither stays where
//! it is, and the impact stage drops any finding made from it: what the change did not touch,
//! the change did not cause.

use super::Deltas;
use crate::model::{ChangedLines, Origin, Site, Version};
use crate::resolve::{Access, Resource};

/// Anchors every access of the deltas.
pub fn anchor_deltas(mut deltas: Deltas) -> Deltas {
    let lines = deltas.changed_lines.clone();
    let at = |a: &mut Access, version| {
        anchor(a, version, &lines);
    };
    for change in &mut deltas.outputs {
        at(&mut change.removed, Version::Base);
        change
            .replacements
            .iter_mut()
            .for_each(|r| at(r, Version::Head));
    }
    for change in &mut deltas.inputs {
        at(&mut change.removed, Version::Base);
        change
            .replacements
            .iter_mut()
            .for_each(|r| at(r, Version::Head));
    }
    for change in &mut deltas.names {
        at(&mut change.removed, Version::Base);
        change
            .replacements
            .iter_mut()
            .for_each(|r| at(r, Version::Head));
    }
    for change in &mut deltas.fields {
        // A message's shape is written where its fields are, often lines above the publish.
        let fields: Vec<Origin> = match &change.head.resource {
            Resource::Queue(queue) => queue
                .fields
                .iter()
                .map(|f| Origin {
                    site: Site {
                        line: f.line,
                        ..change.head.site.clone()
                    },
                    note: format!("sends field {}", f.name),
                })
                .collect(),
            _ => Vec::new(),
        };
        change.head.origins.splice(0..0, fields);
        at(&mut change.head, Version::Head);
    }
    for list in [
        &mut deltas.new_waits,
        &mut deltas.new_requirements,
        &mut deltas.new_queue_uses,
    ] {
        list.iter_mut().for_each(|a| at(a, Version::Head));
    }
    deltas
}

/// Moves an untouched access to the first origin of its value that the change touched.
pub fn anchor(access: &mut Access, version: Version, lines: &ChangedLines) -> bool {
    if access.site.repo == lines.repo && lines.touches(&access.site.path, access.site.line, version)
    {
        return true;
    }
    let Some(origin) = access
        .origins
        .iter()
        .find(|o| o.site.repo == lines.repo && lines.touches(&o.site.path, o.site.line, version))
        .map(|o| o.site.clone())
    else {
        return false;
    };
    let used_at = std::mem::replace(&mut access.site, origin);
    // Removed code is anchored in the base version: say so, or its lines read as head lines.
    let when = match version {
        Version::Base => " (lines before the change)",
        Version::Head => "",
    };
    access.notes.push(format!(
        "the value changed at {}:{} is used at {}:{}{when}",
        access.site.path, access.site.line, used_at.path, used_at.line
    ));
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Mode;
    use crate::resolve::{PathSet, Resource};

    fn access(line: u32, origins: &[u32]) -> Access {
        let site = |line| Site {
            repo: "etl".into(),
            path: "run.sh".into(),
            line,
        };
        Access {
            resource: Resource::Path(PathSet::default()),
            mode: Mode::Write,
            site: site(line),
            unit: "run.sh".into(),
            via: "touch".into(),
            qualifiers: Vec::new(),
            notes: Vec::new(),
            jobs: Vec::new(),
            required: false,
            origin: None,
            launched_by: None,
            origins: origins
                .iter()
                .map(|l| Origin {
                    site: site(*l),
                    note: String::new(),
                })
                .collect(),
        }
    }

    fn changed_at(line: u32) -> ChangedLines {
        ChangedLines::one_line("etl", "run.sh", line)
    }

    #[test]
    fn untouched_use_moves_to_its_changed_assignment() {
        let mut a = access(40, &[12, 3]);
        assert!(anchor(&mut a, Version::Head, &changed_at(3)));
        assert_eq!(a.site.line, 3);
        assert!(a.notes[0].contains("used at run.sh:40"));
    }

    #[test]
    fn touched_use_stays() {
        let mut a = access(40, &[3]);
        assert!(anchor(&mut a, Version::Head, &changed_at(40)));
        assert_eq!(a.site.line, 40);
    }

    #[test]
    fn nothing_touched_is_not_anchored() {
        let mut a = access(40, &[3]);
        assert!(!anchor(&mut a, Version::Head, &changed_at(20)));
        assert_eq!(a.site.line, 40);
    }
}
