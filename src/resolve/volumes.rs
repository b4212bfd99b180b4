//! Container paths back to host and repository paths.
//!
//! A compose `volumes:` entry, a Kubernetes `hostPath`, a Dockerfile `COPY` bind a path inside a
//! container to one outside it; the configuration extractors record each as a binding named
//! `volume:<container path>` whose value is the outside path as written (relative paths are
//! relative to the declaring file's directory). A command run in the container that names
//! `/app/bin/cleanup.sh` runs the repository's `deploy/bin/cleanup.sh`; a delete of `/data/x`
//! in the container deletes `/srv/data/x` on the host.

use super::eval::Value;
use crate::extract::FileFacts;
use crate::extract::formats::VOLUME_PREFIX;
use crate::pattern::{Piece, normalize_literal_path};

/// A container path prefix and the outside path it maps to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub container: String,
    /// Absolute host path, or a repository-relative path (already joined to the file's
    /// directory).
    pub outside: String,
}

/// The literal volume mappings a file declares.
pub fn mappings(facts: &FileFacts, file_path: &str) -> Vec<Mapping> {
    let dir = file_path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let mut out = Vec::new();
    if !facts.may_map_paths() {
        return out;
    }
    for binding in &facts.bindings {
        let Some(container) = binding.name.strip_prefix(VOLUME_PREFIX) else {
            continue;
        };
        let Some(outside) = binding.value.as_lit() else {
            continue;
        };
        let outside = if outside.starts_with('/') || dir.is_empty() {
            normalize_literal_path(outside)
        } else {
            normalize_literal_path(&format!("{dir}/{outside}"))
        };
        let container = normalize_literal_path(container);
        if container.starts_with('/') && container.len() > 1 {
            out.push(Mapping { container, outside });
        }
    }
    // Longest container prefix first, so nested mounts win.
    out.sort_by_key(|m| std::cmp::Reverse(m.container.len()));
    out
}

/// A literal path translated through the first mapping whose container path prefixes it.
pub fn translate(path: &str, mappings: &[Mapping]) -> Option<String> {
    mappings.iter().find_map(|m| {
        let rest = path.strip_prefix(&m.container)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        Some(normalize_literal_path(&format!("{}{rest}", m.outside)))
    })
}

/// Adds, for each value that starts in a mapped container directory with an absolute host
/// path, the same value on the host.
pub fn host_alternatives(values: Vec<Value>, mappings: &[Mapping]) -> Vec<Value> {
    if mappings.is_empty() {
        return values;
    }
    let mut out = values.clone();
    for value in values {
        let Some(Piece::Lit(first)) = value.first() else {
            continue;
        };
        let Some(host) = translate(first, mappings) else {
            continue;
        };
        if !host.starts_with('/') {
            continue;
        }
        let mut translated = value.clone();
        translated[0] = Piece::Lit(host.into());
        if !out.contains(&translated) {
            out.push(translated);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_by_longest_prefix() {
        let mappings = vec![
            Mapping {
                container: "/data/cache".into(),
                outside: "/srv/cache".into(),
            },
            Mapping {
                container: "/data".into(),
                outside: "/srv/data".into(),
            },
        ];
        assert_eq!(
            translate("/data/x.csv", &mappings).as_deref(),
            Some("/srv/data/x.csv")
        );
        assert_eq!(
            translate("/data/cache/y", &mappings).as_deref(),
            Some("/srv/cache/y")
        );
        assert_eq!(translate("/database/x", &mappings), None);
    }
}
