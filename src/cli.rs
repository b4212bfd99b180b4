//! The command line of DESIGN.md, parsed by clap. Validation beyond what clap checks happens in
//! `app`, so that every error becomes the same one-line message and exit code 2.

use crate::report::{ColorChoice, Format};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "knockon",
    version,
    about = "What else needs a patch? Finds code in other repositories that depends on a change's files, credentials and queues."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// No progress bar (it is only ever drawn on a terminal's stderr, never in CI).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report the code elsewhere that a change breaks.
    Check(CheckArgs),
    /// Who produces and who consumes a path? Lists every access that may touch it, with the
    /// schedules that run it.
    Who(WhoArgs),
    /// Print what knockon extracts from files, as JSON (for writing models and rules, and for
    /// bug reports): accesses, bindings, imports, schedules, triggers, sends, calls — and
    /// `resolved`: each access resolved with the given files as one repository, with the lines
    /// its value was built from (`origins`, nearest first).
    Facts(FactsArgs),
    /// Store the extracted facts of whole repositories in an index (a SQLite file or a shared
    /// PostgreSQL database), so that `check --index` can use them without their checkouts.
    Index(IndexArgs),
    /// List the impact rules (id, kind, severity, enabled, what each finds), with the
    /// knockon.toml of the repository around --repo applied; `rules explain ID` documents one
    /// and runs its examples.
    Rules(RulesArgs),
    /// List the API and command models: which calls and commands access which resource, in
    /// which mode.
    Models(ModelsArgs),
    /// Report standing mismatches of the current state, with no change: readers of paths nothing
    /// produces, cleanups that match nothing, dated outputs nothing cleans, waits on producers
    /// that only run on a schedule, queues with one side only, launchers missing a variable.
    /// Same report formats and exit codes as `check`.
    Audit(AuditArgs),
    /// Draw the producer/consumer graph of repositories: units, resources and accesses with
    /// their modes, schedules and triggers, filtered to what touches the selected resources.
    Graph(GraphArgs),
    /// The cache of extracted facts: `stats`, `prune`, `clear`.
    Cache(CacheCommandArgs),
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub action: Option<RulesAction>,
    /// A directory of model and rule files that add to or override the built-in ones (repeatable).
    #[arg(long = "rules", value_name = "DIR", global = true)]
    pub rules: Vec<PathBuf>,
    /// The repository whose knockon.toml (rule severities, rules turned off) applies; default:
    /// the repository around the current directory, if any.
    #[arg(long, value_name = "DIR", default_value = ".", global = true)]
    pub repo: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text, global = true)]
    pub format: ListFormat,
}

#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// Print a rule's documentation, severity, whether it is enabled, and its examples with the
    /// finding the firing one produces.
    Explain {
        /// The rule's id (`knockon rules` lists them).
        #[arg(value_name = "ID")]
        id: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct ModelsArgs {
    /// Only the models of this language: python, bash, rust or config.
    #[arg(long, value_name = "L")]
    pub language: Option<String>,
    /// A directory of model and rule files that add to or override the built-in ones (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// Output formats of `knockon rules` and `knockon models`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// Repositories (any directories) to draw; default: the current directory.
    #[arg(value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Only what touches these resources (repeatable): a path glob (`/data/ticker/**`), or
    /// `env:NAME`, `secret:ID`, `queue:NAME` (globs), as `knockon who` takes them.
    #[arg(long = "resource", value_name = "GLOB")]
    pub resources: Vec<String>,
    /// Only accesses in this repository (repeatable; a repository is named by its directory's
    /// basename).
    #[arg(long = "repo", value_name = "NAME")]
    pub repos: Vec<String>,
    /// A directory of model and rule files that add to or override the built-in ones (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Output format: Graphviz DOT, Mermaid, JSON, or one self-contained HTML page (the drawn
    /// graph and a table of accesses; no network needed to view it).
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

/// Output formats of `knockon graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Json,
    Html,
}

/// Where extracted facts are kept between runs (see `store::cache::location`).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct CacheArgs {
    /// Keep extracted facts in DIR between runs [default: $KNOCKON_CACHE (`off` disables),
    /// else $XDG_CACHE_HOME/knockon, else ~/.cache/knockon].
    #[arg(
        long = "cache",
        value_name = "DIR",
        conflicts_with = "no_cache",
        global = true
    )]
    pub cache: Option<PathBuf>,
    /// Extract every file afresh; read and write no cache.
    #[arg(long = "no-cache", global = true)]
    pub no_cache: bool,
}

#[derive(Debug, clap::Args)]
pub struct CacheCommandArgs {
    #[command(subcommand)]
    pub action: CacheAction,
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Entries, bytes, the database's path and its bound, hits and misses.
    Stats,
    /// Delete least recently used entries until the cache is at most its bound.
    Prune {
        /// The size to prune to (`512M`, `1G`, bytes) [default: $KNOCKON_CACHE_MAX_BYTES, else
        /// 512M].
        #[arg(long = "max-size", value_name = "SIZE")]
        max_size: Option<String>,
    },
    /// Delete every entry.
    Clear,
}

