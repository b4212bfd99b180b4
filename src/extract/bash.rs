//! Bash extractor: a shell script (or a shell snippet embedded in a crontab or a YAML
//! `command:`) -> [`FileFacts`].
//!
//! Input: the text (already decoded lossily by the caller) and the Bash models of
//! `rules/models/bash.toml`. Output: the paths each command touches ([`RawAccess`] with a mode
//! and the line where the command starts), the secrets and queues it uses, the environment
//! variables it reads, checks and sets (`env.rs`), the variables the script binds, the scripts
//! it runs ([`RunRef`]), the functions of the script it calls, how it can be made to act
//! (`trap`, service loops, watched files, listeners) and what it sends to make others act
//! (signals, HTTP requests; `signal.rs`), and one warning per region that did not parse.
//!
//! What a command does is read from the models, never hard-coded: the walker only knows shell
//! syntax (statements, words, redirections, pipelines, functions, loops, `cd`, `read`, `set`,
//! `trap`, `export`). Three idioms cross command boundaries and are followed here: a `find`
//! (or `ls`) whose output is piped to `xargs CMD` or to a `while read f; do CMD "$f"; done`
//! loop has its paths handled by `CMD`; a `find -exec CMD {} \;` likewise; and `cd DIR`
//! rebases the relative paths that follow. Loops decide what checks and reads mean: in a short
//! loop that sleeps they are waits (`wait-for`), in a loop that runs for ever they are what
//! makes the script act.
//!
//! Invariants: never panics and never gives up on a file; a region that does not parse is a
//! warning, and the well-formed statements inside and around it are still read (with a line-by-
//! line second chance for lines the parser swallowed); recursion is bounded on any input.

use crate::extract::FieldExt as _;
mod command;
mod env;
mod find;
mod heredoc;
mod resource;
mod signal;
mod words;

#[cfg(test)]
mod contract_tests;
#[cfg(test)]
mod launch_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tool_tests;

use crate::expr::{Expr, ScopeId};
use crate::extract::{
    Binding, EnvTarget, ExtractWarning, FileFacts, PathTarget, RawAccess, RawResource, Reach,
    RunRef, RunTarget, Scope, ScopeKind, TriggerFact, TriggerKind,
};
use crate::model::Mode;
use crate::rules::models::Models;
use crate::rules::models::bash::{BashModels, CommandModel};
use env::ShellLog;
pub use env::UNSET_LABEL;
pub(crate) use env::is_config_env;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use tree_sitter::{Node, ParseOptions, ParseState, Parser, Tree};
use words::{Positions, Translator, Word, contains_placeholder, placeholder};

/// Scripts larger than this are not parsed (a generated or binary file, not a script).
const MAX_SCRIPT_BYTES: usize = 4 << 20;
/// Parser progress reports allowed for any input, and per byte on top (real scripts and random
/// bytes need about one report per 100 bytes).
const PARSE_BUDGET_BASE: usize = 10_000;
const PARSE_BUDGET_PER_BYTE: usize = 1;
/// Deepest statement nesting walked; deeper statements are skipped with one warning.
const MAX_DEPTH: u32 = 96;
/// Deepest chain of `sh -c '...'` strings analysed.
const MAX_SNIPPET_NESTING: u32 = 3;
/// Deepest chain of re-read command tails (see [`Walker::command`]).
const MAX_SPLIT_NESTING: u32 = 16;
/// Longest loop body (in lines) taken as a polling loop.
const MAX_POLLING_LOOP_ROWS: usize = 40;
/// Most parse-error regions reported (and retried) per file.
const MAX_ERROR_WARNINGS: usize = 20;
/// Most lines of parse-error regions that are retried one by one.
const MAX_RECOVERED_LINES: usize = 5000;
/// Most earlier bindings searched for a variable's value (`export X`, `sleep "$INTERVAL"`).
const MAX_BINDINGS_SEARCHED: usize = 4096;
/// Most triggers of one line compared to find a duplicate.
const MAX_TRIGGERS_PER_LINE: usize = 64;

/// Extracts the facts of a shell script; scope 0 is the script, named after its path.
pub fn extract(path: &str, text: &str, models: &Models) -> FileFacts {
    extract_within(path, text, models, crate::extract::Budget::default())
}

/// [`extract`] with a given budget of work.
pub(crate) fn extract_within(
    path: &str,
    text: &str,
    models: &Models,
    budget: crate::extract::Budget,
) -> FileFacts {
    let mut facts = FileFacts::new(path, ScopeKind::Script);
    let mut log = ShellLog::default();
    log.budget = budget;
    if env::shebang_nounset(text) {
        log.set_nounset(0, true);
    }
    extract_with(text, &mut facts, 0, 1, models, log);
    facts
}

/// Analyses a shell snippet (a crontab command, a YAML `command:`) into existing facts, in the
/// given scope, with line 1 of the snippet counted as `first_line` of the host file.
pub fn extract_into(
    text: &str,
    facts: &mut FileFacts,
    scope: ScopeId,
    first_line: u32,
    models: &Models,
) {
    extract_with(text, facts, scope, first_line, models, ShellLog::default());
}

/// Walks the text, then turns the variables it used into environment reads (which needs all
/// of the text's assignments first).
fn extract_with(
    text: &str,
    facts: &mut FileFacts,
    scope: ScopeId,
    first_line: u32,
    models: &Models,
    mut log: ShellLog,
) {
    let host = Host {
        scope,
        line_base: first_line.saturating_sub(1),
        cwd: None,
        nesting: 0,
        foreign_env: false,
    };
    analyse(text, facts, models, host, &mut log);
    facts.warnings.extend(log.budget.warning());
    log.finish(facts, models.bash.shell());
}

/// Where a piece of shell text sits: its scope, the line before its first line, the directory
/// it starts in, and how many `sh -c` strings deep it is.
#[derive(Clone)]
struct Host {
    scope: ScopeId,
    line_base: u32,
    cwd: Option<Expr>,
    nesting: u32,
    /// The text runs in an environment that is not the script's (see [`Walker::foreign_env`]).
    foreign_env: bool,
}

