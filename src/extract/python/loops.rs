//! Polling loops: waits, watched files and long-running programs.
//!
//! A loop *polls* when its body (not counting nested loops and functions) calls a row with
//! `sleep` (`time.sleep`, `asyncio.sleep`, `Event.wait`). A polling loop then is:
//!
//! - a **wait** when it can end on its own: a `while` whose condition is not constant and not a
//!   stop flag set elsewhere (`while time.time() < deadline`, `while not os.path.exists(p)`) or
//!   a `for` over `range(...)`: every path or secret it reads, checks or lists in its own scope
//!   is also recorded as a `wait-for` access on the same resource, **at the line of the read
//!   inside the loop** (the line of `os.path.getmtime(p)` in `if os.path.getmtime(p) !=
//!   before:`). A loop that runs until a `return` or `break` (outside exception handlers)
//!   waits for what the `if` that leaves it tests, and, when no other `if` of it serves a
//!   request, for everything it reads;
//! - otherwise a **service loop**: each path it checks in an `if` that does not leave the loop
//!   (or lists) is a watched file ([`TriggerKind::WatchFile`]: the program acts when a request
//!   file appears), and at the top of a program (module level or `main()`) the loop is a
//!   [`TriggerKind::Loop`] with the sleep's interval when it is literal ("5 seconds").

use super::calls::Callee;
use super::parse::line_of;
use super::translate::join;
use super::walk::{Ctx, Extractor, named};
use crate::expr::Expr;
use crate::extract::FieldExt as _;
use crate::extract::{RawAccess, RawResource, Reach, TriggerKind};
use crate::model::Mode;
use tree_sitter::Node;

/// Nodes of one loop body examined at most.
const MAX_LOOP_NODES: usize = 20_000;

/// Scope names of a program's entry point, whose forever-loop is the program's loop.
const ENTRY_POINTS: &[&str] = &["main", "__main__"];

/// What is in a loop's own body.
struct LoopBody<'t> {
    /// The body's nodes (and a `while` condition's), without nested loops and functions.
    nodes: Vec<Node<'t>>,
}

