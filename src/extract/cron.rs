//! Crontab extractor: a user or system crontab -> one [`ScopeKind::CronEntry`] scope and one
//! [`ScheduleFact`] per entry, with the entry's command analysed as shell in that scope.
//!
//! Input: the file's path (which decides between the user format `m h dom mon dow command` and
//! the system format with a user field, as in `/etc/crontab` and `/etc/cron.d/*`) and its text.
//! Output: `VAR=value` lines as bindings of the file scope, as `set` accesses of the
//! environment variable (configuration-like names only, at the line, in the file scope) and as
//! the environment of later entries; per entry the schedule as written, described in plain words, and the command's
//! accesses and run references (so `/opt/ops/bin/cleanup.sh` links the schedule to the script,
//! and an inline `find ... -delete` is an access on the crontab line).
//!
//! Invariants: a line that is not an entry, an assignment, a comment or blank is a warning and
//! the rest of the file is still read; the command ends at the first unescaped `%` (the rest is
//! the command's standard input) and `\%` is a literal `%`.

mod describe;

#[cfg(test)]
mod tests;

use crate::expr::Expr;
use crate::extract::{
    Binding, EnvTarget, ExtractWarning, FileFacts, RawAccess, RawResource, ScheduleFact, Scope,
    ScopeKind, bash,
};
use crate::model::Mode;
use crate::rules::models::Models;
use describe::{Field, Slot};

/// Users that, as the sixth field of a user crontab line followed by a command, are taken as
/// the user field of a system-format line.
const KNOWN_USERS: &[&str] = &[
    "root",
    "daemon",
    "nobody",
    "www-data",
    "postgres",
    "mysql",
    "redis",
    "ubuntu",
    "ec2-user",
    "centos",
    "admin",
    "deploy",
    "app",
    "ops",
    "jenkins",
    "nginx",
    "apache",
    "oracle",
    "hdfs",
    "hadoop",
    "airflow",
    "elasticsearch",
    "mongodb",
    "rabbitmq",
    "kafka",
    "syslog",
    "backup",
    "operator",
];

/// Extensions of files under `cron.d/` that are not crontabs (scripts, docs, data).
const NOT_CRONTAB_EXTENSIONS: &[&str] = &[
    "sh", "bash", "zsh", "ksh", "py", "pl", "rb", "md", "markdown", "rst", "txt", "json", "yml",
    "yaml", "toml", "ini", "html", "service", "timer",
];

/// Whether the path alone says the file is a crontab: `crontab`, `*.crontab`, `*.cron`, and
/// files under a `cron.d/` or `crontabs/` directory that are not scripts or documents.
pub fn looks_like_cron_path(path: &str) -> bool {
    let mut components: Vec<&str> = path.split(['/', '\\']).filter(|c| !c.is_empty()).collect();
    let Some(file) = components.pop() else {
        return false;
    };
    let lower = file.to_ascii_lowercase();
    if lower == "crontab" || lower.ends_with(".crontab") || lower.ends_with(".cron") {
        return true;
    }
    let in_cron_dir = components
        .iter()
        .any(|d| *d == "cron.d" || *d == "crontabs");
    in_cron_dir && !file.starts_with('.') && !has_other_extension(&lower)
}

fn has_other_extension(lower_name: &str) -> bool {
    lower_name
        .rsplit_once('.')
        .is_some_and(|(_, ext)| NOT_CRONTAB_EXTENSIONS.contains(&ext))
}

/// Whether a file without an extension in a `cron/` directory is a crontab by content: no
/// shebang, at least one entry, and nothing but entries, assignments, comments and blank lines
/// (so a shell script there is not claimed).
pub fn looks_like_crontab(path: &str, content: &[u8]) -> bool {
    let mut components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let Some(file) = components.pop() else {
        return false;
    };
    if file.contains('.') || !components.iter().any(|d| *d == "cron" || *d == "crontab") {
        return false;
    }
    let text = String::from_utf8_lossy(&content[..content.len().min(64 * 1024)]);
    if text.starts_with("#!") {
        return false;
    }
    let mut entries = 0;
    for line in text.lines().take(400) {
        match classify(line) {
            Line::Entry(_) => entries += 1,
            Line::Bad(_) => return false,
            Line::Blank | Line::Env(..) => {}
        }
    }
    entries > 0
}

/// One line of a crontab.
enum Line<'t> {
    Blank,
    Env(String, String),
    Entry(Entry<'t>),
    Bad(String),
}

/// The schedule of an entry and the rest of its line (user field and command).
struct Entry<'t> {
    expression: String,
    description: String,
    rest: &'t str,
}

