//! Path rules: a cleanup or reader elsewhere that matched what the changed code wrote.
//!
//! For each output the change stops producing, the counterparts are the anchored accesses in
//! other units whose patterns are compatible with it; each counterpart is tested against the
//! path rules in order and the first rule whose conditions hold makes the candidate.

use super::{Candidate, Excerpts, Version, join_unique};
use crate::change::{Deltas, OutputChange, meets_without_holes};
use crate::finding::{Finding, Location, ResourceChange};
use crate::graph::{AccessId, Graph};
use crate::model::{Mode, Site};
use crate::pattern::Pattern;
use crate::resolve::{Access, PathSet};
use crate::rules::impact::{After, Before, ImpactRule, When, render};

/// Candidates of the path rules (`rules` with their evaluation order).
pub fn candidates(
    deltas: &Deltas,
    graph: &Graph,
    rules: &[(usize, &ImpactRule)],
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let path_rules: Vec<(usize, &ImpactRule)> = rules
        .iter()
        .copied()
        .filter(|(_, r)| r.when.is_path())
        .collect();
    // (rule order, finding) per (counterpart unit, changed output).
    let mut candidates: Vec<(usize, (String, String, Site), Finding)> = Vec::new();
    for change in &deltas.outputs {
        let Some(removed_set) = change.removed.resource.as_path() else {
            continue;
        };
        let mut seen: Vec<AccessId> = Vec::new();
        for removed_pattern in &removed_set.patterns {
            for id in graph.path_candidates(removed_pattern, &change.removed.site.repo) {
                if seen.contains(&id) {
                    continue;
                }
                seen.push(id);
                let counterpart = graph.access(id);
                if counterpart.site.repo == change.removed.site.repo
                    && counterpart.unit == change.removed.unit
                {
                    continue;
                }
                let Some(counterpart_set) = counterpart.resource.as_path() else {
                    continue;
                };
                for (order, rule) in path_rules.iter().copied() {
                    if let Some(finding) = apply(
                        rule,
                        change,
                        removed_pattern,
                        id,
                        counterpart_set,
                        graph,
                        excerpts,
                    ) {
                        let unit = (
                            counterpart.site.repo.clone(),
                            counterpart.unit.clone(),
                            change.removed.site.clone(),
                        );
                        candidates.push((order, unit, finding));
                        break;
                    }
                }
            }
        }
    }
    candidates
        .into_iter()
        .map(|(order, group, finding)| Candidate {
            order,
            group,
            finding,
        })
        .collect()
}

