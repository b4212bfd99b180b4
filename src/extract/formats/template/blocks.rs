//! Control tags read for the names they bind (see `locals.rs` for what a name stands for):
//!
//! - Jinja: `{% for x in ['a', 'b'] %}` (lists and tuples of literals, dicts of literals,
//!   `d.items()`, `d | dict2items`, a variable's list, `| sort`/`unique`/`list`/`reverse`,
//!   `if` conditions and `recursive` ignored), `{% for k, v in … %}`, `{% set x = … %}`,
//!   `{% with %}`, macro parameters (unknown), `{% if %}`/`{% elif %}`/`{% else %}`, `{% end… %}`;
//! - Go templates: `{{ range P }}` (the dot is an element), `{{ range $v := P }}`,
//!   `{{ range $i, $v := P }}`, `{{ with P }}`, `{{ $x := P }}`, `{{ $x = P }}`, `{{ end }}`;
//!   `P` is `.Values.a.b`, a variable, the dot, or `list "a" "b"` / `tuple`;
//! - ERB: `<% %w[a b].each do |x| %>`, `<% ['a', 'b'].each do |x| %>`, `<% @list.each do |x| %>`
//!   (also `each_with_index`, `each_pair`, brace blocks, `for x in …`), `<% x = 'lit' %>`,
//!   `if`/`unless`/`case`/`while` … `end`.
//!
//! Anything else a loop iterates is unknown, so its variable is a hole, never a guess.

use super::locals::{Block, Local, Locals, MAX_ELEMENTS, var};
use super::{At, MAX_EXPR_DEPTH, Syntax, dotted_name, go_words, split_top, translate};
use crate::expr::{Expr, ScopeId};

/// Filters and methods that keep the elements of a list (possibly reordered or fewer).
const KEEPS_ELEMENTS: &[&str] = &["sort", "unique", "list", "reverse", "sortAlpha", "uniq"];

/// What an unbound name stands for after a block that may have assigned it: the variable.
fn unbound(scope: ScopeId, line: u32) -> impl Fn(&str) -> Local {
    move |name: &str| {
        let name = name.trim_start_matches('@');
        Local::Value(var(name.to_string(), scope, line))
    }
}

