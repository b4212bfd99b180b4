//! Name lookup across scopes, files and imports: which binding a `Var` refers to.
//!
//! Rules, in the order applied: the last binding of the name in the use's own scope before the
//! use's line; then the enclosing scopes' last bindings (module code has run before a function
//! body does); `self.x` in the method's class scope; then imports in the scope chain, following
//! them into the imported module of the same repository. Anything else is unbound. Rust module
//! paths (files and inline `mod`s, `crate`/`super`/`self`, glob imports) and the union of a
//! struct field's values are in [`rust`].

mod rust;

use super::RepoFacts;
use crate::expr::ScopeId;
use crate::extract::{Binding, FileFacts, Import, ScopeKind};

/// Rust field bindings by repository, type name and field (`self.dir`).
type FieldIndex<'a> =
    std::collections::HashMap<(usize, String, String), Vec<(FileRef<'a>, &'a Binding)>>;

/// A file in the world: repository index and path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileRef<'a> {
    pub repo: usize,
    pub path: &'a str,
}

/// What a name refers to.
pub enum Target<'a> {
    /// A binding in some file.
    Binding(FileRef<'a>, &'a Binding),
    /// Unbound.
    Unbound,
}

pub struct Lookup<'a> {
    pub repos: &'a [RepoFacts],
    /// Nesting of `find` through imports: bounded, so import cycles cannot recurse forever.
    depth: std::cell::Cell<usize>,
    /// Repository files by file name, for sourced files; built on first use.
    by_name: std::cell::OnceCell<std::collections::HashMap<(usize, &'a str), Vec<&'a str>>>,
    /// Call sites of functions, built on the first parameter that needs them.
    callers: std::cell::OnceCell<super::params::CallerIndex<'a>>,
    /// Rust struct field bindings, built on the first field that needs them.
    fields: std::cell::OnceCell<FieldIndex<'a>>,
}

/// Star imports and sourced files searched per scope, nearest first.
const MAX_STAR_IMPORTS: usize = 16;

/// `a/b/../c/./d` -> `a/c/d`: a sourced path joined onto the script's directory.
fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    out.join("/")
}

/// Imports followed through more modules than this are treated as unbound.
const MAX_IMPORT_DEPTH: usize = 16;

