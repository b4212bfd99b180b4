//! The index schema, as ordered migrations applied by knockon when it opens an index.
//!
//! `knockon_schema` holds one row: the number of migrations applied. Opening an index applies
//! the missing ones in order, each in the transaction that records it; an index whose version
//! is higher than [`VERSION`] was written by a newer knockon and is refused rather than
//! misread. A migration is never edited once released: a change of schema is a new one.
//!
//! Tables (both backends): `repos` (one row per repository: name, commit, commit time,
//! knockon version, models fingerprint, skip counts), `files` (per file: path, blob id, generic
//! flag, codec-encoded facts, the lines reports may quote as JSON) and `keys` (kind, key, exact:
//! what a check selects repositories by, indexed by kind and key).

/// The number of migrations this knockon knows.
pub const VERSION: i64 = 1;

/// The SQL of each migration, in order, for SQLite.
pub const SQLITE: &[&str] = &["
    CREATE TABLE repos (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        commit_id TEXT NOT NULL,
        commit_time INTEGER NOT NULL,
        knockon_version TEXT NOT NULL,
        models TEXT NOT NULL,
        skipped_binary INTEGER NOT NULL,
        skipped_vendored INTEGER NOT NULL,
        skipped_oversized INTEGER NOT NULL,
        skipped_unreadable INTEGER NOT NULL,
        published_at INTEGER NOT NULL
    );
    CREATE TABLE files (
        repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        blob TEXT NOT NULL,
        generic INTEGER NOT NULL,
        facts BLOB NOT NULL,
        lines TEXT NOT NULL,
        PRIMARY KEY (repo_id, path)
    );
    CREATE TABLE keys (
        repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        exact INTEGER NOT NULL
    );
    CREATE INDEX keys_by_key ON keys (kind, key);
    CREATE INDEX keys_by_repo ON keys (repo_id);
"];

/// The SQL of each migration, in order, for PostgreSQL. `text_pattern_ops` lets `LIKE 'p%'`
/// use the index whatever the database's collation.
pub const POSTGRES: &[&str] = &["
    CREATE TABLE repos (
        id BIGSERIAL PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        commit_id TEXT NOT NULL,
        commit_time BIGINT NOT NULL,
        knockon_version TEXT NOT NULL,
        models TEXT NOT NULL,
        skipped_binary BIGINT NOT NULL,
        skipped_vendored BIGINT NOT NULL,
        skipped_oversized BIGINT NOT NULL,
        skipped_unreadable BIGINT NOT NULL,
        published_at BIGINT NOT NULL
    );
    CREATE TABLE files (
        repo_id BIGINT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        blob TEXT NOT NULL,
        generic BOOLEAN NOT NULL,
        facts BYTEA NOT NULL,
        lines TEXT NOT NULL,
        PRIMARY KEY (repo_id, path)
    );
    CREATE TABLE keys (
        repo_id BIGINT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        exact BOOLEAN NOT NULL
    );
    CREATE INDEX keys_by_key ON keys (kind, key text_pattern_ops);
    CREATE INDEX keys_by_repo ON keys (repo_id);
"];

/// The table that records the schema version.
pub const VERSION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS knockon_schema (version BIGINT NOT NULL)";

/// What opening an index at schema version `found` must do, whatever the database: the
/// migrations still to apply, and how to record the new version.
pub struct Upgrade<'m> {
    pub migrations: &'m [&'static str],
    pub record: Option<&'static str>,
}

/// The upgrade from `found` with `migrations` (SQLite's or PostgreSQL's, one per version); a
/// newer schema than this knockon knows is refused, never rewritten. `insert` and `update` are
/// the dialect's statements that store [`VERSION`] (its one parameter).
pub fn upgrade<'m>(
    target: &str,
    found: i64,
    migrations: &'m [&'static str],
    insert: &'static str,
    update: &'static str,
) -> Result<Upgrade<'m>, super::IndexError> {
    if found > VERSION {
        return Err(super::IndexError::NewerSchema {
            target: target.to_string(),
            found,
            known: VERSION,
        });
    }
    let applied = usize::try_from(found).unwrap_or(0);
    Ok(Upgrade {
        migrations: migrations.get(applied..).unwrap_or_default(),
        record: match found {
            0 => Some(insert),
            f if f < VERSION => Some(update),
            _ => None,
        },
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_backends_know_every_migration() {
        assert_eq!(super::SQLITE.len() as i64, super::VERSION);
        assert_eq!(super::POSTGRES.len() as i64, super::VERSION);
    }

    #[test]
    fn upgrades_apply_what_is_missing_and_refuse_a_newer_schema() {
        let fresh = super::upgrade("t", 0, super::SQLITE, "INSERT", "UPDATE").ok();
        assert!(fresh.is_some_and(
            |u| u.migrations.len() == super::SQLITE.len() && u.record == Some("INSERT")
        ));
        let current = super::upgrade("t", super::VERSION, super::POSTGRES, "INSERT", "UPDATE").ok();
        assert!(current.is_some_and(|u| u.migrations.is_empty() && u.record.is_none()));
        assert!(matches!(
            super::upgrade("t", super::VERSION + 1, super::SQLITE, "INSERT", "UPDATE"),
            Err(super::super::IndexError::NewerSchema { found, .. }) if found == super::VERSION + 1
        ));
    }
}
