//! Whole-world resolutions kept between runs.
//!
//! Extracted facts are cached per file, but resolving them (following names through imports,
//! linking jobs, evaluating every access) is about half of a cold run, and it depends on every
//! file of every repository at once. So a world's resolution is kept too, under a key of all
//! that it depends on: the build and models ([`super::fingerprint`]), the variables the
//! configuration binds, and each repository's name with every file's path and content key in
//! order. A run over an unchanged workspace then reads one entry instead of extracting,
//! decoding and resolving thousands of files; any changed, added or removed file is another
//! key, so a cached world is never stale, only missing.
//!
//! Stored form: the world without its accesses, then which repository each chunk of
//! accesses holds, then the accesses in chunks (each one repository's: [`chunk_ranges`]), each
//! part encoded on its own ([`codec::encode`]: compressed and checksummed) and framed by
//! [`join_parts`]. A new change's check resolves its head world and keeps it before it can
//! compare; encoding the accesses (thousands, each with its patterns) as one MessagePack and
//! one LZ4 block kept one core busy for a tenth of such a check, and chunks encode (and decode)
//! on every core. The next check's base is that world: a check that resolves its head reads it
//! whole, for the context's answers too ([`read_beside`]), and when its head takes them, the
//! head keeps their chunks' bytes as they are ([`keep_head`]); one whose head world is kept
//! needs only the changed repository's accesses, and the chunk list lets it decode those
//! chunks alone ([`read_accesses_of`]).
//!
//! Invariants: what [`read`] returns is what resolving the same world afresh gives (the codec
//! round-trips every type exactly; tested over every scenario); a damaged entry, a damaged
//! frame or a missing part is a miss.

use super::{Cache, codec};
use crate::load::Snapshot;
use crate::resolve::{Access, Resolved};
use std::collections::BTreeMap;

/// A world's resolution and how many files had facts (the report's "files analysed").
#[derive(serde::Serialize, serde::Deserialize)]
pub struct StoredWorld {
    pub resolved: Resolved,
    pub files_analysed: usize,
    /// For a check's head world: the digest of what its context's answers took from the
    /// changed repository, which the next check compares with its own head's to take those
    /// answers instead of resolving them ([`crate::resolve::resolve_head`]).
    pub context_inputs: Option<Vec<u8>>,
    /// The stored chunks of accesses, each one repository's, as they were read: a check whose
    /// head takes the context's answers from this world keeps those chunks' bytes as they are
    /// ([`keep_head`]). Only a world read whole ([`read_beside`]) has them.
    #[serde(skip)]
    pub chunks: Option<Chunks>,
}

/// A stored world's chunks of accesses, for keeping them again without encoding them (see
/// [`StoredWorld::chunks`]).
pub struct Chunks {
    /// The stored world's bytes.
    bytes: Vec<u8>,
    /// Each chunk in order: the repository whose accesses it holds, how many, and where its
    /// bytes are.
    parts: Vec<(String, usize, std::ops::Range<usize>)>,
}

impl Chunks {
    /// The chunks of every repository but `changed`, in order.
    pub fn without(mut self, changed: &str) -> Chunks {
        self.parts.retain(|(repo, _, _)| repo != changed);
        self
    }

    /// How many accesses the chunks hold.
    fn accesses(&self) -> usize {
        self.parts.iter().map(|(_, count, _)| count).sum()
    }
}

/// The key of the world made of `repos` (name and snapshot, in the order they are resolved),
/// resolved with `env` by the build and models of `fingerprint`; `scope` is the index of the
/// one repository whose accesses were resolved ([`crate::resolve::resolve_scoped`]), if only
/// one's were.
pub fn key(
    fingerprint: &str,
    env: &BTreeMap<String, String>,
    repos: &[(&str, &Snapshot)],
    scope: Option<usize>,
) -> Vec<u8> {
    let mut text = format!("world\0{fingerprint}\0");
    if let Some(scope) = scope {
        text.push_str(&format!("scope\0{scope}\0"));
    }
    for (name, value) in env {
        text.push_str(&format!("env\0{name}\0{value}\0"));
    }
    for (name, snapshot) in repos {
        text.push_str(&format!("repo\0{name}\0{}\0", snapshot.files.len()));
        for (path, content) in &snapshot.files {
            text.push_str(path);
            text.push('\0');
            text.push_str(&content.key);
            text.push('\0');
        }
    }
    crate::digest::blob_digest(text.as_bytes()).to_vec()
}

