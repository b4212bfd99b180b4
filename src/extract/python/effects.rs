//! Effects of a matched call beyond paths: the environment variables, secrets and broker names
//! it accesses, the triggers it registers and the signals or requests it sends, each read from
//! the arguments its model row names.
//!
//! Conventions the resolver relies on:
//! - an environment read whose absence the program tolerates has `value: Some(..)`: the default
//!   expression, or the hole [`NO_DEFAULT`] when the call returns `None` (`os.getenv("X")`); a
//!   read that fails without the variable (`os.environ["X"]`) has `value: None`;
//! - an AMQP publish to the default exchange (`exchange=""` or none) names the queue itself
//!   (role `queue`, no exchange); to a named exchange, a routing key;
//! - a Celery task without an explicit name is `module.function` (Celery's default), the
//!   module being this file's dotted module name; `task.delay()` on a task imported from
//!   another module publishes to `module.function` of the import (an explicit name given in
//!   that module's decorator is not seen from here);
//! - a trigger's scope: a signal handler's registering scope; a decorator route's or task's
//!   decorated function; a schedule's job function when it is a function of this file;
//!   a polled file's or service loop's loop scope.

use super::calls::Matched;
use super::parse::line_of;
use super::translate::{concat, globify};
use super::walk::{Ctx, Extractor, named};
use crate::expr::{Expr, ScopeId};
use crate::extract::FieldExt as _;
use crate::extract::{
    Broker, EnvTarget, FieldUse, PathTarget, QueueRole, QueueTarget, RawAccess, RawResource,
    SecretTarget, SendFact, SendKind, TriggerFact, TriggerKind,
};
use crate::model::Mode;
use crate::rules::models::python::{
    ArgSource, EnvModel, NameSyntax, QueueModel, SecretModel, SendModel, TriggerModel, ValueSpec,
};
use tree_sitter::Node;

/// The label of the hole that stands for "no default: `None` when unset" in an optional
/// environment read.
pub(super) const NO_DEFAULT: &str = "None";

/// Longest list of names (topics, channels) read from one argument.
const MAX_NAMES: usize = 64;

impl<'a> Extractor<'a> {
    /// The scope an effect belongs to: the decorated function for a decorator row
    /// (`@app.task`, `@app.post`), else the statement's scope.
    pub(super) fn effect_scope(&self, call: Node<'_>, ctx: &Ctx) -> ScopeId {
        match &self.decorating {
            Some(d) if self.current_decorator == Some(call.id()) => d.scope,
            _ => ctx.scope,
        }
    }

    /// Records everything but the paths of a matched call.
    pub(super) fn effects(&mut self, call: Node<'_>, m: &Matched<'a, '_>, ctx: &Ctx) {
        let model = m.model;
        for env in &model.env {
            self.env_effect(call, m, env, ctx);
        }
        for secret in &model.secrets {
            self.secret_effect(call, m, secret, ctx);
        }
        for queue in &model.queues {
            self.queue_effect(call, m, queue, ctx);
        }
        if let Some(trigger) = &model.trigger {
            self.trigger_effect(call, m, trigger, ctx);
        }
        if let Some(send) = &model.send {
            self.send_effect(call, m, send, ctx);
        }
    }

    // ---- argument values -----------------------------------------------------------------

