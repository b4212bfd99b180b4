//! The language-neutral expression that an extractor records for a path or a name.
//!
//! Extractors translate what the source spells (an f-string, `os.path.join`, `"$DIR/x"`,
//! `format!`) into an [`Expr`] without evaluating anything they cannot see in the same file:
//! a name bound elsewhere stays a [`Expr::Var`], an environment lookup stays an [`Expr::Env`].
//! The resolver (`resolve/`) later substitutes bindings, imports and environments and turns the
//! result into path patterns. Anything an extractor cannot model becomes an [`Expr::Hole`] named
//! after what it stands for, never a guess.

use serde::Serialize;

/// Reads [`Expr`] and [`HoleShape`] back (see the module).
mod de;

/// Names and literals of expressions: most are a few characters, and a whole corpus has millions;
/// up to 24 bytes they live inline, so building, cloning and dropping them allocates nothing.
pub type Text = compact_str::CompactString;

/// Index of a scope in [`crate::extract::FileFacts::scopes`]; scope 0 is the file itself.
pub type ScopeId = usize;

/// A path or name expression as written in the source, before resolution.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Expr {
    /// Literal text, unescaped; never a glob, even if it contains `*`.
    Lit { text: Text },
    /// Text that the program itself interprets as a glob (an unquoted shell word, `find -name`,
    /// `glob.glob`, `Path.glob`).
    Glob { text: Text },
    /// String concatenation (`+`, f-strings, `%`, `.format`, `format!`, adjacent shell words).
    Concat { parts: Vec<Expr> },
    /// Path components joined with `/`; an absolute component restarts the path
    /// (`os.path.join`, pathlib `/` and `joinpath`, `Path::join`, `PathBuf::push`).
    Join { parts: Vec<Expr> },
    /// A name bound elsewhere: a local or module variable, a shell variable, a constant, an
    /// imported name (`module.NAME` when qualified through an import alias).
    /// `line` is where the name is used: the resolver takes the last binding before it.
    /// `env_fallback` says that an unbound name is read from the environment (shell variables),
    /// and `default` is the value used when it is unset or empty (`${VAR:-default}`).
    Var {
        name: Text,
        scope: ScopeId,
        line: u32,
        env_fallback: bool,
        default: Option<Box<Expr>>,
    },
    /// An environment variable read explicitly (`os.environ.get("X", d)`, `env::var("X")`).
    Env {
        name: Text,
        default: Option<Box<Expr>>,
    },
    /// A value the tool cannot know, named after the variable, parameter or call it stands for.
    Hole { label: Text, shape: HoleShape },
    /// The directory that contains the inner path (`.parent`, `os.path.dirname`, `dirname`).
    Parent { of: Box<Expr> },
    /// The inner path with its file name replaced (`with_name`) or its suffix replaced
    /// (`with_suffix`, when `suffix_only`).
    ReplaceName {
        of: Box<Expr>,
        name: Box<Expr>,
        suffix_only: bool,
    },
    /// Any one of several values (a loop over a literal list, a brace expansion `{a,b}`).
    Alt { options: Vec<Expr> },
}

/// What an unknown value may look like; a shape narrows a hole so that globs can still be
/// matched against it exactly (a `%Y-%m-%d` date is ten characters of digits and dashes).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum HoleShape {
    /// One non-empty path segment: no `/`.
    Segment,
    /// A non-empty string that may contain `/` (a directory from an unknown variable).
    Path,
    /// A date or time formatted with this `strftime` format.
    Strftime { format: Text },
}

impl Expr {
    pub fn lit(text: impl Into<String>) -> Expr {
        Expr::Lit {
            text: text.into().into(),
        }
    }

    pub fn glob(text: impl Into<String>) -> Expr {
        Expr::Glob {
            text: text.into().into(),
        }
    }

    /// A hole for a single segment, named after what it stands for.
    /// One more value this expression may have (another `return` of a function, another line
    /// it prints): alternatives, each once, at most `max`.
    pub fn add_alternative(&mut self, option: Expr, max: usize) {
        if *self == option {
            return;
        }
        match self {
            Expr::Alt { options } => {
                if options.len() < max && !options.contains(&option) {
                    options.push(option);
                }
            }
            _ => {
                let first = std::mem::replace(
                    self,
                    Expr::Alt {
                        options: Vec::new(),
                    },
                );
                *self = Expr::Alt {
                    options: vec![first, option],
                };
            }
        }
    }

