//! Audit: the graph of the current state x audit rules -> [`Finding`]s, with no change.
//!
//! Input: the graph of one world (every repository given, as it is now), the rules whose `when`
//! is an audit one ([`When::is_audit`]), the assumed external producers, and a way to read source
//! lines. Output: findings of the normal type, each about one site: `change` equals `impacted`
//! (there is no changed site), and the other end of the mismatch, when there is one, is a step of
//! the explanation.
//!
//! Two kinds of audit rule: those with an evaluator of their own here (paths nothing produces,
//! cleanups that match nothing, dated outputs nothing cleans), and those that run a change rule
//! with every access taken as new ([`When::change_counterpart`]: waits on scheduled producers,
//! queues with one side only, launchers missing a required variable) through the change
//! evaluators, so that both commands say the same thing about the same shape.
//!
//! Precision first: a path is only reported when analysed code demonstrably manages its
//! directory (some other unit writes there), when it has no value left open (`{name}`) or
//! unresolved variable, when no assumption covers it, and when no mention in a language knockon
//! does not parse could be its producer.

use super::{Candidate, Excerpts, Parts, Version};
use crate::change::Deltas;
use crate::finding::Finding;
use crate::graph::Graph;
use crate::model::{Mode, ResourceKind};
use crate::pattern::Pattern;
use crate::resolve::{Access, Resource};
use crate::rules::assumptions::Assumptions;
use crate::rules::impact::{ImpactRule, ImpactRules, When};
use std::collections::BTreeMap;

/// Evaluates the enabled audit rules on the world. `deltas` are the world's accesses taken as
/// new (see [`crate::change::everything_new`]), for rules that reuse a change evaluator.
pub fn evaluate(
    deltas: &Deltas,
    graph: &Graph,
    rules: &ImpactRules,
    assumptions: &Assumptions,
    files: &WorldFiles,
    excerpts: Excerpts<'_>,
) -> Vec<Finding> {
    let world = World {
        graph,
        assumptions,
        files,
    };
    let enabled: Vec<(usize, &ImpactRule)> = rules
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.enabled && r.when.is_audit())
        .collect();
    let mut out: Vec<Finding> = Vec::new();
    for (order, rule) in enabled {
        let candidates = match rule.when {
            When::AuditReadUnproduced | When::AuditCleanupMatchesNothing => {
                unproduced(rule, order, &world, excerpts)
            }
            When::AuditDatedOutputUncleaned => uncleaned_outputs(rule, order, graph, excerpts),
            When::AuditFieldUnsent => fields_unsent(rule, order, graph, excerpts),
            When::AuditSetUnread => settings_unread(rule, order, &world, excerpts),
            When::AuditSecretUnrotated => secrets_unrotated(rule, order, graph, excerpts),
            other => match other.change_counterpart() {
                Some(when) => through_change_rule(rule, when, order, deltas, &world, excerpts),
                None => Vec::new(),
            },
        };
        out.extend(candidates.into_iter().map(|c| c.finding));
    }
    // One finding per rule and impacted site, and per rule, unit and resource (a loop that
    // lists and reads the same missing files is one finding, at its first line).
    let mut seen: BTreeMap<(String, String, String, u32), ()> = BTreeMap::new();
    let mut by_unit: BTreeMap<(String, String, String, String), ()> = BTreeMap::new();
    out.sort_by(|a, b| {
        (&a.rule, &a.impacted.repo, &a.impacted.path, a.impacted.line).cmp(&(
            &b.rule,
            &b.impacted.repo,
            &b.impacted.path,
            b.impacted.line,
        ))
    });
    out.retain(|f| {
        let site = (
            f.rule.clone(),
            f.impacted.repo.clone(),
            f.impacted.path.clone(),
            f.impacted.line,
        );
        let unit = (
            f.rule.clone(),
            f.impacted.repo.clone(),
            f.impacted.path.clone(),
            format!("{:?}", (&f.resource.before, &f.resource.after)),
        );
        seen.insert(site, ()).is_none() && by_unit.insert(unit, ()).is_none()
    });
    for finding in &mut out {
        super::name_unknown_values(finding);
    }
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

/// What the audit evaluators read besides the rules.
struct World<'a> {
    graph: &'a Graph,
    assumptions: &'a Assumptions,
    files: &'a WorldFiles,
}

