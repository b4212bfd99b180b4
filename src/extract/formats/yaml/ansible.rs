//! Ansible playbooks, task files and variable files -> tasks' file accesses, commands,
//! schedules and environment, by the `[[ansible]]` models of `rules/models/config.toml`.
//!
//! Output: a scope per play (`play NAME`) and per task (`task NAME`, blocks nest); `vars:`,
//! `set_fact` and variable files (`defaults/`, `vars/`, `group_vars/`, `host_vars/`) as
//! bindings, so
//! `{{ backup_dir }}` in a task resolves; `environment:` as `Env` sets; per modelled module:
//! - path modules (`file`, `copy`, `template`, `lineinfile`, ...): the argument the row names
//!   in the row's mode, with `state` variants (`file state=absent` deletes the tree);
//! - `shell`/`command`/`raw`: the command analysed as shell (Jinja expressions as holes or
//!   variables), in `chdir`;
//! - `cron`: a [`ScheduleFact`] (fields or `special_time`, described in words, `user`) whose
//!   `CronEntry` scope holds the `job` analysed as shell;
//! - `find` (+ `register`): a `list` of what it finds; a later `file` task with `state:
//!   absent` looping over the registered `files` deletes what the find matched (the find's
//!   `patterns` and `age` become the delete's names and retention);
//! - `script`: a run reference to the local script.
//!
//! Values are Jinja2-interpolated: `"{{ dir }}/x"` is `Concat[Var dir, "/x"]`. Loops over
//! literal lists bind `item` (and `item.key` for lists of maps) to the alternatives.
//!
//! Invariants: nesting of blocks and plays is bounded by [`MAX_DEPTH`].

use super::Ctx;
use super::tree::{Node, shell_text};
use crate::expr::{Expr, ScopeId};
use crate::extract::formats::TemplateEngine;
use crate::extract::formats::common::{
    self, Interpolation, is_env_name, path_access, push_scope, set_env, value_expr,
};
use crate::extract::formats::keyvalue::reach;
use crate::extract::formats::template::{self, Placeholder, TokenStyle};
use crate::extract::{
    Binding, FileFacts, FindSpec, PathTarget, RawAccess, RawResource, Reach, RunRef, RunTarget,
    ScheduleFact, Scope, ScopeKind, cron,
};
use crate::model::Mode;
use crate::rules::models::config::AnsibleKind;
use std::collections::HashMap;

const MAX_DEPTH: u32 = 16;

/// Keys of a task that are not its module.
const TASK_KEYWORDS: &[&str] = &[
    "name",
    "when",
    "register",
    "loop",
    "loop_control",
    "with_items",
    "with_dict",
    "with_fileglob",
    "with_list",
    "with_together",
    "with_nested",
    "with_first_found",
    "with_sequence",
    "with_subelements",
    "with_indexed_items",
    "become",
    "become_user",
    "become_method",
    "tags",
    "notify",
    "environment",
    "vars",
    "args",
    "ignore_errors",
    "changed_when",
    "failed_when",
    "delegate_to",
    "delegate_facts",
    "run_once",
    "no_log",
    "until",
    "retries",
    "delay",
    "check_mode",
    "diff",
    "listen",
    "async",
    "poll",
    "any_errors_fatal",
    "throttle",
    "timeout",
    "debugger",
    "collections",
    "module_defaults",
    "connection",
    "remote_user",
    "port",
    "ignore_unreachable",
    "become_flags",
    "block",
    "rescue",
    "always",
];

/// Keys that make a list item a play.
const PLAY_KEYS: &[&str] = &[
    "hosts",
    "import_playbook",
    "roles",
    "pre_tasks",
    "post_tasks",
];

/// Whether a document is an Ansible playbook or task list.
pub(super) fn looks_like_ansible(root: &Node, models: &crate::rules::models::Models) -> bool {
    root.seq().iter().take(8).any(|item| {
        item.pairs().any(|(key, _, _)| {
            PLAY_KEYS.contains(&key)
                || key == "block"
                || key == "tasks"
                || models.config.is_ansible_module(key)
                || key.starts_with("ansible.builtin.")
        })
    })
}

fn jinja(scope: ScopeId, line: u32) -> Interpolation {
    Interpolation {
        braces: true,
        ..Interpolation::default()
    }
    .at(scope, line)
}

/// What a registered `find` matched.
#[derive(Clone, Debug)]
struct Found {
    paths: Vec<Expr>,
    spec: FindSpec,
    retention: Option<String>,
}

