//! Compose services and Kubernetes containers -> [`DeploymentFact`]s (see
//! [`crate::extract::formats::deploy`]): the image, the command words at their lines, and the
//! environment values, host paths of container paths and user, each at its line.
//!
//! Only values written in the file are settings: a variable passed through from the host
//! (`- X`), taken from a Secret or a field (`valueFrom`), or a Kubernetes volume that is not a
//! `hostPath` has no value two deployments could share, and is left out.

use super::tree::Node;
use crate::extract::formats::common::shell_words;
use crate::extract::formats::deploy::{self, DeploymentFact, Setting, SettingKind};

/// The words of a command given as YAML values (`entrypoint` + `command`, `command` + `args`):
/// list items at their lines, a string split as shell words at its line.
fn words(parts: &[Option<&Node>], compose_escapes: bool) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for part in parts.iter().flatten() {
        if part.is_seq() {
            for item in part.seq() {
                if let Some(text) = item.text() {
                    out.push((text, item.line));
                }
            }
        } else if let Some(text) = part.str() {
            let line = part.scalar().map_or(part.line, |s| s.line);
            out.extend(shell_words(text).into_iter().map(|w| (w, line)));
        }
        if out.len() >= deploy::MAX_WORDS {
            break;
        }
    }
    if compose_escapes {
        for (word, _) in &mut out {
            if word.contains("$$") {
                *word = word.replace("$$", "$");
            }
        }
    }
    out
}

fn fact(
    unit: String,
    via: &str,
    line: u32,
    image: Option<&Node>,
    words: &[(String, u32)],
) -> DeploymentFact {
    let image = image.and_then(Node::str).and_then(deploy::image_repository);
    DeploymentFact::launching(unit, via, line, image, words)
}

/// One compose service.
pub(super) fn compose_service(name: &str, line: u32, service: &Node) -> DeploymentFact {
    let command = words(&[service.get("entrypoint"), service.get("command")], true);
    let mut fact = fact(
        format!("compose service {name}"),
        "compose service",
        line,
        service.get("image"),
        &command,
    );
    if let Some(env) = service.get("environment") {
        for item in env.seq() {
            if let Some((name, value)) = item.str().and_then(|t| t.split_once('=')) {
                fact.push(Setting::new(
                    SettingKind::Env,
                    name.trim(),
                    value,
                    item.line,
                ));
            }
        }
        for (name, key, value) in env.pairs() {
            if let Some(value) = value.text() {
                fact.push(Setting::new(SettingKind::Env, name, &value, key.line));
            }
        }
    }
    for item in service.get("volumes").map(Node::seq).unwrap_or_default() {
        let (source, target) = match item.str() {
            Some(text) => {
                let mut parts = text.splitn(3, ':');
                let (Some(source), Some(target)) = (parts.next(), parts.next()) else {
                    continue;
                };
                (source, target)
            }
            None => {
                let (Some(source), Some(target)) = (
                    item.get("source").and_then(Node::str),
                    item.get("target").and_then(Node::str),
                ) else {
                    continue;
                };
                (source, target)
            }
        };
        let target = trim_dir(target);
        fact.push(Setting::new(SettingKind::Volume, target, source, item.line));
    }
    if let Some((key, user)) = service.entry("user")
        && let Some(user) = user.text()
    {
        fact.push(Setting::new(SettingKind::User, "", &user, key.line));
    }
    fact
}

/// One Kubernetes container of a pod spec.
pub(super) fn kube_container(unit: String, container: &Node, pod_spec: &Node) -> DeploymentFact {
    let command = words(&[container.get("command"), container.get("args")], false);
    let mut fact = fact(
        unit,
        "Kubernetes container",
        container.line,
        container.get("image"),
        &command,
    );
    for var in container.get("env").map(Node::seq).unwrap_or_default() {
        if let (Some(name), Some(value)) = (
            var.get("name").and_then(Node::str),
            var.get("value").and_then(Node::text),
        ) {
            fact.push(Setting::new(SettingKind::Env, name, &value, var.line));
        }
    }
    for source in container.get("envFrom").map(Node::seq).unwrap_or_default() {
        // A prefix renames every key: not followed.
        if source.get("prefix").is_some() {
            continue;
        }
        if let Some(name) = source.at(&["configMapRef", "name"]).and_then(Node::str) {
            fact.env_from.push((name.to_string(), source.line));
        }
    }
    let volumes = pod_spec.get("volumes").map(Node::seq).unwrap_or_default();
    for mount in container
        .get("volumeMounts")
        .map(Node::seq)
        .unwrap_or_default()
    {
        let (Some(name), Some(path)) = (
            mount.get("name").and_then(Node::str),
            mount.get("mountPath").and_then(Node::str),
        ) else {
            continue;
        };
        let host = volumes
            .iter()
            .find(|v| v.get("name").and_then(Node::str) == Some(name))
            .and_then(|v| v.at(&["hostPath", "path"]).and_then(Node::str));
        if let Some(host) = host {
            let host = match mount.get("subPath").and_then(Node::str) {
                Some(sub) => format!("{}/{sub}", host.trim_end_matches('/')),
                None => host.to_string(),
            };
            fact.push(Setting::new(
                SettingKind::Volume,
                trim_dir(path),
                &host,
                mount.line,
            ));
        }
    }
    let run_as = container
        .at(&["securityContext", "runAsUser"])
        .or_else(|| pod_spec.at(&["securityContext", "runAsUser"]));
    if let Some(user) = run_as
        && let Some(text) = user.text()
    {
        fact.push(Setting::new(SettingKind::User, "", &text, user.line));
    }
    fact
}

fn trim_dir(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() { path } else { trimmed }
}

/// A ConfigMap's `data` as a deployment with no program whose settings are its keys, for the
/// containers that take them with `envFrom` (see [`deploy::CONFIG_MAP`]).
pub(super) fn config_map(name: &str, root: &Node) -> Option<DeploymentFact> {
    let data = root.get("data")?;
    let mut fact = DeploymentFact::new(
        format!("ConfigMap/{name}"),
        deploy::CONFIG_MAP,
        root.line,
        deploy::Program::Unknown,
    );
    for (key, key_node, value) in data.pairs() {
        // A file's content (a script, a configuration) is no variable's value.
        if let Some(text) = value.text().filter(|t| !t.contains('\n')) {
            fact.push(Setting::new(SettingKind::Env, key, &text, key_node.line));
        }
    }
    Some(fact)
}