    pub fn hole(label: impl Into<String>) -> Expr {
        Expr::Hole {
            label: label.into().into(),
            shape: HoleShape::Segment,
        }
    }

    /// A hole that may span several segments (an unknown directory).
    pub fn path_hole(label: impl Into<String>) -> Expr {
        Expr::Hole {
            label: label.into().into(),
            shape: HoleShape::Path,
        }
    }

    pub fn concat(parts: Vec<Expr>) -> Expr {
        if parts.len() == 1 {
            parts.into_iter().next().unwrap_or_else(|| Expr::lit(""))
        } else {
            Expr::Concat { parts }
        }
    }

    pub fn join(parts: Vec<Expr>) -> Expr {
        if parts.len() == 1 {
            parts.into_iter().next().unwrap_or_else(|| Expr::lit(""))
        } else {
            Expr::Join { parts }
        }
    }

    /// The literal text, when the whole expression is one literal.
    pub fn as_lit(&self) -> Option<&str> {
        match self {
            Expr::Lit { text } => Some(text),
            _ => None,
        }
    }

    /// Whether the expression is within the [`bounds`] (so [`Expr::bounded`] would return it
    /// unchanged).
    pub fn is_bounded(&self) -> bool {
        let mut nodes = bounds::MAX_NODES;
        self.within(0, &mut nodes)
    }

    fn within(&self, depth: usize, nodes: &mut usize) -> bool {
        if depth >= bounds::MAX_NESTING || *nodes == 0 {
            return false;
        }
        *nodes -= 1;
        match self {
            Expr::Lit { text } | Expr::Glob { text } => text.len() <= bounds::MAX_TEXT,
            Expr::Concat { parts } | Expr::Join { parts } => {
                parts.len() <= bounds::MAX_PARTS && parts.iter().all(|p| p.within(depth + 1, nodes))
            }
            Expr::Alt { options } => {
                options.len() <= bounds::MAX_PARTS
                    && options.iter().all(|p| p.within(depth + 1, nodes))
            }
            Expr::Var { name, default, .. } | Expr::Env { name, default } => {
                name.len() <= bounds::MAX_LABEL
                    && default
                        .as_deref()
                        .is_none_or(|d| d.within(depth + 1, nodes))
            }
            Expr::Hole { label, shape } => label.len() <= bounds::MAX_LABEL && shape.is_bounded(),
            Expr::Parent { of } => of.within(depth + 1, nodes),
            Expr::ReplaceName { of, name, .. } => {
                of.within(depth + 1, nodes) && name.within(depth + 1, nodes)
            }
        }
    }

    /// The expression within the [`bounds`], standing for at least everything it stood for:
    /// what is too large, too long or too deep becomes a hole, keeping the ends of long
    /// concatenations and literals (which say the most about a path). Extractors record
    /// whatever the source spells, and an attacker's file can spell a concatenation of 50,000
    /// parts or a literal of a megabyte; the resolver's work must not grow with that.
    pub fn bounded(self) -> Expr {
        if self.is_bounded() {
            return self;
        }
        // Half the nodes: the holes put where the budget runs out (at most two per level of
        // nesting) and cut literals (charged for their three parts) fit in the other half.
        let mut nodes = bounds::MAX_NODES / 2;
        self.bound(0, &mut nodes)
    }

