//! Calls: what a function does on behalf of its callers.
//!
//! A change that adds `wait_for_credential_refresh()` after a 401 adds a wait, even though the
//! polling loop lives in a helper defined elsewhere in the repository. Each call of a function
//! defined in the same repository gets a copy of the callee's waits at the call site (and, with
//! the callee's own calls, transitively up to a small depth), so the change stage sees a new wait
//! exactly where the new call is.

use super::{Access, RepoFacts, unit_name};
// A name's hash in every round: the one call lists hold their names by.
use crate::extract::call_list::name_hash;
use crate::extract::{FileFacts, ScopeKind};
use crate::model::{Mode, Site};
use foldhash::{HashMap, HashMapExt as _};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How many call levels a wait is carried up.
const MAX_CALL_DEPTH: usize = 3;

/// Adds, for each call of a repository function that waits, the callee's waits at the call site.
pub fn propagate_waits(repos: &[RepoFacts], scope: Option<usize>, accesses: &mut Vec<Access>) {
    // A caller waits on a callee of its own repository: only the resolved ones can.
    let callers: Vec<&RepoFacts> = repos
        .iter()
        .enumerate()
        .filter(|(i, _)| scope.is_none_or(|only| only == *i))
        .map(|(_, repo)| repo)
        .collect();
    let files: Vec<(&RepoFacts, &String, &FileFacts)> = callers
        .iter()
        .flat_map(|repo| {
            repo.files
                .iter()
                .map(move |(path, facts)| (*repo, path, facts.as_ref()))
        })
        .collect();
    // Each call's last name hashed once, for every round: a round then tells the calls of no
    // waiting function's name (most calls) by one integer each, where hashing every callee in
    // every round was most of propagating waits. Only worlds with waits get here.
    let mut hashed: Option<Vec<HashedNames>> = None;
    let mut derived_any = false;
    for _ in 0..MAX_CALL_DEPTH {
        // Waits by (repo, unit).
        let mut waits: BTreeMap<(&str, &str), Vec<&Access>> = BTreeMap::new();
        for access in accesses.iter() {
            if access.mode == Mode::WaitFor {
                waits
                    .entry((access.site.repo.as_str(), access.unit.as_str()))
                    .or_default()
                    .push(access);
            }
        }
        // Nothing waits: no call can make its caller wait (most worlds; saves resolving every
        // call of every file).
        if waits.is_empty() {
            break;
        }
        let waiting = waiting_names(repos, &waits);
        // Each repository's waiting names by their hashes, as the files' call lists hash
        // them: a file none of whose calls has one is passed by, its calls left packed.
        let mut waiting_in: HashMap<&str, foldhash::HashSet<u32>> = HashMap::new();
        for &(repo, name) in &waiting {
            waiting_in.entry(repo).or_default().insert(name_hash(name));
        }
        let hashed = hashed.get_or_insert_with(|| {
            files
                .par_iter()
                .map(|(_, _, facts)| HashedNames::of(facts))
                .collect()
        });
        let functions = FunctionIndex::new(&files, hashed, &waiting_in, &waiting);
        // Every file with a call of a waiting name is looked at, in each round: on both
        // threads, each file's derived waits in file order.
        let per_file: Vec<Vec<Access>> = files
            .par_iter()
            .zip(hashed.par_iter())
            .map(|(&(repo, path, facts), hashed)| {
                let mut derived = Vec::new();
                let Some(listed) = waiting_in.get(repo.name.as_str()) else {
                    return derived;
                };
                if !hashed.calls.iter().any(|name| listed.contains(name)) {
                    return derived;
                }
                for call in facts.calls.iter() {
                    // Every way `resolve` finds a unit ends at a function of the callee's last
                    // name: a call of no waiting function's name cannot wait (most calls).
                    if !waiting.contains(&(repo.name.as_str(), last_name(&call.callee))) {
                        continue;
                    }
                    let Some(callee_unit) =
                        functions.resolve(repo, path, facts, call.scope, &call.callee)
                    else {
                        continue;
                    };
                    let Some(callee_waits) = waits.get(&(repo.name.as_str(), callee_unit.as_str()))
                    else {
                        continue;
                    };
                    let caller_unit = unit_name(facts, call.scope, path);
                    if caller_unit == callee_unit {
                        continue;
                    }
                    let site = Site {
                        repo: repo.name.clone(),
                        path: path.clone(),
                        line: call.line,
                    };
                    for wait in callee_waits {
                        let mut copy = (*wait).clone();
                        copy.notes
                            .push(format!("waits through {} ({})", callee_unit, wait.site));
                        if copy.origin.is_none() {
                            copy.origin = Some(Box::new((callee_unit.clone(), wait.site.clone())));
                        }
                        copy.site = site.clone();
                        copy.unit = caller_unit.clone();
                        copy.via = format!("calls {}", call.callee);
                        derived.push(copy);
                    }
                }
                derived
            })
            .collect();
        let mut derived: Vec<Access> = per_file.into_iter().flatten().collect();
        derived.retain(|d| {
            !accesses.iter().any(|a| {
                a.site == d.site && a.mode == d.mode && a.resource.display() == d.resource.display()
            })
        });
        if derived.is_empty() {
            break;
        }
        derived
            .sort_by(|a, b| (&a.site, a.resource.display()).cmp(&(&b.site, b.resource.display())));
        derived.dedup_by(|a, b| a.site == b.site && a.resource.display() == b.resource.display());
        // Exactly: doubling the world's accesses for a few waits would be the run's peak.
        accesses.reserve_exact(derived.len());
        accesses.extend(derived);
        derived_any = true;
    }
    if derived_any {
        group_by_repository(repos, accesses);
    }
}