/// Parses with a budget of parser steps proportional to the input, so that no input can make
/// the parser run away; the budget is counted in progress reports, not time, so the outcome is
/// the same on every machine.
fn parse(text: &str) -> Option<Tree> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_bash::LANGUAGE.into())
        .ok()?;
    let budget = PARSE_BUDGET_BASE.saturating_add(text.len().saturating_mul(PARSE_BUDGET_PER_BYTE));
    let mut reports = 0usize;
    let mut progress = |_: &ParseState| {
        reports += 1;
        if reports > budget {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let options = ParseOptions::new().progress_callback(&mut progress);
    let bytes = text.as_bytes();
    parser.parse_with_options(
        &mut |offset, _| bytes.get(offset..).unwrap_or_default(),
        None,
        Some(options),
    )
}

fn analyse(text: &str, facts: &mut FileFacts, models: &Models, host: Host, log: &mut ShellLog) {
    let first_line = host.line_base.saturating_add(1);
    if text.len() > MAX_SCRIPT_BYTES {
        facts.warnings.push(ExtractWarning {
            line: first_line,
            message: format!("shell text of {} bytes is too large to analyse", text.len()),
        });
        return;
    }
    let Some(tree) = parse(text) else {
        facts.warnings.push(ExtractWarning {
            line: first_line,
            message: "the shell parser could not read this text".to_string(),
        });
        return;
    };
    let root = tree.root_node();
    walk_tree(text, root, facts, models, host.clone(), log);
    if root.has_error() {
        recover(text, root, facts, models, &host, log);
    }
    crate::extract::tree_memory::release(tree);
}

/// Walks one tree and collects the variables it uses, in the scopes the walk gave its
/// functions.
fn walk_tree(
    text: &str,
    root: Node,
    facts: &mut FileFacts,
    models: &Models,
    host: Host,
    log: &mut ShellLog,
) {
    let (defined, library) = function_names(root, text, &models.bash);
    log.functions.extend(defined);
    log.functions.extend(library);
    let (scope, line_base) = (host.scope, host.line_base);
    let mut walker = Walker::new(text, facts, models, host, log);
    walker.statement(root);
    let function_scopes = std::mem::take(&mut walker.function_scopes);
    let tr = Translator {
        src: text,
        scope,
        line_base,
        item_vars: &[],
        loop_vars: &[],
        cwd: None,
        positions: None,
        functions: None,
    };
    env::scan_uses(root, &tr, &function_scopes, log);
}

/// Shell builtins and common utilities that are never a library's function.
const NOT_FUNCTIONS: &[&str] = &[
    "echo",
    "printf",
    "exit",
    "return",
    "true",
    "false",
    ":",
    "local",
    "export",
    "declare",
    "typeset",
    "readonly",
    "unset",
    "wait",
    "shift",
    "set",
    "cd",
    "read",
    "eval",
    "trap",
    "getopts",
    "break",
    "continue",
    "let",
    "alias",
    "unalias",
    "hash",
    "type",
    "ulimit",
    "umask",
    "shopt",
    "jobs",
    "bg",
    "fg",
    "disown",
    "enable",
    "help",
    "logout",
    "mapfile",
    "readarray",
    "pushd",
    "popd",
    "dirs",
    "times",
    "caller",
    "complete",
    "compgen",
    "dirname",
    "basename",
    "date",
    "pwd",
    "hostname",
    "whoami",
    "id",
    "uname",
    "logname",
    "nproc",
    "realpath",
    "readlink",
    "mktemp",
    "seq",
    "tr",
    "cut",
    "awk",
    "sed",
    "sort",
    "uniq",
    "head",
    "tail",
    "wc",
    "jq",
    "yq",
    "grep",
    "egrep",
    "fgrep",
    "tput",
    "stat",
    "du",
    "df",
    "ps",
    "pgrep",
    "pidof",
    "sleep",
    "expr",
    "bc",
    "sha256sum",
    "md5sum",
    "base64",
    "openssl",
    "getent",
    "logger",
];

/// The functions a tree defines, then, in a script that sources other files (`. lib/conf.sh`,
/// `source "$DIR/common.sh"`), the commands that are no program knockon knows, no builtin and
/// no function of the script: the functions the sourced files may define, so that their calls
/// are calls (their arguments bind the function's `$1`…`$9`) and `$(name ...)` gives what the
/// function prints. One pass over the tree for both, bounded at [`MAX_NAME_SCAN_NODES`]; the
/// models are asked about a command only once the script is known to source something.
fn function_names(root: Node, text: &str, models: &BashModels) -> (Vec<String>, Vec<String>) {
    let mut defined = Vec::new();
    let mut commands = Vec::new();
    let mut sources = false;
    let mut stack = vec![root];
    let mut seen = 0usize;
    while let Some(node) = stack.pop() {
        seen += 1;
        if seen > MAX_NAME_SCAN_NODES {
            break;
        }
        match node.kind_name() {
            "function_definition" => {
                if let Some(name) = node.field("name").and_then(|n| text.get(n.byte_range())) {
                    defined.push(name.to_string());
                }
            }
            "command_name" => {
                if let Some(name) = text.get(node.byte_range()) {
                    if matches!(name, "source" | ".") {
                        sources = true;
                    } else if is_function_name(name) && !NOT_FUNCTIONS.contains(&name) {
                        commands.push(name);
                    }
                }
            }
            _ => {}
        }
        node.push_named_children(&mut stack);
    }
    let library = if sources {
        commands
            .into_iter()
            .filter(|name| models.command(name).is_none() && !models.has_subcommands(name))
            .map(str::to_string)
            .collect()
    } else {
        Vec::new()
    };
    (defined, library)
}

/// Most nodes of one tree visited when collecting its function names.
const MAX_NAME_SCAN_NODES: usize = 500_000;

/// A name a shell function is usually given: letters, digits, `_`, `-` and `:`, not starting
/// with a digit or `-`.
fn is_function_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':'))
}

/// Reports each parse-error region once and retries, line by line, the lines of the region that
/// no well-formed statement, string or heredoc covers.
fn recover(
    text: &str,
    root: Node,
    facts: &mut FileFacts,
    models: &Models,
    host: &Host,
    log: &mut ShellLog,
) {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut retried = 0usize;
    let regions = error_regions(root);
    for (index, region) in regions.iter().copied().enumerate() {
        let (start, end) = (region.start_position().row, region.end_position().row);
        if index == MAX_ERROR_WARNINGS {
            facts.warnings.push(ExtractWarning {
                line: host
                    .line_base
                    .saturating_add(row_u32(start))
                    .saturating_add(1),
                message: format!("{} more parse errors not listed", regions.len() - index),
            });
            return;
        }
        let line = host
            .line_base
            .saturating_add(row_u32(start))
            .saturating_add(1);
        let message = if region.is_missing() {
            format!("parse error: missing `{}`", region.kind_name())
        } else if end > start {
            format!(
                "parse error in lines {line}-{}; read what was well-formed around it",
                host.line_base
                    .saturating_add(row_u32(end))
                    .saturating_add(1)
            )
        } else {
            "parse error; read what was well-formed around it".to_string()
        };
        facts.warnings.push(ExtractWarning { line, message });
        if region.is_missing() || host.nesting > 0 {
            continue;
        }
        let covered = covered_rows(region);
        for row in start..=end {
            if retried >= MAX_RECOVERED_LINES {
                return;
            }
            let Some(text) = lines.get(row) else { break };
            if covered.contains(&row)
                || text.trim().is_empty()
                || text.trim_start().starts_with('#')
            {
                continue;
            }
            retried += 1;
            let Some(tree) = parse(text) else { continue };
            if !tree.root_node().has_error() {
                let line_host = Host {
                    line_base: host.line_base.saturating_add(row_u32(row)),
                    nesting: host.nesting + 1,
                    ..host.clone()
                };
                walk_tree(text, tree.root_node(), facts, models, line_host, log);
            }
            crate::extract::tree_memory::release(tree);
        }
    }
}

fn row_u32(row: usize) -> u32 {
    u32::try_from(row).unwrap_or(u32::MAX)
}

/// The outermost ERROR and MISSING nodes.
fn error_regions(root: Node) -> Vec<Node> {
    let mut regions = Vec::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            regions.push(node);
            continue;
        }
        if !node.has_error() {
            continue;
        }
        let children: Vec<Node> = node.children_vec();
        stack.extend(children.into_iter().rev());
    }
    regions
}

