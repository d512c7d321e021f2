//! SQLite: the embedded default. WAL journal; one writer connection (SQLite allows one writer
//! at a time, so a single connection serialises writes without lock errors) and a pool of
//! read-only connections beside it.

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use super::audit::audit_store_impl;
use super::citizen_pages::citizen_pages_store_impl;
use super::common::common_store_impl;
use super::retention::retention_store_impl;
use super::staff_pages::staff_pages_store_impl;
use super::web::web_store_impl;

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// New letters on their way to the group-commit task (started on first use).
    letter_queue: std::sync::OnceLock<tokio::sync::mpsc::Sender<PendingLetter>>,
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
            // When a COMMIT fails (say, the disk is full) SQLite has already rolled back, so
            // sqlx's own ROLLBACK fails and sqlx still believes a transaction is open; its next
            // "transaction" would then be a SAVEPOINT, and its "commit" a RELEASE that commits
            // nothing durable. A connection in that state is closed, never reused.
            .after_release(|conn, _| {
                Box::pin(async move {
                    use sqlx::Connection as _;
                    conn.ping().await?; // runs the rollback queued when the transaction dropped
                    Ok(!conn.is_in_transaction())
                })
            })
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { writer, reader, letter_queue: Default::default(), cpr_sealer: Default::default() })
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Group commit: a letter waits for the writer together with the letters that arrived
    /// meanwhile, and they are committed in one transaction — one fsync for the lot instead of
    /// one each, which is what limits SQLite with `synchronous=FULL`. Nobody waits for a timer:
    /// a letter arriving at an idle writer is committed at once. Answers only after the commit.
    async fn commit_letter(
        &self,
        letter: &super::NewLetter,
        sealed_cpr: String,
    ) -> Result<super::LetterRecord, sqlx::Error> {
        let queue = self.letter_queue.get_or_init(|| {
            let (queue, pending) = tokio::sync::mpsc::channel(LETTER_QUEUE);
            tokio::spawn(Self::commit_letter_groups(self.writer.clone(), pending));
            queue
        });
        let (reply, answer) = tokio::sync::oneshot::channel();
        let pending = PendingLetter { letter: letter.clone(), sealed_cpr, reply };
        queue.send(pending).await.map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }

    async fn commit_letter_groups(pool: SqlitePool, mut pending: tokio::sync::mpsc::Receiver<PendingLetter>) {
        let mut group = Vec::with_capacity(LETTER_GROUP);
        while pending.recv_many(&mut group, LETTER_GROUP).await > 0 {
            let answers = Self::commit_letter_group(&pool, &group).await;
            for (letter, answer) in group.drain(..).zip(answers) {
                // the request may have gone (client hung up): the letter is stored all the same
                let _ = letter.reply.send(answer);
            }
        }
    }

    async fn commit_letter_group(
        pool: &SqlitePool,
        group: &[PendingLetter],
    ) -> Vec<Result<super::LetterRecord, sqlx::Error>> {
        if group.len() > 1 {
            let together = async {
                let mut tx = pool.begin().await?;
                let mut letters = Vec::with_capacity(group.len());
                for p in group {
                    letters.push(Self::insert_letter_rows(&mut tx, &p.letter, &p.sealed_cpr).await?);
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>(letters)
            };
            if let Ok(letters) = together.await {
                return letters.into_iter().map(Ok).collect();
            }
            // one letter failed (say, an idempotency key raced) or the commit did: nothing of
            // the group is stored, so each letter goes again alone and gets its own answer
        }
        let mut answers = Vec::with_capacity(group.len());
        for p in group {
            answers.push(Self::commit_letter_alone(pool, &p.letter, &p.sealed_cpr).await);
        }
        answers
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
            (5, "report roll-ups", include_str!("../../migrations/sqlite/0005_report_rollups.sql")),
            (6, "audit log", include_str!("../../migrations/sqlite/0006_audit_log.sql")),
            (7, "retention", include_str!("../../migrations/sqlite/0007_retention_webhook_secrets.sql")),
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

/// Letters waiting for the group-commit task, at most; then `insert_letter` waits (back pressure).
const LETTER_QUEUE: usize = 1024;
/// Letters in one transaction, at most.
const LETTER_GROUP: usize = 128;

struct PendingLetter {
    letter: super::NewLetter,
    sealed_cpr: String,
    reply: tokio::sync::oneshot::Sender<Result<super::LetterRecord, sqlx::Error>>,
}

// a read transaction in WAL mode is a snapshot already
common_store_impl!(SqliteStore, sqlx::Sqlite, lock = "", skip_locked = "", visible = "", snapshot = "");
web_store_impl!(SqliteStore);
citizen_pages_store_impl!(SqliteStore);
staff_pages_store_impl!(SqliteStore);
retention_store_impl!(SqliteStore, skip_locked = "");
audit_store_impl!(SqliteStore);

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_for_sqlite() {
        assert_eq!(super::to_sqlite_placeholders("a = $1 AND b = $12 OR c = $1"), "a = ?1 AND b = ?12 OR c = ?1");
    }
}
