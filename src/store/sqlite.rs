//! SQLite: the embedded default. WAL journal; one writer connection (SQLite allows one writer
//! at a time, so a single connection serialises writes without lock errors) and a pool of
//! read-only connections beside it.

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use super::audit::audit_store_impl;
use super::batch_read::{BatchReader, batch_reads};
use super::citizen_pages::citizen_pages_store_impl;
use super::common::{common_store_impl, statement_chunks};
use super::group_commit::{GroupCommit, group_works};
use super::letter_rows::{LetterIn, LetterRows};
use super::retention::retention_store_impl;
use super::staff_pages::staff_pages_store_impl;
use super::web::web_store_impl;

pub struct SqliteStore {
    /// The one writer connection's pool, as transactions begin on it (see `SqliteWriter`).
    writer: SqliteWriter,
    reader: SqlitePool,
    /// One connection that copies the WAL into the database file in the background.
    checkpointer: SqlitePool,
    /// New letters, escalations and the engine's delivery starts and finishes, each kind on its
    /// way to its own group-commit task (started on first use).
    letters: GroupCommit<LetterWork>,
    escalations: GroupCommit<EscalationWork>,
    delivery_starts: GroupCommit<DeliveryStart>,
    delivery_finishes: GroupCommit<DeliveryFinish>,
    cpr_sealer: tokio::sync::OnceCell<crate::domain::cpr_seal::CprSealer>,
    /// Authorities by API-key hash and by id, for a few seconds.
    authorities: super::authority_cache::AuthorityCache,
    /// What routing reads for new letters, in batches.
    letter_reads: BatchReader<LetterContextRead>,
    /// What deliveries read of their letters, in batches.
    delivery_reads: BatchReader<DeliveryContextRead>,
    escalation_reads: BatchReader<EscalationContextRead>,
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
            .foreign_keys(true)
            // multi-row statements keep their statement journals in memory, not in temp files
            .pragma("temp_store", "MEMORY");
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
        }
        let lowered = Arc::new(AtomicBool::new(false));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // On the way back to the pool: the safety level goes back to FULL if engine
            // bookkeeping lowered it (see `begin_relaxed`). Only then: each statement on the
            // connection is a round trip to its thread, and the writer is what every write waits
            // for. The statement also waits for any rollback a dropped transaction queued, so it
            // runs when one looks open too. And when a COMMIT failed (say, the disk is full),
            // SQLite has already rolled back, so sqlx's own ROLLBACK fails and sqlx still believes
            // a transaction is open: its next "transaction" would be a SAVEPOINT, and its "commit"
            // a RELEASE that commits nothing durable. Such a connection is closed, never reused.
            .after_release({
                let lowered = Arc::clone(&lowered);
                move |conn, _| {
                    let lowered = lowered.swap(false, Ordering::AcqRel);
                    Box::pin(async move {
                        use sqlx::Connection as _;
                        if lowered || conn.is_in_transaction() {
                            sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
                        }
                        Ok(!conn.is_in_transaction())
                    })
                }
            })
            // a connection to a file in this process cannot have been cut off: the check
            // would only cost a round trip to its thread
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            // room for the multi-row statements of group commits (a few shapes per table);
            // the checkpointer copies the WAL into the database, so the writer only appends to
            // it (it checkpoints itself only if the WAL grows past ~200 MB, a backstop) and
            // gives the file back down to 64 MB when it starts it over
            .connect_with(
                options
                    .clone()
                    .statement_cache_capacity(400)
                    .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string())
                    .pragma("journal_size_limit", (64 * 1024 * 1024).to_string()),
            )
            .await?;
        let checkpointer = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        spawn_checkpointer(checkpointer.clone());
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self {
            writer: SqliteWriter { pool: writer, lowered },
            reader,
            checkpointer,
            // one writer: one group at a time
            letters: GroupCommit::new(1),
            escalations: GroupCommit::new(1),
            delivery_starts: GroupCommit::new(1),
            delivery_finishes: GroupCommit::new(1),
            cpr_sealer: Default::default(),
            authorities: Default::default(),
            letter_reads: BatchReader::new(READERS),
            delivery_reads: BatchReader::new(READERS),
            escalation_reads: BatchReader::new(READERS),
        })
    }

    /// No row locks: one writer connection does every write in turn.
    const ROW_LOCKS: bool = false;

    fn writer(&self) -> &SqlitePool {
        &self.writer.pool
    }

    /// What group commits begin their transactions on.
    fn group_writer(&self) -> &SqliteWriter {
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
        self.writer.begin(Durability::Relaxed).await
    }

    /// A claim's transaction (see `Store::claim_jobs`): relaxed, as the engine's bookkeeping.
    async fn begin_claim(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_relaxed().await
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
        self.checkpointer.close().await;
        self.reader.close().await;
        self.writer.pool.close().await;
    }

    pub(super) fn migrator() -> Migrator {
        Migrator::with_migrations(super::migrations::list(&[
            (1, "core", include_str!("../../migrations/sqlite/0001_core.sql")),
            (2, "web", include_str!("../../migrations/sqlite/0002_web.sql")),
            (3, "citizen pages", include_str!("../../migrations/sqlite/0003_citizen_pages.sql")),
            (4, "staff pages", include_str!("../../migrations/sqlite/0004_staff_pages.sql")),
            (5, "report roll-ups", include_str!("../../migrations/sqlite/0005_report_rollups.sql")),
            (6, "audit log", include_str!("../../migrations/sqlite/0006_audit_log.sql")),
            (7, "retention", include_str!("../../migrations/sqlite/0007_retention_webhook_secrets.sql")),
            (8, "lean indexes", include_str!("../../migrations/sqlite/0008_lean_indexes.sql")),
            (9, "job lanes", include_str!("../../migrations/sqlite/0009_job_lanes.sql")),
            (10, "letter bulk", include_str!("../../migrations/sqlite/0010_letter_bulk.sql")),
        ]))
    }
}

