//! The fact codec: [`FileFacts`] <-> bytes, for the content cache and the repository index.
//!
//! Format: MessagePack, compressed as one LZ4 block (its length first, 4 bytes), then an 8-byte
//! checksum of all that (CRC-32 in the cache, FNV-1a in an index: see `Checksum`). The MessagePack
//! is positional: each struct an array of its fields in declaration order, so no field name is
//! written or read again (names were a quarter of the bytes, and reading and checking them a
//! quarter of decoding a warm check's facts). The fields `knockon facts` leaves out of its JSON
//! when empty (`skip_serializing_if` with [`omit_empty`], [`omit_empty_packed`], [`omit_none`] and
//! [`omit_false`], the only predicates encoded data may use) are written too while encoding, so
//! every field keeps its place. The internally tagged enums (`#[serde(tag = "kind")]`) become
//! arrays led by their kind, which serde's readers take as readily as maps. Positions are only meaningful to the build
//! that wrote them, which the cache's keys guarantee; an index is read by other builds, so its
//! facts keep named fields ([`encode_named`]), and the readers take either form, so [`decode`]
//! reads both. Facts are bigger than their source (every binding and call argument is an expression
//! tree), and LZ4 shrinks them several times for little CPU (figures in the issue-12 report).
//!
//! Invariants: `decode(&encode(f)) == f` for every `f` (tested over every file of every
//! scenario); `decode` never panics and never returns facts from bytes it did not write whole —
//! a truncated, flipped or foreign byte string is a [`CodecError`], so a damaged cache entry is
//! a miss and never a wrong answer. The bytes of one build are read only by the same build:
//! [`fingerprint`] changes with the knockon version, this codec's version, the executable and
//! the models, and every cache key holds it.

use crate::rules::models::Models;

/// Bumped whenever the encoded form of [`FileFacts`] changes meaning without a version change.
pub const CODEC_VERSION: u32 = 6;

/// Length of the checksum that ends the bytes.
const CHECKSUM_LEN: usize = 8;
/// Length of the uncompressed size that starts the bytes.
const SIZE_LEN: usize = 4;
/// The largest MessagePack form decoded: bigger than any file's facts (a 1 MiB file gives a few
/// MiB), small enough that a damaged size field cannot ask for gigabytes.
const MAX_DECODED_BYTES: usize = 256 << 20;

/// Why bytes are not the facts of a file.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("cached facts are truncated ({0} bytes)")]
    Truncated(usize),
    #[error("cached facts fail their checksum")]
    Checksum,
    #[error("cached facts do not decompress: {0}")]
    Decompress(String),
    #[error("cached facts do not decode: {0}")]
    Decode(#[from] rmp_serde::decode::Error),
}

