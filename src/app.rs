//! The `check` command end to end: load -> extract -> resolve -> graph -> change -> impact ->
//! report. [`check`] is the library entry the tests drive in-process; [`run`] adds the CLI edge
//! (reading the diff, choosing the format, the exit code).

use crate::change;
use crate::cli::{CheckArgs, Cli, Command, FactsArgs, FailOn, IndexArgs, WhoArgs, WhoFormat};
use crate::config::Config;
use crate::error::Error;
use crate::exit_codes;
use crate::extract::{self, FileFacts, Language};
use crate::finding::Location;
use crate::finding::Severity;
use crate::graph::Graph;
use crate::impact::{self, Version};
use crate::load::{self, ChangeSpec, FileContent, Snapshot, Workspace};
use crate::model::Site;
use crate::report::audit::{Audit, AuditEntry};
use crate::report::{self, Report, ReportWarning, Stats};
use crate::resolve::{self, RepoFacts, Resolved};
use crate::rules::RulesError;
use crate::rules::impact::ImpactRules;
use crate::rules::models::Models;
use crate::store::{self, Cache};
use crate::suppress;
use anyhow::Context;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What `knockon check` is asked.
#[derive(Clone, Debug)]
pub struct CheckRequest {
    pub repo: PathBuf,
    pub change: ChangeSpec,
    pub context: Vec<PathBuf>,
    pub rules_dirs: Vec<PathBuf>,
    /// Skip the generic fallback for languages knockon does not parse.
    pub no_generic: bool,
}

/// The rendered output and the exit code for it.
pub struct Outcome {
    pub output: String,
    pub exit_code: u8,
}

/// Runs the command line.
pub fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    match &cli.command {
        Command::Check(args) => run_check(args),
        Command::Who(args) => run_who(args),
        Command::Facts(args) => run_facts(args),
        Command::Index(args) => run_index(args),
        Command::Rules(args) => crate::inventory::run_rules(args),
        Command::Models(args) => crate::inventory::run_models(args),
        Command::Graph(args) => crate::report::graph::run(args),
        Command::Cache(args) => Ok(Outcome {
            output: crate::store::command::run(args)?,
            exit_code: exit_codes::CLEAN,
        }),
        Command::Audit(args) => crate::audit::run(args),
    }
}

fn run_index(args: &IndexArgs) -> anyhow::Result<Outcome> {
    let dirs = if args.dirs.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.dirs.clone()
    };
    let (models, _) = load_rules(&args.rules)?;
    let output = match (&args.out, &args.index, args.publish) {
        (Some(out), _, _) => crate::index::write_file(out, &dirs, &models)?,
        (None, Some(target), true) => crate::index::publish(target, &dirs, &models)?,
        _ => {
            return Err(Error::Usage(
                "give --out FILE, or --publish with --index FILE|URL (or KNOCKON_INDEX)".into(),
            )
            .into());
        }
    };
    Ok(Outcome {
        output,
        exit_code: exit_codes::CLEAN,
    })
}

fn run_facts(args: &FactsArgs) -> anyhow::Result<Outcome> {
    let (models, _) = load_rules(&args.rules)?;
    let mut cache = store::open(args.cache.cache.as_deref(), args.cache.no_cache)?;
    let mut out = serde_json::Map::new();
    let mut given: BTreeMap<String, Arc<FileFacts>> = BTreeMap::new();
    for file in &args.files {
        // The same limits as files in a repository: a FIFO or device would block or never end.
        let read = load::read_regular_file(file, load::MAX_FILE_BYTES)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let bytes = match read {
            load::Regular::Bytes(bytes) => bytes,
            load::Regular::NotRegular => {
                anyhow::bail!("cannot read {}: not a regular file", file.display())
            }
            load::Regular::TooLarge => {
                crate::error::print_line(&format!(
                    "{}: skipped, larger than 1 MiB (knockon does not read files that large)",
                    file.display()
                ));
                continue;
            }
        };
        let name = file.to_string_lossy().replace('\\', "/");
        let facts = extract_file(cache.as_mut(), &name, bytes, &models);
        out.insert(
            name.clone(),
            serde_json::to_value(&facts).unwrap_or(serde_json::Value::Null),
        );
        if let Some(facts) = facts {
            given.insert(name, Arc::new(facts));
        }
    }
    // The given files resolved together, as one repository: what each access comes to and the
    // lines that built its value (the same resolution a check makes).
    let repos = vec![RepoFacts {
        name: "files".to_string(),
        files: given,
    }];
    store::print_warnings(cache.as_mut());
    let resolved = resolve::resolve(&repos, &BTreeMap::new());
    for access in &resolved.accesses {
        let Some(serde_json::Value::Object(entry)) = out.get_mut(&access.site.path) else {
            continue;
        };
        let list = entry
            .entry("resolved")
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let serde_json::Value::Array(list) = list {
            list.push(resolved_access_json(access));
        }
    }
    let mut output = serde_json::to_string_pretty(&out).unwrap_or_default();
    output.push('\n');
    Ok(Outcome {
        output,
        exit_code: exit_codes::CLEAN,
    })
}

/// One resolved access for `knockon facts`: its line, what it does to which resource, and the
/// lines its value was built from, nearest first.
fn resolved_access_json(access: &resolve::Access) -> serde_json::Value {
    let origins: Vec<serde_json::Value> = access
        .origins
        .iter()
        .map(|o| {
            serde_json::json!({
                "path": o.site.path,
                "line": o.site.line,
                "note": o.note,
            })
        })
        .collect();
    let mut value = serde_json::json!({
        "line": access.site.line,
        "mode": access.mode,
        "resource": access.resource.display().to_string(),
        "unit": access.unit,
        "via": access.via,
        "origins": origins,
    });
    if !access.notes.is_empty()
        && let serde_json::Value::Object(map) = &mut value
    {
        map.insert("notes".to_string(), serde_json::json!(access.notes));
    }
    if let Some(launch) = &access.launched_by
        && let serde_json::Value::Object(map) = &mut value
    {
        map.insert(
            "launched_by".to_string(),
            serde_json::json!({"path": launch.launcher.path, "line": launch.launcher.line}),
        );
    }
    value
}

fn run_who(args: &WhoArgs) -> anyhow::Result<Outcome> {
    let dirs = if args.dirs.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.dirs.clone()
    };
    let mut cache = store::open(args.cache.cache.as_deref(), args.cache.no_cache)?;
    let audit = who_cached(&args.pattern, &dirs, &args.rules, cache.as_mut())?;
    store::print_warnings(cache.as_mut());
    let output = match args.format {
        WhoFormat::Text => report::audit::render_text(&audit),
        WhoFormat::Json => report::audit::render_json(&audit),
    };
    Ok(Outcome {
        output,
        exit_code: exit_codes::CLEAN,
    })
}

