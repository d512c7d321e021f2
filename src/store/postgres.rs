//! PostgreSQL: for several gateway processes behind a load balancer. Work is claimed with
//! `FOR UPDATE SKIP LOCKED`, so two processes never take the same job.

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::collections::HashMap;
use std::time::Duration;

use super::audit::audit_store_impl;
use super::batch_read::{BatchReader, batch_reads};
use super::citizen_pages::citizen_pages_store_impl;
use super::common::common_store_impl;
use super::group_commit::{GroupCommit, group_works};
use super::letter_rows::{LetterIn, LetterRows};
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
    /// What routing reads for new letters, in batches.
    letter_reads: BatchReader<LetterContextRead>,
    /// What deliveries read of their letters, in batches.
    delivery_reads: BatchReader<DeliveryContextRead>,
    escalation_reads: BatchReader<EscalationContextRead>,
}

/// Groups of a kind in flight at once: PostgreSQL commits transactions side by side (and
/// flushes its WAL for them together), so a few groups overlap, each with fewer round trips
/// than its letters would take one by one. Two, not more: with four, on two cores, the
/// server spent its CPU on more and smaller groups of every kind, and a burst, deliveries
/// alone and a steady 1,000 letters a second were all slower (docs/performance.md, thirteenth
/// round). Each gateway process has its own, so several processes overlap more.
const COMMITTERS: usize = 2;

/// Delivery finish groups in flight at once: one. A finish commits without waiting for the
/// WAL flush (relaxed), so its commit is short, and the finishes arriving meanwhile make the
/// next group larger: 7.8 deliveries a group instead of 4.8, and a tenth less of the server's
/// CPU per delivery, than with two (docs/performance.md, sixteenth round).
const FINISH_COMMITTERS: usize = 1;

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
            delivery_finishes: GroupCommit::new(FINISH_COMMITTERS),
            cpr_sealer: Default::default(),
            authorities: Default::default(),
            letter_reads: BatchReader::new(COMMITTERS),
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

    /// A claim's transaction (see `Store::claim_jobs`): relaxed, on generic plans as the
    /// delivery groups' (see `begin_delivery_group_on` and `CLAIM_JOBS`), since it starts
    /// the deliveries it claims with the same statements.
    async fn begin_claim(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        begin_delivery_group_on(&self.pool).await
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
            (13, "report inserts", include_str!("../../migrations/postgres/0013_report_inserts_per_statement.sql")),
            (14, "job lanes", include_str!("../../migrations/postgres/0014_job_lanes.sql")),
            (15, "letter bulk", include_str!("../../migrations/postgres/0015_letter_bulk.sql")),
        ]))
    }
}

/// Due jobs, the longest due first, leased to a worker (see `Store::claim_jobs`): the bulk
/// lane's share (`$5`, see `bulk_share`), then the first lane's, then the bulk lane's again
/// for what is left of the limit (see `LANE_FIRST`). Each lane is read from its own range of
/// `jobs_due`, each part only for what the parts before it left (so no row is locked that is
/// not claimed; the last part passes over the share, which its own locks would not hide);
/// jobs another worker is claiming are passed over. The ids go as an array (`= ANY`), not
/// `IN (subquery)`, so that the plan is the same for any due time and number: the server keeps
/// one generic plan (primary-key lookups) instead of planning each claim anew, as it did for
/// `IN`, where the generic plan (a `LIMIT` of unknown size) would scan the table.
const CLAIM_JOBS: &str = "WITH share AS (SELECT id FROM jobs WHERE lane = 1 AND available_at <= $1 \
        ORDER BY available_at LIMIT $5 FOR UPDATE SKIP LOCKED), \
    first AS (SELECT id FROM jobs WHERE lane = 0 AND available_at <= $1 \
        ORDER BY available_at LIMIT $4 - (SELECT COUNT(*) FROM share) FOR UPDATE SKIP LOCKED), \
    bulk AS (SELECT id FROM jobs WHERE lane = 1 AND available_at <= $1 AND id <> ALL(ARRAY(SELECT id FROM share)) \
        ORDER BY available_at LIMIT $4 - (SELECT COUNT(*) FROM share) - (SELECT COUNT(*) FROM first) \
        FOR UPDATE SKIP LOCKED) \
    UPDATE jobs SET available_at = $1 + $2, locked_by = $3, attempts = attempts + 1 \
    WHERE id = ANY(ARRAY(SELECT id FROM share UNION ALL SELECT id FROM first UNION ALL SELECT id FROM bulk)) \
    RETURNING id, kind, letter_id, delivery_id, step, payload, attempts, max_attempts, lane";

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

