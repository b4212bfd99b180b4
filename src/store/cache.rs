//! The content cache: facts of files already extracted, in an SQLite database between runs.
//!
//! Input: a run's extraction jobs, each keyed by (repository-relative path, git blob id), and the
//! extractor for the misses. Output: the facts of every job, the hits read back from
//! `DIR/facts.sqlite3` and the misses extracted and written there.
//!
//! Key: SHA-1 of (models fingerprint, path, blob id). Facts depend on the path beyond the
//! language (Python module names, `setup.py` console scripts, crontab and unit file names, the
//! template a file renders as), so the path is in the key; the [`fingerprint`](super::fingerprint)
//! covers the knockon build and the models. One table: key -> encoded facts, their size, the
//! last run that used them (seconds, refreshed at most once an hour so warm runs write little).
//!
//! Invariants: nothing here fails a run. The database is opened in WAL mode with a busy timeout,
//! so concurrent runs wait for each other's short write transactions; all of a run's lookups
//! are one read transaction and all of its writes one write transaction at the end, so a killed
//! run leaves the database as the last committed run left it. A database that is not one
//! (garbage bytes) or reports corruption is deleted and rebuilt with one warning; a failed write
//! (full disk, locked too long) is one warning and the run's facts are still the fresh ones; an
//! entry that does not decode is a miss. The used size is bounded: past `max_bytes` the least
//! recently used entries are deleted, down to 80% of it.

use crate::extract::FileFacts;
use crate::store::codec;
use rayon::prelude::*;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The database's file name inside the cache directory.
pub const DB_FILE: &str = "facts.sqlite3";
/// The bound on the database's size when none is configured.
pub const DEFAULT_MAX_BYTES: u64 = 512 << 20;
/// Layout of the tables; a database of another layout is emptied and rebuilt.
const SCHEMA: i64 = 2;
/// Files' facts encoded and written this many at a time: encoded all at once before the write,
/// every new file's bytes were held together (the peak of a cold run writing the cache over the
/// benchmark corpus was 151 MiB, 11 more than without the cache).
const ENCODE_BATCH: usize = 256;

/// How long a run waits for another run's write transaction before giving up on the cache.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// `last_used` is rewritten only when older than this, so a warm run does not rewrite every row.
const TOUCH_AFTER_SECS: i64 = 3600;
/// The WAL file is truncated to this after a checkpoint.
const WAL_LIMIT_BYTES: i64 = 64 << 20;
/// A run that leaves more than this in the WAL copies it into the database as it closes (see
/// [`Cache::settle_wal`]): a thousand pages, SQLite's own automatic threshold.
const WAL_SETTLE_BYTES: u64 = 4 << 20;
/// SQLite's automatic checkpoint, only a backstop now: runs that were killed before closing.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 16_384;

/// A job: (repository-relative path, git blob id of the content).
pub type JobKey = (String, String);

/// A stored entry as read: its encoded facts and when it was last used.
type Row = (Vec<u8>, i64);

/// Why the cache could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot create the cache directory {}: {source}", path.display())]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cache database {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

/// Where the cache lives, from (in this order) `--no-cache`, `--cache DIR`, `KNOCKON_CACHE` (a
/// directory; `off` or `0` disables), `$XDG_CACHE_HOME/knockon`, `$HOME/.cache/knockon`. `None`:
/// no cache (also when no directory can be determined — quietly, as on a locked-down CI runner).
pub fn location(
    flag: Option<&Path>,
    no_cache: bool,
    env: impl Fn(&str) -> Option<OsString>,
) -> Option<PathBuf> {
    if no_cache {
        return None;
    }
    if let Some(dir) = flag {
        return Some(dir.to_path_buf());
    }
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(value) = set("KNOCKON_CACHE") {
        if value == "off" || value == "0" {
            return None;
        }
        return Some(PathBuf::from(value));
    }
    // The XDG spec ignores a relative XDG_CACHE_HOME.
    if let Some(xdg) = set("XDG_CACHE_HOME").map(PathBuf::from)
        && xdg.is_absolute()
    {
        return Some(xdg.join("knockon"));
    }
    set("HOME")
        .map(PathBuf::from)
        .filter(|home| home.is_absolute())
        .map(|home| home.join(".cache").join("knockon"))
}

/// A size in bytes: `1048576`, `64K`, `512M`, `1G` (also `KiB`/`MiB`/`GiB`/`KB`/`MB`/`GB`,
/// all binary multiples).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (write 1048576, 64K, 512M or 1G)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("`{text}`: unknown size unit (use K, M or G)")),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// What `knockon cache stats` shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    pub path: PathBuf,
    pub entries: u64,
    /// Encoded facts, summed.
    pub entry_bytes: u64,
    /// The database's pages in use (what the bound applies to).
    pub used_bytes: u64,
    pub max_bytes: u64,
    /// Lookups over the database's life.
    pub hits: u64,
    pub misses: u64,
    /// Lookups of whole-world resolutions over the database's life.
    pub world_hits: u64,
    pub world_misses: u64,
}

/// What a run did with the cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub hits: usize,
    pub misses: usize,
    /// Entries deleted to keep under the bound.
    pub evicted: usize,
    /// Whole-world resolutions read back, and looked for in vain ([`super::world`]).
    pub world_hits: usize,
    pub world_misses: usize,
}

/// An open cache, or a closed one after a failure (then every lookup misses and nothing is
/// written). Warnings collect here for the command line to print.
pub struct Cache {
    conn: Option<Connection>,
    dir: PathBuf,
    max_bytes: u64,
    warnings: Vec<String>,
    last_run: RunCounts,
}

impl Drop for Cache {
    fn drop(&mut self) {
        self.settle_wal();
    }
}

