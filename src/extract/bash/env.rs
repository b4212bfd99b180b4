//! Environment variables: which variables a script reads from its environment, checks or sets.
//!
//! A script *reads* a variable from its environment when it uses it before (or without) giving
//! it a value itself: `$TOKEN_FILE` with no assignment anywhere, or the self-default idiom
//! `TOKEN_FILE="${TOKEN_FILE:-/run/secrets/api_token}"`. Uses are collected from every parse
//! tree of the file (the script, `sh -c` strings, `trap` handlers, recovered lines) into a
//! [`ShellLog`]; only when the whole text has been read are they compared with the file's
//! bindings, because a function may use a global that is assigned further down.
//!
//! Encoding of a read's [`EnvTarget::value`] (what the resolver must know):
//! - `Some(d)`: optional, with default `d` (`${X:-d}`, `${X-d}`, `${X:=d}`; `${X:-}` is
//!   `Some("")`);
//! - `None`: required — `${X:?msg}`, a plain use under `set -u` (unless the script tests
//!   whether X is set and goes on without it: `[[ -v X ]]`, `[ -n "${X:-}" ]`, or sources a
//!   file that may set it), or a guard that fails without it, such as `[ -z "$X" ] && exit 1`
//!   / `if [ -z "$X" ]; then ... exit 1; fi` (a function's `|| return` only skips an
//!   optional step);
//! - `Some(Expr::Hole { label: "unset", .. })`: optional with an unknown default — a plain `$X`
//!   without `set -u` expands to nothing when unset, and the script may or may not cope; a use
//!   inside another variable's default (`${NEW:-$OLD}`) is expanded only when that one is unset.
//!
//! Only names that look like configuration are considered: upper-case letters, digits and
//! underscores with at least one letter, and not in the `[shell] env_ignore` list of the models
//! (`HOME`, `PATH`, `BASH*`, `LC_*`, ...). Positional and special parameters never are.

use super::Walker;
use super::words::{ParameterUse, Translator, Word};
use crate::expr::{Expr, ScopeId};
use crate::extract::FieldExt as _;
use crate::extract::{EnvTarget, FileFacts, RawAccess, RawResource, ScopeKind};
use crate::model::Mode;
use crate::rules::models::bash::ShellModel;
use std::collections::{BTreeMap, BTreeSet};
use tree_sitter::Node;

/// Most nodes of one tree visited when collecting uses.
const MAX_SCAN_NODES: usize = 500_000;
/// Label of the hole that stands for "unset, and the script does not say what then": the
/// value of an optional environment read with no visible default (a plain `$X`).
pub const UNSET_LABEL: &str = "unset";

/// What a script does with a variable, as collected from all its parse trees.
#[derive(Clone, Debug, Default)]
pub(super) struct ShellLog {
    uses: Vec<VarUse>,
    /// Names given a value by `local X`, `declare X` and similar without `=`.
    declared: Vec<(ScopeId, String, u32)>,
    /// `set -u` / `set +u` by line.
    nounset: Vec<(u32, bool)>,
    /// Functions defined in the text, so that a command with their name is a call.
    pub functions: BTreeSet<String>,
    /// Variables assigned from a pid file or a process lookup (`PID=$(cat F)`), by name.
    pid_vars: BTreeMap<String, Expr>,
    /// The script reads another file into itself (`source F`, `. F`), which may set any
    /// variable: a plain use under `set -u` is then no proof the environment must.
    sources: bool,
    /// The work left for the whole text, its recovered lines and its snippets.
    pub budget: crate::extract::Budget,
    /// Here-documents read as the files they write (see `heredoc.rs`).
    pub heredoc_files: usize,
    /// Reads through `${!KEY}`: the variable's name is an expression.
    indirect: Vec<RawAccess>,
}

/// One use of a variable.
#[derive(Clone, Debug, PartialEq)]
struct VarUse {
    name: String,
    scope: ScopeId,
    line: u32,
    kind: UseKind,
    /// The use is inside the value of an assignment to the same variable
    /// (`X="${X:-default}"`), so that assignment comes after it.
    in_own_assignment: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum UseKind {
    Expansion(ParameterUse),
    /// `[ -n "$X" ]`, `[ -z "${X:-}" ]`, `[[ -v X ]]`, with the operator.
    Check(String),
    /// `[ -z "$X" ] && exit`: the script stops without it.
    Guard,
    /// A program the script runs reads it from its environment if it is set (`pg_dump` reads
    /// `PGPASSWORD`): an optional read, named after the program.
    Program(String),
}

impl ShellLog {
    fn expansion(
        &mut self,
        name: String,
        scope: ScopeId,
        line: u32,
        kind: ParameterUse,
        own: bool,
    ) {
        self.uses.push(VarUse {
            name,
            scope,
            line,
            kind: UseKind::Expansion(kind),
            in_own_assignment: own,
        });
    }

