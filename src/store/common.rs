//! The queries both databases share, written once with `$N` placeholders. Each backend
//! module expands `common_store_impl!` with its own `sql()` (placeholder style) and the few
//! clauses only PostgreSQL has (row locks with SKIP LOCKED, the event feed's snapshot guard).

/// Columns of a `LetterRow`, in one place.
macro_rules! letter_cols {
    () => {
        "id, authority_id, citizen_id, recipient, subject, body, importance, category, respond_by, deadline, \
         reference, contact, status, created_at, updated_at, content_deleted_at, bulk"
    };
}
pub(crate) use letter_cols;

macro_rules! delivery_cols {
    () => {
        "id, letter_id, channel, purpose, helper, status, transport, provider_ref, attempts, last_error, created_at, updated_at"
    };
}
pub(crate) use delivery_cols;

macro_rules! callback_cols {
    () => {
        "id, authority_id, letter_id, delivery_id, phone, summary, status, due_at, no_answers, minutes_spent, \
         last_outcome, created_at, updated_at"
    };
}
pub(crate) use callback_cols;

/// The citizen profile columns of a `ProfileRow` (of `citizens c`), with the name of whoever
/// changed it last (of `authorities a`).
macro_rules! profile_cols {
    () => {
        "c.id, c.name, c.address, c.phone, c.email, c.language, c.large_print, c.easy_read, \
         c.preferred_channel, c.notice_channels, c.exempt_from_digital_post, c.helpers, a.name AS updated_by, \
         c.profile_updated_at"
    };
}
pub(crate) use profile_cols;

/// A `ProfileRow`'s select, for a `WHERE` on `c`.
macro_rules! profile_select {
    () => {
        concat!(
            "SELECT ",
            $crate::store::common::profile_cols!(),
            " FROM citizens c LEFT JOIN authorities a ON a.id = c.profile_updated_by"
        )
    };
}
pub(crate) use profile_select;

/// Store errors inside a function that speaks `sqlx::Error` (letter insertion must tell a
/// unique violation apart).
pub(crate) fn into_sqlx(e: super::StoreError) -> sqlx::Error {
    match e {
        super::StoreError::Database(e) => e,
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

/// The statements of one step of a transaction, built in order. On SQLite they go to the
/// connection in one call: each call is a round trip to the connection's own thread, and its
/// one writer connection is what every write waits for. PostgreSQL takes parameters only in
/// statements sent one at a time, so there each is a call of its own.
pub(crate) struct Statements<DB: sqlx::Database> {
    merged: bool,
    /// Each call's text and parameters, and whether it returns rows.
    calls: Vec<(sqlx::QueryBuilder<DB>, bool)>,
}

impl<DB: sqlx::Database> Statements<DB>
where
    DB::Arguments: Default,
{
    pub(crate) fn new(backend: super::Backend) -> Self {
        Self { merged: backend == super::Backend::Sqlite, calls: Vec::new() }
    }

    /// A new statement that begins with `head`; the caller adds the rest.
    pub(crate) fn start(&mut self, head: &str, returns_rows: bool) -> &mut sqlx::QueryBuilder<DB> {
        match self.calls.last_mut() {
            Some((call, returns)) if self.merged => {
                call.push("; ").push(head);
                *returns |= returns_rows;
            }
            _ => self.calls.push((sqlx::QueryBuilder::new(head), returns_rows)),
        }
        let last = self.calls.len() - 1;
        &mut self.calls[last].0
    }

    /// The calls in order, each with whether it returns rows.
    pub(crate) fn into_calls(self) -> Vec<(sqlx::QueryBuilder<DB>, bool)> {
        self.calls
    }
}

/// `rows` in chunks of a power of two rows, at most `max`, largest first: a multi-row
/// statement's text depends on its number of rows, and these few shapes serve every group
/// size and stay in the connection's statement cache (`max` must be a power of two).
pub(crate) fn statement_chunks<T>(rows: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let take = max.min(1 << rest.len().ilog2());
        let (chunk, tail) = rest.split_at(take);
        rest = tail;
        Some(chunk)
    })
}

/// Ends the `… IN (` that `q` holds: `values`, each bound, and the closing parenthesis.
pub(crate) fn push_in_list<'t, DB, T>(q: &mut sqlx::QueryBuilder<DB>, values: impl IntoIterator<Item = T>)
where
    DB: sqlx::Database,
    T: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let mut list = q.separated(", ");
    for value in values {
        list.push_bind(value);
    }
    list.push_unseparated(")");
}

/// A row of `jobs` to insert: a delivery's job or an escalation timer.
pub(crate) struct NewJobRow {
    pub id: uuid::Uuid,
    pub kind: &'static str,
    pub letter_id: uuid::Uuid,
    pub delivery_id: Option<uuid::Uuid>,
    pub step: Option<i64>,
    pub available_at: i64,
    pub max_attempts: i64,
    /// See `LANE_FIRST`.
    pub lane: i16,
    pub created_at: i64,
}

impl NewJobRow {
    /// The job that hands a new delivery to its transport, due at once.
    pub(crate) fn delivery(
        letter_id: uuid::Uuid,
        delivery: &super::NewDelivery,
        max_attempts: i64,
        lane: i16,
        now: i64,
    ) -> Self {
        Self {
            id: delivery.job_id,
            kind: "deliver",
            letter_id,
            delivery_id: Some(delivery.delivery_id),
            step: None,
            available_at: now,
            max_attempts,
            lane,
            created_at: now,
        }
    }

    /// An escalation timer's job.
    pub(crate) fn timer(letter_id: uuid::Uuid, timer: &super::Timer, lane: i16, now: i64) -> Self {
        Self {
            id: timer.job_id,
            kind: "escalate",
            letter_id,
            delivery_id: None,
            step: Some(timer.step),
            available_at: timer.due_at,
            max_attempts: 1000,
            lane,
            created_at: now,
        }
    }
}

/// A queued row of `deliveries` to insert.
pub(crate) struct NewDeliveryRow<'a> {
    pub id: uuid::Uuid,
    pub letter_id: uuid::Uuid,
    pub channel: crate::domain::ChannelKind,
    /// `letter`, `notice` or `helper`.
    pub purpose: &'static str,
    pub helper: Option<&'a crate::domain::routing::Helper>,
    pub now: i64,
}

/// A row of `alerts` to insert (open).
#[derive(Clone, Copy)]
pub(crate) struct NewAlertRow<'a> {
    pub authority_id: uuid::Uuid,
    pub letter_id: Option<uuid::Uuid>,
    pub citizen_id: Option<uuid::Uuid>,
    pub alert: &'a super::NewAlert,
    pub now: i64,
}