impl Cache {
    /// Copies the WAL into the database and empties it, when this run leaves more than
    /// [`WAL_SETTLE_BYTES`] there (a cold run writes every file's facts: 18 MiB over the bench
    /// corpus). Otherwise the next run would pay for it: opening, it reads the whole WAL to
    /// index its pages, and its first commit would copy them (10 ms of a warm check). Best
    /// effort and never waiting: a concurrent run's reads or writes leave the WAL to a later
    /// close, and any error changes nothing.
    fn settle_wal(&mut self) {
        let Some(conn) = &self.conn else {
            return;
        };
        let wal = self.dir.join(format!("{DB_FILE}-wal"));
        if std::fs::metadata(&wal).map_or(true, |m| m.len() <= WAL_SETTLE_BYTES) {
            return;
        }
        if conn.busy_timeout(Duration::ZERO).is_ok() {
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    }

    /// Opens (creating) the cache in `dir`, bounded to `max_bytes`. Never fails: an unusable
    /// cache is a warning and a closed cache.
    pub fn open(dir: &Path, max_bytes: u64) -> Cache {
        let mut cache = Cache {
            conn: None,
            dir: dir.to_path_buf(),
            max_bytes,
            warnings: Vec::new(),
            last_run: RunCounts::default(),
        };
        match cache.connect() {
            Ok(conn) => cache.conn = Some(conn),
            Err(e) if is_damaged(&e) => cache.rebuild(&e),
            Err(e) => cache.warn(format!("{e}; running without the cache")),
        }
        cache
    }

    /// The database file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }

    /// Whether lookups can hit.
    pub fn is_open(&self) -> bool {
        self.conn.is_some()
    }

    /// The warnings so far, each one line, emptied.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Hits, misses and evictions of the last [`Cache::through`].
    pub fn last_run(&self) -> RunCounts {
        self.last_run
    }

    /// The facts of every job: hits read back, misses given to `extract` (all at once, so it
    /// runs them in parallel) and written back in one transaction; then the bound is enforced.
    /// The result is what `extract` would give for all the jobs. `fingerprint` identifies the
    /// build and models the facts come from ([`codec::fingerprint`]).
    pub fn through<C: Send>(
        &mut self,
        fingerprint: &str,
        jobs: HashMap<JobKey, C>,
        extract: impl FnOnce(HashMap<JobKey, C>) -> HashMap<JobKey, Arc<FileFacts>>,
    ) -> HashMap<JobKey, Arc<FileFacts>> {
        let keyed: Vec<(JobKey, C, Vec<u8>)> = jobs
            .into_iter()
            .map(|(job, content)| {
                let key = key(fingerprint, &job.0, &job.1);
                (job, content, key)
            })
            .collect();
        let keys: Vec<&[u8]> = keyed.iter().map(|(_, _, key)| key.as_slice()).collect();
        let decoded = self.lookup_decoded(&keys);
        let now = unix_now();
        let mut out = HashMap::with_capacity(keyed.len());
        let mut misses = HashMap::new();
        let mut miss_keys = HashMap::new();
        let mut touch = Vec::new();
        for ((job, content, key), hit) in keyed.into_iter().zip(decoded) {
            match hit {
                Some((facts, last_used)) => {
                    if last_used < now - TOUCH_AFTER_SECS {
                        touch.push(key);
                    }
                    out.insert(job, Arc::new(facts));
                }
                None => {
                    miss_keys.insert(job.clone(), key);
                    misses.insert(job, content);
                }
            }
        }
        let counts = RunCounts {
            hits: out.len(),
            misses: misses.len(),
            ..RunCounts::default()
        };
        let fresh = if misses.is_empty() {
            HashMap::new()
        } else {
            extract(misses)
        };
        // Encoded a batch at a time inside the write transaction, each batch's bytes let go
        // once written.
        let fresh_list: Vec<(&JobKey, &Arc<FileFacts>)> = fresh.iter().collect();
        let batches = fresh_list.chunks(ENCODE_BATCH).map(|batch| {
            batch
                .par_iter()
                .filter_map(|(job, facts)| {
                    let key = miss_keys.get(*job)?.clone();
                    Some((key, codec::encode(facts.as_ref())))
                })
                .collect::<Vec<_>>()
        });
        self.last_run = counts;
        self.store(batches, &touch, counts, now);
        out.extend(fresh);
        self.last_run.evicted = self.enforce_bound();
        out
    }

    /// The bytes [`Cache::keep`] stored under `key`, or `None`: a miss, or a cache that could
    /// not be read (a warning). Whole-world resolutions ([`super::world`]) are kept this way,
    /// beside file facts and under the same size bound.
    pub fn get(&mut self, key: &[u8]) -> Option<Vec<u8>> {
        let (data, last_used) = self.lookup(&[key]).pop().flatten()?;
        let now = unix_now();
        if last_used < now - TOUCH_AFTER_SECS {
            self.store(
                std::iter::empty(),
                &[key.to_vec()],
                RunCounts::default(),
                now,
            );
        }
        Some(data)
    }

    /// Adds a run's lookups of whole worlds to the database's counters.
    pub fn count_worlds(&mut self, hits: usize, misses: usize) {
        let counts = RunCounts {
            world_hits: hits,
            world_misses: misses,
            ..RunCounts::default()
        };
        self.store(std::iter::empty(), &[], counts, unix_now());
    }

    /// Stores `bytes` under `key` (replacing an equal entry a concurrent run wrote), then
    /// enforces the size bound; a failure is a warning.
    pub fn keep(&mut self, key: Vec<u8>, bytes: Vec<u8>) {
        self.store(
            std::iter::once(vec![(key, bytes)]),
            &[],
            RunCounts::default(),
            unix_now(),
        );
        self.enforce_bound();
    }

    /// Statistics of the database.
    pub fn stats(&self) -> Result<Stats, CacheError> {
        let Some(conn) = &self.conn else {
            return Ok(Stats {
                path: self.path(),
                entries: 0,
                entry_bytes: 0,
                used_bytes: 0,
                max_bytes: self.max_bytes,
                hits: 0,
                misses: 0,
                world_hits: 0,
                world_misses: 0,
            });
        };
        let sql = |e| self.error(e);
        let (entries, entry_bytes): (i64, i64) = conn
            .query_row(
                "SELECT count(*), coalesce(sum(size), 0) FROM facts",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sql)?;
        let counter = |name: &str| -> Result<i64, CacheError> {
            conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(sql)
        };
        Ok(Stats {
            path: self.path(),
            entries: to_u64(entries),
            entry_bytes: to_u64(entry_bytes),
            used_bytes: used_bytes(conn).map_err(sql)?,
            max_bytes: self.max_bytes,
            hits: to_u64(counter("hits")?),
            misses: to_u64(counter("misses")?),
            world_hits: to_u64(counter("world_hits")?),
            world_misses: to_u64(counter("world_misses")?),
        })
    }

    /// Deletes least recently used entries until the database uses at most `max_bytes`; the
    /// number of entries deleted.
    pub fn prune(&mut self, max_bytes: u64) -> Result<usize, CacheError> {
        let Some(conn) = &mut self.conn else {
            return Ok(0);
        };
        evict(conn, max_bytes, max_bytes).map_err(|e| self.error(e))
    }

    /// Deletes every entry and the counters.
    pub fn clear(&mut self) -> Result<(), CacheError> {
        let Some(conn) = &self.conn else {
            return Ok(());
        };
        let result = conn
            .execute_batch("DELETE FROM facts; DELETE FROM touched; DELETE FROM meta;")
            .and_then(|()| vacuum(conn));
        result.map_err(|e| self.error(e))
    }

    /// Each key's (facts, last used), read in one read transaction and decoded in parallel as
    /// the rows come: decoding is the bulk of a warm run's cache work, and reading the rows
    /// (one thread) a fifth of it. A row that does not decode is a miss; all are misses when
    /// the database cannot be read (then a warning, and a rebuild when it is damaged).
    fn lookup_decoded(&mut self, keys: &[&[u8]]) -> Vec<Option<(FileFacts, i64)>> {
        let decode = |(index, data, last_used): (usize, Vec<u8>, i64)| {
            codec::decode(&data)
                .ok()
                .map(|facts| (index, facts, last_used))
        };
        let Some(conn) = &self.conn else {
            return keys.iter().map(|_| None).collect();
        };
        let read = || -> rusqlite::Result<Vec<(usize, FileFacts, i64)>> {
            std::thread::scope(|scope| {
                let (rows, received) = std::sync::mpsc::channel();
                let decoding = std::thread::Builder::new()
                    .name("knockon-decode".to_string())
                    .spawn_scoped(scope, move || {
                        received
                            .into_iter()
                            .par_bridge()
                            .filter_map(decode)
                            .collect::<Vec<_>>()
                    });
                // Without a thread of its own, the rows are decoded once all are read.
                let mut unsent = Vec::new();
                read_rows(conn, keys, |index, (data, last_used)| {
                    let row = (index, data, last_used);
                    match &decoding {
                        Ok(_) => rows.send(row).unwrap_or_default(),
                        Err(_) => unsent.push(row),
                    }
                })?;
                drop(rows);
                Ok(match decoding {
                    Ok(thread) => thread
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    Err(_) => unsent.into_par_iter().filter_map(decode).collect(),
                })
            })
        };
        match read() {
            Ok(decoded) => {
                let mut out: Vec<Option<(FileFacts, i64)>> = keys.iter().map(|_| None).collect();
                for (index, facts, last_used) in decoded {
                    if let Some(slot) = out.get_mut(index) {
                        *slot = Some((facts, last_used));
                    }
                }
                out
            }
            Err(e) => {
                self.read_failed(e);
                keys.iter().map(|_| None).collect()
            }
        }
    }

    /// Each key's (encoded facts, last used), in one read transaction; all misses when the
    /// database cannot be read (then a warning, and a rebuild when it is damaged).
    fn lookup(&mut self, keys: &[&[u8]]) -> Vec<Option<Row>> {
        let Some(conn) = &self.conn else {
            return vec![None; keys.len()];
        };
        let mut rows = vec![None; keys.len()];
        let read = read_rows(conn, keys, |index, row| {
            if let Some(slot) = rows.get_mut(index) {
                *slot = Some(row);
            }
        });
        match read {
            Ok(()) => rows,
            Err(e) => {
                self.read_failed(e);
                vec![None; keys.len()]
            }
        }
    }

    /// A read of the database that failed: rebuilt when it is damaged, else a warning; the run
    /// goes on as if nothing were cached.
    fn read_failed(&mut self, e: rusqlite::Error) {
        if is_damaged(&e) {
            self.rebuild(&e);
        } else {
            let message = format!("{}; extracting every file afresh", self.error(e));
            self.warn(message);
        }
    }

    /// Writes the new entries (`(key, bytes)` batches, each let go once written), refreshes
    /// `last_used` of old hits and adds the run's counts, in one write transaction; a failure
    /// is a warning and nothing is written.
    fn store(
        &mut self,
        entries: impl Iterator<Item = Vec<(Vec<u8>, Vec<u8>)>>,
        touch: &[Vec<u8>],
        counts: RunCounts,
        now: i64,
    ) {
        let Some(conn) = &mut self.conn else {
            return;
        };
        let write = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                // Same key, same facts: a concurrent run's entry is replaced by an equal one.
                let mut insert = tx.prepare(
                    "INSERT INTO facts (key, data, size, last_used) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT(key) DO UPDATE SET data = excluded.data, size = excluded.size, \
                     last_used = excluded.last_used",
                )?;
                for batch in entries {
                    for (key, data) in batch {
                        insert.execute(rusqlite::params![key, data, data.len() as i64, now])?;
                    }
                }
                // In a table of its own: updating `facts` rewrote each row with its facts (17 MB
                // for a warm check's rows, 60 ms), for a number.
                let mut refresh = tx.prepare(
                    "INSERT INTO touched (key, last_used) VALUES (?2, ?1) \
                     ON CONFLICT(key) DO UPDATE SET last_used = excluded.last_used",
                )?;
                for key in touch {
                    refresh.execute(rusqlite::params![now, key])?;
                }
                let mut count = tx.prepare(
                    "INSERT INTO meta (name, value) VALUES (?1, ?2) \
                     ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                )?;
                for (name, n) in [
                    ("hits", counts.hits),
                    ("misses", counts.misses),
                    ("world_hits", counts.world_hits),
                    ("world_misses", counts.world_misses),
                ] {
                    if n > 0 {
                        count.execute(rusqlite::params![name, n as i64])?;
                    }
                }
            }
            tx.commit()
        };
        if let Err(e) = write(conn) {
            if is_damaged(&e) {
                self.rebuild(&e);
            } else {
                let message = format!("{}; the cache is not updated", self.error(e));
                self.warn(message);
            }
        }
    }

