//! Kubernetes manifests -> workloads' containers, CronJob schedules, ConfigMaps and Secrets.
//!
//! Output for workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
//! Job, Pod, Argo Rollout; a scope `KIND/NAME`) and CronJobs (a [`ScopeKind::CronEntry`] scope with a
//! [`ScheduleFact`] for `spec.schedule`, described in words, so the job's containers inherit
//! the schedule), per container (a child scope `container NAME`):
//! - `env[].value`: `Env` sets with values (`$(VAR)` references as environment reads) and
//!   bindings; `valueFrom.secretKeyRef {name, key}`: an `Env` set whose value is a hole and a
//!   `read` of the secret `k8s-secret` `name/key` (`configMapKeyRef`: `k8s-configmap`);
//! - `envFrom[].secretRef`/`configMapRef`: a `read` of every key (`name/*`);
//! - `command` + `args`: analysed as shell in a child scope `command` (`sh -c` scripts at their
//!   own lines; exec form otherwise, so the program is a run reference), against `workingDir`;
//! - `volumeMounts` joined with the pod's `volumes`: secret and configMap volumes are a
//!   `move-to` on the files under the mount (`mountPath/**`, or each `items[].path`), since the
//!   cluster writes them there; `hostPath` volumes a binding `volume:<mountPath>` to the host
//!   path; claims and emptyDirs a binding to a path hole naming the volume.
//!
//! ConfigMaps and Secrets: each `data`/`stringData` key is a `set` of `k8s-configmap`/
//! `k8s-secret` `name/key`; a ConfigMap key that names a script or configuration file
//! (`cleanup.sh`, `crontab`, `app.conf`) has its content analysed as that format, at its lines.

use super::Ctx;
use super::tree::{Node, shell_text};
use crate::expr::{Expr, ScopeId};
use crate::extract::formats::common::{
    Interpolation, merge, path_access, push_scope, secret_access, set_env, value_expr,
};
use crate::extract::{
    Binding, FileFacts, Language, Reach, RunRef, RunTarget, ScheduleFact, Scope, ScopeKind, cron,
    extract_as,
};
use crate::model::Mode;

/// Kinds whose pod spec is at `spec.template.spec`.
const WORKLOADS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "Rollout",
    "DeploymentConfig",
];

fn kube(scope: ScopeId, line: u32) -> Interpolation {
    Interpolation {
        kube: true,
        ..Interpolation::default()
    }
    .at(scope, line)
}

pub(super) fn extract(ctx: &Ctx, facts: &mut FileFacts, root: &Node) {
    let kind = root.get("kind").and_then(Node::str).unwrap_or("");
    let name = root
        .at(&["metadata", "name"])
        .and_then(Node::str)
        .unwrap_or("unnamed")
        .to_string();
    let unit = format!("{kind}/{name}");
    match kind {
        "List" => {
            for item in root.get("items").map(Node::seq).unwrap_or_default() {
                if item.get("kind").is_some() {
                    extract(ctx, facts, item);
                }
            }
        }
        "Pod" => {
            let scope = push_scope(facts, 0, ScopeKind::Function, unit, root.line);
            if let Some(spec) = root.get("spec") {
                pod(ctx, facts, scope, spec);
            }
        }
        "CronJob" => cron_job(ctx, facts, root, unit),
        "ConfigMap" => {
            facts
                .deployments
                .extend(super::deployments::config_map(&name, root));
            data(ctx, facts, root, &name, "k8s-configmap", "k8s ConfigMap")
        }
        "Secret" => data(ctx, facts, root, &name, "k8s-secret", "k8s Secret"),
        k if WORKLOADS.contains(&k) => {
            let scope = push_scope(facts, 0, ScopeKind::Function, unit, root.line);
            if let Some(spec) = root.at(&["spec", "template", "spec"]) {
                pod(ctx, facts, scope, spec);
            }
        }
        _ => {}
    }
}

