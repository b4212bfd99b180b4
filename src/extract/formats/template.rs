//! Templates (Jinja2, ERB, Go templates) -> the facts of the file they render to.
//!
//! Input: a template file (`backup.cron.j2`, `app.conf.erb`, `x.service.tmpl`, a Helm chart's
//! `templates/deployment.yaml`). The format it renders to is read from its inner extension
//! (`backup.cron.j2` is a crontab), or is Kubernetes YAML for a Helm chart's templates.
//!
//! Each template expression is replaced by a placeholder token before the inner extractor runs
//! (`${__tmpl_N}`, which shells, cron, systemd and INI files all carry as one word; `__tmpl_N__`
//! inside YAML, where braces would be flow syntax), and afterwards every token in the facts is
//! replaced by the expression it stands for: `{{ prefix }}` is `Var prefix`, `{{ .Values.a.b }}`
//! is `Var values.a.b` (which the resolver binds through the chart's `values.yaml`), a filter
//! `| default('x')` is the variable's default, and anything else is a hole labelled with the
//! expression's text. Literal text around an expression stays, so `/backups/{{ prefix }}-backup`
//! is `Concat["/backups/", Var prefix, "-backup"]` and a cleanup glob can still be matched.
//! Control tags (`{% if %}`, `{{ end }}`, `<% code %>`) and comments are dropped.
//!
//! Invariants: every newline of the template is kept, so lines in the facts are the template's
//! own lines; an unterminated tag is one warning and the rest of the file is still read;
//! expression translation is bounded in depth.

mod blocks;
mod locals;

use super::ConfigFormat;
use crate::expr::{Expr, ScopeId};
use crate::extract::{ExtractWarning, FileFacts, Language, extract_as};
use crate::rules::models::Models;
use blocks::{go_local_word, local_path};
use locals::Locals;

/// The template languages knockon reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TemplateEngine {
    /// Jinja2 (Ansible, Salt): `{{ expr }}`, `{% stmt %}`, `{# comment #}`.
    Jinja,
    /// Ruby ERB (Chef, Puppet): `<%= expr %>`, `<% code %>`, `<%# comment %>`.
    Erb,
    /// Go `text/template` (Helm, consul-template): `{{ .Values.x }}`, `{{ if }}`, `{{/* */}}`.
    Go,
}

/// The expression syntaxes translated into [`Expr`]s (template engines, and GitHub Actions'
/// `${{ }}` expressions met inside YAML).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Syntax {
    Jinja,
    Erb,
    Go,
    Github,
}

/// Deepest nesting of template expressions (Ruby `#{}` inside strings) translated.
const MAX_EXPR_DEPTH: u32 = 8;
/// Most placeholders per file; further expressions become empty text.
const MAX_PLACEHOLDERS: usize = 10_000;
/// Deepest expression walked when filling placeholders.
const MAX_FILL_DEPTH: u32 = 64;
const TOKEN_PREFIX: &str = "__tmpl_";
/// The one note a template gets when what it renders to is unknown (`foo.erb`, `page.html.j2`):
/// the report counts such files and does not warn about them.
pub const UNKNOWN_INNER_FORMAT: &str = "template of an unknown format: not read";

/// Most warnings about unterminated tags per file.
const MAX_WARNINGS: usize = 20;

/// The file extensions of each engine; the inner format is read from what precedes them.
pub(crate) fn engine_of_extension(ext: &str) -> Option<TemplateEngine> {
    match ext {
        "j2" | "jinja" | "jinja2" => Some(TemplateEngine::Jinja),
        "erb" => Some(TemplateEngine::Erb),
        "tmpl" | "gotmpl" => Some(TemplateEngine::Go),
        _ => None,
    }
}

/// Whether a YAML file under a chart's `templates/` is a Go template (Helm): it has template
/// actions that are Go's, not Ansible's Jinja2 (`{{ .Values.x }}`, `{{- if }}`, `{{ include }}`).
pub(crate) fn looks_like_helm_template(path: &str, content: &[u8]) -> bool {
    let in_templates = path
        .split('/')
        .rev()
        .skip(1)
        .any(|c| c == "templates" || c == "crds");
    if !in_templates {
        return false;
    }
    let head = &content[..content.len().min(64 * 1024)];
    let text = String::from_utf8_lossy(head);
    [
        "{{ .",
        "{{- .",
        "{{-",
        "{{ include",
        "{{ template",
        "{{ if .",
        "{{ $",
        "{{/*",
    ]
    .iter()
    .any(|m| text.contains(m))
}

/// Whether a file under a `templates/` directory (Ansible roles, Salt states, cookiecutters)
/// is a Jinja template by content: it has a statement tag (`{% if %}`) or an expression tag
/// (`{{ name }}`) at the start of its text or after a space, `=`, quote or `/`, as templates
/// write them. Whatever the file is called, it is not what its extension says until rendered.
pub(crate) fn looks_like_jinja_template(path: &str, content: &[u8]) -> bool {
    let in_templates = path
        .split('/')
        .rev()
        .skip(1)
        .any(|c| c == "templates" || c == "template");
    if !in_templates {
        return false;
    }
    let head = &content[..content.len().min(64 * 1024)];
    let text = String::from_utf8_lossy(head);
    if text.contains("{%") && text.contains("%}") {
        return true;
    }
    // Ansible's own YAML (tasks, vars) holds `{{ }}` in its values and is read as YAML.
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    if name.ends_with(".yml") || name.ends_with(".yaml") {
        return false;
    }
    let mut from = 0;
    while let Some(found) = text[from..].find("{{") {
        let at = from + found;
        let before = text[..at].chars().next_back();
        let opens = before.is_none_or(|c| c.is_whitespace() || "=\"'/:(,[".contains(c));
        // `{{ name }}`, `{{name}}`: a name (or a string) follows, and the tag closes.
        let after = text[at + 2..].trim_start();
        let expression = after
            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '\'' || c == '"');
        if opens && expression && text[at..].contains("}}") {
            return true;
        }
        from = at + 2;
    }
    false
}

