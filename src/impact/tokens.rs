//! Renamed name tokens: code that builds an old name from its own parts.
//!
//! A change that renames a distinctive token inside the names it produces
//! (`/backups/mysql-main-{date}.sql.gz` -> `/backups/mariadb-main-{date}.sql.gz`, a site
//! `shop.example.org` -> `example.org` from which directory names are derived) often leaves code
//! that never matched the old name as a whole, but assembles it from parts: a prune loop over
//! `ldap mysql-main web`, a template looping over a list, a unit instance `backup@mysql-main`.
//! The other rules cannot see these (the patterns do not meet), so this one looks for the old
//! token itself in names of the same kind, and reports each place as `info` with the evidence.
//!
//! Distinctive enough means: at least four characters with a letter, not one of the common
//! words of `rules/tokens/common-words.txt`, not in any of the new names; a compound (a whole
//! path segment such as `shop.example.org`, with a separator, eight characters or more) counts
//! when a distinctive token of it was removed. A plain token must also share context with the old name
//! (another of its tokens, beyond `var`, `etc` and the like), so `/var/lib/mysql` is not taken
//! for the dumps' `mysql`. A token found in more than [`MAX_SITES_PER_TOKEN`] places is common
//! in this code base, and reported nowhere. Names that already carry a new token are updated
//! (or fall back on purpose), and names that meet the old name as a whole are the other rules'
//! business. Only accesses found in code and configuration count: never comments or docs.

use super::{Candidate, Excerpts, Parts, Version, join_unique};
use crate::change::{Deltas, Side};
use crate::graph::Graph;
use crate::model::Mode;
use crate::resolve::{Access, Resource};
use crate::rules::impact::{ImpactRule, When};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Above this many places, a token is common in the code base: none is reported.
pub const MAX_SITES_PER_TOKEN: usize = 12;
const MIN_TOKEN_LEN: usize = 4;
const MIN_COMPOUND_LEN: usize = 8;
/// Most tokens a rename may change on either side of one old/new pair: one token replaced by
/// one (`mysql` -> `mariadb`) or dropped (`shop.` of `shop.example.org`).
const MAX_CHANGED_TOKENS: usize = 1;
/// Path components too generic to be shared context.
const LAYOUT_TOKENS: &[&str] = &[
    "var", "etc", "usr", "lib", "opt", "srv", "tmp", "run", "home", "local", "share", "mnt",
];

fn common_words() -> &'static BTreeSet<String> {
    static WORDS: OnceLock<BTreeSet<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        include_str!("../../rules/tokens/common-words.txt")
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .flat_map(str::split_whitespace)
            .map(str::to_lowercase)
            .collect()
    })
}

