//! Credential and queue names, and message fields: what producers and consumers of the changed
//! repository stop using.
//!
//! Names are compared within a *group*: the namespace (environment, a secret provider, a broker)
//! and, for AMQP, whether the name is a queue or a routing/binding key and on which exchange. A
//! name is gone when no access of the same side and group covers it at head.

use super::replacements_for;
use crate::extract::{FieldUse, QueueRole};
use crate::graph::namespace;
use crate::model::Mode;
use crate::pattern::{Pattern, covers};
use crate::resolve::{Access, NameSet, Resource};

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

fn patterns_with_key(accesses: &[Access], wanted: &(Side, String)) -> Vec<Pattern> {
    accesses
        .iter()
        .filter(|a| key(a).as_ref() == Some(wanted))
        .filter_map(names_of)
        .flat_map(|n| n.patterns.iter().cloned())
        .collect()
}

/// Names that producers or consumers of the changed repository stop using, and queue names it
/// starts using.
pub fn name_changes(
    base: &[Access],
    head: &[Access],
    changed_paths: &[String],
) -> (Vec<NameChange>, Vec<Access>) {
    let mut changes = Vec::new();
    let mut new_queue_uses = Vec::new();
    let mut keys: Vec<(Side, String)> = base.iter().chain(head).filter_map(key).collect();
    keys.sort();
    keys.dedup();
    for wanted in keys {
        let base_patterns = patterns_with_key(base, &wanted);
        let head_patterns = patterns_with_key(head, &wanted);
        let new: Vec<&Access> = head
            .iter()
            .filter(|a| key(a).as_ref() == Some(&wanted))
            .filter(|a| {
                names_of(a).is_some_and(|n| !n.patterns.iter().all(|p| covers(&base_patterns, p)))
            })
            .collect();
        for access in &new {
            if matches!(access.resource, Resource::Queue(_)) {
                new_queue_uses.push((*access).clone());
            }
        }
        for removed in base.iter().filter(|a| key(a).as_ref() == Some(&wanted)) {
            let Some(names) = names_of(removed) else {
                continue;
            };
            if names.patterns.iter().all(|p| covers(&head_patterns, p)) {
                continue;
            }
            changes.push(NameChange {
                side: wanted.0,
                removed: removed.clone(),
                replacements: replacements_for(removed, &new, changed_paths),
            });
        }
    }
    (changes, new_queue_uses)
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
