//! Multi-repository scenarios as text, and real git repositories built from them.
//!
//! The test data, the rules' documented examples and the bundled demo all use this one format, so
//! every example a reader sees is one the tests run:
//!
//! ```text
//! # A description (comment lines before the first `===`).
//! === repo ticker-loader changed
//! === base loader/write.py
//! ...the file at base...
//! === head loader/write.py
//! ...the file at head...
//! #@ changed path.cleanup-misses-new-outputs
//! === repo host-ops
//! === file cron/cleanup.sh
//! find /data/ticker -maxdepth 1 -name 'ticker_*.csv' -delete
//! #@ impacted path.cleanup-misses-new-outputs
//! ```
//!
//! `=== file` is the same at base and head, `=== base`/`=== head` differ, `=== head P deleted`
//! removes a file at head. A line `#@ impacted RULE` (or `//@ ...`) expects a finding of RULE whose
//! impacted site is the line above it; `#@ changed RULE` marks the changed site. Marker lines are
//! removed before the files are written, so line numbers are those of the real files.
//!
//! An audit scenario (for `knockon audit`, which looks at the current state) starts with the
//! header `=== audit`: its repositories have files only (`=== file`), none is `changed`, and its
//! markers are `#@ impacted RULE` alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A scenario that cannot be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("scenario line {line}: {message}")]
pub struct ScenarioError {
    pub line: usize,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExpectKind {
    Impacted,
    Changed,
}

/// An expected finding site, from a marker line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expectation {
    pub kind: ExpectKind,
    pub rule: String,
    pub repo: String,
    pub path: String,
    pub line: u32,
}

#[derive(Clone, Debug, Default)]
pub struct ScenarioRepo {
    pub name: String,
    pub changed: bool,
    pub base: BTreeMap<String, String>,
    pub head: BTreeMap<String, String>,
    /// Files present at base and removed at head.
    pub deleted: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Scenario {
    pub description: String,
    /// An audit scenario (`=== audit`): no change, every repository as it is.
    pub audit: bool,
    pub repos: Vec<ScenarioRepo>,
    pub expected: Vec<Expectation>,
}

enum Side {
    Both,
    Base,
    Head,
}

impl Scenario {
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        let mut scenario = Scenario::default();
        let mut current: Option<(Side, String, Vec<String>, usize)> = None;
        let mut description = Vec::new();
        for (index, raw_line) in text.lines().enumerate() {
            let line_no = index + 1;
            if let Some(header) = raw_line.strip_prefix("=== ") {
                flush(&mut scenario, current.take())?;
                let words: Vec<&str> = header.split_whitespace().collect();
                match words.as_slice() {
                    ["audit"] if scenario.repos.is_empty() => scenario.audit = true,
                    ["repo", name, rest @ ..] => {
                        scenario.repos.push(ScenarioRepo {
                            name: name.to_string(),
                            changed: rest.contains(&"changed"),
                            ..ScenarioRepo::default()
                        });
                    }
                    ["head", path, "deleted"] => {
                        let repo = last_repo(&mut scenario, line_no)?;
                        repo.deleted.push(path.to_string());
                    }
                    [kind @ ("file" | "base" | "head"), path] => {
                        last_repo(&mut scenario, line_no)?;
                        let side = match *kind {
                            "file" => Side::Both,
                            "base" => Side::Base,
                            _ => Side::Head,
                        };
                        current = Some((side, path.to_string(), Vec::new(), line_no));
                    }
                    _ => {
                        return Err(ScenarioError {
                            line: line_no,
                            message: format!("unknown header `=== {header}`"),
                        });
                    }
                }
                continue;
            }
            match &mut current {
                Some((_, _, lines, _)) => lines.push(raw_line.to_string()),
                None if scenario.repos.is_empty() => {
                    description.push(raw_line.trim_start_matches('#').trim().to_string());
                }
                None if raw_line.trim().is_empty() => {}
                None => {
                    return Err(ScenarioError {
                        line: line_no,
                        message: "text outside a `=== file|base|head` section".into(),
                    });
                }
            }
        }
        flush(&mut scenario, current.take())?;
        scenario.description = description
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        for repo in &mut scenario.repos {
            for path in &repo.deleted {
                repo.head.remove(path);
            }
        }
        if scenario.audit {
            let changed = scenario.repos.iter().any(|r| r.changed || r.base != r.head)
                || scenario
                    .expected
                    .iter()
                    .any(|e| e.kind == ExpectKind::Changed);
            if changed || scenario.repos.is_empty() {
                return Err(ScenarioError {
                    line: 1,
                    message: "an audit scenario has repositories with `=== file` sections only, \
                              none `changed`, and no `#@ changed` marker"
                        .into(),
                });
            }
        } else if scenario.repos.iter().filter(|r| r.changed).count() != 1 {
            return Err(ScenarioError {
                line: 1,
                message: "exactly one repo is marked `changed`".into(),
            });
        }
        Ok(scenario)
    }