    /// Evicts when the database uses more than the bound; the number of entries deleted.
    fn enforce_bound(&mut self) -> usize {
        let (max, target) = (self.max_bytes, self.max_bytes / 10 * 8);
        let Some(conn) = &mut self.conn else {
            return 0;
        };
        match evict(conn, max, target) {
            Ok(n) => n,
            Err(e) => {
                let message = format!("{}; could not evict old entries", self.error(e));
                self.warn(message);
                0
            }
        }
    }

    fn connect(&self) -> Result<Connection, CacheError> {
        std::fs::create_dir_all(&self.dir).map_err(|source| CacheError::Dir {
            path: self.dir.clone(),
            source,
        })?;
        connect(&self.path()).map_err(|e| self.error(e))
    }

    /// Deletes a damaged database and starts an empty one (one warning); a closed cache if that
    /// fails too.
    fn rebuild(&mut self, cause: &dyn std::fmt::Display) {
        self.conn = None;
        let path = self.path();
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(file));
        }
        match self.connect() {
            Ok(conn) => {
                self.warn(format!(
                    "cache database {} was damaged ({}); rebuilt it empty",
                    path.display(),
                    cause_text(cause)
                ));
                self.conn = Some(conn);
            }
            Err(e) => self.warn(format!(
                "cache database {} was damaged ({}) and could not be rebuilt: {e}; running \
                 without the cache",
                path.display(),
                cause_text(cause)
            )),
        }
    }

    fn error(&self, source: rusqlite::Error) -> CacheError {
        CacheError::Sqlite {
            path: self.path(),
            source,
        }
    }

    /// Keeps a warning for the command line, once: a disk that is full fails every write of
    /// a run (facts, worlds, load records) with the same message.
    fn warn(&mut self, message: String) {
        if !self.warnings.contains(&message) {
            self.warnings.push(message);
        }
    }
}

