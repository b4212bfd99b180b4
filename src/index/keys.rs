//! Query keys: what an indexed repository may share with a change, as rows a database can look
//! up by equality or by prefix.
//!
//! Input: a repository's resolved accesses and its files' facts. Output: [`Key`]s of six kinds.
//! Resource keys (`path`, `env`, `secret`, `queue`) hold a name or path up to its first wildcard
//! or open value, lower-cased: two patterns can only share a path when one's literal prefix is a
//! prefix of the other's, so a prefix test over-approximates the algebra and never misses. Program
//! keys link repositories through what runs what, the way the resolver links them
//! (`resolve::jobs`): `file` keys are what a repository's files can be found by (the last one and
//! two path segments, unit names, declared programs), `run` keys what its launches look for.
//!
//! Invariant: when the resolver can link an access, a launch or a job of repository A to
//! repository B, a key of A matches a key of B (or one of the change's probes), so selecting by
//! keys and closing over `file`/`run` reaches every repository a finding can involve.

use crate::expr::Expr;
use crate::extract::{FileFacts, ProgramTarget, RawResource, RunTarget};
use crate::model::Mode;
use crate::resolve::{Access, Resolved, Resource, SendTarget};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What a key stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyKind {
    /// The literal prefix of a path pattern (or of an environment value that is a path).
    Path,
    /// An environment variable's name.
    Env,
    /// A secret manager id.
    Secret,
    /// A queue, topic, routing key, stream or task name.
    Queue,
    /// The start of a value a launcher sets (`TICKER_DIR=/data/ticker`, `QUEUE_NAME: jobs`),
    /// which the launched program may build a path, a queue or a secret id from. Matched by
    /// path, queue and secret probes; never a probe itself (a common value such as
    /// `SHELL=/bin/bash` would reach every launcher).
    Value,
    /// A program a deployment runs (`program:celery -A proj worker`, `image:myorg/worker`):
    /// deployments of the same program are compared with each other.
    Deploy,
    /// A name a launch can find one of the repository's files by.
    File,
    /// A name the repository's launches look for in other repositories.
    Run,
}

impl KeyKind {
    pub const ALL: [KeyKind; 8] = [
        KeyKind::Path,
        KeyKind::Env,
        KeyKind::Secret,
        KeyKind::Queue,
        KeyKind::Value,
        KeyKind::Deploy,
        KeyKind::File,
        KeyKind::Run,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Path => "path",
            KeyKind::Env => "env",
            KeyKind::Secret => "secret",
            KeyKind::Queue => "queue",
            KeyKind::Value => "value",
            KeyKind::Deploy => "deploy",
            KeyKind::File => "file",
            KeyKind::Run => "run",
        }
    }

    pub fn parse(text: &str) -> Option<KeyKind> {
        KeyKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Program keys match by equality only; resource keys by prefix either way.
    pub fn by_prefix(self) -> bool {
        !matches!(self, KeyKind::Deploy | KeyKind::File | KeyKind::Run)
    }
}

/// One key: `exact` when `key` is the whole name (no wildcard or open value after it).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub kind: KeyKind,
    pub key: String,
    pub exact: bool,
}

impl Key {
    pub fn new(kind: KeyKind, key: impl Into<String>, exact: bool) -> Key {
        Key {
            kind,
            key: key.into(),
            exact,
        }
    }

    /// Can a name with this key and a name with `other` be the same? (Same kind; equal, or the
    /// prefix of an inexact one starts the other.)
    pub fn matches(&self, other: &Key) -> bool {
        if self.kind != other.kind {
            return false;
        }
        if self.key == other.key {
            return true;
        }
        self.kind.by_prefix()
            && ((!self.exact && other.key.starts_with(&self.key))
                || (!other.exact && self.key.starts_with(&other.key)))
    }
}

/// The literal text of a pattern's or name's display up to its first wildcard or open value
/// (`${NAME}` symbols are literal), lower-cased; `exact` when nothing follows.
pub fn prefix_key(kind: KeyKind, display: &str, subtree: bool) -> Key {
    let mut end = display.len();
    let mut previous = '\0';
    for (at, c) in display.char_indices() {
        let open = matches!(c, '*' | '?' | '[' | '#') || (c == '{' && previous != '$');
        if open {
            end = at;
            break;
        }
        previous = c;
    }
    let exact = end == display.len() && !subtree;
    Key::new(kind, display[..end].to_lowercase(), exact)
}