fn classify(raw: &str) -> Line<'_> {
    let line = raw.trim_start_matches('\u{feff}').trim();
    if line.is_empty() || line.starts_with('#') {
        return Line::Blank;
    }
    if let Some((name, value)) = env_assignment(line) {
        return Line::Env(name, value);
    }
    if line.starts_with('@') {
        let (name, rest) = split_token(line);
        let Some(description) = describe::describe_macro(&name.to_ascii_lowercase()) else {
            return Line::Bad(format!("unknown schedule `{name}`"));
        };
        if rest.is_empty() {
            return Line::Bad("entry has no command".to_string());
        }
        return Line::Entry(Entry {
            expression: name.to_string(),
            description: description.to_string(),
            rest,
        });
    }
    let mut rest = line;
    let mut raw_fields = [""; 5];
    let mut fields = Vec::with_capacity(5);
    for (slot, raw_field) in Slot::ALL.into_iter().zip(raw_fields.iter_mut()) {
        let (token, after) = split_token(rest);
        if token.is_empty() {
            return Line::Bad("expected five time fields and a command".to_string());
        }
        let Some(field) = Field::parse(token, slot) else {
            return Line::Bad(format!("`{token}` is not a valid {} field", slot.name()));
        };
        *raw_field = token;
        fields.push(field);
        rest = after;
    }
    if rest.is_empty() {
        return Line::Bad("entry has no command".to_string());
    }
    let Ok(fields) = <[Field; 5]>::try_from(fields) else {
        return Line::Bad("expected five time fields and a command".to_string());
    };
    Line::Entry(Entry {
        expression: raw_fields.join(" "),
        description: describe::describe(&fields, &raw_fields),
        rest,
    })
}

/// Describes a schedule in plain words: five cron fields or an `@daily`-style macro (also used
/// for Kubernetes CronJobs, Ansible `cron` tasks and systemd calendars converted to cron).
/// `None` when the expression is not a valid schedule.
pub(crate) fn describe_schedule(expression: &str) -> Option<String> {
    let expression = expression.trim();
    if expression.starts_with('@') {
        return describe::describe_macro(&expression.to_ascii_lowercase()).map(str::to_string);
    }
    let raw: Vec<&str> = expression.split_whitespace().collect();
    let raw: [&str; 5] = raw.try_into().ok()?;
    let mut fields = Vec::with_capacity(5);
    for (slot, text) in Slot::ALL.into_iter().zip(raw) {
        fields.push(Field::parse(text, slot)?);
    }
    let fields: [Field; 5] = fields.try_into().ok()?;
    Some(describe::describe(&fields, &raw))
}

/// `NAME=value` / `NAME = "value"` (cron allows spaces around `=` and strips matching quotes).
fn env_assignment(line: &str) -> Option<(String, String)> {
    let (name, value) = line.split_once('=')?;
    let name = name.trim();
    if !super::formats::common::is_ascii_identifier(name) {
        return None;
    }
    Some((name.to_string(), unquote(value.trim()).to_string()))
}

fn unquote(value: &str) -> &str {
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

/// The first whitespace-separated token and the rest, trimmed.
fn split_token(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(i) => (&text[..i], text[i..].trim_start()),
        None => (text, ""),
    }
}

/// Whether the path is a system crontab, whose entries have a user field.
fn is_system_crontab(path: &str) -> bool {
    let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let n = components.len();
    let etc_crontab = n >= 2 && components[n - 1] == "crontab" && components[n - 2] == "etc";
    etc_crontab
        || components
            .iter()
            .take(n.saturating_sub(1))
            .any(|d| *d == "cron.d")
}

fn looks_like_user(token: &str) -> bool {
    let name = token.strip_suffix('$').unwrap_or(token);
    let mut chars = name.chars();
    !name.is_empty()
        && name.len() <= 32
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'))
}

/// Splits the user field off when the file is a system crontab, or when the sixth field is a
/// well-known user followed by a command.
fn split_user<'t>(rest: &'t str, system: bool, models: &Models) -> (Option<String>, &'t str) {
    let (first, after) = split_token(rest);
    if after.is_empty() || !looks_like_user(first) {
        return (None, rest);
    }
    let known = KNOWN_USERS.contains(&first) && models.bash.command(first).is_none();
    if system || known {
        (Some(first.to_string()), after)
    } else {
        (None, rest)
    }
}

/// The command up to the first unescaped `%`, with `\%` as `%`.
fn command_text(rest: &str) -> String {
    let mut out = String::with_capacity(rest.len());
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'%') => {
                out.push('%');
                chars.next();
            }
            '%' => break,
            _ => out.push(c),
        }
    }
    out.trim_end().to_string()
}

/// `A=1 B="x y" cmd ...` -> the leading assignments.
fn leading_assignments(command: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = command.trim_start();
    while let Some((word, after)) = shell_word(rest) {
        let Some((name, value)) = word.split_once('=') else {
            break;
        };
        if !super::formats::common::is_ascii_identifier(name) {
            break;
        }
        out.push((name.to_string(), value.to_string()));
        rest = after.trim_start();
    }
    out
}

/// One shell word with quotes removed, and the rest of the text.
fn shell_word(text: &str) -> Option<(String, &str)> {
    if text.is_empty() {
        return None;
    }
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => return Some((word, &text[i..])),
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (q, '\\') if q != Some('\'') => {
                if let Some((_, next)) = chars.next() {
                    word.push(next);
                }
            }
            (_, c) => word.push(c),
        }
    }
    Some((word, ""))
}

