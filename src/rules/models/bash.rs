//! The Bash API models: the schema of `rules/models/bash.toml` rows and their merged table.
//!
//! A row names one or more commands and says, as data, what their words mean: which operands are
//! paths and in which [`Mode`], which options take a value (so that the value is not mistaken for
//! an operand), which options widen the reach to a whole tree (`rm -r`) or switch the mode
//! (`tee -a`, `tar -x`), and whether the command only wraps another one (`sudo`, `timeout 30`),
//! runs a script (`bash x.sh`, `python3 -m pkg`), feeds its input lines to another (`xargs`), or
//! has a grammar of its own (`find`, `test`). Rows of the resource kinds say which secret
//! (`aws secretsmanager get-secret-value --secret-id X`) or queue (`redis-cli LPUSH K`) a command
//! reads, sets, publishes to or consumes from, which signal a command sends to which process
//! (`kill -HUP`, `systemctl reload`), which HTTP request it makes (`curl -X POST`) and which
//! port it listens on (`nc -l`). The extractor holds no command names of its own beyond shell
//! built-ins that change its state or declare handlers (`cd`, `read`, `trap`, `export`).
//!
//! Rows are parsed from TOML with unknown keys rejected, so a typo is an error with file and line,
//! then compiled into [`CommandModel`]s. A later file's row for a name replaces an earlier one, so
//! a user's model for `rm` overrides the built-in row.
//!
//! ```toml
//! [[command]]
//! names = ["rm", "unlink"]
//! kind = "operands"                     # the default
//! tree_flags = ["-r", "-R", "--recursive"]
//! operands = [{ select = "all", mode = "delete" }]
//!
//! [[command]]
//! names = ["redis-cli"]
//! kind = "queue"
//! broker = "redis"
//! value_flags = ["-h", "-p", "-a", "-n"]
//! [[command.use]]
//! verbs = ["lpush", "rpush"]            # after the options, any case
//! mode = "publish"
//! role = "queue"
//! name = [{ select = "first" }]
//! body = [{ index = 2 }]                # a literal JSON object gives the message's fields
//! ```

use crate::extract::{Broker, QueueRole};
use crate::model::Mode;
use crate::rules::{RulesError, line_of_offset};
use serde::{Deserialize, Deserializer, de::Error as _};
use std::collections::BTreeMap;
use toml::Spanned;

/// A command-line option as a row names it: `-r` (matched inside clusters such as `-rf`) or
/// `--recursive` (matched with or without `=value`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Flag {
    Short(char),
    Long(String),
}

impl Flag {
    /// Parses `-x` or `--name`; anything else is not an option name.
    pub fn parse(text: &str) -> Option<Flag> {
        if let Some(long) = text.strip_prefix("--") {
            let valid = !long.is_empty() && !long.contains(['=', ' ', '\t']);
            return valid.then(|| Flag::Long(long.to_string()));
        }
        let mut chars = text.strip_prefix('-')?.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c != '-' && !c.is_whitespace() => Some(Flag::Short(c)),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Flag::parse(&text).ok_or_else(|| {
            D::Error::custom(format!(
                "`{text}` is not an option name: write `-x` for a short option or `--name` for a long one"
            ))
        })
    }
}

/// A mode name from a model file, checked against [`Mode::ALL`] where it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ModeName(Mode);

impl<'de> Deserialize<'de> for ModeName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Mode::parse(&text).map(ModeName).ok_or_else(|| {
            let known: Vec<&str> = Mode::ALL.iter().map(|m| m.as_str()).collect();
            D::Error::custom(format!(
                "unknown mode `{text}` (expected one of {})",
                known.join(", ")
            ))
        })
    }
}

/// A set of options; a command's parsed options are matched against it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlagSet(Vec<Flag>);

impl FromIterator<Flag> for FlagSet {
    fn from_iter<I: IntoIterator<Item = Flag>>(iter: I) -> Self {
        FlagSet(iter.into_iter().collect())
    }
}

impl FlagSet {
    pub fn contains(&self, flag: &Flag) -> bool {
        self.0.contains(flag)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a short option letter is in the set (for option clusters such as `-czf`).
    pub fn has_short(&self, c: char) -> bool {
        self.0.contains(&Flag::Short(c))
    }

    /// Whether a long option name (without `--`) is in the set.
    pub fn has_long(&self, name: &str) -> bool {
        self.0
            .iter()
            .any(|f| matches!(f, Flag::Long(l) if l == name))
    }
}

/// Which of a command's operands (its words that are not options) a rule applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Select {
    All,
    AllButLast,
    /// The destination: the last operand, when there are at least two.
    Last,
    First,
    /// All but the first.
    Rest,
}

/// What a destination operand (or option value) names: the path written, or a directory that
/// each source is written into under its own name (`cp a b /srv/` writes `/srv/a`, `/srv/b`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dest {
    /// The operand is the path accessed.
    #[default]
    Path,
    /// The operand is a directory: the accesses are `DIR/<name of each source>`, the sources
    /// being the row's other operands (`cp -t DIR SRC...`, `install -t DIR SRC...`).
    Directory,
    /// A directory when there are several sources or the operand ends with `/` (`cp a b DIR`,
    /// `mv x DIR/`), otherwise the path itself (`cp a b` may name a file or a directory).
    Auto,
}

/// How far an access reaches from the operand's path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReachKind {
    #[default]
    Exact,
    Tree,
    /// The entries of a directory (`ls dir`); an operand that is itself a glob stays exact.
    Children,
}

/// What runs a script named by an interpreter's operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScriptLanguage {
    /// `bash x.sh`, `sh -c '...'`: a `-c` string is analysed as shell.
    Shell,
    /// `python3 x.py`, `python3 -m pkg.mod`.
    Python,
    /// Any other interpreter: the script path is still a run reference.
    Other,
}

