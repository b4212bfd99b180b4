//! docker-compose files -> per service: environment, command, env files, volumes, secrets.
//!
//! Output per service (a scope `services.NAME` at the service's key line):
//! - `environment` (list `- X=v`, `- X` passed through, or map `X: v`): `Env` sets with the
//!   value (`${VAR:-d}` interpolation as environment reads; a bare `X` is the host's `$X`) and
//!   bindings of the same names in the service scope;
//! - `command` / `entrypoint` (string or list, `["sh", "-c", "..."]` as shell): analysed in a
//!   child scope `command`, relative paths against `working_dir`;
//! - `env_file`: a `read` of each file (relative to the compose file's directory) and an
//!   environment-file binding (see [`super::super::ENV_FILE_PREFIX`]);
//! - `volumes` (`host:container[:mode]` or the long syntax): a binding `volume:<container
//!   path>` whose value is the host path as written, or a path hole `docker volume NAME` for a
//!   named volume;
//! - `secrets`: a `move-to` on `/run/secrets/NAME` (compose puts the file there) and a binding
//!   `volume:/run/secrets/NAME` to the secret's `file:` when the top-level `secrets` names one.

use super::Ctx;
use super::tree::Node;
use crate::expr::{Expr, ScopeId};
use crate::extract::formats::common::{
    self, Interpolation, path_access, push_scope, set_env, value_expr,
};
use crate::extract::{Binding, FileFacts, Reach, RunRef, RunTarget, ScopeKind};
use crate::model::Mode;

fn interpolation(scope: ScopeId, line: u32) -> Interpolation {
    Interpolation {
        dollar: true,
        ..Interpolation::default()
    }
    .at(scope, line)
}

pub(super) fn extract(ctx: &Ctx, facts: &mut FileFacts, root: &Node) {
    // Version 1 files (before 2016, still common) put the services at the top level.
    let services = match root.get("services") {
        Some(services) => services,
        None if is_version_one(root) => root,
        None => return,
    };
    let secret_files = root.get("secrets");
    for (name, key, service) in services.pairs() {
        let scope = push_scope(
            facts,
            0,
            ScopeKind::Function,
            format!("services.{name}"),
            key.line,
        );
        facts
            .deployments
            .push(super::deployments::compose_service(name, key.line, service));
        environment(facts, scope, service.get("environment"));
        env_files(facts, scope, service.get("env_file"));
        volumes(facts, scope, service.get("volumes"));
        secrets(facts, scope, service.get("secrets"), secret_files);
        let command = service.entry("command");
        let entrypoint = service.entry("entrypoint");
        if command.is_some() || entrypoint.is_some() {
            let line = entrypoint
                .or(command)
                .map(|(k, _)| k.line)
                .unwrap_or(key.line);
            let command_scope = push_scope(facts, scope, ScopeKind::Function, "command", line);
            let cwd = service.get("working_dir").and_then(Node::str);
            ctx.command(
                facts,
                command_scope,
                &[entrypoint.map(|(_, v)| v), command.map(|(_, v)| v)],
                cwd,
                true,
            );
        } else if let Some(run) = image_run(ctx, service, scope) {
            facts.runs.push(run);
        }
    }
}

/// A service with no command runs its image's own entry point: the image's name and build
/// context, for the resolver to find the Dockerfile (a `build:` context is relative to the
/// compose file's directory).
fn image_run(ctx: &Ctx, service: &Node, scope: ScopeId) -> Option<RunRef> {
    let image_entry = service.entry("image");
    let build_entry = service.entry("build");
    let line = image_entry.or(build_entry).map(|(k, _)| k.line)?;
    let image = image_entry
        .and_then(|(_, v)| v.str())
        .filter(|t| !t.contains('$') && !t.contains("{{"))
        .map(str::to_string);
    let build = build_entry.and_then(|(_, v)| v.str().or_else(|| v.get("context")?.str()));
    let build = build
        .filter(|t| !t.contains('$') && !t.contains("://"))
        .map(|context| {
            let dir = ctx.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            let joined = if dir.is_empty() {
                context.to_string()
            } else {
                format!("{dir}/{context}")
            };
            crate::pattern::normalize_literal_path(&joined)
                .trim_start_matches("./")
                .trim_end_matches('/')
                .to_string()
        });
    if image.is_none() && build.is_none() {
        return None;
    }
    Some(RunRef {
        scope,
        line,
        target: RunTarget::Image { image, build },
    })
}

/// A top level that is all services: maps, each with an image or a build.
fn is_version_one(root: &Node) -> bool {
    let mut any = false;
    for (_, _, value) in root.pairs() {
        if !value.is_map() || (value.get("image").is_none() && value.get("build").is_none()) {
            return false;
        }
        any = true;
    }
    any
}

