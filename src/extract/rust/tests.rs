//! Tests of the Rust extractor: one per idiom, asserting on the facts it emits.

use super::{extract, module_name};
use crate::expr::{Expr, HoleShape, ScopeId};
use crate::extract::{FileFacts, Import, RawAccess, Reach, RunTarget, ScopeKind};
use crate::model::Mode;
use crate::rules::models::Models;

// --- helpers ---------------------------------------------------------------------------------

fn models() -> Models {
    match Models::builtin() {
        Ok(models) => models,
        Err(e) => panic!("built-in models must load: {e}"),
    }
}

fn facts(source: &str) -> FileFacts {
    extract("src/loader.rs", source, &models())
}

fn lit(text: &str) -> Expr {
    Expr::lit(text)
}

fn var(name: &str, scope: ScopeId, line: u32) -> Expr {
    Expr::Var {
        name: name.to_string().into(),
        scope,
        line,
        env_fallback: false,
        default: None,
    }
}

fn join(parts: Vec<Expr>) -> Expr {
    Expr::Join { parts }
}

fn concat(parts: Vec<Expr>) -> Expr {
    Expr::Concat { parts }
}

fn env(name: &str, default: Option<Expr>) -> Expr {
    Expr::Env {
        name: name.to_string().into(),
        default: default.map(Box::new),
    }
}

fn scope_id(facts: &FileFacts, name: &str) -> ScopeId {
    match facts.scopes.iter().position(|s| s.name == name) {
        Some(id) => id,
        None => panic!("no scope named {name}: {:?}", facts.scopes),
    }
}

fn path_expr(access: &RawAccess) -> &Expr {
    let target = access.resource.as_path().expect("a path access");
    &target.expr
}

fn reach(access: &RawAccess) -> &Reach {
    let target = access.resource.as_path().expect("a path access");
    &target.reach
}

/// The only access of a file.
fn only_access(facts: &FileFacts) -> &RawAccess {
    assert_eq!(facts.warnings, vec![], "unexpected warnings");
    match facts.accesses.as_slice() {
        [access] => access,
        other => panic!("expected one access, got {other:#?}"),
    }
}

/// The path expression, mode and line of the only access in `body` (a function body).
fn access_in(body: &str) -> (Expr, Mode, u32) {
    let source = format!(
        "use std::fs;\nuse std::path::{{Path, PathBuf}};\nfn f(p: &Path, q: &Path) {{\n{body}\n}}\n"
    );
    let facts = facts(&source);
    let access = only_access(&facts);
    (path_expr(access).clone(), access.mode, access.line)
}

/// The value bound to `name` last in a function whose body is `body`.
fn value_of(body: &str, name: &str) -> Expr {
    let source =
        format!("use std::env;\nuse std::path::{{Path, PathBuf}};\nfn f() {{\n{body}\n}}\n");
    let facts = facts(&source);
    assert_eq!(facts.warnings, vec![]);
    match facts.bindings.iter().rev().find(|b| b.name == name) {
        Some(binding) => (*binding.value).clone(),
        None => panic!("no binding of {name}: {:#?}", facts.bindings),
    }
}

// --- the incident ----------------------------------------------------------------------------

const LOADER: &str = r#"use std::fs;
use std::path::PathBuf;

const OUT_DIR: &str = "/data/ticker";

pub fn write_day(day: &str, exchange: &str, rows: &[u8]) -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::var("TICKER_OUT").unwrap_or_else(|_| OUT_DIR.to_string())).join(day);
    fs::create_dir_all(&dir)?;
    fs::write(dir.join(format!("{exchange}.csv")), rows)
}
"#;

#[test]
fn incident_loader_writes_per_exchange_files_under_the_day_directory() {
    let facts = facts(LOADER);
    assert_eq!(facts.warnings, vec![]);
    let f = scope_id(&facts, "write_day");
    assert_eq!(facts.scopes[f].kind, ScopeKind::Function);
    assert_eq!(facts.scopes[f].parent, Some(0));
    assert_eq!(facts.scopes[f].line, 6);

    let paths: Vec<&RawAccess> = facts
        .accesses
        .iter()
        .filter(|a| a.resource.as_path().is_some())
        .collect();
    let [create, write] = paths.as_slice() else {
        panic!("expected two path accesses: {:#?}", facts.accesses);
    };
    assert_eq!(create.mode, Mode::Create);
    assert_eq!(create.line, 8);
    assert_eq!(create.scope, f);
    assert_eq!(create.via, "std::fs::create_dir_all");
    assert_eq!(path_expr(create), &var("dir", f, 8));

    assert_eq!(write.mode, Mode::Write);
    assert_eq!(write.line, 9);
    assert_eq!(write.via, "std::fs::write");
    assert_eq!(reach(write), &Reach::Exact);
    let written = join(vec![
        var("dir", f, 9),
        concat(vec![var("exchange", f, 9), lit(".csv")]),
    ]);
    assert_eq!(path_expr(write), &written);

    let dir = facts.bindings.iter().find(|b| b.name == "dir");
    let dir = dir.map(|b| (b.scope, b.line, (*b.value).clone()));
    let default = var("OUT_DIR", f, 7);
    let expected = join(vec![env("TICKER_OUT", Some(default)), var("day", f, 7)]);
    assert_eq!(dir, Some((f, 7, expected)));

    let out_dir = facts.bindings.iter().find(|b| b.name == "OUT_DIR");
    let out_dir = out_dir.map(|b| (b.scope, b.line, (*b.value).clone()));
    assert_eq!(out_dir, Some((0, 4, lit("/data/ticker"))));
}

// --- scopes and module names -----------------------------------------------------------------

#[test]
fn module_names_follow_the_file_path() {
    let cases = [
        ("src/writer.rs", "writer"),
        ("src/a/mod.rs", "a"),
        ("src/a/b.rs", "a::b"),
        ("src/main.rs", ""),
        ("src/lib.rs", ""),
        ("crates/loader/src/lib.rs", ""),
        ("crates/loader/src/io/write.rs", "io::write"),
        ("src/bin/tool.rs", ""),
        ("src/bin/tool/main.rs", ""),
        ("src/bin/tool/cli.rs", "cli"),
        ("tests/it.rs", ""),
        ("tests/it/main.rs", ""),
        ("tests/it/cli.rs", "cli"),
        ("build.rs", ""),
    ];
    for (path, module) in cases {
        assert_eq!(module_name(path), module, "{path}");
    }
    let facts = extract("src/writer.rs", "", &models());
    assert_eq!(facts.scopes[0].name, "writer");
    assert_eq!(facts.scopes[0].kind, ScopeKind::Module);
}