/// The grammar a row's command follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    /// Options and operands, with modes per operand position.
    #[default]
    Operands,
    /// Runs the command given by its operands (`sudo`, `nohup`, `timeout 30`).
    Wrapper,
    /// Runs a script named by its first operand, or a `-c` string.
    Interpreter,
    /// Runs its operands as a command with input lines appended (`find | xargs rm`).
    Xargs,
    /// `find`: start directories and an expression, parsed by the extractor.
    Find,
    /// `test`, `[`, `[[`: checks a path exists.
    Test,
    /// `source`, `.`: reads and runs a file in the current shell.
    Source,
    /// Reads, sets or rotates a secret in a secret manager (`vault kv get`).
    Secret,
    /// Publishes to, consumes from or declares a queue, topic, stream or channel.
    Queue,
    /// Sends a signal (or a start request) to a process or service (`kill -HUP`,
    /// `systemctl reload`).
    Signal,
    /// Listens on a port or socket, so a request there makes the script act (`nc -l`).
    Listener,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Operands => "operands",
            Kind::Wrapper => "wrapper",
            Kind::Interpreter => "interpreter",
            Kind::Xargs => "xargs",
            Kind::Find => "find",
            Kind::Test => "test",
            Kind::Source => "source",
            Kind::Secret => "secret",
            Kind::Queue => "queue",
            Kind::Signal => "signal",
            Kind::Listener => "listener",
        }
    }

    /// The optional keys that mean something for this kind; others are rejected.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Operands => &[
                "value_flags",
                "options_first",
                "leading_cluster",
                "leading_operands",
                "tree_flags",
                "skip_operands",
                "skip_unless_flags",
                "remote_operands",
                "remote_scheme",
                "operands",
                "flag_values",
                "key_operands",
                "cwd_flags",
                "default_operands",
                "when",
                "http",
                "watch_flags",
            ],
            Kind::Wrapper => &[
                "value_flags",
                "skip_operands",
                "skip_unless_flags",
                "assignments",
                "inert_flags",
                "command_flags",
                "container",
                "flag_values",
                "env_flags",
                "volume_flags",
                "mount_flags",
                "env_reset",
                "env_keep_flags",
                "env_reset_flags",
            ],
            Kind::Interpreter => &[
                "value_flags",
                "script",
                "command_flags",
                "module_flags",
                "app_flags",
                "app_operand",
                "flag_values",
                "broker",
                "use",
            ],
            Kind::Xargs => &["value_flags", "replace_flags"],
            Kind::Find | Kind::Source => &[],
            Kind::Test => &[
                "check_operators",
                "binary_check_operators",
                "env_check_operators",
            ],
            Kind::Secret => &["value_flags", "provider", "use", "flag_values"],
            Kind::Queue => &["value_flags", "broker", "use", "flag_values"],
            Kind::Signal => &[
                "value_flags",
                "inert_flags",
                "signal",
                "signal_flags",
                "dash_signal",
                "default_signal",
                "target",
                "pidfile_flags",
            ],
            Kind::Listener => &[
                "value_flags",
                "listen_flags",
                "port_flags",
                "listen_prefixes",
            ],
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: u32,
    language: String,
    #[serde(default)]
    command: Vec<Spanned<RawCommand>>,
    #[serde(default)]
    redirect: Vec<RawRedirect>,
    #[serde(default)]
    ignore_paths: Vec<String>,
    shell: Option<RawShell>,
    #[serde(default)]
    env_reads: Vec<Spanned<RawEnvReads>>,
}

/// An `[[env_reads]]` table: environment variables programs read themselves, if set.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvReads {
    programs: Vec<String>,
    names: Vec<String>,
}

/// The `[shell]` table: what the extractor needs to know about the shell itself.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShell {
    #[serde(default)]
    env_ignore: Vec<String>,
    #[serde(default)]
    pseudo_signals: Vec<String>,
}

/// One `[[command]]` row as written. Keys that do not apply to the row's kind are rejected when
/// compiling, so the file reads flat while the compiled model is a tagged enum.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommand {
    names: Vec<String>,
    #[serde(default)]
    kind: Kind,
    #[serde(default)]
    value_flags: Vec<Flag>,
    #[serde(default)]
    options_first: bool,
    #[serde(default)]
    leading_cluster: bool,
    #[serde(default)]
    leading_operands: bool,
    #[serde(default)]
    tree_flags: Vec<Flag>,
    #[serde(default)]
    skip_operands: usize,
    #[serde(default)]
    skip_unless_flags: Vec<Flag>,
    #[serde(default)]
    remote_operands: bool,
    remote_scheme: Option<String>,
    #[serde(default)]
    operands: Vec<RawOperand>,
    #[serde(default)]
    flag_values: Vec<RawFlagValue>,
    #[serde(default)]
    key_operands: Vec<RawKeyOperand>,
    #[serde(default)]
    cwd_flags: Vec<Flag>,
    #[serde(default)]
    default_operands: Vec<String>,
    #[serde(default)]
    when: Vec<RawWhen>,
    #[serde(default)]
    assignments: bool,
    #[serde(default)]
    inert_flags: Vec<Flag>,
    #[serde(default)]
    command_flags: Vec<Flag>,
    #[serde(default)]
    module_flags: Vec<Flag>,
    #[serde(default)]
    app_flags: Vec<Flag>,
    #[serde(default)]
    app_operand: bool,
    script: Option<ScriptLanguage>,
    #[serde(default)]
    replace_flags: Vec<Flag>,
    #[serde(default)]
    check_operators: Vec<String>,
    #[serde(default)]
    binary_check_operators: Vec<String>,
    #[serde(default)]
    env_check_operators: Vec<String>,
    http: Option<RawHttp>,
    #[serde(default)]
    watch_flags: Vec<Flag>,
    provider: Option<String>,
    broker: Option<BrokerName>,
    #[serde(default, rename = "use")]
    uses: Vec<RawUse>,
    signal: Option<String>,
    #[serde(default)]
    signal_flags: Vec<Flag>,
    #[serde(default)]
    dash_signal: bool,
    default_signal: Option<String>,
    target: Option<SignalTarget>,
    #[serde(default)]
    pidfile_flags: Vec<Flag>,
    #[serde(default)]
    listen_flags: Vec<Flag>,
    #[serde(default)]
    port_flags: Vec<Flag>,
    #[serde(default)]
    listen_prefixes: Vec<String>,
    #[serde(default)]
    container: bool,
    #[serde(default)]
    env_flags: Vec<Flag>,
    #[serde(default)]
    volume_flags: Vec<Flag>,
    #[serde(default)]
    mount_flags: Vec<Flag>,
    #[serde(default)]
    env_reset: bool,
    #[serde(default)]
    env_keep_flags: Vec<Flag>,
    #[serde(default)]
    env_reset_flags: Vec<Flag>,
}