struct Reader<'c, 'a> {
    ctx: &'c Ctx<'a>,
    placeholders: Vec<Placeholder>,
    registered: HashMap<String, Found>,
}

pub(super) fn extract(ctx: &Ctx, facts: &mut FileFacts, root: &Node) {
    let mut reader = Reader {
        ctx,
        placeholders: Vec::new(),
        registered: HashMap::new(),
    };
    for item in root.seq() {
        if item
            .pairs()
            .any(|(k, _, _)| PLAY_KEYS.contains(&k) || k == "tasks")
        {
            reader.play(facts, item);
        } else {
            reader.task(facts, 0, item, 0);
        }
    }
    template::fill(facts, &reader.placeholders);
}

/// A variables file: each top-level key is a binding in the file scope.
pub(super) fn vars(facts: &mut FileFacts, root: &Node) {
    bind_vars(facts, 0, Some(root));
}

fn bind_vars(facts: &mut FileFacts, scope: ScopeId, vars: Option<&Node>) {
    for (name, key, value) in vars.map(Node::pairs).into_iter().flatten() {
        // A list a template loops over (`{% for q in queues %}`): any of its elements.
        let leaf = |n: &Node| {
            n.text()
                .map(|t| value_expr(&t, jinja(scope, n.line), false))
        };
        for (element, value) in super::elements::element_bindings(name, value, &leaf, false) {
            facts.bindings.push(Binding {
                scope,
                name: element.into(),
                value: value.into(),
                line: key.line,
            });
        }
        if let Some(text) = value.text() {
            facts.bindings.push(Binding {
                scope,
                name: name.to_string().into(),
                value: value_expr(&text, jinja(scope, key.line), false).into(),
                line: key.line,
            });
        }
    }
}

fn environment(facts: &mut FileFacts, scope: ScopeId, env: Option<&Node>) {
    for (name, key, value) in env.map(Node::pairs).into_iter().flatten() {
        let value = value
            .text()
            .map(|t| value_expr(&t, jinja(scope, key.line), false));
        set_env(facts, scope, name, value, key.line, "ansible environment");
    }
}

impl Reader<'_, '_> {
    fn play(&mut self, facts: &mut FileFacts, play: &Node) {
        let name = play
            .get("name")
            .or_else(|| play.get("hosts"))
            .and_then(Node::str)
            .unwrap_or("play");
        let scope = push_scope(
            facts,
            0,
            ScopeKind::Function,
            format!("play {name}"),
            play.line,
        );
        bind_vars(facts, scope, play.get("vars"));
        environment(facts, scope, play.get("environment"));
        for key in ["pre_tasks", "tasks", "post_tasks", "handlers"] {
            for task in play.get(key).map(Node::seq).unwrap_or_default() {
                self.task(facts, scope, task, 1);
            }
        }
    }

    fn task(&mut self, facts: &mut FileFacts, parent: ScopeId, task: &Node, depth: u32) {
        if depth > MAX_DEPTH || !task.is_map() {
            return;
        }
        let module = task
            .pairs()
            .find(|(k, _, _)| !TASK_KEYWORDS.contains(k))
            .map(|(k, _, v)| (k, v));
        let label = task
            .get("name")
            .and_then(Node::str)
            .or(module.map(|(k, _)| k))
            .unwrap_or("block");
        let scope = push_scope(
            facts,
            parent,
            ScopeKind::Function,
            format!("task {label}"),
            task.line,
        );
        bind_vars(facts, scope, task.get("vars"));
        environment(facts, scope, task.get("environment"));
        self.bind_loop(facts, scope, task);
        for key in ["block", "rescue", "always"] {
            for inner in task.get(key).map(Node::seq).unwrap_or_default() {
                self.task(facts, scope, inner, depth + 1);
            }
        }
        let Some((name, value)) = module else { return };
        if matches!(name, "set_fact" | "ansible.builtin.set_fact") {
            // Facts are variables of the play from here on.
            return bind_vars(facts, parent, Some(value));
        }
        let Some(model) = self.ctx.models.config.ansible(name) else {
            return;
        };
        let args = Args::new(value, task.get("args"));
        let via = format!("ansible {name}");
        match model.kind {
            AnsibleKind::Paths => {
                let rules = model.paths_for(|k| args.text(k).map(|t| t.to_ascii_lowercase()));
                let deletes_found = self.found_loop(task);
                for rule in rules {
                    let Some((key, node_line)) =
                        rule.keys.iter().find_map(|k| args.line(k).map(|l| (k, l)))
                    else {
                        continue;
                    };
                    if rule.mode == Mode::Delete
                        && let Some(found) = &deletes_found
                    {
                        self.delete_found(facts, scope, found, node_line, &via);
                        continue;
                    }
                    let Some(text) = args.text(key) else { continue };
                    let expr = value_expr(&text, jinja(scope, node_line), false);
                    path_access(
                        facts,
                        scope,
                        expr,
                        rule.mode,
                        reach(rule.reach),
                        node_line,
                        &via,
                    );
                }
            }
            AnsibleKind::Shell => self.shell(facts, scope, &args, task.line),
            AnsibleKind::Script => {
                let text = args
                    .text("cmd")
                    .or_else(|| args.free.clone())
                    .unwrap_or_default();
                if let Some(script) = common::shell_words(&text).first() {
                    let expr = value_expr(script, jinja(scope, task.line), false);
                    facts.runs.push(RunRef {
                        scope,
                        line: args.line("cmd").unwrap_or(task.line),
                        target: RunTarget::Path { expr },
                    });
                }
            }
            AnsibleKind::Cron => self.cron(facts, scope, &args, task),
            AnsibleKind::Find => self.find(facts, scope, &args, task, &via),
        }
    }