/// Puts each repository's accesses together, in the world's order of repositories, each
/// keeping its own order: the waits carried through calls are added in rounds after every
/// file's accesses, and grouped, a repository's accesses are the same list whether the other
/// repositories' files were resolved with it or not (`reuse`).
fn group_by_repository(repos: &[RepoFacts], accesses: &mut [Access]) {
    let place: HashMap<&str, usize> = repos
        .iter()
        .enumerate()
        .map(|(i, repo)| (repo.name.as_str(), i))
        .collect();
    // Stable: within a repository, the order stays.
    accesses.sort_by_key(|a| {
        place
            .get(a.site.repo.as_str())
            .copied()
            .unwrap_or(usize::MAX)
    });
}

/// Drops the calls that no function of the files can answer, before resolving: calls are
/// read only to find a caller's waits and a function's arguments, and every way either finds
/// the called function ends at a function (or a class, for its constructor) whose own name
/// ends with the callee's last name (see [`last_name`]). Calls are the largest part of the
/// facts, and many are to libraries (`os.path.join`, `log.info`): on the benchmark corpus a
/// third go (215,718 -> 147,969; names like `get` and `run` are defined somewhere in most
/// worlds). `facts` are the extracted facts of every file of a world (the names of functions
/// anywhere in it, a superset of each repository's); each is changed in place when no one
/// else holds it, and left whole otherwise (never copied). Calls read from the cache are left
/// packed, as they are: dropping them would decode them all, and only the calls of an asked
/// function's name are ever decoded (see [`crate::extract::CallList`]).
pub fn drop_unanswerable_calls<'a>(facts: impl Iterator<Item = &'a mut Arc<FileFacts>>) {
    use rayon::prelude::*;
    let mut facts: Vec<&mut Arc<FileFacts>> = facts.collect();
    // Names by reference: the facts outlive the set, and copying 100,000 names was a third of
    // this step. Files in parallel: a warm check does this over every cached file.
    let names: foldhash::HashSet<&str> = facts
        .iter()
        .flat_map(|f| f.scopes.iter())
        // A class's name too: calling it passes the arguments to its `__init__`.
        .filter(|s| matches!(s.kind, ScopeKind::Function | ScopeKind::Class))
        // By its own last segment (`b` of a shell function `a:b`), as a call's last name is
        // cut at `:` too.
        .map(|s| last_name(&s.name))
        .collect();
    let keep: Vec<Option<Vec<bool>>> = facts
        .par_iter()
        .map(|file| {
            if file.calls.is_packed() {
                return None;
            }
            let keep: Vec<bool> = file
                .calls
                .iter()
                .map(|call| names.contains(last_name(&call.callee)))
                .collect();
            keep.contains(&false).then_some(keep)
        })
        .collect();
    drop(names);
    let counts: Vec<(usize, usize)> = facts
        .par_iter_mut()
        .zip(keep)
        .filter(|(file, _)| !file.calls.is_packed())
        .map(|(file, keep)| {
            let before = file.calls.len();
            if let (Some(keep), Some(file)) = (keep, Arc::get_mut(file)) {
                let mut kept = keep.into_iter();
                file.calls.retain(|_| kept.next().unwrap_or(true));
                file.calls.shrink_to_fit();
            }
            (before, file.calls.len())
        })
        .collect();
    let (before, after) = counts
        .iter()
        .fold((0, 0), |(b, a), (before, after)| (b + before, a + after));
    crate::timings::count("calls kept", format!("{after} of {before}"));
}