/// Whether a file of any name is a Go template rendered from the environment at container
/// start (frep, dockerize, gomplate, `tpl`): its tags read `.Env.NAME`. It renders to what its
/// own name says (`meet.conf`, `settings-config.js`).
pub(crate) fn looks_like_go_env_template(content: &[u8]) -> bool {
    let head = &content[..content.len().min(64 * 1024)];
    // Asked of every file a walk finds: most have no `.Env.` at all, and a byte search says
    // so without decoding the text (the ASCII `.Env.` is in the text only if in the bytes).
    if memchr::memmem::find(head, b".Env.").is_none() {
        return false;
    }
    let text = String::from_utf8_lossy(head);
    go_env_uses(&text).next().is_some()
}

/// Every `.Env.NAME` inside a `{{ }}` tag: (byte offset of the name, name, its default when the
/// tag gives one with `default "x"`).
fn go_env_uses(text: &str) -> impl Iterator<Item = (usize, &str, Option<&str>)> {
    let mut from = 0;
    std::iter::from_fn(move || {
        loop {
            let open = from + text.get(from..)?.find("{{")?;
            let close = open + 2 + text.get(open + 2..)?.find("}}")?;
            from = close + 2;
            let tag = &text[open + 2..close];
            if let Some(found) = tag.find(".Env.") {
                let start = open + 2 + found + ".Env.".len();
                let name_len = text[start..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(text.len() - start);
                if name_len == 0 {
                    continue;
                }
                let name = &text[start..start + name_len];
                let default = tag.find("default \"").and_then(|at| {
                    let rest = &tag[at + "default \"".len()..];
                    rest.find('"').map(|end| &rest[..end])
                });
                return Some((start, name, default));
            }
        }
    })
}

/// The environment variables a Go template reads (`{{ .Env.X }}`, also in `{{ if }}` tags), at
/// their lines, with the default the tag gives; a read without a default requires the variable.
fn env_reads(text: &str, facts: &mut FileFacts) {
    const MAX_READS: usize = 1_000;
    for (offset, name, default) in go_env_uses(text).take(MAX_READS) {
        if !super::common::is_env_name(name) {
            continue;
        }
        let line = 1 + count_newlines(&text[..offset]);
        facts.accesses.push(crate::extract::RawAccess {
            resource: crate::extract::RawResource::Env(crate::extract::EnvTarget {
                name: Expr::lit(name),
                value: default.map(Expr::lit),
            }),
            mode: crate::model::Mode::Read,
            line,
            scope: 0,
            via: "template .Env".to_string().into(),
        });
    }
}

/// Whether `${NAME}`'s `NAME` is a placeholder token's name.
pub(crate) fn is_placeholder_name(name: &str) -> bool {
    name.strip_prefix(TOKEN_PREFIX)
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// One replaced template expression.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Placeholder {
    pub expr: Expr,
    /// The tag as written, to render commands and names back for reviewers.
    pub source: String,
}

/// How placeholder tokens are spelled in the substituted text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenStyle {
    /// `${__tmpl_N}`: a shell variable, one word in every line-based format.
    Dollar,
    /// `__tmpl_N__`: plain text, safe in YAML flow collections.
    Bare,
}

pub(crate) fn token(index: usize, style: TokenStyle) -> String {
    match style {
        TokenStyle::Dollar => format!("${{{TOKEN_PREFIX}{index}}}"),
        TokenStyle::Bare => format!("{TOKEN_PREFIX}{index}__"),
    }
}

/// A template with its tags replaced, and what each placeholder stands for.
#[derive(Debug, Default)]
pub(crate) struct Substituted {
    pub text: String,
    pub placeholders: Vec<Placeholder>,
    pub warnings: Vec<ExtractWarning>,
}

/// What a tag is once classified.
enum Tag {
    /// Output nothing (a statement, a comment, a structural include on its own line).
    Drop,
    /// Output a placeholder standing for this expression.
    Value(Expr),
    /// Output this literal text (a string literal expression, an escaped delimiter).
    Text(String),
}

/// Where substituted text sits and how tokens are spelled.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Options {
    pub engine: TemplateEngine,
    pub style: TokenStyle,
    /// Expressions alone on their line are structural (Helm's `{{ toYaml .Values.x |
    /// nindent 8 }}`) and dropped.
    pub own_line_drops: bool,
    /// The index of the first placeholder (snippets of one file share one numbering).
    pub first_index: usize,
    /// The file line of the text's first line, and the scope its variables are looked up in.
    pub first_line: u32,
    pub scope: ScopeId,
}

impl Options {
    pub(crate) fn new(engine: TemplateEngine, style: TokenStyle) -> Options {
        Options {
            engine,
            style,
            own_line_drops: false,
            first_index: 0,
            first_line: 1,
            scope: 0,
        }
    }
}

