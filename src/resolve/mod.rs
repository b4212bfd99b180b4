//! Resolve: the facts of every repository -> [`Resolved`] accesses with patterns and jobs.
//!
//! Input: each repository's [`FileFacts`] by path, and environment variables bound by the user.
//! Output: every access with its resource as a pattern set, its site and unit, the assumptions
//! made on the way (environment defaults), and the jobs (schedules) under which it runs.
//!
//! Jobs are linked first, because a job's environment (`VAR=` lines of a crontab) feeds the
//! resolution of the scripts it runs: a crontab entry's command is matched to repository files by
//! path suffix (`/opt/host-ops/cron/x.sh` -> `cron/x.sh`), and the job then flows through the
//! scripts those files run and the Python modules they import.

pub(crate) mod calls;
mod deployments;
mod eval;
pub mod installs;
pub mod jobs;
mod lookup;
pub mod names;
mod params;
pub mod paths;
#[cfg(test)]
mod python_proptests;
#[cfg(test)]
mod python_tests;
mod reuse;
#[cfg(test)]
mod reuse_tests;
mod volumes;

use crate::extract::{FileFacts, RawResource, Reach, ScopeKind};
use crate::model::{Mode, Origin, ResourceKind, Site};
use eval::{Evaluator, Value};
pub use jobs::{EnvVariant, Job, JobId, JobKind, Launch};
pub(crate) use lookup::normalize as normalize_repo_path;
use lookup::{FileRef, Lookup};
pub use names::{NameSet, QueueSet};
pub use paths::PathSet;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// One repository's extracted facts.
#[derive(Clone, Debug)]
pub struct RepoFacts {
    pub name: String,
    pub files: BTreeMap<String, Arc<FileFacts>>,
}

/// A resolved resource.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum Resource {
    Path(PathSet),
    /// An environment variable (a credential or configuration value).
    Env(NameSet),
    /// A secret in a secret manager.
    Secret {
        provider: String,
        ids: NameSet,
    },
    /// Boxed: a queue's set is twice a path's, and every access of the world would carry
    /// its room (queues are a few of them).
    Queue(Box<QueueSet>),
}

impl Resource {
    pub fn kind(&self) -> ResourceKind {
        match self {
            Resource::Path(_) => ResourceKind::Path,
            Resource::Env(_) | Resource::Secret { .. } => ResourceKind::Credential,
            Resource::Queue(_) => ResourceKind::Queue,
        }
    }

    pub fn display(&self) -> &str {
        match self {
            Resource::Path(set) => &set.display,
            Resource::Env(names) => &names.display,
            Resource::Secret { ids, .. } => &ids.display,
            Resource::Queue(queue) => &queue.names.display,
        }
    }

    pub fn as_path(&self) -> Option<&PathSet> {
        match self {
            Resource::Path(set) => Some(set),
            _ => None,
        }
    }
}

/// One access, resolved.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Access {
    pub resource: Resource,
    pub mode: Mode,
    pub site: Site,
    /// The function, script or crontab entry performing it.
    pub unit: String,
    /// The model that recognised it.
    pub via: String,
    /// Limits in words ("depth 1", "modified more than 3 days ago").
    pub qualifiers: Vec<String>,
    /// Assumptions made while resolving it.
    pub notes: Vec<String>,
    pub jobs: Vec<JobId>,
    /// An environment variable read with no default: the program needs it to be set.
    pub required: bool,
    /// For an access attributed to a call site (a wait inside a called helper): the callee's
    /// unit and the access's own site there.
    pub origin: Option<Box<(String, Site)>>,
    /// For an access that resolves differently per launcher: the launcher this variant is for.
    pub launched_by: Option<Box<LaunchOrigin>>,
    /// Where the value it uses was built, nearest first: the bindings of the names its path or
    /// name expression substitutes (DESIGN's `origins`).
    pub origins: Vec<Origin>,
}

/// The launch an access variant belongs to, and the variables it set that decided the value.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct LaunchOrigin {
    pub launcher: Site,
    pub launcher_unit: String,
    /// (variable, value, where the launcher sets it).
    pub sets: Vec<(String, String, Site)>,
}

impl Access {
    /// The resource's kind as reviewers see it: a file that holds a secret (a token under
    /// `/run/secrets`, a `.pem`, a `credentials.json`) is a credential.
    pub fn kind(&self) -> ResourceKind {
        match &self.resource {
            Resource::Path(set) if looks_like_secret_file(&set.display) => ResourceKind::Credential,
            other => other.kind(),
        }
    }

