//! Graph: the resolved accesses of all repositories -> a producer/consumer graph.
//!
//! Input: [`Resolved`] (one world: the changed repository at one revision plus the context
//! repositories). Output: a petgraph of units, jobs, accesses and resources behind typed ids,
//! and an index that answers "which accesses could touch this pattern?" without comparing every
//! pair: accesses are bucketed by their patterns' literal directory prefix, and only buckets
//! whose prefix is compatible with the query's are compared with the exact algebra.
//!
//! Invariants: unanchored accesses (`{dir}/x.csv`, whose location is unknown) are kept in the
//! graph but never returned as counterparts; relative paths are only compared within their own
//! repository.

use crate::model::Mode;
use crate::pattern::Pattern;
use crate::resolve::{Access, Job, JobId, Launch, NameSet, Resolved, Resource, Send};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeMap, HashMap};

/// Index of an access in [`Graph::accesses`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccessId(pub usize);

#[derive(Clone, Debug)]
pub enum Node {
    /// A function, script or crontab entry.
    Unit {
        repo: String,
        name: String,
    },
    Job(JobId),
    Access(AccessId),
    /// A resource as displayed; accesses with the same display share the node.
    Resource(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// Job -> unit: the job runs the unit.
    Runs,
    /// Unit -> access: the unit performs the access.
    Performs,
    /// Access -> resource.
    Touches,
}

pub struct Graph {
    pub graph: DiGraph<Node, Edge>,
    pub accesses: Vec<Access>,
    pub jobs: Vec<Job>,
    pub sends: Vec<Send>,
    pub launches: Vec<Launch>,
    /// Every deployment of a program in the head world (see [`crate::extract::formats::deploy`]).
    pub deployments: Vec<crate::extract::formats::deploy::Deployed>,
    access_nodes: Vec<NodeIndex>,
    /// Literal prefix -> accesses whose pattern sets start with it.
    prefix_index: BTreeMap<String, Vec<AccessId>>,
    /// Credentials and queues by namespace (`env`, `secret:vault`, `queue:kafka`).
    name_index: HashMap<String, NameBucket>,
}

/// Accesses of one namespace: by exact name, and those whose names are patterns.
#[derive(Default)]
struct NameBucket {
    exact: HashMap<String, Vec<AccessId>>,
    patterns: Vec<AccessId>,
}

/// The namespace a credential or queue name lives in: names only meet names of the same kind
/// (an environment variable never matches a Kafka topic).
pub fn namespace(resource: &Resource) -> Option<String> {
    match resource {
        Resource::Path(_) => None,
        Resource::Env(_) => Some("env".to_string()),
        Resource::Secret { provider, .. } => Some(format!("secret:{provider}")),
        Resource::Queue(queue) => Some(format!("queue:{:?}", queue.broker).to_lowercase()),
    }
}

fn names_of(resource: &Resource) -> Option<&NameSet> {
    match resource {
        Resource::Path(_) => None,
        Resource::Env(names) => Some(names),
        Resource::Secret { ids, .. } => Some(ids),
        Resource::Queue(queue) => Some(&queue.names),
    }
}

impl Graph {
    pub fn build(resolved: Resolved) -> Graph {
        let mut graph = DiGraph::new();
        // Units and resources by borrowed names: a name is copied once, into its node, not
        // for every access that finds it again. Nodes are added in access order either way.
        let mut units: foldhash::HashMap<(&str, &str), NodeIndex> = foldhash::HashMap::default();
        let mut resources: foldhash::HashMap<&str, NodeIndex> = foldhash::HashMap::default();
        let job_nodes: Vec<NodeIndex> = (0..resolved.jobs.len())
            .map(|id| graph.add_node(Node::Job(id)))
            .collect();
        let mut access_nodes = Vec::with_capacity(resolved.accesses.len());
        let mut prefix_index: BTreeMap<String, Vec<AccessId>> = BTreeMap::new();
        let mut name_index: HashMap<String, NameBucket> = HashMap::new();
        for (index, access) in resolved.accesses.iter().enumerate() {
            let id = AccessId(index);
            let unit_key = (access.site.repo.as_str(), access.unit.as_str());
            let unit = *units.entry(unit_key).or_insert_with(|| {
                graph.add_node(Node::Unit {
                    repo: unit_key.0.to_string(),
                    name: unit_key.1.to_string(),
                })
            });
            for job in &access.jobs {
                if let Some(job_node) = job_nodes.get(*job)
                    && graph.find_edge(*job_node, unit).is_none()
                {
                    graph.add_edge(*job_node, unit, Edge::Runs);
                }
            }
            let node = graph.add_node(Node::Access(id));
            graph.add_edge(unit, node, Edge::Performs);
            let display = access.resource.display();
            let resource = *resources
                .entry(display)
                .or_insert_with(|| graph.add_node(Node::Resource(display.to_string())));
            graph.add_edge(node, resource, Edge::Touches);
            access_nodes.push(node);
            if let (Some(space), Some(names)) =
                (namespace(&access.resource), names_of(&access.resource))
                && names.is_anchored()
            {
                let bucket = name_index.entry(space).or_default();
                match names.literal() {
                    Some(name) => bucket.exact.entry(name.to_string()).or_default().push(id),
                    None => bucket.patterns.push(id),
                }
            }
            if let Some(set) = access.resource.as_path()
                && set.is_anchored()
            {
                for pattern in &set.patterns {
                    let prefix = pattern.literal_prefix();
                    let bucket = match prefix_index.get_mut(prefix) {
                        Some(bucket) => bucket,
                        None => prefix_index.entry(prefix.to_string()).or_default(),
                    };
                    if bucket.last() != Some(&id) {
                        bucket.push(id);
                    }
                }
            }
        }
        Graph {
            graph,
            accesses: resolved.accesses,
            jobs: resolved.jobs,
            sends: resolved.sends,
            launches: resolved.launches,
            deployments: resolved.deployments,
            access_nodes,
            prefix_index,
            name_index,
        }
    }

