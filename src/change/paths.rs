//! Path outputs: what the changed repository stops writing, and what it writes instead.
//!
//! An output is removed when no output at head covers it (so renaming a variable, moving a line
//! or splitting a function changes nothing), and an output is new when no output at base covered
//! it. Undecided comparisons are neither.

use super::{Coverage, Covering, InputChange, OutputChange, replacements_for};
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

/// Inputs a consumer of the changed repository moved: a base input that no head input covers,
/// with the new inputs of the same unit (else file, else changed files) that replaced it. An
/// input with no replacement is code that stopped reading, not a consumer that moved; and an
/// undecided comparison is neither.
pub fn input_changes(base: &[Access], head: &[Access], lines: &ChangedLines) -> Vec<InputChange> {
    let base_inputs: Vec<&Access> = base.iter().filter(|a| is_path_input(a)).collect();
    let head_inputs: Vec<&Access> = head.iter().filter(|a| is_path_input(a)).collect();
    let at_head = Covering::new(
        head_inputs
            .iter()
            .flat_map(|a| path_patterns(a).iter().cloned()),
    );
    let at_base = Covering::new(
        base_inputs
            .iter()
            .flat_map(|a| path_patterns(a).iter().cloned()),
    );
    let new_inputs: Vec<&Access> = head_inputs
        .iter()
        .copied()
        .filter(|a| at_base.covers_all(path_patterns(a)) == Coverage::NotCovered)
        .collect();
    if new_inputs.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for removed in base_inputs {
        if at_head.covers_all(path_patterns(removed)) != Coverage::NotCovered {
            continue;
        }
        let replacements = replacements_for(removed, &new_inputs, lines);
        if replacements.is_empty() {
            continue;
        }
        let base_producers = base
            .iter()
            .filter(|p| {
                p.mode.produces()
                    && p.unit != removed.unit
                    && path_patterns(removed)
                        .iter()
                        .any(|r| meets_without_holes(p, r))
            })
            .cloned()
            .collect();
        out.push(InputChange {
            removed: removed.clone(),
            replacements,
            base_producers,
        });
    }
    out
}

/// Whether a producer's paths meet a pattern through what they spell, not only through a value
/// resolution left open: `/etc/systemd/system/{name}` (a loop item nobody can list) meets
/// `/etc/systemd/system/app.service` only by its hole, and is a weak producer — it must not
/// count as producing that file (nor hide that a reader's input vanished).
pub fn meets_without_holes(producer: &Access, pattern: &Pattern) -> bool {
    let Some(set) = producer.resource.as_path() else {
        return false;
    };
    set.patterns.iter().any(|mine| match mine.spelled_only() {
        Some(spelled) => crate::pattern::overlaps(&spelled, pattern),
        None => crate::pattern::overlaps(mine, pattern),
    })
}

/// Accesses that consume what a path holds: reads, existence checks, listings, waits, and
/// copies or moves out of it.
pub fn is_path_input(access: &Access) -> bool {
    matches!(
        access.mode,
        Mode::Read | Mode::Check | Mode::List | Mode::WaitFor | Mode::CopyFrom | Mode::MoveFrom
    ) && matches!(&access.resource, Resource::Path(set) if set.is_anchored())
}
