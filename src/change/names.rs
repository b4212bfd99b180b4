//! Credential and queue names, and message fields: what producers and consumers of the changed
//! repository stop using.
//!
//! Names are compared within a *group*: the namespace (environment, a secret provider, a broker)
//! and, for AMQP, whether the name is a queue or a routing/binding key and on which exchange. A
//! name is gone when no access of the same side and group covers it at head.

use super::{Coverage, Covering, replacements_for};
use crate::extract::{FieldUse, QueueRole};
use crate::graph::namespace;
use crate::model::{ChangedLines, Mode};
use crate::pattern::Pattern;
use crate::resolve::{Access, NameSet, Resource};
use std::collections::BTreeMap;

/// Which side of a name an access is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// Sets the variable, stores or rotates the secret, publishes to the queue.
    Producer,
    /// Reads the variable or secret, consumes the queue.
    Consumer,
}

/// A name that a producer or consumer of the changed repository stops using.
#[derive(Clone, Debug)]
pub struct NameChange {
    pub side: Side,
    /// The access at base.
    pub removed: Access,
    /// What the same unit (else file, else changed files) uses instead at head.
    pub replacements: Vec<Access>,
    /// For a consumer: the changed repository's other units that produced the old name at
    /// base (when nothing produces it, nor the new name, at head, the change removed them).
    pub base_producers: Vec<Access>,
}

/// A publish whose message changed shape.
#[derive(Clone, Debug)]
pub struct FieldChange {
    /// The publish at base and at head.
    pub base: Access,
    pub head: Access,
    /// Fields sent at base that head no longer sends (or may leave out).
    pub dropped: Vec<FieldUse>,
    /// Fields head may send as null that base always filled.
    pub nullable: Vec<FieldUse>,
}

/// The side of a credential or queue access, if it has one.
pub fn side_of(access: &Access) -> Option<Side> {
    match (&access.resource, access.mode) {
        (Resource::Env(_), Mode::Set) => Some(Side::Producer),
        (Resource::Env(_), Mode::Read | Mode::Check) => Some(Side::Consumer),
        (Resource::Secret { .. }, Mode::Set | Mode::Rotate) => Some(Side::Producer),
        (Resource::Secret { .. }, Mode::Read | Mode::WaitFor) => Some(Side::Consumer),
        (Resource::Queue(_), Mode::Publish) => Some(Side::Producer),
        (Resource::Queue(_), Mode::Consume) => Some(Side::Consumer),
        _ => None,
    }
}

/// The group a name is compared in: namespace, and for AMQP keys the exchange.
pub fn name_group(access: &Access) -> Option<String> {
    let space = namespace(&access.resource)?;
    match &access.resource {
        Resource::Queue(queue) => match queue.role {
            QueueRole::RoutingKey | QueueRole::BindingKey => Some(format!(
                "{space}/key@{}",
                queue.exchange.as_deref().unwrap_or("")
            )),
            _ => Some(format!("{space}/name")),
        },
        _ => Some(space),
    }
}

/// The names of a credential or queue access.
pub fn names_of(access: &Access) -> Option<&NameSet> {
    match &access.resource {
        Resource::Env(names) => Some(names),
        Resource::Secret { ids, .. } => Some(ids),
        Resource::Queue(queue) => Some(&queue.names),
        Resource::Path(_) => None,
    }
}

fn key(access: &Access) -> Option<(Side, String)> {
    let names = names_of(access)?;
    if !names.is_anchored() {
        return None;
    }
    Some((side_of(access)?, name_group(access)?))
}

/// Name changes of one change: names dropped, queue names newly used, and comparisons that could
/// not be decided.
pub struct Names {
    pub changes: Vec<NameChange>,
    pub new_queue_uses: Vec<Access>,
    pub undecided: Vec<Access>,
}

