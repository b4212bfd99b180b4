//! The consumer side of a contract: a reader, check, wait or queue consumer that the change
//! moved to a path or name nothing produces.
//!
//! Two findings, by what is left on the other side. When a producer elsewhere still writes the
//! old path (publishes to the old queue, sets the old variable), that producer is the place to
//! patch: it is reported as the impacted site, with the moved consumer as the change site
//! (`input-replaced` for paths; names use `consumer-renamed`). When nothing produces the old
//! one either — the change removed its producer too — the moved consumer is reported at its own
//! line (`moved-to-unproduced`), at a lower severity: knockon cannot say what should produce
//! the new one.
//!
//! Precision: a consumer that moved to something that is produced, even only possibly (a
//! producer whose path is partly unknown), is quiet; and a producer of the old path counts only
//! when it names it through what it spells (a `{name}` left open does not make a producer).

use super::names::counterparts;
use super::{Candidate, Excerpts, Parts, Version, join_unique};
use crate::change::{Deltas, InputChange, NameChange, Side, meets_without_holes};
use crate::graph::{AccessId, Graph};
use crate::model::Mode;
use crate::pattern::Pattern;
use crate::resolve::{Access, Resource};
use crate::rules::impact::{ImpactRule, When};

/// Most other readers of the old path named in a finding's explanation.
const OTHER_READERS_SHOWN: usize = 2;

pub fn candidates(
    deltas: &Deltas,
    graph: &Graph,
    rules: &[(usize, &ImpactRule)],
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (order, rule) in rules.iter().copied() {
        match rule.when {
            When::InputReplaced => {
                for change in deltas
                    .inputs
                    .iter()
                    .filter(|c| c.removed.kind() == rule.kind)
                {
                    out.extend(producers_left_behind(rule, order, change, graph, excerpts));
                }
            }
            When::MovedToUnproduced => {
                for change in deltas
                    .inputs
                    .iter()
                    .filter(|c| c.removed.kind() == rule.kind)
                {
                    out.extend(input_moved_to_unproduced(
                        rule, order, change, graph, excerpts,
                    ));
                }
                for change in deltas
                    .names
                    .iter()
                    .filter(|c| c.side == Side::Consumer && c.removed.kind() == rule.kind)
                {
                    out.extend(name_moved_to_unproduced(
                        rule, order, change, graph, excerpts,
                    ));
                }
            }
            When::ReadDropped => {
                for change in deltas.names.iter().filter(|c| {
                    c.side == Side::Consumer
                        && c.replacements.is_empty()
                        && c.removed.kind() == rule.kind
                        && matches!(c.removed.resource, Resource::Env(_))
                }) {
                    out.extend(settings_left_unread(rule, order, change, graph, excerpts));
                }
            }
            _ => {}
        }
    }
    out
}

/// Launchers that still set a variable the program they launch stopped reading: each such
/// setting silently stopped configuring anything. Only launches known to reach the reader's
/// file count (a setting for another program, or for code knockon cannot see, is not judged),
/// and only when nothing else they launch still reads the name.
fn settings_left_unread(
    rule: &ImpactRule,
    order: usize,
    change: &NameChange,
    graph: &Graph,
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let reader = &change.removed;
    let reader_file = (reader.site.repo.clone(), reader.site.path.clone());
    let mut out = Vec::new();
    for id in counterparts(graph, reader, Side::Producer) {
        let setter = graph.access(id);
        if setter.mode != Mode::Set || !counterparts(graph, setter, Side::Consumer).is_empty() {
            continue;
        }
        let Some(name) = crate::change::names_of_access(setter).and_then(|n| n.literal()) else {
            continue;
        };
        // The setter's own launch: its scope or one nested in it (units are scope names
        // joined with `.`: a compose service's `services.web.command`), not another service
        // of the same file.
        let own_launch = |l: &crate::resolve::Launch| {
            l.unit == setter.unit || l.unit.starts_with(&format!("{}.", setter.unit))
        };
        let launches_reader = graph.launches.iter().any(|l| {
            l.site.repo == setter.site.repo
                && l.site.path == setter.site.path
                && own_launch(l)
                && l.passes.iter().any(|p| p == name)
                && l.reaches.contains(&reader_file)
        });
        if !launches_reader {
            continue;
        }
        let before = reader.resource.display().to_string();
        let parts = Parts {
            kind: reader.kind(),
            before: Some(before.clone()),
            after: None,
            change: reader.site.clone(),
            change_version: Version::Base,
            change_note: format!("no longer reads {before}"),
            impacted: setter.site.clone(),
            impacted_version: Version::Head,
            impacted_note: setter.describe(),
            change_origins: reader.origins.clone(),
            impacted_origins: setter.origins.clone(),
            values: values(reader, &before, "", setter, "reads"),
            explanation: vec![
                format!(
                    "at base, {} {} ({})",
                    reader.unit,
                    reader.describe(),
                    reader.site
                ),
                "at head, nothing it runs reads that name".to_string(),
                format!(
                    "{} {} ({}) and launches {}",
                    setter.unit,
                    setter.describe(),
                    setter.site,
                    reader.site.path
                ),
            ],
            notes: setter.notes.clone(),
        };
        out.push(Candidate {
            order,
            group: (
                setter.site.repo.clone(),
                setter.unit.clone(),
                reader.site.clone(),
            ),
            finding: parts.finish(rule, excerpts),
        });
    }
    out
}

