//! [`Packed`]: a part of a file's facts kept in its encoded form until something reads it.
//!
//! A world holds the facts of every file until it is resolved, but resolution reads only a
//! few of them whole: a binding's value is evaluated only when a lookup lands on it (a
//! whole-corpus `who` name-indexes a fifth of the files, and evaluates fewer values still),
//! and a call's arguments only when a parameter of its callee is asked for. Held as trees,
//! those values and arguments were 90 MiB of a corpus run's 200 MiB peak; encoded they are a
//! fraction of that, and a warm check copies them out of the cache instead of building their
//! trees. A file's whole list of bindings is packed too: a check that takes its context's
//! answers from the base's world looks names up in few context files.
//!
//! Invariants: a `Packed<T>` reads, compares, hashes, prints and serializes (to JSON, to the
//! index's named form) exactly as its `T`, so packing changes no answer and no output. Only the
//! cache's positional form ([`crate::store::codec::encode`]) writes the encoded bytes
//! themselves, which that form's reader takes back as they are; the bytes are those of the same
//! build (cache keys hold it) and inside a checksummed entry, so they decode — should they ever
//! not, the value reads as [`Unpack::undecodable`], never a panic.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// What a packed value reads as when its bytes do not decode (which same-build bytes from a
/// checksummed entry always do).
pub trait Unpack: Serialize + de::DeserializeOwned {
    fn undecodable() -> Self;
}

impl Unpack for crate::expr::Expr {
    fn undecodable() -> Self {
        crate::expr::Expr::hole("undecodable")
    }
}

impl<T: Serialize + de::DeserializeOwned> Unpack for Vec<T> {
    fn undecodable() -> Self {
        Vec::new()
    }
}

/// A value held encoded (after [`Packed::pack`]) and decoded on its first read, or held as it
/// is (while extraction builds it). 24 bytes: a world holds hundreds of thousands.
pub enum Packed<T> {
    /// The value itself, as extraction builds it.
    Open(Box<T>),
    /// The value's positional encoding, and the value once something has read it.
    Closed(Box<[u8]>, once_cell::race::OnceBox<T>),
}

impl<T: Unpack> Packed<T> {
    /// Encodes the value and lets go of its tree, if it is not packed already.
    pub fn pack(&mut self) {
        if let Packed::Open(value) = self {
            let bytes = crate::store::codec::pack_boxed(&**value);
            *self = Packed::Closed(bytes, once_cell::race::OnceBox::new());
        }
    }

    /// Whether the value is held as it is, not yet packed.
    pub fn is_open(&self) -> bool {
        matches!(self, Packed::Open(_))
    }

    fn read(&self) -> &T {
        match self {
            Packed::Open(value) => value,
            Packed::Closed(bytes, value) => value.get_or_init(|| Box::new(unpack(bytes))),
        }
    }
}

/// The value of packed bytes.
fn unpack<T: Unpack>(bytes: &[u8]) -> T {
    crate::store::codec::unpack::<T>(bytes).unwrap_or_else(T::undecodable)
}

impl<T> From<T> for Packed<T> {
    fn from(value: T) -> Self {
        Packed::Open(Box::new(value))
    }
}

impl<T> FromIterator<T> for Packed<Vec<T>> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        Packed::from(items.into_iter().collect::<Vec<T>>())
    }
}

impl<'a, T: Serialize + de::DeserializeOwned> IntoIterator for &'a Packed<Vec<T>> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.read().iter()
    }
}

impl<'a, T: Serialize + de::DeserializeOwned> IntoIterator for &'a mut Packed<Vec<T>> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        std::ops::DerefMut::deref_mut(self).iter_mut()
    }
}

impl<T: Serialize + de::DeserializeOwned> IntoIterator for Packed<Vec<T>> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_inner().into_iter()
    }
}

impl<T: Unpack> Packed<T> {
    /// The value, decoded if it is packed.
    pub fn into_inner(self) -> T {
        match self {
            Packed::Open(value) => *value,
            // A read value cannot be moved out of its cell: decoded again.
            Packed::Closed(bytes, _) => unpack(&bytes),
        }
    }
}

impl<T: Default> Default for Packed<T> {
    fn default() -> Self {
        Packed::from(T::default())
    }
}

impl<T: Unpack> std::ops::Deref for Packed<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.read()
    }
}

impl<T: Unpack> std::ops::DerefMut for Packed<T> {
    /// A value changed is a value built again: its bytes no longer say what it is.
    fn deref_mut(&mut self) -> &mut T {
        if let Packed::Closed(bytes, _) = self {
            *self = Packed::Open(Box::new(unpack(bytes)));
        }
        match self {
            Packed::Open(value) => value,
            Packed::Closed(..) => unreachable!("a packed value is opened before it is changed"),
        }
    }
}

