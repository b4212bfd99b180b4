//! The index in PostgreSQL (`--index postgres://...`), shared by an organisation's CI.
//!
//! Publishing takes `pg_advisory_xact_lock` on the repository's name for the length of its one
//! transaction, so two publishers of the same repository run one after the other and never
//! interleave its rows; migrations take a lock of their own. A check reads in one
//! `REPEATABLE READ` transaction, so it never sees a repository half replaced.

use super::keys::{Key, KeyKind};
use super::{IndexError, KeyRow, Published, Reader, RepoEntry, RowCounts, schema};
use crate::load::SkipCounts;
use postgres::{Client, NoTls};

/// The advisory lock id that serialises migrations ("knockon" in ASCII).
const MIGRATION_LOCK: i64 = 0x006b_6e6f_636b_6f6e;

pub struct PgIndex {
    client: Client,
    target: String,
}

impl PgIndex {
    pub fn open(url: &str) -> Result<PgIndex, IndexError> {
        let target = redact(url);
        let client = Client::connect(url, NoTls).map_err(|e| IndexError::Open {
            target: target.clone(),
            reason: one_line(&e),
        })?;
        let mut index = PgIndex { client, target };
        index.migrate()?;
        Ok(index)
    }

    fn err(&self, e: postgres::Error) -> IndexError {
        IndexError::Query {
            target: self.target.clone(),
            reason: one_line(&e),
        }
    }

