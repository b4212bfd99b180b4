//! Simple commands -> accesses, driven by the Bash models: option parsing, operand selection,
//! wrappers, interpreters, `xargs`, `test`, `source`, and the built-ins that change the walker's
//! own state (`cd`, `pushd`, `popd`, `read`, `eval`).

use super::words::{Positions, Word, command_words, normalize_concat, placeholder};
use super::{Captured, Host, MAX_SNIPPET_NESTING, Walker, analyse, rebase_on};
use crate::expr::Expr;
use crate::extract::{CallRef, Reach, RunRef, RunTarget};
use crate::model::Mode;
use crate::rules::models::bash::{
    CommandModel, Dest, Flag, FlagSet, InterpreterModel, OperandsModel, OptionSyntax, ReachKind,
    ScriptLanguage, Select, TestModel, WrapperModel, XargsModel,
};
use tree_sitter::Node;

/// Directories whose programs are looked up by their base name (`/usr/bin/find` is `find`);
/// any other path is a script the command runs.
const SYSTEM_BIN_DIRS: &[&str] = &[
    "/bin",
    "/usr/bin",
    "/usr/local/bin",
    "/sbin",
    "/usr/sbin",
    "/usr/local/sbin",
    "/opt/homebrew/bin",
];

/// Extensions of scripts run by name from `PATH` (`cleanup.sh`).
const SCRIPT_EXTENSIONS: &[&str] = &[".sh", ".bash", ".py", ".pl", ".rb", ".ksh", ".zsh"];

/// A command's words split into options and operands.
pub(super) struct Parsed {
    pub flags: Vec<(Flag, Option<Word>)>,
    pub operands: Vec<Operand>,
}

/// An operand, its index among the arguments, and the directory a `cwd_flags` option set for it.
pub(super) struct Operand {
    pub index: usize,
    pub word: Word,
    pub base: Option<Expr>,
}

impl Parsed {
    pub fn has(&self, set: &FlagSet) -> bool {
        self.flags.iter().any(|(f, _)| set.contains(f))
    }

    pub fn value(&self, set: &FlagSet) -> Option<&Word> {
        self.flags
            .iter()
            .find(|(f, v)| set.contains(f) && v.is_some())
            .and_then(|(_, v)| v.as_ref())
    }
}

/// getopt-style parsing: `--` ends options, `--name[=value]`, clusters `-abc` whose value
/// option takes the rest of the cluster or the next word, and (for `tar`) a leading cluster
/// without a dash whose value options take the following words in order.
pub(super) fn parse_args(syntax: &OptionSyntax, args: &[Word], cwd_flags: &FlagSet) -> Parsed {
    let mut parsed = Parsed {
        flags: Vec::new(),
        operands: Vec::new(),
    };
    let mut only_operands = false;
    let mut seen_option = false;
    let mut base: Option<Expr> = None;
    let mut i = 0;
    while let Some(word) = args.get(i) {
        let lead = word.leading_lit();
        let mut push_flag = |parsed: &mut Parsed, flag: Flag, value: Option<Word>| {
            if cwd_flags.contains(&flag)
                && let Some(v) = &value
            {
                base = Some(v.expr());
            }
            parsed.flags.push((flag, value));
        };
        if i == 0 && syntax.leading_cluster && is_bare_cluster(word) {
            for c in lead.chars() {
                let flag = Flag::Short(c);
                let value = if syntax.value_flags.contains(&flag) {
                    i += 1;
                    args.get(i).cloned()
                } else {
                    None
                };
                push_flag(&mut parsed, flag, value);
            }
            i += 1;
            continue;
        }
        if only_operands || !lead.starts_with('-') || lead == "-" {
            // `redis-server CONF --save 900 1`: after an option, words are its values.
            if syntax.leading_operands && seen_option && !only_operands {
                i += 1;
                continue;
            }
            parsed.operands.push(Operand {
                index: i,
                word: word.clone(),
                base: base.clone(),
            });
            only_operands |= syntax.options_first;
            i += 1;
            continue;
        }
        if word.lit().as_deref() == Some("--") {
            only_operands = true;
            i += 1;
            continue;
        }
        seen_option = true;
        if let Some(body) = lead.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((name, _)) => (name, Some(word.slice_from(3 + name.chars().count()))),
                None => (body, None),
            };
            let flag = Flag::Long(name.to_string());
            let value = match inline {
                Some(v) => Some(v),
                None if syntax.value_flags.contains(&flag) => {
                    i += 1;
                    args.get(i).cloned()
                }
                None => None,
            };
            push_flag(&mut parsed, flag, value);
            i += 1;
            continue;
        }
        for (k, c) in lead.chars().skip(1).enumerate() {
            let flag = Flag::Short(c);
            if !syntax.value_flags.contains(&flag) {
                push_flag(&mut parsed, flag, None);
                continue;
            }
            let rest = word.slice_from(k + 2);
            let value = if rest.is_empty() {
                i += 1;
                args.get(i).cloned()
            } else {
                Some(rest)
            };
            push_flag(&mut parsed, flag, value);
            break;
        }
        i += 1;
    }
    parsed
}

/// `czf` as the first word of `tar czf out.tgz dir`.
/// How a sourced file is found from the path written: `@script/REL` for a path relative to the
/// script's own directory (`"$(dirname "$0")/lib.sh"`), the path itself when literal, and
/// `*TAIL` for a literal tail after an unknown directory (`"$LIB_DIR/config.sh"`).
pub(super) fn sourced_module(expr: &Expr) -> Option<String> {
    let parts: Vec<&Expr> = match expr {
        Expr::Lit { text } => return Some(text.to_string()),
        Expr::Concat { parts } => parts.iter().collect(),
        _ => return None,
    };
    let tail_start = parts
        .iter()
        .rposition(|p| !matches!(p, Expr::Lit { .. }))
        .map_or(0, |i| i + 1);
    let tail: String = parts[tail_start..]
        .iter()
        .filter_map(|p| p.as_lit())
        .collect();
    if tail.trim_matches('/').is_empty() {
        return None;
    }
    if tail_start == 1
        && matches!(parts.first(), Some(Expr::Hole { label, .. }) if label == "script dir")
    {
        return Some(format!("@script/{}", tail.trim_start_matches('/')));
    }
    if tail_start == 0 {
        return Some(tail);
    }
    Some(format!("*{tail}"))
}

fn is_bare_cluster(word: &Word) -> bool {
    word.lit().is_some_and(|l| {
        !l.is_empty() && l.len() <= 12 && l.chars().all(|c| c.is_ascii_alphabetic())
    })
}

fn select(select: Select, operands: &[Operand]) -> &[Operand] {
    let n = operands.len();
    let range = match select {
        Select::All => 0..n,
        Select::AllButLast => 0..n.saturating_sub(1),
        // The destination exists only with a source: `ln -s /x` and `rsync /src/` have none.
        Select::Last if n >= 2 => n - 1..n,
        Select::Last => 0..0,
        Select::First => 0..n.min(1),
        Select::Rest => n.min(1)..n,
    };
    operands.get(range).unwrap_or_default()
}

/// URL schemes of object stores and file-transfer services: an operand spelled with one is a
/// remote resource (a path-like pattern of its own namespace, see
/// [`crate::pattern::Pattern::is_remote`]); other URLs (`https://`) are no path.
const REMOTE_SCHEMES: &[&str] = &[
    "s3", "s3a", "s3n", "gs", "gcs", "az", "abfs", "abfss", "wasb", "wasbs", "hdfs", "r2", "oss",
    "b2", "rsync", "ssh", "sftp", "rclone",
];

/// The scheme of a URL's leading text, when it is one of [`REMOTE_SCHEMES`].
pub(super) fn remote_scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    REMOTE_SCHEMES.contains(&scheme).then_some(scheme)
}

/// What an operand names, as far as the machine is concerned.
enum Where {
    Local,
    /// On another machine or in an object store: the remote pattern's expression
    /// (`s3://b/k`; `host:/p` as `ssh://host/p`; `host::mod/p` as `rsync://host/mod/p`;
    /// `remote:p` of rclone as `rclone://remote/p`).
    Remote(Expr),
    /// Elsewhere, but not a resource knockon follows (`https://...`).
    Elsewhere,
}

