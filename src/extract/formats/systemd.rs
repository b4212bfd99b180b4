//! systemd units -> facts: `.service` commands and environment, `.timer` schedules, `.path`
//! watches.
//!
//! Input: a unit file (`cleanup.service`, `cleanup.timer`, `spool.path`, `app.socket`) in any
//! directory, or a drop-in (`cleanup.timer.d/override.conf`) read as the unit it amends. Output:
//! - `.service`: each `ExecStart=`/`ExecStartPre=`/`ExecStop=`/`ExecReload=`/... command
//!   analysed as shell in a child scope named after its key (prefixes `-@:+!` stripped, `@`'s
//!   argv[0] dropped, specifiers such as `%h` expanded), relative paths resolved against
//!   `WorkingDirectory=` (as if `cd`); `Environment=` as `Env` sets with values (and bindings
//!   in the file scope, so `$VAR` in the commands resolves); `EnvironmentFile=` as a read and
//!   an environment-file binding (see [`super::ENV_FILE_PREFIX`]); `LoadCredential=` as a
//!   read; `StandardOutput=append:` as appends; `StateDirectory=` and friends as directory
//!   creations; `ExecReload=/bin/kill -HUP $MAINPID` as a
//!   [`TriggerKind::Signal`] of the service (it can be told to reload).
//! - `.timer`: one [`ScheduleFact`] for all of `OnCalendar=`/`OnBootSec=`/`OnUnitActiveSec=`...,
//!   each as written and described in plain words, in a [`ScopeKind::CronEntry`] scope holding
//!   a [`RunTarget::Unit`] that names the unit it starts (`Unit=`, default: the same name with
//!   `.service`).
//! - `.path`: per `PathExists=`/`PathChanged=`/... a [`TriggerKind::WatchFile`] and a `check`
//!   access, in a scope holding a [`RunTarget::Unit`] for the service it activates.
//!
//! Invariants: a line that is not a section, an assignment or a comment is a warning (at most
//! [`MAX_WARNINGS`]) and the rest of the file is still read; `\` continuations keep the lines
//! of each word.

use super::common::{self, line_of, path_access, push_scope, set_env};
use crate::expr::{Expr, ScopeId};
use crate::extract::{
    ExtractWarning, FileFacts, Reach, RunRef, RunTarget, ScheduleFact, ScopeKind, TriggerFact,
    TriggerKind, cron,
};
use crate::model::Mode;
use crate::rules::models::Models;

const MAX_WARNINGS: usize = 20;

/// The unit types whose files are read.
const UNIT_TYPES: &[&str] = &["service", "timer", "socket", "path"];

/// Keys whose value is a command line.
const EXEC_KEYS: &[&str] = &[
    "ExecStart",
    "ExecStartPre",
    "ExecStartPost",
    "ExecCondition",
    "ExecReload",
    "ExecStop",
    "ExecStopPost",
];

/// Keys of a timer that make it elapse.
const TIMER_KEYS: &[&str] = &[
    "OnCalendar",
    "OnBootSec",
    "OnStartupSec",
    "OnActiveSec",
    "OnUnitActiveSec",
    "OnUnitInactiveSec",
];

/// Keys of a path unit that watch a path.
const PATH_KEYS: &[&str] = &[
    "PathExists",
    "PathExistsGlob",
    "PathChanged",
    "PathModified",
    "DirectoryNotEmpty",
];

/// `StateDirectory=x` creates `/var/lib/x`, and so on.
const DIRECTORY_KEYS: &[(&str, &str)] = &[
    ("StateDirectory", "/var/lib"),
    ("CacheDirectory", "/var/cache"),
    ("LogsDirectory", "/var/log"),
    ("RuntimeDirectory", "/run"),
    ("ConfigurationDirectory", "/etc"),
];

