//! The picture's model: which units, jobs and resources are drawn, and the accesses that join
//! them, after the selection and the limits that keep a large graph readable.
//!
//! Input: one resolved world ([`Resolved`]) and a [`Selection`]. Output: a [`GraphView`], plain
//! data that every format (DOT, Mermaid, JSON, HTML) renders without deciding anything.
//!
//! Invariants: every edge joins two drawn nodes; the accesses of one unit on one resource are one
//! edge with all their modes; nodes and edges are sorted, so the output is deterministic; what is
//! not drawn is counted (`hidden`) and said (`notes`), never dropped silently.
//!
//! Readability: with no `--resource`, a world of more than [`SHOW_ALL_ACCESSES`] accesses shows
//! only the resources that two or more units share (a file one function writes and nothing else
//! touches says nothing about dependencies); and whatever the selection, at most [`MAX_NODES`]
//! nodes are drawn, the resources with the most accessors first. Units left out are one
//! "N other units" node per repository.

use crate::app::Query;
use crate::model::{Mode, ResourceKind, Site};
use crate::resolve::{Access, Job, JobKind, Resolved, Resource};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Up to this many selected accesses, every one is drawn.
pub const SHOW_ALL_ACCESSES: usize = 150;

/// The most nodes a picture has (a few hundred stay readable in the HTML layout).
pub const MAX_NODES: usize = 400;

/// A resource shared by more units than this (an environment variable every role reads) brings
/// only this many new units into the picture; the others are counted on its node.
pub const HUB_UNITS: usize = 24;

/// What to draw.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Path globs or `env:`/`secret:`/`queue:` names, as `knockon who` takes them; empty: all.
    pub resources: Vec<String>,
    /// Repository names; empty: all.
    pub repos: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GraphView {
    pub version: u32,
    pub selection: SelectionInfo,
    pub repositories: Vec<String>,
    pub nodes: Vec<ViewNode>,
    pub edges: Vec<ViewEdge>,
    pub accesses: Vec<ViewAccess>,
    pub hidden: Hidden,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SelectionInfo {
    pub resources: Vec<String>,
    pub repos: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// A job: a schedule or a trigger (signal, watched file, route, queue, loop).
    Job,
    /// A function, script or crontab entry that performs accesses.
    Unit,
    /// A path pattern, credential or queue.
    Resource,
    /// Units or resources left out, counted.
    Hidden,
}

#[derive(Clone, Debug, Serialize)]
pub struct ViewNode {
    /// `j3`, `u12`, `r7`, `h1`: stable within one output.
    pub id: String,
    pub kind: NodeKind,
    pub label: String,
    /// The cluster it is drawn in: its repository (units, jobs) or its resource group.
    pub group: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_kind: Option<ResourceKind>,
    /// Where it is: a unit's first drawn access, a job's declaration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<Site>,
    /// A longer description (a job's schedule in words, a unit's access count).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Units that access this resource but are not drawn (a hub resource's other accessors).
    #[serde(skip_serializing_if = "is_zero")]
    pub units_not_drawn: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl ViewNode {
    /// The label as drawn: with the count of a hub's accessors left out.
    pub fn drawn_label(&self) -> String {
        match self.units_not_drawn {
            0 => self.label.clone(),
            n => format!("{} (+{n} units)", self.label),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// Job -> unit.
    Runs,
    /// Unit -> resource: one or more accesses.
    Access,
}

#[derive(Clone, Debug, Serialize)]
pub struct ViewEdge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub modes: Vec<Mode>,
    /// Ids of the accesses the edge stands for (rows of `accesses`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accesses: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ViewAccess {
    pub id: String,
    /// Node ids of its unit and resource.
    pub unit: String,
    pub resource: String,
    pub mode: Mode,
    /// "deletes /data/ticker/ticker_*.csv (depth 1)".
    pub description: String,
    pub site: Site,
    pub unit_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// How it comes to run, in words, with where each job is declared.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<String>,
}

/// What the selection and the limits left out.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Hidden {
    pub units: usize,
    pub resources: usize,
    pub accesses: usize,
}

/// How an access affects its resource, for colours and arrows.
pub fn mode_class(mode: Mode) -> &'static str {
    match mode {
        Mode::Delete | Mode::MoveFrom => "removes",
        m if m.produces() || m == Mode::Set => "produces",
        Mode::Trigger | Mode::Unknown => "other",
        _ => "consumes",
    }
}

/// The class of an edge: the strongest effect among its modes.
pub fn edge_class(modes: &[Mode]) -> &'static str {
    let classes: Vec<&str> = modes.iter().map(|m| mode_class(*m)).collect();
    ["removes", "produces", "consumes", "other"]
        .into_iter()
        .find(|c| classes.contains(c))
        .unwrap_or("other")
}