/// Replaces every tag of `text` (see the module doc); placeholders are numbered from
/// `options.first_index`.
pub(crate) fn substitute(text: &str, options: Options) -> Substituted {
    let Options {
        engine,
        style,
        own_line_drops,
        first_index,
        first_line,
        scope,
    } = options;
    let mut out = Substituted::default();
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    let mut line: u32 = first_line;
    let mut raw_block = false;
    let mut unclosed: Vec<&str> = Vec::new();
    // Jinja's `{% set %}` in a block binds a name for that block; Ruby and Go assignments
    // change an enclosing block's name.
    let mut locals = Locals::new(engine != TemplateEngine::Jinja);
    while !rest.is_empty() {
        let Some((at, open)) = next_open(rest, engine, raw_block) else {
            result.push_str(rest);
            break;
        };
        let before = &rest[..at];
        line = line.saturating_add(count_newlines(before));
        result.push_str(before);
        let after_open = &rest[at + open.len()..];
        let close = close_of(open);
        let found = if unclosed.contains(&close) {
            None
        } else {
            after_open.find(close)
        };
        let Some(close_at) = found else {
            // Nothing later closes this kind of tag either: later ones fail without a search.
            if !unclosed.contains(&close) {
                unclosed.push(close);
            }
            if out.warnings.len() < MAX_WARNINGS {
                out.warnings.push(ExtractWarning {
                    line,
                    message: format!(
                        "unterminated template tag `{open}`; the rest of its line was skipped"
                    ),
                });
            }
            let skip = after_open.find('\n').unwrap_or(after_open.len());
            rest = &after_open[skip..];
            continue;
        };
        let inner = &after_open[..close_at];
        let tag_source = &rest[at..at + open.len() + close_at + close_of(open).len()];
        let tail = &after_open[close_at + close_of(open).len()..];
        let alone = own_line_drops && alone_on_line(tail, &result);
        let tag = classify(
            open,
            inner,
            engine,
            (scope, line),
            alone,
            &mut raw_block,
            &mut locals,
        );
        let newlines = count_newlines(tag_source);
        match tag {
            Tag::Drop => {}
            Tag::Text(text) => result.push_str(&text),
            Tag::Value(expr) => {
                if out.placeholders.len() < MAX_PLACEHOLDERS {
                    result.push_str(&token(first_index + out.placeholders.len(), style));
                    out.placeholders.push(Placeholder {
                        expr,
                        source: tag_source.to_string(),
                    });
                }
            }
        }
        for _ in 0..newlines {
            result.push('\n');
        }
        line = line.saturating_add(newlines);
        rest = &after_open[close_at + close_of(open).len()..];
    }
    out.text = result;
    out
}

fn count_newlines(text: &str) -> u32 {
    u32::try_from(text.bytes().filter(|b| *b == b'\n').count()).unwrap_or(u32::MAX)
}

/// Whether a tag has only whitespace before it on its line (in the output so far) and after it.
fn alone_on_line(after: &str, result: &str) -> bool {
    let line_start = result.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let head_blank = result[line_start..].trim().is_empty();
    let tail = after.split('\n').next().unwrap_or("");
    head_blank && tail.trim().is_empty()
}

/// The next opening delimiter: its offset and spelling. One forward scan, so a file of many
/// tags is read in linear time.
fn next_open(text: &str, engine: TemplateEngine, raw_block: bool) -> Option<(usize, &'static str)> {
    let candidates: &[&'static str] = match (engine, raw_block) {
        (TemplateEngine::Jinja, true) => &["{%"],
        (TemplateEngine::Jinja, false) => &["{{", "{%", "{#"],
        (TemplateEngine::Erb, _) => &["<%"],
        (TemplateEngine::Go, _) => &["{{"],
    };
    let lead = if engine == TemplateEngine::Erb {
        '<'
    } else {
        '{'
    };
    let mut from = 0;
    while let Some(found) = text[from..].find(lead) {
        let at = from + found;
        if let Some(open) = candidates.iter().find(|c| text[at..].starts_with(**c)) {
            return Some((at, open));
        }
        from = at + 1;
    }
    None
}

fn close_of(open: &str) -> &'static str {
    match open {
        "{{" => "}}",
        "{%" => "%}",
        "{#" => "#}",
        _ => "%>",
    }
}

/// Reads one tag: control tags update the names the template binds (`locals`) and output
/// nothing; expressions are read with those names.
fn classify(
    open: &str,
    inner: &str,
    engine: TemplateEngine,
    (scope, line): (ScopeId, u32),
    alone: bool,
    raw_block: &mut bool,
    locals: &mut Locals,
) -> Tag {
    let value = |body: &str, syntax: Syntax, locals: &Locals| {
        let at = At {
            scope,
            line,
            locals,
        };
        value_tag(translate(body, syntax, &at, 0))
    };
    match engine {
        TemplateEngine::Jinja => {
            let body = trim_markers(inner);
            match open {
                "{%" => {
                    let keyword = body.split_whitespace().next().unwrap_or("");
                    if *raw_block {
                        if keyword == "endraw" {
                            *raw_block = false;
                            return Tag::Drop;
                        }
                        return Tag::Text(format!("{{%{inner}%}}"));
                    }
                    if keyword == "raw" {
                        *raw_block = true;
                    } else {
                        blocks::jinja_statement(body, scope, line, locals);
                    }
                    Tag::Drop
                }
                "{#" => Tag::Drop,
                _ if alone && is_structural(body) => Tag::Drop,
                _ => value(body, Syntax::Jinja, locals),
            }
        }
        TemplateEngine::Erb => {
            if let Some(escaped) = inner.strip_prefix('%') {
                return Tag::Text(format!("<%{escaped}%>"));
            }
            if inner.starts_with('#') {
                return Tag::Drop;
            }
            match inner.strip_prefix('=') {
                Some(expr) => value(trim_markers(expr), Syntax::Erb, locals),
                None => {
                    blocks::erb_code(inner, scope, line, locals);
                    Tag::Drop
                }
            }
        }
        TemplateEngine::Go => {
            let body = trim_markers(inner);
            if body.starts_with("/*") {
                return Tag::Drop;
            }
            let keyword = body.split_whitespace().next().unwrap_or("");
            const CONTROL: &[&str] = &[
                "if", "else", "end", "range", "with", "define", "block", "break", "continue",
            ];
            if CONTROL.contains(&keyword) {
                blocks::go_control(body, scope, line, locals);
                return Tag::Drop;
            }
            if alone && is_structural(body) {
                return Tag::Drop;
            }
            if blocks::go_assignment(body, scope, line, locals) {
                return Tag::Drop;
            }
            value(body, Syntax::Go, locals)
        }
    }
}