/// Whether a file is a unit: `.service`/`.timer` by name; `.socket`/`.path` (common words as
/// extensions) only with a systemd section in the content.
pub(crate) fn is_unit_path(lower_name: &str, content: &[u8]) -> bool {
    let Some((_, ext)) = lower_name.rsplit_once('.') else {
        return false;
    };
    match ext {
        // A SysV init script named `x.service` is a script, and an Avahi service definition
        // (`/etc/avahi/services/x.service`) is XML: neither is a unit.
        "service" | "timer" => !content.starts_with(b"#!") && !is_markup(content),
        "socket" | "path" => {
            let head = String::from_utf8_lossy(&content[..content.len().min(16 * 1024)]);
            ["[Unit]", "[Socket]", "[Path]", "[Install]"]
                .iter()
                .any(|s| head.contains(s))
        }
        _ => false,
    }
}

/// Whether the text starts (after blank space) with markup: `<?xml`, `<!DOCTYPE`, `<service-group>`.
fn is_markup(content: &[u8]) -> bool {
    content
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'<')
}

/// A drop-in (`cleanup.service.d/override.conf`) amends the unit its directory names.
pub(crate) fn is_drop_in(ext: Option<&str>, dirs: &[&str]) -> bool {
    ext == Some("conf")
        && dirs.first().is_some_and(|d| {
            d.strip_suffix(".d")
                .and_then(|unit| unit.rsplit_once('.'))
                .is_some_and(|(_, kind)| UNIT_TYPES.contains(&kind))
        })
}

/// One `Key=value` assignment: the section it is in, and the line it starts on. A value
/// continued with `\` keeps its newlines.
#[derive(Debug)]
struct Entry {
    section: String,
    key: String,
    value: String,
    line: u32,
}

/// Parses the file into entries, warning about lines that are none of the unit syntax.
fn parse(text: &str, warnings: &mut Vec<ExtractWarning>) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut section = String::new();
    let mut lines = text.split('\n').enumerate();
    while let Some((index, raw)) = lines.next() {
        let line = line_of(index);
        let trimmed = raw.trim_start_matches('\u{feff}').trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            section = trimmed[1..trimmed.len() - 1].trim().to_string();
            continue;
        }
        let Some((key, value)) = trimmed.split_once('=') else {
            if warnings.len() < MAX_WARNINGS {
                warnings.push(ExtractWarning {
                    line,
                    message: "not a unit file line (expected `[Section]` or `Key=value`)"
                        .to_string(),
                });
            }
            continue;
        };
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            if warnings.len() < MAX_WARNINGS {
                warnings.push(ExtractWarning {
                    line,
                    message: format!("`{key}` is not a unit file key"),
                });
            }
            continue;
        }
        let mut value = value.trim().to_string();
        while value.ends_with('\\') {
            let Some((_, next)) = lines.next() else { break };
            value.push('\n');
            value.push_str(next);
        }
        entries.push(Entry {
            section: section.clone(),
            key: key.to_string(),
            value,
            line,
        });
    }
    entries
}

/// Extracts the facts of a unit file.
pub fn extract(path: &str, text: &str, models: &Models) -> FileFacts {
    let mut facts = FileFacts::new(path, ScopeKind::Script);
    let mut warnings = Vec::new();
    let entries = parse(text, &mut warnings);
    facts.warnings = warnings;
    let unit = Unit::new(path);
    let working_dir = entries
        .iter()
        .rfind(|e| e.key == "WorkingDirectory")
        .map(|e| unit.expand(e.value.trim_start_matches('-')))
        .map(|d| if d == "~" { "${HOME}".to_string() } else { d });
    for entry in &entries {
        service_entry(&mut facts, &unit, entry, working_dir.as_deref(), models);
    }
    if let Some(deployment) = deployment(&unit, &entries) {
        facts.deployments.push(deployment);
    }
    match unit.kind.as_str() {
        "timer" => timer(&mut facts, &unit, &entries),
        "path" => path_unit(&mut facts, &unit, &entries),
        _ => {}
    }
    facts
}

/// The unit's name and type, for specifiers and default targets.
struct Unit {
    name: String,
    kind: String,
}