/// Where an operand is (`host:path`, `rsync://`, `s3://`, `https://`); `host:path` counts only
/// for rows with `remote_operands`, and is written with the row's `remote_scheme` (`ssh` when
/// none is given; `host::module` is always rsync's daemon).
fn remote(word: &Word, remote_operands: bool, scheme: Option<&str>) -> Where {
    let lead = word.leading_lit();
    if lead.contains("://") {
        return match remote_scheme(&lead) {
            Some(_) => Where::Remote(word.expr()),
            None => Where::Elsewhere,
        };
    }
    if !remote_operands {
        return Where::Local;
    }
    let Some(colon) = lead.find(':') else {
        return Where::Local;
    };
    if colon == 0 || lead.find('/').is_some_and(|s| s < colon) {
        return Where::Local;
    }
    let host = lead.get(..colon).unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let (scheme, skip) = if lead.get(colon + 1..).is_some_and(|r| r.starts_with(':')) {
        ("rsync", colon + 2)
    } else {
        (scheme.unwrap_or("ssh"), colon + 1)
    };
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '[' | ']'));
    if !valid {
        return Where::Elsewhere;
    }
    let rest = word.slice_from(skip).expr();
    let relative = !lead.get(skip..).is_some_and(|r| r.starts_with('/')) && scheme == "ssh";
    let root = format!(
        "{scheme}://{host}{}",
        match (
            relative,
            lead.get(skip..).is_some_and(|r| r.starts_with('/'))
        ) {
            (true, _) => "/~/",
            (false, true) => "",
            (false, false) => "/",
        }
    );
    Where::Remote(normalize_concat(vec![Expr::lit(root), rest]))
}

/// Whether the path's last part is a glob: listing it lists the matches, not a directory.
fn ends_with_glob(expr: &Expr) -> bool {
    match expr {
        Expr::Glob { .. } => true,
        Expr::Concat { parts } => parts.last().is_some_and(ends_with_glob),
        Expr::Alt { options } => options.iter().all(ends_with_glob),
        _ => false,
    }
}

/// The name each item of a producer keeps when copied into a directory (`xargs cp -t DIR`).
const EACH_ITEM_NAME: &str = "name of each item";

/// Deepest chain of variables followed to find a file name.
const MAX_NAME_DEPTH: u32 = 8;

/// Whether a destination is written with a trailing `/` (`cp x /srv/`): then it is a directory.
fn ends_with_slash(expr: &Expr) -> bool {
    match expr {
        Expr::Lit { text } | Expr::Glob { text } => text.ends_with('/'),
        Expr::Concat { parts } => parts.last().is_some_and(ends_with_slash),
        _ => false,
    }
}

/// A short text for a hole's label: the variable's name, or the literal text.
fn describe(expr: &Expr) -> String {
    match expr {
        Expr::Lit { text } | Expr::Glob { text } => text.to_string(),
        Expr::Var { name, .. } | Expr::Env { name, .. } => format!("${name}"),
        Expr::Hole { label, .. } => label.to_string(),
        Expr::Concat { parts } | Expr::Join { parts } => {
            parts.iter().map(describe).collect::<Vec<_>>().join("")
        }
        _ => "source".to_string(),
    }
}

fn reach(kind: ReachKind, tree: bool, expr: &Expr) -> Reach {
    if tree {
        return Reach::Tree;
    }
    match kind {
        ReachKind::Exact => Reach::Exact,
        ReachKind::Tree => Reach::Tree,
        ReachKind::Children if ends_with_glob(expr) => Reach::Exact,
        ReachKind::Children => Reach::Children,
    }
}

/// `NAME=value` before a wrapped command (`env A=1 cmd`).
fn is_assignment_word(word: &Word) -> bool {
    let lead = word.leading_lit();
    let Some((name, _)) = lead.split_once('=') else {
        return false;
    };
    is_name(name)
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The variables `read` (or `mapfile`) assigns: its operands, or `REPLY`.
pub(super) fn read_vars(args: &[Word]) -> Vec<String> {
    let syntax = OptionSyntax {
        value_flags: [
            "-d", "-p", "-t", "-n", "-N", "-u", "-i", "-a", "-O", "-s", "-C", "-c",
        ]
        .iter()
        .filter_map(|f| Flag::parse(f))
        .collect(),
        options_first: false,
        leading_cluster: false,
        leading_operands: false,
    };
    let parsed = parse_args(&syntax, args, &FlagSet::default());
    let mut vars: Vec<String> = parsed
        .operands
        .iter()
        .filter_map(|o| o.word.lit())
        .filter(|n| is_name(n))
        .collect();
    let array: FlagSet = [Flag::Short('a')].into_iter().collect();
    if let Some(name) = parsed.value(&array).and_then(Word::lit) {
        vars.push(name);
    }
    if vars.is_empty() {
        vars.push("REPLY".to_string());
    }
    vars
}

/// The value of a command-string option (`su -c 'cmd'`, `flock -c 'cmd'`), wherever it is.
fn command_string(args: &[Word], flags: &FlagSet) -> Option<Word> {
    for (i, word) in args.iter().enumerate() {
        let lead = word.leading_lit();
        if let Some(body) = lead.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((name, _)) => (name, Some(word.slice_from(3 + name.chars().count()))),
                None => (body, None),
            };
            if flags.has_long(name) {
                return inline.or_else(|| args.get(i + 1).cloned());
            }
        } else if let Some(cluster) = lead.strip_prefix('-') {
            let letters: Vec<char> = cluster.chars().collect();
            if let Some(k) = letters.iter().position(|c| flags.has_short(*c)) {
                let rest = word.slice_from(k + 2);
                return if rest.is_empty() {
                    args.get(i + 1).cloned()
                } else {
                    Some(rest)
                };
            }
        }
    }
    None
}

/// What a wrapper runs: its command's words, the `NAME=value` words before them (`env A=1
/// cmd`) and, for a container wrapper, the word naming the container.
pub(super) struct Wrapped<'w> {
    pub command: &'w [Word],
    pub assignments: Vec<&'w Word>,
    pub container: Option<&'w Word>,
}

/// The command a wrapper runs (`sudo -u app tee F` -> `tee F`); `None` when it runs nothing
/// (`command -v x`, no operand). The wrapper's own command-string options (`su -c`) are the
/// caller's to check first.
pub(super) fn wrapped_command<'w>(m: &WrapperModel, args: &'w [Word]) -> Option<Wrapped<'w>> {
    let parsed = parse_args(&m.syntax, args, &FlagSet::default());
    if parsed.has(&m.inert_flags) {
        return None;
    }
    let first = parsed.operands.first()?;
    let mut rest = args.get(first.index..).unwrap_or_default();
    let mut assignments = Vec::new();
    if m.assignments {
        while let Some(word) = rest.first().filter(|w| is_assignment_word(w)) {
            assignments.push(word);
            rest = rest.get(1..).unwrap_or_default();
        }
    }
    let skip = if parsed.has(&m.skip_unless_flags) {
        0
    } else {
        m.skip_operands
    };
    let container = if m.container {
        rest.first().filter(|_| skip > 0)
    } else {
        None
    };
    let mut rest = rest.get(skip.min(rest.len())..).unwrap_or_default();
    let dashes = |w: &Word| w.lit().as_deref() == Some("--");
    if m.container {
        // `kubectl exec pod -n prod -- cmd`: the command is what follows `--`.
        if let Some(at) = rest.iter().position(dashes) {
            rest = rest.get(at + 1..).unwrap_or_default();
        }
    } else if rest.first().is_some_and(dashes) {
        rest = rest.get(1..).unwrap_or_default();
    }
    Some(Wrapped {
        command: rest,
        assignments,
        container,
    })
}

/// The path of a `KEY=PATH` option value (`--from-file=tls.key=/etc/x.key`): what follows the
/// first `=` when the literal text before it has no `/`; otherwise the value itself.
pub(super) fn keyed_value(value: &Word) -> Word {
    let lead = value.leading_lit();
    match lead.find('=') {
        Some(at)
            if !lead
                .get(..at)
                .is_some_and(|k| k.contains('/') || k.is_empty()) =>
        {
            let chars = lead.get(..at).map_or(0, |k| k.chars().count());
            value.slice_from(chars + 1)
        }
        _ => value.clone(),
    }
}