#[test]
fn functions_methods_and_inline_modules_get_scopes() {
    let source = r#"
struct Store;
impl Store {
    fn save(&self) {}
}
trait Saver {
    fn save_all(&self) {}
    fn declared(&self);
}
mod inner {
    pub fn helper() {
        fn nested() {}
    }
}
"#;
    let facts = facts(source);
    let names: Vec<(&str, ScopeKind, Option<ScopeId>)> = facts
        .scopes
        .iter()
        .map(|s| (s.name.as_str(), s.kind, s.parent))
        .collect();
    let store = scope_id(&facts, "Store");
    let inner = scope_id(&facts, "inner");
    assert_eq!(
        names,
        vec![
            ("loader", ScopeKind::Module, None),
            ("Store", ScopeKind::Class, Some(0)),
            ("Store::save", ScopeKind::Function, Some(0)),
            ("Saver::save_all", ScopeKind::Function, Some(0)),
            ("inner", ScopeKind::Module, Some(0)),
            ("helper", ScopeKind::Function, Some(inner)),
            ("nested", ScopeKind::Function, Some(inner)),
        ]
    );
    let save = scope_id(&facts, "Store::save");
    assert_eq!(facts.scopes[save].class, Some(store));
    assert_eq!(facts.scopes[save].line, 4);
}

// --- imports ---------------------------------------------------------------------------------

#[test]
fn use_items_become_imports() {
    let source = r#"use std::fs;
use std::fs::{write, remove_file as rm};
use crate::config::OUT_DIR;
use super::*;
use std::io::{self, Write as _};
use regex;
fn f() {
    use std::path::Path;
}
"#;
    let facts = facts(source);
    let imports: Vec<(ScopeId, &str, &str, Option<&str>, u32)> = facts
        .imports
        .iter()
        .map(|i: &Import| {
            (
                i.scope,
                i.local.as_str(),
                i.module.as_str(),
                i.name.as_deref(),
                i.line,
            )
        })
        .collect();
    let f = scope_id(&facts, "f");
    assert_eq!(
        imports,
        vec![
            (0, "fs", "std", Some("fs"), 1),
            (0, "write", "std::fs", Some("write"), 2),
            (0, "rm", "std::fs", Some("remove_file"), 2),
            (0, "OUT_DIR", "crate::config", Some("OUT_DIR"), 3),
            (0, "*", "super", Some("*"), 4),
            (0, "io", "std", Some("io"), 5),
            (0, "regex", "regex", None, 6),
            (f, "Path", "std::path", Some("Path"), 8),
        ]
    );
}

#[test]
fn calls_are_matched_after_use_resolution() {
    let source = r#"use std::fs::{write, remove_file as rm};
use std::fs as stdfs;
fn f(p: &str) {
    write(p, b"x");
    rm(p);
    stdfs::read(p);
    std::fs::read_to_string(p);
    ::std::fs::remove_dir(p);
}
"#;
    let facts = facts(source);
    let found: Vec<(Mode, u32, &str)> = facts
        .accesses
        .iter()
        .map(|a| (a.mode, a.line, a.via.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            (Mode::Write, 4, "std::fs::write"),
            (Mode::Delete, 5, "std::fs::remove_file"),
            (Mode::Read, 6, "std::fs::read"),
            (Mode::Read, 7, "std::fs::read_to_string"),
            (Mode::Delete, 8, "std::fs::remove_dir"),
        ]
    );
}

#[test]
fn bare_names_that_are_not_imported_are_not_fs_calls() {
    let source = "fn write(p: &str, x: &[u8]) {}\nfn f() { write(\"/tmp/x\", b\"\"); }\n";
    assert_eq!(facts(source).accesses, vec![]);
}

#[test]
fn unimported_module_paths_match_by_suffix() {
    let (expr, mode, _) = access_in("fs::remove_file(\"/tmp/a\");");
    assert_eq!((expr, mode), (lit("/tmp/a"), Mode::Delete));
    let facts = facts("fn f() { File::create(\"/tmp/b\"); }");
    assert_eq!(only_access(&facts).via, "std::fs::File::create");
}

#[test]
fn glob_imports_resolve_bare_names() {
    let facts = facts("use std::fs::*;\nfn f() { remove_dir_all(\"/tmp/x\"); }\n");
    let access = only_access(&facts);
    assert_eq!((access.mode, reach(access)), (Mode::Delete, &Reach::Tree));
}

// --- std::fs models --------------------------------------------------------------------------

#[test]
fn std_fs_functions_have_their_modes_and_reaches() {
    let cases = [
        ("fs::write(p, \"x\")", Mode::Write, Reach::Exact),
        ("fs::read(p)", Mode::Read, Reach::Exact),
        ("fs::read_to_string(p)", Mode::Read, Reach::Exact),
        ("fs::remove_file(p)", Mode::Delete, Reach::Exact),
        ("fs::remove_dir(p)", Mode::Delete, Reach::Exact),
        ("fs::remove_dir_all(p)", Mode::Delete, Reach::Tree),
        ("fs::create_dir(p)", Mode::Create, Reach::Exact),
        ("fs::create_dir_all(p)", Mode::Create, Reach::Exact),
        ("fs::read_dir(p)", Mode::List, Reach::Children),
        ("fs::metadata(p)", Mode::Check, Reach::Exact),
        ("std::fs::File::create(p)", Mode::Write, Reach::Exact),
        ("std::fs::File::open(p)", Mode::Read, Reach::Exact),
        ("p.exists()", Mode::Check, Reach::Exact),
        ("p.is_file()", Mode::Check, Reach::Exact),
        ("p.is_dir()", Mode::Check, Reach::Exact),
        ("p.try_exists()", Mode::Check, Reach::Exact),
        ("p.read_dir()", Mode::List, Reach::Children),
    ];
    for (call, mode, expected_reach) in cases {
        let source =
            format!("use std::fs;\nfn f(p: &std::path::Path) {{\n    let _ = {call};\n}}\n");
        let facts = facts(&source);
        let access = only_access(&facts);
        assert_eq!(
            (access.mode, reach(access), access.line),
            (mode, &expected_reach, 3),
            "{call}"
        );
        let f = scope_id(&facts, "f");
        assert_eq!(path_expr(access), &var("p", f, 3), "{call}");
    }
}

