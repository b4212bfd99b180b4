//! `knockon audit`: standing mismatches of the current state, with no change.
//!
//! Input: directories (repositories, checked out or not) read as one world, the rules and the
//! assumed external producers. Output: the same [`Report`] `check` makes, so every format and
//! exit code works as it does there; each finding's `change` is its impacted site and
//! `stats.audit` is true. A baseline (`--baseline`, `--write-baseline`) filters findings a team
//! has accepted, for `check` and `audit` alike.
//!
//! Hook for an index of facts (issue 13): an audit reads its world with
//! [`crate::app::world_joined`]; a world read from an index instead plugs in there, and the
//! rest of this module takes the [`crate::app::World`] as it is.

use crate::app::{self, Outcome, World};
use crate::baseline::Baseline;
use crate::cli::{AuditArgs, FailOn, OutputArgs};
use crate::config::Config;
use crate::error::Error;
use crate::finding::Location;
use crate::graph::Graph;
use crate::model::{Site, Version};
use crate::report::{self, Report, ReportWarning, Stats};
use crate::rules::assumptions::Assumptions;
use crate::rules::impact::ImpactRules;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// What `knockon audit` is asked.
#[derive(Clone, Debug, Default)]
pub struct AuditRequest {
    pub dirs: Vec<PathBuf>,
    pub rules_dirs: Vec<PathBuf>,
    /// Path globs assumed produced outside the analysed repositories, besides the built-in ones.
    pub assume: Vec<String>,
    pub no_generic: bool,
    /// The fact cache's directory, and whether to use none (`--cache`, `--no-cache`).
    pub cache: crate::cli::CacheArgs,
    /// An index (`knockon index`; a file or `postgres://…`) whose every repository that is not
    /// one of `dirs` joins the world: an audit asks about the whole world, so it reads the whole
    /// index, not the rows a change selects.
    pub index: Option<String>,
}

/// An audit's report, with the rules it ran (renderers describe them) and the unit at each
/// finding's site (baselines record it).
pub struct AuditRun {
    pub report: Report,
    pub rules: ImpactRules,
    pub units: Vec<Option<String>>,
}

/// The assumptions of a run: the built-in list and `--assume` globs.
pub fn assumptions(extra: &[String]) -> Result<Assumptions, Error> {
    let mut assumptions = Assumptions::builtin()?;
    if !extra.is_empty() {
        assumptions.add(
            extra.to_vec(),
            "given with --assume: produced outside the analysed repositories".to_string(),
        );
    }
    Ok(assumptions)
}