    fn migrate(&mut self) -> Result<(), IndexError> {
        let target = self.target.clone();
        let fail = |e: postgres::Error| IndexError::Open {
            target: target.clone(),
            reason: one_line(&e),
        };
        let mut tx = self.client.transaction().map_err(fail)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(fail)?;
        tx.batch_execute(schema::VERSION_TABLE).map_err(fail)?;
        let found: i64 = tx
            .query_opt("SELECT version FROM knockon_schema", &[])
            .map_err(fail)?
            .map(|row| row.get(0))
            .unwrap_or(0);
        let upgrade = schema::upgrade(
            &self.target,
            found,
            schema::POSTGRES,
            "INSERT INTO knockon_schema (version) VALUES ($1)",
            "UPDATE knockon_schema SET version = $1",
        )?;
        for sql in upgrade.migrations {
            tx.batch_execute(sql).map_err(fail)?;
        }
        if let Some(record) = upgrade.record {
            tx.execute(record, &[&schema::VERSION]).map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }

    pub fn publish(&mut self, entry: &RepoEntry) -> Result<Published, IndexError> {
        let target = self.target.clone();
        let err = |e: postgres::Error| IndexError::Query {
            target: target.clone(),
            reason: one_line(&e),
        };
        let mut tx = self.client.transaction().map_err(err)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('knockon-repo:' || $1, 0))",
            &[&entry.name],
        )
        .map_err(err)?;
        let stored = tx
            .query_opt(
                "SELECT commit_id, commit_time, knockon_version, models FROM repos WHERE name = $1",
                &[&entry.name],
            )
            .map_err(err)?
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)));
        if let Some(decision) = super::decide(stored.clone(), entry) {
            return Ok(decision);
        }
        tx.execute("DELETE FROM repos WHERE name = $1", &[&entry.name])
            .map_err(err)?;
        let skipped = &entry.skipped;
        let id: i64 = tx
            .query_one(
                "INSERT INTO repos (name, commit_id, commit_time, knockon_version, models, \
                 skipped_binary, skipped_vendored, skipped_oversized, skipped_unreadable, published_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                &[
                    &entry.name,
                    &entry.commit,
                    &entry.commit_time,
                    &entry.knockon_version,
                    &entry.models,
                    &(skipped.binary as i64),
                    &(skipped.vendored as i64),
                    &(skipped.oversized as i64),
                    &(skipped.unreadable as i64),
                    &super::sqlite::now(),
                ],
            )
            .map_err(err)?
            .get(0);
        // One statement per table: the rows travel as arrays.
        let paths: Vec<&str> = entry.files.iter().map(|f| f.path.as_str()).collect();
        let blobs: Vec<&str> = entry.files.iter().map(|f| f.blob.as_str()).collect();
        let generic: Vec<bool> = entry.files.iter().map(|f| f.generic).collect();
        let facts: Vec<Vec<u8>> = entry
            .files
            .iter()
            .map(|f| crate::store::codec::encode_named(f.facts.as_ref()))
            .collect();
        let lines: Vec<String> = entry
            .files
            .iter()
            .map(|f| super::lines_to_json(&f.lines))
            .collect();
        tx.execute(
            "INSERT INTO files (repo_id, path, blob, generic, facts, lines) \
             SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::bool[], $5::bytea[], $6::text[])",
            &[&id, &paths, &blobs, &generic, &facts, &lines],
        )
        .map_err(err)?;
        let kinds: Vec<&str> = entry.keys.iter().map(|k| k.kind.as_str()).collect();
        let keys: Vec<&str> = entry.keys.iter().map(|k| k.key.as_str()).collect();
        let exact: Vec<bool> = entry.keys.iter().map(|k| k.exact).collect();
        tx.execute(
            "INSERT INTO keys (repo_id, kind, key, exact) \
             SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::bool[])",
            &[&id, &kinds, &keys, &exact],
        )
        .map_err(err)?;
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
        let err = |e: postgres::Error| IndexError::Query {
            target: target.clone(),
            reason: one_line(&e),
        };
        let tx = self
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(err)?;
        let mut reader = PgReader {
            tx,
            target: target.clone(),
            read: RowCounts::default(),
        };
        let out = f(&mut reader)?;
        reader.tx.commit().map_err(err)?;
        Ok(out)
    }

    pub fn counts(&mut self) -> Result<RowCounts, IndexError> {
        let row = self
            .client
            .query_one(
                "SELECT (SELECT COUNT(*) FROM repos), (SELECT COUNT(*) FROM files), (SELECT COUNT(*) FROM keys)",
                &[],
            )
            .map_err(|e| self.err(e))?;
        let n = |i: usize| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
        Ok(RowCounts {
            repos: n(0),
            files: n(1),
            keys: n(2),
        })
    }

    pub fn repositories(&mut self) -> Result<Vec<(String, String)>, IndexError> {
        let rows = self
            .client
            .query("SELECT name, commit_id FROM repos ORDER BY name", &[])
            .map_err(|e| self.err(e))?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Runs SQL as it is (the benchmark's bulk loading and resetting).
    pub fn batch(&mut self, sql: &str) -> Result<(), IndexError> {
        self.client.batch_execute(sql).map_err(|e| self.err(e))
    }
}

struct PgReader<'c> {
    tx: postgres::Transaction<'c>,
    target: String,
    read: RowCounts,
}

const KEY_COLUMNS: &str =
    "SELECT k.repo_id, r.name, k.kind, k.key, k.exact FROM keys k JOIN repos r ON r.id = k.repo_id";

impl PgReader<'_> {
    fn key_rows(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<KeyRow>, IndexError> {
        let rows = self.tx.query(sql, params).map_err(|e| IndexError::Query {
            target: self.target.clone(),
            reason: one_line(&e),
        })?;
        self.read.keys += rows.len() as u64;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let kind: String = r.get(2);
                Some(KeyRow {
                    repo_id: r.get(0),
                    repo: r.get(1),
                    key: Key::new(KeyKind::parse(&kind)?, r.get::<_, String>(3), r.get(4)),
                })
            })
            .collect())
    }
}

