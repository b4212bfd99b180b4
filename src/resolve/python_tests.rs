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

#[test]
fn probe() {
    let src = std::fs::read_to_string("/tmp/pf/inst.py").unwrap();
    for a in resolved(&[("app/dicts.py", &src)]) {
        eprintln!("{a}");
    }
    let _ = at;
    panic!();
}
