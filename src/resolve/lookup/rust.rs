//! Rust modules and struct fields for [`Lookup`].
//!
//! Modules: a path such as `crate::storage::paths`, `super::paths`, `self::consts` or
//! `paths::nested` names a module, which is a file (`src/storage/paths.rs`,
//! `src/storage/paths/mod.rs`) or an inline `mod` scope inside one. Paths are followed segment by
//! segment from the module of the use: `crate` is the crate root (`src/lib.rs`, else
//! `src/main.rs`, of the crate whose `src` directory holds the file), `super` the parent module,
//! `self` the module itself, another name an inline child module, an imported module (`use
//! crate::storage::paths;`), or a child module file (`mod paths;`: `paths.rs` or `paths/mod.rs`
//! next to a crate root or `mod.rs`, under `stem/` for another file).
//!
//! Fields: `self.dir` in a method, or `s.dir` where the extractor knows `s` holds a value of
//! the type (it writes the read as `self.dir` in that type's class scope), is the union of what
//! every struct literal of that type in the crate (`Self { dir: .. }`, `Spool { dir }`),
//! every `self.dir = ..` and every field attribute with a default (serde `default = "f"`, clap
//! `default_value`/`env`) assigns to the field. Types are matched by name within the crate (the
//! files under the same `src` directory).

use super::{FileRef, Lookup, class_of};
use crate::expr::ScopeId;
use crate::extract::{Binding, FileFacts, ScopeKind};

/// Segments of a module path followed; longer paths are not modules anyone writes.
const MAX_MODULE_SEGMENTS: usize = 16;

/// Imported module aliases expanded while following one path (`use a::b as c;` then `c::d`).
const MAX_ALIAS_HOPS: usize = 4;

/// Values (struct literals, assignments, attribute defaults) of one field that are followed;
/// a field assigned in more places is that union plus an unknown.
pub(super) const MAX_FIELD_VALUES: usize = 8;

/// The module scope `scope` is in (itself when it is one).
fn module_scope_of(facts: &FileFacts, scope: ScopeId) -> ScopeId {
    let mut current = Some(scope);
    while let Some(s) = current {
        let Some(sc) = facts.scopes.get(s) else {
            return 0;
        };
        if sc.kind == ScopeKind::Module {
            return s;
        }
        current = sc.parent;
    }
    0
}

/// The inline `mod name { .. }` directly inside module scope `parent`.
fn child_module(facts: &FileFacts, parent: ScopeId, name: &str) -> Option<ScopeId> {
    facts.scopes.iter().enumerate().find_map(|(id, s)| {
        (id != 0 && s.kind == ScopeKind::Module && s.parent == Some(parent) && s.name == name)
            .then_some(id)
    })
}

/// Whether a file's child module files live in its own directory: crate roots
/// (`src/main.rs`, `src/lib.rs`, `src/bin/x.rs`, `tests/x.rs`) and `mod.rs` files.
fn owns_its_directory(path: &str) -> bool {
    path.ends_with("/mod.rs")
        || path == "mod.rs"
        || crate::extract::rust::module_name(path).is_empty()
}

/// The directory of a file's child module files.
pub(super) fn module_dir(path: &str) -> String {
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    if owns_its_directory(path) {
        dir.to_string()
    } else {
        let stem = file.strip_suffix(".rs").unwrap_or(file);
        if dir.is_empty() {
            stem.to_string()
        } else {
            format!("{dir}/{stem}")
        }
    }
}

fn joined(dir: &str, tail: &str) -> String {
    if dir.is_empty() {
        tail.to_string()
    } else {
        format!("{dir}/{tail}")
    }
}

/// The `src` directory of the crate a file belongs to (`crates/agent/src` for
/// `crates/agent/src/a/b.rs`).
pub(super) fn crate_src_dir(path: &str) -> Option<&str> {
    let segments: Vec<&str> = path.split('/').collect();
    let index = segments[..segments.len().saturating_sub(1)]
        .iter()
        .rposition(|s| *s == "src")?;
    let end: usize = segments[..=index]
        .iter()
        .map(|s| s.len() + 1)
        .sum::<usize>()
        - 1;
    path.get(..end)
}

