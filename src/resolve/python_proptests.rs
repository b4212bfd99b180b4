//! Property tests of resolution over random Python call graphs: functions that pass their
//! parameters to each other, recurse (directly and mutually), return each other's calls, read a
//! module dict and call each other through `functools.partial`. Resolution must terminate,
//! give the same result twice, and — where no bound is reached — not depend on the order in
//! which the functions are defined.

use super::*;
use crate::rules::models::Models;
use proptest::prelude::*;

static MODELS: std::sync::LazyLock<Models> =
    std::sync::LazyLock::new(|| Models::builtin().expect("built-in models load"));

/// Functions per generated program.
const MAX_FUNCTIONS: usize = 5;

#[derive(Clone, Debug)]
enum Arg {
    /// Parameter `a` or `b`.
    Param(u8),
    Lit(u8),
    /// `f{j}(a, "/srv/c")`: what another function returns.
    Call(u8),
    /// `CFG["k{i}"]`.
    Entry(u8),
}

#[derive(Clone, Debug)]
enum Stmt {
    Write(Arg),
    Call(u8, Arg, Arg),
    Return(Arg),
    /// `p = functools.partial(f{j}, arg)` then `p("/srv/q")`.
    Partial(u8, Arg),
}

fn arg() -> impl Strategy<Value = Arg> {
    prop_oneof![
        (0u8..2).prop_map(Arg::Param),
        (0u8..3).prop_map(Arg::Lit),
        (0u8..MAX_FUNCTIONS as u8).prop_map(Arg::Call),
        (0u8..3).prop_map(Arg::Entry),
    ]
}

fn stmt() -> impl Strategy<Value = Stmt> {
    prop_oneof![
        arg().prop_map(Stmt::Write),
        (0u8..MAX_FUNCTIONS as u8, arg(), arg()).prop_map(|(j, a, b)| Stmt::Call(j, a, b)),
        arg().prop_map(Stmt::Return),
        (0u8..MAX_FUNCTIONS as u8, arg()).prop_map(|(j, a)| Stmt::Partial(j, a)),
    ]
}

fn program() -> impl Strategy<Value = Vec<Vec<Stmt>>> {
    prop::collection::vec(prop::collection::vec(stmt(), 1..4), 1..=MAX_FUNCTIONS)
}

fn render_arg(arg: &Arg, n: usize) -> String {
    match arg {
        Arg::Param(i) => ["a", "b"][usize::from(*i) % 2].to_string(),
        Arg::Lit(i) => format!("\"/srv/d{i}\""),
        Arg::Call(j) => format!("f{}(a, \"/srv/c\")", usize::from(*j) % n),
        // `k2` is not in the dict: its `.get` default, or an unknown entry.
        Arg::Entry(i) => format!("CFG.get(\"k{i}\", \"/srv/default\")"),
    }
}

/// The program's source with its functions in `order`.
fn render(functions: &[Vec<Stmt>], order: &[usize]) -> String {
    let n = functions.len();
    let mut out = String::from(
        "import os\nimport functools\nCFG = {\"k0\": \"/srv/e0\", \"k1\": \"/srv/e1\"}\n",
    );
    for &i in order {
        out.push_str(&format!("def f{i}(a, b):\n"));
        for stmt in &functions[i] {
            let line = match stmt {
                Stmt::Write(x) => format!(
                    "    open(os.path.join({}, \"out{i}.csv\"), \"w\")\n",
                    render_arg(x, n)
                ),
                Stmt::Call(j, x, y) => format!(
                    "    f{}({}, {})\n",
                    usize::from(*j) % n,
                    render_arg(x, n),
                    render_arg(y, n)
                ),
                Stmt::Return(x) => {
                    format!("    return os.path.join({}, \"r\")\n", render_arg(x, n))
                }
                Stmt::Partial(j, x) => format!(
                    "    p = functools.partial(f{}, {})\n    p(\"/srv/q\")\n",
                    usize::from(*j) % n,
                    render_arg(x, n)
                ),
            };
            out.push_str(&line);
        }
    }
    out.push_str("f0(\"/srv/root\", \"/srv/r2\")\n");
    out
}

/// The world of one file, `app/graph.py` of repository `app`.
fn world(src: &str) -> Vec<RepoFacts> {
    let facts = crate::extract::extract("app/graph.py", src.as_bytes(), &MODELS)
        .expect("a Python file is extracted");
    vec![RepoFacts {
        name: "app".into(),
        files: BTreeMap::from([("app/graph.py".to_string(), Arc::new(facts))]),
    }]
}

/// Every path access as (unit, mode, sorted pattern displays, sorted notes), sorted: what
/// resolution concluded, without the lines (which move with the order of definitions).
fn outcome(src: &str) -> Vec<(String, String, Vec<String>, Vec<String>)> {
    let resolved = resolve(&world(src), &BTreeMap::new());
    let mut out: Vec<_> = resolved
        .accesses
        .iter()
        .filter_map(|a| {
            let set = a.resource.as_path()?;
            let mut patterns: Vec<String> = set.patterns.iter().map(|p| p.display()).collect();
            patterns.sort();
            patterns.dedup();
            let mut notes = a.notes.clone();
            notes.sort();
            Some((a.unit.clone(), a.mode.to_string(), patterns, notes))
        })
        .collect();
    out.sort();
    out
}

