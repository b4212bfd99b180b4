//! Credentials, queues, triggers and sends recognised on a chain by the resource model rows.
//!
//! Conventions the resolver relies on:
//! - Environment reads: `value` is the default when one is visible (`unwrap_or(d)`,
//!   `unwrap_or_else(|_| d)`, `unwrap_or_default()` = `""`, `map_or(d, ..)`, a `match` arm
//!   `Err(_) => d`); `None` when the program requires the variable (`?`, `.unwrap()`,
//!   `.expect(..)`, a diverging fallback, `env!`); `Some(Expr::hole("unset"))` when the program
//!   tolerates its absence with no visible default (`.ok()` kept as an `Option`,
//!   `if let Ok(v) = env::var(..)`, `option_env!`, an `Option` field of a clap or envy struct);
//!   `Some(Expr::hole("default"))` for a default the extractor cannot see (`#[serde(default)]`).
//!   `.is_ok()`/`.is_some()` on a read is a `check`.
//! - A queue subscription to a list is one access per topic; a Kafka topic starting with `^` is
//!   a regular expression, recorded as an [`Expr::Glob`] when it is a simple one (`.*`, `.`, `\.`)
//!   and as `Expr::hole("topic pattern")` otherwise; Redis `PSUBSCRIBE` patterns are globs; NATS
//!   wildcards `*` and `>` become glob `*` (which also matches dots: a superset).
//! - An AMQP publish to the default exchange `""` names a queue (role `queue`, no exchange).
//! - Vault ids are `mount/path`; secret and queue ids are otherwise as the code spells them.
//! - A signal sent to a pid read from a file targets the pid file's path; `pkill`/`killall`
//!   target the process name; `systemctl` the unit.

use super::chain::{Chain, Op, Position, last_segment, list_elements, string_literal};
use super::walk::{Region, Walker, call_path, expr_ident};
use crate::expr::Expr;
use crate::extract::{
    EnvTarget, QueueRole, QueueTarget, RawResource, SecretTarget, SendFact, SendKind, TriggerFact,
    TriggerKind,
};
use crate::model::Mode;
use crate::rules::models::rust::resources::{
    CallMatch, NamePattern, QueueModel, SignalCommandModel, SignalSource, TimerKind,
};
use syn::spanned::Spanned;

/// How a program uses an environment variable it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum EnvUse {
    Required,
    Default(Expr),
    /// Absence is tolerated, with no visible default.
    Tolerated,
    /// Only whether it is set matters.
    Check,
}

impl EnvUse {
    fn mode_and_value(self) -> (Mode, Option<Expr>) {
        match self {
            EnvUse::Required => (Mode::Read, None),
            EnvUse::Default(d) => (Mode::Read, Some(d)),
            EnvUse::Tolerated => (Mode::Read, Some(Expr::hole("unset"))),
            EnvUse::Check => (Mode::Check, None),
        }
    }
}

/// Methods after an environment read that keep its value (or its absence) as it is.
const KEEPING_METHODS: &[&str] = &[
    "ok",
    "map",
    "as_deref",
    "as_ref",
    "and_then",
    "filter",
    "cloned",
    "into",
    "map_err",
    "context",
    "with_context",
    "ok_or",
    "ok_or_else",
    "into_string",
    "to_string",
    "to_owned",
    "as_str",
    "trim",
];