/// The writer checkpoints the WAL itself only past this many pages (4 KiB each): a backstop
/// for when the background checkpointer cannot keep up.
const WRITER_CHECKPOINT_PAGES: u32 = 50_000;
/// Batches of delivery reads in flight at once: two of the four read connections, so the
/// other reads always find one.
const READERS: usize = 2;
/// How often the background checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Copy what the WAL holds into the database file every `CHECKPOINT_EVERY`, on a connection of
/// its own, so that the writer's commits only append to the WAL: with SQLite's default the
/// commit that fills 1,000 pages does the copying itself, and every writer behind it waits.
/// A passive checkpoint waits for nobody; pages changed several times between two checkpoints
/// are written to the database once. Stops when the store is closed.
fn spawn_checkpointer(pool: SqlitePool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                return;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
                if pool.is_closed() {
                    return;
                }
                // the writer's own checkpoints (WRITER_CHECKPOINT_PAGES) take over meanwhile
                tracing::warn!(error = %e, "background WAL checkpoint failed");
            }
        }
    });
}

/// The authority that `update_letters_status` answered for a delivery's letter.
fn letter_authority(authorities: &HashMap<Uuid, Uuid>, letter_id: Uuid, delivery_id: Uuid) -> StoreResult<Uuid> {
    authorities
        .get(&letter_id)
        .copied()
        .ok_or_else(|| StoreError::Corrupt(format!("delivery {delivery_id} has no letter")))
}

/// Due jobs, the longest due first, leased to a worker (see `Store::claim_jobs`): the bulk
/// lane's share (`$5`, see `bulk_share`), then the first lane's, then the bulk lane's after its
/// share (see `LANE_FIRST`). Both reads of the bulk lane go the same way through `jobs_due`,
/// so the `OFFSET` passes over just the share.
const CLAIM_JOBS: &str = "UPDATE jobs SET available_at = $1 + $2, locked_by = $3, attempts = attempts + 1 \
    WHERE id IN (SELECT id FROM ( \
        SELECT * FROM (SELECT id, 0 AS part, available_at FROM jobs WHERE lane = 1 AND available_at <= $1 \
            ORDER BY available_at LIMIT $5) \
        UNION ALL \
        SELECT * FROM (SELECT id, 1 AS part, available_at FROM jobs WHERE lane = 0 AND available_at <= $1 \
            ORDER BY available_at LIMIT $4) \
        UNION ALL \
        SELECT * FROM (SELECT id, 2 AS part, available_at FROM jobs WHERE lane = 1 AND available_at <= $1 \
            ORDER BY available_at LIMIT $4 OFFSET $5) \
    ) ORDER BY part, available_at LIMIT $4) \
    RETURNING id, kind, letter_id, delivery_id, step, payload, attempts, max_attempts, lane";

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

/// How a transaction on the writer waits for the disk.
#[derive(Clone, Copy)]
enum Durability {
    /// `synchronous=FULL`, the connection's own setting: survives power loss.
    Full,
    /// `synchronous=NORMAL`, for the engine's bookkeeping (see `SqliteStore::begin_relaxed`).
    Relaxed,
}

/// The writer pool, and whether a transaction on its one connection has lowered the safety
/// level that the connection's release must then set back (see `SqliteStore::connect`).
#[derive(Clone)]
pub(crate) struct SqliteWriter {
    pool: SqlitePool,
    lowered: Arc<AtomicBool>,
}

