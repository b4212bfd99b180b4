//! The Rust API models: the schema of `rules/models/rust.toml` rows and their merged table.
//!
//! Input: one model file's TOML text. Output: validated rows ([`RustModelFile`]) that
//! [`RustModels::merge`] adds to the table the Rust extractor consults.
//!
//! Rows are matched against a call's path *after* `use` resolution (`fs::write` with
//! `use std::fs;` is `std::fs::write`). Since the extractor has no type information, a path that
//! stays partly unresolved (`fs::write` with no `use`) matches a row whose path ends with it at a
//! `::` boundary, if it has at least two segments; a bare name never matches by suffix.
//!
//! The tables of a file (schema 1):
//!
//! - `[[function]]`: a free or associated function; `path` names it and is the row's id,
//!   `args` say which arguments are paths and what the call does to each.
//!   `{ path = "std::fs::rename", args = [{ arg = 0, mode = "move-from" }, { arg = 1, mode = "move-to" }] }`
//! - `[[method]]`: a method matched by name on any receiver (`p.exists()`); `receiver` is what
//!   it does to the receiver path, `args` to path arguments; `arity` restricts the argument count.
//! - `[[builder]]`: a builder chain that ends in a call taking the path
//!   (`OpenOptions::new().append(true).open(p)`): `start` functions, the finishing `method`,
//!   the path `arg`, the `default` mode and `flags` (the first flag set, in row order, decides).
//! - `[[env]]`: a function that reads an environment variable named by argument `arg`; with
//!   `mode = "set"` and `value`, one that sets it (`std::env::set_var`); with `name` and `call`
//!   instead of `path`, a method (see [`resources`]).
//! - `[[run]]`: a function that starts the program or script named by argument `arg`.
//! - `[[value]]`: a function whose result is a known value (`std::env::temp_dir` is `$TMPDIR`
//!   or `/tmp`) or an unknown one of a known shape.
//! - `[[alias]]`: a module with the same API as another (`tokio::fs` like `std::fs`), so rows
//!   are not repeated per crate.
//!
//! - Credentials, queues, triggers and sends: `[[env_macro]]`, `[[env_attribute]]`,
//!   `[[env_struct]]`, `[[secret]]`, `[[queue]]`, `[[queue_name]]`, `[[signal_handler]]`,
//!   `[[signal_send]]`, `[[signal_command]]`, `[[http]]`, `[[route]]`, `[[route_attribute]]`,
//!   `[[schedule]]`, `[[timer]]`, `[[watch]]`, `[[codec]]`: see [`resources`].
//!
//! A row whose id equals an existing row's id replaces it (a user's file overrides built-ins).

pub mod resources;

use crate::expr::{Expr, HoleShape};
use crate::extract::Reach;
use crate::model::Mode;
use crate::rules::{RulesError, line_of_offset};
use foldhash::{HashMap, HashSet};
use resources::CallRow;
pub use resources::{EnvModel, ResourceModels};
use serde::Deserialize;
use toml::Spanned;

/// The largest argument index a row may name; calls with more arguments are not APIs we model.
const MAX_ARG: usize = 16;

/// Where an access's path is in a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathPosition {
    /// The method's receiver (`p` in `p.exists()`).
    Receiver,
    /// The argument at this 0-based index.
    Arg(usize),
}

/// How far an access reaches from its path, as a model row can say it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReachKind {
    #[default]
    Exact,
    Tree,
    Children,
}

impl ReachKind {
    /// The extractor's reach for this kind.
    pub fn to_reach(self) -> Reach {
        match self {
            ReachKind::Exact => Reach::Exact,
            ReachKind::Tree => Reach::Tree,
            ReachKind::Children => Reach::Children,
        }
    }
}

/// One path a call accesses: where it is, what is done to it, how far it reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathAccess {
    pub at: PathPosition,
    pub mode: Mode,
    pub reach: ReachKind,
    /// The argument is a glob pattern the callee expands (`glob::glob`), not a literal path.
    pub glob: bool,
}

/// A function that accesses paths given as arguments (`std::fs::write`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionModel {
    /// The full path, `std::fs::write`; also the row id and the access's `via`.
    pub path: String,
    pub accesses: Vec<PathAccess>,
}

/// A method that accesses its receiver or arguments as paths (`Path::exists`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodModel {
    /// The row id and the access's `via`: `std::path::Path::exists`.
    pub name: String,
    /// The method name matched at call sites: `exists`.
    pub method: String,
    /// When set, only calls with exactly this many arguments match.
    pub arity: Option<usize>,
    pub accesses: Vec<PathAccess>,
}

/// A builder flag: calling `method` (with anything but `false`) selects `mode`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuilderFlag {
    pub method: String,
    pub mode: Mode,
}

