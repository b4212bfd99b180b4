//! Impact rules: which contract delta, against which counterpart accesses, makes a finding.
//!
//! A rule file (`rules/impact/*.toml`) holds `[[rule]]` tables. Each rule says which change it
//! reacts to (`when`), which accesses elsewhere are its counterparts (`counterpart_modes`), how the
//! counterpart must relate to the resource before the change (`before`) and after it (`after`),
//! and what to tell the reviewer (`title`, `message`, `help` with `{placeholders}`). The engine
//! in `impact/` evaluates these conditions; the rules themselves are data, documented with an
//! example scenario that fires and one that does not (run by the tests).
//!
//! Rules are evaluated in order; for one changed access and one counterpart, the first rule that
//! matches wins, so a specific rule (a completion marker) placed before a general one (any reader)
//! takes precedence. A user rule with the id of a built-in rule replaces it in place.

use super::RulesError;
use crate::finding::Severity;
use crate::model::{Mode, ResourceKind};
use serde::Deserialize;
use std::collections::HashMap;

/// The schema version of impact rule files.
pub const IMPACT_SCHEMA: u32 = 1;

/// The built-in rule files, compiled in.
pub const BUILTIN_RULE_FILES: &[(&str, &str)] = &[
    (
        "rules/impact/path.toml",
        include_str!("../../rules/impact/path.toml"),
    ),
    (
        "rules/impact/credential.toml",
        include_str!("../../rules/impact/credential.toml"),
    ),
    (
        "rules/impact/queue.toml",
        include_str!("../../rules/impact/queue.toml"),
    ),
    (
        "rules/impact/env.toml",
        include_str!("../../rules/impact/env.toml"),
    ),
    (
        "rules/impact/deploy.toml",
        include_str!("../../rules/impact/deploy.toml"),
    ),
    (
        "rules/impact/audit.toml",
        include_str!("../../rules/impact/audit.toml"),
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: u32,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    kind: String,
    severity: String,
    when: String,
    #[serde(default)]
    counterpart_modes: Vec<String>,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    output_names: Vec<String>,
    title: String,
    message: String,
    #[serde(default)]
    help: Option<String>,
    doc: String,
    #[serde(default)]
    example: Vec<RawExample>,
    #[serde(default)]
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    fires: bool,
    scenario: String,
}

/// The change a rule reacts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// A unit stopped producing a path and produces something else instead.
    OutputReplaced,
    /// A unit stopped producing a path, with or without a replacement.
    OutputRemoved,
    /// A producer (sets, stores, publishes) stopped using a credential or queue name; the
    /// counterparts are consumers of the old name that nothing produces any more.
    ProducerRenamed,
    /// A consumer stopped using a name; the counterparts are producers of the old name that
    /// nothing consumes any more.
    ConsumerRenamed,
    /// A publish stopped sending a field (or may leave it out); counterparts read it without a
    /// default.
    FieldDropped,
    /// A publish may now send null in a field; counterparts use it without a null check.
    FieldNullable,
    /// A new publish on a name nothing consumes.
    PublishUnconsumed,
    /// A new consume of a name nothing publishes.
    ConsumeUnproduced,
    /// A new wait whose resource's producers only run on a schedule and cannot be triggered.
    WaitOnScheduledProducer,
    /// A new wait whose producers can be triggered, but not by anything the waiter sends.
    WaitTriggerNotSent,
    /// A new signal, request or request file that no producer of the awaited resource acts on.
    SendUnheard,
    /// A program starts requiring an environment variable that a launcher does not pass.
    RequirementNotPassed,
    /// A repository file is deleted or moved; the counterparts are references to it by its
    /// repository path that the change left.
    FileRemoved,
    /// A consumer reads (checks, lists, waits for) another path than before, which nothing
    /// produces; the counterparts are producers still writing the old path for nobody.
    InputReplaced,
    /// A consumer moved to a path or name that nothing produces, and the change also left the
    /// old one without a producer: reported at the changed consumer itself.
    MovedToUnproduced,
    /// A producer renamed a distinctive token inside its names; the counterparts are names of
    /// the same kind that still carry the old token without matching the old name as a whole.
    TokenRenamed,
    /// A program stopped reading an environment variable altogether; the counterparts are
    /// launchers of that program still setting it (configuration that silently stopped working).
    ReadDropped,
    /// A deployment's setting (option, environment value, volume, user) changed; the
    /// counterparts are other deployments of the same program that keep the old value.
    DeploymentDrift,
    /// Audit (no change): a reader, checker, lister or waiter of a path nothing produces, in a
    /// directory that analysed code does write into, and that no assumed external producer
    /// covers. Counterpart modes select the consumers audited.
    AuditReadUnproduced,
    /// Audit: a cleanup (delete, move away) whose pattern matches nothing any producer writes,
    /// in a directory that analysed code does write into.
    AuditCleanupMatchesNothing,
    /// Audit: a producer whose names carry a date (a `strftime` value) and that no cleanup,
    /// rotation or retention of the analysed code covers: the disk fills up.
    AuditDatedOutputUncleaned,
    /// Audit: a wait whose producers only run on a schedule and cannot be triggered (the
    /// change rule `wait-on-scheduled-producer`, over every wait).
    AuditWaitOnScheduledProducer,
    /// Audit: a queue consumed that nothing publishes to (`consume-unproduced` over every
    /// consume).
    AuditConsumeUnproduced,
    /// Audit: a queue published to that nothing consumes (`publish-unconsumed` over every
    /// publish).
    AuditPublishUnconsumed,
    /// Audit: a launcher that starts a program without an environment variable the program
    /// reads without a default (`requirement-not-passed` over every such read).
    AuditRequirementNotPassed,
    /// Audit: a consumer reads a message field without a default that no producer of its
    /// queue sends (`field-dropped` with every producer's message as it is now).
    AuditFieldUnsent,
    /// Audit: a launcher sets an environment variable that nothing the launched program runs
    /// reads (`setting-left-unread` over every setting, where the program's code is read whole).
    AuditSetUnread,
    /// Audit: a secret read that nothing writes or rotates, in a store whose rotation knockon
    /// models and that analysed code rotates other secrets of.
    AuditSecretUnrotated,
}