/// The files of every repository (read or not), for the evidence that a path ships with the
/// code and that a program's name is unambiguous.
#[derive(Default)]
pub struct WorldFiles {
    /// Repository-relative paths, each with a leading `/`.
    paths: Vec<String>,
    names: std::collections::HashMap<String, usize>,
    /// (repository, path) of the files whose every environment read knockon sees: Python or
    /// Rust source read by the audit (not from an index) with no open-ended environment use
    /// ([`env_is_closed`]).
    env_closed: std::collections::HashSet<(String, String)>,
}

impl WorldFiles {
    pub fn new<'p>(paths: impl Iterator<Item = &'p str>) -> WorldFiles {
        let mut files = WorldFiles::default();
        for path in paths {
            let name = path.rsplit('/').next().unwrap_or(path);
            *files.names.entry(name.to_string()).or_default() += 1;
            files.paths.push(format!("/{path}"));
        }
        files
    }

    /// Records that a file's source reads no variable knockon cannot see ([`env_is_closed`]).
    pub fn mark_env_closed(&mut self, repo: String, path: String) {
        self.env_closed.insert((repo, path));
    }

    /// How many files of the world have this file name.
    fn named(&self, name: &str) -> usize {
        self.names.get(name).copied().unwrap_or(0)
    }

    /// Does a repository file end with a path of `pattern` (`root/defaults/x.conf` for
    /// `/defaults/x.conf`)? Then the path most likely ships with the code (a Dockerfile's
    /// `COPY root/ /`, a package's install, an ansible `copy`), which knockon does not model as
    /// a producer of that exact path.
    fn ships(&self, pattern: &Pattern) -> bool {
        self.paths.iter().any(|path| {
            path.char_indices()
                .filter(|(_, c)| *c == '/')
                .any(|(i, _)| pattern.matches(&path[i..]))
        })
    }
}

/// Runs a change rule over the world's accesses taken as new, under the audit rule's id and
/// words, and makes each finding about one site: the audit rule says which end needs a patch.
fn through_change_rule(
    rule: &ImpactRule,
    when: When,
    order: usize,
    deltas: &Deltas,
    world: &World<'_>,
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let graph = world.graph;
    let mut as_change = rule.clone();
    as_change.when = when;
    let rules = [(order, &as_change)];
    let candidates = match when {
        When::WaitOnScheduledProducer => super::waits::candidates(deltas, graph, &rules, excerpts),
        When::ConsumeUnproduced | When::PublishUnconsumed => {
            super::names::candidates(deltas, graph, &rules, excerpts)
        }
        When::RequirementNotPassed => super::env::candidates(deltas, graph, &rules, excerpts),
        _ => Vec::new(),
    };
    // A wait is the code to fix (it waits for what never comes when asked); a launcher missing
    // a variable is where to add it; a lonely queue use is about itself.
    let at_change_site = when == When::WaitOnScheduledProducer;
    candidates
        .into_iter()
        .filter(|c| when != When::RequirementNotPassed || launch_is_clear(world, &c.finding))
        .map(|mut c| {
            let f = &mut c.finding;
            if at_change_site {
                std::mem::swap(&mut f.change, &mut f.impacted);
            }
            if (&f.change.repo, &f.change.path, f.change.line)
                != (&f.impacted.repo, &f.impacted.path, f.impacted.line)
            {
                let related = format!(
                    "related: {}/{}:{} {}",
                    f.change.repo, f.change.path, f.change.line, f.change.note
                );
                f.explanation.push(related.trim_end().to_string());
            }
            f.change = f.impacted.clone();
            c
        })
        .collect()
}