fn value_tag(expr: Expr) -> Tag {
    match expr {
        Expr::Lit { text } => Tag::Text(text.to_string()),
        other => Tag::Value(other),
    }
}

/// Expressions that render whole blocks of the output (included templates, serialised values),
/// which stand for structure rather than a value when alone on their line.
fn is_structural(body: &str) -> bool {
    [
        "include",
        "template",
        "toYaml",
        "to_yaml",
        "to_nice_yaml",
        "nindent",
        "indent",
        "tpl",
        "toJson",
        "to_json",
        "lookup",
    ]
    .iter()
    .any(|w| body.contains(w))
}

/// Strips whitespace-control markers (`{{- x -}}`, `<%- x -%>`, `{%+ x +%}`) and spaces.
fn trim_markers(inner: &str) -> &str {
    inner
        .trim()
        .trim_start_matches(['-', '+', '~'])
        .trim_end_matches(['-', '+', '~'])
        .trim()
}

/// Translates one template expression into an [`Expr`]: a variable for a (dotted) name, a
/// literal for a string, a concatenation for `a ~ "/x"` / Ruby `"#{a}-x"` / `printf`, the
/// variable's default for `default` filters, and a hole labelled with the text otherwise.
pub(crate) fn expression_expr(inner: &str, syntax: Syntax, scope: ScopeId, line: u32) -> Expr {
    let locals = Locals::default();
    let at = At {
        scope,
        line,
        locals: &locals,
    };
    translate(trim_markers(inner), syntax, &at, 0)
}

/// Where an expression is read: its scope and line, and the names the template bound before.
pub(crate) struct At<'l> {
    scope: ScopeId,
    line: u32,
    locals: &'l Locals,
}

fn translate(text: &str, syntax: Syntax, at: &At, depth: u32) -> Expr {
    let text = text.trim();
    let hole = || Expr::hole(text.to_string());
    if depth > MAX_EXPR_DEPTH || text.is_empty() {
        return hole();
    }
    let stages = split_top(text, '|');
    let Some((head, filters)) = stages.split_first() else {
        return hole();
    };
    let mut expr = match syntax {
        Syntax::Go => go_head(head, at, depth),
        _ => head_expr(head, syntax, at, depth),
    };
    let Some(base) = expr.as_mut() else {
        return hole();
    };
    for filter in filters {
        if !apply_filter(base, filter.trim(), syntax, at, depth) {
            return hole();
        }
    }
    expr.unwrap_or_else(hole)
}

/// The value part of an expression (before any filter/pipe).
fn head_expr(head: &str, syntax: Syntax, at: &At, depth: u32) -> Option<Expr> {
    let head = head.trim();
    if let Some(literal) = string_literal(head, syntax, at, depth) {
        return Some(literal);
    }
    for op in ['~', '+'] {
        let parts = split_top(head, op);
        if parts.len() > 1 {
            let exprs: Option<Vec<Expr>> = parts
                .iter()
                .map(|p| head_expr(p, syntax, at, depth + 1))
                .collect();
            return exprs.map(Expr::concat);
        }
    }
    let head = head.strip_suffix(".to_s").unwrap_or(head);
    if let Some(local) = local_path(head, syntax, at.locals) {
        return Some(local.expr().unwrap_or_else(|| Expr::hole(head)));
    }
    let name = match syntax {
        Syntax::Erb => head.trim_start_matches('@'),
        _ => head,
    };
    let dotted = dotted_name(name)?;
    if syntax == Syntax::Github {
        return Some(github_name(&dotted));
    }
    let mut value = variable(dotted, at.scope, at.line);
    // A loop variable after its loop: whatever binds the name elsewhere, else nothing.
    let first = head.split(['.', '[']).next().unwrap_or(head);
    if at.locals.ended(first)
        && let Expr::Var { default, .. } = &mut value
    {
        *default = Some(Box::new(locals::nothing()));
    }
    Some(value)
}

/// GitHub Actions contexts: `env.X` is the environment; secrets, vars, matrix are unknown here.
fn github_name(dotted: &str) -> Expr {
    match dotted.strip_prefix("env.") {
        Some(name) if super::common::is_env_name(name) => Expr::Env {
            name: name.to_string().into(),
            default: None,
        },
        _ => Expr::hole(dotted.to_string()),
    }
}

fn variable(name: String, scope: ScopeId, line: u32) -> Expr {
    Expr::Var {
        name: name.into(),
        scope,
        line,
        env_fallback: false,
        default: None,
    }
}