impl Unit {
    fn new(path: &str) -> Unit {
        let mut components = path.rsplit('/');
        let file = components.next().unwrap_or(path);
        // A drop-in's unit is its directory's name without `.d`.
        let name = components
            .next()
            .and_then(|dir| dir.strip_suffix(".d"))
            .filter(|_| file.ends_with(".conf"))
            .unwrap_or(file)
            .to_string();
        let kind = name
            .rsplit_once('.')
            .map(|(_, k)| k.to_ascii_lowercase())
            .filter(|k| UNIT_TYPES.contains(&k.as_str()))
            .unwrap_or_default();
        Unit { name, kind }
    }

    fn stem(&self) -> &str {
        self.name
            .rsplit_once('.')
            .map(|(stem, _)| stem)
            .unwrap_or(&self.name)
    }

    /// The unit a timer or path unit starts when it names none: the same name as a service.
    fn default_target(&self) -> String {
        format!("{}.service", self.stem())
    }

    /// Expands the specifiers that stand for well-known directories and names.
    fn expand(&self, value: &str) -> String {
        let mut out = String::with_capacity(value.len());
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let Some(spec) = chars.next() else {
                out.push('%');
                break;
            };
            let prefix = self.stem().split('@').next().unwrap_or(self.stem());
            let replacement = match spec {
                '%' => "%",
                'h' => "${HOME}",
                'i' | 'I' | 'j' | 'J' => "${SYSTEMD_INSTANCE}",
                'n' => self.name.as_str(),
                'N' => self.stem(),
                'p' | 'P' => prefix,
                't' => "/run",
                'S' => "/var/lib",
                'C' => "/var/cache",
                'L' => "/var/log",
                'E' => "/etc",
                'T' => "/tmp",
                'V' => "/var/tmp",
                other => {
                    out.push('%');
                    out.push(other);
                    continue;
                }
            };
            out.push_str(replacement);
        }
        out
    }
}

/// One entry of a `[Service]` (or any section's exec/environment keys, which sockets share).
fn service_entry(
    facts: &mut FileFacts,
    unit: &Unit,
    entry: &Entry,
    working_dir: Option<&str>,
    models: &Models,
) {
    let key = entry.key.as_str();
    let via = format!("systemd {key}");
    let value = unit.expand(&entry.value);
    if EXEC_KEYS.contains(&key) {
        return exec(facts, key, &value, entry.line, working_dir, models);
    }
    match key {
        "Environment" => {
            for word in systemd_words(&value) {
                if let Some((name, v)) = word.split_once('=') {
                    set_env(facts, 0, name, Some(Expr::lit(v)), entry.line, &via);
                }
            }
        }
        "EnvironmentFile" => {
            let file = value.trim().trim_start_matches('-');
            if !file.is_empty() {
                facts.bindings.push(crate::extract::Binding {
                    scope: 0,
                    name: format!("{}{file}", crate::extract::formats::ENV_FILE_PREFIX).into(),
                    value: Expr::lit(file).into(),
                    line: entry.line,
                });
                path_access(
                    facts,
                    0,
                    Expr::lit(file),
                    Mode::Read,
                    Reach::Exact,
                    entry.line,
                    &via,
                );
            }
        }
        "LoadCredential" | "LoadCredentialEncrypted" => {
            if let Some((_, file)) = value.split_once(':')
                && file.starts_with('/')
            {
                path_access(
                    facts,
                    0,
                    Expr::lit(file.trim()),
                    Mode::Read,
                    Reach::Exact,
                    entry.line,
                    &via,
                );
            }
        }
        "StandardOutput" | "StandardError" => {
            let modes = [
                ("append:", Mode::Append),
                ("file:", Mode::Write),
                ("truncate:", Mode::Write),
            ];
            for (prefix, mode) in modes {
                if let Some(file) = value.trim().strip_prefix(prefix) {
                    path_access(
                        facts,
                        0,
                        Expr::lit(file),
                        mode,
                        Reach::Exact,
                        entry.line,
                        &via,
                    );
                }
            }
        }
        "PIDFile" => {
            path_access(
                facts,
                0,
                Expr::lit(value.trim()),
                Mode::Write,
                Reach::Exact,
                entry.line,
                &via,
            );
        }
        "ConditionPathExists"
        | "AssertPathExists"
        | "ConditionPathIsDirectory"
        | "ConditionFileNotEmpty"
        | "ConditionDirectoryNotEmpty" => {
            let file = value.trim().trim_start_matches(['!', '|']);
            if file.starts_with('/') {
                path_access(
                    facts,
                    0,
                    Expr::lit(file),
                    Mode::Check,
                    Reach::Exact,
                    entry.line,
                    &via,
                );
            }
        }
        _ => {
            if let Some((_, base)) = DIRECTORY_KEYS.iter().find(|(k, _)| *k == key) {
                for dir in value.split_whitespace() {
                    let dir = dir.split(':').next().unwrap_or(dir).trim_matches('/');
                    if !dir.is_empty() {
                        let full = Expr::lit(format!("{base}/{dir}"));
                        path_access(facts, 0, full, Mode::Create, Reach::Exact, entry.line, &via);
                    }
                }
            }
        }
    }
}

