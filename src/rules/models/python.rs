//! The python API models: the schema of `rules/models/python.toml` rows and their merged table.
//!
//! A model file lists `[[function]]` rows, matched by the qualified name of the callee after the
//! file's imports are applied (`osp.join` with `import os.path as osp` is `os.path.join`; a
//! builtin keeps its bare name, `open`), and `[[method]]` rows, matched by the method name (the
//! last dotted component of the row's `name`: `Path.write_text` matches `x.write_text(...)` on
//! any receiver whose type is not known). Each row says what the call does:
//!
//! - `access`: the paths it touches, each naming where its path comes from (the receiver, or an
//!   argument by position and/or keyword), its mode (fixed, or read from an `open()`-style mode
//!   argument) and its reach;
//! - `env`, `secret`, `queue`: environment variables, secret-manager secrets and broker names it
//!   reads, sets, publishes or consumes;
//! - `trigger`: how it makes the program triggerable (a signal handler, a route, a watched
//!   file, an in-code schedule); `send`: how it makes another program act (a signal, an HTTP
//!   request, a command that signals);
//! - `returns`: the type of its result, so that methods of typed clients (`boto3.client("sqs")`)
//!   match only rows for that type (`receiver-type`); `value`: what its result names
//!   (`get_queue_url(QueueName=q)` names `q`);
//! - `codec` and `sleep`: the serialisers, parsers and sleeps that message-field and
//!   polling-loop analysis follow.
//!
//! ```toml
//! [[function]]
//! name = "shutil.move"
//! access = [
//!   { arg = 0, keyword = "src", mode = "move-from" },
//!   { arg = 1, keyword = "dst", mode = "move-to" },
//! ]
//!
//! [[method]]
//! name = "SecretsManager.get_secret_value"
//! receiver-type = "boto3.secretsmanager"
//! secret = [{ provider = "aws-secretsmanager", mode = "read", id = { keyword = "SecretId" } }]
//! ```
//!
//! `[[environ]]` rows name mappings whose items are environment variables (`os.environ`), and
//! `[[settings]]` rows name base classes whose fields are read from the environment
//! (`pydantic_settings.BaseSettings`).
//!
//! Raw rows are deserialised with `deny_unknown_fields` and then compiled into [`CallModel`]s;
//! every error names the file and the line of the offending row.

use crate::extract::{Broker, QueueRole};
use crate::model::Mode;
use crate::rules::{RulesError, line_of_offset};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use toml::Spanned;

/// One `language = "python"` model file, validated.
#[derive(Clone, Debug, Default)]
pub struct PythonModelFile {
    pub schema: u32,
    pub language: String,
    pub functions: Vec<CallModel>,
    pub methods: Vec<CallModel>,
    /// Mappings whose items are environment variables (`os.environ`).
    pub environ: Vec<String>,
    /// Base classes whose fields are environment variables (`pydantic.BaseSettings`).
    pub settings: Vec<String>,
}

impl PythonModelFile {
    /// Parses and validates a model file; `name` is used in error messages.
    pub fn parse(name: &str, text: &str) -> Result<Self, RulesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| RulesError::toml(name, text, &e))?;
        let mut file = PythonModelFile {
            schema: raw.schema,
            language: raw.language,
            ..PythonModelFile::default()
        };
        for (kind, rows, out) in [
            (CallKind::Function, raw.function, &mut file.functions),
            (CallKind::Method, raw.method, &mut file.methods),
        ] {
            // Lines are computed only for an error: finding a line scans the text, and doing
            // that for every row made loading a large file quadratic.
            let line = |offset: usize| line_of_offset(text, offset);
            let mut seen = HashSet::with_capacity(rows.len());
            for row in rows {
                let start = row.span().start;
                let model = compile_row(kind, row.into_inner()).map_err(|(at, message)| {
                    RulesError::at(name, line(at.unwrap_or(start)), message)
                })?;
                if !seen.insert(model.name.clone()) {
                    return Err(RulesError::at(
                        name,
                        line(start),
                        format!(
                            "`{}` is defined twice in this file; keep one row",
                            model.name
                        ),
                    ));
                }
                out.push(model);
            }
        }
        for (rows, out) in [
            (raw.environ, &mut file.environ),
            (raw.settings, &mut file.settings),
        ] {
            for row in rows {
                let start = row.span().start;
                let named = row.into_inner().name.trim().to_string();
                if named.is_empty() || named.split('.').any(str::is_empty) {
                    return Err(RulesError::at(
                        name,
                        line_of_offset(text, start),
                        format!("`{named}` is not a dotted name"),
                    ));
                }
                out.push(named);
            }
        }
        Ok(file)
    }
}

/// Whether a row matches a call by qualified function name or by method name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CallKind {
    #[default]
    Function,
    Method,
}

/// A call that accesses paths or other resources, or that analyses need to recognise.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CallModel {
    /// Qualified function name (`os.remove`) or `Type.method` (`Path.unlink`); also the `via`
    /// of the accesses it yields, so reports name the model that linked them.
    pub name: String,
    pub kind: CallKind,
    /// Bounds on the number of arguments (positional and keyword), which tell a path method
    /// from a same-named method of another type: `Path.replace(target)` takes one argument,
    /// `str.replace(old, new)` two.
    pub min_args: Option<u32>,
    pub max_args: Option<u32>,
    /// A method row for objects of this type only (`boto3.sqs`): it does not match a receiver
    /// of another type, nor, without `untyped_receiver`, one whose type is unknown.
    pub receiver_type: Option<String>,
    /// The row also matches receivers whose type is not known (for distinctive method names:
    /// `basic_publish`, `lpush`).
    pub untyped_receiver: bool,
    /// The row matches only as a decorator (`@app.post("/x")`; `session.post(url)` is no
    /// route).
    pub decorator: bool,
    pub accesses: Vec<AccessModel>,
    pub env: Vec<EnvModel>,
    pub secrets: Vec<SecretModel>,
    pub queues: Vec<QueueModel>,
    pub trigger: Option<TriggerModel>,
    pub send: Option<SendModel>,
    /// The type of the call's result; `{}` is replaced by the literal `returns_fill` argument
    /// (`boto3.client("sqs")` is a `boto3.sqs`).
    pub returns: Option<String>,
    pub returns_fill: Option<ArgRef>,
    /// What the call's result names, for the expressions built from it.
    pub value: Option<ValueSpec>,
    /// A subscript with this key on the result (or a name bound to it) names the same thing
    /// (`get_queue_url(...)["QueueUrl"]`).
    pub value_key: Option<String>,
    pub codec: Option<CodecModel>,
    /// The call sleeps for this many seconds: a loop containing it polls.
    pub sleep: Option<ValueSpec>,
}

