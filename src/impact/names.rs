//! Credential and queue names: consumers left on a name their producer stopped using, producers
//! left on a name their consumer stopped using, and new names with nobody on the other side.

use super::{Candidate, Excerpts, Parts, Version, join_unique};
use crate::change::{Deltas, NameChange, Side, name_group};
use crate::extract::QueueRole;
use crate::graph::{AccessId, Graph, namespace};
use crate::model::Mode;
use crate::resolve::{Access, NameSet, Resource};
use crate::rules::impact::{ImpactRule, When};

pub fn candidates(
    deltas: &Deltas,
    graph: &Graph,
    rules: &[(usize, &ImpactRule)],
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (order, rule) in rules.iter().copied() {
        match rule.when {
            When::ProducerRenamed | When::ConsumerRenamed => {
                let side = if rule.when == When::ProducerRenamed {
                    Side::Producer
                } else {
                    Side::Consumer
                };
                for change in deltas.names.iter().filter(|c| c.side == side) {
                    if change.removed.kind() != rule.kind {
                        continue;
                    }
                    let lines = &deltas.changed_lines;
                    out.extend(renamed(rule, order, change, graph, lines, excerpts));
                }
            }
            When::PublishUnconsumed | When::ConsumeUnproduced => {
                let (mode, other) = if rule.when == When::PublishUnconsumed {
                    (Mode::Publish, Side::Consumer)
                } else {
                    (Mode::Consume, Side::Producer)
                };
                // A rename's new name is the rename rules' business: saying that nothing is on
                // the other side of it yet would repeat them.
                let renamed: Vec<&crate::model::Site> = deltas
                    .names
                    .iter()
                    .flat_map(|c| c.replacements.iter().map(|r| &r.site))
                    .collect();
                for access in deltas.new_queue_uses.iter().filter(|a| a.mode == mode) {
                    if is_binding(access)
                        || renamed.contains(&&access.site)
                        || fed_by_routes(access, mode)
                    {
                        continue;
                    }
                    if !counterparts(graph, access, other).is_empty() {
                        continue;
                    }
                    out.push(lonely(rule, order, access, excerpts));
                }
            }
            _ => {}
        }
    }
    out
}

