//! Environment requirements: a program starts requiring a variable (reads it with no default)
//! and a deployment, unit or crontab that launches it does not pass it.
//!
//! Only launchers that configure the environment themselves (they set at least one variable) are
//! judged: a launcher that sets nothing presumably inherits the environment from somewhere
//! knockon cannot see. Likewise a launcher whose environment is open (an environment file in no
//! repository, templated, or a Kubernetes `envFrom` map) may set the variable, and is not
//! judged. A variable passed from the host (`- X`, `X: ${X}`) or set by an environment file
//! that is in a repository counts as passed.

use super::{Candidate, Excerpts, Parts, Version};
use crate::change::Deltas;
use crate::graph::Graph;
use crate::rules::impact::{ImpactRule, When};

pub fn candidates(
    deltas: &Deltas,
    graph: &Graph,
    rules: &[(usize, &ImpactRule)],
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (order, rule) in rules.iter().copied() {
        if rule.when != When::RequirementNotPassed {
            continue;
        }
        for requirement in &deltas.new_requirements {
            let variable = requirement.resource.display().to_string();
            let here = (requirement.site.repo.clone(), requirement.site.path.clone());
            for launch in &graph.launches {
                if !launch.reaches.contains(&here) || launch.sets.is_empty() {
                    continue;
                }
                // An environment file knockon cannot read may set it.
                if launch.passes.contains(&variable) || launch.open_env {
                    continue;
                }
                // A read renamed from a variable this launcher passes: the line setting the old
                // name is the place to patch, and `credential.provided-but-unread` points at it.
                if renamed_from_passed(deltas, requirement, launch) {
                    continue;
                }
                let parts = Parts {
                    kind: crate::model::ResourceKind::Credential,
                    before: None,
                    after: Some(variable.clone()),
                    change: requirement.site.clone(),
                    change_version: Version::Head,
                    change_note: format!("now requires {variable} (read without a default)"),
                    impacted: launch.site.clone(),
                    impacted_version: Version::Head,
                    change_origins: requirement.origins.clone(),
                    impacted_origins: Vec::new(),
                    impacted_note: format!(
                        "starts {} with {} but not {variable}",
                        requirement.site.path,
                        launch.sets.join(", ")
                    ),
                    values: vec![
                        ("variable", variable.clone()),
                        ("program", requirement.unit.clone()),
                        ("counterpart_unit", launch.unit.clone()),
                        ("after", variable.clone()),
                    ],
                    explanation: vec![
                        format!(
                            "{} reads {variable} without a default ({})",
                            requirement.unit, requirement.site
                        ),
                        format!(
                            "{} launches it ({}) setting {}",
                            launch.unit,
                            launch.site,
                            launch.sets.join(", ")
                        ),
                    ],
                    notes: requirement.notes.clone(),
                };
                out.push(Candidate {
                    order,
                    group: (
                        launch.site.repo.clone(),
                        format!("{}#{variable}", launch.unit),
                        requirement.site.clone(),
                    ),
                    finding: parts.finish(rule, excerpts),
                });
            }
        }
    }
    out
}

/// Whether a new requirement replaced a read of a variable that the launcher passes.
fn renamed_from_passed(
    deltas: &Deltas,
    requirement: &crate::resolve::Access,
    launch: &crate::resolve::Launch,
) -> bool {
    deltas.names.iter().any(|change| {
        change.side == crate::change::Side::Consumer
            && change
                .replacements
                .iter()
                .any(|r| r.site == requirement.site)
            && crate::change::names_of_access(&change.removed)
                .and_then(|n| n.literal())
                .is_some_and(|old| launch.passes.iter().any(|p| p == old))
    })
}