/// What `knockon who` asks about: a path glob, or a name of another kind (`env:NAME`,
/// `secret:ID`, `queue:NAME`, each a glob).
pub(crate) enum Query {
    Path(crate::pattern::Pattern),
    Name {
        kind: crate::model::ResourceKind,
        pattern: crate::pattern::Pattern,
    },
}

impl Query {
    pub(crate) fn parse(text: &str) -> Query {
        use crate::model::ResourceKind;
        let named = |kind, rest: &str| Query::Name {
            kind,
            pattern: crate::pattern::Pattern::glob(rest),
        };
        if let Some(rest) = text.strip_prefix("env:") {
            named(ResourceKind::Credential, rest)
        } else if let Some(rest) = text.strip_prefix("secret:") {
            named(ResourceKind::Credential, rest)
        } else if let Some(rest) = text.strip_prefix("queue:") {
            named(ResourceKind::Queue, rest)
        } else {
            Query::Path(crate::pattern::Pattern::glob(text))
        }
    }

    pub(crate) fn matches(&self, access: &resolve::Access) -> bool {
        match self {
            Query::Path(query) => access
                .resource
                .as_path()
                .is_some_and(|set| set.is_anchored() && set.overlaps(query)),
            Query::Name { kind, pattern } => {
                access.resource.kind() == *kind
                    && crate::change::names_of_access(access).is_some_and(|names| {
                        // Names are compared as written (AMQP keys keep their dots).
                        names.display.split(", ").any(|n| pattern.matches(n))
                            || names
                                .patterns
                                .iter()
                                .any(|p| crate::pattern::overlaps(p, pattern))
                    })
            }
        }
    }
}

/// Every access in `dirs` whose paths may overlap `pattern`, producers first.
pub fn who(pattern: &str, dirs: &[PathBuf], rules_dirs: &[PathBuf]) -> Result<Audit, Error> {
    who_cached(pattern, dirs, rules_dirs, None)
}

/// [`who`], reading and writing extracted facts through `cache`.
pub fn who_cached(
    pattern: &str,
    dirs: &[PathBuf],
    rules_dirs: &[PathBuf],
    cache: Option<&mut Cache>,
) -> Result<Audit, Error> {
    if pattern.trim().is_empty() {
        return Err(Error::Usage("the PATH to look for is empty".into()));
    }
    let World {
        repos,
        resolved,
        files_analysed,
        skipped,
    } = world_cached(dirs, rules_dirs, cache)?;
    let _select_timing = crate::timings::stage("select and describe");
    let query = Query::parse(pattern);
    let quoter = load::Quoter::new(&repos);
    let excerpt = |site: &Site| quoter.line(&site.repo, &site.path, site.line);
    // In parallel: over a whole corpus this is ten thousand accesses and a thousand files read
    // again for their lines, after resolution, with nothing else to keep the other cores busy.
    let matched: Vec<&resolve::Access> = resolved
        .accesses
        .par_iter()
        .filter(|a| query.matches(a))
        .collect();
    quoter.read_ahead(
        matched
            .iter()
            .map(|a| (a.site.repo.as_str(), a.site.path.as_str())),
    );
    let mut entries: Vec<AuditEntry> = matched
        .into_par_iter()
        .map(|a| AuditEntry {
            producer: a.mode.produces() || a.mode == crate::model::Mode::Set,
            description: a.describe(),
            mode: a.mode,
            resource: a.resource.display().to_string(),
            excerpt: excerpt(&a.site),
            site: a.site.clone(),
            unit: a.unit.clone(),
            jobs: a
                .jobs
                .iter()
                .filter_map(|j| resolved.jobs.get(*j))
                .map(|j| j.describe())
                .collect(),
            notes: a.notes.clone(),
        })
        .collect();
    entries.par_sort_by(|a, b| (!a.producer, &a.site).cmp(&(!b.producer, &b.site)));
    let repositories = repos.len();
    drop(quoter);
    retire((repos, resolved));
    Ok(Audit {
        query: pattern.to_string(),
        entries,
        repositories,
        files_analysed,
        files_skipped: skipped,
    })
}

/// The repositories of `dirs` read, extracted and resolved together, for commands that show the
/// whole world rather than a change (`knockon graph`); `who` reads the same way.
pub struct World {
    pub repos: Vec<load::ContextRepo>,
    pub resolved: Resolved,
    pub files_analysed: usize,
    pub skipped: load::SkipCounts,
}

/// Reads `dirs` (any directories) as repositories and resolves them as one world.
pub fn world(dirs: &[PathBuf], rules_dirs: &[PathBuf]) -> Result<World, Error> {
    world_cached(dirs, rules_dirs, None)
}

/// [`world`], reading and writing extracted facts through `cache`.
pub fn world_cached(
    dirs: &[PathBuf],
    rules_dirs: &[PathBuf],
    cache: Option<&mut Cache>,
) -> Result<World, Error> {
    // The built-in models and `rules_dirs`, every file knockon reads, no configured environment.
    let (models, _) = load_rules(rules_dirs)?;
    let select = |path: &str, bytes: &[u8]| Language::detect(path, bytes).is_some();
    let env = BTreeMap::new();
    world_read(
        dirs,
        &models,
        load::Selection {
            select: &select,
            depends_on: "detected",
        },
        &env,
        cache,
        |_| Ok(Vec::new()),
        &mut |_| {},
    )
}

/// [`world`] with the caller's file selection (a `knockon.toml`'s excludes), environment
/// bindings and models, resolved together with the repositories `more` adds once the
/// directories are loaded (knowing their names): `knockon audit` reads its world this way, and
/// `--index` adds every indexed repository that is not one of them. `read_source` sees each
/// loaded repository while its files' text is still held (audit reads Python and Rust programs
/// whole there).
pub fn world_joined(
    dirs: &[PathBuf],
    models: &Models,
    select: load::Selection<'_>,
    env: &BTreeMap<String, String>,
    cache: Option<&mut Cache>,
    more: impl FnOnce(&[load::ContextRepo]) -> Result<Vec<RepoFacts>, Error>,
    read_source: &mut dyn FnMut(&load::ContextRepo),
) -> Result<World, Error> {
    world_read(dirs, models, select, env, cache, more, read_source)
}

