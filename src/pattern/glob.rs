//! Glob text (fnmatch / shell syntax) -> items.
//!
//! `*`, `?`, `[...]` (`!`/`^` negation, ranges, `[:class:]`, `\` escapes), `\x`, and `**`
//! (recursive only when it is a whole segment, decided later on segments). A `[` without a
//! closing `]` is a literal `[`. Without `star_matches_slash` (a shell glob, `find -name`), no
//! wildcard matches `/`; with it (`find -path`, fnmatch without `FNM_PATHNAME`), `*` matches any
//! run of characters and `?` and brackets may match `/`, and `**` is simply two stars.

use super::build::{Item, Show, Tok};
use super::charset::{CharSet, SLASH, case_variants};

/// The options a program gives its glob.
#[derive(Clone, Copy, Debug)]
pub(super) struct GlobFlags {
    pub(super) star_matches_slash: bool,
    pub(super) case_insensitive: bool,
}

/// Appends the items of `text` to `out`.
pub(super) fn lex(text: &str, flags: GlobFlags, out: &mut Vec<Item>) {
    let chars: Vec<char> = text.chars().collect();
    // A bracket can only close at a `]`: knowing the last one keeps unclosed `[`s from each
    // scanning to the end (quadratic on hostile text).
    let last_close = chars.iter().rposition(|&c| c == ']');
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i;
        let tok = match c {
            '*' => {
                while chars.get(i + 1) == Some(&'*') {
                    i += 1;
                }
                star(i + 1 - start, flags)
            }
            '?' => Tok::One(Box::new(one_char(flags))),
            '[' if last_close.is_some_and(|l| l > i) => match bracket(&chars, i + 1, flags) {
                Some((set, end)) => {
                    i = end - 1;
                    Tok::One(Box::new(set))
                }
                None => literal('[' as u32, flags),
            },
            '[' => literal('[' as u32, flags),
            '\\' => match chars.get(i + 1) {
                Some(&next) => {
                    i += 1;
                    literal(next as u32, flags)
                }
                None => literal('\\' as u32, flags),
            },
            _ => literal(c as u32, flags),
        };
        i += 1;
        let written: String = chars.get(start..i).unwrap_or(&[]).iter().collect();
        let show = match tok {
            Tok::Lit(code) | Tok::Fold(code) if written.chars().eq(char::from_u32(code)) => {
                Show::Char
            }
            _ => Show::Text(written),
        };
        out.push(Item { tok, show });
    }
}

fn star(run: usize, flags: GlobFlags) -> Tok {
    if flags.star_matches_slash {
        Tok::Many(Box::new(CharSet::any()))
    } else if run == 2 {
        Tok::DoubleStar
    } else {
        Tok::Many(Box::new(CharSet::non_slash()))
    }
}

/// What `?` matches.
fn one_char(flags: GlobFlags) -> CharSet {
    if flags.star_matches_slash {
        CharSet::chars()
    } else {
        CharSet::non_slash()
    }
}

fn literal(c: u32, flags: GlobFlags) -> Tok {
    if flags.case_insensitive && case_variants(c).iter().any(Option::is_some) {
        Tok::Fold(c)
    } else {
        Tok::Lit(c)
    }
}

/// Parses a bracket expression whose `[` is just before `start`: the set it matches and the
/// index after its `]`, or `None` when it never closes.
fn bracket(chars: &[char], start: usize, flags: GlobFlags) -> Option<(CharSet, usize)> {
    let mut j = start;
    let negated = matches!(chars.get(j), Some('!' | '^'));
    if negated {
        j += 1;
    }
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    let mut first = true;
    loop {
        let c = *chars.get(j)?;
        if c == ']' && !first {
            j += 1;
            break;
        }
        first = false;
        if c == '['
            && chars.get(j + 1) == Some(&':')
            && let Some((class, end)) = named_class(chars, j + 2)
        {
            ranges.extend_from_slice(class);
            j = end;
            continue;
        }
        let (lo, after) = bracket_char(chars, j)?;
        j = after;
        if chars.get(j) == Some(&'-') && chars.get(j + 1).is_some_and(|&n| n != ']') {
            let (hi, after) = bracket_char(chars, j + 1)?;
            ranges.push((lo, hi));
            j = after;
        } else {
            ranges.push((lo, lo));
        }
    }
    let mut set = CharSet::from_ranges(ranges);
    if flags.case_insensitive {
        set = set.case_folded();
    }
    if negated {
        set = set.complement_within(&CharSet::chars());
    }
    if !flags.star_matches_slash {
        set = set.without(SLASH);
    }
    Some((set, j))
}

/// One member character of a bracket (escapes resolved) and the index after it.
fn bracket_char(chars: &[char], j: usize) -> Option<(u32, usize)> {
    match *chars.get(j)? {
        '\\' => chars.get(j + 1).map(|&c| (c as u32, j + 2)),
        c => Some((c as u32, j + 1)),
    }
}

/// A `[:name:]` class whose name starts at `start`: its ranges and the index after `:]`.
/// An unknown name matches nothing, as in glibc.
fn named_class(chars: &[char], start: usize) -> Option<(&'static [(u32, u32)], usize)> {
    let len = chars
        .get(start..)?
        .windows(2)
        .take(16)
        .position(|w| w == [':', ']'])?;
    let name: String = chars.get(start..start + len)?.iter().collect();
    Some((posix_class(&name), start + len + 2))
}

fn posix_class(name: &str) -> &'static [(u32, u32)] {
    const fn r(lo: char, hi: char) -> (u32, u32) {
        (lo as u32, hi as u32)
    }
    const DIGIT: &[(u32, u32)] = &[r('0', '9')];
    const UPPER: &[(u32, u32)] = &[r('A', 'Z')];
    const LOWER: &[(u32, u32)] = &[r('a', 'z')];
    const ALPHA: &[(u32, u32)] = &[r('A', 'Z'), r('a', 'z')];
    const ALNUM: &[(u32, u32)] = &[r('0', '9'), r('A', 'Z'), r('a', 'z')];
    const XDIGIT: &[(u32, u32)] = &[r('0', '9'), r('A', 'F'), r('a', 'f')];
    const SPACE: &[(u32, u32)] = &[r('\t', '\r'), r(' ', ' ')];
    const BLANK: &[(u32, u32)] = &[r('\t', '\t'), r(' ', ' ')];
    const PUNCT: &[(u32, u32)] = &[r('!', '/'), r(':', '@'), r('[', '`'), r('{', '~')];
    const CNTRL: &[(u32, u32)] = &[r('\0', '\u{1f}'), r('\u{7f}', '\u{7f}')];
    const PRINT: &[(u32, u32)] = &[r(' ', '~')];
    const GRAPH: &[(u32, u32)] = &[r('!', '~')];
    match name {
        "digit" => DIGIT,
        "upper" => UPPER,
        "lower" => LOWER,
        "alpha" => ALPHA,
        "alnum" => ALNUM,
        "xdigit" => XDIGIT,
        "space" => SPACE,
        "blank" => BLANK,
        "punct" => PUNCT,
        "cntrl" => CNTRL,
        "print" => PRINT,
        "graph" => GRAPH,
        _ => &[],
    }
}
