//! Extract: one source file -> [`FileFacts`].
//!
//! Input: a file's repository-relative path, its bytes, and the API models of `rules/models/`.
//! Output: the accesses the file performs (as unresolved [`Expr`]s with a mode and a line), the
//! names it binds, what it imports, the scripts it runs and the schedules it declares.
//!
//! Invariants: extraction is a pure function of (path, content, models), so it runs in parallel
//! and is cached by blob id; it never fails — a file that does not parse yields the facts of the
//! parts that did and a warning; lines are 1-based lines of this file. Its work is bounded: each
//! extractor walks within a per-file [`Budget`] of steps (a file that exhausts it keeps what was
//! found and gets one warning saying where reading stopped), and every recorded expression is
//! bounded in size ([`Expr::bounded`]), so no file can stall the stages after it.

pub mod bash;
#[cfg(test)]
mod budget_tests;
pub mod call_list;
pub mod cron;
mod field;
pub(crate) use field::FieldExt;
pub mod formats;
mod packed;
pub use call_list::CallList;
pub use packed::{Packed, Unpack};
pub mod python;
pub mod rust;
pub mod tree_memory;

use crate::expr::{Expr, ScopeId, Text};
use crate::model::Mode;
use crate::rules::models::Models;
use serde::{Deserialize, Serialize};

/// The languages and formats knockon reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    Bash,
    Rust,
    Crontab,
    /// Deployment, service and configuration formats (`extract/formats/`).
    Config(formats::ConfigFormat),
}

impl Language {
    /// Chooses the extractor for a file from its path and its content: a template is read as
    /// what it renders to; a script's shebang (`#!/bin/sh`, `#!/usr/bin/env python3`) names its
    /// language whatever the file is called (an init script named `x.service`, a `.cgi`, a
    /// script without an extension); then the extension, then the configuration formats.
    /// `None` for files knockon does not read.
    pub fn detect(path: &str, content: &[u8]) -> Option<Language> {
        // `x.sh.j2`, `cron.d/backup.erb`: templates are analysed as what they render to.
        if let Some(format) = formats::detect_template(path, content) {
            return Some(Language::Config(format));
        }
        Language::detect_plain(path, content)
    }

    /// [`Language::detect`] for a file known not to be a template (a template's rendered text).
    pub fn detect_plain(path: &str, content: &[u8]) -> Option<Language> {
        if let Some(language) = shebang_language(content) {
            return Some(language);
        }
        let file_name = path.rsplit('/').next().unwrap_or(path);
        let ext = file_name.rsplit_once('.').map(|(_, e)| e);
        match ext {
            Some("py") | Some("pyw") => return Some(Language::Python),
            Some("sh") | Some("bash") | Some("ksh") | Some("zsh") => return Some(Language::Bash),
            Some("rs") => return Some(Language::Rust),
            Some("cron") | Some("crontab") => return Some(Language::Crontab),
            _ => {}
        }
        if cron::looks_like_cron_path(path) {
            return Some(Language::Crontab);
        }
        if cron::looks_like_crontab(path, content) {
            return Some(Language::Crontab);
        }
        formats::detect_plain(path, content).map(Language::Config)
    }
}

/// The language a shebang line names: the shells (`sh`, `bash`, `dash`, `ksh`, `zsh`, `ash`)
/// and Python (`python`, `python3.11`, `pypy3`), also through a launcher that runs the
/// interpreter named after it (`/usr/bin/env -S bash -e`, `/command/with-contenv bash`,
/// `/bin/busybox sh`). `None` without a shebang (a Rust `#![attr]` is none) or for other
/// interpreters, whose files are then judged by their name.
fn shebang_language(content: &[u8]) -> Option<Language> {
    const SHELLS: &[&str] = &[
        "sh", "bash", "dash", "ash", "ksh", "mksh", "pdksh", "zsh", "bashio",
    ];
    let rest = content.strip_prefix(b"#!")?;
    let first_line = rest.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let first_line = String::from_utf8_lossy(&first_line[..first_line.len().min(512)]);
    let line = first_line.trim();
    if !line.starts_with('/') {
        return None;
    }
    line.split_whitespace()
        .filter(|w| !w.starts_with('-') && !w.contains('='))
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .find_map(|program| {
            if SHELLS.contains(&program) {
                return Some(Language::Bash);
            }
            let python = program
                .strip_prefix("python")
                .or_else(|| program.strip_prefix("pypy"))
                .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'));
            python.then_some(Language::Python)
        })
}

