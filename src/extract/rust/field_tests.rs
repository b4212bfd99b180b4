//! Tests of struct fields as values (`fields`): typed reads and field attributes.

use super::extract;
use crate::expr::Expr;
use crate::extract::{Binding, FileFacts, ScopeKind};
use crate::rules::models::Models;

fn facts(source: &str) -> FileFacts {
    let models = match Models::builtin() {
        Ok(models) => models,
        Err(e) => panic!("built-in models must load: {e}"),
    };
    extract("src/app.rs", source, &models)
}

/// The name and scope (as the scope's kind and name) of the first variable in the path of
/// the access at `line`.
fn read_at(facts: &FileFacts, line: u32) -> (String, ScopeKind, String) {
    let Some(access) = facts.accesses.iter().find(|a| a.line == line) else {
        panic!("no access at line {line}: {:#?}", facts.accesses);
    };
    let Some(target) = access.resource.as_path() else {
        panic!("not a path access");
    };
    let mut expr = &target.expr;
    while let Expr::Join { parts } | Expr::Concat { parts } = expr {
        expr = &parts[0];
    }
    let Expr::Var { name, scope, .. } = expr else {
        panic!("not a variable: {expr:?}");
    };
    let scope = &facts.scopes[*scope];
    (name.to_string(), scope.kind, scope.name.to_string())
}

fn field(facts: &FileFacts, class: &str, name: &str) -> Option<Binding> {
    facts
        .bindings
        .iter()
        .find(|b| {
            b.name == name
                && facts.scopes[b.scope].kind == ScopeKind::Class
                && facts.scopes[b.scope].name == class
        })
        .cloned()
}

fn class_read(name: &str, class: &str) -> (String, ScopeKind, String) {
    (name.to_string(), ScopeKind::Class, class.to_string())
}

#[test]
fn values_of_a_named_type_read_the_types_fields() {
    let f = facts(
        "use std::fs;\nfn run(cfg: &Config, n: u32) {\n    fs::write(cfg.out_dir.join(\"a\"), b\"\").ok();\n}\nfn main() {\n    let s = Spool::new();\n    fs::write(s.dir.join(\"b\"), b\"\").ok();\n    let args = Args::parse();\n    fs::write(args.export_dir.join(\"c\"), b\"\").ok();\n    let c: Config = load().unwrap();\n    fs::write(c.out_dir.join(\"d\"), b\"\").ok();\n    let shared = std::sync::Arc::new(Config::load()?);\n    fs::write(shared.out_dir.join(\"e\"), b\"\").ok();\n    let lit = Spool { dir: \"/x\".into() };\n    fs::write(lit.dir.join(\"f\"), b\"\").ok();\n}\n",
    );
    assert_eq!(read_at(&f, 3), class_read("self.out_dir", "Config"));
    assert_eq!(read_at(&f, 7), class_read("self.dir", "Spool"));
    assert_eq!(read_at(&f, 9), class_read("self.export_dir", "Args"));
    assert_eq!(read_at(&f, 11), class_read("self.out_dir", "Config"));
    assert_eq!(read_at(&f, 13), class_read("self.out_dir", "Config"));
    assert_eq!(read_at(&f, 15), class_read("self.dir", "Spool"));
}

/// Not firing: a value whose type is not spelled (a plain function's result), a rebinding
/// that drops the type, a standard type, and another function's local keep their dotted names.
#[test]
fn values_of_unknown_type_keep_their_dotted_names() {
    let f = facts(
        "use std::fs;\nfn main() {\n    let s = make();\n    fs::write(s.dir.join(\"a\"), b\"\").ok();\n    let t = Spool::new();\n    let t = other(t);\n    fs::write(t.dir.join(\"b\"), b\"\").ok();\n    let p = PathBuf::from(\"/x\");\n    fs::write(p.dir.join(\"c\"), b\"\").ok();\n}\nfn g() {\n    fs::write(t.dir.join(\"d\"), b\"\").ok();\n}\n",
    );
    for (line, name) in [(4, "s.dir"), (7, "t.dir"), (9, "p.dir"), (12, "t.dir")] {
        let (read, kind, _) = read_at(&f, line);
        assert_eq!(
            (read.as_str(), kind),
            (name, ScopeKind::Function),
            "line {line}"
        );
    }
}

/// A field of a field, when this file declares the field's type: `self.config.out_dir`.
#[test]
fn fields_of_fields_follow_the_declared_field_types() {
    let f = facts(
        "use std::fs;\nstruct App { config: Config, name: String }\nimpl App {\n    fn run(&self) {\n        fs::write(self.config.out_dir.join(\"a\"), b\"\").ok();\n        fs::write(self.other.out_dir.join(\"b\"), b\"\").ok();\n    }\n}\n",
    );
    assert_eq!(read_at(&f, 5), class_read("self.out_dir", "Config"));
    // `other` is no declared field: unknown type, the dotted name as written.
    assert_eq!(read_at(&f, 6).0, "self.other.out_dir");
}