fn cron_job(ctx: &Ctx, facts: &mut FileFacts, root: &Node, unit: String) {
    let spec = root.get("spec");
    let schedule = spec.and_then(|s| s.entry("schedule"));
    let Some((key, value)) = schedule else {
        let scope = push_scope(facts, 0, ScopeKind::Function, unit, root.line);
        if let Some(pod_spec) = root.at(&["spec", "jobTemplate", "spec", "template", "spec"]) {
            pod(ctx, facts, scope, pod_spec);
        }
        return;
    };
    let expression = value.str().unwrap_or("").trim().to_string();
    let mut description = cron::describe_schedule(&expression)
        .unwrap_or_else(|| format!("on the schedule `{expression}`"));
    if let Some(zone) = spec.and_then(|s| s.get("timeZone")).and_then(Node::str) {
        description.push_str(&format!(" ({zone})"));
    }
    if spec.and_then(|s| s.get("suspend")).and_then(Node::str) == Some("true") {
        description.push_str(" (suspended)");
    }
    let job = facts.schedules.len();
    let scope = facts.push_scope(Scope {
        parent: Some(0),
        kind: ScopeKind::CronEntry,
        name: unit.into(),
        class: None,
        job: Some(job),
        line: key.line,
    });
    let pod_spec = root.at(&["spec", "jobTemplate", "spec", "template", "spec"]);
    facts.schedules.push(ScheduleFact {
        line: key.line,
        expression,
        description,
        user: None,
        command: pod_spec.map(command_summary).unwrap_or_default(),
        env: pod_spec.map(literal_env).unwrap_or_default(),
        scope,
    });
    if let Some(pod_spec) = pod_spec {
        pod(ctx, facts, scope, pod_spec);
    }
}

/// The first container's command and arguments, as a reviewer reads them.
fn command_summary(pod_spec: &Node) -> String {
    let Some(container) = pod_spec.get("containers").and_then(|c| c.seq().first()) else {
        return String::new();
    };
    let mut words = Vec::new();
    for key in ["command", "args"] {
        let Some(node) = container.get(key) else {
            continue;
        };
        if let Some(text) = node.str() {
            words.push(text.trim().to_string());
        }
        words.extend(node.seq().iter().filter_map(Node::text));
    }
    words.join(" ")
}

/// `env[].value` literals of every container, for the schedule's environment.
fn literal_env(pod_spec: &Node) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for container in pod_spec
        .get("containers")
        .map(Node::seq)
        .unwrap_or_default()
    {
        for var in container.get("env").map(Node::seq).unwrap_or_default() {
            if let (Some(name), Some(value)) = (
                var.get("name").and_then(Node::str),
                var.get("value").and_then(Node::text),
            ) {
                out.push((name.to_string(), value));
            }
        }
    }
    out
}

fn pod(ctx: &Ctx, facts: &mut FileFacts, unit: ScopeId, spec: &Node) {
    let volumes = spec.get("volumes");
    for key in ["initContainers", "containers"] {
        for container in spec.get(key).map(Node::seq).unwrap_or_default() {
            let name = container
                .get("name")
                .and_then(Node::str)
                .unwrap_or("unnamed");
            let scope = push_scope(
                facts,
                unit,
                ScopeKind::Function,
                format!("container {name}"),
                container.line,
            );
            let deployment = format!("Kubernetes {} container {name}", facts.unit_name(unit));
            facts.deployments.push(super::deployments::kube_container(
                deployment, container, spec,
            ));
            env(facts, scope, container.get("env"));
            env_from(facts, scope, container.get("envFrom"));
            mounts(facts, scope, container.get("volumeMounts"), volumes);
            let command = container.entry("command");
            let args = container.entry("args");
            if command.is_some() || args.is_some() {
                let line = command
                    .or(args)
                    .map(|(k, _)| k.line)
                    .unwrap_or(container.line);
                let command_scope = push_scope(facts, scope, ScopeKind::Function, "command", line);
                let cwd = container.get("workingDir").and_then(Node::str);
                ctx.command(
                    facts,
                    command_scope,
                    &[command.map(|(_, v)| v), args.map(|(_, v)| v)],
                    cwd,
                    false,
                );
            } else if let Some((key, image)) = container.entry("image")
                && let Some(image) = image
                    .str()
                    .filter(|t| !t.contains('$') && !t.contains("{{"))
            {
                // No command: the image's own entry point runs (see `RunTarget::Image`).
                facts.runs.push(RunRef {
                    scope,
                    line: key.line,
                    target: RunTarget::Image {
                        image: Some(image.to_string()),
                        build: None,
                    },
                });
            }
        }
    }
}