/// Consumers that read a message field without a default that no producer of their queue
/// sends (`queue.audit-field-unsent`): the change rule `field-dropped` run with each such field
/// taken as dropped by a producer as it is now, under the audit rule's id and words.
///
/// Precision first: only when the queue has producers in the analysed repositories, each of
/// them publishes a message whose shape knockon reads (a dict literal, a serialised struct: its
/// fields are known), and no field of that name is sent by any of them. A producer whose message
/// knockon cannot see into (a variable passed through, a spread) leaves the consumer alone.
fn fields_unsent(
    rule: &ImpactRule,
    order: usize,
    graph: &Graph,
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let mut as_change = rule.clone();
    as_change.when = When::FieldDropped;
    let mut out = Vec::new();
    for consumer in &graph.accesses {
        if consumer.mode != Mode::Consume {
            continue;
        }
        let Resource::Queue(queue) = &consumer.resource else {
            continue;
        };
        if queue.fields.iter().all(|f| f.optional) {
            continue;
        }
        let producers: Vec<&Access> =
            super::names::counterparts(graph, consumer, crate::change::Side::Producer)
                .into_iter()
                .map(|id| graph.access(id))
                .filter(|a| a.mode == Mode::Publish)
                .collect();
        let shapes: Option<Vec<&[crate::extract::FieldUse]>> = producers
            .iter()
            .map(|p| match &p.resource {
                Resource::Queue(q) if !q.fields.is_empty() => Some(q.fields.as_slice()),
                _ => None,
            })
            .collect();
        let (Some(first), Some(shapes)) = (producers.first(), shapes) else {
            continue;
        };
        let sent = |name: &str| shapes.iter().flat_map(|s| s.iter()).any(|f| f.name == name);
        for field in queue
            .fields
            .iter()
            .filter(|f| !f.optional && !sent(&f.name))
        {
            let change = crate::change::FieldChange {
                base: (*first).clone(),
                head: (*first).clone(),
                dropped: vec![field.clone()],
                nullable: Vec::new(),
            };
            let found = super::fields::field_candidates(
                &as_change, order, &change, field, true, graph, excerpts,
            );
            let producer_sites: Vec<String> = producers
                .iter()
                .map(|p| format!("{} ({})", p.unit, p.site))
                .collect();
            for mut candidate in found {
                let f = &mut candidate.finding;
                if (&f.impacted.repo, &f.impacted.path, f.impacted.line)
                    != (&consumer.site.repo, &consumer.site.path, field.line)
                {
                    continue;
                }
                f.change = f.impacted.clone();
                f.resource.before = None;
                f.explanation.truncate(1);
                f.explanation.push(format!(
                    "no publish to {} in the analysed repositories sends `{}`: {}",
                    consumer.resource.display(),
                    field.name,
                    producer_sites.join(", ")
                ));
                out.push(candidate);
            }
        }
    }
    out
}

/// Does this file read only environment variables it names literally, and pass the
/// environment to nothing else? Python and Rust only: a shell script hands its environment to
/// every command it runs. Open-ended uses — a computed name (`os.environ[name]`,
/// `env::var(key)`), the whole environment (`os.environ.copy()`, `**os.environ`,
/// `env::vars()`), a child process (`subprocess`, `os.exec*`, `Command::new`), a settings
/// library that reads by prefix or from a dotenv file (pydantic `BaseSettings`, dynaconf,
/// environs, decouple, clap's `env`, envy, figment) — make it open.
pub fn env_is_closed(path: &str, text: &str) -> bool {
    const PYTHON_OPEN: &[&str] = &[
        "subprocess",
        "os.system",
        "os.exec",
        "os.spawn",
        "os.popen",
        "Popen",
        "pexpect",
        "environ.copy",
        "dict(os.environ",
        "**os.environ",
        "os.environ)",
        "os.environ,",
        "environ.items",
        "environ.keys",
        "environ.values",
        "in os.environ:",
        "BaseSettings",
        "dynaconf",
        "environs",
        "decouple",
        "dotenv",
        "env_prefix",
        "envvar",
        "click",
        "typer",
    ];
    const RUST_OPEN: &[&str] = &[
        "Command::new",
        "env::vars",
        "envy",
        "figment",
        "config::Environment",
        "dotenv",
        "clap",
    ];
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    let (open, calls): (&[&str], &[&str]) = match ext {
        "py" => (
            PYTHON_OPEN,
            &[
                "environ[",
                "environ.get(",
                "getenv(",
                "environ.pop(",
                "environ.setdefault(",
            ],
        ),
        "rs" => (
            RUST_OPEN,
            &["env::var(", "env::var_os(", "env!(", "option_env!("],
        ),
        _ => return false,
    };
    if open.iter().any(|needle| text.contains(needle)) {
        return false;
    }
    // Every read names its variable with a string literal.
    calls.iter().all(|call| {
        text.match_indices(call)
            .all(|(i, _)| text[i + call.len()..].trim_start().starts_with(['"', '\'']))
    })
}

