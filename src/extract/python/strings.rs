//! Python string literals and format strings as text: escape decoding, `%` formatting and
//! `str.format` templates, and `open()` mode strings. Pure functions over `&str`, so the tricky
//! parsing is tested without a syntax tree.

use crate::model::Mode;

/// The prefix letters of a string literal (`rb`, `f`, `u`), which decide how its body reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Prefix {
    pub raw: bool,
    pub format: bool,
}

impl Prefix {
    /// Reads the prefix from a `string_start` token such as `rb"` or `f'''`.
    pub fn parse(start: &str) -> Prefix {
        let letters = start.trim_end_matches(['"', '\'']);
        Prefix {
            raw: letters.contains(['r', 'R']),
            format: letters.contains(['f', 'F']),
        }
    }
}

/// The value of a literal part of a string body: escapes decoded (unless raw) and, in f-strings,
/// `{{`/`}}` unescaped.
pub(super) fn decode_literal(body: &str, prefix: Prefix) -> String {
    let text = if prefix.raw {
        body.to_string()
    } else {
        decode_escapes(body)
    };
    if prefix.format {
        text.replace("{{", "{").replace("}}", "}")
    } else {
        text
    }
}

/// Decodes backslash escapes as Python does for a non-raw literal; unknown escapes keep the
/// backslash, as Python does.
fn decode_escapes(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(next) = chars.next() else {
            out.push('\\');
            break;
        };
        match next {
            '\n' => {}
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
            }
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            'x' => push_hex(&mut out, &mut chars, 2, "\\x"),
            'u' => push_hex(&mut out, &mut chars, 4, "\\u"),
            'U' => push_hex(&mut out, &mut chars, 8, "\\U"),
            '0'..='7' => {
                let mut value = next.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            value = value * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(value).unwrap_or('\u{fffd}'));
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

fn push_hex(
    out: &mut String,
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    digits: usize,
    escape: &str,
) {
    let mut taken = String::new();
    for _ in 0..digits {
        match chars.peek() {
            Some(d) if d.is_ascii_hexdigit() => {
                taken.push(*d);
                chars.next();
            }
            _ => break,
        }
    }
    let decoded = (taken.len() == digits)
        .then(|| u32::from_str_radix(&taken, 16).ok())
        .flatten()
        .and_then(char::from_u32);
    match decoded {
        Some(c) => out.push(c),
        None => {
            out.push_str(escape);
            out.push_str(&taken);
        }
    }
}

/// Which argument a replacement field takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum FieldKey {
    Index(usize),
    Name(String),
}

/// One `{...}` field of a `str.format` template, or one `%` conversion of a printf template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Field {
    pub key: FieldKey,
    /// The format spec after `:` (`%Y-%m-%d`, `03d`); for printf, the flags/width/precision.
    pub spec: String,
    /// `!r`/`!s`/`!a` for `.format`; the conversion letter (`s`, `d`, `r`) for printf.
    pub conversion: Option<char>,
    /// The field reaches inside its argument (`{0.name}`, `{d[key]}`): not the argument itself.
    pub indirect: bool,
}

impl Field {
    /// Whether the field's text is the argument's own `str()`: no spec, no conversion that
    /// changes it.
    pub fn is_plain(&self) -> bool {
        !self.indirect && self.spec.is_empty() && matches!(self.conversion, None | Some('s'))
    }
}

/// A piece of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Piece {
    Lit(String),
    Field(Field),
}

/// Parses a `str.format` template. `None` when malformed (Python would raise).
pub(super) fn parse_brace_format(template: &str) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut auto = 0usize;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                lit.push('}');
            }
            '}' => return None,
            '{' => {
                let mut body = String::new();
                let mut depth = 1;
                for c in chars.by_ref() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    body.push(c);
                }
                if depth != 0 {
                    return None;
                }
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                pieces.push(Piece::Field(brace_field(&body, &mut auto)?));
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    Some(pieces)
}

fn brace_field(body: &str, auto: &mut usize) -> Option<Field> {
    let (head, spec) = match body.split_once(':') {
        Some((h, s)) => (h, s.to_string()),
        None => (body, String::new()),
    };
    let (name, conversion) = match head.split_once('!') {
        Some((n, c)) => (n, c.chars().next()),
        None => (head, None),
    };
    let end = name.find(['.', '[']).unwrap_or(name.len());
    let (first, rest) = name.split_at(end);
    let key = if first.is_empty() {
        let k = FieldKey::Index(*auto);
        *auto += 1;
        k
    } else if let Ok(i) = first.parse::<usize>() {
        FieldKey::Index(i)
    } else {
        FieldKey::Name(first.to_string())
    };
    Some(Field {
        key,
        spec,
        conversion,
        indirect: !rest.is_empty(),
    })
}

