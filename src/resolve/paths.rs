//! Path values + reach -> the [`PathSet`] an access touches, and how to say it in words.
//!
//! Depth limits and subtrees are expressed here as patterns, so that the algebra answers every
//! question the same way: `find D -maxdepth 1 -name N` is `D/N`; `-mindepth 2 -maxdepth 3` is
//! `D/*/N` or `D/*/*/N`; no limit is `D/**/N`; `-path P` is an extra filter every match must pass;
//! `rm -r D` and `-exec rm -rf {}` are subtrees.

use super::eval::{Value, display_value};
use crate::expr::HoleShape;
use crate::extract::FindSpec;
use crate::pattern::{Pattern, Piece, covers, overlaps};

/// Depth ranges wider than this are treated as unlimited.
const MAX_EXPANDED_DEPTH: u32 = 6;

/// The set of paths one access touches.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct PathSet {
    /// Alternatives: a path is in the set when it matches one of them...
    pub patterns: Vec<Pattern>,
    /// ...and, when filters are present, one of the filters (`find -path`).
    pub filters: Vec<Pattern>,
    /// How reviewers read the set.
    pub display: String,
}

impl PathSet {
    /// Does this set contain every path `other` names?
    pub fn covers(&self, other: &Pattern) -> bool {
        covers(&self.patterns, other) && (self.filters.is_empty() || covers(&self.filters, other))
    }

    /// Does this set share a path with `other`? (With filters, an over-approximation: both the
    /// patterns and the filters must share a path with it.)
    pub fn overlaps(&self, other: &Pattern) -> bool {
        self.patterns.iter().any(|p| overlaps(p, other))
            && (self.filters.is_empty() || self.filters.iter().any(|f| overlaps(f, other)))
    }

    /// Is every pattern anchored (absolute, or relative to a literal directory)? Unanchored
    /// patterns (`{dir}/x.csv`) could be anywhere and are never linked across code.
    pub fn is_anchored(&self) -> bool {
        !self.patterns.is_empty() && self.patterns.iter().all(is_anchored)
    }

    pub fn is_absolute(&self) -> bool {
        self.patterns.iter().all(Pattern::is_absolute)
    }
}

/// Anchored patterns start at `/`, at an environment symbol, or with a literal segment. The
/// whole tree under `/` (`cp -r x /`, `COPY x /`) is not: a write "somewhere under /" says
/// nothing about which files exist, and would link every path in every repository.
pub fn is_anchored(pattern: &Pattern) -> bool {
    let text = pattern.base_display();
    if pattern.is_subtree() && (text == "/" || text.is_empty()) {
        return false;
    }
    if pattern.is_remote() {
        // `s3://{bucket}/x` could be any bucket: the bucket or host must be spelled.
        let host = text.split_once("://").map_or("", |(_, rest)| rest);
        let host = host.split('/').next().unwrap_or("");
        return !host.is_empty() && !host.contains(['{', '*', '?', '[', '$']);
    }
    if pattern.is_absolute() {
        // `/{dir}/x` is as unknown as `{dir}/x`.
        return !text.starts_with("/{") && !text.starts_with("/*");
    }
    let first = text.split('/').next().unwrap_or("");
    !first.is_empty() && first != "." && first != ".." && !first.contains(['{', '*', '?', '['])
}

/// The path set of an exact path (`subtree` for recursive deletes of a directory).
pub fn exact(values: Vec<Value>, subtree: bool) -> PathSet {
    let values: Vec<Value> = values.into_iter().map(widen_leading_dir_hole).collect();
    let patterns: Vec<Pattern> = values
        .iter()
        .map(|v| Pattern::from_pieces(v, subtree))
        .collect();
    let patterns = known_alternatives(patterns);
    let display = join_displays(&patterns);
    PathSet {
        patterns,
        filters: Vec::new(),
        display,
    }
}

/// When some alternatives of a path are anchored and others are entirely unknown (`X` is
/// `$(lookup)` or its default), the unknown ones are dropped: they would overlap everything and
/// say nothing about where the path is.
fn known_alternatives(patterns: Vec<Pattern>) -> Vec<Pattern> {
    if patterns.iter().any(is_anchored) && !patterns.iter().all(is_anchored) {
        patterns.into_iter().filter(is_anchored).collect()
    } else {
        patterns
    }
}

/// The entries directly inside a directory.
pub fn children(values: Vec<Value>) -> PathSet {
    let values = values
        .into_iter()
        .map(|mut v| {
            v.push(Piece::Lit("/".into()));
            v.push(star());
            v
        })
        .collect();
    exact(values, false)
}