/// A service as a deployment of the program its (last) `ExecStart=` runs, with its
/// `Environment=` values and `User=` (see [`super::deploy`]).
fn deployment(unit: &Unit, entries: &[Entry]) -> Option<super::deploy::DeploymentFact> {
    use super::deploy::{self, Setting, SettingKind};
    if unit.kind != "service" {
        return None;
    }
    let start = entries
        .iter()
        .filter(|e| e.section == "Service" && e.key == "ExecStart")
        .rfind(|e| !e.value.trim().is_empty())?;
    let (command, argv0) = strip_exec_prefixes(&start.value);
    let command = if argv0 {
        drop_second_word(command)
    } else {
        command.to_string()
    };
    let command = unit.expand(&command).replace("$$", "$");
    let mut words = Vec::new();
    for (offset, text) in command.split('\n').enumerate() {
        let line = start
            .line
            .saturating_add(u32::try_from(offset).unwrap_or(u32::MAX));
        let text = text.trim_end().trim_end_matches('\\');
        words.extend(common::shell_words(text).into_iter().map(|w| (w, line)));
        if words.len() >= deploy::MAX_WORDS {
            break;
        }
    }
    let mut fact = deploy::DeploymentFact::launching(
        format!("systemd service {}", unit.name),
        "systemd service",
        start.line,
        None,
        &words,
    );
    for entry in entries.iter().filter(|e| e.section == "Service") {
        match entry.key.as_str() {
            "Environment" => {
                for word in systemd_words(&unit.expand(&entry.value)) {
                    if let Some((name, value)) = word.split_once('=') {
                        fact.push(Setting::new(SettingKind::Env, name, value, entry.line));
                    }
                }
            }
            "User" => {
                let user = entry.value.trim();
                if !user.is_empty() {
                    fact.push(Setting::new(SettingKind::User, "", user, entry.line));
                }
            }
            _ => {}
        }
    }
    Some(fact)
}

/// Splits an `Environment=` value: whitespace-separated words, each possibly quoted.
fn systemd_words(value: &str) -> Vec<String> {
    common::shell_words(&value.replace("\\\n", " "))
}

/// One `Exec*=` command line.
fn exec(
    facts: &mut FileFacts,
    key: &str,
    value: &str,
    line: u32,
    working_dir: Option<&str>,
    models: &Models,
) {
    let (command, argv0) = strip_exec_prefixes(value);
    let command = if argv0 {
        drop_second_word(command)
    } else {
        command.to_string()
    };
    if key == "ExecReload"
        && let Some(signal) = reload_signal(&command)
    {
        facts.triggers.push(TriggerFact {
            scope: 0,
            line,
            kind: TriggerKind::Signal { signal },
        });
        return;
    }
    if command.trim().is_empty() {
        // `ExecStart=` with no value resets the list.
        return;
    }
    // systemd expands `$$` to `$` before the program (often `sh -c`) sees the line.
    let command = command.replace("$$", "$");
    let scope = push_scope(facts, 0, ScopeKind::Function, key, line);
    common::shell(facts, scope, &command, line, working_dir, models);
}