    pub fn check(&mut self, name: String, op: &str, scope: ScopeId, line: u32) {
        self.uses.push(VarUse {
            name,
            scope,
            line,
            kind: UseKind::Check(op.to_string()),
            in_own_assignment: false,
        });
    }

    /// A program run at `line` reads `name` from its environment if it is set.
    pub fn program_read(&mut self, name: String, program: &str, scope: ScopeId, line: u32) {
        self.uses.push(VarUse {
            name,
            scope,
            line,
            kind: UseKind::Program(program.to_string()),
            in_own_assignment: false,
        });
    }

    pub fn guard(&mut self, name: String, scope: ScopeId, line: u32) {
        self.uses.push(VarUse {
            name,
            scope,
            line,
            kind: UseKind::Guard,
            in_own_assignment: false,
        });
    }

    pub fn declare(&mut self, scope: ScopeId, name: String, line: u32) {
        self.declared.push((scope, name, line));
    }

    pub fn sourced(&mut self) {
        self.sources = true;
    }

    pub fn set_nounset(&mut self, line: u32, on: bool) {
        self.nounset.push((line, on));
    }

    pub fn pid_var(&self, name: &str) -> Option<&Expr> {
        self.pid_vars.get(name)
    }

    pub fn set_pid_var(&mut self, name: String, source: Option<Expr>) {
        match source {
            Some(source) => self.pid_vars.insert(name, source),
            None => self.pid_vars.remove(&name),
        };
    }

    /// Whether `set -u` is on at a line.
    fn nounset_at(&self, line: u32) -> bool {
        self.nounset
            .iter()
            .filter(|(l, _)| *l < line)
            .max_by_key(|(l, _)| *l)
            .is_some_and(|(_, on)| *on)
    }