thread_local! {
    /// Set while [`encode`] writes, so that [`omit_empty`] and [`omit_none`] omit nothing
    /// and the positional form keeps every field at its place.
    static WRITING_EVERY_FIELD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `skip_serializing_if` for a list `knockon facts` leaves out when empty: empty, and not
/// written by [`encode`] (whose positional form cannot leave a field out).
pub fn omit_empty<T>(list: &[T]) -> bool {
    list.is_empty() && !WRITING_EVERY_FIELD.get()
}

/// Puts [`WRITING_EVERY_FIELD`] back however writing ends: a packed value is encoded in the
/// middle of encoding the facts that hold it.
struct EveryField(bool);

impl Drop for EveryField {
    fn drop(&mut self) {
        WRITING_EVERY_FIELD.set(self.0);
    }
}

/// [`omit_empty`] for a packed list, which asks whether it is empty only where it may be left
/// out, so that writing the positional form never unpacks it.
pub fn omit_empty_packed<T: serde::Serialize + serde::de::DeserializeOwned>(
    list: &crate::extract::Packed<Vec<T>>,
) -> bool {
    !WRITING_EVERY_FIELD.get() && list.is_empty()
}

/// `skip_serializing_if` for a flag, as [`omit_empty`] is for a list.
pub fn omit_false(flag: &bool) -> bool {
    !*flag && !WRITING_EVERY_FIELD.get()
}

/// `skip_serializing_if` for an optional field, as [`omit_empty`] is for a list.
pub fn omit_none<T>(value: &Option<T>) -> bool {
    value.is_none() && !WRITING_EVERY_FIELD.get()
}

/// The bytes of `data` (a file's facts, a world's resolution: any plain data whose optional
/// fields are left out only through [`omit_empty`] and [`omit_none`]), in the positional form
/// (see the module).
pub fn encode<T: serde::Serialize + ?Sized>(data: &T) -> Vec<u8> {
    compress(pack(data), Checksum::Crc32)
}

/// The positional MessagePack of `data`, with every field written, neither compressed nor
/// checksummed: the bytes a [`Packed`] value keeps (the entry that holds them is checksummed).
///
/// [`Packed`]: crate::extract::Packed
pub fn pack<T: serde::Serialize + ?Sized>(data: &T) -> Vec<u8> {
    let mut packed = Vec::new();
    if write_packed(&mut packed, data).is_err() {
        packed.clear();
    }
    packed
}

/// Appends the positional MessagePack of `data` to `out`, with every field written.
fn write_packed<T: serde::Serialize + ?Sized>(
    out: &mut Vec<u8>,
    data: &T,
) -> Result<(), rmp_serde::encode::Error> {
    let _every_field = EveryField(WRITING_EVERY_FIELD.replace(true));
    rmp_serde::encode::write(out, data)
}

/// [`pack`] into a box of the encoding's exact size. Encoding into a fresh vector grew it a
/// step at a time and then shrank it into the box, each step a reallocation and a copy: a
/// thread's scratch vector keeping its room between values took 1.5 % off the instructions of
/// a cold run over the benchmark corpus (59.97 → 59.07 G); the box is one allocation and one
/// copy.
pub fn pack_boxed<T: serde::Serialize + ?Sized>(data: &T) -> Box<[u8]> {
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    /// The most room the scratch vector keeps between values.
    const RETAINED_BYTES: usize = 1 << 20;
    SCRATCH.with(|scratch| {
        // A value being packed while another is (no serializer does so) gets its own vector.
        let Ok(mut scratch) = scratch.try_borrow_mut() else {
            return pack(data).into_boxed_slice();
        };
        scratch.clear();
        let packed: Box<[u8]> = match write_packed(&mut scratch, data) {
            Ok(()) => Box::from(scratch.as_slice()),
            Err(_) => Box::default(),
        };
        if scratch.capacity() > RETAINED_BYTES {
            *scratch = Vec::new();
        }
        packed
    })
}

/// Whether the positional form is being written, in which a [`Packed`] value writes its bytes
/// as they are (elsewhere it writes the value).
///
/// [`Packed`]: crate::extract::Packed
pub fn writing_positionally() -> bool {
    WRITING_EVERY_FIELD.get()
}

/// The value [`pack`] gave `bytes` for, or `None` if they are not one.
pub fn unpack<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    rmp_serde::from_slice(bytes).ok()
}

/// [`encode`] with named fields, for bytes that another build may read: an index is published
/// by one knockon and read by the checks of others. A reader skips the fields it does not know
/// and takes the optional ones it misses as absent, where a position would shift with every
/// field added. The cache uses [`encode`]: its keys hold the build ([`fingerprint`]).
pub fn encode_named<T: serde::Serialize + ?Sized>(data: &T) -> Vec<u8> {
    compress(
        rmp_serde::to_vec_named(data).unwrap_or_default(),
        Checksum::Fnv1a,
    )
}

/// How the stored form is checksummed. Bytes only this build reads (the cache's) end with a
/// CRC-32, which the CPU computes many bytes at a time: FNV-1a, a multiplication per byte, was
/// a tenth of decoding a warm check's facts. Bytes other builds read (an index's) keep FNV-1a,
/// which every build since the index began checks; [`decode`] accepts either.
#[derive(Clone, Copy)]
enum Checksum {
    Crc32,
    Fnv1a,
}

impl Checksum {
    fn of(self, bytes: &[u8]) -> u64 {
        match self {
            Checksum::Crc32 => u64::from(crc32fast::hash(bytes)),
            Checksum::Fnv1a => fnv1a(bytes),
        }
    }
}