impl Walker<'_> {
    /// Everything the resource rows recognise on one chain.
    pub(super) fn analyse_chain(&mut self, chain: &Chain<'_>, outer: &syn::Expr) {
        self.env_macro_read(chain, outer);
        for position in chain.positions() {
            if !self.may_match_a_row(chain, position) {
                continue;
            }
            self.env_access(chain, position, outer);
            self.env_struct(chain, position, outer);
            self.secret_access(chain, position, outer);
            self.queue_access(chain, position, outer);
            self.http_send(chain, position);
            self.signal_handler(chain, position);
            self.signal_send(chain, position);
            self.signal_command(chain, position);
            self.route(chain, position);
            self.schedule(chain, position);
            self.repeated_job(chain, position);
            self.watch(chain, position, outer);
            self.decode(chain, position, outer);
        }
    }

    /// Whether the call at `position` has a name some row matches (a cheap test before the
    /// row lookups).
    fn may_match_a_row(&self, chain: &Chain<'_>, position: Position) -> bool {
        let name = match position {
            Position::Root => chain
                .root_call()
                .and_then(|c| call_path(&c.func))
                .and_then(|s| s.last().cloned()),
            Position::Op(_) => chain.method_at(position).map(|m| m.method.to_string()),
        };
        name.is_some_and(|n| self.model_names.contains(&n))
    }

    /// Whether the file mentions an identifier (a crate, a type) anywhere.
    pub(super) fn mentions(&self, ident: &str) -> bool {
        // Only identifiers some row requires were looked for in the file.
        debug_assert!(
            self.models.requires(ident),
            "`{ident}` is required by no row"
        );
        self.idents.contains(ident)
    }

    // --- environment -------------------------------------------------------------------------

    /// What the operations after `position` (and a `match` on the chain) say about a read.
    pub(super) fn env_use(
        &self,
        chain: &Chain<'_>,
        position: Position,
        outer: &syn::Expr,
    ) -> EnvUse {
        for op in chain.ops_after(position) {
            let method = match op {
                Op::Try => return EnvUse::Required,
                Op::Await => continue,
                Op::Method(m) => m,
            };
            let args: Vec<&syn::Expr> = method.args.iter().collect();
            match (method.method.to_string().as_str(), args.as_slice()) {
                ("unwrap" | "expect" | "unwrap_unchecked", _) => return EnvUse::Required,
                ("unwrap_or" | "or", [default]) => {
                    return EnvUse::Default(self.convert(default));
                }
                ("unwrap_or_else" | "or_else", [f]) => {
                    return match closure_body(f) {
                        Some(body) if super::convert::diverges(body) => EnvUse::Required,
                        Some(body) => EnvUse::Default(self.convert(body)),
                        None => EnvUse::Default(self.convert(f)),
                    };
                }
                ("unwrap_or_default", []) => return EnvUse::Default(Expr::lit("")),
                ("map_or", [default, _]) => return EnvUse::Default(self.convert(default)),
                ("map_or_else", [f, _]) => {
                    let default = closure_body(f).unwrap_or(f);
                    return EnvUse::Default(self.convert(default));
                }
                ("is_ok" | "is_err" | "is_some" | "is_none", []) => return EnvUse::Check,
                (m, _) if KEEPING_METHODS.contains(&m) => continue,
                _ => break,
            }
        }
        match self.match_uses.get(&super::chain::key(outer)) {
            Some(outcome) => outcome.clone(),
            None => EnvUse::Tolerated,
        }
    }

    fn env_access(&mut self, chain: &Chain<'_>, position: Position, outer: &syn::Expr) {
        let models = self.models;
        let Some(row) = self.row_at(&models.env, chain, position) else {
            return;
        };
        let args = chain.args_at(position);
        let Some(name_arg) = args.get(row.arg) else {
            return;
        };
        let name = self.convert(name_arg);
        let (mode, value) = match row.mode {
            Mode::Set => (
                Mode::Set,
                row.value.and_then(|i| args.get(i)).map(|v| self.convert(v)),
            ),
            Mode::Check => (Mode::Check, None),
            _ => self.env_use(chain, position, outer).mode_and_value(),
        };
        let via = row.path.clone();
        self.push_resource(
            RawResource::Env(EnvTarget { name, value }),
            mode,
            chain.line(),
            via,
            Region::of(outer.span()),
        );
    }

    /// `env!("X")`, `option_env!("X").unwrap_or("d")`: compile-time reads.
    fn env_macro_read(&mut self, chain: &Chain<'_>, outer: &syn::Expr) {
        let syn::Expr::Macro(mac) = chain.root else {
            return;
        };
        let Some(name) = mac.mac.path.segments.last().map(|s| s.ident.to_string()) else {
            return;
        };
        let models = self.models;
        let Some(row) = models.resources.env_macros.iter().find(|r| r.name == name) else {
            return;
        };
        let args = mac
            .mac
            .parse_body_with(
                syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
            )
            .ok();
        let Some(variable) = args
            .as_ref()
            .and_then(|a| a.iter().nth(row.arg))
            .and_then(string_literal)
        else {
            return;
        };
        let usage = if row.optional {
            self.env_use(chain, Position::Root, outer)
        } else {
            EnvUse::Required
        };
        let (mode, value) = usage.mode_and_value();
        self.push_resource(
            RawResource::Env(EnvTarget {
                name: Expr::lit(variable),
                value,
            }),
            mode,
            chain.line(),
            format!("{name}!"),
            Region::of(outer.span()),
        );
    }

    /// `envy::from_env::<Config>()`: one read per field of a struct of this file.
    fn env_struct(&mut self, chain: &Chain<'_>, position: Position, outer: &syn::Expr) {
        let models = self.models;
        let Some(row) = self.row_at(&models.resources.env_structs, chain, position) else {
            return;
        };
        let prefix = row
            .prefix
            .as_ref()
            .and_then(|p| self.locate(p, chain, position))
            .and_then(string_literal)
            .unwrap_or_default();
        let type_name = self
            .turbofish_type(chain, position)
            .or_else(|| self.let_types.get(&super::chain::key(outer)).cloned());
        let Some(fields) = type_name.and_then(|t| self.messages.env_fields(&t)) else {
            return;
        };
        let line = chain.line();
        let region = Region::of(outer.span());
        for (field, value) in fields {
            let name = Expr::lit(format!("{prefix}{}", field.to_ascii_uppercase()));
            self.push_resource(
                RawResource::Env(EnvTarget { name, value }),
                Mode::Read,
                line,
                row.name.clone(),
                region,
            );
        }
    }

    /// The type argument of the call at `position` or of a later call in the chain
    /// (`from_slice::<T>(..)`, `prefixed("A_").from_env::<T>()`).
    pub(super) fn turbofish_type(&self, chain: &Chain<'_>, position: Position) -> Option<String> {
        let from_root = match position {
            Position::Root => chain
                .root_call()
                .and_then(|c| match &*c.func {
                    syn::Expr::Path(p) => p.path.segments.last().map(|s| &s.arguments),
                    _ => None,
                })
                .and_then(|args| match args {
                    syn::PathArguments::AngleBracketed(a) => a.args.first(),
                    _ => None,
                })
                .and_then(|arg| match arg {
                    syn::GenericArgument::Type(t) => super::messages::type_name(t),
                    _ => None,
                }),
            Position::Op(_) => None,
        };
        let at = chain.method_at(position).into_iter();
        from_root.or_else(|| {
            at.chain(chain.methods_after(position))
                .filter_map(|m| m.turbofish.as_ref())
                .find_map(|t| match t.args.first() {
                    Some(syn::GenericArgument::Type(t)) => super::messages::type_name(t),
                    _ => None,
                })
        })
    }

    // --- secrets and queues ------------------------------------------------------------------

    fn secret_access(&mut self, chain: &Chain<'_>, position: Position, outer: &syn::Expr) {
        let models = self.models;
        let Some(row) = self.row_at(&models.resources.secrets, chain, position) else {
            return;
        };
        let Some(id) = self.locate_expr(&row.id, chain, position) else {
            return;
        };
        self.push_resource(
            RawResource::Secret(SecretTarget {
                provider: row.provider.clone(),
                id,
            }),
            row.mode,
            chain.line(),
            row.name.clone(),
            Region::of(outer.span()),
        );
    }

    fn queue_access(&mut self, chain: &Chain<'_>, position: Position, outer: &syn::Expr) {
        let models = self.models;
        let Some(row) = self.row_at(&models.resources.queues, chain, position) else {
            return;
        };
        let Some(target) = self.locate(&row.target, chain, position) else {
            return;
        };
        let names: Vec<Expr> = match list_elements(target) {
            Some(elems) if elems.len() <= 64 => {
                elems.iter().map(|e| self.queue_name(row, e)).collect()
            }
            _ => vec![self.queue_name(row, target)],
        };
        let exchange = row
            .exchange
            .as_ref()
            .and_then(|e| self.locate_expr(e, chain, position));
        let bound_queue = row
            .bound_queue
            .as_ref()
            .and_then(|q| self.locate_expr(q, chain, position));
        let fields = match &row.payload {
            Some(payload) => self
                .locate(payload, chain, position)
                .map(|p| self.produced_fields(p))
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let (role, exchange) = default_exchange(row, exchange);
        for name in names {
            let target = QueueTarget {
                broker: row.broker,
                role,
                name,
                exchange: exchange.clone(),
                bound_queue: bound_queue.clone(),
                fields: fields.clone(),
            };
            self.push_resource(
                RawResource::Queue(target),
                row.mode,
                chain.line(),
                row.name.clone(),
                Region::of(outer.span()),
            );
        }
    }

    /// A queue or topic name; a literal in a row's pattern syntax is a glob.
    fn queue_name(&self, row: &QueueModel, expr: &syn::Expr) -> Expr {
        let Some(text) = string_literal(expr) else {
            return self.convert(expr);
        };
        match row.pattern {
            Some(NamePattern::Regex) => match text.strip_prefix('^') {
                Some(regex) => match regex_to_glob(regex) {
                    Some(glob) => Expr::glob(glob),
                    None => Expr::hole("topic pattern"),
                },
                None => Expr::lit(text),
            },
            Some(NamePattern::Glob) if text.contains(['*', '?', '[']) => Expr::glob(text),
            Some(NamePattern::Nats) if text.split('.').any(|t| t == "*" || t == ">") => {
                let tokens: Vec<&str> = text
                    .split('.')
                    .map(|t| if t == ">" { "*" } else { t })
                    .collect();
                Expr::glob(tokens.join("."))
            }
            _ => Expr::lit(text),
        }
    }

    /// `get_queue_url().queue_name(n)`: the value of a chain that looks a queue up by name.
    pub(super) fn queue_name_value(&self, expr: &syn::Expr) -> Option<Expr> {
        let models = self.models;
        let relevant = models
            .resources
            .queue_names
            .iter()
            .any(|row| match &row.call.matcher {
                CallMatch::Method { requires, .. } => {
                    requires.as_ref().is_none_or(|r| self.mentions(r))
                }
                CallMatch::Function { .. } => true,
            });
        if !relevant {
            return None;
        }
        let chain = Chain::of(expr);
        chain.positions().into_iter().find_map(|position| {
            let row = self.row_at(&models.resources.queue_names, &chain, position)?;
            self.locate_expr(&row.target, &chain, position)
        })
    }

    // --- sends -------------------------------------------------------------------------------

    fn http_send(&mut self, chain: &Chain<'_>, position: Position) {
        let models = self.models;
        let Some(row) = self.row_at(&models.resources.http, chain, position) else {
            return;
        };
        let Some(url) = self.locate_expr(&row.url, chain, position) else {
            return;
        };
        let method = row.method.clone().or_else(|| {
            let arg = self.locate(row.method_arg.as_ref()?, chain, position)?;
            let name = string_literal(arg).or_else(|| last_segment(arg))?;
            Some(name.to_ascii_uppercase())
        });
        self.facts.sends.push(SendFact {
            scope: self.scope,
            line: chain.line(),
            kind: SendKind::Http { method, url },
        });
    }

    fn signal_send(&mut self, chain: &Chain<'_>, position: Position) {
        let models = self.models;
        let Some(row) = self.row_at(&models.resources.signal_sends, chain, position) else {
            return;
        };
        let signals = self.signals(&row.signal, chain, position);
        let Some(pid) = self.locate(&row.target, chain, position) else {
            return;
        };
        let target = self
            .pid_source(pid)
            .unwrap_or_else(|| self.convert(peel_pid(pid)));
        for signal in signals {
            self.facts.sends.push(SendFact {
                scope: self.scope,
                line: chain.line(),
                kind: SendKind::Signal {
                    signal,
                    target: target.clone(),
                },
            });
        }
    }

    /// `Command::new("pkill").args(["-HUP", "rotator"])`, `systemctl reload x`.
    fn signal_command(&mut self, chain: &Chain<'_>, position: Position) {
        if position != Position::Root {
            return;
        }
        let Some(call) = chain.root_call() else {
            return;
        };
        let Some(segments) = call_path(&call.func) else {
            return;
        };
        let models = self.models;
        let Some((row, _)) = self.lookup(&segments, |p| models.run(p)) else {
            return;
        };
        let Some(program) = call.args.iter().nth(row.arg).and_then(string_literal) else {
            return;
        };
        let program = program.rsplit('/').next().unwrap_or(&program).to_string();
        let words = self.command_words(chain);
        for command in models.resources.signal_commands_for(&program) {
            if let Some((signal, target)) = signal_command_words(command, &words) {
                self.facts.sends.push(SendFact {
                    scope: self.scope,
                    line: chain.line(),
                    kind: SendKind::Signal { signal, target },
                });
                return;
            }
        }
    }

    /// The arguments a `Command` chain adds with `.arg(x)` and `.args([..])`, as literal text
    /// where they are literals.
    fn command_words(&self, chain: &Chain<'_>) -> Vec<(Option<String>, Expr)> {
        let mut words = Vec::new();
        for method in chain.methods_after(Position::Root) {
            let elems: Vec<syn::Expr> =
                match (method.method.to_string().as_str(), method.args.first()) {
                    ("arg", Some(arg)) => vec![arg.clone()],
                    ("args", Some(arg)) => list_elements(arg).unwrap_or_default(),
                    _ => continue,
                };
            for elem in elems.iter().take(64) {
                words.push((string_literal(elem), self.convert(elem)));
            }
        }
        words
    }

    /// A pid's source: the path of the file it was read from, when visible.
    pub(super) fn pid_source(&self, expr: &syn::Expr) -> Option<Expr> {
        let mut current = expr;
        for _ in 0..32 {
            current = match current {
                syn::Expr::Reference(e) => &e.expr,
                syn::Expr::Paren(e) => &e.expr,
                syn::Expr::Group(e) => &e.expr,
                syn::Expr::Cast(e) => &e.expr,
                syn::Expr::Try(e) => &e.expr,
                syn::Expr::Await(e) => &e.base,
                syn::Expr::MethodCall(m) => &m.receiver,
                syn::Expr::Call(call) => {
                    if let Some(path) = self.file_read_path(call) {
                        return Some(path);
                    }
                    match call.args.first() {
                        Some(arg) if call.args.len() == 1 => arg,
                        _ => return None,
                    }
                }
                syn::Expr::Path(_) => {
                    let name = expr_ident(current)?;
                    return self.read_sources.get(&(self.scope, name)).cloned();
                }
                _ => return None,
            };
        }
        None
    }

    /// The path a file-reading call (`fs::read_to_string(p)`) reads.
    fn file_read_path(&self, call: &syn::ExprCall) -> Option<Expr> {
        let segments = call_path(&call.func)?;
        let models = self.models;
        let (row, _) = self.lookup(&segments, |p| models.function(p))?;
        let access = row.accesses.iter().find(|a| a.mode == Mode::Read)?;
        let crate::rules::models::rust::PathPosition::Arg(index) = access.at else {
            return None;
        };
        call.args.iter().nth(index).map(|a| self.convert(a))
    }

    // --- triggers ----------------------------------------------------------------------------

    fn signal_handler(&mut self, chain: &Chain<'_>, position: Position) {
        let models = self.models;
        let Some(row) = self.row_at(&models.resources.signal_handlers, chain, position) else {
            return;
        };
        for signal in self.signals(&row.signal, chain, position) {
            self.trigger(chain.line(), TriggerKind::Signal { signal });
        }
    }

    fn signals(&self, source: &SignalSource, chain: &Chain<'_>, position: Position) -> Vec<String> {
        match source {
            SignalSource::Fixed(name) => vec![name.clone()],
            SignalSource::At(locator) => match self.locate(locator, chain, position) {
                Some(expr) => match list_elements(expr) {
                    Some(elems) => elems.iter().filter_map(signal_of).collect(),
                    None => signal_of(expr).into_iter().collect(),
                },
                None => Vec::new(),
            },
        }
    }

    fn route(&mut self, chain: &Chain<'_>, position: Position) {
        let models = self.models;
        let Some(row) = self.row_at(&models.resources.routes, chain, position) else {
            return;
        };
        let Some(path) = self
            .locate(&row.path, chain, position)
            .and_then(string_literal)
        else {
            return;
        };
        let handler = row
            .handler
            .as_ref()
            .and_then(|h| self.locate(h, chain, position));
        let mut methods = Vec::new();
        if let Some(handler) = handler {
            handler_methods(handler, &mut methods, 0);
        }
        if methods.is_empty() {
            methods.push(None);
        }
        for method in methods {
            let path = path.clone();
            self.trigger(chain.line(), TriggerKind::Route { method, path });
        }
    }

    fn schedule(&mut self, chain: &Chain<'_>, position: Position) {
        let models = self.models;
        let Some(row) = self.row_at(&models.resources.schedules, chain, position) else {
            return;
        };
        let Some(expression) = self
            .locate(&row.expression, chain, position)
            .and_then(string_literal)
        else {
            return;
        };
        let Some(description) = super::loops::describe_cron(&expression) else {
            return;
        };
        self.trigger(
            chain.line(),
            TriggerKind::Schedule {
                expression,
                description,
            },
        );
    }

    /// `Job::new_repeated(Duration::from_secs(3600), ..)`: runs at an interval.
    fn repeated_job(&mut self, chain: &Chain<'_>, position: Position) {
        let models = self.models;
        let Some(row) = self.row_at(&models.resources.timers, chain, position) else {
            return;
        };
        if row.kind != TimerKind::Repeat {
            return;
        }
        let interval = self
            .locate(&row.duration, chain, position)
            .and_then(|d| self.duration_words(d));
        self.trigger(chain.line(), TriggerKind::Loop { interval });
    }

    /// `watcher.watch(path, mode)`: a watched file, or a wait when the function waits for the
    /// event with a timeout (decided when the function ends).
    fn watch(&mut self, chain: &Chain<'_>, position: Position, outer: &syn::Expr) {
        let models = self.models;
        let Some(row) = self.row_at(&models.resources.watches, chain, position) else {
            return;
        };
        let Some(path) = self.locate_expr(&row.path, chain, position) else {
            return;
        };
        self.function_state.watches.push(super::walk::PendingWatch {
            path,
            line: chain.line(),
            via: row.name.clone(),
            region: Region::of(outer.span()),
        });
    }

    pub(super) fn trigger(&mut self, line: u32, kind: TriggerKind) {
        self.facts.triggers.push(TriggerFact {
            scope: self.scope,
            line,
            kind,
        });
    }
}

