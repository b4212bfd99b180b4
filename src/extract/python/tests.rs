//! Tests of the Python extractor: one or more per idiom, asserting on the accesses (mode,
//! line, reach, expression, model), bindings and imports it records. Expressions are compared
//! in a compact notation (see [`show`]): `$name` is a `Var`, `"x"` a literal, `g"*"` a glob,
//! `{label}` a hole, `{label:%Y}` a date hole.

use super::*;
use crate::expr::{Expr, HoleShape};
use crate::extract::{Binding, RawAccess, Reach, ScopeKind};
use crate::model::Mode;

/// The built-in models, parsed once for all tests (parsing them is most of a small test's
/// time in a debug build).
static MODELS: std::sync::LazyLock<Models> =
    std::sync::LazyLock::new(|| Models::builtin().expect("built-in models load"));

pub(super) fn models() -> Models {
    MODELS.clone()
}

pub(super) fn facts(src: &str) -> FileFacts {
    extract("loader/write.py", src, &MODELS)
}

pub(super) fn show(e: &Expr) -> String {
    let list = |v: &[Expr]| v.iter().map(show).collect::<Vec<_>>().join(", ");
    match e {
        Expr::Lit { text } => format!("{text:?}"),
        Expr::Glob { text } => format!("g{text:?}"),
        Expr::Concat { parts } => format!("cat({})", list(parts)),
        Expr::Join { parts } => format!("join({})", list(parts)),
        Expr::Var { name, .. } => format!("${name}"),
        Expr::Env {
            name,
            default: None,
        } => format!("env({name})"),
        Expr::Env {
            name,
            default: Some(d),
        } => format!("env({name}, {})", show(d)),
        Expr::Hole {
            label,
            shape: HoleShape::Segment,
        } => format!("{{{label}}}"),
        Expr::Hole {
            label,
            shape: HoleShape::Path,
        } => format!("{{{label}:path}}"),
        Expr::Hole {
            label,
            shape: HoleShape::Strftime { format },
        } => format!("{{{label}:{format}}}"),
        Expr::Parent { of } => format!("parent({})", show(of)),
        Expr::ReplaceName {
            of,
            name,
            suffix_only,
        } => {
            let f = if *suffix_only {
                "with_suffix"
            } else {
                "with_name"
            };
            format!("{f}({}, {})", show(of), show(name))
        }
        Expr::Alt { options } => format!("alt({})", list(options)),
    }
}

fn reach_name(r: &Reach) -> &'static str {
    match r {
        Reach::Exact => "exact",
        Reach::Tree => "tree",
        Reach::Children => "children",
        Reach::Find(_) => "find",
    }
}

/// Each access as `L<line> <mode> <reach> <expr> via <model>`.
fn accesses(f: &FileFacts) -> Vec<String> {
    f.accesses
        .iter()
        .filter(|a| a.resource.as_path().is_some())
        .map(describe)
        .collect()
}

fn describe(a: &RawAccess) -> String {
    let p = a.resource.as_path().expect("a path access");
    format!(
        "L{} {} {} {} via {}",
        a.line,
        a.mode,
        reach_name(&p.reach),
        show(&p.expr),
        a.via
    )
}

fn expr_of(a: &RawAccess) -> &Expr {
    let p = a.resource.as_path().expect("a path access");
    &p.expr
}

/// Each binding as `<name> = <expr>`.
fn bindings(f: &FileFacts) -> Vec<String> {
    f.bindings
        .iter()
        .map(|b| format!("{} = {}", b.name, show(&b.value)))
        .collect()
}

/// The last binding of a name.
fn binding<'f>(f: &'f FileFacts, name: &str) -> &'f Binding {
    f.bindings
        .iter()
        .rev()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("no binding of {name}: {:#?}", bindings(f)))
}

fn value(src: &str, name: &str) -> String {
    show(&binding(&facts(src), name).value)
}

fn assert_has(all: &[String], expected: &str) {
    assert!(
        all.iter().any(|a| a == expected),
        "missing `{expected}` in {all:#?}"
    );
}

// ---- the incident --------------------------------------------------------------------------

const LOADER: &str = r#"import os
from datetime import date
from pathlib import Path

OUT_DIR = Path(os.environ.get("TICKER_OUT", "/data/ticker"))
EXCHANGES = ["NYSE", "LSE", "TSE"]

def write_day(day: date, frames):
    for exchange in EXCHANGES:
        out = OUT_DIR / day.isoformat() / f"{exchange}.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        frames[exchange].to_csv(out, index=False)
"#;

#[test]
fn ticker_loader_yields_create_and_write_with_bindings() {
    let f = facts(LOADER);
    assert_eq!(
        accesses(&f),
        vec![
            "L11 create exact parent($out) via Path.mkdir",
            "L12 write exact $out via DataFrame.to_csv",
        ]
    );
    let paths: Vec<&RawAccess> = f
        .accesses
        .iter()
        .filter(|a| a.resource.as_path().is_some())
        .collect();
    let write = paths[1];
    assert_eq!(write.mode, Mode::Write);
    assert_eq!(write.scope, 1);
    assert_eq!(
        expr_of(write),
        &Expr::Var {
            name: "out".into(),
            scope: 1,
            line: 12,
            env_fallback: false,
            default: None,
        }
    );
    assert_eq!(
        show(&binding(&f, "OUT_DIR").value),
        r#"env(TICKER_OUT, "/data/ticker")"#
    );
    assert_eq!(binding(&f, "OUT_DIR").scope, 0);
    assert_eq!(
        show(&binding(&f, "EXCHANGES").value),
        r#"alt("NYSE", "LSE", "TSE")"#
    );
    let exchange = binding(&f, "exchange");
    assert_eq!(show(&exchange.value), "$EXCHANGES");
    assert_eq!((exchange.scope, exchange.line), (1, 9));
    let out = binding(&f, "out");
    assert_eq!(
        show(&out.value),
        r#"join($OUT_DIR, {day:%Y-%m-%d}, cat($exchange, ".csv"))"#
    );
    assert_eq!((out.scope, out.line), (1, 10));
    assert_eq!(f.scopes[0].name, "loader.write");
    assert_eq!(f.scopes[1].name, "write_day");
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
}

#[test]
fn ticker_cleanup_loop_binds_the_glob() {
    let f = facts(
        r#"import glob, os
PATTERN = os.path.join("/data/ticker", "ticker_*.csv")
for f in glob.glob(PATTERN):
    os.remove(f)
"#,
    );
    assert_eq!(
        accesses(&f),
        vec![
            r#"L3 list exact join(g"/data/ticker", g"ticker_*.csv") via glob.glob"#,
            "L4 delete exact $f via os.remove",
        ]
    );
    assert_eq!(
        value_of(&f, "f"),
        r#"join(g"/data/ticker", g"ticker_*.csv")"#
    );
}

fn value_of(f: &FileFacts, name: &str) -> String {
    show(&binding(f, name).value)
}

// ---- module names and scopes ---------------------------------------------------------------

#[test]
fn module_names_from_paths() {
    assert_eq!(
        module_name("loader/write.py"),
        ("loader.write".into(), false)
    );
    assert_eq!(module_name("pkg/__init__.py"), ("pkg".into(), true));
    assert_eq!(module_name("src/pkg/mod.py"), ("pkg.mod".into(), false));
    assert_eq!(module_name("./tool.pyw"), ("tool".into(), false));
    assert_eq!(module_name("bin/rotate"), ("bin.rotate".into(), false));
}

