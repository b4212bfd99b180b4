//! Waits and triggers: the refresher that waits for a producer nobody can trigger.
//!
//! For a wait the change adds, the producers are the accesses that write the awaited path or
//! store the awaited secret. A producer is *schedule-driven* when everything that starts it is a
//! schedule (or a loop with a sleep) and nothing makes it act on demand. The waiter *triggers* a
//! producer when it sends something the producer acts on: a signal it handles (to a process that
//! is plausibly the producer), a request file it watches, a route it serves, a message on a queue
//! it consumes. Producers whose way of running is unknown are left alone: no finding without
//! evidence.

use super::{Candidate, Excerpts, Parts, Version};
use crate::change::Deltas;
use crate::graph::{AccessId, Graph, namespace};
use crate::model::{Mode, Site};
use crate::resolve::{Access, Job, JobKind, Resource, Send, SendTarget};
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
            When::WaitOnScheduledProducer | When::WaitTriggerNotSent => {
                for wait in &deltas.new_waits {
                    out.extend(wait_candidates(rule, order, wait, graph, excerpts));
                }
            }
            When::SendUnheard => {
                for send in &deltas.new_sends {
                    out.extend(unheard(rule, order, send, graph, excerpts));
                }
            }
            _ => {}
        }
    }
    out
}

/// What the waiter does that could make a producer act: sends, and writes or publishes of its
/// unit (a request file, a request message).
struct Triggers<'a> {
    sends: Vec<&'a Send>,
    writes: Vec<&'a Access>,
}

fn triggers_of<'a>(graph: &'a Graph, waiter: &Access) -> Triggers<'a> {
    // The waiting unit, and for a wait inside a called helper, the helper too: a trigger sent
    // by the helper before it polls counts.
    let near = |site: &Site, unit: &str| {
        let direct =
            site.repo == waiter.site.repo && (unit == waiter.unit || site.path == waiter.site.path);
        let through_helper = waiter
            .origin
            .as_deref()
            .is_some_and(|(origin_unit, origin_site)| {
                site.repo == origin_site.repo
                    && (unit == origin_unit || site.path == origin_site.path)
            });
        direct || through_helper
    };
    Triggers {
        sends: graph
            .sends
            .iter()
            .filter(|s| near(&s.site, &s.unit))
            .collect(),
        writes: graph
            .accesses
            .iter()
            .filter(|a| near(&a.site, &a.unit))
            .filter(|a| a.mode.produces() || a.mode == Mode::Publish)
            .collect(),
    }
}

