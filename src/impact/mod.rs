//! Impact: deltas x graph x rules -> [`Finding`]s.
//!
//! Input: the contract deltas of the change, the graph of the head world (the changed repository
//! at head plus the context repositories), the impact rules, and a way to read source lines for
//! excerpts. Output: findings, deduplicated and sorted.
//!
//! Each rule's `when` selects an evaluator (one module per resource family); evaluators turn
//! deltas and counterparts into candidates. One impacted unit gets findings from one rule per
//! change: the first rule in file order whose conditions hold (a cleanup loop that lists, checks
//! and deletes the same files is one cleanup finding, not a cleanup and two reader findings).

pub mod audit;
mod drift;
mod env;
mod fields;
mod inputs;
mod names;
mod path;
mod tokens;
mod tree;
mod waits;

use crate::change::Deltas;
use crate::finding::{Finding, Location, OriginLocation, ResourceChange};
use crate::graph::Graph;
use crate::model::{Origin, ResourceKind, Site};
use crate::rules::impact::{ImpactRule, ImpactRules, render};
use std::collections::BTreeMap;

pub use crate::model::Version;

/// Reads one source line of a site, for excerpts.
pub type Excerpts<'a> = &'a dyn Fn(&Site, Version) -> Option<String>;

/// A finding some rule would make, before rules compete for the same unit.
pub struct Candidate {
    /// The rule's position in evaluation order.
    pub order: usize,
    /// (impacted repo, impacted unit, change site): one rule per group wins.
    pub group: (String, String, Site),
    pub finding: Finding,
}

/// Evaluates the rules on the deltas.
pub fn evaluate(
    deltas: &Deltas,
    graph: &Graph,
    rules: &ImpactRules,
    excerpts: Excerpts<'_>,
) -> Vec<Finding> {
    let enabled: Vec<(usize, &ImpactRule)> = rules
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.enabled)
        .collect();
    let mut candidates = path::candidates(deltas, graph, &enabled, excerpts);
    candidates.extend(names::candidates(deltas, graph, &enabled, excerpts));
    candidates.extend(inputs::candidates(deltas, graph, &enabled, excerpts));
    candidates.extend(fields::candidates(deltas, graph, &enabled, excerpts));
    candidates.extend(waits::candidates(deltas, graph, &enabled, excerpts));
    candidates.extend(env::candidates(deltas, graph, &enabled, excerpts));
    candidates.extend(tree::candidates(deltas, &enabled, excerpts));
    candidates.extend(tokens::candidates(deltas, graph, &enabled, excerpts));
    candidates.extend(drift::candidates(deltas, graph, &enabled, excerpts));
    // What the change did not touch, the change did not cause: a finding whose change site is
    // outside the changed lines is never reported, whichever evaluator made it. And code the
    // change itself wrote is not "left behind": the author has it in front of them in the diff
    // (a restructuring that moves a reader and its writer to new files is one change, not a
    // reader of a vanished output). Findings about the changed line itself ("nothing consumes
    // the new queue") are reported there by design.
    let lines = &deltas.changed_lines;
    candidates.retain(|c| {
        let (at, impacted) = (&c.finding.change, &c.finding.impacted);
        let about_itself =
            (&at.repo, &at.path, at.line) == (&impacted.repo, &impacted.path, impacted.line);
        // A file the change removed is in the change, read or not (a template, an env file).
        let removed_file = at.line == 1
            && deltas
                .removed_file_references
                .iter()
                .any(|r| r.access.site.repo == at.repo && r.file == at.path);
        (lines.contains_site(&at.repo, &at.path, at.line) || removed_file)
            && (about_itself
                || !lines.wrote_head_line(&impacted.repo, &impacted.path, impacted.line))
    });
    let mut findings = finalize(candidates);
    advise_patches(&mut findings, graph);
    for finding in &mut findings {
        name_unknown_values(finding);
    }
    findings
}

/// Values in a finding's paths that resolution left open (`{region}`: a parameter no call
/// binds, `{date}`: a timestamp, `{$(hostname)}`: a command's output) — the finding holds for
/// any value there, and says which ones it did not know.
fn name_unknown_values(finding: &mut Finding) {
    let mut labels: Vec<&str> = Vec::new();
    let texts = [
        finding.resource.before.as_deref(),
        finding.resource.after.as_deref(),
    ];
    for text in texts.into_iter().flatten() {
        let mut rest = text;
        while let Some(start) = rest.find('{') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('}') else {
                break;
            };
            let label = &after[..end];
            // `{a,b}` is an alternation of known values, not an unknown one.
            if !label.is_empty() && !label.contains(',') && !labels.contains(&label) {
                labels.push(label);
            }
            rest = &after[end + 1..];
        }
    }
    if labels.is_empty() || finding.resource.kind != ResourceKind::Path {
        return;
    }
    let listed: Vec<String> = labels.iter().take(6).map(|l| format!("{{{l}}}")).collect();
    finding.notes.push(format!(
        "not known before run time: {} — compared as any value in that place, so the finding holds whatever {} at run time",
        listed.join(", "),
        if labels.len() == 1 { "it is" } else { "they are" }
    ));
}