/// A resource's identity in the picture: relative paths are only the same resource within one
/// repository (as the graph compares them).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ResourceKey {
    group: String,
    label: String,
}

fn resource_key(access: &Access) -> ResourceKey {
    let label = access.resource.display().to_string();
    let group = match &access.resource {
        Resource::Path(set) if !set.is_absolute() => {
            format!("paths relative to {}", access.site.repo)
        }
        Resource::Path(_) => path_group(&label),
        Resource::Env(_) => "environment variables".to_string(),
        Resource::Secret { provider, .. } => format!("secrets ({provider})"),
        Resource::Queue(queue) => {
            format!("queues ({})", format!("{:?}", queue.broker).to_lowercase())
        }
    };
    ResourceKey { group, label }
}

/// The first two directories of a path's literal prefix: `/data/ticker/{day}/x.csv` is in
/// `/data/ticker`.
fn path_group(display: &str) -> String {
    let first = display.split(", ").next().unwrap_or(display);
    if !first.starts_with('/') {
        // `${GITHUB_OUTPUT}`, `{dir}/x.csv`: where it is depends on a value not known here.
        return "paths under unresolved names".to_string();
    }
    let literal = first
        .find(['{', '*', '?', '['])
        .map_or(first, |i| &first[..i]);
    let dirs: Vec<&str> = literal.split('/').filter(|s| !s.is_empty()).collect();
    // The last component is a file name (or the literal start of one), unless a `/` ends it.
    let available = if literal.ends_with('/') {
        dirs.len()
    } else {
        dirs.len().saturating_sub(1)
    };
    let take = available.min(2);
    if take == 0 {
        "/".to_string()
    } else {
        format!("/{}", dirs[..take].join("/"))
    }
}

/// A job in a few words, for its node.
fn job_label(job: &Job) -> String {
    match &job.kind {
        JobKind::Schedule { schedule, .. } => format!("schedule {}", schedule.expression),
        JobKind::Signal { signal } => format!("on SIG{signal}"),
        JobKind::WatchFile { path } => format!("on change of {}", path.display),
        JobKind::Route { method, path } => match method {
            Some(m) => format!("serves {m} {path}"),
            None => format!("serves {path}"),
        },
        JobKind::Consume { queue } => format!("consumes {queue}"),
        JobKind::Loop { interval } => match interval {
            Some(i) => format!("loop every {i}"),
            None => "loop".to_string(),
        },
    }
}