    fn bound(self, depth: usize, nodes: &mut usize) -> Expr {
        // A hole may still sit at the deepest allowed level; its parent is one level up.
        if depth + 1 >= bounds::MAX_NESTING || *nodes == 0 {
            return Expr::path_hole("…");
        }
        *nodes -= 1;
        let deeper = |e: Expr, nodes: &mut usize| e.bound(depth + 1, nodes);
        match self {
            Expr::Lit { text } if text.len() > bounds::MAX_TEXT => {
                *nodes = nodes.saturating_sub(3);
                let half = bounds::MAX_TEXT / 2;
                let head = text.floor_char_boundary(half);
                let tail = text.ceil_char_boundary(text.len() - half);
                Expr::Concat {
                    parts: vec![
                        Expr::lit(&text[..head]),
                        Expr::path_hole("…"),
                        Expr::lit(&text[tail..]),
                    ],
                }
            }
            Expr::Glob { text } if text.len() > bounds::MAX_TEXT => Expr::path_hole("long glob"),
            e @ (Expr::Lit { .. } | Expr::Glob { .. }) => e,
            Expr::Concat { parts } => {
                let parts = if parts.len() > bounds::MAX_PARTS {
                    // The first and last parts, with a hole for the middle.
                    let keep = bounds::MAX_PARTS / 2 - 1;
                    let tail_from = parts.len() - keep;
                    let mut kept: Vec<Expr> = Vec::with_capacity(2 * keep + 1);
                    let mut rest = parts.into_iter();
                    kept.extend(rest.by_ref().take(keep));
                    kept.push(Expr::path_hole("…"));
                    kept.extend(rest.skip(tail_from - keep));
                    kept
                } else {
                    parts
                };
                Expr::Concat {
                    parts: bound_parts(parts, depth, nodes).0,
                }
            }
            Expr::Join { parts } => {
                let parts = if parts.len() > bounds::MAX_PARTS {
                    // A dropped part may be absolute and restart the path, so the hole stands
                    // for everything before the last parts.
                    let keep = bounds::MAX_PARTS - 1;
                    let skip = parts.len() - keep;
                    let mut kept = vec![Expr::path_hole("…")];
                    kept.extend(parts.into_iter().skip(skip));
                    kept
                } else {
                    parts
                };
                match bound_parts(parts, depth, nodes) {
                    // Parts left out may restart the path: only a hole stands for all of it.
                    (_, true) => Expr::path_hole("…"),
                    (parts, false) => Expr::Join { parts },
                }
            }
            Expr::Alt { options } if options.len() > bounds::MAX_PARTS => Expr::path_hole("…"),
            Expr::Alt { options } => Expr::Alt {
                options: bound_parts(options, depth, nodes).0,
            },
            Expr::Var { name, .. } | Expr::Env { name, .. } if name.len() > bounds::MAX_LABEL => {
                Expr::path_hole(short(&name))
            }
            Expr::Var {
                name,
                scope,
                line,
                env_fallback,
                default,
            } => Expr::Var {
                name,
                scope,
                line,
                env_fallback,
                default: default.map(|d| Box::new(deeper(*d, nodes))),
            },
            Expr::Env { name, default } => Expr::Env {
                name,
                default: default.map(|d| Box::new(deeper(*d, nodes))),
            },
            Expr::Hole { label, shape } => Expr::Hole {
                label: if label.len() > bounds::MAX_LABEL {
                    short(&label).into()
                } else {
                    label
                },
                shape: if shape.is_bounded() {
                    shape
                } else {
                    HoleShape::Segment
                },
            },
            Expr::Parent { of } => Expr::Parent {
                of: Box::new(deeper(*of, nodes)),
            },
            Expr::ReplaceName {
                of,
                name,
                suffix_only,
            } => Expr::ReplaceName {
                of: Box::new(deeper(*of, nodes)),
                name: Box::new(deeper(*name, nodes)),
                suffix_only,
            },
        }
    }
}

/// The parts of a concatenation, join or alternative at `depth`, bounded; when the node budget
/// runs out, one hole stands for the rest (and the flag says so).
fn bound_parts(parts: Vec<Expr>, depth: usize, nodes: &mut usize) -> (Vec<Expr>, bool) {
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        if *nodes == 0 {
            out.push(Expr::path_hole("…"));
            return (out, true);
        }
        out.push(part.bound(depth + 1, nodes));
    }
    (out, false)
}

impl HoleShape {
    fn is_bounded(&self) -> bool {
        match self {
            HoleShape::Strftime { format } => format.len() <= bounds::MAX_TEXT,
            HoleShape::Segment | HoleShape::Path => true,
        }
    }
}

/// A long label or name cut to [`bounds::MAX_LABEL`] bytes, marked as cut.
fn short(text: &str) -> String {
    let cut = text.floor_char_boundary(bounds::MAX_LABEL - "…".len());
    format!("{}…", &text[..cut])
}