fn patterns(access: &Access) -> &[Pattern] {
    access
        .resource
        .as_path()
        .map(|set| set.patterns.as_slice())
        .unwrap_or(&[])
}

fn same_unit(a: &Access, b: &Access) -> bool {
    a.site.repo == b.site.repo && a.unit == b.unit
}

/// Accesses that may put something at a path of `pattern`: writes, moves in, and creations of
/// an empty file (an installer that creates a log file for a shipper is its producer as far as
/// the shipper is concerned); the consumer's own unit only with `own` (a script that copies
/// into the directory it then lists produces its input, but is not a producer left behind).
fn producers(graph: &Graph, pattern: &Pattern, consumer: &Access, own: bool) -> Vec<AccessId> {
    graph
        .path_candidates(pattern, &consumer.site.repo)
        .into_iter()
        .filter(|id| {
            let a = graph.access(*id);
            a.mode.produces()
                && (own || !same_unit(a, consumer))
                && a.resource
                    .as_path()
                    .is_some_and(|set| set.overlaps(pattern))
        })
        .collect()
}

/// Whether anything (even a producer whose path is partly unknown) may produce one of the
/// consumer's new inputs: then the consumer moved to something real.
fn new_input_produced(change: &InputChange, graph: &Graph) -> bool {
    change.replacements.iter().any(|r| {
        patterns(r)
            .iter()
            .any(|p| !producers(graph, p, r, true).is_empty())
    })
}

/// Producers still writing the old input of a consumer that moved to a path nothing produces.
fn producers_left_behind(
    rule: &ImpactRule,
    order: usize,
    change: &InputChange,
    graph: &Graph,
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    if new_input_produced(change, graph) {
        return Vec::new();
    }
    let reader = &change.removed;
    let mut left: Vec<AccessId> = Vec::new();
    for p in patterns(reader) {
        for id in producers(graph, p, reader, false) {
            let producer = graph.access(id);
            if !left.contains(&id)
                && meets_without_holes(producer, p)
                && (rule.counterpart_modes.is_empty()
                    || rule.counterpart_modes.contains(&producer.mode))
            {
                left.push(id);
            }
        }
    }
    let others = other_readers(change, graph);
    left.into_iter()
        .filter_map(|id| {
            let producer = graph.access(id);
            let mut parts = parts_of(change, producer)?;
            parts.impacted = producer.site.clone();
            parts.impacted_version = Version::Head;
            parts.impacted_note = match graph.jobs_of(id).find(|j| j.schedule().is_some()) {
                Some(job) => format!("{}; {}", producer.describe(), job.describe()),
                None => producer.describe(),
            };
            parts.impacted_origins = producer.origins.clone();
            parts.explanation.push(format!(
                "at head, {} {} ({}), and nothing produces what {} now {}",
                producer.unit,
                producer.describe(),
                producer.site,
                reader.unit,
                first_verb(change)
            ));
            for other in others.iter().take(OTHER_READERS_SHOWN) {
                parts.explanation.push(format!(
                    "{} still {} it ({}): the old path may be the right one, and the moved consumer the place to patch",
                    other.unit,
                    other.describe(),
                    other.site
                ));
            }
            Some(Candidate {
                order,
                group: (
                    producer.site.repo.clone(),
                    producer.unit.clone(),
                    parts.change.clone(),
                ),
                finding: parts.finish(rule, excerpts),
            })
        })
        .collect()
}

/// Other units that still consume the old input at head.
fn other_readers<'g>(change: &InputChange, graph: &'g Graph) -> Vec<&'g Access> {
    let reader = &change.removed;
    let mut out: Vec<&Access> = Vec::new();
    for p in patterns(reader) {
        for id in graph.path_candidates(p, &reader.site.repo) {
            let a = graph.access(id);
            if crate::change::is_path_input(a)
                && !same_unit(a, reader)
                && a.resource.as_path().is_some_and(|set| set.overlaps(p))
                && !out.iter().any(|o| o.site == a.site)
            {
                out.push(a);
            }
        }
    }
    out
}