/// Expands the shared part of `impl Store` for one backend.
/// `$lock`: appended to a SELECT that must lock rows; `$skip_locked`: appended to claim
/// subqueries; `$visible`: condition limiting the event feed to settled transactions.
macro_rules! common_store_impl {
    (
        $store:ty,
        $db:ty,
        lock = $lock:literal,
        skip_locked = $skip_locked:literal,
        visible = $visible:literal,
        feed_after = $feed_after:literal,
        feed_order = $feed_order:literal,
        feed_xid = $feed_xid:literal,
        snapshot = $snapshot:literal
    ) => {
        use $crate::domain::letter::PostalAddress;
        use $crate::domain::{ChannelKind, EventKind, LetterStatus};
        use $crate::store::common::{
            callback_cols, delivery_cols, into_sqlx, is_unique_violation, letter_cols, profile_cols, profile_select,
        };
        use $crate::store::model::*;
        use $crate::store::{StoreError, StoreResult};
        use sqlx::types::Json;
        use uuid::Uuid;

        type Tx = sqlx::Transaction<'static, $db>;

        impl $store {
            /// Queue the engine's `code_sms` job, which texts a one-time code over the SMS
            /// channel. `owner` is the letter a reading code belongs to, or the citizen a login
            /// code belongs to (such a job has no letter).
            pub(crate) async fn queue_code_sms(
                tx: &mut Tx,
                owner: Uuid,
                delivery_id: Option<Uuid>,
                sms: serde_json::Value,
                now: i64,
            ) -> StoreResult<()> {
                sqlx::query(sql(
                    "INSERT INTO jobs (id, kind, letter_id, delivery_id, payload, available_at, attempts, max_attempts, created_at) \
                     VALUES ($1, 'code_sms', $2, $3, $4, $5, 0, 3, $5)",
                ))
                .bind(Uuid::now_v7())
                .bind(owner)
                .bind(delivery_id)
                .bind(Json(sms))
                .bind(now)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// The sealer for CPR numbers: the configured key, else this database's own key.
            async fn cpr_sealer(&self) -> StoreResult<&$crate::domain::cpr_seal::CprSealer> {
                self.cpr_sealer
                    .get_or_try_init(|| async {
                        let key = $crate::store::Store::instance_key(self, "cpr-encryption").await?;
                        $crate::domain::cpr_seal::CprSealer::new(&key).map_err(|e| StoreError::Corrupt(e.to_string()))
                    })
                    .await
            }

            /// A CPR number as it is stored: sealed.
            pub(crate) async fn seal_cpr(&self, cpr: &str) -> StoreResult<String> {
                Ok(self.cpr_sealer().await?.seal(cpr))
            }

            /// A stored CPR number, opened.
            pub(crate) async fn open_cpr(&self, stored: &str) -> StoreResult<String> {
                self.cpr_sealer().await?.open(stored).map_err(|e| StoreError::Corrupt(e.to_string()))
            }

            /// Append an event and queue it for every webhook of the authority, in `tx`.
            async fn append_event(
                tx: &mut Tx,
                letter_id: Uuid,
                authority_id: Uuid,
                kind: EventKind,
                data: serde_json::Value,
                now: i64,
            ) -> StoreResult<()> {
                Self::append_events(tx, vec![NewEvent { letter_id, authority_id, kind, data, now }]).await?;
                Ok(())
            }

            /// Events in `tx`, in the given order, each queued for every webhook of its
            /// authority: one multi-row statement for the events and one for the messages
            /// (in chunks), whatever their number.
            async fn append_events(tx: &mut Tx, events: Vec<NewEvent>) -> Result<Vec<EventRecord>, sqlx::Error> {
                let mut statements = Self::statements();
                let records = Self::push_events(&mut statements, events);
                let seqs = Self::run_statements(tx, statements).await?;
                $crate::store::letter_rows::with_seqs(records, seqs)
            }

            /// The statements that append `events` (see `append_events`), added to `statements`;
            /// the records wait for their `seq`s, which the events' statements return.
            fn push_events(
                statements: &mut $crate::store::common::Statements<$db>,
                events: Vec<NewEvent>,
            ) -> Vec<EventRecord> {
                let records: Vec<(Uuid, EventRecord)> = events
                    .into_iter()
                    .map(|e| (e.authority_id, $crate::store::letter_rows::event_record(e.letter_id, e.kind, e.data, e.now)))
                    .collect();
                Self::push_event_records(statements, &records);
                records.into_iter().map(|(_, record)| record).collect()
            }

            /// The statements that append `records`, each with its authority (see `push_events`).
            fn push_event_records(
                statements: &mut $crate::store::common::Statements<$db>,
                records: &[(Uuid, EventRecord)],
            ) {
                for chunk in $crate::store::common::statement_chunks(records, 128) {
                    let q = statements.start("INSERT INTO events (id, letter_id, authority_id, kind, data, created_at) ", true);
                    q.push_values(chunk, |mut row, (authority_id, e)| {
                        row.push_bind(e.id)
                            .push_bind(e.letter_id)
                            .push_bind(*authority_id)
                            .push_bind(&e.kind)
                            .push_bind(&e.data)
                            .push_bind(e.created_at);
                    });
                    q.push(" RETURNING id, seq");
                    // by the events' ids, known before their seqs are
                    let q = statements.start(
                        "INSERT INTO webhook_messages (webhook_id, event_seq, letter_id, state, available_at, attempts, \
                         created_at) SELECT w.id, e.seq, e.letter_id, 'pending', e.created_at, 0, e.created_at \
                         FROM events e JOIN webhooks w ON w.authority_id = e.authority_id WHERE e.id IN (",
                        false,
                    );
                    $crate::store::common::push_in_list(q, chunk.iter().map(|(_, e)| e.id));
                    q.push(" ORDER BY e.seq, w.id");
                }
            }

            /// Statements to build for this backend (see `Statements`).
            fn statements() -> $crate::store::common::Statements<$db> {
                $crate::store::common::Statements::new(Self::BACKEND)
            }

            /// `statements` that return no rows, run in `tx` in order.
            async fn execute_statements(
                tx: &mut Tx,
                statements: $crate::store::common::Statements<$db>,
            ) -> Result<(), sqlx::Error> {
                Self::run_statements::<(i64,)>(tx, statements).await.map(drop)
            }

            /// `statements` run in `tx`, in order; the rows of those that return rows, which are
            /// all of one shape.
            async fn run_statements<T>(
                tx: &mut Tx,
                statements: $crate::store::common::Statements<$db>,
            ) -> Result<Vec<T>, sqlx::Error>
            where
                T: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin,
            {
                let mut rows = Vec::new();
                for (mut call, returns_rows) in statements.into_calls() {
                    if returns_rows {
                        rows.extend(call.build_query_as::<T>().fetch_all(&mut **tx).await?);
                    } else {
                        call.build().execute(&mut **tx).await?;
                    }
                }
                Ok(rows)
            }

            /// Record `kind` for a delivery's outcome, in `tx`; when the delivery carries the
            /// letter (not a notice) and the letter is still open, move the letter to `status`.
            /// A permanent failure raises an alert for the authority's caseworkers.
            async fn settle_letter(
                tx: &mut Tx,
                letter_id: Uuid,
                purpose: &str,
                status: LetterStatus,
                kind: EventKind,
                data: serde_json::Value,
                now: i64,
            ) -> StoreResult<()> {
                let new_status = if purpose == "letter" { status.as_str() } else { "" };
                let (authority_id, citizen_id): (Uuid, Uuid) = sqlx::query_as(sql(
                    "UPDATE letters SET status = CASE WHEN status IN ('accepted', 'dispatched') AND $3 <> '' THEN $3 \
                     ELSE status END, updated_at = $2 WHERE id = $1 RETURNING authority_id, citizen_id",
                ))
                .bind(letter_id)
                .bind(now)
                .bind(new_status)
                .fetch_one(&mut **tx)
                .await?;
                let failed = kind == EventKind::Failed;
                Self::append_event(tx, letter_id, authority_id, kind, data.clone(), now).await?;
                if failed {
                    let alert = NewAlert { id: Uuid::now_v7(), kind: "delivery_failed", details: data };
                    Self::raise_alert(tx, authority_id, Some(letter_id), Some(citizen_id), &alert, now).await?;
                }
                Ok(())
            }

            async fn raise_alert(
                tx: &mut Tx,
                authority_id: Uuid,
                letter_id: Option<Uuid>,
                citizen_id: Option<Uuid>,
                alert: &NewAlert,
                now: i64,
            ) -> StoreResult<()> {
                let row = $crate::store::common::NewAlertRow { authority_id, letter_id, citizen_id, alert, now };
                Self::insert_alerts_rows(tx, &[row]).await?;
                if let Some(letter_id) = letter_id {
                    Self::append_events(tx, vec![Self::alert_raised_event(&row, letter_id)]).await?;
                }
                Ok(())
            }

            /// The `alert_raised` event of an alert on a letter.
            fn alert_raised_event(row: &$crate::store::common::NewAlertRow<'_>, letter_id: Uuid) -> NewEvent {
                let alert = row.alert;
                let data = serde_json::json!({ "alert_id": alert.id, "kind": alert.kind, "details": alert.details });
                NewEvent { letter_id, authority_id: row.authority_id, kind: EventKind::AlertRaised, data, now: row.now }
            }

            /// Open alerts in `tx`, one statement per chunk.
            async fn insert_alerts_rows(tx: &mut Tx, rows: &[$crate::store::common::NewAlertRow<'_>]) -> Result<(), sqlx::Error> {
                for chunk in $crate::store::common::statement_chunks(rows, 128) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO alerts (id, authority_id, letter_id, citizen_id, kind, status, details, created_at) ",
                    );
                    q.push_values(chunk, |mut row, a| {
                        row.push_bind(a.alert.id)
                            .push_bind(a.authority_id)
                            .push_bind(a.letter_id)
                            .push_bind(a.citizen_id)
                            .push_bind(a.alert.kind)
                            .push_bind("open")
                            .push_bind(Json(&a.alert.details))
                            .push_bind(a.now);
                    });
                    q.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            /// Queued deliveries in `tx`, one statement per chunk.
            async fn insert_deliveries_rows(tx: &mut Tx, rows: &[$crate::store::common::NewDeliveryRow<'_>]) -> Result<(), sqlx::Error> {
                let mut statements = Self::statements();
                Self::push_deliveries(&mut statements, rows);
                Self::execute_statements(tx, statements).await?;
                Ok(())
            }

            /// The statements that insert `rows` (see `insert_deliveries_rows`).
            fn push_deliveries(
                statements: &mut $crate::store::common::Statements<$db>,
                rows: &[$crate::store::common::NewDeliveryRow<'_>],
            ) {
                for chunk in $crate::store::common::statement_chunks(rows, 128) {
                    let q = statements.start(
                        "INSERT INTO deliveries (id, letter_id, channel, purpose, helper, status, attempts, created_at, updated_at) ",
                        false,
                    );
                    q.push_values(chunk, |mut row, d| {
                        row.push_bind(d.id)
                            .push_bind(d.letter_id)
                            .push_bind(d.channel.as_str())
                            .push_bind(d.purpose)
                            .push_bind(d.helper.map(Json))
                            .push_bind("queued")
                            .push_bind(0_i64)
                            .push_bind(d.now)
                            .push_bind(d.now);
                    });
                }
            }

            /// Jobs in `tx`, one statement per chunk.
            async fn insert_jobs_rows(tx: &mut Tx, rows: &[$crate::store::common::NewJobRow]) -> Result<(), sqlx::Error> {
                let mut statements = Self::statements();
                Self::push_jobs(&mut statements, rows);
                Self::execute_statements(tx, statements).await?;
                Ok(())
            }

            /// The statements that insert `rows` (see `insert_jobs_rows`).
            fn push_jobs(statements: &mut $crate::store::common::Statements<$db>, rows: &[$crate::store::common::NewJobRow]) {
                for chunk in $crate::store::common::statement_chunks(rows, 128) {
                    let q = statements.start(
                        "INSERT INTO jobs (id, kind, letter_id, delivery_id, step, available_at, attempts, max_attempts, \
                         created_at, lane) ",
                        false,
                    );
                    q.push_values(chunk, |mut row, j| {
                        row.push_bind(j.id)
                            .push_bind(j.kind)
                            .push_bind(j.letter_id)
                            .push_bind(j.delivery_id)
                            .push_bind(j.step)
                            .push_bind(j.available_at)
                            .push_bind(0_i64)
                            .push_bind(j.max_attempts)
                            .push_bind(j.created_at)
                            .push_bind(j.lane);
                    });
                }
            }

            /// Lock a letter's row first in every transaction that changes the letter and its
            /// deliveries, so that two of them (a cancel and a delivery, say) take rows in the same
            /// order and never deadlock.
            async fn lock_letter(tx: &mut Tx, letter_id: Uuid) -> StoreResult<()> {
                // SQLite has no row locks (its one writer does everything in turn): the
                // statement would be a round trip for nothing
                if !Self::ROW_LOCKS {
                    return Ok(());
                }
                sqlx::query(sql(concat!("SELECT id FROM letters WHERE id = $1", $lock)))
                    .bind(letter_id)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            /// Of `letter_ids`, those locked now for this transaction; a letter another
            /// transaction holds is left out rather than waited for. With one writer (SQLite)
            /// nobody else holds any: all of them.
            async fn try_lock_letters(
                tx: &mut Tx,
                mut letter_ids: Vec<Uuid>,
            ) -> StoreResult<std::collections::HashSet<Uuid>> {
                letter_ids.sort();
                letter_ids.dedup();
                if !Self::ROW_LOCKS {
                    return Ok(letter_ids.into_iter().collect());
                }
                Ok(Self::select_letters_locked(tx, &letter_ids, true).await?.into_iter().collect())
            }

            /// `lock_letter` for several letters, taken in id order (as every group takes them).
            async fn lock_letters(tx: &mut Tx, mut letter_ids: Vec<Uuid>) -> StoreResult<()> {
                if !Self::ROW_LOCKS || letter_ids.is_empty() {
                    return Ok(());
                }
                letter_ids.sort();
                letter_ids.dedup();
                Self::select_letters_locked(tx, &letter_ids, false).await?;
                Ok(())
            }

            /// Evidence arrived for a letter: remember when, cancel its escalation timers and
            /// resolve its open alerts — all in `tx`, with the evidence event itself.
            async fn note_evidence(tx: &mut Tx, letter_id: Uuid, authority_id: Uuid, now: i64) -> StoreResult<()> {
                sqlx::query(sql("UPDATE letters SET evidence_at = COALESCE(evidence_at, $2) WHERE id = $1"))
                    .bind(letter_id)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query(sql("DELETE FROM jobs WHERE letter_id = $1 AND kind = 'escalate'"))
                    .bind(letter_id)
                    .execute(&mut **tx)
                    .await?;
                let resolved: Vec<(Uuid, String)> = sqlx::query_as(sql(
                    "UPDATE alerts SET status = 'resolved', closed_at = $2 WHERE letter_id = $1 AND status = 'open' \
                     AND kind IN ('unopened', 'unreachable') RETURNING id, kind",
                ))
                .bind(letter_id)
                .bind(now)
                .fetch_all(&mut **tx)
                .await?;
                for (id, kind) in resolved {
                    let data = serde_json::json!({ "alert_id": id, "kind": kind, "reason": "evidence" });
                    Self::append_event(tx, letter_id, authority_id, EventKind::AlertResolved, data, now).await?;
                }
                Ok(())
            }

            /// Open a callback task (for a phone delivery, or because the citizen asked), in `tx`.
            async fn insert_callback(
                tx: &mut Tx,
                authority_id: Uuid,
                letter_id: Uuid,
                delivery_id: Option<Uuid>,
                task: &NewCallback,
                now: i64,
            ) -> StoreResult<()> {
                sqlx::query(sql(
                    "INSERT INTO callback_tasks (id, authority_id, letter_id, delivery_id, phone, summary, \
                     status, due_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $8)",
                ))
                .bind(task.id)
                .bind(authority_id)
                .bind(letter_id)
                .bind(delivery_id)
                .bind(&task.phone)
                .bind(&task.summary)
                .bind(task.due_at)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            async fn letter_by_idempotency_key(
                &self,
                authority_id: Uuid,
                key: &str,
            ) -> StoreResult<Option<(LetterRecord, Option<String>)>> {
                #[derive(sqlx::FromRow)]
                struct WithHash {
                    #[sqlx(flatten)]
                    row: LetterRow,
                    request_hash: Option<String>,
                }
                let found: Option<WithHash> = sqlx::query_as(sql(concat!(
                    "SELECT ", letter_cols!(), ", request_hash FROM letters WHERE authority_id = $1 AND idempotency_key = $2"
                )))
                .bind(authority_id)
                .bind(key)
                // a committed letter is visible to any new read; the unique index catches a race
                .fetch_optional(self.reader())
                .await?;
                found.map(|f| Ok((LetterRecord::try_from(f.row)?, f.request_hash))).transpose()
            }

            async fn try_insert_letter(&self, l: &NewLetter) -> Result<CreatedLetter, sqlx::Error> {
                let sealed_cpr = self.seal_cpr(&l.cpr).await.map_err(into_sqlx)?;
                // each backend decides how letters are committed (SQLite: in groups)
                self.commit_letter(l, sealed_cpr).await
            }

            /// What deliveries need of the letters `letter_ids` besides the authority: one
            /// statement per table. A letter without its citizen is left out.
            pub(crate) async fn delivery_contexts(
                pool: &sqlx::Pool<$db>,
                letter_ids: &[Uuid],
            ) -> StoreResult<std::collections::HashMap<Uuid, DeliveryContext>> {
                use std::collections::HashMap;
                let mut q = sqlx::QueryBuilder::<$db>::new(concat!("SELECT ", letter_cols!(), " FROM letters WHERE id IN ("));
                $crate::store::common::push_in_list(&mut q, letter_ids.iter().copied());
                let mut d = sqlx::QueryBuilder::<$db>::new(
                    "SELECT letter_id, id, filename, media_type, content FROM documents WHERE letter_id IN (",
                );
                $crate::store::common::push_in_list(&mut d, letter_ids.iter().copied());
                d.push(" ORDER BY letter_id, position");
                let (letters, document_rows) = tokio::try_join!(
                    q.build_query_as::<LetterRow>().fetch_all(pool),
                    d.build_query_as::<(Uuid, Uuid, String, String, Vec<u8>)>().fetch_all(pool),
                )?;
                let letters = letters.into_iter().map(LetterRecord::try_from).collect::<StoreResult<Vec<_>>>()?;

                let mut c = sqlx::QueryBuilder::<$db>::new(
                    "SELECT id, cpr, phone, email, language, large_print, exempt_from_digital_post FROM citizens WHERE id IN (",
                );
                let mut citizen_ids: Vec<Uuid> = letters.iter().map(|l| l.citizen_id).collect();
                citizen_ids.sort();
                citizen_ids.dedup();
                $crate::store::common::push_in_list(&mut c, citizen_ids.iter().copied());
                let citizens: HashMap<Uuid, CitizenContact> = if citizen_ids.is_empty() {
                    HashMap::new()
                } else {
                    c.build_query_as::<CitizenContactRow>()
                        .fetch_all(pool)
                        .await?
                        .into_iter()
                        .map(|row| (row.id, row.contact))
                        .collect()
                };

                let mut documents: HashMap<Uuid, Vec<Document>> = HashMap::new();
                for (letter_id, id, filename, media_type, content) in document_rows {
                    documents.entry(letter_id).or_default().push(Document { id, filename, media_type, content });
                }
                Ok(letters
                    .into_iter()
                    .filter_map(|letter| {
                        let citizen = citizens.get(&letter.citizen_id)?.clone();
                        let documents = documents.remove(&letter.id).unwrap_or_default();
                        Some((letter.id, DeliveryContext { letter, citizen, documents }))
                    })
                    .collect())
            }

            /// What routing each of `keys` reads, in one statement for the lot: the citizen's
            /// profile, and the policy of the key's own category first, then the authority's
            /// policy for the importance. Every key gets an answer.
            pub(crate) async fn letter_contexts(
                pool: &sqlx::Pool<$db>,
                keys: &[LetterContextKey],
            ) -> StoreResult<std::collections::HashMap<LetterContextKey, LetterContext>> {
                use sqlx::Row as _;
                // one row per key, whether or not its citizen is known (v.column1: the key's index)
                let mut q = sqlx::QueryBuilder::<$db>::new(concat!(
                    "SELECT v.column1 AS key_index, ", profile_cols!(), ", (SELECT policy FROM policies o \
                     WHERE o.authority_id = v.column3 AND o.importance = v.column4 AND o.category IN (v.column5, '') \
                     ORDER BY o.category DESC LIMIT 1) AS own_policy FROM ("
                ));
                q.push_values(keys.iter().enumerate(), |mut row, (i, key)| {
                    row.push_bind(i as i64)
                        .push_bind(key.cpr_hash.as_str())
                        .push_bind(key.authority_id)
                        .push_bind(key.importance.as_str())
                        .push_bind(key.category.as_deref().unwrap_or(""));
                });
                q.push(
                    ") AS v LEFT JOIN citizens c ON c.cpr_hash = v.column2 \
                     LEFT JOIN authorities a ON a.id = c.profile_updated_by",
                );
                let rows = q.build().fetch_all(pool).await?;
                let mut found = std::collections::HashMap::with_capacity(keys.len());
                for row in rows {
                    let index: i64 = row.try_get("key_index")?;
                    let key = usize::try_from(index)
                        .ok()
                        .and_then(|i| keys.get(i))
                        .ok_or_else(|| StoreError::Corrupt(format!("letter context {index} was not asked for")))?;
                    let own_policy: Option<Json<$crate::domain::policy::Policy>> = row.try_get("own_policy")?;
                    let citizen: Option<Uuid> = row.try_get("id")?;
                    let profile = match citizen {
                        Some(_) => Some(StoredProfile::try_from(<ProfileRow as sqlx::FromRow<_>>::from_row(&row)?)?.profile),
                        None => None,
                    };
                    found.insert(key.clone(), (profile, own_policy.map(|p| p.0)));
                }
                Ok(found)
            }

            /// What escalation timers need to decide, for `(letter, window start)` pairs: the
            /// letters, their citizens, the citizens' history since the window's start, the
            /// authorities' policies and closing days, and the channels already used, in one
            /// statement per window start (the engine rounds it, so a batch has one). A letter
            /// without its citizen is left out.
            pub(crate) async fn escalation_contexts(
                pool: &sqlx::Pool<$db>,
                keys: &[(Uuid, $crate::store::model::ExemptionOfferRule)],
            ) -> StoreResult<
                std::collections::HashMap<(Uuid, $crate::store::model::ExemptionOfferRule), EscalationContext>,
            > {
                use $crate::store::model::{ExemptionOffer, ExemptionOfferRule};
                #[derive(sqlx::FromRow)]
                struct Row {
                    #[sqlx(flatten)]
                    letter: LetterRow,
                    evidence_at: Option<i64>,
                    phone: Option<String>,
                    email: Option<String>,
                    exempt_from_digital_post: bool,
                    citizen_address: Option<Json<PostalAddress>>,
                    helpers: Json<Vec<$crate::domain::routing::Helper>>,
                    recent_escalations: i64,
                    own_policy: Option<Json<$crate::domain::policy::Policy>>,
                    closing_days: Option<Json<Vec<jiff::civil::Date>>>,
                    used_channels: Option<String>,
                }
                let mut by_rule: std::collections::BTreeMap<ExemptionOfferRule, Vec<Uuid>> = Default::default();
                for (letter_id, rule) in keys {
                    by_rule.entry(*rule).or_default().push(*letter_id);
                }
                let mut found = std::collections::HashMap::with_capacity(keys.len());
                for (rule, letter_ids) in by_rule {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "SELECT l.*, c.phone, c.email, c.exempt_from_digital_post, c.address AS citizen_address, \
                         c.helpers, ",
                    );
                    if rule.after_escalations > 0 {
                        q.push(
                            "(SELECT COUNT(*) FROM letters o WHERE o.citizen_id = l.citizen_id AND o.id <> l.id \
                             AND o.importance = 'important' AND o.escalation_step > 0 AND o.created_at >= ",
                        );
                        q.push_bind(rule.window_start);
                        q.push(")");
                    } else {
                        q.push("CAST(0 AS BIGINT)");
                    }
                    q.push(concat!(
                        " AS recent_escalations, \
                         (SELECT policy FROM policies o WHERE o.authority_id = l.authority_id AND o.importance = l.importance \
                          AND o.category IN (COALESCE(l.category, ''), '') ORDER BY o.category DESC LIMIT 1) AS own_policy, \
                         a.closing_days, \
                         (SELECT string_agg(u.channel, ',') FROM (SELECT DISTINCT channel FROM deliveries \
                          WHERE letter_id = l.id) u) AS used_channels \
                         FROM (SELECT ", letter_cols!(), ", evidence_at FROM letters WHERE id IN ("
                    ));
                    $crate::store::common::push_in_list(&mut q, letter_ids.iter().copied());
                    q.push(") l JOIN citizens c ON c.id = l.citizen_id LEFT JOIN authorities a ON a.id = l.authority_id");
                    let rows = q.build_query_as::<Row>().fetch_all(pool).await?;
                    // whether paper failed before reads all the citizen's deliveries: only for
                    // the citizens to be offered exemption
                    let offered = |row: &Row| rule.offers(row.recent_escalations, row.exempt_from_digital_post);
                    let to_offer: std::collections::BTreeSet<Uuid> =
                        rows.iter().filter(|row| offered(row)).map(|row| row.letter.citizen_id).collect();
                    let paper_failed: std::collections::HashSet<Uuid> = if to_offer.is_empty() {
                        Default::default()
                    } else {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "SELECT DISTINCT p.citizen_id FROM letters p JOIN deliveries d ON d.letter_id = p.id \
                             WHERE d.channel = 'print' AND d.status = 'failed' AND p.citizen_id IN (",
                        );
                        $crate::store::common::push_in_list(&mut q, to_offer.iter().copied());
                        q.build_query_scalar::<Uuid>().fetch_all(pool).await?.into_iter().collect()
                    };
                    for row in rows {
                        let offer_exemption = offered(&row).then(|| ExemptionOffer {
                            escalated_letters: row.recent_escalations + 1,
                            paper_failed: paper_failed.contains(&row.letter.citizen_id),
                        });
                        let letter = LetterRecord::try_from(row.letter)?;
                        let reach = $crate::domain::policy::Reach {
                            phone: row.phone.is_some(),
                            email: row.email.is_some(),
                            postal_address: letter.recipient.address.is_some() || row.citizen_address.is_some(),
                            exempt_from_digital_post: row.exempt_from_digital_post,
                        };
                        let used_channels = match row.used_channels.as_deref() {
                            Some(used) => used.split(',').map(parse_enum).collect::<Result<_, _>>()?,
                            None => Vec::new(),
                        };
                        let context = EscalationContext {
                            evidence_at: row.evidence_at,
                            reach,
                            used_channels,
                            offer_exemption,
                            helpers: row.helpers.0,
                            own_policy: row.own_policy.map(|p| p.0),
                            closing_days: row.closing_days.map(|d| d.0).unwrap_or_default(),
                            letter,
                        };
                        found.insert((context.letter.id, rule), context);
                    }
                }
                Ok(found)
            }

            async fn load_letter(&self, id: Uuid) -> StoreResult<Option<LetterRecord>> {
                let row: Option<LetterRow> =
                    sqlx::query_as(sql(concat!("SELECT ", letter_cols!(), " FROM letters WHERE id = $1")))
                        .bind(id)
                        .fetch_optional(self.reader())
                        .await?;
                row.map(LetterRecord::try_from).transpose()
            }

            /// The escalations of a commit group in `tx`, which the caller commits; answers in
            /// the group's order, `false` where evidence arrived or the letter was cancelled
            /// meanwhile (then only the timer goes). One statement per table for the lot. A
            /// letter twice in one group goes one escalation at a time, each after the other,
            /// as alone.
            async fn apply_escalations_rows(tx: &mut Tx, group: &[(&Job, &EscalationPlan, i64)]) -> StoreResult<Vec<bool>> {
                let mut letters = std::collections::HashSet::with_capacity(group.len());
                if group.iter().all(|(job, _, _)| letters.insert(job.letter_id)) {
                    return Self::apply_escalations_of_letters(tx, group).await;
                }
                let mut applied = Vec::with_capacity(group.len());
                for one in group {
                    applied.extend(Self::apply_escalations_of_letters(tx, std::slice::from_ref(one)).await?);
                }
                Ok(applied)
            }

            /// `apply_escalations_rows` for escalations of distinct letters.
            async fn apply_escalations_of_letters(
                tx: &mut Tx,
                group: &[(&Job, &EscalationPlan, i64)],
            ) -> StoreResult<Vec<bool>> {
                use std::collections::HashMap;
                use $crate::domain::policy::DeadlineChange;
                use $crate::store::common::{NewAlertRow, NewDeliveryRow, NewJobRow, statement_chunks};
                Self::lock_letters(tx, group.iter().map(|(job, _, _)| job.letter_id).collect()).await?;
                // the letters first, and only those still open (no evidence, not cancelled): the
                // check, the new step and the extended deadline in one statement, before the
                // escalated messages are queued
                let mut open: HashMap<Uuid, (Uuid, Uuid)> = HashMap::with_capacity(group.len());
                for chunk in statement_chunks(group, 128) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "UPDATE letters SET escalation_step = v.column2, updated_at = v.column3, \
                         deadline = COALESCE(v.column4, deadline) FROM (",
                    );
                    q.push_values(chunk, |mut row, (job, plan, now)| {
                        let new_deadline = match &plan.deadline {
                            DeadlineChange::Extended { new, .. } => Some(new.to_string()),
                            DeadlineChange::Unchanged { .. } => None,
                        };
                        row.push_bind(job.letter_id).push_bind(plan.step + 1).push_bind(*now).push_bind(new_deadline);
                    });
                    q.push(
                        ") AS v WHERE letters.id = v.column1 AND evidence_at IS NULL AND status <> 'cancelled' \
                         RETURNING id, authority_id, citizen_id",
                    );
                    let rows: Vec<(Uuid, Uuid, Uuid)> = q.build_query_as().fetch_all(&mut **tx).await?;
                    open.extend(rows.into_iter().map(|(id, authority_id, citizen_id)| (id, (authority_id, citizen_id))));
                }
                let timers: Vec<Uuid> = group.iter().map(|(job, _, _)| job.id).collect();
                Self::delete_jobs(tx, &timers).await?;
                let escalated: Vec<(&Job, &EscalationPlan, i64, Uuid, Uuid)> = group
                    .iter()
                    .filter_map(|(job, plan, now)| {
                        open.get(&job.letter_id).map(|(authority_id, citizen_id)| (*job, *plan, *now, *authority_id, *citizen_id))
                    })
                    .collect();

                let mut deliveries = Vec::new();
                let mut jobs = Vec::new();
                let mut alerts = Vec::new();
                let mut events = Vec::new();
                for (job, plan, now, authority_id, citizen_id) in &escalated {
                    let (letter_id, now) = (job.letter_id, *now);
                    for d in &plan.deliveries {
                        let purpose = match (&d.helper, d.channel) {
                            (Some(_), _) => "helper",
                            (None, ChannelKind::Sms | ChannelKind::Email) => "notice",
                            (None, _) => "letter",
                        };
                        let helper = d.helper.as_ref();
                        deliveries.push(NewDeliveryRow { id: d.delivery_id, letter_id, channel: d.channel, purpose, helper, now });
                        jobs.push(NewJobRow::delivery(letter_id, d, plan.max_attempts, job.lane, now));
                    }
                    if let Some(timer) = &plan.next {
                        jobs.push(NewJobRow::timer(letter_id, timer, job.lane, now));
                    }
                    // the letter's events in order: the deadline, the escalation, its alerts
                    let event = |kind, data| NewEvent { letter_id, authority_id: *authority_id, kind, data, now };
                    let deadline = match &plan.deadline {
                        DeadlineChange::Extended { old, new } => {
                            let data = serde_json::json!({
                                "old": old.to_string(), "new": new.to_string(), "reason": "escalation", "step": plan.step,
                            });
                            events.push(event(EventKind::DeadlineExtended, data));
                            serde_json::json!({ "extended_to": new.to_string() })
                        }
                        DeadlineChange::Unchanged { reason } => serde_json::json!({ "unchanged": reason }),
                    };
                    let channels: Vec<&str> = plan.deliveries.iter().map(|d| d.channel.as_str()).collect();
                    let delivery_ids: Vec<Uuid> = plan.deliveries.iter().map(|d| d.delivery_id).collect();
                    let data = serde_json::json!({
                        "step": plan.step, "channels": channels, "deliveries": delivery_ids, "deadline": deadline,
                        "next_step_at": plan.next.as_ref().map(|t| $crate::domain::event::format_ms(t.due_at)),
                    });
                    events.push(event(EventKind::Escalated, data));
                    for alert in &plan.alerts {
                        let row = NewAlertRow {
                            authority_id: *authority_id,
                            letter_id: Some(letter_id),
                            citizen_id: Some(*citizen_id),
                            alert,
                            now,
                        };
                        events.push(Self::alert_raised_event(&row, letter_id));
                        alerts.push(row);
                    }
                }
                Self::insert_deliveries_rows(tx, &deliveries).await?;
                Self::insert_jobs_rows(tx, &jobs).await?;
                Self::insert_alerts_rows(tx, &alerts).await?;
                Self::append_events(tx, events).await?;
                Ok(group.iter().map(|(job, _, _)| open.contains_key(&job.letter_id)).collect())
            }

            /// The delivery outcomes of a commit group in `tx`: the delivered ones (the common
            /// case) together, as each backend settles them (`settle_delivered`); the others
            /// one by one.
            async fn finish_deliveries_rows(
                tx: &mut Tx,
                finishes: &[(&Job, &DeliveryOutcome, i64)],
            ) -> StoreResult<()> {
                Self::lock_letters(tx, finishes.iter().map(|(job, _, _)| job.letter_id).collect()).await?;
                let mut delivered = Vec::with_capacity(finishes.len());
                for (job, outcome, now) in finishes {
                    match outcome {
                        DeliveryOutcome::Delivered { transport, provider_ref } => {
                            delivered.push(Delivered {
                                job,
                                delivery_id: job.delivery_id.unwrap_or_default(),
                                transport,
                                provider_ref: provider_ref.as_deref(),
                                now: *now,
                            })
                        }
                        other => Self::finish_undelivered_rows(tx, job, other, *now).await?,
                    }
                }
                if delivered.is_empty() {
                    return Ok(());
                }
                Self::settle_delivered(tx, &delivered).await
            }

            /// Jobs that are done, in `tx`.
            async fn delete_jobs(tx: &mut Tx, ids: &[Uuid]) -> StoreResult<()> {
                let mut statements = Self::statements();
                Self::push_delete_jobs(&mut statements, ids);
                Self::execute_statements(tx, statements).await?;
                Ok(())
            }

            /// The statements that delete the jobs `ids` (see `delete_jobs`).
            fn push_delete_jobs(statements: &mut $crate::store::common::Statements<$db>, ids: &[Uuid]) {
                for chunk in $crate::store::common::statement_chunks(ids, 128) {
                    let q = statements.start("DELETE FROM jobs WHERE id IN (", false);
                    $crate::store::common::push_in_list(q, chunk.iter().copied());
                }
            }

            /// An outcome other than `Delivered` in `tx`, its letter locked already.
            async fn finish_undelivered_rows(tx: &mut Tx, job: &Job, outcome: &DeliveryOutcome, now: i64) -> StoreResult<()> {
                let delivery_id = job.delivery_id.unwrap_or_default();
                match outcome {
                    DeliveryOutcome::Retry { at, error } => {
                        sqlx::query(sql("UPDATE jobs SET available_at = $2, locked_by = NULL, last_error = $3 WHERE id = $1"))
                            .bind(job.id)
                            .bind(at)
                            .bind(error)
                            .execute(&mut **tx)
                            .await?;
                        sqlx::query(sql("UPDATE deliveries SET last_error = $2, updated_at = $3 WHERE id = $1"))
                            .bind(delivery_id)
                            .bind(error)
                            .bind(now)
                            .execute(&mut **tx)
                            .await?;
                    }
                    DeliveryOutcome::Delivered { .. } => {
                        return Err(StoreError::Corrupt("a delivered outcome goes with the others".into()));
                    }
                    DeliveryOutcome::Sent { transport, provider_ref, callback } => {
                        let channel: Option<String> = sqlx::query_scalar(sql(
                            "UPDATE deliveries SET status = 'sent', transport = $2, provider_ref = $3, last_error = NULL, \
                             updated_at = $4 WHERE id = $1 AND status = 'sending' RETURNING channel",
                        ))
                        .bind(delivery_id)
                        .bind(transport)
                        .bind(provider_ref)
                        .bind(now)
                        .fetch_optional(&mut **tx)
                        .await?;
                        if let Some(channel) = channel {
                            let authority_id: Uuid =
                                sqlx::query_scalar(sql("SELECT authority_id FROM letters WHERE id = $1"))
                                    .bind(job.letter_id)
                                    .fetch_one(&mut **tx)
                                    .await?;
                            let data = serde_json::json!({
                                "delivery_id": delivery_id, "channel": channel,
                                "transport": transport, "provider_ref": provider_ref,
                            });
                            Self::append_event(tx, job.letter_id, authority_id, EventKind::Sent, data, now).await?;
                            if let Some(task) = callback {
                                Self::insert_callback(tx, authority_id, job.letter_id, Some(delivery_id), task, now)
                                    .await?;
                            }
                        }
                    }
                    DeliveryOutcome::Failed { error } => {
                        let settled: Option<(String, String)> = sqlx::query_as(sql(
                            "UPDATE deliveries SET status = 'failed', last_error = $2, updated_at = $3 \
                             WHERE id = $1 AND status = 'sending' RETURNING channel, purpose",
                        ))
                        .bind(delivery_id)
                        .bind(error)
                        .bind(now)
                        .fetch_optional(&mut **tx)
                        .await?;
                        if let Some((channel, purpose)) = settled {
                            let data = serde_json::json!({
                                "delivery_id": delivery_id, "channel": channel, "purpose": purpose, "error": error,
                            });
                            let (status, kind) = (LetterStatus::Failed, EventKind::Failed);
                            Self::settle_letter(tx, job.letter_id, &purpose, status, kind, data, now).await?;
                        }
                    }
                }
                if !matches!(outcome, DeliveryOutcome::Retry { .. }) {
                    sqlx::query(sql("DELETE FROM jobs WHERE id = $1")).bind(job.id).execute(&mut **tx).await?;
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> $crate::store::Backend {
                Self::BACKEND
            }

            async fn migrate(&self) -> StoreResult<()> {
                Self::migrator().run(self.writer()).await?;
                Ok(())
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query(sql("SELECT 1")).execute(self.reader()).await?;
                Ok(())
            }

            async fn close(&self) {
                self.close_pools().await;
            }

            fn use_cpr_key(&self, sealer: $crate::domain::cpr_seal::CprSealer) -> bool {
                self.cpr_sealer.set(sealer).is_ok()
            }

            async fn backup(&self, to: &std::path::Path) -> StoreResult<()> {
                self.backup_into(to).await
            }

            async fn instance_key(&self, name: &str) -> StoreResult<Vec<u8>> {
                let fresh = $crate::domain::secret::random_bytes::<32>().to_vec();
                sqlx::query(sql("INSERT INTO instance_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"))
                    .bind(name)
                    .bind(&fresh)
                    .execute(self.writer())
                    .await?;
                Ok(sqlx::query_scalar(sql("SELECT value FROM instance_keys WHERE name = $1"))
                    .bind(name)
                    .fetch_one(self.writer())
                    .await?)
            }

            async fn create_authority(&self, a: &Authority) -> StoreResult<()> {
                sqlx::query(sql("INSERT INTO authorities (id, name, cvr, created_at) VALUES ($1, $2, $3, $4)"))
                    .bind(a.id)
                    .bind(&a.name)
                    .bind(&a.cvr)
                    .bind(a.created_at)
                    .execute(self.writer())
                    .await
                    .map_err(|e| {
                        if is_unique_violation(&e) { StoreError::Conflict("an authority with this CVR number") } else { e.into() }
                    })?;
                Ok(())
            }

            async fn authority(&self, id: Uuid) -> StoreResult<Option<Authority>> {
                let read = sqlx::query_as(sql(
                    "SELECT id, name, cvr, created_at, office_hours, time_zone, closing_days FROM authorities WHERE id = $1",
                ))
                .bind(id)
                .fetch_optional(self.reader());
                Ok(self.authorities.get_or_read($crate::store::authority_cache::Lookup::Id(id), read).await?)
            }

            async fn authority_by_cvr(&self, cvr: &str) -> StoreResult<Option<Authority>> {
                Ok(sqlx::query_as(sql("SELECT id, name, cvr, created_at, office_hours, time_zone, closing_days FROM authorities WHERE cvr = $1"))
                    .bind(cvr)
                    .fetch_optional(self.reader())
                    .await?)
            }

            async fn set_office_hours(
                &self,
                authority_id: Uuid,
                office_hours: Option<&str>,
                time_zone: Option<&str>,
            ) -> StoreResult<()> {
                sqlx::query(sql("UPDATE authorities SET office_hours = $2, time_zone = $3 WHERE id = $1"))
                    .bind(authority_id)
                    .bind(office_hours)
                    .bind(time_zone)
                    .execute(self.writer())
                    .await?;
                self.authorities.invalidate();
                Ok(())
            }

            async fn set_closing_days(&self, authority_id: Uuid, days: &[jiff::civil::Date]) -> StoreResult<()> {
                sqlx::query(sql("UPDATE authorities SET closing_days = $2 WHERE id = $1"))
                    .bind(authority_id)
                    .bind(Json(days))
                    .execute(self.writer())
                    .await?;
                self.authorities.invalidate();
                Ok(())
            }

            async fn add_api_key(&self, authority_id: Uuid, key_hash: &str, hint: &str, now: i64) -> StoreResult<Uuid> {
                let id = Uuid::now_v7();
                sqlx::query(sql(
                    "INSERT INTO api_keys (id, authority_id, key_hash, hint, created_at) VALUES ($1, $2, $3, $4, $5)",
                ))
                .bind(id)
                .bind(authority_id)
                .bind(key_hash)
                .bind(hint)
                .bind(now)
                .execute(self.writer())
                .await?;
                Ok(id)
            }

            async fn authority_by_key_hash(&self, key_hash: &str) -> StoreResult<Option<Authority>> {
                let read = sqlx::query_as(sql(
                    "SELECT a.id, a.name, a.cvr, a.created_at, a.office_hours, a.time_zone, a.closing_days FROM api_keys k \
                     JOIN authorities a ON a.id = k.authority_id \
                     WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
                ))
                .bind(key_hash)
                .fetch_optional(self.reader());
                let lookup = $crate::store::authority_cache::Lookup::KeyHash(key_hash.to_owned());
                Ok(self.authorities.get_or_read(lookup, read).await?)
            }

            async fn add_webhook(&self, w: &Webhook) -> StoreResult<()> {
                sqlx::query(sql(
                    "INSERT INTO webhooks (id, authority_id, url, secret, created_at) VALUES ($1, $2, $3, $4, $5)",
                ))
                .bind(w.id)
                .bind(w.authority_id)
                .bind(&w.url)
                .bind(&w.secret)
                .bind(w.created_at)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn webhooks(&self, authority_id: Uuid) -> StoreResult<Vec<Webhook>> {
                Ok(sqlx::query_as(sql(
                    "SELECT id, authority_id, url, secret, created_at, previous_secret, previous_secret_expires_at \
                     FROM webhooks WHERE authority_id = $1 ORDER BY id",
                ))
                .bind(authority_id)
                .fetch_all(self.reader())
                .await?)
            }

            async fn webhook(&self, id: Uuid) -> StoreResult<Option<Webhook>> {
                Ok(sqlx::query_as(sql(
                    "SELECT id, authority_id, url, secret, created_at, previous_secret, previous_secret_expires_at \
                     FROM webhooks WHERE id = $1",
                ))
                .bind(id)
                .fetch_optional(self.reader())
                .await?)
            }

            async fn rotate_webhook_secret(
                &self,
                authority_id: Uuid,
                id: Uuid,
                secret: &str,
                previous_expires_at: i64,
            ) -> StoreResult<Option<Webhook>> {
                // the right-hand sides read the row as it was: the current secret becomes the previous one
                Ok(sqlx::query_as(sql(
                    "UPDATE webhooks SET previous_secret = secret, previous_secret_expires_at = $4, secret = $3 \
                     WHERE id = $1 AND authority_id = $2 \
                     RETURNING id, authority_id, url, secret, created_at, previous_secret, previous_secret_expires_at",
                ))
                .bind(id)
                .bind(authority_id)
                .bind(secret)
                .bind(previous_expires_at)
                .fetch_optional(self.writer())
                .await?)
            }

            async fn delete_webhook(&self, authority_id: Uuid, id: Uuid) -> StoreResult<bool> {
                let mut tx = self.writer().begin().await?;
                sqlx::query(sql(
                    "DELETE FROM webhook_messages WHERE webhook_id IN (SELECT id FROM webhooks WHERE id = $1 AND authority_id = $2)",
                ))
                .bind(id)
                .bind(authority_id)
                .execute(&mut *tx)
                .await?;
                let done = sqlx::query(sql("DELETE FROM webhooks WHERE id = $1 AND authority_id = $2"))
                    .bind(id)
                    .bind(authority_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_contact_profile(&self, p: &ProfileUpdate, now: i64) -> StoreResult<Uuid> {
                let sealed_cpr = self.seal_cpr(&p.cpr).await?;
                let notices: Vec<&str> = p.notice_channels.iter().map(|c| c.as_str()).collect();
                Ok(sqlx::query_scalar(sql(
                    "INSERT INTO citizens (id, cpr_hash, cpr, name, address, phone, email, language, large_print, easy_read, \
                     preferred_channel, notice_channels, exempt_from_digital_post, profile_updated_by, profile_updated_at, \
                     created_at, phone_e164, helpers) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     $15, $16, $17) \
                     ON CONFLICT (cpr_hash) DO UPDATE SET name = excluded.name, address = excluded.address, \
                     phone = excluded.phone, phone_e164 = excluded.phone_e164, email = excluded.email, language = excluded.language, \
                     large_print = excluded.large_print, easy_read = excluded.easy_read, \
                     preferred_channel = excluded.preferred_channel, notice_channels = excluded.notice_channels, \
                     exempt_from_digital_post = excluded.exempt_from_digital_post, \
                     profile_updated_by = excluded.profile_updated_by, profile_updated_at = excluded.profile_updated_at, \
                     helpers = excluded.helpers \
                     RETURNING id",
                ))
                .bind(Uuid::now_v7())
                .bind(&p.cpr_hash)
                .bind(&sealed_cpr)
                .bind(&p.name)
                .bind(p.address.as_ref().map(Json))
                .bind(&p.phone)
                .bind(&p.email)
                .bind(&p.language)
                .bind(p.large_print)
                .bind(p.easy_read)
                .bind(p.preferred_channel.map(|c| c.as_str()))
                .bind(Json(notices))
                .bind(p.exempt_from_digital_post)
                .bind(p.updated_by)
                .bind(now)
                .bind(p.phone.as_deref().and_then($crate::domain::phone::normalise_number))
                .bind(Json(&p.helpers))
                .fetch_one(self.writer())
                .await?)
            }

            async fn letter_context(
                &self,
                cpr_hash: &str,
                authority_id: Uuid,
                importance: $crate::domain::Importance,
                category: Option<&str>,
            ) -> StoreResult<LetterContext> {
                let key = LetterContextKey {
                    cpr_hash: cpr_hash.to_owned(),
                    authority_id,
                    importance,
                    category: category.map(str::to_owned),
                };
                // every key gets an answer (see `letter_contexts`)
                Ok(self.letter_reads.read(self.reader(), key).await?.unwrap_or_default())
            }

            async fn stored_profile(&self, citizen_id: Uuid) -> StoreResult<Option<StoredProfile>> {
                let row: Option<ProfileRow> = sqlx::query_as(sql(concat!(profile_select!(), " WHERE c.id = $1")))
                    .bind(citizen_id)
                    .fetch_optional(self.reader())
                    .await?;
                row.map(StoredProfile::try_from).transpose()
            }

            async fn citizen_id(&self, cpr_hash: &str) -> StoreResult<Option<Uuid>> {
                Ok(sqlx::query_scalar(sql("SELECT id FROM citizens WHERE cpr_hash = $1"))
                    .bind(cpr_hash)
                    .fetch_optional(self.reader())
                    .await?)
            }

            async fn log_access(&self, e: &AccessEntry) -> StoreResult<()> {
                sqlx::query(sql(
                    "INSERT INTO access_log (id, citizen_id, actor_kind, actor_id, actor_name, action, letter_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                ))
                .bind(e.id)
                .bind(e.citizen_id)
                .bind(&e.actor_kind)
                .bind(e.actor_id)
                .bind(&e.actor_name)
                .bind(&e.action)
                .bind(e.letter_id)
                .bind(e.created_at)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn access_log(&self, citizen_id: Uuid) -> StoreResult<Vec<AccessEntry>> {
                Ok(sqlx::query_as(sql(
                    "SELECT id, citizen_id, actor_kind, actor_id, actor_name, action, letter_id, created_at \
                     FROM access_log WHERE citizen_id = $1 ORDER BY created_at, id",
                ))
                .bind(citizen_id)
                .fetch_all(self.reader())
                .await?)
            }

            async fn insert_letter(&self, l: &NewLetter) -> StoreResult<Inserted> {
                // insert first, look up only when the key is taken: a repeated request is rare,
                // and the lookup would cost every new letter a read (on PostgreSQL, a prepared
                // plan made while the table was empty can even scan the authority's letters)
                match self.try_insert_letter(l).await {
                    Ok(created) => Ok(Inserted::Created(created)),
                    // an earlier request, or a concurrent one, with the same key
                    Err(e) if is_unique_violation(&e) && l.idempotency_key.is_some() => {
                        let key = l.idempotency_key.as_deref().unwrap_or_default();
                        match self.letter_by_idempotency_key(l.authority_id, key).await? {
                            Some((letter, request_hash)) => Ok(Inserted::Existing { letter, request_hash }),
                            None => Err(e.into()),
                        }
                    }
                    Err(e) => Err(e.into()),
                }
            }

            async fn letter_details(&self, authority_id: Uuid, id: Uuid) -> StoreResult<Option<LetterDetails>> {
                // one snapshot: the letter's deadline and its timeline always agree
                let mut tx = self.reader().begin().await?;
                if !$snapshot.is_empty() {
                    sqlx::query(sql($snapshot)).execute(&mut *tx).await?;
                }
                let row: Option<LetterRow> = sqlx::query_as(sql(concat!(
                    "SELECT ", letter_cols!(), " FROM letters WHERE id = $1 AND authority_id = $2"
                )))
                .bind(id)
                .bind(authority_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let documents = sqlx::query_as(sql(
                    "SELECT id, position, filename, media_type, size, sha256 FROM documents WHERE letter_id = $1 ORDER BY position",
                ))
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
                let deliveries: Vec<DeliveryRow> = sqlx::query_as(sql(concat!(
                    "SELECT ", delivery_cols!(), " FROM deliveries WHERE letter_id = $1 ORDER BY id"
                )))
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
                let timeline = sqlx::query_as(sql(
                    "SELECT seq, id, letter_id, kind, data, created_at FROM events WHERE letter_id = $1 ORDER BY seq",
                ))
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Some(LetterDetails {
                    letter: LetterRecord::try_from(row)?,
                    documents,
                    deliveries: deliveries.into_iter().map(DeliveryRecord::try_from).collect::<Result<_, _>>()?,
                    timeline,
                }))
            }

            async fn letter(&self, authority_id: Uuid, id: Uuid) -> StoreResult<Option<LetterRecord>> {
                let row: Option<LetterRow> = sqlx::query_as(sql(concat!(
                    "SELECT ", letter_cols!(), " FROM letters WHERE id = $1 AND authority_id = $2"
                )))
                .bind(id)
                .bind(authority_id)
                .fetch_optional(self.reader())
                .await?;
                row.map(LetterRecord::try_from).transpose()
            }

            async fn letter_for_reading(&self, id: Uuid) -> StoreResult<Option<LetterRecord>> {
                self.load_letter(id).await
            }

            async fn document(&self, letter_id: Uuid, document_id: Uuid) -> StoreResult<Option<Document>> {
                Ok(sqlx::query_as(sql(
                    "SELECT id, filename, media_type, content FROM documents WHERE letter_id = $1 AND id = $2",
                ))
                .bind(letter_id)
                .bind(document_id)
                .fetch_optional(self.reader())
                .await?)
            }

            async fn documents(&self, letter_id: Uuid) -> StoreResult<Vec<DocumentMeta>> {
                Ok(sqlx::query_as(sql(
                    "SELECT id, position, filename, media_type, size, sha256 FROM documents WHERE letter_id = $1 ORDER BY position",
                ))
                .bind(letter_id)
                .fetch_all(self.reader())
                .await?)
            }

            async fn deliveries(&self, letter_id: Uuid) -> StoreResult<Vec<DeliveryRecord>> {
                let rows: Vec<DeliveryRow> = sqlx::query_as(sql(concat!(
                    "SELECT ", delivery_cols!(), " FROM deliveries WHERE letter_id = $1 ORDER BY id"
                )))
                .bind(letter_id)
                .fetch_all(self.reader())
                .await?;
                rows.into_iter().map(DeliveryRecord::try_from).collect()
            }

            async fn timeline(&self, letter_id: Uuid) -> StoreResult<Vec<EventRecord>> {
                Ok(sqlx::query_as(sql(
                    "SELECT seq, id, letter_id, kind, data, created_at FROM events WHERE letter_id = $1 ORDER BY seq",
                ))
                .bind(letter_id)
                .fetch_all(self.reader())
                .await?)
            }

            async fn list_letters(&self, authority_id: Uuid, f: &LetterFilter) -> StoreResult<Vec<LetterRecord>> {
                let rows: Vec<LetterRow> = sqlx::query_as(sql(concat!(
                    "SELECT ", letter_cols!(), " FROM letters WHERE authority_id = $1 \
                     AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR importance = $3) \
                     AND ($4 IS NULL OR reference = $4) AND ($5 IS NULL OR updated_at >= $5) \
                     AND ($6 IS NULL OR id > $6) ORDER BY id LIMIT $7"
                )))
                .bind(authority_id)
                .bind(f.status.map(|s| s.as_str()))
                .bind(f.importance.map(|s| s.as_str()))
                .bind(&f.reference)
                .bind(f.updated_since)
                .bind(f.after)
                .bind(i64::from(f.limit))
                .fetch_all(self.reader())
                .await?;
                rows.into_iter().map(LetterRecord::try_from).collect()
            }

            async fn cancel_letter(&self, authority_id: Uuid, id: Uuid, now: i64) -> StoreResult<CancelOutcome> {
                let mut tx = self.writer().begin().await?;
                let status: Option<String> = sqlx::query_scalar(sql(concat!(
                    "SELECT status FROM letters WHERE id = $1 AND authority_id = $2", $lock
                )))
                .bind(id)
                .bind(authority_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(status) = status else { return Ok(CancelOutcome::NotFound) };
                let status: LetterStatus = parse_enum(&status)?;
                if !status.is_open() {
                    return Ok(CancelOutcome::Final(status));
                }
                sqlx::query(sql("UPDATE letters SET status = 'cancelled', updated_at = $2 WHERE id = $1"))
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(sql(
                    "UPDATE deliveries SET status = 'cancelled', updated_at = $2 WHERE letter_id = $1 AND status IN ('queued', 'sending')",
                ))
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(sql("DELETE FROM jobs WHERE letter_id = $1")).bind(id).execute(&mut *tx).await?;
                let data = serde_json::json!({ "previous_status": status });
                Self::append_event(&mut tx, id, authority_id, EventKind::Cancelled, data, now).await?;
                tx.commit().await?;
                match self.load_letter(id).await? {
                    Some(letter) => Ok(CancelOutcome::Cancelled(Box::new(letter))),
                    None => Err(StoreError::Corrupt(format!("letter {id} vanished after cancel"))),
                }
            }

            async fn events_after(
                &self,
                authority_id: Uuid,
                after: FeedCursor,
                limit: u32,
            ) -> StoreResult<(Vec<EventRecord>, FeedCursor)> {
                let rows: Vec<FeedRow> = sqlx::query_as(sql(concat!(
                    "SELECT seq, id, letter_id, kind, data, created_at, ", $feed_xid, " AS feed_xid FROM events \
                     WHERE authority_id = $1 AND ", $feed_after, $visible, " ORDER BY ", $feed_order, " LIMIT $4"
                )))
                .bind(authority_id)
                .bind(after.xid)
                .bind(after.seq)
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await?;
                let next = rows.last().map(|r| FeedCursor { xid: r.feed_xid, seq: r.event.seq }).unwrap_or(after);
                Ok((rows.into_iter().map(|r| r.event).collect(), next))
            }

            fn letters_waiting_for_commit(&self) -> usize {
                self.letters.waiting()
            }

            async fn claim_jobs(&self, worker: &str, now: i64, lease_ms: i64, limit: u32) -> StoreResult<Vec<Job>> {
                let mut tx = self.begin_claim().await?;
                // each backend's text (`CLAIM_JOBS`)
                let mut jobs: Vec<Job> = sqlx::query_as(sql(CLAIM_JOBS))
                .bind(now)
                .bind(lease_ms)
                .bind(worker)
                .bind(i64::from(limit))
                .bind(i64::from($crate::store::model::bulk_share(limit)))
                .fetch_all(&mut *tx)
                .await?;
                // The deliveries claimed are started in the same transaction, sparing each a
                // turn of its own at the writer.
                let deliveries: Vec<&Job> =
                    jobs.iter().filter(|j| j.kind == "deliver" && j.delivery_id.is_some()).collect();
                if !deliveries.is_empty() {
                    // if starting them fails (say, a row this version cannot read), the claim
                    // still stands and each delivery is started on its own, so one bad delivery
                    // cannot hold up every claim
                    sqlx::query("SAVEPOINT claimed_starts").execute(&mut *tx).await?;
                    let started = async {
                        // only those whose letters nobody else holds: the claim holds its jobs'
                        // rows, and waiting for a letter then could deadlock with a cancel,
                        // which takes the letter first; the others are started on their own
                        let free = Self::try_lock_letters(&mut tx, deliveries.iter().map(|j| j.letter_id).collect()).await?;
                        let starts: Vec<(&Job, i64)> =
                            deliveries.iter().filter(|j| free.contains(&j.letter_id)).map(|j| (*j, now)).collect();
                        let ids: Vec<Uuid> = starts.iter().map(|(j, _)| j.id).collect();
                        let started = Self::start_deliveries_rows(&mut tx, &starts).await?;
                        Ok::<_, StoreError>(ids.into_iter().zip(started).collect::<std::collections::HashMap<_, _>>())
                    };
                    match started.await {
                        Ok(mut by_job) => {
                            sqlx::query("RELEASE claimed_starts").execute(&mut *tx).await?;
                            for job in &mut jobs {
                                if let Some(start) = by_job.remove(&job.id) {
                                    job.start =
                                        start.map_or(ClaimedStart::Settled, |d| ClaimedStart::Started(Box::new(d)));
                                }
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "claimed deliveries will be started one by one");
                            sqlx::query("ROLLBACK TO claimed_starts").execute(&mut *tx).await?;
                            sqlx::query("RELEASE claimed_starts").execute(&mut *tx).await?;
                        }
                    }
                }
                tx.commit().await?;
                Ok(jobs)
            }

            async fn release_jobs(&self, worker: &str) -> StoreResult<u64> {
                let done = sqlx::query(sql(
                    "UPDATE jobs SET available_at = 0, locked_by = NULL, attempts = attempts - 1 WHERE locked_by = $1",
                ))
                .bind(worker)
                .execute(self.writer())
                .await?;
                Ok(done.rows_affected())
            }

            async fn start_delivery(&self, job: &Job, now: i64) -> StoreResult<Option<DeliveryWork>> {
                // checked before queueing too, so such a job never spoils a commit group
                if job.delivery_id.is_none() {
                    return Err(StoreError::Corrupt(format!("job {} has no delivery", job.id)));
                }
                // started by its claim, or now (each backend decides how starts are committed:
                // in groups)
                let delivery = match &job.start {
                    ClaimedStart::Started(delivery) => (**delivery).clone(),
                    ClaimedStart::Settled => return Ok(None),
                    ClaimedStart::NotStarted => match self.commit_delivery_start(job, now).await? {
                        Some(delivery) => delivery,
                        None => return Ok(None),
                    },
                };

                // the letter, citizen and documents in a batch with the other deliveries' (one
                // statement per table for the lot), the authority from the cache
                let context = self
                    .delivery_reads
                    .read(self.reader(), job.letter_id)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("delivery {} has no letter or citizen", delivery.id)))?;
                let DeliveryContext { mut letter, mut citizen, documents } = context;
                let authority = self
                    .authority(letter.authority_id)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("letter {} has no authority", letter.id)))?;
                citizen.cpr = self.open_cpr(&citizen.cpr).await?;
                // a helper's delivery: their contact and address stand in for the citizen's
                let for_helper = delivery.helper.as_ref().map(|h| {
                    let about = letter.recipient.name.clone().unwrap_or_default();
                    letter.recipient.name = Some(h.name.clone());
                    letter.recipient.address = h.address.clone();
                    citizen.phone = h.phone.clone();
                    citizen.email = h.email.clone();
                    citizen.exempt_from_digital_post = false;
                    about
                });
                Ok(Some(DeliveryWork { letter, citizen, authority, delivery, documents, for_helper }))
            }

            async fn finish_delivery(&self, job: &Job, outcome: &DeliveryOutcome, now: i64) -> StoreResult<()> {
                // each backend decides how finishes are committed (SQLite: in groups)
                self.commit_delivery_finish(job, outcome, now).await
            }

            async fn delivery(&self, id: Uuid) -> StoreResult<Option<DeliveryRecord>> {
                let row: Option<DeliveryRow> =
                    sqlx::query_as(sql(concat!("SELECT ", delivery_cols!(), " FROM deliveries WHERE id = $1")))
                        .bind(id)
                        .fetch_optional(self.reader())
                        .await?;
                row.map(DeliveryRecord::try_from).transpose()
            }

            async fn delivery_by_provider_ref(
                &self,
                channel: ChannelKind,
                provider_ref: &str,
            ) -> StoreResult<Option<DeliveryRecord>> {
                let row: Option<DeliveryRow> = sqlx::query_as(sql(concat!(
                    "SELECT ", delivery_cols!(), " FROM deliveries WHERE channel = $1 AND provider_ref = $2"
                )))
                .bind(channel.as_str())
                .bind(provider_ref)
                .fetch_optional(self.reader())
                .await?;
                row.map(DeliveryRecord::try_from).transpose()
            }

            async fn record_receipt(&self, delivery_id: Uuid, receipt: &ProviderReceipt, now: i64) -> StoreResult<bool> {
                let (status, error, detail) = match receipt {
                    ProviderReceipt::Delivered { detail } => ("delivered", None, detail.clone()),
                    ProviderReceipt::Failed { error } => ("failed", Some(error.clone()), None),
                };
                let letter_id: Option<Uuid> = sqlx::query_scalar(sql("SELECT letter_id FROM deliveries WHERE id = $1"))
                    .bind(delivery_id)
                    .fetch_optional(self.reader())
                    .await?;
                let Some(letter_id) = letter_id else { return Ok(false) };
                let mut tx = self.writer().begin().await?;
                Self::lock_letter(&mut tx, letter_id).await?;
                let settled: Option<(Uuid, String, String, Option<String>, Option<String>)> = sqlx::query_as(sql(
                    "UPDATE deliveries SET status = $2, last_error = $3, updated_at = $4 WHERE id = $1 \
                     AND status IN ('sending', 'sent') RETURNING letter_id, channel, purpose, transport, provider_ref",
                ))
                .bind(delivery_id)
                .bind(status)
                .bind(&error)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((letter_id, channel, purpose, transport, provider_ref)) = settled else { return Ok(false) };
                let data = serde_json::json!({
                    "delivery_id": delivery_id, "channel": channel, "purpose": purpose, "transport": transport,
                    "provider_ref": provider_ref, "receipt": detail, "error": error,
                });
                let (letter_status, kind) = match receipt {
                    ProviderReceipt::Delivered { .. } => (LetterStatus::Delivered, EventKind::Delivered),
                    ProviderReceipt::Failed { .. } => (LetterStatus::Failed, EventKind::Failed),
                };
                Self::settle_letter(&mut tx, letter_id, &purpose, letter_status, kind, data, now).await?;
                // a receipt can overtake the engine's own bookkeeping: no job may linger
                sqlx::query(sql("DELETE FROM jobs WHERE delivery_id = $1")).bind(delivery_id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn escalation_context(
                &self,
                letter_id: Uuid,
                offer: $crate::store::model::ExemptionOfferRule,
            ) -> StoreResult<Option<EscalationContext>> {
                self.escalation_reads.read(self.reader(), (letter_id, offer)).await
            }

            async fn apply_escalation(&self, job: &Job, plan: &EscalationPlan, now: i64) -> StoreResult<bool> {
                // each backend decides how escalations are committed (SQLite: in groups)
                self.commit_escalation(job, plan, now).await
            }

            async fn set_policy(
                &self,
                authority_id: Uuid,
                importance: $crate::domain::Importance,
                category: &str,
                policy: &$crate::domain::policy::Policy,
                now: i64,
            ) -> StoreResult<()> {
                sqlx::query(sql(
                    "INSERT INTO policies (authority_id, importance, category, policy, updated_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (authority_id, importance, category) DO UPDATE SET policy = excluded.policy, \
                     updated_at = excluded.updated_at",
                ))
                .bind(authority_id)
                .bind(importance.as_str())
                .bind(category)
                .bind(Json(policy))
                .bind(now)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn policies(&self, authority_id: Uuid) -> StoreResult<Vec<(String, String, $crate::domain::policy::Policy)>> {
                let rows: Vec<(String, String, Json<$crate::domain::policy::Policy>)> = sqlx::query_as(sql(
                    "SELECT importance, category, policy FROM policies WHERE authority_id = $1 ORDER BY importance, category",
                ))
                .bind(authority_id)
                .fetch_all(self.reader())
                .await?;
                Ok(rows.into_iter().map(|(i, c, p)| (i, c, p.0)).collect())
            }

            async fn create_reading_code(
                &self,
                delivery_id: Uuid,
                letter_id: Uuid,
                code_hash: &str,
                expires_at: i64,
                sms: serde_json::Value,
                now: i64,
            ) -> StoreResult<()> {
                let mut tx = self.writer().begin().await?;
                // a new code replaces older ones
                sqlx::query(sql("UPDATE reading_codes SET used_at = $2 WHERE delivery_id = $1 AND used_at IS NULL"))
                    .bind(delivery_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(sql(
                    "INSERT INTO reading_codes (id, delivery_id, code_hash, expires_at, attempts, created_at) \
                     VALUES ($1, $2, $3, $4, 0, $5)",
                ))
                .bind(Uuid::now_v7())
                .bind(delivery_id)
                .bind(code_hash)
                .bind(expires_at)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                Self::queue_code_sms(&mut tx, letter_id, Some(delivery_id), sms, now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn reading_codes_since(&self, delivery_id: Uuid, since: i64) -> StoreResult<i64> {
                Ok(sqlx::query_scalar(sql("SELECT COUNT(*) FROM reading_codes WHERE delivery_id = $1 AND created_at >= $2"))
                    .bind(delivery_id)
                    .bind(since)
                    .fetch_one(self.reader())
                    .await?)
            }

            async fn check_reading_code(
                &self,
                delivery_id: Uuid,
                code_hash: &str,
                max_attempts: i64,
                now: i64,
            ) -> StoreResult<CodeCheck> {
                let mut tx = self.writer().begin().await?;
                let live: Option<(Uuid, String)> = sqlx::query_as(sql(concat!(
                    "SELECT id, code_hash FROM reading_codes WHERE delivery_id = $1 AND used_at IS NULL \
                     AND expires_at > $2 AND attempts < $3 ORDER BY created_at DESC LIMIT 1", $lock
                )))
                .bind(delivery_id)
                .bind(now)
                .bind(max_attempts)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((id, stored)) = live else { return Ok(CodeCheck::NoLiveCode) };
                let accepted = $crate::domain::secret::constant_time_eq(stored.as_bytes(), code_hash.as_bytes());
                if accepted {
                    sqlx::query(sql("UPDATE reading_codes SET used_at = $2 WHERE id = $1"))
                        .bind(id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                } else {
                    sqlx::query(sql("UPDATE reading_codes SET attempts = attempts + 1 WHERE id = $1"))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(if accepted { CodeCheck::Accepted } else { CodeCheck::Wrong })
            }

            async fn drop_job(&self, job_id: Uuid) -> StoreResult<()> {
                sqlx::query(sql("DELETE FROM jobs WHERE id = $1")).bind(job_id).execute(self.writer()).await?;
                Ok(())
            }

            async fn record_evidence(
                &self,
                authority_id: Uuid,
                letter_id: Uuid,
                kind: EventKind,
                data: serde_json::Value,
                now: i64,
            ) -> StoreResult<bool> {
                let mut tx = self.writer().begin().await?;
                let found: Option<Uuid> = sqlx::query_scalar(sql(concat!(
                    "SELECT id FROM letters WHERE id = $1 AND authority_id = $2", $lock
                )))
                .bind(letter_id)
                .bind(authority_id)
                .fetch_optional(&mut *tx)
                .await?;
                if found.is_none() {
                    return Ok(false);
                }
                Self::append_event(&mut tx, letter_id, authority_id, kind, data, now).await?;
                if kind.is_evidence() {
                    Self::note_evidence(&mut tx, letter_id, authority_id, now).await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn alerts(&self, authority_id: Uuid, all: bool) -> StoreResult<Vec<Alert>> {
                Ok(sqlx::query_as(sql(
                    "SELECT id, authority_id, letter_id, citizen_id, kind, status, details, note, created_at, closed_at \
                     FROM alerts WHERE authority_id = $1 AND ($2 OR status = 'open') ORDER BY created_at, id",
                ))
                .bind(authority_id)
                .bind(all)
                .fetch_all(self.reader())
                .await?)
            }

            async fn close_alert(&self, authority_id: Uuid, id: Uuid, note: &str, now: i64) -> StoreResult<Option<Alert>> {
                let mut tx = self.writer().begin().await?;
                let closed: Option<Alert> = sqlx::query_as(sql(
                    "UPDATE alerts SET status = 'closed', note = $3, closed_at = $4 \
                     WHERE id = $1 AND authority_id = $2 AND status = 'open' \
                     RETURNING id, authority_id, letter_id, citizen_id, kind, status, details, note, created_at, closed_at",
                ))
                .bind(id)
                .bind(authority_id)
                .bind(note)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(alert) = &closed
                    && let Some(letter_id) = alert.letter_id
                {
                    let data = serde_json::json!({ "alert_id": alert.id, "kind": alert.kind, "note": note });
                    Self::append_event(&mut tx, letter_id, authority_id, EventKind::AlertClosed, data, now).await?;
                }
                tx.commit().await?;
                Ok(closed)
            }

            async fn callback_tasks(&self, authority_id: Uuid, all: bool) -> StoreResult<Vec<CallbackTask>> {
                Ok(sqlx::query_as(sql(concat!(
                    "SELECT ", callback_cols!(), " FROM callback_tasks WHERE authority_id = $1 \
                     AND ($2 OR status = 'open') ORDER BY due_at, id"
                )))
                .bind(authority_id)
                .bind(all)
                .fetch_all(self.reader())
                .await?)
            }

            async fn record_call(
                &self,
                authority_id: Uuid,
                task_id: Uuid,
                log: &CallLog,
                now: i64,
            ) -> StoreResult<Option<CallbackTask>> {
                let mut tx = self.writer().begin().await?;
                let task: Option<CallbackTask> = sqlx::query_as(sql(concat!(
                    "SELECT ", callback_cols!(), " FROM callback_tasks WHERE id = $1 AND authority_id = $2 AND status = 'open'",
                    $lock
                )))
                .bind(task_id)
                .bind(authority_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(task) = task else { return Ok(None) };
                Self::lock_letter(&mut tx, task.letter_id).await?;
                let no_answers = task.no_answers + i64::from(log.outcome == CallOutcome::NoAnswer);
                let (status, due_at) = match log.outcome {
                    CallOutcome::Reached => ("done", task.due_at),
                    CallOutcome::WrongNumber => ("failed", task.due_at),
                    CallOutcome::NoAnswer if no_answers >= log.max_no_answers => ("failed", task.due_at),
                    CallOutcome::NoAnswer => ("open", log.retry_at),
                };
                sqlx::query(sql(
                    "UPDATE callback_tasks SET status = $2, due_at = $3, no_answers = $4, \
                     minutes_spent = minutes_spent + $5, last_outcome = $6, updated_at = $7 WHERE id = $1",
                ))
                .bind(task.id)
                .bind(status)
                .bind(due_at)
                .bind(no_answers)
                .bind(log.minutes)
                .bind(log.outcome.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let logged = serde_json::json!({
                    "callback_id": task.id, "outcome": log.outcome, "minutes": log.minutes, "no_answers": no_answers,
                });
                Self::append_event(&mut tx, task.letter_id, authority_id, EventKind::CallLogged, logged, now).await?;
                if log.outcome == CallOutcome::Reached {
                    let data = serde_json::json!({ "via": "phone", "callback_id": task.id });
                    Self::append_event(&mut tx, task.letter_id, authority_id, EventKind::Reacted, data, now).await?;
                    Self::note_evidence(&mut tx, task.letter_id, authority_id, now).await?;
                }
                if let Some(delivery_id) = task.delivery_id.filter(|_| status != "open") {
                    let settled: Option<String> = sqlx::query_scalar(sql(
                        "UPDATE deliveries SET status = $2, last_error = $3, updated_at = $4 WHERE id = $1 \
                         AND status IN ('sending', 'sent') RETURNING purpose",
                    ))
                    .bind(delivery_id)
                    .bind(if status == "done" { "delivered" } else { "failed" })
                    .bind((status == "failed").then(|| format!("call: {}", log.outcome.as_str())))
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(purpose) = settled {
                        let data = serde_json::json!({ "delivery_id": delivery_id, "channel": "phone", "purpose": purpose });
                        let (letter_status, kind) = if status == "done" {
                            (LetterStatus::Delivered, EventKind::Delivered)
                        } else {
                            (LetterStatus::Failed, EventKind::Failed)
                        };
                        Self::settle_letter(&mut tx, task.letter_id, &purpose, letter_status, kind, data, now).await?;
                    }
                }
                let updated: CallbackTask =
                    sqlx::query_as(sql(concat!("SELECT ", callback_cols!(), " FROM callback_tasks WHERE id = $1")))
                        .bind(task.id)
                        .fetch_one(&mut *tx)
                        .await?;
                tx.commit().await?;
                Ok(Some(updated))
            }

            async fn sms_reply_target(&self, phone_e164: &str) -> StoreResult<Option<ReplyTarget>> {
                Ok(sqlx::query_as(sql(
                    "SELECT d.id AS delivery_id, l.id AS letter_id, l.authority_id, l.subject, a.name AS sender, c.phone \
                     FROM citizens c JOIN letters l ON l.citizen_id = c.id JOIN deliveries d ON d.letter_id = l.id \
                     JOIN authorities a ON a.id = l.authority_id \
                     WHERE c.phone_e164 = $1 AND d.channel = 'sms' AND d.status IN ('sent', 'delivered') \
                     ORDER BY d.created_at DESC, d.id DESC LIMIT 1",
                ))
                .bind(phone_e164)
                .fetch_optional(self.reader())
                .await?)
            }

            async fn record_reply(&self, target: &ReplyTarget, reply: &Reply, now: i64) -> StoreResult<()> {
                let mut tx = self.writer().begin().await?;
                let via = serde_json::json!({ "via": "sms", "delivery_id": target.delivery_id });
                match reply {
                    Reply::Reaction => {
                        Self::append_event(&mut tx, target.letter_id, target.authority_id, EventKind::Reacted, via, now).await?;
                        Self::note_evidence(&mut tx, target.letter_id, target.authority_id, now).await?;
                    }
                    Reply::CallbackRequest(task) => {
                        Self::insert_callback(&mut tx, target.authority_id, target.letter_id, None, task, now).await?;
                        let data = serde_json::json!({ "via": "sms", "callback_id": task.id });
                        Self::append_event(&mut tx, target.letter_id, target.authority_id, EventKind::Reacted, via, now).await?;
                        Self::note_evidence(&mut tx, target.letter_id, target.authority_id, now).await?;
                        let kind = EventKind::CallbackRequested;
                        Self::append_event(&mut tx, target.letter_id, target.authority_id, kind, data, now).await?;
                    }
                    Reply::Other(text) => {
                        let data = serde_json::json!({ "via": "sms", "delivery_id": target.delivery_id, "text": text });
                        let kind = EventKind::ReplyReceived;
                        Self::append_event(&mut tx, target.letter_id, target.authority_id, kind, data, now).await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }

            async fn claim_webhook_messages(
                &self,
                worker: &str,
                now: i64,
                lease_ms: i64,
                limit: u32,
            ) -> StoreResult<Vec<WebhookMessage>> {
                let mut tx = self.begin_relaxed().await?;
                // a fresh token per claim lets us read back exactly the rows this call took
                let token = format!("{worker}:{}", Uuid::new_v4());
                sqlx::query(sql(concat!(
                    "UPDATE webhook_messages SET available_at = $1 + $2, locked_by = $3, attempts = attempts + 1 \
                     WHERE id IN (SELECT m.id FROM webhook_messages m WHERE m.state = 'pending' AND m.available_at <= $1 \
                     AND NOT EXISTS (SELECT 1 FROM webhook_messages p WHERE p.webhook_id = m.webhook_id \
                     AND p.letter_id = m.letter_id AND p.state = 'pending' AND p.id < m.id) ORDER BY m.id LIMIT $4",
                    $skip_locked,
                    ")"
                )))
                .bind(now)
                .bind(lease_ms)
                .bind(&token)
                .bind(i64::from(limit))
                .execute(&mut *tx)
                .await?;
                let messages = sqlx::query_as(sql(
                    "SELECT m.id, m.webhook_id, w.url, w.secret, w.previous_secret, w.previous_secret_expires_at, \
                     m.attempts, m.created_at, e.id AS event_id, \
                     e.letter_id, e.kind, e.data, e.seq AS event_seq, e.created_at AS event_at \
                     FROM webhook_messages m JOIN webhooks w ON w.id = m.webhook_id JOIN events e ON e.seq = m.event_seq \
                     WHERE m.locked_by = $1 ORDER BY m.id",
                ))
                .bind(&token)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(messages)
            }

            async fn webhook_message_sent(&self, id: i64) -> StoreResult<()> {
                let mut tx = self.begin_relaxed().await?;
                sqlx::query(sql("DELETE FROM webhook_messages WHERE id = $1")).bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn webhook_message_retry(&self, id: i64, available_at: i64, error: &str) -> StoreResult<()> {
                let mut tx = self.begin_relaxed().await?;
                sqlx::query(sql(
                    "UPDATE webhook_messages SET available_at = $2, locked_by = NULL, last_error = $3 WHERE id = $1",
                ))
                .bind(id)
                .bind(available_at)
                .bind(error)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn webhook_message_dead(&self, id: i64, error: &str) -> StoreResult<()> {
                let mut tx = self.begin_relaxed().await?;
                sqlx::query(sql(
                    "UPDATE webhook_messages SET state = 'dead', locked_by = NULL, last_error = $2 WHERE id = $1",
                ))
                .bind(id)
                .bind(error)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn stats(&self, now: i64) -> StoreResult<Stats> {
                let letters_by_status = sqlx::query_as(sql("SELECT status, COUNT(*) FROM letters GROUP BY status"))
                    .fetch_all(self.reader())
                    .await?;
                let deliveries_by_channel_status =
                    sqlx::query_as(sql("SELECT channel, status, COUNT(*) FROM deliveries GROUP BY channel, status"))
                        .fetch_all(self.reader())
                        .await?;
                // both lanes named, so each is read from its own range of `jobs_due`
                let (jobs_due, oldest): (i64, Option<i64>) =
                    sqlx::query_as(sql("SELECT COUNT(*), MIN(available_at) FROM jobs WHERE lane IN (0, 1) AND available_at <= $1"))
                        .bind(now)
                        .fetch_one(self.reader())
                        .await?;
                let webhook_backlog: i64 =
                    sqlx::query_scalar(sql("SELECT COUNT(*) FROM webhook_messages WHERE state = 'pending'"))
                        .fetch_one(self.reader())
                        .await?;
                let open_alerts_by_kind =
                    sqlx::query_as(sql("SELECT kind, COUNT(*) FROM alerts WHERE status = 'open' GROUP BY kind"))
                        .fetch_all(self.reader())
                        .await?;
                Ok(Stats {
                    open_alerts_by_kind,
                    letters_by_status,
                    deliveries_by_channel_status,
                    jobs_due,
                    oldest_due_age_ms: oldest.map(|o| (now - o).max(0)).unwrap_or(0),
                    webhook_backlog,
                })
            }
        }
    };
}
pub(crate) use common_store_impl;

#[cfg(test)]
mod tests {
    use super::Statements;
    use crate::store::Backend;

    /// Two statements, the second returning its row.
    fn two<DB: sqlx::Database>(backend: Backend) -> Vec<(sqlx::QueryBuilder<DB>, bool)>
    where
        DB::Arguments: Default,
        i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        let mut statements = Statements::<DB>::new(backend);
        statements.start("INSERT INTO t (n) VALUES (", false).push_bind(1_i64).push(")");
        statements.start("INSERT INTO t (n) VALUES (", true).push_bind(2_i64).push(") RETURNING n * 10");
        statements.into_calls()
    }

    #[test]
    fn statements_go_in_one_call_on_sqlite_and_one_each_on_postgres() {
        let sqlite = two::<sqlx::Sqlite>(Backend::Sqlite);
        assert_eq!(sqlite.len(), 1);
        assert_eq!(
            sqlite[0].0.sql().as_str(),
            "INSERT INTO t (n) VALUES (?); INSERT INTO t (n) VALUES (?) RETURNING n * 10"
        );
        assert!(sqlite[0].1, "the call returns the second statement's row");

        let postgres = two::<sqlx::Postgres>(Backend::Postgres);
        let calls: Vec<(String, bool)> =
            postgres.iter().map(|(q, rows)| (q.sql().as_str().to_owned(), *rows)).collect();
        assert_eq!(
            calls,
            [
                ("INSERT INTO t (n) VALUES ($1)".to_owned(), false),
                ("INSERT INTO t (n) VALUES ($1) RETURNING n * 10".to_owned(), true)
            ]
        );
    }

    /// What the store relies on: SQLite runs every statement of the one call, each with its own
    /// parameters in order, and answers the rows of those that return rows.
    #[tokio::test]
    async fn sqlite_runs_one_call_of_several_statements_with_their_own_parameters() {
        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER NOT NULL)").execute(&pool).await.unwrap();
        let mut calls = two::<sqlx::Sqlite>(Backend::Sqlite);
        let (call, _) = &mut calls[0];
        let returned: Vec<(i64,)> = call.build_query_as().fetch_all(&pool).await.unwrap();
        assert_eq!(returned, [(20,)]);
        let stored: Vec<i64> = sqlx::query_scalar("SELECT n FROM t ORDER BY n").fetch_all(&pool).await.unwrap();
        assert_eq!(stored, [1, 2]);
    }
}