/// `-n`, `-eq`, `-o`: a test operator, never a path operand.
pub(super) fn is_operator_word(text: &str) -> bool {
    text.strip_prefix('-').is_some_and(|rest| {
        !rest.is_empty() && rest.len() <= 3 && rest.chars().all(|c| c.is_ascii_alphabetic())
    })
}

/// Most subcommand words in a row's name (`gcloud secrets versions access`).
const MAX_SUBCOMMAND_WORDS: usize = 3;
/// Most leading global options skipped before a subcommand.
const MAX_GLOBAL_OPTION_WORDS: usize = 8;

/// Where a subcommand may start after leading global options: each option may or may not
/// take the next word as its value (`--region X`, `--debug`), so every reachable position
/// is a candidate, nearest first.
fn subcommand_starts(args: &[Word]) -> Vec<usize> {
    let is_option = |i: usize| {
        args.get(i)
            .map(|w| w.leading_lit())
            .is_some_and(|l| l.starts_with('-') && l.len() > 1 && l != "--")
    };
    let mut reachable = [false; MAX_GLOBAL_OPTION_WORDS + 3];
    let mut starts = Vec::new();
    if let Some(first) = reachable.first_mut() {
        *first = true;
    }
    for i in 0..reachable.len() {
        if !reachable.get(i).copied().unwrap_or(false) || i >= args.len() {
            continue;
        }
        if !is_option(i) {
            starts.push(i);
            continue;
        }
        let takes_inline = args.get(i).is_some_and(|w| w.leading_lit().contains('='));
        for next in [i + 1, i + 2] {
            if next == i + 2 && takes_inline {
                continue;
            }
            if let Some(slot) = reachable.get_mut(next) {
                *slot = true;
            }
        }
    }
    if starts.is_empty() {
        starts.push(0);
    }
    starts
}

/// What a command name resolves to.
enum Lookup<'m> {
    Model(String, &'m CommandModel),
    Script,
    Unknown,
}

impl<'a> Walker<'a> {
    /// Runs one simple command given as words (from the tree, a wrapper, `xargs` or `-exec`).
    pub(super) fn run(&mut self, words: &[Word], line: u32, feed: Option<&[Captured]>) {
        if !self.enter(line) {
            return;
        }
        self.run_words(words, line, feed);
        self.depth -= 1;
    }

    fn run_words(&mut self, words: &[Word], line: u32, feed: Option<&[Captured]>) {
        let Some((first, args)) = words.split_first() else {
            return;
        };
        let Some(name) = first.lit() else {
            return self.run_computed(first, args, line, feed);
        };
        match name.as_str() {
            "cd" => return self.cd(args, line, false),
            "pushd" => return self.cd(args, line, true),
            "popd" => {
                self.cwd = self
                    .dir_stack
                    .pop()
                    .unwrap_or_else(|| Some(Expr::path_hole("popd")));
                return;
            }
            // `while getopts "ab:" OPT`: OPT holds each option letter.
            "getopts" => {
                if let Some(var) = args.get(1).and_then(Word::lit) {
                    let hole = Expr::hole(format!("getopts {var}"));
                    self.bind(var, hole, line);
                }
                return;
            }
            "read" | "mapfile" | "readarray" => {
                for var in read_vars(args) {
                    let hole = Expr::path_hole(format!("{name} {var}"));
                    self.bind(var, hole, line);
                }
                return;
            }
            "eval" => {
                let text: Option<Vec<String>> = args.iter().map(Word::lit).collect();
                if let (Some(text), Some(arg)) = (text, args.first()) {
                    self.snippet(&text.join(" "), arg.line);
                }
                return;
            }
            "trap" => return self.trap(args, line),
            "start-stop-daemon" => return self.start_stop_daemon(args, line, feed),
            "set" => {
                let words: Vec<String> = args.iter().map_while(Word::lit).collect();
                if let Some(on) = super::env::nounset_change(&words) {
                    self.log.set_nounset(line, on);
                }
                if let Some(at) = args.iter().position(|w| w.lit().as_deref() == Some("--")) {
                    self.set_positions(args.get(at + 1..).unwrap_or_default());
                }
                return;
            }
            "shift" => return self.shift(args),
            _ => {}
        }
        // A function defined in the script shadows any program of the same name.
        if self.log.functions.contains(&name) {
            let args = args
                .iter()
                .take(9)
                .map(|word| {
                    let value = word.expr();
                    // `"$@"`: the caller's own arguments, positions unknown from here on.
                    let spread = matches!(&value, Expr::Hole { label, .. } if label == "$@" || label == "$*");
                    crate::extract::CallArg {
                        keyword: spread.then(|| "*".into()),
                        value,
                    }
                })
                .collect();
            self.facts.calls.push(CallRef {
                scope: self.scope,
                line,
                callee: name.into(),
                args,
            });
            return;
        }
        let all_args = args;
        // `/srv/app/venv/bin/celery -A proj worker`: an installed program's subcommands are
        // the program's.
        let name = match name.rsplit_once('/') {
            Some((dir, base))
                if (SYSTEM_BIN_DIRS.contains(&dir)
                    || (dir.starts_with('/')
                        && (dir.ends_with("/bin") || dir.ends_with("/sbin"))))
                    && self.models.has_subcommands(base) =>
            {
                base.to_string()
            }
            _ => name,
        };
        let program = name.clone();
        let (name, args, globals) = self.subcommand(name, args);
        self.program_env_reads(&program, line);
        match self.lookup(&name) {
            // `celery -A proj worker`: the application option comes before the subcommand.
            Lookup::Model(via, CommandModel::Interpreter(m)) if !m.app_flags.is_empty() => {
                self.interpreter(m, &via, all_args, line)
            }
            // `restic -r REPO backup /etc`: the global options before the subcommand are the
            // row's options too.
            Lookup::Model(via, CommandModel::Operands(m)) => {
                self.operands(m, &via, args, line, feed, globals)
            }
            Lookup::Model(via, model) => self.apply(model, &via, args, line, feed),
            Lookup::Script => self.run_ref(first.expr(), line),
            // A program no model knows may be one a repository declares (`crm-sync`).
            Lookup::Unknown if is_program_name(&name) => {
                self.unknown_program_options(&name, args, line);
                self.facts.runs.push(RunRef {
                    scope: self.scope,
                    line,
                    target: RunTarget::Program { name },
                })
            }
            Lookup::Unknown => {}
        }
    }

    /// `shift` / `shift N` in a function: in straight-line code the positions move by N; in
    /// a loop, a branch or with a count that is not a number they become unknown.
    fn shift(&mut self, args: &[Word]) {
        let Some(positions) = self.positions.as_mut() else {
            return;
        };
        let count = match args.first() {
            None => Some(1),
            Some(word) => word.lit().and_then(|l| l.parse::<u32>().ok()),
        };
        *positions = match (std::mem::replace(positions, Positions::Unknown), count) {
            (_, _) if self.branch_depth > 0 => Positions::Unknown,
            (Positions::Params(offset), Some(n)) => Positions::Params(offset.saturating_add(n)),
            (Positions::Values(values), Some(n)) => {
                Positions::Values(values.into_iter().skip(n as usize).collect())
            }
            _ => Positions::Unknown,
        };
    }

    /// `set -- a b` in a function: `$1` is `a` from here on (in straight-line code; unknown
    /// in a loop or a branch, or with `"$@"` or a word that splits into unknown fields).
    fn set_positions(&mut self, words: &[Word]) {
        let Some(positions) = self.positions.as_mut() else {
            return;
        };
        let values: Vec<Expr> = words.iter().map(Word::expr).collect();
        let countable = values
            .iter()
            .all(|v| !matches!(v, Expr::Hole { label, .. } if label == "$@" || label == "$*"))
            && words.iter().all(|w| {
                w.source.starts_with(['"', '\''])
                    || w.lit().is_some_and(|l| !l.contains(['*', '?', '[']))
            });
        *positions = if self.branch_depth == 0 && countable && values.len() <= 9 {
            Positions::Values(values)
        } else {
            Positions::Unknown
        };
    }

