//! "Did you mean ...?" for ids and names typed at the command line.

/// The candidate closest to `typed`: by edit distance to the whole candidate or to its part after
/// the last `.` (a rule id typed without its `path.` prefix), a candidate that contains what was
/// typed winning ties. `None` only when there are no candidates.
pub fn closest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed = typed.to_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            let lower = candidate.to_lowercase();
            let tail = lower.rsplit('.').next().unwrap_or(&lower);
            let distance = edit_distance(&typed, &lower).min(edit_distance(&typed, tail));
            let contains = !typed.is_empty() && lower.contains(&typed);
            ((usize::from(!contains), distance), candidate)
        })
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_closest_id() {
        let ids = [
            "path.cleanup-misses-new-outputs",
            "path.reader-of-vanished-output",
            "queue.publish-unconsumed",
        ];
        assert_eq!(
            closest("path.cleanup-miss-new-outputs", ids),
            Some("path.cleanup-misses-new-outputs")
        );
        assert_eq!(
            closest("reader-of-vanished-output", ids),
            Some("path.reader-of-vanished-output")
        );
        assert_eq!(closest("unconsumed", ids), Some("queue.publish-unconsumed"));
        assert_eq!(
            closest("pyhton", ["bash", "python", "rust"]),
            Some("python")
        );
        assert_eq!(closest("x", []), None);
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