/// Whether resolution reached one of its bounds (then which values are kept may depend on
/// the order in which they were met).
fn bounded(outcome: &[(String, String, Vec<String>, Vec<String>)]) -> bool {
    outcome.iter().any(|(_, _, patterns, notes)| {
        notes.iter().any(|n| n.contains("too many steps"))
            || patterns.iter().any(|p| p.contains('…'))
    })
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(32), ..ProptestConfig::default() })]

    /// Resolution of a random call graph with cycles terminates, is deterministic, and does
    /// not depend on the order of the definitions unless a bound was reached.
    #[test]
    fn call_graphs_resolve_deterministically(functions in program()) {
        let order: Vec<usize> = (0..functions.len()).collect();
        let src = render(&functions, &order);
        let first = outcome(&src);
        let second = outcome(&src);
        prop_assert_eq!(&first, &second, "not deterministic:\n{}", src);
        let reversed: Vec<usize> = order.iter().rev().copied().collect();
        let other_src = render(&functions, &reversed);
        let other = outcome(&other_src);
        if !bounded(&first) && !bounded(&other) {
            prop_assert_eq!(&first, &other, "order matters:\n{}\n---\n{}", src, other_src);
        }
    }
}

/// Everything resolution says of every access — patterns, notes, origins in order — as JSON,
/// with or without the evaluation memo.
fn everything(src: &str, memo: bool) -> String {
    let repos = world(src);
    let lookup = if memo {
        Lookup::new(&repos)
    } else {
        Lookup::without_memo(&repos)
    };
    let resolved = resolve_with(lookup, &BTreeMap::new(), None, None).resolved;
    serde_json::to_string_pretty(&resolved.accesses).unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    /// The evaluation memo changes no answer, note or origin, bounds reached or not: random
    /// call graphs with cycles reach the same functions along many paths and at many depths.
    #[test]
    fn remembered_values_are_the_values_evaluated_again(functions in program()) {
        let order: Vec<usize> = (0..functions.len()).collect();
        let src = render(&functions, &order);
        prop_assert_eq!(everything(&src, true), everything(&src, false), "{}", src);
    }
}

/// A chain of callers deeper than the evaluation's depth bound, entered at several levels, so
/// that the same names are evaluated from several depths and the bound cuts some of those
/// evaluations and not others: remembered or not, the same values, notes and origins.
#[test]
fn values_cut_by_the_depth_bound_are_remembered_as_cut() {
    let mut src = String::from("import os\nROOT = '/srv'\nSUB = os.path.join(ROOT, 'data')\n");
    src.push_str("def f0(p, q):\n    open(os.path.join(p, 'out.csv'), 'w')\n");
    for level in 1..40 {
        let below = level - 1;
        src.push_str(&format!(
            "def f{level}(p, q):\n    f{below}(os.path.join(p, 'x{level}'), SUB)\n"
        ));
    }
    src.push_str("f39(ROOT, SUB)\nf20('/tmp', 'mid')\nf3(SUB, 'low')\n");
    let remembered = everything(&src, true);
    assert!(
        remembered.contains("/srv/data/x3/x2/x1/out.csv"),
        "{remembered}"
    );
    assert!(!remembered.contains("too many steps"), "{remembered}");
    assert_eq!(remembered, everything(&src, false));
}

/// A name reached first deep inside another value, where the depth bound cuts it, then near
/// the top of the same value, where it is whole: what the cut evaluation found must not stand
/// for the whole one. And the other way round (the second access): what was whole near the
/// top must not stand for the evaluation deep down, which the bound cuts.
#[test]
fn a_value_cut_deep_down_is_not_reused_near_the_top() {
    let mut src = String::from("import os\nS0 = '/srv'\n");
    for k in 1..=8 {
        src.push_str(&format!("S{k} = S{} + '/s{k}'\n", k - 1));
    }
    src.push_str("B1 = S8\n");
    for k in 2..=12 {
        src.push_str(&format!("B{k} = B{}\n", k - 1));
    }
    src.push_str("open(os.path.join(B12, S8), 'w')\nopen(os.path.join(S8, B12), 'r')\n");
    let remembered = everything(&src, true);
    assert!(
        remembered.contains("/srv/s1/s2/s3/s4/s5/s6/s7/s8"),
        "{remembered}"
    );
    assert_eq!(remembered, everything(&src, false));
}

/// Self-recursion and mutual recursion through parameters, returns and partials end.
#[test]
fn recursion_through_parameters_returns_and_partials_ends() {
    let src = r#"import os
import functools
def f(a, b):
    open(os.path.join(a, "x.csv"), "w")
    f(b, a)
    g(f(a, b), "/srv/g")
    return os.path.join(g(b, a), "r")
def g(a, b):
    p = functools.partial(f, g(a, b))
    p(a)
    return f(b, a)
f("/srv/root", "/srv/other")
"#;
    let first = outcome(src);
    assert_eq!(first, outcome(src));
    assert!(!first.is_empty());
}
