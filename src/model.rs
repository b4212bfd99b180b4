//! The core data of DESIGN.md that every stage shares: where code is ([`Site`]), what it does to a
//! shared resource ([`Mode`], [`ResourceKind`]), and how a unit comes to run ([`Schedule`],
//! [`Trigger`]).
//!
//! These are plain values with no behaviour beyond naming and describing themselves, so that any
//! stage can hold them without depending on the stage that produced them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A place in a repository: the statement, command or config entry that performs an access.
/// Lines are 1-based, as editors and the JSON contract count them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Site {
    pub repo: String,
    pub path: String,
    pub line: u32,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{}", self.repo, self.path, self.line)
    }
}

/// A line that built part of a resolved value (an assignment, a launcher's `Environment=`, the
/// fields of a message), with what it contributes: the line a fix usually changes is here, not
/// at the use.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Origin {
    pub site: Site,
    /// "sets APP_LOG", "sets DUMP_DIR=/srv/dumps when started by ops/crontab".
    pub note: String,
}

/// The three kinds of shared resource; the JSON contract spells them in lower case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    Path,
    Credential,
    Queue,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Path => "path",
            ResourceKind::Credential => "credential",
            ResourceKind::Queue => "queue",
        }
    }
}

/// What a piece of code does to a resource. Rules select counterparts by these, so each mode names
/// one observable effect: a `mv` is a `MoveFrom` at its source (the file disappears there, like a
/// delete) and a `MoveTo` at its destination (a file appears, like a write).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Creates or truncates a file and writes it.
    Write,
    /// Appends to a file (creating it if needed).
    Append,
    /// Creates a directory or an empty file (`mkdir`, logrotate's `create`): the path exists,
    /// with no content of the creator's.
    Create,
    /// Reads a file's content.
    Read,
    /// Tests whether a path exists (a completion marker, a lock, a status file).
    Check,
    /// Lists a directory or expands a glob.
    List,
    /// Removes a file or, with a tree reach, a directory and everything under it.
    Delete,
    /// The source of a move or rename: the path stops existing.
    MoveFrom,
    /// The destination of a move, rename or copy: the path starts existing.
    MoveTo,
    /// The source of a copy or archive: read, left in place.
    CopyFrom,
    /// Runs a program or script found at the path.
    Exec,
    /// Sets a credential or configuration value (an environment variable, a secret).
    Set,
    /// Publishes a message to a queue.
    Publish,
    /// Consumes messages from a queue.
    Consume,
    /// Replaces a credential with a new value.
    Rotate,
    /// Waits until the resource changes.
    WaitFor,
    /// Asks the resource's producer to act now (a signal, a request file, a message).
    Trigger,
    /// A mention whose effect is not known: a path-like string in a language knockon does not
    /// parse, or an option of a program no model knows named like a path or a queue
    /// (`--input-dir`, `--kafka-topic`). It is never a producer (see [`Mode::produces`]), so it
    /// cannot hide a finding, nor a cleanup; impact rules use it only as a low-confidence
    /// counterpart (`path.unparsed-reference-to-vanished-output`, info).
    Unknown,
}

impl Mode {
    /// The lowercase name used in rule files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Write => "write",
            Mode::Append => "append",
            Mode::Create => "create",
            Mode::Read => "read",
            Mode::Check => "check",
            Mode::List => "list",
            Mode::Delete => "delete",
            Mode::MoveFrom => "move-from",
            Mode::MoveTo => "move-to",
            Mode::CopyFrom => "copy-from",
            Mode::Exec => "exec",
            Mode::Set => "set",
            Mode::Publish => "publish",
            Mode::Consume => "consume",
            Mode::Rotate => "rotate",
            Mode::WaitFor => "wait-for",
            Mode::Trigger => "trigger",
            Mode::Unknown => "unknown",
        }
    }

    /// Parses the name used in rule and model files.
    pub fn parse(name: &str) -> Option<Mode> {
        Mode::ALL.iter().copied().find(|m| m.as_str() == name)
    }

    pub const ALL: [Mode; 18] = [
        Mode::Write,
        Mode::Append,
        Mode::Create,
        Mode::Read,
        Mode::Check,
        Mode::List,
        Mode::Delete,
        Mode::MoveFrom,
        Mode::MoveTo,
        Mode::CopyFrom,
        Mode::Exec,
        Mode::Set,
        Mode::Publish,
        Mode::Consume,
        Mode::Rotate,
        Mode::WaitFor,
        Mode::Trigger,
        Mode::Unknown,
    ];

    /// Modes after which the path exists with new content: what a producer does.
    pub fn produces(self) -> bool {
        matches!(
            self,
            Mode::Write | Mode::Append | Mode::MoveTo | Mode::Create | Mode::Rotate | Mode::Publish
        )
    }

    /// The verb a reviewer reads in a message ("deletes", "reads").
    pub fn verb(self) -> &'static str {
        match self {
            Mode::Write => "writes",
            Mode::Append => "appends to",
            Mode::Create => "creates",
            Mode::Read => "reads",
            Mode::Check => "checks for",
            Mode::List => "lists",
            Mode::Delete => "deletes",
            Mode::MoveFrom => "moves away",
            Mode::MoveTo => "moves or copies into",
            Mode::CopyFrom => "copies",
            Mode::Exec => "runs",
            Mode::Set => "sets",
            Mode::Publish => "publishes to",
            Mode::Consume => "consumes from",
            Mode::Rotate => "rotates",
            Mode::WaitFor => "waits for",
            Mode::Trigger => "triggers",
            Mode::Unknown => "mentions",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A cron-style schedule, kept as written and described in plain words for reviewers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Schedule {
    /// The five fields or the `@daily`-style macro, as written.
    pub expression: String,
    /// Plain words: "every day at 02:00".
    pub description: String,
}

/// How a unit comes to run. Rules about waits ask whether a producer can be made to act now.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Trigger {
    /// Started by a schedule declared at `declared_at` (a crontab line, a timer).
    Schedule {
        schedule: Schedule,
        declared_at: Site,
    },
    /// Started on demand: a signal, a watched file, a queue, an endpoint.
    OnDemand { how: String, declared_at: Site },
    /// Runs forever, acting every `interval` (a loop with a sleep).
    Loop { interval: String, declared_at: Site },
}