#[test]
fn two_path_functions_access_both_paths() {
    let cases = [
        ("fs::rename", Mode::MoveFrom, Mode::MoveTo),
        ("fs::copy", Mode::CopyFrom, Mode::MoveTo),
        ("fs::hard_link", Mode::CopyFrom, Mode::MoveTo),
    ];
    for (function, from, to) in cases {
        let source =
            format!("use std::fs;\nfn f() {{\n    {function}(\"/a/tmp\", \"/a/out\").ok();\n}}\n");
        let facts = facts(&source);
        let found: Vec<(Mode, Expr, u32)> = facts
            .accesses
            .iter()
            .map(|a| (a.mode, path_expr(a).clone(), a.line))
            .collect();
        assert_eq!(
            found,
            vec![(from, lit("/a/tmp"), 3), (to, lit("/a/out"), 3)],
            "{function}"
        );
    }
}

#[test]
fn open_options_chains_take_their_mode_from_the_flags() {
    let cases = [
        (
            "OpenOptions::new().append(true).create(true).open(p)",
            Mode::Append,
        ),
        (
            "OpenOptions::new().write(true).create(true).open(p)",
            Mode::Write,
        ),
        (
            "OpenOptions::new().create(true).truncate(true).write(true).open(p)",
            Mode::Write,
        ),
        ("OpenOptions::new().read(true).open(p)", Mode::Read),
        (
            "OpenOptions::new().read(true).write(false).open(p)",
            Mode::Read,
        ),
        ("File::options().append(true).open(p)", Mode::Append),
        (
            "std::fs::OpenOptions::new().write(true).open(p)",
            Mode::Write,
        ),
        (
            "tokio::fs::OpenOptions::new().append(true).open(p)",
            Mode::Append,
        ),
    ];
    for (chain, mode) in cases {
        let source = format!(
            "use std::fs::{{File, OpenOptions}};\nfn f(p: &str) {{\n    let _ = {chain};\n}}\n"
        );
        let facts = facts(&source);
        let access = only_access(&facts);
        let f = scope_id(&facts, "f");
        assert_eq!(
            (access.mode, access.line, path_expr(access)),
            (mode, 3, &var("p", f, 3)),
            "{chain}"
        );
    }
    let unrelated = facts("fn f(db: Db) { db.connect().open(\"/x\"); }");
    assert_eq!(unrelated.accesses, vec![]);
}

#[test]
fn dir_builder_creates() {
    let (expr, mode, _) =
        access_in("std::fs::DirBuilder::new().recursive(true).create(\"/srv/x\").ok();");
    assert_eq!((expr, mode), (lit("/srv/x"), Mode::Create));
}

#[test]
fn async_runtimes_use_the_std_rows() {
    let source = r#"use tokio::fs;
async fn f(p: &str) {
    fs::write(p, b"x").await.ok();
    async_std::fs::remove_file(p).await.ok();
    tokio::fs::File::create(p).await.ok();
}
"#;
    let facts = facts(source);
    let found: Vec<(Mode, &str)> = facts
        .accesses
        .iter()
        .map(|a| (a.mode, a.via.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            (Mode::Write, "tokio::fs::write"),
            (Mode::Delete, "async_std::fs::remove_file"),
            (Mode::Write, "tokio::fs::File::create"),
        ]
    );
}

#[test]
fn path_methods_on_unknown_values_are_not_reported() {
    let source = "fn f(e: Entry) { if e.file_type().is_file() {} if make().exists() {} }";
    assert_eq!(facts(source).accesses, vec![]);
}

#[test]
fn path_method_receivers_are_translated() {
    let (expr, mode, _) = access_in("if Path::new(\"/data/done\").join(\"x.ok\").exists() {}");
    assert_eq!(expr, join(vec![lit("/data/done"), lit("x.ok")]));
    assert_eq!(mode, Mode::Check);
}

#[test]
fn access_line_is_where_the_call_starts() {
    let source = "use std::fs;\nfn f(rows: &[u8]) {\n    fs::write(\n        \"/data/out.csv\",\n        rows,\n    )\n    .unwrap();\n}\n";
    let facts = facts(source);
    assert_eq!(only_access(&facts).line, 3);
}

#[test]
fn glob_crate_patterns_are_globs() {
    let facts = facts(
        "fn f() { for p in glob::glob(\"/data/*.csv\").unwrap() { std::fs::remove_file(p.unwrap()).ok(); } }",
    );
    let found: Vec<(Mode, Expr)> = facts
        .accesses
        .iter()
        .map(|a| (a.mode, path_expr(a).clone()))
        .collect();
    let pattern = Expr::glob("/data/*.csv");
    assert_eq!(found[0], (Mode::List, pattern.clone()));
    let f = scope_id(&facts, "f");
    assert_eq!(found[1], (Mode::Delete, var("p", f, 1)));
    let p = facts
        .bindings
        .iter()
        .find(|b| b.name == "p")
        .map(|b| (*b.value).clone());
    assert_eq!(p, Some(pattern));
}

#[test]
fn path_functions_called_as_functions_check() {
    let (expr, mode, _) = access_in("if Path::exists(Path::new(\"/data/.done\")) {}");
    assert_eq!((expr, mode), (lit("/data/.done"), Mode::Check));
}

#[test]
fn commands_started_are_runs() {
    let source = "use std::process::Command;\nfn f() {\n    Command::new(\"/opt/ops/bin/rotate.sh\").arg(\"-v\").status().ok();\n}\n";
    let facts = facts(source);
    let f = scope_id(&facts, "f");
    let runs: Vec<(ScopeId, u32, RunTarget)> = facts
        .runs
        .iter()
        .map(|r| (r.scope, r.line, r.target.clone()))
        .collect();
    let target = RunTarget::Path {
        expr: lit("/opt/ops/bin/rotate.sh"),
    };
    assert_eq!(runs, vec![(f, 3, target)]);
    assert_eq!(facts.accesses, vec![]);
}

// --- the model files ---------------------------------------------------------------------------

#[test]
fn builtin_models_load() {
    let models = models();
    assert!(models.rust.function("std::fs::write").is_some());
    assert!(models.rust.method("exists", 0).is_some());
}