impl SqliteWriter {
    async fn begin(&self, durability: Durability) -> Result<Tx, sqlx::Error> {
        let conn = self.pool.acquire().await?;
        let statement = match durability {
            Durability::Full => None,
            Durability::Relaxed => {
                // only now: the connection's release before this acquire has read and cleared
                // the mark, and the one after it must set FULL again
                self.lowered.store(true, Ordering::Release);
                // the level cannot change inside a transaction; set with the `BEGIN`, it costs
                // no round trip of its own
                Some(sqlx::SqlSafeStr::into_sql_str("PRAGMA synchronous = NORMAL; BEGIN"))
            }
        };
        sqlx::Transaction::begin(conn, statement).await
    }
}

async fn begin_full(writer: &SqliteWriter) -> Result<Tx, sqlx::Error> {
    writer.begin(Durability::Full).await
}

async fn begin_relaxed_on(writer: &SqliteWriter) -> Result<Tx, sqlx::Error> {
    writer.begin(Durability::Relaxed).await
}

group_works!(SqliteStore, sqlx::Sqlite, writer = SqliteWriter, full = begin_full, relaxed = begin_relaxed_on);
batch_reads!(SqliteStore, sqlx::Sqlite);

// a read transaction in WAL mode is a snapshot already
common_store_impl!(
    SqliteStore,
    sqlx::Sqlite,
    lock = "",
    skip_locked = "",
    visible = "",
    // one writer: `seq` order is commit order ($2, the cursor's xid, is always 0 here)
    feed_after = "seq > $3",
    feed_order = "seq",
    feed_xid = "0",
    snapshot = ""
);
web_store_impl!(SqliteStore);
citizen_pages_store_impl!(SqliteStore);
staff_pages_store_impl!(SqliteStore);
retention_store_impl!(SqliteStore, skip_locked = "");
audit_store_impl!(SqliteStore);