/// Every world lets go of its files' text once their facts are extracted, before resolving:
/// the reports quote a few lines, which [`load::Quoter`] reads again.
fn world_read(
    dirs: &[PathBuf],
    models: &Models,
    select: load::Selection<'_>,
    env: &BTreeMap<String, String>,
    cache: Option<&mut Cache>,
    more: impl FnOnce(&[load::ContextRepo]) -> Result<Vec<RepoFacts>, Error>,
    read_source: &mut dyn FnMut(&load::ContextRepo),
) -> Result<World, Error> {
    let mut cache = cache;
    let load_timing = crate::timings::stage("load");
    let mut memory = store::loads::LoadRecords::new(
        cache.as_deref_mut(),
        &store::fingerprint(models),
        select.depends_on,
    );
    let (mut repos, skipped) = load::load_directories(dirs, &[], select.select, &mut memory)?;
    drop(load_timing);
    for repo in &repos {
        read_source(repo);
    }
    let added = more(&repos)?;
    // A world with indexed repositories added is not keyed by content alone: no world cache.
    let world_key = match (&cache, added.is_empty()) {
        (Some(_), true) => {
            let named: Vec<(&str, &Snapshot)> = repos
                .iter()
                .map(|r| (r.name.as_str(), &r.snapshot))
                .collect();
            Some(store::world::key(
                &store::fingerprint(models),
                env,
                &named,
                None,
            ))
        }
        _ => None,
    };
    if let (Some(key), Some(cache)) = (&world_key, cache.as_deref_mut()) {
        let _timing = crate::timings::stage("read the cached world");
        if let Some(stored) = store::world::read(cache, key) {
            for repo in &mut repos {
                repo.snapshot.release();
            }
            return Ok(World {
                repos,
                resolved: stored.resolved,
                files_analysed: stored.files_analysed,
                skipped,
            });
        }
    }
    let extract_timing = crate::timings::stage("extract");
    let contents: Vec<&Snapshot> = repos.iter().map(|r| &r.snapshot).collect();
    let jobs = extraction_jobs(&contents);
    for repo in &mut repos {
        repo.snapshot.release();
    }
    let owners: Vec<(&str, &Snapshot)> = repos
        .iter()
        .map(|r| (r.name.as_str(), &r.snapshot))
        .collect();
    let extracted = extract_jobs(jobs, &owners, models, cache.as_deref_mut());
    drop(extract_timing);
    let facts: Vec<RepoFacts> = repos
        .iter()
        .map(|r| RepoFacts {
            name: r.name.clone(),
            files: facts_of(&r.snapshot, &extracted),
        })
        .chain(added)
        .collect();
    let files_analysed = facts.iter().map(|r| r.files.len()).sum();
    let resolve_timing = crate::timings::stage("resolve");
    let mut resolved = resolve::resolve(&facts, env);
    drop(resolve_timing);
    if let (Some(key), Some(cache)) = (world_key, cache) {
        let _timing = crate::timings::stage("keep the world");
        store::world::keep(cache, key, &mut resolved, files_analysed);
    }
    retire((facts, extracted));
    Ok(World {
        repos,
        resolved,
        files_analysed,
        skipped,
    })
}

/// Set by [`leave_to_exit`]: values a run no longer needs are then not freed at all.
static LEFT_TO_EXIT: std::sync::OnceLock<()> = std::sync::OnceLock::new();

/// Makes the values a command no longer needs (a world's facts, its resolved accesses) stay
/// allocated until the process exits instead of being freed. For the binary, whose every
/// command exits right after its report: freeing a corpus's millions of small facts one by one
/// took 100 ms of a core in a cold `who`, on the core the report needed, and each page freed
/// after extraction goes back to the system at once (`after_extraction`), a `madvise` call each.
/// A library caller that goes on running leaves it unset, and they are freed.
pub fn leave_to_exit() {
    let _ = LEFT_TO_EXIT.set(());
}

/// Lets go of `value`: left to the process's exit after [`leave_to_exit`], else freed on a
/// thread of its own. A world's facts are millions of small allocations, and freeing them one
/// by one took 50-80 ms at the end of a run, with the other core idle and the report waiting (up
/// to a tenth of a warm check). The process may exit before the thread is done, which frees
/// everything at once; a thread that cannot be started frees it here.
fn retire<T: Send + 'static>(value: T) {
    if LEFT_TO_EXIT.get().is_some() {
        std::mem::forget(value);
        return;
    }
    // On failure `spawn` drops the closure, and the value with it, before returning.
    let _ = std::thread::Builder::new()
        .name("knockon-free".to_string())
        .spawn(move || drop(value));
}

fn run_check(args: &CheckArgs) -> anyhow::Result<Outcome> {
    let change = match (&args.diff, &args.base) {
        (Some(path), _) => {
            let text = if path == "-" {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                    .context("cannot read the diff from standard input")?;
                text
            } else {
                let bytes =
                    std::fs::read(path).with_context(|| format!("cannot read diff {path}"))?;
                String::from_utf8_lossy(&bytes).into_owned()
            };
            ChangeSpec::Diff {
                text,
                source_name: if path == "-" {
                    "<stdin>".into()
                } else {
                    path.clone()
                },
            }
        }
        (None, Some(base)) => ChangeSpec::Revisions {
            base: base.clone(),
            head: args.head.clone(),
        },
        (None, None) => return Err(Error::Usage("give --base REV or --diff FILE".into()).into()),
    };
    let request = CheckRequest {
        repo: args.repo.clone(),
        change,
        context: args.context.clone(),
        rules_dirs: args.rules.clone(),
        no_generic: args.no_generic,
    };
    let setup_timing = crate::timings::stage("setup: configuration, models and rules");
    let setup = setup(&request)?;
    drop(setup_timing);
    let mut index = match &args.index {
        // A check never creates an index: a mistyped file name is an error, not an empty index.
        Some(target) if !crate::index::is_postgres(target) && !Path::new(target).is_file() => {
            return Err(Error::Usage(format!("--index {target}: no such index file")).into());
        }
        Some(target) => Some(crate::index::Index::open(target).map_err(Error::from)?),
        None => None,
    };
    let open_timing = crate::timings::stage("open the cache");
    let mut cache = store::open(args.cache.cache.as_deref(), args.cache.no_cache)?;
    drop(open_timing);
    let report = check_using(&request, &setup, cache.as_mut(), index.as_mut());
    store::print_warnings(cache.as_mut());
    let report = report?;
    let mut report = report;
    crate::audit::apply_baseline(
        &mut report,
        args.output.baseline.as_deref(),
        args.output.write_baseline.as_deref(),
        &[],
    )?;
    let color = args.output.color.enabled(
        std::io::IsTerminal::is_terminal(&std::io::stdout()),
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
    );
    let options = report::RenderOptions {
        rules: &setup.rules,
        color,
    };
    let output = report::render(&report, args.output.format, &options);
    Ok(Outcome {
        output,
        exit_code: exit_code(&report, fail_on(args.output.fail_on, &report)),
    })
}

