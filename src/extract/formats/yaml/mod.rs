//! YAML files -> facts, by what the YAML describes: docker-compose, Kubernetes manifests,
//! Helm values, Ansible playbooks/tasks/vars, GitHub Actions and GitLab CI, and configuration
//! YAML of other programs (log shippers such as filebeat, promtail, vector).
//!
//! Input: the text of a `.yml`/`.yaml` file (or a rendered Helm template). Each document of a
//! multi-document stream is read on its own: a Kubernetes document by its `apiVersion` and
//! `kind`, others by the file's path and top-level keys. Output: see each kind's module.
//! Commands embedded in YAML — strings, exec-form lists, `["sh", "-c", "..."]`, block scalars —
//! are analysed as shell with every word at its own line of the YAML file (see
//! [`tree::shell_text`]).
//!
//! Invariants: a syntax error is one warning naming its line, and the rest of the file (the
//! partial document and later documents) is still read; walks of unknown YAML are bounded in
//! depth and size.

mod ansible;
mod ci;
mod compose;
mod elements;
mod helm;
mod kube;
mod other;
pub(crate) mod tree;

#[cfg(test)]
mod tests;

use super::common::{self, Arg};
use super::template::bare_tokens_to_shell;
use crate::expr::ScopeId;
use crate::extract::{FileFacts, ScopeKind};
use crate::rules::models::Models;
use tree::Node;

/// What a file (or one of its documents) describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum YamlKind {
    Compose,
    Kubernetes,
    HelmValues,
    Ansible,
    AnsibleVars,
    GithubActions,
    GitlabCi,
    Other,
}

/// What every kind's reader needs: the source (for line maps), the file's path and the models.
pub(crate) struct Ctx<'a> {
    pub source: &'a str,
    pub path: &'a str,
    pub models: &'a Models,
}

impl Ctx<'_> {
    /// Analyses a scalar holding shell text in `scope`, each word at its own line.
    pub fn shell_node(
        &self,
        facts: &mut FileFacts,
        scope: ScopeId,
        node: &Node,
        cwd: Option<&str>,
    ) {
        let Some(scalar) = node.scalar() else { return };
        let (text, first) = tree::shell_text(scalar, self.source);
        let text = bare_tokens_to_shell(&text);
        common::shell(facts, scope, &text, first, cwd, self.models);
    }

    /// Analyses a command given as YAML values: `parts` are the program part and the argument
    /// part (`command` + `args` in Kubernetes, `entrypoint` + `command` in compose), each a
    /// string or a list. `sh -c SCRIPT` analyses the script at its own lines; other lists are
    /// exec form; a lone string is shell text. `compose_escapes` turns `$$` into `$`.
    pub fn command(
        &self,
        facts: &mut FileFacts,
        scope: ScopeId,
        parts: &[Option<&Node>],
        cwd: Option<&str>,
        compose_escapes: bool,
    ) {
        let present: Vec<&Node> = parts.iter().flatten().copied().collect();
        if let [single] = present.as_slice()
            && single.scalar().is_some()
        {
            if compose_escapes {
                let Some(scalar) = single.scalar() else {
                    return;
                };
                let (text, first) = tree::shell_text(scalar, self.source);
                let text = bare_tokens_to_shell(&text).replace("$$", "$");
                return common::shell(facts, scope, &text, first, cwd, self.models);
            }
            return self.shell_node(facts, scope, single, cwd);
        }
        let mut args: Vec<(Arg, Option<&Node>)> = Vec::new();
        for part in present {
            if part.is_seq() {
                for item in part.seq() {
                    if let Some(text) = item.str() {
                        args.push((arg(text, item.line, compose_escapes), Some(item)));
                    }
                }
            } else if let Some(text) = part.str() {
                for word in common::shell_words(text) {
                    args.push((arg(&word, part.line, compose_escapes), None));
                }
            }
        }
        let plain: Vec<Arg> = args.iter().map(|(a, _)| a.clone()).collect();
        if let Some(index) = common::shell_script_index(&plain)
            && let Some((script, node)) = args.get(index)
        {
            match node {
                Some(node) => self.shell_node(facts, scope, node, cwd),
                None => common::shell(facts, scope, &script.text, script.line, cwd, self.models),
            }
            return;
        }
        if let Some((text, first)) = common::exec_text(&plain) {
            common::shell(facts, scope, &text, first, cwd, self.models);
        }
    }
}