    /// "deletes /data/ticker/ticker_*.csv (depth 1, modified more than 3 days ago)".
    pub fn describe(&self) -> String {
        // A `mv`/`cp` destination may be a directory, so its reach is a subtree; reviewers read
        // the path itself.
        let shown = match (&self.resource, self.mode) {
            (Resource::Path(set), Mode::MoveTo) if set.patterns.iter().any(|p| p.is_subtree()) => {
                let mut bases: Vec<&str> = set.patterns.iter().map(|p| p.base_display()).collect();
                bases.dedup();
                bases.join(", ")
            }
            (resource, _) => resource.display().to_string(),
        };
        let mut text = format!("{} {shown}", self.mode.verb());
        if !self.qualifiers.is_empty() {
            text.push_str(&format!(" ({})", self.qualifiers.join(", ")));
        }
        text
    }
}

/// A file the extractors could not fully read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Warning {
    pub site: Site,
    pub message: String,
}

/// Something code does to make another program act now, resolved.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Send {
    pub target: SendTarget,
    pub site: Site,
    pub unit: String,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum SendTarget {
    /// A signal to a process named by `target` (a pid file's path, a process or unit name).
    Signal {
        signal: String,
        target: String,
        /// The pid file, when the target is one.
        pid_file: Option<PathSet>,
    },
    Http {
        method: Option<String>,
        url: String,
    },
}

impl Send {
    /// What is sent, for "sends ...": "SIGHUP to /run/rotator.pid", "POST http://x/rotate".
    pub fn describe(&self) -> String {
        match &self.target {
            SendTarget::Signal { signal, target, .. } => match signal.as_str() {
                "START" | "RESTART" => format!("a {} of {target}", signal.to_lowercase()),
                _ => format!("SIG{signal} to {target}"),
            },
            SendTarget::Http { method, url } => match method {
                Some(m) => format!("{m} {url}"),
                None => format!("a request to {url}"),
            },
        }
    }
}

/// Every access of every repository, with jobs.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Resolved {
    pub accesses: Vec<Access>,
    pub jobs: Vec<Job>,
    pub sends: Vec<Send>,
    pub launches: Vec<Launch>,
    pub warnings: Vec<Warning>,
    /// Every deployment of a program in the world, for comparing deployments.
    pub deployments: Vec<crate::extract::formats::deploy::Deployed>,
}