/// Launchers that set an environment variable that nothing the launched program runs reads
/// (`env.audit-set-unread`): the standing form of `credential.setting-left-unread`, with the
/// same notion of a launcher's own launch. Only when the launch reaches code knockon reads
/// whole (Python or Rust files, read by the audit, with no open-ended environment use), no
/// analysed code anywhere reads the name, and the name is not one a runtime, an image or a
/// library reads by itself (`rules/audit/runtime-variables.toml`).
fn settings_unread(
    rule: &ImpactRule,
    order: usize,
    world: &World<'_>,
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    use crate::change::Side;
    let graph = world.graph;
    // Names read anywhere (a read in the launcher's own unit counts too).
    let read: std::collections::HashSet<&str> = graph
        .accesses
        .iter()
        .filter(|a| matches!(a.resource, Resource::Env(_)) && a.mode != Mode::Set)
        .filter_map(|a| crate::change::names_of_access(a)?.literal())
        .collect();
    let mut out = Vec::new();
    for setter in &graph.accesses {
        if setter.mode != Mode::Set || !matches!(setter.resource, Resource::Env(_)) {
            continue;
        }
        let Some(name) = crate::change::names_of_access(setter).and_then(|n| n.literal()) else {
            continue;
        };
        if read.contains(name)
            || world.assumptions.runtime_reads(name).is_some()
            || !super::names::counterparts(graph, setter, Side::Consumer).is_empty()
        {
            continue;
        }
        // The setter's own launch: its scope, one nested in it (a compose service's
        // `services.web.command`) or a line of it (a unit's `(ExecStart)`).
        let own_launch = |l: &crate::resolve::Launch| {
            l.site.repo == setter.site.repo
                && l.site.path == setter.site.path
                && (l.unit == setter.unit
                    || l.unit.starts_with(&format!("{}.", setter.unit))
                    || l.unit.starts_with(&format!("{} (", setter.unit)))
                && l.passes.iter().any(|p| p == name)
        };
        let launches: Vec<&crate::resolve::Launch> =
            graph.launches.iter().filter(|l| own_launch(l)).collect();

        let whole = |l: &&crate::resolve::Launch| {
            !l.reaches.is_empty() && l.reaches.iter().all(|f| world.files.env_closed.contains(f))
        };
        let Some(launch) = launches.first() else {
            continue;
        };
        if !launches.iter().all(whole) {
            continue;
        }
        let program = launch.reaches[0].1.clone();
        let files: Vec<String> = launch.reaches.iter().map(|(_, p)| p.clone()).collect();
        let parts = Parts {
            kind: setter.kind(),
            before: None,
            after: Some(name.to_string()),
            change: setter.site.clone(),
            change_version: Version::Head,
            change_note: setter.describe(),
            impacted: setter.site.clone(),
            impacted_version: Version::Head,
            change_origins: setter.origins.clone(),
            impacted_origins: setter.origins.clone(),
            impacted_note: setter.describe(),
            values: vec![
                ("variable", name.to_string()),
                ("program", program.clone()),
                ("unit", setter.unit.clone()),
                ("counterpart_unit", launch.unit.clone()),
                ("after", name.to_string()),
            ],
            explanation: vec![
                format!("{} {} ({})", setter.unit, setter.describe(), setter.site),
                format!(
                    "{} launches {} ({}), whose code is {}",
                    launch.unit,
                    program,
                    launch.site,
                    files.join(", ")
                ),
                format!(
                    "no analysed code reads {name}, and that code reads the environment only by \
                     literal names and starts no other program"
                ),
            ],
            notes: setter.notes.clone(),
        };
        out.push(Candidate {
            order,
            group: (
                setter.site.repo.clone(),
                format!("{}#{name}", setter.unit),
                setter.site.clone(),
            ),
            finding: parts.finish(rule, excerpts),
        });
    }
    out
}

/// The secret stores whose rotation knockon models (a `rotate` use in the models): AWS Secrets
/// Manager (`aws secretsmanager rotate-secret`, boto3 and the Rust SDK's `rotate_secret`).
/// Vault, SSM, GCP and Kubernetes secrets have writes modelled but no rotation, so a secret
/// of theirs nobody writes says nothing.
const ROTATION_MODELLED: &[&str] = &["aws-secretsmanager"];