fn arg(text: &str, line: u32, compose_escapes: bool) -> Arg {
    let text = bare_tokens_to_shell(text);
    Arg {
        text: if compose_escapes {
            text.replace("$$", "$")
        } else {
            text.into_owned()
        },
        line,
    }
}

/// Extracts the facts of a YAML file.
pub fn extract(path: &str, text: &str, models: &Models) -> FileFacts {
    let mut facts = FileFacts::new(path, ScopeKind::Module);
    let mut warnings = Vec::new();
    let documents = tree::parse(text, &mut warnings);
    facts.warnings = warnings;
    let ctx = Ctx {
        source: text,
        path,
        models,
    };
    let file_kind = kind_by_path(path);
    for document in &documents {
        let Some(root) = &document.root else { continue };
        match kind_of(file_kind, root, models) {
            YamlKind::Compose => compose::extract(&ctx, &mut facts, root),
            YamlKind::Kubernetes => kube::extract(&ctx, &mut facts, root),
            YamlKind::HelmValues => helm::extract(&mut facts, root),
            YamlKind::Ansible => ansible::extract(&ctx, &mut facts, root),
            YamlKind::AnsibleVars => ansible::vars(&mut facts, root),
            YamlKind::GithubActions => ci::github(&ctx, &mut facts, root),
            YamlKind::GitlabCi => ci::gitlab(&ctx, &mut facts, root),
            YamlKind::Other => other::extract(&ctx, &mut facts, root),
        }
    }
    facts.warnings.sort_by_key(|w| w.line);
    facts
}

/// The kind the path alone decides (`None` when the content must say).
fn kind_by_path(path: &str) -> Option<YamlKind> {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let dirs: Vec<&str> = lower.split('/').rev().skip(1).collect();
    if lower.contains(".github/workflows/") {
        return Some(YamlKind::GithubActions);
    }
    if name.starts_with(".gitlab-ci") || lower.contains(".gitlab/ci/") {
        return Some(YamlKind::GitlabCi);
    }
    if name.starts_with("docker-compose")
        || name.starts_with("compose.")
        || name.starts_with("compose-")
    {
        return Some(YamlKind::Compose);
    }
    if name == "values.yaml"
        || name == "values.yml"
        || name.starts_with("values-")
        || name.starts_with("values.")
    {
        return Some(YamlKind::HelmValues);
    }
    let vars_dir = dirs
        .first()
        .is_some_and(|d| matches!(*d, "defaults" | "vars"))
        && dirs.len() >= 3
        || dirs
            .iter()
            .any(|d| matches!(*d, "group_vars" | "host_vars"));
    if vars_dir {
        return Some(YamlKind::AnsibleVars);
    }
    None
}

/// The kind of one document: a Kubernetes object whatever the path, else the path's kind,
/// else by its top-level shape.
fn kind_of(file_kind: Option<YamlKind>, root: &Node, models: &Models) -> YamlKind {
    if root.get("apiVersion").is_some() && root.get("kind").is_some() {
        return YamlKind::Kubernetes;
    }
    if let Some(kind) = file_kind {
        return kind;
    }
    if root.get("services").is_some_and(Node::is_map) {
        return YamlKind::Compose;
    }
    if ansible::looks_like_ansible(root, models) {
        return YamlKind::Ansible;
    }
    if root.get("stages").is_some() && root.pairs().any(|(_, _, v)| v.get("script").is_some()) {
        return YamlKind::GitlabCi;
    }
    YamlKind::Other
}