    pub fn access(&self, id: AccessId) -> &Access {
        &self.accesses[id.0]
    }

    pub fn ids(&self) -> impl Iterator<Item = AccessId> + '_ {
        (0..self.accesses.len()).map(AccessId)
    }

    /// Anchored path accesses that may touch a path of `pattern`, as seen from `repo` (relative
    /// patterns only meet patterns of the same repository). Exact checks are the caller's.
    pub fn path_candidates(&self, pattern: &Pattern, repo: &str) -> Vec<AccessId> {
        let prefix = pattern.literal_prefix();
        let mut keys: Vec<&String> = Vec::new();
        // Buckets whose key is a prefix of the query's prefix (at directory boundaries)...
        for (i, c) in prefix.char_indices() {
            if c == '/'
                && let Some((k, _)) = self.prefix_index.get_key_value(&prefix[..=i])
            {
                keys.push(k);
            }
        }
        if let Some((k, _)) = self.prefix_index.get_key_value("") {
            keys.push(k);
        }
        // ...and buckets whose key extends it.
        for (k, _) in self.prefix_index.range(prefix.to_string()..) {
            if !k.starts_with(prefix) {
                break;
            }
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        let absolute = pattern.is_absolute();
        let mut ids: Vec<AccessId> = keys
            .into_iter()
            .flat_map(|k| self.prefix_index[k].iter().copied())
            .filter(|id| {
                let access = &self.accesses[id.0];
                match &access.resource {
                    Resource::Path(set) => {
                        set.is_absolute() == absolute && (absolute || access.site.repo == repo)
                    }
                    _ => false,
                }
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Accesses that produce content something `pattern` could name. Creating an empty file or
    /// a directory (`mkdir`, logrotate's `create`) produces no content and does not count.
    ///
    /// Likewise a rotation: a unit that moves the queried files away and moves them to another
    /// name (`app.log` -> `app.log.1`) only renames old content.
    pub fn producers_touching(&self, pattern: &Pattern, repo: &str) -> Vec<AccessId> {
        let candidates = self.path_candidates(pattern, repo);
        let touches = |access: &Access| {
            access
                .resource
                .as_path()
                .is_some_and(|set| set.overlaps(pattern))
        };
        let rotators: Vec<(&str, &str, &str)> = candidates
            .iter()
            .map(|id| &self.accesses[id.0])
            .filter(|a| a.mode == Mode::MoveFrom && touches(a))
            .map(|a| (a.site.repo.as_str(), a.site.path.as_str(), a.unit.as_str()))
            .collect();
        candidates
            .into_iter()
            .filter(|id| {
                let access = &self.accesses[id.0];
                let rotation = access.mode == Mode::MoveTo
                    && rotators.contains(&(
                        access.site.repo.as_str(),
                        access.site.path.as_str(),
                        access.unit.as_str(),
                    ));
                access.mode.produces()
                    && access.mode != Mode::Create
                    && !rotation
                    && touches(access)
            })
            .collect()
    }

    /// Accesses of the same namespace whose names may overlap one of `names`: exact matches
    /// from the index, pattern names checked with the algebra.
    pub fn name_candidates(&self, space: &str, names: &NameSet) -> Vec<AccessId> {
        let Some(bucket) = self.name_index.get(space) else {
            return Vec::new();
        };
        let mut ids: Vec<AccessId> = match names.literal() {
            Some(name) => bucket.exact.get(name).cloned().unwrap_or_default(),
            None => bucket
                .exact
                .values()
                .flatten()
                .copied()
                .filter(|id| {
                    names_of(&self.accesses[id.0].resource)
                        .is_some_and(|other| other.patterns.iter().any(|p| names.overlaps(p)))
                })
                .collect(),
        };
        ids.extend(bucket.patterns.iter().copied().filter(|id| {
            names_of(&self.accesses[id.0].resource)
                .is_some_and(|other| other.patterns.iter().any(|p| names.overlaps(p)))
        }));
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The jobs under which an access runs.
    pub fn jobs_of(&self, id: AccessId) -> impl Iterator<Item = &Job> {
        self.accesses[id.0]
            .jobs
            .iter()
            .filter_map(|j| self.jobs.get(*j))
    }

    /// The jobs under which an access runs, from the access itself.
    pub fn jobs_of_access<'a>(&'a self, access: &'a Access) -> impl Iterator<Item = &'a Job> {
        access.jobs.iter().filter_map(|j| self.jobs.get(*j))
    }

    /// The petgraph node of an access, for graph exports.
    pub fn node_of(&self, id: AccessId) -> Option<NodeIndex> {
        self.access_nodes.get(id.0).copied()
    }

    /// Accesses with one of `modes`.
    pub fn with_modes<'a>(&'a self, modes: &'a [Mode]) -> impl Iterator<Item = AccessId> + 'a {
        self.ids()
            .filter(move |id| modes.contains(&self.accesses[id.0].mode))
    }
}
