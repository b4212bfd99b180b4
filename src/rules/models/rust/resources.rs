//! Rust model rows for credentials, queues, triggers and sends: the tables of
//! `rules/models/rust.toml` beyond file paths.
//!
//! Every row names the call it recognises with a `call` table, and where the call's resource
//! name, payload or duration is with *locators*:
//!
//! - `call = { function = "std::env::set_var" }`: a free or associated function, matched after
//!   `use` resolution and aliases like `[[function]]` rows.
//! - `call = { method = "get_secret_value", arity = 0, requires = "aws_sdk_secretsmanager" }`:
//!   a method on any receiver (there is no type information). `requires` names an identifier
//!   that must occur somewhere in the file (a crate name in a `use` or a path), so that
//!   `subscribe` is a Kafka consumer only in a file that mentions `rdkafka`, and `push` or `get`
//!   on a `Vec` or `HashMap` in other files is nothing.
//! - `command = "LPUSH"`: the call's first argument must be this string (any case):
//!   `redis::cmd("LPUSH")`.
//! - `finish = ["send"]`: one of these methods must be called later in the same chain
//!   (`client.post(url).json(&b).send()`), which separates an HTTP `get` from `HashMap::get`.
//!
//! Locators (exactly one key): `{ arg = 1 }` an argument of the call; `{ args = [1, 2],
//! separator = "/" }` arguments joined (Vault's mount and path); `{ receiver = true }` the
//! receiver of a method; `{ method = "secret_id" }` the first argument of a later call of that
//! method in the same chain (`nth = 1` for the second such call: `redis::cmd("LPUSH").arg(k)
//! .arg(v)`).
//!
//! The tables (all rows have a `name`, which is the row's id and the access's `via`):
//!
//! | table | what it recognises |
//! |---|---|
//! | `[[env]]` (extended) | `mode = "set"` and `value = 1` for writers (`set_var`); `call` instead of `path` for methods (`Command::env`) |
//! | `[[env_macro]]` | `env!` (required) and `option_env!` (`optional = true`) |
//! | `[[env_attribute]]` | struct fields read from the environment by a derive (`#[arg(env = "X", default_value = "d")]`) |
//! | `[[env_struct]]` | a struct filled from the environment field by field (`envy::from_env::<Config>()`) |
//! | `[[secret]]` | secret manager reads, writes and rotations |
//! | `[[queue]]` | publishes, consumes, declarations and bindings of broker queues and topics |
//! | `[[queue_name]]` | a call whose result stands for a queue's name (`get_queue_url().queue_name(n)`) |
//! | `[[signal_handler]]` | handlers of signals (`tokio::signal::unix::signal`) |
//! | `[[signal_send]]` | signals sent to a process (`nix::sys::signal::kill`) |
//! | `[[signal_command]]` | programs started to send a signal (`pkill -HUP x`, `systemctl reload x`) |
//! | `[[http]]` | HTTP requests (`reqwest::get`, `client.post(url)...send()`) |
//! | `[[route]]`, `[[route_attribute]]` | HTTP endpoints served (`Router::route`, `#[post("/x")]`) |
//! | `[[schedule]]` | cron schedules declared in code (`cron::Schedule::from_str`) |
//! | `[[timer]]` | sleeps and tickers that pace loops, and jobs repeated at an interval |
//! | `[[watch]]` | file-change watchers (`notify`'s `watch(path, mode)`) |
//! | `[[codec]]` | serialisation (`encode`: the message a value becomes) and deserialisation (`decode`) |

use super::{RulesError, line_of_offset};
use crate::extract::{Broker, QueueRole};
use crate::model::Mode;
use serde::Deserialize;
use toml::Spanned;

/// The largest argument index a locator may name.
const MAX_ARG: usize = 16;

// ---------------------------------------------------------------------------------------------
// Compiled rows.

/// How a row's call is recognised at a call site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallMatch {
    /// A function path, matched like `[[function]]` rows (after `use`, aliases, by suffix).
    Function { path: String },
    /// A method name on any receiver.
    Method {
        method: String,
        arity: Option<usize>,
        /// An identifier the file must mention.
        requires: Option<String>,
    },
}

/// A [`CallMatch`] with the conditions on the rest of the call and its chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallPattern {
    pub matcher: CallMatch,
    /// The first argument must be this string literal, compared case-insensitively.
    pub command: Option<String>,
    /// One of these methods must follow in the same chain.
    pub finish: Vec<String>,
}

impl CallPattern {
    /// The function path, for function rows.
    pub fn function(&self) -> Option<&str> {
        match &self.matcher {
            CallMatch::Function { path } => Some(path),
            CallMatch::Method { .. } => None,
        }
    }
}

/// Where in a call (or its chain) a value is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Locator {
    Arg(usize),
    /// Several arguments joined with a separator.
    Args {
        args: Vec<usize>,
        separator: String,
    },
    Receiver,
    /// The first argument of the `nth` (0-based) later call of `method` in the chain.
    Method {
        method: String,
        nth: usize,
    },
}

