//! Parameters bound at call sites: `dump(conn, out_dir, region)` builds its path from whatever
//! its callers pass as `out_dir`, so the value of a parameter is the union of the arguments at
//! the calls of its function in the repository (and its default where a call leaves it out).
//!
//! The index from functions to their call sites is built once per resolution, on first use, in
//! time linear in the calls (each resolved with the same rules as the calls that carry waits).
//! Evaluation stays bounded: at most [`MAX_CALLERS`] call sites per parameter (more make the
//! value partly unknown), and the evaluator's depth and step limits end recursion and cycles.

use super::lookup::FileRef;
use super::{RepoFacts, unit_name};
use crate::expr::ScopeId;
use crate::extract::{CallArg, CallRef, FileFacts, ScopeKind};
use foldhash::{HashMap, HashMapExt as _};
use rayon::prelude::*;

/// Call sites followed per parameter; beyond this the value also has an unknown alternative.
pub const MAX_CALLERS: usize = 8;

/// Marks in [`CallRef::args`] for a `*args` / `**kwargs` spread: what follows is unknown.
pub const SPREAD: &str = "*";
pub const KEYWORD_SPREAD: &str = "**";

/// A function: repository index, file and scope.
type FunctionKey<'a> = (usize, &'a str, ScopeId);

/// Every call site of every repository function that takes parameters.
pub struct CallerIndex<'a> {
    callers: HashMap<FunctionKey<'a>, Vec<(FileRef<'a>, &'a CallRef)>>,
}

/// Functions with parameters by qualified name (a class by its name too, standing for its
/// `__init__`) and by last name segment, for suffix matches; one table per repository, as a
/// call only ever refers to a function of its own repository. The names are borrowed from the
/// functions' [`Declared`] lists, which outlive the tables.
struct Functions<'a, 'n> {
    repos: Vec<RepoFunctions<'a, 'n>>,
}

#[derive(Default)]
struct RepoFunctions<'a, 'n> {
    by_name: HashMap<&'n str, (&'a str, ScopeId)>,
    by_last: foldhash::HashSet<&'n str>,
    /// Names of two segments or more by their last two (`pkg.mod.f` as `mod.f`): a dotted
    /// callee's suffix matches are among them, where the names sharing only the last segment
    /// (`get`, `run`: hundreds in a large repository) were each compared with every such call.
    by_last_two: HashMap<&'n str, Vec<&'n str>>,
    /// Shell functions by bare name, for calls from a script that sources their file.
    by_shell_name: HashMap<&'a str, Vec<(&'a str, ScopeId)>>,
}

/// The names one function with parameters is called by (see [`Functions::new`]).
struct Declared<'a> {
    path: &'a str,
    scope: ScopeId,
    names: Vec<String>,
    /// Its bare name, when it is a shell function.
    shell_name: Option<&'a str>,
}

/// Every repository's functions with parameters, file by file, in file order.
type Declarations<'a> = Vec<Vec<Vec<Declared<'a>>>>;

/// Names every function with parameters of `repos`. `parallel`: whether the files may be read
/// on the thread pool (see [`CallerIndex::new`]).
fn declarations<'a>(repos: &'a [RepoFacts], parallel: bool) -> Declarations<'a> {
    let of_repo = |repo: &'a RepoFacts| {
        // Naming every function (a unit name and its normal form per name) is most of the
        // tables' build: per file in parallel.
        if parallel {
            let files: Vec<(&'a String, &'a std::sync::Arc<FileFacts>)> =
                repo.files.iter().collect();
            files.par_iter().map(|&(p, f)| declared_in(p, f)).collect()
        } else {
            repo.files.iter().map(|(p, f)| declared_in(p, f)).collect()
        }
    };
    repos.iter().map(of_repo).collect()
}

impl<'a, 'n> Functions<'a, 'n> {
    /// The tables of `declared` ([`declarations`]), each repository's on its own thread when
    /// `parallel`, as entering the names is serial.
    fn new(declared: &'n Declarations<'a>, parallel: bool) -> Functions<'a, 'n> {
        let of_repo = |files: &'n Vec<Vec<Declared<'a>>>| {
            let mut functions = RepoFunctions::default();
            for declared in files.iter().flatten() {
                if let Some(name) = declared.shell_name {
                    functions
                        .by_shell_name
                        .entry(name)
                        .or_default()
                        .push((declared.path, declared.scope));
                }
                for name in &declared.names {
                    let name = name.as_str();
                    let last = name.rsplit('.').next().unwrap_or(name);
                    functions.by_last.insert(last);
                    if let Some(last_two) = last_two_segments(name) {
                        functions
                            .by_last_two
                            .entry(last_two)
                            .or_default()
                            .push(name);
                    }
                    functions
                        .by_name
                        .insert(name, (declared.path, declared.scope));
                }
            }
            functions
        };
        let repos = if parallel {
            declared.par_iter().map(of_repo).collect()
        } else {
            declared.iter().map(of_repo).collect()
        };
        Functions { repos }
    }

    fn is_empty(&self) -> bool {
        self.repos.iter().all(|r| r.by_name.is_empty())
    }

