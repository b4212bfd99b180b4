//! Tests of how Python values flow to the accesses that use them, through the whole of
//! extraction and resolution: dict and namespace configuration objects, `functools.partial`,
//! joins and templates through variables, pathlib chains, instances and decorated helpers.
//! Each idiom has a case that resolves and a case that must stay unknown.

use super::*;
use crate::rules::models::Models;

static MODELS: std::sync::LazyLock<Models> =
    std::sync::LazyLock::new(|| Models::builtin().expect("built-in models load"));

/// Resolves a repository of Python files and lists `path:line mode resource` per path access.
pub(super) fn resolved(files: &[(&str, &str)]) -> Vec<String> {
    let mut map = BTreeMap::new();
    for (path, text) in files {
        let facts = crate::extract::extract(path, text.as_bytes(), &MODELS)
            .expect("a Python file is extracted");
        map.insert((*path).to_string(), Arc::new(facts));
    }
    let repos = vec![RepoFacts {
        name: "app".into(),
        files: map,
    }];
    let out = resolve(&repos, &BTreeMap::new());
    out.accesses
        .iter()
        .filter(|a| matches!(a.resource, Resource::Path(_)))
        .map(|a| format!("{}:{} {}", a.site.path, a.site.line, a.describe()))
        .collect()
}

/// The one access of `line` in `path`, described.
fn at(files: &[(&str, &str)], path: &str, line: u32) -> String {
    let prefix = format!("{path}:{line} ");
    let all = resolved(files);
    let found: Vec<&String> = all.iter().filter(|a| a.starts_with(&prefix)).collect();
    match found.as_slice() {
        [one] => one.trim_start_matches(&prefix).to_string(),
        _ => panic!("no single access at {path}:{line}: {all:#?}"),
    }
}

/// The notes of the access at `line` of a one-file repository.
fn notes(src: &str, line: u32) -> Vec<String> {
    let facts = crate::extract::extract("app/job.py", src.as_bytes(), &MODELS).expect("python");
    let repos = vec![RepoFacts {
        name: "app".into(),
        files: BTreeMap::from([("app/job.py".to_string(), Arc::new(facts))]),
    }];
    let out = resolve(&repos, &BTreeMap::new());
    out.accesses
        .iter()
        .filter(|a| a.site.line == line)
        .flat_map(|a| a.notes.clone())
        .collect()
}

fn one(src: &str, line: u32) -> String {
    at(&[("app/job.py", src)], "app/job.py", line)
}

// ---- dict and namespace configuration objects --------------------------------------------

#[test]
fn dict_entries_are_their_literals() {
    let src = r#"import os
CFG = {
    "paths": {"out": "/srv/out"},
    "spool": "/var/spool/app",
}
def write():
    open(CFG["paths"]["out"] + "/a.csv", "w")
    paths = CFG["paths"]
    open(os.path.join(paths["out"], "b.csv"), "w")
    open(os.path.join(CFG["spool"], "c"), "w")
"#;
    assert_eq!(one(src, 7), "writes /srv/out/a.csv");
    assert_eq!(one(src, 9), "writes /srv/out/b.csv");
    assert_eq!(one(src, 10), "writes /var/spool/app/c");
}