impl RawCommand {
    /// The optional keys this row sets, to check them against its kind.
    fn keys_set(&self) -> Vec<&'static str> {
        let set = [
            ("value_flags", !self.value_flags.is_empty()),
            ("options_first", self.options_first),
            ("leading_cluster", self.leading_cluster),
            ("leading_operands", self.leading_operands),
            ("tree_flags", !self.tree_flags.is_empty()),
            ("skip_operands", self.skip_operands != 0),
            ("skip_unless_flags", !self.skip_unless_flags.is_empty()),
            ("remote_operands", self.remote_operands),
            ("remote_scheme", self.remote_scheme.is_some()),
            ("operands", !self.operands.is_empty()),
            ("flag_values", !self.flag_values.is_empty()),
            ("key_operands", !self.key_operands.is_empty()),
            ("cwd_flags", !self.cwd_flags.is_empty()),
            ("default_operands", !self.default_operands.is_empty()),
            ("when", !self.when.is_empty()),
            ("assignments", self.assignments),
            ("inert_flags", !self.inert_flags.is_empty()),
            ("command_flags", !self.command_flags.is_empty()),
            ("module_flags", !self.module_flags.is_empty()),
            ("app_flags", !self.app_flags.is_empty()),
            ("app_operand", self.app_operand),
            ("script", self.script.is_some()),
            ("replace_flags", !self.replace_flags.is_empty()),
            ("check_operators", !self.check_operators.is_empty()),
            (
                "binary_check_operators",
                !self.binary_check_operators.is_empty(),
            ),
            ("env_check_operators", !self.env_check_operators.is_empty()),
            ("http", self.http.is_some()),
            ("watch_flags", !self.watch_flags.is_empty()),
            ("provider", self.provider.is_some()),
            ("broker", self.broker.is_some()),
            ("use", !self.uses.is_empty()),
            ("signal", self.signal.is_some()),
            ("signal_flags", !self.signal_flags.is_empty()),
            ("dash_signal", self.dash_signal),
            ("default_signal", self.default_signal.is_some()),
            ("target", self.target.is_some()),
            ("pidfile_flags", !self.pidfile_flags.is_empty()),
            ("listen_flags", !self.listen_flags.is_empty()),
            ("port_flags", !self.port_flags.is_empty()),
            ("listen_prefixes", !self.listen_prefixes.is_empty()),
            ("container", self.container),
            ("env_flags", !self.env_flags.is_empty()),
            ("volume_flags", !self.volume_flags.is_empty()),
            ("mount_flags", !self.mount_flags.is_empty()),
            ("env_reset", self.env_reset),
            ("env_keep_flags", !self.env_keep_flags.is_empty()),
            ("env_reset_flags", !self.env_reset_flags.is_empty()),
        ];
        set.iter().filter(|(_, on)| *on).map(|(k, _)| *k).collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperand {
    select: Select,
    mode: ModeName,
    #[serde(default)]
    reach: ReachKind,
    suffix: Option<String>,
    #[serde(default)]
    dest: Dest,
    cut: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlagValue {
    flags: Vec<Flag>,
    mode: ModeName,
    #[serde(default)]
    reach: ReachKind,
    #[serde(default)]
    dest: Dest,
    #[serde(default)]
    keyed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyOperand {
    key: String,
    mode: ModeName,
    #[serde(default)]
    reach: ReachKind,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    flags: Vec<Flag>,
    operands: Option<Vec<RawOperand>>,
    flag_values: Option<Vec<RawFlagValue>>,
    #[serde(default)]
    also: Vec<RawOperand>,
}

/// `[command.http]`: the command makes an HTTP request to its operands (URLs).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    #[serde(default)]
    method_flags: Vec<Flag>,
    #[serde(default)]
    implied: Vec<RawImpliedMethod>,
    #[serde(default)]
    url_flags: Vec<Flag>,
    #[serde(default)]
    method_operand: bool,
    default_method: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImpliedMethod {
    flags: Vec<Flag>,
    method: String,
}

/// One `[[command.use]]` of a secret or queue row: which words select it and which words
/// name the resource.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUse {
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    flags: Vec<Flag>,
    mode: ModeName,
    role: Option<RoleName>,
    #[serde(default)]
    name: Vec<RawArg>,
    #[serde(default)]
    exchange: Vec<RawArg>,
    #[serde(default)]
    bound_queue: Vec<RawArg>,
    #[serde(default)]
    body: Vec<RawArg>,
}

/// Where a name, an exchange or a message body is among a command's words.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArg {
    #[serde(default)]
    flags: Vec<Flag>,
    select: Option<ArgSelect>,
    index: Option<usize>,
    key: Option<String>,
    after: Option<String>,
    #[serde(default)]
    regex: bool,
    #[serde(default)]
    glob: bool,
    #[serde(default)]
    pairs: bool,
    split: Option<char>,
}

/// A broker name from a model file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BrokerName(Broker);

impl<'de> Deserialize<'de> for BrokerName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let broker = match text.as_str() {
            "amqp" => Broker::Amqp,
            "kafka" => Broker::Kafka,
            "sqs" => Broker::Sqs,
            "sns" => Broker::Sns,
            "redis" => Broker::Redis,
            "celery" => Broker::Celery,
            "nats" => Broker::Nats,
            "pubsub" => Broker::Pubsub,
            "unknown" => Broker::Unknown,
            _ => {
                return Err(D::Error::custom(format!(
                    "unknown broker `{text}` (expected amqp, kafka, sqs, sns, redis, celery, nats, pubsub or unknown)"
                )));
            }
        };
        Ok(BrokerName(broker))
    }
}

/// A queue role name from a model file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RoleName(QueueRole);

impl<'de> Deserialize<'de> for RoleName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let role = match text.as_str() {
            "queue" => QueueRole::Queue,
            "topic" => QueueRole::Topic,
            "routing-key" => QueueRole::RoutingKey,
            "binding-key" => QueueRole::BindingKey,
            "stream" => QueueRole::Stream,
            "channel" => QueueRole::Channel,
            "task" => QueueRole::Task,
            _ => {
                return Err(D::Error::custom(format!(
                    "unknown queue role `{text}` (expected queue, topic, routing-key, binding-key, stream, channel or task)"
                )));
            }
        };
        Ok(RoleName(role))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedirect {
    operators: Vec<String>,
    mode: ModeName,
}

/// How a command's words split into options and operands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OptionSyntax {
    /// Options that take a value (`-t DIR`, `-tDIR`, `--target-directory=DIR`).
    pub value_flags: FlagSet,
    /// Options end at the first operand (`sudo cmd -r`: `-r` belongs to `cmd`).
    pub options_first: bool,
    /// The first word may be a cluster of option letters without a dash (`tar czf x.tgz`).
    pub leading_cluster: bool,
    /// Operands stand before the first option; a word after an option is one of that option's
    /// values (`redis-server CONF --save 900 1`), never an operand.
    pub leading_operands: bool,
}

/// One operand position and what the command does to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperandRule {
    pub select: Select,
    pub mode: Mode,
    pub reach: ReachKind,
    /// Appended to the operand's path (`gzip x` writes `x.gz`).
    pub suffix: Option<String>,
    /// Whether the operand is the path or a directory the sources go into.
    pub dest: Dest,
    /// The path is the operand's part before this separator (`borg create REPO::ARCHIVE`);
    /// an operand without it is the path.
    pub cut: Option<String>,
}

/// The value of an option and what the command does to it (`tar -f ARCHIVE`, `mv -t DIR`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagValueRule {
    pub flags: FlagSet,
    pub mode: Mode,
    pub reach: ReachKind,
    /// Whether the value is the path or a directory the operands go into (`-t DIR`).
    pub dest: Dest,
    /// The value may be `KEY=PATH` (`kubectl create secret --from-file=tls.key=/etc/x.key`):
    /// the path is after the first `=` when the text before it has no `/`.
    pub keyed: bool,
}