/// Where a signal's name is: fixed by the row, or in the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignalSource {
    Fixed(String),
    At(Locator),
}

/// An environment variable read, check or set by a call (`[[env]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvModel {
    /// The function path for `path` rows; the row's `name` for `call` rows.
    pub path: String,
    pub call: CallPattern,
    /// The index of the argument that names the variable.
    pub arg: usize,
    /// `read`, `check` or `set`.
    pub mode: Mode,
    /// For a set: the argument holding the value.
    pub value: Option<usize>,
}

/// `env!("X")` and `option_env!("X")`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvMacroModel {
    pub name: String,
    pub arg: usize,
    /// The macro tolerates an unset variable (`option_env!` is an `Option`).
    pub optional: bool,
}

/// Struct fields that a derive reads from the environment (`#[arg(env = "X")]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvAttributeModel {
    pub name: String,
    /// Field attributes that carry the keys (`arg`, `clap`, `structopt`).
    pub attributes: Vec<String>,
    /// The key naming the variable (`env`); bare, it means the field's name in upper case.
    pub key: String,
    /// Keys giving the value used when the variable is unset.
    pub defaults: Vec<String>,
}

/// A struct deserialised from the environment, one variable per field, named after the field
/// in upper case (`envy`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvStructModel {
    pub name: String,
    pub call: CallPattern,
    /// A prefix prepended to every variable name.
    pub prefix: Option<Locator>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretModel {
    pub name: String,
    pub call: CallPattern,
    pub provider: String,
    /// `read`, `set` or `rotate`.
    pub mode: Mode,
    pub id: Locator,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueModel {
    pub name: String,
    pub call: CallPattern,
    pub broker: Broker,
    pub role: QueueRole,
    /// `publish`, `consume` or `create`.
    pub mode: Mode,
    pub target: Locator,
    pub exchange: Option<Locator>,
    pub bound_queue: Option<Locator>,
    /// The message a publish sends, whose fields are recorded when visible.
    pub payload: Option<Locator>,
    /// How a literal target is read as a pattern, if it can be one.
    pub pattern: Option<NamePattern>,
}

/// The pattern syntax of a subscription's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NamePattern {
    /// A name starting with `^` is a regular expression (Kafka subscriptions).
    Regex,
    /// A glob (`*`, `?`, `[..]`): Redis `PSUBSCRIBE`.
    Glob,
    /// NATS subject wildcards: `*` one token, `>` the rest.
    Nats,
}

