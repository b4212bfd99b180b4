//! Helpers every configuration format shares: scopes for units, environment sets, path
//! accesses, embedded shell commands (with a working directory and exact lines), the `${VAR}`
//! interpolation of deployment files, and splitting values into paths.
//!
//! Invariants: nothing here panics on any input; every function is linear in its input.

use super::template::{Syntax, expression_expr, is_placeholder_name};
use crate::expr::{Expr, ScopeId};
use crate::extract::{
    Binding, FileFacts, PathTarget, RawAccess, RawResource, Reach, Scope, ScopeKind, bash,
};
use crate::extract::{EnvTarget, RunTarget, SecretTarget, SendKind, TriggerKind};
use crate::model::Mode;
use crate::rules::models::Models;

/// Values longer than this are taken literally (no reference search, which is quadratic on
/// hostile input).
const MAX_INTERPOLATED: usize = 16 * 1024;

/// 1-based line of a 0-based line index.
pub(crate) fn line_of(index: usize) -> u32 {
    u32::try_from(index.saturating_add(1)).unwrap_or(u32::MAX)
}

/// Adds a child scope (a service, a container, a stanza, a command) and returns its id.
pub(crate) fn push_scope(
    facts: &mut FileFacts,
    parent: ScopeId,
    kind: ScopeKind,
    name: impl Into<String>,
    line: u32,
) -> ScopeId {
    facts.push_scope(Scope {
        parent: Some(parent),
        kind,
        name: name.into().into(),
        class: None,
        job: None,
        line,
    })
}

/// Records that a deployment file sets an environment variable for the unit of `scope`: an
/// `Env` access with mode `set`, and, when the value is known, a binding of the same name so
/// that commands analysed in child scopes resolve `$NAME` through it.
pub(crate) fn set_env(
    facts: &mut FileFacts,
    scope: ScopeId,
    name: &str,
    value: Option<Expr>,
    line: u32,
    via: &str,
) {
    if !is_env_name(name) {
        return;
    }
    if let Some(value) = &value {
        facts.bindings.push(Binding {
            scope,
            name: name.to_string().into(),
            value: value.clone().into(),
            line,
        });
    }
    facts.accesses.push(RawAccess {
        resource: RawResource::Env(EnvTarget {
            name: Expr::lit(name),
            value,
        }),
        mode: Mode::Set,
        line,
        scope,
        via: via.to_string().into(),
    });
}

/// An environment variable name as shells and deployment tools accept it.
pub(crate) fn is_env_name(name: &str) -> bool {
    is_ascii_identifier(name) && name.len() <= 128
}

/// A letter or `_`, then letters, digits and `_`, all ASCII: a shell variable's name, a cron
/// `VAR=` name, and a plainly written Python name.
pub(crate) fn is_ascii_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Records a path access.
pub(crate) fn path_access(
    facts: &mut FileFacts,
    scope: ScopeId,
    expr: Expr,
    mode: Mode,
    reach: Reach,
    line: u32,
    via: &str,
) {
    facts.accesses.push(RawAccess {
        resource: RawResource::Path(PathTarget {
            expr,
            reach,
            retention: None,
        }),
        mode,
        line,
        scope,
        via: via.to_string().into(),
    });
}

/// Records an access to a secret or configuration object of a secret store.
pub(crate) fn secret_access(
    facts: &mut FileFacts,
    scope: ScopeId,
    provider: &str,
    id: Expr,
    mode: Mode,
    line: u32,
    via: &str,
) {
    facts.accesses.push(RawAccess {
        resource: RawResource::Secret(SecretTarget {
            provider: provider.to_string(),
            id,
        }),
        mode,
        line,
        scope,
        via: via.to_string().into(),
    });
}

/// Analyses an embedded shell command in `scope`, line 1 of `text` being `first_line` of the
/// host file. A working directory (systemd `WorkingDirectory=`, Dockerfile `WORKDIR`, Ansible
/// `chdir`) is applied as a `cd` on the same first line, so relative paths resolve against it
/// and no line moves.
pub(crate) fn shell(
    facts: &mut FileFacts,
    scope: ScopeId,
    text: &str,
    first_line: u32,
    cwd: Option<&str>,
    models: &Models,
) {
    if text.trim().is_empty() {
        return;
    }
    match cwd.filter(|d| !d.trim().is_empty()) {
        Some(dir) => {
            let prefixed = format!("cd {}; {text}", shell_quote(dir.trim()));
            bash::extract_into(&prefixed, facts, scope, first_line, models);
        }
        None => bash::extract_into(text, facts, scope, first_line, models),
    }
}