/// Parses a printf-style template (`"%s/%s.csv"`, `"%(name)s"`). `None` when malformed.
pub(super) fn parse_printf(template: &str) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut next = 0usize;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            lit.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            lit.push('%');
            continue;
        }
        let mut key = None;
        if chars.peek() == Some(&'(') {
            chars.next();
            let mut name = String::new();
            loop {
                match chars.next()? {
                    ')' => break,
                    c => name.push(c),
                }
            }
            key = Some(FieldKey::Name(name));
        }
        let mut spec = String::new();
        while let Some(&c) = chars.peek() {
            if "#0- +*.".contains(c) || c.is_ascii_digit() {
                spec.push(c);
                chars.next();
            } else {
                break;
            }
        }
        while matches!(chars.peek(), Some('h' | 'l' | 'L')) {
            chars.next();
        }
        let conversion = chars.next()?;
        if !"diouxXeEfFgGcrsa".contains(conversion) {
            return None;
        }
        let key = key.unwrap_or_else(|| {
            let k = FieldKey::Index(next);
            next += 1;
            k
        });
        if !lit.is_empty() {
            pieces.push(Piece::Lit(std::mem::take(&mut lit)));
        }
        pieces.push(Piece::Field(Field {
            key,
            spec,
            conversion: Some(conversion),
            indirect: false,
        }));
    }
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    Some(pieces)
}

/// Whether a printf conversion renders its argument as the argument's own text.
pub(super) fn printf_is_plain(field: &Field) -> bool {
    field.spec.is_empty() && matches!(field.conversion, Some('s' | 'd' | 'i' | 'u'))
}

/// The mode an `open()`-style mode string means: `a` appends; `w`, `x` or `+` write (a
/// read-write open can truncate or overwrite); `r` (or only `b`/`t`) reads. The tarfile
/// compression suffix (`w:gz`, `r|*`) is ignored. `None` when the text is not a mode string,
/// which tells the extractor that the call is not the modelled API.
pub(super) fn parse_open_mode(text: &str) -> Option<Mode> {
    let letters = text.split([':', '|']).next().unwrap_or("");
    if letters.is_empty() || !letters.chars().all(|c| "rwxabtU+".contains(c)) {
        return None;
    }
    Some(if letters.contains('a') {
        Mode::Append
    } else if letters.contains(['w', 'x', '+']) {
        Mode::Write
    } else {
        Mode::Read
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_decode_like_python() {
        let p = Prefix::default();
        assert_eq!(decode_literal(r"a\nb\\c\'\x41\u00e9\101", p), "a\nb\\c'AéA");
        assert_eq!(decode_literal(r"\d\q", p), r"\d\q");
        assert_eq!(decode_literal("a\\\nb", p), "ab");
        assert_eq!(decode_literal(r"\xZZ", p), r"\xZZ");
    }

    #[test]
    fn raw_and_format_prefixes() {
        assert_eq!(decode_literal(r"C:\new", Prefix::parse("r'")), r"C:\new");
        assert_eq!(decode_literal("{{x}}", Prefix::parse("f\"")), "{x}");
        assert_eq!(decode_literal("{{x}}", Prefix::parse("\"")), "{{x}}");
        assert!(Prefix::parse("Rb'''").raw);
        assert!(Prefix::parse("rf\"").format);
    }

    #[test]
    fn brace_format_fields() {
        let pieces = parse_brace_format("{}/{0}/{name:%Y}/{{lit}}/{x.y}{z!r}").expect("parses");
        let fields: Vec<&Field> = pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Field(f) => Some(f),
                Piece::Lit(_) => None,
            })
            .collect();
        assert_eq!(fields[0].key, FieldKey::Index(0));
        assert_eq!(fields[1].key, FieldKey::Index(0));
        assert_eq!(fields[2].key, FieldKey::Name("name".into()));
        assert_eq!(fields[2].spec, "%Y");
        assert!(fields[3].indirect);
        assert_eq!(fields[4].conversion, Some('r'));
        assert!(pieces.contains(&Piece::Lit("/{lit}/".into())));
        assert_eq!(parse_brace_format("{"), None);
        assert_eq!(parse_brace_format("}"), None);
    }

    #[test]
    fn printf_fields() {
        let pieces = parse_printf("%s/%(day)s_%03d.csv 100%%").expect("parses");
        assert_eq!(pieces.len(), 6, "{pieces:?}");
        assert_eq!(pieces[5], Piece::Lit(".csv 100%".into()));
        assert_eq!(parse_printf("%"), None);
        assert_eq!(parse_printf("%(x"), None);
    }

    #[test]
    fn open_modes() {
        assert_eq!(parse_open_mode("r"), Some(Mode::Read));
        assert_eq!(parse_open_mode("rb"), Some(Mode::Read));
        assert_eq!(parse_open_mode("w"), Some(Mode::Write));
        assert_eq!(parse_open_mode("xb"), Some(Mode::Write));
        assert_eq!(parse_open_mode("r+"), Some(Mode::Write));
        assert_eq!(parse_open_mode("a+"), Some(Mode::Append));
        assert_eq!(parse_open_mode("w:gz"), Some(Mode::Write));
        assert_eq!(parse_open_mode("data.csv"), None);
        assert_eq!(parse_open_mode(""), None);
    }
}