impl When {
    const NAMES: &'static [(&'static str, When)] = &[
        ("output-replaced", When::OutputReplaced),
        ("output-removed", When::OutputRemoved),
        ("file-removed", When::FileRemoved),
        ("producer-renamed", When::ProducerRenamed),
        ("consumer-renamed", When::ConsumerRenamed),
        ("field-dropped", When::FieldDropped),
        ("field-nullable", When::FieldNullable),
        ("publish-unconsumed", When::PublishUnconsumed),
        ("consume-unproduced", When::ConsumeUnproduced),
        ("wait-on-scheduled-producer", When::WaitOnScheduledProducer),
        ("wait-trigger-not-sent", When::WaitTriggerNotSent),
        ("send-unheard", When::SendUnheard),
        ("requirement-not-passed", When::RequirementNotPassed),
        ("input-replaced", When::InputReplaced),
        ("moved-to-unproduced", When::MovedToUnproduced),
        ("token-renamed", When::TokenRenamed),
        ("read-dropped", When::ReadDropped),
        ("deployment-drift", When::DeploymentDrift),
        ("audit-read-unproduced", When::AuditReadUnproduced),
        (
            "audit-cleanup-matches-nothing",
            When::AuditCleanupMatchesNothing,
        ),
        (
            "audit-dated-output-uncleaned",
            When::AuditDatedOutputUncleaned,
        ),
        (
            "audit-wait-on-scheduled-producer",
            When::AuditWaitOnScheduledProducer,
        ),
        ("audit-consume-unproduced", When::AuditConsumeUnproduced),
        ("audit-publish-unconsumed", When::AuditPublishUnconsumed),
        (
            "audit-requirement-not-passed",
            When::AuditRequirementNotPassed,
        ),
        ("audit-field-unsent", When::AuditFieldUnsent),
        ("audit-set-unread", When::AuditSetUnread),
        ("audit-secret-unrotated", When::AuditSecretUnrotated),
    ];

    fn parse(text: &str) -> Option<When> {
        When::NAMES
            .iter()
            .find(|(n, _)| *n == text)
            .map(|(_, w)| *w)
    }

    /// The name rule files use (`output-replaced`).
    pub fn as_str(self) -> &'static str {
        When::NAMES
            .iter()
            .find(|(_, w)| *w == self)
            .map_or("", |(n, _)| n)
    }

    pub fn is_path(self) -> bool {
        matches!(self, When::OutputReplaced | When::OutputRemoved)
    }

    /// Rules of `knockon audit`: they look at the current state, with no change; `check` never
    /// evaluates them, and `audit` evaluates only them.
    pub fn is_audit(self) -> bool {
        self.as_str().starts_with("audit-")
    }

    /// The change rule an audit rule runs over every access (an audit of waits is the rule on
    /// new waits with every wait taken as new); `None` for audit rules with their own evaluator.
    pub fn change_counterpart(self) -> Option<When> {
        match self {
            When::AuditWaitOnScheduledProducer => Some(When::WaitOnScheduledProducer),
            When::AuditConsumeUnproduced => Some(When::ConsumeUnproduced),
            When::AuditPublishUnconsumed => Some(When::PublishUnconsumed),
            When::AuditRequirementNotPassed => Some(When::RequirementNotPassed),
            _ => None,
        }
    }
}

