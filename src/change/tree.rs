//! The repository tree as a producer: a file the change deletes or moves stops existing at the
//! path the rest of the repository names it by.
//!
//! A compose file's `env_file: env/redis.env`, an Ansible task's `template: src: hostapd/x`
//! (looked up in the role's `templates/`), a Dockerfile's `COPY conf/app.ini`, a script's
//! `. ./lib.sh`: each reads a repository file by a path relative to where it is written. When the
//! change renames or deletes that file and leaves the reference, the deployment fails (a missing
//! env file, a missing template) — nothing "wrote" the file, the tree did.
//!
//! A reference counts when, at head, it names no file that exists, and at base one of the places
//! it is looked up in held a file the change removed. References with holes or globs, absolute
//! paths (those are other producers' business) and references the change itself wrote are left
//! out. Linear in head accesses.

use crate::model::Mode;
use crate::resolve::{Access, Resource, normalize_repo_path as normalize};
use std::collections::{BTreeMap, BTreeSet};

/// Files the change removed, and the files of the head tree.
#[derive(Clone, Debug, Default)]
pub struct TreeChange {
    /// Removed path -> where it moved, when plain.
    pub removed: BTreeMap<String, Option<String>>,
    /// Every path of the head tree (read or not).
    pub head: BTreeSet<String>,
}

/// A reference left on a file the change removed.
#[derive(Clone, Debug)]
pub struct RemovedFileReference {
    pub access: Access,
    /// The reference as written (relative to where it is looked up).
    pub literal: String,
    /// The removed file (base path).
    pub file: String,
    pub moved_to: Option<String>,
}

/// The places a relative reference is looked up in, repository paths, most specific first:
/// next to the file that writes it (compose, Dockerfile build context, a script's own
/// directory), an Ansible role's `templates/` and `files/` for a task file, and the
/// repository root (a script run from the root).
fn lookup_places(reference: &str, declared_in: &str, via: &str) -> Vec<String> {
    let dir = declared_in.rsplit_once('/').map_or("", |(d, _)| d);
    let mut out = vec![join(dir, reference)];
    if via.starts_with("ansible")
        && let Some(role) = crate::resolve::installs::task_role_dir(dir)
    {
        for sub in ["templates", "files"] {
            out.push(join(&join(role, sub), reference));
        }
        out.push(join(role, reference));
    }
    out.push(normalize(reference));
    out.dedup();
    out
}

fn join(dir: &str, rel: &str) -> String {
    if dir.is_empty() {
        normalize(rel)
    } else {
        normalize(&format!("{dir}/{rel}"))
    }
}

/// The literal relative paths an access names (every alternative literal), or none.
fn relative_literals(access: &Access) -> Vec<String> {
    let Resource::Path(set) = &access.resource else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for pattern in &set.patterns {
        let text = pattern.display();
        if pattern.is_absolute()
            || pattern.is_subtree()
            || text.is_empty()
            || text.contains(['*', '?', '[', '{', '$', '~'])
            || text.starts_with("..")
        {
            return Vec::new();
        }
        out.push(text);
    }
    out
}

/// References of the head tree's code to files the change removed.
pub fn removed_file_references(head: &[Access], tree: &TreeChange) -> Vec<RemovedFileReference> {
    if tree.removed.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for access in head {
        if !matches!(
            access.mode,
            Mode::Read | Mode::CopyFrom | Mode::Exec | Mode::Check
        ) {
            continue;
        }
        let literals = relative_literals(access);
        if literals.is_empty() {
            continue;
        }
        for literal in literals {
            let places = lookup_places(&literal, &access.site.path, &access.via);
            if places.iter().any(|p| tree.head.contains(p)) {
                continue;
            }
            if let Some((file, moved_to)) = places
                .iter()
                .find_map(|p| tree.removed.get_key_value(p.as_str()))
            {
                out.push(RemovedFileReference {
                    access: access.clone(),
                    literal: literal.clone(),
                    file: file.clone(),
                    moved_to: moved_to.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_places_follow_the_declaring_file() {
        assert_eq!(
            lookup_places(
                "env/redis.env",
                "docker-compose.test.yml",
                "compose env_file"
            ),
            vec!["env/redis.env"]
        );
        assert_eq!(
            lookup_places(
                "hostapd/netd-disp",
                "roles/network/tasks/netd.yml",
                "ansible template"
            ),
            vec![
                "roles/network/tasks/hostapd/netd-disp",
                "roles/network/templates/hostapd/netd-disp",
                "roles/network/files/hostapd/netd-disp",
                "roles/network/hostapd/netd-disp",
                "hostapd/netd-disp",
            ]
        );
        assert_eq!(
            lookup_places("./lib.sh", "bin/run.sh", "."),
            vec!["bin/lib.sh", "lib.sh"]
        );
    }
}