    /// The node a value spec names: the receiver, or the argument (or its fallback); with
    /// `key`, the item of a dict literal argument (any other argument as it is).
    pub(super) fn spec_node<'t>(
        &mut self,
        m: &Matched<'_, 't>,
        spec: &ValueSpec,
        ctx: &Ctx,
    ) -> Option<Node<'t>> {
        let base = match &spec.source {
            ArgSource::Receiver => m.receiver?,
            ArgSource::Arg(arg) => match m.args.get(arg) {
                Some(node) => node,
                None => m.args.get(spec.fallback.as_ref()?)?,
            },
        };
        match &spec.key {
            Some(key) if base.kind_name() == "dictionary" => self.dict_item(base, key, ctx),
            _ => Some(base),
        }
    }

    /// The value of a literal key in a dict literal.
    pub(super) fn dict_item<'t>(
        &mut self,
        dict: Node<'t>,
        key: &str,
        ctx: &Ctx,
    ) -> Option<Node<'t>> {
        if dict.kind_name() != "dictionary" {
            return None;
        }
        for pair in named(dict) {
            if pair.kind_name() != "pair" {
                continue;
            }
            let (Some(k), Some(v)) = (pair.field("key"), pair.field("value")) else {
                continue;
            };
            if self.literal_string(k, ctx).as_deref() == Some(key) {
                return Some(v);
            }
        }
        None
    }

    /// The names a value spec gives: one per element of a literal list, one per positional
    /// argument for `rest`, one per key for `keys`; the literal default when absent.
    pub(super) fn spec_exprs(
        &mut self,
        m: &Matched<'_, '_>,
        spec: &ValueSpec,
        ctx: &Ctx,
    ) -> Vec<Expr> {
        let nodes: Vec<Node<'_>> = if spec.rest {
            let start = match &spec.source {
                ArgSource::Arg(arg) => arg.position.and_then(|p| usize::try_from(p).ok()),
                ArgSource::Receiver => None,
            };
            match start {
                Some(start) => m.args.positional.iter().skip(start).copied().collect(),
                None => Vec::new(),
            }
        } else {
            match self.spec_node(m, spec, ctx) {
                Some(node) => vec![node],
                None => {
                    return spec.default.iter().map(Expr::lit).collect();
                }
            }
        };
        let mut out = Vec::new();
        for node in nodes {
            if spec.keys {
                out.extend(self.dict_keys(node, ctx));
            } else {
                out.extend(self.elements(node, ctx));
            }
            if out.len() >= MAX_NAMES {
                out.truncate(MAX_NAMES);
                break;
            }
        }
        out
    }

    /// A literal list's elements, each translated; any other value, translated.
    fn elements(&mut self, node: Node<'_>, ctx: &Ctx) -> Vec<Expr> {
        match node.kind_name() {
            "list" | "tuple" | "set" => named(node)
                .into_iter()
                .filter(|n| n.kind_name() != "comment")
                .take(MAX_NAMES)
                .map(|n| self.translate(n, ctx))
                .collect(),
            "parenthesized_expression" => match named(node).first() {
                Some(inner) => self.elements(*inner, ctx),
                None => Vec::new(),
            },
            _ => vec![self.translate(node, ctx)],
        }
    }

    /// The keys of a dict literal, translated; a hole for anything else.
    fn dict_keys(&mut self, node: Node<'_>, ctx: &Ctx) -> Vec<Expr> {
        if node.kind_name() != "dictionary" {
            return vec![Expr::hole(self.label(node))];
        }
        named(node)
            .into_iter()
            .filter(|p| p.kind_name() == "pair")
            .filter_map(|p| p.field("key"))
            .take(MAX_NAMES)
            .map(|k| self.translate(k, ctx))
            .collect()
    }

    fn push_access(
        &mut self,
        resource: RawResource,
        mode: Mode,
        line: u32,
        scope: ScopeId,
        via: &str,
    ) -> usize {
        self.facts.accesses.push(RawAccess {
            resource,
            mode,
            line,
            scope,
            via: via.to_string().into(),
        });
        self.facts.accesses.len() - 1
    }

    // ---- environment variables -------------------------------------------------------------

    fn env_effect(&mut self, call: Node<'_>, m: &Matched<'a, '_>, env: &EnvModel, ctx: &Ctx) {
        let names = self.spec_exprs(m, &env.name, ctx);
        if names.is_empty() {
            return;
        }
        let value = match env.mode {
            Mode::Read => {
                let default = env.value.as_ref().and_then(|v| self.spec_node(m, v, ctx));
                match default {
                    Some(node) if node.kind_name() != "none" => Some(self.translate(node, ctx)),
                    _ => match self.or_default(call, ctx) {
                        Some(fallback) => Some(fallback),
                        None if env.required && default.is_none() => None,
                        None => Some(Expr::hole(NO_DEFAULT)),
                    },
                }
            }
            Mode::Set => env
                .value
                .as_ref()
                .and_then(|v| self.spec_node(m, v, ctx))
                .map(|node| self.translate(node, ctx)),
            _ => None,
        };
        let (line, scope) = (line_of(call), self.effect_scope(call, ctx));
        for name in names {
            let target = EnvTarget {
                name,
                value: value.clone(),
            };
            self.push_access(
                RawResource::Env(target),
                env.mode,
                line,
                scope,
                &m.model.name,
            );
        }
    }

    /// `os.getenv("X") or "d"`: the right operand is the default.
    pub(super) fn or_default(&mut self, node: Node<'_>, ctx: &Ctx) -> Option<Expr> {
        let mut current = node;
        let mut parent = node.parent()?;
        while parent.kind_name() == "parenthesized_expression" {
            current = parent;
            parent = parent.parent()?;
        }
        if parent.kind_name() != "boolean_operator" {
            return None;
        }
        let operator = parent.field("operator")?;
        let left = parent.field("left")?;
        if self.text(operator) != "or" || left.id() != current.id() {
            return None;
        }
        let right = parent.field("right")?;
        Some(self.translate(right, ctx))
    }

    // ---- secrets ----------------------------------------------------------------------------

    fn secret_effect(
        &mut self,
        call: Node<'_>,
        m: &Matched<'a, '_>,
        secret: &SecretModel,
        ctx: &Ctx,
    ) {
        let ids = self.spec_exprs(m, &secret.id, ctx);
        let mount = match &secret.mount {
            Some(spec) => self.spec_exprs(m, spec, ctx).into_iter().next(),
            None => None,
        };
        let (line, scope) = (line_of(call), self.effect_scope(call, ctx));
        for id in ids {
            let id = match &mount {
                Some(mount) => concat(vec![mount.clone(), Expr::lit("/"), id]),
                None => id,
            };
            let target = SecretTarget {
                provider: secret.provider.clone(),
                id,
            };
            self.push_access(
                RawResource::Secret(target),
                secret.mode,
                line,
                scope,
                &m.model.name,
            );
        }
    }

    // ---- queues -----------------------------------------------------------------------------

    fn queue_effect(&mut self, call: Node<'_>, m: &Matched<'a, '_>, q: &QueueModel, ctx: &Ctx) {
        let names = match self.queue_names(m, q, ctx) {
            Some(names) if !names.is_empty() => names,
            _ => return,
        };
        let mut exchange = match &q.exchange {
            Some(spec) => self.spec_exprs(m, spec, ctx).into_iter().next(),
            None => None,
        };
        let mut role = q.role;
        if q.broker == Broker::Amqp
            && role == QueueRole::RoutingKey
            && exchange.as_ref().is_none_or(|e| e.as_lit() == Some(""))
        {
            // The default exchange routes by queue name.
            role = QueueRole::Queue;
            exchange = None;
        }
        let bound_queue = match &q.bound_queue {
            Some(spec) => self.spec_exprs(m, spec, ctx).into_iter().next(),
            None => None,
        };
        let fields = self.queue_fields(call, m, q, ctx);
        let (line, scope) = (line_of(call), self.effect_scope(call, ctx));
        for name in names {
            let name = name_syntax(name, q.syntax);
            let target = QueueTarget {
                broker: q.broker,
                role,
                name,
                exchange: exchange.clone(),
                bound_queue: bound_queue.clone(),
                fields: fields.clone(),
            };
            self.push_access(
                RawResource::Queue(target),
                q.mode,
                line,
                scope,
                &m.model.name,
            );
        }
    }

    /// The names of a queue row; for tasks, the decorated function's or the called task's
    /// name. `None` when the row does not apply after all (`x.delay()` on something that is
    /// no task).
    fn queue_names(&mut self, m: &Matched<'a, '_>, q: &QueueModel, ctx: &Ctx) -> Option<Vec<Expr>> {
        if q.broker == Broker::Celery && q.role == QueueRole::Task {
            if q.task {
                let explicit = self.spec_exprs(m, &q.name, ctx);
                if !explicit.is_empty() {
                    return Some(explicit);
                }
                let function = self.decorating.as_ref()?.name.clone();
                return Some(vec![Expr::lit(self.default_task_name(&function))]);
            }
            if matches!(q.name.source, ArgSource::Receiver) {
                return self.task_name_of(m.receiver?, ctx).map(|n| vec![n]);
            }
        }
        Some(self.spec_exprs(m, &q.name, ctx))
    }

    /// Celery's default task name: `module.function`.
    pub(super) fn default_task_name(&self, function: &str) -> String {
        if self.module.is_empty() {
            function.to_string()
        } else {
            format!("{}.{function}", self.module)
        }
    }

    /// The wire name of a task object: a task of this file, or a name imported from another
    /// module (named `module.function`, Celery's default).
    pub(super) fn task_name_of(&self, receiver: Node<'_>, ctx: &Ctx) -> Option<Expr> {
        let dotted = self.dotted(receiver)?;
        if let Some(task) = self.tasks.get(&dotted) {
            return Some(task.name.clone());
        }
        let head = dotted.split('.').next().unwrap_or("");
        if self.is_local_name(head, ctx) {
            return None;
        }
        let (qualified, _) = self.qualify(&dotted)?;
        Some(Expr::lit(qualified))
    }

    /// Whether a name is bound or a parameter in the current scope.
    fn is_local_name(&self, name: &str, ctx: &Ctx) -> bool {
        !self.bound_indexes(ctx.scope, name).is_empty() || self.is_param(ctx.scope, name)
    }

    /// The fields of a queue access: what a publish sends, what a consumer reads.
    fn queue_fields(
        &mut self,
        call: Node<'_>,
        m: &Matched<'a, '_>,
        q: &QueueModel,
        ctx: &Ctx,
    ) -> Vec<FieldUse> {
        match q.mode {
            // A task's fields are the task's; the queue it is routed to (`queue=`) carries none
            // of its own.
            Mode::Publish if q.broker == Broker::Celery && q.role != QueueRole::Task => Vec::new(),
            Mode::Publish if q.broker == Broker::Celery => {
                self.celery_publish_fields(call, m, q, ctx)
            }
            Mode::Publish => match q.body.as_ref().and_then(|b| self.spec_node(m, b, ctx)) {
                Some(body) => self.payload_fields(body, ctx),
                None => Vec::new(),
            },
            Mode::Consume if q.task => {
                let bound = m
                    .args
                    .keyword("bind")
                    .is_some_and(|b| b.kind_name() == "true");
                self.task_param_fields(call, bound)
            }
            Mode::Consume => {
                let callback = q.callback.as_ref().and_then(|c| self.spec_node(m, c, ctx));
                let receiver = if q.receiver_yields { m.receiver } else { None };
                self.consumer_fields(call, callback, receiver, q, ctx)
            }
            _ => Vec::new(),
        }
    }

    /// A task call's fields: `send_task(name, args, kwargs)`, `t.apply_async(args, kwargs)`
    /// (the row's `body` is the kwargs argument; the args list comes just before it), or
    /// `t.delay(*args, **kwargs)` (no `body`: the call's own arguments).
    fn celery_publish_fields(
        &mut self,
        call: Node<'_>,
        m: &Matched<'a, '_>,
        q: &QueueModel,
        ctx: &Ctx,
    ) -> Vec<FieldUse> {
        let params = match m.receiver.and_then(|r| self.dotted(r)) {
            Some(task) if matches!(q.name.source, ArgSource::Receiver) => self
                .tasks
                .get(&task)
                .map(|t| t.params.clone())
                .unwrap_or_default(),
            _ => {
                let name = self.spec_exprs(m, &q.name, ctx).into_iter().next();
                self.tasks
                    .values()
                    .find(|t| name.as_ref().is_some_and(|n| *n == t.name))
                    .map(|t| t.params.clone())
                    .unwrap_or_default()
            }
        };
        let Some(body) = &q.body else {
            return self.task_call_fields(call, None, None, true, &params, ctx);
        };
        let kwargs = self.spec_node(m, body, ctx);
        let args_position = match &body.source {
            ArgSource::Arg(arg) => arg.position.and_then(|p| p.checked_sub(1)),
            ArgSource::Receiver => None,
        };
        let list = m.args.keyword("args").or_else(|| {
            let p = usize::try_from(args_position?).ok()?;
            m.args.positional.get(p).copied()
        });
        self.task_call_fields(call, kwargs, list, false, &params, ctx)
    }

    // ---- triggers ---------------------------------------------------------------------------

    fn trigger_effect(
        &mut self,
        call: Node<'_>,
        m: &Matched<'a, '_>,
        trigger: &TriggerModel,
        ctx: &Ctx,
    ) {
        let line = line_of(call);
        match trigger {
            TriggerModel::Signal { signal } => {
                let Some(node) = self.spec_node(m, signal, ctx) else {
                    return;
                };
                let Some(signal) = self.signal_name(node, ctx) else {
                    return;
                };
                self.push_trigger(ctx.scope, line, TriggerKind::Signal { signal });
            }
            TriggerModel::Route {
                path,
                method,
                methods,
            } => {
                let Some(node) = self.spec_node(m, path, ctx) else {
                    return;
                };
                let literal = self.literal_string(node, ctx);
                // A route is a URL path (`/rotate`, `/items/{id}`); the same method names on
                // an untyped receiver are often something else (`@mock.patch("os.path.exists")`,
                // `session.get("https://...")`), which would make every test an HTTP endpoint.
                if literal.as_ref().is_some_and(|p| !p.starts_with('/')) {
                    return;
                }
                let path = literal.unwrap_or_else(|| format!("{{{}}}", self.label(node)));
                let listed = match methods.as_ref().and_then(|s| self.spec_node(m, s, ctx)) {
                    Some(list) => self.literal_strings(list, ctx),
                    None => Vec::new(),
                };
                let methods: Vec<Option<String>> = if listed.is_empty() {
                    vec![method.clone()]
                } else {
                    listed
                        .into_iter()
                        .map(|s| Some(s.to_ascii_uppercase()))
                        .collect()
                };
                let scope = self.effect_scope(call, ctx);
                for method in methods {
                    let kind = TriggerKind::Route {
                        method,
                        path: path.clone(),
                    };
                    self.push_trigger(scope, line, kind);
                }
            }
            TriggerModel::WatchFile { path } => {
                let Some(expr) = self.spec_exprs(m, path, ctx).into_iter().next() else {
                    return;
                };
                if self.in_waiting_function(ctx) {
                    let target = RawResource::Path(PathTarget::exact(expr));
                    self.push_access(target, Mode::WaitFor, line, ctx.scope, &m.model.name);
                } else {
                    self.push_trigger(ctx.scope, line, TriggerKind::WatchFile { path: expr });
                }
            }
            TriggerModel::Schedule { style } => self.schedule_trigger(call, m, *style, ctx),
        }
    }

    pub(super) fn push_trigger(&mut self, scope: ScopeId, line: u32, kind: TriggerKind) -> usize {
        self.facts.triggers.push(TriggerFact { scope, line, kind });
        self.facts.triggers.len() - 1
    }

    /// The literal strings of a list literal (`methods=["POST", "PUT"]`).
    pub(super) fn literal_strings(&mut self, node: Node<'_>, ctx: &Ctx) -> Vec<String> {
        match node.kind_name() {
            "list" | "tuple" | "set" => named(node)
                .into_iter()
                .filter_map(|n| self.literal_string(n, ctx))
                .collect(),
            _ => self.literal_string(node, ctx).into_iter().collect(),
        }
    }

    /// Whether the current function waits by its name (`wait_for_refresh`): a watch set up
    /// there is a wait for the watched path, not a trigger of a long-running program.
    fn in_waiting_function(&self, ctx: &Ctx) -> bool {
        ctx.scope != 0
            && self.facts.scopes.get(ctx.scope).is_some_and(|s| {
                let name = s.name.to_ascii_lowercase();
                name.starts_with("wait") || name.starts_with("await_")
            })
    }

    /// The short upper-case name of a signal argument: `signal.SIGHUP`, `SIGHUP`,
    /// `signal.Signals.SIGUSR1`, `"HUP"`, `1`.
    pub(super) fn signal_name(&mut self, node: Node<'_>, ctx: &Ctx) -> Option<String> {
        match node.kind_name() {
            "identifier" | "attribute" => {
                let dotted = self.dotted(node)?;
                let last = dotted.rsplit('.').next().unwrap_or(&dotted);
                signal_word(last).or_else(|| {
                    let value = self.local_value(last, ctx.scope, ctx.line)?.clone();
                    signal_word(value.as_lit()?)
                })
            }
            "integer" => signal_number(self.text(node)),
            "string" | "concatenated_string" => signal_word(&self.literal_string(node, ctx)?),
            "parenthesized_expression" => {
                let inner = named(node).into_iter().next()?;
                self.signal_name(inner, ctx)
            }
            _ => None,
        }
    }

    // ---- sends ------------------------------------------------------------------------------

    fn send_effect(&mut self, call: Node<'_>, m: &Matched<'a, '_>, send: &SendModel, ctx: &Ctx) {
        let line = line_of(call);
        match send {
            SendModel::Signal { signal, target } => {
                let signal = match self.spec_node(m, signal, ctx) {
                    Some(node) => self.signal_name(node, ctx),
                    None => Some("TERM".to_string()),
                };
                let Some(signal) = signal else {
                    return;
                };
                let target = match self.spec_node(m, target, ctx) {
                    Some(node) => self.pid_target(node, ctx, 0),
                    None => Expr::hole("pid"),
                };
                self.push_send(ctx.scope, line, SendKind::Signal { signal, target });
            }
            SendModel::Http {
                method,
                method_arg,
                url,
                data,
            } => {
                let Some(url_node) = self.spec_node(m, url, ctx) else {
                    return;
                };
                let has_data = data
                    .as_ref()
                    .is_some_and(|d| self.spec_node(m, d, ctx).is_some());
                let (url, found_method) = self.request_target(url_node, has_data, ctx);
                let method = method
                    .clone()
                    .or_else(|| {
                        let node = self.spec_node(m, method_arg.as_ref()?, ctx)?;
                        Some(self.literal_string(node, ctx)?.to_ascii_uppercase())
                    })
                    .or(found_method)
                    .or_else(|| data.as_ref().map(|_| "GET".to_string()));
                self.push_send(ctx.scope, line, SendKind::Http { method, url });
            }
            SendModel::Command {
                command,
                shell,
                shell_always,
            } => {
                let Some(node) = self.spec_node(m, command, ctx) else {
                    return;
                };
                let shell = *shell_always
                    || shell
                        .as_ref()
                        .and_then(|s| m.args.get(s))
                        .is_some_and(|n| n.kind_name() == "true");
                for kind in self.command_sends(node, shell, ctx) {
                    self.push_send(ctx.scope, line, kind);
                }
            }
        }
    }

    pub(super) fn push_send(&mut self, scope: ScopeId, line: u32, kind: SendKind) {
        self.facts.sends.push(SendFact { scope, line, kind });
    }

    /// The URL of a request argument and the method it implies: `Request(url, method="POST")`
    /// gives its own; a bare URL with data is a POST.
    fn request_target(
        &mut self,
        node: Node<'_>,
        has_data: bool,
        ctx: &Ctx,
    ) -> (Expr, Option<String>) {
        // `req = Request(url, method="POST"); urlopen(req)`.
        if node.kind_name() == "identifier"
            && let Some(value) = self.assigned_value(node)
            && value.kind_name() == "call"
            && let super::calls::Callee::Function { name, .. } = self.callee(value, ctx)
            && name == "urllib.request.Request"
        {
            return self.request_target(value, has_data, ctx);
        }
        if node.kind_name() == "call"
            && let super::calls::Callee::Function { name, .. } = self.callee(node, ctx)
            && name == "urllib.request.Request"
        {
            let args = self.args(node);
            let url = args
                .positional
                .first()
                .copied()
                .or_else(|| args.keyword("url"));
            let url = match url {
                Some(u) => self.translate(u, ctx),
                None => Expr::hole("url"),
            };
            let explicit = args
                .keyword("method")
                .and_then(|n| self.literal_string(n, ctx))
                .map(|s| s.to_ascii_uppercase());
            let data = args.positional.get(1).is_some() || args.keyword("data").is_some();
            let method = explicit.unwrap_or_else(|| if data { "POST" } else { "GET" }.into());
            return (url, Some(method));
        }
        let method = has_data.then(|| "POST".to_string());
        (self.translate(node, ctx), method)
    }
}