/// Strips the `-@:+!` prefixes; says whether `@` (argv[0] follows the program) was among them.
fn strip_exec_prefixes(value: &str) -> (&str, bool) {
    let mut rest = value.trim();
    let mut argv0 = false;
    while let Some(c) = rest.chars().next() {
        match c {
            '@' => argv0 = true,
            '-' | ':' | '+' | '!' | '|' => {}
            _ => break,
        }
        rest = &rest[1..];
    }
    (rest, argv0)
}

/// `@/usr/bin/app app-name --flag` runs `/usr/bin/app --flag` (with argv[0] `app-name`).
fn drop_second_word(command: &str) -> String {
    let mut words = command.splitn(3, char::is_whitespace);
    let program = words.next().unwrap_or("");
    let _argv0 = words.next();
    match words.next() {
        Some(rest) => format!("{program} {rest}"),
        None => program.to_string(),
    }
}

/// `kill -HUP $MAINPID`, `/bin/kill -s USR1 $MAINPID`: the signal a reload sends the service.
fn reload_signal(command: &str) -> Option<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let program = words.first()?.rsplit('/').next()?;
    if program != "kill" || !words.iter().any(|w| w.contains("MAINPID")) {
        return None;
    }
    let signal = match words.get(1)? {
        &"-s" => words.get(2)?.to_string(),
        flag => flag.strip_prefix('-')?.to_string(),
    };
    let signal = signal.trim_start_matches("SIG").to_ascii_uppercase();
    (!signal.is_empty() && signal.chars().all(|c| c.is_ascii_alphanumeric())).then_some(signal)
}

/// The unit named by `Unit=` in the given section, or the default.
fn target_unit(unit: &Unit, entries: &[Entry], section: &str) -> (String, Option<u32>) {
    entries
        .iter()
        .rfind(|e| e.section == section && e.key == "Unit")
        .map(|e| (e.value.trim().to_string(), Some(e.line)))
        .unwrap_or_else(|| (unit.default_target(), None))
}

/// A timer: one schedule for all its triggers, whose scope starts the target unit.
fn timer(facts: &mut FileFacts, unit: &Unit, entries: &[Entry]) {
    let triggers: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.section == "Timer" && TIMER_KEYS.contains(&e.key.as_str()))
        .filter(|e| !e.value.trim().is_empty())
        .collect();
    let Some(first) = triggers.first() else {
        return;
    };
    let mut expressions = Vec::new();
    let mut descriptions = Vec::new();
    for entry in &triggers {
        let value = entry.value.trim();
        if entry.key == "OnCalendar" {
            expressions.push(value.to_string());
            descriptions.push(describe_calendar(value));
        } else {
            expressions.push(format!("{}={value}", entry.key));
            descriptions.push(describe_monotonic(&entry.key, value));
        }
    }
    let (target, unit_line) = target_unit(unit, entries, "Timer");
    let job = facts.schedules.len();
    let scope = facts.push_scope(crate::extract::Scope {
        parent: Some(0),
        kind: ScopeKind::CronEntry,
        name: format!("timer {}", unit.name).into(),
        class: None,
        job: Some(job),
        line: first.line,
    });
    facts.schedules.push(ScheduleFact {
        line: first.line,
        expression: expressions.join("; "),
        description: descriptions.join(", and "),
        user: None,
        command: target.clone(),
        env: Vec::new(),
        scope,
    });
    facts.runs.push(RunRef {
        scope,
        line: unit_line.unwrap_or(first.line),
        target: RunTarget::Unit { name: target },
    });
}