/// `Pid::from_raw(pid)`, `pid as i32`, `&pid` -> `pid`: the value that names the process.
fn peel_pid(expr: &syn::Expr) -> &syn::Expr {
    let mut current = expr;
    for _ in 0..16 {
        current = match current {
            syn::Expr::Reference(e) => &e.expr,
            syn::Expr::Paren(e) => &e.expr,
            syn::Expr::Cast(e) => &e.expr,
            syn::Expr::Call(c) if c.args.len() == 1 => match c.args.first() {
                Some(arg) => arg,
                None => return current,
            },
            _ => return current,
        };
    }
    current
}

/// The closure's body, for a closure.
fn closure_body(expr: &syn::Expr) -> Option<&syn::Expr> {
    match expr {
        syn::Expr::Closure(c) => Some(&c.body),
        _ => None,
    }
}

/// AMQP's default exchange `""` routes by queue name: such a publish names a queue.
fn default_exchange(row: &QueueModel, exchange: Option<Expr>) -> (QueueRole, Option<Expr>) {
    let is_default = exchange.as_ref().and_then(Expr::as_lit) == Some("");
    if row.broker == crate::extract::Broker::Amqp && row.role == QueueRole::RoutingKey && is_default
    {
        (QueueRole::Queue, None)
    } else {
        (row.role, exchange)
    }
}