/// A name written in a broker's pattern syntax, as an expression: a regular expression becomes
/// a glob where it is one in disguise (`^orders\..*$` is `orders.*`), else a hole; a glob
/// argument becomes glob text.
fn name_syntax(name: Expr, syntax: NameSyntax) -> Expr {
    match syntax {
        NameSyntax::Plain => name,
        NameSyntax::Glob => globify(name, true),
        NameSyntax::Regex => regex_expr(name),
        NameSyntax::CaretRegex => match name.as_lit() {
            Some(text) if text.starts_with('^') => regex_expr(name),
            _ => name,
        },
    }
}

fn regex_expr(name: Expr) -> Expr {
    match name.as_lit() {
        Some(text) => match regex_to_glob(text) {
            Some(glob) if glob.contains(['*', '?', '[']) => Expr::glob(glob),
            Some(literal) => Expr::lit(literal),
            None => Expr::hole("regex"),
        },
        None => Expr::hole("regex"),
    }
}

/// Converts a simple regular expression, matched from the start of the name as Kafka clients
/// do, to a glob: `^orders\..*$` -> `orders.*`, `^logs-[a-z]+` -> `logs-[a-z]*` is not exact,
/// so `None`. Only `.`, `.*`, `.+`, escapes of punctuation and plain character classes are
/// understood; anything else (alternation, groups, counted repeats, `\d`) is `None`.
pub(super) fn regex_to_glob(regex: &str) -> Option<String> {
    let body = regex.strip_prefix('^').unwrap_or(regex);
    let (body, anchored_end) = match body.strip_suffix('$') {
        Some(b) if !b.ends_with('\\') => (b, true),
        _ => (body, false),
    };
    let chars: Vec<char> = body.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '.' if next == Some('*') => {
                out.push('*');
                i += 2;
            }
            '.' if next == Some('+') => {
                out.push_str("?*");
                i += 2;
            }
            '.' => {
                out.push('?');
                i += 1;
            }
            '\\' => match next {
                Some(e) if e.is_ascii_punctuation() && !"*?[]".contains(e) => {
                    out.push(e);
                    i += 2;
                }
                _ => return None,
            },
            '[' => {
                let end = chars[i..].iter().position(|c| *c == ']')? + i;
                let class: String = chars[i..=end].iter().collect();
                if class.contains('\\') || matches!(chars.get(end + 1), Some('*' | '+' | '?' | '{'))
                {
                    return None;
                }
                out.push_str(&class);
                i = end + 1;
            }
            '*' | '+' | '?' | '(' | ')' | '|' | '{' | '}' | '^' | '$' => return None,
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    if !anchored_end && !out.ends_with('*') {
        out.push('*');
    }
    Some(out)
}

/// `SIGHUP`, `HUP`, `-HUP`, `SIGUSR1` -> `HUP`, `USR1`; numbers as `kill` reads them.
pub(super) fn signal_word(text: &str) -> Option<String> {
    let text = text.trim().trim_start_matches('-');
    if text.chars().all(|c| c.is_ascii_digit()) && !text.is_empty() {
        return signal_number(text);
    }
    let upper = text.to_ascii_uppercase();
    let short = upper.strip_prefix("SIG").unwrap_or(&upper);
    const KNOWN: &[&str] = &[
        "HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "ALRM", "CHLD", "CONT", "STOP",
        "TSTP", "WINCH", "PIPE", "ABRT",
    ];
    KNOWN.contains(&short).then(|| short.to_string())
}

/// The Linux numbers of the signals programs are sent.
fn signal_number(text: &str) -> Option<String> {
    Some(
        match text.parse::<u32>().ok()? {
            1 => "HUP",
            2 => "INT",
            3 => "QUIT",
            9 => "KILL",
            10 => "USR1",
            12 => "USR2",
            14 => "ALRM",
            15 => "TERM",
            _ => return None,
        }
        .to_string(),
    )
}
