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
type FieldIndex<'a> = foldhash::HashMap<(usize, String, String), Vec<(FileRef<'a>, &'a Binding)>>;

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
    /// Indexes built on first use and shared by every fork (see [`Lookup::fork`]).
    shared: std::sync::Arc<Shared<'a>>,
    /// Nesting of `find` through imports: bounded, so import cycles cannot recurse forever.
    depth: std::cell::Cell<usize>,
    /// Names searched through a star import (`use super::*`, `from m import *`, a sourced
    /// file) that were not found there, or are being searched: glob imports that import each
    /// other (`mod tests { use super::*; }` in every module) would otherwise explore every path
    /// through them again for each name — exponential in the depth bound. Per fork, so that
    /// what one file's lookups left here cannot change another file's answers.
    star_misses: std::cell::RefCell<foldhash::HashSet<(usize, &'a str, ScopeId, String)>>,
}

/// Makes lookups of one world that share its indexes but none of the per-lookup state, for
/// resolving files in parallel: each file's answers depend on that file alone.
pub struct Forks<'a> {
    repos: &'a [RepoFacts],
    shared: std::sync::Arc<Shared<'a>>,
}

impl<'a> Forks<'a> {
    pub fn lookup(&self) -> Lookup<'a> {
        Lookup {
            repos: self.repos,
            shared: std::sync::Arc::clone(&self.shared),
            depth: std::cell::Cell::new(0),
            star_misses: std::cell::RefCell::new(foldhash::HashSet::default()),
        }
    }
}

/// The indexes of a world, each built once on first use, by whichever thread needs it first.
struct Shared<'a> {
    /// Repository files by file name, for sourced files.
    by_name: std::sync::OnceLock<Vec<foldhash::HashMap<&'a str, Vec<&'a str>>>>,
    /// Call sites of functions, built on the first parameter that needs them.
    callers: std::sync::OnceLock<super::params::CallerIndex<'a>>,
    /// Repository files by the absolute path another repository installs them at.
    installs: std::sync::OnceLock<super::installs::Installs<'a>>,
    /// Ansible variable files (`defaults/`, `vars/`, `group_vars/`) by the names they bind.
    ansible_vars: std::sync::OnceLock<foldhash::HashMap<(usize, &'a str), Vec<FileRef<'a>>>>,
    /// Rust struct field bindings, built on the first field that needs them.
    fields: std::sync::OnceLock<FieldIndex<'a>>,
    /// Whether evaluations remember the values they found (see `eval::Memo`); off only to test
    /// that remembering changes no answer.
    memo: bool,
    /// Each file's bindings and imports by scope and name, built on the file's first lookup:
    /// a name lookup is then a hash probe instead of a scan of every binding of the file (a
    /// large module has thousands, and each access looks up several names). The slots exist
    /// from the start, one per file of the world, so that finding one takes neither a lock nor
    /// a reference count: both threads probe these on every name, and a shared count's cache
    /// line bouncing between them was a tenth of resolving.
    names: foldhash::HashMap<usize, std::sync::OnceLock<NameIndex<'a>>>,
}

/// A file's name index: borrowed from the world's slots, or built for facts outside the
/// world (none in the pipeline; kept so such facts get answers rather than a panic).
enum Names<'s, 'a> {
    Slot(&'s NameIndex<'a>),
    Other(NameIndex<'a>),
}

impl<'a> std::ops::Deref for Names<'_, 'a> {
    type Target = NameIndex<'a>;

    fn deref(&self) -> &NameIndex<'a> {
        match self {
            Names::Slot(index) => index,
            Names::Other(index) => index,
        }
    }
}

/// The key of a file's name index: the address of its facts, which the world holds still.
fn facts_key(facts: &FileFacts) -> usize {
    std::ptr::from_ref(facts) as usize
}

/// The bindings and imports of one file by (scope, name), each list in line order.
///
/// A world indexes every file it resolves, hundreds of thousands of bindings: the bindings are
/// found by binary search in one list of their positions sorted by (scope, name, line), four
/// bytes each. A hash map of (scope, name) groups was a tenth of a whole-corpus run's memory
/// at its peak (12 MiB of 120 allocated).
#[derive(Default)]
struct NameIndex<'a> {
    /// The file's bindings, in the order extraction wrote them.
    all: &'a [Binding],
    /// Positions in `all`, sorted by (scope, name, line); among equal lines the later-written
    /// one stays last, as a scan would find it.
    order: Vec<u32>,
    imports: foldhash::HashMap<(ScopeId, &'a str), Vec<&'a Import>>,
}

