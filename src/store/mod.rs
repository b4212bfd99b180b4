//! Store: extracted facts kept between runs.
//!
//! Input: [`FileFacts`](crate::extract::FileFacts) and what they were extracted from. Output:
//! bytes ([`codec`]), and a content cache keyed by what facts depend on ([`cache`]); the
//! `knockon cache` command ([`command`]).
//!
//! Invariants: facts read back are equal to the facts a fresh extraction gives, or they are not
//! read back at all (a miss); nothing here can make a run fail — a cache that cannot be opened,
//! read or written is a warning and the run extracts as if there were no cache. Only a bad
//! setting (`KNOCKON_CACHE_MAX_BYTES=lots`) is an error, as any bad input is.

pub mod cache;
pub mod codec;
pub mod command;
pub mod loads;
pub mod world;

pub use cache::Cache;
pub use codec::{CodecError, decode, encode, encode_named, fingerprint};

use crate::error::Error;
use std::ffi::OsString;
use std::path::Path;

/// The environment variable bounding the cache's size (`512M`, `1G`, bytes).
pub const MAX_BYTES_ENV: &str = "KNOCKON_CACHE_MAX_BYTES";

/// The cache a command uses, from its `--cache DIR` / `--no-cache` flags and the environment;
/// `None` when the cache is off.
pub fn open(flag: Option<&Path>, no_cache: bool) -> Result<Option<Cache>, Error> {
    open_with(flag, no_cache, |name| std::env::var_os(name))
}

/// [`open`] with the environment given (for tests).
pub fn open_with(
    flag: Option<&Path>,
    no_cache: bool,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Option<Cache>, Error> {
    let Some(dir) = cache::location(flag, no_cache, &env) else {
        return Ok(None);
    };
    let max_bytes = max_bytes(&env)?;
    Ok(Some(Cache::open(&dir, max_bytes)))
}

/// The bound on the cache's size: `KNOCKON_CACHE_MAX_BYTES`, else [`cache::DEFAULT_MAX_BYTES`].
pub fn max_bytes(env: impl Fn(&str) -> Option<OsString>) -> Result<u64, Error> {
    match env(MAX_BYTES_ENV).filter(|v| !v.is_empty()) {
        None => Ok(cache::DEFAULT_MAX_BYTES),
        Some(value) => cache::parse_size(&value.to_string_lossy())
            .map_err(|e| Error::Usage(format!("{MAX_BYTES_ENV}: {e}"))),
    }
}

/// Prints the cache's warnings to standard error, one line each.
pub fn print_warnings(cache: Option<&mut Cache>) {
    if let Some(cache) = cache {
        for warning in cache.take_warnings() {
            crate::error::print_line(&warning);
        }
    }
}