#[test]
fn scopes_of_functions_classes_and_methods() {
    let f = facts(
        "def top():\n    def nested():\n        pass\n\nasync def coro():\n    pass\n\n@wrap\ndef decorated():\n    pass\n\nclass Job:\n    def run(self):\n        pass\n    class Inner:\n        def deep(self):\n            pass\n",
    );
    type Row<'f> = (&'f str, ScopeKind, Option<usize>, Option<usize>, u32);
    let s: Vec<Row<'_>> = f
        .scopes
        .iter()
        .map(|s| (s.name.as_str(), s.kind, s.parent, s.class, s.line))
        .collect();
    assert_eq!(
        s,
        vec![
            ("loader.write", ScopeKind::Module, None, None, 1),
            ("top", ScopeKind::Function, Some(0), None, 1),
            ("nested", ScopeKind::Function, Some(1), None, 2),
            ("coro", ScopeKind::Function, Some(0), None, 5),
            ("decorated", ScopeKind::Function, Some(0), None, 9),
            ("Job", ScopeKind::Class, Some(0), None, 12),
            ("run", ScopeKind::Function, Some(0), Some(5), 13),
            ("Inner", ScopeKind::Class, Some(0), None, 15),
            ("deep", ScopeKind::Function, Some(0), Some(7), 16),
        ]
    );
    assert_eq!(f.unit_name(2), "top.nested");
}

// ---- bindings ------------------------------------------------------------------------------