/// Rows of an error region that a complete statement, string or heredoc spans.
fn covered_rows(region: Node) -> std::collections::BTreeSet<usize> {
    const COVERING: &[&str] = &[
        "command",
        "redirected_statement",
        "pipeline",
        "list",
        "variable_assignment",
        "declaration_command",
        "test_command",
        "if_statement",
        "while_statement",
        "for_statement",
        "case_item",
        "function_definition",
        "compound_statement",
        "subshell",
        "string",
        "string_content",
        "raw_string",
        "heredoc_body",
        "heredoc_redirect",
        "comment",
    ];
    let mut rows = std::collections::BTreeSet::new();
    let mut stack = vec![region];
    while let Some(node) = stack.pop() {
        if COVERING.contains(&node.kind_name()) {
            rows.extend(node.start_position().row..=node.end_position().row);
            continue;
        }
        node.push_children(&mut stack);
    }
    rows
}

/// An access to the placeholder (each item of a producer), captured for the producer.
#[derive(Clone, Debug, PartialEq)]
struct Captured {
    mode: Mode,
    tree: bool,
    via: String,
}

/// Walks one parse tree, emitting facts.
struct Walker<'a> {
    text: &'a str,
    facts: &'a mut FileFacts,
    models: &'a BashModels,
    /// Every language's models, for here-documents written to files of other formats.
    all_models: &'a Models,
    line_base: u32,
    scope: ScopeId,
    /// The directory relative paths are relative to, when a `cd` said so.
    cwd: Option<Expr>,
    dir_stack: Vec<Option<Expr>>,
    /// Loop variables that stand for the items of a producer (`find ... | while read f`).
    item_vars: Vec<String>,
    /// Variables of the enclosing `for`/`while read` loops and their values (see
    /// [`Translator::loop_vars`]); an assignment in the body gives the name its new value.
    loop_vars: Vec<(String, Expr)>,
    /// Accesses to the placeholder, collected while a consumer is walked.
    capture: Option<Vec<Captured>>,
    /// What the consumer of the next command's output does to each item.
    feed: Option<Vec<Captured>>,
    /// Checks in the condition of a loop that sleeps are waits.
    wait_mode: bool,
    /// In a waiting loop that polls until something changes (a `while`/`until` or a counted
    /// loop, not a loop over items), reads are waits too (`md5sum F`, `cat F`, a secret).
    wait_reads: bool,
    /// In a loop that runs for ever without a way out, the paths it checks or waits for are
    /// files that make it act (a polled request file).
    watch_mode: bool,
    /// The current command watches its wait-for operands for ever (`inotifywait -m`).
    watching: bool,
    /// What the script does with variables, shared with nested snippets.
    log: &'a mut ShellLog,
    /// The scope given to each function definition walked, by node id.
    function_scopes: BTreeMap<usize, ScopeId>,
    /// In a function: what `$1`…`$9` stand for here (see [`Positions`]).
    positions: Option<Positions>,
    /// Loops, branches, lists and subshells entered since the function's body began: a
    /// `shift` inside one makes the positions unknown.
    branch_depth: u32,
    depth: u32,
    depth_warned: bool,
    nesting: u32,
    /// Commands run here do not see the script's environment (in a container, under `sudo`
    /// without `-E`): what programs read from their environment is not the script's read.
    foreign_env: bool,
}