#[test]
fn model_file_with_an_unknown_key_fails_with_file_and_line() {
    let text = "schema = 1\nlanguage = \"rust\"\n\n[[function]]\npath = \"acme::store::put\"\nargs = [{ arg = 0, mode = \"write\" }]\nmodes = \"write\"\n";
    let mut models = Models::default();
    let error = models.load_file("rules/models/acme.toml", text).err();
    let error = error.map(|e| e.to_string());
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.starts_with("rules/models/acme.toml:7: ")),
        "{error:?}"
    );
}

#[test]
fn user_models_add_in_house_wrappers() {
    let mut models = models();
    let text = "schema = 1\nlanguage = \"rust\"\n[[function]]\npath = \"acme::store::put\"\nargs = [{ arg = 1, mode = \"write\" }]\n";
    assert_eq!(models.load_file("acme.toml", text), Ok(()));
    let source = "use acme::store;\nfn f() { store::put(3, \"/data/x\"); }\n";
    let facts = extract("src/x.rs", source, &models);
    let access = only_access(&facts);
    assert_eq!(
        (access.mode, path_expr(access), access.via.as_str()),
        (Mode::Write, &lit("/data/x"), "acme::store::put")
    );
}

// --- bindings --------------------------------------------------------------------------------

#[test]
fn let_bindings_and_shadowing_are_recorded_at_their_lines() {
    let source = "fn f() {\n    let out = \"/a\";\n    let out: &str = \"/b\";\n    let mut n = 1;\n    n = 2;\n}\n";
    let facts = facts(source);
    let f = scope_id(&facts, "f");
    let found: Vec<(ScopeId, &str, Expr, u32)> = facts
        .bindings
        .iter()
        .map(|b| (b.scope, b.name.as_str(), (*b.value).clone(), b.line))
        .collect();
    assert_eq!(
        found,
        vec![
            (f, "out", lit("/a"), 2),
            (f, "out", lit("/b"), 3),
            (f, "n", lit("1"), 4),
            (f, "n", lit("2"), 5),
        ]
    );
}

#[test]
fn const_and_static_items_bind_in_the_module_scope() {
    let source = "const A: &str = \"/a\";\nstatic B: &str = \"/b\";\nmod m {\n    pub const C: &str = \"/c\";\n}\n";
    let facts = facts(source);
    let m = scope_id(&facts, "m");
    let found: Vec<(ScopeId, &str, u32)> = facts
        .bindings
        .iter()
        .map(|b| (b.scope, b.name.as_str(), b.line))
        .collect();
    assert_eq!(found, vec![(0, "A", 1), (0, "B", 2), (m, "C", 4)]);
}

#[test]
fn pathbuf_push_rebinds_the_variable() {
    let source = "fn f(day: &str) {\n    let mut p = PathBuf::from(\"/data\");\n    p.push(day);\n    p.set_extension(\"csv\");\n    std::fs::write(&p, \"\").ok();\n}\n";
    let facts = facts(source);
    let f = scope_id(&facts, "f");
    let found: Vec<(Expr, u32)> = facts
        .bindings
        .iter()
        .filter(|b| b.name == "p")
        .map(|b| ((*b.value).clone(), b.line))
        .collect();
    let replaced = Expr::ReplaceName {
        of: Box::new(var("p", f, 4)),
        name: Box::new(lit(".csv")),
        suffix_only: true,
    };
    assert_eq!(
        found,
        vec![
            (lit("/data"), 2),
            (join(vec![var("p", f, 3), var("day", f, 3)]), 3),
            (replaced, 4),
        ]
    );
    assert_eq!(path_expr(only_access(&facts)), &var("p", f, 5));
}

#[test]
fn clones_of_path_variables_are_paths() {
    let source = "fn f(base: PathBuf) {\n    let mut p = base.clone();\n    p.push(\"x\");\n}\n";
    let facts = facts(source);
    let f = scope_id(&facts, "f");
    let last = facts.bindings.last().map(|b| (*b.value).clone());
    assert_eq!(last, Some(join(vec![var("p", f, 3), lit("x")])));
}

#[test]
fn push_on_values_not_known_to_be_paths_is_ignored() {
    let source = "fn f() { let mut v = Vec::new(); v.push(\"x\"); }";
    let facts = facts(source);
    assert_eq!(facts.bindings.iter().filter(|b| b.name == "v").count(), 1);
}

#[test]
fn pathbuf_parameters_and_annotations_are_paths() {
    let source = "fn f(mut dir: PathBuf) {\n    dir.push(\"x\");\n    let mut o: PathBuf = make();\n    o.push(\"y\");\n}\n";
    let facts = facts(source);
    let pushed: Vec<&str> = facts
        .bindings
        .iter()
        .filter(|b| matches!(*b.value, Expr::Join { .. }))
        .map(|b| b.name.as_str())
        .collect();
    assert_eq!(pushed, vec!["dir", "o"]);
}

#[test]
fn push_str_and_add_assign_concatenate() {
    assert_eq!(
        value_of(
            "let mut s = String::from(\"/a\");\n s.push_str(\"/b\");",
            "s"
        ),
        concat(vec![var("s", 1, 5), lit("/b")])
    );
    assert_eq!(
        value_of("let mut s = String::new();\n s += \"x\";", "s"),
        concat(vec![var("s", 1, 5), lit("x")])
    );
}

#[test]
fn for_loops_bind_their_variable() {
    let source = r#"const EXCHANGES: [&str; 2] = ["NYSE", "LSE"];
fn f(dir: &Path) {
    for x in ["a", "b"] {}
    for e in EXCHANGES {}
    for e in EXCHANGES.iter() {}
    for entry in std::fs::read_dir(dir).unwrap() {}
    for (i, name) in names.iter().enumerate() {}
}
"#;
    let facts = facts(source);
    let f = scope_id(&facts, "f");
    let found: Vec<(&str, Expr, u32)> = facts
        .bindings
        .iter()
        .map(|b| (b.name.as_str(), (*b.value).clone(), b.line))
        .collect();
    let alternatives = |a: &str, b: &str| Expr::Alt {
        options: vec![lit(a), lit(b)],
    };
    assert_eq!(
        found,
        vec![
            ("EXCHANGES", alternatives("NYSE", "LSE"), 1),
            ("x", alternatives("a", "b"), 3),
            ("e", var("EXCHANGES", f, 4), 4),
            ("e", var("EXCHANGES", f, 5), 5),
            (
                "entry",
                join(vec![var("dir", f, 6), Expr::hole("entry")]),
                6
            ),
            ("i", Expr::hole("i"), 7),
            ("name", Expr::hole("name"), 7),
        ]
    );
}