#[test]
fn simple_annotated_and_chained_assignments() {
    let f = facts("A = '/a'\nB: str = '/b'\nC: int\nD = E = '/d'\n");
    assert_eq!(
        bindings(&f),
        vec![r#"A = "/a""#, r#"B = "/b""#, r#"D = "/d""#, r#"E = "/d""#]
    );
    assert_eq!(binding(&f, "E").line, 4);
}

#[test]
fn augmented_assignment_reads_the_previous_value() {
    let f = facts("p = '/a'\np += '/b'\nq = P('/x')\nq /= 'y'\nn = 1\nn -= 1\n");
    let p = binding(&f, "p");
    assert_eq!(show(&p.value), r#"cat($p, "/b")"#);
    assert_eq!(p.line, 2);
    let Expr::Concat { parts } = &*p.value else {
        panic!("not a concat")
    };
    assert!(matches!(&parts[0], Expr::Var { line: 2, .. }), "{parts:?}");
    assert_eq!(value_of(&f, "q"), r#"join($q, "y")"#);
    assert_eq!(value_of(&f, "n"), "{n}");
}

#[test]
fn self_attributes_are_recorded_in_the_class() {
    let f = facts(
        "class W:\n    ROOT = '/srv'\n    def __init__(me, out_dir='/o'):\n        me.out_dir = out_dir\n        me.log = me.out_dir + '/log'\n    def run(self):\n        open(self.out_dir, 'w')\n",
    );
    let out_dir = f
        .bindings
        .iter()
        .find(|b| b.name == "self.out_dir")
        .expect("self.out_dir");
    assert_eq!(out_dir.scope, 1, "class scope");
    assert_eq!(show(&out_dir.value), "$out_dir");
    assert_eq!(value_of(&f, "self.log"), r#"cat($self.out_dir, "/log")"#);
    assert_eq!(binding(&f, "ROOT").scope, 1);
    assert_eq!(accesses(&f), vec!["L7 write exact $self.out_dir via open"]);
    assert_eq!(f.accesses[0].scope, 3);
}

#[test]
fn class_attributes_are_also_bound_as_self_and_class_attributes() {
    let f = facts(
        "from dataclasses import dataclass\n@dataclass\nclass Paths:\n    raw: str = '/data/raw'\n    log = raw + '/log'\n    @classmethod\n    def make(cls):\n        open(cls.raw)\n",
    );
    let named = |name: &str| -> Vec<(usize, String)> {
        f.bindings
            .iter()
            .filter(|b| b.name == name)
            .map(|b| (b.scope, show(&b.value)))
            .collect()
    };
    assert_eq!(named("raw"), vec![(1, r#""/data/raw""#.to_string())]);
    assert_eq!(named("self.raw"), vec![(1, r#""/data/raw""#.to_string())]);
    assert_eq!(named("Paths.raw"), vec![(0, r#""/data/raw""#.to_string())]);
    assert_eq!(
        named("self.log"),
        vec![(1, r#"cat($raw, "/log")"#.to_string())]
    );
    assert_eq!(accesses(&f), vec!["L8 read exact $self.raw via open"]);
}

#[test]
fn parameter_defaults_bind_in_the_function_and_read_the_enclosing_scope() {
    let f = facts("OUT_DIR = '/o'\ndef f(a, out_dir=OUT_DIR, *, n: int = 3, **kw):\n    pass\n");
    let out_dir = binding(&f, "out_dir");
    assert_eq!((out_dir.scope, out_dir.line), (1, 2));
    assert!(
        matches!(&*out_dir.value, Expr::Var { name, scope: 0, line: 2, .. } if name == "OUT_DIR"),
        "{:?}",
        out_dir.value
    );
    assert_eq!(value_of(&f, "n"), r#""3""#);
    assert!(!f.bindings.iter().any(|b| b.name == "a" || b.name == "kw"));
}

#[test]
fn loops_bind_their_variable() {
    let f = facts(
        "for a in NAMES:\n    pass\nfor b in ('x', 'y'):\n    pass\nfor c in compute():\n    pass\nfor i, d in enumerate(NAMES):\n    pass\nfor e, g in pairs:\n    pass\n",
    );
    assert_eq!(value_of(&f, "a"), "$NAMES");
    assert_eq!(value_of(&f, "b"), r#"alt("x", "y")"#);
    assert_eq!(value_of(&f, "c"), "{compute}");
    assert_eq!(value_of(&f, "d"), "$NAMES");
    assert_eq!(value_of(&f, "i"), "{index}");
    assert_eq!(value_of(&f, "e"), "{e}");
    assert_eq!(value_of(&f, "g"), "{g}");
}

#[test]
fn string_collections_are_alternatives() {
    assert_eq!(value("X = ['NYSE', 'LSE']\n", "X"), r#"alt("NYSE", "LSE")"#);
    assert_eq!(value("X = ('a', 'b', 'a')\n", "X"), r#"alt("a", "b")"#);
    assert_eq!(value("X = {'a', 'b'}\n", "X"), r#"alt("a", "b")"#);
    assert_eq!(value("X = [*A, 'b']\n", "X"), "{[*A, 'b']}");
}

#[test]
fn with_open_binds_a_file_object_hole() {
    let f = facts(
        "from pathlib import Path\nwith open(p) as f, Path(q).open('w') as g:\n    pass\nwith tempfile.TemporaryDirectory() as tmp:\n    pass\n",
    );
    assert_eq!(value_of(&f, "f"), "{f}");
    assert_eq!(value_of(&f, "g"), "{g}");
    assert_eq!(value_of(&f, "tmp"), "{tempfile.TemporaryDirectory:path}");
    assert_eq!(
        accesses(&f),
        vec![
            "L2 read exact $p via open",
            "L2 write exact $q via Path.open"
        ]
    );
}

#[test]
fn tuple_assignment_pairs_values_or_binds_holes() {
    let f = facts("a, b = '/x', P\nc, *d = q\n(e, g) = h\n");
    assert_eq!(value_of(&f, "a"), r#""/x""#);
    assert_eq!(value_of(&f, "b"), "$P");
    assert_eq!(value_of(&f, "c"), "{c}");
    assert_eq!(value_of(&f, "d"), "{d}");
    assert_eq!(value_of(&f, "e"), "{e}");
}

#[test]
fn global_names_bind_in_the_module() {
    let f = facts("def f():\n    global OUT\n    OUT = '/o'\n    local = 1\n");
    assert_eq!(binding(&f, "OUT").scope, 0);
    assert_eq!(binding(&f, "local").scope, 1);
}

#[test]
fn walrus_binds() {
    let f = facts("import os\nif (d := os.getenv('D')):\n    os.remove(d)\n");
    assert_eq!(value_of(&f, "d"), "env(D)");
    assert_eq!(accesses(&f), vec!["L3 delete exact $d via os.remove"]);
}

// ---- imports -------------------------------------------------------------------------------

#[test]
fn imports_below_the_top_level_qualify_calls() {
    // In a function, in a `try` (the usual fallback import) and in a method of a class; the
    // statements between them hold no import. An alias holds in the whole file; a name no
    // import gives (`fs`) is the control.
    let f = facts(concat!(
        "def clean():\n",
        "    import shutil as sh\n",
        "    sh.rmtree('/var/cache/app')\n",
        "try:\n",
        "    from os import remove as rm\n",
        "except ImportError:\n",
        "    pass\n",
        "class Job:\n",
        "    def run(self):\n",
        "        if True:\n",
        "            from os.path import join as pj\n",
        "            rm(pj('/srv', 'done'))\n",
        "def other():\n",
        "    sh.rmtree('/tmp/x')\n",
        "    fs.rmtree('/tmp/y')\n",
    ));
    assert_eq!(
        accesses(&f),
        vec![
            "L3 delete tree \"/var/cache/app\" via shutil.rmtree",
            "L12 delete exact join(\"/srv\", \"done\") via os.remove",
            "L14 delete tree \"/tmp/x\" via shutil.rmtree",
        ]
    );
}

#[test]
fn imports_of_every_form() {
    let f = facts(
        "import os\nimport a.b\nimport a.b as c\nfrom a.b import X as Y, Z\nfrom . import x\nfrom ..pkg import y\nfrom m import *\ndef g():\n    import json\n",
    );
    type Row<'f> = (usize, &'f str, &'f str, Option<&'f str>, u32, u32);
    let imports: Vec<Row<'_>> = f
        .imports
        .iter()
        .map(|i| {
            (
                i.scope,
                i.local.as_str(),
                i.module.as_str(),
                i.name.as_deref(),
                i.level,
                i.line,
            )
        })
        .collect();
    assert_eq!(
        imports,
        vec![
            (0, "os", "os", None, 0, 1),
            (0, "a.b", "a.b", None, 0, 2),
            (0, "c", "a.b", None, 0, 3),
            (0, "Y", "a.b", Some("X"), 0, 4),
            (0, "Z", "a.b", Some("Z"), 0, 4),
            (0, "x", "", Some("x"), 1, 5),
            (0, "y", "pkg", Some("y"), 2, 6),
            (0, "*", "m", Some("*"), 0, 7),
            (1, "json", "json", None, 0, 9),
        ]
    );
}

#[test]
fn call_names_resolve_through_import_aliases() {
    let f = facts(
        "import os.path as osp\nfrom os.path import join, exists as ex\nfrom pathlib import Path as P\nfrom os import remove\na = osp.join('/a', 'b')\nb = join('/b', 'c')\nc = P('/c') / 'd'\nremove(a)\nex(b)\nosp.isfile(c)\n",
    );
    assert_eq!(value_of(&f, "a"), r#"join("/a", "b")"#);
    assert_eq!(value_of(&f, "b"), r#"join("/b", "c")"#);
    assert_eq!(value_of(&f, "c"), r#"join("/c", "d")"#);
    assert_eq!(
        accesses(&f),
        vec![
            "L8 delete exact $a via os.remove",
            "L9 check exact $b via os.path.exists",
            "L10 check exact $c via os.path.isfile",
        ]
    );
}

#[test]
fn a_local_variable_shadows_an_imported_module_name() {
    let f = facts(
        "from os import path\nfrom pathlib import Path\ndef f(x):\n    path = Path(x)\n    path.unlink()\n",
    );
    assert_eq!(accesses(&f), vec!["L5 delete exact $path via Path.unlink"]);
}

#[test]
fn methods_on_objects_reached_through_modules() {
    let f = facts(
        "import config\nfrom . import settings\nimport webbrowser\nconfig.OUT_DIR.mkdir()\nsettings.paths.raw.unlink()\nwebbrowser.open(url)\n",
    );
    assert_eq!(
        accesses(&f),
        vec![
            "L4 create exact $config.OUT_DIR via Path.mkdir",
            "L5 delete exact $settings.paths.raw via Path.unlink",
        ]
    );
}

#[test]
fn user_models_match_in_house_wrappers_through_relative_imports() {
    let mut models = models();
    models
        .load_file(
            "user.toml",
            "schema = 1\nlanguage = \"python\"\n[[function]]\nname = \"loader.io.atomic_write\"\naccess = [{ arg = 0, keyword = \"path\", mode = \"write\" }]\n",
        )
        .expect("user model");
    let f = extract(
        "loader/write.py",
        "from .io import atomic_write\natomic_write('/data/x.csv', df)\n",
        &models,
    );
    assert_eq!(
        accesses(&f),
        vec![r#"L2 write exact "/data/x.csv" via loader.io.atomic_write"#]
    );
    let g = extract(
        "loader/io.py",
        "def atomic_write(path, data):\n    pass\natomic_write(OUT, b'')\n",
        &models,
    );
    assert_eq!(
        accesses(&g),
        vec!["L3 write exact $OUT via loader.io.atomic_write"]
    );
}

// ---- expressions ---------------------------------------------------------------------------

#[test]
fn string_literals_prefixes_escapes_and_implicit_concatenation() {
    assert_eq!(value(r#"X = r"C:\new\t""#, "X"), r#""C:\\new\\t""#);
    assert_eq!(value(r#"X = "a\tb\\c\x41""#, "X"), r#""a\tb\\cA""#);
    assert_eq!(value(r#"X = b'/data' u"/x""#, "X"), r#""/data/x""#);
    assert_eq!(
        value("X = ('/data/'\n     'ticker')\n", "X"),
        r#""/data/ticker""#
    );
    assert_eq!(value("X = '''/a\n/b'''\n", "X"), r#""/a\n/b""#);
    assert_eq!(value(r#"X = "a*b""#, "X"), r#""a*b""#);
}

#[test]
fn f_strings_with_interpolations_and_format_specs() {
    assert_eq!(
        value(r#"X = f"{BASE}/ticker_{day:%Y-%m-%d}.csv""#, "X"),
        r#"cat($BASE, "/ticker_", {day:%Y-%m-%d}, ".csv")"#
    );
    assert_eq!(
        value(r#"X = f"{{a}}/{n:03d}/{v!r}/{w!s}""#, "X"),
        r#"cat("{a}/", {n}, "/", {v}, "/", $w)"#
    );
    assert_eq!(value(r#"X = rf"{d}\x""#, "X"), r#"cat($d, "\\x")"#);
    assert_eq!(value(r#"X = f"{self.day:%Y}""#, "X"), "{day:%Y}");
    assert_eq!(value(r#"X = f"{x:>{width}}""#, "X"), "{x}");
}

#[test]
fn names_and_attribute_chains_are_vars() {
    let f = facts("A = B\nC = config.OUT_DIR\nD = settings.paths.raw\nE = os.sep\nF = foo().bar\n");
    assert_eq!(
        bindings(&f),
        vec![
            "A = $B",
            "C = $config.OUT_DIR",
            "D = $settings.paths.raw",
            "E = $os.sep",
            "F = {bar}",
        ]
    );
    assert_eq!(value("import os\nE = os.sep + 'x'\n", "E"), r#""/x""#);
    assert!(matches!(
        &*binding(&f, "A").value,
        Expr::Var {
            scope: 0,
            line: 1,
            env_fallback: false,
            default: None,
            ..
        }
    ));
}

#[test]
fn plus_concatenates_and_slash_joins() {
    assert_eq!(
        value("X = BASE + '/x_' + name + '.csv'\n", "X"),
        r#"cat($BASE, "/x_", $name, ".csv")"#
    );
    assert_eq!(
        value("X = ROOT / 'a' / sub / 'b.csv'\n", "X"),
        r#"join($ROOT, "a", $sub, "b.csv")"#
    );
    assert_eq!(value("X = n + 1\n", "X"), "{n + 1}");
}

#[test]
fn percent_formatting() {
    assert_eq!(
        value("X = '%s/%s.csv' % (a, b)\n", "X"),
        r#"cat($a, "/", $b, ".csv")"#
    );
    assert_eq!(value("X = '/d/%s' % day\n", "X"), r#"cat("/d/", $day)"#);
    assert_eq!(
        value("X = '%(root)s/%(n)03d_%%.csv' % {'root': R, 'n': n}\n", "X"),
        r#"cat($R, "/", {n}, "_%.csv")"#
    );
    assert_eq!(
        value("X = '%s/%s' % (a,)\n", "X"),
        r#"cat($a, "/", {arg1})"#
    );
    assert_eq!(value("X = FMT % a\n", "X"), "{FMT % a}");
}

#[test]
fn str_format_calls() {
    assert_eq!(
        value("X = '{}/{}.csv'.format(a, b)\n", "X"),
        r#"cat($a, "/", $b, ".csv")"#
    );
    assert_eq!(
        value("X = '{1}/{0}'.format(a, b)\n", "X"),
        r#"cat($b, "/", $a)"#
    );
    assert_eq!(
        value("X = '{root}/{day:%Y%m%d}.csv'.format(root=R, day=d)\n", "X"),
        r#"cat($R, "/", {d:%Y%m%d}, ".csv")"#
    );
    assert_eq!(
        value("X = '{0.name}/{x}'.format(a)\n", "X"),
        r#"cat({a}, "/", {x})"#
    );
    assert_eq!(value("X = '{'.format(a)\n", "X"), "{format}");
}

#[test]
fn path_building_calls_join() {
    let src = "import os\nfrom pathlib import Path, PurePath, PosixPath\nA = os.path.join(R, 'a', f)\nB = Path(R, 'b')\nC = PurePath(R) / 'c'\nD = PosixPath('/d')\nE = Path(R).joinpath('x', y)\nF = Path()\nG = os.path.join(*parts)\nH = Path(R, *subdirs, 'x.csv')\n";
    let f = facts(src);
    assert_eq!(
        bindings(&f),
        vec![
            r#"A = join($R, "a", $f)"#,
            r#"B = join($R, "b")"#,
            r#"C = join($R, "c")"#,
            r#"D = "/d""#,
            r#"E = join($R, "x", $y)"#,
            r#"F = ".""#,
            "G = {parts:path}",
            r#"H = join($R, {subdirs:path}, "x.csv")"#,
        ]
    );
}

#[test]
fn environment_reads() {
    let src = "import os\nfrom os import environ, getenv\nA = os.environ.get('A', '/a')\nB = os.getenv('B')\nC = os.environ['C']\nD = os.environ.setdefault('D', '/d')\nE = environ.get('E')\nF = getenv('F', default=G)\nH = os.getenv('H') or '/h'\nI = os.getenv(name)\nJ = os.environ.get('J', None)\n";
    let f = facts(src);
    assert_eq!(
        bindings(&f),
        vec![
            r#"A = env(A, "/a")"#,
            "B = env(B)",
            "C = env(C)",
            r#"D = env(D, "/d")"#,
            "E = env(E)",
            "F = env(F, $G)",
            r#"H = env(H, "/h")"#,
            "I = {env}",
            "J = env(J)",
        ]
    );
    assert_eq!(
        value("import os\nN = 'X'\nV = os.getenv(N)\n", "V"),
        "env(X)"
    );
}

#[test]
fn conversions_that_keep_the_path() {
    let src = "import os\nfrom pathlib import Path\nA = str(p)\nB = os.fspath(p)\nC = Path(p).resolve()\nD = Path(p).absolute()\nE = os.path.abspath(p)\nF = os.path.realpath(p)\nG = os.path.normpath(p)\nH = Path(p).as_posix()\n";
    for b in facts(src).bindings {
        assert_eq!(show(&b.value), "$p", "{}", b.name);
    }
}

#[test]
fn parents_and_replaced_names() {
    let src = "import os\nfrom pathlib import Path\nA = os.path.dirname(p)\nB = Path(p).parent.parent\nC = p.with_suffix('.gz')\nD = p.with_name(n)\nE = os.path.dirname(os.path.abspath(__file__))\n";
    let f = facts(src);
    assert_eq!(
        bindings(&f),
        vec![
            "A = parent($p)",
            "B = parent(parent($p))",
            r#"C = with_suffix($p, ".gz")"#,
            "D = with_name($p, $n)",
            r#"E = parent("loader/write.py")"#,
        ]
    );
}

#[test]
fn dates_become_strftime_holes() {
    let src = "import time\nfrom datetime import date, datetime\nimport datetime as dt\nA = day.strftime('%Y%m%d')\nB = datetime.now().strftime('%Y-%m-%d')\nC = time.strftime('%Y')\nD = date.today().isoformat()\nE = day.isoformat()\nF = dt.datetime.utcnow().isoformat()\nFMT = '%d'\nG = day.strftime(FMT)\nH = day.strftime(fmt)\n";
    let f = facts(src);
    assert_eq!(
        bindings(&f),
        vec![
            "A = {day:%Y%m%d}",
            "B = {date:%Y-%m-%d}",
            "C = {date:%Y}",
            "D = {date:%Y-%m-%d}",
            "E = {day:%Y-%m-%d}",
            "F = {date:%Y-%m-%dT%H:%M:%S.%f}",
            r#"FMT = "%d""#,
            "G = {day:%d}",
            "H = {day}",
        ]
    );
}

#[test]
fn home_directory_and_temporary_directories() {
    let src = "import os, tempfile\nfrom pathlib import Path\nA = Path.home() / '.cache'\nB = os.path.expanduser('~/data')\nC = Path('~').expanduser()\nD = tempfile.mkdtemp()\nE = tempfile.gettempdir()\nF = Path.cwd() / 'x'\nG = os.path.expanduser(p)\n";
    let f = facts(src);
    assert_eq!(
        bindings(&f),
        vec![
            r#"A = join(env(HOME), ".cache")"#,
            r#"B = join(env(HOME), "data")"#,
            "C = env(HOME)",
            "D = {tempfile.mkdtemp:path}",
            r#"E = env(TMPDIR, "/tmp")"#,
            r#"F = join({cwd:path}, "x")"#,
            "G = $p",
        ]
    );
}

#[test]
fn calls_of_unknown_functions_name_their_returns_anything_else_is_a_labelled_hole() {
    let f = facts(
        "A = compute_dir()\nB = self.get_path(x)\nC = sys.argv[1]\nD = a if c else b\nE = x and y\nF = None\nG = lambda: 1\n",
    );
    assert_eq!(
        bindings(&f),
        vec![
            // Looked up as the returns of a repository function at resolution (else a hole).
            "A = $compute_dir()",
            "B = $self.get_path()",
            "C = {sys.argv[1]}",
            "D = alt($a, $b)",
            "E = {x and y}",
            "F = {None}",
            "G = {lambda: 1}",
        ]
    );
}

#[test]
fn string_join_with_a_literal_separator() {
    assert_eq!(
        value("X = '/'.join([ROOT, 'a', b])\n", "X"),
        r#"cat($ROOT, "/a/", $b)"#
    );
    assert_eq!(value("X = '/'.join(parts)\n", "X"), "{join}");
}

// ---- accesses: open and pathlib ------------------------------------------------------------

#[test]
fn open_modes() {
    let src = "import io, codecs, gzip\nopen(p, 'w')\nopen(p, 'x')\nopen(p, 'a')\nopen(p, 'r')\nopen(p)\nopen(p, 'r+')\nopen(p, mode='wb')\nopen(file=p)\nopen(p, m)\nio.open(p, 'w')\ncodecs.open(p, 'a', 'utf-8')\ngzip.open(p, 'wt')\nM = 'a'\nopen(p, M)\n";
    let got = accesses(&facts(src));
    assert_eq!(
        got,
        vec![
            "L2 write exact $p via open",
            "L3 write exact $p via open",
            "L4 append exact $p via open",
            "L5 read exact $p via open",
            "L6 read exact $p via open",
            "L7 write exact $p via open",
            "L8 write exact $p via open",
            "L9 read exact $p via open",
            "L10 unknown exact $p via open",
            "L11 write exact $p via io.open",
            "L12 append exact $p via codecs.open",
            "L13 write exact $p via gzip.open",
            "L15 append exact $p via open",
        ]
    );
}

#[test]
fn path_open_and_methods_that_are_not_path_methods() {
    let src = "from pathlib import Path\nPath(p).open('w')\nq.open()\nzf.open('data.csv')\nfs.open(path)\n'a-b'.replace('-', '/')\ns.replace('a', 'b')\ndf.rename(columns=c)\ndf.to_csv()\n";
    assert_eq!(
        accesses(&facts(src)),
        vec![
            "L2 write exact $p via Path.open",
            "L3 read exact $q via Path.open"
        ]
    );
}

#[test]
fn async_files_logs_and_archives() {
    let src = "import aiofiles, logging, shutil\nasync def f():\n    async with aiofiles.open(p, 'w') as out:\n        await out.write(x)\nlogging.FileHandler(LOG)\nlogging.FileHandler(LOG, mode='w')\nlogging.basicConfig(filename=LOG)\nlogging.basicConfig(level=1)\nshutil.make_archive(base, 'zip')\n";
    assert_eq!(
        accesses(&facts(src)),
        vec![
            "L3 write exact $p via aiofiles.open",
            "L5 append exact $LOG via logging.FileHandler",
            "L6 write exact $LOG via logging.FileHandler",
            "L7 append exact $LOG via logging.basicConfig",
            r#"L9 write exact cat($base, g".*") via shutil.make_archive"#,
        ]
    );
}

#[test]
fn pathlib_methods() {
    let src = "p.write_text('x')\np.write_bytes(b)\np.read_text()\np.read_bytes()\np.unlink(missing_ok=True)\np.rename(q)\np.replace(q)\np.mkdir(parents=True)\np.touch()\np.exists()\np.is_file()\np.is_dir()\np.stat()\np.rmdir()\n";
    assert_eq!(
        accesses(&facts(src)),
        vec![
            "L1 write exact $p via Path.write_text",
            "L2 write exact $p via Path.write_bytes",
            "L3 read exact $p via Path.read_text",
            "L4 read exact $p via Path.read_bytes",
            "L5 delete exact $p via Path.unlink",
            "L6 move-from exact $p via Path.rename",
            "L6 move-to exact $q via Path.rename",
            "L7 move-from exact $p via Path.replace",
            "L7 move-to exact $q via Path.replace",
            "L8 create exact $p via Path.mkdir",
            "L9 write exact $p via Path.touch",
            "L10 check exact $p via Path.exists",
            "L11 check exact $p via Path.is_file",
            "L12 check exact $p via Path.is_dir",
            "L13 read exact $p via Path.stat",
            "L14 delete exact $p via Path.rmdir",
        ]
    );
}

#[test]
fn pathlib_listing() {
    let src = "d.glob('*.csv')\nd.rglob('*.tmp')\nd.iterdir()\nd.glob(f'ticker_{x}*')\n";
    assert_eq!(
        accesses(&facts(src)),
        vec![
            r#"L1 list exact join($d, g"*.csv") via Path.glob"#,
            r#"L2 list exact join($d, g"**/*.tmp") via Path.rglob"#,
            "L3 list children $d via Path.iterdir",
            r#"L4 list exact join($d, cat(g"ticker_", $x, g"*")) via Path.glob"#,
        ]
    );
}

// ---- accesses: os, shutil, glob ------------------------------------------------------------

#[test]
fn os_functions() {
    let src = "import os\nos.remove(p)\nos.unlink(p)\nos.rmdir(p)\nos.removedirs(p)\nos.rename(a, b)\nos.replace(a, b)\nos.makedirs(p, exist_ok=True)\nos.mkdir(p)\nos.listdir(p)\nos.scandir(p)\nos.walk(p)\nos.listdir()\nos.stat(p)\n";
    let f = facts(src);
    assert_eq!(
        accesses(&f),
        vec![
            "L2 delete exact $p via os.remove",
            "L3 delete exact $p via os.unlink",
            "L4 delete exact $p via os.rmdir",
            "L5 delete exact $p via os.removedirs",
            "L6 move-from exact $a via os.rename",
            "L6 move-to exact $b via os.rename",
            "L7 move-from exact $a via os.replace",
            "L7 move-to exact $b via os.replace",
            "L8 create exact $p via os.makedirs",
            "L9 create exact $p via os.mkdir",
            "L10 list children $p via os.listdir",
            "L11 list children $p via os.scandir",
            "L12 list find $p via os.walk",
            r#"L13 list children "." via os.listdir"#,
            "L14 read exact $p via os.stat",
        ]
    );
    let walk = f.accesses[12].resource.as_path().expect("a path access");
    let Reach::Find(spec) = &walk.reach else {
        panic!("not a find")
    };
    assert_eq!(spec, &crate::extract::FindSpec::default());
}

#[test]
fn os_path_checks() {
    let src = "import os.path\nos.path.exists(p)\nos.path.isfile(p)\nos.path.isdir(p)\nos.path.getmtime(p)\nos.path.getsize(p)\n";
    let got = accesses(&facts(src));
    assert_eq!(got.len(), 5);
    assert!(
        got.iter().all(|a| a.contains(" check exact $p ")),
        "{got:?}"
    );
    assert_has(&got, "L2 check exact $p via os.path.exists");
    assert_has(&got, "L6 check exact $p via os.path.getsize");
}

#[test]
fn shutil_functions() {
    let src = "import shutil\nshutil.rmtree(d)\nshutil.move(a, b)\nshutil.copy(a, b)\nshutil.copy2(a, dst=b)\nshutil.copyfile(a, b)\nshutil.copytree(a, b)\nshutil.make_archive(base, 'gztar', d)\n";
    assert_eq!(
        accesses(&facts(src)),
        vec![
            "L2 delete tree $d via shutil.rmtree",
            "L3 move-from exact $a via shutil.move",
            "L3 move-to exact $b via shutil.move",
            "L4 copy-from exact $a via shutil.copy",
            "L4 move-to exact $b via shutil.copy",
            "L5 copy-from exact $a via shutil.copy2",
            "L5 move-to exact $b via shutil.copy2",
            "L6 copy-from exact $a via shutil.copyfile",
            "L6 move-to exact $b via shutil.copyfile",
            "L7 copy-from tree $a via shutil.copytree",
            "L7 move-to tree $b via shutil.copytree",
            r#"L8 write exact cat($base, g".*") via shutil.make_archive"#,
            "L8 copy-from tree $d via shutil.make_archive",
        ]
    );
}

#[test]
fn glob_module() {
    let src = "import glob, os\nfrom glob import iglob\nglob.glob('/data/**/*.csv')\nglob.glob('/data/**/*.csv', recursive=True)\niglob(os.path.join(D, 'x_?.csv'))\nglob.glob(f'{D}/ticker_*.csv')\n";
    assert_eq!(
        accesses(&facts(src)),
        vec![
            r#"L3 list exact g"/data/*/*.csv" via glob.glob"#,
            r#"L4 list exact g"/data/**/*.csv" via glob.glob"#,
            r#"L5 list exact join($D, g"x_?.csv") via glob.iglob"#,
            r#"L6 list exact cat($D, g"/ticker_*.csv") via glob.glob"#,
        ]
    );
}

#[test]
fn glob_patterns_through_names_are_inlined() {
    let src = "import glob, os\nBASE = '/data'\nPAT = os.path.join(BASE, 'ticker_*.csv')\ndef clean(days):\n    pattern = PAT\n    for f in glob.glob(pattern):\n        os.remove(f)\n";
    let f = facts(src);
    assert_eq!(
        accesses(&f),
        vec![
            r#"L6 list exact join($BASE, g"ticker_*.csv") via glob.glob"#,
            "L7 delete exact $f via os.remove",
        ]
    );
}

// ---- accesses: data libraries --------------------------------------------------------------

#[test]
fn pandas_writes_and_reads() {
    let src = "import pandas as pd\nfrom pandas import read_parquet\ndf.to_csv(p, index=False)\ndf.to_parquet(path=p)\ndf.to_json(path_or_buf=p)\ndf.to_excel(p)\ndf.to_feather(p)\ndf.to_pickle(p)\npd.read_csv(p)\nread_parquet(p)\npd.read_json(p)\npd.read_excel(p)\npd.read_feather(p)\npd.read_pickle(p)\ndf.to_json()\n";
    let got = accesses(&facts(src));
    assert_eq!(got.len(), 12, "{got:#?}");
    assert_has(&got, "L3 write exact $p via DataFrame.to_csv");
    assert_has(&got, "L4 write exact $p via DataFrame.to_parquet");
    assert_has(&got, "L5 write exact $p via DataFrame.to_json");
    assert_has(&got, "L8 write exact $p via DataFrame.to_pickle");
    assert_has(&got, "L9 read exact $p via pandas.read_csv");
    assert_has(&got, "L10 read exact $p via pandas.read_parquet");
    assert_has(&got, "L14 read exact $p via pandas.read_pickle");
}

#[test]
fn access_line_is_where_a_multiline_call_starts() {
    let src = "import pandas as pd\nx = 1\nframe.to_csv(\n    OUT_DIR\n    / 'x.csv',\n    index=False,\n)\n";
    assert_eq!(
        accesses(&facts(src)),
        vec![r#"L3 write exact join($OUT_DIR, "x.csv") via DataFrame.to_csv"#]
    );
}

#[test]
fn nested_calls_each_yield_their_access() {
    let src = "import json, os\njson.dump(obj, open(os.path.join(D, 'x.json'), 'w'))\n";
    assert_eq!(
        accesses(&facts(src)),
        vec![r#"L2 write exact join($D, "x.json") via open"#]
    );
}

// ---- cleanup idioms ------------------------------------------------------------------------

#[test]
fn cleanup_path_glob_unlink() {
    let f = facts(
        "from pathlib import Path\nOUT = Path('/data')\nfor p in OUT.glob('ticker_*.csv'):\n    p.unlink()\n",
    );
    assert_eq!(value_of(&f, "p"), r#"join($OUT, g"ticker_*.csv")"#);
    assert_has(&accesses(&f), "L4 delete exact $p via Path.unlink");
}

#[test]
fn cleanup_listdir_binds_entry_names() {
    let f = facts(
        "import os\nfor name in os.listdir(D):\n    if name.endswith('.csv'):\n        os.remove(os.path.join(D, name))\n",
    );
    assert_eq!(value_of(&f, "name"), r#"g"*""#);
    assert_eq!(
        accesses(&f),
        vec![
            "L2 list children $D via os.listdir",
            "L4 delete exact join($D, $name) via os.remove",
        ]
    );
}

#[test]
fn cleanup_walk_binds_root_and_files() {
    let f = facts(
        "import os\nfor root, dirs, files in os.walk(D):\n    for fn in files:\n        os.remove(os.path.join(root, fn))\n",
    );
    assert_eq!(value_of(&f, "root"), r#"join($D, g"**")"#);
    assert_eq!(value_of(&f, "files"), r#"g"*""#);
    assert_eq!(value_of(&f, "fn"), "$files");
    assert_has(
        &accesses(&f),
        "L4 delete exact join($root, $fn) via os.remove",
    );
}

#[test]
fn cleanup_scandir_entries() {
    let f = facts("import os\nfor e in os.scandir(D):\n    os.remove(e.path)\n");
    assert_eq!(value_of(&f, "e.path"), r#"join($D, g"*")"#);
    assert_eq!(value_of(&f, "e.name"), r#"g"*""#);
    assert_has(&accesses(&f), "L3 delete exact $e.path via os.remove");
}

#[test]
fn cleanup_iterdir_and_sorted_listing() {
    let f = facts(
        "for p in sorted(D.iterdir()):\n    p.unlink()\nfiles = list(D.glob('*.csv'))\nfor q in files[:-3]:\n    q.unlink()\n",
    );
    assert_eq!(value_of(&f, "p"), r#"join($D, g"*")"#);
    assert_eq!(value_of(&f, "files"), r#"join($D, g"*.csv")"#);
}

#[test]
fn cleanup_in_a_comprehension_substitutes_the_variable() {
    let f = facts(
        "import glob, os\n[os.remove(f) for f in glob.glob('/tmp/x_*')]\nlist(map(lambda p: os.remove(p), items))\n",
    );
    assert_eq!(
        accesses(&f),
        vec![
            r#"L2 list exact g"/tmp/x_*" via glob.glob"#,
            r#"L2 delete exact g"/tmp/x_*" via os.remove"#,
            "L3 delete exact {p} via os.remove",
        ]
    );
    assert!(f.bindings.is_empty(), "{:?}", bindings(&f));
}

#[test]
fn one_line_loop_body_sees_the_loop_variable() {
    let f = facts("import glob, os\nfor f in glob.glob('/tmp/*.csv'): os.remove(f)\n");
    let delete = f
        .accesses
        .iter()
        .find(|a| a.mode == Mode::Delete)
        .expect("delete");
    assert_eq!(delete.line, 2);
    assert!(
        matches!(expr_of(delete), Expr::Var { line: 3, .. }),
        "the Var must come after the loop binding: {:?}",
        expr_of(delete)
    );
    assert_eq!(binding(&f, "f").line, 2);
}

// ---- robustness ----------------------------------------------------------------------------

#[test]
fn syntax_error_mid_file_keeps_the_accesses_around_it() {
    let src = "import os\nos.remove('/a')\ndef broken(:\n    x = = 3\nos.remove('/b')\nclass Also broken\nos.unlink('/c')\n";
    let f = facts(src);
    assert_eq!(
        accesses(&f),
        vec![
            r#"L2 delete exact "/a" via os.remove"#,
            r#"L5 delete exact "/b" via os.remove"#,
            r#"L7 delete exact "/c" via os.unlink"#,
        ]
    );
    let lines: Vec<u32> = f.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, vec![3, 6], "{:?}", f.warnings);
    assert!(f.warnings[0].message.contains("syntax error"));
}

#[test]
fn python2_file_keeps_what_parses() {
    let src = "import os\nprint \"cleaning\"\nexec \"x = 1\"\ntry:\n    os.remove(OLD)\nexcept OSError, e:\n    pass\nos.rename(A, B)\nraise ValueError, \"bad\"\nos.unlink(C)\n";
    let f = facts(src);
    let got = accesses(&f);
    assert_has(&got, "L5 delete exact $OLD via os.remove");
    assert_has(&got, "L8 move-from exact $A via os.rename");
    assert_has(&got, "L10 delete exact $C via os.unlink");
}

#[test]
fn error_inside_a_function_keeps_the_function_and_its_neighbours() {
    let src = "import os\ndef clean():\n    os.remove(A)\n    x = (1,\n    os.remove(B)\n\ndef other():\n    os.remove(C)\n";
    let f = facts(src);
    let got = accesses(&f);
    assert_has(&got, "L3 delete exact $A via os.remove");
    assert_has(&got, "L8 delete exact $C via os.remove");
    assert!(!f.warnings.is_empty());
}

#[test]
fn binary_garbage_does_not_panic() {
    let bytes: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let text = String::from_utf8_lossy(&bytes);
    let f = facts(&text);
    assert!(!f.warnings.is_empty());
    assert!(f.warnings.len() <= 51);
    let f = facts("\0\0\0import os\0\nos.remove('/x')\n\u{feff}\u{fffd}");
    let _ = accesses(&f);
}

#[test]
fn empty_and_odd_inputs() {
    assert!(facts("").accesses.is_empty());
    assert_eq!(facts("").scopes.len(), 1);
    let _ = facts("'''unterminated\nos.remove('/x')\n");
    let _ = facts("f'{'\n");
    let _ = facts("f'{x:{y:{z}}}'\n");
    let _ = facts("x = '\\");
    let _ = facts("def");
    let _ = facts("class");
    let _ = facts("for");
    let _ = facts("with open(");
    let _ = facts("import");
    let _ = facts("from . import");
    let _ = facts("from .. import (a,");
    let _ = facts("@\n");
    let _ = facts(")))]]]}}}");
    let _ = facts("x = '%(' % {}\n'{0[}'.format(1)\n");
}

#[test]
fn deeply_nested_expressions_do_not_overflow() {
    let n = 20_000;
    let src = format!(
        "import os\nx = {}1{}\nos.remove(x)\n",
        "(".repeat(n),
        ")".repeat(n)
    );
    let f = facts(&src);
    assert_eq!(accesses(&f), vec!["L3 delete exact $x via os.remove"]);
    assert!(
        f.warnings
            .iter()
            .any(|w| w.message.contains("nested deeper"))
    );
    let src = format!("x = {}'a'\n", "'a' + ".repeat(n));
    let f = facts(&src);
    assert_eq!(value_of(&f, "x"), format!("{:?}", "a".repeat(n + 1)));
    let src = format!(
        "import os\nx = {}p{}\n",
        "os.path.join(".repeat(2000),
        ", 'a')".repeat(2000)
    );
    let _ = facts(&src);
    let src = format!(
        "import os\nx = {}p{}\n",
        "os.remove(".repeat(2000),
        ")".repeat(2000)
    );
    assert_eq!(facts(&src).accesses.len(), 2000);
    let src = "[".repeat(n) + "x for x in y" + &"]".repeat(n);
    let _ = facts(&src);
    let src = "x = ".to_string() + &"lambda: ".repeat(3000) + "1";
    let _ = facts(&src);
    let deep_target = format!("{}a{}", "(".repeat(n), ")".repeat(n));
    let _ = facts(&format!("{deep_target} = 1\n"));
    let _ = facts(&format!("for {deep_target} in x:\n    pass\n"));
    let _ = facts(&format!("[1 for {deep_target} in x]\n"));
    let _ = facts(&format!(
        "{} = 1\n",
        "[a, ".repeat(n) + "b" + &"]".repeat(n)
    ));
    let _ = facts(&format!(
        "for {} in x:\n    pass\n",
        "(a, ".repeat(n) + "b" + &")".repeat(n)
    ));
    let _ = facts(&format!("x = a{}\n", "[0]".repeat(n)));
    let _ = facts(&format!("x = f{}\n", "()".repeat(n)));
    let _ = facts(&format!("x = a{}\n", ".b".repeat(n)));
}

#[test]
fn deeply_nested_statements_do_not_overflow() {
    for header in [
        "if x:",
        "for x in y:",
        "def f():",
        "class C:",
        "with open(a) as f:",
        "try:",
    ] {
        let mut src = String::from("import os\n");
        for i in 0..300 {
            src.push_str(&" ".repeat(i));
            src.push_str(header);
            src.push('\n');
        }
        src.push_str(&" ".repeat(300));
        src.push_str("os.remove('/a')\n");
        let _ = facts(&src);
    }
    let mut src = String::from("import os\n");
    for i in 0..90 {
        src.push_str(&" ".repeat(i));
        src.push_str("if x:\n");
    }
    src.push_str(&" ".repeat(90));
    src.push_str("os.remove('/a')\n");
    assert_eq!(facts(&src).accesses.len(), 1, "90 levels are followed");
}

/// Worker threads (rayon's) have 2 MiB stacks; the depth bounds keep even an unoptimised
/// build within half of that.
#[test]
fn extraction_runs_on_a_small_thread_stack() {
    let handle = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(|| {
            let n = 5_000;
            let mut src = String::from("import os\n");
            for i in 0..150 {
                src.push_str(&" ".repeat(i));
                src.push_str("if x:\n");
            }
            src.push_str(&" ".repeat(150));
            src.push_str(&format!("x = {}p{}\n", "str(".repeat(n), ")".repeat(n)));
            let _ = facts(&src);
            let _ = facts(&format!("x = {}1{}\n", "(".repeat(n), ")".repeat(n)));
            let _ = facts(&format!("x = {}p{}\n", "str(".repeat(n), ")".repeat(n)));
            let _ = facts(&format!("x = {}c\n", "a if b else ".repeat(n)));
            let _ = facts(
                &("x = [".to_string() + &"[y for y in ".repeat(2000) + "z" + &"]".repeat(2001)),
            );
        })
        .expect("thread");
    assert!(handle.join().is_ok());
}

#[test]
fn huge_files_are_fine() {
    let mut src = String::from("import os\n");
    for i in 0..20_000 {
        src.push_str(&format!(
            "def f{i}(d=BASE):\n    os.remove(os.path.join(d, 'x{i}.csv'))\n"
        ));
    }
    let f = facts(&src);
    assert_eq!(f.accesses.len(), 20_000);
    assert_eq!(f.scopes.len(), 20_001);
}

/// Throughput on a large realistic file; run with `--release --ignored --nocapture`.
#[test]
#[ignore = "timing, not a check"]
fn throughput_on_a_large_file() {
    let unit = LOADER.replace("def write_day", "def write_day_{i}");
    let mut src = String::new();
    let mut i = 0;
    while src.len() < 8_000_000 {
        src.push_str(&unit.replace("{i}", &i.to_string()));
        src.push_str("\nclass C{i}:\n    def run(self, d=OUT_DIR):\n        for f in glob.glob(os.path.join(d, f'ticker_{self.day:%Y%m%d}_*.csv')):\n            os.remove(f)\n        self.x = '%s/%s' % (d, 'y')\n".replace("{i}", &i.to_string()).as_str());
        i += 1;
    }
    let models = models();
    let start = std::time::Instant::now();
    let f = extract("big.py", &src, &models);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:.1} MB in {secs:.2}s = {:.1} MB/s, {} accesses, {} bindings",
        src.len() as f64 / 1e6,
        src.len() as f64 / 1e6 / secs,
        f.accesses.len(),
        f.bindings.len()
    );
}

/// argparse and click defaults are the values of the options a deployment does not pass.
#[test]
fn command_line_option_defaults_are_values() {
    let f = facts(
        "import argparse\nimport click\n\ndef main():\n    p = argparse.ArgumentParser()\n    p.add_argument(\"--out-dir\", default=\"/srv/out\")\n    p.add_argument(\"-l\", \"--log\", dest=\"logfile\", default=\"/var/log/x.log\")\n    p.add_argument(\"--day\", required=True)\n    args = p.parse_args()\n\n@click.command()\n@click.option(\"--spool\", default=\"/var/spool/x\", envvar=\"X_SPOOL\")\ndef worker(spool):\n    pass\n",
    );
    let out = binding(&f, "args.out_dir");
    assert_eq!(
        (out.line, show(&out.value)),
        (6, "\"/srv/out\"".to_string())
    );
    assert_eq!(
        show(&binding(&f, "args.logfile").value),
        "\"/var/log/x.log\""
    );
    assert!(
        f.bindings.iter().all(|b| b.name != "args.day"),
        "no default: unknown"
    );
    let spool = binding(&f, "spool");
    assert_eq!(show(&spool.value), "env(X_SPOOL, \"/var/spool/x\")");
}

/// A settings class's field is its environment variable with the field's default, as an
/// instance attribute (`settings.out_dir`) reads it.
#[test]
fn settings_fields_are_their_variables() {
    let f = facts(
        "from pydantic_settings import BaseSettings\n\nclass Settings(BaseSettings):\n    out_dir: str = \"/srv/out\"\n\nsettings = Settings()\n",
    );
    assert_eq!(
        show(&binding(&f, "Settings.out_dir").value),
        "env(OUT_DIR, \"/srv/out\")"
    );
}

#[test]
fn boto3_s3_objects_are_keys_in_their_bucket() {
    let f = facts(
        "import boto3\ns3 = boto3.client('s3')\n\
         s3.upload_file('/data/out/a.csv', 'acme', 'daily/a.csv')\n\
         s3.put_object(Bucket='acme', Key='daily/latest.txt', Body=b'x')\n\
         s3.download_file(Bucket='acme', Key='in/x.csv', Filename='/data/in/x.csv')\n\
         s3.delete_object(Bucket='acme', Key='daily/old.csv')\n\
         s3.list_objects_v2(Bucket='acme', Prefix='daily/')\n",
    );
    let found = accesses(&f);
    for expected in [
        r#"L3 read exact "/data/out/a.csv" via S3.upload_file"#,
        r#"L3 write exact "s3://acme/daily/a.csv" via S3.upload_file"#,
        r#"L4 write exact "s3://acme/daily/latest.txt" via S3.put_object"#,
        r#"L5 read exact "s3://acme/in/x.csv" via S3.download_file"#,
        r#"L5 write exact "/data/in/x.csv" via S3.download_file"#,
        r#"L6 delete exact "s3://acme/daily/old.csv" via S3.delete_object"#,
        r#"L7 list tree cat("s3://acme/daily/", g"*") via S3.list_objects_v2"#,
    ] {
        assert!(
            found.iter().any(|a| a == expected),
            "{expected}: {found:#?}"
        );
    }
    // Not an S3 client: a same-named method of another object, and a call without a bucket.
    let f = facts(
        "class Store:\n    def upload_file(self, a, b, c): pass\nStore().upload_file('/x', 'b', 'k')\n\
         import boto3\ns3 = boto3.client('s3')\ns3.put_object(Key='k', Body=b'x')\n",
    );
    assert!(
        accesses(&f).iter().all(|a| !a.contains("s3://")),
        "{:#?}",
        accesses(&f)
    );
}

/// Every `attribute` node of `src`, in the order a walk meets them.
fn attribute_nodes<'t>(node: tree_sitter::Node<'t>, out: &mut Vec<tree_sitter::Node<'t>>) {
    if node.kind() == "attribute" {
        out.push(node);
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        attribute_nodes(child, out);
    }
}

#[test]
fn a_dotted_name_read_from_its_text_is_the_one_read_from_its_nodes() {
    // Plain chains, and every shape whose text is not its name: spaces, comments and line
    // continuations inside, calls and subscripts on the way, constants and keywords as
    // objects, non-ASCII names, digits, and a chain longer than a name is followed.
    let long = (0..70)
        .map(|i| format!("a{i}"))
        .collect::<Vec<_>>()
        .join(".");
    let src = format!(
        "os.path.join\n_a._b9.C\nx . y\nx.\\\n  y\nx.y # note\n(x).y\nf().y.z\nd[0].k\n\
         None.real\nTrue.real\n'abc'.upper\n1.0.real\n(1).real\nprint.x\nawait.x\n\
         exec.y\nmatch.group\nre.match\nx.type\ntype.x\ncafé.x\nx.naïve\nself.a.b\n{long}\n\
         {}\nif x.y: pass\n",
        long.split('.').take(64).collect::<Vec<_>>().join(".")
    );
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .unwrap();
    let tree = parser.parse(&src, None).unwrap();
    let mut attributes = Vec::new();
    attribute_nodes(tree.root_node(), &mut attributes);
    assert!(attributes.len() > 40, "{}", attributes.len());
    let models = models();
    let extractor = walk::Extractor::new(&src, String::new(), false, &models.python);
    let mut by_text = 0;
    for node in attributes {
        let text = &src[node.byte_range()];
        let expected = extractor.dotted_by_nodes(node);
        assert_eq!(extractor.dotted(node), expected, "{text:?}");
        if super::translate::plain_dotted(text).is_some() {
            by_text += 1;
        }
    }
    // The fast path is taken, and not only by the plain chains of the first line.
    assert!(by_text > 10, "{by_text}");
}

#[test]
fn a_name_is_qualified_through_its_longest_imported_prefix() {
    let models = models();
    let mut extractor = walk::Extractor::new("", "app.jobs".to_string(), false, &models.python);
    for (local, module) in [
        ("osp", "os.path"),
        ("a", "x"),
        ("a.b", "y.z"),
        ("", "empty"),
    ] {
        extractor
            .aliases
            .insert(local.to_string(), module.to_string());
    }
    extractor.local_defs.insert("dump".to_string());
    let qualified = |name: &str| extractor.qualify(name);
    // The import covers as many components as its prefix has.
    assert_eq!(qualified("osp.join"), Some(("os.path.join".into(), 1)));
    assert_eq!(qualified("osp"), Some(("os.path".into(), 1)));
    assert_eq!(qualified("a.b.c.d"), Some(("y.z.c.d".into(), 2)));
    assert_eq!(qualified("a.c"), Some(("x.c".into(), 1)));
    // The empty prefix before a leading dot is a prefix too.
    assert_eq!(qualified(".q"), Some(("empty.q".into(), 1)));
    // A top-level definition of the file is qualified with the module.
    assert_eq!(qualified("dump.run"), Some(("app.jobs.dump.run".into(), 1)));
    // Neither imported nor defined here: not qualified (a prefix is whole components).
    assert_eq!(qualified("ab.c"), None);
    assert_eq!(qualified("os.path.join"), None);
}
