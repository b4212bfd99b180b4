//! [`CallList`]: a file's calls, kept encoded until something reads them, with the hashed last
//! names of their callees beside them.
//!
//! A call is read only when a function of its callee's last name is asked for its call sites
//! (to bind a parameter) or waits (to carry the wait to the caller). A check that takes its
//! context's answers from its base's world asks this of a few hundred functions, and decoding
//! every cached file's calls, then resolving each to build the callers' index, was a sixth
//! of the check's instructions. The names, a hash per distinct last name, say which files can
//! hold a call of a function: only those files' calls are decoded, and only their calls of that
//! name resolved.
//!
//! Invariants: a `CallList` reads, compares, prints and serializes (to JSON, to the index's
//! named form) exactly as its list, like [`Packed`]; its names are those of its calls (computed
//! from them when not read from the cache) or, after a change through `DerefMut`, computed
//! again. Bytes that do not parse are a decoding error, so a damaged entry is a cache miss.

use super::{CallRef, Packed};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;

/// The last segment of a callee (`wait` of `auth.wait`, of `self.wait`, of `crate::auth::wait`):
/// every way a call is resolved ends at a function (or the class of a constructor) whose own
/// name ends with it.
pub fn last_name(callee: &str) -> &str {
    // A byte search: `rsplit` with a set of chars was a tenth of propagating waits, which ask
    // this of every call of every file in each round. Both separators are ASCII, so the byte
    // after one always starts a character.
    match callee.bytes().rposition(|b| b == b'.' || b == b':') {
        Some(at) => callee.get(at + 1..).unwrap_or(callee),
        None => callee,
    }
}

/// The hash [`CallList::names`] holds for a last name: 32-bit FNV-1a, the same in every build
/// (an equal hash only makes a file a candidate; the names themselves decide).
pub fn name_hash(name: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in name.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// A file's calls (see the module).
#[derive(Default)]
pub struct CallList {
    calls: Packed<Vec<CallRef>>,
    /// The hashes of the callees' last names, sorted and without repeats, when read from the
    /// cache's positional form.
    names: Option<Box<[u32]>>,
}

impl CallList {
    /// Whether the calls are held encoded (read or not), as a cached file's are: changing them
    /// would build them all again.
    pub fn is_packed(&self) -> bool {
        !self.calls.is_open()
    }

    /// Whether the calls have been decoded (or were never encoded).
    #[cfg(test)]
    pub(crate) fn is_read(&self) -> bool {
        match &self.calls {
            Packed::Open(_) => true,
            Packed::Closed(_, read) => read.get().is_some(),
        }
    }

    /// The hashes ([`name_hash`]) of the callees' last names, sorted, each once: read without
    /// decoding the calls when they came from the cache.
    pub fn names(&self) -> Cow<'_, [u32]> {
        match &self.names {
            Some(names) => Cow::Borrowed(names),
            None => Cow::Owned(names_of(&self.calls)),
        }
    }
}

fn names_of(calls: &[CallRef]) -> Vec<u32> {
    let mut names: Vec<u32> = calls
        .iter()
        .map(|call| name_hash(last_name(&call.callee)))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

impl From<Vec<CallRef>> for CallList {
    fn from(calls: Vec<CallRef>) -> Self {
        CallList {
            calls: Packed::from(calls),
            names: None,
        }
    }
}

impl std::ops::Deref for CallList {
    type Target = Vec<CallRef>;

    fn deref(&self) -> &Vec<CallRef> {
        &self.calls
    }
}

impl std::ops::DerefMut for CallList {
    /// Changed calls may have other names: computed again when asked.
    fn deref_mut(&mut self) -> &mut Vec<CallRef> {
        self.names = None;
        &mut self.calls
    }
}

impl<'a> IntoIterator for &'a CallList {
    type Item = &'a CallRef;
    type IntoIter = std::slice::Iter<'a, CallRef>;

    fn into_iter(self) -> Self::IntoIter {
        self.calls.iter()
    }
}

impl IntoIterator for CallList {
    type Item = CallRef;
    type IntoIter = std::vec::IntoIter<CallRef>;

    fn into_iter(self) -> Self::IntoIter {
        self.calls.into_inner().into_iter()
    }
}

impl<'a> IntoIterator for &'a mut CallList {
    type Item = &'a mut CallRef;
    type IntoIter = std::slice::IterMut<'a, CallRef>;

    fn into_iter(self) -> Self::IntoIter {
        std::ops::DerefMut::deref_mut(self).iter_mut()
    }
}

impl Clone for CallList {
    fn clone(&self) -> Self {
        CallList {
            calls: self.calls.clone(),
            names: self.names.clone(),
        }
    }
}

impl std::fmt::Debug for CallList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.calls.fmt(f)
    }
}

impl PartialEq for CallList {
    fn eq(&self, other: &Self) -> bool {
        self.calls == other.calls
    }
}

impl Eq for CallList {}

/// Length of the count of names that leads the positional bytes.
const COUNT_LEN: usize = 4;