    /// `aws s3 cp ...`: a row named with its subcommands takes precedence over the program's.
    /// Global options may come first (`aws --region eu-west-1 sqs send-message`); they are
    /// dropped.
    fn subcommand<'w>(&self, name: String, args: &'w [Word]) -> (String, &'w [Word], &'w [Word]) {
        let starts = if self.models.has_subcommands(&name) {
            subcommand_starts(args)
        } else {
            vec![0]
        };
        for start in starts {
            for k in (1..=MAX_SUBCOMMAND_WORDS).rev() {
                let Some(subs) = args.get(start..start + k) else {
                    continue;
                };
                let subs: Option<Vec<String>> = subs
                    .iter()
                    .map(|w| w.lit().filter(|l| !l.starts_with('-')))
                    .collect();
                let Some(subs) = subs else { continue };
                let joined = format!("{name} {}", subs.join(" "));
                if self.models.command(&joined).is_some() {
                    return (
                        joined,
                        args.get(start + k..).unwrap_or_default(),
                        args.get(..start).unwrap_or_default(),
                    );
                }
            }
        }
        (name, args, &[])
    }

    fn lookup(&self, name: &str) -> Lookup<'a> {
        let models = self.models;
        if let Some(model) = models.command(name) {
            return Lookup::Model(name.to_string(), model);
        }
        if let Some((dir, base)) = name.rsplit_once('/') {
            if SYSTEM_BIN_DIRS.contains(&dir)
                && let Some(model) = models.command(base)
            {
                return Lookup::Model(base.to_string(), model);
            }
            // A virtualenv's or a custom install's interpreter: `/opt/app/venv/bin/python3`.
            if is_python_name(base)
                && let Some(model) = models.command("python3")
            {
                return Lookup::Model(base.to_string(), model);
            }
            // A known program installed in another `bin` directory: `/opt/app/venv/bin/gunicorn`.
            if dir.starts_with('/')
                && (dir.ends_with("/bin") || dir.ends_with("/sbin"))
                && let Some(model) = models.command(base)
            {
                return Lookup::Model(base.to_string(), model);
            }
            return Lookup::Script;
        }
        if is_python_name(name)
            && let Some(model) = models.command("python3")
        {
            return Lookup::Model(name.to_string(), model);
        }
        if SCRIPT_EXTENSIONS.iter().any(|e| name.ends_with(e)) {
            return Lookup::Script;
        }
        Lookup::Unknown
    }

    /// A command name that is not literal: `${PYTHON:-python3}`, `$SUDO rm ...`, `"$DIR/run.sh"`.
    fn run_computed(&mut self, first: &Word, args: &[Word], line: u32, feed: Option<&[Captured]>) {
        let expr = first.expr();
        if let Expr::Var {
            default: Some(d), ..
        } = &expr
            && let Some(name) = d.as_lit()
            && !name.is_empty()
        {
            let mut words = vec![Word::from_lit(name, first.line)];
            words.extend_from_slice(args);
            return self.run(&words, line, feed);
        }
        let next_is_command = args
            .first()
            .and_then(Word::lit)
            .is_some_and(|n| self.models.command(&n).is_some());
        if next_is_command {
            return self.run(args, line, feed);
        }
        if let Expr::Var { name, .. } = &expr
            && name.to_ascii_lowercase().contains("python")
            && let Some(model) = self.models.command("python3")
        {
            return self.apply(model, name, args, line, None);
        }
        // `"$VENV/bin/python" -m crm.sync`, `"$VENV/bin/gunicorn" app:app`: the interpreter or a
        // known program of a virtualenv somewhere.
        if let Expr::Concat { parts } = &expr
            && let Some(Expr::Lit { text }) = parts.last()
            && let Some((dir, base)) = text.rsplit_once('/')
        {
            let model = if is_python_name(base) {
                self.models.command("python3")
            } else if dir.ends_with("/bin") || dir.ends_with("/sbin") || dir == "bin" {
                self.models.command(base)
            } else {
                None
            };
            if let Some(model) = model {
                self.program_env_reads(base, line);
                return self.apply(model, base, args, line, None);
            }
        }
        self.run_ref(expr, line);
    }

    fn apply(
        &mut self,
        model: &'a CommandModel,
        via: &str,
        args: &[Word],
        line: u32,
        feed: Option<&[Captured]>,
    ) {
        match model {
            CommandModel::Operands(m) => self.operands(m, via, args, line, feed, &[]),
            CommandModel::Wrapper(m) => self.wrapper(m, via, args, line, feed),
            CommandModel::Interpreter(m) => self.interpreter(m, via, args, line),
            CommandModel::Xargs(m) => self.xargs(m, args, line),
            CommandModel::Find => self.find(via, args, line, feed),
            CommandModel::Test(m) => self.test_words(m, args, line),
            CommandModel::Source => self.source(via, args, line),
            CommandModel::Resource(m) => self.resource(m, via, args, line),
            CommandModel::Signal(m) => self.signal(m, args, line),
            CommandModel::Listener(m) => self.listener(m, args, line),
        }
    }

    /// What a program reads from its environment itself (`[[env_reads]]`: `pg_dump` reads
    /// `PGPASSWORD`): optional reads of the script's environment, at the command's line,
    /// unless the command does not see that environment (a container, `sudo`) or sets the
    /// variable for itself (`PGPASSWORD=x pg_dump`, `env PGPASSWORD=x pg_dump`). A variable
    /// the script assigns before is its own, not read (see `env.rs`). `name` is the command
    /// as written: a program of a `bin` directory (`/usr/lib/postgresql/15/bin/pg_dump`) is
    /// its base name.
    fn program_env_reads(&mut self, name: &str, line: u32) {
        if self.foreign_env {
            return;
        }
        let program = match name.rsplit_once('/') {
            Some((dir, base))
                if dir.ends_with("/bin") || dir.ends_with("/sbin") || dir == "bin" =>
            {
                base
            }
            Some(_) => return,
            None => name,
        };
        let names = self.models.env_reads(program);
        if names.is_empty() {
            return;
        }
        // The command's own `NAME=value` words were recorded just before it runs.
        let set_here: Vec<&str> = self
            .facts
            .accesses
            .iter()
            .rev()
            .take_while(|a| a.line == line)
            .filter(|a| a.mode == Mode::Set)
            .filter_map(|a| match &a.resource {
                crate::extract::RawResource::Env(target) => target.name.as_lit(),
                _ => None,
            })
            .collect();
        let reads: Vec<String> = names
            .iter()
            .filter(|n| !set_here.contains(&n.as_str()))
            .cloned()
            .collect();
        for var in reads {
            self.log.program_read(var, program, self.scope, line);
        }
    }

    fn operands(
        &mut self,
        m: &OperandsModel,
        via: &str,
        args: &[Word],
        line: u32,
        feed: Option<&[Captured]>,
        globals: &[Word],
    ) {
        let mut parsed = parse_args(&m.syntax, args, &m.cwd_flags);
        if !globals.is_empty() {
            // Only their options: a global option's value is never an operand of the row.
            let global = parse_args(&m.syntax, globals, &FlagSet::default());
            parsed.flags.extend(global.flags);
        }
        let mut rules = m.operands.clone();
        let mut flag_rules = m.flag_values.clone();
        for when in m.when.iter().filter(|w| parsed.has(&w.flags)) {
            if let Some(operands) = &when.operands {
                rules.clone_from(operands);
            }
            if let Some(flag_values) = &when.flag_values {
                flag_rules.clone_from(flag_values);
            }
            rules.extend(when.also.iter().cloned());
        }
        let tree = parsed.has(&m.tree_flags);
        let skip = m.skip_operands > 0 && !parsed.has(&m.skip_unless_flags);
        if parsed.operands.is_empty() {
            parsed.operands = m
                .default_operands
                .iter()
                .map(|text| Operand {
                    index: args.len(),
                    word: Word::from_lit(text, line),
                    base: None,
                })
                .collect();
        }
        let urls: Vec<Word> = match &m.http {
            Some(_) => parsed.operands.iter().map(|o| o.word.clone()).collect(),
            None => Vec::new(),
        };
        let mut operands: Vec<Operand> = Vec::with_capacity(parsed.operands.len());
        for operand in std::mem::take(&mut parsed.operands) {
            let lead = operand.word.leading_lit();
            let keyed = m.key_operands.iter().find(|k| {
                lead.strip_prefix(k.key.as_str())
                    .is_some_and(|rest| rest.starts_with('='))
            });
            match keyed {
                Some(rule) => {
                    let value = operand.word.slice_from(rule.key.chars().count() + 1);
                    let expr = value.expr();
                    let reach = reach(rule.reach, false, &expr);
                    self.emit(expr, rule.mode, reach, None, line, via.to_string());
                }
                None => operands.push(operand),
            }
        }
        if skip {
            operands.drain(..m.skip_operands.min(operands.len()));
        }
        let saved_watching = self.watching;
        self.watching = saved_watching || parsed.has(&m.watch_flags);
        let source_exprs = |except: Option<usize>| -> Vec<Expr> {
            operands
                .iter()
                .filter(|o| Some(o.index) != except)
                .map(|o| match &o.base {
                    Some(base) => rebase_on(base, o.word.expr()),
                    None => o.word.expr(),
                })
                .collect()
        };
        // `install -m 640 /dev/null /var/log/app.log`, `cp /dev/null x`: the destination is
        // created empty, not given anyone's content — a weak producer, like `touch`.
        let is_source = |mode: Mode| matches!(mode, Mode::CopyFrom | Mode::MoveFrom);
        let empty_sources = rules.iter().any(|r| is_source(r.mode))
            && rules
                .iter()
                .filter(|r| is_source(r.mode))
                .flat_map(|r| select(r.select, &operands))
                .all(|o| matches!(o.word.expr().as_lit(), Some("/dev/null" | "/dev/zero")));
        for rule in &rules {
            let mode = match rule.mode {
                Mode::MoveTo | Mode::Write if empty_sources => Mode::Create,
                mode => mode,
            };
            for operand in select(rule.select, &operands) {
                let cut;
                let word = match rule.cut.as_deref() {
                    Some(sep) => match operand.word.before(sep) {
                        // `::ARCHIVE` alone: the repository is the program's default.
                        Some(w) if w.is_empty() => continue,
                        Some(w) => {
                            cut = w;
                            &cut
                        }
                        None => &operand.word,
                    },
                    None => &operand.word,
                };
                let mut expr = match remote(word, m.remote_operands, m.remote_scheme.as_deref()) {
                    Where::Local => word.expr(),
                    Where::Remote(expr) => expr,
                    Where::Elsewhere => continue,
                };
                if let Some(base) = &operand.base {
                    expr = rebase_on(base, expr);
                }
                if let Some(suffix) = &rule.suffix {
                    expr = normalize_concat(vec![expr, Expr::lit(suffix.clone())]);
                }
                let targets = if rule.dest == Dest::Path {
                    vec![expr]
                } else {
                    self.destinations(rule.dest, expr, &source_exprs(Some(operand.index)))
                };
                for expr in targets {
                    let reach = reach(rule.reach, tree, &expr);
                    self.emit_fed(expr, mode, reach, line, via, feed);
                }
            }
        }
        self.watching = saved_watching;
        for (flag, value) in &parsed.flags {
            let Some(value) = value else { continue };
            for rule in flag_rules.iter().filter(|r| r.flags.contains(flag)) {
                let keyed;
                let value = if rule.keyed {
                    keyed = keyed_value(value);
                    &keyed
                } else {
                    value
                };
                let expr = match remote(value, m.remote_operands, m.remote_scheme.as_deref()) {
                    Where::Local => value.expr(),
                    Where::Remote(expr) => expr,
                    Where::Elsewhere => continue,
                };
                let targets = if rule.dest == Dest::Path {
                    vec![expr]
                } else {
                    self.destinations(rule.dest, expr, &source_exprs(None))
                };
                for expr in targets {
                    let reach = reach(rule.reach, tree && rule.dest != Dest::Path, &expr);
                    self.emit(expr, rule.mode, reach, None, line, via.to_string());
                }
            }
        }
        if let Some(http) = &m.http {
            self.http(http, &parsed, &urls, line);
        }
    }

    /// What a destination names: the path itself, or, when it is a directory (see [`Dest`]),
    /// `DIR/<name of each source>`.
    fn destinations(&self, dest: Dest, target: Expr, sources: &[Expr]) -> Vec<Expr> {
        let directory = match dest {
            Dest::Path => false,
            Dest::Directory => true,
            Dest::Auto => sources.len() > 1 || ends_with_slash(&target),
        };
        if !directory || sources.is_empty() {
            return vec![target];
        }
        let dir = match target {
            Expr::Lit { text } if text.len() > 1 && text.ends_with('/') => {
                Expr::lit(text.trim_end_matches('/').to_string())
            }
            other => other,
        };
        let mut out: Vec<Expr> = Vec::new();
        for source in sources {
            let name = self.file_name(source, 0);
            let path = normalize_concat(vec![dir.clone(), Expr::lit("/"), name]);
            if !out.contains(&path) {
                out.push(path);
            }
        }
        out
    }

    /// The last path segment of an expression (`basename`): literal where the text says it, a
    /// variable's in-file value where this script gives one, and otherwise a one-segment hole
    /// named after the source, so that `cp "$f" /srv/` writes some file directly in `/srv`.
    fn file_name(&self, expr: &Expr, depth: u32) -> Expr {
        if *expr == placeholder() {
            return Expr::hole(EACH_ITEM_NAME);
        }
        let unknown = || Expr::hole(format!("name of {}", describe(expr)));
        if depth > MAX_NAME_DEPTH {
            return unknown();
        }
        let last_segment = |text: &str, glob: bool| {
            let trimmed = text.trim_end_matches('/');
            let name = trimmed.rsplit('/').next().unwrap_or(trimmed);
            if name.is_empty() || name == "." || name == ".." {
                None
            } else if glob {
                Some(Expr::glob(name))
            } else {
                Some(Expr::lit(name))
            }
        };
        match expr {
            Expr::Lit { text } => last_segment(text, false).unwrap_or_else(unknown),
            Expr::Glob { text } => last_segment(text, true).unwrap_or_else(unknown),
            Expr::Var { name, default, .. } => match self.value_in_file(name) {
                Some(value) => self.file_name(&value, depth + 1),
                None => match default.as_deref() {
                    // `${X:-/etc/app.conf}`: the name when the default is taken is one
                    // possibility, the variable's another.
                    Some(d) => Expr::Alt {
                        options: vec![self.file_name(d, depth + 1), unknown()],
                    },
                    None => unknown(),
                },
            },
            Expr::Hole { label, shape } => match shape {
                crate::expr::HoleShape::Path => Expr::hole(format!("name of {label}")),
                _ => expr.clone(),
            },
            Expr::Alt { options } => Expr::Alt {
                options: options
                    .iter()
                    .map(|o| self.file_name(o, depth + 1))
                    .collect(),
            },
            Expr::Join { parts } => match parts.last() {
                Some(last) => self.file_name(last, depth + 1),
                None => unknown(),
            },
            Expr::Concat { parts } => {
                // From the end, the parts after the last `/`.
                let mut tail: Vec<Expr> = Vec::new();
                let mut rest = parts.as_slice();
                let mut first = true;
                while let Some((last, before)) = rest.split_last() {
                    match last {
                        Expr::Lit { text } | Expr::Glob { text } => {
                            let glob = matches!(last, Expr::Glob { .. });
                            let text = if first {
                                text.trim_end_matches('/')
                            } else {
                                text
                            };
                            let make = |t: &str| {
                                if glob { Expr::glob(t) } else { Expr::lit(t) }
                            };
                            if let Some((_, name)) = text.rsplit_once('/') {
                                if !name.is_empty() {
                                    tail.push(make(name));
                                }
                                rest = &[];
                                break;
                            }
                            if !text.is_empty() {
                                tail.push(make(text));
                            }
                        }
                        // One segment's worth of text: a brace expansion of names (`*.{crt,key}`),
                        // a date or other one-segment hole.
                        Expr::Alt { options }
                            if options.iter().all(|o| {
                                matches!(o, Expr::Lit { text } | Expr::Glob { text } if !text.contains('/'))
                            }) =>
                        {
                            tail.push(last.clone());
                        }
                        Expr::Hole { shape, .. } if *shape != crate::expr::HoleShape::Path => {
                            tail.push(last.clone());
                        }
                        other => {
                            // A variable in the name: its value decides, and without one in
                            // this file, the whole name is unknown (it may hold a `/`).
                            let value = match other {
                                Expr::Var { name, .. } => self.value_in_file(name),
                                _ => None,
                            };
                            let Some(value) = value else {
                                return unknown();
                            };
                            let mut substituted = before.to_vec();
                            substituted.push(value);
                            substituted.extend(tail.into_iter().rev());
                            return self.file_name(&normalize_concat(substituted), depth + 1);
                        }
                    }
                    first = false;
                    rest = before;
                }
                if !rest.is_empty() || tail.is_empty() {
                    return unknown();
                }
                tail.reverse();
                normalize_concat(tail)
            }
            Expr::Env { .. } | Expr::Parent { .. } | Expr::ReplaceName { .. } => unknown(),
        }
    }

    /// Emits an access; a listing whose output a consumer handles becomes what the consumer
    /// does (`ls /backups/*.tgz | xargs rm` deletes them).
    fn emit_fed(
        &mut self,
        expr: Expr,
        mode: Mode,
        reach: Reach,
        line: u32,
        via: &str,
        feed: Option<&[Captured]>,
    ) {
        match feed {
            Some(feed) if mode == Mode::List && !feed.is_empty() => {
                for c in feed {
                    let reach = if c.tree { Reach::Tree } else { reach.clone() };
                    self.emit(
                        expr.clone(),
                        c.mode,
                        reach,
                        None,
                        line,
                        format!("{via} | {}", c.via),
                    );
                }
            }
            _ => self.emit(expr, mode, reach, None, line, via.to_string()),
        }
    }

    fn wrapper(
        &mut self,
        m: &WrapperModel,
        via: &str,
        args: &[Word],
        line: u32,
        feed: Option<&[Captured]>,
    ) {
        if !m.command_flags.is_empty()
            && let Some(string) = command_string(args, &m.command_flags)
        {
            if let Some(text) = string.lit() {
                self.snippet(&text, string.line);
            }
            return;
        }
        let Some(wrapped) = wrapped_command(m, args) else {
            return;
        };
        let binds = self.container_options(m, via, args, line);
        let saved_env = self.foreign_env;
        if m.env_reset || !m.env_reset_flags.is_empty() {
            let parsed = parse_args(&m.syntax, args, &FlagSet::default());
            if (m.env_reset && !parsed.has(&m.env_keep_flags)) || parsed.has(&m.env_reset_flags) {
                self.foreign_env = true;
            }
        }
        for word in wrapped.assignments {
            let lead = word.leading_lit();
            if let Some((name, _)) = lead.split_once('=') {
                let value = word.slice_from(name.chars().count() + 1).value_expr();
                self.emit_env(name, Mode::Set, Some(value), line, "env VAR=value");
            }
        }
        match wrapped.container {
            Some(container) => {
                // What runs in a container is marked so: `rm (in docker exec web)`.
                let name = container.lit().unwrap_or_else(|| container.source.clone());
                // `docker run -e X=1 org/app:1.2` with no command: the image's entry point
                // runs, with the variables the options set (see `RunTarget::Image`).
                if wrapped.command.is_empty()
                    && (!m.volume_flags.is_empty() || !m.env_flags.is_empty())
                    && let Some(image) = container.lit()
                {
                    self.facts.runs.push(RunRef {
                        scope: self.scope,
                        line,
                        target: RunTarget::Image {
                            image: Some(image),
                            build: None,
                        },
                    });
                }
                let label = format!("{via} {name}");
                let first = self.facts.accesses.len();
                self.foreign_env = true;
                self.run(wrapped.command, line, feed);
                // A new container (a row that binds volumes: `docker run`) has a file system
                // of its own: only its paths under a bound host directory are the host's.
                let fresh = !m.volume_flags.is_empty() || !m.mount_flags.is_empty();
                let mut kept = Vec::new();
                for mut access in self.facts.accesses.drain(first..) {
                    access.via = format!("{} (in {label})", access.via).into();
                    if let crate::extract::RawResource::Path(target) = &mut access.resource {
                        match host_path(&target.expr, &binds) {
                            Some(host) => target.expr = host,
                            None if fresh => continue,
                            None => {}
                        }
                    }
                    kept.push(access);
                }
                self.facts.accesses.extend(kept);
            }
            None => self.run(wrapped.command, line, feed),
        }
        self.foreign_env = saved_env;
    }

    /// A container runner's own options (`docker run`): `--env-file F` reads F, `-e K=V` sets
    /// K for the command, and `-v HOST:CTR` / `--mount type=bind,source=HOST,target=CTR`
    /// bind a literal absolute host directory, returned as (container, host) pairs.
    fn container_options(
        &mut self,
        m: &WrapperModel,
        via: &str,
        args: &[Word],
        line: u32,
    ) -> Vec<(String, String)> {
        if m.flag_values.is_empty()
            && m.env_flags.is_empty()
            && m.volume_flags.is_empty()
            && m.mount_flags.is_empty()
        {
            return Vec::new();
        }
        let parsed = parse_args(&m.syntax, args, &FlagSet::default());
        let mut binds = Vec::new();
        for (flag, value) in &parsed.flags {
            let Some(value) = value else { continue };
            for rule in m.flag_values.iter().filter(|r| r.flags.contains(flag)) {
                self.emit(
                    value.expr(),
                    rule.mode,
                    Reach::Exact,
                    None,
                    line,
                    via.to_string(),
                );
            }
            if m.env_flags.contains(flag) {
                let lead = value.leading_lit();
                if let Some((name, _)) = lead.split_once('=')
                    && is_name(name)
                {
                    let set = value.slice_from(name.chars().count() + 1).value_expr();
                    // At the option's own line: a long `docker run \` spans many.
                    let at = if value.line > 0 { value.line } else { line };
                    self.emit_explicit_env(name, Mode::Set, Some(set), at, "docker run -e");
                }
            }
            let Some(text) = value.lit() else { continue };
            let bind = if m.volume_flags.contains(flag) {
                let mut parts = text.split(':');
                parts.next().zip(parts.next())
            } else if m.mount_flags.contains(flag) {
                let field = |keys: &[&str]| {
                    text.split(',').find_map(|kv| {
                        let (k, v) = kv.split_once('=')?;
                        keys.contains(&k).then_some(v)
                    })
                };
                let bind = field(&["type"]).is_none_or(|t| t == "bind");
                field(&["source", "src"])
                    .zip(field(&["target", "destination", "dst"]))
                    .filter(|_| bind)
            } else {
                None
            };
            if let Some((host, container)) = bind
                && host.starts_with('/')
                && container.starts_with('/')
                && container.len() > 1
            {
                binds.push((
                    container.trim_end_matches('/').to_string(),
                    host.trim_end_matches('/').to_string(),
                ));
            }
        }
        // Longest container path first, so nested mounts win.
        binds.sort_by_key(|(c, _)| std::cmp::Reverse(c.len()));
        binds
    }

    fn interpreter(&mut self, m: &InterpreterModel, via: &str, args: &[Word], line: u32) {
        if !m.app_flags.is_empty() || m.app_operand {
            // An application server's options may follow its subcommand or the application
            // (`celery worker -A proj -Q q`, `gunicorn app:app -w 4`).
            let syntax = OptionSyntax {
                options_first: false,
                ..m.syntax.clone()
            };
            let parsed = parse_args(&syntax, args, &FlagSet::default());
            self.launched_program(m, via, &parsed, args, line);
            return self.app_server(m, &parsed, line);
        }
        let parsed = parse_args(&m.syntax, args, &FlagSet::default());
        self.launched_program(m, via, &parsed, args, line);
        if let Some(module) = parsed.value(&m.module_flags) {
            // `python3 -m celery -A proj worker`: a modelled program run as a module is that
            // program with the words after the module.
            if let Some(name) = module.lit()
                && let Some(rest) = module_rest(args, &m.module_flags, &name)
                && !is_python_name(&name)
                && self.models.command(&name).is_some()
            {
                let mut words = vec![Word::from_lit(&name, module.line)];
                words.extend_from_slice(rest);
                return self.run(&words, line, None);
            }
            if let Some(module) = module.lit() {
                self.facts.runs.push(RunRef {
                    scope: self.scope,
                    line,
                    target: RunTarget::PythonModule { module },
                });
            }
            return;
        }
        if let Some((_, value)) = parsed
            .flags
            .iter()
            .find(|(f, _)| m.command_flags.contains(f))
        {
            let string = value
                .clone()
                .or_else(|| parsed.operands.first().map(|o| o.word.clone()));
            if m.script == ScriptLanguage::Shell
                && let Some(string) = string
                && let Some(text) = string.lit()
            {
                self.snippet(&text, string.line);
            }
            return;
        }
        if let Some(script) = parsed.operands.first() {
            self.run_ref(script.word.expr(), line);
        }
    }

    /// What a launched program does itself, besides running its application: the paths among
    /// its options (`--logfile`, `--pidfile`) and the queues it consumes (`-Q a,b`).
    fn launched_program(
        &mut self,
        m: &InterpreterModel,
        via: &str,
        parsed: &Parsed,
        args: &[Word],
        line: u32,
    ) {
        for (flag, value) in &parsed.flags {
            let Some(value) = value else { continue };
            for rule in m.flag_values.iter().filter(|r| r.flags.contains(flag)) {
                let reach = if rule.reach == ReachKind::Tree {
                    Reach::Tree
                } else {
                    Reach::Exact
                };
                self.emit(value.expr(), rule.mode, reach, None, line, via.to_string());
            }
        }
        if let Some(queue) = &m.queue {
            self.resource(queue, via, args, line);
        }
    }

    /// A program no model knows (`myworker --input-dir /data/in --kafka-topic orders`): long
    /// options named like a path (`--*-dir`, `--*-file`, `--*-path`, `--*-log`) or a queue
    /// (`--*-topic`, `--*-queue`) are taken as such, in [`Mode::Unknown`]: what the program
    /// does with them is not known, so impact rules treat them as mentions only (never as a
    /// producer that hides a finding, nor as a cleanup), and queue names are of an unknown
    /// broker. At most [`MAX_GUESSED_OPTIONS`] per command.
    fn unknown_program_options(&mut self, name: &str, args: &[Word], line: u32) {
        let via = format!("{name} (option names)");
        let mut found = 0;
        let mut i = 0;
        while let Some(word) = args.get(i) {
            i += 1;
            if found >= MAX_GUESSED_OPTIONS {
                break;
            }
            let lead = word.leading_lit();
            let Some(body) = lead.strip_prefix("--") else {
                continue;
            };
            let (option, value) = match body.split_once('=') {
                Some((option, _)) => (option, word.slice_from(3 + option.chars().count())),
                None => match args.get(i) {
                    Some(next) if !next.leading_lit().starts_with('-') || next.lit().is_none() => {
                        i += 1;
                        (body, next.clone())
                    }
                    _ => continue,
                },
            };
            let Some(kind) = guessed_option(option) else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            found += 1;
            match kind {
                Guessed::Path => {
                    // A literal value names a path only when it is spelled like one.
                    if value.lit().is_some_and(|l| !l.contains('/')) {
                        continue;
                    }
                    self.emit(
                        value.expr(),
                        Mode::Unknown,
                        Reach::Exact,
                        None,
                        line,
                        via.clone(),
                    );
                }
                Guessed::Queue(role) => {
                    self.facts.accesses.push(crate::extract::RawAccess {
                        resource: crate::extract::RawResource::Queue(crate::extract::QueueTarget {
                            broker: crate::extract::Broker::Unknown,
                            role,
                            name: value.expr(),
                            exchange: None,
                            bound_queue: None,
                            fields: Vec::new(),
                        }),
                        mode: Mode::Unknown,
                        line,
                        scope: self.scope,
                        via: via.clone().into(),
                    });
                }
            }
        }
    }

    /// `gunicorn pkg.wsgi:app`, `uvicorn pkg.main:app`, `celery -A pkg worker`: the server
    /// imports the application's module, so it runs that code with the server's environment.
    /// `celery -A proj` also finds `proj.celery` and `proj.app`, which are linked when they exist.
    fn app_server(&mut self, m: &InterpreterModel, parsed: &Parsed, line: u32) {
        let mut modules: Vec<String> = Vec::new();
        if let Some(value) = parsed.value(&m.app_flags).and_then(|w| w.lit())
            && let Some(module) = app_module(&value)
        {
            if !value.contains(':') {
                modules.push(format!("{module}.celery"));
                modules.push(format!("{module}.app"));
            }
            modules.insert(0, module);
        }
        if m.app_operand && modules.is_empty() {
            // The application is the operand spelled `module:attribute`; without one, a
            // dotted module name (`uvicorn main:app` vs. a worker count left as an operand).
            let operands: Vec<String> = parsed
                .operands
                .iter()
                .filter_map(|o| o.word.lit())
                .collect();
            let chosen = operands
                .iter()
                .find(|o| o.contains(':'))
                .or_else(|| operands.iter().find(|o| o.contains('.')));
            if let Some(module) = chosen.and_then(|o| app_module(o)) {
                modules.push(module);
            }
        }
        for module in modules {
            self.facts.runs.push(RunRef {
                scope: self.scope,
                line,
                target: RunTarget::PythonModule { module },
            });
        }
    }

    /// `xargs CMD`: runs CMD with the placeholder for its input lines, and passes what CMD does
    /// to them on to the producer of those lines.
    fn xargs(&mut self, m: &XargsModel, args: &[Word], line: u32) {
        let parsed = parse_args(&m.syntax, args, &FlagSet::default());
        let replace = parsed
            .flags
            .iter()
            .find(|(f, _)| m.replace_flags.contains(f))
            .map(|(_, v)| {
                v.as_ref()
                    .and_then(Word::lit)
                    .unwrap_or_else(|| "{}".to_string())
            });
        let Some(first) = parsed.operands.first() else {
            return;
        };
        let mut inner: Vec<Word> = args.get(first.index..).unwrap_or_default().to_vec();
        match replace {
            Some(needle) => inner = inner.iter().map(|w| w.replace_text(&needle)).collect(),
            None => inner.push(Word::placeholder(line)),
        }
        let captured = self.capturing(|w| w.run(&inner, line, None));
        for c in captured {
            let reach = if c.tree { Reach::Tree } else { Reach::Exact };
            self.emit(
                placeholder(),
                c.mode,
                reach,
                None,
                line,
                format!("xargs {}", c.via),
            );
        }
    }

    /// `test -f x`, `[ -f x ]` as a command.
    fn test_words(&mut self, m: &TestModel, args: &[Word], line: u32) {
        let args: Vec<&Word> = args
            .iter()
            .filter(|w| w.lit().as_deref() != Some("]"))
            .collect();
        let is_operator = |w: &Word| w.lit().is_some_and(|l| l == "!" || is_operator_word(&l));
        let mut i = 0;
        while let Some(word) = args.get(i) {
            let Some(op) = word.lit() else {
                i += 1;
                continue;
            };
            if m.check_operators.contains(&op)
                && let Some(operand) = args.get(i + 1).filter(|w| !is_operator(w))
            {
                self.emit(
                    operand.expr(),
                    Mode::Check,
                    Reach::Exact,
                    None,
                    line,
                    format!("test {op}"),
                );
                i += 2;
                continue;
            }
            if m.env_check_operators.contains(&op)
                && let Some(operand) = args.get(i + 1)
            {
                self.env_check(&op, operand, line);
                i += 2;
                continue;
            }
            if m.binary_check_operators.contains(&op)
                && let (Some(left), Some(right)) =
                    (i.checked_sub(1).and_then(|k| args.get(k)), args.get(i + 1))
            {
                for side in [left, right] {
                    self.emit(
                        side.expr(),
                        Mode::Check,
                        Reach::Exact,
                        None,
                        line,
                        format!("test {op}"),
                    );
                }
            }
            i += 1;
        }
    }

    /// `source FILE`: reads the file and runs it in this shell.
    fn source(&mut self, via: &str, args: &[Word], line: u32) {
        let Some(file) = args.first() else { return };
        self.log.sourced();
        let expr = file.expr();
        self.emit(
            expr.clone(),
            Mode::Read,
            Reach::Exact,
            None,
            line,
            via.to_string(),
        );
        if let Some(module) = sourced_module(&expr) {
            // Everything the sourced file binds is visible after this line: a star import.
            self.facts.imports.push(crate::extract::Import {
                scope: self.scope,
                local: "*".to_string().into(),
                module: module.into(),
                name: Some("*".to_string().into()),
                level: 0,
                line,
            });
        }
        self.run_ref(expr, line);
    }

    /// `start-stop-daemon --start --exec PROG -- ARGS...` runs `PROG ARGS...` (the daemon of
    /// many init scripts, often `--exec /bin/bash -- -c "daemon >> /var/log/x.log"`); with
    /// `--startas` that program is what runs. `--stop` and `--status` run nothing.
    fn start_stop_daemon(&mut self, args: &[Word], line: u32, feed: Option<&[Captured]>) {
        let flag = |w: &Word| w.lit().unwrap_or_default();
        let starts = args
            .iter()
            .any(|w| matches!(flag(w).as_str(), "--start" | "-S"));
        if !starts {
            return;
        }
        let mut program: Option<&Word> = None;
        let mut startas: Option<&Word> = None;
        let mut rest: &[Word] = &[];
        let mut i = 0;
        while i < args.len() {
            match flag(&args[i]).as_str() {
                "--" => {
                    rest = &args[i + 1..];
                    break;
                }
                "--exec" | "-x" => program = args.get(i + 1),
                "--startas" | "-a" => startas = args.get(i + 1),
                _ => {}
            }
            i += 1;
        }
        let Some(program) = startas.or(program) else {
            return;
        };
        let mut words = vec![program.clone()];
        words.extend(rest.iter().cloned());
        self.run(&words, line, feed);
    }

    fn cd(&mut self, args: &[Word], line: u32, push: bool) {
        let target = args.iter().find(|w| {
            let lead = w.leading_lit();
            !(lead.starts_with('-') && lead.len() > 1)
        });
        let new = match target {
            None => self.tr().variable("HOME", line, None),
            Some(w) if w.lit().as_deref() == Some("-") => Expr::path_hole("cd -"),
            Some(w) => self.rebase(w.expr()),
        };
        if push {
            self.dir_stack.push(self.cwd.clone());
        }
        self.cwd = Some(new);
    }

    /// Analyses a shell string run by `sh -c`, `su -c`, `eval`, in the same scope and directory.
    pub(super) fn snippet(&mut self, text: &str, line: u32) {
        if self.nesting >= MAX_SNIPPET_NESTING {
            return;
        }
        let host = Host {
            scope: self.scope,
            line_base: line.saturating_sub(1),
            cwd: self.cwd.clone(),
            nesting: self.nesting + 1,
            foreign_env: self.foreign_env,
        };
        analyse(text, self.facts, self.all_models, host, self.log);
    }

    /// Whether a command lists paths that a consumer in a pipeline can act on (`find`, `ls`),
    /// looking through wrappers.
    pub(super) fn is_producer(&self, command: Node) -> bool {
        let words: Vec<Word> = command_words(command)
            .into_iter()
            .map(|n| self.word(n))
            .collect();
        self.produces_paths(&words, 0)
    }

    fn produces_paths(&self, words: &[Word], depth: u32) -> bool {
        if depth > 8 {
            return false;
        }
        let Some(name) = words.first().and_then(Word::lit) else {
            return false;
        };
        match self.lookup(&name) {
            Lookup::Model(_, CommandModel::Find) => true,
            Lookup::Model(_, CommandModel::Operands(m)) => {
                m.operands.iter().any(|r| r.mode == Mode::List)
            }
            Lookup::Model(_, CommandModel::Wrapper(m)) => {
                let args = words.get(1..).unwrap_or_default();
                let parsed = parse_args(&m.syntax, args, &FlagSet::default());
                let Some(first) = parsed.operands.first() else {
                    return false;
                };
                let rest = args
                    .get(first.index + m.skip_operands..)
                    .unwrap_or_default();
                self.produces_paths(rest, depth + 1)
            }
            _ => false,
        }
    }
}

