//! "Is this still produced?" asked of one side's patterns, fast and honest.
//!
//! Most accesses of a changed repository are untouched by the change, and an untouched access
//! has the very same pattern on both sides: that is a hash lookup, not an automaton search, so
//! the cost of a change grows with what it changed rather than with the size of the repository.
//! Only the rest goes to the algebra, and when the algebra cannot decide within its budget the
//! answer is [`Coverage::Undecided`] — which callers must never turn into a finding.

use crate::pattern::{self, Pattern};
use std::collections::HashSet;

/// The answer to "does this side still cover the pattern?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    Covered,
    NotCovered,
    /// The patterns are too complex to compare within the search budget.
    Undecided,
}

/// One side's patterns (outputs, or the names of one group).
pub struct Covering {
    exact: HashSet<Pattern>,
    patterns: Vec<Pattern>,
}

impl Covering {
    pub fn new(patterns: impl IntoIterator<Item = Pattern>) -> Covering {
        let patterns: Vec<Pattern> = patterns.into_iter().collect();
        Covering {
            exact: patterns.iter().cloned().collect(),
            patterns,
        }
    }

    /// Does the union of this side's patterns match every path (or name) `p` names?
    pub fn covers(&self, p: &Pattern) -> Coverage {
        if self.exact.contains(p) {
            return Coverage::Covered;
        }
        match pattern::try_covers(&self.patterns, p) {
            Some(true) => Coverage::Covered,
            Some(false) => Coverage::NotCovered,
            None => Coverage::Undecided,
        }
    }

    /// The coverage of every pattern of an access: not covered when one pattern is not,
    /// undecided when none is uncovered but one is undecided.
    pub fn covers_all<'p>(&self, patterns: impl IntoIterator<Item = &'p Pattern>) -> Coverage {
        let mut answer = Coverage::Covered;
        for p in patterns {
            match self.covers(p) {
                Coverage::NotCovered => return Coverage::NotCovered,
                Coverage::Undecided => answer = Coverage::Undecided,
                Coverage::Covered => {}
            }
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_pattern_is_covered_without_a_search() {
        // A union far beyond any search budget still covers a pattern it contains verbatim.
        let many: Vec<Pattern> = (0..5000)
            .map(|i| Pattern::glob(&format!("/srv/{i}/*[a-z]*[0-9]*.log")))
            .chain([Pattern::glob("/**")])
            .collect();
        let side = Covering::new(many);
        assert_eq!(side.covers(&Pattern::glob("/**")), Coverage::Covered);
        assert_eq!(
            side.covers(&Pattern::glob("/srv/42/*[a-z]*[0-9]*.log")),
            Coverage::Covered
        );
    }

    #[test]
    fn a_moved_output_is_not_covered() {
        let side = Covering::new([Pattern::glob("/data/ticker/*/*.csv")]);
        assert_eq!(
            side.covers(&Pattern::glob("/data/ticker/ticker_*.csv")),
            Coverage::NotCovered
        );
        assert_eq!(
            side.covers(&Pattern::glob("/data/ticker/2026/NYSE.csv")),
            Coverage::Covered
        );
    }
}
