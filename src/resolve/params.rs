//! Parameters bound at call sites: `dump(conn, out_dir, region)` builds its path from whatever
//! its callers pass as `out_dir`, so the value of a parameter is the union of the arguments at
//! the calls of its function in the repository (and its default where a call leaves it out).
//!
//! A function's call sites are found the first time a parameter of it is asked for, resolving
//! only the calls of its name (see [`CallerIndex`]), so each call is resolved at most once per
//! resolution (with the same rules as the calls that carry waits).
//! Evaluation stays bounded: at most [`MAX_CALLERS`] call sites per parameter (more make the
//! value partly unknown), and the evaluator's depth and step limits end recursion and cycles.

use super::lookup::FileRef;
use super::{RepoFacts, unit_name};
use crate::expr::ScopeId;
use crate::extract::call_list::{last_name, name_hash};
use crate::extract::{CallArg, CallRef, FileFacts, ScopeKind};
use foldhash::{HashMap, HashMapExt as _};
use rayon::prelude::*;
use std::sync::OnceLock;

/// Call sites followed per parameter; beyond this the value also has an unknown alternative.
pub const MAX_CALLERS: usize = 8;

/// Marks in [`CallRef::args`] for a `*args` / `**kwargs` spread: what follows is unknown.
pub const SPREAD: &str = "*";
pub const KEYWORD_SPREAD: &str = "**";

/// A function of a repository: its file and scope.
type FunctionKey<'a> = (&'a str, ScopeId);

/// A call site: the calling file and the call.
pub type CallSite<'a> = (FileRef<'a>, &'a CallRef);

/// The call sites of every function with parameters, each function's found the first time it
/// is asked for. A call only ever refers to a function of its own repository, and every way
/// it does ends at a function whose own name ends with the callee's last name (see
/// [`call_names`]): asking for one function resolves the calls of its names alone, and decodes
/// the calls of only the files that have such calls ([`crate::extract::CallList::names`]).
/// A check whose context's answers come from its base asks for a few hundred functions of the
/// context; resolving every call of the world up front (and so decoding every cached file's
/// calls) was a sixth of its instructions (2,154 -> 1,917 M without it).
pub struct CallerIndex<'a> {
    repos: &'a [RepoFacts],
    /// Each repository's tables, built on its first question ([`CallerIndex::prepare`]).
    per_repo: Vec<OnceLock<RepoCallers<'a>>>,
}

/// One repository's functions and where to look for their calls.
struct RepoCallers<'a> {
    repo: usize,
    functions: RepoFunctions<'a>,
    /// The repository's files, in order.
    files: Vec<(&'a str, &'a FileFacts)>,
    /// (hash of a last name, position in `files` of a file with a call of it), sorted.
    files_calling: Vec<(u32, u32)>,
    /// The calls of each last name's hash, resolved: every call is resolved once, by the
    /// first question about a function of its name.
    groups: HashMap<u32, OnceLock<Group<'a>>>,
    /// The call sites of the functions whose calls end in two names (an `__init__` and its
    /// class), merged from both groups; every other function's are its group's.
    merged: HashMap<FunctionKey<'a>, OnceLock<Vec<CallSite<'a>>>>,
}

/// The calls of one hash of a last name, by the function each refers to, in file and call
/// order.
type Group<'a> = HashMap<FunctionKey<'a>, Vec<CallSite<'a>>>;