impl<T: Unpack + Clone> Clone for Packed<T> {
    fn clone(&self) -> Self {
        match self {
            Packed::Open(value) => Packed::Open(value.clone()),
            Packed::Closed(bytes, value) => Packed::Closed(
                bytes.clone(),
                match value.get() {
                    Some(read) => once_cell::race::OnceBox::with_value(Box::new(read.clone())),
                    None => once_cell::race::OnceBox::new(),
                },
            ),
        }
    }
}

impl<T: Unpack + std::fmt::Debug> std::fmt::Debug for Packed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.read().fmt(f)
    }
}

impl<T: Unpack + PartialEq> PartialEq for Packed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.read() == other.read()
    }
}

impl<T: Unpack + Eq> Eq for Packed<T> {}

/// So that a packed value compares with the value it holds (`binding.value == expected`).
impl<T: Unpack + PartialEq> PartialEq<T> for Packed<T> {
    fn eq(&self, other: &T) -> bool {
        self.read() == other
    }
}

impl<T: Unpack + std::hash::Hash> std::hash::Hash for Packed<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.read().hash(state)
    }
}

impl<T: Unpack> Serialize for Packed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !crate::store::codec::writing_positionally() {
            return self.read().serialize(serializer);
        }
        match self {
            Packed::Closed(bytes, _) => serializer.serialize_bytes(bytes),
            Packed::Open(value) => serializer.serialize_bytes(&crate::store::codec::pack(&**value)),
        }
    }
}

impl<'de, T: Unpack> Deserialize<'de> for Packed<T> {
    /// Bytes are a packed value as the positional form writes it; anything else is the value
    /// itself (JSON, the index's named form).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PackedVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Unpack> Visitor<'de> for PackedVisitor<T> {
            type Value = Packed<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a packed value or the value itself")
            }

            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Packed<T>, E> {
                Ok(Packed::Closed(
                    bytes.into(),
                    once_cell::race::OnceBox::new(),
                ))
            }

            fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Packed<T>, E> {
                Ok(Packed::Closed(
                    bytes.into_boxed_slice(),
                    once_cell::race::OnceBox::new(),
                ))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Packed<T>, A::Error> {
                T::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Packed::from)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Packed<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Packed::from)
            }
        }

        deserializer.deserialize_any(PackedVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Expr;

    fn sample() -> Expr {
        Expr::Join {
            parts: vec![
                Expr::Var {
                    name: "BASE".into(),
                    scope: 2,
                    line: 7,
                    env_fallback: true,
                    default: Some(Box::new(Expr::lit("/srv"))),
                },
                Expr::glob("ticker_*.csv"),
            ],
        }
    }

    #[test]
    fn a_packed_value_takes_24_bytes() {
        assert_eq!(std::mem::size_of::<Packed<Expr>>(), 24);
    }

    #[test]
    fn a_packed_value_reads_as_the_value() {
        let mut packed = Packed::from(sample());
        packed.pack();
        assert!(matches!(&packed, Packed::Closed(_, value) if value.get().is_none()));
        assert_eq!(*packed, sample());
        assert_eq!(packed, Packed::from(sample()));
    }

    #[test]
    fn json_and_named_forms_hold_the_value_and_the_positional_form_its_bytes() {
        let mut packed = Packed::from(sample());
        packed.pack();
        let json = serde_json::to_string(&packed).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::to_string(&sample()).unwrap_or_default(),
            "JSON shows the value"
        );
        let from_json: Packed<Expr> = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(*from_json, sample());

        let named = crate::store::codec::encode_named(&packed);
        assert_eq!(named, crate::store::codec::encode_named(&sample()));
        let from_named: Packed<Expr> =
            crate::store::codec::decode(&named).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(*from_named, sample());

        let positional = crate::store::codec::encode(&packed);
        let back: Packed<Expr> =
            crate::store::codec::decode(&positional).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(&back, Packed::Closed(_, value) if value.get().is_none()),
            "read back still packed"
        );
        assert_eq!(*back, sample());
        assert_eq!(crate::store::codec::encode(&back), positional);
    }

    #[test]
    fn bytes_that_do_not_decode_read_as_unknown_never_a_panic() {
        let broken: Packed<Expr> = Packed::Closed(
            vec![0xc1, 0xff, 0x00].into_boxed_slice(),
            once_cell::race::OnceBox::new(),
        );
        assert_eq!(*broken, Expr::undecodable());
        let broken: Packed<Vec<Expr>> = Packed::Closed(
            Vec::new().into_boxed_slice(),
            once_cell::race::OnceBox::new(),
        );
        assert!(broken.is_empty());
    }

    #[test]
    fn changing_a_packed_value_drops_its_bytes() {
        let mut packed = Packed::from(sample());
        packed.pack();
        *packed = Expr::lit("/other");
        assert!(matches!(&packed, Packed::Open(_)));
        assert_eq!(*packed, Expr::lit("/other"));
        let back: Packed<Expr> = crate::store::codec::decode(&crate::store::codec::encode(&packed))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(*back, Expr::lit("/other"));
    }
}