/// Everything knockon learns from one file, before resolution.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileFacts {
    /// Scope 0 is the file (module, script); functions, classes and cron entries follow.
    pub scopes: Vec<Scope>,
    /// Packed once the file is extracted, as a whole list: a check whose context's answers are
    /// taken from its base reads the bindings of only the few context files its linking looks
    /// names up in, and a quarter of a warm check's decoding was every other file's bindings.
    pub bindings: Packed<Vec<Binding>>,
    pub imports: Vec<Import>,
    pub accesses: Vec<RawAccess>,
    /// Programs and scripts this file starts, so a schedule reaches the code it runs.
    pub runs: Vec<RunRef>,
    /// Schedules declared in this file (crontab entries), by index from [`Scope::job`].
    pub schedules: Vec<ScheduleFact>,
    /// What could not be read, so the report can say so.
    pub warnings: Vec<ExtractWarning>,
    /// How units of this file can be made to act (signal handlers, routes, watched files,
    /// in-code schedules, loops).
    pub triggers: Vec<TriggerFact>,
    /// Signals sent and HTTP requests made, to make another program act.
    pub sends: Vec<SendFact>,
    /// Calls of functions by name, held encoded when read from the cache (see [`CallList`]).
    pub calls: CallList,
    /// The parameters of each function that has some, so that a call's arguments can be bound
    /// to them: a path passed as `dump(conn, "/srv/dumps")` is the callee's `out_dir`.
    #[serde(default, skip_serializing_if = "crate::store::codec::omit_empty")]
    pub params: Vec<FunctionParams>,
    /// Programs this file declares (a package manifest's console scripts and binaries).
    #[serde(default, skip_serializing_if = "crate::store::codec::omit_empty")]
    pub programs: Vec<ProgramFact>,
    /// How this file launches programs (compose services, Kubernetes containers, systemd
    /// services, crontab entries), for comparing deployments of the same program.
    #[serde(default, skip_serializing_if = "crate::store::codec::omit_empty")]
    pub deployments: Vec<formats::deploy::DeploymentFact>,
    /// Whether a binding maps a container path (`volume:`, see [`formats`]): linking reads
    /// those of every file that has some, and these alone, so that the other files' bindings
    /// stay packed. Set by [`FileFacts::settle`].
    #[serde(default, skip_serializing_if = "crate::store::codec::omit_false")]
    pub maps_paths: bool,
}

/// The positional parameters of a function, in order; `self`/`cls` of a method left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionParams {
    pub scope: ScopeId,
    pub names: Vec<Text>,
    /// Shell functions take `$1`…`$9`: parameter `i` is the `i+1`th word of the call.
    pub positional_only: bool,
    /// Parameters passed only by name (Python's after `*` or `*args`).
    #[serde(default, skip_serializing_if = "crate::store::codec::omit_empty")]
    pub keyword_only: Vec<Text>,
}

impl FileFacts {
    /// Whether a binding may map a container path: known once the facts are settled, and
    /// assumed of facts still being built.
    pub fn may_map_paths(&self) -> bool {
        self.maps_paths || self.bindings.is_open()
    }

    /// The parameter list of a function scope.
    pub fn params_of(&self, scope: ScopeId) -> Option<&FunctionParams> {
        self.params.iter().find(|p| p.scope == scope)
    }
}

/// One argument of a call: by position (`keyword` none) or by name (`out_dir=...`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallArg {
    #[serde(default, skip_serializing_if = "crate::store::codec::omit_none")]
    pub keyword: Option<Text>,
    pub value: Expr,
}

