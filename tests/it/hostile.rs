//! Hostile and oversized input (issue 9, item 6): the files of the hostile-input audit, which
//! once stalled a check for minutes or aborted it, are read with bounded work. The generators
//! are those of the `hostile_input` benchmark, which times them at the audit's sizes; here they
//! run at a tenth of that (a debug build is slow) and the tests assert what bounds the work:
//! every recorded expression is bounded, deep input yields a warning, a budget stops reading.

#[path = "../../benches/hostile/inputs.rs"]
mod inputs;

use knockon::app::{load_rules, who};
use knockon::expr::Expr;
use knockon::extract::{FileFacts, RawResource, Reach, RunTarget, SendKind, TriggerKind, extract};
use knockon::rules::models::Models;

fn models() -> Models {
    load_rules(&[]).expect("built-in rules load").0
}

/// Every expression a file's facts record.
fn exprs(facts: &FileFacts) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = facts.bindings.iter().map(|b| &*b.value).collect();
    for access in &facts.accesses {
        match &access.resource {
            RawResource::Path(target) => {
                out.push(&target.expr);
                if let Reach::Find(spec) = &target.reach {
                    out.extend(spec.names.iter().chain(&spec.paths));
                }
            }
            RawResource::Env(target) => {
                out.extend(std::iter::once(&target.name).chain(&target.value))
            }
            RawResource::Secret(target) => out.push(&target.id),
            RawResource::Queue(target) => out.extend(
                std::iter::once(&target.name)
                    .chain(&target.exchange)
                    .chain(&target.bound_queue),
            ),
        }
    }
    for run in &facts.runs {
        if let RunTarget::Path { expr } = &run.target {
            out.push(expr);
        }
    }
    for trigger in &facts.triggers {
        if let TriggerKind::WatchFile { path } = &trigger.kind {
            out.push(path);
        }
    }
    for send in &facts.sends {
        match &send.kind {
            SendKind::Signal { target, .. } => out.push(target),
            SendKind::Http { url, .. } => out.push(url),
        }
    }
    out
}

fn facts_of(input: &inputs::Input, models: &Models) -> FileFacts {
    extract(input.path, input.text.as_bytes(), models)
        .unwrap_or_else(|| panic!("{}: not read as a language knockon reads", input.name))
}

#[test]
fn every_hostile_input_is_read_into_bounded_expressions() {
    let models = models();
    for generator in inputs::all() {
        // Small counts (nesting levels, doubling names) are hostile as they are.
        let count = if generator.count > 1000 {
            generator.count / 10
        } else {
            generator.count
        };
        let input = generator.generate(count);
        let facts = facts_of(&input, &models);
        for expr in exprs(&facts) {
            assert!(expr.is_bounded(), "{}: unbounded {expr:?}", input.name);
        }
    }
}

#[test]
fn long_concatenations_keep_their_ends_and_lose_their_middle() {
    let models = models();
    let facts = facts_of(&inputs::all_named("py-concat-20k").generate(2000), &models);
    let Some(Expr::Concat { parts }) = facts.bindings.first().map(|b| &*b.value) else {
        panic!("a concatenation: {:?}", facts.bindings.first());
    };
    assert!(parts.len() <= knockon::expr::bounds::MAX_PARTS);
    assert!(parts.contains(&Expr::path_hole("…")), "{parts:?}");
    let last = parts.last().expect("parts");
    assert!(
        matches!(last, Expr::Var { name, .. } if name == "b1999"),
        "{last:?}"
    );
}

#[test]
fn deeply_indented_python_is_cut_with_a_warning_instead_of_aborting() {
    let models = models();
    let facts = facts_of(&inputs::all_named("py-indented-600").generate(600), &models);
    assert!(
        facts
            .warnings
            .iter()
            .any(|w| w.message.contains("indented more than") && w.message.contains("not read")),
        "{:?}",
        facts.warnings
    );
}

#[test]
fn deeply_nested_input_is_skipped_with_a_warning() {
    let models = models();
    for name in [
        "py-parens-100k",
        "sh-parens-100k",
        "rs-parens-100k",
        "sh-nested-defaults-1mib",
    ] {
        let generator = inputs::all_named(name);
        let facts = facts_of(&generator.generate(generator.count / 10), &models);
        assert!(
            facts.warnings.iter().any(|w| w.message.contains("nested")),
            "{name}: {:?}",
            facts.warnings
        );
    }
}

/// The f-string of the audit, resolved: one bounded pattern that still starts where the
/// f-string does, and a note that part of it is unknown.
#[test]
fn a_huge_f_string_resolves_to_a_bounded_pattern() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = inputs::all_named("py-fstring-180k").generate(18_000);
    std::fs::write(dir.path().join("fstring.py"), &input.text).expect("write input");
    let audit = who("/**", &[dir.path().to_path_buf()], &[]).expect("who");
    let [entry] = audit.entries.as_slice() else {
        panic!("one access: {:?}", audit.entries.len());
    };
    assert!(
        entry.resource.starts_with("/data/lit0/{x0}lit1/"),
        "{}",
        entry.resource
    );
    assert!(entry.resource.contains('…'), "{}", entry.resource);
    assert!(
        entry.resource.len() < 8192,
        "{} bytes",
        entry.resource.len()
    );
}

/// Thousands of rules and model rows load (with the maps that replaced linear searches), and
/// a row of a later file still replaces the row of an earlier one in place.
#[test]
fn thousands_of_rules_and_model_rows_load() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = [
        ("impact.toml", inputs::impact_rules(2000)),
        ("python.toml", inputs::python_rows(5000)),
        ("bash.toml", inputs::bash_rows(5000)),
        ("rust.toml", inputs::rust_rows(5000)),
        ("config.toml", inputs::config_rows(5000)),
        // Sorted after impact.toml: replaces one of its rules.
        (
            "impact2.toml",
            inputs::impact_rules(1).replace("generated 0", "replaced"),
        ),
    ];
    for (name, text) in &files {
        std::fs::write(dir.path().join(name), text).expect("write rules");
    }
    let (models, rules) = load_rules(&[dir.path().to_path_buf()]).expect("rules load");
    let builtin = load_rules(&[]).expect("built-in").1.rules.len();
    assert_eq!(rules.rules.len(), builtin + 2000);
    let replaced = rules.get("gen.rule-0").expect("rule 0");
    assert_eq!(replaced.title, "replaced");
    let position = |id: &str| rules.rules.iter().position(|r| r.id == id);
    assert!(position("gen.rule-0") < position("gen.rule-1"));
    assert!(models.python.function("genmod4999.write_4999").is_some());
    assert!(models.python.function("genmod4998.write_4998").is_none());
    assert!(models.python.methods("m4998").next().is_some());
    assert!(models.bash.command("gencmd4999").is_some());
    assert!(models.rust.function("gen4999::fs::write_4999").is_some());
    assert!(
        models.rust.function("fs::write_4999").is_some(),
        "by suffix"
    );
    assert!(models.config.key("x.ini", "a_gen4999").is_some());
    assert!(models.config.key("x.ini", "genkey4996").is_some());
    assert!(models.config.key("x.ini", "genkey4997").is_none());
    // Rows limited to files apply only there.
    assert!(models.config.key("x.ini", "genkey4998").is_none());
    assert!(models.config.key("my-gen4998.ini", "genkey4998").is_some());
}