    /// `loop`/`with_items` over a literal list binds `item` (and `item.KEY`) to its values.
    fn bind_loop(&self, facts: &mut FileFacts, scope: ScopeId, task: &Node) {
        let Some(items) = task.get("loop").or_else(|| task.get("with_items")) else {
            return;
        };
        let items = items.seq();
        if items.is_empty() {
            return;
        }
        let alt = |values: Vec<Expr>| -> Expr {
            if values.len() == 1 {
                values.into_iter().next().unwrap_or_else(|| Expr::lit(""))
            } else {
                Expr::Alt { options: values }
            }
        };
        let scalars: Vec<Expr> = items
            .iter()
            .filter_map(|i| {
                i.text()
                    .map(|t| value_expr(&t, jinja(scope, i.line), false))
            })
            .collect();
        if !scalars.is_empty() {
            facts.bindings.push(Binding {
                scope,
                name: "item".to_string().into(),
                value: alt(scalars).into(),
                line: task.line,
            });
        }
        let mut keys: Vec<&str> = Vec::new();
        for item in items {
            for (key, _, _) in item.pairs() {
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        for key in keys {
            let values: Vec<Expr> = items
                .iter()
                .filter_map(|i| {
                    i.get(key)
                        .and_then(Node::text)
                        .map(|t| value_expr(&t, jinja(scope, i.line), false))
                })
                .collect();
            facts.bindings.push(Binding {
                scope,
                name: format!("item.{key}").into(),
                value: alt(values).into(),
                line: task.line,
            });
        }
    }

    /// A `file state=absent` task looping over a registered find's `files` with
    /// `path: "{{ item.path }}"`: what the find matched.
    fn found_loop(&self, task: &Node) -> Option<Found> {
        let over = task
            .get("loop")
            .or_else(|| task.get("with_items"))
            .and_then(Node::str)?;
        let inner = over.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
        let register = inner.strip_suffix(".files")?.trim();
        self.registered.get(register).cloned()
    }

    fn delete_found(
        &self,
        facts: &mut FileFacts,
        scope: ScopeId,
        found: &Found,
        line: u32,
        via: &str,
    ) {
        for path in &found.paths {
            facts.accesses.push(RawAccess {
                resource: RawResource::Path(PathTarget {
                    expr: path.clone(),
                    reach: Reach::Find(found.spec.clone()),
                    retention: found.retention.clone(),
                }),
                mode: Mode::Delete,
                line,
                scope,
                via: format!("{via} (items of find)").into(),
            });
        }
    }

    /// Replaces Jinja2 expressions of shell text by placeholders (filled at the end).
    fn substitute(&mut self, text: &str, first_line: u32, scope: ScopeId) -> String {
        let substituted = template::substitute(
            text,
            template::Options {
                first_index: self.placeholders.len(),
                first_line,
                scope,
                ..template::Options::new(TemplateEngine::Jinja, TokenStyle::Dollar)
            },
        );
        self.placeholders.extend(substituted.placeholders);
        substituted.text
    }

    fn shell(&mut self, facts: &mut FileFacts, scope: ScopeId, args: &Args, task_line: u32) {
        let command_scope = push_scope(facts, scope, ScopeKind::Function, "command", task_line);
        let chdir = args
            .text("chdir")
            .map(|d| self.substitute(&d, task_line, scope));
        if let Some(argv) = args.node("argv") {
            let items: Vec<common::Arg> = argv
                .seq()
                .iter()
                .filter_map(|i| i.text().map(|t| (t, i.line)))
                .map(|(t, line)| common::Arg {
                    text: self.substitute(&t, line, scope),
                    line,
                })
                .collect();
            if let Some((text, first)) = common::exec_text(&items) {
                common::shell(
                    facts,
                    command_scope,
                    &text,
                    first,
                    chdir.as_deref(),
                    self.ctx.models,
                );
            }
            return;
        }
        let (text, first) = match (args.node("cmd"), &args.free) {
            (Some(node), _) => match node.scalar() {
                Some(scalar) => shell_text(scalar, self.ctx.source),
                None => return,
            },
            (None, Some(free)) => (free.clone(), args.free_line),
            (None, None) => return,
        };
        let text = self.substitute(&text, first, scope);
        common::shell(
            facts,
            command_scope,
            &text,
            first,
            chdir.as_deref(),
            self.ctx.models,
        );
    }

    fn cron(&mut self, facts: &mut FileFacts, scope: ScopeId, args: &Args, task: &Node) {
        if args.text("state").as_deref() == Some("absent")
            || args.text("env").is_some_and(|e| is_true(&e))
        {
            return;
        }
        let Some(job) = args.text("job") else { return };
        let line = args.line("job").unwrap_or(task.line);
        let expression = match args.text("special_time") {
            Some(special) => format!("@{special}"),
            None => ["minute", "hour", "day", "month", "weekday"]
                .iter()
                .map(|k| args.text(k).unwrap_or_else(|| "*".to_string()))
                .collect::<Vec<_>>()
                .join(" "),
        };
        let description = cron::describe_schedule(&expression)
            .unwrap_or_else(|| format!("on the schedule `{expression}`"));
        let index = facts.schedules.len();
        let name = args.text("name").unwrap_or_else(|| "cron".to_string());
        let entry = facts.push_scope(Scope {
            parent: Some(scope),
            kind: ScopeKind::CronEntry,
            name: format!("cron {name}").into(),
            class: None,
            job: Some(index),
            line,
        });
        let (job_text, first) = match args.node("job").and_then(Node::scalar) {
            Some(scalar) => shell_text(scalar, self.ctx.source),
            None => (job.clone(), line),
        };
        let command = self.substitute(&job_text, first, scope);
        facts.schedules.push(ScheduleFact {
            line,
            expression,
            description,
            user: args.text("user"),
            command: command.clone(),
            env: Vec::new(),
            scope: entry,
        });
        common::shell(facts, entry, &command, first, None, self.ctx.models);
    }

    fn find(&mut self, facts: &mut FileFacts, scope: ScopeId, args: &Args, task: &Node, via: &str) {
        let line = args
            .line("paths")
            .or_else(|| args.line("path"))
            .unwrap_or(task.line);
        let paths: Vec<Expr> = args
            .list("paths")
            .or_else(|| args.list("path"))
            .unwrap_or_default()
            .iter()
            .map(|p| value_expr(p, jinja(scope, line), false))
            .collect();
        let names: Vec<Expr> = args
            .list("patterns")
            .unwrap_or_default()
            .iter()
            .map(|p| value_expr(p, jinja(scope, line), true))
            .map(|e| match e {
                Expr::Lit { text } => Expr::glob(text),
                other => other,
            })
            .collect();
        let recurse = args.text("recurse").is_some_and(|r| is_true(&r));
        let file_type = match args.text("file_type").as_deref() {
            Some("directory") => Some('d'),
            Some("file") | None => Some('f'),
            _ => None,
        };
        let spec = FindSpec {
            names,
            min_depth: 1,
            max_depth: if recurse { None } else { Some(1) },
            file_type,
            ..FindSpec::default()
        };
        let retention = args.text("age").and_then(|a| describe_age(&a));
        for path in &paths {
            facts.accesses.push(RawAccess {
                resource: RawResource::Path(PathTarget {
                    expr: path.clone(),
                    reach: Reach::Find(spec.clone()),
                    retention: retention.clone(),
                }),
                mode: Mode::List,
                line,
                scope,
                via: via.to_string().into(),
            });
        }
        if let Some(register) = task.get("register").and_then(Node::str) {
            self.registered.insert(
                register.to_string(),
                Found {
                    paths,
                    spec,
                    retention,
                },
            );
        }
    }
}

fn is_true(text: &str) -> bool {
    matches!(
        text.to_ascii_lowercase().as_str(),
        "true" | "yes" | "on" | "1"
    )
}

/// `age: 7d` -> "older than 7 days"; a negative age (younger than) is not a retention.
fn describe_age(age: &str) -> Option<String> {
    let age = age.trim();
    if age.starts_with('-') {
        return None;
    }
    let digits: String = age.chars().take_while(|c| c.is_ascii_digit()).collect();
    let unit = match &age[digits.len()..] {
        "s" | "" => "seconds",
        "m" => "minutes",
        "h" => "hours",
        "d" => "days",
        "w" => "weeks",
        _ => return None,
    };
    (!digits.is_empty()).then(|| format!("older than {digits} {unit}"))
}

/// A task's module arguments: the module's map, `args:`, or `key=value` words of the free form
/// (the rest of which is the command of `shell`/`command`).
struct Args<'n> {
    map: Vec<(&'n str, &'n Node)>,
    free_pairs: Vec<(String, String)>,
    free: Option<String>,
    free_line: u32,
}

/// Free-form arguments that are options, not part of a command.
const FREE_FORM_OPTIONS: &[&str] = &["chdir", "creates", "removes", "executable", "warn", "stdin"];

impl<'n> Args<'n> {
    fn new(value: &'n Node, extra: Option<&'n Node>) -> Args<'n> {
        let mut map: Vec<(&str, &Node)> = value.pairs().map(|(k, _, v)| (k, v)).collect();
        map.extend(
            extra
                .map(|e| e.pairs().map(|(k, _, v)| (k, v)).collect::<Vec<_>>())
                .unwrap_or_default(),
        );
        let mut args = Args {
            map,
            free_pairs: Vec::new(),
            free: None,
            free_line: value.line,
        };
        if let Some(text) = value.str() {
            args.free_form(text);
        }
        args
    }