/// A `key=path` operand (`dd if=... of=...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyOperandRule {
    pub key: String,
    pub mode: Mode,
    pub reach: ReachKind,
}

/// A variant selected by options: when any of `flags` is given, `operands` and `flag_values`
/// replace the row's, and `also` adds accesses. Later variants win.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct When {
    pub flags: FlagSet,
    pub operands: Option<Vec<OperandRule>>,
    pub flag_values: Option<Vec<FlagValueRule>>,
    pub also: Vec<OperandRule>,
}

/// A command whose operands and option values are paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperandsModel {
    pub syntax: OptionSyntax,
    /// Options that make every operand reach its whole tree (`-r`, `-R`, `--recursive`).
    pub tree_flags: FlagSet,
    /// Leading operands that are not paths (the program of `sed`, the mode of `chmod`).
    pub skip_operands: usize,
    /// Options that supply what the skipped operands would (`grep -e PAT`), so none is skipped.
    pub skip_unless_flags: FlagSet,
    /// `host:path` operands name another machine, not a local path (`rsync`, `scp`): they are
    /// remote patterns, `ssh://host/path` (`host::module/p`: `rsync://host/module/p`).
    pub remote_operands: bool,
    /// The scheme `host:path` operands are written with instead of `ssh` (`rclone`'s
    /// `remote:path` is `rclone://remote/path`).
    pub remote_scheme: Option<String>,
    pub operands: Vec<OperandRule>,
    pub flag_values: Vec<FlagValueRule>,
    pub key_operands: Vec<KeyOperandRule>,
    /// Options that change the directory later operands are relative to (`tar -C DIR`).
    pub cwd_flags: FlagSet,
    /// The operands assumed when none is given (`ls` lists `.`).
    pub default_operands: Vec<String>,
    pub when: Vec<When>,
    /// The HTTP request the command makes, if it makes one (boxed: few rows have one).
    pub http: Option<Box<HttpModel>>,
    /// Options that make the command watch its wait-for operands for ever (`inotifywait -m`):
    /// each is then also a watched-file trigger.
    pub watch_flags: FlagSet,
}

/// A command that runs the command made of its remaining words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WrapperModel {
    pub syntax: OptionSyntax,
    /// Operands before the wrapped command (`timeout DURATION cmd`, `flock LOCKFILE cmd`).
    pub skip_operands: usize,
    /// `NAME=value` words before the wrapped command are an environment (`env A=1 cmd`).
    pub assignments: bool,
    /// Options with which nothing is run (`command -v cmd`).
    pub inert_flags: FlagSet,
    /// Options whose value is a shell command string (`su -c 'cmd'`).
    pub command_flags: FlagSet,
    /// Options that name what the skipped operands would (`runuser -u USER cmd`): with one
    /// of them, no operand is skipped.
    pub skip_unless_flags: FlagSet,
    /// The command runs inside the container or pod named by the first skipped operand
    /// (`docker exec web cmd`, `kubectl exec pod -- cmd`); what follows `--` is the command.
    pub container: bool,
    /// Option values that are local paths (`docker run --env-file F`).
    pub flag_values: Vec<FlagValueRule>,
    /// Options whose value sets an environment variable of the command, `NAME=value`
    /// (`docker run -e K=V`).
    pub env_flags: FlagSet,
    /// Options whose value binds a host path into the container, `HOST:CONTAINER[:opts]`
    /// (`docker run -v /srv/data:/data`): the command's paths under CONTAINER are HOST's.
    pub volume_flags: FlagSet,
    /// The same as `type=bind,source=HOST,target=CONTAINER` (`docker run --mount ...`).
    pub mount_flags: FlagSet,
    /// The command runs with a fresh environment (`sudo`), unless one of `env_keep_flags` is
    /// given (`sudo -E`); `env_reset_flags` make it fresh (`env -i`). Programs run so do not
    /// read the script's environment.
    pub env_reset: bool,
    pub env_keep_flags: FlagSet,
    pub env_reset_flags: FlagSet,
}

/// A program that runs a script file, a module or a command string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterpreterModel {
    pub syntax: OptionSyntax,
    pub script: ScriptLanguage,
    /// Options that introduce a command string (`sh -c`, `python3 -c`): no script file is run.
    pub command_flags: FlagSet,
    /// Options whose value is a module to run (`python3 -m pkg.mod`).
    pub module_flags: FlagSet,
    /// Options whose value names an application a server imports (`celery -A pkg`,
    /// `flask --app pkg`): the module, or `module:attribute`.
    pub app_flags: FlagSet,
    /// An operand names the application (`gunicorn pkg.wsgi:app`, `uvicorn pkg.main:app`).
    pub app_operand: bool,
    /// Option values that are local paths the program itself writes or reads
    /// (`celery worker --logfile F --pidfile P`), wherever they stand among the options.
    pub flag_values: Vec<FlagValueRule>,
    /// Queues the launched program consumes (`celery worker -Q a,b`): the row's `broker` and
    /// `use`s, read as a queue row's are, next to the launch.
    pub queue: Option<Box<ResourceModel>>,
}

/// `xargs`: runs its operands as a command with its input lines as extra operands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XargsModel {
    pub syntax: OptionSyntax,
    /// Options naming the string replaced by each input line (`-I {}`); `-i` alone means `{}`.
    pub replace_flags: FlagSet,
}

/// `test`, `[`: the unary operators that check a path, and the binary ones that check two.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TestModel {
    pub check_operators: Vec<String>,
    pub binary_check_operators: Vec<String>,
    /// Operators that test whether a variable is set or empty (`-z`, `-n`, `-v`).
    pub env_check_operators: Vec<String>,
}

/// Which operands (after the verb, if the use has one) an argument takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArgSelect {
    First,
    /// The last operand, even when it is the only one.
    Last,
    All,
    AllButLast,
    /// All but the first.
    Rest,
}

/// Where a resource name (or an exchange, a bound queue, a message body) is among a
/// command's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgSource {
    /// The value of one of these options (`--secret-id X`, `--topic=T`).
    Flags(FlagSet),
    /// Operands after the verb (`redis-cli BRPOP k1 k2 0`: all but the last).
    Operands(ArgSelect),
    /// The operand at this 1-based position after the verb (`kubectl create secret generic
    /// NAME`: 2).
    Index(usize),
    /// A `key=value` operand (`rabbitmqadmin publish routing_key=K`).
    Key(String),
    /// The operand after this word, matched case-insensitively (`XREADGROUP ... STREAMS S`).
    After(String),
}