impl CallModel {
    /// The name a call must have to match: the qualified name of a function, the last
    /// component of a method row's name.
    pub fn call_name(&self) -> &str {
        match self.kind {
            CallKind::Function => &self.name,
            CallKind::Method => self.name.rsplit('.').next().unwrap_or(&self.name),
        }
    }
}

/// Where a value comes from in a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgSource {
    /// The object the method is called on (`p` in `p.unlink()`).
    Receiver,
    /// An argument, by position and/or keyword name.
    Arg(ArgRef),
}

/// An argument of a call, by position, keyword, or both (`open(file=p)` and `open(p)`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ArgRef {
    pub position: Option<u32>,
    pub keyword: Option<String>,
}

/// How far an access reaches from its path expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReachModel {
    /// The path itself.
    Exact,
    /// The path and everything under it (`shutil.rmtree`).
    Tree,
    /// The entries directly inside the directory (`os.listdir`).
    Children,
    /// A recursive search under the directory with no limits (`os.walk`).
    Find,
    /// The path is a glob the function expands (`glob.glob`): its literal text is glob syntax.
    Glob,
}

/// What iterating over the call's result yields, so a loop variable can be bound to the paths
/// the call lists (`for f in glob.glob(p): os.remove(f)` deletes what the glob matches).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Yields {
    /// The listed paths themselves (`glob.glob`, `Path.glob`, `Path.iterdir`).
    Paths,
    /// Bare entry names, to be joined onto the directory (`os.listdir`).
    Names,
    /// Entries with `.path` and `.name` (`os.scandir`).
    Entries,
    /// `(root, dirs, files)` triples (`os.walk`).
    Walk,
}

/// A glob pattern argument joined onto the access's path (`p.glob("*.csv")`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobArg {
    pub arg: ArgRef,
    /// Glob text put before the pattern (`**/` for `rglob`).
    pub prefix: String,
}

/// One path a call accesses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessModel {
    pub path: ArgSource,
    /// The mode; with `mode_arg`, the mode when that argument is absent.
    pub mode: Mode,
    /// An `open()`-style mode string argument (`"w"`, `"a"`, `"rb"`, `"r+"`).
    pub mode_arg: Option<ArgRef>,
    pub reach: ReachModel,
    pub glob: Option<GlobArg>,
    /// A flag argument that must be literally `True` for `**` to span directories
    /// (`glob.glob(p, recursive=True)`); without it, `**` is `*`.
    pub recursive: Option<ArgRef>,
    /// Glob text appended to the path (`shutil.make_archive` adds the archive's extension).
    pub suffix_glob: Option<String>,
    /// Literal path used when the argument is absent (`os.listdir()` lists `.`).
    pub default: Option<String>,
    /// The call is still this API without the argument (the access is then skipped); by
    /// default a missing path argument means the row does not match (`df.rename(columns=c)`
    /// is not `Path.rename`).
    pub optional: bool,
    pub yields: Option<Yields>,
    /// The path is an object's key in a bucket named by another argument: the access is the
    /// remote pattern `SCHEME://BUCKET/KEY` (`s3.upload_file(f, "b", "k")`: `s3://b/k`).
    pub bucket: Option<BucketArg>,
}

/// Where an object store access's bucket is, and the store's URL scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketArg {
    pub scheme: String,
    pub arg: ArgRef,
}

/// Where a name (an environment variable, a secret id, a queue, a route) comes from in a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueSpec {
    pub source: ArgSource,
    /// Every positional argument from `source`'s position on (`KafkaConsumer(*topics)`).
    pub rest: bool,
    /// The value of this key when the argument is a dict literal (`request={"name": n}`);
    /// any other argument is taken as it is.
    pub key: Option<String>,
    /// The keys of a dict literal argument are the names (`xreadgroup(g, c, {stream: ">"})`).
    pub keys: bool,
    /// Literal used when the argument is absent.
    pub default: Option<String>,
    /// Another argument used when this one is absent (`queue_bind`'s routing key defaults to
    /// the queue's name).
    pub fallback: Option<ArgRef>,
}

impl ValueSpec {
    /// The argument at a position and/or keyword, with no other options.
    pub fn arg(position: Option<u32>, keyword: Option<&str>) -> ValueSpec {
        ValueSpec {
            source: ArgSource::Arg(ArgRef {
                position,
                keyword: keyword.map(str::to_string),
            }),
            rest: false,
            key: None,
            keys: false,
            default: None,
            fallback: None,
        }
    }
}

/// An environment variable a call reads, checks or sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvModel {
    /// `read`, `check` or `set`.
    pub mode: Mode,
    pub name: ValueSpec,
    /// For a read, the default argument; for a set, the value argument.
    pub value: Option<ValueSpec>,
    /// Without a default the call fails when the variable is unset (`decouple.config("X")`),
    /// rather than returning `None` (`os.getenv("X")`).
    pub required: bool,
}

