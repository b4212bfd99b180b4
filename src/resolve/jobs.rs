//! Programs: how code comes to run, and with which environment.
//!
//! A *launch* is a `RunRef` resolved to repository files: a crontab entry's command, a timer's
//! unit, a compose service's command, a script that runs another, `python -m pkg.mod`. Launches
//! and Python imports are the edges of a file graph. Two things flow down those edges:
//!
//! - **environment**: `VAR=` lines of a crontab, `Environment=` of a unit, `environment:` of a
//!   compose service, `export` before a launch — the launched file resolves `$VAR` with them;
//!   the variables of environment files (`env_file:`, `EnvironmentFile=`) are passed too, and a
//!   launch whose environment file cannot be read (in no repository, templated, an `envFrom`
//!   map) has an open environment: it may pass any variable;
//! - **jobs**: every way a program can be started or made to act — schedules (crontab, timers,
//!   CronJobs, in-code schedulers), signal handlers, watched request files, HTTP routes, queues it
//!   consumes, long-running loops. A job declared in a file applies to that file and to what it
//!   launches and imports.

use super::RepoFacts;
use super::eval::{Evaluator, Value};
use super::lookup::{FileRef, Forks, Lookup};
use super::names::NameSet;
use super::paths::{self, PathSet};
use crate::extract::formats::ENV_FILE_PREFIX;
use crate::extract::{FileFacts, ProgramTarget, RawResource, RunTarget, TriggerKind};
use crate::model::{Mode, Schedule, Site};
use crate::pattern::{Piece, normalize_literal_path};
use foldhash::{HashMap, HashMapExt as _};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::OnceLock;

/// Index of a job in [`super::Resolved::jobs`].
pub type JobId = usize;

/// One way a program comes to run or to act.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Job {
    pub kind: JobKind,
    /// The crontab line, timer, handler registration, route or loop that declares it.
    pub declared_at: Site,
    /// Environment the job gives what it runs (crontab `VAR=` lines).
    pub env: Vec<(String, String)>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum JobKind {
    /// Started by a schedule; `command` is what the entry runs.
    Schedule { schedule: Schedule, command: String },
    /// Acts on a signal (`HUP`, `USR1`).
    Signal { signal: String },
    /// Acts when a file appears or changes.
    WatchFile { path: PathSet },
    /// Serves an HTTP endpoint.
    Route {
        method: Option<String>,
        path: String,
    },
    /// Consumes messages from a queue.
    Consume { queue: String },
    /// Runs forever, acting every interval.
    Loop { interval: Option<String> },
}

impl Job {
    pub fn schedule(&self) -> Option<&Schedule> {
        match &self.kind {
            JobKind::Schedule { schedule, .. } => Some(schedule),
            _ => None,
        }
    }

    /// Can another program make this one act now?
    pub fn on_demand(&self) -> bool {
        matches!(
            self.kind,
            JobKind::Signal { .. }
                | JobKind::WatchFile { .. }
                | JobKind::Route { .. }
                | JobKind::Consume { .. }
        )
    }

    /// "runs 0 */8 * * *, every 8 hours, at minute 0 (ops/crontab:3)".
    pub fn describe(&self) -> String {
        let what = match &self.kind {
            JobKind::Schedule { schedule, .. } => {
                format!("runs {}, {}", schedule.expression, schedule.description)
            }
            JobKind::Signal { signal } => format!("acts on SIG{signal}"),
            JobKind::WatchFile { path } => format!("acts when {} appears or changes", path.display),
            JobKind::Route { method, path } => match method {
                Some(m) => format!("serves {m} {path}"),
                None => format!("serves {path}"),
            },
            JobKind::Consume { queue } => format!("consumes {queue}"),
            JobKind::Loop { interval } => match interval {
                Some(i) => format!("loops every {i}"),
                None => "runs in a loop".to_string(),
            },
        };
        format!("{what} ({})", self.declared_at)
    }
}

/// A launch of a program: a crontab entry, a compose service, a unit, a script running another.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Launch {
    /// The line that launches (the `RunRef`'s line).
    pub site: Site,
    pub unit: String,
    /// The launched file, and every file it imports (the program's code).
    pub reaches: Vec<(String, String)>,
    /// Variables the launching scope sets itself (a deployment's `environment:`).
    pub sets: Vec<String>,
    /// Every variable the launched program receives from this launch (set, inherited, bound).
    pub passes: Vec<String>,
    /// The launch also passes variables knockon cannot list — an environment file that is in
    /// no repository or is templated, a Kubernetes `envFrom` map — so it may pass any variable.
    pub open_env: bool,
}

/// One way a program is launched with its own environment: a deployment file, a unit, a
/// crontab entry that sets variables. A program started by two deployments that set a variable
/// differently resolves differently in each.
#[derive(Clone, Debug)]
pub struct EnvVariant {
    /// The launching line.
    pub launcher: Site,
    pub launcher_unit: String,
    /// Everything the program receives from this launch.
    pub env: BTreeMap<String, String>,
    /// Where the launching scope sets each of its own variables.
    pub set_at: BTreeMap<String, Site>,
}

