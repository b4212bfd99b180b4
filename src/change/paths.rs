//! Path outputs: what the changed repository stops writing, and what it writes instead.
//!
//! An output is removed when no output at head covers it (so renaming a variable, moving a line
//! or splitting a function changes nothing), and an output is new when no output at base covered
//! it. Undecided comparisons are neither.

use super::{Coverage, Covering, OutputChange, replacements_for};
use crate::model::{ChangedLines, Mode};
use crate::pattern::Pattern;
use crate::resolve::{Access, Resource};

/// Outputs removed by the change, with their replacements, and those that could not be decided.
pub struct Outputs {
    pub changes: Vec<OutputChange>,
    pub undecided: Vec<Access>,
}

/// Outputs removed by the change, with their replacements.
pub fn output_changes(base: &[Access], head: &[Access], lines: &ChangedLines) -> Outputs {
    let base_outputs: Vec<&Access> = base.iter().filter(|a| is_path_output(a)).collect();
    let head_outputs: Vec<&Access> = head.iter().filter(|a| is_path_output(a)).collect();
    let at_head = Covering::new(
        head_outputs
            .iter()
            .flat_map(|a| path_patterns(a).iter().cloned()),
    );
    let at_base = Covering::new(
        base_outputs
            .iter()
            .flat_map(|a| path_patterns(a).iter().cloned()),
    );
    // Base outputs that spell their paths: an output covered at base only by another unit's
    // open value (`{name}`) is still new (the replacement of what it moved from).
    let base_spelled: Vec<&Access> = base_outputs
        .iter()
        .copied()
        .filter(|a| path_patterns(a).iter().all(|p| !p.has_open_value()))
        .collect();
    let at_base_spelled = Covering::new(
        base_spelled
            .iter()
            .flat_map(|a| path_patterns(a).iter().cloned()),
    );
    let new_outputs: Vec<&Access> = head_outputs
        .iter()
        .copied()
        .filter(|a| match at_base.covers_all(path_patterns(a)) {
            Coverage::NotCovered => true,
            Coverage::Covered => weakly_covered(a, &base_outputs, &at_base_spelled),
            Coverage::Undecided => false,
        })
        .collect();
    let mut out = Outputs {
        changes: Vec::new(),
        undecided: Vec::new(),
    };
    // Head outputs that spell their paths (no value left open): a removed output covered only
    // by another unit's `/etc/systemd/system/{name}` is still removed (see `weakly_covered`).
    let spelled: Vec<&Access> = head_outputs
        .iter()
        .copied()
        .filter(|a| path_patterns(a).iter().all(|p| !p.has_open_value()))
        .collect();
    let at_head_spelled = Covering::new(
        spelled
            .iter()
            .flat_map(|a| path_patterns(a).iter().cloned()),
    );
    for removed in base_outputs {
        match at_head.covers_all(path_patterns(removed)) {
            Coverage::Covered if weakly_covered(removed, &head_outputs, &at_head_spelled) => {
                out.changes.push(OutputChange {
                    removed: removed.clone(),
                    replacements: replacements_for(removed, &new_outputs, lines),
                });
            }
            Coverage::Covered => {}
            Coverage::Undecided => out.undecided.push(removed.clone()),
            Coverage::NotCovered => out.changes.push(OutputChange {
                removed: removed.clone(),
                replacements: replacements_for(removed, &new_outputs, lines),
            }),
        }
    }
    out
}

/// Whether a removed output (spelled out itself) is covered at head only through other units'
/// values left open. The same unit writing an open value at head is where the output went (a
/// literal moved into a parameter nobody binds), so that stays covered: the change made the
/// value unknown, not gone.
fn weakly_covered(removed: &Access, head: &[&Access], spelled: &Covering) -> bool {
    let patterns = path_patterns(removed);
    if patterns.iter().any(Pattern::has_open_value)
        || spelled.covers_all(patterns) != Coverage::NotCovered
    {
        return false;
    }
    let coverers: Vec<&&Access> = head
        .iter()
        .filter(|a| {
            path_patterns(a)
                .iter()
                .any(|p| patterns.iter().any(|r| crate::pattern::overlaps(p, r)))
        })
        .collect();
    !coverers.is_empty()
        && coverers.iter().all(|a| {
            path_patterns(a).iter().any(Pattern::has_open_value)
                && !(a.site.path == removed.site.path && a.unit == removed.unit)
        })
}

/// Files that appear because of the access. Directory creation is left out: it accompanies
/// the writes that matter and would only repeat them.
fn is_path_output(access: &Access) -> bool {
    matches!(access.mode, Mode::Write | Mode::Append | Mode::MoveTo)
        && matches!(&access.resource, Resource::Path(set) if set.is_anchored())
}

fn path_patterns(access: &Access) -> &[crate::pattern::Pattern] {
    match &access.resource {
        Resource::Path(set) => &set.patterns,
        _ => &[],
    }
}
