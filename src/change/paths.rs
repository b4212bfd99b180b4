//! Path outputs: what the changed repository stops writing, and what it writes instead.
//!
//! An output is removed when no output at head covers it (so renaming a variable, moving a line
//! or splitting a function changes nothing), and an output is new when no output at base covered
//! it. Undecided comparisons are neither.

use super::{Coverage, Covering, OutputChange, replacements_for};
use crate::model::{ChangedLines, Mode};
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
    let new_outputs: Vec<&Access> = head_outputs
        .iter()
        .copied()
        .filter(|a| at_base.covers_all(path_patterns(a)) == Coverage::NotCovered)
        .collect();
    let mut out = Outputs {
        changes: Vec::new(),
        undecided: Vec::new(),
    };
    for removed in base_outputs {
        match at_head.covers_all(path_patterns(removed)) {
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