/// Quotes a word for the shell: single quotes, unless it holds expansions that must stay live
/// (`${VAR}`, placeholders), which get double quotes.
pub(crate) fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if safe {
        return word.to_string();
    }
    if word.contains('$') && !word.contains(['"', '`', '\\']) {
        return format!("\"{word}\"");
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// One argument of an exec-form command (`["python", "-m", "worker"]`) and its line.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Arg {
    pub text: String,
    pub line: u32,
}

/// The shells whose `-c` argument is a script.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh"];

/// Whether `args` is `sh -c SCRIPT ...` (also `bash -ec`, `/bin/sh -lc`); returns the index of
/// the script argument.
pub(crate) fn shell_script_index(args: &[Arg]) -> Option<usize> {
    let program = args.first()?;
    let base = program.text.rsplit('/').next().unwrap_or(&program.text);
    if !SHELLS.contains(&base) {
        return None;
    }
    for (index, arg) in args.iter().enumerate().skip(1) {
        let text = arg.text.as_str();
        if text == "--" || !text.starts_with('-') {
            return None;
        }
        if !text.starts_with("--") && text.contains('c') {
            return (index + 1 < args.len()).then_some(index + 1);
        }
        if text == "-o" {
            // `bash -o pipefail -c ...`: the option's value is not a flag.
            continue;
        }
    }
    None
}

/// Builds shell text for an exec-form command whose arguments sit on the given lines: each
/// argument quoted, arguments of later lines on later lines joined by `\` continuations, so
/// the shell extractor reports each word at its own line. Returns the text and its first line.
/// Kubernetes' `$(VAR)` references become `${VAR}`.
pub(crate) fn exec_text(args: &[Arg]) -> Option<(String, u32)> {
    let first = args.first()?.line;
    let mut text = String::new();
    let mut line = first;
    for (index, arg) in args.iter().enumerate() {
        while arg.line > line {
            text.push_str(" \\\n");
            line += 1;
        }
        if index > 0 && !text.ends_with('\n') {
            text.push(' ');
        }
        text.push_str(&quote_exec_arg(&arg.text));
    }
    Some((text, first))
}

/// Quotes one exec-form argument, keeping `$(VAR)` (Kubernetes) and `${VAR}` references live.
fn quote_exec_arg(arg: &str) -> String {
    let converted = kube_vars_to_shell(arg);
    if converted.contains("${") && !converted.contains(['"', '`', '\\']) {
        return format!("\"{converted}\"");
    }
    shell_quote(arg)
}

