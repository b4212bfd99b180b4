//! Reading an [`Expr`] back from the fact codec without serde's buffering.
//!
//! [`Expr`] and [`HoleShape`] are written as internally tagged maps (`{"kind": "lit", "text":
//! …}`), the form `knockon facts` prints. serde's derived reader for that form cannot know the
//! tag is first, so it copies every map into a generic buffer and reads the variant from the
//! copy: for the millions of expression nodes of a warm check's cached facts that was a third
//! of decoding them. Serializing puts the tag first, and the codec only reads what it wrote, so
//! this reader takes the tag from the first entry and the fields straight from the stream; a
//! map whose first key is not `kind` is an error (a cache miss), never a guess.
//!
//! Like the derived reader it ignores unknown fields, takes a missing `Option` as `None` and
//! reports any other missing field.
//!
//! The fact codec writes positionally (`store::codec::encode`): a node is then an array,
//! its kind first and its fields in declaration order (`["var", "DIR", 0, 3, true, null]`),
//! which [`read_seq`] reads; a missing field is an error there, and elements past the last
//! field are skipped.

use super::{Expr, HoleShape, Text};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Every field name of every variant of [`Expr`] and [`HoleShape`].
enum Field {
    Kind,
    Text,
    Parts,
    Name,
    Scope,
    Line,
    EnvFallback,
    Default,
    Label,
    Shape,
    Of,
    SuffixOnly,
    Options,
    Format,
    Unknown,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                Ok(match name {
                    "kind" => Field::Kind,
                    "text" => Field::Text,
                    "parts" => Field::Parts,
                    "name" => Field::Name,
                    "scope" => Field::Scope,
                    "line" => Field::Line,
                    "env_fallback" => Field::EnvFallback,
                    "default" => Field::Default,
                    "label" => Field::Label,
                    "shape" => Field::Shape,
                    "of" => Field::Of,
                    "suffix_only" => Field::SuffixOnly,
                    "options" => Field::Options,
                    "format" => Field::Format,
                    _ => Field::Unknown,
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

/// The variant names, as `rename_all = "kebab-case"` writes them.
enum Kind {
    Lit,
    Glob,
    Concat,
    Join,
    Var,
    Env,
    Hole,
    Parent,
    ReplaceName,
    Alt,
    Segment,
    Path,
    Strftime,
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KindVisitor;
        impl Visitor<'_> for KindVisitor {
            type Value = Kind;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an expression kind")
            }
            fn visit_str<E: de::Error>(self, kind: &str) -> Result<Kind, E> {
                Ok(match kind {
                    "lit" => Kind::Lit,
                    "glob" => Kind::Glob,
                    "concat" => Kind::Concat,
                    "join" => Kind::Join,
                    "var" => Kind::Var,
                    "env" => Kind::Env,
                    "hole" => Kind::Hole,
                    "parent" => Kind::Parent,
                    "replace-name" => Kind::ReplaceName,
                    "alt" => Kind::Alt,
                    "segment" => Kind::Segment,
                    "path" => Kind::Path,
                    "strftime" => Kind::Strftime,
                    other => return Err(E::custom(format_args!("unknown kind `{other}`"))),
                })
            }
        }
        deserializer.deserialize_str(KindVisitor)
    }
}

/// The fields read so far of one map; each is set once at most.
#[derive(Default)]
struct Fields {
    text: Option<Text>,
    parts: Option<Vec<Expr>>,
    name: Option<Text>,
    scope: Option<usize>,
    line: Option<u32>,
    env_fallback: Option<bool>,
    default: Option<Option<Box<Expr>>>,
    label: Option<Text>,
    shape: Option<HoleShape>,
    of: Option<Box<Expr>>,
    replacement: Option<Box<Expr>>,
    suffix_only: Option<bool>,
    options: Option<Vec<Expr>>,
    format: Option<Text>,
}