/// The hashes of [`call_names`], sorted, each once.
fn call_name_hashes(facts: &FileFacts, scope: ScopeId) -> Vec<u32> {
    let mut hashes: Vec<u32> = call_names(facts, scope)
        .into_iter()
        .map(name_hash)
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// Functions with parameters by qualified name (a class by its name too, standing for its
/// `__init__`) and by last name segment, for suffix matches, in one repository. The tables are
/// sorted lists of name hashes and positions in `names`, the names themselves deciding: a
/// table of strings held each name two or three more times, and building and freeing those
/// copies was a tenth of a warm check's linking.
#[derive(Default)]
struct RepoFunctions<'a> {
    /// Every name a function with parameters is called by, with the function, in file order.
    names: Vec<(Box<str>, FunctionKey<'a>)>,
    /// (hash of a name, its position), sorted.
    by_name: Vec<(u64, u32)>,
    /// The hashes of the names' last segments, sorted: a call whose last segment is not one
    /// of them is no name's.
    by_last: Vec<u64>,
    /// (hash of a name's last two segments, its position), sorted, for names of two
    /// segments or more (`pkg.mod.f` as `mod.f`): a dotted callee's suffix matches are among
    /// them, where the names sharing only the last segment (`get`, `run`: hundreds in a large
    /// repository) were each compared with every such call.
    by_last_two: Vec<(u64, u32)>,
    /// Shell functions by bare name, for calls from a script that sources their file.
    by_shell_name: HashMap<&'a str, Vec<FunctionKey<'a>>>,
}

/// A name's hash in [`RepoFunctions`]' tables.
fn table_hash(name: &str) -> u64 {
    use std::hash::BuildHasher as _;
    foldhash::fast::FixedState::with_seed(0).hash_one(name)
}

/// The positions `table` (sorted) holds for `hash`: the name tables' and the files by call
/// name.
fn positions<H: Ord + Copy>(table: &[(H, u32)], hash: H) -> impl Iterator<Item = usize> + '_ {
    let start = table.partition_point(|&(h, _)| h < hash);
    table[start..]
        .iter()
        .take_while(move |&&(h, _)| h == hash)
        .map(|&(_, at)| at as usize)
}

/// The names one function with parameters is called by (see [`RepoFunctions::enter`]).
struct Declared<'a> {
    path: &'a str,
    scope: ScopeId,
    names: Vec<String>,
    /// Its bare name, when it is a shell function.
    shell_name: Option<&'a str>,
}

/// The last names a call of function `scope` of `facts` ends in: its own name's, and for an
/// `__init__`, its class's (`Exporter(...)`). A call `C` that resolves to the function has
/// `last_name(C)` among these: the exact, method and suffix matches find a name that ends
/// in the callee's last segment, and a bare name is the function's own.
fn call_names(facts: &FileFacts, scope: ScopeId) -> Vec<&str> {
    let Some(function) = facts.scopes.get(scope) else {
        return Vec::new();
    };
    let mut names = vec![last_name(&function.name)];
    if function.name == "__init__"
        && let Some(class) = function.class.and_then(|c| facts.scopes.get(c))
    {
        names.push(last_name(&class.name));
    }
    names
}

impl<'a> RepoFunctions<'a> {
    /// Adds a function's names; [`RepoFunctions::seal`] then sorts the tables.
    fn enter(&mut self, declared: Declared<'a>) {
        let key = (declared.path, declared.scope);
        if let Some(name) = declared.shell_name {
            self.by_shell_name.entry(name).or_default().push(key);
        }
        for name in declared.names {
            let at = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
            let last = name.rsplit('.').next().unwrap_or(&name);
            self.by_last.push(table_hash(last));
            if let Some(last_two) = last_two_segments(&name) {
                self.by_last_two.push((table_hash(last_two), at));
            }
            self.by_name.push((table_hash(&name), at));
            self.names.push((name.into_boxed_str(), key));
        }
    }

    /// Sorts the tables once every function is entered.
    fn seal(&mut self) {
        self.by_name.sort_unstable();
        self.by_last.sort_unstable();
        self.by_last.dedup();
        self.by_last_two.sort_unstable();
    }

