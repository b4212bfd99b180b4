//! Change: the changed repository's accesses at base and at head -> contract deltas.
//!
//! Input: the resolved accesses (and sends) of the changed repository in both worlds. Output:
//! [`Deltas`] — path outputs it stops producing, credential and queue names its producers and
//! consumers stop using, message fields it drops or starts sending as null, waits and triggers it
//! adds, environment variables it starts requiring.
//!
//! Deltas are decided on meaning, not text: a name or output is gone when nothing at head covers
//! it, and new when nothing at base covered it, so renaming a variable or moving code changes
//! nothing. Because the whole repository is resolved at both revisions, a change to a constant in
//! one module is seen at every access that uses it.
//!
//! Invariants: a comparison the algebra cannot decide makes no delta (it is listed in
//! [`Deltas::undecided`] instead); the cost grows with what the change altered, not with the size
//! of the repository (see `cover`); and every delta's access is anchored in the change — its
//! site is moved to the changed line its value was built on when its own line is untouched
//! (see `anchor`), and the impact stage drops whatever still lies outside the change.

mod anchor;
mod cover;
pub mod drift;
mod names;
mod paths;
#[cfg(test)]
mod tests;
mod tree;
mod waits;

pub use cover::{Coverage, Covering};
pub use paths::{is_path_input, meets_without_holes};
pub use tree::{RemovedFileReference, TreeChange};

use crate::model::ChangedLines;
use crate::resolve::{Access, Send};
pub use names::{
    FieldChange, NameChange, Side, name_group, names_of as names_of_access,
    side_of as side_of_access,
};

/// An output the change stops producing, and what its unit produces instead.
#[derive(Clone, Debug)]
pub struct OutputChange {
    /// The access at base (its site is in the base version).
    pub removed: Access,
    /// New outputs of the same unit (else of the same file, else of the changed files) at head.
    pub replacements: Vec<Access>,
}

/// A path the changed consumer stops reading (checking, listing, waiting for, taking) and what
/// it reads instead: the other direction of [`OutputChange`]. A producer elsewhere may be left
/// writing the old path for nobody.
#[derive(Clone, Debug)]
pub struct InputChange {
    /// The input at base (its site is in the base version).
    pub removed: Access,
    /// New inputs of the same unit (else file, else changed files) at head; never empty.
    pub replacements: Vec<Access>,
    /// Accesses of the changed repository's other units that produced the old input at base:
    /// when nothing produces it (nor the new one) at head, the change removed the producer too.
    pub base_producers: Vec<Access>,
}

/// The contract deltas of one change.
#[derive(Clone, Debug, Default)]
pub struct Deltas {
    pub outputs: Vec<OutputChange>,
    /// Path inputs a consumer of the changed repository moved to another path.
    pub inputs: Vec<InputChange>,
    /// Credential and queue names a producer or consumer stops using.
    pub names: Vec<NameChange>,
    /// Message fields a producer drops or starts sending as null.
    pub fields: Vec<FieldChange>,
    /// Waits present at head and not at base (in the same unit, on the same resource).
    pub new_waits: Vec<Access>,
    /// Signals and requests present at head and not at base.
    pub new_sends: Vec<Send>,
    /// Environment variables read without a default at head that were not required at base.
    pub new_requirements: Vec<Access>,
    /// Queue publishes and consumes on names that the repository did not use at base.
    pub new_queue_uses: Vec<Access>,
    /// Accesses at base whose coverage at head could not be decided: no delta is made of them,
    /// and the report says so.
    pub undecided: Vec<Access>,
    /// The lines the change touched: every finding's change site must lie in them.
    pub changed_lines: ChangedLines,
    /// References left on repository files the change deleted or moved.
    pub removed_file_references: Vec<RemovedFileReference>,
    /// Deployment settings (options, environment values, volumes, user) the change edited or
    /// removed; filled by [`drift::setting_changes`].
    pub setting_changes: Vec<drift::SettingChange>,
}

/// The two sides of the changed repository.
pub struct Sides<'a> {
    pub base: &'a [Access],
    pub head: &'a [Access],
    pub base_sends: &'a [Send],
    pub head_sends: &'a [Send],
    pub changed_lines: &'a ChangedLines,
    /// The files the change removed from the repository tree, and the head tree.
    pub tree: &'a TreeChange,
}