/// A builder chain that ends in a method taking the path (`OpenOptions::new()....open(p)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuilderModel {
    /// The row id and the access's `via`.
    pub name: String,
    /// Functions that start the chain (`std::fs::OpenOptions::new`, `std::fs::File::options`).
    pub start: Vec<String>,
    /// The method that takes the path and performs the access (`open`).
    pub method: String,
    /// The index of the path argument of `method`.
    pub arg: usize,
    /// The mode when no flag is set.
    pub default: Mode,
    /// Flags in precedence order: the first one set in the chain decides the mode.
    pub flags: Vec<BuilderFlag>,
}

/// A function that starts a program or script named by argument `arg`
/// (`std::process::Command::new`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunModel {
    pub path: String,
    pub arg: usize,
}

/// A function whose result the extractor writes as a fixed expression (`dirs::home_dir` is
/// `$HOME`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueModel {
    pub path: String,
    pub value: Expr,
}

/// A module with the same API as another: `tokio::fs` like `std::fs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AliasModel {
    pub module: String,
    pub like: String,
}

/// One `language = "rust"` model file, validated.
#[derive(Clone, Debug, Default)]
pub struct RustModelFile {
    pub schema: u32,
    pub language: String,
    pub functions: Vec<FunctionModel>,
    pub methods: Vec<MethodModel>,
    pub builders: Vec<BuilderModel>,
    pub env: Vec<EnvModel>,
    pub runs: Vec<RunModel>,
    pub values: Vec<ValueModel>,
    pub aliases: Vec<AliasModel>,
    pub resources: ResourceModels,
}