/// A simple regular expression as a glob: `orders\..*` -> `orders.*`. `None` when it uses
/// anything else (classes, alternatives, repetitions other than `.*`).
fn regex_to_glob(regex: &str) -> Option<String> {
    let regex = regex.strip_suffix('$').unwrap_or(regex);
    let mut out = String::new();
    let mut chars = regex.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) if escaped.is_ascii_punctuation() && !"*?[]".contains(escaped) => {
                    out.push(escaped)
                }
                _ => return None,
            },
            '.' if chars.peek() == Some(&'*') => {
                chars.next();
                out.push('*');
            }
            '.' if chars.peek() == Some(&'+') => {
                chars.next();
                out.push_str("?*");
            }
            '.' => out.push('?'),
            c if c.is_alphanumeric() || "-_:/".contains(c) => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

/// The short name of a signal expression: `SignalKind::hangup()`, `Signal::SIGHUP`,
/// `libc::SIGHUP`, `SIGHUP as i32`, `1`.
pub(super) fn signal_of(expr: &syn::Expr) -> Option<String> {
    let mut current = expr;
    for _ in 0..16 {
        current = match current {
            syn::Expr::Call(call) => {
                let segments = call_path(&call.func)?;
                let function = segments.last()?;
                match call.args.first() {
                    Some(arg) if function == "from_raw" => arg,
                    _ => return signal_kind(function).map(str::to_string),
                }
            }
            syn::Expr::Lit(l) => {
                return match &l.lit {
                    syn::Lit::Int(i) => signal_number(i.base10_parse().ok()?).map(str::to_string),
                    syn::Lit::Str(s) => signal_word(&s.value()),
                    _ => None,
                };
            }
            syn::Expr::Paren(p) => &p.expr,
            syn::Expr::Cast(c) => &c.expr,
            syn::Expr::Reference(r) => &r.expr,
            syn::Expr::Path(_) => return signal_word(&last_segment(current)?),
            _ => return None,
        };
    }
    None
}

