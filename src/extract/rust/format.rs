//! The format strings of `format!` and friends, split into literal text and placeholders.

/// A piece of a format string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Piece {
    Text(String),
    Arg(Placeholder),
}

/// One `{..}` placeholder: which argument it shows and whether it shows it verbatim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Placeholder {
    pub(super) arg: ArgRef,
    /// `{:?}`: the value is shown with quotes and escapes, not as the path text.
    pub(super) debug: bool,
    /// `{:.*}` takes its precision from the next positional argument first.
    pub(super) star_precision: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ArgRef {
    /// `{}`: the next positional argument.
    Next,
    /// `{0}`.
    Index(usize),
    /// `{name}`: a named argument or a captured variable.
    Name(String),
}

/// Splits a format string; `None` when it is malformed (the macro would not compile).
pub(super) fn parse(format: &str) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut inside = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        c => inside.push(c),
                    }
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Arg(placeholder(&inside)?));
            }
            '}' => return None,
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Some(pieces)
}

fn placeholder(inside: &str) -> Option<Placeholder> {
    let (arg, spec) = inside.split_once(':').unwrap_or((inside, ""));
    let arg = arg.trim();
    let arg = if arg.is_empty() {
        ArgRef::Next
    } else if let Ok(index) = arg.parse::<usize>() {
        ArgRef::Index(index)
    } else if arg.chars().all(|c| c == '_' || c.is_alphanumeric()) {
        ArgRef::Name(arg.trim_start_matches("r#").to_string())
    } else {
        return None;
    };
    Some(Placeholder {
        arg,
        debug: spec.contains('?'),
        star_precision: spec.contains(".*"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(arg: ArgRef) -> Piece {
        Piece::Arg(Placeholder {
            arg,
            debug: false,
            star_precision: false,
        })
    }

    #[test]
    fn splits_text_and_placeholders() {
        let pieces = parse("{{x}}/{}/{0}/{name:>8}.csv");
        let expected = vec![
            Piece::Text("{x}/".to_string()),
            arg(ArgRef::Next),
            Piece::Text("/".to_string()),
            arg(ArgRef::Index(0)),
            Piece::Text("/".to_string()),
            arg(ArgRef::Name("name".to_string())),
            Piece::Text(".csv".to_string()),
        ];
        assert_eq!(pieces, Some(expected));
    }

    #[test]
    fn debug_and_malformed() {
        let pieces = parse("{:?}");
        assert!(matches!(
            pieces.as_deref(),
            Some([Piece::Arg(Placeholder { debug: true, .. })])
        ));
        assert_eq!(parse("{"), None);
        assert_eq!(parse("}"), None);
        assert_eq!(parse("{a b}"), None);
    }
}