/// Reads the world and evaluates the audit rules on it.
pub fn audit(request: &AuditRequest) -> Result<AuditRun, Error> {
    // With an index and no directory, the audit is of the index alone.
    let dirs = if request.dirs.is_empty() && request.index.is_none() {
        vec![PathBuf::from(".")]
    } else {
        request.dirs.clone()
    };
    if let Some(missing) = dirs.iter().find(|d| !d.is_dir()) {
        return Err(Error::Usage(format!(
            "{}: no such directory",
            missing.display()
        )));
    }
    let mut index = match &request.index {
        // An audit never creates an index: a mistyped file name is an error, not an empty world.
        Some(target) if !crate::index::is_postgres(target) && !Path::new(target).is_file() => {
            return Err(Error::Usage(format!(
                "--index {target}: no such index file"
            )));
        }
        Some(target) => Some(crate::index::Index::open(target)?),
        None => None,
    };
    let config = Config::discover(dirs.first().map_or(Path::new("."), PathBuf::as_path))?;
    let (models, mut rules) = app::load_rules(&request.rules_dirs)?;
    config.apply_to(&mut rules)?;
    let assumptions = assumptions(&request.assume)?;
    let generic = !request.no_generic && config.generic;
    let select = |path: &str, bytes: &[u8]| config.reads(path, bytes, request.no_generic);
    let mut cache = crate::store::open(request.cache.cache.as_deref(), request.cache.no_cache)?;
    let keep = |path: &str, is_generic: bool| !config.excludes(path) && (generic || !is_generic);
    let mut indexed = crate::index::build::Indexed::default();
    // Only Python and Rust programs can be read whole (see `env_is_closed`); they are read
    // while the world still holds their text.
    let mut env_closed: Vec<(String, String)> = Vec::new();
    let mut read_source = |repo: &crate::load::ContextRepo| {
        for path in repo.snapshot.files.keys() {
            if !(path.ends_with(".py") || path.ends_with(".rs")) {
                continue;
            }
            // A file an earlier load found is not held: read it again.
            let Some(bytes) = repo.snapshot.bytes_of(path) else {
                continue;
            };
            if crate::impact::audit::env_is_closed(path, &String::from_utf8_lossy(&bytes)) {
                env_closed.push((repo.name.clone(), path.clone()));
            }
        }
    };
    let world = app::world_joined(
        &dirs,
        &models,
        crate::load::Selection {
            select: &select,
            depends_on: &config.selection(request.no_generic),
        },
        &config.env,
        cache.as_mut(),
        |loaded| {
            let Some(index) = index.as_mut() else {
                return Ok(Vec::new());
            };
            // A directory given wins over its indexed copy.
            let excluded = loaded.iter().map(|r| r.name.clone()).collect();
            indexed = crate::index::build::whole_index(index, &excluded, &models, &keep)?;
            Ok(indexed.repos.clone())
        },
        &mut read_source,
    );
    crate::store::print_warnings(cache.as_mut());
    let world = world?;
    let World {
        repos,
        resolved,
        files_analysed,
        skipped,
    } = world;
    let mut warnings: Vec<ReportWarning> = resolved
        .warnings
        .iter()
        .map(|w| ReportWarning {
            repo: w.site.repo.clone(),
            path: w.site.path.clone(),
            line: w.site.line,
            message: w.message.clone(),
        })
        .collect();
    warnings.extend(indexed.stale.iter().map(|repo| {
        ReportWarning {
            repo: repo.clone(),
            path: String::new(),
            line: 1,
            message:
                "indexed with other models than this run's; its facts may differ from what this \
                  run extracts (re-index it)"
                    .to_string(),
        }
    }));
    let mut skipped = skipped;
    for (total, more) in [
        (&mut skipped.binary, indexed.skipped.binary),
        (&mut skipped.vendored, indexed.skipped.vendored),
        (&mut skipped.oversized, indexed.skipped.oversized),
        (&mut skipped.unreadable, indexed.skipped.unreadable),
    ] {
        *total += more;
    }
    warnings.sort_by(|a, b| (&a.repo, &a.path, a.line).cmp(&(&b.repo, &b.path, b.line)));
    let stats = Stats {
        change: "none: an audit of the current state".to_string(),
        repositories: repos.len() + indexed.repos.len(),
        files_analysed,
        files_skipped: skipped,
        accesses: resolved.accesses.len(),
        jobs: resolved.jobs.len(),
        audit: true,
        baseline: None,
        index: indexed.stats(),
    };
    let deltas = crate::change::everything_new(&resolved.accesses, &resolved.sends);
    let graph = Graph::build(resolved);
    let quoter = crate::load::Quoter::new(&repos);
    let line = |site: &Site| -> Option<String> {
        if quoter.has_repo(&site.repo) {
            return quoter.line(&site.repo, &site.path, site.line);
        }
        // An indexed repository: the lines stored with its facts.
        indexed
            .lines
            .get(&(site.repo.clone(), site.path.clone()))?
            .get(&site.line)
            .cloned()
    };
    let excerpts = |site: &Site, _: Version| line(site);
    // An indexed repository's files are those knockon extracted (its unread files are not
    // stored).
    let mut files = crate::impact::audit::WorldFiles::new(
        repos
            .iter()
            .flat_map(|r| {
                r.snapshot
                    .files
                    .keys()
                    .chain(&r.snapshot.unread)
                    .map(String::as_str)
            })
            .chain(
                indexed
                    .repos
                    .iter()
                    .flat_map(|r| r.files.keys().map(String::as_str)),
            ),
    );
    for (repo, path) in env_closed {
        files.mark_env_closed(repo, path);
    }
    let findings =
        crate::impact::audit::evaluate(&deltas, &graph, &rules, &assumptions, &files, &excerpts);
    let read_line = |location: &Location, _changed: bool, n: u32| {
        line(&Site {
            repo: location.repo.clone(),
            path: location.path.clone(),
            line: n,
        })
    };
    let findings = crate::suppress::apply(findings, &read_line, &[]);
    let units = findings
        .iter()
        .map(|f| {
            graph
                .accesses
                .iter()
                .find(|a| {
                    (&a.site.repo, &a.site.path, a.site.line)
                        == (&f.impacted.repo, &f.impacted.path, f.impacted.line)
                })
                .map(|a| a.unit.clone())
        })
        .collect();
    Ok(AuditRun {
        report: Report {
            findings,
            stats,
            warnings,
            config_fail_on: config.fail_on.clone(),
        },
        rules,
        units,
    })
}