    pub fn changed_repo(&self) -> Option<&ScenarioRepo> {
        self.repos.iter().find(|r| r.changed)
    }

    /// Writes every repository under `root` as a real git repository. The changed repository
    /// gets two commits (base, head) and its working tree at head; context repositories one.
    pub fn build(&self, root: &Path) -> Result<BuiltScenario, git2::Error> {
        let mut built = BuiltScenario {
            root: root.to_path_buf(),
            changed_repo: PathBuf::new(),
            base: String::new(),
            head: String::new(),
            context: Vec::new(),
        };
        for repo in &self.repos {
            let dir = root.join(&repo.name);
            std::fs::create_dir_all(&dir).map_err(io_to_git)?;
            let git = git2::Repository::init(&dir)?;
            write_files(&dir, &repo.base)?;
            let base = commit_all(&git, "base")?;
            if repo.changed {
                remove_files_not_in(&dir, &repo.base, &repo.head)?;
                write_files(&dir, &repo.head)?;
                let head = commit_all(&git, "head")?;
                built.changed_repo = dir.clone();
                built.base = base.to_string();
                built.head = head.to_string();
            } else {
                built.context.push(dir.clone());
            }
        }
        Ok(built)
    }
}

fn last_repo(scenario: &mut Scenario, line: usize) -> Result<&mut ScenarioRepo, ScenarioError> {
    scenario.repos.last_mut().ok_or(ScenarioError {
        line,
        message: "a `=== repo NAME` header comes first".into(),
    })
}

fn flush(
    scenario: &mut Scenario,
    section: Option<(Side, String, Vec<String>, usize)>,
) -> Result<(), ScenarioError> {
    let Some((side, path, lines, header_line)) = section else {
        return Ok(());
    };
    let repo = last_repo(scenario, header_line)?;
    let repo_name = repo.name.clone();
    let mut kept: Vec<String> = Vec::new();
    let mut expectations = Vec::new();
    for (offset, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let marker = trimmed
            .strip_prefix("#@")
            .or_else(|| trimmed.strip_prefix("//@"));
        if let Some(marker) = marker {
            let words: Vec<&str> = marker.split_whitespace().collect();
            let kind = match words.first() {
                Some(&"impacted") => ExpectKind::Impacted,
                Some(&"changed") => ExpectKind::Changed,
                _ => {
                    return Err(ScenarioError {
                        line: header_line + offset + 1,
                        message: "a marker is `#@ impacted RULE` or `#@ changed RULE`".into(),
                    });
                }
            };
            let (Some(rule), false) = (words.get(1), kept.is_empty()) else {
                return Err(ScenarioError {
                    line: header_line + offset + 1,
                    message: "a marker names a rule and follows the line it marks".into(),
                });
            };
            expectations.push(Expectation {
                kind,
                rule: rule.to_string(),
                repo: repo_name.clone(),
                path: path.clone(),
                line: u32::try_from(kept.len()).unwrap_or(u32::MAX),
            });
            continue;
        }
        kept.push(line.clone());
    }
    let mut content = kept.join("\n");
    content.push('\n');
    match side {
        Side::Both => {
            repo.base.insert(path.clone(), content.clone());
            repo.head.insert(path, content);
        }
        Side::Base => {
            repo.base.insert(path, content);
        }
        Side::Head => {
            repo.head.insert(path, content);
        }
    }
    scenario.expected.extend(expectations);
    Ok(())
}

/// Where a built scenario lives.
#[derive(Clone, Debug)]
pub struct BuiltScenario {
    pub root: PathBuf,
    pub changed_repo: PathBuf,
    /// Commit ids of base and head in the changed repository.
    pub base: String,
    pub head: String,
    pub context: Vec<PathBuf>,
}

