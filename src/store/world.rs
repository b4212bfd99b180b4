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
//! Invariants: what [`read`] returns is what resolving the same world afresh gives (the codec
//! round-trips every type exactly; tested over every scenario); a damaged entry is a miss.

use super::{Cache, codec};
use crate::load::Snapshot;
use crate::resolve::Resolved;
use std::collections::BTreeMap;

/// A world's resolution and how many files had facts (the report's "files analysed").
#[derive(serde::Serialize, serde::Deserialize)]
pub struct StoredWorld {
    pub resolved: Resolved,
    pub files_analysed: usize,
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
        .map(|bytes| codec::decode(&bytes?).ok())
        .collect();
    let hits = decoded.iter().filter(|w| w.is_some()).count();
    cache.count_worlds(hits, N - hits);
    std::array::from_fn(|i| decoded.get_mut(i).and_then(Option::take))
}

/// The world stored under `key`, decoded on a thread of its own while the caller goes on: a
/// new change's check reads its base's world but must resolve its head's, and decoding the one
/// (a tenth of such a check) fits in the head's stages that keep only one core busy. `None`
/// when nothing is stored; a damaged entry is `None` when joined. Either way the caller counts
/// the lookup ([`count`]) once it knows whether a world came of it.
pub fn read_beside(
    cache: &mut Cache,
    key: &[u8],
) -> Option<std::thread::JoinHandle<Option<StoredWorld>>> {
    let bytes = cache.get(key)?;
    std::thread::Builder::new()
        .name("knockon-world".to_string())
        .spawn(move || codec::decode(&bytes).ok())
        .ok()
}

/// Counts one lookup of a world read with [`read_beside`] as a hit or a miss.
pub fn count(cache: &mut Cache, hit: bool) {
    cache.count_worlds(usize::from(hit), usize::from(!hit));
}

/// Stores a world's resolution under `key`.
pub fn keep(cache: &mut Cache, key: Vec<u8>, resolved: &Resolved, files_analysed: usize) {
    let world = Keeping {
        resolved,
        files_analysed,
    };
    cache.keep(key, codec::encode(&world));
}

/// [`StoredWorld`] borrowed, for writing it without a copy: the same fields, the same bytes.
#[derive(serde::Serialize)]
struct Keeping<'a> {
    resolved: &'a Resolved,
    files_analysed: usize,
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
            let bytes = codec::encode(&Keeping {
                resolved: &resolved,
                files_analysed: 7,
            });
            let back: StoredWorld = codec::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(back.files_analysed, 7);
            // Every field, the automata of patterns included: the bytes are the same again.
            assert_eq!(codec::encode(&back), bytes, "{name}");
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