/// What linking found.
pub struct Linked<'a> {
    /// Jobs that apply to each file.
    pub file_jobs: BTreeMap<(usize, &'a str), BTreeSet<JobId>>,
    /// The environment each file runs with.
    pub file_env: BTreeMap<(usize, &'a str), BTreeMap<String, String>>,
    /// The job of each crontab-entry scope (its inline commands run under it).
    pub scope_jobs: BTreeMap<(usize, &'a str, usize), JobId>,
    pub launches: Vec<Launch>,
    /// Per file, the launches that give it an environment of their own.
    pub variants: BTreeMap<(String, String), Vec<EnvVariant>>,
    /// The names of every variable each file receives, whatever its value (a value that is not
    /// literal is missing from `file_env`, but the variable is still set).
    pub file_names: BTreeMap<(usize, &'a str), BTreeSet<String>>,
    /// Files launched with an open environment (see [`Launch::open_env`]).
    pub file_open: BTreeSet<(usize, &'a str)>,
}

impl<'a> Linked<'a> {
    /// The job of the crontab entry enclosing `scope`, if any.
    pub fn scope_job(&self, facts: &FileFacts, file: FileRef<'a>, scope: usize) -> Option<JobId> {
        let mut current = Some(scope);
        while let Some(s) = current {
            if let Some(job) = self.scope_jobs.get(&(file.repo, file.path, s)) {
                return Some(*job);
            }
            current = facts.scopes.get(s).and_then(|sc| sc.parent);
        }
        None
    }
}

/// An edge of the file graph: `from` launches or imports `to`, with `env` set for it.
struct Edge<'a> {
    to: FileRef<'a>,
    env: BTreeMap<String, String>,
    /// The names the launching scope sets, whatever their values (see [`ScopeNames`]).
    names: ScopeNames,
}

/// Links every program: environments first (they decide what launch targets resolve to), then
/// jobs.
pub fn link<'a>(
    lookup: &Lookup<'a>,
    user_env: &BTreeMap<String, String>,
    jobs: &mut Vec<Job>,
) -> Linked<'a> {
    let files = indexes(lookup);
    let mut linked = Linked {
        file_jobs: BTreeMap::new(),
        file_env: BTreeMap::new(),
        scope_jobs: BTreeMap::new(),
        launches: Vec::new(),
        variants: BTreeMap::new(),
        file_names: BTreeMap::new(),
        file_open: BTreeSet::new(),
    };
    // Environments flow along launches, iterated until nothing new is learned (bounded). A
    // file's edges depend on its own inherited environment alone, so after the first round only
    // the files whose environment grew have theirs built again.
    let mut edges = build_edges(lookup, &files, &linked.file_env, user_env, None);
    for round in 0..4 {
        let mut changed = false;
        let mut env_grew: BTreeSet<(usize, &'a str)> = BTreeSet::new();
        for (from, out) in &edges {
            let from_key = (from.repo, from.path);
            let inherited = linked.file_env.get(&from_key).cloned();
            let inherited_names = linked.file_names.get(&from_key).cloned();
            let inherited_open = linked.file_open.contains(&from_key);
            let inherits_env = inherited.as_ref().is_some_and(|env| !env.is_empty());
            let inherits_names = inherited_names.as_ref().is_some_and(|n| !n.is_empty());
            for edge in out {
                let to_key = (edge.to.repo, edge.to.path);
                // Most edges (imports) carry nothing: no entry is made for them, which reads
                // the same as an empty one and spares a lookup by path per edge and round.
                if inherits_env || !edge.env.is_empty() {
                    let target = linked.file_env.entry(to_key).or_default();
                    for (k, v) in edge.env.iter().chain(inherited.iter().flatten()) {
                        if !target.contains_key(k) {
                            target.insert(k.clone(), v.clone());
                            changed = true;
                            env_grew.insert(to_key);
                        }
                    }
                }
                if inherits_names || !edge.names.names.is_empty() {
                    let names = linked.file_names.entry(to_key).or_default();
                    for k in edge
                        .names
                        .names
                        .iter()
                        .chain(inherited_names.iter().flatten())
                    {
                        changed |= names.insert(k.clone());
                    }
                }
                if edge.names.open || inherited_open {
                    changed |= linked.file_open.insert(to_key);
                }
            }
        }
        if !changed || round == 3 {
            break;
        }
        if !env_grew.is_empty() {
            let rebuilt = build_edges(lookup, &files, &linked.file_env, user_env, Some(&env_grew));
            for (repo, path) in &env_grew {
                edges.remove(&FileRef { repo: *repo, path });
            }
            edges.extend(rebuilt);
        }
    }
    // Jobs: declared, then propagated along the same edges.
    let mut queue: VecDeque<(FileRef<'a>, JobId)> = VecDeque::new();
    for (repo_index, repo) in lookup.repos.iter().enumerate() {
        for (path, facts) in &repo.files {
            let file = FileRef {
                repo: repo_index,
                path,
            };
            let site = |line: u32| Site {
                repo: repo.name.clone(),
                path: path.clone(),
                line,
            };
            for schedule in &facts.schedules {
                let id = jobs.len();
                jobs.push(Job {
                    kind: JobKind::Schedule {
                        schedule: Schedule {
                            expression: schedule.expression.clone(),
                            description: schedule.description.clone(),
                        },
                        command: schedule.command.clone(),
                    },
                    declared_at: site(schedule.line),
                    env: schedule.env.clone(),
                });
                linked
                    .scope_jobs
                    .insert((repo_index, path, schedule.scope), id);
                let env = scope_env(
                    &files,
                    file,
                    facts,
                    schedule.scope,
                    user_env,
                    &linked.file_env,
                );
                for run in facts
                    .runs
                    .iter()
                    .filter(|r| in_scope(facts, r.scope, schedule.scope))
                {
                    for target in files.targets(lookup, file, &run.target, &env) {
                        queue.push_back((target, id));
                    }
                }
            }
            let env = linked
                .file_env
                .get(&(repo_index, path.as_str()))
                .cloned()
                .unwrap_or_default();
            let mut evaluator = Evaluator::new(lookup, &env);
            for trigger in &facts.triggers {
                let kind = match &trigger.kind {
                    TriggerKind::Signal { signal } => JobKind::Signal {
                        signal: signal.trim_start_matches("SIG").to_uppercase(),
                    },
                    TriggerKind::WatchFile { path } => JobKind::WatchFile {
                        path: paths::exact(evaluator.eval(file, path), false),
                    },
                    TriggerKind::Route { method, path } => JobKind::Route {
                        method: method.as_ref().map(|m| m.to_uppercase()),
                        path: path.clone(),
                    },
                    TriggerKind::Schedule {
                        expression,
                        description,
                    } => JobKind::Schedule {
                        schedule: Schedule {
                            expression: expression.clone(),
                            description: description.clone(),
                        },
                        command: String::new(),
                    },
                    TriggerKind::Loop { interval } => JobKind::Loop {
                        interval: interval.clone(),
                    },
                };
                let id = jobs.len();
                jobs.push(Job {
                    kind,
                    declared_at: site(trigger.line),
                    env: Vec::new(),
                });
                queue.push_back((file, id));
            }
            for access in &facts.accesses {
                if access.mode != Mode::Consume {
                    continue;
                }
                if let RawResource::Queue(target) = &access.resource {
                    let values = evaluator.eval(file, &target.name);
                    let names = NameSet::from_values(&values, false);
                    let id = jobs.len();
                    jobs.push(Job {
                        kind: JobKind::Consume {
                            queue: names.display,
                        },
                        declared_at: site(access.line),
                        env: Vec::new(),
                    });
                    queue.push_back((file, id));
                }
            }
        }
    }
    let (launched, variants) = launches(lookup, &files, &linked, user_env);
    linked.launches = launched;
    linked.variants = variants;
    while let Some((file, job)) = queue.pop_front() {
        let entry = linked.file_jobs.entry((file.repo, file.path)).or_default();
        if !entry.insert(job) {
            continue;
        }
        if let Some(out) = edges.get(&file) {
            for edge in out {
                queue.push_back((edge.to, job));
            }
        }
    }
    linked
}

/// The file index, with the tables of the world's call sites and installs built beside it:
/// every edge and launch needs them. The call sites' tables are built here, on the calling
/// thread, where they can be built in parallel (see `CallerIndex::prepare`); the file index,
/// which is serial, is built meanwhile on a thread of its own, and the installs after it.
fn indexes<'a>(lookup: &Lookup<'a>) -> FileIndex<'a> {
    let forks = lookup.forks();
    std::thread::scope(|scope| {
        let beside = std::thread::Builder::new()
            .name("knockon-link".to_string())
            .spawn_scoped(scope, || {
                let lookup = forks.lookup();
                let files = FileIndex::new(&lookup);
                lookup.installs();
                files
            });
        lookup.callers().prepare();
        match beside {
            Ok(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to be had: built here instead.
            Err(_) => FileIndex::new(lookup),
        }
    })
}

/// Every launch with what it passes, and the code it reaches through imports.
type Variants = BTreeMap<(String, String), Vec<EnvVariant>>;

fn launches<'a>(
    lookup: &Lookup<'a>,
    files: &FileIndex<'a>,
    linked: &Linked<'a>,
    user_env: &BTreeMap<String, String>,
) -> (Vec<Launch>, Variants) {
    let work: Vec<(FileRef<'a>, &'a RepoFacts, &'a FileFacts)> = lookup
        .repos
        .iter()
        .enumerate()
        .flat_map(|(repo_index, repo)| {
            repo.files
                .iter()
                .filter(|(_, facts)| !facts.runs.is_empty())
                .map(move |(path, facts)| {
                    let file = FileRef {
                        repo: repo_index,
                        path,
                    };
                    (file, repo, facts.as_ref())
                })
        })
        .collect();
    // Files in parallel, then their launches and variants in file order, as one pass made them.
    let forks = lookup.forks();
    let per_file: Vec<FileLaunches> = work
        .par_iter()
        .map(|&(file, repo, facts)| {
            let lookup = forks.lookup();
            file_launches(&lookup, files, linked, user_env, file, repo, facts)
        })
        .collect();
    let mut out = Vec::new();
    let mut variants: Variants = BTreeMap::new();
    for file in per_file {
        out.extend(file.launches);
        for (key, variant) in file.variants {
            variants.entry(key).or_default().push(variant);
        }
    }
    (out, variants)
}

/// What one file launches: [`launches`] of one file.
struct FileLaunches {
    launches: Vec<Launch>,
    /// Each file reached with an environment variant, in launch order.
    variants: Vec<((String, String), EnvVariant)>,
}

/// The launches of one file's runs, with the environment variants they give what they reach.
fn file_launches<'a>(
    lookup: &Lookup<'a>,
    files: &FileIndex<'a>,
    linked: &Linked<'a>,
    user_env: &BTreeMap<String, String>,
    file: FileRef<'a>,
    repo: &'a RepoFacts,
    facts: &'a FileFacts,
) -> FileLaunches {
    let file_env = &linked.file_env;
    let mut out = Vec::new();
    let mut variants = Vec::new();
    let path = file.path;
    let inherited_names = linked.file_names.get(&(file.repo, path));
    let inherited_open = linked.file_open.contains(&(file.repo, path));
    // A script's commands share a few scopes (its body, its functions): what a scope sets and
    // passes is worked out once for all the runs in it.
    let mut by_scope: HashMap<usize, ScopeLaunch> = HashMap::new();
    for run in &facts.runs {
        let scoped = by_scope.entry(run.scope).or_insert_with(|| {
            let env = scope_env(files, file, facts, run.scope, user_env, file_env);
            let mut sets: BTreeSet<String> = own_scope_env(files, file, facts, run.scope)
                .into_keys()
                .collect();
            let sets_known_values = !sets.is_empty();
            let own = scope_names(lookup, files, file, facts, run.scope);
            sets.extend(own.names.iter().cloned());
            ScopeLaunch {
                env,
                sets_known_values,
                sets: sets.into_iter().collect(),
                open_env: own.open || inherited_open,
                unit: super::unit_name(facts, run.scope, path),
                set_at: None,
            }
        });
        let env = &scoped.env;
        for to in files.targets(lookup, file, &run.target, env) {
            let mut reaches = vec![to];
            let mut i = 0;
            while i < reaches.len() && reaches.len() < 256 {
                let current = reaches[i];
                for next in files.imports_of(current) {
                    if !reaches.contains(next) {
                        reaches.push(*next);
                    }
                }
                i += 1;
            }
            // What this launch passes: its scope's own variables, what the launching file
            // inherits, and the user's bindings — not what other launches of the same
            // program pass.
            let mut passes: BTreeSet<String> = env.keys().cloned().collect();
            passes.extend(scoped.sets.iter().cloned());
            passes.extend(inherited_names.into_iter().flatten().cloned());
            let passes: Vec<String> = passes.into_iter().collect();
            if scoped.sets_known_values {
                let set_at = scoped
                    .set_at
                    .get_or_insert_with(|| set_sites(files, file, facts, run.scope, &repo.name))
                    .clone();
                let variant = EnvVariant {
                    launcher: Site {
                        repo: repo.name.clone(),
                        path: path.to_string(),
                        line: run.line,
                    },
                    launcher_unit: scoped.unit.clone(),
                    env: env.clone(),
                    set_at,
                };
                for reached in &reaches {
                    if let Some(r) = lookup.repos.get(reached.repo) {
                        variants
                            .push(((r.name.clone(), reached.path.to_string()), variant.clone()));
                    }
                }
            }
            out.push(Launch {
                site: Site {
                    repo: repo.name.clone(),
                    path: path.to_string(),
                    line: run.line,
                },
                unit: scoped.unit.clone(),
                reaches: reaches
                    .iter()
                    .filter_map(|f| {
                        lookup
                            .repos
                            .get(f.repo)
                            .map(|r| (r.name.clone(), f.path.to_string()))
                    })
                    .collect(),
                sets: scoped.sets.clone(),
                passes,
                open_env: scoped.open_env,
            });
        }
    }
    FileLaunches {
        launches: out,
        variants,
    }
}

/// What the runs of one scope of a file launch with: the same for every run in it.
struct ScopeLaunch {
    env: BTreeMap<String, String>,
    /// Whether the scope, or a schedule over it, sets a variable to a known value (a
    /// crontab's `VAR=` lines, `export OUT=/srv/out`): a launch then records where.
    sets_known_values: bool,
    /// Every variable the scope sets.
    sets: Vec<String>,
    open_env: bool,
    unit: String,
    /// Where each variable is set, when a launch needs it.
    set_at: Option<BTreeMap<String, Site>>,
}

/// Where a scope (and the scopes around it) sets each variable it sets.
fn set_sites<'a>(
    files: &FileIndex<'a>,
    file: FileRef<'a>,
    facts: &'a FileFacts,
    scope: usize,
    repo: &str,
) -> BTreeMap<String, Site> {
    let mut out = BTreeMap::new();
    for set in files.env_sets(file, facts).iter() {
        if in_scope(facts, scope, set.scope) {
            out.entry(set.name.clone()).or_insert_with(|| Site {
                repo: repo.to_string(),
                path: file.path.to_string(),
                line: set.line,
            });
        }
    }
    out
}

