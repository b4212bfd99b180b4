//! Loops that wait, loops that serve, and the durations that pace them.
//!
//! Before its body is walked, a loop is scanned (not into closures, nested functions or nested
//! loops) for what paces it (a `[[timer]]` sleep, or `tick()` on an interval bound in this
//! function) and for its *exit conditions*: a `while` condition, and the condition of every
//! `if`/`match`/`let .. else` whose branch leaves the loop (`break`, `return`).
//!
//! - A **wait**: a paced loop with exit conditions. Path and secret reads and checks inside an
//!   exit condition, or in a `let` (or assignment) whose variable an exit condition uses, are
//!   recorded as `wait-for` at the line of that read inside the loop — the read before the
//!   loop that takes the baseline stays a `check` or `read`. A deadline
//!   (`Instant::now() < deadline`, `elapsed()`) or a bounded `for _ in 0..N` is what makes it a
//!   wait with a timeout, but is not required.
//! - A **service loop**: a paced loop that is neither bounded nor a wait (`loop { ..; sleep }`,
//!   `while running { .. }`). It is a `Loop` trigger with the interval in words, and each path
//!   checked, read or deleted in one of its conditions (`if Path::new(REQ).exists()`) is a
//!   `WatchFile` trigger at the line that polls it: the program acts when that file appears.
//!
//! Intervals are words: `Duration::from_secs(8 * 3600)` is "8 hours", `from_secs(90)` is
//! "90 seconds", `from_millis(500)` is "500 milliseconds"; constants of this file are followed.

use super::chain::{Chain, Position, last_segment};
use super::walk::{Region, Walker, call_path, expr_ident};
use crate::extract::TriggerKind;
use crate::model::Mode;
use crate::rules::models::Models;
use crate::rules::models::rust::resources::TimerKind;
use foldhash::{HashSet, HashSetExt as _};
use quote::ToTokens;
use syn::spanned::Spanned;

/// The scan of a loop body stops at this depth.
const MAX_SCAN_DEPTH: usize = 64;

/// Constant expressions are evaluated this deep at most.
const MAX_CONST_DEPTH: usize = 16;

/// A loop being walked.
pub(super) struct LoopFrame {
    /// Where reads decide when the loop ends.
    watched: Vec<Region>,
    /// Conditions of `if`, `while let` and `match` in the loop.
    conditions: Vec<Region>,
    paced: bool,
    interval: Option<String>,
    bounded: bool,
    line: u32,
    /// Accesses recorded before the loop.
    first_access: usize,
    /// Some access of the loop was turned into a wait.
    waited: bool,
    /// Every exit condition only tests a stop flag (`shutdown.load(..)`, `!running`) or a
    /// value the loop does not change (`if once { break }`): the loop serves until told to
    /// stop, it does not wait for something.
    stops_only: bool,
}

/// What the scan of a loop body finds.
#[derive(Default)]
struct Scan<'a> {
    guards: Vec<&'a syn::Expr>,
    conditions: Vec<Region>,
    /// `let x = ..` and `x = ..` in the body: the variable and the region of its value.
    assigned: Vec<(String, Region)>,
    paced: bool,
    interval: Option<String>,
}

