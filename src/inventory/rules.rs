//! `knockon rules` and `knockon rules explain ID`: the impact rules as a reader meets them, with
//! the repository's `knockon.toml` applied, so that the list says what a `check` there would do.
//!
//! `explain` runs the rule's documented examples (each a scenario: repositories with files at
//! base and head) exactly as the tests do, in a temporary directory, and shows the finding the
//! firing one produces: the reader sees the rule's output, not a description of it.

use super::suggest;
use crate::app::{self, CheckRequest};
use crate::cli::ListFormat;
use crate::config::Config;
use crate::error::Error;
use crate::finding::Finding;
use crate::load::ChangeSpec;
use crate::report::catalog;
use crate::report::text::clean;
use crate::rules::impact::{ImpactRule, ImpactRules};
use crate::scenario::Scenario;
use serde::Serialize;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The rules of a run, before and after the configuration, and where the configuration is.
pub struct RuleSet {
    pub rules: ImpactRules,
    pub defaults: ImpactRules,
    pub config: Option<PathBuf>,
}

/// Loads the rules (built-in, then `--rules` dirs) and applies the `knockon.toml` of the
/// repository around `repo` (or of `repo` itself when it is not in a git repository).
pub fn load(repo: &Path, rules_dirs: &[PathBuf]) -> Result<RuleSet, Error> {
    if !repo.is_dir() {
        return Err(Error::Usage(format!(
            "--repo {}: no such directory",
            repo.display()
        )));
    }
    let root = crate::load::open_repo(repo)
        .ok()
        .and_then(|r| r.workdir().map(Path::to_path_buf))
        .unwrap_or_else(|| repo.to_path_buf());
    let config = Config::discover(&root)?;
    let (_, defaults) = app::load_rules(rules_dirs)?;
    let mut rules = defaults.clone();
    config.apply_to(&mut rules)?;
    Ok(RuleSet {
        rules,
        defaults,
        config: config.source,
    })
}

/// One rule in the list.
#[derive(Serialize)]
struct Row<'a> {
    id: &'a str,
    kind: &'a str,
    severity: &'a str,
    enabled: bool,
    /// The severity before `knockon.toml`, when it changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    default_severity: Option<&'a str>,
    title: String,
    summary: String,
    source: &'a str,
}

fn row<'a>(rule: &'a ImpactRule, set: &'a RuleSet) -> Row<'a> {
    let default_severity = set
        .defaults
        .get(&rule.id)
        .filter(|d| d.severity != rule.severity)
        .map(|d| d.severity.as_str());
    Row {
        id: &rule.id,
        kind: rule.kind.as_str(),
        severity: rule.severity.as_str(),
        enabled: rule.enabled,
        default_severity,
        title: catalog::generic_title(rule),
        summary: catalog::summary(rule),
        source: &rule.source,
    }
}

/// Every rule, in evaluation order.
pub fn render_list(set: &RuleSet, format: ListFormat) -> String {
    let rows: Vec<Row<'_>> = set.rules.rules.iter().map(|r| row(r, set)).collect();
    match format {
        ListFormat::Json => json(&serde_json::json!({
            "version": 1,
            "config": set.config.as_ref().map(|p| p.display().to_string()),
            "rules": rows,
        })),
        ListFormat::Text => {
            let id_width = rows.iter().map(|r| r.id.chars().count()).max().unwrap_or(2);
            let mut out = String::new();
            let _ = writeln!(
                out,
                "{:id_width$}  {:10}  {:8}  {:7}  WHAT IT FINDS",
                "ID", "KIND", "SEVERITY", "ENABLED"
            );
            for r in &rows {
                let severity = match r.default_severity {
                    Some(_) => format!("{}*", r.severity),
                    None => r.severity.to_string(),
                };
                let _ = writeln!(
                    out,
                    "{:id_width$}  {:10}  {:8}  {:7}  {}",
                    clean(r.id),
                    r.kind,
                    severity,
                    if r.enabled { "yes" } else { "no" },
                    clean(&r.title)
                );
            }
            let enabled = rows.iter().filter(|r| r.enabled).count();
            let _ = writeln!(
                out,
                "\n{} rules ({enabled} enabled). `knockon rules explain ID` documents one and runs its examples.",
                rows.len()
            );
            if let Some(config) = &set.config {
                let _ = writeln!(
                    out,
                    "Severities and switches as set by {}{}.",
                    clean(&config.display().to_string()),
                    if rows.iter().any(|r| r.default_severity.is_some()) {
                        " (* = changed there)"
                    } else {
                        ""
                    }
                );
            }
            out
        }
    }
}

/// What running one documented example gave.
#[derive(Serialize)]
struct ExampleRun {
    fires: bool,
    scenario: String,
    /// The findings of this rule that `knockon check` makes on the example.
    findings: Vec<serde_json::Value>,
    /// The same findings as the text report shows them.
    #[serde(skip)]
    text: String,
    /// Why the example could not be run, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The rule `id`, or a usage error naming the closest id.
pub fn find<'a>(set: &'a RuleSet, id: &str) -> Result<&'a ImpactRule, Error> {
    if let Some(rule) = set.rules.get(id) {
        return Ok(rule);
    }
    let hint = suggest::closest(id, set.rules.rules.iter().map(|r| r.id.as_str()))
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default();
    Err(Error::Usage(format!("unknown rule id `{id}`{hint}")))
}