/// A path unit: each watched path triggers the unit it activates.
fn path_unit(facts: &mut FileFacts, unit: &Unit, entries: &[Entry]) {
    let watches: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.section == "Path" && PATH_KEYS.contains(&e.key.as_str()))
        .collect();
    let Some(first) = watches.first() else {
        return;
    };
    let (target, unit_line) = target_unit(unit, entries, "Path");
    let scope: ScopeId = push_scope(
        facts,
        0,
        ScopeKind::Function,
        format!("activates {target}"),
        first.line,
    );
    facts.runs.push(RunRef {
        scope,
        line: unit_line.unwrap_or(first.line),
        target: RunTarget::Unit { name: target },
    });
    for entry in watches {
        let value = unit.expand(entry.value.trim());
        let expr = if entry.key == "PathExistsGlob" {
            Expr::glob(value)
        } else {
            Expr::lit(value)
        };
        let via = format!("systemd {}", entry.key);
        path_access(
            facts,
            scope,
            expr.clone(),
            Mode::Check,
            Reach::Exact,
            entry.line,
            &via,
        );
        facts.triggers.push(TriggerFact {
            scope,
            line: entry.line,
            kind: TriggerKind::WatchFile { path: expr },
        });
    }
}

/// Plain words for an `OnCalendar=` expression: converted to cron fields and described like a
/// crontab entry where it can be, else the expression itself.
pub(crate) fn describe_calendar(spec: &str) -> String {
    let (spec, zone) = split_timezone(spec);
    let words = calendar_to_cron(spec)
        .and_then(|cron| cron::describe_schedule(&cron))
        .unwrap_or_else(|| format!("at times matching the calendar `{spec}`"));
    match zone {
        Some(zone) => format!("{words} ({zone})"),
        None => words,
    }
}

fn split_timezone(spec: &str) -> (&str, Option<&str>) {
    let spec = spec.trim();
    if let Some((head, last)) = spec.rsplit_once(' ')
        && (last == "UTC" || last.contains('/'))
        && !last.contains(['-', ':', '*'])
    {
        return (head.trim(), Some(last));
    }
    (spec, None)
}

/// `OnCalendar=` (systemd.time(7)) -> five cron fields, when the calendar has whole minutes and
/// any year: `Mon *-*-* 03:30` -> `30 3 * * 1`, `*:0/15` -> `0-59/15 * * * *`.
pub(crate) fn calendar_to_cron(spec: &str) -> Option<String> {
    let normalized = match spec.trim().to_ascii_lowercase().as_str() {
        "minutely" => "*-*-* *:*:00".to_string(),
        "hourly" => "*-*-* *:00:00".to_string(),
        "daily" => "*-*-* 00:00:00".to_string(),
        "weekly" => "Mon *-*-* 00:00:00".to_string(),
        "monthly" => "*-*-01 00:00:00".to_string(),
        "yearly" | "annually" => "*-01-01 00:00:00".to_string(),
        "quarterly" => "*-01,04,07,10-01 00:00:00".to_string(),
        "semiannually" => "*-01,07-01 00:00:00".to_string(),
        _ => spec.trim().to_string(),
    };
    let mut tokens: Vec<&str> = normalized.split_whitespace().collect();
    let weekdays = match tokens.first() {
        Some(t) if t.starts_with(|c: char| c.is_ascii_alphabetic()) => {
            let w = weekday_field(t)?;
            tokens.remove(0);
            w
        }
        _ => "*".to_string(),
    };
    let (mut date, mut time) = (None, None);
    for token in tokens {
        if token.contains(':') && time.is_none() {
            time = Some(token);
        } else if token.contains('-') && date.is_none() {
            date = Some(token);
        } else {
            return None;
        }
    }
    let (month, day) = match date {
        None => ("*".to_string(), "*".to_string()),
        Some(date) => {
            let parts: Vec<&str> = date.split('-').collect();
            let (month, day) = match parts.as_slice() {
                [year, month, day] => {
                    if *year != "*" {
                        return None;
                    }
                    (*month, *day)
                }
                [month, day] => (*month, *day),
                _ => return None,
            };
            (cron_field(month, 1, 12)?, cron_field(day, 1, 31)?)
        }
    };
    let (hour, minute) = match time {
        None => ("0".to_string(), "0".to_string()),
        Some(time) => {
            let parts: Vec<&str> = time.split(':').collect();
            let (hour, minute, second) = match parts.as_slice() {
                [h, m] => (*h, *m, "00"),
                [h, m, s] => (*h, *m, *s),
                _ => return None,
            };
            if !second
                .trim_start_matches('0')
                .trim_start_matches('.')
                .is_empty()
            {
                return None;
            }
            (cron_field(hour, 0, 23)?, cron_field(minute, 0, 59)?)
        }
    };
    Some(format!("{minute} {hour} {day} {month} {weekdays}"))
}