/// `a`, `a.b`, `a['b']`, `a["b"]` -> `a.b`; `None` for anything else.
fn dotted_name(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = text.trim();
    let mut first = true;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let key = super::common::unquote(&after[..end]);
            if key.is_empty() || key == after[..end].trim() {
                return None;
            }
            out.push('.');
            out.push_str(key);
            rest = &after[end + 1..];
            continue;
        }
        let rest_after_dot = if first { rest } else { rest.strip_prefix('.')? };
        let end = rest_after_dot
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest_after_dot.len());
        let ident = &rest_after_dot[..end];
        if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        if !first {
            out.push('.');
        }
        out.push_str(ident);
        rest = &rest_after_dot[end..];
        first = false;
    }
    (!out.is_empty()).then_some(out)
}

/// A quoted string: a literal, or for Ruby double quotes with `#{}`, a concatenation.
fn string_literal(text: &str, syntax: Syntax, at: &At, depth: u32) -> Option<Expr> {
    let quote = text
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let inner = text.strip_prefix(quote)?.strip_suffix(quote)?;
    if inner.contains(quote) && !inner.contains('\\') {
        return None;
    }
    if syntax == Syntax::Erb && quote == '"' && inner.contains("#{") {
        return Some(ruby_interpolation(inner, at, depth));
    }
    Some(Expr::lit(inner.replace("\\\"", "\"").replace("\\'", "'")))
}

