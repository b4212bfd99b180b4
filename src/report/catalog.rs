//! What reports say about the rules themselves: names, descriptions with the rule's placeholders
//! filled in generically, and a link to the rule's documentation for the built-in ones.

use super::{DOCS_REVISION, REPOSITORY_URL};
use crate::rules::impact::{BUILTIN_RULE_FILES, ImpactRule};

/// A rule's id as a SARIF `name`: `path.cleanup-misses-new-outputs` -> `PathCleanupMissesNewOutputs`.
pub fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// The documentation of a built-in rule in the repository; none for a user's rule, whose file
/// is on their machine.
pub fn help_uri(rule: &ImpactRule) -> Option<String> {
    BUILTIN_RULE_FILES
        .iter()
        .any(|(name, _)| *name == rule.source)
        .then(|| format!("{REPOSITORY_URL}/blob/{DOCS_REVISION}/{}", rule.source))
}

/// A rule's title with its placeholders in general words: "cleanup no longer matches what the
/// producer writes".
pub fn generic_title(rule: &ImpactRule) -> String {
    let title = fill_generic(&rule.title);
    // An audit has no change: what a change rule calls "the new resources" is just a resource.
    let title = if rule.id.contains(".audit-") {
        title.replace("the new resources", "a resource")
    } else {
        title
    };
    capitalise(&title)
}

/// A template's placeholders replaced by words that fit any finding of the rule.
pub fn fill_generic(template: &str) -> String {
    let mut out = template.to_string();
    for (name, words) in [
        ("producer", "the producer"),
        ("consumer_verb", "uses"),
        ("consumer", "the changed consumer"),
        ("new_token", "the new token"),
        ("token", "the old token"),
        ("before", "the old resource"),
        ("after_glob", "the new resources"),
        ("after", "the new resources"),
        ("counterpart_unit", "the dependent code"),
        ("counterpart_verb", "uses"),
        ("counterpart", "the resource"),
        ("schedule", "its schedule"),
        ("moved", ", which the change deleted or moved"),
        ("program", "the program"),
        ("setting", "a setting"),
        ("waiter", "the waiting code"),
        ("variable", "a variable"),
        ("field", "a field"),
        ("trigger", "a trigger"),
        ("sent", "what it sends"),
        ("unit", "the code"),
        ("resource", "a resource"),
        ("directory", "its directory"),
        ("store", "its secret store"),
    ] {
        out = out.replace(&format!("{{{name}}}"), words);
    }
    out
}

/// The doc's first paragraph on one line: what the rule finds.
pub fn summary(rule: &ImpactRule) -> String {
    rule.doc
        .trim()
        .split("\n\n")
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The rule's documentation, its fix and its examples, as plain text.
pub fn help_text(rule: &ImpactRule) -> String {
    let mut out = rule.doc.trim().to_string();
    if let Some(help) = &rule.help {
        out.push_str("\n\nSuggested fix: ");
        out.push_str(&fill_generic(help));
    }
    for example in &rule.examples {
        out.push_str(if example.fires {
            "\n\nExample that fires:\n\n"
        } else {
            "\n\nExample that does not fire:\n\n"
        });
        out.push_str(example.scenario.trim_end());
    }
    out
}

/// The same as Markdown: the doc as written (it uses Markdown code spans) and each example in a
/// fenced block.
pub fn help_markdown(rule: &ImpactRule) -> String {
    let mut out = rule.doc.trim().to_string();
    if let Some(help) = &rule.help {
        out.push_str("\n\n**Suggested fix:** ");
        out.push_str(&fill_generic(help));
    }
    for example in &rule.examples {
        let fence = super::markdown::fence_for(&example.scenario);
        out.push_str(if example.fires {
            "\n\n**Example that fires** (a knockon scenario: repositories, files at base and head):\n\n"
        } else {
            "\n\n**Example that does not fire:**\n\n"
        });
        out.push_str(&format!(
            "{fence}text\n{}\n{fence}",
            example.scenario.trim_end()
        ));
    }
    out
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().collect::<String>() + chars.as_str()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::impact::ImpactRules;

    #[test]
    fn names_are_pascal_case() {
        assert_eq!(
            pascal_case("path.cleanup-misses-new-outputs"),
            "PathCleanupMissesNewOutputs"
        );
    }

    #[test]
    fn builtin_rules_link_to_their_file_and_read_in_general_words() {
        let rules = ImpactRules::builtin().unwrap();
        let rule = rules.get("path.cleanup-misses-new-outputs").unwrap();
        assert_eq!(
            help_uri(rule).as_deref(),
            Some("https://github.com/knockon-dev/knockon/blob/main/rules/impact/path.toml")
        );
        assert_eq!(
            generic_title(rule),
            "Cleanup no longer matches what the producer writes"
        );
        for rule in &rules.rules {
            let text = generic_title(rule) + &help_text(rule);
            assert!(
                !text.contains("{producer}")
                    && !text.contains("{counterpart")
                    && !text.contains("{waiter}")
                    && !text.contains("{field}")
                    && !text.contains("{variable}"),
                "{text}"
            );
        }
    }
}
