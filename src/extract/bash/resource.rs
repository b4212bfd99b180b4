//! Secret managers and message brokers: `kind = "secret"` and `kind = "queue"` rows ->
//! [`RawResource::Secret`] and [`RawResource::Queue`] accesses.
//!
//! A row's uses are tried in order; the first whose verb (`LPUSH`, matched case-insensitively
//! after the options, as `redis-cli -h host LPUSH q x` has it) and options (`kcat -P`) match,
//! and whose name is present, applies. Names are read as the shell expands them, except where
//! the row says the broker matches them as a regular expression (`--whitelist 'orders\..*'`):
//! simple regular expressions become globs, others an unknown name. A literal JSON object as
//! the message body (`--message-body '{"id": 1, "region": null}'`) gives the message's
//! top-level fields, with `null` values marked nullable.

use super::Walker;
use super::command::{Parsed, parse_args};
use super::words::{Atom, Word};
use crate::expr::Expr;
use crate::extract::{FieldUse, QueueTarget, RawAccess, RawResource, Reach, SecretTarget};
use crate::model::Mode;
use crate::rules::models::bash::{
    ArgSelect, ArgSource, ArgSpec, FlagSet, ResourceModel, ResourceTarget, ResourceUse,
};

/// Most fields read from one message body.
const MAX_FIELDS: usize = 256;
/// Longest regular expression converted to a glob.
const MAX_REGEX: usize = 512;

impl Walker<'_> {
    pub(super) fn resource(&mut self, m: &ResourceModel, via: &str, args: &[Word], line: u32) {
        let parsed = parse_args(&m.syntax, args, &FlagSet::default());
        let operands: Vec<&Word> = parsed.operands.iter().map(|o| &o.word).collect();
        for use_ in &m.uses {
            if !use_.flags.is_empty() && !parsed.has(&use_.flags) {
                continue;
            }
            let Some((verb, rest)) = after_verb(&use_.verbs, &operands) else {
                continue;
            };
            let names = values(&use_.name, &parsed, rest);
            if names.is_empty() {
                continue;
            }
            let via = match verb {
                Some(verb) => format!("{via} {verb}"),
                None => via.to_string(),
            };
            self.resource_use(m, use_, &parsed, rest, names, line, &via);
            break;
        }
        for (flag, value) in &parsed.flags {
            let Some(value) = value else { continue };
            for rule in m.flag_values.iter().filter(|r| r.flags.contains(flag)) {
                let expr = if rule.keyed {
                    super::command::keyed_value(value).expr()
                } else {
                    value.expr()
                };
                let reach = if rule.reach == crate::rules::models::bash::ReachKind::Tree {
                    Reach::Tree
                } else {
                    Reach::Exact
                };
                self.emit(expr, rule.mode, reach, None, line, via.to_string());
            }
        }
    }

    #[allow(clippy::too_many_arguments)] // one call site; the parts are what a use needs
    fn resource_use(
        &mut self,
        m: &ResourceModel,
        use_: &ResourceUse,
        parsed: &Parsed,
        rest: &[&Word],
        names: Vec<(Word, NameSyntax)>,
        line: u32,
        via: &str,
    ) {
        let mode = self.polled(use_.mode);
        let resource = |name: Expr| -> Option<RawResource> {
            Some(match &m.target {
                ResourceTarget::Secret { provider } => RawResource::Secret(SecretTarget {
                    provider: provider.clone(),
                    id: name,
                }),
                ResourceTarget::Queue { broker } => RawResource::Queue(QueueTarget {
                    broker: *broker,
                    role: use_.role?,
                    name,
                    exchange: values(&use_.exchange, parsed, rest)
                        .first()
                        .map(|(w, _)| w.expr()),
                    bound_queue: values(&use_.bound_queue, parsed, rest)
                        .first()
                        .map(|(w, _)| w.expr()),
                    fields: if use_.mode == Mode::Publish {
                        body_fields(&use_.body, parsed, rest)
                    } else {
                        Vec::new()
                    },
                }),
            })
        };
        let resources: Vec<RawResource> = names
            .into_iter()
            .map(|(word, syntax)| match syntax {
                NameSyntax::Regex => regex_name(&word),
                NameSyntax::Glob => word.pattern(),
                NameSyntax::Plain => word.expr(),
            })
            .filter_map(resource)
            .collect();
        for resource in resources {
            self.facts.accesses.push(RawAccess {
                resource,
                mode,
                line,
                scope: self.scope,
                via: via.to_string().into(),
            });
        }
    }
}