impl Serialize for CallList {
    /// The positional form writes one byte string: the count of names, the names (each 4
    /// bytes, little-endian), then the packed calls. Every other form writes the list.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !crate::store::codec::writing_positionally() {
            return self.calls.serialize(serializer);
        }
        let names = self.names();
        let packed: Cow<'_, [u8]> = match &self.calls {
            Packed::Closed(bytes, _) => Cow::Borrowed(bytes),
            Packed::Open(calls) => Cow::Owned(crate::store::codec::pack(&**calls)),
        };
        let count = u32::try_from(names.len()).map_err(serde::ser::Error::custom)?;
        let mut bytes = Vec::with_capacity(COUNT_LEN + 4 * names.len() + packed.len());
        bytes.extend_from_slice(&count.to_le_bytes());
        for name in names.iter() {
            bytes.extend_from_slice(&name.to_le_bytes());
        }
        bytes.extend_from_slice(&packed);
        serializer.serialize_bytes(&bytes)
    }
}

/// The names and packed calls of the positional form's bytes, or why they are not that.
fn parse(bytes: &[u8]) -> Result<CallList, String> {
    let (count, rest) = bytes
        .split_first_chunk::<COUNT_LEN>()
        .ok_or("calls too short for their count")?;
    let count = usize::try_from(u32::from_le_bytes(*count)).map_err(|e| e.to_string())?;
    let names_len = count
        .checked_mul(4)
        .filter(|len| *len <= rest.len())
        .ok_or("calls too short for their names")?;
    let (names, packed) = rest.split_at(names_len);
    let names: Box<[u32]> = names
        .chunks_exact(4)
        .map(|chunk| u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
        .collect();
    Ok(CallList {
        calls: Packed::Closed(packed.into(), once_cell::race::OnceBox::new()),
        names: Some(names),
    })
}

impl<'de> Deserialize<'de> for CallList {
    /// Bytes are the positional form (see [`CallList::serialize`]); a sequence is the list.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CallListVisitor;

        impl<'de> Visitor<'de> for CallListVisitor {
            type Value = CallList;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of calls or its packed bytes")
            }

            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<CallList, E> {
                parse(bytes).map_err(E::custom)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<CallList, A::Error> {
                Vec::<CallRef>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(CallList::from)
            }
        }

        deserializer.deserialize_any(CallListVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(callee: &str, line: u32) -> CallRef {
        CallRef {
            scope: 0,
            line,
            callee: callee.into(),
            args: vec![crate::extract::CallArg {
                keyword: None,
                value: crate::expr::Expr::lit("/srv/out"),
            }]
            .into(),
        }
    }

    fn sample() -> CallList {
        CallList::from(vec![
            call("auth.wait", 3),
            call("self.dump", 4),
            call("crate::io::dump", 5),
        ])
    }

    #[test]
    fn last_names_end_every_way_of_writing_a_callee() {
        assert_eq!(last_name("auth.wait"), "wait");
        assert_eq!(last_name("crate::auth::wait"), "wait");
        assert_eq!(last_name("wait"), "wait");
        assert_eq!(last_name("a:b"), "b");
    }

    #[test]
    fn the_cache_form_reads_back_packed_with_its_names_and_json_holds_the_list() {
        let calls = sample();
        let expected = vec![name_hash("dump"), name_hash("wait")];
        let mut sorted = expected.clone();
        sorted.sort_unstable();
        assert_eq!(calls.names().into_owned(), sorted);

        let bytes = crate::store::codec::encode(&calls);
        let back: CallList = crate::store::codec::decode(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            back.is_packed() && !back.is_read(),
            "read back still packed"
        );
        assert_eq!(
            back.names().into_owned(),
            sorted,
            "names read without the calls"
        );
        assert!(!back.is_read(), "reading the names decodes no call");
        assert_eq!(back, calls);
        assert!(back.is_read());
        assert_eq!(crate::store::codec::encode(&back), bytes);

        let json = serde_json::to_value(&calls).unwrap_or_default();
        assert_eq!(json, serde_json::to_value(&*calls).unwrap_or_default());
        let from_json: CallList = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(from_json, calls);
        let named: CallList =
            crate::store::codec::decode(&crate::store::codec::encode_named(&calls))
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(named, calls);
        assert_eq!(named.names(), calls.names());
    }

    #[test]
    fn changed_calls_have_their_names_computed_again() {
        let bytes = crate::store::codec::encode(&sample());
        let mut back: CallList =
            crate::store::codec::decode(&bytes).unwrap_or_else(|e| panic!("{e}"));
        back.retain(|c| c.callee.as_str() != "auth.wait");
        assert_eq!(back.names().into_owned(), vec![name_hash("dump")]);
    }

    #[test]
    fn bytes_too_short_for_their_names_are_an_error() {
        for bytes in [&[][..], &[1, 0, 0][..], &[2, 0, 0, 0, 1, 2, 3, 4][..]] {
            assert!(parse(bytes).is_err(), "{bytes:?}");
        }
        let empty = parse(&[0, 0, 0, 0, 0x90]).unwrap_or_else(|e| panic!("{e}"));
        assert!(empty.is_empty());
    }
}
