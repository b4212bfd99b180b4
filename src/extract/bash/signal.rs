//! Triggers and sends: how a script can be made to act now, and how it makes others act.
//!
//! Triggers ([`TriggerFact`](crate::extract::TriggerFact)): `trap HANDLER SIG...` registers one signal handler per real
//! signal (`EXIT`, `ERR`, `DEBUG`, `RETURN` are not signals another program sends); a loop
//! that runs for ever and sleeps acts every round ([`TriggerKind::Loop`], see
//! `Walker::while_statement`); a listener (`nc -l 8080`, `socat TCP-LISTEN:8080`) acts on a
//! connection ([`TriggerKind::Route`] with `method: None` and `path` `tcp:PORT` or
//! `unix:PATH` — not an HTTP path, since knockon cannot see what the script answers).
//!
//! Sends ([`SendFact`]): signal rows (`kill`, `pkill`, `killall`, `systemctl`, `docker kill`)
//! name a signal and a target. A target is either a pid file's path expression, when the pid
//! comes from one (`kill -HUP "$(cat /run/x.pid)"`, `$(< F)`, `` `cat F` ``, `PID=$(cat F)`
//! then `kill -HUP "$PID"`, `pkill -F F`), or a process, unit or container name (`pkill -f
//! rotator`, `$(pgrep -f rotator)`, `systemctl reload rotator.service`), or whatever else the
//! operand is (`$!`, `$pid`). Service managers' verbs are signal names too: `systemctl
//! reload` sends `HUP`, `systemctl start` sends `START` and `systemctl restart` sends
//! `RESTART` (pseudo-signals meaning "run the unit now"). HTTP clients (`curl`, `wget`,
//! `http`) make [`SendKind::Http`] requests to their URL operands.

use super::Walker;
use super::command::{Parsed, parse_args};
use super::words::{Word, command_words};
use crate::expr::Expr;
use crate::extract::FieldExt as _;
use crate::extract::{SendFact, SendKind, TriggerKind};
use crate::rules::models::bash::{
    FlagSet, HttpModel, ListenerModel, SignalModel, SignalTarget, is_signal, normalize_signal,
};
use tree_sitter::Node;

/// Most nodes searched for a loop's `sleep` or its way out.
const MAX_LOOP_SEARCH: usize = 20_000;
/// Deepest chain of variables followed to a literal interval.
const MAX_VALUE_CHAIN: u32 = 4;

