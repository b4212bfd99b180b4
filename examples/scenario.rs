//! Builds any scenario file as git repositories and runs `knockon check` on it: a tool for
//! writing test data and rules.
//!
//!     cargo run --example scenario -- testdata/scenarios/completion-marker.scenario [--format json]
//!     cargo run --example scenario -- rule:path.cleanup-misses-new-outputs:1   # a rule's example

use clap::Parser;
use knockon::scenario::Scenario;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: scenario FILE [knockon check flags...]");
        return ExitCode::from(2);
    };
    let extra: Vec<String> = args.collect();
    match run(&path, &extra) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("scenario: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(path: &str, extra: &[String]) -> anyhow::Result<u8> {
    let text = match path.strip_prefix("rule:") {
        Some(spec) => {
            let (id, index) = spec.rsplit_once(':').unwrap_or((spec, "1"));
            let index: usize = index.parse()?;
            let rules = knockon::rules::impact::ImpactRules::builtin()?;
            let rule = rules
                .get(id)
                .ok_or_else(|| anyhow::anyhow!("no rule {id}"))?;
            rule.examples
                .get(index.saturating_sub(1))
                .ok_or_else(|| anyhow::anyhow!("{id} has no example {index}"))?
                .scenario
                .clone()
        }
        None => std::fs::read_to_string(path)?,
    };
    let scenario = Scenario::parse(&text)?;
    let dir = tempfile::tempdir()?;
    let built = scenario.build(dir.path())?;
    let mut args: Vec<String> = vec![
        "knockon".into(),
        "check".into(),
        "--repo".into(),
        built.changed_repo.display().to_string(),
        "--base".into(),
        built.base.clone(),
        "--head".into(),
        built.head.clone(),
    ];
    for context in &built.context {
        args.push("--context".into());
        args.push(context.display().to_string());
    }
    args.extend(extra.iter().cloned());
    let cli = knockon::cli::Cli::try_parse_from(&args)?;
    let outcome = knockon::app::run(&cli)?;
    print!("{}", outcome.output);
    for e in &scenario.expected {
        eprintln!(
            "expected: {:?} {} {}/{}:{}",
            e.kind, e.rule, e.repo, e.path, e.line
        );
    }
    Ok(outcome.exit_code)
}
