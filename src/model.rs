//! The core data of DESIGN.md that every stage shares: where code is ([`Site`]), what it does to a
//! shared resource ([`Mode`], [`ResourceKind`]), and how a unit comes to run ([`Schedule`],
//! [`Trigger`]).
//!
//! These are plain values with no behaviour beyond naming and describing themselves, so that any
//! stage can hold them without depending on the stage that produced them.

use serde::Serialize;
use std::fmt;

/// A place in a repository: the statement, command or config entry that performs an access.
/// Lines are 1-based, as editors and the JSON contract count them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
    /// A mention whose effect is not known (the generic fallback for unparsed languages).
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
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
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