#[test]
fn if_let_and_let_else_bind_the_inner_value() {
    assert_eq!(
        value_of("let Ok(dir) = env::var(\"D\") else { return };", "dir"),
        env("D", None)
    );
    assert_eq!(
        value_of("if let Some(home) = std::env::var_os(\"H\") {}", "home"),
        env("H", None)
    );
}

#[test]
fn associated_consts_and_self_paths_use_the_type_name() {
    let source = r#"struct Store;
impl Store {
    const DIR: &'static str = "/srv/store";
    fn path(&self) {
        std::fs::remove_file(Self::DIR).ok();
        std::fs::remove_file(config::OUT_DIR).ok();
    }
}
"#;
    let facts = facts(source);
    let method = scope_id(&facts, "Store::path");
    let dir = facts
        .bindings
        .iter()
        .find(|b| b.name == "Store::DIR")
        .map(|b| (b.scope, (*b.value).clone()));
    assert_eq!(dir, Some((0, lit("/srv/store"))));
    let paths: Vec<Expr> = facts
        .accesses
        .iter()
        .map(|a| path_expr(a).clone())
        .collect();
    assert_eq!(
        paths,
        vec![
            var("Store::DIR", method, 5),
            var("config::OUT_DIR", method, 6)
        ]
    );
}

#[test]
fn struct_fields_bind_self_fields_in_the_class_scope() {
    let source = r#"struct Store { dir: PathBuf }
impl Store {
    fn new() -> Self {
        Self { dir: PathBuf::from("/srv/store") }
    }
    fn clear(&mut self) {
        self.dir = PathBuf::from("/srv/other");
        std::fs::remove_dir_all(&self.dir).ok();
    }
}
"#;
    let facts = facts(source);
    let class = scope_id(&facts, "Store");
    let clear = scope_id(&facts, "Store::clear");
    let found: Vec<(ScopeId, &str, Expr, u32)> = facts
        .bindings
        .iter()
        .map(|b| (b.scope, b.name.as_str(), (*b.value).clone(), b.line))
        .collect();
    assert_eq!(
        found,
        vec![
            (class, "self.dir", lit("/srv/store"), 4),
            (class, "self.dir", lit("/srv/other"), 7),
        ]
    );
    assert_eq!(path_expr(only_access(&facts)), &var("self.dir", clear, 8));
}

#[test]
fn lazy_statics_bind_their_value() {
    let source = r#"lazy_static! {
    static ref ROOT: PathBuf = PathBuf::from("/srv/root");
}
static OTHER: LazyLock<PathBuf> = LazyLock::new(|| PathBuf::from("/srv/other"));
"#;
    let facts = facts(source);
    let found: Vec<(ScopeId, &str, Expr, u32)> = facts
        .bindings
        .iter()
        .map(|b| (b.scope, b.name.as_str(), (*b.value).clone(), b.line))
        .collect();
    assert_eq!(
        found,
        vec![
            (0, "ROOT", lit("/srv/root"), 2),
            (0, "OTHER", lit("/srv/other"), 4),
        ]
    );
}

// --- expressions -----------------------------------------------------------------------------

#[test]
fn string_literals_raw_strings_and_conversions() {
    let cases = [
        ("let x = \"/a\";", lit("/a")),
        ("let x = r\"C:\\dir\";", lit("C:\\dir")),
        ("let x = r#\"/a/\"b\"\"#;", lit("/a/\"b\"")),
        ("let x = String::from(\"/a\");", lit("/a")),
        ("let x = \"/a\".to_string();", lit("/a")),
        ("let x = \"/a\".to_owned();", lit("/a")),
        ("let x: String = \"/a\".into();", lit("/a")),
        ("let x = Path::new(\"/a\");", lit("/a")),
        ("let x = PathBuf::from(\"/a\");", lit("/a")),
        ("let x = Path::new(\"/a\").to_path_buf();", lit("/a")),
        (
            "let x = PathBuf::from(\"/a\").as_path().display().to_string();",
            lit("/a"),
        ),
        ("let x = &*\"/a\".as_ref();", lit("/a")),
        ("let x = \"/a\".clone().as_str();", lit("/a")),
    ];
    for (statement, expected) in cases {
        assert_eq!(value_of(statement, "x"), expected, "{statement}");
    }
}

#[test]
fn format_macros_become_concatenations() {
    let f = 1;
    let cases = [
        (
            "let x = format!(\"/d/{}.csv\", day);",
            concat(vec![lit("/d/"), var("day", f, 4), lit(".csv")]),
        ),
        (
            "let x = format!(\"{0}/{1}/{0}\", a, b);",
            concat(vec![
                var("a", f, 4),
                lit("/"),
                var("b", f, 4),
                lit("/"),
                var("a", f, 4),
            ]),
        ),
        (
            "let x = format!(\"{dir}/{name}.csv\");",
            concat(vec![
                var("dir", f, 4),
                lit("/"),
                var("name", f, 4),
                lit(".csv"),
            ]),
        ),
        (
            "let x = format!(\"{d}/x\", d = base);",
            concat(vec![var("base", f, 4), lit("/x")]),
        ),
        (
            "let x = format!(\"{:>8}/{n:04}\", a, n = 3);",
            concat(vec![var("a", f, 4), lit("/3")]),
        ),
        (
            "let x = format!(\"{{literal}}/{}\", a);",
            concat(vec![lit("{literal}/"), var("a", f, 4)]),
        ),
        (
            "let x = format!(\"/d/{:?}\", a);",
            concat(vec![lit("/d/"), Expr::hole("debug format")]),
        ),
        (
            "let x = format_args!(\"/d/{}\", a).to_string();",
            concat(vec![lit("/d/"), var("a", f, 4)]),
        ),
        ("let x = concat!(\"/d/\", \"x\");", lit("/d/x")),
        (
            "let x = \"/d/\".to_string() + &name + \".csv\";",
            concat(vec![lit("/d/"), var("name", f, 4), lit(".csv")]),
        ),
        ("let x = [\"/d\", \"x\"].join(\"/\");", lit("/d/x")),
    ];
    for (statement, expected) in cases {
        assert_eq!(value_of(statement, "x"), expected, "{statement}");
    }
}

#[test]
fn format_arguments_on_other_lines_keep_their_lines() {
    let value = value_of("let x = format!(\n    \"{}/{}\",\n    a,\n    b,\n);", "x");
    assert_eq!(
        value,
        concat(vec![var("a", 1, 6), lit("/"), var("b", 1, 7)])
    );
}