/// The size of an expression an extractor may record ([`Expr::bounded`]). Far beyond what a
/// program spells for a path or a name; what is beyond them becomes a hole.
pub mod bounds {
    /// Parts of one concatenation or join, options of one alternative.
    pub const MAX_PARTS: usize = 64;
    /// Bytes of one literal or glob.
    pub const MAX_TEXT: usize = 4096;
    /// Bytes of a name or a hole's label.
    pub const MAX_LABEL: usize = 256;
    /// Nesting of expressions.
    pub const MAX_NESTING: usize = 32;
    /// Nodes of one expression.
    pub const MAX_NODES: usize = 1024;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str) -> Expr {
        Expr::Var {
            name: name.into(),
            scope: 0,
            line: 1,
            env_fallback: false,
            default: None,
        }
    }

    #[test]
    fn small_expressions_are_unchanged() {
        let e = Expr::join(vec![Expr::lit("/data"), var("day"), Expr::lit("x.csv")]);
        assert!(e.is_bounded());
        assert_eq!(e.clone().bounded(), e);
    }

    #[test]
    fn a_long_concatenation_keeps_its_ends_around_a_hole() {
        let mut parts = vec![Expr::lit("/data/")];
        parts.extend((0..50_000).map(|i| var(&format!("v{i}"))));
        parts.push(Expr::lit(".csv"));
        let Expr::Concat { parts } = Expr::Concat { parts }.bounded() else {
            panic!("still a concatenation");
        };
        assert_eq!(parts.len(), bounds::MAX_PARTS - 1);
        assert_eq!(parts.first(), Some(&Expr::lit("/data/")));
        assert_eq!(parts.last(), Some(&Expr::lit(".csv")));
        assert!(parts.contains(&Expr::path_hole("…")));
    }

    #[test]
    fn a_long_join_keeps_its_last_parts_after_a_hole() {
        let mut parts = vec![Expr::lit("/data")];
        parts.extend((0..50_000).map(|i| var(&format!("v{i}"))));
        let Expr::Join { parts } = Expr::Join { parts }.bounded() else {
            panic!("still a join");
        };
        assert_eq!(parts.len(), bounds::MAX_PARTS);
        assert_eq!(parts.first(), Some(&Expr::path_hole("…")));
        assert_eq!(parts.last(), Some(&var("v49999")));
    }

    #[test]
    fn long_text_and_names_are_cut() {
        let long = "é".repeat(100_000);
        let e = Expr::lit(format!("/data/{long}.csv")).bounded();
        assert!(e.is_bounded());
        let Expr::Concat { parts } = &e else {
            panic!("a cut literal is a concatenation: {e:?}");
        };
        assert!(parts[0].as_lit().is_some_and(|t| t.starts_with("/data/")));
        assert!(parts[2].as_lit().is_some_and(|t| t.ends_with(".csv")));
        assert!(
            matches!(var(&long).bounded(), Expr::Hole { label, .. } if label.len() <= bounds::MAX_LABEL)
        );
        assert!(Expr::glob(long.clone()).bounded().is_bounded());
    }

    #[test]
    fn deep_and_wide_expressions_are_cut() {
        let mut deep = Expr::lit("/x");
        for _ in 0..200 {
            deep = Expr::Parent { of: Box::new(deep) };
        }
        assert!(!deep.is_bounded());
        assert!(deep.bounded().is_bounded());
        let wide = Expr::Concat {
            parts: (0..60)
                .map(|_| Expr::Concat {
                    parts: (0..60).map(|i| var(&format!("v{i}"))).collect(),
                })
                .collect(),
        };
        assert!(!wide.is_bounded());
        assert!(wide.bounded().is_bounded());
        let alternatives = Expr::Alt {
            options: (0..1000).map(|i| Expr::lit(format!("/d{i}"))).collect(),
        };
        assert!(alternatives.bounded().is_bounded());
    }
}

#[cfg(test)]
mod alternative_tests {
    use super::Expr;

    #[test]
    fn alternatives_are_added_once_and_bounded() {
        let mut e = Expr::lit("/a");
        e.add_alternative(Expr::lit("/a"), 4);
        assert_eq!(e, Expr::lit("/a"));
        for path in ["/b", "/b", "/c", "/d", "/e"] {
            e.add_alternative(Expr::lit(path), 4);
        }
        let Expr::Alt { options } = e else {
            panic!("alternatives expected");
        };
        let texts: Vec<Option<&str>> = options.iter().map(Expr::as_lit).collect();
        assert_eq!(texts, vec![Some("/a"), Some("/b"), Some("/c"), Some("/d")]);
    }
}