impl Walker<'_> {
    /// `trap HANDLER SIGNAL...`: a handler for each real signal, and the handler's text
    /// analysed as shell in the registering scope (so `trap rotate HUP` calls `rotate`).
    pub(super) fn trap(&mut self, args: &[Word], line: u32) {
        let args = match args.first().and_then(Word::lit).as_deref() {
            Some("--") => args.get(1..).unwrap_or_default(),
            _ => args,
        };
        let Some((handler, signals)) = args.split_first() else {
            return;
        };
        let text = handler.lit();
        match text.as_deref() {
            // `trap -p`, `trap -l`: print; `trap - HUP`: reset; `trap '' HUP`: ignore.
            Some(t) if t.starts_with('-') || t.is_empty() => return,
            _ => {}
        }
        if signals.is_empty() {
            return;
        }
        for signal in signals {
            let Some(name) = signal.lit().filter(|s| is_signal(s)) else {
                continue;
            };
            let name = normalize_signal(&name);
            if !self.models.shell().is_pseudo_signal(&name) {
                self.trigger(line, TriggerKind::Signal { signal: name });
            }
        }
        if let Some(text) = text {
            self.snippet(&text, handler.line);
        }
    }

    /// `kill -HUP PID`, `pkill -USR1 -f name`, `systemctl reload unit`: one send per target.
    pub(super) fn signal(&mut self, m: &SignalModel, args: &[Word], line: u32) {
        let mut signal = m.signal.clone();
        let mut rest: Vec<Word> = Vec::with_capacity(args.len());
        let mut options_done = false;
        for word in args {
            let text = word.lit();
            if !options_done
                && m.dash_signal
                && let Some(name) = text.as_deref().and_then(|t| t.strip_prefix('-'))
                && !name.starts_with('-')
                && is_signal(name)
            {
                signal = Some(normalize_signal(name));
                continue;
            }
            options_done |= text.as_deref() == Some("--");
            rest.push(word.clone());
        }
        let parsed = parse_args(&m.syntax, &rest, &FlagSet::default());
        if parsed.has(&m.inert_flags) {
            return;
        }
        if let Some(value) = parsed.value(&m.signal_flags) {
            signal = Some(match value.lit() {
                Some(text) => normalize_signal(&text),
                None => value.source.clone(),
            });
        }
        let Some(signal) = signal.or_else(|| m.default_signal.clone()) else {
            return;
        };
        // `kill -0 PID` only asks whether the process is alive.
        if signal == "EXIT" {
            return;
        }
        let mut targets: Vec<Expr> = parsed
            .flags
            .iter()
            .filter(|(f, _)| m.pidfile_flags.contains(f))
            .filter_map(|(_, v)| v.as_ref().map(Word::expr))
            .collect();
        for operand in &parsed.operands {
            targets.push(match m.target {
                SignalTarget::Pid => self.pid_target(&operand.word),
                SignalTarget::Name => operand.word.expr(),
            });
        }
        for target in targets {
            self.facts.sends.push(SendFact {
                scope: self.scope,
                line,
                kind: SendKind::Signal {
                    signal: signal.clone(),
                    target,
                },
            });
        }
    }

    /// The pid file or process name a pid operand comes from, when visible.
    fn pid_target(&self, word: &Word) -> Expr {
        if let Some(source) = &word.reads {
            return source.clone();
        }
        let expr = word.expr();
        if let Expr::Var { name, .. } = &expr
            && let Some(source) = self.log.pid_var(name)
        {
            return source.clone();
        }
        expr
    }

    /// `curl -X POST URL`, `wget --post-data=... URL`, `http POST URL`: one request per URL.
    pub(super) fn http(&mut self, m: &HttpModel, parsed: &Parsed, operands: &[Word], line: u32) {
        let mut method = m.default_method.clone();
        for (flags, implied) in &m.implied {
            if parsed.has(flags) {
                method = Some(implied.clone());
            }
        }
        if let Some(value) = parsed.value(&m.method_flags) {
            method = value.lit().map(|v| v.to_ascii_uppercase());
        }
        let mut operands: Vec<&Word> = operands.iter().collect();
        if m.method_operand {
            if let Some(first) = operands.first().and_then(|w| w.lit())
                && is_method(&first)
            {
                method = Some(first);
                operands.remove(0);
            }
            operands.truncate(1);
        }
        let mut urls: Vec<Expr> = parsed
            .flags
            .iter()
            .filter(|(f, _)| m.url_flags.contains(f))
            .filter_map(|(_, v)| v.as_ref().map(Word::expr))
            .collect();
        urls.extend(
            operands
                .into_iter()
                .filter(|w| !w.is_empty())
                .map(Word::expr),
        );
        for url in urls {
            self.facts.sends.push(SendFact {
                scope: self.scope,
                line,
                kind: SendKind::Http {
                    method: method.clone(),
                    url,
                },
            });
        }
    }

    /// `nc -l 8080`, `nc -lp 8080`, `socat TCP-LISTEN:8080,fork ...`: a route `tcp:PORT` (or
    /// `unix:PATH`) that makes the script act.
    pub(super) fn listener(&mut self, m: &ListenerModel, args: &[Word], line: u32) {
        let parsed = parse_args(&m.syntax, args, &FlagSet::default());
        let mut routes = Vec::new();
        if !m.listen_flags.is_empty() && parsed.has(&m.listen_flags) {
            let port = parsed
                .value(&m.port_flags)
                .or_else(|| parsed.operands.last().map(|o| &o.word))
                .map(|w| w.lit().unwrap_or_else(|| w.source.clone()));
            routes.push(format!("tcp:{}", port.as_deref().unwrap_or("*")));
        }
        for operand in &parsed.operands {
            let Some(text) = operand.word.lit() else {
                continue;
            };
            let upper = text.to_ascii_uppercase();
            for prefix in &m.listen_prefixes {
                let Some(rest) = upper
                    .starts_with(&prefix.to_ascii_uppercase())
                    .then(|| text.get(prefix.len()..))
                    .flatten()
                else {
                    continue;
                };
                let address = rest.split(',').next().unwrap_or("");
                let scheme = if upper.contains("UNIX") {
                    "unix"
                } else {
                    "tcp"
                };
                routes.push(format!("{scheme}:{address}"));
            }
        }
        for path in routes {
            self.trigger(line, TriggerKind::Route { method: None, path });
        }
    }

    /// The interval of a loop that sleeps: `Some(Some("300 seconds"))`, `Some(None)` when it
    /// sleeps for an unknown or infinite time, `None` when it does not sleep.
    pub(super) fn loop_interval(
        &self,
        conditions: &[Node],
        body: Option<Node>,
    ) -> Option<Option<String>> {
        let sleep = conditions
            .iter()
            .copied()
            .chain(body)
            .find_map(|n| find_command(n, self.text, "sleep"))?;
        let args: Vec<Word> = command_words(sleep)
            .into_iter()
            .skip(1)
            .map(|n| self.word(n))
            .filter(|w| !w.leading_lit().starts_with('-'))
            .collect();
        if args.is_empty() {
            return Some(None);
        }
        let mut parts = Vec::new();
        for arg in &args {
            let line = arg.line;
            let part = match self.literal_of(&arg.expr(), line, 0) {
                Some(text) if text == "infinity" => return Some(None),
                Some(text) => duration_words(&text).unwrap_or(text),
                None => arg.source.trim_matches('"').to_string(),
            };
            parts.push(part);
        }
        Some(Some(parts.join(" and ")))
    }

    /// The literal text an expression stands for in this file, following variables to their
    /// last assignment before `line` (or their default).
    fn literal_of(&self, expr: &Expr, line: u32, depth: u32) -> Option<String> {
        if depth > MAX_VALUE_CHAIN {
            return None;
        }
        match expr {
            Expr::Lit { text } => Some(text.to_string()),
            Expr::Var { name, default, .. } => {
                let bound = self
                    .facts
                    .bindings
                    .iter()
                    .rev()
                    .take(super::MAX_BINDINGS_SEARCHED)
                    .find(|b| b.name == *name && b.line < line);
                bound
                    .and_then(|b| self.literal_of(&b.value, b.line, depth + 1))
                    .or_else(|| {
                        default
                            .as_deref()
                            .and_then(|d| self.literal_of(d, line, depth + 1))
                    })
            }
            _ => None,
        }
    }
}