fn env(facts: &mut FileFacts, scope: ScopeId, env: Option<&Node>) {
    for var in env.map(Node::seq).unwrap_or_default() {
        let Some(name) = var.get("name").and_then(Node::str) else {
            continue;
        };
        let line = var.line;
        if let Some(value) = var.get("value") {
            let text = value.text().unwrap_or_default();
            let expr = value_expr(&text, kube(scope, line), false);
            set_env(facts, scope, name, Some(expr), line, "k8s env");
            continue;
        }
        let Some(from) = var.get("valueFrom") else {
            set_env(facts, scope, name, None, line, "k8s env");
            continue;
        };
        let reference = [
            ("secretKeyRef", "k8s-secret"),
            ("configMapKeyRef", "k8s-configmap"),
        ]
        .iter()
        .find_map(|(key, provider)| from.get(key).map(|r| (r, *provider)));
        match reference {
            Some((reference, provider)) => {
                let object = reference.get("name").and_then(Node::str).unwrap_or("?");
                let key = reference.get("key").and_then(Node::str).unwrap_or("?");
                let id = format!("{object}/{key}");
                set_env(
                    facts,
                    scope,
                    name,
                    Some(Expr::hole(format!("{provider} {id}"))),
                    line,
                    "k8s env valueFrom",
                );
                secret_access(
                    facts,
                    scope,
                    provider,
                    Expr::lit(id),
                    Mode::Read,
                    reference.line,
                    "k8s env valueFrom",
                );
            }
            None => {
                let field = from
                    .at(&["fieldRef", "fieldPath"])
                    .or_else(|| from.at(&["resourceFieldRef", "resource"]))
                    .and_then(Node::str)
                    .unwrap_or("valueFrom");
                set_env(
                    facts,
                    scope,
                    name,
                    Some(Expr::hole(field.to_string())),
                    line,
                    "k8s env valueFrom",
                );
            }
        }
    }
}

fn env_from(facts: &mut FileFacts, scope: ScopeId, env_from: Option<&Node>) {
    for source in env_from.map(Node::seq).unwrap_or_default() {
        for (key, provider) in [
            ("secretRef", "k8s-secret"),
            ("configMapRef", "k8s-configmap"),
        ] {
            if let Some(name) = source
                .get(key)
                .and_then(|r| r.get("name"))
                .and_then(Node::str)
            {
                // Every key of the map becomes a variable: the container's environment holds
                // variables no file here lists.
                facts.bindings.push(crate::extract::Binding {
                    scope,
                    name: format!(
                        "{}{provider}:{name}",
                        crate::extract::formats::ENV_FILE_PREFIX
                    )
                    .into(),
                    value: Expr::hole(format!("{provider} {name}")).into(),
                    line: source.line,
                });
                secret_access(
                    facts,
                    scope,
                    provider,
                    Expr::glob(format!("{name}/*")),
                    Mode::Read,
                    source.line,
                    "k8s envFrom",
                );
            }
        }
    }
}