/// The finding `rule` makes for this counterpart of this change, if its conditions hold.
fn apply(
    rule: &ImpactRule,
    change: &OutputChange,
    removed_pattern: &Pattern,
    counterpart_id: AccessId,
    counterpart_set: &PathSet,
    graph: &Graph,
    excerpts: Excerpts<'_>,
) -> Option<Finding> {
    let counterpart = graph.access(counterpart_id);
    if !rule.counterpart_modes.contains(&counterpart.mode) {
        return None;
    }
    if let Some(names) = &rule.output_names {
        let display = removed_pattern.base_display();
        let file_name = display.rsplit('/').next().unwrap_or(display);
        if !names.is_match(file_name) {
            return None;
        }
    }
    let before_holds = match rule.before {
        Before::Intersects => counterpart_set.overlaps(removed_pattern),
        Before::Covers => counterpart_set.covers(removed_pattern),
    };
    if !before_holds {
        return None;
    }
    let replacements = preferred_replacements(&change.replacements);
    if rule.when == When::OutputReplaced && replacements.is_empty() {
        return None;
    }
    let mut weak_producers: Vec<AccessId> = Vec::new();
    let missed: Vec<&Access> = match rule.after {
        After::MissesReplacement => {
            let missed: Vec<&Access> = replacements
                .iter()
                .copied()
                .filter(|r| {
                    r.resource
                        .as_path()
                        .is_some_and(|set| !set.patterns.iter().all(|p| counterpart_set.covers(p)))
                })
                .collect();
            if missed.is_empty() {
                return None;
            }
            missed
        }
        After::Unproduced => {
            let mut weak: Vec<AccessId> = Vec::new();
            for p in &counterpart_set.patterns {
                for pid in graph.producers_touching(p, &counterpart.site.repo) {
                    let producer = graph.access(pid);
                    if producer.site.repo == counterpart.site.repo
                        && producer.unit == counterpart.unit
                    {
                        continue;
                    }
                    if !meets_without_holes(producer, p) {
                        if !weak.contains(&pid) {
                            weak.push(pid);
                        }
                        continue;
                    }
                    return None;
                }
            }
            // Creating an empty file (`touch`, `install /dev/null`) makes it exist, with no
            // content: the reader still finds nothing to read, but the finding says so.
            for p in &counterpart_set.patterns {
                for cid in graph.path_candidates(p, &counterpart.site.repo) {
                    let creator = graph.access(cid);
                    if creator.mode == Mode::Create
                        && creator.unit != counterpart.unit
                        && creator
                            .resource
                            .as_path()
                            .is_some_and(|set| set.overlaps(p))
                        && !weak.contains(&cid)
                    {
                        // An existence check is satisfied by what creates the path
                        // (`mkdir -p /opt/plugins` before `stat /opt/plugins`).
                        if counterpart.mode == Mode::Check {
                            return None;
                        }
                        weak.push(cid);
                    }
                }
            }
            weak_producers = weak;
            replacements
        }
    };
    let mut finding = build_finding(rule, change, counterpart_id, &missed, graph, excerpts);
    for pid in weak_producers.iter().take(3) {
        let producer = graph.access(*pid);
        if producer.mode == Mode::Create {
            finding.explanation.push(format!(
                "{} {} ({}): an empty file, which does not count as writing it",
                producer.unit,
                producer.describe(),
                producer.site
            ));
            continue;
        }
        finding.explanation.push(format!(
            "{} may also write there ({} {}, {}), but only through a value knockon could not follow, which does not count as still writing it",
            producer.unit,
            producer.mode.verb(),
            producer.resource.display(),
            producer.site
        ));
    }
    Some(finding)
}

/// File writes first; directory creations only when nothing else is produced.
fn preferred_replacements(replacements: &[Access]) -> Vec<&Access> {
    let files: Vec<&Access> = replacements
        .iter()
        .filter(|a| a.mode != Mode::Create)
        .collect();
    if files.is_empty() {
        replacements.iter().collect()
    } else {
        files
    }
}

