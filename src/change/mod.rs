//! Change: the changed repository's accesses at base and at head -> contract deltas.
//!
//! Input: the resolved accesses of the changed repository in both worlds. Output: the outputs
//! that the change stops producing, each with what its unit produces instead.
//!
//! Deltas are decided on meaning, not text: an output is removed when no output at head covers
//! it (so renaming a variable, moving a line or splitting a function changes nothing), and an
//! output is new when no output at base covered it. Because the whole repository is resolved at
//! both revisions, a change to a constant in one module is seen at every access that uses it.

use crate::model::Mode;
use crate::pattern::covers;
use crate::resolve::{Access, Resource};

/// An output the change stops producing, and what its unit produces instead.
#[derive(Clone, Debug)]
pub struct OutputChange {
    /// The access at base (its site is in the base version).
    pub removed: Access,
    /// New outputs of the same unit (else of the same file, else of the changed files) at head.
    pub replacements: Vec<Access>,
}

/// The contract deltas of one change.
#[derive(Clone, Debug, Default)]
pub struct Deltas {
    pub outputs: Vec<OutputChange>,
}

/// Compares the changed repository's accesses at base and head.
pub fn compute(base: &[Access], head: &[Access], changed_paths: &[String]) -> Deltas {
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
    let mut deltas = Deltas::default();
    for removed in base_outputs {
        if path_patterns(removed)
            .iter()
            .all(|p| covers(&head_patterns, p))
        {
            continue;
        }
        let same_unit: Vec<Access> = new_outputs
            .iter()
            .filter(|a| a.unit == removed.unit && a.site.path == removed.site.path)
            .map(|a| (*a).clone())
            .collect();
        let replacements = if !same_unit.is_empty() {
            same_unit
        } else {
            let same_file: Vec<Access> = new_outputs
                .iter()
                .filter(|a| a.site.path == removed.site.path)
                .map(|a| (*a).clone())
                .collect();
            if !same_file.is_empty() {
                same_file
            } else {
                new_outputs
                    .iter()
                    .filter(|a| changed_paths.contains(&a.site.path))
                    .map(|a| (*a).clone())
                    .collect()
            }
        };
        deltas.outputs.push(OutputChange {
            removed: removed.clone(),
            replacements,
        });
    }
    deltas
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