/// Extracts the entries of a crontab. Scope 0 is the file.
pub fn extract(path: &str, text: &str, models: &Models) -> FileFacts {
    let mut facts = FileFacts::new(path, ScopeKind::Script);
    let system = is_system_crontab(path);
    let mut env: Vec<(String, String)> = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        match classify(raw) {
            Line::Blank => {}
            Line::Bad(reason) => facts.warnings.push(ExtractWarning {
                line,
                message: format!("not a crontab entry: {reason}"),
            }),
            Line::Env(name, value) => {
                if bash::is_config_env(&name, models.bash.shell()) {
                    facts.accesses.push(RawAccess {
                        resource: RawResource::Env(EnvTarget {
                            name: Expr::lit(name.clone()),
                            value: Some(Expr::lit(value.clone())),
                        }),
                        mode: Mode::Set,
                        line,
                        scope: 0,
                        via: "crontab VAR=value".to_string().into(),
                    });
                }
                facts.bindings.push(Binding {
                    scope: 0,
                    name: name.clone().into(),
                    value: Expr::lit(value.clone()).into(),
                    line,
                });
                env.retain(|(n, _)| *n != name);
                env.push((name, value));
            }
            Line::Entry(entry) => add_entry(&mut facts, entry, line, system, &env, models),
        }
    }
    deployments(&mut facts);
    facts
}

/// Each entry as a deployment of the program it runs (see
/// [`crate::extract::formats::deploy`]): the command's options and arguments at the entry's
/// line, the `VAR=value` lines above it at theirs, the `/etc/cron.d` user; redirections are
/// left out. An entry of several commands (`a && b`, `a; b`, a pipe) is no one program. Entries
/// are named by their schedule (and rank among entries of that schedule), so that base and head
/// pair up when lines move.
fn deployments(facts: &mut FileFacts) {
    use crate::extract::formats::deploy::{self, DeploymentFact, Program, Setting, SettingKind};
    let mut out: Vec<DeploymentFact> = Vec::new();
    for schedule in &facts.schedules {
        let mut words: Vec<(String, u32)> = Vec::new();
        let mut several = false;
        let mut redirect_target = false;
        for word in crate::extract::formats::common::shell_words(&schedule.command)
            .into_iter()
            .take(deploy::MAX_WORDS)
        {
            if redirect_target {
                redirect_target = false;
                continue;
            }
            if matches!(word.as_str(), "&&" | "||" | ";" | "|" | "&") || word.ends_with(';') {
                several = true;
                break;
            }
            let redirect = word.trim_start_matches(|c: char| c.is_ascii_digit() || c == '&');
            if redirect.starts_with(['>', '<']) {
                redirect_target = matches!(redirect, ">" | ">>" | "<");
                continue;
            }
            words.push((word, schedule.line));
        }
        let (program, settings) = if several {
            (Program::Unknown, Vec::new())
        } else {
            deploy::command(&words)
        };
        if !matches!(program, Program::Known(_)) {
            continue;
        }
        let unit = format!("crontab entry `{}`", schedule.expression);
        let rank = out.iter().filter(|d| d.unit.starts_with(&unit)).count();
        let mut fact = DeploymentFact::new(
            match rank {
                0 => unit,
                n => format!("{unit} (#{})", n + 1),
            },
            "crontab entry",
            schedule.line,
            program.clone(),
        );
        for (name, value) in &schedule.env {
            let line = facts
                .bindings
                .iter()
                .filter(|b| b.scope == 0 && b.name == *name && b.line < schedule.line)
                .map(|b| b.line)
                .next_back()
                .unwrap_or(schedule.line);
            fact.push(Setting::new(SettingKind::Env, name, value, line));
        }
        for setting in settings {
            fact.push(setting);
        }
        if let Some(user) = &schedule.user {
            fact.push(Setting::new(SettingKind::User, "", user, schedule.line));
        }
        out.push(fact);
    }
    facts.deployments.extend(out);
}

fn add_entry(
    facts: &mut FileFacts,
    entry: Entry,
    line: u32,
    system: bool,
    env: &[(String, String)],
    models: &Models,
) {
    let (user, rest) = split_user(entry.rest, system, models);
    let command = command_text(rest);
    let job = facts.schedules.len();
    let scope = facts.push_scope(Scope {
        parent: Some(0),
        kind: ScopeKind::CronEntry,
        name: format!("cron:{line}").into(),
        class: None,
        job: Some(job),
        line,
    });
    let mut entry_env = env.to_vec();
    for (name, value) in leading_assignments(&command) {
        entry_env.retain(|(n, _)| *n != name);
        entry_env.push((name, value));
    }
    facts.schedules.push(ScheduleFact {
        line,
        expression: entry.expression,
        description: entry.description,
        user,
        command: command.clone(),
        env: entry_env,
        scope,
    });
    bash::extract_into(&command, facts, scope, line, models);
}