// ---------------------------------------------------------------------------------------------
// Raw rows, as written.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: u32,
    language: String,
    #[serde(default)]
    function: Vec<RawFunction>,
    #[serde(default)]
    method: Vec<RawMethod>,
    #[serde(default)]
    builder: Vec<RawBuilder>,
    #[serde(default)]
    env: Vec<Spanned<resources::RawEnvRow>>,
    #[serde(default)]
    run: Vec<RawEnv>,
    #[serde(default)]
    value: Vec<RawValue>,
    #[serde(default)]
    alias: Vec<RawAlias>,
    #[serde(default)]
    env_macro: Vec<Spanned<resources::RawEnvMacro>>,
    #[serde(default)]
    env_attribute: Vec<Spanned<resources::RawEnvAttribute>>,
    #[serde(default)]
    env_struct: Vec<Spanned<resources::RawEnvStruct>>,
    #[serde(default)]
    secret: Vec<Spanned<resources::RawSecret>>,
    #[serde(default)]
    queue: Vec<Spanned<resources::RawQueue>>,
    #[serde(default)]
    queue_name: Vec<Spanned<resources::RawQueueName>>,
    #[serde(default)]
    signal_handler: Vec<Spanned<resources::RawSignalHandler>>,
    #[serde(default)]
    signal_send: Vec<Spanned<resources::RawSignalSend>>,
    #[serde(default)]
    signal_command: Vec<Spanned<resources::RawSignalCommand>>,
    #[serde(default)]
    http: Vec<Spanned<resources::RawHttp>>,
    #[serde(default)]
    route: Vec<Spanned<resources::RawRoute>>,
    #[serde(default)]
    route_attribute: Vec<Spanned<resources::RawRouteAttribute>>,
    #[serde(default)]
    schedule: Vec<Spanned<resources::RawSchedule>>,
    #[serde(default)]
    timer: Vec<Spanned<resources::RawTimer>>,
    #[serde(default)]
    watch: Vec<Spanned<resources::RawWatch>>,
    #[serde(default)]
    codec: Vec<Spanned<resources::RawCodec>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunction {
    path: Spanned<String>,
    args: Vec<RawArg>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArg {
    arg: Spanned<usize>,
    mode: Spanned<String>,
    #[serde(default)]
    reach: ReachKind,
    #[serde(default)]
    glob: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReceiver {
    mode: Spanned<String>,
    #[serde(default)]
    reach: ReachKind,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMethod {
    name: Spanned<String>,
    method: Spanned<String>,
    #[serde(default)]
    arity: Option<usize>,
    #[serde(default)]
    receiver: Option<RawReceiver>,
    #[serde(default)]
    args: Vec<RawArg>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlag {
    method: Spanned<String>,
    mode: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBuilder {
    name: Spanned<String>,
    start: Vec<Spanned<String>>,
    method: Spanned<String>,
    #[serde(default)]
    arg: usize,
    default: Spanned<String>,
    #[serde(default)]
    flags: Vec<RawFlag>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnv {
    path: Spanned<String>,
    #[serde(default)]
    arg: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValue {
    path: Spanned<String>,
    value: RawValueKind,
}

/// What a `[[value]]` row's function returns; externally tagged: `value.env = { .. }` or
/// `value.hole = { .. }`.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
enum RawValueKind {
    /// The value of an environment variable, or `default` when unset.
    Env {
        name: String,
        default: Option<String>,
    },
    /// An unknown value, named `label`.
    Hole {
        label: String,
        #[serde(default)]
        shape: RawShape,
    },
}

#[derive(Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum RawShape {
    #[default]
    Segment,
    Path,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlias {
    module: Spanned<String>,
    like: Spanned<String>,
}

// ---------------------------------------------------------------------------------------------
// Validation.

/// Turns raw rows into validated rows, reporting the first problem at its line.
struct Compiler<'a> {
    name: &'a str,
    text: &'a str,
}

impl Compiler<'_> {
    fn error<T>(
        &self,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
    ) -> Result<T, RulesError> {
        Err(RulesError::at(
            self.name,
            line_of_offset(self.text, span.start),
            message,
        ))
    }

    fn mode(&self, mode: &Spanned<String>) -> Result<Mode, RulesError> {
        match Mode::parse(mode.get_ref()) {
            Some(m) => Ok(m),
            None => {
                let known: Vec<&str> = Mode::ALL.iter().map(|m| m.as_str()).collect();
                self.error(
                    mode.span(),
                    format!(
                        "unknown mode `{}` (expected one of: {})",
                        mode.get_ref(),
                        known.join(", ")
                    ),
                )
            }
        }
    }

    /// A `::`-separated path of identifiers: `std::fs::write`.
    fn path(&self, path: &Spanned<String>) -> Result<String, RulesError> {
        let text = path.get_ref().trim().trim_start_matches("::");
        if !text.is_empty() && text.split("::").all(is_identifier) {
            Ok(text.to_string())
        } else {
            self.error(
                path.span(),
                format!(
                    "`{}` is not a Rust path (write it like `std::fs::write`)",
                    path.get_ref()
                ),
            )
        }
    }

    fn identifier(&self, name: &Spanned<String>) -> Result<String, RulesError> {
        if is_identifier(name.get_ref()) {
            Ok(name.get_ref().clone())
        } else {
            self.error(
                name.span(),
                format!("`{}` is not a method name", name.get_ref()),
            )
        }
    }

    fn arg(&self, raw: &RawArg) -> Result<PathAccess, RulesError> {
        let index = *raw.arg.get_ref();
        if index >= MAX_ARG {
            return self.error(
                raw.arg.span(),
                format!(
                    "argument index {index} is too large (at most {})",
                    MAX_ARG - 1
                ),
            );
        }
        Ok(PathAccess {
            at: PathPosition::Arg(index),
            mode: self.mode(&raw.mode)?,
            reach: raw.reach,
            glob: raw.glob,
        })
    }

    fn function(&self, raw: &RawFunction) -> Result<FunctionModel, RulesError> {
        if raw.args.is_empty() {
            return self.error(
                raw.path.span(),
                "a function row needs at least one entry in `args`",
            );
        }
        Ok(FunctionModel {
            path: self.path(&raw.path)?,
            accesses: raw
                .args
                .iter()
                .map(|a| self.arg(a))
                .collect::<Result<_, _>>()?,
        })
    }

    fn method(&self, raw: &RawMethod) -> Result<MethodModel, RulesError> {
        let mut accesses = Vec::new();
        if let Some(receiver) = &raw.receiver {
            accesses.push(PathAccess {
                at: PathPosition::Receiver,
                mode: self.mode(&receiver.mode)?,
                reach: receiver.reach,
                glob: false,
            });
        }
        for arg in &raw.args {
            accesses.push(self.arg(arg)?);
        }
        if accesses.is_empty() {
            return self.error(raw.name.span(), "a method row needs a `receiver` or `args`");
        }
        Ok(MethodModel {
            name: self.path(&raw.name)?,
            method: self.identifier(&raw.method)?,
            arity: raw.arity,
            accesses,
        })
    }

    fn builder(&self, raw: &RawBuilder) -> Result<BuilderModel, RulesError> {
        if raw.start.is_empty() {
            return self.error(
                raw.name.span(),
                "a builder row needs at least one `start` function",
            );
        }
        if raw.arg >= MAX_ARG {
            return self.error(
                raw.method.span(),
                format!("argument index {} is too large", raw.arg),
            );
        }
        let flags = raw
            .flags
            .iter()
            .map(|f| {
                Ok(BuilderFlag {
                    method: self.identifier(&f.method)?,
                    mode: self.mode(&f.mode)?,
                })
            })
            .collect::<Result<_, RulesError>>()?;
        Ok(BuilderModel {
            name: self.path(&raw.name)?,
            start: raw
                .start
                .iter()
                .map(|s| self.path(s))
                .collect::<Result<_, _>>()?,
            method: self.identifier(&raw.method)?,
            arg: raw.arg,
            default: self.mode(&raw.default)?,
            flags,
        })
    }

    fn run(&self, raw: &RawEnv) -> Result<RunModel, RulesError> {
        if raw.arg >= MAX_ARG {
            return self.error(
                raw.path.span(),
                format!("argument index {} is too large", raw.arg),
            );
        }
        Ok(RunModel {
            path: self.path(&raw.path)?,
            arg: raw.arg,
        })
    }

    fn value(&self, raw: &RawValue) -> Result<ValueModel, RulesError> {
        let value = match &raw.value {
            RawValueKind::Env { name, default } => Expr::Env {
                name: name.clone().into(),
                default: default.as_ref().map(|d| Box::new(Expr::lit(d.clone()))),
            },
            RawValueKind::Hole { label, shape } => Expr::Hole {
                label: label.clone().into(),
                shape: match shape {
                    RawShape::Segment => HoleShape::Segment,
                    RawShape::Path => HoleShape::Path,
                },
            },
        };
        Ok(ValueModel {
            path: self.path(&raw.path)?,
            value,
        })
    }

    fn alias(&self, raw: &RawAlias) -> Result<AliasModel, RulesError> {
        Ok(AliasModel {
            module: self.path(&raw.module)?,
            like: self.path(&raw.like)?,
        })
    }

    fn file(&self, raw: RawFile) -> Result<RustModelFile, RulesError> {
        let tables = resources::RawResourceTables {
            env: raw.env,
            env_macro: raw.env_macro,
            env_attribute: raw.env_attribute,
            env_struct: raw.env_struct,
            secret: raw.secret,
            queue: raw.queue,
            queue_name: raw.queue_name,
            signal_handler: raw.signal_handler,
            signal_send: raw.signal_send,
            signal_command: raw.signal_command,
            http: raw.http,
            route: raw.route,
            route_attribute: raw.route_attribute,
            schedule: raw.schedule,
            timer: raw.timer,
            watch: raw.watch,
            codec: raw.codec,
        };
        let (env, resources) = resources::compile(self.name, self.text, tables)?;
        Ok(RustModelFile {
            env,
            resources,
            functions: raw
                .function
                .iter()
                .map(|r| self.function(r))
                .collect::<Result<_, _>>()?,
            methods: raw
                .method
                .iter()
                .map(|r| self.method(r))
                .collect::<Result<_, _>>()?,
            builders: raw
                .builder
                .iter()
                .map(|r| self.builder(r))
                .collect::<Result<_, _>>()?,
            runs: raw
                .run
                .iter()
                .map(|r| self.run(r))
                .collect::<Result<_, _>>()?,
            values: raw
                .value
                .iter()
                .map(|r| self.value(r))
                .collect::<Result<_, _>>()?,
            aliases: raw
                .alias
                .iter()
                .map(|r| self.alias(r))
                .collect::<Result<_, _>>()?,
            schema: raw.schema,
            language: raw.language,
        })
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

impl RustModelFile {
    /// Parses and validates a model file; errors carry the file and line of the bad row.
    pub fn parse(name: &str, text: &str) -> Result<Self, RulesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| RulesError::toml(name, text, &e))?;
        Compiler { name, text }.file(raw)
    }
}

// ---------------------------------------------------------------------------------------------
// The merged table.

/// The merged Rust models the extractor reads.
#[derive(Clone, Debug, Default)]
pub struct RustModels {
    pub functions: Vec<FunctionModel>,
    pub methods: Vec<MethodModel>,
    pub builders: Vec<BuilderModel>,
    pub env: Vec<EnvModel>,
    pub runs: Vec<RunModel>,
    pub values: Vec<ValueModel>,
    pub aliases: Vec<AliasModel>,
    pub resources: ResourceModels,
    /// Lookup tables, rebuilt by every merge: a call is looked up in every table, and a
    /// linear search per call made a file of many calls slow against a large table.
    index: RustIndex,
}

#[derive(Clone, Debug, Default)]
struct RustIndex {
    functions: PathIndex,
    runs: PathIndex,
    values: PathIndex,
    /// Every function path any row names ([`RustModels::modelled_function_paths`]).
    modelled: PathIndex,
    roots: HashSet<String>,
    names: HashSet<String>,
    /// Every identifier some row `requires` a file to mention, sorted, and a searcher for all
    /// of them at once (none when no row requires one).
    required: Vec<String>,
    required_finder: Option<aho_corasick::AhoCorasick>,
}

/// The rows of a table by key, and by each tail of a key at a `::` boundary; each entry is the
/// first row in table order, as the linear search it replaces found.
#[derive(Clone, Debug, Default)]
struct PathIndex {
    exact: HashMap<String, usize>,
    tails: HashMap<String, usize>,
}

impl PathIndex {
    fn build<'k>(keys: impl Iterator<Item = &'k str>) -> PathIndex {
        let mut index = PathIndex::default();
        for (row, key) in keys.enumerate() {
            index.exact.entry(key.to_string()).or_insert(row);
            let bytes = key.as_bytes();
            for at in 2..bytes.len() {
                if &bytes[at - 2..at] == b"::"
                    && let Some(tail) = key.get(at..)
                {
                    index.tails.entry(tail.to_string()).or_insert(row);
                }
            }
        }
        index
    }
}

/// Rows that a call path selects.
trait PathKeyed {
    fn key(&self) -> &str;
}

impl PathKeyed for FunctionModel {
    fn key(&self) -> &str {
        &self.path
    }
}
impl PathKeyed for EnvModel {
    fn key(&self) -> &str {
        &self.path
    }
}
impl PathKeyed for RunModel {
    fn key(&self) -> &str {
        &self.path
    }
}
impl PathKeyed for ValueModel {
    fn key(&self) -> &str {
        &self.path
    }
}
impl PathKeyed for MethodModel {
    fn key(&self) -> &str {
        &self.name
    }
}
impl PathKeyed for BuilderModel {
    fn key(&self) -> &str {
        &self.name
    }
}
impl PathKeyed for AliasModel {
    fn key(&self) -> &str {
        &self.module
    }
}

/// Adds rows, replacing in place a row with the same id so that order (and with it the
/// precedence of suffix matches) stays that of first definition.
/// One map of keys to positions serves the whole merge: a search per row made merging a large
/// file quadratic.
fn merge_rows<T: PathKeyed>(into: &mut Vec<T>, rows: Vec<T>) {
    let mut position: std::collections::HashMap<String, usize> = into
        .iter()
        .enumerate()
        .map(|(i, r)| (r.key().to_string(), i))
        .rev()
        .collect();
    for row in rows {
        match position.get(row.key()).and_then(|i| into.get_mut(*i)) {
            Some(existing) => *existing = row,
            None => {
                position.insert(row.key().to_string(), into.len());
                into.push(row);
            }
        }
    }
}

impl RustModels {
    /// Adds a file's rows; a row named like an existing one replaces it.
    pub fn merge(&mut self, file: RustModelFile) {
        merge_rows(&mut self.functions, file.functions);
        merge_rows(&mut self.methods, file.methods);
        merge_rows(&mut self.builders, file.builders);
        merge_rows(&mut self.env, file.env);
        merge_rows(&mut self.runs, file.runs);
        merge_rows(&mut self.values, file.values);
        merge_rows(&mut self.aliases, file.aliases);
        self.resources.merge(file.resources);
        let modelled = self.modelled_function_paths();
        let mut roots: HashSet<String> = ["std", "core", "alloc"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        roots.extend(
            modelled
                .iter()
                .filter_map(|p| p.split("::").next().map(str::to_string)),
        );
        let mut names: HashSet<String> = modelled
            .iter()
            .filter_map(|p| p.rsplit("::").next().map(str::to_string))
            .collect();
        let mut required: std::collections::BTreeSet<String> = self
            .resources
            .route_attributes
            .iter()
            .filter_map(|row| row.requires.clone())
            .collect();
        let mut add = |call: &resources::CallPattern| {
            if let resources::CallMatch::Method {
                method, requires, ..
            } = &call.matcher
            {
                names.insert(method.clone());
                required.extend(requires.iter().cloned());
            }
        };
        let r = &self.resources;
        self.env.iter().for_each(|x| add(&x.call));
        r.env_structs.iter().for_each(|x| add(x.call()));
        r.secrets.iter().for_each(|x| add(x.call()));
        r.queues.iter().for_each(|x| add(x.call()));
        r.queue_names.iter().for_each(|x| add(x.call()));
        r.signal_handlers.iter().for_each(|x| add(x.call()));
        r.signal_sends.iter().for_each(|x| add(x.call()));
        r.http.iter().for_each(|x| add(x.call()));
        r.routes.iter().for_each(|x| add(x.call()));
        r.schedules.iter().for_each(|x| add(x.call()));
        r.timers.iter().for_each(|x| add(x.call()));
        r.watches.iter().for_each(|x| add(x.call()));
        r.codecs.iter().for_each(|x| add(x.call()));
        let required: Vec<String> = required.into_iter().collect();
        // Every pattern is an identifier, so a build cannot fail; without one, nothing is
        // found and no identifier is mentioned, as no row asks.
        let required_finder = if required.is_empty() {
            None
        } else {
            aho_corasick::AhoCorasick::new(&required).ok()
        };
        self.index = RustIndex {
            functions: PathIndex::build(self.functions.iter().map(PathKeyed::key)),
            runs: PathIndex::build(self.runs.iter().map(PathKeyed::key)),
            values: PathIndex::build(self.values.iter().map(PathKeyed::key)),
            modelled: PathIndex::build(modelled.iter().map(String::as_str)),
            roots,
            names,
            required,
            required_finder,
        };
    }

    /// Whether some row `requires` a file to mention `ident`: the only identifiers the walk
    /// asks a file for ([`RustModels::required_in`]).
    pub fn requires(&self, ident: &str) -> bool {
        self.index
            .required
            .binary_search_by(|r| r.as_str().cmp(ident))
            .is_ok()
    }

    /// The identifiers some row `requires` that occur in `text` at all, as text: an identifier
    /// token of the file is one of them only if its text is there. Most files hold none, and
    /// their tokens need not be read for identifiers.
    pub fn required_in(&self, text: &str) -> Vec<&str> {
        let Some(finder) = &self.index.required_finder else {
            return Vec::new();
        };
        // Overlapping: one identifier may be part of another (`nats` of `async_nats`).
        let mut found = vec![false; self.index.required.len()];
        for hit in finder.find_overlapping_iter(text) {
            if let Some(seen) = found.get_mut(hit.pattern().as_usize()) {
                *seen = true;
            }
        }
        self.index
            .required
            .iter()
            .zip(found)
            .filter(|(_, seen)| *seen)
            .map(|(ident, _)| ident.as_str())
            .collect()
    }

    /// The function row for a call path (already resolved through `use`), and the name to
    /// report as the access's `via`: the row's path, or the path the call spelled when it
    /// reached the row through an alias (`tokio::fs::write`).
    pub fn function<'a>(&'a self, path: &str) -> Option<(&'a FunctionModel, String)> {
        self.find_indexed(&self.functions, &self.index.functions, path)
    }

    /// The environment-reading function row for a call path (whose result is the variable's
    /// value).
    pub fn env_getter<'a>(&'a self, path: &str) -> Option<(&'a EnvModel, String)> {
        let readers = self.env.iter().filter(|r| r.mode == Mode::Read);
        self.find_by(readers, |r| r.call.function(), |_| true, path)
    }

    /// The first row of `rows` whose function path names `path` (with the matching of
    /// function rows); rows of method calls are skipped.
    pub fn function_row<'a, T: resources::CallRow>(
        &self,
        rows: impl Iterator<Item = &'a T> + Clone,
        path: &str,
    ) -> Option<(&'a T, String)> {
        self.find_by(rows, |r| r.call().function(), |_| true, path)
    }

    /// [`RustModels::function_row`] among the rows `accept` takes, asked only of rows whose
    /// path matches: the first such row of the rows `accept` takes, as filtering them first
    /// finds, without asking it of every row for every path tried.
    pub fn function_row_where<'a, T: resources::CallRow>(
        &self,
        rows: impl Iterator<Item = &'a T> + Clone,
        accept: impl Fn(&'a T) -> bool,
        path: &str,
    ) -> Option<(&'a T, String)> {
        self.find_by(rows, |r| r.call().function(), accept, path)
    }

    /// The program-starting row for a call path.
    pub fn run<'a>(&'a self, path: &str) -> Option<(&'a RunModel, String)> {
        self.find_indexed(&self.runs, &self.index.runs, path)
    }

    /// The fixed-value row for a call path.
    pub fn value<'a>(&'a self, path: &str) -> Option<(&'a ValueModel, String)> {
        self.find_indexed(&self.values, &self.index.values, path)
    }

    /// Whether `path` names a function that some row names (with the same matching as
    /// function rows): a call of it is analysed by the rows, not recorded as a plain call.
    pub fn names_modelled_function(&self, path: &str) -> bool {
        self.lookup(&self.index.modelled, path).is_some()
    }

    /// The first segments of the rows' function paths (and `std`, `core`, `alloc`): calls into
    /// those crates are APIs, not the repository's own functions.
    pub fn model_roots(&self) -> &HashSet<String> {
        &self.index.roots
    }

    /// The last segments of every function path and the names of every method a row names: a
    /// call whose name is not among them matches no row.
    pub fn model_names(&self) -> &HashSet<String> {
        &self.index.names
    }

    /// Every function path a row names: function, run and value rows, aliased modules, and
    /// the function calls of environment and resource rows.
    pub fn modelled_function_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = Vec::new();
        let mut add = |path: &str| paths.push(path.to_string());
        self.functions.iter().for_each(|r| add(&r.path));
        self.runs.iter().for_each(|r| add(&r.path));
        self.values.iter().for_each(|r| add(&r.path));
        self.aliases.iter().for_each(|r| add(&r.module));
        self.env
            .iter()
            .filter_map(|r| r.call.function())
            .for_each(&mut add);
        let r = &self.resources;
        let functions = r
            .env_structs
            .iter()
            .map(|x| x.call())
            .chain(r.secrets.iter().map(|x| x.call()))
            .chain(r.queues.iter().map(|x| x.call()))
            .chain(r.queue_names.iter().map(|x| x.call()))
            .chain(r.signal_handlers.iter().map(|x| x.call()))
            .chain(r.signal_sends.iter().map(|x| x.call()))
            .chain(r.http.iter().map(|x| x.call()))
            .chain(r.routes.iter().map(|x| x.call()))
            .chain(r.schedules.iter().map(|x| x.call()))
            .chain(r.timers.iter().map(|x| x.call()))
            .chain(r.watches.iter().map(|x| x.call()))
            .chain(r.codecs.iter().map(|x| x.call()));
        for call in functions {
            if let Some(path) = call.function() {
                add(path);
            }
        }
        paths
    }

    /// Whether `path` names one of `starts` (with the same matching as function rows).
    pub fn path_matches(&self, path: &str, starts: &[String]) -> bool {
        let rows: Vec<StartRow<'_>> = starts.iter().map(|s| StartRow(s)).collect();
        self.find(&rows, path).is_some()
    }

    /// The first method row for a method name and argument count.
    pub fn method(&self, method: &str, args: usize) -> Option<&MethodModel> {
        self.methods
            .iter()
            .find(|m| m.method == method && m.arity.is_none_or(|a| a == args))
    }

    /// Builder rows finished by this method name.
    pub fn builders_finished_by<'a>(
        &'a self,
        method: &'a str,
    ) -> impl Iterator<Item = &'a BuilderModel> + 'a {
        self.builders.iter().filter(move |b| b.method == method)
    }

    /// Exact match, then through an alias, then by suffix (two segments or more).
    fn find<'a, T: PathKeyed>(&self, rows: &'a [T], path: &str) -> Option<(&'a T, String)> {
        self.find_by(rows.iter(), |r| Some(r.key()), |_| true, path)
    }

    /// [`Self::find`] through the table's index.
    fn find_indexed<'a, T: PathKeyed>(
        &self,
        rows: &'a [T],
        index: &PathIndex,
        path: &str,
    ) -> Option<(&'a T, String)> {
        let (row, through_alias) = self.lookup(index, path)?;
        let row = rows.get(row)?;
        let via = if through_alias {
            path.trim_start_matches("::").to_string()
        } else {
            row.key().to_string()
        };
        Some((row, via))
    }

    /// The row a path selects in an index (exact, through an alias, by tail), and whether it
    /// was reached through an alias.
    fn lookup(&self, index: &PathIndex, path: &str) -> Option<(usize, bool)> {
        let path = path.trim_start_matches("::");
        if let Some(row) = index.exact.get(path) {
            return Some((*row, false));
        }
        for alias in &self.aliases {
            let Some(rest) = path
                .strip_prefix(alias.module.as_str())
                .and_then(|r| r.strip_prefix("::"))
            else {
                continue;
            };
            if let Some(row) = index.exact.get(&format!("{}::{rest}", alias.like)) {
                return Some((*row, true));
            }
        }
        if !path.contains("::") {
            return None;
        }
        index.tails.get(path).map(|row| (*row, false))
    }

    /// [`Self::find`] over rows whose key (if any) `key` gives.
    fn find_by<'a, T: 'a, K>(
        &self,
        mut rows: impl Iterator<Item = &'a T> + Clone,
        key: K,
        accept: impl Fn(&'a T) -> bool,
        path: &str,
    ) -> Option<(&'a T, String)>
    where
        K: Fn(&'a T) -> Option<&'a str>,
    {
        let path = path.trim_start_matches("::");
        if let Some((row, k)) = rows
            .clone()
            .find_map(|r| key(r).filter(|k| *k == path && accept(r)).map(|k| (r, k)))
        {
            return Some((row, k.to_string()));
        }
        for alias in &self.aliases {
            let Some(rest) = path
                .strip_prefix(alias.module.as_str())
                .and_then(|r| r.strip_prefix("::"))
            else {
                continue;
            };
            if let Some(row) = rows
                .clone()
                .find(|r| key(r).is_some_and(|k| is_joined(k, &alias.like, rest)) && accept(r))
            {
                return Some((row, path.to_string()));
            }
        }
        if !path.contains("::") {
            return None;
        }
        rows.find_map(|r| {
            key(r)
                .filter(|k| ends_with_segments(k, path) && accept(r))
                .map(|k| (r, k.to_string()))
        })
    }
}

/// A `start` entry of a builder row, looked up like a function path.
struct StartRow<'a>(&'a str);

impl PathKeyed for StartRow<'_> {
    fn key(&self) -> &str {
        self.0
    }
}