/// The resource keys of one resolved access; none for what the resolver never links across
/// code (unanchored paths, fully unknown names).
pub fn access_keys(access: &Access) -> Vec<Key> {
    let names = |kind: KeyKind, set: &crate::resolve::NameSet| -> Vec<Key> {
        if !set.is_anchored() {
            return Vec::new();
        }
        set.patterns
            .iter()
            .map(|p| prefix_key(kind, p.base_display(), false))
            .chain(
                set.display
                    .split(", ")
                    .map(|shown| prefix_key(kind, shown, false)),
            )
            .collect()
    };
    match &access.resource {
        Resource::Path(set) => {
            if !set.is_anchored() {
                return Vec::new();
            }
            set.patterns
                .iter()
                .map(|p| prefix_key(KeyKind::Path, p.base_display(), p.is_subtree()))
                .collect()
        }
        Resource::Env(set) => names(KeyKind::Env, set),
        Resource::Secret { ids, .. } => names(KeyKind::Secret, ids),
        Resource::Queue(queue) => {
            let mut out = names(KeyKind::Queue, &queue.names);
            if let Some(bound) = &queue.bound_queue {
                out.extend(names(KeyKind::Queue, bound));
            }
            out
        }
    }
}

/// The keys of one repository in a resolved world: its accesses' resources, the pid files it
/// signals, the paths its environment settings name, and its program keys.
pub fn repo_keys(
    resolved: &Resolved,
    repo: &str,
    files: &BTreeMap<String, Arc<FileFacts>>,
    run_tails: &[String],
) -> BTreeSet<Key> {
    let mut out: BTreeSet<Key> = resolved
        .accesses
        .iter()
        .filter(|a| a.site.repo == repo)
        .flat_map(access_keys)
        .collect();
    for send in resolved.sends.iter().filter(|s| s.site.repo == repo) {
        if let SendTarget::Signal {
            pid_file: Some(set),
            ..
        } = &send.target
        {
            out.extend(
                set.patterns
                    .iter()
                    .map(|p| prefix_key(KeyKind::Path, p.base_display(), p.is_subtree())),
            );
        }
    }
    for deployed in resolved.deployments.iter().filter(|d| d.repo == repo) {
        out.extend(deploy_key(&deployed.fact));
    }
    for (path, facts) in files {
        out.extend(file_keys(path, facts));
    }
    out.extend(run_tails.iter().flat_map(|tail| tail_keys(tail)));
    out
}

/// The resource keys of what a change touches in `repo`: every access, signal target and
/// deployment in a changed file, and every access elsewhere whose resource resolves differently
/// at base and head (a changed setting that an unchanged script builds its paths from).
pub fn change_keys(
    base: &Resolved,
    head: &Resolved,
    repo: &str,
    changed_paths: &BTreeSet<String>,
) -> BTreeSet<Key> {
    let shown = |world: &Resolved| -> BTreeSet<(String, String, String)> {
        world
            .accesses
            .iter()
            .filter(|a| a.site.repo == repo)
            .map(|a| (a.site.path.clone(), a.mode.verb().to_string(), a.describe()))
            .collect()
    };
    let (at_base, at_head) = (shown(base), shown(head));
    let mut out = BTreeSet::new();
    for (world, other) in [(base, &at_head), (head, &at_base)] {
        for access in world.accesses.iter().filter(|a| a.site.repo == repo) {
            let moved = !other.contains(&(
                access.site.path.clone(),
                access.mode.verb().to_string(),
                access.describe(),
            ));
            if moved || changed_paths.contains(&access.site.path) {
                out.extend(access_keys(access));
            }
        }
        for send in world
            .sends
            .iter()
            .filter(|s| s.site.repo == repo && changed_paths.contains(&s.site.path))
        {
            if let SendTarget::Signal {
                pid_file: Some(set),
                ..
            } = &send.target
            {
                out.extend(
                    set.patterns
                        .iter()
                        .map(|p| prefix_key(KeyKind::Path, p.base_display(), p.is_subtree())),
                );
            }
        }
        for deployed in world
            .deployments
            .iter()
            .filter(|d| d.repo == repo && changed_paths.contains(&d.path))
        {
            out.extend(deploy_key(&deployed.fact));
        }
    }
    out
}