/// The threshold: the flag, else `knockon.toml`'s `fail_on`, else `warning`.
fn fail_on(flag: Option<FailOn>, report: &Report) -> FailOn {
    flag.or(match report.config_fail_on.as_deref() {
        Some("error") => Some(FailOn::Error),
        Some("info") => Some(FailOn::Info),
        Some("never") => Some(FailOn::Never),
        Some("warning") => Some(FailOn::Warning),
        _ => None,
    })
    .unwrap_or(FailOn::Warning)
}

/// 1 when a finding is at or above the threshold.
pub fn exit_code(report: &Report, fail_on: FailOn) -> u8 {
    let threshold = match fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    match threshold {
        Some(t) if report.findings.iter().any(|f| f.severity >= t) => exit_codes::FINDINGS,
        _ => exit_codes::CLEAN,
    }
}

/// The models and rules of a run: built-in, then each `--rules` directory in order.
pub fn load_rules(dirs: &[PathBuf]) -> Result<(Models, ImpactRules), Error> {
    // Each is a few milliseconds of TOML, on the critical path of every run: side by side.
    let (models, rules) = rayon::join(Models::builtin, ImpactRules::builtin);
    let (mut models, mut rules) = (models?, rules?);
    for dir in dirs {
        if !dir.is_dir() {
            return Err(Error::Usage(format!(
                "--rules {}: no such directory",
                dir.display()
            )));
        }
        let mut files = Vec::new();
        collect_toml(dir, &mut files);
        files.sort();
        for file in files {
            let name = file.display().to_string();
            let text = std::fs::read_to_string(&file)
                .map_err(|e| RulesError::at(&name, 1, format!("cannot read: {e}")))?;
            let table: toml::Table =
                toml::from_str(&text).map_err(|e| RulesError::toml(&name, &text, &e))?;
            if table.contains_key("language") {
                models.load_file(&name, &text)?;
            } else if table.contains_key("rule") {
                rules.load_file(&name, &text)?;
            } else {
                return Err(RulesError::at(
                    &name,
                    1,
                    "neither a model file (`language = ...`) nor a rule file (`[[rule]]`)",
                )
                .into());
            }
        }
    }
    Ok((models, rules))
}

pub(crate) fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            collect_toml(&path, out);
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

/// Runs the whole pipeline for one change.
pub fn check(request: &CheckRequest) -> Result<Report, Error> {
    let setup = setup(request)?;
    check_with(request, &setup)
}

/// What a run reads besides the repositories: `knockon.toml`, the models and the rules (with the
/// configuration's rule settings applied, so every report shows the effective severities).
pub struct Setup {
    pub config: Config,
    pub models: Models,
    pub rules: ImpactRules,
}

/// Reads the configuration of the changed repository and the models and rules.
pub fn setup(request: &CheckRequest) -> Result<Setup, Error> {
    let root = load::open_repo(&request.repo)?
        .workdir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| request.repo.clone());
    let config = Config::discover(&root)?;
    let (models, mut rules) = load_rules(&request.rules_dirs)?;
    config.apply_to(&mut rules)?;
    Ok(Setup {
        config,
        models,
        rules,
    })
}

/// [`check`] with the setup already read (the caller renders with the same rules).
pub fn check_with(request: &CheckRequest, setup: &Setup) -> Result<Report, Error> {
    check_using(request, setup, None, None)
}

/// [`check_with`], taking the repositories the change can involve that are neither the changed
/// one nor checked out as context from `index`.
pub fn check_indexed(
    request: &CheckRequest,
    setup: &Setup,
    index: Option<&mut crate::index::Index>,
) -> Result<Report, Error> {
    check_using(request, setup, None, index)
}