/// One rule's documentation, settings and examples, each example run.
pub fn render_explain(
    set: &RuleSet,
    rule: &ImpactRule,
    rules_dirs: &[PathBuf],
    format: ListFormat,
) -> String {
    let runs: Vec<ExampleRun> = rule
        .examples
        .iter()
        .map(|e| run_example(rule, e.fires, &e.scenario, rules_dirs))
        .collect();
    let r = row(rule, set);
    match format {
        ListFormat::Json => json(&serde_json::json!({
            "version": 1,
            "config": set.config.as_ref().map(|p| p.display().to_string()),
            "rule": {
                "id": r.id,
                "kind": r.kind,
                "severity": r.severity,
                "default_severity": r.default_severity,
                "enabled": r.enabled,
                "title": r.title,
                "when": rule.when.as_str(),
                "counterpart_modes": rule.counterpart_modes,
                "doc": rule.doc.trim(),
                "help": rule.help.as_deref().map(catalog::fill_generic),
                "source": r.source,
                "documentation": catalog::help_uri(rule),
                "examples": runs,
            }
        })),
        ListFormat::Text => {
            let mut out = String::new();
            let _ = writeln!(out, "{}  ({} rule)", clean(r.id), r.kind);
            let _ = writeln!(out, "{}", clean(&r.title));
            let severity = match r.default_severity {
                Some(d) => format!("{} (built-in: {d})", r.severity),
                None => r.severity.to_string(),
            };
            let _ = writeln!(out, "  severity: {severity}");
            let _ = writeln!(
                out,
                "  enabled:  {}",
                if rule.enabled { "yes" } else { "no" }
            );
            if let Some(config) = &set.config {
                let _ = writeln!(out, "  config:   {}", clean(&config.display().to_string()));
            }
            let _ = writeln!(out, "  defined:  {}", clean(r.source));
            if let Some(uri) = catalog::help_uri(rule) {
                let _ = writeln!(out, "  docs:     {uri}");
            }
            let _ = writeln!(out);
            for line in rule.doc.trim().lines() {
                let _ = writeln!(out, "{}", clean(line));
            }
            if let Some(help) = &rule.help {
                let _ = writeln!(
                    out,
                    "\nSuggested fix: {}",
                    clean(&catalog::fill_generic(help))
                );
            }
            for run in &runs {
                let _ = writeln!(
                    out,
                    "\n{}",
                    if run.fires {
                        "Example that fires:"
                    } else {
                        "Example that does not fire:"
                    }
                );
                for line in run.scenario.trim_end().lines() {
                    let _ = writeln!(out, "    {}", clean(line));
                }
                let _ = writeln!(out);
                let command = if rule.when.is_audit() {
                    "knockon audit"
                } else {
                    "knockon check"
                };
                match (&run.error, run.findings.len()) {
                    (Some(e), _) => {
                        let _ = writeln!(out, "(could not run it: {})", clean(e));
                    }
                    (None, 0) => {
                        let _ = writeln!(out, "{command} on it: no finding of {}.", clean(r.id));
                    }
                    (None, n) => {
                        let _ = writeln!(
                            out,
                            "{command} on it reports {n} finding{}:\n",
                            if n == 1 { "" } else { "s" }
                        );
                        out.push_str(&run.text);
                    }
                }
            }
            out
        }
    }
}

/// Builds the example's repositories in a temporary directory and checks its change, keeping
/// the findings of `rule`.
fn run_example(rule: &ImpactRule, fires: bool, text: &str, rules_dirs: &[PathBuf]) -> ExampleRun {
    let mut run = ExampleRun {
        fires,
        scenario: text.to_string(),
        findings: Vec::new(),
        text: String::new(),
        error: None,
    };
    match check_example(rule, text, rules_dirs) {
        Ok((findings, rendered)) => {
            run.findings = findings
                .iter()
                .map(|f| serde_json::to_value(f).unwrap_or(serde_json::Value::Null))
                .collect();
            run.text = rendered;
        }
        Err(e) => run.error = Some(e),
    }
    run
}

fn check_example(
    rule: &ImpactRule,
    text: &str,
    rules_dirs: &[PathBuf],
) -> Result<(Vec<Finding>, String), String> {
    let scenario = Scenario::parse(text).map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| format!("no temporary directory: {e}"))?;
    let built = scenario.build(dir.path()).map_err(|e| e.to_string())?;
    if scenario.audit {
        let request = crate::audit::AuditRequest {
            dirs: built.context.clone(),
            rules_dirs: rules_dirs.to_vec(),
            ..Default::default()
        };
        let run = crate::audit::audit(&request).map_err(|e| e.to_string())?;
        let mut report = run.report;
        report.findings.retain(|f| f.rule == rule.id);
        report.warnings.clear();
        return Ok(render_example(report, &run.rules));
    }
    let request = CheckRequest {
        repo: built.changed_repo.clone(),
        change: ChangeSpec::Revisions {
            base: built.base.clone(),
            head: Some(built.head.clone()),
        },
        context: built.context.clone(),
        rules_dirs: rules_dirs.to_vec(),
        no_generic: false,
    };
    let setup = app::setup(&request).map_err(|e| e.to_string())?;
    let mut report = app::check_with(&request, &setup).map_err(|e| e.to_string())?;
    report.findings.retain(|f| f.rule == rule.id);
    report.warnings.clear();
    Ok(render_example(report, &setup.rules))
}

/// The example's findings and their text report, indented, without the summary line.
fn render_example(report: crate::report::Report, rules: &ImpactRules) -> (Vec<Finding>, String) {
    let options = crate::report::RenderOptions {
        rules,
        color: false,
    };
    let rendered = crate::report::render(&report, crate::report::Format::Text, &options);
    // The summary line counts files of a temporary directory: not the reader's concern here.
    let rendered: String = rendered
        .lines()
        .filter(|l| !l.starts_with("knockon: ") && !l.starts_with("knockon audit: "))
        .map(|l| {
            if l.trim().is_empty() {
                "\n".to_string()
            } else {
                format!("    {l}\n")
            }
        })
        .collect();
    (report.findings, rendered)
}

fn json(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}