/// A delivery start or finish group's transaction: relaxed (see `PgStore::begin_relaxed`),
/// and its statements run on generic plans. Their texts are fixed (arrays, see
/// `START_DELIVERIES` and `SETTLE_DELIVERED`), and their best plan is the same for any group,
/// but the server went on planning the finish and the letters' lock for each group (a custom
/// plan for the arrays' sizes): in a run of 20,000 deliveries that was 0.9 s of its 6.7 s of
/// CPU (docs/performance.md, sixteenth round). Claims too (`PgStore::begin_claim`), whose
/// text is written for it (`CLAIM_JOBS`). Not every relaxed transaction: a claim written as
/// `IN (subquery)`, such as the webhook messages', gets a generic plan that scans the table.
async fn begin_delivery_group_on(pool: &PgPool) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    pool.begin_with("BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL plan_cache_mode = force_generic_plan").await
}

group_works!(PgStore, sqlx::Postgres, writer = PgPool, full = begin_full, relaxed = begin_delivery_group_on);
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

/// The clause that gives each event of the clause `e` (its `seq`, `letter_id`, `authority_id`
/// and `created_at` returned) a pending message for each of its authority's webhooks, in the
/// events' order: the same in each statement that writes events.
macro_rules! webhook_messages_of_events {
    () => {
        "w AS (
    INSERT INTO webhook_messages (webhook_id, event_seq, letter_id, state, available_at, attempts, created_at)
    SELECT wh.id, e.seq, e.letter_id, 'pending', e.created_at, 0, e.created_at
    FROM e JOIN webhooks wh ON wh.authority_id = e.authority_id
    ORDER BY e.seq, wh.id
)"
    };
}

/// A group of new letters' rows in one statement (see `PgStore::insert_letters_rows`): each
/// table's rows come as arrays, one per column. Rows inserted by one clause are visible to the
/// foreign keys and report triggers of the others, which run at the statement's end.
const INSERT_LETTERS: &str = concat!(
    "\
WITH c AS (
    INSERT INTO citizens (id, cpr_hash, cpr, created_at)
    SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::bigint[])
    ON CONFLICT (cpr_hash) DO UPDATE SET cpr = excluded.cpr
    RETURNING id, cpr_hash
), l AS (
    INSERT INTO letters (id, authority_id, citizen_id, recipient, subject, body, importance, respond_by, deadline,
        reference, contact, status, idempotency_key, request_hash, created_at, updated_at, category, bulk)
    SELECT x.id, x.authority_id, c.id, x.recipient, x.subject, x.body, x.importance, x.respond_by, x.respond_by,
        x.reference, x.contact, 'accepted', x.idempotency_key, x.request_hash, x.created_at, x.created_at, x.category,
        x.bulk
    FROM UNNEST($5::uuid[], $6::uuid[], $7::text[], $8::jsonb[], $9::text[], $10::text[], $11::text[], $12::text[],
        $13::text[], $14::jsonb[], $15::text[], $16::text[], $17::bigint[], $18::text[], $48::boolean[])
        AS x(id, authority_id, cpr_hash, recipient, subject, body, importance, respond_by, reference, contact,
        idempotency_key, request_hash, created_at, category, bulk)
    JOIN c ON c.cpr_hash = x.cpr_hash
    RETURNING id, citizen_id
), d AS (
    INSERT INTO documents (id, letter_id, position, filename, media_type, size, sha256, content)
    SELECT * FROM UNNEST($19::uuid[], $20::uuid[], $21::bigint[], $22::text[], $23::text[], $24::bigint[],
        $25::text[], $26::bytea[])
), dl AS (
    INSERT INTO deliveries (id, letter_id, channel, purpose, helper, status, attempts, created_at, updated_at)
    SELECT x.id, x.letter_id, x.channel, x.purpose, x.helper, 'queued', 0, x.created_at, x.created_at
    FROM UNNEST($27::uuid[], $28::uuid[], $29::text[], $30::text[], $31::jsonb[], $32::bigint[])
        AS x(id, letter_id, channel, purpose, helper, created_at)
), j AS (
    INSERT INTO jobs (id, kind, letter_id, delivery_id, step, available_at, attempts, max_attempts, created_at, lane)
    SELECT x.id, x.kind, x.letter_id, x.delivery_id, x.step, x.available_at, 0, x.max_attempts, x.created_at, x.lane
    FROM UNNEST($33::uuid[], $34::text[], $35::uuid[], $36::uuid[], $37::bigint[], $38::bigint[], $39::bigint[],
        $40::bigint[], $47::smallint[]) AS x(id, kind, letter_id, delivery_id, step, available_at, max_attempts,
        created_at, lane)
), e AS (
    INSERT INTO events (id, letter_id, authority_id, kind, data, created_at)
    SELECT x.id, x.letter_id, x.authority_id, x.kind, x.data, x.created_at
    FROM UNNEST($41::uuid[], $42::uuid[], $43::uuid[], $44::text[], $45::jsonb[], $46::bigint[])
        WITH ORDINALITY AS x(id, letter_id, authority_id, kind, data, created_at, n)
    ORDER BY x.n
    RETURNING id, seq, letter_id, authority_id, created_at
), ",
    webhook_messages_of_events!(),
    "