/// Reads the tag (the first entry) and then every other entry of a map into [`Fields`].
fn read_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(Kind, Fields), A::Error> {
    match map.next_key::<Field>()? {
        Some(Field::Kind) => {}
        _ => {
            return Err(de::Error::custom(
                "an expression map that does not start with its kind",
            ));
        }
    }
    let kind: Kind = map.next_value()?;
    let mut fields = Fields::default();
    while let Some(field) = map.next_key::<Field>()? {
        match field {
            Field::Text => fields.text = Some(map.next_value()?),
            Field::Parts => fields.parts = Some(map.next_value()?),
            // `name` is text for a variable or an environment read, an expression for a
            // replaced file name.
            Field::Name if matches!(kind, Kind::ReplaceName) => {
                fields.replacement = Some(map.next_value()?)
            }
            Field::Name => fields.name = Some(map.next_value()?),
            Field::Scope => fields.scope = Some(map.next_value()?),
            Field::Line => fields.line = Some(map.next_value()?),
            Field::EnvFallback => fields.env_fallback = Some(map.next_value()?),
            Field::Default => fields.default = Some(map.next_value()?),
            Field::Label => fields.label = Some(map.next_value()?),
            Field::Shape => fields.shape = Some(map.next_value()?),
            Field::Of => fields.of = Some(map.next_value()?),
            Field::SuffixOnly => fields.suffix_only = Some(map.next_value()?),
            Field::Options => fields.options = Some(map.next_value()?),
            Field::Format => fields.format = Some(map.next_value()?),
            Field::Kind => return Err(de::Error::duplicate_field("kind")),
            Field::Unknown => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok((kind, fields))
}

/// Reads a positional node: its kind, then the fields that kind has, in declaration order.
fn read_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(Kind, Fields), A::Error> {
    let kind: Kind = seq
        .next_element()?
        .ok_or_else(|| de::Error::missing_field("kind"))?;
    let mut fields = Fields::default();
    match kind {
        Kind::Lit | Kind::Glob => fields.text = seq.next_element()?,
        Kind::Concat | Kind::Join => fields.parts = seq.next_element()?,
        Kind::Var => {
            fields.name = seq.next_element()?;
            fields.scope = seq.next_element()?;
            fields.line = seq.next_element()?;
            fields.env_fallback = seq.next_element()?;
            fields.default = seq.next_element()?;
        }
        Kind::Env => {
            fields.name = seq.next_element()?;
            fields.default = seq.next_element()?;
        }
        Kind::Hole => {
            fields.label = seq.next_element()?;
            fields.shape = seq.next_element()?;
        }
        Kind::Parent => fields.of = seq.next_element()?,
        Kind::ReplaceName => {
            fields.of = seq.next_element()?;
            fields.replacement = seq.next_element()?;
            fields.suffix_only = seq.next_element()?;
        }
        Kind::Alt => fields.options = seq.next_element()?,
        Kind::Segment | Kind::Path => {}
        Kind::Strftime => fields.format = seq.next_element()?,
    }
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok((kind, fields))
}

fn required<T, E: de::Error>(value: Option<T>, field: &'static str) -> Result<T, E> {
    value.ok_or_else(|| E::missing_field(field))
}

/// What a node read whole (its kind and fields, from a map or an array) becomes: an
/// expression or a hole shape, which share one reader ([`NodeVisitor`]).
trait Node: Sized {
    const EXPECTING: &'static str;
    fn of<E: de::Error>(kind: Kind, fields: Fields) -> Result<Self, E>;
}

/// Reads any [`Node`] in either form.
struct NodeVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Node> Visitor<'de> for NodeVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        let (kind, fields) = read_map(map)?;
        T::of(kind, fields)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        let (kind, fields) = read_seq(seq)?;
        T::of(kind, fields)
    }
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for HoleShape {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor(std::marker::PhantomData))
    }
}

impl Node for Expr {
    const EXPECTING: &'static str = "an expression";
    fn of<E: de::Error>(kind: Kind, f: Fields) -> Result<Expr, E> {
        expr_of(kind, f)
    }
}

impl Node for HoleShape {
    const EXPECTING: &'static str = "a hole shape";
    fn of<E: de::Error>(kind: Kind, f: Fields) -> Result<HoleShape, E> {
        shape_of(kind, f)
    }
}

/// The expression of `kind` with the fields read.
fn expr_of<E: de::Error>(kind: Kind, f: Fields) -> Result<Expr, E> {
    Ok(match kind {
        Kind::Lit => Expr::Lit {
            text: required(f.text, "text")?,
        },
        Kind::Glob => Expr::Glob {
            text: required(f.text, "text")?,
        },
        Kind::Concat => Expr::Concat {
            parts: required(f.parts, "parts")?,
        },
        Kind::Join => Expr::Join {
            parts: required(f.parts, "parts")?,
        },
        Kind::Var => Expr::Var {
            name: required(f.name, "name")?,
            scope: required(f.scope, "scope")?,
            line: required(f.line, "line")?,
            env_fallback: required(f.env_fallback, "env_fallback")?,
            default: f.default.flatten(),
        },
        Kind::Env => Expr::Env {
            name: required(f.name, "name")?,
            default: f.default.flatten(),
        },
        Kind::Hole => Expr::Hole {
            label: required(f.label, "label")?,
            shape: required(f.shape, "shape")?,
        },
        Kind::Parent => Expr::Parent {
            of: required(f.of, "of")?,
        },
        Kind::ReplaceName => Expr::ReplaceName {
            of: required(f.of, "of")?,
            name: required(f.replacement, "name")?,
            suffix_only: required(f.suffix_only, "suffix_only")?,
        },
        Kind::Alt => Expr::Alt {
            options: required(f.options, "options")?,
        },
        Kind::Segment | Kind::Path | Kind::Strftime => {
            return Err(de::Error::custom("a hole shape where an expression was"));
        }
    })
}