/// The world stored under `key`, if any and whole.
pub fn read(cache: &mut Cache, key: &[u8]) -> Option<StoredWorld> {
    let [world] = read_all(cache, &[key.to_vec()]);
    world
}

/// The world stored under `key` with the accesses of repository `repo` alone (in their
/// order), if any and whole; the rest of it (jobs, launches, sends, deployments, warnings) is
/// the whole world's. A check reads its base this way: it compares only the changed
/// repository's accesses, and decoding the context's too was most of reading the base.
pub fn read_accesses_of(cache: &mut Cache, key: &[u8], repo: &str) -> Option<StoredWorld> {
    let bytes = cache.get(key);
    let world = bytes.and_then(|bytes| decode(&bytes, Some(repo)));
    count(cache, world.is_some());
    world
}

/// The worlds stored under `keys`, each if any and whole; decoded in parallel (a check reads
/// its base and head worlds at once).
pub fn read_all<const N: usize>(
    cache: &mut Cache,
    keys: &[Vec<u8>; N],
) -> [Option<StoredWorld>; N] {
    use rayon::prelude::*;
    let bytes: Vec<Option<Vec<u8>>> = keys.iter().map(|key| cache.get(key)).collect();
    let mut decoded: Vec<Option<StoredWorld>> = bytes
        .into_par_iter()
        .map(|bytes| decode(&bytes?, None))
        .collect();
    let hits = decoded.iter().filter(|w| w.is_some()).count();
    cache.count_worlds(hits, N - hits);
    std::array::from_fn(|i| decoded.get_mut(i).and_then(Option::take))
}

/// [`read`], decoded on a thread of its own while the caller goes on: a new change's check
/// reads its base's world (the changed repository's accesses, and the context's answers its
/// head may take: [`crate::resolve::resolve_head`]) but must resolve its head's, and decoding
/// the one fits beside the head's extraction and linking. `None` when nothing is stored; a
/// damaged entry is `None` when joined. Either way the caller counts the lookup ([`count`])
/// once it knows whether a world came of it.
pub fn read_beside(
    cache: &mut Cache,
    key: &[u8],
) -> Option<std::thread::JoinHandle<Option<StoredWorld>>> {
    let bytes = cache.get(key)?;
    std::thread::Builder::new()
        .name("knockon-world".to_string())
        .spawn(move || decode_keeping_chunks(bytes))
        .ok()
}

/// [`decode`] of a whole world, keeping its chunks' bytes ([`StoredWorld::chunks`]).
fn decode_keeping_chunks(bytes: Vec<u8>) -> Option<StoredWorld> {
    let mut world = decode(&bytes, None)?;
    let parts = split_parts(&bytes)?;
    let holders = codec::decode::<Vec<Vec<String>>>(parts.get(1)?).ok()?;
    let stored = parts.get(2..)?;
    let accesses = &world.resolved.accesses;
    let ranges = chunk_ranges(accesses);
    // The chunks the encoder cut from these accesses, each one repository's: a world stored
    // otherwise keeps none.
    let cut_here = ranges.len() == stored.len()
        && ranges.iter().zip(&holders).all(|(range, repos)| {
            accesses
                .get(range.start)
                .is_some_and(|a| repos.as_slice() == [a.site.repo.as_str()])
        });
    if cut_here {
        let start = bytes.as_ptr() as usize;
        let parts = ranges
            .iter()
            .zip(stored)
            .filter_map(|(range, part)| {
                let repo = accesses.get(range.start)?.site.repo.clone();
                let at = (part.as_ptr() as usize).checked_sub(start)?;
                Some((repo, range.len(), at..at + part.len()))
            })
            .collect();
        world.chunks = Some(Chunks { bytes, parts });
    }
    Some(world)
}

/// Counts one lookup of a world read with [`read_beside`] as a hit or a miss.
pub fn count(cache: &mut Cache, hit: bool) {
    cache.count_worlds(usize::from(hit), usize::from(!hit));
}