/// `#{prefix}-backup` -> `Concat[Var prefix, "-backup"]`.
fn ruby_interpolation(inner: &str, at: &At, depth: u32) -> Expr {
    let mut parts = Vec::new();
    let mut rest = inner;
    while let Some(open) = rest.find("#{") {
        if open > 0 {
            parts.push(Expr::lit(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let Some(end) = after.find('}') else {
            parts.push(Expr::lit(&rest[open..]));
            rest = "";
            break;
        };
        parts.push(translate(&after[..end], Syntax::Erb, at, depth + 1));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Expr::lit(rest));
    }
    Expr::concat(parts)
}

/// Applies one filter or pipe stage to a value; false when its effect on the value is unknown.
fn apply_filter(base: &mut Expr, filter: &str, syntax: Syntax, at: &At, depth: u32) -> bool {
    const KEEPS_VALUE: &[&str] = &[
        "quote",
        "squote",
        "string",
        "trim",
        "mandatory",
        "toString",
        "str",
        "safe",
        "e",
        "escape",
    ];
    let (name, argument) = match filter.find(['(', ' ']) {
        Some(split) => (
            &filter[..split],
            filter[split..]
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .trim(),
        ),
        None => (filter, ""),
    };
    if KEEPS_VALUE.contains(&name) {
        return true;
    }
    if name == "required" {
        return true;
    }
    if !matches!(name, "default" | "d") {
        return false;
    }
    let argument = split_top(argument, ',')
        .into_iter()
        .next()
        .unwrap_or_default();
    let default = match syntax {
        Syntax::Go => go_head(argument, at, depth + 1),
        _ => head_expr(argument, syntax, at, depth + 1),
    };
    match (base, default) {
        (Expr::Var { default: slot, .. } | Expr::Env { default: slot, .. }, Some(d)) => {
            *slot = Some(Box::new(d));
            true
        }
        // A value the template itself gives (a literal, a loop over a literal list) is defined:
        // the default is never used.
        (Expr::Lit { .. }, _) => true,
        (Expr::Alt { options }, _) => options.iter().all(|o| matches!(o, Expr::Lit { .. })),
        _ => false,
    }
}

/// A Go template pipeline's first command: `.Values.a.b`, `$.Values.a`, a string, or a function
/// call that keeps a value (`default "x" .Values.a`, `quote .Values.a`, `printf "%s-x" .Values.a`).
fn go_head(head: &str, at: &At, depth: u32) -> Option<Expr> {
    let words = go_words(head.trim());
    let first = words.first()?;
    if words.len() == 1 {
        return go_operand(first, at);
    }
    match first.as_str() {
        "default" if words.len() == 3 => {
            let mut value = go_operand(&words[2], at)?;
            let default = go_operand(&words[1], at)?;
            if let Expr::Var { default: slot, .. } | Expr::Env { default: slot, .. } = &mut value {
                *slot = Some(Box::new(default));
            }
            Some(value)
        }
        "quote" | "squote" | "toString" | "trim" if words.len() == 2 => go_operand(&words[1], at),
        "required" if words.len() == 3 => go_operand(&words[2], at),
        "printf" => {
            let format = words.get(1)?;
            let format = format.strip_prefix('"')?.strip_suffix('"')?;
            let mut args = words[2..].iter();
            let mut parts = Vec::new();
            let pieces: Vec<&str> = format.split('%').collect();
            if let Some(first) = pieces.first().filter(|p| !p.is_empty()) {
                parts.push(Expr::lit(*first));
            }
            for piece in pieces.iter().skip(1) {
                let mut chars = piece.chars();
                let verb = chars.next()?;
                if !matches!(verb, 's' | 'v' | 'd') {
                    return None;
                }
                parts.push(go_operand(args.next()?, at)?);
                let tail = chars.as_str();
                if !tail.is_empty() {
                    parts.push(Expr::lit(tail));
                }
            }
            let _ = depth;
            Some(Expr::concat(parts))
        }
        _ => None,
    }
}

/// `.Values.a.b` / `$.Values.a.b` -> `Var values.a.b`; other fields of the root (`.Release.Name`)
/// are holes; strings are literals.
fn go_operand(word: &str, at: &At) -> Option<Expr> {
    if let Some(inner) = word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        return Some(Expr::lit(inner));
    }
    if let Some(local) = go_local_word(word, at.locals) {
        return Some(local.expr().unwrap_or_else(|| Expr::hole(word)));
    }
    // `$q` after the `range` that declared it: Go does not parse that; nothing is rendered.
    let variable_name = word.split('.').next().unwrap_or(word);
    if variable_name.len() > 1 && at.locals.ended(variable_name) {
        return Some(locals::nothing());
    }
    let field = word.strip_prefix('$').unwrap_or(word);
    let path = field.strip_prefix('.')?;
    let dotted = dotted_name(path)?;
    if let Some(rest) = dotted.strip_prefix("Values.") {
        return Some(variable(format!("values.{rest}"), at.scope, at.line));
    }
    // frep / dockerize / gomplate / tpl: `.Env.NAME` is the environment variable.
    if let Some(name) = dotted.strip_prefix("Env.")
        && super::common::is_env_name(name)
    {
        return Some(Expr::Env {
            name: name.to_string().into(),
            default: None,
        });
    }
    Some(Expr::hole(format!(".{dotted}")))
}

/// Splits a Go template command into words, keeping quoted strings whole.
fn go_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The characters of `text` outside quotes and brackets, with their offsets: what splitting and
/// searching at the top level of a template expression look at.
pub(super) fn top_level(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    text.char_indices().filter(move |&(_, c)| match (quote, c) {
        (Some(q), c) if c == q => {
            quote = None;
            false
        }
        (Some(_), _) => false,
        (None, '"' | '\'') => {
            quote = Some(c);
            false
        }
        (None, '(' | '[' | '{') => {
            depth += 1;
            false
        }
        (None, ')' | ']' | '}') => {
            depth -= 1;
            false
        }
        _ => depth == 0,
    })
}

/// Splits at a separator outside quotes and brackets.
fn split_top(text: &str, separator: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in top_level(text) {
        if c != separator {
            continue;
        }
        // `||` is Ruby's or, not a Jinja filter.
        if separator == '|' && text[i + 1..].starts_with('|') {
            continue;
        }
        out.push(&text[start..i]);
        start = i + c.len_utf8();
    }
    out.push(&text[start..]);
    out
}

/// Extracts a template file as the format it renders to (see the module doc).
pub(crate) fn extract(
    engine: TemplateEngine,
    path: &str,
    text: &str,
    models: &Models,
) -> FileFacts {
    let inner_path = strip_template_extension(path);
    let Some(inner) = inner_language(engine, path, &inner_path, text) else {
        // Rendered to a format knockon does not read (`foo.erb`, an HTML page): nothing to
        // analyse, and nothing wrong with the file.
        let mut facts = FileFacts::new(path, crate::extract::ScopeKind::Module);
        facts.warnings.push(ExtractWarning {
            line: 1,
            message: UNKNOWN_INNER_FORMAT.to_string(),
        });
        // What it reads from the environment is known whatever it renders to.
        if engine == TemplateEngine::Go {
            env_reads(text, &mut facts);
        }
        return facts;
    };
    let yaml = inner == Language::Config(ConfigFormat::Yaml);
    let style = if yaml {
        TokenStyle::Bare
    } else {
        TokenStyle::Dollar
    };
    let substituted = substitute(
        text,
        Options {
            own_line_drops: yaml,
            ..Options::new(engine, style)
        },
    );
    let mut facts = extract_as(inner, &inner_path, substituted.text.as_bytes(), models);
    if let Some(file_scope) = facts.scopes.first_mut() {
        file_scope.name = path.to_string().into();
    }
    fill(&mut facts, &substituted.placeholders);
    if engine == TemplateEngine::Go {
        env_reads(text, &mut facts);
    }
    // What the inner format could not read on a line the template writes with a tag (a whole
    // line from `{{ key }}={{ value }}`, a schedule from a variable) is a line only rendering
    // decides: not a defect of the file. A template with blocks (`{% if %}`, `{% for %}`) is
    // several files at once, and the text read (every branch, each loop body once) need not
    // parse as any of them: what its inner format could not read is not reported either.
    let (tagged, blocks) = tag_lines(text, engine);
    let mut warnings = substituted.warnings;
    let inner_warnings = std::mem::take(&mut facts.warnings);
    if !blocks {
        warnings.extend(
            inner_warnings
                .into_iter()
                .filter(|w| !tagged.contains(&w.line)),
        );
    }
    warnings.sort_by_key(|w| w.line);
    facts.warnings = warnings;
    facts
}

/// The lines (1-based) a tag of the template is on, from its opening to its closing delimiter,
/// and whether the template has blocks (`{% if %}`, `<% if %>`); a block taints the lines up
/// to its end, since what they hold depends on it. Bounded by the text's size.
fn tag_lines(text: &str, engine: TemplateEngine) -> (std::collections::BTreeSet<u32>, bool) {
    let mut blocks = false;
    let mut lines = std::collections::BTreeSet::new();
    let mut rest = text;
    let mut line: u32 = 1;
    let mut open_blocks: u32 = 0;
    let mut block_start: u32 = 0;
    while !rest.is_empty() {
        let Some((at, open)) = next_open(rest, engine, false) else {
            break;
        };
        let start_line = line.saturating_add(count_newlines(&rest[..at]));
        let after_open = &rest[at + open.len()..];
        let Some(close_at) = after_open.find(close_of(open)) else {
            lines.insert(start_line);
            break;
        };
        let inner = &after_open[..close_at];
        let end_line = start_line.saturating_add(count_newlines(inner));
        lines.extend(start_line..=end_line);
        if is_block_tag(open, inner, engine) {
            blocks = true;
            let keyword = trim_markers(inner).split_whitespace().next().unwrap_or("");
            if keyword.starts_with("end") || keyword == "end" {
                open_blocks = open_blocks.saturating_sub(1);
                if open_blocks == 0 {
                    lines.extend(block_start..=end_line);
                }
            } else if !matches!(keyword, "else" | "elif" | "elsif" | "when") {
                if open_blocks == 0 {
                    block_start = start_line;
                }
                open_blocks = open_blocks.saturating_add(1);
            }
        }
        let consumed = at + open.len() + close_at + close_of(open).len();
        line = start_line.saturating_add(count_newlines(&rest[at..consumed]));
        rest = &rest[consumed..];
    }
    if open_blocks > 0 {
        lines.extend(block_start..=line);
    }
    (lines, blocks)
}

/// Whether a tag opens or closes a block whose lines depend on it.
fn is_block_tag(open: &str, inner: &str, engine: TemplateEngine) -> bool {
    let body = trim_markers(inner);
    let keyword = body.split_whitespace().next().unwrap_or("");
    match engine {
        TemplateEngine::Jinja => {
            open == "{%"
                && (matches!(
                    keyword,
                    "if" | "for" | "macro" | "block" | "filter" | "with" | "call"
                ) || keyword.starts_with("end"))
        }
        TemplateEngine::Go => {
            matches!(
                keyword,
                "if" | "range" | "with" | "define" | "block" | "end"
            )
        }
        TemplateEngine::Erb => {
            !inner.starts_with('=')
                && (body.starts_with("if ")
                    || body.starts_with("unless ")
                    || body.contains(" do")
                    || body.starts_with("case ")
                    || body == "end")
        }
    }
}

/// `backup.cron.j2` -> `backup.cron`; a Helm template keeps its path.
fn strip_template_extension(path: &str) -> String {
    let (dir, name) = match path.rsplit_once('/') {
        Some((dir, name)) => (Some(dir), name),
        None => (None, path),
    };
    let stripped = match name.rsplit_once('.') {
        Some((stem, ext)) if engine_of_extension(&ext.to_ascii_lowercase()).is_some() => stem,
        _ => name,
    };
    match dir {
        Some(dir) => format!("{dir}/{stripped}"),
        None => stripped.to_string(),
    }
}

/// The language of the rendered file: by the inner path and the text's shebang (never a
/// template again), YAML for a Helm template; `None` when nothing says what it renders to (the
/// generic fallback is not guessed from a name without an extension: `foo.erb` could be
/// anything).
fn inner_language(
    engine: TemplateEngine,
    path: &str,
    inner_path: &str,
    text: &str,
) -> Option<Language> {
    let lower = path.to_ascii_lowercase();
    if engine == TemplateEngine::Go
        && inner_path == path
        && (lower.ends_with(".yaml") || lower.ends_with(".yml"))
    {
        return Some(Language::Config(ConfigFormat::Yaml));
    }
    // The content is sniffed as rendered (a shebang or markup after a leading `{# comment #}`):
    // tags dropped, leading blank lines gone. A file found to be a template by its content
    // keeps its name: what it renders to is what its name says, but it is not a template again.
    let rendered = substitute(text, Options::new(engine, TokenStyle::Dollar));
    let sniffed = rendered.text.trim_start_matches(['\n', '\r', ' ', '\t']);
    let name = inner_path.rsplit('/').next().unwrap_or(inner_path);
    let named_format = name.trim_start_matches('.').contains('.');
    match Language::detect_plain(inner_path, sniffed.as_bytes()) {
        Some(Language::Config(ConfigFormat::Template(_))) | None => None,
        // The fallback reader only for a name that says what the file is (`config.php.j2`).
        Some(Language::Config(ConfigFormat::Generic)) if !named_format => None,
        Some(language) => Some(language),
    }
}

/// Replaces every placeholder token in the facts by the expression it stands for, and renders
/// tokens in reviewer-facing text (commands, scope names) back to the template's own tags.
pub(crate) fn fill(facts: &mut FileFacts, placeholders: &[Placeholder]) {
    if placeholders.is_empty() {
        return;
    }
    let filler = Filler { placeholders };
    super::common::exprs_mut(facts, &mut |e| filler.expr(e, 0));
    facts.bindings.retain(|b| !is_placeholder_name(&b.name));
    for access in &mut facts.accesses {
        if let crate::extract::RawResource::Path(target) = &mut access.resource
            && let Some(retention) = &mut target.retention
        {
            *retention = filler.text(retention);
        }
    }
    for schedule in &mut facts.schedules {
        schedule.command = filler.text(&schedule.command);
        schedule.expression = filler.text(&schedule.expression);
        schedule.description = filler.text(&schedule.description);
        for (_, value) in &mut schedule.env {
            *value = filler.text(value);
        }
    }
    for scope in &mut facts.scopes {
        scope.name = filler.text(&scope.name).into();
    }
    for deployment in &mut facts.deployments {
        filler.deployment(deployment);
    }
}

struct Filler<'p> {
    placeholders: &'p [Placeholder],
}