impl FileFacts {
    /// Facts with the file scope in place, which every extractor starts from.
    pub fn new(file_scope_name: impl Into<String>, kind: ScopeKind) -> FileFacts {
        FileFacts {
            scopes: vec![Scope {
                parent: None,
                kind,
                name: file_scope_name.into().into(),
                class: None,
                job: None,
                line: 1,
            }],
            ..FileFacts::default()
        }
    }

    /// Makes the facts as small as a world can hold them until it is resolved: gives back the
    /// room the lists grew into while the file was walked (doubling growth leaves a quarter
    /// unused), and packs the binding values and call arguments, which resolution reads only
    /// for the few names it looks up and the few calls whose callee's parameters it binds.
    pub fn settle(&mut self) {
        self.scopes.shrink_to_fit();
        self.bindings.shrink_to_fit();
        for binding in self.bindings.iter_mut() {
            binding.value.pack();
        }
        self.maps_paths = self
            .bindings
            .iter()
            .any(|b| b.name.starts_with(formats::VOLUME_PREFIX));
        self.bindings.pack();
        self.imports.shrink_to_fit();
        self.accesses.shrink_to_fit();
        self.runs.shrink_to_fit();
        self.schedules.shrink_to_fit();
        self.warnings.shrink_to_fit();
        self.triggers.shrink_to_fit();
        self.sends.shrink_to_fit();
        self.calls.shrink_to_fit();
        for call in &mut self.calls {
            call.args.shrink_to_fit();
            call.args.pack();
        }
        self.params.shrink_to_fit();
        self.programs.shrink_to_fit();
        self.deployments.shrink_to_fit();
    }

    /// Adds a scope and returns its id.
    pub fn push_scope(&mut self, scope: Scope) -> ScopeId {
        self.scopes.push(scope);
        self.scopes.len() - 1
    }

    /// The dotted name of a scope for reports: `loader.write.write_day` style, file scope first.
    pub fn unit_name(&self, scope: ScopeId) -> String {
        let mut name = String::new();
        self.push_unit_name(scope, &mut name);
        name
    }

    /// [`FileFacts::unit_name`] appended to `out`: a caller that puts the module's name
    /// before it builds one string instead of two (the callers index names every function).
    pub fn push_unit_name(&self, scope: ScopeId, out: &mut String) {
        let mut names: Vec<&str> = Vec::new();
        let mut current = Some(scope);
        while let Some(id) = current {
            let Some(s) = self.scopes.get(id) else { break };
            if id != 0 {
                names.push(&s.name);
            }
            current = s.parent;
        }
        for (i, name) in names.iter().rev().enumerate() {
            if i > 0 {
                out.push('.');
            }
            out.push_str(name);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScopeKind {
    Module,
    Script,
    Function,
    Class,
    /// One crontab entry: its command runs under the entry's schedule.
    CronEntry,
}

/// A region where names are bound: the file, a function, a class, a crontab entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// The enclosing scope for name lookup (a function's module, a nested function's function).
    pub parent: Option<ScopeId>,
    pub kind: ScopeKind,
    pub name: Text,
    /// For a method, the class scope where `self.x = ...` bindings are recorded.
    pub class: Option<ScopeId>,
    /// For a crontab entry, its index in [`FileFacts::schedules`].
    pub job: Option<usize>,
    /// Where the scope starts (a `def`, a crontab line).
    pub line: u32,
}

/// `name = value` in a scope, at a line. Shell variables, Python assignments (including
/// `self.x`, recorded in the class scope), constants, `let` bindings and function-parameter
/// defaults all become bindings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub scope: ScopeId,
    pub name: Text,
    /// Packed once the file is extracted: most values are never evaluated.
    pub value: Packed<Expr>,
    pub line: u32,
}

/// `from module import name as local` (name = Some) or `import module as local` (name = None).
/// `level` counts the leading dots of a relative import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    pub scope: ScopeId,
    pub local: Text,
    pub module: Text,
    pub name: Option<Text>,
    pub level: u32,
    pub line: u32,
}