/// The literal tails of the paths every repository's files launch (`/opt/ops/bin/x.sh`;
/// `{APP}/bin/x.sh` -> `/bin/x.sh`), by repository index: what a launch can reach in another
/// repository, for the index's query keys (`index::keys`). Evaluated with the repositories'
/// own bindings and no job environment, so a directory a launcher's environment decides is
/// left out of the tail, never guessed.
pub fn run_tails(repos: &[RepoFacts]) -> Vec<(usize, String)> {
    let lookup = Lookup::new(repos);
    let env = BTreeMap::new();
    let mut out = Vec::new();
    for (repo_index, repo) in repos.iter().enumerate() {
        for (path, facts) in &repo.files {
            for run in &facts.runs {
                let crate::extract::RunTarget::Path { expr } = &run.target else {
                    continue;
                };
                let file = FileRef {
                    repo: repo_index,
                    path,
                };
                let mut evaluator = Evaluator::new(&lookup, &env);
                for value in evaluator.eval(file, expr) {
                    if let Some(tail) = jobs::literal_tail(&value) {
                        out.push((repo_index, tail));
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Resolves every access of `repos`. `env` holds variables the user bound (configuration); they
/// take precedence over the environments of jobs.
pub fn resolve(repos: &[RepoFacts], env: &BTreeMap<String, String>) -> Resolved {
    resolve_scoped(repos, env, None)
}

/// [`resolve`], with the accesses, sends, deployments and warnings of the files of
/// `repos[scope]` alone (jobs and launches are still the whole world's, and every lookup sees
/// every repository). A check's base world is used only for what the changed repository did
/// before the change, so resolving the context there too would only be thrown away; each
/// file's answers depend on the world, never on which other files are resolved, so the scoped
/// answers are those of the whole world.
pub fn resolve_scoped(
    repos: &[RepoFacts],
    env: &BTreeMap<String, String>,
    scope: Option<usize>,
) -> Resolved {
    resolve_with(Lookup::new(repos), env, scope, None).resolved
}

/// A head world's resolution, and the digest of what its context's answers took from its
/// first repository (see [`reuse`]).
pub struct Head {
    pub resolved: Resolved,
    /// `None` when a context file sources a file the first repository installs.
    pub context_inputs: Option<Vec<u8>>,
    /// Whether the context's answers were taken from the earlier world.
    pub reused: bool,
}

/// What a head world can take its context's answers from: called once linking is done with
/// the head's context inputs, it gives the earlier world, whole, if its own context inputs
/// were the same (see [`reuse`]).
pub type Earlier<'e> = Box<dyn FnOnce(Option<&[u8]>) -> Option<Resolved> + 'e>;

/// [`resolve`] of a check's head world, whose first repository is the changed one: when
/// `earlier` gives a world resolved from the same context with the same context inputs, only the
/// changed repository's files are resolved, and the context's answers are that world's. The
/// result is the one [`resolve`] gives either way.
pub fn resolve_head(
    repos: &[RepoFacts],
    env: &BTreeMap<String, String>,
    earlier: Earlier<'_>,
) -> Head {
    resolve_with(Lookup::new(repos), env, None, Some(earlier))
}

/// The index of a check's changed repository in its worlds.
const CHANGED_REPO: usize = 0;

/// [`resolve_scoped`] with a given lookup of `repos`, and for a head world, what it may take
/// the context's answers from ([`resolve_head`]).
fn resolve_with<'a>(
    lookup: Lookup<'a>,
    env: &BTreeMap<String, String>,
    scope: Option<usize>,
    earlier: Option<Earlier<'_>>,
) -> Head {
    let repos = lookup.repos;
    let mut resolved = Resolved::default();
    let link_timing = crate::timings::stage("resolve: link jobs");
    let mut linked = jobs::link(&lookup, env, &mut resolved.jobs);
    drop(link_timing);
    let mut scope = scope;
    let mut context_inputs = None;
    let mut kept_context = None;
    if let Some(earlier) = earlier {
        let _timing = crate::timings::stage("resolve: context inputs");
        context_inputs = reuse::context_inputs(&lookup, &linked, &resolved.jobs, CHANGED_REPO);
        kept_context = earlier(context_inputs.as_deref());
        if kept_context.is_some() {
            scope = Some(CHANGED_REPO);
        }
    }
    let access_timing = crate::timings::stage("resolve: accesses");
    let work: Vec<(usize, &RepoFacts, &String, &Arc<FileFacts>)> = repos
        .iter()
        .enumerate()
        .filter(|(i, _)| scope.is_none_or(|only| only == *i))
        .flat_map(|(i, repo)| repo.files.iter().map(move |(p, f)| (i, repo, p, f)))
        .collect();
    let forks = lookup.forks();
    let per_file: Vec<FileResolved> = work
        .par_iter()
        .map(|&(repo_index, repo, path, facts)| {
            let lookup = forks.lookup();
            resolve_file(
                &lookup,
                &linked,
                &resolved.jobs,
                env,
                repo_index,
                repo,
                path,
                facts,
            )
        })
        .collect();
    // Room for every file's answers at once: grown by doubling, the lists would hold up to
    // twice their size while every file's answers are still held too (the peak of a run).
    let total = |count: fn(&FileResolved) -> usize| per_file.iter().map(count).sum::<usize>();
    resolved
        .deployments
        .reserve_exact(total(|f| f.deployments.len()));
    resolved.warnings.reserve_exact(total(|f| f.warnings.len()));
    resolved.sends.reserve_exact(total(|f| f.sends.len()));
    resolved.accesses.reserve_exact(total(|f| f.accesses.len()));
    for file in per_file {
        resolved.deployments.extend(file.deployments);
        resolved.warnings.extend(file.warnings);
        resolved.sends.extend(file.sends);
        resolved.accesses.extend(file.accesses);
    }
    drop(access_timing);
    let _waits_timing = crate::timings::stage("resolve: waits, deployments");
    resolved.launches = std::mem::take(&mut linked.launches);
    // The lookup's indexes (every file's names, every function's callers) and what linking
    // learnt are not needed past here: their room goes to the waits' own index.
    drop(linked);
    drop(forks);
    drop(lookup);
    deployments::env_from(&mut resolved.deployments);
    calls::propagate_waits(repos, scope, &mut resolved.accesses);
    let reused = kept_context.is_some();
    if let (Some(earlier), Some(changed)) = (kept_context, repos.get(CHANGED_REPO)) {
        reuse::merge(&mut resolved, earlier, &changed.name);
    }
    Head {
        resolved,
        context_inputs,
        reused,
    }
}

/// A repository named `name` of the files given with their text, extracted with the built-in
/// models (a file no extractor reads is an empty module), for the resolver's tests.
#[cfg(test)]
pub(crate) fn repo_of_texts(name: &str, files: &[(&str, &str)]) -> RepoFacts {
    let models = crate::rules::models::Models::builtin().expect("built-in models load");
    let files = files
        .iter()
        .map(|(path, text)| {
            let facts = crate::extract::extract(path, text.as_bytes(), &models)
                .unwrap_or_else(|| FileFacts::new(*path, crate::extract::ScopeKind::Module));
            (path.to_string(), Arc::new(facts))
        })
        .collect();
    RepoFacts {
        name: name.to_string(),
        files,
    }
}

/// What one file contributes to the world.
#[derive(Default)]
struct FileResolved {
    deployments: Vec<crate::extract::formats::deploy::Deployed>,
    warnings: Vec<Warning>,
    sends: Vec<Send>,
    accesses: Vec<Access>,
}

/// Resolves one file's accesses, sends and deployments. Files are independent of each other
/// once jobs are linked, so they are resolved in parallel, each with its own fork of the lookup.
#[allow(clippy::too_many_arguments)]
fn resolve_file<'a>(
    lookup: &Lookup<'a>,
    linked: &jobs::Linked<'a>,
    jobs_of_world: &[Job],
    env: &BTreeMap<String, String>,
    repo_index: usize,
    repo: &'a RepoFacts,
    path: &'a String,
    facts: &'a FileFacts,
) -> FileResolved {
    let mut out = FileResolved::default();
    let file = FileRef {
        repo: repo_index,
        path,
    };
    let file_env = linked.file_env.get(&(repo_index, path.as_str()));
    let file_jobs = linked.file_jobs.get(&(repo_index, path.as_str()));
    out.deployments.extend(deployments::resolve(
        lookup,
        file,
        &repo.name,
        &facts.deployments,
    ));
    for warning in &facts.warnings {
        out.warnings.push(Warning {
            site: Site {
                repo: repo.name.clone(),
                path: path.clone(),
                line: warning.line,
            },
            message: warning.message.clone(),
        });
    }
    // Only accesses read the mappings; most files have none, and their bindings need no scan.
    let mappings = if facts.accesses.is_empty() {
        Vec::new()
    } else {
        volumes::mappings(facts, path)
    };
    for send in &facts.sends {
        let env = file_env.cloned().unwrap_or_default();
        let mut evaluator = Evaluator::new(lookup, &env);
        let target = match &send.kind {
            crate::extract::SendKind::Signal { signal, target } => {
                let values = evaluator.eval(file, target);
                let shown = NameSet::from_values(&values, false).display;
                // A pid file is an absolute path that says so (`/run/x.pid`,
                // `/var/run/x/pid`); `pkill -f /opt/ops/bin/x.sh` names a process.
                let pid_file = !values.is_empty()
                    && values.iter().all(|v| {
                        matches!(v.first(), Some(crate::pattern::Piece::Lit(t)) if t.starts_with('/'))
                    })
                    && shown.to_ascii_lowercase().contains("pid");
                SendTarget::Signal {
                    signal: signal.trim_start_matches("SIG").to_uppercase(),
                    target: shown,
                    pid_file: pid_file.then(|| paths::exact(values, false)),
                }
            }
            crate::extract::SendKind::Http { method, url } => SendTarget::Http {
                method: method.as_ref().map(|m| m.to_uppercase()),
                url: NameSet::from_values(&evaluator.eval(file, url), false).display,
            },
        };
        out.sends.push(Send {
            target,
            site: Site {
                repo: repo.name.clone(),
                path: path.clone(),
                line: send.line,
            },
            unit: unit_name(facts, send.scope, path),
        });
    }
    for raw in &facts.accesses {
        let mut full_env = file_env.cloned().unwrap_or_default();
        let mut jobs: BTreeSet<JobId> = file_jobs.cloned().unwrap_or_default();
        if let Some(job) = linked.scope_job(facts, file, raw.scope) {
            jobs.insert(job);
            for (k, v) in &jobs_of_world[job].env {
                full_env.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        for (k, v) in env {
            full_env.insert(k.clone(), v.clone());
        }
        let converted = convert(lookup, file, raw, &full_env, &mappings);
        if is_pseudo_file(&converted.resource) {
            continue;
        }
        let base = Access {
            resource: converted.resource,
            mode: raw.mode,
            site: Site {
                repo: repo.name.clone(),
                path: path.clone(),
                line: raw.line,
            },
            unit: unit_name(facts, raw.scope, path),
            via: raw.via.to_string(),
            qualifiers: converted.qualifiers,
            notes: converted.notes,
            jobs: jobs.into_iter().collect(),
            required: matches!(&raw.resource, RawResource::Env(t) if t.value.is_none())
                && raw.mode == Mode::Read,
            origin: None,
            launched_by: None,
            origins: converted.origins,
        };
        // A program launched by several deployments that set a variable it reads
        // differently: one access per distinct value, each knowing its launcher.
        let variants = linked
            .variants
            .get(&(repo.name.clone(), path.clone()))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let relevant = variants.len() > 1
            && converted
                .used_env
                .iter()
                .any(|name| variants.iter().any(|v| v.set_at.contains_key(name)));
        if !relevant {
            let mut base = base;
            // One launcher: the lines where it sets what the value was built from.
            if let [variant] = variants {
                for name in &converted.used_env {
                    if let (Some(site), Some(value)) =
                        (variant.set_at.get(name), full_env.get(name))
                        && variant.env.get(name) == Some(value)
                        && !base.origins.iter().any(|o| &o.site == site)
                    {
                        base.origins.push(Origin {
                            site: site.clone(),
                            note: format!("sets {name}={value} for this launch"),
                        });
                    }
                }
            }
            out.accesses.push(base);
            continue;
        }
        let mut split: Vec<Access> = Vec::new();
        for variant in variants {
            let mut variant_env = variant.env.clone();
            for (k, v) in env {
                variant_env.insert(k.clone(), v.clone());
            }
            let c = convert(lookup, file, raw, &variant_env, &mappings);
            let sets: Vec<(String, String, Site)> = c
                .used_env
                .iter()
                .filter_map(|name| {
                    let site = variant.set_at.get(name)?;
                    Some((name.clone(), variant_env.get(name)?.clone(), site.clone()))
                })
                .collect();
            if split
                .iter()
                .any(|a| a.resource.display() == c.resource.display())
            {
                continue;
            }
            let mut access = base.clone();
            access.resource = c.resource;
            access.qualifiers = c.qualifiers;
            let shown: Vec<String> = sets.iter().map(|(n, v, _)| format!("{n}={v}")).collect();
            access.notes = c.notes;
            access.origins = c.origins;
            access
                .origins
                .extend(sets.iter().map(|(name, value, site)| Origin {
                    site: site.clone(),
                    note: format!("sets {name}={value} for this launch"),
                }));
            access.notes.push(format!(
                "when started by {} ({})",
                variant.launcher,
                shown.join(", ")
            ));
            access.launched_by = Some(Box::new(LaunchOrigin {
                launcher: variant.launcher.clone(),
                launcher_unit: variant.launcher_unit.clone(),
                sets,
            }));
            split.push(access);
        }
        if split.len() > 1 {
            out.accesses.extend(split);
        } else {
            out.accesses.push(base);
        }
    }
    out
}

/// An access's resource under one environment.
struct Converted {
    resource: Resource,
    qualifiers: Vec<String>,
    notes: Vec<String>,
    used_env: Vec<String>,
    origins: Vec<Origin>,
}

fn convert<'a>(
    lookup: &Lookup<'a>,
    file: FileRef<'a>,
    raw: &'a crate::extract::RawAccess,
    env: &BTreeMap<String, String>,
    mappings: &[volumes::Mapping],
) -> Converted {
    let mut evaluator = Evaluator::new(lookup, env);
    let (resource, qualifiers) = match &raw.resource {
        RawResource::Path(target) => {
            let (set, mut qualifiers) = resolve_path(&mut evaluator, file, target, mappings);
            if let Some(retention) = &target.retention {
                qualifiers.push(substitute_variables(
                    &mut evaluator,
                    file,
                    raw.scope,
                    raw.line,
                    retention,
                ));
            }
            (Resource::Path(set), qualifiers)
        }
        RawResource::Env(target) => {
            let names = evaluator.eval(file, &target.name);
            let mut qualifiers = Vec::new();
            if raw.mode == Mode::Set
                && let Some(value) = &target.value
            {
                let shown = NameSet::from_values(&evaluator.eval(file, value), false);
                qualifiers.push(format!("= {}", shown.display));
            }
            (
                Resource::Env(NameSet::from_values(&names, false)),
                qualifiers,
            )
        }
        RawResource::Secret(target) => {
            let ids = evaluator.eval(file, &target.id);
            (
                Resource::Secret {
                    provider: target.provider.clone(),
                    ids: NameSet::from_values(&ids, false),
                },
                Vec::new(),
            )
        }
        RawResource::Queue(target) => {
            let dotted = names::is_dotted(target.broker, target.role);
            let queue_names = evaluator.eval(file, &target.name);
            let exchange = target.exchange.as_ref().map(|e| {
                let values = evaluator.eval(file, e);
                NameSet::from_values(&values, false).display
            });
            let bound_queue = target.bound_queue.as_ref().map(|q| {
                let values = evaluator.eval(file, q);
                NameSet::from_values(&values, false)
            });
            (
                Resource::Queue(Box::new(QueueSet {
                    broker: target.broker,
                    role: target.role,
                    names: NameSet::from_values(&queue_names, dotted),
                    exchange,
                    bound_queue,
                    fields: target.fields.clone(),
                })),
                Vec::new(),
            )
        }
    };
    Converted {
        resource,
        qualifiers,
        notes: evaluator.notes,
        used_env: evaluator.used_env,
        origins: evaluator.origins,
    }
}

fn resolve_path<'a>(
    evaluator: &mut Evaluator<'a, '_>,
    file: FileRef<'a>,
    target: &'a crate::extract::PathTarget,
    mappings: &[volumes::Mapping],
) -> (PathSet, Vec<String>) {
    let values = volumes::host_alternatives(evaluator.eval(file, &target.expr), mappings);
    match &target.reach {
        Reach::Exact => (paths::exact(values, false), Vec::new()),
        Reach::Tree => (paths::exact(values, true), Vec::new()),
        Reach::Children => (paths::children(values), Vec::new()),
        Reach::Find(spec) => {
            let names: Vec<Value> = spec
                .names
                .iter()
                .flat_map(|n| evaluator.eval(file, n))
                .collect();
            let path_filters: Vec<Value> = spec
                .paths
                .iter()
                .flat_map(|n| evaluator.eval(file, n))
                .collect();
            let set = paths::find(values, names, path_filters, spec);
            let qualifiers = paths::describe_find(spec).into_iter().collect();
            (set, qualifiers)
        }
    }
}

/// Does a path name a secret? Judged on its words, so it is a hint for the report's resource
/// kind, never a reason to link or not.
pub fn looks_like_secret_file(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "/run/secrets/",
        "secret",
        "token",
        "credential",
        "passw",
        "apikey",
        "api_key",
        "api-key",
        "kubeconfig",
        ".netrc",
        "id_rsa",
        "id_ed25519",
        "htpasswd",
        ".pem",
        ".p12",
        ".pfx",
        ".jks",
        "keytab",
    ];
    WORDS.iter().any(|w| lower.contains(w)) || lower.ends_with(".key")
}

/// Kernel and device files (`/dev/null`, `/proc/...`, `/sys/...`) are nobody's output and nobody's
/// contract: accesses to them are dropped, also when they arrive through a variable.
fn is_pseudo_file(resource: &Resource) -> bool {
    let Some(set) = resource.as_path() else {
        return false;
    };
    !set.patterns.is_empty()
        && set.patterns.iter().all(|p| {
            let text = p.base_display();
            (text.starts_with("/dev/") && !text.starts_with("/dev/shm/"))
                || text == "/dev"
                || text.starts_with("/proc/")
                || text.starts_with("/sys/")
        })
}

/// Replaces `$NAME`, `${NAME}` and `"$NAME"` in descriptive text (a `find -mtime +"$DAYS"`
/// retention) by the variable's value when it resolves to one literal.
fn substitute_variables<'a>(
    evaluator: &mut Evaluator<'a, '_>,
    file: FileRef<'a>,
    scope: usize,
    line: u32,
    text: &str,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let (name, consumed) = match after.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        let value = if name.is_empty() {
            None
        } else {
            match evaluator.lookup.find(file, scope, name, line) {
                lookup::Target::Binding(at, binding) => {
                    let values = evaluator.eval(at, &binding.value);
                    match values.as_slice() {
                        [single] => single
                            .iter()
                            .map(|p| match p {
                                crate::pattern::Piece::Lit(t) => Some(t.as_str()),
                                _ => None,
                            })
                            .collect::<Option<String>>(),
                        _ => None,
                    }
                }
                lookup::Target::Unbound => None,
            }
        };
        match value {
            Some(v) => {
                if out.ends_with('"') && after[consumed..].starts_with('"') {
                    out.pop();
                    out.push_str(&v);
                    rest = &after[consumed + 1..];
                } else {
                    out.push_str(&v);
                    rest = &after[consumed..];
                }
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `text` ends with `separator` and then `tail` (`lib/conf.sh` ends
/// `opt/app/lib/conf.sh` after a `/`, `auth.wait` ends `app.auth.wait` after a `.`). Asked of
/// every candidate of a name, so it writes no `/tail` out to compare.
pub(crate) fn ends_after(text: &str, separator: u8, tail: &str) -> bool {
    text.len() > tail.len()
        && text.ends_with(tail)
        && text.as_bytes().get(text.len() - tail.len() - 1) == Some(&separator)
}

/// The display name of the unit performing an access.
pub(crate) fn unit_name(facts: &FileFacts, scope: usize, path: &str) -> String {
    let Some(s) = facts.scopes.get(scope) else {
        return path.to_string();
    };
    // Python and Rust units are dotted like the code names them; everything else (scripts,
    // crontabs, deployment files) is the file with the scopes inside it.
    let code = path.ends_with(".py") || path.ends_with(".pyw") || path.ends_with(".rs");
    if scope == 0 {
        return match s.kind {
            ScopeKind::Module if code && !s.name.is_empty() => s.name.to_string(),
            _ => path.to_string(),
        };
    }
    if s.kind == ScopeKind::CronEntry {
        return format!("{path}:{}", s.line);
    }
    match facts.scopes.first() {
        Some(root) if code && root.kind == ScopeKind::Module && !root.name.is_empty() => {
            let mut name = String::with_capacity(root.name.len() + 32);
            name.push_str(&root.name);
            name.push('.');
            facts.push_unit_name(scope, &mut name);
            name
        }
        _ if code => {
            let mut name = String::with_capacity(path.len() + 32);
            name.push_str(path);
            name.push(':');
            facts.push_unit_name(scope, &mut name);
            name
        }
        _ => {
            let mut names = Vec::new();
            let mut current = Some(scope);
            while let Some(id) = current {
                let Some(sc) = facts.scopes.get(id) else {
                    break;
                };
                if id != 0 && sc.name != "command" {
                    names.push(sc.name.as_str());
                }
                current = sc.parent;
            }
            names.reverse();
            if names.is_empty() {
                path.to_string()
            } else {
                format!("{path} ({})", names.join(" / "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ends_after;

    #[test]
    fn a_tail_counts_only_after_its_separator() {
        assert!(ends_after("opt/app/lib/conf.sh", b'/', "lib/conf.sh"));
        assert!(ends_after("app.auth.wait", b'.', "auth.wait"));
        // Inside a segment, the whole text, another separator: no.
        assert!(!ends_after("opt/app/mylib/conf.sh", b'/', "lib/conf.sh"));
        assert!(!ends_after("lib/conf.sh", b'/', "lib/conf.sh"));
        assert!(!ends_after("app.auth.wait", b'/', "auth.wait"));
        // What the written-out form (`/tail`) answers, on every pair of short texts.
        let texts = [
            "", "/", "a", "/a", "a/", "b/a", "a/a", "ab/a", "é/a", "a//a", "..a", ".a",
        ];
        for text in texts {
            for tail in texts {
                for separator in [b'/', b'.'] {
                    let written = format!("{}{tail}", char::from(separator));
                    assert_eq!(
                        ends_after(text, separator, tail),
                        text.ends_with(&written),
                        "{text:?} {tail:?} {separator}"
                    );
                }
            }
        }
    }
}