    /// Turns the uses into `read` and `check` accesses of the environment.
    pub fn finish(self, facts: &mut FileFacts, shell: &ShellModel) {
        let mut assigned: BTreeMap<&str, Assignments> = BTreeMap::new();
        let declared = self.declared.iter().map(|(s, n, l)| (*s, n.as_str(), *l));
        let bound = facts
            .bindings
            .iter()
            .map(|b| (b.scope, b.name.as_str(), b.line));
        for (scope, name, line) in bound.chain(declared) {
            let entry = assigned.entry(name).or_insert(Assignments {
                first_line: line,
                scopes: BTreeSet::new(),
            });
            entry.first_line = entry.first_line.min(line);
            entry.scopes.insert(scope);
        }
        let mut uses: Vec<&VarUse> = self
            .uses
            .iter()
            .filter(|u| is_config_name(&u.name) && !shell.ignores_env(&u.name))
            .filter(|u| from_environment(u, assigned.get(u.name.as_str()), facts))
            .collect();
        uses.sort_by_key(|u| u.line);
        let guarded: BTreeSet<&str> = uses
            .iter()
            .filter(|u| {
                matches!(
                    u.kind,
                    UseKind::Guard | UseKind::Expansion(ParameterUse::Required)
                )
            })
            .map(|u| u.name.as_str())
            .collect();
        // A script that tests whether a variable is set (`[[ -v X ]]`, `[ -n "${X:-}" ]`,
        // `[ -z "$X" ] && X=d`) and does not stop without it copes with its absence: its plain
        // uses, even under `set -u`, are on the branch where the test said it is set.
        let presence_tested: BTreeSet<&str> = uses
            .iter()
            .filter(|u| matches!(u.kind, UseKind::Check(_)))
            .map(|u| u.name.as_str())
            .filter(|name| !guarded.contains(name))
            .collect();
        // Required anywhere makes every read of the variable a requirement (one read per
        // scope is reported, at the first use).
        let mut required = guarded.clone();
        required.extend(
            uses.iter()
                .filter(|u| matches!(u.kind, UseKind::Expansion(ParameterUse::Plain)))
                .filter(|u| self.nounset_at(u.line) && !self.sources)
                .map(|u| u.name.as_str())
                .filter(|name| !presence_tested.contains(name)),
        );
        let mut read: BTreeSet<(ScopeId, &str)> = BTreeSet::new();
        let mut checked: BTreeSet<(ScopeId, &str, u32)> = BTreeSet::new();
        let mut accesses = Vec::new();
        for u in uses {
            match &u.kind {
                UseKind::Check(op) => {
                    if checked.insert((u.scope, &u.name, u.line)) {
                        accesses.push(env_access(u, Mode::Check, None, &format!("test {op}")));
                    }
                }
                UseKind::Guard => {}
                UseKind::Program(program) => {
                    if !read.insert((u.scope, &u.name)) {
                        continue;
                    }
                    let value = if required.contains(u.name.as_str()) {
                        None
                    } else {
                        Some(Expr::hole(UNSET_LABEL))
                    };
                    let via = format!("{program} (reads it if set)");
                    accesses.push(env_access(u, Mode::Read, value, &via));
                }
                UseKind::Expansion(kind) => {
                    if !read.insert((u.scope, &u.name)) {
                        continue;
                    }
                    let value = if required.contains(u.name.as_str()) {
                        None
                    } else {
                        match kind {
                            ParameterUse::Default(d) => Some(d.clone()),
                            ParameterUse::Required => None,
                            ParameterUse::Plain => Some(Expr::hole(UNSET_LABEL)),
                        }
                    };
                    let via = match kind {
                        ParameterUse::Plain => "$VAR",
                        ParameterUse::Default(_) => "${VAR:-default}",
                        ParameterUse::Required => "${VAR:?}",
                    };
                    accesses.push(env_access(u, Mode::Read, value, via));
                }
            }
        }
        facts.accesses.extend(accesses);
        facts.accesses.extend(self.indirect);
    }
}

fn env_access(u: &VarUse, mode: Mode, value: Option<Expr>, via: &str) -> RawAccess {
    RawAccess {
        resource: RawResource::Env(EnvTarget {
            name: Expr::lit(u.name.clone()),
            value,
        }),
        mode,
        line: u.line,
        scope: u.scope,
        via: via.to_string().into(),
    }
}

/// Where a file gives a variable a value: enough to decide whether a use comes first.
struct Assignments {
    first_line: u32,
    scopes: BTreeSet<ScopeId>,
}

/// Whether a use reads the variable from the environment, given where the file assigns it.
/// At the top level: every assignment comes after the use (a later line, or the assignment
/// the use is the value of: `X="${X:-d}"`). In a function: likewise, and every assignment is
/// in that function, since a global assigned anywhere else may run before it is called.
fn from_environment(u: &VarUse, assigned: Option<&Assignments>, facts: &FileFacts) -> bool {
    let Some(a) = assigned else {
        return true;
    };
    let after = a.first_line > u.line || (a.first_line == u.line && u.in_own_assignment);
    if in_function(u.scope, facts) {
        after && a.scopes.len() == 1 && a.scopes.contains(&u.scope)
    } else {
        after
    }
}

fn in_function(scope: ScopeId, facts: &FileFacts) -> bool {
    let mut current = Some(scope);
    for _ in 0..64 {
        let Some(s) = current.and_then(|id| facts.scopes.get(id)) else {
            return false;
        };
        if s.kind == ScopeKind::Function {
            return true;
        }
        current = s.parent;
    }
    false
}

/// Whether a name looks like configuration: upper-case letters, digits and underscores, with
/// a letter, not starting with a digit.
pub(crate) fn is_config_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && name.chars().any(|c| c.is_ascii_uppercase())
}

/// Whether a variable set by the script or a crontab is worth recording as configuration.
pub(crate) fn is_config_env(name: &str, shell: &ShellModel) -> bool {
    is_config_name(name) && !shell.ignores_env(name)
}