/// What identifies a deployment's program for comparing it with other deployments
/// (`DeploymentFact::same_program`: the same known command, or the same image run as built).
fn deploy_key(fact: &crate::extract::formats::deploy::DeploymentFact) -> Option<Key> {
    use crate::extract::formats::deploy::Program;
    match (&fact.program, &fact.image) {
        (Program::Known(program), _) => Some(Key::new(
            KeyKind::Deploy,
            format!("program:{program}"),
            true,
        )),
        (Program::ImageDefault, Some(image)) => {
            Some(Key::new(KeyKind::Deploy, format!("image:{image}"), true))
        }
        _ => None,
    }
}

/// What a file can be found by, and what it looks for, from its own facts.
fn file_keys(path: &str, facts: &FileFacts) -> Vec<Key> {
    let mut out = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    if let Some(last) = segments.last() {
        out.push(Key::new(KeyKind::File, *last, true));
        if segments.len() >= 2 {
            let two = segments[segments.len() - 2..].join("/");
            out.push(Key::new(KeyKind::File, two, true));
        }
        if last.rsplit_once('.').is_some_and(|(_, ext)| {
            matches!(
                ext,
                "service" | "timer" | "path" | "socket" | "target" | "mount"
            )
        }) {
            out.push(Key::new(KeyKind::File, format!("unit:{last}"), true));
        }
    }
    for program in &facts.programs {
        out.push(Key::new(
            KeyKind::File,
            format!("program:{}", program.name),
            true,
        ));
        if let ProgramTarget::PythonModule { module } = &program.target {
            out.extend(module_keys(KeyKind::File, module));
        }
    }
    for run in &facts.runs {
        match &run.target {
            RunTarget::Path { .. } | RunTarget::Image { .. } => {}
            RunTarget::PythonModule { module } => out.extend(module_keys(KeyKind::Run, module)),
            RunTarget::Unit { name } => {
                out.push(Key::new(KeyKind::Run, format!("unit:{name}"), true))
            }
            RunTarget::Program { name } => out.extend(program_keys(name)),
        }
    }
    // A setting (`TICKER_DIR=/data/ticker`, `QUEUE_NAME: jobs`) decides what the launched
    // program's paths and names are, wherever that program lives: its value starts them.
    for access in &facts.accesses {
        if let RawResource::Env(target) = &access.resource
            && access.mode == Mode::Set
            && let Some(value) = &target.value
            && let Some(text) = literal_start(value)
        {
            out.extend(value_keys(&text));
        }
    }
    for schedule in &facts.schedules {
        for (_, value) in &schedule.env {
            out.extend(value_keys(value));
        }
    }
    out
}

/// The keys of a value a launcher sets: the start of a path, a queue or a secret id that a
/// program may build from it.
fn value_keys(value: &str) -> Vec<Key> {
    if value.trim().is_empty() {
        return Vec::new();
    }
    vec![prefix_key(KeyKind::Value, value, true)]
}

/// The keys of a Python module's files (`a.b.c`: `b/c.py`, `c/__main__.py`, `c/__init__.py`),
/// as the resolver finds them by path suffix.
fn module_keys(kind: KeyKind, module: &str) -> Vec<Key> {
    let rel = module.replace('.', "/");
    ["{}.py", "{}/__main__.py", "{}/__init__.py"]
        .iter()
        .flat_map(|shape| tail_keys_of(kind, &shape.replace("{}", &rel)))
        .collect()
}

/// The keys a launch of a program by name looks for: a declared program, a Cargo binary.
fn program_keys(name: &str) -> Vec<Key> {
    vec![
        Key::new(KeyKind::Run, format!("program:{name}"), true),
        Key::new(KeyKind::Run, format!("bin/{name}.rs"), true),
        Key::new(KeyKind::Run, format!("{name}/main.rs"), true),
    ]
}

/// The `run` keys of a launched path's literal tail (`/opt/ops/bin/x.sh`: `bin/x.sh`;
/// `/x.sh` after an unknown directory: `x.sh`), its absolute path (a file another repository
/// installs there) and the program it may be installed as.
pub fn tail_keys(tail: &str) -> Vec<Key> {
    let mut out = tail_keys_of(KeyKind::Run, tail);
    let name = tail.rsplit('/').next().unwrap_or(tail);
    if !name.is_empty() {
        out.extend(program_keys(name));
    }
    if tail.starts_with('/') {
        out.push(Key::new(
            KeyKind::Run,
            format!("path:{}", tail.to_lowercase()),
            true,
        ));
    }
    out
}

fn tail_keys_of(kind: KeyKind, tail: &str) -> Vec<Key> {
    let segments: Vec<&str> = tail
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    match segments.as_slice() {
        [] => Vec::new(),
        [one] => vec![Key::new(kind, *one, true)],
        [.., a, b] => vec![Key::new(kind, format!("{a}/{b}"), true)],
    }
}