/// What a `find`-style search touches.
pub fn find(starts: Vec<Value>, names: Vec<Value>, paths: Vec<Value>, spec: &FindSpec) -> PathSet {
    let names: Vec<Value> = if names.is_empty() {
        vec![vec![star()]]
    } else {
        names
            .into_iter()
            .map(|name| {
                // `-name` takes a glob, also when it arrives through a variable.
                name.into_iter()
                    .map(|p| match p {
                        Piece::Glob { text, .. } | Piece::Lit(text) => Piece::Glob {
                            text,
                            star_matches_slash: false,
                            case_insensitive: spec.case_insensitive,
                        },
                        other => other,
                    })
                    .collect()
            })
            .collect()
    };
    let min = spec.min_depth.max(1);
    let max = spec
        .max_depth
        .filter(|m| m.saturating_sub(min) <= MAX_EXPANDED_DEPTH);
    let mut values = Vec::new();
    for start in starts.into_iter().map(widen_leading_dir_hole) {
        for name in &names {
            match max {
                Some(max) if max >= min => {
                    for depth in min..=max {
                        values.push(at_depth(&start, depth, name, false));
                    }
                }
                Some(_) => {}
                None => values.push(at_depth(&start, min, name, true)),
            }
        }
    }
    let patterns: Vec<Pattern> = values
        .iter()
        .map(|v| Pattern::from_pieces(v, spec.tree))
        .collect();
    let patterns = known_alternatives(patterns);
    let filters: Vec<Pattern> = paths
        .into_iter()
        .map(|v| {
            let v: Value = v
                .into_iter()
                .map(|p| match p {
                    Piece::Glob { text, .. } | Piece::Lit(text) => Piece::Glob {
                        text,
                        star_matches_slash: true,
                        case_insensitive: false,
                    },
                    other => other,
                })
                .collect();
            Pattern::from_pieces(&v, spec.tree)
        })
        .collect();
    let mut display = join_displays(&patterns);
    if !filters.is_empty() {
        display = format!("{display} matching -path {}", join_displays(&filters));
    }
    PathSet {
        patterns,
        filters,
        display,
    }
}

/// `start/*/.../name` with `depth - 1` intermediate directories, or any number of at least
/// `depth - 1` when `unlimited`.
fn at_depth(start: &Value, depth: u32, name: &Value, unlimited: bool) -> Value {
    let mut v = start.clone();
    for _ in 1..depth {
        v.push(Piece::Lit("/".into()));
        v.push(star());
    }
    v.push(Piece::Lit("/".into()));
    if unlimited {
        v.push(Piece::Glob {
            text: "**/".into(),
            star_matches_slash: false,
            case_insensitive: false,
        });
    }
    v.extend(name.iter().cloned());
    v
}

fn star() -> Piece {
    Piece::Glob {
        text: "*".into(),
        star_matches_slash: false,
        case_insensitive: false,
    }
}

/// An unknown value at the start of a path, followed by `/`, is a directory.
fn widen_leading_dir_hole(mut value: Value) -> Value {
    let followed_by_slash = matches!(value.get(1), Some(Piece::Lit(t)) if t.starts_with('/'));
    if let Some(Piece::Hole { shape, .. }) = value.first_mut()
        && *shape == HoleShape::Segment
        && followed_by_slash
    {
        *shape = HoleShape::Path;
    }
    value
}

fn join_displays(patterns: &[Pattern]) -> String {
    let mut shown: Vec<String> = Vec::new();
    for p in patterns {
        let d = p.display();
        if !shown.contains(&d) {
            shown.push(d);
        }
    }
    match shown.len() {
        0 => String::new(),
        1 => shown.remove(0),
        n if n > 4 => format!("{} (and {} more)", shown[..3].join(", "), n - 3),
        _ => shown.join(", "),
    }
}

/// Words for a `find`'s limits: "depth 1", "any depth", "depth 1-2".
pub fn describe_find(spec: &FindSpec) -> Option<String> {
    let min = spec.min_depth.max(1);
    let depth = match spec.max_depth {
        Some(max) if max == min => format!("depth {max}"),
        Some(max) => format!("depth {min}-{max}"),
        None if min > 1 => format!("depth {min} or more"),
        None => "any depth".to_string(),
    };
    let mut parts = vec![depth];
    match spec.file_type {
        Some('d') => parts.push("directories".into()),
        Some('f') => parts.push("files".into()),
        _ => {}
    }
    Some(parts.join(", "))
}

/// For explanations: a value shown as reviewers read it.
pub fn show(value: &Value) -> String {
    display_value(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::Piece;

    fn lit(text: &str) -> Value {
        vec![Piece::Lit(text.into())]
    }

    #[test]
    fn the_whole_root_tree_is_not_anchored() {
        // `cp -r "$CACHEDIR"/{etc,usr} /`, `COPY x /`: somewhere under /, which links nothing.
        assert!(!exact(vec![lit("/")], true).is_anchored());
        assert!(exact(vec![lit("/")], false).is_anchored());
        assert!(exact(vec![lit("/var/cache")], true).is_anchored());
        assert!(exact(vec![lit("/etc/motd")], false).is_anchored());
    }
}
