//! Input that must be accepted or handled (issue 9): diffs as `git diff` writes them, working
//! trees and repositories as git sees them, and the small things around them (errors printed
//! once and escaped, files that are not regular, a broken global git configuration).
//!
//! Each test builds real repositories with git2 and, where a diff is needed, has the real `git
//! diff` write it; the tests that need the git command skip when it is not installed.

use crate::support::{ALL_MODES, Mode, knockon};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const OLD_WRITER: &str = "def write_day(day, frame):\n    out = f\"/data/ticker/ticker_{day}.csv\"\n    frame.to_csv(out)\n";
const NEW_WRITER: &str = "def write_day(day, frame):\n    out = f\"/data/ticker/{day}/NYSE.csv\"\n    frame.to_csv(out)\n";
const CLEANUP: &str =
    "#!/bin/bash\nfind /data/ticker -maxdepth 1 -name 'ticker_*.csv' -mtime +3 -delete\n";
const RULE: &str = "path.cleanup-misses-new-outputs";

/// Runs the git command in `dir` with no user or system configuration; `None` when git is not
/// installed. A failing git command fails the test.
fn git(dir: &Path, args: &[&str]) -> Option<Vec<u8>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output();
    let Ok(out) = out else {
        eprintln!("git is not installed; skipping");
        return None;
    };
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

#[cfg(unix)]
fn os_path(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn os_path(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

fn write(dir: &Path, path: &[u8], content: &[u8]) {
    let full = dir.join(os_path(path));
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(full, content).unwrap();
}

/// Stages the working tree (`force`: ignored files too) and commits it.
fn commit(repo: &git2::Repository, message: &str, force: bool) -> String {
    knockon::scenario::commit_tree(repo, message, force)
        .unwrap()
        .to_string()
}

/// A repository at `dir` holding `files`, all of them tracked (ignored ones included).
fn repo_with(dir: &Path, files: &[(&[u8], &[u8])]) -> git2::Repository {
    std::fs::create_dir_all(dir).unwrap();
    let repo = git2::Repository::init(dir).unwrap();
    for (path, content) in files {
        write(dir, path, content);
    }
    commit(&repo, "base", true);
    repo
}

/// The ops repository with the cleanup job.
fn ops(root: &Path) -> PathBuf {
    let dir = root.join("ops");
    repo_with(&dir, &[(b"cron/cleanup.sh", CLEANUP.as_bytes())]);
    dir
}

/// A change committed on top of a repository's HEAD, and the diff `git diff` writes for it.
struct Change {
    repo: PathBuf,
    base: String,
    head: String,
    diff: PathBuf,
}

impl Change {
    /// Commits what `edit` does to the working tree (tracked files and new files that are not
    /// ignored) and has `git diff <diff_args> base head` write the diff.
    fn commit(repo_dir: &Path, diff_args: &[&str], edit: impl FnOnce(&Path)) -> Option<Change> {
        let repo = git2::Repository::open(repo_dir).unwrap();
        let base = repo
            .head()
            .unwrap()
            .peel_to_commit()
            .unwrap()
            .id()
            .to_string();
        edit(repo_dir);
        let head = commit(&repo, "head", false);
        let mut args = vec!["diff"];
        args.extend_from_slice(diff_args);
        args.extend([base.as_str(), head.as_str()]);
        let diff = git(repo_dir, &args)?;
        let path = repo_dir.with_extension("diff");
        std::fs::write(&path, diff).unwrap();
        Some(Change {
            repo: repo_dir.to_path_buf(),
            base,
            head,
            diff: path,
        })
    }

    fn reset(&self, rev: &str, kind: git2::ResetType) {
        let repo = git2::Repository::open(&self.repo).unwrap();
        let object = repo.revparse_single(rev).unwrap();
        repo.reset(&object, kind, None).unwrap();
    }

    /// Puts the working tree where `mode` wants it and runs `knockon check --format json`.
    fn run(&self, mode: Mode, context: &[&Path], extra: &[&str]) -> Output {
        let mut cmd = knockon();
        cmd.arg("check").arg("--repo").arg(&self.repo);
        for dir in context {
            cmd.arg("--context").arg(dir);
        }
        cmd.args(["--format", "json"]).args(extra);
        self.reset(&self.head, git2::ResetType::Hard);
        match mode {
            Mode::Revisions => {
                cmd.args(["--base", &self.base, "--head", &self.head]);
            }
            Mode::WorkingTree => {
                self.reset(&self.base, git2::ResetType::Mixed);
                cmd.args(["--base", &self.base]);
            }
            Mode::DiffNotApplied => {
                self.reset(&self.base, git2::ResetType::Hard);
                cmd.arg("--diff").arg(&self.diff);
            }
            Mode::DiffApplied => {
                cmd.arg("--diff").arg("-");
                cmd.stdin(std::fs::File::open(&self.diff).unwrap());
            }
        }
        cmd.output().unwrap()
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); exit {:?}; stderr: {}",
            output.status.code(),
            stderr(output)
        )
    })
}