/// How a counterpart relates to the resource before the change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Before {
    /// The counterpart touched some of what was produced.
    Intersects,
    /// The counterpart touched all of what was produced.
    Covers,
}

/// How a counterpart relates to the resources after the change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// Some replacement output is not covered by the counterpart.
    MissesReplacement,
    /// Nothing produces anything the counterpart touches any more.
    Unproduced,
}

/// An example scenario from a rule's documentation.
#[derive(Clone, Debug)]
pub struct Example {
    pub fires: bool,
    pub scenario: String,
}

/// A validated impact rule.
#[derive(Clone, Debug)]
pub struct ImpactRule {
    pub id: String,
    pub kind: ResourceKind,
    pub severity: Severity,
    pub when: When,
    pub counterpart_modes: Vec<Mode>,
    pub before: Before,
    pub after: After,
    /// When non-empty, the rule only applies to outputs whose file name matches one of these.
    pub output_names: Option<globset::GlobSet>,
    pub output_name_globs: Vec<String>,
    pub title: String,
    pub message: String,
    pub help: Option<String>,
    pub doc: String,
    pub examples: Vec<Example>,
    pub enabled: bool,
    /// Where the rule was defined, for errors and documentation links.
    pub source: String,
}

/// All impact rules, in evaluation order.
#[derive(Clone, Debug, Default)]
pub struct ImpactRules {
    pub rules: Vec<ImpactRule>,
}

/// Placeholders a message may use; anything else is an error when the rule loads.
pub const PLACEHOLDERS: &[&str] = &[
    "producer",
    "moved",
    "before",
    "after",
    "after_glob",
    "counterpart",
    "counterpart_verb",
    "counterpart_unit",
    "schedule",
    "field",
    "waiter",
    "trigger",
    "sent",
    "variable",
    "program",
    "consumer_verb",
    "consumer",
    "token",
    "new_token",
    "setting",
    "unit",
    "resource",
    "directory",
    "store",
];

impl ImpactRules {
    pub fn builtin() -> Result<ImpactRules, RulesError> {
        let mut rules = ImpactRules::default();
        for (name, text) in BUILTIN_RULE_FILES {
            rules.load_file(name, text)?;
        }
        Ok(rules)
    }

    /// Loads one rule file; a rule with an existing id replaces the existing rule.
    pub fn load_file(&mut self, name: &str, text: &str) -> Result<(), RulesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| RulesError::toml(name, text, &e))?;
        if raw.schema != IMPACT_SCHEMA {
            return Err(RulesError::at(
                name,
                super::line_of_key(text, "schema"),
                format!(
                    "schema {} is not supported (this build reads schema {IMPACT_SCHEMA})",
                    raw.schema
                ),
            ));
        }
        // One map of ids to positions for the whole file, and a rule's line found only for an
        // error: a search of the rules and a scan of the text per rule made loading a large
        // file quadratic.
        let mut position: HashMap<String, usize> = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .rev()
            .collect();
        for rule in raw.rule {
            let id = rule.id.clone();
            let compiled = compile(rule, name)
                .map_err(|message| RulesError::at(name, line_of_id(text, &id), message))?;
            match position.get(&id).and_then(|i| self.rules.get_mut(*i)) {
                Some(existing) => *existing = compiled,
                None => {
                    position.insert(id, self.rules.len());
                    self.rules.push(compiled);
                }
            }
        }
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&ImpactRule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

fn line_of_id(text: &str, id: &str) -> u32 {
    let needle_double = format!("\"{id}\"");
    let needle_single = format!("'{id}'");
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.starts_with("id") && (t.contains(&needle_double) || t.contains(&needle_single))
        })
        .map(|i| u32::try_from(i + 1).unwrap_or(u32::MAX))
        .unwrap_or(1)
}