#[test]
fn environment_reads_become_env() {
    let cases = [
        (
            "let x = env::var(\"X\").unwrap_or(\"/d\".into());",
            env("X", Some(lit("/d"))),
        ),
        (
            "let x = env::var(\"X\").unwrap_or_else(|_| \"/d\".to_string());",
            env("X", Some(lit("/d"))),
        ),
        (
            "let x = env::var(\"X\").unwrap_or_default();",
            env("X", Some(lit(""))),
        ),
        ("let x = env::var(\"X\")?;", env("X", None)),
        ("let x = env::var(\"X\").unwrap();", env("X", None)),
        ("let x = env::var(\"X\").expect(\"set X\");", env("X", None)),
        ("let x = env::var(\"X\").ok();", env("X", None)),
        (
            "let x = env::var(\"X\").ok().unwrap_or(\"/d\".into());",
            env("X", Some(lit("/d"))),
        ),
        (
            "let x = std::env::var_os(\"X\").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(\"/d\"));",
            env("X", Some(lit("/d"))),
        ),
        (
            "let x = env::var(\"A\").or_else(|_| env::var(\"B\")).unwrap_or(\"/d\".into());",
            env("A", Some(env("B", Some(lit("/d"))))),
        ),
        (
            "let x = env!(\"CARGO_MANIFEST_DIR\");",
            env("CARGO_MANIFEST_DIR", None),
        ),
        (
            "let x = option_env!(\"X\").unwrap_or(\"/d\");",
            env("X", Some(lit("/d"))),
        ),
        (
            "let x = env::var(\"X\").map(|v| PathBuf::from(v).join(\"sub\")).unwrap();",
            join(vec![env("X", None), lit("sub")]),
        ),
    ];
    for (statement, expected) in cases {
        assert_eq!(value_of(statement, "x"), expected, "{statement}");
    }
}

#[test]
fn dates_become_strftime_holes() {
    let strftime = |label: &str, format: &str| Expr::Hole {
        label: label.to_string().into(),
        shape: HoleShape::Strftime {
            format: format.to_string().into(),
        },
    };
    let cases = [
        (
            "let x = Utc::now().format(\"%Y-%m-%d\").to_string();",
            strftime("now", "%Y-%m-%d"),
        ),
        (
            "let x = chrono::Local::now().format(\"%Y%m%d\");",
            strftime("now", "%Y%m%d"),
        ),
        (
            "let x = date.format(\"%F\").to_string();",
            strftime("date", "%F"),
        ),
        (
            "let x = format!(\"/d/ticker_{}.csv\", day.format(\"%Y-%m-%d\"));",
            concat(vec![
                lit("/d/ticker_"),
                strftime("day", "%Y-%m-%d"),
                lit(".csv"),
            ]),
        ),
    ];
    for (statement, expected) in cases {
        assert_eq!(value_of(statement, "x"), expected, "{statement}");
    }
}

#[test]
fn home_and_temp_dirs() {
    assert_eq!(
        value_of("let x = dirs::home_dir().unwrap().join(\".cfg\");", "x"),
        join(vec![env("HOME", None), lit(".cfg")])
    );
    assert_eq!(
        value_of("let x = std::env::temp_dir();", "x"),
        env("TMPDIR", Some(lit("/tmp")))
    );
    assert_eq!(
        value_of("let x = env::current_dir()?;", "x"),
        Expr::path_hole("current_dir")
    );
}

#[test]
fn parent_and_name_replacements() {
    let f = 1;
    assert_eq!(
        value_of("let x = out.parent().unwrap().to_path_buf();", "x"),
        Expr::Parent {
            of: Box::new(var("out", f, 4))
        }
    );
    assert_eq!(
        value_of("let x = out.with_extension(\"csv\");", "x"),
        Expr::ReplaceName {
            of: Box::new(var("out", f, 4)),
            name: Box::new(lit(".csv")),
            suffix_only: true
        }
    );
    assert_eq!(
        value_of("let x = out.with_file_name(\"done\");", "x"),
        Expr::ReplaceName {
            of: Box::new(var("out", f, 4)),
            name: Box::new(lit("done")),
            suffix_only: false
        }
    );
}

#[test]
fn conditionals_offer_each_branch() {
    assert_eq!(
        value_of("let x = if prod { \"/srv\" } else { \"/tmp\" };", "x"),
        Expr::Alt {
            options: vec![lit("/srv"), lit("/tmp")]
        }
    );
    assert_eq!(
        value_of(
            "let x = match mode { Mode::A => \"/a\", Mode::B => \"/b\", _ => panic!() };",
            "x"
        ),
        Expr::Alt {
            options: vec![lit("/a"), lit("/b")]
        }
    );
}

#[test]
fn unknown_expressions_are_labelled_holes() {
    assert_eq!(value_of("let x = compute(1);", "x"), var("compute()", 1, 4));
    assert_eq!(
        value_of("let x = a.frobnicate();", "x"),
        Expr::hole("frobnicate()")
    );
    assert_eq!(
        value_of("let x = cfg.paths.out.clone();", "x"),
        var("cfg.paths.out", 1, 4)
    );
    assert_eq!(value_of("let x = &args[1];", "x"), Expr::hole("args[1]"));
    assert_eq!(
        value_of("let x = parts.join(\"/\");", "x"),
        Expr::hole("join()")
    );
    assert_eq!(value_of("let x = |a| a;", "x"), Expr::hole("closure"));
}

#[test]
fn path_methods_on_variables_bound_to_unknown_values_are_not_reported() {
    let source = "fn f(dir: &Path) {\n    let ty = entry.file_type();\n    if ty.is_dir() && dir.is_dir() {}\n}\n";
    let facts = facts(source);
    let f = scope_id(&facts, "f");
    assert_eq!(path_expr(only_access(&facts)), &var("dir", f, 3));
}