fn mounts(facts: &mut FileFacts, scope: ScopeId, mounts: Option<&Node>, volumes: Option<&Node>) {
    for mount in mounts.map(Node::seq).unwrap_or_default() {
        let (Some(name), Some(path)) = (
            mount.get("name").and_then(Node::str),
            mount.get("mountPath").and_then(Node::str),
        ) else {
            continue;
        };
        let path = path.trim_end_matches('/');
        let sub_path = mount.get("subPath").and_then(Node::str);
        let Some(volume) = volumes
            .map(Node::seq)
            .unwrap_or_default()
            .iter()
            .find(|v| v.get("name").and_then(Node::str) == Some(name))
        else {
            continue;
        };
        let line = mount.line;
        let projected = [
            ("secret", "secretName", "k8s secret volume"),
            ("configMap", "name", "k8s configmap volume"),
        ];
        if let Some((source, via)) = projected
            .iter()
            .find_map(|(key, _, via)| volume.get(key).map(|s| (s, *via)))
        {
            let items: Vec<&str> = source
                .get("items")
                .map(Node::seq)
                .unwrap_or_default()
                .iter()
                .filter_map(|i| i.get("path").and_then(Node::str))
                .collect();
            let targets: Vec<Expr> = match (sub_path, items.is_empty()) {
                (Some(_), _) => vec![Expr::lit(path)],
                (None, true) => vec![Expr::glob(format!("{path}/**"))],
                (None, false) => items
                    .iter()
                    .map(|i| Expr::lit(format!("{path}/{i}")))
                    .collect(),
            };
            for target in targets {
                path_access(facts, scope, target, Mode::MoveTo, Reach::Exact, line, via);
            }
            continue;
        }
        let value = if let Some(host) = volume.at(&["hostPath", "path"]).and_then(Node::str) {
            let host = match sub_path {
                Some(sub) => format!("{}/{sub}", host.trim_end_matches('/')),
                None => host.to_string(),
            };
            Expr::lit(host)
        } else if let Some(claim) = volume
            .at(&["persistentVolumeClaim", "claimName"])
            .and_then(Node::str)
        {
            Expr::path_hole(format!("k8s volume claim {claim}"))
        } else {
            Expr::path_hole(format!("k8s volume {name}"))
        };
        facts.bindings.push(Binding {
            scope,
            name: format!("{}{path}", crate::extract::formats::VOLUME_PREFIX).into(),
            value: value.into(),
            line,
        });
    }
}

/// Formats a ConfigMap key can be analysed as, by its name.
fn embedded_language(key: &str, text: &str) -> Option<Language> {
    let language = Language::detect(key, text.as_bytes())?;
    match language {
        Language::Config(crate::extract::formats::ConfigFormat::Generic) => None,
        other => Some(other),
    }
}

fn data(ctx: &Ctx, facts: &mut FileFacts, root: &Node, name: &str, provider: &str, via: &str) {
    for section in ["data", "stringData", "binaryData"] {
        let Some(data) = root.get(section) else {
            continue;
        };
        for (key, key_node, value) in data.pairs() {
            secret_access(
                facts,
                0,
                provider,
                Expr::lit(format!("{name}/{key}")),
                Mode::Set,
                key_node.line,
                via,
            );
            if provider != "k8s-configmap" || section == "binaryData" {
                continue;
            }
            let Some(scalar) = value.scalar() else {
                continue;
            };
            let Some(language) = embedded_language(key, &scalar.value) else {
                continue;
            };
            let scope = push_scope(
                facts,
                0,
                ScopeKind::Function,
                format!("ConfigMap/{name}/{key}"),
                key_node.line,
            );
            if language == Language::Bash {
                ctx.shell_node(facts, scope, value, None);
                continue;
            }
            let (text, first) = shell_text(scalar, ctx.source);
            let embedded = extract_as(language, key, text.as_bytes(), ctx.models);
            merge(facts, embedded, scope, first.saturating_sub(1));
        }
    }
}
