//! Files a repository installs somewhere else, known at their installed path.
//!
//! A provisioning script runs `install -m 0644 deploy/app.default /etc/default/app`, an Ansible
//! role `template: src=app.default.j2 dest=/etc/default/app`; another repository's script does
//! `. /etc/default/app`, a unit says `EnvironmentFile=/etc/default/app`, a crontab runs
//! `/usr/local/bin/backup.sh` that a role copied from `files/backup.sh`. None of those names the
//! repository file, so without this index the reader finds nothing (or guesses by file name).
//!
//! An install is a pair of accesses of one statement: a copy's source (`copy-from`) and its
//! destination (`move-to`) on the same line of a script (`install`, `cp`), or the `src` read and
//! `dest` written by one Ansible `copy`/`template` task. The destination must be a literal
//! absolute path; the source is a repository file found relative to the declaring file, in the
//! role's `files/` or `templates/` directory, or as the one file of the repository whose path ends
//! with what the source spells after its last unknown part. Anything else is left out (never
//! guessed). Container copies and bind mounts (`COPY conf/app.env /etc/app/app.env`, `COPY rootfs/ /`,
//! compose `./conf/x:/etc/x`) install the file, or every file under the directory, at the
//! container path. Built once per run, linear in accesses and mapped files.

use super::RepoFacts;
use super::lookup::FileRef;
use crate::expr::Expr;
use crate::extract::formats::VOLUME_PREFIX;
use crate::extract::{FileFacts, RawAccess, RawResource};
use crate::model::Mode;
use std::collections::HashMap;

/// Files one directory mapping (`COPY . /app`) installs, at most: a bound on the index.
const MAX_MAPPED_FILES: usize = 20_000;

fn repo_index_files(
    repos: &[RepoFacts],
    r: usize,
) -> Option<&std::collections::BTreeMap<String, std::sync::Arc<FileFacts>>> {
    repos.get(r).map(|repo| &repo.files)
}

/// Installed absolute path -> the repository files installed there.
#[derive(Default)]
pub struct Installs<'a> {
    by_dest: HashMap<String, Vec<FileRef<'a>>>,
}