/// The hole shape of `kind` with the fields read.
fn shape_of<E: de::Error>(kind: Kind, f: Fields) -> Result<HoleShape, E> {
    Ok(match kind {
        Kind::Segment => HoleShape::Segment,
        Kind::Path => HoleShape::Path,
        Kind::Strftime => HoleShape::Strftime {
            format: required(f.format, "format")?,
        },
        _ => return Err(de::Error::custom("an expression where a hole shape was")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant and shape, nested, with and without its optional fields.
    fn every_kind() -> Vec<Expr> {
        let var = |default: Option<Expr>| Expr::Var {
            name: "DIR".into(),
            scope: 3,
            line: 41,
            env_fallback: true,
            default: default.map(Box::new),
        };
        let hole = |shape: HoleShape| Expr::Hole {
            label: "day".into(),
            shape,
        };
        vec![
            Expr::Lit {
                text: "/srv/a".into(),
            },
            Expr::Glob {
                text: "*.csv".into(),
            },
            Expr::Concat {
                parts: vec![var(None), Expr::Lit { text: "-x".into() }],
            },
            Expr::Join {
                parts: vec![
                    var(Some(Expr::Lit {
                        text: "/tmp".into(),
                    })),
                    hole(HoleShape::Path),
                ],
            },
            Expr::Env {
                name: "HOME".into(),
                default: None,
            },
            Expr::Env {
                name: "DATA".into(),
                default: Some(Box::new(hole(HoleShape::Segment))),
            },
            hole(HoleShape::Strftime {
                format: "%Y-%m-%d".into(),
            }),
            Expr::Parent {
                of: Box::new(Expr::Lit {
                    text: "/a/b".into(),
                }),
            },
            Expr::ReplaceName {
                of: Box::new(var(None)),
                name: Box::new(Expr::Lit {
                    text: ".bak".into(),
                }),
                suffix_only: true,
            },
            Expr::Alt {
                options: vec![
                    Expr::Lit { text: "a".into() },
                    Expr::Glob { text: "b*".into() },
                ],
            },
        ]
    }

    #[test]
    fn reads_back_what_is_written() {
        let written = every_kind();
        for bytes in [
            rmp_serde::to_vec_named(&written).expect("encode"),
            rmp_serde::to_vec(&written).expect("encode"),
        ] {
            let read: Vec<Expr> = rmp_serde::from_slice(&bytes).expect("decode");
            assert_eq!(read, written);
        }
    }

    /// Positional nodes: a missing field is an error, elements past the last are skipped, and
    /// an array not led by a kind is an error.
    #[test]
    fn reads_positional_nodes() {
        use serde_json::json;
        let read = |value: serde_json::Value| -> Result<Expr, String> {
            let bytes = rmp_serde::to_vec(&value).map_err(|e| e.to_string())?;
            rmp_serde::from_slice(&bytes).map_err(|e| e.to_string())
        };
        let var = read(json!(["var", "DIR", 2, 7, true, null, "later"]));
        let expected = Expr::Var {
            name: "DIR".into(),
            scope: 2,
            line: 7,
            env_fallback: true,
            default: None,
        };
        assert_eq!(var, Ok(expected));
        assert!(read(json!(["var", "DIR", 2])).is_err());
        assert!(read(json!(["DIR", "var"])).is_err());
        assert!(read(json!([])).is_err());
        assert!(read(json!(["segment"])).is_err());
        let hole = read(json!(["hole", "day", ["strftime", "%Y"]]));
        let expected = Expr::Hole {
            label: "day".into(),
            shape: HoleShape::Strftime {
                format: "%Y".into(),
            },
        };
        assert_eq!(hole, Ok(expected));
    }

    /// The derived form's rules: unknown fields are skipped, a missing optional field is
    /// `None`, a missing required field, an unknown kind or a map not led by its kind is an
    /// error.
    /// A map with its entries in the order given.
    struct Ordered(Vec<(&'static str, serde_json::Value)>);

    impl serde::Serialize for Ordered {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap as _;
            let mut map = serializer.serialize_map(Some(self.0.len()))?;
            for (key, value) in &self.0 {
                map.serialize_entry(key, value)?;
            }
            map.end()
        }
    }

    fn read(entries: Vec<(&'static str, serde_json::Value)>) -> Result<Expr, String> {
        let bytes = rmp_serde::to_vec_named(&Ordered(entries)).map_err(|e| e.to_string())?;
        rmp_serde::from_slice(&bytes).map_err(|e| e.to_string())
    }

    /// The derived form's rules: unknown fields are skipped, a missing optional field is
    /// `None`, a missing required field, an unknown kind or a map not led by its kind is an
    /// error.
    #[test]
    fn reads_as_the_derived_form_would() {
        use serde_json::json;
        let env = read(vec![
            ("kind", json!("env")),
            ("name", json!("X")),
            ("added", json!([1, 2])),
        ]);
        let expected = Expr::Env {
            name: "X".into(),
            default: None,
        };
        assert_eq!(env, Ok(expected));
        assert!(read(vec![("kind", json!("var")), ("name", json!("X"))]).is_err());
        assert!(read(vec![("kind", json!("nope")), ("text", json!("x"))]).is_err());
        assert!(read(vec![("text", json!("x")), ("kind", json!("lit"))]).is_err());
        assert!(read(vec![("kind", json!("segment"))]).is_err());
        let lit = read(vec![("kind", json!("lit")), ("text", json!("x"))]);
        assert_eq!(lit, Ok(Expr::Lit { text: "x".into() }));
    }
}