    /// The function called `name`: of two functions declaring one name, the later.
    fn named(&self, name: &str) -> Option<FunctionKey<'a>> {
        positions(&self.by_name, table_hash(name))
            .filter_map(|at| self.names.get(at))
            .filter(|(named, _)| &**named == name)
            .last()
            .map(|(_, key)| *key)
    }

    /// The function a call refers to: its qualified name, a method of the caller's class
    /// (`self.x`), or the one function whose qualified name ends with the callee's dotted
    /// name. A bare or receiver-qualified name that matches nothing exactly (`conn.fetch`,
    /// `fh.write`) is not guessed.
    fn resolve(&self, path: &'a str, facts: &FileFacts, call: &CallRef) -> Option<FunctionKey<'a>> {
        // A shell function named with `::` (`log::info() { ... }`) is called by that whole
        // name, which normalising would make a dotted one no shell function is known by.
        if call.callee.contains("::")
            && !call.callee.contains('.')
            && facts
                .scopes
                .first()
                .is_some_and(|s| s.kind == ScopeKind::Script)
            && let Some(found) = self.bare(path, facts, &call.callee)
        {
            return Some(found);
        }
        let callee = normalise(&call.callee);
        let callee = callee.as_ref();
        let last = callee.rsplit('.').next().unwrap_or(callee);
        // The exact, method and suffix matches all find a name ending in the callee's last
        // segment (`self.x` is `<module>.<class>.x`), so a call whose last segment no function
        // of the repository has (most calls: `print`, `os.path.join`) is left to the
        // same-file and sourced-shell matches, which only bare names reach.
        if self.by_last.binary_search(&table_hash(last)).is_err() {
            return if callee.contains('.') {
                None
            } else {
                self.bare(path, facts, callee)
            };
        }
        if let Some(found) = self.named(callee) {
            return Some(found);
        }
        if let Some(method) = callee.strip_prefix("self.") {
            let class = facts
                .scopes
                .get(call.scope)
                .and_then(|s| s.class)
                .and_then(|c| facts.scopes.get(c))?;
            let root = facts
                .scopes
                .first()
                .map(|s| normalise(&s.name))
                .unwrap_or_default();
            // Joined with `concat`: through `format!`, this name was most of the callers'
            // index of a repository of classes (every `self.x(...)` call of the world builds one).
            let qualified = if root.is_empty() {
                [class.name.as_str(), ".", method].concat()
            } else {
                [root.as_ref(), ".", class.name.as_str(), ".", method].concat()
            };
            return self.named(&qualified);
        }
        if !callee.contains('.') {
            return self.bare(path, facts, callee);
        }
        // A suffix match (a name ending in `.` and the callee) ends in the callee's last two
        // segments.
        let last_two = last_two_segments(callee)?;
        let mut candidates = positions(&self.by_last_two, table_hash(last_two))
            .filter_map(|at| self.names.get(at))
            .filter(|(name, _)| super::ends_after(name, b'.', callee));
        match (candidates.next(), candidates.next()) {
            (Some((name, _)), None) => self.named(name),
            _ => None,
        }
    }

    /// A bare callee: a function of the same file by that name (a shell function, a Rust
    /// `fn`, a nested Python function), else a shell function of a file the script sources.
    fn bare(&self, path: &'a str, facts: &FileFacts, callee: &str) -> Option<FunctionKey<'a>> {
        if let Some(found) = facts.params.iter().find(|p| {
            facts
                .scopes
                .get(p.scope)
                .is_some_and(|s| s.kind == ScopeKind::Function && s.name == callee)
        }) {
            return Some((path, found.scope));
        }
        self.sourced_shell_function(facts, callee)
    }

    /// The shell function `name` defined in a file whose name is that of a file the caller
    /// sources (its star imports), when exactly one is (`. "$DIR/../lib/conf.sh"`).
    fn sourced_shell_function(&self, facts: &FileFacts, name: &str) -> Option<FunctionKey<'a>> {
        let candidates = self.by_shell_name.get(name)?;
        let sourced: Vec<&str> = facts
            .imports
            .iter()
            .filter(|i| i.local == "*")
            .filter_map(|i| i.module.rsplit('/').next())
            .filter(|base| !base.is_empty() && !base.contains('*'))
            .collect();
        let matching: Vec<&FunctionKey<'a>> = candidates
            .iter()
            .filter(|(path, _)| {
                let base = path.rsplit('/').next().unwrap_or(path);
                sourced.contains(&base)
            })
            .collect();
        match matching.as_slice() {
            [one] => Some(**one),
            _ => None,
        }
    }
}