/// A secret-manager secret a call reads, sets or rotates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretModel {
    /// `aws-secretsmanager`, `aws-ssm`, `gcp-secretmanager`, `vault`, `azure-keyvault`.
    pub provider: String,
    pub mode: Mode,
    pub id: ValueSpec,
    /// A mount point put before the id (`vault`'s `mount_point`, default `secret`).
    pub mount: Option<ValueSpec>,
}

/// How a broker name is spelled in the argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NameSyntax {
    /// A literal name.
    #[default]
    Plain,
    /// A regular expression (`subscribe(pattern=...)`).
    Regex,
    /// A literal name, or a regular expression when it starts with `^` (librdkafka).
    CaretRegex,
    /// A glob (`psubscribe`).
    Glob,
}

/// A queue, topic, stream, channel or task a call publishes to, consumes from or declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueModel {
    pub broker: Broker,
    pub role: QueueRole,
    pub mode: Mode,
    pub name: ValueSpec,
    pub syntax: NameSyntax,
    pub exchange: Option<ValueSpec>,
    pub bound_queue: Option<ValueSpec>,
    /// The message published (`body=`, `value=`, `MessageBody=`), for its fields.
    pub body: Option<ValueSpec>,
    /// The function called with each consumed message (`on_message_callback=`), for the
    /// fields it reads.
    pub callback: Option<ValueSpec>,
    /// The callback's parameter that receives the message, counted without `self`.
    pub payload_param: u32,
    /// A decorator row: the decorated function consumes, and without a name argument the
    /// task name is `module.function` (Celery's default).
    pub task: bool,
    /// Consumed messages come out of the receiver (`consumer.subscribe([...])`, then
    /// `for m in consumer`) rather than out of the call's result (`receive_message`).
    pub receiver_yields: bool,
}

/// How a call makes the program triggerable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TriggerModel {
    /// Registers a signal handler: `signal.signal(signal.SIGHUP, h)`.
    Signal { signal: ValueSpec },
    /// Serves an HTTP route; `method` is fixed (`@app.post`) or read from `methods`
    /// (`@app.route(p, methods=["POST"])`).
    Route {
        path: ValueSpec,
        method: Option<String>,
        methods: Option<ValueSpec>,
    },
    /// Acts when a file changes (`observer.schedule(h, path)`, inotify `add_watch`).
    WatchFile { path: ValueSpec },
    /// Runs a job on a schedule written in code.
    Schedule { style: ScheduleStyle },
}

/// The scheduling libraries whose arguments the extractor reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduleStyle {
    /// APScheduler `add_job(func, trigger, **trigger_args)`.
    ApschedulerJob,
    /// APScheduler `@scheduled_job(trigger, **trigger_args)`.
    ApschedulerDecorator,
    /// `schedule.every(n).<unit>[.at(t)].do(job)`.
    Every,
}

/// How a call makes another program act now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendModel {
    /// Sends a signal to a process: `os.kill(pid, sig)`.
    Signal {
        signal: ValueSpec,
        target: ValueSpec,
    },
    /// An HTTP request, with a fixed method or one read from an argument; a `data` argument
    /// makes a method-less request a POST (`urlopen(url, data)`).
    Http {
        method: Option<String>,
        method_arg: Option<ValueSpec>,
        url: ValueSpec,
        data: Option<ValueSpec>,
    },
    /// Runs a command (`subprocess.run([...])`, `os.system("...")`) that may signal a process
    /// (`kill`, `pkill`, `systemctl reload`) or make a request (`curl -X POST`).
    Command {
        command: ValueSpec,
        /// The flag that makes a string command a shell line; without it a string is one
        /// program name (unless `shell_always`).
        shell: Option<ArgRef>,
        shell_always: bool,
    },
}

/// What a serialiser or parser does to a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodecKind {
    /// Serialises its operand: the operand's fields are the payload's (`json.dumps`, `.json()`,
    /// `asdict`, `.encode()`).
    Encode,
    /// Parses its operand into a dict or text (`json.loads`, `.decode()`).
    Decode,
    /// Parses its operand into a model object whose attributes are the fields
    /// (`Order.model_validate_json`).
    DecodeModel,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecModel {
    pub kind: CodecKind,
    pub operand: ValueSpec,
}

/// The merged python models the extractor reads. Hashed, not ordered: the Python walk asks for
/// the rows of every call's name and method, and a lookup in an ordered map compared a dozen
/// names each time (2.4 million comparisons over `ansible`).
#[derive(Clone, Debug, Default)]
pub struct PythonModels {
    functions: foldhash::HashMap<String, CallModel>,
    methods: Vec<CallModel>,
    /// Method name -> indexes into `methods`, in file order.
    method_index: foldhash::HashMap<String, Vec<usize>>,
    environ: foldhash::HashSet<String>,
    settings: foldhash::HashSet<String>,
    value_keys: foldhash::HashSet<String>,
}

impl PythonModels {
    /// Adds a file's rows; a row named like an existing one replaces it.
    pub fn merge(&mut self, file: PythonModelFile) {
        for row in file.functions {
            self.functions.insert(row.name.clone(), row);
        }
        let mut position: HashMap<String, usize> = self
            .methods
            .iter()
            .enumerate()
            .map(|(i, m)| (m.name.clone(), i))
            .collect();
        for row in file.methods {
            match position
                .get(&row.name)
                .and_then(|i| self.methods.get_mut(*i))
            {
                Some(existing) => *existing = row,
                None => {
                    position.insert(row.name.clone(), self.methods.len());
                    self.methods.push(row);
                }
            }
        }
        self.environ.extend(file.environ);
        self.settings.extend(file.settings);
        self.method_index.clear();
        for (i, row) in self.methods.iter().enumerate() {
            self.method_index
                .entry(row.call_name().to_string())
                .or_default()
                .push(i);
        }
        self.value_keys = self
            .functions
            .values()
            .chain(self.methods.iter())
            .filter_map(|row| row.value_key.clone())
            .collect();
    }

    /// The row for a function by qualified name.
    pub fn function(&self, qualified: &str) -> Option<&CallModel> {
        self.functions.get(qualified)
    }