impl<'a> Lookup<'a> {
    fn repo_file(&self, repo: usize, path: &str) -> Option<FileRef<'a>> {
        let (found, _) = self.repos.get(repo)?.files.get_key_value(path)?;
        Some(FileRef {
            repo,
            path: found.as_str(),
        })
    }

    /// The file of module `name` declared by `mod name;` in `file`.
    fn child_module_file(&self, file: FileRef<'a>, name: &str) -> Option<FileRef<'a>> {
        let dir = module_dir(file.path);
        self.repo_file(file.repo, &joined(&dir, &format!("{name}.rs")))
            .or_else(|| self.repo_file(file.repo, &joined(&dir, &format!("{name}/mod.rs"))))
    }

    /// The file whose module is the parent of `file`'s module.
    fn parent_module_file(&self, file: FileRef<'a>) -> Option<FileRef<'a>> {
        let (dir, _) = file.path.rsplit_once('/')?;
        let parent_dir = if owns_its_directory(file.path) {
            if crate::extract::rust::module_name(file.path).is_empty() {
                return None;
            }
            dir.rsplit_once('/').map_or("", |(d, _)| d)
        } else {
            dir
        };
        let (above, leaf) = parent_dir.rsplit_once('/').unwrap_or(("", parent_dir));
        [
            joined(parent_dir, "mod.rs"),
            joined(parent_dir, "lib.rs"),
            joined(parent_dir, "main.rs"),
            joined(above, &format!("{leaf}.rs")),
        ]
        .iter()
        .find_map(|p| self.repo_file(file.repo, p))
    }

    /// The root file of the crate `file` belongs to.
    fn crate_root_file(&self, file: FileRef<'a>) -> Option<FileRef<'a>> {
        let src = crate_src_dir(file.path)?;
        self.repo_file(file.repo, &format!("{src}/lib.rs"))
            .or_else(|| self.repo_file(file.repo, &format!("{src}/main.rs")))
    }

    /// One step along a module path from module `scope` of `file`.
    fn module_step(
        &self,
        file: FileRef<'a>,
        scope: ScopeId,
        segment: &str,
    ) -> Option<(FileRef<'a>, ScopeId)> {
        let facts = self.facts(file)?;
        match segment {
            "self" => Some((file, scope)),
            "super" if scope != 0 => {
                let parent = facts.scopes.get(scope)?.parent?;
                Some((file, module_scope_of(facts, parent)))
            }
            "super" => Some((self.parent_module_file(file)?, 0)),
            name => match child_module(facts, scope, name) {
                Some(child) => Some((file, child)),
                None if scope == 0 => Some((self.child_module_file(file, name)?, 0)),
                None => None,
            },
        }
    }

    /// The module a Rust path (segments joined with `.`) names, seen from `scope` of `file`:
    /// a file and a module scope in it.
    pub(super) fn rust_module(
        &self,
        file: FileRef<'a>,
        scope: ScopeId,
        module: &str,
    ) -> Option<(FileRef<'a>, ScopeId)> {
        self.rust_module_hops(file, scope, module, 0)
    }

    fn rust_module_hops(
        &self,
        file: FileRef<'a>,
        scope: ScopeId,
        module: &str,
        hops: usize,
    ) -> Option<(FileRef<'a>, ScopeId)> {
        let facts = self.facts(file)?;
        let segments: Vec<&str> = module.split('.').filter(|s| !s.is_empty()).collect();
        if segments.is_empty() || segments.len() > MAX_MODULE_SEGMENTS {
            return None;
        }
        let here = module_scope_of(facts, scope);
        let (first, rest) = segments.split_first()?;
        let mut at = match *first {
            "crate" => (self.crate_root_file(file)?, 0),
            "self" | "super" => self.module_step(file, here, first)?,
            name => {
                // An inline module of this module, an imported module, a `mod` file.
                let inline = child_module(facts, here, name);
                let imported = || {
                    let mut current = Some(scope);
                    while let Some(s) = current {
                        if let Some(import) = self.find_import(facts, s, name)
                            && let Some(imported) = &import.name
                            && imported != "*"
                        {
                            return Some((import, imported));
                        }
                        current = facts.scopes.get(s).and_then(|sc| sc.parent);
                    }
                    None
                };
                if let Some(child) = inline {
                    (file, child)
                } else if hops < MAX_ALIAS_HOPS
                    && let Some((import, imported)) = imported()
                {
                    let full = format!("{}.{imported}", import.module.replace("::", "."));
                    self.rust_module_hops(file, import.scope, &full, hops + 1)?
                } else {
                    self.module_step(file, here, name)
                        .or_else(|| Some((self.child_module_file(file, name)?, 0)))?
                }
            }
        };
        for segment in rest {
            at = self.module_step(at.0, at.1, segment)?;
        }
        Some(at)
    }

    /// Every value assigned to field `name` (`self.dir`) of the type whose class scope is
    /// around `scope` of `file`, in the files of its crate; and whether there were more than
    /// [`MAX_FIELD_VALUES`]. None when the scope is in no class.
    pub(in crate::resolve) fn field_values(
        &self,
        file: FileRef<'a>,
        scope: ScopeId,
        name: &str,
    ) -> Option<(Vec<(FileRef<'a>, &'a Binding)>, bool)> {
        let facts = self.facts(file)?;
        let class = class_of(facts, scope)?;
        let type_name = facts.scopes.get(class)?.name.as_str();
        let index = self.shared.fields.get_or_init(|| self.field_index());
        let key = (file.repo, type_name.to_string(), name.to_string());
        let src = crate_src_dir(file.path);
        let same_crate = |other: &str| match src {
            Some(src) => crate_src_dir(other) == Some(src),
            None => other == file.path,
        };
        let all = index.get(&key)?;
        let mut values = Vec::new();
        let mut more = false;
        for (at, binding) in all.iter().filter(|(at, _)| same_crate(at.path)) {
            if values.len() == MAX_FIELD_VALUES {
                more = true;
                break;
            }
            values.push((*at, *binding));
        }
        Some((values, more))
    }

    /// Field and method-result bindings (`self.x`, `self.x()` in a class scope) of every Rust file, by repository, type
    /// name and field.
    fn field_index(&self) -> super::FieldIndex<'a> {
        let mut index = super::FieldIndex::default();
        for (repo, facts) in self.repos.iter().enumerate() {
            for (path, file) in &facts.files {
                if !path.ends_with(".rs") {
                    continue;
                }
                for binding in &file.bindings {
                    let Some(class) = file.scopes.get(binding.scope) else {
                        continue;
                    };
                    if class.kind != ScopeKind::Class || !binding.name.starts_with("self.") {
                        continue;
                    }
                    let at = FileRef {
                        repo,
                        path: path.as_str(),
                    };
                    index
                        .entry((repo, class.name.to_string(), binding.name.to_string()))
                        .or_default()
                        .push((at, binding));
                }
            }
        }
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{RepoFacts, resolve};
    use std::collections::BTreeMap;
    use std::sync::Arc;

    /// The paths written, by `file:line`, when the files form one repository.
    fn written(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        let models = match crate::rules::models::Models::builtin() {
            Ok(models) => models,
            Err(e) => panic!("built-in models must load: {e}"),
        };
        let files = files
            .iter()
            .map(|(path, text)| {
                let facts = crate::extract::rust::extract(path, text, &models);
                (path.to_string(), Arc::new(facts))
            })
            .collect();
        let repos = vec![RepoFacts {
            name: "r".into(),
            files,
        }];
        resolve(&repos, &BTreeMap::new())
            .accesses
            .iter()
            .filter(|a| a.mode == crate::model::Mode::Write)
            .map(|a| {
                let site = format!("{}:{}", a.site.path, a.site.line);
                // Every alternative, not the shortened display.
                let shown = match a.resource.as_path() {
                    Some(set) => {
                        let all: Vec<String> = set.patterns.iter().map(|p| p.display()).collect();
                        all.join(", ")
                    }
                    None => a.resource.display().to_string(),
                };
                (site, shown)
            })
            .collect()
    }

    fn at<'m>(map: &'m BTreeMap<String, String>, site: &str) -> &'m str {
        map.get(site).map_or("<none>", String::as_str)
    }

    /// Modules that all glob-import each other (and `super::*` in nested test modules), asked
    /// for names none of them defines: each module is searched once per name, not once per path
    /// through the globs (which, 16 hops deep, would not end in any useful time).
    #[test]
    fn glob_imports_that_import_each_other_end() {
        let modules = 12;
        let mut files: Vec<(String, String)> = Vec::new();
        let mut main = String::new();
        for i in 0..modules {
            main.push_str(&format!("mod m{i};\n"));
        }
        main.push_str("fn main() {\n");
        for i in 0..modules {
            main.push_str(&format!(
                "    std::fs::write(format!(\"{{}}/x{i}\", MISSING_{i}), b\"\").ok();\n"
            ));
        }
        main.push_str("    std::fs::write(format!(\"{}/found\", m11::FOUND), b\"\").ok();\n}\n");
        files.push(("src/main.rs".into(), main));
        for i in 0..modules {
            let mut text = String::new();
            for j in 0..modules {
                if j != i {
                    text.push_str(&format!("use crate::m{j}::*;\n"));
                }
            }
            text.push_str(&format!(
                "fn f{i}() {{ std::fs::write(format!(\"{{}}/y\", NOWHERE), b\"\").ok(); }}\nmod tests {{\n    use super::*;\n    fn t() {{ std::fs::write(format!(\"{{}}/z\", ALSO_NOWHERE), b\"\").ok(); }}\n}}\n"
            ));
            if i == modules - 1 {
                text.push_str("pub const FOUND: &str = \"/srv/found\";\n");
            }
            files.push((format!("src/m{i}.rs"), text));
        }
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let w = written(&borrowed);
        assert_eq!(
            at(&w, &format!("src/main.rs:{}", modules + 2 + modules)),
            "/srv/found/found"
        );
        // What no module defines stays unknown.
        assert!(at(&w, "src/m0.rs:12").contains("NOWHERE"), "{w:?}");
    }

    #[test]
    fn items_through_mod_rs_layouts_globs_and_inline_modules() {
        let w = written(&[
            (
                "src/main.rs",
                "mod storage;\nuse crate::storage::paths::SPOOL_DIR;\nfn main() {\n    std::fs::write(format!(\"{SPOOL_DIR}/a\"), b\"\").ok();\n    std::fs::write(storage::paths::nested::DEEP, b\"\").ok();\n}\n",
            ),
            ("src/storage/mod.rs", "pub mod paths;\npub mod writer;\n"),
            (
                "src/storage/paths/mod.rs",
                "pub const SPOOL_DIR: &str = \"/var/spool/rp\";\npub const ROOT: &str = concat!(\"/srv\", \"/rp\");\npub mod nested {\n    pub const DEEP: &str = \"/srv/deep.bin\";\n}\n",
            ),
            (
                "src/storage/writer.rs",
                "use super::paths::*;\nuse std::fs;\npub fn w() {\n    fs::write(format!(\"{}/h\", SPOOL_DIR), b\"\").ok();\n    fs::write(format!(\"{}/j\", super::paths::ROOT), b\"\").ok();\n}\nmod inner {\n    use super::*;\n    pub fn x() { fs::write(format!(\"{}/l\", SPOOL_DIR), b\"\").ok(); }\n}\n",
            ),
            (
                "src/util.rs",
                "pub mod consts {\n    pub const TMP: &str = \"/tmp/rp\";\n}\nuse self::consts::TMP as T;\npub fn u() {\n    std::fs::write(format!(\"{}/m\", consts::TMP), b\"\").ok();\n    std::fs::write(format!(\"{}/n\", self::consts::TMP), b\"\").ok();\n    std::fs::write(format!(\"{T}/o\"), b\"\").ok();\n}\n",
            ),
        ]);
        assert_eq!(at(&w, "src/main.rs:4"), "/var/spool/rp/a");
        assert_eq!(at(&w, "src/main.rs:5"), "/srv/deep.bin");
        assert_eq!(at(&w, "src/storage/writer.rs:4"), "/var/spool/rp/h");
        assert_eq!(at(&w, "src/storage/writer.rs:5"), "/srv/rp/j");
        assert_eq!(at(&w, "src/storage/writer.rs:9"), "/var/spool/rp/l");
        assert_eq!(at(&w, "src/util.rs:6"), "/tmp/rp/m");
        assert_eq!(at(&w, "src/util.rs:7"), "/tmp/rp/n");
        assert_eq!(at(&w, "src/util.rs:8"), "/tmp/rp/o");
    }

    /// Not firing: a module path that names no module of the crate, or an item another module
    /// does not define, stays unknown rather than matching a same-named item elsewhere.
    #[test]
    fn unknown_modules_and_items_stay_unknown() {
        let w = written(&[
            (
                "src/main.rs",
                "mod a;\nfn main() {\n    std::fs::write(format!(\"{}/x\", b::DIR), b\"\").ok();\n    std::fs::write(format!(\"{}/y\", a::OTHER), b\"\").ok();\n}\n",
            ),
            ("src/a.rs", "pub const DIR: &str = \"/srv/a\";\n"),
            // Another crate of the workspace with a `b` module: not this crate's.
            ("tools/src/b.rs", "pub const DIR: &str = \"/srv/b\";\n"),
        ]);
        assert_eq!(at(&w, "src/main.rs:3"), "{DIR}/x");
        assert_eq!(at(&w, "src/main.rs:4"), "{OTHER}/y");
    }

    #[test]
    fn a_field_is_the_union_of_the_crates_constructors() {
        let w = written(&[
            (
                "src/spool.rs",
                "use std::fs;\nuse std::path::PathBuf;\npub struct Spool { dir: PathBuf }\nimpl Spool {\n    pub fn new() -> Self {\n        Self { dir: PathBuf::from(\"/var/spool/app\") }\n    }\n    pub fn at(dir: PathBuf) -> Spool {\n        Spool { dir }\n    }\n    pub fn write(&self) {\n        fs::write(self.dir.join(\"x.json\"), b\"\").ok();\n    }\n}\n",
            ),
            (
                "src/main.rs",
                "mod spool;\nuse spool::Spool;\nuse std::fs;\nfn main() {\n    let s = Spool::new();\n    fs::write(s.dir.join(\"y.json\"), b\"\").ok();\n    let t = Spool::at(\"/var/spool/retry\".into());\n    run(&s);\n}\nfn run(s: &Spool) {\n    fs::write(s.dir.join(\"z.json\"), b\"\").ok();\n}\n",
            ),
        ]);
        let both = "/var/spool/app/x.json, /var/spool/retry/x.json";
        assert_eq!(at(&w, "src/spool.rs:12"), both);
        assert_eq!(
            at(&w, "src/main.rs:6"),
            "/var/spool/app/y.json, /var/spool/retry/y.json"
        );
        assert_eq!(
            at(&w, "src/main.rs:11"),
            "/var/spool/app/z.json, /var/spool/retry/z.json"
        );
    }

    /// Not firing: a same-named type of another crate of the workspace, and another type's
    /// field of the same name, add nothing; a type no literal builds stays unknown.
    #[test]
    fn fields_of_other_types_and_crates_do_not_mix() {
        let w = written(&[
            (
                "agent/src/main.rs",
                "use std::fs;\nstruct Spool { dir: String }\nstruct Other { dir: String }\nfn main() {\n    let s = Spool { dir: \"/var/spool/agent\".into() };\n    let o = Other { dir: \"/srv/other\".into() };\n    fs::write(format!(\"{}/a\", s.dir), b\"\").ok();\n    let u = Unknown::new();\n    fs::write(format!(\"{}/b\", u.dir), b\"\").ok();\n}\n",
            ),
            (
                "tools/src/main.rs",
                "struct Spool { dir: String }\nfn main() {\n    let s = Spool { dir: \"/tmp/tools\".into() };\n}\n",
            ),
        ]);
        assert_eq!(at(&w, "agent/src/main.rs:7"), "/var/spool/agent/a");
        assert_eq!(at(&w, "agent/src/main.rs:9"), "{dir}/b");
    }

    /// Bounded: more constructors than `MAX_FIELD_VALUES` make the rest unknown.
    #[test]
    fn many_constructors_leave_an_unknown() {
        let mut text = String::from("use std::fs;\nstruct S { dir: String }\n");
        for i in 0..(MAX_FIELD_VALUES + 2) {
            text.push_str(&format!(
                "fn c{i}() -> S {{ S {{ dir: \"d{i}\".into() }} }}\n"
            ));
        }
        text.push_str("fn w(s: &S) { fs::write(format!(\"/srv/{}/x\", s.dir), b\"\").ok(); }\n");
        let line = MAX_FIELD_VALUES + 5;
        let w = written(&[("src/lib.rs", &text)]);
        let shown = at(&w, &format!("src/lib.rs:{line}"));
        assert!(shown.contains("/srv/d0/x"), "{shown}");
        assert!(shown.contains("/srv/{dir}/x"), "{shown}");
        assert!(!shown.contains("/srv/d9/x"), "{shown}");
    }

    #[test]
    fn serde_and_clap_fields_resolve_to_their_defaults() {
        let w = written(&[
            (
                "src/config.rs",
                "use std::path::PathBuf;\n#[derive(serde::Deserialize)]\npub struct Config {\n    #[serde(rename = \"outDir\", default = \"default_out\")]\n    pub out_dir: PathBuf,\n    pub state_dir: PathBuf,\n}\nfn default_out() -> PathBuf {\n    \"/srv/out\".into()\n}\n#[derive(serde::Deserialize)]\n#[serde(default)]\npub struct Cache { pub dir: PathBuf }\nimpl Default for Cache {\n    fn default() -> Self {\n        Self { dir: \"/var/cache/app\".into() }\n    }\n}\n",
            ),
            (
                "src/main.rs",
                "mod config;\nuse config::{Cache, Config};\nuse std::fs;\n#[derive(clap::Parser)]\nstruct Args {\n    #[arg(long, default_value = \"/srv/export\", env = \"EXPORT_DIR\")]\n    export_dir: PathBuf,\n}\nfn main() {\n    let args = Args::parse();\n    fs::write(args.export_dir.join(\"e.csv\"), b\"\").ok();\n    let cfg: Config = toml::from_str(\"\").unwrap();\n    fs::write(cfg.out_dir.join(\"o\"), b\"\").ok();\n    fs::write(cfg.state_dir.join(\"s\"), b\"\").ok();\n    let cache: Cache = toml::from_str(\"\").unwrap();\n    fs::write(cache.dir.join(\"c\"), b\"\").ok();\n}\n",
            ),
        ]);
        assert_eq!(at(&w, "src/main.rs:11"), "/srv/export/e.csv");
        assert_eq!(at(&w, "src/main.rs:13"), "/srv/out/o");
        assert_eq!(at(&w, "src/main.rs:14"), "{state_dir}/s");
        assert_eq!(at(&w, "src/main.rs:16"), "/var/cache/app/c");
    }

    #[test]
    fn module_directories() {
        assert_eq!(module_dir("src/main.rs"), "src");
        assert_eq!(module_dir("src/storage/mod.rs"), "src/storage");
        assert_eq!(module_dir("src/storage/writer.rs"), "src/storage/writer");
        assert_eq!(module_dir("src/bin/tool.rs"), "src/bin");
        assert_eq!(crate_src_dir("crates/a/src/x/y.rs"), Some("crates/a/src"));
        assert_eq!(crate_src_dir("src/main.rs"), Some("src"));
        assert_eq!(crate_src_dir("build.rs"), None);
    }
}