impl<'a> Walker<'a> {
    fn new(
        text: &'a str,
        facts: &'a mut FileFacts,
        models: &'a Models,
        host: Host,
        log: &'a mut ShellLog,
    ) -> Walker<'a> {
        Walker {
            text,
            facts,
            models: &models.bash,
            all_models: models,
            line_base: host.line_base,
            scope: host.scope,
            cwd: host.cwd,
            dir_stack: Vec::new(),
            item_vars: Vec::new(),
            loop_vars: Vec::new(),
            positions: None,
            branch_depth: 0,
            capture: None,
            feed: None,
            wait_mode: false,
            wait_reads: false,
            watch_mode: false,
            watching: false,
            log,
            function_scopes: BTreeMap::new(),
            depth: 0,
            depth_warned: false,
            nesting: host.nesting,
            foreign_env: host.foreign_env,
        }
    }

    fn tr(&self) -> Translator<'_> {
        Translator {
            src: self.text,
            scope: self.scope,
            line_base: self.line_base,
            item_vars: &self.item_vars,
            loop_vars: &self.loop_vars,
            cwd: self.cwd.as_ref(),
            positions: self.positions.as_ref(),
            functions: Some(&self.log.functions),
        }
    }

    fn line(&self, node: Node) -> u32 {
        self.tr().line(node)
    }

    fn node_text(&self, node: Node) -> &'a str {
        self.text.get(node.byte_range()).unwrap_or("")
    }

    fn word(&self, node: Node) -> Word {
        self.tr().word(node)
    }

    /// Enters one level of nesting; false (with one warning) past the limit.
    fn enter(&mut self, line: u32) -> bool {
        if self.depth >= MAX_DEPTH {
            if !self.depth_warned {
                self.depth_warned = true;
                self.facts.warnings.push(ExtractWarning {
                    line,
                    message: "shell code nested too deeply; the innermost part was not read"
                        .to_string(),
                });
            }
            return false;
        }
        self.depth += 1;
        true
    }

    fn statement(&mut self, node: Node) {
        let line = self.line(node);
        if !self.log.budget.spend(|| line) || !self.enter(line) {
            return;
        }
        let branching = matches!(
            node.kind_name(),
            "if_statement"
                | "case_statement"
                | "while_statement"
                | "for_statement"
                | "c_style_for_statement"
                | "list"
                | "subshell"
                | "pipeline"
                | "command_substitution"
        );
        if branching {
            self.branch_depth += 1;
            // A loop that shifts moves the positions from one pass to the next: in it (and
            // after it) they are unknown.
            let looping = matches!(
                node.kind_name(),
                "while_statement" | "for_statement" | "c_style_for_statement"
            );
            if looping && self.positions.is_some() && renumbers(self.node_text(node)) {
                self.positions = Some(Positions::Unknown);
            }
        }
        match node.kind_name() {
            "command" => self.command(node),
            "redirected_statement" => self.redirected(node),
            "variable_assignment" => self.assignment(node),
            "declaration_command" => self.declaration(node),
            "test_command" => self.test_command(node),
            "pipeline" => self.pipeline(node),
            "for_statement" => self.for_statement(node),
            "c_style_for_statement" => match node.field("body") {
                Some(body) => self.polling_body(body, true),
                None => self.children(node),
            },
            "while_statement" => self.while_statement(node),
            "list" => {
                self.guard_list(node);
                self.children(node)
            }
            "if_statement" => {
                self.guard_if(node);
                self.children(node)
            }
            "function_definition" => self.function(node),
            "subshell" => self.subshell(node),
            "file_redirect" | "heredoc_redirect" | "herestring_redirect" => {
                self.redirect(node, None)
            }
            "comment" | "heredoc_start" | "heredoc_end" => {}
            _ => self.children(node),
        }
        if branching {
            self.branch_depth -= 1;
        }
        self.depth -= 1;
    }

    fn children(&mut self, node: Node) {
        let children: Vec<Node> = node.named_children_vec();
        for child in children {
            self.statement(child);
        }
    }

    /// Records an access. Accesses to the placeholder go to the capture (or nowhere), ignored
    /// paths (`/dev/null`) are dropped, and relative paths are rebased on the current directory.
    fn emit(
        &mut self,
        expr: Expr,
        mode: Mode,
        reach: Reach,
        retention: Option<String>,
        line: u32,
        via: String,
    ) {
        let mode = self.polled(mode);
        if contains_placeholder(&expr) {
            if expr == placeholder()
                && let Some(capture) = self.capture.as_mut()
            {
                capture.push(Captured {
                    mode,
                    tree: reach == Reach::Tree,
                    via,
                });
            }
            return;
        }
        if self.is_ignored(&expr) {
            return;
        }
        let expr = self.rebase(expr);
        if (self.watch_mode || self.watching) && matches!(mode, Mode::Check | Mode::WaitFor) {
            self.trigger(line, TriggerKind::WatchFile { path: expr.clone() });
        }
        self.facts.accesses.push(RawAccess {
            resource: RawResource::Path(PathTarget {
                expr,
                reach,
                retention,
            }),
            mode,
            line,
            scope: self.scope,
            via: via.into(),
        });
    }

    /// The mode of an access made while polling: checks (and, in a loop that waits for a
    /// change, reads) are waits.
    fn polled(&self, mode: Mode) -> Mode {
        match mode {
            Mode::Check if self.wait_mode => Mode::WaitFor,
            Mode::Read if self.wait_mode && self.wait_reads => Mode::WaitFor,
            other => other,
        }
    }

    /// Records how the current scope can be made to act, once per line and kind.
    fn trigger(&mut self, line: u32, kind: TriggerKind) {
        let fact = TriggerFact {
            scope: self.scope,
            line,
            kind,
        };
        // Triggers arrive in line order, so a duplicate is among the last ones of its line.
        let seen = self
            .facts
            .triggers
            .iter()
            .rev()
            .take(MAX_TRIGGERS_PER_LINE)
            .take_while(|t| t.line == line)
            .any(|t| *t == fact);
        if !seen {
            self.facts.triggers.push(fact);
        }
    }

    /// Records an environment variable access, when the name looks like configuration.
    fn emit_env(&mut self, name: &str, mode: Mode, value: Option<Expr>, line: u32, via: &str) {
        if !is_config_env(name, self.models.shell()) {
            return;
        }
        self.push_env(name, mode, value, line, via);
    }

    /// A variable named as one outright (`docker run -e ZULIP_AUTH_BACKENDS_EmailAuthBackend=1`):
    /// any name counts, not only configuration-looking ones, unless the models ignore it.
    fn emit_explicit_env(
        &mut self,
        name: &str,
        mode: Mode,
        value: Option<Expr>,
        line: u32,
        via: &str,
    ) {
        if self.models.shell().ignores_env(name) {
            return;
        }
        self.push_env(name, mode, value, line, via);
    }

    fn push_env(&mut self, name: &str, mode: Mode, value: Option<Expr>, line: u32, via: &str) {
        self.facts.accesses.push(RawAccess {
            resource: RawResource::Env(EnvTarget {
                name: Expr::lit(name),
                value,
            }),
            mode,
            line,
            scope: self.scope,
            via: via.to_string().into(),
        });
    }

    fn run_ref(&mut self, expr: Expr, line: u32) {
        if contains_placeholder(&expr) {
            return;
        }
        let expr = self.rebase(expr);
        self.facts.runs.push(RunRef {
            scope: self.scope,
            line,
            target: RunTarget::Path { expr },
        });
    }

    fn is_ignored(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Lit { text } => text.is_empty() || self.models.is_ignored_path(text),
            _ => false,
        }
    }

    /// Joins a relative path onto the directory of the last `cd`. Expressions that start with
    /// a variable are taken as absolute (they almost always hold one).
    fn rebase(&self, expr: Expr) -> Expr {
        let Some(base) = &self.cwd else { return expr };
        rebase_on(base, expr)
    }

    /// Runs `f` with a fresh capture and returns what it captured.
    fn capturing(&mut self, f: impl FnOnce(&mut Self)) -> Vec<Captured> {
        let saved = self.capture.replace(Vec::new());
        f(self);
        std::mem::replace(&mut self.capture, saved).unwrap_or_default()
    }

    fn command(&mut self, node: Node) {
        let feed = self.feed.take();
        let line = self.line(node);
        let name_row = node.field("name").map(|n| n.start_position().row);
        let mut words = Vec::new();
        let children: Vec<(Option<&str>, Node)> = node
            .children_vec()
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    u32::try_from(i)
                        .ok()
                        .and_then(|i| node.field_name_for_child(i)),
                    c,
                )
            })
            .collect();
        let mut redirects = Vec::new();
        let mut sources = Vec::new();
        let mut previous_end = node.start_byte();
        let mut rest = None;
        for (field, child) in children {
            if field == Some("argument")
                && has_bare_newline(
                    self.text
                        .get(previous_end..child.start_byte())
                        .unwrap_or(""),
                )
            {
                // Tree-sitter occasionally runs a command on past the end of its line; what
                // follows the newline is read again as statements of its own.
                rest = Some(child);
                break;
            }
            previous_end = previous_end.max(child.end_byte());
            match (field, child.kind_name()) {
                (_, "variable_assignment") => {
                    // Tree-sitter sometimes attaches assignments on earlier lines to the next
                    // command; on the same line they are only the command's environment.
                    if name_row.is_none_or(|row| child.end_position().row < row) {
                        self.assignment(child);
                    } else {
                        self.children(child);
                        self.prefix_assignment(child, line);
                    }
                }
                (_, "file_redirect" | "heredoc_redirect" | "herestring_redirect") => {
                    redirects.push(child)
                }
                (Some("name"), _) => {
                    words.push(self.word(child.named_child(0).unwrap_or(child)));
                    self.children(child);
                }
                (Some("argument"), _) if child.is_named() => {
                    if let Some(inner) = self.path_substitution(child) {
                        words.push(Word::placeholder(self.line(child)));
                        sources.push(inner);
                    } else if let Some(fields) = self.split_unquoted(child) {
                        let (line, source) = (self.line(child), self.node_text(child));
                        words.extend(
                            fields
                                .iter()
                                .map(|f| Word::from_field(f, line, self.scope, source)),
                        );
                        self.statement(child);
                    } else {
                        words.push(self.word(child));
                        self.statement(child);
                    }
                }
                (_, "subshell") => self.statement(child),
                _ => {}
            }
        }
        // What a function prints is what `$(function ...)` gives its caller.
        if redirects.is_empty() {
            self.function_output(node, &words, line);
        }
        if sources.is_empty() {
            self.run(&words, line, feed.as_deref());
        } else {
            let captured = self.capturing(|w| w.run(&words, line, feed.as_deref()));
            for inner in sources {
                self.feed = Some(captured.clone());
                self.statement(inner);
                self.feed = None;
            }
        }
        for redirect in redirects {
            self.redirect(redirect, Some(line));
        }
        if let Some(first) = rest
            && self.nesting < MAX_SPLIT_NESTING
            && let Some(text) = self.text.get(first.start_byte()..node.end_byte())
        {
            let host = Host {
                scope: self.scope,
                line_base: self.line(first).saturating_sub(1),
                cwd: self.cwd.clone(),
                nesting: self.nesting + 1,
                foreign_env: self.foreign_env,
            };
            analyse(text, self.facts, self.all_models, host, self.log);
        }
    }

    fn redirected(&mut self, node: Node) {
        let body = node.field("body");
        let line = body
            .filter(|b| b.kind_name() == "command")
            .map(|b| self.line(b));
        let redirects: Vec<Node> = {
            let mut cursor = node.walk();
            node.named_children(&mut cursor)
                .filter(|c| Some(*c) != body)
                .collect()
        };
        if let Some(body) = body {
            if let Some(producer) = self.fed_by_process_substitution(body, &redirects) {
                self.item_loop(body, producer);
            } else {
                self.statement(body);
                self.read_from_file(body, &redirects);
                self.heredoc_file(body, &redirects);
            }
        }
        for redirect in redirects {
            self.redirect(redirect, line);
        }
    }

    /// `read -r PID < /run/x.pid`: the variables hold what the file says, so a later
    /// `kill -HUP "$PID"` signals the process of that pid file.
    fn read_from_file(&mut self, body: Node, redirects: &[Node]) {
        if body.kind_name() != "command" {
            return;
        }
        let words: Vec<Word> = words::command_words(body)
            .into_iter()
            .map(|n| self.word(n))
            .collect();
        if words.first().and_then(Word::lit).as_deref() != Some("read") {
            return;
        }
        let file = redirects.iter().find_map(|r| {
            let operator = r.child(0).map(|o| self.node_text(o));
            let destination = r.field("destination")?;
            (r.kind_name() == "file_redirect" && operator == Some("<"))
                .then(|| self.word(destination).expr())
        });
        let Some(file) = file else { return };
        for var in command::read_vars(words.get(1..).unwrap_or_default()) {
            self.log.set_pid_var(var, Some(file.clone()));
        }
    }

    /// `while read f; do ...; done < <(find ...)`: the find inside the process substitution.
    fn fed_by_process_substitution(
        &self,
        body: Node<'a>,
        redirects: &[Node<'a>],
    ) -> Option<Node<'a>> {
        self.read_loop_vars(body)?;
        redirects.iter().find_map(|r| {
            let dest = r.field("destination")?;
            if r.kind_name() != "file_redirect" || dest.kind_name() != "process_substitution" {
                return None;
            }
            let producer = words::first_command(dest)?;
            self.is_producer(producer).then_some(producer)
        })
    }

    fn redirect(&mut self, node: Node, line: Option<u32>) {
        match node.kind_name() {
            "file_redirect" => {}
            "heredoc_redirect" => {
                let children: Vec<Node> = node.named_children_vec();
                for child in children {
                    if child.kind_name() != "heredoc_body" {
                        self.statement(child);
                    }
                }
                return;
            }
            _ => return self.children(node),
        }
        let mut cursor = node.walk();
        let operator = node
            .children(&mut cursor)
            .find(|c| !c.is_named())
            .map(|c| c.kind_name().to_string())
            .unwrap_or_default();
        let Some(dest) = node.field("destination") else {
            return;
        };
        self.statement(dest);
        let Some(mode) = self.models.redirect_mode(&operator) else {
            return;
        };
        if dest.kind_name() == "number" || dest.kind_name() == "process_substitution" {
            return;
        }
        let word = self.word(dest);
        if operator.contains('&')
            && word
                .lit()
                .is_some_and(|l| l == "-" || l.chars().all(|c| c.is_ascii_digit()))
        {
            return;
        }
        let line = line.unwrap_or_else(|| self.line(node));
        self.emit(
            word.expr(),
            mode,
            Reach::Exact,
            None,
            line,
            format!("redirect {operator}"),
        );
    }

    fn assignment(&mut self, node: Node) {
        self.children(node);
        let Some(name_node) = node.field("name") else {
            return;
        };
        if name_node.kind_name() != "variable_name" {
            return;
        }
        let name = self.node_text(name_node).to_string();
        let line = self.line(node);
        let mut value = match node.field("value") {
            None => Expr::lit(""),
            Some(v) if v.kind_name() == "array" => {
                let mut cursor = v.walk();
                let options: Vec<Expr> = v
                    .named_children(&mut cursor)
                    .filter(|c| c.kind_name() != "comment")
                    .map(|c| self.word(c).expr())
                    .collect();
                match options.len() {
                    1 => options.into_iter().next().unwrap_or_else(|| Expr::lit("")),
                    _ => Expr::Alt { options },
                }
            }
            Some(v) => {
                let word = self.word(v);
                self.log.set_pid_var(name.clone(), word.reads.clone());
                word.value_expr()
            }
        };
        let mut cursor = node.walk();
        if node.children(&mut cursor).any(|c| c.kind_name() == "+=") {
            let previous = self.tr().variable(&name, line, None);
            value = words::normalize_concat(vec![previous, value]);
        }
        self.bind(name, value, line);
    }

    fn bind(&mut self, name: String, value: Expr, line: u32) {
        // From here on in the loop's body the variable holds this value (whatever line it is
        // on), and outside the body the last binding decides as usual.
        if contains_placeholder(&value) {
            self.loop_vars.retain(|(v, _)| *v != name);
            return;
        }
        for (v, held) in self.loop_vars.iter_mut() {
            if *v == name {
                *held = value.clone();
            }
        }
        self.facts.bindings.push(Binding {
            scope: self.scope,
            name: name.into(),
            value: value.into(),
            line,
        });
    }

    /// `export`, `declare`, `typeset`, `local`, `readonly`: bindings; with `export` or `-x`,
    /// environment variables set for the programs the script runs.
    fn declaration(&mut self, node: Node) {
        let keyword = node.child(0).map(|k| k.kind_name()).unwrap_or("");
        let children: Vec<Node> = node.named_children_vec();
        let flags: Vec<&str> = children
            .iter()
            .filter(|c| c.kind_name() == "word")
            .map(|c| self.node_text(*c))
            .filter(|t| t.starts_with('-') && !t.starts_with("--"))
            .collect();
        // `export -n X` un-exports, `export -f f` exports a function.
        let exports = (keyword == "export" || flags.iter().any(|f| f.contains('x')))
            && !flags.iter().any(|f| f.contains(['n', 'f']));
        let line = self.line(node);
        for child in children {
            match child.kind_name() {
                "variable_assignment" => {
                    self.assignment(child);
                    if exports
                        && let Some(name) = child.field("name")
                        && name.kind_name() == "variable_name"
                    {
                        let name = self.node_text(name);
                        let value = self
                            .facts
                            .bindings
                            .last()
                            .filter(|b| b.name == name && b.line == self.line(child))
                            .map(|b| (*b.value).clone());
                        self.emit_env(name, Mode::Set, value, line, keyword);
                    }
                }
                "variable_name" => {
                    let name = self.node_text(child).to_string();
                    if exports {
                        self.export_bound(&name, line, keyword);
                    } else if keyword != "readonly" {
                        self.log.declare(self.scope, name, line);
                    }
                }
                _ => self.statement(child),
            }
        }
    }

    /// `export X` after `X=v`: sets X to its last value; a variable the script never assigned
    /// is only passed on and sets nothing.
    fn export_bound(&mut self, name: &str, line: u32, via: &str) {
        let value = self
            .facts
            .bindings
            .iter()
            .rev()
            .take(MAX_BINDINGS_SEARCHED)
            .find(|b| b.name == name && b.line <= line)
            .map(|b| (*b.value).clone());
        if let Some(value) = value {
            self.emit_env(name, Mode::Set, Some(value), line, via);
        }
    }

    /// `X=v cmd`: X is set in the environment of `cmd`.
    fn prefix_assignment(&mut self, node: Node, line: u32) {
        let Some(name) = node.field("name") else {
            return;
        };
        if name.kind_name() != "variable_name" {
            return;
        }
        let value = match node.field("value") {
            Some(v) => self.word(v).value_expr(),
            None => Expr::lit(""),
        };
        let name = self.node_text(name);
        self.emit_env(name, Mode::Set, Some(value), line, "VAR=value command");
    }

    /// `echo VALUE` / `printf '%s\n' VALUE` in a function (not redirected, not piped): one more
    /// alternative of what a command substitution of the function gives, bound as `name()` in
    /// the scope that holds the function.
    fn function_output(&mut self, command: Node<'_>, words: &[Word], line: u32) {
        const MAX_OUTPUTS: usize = 16;
        let Some((first, args)) = words.split_first() else {
            return;
        };
        let value = match first.lit().as_deref() {
            Some("echo") => {
                let operands: Vec<&Word> = args
                    .iter()
                    .skip_while(|w| matches!(w.lit().as_deref(), Some("-n" | "-e" | "-ne" | "-en")))
                    .collect();
                match operands.as_slice() {
                    [one] => one.expr(),
                    _ => return,
                }
            }
            Some("printf") => match args {
                [format, value] if matches!(format.lit().as_deref(), Some("%s" | "%s\n")) => {
                    value.expr()
                }
                _ => return,
            },
            _ => return,
        };
        let Some(function) = self.facts.scopes.get(self.scope) else {
            return;
        };
        if function.kind != ScopeKind::Function || function.name.is_empty() {
            return;
        }
        // Asked last: tree-sitter finds a parent by descending from the root again, 2 % of a
        // shell-heavy run when every command asked it.
        let piped = command
            .parent()
            .is_some_and(|p| matches!(p.kind_name(), "pipeline" | "redirected_statement"));
        if piped {
            return;
        }
        let (Some(holder), def_line) = (function.parent, function.line) else {
            return;
        };
        let name = format!("{}()", function.name);
        let existing = self
            .facts
            .bindings
            .iter_mut()
            .rev()
            .find(|b| b.scope == holder && b.name == name && b.line >= def_line);
        match existing {
            Some(binding) => {
                binding.value.add_alternative(value, MAX_OUTPUTS);
            }
            None => self.facts.bindings.push(crate::extract::Binding {
                scope: holder,
                name: name.into(),
                value: value.into(),
                line,
            }),
        }
    }

    fn function(&mut self, node: Node) {
        let name = node
            .field("name")
            .map(|n| self.node_text(n).to_string())
            .unwrap_or_default();
        let scope = self.facts.push_scope(Scope {
            parent: Some(self.scope),
            kind: ScopeKind::Function,
            name: name.into(),
            class: None,
            job: None,
            line: self.line(node),
        });
        self.function_scopes.insert(node.id(), scope);
        // `$1`…`$9` are the call's arguments until a `shift` or `set --` moves them.
        self.facts.params.push(crate::extract::FunctionParams {
            scope,
            names: (1..=9).map(|n| n.to_string().into()).collect(),
            positional_only: true,
            keyword_only: Vec::new(),
        });
        let saved_positions = self.positions.replace(Positions::Params(0));
        let saved_branch = std::mem::replace(&mut self.branch_depth, 0);
        let saved_scope = std::mem::replace(&mut self.scope, scope);
        let saved_cwd = self.cwd.take();
        let saved_stack = std::mem::take(&mut self.dir_stack);
        let saved_items = std::mem::take(&mut self.item_vars);
        let saved_loops = std::mem::take(&mut self.loop_vars);
        // A function runs where it is called, not inside the loop that defines it.
        let saved_modes = (self.wait_mode, self.wait_reads, self.watch_mode);
        (self.wait_mode, self.wait_reads, self.watch_mode) = (false, false, false);
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).skip(1).collect();
        for child in children {
            self.statement(child);
        }
        self.scope = saved_scope;
        self.positions = saved_positions;
        self.branch_depth = saved_branch;
        self.cwd = saved_cwd;
        self.dir_stack = saved_stack;
        self.item_vars = saved_items;
        self.loop_vars = saved_loops;
        (self.wait_mode, self.wait_reads, self.watch_mode) = saved_modes;
    }

    fn subshell(&mut self, node: Node) {
        let saved_cwd = self.cwd.clone();
        let saved_stack = self.dir_stack.clone();
        self.children(node);
        self.cwd = saved_cwd;
        self.dir_stack = saved_stack;
    }

    fn for_statement(&mut self, node: Node) {
        let line = self.line(node);
        let Some(var) = node
            .field("variable")
            .map(|v| self.node_text(v).to_string())
        else {
            return self.children(node);
        };
        let mut cursor = node.walk();
        let values: Vec<Node> = node.children_by_field_name("value", &mut cursor).collect();
        let body = node.field("body");
        if let ([value], Some(body)) = (values.as_slice(), body)
            && value.kind_name() == "command_substitution"
            && let Some(producer) = words::first_command(*value).filter(|c| self.is_producer(*c))
        {
            self.bind(
                var.clone(),
                Expr::path_hole(format!("{var} (each path)")),
                line,
            );
            let captured = self.capturing(|w| w.with_item_var(&var, |w| w.statement(body)));
            self.feed = Some(captured);
            self.statement(producer);
            self.feed = None;
            return;
        }
        let value = if values.is_empty() {
            Expr::hole("$@")
        } else {
            let mut options: Vec<Expr> = values.iter().flat_map(|v| self.fields(*v)).collect();
            if options.len() == 1 {
                options.pop().unwrap_or_else(|| Expr::lit(""))
            } else {
                Expr::Alt { options }
            }
        };
        self.bind(var.clone(), value.clone(), line);
        let counted = values.iter().all(|v| is_count(self.node_text(*v)));
        for value in values {
            self.statement(value);
        }
        if let Some(body) = body {
            let depth = self.loop_vars.len();
            self.loop_vars.push((var, value));
            self.polling_body(body, counted);
            self.loop_vars.truncate(depth);
        }
    }

    /// The words an argument gives after word splitting: an unquoted `$LIST` whose value in
    /// this file is `"/var/a /var/b"` is two words; anything else is the word itself.
    fn fields(&self, node: Node) -> Vec<Expr> {
        let word = self.word(node);
        match self.split_unquoted(node) {
            Some(fields) => fields,
            None => vec![word.expr()],
        }
    }

    /// The fields of an argument that is one unquoted plain expansion (`$X`, `${X}`) of a
    /// variable this file gives a value that splits (see [`words::split_fields`]).
    fn split_unquoted(&self, node: Node) -> Option<Vec<Expr>> {
        if !matches!(node.kind_name(), "simple_expansion" | "expansion") {
            return None;
        }
        let tr = self.tr();
        let (name, words::ParameterUse::Plain) = tr.parameter_use(node)? else {
            return None;
        };
        if node.kind_name() == "expansion" && self.node_text(node) != format!("${{{name}}}") {
            return None;
        }
        let value = match self.loop_vars.iter().rev().find(|(v, _)| *v == name) {
            Some((_, value)) => value.clone(),
            None => self.value_in_file(&name)?,
        };
        words::split_fields(&value)
    }

    /// The value the last binding of `name` walked so far gives it, in this scope or an
    /// enclosing one.
    fn value_in_file(&self, name: &str) -> Option<Expr> {
        let mut visible = vec![self.scope];
        let mut current = self.facts.scopes.get(self.scope).and_then(|s| s.parent);
        while let Some(scope) = current {
            if visible.len() > 64 {
                break;
            }
            visible.push(scope);
            current = self.facts.scopes.get(scope).and_then(|s| s.parent);
        }
        self.facts
            .bindings
            .iter()
            .rev()
            .take(MAX_BINDINGS_SEARCHED)
            .find(|b| b.name == name && visible.contains(&b.scope))
            .map(|b| (*b.value).clone())
    }

    /// A loop body that sleeps polls: its checks are waits, and so are its reads when the
    /// loop counts attempts (`for i in $(seq 1 30)`, `for ((;;))`) rather than items.
    fn polling_body(&mut self, body: Node, counted: bool) {
        let polling = is_polling(body, self.text);
        let waits = self.wait_mode || polling;
        let saved = (self.wait_mode, self.wait_reads);
        self.wait_mode = waits;
        self.wait_reads = self.wait_reads || (polling && counted);
        self.statement(body);
        (self.wait_mode, self.wait_reads) = saved;
    }

    fn with_item_var(&mut self, var: &str, f: impl FnOnce(&mut Self)) {
        self.item_vars.push(var.to_string());
        f(self);
        self.item_vars.pop();
    }

    /// A `while`/`until` loop is one of three things. A loop that runs for ever with no way
    /// out (`while true; do ...; sleep 300; done`) is a service: it acts every round (a
    /// [`TriggerKind::Loop`] when it sleeps), and the files it checks or waits for make it act
    /// ([`TriggerKind::WatchFile`]). A loop whose condition waits for a change
    /// (`while inotifywait -e modify F; do`) watches that file. Any other loop that sleeps
    /// polls: what it checks and reads, it waits for.
    fn while_statement(&mut self, node: Node) {
        let body = node.field("body");
        let mut cursor = node.walk();
        let conditions: Vec<Node> = node
            .children_by_field_name("condition", &mut cursor)
            .filter(|c| c.is_named() && c.kind_name() != "comment")
            .collect();
        let until = node.child(0).is_some_and(|k| k.kind_name() == "until");
        let forever = signal::runs_forever(&conditions, until, self.text);
        let ends = body.is_some_and(|b| signal::leaves_loop(b, self.text));
        let saved = (self.wait_mode, self.wait_reads, self.watch_mode);
        let mut watch_conditions = false;
        if forever && !ends {
            if let Some(interval) = self.loop_interval(&conditions, body) {
                let line = self.line(node);
                self.trigger(line, TriggerKind::Loop { interval });
            }
            (self.wait_mode, self.wait_reads, self.watch_mode) = (false, false, true);
        } else {
            let polling = body.is_some_and(|b| is_polling(b, self.text));
            let over_items = self.read_loop_vars(node).is_some();
            self.wait_mode = self.wait_mode || polling;
            self.wait_reads = self.wait_reads || (polling && !over_items);
            watch_conditions = !until && conditions.iter().any(|c| self.waits_for_change(*c));
        }
        for condition in conditions {
            let saved_watch = self.watch_mode;
            self.watch_mode |= watch_conditions;
            self.statement(condition);
            self.watch_mode = saved_watch;
        }
        // `while read -r f; do ...; done`: in the body, `$f` is what was read, also when the
        // loop is on one line after an earlier binding of `f`.
        let depth = self.loop_vars.len();
        for var in self.read_loop_vars(node).unwrap_or_default() {
            let value = Expr::path_hole(format!("read {var}"));
            self.loop_vars.push((var, value));
        }
        if let Some(body) = body {
            self.statement(body);
        }
        self.loop_vars.truncate(depth);
        (self.wait_mode, self.wait_reads, self.watch_mode) = saved;
    }

    /// Whether a loop condition is a command whose model waits for its operands to change
    /// (`inotifywait`).
    fn waits_for_change(&self, condition: Node) -> bool {
        let Some(command) = words::first_command(condition) else {
            return false;
        };
        let Some(name) = words::command_words(command)
            .first()
            .and_then(|n| self.word(*n).lit())
        else {
            return false;
        };
        let name = name.rsplit('/').next().unwrap_or(&name).to_string();
        matches!(
            self.models.command(&name),
            Some(CommandModel::Operands(m)) if m.operands.iter().any(|r| r.mode == Mode::WaitFor)
        )
    }

    /// The variables of `while read [-r] VAR...` (REPLY when none is named).
    fn read_loop_vars(&self, node: Node) -> Option<Vec<String>> {
        let node = match node.kind_name() {
            "redirected_statement" => node.field("body")?,
            _ => node,
        };
        if node.kind_name() != "while_statement" {
            return None;
        }
        let condition = node.field("condition")?;
        let command = words::first_command(condition)?;
        let words: Vec<Word> = words::command_words(command)
            .into_iter()
            .map(|n| self.word(n))
            .collect();
        if words.first().and_then(Word::lit).as_deref() != Some("read") {
            return None;
        }
        Some(command::read_vars(words.get(1..).unwrap_or_default()))
    }

    /// Walks a consumer loop with its variable standing for each item of `producer`, then the
    /// producer with what the loop does to each item.
    fn item_loop(&mut self, consumer: Node, producer: Node) {
        let vars = self.read_loop_vars(consumer).unwrap_or_default();
        let captured = self.capturing(|w| {
            let saved = std::mem::replace(&mut w.item_vars, vars);
            w.statement(consumer);
            w.item_vars = saved;
        });
        let captured = captured
            .into_iter()
            .map(|c| Captured {
                via: format!("while read: {}", c.via),
                ..c
            })
            .collect();
        self.feed = Some(captured);
        self.statement(producer);
        self.feed = None;
    }

    fn pipeline(&mut self, node: Node) {
        let outer = self.feed.take();
        let mut cursor = node.walk();
        let stages: Vec<Node> = node
            .named_children(&mut cursor)
            .filter(|c| c.kind_name() != "comment")
            .collect();
        let fed = stages.first().is_some_and(|s| self.lists_paths(*s));
        let ([first, middle @ .., last], true) = (stages.as_slice(), fed) else {
            for stage in stages {
                self.statement(stage);
            }
            return;
        };
        if self.read_loop_vars(*last).is_some() {
            for stage in middle {
                self.statement(*stage);
            }
            self.item_loop(*last, *first);
            return;
        }
        let mut captured = self.capturing(|w| w.statement(*last));
        for stage in middle {
            self.statement(*stage);
        }
        // Through filters only (`ls -t | tail -n +8` inside `rm $(...)`), the consumer of the
        // whole pipeline's output handles the paths.
        if captured.is_empty() {
            captured = outer.unwrap_or_default();
        }
        self.feed = Some(captured);
        self.statement(*first);
        self.feed = None;
    }

    /// `rm $(find ...)`, `rm "$(ls -t ... | tail -n +8)"`: the statement inside a substitution
    /// that prints the paths the command receives.
    fn path_substitution(&self, arg: Node<'a>) -> Option<Node<'a>> {
        let substitution = match arg.kind_name() {
            "command_substitution" => arg,
            "string" => {
                let named: Vec<Node> = arg.named_children_vec();
                match named.as_slice() {
                    [only] if only.kind_name() == "command_substitution" => *only,
                    _ => return None,
                }
            }
            _ => return None,
        };
        let mut cursor = substitution.walk();
        let inner = substitution
            .named_children(&mut cursor)
            .find(|c| c.kind_name() != "comment")?;
        let first_stage = match inner.kind_name() {
            "pipeline" => inner.named_child(0)?,
            _ => inner,
        };
        self.lists_paths(first_stage).then_some(inner)
    }

    /// Whether a pipeline stage is a simple command that prints paths (`find`, `ls`).
    fn lists_paths(&self, stage: Node) -> bool {
        matches!(stage.kind_name(), "command" | "redirected_statement")
            && words::first_command(stage).is_some_and(|c| self.is_producer(c))
    }

    fn test_command(&mut self, node: Node) {
        self.children(node);
        let bracket = node.child(0).map(|b| b.kind_name()).unwrap_or("[");
        let models = self.models;
        let Some(CommandModel::Test(model)) = models.command(bracket) else {
            return;
        };
        let line = self.line(node);
        let mut stack = vec![node];
        let mut seen = 0;
        while let Some(n) = stack.pop() {
            seen += 1;
            if seen > 10_000 {
                break;
            }
            let children: Vec<Node> = n.children_vec();
            let operator = n.field("operator").map(|o| self.node_text(o));
            match (n.kind_name(), operator) {
                ("unary_expression", Some(op)) if model.check_operators.iter().any(|c| c == op) => {
                    let operand = children
                        .iter()
                        .rev()
                        .find(|c| c.is_named() && c.kind_name() != "test_operator")
                        .map(|c| self.split_logical(*c, &mut stack))
                        .filter(|c| !command::is_operator_word(self.node_text(*c)));
                    if let Some(operand) = operand {
                        let word = self.word(operand);
                        self.emit(
                            word.expr(),
                            Mode::Check,
                            Reach::Exact,
                            None,
                            line,
                            format!("test {op}"),
                        );
                    }
                    continue;
                }
                ("unary_expression", Some(op))
                    if model.env_check_operators.iter().any(|c| c == op) =>
                {
                    let operand = children
                        .iter()
                        .rev()
                        .find(|c| c.is_named() && c.kind_name() != "test_operator");
                    if let Some(operand) = operand {
                        let word = self.word(*operand);
                        self.env_check(op, &word, line);
                    }
                    continue;
                }
                ("binary_expression", Some(op))
                    if model.binary_check_operators.iter().any(|c| c == op) =>
                {
                    for side in ["left", "right"] {
                        if let Some(operand) = n.child_by_field_name(side) {
                            let word = self.word(operand);
                            self.emit(
                                word.expr(),
                                Mode::Check,
                                Reach::Exact,
                                None,
                                line,
                                format!("test {op}"),
                            );
                        }
                    }
                    continue;
                }
                _ => {}
            }
            stack.extend(children.into_iter().rev().filter(|c| {
                matches!(
                    c.kind_name(),
                    "unary_expression" | "binary_expression" | "parenthesized_expression"
                )
            }));
        }
    }
}