impl<'a> Lookup<'a> {
    pub fn new(repos: &'a [RepoFacts]) -> Lookup<'a> {
        Lookup {
            repos,
            depth: std::cell::Cell::new(0),
            callers: std::cell::OnceCell::new(),
            by_name: std::cell::OnceCell::new(),
            fields: std::cell::OnceCell::new(),
        }
    }

    /// The call sites of function `scope` of `file`, in every file of its repository.
    pub fn callers_of<'s>(
        &'s self,
        file: FileRef<'a>,
        scope: ScopeId,
    ) -> &'s [(FileRef<'a>, &'a crate::extract::CallRef)] {
        self.callers
            .get_or_init(|| super::params::CallerIndex::new(self.repos))
            .of(file, scope)
    }

    /// The function scope, in `scope` or around it, that declares `name` as a parameter.
    pub fn parameter_scope(
        &self,
        file: FileRef<'a>,
        scope: ScopeId,
        name: &str,
    ) -> Option<ScopeId> {
        let facts = self.facts(file)?;
        let mut current = Some(scope);
        while let Some(s) = current {
            let sc = facts.scopes.get(s)?;
            if sc.kind == ScopeKind::Function {
                if facts
                    .params_of(s)
                    .is_some_and(|p| p.names.iter().any(|n| n == name))
                {
                    return Some(s);
                }
                // A local binding of the function shadows the enclosing one's parameter.
                if facts
                    .bindings
                    .iter()
                    .any(|b| b.scope == s && b.name == name)
                {
                    return None;
                }
            }
            current = sc.parent;
        }
        None
    }

    pub fn facts(&self, file: FileRef<'a>) -> Option<&'a FileFacts> {
        self.repos
            .get(file.repo)?
            .files
            .get(file.path)
            .map(|f| f.as_ref())
    }

    /// Resolves `name` used in `scope` at `line` of `file`.
    pub fn find(&self, file: FileRef<'a>, scope: ScopeId, name: &str, line: u32) -> Target<'a> {
        if self.depth.get() >= MAX_IMPORT_DEPTH {
            return Target::Unbound;
        }
        self.depth.set(self.depth.get() + 1);
        let found = self.find_unguarded(file, scope, name, line);
        self.depth.set(self.depth.get() - 1);
        found
    }

    fn find_unguarded(
        &self,
        file: FileRef<'a>,
        scope: ScopeId,
        name: &str,
        line: u32,
    ) -> Target<'a> {
        let Some(facts) = self.facts(file) else {
            return Target::Unbound;
        };
        if let Some(attr) = name.strip_prefix("self.")
            && let Some(class) = class_of(facts, scope)
            && let Some(b) = last_binding(facts, class, &format!("self.{attr}"), None)
        {
            return Target::Binding(file, b);
        }
        // Own scope: the last binding before the use; enclosing scopes: the last binding.
        let mut current = Some(scope);
        let mut first = true;
        while let Some(s) = current {
            let before = if first { Some(line) } else { None };
            if let Some(b) = last_binding(facts, s, name, before) {
                return Target::Binding(file, b);
            }
            // Items of a module or class (Rust consts, functions) are visible before their line.
            let item_scope = facts
                .scopes
                .get(s)
                .is_some_and(|sc| matches!(sc.kind, ScopeKind::Module | ScopeKind::Class));
            if first && item_scope {
                let later = facts
                    .bindings
                    .iter()
                    .filter(|b| b.scope == s && b.name == name && b.line > line)
                    .min_by_key(|b| b.line);
                if let Some(b) = later {
                    return Target::Binding(file, b);
                }
            }
            if let Some(import) = find_import(facts, s, name)
                && let Some(t) = self.follow_import(file, import, name)
            {
                return t;
            }
            // `. lib/config.sh`, `source "$(dirname "$0")/env"`, `from app.config import *`:
            // what the sourced file or module binds, the last source before the use first.
            if let Some(t) = self.find_in_star_imports(file, facts, s, name, before) {
                return t;
            }
            // `log_path()` after `from app.paths import log_path`: the returns of `log_path`
            // in that module.
            if let Some(stem) = name.strip_suffix("()")
                && let Some(import) = find_import(facts, s, stem)
                && let Some(imported) = &import.name
                && let Some(module_file) = self.module_file(file, import, false)
                && module_file != file
            {
                return self.find_in_module(module_file, &format!("{imported}()"));
            }
            first = false;
            current = facts.scopes.get(s).and_then(|sc| sc.parent);
        }
        let normalized = name.replace("::", ".");
        // Rust paths to items of modules: `storage::paths::SPOOL_DIR`, `self::consts::TMP`,
        // `super::paths::ROOT`, through files and inline `mod`s.
        if file.path.ends_with(".rs")
            && name.contains("::")
            && let Some((module, item)) = normalized.rsplit_once('.')
            && let Some((module_file, module_scope)) = self.rust_module(file, scope, module)
            && let found @ Target::Binding(..) =
                self.find(module_file, module_scope, item, u32::MAX)
        {
            return found;
        }
        // Qualified names whose head is an import alias (`config.OUT_DIR`, `a.b.NAME` after
        // `import a.b`, `settings::DIR`): the longest head that names an import wins.
        let dots: Vec<usize> = normalized.match_indices('.').map(|(i, _)| i).collect();
        for &split in dots.iter().rev() {
            let (head, rest) = (&normalized[..split], &normalized[split + 1..]);
            let mut current = Some(scope);
            while let Some(s) = current {
                if let Some(import) = find_import(facts, s, head)
                    && let Some(module_file) = self.module_file(file, import, true)
                    && module_file != file
                {
                    return self.find_in_module(module_file, rest);
                }
                // `Settings.out_dir` after `from app.config import Settings`: the class
                // attribute in that module.
                if let Some(import) = find_import(facts, s, head)
                    && let Some(imported) = &import.name
                    && let Some(module_file) = self.module_file(file, import, false)
                    && module_file != file
                    && let found @ Target::Binding(..) =
                        self.find_in_module(module_file, &format!("{imported}.{rest}"))
                {
                    return found;
                }
                current = facts.scopes.get(s).and_then(|sc| sc.parent);
            }
        }
        // Rust paths to items of other modules: `crate::paths::SPOOL_DIR`, `paths::LOG_FILE`
        // after `mod paths;`, `super::config::DIR`.
        if file.path.ends_with(".rs")
            && name.contains("::")
            && let Some((module, item)) = normalized.rsplit_once('.')
            && let Some(module_file) = self.rust_module_file(file, module)
            && module_file != file
            && let found @ Target::Binding(..) = self.find_in_module(module_file, item)
        {
            return found;
        }
        // `Self::DIR`, `crate::NAME`, `self.NAME` at module level within the same file.
        if let Some((head, rest)) = normalized.split_once('.')
            && matches!(head, "Self" | "self" | "crate" | "super")
            && rest != name
        {
            return self.find(file, 0, rest, u32::MAX);
        }
        // `settings.out_dir` with `settings = Settings()`: the attribute of the class (a field's
        // default, a settings variable, a class constant).
        if let Some((head, attribute)) = name.rsplit_once('.')
            && !attribute.ends_with("()")
            && let Target::Binding(at, binding) = self.find(file, scope, head, line)
            && let crate::expr::Expr::Var { name: call, .. } = &binding.value
            && let Some(class) = call.strip_suffix("()")
            && class
                .rsplit('.')
                .next()
                .is_some_and(|c| c.starts_with(char::is_uppercase))
            && let found @ Target::Binding(..) =
                self.find(at, binding.scope, &format!("{class}.{attribute}"), u32::MAX)
        {
            return found;
        }
        // A Helm template's `.Values.a.b`: the chart's values.yaml binds `values.a.b`.
        if name.starts_with("values.")
            && let Some(values_file) = self.chart_values(file)
            && values_file != file
        {
            return self.find_in_module(values_file, name);
        }
        Target::Unbound
    }

    /// A name bound by a file this scope sources (shell) or star-imports (Python), before
    /// `before` when given.
    fn find_in_star_imports(
        &self,
        file: FileRef<'a>,
        facts: &'a FileFacts,
        scope: ScopeId,
        name: &str,
        before: Option<u32>,
    ) -> Option<Target<'a>> {
        let is_rust = file.path.ends_with(".rs");
        let mut stars: Vec<&'a Import> = facts
            .imports
            .iter()
            .filter(|i| i.scope == scope && i.local == "*")
            // A Rust `use` is an item: visible in its whole block.
            .filter(|i| is_rust || before.is_none_or(|line| i.line < line))
            .collect();
        stars.sort_by_key(|i| std::cmp::Reverse(i.line));
        for import in stars.into_iter().take(MAX_STAR_IMPORTS) {
            // `use super::*;`, `use crate::paths::*;`: the items of that module.
            if is_rust {
                let module = import.module.replace("::", ".");
                if let Some((module_file, module_scope)) =
                    self.rust_module(file, import.scope, &module)
                    && (module_file, module_scope) != (file, scope)
                    && let found @ Target::Binding(..) =
                        self.find(module_file, module_scope, name, u32::MAX)
                {
                    return Some(found);
                }
                continue;
            }
            let target = if file.path.ends_with(".py") {
                self.module_file(file, import, false)
            } else {
                self.sourced_file(file, &import.module)
            };
            let Some(target) = target.filter(|t| *t != file) else {
                continue;
            };
            if let found @ Target::Binding(..) = self.find_in_module(target, name) {
                return Some(found);
            }
        }
        None
    }

    /// The repository file a shell `source` names (see `sourced_module` in the bash extractor):
    /// relative to the script's directory, else the repository file whose path is the longest
    /// suffix of the written path (at least its last two segments, as for launched scripts).
    fn sourced_file(&self, file: FileRef<'a>, module: &str) -> Option<FileRef<'a>> {
        let repo = self.repos.get(file.repo)?;
        if let Some(relative) = module.strip_prefix("@script/") {
            let dir = file.path.rsplit_once('/').map_or("", |(d, _)| d);
            let joined = normalize(&format!("{dir}/{relative}"));
            return repo
                .files
                .get_key_value(joined.trim_start_matches('/'))
                .map(|(path, _)| FileRef {
                    repo: file.repo,
                    path,
                });
        }
        let written = module.trim_start_matches('*');
        let name = written.rsplit('/').next().unwrap_or(written);
        let index = self.by_name.get_or_init(|| {
            let mut index: std::collections::HashMap<(usize, &'a str), Vec<&'a str>> =
                std::collections::HashMap::new();
            for (r, repo) in self.repos.iter().enumerate() {
                for path in repo.files.keys() {
                    let base = path.rsplit('/').next().unwrap_or(path);
                    index.entry((r, base)).or_default().push(path.as_str());
                }
            }
            index
        });
        let candidates = index.get(&(file.repo, name))?;
        // After an unknown directory (`"$LIB/config.sh"`): the one file with that tail.
        if module.starts_with('*') {
            let tail = written.trim_start_matches('/');
            let mut matching = candidates
                .iter()
                .filter(|path| **path == tail || path.ends_with(&format!("/{tail}")));
            return match (matching.next(), matching.next()) {
                (Some(path), None) => Some(FileRef {
                    repo: file.repo,
                    path,
                }),
                _ => None,
            };
        }
        let relative = !written.starts_with('/');
        candidates
            .iter()
            .filter(|path| {
                let segments = path.matches('/').count() + 1;
                let suffix = written.ends_with(&format!("/{path}")) || written == **path;
                suffix && (segments >= 2 || relative || written == **path)
            })
            .max_by_key(|path| path.len())
            .map(|path| FileRef {
                repo: file.repo,
                path,
            })
    }

    /// The file of a Rust module path as written in `file`: a child module of the file's
    /// directory first (`mod paths;` in `src/main.rs` is `src/paths.rs`), then the crate's.
    fn rust_module_file(&self, file: FileRef<'a>, module: &str) -> Option<FileRef<'a>> {
        let repo = self.repos.get(file.repo)?;
        let mut candidates: Vec<(String, bool)> = Vec::new();
        let first = module.split('.').next().unwrap_or(module);
        if !matches!(first, "crate" | "super" | "self" | "Self") {
            let dir = file.path.rsplit_once('/').map_or("", |(d, _)| d);
            let rel = module.replace('.', "/");
            let prefix = if dir.is_empty() {
                String::new()
            } else {
                format!("{dir}/")
            };
            candidates.push((format!("{prefix}{rel}.rs"), true));
            candidates.push((format!("{prefix}{rel}/mod.rs"), true));
        }
        candidates.extend(rust_module_candidates(file.path, module));
        for (path, anchored) in candidates {
            if anchored && let Some((found, _)) = repo.files.get_key_value(&path) {
                return Some(FileRef {
                    repo: file.repo,
                    path: found,
                });
            }
        }
        None
    }

    /// The `values.yaml` of the Helm chart a template belongs to: in the nearest directory
    /// above the file that has one.
    fn chart_values(&self, file: FileRef<'a>) -> Option<FileRef<'a>> {
        let repo = self.repos.get(file.repo)?;
        let mut dir = file.path;
        while let Some((parent, _)) = dir.rsplit_once('/') {
            let candidate = format!("{parent}/values.yaml");
            if let Some((path, _)) = repo.files.get_key_value(&candidate) {
                return Some(FileRef {
                    repo: file.repo,
                    path,
                });
            }
            dir = parent;
        }
        repo.files
            .get_key_value("values.yaml")
            .map(|(path, _)| FileRef {
                repo: file.repo,
                path,
            })
    }

    fn find_in_module(&self, module_file: FileRef<'a>, name: &str) -> Target<'a> {
        self.find(module_file, 0, name, u32::MAX)
    }

    fn follow_import(
        &self,
        file: FileRef<'a>,
        import: &'a Import,
        used: &str,
    ) -> Option<Target<'a>> {
        match &import.name {
            // `from m import X as used`: X in module m (or module m.X itself).
            // `use crate::util::consts::TMP;`: TMP in that module, a file or an inline `mod`.
            Some(name) if file.path.ends_with(".rs") => {
                let module = import.module.replace("::", ".");
                let (module_file, module_scope) = self.rust_module(file, import.scope, &module)?;
                match self.find(module_file, module_scope, name, u32::MAX) {
                    Target::Unbound => None,
                    found => Some(found),
                }
            }
            Some(name) => {
                let module_file = self.module_file(file, import, false)?;
                if module_file == file {
                    return None;
                }
                match self.find_in_module(module_file, name) {
                    Target::Unbound => None,
                    found => Some(found),
                }
            }
            // `import m as used` binds a module, not a value.
            None => {
                let _ = used;
                None
            }
        }
    }

    /// The file an import refers to. With `as_module`, `from pkg import mod` is the module
    /// `pkg.mod` rather than a name inside `pkg`.
    fn module_file(
        &self,
        file: FileRef<'a>,
        import: &Import,
        as_module: bool,
    ) -> Option<FileRef<'a>> {
        let repo = self.repos.get(file.repo)?;
        let mut module = import.module.replace("::", ".");
        if as_module && let Some(name) = &import.name {
            module = if module.is_empty() {
                name.clone()
            } else {
                format!("{module}.{name}")
            };
        }
        let is_rust = file.path.ends_with(".rs");
        let candidates = if is_rust {
            rust_module_candidates(file.path, &module)
        } else {
            python_module_candidates(file.path, &module, import.level)
        };
        for (suffix, anchored) in candidates {
            let mut best: Option<&str> = None;
            for path in repo.files.keys() {
                let hit = if anchored {
                    path == &suffix
                } else {
                    path == &suffix || path.ends_with(&format!("/{suffix}"))
                };
                if hit && best.is_none_or(|b| path.len() < b.len()) {
                    best = Some(path.as_str());
                }
            }
            if let Some(path) = best {
                return Some(FileRef {
                    repo: file.repo,
                    path,
                });
            }
        }
        None
    }
}

fn class_of(facts: &FileFacts, scope: ScopeId) -> Option<ScopeId> {
    let mut current = Some(scope);
    while let Some(s) = current {
        let sc = facts.scopes.get(s)?;
        if let Some(class) = sc.class {
            return Some(class);
        }
        if sc.kind == ScopeKind::Class {
            return Some(s);
        }
        current = sc.parent;
    }
    None
}

fn last_binding<'a>(
    facts: &'a FileFacts,
    scope: ScopeId,
    name: &str,
    before: Option<u32>,
) -> Option<&'a Binding> {
    facts
        .bindings
        .iter()
        .filter(|b| b.scope == scope && b.name == name)
        .filter(|b| before.is_none_or(|line| b.line < line))
        .max_by_key(|b| b.line)
}

