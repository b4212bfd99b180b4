//! The language-neutral expression that an extractor records for a path or a name.
//!
//! Extractors translate what the source spells (an f-string, `os.path.join`, `"$DIR/x"`,
//! `format!`) into an [`Expr`] without evaluating anything they cannot see in the same file:
//! a name bound elsewhere stays a [`Expr::Var`], an environment lookup stays an [`Expr::Env`].
//! The resolver (`resolve/`) later substitutes bindings, imports and environments and turns the
//! result into path patterns. Anything an extractor cannot model becomes an [`Expr::Hole`] named
//! after what it stands for, never a guess.

use serde::Serialize;

/// Index of a scope in [`crate::extract::FileFacts::scopes`]; scope 0 is the file itself.
pub type ScopeId = usize;

/// A path or name expression as written in the source, before resolution.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Expr {
    /// Literal text, unescaped; never a glob, even if it contains `*`.
    Lit { text: String },
    /// Text that the program itself interprets as a glob (an unquoted shell word, `find -name`,
    /// `glob.glob`, `Path.glob`).
    Glob { text: String },
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
        name: String,
        scope: ScopeId,
        line: u32,
        env_fallback: bool,
        default: Option<Box<Expr>>,
    },
    /// An environment variable read explicitly (`os.environ.get("X", d)`, `env::var("X")`).
    Env {
        name: String,
        default: Option<Box<Expr>>,
    },
    /// A value the tool cannot know, named after the variable, parameter or call it stands for.
    Hole { label: String, shape: HoleShape },
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
    Strftime { format: String },
}

impl Expr {
    pub fn lit(text: impl Into<String>) -> Expr {
        Expr::Lit { text: text.into() }
    }

    pub fn glob(text: impl Into<String>) -> Expr {
        Expr::Glob { text: text.into() }
    }

    /// A hole for a single segment, named after what it stands for.
    pub fn hole(label: impl Into<String>) -> Expr {
        Expr::Hole {
            label: label.into(),
            shape: HoleShape::Segment,
        }
    }

    /// A hole that may span several segments (an unknown directory).
    pub fn path_hole(label: impl Into<String>) -> Expr {
        Expr::Hole {
            label: label.into(),
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
}