/// Validates one rule; the error is the message, which the caller places at the rule's line.
fn compile(raw: RawRule, file: &str) -> Result<ImpactRule, String> {
    let err = |message: String| format!("rule `{}`: {message}", raw.id);
    if raw.id.is_empty()
        || !raw
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return Err(err(
            "ids are lowercase kebab-case with a dotted prefix, e.g. `path.cleanup-misses-new-outputs`".into(),
        ));
    }
    let kind = match raw.kind.as_str() {
        "path" => ResourceKind::Path,
        "credential" => ResourceKind::Credential,
        "queue" => ResourceKind::Queue,
        other => {
            return Err(err(format!(
                "unknown kind `{other}` (path, credential, queue)"
            )));
        }
    };
    let severity = Severity::parse(&raw.severity).ok_or_else(|| {
        err(format!(
            "unknown severity `{}` (error, warning, info)",
            raw.severity
        ))
    })?;
    let when = When::parse(&raw.when).ok_or_else(|| {
        let known: Vec<&str> = When::NAMES.iter().map(|(n, _)| *n).collect();
        err(format!(
            "unknown `when = \"{}\"` ({})",
            raw.when,
            known.join(", ")
        ))
    })?;
    let (before, after) = if when.is_path() {
        let before = match raw.before.as_deref() {
            Some("intersects") => Before::Intersects,
            Some("covers") => Before::Covers,
            Some(other) => {
                return Err(err(format!(
                    "unknown `before = \"{other}\"` (intersects, covers)"
                )));
            }
            None => return Err(err(format!("`when = \"{}\"` needs `before`", raw.when))),
        };
        let after = match raw.after.as_deref() {
            Some("misses-replacement") => After::MissesReplacement,
            Some("unproduced") => After::Unproduced,
            Some(other) => {
                return Err(err(format!(
                    "unknown `after = \"{other}\"` (misses-replacement, unproduced)"
                )));
            }
            None => return Err(err(format!("`when = \"{}\"` needs `after`", raw.when))),
        };
        (before, after)
    } else {
        if raw.before.is_some() || raw.after.is_some() {
            return Err(err(format!(
                "`before` and `after` only apply to path rules, not to `when = \"{}\"`",
                raw.when
            )));
        }
        (Before::Intersects, After::Unproduced)
    };
    let mut counterpart_modes = Vec::new();
    for mode in &raw.counterpart_modes {
        counterpart_modes
            .push(Mode::parse(mode).ok_or_else(|| err(format!("unknown mode `{mode}`")))?);
    }
    if counterpart_modes.is_empty() && when.is_path() {
        return Err(err("`counterpart_modes` names at least one mode".into()));
    }
    let output_names = if raw.output_names.is_empty() {
        None
    } else {
        let mut builder = globset::GlobSetBuilder::new();
        for glob in &raw.output_names {
            builder.add(
                globset::GlobBuilder::new(glob)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| err(format!("bad glob in `output_names`: {e}")))?,
            );
        }
        Some(builder.build().map_err(|e| err(e.to_string()))?)
    };
    for template in [Some(&raw.title), Some(&raw.message), raw.help.as_ref()]
        .into_iter()
        .flatten()
    {
        check_placeholders(template).map_err(err)?;
    }
    Ok(ImpactRule {
        id: raw.id.clone(),
        kind,
        severity,
        when,
        counterpart_modes,
        before,
        after,
        output_names,
        output_name_globs: raw.output_names,
        title: raw.title,
        message: raw.message,
        help: raw.help,
        doc: raw.doc,
        examples: raw
            .example
            .into_iter()
            .map(|e| Example {
                fires: e.fires,
                scenario: e.scenario,
            })
            .collect(),
        enabled: raw.enabled.unwrap_or(true),
        source: file.to_string(),
    })
}

fn check_placeholders(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            return Err(format!("unclosed `{{` in `{template}`"));
        };
        let name = &after[..end];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "unknown placeholder `{{{name}}}` (known: {})",
                PLACEHOLDERS.join(", ")
            ));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

/// Fills `{placeholders}` from `values`.
pub fn render(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match values.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_load() {
        let rules = ImpactRules::builtin().unwrap();
        assert!(rules.get("path.cleanup-misses-new-outputs").is_some());
        for rule in &rules.rules {
            assert!(
                rule.examples.iter().any(|e| e.fires),
                "{} has no firing example",
                rule.id
            );
            assert!(
                rule.examples.iter().any(|e| !e.fires),
                "{} has no passing example",
                rule.id
            );
        }
    }

    #[test]
    fn errors_name_file_and_line() {
        let mut rules = ImpactRules::default();
        let text = "schema = 1\n[[rule]]\nid = \"x.y\"\nkind = \"path\"\nbogus = 1\n";
        let e = rules.load_file("mine.toml", text).unwrap_err();
        assert_eq!(e.file, "mine.toml");
        assert!(e.line >= 2, "{e}");
        let e = rules.load_file("mine.toml", "schema = 2\n").unwrap_err();
        assert_eq!(e.line, 1);
        let bad_placeholder = "schema = 1\n[[rule]]\nid = \"x.y\"\nkind = \"path\"\nseverity = \"warning\"\nwhen = \"output-removed\"\ncounterpart_modes = [\"read\"]\nbefore = \"intersects\"\nafter = \"unproduced\"\ntitle = \"t {nope}\"\nmessage = \"m\"\ndoc = \"d\"\n";
        let e = rules.load_file("mine.toml", bad_placeholder).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("nope"));
    }

    #[test]
    fn renders_placeholders() {
        assert_eq!(
            render(
                "{producer} writes {after}",
                &[("producer", "a".into()), ("after", "b".into())]
            ),
            "a writes b"
        );
    }
}