/// An argument spec: where the value is, and how to read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgSpec {
    pub source: ArgSource,
    /// The value is a regular expression the broker matches (Kafka `--whitelist`): simple ones
    /// become globs, others an unknown name.
    pub regex: bool,
    /// The value is a glob the broker matches (`PSUBSCRIBE 'orders.*'`), quoted or not.
    pub glob: bool,
    /// For a body: the operands are `field value` pairs (`XADD s * f1 v1 f2 v2`), counted from
    /// the position the source names.
    pub pairs: bool,
    /// The value is a list joined by this character (`celery worker -Q a,b`): one name each.
    pub split: Option<char>,
}

/// What kind of resource a secret or queue row names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceTarget {
    Secret { provider: String },
    Queue { broker: Broker },
}

/// One way a secret or queue command is used: selected by a verb (`LPUSH`), by options
/// (`kcat -P`) or always, with the mode and where the name is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceUse {
    /// Verbs that select this use, each as lower-case words (`declare queue`); empty means no
    /// verb.
    pub verbs: Vec<Vec<String>>,
    /// The use applies only when one of these options is given; empty means always.
    pub flags: FlagSet,
    pub mode: Mode,
    /// What a queue name names (queue rows only).
    pub role: Option<QueueRole>,
    /// Alternatives, the first that is present wins.
    pub name: Vec<ArgSpec>,
    pub exchange: Vec<ArgSpec>,
    pub bound_queue: Vec<ArgSpec>,
    pub body: Vec<ArgSpec>,
}

/// A command that accesses a secret or a queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceModel {
    pub syntax: OptionSyntax,
    pub target: ResourceTarget,
    /// The first use whose verb and options match, and whose name is present, applies.
    pub uses: Vec<ResourceUse>,
    /// Option values that are local paths (`--data-file F`, `--from-env-file F`).
    pub flag_values: Vec<FlagValueRule>,
}

/// What a signal command's operands name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalTarget {
    /// Process ids: `$(cat F)` becomes the pid file `F`, `$(pgrep -f name)` the name.
    Pid,
    /// Process, unit or container names.
    Name,
}

/// A command that sends a signal (or asks a service manager to start something).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalModel {
    pub syntax: OptionSyntax,
    /// Options with which nothing is sent (`kill -l`).
    pub inert_flags: FlagSet,
    /// The signal this command always sends (`systemctl reload` sends `HUP`).
    pub signal: Option<String>,
    /// Options whose value is the signal (`-s HUP`, `--signal=SIGHUP`).
    pub signal_flags: FlagSet,
    /// The signal may be written as an option of its own: `-HUP`, `-SIGHUP`, `-1`.
    pub dash_signal: bool,
    /// The signal sent when none is given (`kill` sends `TERM`).
    pub default_signal: Option<String>,
    pub target: SignalTarget,
    /// Options whose value is a pid file (`pkill -F F`).
    pub pidfile_flags: FlagSet,
}

/// A command that listens for connections (`nc -l 8080`, `socat TCP-LISTEN:8080 ...`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListenerModel {
    pub syntax: OptionSyntax,
    /// Options that make it listen; empty with `listen_prefixes` set.
    pub listen_flags: FlagSet,
    /// Options whose value is the port (`nc -l -p 8080`).
    pub port_flags: FlagSet,
    /// Operand prefixes that make it listen, followed by the port or socket path.
    pub listen_prefixes: Vec<String>,
}

/// The HTTP request a command (`curl`, `wget`, `http`) makes to its URL operands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpModel {
    /// Options whose value is the method (`-X POST`).
    pub method_flags: FlagSet,
    /// Options that imply a method (`-d` implies `POST`); later entries win.
    pub implied: Vec<(FlagSet, String)>,
    /// Options whose value is a URL (`--url U`).
    pub url_flags: FlagSet,
    /// The first operand may be the method (`http POST URL`).
    pub method_operand: bool,
    /// The method when nothing says otherwise.
    pub default_method: Option<String>,
}

/// What the extractor knows about the shell itself, as data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShellModel {
    /// Variables that are not configuration: a script that uses them does not read a
    /// credential or a setting from its environment. A trailing `*` matches any rest.
    pub env_ignore: Vec<String>,
    /// `trap` conditions that are not signals another program can send (`EXIT`, `ERR`).
    pub pseudo_signals: Vec<String>,
}

impl ShellModel {
    /// Whether a variable name is in [`ShellModel::env_ignore`].
    pub fn ignores_env(&self, name: &str) -> bool {
        self.env_ignore.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == p,
        })
    }

    pub fn is_pseudo_signal(&self, name: &str) -> bool {
        self.pseudo_signals.iter().any(|p| p == name)
    }
}

/// What a command name means to the extractor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandModel {
    Operands(OperandsModel),
    Wrapper(WrapperModel),
    Interpreter(InterpreterModel),
    Xargs(XargsModel),
    Find,
    Test(TestModel),
    Source,
    Resource(ResourceModel),
    Signal(SignalModel),
    Listener(ListenerModel),
}

/// One `language = "bash"` model file, validated and compiled.
#[derive(Clone, Debug, Default)]
pub struct BashModelFile {
    pub schema: u32,
    pub language: String,
    pub commands: Vec<(Vec<String>, CommandModel)>,
    pub redirects: Vec<(String, Mode)>,
    pub ignore_paths: Vec<String>,
    pub shell: ShellModel,
    /// `[[env_reads]]`: (programs, variables each reads from its environment if set).
    pub env_reads: Vec<(Vec<String>, Vec<String>)>,
}

impl BashModelFile {
    /// Parses and compiles a model file; `name` is used in error messages.
    pub fn parse(name: &str, text: &str) -> Result<Self, RulesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| RulesError::toml(name, text, &e))?;
        let mut commands = Vec::with_capacity(raw.command.len());
        for row in raw.command {
            // The line is found only for an error: a scan of the text per row made loading a
            // large file quadratic.
            let start = row.span().start;
            let row = row.into_inner();
            let model = compile_command(&row)
                .map_err(|message| RulesError::at(name, line_of_offset(text, start), message))?;
            commands.push((row.names, model));
        }
        let redirects = raw
            .redirect
            .into_iter()
            .flat_map(|r| r.operators.into_iter().map(move |op| (op, r.mode.0)))
            .collect();
        let shell = raw
            .shell
            .map(|s| ShellModel {
                env_ignore: s.env_ignore,
                pseudo_signals: s
                    .pseudo_signals
                    .iter()
                    .map(|n| normalize_signal(n))
                    .collect(),
            })
            .unwrap_or_default();
        let mut env_reads = Vec::with_capacity(raw.env_reads.len());
        for table in raw.env_reads {
            let start = table.span().start;
            let table = table.into_inner();
            let valid = |n: &String| {
                n.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
                    && n.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            };
            if table.programs.is_empty()
                || table.programs.iter().any(|p| p.trim().is_empty())
                || !table.names.iter().all(valid)
            {
                return Err(RulesError::at(
                    name,
                    line_of_offset(text, start),
                    "an `[[env_reads]]` table needs `programs` (command names) and `names` (variable names: upper-case letters, digits and `_`)",
                ));
            }
            env_reads.push((table.programs, table.names));
        }
        Ok(BashModelFile {
            schema: raw.schema,
            language: raw.language,
            commands,
            redirects,
            ignore_paths: raw.ignore_paths,
            shell,
            env_reads,
        })
    }
}