/// One access to a shared resource, as the source spells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawAccess {
    pub resource: RawResource,
    pub mode: Mode,
    /// 1-based line of the statement, command or entry that performs the access.
    pub line: u32,
    /// The scope (function, script, crontab entry) performing the access.
    pub scope: ScopeId,
    /// The model that recognised it, for the explanation: `os.remove`, `find -delete`, `>`.
    pub via: Text,
}

/// The resource an access names, before resolution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RawResource {
    /// A file or directory (also a secret file: the resolver decides what is a credential).
    Path(PathTarget),
    /// An environment variable: read by a program, or set for one by a deployment file, a
    /// crontab `VAR=` line, `export`, a `.env` file.
    Env(EnvTarget),
    /// A secret in a secret manager (AWS Secrets Manager, GCP Secret Manager, Vault, ...).
    Secret(SecretTarget),
    /// A queue, topic, stream, list or task name of a message broker.
    Queue(QueueTarget),
}

impl RawResource {
    pub fn as_path(&self) -> Option<&PathTarget> {
        match self {
            RawResource::Path(target) => Some(target),
            _ => None,
        }
    }
}

/// An environment variable access. Modes: `read` (a program reads it), `check` (tests whether
/// it is set), `set` (a deployment, crontab, `.env` or `export` gives it a value).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvTarget {
    /// The variable's name (almost always a literal).
    pub name: Expr,
    /// For a read: the default used when the variable is unset — `None` means the program
    /// requires it (`os.environ["X"]`, `env::var("X")?`, `${X:?}`). For a set: the value given,
    /// when visible.
    pub value: Option<Expr>,
}

/// A secret manager access. Modes: `read`, `set` (put a new value), `rotate` (ask the manager
/// to rotate), `wait-for` (poll until it changes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretTarget {
    /// `aws-secretsmanager`, `gcp-secretmanager`, `vault`, `azure-keyvault`, `aws-ssm`.
    pub provider: String,
    /// The secret's id, name, ARN or path.
    pub id: Expr,
}

/// A message broker access. Modes: `publish` and `consume` (also a binding of a queue to an
/// exchange with a binding key, which decides what the queue's consumers receive), `create`
/// (declaring a queue or topic).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueTarget {
    pub broker: Broker,
    /// What `name` names.
    pub role: QueueRole,
    /// The queue, topic, stream, list, channel, routing key, binding key or task name.
    pub name: Expr,
    /// AMQP: the exchange published to or bound to; `None` is the default exchange.
    pub exchange: Option<Expr>,
    /// For a binding: the queue that receives what the binding key matches.
    pub bound_queue: Option<Expr>,
    /// The message's fields where visible: written by a publish, read by a consume.
    pub fields: Vec<FieldUse>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Broker {
    Amqp,
    Kafka,
    Sqs,
    Sns,
    Redis,
    Celery,
    Nats,
    Pubsub,
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueRole {
    /// A queue by name (AMQP queue, SQS queue name or URL, Redis list).
    Queue,
    /// A topic (Kafka, SNS, Pub/Sub, NATS subject), exact or a pattern (`orders.*`).
    Topic,
    /// An AMQP routing key a message is published with.
    RoutingKey,
    /// An AMQP binding key (may hold `*` and `#`) binding `bound_queue` to `exchange`.
    BindingKey,
    /// A Redis stream.
    Stream,
    /// A Redis pub/sub channel.
    Channel,
    /// A Celery task name.
    Task,
}

/// One message field as the code uses it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldUse {
    /// The field's name on the wire (after `#[serde(rename)]`, dict key, JSON key).
    pub name: String,
    /// Where the field is written or read (1-based line of this file).
    pub line: u32,
    /// Producer: the value may be null/None (an `Option`, a variable that may be `None`, a
    /// literal `None`). Consumer: the code copes with null (an explicit check, `or default`).
    pub nullable: bool,
    /// Producer: the field may be left out (`skip_serializing_if`, added conditionally).
    /// Consumer: read with a default (`.get("k", d)`, `#[serde(default)]`, `Option`).
    pub optional: bool,
}

