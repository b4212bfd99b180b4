//! The sharded ticker incident of DESIGN.md, end to end.
//!
//! Builds the scenario `testdata/scenarios/sharded-ticker.scenario` as three real git repositories
//! under `target/demo/` (the loader with its change committed, and two context repositories),
//! prints the `knockon check` command line for it, and runs exactly that command.
//!
//!     cargo run --example sharded_ticker            # text report
//!     cargo run --example sharded_ticker -- json    # any --format value
//!     cargo run --example sharded_ticker -- audit   # `knockon audit` of the three repositories
//!                                                   # as they are after the change (text)

use clap::Parser;
use knockon::scenario::Scenario;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("sharded_ticker: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<u8> {
    let format = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "text".to_string());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("testdata/scenarios/sharded-ticker.scenario"))?;
    let scenario = Scenario::parse(&text)?;
    let demo = root.join("target/demo/sharded-ticker");
    if demo.exists() {
        std::fs::remove_dir_all(&demo)?;
    }
    std::fs::create_dir_all(&demo)?;
    let built = scenario.build(&demo)?;
    if format == "audit" {
        // No change: the standing mismatches the merged change left in the three repositories.
        let mut args: Vec<String> = vec!["knockon".into(), "audit".into()];
        args.push(built.changed_repo.display().to_string());
        args.extend(built.context.iter().map(|c| c.display().to_string()));
        eprintln!("$ {}\n", args.join(" "));
        let cli = knockon::cli::Cli::try_parse_from(&args)?;
        let outcome = knockon::app::run(&cli)?;
        print!("{}", outcome.output);
        eprintln!("(exit code {})", outcome.exit_code);
        return Ok(outcome.exit_code);
    }
    let mut args: Vec<String> = vec![
        "knockon".into(),
        "check".into(),
        "--repo".into(),
        built.changed_repo.display().to_string(),
        "--base".into(),
        "HEAD~1".into(),
        "--head".into(),
        "HEAD".into(),
    ];
    for context in &built.context {
        args.push("--context".into());
        args.push(context.display().to_string());
    }
    args.push("--format".into());
    args.push(format);
    eprintln!("{}\n", scenario.description);
    eprintln!("$ {}\n", args.join(" "));
    let cli = knockon::cli::Cli::try_parse_from(&args)?;
    let outcome = knockon::app::run(&cli)?;
    print!("{}", outcome.output);
    eprintln!("(exit code {})", outcome.exit_code);
    Ok(outcome.exit_code)
}
