//! SQLite: the embedded default. WAL journal; one writer connection (SQLite allows one writer
//! at a time, so a single connection serialises writes without lock errors) and a pool of
//! read-only connections beside it.

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use super::citizen_pages::citizen_pages_store_impl;
use super::common::common_store_impl;
use super::staff_pages::staff_pages_store_impl;
use super::web::web_store_impl;

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    cpr_sealer: tokio::sync::OnceCell<crate::domain::cpr_seal::CprSealer>,
}

impl SqliteStore {
    const BACKEND: super::Backend = super::Backend::Sqlite;

    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a letter answered 201 survives power loss, not only a process crash
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { writer, reader, cpr_sealer: Default::default() })
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// `VACUUM INTO` writes a transactionally consistent copy (everything committed when it
    /// starts); the file must not exist yet. It runs on a read-only connection, so writers
    /// go on meanwhile.
    async fn backup_into(&self, to: &std::path::Path) -> Result<(), super::StoreError> {
        if to.exists() {
            return Err(super::StoreError::Unsupported("the backup file already exists"));
        }
        let path = to.to_str().ok_or(super::StoreError::Unsupported("the backup path is not UTF-8"))?;
        sqlx::query("VACUUM INTO ?1").bind(path).execute(&self.reader).await?;
        Ok(())
    }

    async fn close_pools(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    fn migrator() -> Migrator {
        Migrator::with_migrations(super::migrations::list(&[
            (1, "core", include_str!("../../migrations/sqlite/0001_core.sql")),
            (2, "web", include_str!("../../migrations/sqlite/0002_web.sql")),
            (3, "citizen pages", include_str!("../../migrations/sqlite/0003_citizen_pages.sql")),
            (4, "staff pages", include_str!("../../migrations/sqlite/0004_staff_pages.sql")),
        ]))
    }
}

/// The shared queries use PostgreSQL's `$N`; SQLite's numbered form is `?N`. Converted once
/// per statement and kept, so the statement cache sees the same string every time.
fn sql(pg: &'static str) -> &'static str {
    static CACHE: LazyLock<Mutex<HashMap<usize, &'static str>>> = LazyLock::new(Default::default);
    let key = pg.as_ptr() as usize;
    let mut cache = CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    cache.entry(key).or_insert_with(|| Box::leak(to_sqlite_placeholders(pg).into_boxed_str()))
}

fn to_sqlite_placeholders(pg: &str) -> String {
    let mut out = String::with_capacity(pg.len());
    let mut chars = pg.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

// a read transaction in WAL mode is a snapshot already
common_store_impl!(SqliteStore, sqlx::Sqlite, lock = "", skip_locked = "", visible = "", snapshot = "");
web_store_impl!(SqliteStore);
citizen_pages_store_impl!(SqliteStore);
staff_pages_store_impl!(SqliteStore);

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_for_sqlite() {
        assert_eq!(super::to_sqlite_placeholders("a = $1 AND b = $12 OR c = $1"), "a = ?1 AND b = ?12 OR c = ?1");
    }
}