/// `SIGHUP`/`HUP` (any case) -> `HUP`; other words are not signals.
fn signal_word(word: &str) -> Option<String> {
    let upper = word.trim_start_matches('-').to_ascii_uppercase();
    if let Ok(n) = upper.parse::<u32>() {
        return signal_number(n).map(str::to_string);
    }
    let short = upper.strip_prefix("SIG")?;
    KNOWN_SIGNALS.contains(&short).then(|| short.to_string())
}

/// A signal name after `-`/`-s` in a command line: with or without `SIG`.
fn signal_option(word: &str) -> Option<String> {
    let upper = word.to_ascii_uppercase();
    if let Ok(n) = upper.parse::<u32>() {
        return signal_number(n).map(str::to_string);
    }
    let short = upper.strip_prefix("SIG").unwrap_or(&upper);
    KNOWN_SIGNALS.contains(&short).then(|| short.to_string())
}

const KNOWN_SIGNALS: &[&str] = &[
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ",
    "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// Linux signal numbers of the signals used to make programs act.
fn signal_number(n: u32) -> Option<&'static str> {
    Some(match n {
        1 => "HUP",
        2 => "INT",
        3 => "QUIT",
        9 => "KILL",
        10 => "USR1",
        12 => "USR2",
        14 => "ALRM",
        15 => "TERM",
        _ => return None,
    })
}