/// The key of a file's facts: a SHA-1 of everything they depend on.
fn key(fingerprint: &str, path: &str, blob: &str) -> Vec<u8> {
    let text = [fingerprint, "\0", path, "\0", blob].concat();
    crate::digest::blob_digest(text.as_bytes()).to_vec()
}

/// The SQLite message alone (a [`CacheError`] names the path already).
fn cause_text(cause: &dyn std::fmt::Display) -> String {
    let text = cause.to_string();
    match text.rsplit_once(": ") {
        Some((_, last)) if text.starts_with("cache database") => last.to_string(),
        _ => text,
    }
}

/// Opens the database with the settings every run relies on, creating the tables.
fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Takes effect only on a new database (before its first table): freed pages can then be
    // returned to the file system after an eviction.
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
    let _: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    // In WAL mode a commit survives a killed process with NORMAL; only a power loss may drop
    // the last commits, never corrupt the database.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "journal_size_limit", WAL_LIMIT_BYTES)?;
    // The last connection to close would copy the WAL into the database and sync both: 15 ms
    // of a 0.36 s warm check, for the megabyte or so a check writes. Left until the WAL holds
    // more than `WAL_SETTLE_BYTES`, and then done by the run that closes (`Cache::settle_wal`),
    // not by the next run's first commit, as SQLite's automatic checkpoint would: that also made
    // the next run's opening read the whole WAL to index it. Until then readers find the newest
    // pages in the WAL, and a killed run's commits are as safe as before.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version != SCHEMA {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another run may have created the tables while this one waited for the lock.
        let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version != SCHEMA {
            tx.execute_batch(&format!(
                "DROP TABLE IF EXISTS touched;
                 DROP TABLE IF EXISTS facts;
                 DROP TABLE IF EXISTS meta;
                 CREATE TABLE facts (
                     key BLOB PRIMARY KEY,
                     data BLOB NOT NULL,
                     size INTEGER NOT NULL,
                     last_used INTEGER NOT NULL
                 );
                 CREATE INDEX facts_lru ON facts (last_used, size);
                 -- When an entry was last used, if later than its `last_used` (see `store`).
                 CREATE TABLE touched (
                     key BLOB PRIMARY KEY,
                     last_used INTEGER NOT NULL
                 ) WITHOUT ROWID;
                 CREATE TRIGGER facts_gone AFTER DELETE ON facts
                     BEGIN DELETE FROM touched WHERE key = old.key; END;
                 CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                 PRAGMA user_version = {SCHEMA};"
            ))?;
        }
        tx.commit()?;
    }
    Ok(conn)
}