/// The command line's `knockon audit`.
pub fn run(args: &AuditArgs) -> anyhow::Result<Outcome> {
    if args.explain_assumptions {
        return Ok(Outcome {
            output: assumptions(&args.assume)?.describe(),
            exit_code: crate::exit_codes::CLEAN,
        });
    }
    let request = AuditRequest {
        dirs: args.dirs.clone(),
        rules_dirs: args.rules.clone(),
        assume: args.assume.clone(),
        no_generic: args.no_generic,
        cache: args.cache.clone(),
        index: args.index.clone(),
    };
    let AuditRun {
        mut report,
        rules,
        units,
    } = audit(&request)?;
    apply_baseline(
        &mut report,
        args.output.baseline.as_deref(),
        args.output.write_baseline.as_deref(),
        &units,
    )?;
    Ok(render(&report, &rules, &args.output))
}

/// `--write-baseline FILE` records every finding of the run (with the unit at each impacted
/// site, when known); then `--baseline FILE` leaves out those it records. For `check` and
/// `audit` alike.
pub fn apply_baseline(
    report: &mut Report,
    baseline: Option<&Path>,
    write: Option<&Path>,
    units: &[Option<String>],
) -> anyhow::Result<()> {
    if let Some(path) = write {
        write_baseline(path, &Baseline::of(&report.findings, units))?;
    }
    if let Some(path) = baseline {
        filter_by_baseline(report, path)?;
    }
    Ok(())
}

fn write_baseline(path: &Path, baseline: &Baseline) -> anyhow::Result<()> {
    std::fs::write(path, baseline.to_json())
        .with_context(|| format!("cannot write the baseline {}", path.display()))
}

fn filter_by_baseline(report: &mut Report, path: &Path) -> anyhow::Result<()> {
    let bytes = match crate::load::read_regular_file(path, 64 * crate::load::MAX_FILE_BYTES) {
        Ok(crate::load::Regular::Bytes(bytes)) => bytes,
        Ok(_) => anyhow::bail!(
            "cannot read the baseline {}: not a regular file of at most 64 MiB",
            path.display()
        ),
        Err(e) => anyhow::bail!("cannot read the baseline {}: {e}", path.display()),
    };
    let baseline = Baseline::parse(&String::from_utf8_lossy(&bytes))
        .with_context(|| format!("baseline {}", path.display()))?;
    let findings = std::mem::take(&mut report.findings);
    let (kept, stats) = baseline.apply(findings);
    report.findings = kept;
    report.stats.baseline = Some(stats);
    Ok(())
}

/// The report in the asked format, and the exit code `check` would give it.
fn render(report: &Report, rules: &ImpactRules, output: &OutputArgs) -> Outcome {
    let color = output.color.enabled(
        std::io::IsTerminal::is_terminal(&std::io::stdout()),
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
    );
    let options = report::RenderOptions { rules, color };
    let fail_on = output.fail_on.or(match report.config_fail_on.as_deref() {
        Some("error") => Some(FailOn::Error),
        Some("info") => Some(FailOn::Info),
        Some("never") => Some(FailOn::Never),
        Some("warning") => Some(FailOn::Warning),
        _ => None,
    });
    Outcome {
        output: report::render(report, output.format, &options),
        exit_code: app::exit_code(report, fail_on.unwrap_or(FailOn::Warning)),
    }
}