/// The last two segments of a dotted name (`mod.f` of `pkg.mod.f`, all of `mod.f`), or `None`
/// for a name of one segment.
fn last_two_segments(name: &str) -> Option<&str> {
    let last_dot = name.rfind('.')?;
    Some(match name[..last_dot].rfind('.') {
        Some(dot) => &name[dot + 1..],
        None => name,
    })
}

/// The functions with parameters `facts` declares, with the names calls may use for each.
fn declared_in<'a>(path: &'a str, facts: &'a FileFacts) -> Vec<Declared<'a>> {
    let mut out = Vec::new();
    for params in &facts.params {
        let Some(scope) = facts.scopes.get(params.scope) else {
            continue;
        };
        if scope.kind != ScopeKind::Function {
            continue;
        }
        let mut names = vec![normalise(&unit_name(facts, params.scope, path)).into_owned()];
        // A method by its class too (`pkg.mod.Dumper.path`), as `self.path(...)` and
        // `d.path(...)` with `d = Dumper(...)` call it.
        if let Some(class) = scope.class {
            names.push(
                normalise(&[unit_name(facts, class, path).as_str(), ".", &scope.name].concat())
                    .into_owned(),
            );
        }
        // `Exporter(...)` runs `Exporter.__init__`.
        if scope.name == "__init__"
            && let Some(class) = scope.class
        {
            names.push(normalise(&unit_name(facts, class, path)).into_owned());
        }
        out.push(Declared {
            path,
            scope: params.scope,
            names,
            shell_name: params.positional_only.then_some(scope.name.as_str()),
        });
    }
    out
}