/// A consumer that moved to a path nothing produces, when the change also left its old path
/// without a producer.
fn input_moved_to_unproduced(
    rule: &ImpactRule,
    order: usize,
    change: &InputChange,
    graph: &Graph,
    excerpts: Excerpts<'_>,
) -> Option<Candidate> {
    let base_producer = change.base_producers.first()?;
    let first = change.replacements.first()?;
    if new_input_produced(change, graph) {
        return None;
    }
    let reader = &change.removed;
    if patterns(reader)
        .iter()
        .any(|p| !producers(graph, p, reader, true).is_empty())
    {
        return None;
    }
    let mut parts = parts_of(change, base_producer)?;
    parts.impacted = parts.change.clone();
    parts.impacted_version = Version::Head;
    parts.impacted_note = parts.change_note.clone();
    parts.impacted_origins = parts.change_origins.clone();
    parts.explanation.push(format!(
        "at head, nothing in the repositories analysed produces {} or {}",
        reader.resource.display(),
        after_display(&change.replacements)
    ));
    Some(Candidate {
        order,
        group: (
            parts.change.repo.clone(),
            first.unit.clone(),
            parts.change.clone(),
        ),
        finding: parts.finish(rule, excerpts),
    })
}

/// A credential or queue consumer that moved to a name nothing provides, when the change also
/// left the old name without a provider.
fn name_moved_to_unproduced(
    rule: &ImpactRule,
    order: usize,
    change: &NameChange,
    graph: &Graph,
    excerpts: Excerpts<'_>,
) -> Option<Candidate> {
    let first = change.replacements.first()?;
    let base_producer = change.base_producers.first()?;
    if change
        .replacements
        .iter()
        .any(|r| !counterparts(graph, r, Side::Producer).is_empty())
        || !counterparts(graph, &change.removed, Side::Producer).is_empty()
    {
        return None;
    }
    let before = change.removed.resource.display().to_string();
    let after = after_display(&change.replacements);
    let note = format!("now {} {after} (was {before})", first.mode.verb());
    let parts = Parts {
        kind: change.removed.kind(),
        before: Some(before.clone()),
        after: Some(after.clone()),
        change: first.site.clone(),
        change_version: Version::Head,
        change_note: note.clone(),
        impacted: first.site.clone(),
        impacted_version: Version::Head,
        impacted_note: note,
        change_origins: first.origins.clone(),
        impacted_origins: first.origins.clone(),
        values: values(
            &change.removed,
            &before,
            &after,
            base_producer,
            first.mode.verb(),
        ),
        explanation: vec![
            format!(
                "at base, {} {} ({})",
                change.removed.unit,
                change.removed.describe(),
                change.removed.site
            ),
            format!(
                "at base, {} {} ({})",
                base_producer.unit,
                base_producer.describe(),
                base_producer.site
            ),
            format!(
                "at head, {} {} ({})",
                first.unit,
                first.describe(),
                first.site
            ),
            format!("at head, nothing in the repositories analysed provides {before} or {after}"),
        ],
        notes: first.notes.clone(),
    };
    Some(Candidate {
        order,
        group: (
            first.site.repo.clone(),
            first.unit.clone(),
            first.site.clone(),
        ),
        finding: parts.finish(rule, excerpts),
    })
}

fn after_display(replacements: &[Access]) -> String {
    join_unique(
        replacements
            .iter()
            .map(|a| a.resource.display().to_string()),
    )
}

fn first_verb(change: &InputChange) -> &'static str {
    change
        .replacements
        .first()
        .map(|a| a.mode.verb())
        .unwrap_or("reads")
}

fn values(
    consumer: &Access,
    before: &str,
    after: &str,
    counterpart: &Access,
    consumer_verb: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("producer", consumer.unit.clone()),
        ("consumer", consumer.unit.clone()),
        ("consumer_verb", consumer_verb.to_string()),
        ("before", before.to_string()),
        ("after", after.to_string()),
        ("counterpart", counterpart.resource.display().to_string()),
        ("counterpart_verb", counterpart.mode.verb().to_string()),
        ("counterpart_unit", counterpart.unit.clone()),
    ]
}

/// The parts every finding about a moved path consumer shares; the impacted site is the
/// caller's.
fn parts_of(change: &InputChange, counterpart: &Access) -> Option<Parts> {
    let reader = &change.removed;
    let first = change.replacements.first()?;
    let before = reader.resource.display().to_string();
    let after = after_display(&change.replacements);
    let verb = first_verb(change);
    let mut notes = first.notes.clone();
    notes.extend(counterpart.notes.iter().cloned());
    Some(Parts {
        kind: reader.kind(),
        before: Some(before.clone()),
        after: Some(after.clone()),
        change: first.site.clone(),
        change_version: Version::Head,
        change_note: format!("now {verb} {after} (was {before})"),
        impacted: first.site.clone(),
        impacted_version: Version::Head,
        impacted_note: String::new(),
        change_origins: first.origins.clone(),
        impacted_origins: Vec::new(),
        values: values(reader, &before, &after, counterpart, verb),
        explanation: vec![
            format!(
                "at base, {} {} ({})",
                reader.unit,
                reader.describe(),
                reader.site
            ),
            format!(
                "at head, {} {} ({})",
                first.unit,
                first.describe(),
                first.site
            ),
        ],
        notes,
    })
}