/// Secrets read that nothing in the world writes or rotates (`credential.audit-secret-
/// unrotated`), in stores whose rotation knockon models, and only when analysed code rotates
/// another secret of the same store: the evidence that rotation is done from these
/// repositories (and not by infrastructure code or a console knockon does not see).
fn secrets_unrotated(
    rule: &ImpactRule,
    order: usize,
    graph: &Graph,
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    use crate::change::Side;
    let provider_of = |a: &Access| match &a.resource {
        Resource::Secret { provider, .. } if ROTATION_MODELLED.contains(&provider.as_str()) => {
            Some(provider.clone())
        }
        _ => None,
    };
    let rotations: Vec<&Access> = graph
        .accesses
        .iter()
        .filter(|a| a.mode == Mode::Rotate && provider_of(a).is_some())
        .collect();
    let mut out = Vec::new();
    for reader in &graph.accesses {
        if !matches!(reader.mode, Mode::Read | Mode::WaitFor) {
            continue;
        }
        let Some(provider) = provider_of(reader) else {
            continue;
        };
        let Some(id) = crate::change::names_of_access(reader).and_then(|n| n.literal()) else {
            continue;
        };
        if !super::names::counterparts(graph, reader, Side::Producer).is_empty() {
            continue;
        }
        let Some(rotation) = rotations.iter().find(|r| {
            provider_of(r).as_deref() == Some(provider.as_str())
                && crate::change::names_of_access(r).and_then(|n| n.literal()) != Some(id)
        }) else {
            continue;
        };
        let display = reader.resource.display().to_string();
        let parts = Parts {
            kind: reader.kind(),
            before: None,
            after: Some(display.clone()),
            change: reader.site.clone(),
            change_version: Version::Head,
            change_note: reader.describe(),
            impacted: reader.site.clone(),
            impacted_version: Version::Head,
            change_origins: reader.origins.clone(),
            impacted_origins: reader.origins.clone(),
            impacted_note: reader.describe(),
            values: vec![
                ("unit", reader.unit.clone()),
                ("consumer", reader.unit.clone()),
                ("consumer_verb", reader.mode.verb().to_string()),
                ("resource", display.clone()),
                ("after", display.clone()),
                ("store", provider.clone()),
                ("counterpart", rotation.resource.display().to_string()),
                ("counterpart_verb", rotation.mode.verb().to_string()),
                ("counterpart_unit", rotation.unit.clone()),
            ],
            explanation: vec![
                format!("{} {} ({})", reader.unit, reader.describe(), reader.site),
                format!(
                    "{} {} ({}): secrets of {provider} are rotated from the analysed code",
                    rotation.unit,
                    rotation.describe(),
                    rotation.site
                ),
                format!("nothing in the analysed repositories writes or rotates {display}"),
            ],
            notes: reader.notes.clone(),
        };
        out.push(Candidate {
            order,
            group: (
                reader.site.repo.clone(),
                reader.unit.clone(),
                reader.site.clone(),
            ),
            finding: parts.finish(rule, excerpts),
        });
    }
    out
}

/// A path pattern fit for an audit: absolute, anchored, local, every value known (no `{hole}`,
/// no `${UNSET}` variable), and under a directory of at least two levels, so that there is a
/// directory some code can be seen to manage.
fn auditable(pattern: &Pattern) -> bool {
    let shown = pattern.display();
    let dir = pattern.literal_prefix();
    pattern.is_absolute()
        && !pattern.is_remote()
        && crate::resolve::paths::is_anchored(pattern)
        && !shown.contains('{')
        && !shown.contains('$')
        && dir.matches('/').count() >= 3
}

/// The access's path patterns, when every one of them is fit for an audit.
fn audited_patterns(access: &Access) -> Option<&[Pattern]> {
    let set = access.resource.as_path()?;
    (!set.patterns.is_empty() && set.filters.is_empty() && set.patterns.iter().all(auditable))
        .then_some(set.patterns.as_slice())
}

/// Accesses that may put content at a path of `pattern`, `mkdir` and `touch` included: a
/// reader of an empty marker is served by whoever creates it.
fn producers_of<'g>(graph: &'g Graph, pattern: &Pattern, repo: &str) -> Vec<&'g Access> {
    graph
        .path_candidates(pattern, repo)
        .into_iter()
        .map(|id| graph.access(id))
        .filter(|a| a.mode.produces() && touches(a, pattern))
        .collect()
}

fn touches(access: &Access, pattern: &Pattern) -> bool {
    access
        .resource
        .as_path()
        .is_some_and(|set| set.overlaps(pattern))
}