/// tokio's `SignalKind` constructors.
fn signal_kind(function: &str) -> Option<&'static str> {
    Some(match function {
        "hangup" => "HUP",
        "interrupt" => "INT",
        "terminate" => "TERM",
        "quit" => "QUIT",
        "user_defined1" => "USR1",
        "user_defined2" => "USR2",
        "alarm" => "ALRM",
        "child" => "CHLD",
        "pipe" => "PIPE",
        "window_change" => "WINCH",
        "io" => "IO",
        _ => return None,
    })
}

/// The signal and target of a signal-sending command line, if `words` fit the row.
fn signal_command_words(
    row: &SignalCommandModel,
    words: &[(Option<String>, Expr)],
) -> Option<(String, Expr)> {
    let mut rest = words;
    if let Some(sub) = &row.subcommand {
        let (first, after) = rest.split_first()?;
        if first.0.as_deref() != Some(sub.as_str()) {
            return None;
        }
        rest = after;
    }
    let mut signal = None;
    let mut target = None;
    let mut iter = rest.iter();
    while let Some((text, expr)) = iter.next() {
        match text.as_deref() {
            Some("-s" | "--signal") => {
                signal = iter
                    .next()
                    .and_then(|(t, _)| t.as_deref().and_then(signal_option));
            }
            Some(t) if t.starts_with("--signal=") => {
                signal = signal_option(t.trim_start_matches("--signal="));
            }
            Some(t) if t.starts_with('-') => {
                if let Some(s) = signal_option(&t[1..]) {
                    signal = Some(s);
                }
            }
            _ if target.is_none() => target = Some(expr.clone()),
            _ => {}
        }
    }
    let signal = row
        .signal
        .clone()
        .or(signal)
        .or_else(|| row.default.clone())?;
    Some((signal, target?))
}