/// `python`, `python3`, `python3.11`, `pypy3`: a Python interpreter's file name.
fn is_python_name(name: &str) -> bool {
    name.strip_prefix("python")
        .or_else(|| name.strip_prefix("pypy"))
        .is_some_and(|version| version.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// A command name that could be a program a repository declares (`crm-sync`, `spool_gc`):
/// letters, digits, `-`, `_`, `.`, starting with a letter.
fn is_program_name(name: &str) -> bool {
    name.len() <= 128
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The words after a module option's value (`python3 -m celery -A proj worker`: `-A proj
/// worker`), when the option is written `-m NAME` or `-mNAME`.
fn module_rest<'w>(args: &'w [Word], module_flags: &FlagSet, name: &str) -> Option<&'w [Word]> {
    for (i, word) in args.iter().enumerate() {
        let Some(text) = word.lit() else { continue };
        let Some(flag) = Flag::parse(&text).or_else(|| {
            let letter = text.strip_prefix('-')?.chars().next()?;
            Some(Flag::Short(letter))
        }) else {
            continue;
        };
        if !module_flags.contains(&flag) {
            continue;
        }
        if text.len() > 2 && text.get(2..) == Some(name) && !text.starts_with("--") {
            return args.get(i + 1..);
        }
        if args.get(i + 1).and_then(Word::lit).as_deref() == Some(name) {
            return args.get(i + 2..);
        }
        return None;
    }
    None
}

/// A container path under a bind mount, as the host path (`/data/x` with `-v /srv/d:/data`:
/// `/srv/d/x`); `None` when the path does not start with a mounted directory's literal path.
fn host_path(expr: &Expr, binds: &[(String, String)]) -> Option<Expr> {
    let (first, rest) = match expr {
        Expr::Lit { text } => (text.as_str(), &[][..]),
        Expr::Concat { parts } => match parts.split_first() {
            Some((Expr::Lit { text }, rest)) => (text.as_str(), rest),
            _ => return None,
        },
        _ => return None,
    };
    let (container, host) = binds.iter().find(|(c, _)| {
        first
            .strip_prefix(c.as_str())
            .is_some_and(|r| r.is_empty() || r.starts_with('/'))
    })?;
    let tail = first.get(container.len()..).unwrap_or_default();
    let mut parts = vec![Expr::lit(format!("{host}{tail}"))];
    parts.extend(rest.iter().cloned());
    Some(normalize_concat(parts))
}

/// Most options of an unknown program taken as paths or queues (see
/// [`Walker::unknown_program_options`]).
const MAX_GUESSED_OPTIONS: usize = 16;

/// What an unknown program's option is named like.
enum Guessed {
    Path,
    Queue(crate::extract::QueueRole),
}

/// `input-dir`, `out_file`, `error-log`: a path; `kafka-topic`, `jobs_queue`: a queue.
fn guessed_option(option: &str) -> Option<Guessed> {
    use crate::extract::QueueRole;
    let lower = option.to_ascii_lowercase();
    let suffix = lower
        .rsplit(['-', '_'])
        .next()
        .filter(|_| lower.contains(['-', '_']))?;
    match suffix {
        "dir" | "file" | "path" | "log" => Some(Guessed::Path),
        "topic" => Some(Guessed::Queue(QueueRole::Topic)),
        "queue" => Some(Guessed::Queue(QueueRole::Queue)),
        _ => None,
    }
}

/// The module of an application reference: `pkg.wsgi:app`, `pkg.main:create_app()`,
/// `pkg.celery_app`; `None` for anything that is not a dotted Python name.
fn app_module(value: &str) -> Option<String> {
    let module = value.split(':').next().unwrap_or(value);
    let valid = !module.is_empty()
        && module.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        });
    valid.then(|| module.to_string())
}