SELECT e.id, e.seq, c.cpr_hash, c.id FROM e JOIN l ON l.id = e.letter_id JOIN c ON c.id = l.citizen_id"
);

/// Documents in a statement of their own (see `DOCUMENT_BYTES_IN_ONE_STATEMENT`).
const INSERT_DOCUMENTS: &str = "INSERT INTO documents (id, letter_id, position, filename, media_type, size, sha256, \
    content) SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], \
    $7::text[], $8::bytea[])";

/// A group whose documents hold more bytes than this sends them apart from its statement, in
/// statements of at most this size (or one document), so that no message to the server holds
/// a whole group's large documents at once.
const DOCUMENT_BYTES_IN_ONE_STATEMENT: usize = 8 << 20;

/// Binds `documents` (each with its letter and position) as the eight arrays, in
/// `INSERT_DOCUMENTS`'s order, to `query` (a `Query` or a `QueryAs`).
macro_rules! bind_documents {
    ($query:expr, $documents:expr) => {{
        let documents = $documents;
        $query
            .bind(documents.iter().map(|(_, _, d)| d.id).collect::<Vec<_>>())
            .bind(documents.iter().map(|(l, _, _)| l.id).collect::<Vec<_>>())
            .bind(documents.iter().map(|(_, position, _)| *position as i64).collect::<Vec<_>>())
            .bind(documents.iter().map(|(_, _, d)| d.filename.as_str()).collect::<Vec<_>>())
            .bind(documents.iter().map(|(_, _, d)| d.media_type.as_str()).collect::<Vec<_>>())
            .bind(documents.iter().map(|(_, _, d)| d.content.len() as i64).collect::<Vec<_>>())
            .bind(documents.iter().map(|(_, _, d)| d.sha256.as_str()).collect::<Vec<_>>())
            .bind(documents.iter().map(|(_, _, d)| d.content.as_slice()).collect::<Vec<_>>())
    }};
}