impl BuiltScenario {
    /// The change as a git diff (base -> head) of the changed repository.
    pub fn diff_text(&self) -> Result<String, git2::Error> {
        let repo = git2::Repository::open(&self.changed_repo)?;
        let base = repo.revparse_single(&self.base)?.peel_to_tree()?;
        let head = repo.revparse_single(&self.head)?.peel_to_tree()?;
        let diff = repo.diff_tree_to_tree(Some(&base), Some(&head), None)?;
        let mut out = Vec::new();
        diff.print(git2::DiffFormat::Patch, |_, _, line| {
            match line.origin() {
                '+' | '-' | ' ' => out.push(line.origin() as u8),
                _ => {}
            }
            out.extend_from_slice(line.content());
            true
        })?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Puts the changed repository's working tree back at base (for `--diff` not yet applied).
    pub fn checkout_base(&self) -> Result<(), git2::Error> {
        let repo = git2::Repository::open(&self.changed_repo)?;
        let base = repo.revparse_single(&self.base)?;
        repo.reset(&base, git2::ResetType::Hard, None)
    }

    /// Base committed, head as uncommitted edits in the working tree (for `--base` alone).
    pub fn head_as_uncommitted(&self) -> Result<(), git2::Error> {
        let repo = git2::Repository::open(&self.changed_repo)?;
        let base = repo.revparse_single(&self.base)?;
        repo.reset(&base, git2::ResetType::Mixed, None)
    }
}

fn io_to_git(e: std::io::Error) -> git2::Error {
    git2::Error::from_str(&e.to_string())
}

fn write_files(dir: &Path, files: &BTreeMap<String, String>) -> Result<(), git2::Error> {
    for (path, content) in files {
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(io_to_git)?;
        }
        std::fs::write(&full, content).map_err(io_to_git)?;
    }
    Ok(())
}

fn remove_files_not_in(
    dir: &Path,
    base: &BTreeMap<String, String>,
    head: &BTreeMap<String, String>,
) -> Result<(), git2::Error> {
    for path in base.keys() {
        if !head.contains_key(path) {
            std::fs::remove_file(dir.join(path)).map_err(io_to_git)?;
        }
    }
    Ok(())
}

fn commit_all(repo: &git2::Repository, message: &str) -> Result<git2::Oid, git2::Error> {
    commit_tree(repo, message, false)
}

/// Stages the working tree (with `force`, ignored files too) and commits it on HEAD with a
/// fixed author and time, so that scenario repositories are the same on every run.
pub fn commit_tree(
    repo: &git2::Repository,
    message: &str,
    force: bool,
) -> Result<git2::Oid, git2::Error> {
    let option = if force {
        git2::IndexAddOption::FORCE
    } else {
        git2::IndexAddOption::DEFAULT
    };
    let mut index = repo.index()?;
    index.add_all(["*"].iter(), option, None)?;
    index.update_all(["*"].iter(), None)?;
    index.write()?;
    let tree_id = index.write_tree()?;
    let tree = repo.find_tree(tree_id)?;
    let signature = git2::Signature::new(
        "knockon",
        "knockon@example.invalid",
        &git2::Time::new(1_700_000_000, 0),
    )?;
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        message,
        &tree,
        &parents,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_and_markers() {
        let text = "# demo\n=== repo a changed\n=== base x.py\nold\n=== head x.py\nnew\n#@ changed r.one\n=== repo b\n=== file c.sh\nline1\nrm /x\n#@ impacted r.one\n";
        let s = Scenario::parse(text).unwrap();
        assert_eq!(s.description, "demo");
        assert_eq!(s.repos[0].head["x.py"], "new\n");
        assert_eq!(s.repos[1].base["c.sh"], "line1\nrm /x\n");
        assert_eq!(s.expected.len(), 2);
        assert_eq!(s.expected[1].line, 2);
        assert_eq!(s.expected[0].line, 1);
    }

    #[test]
    fn audit_scenarios_have_no_change() {
        let text = "=== audit\n=== repo a\n=== file x.sh\nrm /a/b/c\n#@ impacted r.one\n";
        let s = Scenario::parse(text).unwrap();
        assert!(s.audit);
        assert_eq!(s.expected.len(), 1);
        assert!(Scenario::parse("=== audit\n=== repo a changed\n=== file x\ny\n").is_err());
        assert!(Scenario::parse("=== audit\n=== repo a\n=== base x\ny\n").is_err());
        assert!(Scenario::parse("=== repo a\n=== audit\n").is_err());
    }

    #[test]
    fn deleted_files() {
        let text = "=== repo a changed\n=== file x.py\nx\n=== head x.py deleted\n";
        let s = Scenario::parse(text).unwrap();
        assert!(s.repos[0].base.contains_key("x.py"));
        assert!(!s.repos[0].head.contains_key("x.py"));
    }

    #[test]
    fn errors() {
        assert!(Scenario::parse("=== file x\n").is_err());
        assert!(Scenario::parse("=== repo a\n=== file x\n#@ impacted r\n").is_err());
        assert!(Scenario::parse("=== repo a\n").is_err());
    }
}