impl<'a> RepoCallers<'a> {
    /// The tables of repository `repo`. `parallel`: whether its files may be read on the
    /// thread pool — only from outside it: inside, the pool could run another file's
    /// resolution on this thread while it waits, and that one would wait for these tables
    /// (built under a `OnceLock`) forever.
    fn new(repos: &'a [RepoFacts], repo: usize, parallel: bool) -> RepoCallers<'a> {
        let files: Vec<(&'a str, &'a FileFacts)> = repos
            .get(repo)
            .map(|r| {
                r.files
                    .iter()
                    .map(|(path, facts)| (path.as_str(), facts.as_ref()))
                    .collect()
            })
            .unwrap_or_default();
        // Naming every function (a unit name and its normal form per name) is most of the
        // tables' build: per file in parallel.
        let of_file = |&(path, facts): &(&'a str, &'a FileFacts)| {
            (declared_in(path, facts), facts.calls.names().into_owned())
        };
        let per_file: Vec<(Vec<Declared<'a>>, Vec<u32>)> = if parallel {
            files.par_iter().map(of_file).collect()
        } else {
            files.iter().map(of_file).collect()
        };
        let mut files_calling = Vec::new();
        let mut functions = RepoFunctions::default();
        let mut merged = HashMap::new();
        let mut asked_names = Vec::new();
        for (at, (declared, names)) in per_file.into_iter().enumerate() {
            let at = u32::try_from(at).unwrap_or(u32::MAX);
            files_calling.extend(names.into_iter().map(|name| (name, at)));
            let facts = files.get(at as usize).map(|(_, facts)| *facts);
            for declared in declared {
                if let Some(facts) = facts {
                    let hashes = call_name_hashes(facts, declared.scope);
                    if hashes.len() > 1 {
                        merged.insert((declared.path, declared.scope), OnceLock::new());
                    }
                    asked_names.extend(hashes);
                }
                functions.enter(declared);
            }
        }
        functions.seal();
        files_calling.sort_unstable();
        let groups = asked_names
            .into_iter()
            .filter(|name| positions(&files_calling, *name).next().is_some())
            .map(|name| (name, OnceLock::new()))
            .collect();
        RepoCallers {
            repo,
            functions,
            files,
            files_calling,
            groups,
            merged,
        }
    }

    /// The call sites of function `scope` of `path`: its group's, or for a function called
    /// by two names, both groups' merged in file and call order.
    fn callers_of(&self, path: &'a str, scope: ScopeId) -> &[CallSite<'a>] {
        let Some(facts) = self.facts(path) else {
            return &[];
        };
        let key = (path, scope);
        let hashes = call_name_hashes(facts, scope);
        let of_group = |hash: &u32| -> &[CallSite<'a>] {
            match self.groups.get(hash) {
                Some(slot) => slot
                    .get_or_init(|| self.group(*hash))
                    .get(&key)
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
                None => &[],
            }
        };
        match (hashes.as_slice(), self.merged.get(&key)) {
            ([hash], _) => of_group(hash),
            (_, Some(slot)) => slot.get_or_init(|| {
                let mut sites: Vec<((usize, usize), CallSite<'a>)> = hashes
                    .iter()
                    .flat_map(of_group)
                    .map(|&site| (self.place(site), site))
                    .collect();
                sites.sort_by_key(|&(place, _)| place);
                sites.into_iter().map(|(_, site)| site).collect()
            }),
            _ => &[],
        }
    }

    /// The position of the repository's file `path` in `files`.
    fn position(&self, path: &str) -> Option<usize> {
        self.files.binary_search_by(|(p, _)| (*p).cmp(path)).ok()
    }

    /// The facts of the repository's file `path`.
    fn facts(&self, path: &str) -> Option<&'a FileFacts> {
        let at = self.position(path)?;
        self.files.get(at).map(|(_, facts)| *facts)
    }

    /// Where a call site is in the repository: its file's position, then the call's.
    fn place(&self, (file, call): CallSite<'a>) -> (usize, usize) {
        let at = self.position(file.path);
        let index = at
            .and_then(|at| self.files.get(at))
            .and_then(|(_, facts)| facts.calls.iter().position(|c| std::ptr::eq(c, call)))
            .unwrap_or(usize::MAX);
        (at.unwrap_or(usize::MAX), index)
    }

    /// Resolves the calls whose last name hashes to `hash`, in the files that have some.
    fn group(&self, hash: u32) -> Group<'a> {
        let mut group = Group::new();
        for at in positions(&self.files_calling, hash) {
            let Some(&(path, facts)) = self.files.get(at) else {
                continue;
            };
            for call in facts.calls.iter() {
                if name_hash(last_name(&call.callee)) != hash {
                    continue;
                }
                if let Some(function) = self.functions.resolve(path, facts, call) {
                    let file = FileRef {
                        repo: self.repo,
                        path,
                    };
                    group.entry(function).or_default().push((file, call));
                }
            }
        }
        group
    }
}