fn is_ident(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Offset of `pattern` in `text` outside quotes and brackets.
fn find_top(text: &str, pattern: &str) -> Option<usize> {
    super::top_level(text)
        .find(|(i, _)| text[*i..].starts_with(pattern))
        .map(|(i, _)| i)
}

/// The offset of the last `.` outside quotes and brackets (a method call's dot).
fn last_top_dot(text: &str) -> Option<usize> {
    super::top_level(text)
        .filter(|(_, c)| *c == '.')
        .last()
        .map(|(i, _)| i)
}

/// A name the template bound, with fields: `q`, `q.name`, `q['name']`, Ruby's `@x`.
pub(super) fn local_path(head: &str, syntax: Syntax, locals: &Locals) -> Option<Local> {
    let head = head.trim();
    let (sigil, name) = match (syntax, head.strip_prefix('@')) {
        (Syntax::Erb, Some(rest)) => ("@", rest),
        _ => ("", head),
    };
    let dotted = dotted_name(name)?;
    let mut segments = dotted.split('.');
    let first = segments.next()?;
    let mut local = locals.get(&format!("{sigil}{first}"))?.clone();
    for field in segments {
        local = local.field(field);
    }
    Some(local)
}

/// A Go operand that the template bound: `$q`, `$q.name`, the dot `.` or `.name` inside a
/// `range`/`with`. `None` for the root's fields (`.Values.x`, `$.Values.x`) and unbound names.
pub(super) fn go_local_word(word: &str, locals: &Locals) -> Option<Local> {
    let (base, fields) = if let Some(rest) = word.strip_prefix('$') {
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        let base = locals.get(&word[..end + 1])?.clone();
        (base, &rest[end..])
    } else if word.starts_with('.') {
        (locals.dot()?.clone(), word)
    } else {
        return None;
    };
    if fields.is_empty() || fields == "." {
        return Some(base);
    }
    let dotted = dotted_name(fields.strip_prefix('.')?)?;
    Some(
        dotted
            .split('.')
            .fold(base, |local, field| local.field(field)),
    )
}

/// The value of an expression a loop iterates or an assignment stores: a literal list or dict,
/// a name (bound here or elsewhere), else the scalar expression.
pub(super) fn value_local(text: &str, syntax: Syntax, at: &At, depth: u32) -> Local {
    let text = text.trim();
    if depth > MAX_EXPR_DEPTH || text.is_empty() {
        return Local::Unknown;
    }
    let stages = split_top(text, '|');
    let Some((head, filters)) = stages.split_first() else {
        return Local::Unknown;
    };
    let head = head.trim();
    let (base, literal) = match collection(head, syntax, at, depth) {
        Some(local) => (local, true),
        None => match name_value(head, syntax, at) {
            Some(local) => (local, false),
            None => return Local::Value(translate(text, syntax, at, depth + 1)),
        },
    };
    let mut value = base;
    for filter in filters {
        let filter = filter.trim();
        let name = filter
            .split(|c: char| c == '(' || c.is_whitespace())
            .next()
            .unwrap_or("");
        value = match name {
            n if KEEPS_ELEMENTS.contains(&n) => value,
            "dict2items" => dict2items(&value),
            // `| default([])`: a list when the variable is unset.
            "default" | "d" if filter.contains("[]") => value,
            _ if literal => return Local::Unknown,
            _ => return Local::Value(translate(text, syntax, at, depth + 1)),
        };
    }
    value
}

/// A name: bound by the template (with its fields), else the variable (Ruby's `@x` is `x`).
fn name_value(head: &str, syntax: Syntax, at: &At) -> Option<Local> {
    if let Some(local) = local_path(head, syntax, at.locals) {
        return Some(local);
    }
    let name = match syntax {
        Syntax::Erb => head.trim_start_matches('@'),
        _ => head,
    };
    let dotted = dotted_name(name)?;
    Some(Local::Value(var(dotted, at.scope, at.line)))
}

/// `{'a': 1} | dict2items`: a list of `{key, value}` dicts.
fn dict2items(value: &Local) -> Local {
    match value {
        Local::Map(entries) => Local::List(
            entries
                .iter()
                .map(|(k, v)| {
                    Local::Map(vec![
                        ("key".to_string(), Local::Value(Expr::lit(k))),
                        ("value".to_string(), v.clone()),
                    ])
                })
                .collect(),
        ),
        _ => Local::Unknown,
    }
}

/// A literal list, tuple or dict (Jinja, Python or Ruby spelling), `%w[a b]`, or a dict's
/// `items()`/`keys()`/`values()`; `None` when the text is not one.
fn collection(head: &str, syntax: Syntax, at: &At, depth: u32) -> Option<Local> {
    let head = head.trim();
    // Ruby's word and symbol arrays.
    for prefix in ["%w", "%W", "%i", "%I"] {
        if let Some(rest) = head.strip_prefix(prefix) {
            let (open, close) = match rest.chars().next()? {
                '[' => ('[', ']'),
                '(' => ('(', ')'),
                '{' => ('{', '}'),
                _ => return None,
            };
            let inner = rest.strip_prefix(open)?.strip_suffix(close)?;
            let words: Vec<&str> = inner.split_whitespace().collect();
            if words.len() > MAX_ELEMENTS {
                return Some(Local::Unknown);
            }
            return Some(Local::List(
                words
                    .into_iter()
                    .map(|w| Local::Value(Expr::lit(w)))
                    .collect(),
            ));
        }
    }
    if let Some(inner) = head.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return Some(list_items(inner, syntax, at, depth));
    }
    if let Some(inner) = head.strip_prefix('(').and_then(|h| h.strip_suffix(')')) {
        if find_top(inner, ",").is_some() {
            return Some(list_items(inner, syntax, at, depth));
        }
        return collection(inner, syntax, at, depth + 1);
    }
    if let Some(inner) = head.strip_prefix('{').and_then(|h| h.strip_suffix('}')) {
        return Some(dict_entries(inner, syntax, at, depth));
    }
    for (method, part) in [(".items()", 0), (".keys()", 1), (".values()", 2)] {
        let Some(owner) = head.strip_suffix(method) else {
            continue;
        };
        let owner = collection(owner, syntax, at, depth + 1)
            .or_else(|| name_value(owner, syntax, at))
            .unwrap_or(Local::Unknown);
        let Local::Map(entries) = owner else {
            return Some(Local::Unknown);
        };
        return Some(Local::List(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let key = Local::Value(Expr::lit(k));
                    match part {
                        0 => Local::List(vec![key, v]),
                        1 => key,
                        _ => v,
                    }
                })
                .collect(),
        ));
    }
    None
}