/// [`check_with`], reading and writing extracted facts through `cache` and taking repositories
/// that are not checked out from `index`.
pub fn check_using(
    request: &CheckRequest,
    setup: &Setup,
    cache: Option<&mut Cache>,
    index: Option<&mut crate::index::Index>,
) -> Result<Report, Error> {
    let config = &setup.config;
    let generic = !request.no_generic && config.generic;
    let select = |path: &str, bytes: &[u8]| config.reads(path, bytes, request.no_generic);
    let context = if request.context.is_empty() {
        config.context.clone()
    } else {
        request.context.clone()
    };
    let mut cache = cache;
    let load_timing = crate::timings::stage("load");
    let mut memory = store::loads::LoadRecords::new(
        cache.as_deref_mut(),
        &store::fingerprint(&setup.models),
        &config.selection(request.no_generic),
    );
    let mut workspace = load::load_workspace(
        &request.repo,
        &request.change,
        &context,
        &select,
        &mut memory,
    )?;
    drop(load_timing);
    let env = config.env.clone();
    // With an index the world also depends on the index's rows: only checkouts are keyed.
    let world_keys = match (&cache, &index) {
        (Some(_), None) => Some(world_keys(&workspace, &setup.models, &env)),
        _ => None,
    };
    // The base's world when it is being decoded beside the head's resolution (see below), and
    // its key until then.
    let mut base_beside = None;
    let mut base_whole_later = None;
    let [base_hit, head_hit] = match (&world_keys, cache.as_deref_mut()) {
        (Some([base, head, base_whole]), Some(cache)) => {
            let _timing = crate::timings::stage("read the cached worlds");
            let [base_hit, head_hit] = store::world::read_all(cache, &[base.clone(), head.clone()]);
            // The whole world of the base (another check's head: the last change merged, the
            // previous push of this branch) holds the changed repository's answers too. With
            // the head to extract and resolve anyway, it is decoded meanwhile.
            let base_hit = match (base_hit, &head_hit) {
                (Some(hit), Some(_)) => Some(hit),
                (None, Some(_)) => {
                    store::world::read_accesses_of(cache, base_whole, &workspace.changed.name)
                }
                // The head is resolved: the base's whole world, if kept, may give it the
                // context's answers (and the base, when its own world is not kept).
                (hit, None) => {
                    base_whole_later = Some(base_whole.clone());
                    hit
                }
            };
            [base_hit, head_hit]
        }
        _ => [None, None],
    };
    let (mut base_world, mut head_world, mut files_analysed, mut facts) = match (base_hit, head_hit)
    {
        (Some(base), Some(head)) => (base.resolved, head.resolved, head.files_analysed, None),
        (base_hit, head_hit) => {
            // An index check may extract the context again (see below), so it keeps the text.
            let release_context = index.is_none();
            let facts = extract_workspace(
                &mut workspace,
                &setup.models,
                cache.as_deref_mut(),
                release_context,
            );
            // Decoded while the head's linking keeps one core busy, not while reading the
            // facts keeps both.
            if let (Some(key), Some(cache)) = (base_whole_later.take(), cache.as_deref_mut()) {
                base_beside = Some(store::world::read_beside(cache, &key));
            }
            let files_analysed = facts.files_analysed();
            let mut resolved = [base_hit, head_hit].map(|hit| hit.map(|w| w.resolved));
            let worlds = [facts.base_world(), facts.head_world()];
            // The base world is read only for the changed repository's accesses.
            let scopes = [Some(CHANGED), None];
            // The head first, while the base's world may still be being decoded.
            for side in [1, 0] {
                let Some(world) = worlds.get(side) else {
                    continue;
                };
                if side == 0
                    && let Some(beside) = base_beside.take()
                {
                    let _timing = crate::timings::stage("wait for the base's world");
                    // A decoding thread that panicked is a miss too: the base is resolved.
                    resolved[0] = beside
                        .and_then(|thread| thread.join().ok().flatten())
                        .map(|w| w.resolved);
                    if let Some(cache) = cache.as_deref_mut() {
                        store::world::count(cache, resolved[0].is_some());
                    }
                }
                if resolved[side].is_some() {
                    continue;
                }
                // The stored chunks of the context's answers the head took, kept as they are.
                let mut taken_chunks = None;
                let (mut fresh, context_inputs) = if side == 1 {
                    // The base's world is joined once the head is linked: the head may take
                    // the context's answers from it (see `resolve::resolve_head`).
                    let beside = base_beside.take();
                    let mut base_read = None;
                    let mut chunks_read = None;
                    let head = resolve::resolve_head(
                        world,
                        &env,
                        Box::new(|inputs| {
                            let beside = beside?;
                            let _timing = crate::timings::stage("wait for the base's world");
                            // A decoding thread that panicked is a miss too.
                            let stored = beside.and_then(|thread| thread.join().ok().flatten());
                            let (base, context, chunks) =
                                split_base(stored, inputs, &workspace.changed.name);
                            base_read = Some(base);
                            chunks_read = chunks;
                            context
                        }),
                    );
                    if head.reused {
                        taken_chunks = chunks_read;
                    }
                    if let Some(base) = base_read {
                        if let Some(cache) = cache.as_deref_mut() {
                            store::world::count(cache, base.is_some());
                        }
                        // The base's own world, when it was kept, is the one compared.
                        if resolved[0].is_none() {
                            resolved[0] = base;
                        }
                    }
                    crate::timings::count(
                        "context answers",
                        if head.reused {
                            "taken from the base's world"
                        } else {
                            "resolved"
                        },
                    );
                    (head.resolved, head.context_inputs)
                } else {
                    (resolve::resolve_scoped(world, &env, scopes[side]), None)
                };
                if let (Some(keys), Some(cache)) = (&world_keys, cache.as_deref_mut()) {
                    // Each world's own count: the head world of one check is another's base.
                    let files = world.iter().map(|r| r.files.len()).sum();
                    let _timing = crate::timings::stage("keep the world");
                    store::world::keep_head(
                        cache,
                        keys[side].clone(),
                        &mut fresh,
                        files,
                        context_inputs.as_deref(),
                        taken_chunks.as_ref(),
                    );
                }
                resolved[side] = Some(fresh);
            }
            let [base, head] = resolved.map(Option::unwrap_or_default);
            (base, head, files_analysed, Some(facts))
        }
    };
    let mut repositories = 1 + workspace.context.len();
    let indexed = match index {
        Some(index) => {
            // An index means no cached worlds, so the facts are always there; extracting again
            // is only the fallback that keeps this total.
            let mut facts = match facts.take() {
                Some(facts) => facts,
                None => extract_workspace(&mut workspace, &setup.models, cache, false),
            };
            let side = crate::index::build::CheckSide {
                changed: &facts.changed_name,
                worlds: [&base_world, &head_world],
                changed_files: [&facts.base, &facts.head],
                changed_paths: &workspace.changed.changed_paths,
                context: &facts.context,
            };
            let keep =
                |path: &str, is_generic: bool| !config.excludes(path) && (generic || !is_generic);
            let indexed = crate::index::build::from_index(index, &side, &setup.models, &keep)?;
            if !indexed.repos.is_empty() {
                facts.context.extend(indexed.repos.iter().cloned());
                head_world = resolve::resolve(&facts.head_world(), &env);
                base_world = resolve::resolve_scoped(&facts.base_world(), &env, Some(CHANGED));
                files_analysed = facts.files_analysed();
                repositories = 1 + facts.context.len();
            }
            indexed
        }
        None => crate::index::build::Indexed::default(),
    };
    let _impact_timing = crate::timings::stage("compare, graph, impact");
    let changed_name = &workspace.changed.name;
    let changed_lines = &workspace.changed.changed_lines;
    let of_changed = |r: &Resolved| -> Vec<resolve::Access> {
        r.accesses
            .iter()
            .filter(|a| &a.site.repo == changed_name)
            .cloned()
            .collect()
    };
    let sends_of = |r: &Resolved| -> Vec<resolve::Send> {
        r.sends
            .iter()
            .filter(|s| &s.site.repo == changed_name)
            .cloned()
            .collect()
    };
    let (base_accesses, head_accesses) = (of_changed(&base_world), of_changed(&head_world));
    let (base_sends, head_sends) = (sends_of(&base_world), sends_of(&head_world));
    let changed = &workspace.changed;
    let tree = change::TreeChange {
        removed: load::removed_files(&changed.base, &changed.head, &changed.changed_paths),
        head: changed
            .head
            .files
            .keys()
            .chain(&changed.head.unread)
            .cloned()
            .collect(),
    };
    let setting_changes = change::drift::setting_changes(
        &base_world.deployments,
        &head_world.deployments,
        changed_lines,
    );
    let mut warnings = collect_warnings(&head_world, &base_world, changed_name, changed_lines);
    let mut files_skipped = workspace.skipped;
    for (total, more) in [
        (&mut files_skipped.binary, indexed.skipped.binary),
        (&mut files_skipped.vendored, indexed.skipped.vendored),
        (&mut files_skipped.oversized, indexed.skipped.oversized),
        (&mut files_skipped.unreadable, indexed.skipped.unreadable),
    ] {
        *total += more;
    }
    let stats = Stats {
        change: workspace.changed.description.clone(),
        repositories,
        files_analysed,
        files_skipped,
        accesses: head_world.accesses.len(),
        jobs: head_world.jobs.len(),
        index: indexed.stats(),
        ..Stats::default()
    };
    // The head world's graph is built while the changed repository's two sides are compared:
    // neither needs the other, and each kept one core waiting.
    let (graph, mut deltas) = rayon::join(
        || Graph::build(head_world),
        || {
            change::compute(&change::Sides {
                base: &base_accesses,
                head: &head_accesses,
                base_sends: &base_sends,
                head_sends: &head_sends,
                changed_lines,
                tree: &tree,
            })
        },
    );
    deltas.setting_changes = setting_changes;
    warnings.extend(deltas.undecided.iter().map(|a| ReportWarning {
        repo: a.site.repo.clone(),
        path: a.site.path.clone(),
        line: a.site.line,
        message: format!(
            "could not decide whether the change still {} (the patterns are too complex to \
             compare); no finding is made from it",
            a.describe()
        ),
    }));
    warnings.extend(workspace.warnings.iter().map(|w| ReportWarning {
        repo: w.repo.clone(),
        path: w.path.clone(),
        line: 1,
        message: w.message.clone(),
    }));
    warnings.extend(indexed.stale.iter().map(|repo| {
        ReportWarning {
            repo: repo.clone(),
            path: String::new(),
            line: 1,
            message: "indexed with other models than this run's; its facts may differ from what \
                  this run extracts (re-index it)"
                .to_string(),
        }
    }));
    let context = load::Quoter::new(&workspace.context);
    let changed = &workspace.changed;
    // The changed repository's files an earlier load found were not read: quoted, they are.
    let changed_sides = [&changed.base, &changed.head]
        .map(|snapshot| load::Quoter::of(vec![(changed.name.as_str(), snapshot)]));
    let quote =
        |site: &Site, version: Version| excerpt(&changed_sides, &context, &indexed, site, version);
    let findings = impact::evaluate(&deltas, &graph, &setup.rules, &quote);
    let read_line = |location: &Location, changed: bool, line: u32| {
        let site = Site {
            repo: location.repo.clone(),
            path: location.path.clone(),
            line,
        };
        // A removed access's change site is in the base version; every other site is at head.
        quote(&site, Version::Head)
            .or_else(|| changed.then(|| quote(&site, Version::Base)).flatten())
    };
    let scanned: Vec<(String, String, String)> = changed_lines
        .paths()
        .filter_map(|path| {
            let content = workspace.changed.head.files.get(path)?;
            Some((
                changed_name.clone(),
                path.to_string(),
                content.text().into_owned(),
            ))
        })
        .collect();
    let findings = suppress::apply(findings, &read_line, &scanned);
    drop(context);
    retire((facts, graph, base_world, workspace));
    Ok(Report {
        findings,
        stats,
        warnings,
        config_fail_on: config.fail_on.clone(),
    })
}

