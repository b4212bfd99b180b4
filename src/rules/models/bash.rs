//! The Bash API models: the schema of `rules/models/bash.toml` rows and their merged table.
//!
//! A row names one or more commands and says, as data, what their words mean: which operands are
//! paths and in which [`Mode`], which options take a value (so that the value is not mistaken for
//! an operand), which options widen the reach to a whole tree (`rm -r`) or switch the mode
//! (`tee -a`, `tar -x`), and whether the command only wraps another one (`sudo`, `timeout 30`),
//! runs a script (`bash x.sh`, `python3 -m pkg`), feeds its input lines to another (`xargs`), or
//! has a grammar of its own (`find`, `test`). The extractor holds no command names of its own
//! beyond shell built-ins that change its state (`cd`, `read`).
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
//! ```

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
        }
    }

    /// The optional keys that mean something for this kind; others are rejected.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Operands => &[
                "value_flags",
                "options_first",
                "leading_cluster",
                "tree_flags",
                "skip_operands",
                "skip_unless_flags",
                "remote_operands",
                "operands",
                "flag_values",
                "key_operands",
                "cwd_flags",
                "default_operands",
                "when",
            ],
            Kind::Wrapper => &[
                "value_flags",
                "skip_operands",
                "assignments",
                "inert_flags",
                "command_flags",
            ],
            Kind::Interpreter => &["value_flags", "script", "command_flags", "module_flags"],
            Kind::Xargs => &["value_flags", "replace_flags"],
            Kind::Find | Kind::Source => &[],
            Kind::Test => &["check_operators", "binary_check_operators"],
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
    tree_flags: Vec<Flag>,
    #[serde(default)]
    skip_operands: usize,
    #[serde(default)]
    skip_unless_flags: Vec<Flag>,
    #[serde(default)]
    remote_operands: bool,
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
    script: Option<ScriptLanguage>,
    #[serde(default)]
    replace_flags: Vec<Flag>,
    #[serde(default)]
    check_operators: Vec<String>,
    #[serde(default)]
    binary_check_operators: Vec<String>,
}

impl RawCommand {
    /// The optional keys this row sets, to check them against its kind.
    fn keys_set(&self) -> Vec<&'static str> {
        let set = [
            ("value_flags", !self.value_flags.is_empty()),
            ("options_first", self.options_first),
            ("leading_cluster", self.leading_cluster),
            ("tree_flags", !self.tree_flags.is_empty()),
            ("skip_operands", self.skip_operands != 0),
            ("skip_unless_flags", !self.skip_unless_flags.is_empty()),
            ("remote_operands", self.remote_operands),
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
            ("script", self.script.is_some()),
            ("replace_flags", !self.replace_flags.is_empty()),
            ("check_operators", !self.check_operators.is_empty()),
            (
                "binary_check_operators",
                !self.binary_check_operators.is_empty(),
            ),
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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlagValue {
    flags: Vec<Flag>,
    mode: ModeName,
    #[serde(default)]
    reach: ReachKind,
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
}

/// One operand position and what the command does to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperandRule {
    pub select: Select,
    pub mode: Mode,
    pub reach: ReachKind,
    /// Appended to the operand's path (`gzip x` writes `x.gz`).
    pub suffix: Option<String>,
}

/// The value of an option and what the command does to it (`tar -f ARCHIVE`, `mv -t DIR`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagValueRule {
    pub flags: FlagSet,
    pub mode: Mode,
    pub reach: ReachKind,
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
    /// `host:path` operands name another machine and are not local accesses (`rsync`, `scp`).
    pub remote_operands: bool,
    pub operands: Vec<OperandRule>,
    pub flag_values: Vec<FlagValueRule>,
    pub key_operands: Vec<KeyOperandRule>,
    /// Options that change the directory later operands are relative to (`tar -C DIR`).
    pub cwd_flags: FlagSet,
    /// The operands assumed when none is given (`ls` lists `.`).
    pub default_operands: Vec<String>,
    pub when: Vec<When>,
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
}

/// One `language = "bash"` model file, validated and compiled.
#[derive(Clone, Debug, Default)]
pub struct BashModelFile {
    pub schema: u32,
    pub language: String,
    pub commands: Vec<(Vec<String>, CommandModel)>,
    pub redirects: Vec<(String, Mode)>,
    pub ignore_paths: Vec<String>,
}

impl BashModelFile {
    /// Parses and compiles a model file; `name` is used in error messages.
    pub fn parse(name: &str, text: &str) -> Result<Self, RulesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| RulesError::toml(name, text, &e))?;
        let mut commands = Vec::with_capacity(raw.command.len());
        for row in raw.command {
            let line = line_of_offset(text, row.span().start);
            let row = row.into_inner();
            let model =
                compile_command(&row).map_err(|message| RulesError::at(name, line, message))?;
            commands.push((row.names, model));
        }
        let redirects = raw
            .redirect
            .into_iter()
            .flat_map(|r| r.operators.into_iter().map(move |op| (op, r.mode.0)))
            .collect();
        Ok(BashModelFile {
            schema: raw.schema,
            language: raw.language,
            commands,
            redirects,
            ignore_paths: raw.ignore_paths,
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
    };
    Ok(match row.kind {
        Kind::Operands => CommandModel::Operands(OperandsModel {
            syntax,
            tree_flags: FlagSet(row.tree_flags.clone()),
            skip_operands: row.skip_operands,
            skip_unless_flags: FlagSet(row.skip_unless_flags.clone()),
            remote_operands: row.remote_operands,
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
        }),
        Kind::Wrapper => CommandModel::Wrapper(WrapperModel {
            syntax,
            skip_operands: row.skip_operands,
            assignments: row.assignments,
            inert_flags: FlagSet(row.inert_flags.clone()),
            command_flags: FlagSet(row.command_flags.clone()),
        }),
        Kind::Interpreter => CommandModel::Interpreter(InterpreterModel {
            syntax,
            script: row
                .script
                .ok_or("an interpreter row needs `script` (shell, python or other)")?,
            command_flags: FlagSet(row.command_flags.clone()),
            module_flags: FlagSet(row.module_flags.clone()),
        }),
        Kind::Xargs => CommandModel::Xargs(XargsModel {
            syntax,
            replace_flags: FlagSet(row.replace_flags.clone()),
        }),
        Kind::Find => CommandModel::Find,
        Kind::Test => CommandModel::Test(TestModel {
            check_operators: row.check_operators.clone(),
            binary_check_operators: row.binary_check_operators.clone(),
        }),
        Kind::Source => CommandModel::Source,
    })
}

fn compile_operands(raw: &[RawOperand]) -> Vec<OperandRule> {
    raw.iter()
        .map(|o| OperandRule {
            select: o.select,
            mode: o.mode.0,
            reach: o.reach,
            suffix: o.suffix.clone(),
        })
        .collect()
}

fn compile_flag_values(raw: &[RawFlagValue]) -> Vec<FlagValueRule> {
    raw.iter()
        .map(|f| FlagValueRule {
            flags: FlagSet(f.flags.clone()),
            mode: f.mode.0,
            reach: f.reach,
        })
        .collect()
}

/// The merged bash models the extractor reads.
#[derive(Clone, Debug, Default)]
pub struct BashModels {
    commands: BTreeMap<String, CommandModel>,
    redirects: BTreeMap<String, Mode>,
    ignore_paths: Vec<String>,
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
        for path in file.ignore_paths {
            if !self.ignore_paths.contains(&path) {
                self.ignore_paths.push(path);
            }
        }
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