/// The kinds of loop the walk distinguishes.
pub(super) enum LoopKind<'a> {
    Loop,
    While(&'a syn::Expr),
    For(&'a syn::Expr),
}

impl Walker<'_> {
    /// Opens a frame for a loop about to be walked.
    pub(super) fn enter_loop(&mut self, kind: LoopKind<'_>, body: &syn::Block, line: u32) {
        let mut scan = Scan::default();
        let mut bounded = false;
        match kind {
            LoopKind::While(cond) => {
                scan.guards.push(cond);
                self.scan_expr(cond, &mut scan, 0);
            }
            LoopKind::For(iterated) => bounded = !is_unbounded_range(iterated),
            LoopKind::Loop => {}
        }
        self.scan_block(body, &mut scan, 0);
        let assigned: HashSet<&str> = scan.assigned.iter().map(|(n, _)| n.as_str()).collect();
        let mut names: HashSet<String> = HashSet::new();
        let mut watched = Vec::new();
        let mut stops_only = true;
        for guard in &scan.guards {
            let mut guard_names = HashSet::new();
            collect_idents(guard.to_token_stream(), &mut guard_names);
            let varies = calls_something(guard, 0)
                || guard_names.iter().any(|n| assigned.contains(n.as_str()));
            stops_only &= !varies || guard_names.iter().any(|n| is_stop_word(n));
            names.extend(guard_names);
            watched.push(Region::of(guard.span()));
        }
        bounded |= ["elapsed", "deadline", "timeout", "Instant", "now"]
            .iter()
            .any(|w| names.contains(*w));
        for (name, region) in &scan.assigned {
            if names.contains(name) {
                watched.push(*region);
            }
        }
        self.loops.push(LoopFrame {
            watched,
            conditions: scan.conditions,
            paced: scan.paced,
            interval: scan.interval,
            bounded,
            line,
            first_access: self.facts.accesses.len(),
            waited: false,
            stops_only,
        });
    }

    /// Closes the innermost loop frame: a service loop becomes triggers.
    pub(super) fn leave_loop(&mut self) {
        let Some(frame) = self.loops.pop() else {
            return;
        };
        if !frame.paced || frame.bounded || frame.waited || !frame.stops_only {
            return;
        }
        self.trigger(
            frame.line,
            TriggerKind::Loop {
                interval: frame.interval.clone(),
            },
        );
        // Each file polled in a condition of the loop, at the line that polls it.
        let watched_files: Vec<(crate::expr::Expr, u32)> = (frame.first_access
            ..self.facts.accesses.len())
            .filter_map(|i| {
                let access = self.facts.accesses.get(i)?;
                let region = self.access_regions.get(i).copied()?;
                let path = access.resource.as_path()?;
                let watches = matches!(access.mode, Mode::Check | Mode::Read | Mode::Delete)
                    && frame.conditions.iter().any(|c| c.contains(region));
                watches.then(|| (path.expr.clone(), access.line))
            })
            .collect();
        let mut seen = Vec::new();
        for (path, line) in watched_files {
            if !seen.contains(&path) {
                seen.push(path.clone());
                self.trigger(line, TriggerKind::WatchFile { path });
            }
        }
    }

    /// The mode an access gets inside the loops being walked: a read or check that decides
    /// when a paced loop ends is a wait.
    pub(super) fn mode_in_loops(&mut self, mode: Mode, region: Region) -> Mode {
        if !matches!(mode, Mode::Read | Mode::Check) {
            return mode;
        }
        for frame in self.loops.iter_mut().rev() {
            if frame.paced && frame.watched.iter().any(|w| w.contains(region)) {
                frame.waited = true;
                return Mode::WaitFor;
            }
        }
        mode
    }

    // --- the scan ----------------------------------------------------------------------------

    fn scan_block<'a>(&self, block: &'a syn::Block, scan: &mut Scan<'a>, depth: usize) {
        if depth > MAX_SCAN_DEPTH {
            return;
        }
        for stmt in &block.stmts {
            match stmt {
                syn::Stmt::Local(local) => self.scan_local(local, scan, depth + 1),
                syn::Stmt::Expr(e, _) => self.scan_expr(e, scan, depth + 1),
                syn::Stmt::Macro(_) | syn::Stmt::Item(_) => {}
            }
        }
    }

    fn scan_local<'a>(&self, local: &'a syn::Local, scan: &mut Scan<'a>, depth: usize) {
        let Some(init) = &local.init else {
            return;
        };
        let mut names = HashSet::new();
        collect_idents(local.pat.to_token_stream(), &mut names);
        for name in names {
            scan.assigned.push((name, Region::of(init.expr.span())));
        }
        if let Some((_, diverge)) = &init.diverge
            && exits(diverge, 0)
        {
            scan.guards.push(&init.expr);
        }
        self.scan_expr(&init.expr, scan, depth);
    }

    fn scan_expr<'a>(&self, expr: &'a syn::Expr, scan: &mut Scan<'a>, depth: usize) {
        if depth > MAX_SCAN_DEPTH {
            return;
        }
        let depth = depth + 1;
        match expr {
            syn::Expr::If(e) => {
                scan.conditions.push(Region::of(e.cond.span()));
                let else_exits = e.else_branch.as_ref().is_some_and(|(_, b)| exits(b, 0));
                if block_exits(&e.then_branch, 0) || else_exits {
                    scan.guards.push(&e.cond);
                }
                self.scan_expr(&e.cond, scan, depth);
                self.scan_block(&e.then_branch, scan, depth);
                if let Some((_, other)) = &e.else_branch {
                    self.scan_expr(other, scan, depth);
                }
            }
            syn::Expr::Match(e) => {
                scan.conditions.push(Region::of(e.expr.span()));
                if e.arms.iter().any(|arm| exits(&arm.body, 0)) {
                    scan.guards.push(&e.expr);
                }
                self.scan_expr(&e.expr, scan, depth);
                for arm in &e.arms {
                    self.scan_expr(&arm.body, scan, depth);
                }
            }
            syn::Expr::Assign(e) => {
                if let Some(name) = expr_ident(&e.left) {
                    scan.assigned.push((name, Region::of(e.right.span())));
                }
                self.scan_expr(&e.right, scan, depth);
            }
            syn::Expr::Call(call) => {
                self.scan_sleep_call(call, scan);
                call.args
                    .iter()
                    .for_each(|a| self.scan_expr(a, scan, depth));
            }
            syn::Expr::MethodCall(m) => {
                if m.method == "tick"
                    && m.args.is_empty()
                    && let Some(name) = expr_ident(&m.receiver)
                    && let Some(interval) = self.intervals.get(&(self.scope, name))
                {
                    scan.paced = true;
                    scan.interval.clone_from(interval);
                }
                self.scan_expr(&m.receiver, scan, depth);
                m.args.iter().for_each(|a| self.scan_expr(a, scan, depth));
            }
            syn::Expr::Block(b) => self.scan_block(&b.block, scan, depth),
            syn::Expr::Unsafe(b) => self.scan_block(&b.block, scan, depth),
            syn::Expr::Await(e) => self.scan_expr(&e.base, scan, depth),
            syn::Expr::Try(e) => self.scan_expr(&e.expr, scan, depth),
            syn::Expr::Paren(e) => self.scan_expr(&e.expr, scan, depth),
            syn::Expr::Reference(e) => self.scan_expr(&e.expr, scan, depth),
            syn::Expr::Unary(e) => self.scan_expr(&e.expr, scan, depth),
            syn::Expr::Binary(e) => {
                self.scan_expr(&e.left, scan, depth);
                self.scan_expr(&e.right, scan, depth);
            }
            syn::Expr::Let(e) => self.scan_expr(&e.expr, scan, depth),
            syn::Expr::Field(e) => self.scan_expr(&e.base, scan, depth),
            _ => {}
        }
    }

    /// A `[[timer]]` sleep: the loop is paced, at the sleep's interval.
    fn scan_sleep_call(&self, call: &syn::ExprCall, scan: &mut Scan<'_>) {
        let models = self.models;
        let sleeps = models
            .resources
            .timers
            .iter()
            .filter(|t| t.kind == TimerKind::Sleep);
        let Some(segments) = call_path(&call.func) else {
            return;
        };
        let Some((row, _)) = self.lookup(&segments, |p| models.function_row(sleeps.clone(), p))
        else {
            return;
        };
        scan.paced = true;
        if let crate::rules::models::rust::resources::Locator::Arg(i) = row.duration
            && let Some(duration) = call.args.iter().nth(i)
            && scan.interval.is_none()
        {
            scan.interval = self.duration_words(duration);
        }
    }

    /// `let mut ticker = interval(Duration::from_secs(30))`: remembered for `ticker.tick()`;
    /// `let poll = Duration::from_secs(5)`: remembered for `sleep(poll)`.
    pub(super) fn record_timer_local(&mut self, local: &syn::Local) {
        let Some(name) = super::walk::pat_ident(&local.pat) else {
            return;
        };
        let Some(init) = &local.init else {
            return;
        };
        let chain = Chain::of(&init.expr);
        let models = self.models;
        let key = (self.scope, name);
        if let Some(words) = self.duration_words(&init.expr) {
            self.durations.insert(key.clone(), words);
        }
        let Some(row) = self.row_at(&models.resources.timers, &chain, Position::Root) else {
            return;
        };
        if row.kind == TimerKind::Interval {
            let interval = self
                .locate(&row.duration, &chain, Position::Root)
                .and_then(|d| self.duration_words(d));
            self.intervals.insert(key, interval);
        }
    }

    // --- durations ---------------------------------------------------------------------------

    /// A duration expression in words: "8 hours", "30 seconds".
    pub(super) fn duration_words(&self, mut expr: &syn::Expr) -> Option<String> {
        for _ in 0..MAX_CONST_DEPTH {
            match expr {
                syn::Expr::Paren(e) => expr = &e.expr,
                syn::Expr::Reference(e) => expr = &e.expr,
                _ => break,
            }
        }
        match expr {
            syn::Expr::Path(_) => {
                let name = last_segment(expr)?;
                if let Some(words) =
                    expr_ident(expr).and_then(|n| self.durations.get(&(self.scope, n)))
                {
                    return Some(words.clone());
                }
                self.const_durations.get(&name).cloned()
            }
            syn::Expr::Call(call) => {
                let segments = call_path(&call.func)?;
                let function = segments.last()?.as_str();
                let owner = segments.iter().rev().nth(1).map(String::as_str);
                if !matches!(owner, Some("Duration" | "TimeDelta")) {
                    return None;
                }
                let arg = call.args.first()?;
                let value = self.const_int(arg, 0);
                let seconds = match function {
                    "from_secs" | "seconds" | "from_secs_f64" | "from_secs_f32" | "new" => value?,
                    "from_mins" | "minutes" => value?.checked_mul(60)?,
                    "from_hours" | "hours" => value?.checked_mul(3600)?,
                    "days" | "from_days" => value?.checked_mul(86400)?,
                    "from_millis" | "milliseconds" => {
                        let ms = value?;
                        if !ms.is_multiple_of(1000) {
                            return Some(plural(ms, "millisecond"));
                        }
                        ms / 1000
                    }
                    _ => return None,
                };
                Some(seconds_words(seconds))
            }
            _ => None,
        }
    }

    /// An integer constant expression: literals, arithmetic, `as` casts and constants of
    /// this file.
    pub(super) fn const_int(&self, expr: &syn::Expr, depth: usize) -> Option<u64> {
        if depth > MAX_CONST_DEPTH {
            return None;
        }
        let depth = depth + 1;
        match expr {
            syn::Expr::Lit(l) => match &l.lit {
                syn::Lit::Int(i) => i.base10_parse().ok(),
                syn::Lit::Float(f) => {
                    let v: f64 = f.base10_parse().ok()?;
                    (v.fract() == 0.0 && (0.0..1e15).contains(&v)).then_some(v as u64)
                }
                _ => None,
            },
            syn::Expr::Paren(e) => self.const_int(&e.expr, depth),
            syn::Expr::Group(e) => self.const_int(&e.expr, depth),
            syn::Expr::Cast(e) => self.const_int(&e.expr, depth),
            syn::Expr::Binary(e) => {
                let (a, b) = (
                    self.const_int(&e.left, depth)?,
                    self.const_int(&e.right, depth)?,
                );
                match e.op {
                    syn::BinOp::Add(_) => a.checked_add(b),
                    syn::BinOp::Sub(_) => a.checked_sub(b),
                    syn::BinOp::Mul(_) => a.checked_mul(b),
                    syn::BinOp::Div(_) => a.checked_div(b),
                    _ => None,
                }
            }
            syn::Expr::Path(_) => self.const_ints.get(&last_segment(expr)?).copied(),
            _ => None,
        }
    }

    /// Records the integer and duration constants of a file's items, before the walk.
    pub(super) fn collect_constants(&mut self, items: &[syn::Item], depth: usize) {
        if depth > MAX_CONST_DEPTH {
            return;
        }
        for item in items {
            match item {
                syn::Item::Const(c) => self.constant(&c.ident, &c.expr),
                syn::Item::Static(s) => self.constant(&s.ident, &s.expr),
                syn::Item::Mod(m) => {
                    if let Some((_, items)) = &m.content {
                        self.collect_constants(items, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }

    fn constant(&mut self, ident: &syn::Ident, expr: &syn::Expr) {
        let name = ident.to_string();
        if let Some(value) = self.const_int(expr, 0) {
            self.const_ints.insert(name, value);
        } else if let Some(words) = self.duration_words(expr) {
            self.const_durations.insert(name, words);
        }
    }
}

/// Whether a condition calls a function or method (other than reading a flag), so that its
/// value may change from one iteration to the next.
fn calls_something(expr: &syn::Expr, depth: usize) -> bool {
    if depth > MAX_SCAN_DEPTH {
        return true;
    }
    let depth = depth + 1;
    match expr {
        syn::Expr::Call(_) | syn::Expr::Macro(_) => true,
        syn::Expr::MethodCall(m) => {
            !matches!(
                m.method.to_string().as_str(),
                "load" | "is_cancelled" | "get"
            ) || calls_something(&m.receiver, depth)
        }
        syn::Expr::Await(_) => true,
        syn::Expr::Unary(e) => calls_something(&e.expr, depth),
        syn::Expr::Paren(e) => calls_something(&e.expr, depth),
        syn::Expr::Reference(e) => calls_something(&e.expr, depth),
        syn::Expr::Field(e) => calls_something(&e.base, depth),
        syn::Expr::Binary(e) => calls_something(&e.left, depth) || calls_something(&e.right, depth),
        syn::Expr::Let(e) => calls_something(&e.expr, depth),
        syn::Expr::Try(e) => calls_something(&e.expr, depth),
        syn::Expr::Lit(_) | syn::Expr::Path(_) => false,
        _ => true,
    }
}

/// Words of stop flags and shutdown signals in a loop's exit condition.
fn is_stop_word(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    [
        "stop",
        "shutdown",
        "running",
        "terminate",
        "exit",
        "cancel",
        "quit",
        "alive",
    ]
    .iter()
    .any(|w| lower.contains(w))
        || matches!(word, "load" | "try_recv" | "is_closed")
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// Seconds in the largest whole unit: 28800 -> "8 hours", 90 -> "90 seconds".
fn seconds_words(seconds: u64) -> String {
    if seconds >= 3600 && seconds.is_multiple_of(3600) {
        plural(seconds / 3600, "hour")
    } else if seconds >= 60 && seconds.is_multiple_of(60) {
        plural(seconds / 60, "minute")
    } else {
        plural(seconds, "second")
    }
}

/// `0..` and `(0..).step_by(..)` never end; other `for` loops iterate something finite.
fn is_unbounded_range(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Range(r) => r.end.is_none(),
        syn::Expr::Paren(p) => is_unbounded_range(&p.expr),
        syn::Expr::MethodCall(m) => is_unbounded_range(&m.receiver),
        syn::Expr::Call(c) => call_path(&c.func)
            .and_then(|s| s.last().cloned())
            .is_some_and(|f| f == "repeat" || f == "from_fn"),
        _ => false,
    }
}

/// Whether evaluating `expr` may leave the enclosing loop (`break`, `return`), not counting
/// nested loops and closures, which have their own.
fn exits(expr: &syn::Expr, depth: usize) -> bool {
    if depth > MAX_SCAN_DEPTH {
        return false;
    }
    let depth = depth + 1;
    match expr {
        syn::Expr::Break(_) | syn::Expr::Return(_) => true,
        syn::Expr::Block(b) => block_exits(&b.block, depth),
        syn::Expr::Unsafe(b) => block_exits(&b.block, depth),
        syn::Expr::If(e) => {
            block_exits(&e.then_branch, depth)
                || e.else_branch.as_ref().is_some_and(|(_, b)| exits(b, depth))
        }
        syn::Expr::Match(e) => e.arms.iter().any(|a| exits(&a.body, depth)),
        syn::Expr::Paren(e) => exits(&e.expr, depth),
        _ => false,
    }
}

fn block_exits(block: &syn::Block, depth: usize) -> bool {
    block.stmts.iter().any(|stmt| match stmt {
        syn::Stmt::Expr(e, _) => exits(e, depth),
        syn::Stmt::Local(l) => l
            .init
            .as_ref()
            .and_then(|i| i.diverge.as_ref())
            .is_some_and(|(_, d)| exits(d, depth)),
        _ => false,
    })
}

/// Every identifier in a token stream, iteratively.
fn collect_idents(tokens: proc_macro2::TokenStream, out: &mut HashSet<String>) {
    for_each_ident(tokens, |i| {
        out.insert(i.to_string());
    });
}

/// The identifiers among `wanted` that a file's tokens hold, for `requires` conditions of
/// model rows. `wanted` are those whose text the file holds at all (`RustModels::required_in`):
/// usually none, and then the tokens are not read.
pub(super) fn file_idents(tokens: &proc_macro2::TokenStream, wanted: &[&str]) -> HashSet<String> {
    let mut out = HashSet::new();
    if wanted.is_empty() {
        return out;
    }
    for_each_ident(tokens.clone(), |i| {
        if let Some(ident) = wanted.iter().find(|w| *i == **w) {
            out.insert(ident.to_string());
        }
    });
    out
}

/// Calls `visit` with every identifier of a token stream, in order, iteratively (groups nested
/// deeper than 256 are not entered).
fn for_each_ident(tokens: proc_macro2::TokenStream, mut visit: impl FnMut(&proc_macro2::Ident)) {
    let mut stack = vec![tokens.into_iter()];
    while let Some(iter) = stack.last_mut() {
        match iter.next() {
            Some(proc_macro2::TokenTree::Ident(i)) => visit(&i),
            Some(proc_macro2::TokenTree::Group(g)) if stack.len() < 256 => {
                stack.push(g.stream().into_iter());
            }
            Some(_) => {}
            None => {
                stack.pop();
            }
        }
    }
}

/// A cron expression of the `cron` crate (seconds first, an optional year last) or a classic
/// five-field one, described in words with the crontab describer; `None` when it is not a
/// schedule.
pub(super) fn describe_cron(expression: &str) -> Option<String> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    let (seconds, five) = match fields.as_slice() {
        [m, h, dom, mon, dow] => (None, [*m, *h, *dom, *mon, *dow]),
        [s, m, h, dom, mon, dow] | [s, m, h, dom, mon, dow, _] => {
            (Some(*s), [*m, *h, *dom, *mon, *dow])
        }
        _ => return None,
    };
    let line = format!("{} :\n", five.join(" "));
    let facts = crate::extract::cron::extract("crontab", &line, &Models::default());
    let mut description = facts.schedules.first()?.description.clone();
    if let Some(s) = seconds.filter(|s| *s != "0") {
        description = match s.strip_prefix("*/").or_else(|| s.strip_prefix("0/")) {
            Some(step) if five.iter().all(|f| *f == "*") => {
                format!("every {step} seconds")
            }
            _ => format!("{description}, at second {s}"),
        };
    }
    Some(description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_in_words() {
        assert_eq!(seconds_words(28800), "8 hours");
        assert_eq!(seconds_words(3600), "1 hour");
        assert_eq!(seconds_words(90), "90 seconds");
        assert_eq!(seconds_words(120), "2 minutes");
        assert_eq!(seconds_words(1), "1 second");
    }

    #[test]
    fn cron_expressions_with_seconds_are_described() {
        let every_8h = describe_cron("0 0 */8 * * *");
        let classic = describe_cron("0 */8 * * *");
        assert_eq!(every_8h.as_deref(), Some("every 8 hours, at minute 0"));
        assert_eq!(every_8h, classic);
        assert_eq!(
            describe_cron("*/10 * * * * *").as_deref(),
            Some("every 10 seconds")
        );
        assert_eq!(describe_cron("not a schedule"), None);
    }
}