/// Uses of a value by the line that built it: (repo, path, line) of an origin -> use sites.
type UsesByOrigin<'g> = BTreeMap<(&'g str, &'g str, u32), Vec<&'g Site>>;

/// Says which line to patch when an impacted use takes its value from another file of its
/// repository (a path set in a sourced config, a constant in a settings module): the origin,
/// where the value is written down, unless that origin also feeds uses this change does not
/// impact — then changing it would move them too, and the use is the line to patch.
fn advise_patches(findings: &mut [Finding], graph: &Graph) {
    if findings.iter().all(|f| f.impacted.origins.is_empty()) {
        return;
    }
    // Deployment settings whose values were bound elsewhere (a chart's values.yaml) use them too.
    let setting_uses: Vec<(&Origin, Site)> = graph
        .deployments
        .iter()
        .flat_map(|d| {
            d.fact
                .settings
                .iter()
                .flat_map(move |s| s.origins.iter().map(move |o| (o, d.site(s.line))))
        })
        .collect();
    let mut uses: UsesByOrigin<'_> = BTreeMap::new();
    for (origin, site) in &setting_uses {
        let key = (
            origin.site.repo.as_str(),
            origin.site.path.as_str(),
            origin.site.line,
        );
        let sites = uses.entry(key).or_default();
        if !sites.contains(&site) {
            sites.push(site);
        }
    }
    for access in &graph.accesses {
        for origin in &access.origins {
            let key = (
                origin.site.repo.as_str(),
                origin.site.path.as_str(),
                origin.site.line,
            );
            let sites = uses.entry(key).or_default();
            if !sites.contains(&&access.site) {
                sites.push(&access.site);
            }
        }
    }
    let impacted: Vec<(String, String, u32)> = findings
        .iter()
        .map(|f| {
            (
                f.impacted.repo.clone(),
                f.impacted.path.clone(),
                f.impacted.line,
            )
        })
        .collect();
    for finding in findings.iter_mut() {
        let at = &finding.impacted;
        let Some(origin) = at.origins.first() else {
            continue;
        };
        if origin.repo != at.repo || origin.path == at.path {
            continue;
        }
        let others: Vec<&Site> = uses
            .get(&(origin.repo.as_str(), origin.path.as_str(), origin.line))
            .into_iter()
            .flatten()
            .copied()
            .filter(|use_site| {
                let key = (use_site.repo.clone(), use_site.path.clone(), use_site.line);
                !impacted.contains(&key)
            })
            .collect();
        let advice = if others.is_empty() {
            crate::finding::PatchAdvice {
                repo: origin.repo.clone(),
                path: origin.path.clone(),
                line: origin.line,
                reason: format!(
                    "patch {}:{} ({}), where the value used at {}:{} is written; it feeds no use this change leaves alone",
                    origin.path, origin.line, origin.note, at.path, at.line
                ),
            }
        } else {
            let listed: Vec<String> = others
                .iter()
                .take(3)
                .map(|s| format!("{}:{}", s.path, s.line))
                .collect();
            let more = if others.len() > 3 {
                format!(" and {} more", others.len() - 3)
            } else {
                String::new()
            };
            crate::finding::PatchAdvice {
                repo: at.repo.clone(),
                path: at.path.clone(),
                line: at.line,
                reason: format!(
                    "patch {}:{} itself: its value comes from {}:{} ({}), which also feeds {}{more}, not impacted by this change",
                    at.path,
                    at.line,
                    origin.path,
                    origin.line,
                    origin.note,
                    listed.join(", ")
                ),
            }
        };
        finding.notes.push(advice.reason.clone());
        finding.patch = Some(advice);
    }
}