fn build_finding(
    rule: &ImpactRule,
    change: &OutputChange,
    counterpart_id: AccessId,
    after: &[&Access],
    graph: &Graph,
    excerpts: Excerpts<'_>,
) -> Finding {
    let counterpart = graph.access(counterpart_id);
    let before_display = change.removed.resource.display().to_string();
    let after_display = join_unique(after.iter().map(|a| a.resource.display().to_string()));
    let after_glob = suggest_glob(
        after
            .iter()
            .filter_map(|a| a.resource.as_path())
            .flat_map(|set| set.patterns.iter().map(|p| p.display())),
    );
    let job = graph
        .jobs_of(counterpart_id)
        .find(|j| j.schedule().is_some())
        .or_else(|| graph.jobs_of(counterpart_id).next());
    let schedule = job.map(|j| j.describe()).unwrap_or_default();
    let values = [
        ("producer", change.removed.unit.clone()),
        ("before", before_display.clone()),
        ("after", after_display.clone()),
        ("after_glob", after_glob),
        ("counterpart", counterpart.resource.display().to_string()),
        ("counterpart_verb", counterpart.mode.verb().to_string()),
        ("counterpart_unit", counterpart.unit.clone()),
        ("schedule", schedule.clone()),
    ];
    let (change_site, change_version, change_origins) = match after.first() {
        Some(a) => (a.site.clone(), Version::Head, &a.origins),
        None => (
            change.removed.site.clone(),
            Version::Base,
            &change.removed.origins,
        ),
    };
    let change_note = if after.is_empty() {
        format!("no longer {} {before_display}", change.removed.mode.verb())
    } else {
        format!(
            "now {} {after_display} (was {before_display})",
            after.first().map(|a| a.mode.verb()).unwrap_or("writes")
        )
    };
    let mut impacted_note = counterpart.describe();
    if let Some(j) = job {
        impacted_note.push_str("; ");
        impacted_note.push_str(&j.describe());
    }
    let mut explanation = vec![
        format!(
            "{} {} ({})",
            counterpart.unit,
            counterpart.describe(),
            counterpart.site
        ),
        format!(
            "at base, {} {} ({})",
            change.removed.unit,
            change.removed.describe(),
            change.removed.site
        ),
    ];
    if after.is_empty() {
        explanation.push(format!(
            "at head, nothing writes anything it {}",
            counterpart.mode.verb()
        ));
    } else {
        for a in after {
            explanation.push(format!("at head, {} {} ({})", a.unit, a.describe(), a.site));
        }
    }
    if let Some(j) = job {
        explanation.push(format!("{} {}", counterpart.unit, j.describe()));
    }
    let mut notes: Vec<String> = Vec::new();
    for note in change.removed.notes.iter().chain(&counterpart.notes) {
        if !notes.contains(note) {
            notes.push(note.clone());
        }
    }
    let change_origins =
        super::origin_locations(change_origins, &change_site, change_version, excerpts);
    Finding {
        rule: rule.id.clone(),
        severity: rule.severity,
        title: render(&rule.title, &values),
        message: render(&rule.message, &values),
        resource: ResourceChange {
            kind: change.removed.kind(),
            before: Some(before_display),
            after: (!after.is_empty()).then_some(after_display),
        },
        change: Location {
            excerpt: excerpts(&change_site, change_version),
            repo: change_site.repo,
            path: change_site.path,
            line: change_site.line,
            note: change_note,
            origins: change_origins,
        },
        impacted: Location {
            excerpt: excerpts(&counterpart.site, Version::Head),
            repo: counterpart.site.repo.clone(),
            path: counterpart.site.path.clone(),
            line: counterpart.site.line,
            note: impacted_note,
            origins: super::origin_locations(
                &counterpart.origins,
                &counterpart.site,
                Version::Head,
                excerpts,
            ),
        },
        explanation,
        notes,
        help: rule.help.as_ref().map(|h| render(h, &values)),
        patch: None,
    }
}

/// One glob that covers several patterns' displays, for help texts: holes become `*`, and
/// segments that differ between the patterns become `*` with their common extension kept
/// (`/d/{day}/NYSE.csv` and `/d/{day}/LSE.csv` give `/d/*/*.csv`).
fn suggest_glob(displays: impl Iterator<Item = String>) -> String {
    let globs: Vec<String> = displays.map(|d| generalize(&d)).collect();
    let Some(first) = globs.first() else {
        return String::new();
    };
    let split: Vec<Vec<&str>> = globs.iter().map(|g| g.split('/').collect()).collect();
    if split.iter().any(|s| s.len() != split[0].len()) {
        return first.clone();
    }
    let mut out: Vec<String> = Vec::new();
    for i in 0..split[0].len() {
        let column: Vec<&str> = split.iter().map(|s| s[i]).collect();
        if column.iter().all(|c| *c == column[0]) {
            out.push(column[0].to_string());
            continue;
        }
        let extension = column[0].rfind('.').map(|dot| &column[0][dot..]);
        match extension {
            Some(ext) if column.iter().all(|c| c.ends_with(ext)) => out.push(format!("*{ext}")),
            _ => out.push("*".to_string()),
        }
    }
    out.join("/")
}

/// A glob that covers a pattern's display: holes `{x}` become `*`; symbols `${X}` stay.
fn generalize(display: &str) -> String {
    let mut out = String::with_capacity(display.len());
    let mut rest = display;
    while let Some(start) = rest.find('{') {
        let is_symbol = rest[..start].ends_with('$');
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        if is_symbol {
            out.push_str(&rest[start..start + len + 1]);
        } else {
            out.push('*');
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::generalize;

    #[test]
    fn generalizes_holes() {
        assert_eq!(
            generalize("/data/ticker/{day}/{exchange}.csv"),
            "/data/ticker/*/*.csv"
        );
        assert_eq!(generalize("${DATA}/{x}.csv"), "${DATA}/*.csv");
        let many = ["/d/{day}/NYSE.csv", "/d/{day}/LSE.csv"].map(String::from);
        assert_eq!(super::suggest_glob(many.into_iter()), "/d/*/*.csv");
    }
}