impl<'a> NameIndex<'a> {
    fn new(facts: &'a FileFacts) -> NameIndex<'a> {
        let all = facts.bindings.as_slice();
        let mut order: Vec<u32> = (0..u32::try_from(all.len()).unwrap_or(u32::MAX)).collect();
        let key = |i: &u32| {
            all.get(*i as usize)
                .map(|b| (b.scope, b.name.as_str(), b.line))
        };
        order.sort_by(|a, b| key(a).cmp(&key(b)));
        let mut imports: foldhash::HashMap<(ScopeId, &'a str), Vec<&'a Import>> =
            foldhash::HashMap::default();
        for import in &facts.imports {
            imports
                .entry((import.scope, import.local.as_str()))
                .or_default()
                .push(import);
        }
        for list in imports.values_mut() {
            list.sort_by_key(|i| i.line);
        }
        NameIndex {
            all,
            order,
            imports,
        }
    }

    fn binding(&self, position: u32) -> Option<&'a Binding> {
        self.all.get(position as usize)
    }

    /// The positions of the bindings of `name` in `scope`, in line order.
    fn bindings_of(&self, scope: ScopeId, name: &str) -> &[u32] {
        let group = |i: &u32| self.binding(*i).map(|b| (b.scope, b.name.as_str()));
        let start = self
            .order
            .partition_point(|i| group(i) < Some((scope, name)));
        let rest = self.order.get(start..).unwrap_or_default();
        let len = rest.partition_point(|i| group(i) == Some((scope, name)));
        rest.get(..len).unwrap_or_default()
    }

    /// The last binding of `name` in `scope` (before `line` when given).
    fn last_binding(&self, scope: ScopeId, name: &str, before: Option<u32>) -> Option<&'a Binding> {
        let list = self.bindings_of(scope, name);
        let end = match before {
            Some(line) => list.partition_point(|i| self.binding(*i).is_some_and(|b| b.line < line)),
            None => list.len(),
        };
        end.checked_sub(1)
            .and_then(|i| list.get(i))
            .and_then(|i| self.binding(*i))
    }

    /// The first binding of `name` in `scope` after `line`.
    fn next_binding(&self, scope: ScopeId, name: &str, line: u32) -> Option<&'a Binding> {
        let list = self.bindings_of(scope, name);
        let at = list.partition_point(|i| self.binding(*i).is_some_and(|b| b.line <= line));
        list.get(at).and_then(|i| self.binding(*i))
    }

    fn binds(&self, scope: ScopeId, name: &str) -> bool {
        !self.bindings_of(scope, name).is_empty()
    }

    /// The last import that binds `local` in `scope`.
    fn import(&self, scope: ScopeId, local: &str) -> Option<&'a Import> {
        self.imports.get(&(scope, local))?.last().copied()
    }
}

/// Star imports and sourced files searched per scope, nearest first.
const MAX_STAR_IMPORTS: usize = 16;