fn list_items(inner: &str, syntax: Syntax, at: &At, depth: u32) -> Local {
    let items: Vec<&str> = split_top(inner, ',')
        .into_iter()
        .filter(|i| !i.trim().is_empty())
        .collect();
    if items.len() > MAX_ELEMENTS {
        return Local::Unknown;
    }
    Local::List(
        items
            .into_iter()
            .map(|i| value_local(i, syntax, at, depth + 1))
            .collect(),
    )
}

fn dict_entries(inner: &str, syntax: Syntax, at: &At, depth: u32) -> Local {
    let entries: Vec<&str> = split_top(inner, ',')
        .into_iter()
        .filter(|i| !i.trim().is_empty())
        .collect();
    if entries.len() > MAX_ELEMENTS {
        return Local::Unknown;
    }
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.trim();
        let (key, value) = match find_top(entry, "=>") {
            Some(split) => (&entry[..split], &entry[split + 2..]),
            None => match find_top(entry, ":") {
                Some(split) => (&entry[..split], &entry[split + 1..]),
                None => return Local::Unknown,
            },
        };
        let key = key.trim();
        let key = match key.chars().next() {
            Some('"' | '\'') => {
                let unquoted = super::super::common::unquote(key);
                if unquoted == key {
                    return Local::Unknown;
                }
                unquoted
            }
            // Ruby symbols: `name: 'a'`, `:name => 'a'`.
            _ if syntax == Syntax::Erb && is_ident(key.trim_start_matches(':')) => {
                key.trim_start_matches(':')
            }
            _ => return Local::Unknown,
        };
        out.push((key.to_string(), value_local(value, syntax, at, depth + 1)));
    }
    Local::Map(out)
}

/// Binds the names of a loop: one target is the element; two are a pair's parts (`k, v` of
/// `items()`, of a list of pairs, or of a Ruby hash).
fn loop_targets(targets: &[&str], source: &Local, map_values: bool) -> Vec<(String, Local)> {
    let element = source.element(map_values);
    match targets {
        [one] => vec![(one.to_string(), element)],
        [first, second] => {
            let (a, b) = match (&element, source) {
                // A Ruby hash (`h.each do |k, v|`), a Go map (`range $k, $v := .m`).
                (_, Local::Map(entries)) => (
                    Local::Element(
                        entries
                            .iter()
                            .map(|(k, _)| Local::Value(Expr::lit(k)))
                            .collect(),
                    ),
                    Local::Element(entries.iter().map(|(_, v)| v.clone()).collect()),
                ),
                (Local::Element(items), _) => {
                    let mut firsts = Vec::new();
                    let mut seconds = Vec::new();
                    for item in items {
                        match item {
                            Local::List(pair) if pair.len() == 2 => {
                                firsts.push(pair[0].clone());
                                seconds.push(pair[1].clone());
                            }
                            _ => return unknowns(targets),
                        }
                    }
                    (Local::Element(firsts), Local::Element(seconds))
                }
                _ => return unknowns(targets),
            };
            vec![(first.to_string(), a), (second.to_string(), b)]
        }
        _ => unknowns(targets),
    }
}

fn unknowns(targets: &[&str]) -> Vec<(String, Local)> {
    targets
        .iter()
        .map(|t| (t.to_string(), Local::Unknown))
        .collect()
}