/// The stored form of MessagePack bytes: their size, the LZ4 block, the checksum.
// Serializing plain data into a Vec cannot fail: every type derives Serialize with string
// keys, and there is no writer error. Should it ever fail, the empty input gives empty bytes,
// a Truncated error on decode, which the cache treats as a miss.
fn compress(packed: Vec<u8>, checksum: Checksum) -> Vec<u8> {
    let Ok(size) = u32::try_from(packed.len()) else {
        return Vec::new();
    };
    if size == 0 {
        return Vec::new();
    }
    let mut bytes = size.to_le_bytes().to_vec();
    bytes.extend_from_slice(&lz4_flex::block::compress(&packed));
    let sum = checksum.of(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    bytes
}

/// The facts `bytes` encode, or why they do not.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let body = checked_body(bytes)?;
    let (size, block) = body.split_at(SIZE_LEN);
    let mut size_bytes = [0u8; SIZE_LEN];
    size_bytes.copy_from_slice(size);
    let size = usize::try_from(u32::from_le_bytes(size_bytes)).unwrap_or(usize::MAX);
    if size > MAX_DECODED_BYTES {
        return Err(CodecError::Decompress(format!("{size} bytes is too large")));
    }
    let packed = lz4_flex::block::decompress(block, size)
        .map_err(|e| CodecError::Decompress(e.to_string()))?;
    Ok(rmp_serde::from_slice(&packed)?)
}

/// Whether `bytes` are whole as [`encode`] wrote them (their checksum holds), without
/// decoding them: a stored world checks the parts it does not read too.
pub fn is_sound(bytes: &[u8]) -> bool {
    checked_body(bytes).is_ok()
}

/// The size and block of `bytes`, once their checksum holds.
fn checked_body(bytes: &[u8]) -> Result<&[u8], CodecError> {
    if bytes.len() <= SIZE_LEN + CHECKSUM_LEN {
        return Err(CodecError::Truncated(bytes.len()));
    }
    let (body, sum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    let mut expected = [0u8; CHECKSUM_LEN];
    expected.copy_from_slice(sum);
    let expected = u64::from_le_bytes(expected);
    // A CRC-32 fills only the low half of the field: a sum with its high half set is FNV-1a's.
    let sound = (expected >> 32 == 0 && Checksum::Crc32.of(body) == expected)
        || Checksum::Fnv1a.of(body) == expected;
    if sound {
        Ok(body)
    } else {
        Err(CodecError::Checksum)
    }
}

/// What the facts of a file depend on besides its path and bytes: the knockon version, the
/// codec version, the executable (so a rebuilt binary with changed extractors never reads the
/// facts of the old one, even under the same version number) and every model file loaded, by
/// name and content. A hex SHA-1; every cache key holds it.
pub fn fingerprint(models: &Models) -> String {
    let mut text = format!(
        "knockon {}\ncodec {CODEC_VERSION}\nbuild {}\n",
        env!("CARGO_PKG_VERSION"),
        build_identity()
    );
    for (name, digest) in &models.sources {
        text.push_str("model ");
        text.push_str(name);
        text.push(' ');
        text.push_str(digest);
        text.push('\n');
    }
    crate::digest::blob_id(text.as_bytes())
}

/// The running executable's path, size and modification time: a new build is a new identity.
/// Empty when the executable cannot be inspected, so the version alone identifies the build.
fn build_identity() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return String::new();
    };
    let Ok(meta) = std::fs::metadata(&exe) else {
        return String::new();
    };
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{} {} {modified}", exe.display(), meta.len())
}