/// Accesses on the other side of `access`'s names, in other units: for a publish, its
/// consumers (through AMQP bindings to the queues that receive it); for a consume, its
/// publishers.
pub fn counterparts(graph: &Graph, access: &Access, side: Side) -> Vec<AccessId> {
    let (Some(space), Some(names), Some(group)) = (
        namespace(&access.resource),
        names(access),
        name_group(access),
    ) else {
        return Vec::new();
    };
    let mut out: Vec<AccessId> = graph
        .name_candidates(&space, names)
        .into_iter()
        .filter(|id| {
            let other = graph.access(*id);
            crate::change::side_of_access(other) == Some(side)
                && name_group(other).as_deref() == Some(group.as_str())
                && !same_unit(other, access)
        })
        .collect();
    // A routing key reaches the consumers of the queues its bindings feed, and a queue's
    // consumers receive what is published with the keys its bindings match.
    if let Resource::Queue(queue) = &access.resource
        && queue.role == QueueRole::RoutingKey
        && side == Side::Consumer
    {
        for binding in out.clone() {
            let Resource::Queue(b) = &graph.access(binding).resource else {
                continue;
            };
            if let Some(bound) = &b.bound_queue {
                out.extend(
                    graph
                        .name_candidates(&space, bound)
                        .into_iter()
                        .filter(|id| {
                            let other = graph.access(*id);
                            other.mode == Mode::Consume && !is_binding(other)
                        }),
                );
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether every launch the provider's file makes with the name reaches code, and none reaches
/// the reader's file. A provider with no resolved launch (a deployment of an outside image, a
/// crontab running an unknown binary) may be providing it to the reader: that stays a finding.
fn provides_only_to_others(graph: &Graph, provider: &Access, reader: &Access) -> bool {
    let Resource::Env(names) = &provider.resource else {
        return false;
    };
    let Some(name) = names.literal() else {
        return false;
    };
    let launches: Vec<&crate::resolve::Launch> = graph
        .launches
        .iter()
        .filter(|l| {
            l.site.repo == provider.site.repo
                && l.site.path == provider.site.path
                && l.passes.iter().any(|p| p == name)
        })
        .collect();
    !launches.is_empty()
        && launches.iter().all(|l| {
            !l.reaches.is_empty()
                && !l
                    .reaches
                    .iter()
                    .any(|(repo, path)| *repo == reader.site.repo && *path == reader.site.path)
        })
}

/// How the shell extractor names a variable set for one command only (`X=v cmd`,
/// `env X=v cmd`, `docker run -e X=v`).
const COMMAND_SCOPED_SETS: &[&str] = &["VAR=value command", "env VAR=value", "docker run -e"];

/// Whether a provider's setting can reach a reader: a setting for one command reaches only
/// the reads of that command (its own line).
fn serves(provider: &Access, reader: &Access) -> bool {
    provider.mode != Mode::Set
        || !COMMAND_SCOPED_SETS.contains(&provider.via.as_str())
        || provider.site == reader.site
}

fn names(access: &Access) -> Option<&NameSet> {
    crate::change::names_of_access(access)
}

fn same_unit(a: &Access, b: &Access) -> bool {
    a.site.repo == b.site.repo && a.unit == b.unit
}

/// A Celery worker's queue (`-Q mail`) is fed by task routes (`task_routes`, `CELERY_ROUTES`,
/// a task's `queue=`) that are configuration knockon does not read whole: that nothing is seen
/// publishing there is no evidence.
fn fed_by_routes(access: &Access, mode: Mode) -> bool {
    mode == Mode::Consume
        && matches!(&access.resource, Resource::Queue(q)
            if q.broker == crate::extract::Broker::Celery && q.role == QueueRole::Queue)
}

fn is_binding(access: &Access) -> bool {
    matches!(&access.resource, Resource::Queue(q) if q.role == QueueRole::BindingKey)
}

/// A name the changed side stopped using, with counterparts still on it.
/// How far apart a read of the new name and one of the old may be to count as one lookup with a
/// fallback.
const FALLBACK_LINES: u32 = 5;

fn renamed(
    rule: &ImpactRule,
    order: usize,
    change: &NameChange,
    graph: &Graph,
    lines: &crate::model::ChangedLines,
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let other_side = match change.side {
        Side::Producer => Side::Consumer,
        Side::Consumer => Side::Producer,
    };
    // A consumer that moved to a name something provides is fine: leftovers of the old name are
    // harmless. The finding is about a move to a name nothing provides — and a consumer that
    // stopped reading altogether (deleted code) moved nowhere: a provider left setting an unread
    // name wastes nothing that breaks.
    if change.side == Side::Consumer
        && (change.replacements.is_empty()
            || change
                .replacements
                .iter()
                .any(|r| !counterparts(graph, r, Side::Producer).is_empty()))
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    for id in counterparts(graph, &change.removed, other_side) {
        let counterpart = graph.access(id);
        if !rule.counterpart_modes.is_empty() && !rule.counterpart_modes.contains(&counterpart.mode)
        {
            continue;
        }
        // Still served at head by someone else? (A variable set for one command only,
        // `PGPASSWORD=x psql`, serves that command, not this reader.)
        if counterparts(graph, counterpart, change.side)
            .into_iter()
            .any(|p| serves(graph.access(p), counterpart))
        {
            continue;
        }
        // When the provider's "new name" is only a guess among several new names, a reader
        // whose file the same change edited to read one of them keeps the old one on purpose
        // (netbox-docker's build.sh moved to IMAGE_NAMES, keeping `${DOCKER_REGISTRY-docker.io}`
        // while the workflow dropped DOCKER_REGISTRY and set three new variables). With one
        // clear new name, an old test left in an edited file is still stale (jitsi's template
        // reading AUTH_TYPE at its top kept testing JWT_ENABLE_TOKEN_AUTH further down).
        let several_new_names = change
            .replacements
            .iter()
            .filter_map(|r| names(r).and_then(|n| n.literal()))
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            > 1;
        if change.side == Side::Producer
            && several_new_names
            && counterpart.site.repo == lines.repo
            && lines.is_changed_path(&counterpart.site.path)
            && change.replacements.iter().any(|r| {
                counterparts(graph, r, Side::Consumer)
                    .into_iter()
                    .any(|c| graph.access(c).site.path == counterpart.site.path)
            })
        {
            continue;
        }
        // A variable a provider simply stops setting (no new name) breaks only readers that
        // need it: one read with a default or tested for presence (`${X+x}`, `get("X", d)`)
        // copes, as its author wrote it to.
        if change.side == Side::Producer
            && change.replacements.is_empty()
            && matches!(change.removed.resource, Resource::Env(_))
            && !counterpart.required
        {
            continue;
        }
        // A provider that launches known code, none of which is the renamed reader, provides
        // the name to another program (`export CRM_TOKEN; exec crm-report` when only crm.sync
        // imports the configuration): it is not left behind by this change.
        if change.side == Side::Consumer
            && provides_only_to_others(graph, counterpart, &change.removed)
        {
            continue;
        }
        // A consumer that also reads the new name right there (`get("NEW") or get("OLD")`,
        // `${NEW:-${OLD:-}}`, a second lookup on the next lines) falls back to the old one
        // deliberately: the rename is what it was written for. A read of the new name elsewhere
        // in the same file or template is not a fallback (jitsi 8da61612: a template reading
        // AUTH_TYPE at the top kept testing JWT_ENABLE_TOKEN_AUTH 70 lines below). (The same
        // program started by another launcher with another value is another consumer.)
        let launcher = |a: &Access| a.launched_by.as_ref().map(|o| o.launcher.clone());
        if change.side == Side::Producer
            && change.replacements.iter().any(|r| {
                counterparts(graph, r, Side::Consumer).into_iter().any(|c| {
                    let other = graph.access(c);
                    same_unit(other, counterpart)
                        && other.site.path == counterpart.site.path
                        && other.site.line.abs_diff(counterpart.site.line) <= FALLBACK_LINES
                        && launcher(other) == launcher(counterpart)
                })
            })
        {
            continue;
        }
        let before = change.removed.resource.display().to_string();
        let after = join_unique(
            change
                .replacements
                .iter()
                .map(|a| a.resource.display().to_string()),
        );
        let (change_site, version, change_origins) = match change.replacements.first() {
            Some(a) => (a.site.clone(), Version::Head, &a.origins),
            None => (
                change.removed.site.clone(),
                Version::Base,
                &change.removed.origins,
            ),
        };
        let job = graph
            .jobs_of(id)
            .find(|j| j.schedule().is_some())
            .map(|j| j.describe());
        let mut impacted_note = counterpart.describe();
        if let Some(j) = &job {
            impacted_note.push_str("; ");
            impacted_note.push_str(j);
        }
        // When the old name comes from a launcher's environment (a deployment that sets
        // QUEUE_NAME=orders), that setting is what needs a patch.
        let (impacted_site, impacted_note, group_unit) = match &counterpart.launched_by {
            Some(origin) if !origin.sets.is_empty() => {
                let (variable, value, site) = &origin.sets[0];
                (
                    site.clone(),
                    format!(
                        "sets {variable}={value} for {}, which {} ({})",
                        counterpart.unit,
                        counterpart.describe(),
                        counterpart.site
                    ),
                    format!("{}#{}", origin.launcher_unit, counterpart.unit),
                )
            }
            _ => (
                counterpart.site.clone(),
                impacted_note,
                counterpart.unit.clone(),
            ),
        };
        let change_note = if after.is_empty() {
            format!("no longer {} {before}", change.removed.mode.verb())
        } else {
            format!(
                "now {} {after} (was {before})",
                change.replacements[0].mode.verb()
            )
        };
        let parts = Parts {
            kind: change.removed.kind(),
            before: Some(before.clone()),
            after: (!after.is_empty()).then(|| after.clone()),
            change: change_site,
            change_version: version,
            change_note,
            impacted: impacted_site.clone(),
            impacted_version: Version::Head,
            change_origins: change_origins.clone(),
            impacted_origins: if impacted_site == counterpart.site {
                counterpart.origins.clone()
            } else {
                Vec::new()
            },
            impacted_note,
            values: vec![
                ("producer", change.removed.unit.clone()),
                ("before", before.clone()),
                (
                    "after",
                    if after.is_empty() {
                        "nothing".into()
                    } else {
                        after.clone()
                    },
                ),
                ("counterpart", counterpart.resource.display().to_string()),
                ("counterpart_verb", counterpart.mode.verb().to_string()),
                ("counterpart_unit", counterpart.unit.clone()),
                ("schedule", job.clone().unwrap_or_default()),
            ],
            explanation: vec![
                format!(
                    "{} {} ({})",
                    counterpart.unit,
                    counterpart.describe(),
                    counterpart.site
                ),
                format!(
                    "at base, {} {} ({})",
                    change.removed.unit,
                    change.removed.describe(),
                    change.removed.site
                ),
                match change.replacements.first() {
                    Some(a) => format!("at head, {} {} ({})", a.unit, a.describe(), a.site),
                    None => format!("at head, {} no longer uses {before}", change.removed.unit),
                },
                format!(
                    "at head, nothing else {} {before}",
                    change.removed.mode.verb()
                ),
            ],
            notes: change
                .removed
                .notes
                .iter()
                .chain(&counterpart.notes)
                .cloned()
                .collect(),
        };
        out.push(Candidate {
            order,
            group: (
                impacted_site.repo.clone(),
                group_unit,
                change.removed.site.clone(),
            ),
            finding: parts.finish(rule, excerpts),
        });
    }
    out
}

/// A new publish or consume with nobody on the other side: the finding is at the access itself.
fn lonely(rule: &ImpactRule, order: usize, access: &Access, excerpts: Excerpts<'_>) -> Candidate {
    let display = access.resource.display().to_string();
    let parts = Parts {
        kind: access.kind(),
        before: None,
        after: Some(display.clone()),
        change: access.site.clone(),
        change_version: Version::Head,
        change_note: access.describe(),
        impacted: access.site.clone(),
        impacted_version: Version::Head,
        change_origins: access.origins.clone(),
        impacted_origins: access.origins.clone(),
        impacted_note: access.describe(),
        values: vec![
            ("producer", access.unit.clone()),
            ("after", display.clone()),
            ("counterpart", display),
            ("counterpart_verb", access.mode.verb().to_string()),
            ("counterpart_unit", access.unit.clone()),
        ],
        explanation: vec![format!(
            "{} {} ({})",
            access.unit,
            access.describe(),
            access.site
        )],
        notes: access.notes.clone(),
    };
    Candidate {
        order,
        group: (
            access.site.repo.clone(),
            access.unit.clone(),
            access.site.clone(),
        ),
        finding: parts.finish(rule, excerpts),
    }
}