#[test]
fn functions_that_return_a_value_bind_their_result() {
    let source = r#"use std::fs;
const OUT_DIR: &str = "/data/ticker";
fn day_dir(day: &str) -> PathBuf {
    Path::new(OUT_DIR).join(day)
}
struct W;
impl W {
    fn file(&self, name: &str) -> PathBuf {
        self.base.join(name)
    }
    fn root() -> PathBuf {
        PathBuf::from("/srv")
    }
    fn run(&self) {
        fs::write(day_dir("x"), "").ok();
        fs::write(self.file("a"), "").ok();
        fs::write(Self::root(), "").ok();
        fs::write(config::data_dir(), "").ok();
    }
}
"#;
    let facts = facts(source);
    let day_dir = scope_id(&facts, "day_dir");
    let file = scope_id(&facts, "W::file");
    let class = scope_id(&facts, "W");
    let run = scope_id(&facts, "W::run");
    let results: Vec<(ScopeId, &str, Expr, u32)> = facts
        .bindings
        .iter()
        .filter(|b| b.name.ends_with("()"))
        .map(|b| (b.scope, b.name.as_str(), (*b.value).clone(), b.line))
        .collect();
    assert_eq!(
        results,
        vec![
            (
                0,
                "day_dir()",
                join(vec![var("OUT_DIR", day_dir, 4), var("day", day_dir, 4)]),
                4
            ),
            (
                class,
                "self.file()",
                join(vec![var("self.base", file, 9), var("name", file, 9)]),
                9
            ),
            // At the returned expression's line, which a change of the value edits.
            (0, "W::root()", lit("/srv"), 12),
        ]
    );
    let written: Vec<Expr> = facts
        .accesses
        .iter()
        .map(|a| path_expr(a).clone())
        .collect();
    assert_eq!(
        written,
        vec![
            var("day_dir()", run, 15),
            var("self.file()", run, 16),
            var("W::root()", run, 17),
            var("config::data_dir()", run, 18),
        ]
    );
}

// --- code in macros, closures and tests -----------------------------------------------------

#[test]
fn code_inside_closures_async_blocks_and_macros_is_walked() {
    let source = r#"use std::fs;
fn f() {
    tokio::spawn(async move {
        fs::remove_file("/a").ok();
    });
    assert!(std::path::Path::new("/b").exists());
    my_macro! { fs::remove_file("/c").ok(); }
    println!("{}", "ignored");
}
"#;
    let facts = facts(source);
    let found: Vec<(Mode, Expr, u32)> = facts
        .accesses
        .iter()
        .map(|a| (a.mode, path_expr(a).clone(), a.line))
        .collect();
    assert_eq!(
        found,
        vec![
            (Mode::Delete, lit("/a"), 4),
            (Mode::Check, lit("/b"), 6),
            (Mode::Delete, lit("/c"), 7),
        ]
    );
}

#[test]
fn test_code_is_skipped() {
    let source = r#"use std::fs;
#[test]
fn writes_fixture() { fs::write("/data/x.csv", "").unwrap(); }
#[cfg(test)]
mod tests {
    #[test]
    fn t() { std::fs::remove_dir_all("/data").unwrap(); }
}
#[cfg(not(test))]
fn real() { fs::write("/data/y.csv", "").unwrap(); }
#[cfg(all(test, unix))]
fn also_test() { fs::write("/data/z.csv", "").unwrap(); }
#[cfg(any(test, feature = "notify"))]
fn maybe() { fs::write("/data/w.csv", "").unwrap(); }
"#;
    let facts = facts(source);
    let paths: Vec<Expr> = facts
        .accesses
        .iter()
        .map(|a| path_expr(a).clone())
        .collect();
    assert_eq!(paths, vec![lit("/data/y.csv"), lit("/data/w.csv")]);
}

#[test]
fn macro_rules_bodies_are_not_code() {
    let source = "macro_rules! m { () => { std::fs::remove_file(\"/x\") }; }\n";
    assert_eq!(facts(source).accesses, vec![]);
}

// --- hostile input ---------------------------------------------------------------------------

#[test]
fn syntax_error_is_one_warning_at_its_line() {
    let facts = facts("use std::fs;\n\nfn f() {\n    fs::write(\"/a\", \"\")\n    let x = ;\n}\n");
    assert_eq!(facts.accesses, vec![]);
    assert_eq!(facts.warnings.len(), 1);
    assert_eq!(facts.warnings[0].line, 5);
    assert_eq!(facts.scopes.len(), 1);
}

#[test]
fn unbalanced_delimiters_are_one_warning() {
    let facts = facts("fn f() {\n    (\n}\n");
    assert_eq!(facts.accesses, vec![]);
    assert_eq!(facts.warnings.len(), 1);
}

#[test]
fn binary_garbage_is_one_warning() {
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let text = String::from_utf8_lossy(&bytes);
    let facts = facts(&text);
    assert_eq!(facts.accesses, vec![]);
    assert_eq!(facts.warnings.len(), 1);
}

#[test]
fn deeply_nested_expressions_are_refused_without_overflow() {
    for (open, close) in [
        ("(", ")"),
        ("[", "]"),
        ("{", "}"),
        ("!", ""),
        ("&", ""),
        ("|x| ", ""),
    ] {
        let depth = 100_000;
        let source = format!(
            "fn f() {{ let x = {}1{}; }}",
            open.repeat(depth),
            close.repeat(depth)
        );
        let facts = facts(&source);
        assert_eq!(facts.accesses, vec![], "{open}");
        assert_eq!(facts.warnings.len(), 1, "{open}");
    }
    let types = format!(
        "fn f() {{ let x: {}u8{} = y; }}",
        "Vec<".repeat(50_000),
        ">".repeat(50_000)
    );
    assert_eq!(facts(&types).warnings.len(), 1);
}

#[test]
fn long_flat_chains_are_refused_or_walked_without_overflow() {
    let sum = format!(
        "fn f() {{ let x = \"a\".to_string(){}; std::fs::remove_file(x).ok(); }}",
        " + \"b\"".repeat(50_000)
    );
    let facts = facts(&sum);
    assert_eq!(facts.warnings.len(), 1);
    let calls = format!("fn f() {{ let x = p{}; }}", ".join(\"a\")".repeat(50_000));
    assert_eq!(self::facts(&calls).warnings.len(), 1);
}

