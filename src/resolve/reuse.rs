//! A head world's context answers taken from an earlier world's resolution.
//!
//! A new change's check resolves its head world afresh: the changed repository's files are new,
//! so no kept world has them. But the context repositories are the same as in the world the
//! change started from (the base, kept by an earlier check as its head), and resolving their
//! files again was most of resolving the head (the changed repository holds a few of a
//! workspace's accesses). A context file's answers depend on the changed repository only
//! through what crosses repositories; everything else a lookup follows stays in the file's own
//! repository (imports, sourced files by relative path or name, callers, Ansible variables,
//! Rust fields, deployment ConfigMaps, waits carried through calls). What crosses is:
//!
//! - what linking gives each file: the jobs it runs under, the environment each launch gives
//!   it, its launch variants, the crontab entry of each of its scopes; the context's own jobs,
//!   and where they start in the world's list of jobs, since an access names its jobs by their
//!   place in that list;
//! - files sourced by the absolute path another repository installs them at
//!   (`. /etc/default/app`).
//!
//! [`context_inputs`] digests all of that for the files outside the changed repository, after
//! linking and before any file is resolved. When the earlier world's digest is the same, the
//! context's answers cannot differ, and only the changed repository's files are resolved. When
//! a context file sources a path where the changed repository installs a file, there is no
//! digest: that file's bindings (and what they name in its own repository) reach the context
//! file, whatever changed in them.
//!
//! Invariant: the world [`merge`] makes is the one resolving every file would (the same lists
//! in the same order), tested over every scenario; a digest that differs, or none, means every
//! file is resolved.

use super::Resolved;
use super::jobs::{Job, Linked};
use super::lookup::Lookup;
use std::fmt::Write;

/// The digest of everything a context file's answers may take from another repository (see
/// the module), or `None` when a context file sources a file of the changed repository
/// (`changed`) by the path it is installed at.
pub(super) fn context_inputs(
    lookup: &Lookup<'_>,
    linked: &Linked<'_>,
    jobs: &[Job],
    changed: usize,
) -> Option<Vec<u8>> {
    let changed_name = lookup.repos.get(changed).map(|r| r.name.as_str());
    let outside = |repo: usize| repo != changed;
    let mut text = String::new();
    // Linking numbers the changed repository's jobs first (it is the world's first), and an
    // access names its jobs by number: the count places every context job (the numbers are in
    // `file_jobs` and `scope_jobs` below too), and the context's own jobs are what its crontab
    // scopes give their commands. What the changed repository's jobs are is not an input: a
    // context file runs under one only through `file_jobs`, by number.
    let changed_jobs = jobs
        .iter()
        .take_while(|job| Some(job.declared_at.repo.as_str()) == changed_name)
        .count();
    // Writing to a String cannot fail.
    let _ = write!(
        text,
        "jobs\0{changed_jobs}\0{:?}\0",
        jobs.get(changed_jobs..).unwrap_or_default()
    );
    for (key, value) in linked.file_jobs.iter().filter(|((r, _), _)| outside(*r)) {
        let _ = write!(text, "file_jobs\0{key:?}\0{value:?}\0");
    }
    for (key, value) in linked.file_env.iter().filter(|((r, _), _)| outside(*r)) {
        let _ = write!(text, "file_env\0{key:?}\0{value:?}\0");
    }
    for (key, value) in linked
        .scope_jobs
        .iter()
        .filter(|((r, _, _), _)| outside(*r))
    {
        let _ = write!(text, "scope_jobs\0{key:?}\0{value:?}\0");
    }
    for (key, value) in linked.file_names.iter().filter(|((r, _), _)| outside(*r)) {
        let _ = write!(text, "file_names\0{key:?}\0{value:?}\0");
    }
    for key in linked.file_open.iter().filter(|(r, _)| outside(*r)) {
        let _ = write!(text, "file_open\0{key:?}\0");
    }
    for (key, value) in &linked.variants {
        if Some(key.0.as_str()) != changed_name {
            let _ = write!(text, "variants\0{key:?}\0{value:?}\0");
        }
    }
    // A context file reaches another repository's file only by sourcing the absolute path
    // it is installed at (`lookup`'s `sourced_file`): what each such path finds is an input.
    let installs = lookup.installs();
    for (repo, repo_facts) in lookup.repos.iter().enumerate().filter(|(r, _)| outside(*r)) {
        for (path, facts) in &repo_facts.files {
            for import in facts.imports.iter().filter(|i| i.module.starts_with('/')) {
                let found = installs.at(&import.module);
                if found.iter().any(|f| f.repo == changed) {
                    return None;
                }
                let _ = write!(
                    text,
                    "sourced\0{repo}\0{path}\0{}\0{found:?}\0",
                    import.module
                );
            }
        }
    }
    Some(crate::digest::blob_digest(text.as_bytes()).to_vec())
}

/// Puts the answers of the files outside the repository named `changed` from `earlier` (a
/// whole world whose context inputs are the head's) after `fresh`'s (the head's changed
/// repository's, resolved alone), in the order resolving the whole head would give: the
/// changed repository is the world's first, and each repository's answers come together.
pub(super) fn merge(fresh: &mut Resolved, earlier: Resolved, changed: &str) {
    let Resolved {
        accesses,
        sends,
        warnings,
        deployments,
        jobs: _,
        launches: _,
    } = earlier;
    // The context's accesses are most of the world: the changed repository's go in front of
    // them where they are, rather than all of them after the few.
    let mut accesses = accesses;
    accesses.retain(|a| a.site.repo != changed);
    let changed_accesses = std::mem::take(&mut fresh.accesses);
    accesses.splice(0..0, changed_accesses);
    fresh.accesses = accesses;
    fresh
        .sends
        .extend(sends.into_iter().filter(|s| s.site.repo != changed));
    fresh
        .warnings
        .extend(warnings.into_iter().filter(|w| w.site.repo != changed));
    fresh
        .deployments
        .extend(deployments.into_iter().filter(|d| d.repo != changed));
}