fn environment(facts: &mut FileFacts, scope: ScopeId, env: Option<&Node>) {
    let Some(env) = env else { return };
    let via = "compose environment";
    for item in env.seq() {
        let Some(text) = item.str() else { continue };
        match text.split_once('=') {
            Some((name, value)) => {
                let value = value_expr(value, interpolation(scope, item.line), false);
                set_env(facts, scope, name.trim(), Some(value), item.line, via);
            }
            None => {
                let passed = Expr::Env {
                    name: text.trim().to_string().into(),
                    default: None,
                };
                set_env(facts, scope, text.trim(), Some(passed), item.line, via);
            }
        }
    }
    for (name, key, value) in env.pairs() {
        let value = match value.text() {
            Some(text) => value_expr(&text, interpolation(scope, key.line), false),
            None => Expr::Env {
                name: name.to_string().into(),
                default: None,
            },
        };
        set_env(facts, scope, name, Some(value), key.line, via);
    }
}

fn env_files(facts: &mut FileFacts, scope: ScopeId, files: Option<&Node>) {
    let Some(files) = files else { return };
    let mut items: Vec<(&str, u32)> = Vec::new();
    if let Some(text) = files.str() {
        items.push((text, files.line));
    }
    for item in files.seq() {
        match item.str().or_else(|| item.get("path").and_then(Node::str)) {
            Some(text) => items.push((text, item.line)),
            None => continue,
        }
    }
    for (file, line) in items {
        // What the file sets is passed to what the service runs; the resolver reads it when
        // it is in a repository (relative to this file's directory), and otherwise treats the
        // service's environment as open.
        facts.bindings.push(Binding {
            scope,
            name: format!("{}{file}", crate::extract::formats::ENV_FILE_PREFIX).into(),
            value: value_expr(file, interpolation(scope, line), false).into(),
            line,
        });
        path_access(
            facts,
            scope,
            Expr::lit(file),
            Mode::Read,
            Reach::Exact,
            line,
            "compose env_file",
        );
    }
}

fn volumes(facts: &mut FileFacts, scope: ScopeId, volumes: Option<&Node>) {
    let Some(volumes) = volumes else { return };
    for item in volumes.seq() {
        let (source, target) = if let Some(text) = item.str() {
            let mut parts = text.splitn(3, ':');
            let (Some(source), Some(target)) = (parts.next(), parts.next()) else {
                continue;
            };
            (source.to_string(), target.to_string())
        } else {
            let (Some(source), Some(target)) = (
                item.get("source").and_then(Node::str),
                item.get("target").and_then(Node::str),
            ) else {
                continue;
            };
            (source.to_string(), target.to_string())
        };
        facts.bindings.push(Binding {
            scope,
            name: format!("{}{target}", crate::extract::formats::VOLUME_PREFIX).into(),
            value: host_path(&source, scope, item.line).into(),
            line: item.line,
        });
    }
}

/// The outside path of a mapping: a host path as written, or a named volume.
fn host_path(source: &str, scope: ScopeId, line: u32) -> Expr {
    if source.starts_with(['.', '/', '~', '$']) {
        value_expr(source, interpolation(scope, line), false)
    } else {
        Expr::path_hole(format!("docker volume {source}"))
    }
}

fn secrets(facts: &mut FileFacts, scope: ScopeId, secrets: Option<&Node>, defined: Option<&Node>) {
    let Some(secrets) = secrets else { return };
    for item in secrets.seq() {
        let (source, target) = match item.str() {
            Some(name) => (name.to_string(), name.to_string()),
            None => {
                let Some(source) = item.get("source").and_then(Node::str) else {
                    continue;
                };
                let target = item.get("target").and_then(Node::str).unwrap_or(source);
                (source.to_string(), target.to_string())
            }
        };
        let mount = if target.starts_with('/') {
            target
        } else {
            format!("/run/secrets/{target}")
        };
        path_access(
            facts,
            scope,
            Expr::lit(mount.clone()),
            Mode::MoveTo,
            Reach::Exact,
            item.line,
            "compose secret",
        );
        let file = defined
            .and_then(|d| d.get(&source))
            .and_then(|s| s.get("file"))
            .and_then(Node::str);
        if let Some(file) = file {
            facts.bindings.push(Binding {
                scope,
                name: format!("{}{mount}", crate::extract::formats::VOLUME_PREFIX).into(),
                value: common::path_expr(file).into(),
                line: item.line,
            });
        }
    }
}