/// For each recursive construct, the deepest input that the nesting bound lets through must
/// parse and be walked without overflowing the parser thread's stack.
#[test]
fn deepest_accepted_nesting_of_every_construct_fits_the_stack() {
    // (head, repeated opening, middle, repeated closing, tail)
    let templates: &[(&str, &str, &str, &str, &str)] = &[
        ("fn f() { let x = ", "(", "1", ")", "; }"),
        ("fn f() { let x = ", "[", "1", "]", "; }"),
        ("fn f() ", "{", "", "}", ""),
        ("fn f() { let x = ", "!", "a", "", "; }"),
        ("fn f() { let x = ", "- ", "a", "", "; }"),
        ("fn f() { let x = ", "&", "a", "", "; }"),
        ("fn f() { let x = ", "*", "a", "", "; }"),
        ("fn f() { let x = ", "|a| ", "a", "", "; }"),
        ("fn f() { let x = ", "return ", "a", "", "; }"),
        ("fn f() { let x = ", "async { ", "a", " }", "; }"),
        ("fn f() { let x = ", "unsafe { ", "a", " }", "; }"),
        ("fn f() { let x = ", "loop { ", "a", " }", "; }"),
        ("fn f() { let x = ", "match a { _ => ", "a", " }", "; }"),
        ("fn f() { let x = ", "if a { ", "a", " } else { a }", "; }"),
        ("fn f() { let x = ", "f(", "a", ")", "; }"),
        ("fn f() { let x = ", "a.f(", "a", ")", "; }"),
        ("fn f() { let x = ", "format!(\"{}\", ", "a", ")", "; }"),
        ("fn f() { let x = ", "vec![", "a", "]", "; }"),
        ("fn f() { let x = a", "", "", " + a", "; }"),
        ("fn f() { let x = a", "", "", ".f()?", "; }"),
        ("fn f() { let x = a", "", "", " as u8", "; }"),
        ("fn f() { let x = a", "", "", "[0]", "; }"),
        ("fn f() { let x = a", "", "", ".0", "; }"),
        ("fn f() { let x = if a {}", "", "", " else if a {}", "; }"),
        ("fn f() { let x = ", "a = ", "a", "", "; }"),
        ("fn f() { let x: ", "Vec<", "u8", ">", " = a; }"),
        ("fn f() { let x: ", "&", "u8", "", " = a; }"),
        ("fn f() { let x: ", "*const ", "u8", "", " = a; }"),
        ("fn f() { let x: ", "(", "u8", ",)", " = a; }"),
        ("fn f() { let x: ", "[", "u8", "; 1]", " = a; }"),
        ("fn f() { let x: ", "fn() -> ", "u8", "", " = a; }"),
        ("fn f() { let x: ", "dyn Fn() -> ", "u8", "", " = a; }"),
        ("fn f() { let ", "&", "x", "", " = a; }"),
        ("fn f() { let ", "Some(", "x", ")", " = a; }"),
        ("fn f() { let ", "(", "x", ",)", " = a; }"),
        ("fn f() { let ", "S { a: ", "x", " }", " = a; }"),
        ("", "mod m { ", "", "}", ""),
        ("", "fn f() { ", "", "}", ""),
        ("fn f() { ", "impl S { fn g() { ", "", "} }", " }"),
        ("fn f() { ", "let x = || { ", "", "};", " }"),
        ("", "#[a(", "b", ")]", " fn f() {}"),
        ("use ", "a::{", "b", "}", ";"),
        ("fn f<T: ", "Iterator<Item = ", "u8", ">", ">() {}"),
    ];
    for (head, open, middle, close, tail) in templates {
        let source =
            |n: usize| format!("{head}{}{middle}{}{tail}", open.repeat(n), close.repeat(n));
        let estimate = |n: usize| match source(n).parse::<proc_macro2::TokenStream>() {
            Ok(tokens) => super::depth::nesting_estimate(tokens),
            Err(_) => usize::MAX,
        };
        let (mut low, mut high) = (1usize, 4000usize);
        while low < high {
            let mid = (low + high).div_ceil(2);
            if estimate(mid) <= super::depth::MAX_NESTING {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        let facts = facts(&source(low));
        assert!(low > 100, "{open}{close}: the template should nest deeply");
        assert_eq!(facts.warnings, vec![], "{open}{close}");
        // On a worker of the thread pool, which extracts Rust files itself.
        assert_eq!(facts_in_place(&source(low)), facts, "{open}{close}");
    }
}

/// The facts of a Rust file extracted on the calling thread, as a worker of the thread pool
/// (`app::start_thread_pool`) extracts them: a thread with the extractor's stack, marked so.
fn facts_in_place(source: &str) -> FileFacts {
    let source = source.to_string();
    let worker = std::thread::Builder::new()
        .stack_size(super::EXTRACTION_STACK_BYTES)
        .spawn(move || {
            super::mark_roomy_stack();
            facts(&source)
        });
    match worker.map(std::thread::JoinHandle::join) {
        Ok(Ok(facts)) => facts,
        _ => panic!("the worker thread extracts the file"),
    }
}

#[test]
fn a_file_extracted_in_place_has_the_facts_of_one_extracted_on_its_own_thread() {
    let source = "use std::fs;\nfn clean(dir: &str) {\n    fs::remove_dir_all(format!(\"{dir}/cache\")).ok();\n}\nfn main() { clean(\"/var/lib/app\"); }\n";
    let facts = facts(source);
    assert_eq!(facts.accesses.len(), 1);
    assert_eq!(facts_in_place(source), facts);
}

#[test]
fn nesting_just_under_the_limit_parses() {
    let depth = 300;
    let source = format!(
        "fn f() {{ std::fs::remove_file({}\"/a\"{}).ok(); }}",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let facts = facts(&source);
    assert_eq!(facts.warnings, vec![]);
    assert_eq!(path_expr(only_access(&facts)), &Expr::hole("expression"));
}

#[test]
fn many_sibling_functions_are_not_too_deep() {
    let source = "/// Writes.\nfn f() { std::fs::write(\"/a\", \"\").ok(); }\n".repeat(3000);
    let facts = facts(&source);
    assert_eq!(facts.warnings, vec![]);
    assert_eq!(facts.accesses.len(), 3000);
}

#[test]
fn shebang_and_byte_order_mark_keep_line_numbers() {
    let facts = facts(
        "\u{feff}#!/usr/bin/env run-cargo-script\nfn f() {\n    std::fs::remove_file(\"/a\").ok();\n}\n",
    );
    assert_eq!(only_access(&facts).line, 3);
}

#[test]
fn huge_files_are_one_warning() {
    let source = format!("fn f() {{}}\n{}", "// padding\n".repeat(800_000));
    let facts = facts(&source);
    assert_eq!(facts.warnings.len(), 1);
    assert_eq!(facts.accesses, vec![]);
}

#[test]
fn empty_file_has_only_the_module_scope() {
    let facts = facts("");
    assert_eq!(facts.scopes.len(), 1);
    assert_eq!(facts.warnings, vec![]);
}
