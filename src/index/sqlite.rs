//! The index as a SQLite file (`knockon index --out FILE`, `knockon check --index FILE`).

use super::keys::{Key, KeyKind};
use super::{IndexError, IndexedFile, KeyRow, Published, Reader, RepoEntry, RowCounts, schema};
use crate::load::SkipCounts;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::Arc;

pub struct FileIndex {
    conn: Connection,
    target: String,
}

impl FileIndex {
    pub fn open(path: &Path) -> Result<FileIndex, IndexError> {
        let target = path.display().to_string();
        let open = |reason: String| IndexError::Open {
            target: target.clone(),
            reason,
        };
        if path.is_dir() {
            return Err(open("is a directory, not an index file".into()));
        }
        let conn = Connection::open(path).map_err(|e| open(e.to_string()))?;
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;")
            .map_err(|e| open(e.to_string()))?;
        let mut index = FileIndex { conn, target };
        index.migrate()?;
        Ok(index)
    }

    fn err(&self, e: rusqlite::Error) -> IndexError {
        IndexError::Query {
            target: self.target.clone(),
            reason: e.to_string(),
        }
    }

    fn migrate(&mut self) -> Result<(), IndexError> {
        let target = self.target.clone();
        let fail = |e: rusqlite::Error| IndexError::Open {
            target: target.clone(),
            reason: format!("not a knockon index ({e})"),
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        tx.execute_batch(schema::VERSION_TABLE).map_err(fail)?;
        let found: Option<i64> = tx
            .query_row("SELECT version FROM knockon_schema", [], |r| r.get(0))
            .optional()
            .map_err(fail)?;
        let found = found.unwrap_or(0);
        let upgrade = schema::upgrade(
            &self.target,
            found,
            schema::SQLITE,
            "INSERT INTO knockon_schema (version) VALUES (?1)",
            "UPDATE knockon_schema SET version = ?1",
        )?;
        for sql in upgrade.migrations {
            tx.execute_batch(sql).map_err(fail)?;
        }
        if let Some(record) = upgrade.record {
            tx.execute(record, [schema::VERSION]).map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }

    pub fn publish(&mut self, entry: &RepoEntry) -> Result<Published, IndexError> {
        let target = self.target.clone();
        let err = |e: rusqlite::Error| IndexError::Query {
            target: target.clone(),
            reason: e.to_string(),
        };
        // IMMEDIATE: one writer at a time, from the first read of the stored commit on.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let stored: Option<(String, i64, String, String)> = tx
            .query_row(
                "SELECT commit_id, commit_time, knockon_version, models FROM repos WHERE name = ?1",
                [&entry.name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(err)?;
        if let Some(decision) = super::decide(stored.clone(), entry) {
            return Ok(decision);
        }
        tx.execute("DELETE FROM repos WHERE name = ?1", [&entry.name])
            .map_err(err)?;
        let skipped = &entry.skipped;
        tx.execute(
            "INSERT INTO repos (name, commit_id, commit_time, knockon_version, models, \
             skipped_binary, skipped_vendored, skipped_oversized, skipped_unreadable, published_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                entry.name,
                entry.commit,
                entry.commit_time,
                entry.knockon_version,
                entry.models,
                skipped.binary as i64,
                skipped.vendored as i64,
                skipped.oversized as i64,
                skipped.unreadable as i64,
                now(),
            ],
        )
        .map_err(err)?;
        let id = tx.last_insert_rowid();
        {
            let mut files = tx
                .prepare(
                    "INSERT INTO files (repo_id, path, blob, generic, facts, lines) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(err)?;
            for file in &entry.files {
                files
                    .execute(params![
                        id,
                        file.path,
                        file.blob,
                        file.generic,
                        crate::store::codec::encode_named(file.facts.as_ref()),
                        super::lines_to_json(&file.lines),
                    ])
                    .map_err(err)?;
            }
            let mut keys = tx
                .prepare("INSERT INTO keys (repo_id, kind, key, exact) VALUES (?1, ?2, ?3, ?4)")
                .map_err(err)?;
            for key in &entry.keys {
                keys.execute(params![id, key.kind.as_str(), key.key, key.exact])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(match stored {
            Some((previous, ..)) => Published::Replaced { previous },
            None => Published::Added,
        })
    }

    pub fn read<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Reader) -> Result<T, IndexError>,
    ) -> Result<T, IndexError> {
        let target = self.target.clone();
        let tx = self.conn.transaction().map_err(|e| IndexError::Query {
            target: target.clone(),
            reason: e.to_string(),
        })?;
        let mut reader = SqliteReader {
            tx: &tx,
            target,
            read: RowCounts::default(),
        };
        let out = f(&mut reader)?;
        drop(reader);
        tx.finish().map_err(|e| self.err(e))?;
        Ok(out)
    }

    pub fn counts(&mut self) -> Result<RowCounts, IndexError> {
        let count = |table: &str| -> Result<u64, rusqlite::Error> {
            self.conn
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| u64::try_from(n).unwrap_or(0))
        };
        let counts = (|| {
            Ok::<_, rusqlite::Error>(RowCounts {
                repos: count("repos")?,
                files: count("files")?,
                keys: count("keys")?,
            })
        })();
        counts.map_err(|e| self.err(e))
    }

    pub fn repositories(&mut self) -> Result<Vec<(String, String)>, IndexError> {
        let rows = (|| {
            let mut stmt = self
                .conn
                .prepare("SELECT name, commit_id FROM repos ORDER BY name")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<Vec<_>, _>>()
        })();
        rows.map_err(|e| self.err(e))
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0)
}

struct SqliteReader<'t> {
    tx: &'t rusqlite::Transaction<'t>,
    target: String,
    read: RowCounts,
}

impl SqliteReader<'_> {
    fn err(&self, e: rusqlite::Error) -> IndexError {
        IndexError::Query {
            target: self.target.clone(),
            reason: e.to_string(),
        }
    }

    fn key_rows(
        &mut self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<KeyRow>, IndexError> {
        let rows = (|| {
            let mut stmt = self.tx.prepare_cached(sql)?;
            let rows = stmt.query_map(params, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, bool>(4)?,
                ))
            })?;
            rows.collect::<Result<Vec<_>, _>>()
        })()
        .map_err(|e| self.err(e))?;
        self.read.keys += rows.len() as u64;
        Ok(rows
            .into_iter()
            .filter_map(|(repo_id, repo, kind, key, exact)| {
                Some(KeyRow {
                    repo_id,
                    repo,
                    key: Key::new(KeyKind::parse(&kind)?, key, exact),
                })
            })
            .collect())
    }
}