/// How a unit can be made to act: what the resolver turns into jobs and triggers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerFact {
    /// The unit that acts (a handler's registering scope; the file scope for a whole program).
    pub scope: ScopeId,
    pub line: u32,
    pub kind: TriggerKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TriggerKind {
    /// A signal handler: `signal.signal(signal.SIGHUP, h)`, `trap '...' HUP`, tokio `signal`.
    /// `signal` is the short upper-case name: `HUP`, `USR1`, `TERM`.
    Signal { signal: String },
    /// Acts when a file appears or changes (a polled or inotify-watched request file).
    WatchFile { path: Expr },
    /// An HTTP endpoint it serves (`@app.post("/rotate")`, axum `route("/rotate", ...)`).
    Route {
        method: Option<String>,
        path: String,
    },
    /// A schedule declared in code (APScheduler, `schedule.every(8).hours`), or in a unit file.
    Schedule {
        expression: String,
        description: String,
    },
    /// Runs forever, acting every `interval` (a `while True:` loop with a sleep).
    Loop { interval: Option<String> },
}

/// Something the code does to make another program act now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendFact {
    pub scope: ScopeId,
    pub line: u32,
    pub kind: SendKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SendKind {
    /// `os.kill(pid, SIGHUP)`, `kill -HUP $(cat /run/x.pid)`, `pkill -HUP -f rotator`,
    /// `systemctl reload x`: the signal's short name and what names the target process (a pid
    /// file's path, a process or unit name).
    Signal { signal: String, target: Expr },
    /// An HTTP request: `requests.post(url)`, `curl -X POST url`.
    Http { method: Option<String>, url: Expr },
}

/// A call of a function by name (not an API a model describes), so that what the callee does
/// (a wait, a write) can be attributed to the call site: `wait_for_credential_refresh()`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRef {
    pub scope: ScopeId,
    pub line: u32,
    /// The callee as written, qualified through the file's imports where possible
    /// (`auth.wait_for_refresh`, `self.wait`, `crate::auth::wait`).
    pub callee: Text,
    /// The arguments, as far as they can be told apart (none after a `*args` spread).
    /// Packed once the file is extracted: most calls' arguments are never bound.
    #[serde(
        default,
        skip_serializing_if = "crate::store::codec::omit_empty_packed"
    )]
    pub args: Packed<Vec<CallArg>>,
}

/// A path expression and how far the access reaches from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathTarget {
    pub expr: Expr,
    pub reach: Reach,
    /// Age condition on what is touched (`-mtime +3`), in plain words: "older than 3 days".
    pub retention: Option<String>,
}

impl PathTarget {
    pub fn exact(expr: Expr) -> PathTarget {
        PathTarget {
            expr,
            reach: Reach::Exact,
            retention: None,
        }
    }
}

/// How the set of paths an access touches derives from its expression.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reach {
    /// The path itself (which may be a glob).
    Exact,
    /// The path and everything under it (`rm -r`, `shutil.rmtree`, `remove_dir_all`).
    Tree,
    /// The entries directly inside the directory (`ls dir`, `os.listdir`, `iterdir`, `read_dir`).
    Children,
    /// A `find`-style search under the expression as start directory.
    Find(FindSpec),
}

/// The parts of a `find` command (or an `os.walk` loop) that decide which paths it touches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindSpec {
    /// `-name`/`-iname` globs (alternatives, any may match); empty means any name.
    pub names: Vec<Expr>,
    /// `-path`/`-wholename` globs (alternatives), matched against the whole path, where `*`
    /// also matches `/`.
    pub paths: Vec<Expr>,
    /// `-mindepth` (default 0: the start directory itself is a candidate).
    pub min_depth: u32,
    /// `-maxdepth`; `None` means unlimited.
    pub max_depth: Option<u32>,
    /// `-type f`/`-type d`.
    pub file_type: Option<char>,
    /// The action removes whole directories (`-exec rm -rf {}`), so everything under a match
    /// is touched too.
    pub tree: bool,
    /// `-name` matched case-insensitively (`-iname`).
    pub case_insensitive: bool,
}