impl PgStore {
    /// A group of new letters' rows (see `LetterRows`) in `tx`, which the caller commits, in
    /// one statement whatever the group's size (`INSERT_LETTERS`): one round trip, one
    /// statement for the server to set up, and one text, prepared once per connection. Only
    /// large documents go apart (`DOCUMENT_BYTES_IN_ONE_STATEMENT`).
    async fn insert_letters_rows(tx: &mut Tx, letters: &[LetterIn<'_>]) -> Result<Vec<CreatedLetter>, sqlx::Error> {
        let rows = LetterRows::new(letters);
        let (ls, cs, ds, dls, js, es) =
            (rows.letters, &rows.citizens, &rows.documents, &rows.deliveries, &rows.jobs, &rows.events);
        let document_bytes: usize = ds.iter().map(|(_, _, d)| d.content.len()).sum();
        let (with_letters, apart) =
            if document_bytes <= DOCUMENT_BYTES_IN_ONE_STATEMENT { (&ds[..], &ds[..0]) } else { (&ds[..0], &ds[..]) };
        let query = sqlx::query_as(INSERT_LETTERS)
            .bind(cs.iter().map(|(l, _)| l.citizen_id).collect::<Vec<_>>())
            .bind(cs.iter().map(|(l, _)| l.cpr_hash.as_str()).collect::<Vec<_>>())
            .bind(cs.iter().map(|(_, sealed_cpr)| *sealed_cpr).collect::<Vec<_>>())
            .bind(cs.iter().map(|(l, _)| l.now).collect::<Vec<_>>())
            .bind(ls.iter().map(|(l, _)| l.id).collect::<Vec<_>>())
            .bind(ls.iter().map(|(l, _)| l.authority_id).collect::<Vec<_>>())
            .bind(ls.iter().map(|(l, _)| l.cpr_hash.as_str()).collect::<Vec<_>>())
            .bind(ls.iter().map(|(l, _)| Json(&l.recipient)).collect::<Vec<_>>())
            .bind(ls.iter().map(|(l, _)| l.subject.as_str()).collect::<Vec<_>>())
            .bind(ls.iter().map(|(l, _)| l.body.as_str()).collect::<Vec<_>>())
            .bind(ls.iter().map(|(l, _)| l.importance.as_str()).collect::<Vec<_>>())
            .bind(ls.iter().map(|(l, _)| l.respond_by.as_deref()).collect::<Vec<_>>())
            .bind(ls.iter().map(|(l, _)| l.reference.as_deref()).collect::<Vec<_>>())
            .bind(ls.iter().map(|(l, _)| Json(&l.contact)).collect::<Vec<_>>())
            .bind(ls.iter().map(|(l, _)| l.idempotency_key.as_deref()).collect::<Vec<_>>())
            .bind(ls.iter().map(|(l, _)| l.request_hash.as_deref()).collect::<Vec<_>>())
            .bind(ls.iter().map(|(l, _)| l.now).collect::<Vec<_>>())
            .bind(ls.iter().map(|(l, _)| l.category.as_deref()).collect::<Vec<_>>());
        let returned: Vec<(Uuid, i64, String, Uuid)> = bind_documents!(query, with_letters)
            .bind(dls.iter().map(|d| d.id).collect::<Vec<_>>())
            .bind(dls.iter().map(|d| d.letter_id).collect::<Vec<_>>())
            .bind(dls.iter().map(|d| d.channel.as_str()).collect::<Vec<_>>())
            .bind(dls.iter().map(|d| d.purpose).collect::<Vec<_>>())
            .bind(dls.iter().map(|d| d.helper.map(Json)).collect::<Vec<_>>())
            .bind(dls.iter().map(|d| d.now).collect::<Vec<_>>())
            .bind(js.iter().map(|j| j.id).collect::<Vec<_>>())
            .bind(js.iter().map(|j| j.kind).collect::<Vec<_>>())
            .bind(js.iter().map(|j| j.letter_id).collect::<Vec<_>>())
            .bind(js.iter().map(|j| j.delivery_id).collect::<Vec<_>>())
            .bind(js.iter().map(|j| j.step).collect::<Vec<_>>())
            .bind(js.iter().map(|j| j.available_at).collect::<Vec<_>>())
            .bind(js.iter().map(|j| j.max_attempts).collect::<Vec<_>>())
            .bind(js.iter().map(|j| j.created_at).collect::<Vec<_>>())
            .bind(es.iter().map(|(_, e)| e.id).collect::<Vec<_>>())
            .bind(es.iter().map(|(_, e)| e.letter_id).collect::<Vec<_>>())
            .bind(es.iter().map(|(authority_id, _)| *authority_id).collect::<Vec<_>>())
            .bind(es.iter().map(|(_, e)| e.kind.as_str()).collect::<Vec<_>>())
            .bind(es.iter().map(|(_, e)| &e.data).collect::<Vec<_>>())
            .bind(es.iter().map(|(_, e)| e.created_at).collect::<Vec<_>>())
            .bind(js.iter().map(|j| j.lane).collect::<Vec<_>>())
            .bind(ls.iter().map(|(l, _)| l.bulk.is_some()).collect::<Vec<_>>())
            .fetch_all(&mut **tx)
            .await?;
        // after their letters, which the foreign key wants
        let mut rest = apart;
        while !rest.is_empty() {
            let mut take = 1;
            let mut bytes = rest[0].2.content.len();
            while take < rest.len() && bytes + rest[take].2.content.len() <= DOCUMENT_BYTES_IN_ONE_STATEMENT {
                bytes += rest[take].2.content.len();
                take += 1;
            }
            let (chunk, tail) = rest.split_at(take);
            bind_documents!(sqlx::query(INSERT_DOCUMENTS), chunk).execute(&mut **tx).await?;
            rest = tail;
        }
        let mut citizen_ids = HashMap::with_capacity(rows.citizens.len());
        let mut seqs = Vec::with_capacity(returned.len());
        for (event_id, seq, cpr_hash, citizen_id) in returned {
            citizen_ids.insert(cpr_hash, citizen_id);
            seqs.push((event_id, seq));
        }
        // a letter left out (no citizen row) has no seq: `created` then fails the group
        rows.created(&citizen_ids, seqs)
    }
}

/// A group of delivery starts in one statement (see `PgStore::start_deliveries_rows`): the
/// deliveries still waiting go to `sending`; the jobs of those no longer waiting (cancelled,
/// settled) are done; a first attempt dispatches its letter, with a `dispatched` event and
/// its webhook messages. The letters are locked already. Answers the started deliveries.
const START_DELIVERIES: &str = concat!(
    "\
WITH v AS (
    SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[], $4::uuid[])
        WITH ORDINALITY AS v(delivery_id, job_id, now, event_id, n)
), dl AS (
    UPDATE deliveries SET status = 'sending', attempts = attempts + 1, updated_at = v.now
    FROM v WHERE deliveries.id = v.delivery_id AND deliveries.status IN ('queued', 'sending')
    RETURNING ",
    delivery_cols!(),
    ", v.now AS started_at, v.event_id, v.n
), done AS (
    DELETE FROM jobs WHERE id IN (SELECT v.job_id FROM v WHERE NOT EXISTS (SELECT FROM dl WHERE dl.id = v.delivery_id))
), firsts AS (
    SELECT * FROM dl WHERE attempts = 1
), lt AS (
    UPDATE letters SET status = CASE WHEN status = 'accepted' THEN 'dispatched' ELSE status END, updated_at = f.now
    FROM (SELECT letter_id, max(started_at) AS now FROM firsts GROUP BY letter_id) f
    WHERE letters.id = f.letter_id
    RETURNING letters.id, letters.authority_id
), e AS (
    INSERT INTO events (id, letter_id, authority_id, kind, data, created_at)
    SELECT f.event_id, f.letter_id, lt.authority_id, 'dispatched',
        jsonb_build_object('delivery_id', f.id, 'channel', f.channel), f.started_at
    FROM firsts f JOIN lt ON lt.id = f.letter_id
    ORDER BY f.n
    RETURNING seq, letter_id, authority_id, created_at
), ",
    webhook_messages_of_events!(),
    "