/// The own names of the functions that wait, by repository: `wait_for_refresh` for the unit
/// `app.auth.wait_for_refresh`, found among the scopes of the file each wait is in.
fn waiting_names<'a>(
    repos: &'a [RepoFacts],
    waits: &BTreeMap<(&str, &str), Vec<&Access>>,
) -> foldhash::HashSet<(&'a str, &'a str)> {
    let mut names = foldhash::HashSet::default();
    for ((repo_name, unit), accesses) in waits {
        let Some(repo) = repos.iter().find(|r| r.name == *repo_name) else {
            continue;
        };
        for access in accesses {
            let Some((path, facts)) = repo.files.get_key_value(&access.site.path) else {
                continue;
            };
            for (id, scope) in facts.scopes.iter().enumerate() {
                if scope.kind == ScopeKind::Function && unit_name(facts, id, path) == *unit {
                    names.insert((repo.name.as_str(), scope.name.as_str()));
                }
            }
        }
    }
    names
}

/// The names of a file that waits propagate by, hashed once for all rounds.
struct HashedNames {
    /// Its calls' last names, as its call list hashes them ([`crate::extract::CallList::names`]):
    /// read without decoding the calls of a cached file.
    calls: Vec<u32>,
    /// Each function scope (its index) and its own name.
    functions: Vec<(usize, u32)>,
}

impl HashedNames {
    fn of(facts: &FileFacts) -> HashedNames {
        let scopes = facts.scopes.iter().enumerate();
        HashedNames {
            calls: facts.calls.names().into_owned(),
            functions: scopes
                .filter(|(_, s)| s.kind == ScopeKind::Function)
                .map(|(id, s)| (id, name_hash(&s.name)))
                .collect(),
        }
    }
}

/// The last segment of a callee as [`FunctionIndex::resolve`] reads it (`self.x.wait` ->
/// `wait`, `crate::auth::wait` -> `wait`), or of any dotted or `::` name.
pub(super) use crate::extract::call_list::last_name;

/// Functions of every repository by their unit names.
struct FunctionIndex {
    /// (repo, normalised unit name) -> unit name as displayed.
    by_name: HashMap<(String, String), String>,
    /// (repo, last name segment) -> unit names, for suffix matches.
    by_last: HashMap<(String, String), Vec<(String, String)>>,
}

impl FunctionIndex {
    /// The functions of `repos` named as one of `waiting` (repository, own name): every way
    /// [`FunctionIndex::resolve`] finds a unit ends at a function of the callee's last name,
    /// and only calls of a waiting name are resolved, so the others could never be found.
    /// Indexing every function of the world was most of the time waits took.
    /// `files` are the callers' files and `hashed` their names, in the same order;
    /// `waiting_hashes` the hashes of `waiting` by repository.
    fn new(
        files: &[(&RepoFacts, &String, &FileFacts)],
        hashed: &[HashedNames],
        waiting_hashes: &HashMap<&str, foldhash::HashSet<u32>>,
        waiting: &foldhash::HashSet<(&str, &str)>,
    ) -> FunctionIndex {
        let mut by_name = HashMap::new();
        let mut by_last: HashMap<(String, String), Vec<(String, String)>> = HashMap::new();
        for (&(repo, path, facts), hashed) in files.iter().zip(hashed) {
            let Some(hashes) = waiting_hashes.get(repo.name.as_str()) else {
                continue;
            };
            for &(scope, hash) in &hashed.functions {
                let Some(s) = facts.scopes.get(scope) else {
                    continue;
                };
                // The hash only narrows; the name decides.
                if !hashes.contains(&hash)
                    || !waiting.contains(&(repo.name.as_str(), s.name.as_str()))
                {
                    continue;
                }
                let unit = unit_name(facts, scope, path);
                let normalised = normalise(&unit);
                let last = normalised
                    .rsplit('.')
                    .next()
                    .unwrap_or(&normalised)
                    .to_string();
                by_last
                    .entry((repo.name.clone(), last))
                    .or_default()
                    .push((normalised.clone(), unit.clone()));
                by_name.insert((repo.name.clone(), normalised), unit);
            }
        }
        FunctionIndex { by_name, by_last }
    }

