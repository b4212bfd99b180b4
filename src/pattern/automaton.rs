//! Automata over path characters: the exact decision procedures behind the relations.

/// A non-deterministic automaton for one pattern.
#[derive(Clone, Debug, Default)]
pub struct Nfa {}

impl Nfa {
    pub fn matches(&self, _path: &str) -> bool {
        false
    }
}

/// Is the language of `b` included in the union of `a`?
pub fn included<'a>(_b: &Nfa, _a: impl Iterator<Item = &'a Nfa>) -> bool {
    false
}

/// A shortest string in both languages.
pub fn intersect_witness(_a: &Nfa, _b: &Nfa) -> Option<String> {
    None
}

/// A shortest string in `b` and in none of `a`.
pub fn difference_witness<'a>(_b: &Nfa, _a: impl Iterator<Item = &'a Nfa>) -> Option<String> {
    None
}
