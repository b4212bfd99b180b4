//! Path outputs: what the changed repository stops writing, and what it writes instead.
//!
//! An output is removed when no output at head covers it (so renaming a variable, moving a line
//! or splitting a function changes nothing), and an output is new when no output at base covered
//! it.

use super::{OutputChange, replacements_for};
use crate::model::Mode;
use crate::pattern::covers;
use crate::resolve::{Access, Resource};

/// Outputs removed by the change, with their replacements.
pub fn output_changes(
    base: &[Access],
    head: &[Access],
    changed_paths: &[String],
) -> Vec<OutputChange> {
    let base_outputs: Vec<&Access> = base.iter().filter(|a| is_path_output(a)).collect();
    let head_outputs: Vec<&Access> = head.iter().filter(|a| is_path_output(a)).collect();
    let head_patterns: Vec<crate::pattern::Pattern> = head_outputs
        .iter()
        .flat_map(|a| path_patterns(a).iter().cloned())
        .collect();
    let base_patterns: Vec<crate::pattern::Pattern> = base_outputs
        .iter()
        .flat_map(|a| path_patterns(a).iter().cloned())
        .collect();
    let new_outputs: Vec<&Access> = head_outputs
        .iter()
        .copied()
        .filter(|a| !path_patterns(a).iter().all(|p| covers(&base_patterns, p)))
        .collect();
    let mut out = Vec::new();
    for removed in base_outputs {
        if path_patterns(removed)
            .iter()
            .all(|p| covers(&head_patterns, p))
        {
            continue;
        }
        out.push(OutputChange {
            removed: removed.clone(),
            replacements: replacements_for(removed, &new_outputs, changed_paths),
        });
    }
    out
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