fn find_import<'a>(facts: &'a FileFacts, scope: ScopeId, local: &str) -> Option<&'a Import> {
    facts
        .imports
        .iter()
        .filter(|i| i.scope == scope && i.local == local)
        .max_by_key(|i| i.line)
}

/// Candidate repository paths for a Python module, each with whether it is anchored (exact
/// path, for relative imports) or a suffix (absolute imports, wherever the source root is).
fn python_module_candidates(importer: &str, module: &str, level: u32) -> Vec<(String, bool)> {
    let rel = module.replace('.', "/");
    if level > 0 {
        let mut dir: Vec<&str> = importer.split('/').collect();
        dir.pop();
        for _ in 1..level {
            dir.pop();
        }
        let base = dir.join("/");
        let join = |tail: &str| {
            if base.is_empty() {
                tail.to_string()
            } else {
                format!("{base}/{tail}")
            }
        };
        if rel.is_empty() {
            return vec![(join("__init__.py"), true)];
        }
        return vec![
            (join(&format!("{rel}.py")), true),
            (join(&format!("{rel}/__init__.py")), true),
        ];
    }
    if rel.is_empty() {
        return Vec::new();
    }
    vec![
        (format!("{rel}.py"), false),
        (format!("{rel}/__init__.py"), false),
    ]
}