/// Collects every parameter expansion of a tree as a use, in the scope of the function it is
/// in (`function_scopes` maps a function definition's node id to its scope).
pub(super) fn scan_uses(
    root: Node,
    tr: &Translator,
    function_scopes: &BTreeMap<usize, ScopeId>,
    log: &mut ShellLog,
) {
    // The bool: the node is in the alternative word of an enclosing `${X:-word}`, which is
    // expanded only when X is unset (or set, for `:+`).
    let mut stack: Vec<(Node, ScopeId, Option<&str>, bool)> = vec![(root, tr.scope, None, false)];
    let mut seen = 0usize;
    let mut children = Vec::new();
    while let Some((node, scope, assigning, conditional)) = stack.pop() {
        seen += 1;
        if seen > MAX_SCAN_NODES {
            return;
        }
        let (scope, assigning) = match node.kind_name() {
            "function_definition" => (
                function_scopes.get(&node.id()).copied().unwrap_or(scope),
                None,
            ),
            "variable_assignment" => (
                scope,
                node.field("name").and_then(|n| tr.src.get(n.byte_range())),
            ),
            _ => (scope, assigning),
        };
        if matches!(node.kind_name(), "simple_expansion" | "expansion") {
            let t = Translator { scope, ..*tr };
            // `${!KEY}` reads the variable KEY names, if set (the script sees "" otherwise).
            if let Some(name) = t.indirect_name(node)
                && !matches!(name, Expr::Hole { .. })
            {
                log.indirect.push(RawAccess {
                    resource: RawResource::Env(EnvTarget {
                        name,
                        value: Some(Expr::hole(UNSET_LABEL)),
                    }),
                    mode: Mode::Read,
                    line: t.line(node),
                    scope,
                    via: "${!VAR}".to_string().into(),
                });
            }
            if let Some((name, kind)) = t.parameter_use(node) {
                let own = assigning == Some(name.as_str());
                // A fallback (`${NEW:-$OLD}`, `${NEW:-${OLD:?}}`) is needed only when the
                // outer variable is unset: never a requirement of its own.
                let kind = match kind {
                    ParameterUse::Plain | ParameterUse::Required if conditional => {
                        ParameterUse::Default(Expr::hole(UNSET_LABEL))
                    }
                    kind => kind,
                };
                log.expansion(name, scope, t.line(node), kind, own);
            }
        }
        let conditional = conditional || tr.expands_conditionally(node);
        children.clear();
        node.push_children(&mut children);
        let first_child = stack.len();
        // Every expansion starts with `$`: a child whose text has none holds no use, and most
        // nodes of a script (names, words, keywords, operators) are such.
        stack.extend(
            children
                .iter()
                .filter(|child| {
                    tr.src
                        .get(child.byte_range())
                        .is_none_or(|text| memchr::memchr(b'$', text.as_bytes()).is_some())
                })
                .map(|&child| (child, scope, assigning, conditional)),
        );
        stack[first_child..].reverse();
    }
}

/// `set -u`, `set -euo pipefail`, `set -o nounset` turn nounset on; `set +u` and
/// `set +o nounset` turn it off. `None` when the command does not touch it.
pub(super) fn nounset_change(args: &[String]) -> Option<bool> {
    let mut change = None;
    let mut iter = args.iter().peekable();
    while let Some(arg) = iter.next() {
        if arg == "--" {
            break;
        }
        let (on, letters) = match (arg.strip_prefix('-'), arg.strip_prefix('+')) {
            (Some(l), _) => (true, l),
            (_, Some(l)) => (false, l),
            _ => break,
        };
        if letters.contains('u') {
            change = Some(on);
        }
        if letters.ends_with('o')
            && let Some(option) = iter.peek()
        {
            if option.as_str() == "nounset" {
                change = Some(on);
            }
            iter.next();
        }
    }
    change
}

/// A shebang's options (`#!/bin/bash -eu`) that turn nounset on.
pub(super) fn shebang_nounset(text: &str) -> bool {
    let Some(first) = text.lines().next() else {
        return false;
    };
    let Some(rest) = first.strip_prefix("#!") else {
        return false;
    };
    let words: Vec<String> = rest
        .split_whitespace()
        .skip(1)
        .filter(|w| w.starts_with(['-', '+']))
        .map(str::to_string)
        .collect();
    nounset_change(&words) == Some(true)
}