/// `key == format!("{module}::{rest}")`, without allocating.
fn is_joined(key: &str, module: &str, rest: &str) -> bool {
    key.strip_prefix(module)
        .and_then(|r| r.strip_prefix("::"))
        .is_some_and(|r| r == rest)
}

/// `key` ends with `suffix` at a `::` boundary.
fn ends_with_segments(key: &str, suffix: &str) -> bool {
    key.strip_suffix(suffix)
        .is_some_and(|head| head.ends_with("::"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::models::Models;

    fn builtin() -> RustModels {
        match Models::builtin() {
            Ok(m) => m.rust,
            Err(e) => panic!("built-in models must load: {e}"),
        }
    }

    #[test]
    fn every_identifier_a_shipped_row_requires_is_looked_for() {
        let models = builtin();
        let shipped = include_str!("../../../rules/models/rust.toml");
        let mut wanted: Vec<&str> = shipped
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .flat_map(|line| line.split("requires = \"").skip(1))
            .filter_map(|rest| rest.split('"').next())
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        assert!(wanted.len() >= 10, "{wanted:?}");
        for ident in &wanted {
            assert!(models.requires(ident), "`{ident}` is not looked for");
        }
        assert!(!models.requires("std") && !models.requires(""));
        // Found as text, overlapping ones too; a text without them finds none.
        let text = "use async_nats::Client; // reqwest\nfn f() {}";
        assert_eq!(models.required_in(text), ["async_nats", "nats", "reqwest"]);
        assert!(
            models
                .required_in("fn main() { println!(\"hi\"); }")
                .is_empty()
        );
        assert!(RustModels::default().required_in(text).is_empty());
    }

    #[test]
    fn builtin_rust_models_load() {
        let models = builtin();
        assert!(models.functions.len() >= 15);
        assert!(models.function("std::fs::write").is_some());
        assert!(!models.builders.is_empty());
    }

    #[test]
    fn function_rows_match_exactly_by_alias_and_by_suffix() {
        let models = builtin();
        let exact = models.function("std::fs::write").map(|(_, via)| via);
        assert_eq!(exact.as_deref(), Some("std::fs::write"));
        let alias = models
            .function("tokio::fs::write")
            .map(|(row, via)| (row.path.clone(), via));
        assert_eq!(
            alias,
            Some(("std::fs::write".to_string(), "tokio::fs::write".to_string()))
        );
        let suffix = models
            .function("fs::remove_dir_all")
            .map(|(row, _)| row.accesses[0].reach);
        assert_eq!(suffix, Some(ReachKind::Tree));
        assert!(
            models.function("write").is_none(),
            "a bare name never matches by suffix"
        );
        assert!(
            models.function("myfs::write").is_none(),
            "suffixes match whole segments"
        );
    }

    #[test]
    fn unknown_key_is_an_error_with_file_and_line() {
        let text = "schema = 1\nlanguage = \"rust\"\n\n[[function]]\npath = \"a::b\"\nargs = [{ arg = 0, mode = \"read\" }]\nmodel = \"x\"\n";
        let err = RustModelFile::parse("mine.toml", text).err();
        let err = err.map(|e| (e.file, e.line));
        assert_eq!(err, Some(("mine.toml".to_string(), 7)));
    }

    #[test]
    fn unknown_mode_is_an_error_at_its_line() {
        let text = "schema = 1\nlanguage = \"rust\"\n[[function]]\npath = \"a::b\"\nargs = [\n  { arg = 0, mode = \"wrte\" },\n]\n";
        let err = RustModelFile::parse("m.toml", text).err();
        assert_eq!(err.as_ref().map(|e| e.line), Some(6));
        assert!(err.is_some_and(|e| e.message.contains("unknown mode `wrte`")));
    }

    #[test]
    fn bad_path_is_an_error() {
        let text = "schema = 1\nlanguage = \"rust\"\n[[env]]\npath = \"std::env::var()\"\n";
        let err = RustModelFile::parse("m.toml", text).err();
        assert_eq!(err.map(|e| e.line), Some(4));
    }

    #[test]
    fn user_row_replaces_builtin_row_with_same_id() {
        let mut models = builtin();
        let text = "schema = 1\nlanguage = \"rust\"\n[[function]]\npath = \"std::fs::write\"\nargs = [{ arg = 0, mode = \"append\" }]\n";
        let file = RustModelFile::parse("user.toml", text);
        assert!(file.is_ok());
        let before = models.functions.len();
        if let Ok(file) = file {
            models.merge(file);
        }
        assert_eq!(models.functions.len(), before);
        let mode = models
            .function("std::fs::write")
            .map(|(row, _)| row.accesses[0].mode);
        assert_eq!(mode, Some(Mode::Append));
    }

    #[test]
    fn builder_start_paths_match_through_aliases() {
        let models = builtin();
        let Some(builder) = models.builders_finished_by("open").next() else {
            panic!("an `open` builder row is built in");
        };
        assert!(models.path_matches("std::fs::OpenOptions::new", &builder.start));
        assert!(models.path_matches("tokio::fs::OpenOptions::new", &builder.start));
        assert!(models.path_matches("File::options", &builder.start));
        assert!(!models.path_matches("options", &builder.start));
    }
}