fn compile_command(row: &RawCommand) -> Result<CommandModel, String> {
    if row.names.is_empty() || row.names.iter().any(|n| n.trim().is_empty()) {
        return Err("a command row needs `names`, a list of non-empty command names".into());
    }
    let allowed = row.kind.keys();
    if let Some(key) = row.keys_set().into_iter().find(|k| !allowed.contains(k)) {
        return Err(format!(
            "`{key}` does not apply to a row of kind `{}` (its keys: {})",
            row.kind.name(),
            if allowed.is_empty() {
                "none".to_string()
            } else {
                allowed.join(", ")
            }
        ));
    }
    let syntax = OptionSyntax {
        value_flags: FlagSet(row.value_flags.clone()),
        options_first: row.options_first
            || matches!(row.kind, Kind::Wrapper | Kind::Interpreter | Kind::Xargs),
        leading_cluster: row.leading_cluster,
        leading_operands: row.leading_operands,
    };
    Ok(match row.kind {
        Kind::Operands => CommandModel::Operands(OperandsModel {
            syntax,
            tree_flags: FlagSet(row.tree_flags.clone()),
            skip_operands: row.skip_operands,
            skip_unless_flags: FlagSet(row.skip_unless_flags.clone()),
            remote_operands: row.remote_operands,
            remote_scheme: row.remote_scheme.clone(),
            operands: compile_operands(&row.operands),
            flag_values: compile_flag_values(&row.flag_values),
            key_operands: row
                .key_operands
                .iter()
                .map(|k| KeyOperandRule {
                    key: k.key.clone(),
                    mode: k.mode.0,
                    reach: k.reach,
                })
                .collect(),
            cwd_flags: FlagSet(row.cwd_flags.clone()),
            default_operands: row.default_operands.clone(),
            when: row
                .when
                .iter()
                .map(|w| When {
                    flags: FlagSet(w.flags.clone()),
                    operands: w.operands.as_deref().map(compile_operands),
                    flag_values: w.flag_values.as_deref().map(compile_flag_values),
                    also: compile_operands(&w.also),
                })
                .collect(),
            http: row.http.as_ref().map(|h| Box::new(compile_http(h))),
            watch_flags: FlagSet(row.watch_flags.clone()),
        }),
        Kind::Wrapper => CommandModel::Wrapper(WrapperModel {
            syntax,
            skip_operands: row.skip_operands,
            assignments: row.assignments,
            inert_flags: FlagSet(row.inert_flags.clone()),
            command_flags: FlagSet(row.command_flags.clone()),
            skip_unless_flags: FlagSet(row.skip_unless_flags.clone()),
            container: row.container,
            flag_values: compile_flag_values(&row.flag_values),
            env_flags: FlagSet(row.env_flags.clone()),
            volume_flags: FlagSet(row.volume_flags.clone()),
            mount_flags: FlagSet(row.mount_flags.clone()),
            env_reset: row.env_reset,
            env_keep_flags: FlagSet(row.env_keep_flags.clone()),
            env_reset_flags: FlagSet(row.env_reset_flags.clone()),
        }),
        Kind::Interpreter => CommandModel::Interpreter(InterpreterModel {
            syntax: syntax.clone(),
            script: row
                .script
                .ok_or("an interpreter row needs `script` (shell, python or other)")?,
            command_flags: FlagSet(row.command_flags.clone()),
            module_flags: FlagSet(row.module_flags.clone()),
            app_flags: FlagSet(row.app_flags.clone()),
            app_operand: row.app_operand,
            flag_values: compile_flag_values(&row.flag_values),
            queue: match row.broker {
                Some(_) => {
                    // Options may follow the subcommand (`celery worker -A proj -Q q`).
                    let syntax = OptionSyntax {
                        options_first: false,
                        ..syntax.clone()
                    };
                    let mut queue = compile_resource(row, syntax)?;
                    // The row's `flag_values` are the interpreter's own.
                    queue.flag_values.clear();
                    Some(Box::new(queue))
                }
                None if !row.uses.is_empty() => {
                    return Err("an interpreter row with `use`s needs `broker`".into());
                }
                None => None,
            },
        }),
        Kind::Xargs => CommandModel::Xargs(XargsModel {
            syntax,
            replace_flags: FlagSet(row.replace_flags.clone()),
        }),
        Kind::Find => CommandModel::Find,
        Kind::Test => CommandModel::Test(TestModel {
            check_operators: row.check_operators.clone(),
            binary_check_operators: row.binary_check_operators.clone(),
            env_check_operators: row.env_check_operators.clone(),
        }),
        Kind::Source => CommandModel::Source,
        Kind::Secret | Kind::Queue => CommandModel::Resource(compile_resource(row, syntax)?),
        Kind::Signal => CommandModel::Signal(compile_signal(row, syntax)?),
        Kind::Listener => {
            if row.listen_flags.is_empty() && row.listen_prefixes.is_empty() {
                return Err(
                    "a listener row needs `listen_flags` (`-l`) or `listen_prefixes` (`TCP-LISTEN:`)"
                        .into(),
                );
            }
            CommandModel::Listener(ListenerModel {
                syntax,
                listen_flags: FlagSet(row.listen_flags.clone()),
                port_flags: FlagSet(row.port_flags.clone()),
                listen_prefixes: row.listen_prefixes.clone(),
            })
        }
    })
}

/// The modes a secret or queue use may have.
const SECRET_MODES: &[Mode] = &[
    Mode::Read,
    Mode::Set,
    Mode::Rotate,
    Mode::WaitFor,
    Mode::Delete,
];
const QUEUE_MODES: &[Mode] = &[
    Mode::Publish,
    Mode::Consume,
    Mode::Create,
    Mode::Check,
    Mode::Delete,
];

