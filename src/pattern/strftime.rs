//! A `strftime` format -> the items for the shape of its output.
//!
//! Numeric directives have a fixed number of digits (`%Y` four, `%m` two, `%j` three...), `%F`,
//! `%T`, `%D` and `%R` expand to their definitions, `%s` is one or more digits, `%%` is `%`, and
//! other characters are themselves. Anything whose output depends on the locale or cannot be
//! bounded (`%b`, `%A`, `%Z`, a flag or width) is one or more characters other than `/`: the
//! shape must contain every value the program may write, or covers/overlaps would lie.

use super::build::{Item, Show, Tok};
use super::charset::CharSet;

/// How far `%F`-style composites may nest; they never nest more than once.
const MAX_EXPANSION_DEPTH: u32 = 2;

/// Appends the (hidden) items for the output of `format` to `out`.
pub(super) fn lex(format: &str, out: &mut Vec<Item>) {
    lex_at(format, 0, out);
}

fn lex_at(format: &str, depth: u32, out: &mut Vec<Item>) {
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            push(out, Tok::Lit(c as u32));
            continue;
        }
        let mut padding = Padding::Default;
        while let Some(&f) = chars.peek() {
            match f {
                '-' if padding == Padding::Default => padding = Padding::None,
                '-' | '_' | '0' | '^' | '#' => padding = Padding::Other,
                _ if f.is_ascii_digit() => padding = Padding::Other,
                _ => break,
            }
            chars.next();
        }
        let Some(d) = chars.next() else {
            push(out, Tok::Lit('%' as u32));
            break;
        };
        directive(d, padding, depth, out);
    }
}

/// What the flags between `%` and the directive say about a number's width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Padding {
    /// No flag: the directive's own width, zero-padded.
    Default,
    /// `-` alone: no padding, so one or more digits.
    None,
    /// Any other flag or a width: spaces, case changes, unknown widths.
    Other,
}

fn directive(d: char, padding: Padding, depth: u32, out: &mut Vec<Item>) {
    if let Some(expansion) = composite(d)
        && depth < MAX_EXPANSION_DEPTH
    {
        if padding == Padding::Default {
            lex_at(expansion, depth + 1, out);
        } else {
            opaque(out);
        }
        return;
    }
    match (d, digit_count(d), padding) {
        ('%', _, _) => push(out, Tok::Lit('%' as u32)),
        ('n', _, _) => push(out, Tok::Lit('\n' as u32)),
        ('t', _, _) => push(out, Tok::Lit('\t' as u32)),
        ('s', _, Padding::Default | Padding::None) => one_or_more(out, CharSet::digits()),
        (_, Some(n), Padding::Default) => {
            for _ in 0..n {
                push(out, Tok::One(Box::new(CharSet::digits())));
            }
        }
        (_, Some(_), Padding::None) => one_or_more(out, CharSet::digits()),
        ('e' | 'k' | 'l', _, Padding::Default) => {
            let space_or_digit = CharSet::digits().union(&CharSet::single(' ' as u32));
            push(out, Tok::One(Box::new(space_or_digit)));
            push(out, Tok::One(Box::new(CharSet::digits())));
        }
        ('e' | 'k' | 'l', _, Padding::None) => one_or_more(out, CharSet::digits()),
        _ => opaque(out),
    }
}

/// Directives defined as other formats.
fn composite(d: char) -> Option<&'static str> {
    match d {
        'F' => Some("%Y-%m-%d"),
        'T' => Some("%H:%M:%S"),
        'D' => Some("%m/%d/%y"),
        'R' => Some("%H:%M"),
        _ => None,
    }
}

/// Zero-padded numeric directives and their width.
fn digit_count(d: char) -> Option<usize> {
    match d {
        'Y' | 'G' => Some(4),
        'm' | 'd' | 'H' | 'M' | 'S' | 'y' | 'I' | 'C' | 'U' | 'W' | 'V' | 'g' => Some(2),
        'j' => Some(3),
        'u' | 'w' => Some(1),
        'f' => Some(6),
        _ => None,
    }
}

fn push(out: &mut Vec<Item>, tok: Tok) {
    out.push(Item {
        tok,
        show: Show::Hidden,
    });
}

fn one_or_more(out: &mut Vec<Item>, set: CharSet) {
    push(out, Tok::One(Box::new(set.clone())));
    push(out, Tok::Many(Box::new(set)));
}

/// One or more characters other than `/`.
fn opaque(out: &mut Vec<Item>) {
    one_or_more(out, CharSet::non_slash());
}
