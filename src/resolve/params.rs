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
/// `__init__`), per repository; and by last name segment, for suffix matches.
struct Functions<'a> {
    by_name: HashMap<(usize, String), (&'a str, ScopeId)>,
    by_last: HashMap<(usize, String), Vec<String>>,
    /// Shell functions by bare name, for calls from a script that sources their file.
    by_shell_name: HashMap<(usize, &'a str), Vec<(&'a str, ScopeId)>>,
}

impl<'a> Functions<'a> {
    fn new(repos: &'a [RepoFacts]) -> Functions<'a> {
        let mut by_name = HashMap::new();
        let mut by_last: HashMap<(usize, String), Vec<String>> = HashMap::new();
        let mut by_shell_name: HashMap<(usize, &'a str), Vec<(&'a str, ScopeId)>> = HashMap::new();
        for (r, repo) in repos.iter().enumerate() {
            for (path, facts) in &repo.files {
                for params in &facts.params {
                    let Some(scope) = facts.scopes.get(params.scope) else {
                        continue;
                    };
                    if scope.kind != ScopeKind::Function {
                        continue;
                    }
                    if params.positional_only {
                        by_shell_name
                            .entry((r, scope.name.as_str()))
                            .or_default()
                            .push((path.as_str(), params.scope));
                    }
                    let mut names = vec![normalise(&unit_name(facts, params.scope, path))];
                    // A method by its class too (`pkg.mod.Dumper.path`), as `self.path(...)`
                    // and `d.path(...)` with `d = Dumper(...)` call it.
                    if let Some(class) = scope.class {
                        names.push(normalise(&format!(
                            "{}.{}",
                            unit_name(facts, class, path),
                            scope.name
                        )));
                    }
                    // `Exporter(...)` runs `Exporter.__init__`.
                    if scope.name == "__init__"
                        && let Some(class) = scope.class
                    {
                        names.push(normalise(&unit_name(facts, class, path)));
                    }
                    for name in names {
                        let last = name.rsplit('.').next().unwrap_or(&name).to_string();
                        by_last.entry((r, last)).or_default().push(name.clone());
                        by_name.insert((r, name), (path.as_str(), params.scope));
                    }
                }
            }
        }
        Functions {
            by_name,
            by_last,
            by_shell_name,
        }
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
        let callee = normalise(&call.callee);
        if let Some(found) = self.by_name.get(&(r, callee.clone())) {
            return Some(*found);
        }
        let root = facts
            .scopes
            .first()
            .map(|s| normalise(&s.name))
            .unwrap_or_default();
        if let Some(method) = callee.strip_prefix("self.") {
            let class = facts
                .scopes
                .get(call.scope)
                .and_then(|s| s.class)
                .and_then(|c| facts.scopes.get(c))?;
            let qualified = if root.is_empty() {
                format!("{}.{method}", class.name)
            } else {
                format!("{root}.{}.{method}", class.name)
            };
            return self.by_name.get(&(r, qualified)).copied();
        }
        // A function of the same file called by its bare name (a shell function, a Rust `fn`,
        // a nested Python function).
        if !callee.contains('.')
            && let Some(found) = facts.params.iter().find(|p| {
                facts
                    .scopes
                    .get(p.scope)
                    .is_some_and(|s| s.kind == ScopeKind::Function && s.name == callee)
            })
        {
            return Some((path, found.scope));
        }
        // A shell function of a file the script sources (`. "$DIR/../lib/conf.sh"`): the one
        // function of that name in a repository file named like a sourced one.
        if !callee.contains('.')
            && let Some(found) = self.sourced_shell_function(r, facts, &callee)
        {
            return Some(found);
        }
        let (_, last) = callee.rsplit_once('.')?;
        let suffix = format!(".{callee}");
        let candidates: Vec<&String> = self
            .by_last
            .get(&(r, last.to_string()))?
            .iter()
            .filter(|name| name.ends_with(&suffix))
            .collect();
        match candidates.as_slice() {
            [name] => self.by_name.get(&(r, (*name).clone())).copied(),
            _ => None,
        }
    }
}

impl<'a> Functions<'a> {
    /// The shell function `name` defined in a file whose name is that of a file the caller
    /// sources (its star imports), when exactly one is.
    fn sourced_shell_function(
        &self,
        r: usize,
        facts: &FileFacts,
        name: &str,
    ) -> Option<(&'a str, ScopeId)> {
        let candidates = self.by_shell_name.get(&(r, name))?;
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

impl<'a> CallerIndex<'a> {
    pub fn new(repos: &'a [RepoFacts]) -> CallerIndex<'a> {
        let functions = Functions::new(repos);
        let mut callers: HashMap<FunctionKey<'a>, Vec<(FileRef<'a>, &'a CallRef)>> = HashMap::new();
        if functions.by_name.is_empty() {
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
        // Resolving every call is most of the build (a tenth of a second over the benchmark
        // corpus), so files are resolved in parallel — but only from outside the thread pool:
        // inside it, the pool could run another file's resolution on this thread while it
        // waits, and that one would wait for this index (built under a `OnceLock`) forever.
        let per_file: Vec<Vec<(FunctionKey<'a>, &'a CallRef)>> =
            if rayon::current_thread_index().is_none() {
                files.par_iter().map(called_in).collect()
            } else {
                files.iter().map(called_in).collect()
            };
        // In file order, as the callers of each function were listed before.
        for (&(r, path, _), calls) in files.iter().zip(per_file) {
            for (key, call) in calls {
                callers
                    .entry(key)
                    .or_default()
                    .push((FileRef { repo: r, path }, call));
            }
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

/// `crate::auth::wait` and `auth.wait` name the same thing.
fn normalise(name: &str) -> String {
    name.trim_start_matches("crate::")
        .replace("::", ".")
        .trim_start_matches('.')
        .to_string()
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
        let callers = |path: &'static str| {
            index
                .of(FileRef { repo: 0, path }, 1)
                .iter()
                .map(|(caller, _)| caller.path)
                .collect::<Vec<_>>()
        };
        assert_eq!(callers("lib/conf.sh"), vec!["bin/start.sh"]);
        assert!(callers("tools/other.sh").is_empty());
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
