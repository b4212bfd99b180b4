//! Sets of alphabet codes, the predicates on automaton edges.
//!
//! The alphabet is every Unicode scalar value plus a few reserved codes above `char::MAX` that
//! encode opaque symbols (`${NAME}`): no real path can contain them, so a symbol is equal only
//! to itself. Sets are sorted, disjoint, non-adjacent inclusive ranges, so that the relation
//! algorithms can split the alphabet into a few intervals that every edge treats alike.

/// `/`, the separator: the one character that `*`, `?` and segments never match.
pub(super) const SLASH: u32 = '/' as u32;
/// The largest Unicode scalar value.
pub(super) const MAX_CHAR: u32 = char::MAX as u32;
/// Opens a symbol's encoding: `SYM_OPEN name SYM_CLOSE`.
pub(super) const SYM_OPEN: u32 = MAX_CHAR + 1;
/// Closes a symbol's encoding.
pub(super) const SYM_CLOSE: u32 = MAX_CHAR + 2;
/// The largest code of the alphabet.
pub(super) const MAX_CODE: u32 = SYM_CLOSE;

const SURROGATES: (u32, u32) = (0xD800, 0xDFFF);

/// Above this many non-ASCII code points, a case-insensitive class folds its ASCII part only:
/// enumerating huge ranges would cost more than the (path-irrelevant) exotic case pairs.
const FOLD_ENUMERATION_LIMIT: u32 = 1024;

/// A set of alphabet codes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(super) struct CharSet {
    ranges: Vec<(u32, u32)>,
}

impl CharSet {
    pub(super) fn single(c: u32) -> CharSet {
        CharSet {
            ranges: vec![(c, c)],
        }
    }

    /// Every code, symbols included: what `**`, path holes and `find -path`'s `*` match.
    pub(super) fn any() -> CharSet {
        CharSet {
            ranges: vec![(0, MAX_CODE)],
        }
    }

    /// Every character (no symbol code).
    pub(super) fn chars() -> CharSet {
        CharSet {
            ranges: vec![(0, MAX_CHAR)],
        }
    }

    /// Every character except `/`: what `*`, `?` and segment holes match.
    pub(super) fn non_slash() -> CharSet {
        CharSet {
            ranges: vec![(0, SLASH - 1), (SLASH + 1, MAX_CHAR)],
        }
    }

    pub(super) fn digits() -> CharSet {
        CharSet::from_ranges(vec![('0' as u32, '9' as u32)])
    }

    /// Builds a set from arbitrary ranges (unsorted, overlapping, or reversed = empty).
    pub(super) fn from_ranges(mut ranges: Vec<(u32, u32)>) -> CharSet {
        ranges.retain(|&(lo, hi)| lo <= hi);
        ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            match merged.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        CharSet { ranges: merged }
    }

    pub(super) fn ranges(&self) -> &[(u32, u32)] {
        &self.ranges
    }

    pub(super) fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The one code of a singleton set.
    pub(super) fn as_single(&self) -> Option<u32> {
        match self.ranges.as_slice() {
            [(lo, hi)] if lo == hi => Some(*lo),
            _ => None,
        }
    }

    pub(super) fn contains(&self, c: u32) -> bool {
        let i = self.ranges.partition_point(|&(_, hi)| hi < c);
        self.ranges.get(i).is_some_and(|&(lo, _)| lo <= c)
    }

    pub(super) fn union(&self, other: &CharSet) -> CharSet {
        let mut all = self.ranges.clone();
        all.extend_from_slice(&other.ranges);
        CharSet::from_ranges(all)
    }

    /// The codes of `universe` that are not in `self`.
    pub(super) fn complement_within(&self, universe: &CharSet) -> CharSet {
        let mut out = Vec::new();
        for &(ulo, uhi) in &universe.ranges {
            // The next code of this universe range not yet known to be in `self`.
            let mut next = Some(ulo);
            for &(lo, hi) in &self.ranges {
                let Some(n) = next else { break };
                if hi < n {
                    continue;
                }
                if lo > uhi {
                    break;
                }
                if lo > n {
                    out.push((n, lo - 1));
                }
                next = hi.checked_add(1);
            }
            if let Some(n) = next
                && n <= uhi
            {
                out.push((n, uhi));
            }
        }
        CharSet::from_ranges(out)
    }

    /// The set without `c`.
    pub(super) fn without(&self, c: u32) -> CharSet {
        CharSet::single(c).complement_within(self)
    }