/// Stores a world's resolution under `key`. Its accesses are lent to the encoding and put
/// back: the rest of the world is written without them.
pub fn keep(cache: &mut Cache, key: Vec<u8>, resolved: &mut Resolved, files_analysed: usize) {
    keep_head(cache, key, resolved, files_analysed, None, None);
}

/// [`keep`], for a check's head world, with the digest of its context's inputs, and when its
/// context's answers were taken from a stored world, that world's chunks of them
/// ([`Chunks::without`] the changed repository): their bytes are kept as they are, for they
/// are what encoding those accesses again would give.
pub fn keep_head(
    cache: &mut Cache,
    key: Vec<u8>,
    resolved: &mut Resolved,
    files_analysed: usize,
    context_inputs: Option<&[u8]>,
    taken: Option<&Chunks>,
) {
    cache.keep(key, encode(resolved, files_analysed, context_inputs, taken));
}

/// How many accesses one part holds at most: a few hundred kilobytes of MessagePack, enough
/// parts for every core and few enough that LZ4 still finds the repeats within each.
const ACCESSES_PER_PART: usize = 1024;

/// Where the chunks of `accesses` start and end: at each change of repository, so that each
/// chunk holds one repository's (and another world with the same accesses of a repository
/// has the same chunks of them), and after every [`ACCESSES_PER_PART`].
fn chunk_ranges(accesses: &[Access]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    for at in 1..=accesses.len() {
        let ends = at == accesses.len()
            || at - start == ACCESSES_PER_PART
            || accesses.get(at).map(|a| &a.site.repo) != accesses.get(at - 1).map(|a| &a.site.repo);
        if ends {
            ranges.push(start..at);
            start = at;
        }
    }
    ranges
}

/// How many of `accesses`, from the start, are not in `taken`: `None` unless the rest are
/// cut into exactly `taken`'s chunks (the same repositories and counts, after a change of
/// repository), so that its bytes are theirs.
fn fresh_before(accesses: &[Access], taken: &Chunks) -> Option<usize> {
    let fresh = accesses.len().checked_sub(taken.accesses())?;
    let (before, rest) = accesses.split_at(fresh);
    if let (Some(last), Some(first)) = (before.last(), rest.first())
        && last.site.repo == first.site.repo
    {
        return None;
    }
    let ranges = chunk_ranges(rest);
    let same = ranges.len() == taken.parts.len()
        && ranges
            .iter()
            .zip(&taken.parts)
            .all(|(range, (repo, count, _))| {
                range.len() == *count && rest.get(range.start).is_some_and(|a| &a.site.repo == repo)
            });
    same.then_some(fresh)
}

/// The stored form of a world (see the module).
fn encode(
    resolved: &mut Resolved,
    files_analysed: usize,
    context_inputs: Option<&[u8]>,
    taken: Option<&Chunks>,
) -> Vec<u8> {
    use rayon::prelude::*;
    let accesses = std::mem::take(&mut resolved.accesses);
    // The taken chunks are stored only when the accesses end with exactly theirs.
    let (fresh, taken) = match taken.and_then(|t| Some((fresh_before(&accesses, t)?, t))) {
        Some((fresh, taken)) => (fresh, Some(taken)),
        None => (accesses.len(), None),
    };
    let ranges = chunk_ranges(&accesses[..fresh]);
    let mut holders: Vec<Vec<&str>> = ranges
        .iter()
        .filter_map(|range| accesses.get(range.start))
        .map(|a| vec![a.site.repo.as_str()])
        .collect();
    for (repo, _, _) in taken.iter().flat_map(|t| &t.parts) {
        holders.push(vec![repo.as_str()]);
    }
    let (head, (holders, chunks)) = rayon::join(
        || {
            codec::encode(&Keeping {
                resolved,
                files_analysed,
                context_inputs,
            })
        },
        || {
            rayon::join(
                || codec::encode(&holders),
                || {
                    ranges
                        .par_iter()
                        .map(|range| codec::encode(&accesses[range.clone()]))
                        .collect::<Vec<_>>()
                },
            )
        },
    );
    resolved.accesses = accesses;
    let mut parts: Vec<&[u8]> = vec![&head, &holders];
    parts.extend(chunks.iter().map(Vec::as_slice));
    if let Some(taken) = taken {
        parts.extend(
            taken
                .parts
                .iter()
                .filter_map(|(_, _, range)| taken.bytes.get(range.clone())),
        );
    }
    join_parts(&parts)
}