    /// The unit a call refers to: an exact qualified name, a method of the caller's class
    /// (`self.x`), a function of the same file, or a unique function whose qualified name ends
    /// with the callee's.
    fn resolve(
        &self,
        repo: &RepoFacts,
        path: &str,
        facts: &FileFacts,
        scope: usize,
        callee: &str,
    ) -> Option<String> {
        let callee = normalise(callee);
        let key = |name: String| (repo.name.clone(), name);
        if let Some(unit) = self.by_name.get(&key(callee.clone())) {
            return Some(unit.clone());
        }
        let root = facts
            .scopes
            .first()
            .map(|s| s.name.replace("::", "."))
            .unwrap_or_default();
        let last = callee.rsplit('.').next().unwrap_or(&callee).to_string();
        // `self.method`: a method of the caller's class.
        if let Some(method) = callee.strip_prefix("self.") {
            let class = facts
                .scopes
                .get(scope)
                .and_then(|s| s.class)
                .and_then(|c| facts.scopes.get(c));
            if let Some(class) = class {
                let qualified = if root.is_empty() {
                    format!("{}.{method}", class.name)
                } else {
                    format!("{root}.{}.{method}", class.name)
                };
                if let Some(unit) = self.by_name.get(&key(qualified)) {
                    return Some(unit.clone());
                }
            }
        }
        // A function of the same file, by its own name.
        let same_file = facts
            .scopes
            .iter()
            .enumerate()
            .find(|(_, s)| s.kind == ScopeKind::Function && s.name == last)
            .map(|(id, _)| unit_name(facts, id, path));
        if same_file.is_some() {
            return same_file;
        }
        // A unique suffix match.
        let candidates: Vec<&(String, String)> = self
            .by_last
            .get(&key(last))?
            .iter()
            .filter(|(normalised, _)| {
                normalised == &callee || super::ends_after(normalised, b'.', &callee)
            })
            .collect();
        match candidates.as_slice() {
            [(_, unit)] => Some(unit.clone()),
            _ => None,
        }
    }
}