/// A mention of the path in a file knockon does not parse (a Go program, a JSON file): its
/// effect is unknown, so it may be the producer, and nothing is reported.
fn mentioned_elsewhere(graph: &Graph, pattern: &Pattern, access: &Access) -> bool {
    graph
        .path_candidates(pattern, &access.site.repo)
        .into_iter()
        .map(|id| graph.access(id))
        .any(|a| a.mode == Mode::Unknown && a.site != access.site && touches(a, pattern))
}

/// The evidence that analysed code manages the files of `pattern`: a producer in another unit
/// that writes files of the same kind (the same extension) in the same directory or below — the
/// shape of a reader or cleanup left behind when the producer changed its names. Without it, the
/// path is simply outside the analysed world (a tool's output, a downloaded archive), which is
/// no finding.
fn sibling<'g>(graph: &'g Graph, pattern: &Pattern, access: &Access) -> Option<&'g Access> {
    let kind = extension(pattern.base_display())?;
    let dir = pattern.literal_prefix();
    let below = Pattern::glob(&format!("{dir}**"));
    producers_of(graph, &below, &access.site.repo)
        .into_iter()
        .filter(|p| matches!(p.mode, Mode::Write | Mode::Append | Mode::MoveTo))
        .filter(|p| !(p.site.repo == access.site.repo && p.unit == access.unit))
        .find(|p| {
            p.resource.as_path().is_some_and(|set| {
                set.patterns
                    .iter()
                    .any(|q| extension(q.base_display()).as_deref() == Some(kind.as_str()))
            })
        })
}

/// The literal extension of a path's last segment (`csv` of `/a/ticker_*.csv`), if it has one.
fn extension(path: &str) -> Option<String> {
    let name = path.rsplit('/').next()?;
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty()
        && !ext.is_empty()
        && ext.len() <= 10
        && ext.chars().all(|c| c.is_ascii_alphanumeric()))
    .then(|| ext.to_ascii_lowercase())
}

/// A launcher finding is clear when the launcher is not an image's own entrypoint (a container's
/// environment is set by whoever runs it) and the program it reaches has a file name no other
/// file of the world has (a launch of `/start.sh` could be any of ten `start.sh`).
fn launch_is_clear(world: &World<'_>, finding: &Finding) -> bool {
    let launcher = finding.impacted.path.rsplit('/').next().unwrap_or_default();
    let image = launcher.starts_with("Dockerfile")
        || launcher.starts_with("Containerfile")
        || launcher.ends_with(".dockerfile");
    let program = finding.change.path.rsplit('/').next().unwrap_or_default();
    // `[ -z "$X" ]` and `[ -n "$X" ]` test whether the variable is set: a read that expects it
    // may be missing.
    let presence_test = finding.change.excerpt.as_deref().is_some_and(|line| {
        let line = line.replace(' ', "");
        line.contains("-z\"$")
            || line.contains("-n\"$")
            || line.contains("-z$")
            || line.contains("-n$")
    });
    !image && !presence_test && world.files.named(program) == 1
}

/// Readers (`path.audit-read-unproduced`) or cleanups (`path.audit-cleanup-matches-nothing`)
/// of paths nothing produces, with a sibling producer in the same directory as evidence.
fn unproduced(
    rule: &ImpactRule,
    order: usize,
    world: &World<'_>,
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let graph = world.graph;
    let cleanup = rule.when == When::AuditCleanupMatchesNothing;
    let mut out = Vec::new();
    for access in &graph.accesses {
        if !rule.counterpart_modes.contains(&access.mode) {
            continue;
        }
        let Some(patterns) = audited_patterns(access) else {
            continue;
        };
        if patterns.iter().any(|p| {
            world.assumptions.covering(p).is_some()
                || !producers_of(graph, p, &access.site.repo).is_empty()
                || mentioned_elsewhere(graph, p, access)
                || world.files.ships(p)
        }) {
            continue;
        }
        let Some((pattern, near)) = patterns
            .iter()
            .find_map(|p| sibling(graph, p, access).map(|n| (p, n)))
        else {
            continue;
        };
        let evidence = if cleanup {
            format!(
                "{} writes {} ({}), which the cleanup's pattern does not match",
                near.unit,
                near.resource.display(),
                near.site
            )
        } else {
            format!(
                "{} writes {} into {} ({}), but nothing in the analysed repositories produces {}",
                near.unit,
                near.resource.display(),
                pattern.literal_prefix(),
                near.site,
                access.resource.display()
            )
        };
        out.push(about_one_site(
            graph, rule, order, access, near, pattern, evidence, excerpts,
        ));
    }
    out
}