/// Parse warnings of the head world, plus those of changed files at base.
fn collect_warnings(
    head: &Resolved,
    base: &Resolved,
    changed_repo: &str,
    changed_lines: &crate::model::ChangedLines,
) -> Vec<ReportWarning> {
    let base_only = base
        .warnings
        .iter()
        .filter(|w| w.site.repo == changed_repo && changed_lines.is_changed_path(&w.site.path));
    let mut out: Vec<ReportWarning> = head
        .warnings
        .iter()
        .chain(base_only)
        .map(|w| ReportWarning {
            repo: w.site.repo.clone(),
            path: w.site.path.clone(),
            line: w.site.line,
            message: w.message.clone(),
        })
        .collect();
    out.sort_by(|a, b| (&a.repo, &a.path, a.line).cmp(&(&b.repo, &b.path, b.line)));
    out.dedup_by(|a, b| {
        a.repo == b.repo && a.path == b.path && a.line == b.line && a.message == b.message
    });
    out
}

/// The line a check's report quotes: from the changed repository's `version`, from a context
/// repository (its text is let go after extraction: `context` reads each file again once),
/// or from the lines an index stored.
fn excerpt(
    changed: &[load::Quoter<'_>; 2],
    context: &load::Quoter<'_>,
    indexed: &crate::index::build::Indexed,
    site: &Site,
    version: Version,
) -> Option<String> {
    let [base, head] = changed;
    if base.has_repo(&site.repo) {
        let side = match version {
            Version::Base => base,
            Version::Head => head,
        };
        return side.line(&site.repo, &site.path, site.line);
    }
    if context.has_repo(&site.repo) {
        return context.line(&site.repo, &site.path, site.line);
    }
    // An indexed repository: the lines stored with its facts.
    let lines = indexed.lines.get(&(site.repo.clone(), site.path.clone()))?;
    lines.get(&site.line).cloned()
}

/// Where the changed repository is in a check's worlds: first, before the context.
const CHANGED: usize = 0;

/// The cache keys of a check's worlds: [base with the changed repository's accesses alone (as
/// a check resolves it), head, base whole (as another check's head would be)]. The changed
/// repository's version is first, then the context, as [`WorkspaceFacts::base_world`] and
/// `head_world` order them.
fn world_keys(
    workspace: &Workspace,
    models: &Models,
    env: &BTreeMap<String, String>,
) -> [Vec<u8>; 3] {
    let fingerprint = store::fingerprint(models);
    let key = |changed: &Snapshot, scope: Option<usize>| -> Vec<u8> {
        let mut named: Vec<(&str, &Snapshot)> = vec![(workspace.changed.name.as_str(), changed)];
        for context in &workspace.context {
            named.push((context.name.as_str(), &context.snapshot));
        }
        store::world::key(&fingerprint, env, &named, scope)
    };
    [
        key(&workspace.changed.base, Some(CHANGED)),
        key(&workspace.changed.head, None),
        key(&workspace.changed.base, None),
    ]
}

/// A base's whole world, read beside a check's head, split into what the check compares (the
/// changed repository's accesses, with the rest of the world) and, when `head_inputs` are its
/// context inputs too, the context's answers for the head to take (`resolve::resolve_head`),
/// with their stored chunks (`store::world::keep_head`).
fn split_base(
    stored: Option<store::world::StoredWorld>,
    head_inputs: Option<&[u8]>,
    changed: &str,
) -> (
    Option<Resolved>,
    Option<Resolved>,
    Option<store::world::Chunks>,
) {
    let Some(stored) = stored else {
        return (None, None, None);
    };
    let same = head_inputs.is_some() && stored.context_inputs.as_deref() == head_inputs;
    let mut base = stored.resolved;
    // The context's accesses stay where they were decoded; the changed repository's (a few)
    // move out.
    let mut others = std::mem::take(&mut base.accesses);
    base.accesses = others.extract_if(.., |a| a.site.repo == changed).collect();
    let context = same.then(|| Resolved {
        accesses: others,
        sends: base.sends.clone(),
        warnings: base.warnings.clone(),
        deployments: base.deployments.clone(),
        ..Resolved::default()
    });
    let chunks = stored
        .chunks
        .filter(|_| same)
        .map(|chunks| chunks.without(changed));
    (Some(base), context, chunks)
}

/// The facts of every snapshot, extracted once per distinct (path, content).
struct WorkspaceFacts {
    changed_name: String,
    base: BTreeMap<String, Arc<FileFacts>>,
    head: BTreeMap<String, Arc<FileFacts>>,
    context: Vec<RepoFacts>,
}

impl WorkspaceFacts {
    fn head_world(&self) -> Vec<RepoFacts> {
        let mut repos = vec![RepoFacts {
            name: self.changed_name.clone(),
            files: self.head.clone(),
        }];
        repos.extend(self.context.iter().cloned());
        repos
    }

    fn base_world(&self) -> Vec<RepoFacts> {
        let mut repos = vec![RepoFacts {
            name: self.changed_name.clone(),
            files: self.base.clone(),
        }];
        repos.extend(self.context.iter().cloned());
        repos
    }

    fn files_analysed(&self) -> usize {
        self.head.len() + self.context.iter().map(|c| c.files.len()).sum::<usize>()
    }
}

/// Facts of every distinct (path, content) of the snapshots, extracted in parallel.
type Extracted = HashMap<(String, String), Arc<FileFacts>>;

/// The distinct (path, content key) of some snapshots, each with where its bytes are: held (its
/// own handle on them: once the snapshots let go of their text ([`Snapshot::release`]), a
/// file's bytes live only until its facts are extracted or found in the cache), or to be read
/// again, for a file an earlier load found and whose facts are not in the cache after all.
type Jobs = HashMap<(String, String), load::Source>;

fn extraction_jobs(snapshots: &[&Snapshot]) -> Jobs {
    let mut jobs = Jobs::new();
    for snapshot in snapshots {
        for (path, content) in &snapshot.files {
            let key = (path.clone(), content.key.clone());
            match jobs.entry(key) {
                // Held bytes win over bytes to be read again.
                std::collections::hash_map::Entry::Occupied(mut held) => {
                    if matches!(held.get(), load::Source::Origin(_)) && !content.released {
                        held.insert(snapshot.source(content));
                    }
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(snapshot.source(content));
                }
            }
        }
    }
    jobs
}

/// Extracts `jobs` (through `cache`, when given). `owners` are the snapshots the jobs come from,
/// with their repositories' names, for naming the repository of a file that could no longer be
/// read.
fn extract_jobs(
    jobs: Jobs,
    owners: &[(&str, &Snapshot)],
    models: &Models,
    cache: Option<&mut Cache>,
) -> Extracted {
    let mut unreadable = Vec::new();
    let files = jobs.len();
    let mut parsed = 0;
    let mut extract_all = |jobs: Jobs| -> Extracted {
        parsed += jobs.len();
        let (extracted, mut gone) = extract_uncached(jobs, models);
        unreadable.append(&mut gone);
        extracted
    };
    let mut extracted = match cache {
        Some(cache) => cache.through(&store::fingerprint(models), jobs, extract_all),
        None => extract_all(jobs),
    };
    for line in unreadable_warnings(&unreadable, owners) {
        crate::error::print_line(&line);
    }
    resolve::calls::drop_unanswerable_calls(extracted.values_mut());
    // Every thread that may have extracted: the pool's and this one.
    rayon::broadcast(|_| extract::tree_memory::give_back());
    extract::tree_memory::give_back();
    // Only after parsing: from the cache, extraction frees little (rows and their decoded
    // bytes), and memory handed back at once is faulted in again by resolution (a warm check
    // of a new change: 17,000 more page faults, 10-20 ms, for 12 MiB less at its peak).
    if parsed * PARSED_FOR_GIVING_BACK >= files
        && let Some(hook) = AFTER_EXTRACTION.get()
    {
        hook();
    }
    extracted
}

/// Extraction gives its freed pages back ([`AFTER_EXTRACTION`]) once at least one file in
/// this many was parsed rather than read from the cache.
const PARSED_FOR_GIVING_BACK: usize = 4;

/// A warning line for each file extraction could no longer read, naming each repository whose
/// snapshot has that file with that content (a path alone is ambiguous when two repositories
/// have it; a check's base and head are one repository).
fn unreadable_warnings(
    unreadable: &[(String, String)],
    owners: &[(&str, &Snapshot)],
) -> Vec<String> {
    let mut lines = Vec::new();
    for (path, key) in unreadable {
        let repos: BTreeSet<&str> = owners
            .iter()
            .filter(|(_, snapshot)| snapshot.files.get(path).is_some_and(|c| &c.key == key))
            .map(|(name, _)| *name)
            .collect();
        let whats = if repos.is_empty() {
            vec![path.clone()]
        } else {
            repos
                .iter()
                .map(|repo| format!("{path} in {repo}"))
                .collect()
        };
        for what in whats {
            lines.push(format!(
                "warning: {what} changed or went away while it was being read; it is not analysed"
            ));
        }
    }
    lines
}

/// What became of one extraction job.
enum JobOutcome {
    Extracted((String, String), Arc<FileFacts>),
    /// The file's bytes could no longer be read.
    Unreadable((String, String)),
    /// A file of no kind knockon reads.
    NoFacts,
}

/// Extracts the facts of every job in parallel, largest first. Also gives the jobs (path and
/// content key) whose bytes could no longer be read: a file released after loading (its facts
/// were to come from the cache) that was then edited or removed in a directory that is not a
/// git checkout (in a checkout its blob is still found by its content key).
fn extract_uncached(jobs: Jobs, models: &Models) -> (Extracted, Vec<(String, String)>) {
    let progress = crate::progress::Progress::new(jobs.len() as u64, "files extracted");
    // Largest first: a big file taken last would leave the other threads idle at the end.
    let mut jobs: Vec<_> = jobs.into_iter().collect();
    jobs.sort_by_key(|(_, source)| std::cmp::Reverse(source.held_len()));
    let outcomes: Vec<JobOutcome> = jobs
        .into_par_iter()
        .with_max_len(1)
        .map(|((path, key), source)| {
            let bytes = source.bytes(&path, &key);
            drop(source);
            let Some(bytes) = bytes else {
                progress.inc();
                return JobOutcome::Unreadable((path, key));
            };
            let facts = extract::extract(&path, &bytes, models);
            progress.inc();
            match facts {
                Some(facts) => JobOutcome::Extracted((path, key), Arc::new(facts)),
                None => JobOutcome::NoFacts,
            }
        })
        .collect();
    let mut extracted = Extracted::with_capacity(outcomes.len());
    let mut unreadable = Vec::new();
    for outcome in outcomes {
        match outcome {
            JobOutcome::Extracted(job, facts) => {
                extracted.insert(job, facts);
            }
            JobOutcome::Unreadable(job) => unreadable.push(job),
            JobOutcome::NoFacts => {}
        }
    }
    unreadable.sort();
    (extracted, unreadable)
}

/// What the executable does once a run's facts are extracted: its allocator gives back the
/// pages extraction freed (`allocator::return_free_pages` in `main.rs`). The library has no
/// allocator of its own, so nothing by default.
static AFTER_EXTRACTION: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Starts the pool of threads that load and extract files, with stacks deep enough for the
/// Rust extractor to run on them (reserved, not committed, until used). Call it before any
/// other work; if a pool is already running, it is kept and Rust files get threads of their
/// own, as they do without this call.
pub fn start_thread_pool() {
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(crate::extract::rust::EXTRACTION_STACK_BYTES)
        .start_handler(|_| crate::extract::rust::mark_roomy_stack())
        .build_global();
}

/// Sets [`AFTER_EXTRACTION`]; the first call wins.
pub fn after_extraction(hook: fn()) {
    let _ = AFTER_EXTRACTION.set(hook);
}

/// The facts of one file given on the command line, through the cache.
fn extract_file(
    cache: Option<&mut Cache>,
    name: &str,
    bytes: Vec<u8>,
    models: &Models,
) -> Option<FileFacts> {
    let content = FileContent::new(bytes);
    let Some(cache) = cache else {
        return extract::extract(name, &content.bytes, models);
    };
    let job = (name.to_string(), content.key.clone());
    let jobs = HashMap::from([(job.clone(), content)]);
    let mut facts = cache.through(&store::fingerprint(models), jobs, |jobs| {
        jobs.into_iter()
            .filter_map(|(job, content)| {
                let facts = extract::extract(&job.0, &content.bytes, models)?;
                Some((job, Arc::new(facts)))
            })
            .collect()
    });
    facts
        .remove(&job)
        .map(|f| Arc::try_unwrap(f).unwrap_or_else(|shared| (*shared).clone()))
}

fn facts_of(snapshot: &Snapshot, extracted: &Extracted) -> BTreeMap<String, Arc<FileFacts>> {
    snapshot
        .files
        .iter()
        .filter_map(|(path, content)| {
            extracted
                .get(&(path.clone(), content.key.clone()))
                .map(|f| (path.clone(), Arc::clone(f)))
        })
        .collect()
}

/// The facts of a check's snapshots. With `release_context`, the context repositories let go
/// of their text as their files are extracted: a report quotes only a few of their lines,
/// which it reads again ([`load::Quoter`]); the changed repository's text is kept.
fn extract_workspace(
    workspace: &mut Workspace,
    models: &Models,
    cache: Option<&mut Cache>,
    release_context: bool,
) -> WorkspaceFacts {
    let _timing = crate::timings::stage("extract");
    let mut snapshots = vec![&workspace.changed.base, &workspace.changed.head];
    snapshots.extend(workspace.context.iter().map(|c| &c.snapshot));
    let jobs = extraction_jobs(&snapshots);
    if release_context {
        for context in &mut workspace.context {
            context.snapshot.release();
        }
    }
    let changed = &workspace.changed;
    let mut owners = vec![
        (changed.name.as_str(), &changed.base),
        (changed.name.as_str(), &changed.head),
    ];
    owners.extend(
        workspace
            .context
            .iter()
            .map(|c| (c.name.as_str(), &c.snapshot)),
    );
    let extracted = extract_jobs(jobs, &owners, models, cache);
    WorkspaceFacts {
        changed_name: workspace.changed.name.clone(),
        base: facts_of(&workspace.changed.base, &extracted),
        head: facts_of(&workspace.changed.head, &extracted),
        context: workspace
            .context
            .iter()
            .map(|c| RepoFacts {
                name: c.name.clone(),
                files: facts_of(&c.snapshot, &extracted),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_file_is_named_with_the_repositories_that_have_that_content() {
        let snapshot = |text: &[u8]| {
            let mut snapshot = Snapshot::default();
            let content = FileContent::new(text.to_vec());
            snapshot.files.insert("bin/run.py".to_string(), content);
            snapshot
        };
        let (ops, app_base, app_head) = (
            snapshot(b"a = 1\n"),
            snapshot(b"b = 2\n"),
            snapshot(b"b = 2\n"),
        );
        let owners = [("ops", &ops), ("app", &app_base), ("app", &app_head)];
        let key_of = |s: &Snapshot| {
            s.files
                .get("bin/run.py")
                .map(|c| c.key.clone())
                .unwrap_or_default()
        };
        let path = "bin/run.py".to_string();
        let warned = |key: String| unreadable_warnings(&[(path.clone(), key)], &owners);
        let line = |what: &str| {
            vec![format!(
                "warning: {what} changed or went away while it was being read; it is not analysed"
            )]
        };
        // The content of the changed repository (at base and head alike): named once, and not
        // `ops`, whose file of that path has other bytes.
        assert_eq!(warned(key_of(&app_head)), line("bin/run.py in app"));
        assert_eq!(warned(key_of(&ops)), line("bin/run.py in ops"));
        // Content no snapshot has: the path alone.
        assert_eq!(warned("0".repeat(40)), line("bin/run.py"));
    }

    #[test]
    fn a_file_edited_after_its_load_is_named_and_not_analysed() {
        let Ok(models) = Models::builtin() else {
            panic!("the bundled models load");
        };
        let Ok(dir) = tempfile::tempdir() else {
            panic!("a temporary directory");
        };
        let loaded = b"import os\nos.remove('/srv/a')\n".to_vec();
        let now = b"import os\nos.remove('/srv/b')\n".to_vec();
        assert!(std::fs::write(dir.path().join("edited.py"), &now).is_ok());
        assert!(std::fs::write(dir.path().join("same.py"), &loaded).is_ok());
        // Both were released after loading; only `same.py` still has the bytes it had then.
        let key = FileContent::new(loaded.clone()).key;
        let tree = Arc::new(load::Origin::Tree(dir.path().to_path_buf()));
        let held = b"import os\nos.remove('/srv/c')\n".to_vec();
        let jobs = Jobs::from([
            (
                ("edited.py".to_string(), key.clone()),
                load::Source::Origin(Arc::clone(&tree)),
            ),
            (
                ("same.py".to_string(), key.clone()),
                load::Source::Origin(tree),
            ),
            (
                ("held.py".to_string(), FileContent::new(held.clone()).key),
                load::Source::Held(held.into()),
            ),
        ]);
        let (extracted, unreadable) = extract_uncached(jobs, &models);
        assert_eq!(unreadable, vec![("edited.py".to_string(), key.clone())]);
        let mut analysed: Vec<&str> = extracted.keys().map(|(path, _)| path.as_str()).collect();
        analysed.sort_unstable();
        assert_eq!(analysed, vec!["held.py", "same.py"]);
        let same = extracted.get(&("same.py".to_string(), key));
        assert_eq!(same.map(|facts| facts.accesses.len()), Some(1));
    }
}
