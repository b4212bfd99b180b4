//! Names of credentials and queues -> [`NameSet`]s, compared with the same algebra as paths.
//!
//! Environment variable and secret names are opaque strings. Broker names differ: an AMQP
//! routing or binding key is a sequence of dot-separated words where `*` matches one word and `#`
//! any number, so its dots become segment separators (`orders.*.created` -> `orders/*/created`,
//! `#` -> `**`) and the path algebra answers "does this binding receive that routing key?"
//! exactly. Kafka topic patterns arrive as globs from the extractors.

use super::eval::{Value, display_value};
use crate::extract::{Broker, FieldUse, QueueRole};
use crate::pattern::{Pattern, Piece, covers, overlaps};

/// The names an access may use.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct NameSet {
    pub patterns: Vec<Pattern>,
    /// As written in the code's own syntax (dots, not slashes), holes as `{name}`.
    pub display: String,
}

impl NameSet {
    /// Names from evaluated values; `dotted` translates AMQP word syntax into segments.
    pub fn from_values(values: &[Value], dotted: bool) -> NameSet {
        let display = {
            let mut shown: Vec<String> = Vec::new();
            for v in values {
                let d = display_value(v);
                if !shown.contains(&d) {
                    shown.push(d);
                }
            }
            shown.join(", ")
        };
        let patterns = values
            .iter()
            .map(|v| {
                if dotted {
                    Pattern::from_pieces(&dotted_to_segments(v), false)
                } else {
                    Pattern::from_pieces(&escape_slashes(v), false)
                }
            })
            .collect();
        NameSet { patterns, display }
    }

    /// Is every name fully unknown (a bare hole)? Such names are never linked.
    pub fn is_anchored(&self) -> bool {
        !self.patterns.is_empty()
            && self.patterns.iter().all(|p| {
                let t = p.base_display();
                let bare_hole = t.starts_with('{') && t.ends_with('}') && !t[1..].contains('{');
                !t.is_empty() && !bare_hole
            })
    }

    pub fn covers(&self, other: &Pattern) -> bool {
        covers(&self.patterns, other)
    }

    pub fn overlaps(&self, other: &Pattern) -> bool {
        self.patterns.iter().any(|p| overlaps(p, other))
    }

    /// A single literal name, when the set is one.
    pub fn literal(&self) -> Option<&str> {
        match self.patterns.as_slice() {
            [only] if !self.display.contains(['{', '*', '?', '[', '#']) => {
                let _ = only;
                Some(&self.display)
            }
            _ => None,
        }
    }
}

/// A resolved broker destination or source.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct QueueSet {
    pub broker: Broker,
    pub role: QueueRole,
    pub names: NameSet,
    pub exchange: Option<String>,
    pub bound_queue: Option<NameSet>,
    pub fields: Vec<FieldUse>,
}

/// Names are not paths: a `/` in an SQS URL or a Vault path is a literal character. Keep
/// literal pieces literal and let the algebra compare whole names.
fn escape_slashes(value: &Value) -> Value {
    value.clone()
}

/// `orders.*.created` -> `orders/*/created`; `#` (any number of words) -> `**`.
fn dotted_to_segments(value: &Value) -> Value {
    value
        .iter()
        .map(|piece| match piece {
            Piece::Lit(text) => Piece::Lit(text.replace('.', "/").into()),
            Piece::Glob {
                text,
                star_matches_slash,
                case_insensitive,
            } => Piece::Glob {
                text: text
                    .split('.')
                    .map(|w| if w == "#" { "**" } else { w })
                    .collect::<Vec<_>>()
                    .join("/")
                    .into(),
                star_matches_slash: *star_matches_slash,
                case_insensitive: *case_insensitive,
            },
            other => other.clone(),
        })
        .collect()
}

/// Does this broker use dot-separated words in this role?
pub fn is_dotted(broker: Broker, role: QueueRole) -> bool {
    broker == Broker::Amqp && matches!(role, QueueRole::RoutingKey | QueueRole::BindingKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(t: &str) -> Piece {
        Piece::Glob {
            text: t.into(),
            star_matches_slash: false,
            case_insensitive: false,
        }
    }

    #[test]
    fn amqp_binding_keys_match_routing_keys_word_by_word() {
        let binding = NameSet::from_values(&[vec![glob("orders.*.created")]], true);
        let key = NameSet::from_values(&[vec![Piece::Lit("orders.eu.created".into())]], true);
        assert!(binding.covers(&key.patterns[0]));
        let other = NameSet::from_values(&[vec![Piece::Lit("orders.eu.x.created".into())]], true);
        assert!(!binding.overlaps(&other.patterns[0]));
        let hash = NameSet::from_values(&[vec![glob("orders.#")]], true);
        assert!(hash.covers(&other.patterns[0]));
        assert_eq!(binding.display, "orders.*.created");
    }
}