fn rust_module_candidates(importer: &str, module: &str) -> Vec<(String, bool)> {
    let parts: Vec<&str> = module.split('.').filter(|p| !p.is_empty()).collect();
    let (anchor, rest): (Option<String>, Vec<&str>) = match parts.first() {
        Some(&"crate") => (
            Some(rust::crate_src_dir(importer).unwrap_or("src").to_string()),
            parts[1..].to_vec(),
        ),
        // `self` is the importer's module directory; `super` the one above it.
        Some(&"super") | Some(&"self") => {
            let own = rust::module_dir(importer);
            let dir = if parts[0] == "super" {
                own.rsplit_once('/')
                    .map_or(String::new(), |(d, _)| d.to_string())
            } else {
                own
            };
            (Some(dir), parts[1..].to_vec())
        }
        _ => (None, parts.clone()),
    };
    let rel = rest.join("/");
    if rel.is_empty() {
        return Vec::new();
    }
    match anchor {
        Some(base) => {
            let prefix = if base.is_empty() {
                String::new()
            } else {
                format!("{base}/")
            };
            vec![
                (format!("{prefix}{rel}.rs"), true),
                (format!("{prefix}{rel}/mod.rs"), true),
            ]
        }
        None => vec![
            (format!("{rel}.rs"), false),
            (format!("{rel}/mod.rs"), false),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_candidates() {
        assert_eq!(
            python_module_candidates("pkg/sub/m.py", "config", 1),
            vec![
                ("pkg/sub/config.py".to_string(), true),
                ("pkg/sub/config/__init__.py".to_string(), true)
            ]
        );
        assert_eq!(
            python_module_candidates("pkg/sub/m.py", "config", 2)[0].0,
            "pkg/config.py"
        );
        assert_eq!(python_module_candidates("m.py", "a.b", 0)[0].0, "a/b.py");
    }

    #[test]
    fn sourced_paths_are_normalized() {
        assert_eq!(normalize("bin/../lib/./config.sh"), "lib/config.sh");
        assert_eq!(normalize("/a/b/../../c"), "c");
    }

    #[test]
    fn rust_candidates() {
        assert_eq!(
            rust_module_candidates("src/main.rs", "crate::config".replace("::", ".").as_str())[0].0,
            "src/config.rs"
        );
    }
}