/// The deltas of an audit: every access of the world taken as new, as if one change had added
/// everything (new waits, new requirements, new queue uses), with nothing removed or replaced
/// and no changed lines. Audit rules that reuse a change evaluator read these.
pub fn everything_new(accesses: &[Access], sends: &[Send]) -> Deltas {
    let lines = ChangedLines::new("");
    Deltas {
        outputs: Vec::new(),
        inputs: Vec::new(),
        names: Vec::new(),
        fields: Vec::new(),
        new_waits: waits::new_waits(&[], accesses),
        new_sends: sends.to_vec(),
        new_requirements: waits::new_requirements(&[], accesses),
        new_queue_uses: names::name_changes(&[], accesses, &lines).new_queue_uses,
        undecided: Vec::new(),
        changed_lines: lines,
        removed_file_references: Vec::new(),
        setting_changes: Vec::new(),
    }
}

/// Compares the changed repository at base and head.
pub fn compute(sides: &Sides<'_>) -> Deltas {
    let lines = sides.changed_lines;
    let mut undecided = Vec::new();
    let names = names::name_changes(sides.base, sides.head, lines);
    undecided.extend(names.undecided);
    let mut outputs = paths::output_changes(sides.base, sides.head, lines);
    undecided.extend(outputs.undecided);
    // What an image's own files wrote, when the change deletes the image's Dockerfile with
    // them: the image is now built elsewhere (zammad-docker-compose moving its container to the
    // upstream repository), and its paths still exist in the containers that run it.
    outputs
        .changes
        .retain(|c| !image_moved_away(&c.removed.site.path, sides.tree));
    let deltas = Deltas {
        outputs: outputs.changes,
        inputs: paths::input_changes(sides.base, sides.head, lines),
        names: names.changes,
        fields: names::field_changes(sides.base, sides.head),
        new_waits: waits::new_waits(sides.base, sides.head),
        new_sends: waits::new_sends(sides.base_sends, sides.head_sends),
        new_requirements: waits::new_requirements(sides.base, sides.head),
        new_queue_uses: names.new_queue_uses,
        undecided,
        changed_lines: lines.clone(),
        removed_file_references: tree::removed_file_references(sides.head, sides.tree),
        setting_changes: Vec::new(),
    };
    anchor::anchor_deltas(deltas)
}

/// Whether a file was deleted along with the Dockerfile of its directory (or of a directory
/// above it): the image it belonged to is defined elsewhere now.
fn image_moved_away(path: &str, tree: &TreeChange) -> bool {
    if !tree.removed.get(path).is_some_and(Option::is_none) {
        return false;
    }
    let mut dir = path;
    while let Some((parent, _)) = dir.rsplit_once('/') {
        let dockerfile = format!("{parent}/Dockerfile");
        if tree.removed.get(&dockerfile).is_some_and(Option::is_none) {
            return true;
        }
        dir = parent;
    }
    tree.removed.get("Dockerfile").is_some_and(Option::is_none)
}

/// What replaced `removed`: new accesses of the same unit, else of the same file, else of the
/// other changed files when they are plainly its successor — the same function moved to another
/// module, or (for paths) an output in the removed one's directory or below. A large change
/// writes many unrelated new files; without that relation, nothing replaced the output.
fn replacements_for(removed: &Access, new: &[&Access], lines: &ChangedLines) -> Vec<Access> {
    let same_unit: Vec<Access> = new
        .iter()
        .filter(|a| a.unit == removed.unit && a.site.path == removed.site.path)
        .map(|a| (*a).clone())
        .collect();
    if !same_unit.is_empty() {
        return same_unit;
    }
    let same_file: Vec<Access> = new
        .iter()
        .filter(|a| a.site.path == removed.site.path)
        .map(|a| (*a).clone())
        .collect();
    if !same_file.is_empty() {
        return same_file;
    }
    new.iter()
        .filter(|a| lines.is_changed_path(&a.site.path) && successor(removed, a))
        .map(|a| (*a).clone())
        .collect()
}

/// Is `new`, in another file, plainly what became of `removed`?
fn successor(removed: &Access, new: &Access) -> bool {
    let function = |unit: &str| {
        unit.rsplit(['.', ':', '/'])
            .next()
            .unwrap_or(unit)
            .to_string()
    };
    if function(&removed.unit) == function(&new.unit) {
        return true;
    }
    let (Some(old), Some(now)) = (removed.resource.as_path(), new.resource.as_path()) else {
        return false;
    };
    old.patterns.iter().any(|o| {
        let dir = o.literal_prefix();
        dir.len() > 1
            && now
                .patterns
                .iter()
                .any(|n| n.literal_prefix().starts_with(dir))
    })
}
