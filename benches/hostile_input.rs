//! Benchmark: hostile and oversized input (issue 9, item 6).
//!
//!     cargo bench --bench hostile_input                  # every input at the audit's size
//!     cargo bench --bench hostile_input -- fstring join   # inputs whose name contains a word
//!     cargo bench --bench hostile_input -- --write DIR    # also write the files to DIR
//!     cargo bench --bench hostile_input -- --rules        # only rule and model loading
//!
//! For each generated file (`benches/hostile/inputs.rs`) it times the extraction of the file
//! alone (what `knockon facts FILE` does) and a whole `check` of a repository whose head commit
//! adds the file (load, extract, resolve, change, impact). A file over the loader's size limit
//! is skipped by `check`, so the check uses the largest count whose file fits. Then it times
//! loading 20k impact rules and 50k model rows per language from a `--rules` directory, and
//! extracting a file of many calls against those large tables.
//!
//! Every stage must stay near-linear: each line should take well under a few seconds.

#[path = "hostile/inputs.rs"]
mod inputs;

use knockon::app::{CheckRequest, check, load_rules};
use knockon::extract::extract;
use knockon::load::{ChangeSpec, MAX_FILE_BYTES};
use knockon::scenario::{Scenario, ScenarioRepo};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let write_to = args
        .iter()
        .position(|a| a == "--write")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let rules_only = args.iter().any(|a| a == "--rules");
    let words: Vec<&String> = args
        .iter()
        .filter(|a| !a.starts_with("--") && Some(PathBuf::from(a.as_str())) != write_to)
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-hostile");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("create bench dir");
    if !rules_only {
        inputs_bench(&root, &words, write_to.as_deref());
    }
    if words.is_empty() || rules_only {
        rules_bench(&root);
    }
}

fn inputs_bench(root: &Path, words: &[&String], write_to: Option<&Path>) {
    let (models, _) = load_rules(&[]).expect("built-in rules");
    println!(
        "{:<30} {:>9} {:>9} {:>7} {:>5} | {:>9} {:>9} {:>5}",
        "input", "bytes", "extract", "facts", "warn", "chk bytes", "check", "warn"
    );
    for generator in inputs::all() {
        if !words.is_empty() && !words.iter().any(|w| generator.name.contains(w.as_str())) {
            continue;
        }
        let input = generator.generate(generator.count);
        let bytes = input.text.len();
        if let Some(dir) = write_to {
            let path = dir.join(input.path.rsplit('/').next().unwrap_or(input.path));
            std::fs::create_dir_all(dir).expect("create output dir");
            std::fs::write(&path, &input.text).expect("write input");
        }
        let started = Instant::now();
        let facts = extract(input.path, input.text.as_bytes(), &models);
        let extract_secs = started.elapsed().as_secs_f64();
        let (fact_count, warnings) = facts.as_ref().map_or((0, 0), |f| {
            (
                f.accesses.len() + f.bindings.len() + f.runs.len() + f.calls.len(),
                f.warnings.len(),
            )
        });
        // The largest count whose file the loader reads.
        let mut count = generator.count;
        let mut fitting = input.text;
        while fitting.len() as u64 > MAX_FILE_BYTES && count > 1 {
            count = count * 9 / 10;
            fitting = generator.generate(count).text;
        }
        let dir = root.join(generator.name);
        let (check_secs, check_warnings) = time_check(&dir, input.path, &fitting);
        println!(
            "{:<30} {:>9} {:>8.2}s {:>7} {:>5} | {:>9} {:>8.2}s {:>5}",
            generator.name,
            bytes,
            extract_secs,
            fact_count,
            warnings,
            fitting.len(),
            check_secs,
            check_warnings
        );
    }
}