fn finalize(candidates: Vec<Candidate>) -> Vec<Finding> {
    let mut best_rule: BTreeMap<&(String, String, Site), usize> = BTreeMap::new();
    for c in &candidates {
        let best = best_rule.entry(&c.group).or_insert(c.order);
        *best = (*best).min(c.order);
    }
    // Within a group, the winning rule reports its first impacted site: one patch per unit.
    let mut first_site: BTreeMap<&(String, String, Site), (String, u32)> = BTreeMap::new();
    for c in &candidates {
        if best_rule.get(&c.group) != Some(&c.order) {
            continue;
        }
        let here = (c.finding.impacted.path.clone(), c.finding.impacted.line);
        let first = first_site.entry(&c.group).or_insert_with(|| here.clone());
        if here < *first {
            *first = here;
        }
    }
    let mut findings: BTreeMap<(String, Site, Site), Finding> = BTreeMap::new();
    for c in &candidates {
        if best_rule.get(&c.group) != Some(&c.order) {
            continue;
        }
        let here = (c.finding.impacted.path.clone(), c.finding.impacted.line);
        if first_site.get(&c.group) != Some(&here) {
            continue;
        }
        let f = &c.finding;
        let site = |l: &Location| Site {
            repo: l.repo.clone(),
            path: l.path.clone(),
            line: l.line,
        };
        let key = (f.rule.clone(), site(&f.impacted), site(&f.change));
        findings.entry(key).or_insert_with(|| f.clone());
    }
    // One finding per rule and impacted site: the first change site wins.
    let mut out: Vec<Finding> = Vec::new();
    for f in findings.into_values() {
        if !out.iter().any(|o| {
            o.rule == f.rule
                && o.impacted.repo == f.impacted.repo
                && o.impacted.path == f.impacted.path
                && o.impacted.line == f.impacted.line
        }) {
            out.push(f);
        }
    }
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

/// The parts of a finding that evaluators fill in; [`Parts::finish`] renders the rule's
/// templates and reads the excerpts.
pub struct Parts {
    pub kind: ResourceKind,
    pub before: Option<String>,
    pub after: Option<String>,
    pub change: Site,
    pub change_version: Version,
    pub change_note: String,
    pub impacted: Site,
    pub impacted_version: Version,
    pub impacted_note: String,
    /// Where the values used at the two sites were built, nearest first.
    pub change_origins: Vec<Origin>,
    pub impacted_origins: Vec<Origin>,
    pub values: Vec<(&'static str, String)>,
    pub explanation: Vec<String>,
    pub notes: Vec<String>,
}

impl Parts {
    pub fn finish(self, rule: &ImpactRule, excerpts: Excerpts<'_>) -> Finding {
        let values = &self.values;
        let change_origins = origin_locations(
            &self.change_origins,
            &self.change,
            self.change_version,
            excerpts,
        );
        let impacted_origins = origin_locations(
            &self.impacted_origins,
            &self.impacted,
            self.impacted_version,
            excerpts,
        );
        Finding {
            rule: rule.id.clone(),
            severity: rule.severity,
            title: render(&rule.title, values),
            message: render(&rule.message, values),
            resource: ResourceChange {
                kind: self.kind,
                before: self.before,
                after: self.after,
            },
            change: Location {
                excerpt: excerpts(&self.change, self.change_version),
                repo: self.change.repo,
                path: self.change.path,
                line: self.change.line,
                note: self.change_note,
                origins: change_origins,
            },
            impacted: Location {
                excerpt: excerpts(&self.impacted, self.impacted_version),
                repo: self.impacted.repo,
                path: self.impacted.path,
                line: self.impacted.line,
                note: self.impacted_note,
                origins: impacted_origins,
            },
            explanation: self.explanation,
            notes: dedup(self.notes),
            help: rule.help.as_ref().map(|h| render(h, values)),
            patch: None,
        }
    }
}

/// The origins of a site's value as findings show them: the site itself left out (a literal
/// written where it is used has no other origin), each line once, nearest first. Origins in the
/// changed repository are read in the site's version; others (a launcher elsewhere) at head.
pub fn origin_locations(
    origins: &[Origin],
    site: &Site,
    version: Version,
    excerpts: Excerpts<'_>,
) -> Vec<OriginLocation> {
    let mut out: Vec<OriginLocation> = Vec::new();
    for origin in origins {
        let at = &origin.site;
        if at == site
            || out
                .iter()
                .any(|o| (&o.repo, &o.path, o.line) == (&at.repo, &at.path, at.line))
        {
            continue;
        }
        let version = if at.repo == site.repo {
            version
        } else {
            Version::Head
        };
        out.push(OriginLocation {
            repo: at.repo.clone(),
            path: at.path.clone(),
            line: at.line,
            note: origin.note.clone(),
            excerpt: excerpts(at, version),
        });
    }
    out
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Joins displays, each once.
pub fn join_unique(items: impl Iterator<Item = String>) -> String {
    dedup(items.collect()).join(", ")
}