    /// The rows for a method name, in file order.
    pub fn methods(&self, method: &str) -> impl Iterator<Item = &CallModel> {
        self.method_index
            .get(method)
            .into_iter()
            .flatten()
            .filter_map(|i| self.methods.get(*i))
    }

    /// Whether a qualified name is a mapping of environment variables (`os.environ`).
    pub fn is_environ(&self, qualified: &str) -> bool {
        self.environ.contains(qualified)
    }

    /// Whether a qualified base class makes its subclasses' fields environment variables.
    pub fn is_settings_base(&self, qualified: &str) -> bool {
        self.settings.contains(qualified)
    }

    /// Whether a subscript key passes a modelled call's value through (`["QueueUrl"]`).
    pub fn is_value_key(&self, key: &str) -> bool {
        self.value_keys.contains(key)
    }

    /// Number of rows, for tests and diagnostics.
    pub fn len(&self) -> usize {
        self.functions.len() + self.methods.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

// ---- raw rows --------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: u32,
    language: String,
    #[serde(default)]
    function: Vec<Spanned<RawRow>>,
    #[serde(default)]
    method: Vec<Spanned<RawRow>>,
    #[serde(default)]
    environ: Vec<Spanned<RawNamed>>,
    #[serde(default)]
    settings: Vec<Spanned<RawNamed>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNamed {
    name: String,
    #[serde(default)]
    #[allow(dead_code)] // documentation only, kept so that `note` is an accepted key
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRow {
    name: String,
    #[serde(default)]
    min_args: Option<u32>,
    #[serde(default)]
    max_args: Option<u32>,
    /// Free text for the reader of the model file.
    #[serde(default)]
    #[allow(dead_code)] // documentation only, kept so that `note` is an accepted key
    note: Option<String>,
    #[serde(default)]
    receiver_type: Option<String>,
    #[serde(default)]
    untyped_receiver: bool,
    #[serde(default)]
    decorator: bool,
    #[serde(default)]
    access: Vec<Spanned<RawAccess>>,
    #[serde(default)]
    env: Vec<Spanned<RawEnv>>,
    #[serde(default)]
    secret: Vec<Spanned<RawSecret>>,
    #[serde(default)]
    queue: Vec<Spanned<RawQueue>>,
    #[serde(default)]
    trigger: Option<Spanned<RawTrigger>>,
    #[serde(default)]
    send: Option<Spanned<RawSend>>,
    #[serde(default)]
    returns: Option<String>,
    #[serde(default)]
    returns_fill: Option<RawArg>,
    #[serde(default)]
    value: Option<RawValue>,
    #[serde(default)]
    value_key: Option<String>,
    #[serde(default)]
    codec: Option<RawCodec>,
    #[serde(default)]
    sleep: Option<RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAccess {
    #[serde(default)]
    receiver: bool,
    #[serde(default)]
    arg: Option<u32>,
    #[serde(default)]
    keyword: Option<String>,
    mode: String,
    #[serde(default)]
    mode_arg: Option<RawArg>,
    #[serde(default)]
    reach: Option<String>,
    #[serde(default)]
    glob: Option<RawGlob>,
    #[serde(default)]
    recursive: Option<RawArg>,
    #[serde(default)]
    suffix_glob: Option<String>,
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    yields: Option<String>,
    #[serde(default)]
    bucket: Option<RawBucket>,
}

/// `bucket = { scheme = "s3", arg = 1, keyword = "Bucket" }`: the access's path is an object
/// key in that bucket.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBucket {
    scheme: String,
    #[serde(default)]
    arg: Option<u32>,
    #[serde(default)]
    keyword: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArg {
    #[serde(default)]
    arg: Option<u32>,
    #[serde(default)]
    keyword: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGlob {
    #[serde(default)]
    arg: Option<u32>,
    #[serde(default)]
    keyword: Option<String>,
    #[serde(default)]
    prefix: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValue {
    #[serde(default)]
    receiver: bool,
    #[serde(default)]
    arg: Option<u32>,
    #[serde(default)]
    keyword: Option<String>,
    #[serde(default)]
    rest: bool,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    keys: bool,
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    fallback: Option<RawArg>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnv {
    mode: String,
    name: RawValue,
    #[serde(default)]
    value: Option<RawValue>,
    #[serde(default)]
    unset: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecret {
    provider: String,
    mode: String,
    id: RawValue,
    #[serde(default)]
    mount: Option<RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawQueue {
    broker: String,
    role: String,
    mode: String,
    name: RawValue,
    #[serde(default)]
    syntax: Option<String>,
    #[serde(default)]
    exchange: Option<RawValue>,
    #[serde(default)]
    bound_queue: Option<RawValue>,
    #[serde(default)]
    body: Option<RawValue>,
    #[serde(default)]
    callback: Option<RawValue>,
    #[serde(default)]
    payload_param: Option<u32>,
    #[serde(default)]
    task: bool,
    #[serde(default)]
    messages: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrigger {
    kind: String,
    #[serde(default)]
    signal: Option<RawValue>,
    #[serde(default)]
    path: Option<RawValue>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    methods: Option<RawValue>,
    #[serde(default)]
    style: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSend {
    kind: String,
    #[serde(default)]
    signal: Option<RawValue>,
    #[serde(default)]
    target: Option<RawValue>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    method_arg: Option<RawValue>,
    #[serde(default)]
    url: Option<RawValue>,
    #[serde(default)]
    data: Option<RawValue>,
    #[serde(default)]
    command: Option<RawValue>,
    #[serde(default)]
    shell: Option<RawArg>,
    #[serde(default)]
    shell_always: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCodec {
    kind: String,
    #[serde(default)]
    receiver: bool,
    #[serde(default)]
    arg: Option<u32>,
    #[serde(default)]
    keyword: Option<String>,
}

// ---- compilation -----------------------------------------------------------------------------

/// A compile error: the byte offset of the offending part (if more precise than the row's) and
/// the message.
type CompileError = (Option<usize>, String);

fn compile_row(kind: CallKind, raw: RawRow) -> Result<CallModel, CompileError> {
    let name = raw.name.trim().to_string();
    if name.is_empty() || name.split('.').any(|part| part.is_empty()) {
        return Err((None, format!("`{}` is not a dotted name", raw.name)));
    }
    if kind == CallKind::Method && !name.contains('.') {
        return Err((
            None,
            format!("method row `{name}` must be named `Type.method` (e.g. `Path.{name}`)"),
        ));
    }
    if let (Some(min), Some(max)) = (raw.min_args, raw.max_args)
        && min > max
    {
        return Err((
            None,
            format!("`{name}`: min-args {min} is above max-args {max}"),
        ));
    }
    if kind == CallKind::Function && (raw.receiver_type.is_some() || raw.untyped_receiver) {
        return Err((
            None,
            format!("`{name}`: `receiver-type` and `untyped-receiver` are for [[method]] rows"),
        ));
    }
    let mut model = CallModel {
        name: name.clone(),
        kind,
        min_args: raw.min_args,
        max_args: raw.max_args,
        receiver_type: raw.receiver_type,
        untyped_receiver: raw.untyped_receiver,
        decorator: raw.decorator,
        ..CallModel::default()
    };
    let row_error = |m: String| (None, m);
    for access in raw.access {
        let at = access.span().start;
        let compiled = compile_access(kind, access.into_inner()).map_err(|m| (Some(at), m))?;
        model.accesses.push(compiled);
    }
    for env in raw.env {
        let at = env.span().start;
        let compiled = compile_env(kind, env.into_inner()).map_err(|m| (Some(at), m))?;
        model.env.push(compiled);
    }
    for secret in raw.secret {
        let at = secret.span().start;
        let compiled = compile_secret(kind, secret.into_inner()).map_err(|m| (Some(at), m))?;
        model.secrets.push(compiled);
    }
    for queue in raw.queue {
        let at = queue.span().start;
        let compiled = compile_queue(kind, queue.into_inner()).map_err(|m| (Some(at), m))?;
        model.queues.push(compiled);
    }
    if let Some(trigger) = raw.trigger {
        let at = trigger.span().start;
        model.trigger =
            Some(compile_trigger(kind, trigger.into_inner()).map_err(|m| (Some(at), m))?);
    }
    if let Some(send) = raw.send {
        let at = send.span().start;
        model.send = Some(compile_send(kind, send.into_inner()).map_err(|m| (Some(at), m))?);
    }
    if let Some(fill) = raw.returns_fill {
        if !raw.returns.as_deref().is_some_and(|r| r.contains("{}")) {
            return Err(row_error(format!(
                "`{name}`: `returns-fill` needs a `returns` type with `{{}}` where the argument goes"
            )));
        }
        model.returns_fill =
            Some(arg_ref(fill.arg, fill.keyword, "returns-fill").map_err(row_error)?);
    }
    model.returns = raw.returns;
    model.value = raw
        .value
        .map(|v| value_spec(kind, v, "value"))
        .transpose()
        .map_err(row_error)?;
    model.value_key = raw.value_key;
    if model.value_key.is_some() && model.value.is_none() {
        return Err(row_error(format!("`{name}`: `value-key` needs `value`")));
    }
    model.codec = raw
        .codec
        .map(|c| compile_codec(kind, c))
        .transpose()
        .map_err(row_error)?;
    model.sleep = raw
        .sleep
        .map(|v| value_spec(kind, v, "sleep"))
        .transpose()
        .map_err(row_error)?;
    let does_something = !model.accesses.is_empty()
        || !model.env.is_empty()
        || !model.secrets.is_empty()
        || !model.queues.is_empty()
        || model.trigger.is_some()
        || model.send.is_some()
        || model.returns.is_some()
        || model.value.is_some()
        || model.codec.is_some()
        || model.sleep.is_some();
    if !does_something {
        return Err(row_error(format!(
            "`{name}` has no `access`; list at least one (or `env`, `secret`, `queue`, `trigger`, `send`, `returns`, `value`, `codec`, `sleep`)"
        )));
    }
    Ok(model)
}

/// A mode name, one of `allowed`.
fn mode_of(name: &str, allowed: &[Mode]) -> Result<Mode, String> {
    let expected = || {
        allowed
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match Mode::parse(name) {
        Some(mode) if allowed.contains(&mode) => Ok(mode),
        _ => Err(format!(
            "unknown mode `{name}` (expected one of {})",
            expected()
        )),
    }
}

fn value_spec(kind: CallKind, raw: RawValue, what: &str) -> Result<ValueSpec, String> {
    let source = match (raw.receiver, raw.arg, raw.keyword) {
        (true, None, None) if kind == CallKind::Method => ArgSource::Receiver,
        (true, None, None) => {
            return Err(format!(
                "`{what}`: `receiver = true` is only for [[method]] rows"
            ));
        }
        (true, _, _) => {
            return Err(format!(
                "`{what}` comes from the receiver or from an argument, not both"
            ));
        }
        (false, None, None) => {
            return Err(format!(
                "`{what}` needs `arg`, `keyword` or `receiver = true` to say where it is"
            ));
        }
        (false, position, keyword) => ArgSource::Arg(ArgRef { position, keyword }),
    };
    if raw.rest && !matches!(&source, ArgSource::Arg(a) if a.position.is_some()) {
        return Err(format!(
            "`{what}`: `rest` needs the position (`arg`) it starts at"
        ));
    }
    if raw.keys && raw.key.is_some() {
        return Err(format!("`{what}`: use `key` or `keys`, not both"));
    }
    Ok(ValueSpec {
        source,
        rest: raw.rest,
        key: raw.key,
        keys: raw.keys,
        default: raw.default,
        fallback: raw
            .fallback
            .map(|a| arg_ref(a.arg, a.keyword, "fallback"))
            .transpose()?,
    })
}

fn compile_env(kind: CallKind, raw: RawEnv) -> Result<EnvModel, String> {
    let mode = mode_of(&raw.mode, &[Mode::Read, Mode::Check, Mode::Set])?;
    let required = match raw.unset.as_deref() {
        None | Some("none") => false,
        Some("error") => true,
        Some(other) => {
            return Err(format!(
                "unknown `unset = \"{other}\"` (expected none or error)"
            ));
        }
    };
    Ok(EnvModel {
        mode,
        name: value_spec(kind, raw.name, "name")?,
        value: raw
            .value
            .map(|v| value_spec(kind, v, "value"))
            .transpose()?,
        required,
    })
}

fn compile_secret(kind: CallKind, raw: RawSecret) -> Result<SecretModel, String> {
    let mode = mode_of(
        &raw.mode,
        &[
            Mode::Read,
            Mode::Check,
            Mode::Set,
            Mode::Rotate,
            Mode::Delete,
            Mode::WaitFor,
        ],
    )?;
    if raw.provider.trim().is_empty() {
        return Err("`provider` is empty".to_string());
    }
    Ok(SecretModel {
        provider: raw.provider.trim().to_string(),
        mode,
        id: value_spec(kind, raw.id, "id")?,
        mount: raw
            .mount
            .map(|v| value_spec(kind, v, "mount"))
            .transpose()?,
    })
}

/// A broker name as the JSON contract spells it.
pub fn parse_broker(name: &str) -> Option<Broker> {
    Some(match name {
        "amqp" => Broker::Amqp,
        "kafka" => Broker::Kafka,
        "sqs" => Broker::Sqs,
        "sns" => Broker::Sns,
        "redis" => Broker::Redis,
        "celery" => Broker::Celery,
        "nats" => Broker::Nats,
        "pubsub" => Broker::Pubsub,
        "unknown" => Broker::Unknown,
        _ => return None,
    })
}

/// A queue role as the JSON contract spells it.
pub fn parse_role(name: &str) -> Option<QueueRole> {
    Some(match name {
        "queue" => QueueRole::Queue,
        "topic" => QueueRole::Topic,
        "routing-key" => QueueRole::RoutingKey,
        "binding-key" => QueueRole::BindingKey,
        "stream" => QueueRole::Stream,
        "channel" => QueueRole::Channel,
        "task" => QueueRole::Task,
        _ => return None,
    })
}

fn compile_queue(kind: CallKind, raw: RawQueue) -> Result<QueueModel, String> {
    let broker = parse_broker(&raw.broker).ok_or_else(|| {
        format!(
            "unknown broker `{}` (expected amqp, kafka, sqs, sns, redis, celery, nats, pubsub or unknown)",
            raw.broker
        )
    })?;
    let role = parse_role(&raw.role).ok_or_else(|| {
        format!(
            "unknown role `{}` (expected queue, topic, routing-key, binding-key, stream, channel or task)",
            raw.role
        )
    })?;
    let mode = mode_of(&raw.mode, &[Mode::Publish, Mode::Consume, Mode::Create])?;
    let syntax = match raw.syntax.as_deref() {
        None | Some("plain") => NameSyntax::Plain,
        Some("regex") => NameSyntax::Regex,
        Some("caret-regex") => NameSyntax::CaretRegex,
        Some("glob") => NameSyntax::Glob,
        Some(other) => {
            return Err(format!(
                "unknown syntax `{other}` (expected plain, regex, caret-regex or glob)"
            ));
        }
    };
    let spec = |v: Option<RawValue>, what: &str| v.map(|v| value_spec(kind, v, what)).transpose();
    Ok(QueueModel {
        broker,
        role,
        mode,
        name: value_spec(kind, raw.name, "name")?,
        syntax,
        exchange: spec(raw.exchange, "exchange")?,
        bound_queue: spec(raw.bound_queue, "bound-queue")?,
        body: spec(raw.body, "body")?,
        callback: spec(raw.callback, "callback")?,
        payload_param: raw.payload_param.unwrap_or(0),
        task: raw.task,
        receiver_yields: match raw.messages.as_deref() {
            None | Some("result") => false,
            Some("receiver") if kind == CallKind::Method => true,
            Some("receiver") => {
                return Err("`messages = \"receiver\"` is only for [[method]] rows".to_string());
            }
            Some(other) => {
                return Err(format!(
                    "unknown `messages = \"{other}\"` (expected result or receiver)"
                ));
            }
        },
    })
}

fn compile_trigger(kind: CallKind, raw: RawTrigger) -> Result<TriggerModel, String> {
    let need = |v: Option<RawValue>, what: &str| -> Result<ValueSpec, String> {
        match v {
            Some(v) => value_spec(kind, v, what),
            None => Err(format!("a `{}` trigger needs `{what}`", raw.kind)),
        }
    };
    Ok(match raw.kind.as_str() {
        "signal" => TriggerModel::Signal {
            signal: need(raw.signal, "signal")?,
        },
        "route" => TriggerModel::Route {
            path: need(raw.path, "path")?,
            method: raw.method.map(|m| m.to_ascii_uppercase()),
            methods: raw
                .methods
                .map(|v| value_spec(kind, v, "methods"))
                .transpose()?,
        },
        "watch-file" => TriggerModel::WatchFile {
            path: need(raw.path, "path")?,
        },
        "schedule" => TriggerModel::Schedule {
            style: match raw.style.as_deref() {
                Some("apscheduler-job") => ScheduleStyle::ApschedulerJob,
                Some("apscheduler-decorator") => ScheduleStyle::ApschedulerDecorator,
                Some("every") => ScheduleStyle::Every,
                other => {
                    return Err(format!(
                        "unknown schedule style `{}` (expected apscheduler-job, apscheduler-decorator or every)",
                        other.unwrap_or("")
                    ));
                }
            },
        },
        other => {
            return Err(format!(
                "unknown trigger kind `{other}` (expected signal, route, watch-file or schedule)"
            ));
        }
    })
}

fn compile_send(kind: CallKind, raw: RawSend) -> Result<SendModel, String> {
    let need = |v: Option<RawValue>, what: &str| -> Result<ValueSpec, String> {
        match v {
            Some(v) => value_spec(kind, v, what),
            None => Err(format!("a `{}` send needs `{what}`", raw.kind)),
        }
    };
    let spec = |v: Option<RawValue>, what: &str| v.map(|v| value_spec(kind, v, what)).transpose();
    Ok(match raw.kind.as_str() {
        "signal" => SendModel::Signal {
            signal: need(raw.signal, "signal")?,
            target: need(raw.target, "target")?,
        },
        "http" => SendModel::Http {
            method: raw.method.map(|m| m.to_ascii_uppercase()),
            method_arg: spec(raw.method_arg, "method-arg")?,
            url: need(raw.url, "url")?,
            data: spec(raw.data, "data")?,
        },
        "command" => SendModel::Command {
            command: need(raw.command, "command")?,
            shell: raw
                .shell
                .map(|a| arg_ref(a.arg, a.keyword, "shell"))
                .transpose()?,
            shell_always: raw.shell_always,
        },
        other => {
            return Err(format!(
                "unknown send kind `{other}` (expected signal, http or command)"
            ));
        }
    })
}

fn compile_codec(kind: CallKind, raw: RawCodec) -> Result<CodecModel, String> {
    let codec_kind = match raw.kind.as_str() {
        "encode" => CodecKind::Encode,
        "decode" => CodecKind::Decode,
        "decode-model" => CodecKind::DecodeModel,
        other => {
            return Err(format!(
                "unknown codec kind `{other}` (expected encode, decode or decode-model)"
            ));
        }
    };
    let operand = RawValue {
        receiver: raw.receiver,
        arg: raw.arg,
        keyword: raw.keyword,
        rest: false,
        key: None,
        keys: false,
        default: None,
        fallback: None,
    };
    Ok(CodecModel {
        kind: codec_kind,
        operand: value_spec(kind, operand, "codec")?,
    })
}

fn compile_access(kind: CallKind, raw: RawAccess) -> Result<AccessModel, String> {
    let path = match (raw.receiver, raw.arg, raw.keyword) {
        (true, None, None) if kind == CallKind::Method => ArgSource::Receiver,
        (true, None, None) => {
            return Err("`receiver = true` is only for [[method]] rows".to_string());
        }
        (true, _, _) => {
            return Err(
                "an access takes its path from the receiver or from an argument, not both"
                    .to_string(),
            );
        }
        (false, None, None) => {
            return Err(
                "an access needs `arg`, `keyword` or `receiver = true` to say where its path is"
                    .to_string(),
            );
        }
        (false, position, keyword) => ArgSource::Arg(ArgRef { position, keyword }),
    };
    let mode = Mode::parse(&raw.mode).ok_or_else(|| {
        let names: Vec<&str> = Mode::ALL.iter().map(|m| m.as_str()).collect();
        format!(
            "unknown mode `{}` (expected one of {})",
            raw.mode,
            names.join(", ")
        )
    })?;
    let reach = match raw.reach.as_deref() {
        None | Some("exact") => ReachModel::Exact,
        Some("tree") => ReachModel::Tree,
        Some("children") => ReachModel::Children,
        Some("find") => ReachModel::Find,
        Some("glob") => ReachModel::Glob,
        Some(other) => {
            return Err(format!(
                "unknown reach `{other}` (expected exact, tree, children, find or glob)"
            ));
        }
    };
    let yields = match raw.yields.as_deref() {
        None => None,
        Some("paths") => Some(Yields::Paths),
        Some("names") => Some(Yields::Names),
        Some("entries") => Some(Yields::Entries),
        Some("walk") => Some(Yields::Walk),
        Some(other) => {
            return Err(format!(
                "unknown yields `{other}` (expected paths, names, entries or walk)"
            ));
        }
    };
    let glob = match raw.glob {
        None => None,
        Some(g) => Some(GlobArg {
            arg: arg_ref(g.arg, g.keyword, "glob")?,
            prefix: g.prefix.unwrap_or_default(),
        }),
    };
    Ok(AccessModel {
        path,
        mode,
        mode_arg: raw
            .mode_arg
            .map(|a| arg_ref(a.arg, a.keyword, "mode-arg"))
            .transpose()?,
        reach,
        glob,
        recursive: raw
            .recursive
            .map(|a| arg_ref(a.arg, a.keyword, "recursive"))
            .transpose()?,
        suffix_glob: raw.suffix_glob,
        default: raw.default,
        optional: raw.optional,
        yields,
        bucket: match raw.bucket {
            None => None,
            Some(b) => {
                let valid = !b.scheme.is_empty()
                    && b.scheme
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
                if !valid {
                    return Err(format!(
                        "bucket scheme `{}` is not a URL scheme (`s3`, `gs`)",
                        b.scheme
                    ));
                }
                Some(BucketArg {
                    scheme: b.scheme,
                    arg: arg_ref(b.arg, b.keyword, "bucket")?,
                })
            }
        },
    })
}

fn arg_ref(position: Option<u32>, keyword: Option<String>, what: &str) -> Result<ArgRef, String> {
    if position.is_none() && keyword.is_none() {
        return Err(format!(
            "`{what}` needs `arg` (a position) or `keyword` (a name), or both"
        ));
    }
    Ok(ArgRef { position, keyword })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::models::Models;

    #[test]
    fn builtin_python_models_load() {
        let models = Models::builtin().expect("built-in models load");
        assert!(models.python.function("os.remove").is_some());
        assert!(models.python.function("open").is_some());
        assert!(models.python.methods("write_text").next().is_some());
        assert!(models.python.len() > 40);
    }

    #[test]
    fn unknown_key_is_an_error_with_file_and_line() {
        let text = "schema = 1\nlanguage = \"python\"\n\n[[function]]\nname = \"x.y\"\npth = 3\naccess = []\n";
        let mut models = Models::default();
        let err = models.load_file("user.toml", text).unwrap_err();
        assert_eq!(err.file, "user.toml");
        assert_eq!(err.line, 6, "{err}");
        assert!(err.message.contains("pth"), "{err}");
    }

    #[test]
    fn unknown_key_inside_an_access_points_at_its_line() {
        let text = "schema = 1\nlanguage = \"python\"\n[[function]]\nname = \"a.b\"\naccess = [\n  { arg = 0, mode = \"read\" },\n  { arg = 1, mod = \"read\" },\n]\n";
        let err = PythonModelFile::parse("m.toml", text).unwrap_err();
        assert_eq!(err.line, 7, "{err}");
    }

    #[test]
    fn bad_mode_names_the_row_line() {
        let text = "schema = 1\nlanguage = \"python\"\n[[function]]\nname = \"a.b\"\naccess = [{ arg = 0, mode = \"wrte\" }]\n";
        let err = PythonModelFile::parse("m.toml", text).unwrap_err();
        assert_eq!(err.line, 5, "{err}");
        assert!(err.message.contains("unknown mode `wrte`"), "{err}");
    }

    #[test]
    fn access_without_path_source_is_an_error() {
        let text = "schema = 1\nlanguage = \"python\"\n[[function]]\nname = \"a.b\"\naccess = [{ mode = \"read\" }]\n";
        let err = PythonModelFile::parse("m.toml", text).unwrap_err();
        assert!(err.message.contains("where its path is"), "{err}");
    }

    #[test]
    fn receiver_only_for_methods() {
        let text = "schema = 1\nlanguage = \"python\"\n[[function]]\nname = \"a.b\"\naccess = [{ receiver = true, mode = \"read\" }]\n";
        assert!(PythonModelFile::parse("m.toml", text).is_err());
    }

    #[test]
    fn duplicate_rows_in_one_file_are_an_error() {
        let text = "schema = 1\nlanguage = \"python\"\n[[function]]\nname = \"a.b\"\naccess = [{ arg = 0, mode = \"read\" }]\n[[function]]\nname = \"a.b\"\naccess = [{ arg = 0, mode = \"read\" }]\n";
        let err = PythonModelFile::parse("m.toml", text).unwrap_err();
        assert_eq!(err.line, 6, "{err}");
    }

    #[test]
    fn user_row_replaces_builtin_row() {
        let mut models = Models::builtin().expect("builtin");
        let text = "schema = 1\nlanguage = \"python\"\n[[function]]\nname = \"os.remove\"\naccess = [{ arg = 0, mode = \"move-from\" }]\n[[method]]\nname = \"Path.unlink\"\naccess = [{ receiver = true, mode = \"move-from\" }]\n";
        models.load_file("user.toml", text).expect("user file");
        let row = models.python.function("os.remove").expect("row");
        assert_eq!(row.accesses[0].mode, Mode::MoveFrom);
        let rows: Vec<_> = models.python.methods("unlink").collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].accesses[0].mode, Mode::MoveFrom);
    }

    #[test]
    fn builtin_resource_rows_compile() {
        let models = Models::builtin().expect("built-in models load");
        let py = &models.python;
        assert!(py.is_environ("os.environ"));
        assert!(py.is_settings_base("pydantic_settings.BaseSettings"));
        assert!(py.is_value_key("QueueUrl"));
        let getenv = py.function("os.getenv").expect("os.getenv");
        assert_eq!(getenv.env[0].mode, Mode::Read);
        assert!(!getenv.env[0].required);
        let client = py.function("boto3.client").expect("boto3.client");
        assert_eq!(client.returns.as_deref(), Some("boto3.{}"));
        let publish = py.methods("basic_publish").next().expect("basic_publish");
        assert_eq!(publish.queues[0].broker, Broker::Amqp);
        assert_eq!(publish.queues[0].role, QueueRole::RoutingKey);
        assert!(publish.untyped_receiver);
        let send = py
            .methods("send_message")
            .find(|m| m.receiver_type.as_deref() == Some("boto3.sqs"))
            .expect("SQS.send_message");
        assert!(!send.untyped_receiver);
        assert!(matches!(
            py.function("signal.signal")
                .and_then(|r| r.trigger.as_ref()),
            Some(TriggerModel::Signal { .. })
        ));
        assert!(py.function("time.sleep").is_some_and(|r| r.sleep.is_some()));
    }

    #[test]
    fn messages_from_the_receiver_only_for_methods() {
        let text = "schema = 1\nlanguage = \"python\"\n[[function]]\nname = \"a.b\"\nqueue = [{ broker = \"kafka\", role = \"topic\", mode = \"consume\", name = { arg = 0 }, messages = \"receiver\" }]\n";
        let err = PythonModelFile::parse("m.toml", text).unwrap_err();
        assert!(err.message.contains("only for [[method]]"), "{err}");
        assert_eq!(err.line, 5, "{err}");
    }

    #[test]
    fn environ_and_settings_rows_merge() {
        let mut models = Models::default();
        let text = "schema = 1\nlanguage = \"python\"\n[[environ]]\nname = \"myenv.vars\"\n[[settings]]\nname = \"acme.Config\"\nnote = \"in-house settings\"\n";
        models.load_file("user.toml", text).expect("user file");
        assert!(models.python.is_environ("myenv.vars"));
        assert!(models.python.is_settings_base("acme.Config"));
        let bad = "schema = 1\nlanguage = \"python\"\n[[environ]]\nname = \"a..b\"\n";
        let err = PythonModelFile::parse("m.toml", bad).unwrap_err();
        assert_eq!(err.line, 3, "{err}");
    }
}