/// The literal text an expression starts with, when it starts with one.
fn literal_start(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit { text } => Some(text.to_string()),
        Expr::Concat { parts } | Expr::Join { parts } => {
            let first = literal_start(parts.first()?)?;
            (!first.is_empty()).then_some(first)
        }
        _ => None,
    }
}

/// The probes a set of keys sends to find its counterparts: resource keys look for the same
/// resources; `file` keys for launches that run them (`run`), `run` keys for the files they
/// run (`file`) and, for an absolute path, for what writes there (an install).
pub fn probes_of<'k>(keys: impl IntoIterator<Item = &'k Key>) -> BTreeSet<Key> {
    let mut out = BTreeSet::new();
    for key in keys {
        match key.kind {
            KeyKind::File => {
                out.insert(Key::new(KeyKind::Run, key.key.clone(), true));
            }
            KeyKind::Run => match key.key.strip_prefix("path:") {
                Some(path) => {
                    out.insert(Key::new(KeyKind::Path, path, true));
                }
                None => {
                    out.insert(Key::new(KeyKind::File, key.key.clone(), true));
                }
            },
            KeyKind::Value => {}
            KeyKind::Path | KeyKind::Queue | KeyKind::Secret => {
                out.insert(key.clone());
                out.insert(Key::new(KeyKind::Value, key.key.clone(), key.exact));
            }
            KeyKind::Env | KeyKind::Deploy => {
                out.insert(key.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_stop_at_the_first_wildcard_or_open_value() {
        let k = prefix_key(KeyKind::Path, "/data/ticker/ticker_*.csv", false);
        assert_eq!((k.key.as_str(), k.exact), ("/data/ticker/ticker_", false));
        let k = prefix_key(KeyKind::Path, "/data/ticker/{day}/{exchange}.csv", false);
        assert_eq!(k.key, "/data/ticker/");
        let k = prefix_key(KeyKind::Path, "${DATA_DIR}/x.csv", false);
        assert_eq!((k.key.as_str(), k.exact), ("${data_dir}/x.csv", true));
        let k = prefix_key(KeyKind::Path, "/srv/dumps", true);
        assert!(!k.exact, "a subtree names more than its base");
        let k = prefix_key(KeyKind::Queue, "orders.#", false);
        assert_eq!(k.key, "orders.");
    }

    #[test]
    fn keys_match_by_prefix_either_way_and_programs_by_equality() {
        let written = Key::new(KeyKind::Path, "/data/ticker/2026/nyse.csv", true);
        let cleaned = Key::new(KeyKind::Path, "/data/ticker/ticker_", false);
        let whole_dir = Key::new(KeyKind::Path, "/data/", false);
        assert!(!written.matches(&cleaned));
        assert!(written.matches(&whole_dir) && whole_dir.matches(&written));
        assert!(cleaned.matches(&whole_dir));
        let env = Key::new(KeyKind::Env, "/data/", false);
        assert!(!env.matches(&whole_dir), "kinds never mix");
        let run = Key::new(KeyKind::File, "bin/x.sh", true);
        assert!(!run.matches(&Key::new(KeyKind::File, "bin/x.sh.bak", true)));
    }

    #[test]
    fn launcher_values_are_found_by_resource_probes_but_probe_nothing() {
        let value = value_keys("/data/ticker").remove(0);
        let probes = probes_of([&Key::new(KeyKind::Path, "/data/ticker/ticker_", false)]);
        assert!(probes.iter().any(|p| p.matches(&value)));
        assert!(
            probes_of([&value]).is_empty(),
            "SHELL=/bin/bash would reach every launcher"
        );
    }

    #[test]
    fn launched_paths_look_for_their_last_two_segments_and_installs() {
        let keys: Vec<String> = tail_keys("/opt/ops/bin/cleanup.sh")
            .into_iter()
            .map(|k| k.key)
            .collect();
        assert!(keys.contains(&"bin/cleanup.sh".to_string()));
        assert!(keys.contains(&"path:/opt/ops/bin/cleanup.sh".to_string()));
        assert!(keys.contains(&"program:cleanup.sh".to_string()));
        let keys: Vec<String> = tail_keys("/cleanup.sh")
            .into_iter()
            .map(|k| k.key)
            .collect();
        assert!(keys.contains(&"cleanup.sh".to_string()));
    }
}