impl Walker<'_> {
    /// `[ -z "$X" ] && exit 1`, `[ -n "$X" ] || { echo "X?" >&2; exit 1; }`: the script
    /// stops without X.
    pub(super) fn guard_list(&mut self, node: Node) {
        let mut current = node;
        let mut tail: Vec<Node> = Vec::new();
        for _ in 0..64 {
            if current.kind_name() != "list" {
                break;
            }
            let children: Vec<Node> = current.children_vec();
            let [left, operator, right] = children.as_slice() else {
                return;
            };
            tail.push(*right);
            tail.push(*operator);
            current = *left;
        }
        tail.reverse();
        let Some(operator) = tail.first().map(|o| self.node_text(*o)) else {
            return;
        };
        let Some((test, name)) = self.env_test(current) else {
            return;
        };
        let stops = tail
            .iter()
            .skip(1)
            .any(|n| n.is_named() && stops_script(*n, self.text));
        if stops && matches!((test.as_str(), operator), ("-z", "&&") | ("-n", "||")) {
            let line = self.line(current);
            self.log.guard(name, self.scope, line);
        }
    }

    /// `if [ -z "$X" ]; then ...; exit 1; fi` and `if [ -n "$X" ]; then ...; else exit; fi`.
    pub(super) fn guard_if(&mut self, node: Node) {
        let Some(condition) = node.field("condition") else {
            return;
        };
        let Some((test, name)) = self.env_test(condition) else {
            return;
        };
        let children: Vec<Node> = node.named_children_vec();
        let stops = match test.as_str() {
            "-z" => children
                .iter()
                .filter(|c| c.id() != condition.id() && c.kind_name() != "comment")
                .filter(|c| !matches!(c.kind_name(), "elif_clause" | "else_clause"))
                .any(|c| stops_script(*c, self.text)),
            "-n" => children
                .iter()
                .filter(|c| c.kind_name() == "else_clause")
                .any(|c| stops_script(*c, self.text)),
            _ => false,
        };
        if stops {
            let line = self.line(condition);
            self.log.guard(name, self.scope, line);
        }
    }

    /// A test of whether one variable is empty or set: (`-z` or `-n`, the variable's name);
    /// `-v X` counts as `-n "$X"`.
    fn env_test(&self, node: Node) -> Option<(String, String)> {
        if node.kind_name() != "test_command" {
            return None;
        }
        let inner: Vec<Node> = node.named_children_vec();
        let [test] = inner.as_slice() else {
            return None;
        };
        if test.kind_name() != "unary_expression" {
            return None;
        }
        let op = test.field("operator").map(|o| self.node_text(o))?;
        if !matches!(op, "-z" | "-n" | "-v") {
            return None;
        }
        let last = u32::try_from(test.named_child_count().checked_sub(1)?).ok()?;
        let operand = test.named_child(last)?;
        // `-v X` names the variable bare, and is true when it is set, as `-n "$X"`.
        if op == "-v" {
            let name = self.word(operand).lit()?;
            return Some(("-n".to_string(), name));
        }
        let name = variable_name(&self.word(operand))?;
        Some((op.to_string(), name))
    }

    /// Records a `[ -n "$X" ]`-style check of a variable (`-v X` names it bare).
    pub(super) fn env_check(&mut self, op: &str, operand: &Word, line: u32) {
        let name = if op == "-v" {
            operand.lit()
        } else {
            variable_name(operand)
        };
        if let Some(name) = name {
            self.log.check(name, op, self.scope, line);
        }
    }
}

/// The variable a word expands, when it is exactly one (`"$X"`, `${X:-}`).
fn variable_name(word: &Word) -> Option<String> {
    match word.expr() {
        Expr::Var { name, .. } => Some(name.to_string()),
        _ => None,
    }
}

/// Whether a statement leaves the script or function (`exit`, `return`, or a block that does).
/// Whether a statement stops the script with a failure: `exit 1`, `exit "$rc"`, a bare `exit`.
/// `exit 0` ends it successfully, and a function's `return` (`[[ -n ${TZ} ]] || return 0`,
/// `[[ -z ${RELAY} ]] && return 1`) answers its caller, which goes on: the step is optional,
/// and the variable is not required.
fn stops_script(node: Node, text: &str) -> bool {
    let failing_exit = |n: Node| {
        n.kind_name() == "command"
            && n.field("name").and_then(|c| text.get(c.byte_range())) == Some("exit")
            && n.field("argument")
                .and_then(|a| text.get(a.byte_range()))
                .is_none_or(|s| s.trim_matches(['"', '\'']) != "0")
    };
    // An exit inside a nested condition or loop is about something else
    // (`if [[ -z $A ]]; then if [[ -z $B ]]; then exit 1; fi; fi` requires B, not A).
    let nested = |n: Node| {
        matches!(
            n.kind_name(),
            "if_statement"
                | "case_statement"
                | "while_statement"
                | "for_statement"
                | "c_style_for_statement"
                | "function_definition"
        )
    };
    super::any_node(node, failing_exit, nested)
}
