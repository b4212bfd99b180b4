//! Deployments that drift apart: the change edits how one deployment launches a program (an
//! option, an environment value, a volume's host path, the user) and another deployment of the
//! same program — in another file of the changed repository or in another repository — still
//! has the value both had before.
//!
//! "The same program" is [`DeploymentFact::same_program`](crate::extract::formats::deploy::DeploymentFact::same_program):
//! the image repository and the command's program, module and subcommand, never the service
//! name. A deployment that already had another value (two workers on different queues) is not
//! drift, nor is one the change edited too (its line is in the change, which the engine holds
//! out of impacted sites). Two deployments that name no image (units, crontab lines) are
//! compared within one repository only.

use super::{Candidate, Excerpts, Parts, Version};
use crate::change::Deltas;
use crate::change::drift::SettingChange;
use crate::extract::formats::deploy::{Deployed, Program};
use crate::graph::Graph;
use crate::rules::impact::{ImpactRule, When};
use std::collections::HashMap;

pub fn candidates(
    deltas: &Deltas,
    graph: &Graph,
    rules: &[(usize, &ImpactRule)],
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    if deltas.setting_changes.is_empty() {
        return out;
    }
    // Deployments by what they run, so that each change meets only candidates for the same
    // program (a large world holds thousands of deployments).
    let mut by_program: HashMap<&str, Vec<&Deployed>> = HashMap::new();
    for deployed in &graph.deployments {
        if let Some(key) = program_key(deployed) {
            by_program.entry(key).or_default().push(deployed);
        }
    }
    for (order, rule) in rules.iter().copied() {
        if rule.when != When::DeploymentDrift {
            continue;
        }
        for change in &deltas.setting_changes {
            let Some(key) = program_key(&change.deployment) else {
                continue;
            };
            for other in by_program.get(key).into_iter().flatten() {
                if let Some(candidate) = drifted(change, other, order, rule, excerpts) {
                    out.push(candidate);
                }
            }
        }
    }
    out
}

/// What must be equal for two deployments to be the same program: the command's program, or
/// the image for one that runs the image's own command.
fn program_key(deployed: &Deployed) -> Option<&str> {
    match &deployed.fact.program {
        Program::Known(program) => Some(program),
        Program::ImageDefault => deployed.fact.image.as_deref(),
        Program::Unknown => None,
    }
}

/// The finding for `other` when it still runs the changed program with the old value.
fn drifted(
    change: &SettingChange,
    other: &Deployed,
    order: usize,
    rule: &ImpactRule,
    excerpts: Excerpts<'_>,
) -> Option<Candidate> {
    let changed = &change.deployment;
    let itself = (&other.repo, &other.path, &other.fact.unit)
        == (&changed.repo, &changed.path, &changed.fact.unit);
    if itself || !changed.fact.same_program(&other.fact) {
        return None;
    }
    // Without an image on either side, only the command says which program runs, and common
    // commands (`gunicorn config.wsgi:application`) recur across unrelated projects: such
    // deployments are compared within one repository only.
    if changed.fact.image.is_none() && other.fact.image.is_none() && changed.repo != other.repo {
        return None;
    }
    let before = &change.before;
    let stale = other.fact.setting(before.kind, &before.name)?;
    if !stale.same_value(before) {
        return None;
    }
    let was = before.display();
    let now = match &change.after {
        Some(after) => after.display(),
        None => format!("no {}", before.describe_key()),
    };
    let (change_site, change_version) = (change.site.clone(), change.version);
    let impacted = other.site(stale.line);
    let program = changed.fact.identity();
    let setting = before.describe_key();
    let file = other.path.rsplit('/').next().unwrap_or(&other.path);
    let counterpart = format!("{} in {file}", other.fact.unit);
    let where_other = if other.repo == changed.repo {
        format!(
            "both had {was} before the change, which edits only {}",
            changed.path
        )
    } else {
        format!(
            "{} is read at its current state; before the change both deployments had {was}",
            other.repo
        )
    };
    let parts = Parts {
        kind: before.carries(),
        before: Some(was.clone()),
        after: Some(now.clone()),
        change: change_site.clone(),
        change_version,
        change_note: format!(
            "{} now runs {program} with {now} (was {was})",
            changed.fact.unit
        ),
        impacted: impacted.clone(),
        impacted_version: Version::Head,
        impacted_note: format!("{} still runs {program} with {was}", other.fact.unit),
        change_origins: change
            .after
            .as_ref()
            .map(|a| a.origins.clone())
            .unwrap_or_default(),
        impacted_origins: stale.origins.clone(),
        values: vec![
            ("program", program.clone()),
            ("counterpart_unit", counterpart.clone()),
            ("before", was.clone()),
            ("after", now.clone()),
            ("setting", setting.clone()),
        ],
        explanation: vec![
            format!(
                "{} ({change_site}) runs {program}; the change gives it {now} (was {was})",
                changed.fact.unit
            ),
            format!(
                "{counterpart} at {} deploys the same program ({}) and still has {was}",
                other.site(other.fact.line),
                same_because(changed, other)
            ),
            where_other,
        ],
        notes: Vec::new(),
    };
    Some(Candidate {
        order,
        group: (
            other.repo.clone(),
            format!("{}:{}#{}", other.path, other.fact.unit, before.display()),
            change_site,
        ),
        finding: parts.finish(rule, excerpts),
    })
}

/// Why two deployments are the same program, in words.
fn same_because(a: &Deployed, b: &Deployed) -> String {
    let command = match &a.fact.program {
        Program::Known(p) => format!("command `{p}`"),
        _ => "the image's own command".to_string(),
    };
    match (&a.fact.image, &b.fact.image) {
        (Some(image), Some(_)) => format!("image {image}, {command}"),
        _ => command,
    }
}