/// Deletes least recently used entries, when the database uses more than `limit`, until it
/// uses about `target`; the number deleted.
fn evict(conn: &mut Connection, limit: u64, target: u64) -> rusqlite::Result<usize> {
    let mut deleted = 0;
    // Page overhead makes the bytes freed per entry only roughly known: a few rounds at most.
    for _ in 0..4 {
        let used = used_bytes(conn)?;
        if (deleted == 0 && used <= limit) || (deleted > 0 && used <= target) {
            break;
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // `used` counts pages, `size` only each entry's data: with small entries the pages hold
        // much more than the data, and freeing `used - target` bytes of data would take more
        // entries than needed (recently used ones too). The excess is taken in data bytes, in
        // the proportion the database holds them.
        let stored: i64 =
            tx.query_row("SELECT COALESCE(SUM(size), 0) FROM facts", [], |r| r.get(0))?;
        let stored = to_u64(stored);
        let excess = if used == 0 {
            0
        } else {
            let excess =
                u128::from(used.saturating_sub(target)) * u128::from(stored) / u128::from(used);
            u64::try_from(excess).unwrap_or(u64::MAX)
        };
        let rows: Vec<i64> = {
            let mut stmt = tx.prepare(&format!(
                "SELECT f.rowid, f.size FROM facts f {LAST_USED_JOIN} ORDER BY {LAST_USED}, f.rowid"
            ))?;
            let mut freed = 0u64;
            let mut rows = Vec::new();
            let mut iter =
                stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
            for row in iter.by_ref() {
                let (rowid, size) = row?;
                rows.push(rowid);
                freed += to_u64(size);
                if freed >= excess {
                    break;
                }
            }
            rows
        };
        if rows.is_empty() {
            break;
        }
        {
            let mut delete = tx.prepare("DELETE FROM facts WHERE rowid = ?1")?;
            for rowid in &rows {
                delete.execute([rowid])?;
            }
        }
        tx.commit()?;
        deleted += rows.len();
        vacuum(conn)?;
    }
    Ok(deleted)
}

/// Reads the row of each key that has one, in one read transaction, handing it to `found` with
/// the key's index.
fn read_rows(
    conn: &Connection,
    keys: &[&[u8]],
    mut found: impl FnMut(usize, Row),
) -> rusqlite::Result<()> {
    // Keys a batch at a time (`key IN (...)`): a statement run per key spent more on running
    // it than on finding the row, and reading the rows is the one serial part of a warm run's
    // cache work. A batch's rows come in the table's order; each is matched to its key.
    let tx = conn.unchecked_transaction()?;
    {
        let mut index_of: HashMap<&[u8], usize> = HashMap::with_capacity(READ_BATCH);
        for (batch_number, batch) in keys.chunks(READ_BATCH).enumerate() {
            // Prepared once for full batches, once more for the short last one.
            let mut stmt = tx.prepare_cached(&batch_query(batch.len()))?;
            // Keys are distinct: each holds its job's path and content.
            index_of.clear();
            let first = batch_number * READ_BATCH;
            index_of.extend(batch.iter().enumerate().map(|(i, key)| (*key, first + i)));
            let mut rows = stmt.query(rusqlite::params_from_iter(batch.iter()))?;
            while let Some(r) = rows.next()? {
                let key = r.get_ref(0)?.as_blob()?;
                if let Some(&index) = index_of.get(key) {
                    found(index, (r.get(1)?, r.get(2)?));
                }
            }
        }
    }
    tx.finish()
}

/// How many keys [`read_rows`] asks for at once.
const READ_BATCH: usize = 256;

/// The query for a batch of `count` keys.
fn batch_query(count: usize) -> String {
    let marks = vec!["?"; count].join(", ");
    format!(
        "SELECT f.key, f.data, {LAST_USED} FROM facts f {LAST_USED_JOIN} WHERE f.key IN ({marks})"
    )
}

/// An entry's last use: when it was written, or touched later (`touched`), with
/// [`LAST_USED_JOIN`] in the query.
const LAST_USED: &str = "max(f.last_used, coalesce(t.last_used, 0))";
/// The join [`LAST_USED`] needs, `facts` being `f`.
const LAST_USED_JOIN: &str = "LEFT JOIN touched t ON t.key = f.key";

/// Returns free pages to the file system and truncates the WAL.
fn vacuum(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("PRAGMA incremental_vacuum;")?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Bytes of the pages in use (the file's pages less the free list).
fn used_bytes(conn: &Connection) -> rusqlite::Result<u64> {
    let pages: i64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
    let free: i64 = conn.pragma_query_value(None, "freelist_count", |r| r.get(0))?;
    let size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
    Ok(to_u64((pages - free).max(0)) * to_u64(size))
}

/// Whether the error says the file is not a sound database (then it is rebuilt).
fn is_damaged(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(sqlite) = e.downcast_ref::<rusqlite::Error>()
            && matches!(
                sqlite.sqlite_error_code(),
                Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
            )
        {
            return true;
        }
        current = e.source();
    }
    false
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract;
    use crate::rules::models::Models;
    use std::sync::atomic::{AtomicUsize, Ordering};

    type Jobs = HashMap<JobKey, Vec<u8>>;

    fn jobs(files: &[(impl AsRef<str>, impl AsRef<str>)]) -> Jobs {
        files
            .iter()
            .map(|(path, text)| {
                let text = text.as_ref().as_bytes();
                let content = crate::load::FileContent::new(text.to_vec());
                ((path.as_ref().to_string(), content.key), text.to_vec())
            })
            .collect()
    }

    /// Extracts like `app::extract_snapshots`, counting the files extracted.
    fn extractor<'m>(
        models: &'m Models,
        calls: &'m AtomicUsize,
    ) -> impl FnOnce(Jobs) -> HashMap<JobKey, Arc<FileFacts>> + 'm {
        move |jobs| {
            jobs.into_par_iter()
                .filter_map(|(job, bytes)| {
                    calls.fetch_add(1, Ordering::Relaxed);
                    let facts = extract::extract(&job.0, &bytes, models)?;
                    Some((job, Arc::new(facts)))
                })
                .collect()
        }
    }

    fn fresh(models: &Models, jobs: &Jobs) -> HashMap<JobKey, Arc<FileFacts>> {
        let calls = AtomicUsize::new(0);
        extractor(models, &calls)(jobs.clone())
    }

    const SETUP_PY: &str = "from setuptools import setup\nsetup(\n    name='crm',\n    entry_points={\n        'console_scripts': ['crm-sync = crm.sync:main'],\n    },\n)\n";

    fn sample() -> Jobs {
        jobs(&[
            (
                "ops/clean.sh",
                "#!/bin/bash\nD=/srv/out\nfind \"$D\" -name '*.csv' -mtime +3 -delete\n",
            ),
            (
                "loader/write.py",
                "import os\nOUT = os.environ.get('OUT', '/srv/out')\nopen(OUT + '/x.csv', 'w')\n",
            ),
            // The same bytes at two paths: facts depend on the path (console scripts).
            ("setup.py", SETUP_PY),
            ("tools/not_setup.py", SETUP_PY),
            ("etc/cron.d/clean", "0 3 * * * root /opt/ops/clean.sh\n"),
        ])
    }

    #[test]
    fn cached_facts_equal_fresh_facts() {
        let dir = tempfile::tempdir().unwrap();
        let models = Models::builtin().unwrap();
        let fp = codec::fingerprint(&models);
        let jobs = sample();
        let expected = fresh(&models, &jobs);
        assert_ne!(
            expected[&(
                "setup.py".to_string(),
                jobs.keys().find(|k| k.0 == "setup.py").unwrap().1.clone()
            )]
                .programs,
            expected[jobs.keys().find(|k| k.0 == "tools/not_setup.py").unwrap()].programs,
            "the sample must have path-dependent facts"
        );
        let mut cache = Cache::open(dir.path(), DEFAULT_MAX_BYTES);
        let calls = AtomicUsize::new(0);
        let first = cache.through(&fp, jobs.clone(), extractor(&models, &calls));
        assert_eq!(calls.load(Ordering::Relaxed), jobs.len());
        assert_eq!(first, expected);
        drop(cache);

        let mut cache = Cache::open(dir.path(), DEFAULT_MAX_BYTES);
        let calls = AtomicUsize::new(0);
        let second = cache.through(&fp, jobs.clone(), extractor(&models, &calls));
        assert_eq!(
            calls.load(Ordering::Relaxed),
            0,
            "a warm run extracts nothing"
        );
        assert_eq!(second, expected);
        assert_eq!(cache.last_run().hits, jobs.len());
        assert!(cache.take_warnings().is_empty());
        let stats = cache.stats().unwrap();
        assert_eq!(stats.entries, jobs.len() as u64);
        assert_eq!(
            (stats.hits, stats.misses),
            (jobs.len() as u64, jobs.len() as u64)
        );

        // Another fingerprint (other models, another build) shares nothing.
        let calls = AtomicUsize::new(0);
        let other = cache.through("other", jobs.clone(), extractor(&models, &calls));
        assert_eq!(calls.load(Ordering::Relaxed), jobs.len());
        assert_eq!(other, expected);
    }

    #[test]
    fn every_scenario_file_reads_back_as_extracted() {
        let dir = tempfile::tempdir().unwrap();
        let models = Models::builtin().unwrap();
        let fp = codec::fingerprint(&models);
        let scenarios = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/scenarios");
        let mut files = Vec::new();
        for entry in std::fs::read_dir(scenarios).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let Ok(scenario) = crate::scenario::Scenario::parse(&text) else {
                continue;
            };
            for repo in scenario.repos {
                files.extend(repo.base.into_iter().chain(repo.head));
            }
        }
        let jobs = jobs(&files);
        let expected = fresh(&models, &jobs);
        let calls = AtomicUsize::new(0);
        Cache::open(dir.path(), DEFAULT_MAX_BYTES).through(
            &fp,
            jobs.clone(),
            extractor(&models, &calls),
        );
        let calls = AtomicUsize::new(0);
        let mut cache = Cache::open(dir.path(), DEFAULT_MAX_BYTES);
        let read = cache.through(&fp, jobs.clone(), extractor(&models, &calls));
        // Only files knockon does not read (no facts, nothing stored) are extracted again.
        assert_eq!(calls.load(Ordering::Relaxed), jobs.len() - expected.len());
        assert!(expected.len() > 300);
        assert_eq!(read, expected);
    }

    #[test]
    fn a_garbage_database_is_rebuilt_with_one_warning() {
        let dir = tempfile::tempdir().unwrap();
        let garbage: Vec<u8> = (0..20_000u32)
            .map(|i| (i.wrapping_mul(7919) >> 3) as u8)
            .collect();
        std::fs::write(dir.path().join(DB_FILE), garbage).unwrap();
        let models = Models::builtin().unwrap();
        let jobs = sample();
        let mut cache = Cache::open(dir.path(), DEFAULT_MAX_BYTES);
        let warnings = cache.take_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("damaged") && warnings[0].contains("rebuilt"),
            "{}",
            warnings[0]
        );
        let calls = AtomicUsize::new(0);
        let out = cache.through("fp", jobs.clone(), extractor(&models, &calls));
        assert_eq!(out, fresh(&models, &jobs));
        assert!(cache.take_warnings().is_empty());
        let calls = AtomicUsize::new(0);
        let again = Cache::open(dir.path(), DEFAULT_MAX_BYTES).through(
            "fp",
            jobs.clone(),
            extractor(&models, &calls),
        );
        assert_eq!(calls.load(Ordering::Relaxed), 0);
        assert_eq!(again, out);
    }

    #[test]
    fn a_damaged_entry_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let models = Models::builtin().unwrap();
        let jobs = sample();
        let calls = AtomicUsize::new(0);
        let mut cache = Cache::open(dir.path(), DEFAULT_MAX_BYTES);
        cache.through("fp", jobs.clone(), extractor(&models, &calls));
        let conn = cache.conn.as_ref().unwrap();
        // Flip one byte of every entry, as a bad sector would.
        conn.execute(
            "UPDATE facts SET data = CAST(substr(data, 1, 5) || 'X' || substr(data, 7) AS BLOB)",
            [],
        )
        .unwrap();
        let calls = AtomicUsize::new(0);
        let out = cache.through("fp", jobs.clone(), extractor(&models, &calls));
        assert_eq!(calls.load(Ordering::Relaxed), jobs.len());
        assert_eq!(out, fresh(&models, &jobs));
        // Rewritten: the next run hits.
        let calls = AtomicUsize::new(0);
        cache.through("fp", jobs.clone(), extractor(&models, &calls));
        assert_eq!(calls.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn many_keys_are_read_in_batches_each_row_with_its_own_key() {
        let dir = tempfile::tempdir().unwrap();
        let models = Models::builtin().unwrap();
        // Two full batches and a short one, read and written (more than one batch of misses
        // is encoded and written in the first runs); every file's facts differ (its path).
        let texts: Vec<(String, String)> = (0..READ_BATCH * 2 + 37)
            .map(|i| {
                (
                    format!("ops/job{i}.sh"),
                    format!("rm -f /srv/out/{i}.csv\n"),
                )
            })
            .collect();
        let all = jobs(&texts);
        // Some cached (the two-digit ones), the rest not.
        let cached: Jobs = all
            .iter()
            .filter(|(job, _)| job.0.len() % 3 == 0)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut cache = Cache::open(dir.path(), DEFAULT_MAX_BYTES);
        cache.through(
            "fp",
            cached.clone(),
            extractor(&models, &AtomicUsize::new(0)),
        );
        let calls = AtomicUsize::new(0);
        let out = cache.through("fp", all.clone(), extractor(&models, &calls));
        assert_eq!(calls.load(Ordering::Relaxed), all.len() - cached.len());
        assert_eq!(out, fresh(&models, &all));
        let calls = AtomicUsize::new(0);
        assert_eq!(
            cache.through("fp", all.clone(), extractor(&models, &calls)),
            out
        );
        assert_eq!(calls.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_full_disk_is_a_warning_and_the_facts_are_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let models = Models::builtin().unwrap();
        let mut jobs = sample();
        // Facts larger than the free room of the pages already there.
        let big: String = (0..500)
            .map(|i| format!("rm -f /srv/out/{i}.csv\n"))
            .collect();
        jobs.extend(self::jobs(&[("big.sh", &big)]));
        let mut cache = Cache::open(dir.path(), DEFAULT_MAX_BYTES);
        // SQLite's own cap on the file: every page it would add fails as on a full disk.
        let conn = cache.conn.as_ref().unwrap();
        let pages: i64 = conn
            .pragma_query_value(None, "page_count", |r| r.get(0))
            .unwrap();
        conn.pragma_update(None, "max_page_count", pages).unwrap();
        let calls = AtomicUsize::new(0);
        let out = cache.through("fp", jobs.clone(), extractor(&models, &calls));
        assert_eq!(out, fresh(&models, &jobs));
        let warnings = cache.take_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("full") && warnings[0].contains("not updated"),
            "{}",
            warnings[0]
        );
        // Nothing half-written: the next run (with room) misses everything and stores it.
        drop(cache);
        let mut cache = Cache::open(dir.path(), DEFAULT_MAX_BYTES);
        assert_eq!(cache.stats().unwrap().entries, 0);
        let calls = AtomicUsize::new(0);
        assert_eq!(
            cache.through("fp", jobs.clone(), extractor(&models, &calls)),
            out
        );
        assert!(cache.take_warnings().is_empty());
    }

    #[test]
    fn a_run_that_leaves_a_large_wal_copies_it_into_the_database_as_it_closes() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join(format!("{DB_FILE}-wal"));
        let wal_bytes = || std::fs::metadata(&wal).map_or(0, |m| m.len());
        let noise = |seed: u64| -> Vec<u8> {
            let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            (0..1 << 20)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect()
        };
        // A small write stays in the WAL, for a later run to copy.
        let mut cache = Cache::open(dir.path(), DEFAULT_MAX_BYTES);
        cache.keep(b"small".to_vec(), vec![7; 1000]);
        drop(cache);
        assert!(
            (1..=WAL_SETTLE_BYTES).contains(&wal_bytes()),
            "{}",
            wal_bytes()
        );
        // A large one is copied as the run closes, and the WAL emptied.
        let mut cache = Cache::open(dir.path(), DEFAULT_MAX_BYTES);
        for seed in 0..6 {
            cache.keep(format!("big{seed}").into_bytes(), noise(seed));
        }
        assert!(wal_bytes() > WAL_SETTLE_BYTES, "{}", wal_bytes());
        drop(cache);
        assert_eq!(wal_bytes(), 0);
        let mut cache = Cache::open(dir.path(), DEFAULT_MAX_BYTES);
        assert_eq!(cache.get(b"small"), Some(vec![7; 1000]));
        for seed in 0..6 {
            assert_eq!(
                cache.get(format!("big{seed}").as_bytes()),
                Some(noise(seed))
            );
        }
    }

    /// `count` shell scripts of 40 copies each, `job000.sh` on: entries of a few kilobytes.
    fn copy_jobs(count: usize) -> Jobs {
        let files: Vec<(String, String)> = (0..count)
            .map(|i| {
                let body: String = (0..40)
                    .map(|j| format!("cp /srv/in/{i}/{j}.csv /srv/out/{i}/{j}.csv\n"))
                    .collect();
                (format!("job{i:03}.sh"), format!("#!/bin/sh\n{body}"))
            })
            .collect();
        jobs(&files)
    }

    /// Every entry of `cache` written a day earlier than it was.
    fn age_a_day(cache: &Cache) {
        let conn = cache.conn.as_ref().unwrap();
        conn.execute("UPDATE facts SET last_used = last_used - 86400", [])
            .unwrap();
    }

    #[test]
    fn a_read_long_after_the_last_use_touches_apart_from_the_facts_and_counts_for_eviction() {
        let dir = tempfile::tempdir().unwrap();
        let models = Models::builtin().unwrap();
        let all = copy_jobs(200);
        let (read_again, idle): (Jobs, Jobs) = all
            .clone()
            .into_iter()
            .partition(|(k, _)| k.0.as_str() < "job100");
        let mut cache = Cache::open(dir.path(), DEFAULT_MAX_BYTES);
        cache.through("fp", all.clone(), extractor(&models, &AtomicUsize::new(0)));
        let sql = |cache: &Cache, query: &str| -> i64 {
            cache
                .conn
                .as_ref()
                .unwrap()
                .query_row(query, [], |r| r.get(0))
                .unwrap()
        };
        age_a_day(&cache);
        let calls = AtomicUsize::new(0);
        cache.through("fp", read_again.clone(), extractor(&models, &calls));
        assert_eq!(calls.load(Ordering::Relaxed), 0);
        // Touched in `touched`; the rows of `facts`, facts and all, are left as they were.
        assert_eq!(sql(&cache, "SELECT count(*) FROM touched"), 100);
        let recent = format!(
            "SELECT count(*) FROM facts WHERE last_used > {}",
            unix_now() - 3600
        );
        assert_eq!(sql(&cache, &recent), 0);
        // Over the bound (evicting down to 72 % of what is used): idle entries go, and every
        // entry read again stays.
        let bound = cache.stats().unwrap().used_bytes / 10 * 9;
        drop(cache);
        let mut cache = Cache::open(dir.path(), bound);
        let calls = AtomicUsize::new(0);
        cache.through("fp", read_again.clone(), extractor(&models, &calls));
        assert_eq!(calls.load(Ordering::Relaxed), 0);
        assert!(cache.last_run().evicted > 0);
        let calls = AtomicUsize::new(0);
        cache.through("fp", read_again, extractor(&models, &calls));
        assert_eq!(
            calls.load(Ordering::Relaxed),
            0,
            "a touched entry was evicted"
        );
        let calls = AtomicUsize::new(0);
        cache.through("fp", idle, extractor(&models, &calls));
        assert!(
            calls.load(Ordering::Relaxed) > 0,
            "no idle entry was evicted"
        );
        // An entry's touch goes with it.
        cache.prune(0).unwrap();
        assert_eq!(sql(&cache, "SELECT count(*) FROM touched"), 0);
    }

    #[test]
    fn the_least_recently_used_entries_go_first_when_over_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let models = Models::builtin().unwrap();
        let fp = codec::fingerprint(&models);
        let all = copy_jobs(400);
        let (old, new): (Jobs, Jobs) = all
            .clone()
            .into_iter()
            .partition(|(k, _)| k.0.as_str() < "job200");
        let mut cache = Cache::open(dir.path(), DEFAULT_MAX_BYTES);
        let calls = AtomicUsize::new(0);
        cache.through(&fp, old.clone(), extractor(&models, &calls));
        // The old half was last used a day ago.
        age_a_day(&cache);
        let calls = AtomicUsize::new(0);
        cache.through(&fp, new.clone(), extractor(&models, &calls));
        let full = cache.stats().unwrap();
        assert_eq!(full.entries, 400);

        // Bound at 75% of what is used (evicting down to 60%): the old half goes, the new stays.
        let bound = full.used_bytes / 4 * 3;
        drop(cache);
        let mut cache = Cache::open(dir.path(), bound);
        let calls = AtomicUsize::new(0);
        let out = cache.through(&fp, new.clone(), extractor(&models, &calls));
        assert_eq!(calls.load(Ordering::Relaxed), 0);
        assert_eq!(out, fresh(&models, &new));
        let after = cache.stats().unwrap();
        assert!(after.used_bytes <= bound, "{} > {bound}", after.used_bytes);
        assert!(cache.last_run().evicted > 0);
        let calls = AtomicUsize::new(0);
        cache.through(&fp, new.clone(), extractor(&models, &calls));
        assert_eq!(
            calls.load(Ordering::Relaxed),
            0,
            "recently used entries were evicted"
        );
        let calls = AtomicUsize::new(0);
        cache.through(&fp, old.clone(), extractor(&models, &calls));
        assert!(
            calls.load(Ordering::Relaxed) > 0,
            "no old entry was evicted"
        );

        // prune and clear.
        let deleted = cache.prune(0).unwrap();
        assert!(deleted > 0);
        assert_eq!(cache.stats().unwrap().entries, 0);
        cache.through(&fp, new.clone(), extractor(&models, &AtomicUsize::new(0)));
        cache.clear().unwrap();
        let stats = cache.stats().unwrap();
        assert_eq!((stats.entries, stats.hits, stats.misses), (0, 0, 0));
    }

    #[test]
    fn the_location_follows_flags_then_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(*v))
            }
        };
        let home = env(&[("HOME", "/home/u")]);
        assert_eq!(
            location(None, false, home),
            Some(PathBuf::from("/home/u/.cache/knockon"))
        );
        let xdg = env(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "/xdg")]);
        assert_eq!(
            location(None, false, xdg),
            Some(PathBuf::from("/xdg/knockon"))
        );
        let relative_xdg = env(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "rel")]);
        assert_eq!(
            location(None, false, relative_xdg),
            Some(PathBuf::from("/home/u/.cache/knockon"))
        );
        let set = env(&[("HOME", "/home/u"), ("KNOCKON_CACHE", "/c")]);
        assert_eq!(location(None, false, set), Some(PathBuf::from("/c")));
        assert_eq!(
            location(Some(Path::new("/flag")), false, set),
            Some(PathBuf::from("/flag"))
        );
        assert_eq!(location(Some(Path::new("/flag")), true, set), None);
        for off in ["off", "0"] {
            let vars: &'static [(&'static str, &'static str)] = if off == "off" {
                &[("HOME", "/h"), ("KNOCKON_CACHE", "off")]
            } else {
                &[("HOME", "/h"), ("KNOCKON_CACHE", "0")]
            };
            assert_eq!(location(None, false, env(vars)), None);
        }
        assert_eq!(location(None, false, env(&[])), None, "no home: no cache");
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size(" 2 mb "), Ok(2 << 20));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5T").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }
}