/// The literal text of a display: value holes (`{date}`, `${X}`) become spaces, alternations
/// (`{ldap,mysql-main}`) keep their options.
fn literal_text(display: &str) -> String {
    let mut out = String::with_capacity(display.len());
    let mut rest = display;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let inner = &rest[start + 1..start + len];
        let before = &rest[..start];
        if let Some(stripped) = before.strip_suffix('$') {
            out.push_str(stripped);
            out.push(' ');
        } else if inner.contains(',') {
            out.push_str(before);
            out.push(' ');
            out.push_str(&inner.replace(',', " "));
            out.push(' ');
        } else {
            out.push_str(before);
            out.push(' ');
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

fn tokens(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whole segments (between `/`, spaces and commas) that join several tokens with `.`, `-` or `_`.
fn compounds(text: &str) -> BTreeSet<String> {
    text.split(|c: char| c == '/' || c == ',' || c.is_whitespace())
        .map(|s| s.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|s| {
            s.chars().count() >= MIN_COMPOUND_LEN
                && s.contains(['.', '-', '_'])
                && s.chars().all(|c| c.is_alphanumeric() || ".-_".contains(c))
        })
        .map(str::to_lowercase)
        .collect()
}

fn distinctive(token: &str) -> bool {
    token.chars().count() >= MIN_TOKEN_LEN
        && token.chars().any(char::is_alphabetic)
        && !common_words().contains(token)
}

/// What a rename changed in the names: tokens and compounds of the old name that no new name
/// has (each with what replaced it), and the tokens the new names brought.
#[derive(Debug, Default, PartialEq)]
pub struct Renamed {
    /// (old token, the new tokens).
    pub tokens: Vec<(String, String)>,
    /// (old compound, the new compound most like it).
    pub compounds: Vec<(String, String)>,
    pub added: Vec<String>,
    old_tokens: BTreeSet<String>,
}

pub fn renamed_tokens(old: &str, new: &[&str]) -> Renamed {
    let old_text = literal_text(old);
    let old_tokens = tokens(&old_text);
    let mut out = Renamed::default();
    for name in new {
        let pair = renamed_pair(&old_text, &old_tokens, name);
        for token in pair.tokens {
            if !out.tokens.iter().any(|(t, _)| *t == token.0) {
                out.tokens.push(token);
            }
        }
        for compound in pair.compounds {
            if !out.compounds.iter().any(|(c, _)| *c == compound.0) {
                out.compounds.push(compound);
            }
        }
        for added in pair.added {
            if !out.added.contains(&added) {
                out.added.push(added);
            }
        }
    }
    out.old_tokens = old_tokens;
    out
}

/// Whether the two names' token sequences have the same length and differ in one place: the
/// token was replaced where it stood (`/backups/mysql-main-…` -> `/backups/mariadb-main-…`), not
/// the name restructured (`trusted.gpg.d/x.gpg` -> `sources.list.d/x.sources`).
fn one_position_differs(old: &str, new: &str) -> bool {
    let sequence = |text: &str| -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (a, b) = (sequence(old), sequence(new));
    a.len() == b.len() && a.iter().zip(&b).filter(|(x, y)| x != y).count() == 1
}

/// Whether a token is shared context: three characters or more, not a layout word.
fn is_context(token: &str) -> bool {
    token.chars().count() >= 3 && !LAYOUT_TOKENS.contains(&token)
}

/// One old name against one new name. A rename changes a token or two and keeps the rest (at
/// least one shared token beyond layout words such as `usr`, `lib`): a new output that has
/// little to do with the old one (`/usr/local/lib/libvips.so` beside a new `/tmp/install-jpegli`)
/// renames nothing.
fn renamed_pair(old_text: &str, old_tokens: &BTreeSet<String>, new: &str) -> Renamed {
    let new_text = literal_text(new);
    let new_tokens = tokens(&new_text);
    let added: Vec<String> = new_tokens.difference(old_tokens).cloned().collect();
    let removed: Vec<String> = old_tokens.difference(&new_tokens).cloned().collect();
    let shares_context = old_tokens.intersection(&new_tokens).any(|t| is_context(t));
    if removed.is_empty()
        || removed.len() > MAX_CHANGED_TOKENS
        || added.len() > MAX_CHANGED_TOKENS
        || !shares_context
        || (added.len() == 1 && !one_position_differs(old_text, &new_text))
    {
        return Renamed::default();
    }
    let new_compounds = compounds(&new_text);
    let new_lower = new_text.to_lowercase();
    // A compound that lost or changed a label, with the new compound sharing most of its tokens
    // (`shop.example.org` -> `example.org`); with none, it was dropped, not renamed.
    let compounds: Vec<(String, String)> = compounds(old_text)
        .into_iter()
        .filter(|c| {
            tokens(c)
                .iter()
                .any(|t| removed.contains(t) && distinctive(t))
                && !contains_at_boundary(&new_lower, c)
        })
        .filter_map(|c| {
            let parts = tokens(&c);
            let best = new_compounds
                .iter()
                .map(|n| {
                    let shared = tokens(n);
                    let shared = shared
                        .intersection(&parts)
                        .filter(|t| is_context(t))
                        .count();
                    (shared, n)
                })
                .filter(|(shared, _)| *shared > 0)
                .max_by_key(|(shared, _)| *shared)?;
            Some((c, best.1.clone()))
        })
        .collect();
    // A single token renamed needs a token that replaced it (a pure removal or move is not a
    // rename of a token).
    let tokens: Vec<(String, String)> = if added.is_empty() {
        Vec::new()
    } else {
        removed
            .into_iter()
            .filter(|t| distinctive(t))
            .map(|t| (t, added.join(", ")))
            .collect()
    };
    Renamed {
        tokens,
        compounds,
        added,
        old_tokens: BTreeSet::new(),
    }
}

/// Whether a name already carries the new form: a new token, or the new compound outside the
/// old one (`example.org` is inside `shop.example.org`, which is still the old name).
fn already_renamed(
    text: &str,
    words: &BTreeSet<String>,
    needle: &str,
    compound: bool,
    new: &str,
) -> bool {
    if compound {
        let without_old = text.replace(needle, " ");
        contains_at_boundary(&without_old, new)
    } else {
        new.split(", ").any(|a| words.contains(a))
    }
}

fn contains_at_boundary(haystack: &str, needle: &str) -> bool {
    let mut from = 0;
    while let Some(i) = haystack[from..].find(needle) {
        let start = from + i;
        let end = start + needle.len();
        let before_ok = haystack[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after_ok = haystack[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if before_ok && after_ok {
            return true;
        }
        from = start + 1;
        while !haystack.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

fn same_family(a: &Resource, b: &Resource) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn is_doc(path: &str) -> bool {
    let lower = path.to_lowercase();
    [".md", ".rst", ".txt", ".adoc", ".html"]
        .iter()
        .any(|e| lower.ends_with(e))
        || lower.starts_with("docs/")
        || lower.contains("/docs/")
}

pub fn candidates(
    deltas: &Deltas,
    graph: &Graph,
    rules: &[(usize, &ImpactRule)],
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (order, rule) in rules.iter().copied() {
        if rule.when != When::TokenRenamed {
            continue;
        }
        let outputs = deltas
            .outputs
            .iter()
            .map(|c| (&c.removed, c.replacements.as_slice()));
        let names = deltas
            .names
            .iter()
            .filter(|c| c.side == Side::Producer)
            .map(|c| (&c.removed, c.replacements.as_slice()));
        let mut seen: Vec<(String, String)> = Vec::new();
        for (removed, replacements) in outputs.chain(names) {
            // Variable names share tokens by convention (`MYSQL_HOST` beside `MYSQL_PASSWORD`):
            // a renamed variable is the rename rules' business, not evidence here.
            if removed.kind() != rule.kind
                || replacements.is_empty()
                || matches!(removed.resource, Resource::Env(_))
            {
                continue;
            }
            for candidate in left_with_token(rule, order, removed, replacements, graph, excerpts) {
                let key = (
                    candidate.finding.impacted.path.clone(),
                    format!(
                        "{}:{}",
                        candidate.finding.impacted.repo, candidate.finding.impacted.line
                    ),
                );
                if !seen.contains(&key) {
                    seen.push(key);
                    out.push(candidate);
                }
            }
        }
    }
    out
}

fn left_with_token(
    rule: &ImpactRule,
    order: usize,
    removed: &Access,
    replacements: &[Access],
    graph: &Graph,
    excerpts: Excerpts<'_>,
) -> Vec<Candidate> {
    let new_displays: Vec<&str> = replacements.iter().map(|r| r.resource.display()).collect();
    let renamed = renamed_tokens(removed.resource.display(), &new_displays);
    if renamed.tokens.is_empty() && renamed.compounds.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let context: BTreeSet<&String> = renamed
        .old_tokens
        .iter()
        .filter(|t| t.chars().count() >= 3 && !LAYOUT_TOKENS.contains(&t.as_str()))
        .collect();
    let needles = renamed
        .tokens
        .iter()
        .map(|(t, n)| (t, n, false))
        .chain(renamed.compounds.iter().map(|(c, n)| (c, n, true)));
    for (needle, replacement, compound) in needles {
        let mut found: Vec<&Access> = Vec::new();
        let mut reported_lines: Vec<&crate::model::Site> = Vec::new();
        for id in graph.ids() {
            let access = graph.access(id);
            if !same_family(&access.resource, &removed.resource)
                || access.mode == Mode::Unknown
                || (access.site.repo == removed.site.repo && access.unit == removed.unit)
                || is_doc(&access.site.path)
            {
                continue;
            }
            let text = literal_text(access.resource.display()).to_lowercase();
            let words = tokens(&text);
            let has = if compound {
                contains_at_boundary(&text, needle)
            } else {
                words.contains(needle.as_str())
                    && words.iter().any(|w| w != needle && context.contains(w))
            };
            if !has || already_renamed(&text, &words, needle, compound, replacement) {
                continue;
            }
            // Names that meet the old name as a whole are the other rules' counterparts.
            let meets = meets_old(removed, access);
            if meets {
                reported_lines.push(&access.site);
            } else if !found.iter().any(|f| f.site == access.site) {
                found.push(access);
                if found.len() > MAX_SITES_PER_TOKEN {
                    break;
                }
            }
        }
        if found.len() > MAX_SITES_PER_TOKEN {
            continue;
        }
        // A line with another access that meets the old name is reported by those rules.
        found.retain(|a| {
            !reported_lines.contains(&&a.site)
                && !graph
                    .ids()
                    .map(|i| graph.access(i))
                    .any(|other| other.site == a.site && meets_old(removed, other))
        });
        for access in found {
            out.extend(finding(
                rule,
                order,
                removed,
                replacements,
                (needle, replacement),
                access,
                excerpts,
            ));
        }
    }
    out
}

/// Whether an access's names meet the old name as a whole.
fn meets_old(removed: &Access, access: &Access) -> bool {
    if !same_family(&access.resource, &removed.resource) {
        return false;
    }
    match (removed.resource.as_path(), access.resource.as_path()) {
        (Some(old), Some(mine)) => old.patterns.iter().any(|p| mine.overlaps(p)),
        _ => crate::change::names_of_access(removed).is_some_and(|old| {
            crate::change::names_of_access(access)
                .is_some_and(|n| old.patterns.iter().any(|p| n.overlaps(p)))
        }),
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    rule: &ImpactRule,
    order: usize,
    removed: &Access,
    replacements: &[Access],
    (needle, new_token): (&str, &str),
    access: &Access,
    excerpts: Excerpts<'_>,
) -> Option<Candidate> {
    let before = removed.resource.display().to_string();
    let after = join_unique(
        replacements
            .iter()
            .map(|a| a.resource.display().to_string()),
    );
    let first = replacements.first()?;
    let parts = Parts {
        kind: removed.kind(),
        before: Some(before.clone()),
        after: Some(after.clone()),
        change: first.site.clone(),
        change_version: Version::Head,
        change_note: format!("now {} {after} (was {before})", first.mode.verb()),
        impacted: access.site.clone(),
        impacted_version: Version::Head,
        impacted_note: access.describe(),
        change_origins: first.origins.clone(),
        impacted_origins: access.origins.clone(),
        values: vec![
            ("producer", removed.unit.clone()),
            ("before", before.clone()),
            ("after", after.clone()),
            ("token", needle.to_string()),
            ("new_token", new_token.to_string()),
            ("counterpart", access.resource.display().to_string()),
            ("counterpart_verb", access.mode.verb().to_string()),
            ("counterpart_unit", access.unit.clone()),
        ],
        explanation: vec![
            format!(
                "the change renames `{needle}` in the names {} {}: {before} -> {after}",
                removed.unit,
                removed.mode.verb()
            ),
            format!(
                "{} {} ({}), a name built with `{needle}` that does not match {before} as a whole",
                access.unit,
                access.describe(),
                access.site
            ),
            format!(
                "`{needle}` is distinctive: not a common word, not in the new names, found in at most {MAX_SITES_PER_TOKEN} places"
            ),
        ],
        notes: access.notes.clone(),
    };
    Some(Candidate {
        order,
        group: (
            access.site.repo.clone(),
            access.unit.clone(),
            first.site.clone(),
        ),
        finding: parts.finish(rule, excerpts),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_name_renamed_inside_a_dump_name_is_a_token() {
        let r = renamed_tokens(
            "/backups/mysql-main-{date}.sql.gz",
            &["/backups/mariadb-main-{date}.sql.gz"],
        );
        assert_eq!(r.tokens, vec![("mysql".to_string(), "mariadb".to_string())]);
        assert_eq!(r.added, vec!["mariadb".to_string()]);
    }

    #[test]
    fn a_site_name_losing_a_label_is_a_compound() {
        let r = renamed_tokens(
            "/var/www/shop.example.org/index.html",
            &["/var/www/example.org/index.html"],
        );
        // `shop` is a common word; the whole site name is distinctive.
        assert!(r.tokens.is_empty(), "{r:?}");
        assert_eq!(
            r.compounds,
            vec![("shop.example.org".to_string(), "example.org".to_string())]
        );
    }

    #[test]
    fn common_words_short_tokens_and_pure_moves_are_not_tokens() {
        // A directory move adds no token to the name's words.
        let r = renamed_tokens("/data/out/report.csv", &["/data/report.csv"]);
        assert!(r.tokens.is_empty() && r.compounds.is_empty(), "{r:?}");
        let r = renamed_tokens("/srv/logs/app-v1.log", &["/srv/logs/app-v2.log"]);
        assert!(r.tokens.is_empty() && r.compounds.is_empty(), "{r:?}");
        let r = renamed_tokens("/srv/daily/report.csv", &["/srv/weekly/report.csv"]);
        assert!(r.tokens.is_empty(), "{r:?}");
    }

    #[test]
    fn alternations_keep_their_options_and_holes_are_no_text() {
        assert_eq!(
            tokens(&literal_text(
                "/backups/{ldap,mysql-main,web}/{date}-${HOST}.gz"
            )),
            ["backups", "gz", "ldap", "main", "mysql", "web"]
                .into_iter()
                .map(String::from)
                .collect()
        );
    }

    #[test]
    fn unrelated_new_outputs_rename_nothing() {
        let r = renamed_tokens(
            "/usr/local/lib/libvips.so",
            &[
                "/tmp/install-jpegli",
                "/usr/local/lib/jpegli",
                "/usr/local/bin/vips",
                "/usr/local/lib/jpegli/lib/libjpeg.so.62",
            ],
        );
        assert!(r.tokens.is_empty() && r.compounds.is_empty(), "{r:?}");
    }

    #[test]
    fn restructured_names_rename_nothing() {
        let r = renamed_tokens(
            "/etc/apt/trusted.gpg.d/jitsi.gpg",
            &[
                "/etc/apt/sources.list.d/jitsi.sources",
                "/usr/share/keyrings/jitsi.gpg",
            ],
        );
        assert!(r.tokens.is_empty() && r.compounds.is_empty(), "{r:?}");
    }

    #[test]
    fn boundaries() {
        assert!(contains_at_boundary(
            "/b/shop.example.org.tar",
            "shop.example.org"
        ));
        assert!(!contains_at_boundary(
            "/b/myshop.example.org",
            "shop.example.org"
        ));
    }
}