#[derive(Debug, clap::Args)]
pub struct IndexArgs {
    /// Repositories (any directories) to index; default: the current directory.
    #[arg(value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Write a new index file holding exactly these repositories (replaces FILE).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["publish", "index"])]
    pub out: Option<PathBuf>,
    /// Add the repositories to an existing index (created when absent), each replacing an
    /// older commit of itself; a repository whose index holds a newer commit is left alone.
    #[arg(long, requires = "index")]
    pub publish: bool,
    /// The index to publish to: a file, or `postgres://user@host/db`.
    #[arg(
        long,
        value_name = "FILE|URL",
        env = "KNOCKON_INDEX",
        hide_env_values = true
    )]
    pub index: Option<String>,
    /// A directory of model and rule files that add to or override the built-in ones (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct FactsArgs {
    /// Files to extract (their language is detected as in a repository).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// A directory of model and rule files that add to or override the built-in ones (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Debug, clap::Args)]
pub struct WhoArgs {
    /// A path or glob (`/data/ticker/ticker_*.csv`; `/**` lists every absolute path), or a name
    /// of another kind: `env:DB_PASSWORD`, `secret:prod/api/*`, `queue:orders*`.
    #[arg(value_name = "PATH")]
    pub pattern: String,
    /// Repositories (any directories) to search; default: the current directory.
    #[arg(value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// A directory of model and rule files that add to or override the built-in ones (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = WhoFormat::Text)]
    pub format: WhoFormat,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// Output formats of `knockon who`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum WhoFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The git repository the change is in (its name is the directory's basename).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// The change is BASE..HEAD (HEAD defaults to the working tree, uncommitted edits included).
    #[arg(
        long,
        value_name = "REV",
        required_unless_present = "diff",
        conflicts_with = "diff"
    )]
    pub base: Option<String>,
    /// The head revision; without it, the working tree.
    #[arg(long, value_name = "REV", requires = "base")]
    pub head: Option<String>,
    /// A unified diff (git format) of the change against --repo's working tree, applied or not
    /// yet applied; `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    pub diff: Option<String>,
    /// Another repository to search for impacted code (repeatable).
    #[arg(long = "context", value_name = "DIR")]
    pub context: Vec<PathBuf>,
    /// An index of other repositories (`knockon index`): a file, or `postgres://user@host/db`.
    /// Every indexed repository the change can involve is used, unless it is the changed
    /// repository or given with --context (a checkout wins).
    #[arg(
        long,
        value_name = "FILE|URL",
        env = "KNOCKON_INDEX",
        hide_env_values = true
    )]
    pub index: Option<String>,
    /// A directory of model and rule files that add to or override the built-in ones (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Do not read files of languages knockon does not parse (PHP, Ruby, Go, JS, JSON...) for
    /// paths and variable names; their low-confidence findings go too.
    #[arg(long = "no-generic")]
    pub no_generic: bool,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Repositories (any directories) to audit together, as one world; default: the current
    /// directory. The first one's knockon.toml applies (rule settings, fail_on, excludes).
    #[arg(value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// A directory of model and rule files that add to or override the built-in ones (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// A path glob produced outside the analysed repositories (repeatable): its readers and
    /// cleanups are not reported, like the built-in assumptions (`/etc/**`, `/proc/**`...).
    #[arg(long = "assume", value_name = "GLOB")]
    pub assume: Vec<String>,
    /// Print the assumed external producers (what counts as produced outside the analysed
    /// repositories) and exit.
    #[arg(long = "explain-assumptions")]
    pub explain_assumptions: bool,
    /// An index of repositories (`knockon index`): a file, or `postgres://user@host/db`. Every
    /// indexed repository that is not given as DIR joins the world (an audit reads the whole
    /// index); with no DIR, the audit is of the index alone.
    #[arg(
        long,
        value_name = "FILE|URL",
        env = "KNOCKON_INDEX",
        hide_env_values = true
    )]
    pub index: Option<String>,
    /// Do not read files of languages knockon does not parse (PHP, Ruby, Go, JS, JSON...).
    #[arg(long = "no-generic")]
    pub no_generic: bool,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// How findings are shown, filtered by a baseline, and turned into an exit code: the same for
/// `check` and `audit`.
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// Output format (the exit code is the same for every format).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Colour the text report: `auto` when standard output is a terminal and NO_COLOR is not set.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Exit with code 1 when a finding is at or above this severity (error > warning > info;
    /// `never`: 0 whatever is found) [default: `fail_on` of knockon.toml, else warning].
    #[arg(long = "fail-on", value_enum)]
    pub fail_on: Option<FailOn>,
    /// Leave out findings recorded in FILE (written by --write-baseline), matched by
    /// fingerprints that survive line moves; the summary says how many entries no longer match.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record every finding of this run in FILE (JSON), for --baseline in later runs.
    #[arg(long = "write-baseline", value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
}

/// The severity threshold for exit code 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}