/// The operands after the use's verb (and the verb as written), or all operands when the use
/// has none; `None` when a verb is required and absent.
fn after_verb<'o, 'w>(
    verbs: &[Vec<String>],
    operands: &'o [&'w Word],
) -> Option<(Option<String>, &'o [&'w Word])> {
    if verbs.is_empty() {
        return Some((None, operands));
    }
    for verb in verbs {
        let matches = verb.iter().enumerate().all(|(i, v)| {
            operands
                .get(i)
                .and_then(|w| w.lit())
                .is_some_and(|l| l.eq_ignore_ascii_case(v))
        });
        if matches {
            return Some((
                Some(verb.join(" ")),
                operands.get(verb.len()..).unwrap_or_default(),
            ));
        }
    }
    None
}

/// How the broker reads a name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NameSyntax {
    /// As the shell expands it.
    Plain,
    Regex,
    Glob,
}

/// The words the first spec that finds any, each with how the broker reads it.
fn values(specs: &[ArgSpec], parsed: &Parsed, rest: &[&Word]) -> Vec<(Word, NameSyntax)> {
    for spec in specs {
        let found = spec_words(spec, parsed, rest);
        let syntax = match (spec.regex, spec.glob) {
            (true, _) => NameSyntax::Regex,
            (_, true) => NameSyntax::Glob,
            _ => NameSyntax::Plain,
        };
        if !found.is_empty() {
            return found.into_iter().map(|w| (w, syntax)).collect();
        }
    }
    Vec::new()
}

fn spec_words(spec: &ArgSpec, parsed: &Parsed, rest: &[&Word]) -> Vec<Word> {
    let n = rest.len();
    let pick = |range: std::ops::Range<usize>| -> Vec<Word> {
        rest.get(range)
            .unwrap_or_default()
            .iter()
            .map(|w| (*w).clone())
            .collect()
    };
    let words = match &spec.source {
        ArgSource::Flags(flags) => parsed
            .flags
            .iter()
            .filter(|(f, _)| flags.contains(f))
            .filter_map(|(_, v)| v.clone())
            .collect(),
        ArgSource::Operands(select) => match select {
            ArgSelect::First => pick(0..n.min(1)),
            ArgSelect::Last => pick(n.saturating_sub(1)..n),
            ArgSelect::All => pick(0..n),
            ArgSelect::AllButLast => pick(0..n.saturating_sub(1)),
            ArgSelect::Rest => pick(n.min(1)..n),
        },
        ArgSource::Index(i) if spec.pairs => pick(i.saturating_sub(1).min(n)..n),
        ArgSource::Index(i) => pick(i.saturating_sub(1).min(n)..(*i).min(n)),
        ArgSource::Key(key) => rest
            .iter()
            .filter(|w| {
                w.leading_lit()
                    .strip_prefix(key.as_str())
                    .is_some_and(|r| r.starts_with('='))
            })
            .map(|w| w.slice_from(key.chars().count() + 1))
            .collect(),
        ArgSource::After(word) => rest
            .iter()
            .position(|w| w.lit().is_some_and(|l| l.eq_ignore_ascii_case(word)))
            .map(|i| pick(i + 1..(i + 2).min(n)))
            .unwrap_or_default(),
    };
    let words = words.into_iter().filter(|w| !w.is_empty());
    match spec.split {
        Some(c) => words
            .flat_map(|w| w.split_on(c))
            .filter(|w| !w.is_empty())
            .collect(),
        None => words.collect(),
    }
}