/// The launch and import edges of every file (of `only`, when given). Files in parallel: a
/// file's edges depend on the world and its own inherited environment alone.
fn build_edges<'a>(
    lookup: &Lookup<'a>,
    files: &FileIndex<'a>,
    file_env: &BTreeMap<(usize, &'a str), BTreeMap<String, String>>,
    user_env: &BTreeMap<String, String>,
    only: Option<&BTreeSet<(usize, &'a str)>>,
) -> BTreeMap<FileRef<'a>, Vec<Edge<'a>>> {
    let work: Vec<(FileRef<'a>, &'a FileFacts)> = lookup
        .repos
        .iter()
        .enumerate()
        .flat_map(|(repo_index, repo)| {
            repo.files.iter().map(move |(path, facts)| {
                let file = FileRef {
                    repo: repo_index,
                    path,
                };
                (file, facts.as_ref())
            })
        })
        .filter(|(file, _)| only.is_none_or(|only| only.contains(&(file.repo, file.path))))
        .collect();
    let forks = lookup.forks();
    work.par_iter()
        .filter_map(|&(file, facts)| {
            let lookup = forks.lookup();
            let out = file_edges(&lookup, files, file_env, user_env, file, facts);
            (!out.is_empty()).then_some((file, out))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

/// The launch and import edges of one file.
fn file_edges<'a>(
    lookup: &Lookup<'a>,
    files: &FileIndex<'a>,
    file_env: &BTreeMap<(usize, &'a str), BTreeMap<String, String>>,
    user_env: &BTreeMap<String, String>,
    file: FileRef<'a>,
    facts: &'a FileFacts,
) -> Vec<Edge<'a>> {
    let mut out = Vec::new();
    // One environment and one evaluator per scope that runs something.
    let envs: BTreeMap<usize, BTreeMap<String, String>> = facts
        .runs
        .iter()
        .map(|run| run.scope)
        .collect::<BTreeSet<usize>>()
        .into_iter()
        .map(|scope| {
            let env = scope_env(files, file, facts, scope, user_env, file_env);
            (scope, env)
        })
        .collect();
    let mut evaluators: BTreeMap<usize, Evaluator<'a, '_>> = envs
        .iter()
        .map(|(scope, env)| (*scope, Evaluator::new(lookup, env)))
        .collect();
    for run in &facts.runs {
        let Some(evaluator) = evaluators.get_mut(&run.scope) else {
            continue;
        };
        for to in files.targets_with(evaluator, file, &run.target) {
            if to != file {
                let mut env = own_scope_env(files, file, facts, run.scope);
                for (k, v) in env_file_values(lookup, files, file, facts, run.scope) {
                    env.entry(k).or_insert(v);
                }
                out.push(Edge {
                    to,
                    env,
                    names: scope_names(lookup, files, file, facts, run.scope),
                });
            }
        }
    }
    for &to in files.imports_of(file) {
        if to != file {
            out.push(Edge {
                to,
                env: BTreeMap::new(),
                names: ScopeNames::default(),
            });
        }
    }
    out
}

/// The environment in effect in a scope: what the file inherits, what the scope chain sets, and
/// the user's bindings (which win).
fn scope_env<'a>(
    files: &FileIndex<'a>,
    file: FileRef<'a>,
    facts: &'a FileFacts,
    scope: usize,
    user_env: &BTreeMap<String, String>,
    file_env: &BTreeMap<(usize, &'a str), BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut env = own_scope_env(files, file, facts, scope);
    if let Some(inherited) = file_env.get(&(file.repo, file.path)) {
        for (k, v) in inherited {
            env.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    env.extend(user_env.iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

/// Variables set with a literal value in a scope and the scopes enclosing it: `environment:`
/// of a compose service, `Environment=` of a unit, `export X=...` before a launch, a crontab
/// entry's `VAR=` lines.
fn own_scope_env<'a>(
    files: &FileIndex<'a>,
    file: FileRef<'a>,
    facts: &'a FileFacts,
    scope: usize,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for schedule in &facts.schedules {
        if in_scope(facts, scope, schedule.scope) {
            for (k, v) in &schedule.env {
                env.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    for set in files.env_sets(file, facts).iter() {
        if let Some(value) = &set.value
            && in_scope(facts, scope, set.scope)
        {
            env.entry(set.name.clone()).or_insert_with(|| value.clone());
        }
    }
    env
}

/// Literal values the environment files of a scope set (`EnvironmentFile=`, `env_file:`), found
/// in a repository directly or where a repository installs them: what the launched program
/// resolves its variables with, after the scope's own settings.
fn env_file_values<'a>(
    lookup: &Lookup<'a>,
    files: &FileIndex<'a>,
    file: FileRef<'a>,
    facts: &'a FileFacts,
    scope: usize,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for env_file in scope_env_files(lookup, files, file, facts, scope)
        .into_iter()
        .flatten()
        .flatten()
    {
        if let Some(env_facts) = lookup.facts(env_file) {
            for (k, v) in own_scope_env(files, env_file, env_facts, 0) {
                env.entry(k).or_insert(v);
            }
        }
    }
    env
}

/// The repository files each environment-file binding of a scope names (`EnvironmentFile=`,
/// `env_file:`): `None` for a binding whose path is not a literal.
fn scope_env_files<'a>(
    lookup: &Lookup<'a>,
    files: &FileIndex<'a>,
    file: FileRef<'a>,
    facts: &'a FileFacts,
    scope: usize,
) -> Vec<Option<Vec<FileRef<'a>>>> {
    let empty = BTreeMap::new();
    let mut evaluator = Evaluator::new(lookup, &empty);
    facts
        .bindings
        .iter()
        .filter(|b| b.name.starts_with(ENV_FILE_PREFIX) && in_scope(facts, scope, b.scope))
        .map(|binding| {
            let written = literal_value(&evaluator.eval(file, &binding.value))?;
            Some(files.env_file(lookup, file, &written))
        })
        .collect()
}

/// The variables a scope (and the scopes around it) gives what it launches, whatever their
/// values: `environment:` entries passed from the host (`- X`, `X: ${X}`) count as much as
/// literal ones, and so does every variable an environment file sets.
#[derive(Clone, Debug, Default)]
struct ScopeNames {
    names: BTreeSet<String>,
    /// An environment file or map whose variables cannot be listed.
    open: bool,
}

fn scope_names<'a>(
    lookup: &Lookup<'a>,
    files: &FileIndex<'a>,
    file: FileRef<'a>,
    facts: &'a FileFacts,
    scope: usize,
) -> ScopeNames {
    let mut out = ScopeNames::default();
    for set in files.env_sets(file, facts).iter() {
        if in_scope(facts, scope, set.scope) {
            out.names.insert(set.name.clone());
        }
    }
    for found in scope_env_files(lookup, files, file, facts, scope) {
        let Some(found) = found else {
            out.open = true;
            continue;
        };
        let mut any = false;
        for env_file in found {
            let Some(env_facts) = lookup.facts(env_file) else {
                continue;
            };
            for set in files.env_sets(env_file, env_facts).iter() {
                out.names.insert(set.name.clone());
                any = true;
            }
        }
        // Not in any repository, or not read as an environment file: it may set anything.
        if !any {
            out.open = true;
        }
    }
    out
}

/// The text of a value made of literals only.
pub(super) fn literal_value(values: &[Value]) -> Option<String> {
    match values {
        [single] => single
            .iter()
            .map(|p| match p {
                Piece::Lit(t) => Some(t.as_str()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Is `scope` inside `ancestor` (or equal to it)?
pub fn in_scope(facts: &FileFacts, scope: usize, ancestor: usize) -> bool {
    let mut current = Some(scope);
    while let Some(s) = current {
        if s == ancestor {
            return true;
        }
        current = facts.scopes.get(s).and_then(|sc| sc.parent);
    }
    false
}

/// Every file of the world by its last path segment, for suffix matching.
struct FileIndex<'a> {
    by_name: HashMap<&'a str, Vec<FileRef<'a>>>,
    /// Every file of each repository under each of its path suffixes that starts at a segment
    /// (`a/b/c.py` under `a/b/c.py`, `b/c.py` and `c.py`), so that a module or a script named
    /// by a path tail is one lookup instead of a scan of every file with that base name (a
    /// repository has hundreds of `__init__.py`).
    by_tail: Vec<HashMap<&'a str, Vec<FileRef<'a>>>>,
    /// The Python modules of the same repository each file imports, computed once: imports do
    /// not depend on environments, which are iterated.
    imports: HashMap<FileRef<'a>, Vec<FileRef<'a>>>,
    /// Programs the repositories' manifests declare, by command name: the files they run.
    programs: HashMap<&'a str, Vec<FileRef<'a>>>,
    /// Cargo binaries by name (`src/bin/NAME.rs`, then `src/bin/NAME/main.rs`, each in
    /// repository and path order): a program name is looked up on every launch of every
    /// linking round, and formatting and looking up both paths in every repository each time
    /// was a quarter of linking.
    cargo_bins: HashMap<&'a str, Vec<FileRef<'a>>>,
    /// The variables each file sets, evaluated once per file when first asked for: every
    /// launch of every linking round asks for its scope's settings, and evaluating the file's
    /// settings again for each was a tenth of linking. A slot per file of the world from the
    /// start, so that files are linked in parallel without a lock.
    env_sets: HashMap<(usize, &'a str), OnceLock<Box<[EnvSet]>>>,
    /// Lookups of the world, for evaluating what files set.
    forks: Forks<'a>,
}

/// The files of every repository that are Cargo binaries, by binary name: `src/bin/NAME.rs`
/// first, then `src/bin/NAME/main.rs`, each in repository order and path order (the order
/// [`FileIndex::with_tail`] gives one repository's files in).
fn cargo_bins<'a>(lookup: &Lookup<'a>) -> HashMap<&'a str, Vec<FileRef<'a>>> {
    let mut bins: HashMap<&'a str, Vec<FileRef<'a>>> = HashMap::new();
    for own_directory in [false, true] {
        for (repo_index, repo) in lookup.repos.iter().enumerate() {
            for path in repo.files.keys() {
                if let Some(name) = cargo_bin_name(path, own_directory) {
                    bins.entry(name).or_default().push(FileRef {
                        repo: repo_index,
                        path,
                    });
                }
            }
        }
    }
    bins
}

/// The binary a path is (`…src/bin/NAME.rs`, or `…src/bin/NAME/main.rs` when
/// `own_directory`), where `src/bin` starts a path segment.
fn cargo_bin_name(path: &str, own_directory: bool) -> Option<&str> {
    let rest = if own_directory {
        path.strip_suffix("/main.rs")?
    } else {
        path.strip_suffix(".rs")?
    };
    let (dir, name) = rest.rsplit_once('/')?;
    let at_segment = dir == "src/bin" || dir.ends_with("/src/bin");
    at_segment.then_some(name)
}

/// A variable a file sets (`export X=...`, `environment:`, `Environment=`), with a literal name.
#[derive(Clone)]
struct EnvSet {
    scope: usize,
    line: u32,
    name: String,
    /// The value when it is a literal.
    value: Option<String>,
}

impl<'a> FileIndex<'a> {
    fn new(lookup: &Lookup<'a>) -> FileIndex<'a> {
        let mut by_name: HashMap<&'a str, Vec<FileRef<'a>>> = HashMap::new();
        let mut by_tail: Vec<HashMap<&'a str, Vec<FileRef<'a>>>> =
            vec![HashMap::new(); lookup.repos.len()];
        for (repo_index, repo) in lookup.repos.iter().enumerate() {
            for path in repo.files.keys() {
                let file = FileRef {
                    repo: repo_index,
                    path,
                };
                let name = path.rsplit('/').next().unwrap_or(path);
                by_name.entry(name).or_default().push(file);
                let tails = &mut by_tail[repo_index];
                tails.entry(path).or_default().push(file);
                for (i, _) in path.match_indices('/') {
                    tails.entry(&path[i + 1..]).or_default().push(file);
                }
            }
        }
        let mut index = FileIndex {
            by_name,
            by_tail,
            imports: HashMap::new(),
            programs: HashMap::new(),
            env_sets: lookup
                .repos
                .iter()
                .enumerate()
                .flat_map(|(repo, r)| r.files.keys().map(move |path| (repo, path.as_str())))
                .map(|key| (key, OnceLock::new()))
                .collect(),
            cargo_bins: cargo_bins(lookup),
            forks: lookup.forks(),
        };
        let mut programs: HashMap<&'a str, Vec<FileRef<'a>>> = HashMap::new();
        for (repo_index, repo) in lookup.repos.iter().enumerate() {
            for facts in repo.files.values() {
                for program in &facts.programs {
                    let files = match &program.target {
                        ProgramTarget::PythonModule { module } => {
                            index.module_files(repo_index, module)
                        }
                        ProgramTarget::File { path } => repo
                            .files
                            .get_key_value(path.as_str())
                            .map(|(p, _)| FileRef {
                                repo: repo_index,
                                path: p,
                            })
                            .into_iter()
                            .collect(),
                    };
                    let entry = programs.entry(program.name.as_str()).or_default();
                    for file in files {
                        if !entry.contains(&file) {
                            entry.push(file);
                        }
                    }
                }
            }
        }
        index.programs = programs;
        let mut imports = HashMap::new();
        for (repo_index, repo) in lookup.repos.iter().enumerate() {
            for (path, facts) in &repo.files {
                if !path.ends_with(".py") || facts.imports.is_empty() {
                    continue;
                }
                let file = FileRef {
                    repo: repo_index,
                    path,
                };
                let found = imported_modules(&index, file, facts);
                if !found.is_empty() {
                    imports.insert(file, found);
                }
            }
        }
        index.imports = imports;
        index
    }

    /// The variables `file` sets with a literal name, in the order of its accesses (see
    /// [`EnvSet`]). Evaluating once per file gives what evaluating per scope gave: an
    /// evaluation depends only on the world and the expression.
    ///
    /// Evaluated with a lookup of its own, not the asking file's: a lookup remembers the names
    /// its star imports did not give, so the first file to ask, whichever thread it is on, would
    /// otherwise leave its traces in every other file's answer.
    fn env_sets<'s>(&'s self, file: FileRef<'a>, facts: &'a FileFacts) -> Cow<'s, [EnvSet]> {
        let evaluate = || Self::evaluate_env_sets(&self.forks.lookup(), file, facts);
        match self.env_sets.get(&(file.repo, file.path)) {
            Some(slot) => Cow::Borrowed(slot.get_or_init(evaluate)),
            // Facts outside the world (none in the pipeline) are evaluated each time.
            None => Cow::Owned(evaluate().into_vec()),
        }
    }

    fn evaluate_env_sets(
        lookup: &Lookup<'a>,
        file: FileRef<'a>,
        facts: &'a FileFacts,
    ) -> Box<[EnvSet]> {
        let empty = BTreeMap::new();
        let mut evaluator = Evaluator::new(lookup, &empty);
        let mut sets = Vec::new();
        for access in &facts.accesses {
            if access.mode != Mode::Set {
                continue;
            }
            let RawResource::Env(target) = &access.resource else {
                continue;
            };
            let Some(name) = literal_value(&evaluator.eval(file, &target.name)) else {
                continue;
            };
            let value = target
                .value
                .as_ref()
                .and_then(|value| literal_value(&evaluator.eval(file, value)));
            sets.push(EnvSet {
                scope: access.scope,
                line: access.line,
                name,
                value,
            });
        }
        sets.into_boxed_slice()
    }

    /// The files of repository `repo` whose path is `tail` or ends with `/tail`.
    fn with_tail(&self, repo: usize, tail: &str) -> &[FileRef<'a>] {
        self.by_tail
            .get(repo)
            .and_then(|tails| tails.get(tail))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The modules `file` imports (see [`imported_modules`]).
    fn imports_of(&self, file: FileRef<'a>) -> &[FileRef<'a>] {
        self.imports
            .get(&file)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The files of a Python module in one repository, wherever its package root is
    /// (`crm.sync` is `crm/sync.py` or `src/crm/sync.py`, or a package's `__main__`/`__init__`).
    fn module_files(&self, repo: usize, module: &str) -> Vec<FileRef<'a>> {
        let rel = module.replace('.', "/");
        let mut out = Vec::new();
        for ending in [".py", "/__main__.py", "/__init__.py"] {
            for candidate in self.with_tail(repo, &[rel.as_str(), ending].concat()) {
                if !out.contains(candidate) {
                    out.push(*candidate);
                }
            }
        }
        out
    }

    /// The code a program name runs: what a manifest declares under that name, and a Cargo
    /// package's `src/bin/NAME.rs` / `src/bin/NAME/main.rs`. Program names are command words
    /// (no `/`: see `is_program_name` in the shell extractor), so the binaries are found by
    /// name ([`cargo_bins`]).
    fn program(&self, name: &str) -> Vec<FileRef<'a>> {
        let mut out: Vec<FileRef<'a>> = self.programs.get(name).cloned().unwrap_or_default();
        for candidate in self.cargo_bins.get(name).into_iter().flatten() {
            if !out.contains(candidate) {
                out.push(*candidate);
            }
        }
        out
    }

    /// The code an image runs by its own entry point: what the `ENTRYPOINT`/`CMD` of the
    /// repository's Dockerfile that builds it run. The Dockerfile is the one in the compose
    /// `build:` context, else the one whose directory is named like the image (`jitsi/web` ->
    /// `web/Dockerfile`), else the root one when the repository is named for the image
    /// (`docker-zulip`, `zulip-docker` for `quay.io/org/zulip:1.3`). An image built elsewhere
    /// reaches nothing.
    fn image(
        &self,
        lookup: &Lookup<'a>,
        file: FileRef<'a>,
        image: Option<&str>,
        build: Option<&str>,
        env: &BTreeMap<String, String>,
    ) -> Vec<FileRef<'a>> {
        let name = image.map(|i| {
            let last = i.rsplit('/').next().unwrap_or(i);
            last.split(['@', ':']).next().unwrap_or(last).to_lowercase()
        });
        let repo_name = lookup
            .repos
            .get(file.repo)
            .map(|r| r.name.as_str())
            .unwrap_or("")
            .trim_start_matches("docker-")
            .trim_end_matches("-docker")
            .to_lowercase();
        let builds = |dockerfile: &FileRef<'a>| -> bool {
            if dockerfile.repo != file.repo {
                return false;
            }
            let dir = dockerfile
                .path
                .rsplit_once('/')
                .map(|(d, _)| d)
                .unwrap_or("");
            if let Some(context) = build {
                return dir == context.trim_start_matches("./")
                    || (context == "." && dir.is_empty());
            }
            let Some(name) = &name else { return false };
            let dir_name = dir.rsplit('/').next().unwrap_or(dir).to_lowercase();
            (!dir.is_empty() && dir_name == *name) || (dir.is_empty() && repo_name == *name)
        };
        let mut out: Vec<FileRef<'a>> = Vec::new();
        for dockerfile in self.by_name.get("Dockerfile").into_iter().flatten() {
            if !builds(dockerfile) {
                continue;
            }
            let Some(facts) = lookup.facts(*dockerfile) else {
                continue;
            };
            for run in &facts.runs {
                let unit = facts.unit_name(run.scope);
                let starts = unit.ends_with("ENTRYPOINT") || unit.ends_with("CMD");
                if !starts || matches!(run.target, RunTarget::Image { .. }) {
                    continue;
                }
                for target in self.targets(lookup, *dockerfile, &run.target, env) {
                    if !out.contains(&target) {
                        out.push(target);
                    }
                }
            }
        }
        out
    }

    /// Repository files a run target names: the longest matching path suffix (at least two
    /// segments, or the whole repository path), or a unit file by name.
    fn targets(
        &self,
        lookup: &Lookup<'a>,
        file: FileRef<'a>,
        target: &'a RunTarget,
        env: &BTreeMap<String, String>,
    ) -> Vec<FileRef<'a>> {
        self.targets_with(&mut Evaluator::new(lookup, env), file, target)
    }

    /// [`FileIndex::targets`] through a given evaluator: the runs of one scope share its
    /// environment, and an evaluator remembers the values of the names it met (a script's
    /// `$DIR` is followed once for all the scripts it runs, not once per run; see
    /// `eval::Memo` for why a remembered value is the value evaluating again would give).
    fn targets_with(
        &self,
        evaluator: &mut Evaluator<'a, '_>,
        file: FileRef<'a>,
        target: &'a RunTarget,
    ) -> Vec<FileRef<'a>> {
        let (lookup, env) = (evaluator.lookup, evaluator.env);
        let tails: Vec<String> = match target {
            RunTarget::Path { expr } => {
                let values = evaluator.eval(file, expr);
                // A command in a container names the repository's file through a volume or a
                // COPY: `/app/bin/x.sh` -> `deploy/bin/x.sh`.
                let mappings = lookup
                    .facts(file)
                    .map(|f| super::volumes::mappings(f, file.path))
                    .unwrap_or_default();
                let mut tails: Vec<String> = values.iter().filter_map(literal_tail).collect();
                for value in &values {
                    if let Some(Piece::Lit(text)) = value.first()
                        && value.len() == 1
                        && let Some(outside) = super::volumes::translate(text, &mappings)
                        && !outside.starts_with('/')
                    {
                        let exact: Vec<FileRef<'a>> = self
                            .by_name
                            .get(outside.rsplit('/').next().unwrap_or(&outside))
                            .into_iter()
                            .flatten()
                            .filter(|f| f.repo == file.repo && f.path == outside)
                            .copied()
                            .collect();
                        if !exact.is_empty() {
                            return exact;
                        }
                    }
                }
                tails.dedup();
                // `/usr/local/bin/backup.sh` that a repository installs there.
                let mut installed: Vec<FileRef<'a>> = Vec::new();
                for value in &values {
                    if let [Piece::Lit(text)] = value.as_slice() {
                        for f in lookup.installs().at(text) {
                            if !installed.contains(f) {
                                installed.push(*f);
                            }
                        }
                    }
                }
                if !installed.is_empty() {
                    return installed;
                }
                let found = self.by_suffix(&tails);
                if !found.is_empty() {
                    return found;
                }
                // `/opt/crm/venv/bin/crm-sync`, `/usr/local/bin/spooler`: a declared program
                // installed under its name.
                let mut programs = Vec::new();
                for tail in &tails {
                    let name = tail.rsplit('/').next().unwrap_or(tail);
                    for file in self.program(name) {
                        if !programs.contains(&file) {
                            programs.push(file);
                        }
                    }
                }
                return programs;
            }
            RunTarget::PythonModule { module } => {
                let rel = module.replace('.', "/");
                vec![
                    format!("{rel}.py"),
                    format!("{rel}/__main__.py"),
                    format!("{rel}/__init__.py"),
                ]
            }
            RunTarget::Program { name } => return self.program(name),
            RunTarget::Image { image, build } => {
                return self.image(lookup, file, image.as_deref(), build.as_deref(), env);
            }
            RunTarget::Unit { name } => {
                let mut found: Vec<FileRef<'a>> =
                    self.by_name.get(name.as_str()).cloned().unwrap_or_default();
                // Prefer the unit of the same repository when there is one.
                if found.iter().any(|f| f.repo == file.repo) {
                    found.retain(|f| f.repo == file.repo);
                }
                return found;
            }
        };
        self.by_suffix(&tails)
    }

    /// The environment files an `env-file:` binding names: a relative path in the declaring
    /// file's repository, relative to its directory; an absolute path (`/etc/default/app`) by
    /// the longest path suffix in any repository.
    fn env_file(&self, lookup: &Lookup<'a>, file: FileRef<'a>, written: &str) -> Vec<FileRef<'a>> {
        if written.starts_with('/') {
            let installed = lookup.installs().at(written);
            if !installed.is_empty() {
                return installed.to_vec();
            }
            return self.by_suffix(&[written.to_string()]);
        }
        let dir = file.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let joined = if dir.is_empty() {
            normalize_literal_path(written)
        } else {
            normalize_literal_path(&format!("{dir}/{written}"))
        };
        let joined = joined.trim_start_matches("./");
        let Some(repo) = lookup.repos.get(file.repo) else {
            return Vec::new();
        };
        repo.files
            .get_key_value(joined)
            .map(|(p, _)| FileRef {
                repo: file.repo,
                path: p,
            })
            .into_iter()
            .collect()
    }

    /// Repository files whose path ends with one of `tails` (see [`Self::targets`]).
    fn by_suffix(&self, tails: &[String]) -> Vec<FileRef<'a>> {
        let mut best: Vec<FileRef<'a>> = Vec::new();
        let mut best_score = 0;
        for tail in tails {
            let tail_segments: Vec<&str> = tail
                .split('/')
                .filter(|s| !s.is_empty() && *s != ".")
                .collect();
            let Some(last) = tail_segments.last() else {
                continue;
            };
            for candidate in self.by_name.get(last).into_iter().flatten() {
                let segments: Vec<&str> = candidate.path.split('/').collect();
                let score = segments
                    .iter()
                    .rev()
                    .zip(tail_segments.iter().rev())
                    .take_while(|(a, b)| a == b)
                    .count();
                let accepted = score >= 2 || (score >= 1 && score == segments.len());
                if !accepted || score < best_score {
                    continue;
                }
                if score > best_score {
                    best.clear();
                    best_score = score;
                }
                if !best.contains(candidate) {
                    best.push(*candidate);
                }
            }
        }
        best
    }
}

/// The literal text after the last unknown piece of a value: what can be matched by suffix.
pub(super) fn literal_tail(value: &Value) -> Option<String> {
    let mut tail = String::new();
    for piece in value.iter().rev() {
        match piece {
            Piece::Lit(text) => tail.insert_str(0, text),
            _ => {
                // The tail must begin at a directory boundary to be matched by segments.
                let start = tail.find('/')?;
                return Some(tail[start..].to_string());
            }
        }
    }
    (!tail.is_empty()).then_some(tail)
}

/// Python modules of the same repository that a file imports.
fn imported_modules<'a>(
    files: &FileIndex<'a>,
    file: FileRef<'a>,
    facts: &FileFacts,
) -> Vec<FileRef<'a>> {
    let mut out = Vec::new();
    // One buffer for every candidate path: every import of every Python file of the world
    // asks for two or four, and building each with `format!` was a large part of the index.
    let mut suffix = String::new();
    let mut add_module = |module: &[&str], out: &mut Vec<FileRef<'a>>| {
        suffix.clear();
        for (i, part) in module.iter().enumerate() {
            if i > 0 {
                suffix.push('/');
            }
            suffix.extend(part.chars().map(|c| if c == '.' { '/' } else { c }));
        }
        let rel = suffix.len();
        for ending in [".py", "/__init__.py"] {
            suffix.truncate(rel);
            suffix.push_str(ending);
            out.extend_from_slice(files.with_tail(file.repo, &suffix));
        }
    };
    for import in &facts.imports {
        let module = import.module.as_str();
        if !module.is_empty() {
            add_module(&[module], &mut out);
        }
        match import.name.as_deref() {
            Some(name) if module.is_empty() && !name.is_empty() => add_module(&[name], &mut out),
            Some(name) if !module.is_empty() => add_module(&[module, name], &mut out),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The world of one repository, `ops`, of `files` (path and text), resolved.
    fn resolve_ops(files: &[(&str, &str)]) -> crate::resolve::Resolved {
        let repos = [crate::resolve::repo_of_texts("ops", files)];
        crate::resolve::resolve(&repos, &BTreeMap::new())
    }

    /// A script that launches a path only its inherited environment names: the launch is
    /// found in a later round than the one that gave the script its environment, so the
    /// script's edges must be built again then (and the job reaches what it launches).
    #[test]
    fn a_launch_named_by_an_inherited_variable_is_followed() {
        let files = [
            (
                "crontab",
                "SWEEPER=/opt/ops/bin/sweep.sh\n0 2 * * * root /opt/ops/bin/nightly.sh\n",
            ),
            ("bin/nightly.sh", "#!/bin/sh\n\"$SWEEPER\" --all\n"),
            ("bin/sweep.sh", "#!/bin/sh\nrm -rf /data/spool/*\n"),
            // Control: a script nothing launches gets no job.
            ("bin/idle.sh", "#!/bin/sh\nrm -rf /data/idle/*\n"),
        ];
        let resolved = resolve_ops(&files);
        let jobs_at = |path: &str| -> Vec<usize> {
            resolved
                .accesses
                .iter()
                .filter(|a| a.site.path == path)
                .flat_map(|a| a.jobs.iter().copied())
                .collect()
        };
        assert_eq!(jobs_at("bin/sweep.sh").len(), 1, "{:?}", resolved.accesses);
        assert!(jobs_at("bin/idle.sh").is_empty(), "{:?}", resolved.accesses);
    }

    /// A variable the first launcher passes without a literal value (`- TOKEN`, from the host)
    /// is still passed by every script down the chain: the launch two scripts down passes it.
    #[test]
    fn names_passed_without_values_reach_every_launch_down_the_chain() {
        let files = [
            (
                "docker-compose.yml",
                "services:\n  worker:\n    image: alpine\n    command: /opt/ops/bin/start.sh\n    environment:\n      - TOKEN\n",
            ),
            ("bin/start.sh", "#!/bin/sh\n/opt/ops/bin/middle.sh\n"),
            ("bin/middle.sh", "#!/bin/sh\n/opt/ops/bin/leaf.sh\n"),
            ("bin/leaf.sh", "#!/bin/sh\nrm -f \"/data/$TOKEN\"\n"),
            // Control: a chain of the same length that no launcher gives TOKEN.
            ("crontab", "0 2 * * * root /opt/ops/bin/nightly.sh\n"),
            ("bin/nightly.sh", "#!/bin/sh\n/opt/ops/bin/sweep.sh\n"),
            ("bin/sweep.sh", "#!/bin/sh\n/opt/ops/bin/tidy.sh\n"),
            ("bin/tidy.sh", "#!/bin/sh\nrm -f /data/old\n"),
        ];
        let resolved = resolve_ops(&files);
        let passes_from = |path: &str| -> Vec<String> {
            let launch = resolved.launches.iter().find(|l| l.site.path == path);
            launch.map(|l| l.passes.clone()).unwrap_or_default()
        };
        for path in ["docker-compose.yml", "bin/start.sh", "bin/middle.sh"] {
            assert!(
                passes_from(path).contains(&"TOKEN".to_string()),
                "{path}: {:?}",
                resolved.launches
            );
        }
        for path in ["crontab", "bin/nightly.sh", "bin/sweep.sh"] {
            assert!(
                resolved.launches.iter().any(|l| l.site.path == path),
                "{path} launches: {:?}",
                resolved.launches
            );
            assert!(!passes_from(path).contains(&"TOKEN".to_string()), "{path}");
        }
    }

    #[test]
    fn literal_tails() {
        assert_eq!(
            literal_tail(&vec![Piece::Lit("/opt/ops/bin/x.sh".into())]).as_deref(),
            Some("/opt/ops/bin/x.sh")
        );
        let with_hole = vec![Piece::Symbol("HOME".into()), Piece::Lit("/bin/x.sh".into())];
        assert_eq!(literal_tail(&with_hole).as_deref(), Some("/bin/x.sh"));
    }

    /// The names kept by binary are the names whose `src/bin/NAME.rs` or
    /// `src/bin/NAME/main.rs` path tail the file has, as the tail index matches them.
    #[test]
    fn cargo_binaries_by_name() {
        let single = |path| cargo_bin_name(path, false);
        let own_directory = |path| cargo_bin_name(path, true);
        assert_eq!(single("src/bin/sync.rs"), Some("sync"));
        assert_eq!(single("tools/crm/src/bin/sync.rs"), Some("sync"));
        assert_eq!(single("mysrc/bin/sync.rs"), None);
        assert_eq!(single("src/bin.rs"), None);
        assert_eq!(single("src/bin/sync/main.rs"), None);
        assert_eq!(single("src/bin/sync.py"), None);
        assert_eq!(own_directory("src/bin/sync/main.rs"), Some("sync"));
        assert_eq!(own_directory("crates/x/src/bin/sync/main.rs"), Some("sync"));
        assert_eq!(own_directory("src/bin/main.rs"), None);
        assert_eq!(own_directory("src/bin/a/b/main.rs"), None);
    }
}