/// Producers of the resource a wait is on, outside the waiter's unit.
fn producers(graph: &Graph, wait: &Access) -> Vec<AccessId> {
    let mut ids: Vec<AccessId> = match &wait.resource {
        Resource::Path(set) if set.is_anchored() => set
            .patterns
            .iter()
            .flat_map(|p| graph.producers_touching(p, &wait.site.repo))
            .collect(),
        Resource::Secret { ids, .. } => namespace(&wait.resource)
            .map(|space| {
                graph
                    .name_candidates(&space, ids)
                    .into_iter()
                    .filter(|id| matches!(graph.access(*id).mode, Mode::Set | Mode::Rotate))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    ids.retain(|id| {
        let p = graph.access(*id);
        !(p.site.repo == wait.site.repo && p.unit == wait.unit) && p.mode != Mode::Create
    });
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Does the producer act on something the waiter sends?
fn triggered_by(graph: &Graph, producer: AccessId, job: &Job, triggers: &Triggers<'_>) -> bool {
    let p = graph.access(producer);
    match &job.kind {
        JobKind::Signal { signal } => triggers.sends.iter().any(|s| match &s.target {
            SendTarget::Signal {
                signal: sent,
                target,
                pid_file,
            } => sent == signal && targets_producer(graph, p, job, target, pid_file.as_ref()),
            SendTarget::Http { .. } => false,
        }),
        JobKind::WatchFile { path } => triggers.writes.iter().any(|w| {
            w.resource
                .as_path()
                .is_some_and(|set| set.patterns.iter().any(|pat| path.overlaps(pat)))
        }),
        JobKind::Route { path, .. } => triggers.sends.iter().any(|s| match &s.target {
            SendTarget::Http { url, .. } => url.contains(path.as_str()),
            SendTarget::Signal { .. } => false,
        }),
        JobKind::Consume { queue } => triggers
            .writes
            .iter()
            .any(|w| w.mode == Mode::Publish && w.resource.display() == queue),
        // `systemctl start x.service` runs a scheduled service now.
        JobKind::Schedule { .. } => triggers.sends.iter().any(|s| match &s.target {
            SendTarget::Signal { signal, target, .. }
                if signal == "START" || signal == "RESTART" =>
            {
                starts_job(graph, p, job, target)
            }
            _ => false,
        }),
        JobKind::Loop { .. } => false,
    }
}

/// Does starting the unit `target` run this scheduled job's producer? The unit's name is the
/// job's own file (a `.timer`/`.service` pair shares a stem), or a unit file that launches the
/// producer's file.
fn starts_job(graph: &Graph, producer: &Access, job: &Job, target: &str) -> bool {
    let stem = |name: &str| {
        let base = name.rsplit('/').next().unwrap_or(name);
        base.split('.').next().unwrap_or(base).to_string()
    };
    let unit = stem(target);
    if unit.is_empty() || unit.starts_with('{') {
        return false;
    }
    if stem(&job.declared_at.path) == unit {
        return true;
    }
    let here = (producer.site.repo.clone(), producer.site.path.clone());
    graph
        .launches
        .iter()
        .any(|l| stem(&l.site.path) == unit && l.reaches.contains(&here))
}

/// Is the process a signal is sent to plausibly the producer? A pid file the producer's program
/// writes, or a name that appears in its path, unit or launch command; an unknown target is
/// given the benefit of the doubt.
fn targets_producer(
    graph: &Graph,
    producer: &Access,
    job: &Job,
    target: &str,
    pid_file: Option<&crate::resolve::PathSet>,
) -> bool {
    if let Some(pid_file) = pid_file {
        return graph.accesses.iter().any(|a| {
            a.site.repo == producer.site.repo
                && a.site.path == producer.site.path
                && a.mode.produces()
                && a.resource
                    .as_path()
                    .is_some_and(|set| set.patterns.iter().any(|p| pid_file.overlaps(p)))
        });
    }
    let name = target.trim().trim_end_matches(".service");
    // `pkill -f /opt/ops/bin/rotate_token.sh`: the process is named by its script.
    let name = name.rsplit('/').next().unwrap_or(name).to_lowercase();
    if name.is_empty() || name.starts_with('{') {
        return true;
    }
    let haystacks = [
        producer.site.path.to_lowercase(),
        producer.unit.to_lowercase(),
        job.declared_at.path.to_lowercase(),
    ];
    haystacks.iter().any(|h| h.contains(&name))
        || graph.jobs_of_access(producer).any(|j| match &j.kind {
            JobKind::Schedule { command, .. } => command.to_lowercase().contains(&name),
            _ => false,
        })
}

fn wait_candidates(
    rule: &ImpactRule,
    order: usize,
    wait: &Access,
    graph: &Graph,
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let producer_ids = producers(graph, wait);
    if producer_ids.is_empty() {
        return Vec::new();
    }
    let triggers = triggers_of(graph, wait);
    // Every producer must have a known way of running, or there is no evidence either way.
    let jobs: Vec<Vec<&Job>> = producer_ids
        .iter()
        .map(|id| graph.jobs_of(*id).collect())
        .collect();
    if jobs.iter().any(|j| j.is_empty()) {
        return Vec::new();
    }
    let any_triggered = producer_ids.iter().zip(&jobs).any(|(id, js)| {
        js.iter()
            .any(|j| j.on_demand() && triggered_by(graph, *id, j, &triggers))
    });
    if any_triggered {
        return Vec::new();
    }
    let all_scheduled_only = jobs.iter().all(|js| js.iter().all(|j| !j.on_demand()));
    let fires = match rule.when {
        When::WaitOnScheduledProducer => all_scheduled_only,
        When::WaitTriggerNotSent => !all_scheduled_only,
        _ => false,
    };
    if !fires {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (id, js) in producer_ids.iter().zip(&jobs) {
        let producer = graph.access(*id);
        if !rule.counterpart_modes.is_empty() && !rule.counterpart_modes.contains(&producer.mode) {
            continue;
        }
        let schedule = js
            .iter()
            .find(|j| j.schedule().is_some())
            .or_else(|| js.first())
            .map(|j| j.describe())
            .unwrap_or_default();
        let on_demand: Vec<String> = js
            .iter()
            .filter(|j| j.on_demand())
            .map(|j| j.describe())
            .collect();
        let mut sent: Vec<String> = triggers.sends.iter().map(|s| s.describe()).collect();
        sent.sort();
        sent.dedup();
        let trigger_text = if on_demand.is_empty() {
            "nothing: no signal handler, request file, queue or endpoint".to_string()
        } else {
            on_demand.join("; ")
        };
        let sent_text = if sent.is_empty() {
            "nothing".to_string()
        } else {
            sent.join("; ")
        };
        let mut impacted_note = producer.describe();
        impacted_note.push_str("; ");
        impacted_note.push_str(&schedule);
        let mut explanation = vec![
            format!("{} {} ({})", wait.unit, wait.describe(), wait.site),
            format!(
                "{} {} ({})",
                producer.unit,
                producer.describe(),
                producer.site
            ),
        ];
        for j in js.iter() {
            explanation.push(format!("{} {}", producer.unit, j.describe()));
        }
        explanation.push(format!("the waiting code sends {sent_text}"));
        let parts = Parts {
            kind: wait.kind(),
            before: None,
            after: Some(wait.resource.display().to_string()),
            change: wait.site.clone(),
            change_version: Version::Head,
            change_note: wait.describe(),
            impacted: producer.site.clone(),
            impacted_version: Version::Head,
            change_origins: wait.origins.clone(),
            impacted_origins: producer.origins.clone(),
            impacted_note,
            values: vec![
                ("waiter", wait.unit.clone()),
                ("after", wait.resource.display().to_string()),
                ("counterpart", producer.resource.display().to_string()),
                ("counterpart_verb", producer.mode.verb().to_string()),
                ("counterpart_unit", producer.unit.clone()),
                ("schedule", schedule),
                ("trigger", trigger_text),
                ("sent", sent_text),
            ],
            explanation,
            notes: wait.notes.iter().chain(&producer.notes).cloned().collect(),
        };
        out.push(Candidate {
            order,
            group: (
                producer.site.repo.clone(),
                producer.unit.clone(),
                waiter_key(&wait.site, &wait.unit),
            ),
            finding: parts.finish(rule, excerpts),
        });
    }
    out
}

/// Wait rules compete per (producer, waiting unit): the waiter's unit stands in for the change
/// site, so a wait and the trigger sent before it get one finding, from the first rule in order.
fn waiter_key(site: &Site, unit: &str) -> Site {
    Site {
        repo: site.repo.clone(),
        path: format!("{}#{unit}", site.path),
        line: 0,
    }
}

/// A new signal or request to the producers of something the sender's unit waits for, that none
/// of them acts on.
fn unheard(
    rule: &ImpactRule,
    order: usize,
    send: &Send,
    graph: &Graph,
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let waits: Vec<&Access> = graph
        .accesses
        .iter()
        .filter(|a| {
            a.mode == Mode::WaitFor
                && a.site.repo == send.site.repo
                && (a.unit == send.unit || a.site.path == send.site.path)
        })
        .collect();
    let mut out = Vec::new();
    for wait in waits {
        let triggers = Triggers {
            sends: vec![send],
            writes: Vec::new(),
        };
        for id in producers(graph, wait) {
            let producer = graph.access(id);
            let jobs: Vec<&Job> = graph.jobs_of(id).collect();
            if jobs.is_empty() {
                continue;
            }
            if jobs
                .iter()
                .any(|j| j.on_demand() && triggered_by(graph, id, j, &triggers))
            {
                continue;
            }
            // Only a send aimed at this producer: its kind of trigger exists, or it names it.
            let aimed = match &send.target {
                SendTarget::Signal {
                    target, pid_file, ..
                } => jobs
                    .iter()
                    .any(|j| targets_producer(graph, producer, j, target, pid_file.as_ref())),
                SendTarget::Http { .. } => true,
            };
            if !aimed {
                continue;
            }
            let listens: Vec<String> = jobs.iter().map(|j| j.describe()).collect();
            let parts = Parts {
                kind: wait.kind(),
                before: None,
                after: Some(wait.resource.display().to_string()),
                change: send.site.clone(),
                change_version: Version::Head,
                change_note: format!("sends {}", send.describe()),
                impacted: producer.site.clone(),
                impacted_version: Version::Head,
                change_origins: Vec::new(),
                impacted_origins: producer.origins.clone(),
                impacted_note: format!("{}; {}", producer.describe(), listens.join("; ")),
                values: vec![
                    ("waiter", send.unit.clone()),
                    ("after", wait.resource.display().to_string()),
                    ("counterpart", producer.resource.display().to_string()),
                    ("counterpart_verb", producer.mode.verb().to_string()),
                    ("counterpart_unit", producer.unit.clone()),
                    ("sent", send.describe()),
                    ("trigger", listens.join("; ")),
                ],
                explanation: vec![
                    format!("{} sends {} ({})", send.unit, send.describe(), send.site),
                    format!("{} {} ({})", wait.unit, wait.describe(), wait.site),
                    format!(
                        "{} {} ({})",
                        producer.unit,
                        producer.describe(),
                        producer.site
                    ),
                    format!("{} {}", producer.unit, listens.join("; ")),
                ],
                notes: producer.notes.clone(),
            };
            out.push(Candidate {
                order,
                group: (
                    producer.site.repo.clone(),
                    producer.unit.clone(),
                    waiter_key(&send.site, &send.unit),
                ),
                finding: parts.finish(rule, excerpts),
            });
        }
    }
    out
}