/// A Jinja statement tag's body (`for …`, `set …`, `if …`, `endfor`).
pub(super) fn jinja_statement(body: &str, scope: ScopeId, line: u32, locals: &mut Locals) {
    let (keyword, rest) = body
        .split_once(char::is_whitespace)
        .map_or((body, ""), |(k, r)| (k, r.trim()));
    match keyword {
        "for" => {
            let names = {
                let at = At {
                    scope,
                    line,
                    locals,
                };
                jinja_for(rest, &at)
            };
            locals.open(Block::Scope, names, None);
        }
        "if" => locals.open(Block::Branch, Vec::new(), None),
        "elif" => locals.branch(false),
        "else" => locals.branch(true),
        "set" => match rest.split_once('=') {
            Some((target, value)) => {
                let value = {
                    let at = At {
                        scope,
                        line,
                        locals,
                    };
                    value_local(value, Syntax::Jinja, &at, 0)
                };
                let target = target.trim();
                if is_ident(target) {
                    locals.assign(target, value);
                } else {
                    // `{% set a, b = … %}`, `{% set ns.x = … %}`: not followed.
                    for name in target.split(',').map(str::trim).filter(|n| is_ident(n)) {
                        locals.assign(name, Local::Unknown);
                    }
                }
            }
            // `{% set x %}…{% endset %}`: a captured block, not followed.
            None => {
                if is_ident(rest) {
                    locals.assign(rest, Local::Unknown);
                }
                locals.open(Block::Scope, Vec::new(), None);
            }
        },
        "with" => {
            let names = {
                let at = At {
                    scope,
                    line,
                    locals,
                };
                split_top(rest, ',')
                    .into_iter()
                    .filter_map(|a| a.split_once('='))
                    .map(|(n, v)| (n.trim().to_string(), value_local(v, Syntax::Jinja, &at, 0)))
                    .collect()
            };
            locals.open(Block::Scope, names, None);
        }
        // A macro's parameters are whatever its callers pass: unknown.
        "macro" | "call" => {
            let params = rest
                .find('(')
                .and_then(|open| Some((open, rest[open..].find(')')? + open)))
                .map(|(open, close)| &rest[open + 1..close])
                .unwrap_or("");
            let names = split_top(params, ',')
                .into_iter()
                .map(|p| p.split('=').next().unwrap_or("").trim())
                .filter(|p| is_ident(p))
                .map(|p| (p.to_string(), Local::Unknown))
                .collect();
            locals.open(Block::Scope, names, None);
        }
        "filter" | "block" | "autoescape" => locals.open(Block::Scope, Vec::new(), None),
        k if k.starts_with("end") => locals.close(unbound(scope, line)),
        _ => {}
    }
}

/// `x in ['a', 'b']`, `k, v in d.items() if v`, `x in xs | sort recursive`: the loop's names.
fn jinja_for(rest: &str, at: &At) -> Vec<(String, Local)> {
    let Some(split) = find_top(rest, " in ") else {
        return Vec::new();
    };
    let targets_text = rest[..split].trim();
    let targets_text = targets_text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(targets_text);
    let targets: Vec<&str> = targets_text.split(',').map(str::trim).collect();
    let mut iterable = rest[split + 4..].trim();
    iterable = iterable
        .strip_suffix(" recursive")
        .unwrap_or(iterable)
        .trim();
    if let Some(condition) = find_top(iterable, " if ") {
        iterable = iterable[..condition].trim();
    }
    let mut names = vec![("loop".to_string(), Local::Unknown)];
    if !targets.iter().all(|t| is_ident(t)) {
        return names;
    }
    let source = value_local(iterable, Syntax::Jinja, at, 0);
    names.extend(loop_targets(&targets, &source, false));
    names
}

/// A Go control action's body (`range …`, `with …`, `if …`, `else`, `end`).
pub(super) fn go_control(body: &str, scope: ScopeId, line: u32, locals: &mut Locals) {
    let (keyword, rest) = body
        .split_once(char::is_whitespace)
        .map_or((body, ""), |(k, r)| (k, r.trim()));
    match keyword {
        "range" | "with" => {
            let (targets, pipe) = match find_top(rest, ":=").or_else(|| find_top(rest, " = ")) {
                Some(split) => {
                    let width = if rest[split..].starts_with(":=") {
                        2
                    } else {
                        3
                    };
                    let targets: Vec<&str> = rest[..split].split(',').map(str::trim).collect();
                    (targets, rest[split + width..].trim())
                }
                None => (Vec::new(), rest),
            };
            let source = {
                let at = At {
                    scope,
                    line,
                    locals,
                };
                go_value(pipe, &at)
            };
            let valid = targets
                .iter()
                .all(|t| t.strip_prefix('$').is_some_and(is_ident));
            if keyword == "with" {
                let names = match (valid, targets.as_slice()) {
                    (true, [one]) => vec![(one.to_string(), source.clone())],
                    _ => unknowns(&targets),
                };
                locals.open(Block::Scope, names, Some(source));
                return;
            }
            let element = source.element(true);
            let names = match (valid, targets.as_slice()) {
                (_, []) => Vec::new(),
                (true, [one]) => vec![(one.to_string(), element.clone())],
                // `range $i, $q := …`: the index (or key) is not followed.
                (true, [index, value]) => vec![
                    (index.to_string(), key_of(&source)),
                    (value.to_string(), element.clone()),
                ],
                _ => unknowns(&targets),
            };
            locals.open(Block::Scope, names, Some(element));
        }
        "if" | "define" | "block" => locals.open(Block::Scope, Vec::new(), None),
        "else" => locals.branch(rest.is_empty()),
        "end" => locals.close(|_| Local::Unknown),
        _ => {}
    }
}