/// Builds a repository whose head commit adds the file and times one check of it.
fn time_check(dir: &Path, path: &str, text: &str) -> (f64, usize) {
    let mut repo = ScenarioRepo {
        name: "hostile".into(),
        changed: true,
        ..Default::default()
    };
    repo.base.insert("README".into(), "x\n".into());
    repo.head = repo.base.clone();
    repo.head.insert(path.into(), text.into());
    let scenario = Scenario {
        description: "one hostile file added".into(),
        repos: vec![repo],
        expected: Vec::new(),
        audit: false,
    };
    let built = scenario.build(dir).expect("build repository");
    let request = CheckRequest {
        repo: built.changed_repo.clone(),
        change: ChangeSpec::Revisions {
            base: built.base.clone(),
            head: Some(built.head.clone()),
        },
        context: Vec::new(),
        rules_dirs: Vec::new(),
        no_generic: false,
    };
    let started = Instant::now();
    let report = check(&request).expect("check");
    (started.elapsed().as_secs_f64(), report.warnings.len())
}

/// A generator of a rule or model file of a number of rows.
type Make = fn(usize) -> String;

fn rules_bench(root: &Path) {
    println!();
    println!("{:<36} {:>9} {:>9}", "rules", "bytes", "load");
    let tables: [(&str, usize, Make); 5] = [
        ("impact rules", 20_000, inputs::impact_rules),
        ("python model rows", 50_000, inputs::python_rows),
        ("bash model rows", 50_000, inputs::bash_rows),
        ("rust model rows", 50_000, inputs::rust_rows),
        ("config key rows", 50_000, inputs::config_rows),
    ];
    for (what, count, make) in tables {
        let dir = root.join("rules").join(what.replace(' ', "-"));
        std::fs::create_dir_all(&dir).expect("rules dir");
        let text = make(count);
        std::fs::write(dir.join("generated.toml"), &text).expect("write rules");
        let started = Instant::now();
        let loaded = load_rules(std::slice::from_ref(&dir));
        let secs = started.elapsed().as_secs_f64();
        if let Err(e) = &loaded {
            println!("{what}: {e}");
            continue;
        }
        println!(
            "{:<36} {:>9} {:>8.2}s",
            format!("{count} {what}"),
            text.len(),
            secs
        );
        // Row selection: a file of many calls (or keys) against the large table.
        let Ok((models, _)) = loaded else { continue };
        let file = match what {
            "python model rows" => Some(("calls.py", python_calls(10_000))),
            "bash model rows" => Some(("calls.sh", bash_calls(10_000))),
            "rust model rows" => Some(("calls.rs", rust_calls(10_000))),
            "config key rows" => Some(("app.ini", ini_keys(10_000))),
            _ => None,
        };
        if let Some((path, text)) = file {
            let started = Instant::now();
            let facts = extract(path, text.as_bytes(), &models);
            println!(
                "{:<36} {:>9} {:>8.2}s  ({} accesses)",
                format!("  extract {path} against them"),
                text.len(),
                started.elapsed().as_secs_f64(),
                facts.map_or(0, |f| f.accesses.len())
            );
        }
    }
}

fn python_calls(count: usize) -> String {
    (0..count)
        .map(|i| format!("open('/d{i}'); x.m{i}('/e'); genmod{i}.write_{i}('/f')\n"))
        .collect()
}

fn bash_calls(count: usize) -> String {
    let mut text = String::from("#!/bin/bash\n");
    text.extend((0..count).map(|i| format!("rm /d{i}; gencmd{i} /e{i}\n")));
    text
}

fn rust_calls(count: usize) -> String {
    let mut text = String::from("use std::fs;\nfn main() {\n");
    text.extend(
        (0..count).map(|i| format!("    fs::write(\"/d{i}\", b\"x\"); foo::bar{i}(\"/e\");\n")),
    );
    text.push_str("}\n");
    text
}

fn ini_keys(count: usize) -> String {
    let mut text = String::from("[main]\n");
    text.extend((0..count).map(|i| format!("key_{i}_log = /var/log/k{i}.log\n")));
    text
}