/// An HTTP method as `http` takes it: `GET`, `POST`, ...
fn is_method(word: &str) -> bool {
    matches!(
        word,
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS"
    )
}

/// Whether a loop's condition never fails: `while true`, `while :`, `while sleep N`,
/// `until false`.
pub(super) fn runs_forever(conditions: &[Node], until: bool, text: &str) -> bool {
    let [condition] = conditions else {
        return false;
    };
    if condition.kind_name() != "command" {
        return false;
    }
    let Some(name) = condition
        .field("name")
        .and_then(|n| text.get(n.byte_range()))
    else {
        return false;
    };
    let name = name.rsplit('/').next().unwrap_or(name);
    if until {
        name == "false"
    } else {
        matches!(name, "true" | ":" | "sleep")
    }
}

/// Whether a loop body has a way out that ends the wait: `break`, `return` or `exit 0`
/// (an `exit 1` on an error does not make a service loop a wait).
pub(super) fn leaves_loop(body: Node, text: &str) -> bool {
    let mut stack = vec![body];
    let mut seen = 0;
    while let Some(node) = stack.pop() {
        seen += 1;
        if seen > MAX_LOOP_SEARCH {
            return false;
        }
        if node.kind_name() == "function_definition" {
            continue;
        }
        if node.kind_name() == "command" {
            let words: Vec<&str> = command_words(node)
                .into_iter()
                .map(|n| text.get(n.byte_range()).unwrap_or(""))
                .collect();
            match words.as_slice() {
                ["break", ..] | ["return", ..] | ["exit", "0"] => return true,
                _ => {}
            }
        }
        node.push_named_children(&mut stack);
    }
    false
}

/// The first simple command named `name` under `node`, in document order.
fn find_command<'t>(node: Node<'t>, text: &str, name: &str) -> Option<Node<'t>> {
    let mut stack = vec![node];
    let mut seen = 0;
    while let Some(n) = stack.pop() {
        seen += 1;
        if seen > MAX_LOOP_SEARCH {
            return None;
        }
        if n.kind_name() == "function_definition" {
            continue;
        }
        if n.kind_name() == "command"
            && n.field("name").and_then(|c| text.get(c.byte_range())) == Some(name)
        {
            return Some(n);
        }
        let children: Vec<Node> = n.named_children_vec();
        stack.extend(children.into_iter().rev());
    }
    None
}

/// `300` -> "300 seconds", `8h` -> "8 hours", `1.5m` -> "1.5 minutes", `1d` -> "1 day".
pub(super) fn duration_words(text: &str) -> Option<String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (text.get(..i)?, Some(c)),
        _ => (text, None),
    };
    let valid = !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.chars().filter(|c| *c == '.').count() <= 1
        && number.chars().any(|c| c.is_ascii_digit());
    if !valid {
        return None;
    }
    let unit = match unit {
        None | Some('s') => "second",
        Some('m') => "minute",
        Some('h') => "hour",
        Some('d') => "day",
        Some(_) => return None,
    };
    let plural = if number == "1" { "" } else { "s" };
    Some(format!("{number} {unit}{plural}"))
}