SELECT ",
    delivery_cols!(),
    " FROM dl"
);

/// The delivered ones of a finish group in one statement (see `PgStore::settle_delivered`):
/// deliveries still sending (or cancelled meanwhile) become `delivered`; a letter becomes
/// `delivered` when the delivery carrying it is (not a notice); each settled delivery gets its
/// `delivered` event and webhook messages; every one's job is done. The letters are locked
/// already.
const SETTLE_DELIVERED: &str = concat!(
    "\
WITH v AS (
    SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::bigint[], $6::uuid[])
        WITH ORDINALITY AS v(delivery_id, job_id, transport, provider_ref, now, event_id, n)
), dl AS (
    UPDATE deliveries SET status = 'delivered', transport = v.transport, provider_ref = v.provider_ref,
        last_error = NULL, updated_at = v.now
    FROM v WHERE deliveries.id = v.delivery_id AND deliveries.status IN ('sending', 'cancelled')
    RETURNING deliveries.id, deliveries.letter_id, deliveries.channel, deliveries.purpose, v.transport,
        v.provider_ref, v.now, v.event_id, v.n
), lt AS (
    UPDATE letters SET status = CASE WHEN s.delivered AND status IN ('accepted', 'dispatched') THEN 'delivered'
        ELSE status END, updated_at = s.now
    FROM (SELECT letter_id, bool_or(purpose = 'letter') AS delivered, max(now) AS now FROM dl GROUP BY letter_id) s
    WHERE letters.id = s.letter_id
    RETURNING letters.id, letters.authority_id
), e AS (
    INSERT INTO events (id, letter_id, authority_id, kind, data, created_at)
    SELECT dl.event_id, dl.letter_id, lt.authority_id, 'delivered',
        jsonb_build_object('delivery_id', dl.id, 'channel', dl.channel, 'purpose', dl.purpose,
            'transport', dl.transport, 'provider_ref', dl.provider_ref), dl.now
    FROM dl JOIN lt ON lt.id = dl.letter_id
    ORDER BY dl.n
    RETURNING seq, letter_id, authority_id, created_at
), ",
    webhook_messages_of_events!(),
    ", j AS (
    DELETE FROM jobs WHERE id IN (SELECT job_id FROM v)
)
SELECT (SELECT count(*) FROM dl), (SELECT count(*) FROM e)"
);