#[test]
fn serde_defaults_bind_fields_and_other_fields_come_from_the_file() {
    let f = facts(
        "#[derive(Debug, serde::Deserialize)]\nstruct Config {\n    #[serde(default = \"default_out\")]\n    out_dir: PathBuf,\n    #[serde(rename = \"logDir\", default = \"crate::defaults::log_dir\")]\n    log_dir: String,\n    state_dir: PathBuf,\n    #[serde(skip)]\n    cache: PathBuf,\n}\n#[derive(Deserialize)]\n#[serde(default)]\nstruct Settings { spool: PathBuf }\nstruct Plain {\n    #[serde(default = \"default_out\")]\n    out_dir: PathBuf,\n}\n",
    );
    let out = field(&f, "Config", "self.out_dir").expect("out_dir bound");
    assert!(
        matches!(&*out.value, Expr::Var { name, .. } if name == "default_out()"),
        "{out:?}"
    );
    // At the attribute's line, which a change of the default edits.
    assert_eq!(out.line, 3);
    let log = field(&f, "Config", "self.log_dir").expect("log_dir bound");
    assert!(
        matches!(&*log.value, Expr::Var { name, .. } if name == "crate::defaults::log_dir()"),
        "rename keeps the Rust value: {log:?}"
    );
    let state = field(&f, "Config", "self.state_dir").expect("state_dir bound");
    assert!(matches!(*state.value, Expr::Hole { .. }), "{state:?}");
    // Not firing: a skipped field, a container default (its `Default` impl says), a struct
    // that is not deserialised.
    assert!(field(&f, "Config", "self.cache").is_none());
    assert!(field(&f, "Settings", "self.spool").is_none());
    assert!(field(&f, "Plain", "self.out_dir").is_none());
}

#[test]
fn clap_fields_are_their_variables_with_defaults() {
    let f = facts(
        "#[derive(Parser)]\nstruct Args {\n    #[arg(long, default_value = \"/srv/export\", env = \"EXPORT_DIR\")]\n    export_dir: PathBuf,\n    #[clap(long, default_value_t = String::from(\"/tmp/plain\"))]\n    plain: String,\n    #[arg(long, env)]\n    spool_dir: Option<PathBuf>,\n    #[arg(long)]\n    given: PathBuf,\n}\nstruct NotArgs {\n    #[arg(long, default_value = \"/x\")]\n    dir: PathBuf,\n}\n",
    );
    let export = field(&f, "Args", "self.export_dir").expect("bound");
    assert_eq!(
        export.value,
        Expr::Env {
            name: "EXPORT_DIR".into(),
            default: Some(Box::new(Expr::lit("/srv/export")))
        }
    );
    assert_eq!(
        field(&f, "Args", "self.plain").map(|b| (*b.value).clone()),
        Some(Expr::lit("/tmp/plain"))
    );
    let spool = field(&f, "Args", "self.spool_dir").expect("bound");
    assert!(
        matches!(&*spool.value, Expr::Env { name, .. } if name == "SPOOL_DIR"),
        "{spool:?}"
    );
    let given = field(&f, "Args", "self.given").expect("bound");
    assert!(matches!(*given.value, Expr::Hole { .. }), "{given:?}");
    // Not firing: the attribute on a struct that does not derive a parser.
    assert!(field(&f, "NotArgs", "self.dir").is_none());
}

/// Bounded: many structs whose fields chain into each other, and many typed locals, are walked
/// in time linear in the file (each type's field types are expanded once per module).
#[test]
fn chained_field_types_are_expanded_once() {
    let mut source = String::new();
    for i in 0..400 {
        source.push_str(&format!(
            "struct T{i} {{ a: T{next}, b: T{next}, c: T{next} }}\n",
            next = i + 1
        ));
    }
    source.push_str("fn main() {\n");
    for i in 0..2000 {
        source.push_str(&format!(
            "    let v{i} = T{}::new();\n    std::fs::write(v{i}.a.b.c.dir.join(\"x\"), b\"\").ok();\n",
            i % 400
        ));
    }
    source.push_str("}\n");
    let f = facts(&source);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    assert_eq!(f.accesses.len(), 2000);
    let (name, kind, class) = read_at(&f, 403);
    assert_eq!((name.as_str(), kind), ("self.dir", ScopeKind::Class));
    assert_eq!(class, "T3");
}