/// Names that producers or consumers of the changed repository stop using, and queue names it
/// starts using. Accesses are grouped by side and group once, so each is compared only with its
/// own group.
pub fn name_changes(base: &[Access], head: &[Access], lines: &ChangedLines) -> Names {
    // Files whose head accesses use a name of some side knockon could not resolve (a helper's
    // `environ.get(variable_name)` called from more places than a parameter follows): a name
    // that such a file stops using may be read there still, so it is undecided, not gone.
    let open_at_head: std::collections::BTreeSet<(Side, &str, &str)> = head
        .iter()
        .filter_map(|a| {
            let names = names_of(a)?;
            (!names.is_anchored()).then_some((
                side_of(a)?,
                a.site.repo.as_str(),
                a.site.path.as_str(),
            ))
        })
        .collect();
    type Groups<'a> = BTreeMap<(Side, String), (Vec<&'a Access>, Vec<&'a Access>)>;
    let mut groups: Groups<'_> = BTreeMap::new();
    for a in base {
        if let Some(k) = key(a) {
            groups.entry(k).or_default().0.push(a);
        }
    }
    for a in head {
        if let Some(k) = key(a) {
            groups.entry(k).or_default().1.push(a);
        }
    }
    let mut out = Names {
        changes: Vec::new(),
        new_queue_uses: Vec::new(),
        undecided: Vec::new(),
    };
    let patterns = |accesses: &[&Access]| -> Covering {
        Covering::new(
            accesses
                .iter()
                .filter_map(|a| names_of(a))
                .flat_map(|n| n.patterns.iter().cloned())
                .collect::<Vec<Pattern>>(),
        )
    };
    for ((side, group), (at_base, at_head)) in &groups {
        let side = *side;
        let producers_at_base: &[&Access] = match side {
            Side::Consumer => groups
                .get(&(Side::Producer, group.clone()))
                .map(|(b, _)| b.as_slice())
                .unwrap_or(&[]),
            Side::Producer => &[],
        };
        let base_side = patterns(at_base);
        let head_side = patterns(at_head);
        let new: Vec<&Access> = at_head
            .iter()
            .copied()
            .filter(|a| {
                names_of(a)
                    .is_some_and(|n| base_side.covers_all(&n.patterns) == Coverage::NotCovered)
            })
            .collect();
        for access in &new {
            if matches!(access.resource, Resource::Queue(_)) {
                out.new_queue_uses.push((*access).clone());
            }
        }
        for removed in at_base.iter().copied() {
            let Some(names) = names_of(removed) else {
                continue;
            };
            let open = open_at_head.contains(&(
                side,
                removed.site.repo.as_str(),
                removed.site.path.as_str(),
            ));
            match head_side.covers_all(&names.patterns) {
                Coverage::Covered => {}
                Coverage::NotCovered if open => out.undecided.push(removed.clone()),
                Coverage::Undecided => out.undecided.push(removed.clone()),
                Coverage::NotCovered => out.changes.push(NameChange {
                    side,
                    removed: removed.clone(),
                    replacements: replacements_for(removed, &new, lines),
                    base_producers: producers_at_base
                        .iter()
                        .filter(|p| {
                            p.unit != removed.unit
                                && names_of(p)
                                    .is_some_and(|n| names.patterns.iter().any(|r| n.overlaps(r)))
                        })
                        .map(|p| (*p).clone())
                        .collect(),
                }),
            }
        }
    }
    out
}

/// Publishes whose message lost fields or gained nullable ones.
pub fn field_changes(base: &[Access], head: &[Access]) -> Vec<FieldChange> {
    let mut out = Vec::new();
    for now in head.iter().filter(|a| a.mode == Mode::Publish) {
        let Resource::Queue(now_queue) = &now.resource else {
            continue;
        };
        if now_queue.fields.is_empty() {
            continue;
        }
        let group = name_group(now);
        let same_destination = |a: &&Access| {
            a.mode == Mode::Publish
                && name_group(a) == group
                && matches!(&a.resource, Resource::Queue(q)
                    if now_queue.names.patterns.iter().any(|p| q.names.overlaps(p)) && !q.fields.is_empty())
        };
        let before = base
            .iter()
            .filter(same_destination)
            .find(|a| a.unit == now.unit)
            .or_else(|| {
                base.iter()
                    .filter(same_destination)
                    .find(|a| a.site.path == now.site.path)
            });
        let Some(before) = before else { continue };
        let Resource::Queue(before_queue) = &before.resource else {
            continue;
        };
        let mut dropped = Vec::new();
        let mut nullable = Vec::new();
        for field in &before_queue.fields {
            match now_queue.fields.iter().find(|f| f.name == field.name) {
                None => dropped.push(field.clone()),
                Some(f) if f.optional && !field.optional => dropped.push(f.clone()),
                Some(f) if f.nullable && !field.nullable => nullable.push(f.clone()),
                Some(_) => {}
            }
        }
        if !dropped.is_empty() || !nullable.is_empty() {
            out.push(FieldChange {
                base: before.clone(),
                head: now.clone(),
                dropped,
                nullable,
            });
        }
    }
    out
}