impl<'a> Walker<'a> {
    /// Tree-sitter reads `[ -f a -o -d b ]` as `-f (a -o (-d b))`: the operand of `-f` is the
    /// leftmost leaf, and the right-hand sides are tests of their own.
    fn split_logical(&self, node: Node<'a>, rest: &mut Vec<Node<'a>>) -> Node<'a> {
        let mut current = node;
        for _ in 0..64 {
            let logical = current.kind_name() == "binary_expression"
                && current
                    .field("operator")
                    .is_some_and(|o| matches!(self.node_text(o), "-o" | "-a" | "&&" | "||"));
            let (true, Some(left)) = (logical, current.field("left")) else {
                break;
            };
            if let Some(right) = current.field("right") {
                rest.push(right);
            }
            current = left;
        }
        current
    }
}

/// Joins a relative path onto a base directory (see [`Walker::rebase`]).
fn rebase_on(base: &Expr, expr: Expr) -> Expr {
    if let Expr::Alt { options } = expr {
        return Expr::Alt {
            options: options.into_iter().map(|o| rebase_on(base, o)).collect(),
        };
    }
    if !is_relative(&expr) {
        return expr;
    }
    let expr = strip_dot_slash(expr);
    match expr.as_lit() {
        Some("" | ".") => base.clone(),
        Some("..") => parent_of(base),
        _ => Expr::join(vec![base.clone(), expr]),
    }
}