    /// The set closed under simple case mapping: `[a-c]` also matches `A-C`.
    pub(super) fn case_folded(&self) -> CharSet {
        let mut extra = Vec::new();
        for &(lo, hi) in &self.ranges {
            fold_ascii(lo, hi, &mut extra);
            let (nlo, nhi) = (lo.max(0x80), hi.min(MAX_CHAR));
            if nlo <= nhi && nhi - nlo < FOLD_ENUMERATION_LIMIT {
                for c in nlo..=nhi {
                    for v in case_variants(c).into_iter().flatten() {
                        extra.push((v, v));
                    }
                }
            }
        }
        if extra.is_empty() {
            return self.clone();
        }
        self.union(&CharSet::from_ranges(extra))
    }
}

/// Adds the other-case ASCII letters of `lo..=hi`.
fn fold_ascii(lo: u32, hi: u32, out: &mut Vec<(u32, u32)>) {
    const CASE_GAP: u32 = 'a' as u32 - 'A' as u32;
    let overlap = |a: char, z: char| (lo.max(a as u32), hi.min(z as u32));
    let (ulo, uhi) = overlap('A', 'Z');
    if ulo <= uhi {
        out.push((ulo + CASE_GAP, uhi + CASE_GAP));
    }
    let (llo, lhi) = overlap('a', 'z');
    if llo <= lhi {
        out.push((llo - CASE_GAP, lhi - CASE_GAP));
    }
}

/// The other single-character cases of `c` (lower, upper), where they exist and differ.
pub(super) fn case_variants(c: u32) -> [Option<u32>; 2] {
    let Some(ch) = char::from_u32(c) else {
        return [None, None];
    };
    [
        single_other(ch, ch.to_lowercase()),
        single_other(ch, ch.to_uppercase()),
    ]
}

/// The mapping of `ch`, when it is one character other than `ch`.
fn single_other(ch: char, mut mapped: impl Iterator<Item = char>) -> Option<u32> {
    let first = mapped.next()?;
    (mapped.next().is_none() && first != ch).then_some(first as u32)
}

/// Is `c` a code that a realisable path can contain at this position of the alphabet?
pub(super) fn is_char(c: u32) -> bool {
    c <= MAX_CHAR && !(SURROGATES.0..=SURROGATES.1).contains(&c)
}

/// A readable member of `lo..=hi` that is a real character, if any: witnesses are shown to
/// reviewers, so `x` reads better than U+0000.
pub(super) fn readable_member(lo: u32, hi: u32) -> Option<u32> {
    const PREFERRED: &[char] = &['x', 'a', '0', '_', '-', '.', 'X', 'A', '~', ' '];
    if let Some(&p) = PREFERRED.iter().find(|&&p| (lo..=hi).contains(&(p as u32))) {
        return Some(p as u32);
    }
    let hi = hi.min(MAX_CHAR);
    let printable_from = lo.max(0x21);
    for start in [printable_from, lo] {
        let c = if (SURROGATES.0..=SURROGATES.1).contains(&start) {
            SURROGATES.1 + 1
        } else {
            start
        };
        if c <= hi && is_char(c) {
            return Some(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complement_of_slash_in_chars_is_non_slash() {
        let set = CharSet::single(SLASH).complement_within(&CharSet::chars());
        assert_eq!(set, CharSet::non_slash());
    }

    #[test]
    fn complement_covers_edges() {
        let set = CharSet::from_ranges(vec![(0, 5), (10, MAX_CODE)]);
        assert_eq!(
            set.complement_within(&CharSet::any()).ranges(),
            &[(6, 9)][..]
        );
        assert!(CharSet::any().complement_within(&CharSet::any()).is_empty());
        assert_eq!(
            CharSet::default().complement_within(&CharSet::any()),
            CharSet::any()
        );
    }

    #[test]
    fn folding_adds_other_cases() {
        let set = CharSet::from_ranges(vec![('a' as u32, 'c' as u32)]).case_folded();
        assert!(set.contains('B' as u32));
        assert!(!set.contains('D' as u32));
        let set = CharSet::single('é' as u32).case_folded();
        assert!(set.contains('É' as u32));
    }

    #[test]
    fn readable_members_are_chars() {
        assert_eq!(readable_member(0xD800, 0xE000), Some(0xE000));
        assert_eq!(readable_member(0xD800, 0xDFFF), None);
        assert_eq!(readable_member(0, MAX_CHAR), Some('x' as u32));
        assert_eq!(readable_member(SYM_OPEN, MAX_CODE), None);
    }
}
