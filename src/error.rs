//! The errors that stop a run, one variant per stage that can fail on bad input. Each displays as
//! one line that names the problem and what to do; the CLI prints it and exits with code 2.
//!
//! Messages quote input (paths, revision names, diff lines), so whatever prints them to a terminal
//! goes through [`escape_controls`] first.

use crate::rules::RulesError;
use std::fmt::Write;

// `transparent`: each stage's error already names the problem; wrapping it in a message of its
// own would print it twice when the CLI shows the error with its sources.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Load(#[from] crate::load::LoadError),
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    #[error("{0}")]
    Usage(String),
}

/// `text` with C0 control characters (newlines and ESC included), DEL and C1 controls written as
/// escapes (`\n`, `\t`, `\x1b`, `\u{9b}`), so that a hostile path, revision name or diff line
/// in a message can neither move the cursor, recolour the terminal nor forge another line.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Prints one line to standard error, `knockon: ` first, its controls escaped.
pub fn print_line(message: &str) {
    eprintln!("knockon: {}", escape_controls(message));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_in_messages() {
        assert_eq!(escape_controls("a\u{1b}[31mb"), "a\\x1b[31mb");
        assert_eq!(escape_controls("x\ny\rz\tw"), "x\\ny\\rz\\tw");
        assert_eq!(escape_controls("\u{7f}\u{9b}é"), "\\x7f\\u{9b}é");
        assert_eq!(escape_controls("plain path/x.py"), "plain path/x.py");
    }
}