/// A call whose result stands for a queue's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueNameModel {
    pub name: String,
    pub call: CallPattern,
    pub target: Locator,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalHandlerModel {
    pub name: String,
    pub call: CallPattern,
    /// The signal, or a locator of one signal or a list of them.
    pub signal: SignalSource,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalSendModel {
    pub name: String,
    pub call: CallPattern,
    pub signal: SignalSource,
    /// The process: a pid (traced back to the pid file it was read from, when visible).
    pub target: Locator,
}

/// A program that sends a signal when started with `Command`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalCommandModel {
    pub program: String,
    /// The first argument must be this word (`systemctl reload`).
    pub subcommand: Option<String>,
    /// The signal sent, when the command fixes it (`reload` sends `HUP`).
    pub signal: Option<String>,
    /// The signal sent when no `-SIG`/`-s SIG` option is given.
    pub default: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpModel {
    pub name: String,
    pub call: CallPattern,
    /// `GET`, `POST`, ...; `None` when the method is an argument (`method_arg`) or unknown.
    pub method: Option<String>,
    pub method_arg: Option<Locator>,
    pub url: Locator,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteModel {
    pub name: String,
    pub call: CallPattern,
    pub path: Locator,
    /// The handler expression, whose `post(..)`/`web::post()` gives the HTTP method.
    pub handler: Option<Locator>,
}

/// Attributes on handler functions that declare a route: `#[post("/rotate")]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteAttributeModel {
    pub name: String,
    pub requires: Option<String>,
    /// Attribute names; each is also the HTTP method, except `route`, which takes
    /// `method = "POST"`.
    pub attributes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleModel {
    pub name: String,
    pub call: CallPattern,
    pub expression: Locator,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimerKind {
    /// A pause: a loop that sleeps acts at that interval.
    Sleep,
    /// A ticker bound to a variable whose `tick()` paces a loop.
    Interval,
    /// A job run every duration (a loop trigger where it is declared).
    Repeat,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimerModel {
    pub name: String,
    pub call: CallPattern,
    pub kind: TimerKind,
    pub duration: Locator,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchModel {
    pub name: String,
    pub call: CallPattern,
    pub path: Locator,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// A value becomes a message (`serde_json::to_vec(&order)`).
    Encode,
    /// A message becomes a value (`serde_json::from_slice::<Order>(..)`).
    Decode,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecModel {
    pub name: String,
    pub call: CallPattern,
    pub direction: Direction,
    /// For `encode`: the value serialised.
    pub value: Option<Locator>,
}

/// The resource rows of one file, or merged.
#[derive(Clone, Debug, Default)]
pub struct ResourceModels {
    pub env_macros: Vec<EnvMacroModel>,
    pub env_attributes: Vec<EnvAttributeModel>,
    pub env_structs: Vec<EnvStructModel>,
    pub secrets: Vec<SecretModel>,
    pub queues: Vec<QueueModel>,
    pub queue_names: Vec<QueueNameModel>,
    pub signal_handlers: Vec<SignalHandlerModel>,
    pub signal_sends: Vec<SignalSendModel>,
    pub signal_commands: Vec<SignalCommandModel>,
    pub http: Vec<HttpModel>,
    pub routes: Vec<RouteModel>,
    pub route_attributes: Vec<RouteAttributeModel>,
    pub schedules: Vec<ScheduleModel>,
    pub timers: Vec<TimerModel>,
    pub watches: Vec<WatchModel>,
    pub codecs: Vec<CodecModel>,
}

/// A row recognised by a call.
pub trait CallRow {
    fn name(&self) -> &str;
    fn call(&self) -> &CallPattern;
}

macro_rules! call_rows {
    ($($row:ty),* $(,)?) => {$(
        impl CallRow for $row {
            fn name(&self) -> &str {
                &self.name
            }
            fn call(&self) -> &CallPattern {
                &self.call
            }
        }
    )*};
}

call_rows!(
    EnvStructModel,
    SecretModel,
    QueueModel,
    QueueNameModel,
    SignalHandlerModel,
    SignalSendModel,
    HttpModel,
    RouteModel,
    ScheduleModel,
    TimerModel,
    WatchModel,
    CodecModel,
);

impl CallRow for EnvModel {
    fn name(&self) -> &str {
        &self.path
    }
    fn call(&self) -> &CallPattern {
        &self.call
    }
}

/// Rows with an id, merged by it.
trait Named {
    fn id(&self) -> String;
}

impl<T: CallRow> Named for T {
    fn id(&self) -> String {
        self.name().to_string()
    }
}

impl Named for EnvMacroModel {
    fn id(&self) -> String {
        self.name.clone()
    }
}

impl Named for EnvAttributeModel {
    fn id(&self) -> String {
        self.name.clone()
    }
}

impl Named for RouteAttributeModel {
    fn id(&self) -> String {
        self.name.clone()
    }
}

impl Named for SignalCommandModel {
    fn id(&self) -> String {
        match &self.subcommand {
            Some(sub) => format!("{} {sub}", self.program),
            None => self.program.clone(),
        }
    }
}

/// Adds rows, replacing in place a row with the same id.
/// One map of ids to positions serves the whole merge: a search per row made merging a large
/// file quadratic.
fn merge_named<T: Named>(into: &mut Vec<T>, rows: Vec<T>) {
    let mut position: std::collections::HashMap<String, usize> = into
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id(), i))
        .rev()
        .collect();
    for row in rows {
        let id = row.id();
        match position.get(&id).and_then(|i| into.get_mut(*i)) {
            Some(existing) => *existing = row,
            None => {
                position.insert(id, into.len());
                into.push(row);
            }
        }
    }
}

impl ResourceModels {
    /// Adds a file's rows; a row with an existing id replaces it.
    pub fn merge(&mut self, file: ResourceModels) {
        merge_named(&mut self.env_macros, file.env_macros);
        merge_named(&mut self.env_attributes, file.env_attributes);
        merge_named(&mut self.env_structs, file.env_structs);
        merge_named(&mut self.secrets, file.secrets);
        merge_named(&mut self.queues, file.queues);
        merge_named(&mut self.queue_names, file.queue_names);
        merge_named(&mut self.signal_handlers, file.signal_handlers);
        merge_named(&mut self.signal_sends, file.signal_sends);
        merge_named(&mut self.signal_commands, file.signal_commands);
        merge_named(&mut self.http, file.http);
        merge_named(&mut self.routes, file.routes);
        merge_named(&mut self.route_attributes, file.route_attributes);
        merge_named(&mut self.schedules, file.schedules);
        merge_named(&mut self.timers, file.timers);
        merge_named(&mut self.watches, file.watches);
        merge_named(&mut self.codecs, file.codecs);
    }

    /// The `[[signal_command]]` rows for a program's base name.
    pub fn signal_commands_for<'a>(
        &'a self,
        program: &'a str,
    ) -> impl Iterator<Item = &'a SignalCommandModel> + 'a {
        self.signal_commands
            .iter()
            .filter(move |row| row.program == program)
    }
}

// ---------------------------------------------------------------------------------------------
// Raw rows, as written.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCall {
    function: Option<String>,
    method: Option<String>,
    arity: Option<usize>,
    requires: Option<String>,
    command: Option<String>,
    #[serde(default)]
    finish: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLocator {
    arg: Option<usize>,
    args: Option<Vec<usize>>,
    separator: Option<String>,
    receiver: Option<bool>,
    method: Option<String>,
    nth: Option<usize>,
}

/// A signal given by the row (`signal = "INT"`) or located in the call (`signal = { arg = 0 }`).
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawSignal {
    Fixed(String),
    At(RawLocator),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnvRow {
    path: Option<String>,
    name: Option<String>,
    call: Option<RawCall>,
    #[serde(default)]
    arg: usize,
    mode: Option<String>,
    value: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnvMacro {
    name: String,
    #[serde(default)]
    arg: usize,
    #[serde(default)]
    optional: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnvAttribute {
    name: String,
    attributes: Vec<String>,
    key: String,
    #[serde(default)]
    defaults: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnvStruct {
    name: String,
    call: RawCall,
    prefix: Option<RawLocator>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSecret {
    name: String,
    call: RawCall,
    provider: String,
    mode: String,
    id: RawLocator,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQueue {
    name: String,
    call: RawCall,
    broker: String,
    role: String,
    mode: String,
    target: RawLocator,
    exchange: Option<RawLocator>,
    bound_queue: Option<RawLocator>,
    payload: Option<RawLocator>,
    pattern: Option<NamePattern>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQueueName {
    name: String,
    call: RawCall,
    target: RawLocator,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSignalHandler {
    name: String,
    call: RawCall,
    signal: RawSignal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSignalSend {
    name: String,
    call: RawCall,
    signal: RawSignal,
    target: RawLocator,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSignalCommand {
    program: String,
    subcommand: Option<String>,
    signal: Option<String>,
    default: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHttp {
    name: String,
    call: RawCall,
    method: Option<String>,
    method_arg: Option<RawLocator>,
    url: RawLocator,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    name: String,
    call: RawCall,
    path: RawLocator,
    handler: Option<RawLocator>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRouteAttribute {
    name: String,
    requires: Option<String>,
    attributes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedule {
    name: String,
    call: RawCall,
    expression: RawLocator,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTimer {
    name: String,
    call: RawCall,
    kind: TimerKind,
    duration: RawLocator,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWatch {
    name: String,
    call: RawCall,
    path: RawLocator,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCodec {
    name: String,
    call: RawCall,
    direction: Direction,
    value: Option<RawLocator>,
}

/// The resource tables of a raw file, each row with its span.
#[derive(Default)]
pub(super) struct RawResourceTables {
    pub env: Vec<Spanned<RawEnvRow>>,
    pub env_macro: Vec<Spanned<RawEnvMacro>>,
    pub env_attribute: Vec<Spanned<RawEnvAttribute>>,
    pub env_struct: Vec<Spanned<RawEnvStruct>>,
    pub secret: Vec<Spanned<RawSecret>>,
    pub queue: Vec<Spanned<RawQueue>>,
    pub queue_name: Vec<Spanned<RawQueueName>>,
    pub signal_handler: Vec<Spanned<RawSignalHandler>>,
    pub signal_send: Vec<Spanned<RawSignalSend>>,
    pub signal_command: Vec<Spanned<RawSignalCommand>>,
    pub http: Vec<Spanned<RawHttp>>,
    pub route: Vec<Spanned<RawRoute>>,
    pub route_attribute: Vec<Spanned<RawRouteAttribute>>,
    pub schedule: Vec<Spanned<RawSchedule>>,
    pub timer: Vec<Spanned<RawTimer>>,
    pub watch: Vec<Spanned<RawWatch>>,
    pub codec: Vec<Spanned<RawCodec>>,
}

// ---------------------------------------------------------------------------------------------
// Validation.

/// A problem in one row; the caller adds the file and the row's line.
type RowResult<T> = Result<T, String>;

/// Compiles every resource table, reporting the first bad row at its line.
pub(super) fn compile(
    file: &str,
    text: &str,
    raw: RawResourceTables,
) -> Result<(Vec<EnvModel>, ResourceModels), RulesError> {
    let mut out = ResourceModels::default();
    let env = rows(file, text, raw.env, env_row)?;
    out.env_macros = rows(file, text, raw.env_macro, env_macro)?;
    out.env_attributes = rows(file, text, raw.env_attribute, env_attribute)?;
    out.env_structs = rows(file, text, raw.env_struct, env_struct)?;
    out.secrets = rows(file, text, raw.secret, secret)?;
    out.queues = rows(file, text, raw.queue, queue)?;
    out.queue_names = rows(file, text, raw.queue_name, queue_name)?;
    out.signal_handlers = rows(file, text, raw.signal_handler, signal_handler)?;
    out.signal_sends = rows(file, text, raw.signal_send, signal_send)?;
    out.signal_commands = rows(file, text, raw.signal_command, signal_command)?;
    out.http = rows(file, text, raw.http, http)?;
    out.routes = rows(file, text, raw.route, route)?;
    out.route_attributes = rows(file, text, raw.route_attribute, route_attribute)?;
    out.schedules = rows(file, text, raw.schedule, schedule)?;
    out.timers = rows(file, text, raw.timer, timer)?;
    out.watches = rows(file, text, raw.watch, watch)?;
    out.codecs = rows(file, text, raw.codec, codec)?;
    Ok((env, out))
}

fn rows<R, T>(
    file: &str,
    text: &str,
    raw: Vec<Spanned<R>>,
    compile: impl Fn(R) -> RowResult<T>,
) -> Result<Vec<T>, RulesError> {
    raw.into_iter()
        .map(|row| {
            let span = row.span();
            compile(row.into_inner()).map_err(|message| {
                let offset = offending_offset(text, span.clone(), &message);
                RulesError::at(file, line_of_offset(text, offset), message)
            })
        })
        .collect()
}

/// Where in a row the value an error message quotes (between backquotes) is written, so the
/// error points at that line; else the row's start. A row's span may cover only its
/// `[[table]]` header, so the row is taken to run to the next header.
fn offending_offset(text: &str, span: std::ops::Range<usize>, message: &str) -> usize {
    let quoted = message
        .split_once('`')
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(quoted, _)| quoted)
        .filter(|q| !q.is_empty());
    let rest = text.get(span.end..).unwrap_or("");
    let row_end = rest.find("\n[").map_or(text.len(), |i| span.end + i);
    let row = text.get(span.start..row_end).unwrap_or("");
    quoted
        .and_then(|q| row.find(q))
        .map_or(span.start, |i| span.start + i)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

fn rust_path(text: &str) -> RowResult<String> {
    let trimmed = text.trim().trim_start_matches("::");
    if !trimmed.is_empty() && trimmed.split("::").all(is_identifier) {
        Ok(trimmed.to_string())
    } else {
        Err(format!(
            "`{text}` is not a Rust path (write it like `std::fs::write`)"
        ))
    }
}

fn identifier(text: &str, what: &str) -> RowResult<String> {
    if is_identifier(text) {
        Ok(text.to_string())
    } else {
        Err(format!("`{text}` is not {what}"))
    }
}

fn name(text: String) -> RowResult<String> {
    if text.trim().is_empty() {
        Err("a row needs a non-empty `name`".to_string())
    } else {
        Ok(text)
    }
}

fn arg_index(index: usize) -> RowResult<usize> {
    if index < MAX_ARG {
        Ok(index)
    } else {
        Err(format!(
            "argument index {index} is too large (at most {})",
            MAX_ARG - 1
        ))
    }
}

fn mode(text: &str, allowed: &[Mode]) -> RowResult<Mode> {
    match Mode::parse(text) {
        Some(m) if allowed.contains(&m) => Ok(m),
        _ => {
            let known: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
            Err(format!(
                "mode `{text}` is not allowed here (expected one of: {})",
                known.join(", ")
            ))
        }
    }
}

fn call(raw: RawCall) -> RowResult<CallPattern> {
    let matcher = match (raw.function, raw.method) {
        (Some(path), None) => {
            if raw.arity.is_some() || raw.requires.is_some() {
                return Err(
                    "`arity` and `requires` apply to `method` calls, not functions".to_string(),
                );
            }
            CallMatch::Function {
                path: rust_path(&path)?,
            }
        }
        (None, Some(method)) => CallMatch::Method {
            method: identifier(&method, "a method name")?,
            arity: raw.arity.map(arg_index).transpose()?,
            requires: raw
                .requires
                .map(|r| identifier(&r, "an identifier"))
                .transpose()?,
        },
        _ => return Err("`call` needs exactly one of `function` and `method`".to_string()),
    };
    let finish = raw
        .finish
        .iter()
        .map(|m| identifier(m, "a method name"))
        .collect::<RowResult<_>>()?;
    Ok(CallPattern {
        matcher,
        command: raw.command,
        finish,
    })
}

fn locator(raw: RawLocator) -> RowResult<Locator> {
    let given = [
        raw.arg.is_some(),
        raw.args.is_some(),
        raw.receiver.is_some(),
        raw.method.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(
            "a locator needs exactly one of `arg`, `args`, `receiver` and `method`".to_string(),
        );
    }
    if raw.separator.is_some() && raw.args.is_none() {
        return Err("`separator` goes with `args`".to_string());
    }
    if raw.nth.is_some() && raw.method.is_none() {
        return Err("`nth` goes with `method`".to_string());
    }
    if let Some(index) = raw.arg {
        return Ok(Locator::Arg(arg_index(index)?));
    }
    if let Some(args) = raw.args {
        if args.is_empty() {
            return Err("`args` needs at least one index".to_string());
        }
        let args = args.into_iter().map(arg_index).collect::<RowResult<_>>()?;
        return Ok(Locator::Args {
            args,
            separator: raw.separator.unwrap_or_default(),
        });
    }
    if let Some(method) = raw.method {
        return Ok(Locator::Method {
            method: identifier(&method, "a method name")?,
            nth: raw.nth.unwrap_or(0),
        });
    }
    match raw.receiver {
        Some(true) => Ok(Locator::Receiver),
        _ => Err("`receiver` must be `true`".to_string()),
    }
}

fn signal_source(raw: RawSignal) -> RowResult<SignalSource> {
    match raw {
        RawSignal::Fixed(name) => Ok(SignalSource::Fixed(signal_name(&name)?)),
        RawSignal::At(at) => Ok(SignalSource::At(locator(at)?)),
    }
}

/// `HUP`, `SIGHUP` -> `HUP`: the short upper-case name the facts use.
fn signal_name(text: &str) -> RowResult<String> {
    let upper = text.trim().to_ascii_uppercase();
    let short = upper.strip_prefix("SIG").unwrap_or(&upper);
    if !short.is_empty() && short.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(short.to_string())
    } else {
        Err(format!(
            "`{text}` is not a signal name (write it like `HUP`)"
        ))
    }
}

fn broker(text: &str) -> RowResult<Broker> {
    Ok(match text {
        "amqp" => Broker::Amqp,
        "kafka" => Broker::Kafka,
        "sqs" => Broker::Sqs,
        "sns" => Broker::Sns,
        "redis" => Broker::Redis,
        "celery" => Broker::Celery,
        "nats" => Broker::Nats,
        "pubsub" => Broker::Pubsub,
        "unknown" => Broker::Unknown,
        other => {
            return Err(format!(
                "unknown broker `{other}` (expected amqp, kafka, sqs, sns, redis, celery, nats, pubsub or unknown)"
            ));
        }
    })
}

fn queue_role(text: &str) -> RowResult<QueueRole> {
    Ok(match text {
        "queue" => QueueRole::Queue,
        "topic" => QueueRole::Topic,
        "routing-key" => QueueRole::RoutingKey,
        "binding-key" => QueueRole::BindingKey,
        "stream" => QueueRole::Stream,
        "channel" => QueueRole::Channel,
        "task" => QueueRole::Task,
        other => {
            return Err(format!(
                "unknown role `{other}` (expected queue, topic, routing-key, binding-key, stream, channel or task)"
            ));
        }
    })
}

fn env_row(raw: RawEnvRow) -> RowResult<EnvModel> {
    let (path, call) = match (raw.path, raw.name, raw.call) {
        (Some(path), None, None) => {
            let path = rust_path(&path)?;
            let call = CallPattern {
                matcher: CallMatch::Function { path: path.clone() },
                command: None,
                finish: Vec::new(),
            };
            (path, call)
        }
        (None, Some(row_name), Some(raw_call)) => (name(row_name)?, call(raw_call)?),
        _ => return Err("an `env` row needs either `path`, or `name` and `call`".to_string()),
    };
    let mode = match raw.mode {
        Some(m) => mode(&m, &[Mode::Read, Mode::Check, Mode::Set])?,
        None => Mode::Read,
    };
    if raw.value.is_some() && mode != Mode::Set {
        return Err("`value` goes with `mode = \"set\"`".to_string());
    }
    Ok(EnvModel {
        path,
        call,
        arg: arg_index(raw.arg)?,
        mode,
        value: raw.value.map(arg_index).transpose()?,
    })
}

fn env_macro(raw: RawEnvMacro) -> RowResult<EnvMacroModel> {
    Ok(EnvMacroModel {
        name: identifier(&raw.name, "a macro name")?,
        arg: arg_index(raw.arg)?,
        optional: raw.optional,
    })
}

fn env_attribute(raw: RawEnvAttribute) -> RowResult<EnvAttributeModel> {
    if raw.attributes.is_empty() {
        return Err("an `env_attribute` row needs at least one attribute".to_string());
    }
    Ok(EnvAttributeModel {
        name: name(raw.name)?,
        attributes: raw
            .attributes
            .iter()
            .map(|a| identifier(a, "an attribute name"))
            .collect::<RowResult<_>>()?,
        key: identifier(&raw.key, "a key")?,
        defaults: raw
            .defaults
            .iter()
            .map(|d| identifier(d, "a key"))
            .collect::<RowResult<_>>()?,
    })
}

fn env_struct(raw: RawEnvStruct) -> RowResult<EnvStructModel> {
    Ok(EnvStructModel {
        name: name(raw.name)?,
        call: call(raw.call)?,
        prefix: raw.prefix.map(locator).transpose()?,
    })
}

fn secret(raw: RawSecret) -> RowResult<SecretModel> {
    if raw.provider.trim().is_empty() {
        return Err("a `secret` row needs a `provider`".to_string());
    }
    Ok(SecretModel {
        name: name(raw.name)?,
        call: call(raw.call)?,
        provider: raw.provider,
        mode: mode(&raw.mode, &[Mode::Read, Mode::Set, Mode::Rotate])?,
        id: locator(raw.id)?,
    })
}

fn queue(raw: RawQueue) -> RowResult<QueueModel> {
    Ok(QueueModel {
        name: name(raw.name)?,
        call: call(raw.call)?,
        broker: broker(&raw.broker)?,
        role: queue_role(&raw.role)?,
        mode: mode(&raw.mode, &[Mode::Publish, Mode::Consume, Mode::Create])?,
        target: locator(raw.target)?,
        exchange: raw.exchange.map(locator).transpose()?,
        bound_queue: raw.bound_queue.map(locator).transpose()?,
        payload: raw.payload.map(locator).transpose()?,
        pattern: raw.pattern,
    })
}

fn queue_name(raw: RawQueueName) -> RowResult<QueueNameModel> {
    Ok(QueueNameModel {
        name: name(raw.name)?,
        call: call(raw.call)?,
        target: locator(raw.target)?,
    })
}

fn signal_handler(raw: RawSignalHandler) -> RowResult<SignalHandlerModel> {
    Ok(SignalHandlerModel {
        name: name(raw.name)?,
        call: call(raw.call)?,
        signal: signal_source(raw.signal)?,
    })
}

fn signal_send(raw: RawSignalSend) -> RowResult<SignalSendModel> {
    Ok(SignalSendModel {
        name: name(raw.name)?,
        call: call(raw.call)?,
        signal: signal_source(raw.signal)?,
        target: locator(raw.target)?,
    })
}

fn signal_command(raw: RawSignalCommand) -> RowResult<SignalCommandModel> {
    if raw.program.trim().is_empty() || raw.program.contains('/') {
        return Err("`program` is a program's base name, like `pkill`".to_string());
    }
    if raw.signal.is_none() && raw.default.is_none() {
        return Err("a `signal_command` row needs `signal` or `default`".to_string());
    }
    Ok(SignalCommandModel {
        program: raw.program,
        subcommand: raw.subcommand,
        signal: raw.signal.as_deref().map(signal_name).transpose()?,
        default: raw.default.as_deref().map(signal_name).transpose()?,
    })
}

fn http_method(text: &str) -> RowResult<String> {
    let upper = text.trim().to_ascii_uppercase();
    if !upper.is_empty() && upper.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(upper)
    } else {
        Err(format!("`{text}` is not an HTTP method"))
    }
}

fn http(raw: RawHttp) -> RowResult<HttpModel> {
    Ok(HttpModel {
        name: name(raw.name)?,
        call: call(raw.call)?,
        method: raw.method.as_deref().map(http_method).transpose()?,
        method_arg: raw.method_arg.map(locator).transpose()?,
        url: locator(raw.url)?,
    })
}

fn route(raw: RawRoute) -> RowResult<RouteModel> {
    Ok(RouteModel {
        name: name(raw.name)?,
        call: call(raw.call)?,
        path: locator(raw.path)?,
        handler: raw.handler.map(locator).transpose()?,
    })
}

fn route_attribute(raw: RawRouteAttribute) -> RowResult<RouteAttributeModel> {
    if raw.attributes.is_empty() {
        return Err("a `route_attribute` row needs at least one attribute".to_string());
    }
    Ok(RouteAttributeModel {
        name: name(raw.name)?,
        requires: raw
            .requires
            .map(|r| identifier(&r, "an identifier"))
            .transpose()?,
        attributes: raw
            .attributes
            .iter()
            .map(|a| identifier(a, "an attribute name"))
            .collect::<RowResult<_>>()?,
    })
}

fn schedule(raw: RawSchedule) -> RowResult<ScheduleModel> {
    Ok(ScheduleModel {
        name: name(raw.name)?,
        call: call(raw.call)?,
        expression: locator(raw.expression)?,
    })
}

fn timer(raw: RawTimer) -> RowResult<TimerModel> {
    Ok(TimerModel {
        name: name(raw.name)?,
        call: call(raw.call)?,
        kind: raw.kind,
        duration: locator(raw.duration)?,
    })
}

fn watch(raw: RawWatch) -> RowResult<WatchModel> {
    Ok(WatchModel {
        name: name(raw.name)?,
        call: call(raw.call)?,
        path: locator(raw.path)?,
    })
}

fn codec(raw: RawCodec) -> RowResult<CodecModel> {
    if raw.direction == Direction::Encode && raw.value.is_none() {
        return Err("an `encode` row needs `value`: where the serialised value is".to_string());
    }
    Ok(CodecModel {
        name: name(raw.name)?,
        call: call(raw.call)?,
        direction: raw.direction,
        value: raw.value.map(locator).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::models::Models;
    use crate::rules::models::rust::RustModelFile;

    const HEADER: &str = "schema = 1\nlanguage = \"rust\"\n";

    fn error_line(rows: &str) -> Option<(u32, String)> {
        let text = format!("{HEADER}{rows}");
        RustModelFile::parse("m.toml", &text)
            .err()
            .map(|e| (e.line, e.message))
    }

    #[test]
    fn builtin_resource_rows_load() {
        let models = match Models::builtin() {
            Ok(m) => m.rust,
            Err(e) => panic!("built-in models must load: {e}"),
        };
        let r = &models.resources;
        assert!(r.secrets.len() >= 8);
        assert!(r.queues.len() >= 20);
        assert!(!r.signal_handlers.is_empty() && !r.signal_sends.is_empty());
        assert!(!r.http.is_empty() && !r.routes.is_empty() && !r.timers.is_empty());
        assert!(models.env.iter().any(|e| e.mode == Mode::Set));
        let kafka = r
            .queues
            .iter()
            .find(|q| q.name == "rdkafka::producer::FutureRecord::to");
        assert_eq!(
            kafka.map(|q| (q.broker, q.role, q.mode, q.payload.clone())),
            Some((
                Broker::Kafka,
                QueueRole::Topic,
                Mode::Publish,
                Some(Locator::Method {
                    method: "payload".to_string(),
                    nth: 0
                })
            ))
        );
    }

    #[test]
    fn a_locator_needs_exactly_one_key() {
        let rows = "[[secret]]\nname = \"s\"\ncall = { function = \"a::b\" }\nprovider = \"vault\"\nmode = \"read\"\nid = { arg = 0, method = \"x\" }\n";
        let err = error_line(rows);
        assert_eq!(err.as_ref().map(|e| e.0), Some(8));
        assert!(err.is_some_and(|e| e.1.contains("exactly one of `arg`")));
    }

    #[test]
    fn unknown_brokers_roles_and_modes_are_errors_at_their_line() {
        let queue = |broker: &str, role: &str, mode: &str| {
            format!(
                "[[queue]]\nname = \"q\"\ncall = {{ method = \"m\", requires = \"x\" }}\nbroker = \"{broker}\"\nrole = \"{role}\"\nmode = \"{mode}\"\ntarget = {{ arg = 0 }}\n"
            )
        };
        assert_eq!(
            error_line(&queue("kafak", "topic", "publish")).map(|e| e.0),
            Some(6)
        );
        assert_eq!(
            error_line(&queue("kafka", "topik", "publish")).map(|e| e.0),
            Some(7)
        );
        let mode = error_line(&queue("kafka", "topic", "write"));
        assert_eq!(mode.as_ref().map(|e| e.0), Some(8));
        assert!(mode.is_some_and(|e| e.1.contains("not allowed here")));
        assert_eq!(error_line(&queue("kafka", "topic", "publish")), None);
    }

    #[test]
    fn unknown_keys_and_bad_calls_are_errors() {
        let unknown = "[[http]]\nname = \"h\"\ncall = { function = \"a::b\" }\nurl = { arg = 0 }\nverb = \"GET\"\n";
        assert!(error_line(unknown).is_some());
        let both = "[[watch]]\nname = \"w\"\ncall = { function = \"a::b\", method = \"c\" }\npath = { arg = 0 }\n";
        assert!(
            error_line(both)
                .is_some_and(|e| e.1.contains("exactly one of `function` and `method`"))
        );
        let requires_on_function = "[[watch]]\nname = \"w\"\ncall = { function = \"a::b\", requires = \"a\" }\npath = { arg = 0 }\n";
        assert!(error_line(requires_on_function).is_some());
        let bad_signal =
            "[[signal_handler]]\nname = \"s\"\ncall = { function = \"a::b\" }\nsignal = \"HUP!\"\n";
        assert!(error_line(bad_signal).is_some());
        let encode_without_value =
            "[[codec]]\nname = \"c\"\ncall = { function = \"a::b\" }\ndirection = \"encode\"\n";
        assert!(error_line(encode_without_value).is_some());
    }

    #[test]
    fn user_rows_replace_builtin_rows_with_the_same_name() {
        let mut models = match Models::builtin() {
            Ok(m) => m,
            Err(e) => panic!("built-in models must load: {e}"),
        };
        let before = models.rust.resources.queues.len();
        let text = format!(
            "{HEADER}[[queue]]\nname = \"redis::Commands::lpush\"\ncall = {{ method = \"lpush\", arity = 2, requires = \"redis\" }}\nbroker = \"redis\"\nrole = \"queue\"\nmode = \"consume\"\ntarget = {{ arg = 0 }}\n"
        );
        assert_eq!(models.load_file("user.toml", &text), Ok(()));
        let r = &models.rust.resources;
        assert_eq!(r.queues.len(), before);
        let lpush = r.queues.iter().find(|q| q.name == "redis::Commands::lpush");
        assert_eq!(lpush.map(|q| q.mode), Some(Mode::Consume));
    }
}
