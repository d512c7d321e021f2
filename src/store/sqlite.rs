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
    /// Escalations on their way to their group-commit task (started on first use).
    escalation_queue: std::sync::OnceLock<tokio::sync::mpsc::Sender<PendingEscalation>>,
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
            // On the way back to the pool: the safety level goes back to FULL (engine bookkeeping
            // lowers it for its own commits, see `begin_relaxed`), which also runs any rollback a
            // dropped transaction queued. And when a COMMIT failed (say, the disk is full),
            // SQLite has already rolled back, so sqlx's own ROLLBACK fails and sqlx still believes
            // a transaction is open: its next "transaction" would be a SAVEPOINT, and its "commit"
            // a RELEASE that commits nothing durable. Such a connection is closed, never reused.
            .after_release(|conn, _| {
                Box::pin(async move {
                    use sqlx::Connection as _;
                    sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
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
        Ok(Self {
            writer,
            reader,
            letter_queue: Default::default(),
            escalation_queue: Default::default(),
            cpr_sealer: Default::default(),
        })
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// A write transaction for the engine's own bookkeeping (claims, delivery starts and
    /// finishes, webhook state), committed without waiting for the disk (WAL with
    /// `synchronous=NORMAL`): a crash of the process loses none of it; a power cut may lose the
    /// last moments, which the leases then redo, so a delivery may be made again (at least
    /// once). Letters, evidence and citizens' choices are always committed with FULL.
    async fn begin_relaxed(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        let mut conn = self.writer.acquire().await?;
        // the level cannot change inside a transaction; the pool sets FULL again on release
        sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
        // what `Pool::begin` does with a connection it acquired
        sqlx::Transaction::begin(conn, None).await
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

    /// Group commit for escalations, as for letters: the escalations waiting for the writer are
    /// applied in one transaction, one fsync for the lot, each checked against its letter
    /// inside it exactly as it would be alone. Answers only after the commit.
    async fn commit_escalation(
        &self,
        job: &super::Job,
        plan: &super::EscalationPlan,
        now: i64,
    ) -> super::StoreResult<bool> {
        let queue = self.escalation_queue.get_or_init(|| {
            let (queue, pending) = tokio::sync::mpsc::channel(ESCALATION_QUEUE);
            tokio::spawn(Self::commit_escalation_groups(self.writer.clone(), pending));
            queue
        });
        let (reply, answer) = tokio::sync::oneshot::channel();
        let pending = PendingEscalation { job: job.clone(), plan: plan.clone(), now, reply };
        queue.send(pending).await.map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }

    async fn commit_escalation_groups(pool: SqlitePool, mut pending: tokio::sync::mpsc::Receiver<PendingEscalation>) {
        let mut group = Vec::with_capacity(ESCALATION_GROUP);
        while pending.recv_many(&mut group, ESCALATION_GROUP).await > 0 {
            let answers = Self::commit_escalation_group(&pool, &group).await;
            tracing::debug!(escalations = group.len(), "escalations committed together");
            for (escalation, answer) in group.drain(..).zip(answers) {
                // the engine's task may have been stopped: the escalation is stored all the same
                let _ = escalation.reply.send(answer);
            }
        }
    }

    async fn commit_escalation_group(pool: &SqlitePool, group: &[PendingEscalation]) -> Vec<super::StoreResult<bool>> {
        if group.len() > 1 {
            let together = async {
                let mut tx = pool.begin().await?;
                let mut applied = Vec::with_capacity(group.len());
                for p in group {
                    applied.push(Self::apply_escalation_rows(&mut tx, &p.job, &p.plan, p.now).await?);
                }
                tx.commit().await?;
                Ok::<_, super::StoreError>(applied)
            };
            if let Ok(applied) = together.await {
                return applied.into_iter().map(Ok).collect();
            }
            // one escalation failed or the commit did: nothing of the group is stored, so each
            // goes again alone and gets its own answer
        }
        let mut answers = Vec::with_capacity(group.len());
        for p in group {
            answers.push(match pool.begin().await {
                Ok(tx) => Self::commit_escalation_alone(tx, &p.job, &p.plan, p.now).await,
                Err(e) => Err(e.into()),
            });
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

/// Escalations waiting for their group-commit task, at most; then `apply_escalation` waits.
const ESCALATION_QUEUE: usize = 1024;
/// Escalations in one transaction, at most.
const ESCALATION_GROUP: usize = 128;

struct PendingEscalation {
    job: super::Job,
    plan: super::EscalationPlan,
    now: i64,
    reply: tokio::sync::oneshot::Sender<super::StoreResult<bool>>,
}

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