impl<'a> CallerIndex<'a> {
    pub fn new(repos: &'a [RepoFacts]) -> CallerIndex<'a> {
        CallerIndex {
            repos,
            per_repo: repos.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    /// Builds every repository's tables now, each with its files read in parallel when called
    /// from outside the thread pool (see [`RepoCallers::new`]); linking does so first.
    pub fn prepare(&self) {
        for repo in 0..self.per_repo.len() {
            self.tables(repo);
        }
    }

    fn tables(&self, repo: usize) -> Option<&RepoCallers<'a>> {
        let slot = self.per_repo.get(repo)?;
        Some(slot.get_or_init(|| {
            RepoCallers::new(self.repos, repo, rayon::current_thread_index().is_none())
        }))
    }

    /// The call sites of the function `scope` of `file`.
    pub fn of(&self, file: FileRef<'a>, scope: ScopeId) -> &[CallSite<'a>] {
        match self.tables(file.repo) {
            Some(tables) => tables.callers_of(file.path, scope),
            None => &[],
        }
    }
}

/// `crate::auth::wait` and `auth.wait` name the same thing. Borrowed when already normal, as
/// most names are.
fn normalise(name: &str) -> std::borrow::Cow<'_, str> {
    // Byte searches: `trim_start_matches` and `contains` with a string pattern build a
    // substring searcher for each call, and every call of the world is normalised.
    let mut name = name;
    while let Some(rest) = name.strip_prefix("crate::") {
        name = rest;
    }
    let Some(mut at) = double_colon(name) else {
        return std::borrow::Cow::Borrowed(name.trim_start_matches('.'));
    };
    // By hand too: `replace` builds a substring searcher, most of normalising a Rust name.
    let mut dotted = String::with_capacity(name.len());
    let mut rest = name;
    loop {
        dotted.push_str(&rest[..at]);
        dotted.push('.');
        rest = &rest[at + 2..];
        match double_colon(rest) {
            Some(next) => at = next,
            None => break,
        }
    }
    dotted.push_str(rest);
    let leading_dots = dotted.len() - dotted.trim_start_matches('.').len();
    dotted.drain(..leading_dots);
    std::borrow::Cow::Owned(dotted)
}

/// Where the first `::` of `text` starts. A colon is looked for first, one vectorised byte
/// search, since most names have none.
fn double_colon(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if !bytes.contains(&b':') {
        return None;
    }
    bytes.windows(2).position(|pair| pair == b"::")
}

/// What a call passes for parameter `position`/`name`: `Some(None)` when the call leaves it out
/// (the default applies), `None` when a spread hides it (unknown).
pub fn argument<'c>(
    call: &'c CallRef,
    name: &str,
    position: Option<usize>,
) -> Option<Option<&'c CallArg>> {
    if let Some(arg) = call
        .args
        .iter()
        .find(|a| a.keyword.as_deref() == Some(name))
    {
        return Some(Some(arg));
    }
    if let Some(position) = position {
        let mut index = 0;
        for arg in &call.args {
            match arg.keyword.as_deref() {
                None if index == position => return Some(Some(arg)),
                None => index += 1,
                Some(SPREAD) => return None,
                Some(_) => {}
            }
        }
    }
    if call
        .args
        .iter()
        .any(|a| matches!(a.keyword.as_deref(), Some(SPREAD) | Some(KEYWORD_SPREAD)))
    {
        return None;
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Expr;

    #[test]
    fn rust_paths_and_dotted_names_normalise_alike() {
        assert_eq!(normalise("crate::auth::wait"), "auth.wait");
        assert_eq!(normalise("auth.wait"), "auth.wait");
        assert_eq!(normalise("::std::fs::write"), "std.fs.write");
        // What replacing every `::` gives, then dropping the leading dots.
        let names = [
            "",
            "::",
            ":::",
            "a::::b",
            "a:b::c",
            "crate::crate::x",
            ".a::b",
            "é::ü",
            "a::",
        ];
        for name in names {
            let mut written = name;
            while let Some(rest) = written.strip_prefix("crate::") {
                written = rest;
            }
            let expected = written.replace("::", ".");
            assert_eq!(
                normalise(name),
                expected.trim_start_matches('.'),
                "{name:?}"
            );
        }
    }

    /// A dotted callee's suffix matches are found among the names sharing its last two
    /// segments exactly as among all the names sharing its last one.
    #[test]
    fn suffix_matches_are_among_the_names_sharing_the_last_two_segments() {
        assert_eq!(last_two_segments("pkg.mod.f"), Some("mod.f"));
        assert_eq!(last_two_segments("mod.f"), Some("mod.f"));
        assert_eq!(last_two_segments("f"), None);
        assert_eq!(last_two_segments("a..f"), Some(".f"));
        let names = [
            "f",
            "mod.f",
            "pkg.mod.f",
            "other.mod.f",
            "pkg.other.f",
            "x.pkg.mod.f",
            "mod.g",
            "a..f",
            "b.a..f",
            ".f",
        ];
        let callees = [
            "mod.f",
            "pkg.mod.f",
            "other.f",
            ".f",
            "a..f",
            "x.y.z",
            "f.f",
        ];
        for callee in callees {
            let all: Vec<&str> = names
                .iter()
                .copied()
                .filter(|name| crate::resolve::ends_after(name, b'.', callee))
                .collect();
            let among_last_two: Vec<&str> = names
                .iter()
                .copied()
                .filter(|name| last_two_segments(name) == last_two_segments(callee))
                .filter(|name| crate::resolve::ends_after(name, b'.', callee))
                .collect();
            assert_eq!(among_last_two, all, "{callee}");
        }
    }

    fn call(args: &[(Option<&str>, &str)]) -> CallRef {
        CallRef {
            scope: 0,
            line: 1,
            callee: "f".into(),
            args: args
                .iter()
                .map(|(keyword, text)| CallArg {
                    keyword: keyword.map(Into::into),
                    value: Expr::lit(*text),
                })
                .collect(),
        }
    }

    fn passed(c: &CallRef, name: &str, position: usize) -> Option<Option<String>> {
        argument(c, name, Some(position)).map(|a| {
            a.map(|a| match &a.value {
                Expr::Lit { text } => text.to_string(),
                other => format!("{other:?}"),
            })
        })
    }

    #[test]
    fn keyword_then_position_then_default() {
        let c = call(&[
            (None, "conn"),
            (Some("region"), "eu"),
            (Some("out_dir"), "/srv"),
        ]);
        assert_eq!(passed(&c, "out_dir", 1), Some(Some("/srv".into())));
        assert_eq!(passed(&c, "conn", 0), Some(Some("conn".into())));
        // Left out: the default applies.
        assert_eq!(passed(&c, "stamp", 3), Some(None));
    }

    /// The files that call the first function (scope 1) of the first repository's `path`.
    fn callers_of_first_function<'a>(index: &CallerIndex<'a>, path: &'a str) -> Vec<&'a str> {
        index
            .of(FileRef { repo: 0, path }, 1)
            .iter()
            .map(|(caller, _)| caller.path)
            .collect()
    }

    /// A shell function of a sourced library is called from the script that sources it; a
    /// function of the same name in a file the script does not source is not.
    #[test]
    fn calls_reach_the_function_of_a_sourced_library_only() {
        use crate::extract::bash;
        use crate::rules::models::Models;
        use std::sync::Arc;
        let models = Models::builtin().expect("built-in models load");
        let lib = "conf() {\n  echo \"${2:-}\"\n}\n";
        let files = [
            ("lib/conf.sh", lib),
            ("tools/other.sh", lib),
            (
                "bin/start.sh",
                ". \"$(dirname \"$0\")/../lib/conf.sh\"\nLOG=\"$(conf LOGFILE /var/log/x.log)\"\n",
            ),
            ("bin/alone.sh", "LOG=\"$(conf LOGFILE /var/log/y.log)\"\n"),
        ];
        let repos = vec![RepoFacts {
            name: "app".into(),
            files: files
                .iter()
                .map(|(p, t)| (p.to_string(), Arc::new(bash::extract(p, t, &models))))
                .collect(),
        }];
        let index = CallerIndex::new(&repos);
        let callers = |path| callers_of_first_function(&index, path);
        assert_eq!(callers("lib/conf.sh"), vec!["bin/start.sh"]);
        assert!(callers("tools/other.sh").is_empty());
    }

    /// A callee matched by the end of a function's qualified name is matched at a name
    /// boundary: `b.load` is `app.b.load`, not also `app.ab.load` (two candidates would make
    /// the call no one's).
    #[test]
    fn a_dotted_callee_matches_whole_name_segments() {
        let def = "def load(path):\n    return open(path)\n";
        let repos = vec![crate::resolve::repo_of_texts(
            "app",
            &[
                ("app/b.py", def),
                ("app/ab.py", def),
                ("app/main.py", "b.load('/srv/x')\n"),
            ],
        )];
        let index = CallerIndex::new(&repos);
        let callers = |path| callers_of_first_function(&index, path);
        assert_eq!(callers("app/b.py"), vec!["app/main.py"]);
        assert!(callers("app/ab.py").is_empty());
    }

    /// Over cached facts, whose calls stay packed, every function has the callers it has over
    /// freshly extracted ones, in the same order; asking for one decodes the calls of only the
    /// files that call a function of its name.
    #[test]
    fn cached_calls_give_the_same_callers_and_only_the_asked_names_are_decoded() {
        let texts = [
            (
                "app/dump.py",
                "def dump(conn, out_dir):\n    open(out_dir + '/x', 'w')\n\nclass Exporter:\n    def __init__(self, day):\n        self.day = day\n",
            ),
            (
                "app/main.py",
                "from app.dump import dump, Exporter\ndump(c, '/srv/a')\nExporter('d')\ndump(c, out_dir='/srv/b')\n",
            ),
            ("app/other.py", "import os\nos.getcwd()\nprint(1)\n"),
            (
                "app/early.py",
                "from app.dump import Exporter\nExporter.__init__(x, 'f')\n",
            ),
            (
                "app/zlast.py",
                "from app.dump import Exporter\nExporter.__init__(x, 'g')\n",
            ),
            (
                "app/more.py",
                "from app import dump\ndump.dump(c, '/srv/c')\nx = dump.Exporter('e')\n",
            ),
        ];
        let fresh = vec![crate::resolve::repo_of_texts("app", &texts)];
        let cached = vec![RepoFacts {
            name: "app".into(),
            files: fresh[0]
                .files
                .iter()
                .map(|(path, facts)| {
                    let bytes = crate::store::codec::encode(facts.as_ref());
                    let back: FileFacts =
                        crate::store::codec::decode(&bytes).unwrap_or_else(|e| panic!("{e}"));
                    (path.clone(), std::sync::Arc::new(back))
                })
                .collect(),
        }];
        let scope_of = |repos: &[RepoFacts], name: &str| {
            repos[0].files["app/dump.py"]
                .scopes
                .iter()
                .position(|s| s.name == name)
                .unwrap_or_else(|| panic!("no scope {name}"))
        };
        let sites = |index: &CallerIndex<'_>, repos: &[RepoFacts], name: &str| {
            let file = FileRef {
                repo: 0,
                path: "app/dump.py",
            };
            index
                .of(file, scope_of(repos, name))
                .iter()
                .map(|(caller, call)| format!("{}:{}", caller.path, call.line))
                .collect::<Vec<_>>()
        };
        let fresh_index = CallerIndex::new(&fresh);
        let cached_index = CallerIndex::new(&cached);
        let dump = sites(&cached_index, &cached, "dump");
        assert_eq!(dump, ["app/main.py:2", "app/main.py:4", "app/more.py:2"]);
        assert_eq!(dump, sites(&fresh_index, &fresh, "dump"));
        let calls_read = |path: &str| cached[0].files[path].calls.is_read();
        assert!(calls_read("app/main.py") && calls_read("app/more.py"));
        assert!(!calls_read("app/other.py"), "no call there is named dump");
        // A constructor's callers: the calls of its class and of `__init__`, merged in file
        // order.
        let init = sites(&cached_index, &cached, "__init__");
        assert_eq!(
            init,
            [
                "app/early.py:2",
                "app/main.py:3",
                "app/more.py:3",
                "app/zlast.py:2"
            ]
        );
        assert_eq!(init, sites(&fresh_index, &fresh, "__init__"));
        assert!(!calls_read("app/other.py"));
    }

    #[test]
    fn a_spread_hides_what_follows() {
        let c = call(&[(None, "conn"), (Some(SPREAD), "*")]);
        assert_eq!(passed(&c, "out_dir", 1), None);
        assert_eq!(passed(&c, "conn", 0), Some(Some("conn".into())));
        let k = call(&[(None, "conn"), (Some(KEYWORD_SPREAD), "**")]);
        assert_eq!(passed(&k, "out_dir", 1), None);
    }
}