/// The fields of the message a publish sends, from the first body spec that finds a body.
fn body_fields(specs: &[ArgSpec], parsed: &Parsed, rest: &[&Word]) -> Vec<FieldUse> {
    for spec in specs {
        let words = spec_words(spec, parsed, rest);
        let Some(first) = words.first() else {
            continue;
        };
        if spec.pairs {
            return words
                .iter()
                .step_by(2)
                .filter_map(|w| w.lit().map(|name| (name, w.line)))
                .take(MAX_FIELDS)
                .map(|(name, line)| FieldUse {
                    name,
                    line,
                    nullable: false,
                    optional: false,
                })
                .collect();
        }
        return json_fields(first);
    }
    Vec::new()
}

/// Stands for an expansion inside a body's text.
const EXPANSION: char = '\u{1}';

/// The top-level keys of a JSON object written literally in a word (expansions in values are
/// tolerated: `'{"id": '"$ID"', "region": null}'`). Anything that is not an object gives none.
pub(super) fn json_fields(word: &Word) -> Vec<FieldUse> {
    let chars: Vec<char> = word
        .atoms
        .iter()
        .map(|a| match a {
            Atom::Char { c, .. } => *c,
            Atom::Expr(_) => EXPANSION,
        })
        .collect();
    let mut scanner = JsonScanner {
        chars: &chars,
        i: 0,
    };
    scanner.skip_ws();
    if !scanner.eat('{') {
        return Vec::new();
    }
    let mut fields = Vec::new();
    while fields.len() < MAX_FIELDS {
        scanner.skip_ws();
        if scanner.peek().is_none_or(|c| c == '}') {
            break;
        }
        let Some(key) = scanner.string() else { break };
        scanner.skip_ws();
        if !scanner.eat(':') {
            break;
        }
        scanner.skip_ws();
        let nullable = scanner.starts_with("null");
        if !scanner.skip_value() {
            break;
        }
        if !key.contains(EXPANSION) {
            fields.push(FieldUse {
                name: key,
                line: word.line,
                nullable,
                optional: false,
            });
        }
        scanner.skip_ws();
        if !scanner.eat(',') {
            break;
        }
    }
    fields
}

struct JsonScanner<'c> {
    chars: &'c [char],
    i: usize,
}

impl JsonScanner<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.i += 1;
        }
        found
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.i += 1;
        }
    }

    fn starts_with(&self, word: &str) -> bool {
        let end = self.i + word.chars().count();
        self.chars
            .get(self.i..end)
            .is_some_and(|s| s.iter().copied().eq(word.chars()))
            && self
                .chars
                .get(end)
                .is_none_or(|c| !c.is_ascii_alphanumeric())
    }

    /// A JSON string, unescaped loosely (the key's text is all that matters).
    fn string(&mut self) -> Option<String> {
        if !self.eat('"') {
            return None;
        }
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                '"' => return Some(out),
                '\\' => {
                    if let Some(next) = self.peek() {
                        out.push(next);
                        self.i += 1;
                    }
                }
                other => out.push(other),
            }
        }
        None
    }

    /// Skips one value up to the `,` or `}` that ends it; false when the text ends first.
    fn skip_value(&mut self) -> bool {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                '"' => {
                    if self.string().is_none() {
                        return false;
                    }
                    continue;
                }
                '{' | '[' => depth += 1,
                '}' | ']' if depth == 0 => return true,
                '}' | ']' => depth -= 1,
                ',' if depth == 0 => return true,
                _ => {}
            }
            self.i += 1;
        }
        false
    }
}

/// A name the broker matches as a regular expression: a glob when the expression is simple
/// (`orders\..*` -> `orders.*`, `(a|b)-events` -> `{a,b}-events`), else an unknown name.
fn regex_name(word: &Word) -> Expr {
    let Some(text) = word.lit() else {
        return word.expr();
    };
    regex_to_glob(&text).unwrap_or_else(|| Expr::hole(format!("regex {text}")))
}