impl Filler<'_> {
    /// A deployment's templated parts: the image and setting values keep their expressions
    /// for the resolver (and show the template's text); a templated program is not one program.
    fn deployment(&self, d: &mut super::deploy::DeploymentFact) {
        d.unit = self.text(&d.unit);
        if let Some(image) = &d.image
            && !find_tokens(image).is_empty()
        {
            d.image_template = self.split(image, false);
            d.image = Some(self.text(image));
        }
        if let super::deploy::Program::Known(key) = &d.program
            && !find_tokens(key).is_empty()
        {
            d.program = super::deploy::Program::Unknown;
        }
        d.settings.retain(|s| find_tokens(&s.name).is_empty());
        for setting in &mut d.settings {
            if !find_tokens(&setting.value).is_empty() {
                setting.template = self.split(&setting.value, false);
                setting.value = self.text(&setting.value);
            }
        }
    }

    fn lookup(&self, name: &str) -> Option<&Placeholder> {
        let index: usize = name.strip_prefix(TOKEN_PREFIX)?.parse().ok()?;
        self.placeholders.get(index)
    }

    fn expr(&self, expr: &mut Expr, depth: u32) {
        if depth > MAX_FILL_DEPTH {
            return;
        }
        match expr {
            Expr::Var { name, .. } | Expr::Env { name, .. } if is_placeholder_name(name) => {
                if let Some(p) = self.lookup(name) {
                    *expr = p.expr.clone();
                }
            }
            Expr::Var { default, .. } | Expr::Env { default, .. } => {
                if let Some(d) = default {
                    self.expr(d, depth + 1);
                }
            }
            Expr::Lit { text } => {
                if let Some(split) = self.split(text, false) {
                    *expr = split;
                }
            }
            Expr::Glob { text } => {
                if let Some(split) = self.split(text, true) {
                    *expr = split;
                }
            }
            Expr::Concat { parts } | Expr::Join { parts } => {
                drop_dollar_before_placeholders(parts);
                for part in parts.iter_mut() {
                    self.expr(part, depth + 1);
                }
            }
            Expr::Alt { options } => {
                for option in options.iter_mut() {
                    self.expr(option, depth + 1);
                }
            }
            Expr::Parent { of } => self.expr(of, depth + 1),
            Expr::ReplaceName { of, name, .. } => {
                self.expr(of, depth + 1);
                self.expr(name, depth + 1);
            }
            Expr::Hole { .. } => {}
        }
    }

    /// Splits literal text at placeholder tokens; `None` when it has none.
    fn split(&self, text: &str, glob: bool) -> Option<Expr> {
        let tokens = find_tokens(text);
        if tokens.is_empty() {
            return None;
        }
        let literal = |t: &str| {
            if glob { Expr::glob(t) } else { Expr::lit(t) }
        };
        let mut parts = Vec::new();
        let mut at = 0;
        for (start, end, index) in tokens {
            if start > at {
                parts.push(literal(&text[at..start]));
            }
            match self.placeholders.get(index) {
                Some(p) => parts.push(p.expr.clone()),
                None => parts.push(literal(&text[start..end])),
            }
            at = end;
        }
        if at < text.len() {
            parts.push(literal(&text[at..]));
        }
        Some(Expr::concat(parts))
    }

    /// Reviewer-facing text with tokens rendered back to the template's tags.
    fn text(&self, text: &str) -> String {
        let tokens = find_tokens(text);
        if tokens.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end, index) in tokens {
            out.push_str(&text[at..start]);
            match self.placeholders.get(index) {
                Some(p) => out.push_str(&p.source),
                None => out.push_str(&text[start..end]),
            }
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }
}