/// One calendar component (`*`, `02`, `1..5`, `0/15`, `8,20`) as a cron field.
fn cron_field(text: &str, lo: u32, hi: u32) -> Option<String> {
    let mut items = Vec::new();
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, Some(s.parse::<u32>().ok()?)),
            None => (item, None),
        };
        let range = if range == "*" {
            "*".to_string()
        } else if let Some((a, b)) = range.split_once("..") {
            format!("{}-{}", number(a)?, number(b)?)
        } else {
            let n = number(range)?;
            match step {
                Some(_) => format!("{n}-{hi}"),
                None => n.to_string(),
            }
        };
        let _ = lo;
        items.push(match step {
            Some(s) => format!("{range}/{s}"),
            None => range,
        });
    }
    Some(items.join(","))
}

fn number(text: &str) -> Option<u32> {
    text.parse::<u32>().ok()
}

/// `Mon`, `Mon..Fri`, `Sat,Sun` -> a cron day-of-week field.
fn weekday_field(text: &str) -> Option<String> {
    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let day = |t: &str| -> Option<usize> {
        let lower = t.to_ascii_lowercase();
        let short = lower.get(..3)?;
        DAYS.iter().position(|d| *d == short)
    };
    let mut items = Vec::new();
    for item in text.split(',') {
        match item.split_once("..") {
            Some((a, b)) => items.push(format!("{}-{}", day(a)?, day(b)?)),
            None => items.push(day(item)?.to_string()),
        }
    }
    Some(items.join(","))
}

/// Plain words for a monotonic timer key (`OnUnitActiveSec=15min`).
fn describe_monotonic(key: &str, value: &str) -> String {
    let span = describe_timespan(value).unwrap_or_else(|| value.to_string());
    match key {
        "OnUnitActiveSec" => format!("every {span} (after the unit last started)"),
        "OnUnitInactiveSec" => format!("{span} after the unit last finished, repeatedly"),
        "OnBootSec" => format!("{span} after boot"),
        "OnStartupSec" => format!("{span} after the service manager starts"),
        _ => format!("{span} after the timer starts"),
    }
}

/// `15min`, `1h 30min`, `2 days`, `900` (seconds) -> "15 minutes", "1 hour 30 minutes".
pub(crate) fn describe_timespan(value: &str) -> Option<String> {
    let mut parts = Vec::new();
    let mut rest = value.trim();
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = rest[unit_len..].trim_start();
        let name = match unit {
            "" | "s" | "sec" | "secs" | "second" | "seconds" => "second",
            "m" | "min" | "mins" | "minute" | "minutes" => "minute",
            "h" | "hr" | "hrs" | "hour" | "hours" => "hour",
            "d" | "day" | "days" => "day",
            "w" | "week" | "weeks" => "week",
            "M" | "month" | "months" => "month",
            "y" | "year" | "years" => "year",
            "ms" | "msec" => "millisecond",
            "us" | "usec" => "microsecond",
            _ => return None,
        };
        parts.push(if n == 1 {
            format!("1 {name}")
        } else {
            format!("{n} {name}s")
        });
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

#[cfg(test)]
mod tests;