/// FNV-1a, 64 bits: catches a damaged entry (a flipped or lost byte), not an adversary — the
/// cache directory is the user's own.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{self, FileFacts};
    use crate::scenario::Scenario;

    fn scenario_files() -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/scenarios");
        let mut files = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "scenario"))
            .collect();
        entries.sort();
        for path in entries {
            let text = std::fs::read_to_string(&path).unwrap();
            let scenario = Scenario::parse(&text)
                .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.message));
            for repo in &scenario.repos {
                for (name, content) in repo.base.iter().chain(&repo.head) {
                    files.push((name.clone(), content.clone()));
                }
            }
        }
        files
    }

    /// The facts of one sample file, extracted with the built-in models.
    fn extracted(path: &str, text: &str) -> FileFacts {
        let models = Models::builtin().unwrap();
        extract::extract(path, text.as_bytes(), &models).unwrap()
    }

    #[test]
    fn packing_into_the_scratch_vector_gives_the_bytes_of_a_fresh_one() {
        let models = Models::builtin().unwrap();
        let facts: Vec<(String, FileFacts)> = scenario_files()
            .into_iter()
            .filter_map(|(name, content)| {
                let facts = extract::extract(&name, content.as_bytes(), &models)?;
                Some((name, facts))
            })
            .collect();
        assert!(facts.len() > 50);
        // Largest first, so each value is written over the longer bytes of the one before.
        let mut by_size: Vec<&(String, FileFacts)> = facts.iter().collect();
        by_size.sort_by_key(|(_, facts)| std::cmp::Reverse(pack(facts).len()));
        for (name, facts) in by_size {
            let boxed = pack_boxed(facts);
            assert_eq!(&*boxed, pack(facts).as_slice(), "{name}");
            let back: FileFacts = unpack(&boxed).unwrap();
            assert_eq!(&back, facts, "{name}");
        }
        assert_eq!(
            &*pack_boxed(&Vec::<u32>::new()),
            pack(&Vec::<u32>::new()).as_slice()
        );
    }

    #[test]
    fn every_scenario_file_round_trips() {
        let models = Models::builtin().unwrap();
        let files = scenario_files();
        let mut decoded = 0;
        let mut skip_fields_seen = false;
        for (name, content) in &files {
            let Some(facts) = extract::extract(name, content.as_bytes(), &models) else {
                continue;
            };
            skip_fields_seen |= !facts.deployments.is_empty() || !facts.params.is_empty();
            // The positional form of the cache and the named form of indexes.
            for (form, bytes) in [
                ("positional", encode(&facts)),
                ("named", encode_named(&facts)),
            ] {
                let back: FileFacts =
                    decode(&bytes).unwrap_or_else(|e| panic!("{name} ({form}): {e}"));
                assert_eq!(back, facts, "{name} ({form})");
            }
            decoded += 1;
        }
        assert!(decoded > 300, "only {decoded} scenario files extracted");
        assert!(skip_fields_seen, "no file exercised the optional fields");
    }

    #[test]
    fn damaged_bytes_are_errors_not_facts() {
        let facts = extracted(
            "job.sh",
            "#!/bin/bash\nOUT=/srv/out\nrm -rf \"$OUT\"/*.csv\n",
        );
        assert!(matches!(
            decode::<FileFacts>(&[]),
            Err(CodecError::Truncated(0))
        ));
        // The cache's form (CRC-32) and an index's (FNV-1a) alike.
        for bytes in [encode(&facts), encode_named(&facts)] {
            assert_eq!(decode::<FileFacts>(&bytes).ok(), Some(facts.clone()));
            assert!(decode::<FileFacts>(&bytes[..bytes.len() / 2]).is_err());
            for i in [0, bytes.len() / 3, bytes.len() - 9, bytes.len() - 1] {
                let mut flipped = bytes.clone();
                flipped[i] ^= 0x20;
                assert!(
                    decode::<FileFacts>(&flipped).is_err(),
                    "flip at {i} decoded"
                );
            }
        }
        // Each form's own checksum: a CRC-32 in the low half, FNV-1a's filling both.
        let sum = |bytes: &[u8]| bytes[bytes.len() - 4..].to_vec();
        assert_eq!(sum(&encode(&facts)), vec![0; 4]);
        assert_ne!(sum(&encode_named(&facts)), vec![0; 4]);
        assert!(decode::<FileFacts>(b"garbage bytes, not a cache entry").is_err());
    }

    /// A damaged block under a checksum that holds (a collision, or bytes forged to pass)
    /// reaches the LZ4 decoder: it must answer with an error or some facts, never panic or
    /// read out of bounds, wherever the damage is.
    #[test]
    fn damaged_blocks_under_a_sound_checksum_never_panic() {
        let facts = extracted(
            "job.py",
            "import os\nOUT = '/srv/out'\nfor day in os.listdir(OUT):\n    open(f'{OUT}/{day}', 'w')\n",
        );
        let bytes = encode(&facts);
        let body_len = bytes.len() - CHECKSUM_LEN;
        let mut refused_by_the_block_decoder = 0;
        for at in SIZE_LEN..body_len {
            for damage in [0x01u8, 0x80, 0xff] {
                let mut body = bytes[..body_len].to_vec();
                body[at] ^= damage;
                let sum = Checksum::Crc32.of(&body);
                body.extend_from_slice(&sum.to_le_bytes());
                if let Err(CodecError::Decompress(_)) = decode::<FileFacts>(&body) {
                    refused_by_the_block_decoder += 1;
                }
            }
        }
        // The damage reached the block decoder, which refused it (the rest only changed a
        // literal byte of the facts, or broke the MessagePack under it).
        assert!(refused_by_the_block_decoder > 0);
    }

    /// Positional facts keep every field at its place: the fields `knockon facts` leaves out
    /// when empty are written, and only while encoding.
    #[test]
    fn positional_facts_write_every_field() {
        let mut facts = FileFacts::new("a.py", crate::extract::ScopeKind::Module);
        facts.calls.push(crate::extract::CallRef {
            scope: 0,
            line: 1,
            callee: "f".into(),
            args: Vec::new().into(),
        });
        let json = serde_json::to_value(&facts).unwrap();
        assert!(json.get("params").is_none() && json["calls"][0].get("args").is_none());
        let bytes = encode(&facts);
        assert_eq!(decode::<FileFacts>(&bytes).unwrap(), facts);
        // A left-out field ahead of others would shift them: a positional argument is written
        // as both of its places, its absent keyword first.
        let positional = crate::extract::CallArg {
            keyword: None,
            value: crate::expr::Expr::lit("/srv/out"),
        };
        let places: (Option<crate::expr::Text>, crate::expr::Expr) =
            decode(&encode(&positional)).unwrap();
        assert_eq!(places, (None, positional.value.clone()));
        assert!(
            serde_json::to_value(&positional)
                .unwrap()
                .get("keyword")
                .is_none()
        );
        // The flag is down again: JSON leaves the empty fields out as before.
        assert_eq!(serde_json::to_value(&facts).unwrap(), json);
    }

    /// A file's bindings come out of the cache as one packed list, read only when something
    /// looks a name up; whether any maps a container path is known without reading them.
    #[test]
    fn bindings_stay_packed_through_the_cache_and_path_mappings_are_flagged() {
        use crate::extract::Packed;
        let models = Models::builtin().unwrap();
        let compose = b"services:\n  worker:\n    image: w\n    volumes:\n      - ./data:/data\n";
        let script = b"import os\nOUT = '/srv/out'\nos.remove(OUT)\n";
        for (path, source, maps) in [
            ("docker-compose.yml", &compose[..], true),
            ("job.py", &script[..], false),
        ] {
            let facts = extract::extract(path, source, &models).unwrap();
            assert_eq!(facts.maps_paths, maps, "{path}");
            assert_eq!(facts.may_map_paths(), maps, "{path}");
            let back: FileFacts = decode(&encode(&facts)).unwrap();
            assert!(
                matches!(&back.bindings, Packed::Closed(_, read) if read.get().is_none()),
                "{path}: bindings decoded with the rest"
            );
            assert_eq!(back.may_map_paths(), maps, "{path}");
            assert!(!back.bindings.is_empty(), "{path}");
            assert_eq!(back, facts, "{path}");
            // An index's named form holds the list itself, which may map paths until read.
            let named: FileFacts = decode(&encode_named(&facts)).unwrap();
            assert!(named.bindings.is_open() && named.may_map_paths(), "{path}");
        }
    }

    /// An index's facts are read by other builds: one that added a field writes facts this
    /// build still reads.
    #[test]
    fn named_facts_read_with_fields_added_later() {
        #[derive(serde::Serialize)]
        struct Newer<'a> {
            #[serde(flatten)]
            facts: &'a FileFacts,
            added_later: Vec<u32>,
        }
        let models = Models::builtin().unwrap();
        let source = b"import os\nOUT = '/srv/out'\nos.remove(OUT)\n";
        let facts = extract::extract("job.py", source, &models).unwrap();
        assert!(!facts.bindings.is_empty() && !facts.accesses.is_empty());
        let newer = Newer {
            facts: &facts,
            added_later: vec![1, 2],
        };
        assert_eq!(decode::<FileFacts>(&encode_named(&newer)).unwrap(), facts);
        assert_eq!(decode::<FileFacts>(&encode_named(&facts)).unwrap(), facts);
    }

    #[test]
    fn fingerprint_follows_the_models() {
        let builtin = Models::builtin().unwrap();
        assert_eq!(fingerprint(&builtin), fingerprint(&builtin.clone()));
        let mut more = builtin.clone();
        more.load_file(
            "extra.toml",
            "schema = 1\nlanguage = \"bash\"\n[[command]]\nnames = [\"mytool\"]\n\
             operands = [{ select = \"all\", mode = \"read\" }]\n",
        )
        .unwrap_or_else(|e| panic!("{}", e));
        assert_ne!(fingerprint(&builtin), fingerprint(&more));
        assert_eq!(fingerprint(&builtin).len(), 40);
    }
}