fn compile_resource(row: &RawCommand, syntax: OptionSyntax) -> Result<ResourceModel, String> {
    let target = match (row.kind, &row.provider, row.broker) {
        (Kind::Secret, Some(provider), _) if !provider.trim().is_empty() => {
            ResourceTarget::Secret {
                provider: provider.clone(),
            }
        }
        (Kind::Secret, _, _) => {
            return Err(
                "a secret row needs `provider` (`aws-secretsmanager`, `vault`, ...)".into(),
            );
        }
        (_, _, Some(broker)) => ResourceTarget::Queue { broker: broker.0 },
        _ => return Err("a queue row needs `broker` (`kafka`, `redis`, `sqs`, ...)".into()),
    };
    if row.uses.is_empty() {
        return Err("a secret or queue row needs at least one `[[command.use]]`".into());
    }
    let queue = matches!(target, ResourceTarget::Queue { .. });
    let mut uses = Vec::with_capacity(row.uses.len());
    for (index, raw) in row.uses.iter().enumerate() {
        let n = index + 1;
        let allowed = if queue { QUEUE_MODES } else { SECRET_MODES };
        if !allowed.contains(&raw.mode.0) {
            let names: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
            return Err(format!(
                "use {n}: mode `{}` does not apply here (expected one of {})",
                raw.mode.0,
                names.join(", ")
            ));
        }
        if raw.name.is_empty() {
            return Err(format!(
                "use {n} needs `name`, where the resource's name is"
            ));
        }
        if queue && raw.role.is_none() {
            return Err(format!(
                "use {n} needs `role` (queue, topic, routing-key, binding-key, stream, channel or task)"
            ));
        }
        let queue_only = raw.role.is_some()
            || !raw.exchange.is_empty()
            || !raw.bound_queue.is_empty()
            || !raw.body.is_empty();
        if !queue && queue_only {
            return Err(format!(
                "use {n}: `role`, `exchange`, `bound_queue` and `body` apply to queue rows only"
            ));
        }
        let compile_args = |args: &[RawArg]| -> Result<Vec<ArgSpec>, String> {
            args.iter()
                .map(compile_arg)
                .collect::<Result<Vec<_>, String>>()
                .map_err(|e| format!("use {n}: {e}"))
        };
        uses.push(ResourceUse {
            verbs: raw
                .verbs
                .iter()
                .map(|v| {
                    v.split_whitespace()
                        .map(|w| w.to_ascii_lowercase())
                        .collect()
                })
                .filter(|words: &Vec<String>| !words.is_empty())
                .collect(),
            flags: FlagSet(raw.flags.clone()),
            mode: raw.mode.0,
            role: raw.role.map(|r| r.0),
            name: compile_args(&raw.name)?,
            exchange: compile_args(&raw.exchange)?,
            bound_queue: compile_args(&raw.bound_queue)?,
            body: compile_args(&raw.body)?,
        });
    }
    Ok(ResourceModel {
        syntax,
        target,
        uses,
        flag_values: compile_flag_values(&row.flag_values),
    })
}

fn compile_arg(raw: &RawArg) -> Result<ArgSpec, String> {
    let mut sources = Vec::new();
    if !raw.flags.is_empty() {
        sources.push(ArgSource::Flags(FlagSet(raw.flags.clone())));
    }
    if let Some(select) = raw.select {
        sources.push(ArgSource::Operands(select));
    }
    if let Some(index) = raw.index {
        if index == 0 {
            return Err("`index` counts operands from 1".into());
        }
        sources.push(ArgSource::Index(index));
    }
    if let Some(key) = &raw.key {
        sources.push(ArgSource::Key(key.clone()));
    }
    if let Some(after) = &raw.after {
        sources.push(ArgSource::After(after.to_ascii_lowercase()));
    }
    if sources.len() != 1 {
        return Err(
            "an argument needs exactly one of `flags`, `select`, `index`, `key` or `after`".into(),
        );
    }
    let source = sources.pop().ok_or("an argument needs a source")?;
    if raw.regex && raw.glob {
        return Err("an argument is a `regex` or a `glob`, not both".into());
    }
    Ok(ArgSpec {
        source,
        regex: raw.regex,
        glob: raw.glob,
        pairs: raw.pairs,
        split: raw.split,
    })
}

fn compile_signal(row: &RawCommand, syntax: OptionSyntax) -> Result<SignalModel, String> {
    let target = row
        .target
        .ok_or("a signal row needs `target` (pid or name)")?;
    if row.signal.is_none() && row.signal_flags.is_empty() && !row.dash_signal {
        return Err(
            "a signal row needs `signal`, `signal_flags` or `dash_signal` to know what it sends"
                .into(),
        );
    }
    Ok(SignalModel {
        syntax,
        inert_flags: FlagSet(row.inert_flags.clone()),
        signal: row.signal.as_deref().map(normalize_signal),
        signal_flags: FlagSet(row.signal_flags.clone()),
        dash_signal: row.dash_signal,
        default_signal: row.default_signal.as_deref().map(normalize_signal),
        target,
        pidfile_flags: FlagSet(row.pidfile_flags.clone()),
    })
}

fn compile_http(raw: &RawHttp) -> HttpModel {
    HttpModel {
        method_flags: FlagSet(raw.method_flags.clone()),
        implied: raw
            .implied
            .iter()
            .map(|i| (FlagSet(i.flags.clone()), i.method.to_ascii_uppercase()))
            .collect(),
        url_flags: FlagSet(raw.url_flags.clone()),
        method_operand: raw.method_operand,
        default_method: raw.default_method.as_ref().map(|m| m.to_ascii_uppercase()),
    }
}

/// Signal numbers of Linux (x86 and ARM), for `kill -1` and `trap '...' 15`.
const SIGNAL_NUMBERS: &[(u32, &str)] = &[
    (1, "HUP"),
    (2, "INT"),
    (3, "QUIT"),
    (4, "ILL"),
    (5, "TRAP"),
    (6, "ABRT"),
    (7, "BUS"),
    (8, "FPE"),
    (9, "KILL"),
    (10, "USR1"),
    (11, "SEGV"),
    (12, "USR2"),
    (13, "PIPE"),
    (14, "ALRM"),
    (15, "TERM"),
    (17, "CHLD"),
    (18, "CONT"),
    (19, "STOP"),
    (20, "TSTP"),
    (21, "TTIN"),
    (22, "TTOU"),
    (23, "URG"),
    (24, "XCPU"),
    (25, "XFSZ"),
    (26, "VTALRM"),
    (27, "PROF"),
    (28, "WINCH"),
    (29, "IO"),
    (30, "PWR"),
    (31, "SYS"),
];

/// Signal names knockon recognises as options of their own (`kill -HUP`).
const SIGNAL_NAMES: &[&str] = &[
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "IOT", "BUS", "FPE", "KILL", "USR1", "SEGV",
    "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CLD", "CONT", "STOP", "TSTP", "TTIN",
    "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "POLL", "PWR", "SYS", "RTMIN",
    "RTMAX", "EXIT", "ERR", "DEBUG", "RETURN",
];