impl Reader for PgReader<'_> {
    fn matching(&mut self, probes: &[Key]) -> Result<Vec<KeyRow>, IndexError> {
        let mut out = Vec::new();
        for (kind, keys) in super::probe_prefixes(probes) {
            let keys: Vec<String> = keys.into_iter().collect();
            let sql = format!("{KEY_COLUMNS} WHERE k.kind = $1 AND k.key = ANY($2)");
            out.extend(self.key_rows(&sql, &[&kind.as_str(), &keys])?);
        }
        for probe in probes.iter().filter(|p| p.kind.by_prefix() && !p.exact) {
            let sql = format!("{KEY_COLUMNS} WHERE k.kind = $1 AND k.key LIKE $2 ESCAPE '\\'");
            let pattern = super::like_prefix(&probe.key);
            out.extend(self.key_rows(&sql, &[&probe.kind.as_str(), &pattern])?);
        }
        Ok(out)
    }

    fn program_keys(&mut self, repo_ids: &[i64]) -> Result<Vec<KeyRow>, IndexError> {
        let ids = repo_ids.to_vec();
        let sql = format!("{KEY_COLUMNS} WHERE k.repo_id = ANY($1) AND k.kind IN ('file', 'run')");
        self.key_rows(&sql, &[&ids])
    }

    fn load(&mut self, repo_ids: &[i64]) -> Result<Vec<RepoEntry>, IndexError> {
        let ids = repo_ids.to_vec();
        let err = |target: &str, e: postgres::Error| IndexError::Query {
            target: target.to_string(),
            reason: one_line(&e),
        };
        let repos = self
            .tx
            .query(
                "SELECT id, name, commit_id, commit_time, knockon_version, models, skipped_binary, \
                 skipped_vendored, skipped_oversized, skipped_unreadable FROM repos WHERE id = ANY($1) \
                 ORDER BY name",
                &[&ids],
            )
            .map_err(|e| err(&self.target, e))?;
        self.read.repos += repos.len() as u64;
        let files = self
            .tx
            .query(
                "SELECT repo_id, path, blob, generic, facts, lines FROM files WHERE repo_id = ANY($1) \
                 ORDER BY repo_id, path",
                &[&ids],
            )
            .map_err(|e| err(&self.target, e))?;
        self.read.files += files.len() as u64;
        let n = |v: i64| usize::try_from(v).unwrap_or(0);
        let mut out = Vec::new();
        for row in repos {
            let id: i64 = row.get(0);
            let mut entry = RepoEntry {
                name: row.get(1),
                commit: row.get(2),
                commit_time: row.get(3),
                knockon_version: row.get(4),
                models: row.get(5),
                skipped: SkipCounts {
                    binary: n(row.get(6)),
                    vendored: n(row.get(7)),
                    oversized: n(row.get(8)),
                    unreadable: n(row.get(9)),
                },
                files: Vec::new(),
                keys: Default::default(),
            };
            for file in files.iter().filter(|f| f.get::<_, i64>(0) == id) {
                entry.files.push(super::sqlite::decode_file(
                    &self.target,
                    &entry.name,
                    file.get(1),
                    file.get(2),
                    file.get(3),
                    file.get::<_, &[u8]>(4),
                    file.get::<_, &str>(5),
                )?);
            }
            out.push(entry);
        }
        Ok(out)
    }

    fn all_repos(&mut self) -> Result<Vec<(i64, String)>, IndexError> {
        let rows = self
            .tx
            .query("SELECT id, name FROM repos ORDER BY name", &[])
            .map_err(|e| IndexError::Query {
                target: self.target.clone(),
                reason: one_line(&e),
            })?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn rows_read(&self) -> RowCounts {
        self.read
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or("");
            format!("{scheme}://{name}:***@{host}")
        }
        _ => url.to_string(),
    }
}

/// A driver error on one line, with the server's own message when there is one.
fn one_line(e: &postgres::Error) -> String {
    let text = match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    };
    text.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_not_repeated_in_messages() {
        assert_eq!(
            super::redact("postgres://ci:s3cret@db:5432/knockon"),
            "postgres://ci:***@db:5432/knockon"
        );
        assert_eq!(
            super::redact("postgres://ci@db/knockon"),
            "postgres://ci@db/knockon"
        );
    }
}
