//! Rules as data: the API models that extractors consult and the impact rules that turn contract
//! deltas into findings. Raw files are TOML with a schema version; errors name the file and line.

pub mod assumptions;
pub mod impact;
pub mod models;

use std::fmt;

/// A rule or model file that cannot be used. Displayed as `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RulesError {
    pub file: String,
    pub line: u32,
    pub message: String,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl RulesError {
    pub fn at(file: &str, line: u32, message: impl Into<String>) -> RulesError {
        RulesError {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }

    /// Converts a TOML error, locating it by its span and keeping only its first line of text.
    pub fn toml(file: &str, text: &str, error: &toml::de::Error) -> RulesError {
        let line = error
            .span()
            .map(|span| line_of_offset(text, span.start))
            .unwrap_or(1);
        let message = error
            .message()
            .lines()
            .next()
            .unwrap_or("invalid TOML")
            .trim()
            .to_string();
        RulesError::at(file, line, message)
    }
}

/// 1-based line of a byte offset.
pub fn line_of_offset(text: &str, offset: usize) -> u32 {
    let end = offset.min(text.len());
    let newlines = text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// 1-based line where a top-level `key =` first appears, for errors about a key's value.
pub fn line_of_key(text: &str, key: &str) -> u32 {
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| u32::try_from(i + 1).unwrap_or(u32::MAX))
        .unwrap_or(1)
}