const KEY_COLUMNS: &str =
    "SELECT k.repo_id, r.name, k.kind, k.key, k.exact FROM keys k JOIN repos r ON r.id = k.repo_id";

impl Reader for SqliteReader<'_> {
    fn matching(&mut self, probes: &[Key]) -> Result<Vec<KeyRow>, IndexError> {
        let mut out = Vec::new();
        for (kind, keys) in super::probe_prefixes(probes) {
            for key in keys {
                let sql = format!("{KEY_COLUMNS} WHERE k.kind = ?1 AND k.key = ?2");
                out.extend(self.key_rows(&sql, &[&kind.as_str(), &key])?);
            }
        }
        for probe in probes.iter().filter(|p| p.kind.by_prefix() && !p.exact) {
            // Binary comparison: every key that starts with the probe sorts between the probe
            // and the probe followed by the highest character.
            let upper = format!("{}\u{10FFFF}", probe.key);
            let sql = format!("{KEY_COLUMNS} WHERE k.kind = ?1 AND k.key > ?2 AND k.key < ?3");
            out.extend(self.key_rows(&sql, &[&probe.kind.as_str(), &probe.key, &upper])?);
        }
        Ok(out)
    }

    fn program_keys(&mut self, repo_ids: &[i64]) -> Result<Vec<KeyRow>, IndexError> {
        let mut out = Vec::new();
        for id in repo_ids {
            let sql = format!("{KEY_COLUMNS} WHERE k.repo_id = ?1 AND k.kind IN ('file', 'run')");
            out.extend(self.key_rows(&sql, &[id])?);
        }
        Ok(out)
    }

    fn load(&mut self, repo_ids: &[i64]) -> Result<Vec<RepoEntry>, IndexError> {
        let mut out = Vec::new();
        for id in repo_ids {
            let repo = self
                .tx
                .query_row(
                    "SELECT name, commit_id, commit_time, knockon_version, models, skipped_binary, \
                     skipped_vendored, skipped_oversized, skipped_unreadable FROM repos WHERE id = ?1",
                    [id],
                    |r| {
                        Ok(RepoEntry {
                            name: r.get(0)?,
                            commit: r.get(1)?,
                            commit_time: r.get(2)?,
                            knockon_version: r.get(3)?,
                            models: r.get(4)?,
                            skipped: SkipCounts {
                                binary: count(r.get(5)?),
                                vendored: count(r.get(6)?),
                                oversized: count(r.get(7)?),
                                unreadable: count(r.get(8)?),
                            },
                            files: Vec::new(),
                            keys: Default::default(),
                        })
                    },
                )
                .optional()
                .map_err(|e| self.err(e))?;
            let Some(mut repo) = repo else { continue };
            self.read.repos += 1;
            let rows = (|| {
                let mut stmt = self.tx.prepare_cached(
                    "SELECT path, blob, generic, facts, lines FROM files WHERE repo_id = ?1 ORDER BY path",
                )?;
                let rows = stmt.query_map([id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, bool>(2)?,
                        r.get::<_, Vec<u8>>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })?;
                rows.collect::<Result<Vec<_>, _>>()
            })()
            .map_err(|e| self.err(e))?;
            self.read.files += rows.len() as u64;
            for (path, blob, generic, facts, lines) in rows {
                repo.files.push(decode_file(
                    &self.target,
                    &repo.name,
                    path,
                    blob,
                    generic,
                    &facts,
                    &lines,
                )?);
            }
            out.push(repo);
        }
        Ok(out)
    }

    fn all_repos(&mut self) -> Result<Vec<(i64, String)>, IndexError> {
        let rows = (|| {
            let mut stmt = self
                .tx
                .prepare_cached("SELECT id, name FROM repos ORDER BY name")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<Vec<(i64, String)>, _>>()
        })()
        .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    fn rows_read(&self) -> RowCounts {
        self.read
    }
}

fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// One stored file, decoded; a row that does not decode names itself.
pub(crate) fn decode_file(
    target: &str,
    repo: &str,
    path: String,
    blob: String,
    generic: bool,
    facts: &[u8],
    lines: &str,
) -> Result<IndexedFile, IndexError> {
    let corrupt = |reason: String| IndexError::Corrupt {
        target: target.to_string(),
        repo: repo.to_string(),
        path: path.clone(),
        reason,
    };
    let facts = crate::store::codec::decode(facts).map_err(|e| corrupt(e.to_string()))?;
    let lines = super::lines_from_json(lines).map_err(corrupt)?;
    Ok(IndexedFile {
        path,
        blob,
        generic,
        facts: Arc::new(facts),
        lines,
    })
}