/// The HTTP methods a route's handler expression names: `post(h)`, `get(a).post(b)`,
/// `web::post().to(h)`; `None` for `any(h)`.
fn handler_methods(expr: &syn::Expr, out: &mut Vec<Option<String>>, depth: usize) {
    if depth > 16 {
        return;
    }
    let method_word = |word: &str| -> Option<Option<String>> {
        match word {
            "get" | "post" | "put" | "delete" | "patch" | "head" | "options" | "trace" => {
                Some(Some(word.to_ascii_uppercase()))
            }
            "any" => Some(None),
            _ => None,
        }
    };
    match expr {
        syn::Expr::Call(call) => {
            if let Some(word) = call_path(&call.func).and_then(|s| s.last().cloned())
                && let Some(method) = method_word(&word)
            {
                out.push(method);
            }
        }
        syn::Expr::MethodCall(m) => {
            if let Some(method) = method_word(&m.method.to_string()) {
                out.push(method);
            }
            handler_methods(&m.receiver, out, depth + 1);
        }
        syn::Expr::Reference(r) => handler_methods(&r.expr, out, depth + 1),
        syn::Expr::Paren(p) => handler_methods(&p.expr, out, depth + 1),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_regexes_become_globs() {
        assert_eq!(regex_to_glob("orders\\..*").as_deref(), Some("orders.*"));
        assert_eq!(regex_to_glob("orders-.*$").as_deref(), Some("orders-*"));
        assert_eq!(regex_to_glob("a.b").as_deref(), Some("a?b"));
        assert_eq!(regex_to_glob("(a|b)"), None);
        assert_eq!(regex_to_glob("a[0-9]"), None);
    }

    #[test]
    fn signal_words() {
        assert_eq!(signal_word("SIGHUP").as_deref(), Some("HUP"));
        assert_eq!(signal_word("HUP"), None);
        assert_eq!(signal_option("hup").as_deref(), Some("HUP"));
        assert_eq!(signal_option("1").as_deref(), Some("HUP"));
        assert_eq!(signal_option("f"), None);
    }
}