/// Letters locked in id order (see `PgStore::select_letters_locked`), waiting for any another
/// transaction holds; `LOCK_FREE_LETTERS` passes those over.
const LOCK_LETTERS: &str = "SELECT id FROM letters WHERE id = ANY($1) ORDER BY id FOR UPDATE";
const LOCK_FREE_LETTERS: &str = "SELECT id FROM letters WHERE id = ANY($1) ORDER BY id FOR UPDATE SKIP LOCKED";

impl PgStore {
    /// The delivery starts of a commit group (or a claim) in `tx`, their letters locked
    /// already; answers in the group's order. One statement whatever the group's size
    /// (`START_DELIVERIES`): one round trip and one text, prepared once per connection, where
    /// a statement per table in chunks took up to eight a table.
    async fn start_deliveries_rows(tx: &mut Tx, starts: &[(&Job, i64)]) -> StoreResult<Vec<Option<DeliveryRecord>>> {
        let mut delivery_ids = Vec::with_capacity(starts.len());
        for (job, _) in starts {
            delivery_ids
                .push(job.delivery_id.ok_or_else(|| StoreError::Corrupt(format!("job {} has no delivery", job.id)))?);
        }
        let rows: Vec<DeliveryRow> = sqlx::query_as(START_DELIVERIES)
            .bind(&delivery_ids)
            .bind(starts.iter().map(|(job, _)| job.id).collect::<Vec<_>>())
            .bind(starts.iter().map(|(_, now)| *now).collect::<Vec<_>>())
            .bind(starts.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
            .fetch_all(&mut **tx)
            .await?;
        let mut started: HashMap<Uuid, DeliveryRecord> = HashMap::with_capacity(rows.len());
        for row in rows {
            let delivery = DeliveryRecord::try_from(row)?;
            started.insert(delivery.id, delivery);
        }
        Ok(delivery_ids.iter().map(|id| started.remove(id)).collect())
    }

    /// The delivered ones of a delivery finish group in `tx`, in one statement
    /// (`SETTLE_DELIVERED`), its letters locked already.
    async fn settle_delivered(tx: &mut Tx, delivered: &[Delivered<'_>]) -> StoreResult<()> {
        let (settled, events): (i64, i64) = sqlx::query_as(SETTLE_DELIVERED)
            .bind(delivered.iter().map(|d| d.delivery_id).collect::<Vec<_>>())
            .bind(delivered.iter().map(|d| d.job.id).collect::<Vec<_>>())
            .bind(delivered.iter().map(|d| d.transport).collect::<Vec<_>>())
            .bind(delivered.iter().map(|d| d.provider_ref).collect::<Vec<_>>())
            .bind(delivered.iter().map(|d| d.now).collect::<Vec<_>>())
            .bind(delivered.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
            .fetch_one(&mut **tx)
            .await?;
        // each settled delivery's letter is there (a foreign key), so each has its event
        if settled != events {
            return Err(StoreError::Corrupt(format!("{settled} deliveries settled, but {events} events written")));
        }
        Ok(())
    }

    /// The ids of `letter_ids` (sorted, distinct) locked in `tx`, in id order so that two
    /// transactions never take them crosswise; with `skip_locked`, only those nobody else
    /// holds. One statement whatever their number.
    async fn select_letters_locked(tx: &mut Tx, letter_ids: &[Uuid], skip_locked: bool) -> StoreResult<Vec<Uuid>> {
        let text = if skip_locked { LOCK_FREE_LETTERS } else { LOCK_LETTERS };
        Ok(sqlx::query_scalar(text).bind(letter_ids).fetch_all(&mut **tx).await?)
    }
}
