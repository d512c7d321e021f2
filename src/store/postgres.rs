//! PostgreSQL: for several gateway processes behind a load balancer. Work is claimed with
//! `FOR UPDATE SKIP LOCKED`, so two processes never take the same job.

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::time::Duration;

use super::audit::audit_store_impl;
use super::batch_read::{BatchReader, batch_reads};
use super::citizen_pages::citizen_pages_store_impl;
use super::common::common_store_impl;
use super::group_commit::{GroupCommit, group_works};
use super::retention::retention_store_impl;
use super::staff_pages::staff_pages_store_impl;
use super::web::web_store_impl;

pub struct PgStore {
    pool: PgPool,
    /// New letters, escalations and the engine's delivery starts and finishes, each kind on its way to
    /// its group-commit tasks (started on first use).
    letters: GroupCommit<LetterWork>,
    escalations: GroupCommit<EscalationWork>,
    delivery_starts: GroupCommit<DeliveryStart>,
    delivery_finishes: GroupCommit<DeliveryFinish>,
    cpr_sealer: tokio::sync::OnceCell<crate::domain::cpr_seal::CprSealer>,
    /// Authorities by API-key hash and by id, for a few seconds.
    authorities: super::authority_cache::AuthorityCache,
    /// What deliveries read of their letters, in batches.
    delivery_reads: BatchReader<DeliveryContextRead>,
    escalation_reads: BatchReader<EscalationContextRead>,
}

/// Groups of a kind in flight at once: PostgreSQL commits transactions side by side (and
/// flushes its WAL for them together), so a few groups overlap, each with fewer round trips
/// than its letters would take one by one.
const COMMITTERS: usize = 4;

impl PgStore {
    const BACKEND: super::Backend = super::Backend::Postgres;

    /// PostgreSQL is backed up with its own tools (pg_dump, base backups with WAL archiving).
    async fn backup_into(&self, _to: &std::path::Path) -> Result<(), super::StoreError> {
        Err(super::StoreError::Unsupported("back up PostgreSQL with pg_dump or pg_basebackup (see the README)"))
    }

    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
        Ok(Self {
            pool,
            letters: GroupCommit::new(COMMITTERS),
            escalations: GroupCommit::new(COMMITTERS),
            delivery_starts: GroupCommit::new(COMMITTERS),
            delivery_finishes: GroupCommit::new(COMMITTERS),
            cpr_sealer: Default::default(),
            authorities: Default::default(),
            delivery_reads: BatchReader::new(COMMITTERS),
            escalation_reads: BatchReader::new(COMMITTERS),
        })
    }

    /// `SELECT … FOR UPDATE` orders concurrent transactions on a letter (see `lock_letter`).
    const ROW_LOCKS: bool = true;

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    /// What group commits begin their transactions on.
    fn group_writer(&self) -> &PgPool {
        &self.pool
    }

    /// A write transaction for the engine's own bookkeeping, committed without waiting for the
    /// WAL flush (`synchronous_commit = off`): a server crash may lose its last moments, which
    /// the leases then redo (at least once); it never corrupts. Letters, evidence and citizens'
    /// choices are always committed with the server's own setting.
    async fn begin_relaxed(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        begin_relaxed_on(&self.pool).await
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    async fn close_pools(&self) {
        self.pool.close().await;
    }

    pub(super) fn migrator() -> Migrator {
        Migrator::with_migrations(super::migrations::list(&[
            (1, "core", include_str!("../../migrations/postgres/0001_core.sql")),
            (2, "web", include_str!("../../migrations/postgres/0002_web.sql")),
            (3, "citizen pages", include_str!("../../migrations/postgres/0003_citizen_pages.sql")),
            (4, "staff pages", include_str!("../../migrations/postgres/0004_staff_pages.sql")),
            (5, "report roll-ups", include_str!("../../migrations/postgres/0005_report_rollups.sql")),
            (6, "audit log", include_str!("../../migrations/postgres/0006_audit_log.sql")),
            (7, "retention", include_str!("../../migrations/postgres/0007_retention_webhook_secrets.sql")),
            (8, "event feed order", include_str!("../../migrations/postgres/0008_event_feed_order.sql")),
            (9, "report fold", include_str!("../../migrations/postgres/0009_report_fold_in_background.sql")),
            (10, "report deltas", include_str!("../../migrations/postgres/0010_report_one_delta_per_update.sql")),
            (11, "report fold by range", include_str!("../../migrations/postgres/0011_report_fold_by_range.sql")),
            (12, "lean indexes", include_str!("../../migrations/postgres/0012_lean_hot_indexes.sql")),
        ]))
    }
}

fn sql(pg: &'static str) -> &'static str {
    pg
}

async fn begin_full(pool: &PgPool) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    pool.begin().await
}

/// See `PgStore::begin_relaxed`. One round trip: the setting goes with the `BEGIN`.
async fn begin_relaxed_on(pool: &PgPool) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    pool.begin_with("BEGIN; SET LOCAL synchronous_commit = off").await
}

group_works!(PgStore, sqlx::Postgres, writer = PgPool, full = begin_full, relaxed = begin_relaxed_on);
batch_reads!(PgStore, sqlx::Postgres);

common_store_impl!(
    PgStore,
    sqlx::Postgres,
    lock = " FOR UPDATE",
    skip_locked = " FOR UPDATE SKIP LOCKED",
    visible = " AND xid < pg_snapshot_xmin(pg_current_snapshot())",
    // in the order of the writing transactions (see `FeedCursor`); a cursor of `seq` alone,
    // handed out before, starts at that event's transaction
    feed_after = "(xid, seq) > ((CASE WHEN $2 = 0 \
                  THEN COALESCE((SELECT e.xid::text FROM events e WHERE e.seq = $3), '0') \
                  ELSE $2::text END)::xid8, $3)",
    feed_order = "xid, seq",
    feed_xid = "xid::text::bigint",
    snapshot = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
);
web_store_impl!(PgStore);
citizen_pages_store_impl!(PgStore);
staff_pages_store_impl!(PgStore);
retention_store_impl!(PgStore, skip_locked = " FOR UPDATE SKIP LOCKED");
audit_store_impl!(PgStore);