impl SqliteStore {
    /// A group of new letters' rows (see `LetterRows`) in `tx`, which the caller commits: a
    /// multi-row statement per table (in chunks, see `statement_chunks`), all after the
    /// citizens' upsert in one call (see `Statements`), since each call is a round trip to the
    /// connection's thread.
    async fn insert_letters_rows(tx: &mut Tx, letters: &[LetterIn<'_>]) -> Result<Vec<CreatedLetter>, sqlx::Error> {
        let rows = LetterRows::new(letters);
        let mut citizen_ids: HashMap<String, Uuid> = HashMap::with_capacity(rows.citizens.len());
        for chunk in statement_chunks(&rows.citizens, 128) {
            let mut q =
                sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO citizens (id, cpr_hash, cpr, created_at) ");
            q.push_values(chunk, |mut row, (l, sealed_cpr)| {
                row.push_bind(l.citizen_id).push_bind(&l.cpr_hash).push_bind(*sealed_cpr).push_bind(l.now);
            });
            q.push(" ON CONFLICT (cpr_hash) DO UPDATE SET cpr = excluded.cpr RETURNING id, cpr_hash");
            let returned: Vec<(Uuid, String)> = q.build_query_as().fetch_all(&mut **tx).await?;
            citizen_ids.extend(returned.into_iter().map(|(id, hash)| (hash, id)));
        }

        let mut statements = Self::statements();
        for chunk in statement_chunks(letters, 128) {
            let q = statements.start(
                "INSERT INTO letters (id, authority_id, citizen_id, recipient, subject, body, importance, \
                 respond_by, deadline, reference, contact, status, idempotency_key, request_hash, created_at, \
                 updated_at, category, bulk) ",
                false,
            );
            let mut missing = false;
            q.push_values(chunk, |mut row, (l, _)| {
                let citizen_id = citizen_ids.get(&l.cpr_hash).copied().unwrap_or_else(|| {
                    missing = true;
                    Uuid::nil()
                });
                row.push_bind(l.id)
                    .push_bind(l.authority_id)
                    .push_bind(citizen_id)
                    .push_bind(Json(&l.recipient))
                    .push_bind(&l.subject)
                    .push_bind(&l.body)
                    .push_bind(l.importance.as_str())
                    .push_bind(&l.respond_by)
                    .push_bind(&l.respond_by)
                    .push_bind(&l.reference)
                    .push_bind(Json(&l.contact))
                    .push_bind("accepted")
                    .push_bind(&l.idempotency_key)
                    .push_bind(&l.request_hash)
                    .push_bind(l.now)
                    .push_bind(l.now)
                    .push_bind(&l.category)
                    .push_bind(l.bulk.is_some());
            });
            if missing {
                return Err(sqlx::Error::Protocol("a citizen row was not returned".into()));
            }
        }
        // documents carry their content: fewer per statement
        for chunk in statement_chunks(&rows.documents, 16) {
            let q = statements.start(
                "INSERT INTO documents (id, letter_id, position, filename, media_type, size, sha256, content) ",
                false,
            );
            q.push_values(chunk, |mut row, (l, position, d)| {
                row.push_bind(d.id)
                    .push_bind(l.id)
                    .push_bind(*position as i64)
                    .push_bind(&d.filename)
                    .push_bind(&d.media_type)
                    .push_bind(d.content.len() as i64)
                    .push_bind(&d.sha256)
                    .push_bind(&d.content);
            });
        }
        Self::push_deliveries(&mut statements, &rows.deliveries);
        Self::push_jobs(&mut statements, &rows.jobs);
        Self::push_event_records(&mut statements, &rows.events);
        let seqs = Self::run_statements(tx, statements).await?;
        rows.created(&citizen_ids, seqs)
    }

    /// The delivery starts of a commit group (or a claim) in `tx`, answers in the group's
    /// order: one statement per table for the lot (a group of one is a single start).
    async fn start_deliveries_rows(tx: &mut Tx, starts: &[(&Job, i64)]) -> StoreResult<Vec<Option<DeliveryRecord>>> {
        let mut with_delivery = Vec::with_capacity(starts.len());
        for (job, now) in starts {
            let delivery_id =
                job.delivery_id.ok_or_else(|| StoreError::Corrupt(format!("job {} has no delivery", job.id)))?;
            with_delivery.push((*job, delivery_id, *now));
        }
        let mut started: HashMap<Uuid, DeliveryRecord> = HashMap::with_capacity(starts.len());
        let mut statements = Self::statements();
        for chunk in statement_chunks(&with_delivery, 128) {
            let q = statements.start(
                "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, updated_at = v.column2 FROM (",
                true,
            );
            q.push_values(chunk, |mut row, (_, delivery_id, now)| {
                row.push_bind(*delivery_id).push_bind(*now);
            });
            q.push(concat!(
                ") AS v WHERE deliveries.id = v.column1 AND deliveries.status IN ('queued', 'sending') RETURNING ",
                delivery_cols!()
            ));
        }
        let rows: Vec<DeliveryRow> = Self::run_statements(tx, statements).await?;
        for row in rows {
            let delivery = DeliveryRecord::try_from(row)?;
            started.insert(delivery.id, delivery);
        }
        // a delivery no longer waiting (cancelled, settled): its job is done
        let done: Vec<Uuid> = with_delivery
            .iter()
            .filter(|(_, delivery_id, _)| !started.contains_key(delivery_id))
            .map(|(job, _, _)| job.id)
            .collect();
        Self::delete_jobs(tx, &done).await?;
        // a first attempt dispatches its letter
        let firsts: Vec<(&Job, &DeliveryRecord, i64)> = with_delivery
            .iter()
            .filter_map(|(job, delivery_id, now)| started.get(delivery_id).map(|d| (*job, d, *now)))
            .filter(|(_, d, _)| d.attempts == 1)
            .collect();
        let mut letters: Vec<(Uuid, i64, &str)> =
            firsts.iter().map(|(job, _, now)| (job.letter_id, *now, "")).collect();
        letters.sort_by_key(|(id, _, _)| *id);
        letters.dedup_by_key(|(id, _, _)| *id);
        let authorities = Self::update_letters_status(tx, &letters, "status = 'accepted'", "dispatched").await?;
        let events = firsts
            .iter()
            .map(|(job, d, now)| {
                let authority_id = letter_authority(&authorities, job.letter_id, d.id)?;
                let data = serde_json::json!({ "delivery_id": d.id, "channel": d.channel });
                Ok(NewEvent { letter_id: job.letter_id, authority_id, kind: EventKind::Dispatched, data, now: *now })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Self::append_events(tx, events).await?;
        Ok(with_delivery.iter().map(|(_, delivery_id, _)| started.get(delivery_id).cloned()).collect())
    }

    /// The delivered ones of a delivery finish group (see `finish_deliveries_rows`) in `tx`,
    /// with one statement per table, all in one call after the deliveries' (see `Statements`).
    async fn settle_delivered(tx: &mut Tx, delivered: &[Delivered<'_>]) -> StoreResult<()> {
        let mut statements = Self::statements();
        for chunk in statement_chunks(delivered, 128) {
            let q = statements.start(
                "UPDATE deliveries SET status = 'delivered', transport = v.column2, provider_ref = v.column3, \
                 last_error = NULL, updated_at = v.column4 FROM (",
                true,
            );
            q.push_values(chunk, |mut row, d| {
                row.push_bind(d.delivery_id).push_bind(d.transport).push_bind(d.provider_ref).push_bind(d.now);
            });
            q.push(
                ") AS v WHERE deliveries.id = v.column1 AND deliveries.status IN ('sending', 'cancelled') \
                 RETURNING id, channel, purpose",
            );
        }
        let rows: Vec<(Uuid, String, String)> = Self::run_statements(tx, statements).await?;
        let settled: HashMap<Uuid, (String, String)> =
            rows.into_iter().map(|(id, channel, purpose)| (id, (channel, purpose))).collect();
        let settled_in_order: Vec<_> = delivered
            .iter()
            .filter_map(|d| settled.get(&d.delivery_id).map(|(channel, purpose)| (d, channel, purpose)))
            .collect();
        // a letter is delivered when the delivery carrying it is (not a notice)
        let mut letters: Vec<(Uuid, i64, &str)> = settled_in_order
            .iter()
            .map(|(d, _, purpose)| {
                (d.job.letter_id, d.now, if purpose.as_str() == "letter" { "delivered" } else { "" })
            })
            .collect();
        // one row per letter, the delivered one first where there is one
        letters.sort_by(|a, b| a.0.cmp(&b.0).then(b.2.cmp(a.2)));
        letters.dedup_by_key(|(id, _, _)| *id);
        let authorities = Self::update_letters_status(tx, &letters, "status IN ('accepted', 'dispatched')", "").await?;
        let events = settled_in_order
            .iter()
            .map(|(d, channel, purpose)| {
                let authority_id = letter_authority(&authorities, d.job.letter_id, d.delivery_id)?;
                let data = serde_json::json!({
                    "delivery_id": d.delivery_id, "channel": channel, "purpose": purpose,
                    "transport": d.transport, "provider_ref": d.provider_ref,
                });
                Ok(NewEvent { letter_id: d.job.letter_id, authority_id, kind: EventKind::Delivered, data, now: d.now })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        // the events and the jobs' end in one call on SQLite
        let mut statements = Self::statements();
        Self::push_events(&mut statements, events);
        let jobs: Vec<Uuid> = delivered.iter().map(|d| d.job.id).collect();
        Self::push_delete_jobs(&mut statements, &jobs);
        let _seqs: Vec<(Uuid, i64)> = Self::run_statements(tx, statements).await?;
        Ok(())
    }

    /// Letters' status and `updated_at` in `tx`, each row `(letter, now, status)`: the
    /// row's status (or `fixed` where the row's is empty) when the letter's status
    /// matches `when`, else unchanged. Answers each letter's authority.
    async fn update_letters_status(
        tx: &mut Tx,
        letters: &[(Uuid, i64, &str)],
        when: &'static str,
        fixed: &'static str,
    ) -> StoreResult<HashMap<Uuid, Uuid>> {
        let mut statements = Self::statements();
        for chunk in statement_chunks(letters, 128) {
            let q = statements.start("UPDATE letters SET status = CASE WHEN ", true);
            q.push(when);
            q.push(" AND COALESCE(NULLIF(v.column3, ''), ");
            q.push_bind(fixed);
            q.push(") <> '' THEN COALESCE(NULLIF(v.column3, ''), ");
            q.push_bind(fixed);
            q.push(") ELSE status END, updated_at = v.column2 FROM (");
            q.push_values(chunk, |mut row, (id, now, status)| {
                row.push_bind(*id).push_bind(*now).push_bind(*status);
            });
            q.push(") AS v WHERE letters.id = v.column1 RETURNING id, authority_id");
        }
        let rows: Vec<(Uuid, Uuid)> = Self::run_statements(tx, statements).await?;
        Ok(rows.into_iter().collect())
    }

    /// No row locks on SQLite (see `ROW_LOCKS`): one writer connection does every write in
    /// turn, so every letter counts as taken.
    async fn select_letters_locked(_tx: &mut Tx, letter_ids: &[Uuid], _skip_locked: bool) -> StoreResult<Vec<Uuid>> {
        Ok(letter_ids.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::letter::ContactPoint;
    use crate::domain::{ChannelKind, DeliveryStatus, Importance};
    use crate::store::{Authority, DeliveryOutcome, Job, NewLetter, Recipient, Store};
    use std::sync::Arc;
    use uuid::Uuid;

    #[test]
    fn placeholders_are_numbered_for_sqlite() {
        assert_eq!(super::to_sqlite_placeholders("a = $1 AND b = $12 OR c = $1"), "a = ?1 AND b = ?12 OR c = ?1");
    }

    fn letter(authority_id: Uuid, i: usize, now: i64) -> NewLetter {
        NewLetter {
            bulk: None,
            id: Uuid::now_v7(),
            authority_id,
            citizen_id: Uuid::now_v7(),
            cpr: "0101901234".into(),
            cpr_hash: format!("hash-{i}"),
            recipient: Recipient { cpr_masked: "010190-****".into(), name: None, address: None },
            subject: "Afgørelse".into(),
            body: "Tekst".into(),
            importance: Importance::Normal,
            category: None,
            respond_by: None,
            reference: None,
            contact: ContactPoint::default(),
            documents: vec![],
            idempotency_key: None,
            request_hash: None,
            channel: ChannelKind::DigitalPost,
            delivery_id: Uuid::now_v7(),
            job_id: Uuid::now_v7(),
            notices: vec![],
            escalation_timer: None,
            max_attempts: 5,
            now,
        }
    }

    /// A fresh store in a temporary directory, migrated, with one authority; the URL opens
    /// the same database beside it.
    async fn store_with_authority() -> (Arc<dyn Store>, Authority, std::path::PathBuf, String) {
        let dir = std::env::temp_dir().join(format!("budbringer-groups-{}", Uuid::now_v7()));
        let url = format!("sqlite://{}", dir.join("db.sqlite").display());
        let store: Arc<dyn Store> = Arc::new(super::SqliteStore::connect(&url).await.unwrap());
        store.migrate().await.unwrap();
        let authority = Authority {
            id: Uuid::now_v7(),
            name: "Test".into(),
            cvr: "29189730".into(),
            created_at: 0,
            office_hours: None,
            closing_days: sqlx::types::Json(Vec::new()),
            time_zone: None,
        };
        store.create_authority(&authority).await.unwrap();
        (store, authority, dir, url)
    }

    /// Engine bookkeeping lowers the writer's safety level for its own transaction only: the
    /// connection is at FULL again for whatever comes next, also after a relaxed transaction
    /// that was dropped (whose rollback has then run), and a durable one leaves it at FULL.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_relaxed_transaction_lowers_the_safety_level_for_itself_only() {
        const NORMAL: i64 = 1;
        const FULL: i64 = 2;
        let dir = std::env::temp_dir().join(format!("budbringer-levels-{}", Uuid::now_v7()));
        let url = format!("sqlite://{}", dir.join("db.sqlite").display());
        let store = super::SqliteStore::connect(&url).await.unwrap();
        let level = "PRAGMA synchronous";
        let writer = store.writer().clone();
        let on_writer = || sqlx::query_scalar::<_, i64>(level).fetch_one(&writer);
        assert_eq!(on_writer().await.unwrap(), FULL);

        for _ in 0..2 {
            let mut tx = store.begin_relaxed().await.unwrap();
            assert_eq!(sqlx::query_scalar::<_, i64>(level).fetch_one(&mut *tx).await.unwrap(), NORMAL);
            tx.commit().await.unwrap();
            assert_eq!(on_writer().await.unwrap(), FULL);
        }

        let mut tx = store.begin_relaxed().await.unwrap();
        sqlx::query("CREATE TABLE scratch (n INTEGER)").execute(&mut *tx).await.unwrap();
        drop(tx);
        assert_eq!(on_writer().await.unwrap(), FULL);
        let scratch = "SELECT count(*) FROM sqlite_master WHERE name = 'scratch'";
        assert_eq!(sqlx::query_scalar::<_, i64>(scratch).fetch_one(store.writer()).await.unwrap(), 0);

        for _ in 0..2 {
            let mut tx = super::begin_full(store.group_writer()).await.unwrap();
            assert_eq!(sqlx::query_scalar::<_, i64>(level).fetch_one(&mut *tx).await.unwrap(), FULL);
            tx.commit().await.unwrap();
            assert_eq!(on_writer().await.unwrap(), FULL);
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Letters arriving together are written with one statement per table: each answer is
    /// what a read after the commit shows, a citizen with several letters in one group is one
    /// row, every event gets its webhook message, and a letter that fails (a reused
    /// idempotency key) fails alone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn letters_committed_together_are_stored_as_they_are_answered() {
        use crate::store::{Inserted, NewDelivery, NewDocumentRecord, Timer, Webhook};
        const LETTERS: usize = 60;
        let (store, authority, dir, url) = store_with_authority().await;
        for n in 0..2 {
            store
                .add_webhook(&Webhook::new(authority.id, format!("https://example.org/{n}"), "s".into(), 0))
                .await
                .unwrap();
        }
        let now = 5_000_000;
        let letters: Vec<NewLetter> = (0..LETTERS)
            .map(|i| {
                // ten citizens, six letters each; every third letter with documents, a notice
                // and an escalation timer
                let mut l = letter(authority.id, i % 10, now + i as i64);
                if i % 3 == 0 {
                    l.documents = (0..2)
                        .map(|d| NewDocumentRecord {
                            id: Uuid::now_v7(),
                            filename: format!("bilag-{d}.pdf"),
                            media_type: "application/pdf".into(),
                            sha256: format!("sha-{i}-{d}"),
                            content: vec![d as u8; 10 + i],
                        })
                        .collect();
                    l.notices = vec![NewDelivery {
                        channel: ChannelKind::Sms,
                        delivery_id: Uuid::now_v7(),
                        job_id: Uuid::now_v7(),
                        helper: None,
                    }];
                    l.escalation_timer = Some(Timer { job_id: Uuid::now_v7(), step: 0, due_at: now + 86_400_000 });
                }
                l.idempotency_key = Some(format!("key-{i}"));
                l
            })
            .collect();
        // the last one reuses the first one's key
        let mut reused = letter(authority.id, 0, now);
        reused.idempotency_key = Some("key-0".into());

        let mut tasks = tokio::task::JoinSet::new();
        for l in letters.iter().cloned().chain([reused.clone()]) {
            let store = Arc::clone(&store);
            tasks.spawn(async move { (l.id, store.insert_letter(&l).await.unwrap()) });
        }
        let mut created = std::collections::HashMap::new();
        let mut existing = Vec::new();
        while let Some(done) = tasks.join_next().await {
            match done.unwrap() {
                (id, Inserted::Created(c)) => {
                    created.insert(id, c);
                }
                (id, Inserted::Existing { letter, .. }) => existing.push((id, letter.id)),
            }
        }
        // whichever of the two with key-0 came first was stored; the other got it back
        assert_eq!(created.len(), LETTERS, "{existing:?}");
        assert_eq!(existing.len(), 1);
        let (loser, winner) = existing[0];
        assert_ne!(loser, winner);
        assert!(created.contains_key(&winner));

        let mut citizens = std::collections::HashMap::new();
        for c in created.values() {
            let id = c.letter.id;
            let stored = store.letter(authority.id, id).await.unwrap().unwrap();
            assert_eq!(format!("{stored:?}"), format!("{:?}", c.letter));
            assert_eq!(format!("{:?}", store.documents(id).await.unwrap()), format!("{:?}", c.documents));
            assert_eq!(format!("{:?}", store.deliveries(id).await.unwrap()), format!("{:?}", c.deliveries));
            assert_eq!(format!("{:?}", store.timeline(id).await.unwrap()), format!("{:?}", c.timeline));
            assert_eq!(c.timeline.len(), 1);
            let cpr_hash = letters.iter().chain([&reused]).find(|l| l.id == id).unwrap().cpr_hash.clone();
            assert_eq!(
                *citizens.entry(cpr_hash).or_insert(c.letter.citizen_id),
                c.letter.citizen_id,
                "one row per citizen"
            );
        }
        assert_eq!(citizens.len(), 10);

        let check = sqlx::SqlitePool::connect(&url).await.unwrap();
        let count = |sql: &'static str| {
            let check = check.clone();
            async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&check).await.unwrap() }
        };
        let with_extras = created.values().filter(|c| !c.documents.is_empty()).count() as i64;
        assert!(with_extras >= 19);
        assert_eq!(count("SELECT count(*) FROM citizens").await, 10);
        assert_eq!(count("SELECT count(*) FROM documents").await, 2 * with_extras);
        assert_eq!(count("SELECT count(*) FROM deliveries").await, LETTERS as i64 + with_extras);
        assert_eq!(count("SELECT count(*) FROM jobs WHERE kind = 'deliver'").await, LETTERS as i64 + with_extras);
        assert_eq!(count("SELECT count(*) FROM jobs WHERE kind = 'escalate'").await, with_extras);
        assert_eq!(count("SELECT count(*) FROM events").await, LETTERS as i64);
        // two webhooks: a message for each event and webhook, pointing at its own event
        assert_eq!(count("SELECT count(*) FROM webhook_messages").await, 2 * LETTERS as i64);
        assert_eq!(
            count("SELECT count(*) FROM webhook_messages m JOIN events e ON e.seq = m.event_seq AND e.letter_id = m.letter_id").await,
            2 * LETTERS as i64
        );
        check.close().await;
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Starts and finishes arriving together share commit groups; each is applied once, and
    /// one that fails fails alone (the others of its group go again and are stored).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn delivery_starts_and_finishes_side_by_side_are_applied_once_and_fail_alone() {
        const LETTERS: usize = 40;
        let (store, authority, dir, url) = store_with_authority().await;
        let now = 5_000_000;
        for i in 0..LETTERS {
            store.insert_letter(&letter(authority.id, i, now)).await.unwrap();
        }
        // the jobs as a claim gives them but with their deliveries not started yet (a claim
        // on SQLite starts them itself): this is about starts committed side by side
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let jobs: Vec<Job> = sqlx::query_as(
            "SELECT id, kind, letter_id, delivery_id, step, payload, attempts, max_attempts FROM jobs WHERE kind = 'deliver'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        assert_eq!(jobs.len(), LETTERS);
        // a job naming a letter that does not exist: its start fails after its delivery's row
        // was changed, so it must roll back alone
        let failing = jobs[7].clone();
        let failing_delivery = failing.delivery_id.unwrap();
        let jobs: Vec<_> = jobs
            .into_iter()
            .map(|mut j| {
                if j.id == failing.id {
                    j.letter_id = Uuid::now_v7();
                }
                j
            })
            .collect();

        let mut tasks = tokio::task::JoinSet::new();
        for job in jobs.clone() {
            let store = Arc::clone(&store);
            tasks.spawn(async move {
                let started = store.start_delivery(&job, now).await.map(|w| w.map(|w| w.delivery.attempts));
                (job, started.map_err(|e| e.to_string()))
            });
        }
        let mut started = Vec::new();
        while let Some(done) = tasks.join_next().await {
            let (job, answer) = done.unwrap();
            if job.id == failing.id {
                assert!(answer.is_err(), "the failing start reports its error: {answer:?}");
            } else {
                assert_eq!(answer, Ok(Some(1)), "a start beside a failing one is applied");
                started.push(job);
            }
        }
        let untouched = store.delivery(failing_delivery).await.unwrap().unwrap();
        assert_eq!((untouched.status, untouched.attempts), (DeliveryStatus::Queued, 0), "nothing of it is stored");

        let mut tasks = tokio::task::JoinSet::new();
        for job in started {
            let store = Arc::clone(&store);
            tasks.spawn(async move {
                let outcome = DeliveryOutcome::Delivered { transport: "file".into(), provider_ref: None };
                let finished = store.finish_delivery(&job, &outcome, now + 1).await;
                (job, finished.map_err(|e| e.to_string()))
            });
        }
        while let Some(done) = tasks.join_next().await {
            let (job, answer) = done.unwrap();
            assert_eq!(answer, Ok(()));
            let kinds: Vec<String> = store.timeline(job.letter_id).await.unwrap().into_iter().map(|e| e.kind).collect();
            assert_eq!(kinds, ["accepted", "dispatched", "delivered"], "each applied exactly once");
        }
        // the finished jobs are gone; the failed start's job comes back when its lease ends
        let again = store.claim_jobs("w2", now + 60_000, 60_000, 1000).await.unwrap();
        assert_eq!(again.iter().map(|j| j.id).collect::<Vec<_>>(), [failing.id]);
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A delivery this version cannot read (say, a newer version's channel) must not hold up
    /// every claim: the claim stands without starting its deliveries, and the others start on
    /// their own.
    #[tokio::test]
    async fn a_claim_whose_starts_fail_still_claims_and_the_others_start_alone() {
        let (store, authority, dir, url) = store_with_authority().await;
        let now = 5_000_000;
        let letters: Vec<NewLetter> = (0..3).map(|i| letter(authority.id, i, now)).collect();
        for l in &letters {
            store.insert_letter(l).await.unwrap();
        }
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("UPDATE deliveries SET channel = 'carrier_pigeon' WHERE id = ?1")
            .bind(letters[1].delivery_id)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;

        let jobs = store.claim_jobs("w1", now, 60_000, 10).await.unwrap();
        assert_eq!(jobs.len(), 3, "the claim stands");
        assert!(jobs.iter().all(|j| matches!(j.start, crate::store::ClaimedStart::NotStarted)), "{jobs:?}");
        for job in &jobs {
            let started = store.start_delivery(job, now).await;
            if job.letter_id == letters[1].id {
                assert!(started.is_err(), "the unreadable one fails alone");
            } else {
                assert_eq!(started.unwrap().map(|w| w.delivery.attempts), Some(1));
            }
        }
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    /// The writer only appends to the WAL; the background checkpointer copies it into the
    /// database file (the writer's own checkpoint would wait for ~200 MB of WAL).
    #[tokio::test]
    async fn the_checkpointer_copies_the_wal_into_the_database_file() {
        let (store, authority, dir, _) = store_with_authority().await;
        let db_file = dir.join("db.sqlite");
        tokio::time::sleep(super::CHECKPOINT_EVERY * 3).await;
        let before = std::fs::metadata(&db_file).unwrap().len();
        let content = vec![7_u8; 2 * 1024 * 1024];
        let document = crate::store::NewDocumentRecord {
            id: Uuid::now_v7(),
            filename: "afgoerelse.pdf".into(),
            media_type: "application/pdf".into(),
            sha256: "0".repeat(64),
            content,
        };
        let big = NewLetter { documents: vec![document], ..letter(authority.id, 0, 1_000) };
        store.insert_letter(&big).await.unwrap();
        // committed: in the WAL at once, in the database file after a checkpoint. The file
        // grows by the content less the few pages the migrations freed (dropped indexes),
        // which SQLite fills first.
        let expected = 2 * 1024 * 1024 - 16 * 1024;
        let mut grown = 0;
        for _ in 0..50 {
            grown = std::fs::metadata(&db_file).unwrap().len().saturating_sub(before);
            if grown >= expected {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(grown >= expected, "the database file grew by {grown} bytes only");
        let wal = std::fs::metadata(dir.join("db.sqlite-wal")).unwrap().len();
        assert!(wal >= 2 * 1024 * 1024, "the letter was written to the WAL first ({wal} bytes)");
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