    /// The function a call refers to: its qualified name, a method of the caller's class
    /// (`self.x`), or the one function whose qualified name ends with the callee's dotted
    /// name. A bare or receiver-qualified name that matches nothing exactly (`conn.fetch`,
    /// `fh.write`) is not guessed.
    fn resolve(
        &self,
        r: usize,
        path: &'a str,
        facts: &FileFacts,
        call: &CallRef,
    ) -> Option<(&'a str, ScopeId)> {
        let functions = self.repos.get(r)?;
        let callee = normalise(&call.callee);
        let callee = callee.as_ref();
        let last = callee.rsplit('.').next().unwrap_or(callee);
        // The exact, method and suffix matches all find a name ending in the callee's last
        // segment (`self.x` is `<module>.<class>.x`), so a call whose last segment no function
        // of the repository has (most calls: `print`, `os.path.join`) is left to the
        // same-file and sourced-shell matches, which only bare names reach.
        if !functions.by_last.contains(last) {
            return if callee.contains('.') {
                None
            } else {
                Self::bare(functions, path, facts, callee)
            };
        }
        if let Some(found) = functions.by_name.get(callee) {
            return Some(*found);
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
            return functions.by_name.get(qualified.as_str()).copied();
        }
        if !callee.contains('.') {
            return Self::bare(functions, path, facts, callee);
        }
        // A suffix match (a name ending in `.` and the callee) ends in the callee's last two
        // segments.
        let same_last_two = last_two_segments(callee)
            .and_then(|last_two| functions.by_last_two.get(last_two))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let candidates: Vec<&str> = same_last_two
            .iter()
            .copied()
            .filter(|name| super::ends_after(name, b'.', callee))
            .collect();
        match candidates.as_slice() {
            [name] => functions.by_name.get(name).copied(),
            _ => None,
        }
    }

    /// A bare callee: a function of the same file by that name (a shell function, a Rust
    /// `fn`, a nested Python function), else a shell function of a file the script sources.
    fn bare(
        functions: &RepoFunctions<'a, 'n>,
        path: &'a str,
        facts: &FileFacts,
        callee: &str,
    ) -> Option<(&'a str, ScopeId)> {
        if let Some(found) = facts.params.iter().find(|p| {
            facts
                .scopes
                .get(p.scope)
                .is_some_and(|s| s.kind == ScopeKind::Function && s.name == callee)
        }) {
            return Some((path, found.scope));
        }
        Self::sourced_shell_function(functions, facts, callee)
    }

    /// The shell function `name` defined in a file whose name is that of a file the caller
    /// sources (its star imports), when exactly one is (`. "$DIR/../lib/conf.sh"`).
    fn sourced_shell_function(
        functions: &RepoFunctions<'a, 'n>,
        facts: &FileFacts,
        name: &str,
    ) -> Option<(&'a str, ScopeId)> {
        let candidates = functions.by_shell_name.get(name)?;
        let sourced: Vec<&str> = facts
            .imports
            .iter()
            .filter(|i| i.local == "*")
            .filter_map(|i| i.module.rsplit('/').next())
            .filter(|base| !base.is_empty() && !base.contains('*'))
            .collect();
        let matching: Vec<&(&'a str, ScopeId)> = candidates
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

impl<'a> CallerIndex<'a> {
    pub fn new(repos: &'a [RepoFacts]) -> CallerIndex<'a> {
        // Resolving every call is most of the build, so files are read in parallel — but only
        // from outside the thread pool: inside it, the pool could run another file's
        // resolution on this thread while it waits, and that one would wait for this index
        // (built under a `OnceLock`) forever.
        let parallel = rayon::current_thread_index().is_none();
        let declared = declarations(repos, parallel);
        let functions = Functions::new(&declared, parallel);
        let mut callers: HashMap<FunctionKey<'a>, Vec<(FileRef<'a>, &'a CallRef)>> = HashMap::new();
        if functions.is_empty() {
            return CallerIndex { callers };
        }
        let files: Vec<(usize, &'a str, &'a FileFacts)> = repos
            .iter()
            .enumerate()
            .flat_map(|(r, repo)| {
                repo.files
                    .iter()
                    .map(move |(path, facts)| (r, path.as_str(), facts.as_ref()))
            })
            .collect();
        let called_in = |&(r, path, facts): &(usize, &'a str, &'a FileFacts)| {
            facts
                .calls
                .iter()
                .filter_map(|call| {
                    let (callee_path, scope) = functions.resolve(r, path, facts, call)?;
                    Some(((r, callee_path, scope), call))
                })
                .collect::<Vec<_>>()
        };
        let per_file: Vec<Vec<(FunctionKey<'a>, &'a CallRef)>> = if parallel {
            files.par_iter().map(called_in).collect()
        } else {
            files.iter().map(called_in).collect()
        };
        // In file order, as the callers of each function were listed before.
        let enter = || {
            for (&(r, path, _), calls) in files.iter().zip(per_file) {
                for (key, call) in calls {
                    callers
                        .entry(key)
                        .or_default()
                        .push((FileRef { repo: r, path }, call));
                }
            }
        };
        // The function names (a few owned strings per function) are freed on another thread
        // meanwhile: freeing them here kept the calling thread, and the whole link, waiting.
        // The tables only borrow them, and go first.
        drop(functions);
        if parallel {
            rayon::join(move || drop(declared), enter);
        } else {
            enter();
        }
        CallerIndex { callers }
    }

    /// The call sites of the function `scope` of `file`.
    pub fn of(&self, file: FileRef<'a>, scope: ScopeId) -> &[(FileRef<'a>, &'a CallRef)] {
        self.callers
            .get(&(file.repo, file.path, scope))
            .map(Vec::as_slice)
            .unwrap_or_default()
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

    #[test]
    fn a_spread_hides_what_follows() {
        let c = call(&[(None, "conn"), (Some(SPREAD), "*")]);
        assert_eq!(passed(&c, "out_dir", 1), None);
        assert_eq!(passed(&c, "conn", 0), Some(Some("conn".into())));
        let k = call(&[(None, "conn"), (Some(KEYWORD_SPREAD), "**")]);
        assert_eq!(passed(&k, "out_dir", 1), None);
    }
}