/// A Python f-string `f"/x/${__tmpl_0}"` reads as `"/x/$" + {__tmpl_0}`: drop the stray `$`.
fn drop_dollar_before_placeholders(parts: &mut [Expr]) {
    for i in 1..parts.len() {
        let placeholder_next =
            matches!(&parts[i], Expr::Var { name, .. } if is_placeholder_name(name));
        if let (true, Expr::Lit { text }) = (placeholder_next, &mut parts[i - 1])
            && text.ends_with('$')
        {
            text.pop();
        }
    }
}

/// The placeholder tokens of a text (`${__tmpl_N}` and `__tmpl_N__`): start, end and index.
pub(crate) fn find_tokens(text: &str) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut search = 0;
    while let Some(found) = text[search..].find(TOKEN_PREFIX) {
        let start = search + found;
        let digits_start = start + TOKEN_PREFIX.len();
        let digits_len = text[digits_start..]
            .bytes()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let digits_end = digits_start + digits_len;
        search = digits_end.max(start + 1);
        let Ok(index) = text[digits_start..digits_end].parse::<usize>() else {
            continue;
        };
        let dollar =
            start >= 2 && &text[start - 2..start] == "${" && text[digits_end..].starts_with('}');
        if dollar {
            out.push((start - 2, digits_end + 1, index));
        } else if text[digits_end..].starts_with("__") {
            out.push((start, digits_end + 2, index));
            search = digits_end + 2;
        }
    }
    out
}

/// Converts bare tokens (`__tmpl_N__`, used in YAML) to shell variables (`${__tmpl_N}`), for
/// shell text embedded in a YAML template.
pub(crate) fn bare_tokens_to_shell(text: &str) -> std::borrow::Cow<'_, str> {
    let tokens = find_tokens(text);
    if tokens.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut at = 0;
    for (start, end, index) in tokens {
        out.push_str(&text[at..start]);
        out.push_str(&token(index, TokenStyle::Dollar));
        at = end;
    }
    out.push_str(&text[at..]);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests;