/// The directory above `base`, simplified when `base` ends with a plain segment.
fn parent_of(base: &Expr) -> Expr {
    if let Expr::Join { parts } = base
        && let [init @ .., Expr::Lit { text }] = parts.as_slice()
        && !text.contains('/')
        && text != ".."
        && !init.is_empty()
    {
        return Expr::join(init.to_vec());
    }
    Expr::Parent {
        of: Box::new(base.clone()),
    }
}

/// Whether the path starts with literal text that is not absolute.
fn is_relative(expr: &Expr) -> bool {
    match expr {
        Expr::Lit { text } | Expr::Glob { text } => {
            !text.starts_with('/') && command::remote_scheme(text).is_none()
        }
        Expr::Concat { parts } | Expr::Join { parts } => parts.first().is_some_and(is_relative),
        Expr::Alt { options } => options.iter().any(is_relative),
        _ => false,
    }
}

fn strip_dot_slash(expr: Expr) -> Expr {
    match expr {
        Expr::Lit { text } => match text.strip_prefix("./") {
            Some(rest) => Expr::lit(rest.trim_start_matches('/')),
            None => Expr::Lit { text },
        },
        Expr::Glob { text } => match text.strip_prefix("./") {
            Some(rest) => Expr::glob(rest.trim_start_matches('/')),
            None => Expr::Glob { text },
        },
        Expr::Concat { mut parts } => {
            if let Some(first) = parts.first_mut() {
                let taken = std::mem::replace(first, Expr::lit(""));
                *first = strip_dot_slash(taken);
            }
            words::normalize_concat(parts)
        }
        other => other,
    }
}