/// The key a `range $k, $v := m` binds: a literal dict's keys, else unknown.
fn key_of(source: &Local) -> Local {
    match source {
        Local::Map(entries) => Local::Element(
            entries
                .iter()
                .map(|(k, _)| Local::Value(Expr::lit(k)))
                .collect(),
        ),
        _ => Local::Unknown,
    }
}

/// `$x := P` / `$x = P`; false when the action is not an assignment.
pub(super) fn go_assignment(body: &str, scope: ScopeId, line: u32, locals: &mut Locals) -> bool {
    let Some(rest) = body.strip_prefix('$') else {
        return false;
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    if end == 0 {
        return false;
    }
    let name = &body[..end + 1];
    let after = rest[end..].trim_start();
    let (declare, pipe) = if let Some(pipe) = after.strip_prefix(":=") {
        (true, pipe)
    } else if let Some(pipe) = after.strip_prefix('=').filter(|p| !p.starts_with('=')) {
        (false, pipe)
    } else {
        return false;
    };
    let value = {
        let at = At {
            scope,
            line,
            locals,
        };
        go_value(pipe, &at)
    };
    if declare {
        locals.declare(name, value);
    } else {
        locals.assign(name, value);
    }
    true
}

/// A Go pipeline's value: `list "a" "b"` / `tuple`, a name or field, else the scalar it
/// renders (`printf "%s-log" .Values.a`).
fn go_value(pipe: &str, at: &At) -> Local {
    let stages = split_top(pipe, '|');
    let Some((head, filters)) = stages.split_first() else {
        return Local::Unknown;
    };
    if !filters.iter().all(|f| KEEPS_ELEMENTS.contains(&f.trim())) {
        return Local::Value(translate(pipe, Syntax::Go, at, 0));
    }
    let head = head.trim();
    let head = head
        .strip_prefix('(')
        .and_then(|h| h.strip_suffix(')'))
        .unwrap_or(head);
    let words = go_words(head);
    match words.first().map(String::as_str) {
        Some("list" | "tuple") => {
            if words.len() > MAX_ELEMENTS + 1 {
                return Local::Unknown;
            }
            Local::List(
                words[1..]
                    .iter()
                    .map(|w| Local::Value(translate(w, Syntax::Go, at, 1)))
                    .collect(),
            )
        }
        Some(word) if words.len() == 1 => match go_local_word(word, at.locals) {
            Some(local) => local,
            None => Local::Value(translate(word, Syntax::Go, at, 1)),
        },
        _ => Local::Value(translate(head, Syntax::Go, at, 1)),
    }
}

/// The code of an ERB `<% %>` tag: its statements, one per line or `;`.
pub(super) fn erb_code(code: &str, scope: ScopeId, line: u32, locals: &mut Locals) {
    let code = super::trim_markers(code);
    for statement in code.lines().flat_map(|l| split_top(l, ';')) {
        ruby_statement(statement.trim(), scope, line, locals);
    }
}

fn ruby_statement(statement: &str, scope: ScopeId, line: u32, locals: &mut Locals) {
    let keyword = statement.split_whitespace().next().unwrap_or("");
    match keyword {
        "end" | "}" => return locals.close(unbound(scope, line)),
        "else" => return locals.branch(true),
        "elsif" | "when" | "in" | "rescue" | "ensure" => return locals.branch(false),
        "if" | "unless" | "case" | "while" | "until" | "begin" => {
            return locals.open(Block::Branch, Vec::new(), None);
        }
        _ => {}
    }
    if let Some(rest) = statement.strip_prefix("for ") {
        let rest = rest.trim().strip_suffix(" do").unwrap_or(rest.trim());
        let names = match find_top(rest, " in ") {
            Some(split) => {
                let targets: Vec<&str> = rest[..split].split(',').map(str::trim).collect();
                let at = At {
                    scope,
                    line,
                    locals,
                };
                let source = ruby_receiver(&rest[split + 4..], &at);
                if targets.iter().all(|t| is_ident(t)) {
                    loop_targets(&targets, &source, false)
                } else {
                    Vec::new()
                }
            }
            None => Vec::new(),
        };
        return locals.open(Block::Scope, names, None);
    }
    if let Some((head, params)) = ruby_block(statement) {
        let names = {
            let at = At {
                scope,
                line,
                locals,
            };
            ruby_block_names(head, &params, &at)
        };
        return locals.open(Block::Scope, names, None);
    }
    // `x = 'a'`, `@dir = …`; `x += …`, `x ||= …` are not followed.
    let Some(split) = find_top(statement, "=") else {
        return;
    };
    let target = statement[..split].trim();
    let value = &statement[split + 1..];
    if value.starts_with(['=', '~']) {
        return;
    }
    let (target, compound) = match target.strip_suffix(['+', '-', '|', '&', '*', '/', '<']) {
        Some(t) => (t.trim_end_matches(['|', '&', '*', '<']).trim(), true),
        None => (target, false),
    };
    if !is_ident(target.strip_prefix('@').unwrap_or(target)) {
        return;
    }
    let value = if compound {
        Local::Unknown
    } else {
        let at = At {
            scope,
            line,
            locals,
        };
        value_local(value, Syntax::Erb, &at, 0)
    };
    locals.assign(target, value);
}

/// `recv.each do |x|`, `recv.each { |k, v|`, `3.times do`: the call before the block and the
/// block's parameters; `None` when the statement opens no block.
fn ruby_block(statement: &str) -> Option<(&str, Vec<&str>)> {
    let (before, params) = match statement.strip_suffix('|') {
        Some(inner) => {
            let open = inner.rfind('|')?;
            let params: Vec<&str> = inner[open + 1..].split(',').map(str::trim).collect();
            (inner[..open].trim_end(), params)
        }
        None => (statement, Vec::new()),
    };
    let head = before
        .strip_suffix(" do")
        .or_else(|| before.strip_suffix('{'))?;
    Some((head.trim(), params))
}

fn ruby_block_names(head: &str, params: &[&str], at: &At) -> Vec<(String, Local)> {
    if params.is_empty() {
        return Vec::new();
    }
    if !params.iter().all(|p| is_ident(p)) {
        return unknowns(params);
    }
    let Some(dot) = last_top_dot(head) else {
        return unknowns(params);
    };
    let method = head[dot + 1..].split('(').next().unwrap_or("").trim();
    let receiver = ruby_receiver(&head[..dot], at);
    match (method, params) {
        ("each" | "each_entry" | "each_pair", [_, _]) => loop_targets(params, &receiver, true),
        // A hash's `each` gives pairs: its single parameter is a pair, not followed.
        ("each" | "each_entry", [_]) if matches!(receiver, Local::Map(_)) => unknowns(params),
        ("each" | "each_entry", [_]) => loop_targets(params, &receiver, false),
        ("each_with_index", [value, index]) => vec![
            (value.to_string(), receiver.element(false)),
            (index.to_string(), Local::Unknown),
        ],
        _ => unknowns(params),
    }
}

/// The receiver of a Ruby loop, without methods that keep its elements (`.sort`, `.uniq`).
fn ruby_receiver(text: &str, at: &At) -> Local {
    let mut text = text.trim();
    for _ in 0..8 {
        let Some(dot) = last_top_dot(text) else {
            break;
        };
        let method = text[dot + 1..].trim().trim_end_matches("()");
        if matches!(method, "sort" | "uniq" | "compact" | "reverse" | "to_a") {
            text = text[..dot].trim();
        } else {
            break;
        }
    }
    value_local(text, Syntax::Erb, at, 0)
}
