//! Pieces -> a normalised pattern: display text, literal prefix and automaton.

use super::{Pattern, Piece};

pub fn build(_pieces: &[Piece], subtree: bool) -> Pattern {
    Pattern {
        display: String::new(),
        absolute: false,
        subtree,
        literal_prefix: String::new(),
        nfa: super::automaton::Nfa::default(),
    }
}

/// Normalises a literal path: collapses `//` and `/./`, folds `dir/..`, drops a trailing `/`.
pub fn normalize_literal_path(path: &str) -> String {
    path.to_string()
}