/// A script or program this file starts: `/opt/ops/bin/cleanup.sh`, `python3 -m loader.main`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRef {
    pub scope: ScopeId,
    pub line: u32,
    pub target: RunTarget,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RunTarget {
    /// A script or executable by path (absolute, relative, or through a variable).
    Path { expr: Expr },
    /// A Python module run with `python -m`.
    PythonModule { module: String },
    /// A systemd unit started by name (a timer's `Unit=`, a `.path` unit's service):
    /// `cleanup.service`. The resolver links it to the unit file of that name.
    Unit { name: String },
    /// A program started by its bare name (`crm-sync --once`), which no model knows: the
    /// resolver links it to the code a repository declares under that name (a console script,
    /// a Cargo binary), and drops it when none does.
    Program { name: String },
    /// A container image started with its own entry point (a compose service with no
    /// `command:`): `image` as written (`quay.io/org/app:1.2`), and the compose `build:` context
    /// relative to the repository root when there is one. The resolver links it to the
    /// repository's Dockerfile that builds it, and through that to what its `ENTRYPOINT`/`CMD`
    /// run.
    Image {
        image: Option<String>,
        build: Option<String>,
    },
}

/// A program a repository declares, so that a launch by its name reaches its code: a console
/// script of `pyproject.toml` / `setup.cfg` / `setup.py`, a Cargo binary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramFact {
    /// The command name it is installed as.
    pub name: String,
    pub line: u32,
    pub target: ProgramTarget,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ProgramTarget {
    /// A console script's `module:function` (the module; the function is not needed to link).
    PythonModule { module: String },
    /// A binary's source file, relative to the repository root (`src/main.rs`).
    File { path: String },
}

/// One schedule entry (a crontab line): what runs, when, as whom, with which environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleFact {
    pub line: u32,
    /// The five fields or the `@daily` macro, as written.
    pub expression: String,
    /// Plain words, from the schedule parser.
    pub description: String,
    /// The `/etc/cron.d` user field, when the file has one.
    pub user: Option<String>,
    pub command: String,
    /// `VAR=value` lines above the entry (and the entry's own leading assignments).
    pub env: Vec<(String, String)>,
    /// The scope of the entry's command ([`ScopeKind::CronEntry`]).
    pub scope: ScopeId,
}

/// Something in a file that could not be read; the analysis of the rest goes on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractWarning {
    pub line: u32,
    pub message: String,
}

/// Steps of work one file's extraction may take ([`Budget`]). A step is one syntax node the
/// extractor's walk visits or one expression it translates; the largest ordinary files of the
/// hostile-input benchmark (50,000 `open()` calls in 1 MiB, 100,000 chained shell assignments)
/// take under a million.
pub const FILE_WORK_BUDGET: usize = 4_000_000;

/// The work left for one file's extraction, counted in steps, not time, so that where a file
/// stops being read is the same on every machine. Extractors spend a step per node and stop
/// walking when none is left: the facts found so far are kept, and the file gets one warning
/// saying where reading stopped, instead of a check that stalls on an attacker's file.
#[derive(Clone, Debug)]
pub struct Budget {
    limit: usize,
    left: usize,
    /// The line of the first step refused.
    stopped_at: Option<u32>,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget::new(FILE_WORK_BUDGET)
    }
}

impl Budget {
    pub fn new(steps: usize) -> Budget {
        Budget {
            limit: steps,
            left: steps,
            stopped_at: None,
        }
    }