/// Kubernetes expands `$(VAR)` in `command`/`args` from the container's environment; the shell
/// spelling of the same reference is `${VAR}`. `$$(VAR)` stays literal.
pub(crate) fn kube_vars_to_shell(text: &str) -> String {
    if text.len() > MAX_INTERPOLATED {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("$(") {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        let inner = &after[2..];
        let escaped = before.ends_with('$');
        match inner.find(')') {
            Some(end) if !escaped && is_env_name(&inner[..end]) => {
                out.push_str("${");
                out.push_str(&inner[..end]);
                out.push('}');
                rest = &inner[end + 1..];
            }
            _ => {
                out.push_str("$(");
                rest = inner;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Characters that make a path a glob for the programs that read these files.
pub(crate) fn has_glob(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

/// A literal path as an expression: a glob when it has glob characters.
pub(crate) fn path_expr(text: &str) -> Expr {
    if has_glob(text) {
        Expr::glob(text)
    } else {
        Expr::lit(text)
    }
}

/// Whether a value names a file: absolute (`/var/log/x`), home-relative (`~/x`) or explicitly
/// relative (`./x`, `../x`), with no spaces and not a URL.
pub(crate) fn looks_like_path(text: &str) -> bool {
    let text = text.trim();
    if text.len() < 2 || text.contains(char::is_whitespace) || text.contains("://") {
        return false;
    }
    text.starts_with('/')
        || text.starts_with("~/")
        || text.starts_with("./")
        || text.starts_with("../")
        || text.starts_with("${")
}

/// Removes one pair of matching quotes.
pub(crate) fn unquote(value: &str) -> &str {
    let value = value.trim();
    for quote in ['"', '\''] {
        if value.len() >= 2
            && value.starts_with(quote)
            && value.ends_with(quote)
            && let Some(inner) = value.get(1..value.len() - 1)
        {
            return inner;
        }
    }
    value
}

/// Splits a value holding several paths (space- or comma-separated, each possibly quoted).
pub(crate) fn split_values(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() || c == ',' => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            (_, c) => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Splits text into shell-like words (quotes removed), as Compose and Ansible split strings.
pub(crate) fn shell_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (q, '\\') if q != Some('\'') => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
                in_word = true;
            }
            (_, c) => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(current);
    }
    out
}

/// Which interpolations a file's values undergo before the program sees them, and where the
/// value is (the scope and line that template variables are looked up from).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Interpolation {
    pub scope: ScopeId,
    pub line: u32,
    /// `${VAR}`, `${VAR:-default}`, `$VAR` (Compose, `.env` files, systemd, GitLab CI).
    pub dollar: bool,
    /// `$(VAR)` (Kubernetes `command`/`args`/`env` values).
    pub kube: bool,
    /// `{{ expr }}` (Ansible's Jinja2 in YAML values) and `${{ expr }}` (GitHub Actions).
    pub braces: bool,
}

impl Interpolation {
    /// The same interpolation for a value at another scope and line.
    pub(crate) fn at(self, scope: ScopeId, line: u32) -> Interpolation {
        Interpolation {
            scope,
            line,
            ..self
        }
    }
}

/// Translates a configuration value into an expression: literal text, with the references the
/// file's tool expands (see [`Interpolation`]) as environment reads, template expressions as
/// variables or holes, and template placeholders (see `template.rs`) left in the text for the
/// template pass to fill. `glob` marks values that the consuming program expands as globs.
pub(crate) fn value_expr(text: &str, interpolation: Interpolation, glob: bool) -> Expr {
    if text.len() > MAX_INTERPOLATED {
        return Expr::lit(text);
    }
    let mut parts: Vec<Expr> = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    let flush = |literal: &mut String, parts: &mut Vec<Expr>| {
        if !literal.is_empty() {
            let text = std::mem::take(literal);
            parts.push(if glob && has_glob(&text) {
                Expr::glob(text)
            } else {
                Expr::lit(text)
            });
        }
    };
    while let Some(c) = rest.chars().next() {
        let step = c.len_utf8();
        if interpolation.braces
            && let Some((expr, used)) = braces_reference(rest, interpolation)
        {
            flush(&mut literal, &mut parts);
            parts.push(expr);
            rest = &rest[used..];
            continue;
        }
        if c == '$' {
            if interpolation.dollar && rest.starts_with("$$") {
                literal.push('$');
                rest = &rest[2..];
                continue;
            }
            if let Some((expr, used)) = dollar_reference(rest, interpolation) {
                flush(&mut literal, &mut parts);
                parts.push(expr);
                rest = &rest[used..];
                continue;
            }
        }
        literal.push(c);
        rest = &rest[step..];
    }
    flush(&mut literal, &mut parts);
    match parts.len() {
        0 => Expr::lit(""),
        _ => Expr::concat(parts),
    }
}

/// `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?msg}`, `$VAR`, `$(VAR)` at the start of `text`.
fn dollar_reference(text: &str, interpolation: Interpolation) -> Option<(Expr, usize)> {
    let after = text.strip_prefix('$')?;
    if let Some(inner) = after.strip_prefix('{') {
        let end = inner.find('}')?;
        let body = &inner[..end];
        let used = 2 + end + 1;
        if is_placeholder_name(body) {
            // Filled by the template pass; keep the token in the literal text.
            return None;
        }
        if !interpolation.dollar {
            return None;
        }
        let name_end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        let name = &body[..name_end];
        if !is_env_name(name) {
            return None;
        }
        let operator = &body[name_end..];
        let default = [":-", "-"]
            .iter()
            .find_map(|op| operator.strip_prefix(op))
            .map(|d| Box::new(value_expr(d, interpolation, false)));
        return Some((
            Expr::Env {
                name: name.to_string().into(),
                default,
            },
            used,
        ));
    }
    if let Some(inner) = after.strip_prefix('(') {
        if !interpolation.kube {
            return None;
        }
        let end = inner.find(')')?;
        let name = &inner[..end];
        return is_env_name(name).then(|| {
            (
                Expr::Env {
                    name: name.to_string().into(),
                    default: None,
                },
                2 + end + 1,
            )
        });
    }
    if !interpolation.dollar {
        return None;
    }
    let end = after
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(after.len());
    let name = &after[..end];
    is_env_name(name).then(|| {
        (
            Expr::Env {
                name: name.to_string().into(),
                default: None,
            },
            1 + end,
        )
    })
}

/// `{{ expr }}` or `${{ expr }}` at the start of `text`: a Jinja2 expression (Ansible) or a
/// GitHub Actions expression, as a variable or a hole.
fn braces_reference(text: &str, at: Interpolation) -> Option<(Expr, usize)> {
    let (open, github) = if text.starts_with("${{") {
        (3, true)
    } else if text.starts_with("{{") {
        (2, false)
    } else {
        return None;
    };
    let end = text[open..].find("}}")?;
    let inner = &text[open..open + end];
    let used = open + end + 2;
    let syntax = if github {
        Syntax::Github
    } else {
        Syntax::Jinja
    };
    Some((expression_expr(inner, syntax, at.scope, at.line), used))
}

/// Calls `f` on every top-level expression of the facts (bindings, accesses of every resource
/// kind, run targets, watched files, sends).
pub(crate) fn exprs_mut(facts: &mut FileFacts, f: &mut dyn FnMut(&mut Expr)) {
    for binding in &mut facts.bindings {
        f(&mut binding.value);
    }
    for access in &mut facts.accesses {
        match &mut access.resource {
            RawResource::Path(target) => {
                f(&mut target.expr);
                if let Reach::Find(spec) = &mut target.reach {
                    for e in spec.names.iter_mut().chain(spec.paths.iter_mut()) {
                        f(e);
                    }
                }
            }
            RawResource::Env(target) => {
                f(&mut target.name);
                if let Some(value) = &mut target.value {
                    f(value);
                }
            }
            RawResource::Secret(target) => f(&mut target.id),
            RawResource::Queue(target) => {
                f(&mut target.name);
                for e in [&mut target.exchange, &mut target.bound_queue]
                    .into_iter()
                    .flatten()
                {
                    f(e);
                }
            }
        }
    }
    for run in &mut facts.runs {
        if let RunTarget::Path { expr } = &mut run.target {
            f(expr);
        }
    }
    for trigger in &mut facts.triggers {
        if let TriggerKind::WatchFile { path } = &mut trigger.kind {
            f(path);
        }
    }
    for send in &mut facts.sends {
        match &mut send.kind {
            SendKind::Signal { target, .. } => f(target),
            SendKind::Http { url, .. } => f(url),
        }
    }
}

/// Adds the facts of an embedded file (a ConfigMap key, a here-document written to a file):
/// its scope 0 becomes `parent`, its other scopes are appended, and its lines move down by
/// `line_offset`; every scope and line inside its expressions moves with them.
pub(crate) fn merge(facts: &mut FileFacts, embedded: FileFacts, parent: ScopeId, line_offset: u32) {
    let relocated = relocate(facts, embedded, parent, line_offset);
    append(facts, relocated);
}

/// The first half of [`merge`]: the embedded facts with their scopes, schedules and lines
/// renumbered for `facts` (scope 0 dropped: it is `parent`), not yet added, so that a caller
/// can still rewrite them (fill placeholders with the host's own expressions).
pub(crate) fn relocate(
    facts: &FileFacts,
    mut embedded: FileFacts,
    parent: ScopeId,
    line_offset: u32,
) -> FileFacts {
    let base = facts.scopes.len();
    let map = |s: ScopeId| if s == 0 { parent } else { base + s - 1 };
    let shift = |l: u32| l.saturating_add(line_offset);
    exprs_mut(&mut embedded, &mut |e| remap_expr(e, &map, &shift, 0));
    let schedule_base = facts.schedules.len();
    embedded.scopes = std::mem::take(&mut embedded.scopes)
        .into_iter()
        .skip(1)
        .map(|scope| Scope {
            parent: scope.parent.map(map),
            line: shift(scope.line),
            job: scope.job.map(|j| j + schedule_base),
            ..scope
        })
        .collect();
    for b in &mut embedded.bindings {
        (b.scope, b.line) = (map(b.scope), shift(b.line));
    }
    for i in &mut embedded.imports {
        (i.scope, i.line) = (map(i.scope), shift(i.line));
    }
    for a in &mut embedded.accesses {
        (a.scope, a.line) = (map(a.scope), shift(a.line));
        if let RawResource::Queue(q) = &mut a.resource {
            for field in &mut q.fields {
                field.line = shift(field.line);
            }
        }
    }
    for r in &mut embedded.runs {
        (r.scope, r.line) = (map(r.scope), shift(r.line));
    }
    for s in &mut embedded.schedules {
        (s.scope, s.line) = (map(s.scope), shift(s.line));
    }
    for t in &mut embedded.triggers {
        (t.scope, t.line) = (map(t.scope), shift(t.line));
    }
    for s in &mut embedded.sends {
        (s.scope, s.line) = (map(s.scope), shift(s.line));
    }
    for c in &mut embedded.calls {
        (c.scope, c.line) = (map(c.scope), shift(c.line));
    }
    for p in &mut embedded.params {
        p.scope = map(p.scope);
    }
    for w in &mut embedded.warnings {
        w.line = shift(w.line);
    }
    for d in &mut embedded.deployments {
        d.line = shift(d.line);
        for s in &mut d.settings {
            s.line = shift(s.line);
        }
    }
    embedded
}

/// The second half of [`merge`]: adds facts [`relocate`]d for `facts`.
pub(crate) fn append(facts: &mut FileFacts, relocated: FileFacts) {
    let FileFacts {
        scopes,
        bindings,
        imports,
        accesses,
        runs,
        schedules,
        warnings,
        triggers,
        sends,
        calls,
        params,
        programs,
        deployments,
        maps_paths,
    } = relocated;
    facts.maps_paths |= maps_paths;
    facts.scopes.extend(scopes);
    facts.bindings.extend(bindings);
    facts.imports.extend(imports);
    facts.accesses.extend(accesses);
    facts.runs.extend(runs);
    facts.schedules.extend(schedules);
    facts.warnings.extend(warnings);
    facts.triggers.extend(triggers);
    facts.sends.extend(sends);
    facts.calls.extend(calls);
    facts.params.extend(params);
    facts.programs.extend(programs);
    facts.deployments.extend(deployments);
}

/// Moves the scopes and lines of variables inside an expression (bounded depth).
fn remap_expr(
    expr: &mut Expr,
    map: &dyn Fn(ScopeId) -> ScopeId,
    shift: &dyn Fn(u32) -> u32,
    depth: u32,
) {
    if depth > 64 {
        return;
    }
    if let Expr::Var { scope, line, .. } = expr {
        *scope = map(*scope);
        *line = shift(*line);
    }
    for child in children_mut(expr) {
        remap_expr(child, map, shift, depth + 1);
    }
}

/// The direct sub-expressions of an expression.
pub(crate) fn children_mut(expr: &mut Expr) -> Vec<&mut Expr> {
    match expr {
        Expr::Var { default, .. } | Expr::Env { default, .. } => {
            default.as_deref_mut().into_iter().collect()
        }
        Expr::Concat { parts } | Expr::Join { parts } => parts.iter_mut().collect(),
        Expr::Alt { options } => options.iter_mut().collect(),
        Expr::Parent { of } => vec![of.as_mut()],
        Expr::ReplaceName { of, name, .. } => vec![of.as_mut(), name.as_mut()],
        Expr::Lit { .. } | Expr::Glob { .. } | Expr::Hole { .. } => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_interpolation_reads_the_environment() {
        let dollar = Interpolation {
            dollar: true,
            ..Interpolation::default()
        };
        assert_eq!(
            value_expr("/data/${QUEUE:-jobs}/x", dollar, false),
            Expr::concat(vec![
                Expr::lit("/data/"),
                Expr::Env {
                    name: "QUEUE".into(),
                    default: Some(Box::new(Expr::lit("jobs")))
                },
                Expr::lit("/x"),
            ])
        );
        assert_eq!(value_expr("a$$b", dollar, false), Expr::lit("a$b"));
        assert_eq!(
            value_expr("$HOME/x", Interpolation::default(), false),
            Expr::lit("$HOME/x")
        );
    }

    #[test]
    fn exec_form_keeps_lines_and_kube_references() {
        let args = vec![
            Arg {
                text: "python".into(),
                line: 3,
            },
            Arg {
                text: "-m".into(),
                line: 3,
            },
            Arg {
                text: "--queue=$(QUEUE_NAME)".into(),
                line: 5,
            },
        ];
        let (text, first) = exec_text(&args).expect("text");
        assert_eq!(first, 3);
        assert_eq!(text, "python -m \\\n \\\n\"--queue=${QUEUE_NAME}\"");
        assert_eq!(shell_script_index(&args), None);
        let sh = vec![
            Arg {
                text: "/bin/sh".into(),
                line: 1,
            },
            Arg {
                text: "-ec".into(),
                line: 1,
            },
            Arg {
                text: "find".into(),
                line: 2,
            },
        ];
        assert_eq!(shell_script_index(&sh), Some(2));
    }

    #[test]
    fn values_split_on_spaces_commas_and_quotes() {
        assert_eq!(
            split_values("/var/log/a.log, \"/var/log/b c.log\" /x/*.log"),
            vec!["/var/log/a.log", "/var/log/b c.log", "/x/*.log"]
        );
        assert_eq!(
            shell_words("sh -c 'echo \"a b\"' x\\ y"),
            vec!["sh", "-c", "echo \"a b\"", "x y"]
        );
    }
}