/// The change paths of the findings of the cleanup rule against ops' cleanup script.
fn cleanup_changes(json: &Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == RULE && f["impacted"]["path"] == "cron/cleanup.sh")
        .map(|f| f["change"]["path"].as_str().unwrap().to_string())
        .collect()
}

fn assert_one_line_error(output: &Output, needle: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(output.stdout.is_empty(), "nothing on stdout when it fails");
}

/// The output of `cmd`, which must finish within `limit`.
fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("knockon did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

// ---- item 7: `--diff` takes what `git diff` writes ----

#[test]
fn crlf_diff_applies_to_crlf_file() {
    let dir = tempfile::tempdir().unwrap();
    let ops = ops(dir.path());
    let loader = dir.path().join("loader");
    repo_with(
        &loader,
        &[(b"write.py", OLD_WRITER.replace('\n', "\r\n").as_bytes())],
    );
    let Some(change) = Change::commit(&loader, &[], |d| {
        write(d, b"write.py", NEW_WRITER.replace('\n', "\r\n").as_bytes());
    }) else {
        return;
    };
    assert!(
        std::fs::read_to_string(&change.diff)
            .unwrap()
            .contains("\r\n")
    );
    for mode in ALL_MODES {
        let out = change.run(mode, &[&ops], &[]);
        assert_eq!(
            cleanup_changes(&json(&out)),
            ["write.py"],
            "{mode:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn quoted_non_ascii_paths_in_a_diff() {
    let dir = tempfile::tempdir().unwrap();
    let ops = ops(dir.path());
    let loader = dir.path().join("loader");
    // git quotes this name in `diff --git`, `---` and `+++`: octal UTF-8, `\"`, `\t`, `\\`.
    let name: &[u8] = "loader/café \"x\"\tb\\.py".as_bytes();
    repo_with(&loader, &[(name, OLD_WRITER.as_bytes())]);
    let Some(change) = Change::commit(&loader, &[], |d| {
        write(d, name, NEW_WRITER.as_bytes());
    }) else {
        return;
    };
    let text = std::fs::read_to_string(&change.diff).unwrap();
    assert!(
        text.contains("\"a/loader/caf\\303\\251 \\\"x\\\"\\tb\\\\.py\""),
        "{text}"
    );
    // A backslash in a name is written `\\` (see `load::path_from_bytes`).
    let want = "loader/café \"x\"\tb\\\\.py";
    for mode in ALL_MODES {
        let out = change.run(mode, &[&ops], &[]);
        assert_eq!(
            cleanup_changes(&json(&out)),
            [want],
            "{mode:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn binary_changes_beside_code_are_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let ops = ops(dir.path());
    let loader = dir.path().join("loader");
    repo_with(
        &loader,
        &[
            (b"write.py", OLD_WRITER.as_bytes()),
            (b"logo.png", b"\x89PNG\r\n\x1a\n\0\0\0old"),
        ],
    );
    let Some(change) = Change::commit(&loader, &["--binary"], |d| {
        write(d, b"write.py", NEW_WRITER.as_bytes());
        write(d, b"logo.png", b"\x89PNG\r\n\x1a\n\0\0\0new");
        write(d, b"added.bin", b"\0\x01\x02");
    }) else {
        return;
    };
    let with_patch = std::fs::read_to_string(&change.diff).unwrap();
    assert!(with_patch.contains("GIT binary patch"), "{with_patch}");
    // Without `--binary`, git writes `Binary files a/logo.png and b/logo.png differ`.
    let notice = git(&loader, &["diff", &change.base, &change.head]).unwrap();
    let notice_diff = dir.path().join("notice.diff");
    std::fs::write(&notice_diff, &notice).unwrap();
    assert!(
        String::from_utf8_lossy(&notice).contains("Binary files a/logo.png and b/logo.png differ")
    );
    for (diff, mode) in [
        (&change.diff, Mode::DiffNotApplied),
        (&change.diff, Mode::DiffApplied),
        (&notice_diff, Mode::DiffNotApplied),
        (&notice_diff, Mode::DiffApplied),
    ] {
        let change = Change {
            diff: diff.clone(),
            repo: change.repo.clone(),
            base: change.base.clone(),
            head: change.head.clone(),
        };
        let out = change.run(mode, &[&ops], &[]);
        let json = json(&out);
        assert_eq!(
            cleanup_changes(&json),
            ["write.py"],
            "{mode:?}: {}",
            stderr(&out)
        );
        let warned: Vec<&str> = json["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["message"].as_str().unwrap().contains("binary"))
            .map(|w| w["path"].as_str().unwrap())
            .collect();
        assert_eq!(warned, ["added.bin", "logo.png"], "{mode:?}: {json:#}");
    }
}

#[test]
fn copied_file_in_a_diff_keeps_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let ops = ops(dir.path());
    let loader = dir.path().join("loader");
    repo_with(&loader, &[(b"write.py", OLD_WRITER.as_bytes())]);
    // write.py stays and still writes the old names; sharded.py, a copy of it, writes new ones.
    let Some(change) = Change::commit(&loader, &["-C", "-C"], |d| {
        write(d, b"sharded.py", NEW_WRITER.as_bytes());
    }) else {
        return;
    };
    let text = std::fs::read_to_string(&change.diff).unwrap();
    assert!(
        text.contains("copy from write.py") && text.contains("copy to sharded.py"),
        "{text}"
    );
    for mode in ALL_MODES {
        let out = change.run(mode, &[&ops], &[]);
        let json = json(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{mode:?}: {json:#} {}",
            stderr(&out)
        );
        assert!(cleanup_changes(&json).is_empty(), "{mode:?}: {json:#}");
        // Both writers and the cleanup are read.
        assert_eq!(json["stats"]["files_analysed"], 3, "{mode:?}: {json:#}");
    }
    // A copy that is not modified (100% similar) is a new file with the source's content.
    let Some(exact) = Change::commit(&loader, &["-C", "-C"], |d| {
        write(d, b"again.py", OLD_WRITER.as_bytes());
    }) else {
        return;
    };
    let text = std::fs::read_to_string(&exact.diff).unwrap();
    assert!(
        text.contains("copy to again.py") && !text.contains("@@"),
        "{text}"
    );
    for mode in [Mode::DiffNotApplied, Mode::DiffApplied] {
        let out = exact.run(mode, &[&ops], &[]);
        assert_eq!(
            json(&out)["stats"]["files_analysed"],
            4,
            "{mode:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn diff_creating_an_oversized_file_is_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let ops = ops(dir.path());
    let loader = dir.path().join("loader");
    repo_with(&loader, &[(b"write.py", OLD_WRITER.as_bytes())]);
    let big: String = (0..60_000)
        .map(|i| format!("X{i} = \"/data/ticker/ticker_{i}.csv\"\n"))
        .collect();
    assert!(big.len() > 2 * 1024 * 1024);
    let Some(change) = Change::commit(&loader, &[], |d| {
        write(d, b"write.py", NEW_WRITER.as_bytes());
        write(d, b"generated.py", big.as_bytes());
    }) else {
        return;
    };
    for mode in ALL_MODES {
        let out = change.run(mode, &[&ops], &[]);
        let json = json(&out);
        // The big file writes the old names: were it read, nothing would be reported.
        assert_eq!(
            cleanup_changes(&json),
            ["write.py"],
            "{mode:?}: {}",
            stderr(&out)
        );
        assert_eq!(
            json["stats"]["files_skipped"]["oversized"], 1,
            "{mode:?}: {json:#}"
        );
    }
}

#[test]
fn diff_paths_outside_the_repository_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let loader = dir.path().join("loader");
    repo_with(&loader, &[(b"write.py", OLD_WRITER.as_bytes())]);
    let diffs = [
        "--- a/../outside.py\n+++ b/../outside.py\n@@ -0,0 +1 @@\n+x = 1\n",
        "diff --git a/w.py b/w.py\nnew file mode 100644\n--- /dev/null\n+++ b/sub/../../w.py\n@@ -0,0 +1 @@\n+x = 1\n",
        "--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-root\n+toor\n",
        "diff --git \"a/\\056\\056/x.py\" \"b/\\056\\056/x.py\"\nnew file mode 100644\n",
        "diff --git a/w.py b/w.py\nsimilarity index 100%\nrename from write.py\nrename to /tmp/w.py\n",
    ];
    for (i, diff) in diffs.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.diff"));
        std::fs::write(&path, diff).unwrap();
        for format in ["sarif", "github", "json"] {
            let out = knockon()
                .arg("check")
                .arg("--repo")
                .arg(&loader)
                .arg("--diff")
                .arg(&path)
                .args(["--format", format])
                .output()
                .unwrap();
            assert_one_line_error(&out, "a diff names files inside the repository");
        }
    }
}

// ---- item 8: working trees and repositories as git sees them ----

#[test]
fn tracked_ignored_files_are_part_of_the_working_tree() {
    let dir = tempfile::tempdir().unwrap();
    // The cleanup is tracked in a directory that `.gitignore` ignores.
    let ops = dir.path().join("ops");
    repo_with(
        &ops,
        &[
            (b".gitignore", b"cron/\n"),
            (b"cron/cleanup.sh", CLEANUP.as_bytes()),
        ],
    );
    // The writer is tracked although `*.py` is ignored; an untracked ignored file that still
    // writes the old names is not part of the working tree (were it read, nothing is reported).
    let loader = dir.path().join("loader");
    repo_with(
        &loader,
        &[
            (b".gitignore", b"*.py\n"),
            (b"write.py", OLD_WRITER.as_bytes()),
        ],
    );
    write(&loader, b"scratch.py", OLD_WRITER.as_bytes());
    let Some(change) = Change::commit(&loader, &[], |d| {
        write(d, b"write.py", NEW_WRITER.as_bytes());
    }) else {
        return;
    };
    for mode in ALL_MODES {
        let out = change.run(mode, &[&ops], &[]);
        assert_eq!(
            cleanup_changes(&json(&out)),
            ["write.py"],
            "{mode:?}: {}",
            stderr(&out)
        );
    }
    // `knockon who` reads the same working tree.
    let out = knockon()
        .args(["who", "/data/ticker/**", "--format", "json"])
        .arg(&ops)
        .output()
        .unwrap();
    let json = json(&out);
    assert_eq!(
        json["entries"][0]["site"]["path"], "cron/cleanup.sh",
        "{json:#}"
    );
}

#[test]
fn submodules_are_not_descended_into_in_any_mode() {
    let dir = tempfile::tempdir().unwrap();
    let ops = ops(dir.path());
    // The submodule writes the old names: were it read, nothing would be reported.
    let vendored = dir.path().join("old-writer");
    repo_with(&vendored, &[(b"legacy.py", OLD_WRITER.as_bytes())]);
    let loader = dir.path().join("loader");
    repo_with(&loader, &[(b"write.py", OLD_WRITER.as_bytes())]);
    let url = vendored.to_string_lossy().into_owned();
    if git(
        &loader,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            &url,
            "lib/old",
        ],
    )
    .is_none()
    {
        return;
    }
    git(
        &loader,
        &[
            "-c",
            "user.name=k",
            "-c",
            "user.email=k@k",
            "commit",
            "-qm",
            "submodule",
        ],
    );
    assert!(loader.join("lib/old/legacy.py").is_file());
    // The change also moves the submodule to a new commit of its own.
    let Some(change) = Change::commit(&loader, &[], |d| {
        write(d, b"write.py", NEW_WRITER.as_bytes());
        let sub = d.join("lib/old");
        write(&sub, b"more.py", OLD_WRITER.as_bytes());
        commit(&git2::Repository::open(&sub).unwrap(), "more", false);
        git(d, &["add", "lib/old"]);
    }) else {
        return;
    };
    let text = std::fs::read_to_string(&change.diff).unwrap();
    assert!(text.contains("+Subproject commit"), "{text}");
    for mode in ALL_MODES {
        let out = change.run(mode, &[&ops], &[]);
        let json = json(&out);
        assert_eq!(
            cleanup_changes(&json),
            ["write.py"],
            "{mode:?}: {}",
            stderr(&out)
        );
        assert_eq!(json["stats"]["files_analysed"], 2, "{mode:?}: {json:#}");
    }
    // `git diff --submodule=diff` writes the submodule's own files under its path.
    let inner = git(
        &loader,
        &["diff", "--submodule=diff", &change.base, &change.head],
    )
    .unwrap();
    assert!(String::from_utf8_lossy(&inner).contains("lib/old/more.py"));
    std::fs::write(&change.diff, inner).unwrap();
    for mode in [Mode::DiffNotApplied, Mode::DiffApplied] {
        let out = change.run(mode, &[&ops], &[]);
        assert_eq!(
            cleanup_changes(&json(&out)),
            ["write.py"],
            "{mode:?}: {}",
            stderr(&out)
        );
    }
    // The same as a context repository.
    let out = knockon()
        .args(["who", "/data/ticker/**", "--format", "json"])
        .arg(&loader)
        .output()
        .unwrap();
    let json = json(&out);
    assert_eq!(json["files_analysed"], 1, "{json:#}");
}

#[test]
fn bare_repository_without_head_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let loader = dir.path().join("loader");
    repo_with(&loader, &[(b"write.py", OLD_WRITER.as_bytes())]);
    let bare = dir.path().join("loader.git");
    git2::build::RepoBuilder::new()
        .bare(true)
        .clone(&loader.to_string_lossy(), &bare)
        .unwrap();
    let out = knockon()
        .arg("check")
        .arg("--repo")
        .arg(&bare)
        .args(["--base", "HEAD"])
        .output()
        .unwrap();
    assert_one_line_error(&out, "is a bare repository: give --head REV");
    let diff = dir.path().join("x.diff");
    std::fs::write(
        &diff,
        "--- a/write.py\n+++ b/write.py\n@@ -1 +1 @@\n-a\n+b\n",
    )
    .unwrap();
    let out = knockon()
        .arg("check")
        .arg("--repo")
        .arg(&bare)
        .arg("--diff")
        .arg(&diff)
        .output()
        .unwrap();
    assert_one_line_error(&out, "is a bare repository");
    let out = knockon()
        .arg("check")
        .arg("--repo")
        .arg(&bare)
        .args(["--base", "HEAD", "--head", "HEAD", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["stats"]["files_analysed"], 1);
}

#[test]
fn bare_context_repository_is_read_at_head() {
    let dir = tempfile::tempdir().unwrap();
    let ops = ops(dir.path());
    let mirror = dir.path().join("ops.git");
    git2::build::RepoBuilder::new()
        .bare(true)
        .clone(&ops.to_string_lossy(), &mirror)
        .unwrap();
    // Git internals a walk of the directory would read (hook samples are shell scripts).
    write(
        &mirror,
        b"hooks/pre-commit.sample",
        b"#!/bin/sh\nrm -rf /data/ticker/x\n",
    );
    let loader = dir.path().join("loader");
    repo_with(&loader, &[(b"write.py", OLD_WRITER.as_bytes())]);
    let Some(change) = Change::commit(&loader, &[], |d| {
        write(d, b"write.py", NEW_WRITER.as_bytes());
    }) else {
        return;
    };
    let out = change.run(Mode::Revisions, &[&mirror], &[]);
    let json = json(&out);
    assert_eq!(cleanup_changes(&json), ["write.py"], "{}", stderr(&out));
    assert_eq!(json["stats"]["files_analysed"], 2, "{json:#}");
    assert_eq!(json["findings"][0]["impacted"]["repo"], "ops.git");
    // A bare repository with no commit is an error that says so.
    let empty = dir.path().join("empty.git");
    git2::Repository::init_bare(&empty).unwrap();
    let out = change.run(Mode::Revisions, &[&empty], &[]);
    assert_one_line_error(&out, "is a bare repository");
}

#[cfg(unix)]
#[test]
fn non_utf8_file_names_are_analysed_under_an_escaped_name() {
    let dir = tempfile::tempdir().unwrap();
    let ops = ops(dir.path());
    let loader = dir.path().join("loader");
    // Two names that differ only in a byte that is not UTF-8: neither dropped nor merged.
    repo_with(
        &loader,
        &[
            (b"w\xff.py", OLD_WRITER.as_bytes()),
            (b"w\xfe.py", b"import os\n"),
        ],
    );
    let Some(change) = Change::commit(&loader, &[], |d| {
        write(d, b"w\xff.py", NEW_WRITER.as_bytes());
    }) else {
        return;
    };
    assert!(
        std::fs::read_to_string(&change.diff)
            .unwrap()
            .contains("\"a/w\\377.py\"")
    );
    for mode in ALL_MODES {
        let out = change.run(mode, &[&ops], &[]);
        let json = json(&out);
        assert_eq!(
            cleanup_changes(&json),
            ["w\\xff.py"],
            "{mode:?}: {}",
            stderr(&out)
        );
        assert_eq!(json["stats"]["files_analysed"], 3, "{mode:?}: {json:#}");
    }
}

// ---- item 9: errors, escapes, files that are not regular, configuration ----

#[test]
fn a_bad_revision_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let loader = dir.path().join("loader");
    repo_with(&loader, &[(b"write.py", OLD_WRITER.as_bytes())]);
    let out = knockon()
        .arg("check")
        .arg("--repo")
        .arg(&loader)
        .args(["--base", "no-such-rev"])
        .output()
        .unwrap();
    assert_one_line_error(&out, "unknown revision `no-such-rev`");
    assert_eq!(
        stderr(&out).matches("no-such-rev").count(),
        1,
        "{}",
        stderr(&out)
    );
}

#[test]
fn control_characters_are_escaped_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let loader = dir.path().join("loader");
    repo_with(&loader, &[(b"write.py", OLD_WRITER.as_bytes())]);
    let out = knockon()
        .arg("check")
        .arg("--repo")
        .arg(&loader)
        .args(["--base", "\u{1b}[2J\u{1b}]0;owned\u{7}\nforged line"])
        .output()
        .unwrap();
    assert_one_line_error(&out, "\\x1b[2J\\x1b]0;owned\\x07\\nforged line");
    // A diff naming a file with controls in it, which does not exist.
    let diff = dir.path().join("x.diff");
    std::fs::write(
        &diff,
        "--- \"a/\\033[31mred.py\"\n+++ \"b/\\033[31mred.py\"\n@@ -1 +1 @@\n-a\n+b\n",
    )
    .unwrap();
    let out = knockon()
        .arg("check")
        .arg("--repo")
        .arg(&loader)
        .arg("--diff")
        .arg(&diff)
        .output()
        .unwrap();
    assert_one_line_error(&out, "\\x1b[31mred.py");
    assert!(!stderr(&out).contains('\u{1b}'));
    // clap's own errors quote the argument too.
    let out = knockon()
        .args(["check", "--format", "\u{1b}[31mx"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains('\u{1b}'), "{}", stderr(&out));
}

#[cfg(unix)]
#[test]
fn knockon_toml_symlink_outside_the_repository_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let ops = ops(dir.path());
    // Were it read, this file would be an error (exit 2) naming an unknown key.
    let outside = dir.path().join("outside.toml");
    std::fs::write(&outside, "bogus = 1\n").unwrap();
    let loader = dir.path().join("loader");
    repo_with(&loader, &[(b"write.py", OLD_WRITER.as_bytes())]);
    let Some(change) = Change::commit(&loader, &[], |d| {
        write(d, b"write.py", NEW_WRITER.as_bytes());
    }) else {
        return;
    };
    std::os::unix::fs::symlink(&outside, loader.join("knockon.toml")).unwrap();
    let out = change.run(Mode::WorkingTree, &[&ops], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(cleanup_changes(&json(&out)), ["write.py"]);
    // A symlink to a file inside the repository is followed.
    std::fs::write(loader.join("ci.toml"), "bogus = 1\n").unwrap();
    std::fs::remove_file(loader.join("knockon.toml")).unwrap();
    std::os::unix::fs::symlink("ci.toml", loader.join("knockon.toml")).unwrap();
    let out = change.run(Mode::WorkingTree, &[&ops], &[]);
    assert_one_line_error(&out, "bogus");
}

#[test]
fn who_text_shows_skipped_files() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    write(&tree, b"cron/cleanup.sh", CLEANUP.as_bytes());
    write(&tree, b"blob.py", b"x = 1\0\0");
    write(&tree, b"node_modules/m/index.js", b"module.exports = 1\n");
    write(&tree, b"big.py", &vec![b'#'; 2 * 1024 * 1024]);
    let out = knockon()
        .args(["who", "/data/ticker/**"])
        .arg(&tree)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("3 skipped (1 binary, 1 vendored, 1 oversized, 0 unreadable)"),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn only_regular_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let ops = ops(dir.path());
    let loader = dir.path().join("loader");
    repo_with(&loader, &[(b"write.py", OLD_WRITER.as_bytes())]);
    let Some(change) = Change::commit(&loader, &[], |d| {
        write(d, b"write.py", NEW_WRITER.as_bytes());
    }) else {
        return;
    };
    let mkfifo = |path: &Path| {
        Command::new("mkfifo")
            .arg(path)
            .status()
            .is_ok_and(|s| s.success())
    };
    // FIFOs where a file would be read: in the working trees, as knockon.toml, and as the
    // `.gitignore` of a directory (which the walk reads before anything else in it).
    if !mkfifo(&loader.join("pipe.py")) {
        eprintln!("mkfifo is not available; skipping");
        return;
    }
    assert!(mkfifo(&loader.join("knockon.toml")));
    assert!(mkfifo(&ops.join("cron/pipe.sh")));
    assert!(mkfifo(&ops.join("cron/.gitignore")));
    std::fs::create_dir_all(loader.join("docs")).unwrap();
    assert!(mkfifo(&loader.join("docs/.gitignore")));
    let mut cmd = knockon();
    cmd.arg("check")
        .arg("--repo")
        .arg(&loader)
        .arg("--context")
        .arg(&ops)
        .args(["--base", &change.base, "--format", "json"]);
    let out = output_within(&mut cmd, Duration::from_secs(60));
    assert_eq!(
        cleanup_changes(&json(&out)),
        ["write.py"],
        "{}",
        stderr(&out)
    );
    // `knockon facts` on a FIFO and on a /proc entry.
    for file in [loader.join("pipe.py"), PathBuf::from("/proc/self/status")] {
        if !file.exists() {
            continue;
        }
        let mut cmd = knockon();
        cmd.arg("facts").arg(&file);
        let out = output_within(&mut cmd, Duration::from_secs(30));
        assert_one_line_error(&out, "not a regular file");
    }
}

#[test]
fn facts_keeps_the_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.py");
    std::fs::write(&big, "X = '/data/x'\n".repeat(100_000)).unwrap();
    let small = dir.path().join("small.py");
    std::fs::write(&small, "open('/data/x', 'w')\n").unwrap();
    let out = knockon()
        .arg("facts")
        .arg(&big)
        .arg(&small)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json = json(&out);
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 1, "{json:#}");
    assert!(keys[0].ends_with("small.py"));
    let err = stderr(&out);
    assert!(err.contains("big.py: skipped, larger than 1 MiB"), "{err}");
}

#[test]
fn broken_global_git_config_is_tolerated() {
    let dir = tempfile::tempdir().unwrap();
    let ops = ops(dir.path());
    let loader = dir.path().join("loader");
    repo_with(&loader, &[(b"write.py", OLD_WRITER.as_bytes())]);
    let Some(change) = Change::commit(&loader, &[], |d| {
        write(d, b"write.py", NEW_WRITER.as_bytes());
    }) else {
        return;
    };
    change.reset(&change.base, git2::ResetType::Mixed);
    let homes = dir.path().join("homes");
    // One `~/.gitconfig` that does not parse, one that is a directory.
    let broken = homes.join("broken");
    write(&broken, b".gitconfig", b"[core\n\tbroken = = yes\n");
    let directory = homes.join("directory");
    std::fs::create_dir_all(directory.join(".gitconfig")).unwrap();
    for home in [&broken, &directory] {
        let out = knockon()
            .arg("check")
            .arg("--repo")
            .arg(&loader)
            .arg("--context")
            .arg(&ops)
            .args(["--base", &change.base, "--format", "json"])
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {}",
            home.display(),
            stderr(&out)
        );
        assert_eq!(cleanup_changes(&json(&out)), ["write.py"]);
    }
}