impl<'t> LoopBody<'t> {
    fn new(node: Node<'t>) -> LoopBody<'t> {
        let roots = ["condition", "body"]
            .into_iter()
            .filter_map(|f| node.child_by_field_name(f))
            .collect();
        LoopBody::from_roots(roots)
    }

    /// The nodes of one branch of the loop.
    fn of_block(block: Node<'t>) -> LoopBody<'t> {
        LoopBody::from_roots(vec![block])
    }

    fn from_roots(roots: Vec<Node<'t>>) -> LoopBody<'t> {
        let mut nodes = Vec::new();
        let mut stack = roots;
        while let Some(n) = stack.pop() {
            if nodes.len() >= MAX_LOOP_NODES {
                break;
            }
            nodes.push(n);
            for child in named(n) {
                if !matches!(
                    child.kind_name(),
                    "function_definition"
                        | "class_definition"
                        | "decorated_definition"
                        | "lambda"
                        | "while_statement"
                        | "for_statement"
                ) {
                    stack.push(child);
                }
            }
        }
        LoopBody { nodes }
    }
}

impl<'a> Extractor<'a> {
    /// Records what a polling loop means, once its body has been visited (its accesses are
    /// those from `first_access` on).
    pub(super) fn loop_effects(&mut self, node: Node<'_>, ctx: &Ctx, first_access: usize) {
        let body = LoopBody::new(node);
        let Some(interval) = self.sleep_in(&body, ctx) else {
            return;
        };
        let ends = match node.kind_name() {
            "while_statement" => self.while_ends(node),
            "for_statement" => match self.for_kind(node, ctx) {
                ForKind::Bounded => true,
                ForKind::Forever => false,
                ForKind::Other => return,
            },
            _ => return,
        };
        let exits = body.nodes.iter().any(|n| exits_loop(*n, node));
        let polled: Vec<usize> = (first_access..self.facts.accesses.len())
            .filter(|i| {
                self.facts.accesses.get(*i).is_some_and(|a| {
                    a.scope == ctx.scope
                        && matches!(a.mode, Mode::Read | Mode::Check | Mode::List)
                        && matches!(a.resource, RawResource::Path(_) | RawResource::Secret(_))
                })
            })
            .collect();
        let tests = self.condition_tests(&body, node);
        let role = |line: u32| -> Role {
            let mut role = Role::Other;
            for (lines, leaves) in &tests {
                if lines.contains(&line) {
                    if *leaves {
                        return Role::Awaited;
                    }
                    role = Role::Request;
                }
            }
            role
        };
        // A loop that ends (a deadline, a retry count) waits for everything it reads. A loop
        // that runs until something happens waits for what the test that leaves it reads;
        // the other files it tests are requests it serves.
        let lines: Vec<u32> = polled
            .iter()
            .filter_map(|i| self.facts.accesses.get(*i).map(|a| a.line))
            .collect();
        let serves = !ends && lines.iter().any(|l| role(*l) == Role::Request);
        for (i, line) in polled.into_iter().zip(lines) {
            let waits = ends || (exits && (role(line) == Role::Awaited || !serves));
            if waits {
                let Some(access) = self.facts.accesses.get(i).cloned() else {
                    continue;
                };
                self.facts.accesses.push(RawAccess {
                    mode: Mode::WaitFor,
                    ..access
                });
            } else if role(line) != Role::Awaited {
                self.watched(i);
            }
        }
        let pure_wait = ends || (exits && !serves);
        if !pure_wait && self.at_program_level(ctx) {
            let words = interval.seconds.as_deref().map(seconds_words);
            let kind = TriggerKind::Loop { interval: words };
            let index = self.push_trigger(ctx.scope, line_of(node), kind);
            if let (None, Some(name)) = (&interval.seconds, interval.name) {
                // A constant defined below the loop (`INTERVAL = 300` after `def main`).
                self.pending_intervals.push((index, name));
            }
        }
    }

    /// A file that a service loop polls is a request: a checked file, or a spool directory
    /// whose new entries are requests.
    fn watched(&mut self, index: usize) {
        let Some(access) = self.facts.accesses.get(index) else {
            return;
        };
        let RawResource::Path(target) = &access.resource else {
            return;
        };
        let path = match (access.mode, &target.reach) {
            (Mode::Check, _) => target.expr.clone(),
            (Mode::List, Reach::Children) => join(vec![target.expr.clone(), Expr::glob("*")]),
            _ => return,
        };
        let (line, scope) = (access.line, access.scope);
        self.push_trigger(scope, line, TriggerKind::WatchFile { path });
    }

    /// The tests of a loop's own `if`s: the lines of each condition, and whether its branch
    /// leaves the loop (`if changed: return`).
    fn condition_tests(
        &self,
        body: &LoopBody<'_>,
        loop_node: Node<'_>,
    ) -> Vec<(std::ops::RangeInclusive<u32>, bool)> {
        let mut tests = Vec::new();
        for node in &body.nodes {
            if !matches!(node.kind_name(), "if_statement" | "elif_clause") {
                continue;
            }
            let (Some(condition), Some(consequence)) =
                (node.field("condition"), node.field("consequence"))
            else {
                continue;
            };
            let leaves = LoopBody::of_block(consequence)
                .nodes
                .iter()
                .any(|n| exits_loop(*n, loop_node));
            tests.push((line_of(condition)..=end_line(condition), leaves));
        }
        tests
    }

    /// The first sleep of the loop's own body, with its seconds when they are a literal
    /// number (or a name bound to one so far).
    fn sleep_in(&mut self, body: &LoopBody<'_>, ctx: &Ctx) -> Option<Sleep> {
        for node in body.nodes.iter().copied() {
            if node.kind_name() != "call" {
                continue;
            }
            let Some(matched) = self.match_call(node, ctx) else {
                continue;
            };
            let Some(spec) = matched.model.sleep.clone() else {
                continue;
            };
            let arg = self.spec_node(&matched, &spec, ctx);
            let seconds = arg.and_then(|arg| self.number(arg, ctx, 0));
            let name = arg
                .filter(|a| a.kind_name() == "identifier")
                .map(|a| self.text(a).to_string());
            return Some(Sleep { seconds, name });
        }
        None
    }

    /// Fills in the intervals of loops that sleep for a constant defined below them.
    pub(super) fn finish_intervals(&mut self) {
        for (index, name) in std::mem::take(&mut self.pending_intervals) {
            let Some(trigger) = self.facts.triggers.get(index) else {
                continue;
            };
            let ctx = Ctx {
                scope: trigger.scope,
                line: u32::MAX,
                ..Ctx::module()
            };
            let seconds = self.number_of(&name, &ctx).or_else(|| {
                let value = self.local_value(&name, ctx.scope, u32::MAX)?;
                let text = value.as_lit()?;
                text.parse::<f64>().ok().map(|_| text.to_string())
            });
            if let (Some(seconds), Some(trigger)) = (seconds, self.facts.triggers.get_mut(index)) {
                trigger.kind = TriggerKind::Loop {
                    interval: Some(seconds_words(&seconds)),
                };
            }
        }
    }

    /// A literal number, a name bound to one, or a product or sum of such (`5 * 60`), as
    /// text.
    fn number(&mut self, node: Node<'_>, ctx: &Ctx, depth: u32) -> Option<String> {
        if depth > 4 {
            return None;
        }
        match node.kind_name() {
            "integer" | "float" => {
                let text = self.text(node).replace('_', "");
                text.parse::<f64>().ok().map(|_| text)
            }
            "identifier" => {
                let name = self.text(node);
                if let Some(value) = self.number_of(name, ctx) {
                    return Some(value);
                }
                let value = self.local_value(name, ctx.scope, ctx.line)?;
                let text = value.as_lit()?;
                text.parse::<f64>().ok().map(|_| text.to_string())
            }
            "parenthesized_expression" => {
                let inner = named(node).into_iter().next()?;
                self.number(inner, ctx, depth + 1)
            }
            "binary_operator" => {
                let left = self.number(node.field("left")?, ctx, depth + 1)?;
                let right = self.number(node.field("right")?, ctx, depth + 1)?;
                let (l, r) = (left.parse::<f64>().ok()?, right.parse::<f64>().ok()?);
                let op = node.field("operator").map(|o| self.text(o))?;
                let value = match op {
                    "*" => l * r,
                    "+" => l + r,
                    "-" => l - r,
                    _ => return None,
                };
                Some(format_number(value))
            }
            _ => None,
        }
    }

    /// Records a name bound to a numeric expression (`INTERVAL = 5 * 60`), for sleeps.
    pub(super) fn bind_number(&mut self, target: Node<'_>, value: Node<'_>, ctx: &Ctx) {
        if target.kind_name() != "identifier" || value.kind_name() != "binary_operator" {
            return;
        }
        if let Some(number) = self.number(value, ctx, 0) {
            let name = self.text(target).to_string();
            self.numbers.insert((ctx.scope, name), number);
        }
    }

    /// The numeric value of a name in the scope chain.
    fn number_of(&self, name: &str, ctx: &Ctx) -> Option<String> {
        let mut current = Some(ctx.scope);
        while let Some(scope) = current {
            if let Some(value) = self.numbers.get(&(scope, name.to_string())) {
                return Some(value.clone());
            }
            current = self.facts.scopes.get(scope).and_then(|s| s.parent);
        }
        None
    }

    /// Whether a `while` loop can end by its condition: not `True`, not a stop flag that only
    /// other code sets (`while not stop.is_set()`, `while self.running`).
    fn while_ends(&self, node: Node<'_>) -> bool {
        let Some(condition) = node.field("condition") else {
            return false;
        };
        let mut test = condition;
        while test.kind_name() == "not_operator" || test.kind_name() == "parenthesized_expression" {
            match test.named_child(0) {
                Some(inner) => test = inner,
                None => break,
            }
        }
        match test.kind_name() {
            "true" => false,
            "integer" => self.text(test) == "0",
            "identifier" | "attribute" => self.assigned_in(node, self.text(test)),
            "call" => {
                let is_flag = test
                    .field("function")
                    .and_then(|f| f.field("attribute"))
                    .is_some_and(|a| self.text(a) == "is_set");
                !is_flag
            }
            _ => true,
        }
    }

    /// Whether a name is assigned inside the loop (a `done` flag the loop itself sets).
    fn assigned_in(&self, node: Node<'_>, name: &str) -> bool {
        LoopBody::new(node).nodes.iter().any(|n| {
            n.kind_name() == "assignment" && n.field("left").is_some_and(|l| self.text(l) == name)
        })
    }

    fn for_kind(&self, node: Node<'_>, ctx: &Ctx) -> ForKind {
        let Some(right) = node.field("right") else {
            return ForKind::Other;
        };
        if right.kind_name() != "call" {
            return ForKind::Other;
        }
        match self.callee(right, ctx) {
            Callee::Function { name, .. } => match name.as_str() {
                "range" => ForKind::Bounded,
                "itertools.count" | "itertools.cycle" => ForKind::Forever,
                "itertools.repeat" if self.args(right).positional.len() == 1 => ForKind::Forever,
                "itertools.repeat" => ForKind::Bounded,
                _ => ForKind::Other,
            },
            _ => ForKind::Other,
        }
    }

    /// Module level, or a program's entry function.
    fn at_program_level(&self, ctx: &Ctx) -> bool {
        ctx.scope == 0
            || self
                .facts
                .scopes
                .get(ctx.scope)
                .is_some_and(|s| s.parent == Some(0) && ENTRY_POINTS.contains(&s.name.as_str()))
    }
}

/// What a file a loop polls is to it, by the `if` that tests it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Tested by an `if` that leaves the loop: what the loop waits for.
    Awaited,
    /// Tested by an `if` that acts and goes on: a request the loop serves.
    Request,
    /// Read outside any test.
    Other,
}

/// A loop's sleep: its seconds when known, and the name it sleeps for.
struct Sleep {
    seconds: Option<String>,
    name: Option<String>,
}

enum ForKind {
    /// `for _ in range(n)`: a bounded number of tries.
    Bounded,
    /// `for _ in itertools.count()`: forever.
    Forever,
    /// Iterating over data, not polling.
    Other,
}

/// Whether a node leaves the loop on its own: a `return` or `break` of this loop that is not
/// in an exception handler (giving up on an error is not the loop's purpose).
fn exits_loop(node: Node<'_>, loop_node: Node<'_>) -> bool {
    if !matches!(node.kind_name(), "return_statement" | "break_statement") {
        return false;
    }
    let mut current = node.parent();
    while let Some(n) = current {
        if n.id() == loop_node.id() {
            return true;
        }
        if matches!(n.kind_name(), "except_clause" | "except_group_clause") {
            return false;
        }
        current = n.parent();
    }
    false
}

/// The 1-based line a node ends on.
fn end_line(node: Node<'_>) -> u32 {
    u32::try_from(node.end_position().row + 1).unwrap_or(u32::MAX)
}

/// "5 seconds", "1 second", "0.5 seconds".
fn seconds_words(seconds: &str) -> String {
    if seconds == "1" || seconds == "1.0" {
        "1 second".to_string()
    } else {
        format!("{seconds} seconds")
    }
}

fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}