/// The world `bytes` store, or `None` if they are not a whole one; with `only`, the accesses
/// of that repository alone (the chunks holding none of them are not decoded).
fn decode(bytes: &[u8], only: Option<&str>) -> Option<StoredWorld> {
    use rayon::prelude::*;
    let parts = split_parts(bytes)?;
    let [head, holders, chunks @ ..] = parts.as_slice() else {
        return None;
    };
    let holders = codec::decode::<Vec<Vec<String>>>(holders).ok()?;
    if holders.len() != chunks.len() {
        return None;
    }
    // Every chunk is checked for damage (its checksum), even one that is not decoded: a
    // damaged entry is a miss whatever part of it is read.
    let wanted = |i: usize| {
        only.is_none_or(|repo| holders.get(i).is_some_and(|h| h.iter().any(|r| r == repo)))
    };
    let (world, chunks) = rayon::join(
        || codec::decode::<StoredWorld>(head).ok(),
        || {
            chunks
                .par_iter()
                .enumerate()
                .map(|(i, chunk)| {
                    if wanted(i) {
                        codec::decode::<Vec<Access>>(chunk).ok()
                    } else {
                        codec::is_sound(chunk).then(Vec::new)
                    }
                })
                .collect::<Option<Vec<_>>>()
        },
    );
    let (mut world, chunks) = (world?, chunks?);
    let accesses = &mut world.resolved.accesses;
    accesses.reserve_exact(chunks.iter().map(Vec::len).sum());
    for chunk in chunks {
        match only {
            Some(repo) => accesses.extend(chunk.into_iter().filter(|a| a.site.repo == repo)),
            None => accesses.extend(chunk),
        }
    }
    Some(world)
}

/// Marks the framed form, so that bytes of another form are a miss.
const FRAME_MAGIC: &[u8; 4] = b"kwp2";

/// `parts` in one byte string: the magic, the count, then each part's length and bytes
/// (lengths as 4-byte little-endian numbers).
fn join_parts(parts: &[&[u8]]) -> Vec<u8> {
    let total = parts.iter().map(|p| p.len() + 4).sum::<usize>() + 8;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(FRAME_MAGIC);
    let length = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    out.extend_from_slice(&length(parts.len()));
    for part in parts {
        out.extend_from_slice(&length(part.len()));
        out.extend_from_slice(part);
    }
    out
}

/// The parts [`join_parts`] framed, or `None` for bytes it did not write whole (each part
/// carries its own checksum; the frame only has to add up).
fn split_parts(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    fn number(bytes: &mut &[u8]) -> Option<usize> {
        let (head, rest) = bytes.split_first_chunk::<4>()?;
        *bytes = rest;
        usize::try_from(u32::from_le_bytes(*head)).ok()
    }
    let mut rest = bytes.strip_prefix(FRAME_MAGIC.as_slice())?;
    let count = number(&mut rest)?;
    // No more parts than the bytes could hold: a damaged count asks for no large allocation.
    let mut parts = Vec::with_capacity(count.min(rest.len() / 4));
    for _ in 0..count {
        let length = number(&mut rest)?;
        let (part, after) = rest.split_at_checked(length)?;
        parts.push(part);
        rest = after;
    }
    rest.is_empty().then_some(parts)
}

