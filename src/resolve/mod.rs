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

mod eval;
mod lookup;
pub mod names;
pub mod paths;

use crate::extract::{FileFacts, RawResource, Reach, RunTarget, ScopeKind};
use crate::model::{Mode, ResourceKind, Schedule, Site};
use eval::{Evaluator, Value};
use lookup::{FileRef, Lookup};
pub use names::{NameSet, QueueSet};
pub use paths::PathSet;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// One repository's extracted facts.
#[derive(Clone, Debug)]
pub struct RepoFacts {
    pub name: String,
    pub files: BTreeMap<String, Arc<FileFacts>>,
}

/// Index of a job in [`Resolved::jobs`].
pub type JobId = usize;

/// A schedule and where it is declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub schedule: Schedule,
    pub declared_at: Site,
    pub command: String,
    pub env: Vec<(String, String)>,
}

/// A resolved resource.
#[derive(Clone, Debug)]
pub enum Resource {
    Path(PathSet),
    /// An environment variable (a credential or configuration value).
    Env(NameSet),
    /// A secret in a secret manager.
    Secret {
        provider: String,
        ids: NameSet,
    },
    Queue(QueueSet),
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
#[derive(Clone, Debug)]
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
}

impl Access {
    /// "deletes /data/ticker/ticker_*.csv (depth 1, modified more than 3 days ago)".
    pub fn describe(&self) -> String {
        let mut text = format!("{} {}", self.mode.verb(), self.resource.display());
        if !self.qualifiers.is_empty() {
            text.push_str(&format!(" ({})", self.qualifiers.join(", ")));
        }
        text
    }
}

/// A file the extractors could not fully read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub site: Site,
    pub message: String,
}

/// Every access of every repository, with jobs.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    pub accesses: Vec<Access>,
    pub jobs: Vec<Job>,
    pub warnings: Vec<Warning>,
}