/// `crate::auth::wait` and `auth.wait` name the same thing.
fn normalise(name: &str) -> String {
    name.trim_start_matches("crate::")
        .replace("::", ".")
        .trim_start_matches('.')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::models::Models;

    #[test]
    fn the_last_name_is_what_follows_the_last_dot_or_colon() {
        for (callee, last) in [
            ("wait", "wait"),
            ("self.x.wait", "wait"),
            ("crate::auth::wait", "wait"),
            ("a.b::c", "c"),
            ("ends.", ""),
            ("ends::", ""),
            ("", ""),
            ("é.ü", "ü"),
            ("Dumper()", "Dumper()"),
        ] {
            assert_eq!(last_name(callee), last, "{callee}");
            assert_eq!(
                last_name(callee),
                callee.rsplit(['.', ':']).next().unwrap_or(callee)
            );
        }
    }

    #[test]
    fn only_calls_a_function_or_class_of_the_world_could_answer_are_kept() {
        let models = Models::builtin().unwrap();
        let extract = |path: &str, text: &str| {
            Arc::new(crate::extract::extract(path, text.as_bytes(), &models).unwrap())
        };
        let mut files = [
            extract(
                "app/export.py",
                "import os\nfrom app.auth import wait_for_refresh\n\nclass Exporter:\n    def __init__(self, day):\n        self.path = f'/srv/{day}.csv'\n\ndef run(day):\n    os.path.join('/srv', day)\n    print(day)\n    wait_for_refresh()\n    Exporter(day)\n    helper(day)\n",
            ),
            extract("app/auth.py", "def wait_for_refresh():\n    pass\n"),
            extract(
                "ops/run.sh",
                "#!/bin/bash\nhelper() { rm -f \"$1\"; }\nhelper /tmp/x\nls /tmp\n",
            ),
        ];
        let before: Vec<Vec<String>> = files
            .iter()
            .map(|f| f.calls.iter().map(|c| c.callee.to_string()).collect())
            .collect();
        assert!(before[0].iter().any(|c| c.ends_with("join")), "{before:?}");
        drop_unanswerable_calls(files.iter_mut());
        let kept: Vec<Vec<&str>> = files
            .iter()
            .map(|f| f.calls.iter().map(|c| last_name(&c.callee)).collect())
            .collect();
        assert_eq!(
            kept[0],
            ["wait_for_refresh", "Exporter", "helper"],
            "{before:?}"
        );
        assert_eq!(kept[2], ["helper"], "{before:?}");
        // Facts someone else holds are left whole, never copied.
        let shared = Arc::clone(&files[0]);
        let mut again = [extract("x.py", "import os\nos.getcwd()\n"), shared];
        drop_unanswerable_calls(again.iter_mut());
        assert!(again[0].calls.is_empty());
        assert_eq!(again[1].calls.len(), 3);
    }

    /// A shell function named with a colon (`cleanup:old`) is called by its whole name, which
    /// a call's last name (`old`) does not equal: its calls are kept all the same, and its
    /// parameter takes what they pass.
    #[test]
    fn calls_of_a_function_named_with_a_colon_are_kept_and_bind_its_parameters() {
        let text = "#!/bin/bash\ncleanup:old() {\n  find \"$1\" -name '*.csv' -mtime +3 -delete\n}\ncleanup:old /data/ticker\n";
        let mut repo = crate::resolve::repo_of_texts("ops", &[("bin/clean.sh", text)]);
        drop_unanswerable_calls(repo.files.values_mut());
        let calls: Vec<&str> = repo.files["bin/clean.sh"]
            .calls
            .iter()
            .map(|c| c.callee.as_str())
            .collect();
        assert_eq!(calls, ["cleanup:old"]);
        let resolved = crate::resolve::resolve(&[repo], &BTreeMap::new());
        let shown: Vec<String> = resolved.accesses.iter().map(|a| a.describe()).collect();
        assert!(
            shown.iter().any(|d| d.contains("/data/ticker/")),
            "{shown:?}"
        );
    }

    /// A shell function named with `::` (`cleanup::old`, bash's usual namespacing) binds its
    /// parameters from its calls, in its own file and in a script that sources its library.
    #[test]
    fn a_shell_function_named_with_double_colons_binds_its_parameters() {
        let lib = "cleanup::old() {\n  find \"$1\" -name '*.csv' -mtime +3 -delete\n}\n";
        let own = format!("#!/bin/bash\n{lib}cleanup::old /data/ticker\n");
        let caller =
            "#!/bin/bash\n. \"$(dirname \"$0\")/../lib/cleanup.sh\"\ncleanup::old /data/quotes\n";
        let mut repo = crate::resolve::repo_of_texts(
            "ops",
            &[
                ("bin/clean.sh", own.as_str()),
                ("lib/cleanup.sh", lib),
                ("bin/quotes.sh", caller),
            ],
        );
        drop_unanswerable_calls(repo.files.values_mut());
        let resolved = crate::resolve::resolve(&[repo], &BTreeMap::new());
        let at = |path: &str| -> Vec<String> {
            resolved
                .accesses
                .iter()
                .filter(|a| a.site.path == path)
                .map(|a| a.describe())
                .collect()
        };
        let own = at("bin/clean.sh");
        assert!(own.iter().any(|d| d.contains("/data/ticker/")), "{own:?}");
        let sourced = at("lib/cleanup.sh");
        assert!(
            sourced.iter().any(|d| d.contains("/data/quotes/")),
            "{sourced:?}"
        );
    }

    /// Calls read from the cache stay packed: dropping some would decode them all.
    #[test]
    fn cached_calls_are_left_packed() {
        let models = Models::builtin().unwrap();
        let text = "import os\nos.path.join('/a', 'b')\nprint(1)\n";
        let fresh = crate::extract::extract("x.py", text.as_bytes(), &models).unwrap();
        let cached: FileFacts =
            crate::store::codec::decode(&crate::store::codec::encode(&fresh)).unwrap();
        let mut files = [Arc::new(cached)];
        drop_unanswerable_calls(files.iter_mut());
        assert!(files[0].calls.is_packed());
        assert_eq!(files[0].calls.len(), fresh.calls.len());
    }
}