/// Builds the picture of `resolved`; `excerpt` gives the source line of a site, when known.
pub fn build(
    resolved: &Resolved,
    repositories: &[String],
    selection: &Selection,
    excerpt: &dyn Fn(&Site) -> Option<String>,
) -> GraphView {
    let queries: Vec<Query> = selection
        .resources
        .iter()
        .map(|r| Query::parse(r))
        .collect();
    let in_repos =
        |a: &Access| selection.repos.is_empty() || selection.repos.contains(&a.site.repo);
    let in_scope: Vec<usize> = (0..resolved.accesses.len())
        .filter(|i| in_repos(&resolved.accesses[*i]))
        .collect();
    let mut selected: Vec<usize> = in_scope
        .iter()
        .copied()
        .filter(|i| queries.is_empty() || queries.iter().any(|q| q.matches(&resolved.accesses[*i])))
        .collect();
    let mut notes = Vec::new();
    let keys: Vec<ResourceKey> = resolved.accesses.iter().map(resource_key).collect();
    // Distinct units per resource, over the whole world: a resource is shared whoever shares it.
    let mut accessors: BTreeMap<&ResourceKey, BTreeSet<(&str, &str)>> = BTreeMap::new();
    for (i, access) in resolved.accesses.iter().enumerate() {
        accessors
            .entry(&keys[i])
            .or_default()
            .insert((access.site.repo.as_str(), access.unit.as_str()));
    }
    if queries.is_empty() && selected.len() > SHOW_ALL_ACCESSES {
        let before = selected.len();
        selected.retain(|i| accessors.get(&keys[*i]).is_some_and(|u| u.len() >= 2));
        notes.push(format!(
            "{} of {before} accesses are to resources only one unit touches; only shared resources are drawn (select others with --resource)",
            before - selected.len()
        ));
    }
    // The node budget: resources with the most accessors first, each with its units and jobs.
    let mut by_resource: BTreeMap<&ResourceKey, Vec<usize>> = BTreeMap::new();
    for i in &selected {
        by_resource.entry(&keys[*i]).or_default().push(*i);
    }
    let mut ranked: Vec<(&ResourceKey, Vec<usize>)> = by_resource.into_iter().collect();
    // Resources shared across repositories first, then by how many units share them.
    ranked.sort_by(|a, b| {
        let rank = |k: &ResourceKey| {
            accessors.get(k).map_or((0, 0), |units| {
                let repos: BTreeSet<&str> = units.iter().map(|(r, _)| *r).collect();
                (repos.len(), units.len())
            })
        };
        rank(b.0).cmp(&rank(a.0)).then_with(|| a.0.cmp(b.0))
    });
    let mut units_taken: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut jobs_taken: BTreeSet<usize> = BTreeSet::new();
    let mut drawn: Vec<usize> = Vec::new();
    let mut resources_drawn = 0usize;
    let mut resources_cut = 0usize;
    let mut partial: BTreeMap<&ResourceKey, usize> = BTreeMap::new();
    let mut hubs = 0usize;
    for (key, members) in &ranked {
        let unit_of = |i: &usize| {
            let a = &resolved.accesses[*i];
            (a.site.repo.as_str(), a.unit.as_str())
        };
        let new_units: BTreeSet<(&str, &str)> = members
            .iter()
            .map(unit_of)
            .filter(|u| !units_taken.contains(u))
            .collect();
        // A hub brings its first HUB_UNITS new units (by repository and name); the rest of its
        // accessors are counted on it.
        let admitted: BTreeSet<(&str, &str)> = new_units.iter().take(HUB_UNITS).copied().collect();
        let members: Vec<usize> = members
            .iter()
            .copied()
            .filter(|i| {
                let u = unit_of(i);
                units_taken.contains(&u) || admitted.contains(&u)
            })
            .collect();
        let new_jobs: BTreeSet<usize> = members
            .iter()
            .flat_map(|i| resolved.accesses[*i].jobs.iter().copied())
            .filter(|j| !jobs_taken.contains(j))
            .collect();
        let total = resources_drawn + units_taken.len() + jobs_taken.len();
        if total + 1 + admitted.len() + new_jobs.len() > MAX_NODES {
            resources_cut += 1;
            continue;
        }
        if new_units.len() > admitted.len() {
            hubs += 1;
            partial.insert(key, new_units.len() - admitted.len());
        }
        resources_drawn += 1;
        units_taken.extend(admitted);
        jobs_taken.extend(new_jobs);
        drawn.extend(members);
    }
    if hubs > 0 {
        notes.push(format!(
            "{hubs} resources are shared by more units than can be drawn: each brings at most {HUB_UNITS} units into the picture, and says how many others it has"
        ));
    }
    if resources_cut > 0 {
        notes.push(format!(
            "{resources_cut} resources with the fewest accessors are left out to keep the picture under {MAX_NODES} nodes (narrow it with --resource or --repo)"
        ));
    }
    drawn.sort_by(|a, b| {
        let (x, y) = (&resolved.accesses[*a], &resolved.accesses[*b]);
        (&x.site.repo, &x.unit, &x.site, x.mode).cmp(&(&y.site.repo, &y.unit, &y.site, y.mode))
    });

    // Nodes, in a stable order: jobs, units, resources.
    let mut nodes: Vec<ViewNode> = Vec::new();
    let mut job_ids: BTreeMap<usize, String> = BTreeMap::new();
    let mut jobs: Vec<(usize, &Job)> = jobs_taken
        .iter()
        .filter_map(|j| resolved.jobs.get(*j).map(|job| (*j, job)))
        .collect();
    jobs.sort_by(|a, b| {
        (&a.1.declared_at, job_label(a.1)).cmp(&(&b.1.declared_at, job_label(b.1)))
    });
    for (n, (j, job)) in jobs.iter().enumerate() {
        let id = format!("j{n}");
        job_ids.insert(*j, id.clone());
        nodes.push(ViewNode {
            id,
            kind: NodeKind::Job,
            label: job_label(job),
            group: job.declared_at.repo.clone(),
            resource_kind: None,
            site: Some(job.declared_at.clone()),
            detail: Some(job.describe()),
            units_not_drawn: 0,
        });
    }
    let mut unit_ids: BTreeMap<(&str, &str), String> = BTreeMap::new();
    let mut unit_counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for i in &drawn {
        let a = &resolved.accesses[*i];
        *unit_counts
            .entry((a.site.repo.as_str(), a.unit.as_str()))
            .or_default() += 1;
    }
    for (n, (unit, count)) in unit_counts.iter().enumerate() {
        let id = format!("u{n}");
        unit_ids.insert(*unit, id.clone());
        let site = drawn
            .iter()
            .map(|i| &resolved.accesses[*i])
            .filter(|a| (a.site.repo.as_str(), a.unit.as_str()) == *unit)
            .map(|a| a.site.clone())
            .min();
        nodes.push(ViewNode {
            id,
            kind: NodeKind::Unit,
            label: unit.1.to_string(),
            group: unit.0.to_string(),
            resource_kind: None,
            site,
            detail: Some(format!(
                "{count} access{} drawn",
                if *count == 1 { "" } else { "es" }
            )),
            units_not_drawn: 0,
        });
    }
    let mut resource_ids: BTreeMap<&ResourceKey, String> = BTreeMap::new();
    let mut drawn_keys: BTreeMap<&ResourceKey, ResourceKind> = BTreeMap::new();
    for i in &drawn {
        drawn_keys
            .entry(&keys[*i])
            .or_insert_with(|| resolved.accesses[*i].kind());
    }
    for (n, (key, kind)) in drawn_keys.iter().enumerate() {
        let id = format!("r{n}");
        resource_ids.insert(key, id.clone());
        let units = accessors.get(key).map_or(0, BTreeSet::len);
        nodes.push(ViewNode {
            id,
            kind: NodeKind::Resource,
            label: key.label.clone(),
            group: key.group.clone(),
            resource_kind: Some(*kind),
            site: None,
            detail: Some(format!(
                "{units} unit{} in all",
                if units == 1 { "" } else { "s" }
            )),
            units_not_drawn: partial.get(key).copied().unwrap_or(0),
        });
    }

    // What is not drawn, counted per repository.
    let mut all_units: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for i in &in_scope {
        let a = &resolved.accesses[*i];
        all_units
            .entry(a.site.repo.as_str())
            .or_default()
            .insert(a.unit.as_str());
    }
    let mut hidden = Hidden::default();
    let mut hidden_nodes = 0;
    for (repo, units) in &all_units {
        let left = units
            .iter()
            .filter(|u| !unit_ids.contains_key(&(*repo, **u)))
            .count();
        if left > 0 {
            hidden.units += left;
            nodes.push(ViewNode {
                id: format!("h{hidden_nodes}"),
                kind: NodeKind::Hidden,
                label: format!("{left} other unit{}", if left == 1 { "" } else { "s" }),
                group: repo.to_string(),
                resource_kind: None,
                site: None,
                detail: Some("not drawn: they touch none of the drawn resources".to_string()),
                units_not_drawn: 0,
            });
            hidden_nodes += 1;
        }
    }
    let all_resources: BTreeSet<&ResourceKey> = in_scope.iter().map(|i| &keys[*i]).collect();
    hidden.resources = all_resources.len().saturating_sub(drawn_keys.len());
    hidden.accesses = in_scope.len().saturating_sub(drawn.len());
    if hidden.resources > 0 {
        nodes.push(ViewNode {
            id: format!("h{hidden_nodes}"),
            kind: NodeKind::Hidden,
            label: format!(
                "{} other resource{}",
                hidden.resources,
                if hidden.resources == 1 { "" } else { "s" }
            ),
            group: "not drawn".to_string(),
            resource_kind: None,
            site: None,
            detail: Some("not selected, or left out to keep the picture readable".to_string()),
            units_not_drawn: 0,
        });
    }

    // Edges and the table of accesses.
    let mut access_edges: BTreeMap<(String, String), (BTreeSet<Mode>, Vec<String>)> =
        BTreeMap::new();
    let mut runs: BTreeSet<(String, String)> = BTreeSet::new();
    let mut accesses = Vec::new();
    for (n, i) in drawn.iter().enumerate() {
        let a = &resolved.accesses[*i];
        let unit_key = (a.site.repo.as_str(), a.unit.as_str());
        let (Some(unit), Some(resource)) = (unit_ids.get(&unit_key), resource_ids.get(&keys[*i]))
        else {
            continue;
        };
        let id = format!("a{n}");
        let edge = access_edges
            .entry((unit.clone(), resource.clone()))
            .or_default();
        edge.0.insert(a.mode);
        edge.1.push(id.clone());
        for j in &a.jobs {
            if let Some(job) = job_ids.get(j) {
                runs.insert((job.clone(), unit.clone()));
            }
        }
        accesses.push(ViewAccess {
            id,
            unit: unit.clone(),
            resource: resource.clone(),
            mode: a.mode,
            description: a.describe(),
            site: a.site.clone(),
            unit_name: a.unit.clone(),
            excerpt: excerpt(&a.site).map(|l| l.trim().to_string()),
            jobs: a
                .jobs
                .iter()
                .filter_map(|j| resolved.jobs.get(*j))
                .map(Job::describe)
                .collect(),
        });
    }
    let mut edges: Vec<ViewEdge> = runs
        .into_iter()
        .map(|(from, to)| ViewEdge {
            from,
            to,
            kind: EdgeKind::Runs,
            modes: Vec::new(),
            accesses: Vec::new(),
        })
        .collect();
    edges.extend(
        access_edges
            .into_iter()
            .map(|((from, to), (modes, ids))| ViewEdge {
                from,
                to,
                kind: EdgeKind::Access,
                modes: modes.into_iter().collect(),
                accesses: ids,
            }),
    );
    if drawn.is_empty() {
        notes.push(if queries.is_empty() {
            "no accesses found in the given repositories".to_string()
        } else {
            "no access in the given repositories touches the selected resources".to_string()
        });
    }
    GraphView {
        version: 1,
        selection: SelectionInfo {
            resources: selection.resources.clone(),
            repos: selection.repos.clone(),
        },
        repositories: repositories.to_vec(),
        nodes,
        edges,
        accesses,
        hidden,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_group_by_their_first_two_directories() {
        assert_eq!(path_group("/data/ticker/{day}/NYSE.csv"), "/data/ticker");
        assert_eq!(path_group("/data/ticker/ticker_*.csv"), "/data/ticker");
        assert_eq!(path_group("/var/log/app/x.log"), "/var/log");
        assert_eq!(path_group("/etc/x.conf"), "/etc");
        assert_eq!(path_group("/x"), "/");
        assert_eq!(path_group("/srv/{env}/x"), "/srv");
        assert_eq!(path_group("/data/"), "/data");
        assert_eq!(
            path_group("${GITHUB_OUTPUT}"),
            "paths under unresolved names"
        );
    }

    #[test]
    fn edges_take_their_strongest_class() {
        assert_eq!(edge_class(&[Mode::Read, Mode::Delete]), "removes");
        assert_eq!(edge_class(&[Mode::Read, Mode::Write]), "produces");
        assert_eq!(edge_class(&[Mode::List]), "consumes");
        assert_eq!(edge_class(&[]), "other");
    }
}