/// The short upper-case name of a signal: `SIGHUP`, `hup`, `HUP` and `1` are all `HUP`;
/// unknown numbers stay as written.
pub fn normalize_signal(text: &str) -> String {
    let upper = text.trim().to_ascii_uppercase();
    if let Ok(number) = upper.parse::<u32>() {
        if number == 0 {
            return "EXIT".to_string();
        }
        return SIGNAL_NUMBERS
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, name)| name.to_string())
            .unwrap_or(upper);
    }
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    match name {
        "IOT" => "ABRT".to_string(),
        "CLD" => "CHLD".to_string(),
        "POLL" => "IO".to_string(),
        other => other.to_string(),
    }
}

/// Whether text is a signal name or number (`HUP`, `SIGHUP`, `1`, `RTMIN+3`).
pub fn is_signal(text: &str) -> bool {
    let upper = text.trim().to_ascii_uppercase();
    if !upper.is_empty() && upper.len() <= 3 && upper.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let base = name.split(['+', '-']).next().unwrap_or(name);
    SIGNAL_NAMES.contains(&base) && (base == name || base.starts_with("RT"))
}

fn compile_operands(raw: &[RawOperand]) -> Vec<OperandRule> {
    raw.iter()
        .map(|o| OperandRule {
            select: o.select,
            mode: o.mode.0,
            reach: o.reach,
            suffix: o.suffix.clone(),
            dest: o.dest,
            cut: o.cut.clone().filter(|c| !c.is_empty()),
        })
        .collect()
}

fn compile_flag_values(raw: &[RawFlagValue]) -> Vec<FlagValueRule> {
    raw.iter()
        .map(|f| FlagValueRule {
            flags: FlagSet(f.flags.clone()),
            mode: f.mode.0,
            reach: f.reach,
            dest: f.dest,
            keyed: f.keyed,
        })
        .collect()
}

/// Appends the items not already in `list`, in order, with one set for the whole merge (a
/// `contains` per item made merging long lists quadratic).
fn push_new(list: &mut Vec<String>, items: Vec<String>) {
    let mut seen: std::collections::HashSet<String> = list.iter().cloned().collect();
    for item in items {
        if seen.insert(item.clone()) {
            list.push(item);
        }
    }
}

/// The merged bash models the extractor reads.
#[derive(Clone, Debug, Default)]
pub struct BashModels {
    commands: BTreeMap<String, CommandModel>,
    redirects: BTreeMap<String, Mode>,
    ignore_paths: Vec<String>,
    shell: ShellModel,
    /// Variables each program reads from its environment if set, by command name.
    env_reads: BTreeMap<String, Vec<String>>,
}

impl BashModels {
    /// Adds a file's rows; a row named like an existing one replaces it.
    pub fn merge(&mut self, file: BashModelFile) {
        for (names, model) in file.commands {
            for name in names {
                self.commands.insert(name, model.clone());
            }
        }
        self.redirects.extend(file.redirects);
        push_new(&mut self.ignore_paths, file.ignore_paths);
        push_new(&mut self.shell.env_ignore, file.shell.env_ignore);
        push_new(&mut self.shell.pseudo_signals, file.shell.pseudo_signals);
        // A later file adds variables to a program's list.
        for (programs, names) in file.env_reads {
            for program in programs {
                push_new(self.env_reads.entry(program).or_default(), names.clone());
            }
        }
    }

    /// The variables a program reads from its environment if they are set (`pg_dump`:
    /// `PGPASSWORD`, ...), by its command name.
    pub fn env_reads(&self, program: &str) -> &[String] {
        self.env_reads.get(program).map_or(&[], Vec::as_slice)
    }

    /// What the extractor knows about the shell itself (`[shell]`).
    pub fn shell(&self) -> &ShellModel {
        &self.shell
    }

    /// Whether some row names this program with subcommands (`aws s3 cp` for `aws`), so
    /// leading global options may stand between the program and its subcommand.
    pub fn has_subcommands(&self, program: &str) -> bool {
        let prefix = format!("{program} ");
        self.commands
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(name, _)| name.starts_with(&prefix))
    }

    /// The model for a command name as invoked (`rm`, `python3`).
    pub fn command(&self, name: &str) -> Option<&CommandModel> {
        self.commands.get(name)
    }

    /// The mode of a redirection operator (`>`, `>>`, `<`), if it touches a file.
    pub fn redirect_mode(&self, operator: &str) -> Option<Mode> {
        self.redirects.get(operator).copied()
    }

    /// Paths that are not shared resources (`/dev/null`, `/dev/fd/*`): a trailing `*` matches
    /// any rest.
    pub fn is_ignored_path(&self, path: &str) -> bool {
        self.ignore_paths.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == p,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Result<BashModelFile, RulesError> {
        BashModelFile::parse(
            "x.toml",
            &format!("schema = 1\nlanguage = \"bash\"\n{text}"),
        )
    }

    #[test]
    fn env_reads_merge_per_program_and_later_files_add() {
        let mut models = BashModels::default();
        let base = "[[env_reads]]\nprograms = [\"pg_dump\", \"psql\"]\nnames = [\"PGPASSWORD\"]\n";
        models.merge(file(base).expect("parses"));
        let more =
            "[[env_reads]]\nprograms = [\"pg_dump\"]\nnames = [\"PGPASSWORD\", \"PGHOST\"]\n";
        models.merge(file(more).expect("parses"));
        assert_eq!(models.env_reads("pg_dump"), ["PGPASSWORD", "PGHOST"]);
        assert_eq!(models.env_reads("psql"), ["PGPASSWORD"]);
        assert!(models.env_reads("rm").is_empty());
    }

    #[test]
    fn env_reads_reject_names_that_are_not_variables() {
        let bad = "\n[[env_reads]]\nprograms = [\"pg_dump\"]\nnames = [\"pg-password\"]\n";
        let err = file(bad).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("env_reads"), "{err}");
        let none = "[[env_reads]]\nprograms = []\nnames = [\"X\"]\n";
        assert!(file(none).is_err());
    }

    #[test]
    fn new_row_keys_apply_to_their_kinds_only() {
        let ok = "[[command]]\nnames = [\"x\"]\nleading_operands = true\noperands = [{ select = \"first\", mode = \"read\", cut = \"::\" }]\nflag_values = [{ flags = [\"--f\"], mode = \"read\", keyed = true }]\n";
        assert!(file(ok).is_ok());
        let wrong = "[[command]]\nnames = [\"x\"]\nkind = \"wrapper\"\nleading_operands = true\n";
        assert!(file(wrong).is_err());
        let reset = "[[command]]\nnames = [\"x\"]\nkind = \"wrapper\"\nenv_reset = true\nenv_keep_flags = [\"-E\"]\n";
        assert!(file(reset).is_ok());
        let misplaced = "[[command]]\nnames = [\"x\"]\nenv_reset = true\n";
        assert!(file(misplaced).is_err());
    }
}