/// [`StoredWorld`] borrowed, for writing it without a copy: the same fields, the same bytes.
#[derive(serde::Serialize)]
struct Keeping<'a> {
    resolved: &'a Resolved,
    files_analysed: usize,
    context_inputs: Option<&'a [u8]>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::FileContent;
    use crate::resolve::RepoFacts;
    use crate::rules::models::Models;
    use crate::scenario::Scenario;
    use std::sync::Arc;

    /// Every scenario's head world, resolved, as (name, repositories).
    fn scenario_worlds(models: &Models) -> Vec<(String, Vec<RepoFacts>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/scenarios");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "scenario"))
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|path| {
                let scenario = Scenario::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
                let repos = scenario
                    .repos
                    .iter()
                    .map(|repo| RepoFacts {
                        name: repo.name.clone(),
                        files: repo
                            .head
                            .iter()
                            .filter_map(|(name, text)| {
                                let facts = crate::extract::extract(name, text.as_bytes(), models)?;
                                Some((name.clone(), Arc::new(facts)))
                            })
                            .collect(),
                    })
                    .collect();
                (path.display().to_string(), repos)
            })
            .collect()
    }

    #[test]
    fn every_scenario_world_reads_back_exactly() {
        let models = Models::builtin().unwrap();
        let mut with_accesses = 0;
        for (name, repos) in scenario_worlds(&models) {
            let resolved = crate::resolve::resolve(&repos, &BTreeMap::new());
            with_accesses += usize::from(!resolved.accesses.is_empty());
            let mut resolved = resolved;
            let bytes = encode(&mut resolved, 7, Some(b"inputs"), None);
            let Some(mut back) = decode(&bytes, None) else {
                panic!("{name}: the stored world does not read back");
            };
            assert_eq!(back.files_analysed, 7);
            assert_eq!(back.context_inputs.as_deref(), Some(b"inputs".as_slice()));
            // Every field, the automata of patterns included: the bytes are the same again.
            assert_eq!(
                encode(&mut back.resolved, 7, Some(b"inputs"), None),
                bytes,
                "{name}"
            );
            assert_eq!(
                format!("{:?}", back.resolved),
                format!("{resolved:?}"),
                "{name}"
            );
            // Patterns still answer as the fresh ones do.
            for (a, b) in back.resolved.accesses.iter().zip(&resolved.accesses) {
                if let (Some(x), Some(y)) = (a.resource.as_path(), b.resource.as_path()) {
                    for p in &y.patterns {
                        assert!(x.covers(p) && x.overlaps(p), "{name}: {}", y.display);
                    }
                }
            }
        }
        assert!(
            with_accesses > 80,
            "only {with_accesses} worlds with accesses"
        );
    }

    /// A world of `count` accesses, copies of a scenario's told apart by their lines.
    fn world_of(count: usize) -> Resolved {
        let models = Models::builtin().unwrap();
        let mut resolved = scenario_worlds(&models)
            .into_iter()
            .map(|(_, repos)| crate::resolve::resolve(&repos, &BTreeMap::new()))
            .find(|r| r.accesses.len() > 2 && !r.jobs.is_empty())
            .unwrap();
        let seed = std::mem::take(&mut resolved.accesses);
        resolved.accesses = (0..count)
            .map(|i| {
                let mut access = seed[i % seed.len()].clone();
                access.site.line = u32::try_from(i).unwrap();
                access
            })
            .collect();
        resolved
    }

    /// [`join_parts`] of owned parts.
    fn framed(parts: &[Vec<u8>]) -> Vec<u8> {
        join_parts(&parts.iter().map(Vec::as_slice).collect::<Vec<_>>())
    }

    #[test]
    fn a_world_of_many_parts_reads_back_in_order_and_a_damaged_frame_is_a_miss() {
        let count = ACCESSES_PER_PART * 2 + 7;
        let mut resolved = world_of(count);
        for access in &mut resolved.accesses {
            access.site.repo = "ops".to_string();
        }
        let bytes = encode(&mut resolved, 3, None, None);
        // The accesses were lent and given back, in order.
        assert_eq!(resolved.accesses.len(), count);
        let parts = split_parts(&bytes).unwrap();
        assert_eq!(
            parts.len(),
            5,
            "the rest of the world, the chunks' repositories and three chunks"
        );
        let back = decode(&bytes, None).unwrap();
        assert_eq!(format!("{:?}", back.resolved), format!("{resolved:?}"));
        let lines: Vec<u32> = back.resolved.accesses.iter().map(|a| a.site.line).collect();
        assert_eq!(
            lines,
            (0..u32::try_from(count).unwrap()).collect::<Vec<_>>()
        );
        // Damage of every kind is a miss, never a panic or a partial world.
        assert!(
            decode(&bytes[..bytes.len() - 1], None).is_none(),
            "truncated"
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer, None).is_none(), "trailing bytes");
        // Cut at a part's boundary: the count still asks for the last part.
        let last = parts.last().map_or(0, |p| p.len() + 4);
        assert!(
            decode(&bytes[..bytes.len() - last], None).is_none(),
            "a part missing"
        );
        // Parts framed again in another order: each part decodes, the head part does not.
        let mut swapped: Vec<Vec<u8>> = parts.iter().map(|p| p.to_vec()).collect();
        swapped.swap(0, 2);
        assert!(
            decode(&framed(&swapped), None).is_none(),
            "parts out of order"
        );
        for at in [0, 4, 8, 12, bytes.len() / 2, bytes.len() - 1] {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x5a;
            assert!(decode(&flipped, None).is_none(), "a byte flipped at {at}");
        }
        let mut huge_count = bytes.clone();
        huge_count[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge_count, None).is_none());
        // The form before parts (one encoded world) is a miss too.
        let whole = codec::encode(&Keeping {
            resolved: &resolved,
            files_analysed: 3,
            context_inputs: None,
        });
        assert!(decode(&whole, None).is_none());
    }

    #[test]
    fn a_base_reads_the_changed_repositorys_accesses_alone_without_decoding_the_others() {
        // Two repositories' accesses: "ops" in the first chunk and the last, "web" filling
        // the chunks between (a world lists the changed repository first and the accesses
        // that waits add at the end).
        let count = ACCESSES_PER_PART * 3 + 5;
        let mut resolved = world_of(count);
        for (i, access) in resolved.accesses.iter_mut().enumerate() {
            let ops = !(10..ACCESSES_PER_PART * 3).contains(&i);
            access.site.repo = if ops { "ops" } else { "web" }.to_string();
        }
        let bytes = encode(&mut resolved, 3, None, None);
        let ops_lines = |world: &StoredWorld| -> Vec<u32> {
            world
                .resolved
                .accesses
                .iter()
                .map(|a| a.site.line)
                .collect()
        };
        let only_ops = decode(&bytes, Some("ops")).unwrap();
        let expected: Vec<u32> = (0..10)
            .chain(ACCESSES_PER_PART * 3..count)
            .map(|i| u32::try_from(i).unwrap())
            .collect();
        assert_eq!(ops_lines(&only_ops), expected);
        // The rest of the world is whole.
        assert_eq!(
            format!("{:?}", only_ops.resolved.jobs),
            format!("{:?}", resolved.jobs)
        );
        assert_eq!(only_ops.files_analysed, 3);
        let whole = decode(&bytes, None).unwrap();
        assert_eq!(whole.resolved.accesses.len(), count);
        assert!(
            decode(&bytes, Some("nobody"))
                .unwrap()
                .resolved
                .accesses
                .is_empty()
        );
        // A chunk of "web" alone that is sound but no list of accesses: reading "ops" does
        // not decode it, reading the whole world does and misses.
        let mut parts: Vec<Vec<u8>> = split_parts(&bytes)
            .unwrap()
            .iter()
            .map(|p| p.to_vec())
            .collect();
        parts[3] = codec::encode(&vec![1u32, 2, 3]);
        let foreign = framed(&parts);
        assert_eq!(ops_lines(&decode(&foreign, Some("ops")).unwrap()), expected);
        assert!(decode(&foreign, None).is_none());
        // A damaged chunk is a miss even when it is not decoded.
        let mut damaged = parts.clone();
        let middle = damaged[3].len() / 2;
        damaged[3][middle] ^= 0x5a;
        assert!(decode(&framed(&damaged), Some("ops")).is_none());
        // A chunk list that does not match the chunks is a miss.
        let mut short = parts.clone();
        short[1] = codec::encode(&vec![vec!["ops".to_string()]]);
        assert!(decode(&framed(&short), Some("ops")).is_none());
    }

    /// A head world that took its context's answers from a stored world keeps that world's
    /// chunks of them as they are, and its bytes are those of encoding it afresh; when the
    /// answers are not those chunks' (another count), it is encoded afresh.
    #[test]
    fn the_context_chunks_a_head_took_are_kept_as_they_are() {
        let count = ACCESSES_PER_PART * 2 + 40;
        let mut base = world_of(count);
        let repo_of = |i: usize| match i {
            0..20 => "ops",
            20..1500 => "web",
            _ => "db",
        };
        for (i, access) in base.accesses.iter_mut().enumerate() {
            access.site.repo = repo_of(i).to_string();
        }
        let stored = encode(&mut base, 3, Some(b"inputs"), None);
        let read = decode_keeping_chunks(stored.clone()).unwrap();
        let chunks = read.chunks.unwrap().without("ops");
        assert_eq!(
            chunks
                .parts
                .iter()
                .map(|p| (p.0.as_str(), p.1))
                .collect::<Vec<_>>(),
            [("web", 1024), ("web", 456), ("db", 588)]
        );
        // The head: the changed repository's own accesses (more of them), then the context's.
        let mut head = base.clone();
        let mut changed: Vec<Access> = base.accesses[..20].to_vec();
        changed.extend(base.accesses[..5].iter().cloned());
        let context: Vec<Access> = read
            .resolved
            .accesses
            .into_iter()
            .filter(|a| a.site.repo != "ops")
            .collect();
        head.accesses = changed.into_iter().chain(context).collect();
        let afresh = encode(&mut head, 9, Some(b"head"), None);
        assert_eq!(encode(&mut head, 9, Some(b"head"), Some(&chunks)), afresh);
        // The taken chunks' bytes are copied, not encoded again: chunks of other accesses
        // (the same repositories and counts) would be stored as they are.
        let mut other = base.clone();
        for access in &mut other.accesses {
            access.site.line += 1;
        }
        let other_chunks = decode_keeping_chunks(encode(&mut other, 3, None, None))
            .unwrap()
            .chunks
            .unwrap()
            .without("ops");
        let copied = encode(&mut head, 9, Some(b"head"), Some(&other_chunks));
        assert_ne!(copied, afresh);
        let lines: Vec<u32> = decode(&copied, Some("db"))
            .unwrap()
            .resolved
            .accesses
            .iter()
            .map(|a| a.site.line)
            .collect();
        assert_eq!(lines.first(), Some(&1501));
        // Answers that are not the chunks' (one access fewer; as many, but one of another
        // repository): encoded afresh.
        head.accesses.pop();
        let shorter = encode(&mut head, 9, Some(b"head"), None);
        assert_eq!(encode(&mut head, 9, Some(b"head"), Some(&chunks)), shorter);
        head.accesses.push(base.accesses[count - 1].clone());
        let last_web = 25 + 1479;
        head.accesses[last_web].site.repo = "db".to_string();
        let moved = encode(&mut head, 9, Some(b"head"), None);
        assert_eq!(encode(&mut head, 9, Some(b"head"), Some(&chunks)), moved);
        // A head without accesses stores none of the chunks.
        head.accesses.clear();
        let empty = encode(&mut head, 9, Some(b"head"), None);
        assert_eq!(encode(&mut head, 9, Some(b"head"), Some(&chunks)), empty);
    }

    #[test]
    fn the_key_changes_with_any_file_the_env_or_the_models() {
        let snapshot = |files: &[(&str, &[u8])]| crate::load::Snapshot {
            files: files
                .iter()
                .map(|(p, b)| (p.to_string(), FileContent::new(b.to_vec())))
                .collect(),
            ..Default::default()
        };
        let env = BTreeMap::new();
        let a = snapshot(&[("run.sh", b"rm /tmp/x\n")]);
        let edited = snapshot(&[("run.sh", b"rm /tmp/y\n")]);
        let renamed = snapshot(&[("go.sh", b"rm /tmp/x\n")]);
        let key_of = |s: &crate::load::Snapshot, env: &BTreeMap<String, String>, fp: &str| {
            key(fp, env, &[("ops", s)], None)
        };
        let base = key_of(&a, &env, "fp");
        assert_eq!(base, key_of(&a.clone(), &env, "fp"));
        assert_ne!(base, key_of(&edited, &env, "fp"));
        assert_ne!(base, key_of(&renamed, &env, "fp"));
        assert_ne!(base, key_of(&a, &env, "other models"));
        let bound = BTreeMap::from([("OUT".to_string(), "/srv".to_string())]);
        assert_ne!(base, key_of(&a, &bound, "fp"));
        assert_ne!(base, key("fp", &env, &[("another-name", &a)], None));
        // A world with one repository's accesses resolved is not the whole world.
        assert_ne!(base, key("fp", &env, &[("ops", &a)], Some(0)));
        // The same files split differently between repositories are another world.
        let both = snapshot(&[("run.sh", b"rm /tmp/x\n"), ("go.sh", b"rm /tmp/x\n")]);
        let split = key("fp", &env, &[("ops", &a), ("ops2", &renamed)], None);
        assert_ne!(key("fp", &env, &[("ops", &both)], None), split);
    }
}