/// Converts a simple regular expression to a glob expression; `None` for anything a glob
/// cannot say (quantified groups, repetitions of single characters, nested groups).
pub(super) fn regex_to_glob(regex: &str) -> Option<Expr> {
    if regex.len() > MAX_REGEX {
        return None;
    }
    let body = regex.strip_prefix('^').unwrap_or(regex);
    let body = match body.strip_suffix('$') {
        Some(b) if !b.ends_with('\\') => b,
        _ => body,
    };
    let alternatives = split_top_level(body)?;
    if alternatives.len() > 1 {
        let options = alternatives
            .iter()
            .map(|a| sequence_to_glob(a))
            .collect::<Option<Vec<_>>>()?;
        return Some(Expr::Alt { options });
    }
    sequence_to_glob(body)
}

/// Splits on `|` outside groups and classes; `None` on unbalanced parentheses.
fn split_top_level(text: &str) -> Option<Vec<String>> {
    let mut parts = vec![String::new()];
    let mut depth = 0i32;
    let mut chars = text.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let next = chars.next()?;
                let part = parts.last_mut()?;
                part.push('\\');
                part.push(next);
                continue;
            }
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            '|' if depth == 0 && !in_class => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        parts.last_mut()?.push(c);
    }
    (depth == 0 && !in_class).then_some(parts)
}

fn sequence_to_glob(text: &str) -> Option<Expr> {
    let chars: Vec<char> = text.chars().collect();
    let mut parts: Vec<Expr> = Vec::new();
    let mut glob = String::new();
    let is_quantifier = |c: Option<&char>| matches!(c, Some('*' | '+' | '?' | '{'));
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '.' => match chars.get(i + 1) {
                Some('*') => {
                    glob.push('*');
                    i += 2;
                }
                Some('+') => {
                    glob.push_str("?*");
                    i += 2;
                }
                next if is_quantifier(next) => return None,
                _ => {
                    glob.push('?');
                    i += 1;
                }
            },
            '\\' => {
                let escaped = *chars.get(i + 1)?;
                if escaped.is_ascii_alphanumeric() || matches!(escaped, '*' | '?' | '[' | ']') {
                    return None;
                }
                if is_quantifier(chars.get(i + 2)) {
                    return None;
                }
                glob.push(escaped);
                i += 2;
            }
            '[' => {
                let end =
                    (i + 1..chars.len()).find(|&k| chars.get(k) == Some(&']') && k > i + 1)?;
                if is_quantifier(chars.get(end + 1)) {
                    return None;
                }
                let class: String = chars.get(i..=end)?.iter().collect();
                glob.push_str(&class.replacen("[^", "[!", 1));
                i = end + 1;
            }
            '(' => {
                let end = (i + 1..chars.len()).find(|&k| chars.get(k) == Some(&')'))?;
                let inner: String = chars.get(i + 1..end)?.iter().collect();
                if inner.contains('(') || is_quantifier(chars.get(end + 1)) {
                    return None;
                }
                let inner = inner.strip_prefix("?:").unwrap_or(&inner);
                let options = inner
                    .split('|')
                    .map(sequence_to_glob)
                    .collect::<Option<Vec<_>>>()?;
                if !glob.is_empty() {
                    parts.push(Expr::glob(std::mem::take(&mut glob)));
                }
                parts.push(Expr::Alt { options });
                i = end + 1;
            }
            '*' | '+' | '?' | '{' | '}' | ')' | '^' | '$' | '|' => return None,
            other => {
                if is_quantifier(chars.get(i + 1)) {
                    return None;
                }
                glob.push(other);
                i += 1;
            }
        }
    }
    if !glob.is_empty() || parts.is_empty() {
        parts.push(Expr::glob(glob));
    }
    Some(Expr::concat(parts))
}