/// `a/b/../c/./d` -> `a/c/d`: a sourced path joined onto the script's directory (also an
/// installed path, a repository reference; `..` above the root is dropped).
pub(crate) fn normalize(path: &str) -> String {
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
        Self::with_memo(repos, true)
    }

    /// [`Lookup::new`] whose evaluations remember nothing: the answers without the memo, for
    /// the test that it changes none.
    #[cfg(test)]
    pub fn without_memo(repos: &'a [RepoFacts]) -> Lookup<'a> {
        Self::with_memo(repos, false)
    }

    fn with_memo(repos: &'a [RepoFacts], memo: bool) -> Lookup<'a> {
        Lookup {
            repos,
            shared: std::sync::Arc::new(Shared {
                memo,
                callers: std::sync::OnceLock::new(),
                by_name: std::sync::OnceLock::new(),
                installs: std::sync::OnceLock::new(),
                ansible_vars: std::sync::OnceLock::new(),
                fields: std::sync::OnceLock::new(),
                names: repos
                    .iter()
                    .flat_map(|repo| repo.files.values())
                    .map(|facts| (facts_key(facts), std::sync::OnceLock::new()))
                    .collect(),
            }),
            depth: std::cell::Cell::new(0),
            star_misses: std::cell::RefCell::new(foldhash::HashSet::default()),
        }
    }

    /// Whether evaluations with this lookup may remember the values they found.
    pub fn memo(&self) -> bool {
        self.shared.memo
    }

    /// What threads need to make lookups of this world that share its indexes.
    pub fn forks(&self) -> Forks<'a> {
        Forks {
            repos: self.repos,
            shared: std::sync::Arc::clone(&self.shared),
        }
    }

    /// Where repository files are installed (`install`, `cp`, Ansible `copy`/`template`).
    pub fn installs(&self) -> &super::installs::Installs<'a> {
        self.shared
            .installs
            .get_or_init(|| super::installs::Installs::build(self.repos))
    }

    /// The world's call sites, each function's found on first ask (see `CallerIndex`).
    pub fn callers(&self) -> &super::params::CallerIndex<'a> {
        self.shared
            .callers
            .get_or_init(|| super::params::CallerIndex::new(self.repos))
    }

    /// The call sites of function `scope` of `file`, in every file of its repository.
    pub fn callers_of<'s>(
        &'s self,
        file: FileRef<'a>,
        scope: ScopeId,
    ) -> &'s [(FileRef<'a>, &'a crate::extract::CallRef)] {
        self.callers().of(file, scope)
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
                    .is_some_and(|p| p.names.iter().chain(&p.keyword_only).any(|n| n == name))
                {
                    return Some(s);
                }
                // A local binding of the function shadows the enclosing one's parameter.
                if self.names_of(facts).binds(s, name) {
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

    /// The name index of a file's facts (see `Shared::names`).
    fn names_of(&self, facts: &'a FileFacts) -> Names<'_, 'a> {
        let key = facts_key(facts);
        if let Some(slot) = self.shared.names.get(&key) {
            return Names::Slot(slot.get_or_init(|| NameIndex::new(facts)));
        }
        Names::Other(NameIndex::new(facts))
    }

    /// The last binding of `name` in `scope` of `facts` (before `line` when given).
    fn last_binding(
        &self,
        facts: &'a FileFacts,
        scope: ScopeId,
        name: &str,
        before: Option<u32>,
    ) -> Option<&'a Binding> {
        self.names_of(facts).last_binding(scope, name, before)
    }

    /// The last import binding `local` in `scope` of `facts`.
    fn find_import(&self, facts: &'a FileFacts, scope: ScopeId, local: &str) -> Option<&'a Import> {
        self.names_of(facts).import(scope, local)
    }

    /// Resolves `name` used in `scope` at `line` of `file`.
    pub fn find(&self, file: FileRef<'a>, scope: ScopeId, name: &str, line: u32) -> Target<'a> {
        if self.depth.get() >= MAX_IMPORT_DEPTH {
            return Target::Unbound;
        }
        self.depth.set(self.depth.get() + 1);
        let found = if is_item(name) {
            self.find_item(file, scope, name, line)
        } else {
            self.find_unguarded(file, scope, name, line)
        };
        self.depth.set(self.depth.get() - 1);
        found
    }

    /// An entry of a configuration object, `CFG[paths][out]` (see the Python extractor's
    /// `structures.rs`): its binding, found like any name, counts only while the containers
    /// it belongs to are still the ones in force at the use (no `CFG = load()`, no
    /// `CFG.update(...)` since — those rebind the container). Otherwise, and when it is
    /// unbound, the nearest container bound to another name (`paths = CFG["paths"]`,
    /// `cfg = CONFIG`) is followed: the entry of that name.
    fn find_item(&self, file: FileRef<'a>, scope: ScopeId, name: &str, line: u32) -> Target<'a> {
        let containers: Vec<usize> = container_ends(name);
        if let found @ Target::Binding(at, binding) = self.find_unguarded(file, scope, name, line) {
            let current =
                containers
                    .iter()
                    .all(|&end| match self.find(file, scope, &name[..end], line) {
                        Target::Binding(c_at, c) => {
                            c_at == at && c.scope == binding.scope && c.line <= binding.line
                        }
                        Target::Unbound => true,
                    });
            if current {
                return found;
            }
        }
        // The nearest bound container decides: another name's entry, or unknown.
        for &end in containers.iter().rev() {
            match self.find(file, scope, &name[..end], line) {
                Target::Binding(at, binding) => {
                    return match &*binding.value {
                        crate::expr::Expr::Var {
                            name: other,
                            scope: other_scope,
                            line: other_line,
                            ..
                        } if !other.ends_with("()") => self.find(
                            at,
                            *other_scope,
                            &format!("{other}{}", &name[end..]),
                            *other_line,
                        ),
                        // Reached through an import or another name: the entry there.
                        _ if binding.name != name[..end] && !binding.name.ends_with("()") => self
                            .find(
                                at,
                                binding.scope,
                                &format!("{}{}", binding.name, &name[end..]),
                                u32::MAX,
                            ),
                        _ => Target::Unbound,
                    };
                }
                Target::Unbound => continue,
            }
        }
        Target::Unbound
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
        // `self.x` is bound under that same name in the method's class scope.
        if name.starts_with("self.")
            && let Some(class) = class_of(facts, scope)
            && let Some(b) = self.last_binding(facts, class, name, None)
        {
            return Target::Binding(file, b);
        }
        // Own scope: the last binding before the use; enclosing scopes: the last binding.
        let mut current = Some(scope);
        let mut first = true;
        while let Some(s) = current {
            let before = if first { Some(line) } else { None };
            if let Some(b) = self.last_binding(facts, s, name, before) {
                return Target::Binding(file, b);
            }
            // Items of a module or class (Rust consts, functions) are visible before their line.
            let item_scope = facts
                .scopes
                .get(s)
                .is_some_and(|sc| matches!(sc.kind, ScopeKind::Module | ScopeKind::Class));
            if first && item_scope {
                let later = self.names_of(facts).next_binding(s, name, line);
                if let Some(b) = later {
                    return Target::Binding(file, b);
                }
            }
            if let Some(import) = self.find_import(facts, s, name)
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
                && let Some(import) = self.find_import(facts, s, stem)
                && let Some(imported) = &import.name
                && let Some(module_file) = self.module_file(file, import, false)
                && module_file != file
            {
                return self.find_in_module(module_file, &format!("{imported}()"));
            }
            first = false;
            current = facts.scopes.get(s).and_then(|sc| sc.parent);
        }
        // Most names have no `::` (every Python one): no copy for them.
        let normalized: std::borrow::Cow<'_, str> = if name.contains("::") {
            name.replace("::", ".").into()
        } else {
            name.into()
        };
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
                if let Some(import) = self.find_import(facts, s, head)
                    && let Some(module_file) = self.module_file(file, import, true)
                    && module_file != file
                {
                    return self.find_in_module(module_file, rest);
                }
                // `Settings.out_dir` after `from app.config import Settings`: the class
                // attribute in that module.
                if let Some(import) = self.find_import(facts, s, head)
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
        // `CONFIG[spool]` after `from app.config import CONFIG`: the entry in that module.
        if let Some(open) = name.find('[')
            && !name[..open].contains('.')
        {
            let (head, rest) = (&name[..open], &name[open..]);
            let mut current = Some(scope);
            while let Some(s) = current {
                if let Some(import) = self.find_import(facts, s, head)
                    && let Some(imported) = &import.name
                    && let Some(module_file) = self.module_file(file, import, false)
                    && module_file != file
                {
                    return self.find_in_module(module_file, &format!("{imported}{rest}"));
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
            && let crate::expr::Expr::Var { name: call, .. } = &*binding.value
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
        // `{{ matrix_systemd_path }}` in a role's task or template: the role's own `vars/` and
        // `defaults/`, then `group_vars/all`, then the one variable file that defines it.
        if is_ansible_path(file.path)
            && (!name.contains(['.', '(', '[']) || is_element_name(name))
            && let Some(found) = self.ansible_variable(file, name)
        {
            return found;
        }
        Target::Unbound
    }

    /// An Ansible variable a task or template uses without defining it (see `find`). Several
    /// roles defining it differently, with none nearer, leave it unbound (never a guess).
    fn ansible_variable(&self, file: FileRef<'a>, name: &str) -> Option<Target<'a>> {
        let index = self.shared.ansible_vars.get_or_init(|| {
            let mut index: foldhash::HashMap<(usize, &'a str), Vec<FileRef<'a>>> =
                foldhash::HashMap::default();
            for (r, repo) in self.repos.iter().enumerate() {
                for (path, facts) in &repo.files {
                    if !is_ansible_var_file(path) {
                        continue;
                    }
                    for binding in facts.bindings.iter().filter(|b| b.scope == 0) {
                        let entry = index.entry((r, binding.name.as_str())).or_default();
                        let here = FileRef { repo: r, path };
                        if !entry.contains(&here) {
                            entry.push(here);
                        }
                    }
                }
            }
            index
        });
        let candidates: Vec<FileRef<'a>> = index
            .get(&(file.repo, name))?
            .iter()
            .copied()
            .filter(|f| *f != file)
            .collect();
        let role = role_root(file.path);
        let rank = |f: &FileRef<'a>| -> u8 {
            let var_role = role_root(f.path);
            let dir = f.path.rsplit('/').nth(1).unwrap_or("");
            match (role.is_some() && var_role == role, dir) {
                (true, "vars") => 0,
                (true, _) => 1,
                _ if f.path.contains("group_vars/all") => 2,
                _ => 3,
            }
        };
        let best = candidates.iter().map(rank).min()?;
        let nearest: Vec<&FileRef<'a>> = candidates.iter().filter(|f| rank(f) == best).collect();
        match nearest.as_slice() {
            [only] => match self.find_in_module(**only, name) {
                Target::Unbound => None,
                found => Some(found),
            },
            _ => None,
        }
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
                        self.find_once(module_file, module_scope, name)
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
            if let found @ Target::Binding(..) = self.find_once(target, 0, name) {
                return Some(found);
            }
        }
        None
    }

    /// `find` of a name in a module reached through a star import, at most once per lookup
    /// session while it is not found (see `star_misses`).
    fn find_once(&self, file: FileRef<'a>, scope: ScopeId, name: &str) -> Target<'a> {
        let key = (file.repo, file.path, scope, name.to_string());
        if !self.star_misses.borrow_mut().insert(key.clone()) {
            return Target::Unbound;
        }
        let found = self.find(file, scope, name, u32::MAX);
        if !matches!(found, Target::Unbound) {
            self.star_misses.borrow_mut().remove(&key);
        }
        found
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
        // `. /etc/default/app` that a repository installs there (nearest: the same repository).
        if module.starts_with('/') {
            let installed = self.installs().at(written);
            if let Some(found) = installed
                .iter()
                .find(|f| f.repo == file.repo)
                .or(installed.first())
            {
                return Some(*found);
            }
        }
        let name = written.rsplit('/').next().unwrap_or(written);
        let candidates = self.files_named(file.repo, name)?;
        // After an unknown directory (`"$LIB/config.sh"`): the one file with that tail.
        if module.starts_with('*') {
            let tail = written.trim_start_matches('/');
            let mut matching = candidates
                .iter()
                .filter(|path| **path == tail || super::ends_after(path, b'/', tail));
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
                let suffix = super::ends_after(written, b'/', path) || written == **path;
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
                name.to_string()
            } else {
                [module.as_str(), ".", name].concat()
            };
        }
        let is_rust = file.path.ends_with(".rs");
        let candidates = if is_rust {
            rust_module_candidates(file.path, &module)
        } else {
            python_module_candidates(file.path, &module, import.level)
        };
        for (suffix, anchored) in candidates {
            if anchored {
                if let Some((path, _)) = repo.files.get_key_value(&suffix) {
                    return Some(FileRef {
                        repo: file.repo,
                        path,
                    });
                }
                continue;
            }
            // Files of that name only (an index), not every file of the repository per lookup.
            let name = suffix.rsplit('/').next().unwrap_or(&suffix);
            let best = self
                .files_named(file.repo, name)
                .into_iter()
                .flatten()
                .filter(|path| **path == suffix || super::ends_after(path, b'/', &suffix))
                .min_by_key(|path| path.len());
            if let Some(path) = best {
                return Some(FileRef {
                    repo: file.repo,
                    path,
                });
            }
        }
        None
    }

    /// The repository's paths whose last segment is `name`; the index is built on first use.
    fn files_named(&self, repo: usize, name: &str) -> Option<&Vec<&'a str>> {
        let index = self.shared.by_name.get_or_init(|| {
            self.repos
                .iter()
                .map(|repo| {
                    let mut index: foldhash::HashMap<&'a str, Vec<&'a str>> =
                        foldhash::HashMap::default();
                    for path in repo.files.keys() {
                        let base = path.rsplit('/').next().unwrap_or(path);
                        index.entry(base).or_default().push(path.as_str());
                    }
                    index
                })
                .collect()
        });
        index.get(repo)?.get(name)
    }
}

/// Whether a name is an entry of a configuration object (`CFG[out]`, `self.paths[0]`).
pub fn is_item(name: &str) -> bool {
    name.ends_with(']') && name.contains('[')
}

/// Where the containers of an entry end: `CFG[a][b]` -> the ends of `CFG` and `CFG[a]`.
fn container_ends(name: &str) -> Vec<usize> {
    name.match_indices('[')
        .map(|(i, _)| i)
        .filter(|&i| i > 0)
        .collect()
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
            (join(&[rel.as_str(), ".py"].concat()), true),
            (join(&[rel.as_str(), "/__init__.py"].concat()), true),
        ];
    }
    if rel.is_empty() {
        return Vec::new();
    }
    vec![
        ([rel.as_str(), ".py"].concat(), false),
        ([rel.as_str(), "/__init__.py"].concat(), false),
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

/// A file where `{{ name }}` is an Ansible variable: YAML (tasks, handlers, playbooks, variable
/// files) and Jinja templates.
fn is_ansible_path(path: &str) -> bool {
    path.ends_with(".yml") || path.ends_with(".yaml") || path.ends_with(".j2")
}

/// `queues.*`, `servers.*.name`: any element of a list a variables file writes (a template's
/// loop variable).
fn is_element_name(name: &str) -> bool {
    name.contains(".*") && !name.contains(['(', '['])
}

/// `roles/R/defaults/main.yml`, `roles/R/vars/x.yml`, `group_vars/all.yml`, `host_vars/h/x.yml`.
fn is_ansible_var_file(path: &str) -> bool {
    if !(path.ends_with(".yml") || path.ends_with(".yaml") || path.contains("_vars/")) {
        return false;
    }
    let dirs: Vec<&str> = path.split('/').rev().skip(1).collect();
    let role_vars = dirs
        .first()
        .is_some_and(|d| matches!(*d, "defaults" | "vars"))
        && dirs.len() >= 3;
    role_vars
        || dirs
            .iter()
            .any(|d| matches!(*d, "group_vars" | "host_vars"))
}

/// The directory of the role a file belongs to: the parent of its `tasks/`, `handlers/`,
/// `templates/`, `defaults/`, `vars/`, `files/` or `meta/` directory.
fn role_root(path: &str) -> Option<&str> {
    const ROLE_DIRS: &[&str] = &[
        "tasks",
        "handlers",
        "templates",
        "defaults",
        "vars",
        "files",
        "meta",
    ];
    let mut end = path.len();
    while let Some(slash) = path[..end].rfind('/') {
        let dir_start = path[..slash].rfind('/').map_or(0, |i| i + 1);
        let dir = &path[dir_start..slash];
        if ROLE_DIRS.contains(&dir) && dir_start > 0 {
            return Some(&path[..dir_start - 1]);
        }
        end = slash;
    }
    None
}

#[cfg(test)]
mod ansible_tests {
    use super::{is_ansible_var_file, role_root};

    #[test]
    fn roles_and_variable_files() {
        assert_eq!(role_root("roles/app/tasks/main.yml"), Some("roles/app"));
        assert_eq!(
            role_root("roles/custom/matrix-base/defaults/main.yml"),
            Some("roles/custom/matrix-base")
        );
        assert_eq!(
            role_root("roles/app/templates/a/b.conf.j2"),
            Some("roles/app")
        );
        assert_eq!(role_root("playbook.yml"), None);
        assert_eq!(role_root("tasks/main.yml"), None);
        assert!(is_ansible_var_file("roles/app/defaults/main.yml"));
        assert!(is_ansible_var_file("roles/app/vars/debian.yaml"));
        assert!(is_ansible_var_file("inventory/group_vars/all.yml"));
        assert!(is_ansible_var_file("group_vars/all/vault"));
        assert!(!is_ansible_var_file("roles/app/tasks/main.yml"));
        assert!(!is_ansible_var_file("defaults/main.yml"));
        assert!(!is_ansible_var_file("roles/app/defaults/main.py"));
    }
}