fn uncleaned_outputs(
    rule: &ImpactRule,
    order: usize,
    graph: &Graph,
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for access in &graph.accesses {
        if !rule.counterpart_modes.contains(&access.mode) {
            continue;
        }
        let Some(set) = access.resource.as_path() else {
            continue;
        };
        let dated: Vec<&Pattern> = set
            .patterns
            .iter()
            .filter(|p| {
                p.is_dated()
                    && p.is_absolute()
                    && !p.is_remote()
                    && crate::resolve::paths::is_anchored(p)
                    && p.spelled_only().is_some_and(|s| !s.display().contains('$'))
            })
            .collect();
        if dated.is_empty() || dated.len() != set.patterns.len() {
            continue;
        }
        // Any delete, move-away or rotation that may touch the outputs counts as their
        // retention, whatever its conditions (`-mtime +3`), and so does a mention knockon
        // cannot read (a retention option in a config file of an unparsed format).
        let cleaned = dated.iter().any(|p| {
            graph
                .path_candidates(p, &access.site.repo)
                .into_iter()
                .map(|id| graph.access(id))
                .any(|a| {
                    matches!(a.mode, Mode::Delete | Mode::MoveFrom | Mode::Unknown)
                        && a.site != access.site
                        && touches(a, p)
                })
        });
        // The disk-fills-up shape is a producer that runs again and again: one started by a
        // schedule or a loop. A one-off (an installer's backup, a command run by hand) is not.
        let recurring = graph.jobs_of_access(access).any(|j| {
            j.schedule().is_some() || matches!(j.kind, crate::resolve::JobKind::Loop { .. })
        });
        if cleaned || !recurring {
            continue;
        }
        let pattern = dated[0];
        out.push(about_one_site(
            graph,
            rule,
            order,
            access,
            access,
            pattern,
            format!(
                "no delete, move or rotation in the analysed repositories matches {}",
                access.resource.display()
            ),
            excerpts,
        ));
    }
    out
}

/// A finding about one access, its change site equal to it; `related` (a neighbouring
/// producer, or the access itself) fills `{counterpart…}`.
#[allow(clippy::too_many_arguments)] // one call per rule; a struct would only rename them
fn about_one_site(
    graph: &Graph,
    rule: &ImpactRule,
    order: usize,
    access: &Access,
    related: &Access,
    pattern: &Pattern,
    evidence: String,
    excerpts: Excerpts<'_>,
) -> Candidate {
    let display = access.resource.display().to_string();
    let mut explanation = vec![format!(
        "{} {} ({})",
        access.unit,
        access.describe(),
        access.site
    )];
    for job in graph.jobs_of_access(access) {
        explanation.push(format!("{} {}", access.unit, job.describe()));
    }
    explanation.push(evidence);
    let kind = if matches!(access.resource, Resource::Path(_)) {
        ResourceKind::Path
    } else {
        access.kind()
    };
    let parts = Parts {
        kind,
        before: None,
        after: Some(display.clone()),
        change: access.site.clone(),
        change_version: Version::Head,
        change_note: access.describe(),
        impacted: access.site.clone(),
        impacted_version: Version::Head,
        change_origins: access.origins.clone(),
        impacted_origins: access.origins.clone(),
        impacted_note: access.describe(),
        values: vec![
            ("unit", access.unit.clone()),
            ("consumer", access.unit.clone()),
            ("consumer_verb", access.mode.verb().to_string()),
            ("resource", display.clone()),
            ("after", display),
            ("directory", pattern.literal_prefix().to_string()),
            ("counterpart", related.resource.display().to_string()),
            ("counterpart_verb", related.mode.verb().to_string()),
            ("counterpart_unit", related.unit.clone()),
        ],
        explanation,
        notes: access.notes.clone(),
    };
    Candidate {
        order,
        group: (
            access.site.repo.clone(),
            access.unit.clone(),
            access.site.clone(),
        ),
        finding: parts.finish(rule, excerpts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_deep_local_paths_are_audited() {
        assert!(auditable(&Pattern::glob("/data/ticker/ticker_*.csv")));
        assert!(!auditable(&Pattern::glob("/data/x.csv")));
        assert!(!auditable(&Pattern::glob("relative/dir/x.csv")));
        assert!(!auditable(&Pattern::glob("s3://bucket/dir/x.csv")));
    }
}