    /// Spends a step on something at `line` (asked only when the step is refused, as finding
    /// a line can take work of its own); false once no step is left, and from then on.
    pub fn spend(&mut self, line: impl FnOnce() -> u32) -> bool {
        if self.left == 0 {
            if self.stopped_at.is_none() {
                self.stopped_at = Some(line());
            }
            return false;
        }
        self.left -= 1;
        true
    }

    /// Whether a step was refused.
    pub fn is_spent(&self) -> bool {
        self.stopped_at.is_some()
    }

    /// Steps taken so far.
    pub fn used(&self) -> usize {
        self.limit - self.left
    }

    /// The warning for a file whose reading stopped, at the line where it stopped.
    pub fn warning(&self) -> Option<ExtractWarning> {
        self.stopped_at.map(|line| ExtractWarning {
            line,
            message: format!(
                "analysis stopped after {} steps of work (the per-file budget); facts from line {line} on are not read",
                self.limit
            ),
        })
    }
}

/// Extracts the facts of one file. Never fails: unreadable content is a warning.
pub fn extract(path: &str, content: &[u8], models: &Models) -> Option<FileFacts> {
    let language = Language::detect(path, content)?;
    Some(extract_as(language, path, content, models))
}

/// Extracts with a known language (used for commands embedded in other files).
pub fn extract_as(language: Language, path: &str, content: &[u8], models: &Models) -> FileFacts {
    tree_memory::scope(|| extract_in_scope(language, path, content, models))
}

/// [`extract_as`] inside its file's memory scope: every parser, tree and cursor is gone when it
/// returns.
fn extract_in_scope(language: Language, path: &str, content: &[u8], models: &Models) -> FileFacts {
    let text = crate::load::text_of(content);
    let mut facts = match language {
        Language::Python => {
            let mut facts = python::extract(path, &text, models);
            if path == "setup.py" || path.ends_with("/setup.py") {
                facts.programs = formats::manifest::setup_py_programs(&text);
            }
            facts
        }
        Language::Bash => bash::extract(path, &text, models),
        Language::Rust => rust::extract(path, &text, models),
        Language::Crontab => cron::extract(path, &text, models),
        Language::Config(format) => formats::extract(format, path, &text, models),
    };
    bound_exprs(&mut facts);
    facts.settle();
    facts
}

/// Bounds every expression of a file's facts ([`Expr::bounded`]), so that what the resolver
/// does with a fact does not grow with what a hostile file spells.
fn bound_exprs(facts: &mut FileFacts) {
    fn bound(expr: &mut Expr) {
        if !expr.is_bounded() {
            let taken = std::mem::replace(expr, Expr::lit(""));
            *expr = taken.bounded();
        }
    }
    fn bound_all<'e>(exprs: impl IntoIterator<Item = &'e mut Expr>) {
        exprs.into_iter().for_each(bound);
    }
    for binding in &mut facts.bindings {
        bound(&mut binding.value);
    }
    for access in &mut facts.accesses {
        match &mut access.resource {
            RawResource::Path(target) => {
                bound(&mut target.expr);
                if let Reach::Find(spec) = &mut target.reach {
                    bound_all(&mut spec.names);
                    bound_all(&mut spec.paths);
                }
            }
            RawResource::Env(target) => {
                bound(&mut target.name);
                bound_all(&mut target.value);
            }
            RawResource::Secret(target) => bound(&mut target.id),
            RawResource::Queue(target) => {
                bound(&mut target.name);
                bound_all(&mut target.exchange);
                bound_all(&mut target.bound_queue);
            }
        }
    }
    for run in &mut facts.runs {
        if let RunTarget::Path { expr } = &mut run.target {
            bound(expr);
        }
    }
    for trigger in &mut facts.triggers {
        if let TriggerKind::WatchFile { path } = &mut trigger.kind {
            bound(path);
        }
    }
    for send in &mut facts.sends {
        match &mut send.kind {
            SendKind::Signal { target, .. } => bound(target),
            SendKind::Http { url, .. } => bound(url),
        }
    }
}