    /// Splits `path=/x state=absent` pairs from the command of a free-form value.
    fn free_form(&mut self, text: &str) {
        let words = ansible_words(text);
        let all_pairs = words.iter().all(|w| pair(w).is_some());
        let mut command = text.to_string();
        for word in words.iter().rev() {
            let Some((key, value)) = pair(word) else {
                break;
            };
            if all_pairs || FREE_FORM_OPTIONS.contains(&key) {
                self.free_pairs.push((key.to_string(), value.to_string()));
                if let Some(at) = command.rfind(word.as_str()) {
                    command.truncate(at);
                }
            } else {
                break;
            }
        }
        if all_pairs {
            for word in &words {
                if let Some((k, v)) = pair(word)
                    && !self.free_pairs.iter().any(|(key, _)| key == k)
                {
                    self.free_pairs.push((k.to_string(), v.to_string()));
                }
            }
        } else {
            self.free = Some(command.trim_end().to_string());
        }
    }

    fn node(&self, key: &str) -> Option<&'n Node> {
        self.map
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    fn text(&self, key: &str) -> Option<String> {
        self.node(key).and_then(Node::text).or_else(|| {
            self.free_pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        })
    }

    fn line(&self, key: &str) -> Option<u32> {
        match self.node(key) {
            Some(node) => Some(node.line),
            None => self
                .free_pairs
                .iter()
                .any(|(k, _)| k == key)
                .then_some(self.free_line),
        }
    }

    /// A list argument: a YAML list or a comma-separated string.
    fn list(&self, key: &str) -> Option<Vec<String>> {
        if let Some(node) = self.node(key)
            && node.is_seq()
        {
            return Some(node.seq().iter().filter_map(Node::text).collect());
        }
        self.text(key).map(|t| {
            t.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
    }
}

/// Splits free-form arguments like a shell, but keeps `{{ ... }}` expressions in one word, as
/// Ansible's parser does.
fn ansible_words(text: &str) -> Vec<String> {
    let mut protected = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("{{") {
        let Some(end) = rest[at..].find("}}") else {
            break;
        };
        protected.push_str(&rest[..at]);
        protected.push_str(&rest[at..at + end + 2].replace(' ', "\u{1}"));
        rest = &rest[at + end + 2..];
    }
    protected.push_str(rest);
    common::shell_words(&protected)
        .into_iter()
        .map(|w| w.replace('\u{1}', " "))
        .collect()
}

/// `key=value` with an identifier key.
fn pair(word: &str) -> Option<(&str, &str)> {
    let (key, value) = word.split_once('=')?;
    (is_env_name(key)
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()))
    .then_some((key, value))
}