#[test]
fn dict_entries_assigned_later_or_loaded_stay_unknown() {
    // A key stored later (here in a function that configures the module), a dict loaded at
    // runtime, and a local dict that shadows the module's: never the literal.
    let src = r#"import json, os
CFG = {"out": "/srv/out", "keep": "/srv/keep"}
def configure(args):
    CFG["out"] = args.out
def write():
    open(CFG["out"] + "/a.csv", "w")
    open(CFG["keep"] + "/a.csv", "w")
def other(fh):
    CFG = json.load(fh)
    open(CFG["keep"] + "/b.csv", "w")
LOADED = json.load(open("/etc/app.json"))
open(LOADED["out"] + "/c.csv", "w")
"#;
    assert_eq!(one(src, 6), "writes {out}/a.csv");
    assert_eq!(one(src, 7), "writes /srv/keep/a.csv");
    assert_eq!(one(src, 10), r#"writes {CFG["keep"]}/b.csv"#);
    assert_eq!(one(src, 12), r#"writes {LOADED["out"]}/c.csv"#);
}

#[test]
fn updated_or_reassigned_dicts_are_unknown() {
    let src = r#"CFG = {"out": "/srv/out"}
CFG.update(load())
open(CFG["out"] + "/a.csv", "w")
OTHER = {"out": "/srv/other"}
OTHER = read_config()
open(OTHER["out"] + "/b.csv", "w")
"#;
    assert_eq!(one(src, 3), r#"writes {CFG["out"]}/a.csv"#);
    assert_eq!(one(src, 6), r#"writes {OTHER["out"]}/b.csv"#);
}

#[test]
fn dict_get_uses_the_default_only_for_a_key_a_known_dict_lacks() {
    let src = r#"import json
CFG = {"out": "/srv/out"}
open(CFG.get("out", "/d") + "/a", "w")
open(CFG.get("spool", "/var/spool/x") + "/b", "w")
RUNTIME = json.loads(text)
open(RUNTIME.get("spool", "/var/spool/y") + "/c", "w")
"#;
    assert_eq!(one(src, 3), "writes /srv/out/a");
    assert_eq!(one(src, 4), "writes /var/spool/x/b");
    // Loaded at runtime: the file's value or the default, which is assumed (and said).
    assert_eq!(one(src, 6), "writes /var/spool/y/c");
    assert_eq!(
        notes(src, 6),
        vec![
            r#"RUNTIME["spool"] is not known before the program runs; assuming its default /var/spool/y"#
        ]
    );
    assert!(notes(src, 4).is_empty());
}

#[test]
fn dict_calls_and_namespaces() {
    let src = r#"import os
from types import SimpleNamespace
cfg = dict(out="/x", spool="/y")
NS = SimpleNamespace(out_dir="/srv/ns", sub={"a": "/srv/a"})
open(os.path.join(cfg["out"], "c"), "w")
open(os.path.join(NS.out_dir, "d.csv"), "w")
open(os.path.join(NS.sub["a"], "e.csv"), "w")
open(os.path.join(NS.missing, "f.csv"), "w")
"#;
    assert_eq!(one(src, 5), "writes /x/c");
    assert_eq!(one(src, 6), "writes /srv/ns/d.csv");
    assert_eq!(one(src, 7), "writes /srv/a/e.csv");
    assert_eq!(one(src, 8), "writes {missing}/f.csv");
}

#[test]
fn imported_dicts_and_their_aliases() {
    let config = r#"import os
CONFIG = {"spool": "/var/spool/app", "paths": {"exports": "/srv/exports"}}
RUNTIME = {"out": "/srv/runtime"}
def load():
    RUNTIME["out"] = os.environ["RUNTIME_OUT"]
"#;
    let user = r#"import os
from app.config import CONFIG, RUNTIME
from app import config
cfg = CONFIG
open(os.path.join(CONFIG["spool"], "a"), "w")
open(os.path.join(cfg["paths"]["exports"], "b.csv"), "w")
open(os.path.join(config.CONFIG["spool"], "c"), "w")
open(os.path.join(RUNTIME["out"], "d"), "w")
open(os.path.join(CONFIG["nothing"], "e"), "w")
"#;
    let files = [("app/config.py", config), ("app/user.py", user)];
    assert_eq!(at(&files, "app/user.py", 5), "writes /var/spool/app/a");
    assert_eq!(at(&files, "app/user.py", 6), "writes /srv/exports/b.csv");
    assert_eq!(at(&files, "app/user.py", 7), "writes /var/spool/app/c");
    // Stored from the environment by a function of the config module: not the literal.
    assert_eq!(at(&files, "app/user.py", 8), "writes ${RUNTIME_OUT}/d");
    assert_eq!(
        at(&files, "app/user.py", 9),
        r#"writes {CONFIG["nothing"]}/e"#
    );
}

#[test]
fn dicts_of_a_class_and_an_instance() {
    let src = r#"import os
class Job:
    PATHS = {"out": "/srv/class"}
    def __init__(self):
        self.cfg = {"out": "/srv/instance"}
    def run(self):
        open(os.path.join(self.PATHS["out"], "a"), "w")
        open(os.path.join(self.cfg["out"], "b"), "w")
    def reset(self, other):
        self.cfg = other
open(os.path.join(Job.PATHS["out"], "c"), "w")
"#;
    assert_eq!(one(src, 7), "writes /srv/class/a");
    // `reset` replaces the instance's dict with a parameter nobody passes.
    assert_eq!(one(src, 8), r#"writes {self.cfg["out"]}/b"#);
    assert_eq!(one(src, 11), "writes /srv/class/c");
}

// ---- functools.partial ---------------------------------------------------------------------

#[test]
fn partials_bind_their_arguments_to_the_function() {
    let src = r#"import os
import functools
from functools import partial
def write(out_dir, name):
    open(os.path.join(out_dir, name), "w")
def export(rows, *, base, suffix=".csv"):
    open(base + "/rows" + suffix, "w")
w = partial(write, "/srv/x")
w("e.csv")
e = functools.partial(export, base="/srv/exports")
e([], suffix=".tsv")
"#;
    assert_eq!(one(src, 5), "writes /srv/x/e.csv");
    assert_eq!(one(src, 7), "writes /srv/exports/rows.tsv");
}

#[test]
fn a_name_rebound_after_a_partial_is_no_partial() {
    let src = r#"import os
from functools import partial
def write(out_dir, name):
    open(os.path.join(out_dir, name), "w")
w = partial(write, "/srv/x")
w = print
w("e.csv")
write("/srv/direct", "f.csv")
"#;
    assert_eq!(one(src, 4), "writes /srv/direct/f.csv");
}

// ---- joins and templates through variables ------------------------------------------------

#[test]
fn joins_and_templates_through_list_and_dict_variables() {
    let src = r#"import os
parts = ["/srv", "j", "f.csv"]
open(os.path.join(*parts), "w")
sl = ("/srv", "k", "g.csv")
open("/".join(sl), "w")
d = {"a": "/srv", "b": "h.csv"}
open("{a}/{b}".format(**d), "w")
open("%(a)s/%(b)s.bak" % d, "w")
open("{a}/{b}".format(a="/srv/kw", b="i.csv"), "w")
"#;
    assert_eq!(one(src, 3), "writes /srv/j/f.csv");
    assert_eq!(one(src, 5), "writes /srv/k/g.csv");
    assert_eq!(one(src, 7), "writes /srv/h.csv");
    assert_eq!(one(src, 8), "writes /srv/h.csv.bak");
    assert_eq!(one(src, 9), "writes /srv/kw/i.csv");
}

#[test]
fn changed_lists_are_not_joined() {
    let src = r#"import os
parts = ["/srv", "j"]
parts.append(name)
open(os.path.join(*parts), "w")
sl = ["/srv", "k"]
sl = sl + extra
open("/".join(sl), "w")
d = {"a": "/srv"}
d.update(more)
open("{a}/x".format(**d), "w")
"#;
    assert_eq!(one(src, 4), "writes {parts}");
    assert!(!one(src, 7).contains("/srv/k"), "{}", one(src, 7));
    assert_eq!(one(src, 10), r#"writes {d["a"]}/x"#);
}

// ---- pathlib chains ------------------------------------------------------------------------

#[test]
fn pathlib_chains_through_variables() {
    let src = r#"from pathlib import Path
p = Path("/srv")
q = p / "x"
(q / "y.csv").write_text("")
p.joinpath("z", "w.csv").with_suffix(".parquet").write_text("")
(q.parent / "up.txt").write_text("")
(Path(__file__).parent / "data" / "k.csv").write_text("")
(Path(__file__).resolve().parents[1] / "cache" / "x.bin").write_bytes(b"")
(Path(unknown) / "u.csv").write_text("")
"#;
    assert_eq!(one(src, 4), "writes /srv/x/y.csv");
    assert_eq!(one(src, 5), "writes /srv/z/w.parquet");
    assert_eq!(one(src, 6), "writes /srv/up.txt");
    // `__file__` is the file's path in its repository.
    assert_eq!(one(src, 7), "writes app/data/k.csv");
    assert_eq!(one(src, 8), "writes cache/x.bin");
    assert_eq!(one(src, 9), "writes {unknown}/u.csv");
}

// ---- instances, properties, decorated helpers, CLI options -------------------------------

#[test]
fn methods_of_instances_see_what_the_constructor_was_given() {
    let src = r#"import os
class Dumper:
    def __init__(self, out_dir):
        self.out_dir = out_dir
    @property
    def target(self):
        return os.path.join(self.out_dir, "dump.sql")
    def run(self):
        open(os.path.join(self.out_dir, "run.csv"), "w")
        open(self.target, "w")
    def path(self, name):
        return os.path.join(self.out_dir, name)
d = Dumper("/srv/out")
d.run()
open(d.target + ".gz", "w")
open(d.path("x.txt"), "w")
"#;
    assert_eq!(one(src, 9), "writes /srv/out/run.csv");
    assert_eq!(one(src, 10), "writes /srv/out/dump.sql");
    assert_eq!(one(src, 15), "writes /srv/out/dump.sql.gz");
    assert_eq!(one(src, 16), "writes /srv/out/x.txt");
}

#[test]
fn an_instance_of_another_class_is_not_followed() {
    let src = r#"import os
class Dumper:
    def path(self, name):
        return os.path.join("/srv/out", name)
class Other:
    def path(self, name):
        return name
d = Other()
open(d.path("x.txt"), "w")
conn = connect()
open(conn.path("y.txt"), "w")
"#;
    assert_eq!(one(src, 9), "writes x.txt");
    assert_eq!(one(src, 11), "writes {conn.path}");
}

#[test]
fn cached_helpers_still_return_their_paths() {
    let src = r#"import os
import functools
from functools import lru_cache
from pathlib import Path
@lru_cache(maxsize=None)
def cache_dir():
    return "/var/cache/app"
@functools.cache
def data_dir():
    return Path("/srv/data")
open(os.path.join(cache_dir(), "c.bin"), "w")
(data_dir() / "d.csv").write_text("")
(other_dir() / "e.csv").write_text("")
"#;
    assert_eq!(one(src, 11), "writes /var/cache/app/c.bin");
    assert_eq!(one(src, 12), "writes /srv/data/d.csv");
    assert_eq!(one(src, 13), "writes {other_dir}/e.csv");
}

#[test]
fn typer_and_click_options_read_their_variables() {
    let src = r#"import os
import click
import typer
def main(out: str = typer.Option("/srv/typer", envvar="OUT_DIR"), other: str = typer.Option("/srv/o"), need: str = typer.Option(...)):
    open(os.path.join(out, "t.csv"), "w")
    open(os.path.join(other, "t.csv"), "w")
    open(os.path.join(need, "t.csv"), "w")
@click.command()
@click.option("--out", envvar="CLICK_OUT", default="/srv/click")
def cli(out):
    open(os.path.join(out, "k.csv"), "w")
"#;
    assert_eq!(one(src, 5), "writes /srv/typer/t.csv");
    assert_eq!(one(src, 6), "writes /srv/o/t.csv");
    assert!(!one(src, 7).contains("/srv"), "{}", one(src, 7));
    assert_eq!(one(src, 11), "writes /srv/click/k.csv");
    let mut env = BTreeMap::new();
    env.insert("OUT_DIR".to_string(), "/data/typer".to_string());
    let facts = crate::extract::extract("app/job.py", src.as_bytes(), &MODELS).expect("python");
    let repos = vec![RepoFacts {
        name: "app".into(),
        files: BTreeMap::from([("app/job.py".to_string(), Arc::new(facts))]),
    }];
    let out = resolve(&repos, &env);
    assert!(
        out.accesses
            .iter()
            .any(|a| a.site.line == 5 && a.describe() == "writes /data/typer/t.csv")
    );
}