/// Resolves every access of `repos`. `env` holds variables the user bound (configuration); they
/// take precedence over the environments of jobs.
pub fn resolve(repos: &[RepoFacts], env: &BTreeMap<String, String>) -> Resolved {
    let lookup = Lookup::new(repos);
    let mut resolved = Resolved::default();
    let linked = link_jobs(&lookup, env, &mut resolved.jobs);
    for (repo_index, repo) in repos.iter().enumerate() {
        for (path, facts) in &repo.files {
            let file = FileRef {
                repo: repo_index,
                path,
            };
            let file_env = linked.env.get(&(repo_index, path.as_str()));
            let file_jobs = linked.jobs.get(&(repo_index, path.as_str()));
            for warning in &facts.warnings {
                resolved.warnings.push(Warning {
                    site: Site {
                        repo: repo.name.clone(),
                        path: path.clone(),
                        line: warning.line,
                    },
                    message: warning.message.clone(),
                });
            }
            for raw in &facts.accesses {
                let mut full_env = file_env.cloned().unwrap_or_default();
                let mut jobs: BTreeSet<JobId> = file_jobs.cloned().unwrap_or_default();
                if let Some(job) = cron_job_of(facts, raw.scope, &linked.scope_jobs, file) {
                    jobs.insert(job);
                    for (k, v) in &resolved.jobs[job].env {
                        full_env.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                for (k, v) in env {
                    full_env.insert(k.clone(), v.clone());
                }
                let mut evaluator = Evaluator::new(&lookup, &full_env);
                let (resource, qualifiers) = match &raw.resource {
                    RawResource::Path(target) => {
                        let (set, mut qualifiers) = resolve_path(&mut evaluator, file, target);
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
                        (
                            Resource::Env(NameSet::from_values(&names, false)),
                            Vec::new(),
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
                            Resource::Queue(QueueSet {
                                broker: target.broker,
                                role: target.role,
                                names: NameSet::from_values(&queue_names, dotted),
                                exchange,
                                bound_queue,
                                fields: target.fields.clone(),
                            }),
                            Vec::new(),
                        )
                    }
                };
                if is_pseudo_file(&resource) {
                    continue;
                }
                resolved.accesses.push(Access {
                    resource,
                    mode: raw.mode,
                    site: Site {
                        repo: repo.name.clone(),
                        path: path.clone(),
                        line: raw.line,
                    },
                    unit: unit_name(facts, raw.scope, path),
                    via: raw.via.clone(),
                    qualifiers,
                    notes: evaluator.notes,
                    jobs: jobs.into_iter().collect(),
                });
            }
        }
    }
    resolved
}

fn resolve_path<'a>(
    evaluator: &mut Evaluator<'a, '_>,
    file: FileRef<'a>,
    target: &'a crate::extract::PathTarget,
) -> (PathSet, Vec<String>) {
    let values = evaluator.eval(file, &target.expr);
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

/// The display name of the unit performing an access.
fn unit_name(facts: &FileFacts, scope: usize, path: &str) -> String {
    let Some(s) = facts.scopes.get(scope) else {
        return path.to_string();
    };
    if scope == 0 {
        return match s.kind {
            ScopeKind::Module if !s.name.is_empty() => s.name.clone(),
            _ => path.to_string(),
        };
    }
    let name = facts.unit_name(scope);
    match facts.scopes.first() {
        Some(root) if root.kind == ScopeKind::Module && !root.name.is_empty() => {
            format!("{}.{name}", root.name)
        }
        _ if s.kind == ScopeKind::CronEntry => format!("{path}:{}", s.line),
        _ => format!("{path}:{name}"),
    }
}

/// The job of the crontab entry enclosing `scope`, if any.
fn cron_job_of(
    facts: &FileFacts,
    scope: usize,
    scope_jobs: &BTreeMap<(usize, String, usize), JobId>,
    file: FileRef<'_>,
) -> Option<JobId> {
    let mut current = Some(scope);
    while let Some(s) = current {
        if let Some(job) = scope_jobs.get(&(file.repo, file.path.to_string(), s)) {
            return Some(*job);
        }
        current = facts.scopes.get(s).and_then(|sc| sc.parent);
    }
    None
}

struct LinkedJobs<'a> {
    /// Jobs that run each file.
    jobs: BTreeMap<(usize, &'a str), BTreeSet<JobId>>,
    /// The environment each file runs with (from the jobs that run it).
    env: BTreeMap<(usize, &'a str), BTreeMap<String, String>>,
    /// The job of each crontab-entry scope.
    scope_jobs: BTreeMap<(usize, String, usize), JobId>,
}

fn link_jobs<'a>(
    lookup: &Lookup<'a>,
    user_env: &BTreeMap<String, String>,
    jobs: &mut Vec<Job>,
) -> LinkedJobs<'a> {
    let mut linked = LinkedJobs {
        jobs: BTreeMap::new(),
        env: BTreeMap::new(),
        scope_jobs: BTreeMap::new(),
    };
    let mut queue: VecDeque<(FileRef<'a>, JobId)> = VecDeque::new();
    for (repo_index, repo) in lookup.repos.iter().enumerate() {
        for (path, facts) in &repo.files {
            let file = FileRef {
                repo: repo_index,
                path,
            };
            for schedule in &facts.schedules {
                let id = jobs.len();
                jobs.push(Job {
                    schedule: Schedule {
                        expression: schedule.expression.clone(),
                        description: schedule.description.clone(),
                    },
                    declared_at: Site {
                        repo: repo.name.clone(),
                        path: path.clone(),
                        line: schedule.line,
                    },
                    command: schedule.command.clone(),
                    env: schedule.env.clone(),
                });
                linked
                    .scope_jobs
                    .insert((repo_index, path.clone(), schedule.scope), id);
                let mut env: BTreeMap<String, String> = schedule.env.iter().cloned().collect();
                env.extend(user_env.iter().map(|(k, v)| (k.clone(), v.clone())));
                for run in facts
                    .runs
                    .iter()
                    .filter(|r| in_scope(facts, r.scope, schedule.scope))
                {
                    for target in run_targets(lookup, file, &run.target, &env) {
                        queue.push_back((target, id));
                    }
                }
            }
        }
    }
    while let Some((file, job)) = queue.pop_front() {
        let entry = linked.jobs.entry((file.repo, file.path)).or_default();
        if !entry.insert(job) {
            continue;
        }
        let file_env = linked.env.entry((file.repo, file.path)).or_default();
        for (k, v) in &jobs[job].env {
            file_env.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let mut env = file_env.clone();
        env.extend(user_env.iter().map(|(k, v)| (k.clone(), v.clone())));
        let Some(facts) = lookup.facts(file) else {
            continue;
        };
        for run in &facts.runs {
            for target in run_targets(lookup, file, &run.target, &env) {
                queue.push_back((target, job));
            }
        }
        if file.path.ends_with(".py") {
            for target in imported_modules(lookup, file, facts) {
                queue.push_back((target, job));
            }
        }
    }
    linked
}

fn in_scope(facts: &FileFacts, scope: usize, ancestor: usize) -> bool {
    let mut current = Some(scope);
    while let Some(s) = current {
        if s == ancestor {
            return true;
        }
        current = facts.scopes.get(s).and_then(|sc| sc.parent);
    }
    false
}

/// Repository files a run target names, by the longest matching path suffix.
fn run_targets<'a>(
    lookup: &Lookup<'a>,
    file: FileRef<'a>,
    target: &'a RunTarget,
    env: &BTreeMap<String, String>,
) -> Vec<FileRef<'a>> {
    let tails: Vec<String> = match target {
        RunTarget::Path { expr } => {
            let mut evaluator = Evaluator::new(lookup, env);
            evaluator
                .eval(file, expr)
                .iter()
                .filter_map(literal_tail)
                .collect()
        }
        RunTarget::PythonModule { module } => {
            let rel = module.replace('.', "/");
            vec![format!("{rel}.py"), format!("{rel}/__main__.py")]
        }
        // Linking a systemd unit name to its unit file is not done yet.
        RunTarget::Unit { .. } => Vec::new(),
    };
    let mut best: Vec<FileRef<'a>> = Vec::new();
    let mut best_score = 0;
    for tail in &tails {
        let tail_segments: Vec<&str> = tail
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        if tail_segments.is_empty() {
            continue;
        }
        for (repo_index, repo) in lookup.repos.iter().enumerate() {
            for path in repo.files.keys() {
                let segments: Vec<&str> = path.split('/').collect();
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
                best.push(FileRef {
                    repo: repo_index,
                    path,
                });
            }
        }
    }
    best
}

/// The literal text after the last unknown piece of a value: what can be matched by suffix.
fn literal_tail(value: &Value) -> Option<String> {
    let mut tail = String::new();
    for piece in value.iter().rev() {
        match piece {
            crate::pattern::Piece::Lit(text) => tail.insert_str(0, text),
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
    lookup: &Lookup<'a>,
    file: FileRef<'a>,
    facts: &FileFacts,
) -> Vec<FileRef<'a>> {
    let Some(repo) = lookup.repos.get(file.repo) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for import in &facts.imports {
        let mut modules = vec![import.module.clone()];
        if let Some(name) = &import.name {
            modules.push(if import.module.is_empty() {
                name.clone()
            } else {
                format!("{}.{name}", import.module)
            });
        }
        for module in modules {
            if module.is_empty() {
                continue;
            }
            let rel = module.replace('.', "/");
            for candidate in [format!("{rel}.py"), format!("{rel}/__init__.py")] {
                for path in repo.files.keys() {
                    if path == &candidate || path.ends_with(&format!("/{candidate}")) {
                        out.push(FileRef {
                            repo: file.repo,
                            path,
                        });
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::Piece;

    #[test]
    fn literal_tails() {
        assert_eq!(
            literal_tail(&vec![Piece::Lit("/opt/ops/bin/x.sh".into())]).as_deref(),
            Some("/opt/ops/bin/x.sh")
        );
        let with_hole = vec![Piece::Symbol("HOME".into()), Piece::Lit("/bin/x.sh".into())];
        assert_eq!(literal_tail(&with_hole).as_deref(), Some("/bin/x.sh"));
    }
}
