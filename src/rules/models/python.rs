//! The python API models: the schema of `rules/models/python.toml` rows and their merged table.
//!
//! A model file lists `[[function]]` rows, matched by the qualified name of the callee after the
//! file's imports are applied (`osp.join` with `import os.path as osp` is `os.path.join`; a
//! builtin keeps its bare name, `open`), and `[[method]]` rows, matched by the method name (the
//! last dotted component of the row's `name`: `Path.write_text` matches `x.write_text(...)` on
//! any receiver, since types are not known statically). Each row lists the accesses the call
//! performs, each naming where its path comes from (the receiver, or an argument by position
//! and/or keyword), its mode (fixed, or read from an `open()`-style mode argument) and its reach:
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
//! name = "Path.glob"
//! max-args = 1
//! access = [{ receiver = true, mode = "list", glob = { arg = 0, keyword = "pattern" }, yields = "paths" }]
//! ```
//!
//! Raw rows are deserialised with `deny_unknown_fields` and then compiled into [`CallModel`]s;
//! every error names the file and the line of the offending row.

use crate::model::Mode;
use crate::rules::{RulesError, line_of_offset};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// One `language = "python"` model file, validated.
#[derive(Clone, Debug, Default)]
pub struct PythonModelFile {
    pub schema: u32,
    pub language: String,
    pub functions: Vec<CallModel>,
    pub methods: Vec<CallModel>,
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
            for row in rows {
                let line = line_of_offset(text, row.span().start);
                let model = compile_row(kind, row.into_inner(), text)
                    .map_err(|(l, message)| RulesError::at(name, l.unwrap_or(line), message))?;
                if out.iter().any(|m: &CallModel| m.name == model.name) {
                    return Err(RulesError::at(
                        name,
                        line,
                        format!(
                            "`{}` is defined twice in this file; keep one row",
                            model.name
                        ),
                    ));
                }
                out.push(model);
            }
        }
        Ok(file)
    }
}

/// Whether a row matches a call by qualified function name or by method name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    Function,
    Method,
}

/// A call that accesses one or more paths.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    pub accesses: Vec<AccessModel>,
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
}

/// The merged python models the extractor reads.
#[derive(Clone, Debug, Default)]
pub struct PythonModels {
    functions: BTreeMap<String, CallModel>,
    methods: Vec<CallModel>,
    /// Method name -> indexes into `methods`, in file order.
    method_index: BTreeMap<String, Vec<usize>>,
}

impl PythonModels {
    /// Adds a file's rows; a row named like an existing one replaces it.
    pub fn merge(&mut self, file: PythonModelFile) {
        for row in file.functions {
            self.functions.insert(row.name.clone(), row);
        }
        for row in file.methods {
            match self.methods.iter_mut().find(|m| m.name == row.name) {
                Some(existing) => *existing = row,
                None => self.methods.push(row),
            }
        }
        self.method_index.clear();
        for (i, row) in self.methods.iter().enumerate() {
            self.method_index
                .entry(row.call_name().to_string())
                .or_default()
                .push(i);
        }
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

    /// Number of rows, for tests and diagnostics.
    pub fn len(&self) -> usize {
        self.functions.len() + self.methods.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: u32,
    language: String,
    #[serde(default)]
    function: Vec<Spanned<RawRow>>,
    #[serde(default)]
    method: Vec<Spanned<RawRow>>,
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
    access: Vec<Spanned<RawAccess>>,
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

/// A compile error: the line (if more precise than the row's) and the message.
type CompileError = (Option<u32>, String);

fn compile_row(kind: CallKind, raw: RawRow, text: &str) -> Result<CallModel, CompileError> {
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
    if raw.access.is_empty() {
        return Err((None, format!("`{name}` has no `access`; list at least one")));
    }
    if let (Some(min), Some(max)) = (raw.min_args, raw.max_args)
        && min > max
    {
        return Err((
            None,
            format!("`{name}`: min-args {min} is above max-args {max}"),
        ));
    }
    let mut accesses = Vec::new();
    for access in raw.access {
        let line = line_of_offset(text, access.span().start);
        let compiled = compile_access(kind, access.into_inner()).map_err(|m| (Some(line), m))?;
        accesses.push(compiled);
    }
    Ok(CallModel {
        name,
        kind,
        min_args: raw.min_args,
        max_args: raw.max_args,
        accesses,
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
}