/// Whether text between two words has a newline that no backslash continues.
fn has_bare_newline(gap: &str) -> bool {
    let mut previous = ' ';
    for c in gap.chars() {
        if c == '\n' && previous != '\\' {
            return true;
        }
        if c != '\r' {
            previous = c;
        }
    }
    false
}

/// Whether a loop word counts attempts rather than naming items: `$(seq 1 30)`, `{1..30}`,
/// a number.
fn is_count(word: &str) -> bool {
    word.starts_with("$(seq ")
        || word.starts_with("`seq ")
        || (word.starts_with('{') && word.contains(".."))
        || (!word.is_empty() && word.chars().all(|c| c.is_ascii_digit()))
}

/// Whether shell text may renumber the positional parameters (`shift`, `set --`); a word
/// in a comment or a string counts too, which only makes positions unknown.
fn renumbers(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .any(|w| w == "shift")
        || text.contains("set --")
}

/// Whether a loop body polls: it is short, well-formed, and sleeps. (A long body that sleeps
/// somewhere is a worker loop; a body with a parse error may have swallowed half the file.)
fn is_polling(body: Node, text: &str) -> bool {
    let rows = body
        .end_position()
        .row
        .saturating_sub(body.start_position().row);
    rows <= MAX_POLLING_LOOP_ROWS && !body.has_error() && contains_command(body, text, "sleep")
}

/// Whether a simple command named `name` occurs under `node` (bounded search).
fn contains_command(node: Node, text: &str, name: &str) -> bool {
    any_node(
        node,
        |n| n.kind_name() == "command_name" && text.get(n.byte_range()) == Some(name),
        |_| false,
    )
}

/// Nodes searched under one node before giving up (answering `false`).
const MAX_SEARCHED_NODES: usize = 20_000;

/// Whether some node under `node` (itself included) is `found`, not descending below nodes
/// that `prune` (which are still tested); bounded by [`MAX_SEARCHED_NODES`].
pub(super) fn any_node(
    node: Node,
    mut found: impl FnMut(Node) -> bool,
    prune: impl Fn(Node) -> bool,
) -> bool {
    let mut stack = vec![node];
    let mut seen = 0;
    while let Some(n) = stack.pop() {
        seen += 1;
        if seen > MAX_SEARCHED_NODES {
            return false;
        }
        if found(n) {
            return true;
        }
        if prune(n) {
            continue;
        }
        n.push_named_children(&mut stack);
    }
    false
}