impl<'a> Installs<'a> {
    pub fn build(repos: &'a [RepoFacts]) -> Installs<'a> {
        let mut by_name: HashMap<(usize, &'a str), Vec<&'a str>> = HashMap::new();
        for (r, repo) in repos.iter().enumerate() {
            for path in repo.files.keys() {
                let base = path.rsplit('/').next().unwrap_or(path);
                by_name.entry((r, base)).or_default().push(path.as_str());
            }
        }
        let mut installs = Installs::default();
        for (r, repo) in repos.iter().enumerate() {
            for (path, facts) in &repo.files {
                installs.add_mappings(repo_index_files(repos, r), r, path, facts);
                for (source, dest) in install_pairs(facts) {
                    let Some(dest) = literal_absolute(dest) else {
                        continue;
                    };
                    let Some(found) = source_file(repos, &by_name, r, path, source) else {
                        continue;
                    };
                    let entry = installs.by_dest.entry(dest).or_default();
                    if !entry.contains(&found) {
                        entry.push(found);
                    }
                }
            }
        }
        installs
    }

    /// Dockerfile `COPY`/`ADD` and compose bind mounts (`volume:<container path>` bindings of
    /// the format extractors): a repository file, or every file under a repository directory
    /// (`COPY rootfs/ /`), appears at the container path.
    fn add_mappings(
        &mut self,
        files: Option<&'a std::collections::BTreeMap<String, std::sync::Arc<FileFacts>>>,
        repo: usize,
        declaring: &str,
        facts: &FileFacts,
    ) {
        let Some(files) = files.filter(|_| facts.may_map_paths()) else {
            return;
        };
        let dir = declaring.rsplit_once('/').map_or("", |(d, _)| d);
        for binding in &facts.bindings {
            let Some(dest) = binding.name.strip_prefix(VOLUME_PREFIX) else {
                continue;
            };
            let Some(source) = binding.value.as_lit() else {
                continue;
            };
            if !dest.starts_with('/') || source.starts_with('/') || source.contains(['*', '?']) {
                continue;
            }
            let source = relative_normalized(&format!("{dir}/{source}"));
            if source.starts_with("..") {
                continue;
            }
            if let Some((path, _)) = files.get_key_value(&source) {
                self.add(normalize_absolute(dest), FileRef { repo, path });
                continue;
            }
            let prefix = if source.is_empty() {
                String::new()
            } else {
                format!("{source}/")
            };
            for (path, _) in files
                .range(prefix.clone()..)
                .take_while(|(p, _)| p.starts_with(&prefix))
                .take(MAX_MAPPED_FILES)
            {
                let rest = &path[prefix.len()..];
                self.add(
                    normalize_absolute(&format!("{dest}/{rest}")),
                    FileRef { repo, path },
                );
            }
        }
    }

    fn add(&mut self, dest: String, file: FileRef<'a>) {
        let entry = self.by_dest.entry(dest).or_default();
        if !entry.contains(&file) {
            entry.push(file);
        }
    }

    /// The repository files installed at an absolute path.
    pub fn at(&self, path: &str) -> &[FileRef<'a>] {
        let normalized = normalize_absolute(path);
        self.by_dest
            .get(&normalized)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

fn path_expr(access: &RawAccess) -> Option<&Expr> {
    match &access.resource {
        RawResource::Path(target) => Some(&target.expr),
        _ => None,
    }
}

/// Whether an access's model is an Ansible module that installs a file from the role.
fn is_ansible_install(via: &str) -> bool {
    let Some(module) = via.strip_prefix("ansible ") else {
        return false;
    };
    let module = module.rsplit('.').next().unwrap_or(module);
    matches!(module, "copy" | "template")
}

/// The sources and the destinations of one statement.
type Statement<'f> = (Vec<&'f Expr>, Vec<&'f Expr>);

/// The (source, destination) expressions of each install statement of a file.
fn install_pairs(facts: &FileFacts) -> Vec<(&Expr, &Expr)> {
    let mut out = Vec::new();
    // Statements: accesses grouped by scope and line (scripts) or by scope and model (Ansible
    // tasks, whose src and dest are on different lines).
    let mut groups: HashMap<(usize, u32, &str), Statement<'_>> = HashMap::new();
    for access in &facts.accesses {
        let Some(expr) = path_expr(access) else {
            continue;
        };
        let ansible = is_ansible_install(&access.via);
        let key_line = if ansible { 0 } else { access.line };
        let (sources, dests) = groups
            .entry((access.scope, key_line, access.via.as_str()))
            .or_default();
        match (access.mode, ansible) {
            (Mode::CopyFrom, false) | (Mode::Read, true) => sources.push(expr),
            (Mode::MoveTo, false) | (Mode::Write, true) => dests.push(expr),
            _ => {}
        }
    }
    for (sources, dests) in groups.into_values() {
        if sources.len() == 1 && dests.len() == 1 {
            out.push((sources[0], dests[0]));
            continue;
        }
        // `install -t DIR a b`: each destination ends with its source's name.
        for dest in &dests {
            let Some(dest_name) = dest.as_lit().and_then(|d| d.rsplit('/').next()) else {
                continue;
            };
            let mut matching = sources
                .iter()
                .filter(|s| tail_of(s).is_some_and(|t| t.rsplit('/').next() == Some(dest_name)));
            if let (Some(source), None) = (matching.next(), matching.next()) {
                out.push((source, dest));
            }
        }
    }
    out
}

/// What a source spells, as a path relative to the declaring file's directory, or as `*tail`
/// after its last unknown part (`"$HERE/../conf/x.ini"` -> `*/conf/x.ini`). The script's own
/// directory (`cd "$(dirname "$0")"`, `$(dirname "$0")/x`) is the declaring file's.
fn source_text(expr: &Expr, dir: &str) -> Option<String> {
    fn walk(expr: &Expr, dir: &str, out: &mut String, joined: bool) -> Option<()> {
        match expr {
            Expr::Lit { text } => {
                if joined && !out.is_empty() && !out.ends_with('/') && !text.starts_with('/') {
                    out.push('/');
                }
                out.push_str(text);
            }
            Expr::Hole { label, .. } if label == "script dir" && out.is_empty() => {
                out.push_str(if dir.is_empty() { "." } else { dir });
                out.insert(0, '@');
            }
            Expr::Concat { parts } => {
                for part in parts {
                    walk(part, dir, out, false)?;
                }
            }
            Expr::Join { parts } => {
                for part in parts {
                    walk(part, dir, out, true)?;
                }
            }
            _ => {
                // Unknown from here back: only what follows can be matched.
                out.clear();
                out.push('*');
            }
        }
        Some(())
    }
    let mut out = String::new();
    walk(expr, dir, &mut out, false)?;
    if let Some(star) = out.strip_prefix('*') {
        let start = star.find('/')?;
        return Some(format!("*{}", &star[start..]));
    }
    Some(out)
}

/// The last segment a source names, for pairing `install -t DIR a b`.
fn tail_of(expr: &Expr) -> Option<String> {
    source_text(expr, "")
}

fn literal_absolute(expr: &Expr) -> Option<String> {
    let text = expr.as_lit()?;
    (text.starts_with('/') && !text.ends_with('/') && !text.contains(['*', '?', '[', '{']))
        .then(|| normalize_absolute(text))
}

fn normalize_absolute(path: &str) -> String {
    format!("/{}", super::lookup::normalize(path))
}

fn relative_normalized(path: &str) -> String {
    super::lookup::normalize(path)
}

/// The role directory of an Ansible task file's directory (`roles/app/tasks` -> `roles/app`;
/// a role repository's own `tasks` -> the root): where `src:` is looked up in `files/` and
/// `templates/`.
pub(crate) fn task_role_dir(dir: &str) -> Option<&str> {
    ["/tasks", "/handlers"]
        .iter()
        .find_map(|suffix| dir.strip_suffix(suffix))
        .or(matches!(dir, "tasks" | "handlers").then_some(""))
}

/// The repository file an install's source names (see the module doc).
fn source_file<'a>(
    repos: &'a [RepoFacts],
    by_name: &HashMap<(usize, &'a str), Vec<&'a str>>,
    repo: usize,
    declaring: &str,
    source: &Expr,
) -> Option<FileRef<'a>> {
    let files = &repos.get(repo)?.files;
    let found = |path: &str| {
        files.get_key_value(path).map(|(p, _)| FileRef {
            repo,
            path: p.as_str(),
        })
    };
    let dir = declaring.rsplit_once('/').map_or("", |(d, _)| d);
    let tail = source_text(source, dir)?;
    // Relative to the script's own directory: exact.
    if let Some(from_root) = tail.strip_prefix('@') {
        return found(&relative_normalized(from_root));
    }
    if !tail.starts_with('*') && !tail.starts_with('/') {
        if let Some(f) = found(&relative_normalized(&format!("{dir}/{tail}"))) {
            return Some(f);
        }
        // An Ansible role's `tasks/main.yml` takes `src` from the role's `files/` or
        // `templates/`.
        if let Some(role) = task_role_dir(dir) {
            for sub in ["files", "templates"] {
                if let Some(f) = found(&relative_normalized(&format!("{role}/{sub}/{tail}"))) {
                    return Some(f);
                }
            }
        }
    }
    let written = tail.trim_start_matches('*').trim_start_matches('/');
    let written = relative_normalized(written);
    if written.is_empty() || written.starts_with("..") {
        return None;
    }
    let name = written.rsplit('/').next().unwrap_or(&written);
    let mut matching = by_name
        .get(&(repo, name))
        .into_iter()
        .flatten()
        .filter(|p| **p == written || super::ends_after(p, b'/', &written));
    match (matching.next(), matching.next()) {
        (Some(path), None) => Some(FileRef { repo, path }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::repo_of_texts as repo;

    fn installed<'a>(installs: &Installs<'a>, repos: &'a [RepoFacts], path: &str) -> Vec<String> {
        installs
            .at(path)
            .iter()
            .map(|f| format!("{}:{}", repos[f.repo].name, f.path))
            .collect()
    }

    #[test]
    fn scripts_and_ansible_tasks_install_repository_files() {
        let repos = vec![repo(
            "provision",
            &[
                (
                    "bin/provision.sh",
                    "#!/bin/bash\ncd \"$(dirname \"$0\")/..\"\ninstall -m 0644 deploy/app.default /etc/default/app\ninstall -m 755 -t /usr/local/bin scripts/backup.sh scripts/prune.sh\ncp \"$HERE/../conf/x.ini\" /etc/x/x.ini\n",
                ),
                ("deploy/app.default", "APP_LOG=/var/log/app/app.log\n"),
                ("scripts/backup.sh", "#!/bin/sh\n"),
                ("scripts/prune.sh", "#!/bin/sh\n"),
                ("conf/x.ini", "[x]\n"),
                (
                    "roles/app/tasks/main.yml",
                    "- name: env\n  ansible.builtin.template:\n    src: app.env.j2\n    dest: /etc/app/app.env\n- name: script\n  copy:\n    src: rotate.sh\n    dest: /usr/local/sbin/rotate.sh\n",
                ),
                ("roles/app/templates/app.env.j2", "A={{ a }}\n"),
                ("roles/app/files/rotate.sh", "#!/bin/sh\n"),
            ],
        )];
        let installs = Installs::build(&repos);
        assert_eq!(
            installed(&installs, &repos, "/etc/default/app"),
            vec!["provision:deploy/app.default"]
        );
        assert_eq!(
            installed(&installs, &repos, "/usr/local/bin/backup.sh"),
            vec!["provision:scripts/backup.sh"]
        );
        assert_eq!(
            installed(&installs, &repos, "/usr/local/bin/prune.sh"),
            vec!["provision:scripts/prune.sh"]
        );
        assert_eq!(
            installed(&installs, &repos, "/etc/x/x.ini"),
            vec!["provision:conf/x.ini"]
        );
        assert_eq!(
            installed(&installs, &repos, "/etc/app/app.env"),
            vec!["provision:roles/app/templates/app.env.j2"]
        );
        assert_eq!(
            installed(&installs, &repos, "/usr/local/sbin/rotate.sh"),
            vec!["provision:roles/app/files/rotate.sh"]
        );
    }

    #[test]
    fn container_copies_and_bind_mounts_install_files() {
        let repos = vec![repo(
            "image",
            &[
                (
                    "docker/Dockerfile",
                    "FROM debian\nCOPY conf/app.env /etc/app/app.env\nCOPY rootfs/ /\n",
                ),
                ("docker/conf/app.env", "A=1\n"),
                ("docker/rootfs/etc/cont-init.d/10-config", "#!/bin/sh\n"),
                ("docker/rootfs/usr/bin/run.sh", "#!/bin/sh\n"),
                (
                    "compose.yml",
                    "services:\n  app:\n    image: x\n    volumes:\n      - ./config/nginx.conf:/etc/nginx/nginx.conf:ro\n      - data:/var/lib/app\n",
                ),
                ("config/nginx.conf", "events {}\n"),
            ],
        )];
        let installs = Installs::build(&repos);
        assert_eq!(
            installed(&installs, &repos, "/etc/app/app.env"),
            vec!["image:docker/conf/app.env"]
        );
        assert_eq!(
            installed(&installs, &repos, "/etc/cont-init.d/10-config"),
            vec!["image:docker/rootfs/etc/cont-init.d/10-config"]
        );
        assert_eq!(
            installed(&installs, &repos, "/usr/bin/run.sh"),
            vec!["image:docker/rootfs/usr/bin/run.sh"]
        );
        assert_eq!(
            installed(&installs, &repos, "/etc/nginx/nginx.conf"),
            vec!["image:config/nginx.conf"]
        );
        // A named volume installs nothing from the repository.
        assert!(installs.at("/var/lib/app").is_empty());
    }

    #[test]
    fn nothing_is_guessed() {
        let repos = vec![repo(
            "ops",
            &[
                (
                    "a/run.sh",
                    // A source in no repository, a computed destination, a move (not an
                    // install of a repository file), an ambiguous source name.
                    "#!/bin/bash\ninstall -m 0644 /tmp/build/app.default /etc/default/app\ncp conf/a.ini \"$DEST/a.ini\"\nmv /etc/old.conf /etc/new.conf\ncp x.conf /etc/x.conf\n",
                ),
                ("conf/a.ini", "[a]\n"),
                ("one/x.conf", "a=1\n"),
                ("two/x.conf", "a=2\n"),
            ],
        )];
        let installs = Installs::build(&repos);
        for path in ["/etc/default/app", "/etc/new.conf", "/etc/x.conf"] {
            assert!(installs.at(path).is_empty(), "{path}");
        }
        assert!(installs.by_dest.is_empty());
    }
}