/// The lines a change touched in the changed repository, per file and side, so that every stage
/// after `load` can tell whether a site lies in the change (DESIGN: a finding's change site is
/// always in what the change changed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangedLines {
    /// The changed repository's name: sites of other repositories are never in the change.
    pub repo: String,
    files: std::collections::BTreeMap<String, FileLines>,
}

/// Touched lines of one file: 1-based inclusive ranges in the base and head versions, sorted.
/// A side with no content (an added or a deleted file) has one range over all of its lines
/// (`1..=u32::MAX`), so any site there is in the change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileLines {
    pub base: Vec<(u32, u32)>,
    pub head: Vec<(u32, u32)>,
}

/// A statement may span lines below the one its access is reported at (a call with its
/// arguments on the next lines): a change this many lines below a site still touches it.
pub const STATEMENT_SPAN: u32 = 3;

/// Which version of the changed repository a site refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    Base,
    Head,
}

impl ChangedLines {
    pub fn new(repo: impl Into<String>) -> ChangedLines {
        ChangedLines {
            repo: repo.into(),
            files: Default::default(),
        }
    }

    /// Is a finding's change site (head version, or base version for removed code) in the
    /// change?
    pub fn contains_site(&self, repo: &str, path: &str, line: u32) -> bool {
        repo == self.repo && self.touches_either(path, line)
    }

    /// A change that touched one line of one file, on both sides: for tests of the stages
    /// that hold sites to the change.
    #[cfg(test)]
    pub fn one_line(repo: &str, path: &str, line: u32) -> ChangedLines {
        let mut lines = ChangedLines::new(repo);
        lines.insert(
            path.into(),
            FileLines {
                base: vec![(line, line)],
                head: vec![(line, line)],
            },
        );
        lines
    }

    /// Records the touched ranges of one changed file.
    pub fn insert(&mut self, path: String, lines: FileLines) {
        self.files.insert(path, lines);
    }

    /// Is this path one the change added, removed or modified?
    pub fn is_changed_path(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// Changed paths in order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The touched ranges of a file, if the change touched it.
    pub fn file(&self, path: &str) -> Option<&FileLines> {
        self.files.get(path)
    }

    /// Does the statement at `line` of `path`, in that version, lie in the change? It does
    /// when a touched line is at it or at most [`STATEMENT_SPAN`] lines below it.
    pub fn touches(&self, path: &str, line: u32, version: Version) -> bool {
        self.touches_within(path, line, version, STATEMENT_SPAN)
    }

    /// Whether a touched line is at `line` or at most `span` lines below it.
    fn touches_within(&self, path: &str, line: u32, version: Version, span: u32) -> bool {
        let Some(file) = self.files.get(path) else {
            return false;
        };
        let ranges = match version {
            Version::Base => &file.base,
            Version::Head => &file.head,
        };
        let last = line.saturating_add(span);
        // Ranges are sorted and disjoint: the first range that ends at or after `line` decides.
        let i = ranges.partition_point(|&(_, end)| end < line);
        ranges.get(i).is_some_and(|&(start, _)| start <= last)
    }

    /// Did the change write this very line of the head version? Unlike [`ChangedLines::touches`]
    /// there is no statement span: an unchanged consumer just above an edit is still unchanged.
    pub fn wrote_head_line(&self, repo: &str, path: &str, line: u32) -> bool {
        repo == self.repo && self.touches_within(path, line, Version::Head, 0)
    }

    /// [`ChangedLines::touches`] on either side: for a finding, whose change site may name the
    /// head version or, for removed code, the base version.
    pub fn touches_either(&self, path: &str, line: u32) -> bool {
        self.touches(path, line, Version::Head) || self.touches(path, line, Version::Base)
    }
}
