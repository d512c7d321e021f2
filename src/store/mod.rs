//! Persistence. One `Store` trait, two implementations (SQLite, PostgreSQL) that share their
//! queries through `common_store_impl!`; each has its own migrations under `migrations/`.
//! Timestamps are stored as milliseconds since the Unix epoch (UTC), dates as `YYYY-MM-DD`.

pub mod audit;
pub(crate) mod authority_cache;
mod batch_queue;
mod batch_read;
pub mod citizen_pages;
mod common;
mod group_commit;
mod letter_rows;
mod migrations;
pub mod model;
pub mod postgres;
pub mod retention;
pub mod sqlite;
pub mod staff_pages;
pub mod web;

use async_trait::async_trait;
use std::sync::Arc;
use uuid::Uuid;

use crate::domain::routing::ContactProfile;
pub use audit::{AuditEntry, AuditStore};
pub use citizen_pages::{CitizenPagesStore, ProfileChange};
pub use model::*;
pub use retention::{RetentionCutoff, RetentionStore};
pub use staff_pages::StaffPagesStore;
pub use web::{OidcPending, SessionRecord, WebStore};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Unsupported(&'static str),
}

impl StoreError {
    /// The database cannot be reached or is out of resources: worth a 503 and a retry.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(e) = self else { return false };
        if matches!(
            e,
            sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed
        ) {
            return true;
        }
        let Some(db) = e.as_database_error() else { return false };
        let code = db.code().unwrap_or_default();
        match code.parse::<i32>() {
            // SQLite result codes (the low byte is the primary code): BUSY, LOCKED, READONLY,
            // IOERR, FULL, CANTOPEN
            Ok(n) => matches!(n & 0xff, 5 | 6 | 8 | 10 | 13 | 14),
            // PostgreSQL SQLSTATE: connection exception (08), insufficient resources (53),
            // operator intervention (57P: shutting down), database gone (3D000)
            Err(_) => code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") || code == "3D000",
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[async_trait]
pub trait Store:
    WebStore + CitizenPagesStore + StaffPagesStore + AuditStore + RetentionStore + Send + Sync + 'static
{
    fn backend(&self) -> Backend;
    async fn migrate(&self) -> StoreResult<()>;
    async fn ping(&self) -> StoreResult<()>;
    async fn close(&self);
    /// Seal CPR numbers with this key (from configuration). Must come before the first use;
    /// without it the database's own generated key is used. `false` when too late.
    fn use_cpr_key(&self, sealer: crate::domain::cpr_seal::CprSealer) -> bool;
    /// A consistent copy of the whole database in a new file, taken while it runs (SQLite).
    async fn backup(&self, to: &std::path::Path) -> StoreResult<()>;
    /// A named random key kept in the database (created on first use), e.g. for CPR hashing.
    async fn instance_key(&self, name: &str) -> StoreResult<Vec<u8>>;

    async fn create_authority(&self, authority: &Authority) -> StoreResult<()>;
    async fn authority(&self, id: Uuid) -> StoreResult<Option<Authority>>;
    async fn authority_by_cvr(&self, cvr: &str) -> StoreResult<Option<Authority>>;
    /// An authority's own office hours for callback calls (`None`: the installation's).
    async fn set_office_hours(
        &self,
        authority_id: Uuid,
        office_hours: Option<&str>,
        time_zone: Option<&str>,
    ) -> StoreResult<()>;
    /// An authority's own closing days (deadlines and business-day waits skip them).
    async fn set_closing_days(&self, authority_id: Uuid, days: &[jiff::civil::Date]) -> StoreResult<()>;
    async fn add_api_key(&self, authority_id: Uuid, key_hash: &str, hint: &str, now: i64) -> StoreResult<Uuid>;
    async fn authority_by_key_hash(&self, key_hash: &str) -> StoreResult<Option<Authority>>;

    async fn add_webhook(&self, webhook: &Webhook) -> StoreResult<()>;
    async fn webhooks(&self, authority_id: Uuid) -> StoreResult<Vec<Webhook>>;
    async fn delete_webhook(&self, authority_id: Uuid, id: Uuid) -> StoreResult<bool>;
    /// A webhook by id alone (the administrator's command line).
    async fn webhook(&self, id: Uuid) -> StoreResult<Option<Webhook>>;
    /// Give the authority's webhook a new secret; the current one becomes the previous secret,
    /// which keeps signing until `previous_expires_at`. `None`: no such webhook at this authority.
    async fn rotate_webhook_secret(
        &self,
        authority_id: Uuid,
        id: Uuid,
        secret: &str,
        previous_expires_at: i64,
    ) -> StoreResult<Option<Webhook>>;

    /// Create or replace a citizen's contact profile (routing reads it for each new letter).
    async fn set_contact_profile(&self, profile: &ProfileUpdate, now: i64) -> StoreResult<Uuid>;
    /// What a new letter is routed by, in one read: the citizen's contact profile (`None`:
    /// not known yet) and the authority's own policy for the letter's kind — the category's,
    /// else the importance's (`None`: the installation's default applies).
    async fn letter_context(
        &self,
        cpr_hash: &str,
        authority_id: Uuid,
        importance: crate::domain::Importance,
        category: Option<&str>,
    ) -> StoreResult<(Option<ContactProfile>, Option<crate::domain::policy::Policy>)>;
    /// A citizen's profile by citizen id (the id is what authorities keep, not the CPR number).
    async fn stored_profile(&self, citizen_id: Uuid) -> StoreResult<Option<StoredProfile>>;
    async fn citizen_id(&self, cpr_hash: &str) -> StoreResult<Option<Uuid>>;
    /// Note that someone read a citizen's data, for the citizen's access log.
    async fn log_access(&self, entry: &AccessEntry) -> StoreResult<()>;
    async fn access_log(&self, citizen_id: Uuid) -> StoreResult<Vec<AccessEntry>>;
    /// Store a letter, its documents, first delivery, job and `accepted` event in one
    /// transaction — or find the letter an earlier request with the same idempotency key made.
    async fn insert_letter(&self, letter: &NewLetter) -> StoreResult<Inserted>;
    async fn letter(&self, authority_id: Uuid, id: Uuid) -> StoreResult<Option<LetterRecord>>;
    /// A letter with its documents, deliveries and timeline, read from one snapshot.
    async fn letter_details(&self, authority_id: Uuid, id: Uuid) -> StoreResult<Option<LetterDetails>>;
    async fn documents(&self, letter_id: Uuid) -> StoreResult<Vec<DocumentMeta>>;
    /// A letter by id alone — for the citizen's own reading link, which the caller has verified.
    async fn letter_for_reading(&self, id: Uuid) -> StoreResult<Option<LetterRecord>>;
    /// One document with its content.
    async fn document(&self, letter_id: Uuid, document_id: Uuid) -> StoreResult<Option<Document>>;
    async fn deliveries(&self, letter_id: Uuid) -> StoreResult<Vec<DeliveryRecord>>;
    async fn timeline(&self, letter_id: Uuid) -> StoreResult<Vec<EventRecord>>;
    async fn list_letters(&self, authority_id: Uuid, filter: &LetterFilter) -> StoreResult<Vec<LetterRecord>>;
    async fn cancel_letter(&self, authority_id: Uuid, id: Uuid, now: i64) -> StoreResult<CancelOutcome>;
    /// Events of one authority after a cursor, in feed order, only those no running
    /// transaction can precede; with the cursor after the last of them (`after` when none).
    async fn events_after(
        &self,
        authority_id: Uuid,
        after: FeedCursor,
        limit: u32,
    ) -> StoreResult<(Vec<EventRecord>, FeedCursor)>;

    /// New letters of this process waiting for their commit: the intake's backlog, which the
    /// engine lets go first during a burst (`engine.intake_precedence_*`).
    fn letters_waiting_for_commit(&self) -> usize;
    /// Reserve due jobs for `worker` until `now + lease_ms`; may start the deliveries among
    /// them (`Job::start`).
    async fn claim_jobs(&self, worker: &str, now: i64, lease_ms: i64, limit: u32) -> StoreResult<Vec<Job>>;
    /// Give back every job `worker` holds (graceful shutdown).
    async fn release_jobs(&self, worker: &str) -> StoreResult<u64>;
    /// Mark the job's delivery as being sent (first time: `dispatched` event), unless its claim
    /// did (`Job::start`), and load what the channel needs. `None` when the delivery was
    /// cancelled meanwhile (the job is removed).
    async fn start_delivery(&self, job: &Job, now: i64) -> StoreResult<Option<DeliveryWork>>;
    async fn finish_delivery(&self, job: &Job, outcome: &DeliveryOutcome, now: i64) -> StoreResult<()>;
    async fn delivery(&self, id: Uuid) -> StoreResult<Option<DeliveryRecord>>;
    /// The delivery a provider knows by `provider_ref` (its message id) on `channel`.
    async fn delivery_by_provider_ref(
        &self,
        channel: crate::domain::ChannelKind,
        provider_ref: &str,
    ) -> StoreResult<Option<DeliveryRecord>>;
    /// Apply a provider's receipt to a delivery that is being sent or was sent. `false` when it
    /// was already settled: repeated receipts change nothing.
    async fn record_receipt(&self, delivery_id: Uuid, receipt: &ProviderReceipt, now: i64) -> StoreResult<bool>;

    /// What an escalation timer for this letter needs to decide, with whether `offer` says the
    /// citizen should be offered exemption; `None` when the letter is gone.
    async fn escalation_context(
        &self,
        letter_id: Uuid,
        offer: ExemptionOfferRule,
    ) -> StoreResult<Option<EscalationContext>>;
    /// Apply an escalation in one transaction, unless evidence arrived or the letter was
    /// cancelled meanwhile (then the timer is simply dropped): `false`.
    async fn apply_escalation(&self, job: &Job, plan: &EscalationPlan, now: i64) -> StoreResult<bool>;
    /// An authority's own escalation policy for a kind of letter (`category` "" for all).
    async fn set_policy(
        &self,
        authority_id: Uuid,
        importance: crate::domain::Importance,
        category: &str,
        policy: &crate::domain::policy::Policy,
        now: i64,
    ) -> StoreResult<()>;
    async fn policies(&self, authority_id: Uuid) -> StoreResult<Vec<(String, String, crate::domain::policy::Policy)>>;
    /// A one-time code for a reading link (only its hash), and the job that texts it to the
    /// citizen's registered phone (`sms`: `{"to", "text"}`), in one transaction.
    async fn create_reading_code(
        &self,
        delivery_id: Uuid,
        letter_id: Uuid,
        code_hash: &str,
        expires_at: i64,
        sms: serde_json::Value,
        now: i64,
    ) -> StoreResult<()>;
    /// How many codes were made for a reading link since `since` (rate limiting).
    async fn reading_codes_since(&self, delivery_id: Uuid, since: i64) -> StoreResult<i64>;
    /// Check a code against the newest live one; a wrong one counts an attempt.
    async fn check_reading_code(
        &self,
        delivery_id: Uuid,
        code_hash: &str,
        max_attempts: i64,
        now: i64,
    ) -> StoreResult<CodeCheck>;
    /// Drop a job that has nothing left to do.
    async fn drop_job(&self, job_id: Uuid) -> StoreResult<()>;
    /// Record evidence (`opened`, `document_opened`, `reacted`) for a letter of this authority:
    /// pending escalation timers are cancelled and open alerts resolved in the same
    /// transaction. `false` when there is no such letter.
    async fn record_evidence(
        &self,
        authority_id: Uuid,
        letter_id: Uuid,
        kind: crate::domain::EventKind,
        data: serde_json::Value,
        now: i64,
    ) -> StoreResult<bool>;
    async fn alerts(&self, authority_id: Uuid, all: bool) -> StoreResult<Vec<Alert>>;
    /// Close an open alert with a caseworker's note. `None`: no such open alert.
    async fn close_alert(&self, authority_id: Uuid, id: Uuid, note: &str, now: i64) -> StoreResult<Option<Alert>>;

    /// The authority's callback tasks, most urgent first; only open ones unless `all`.
    async fn callback_tasks(&self, authority_id: Uuid, all: bool) -> StoreResult<Vec<CallbackTask>>;
    /// Record a call. `reached` is evidence (the delivery is delivered, the citizen reacted);
    /// `wrong_number` or too many unanswered calls fail the delivery. `None`: no such open task.
    async fn record_call(
        &self,
        authority_id: Uuid,
        task_id: Uuid,
        log: &CallLog,
        now: i64,
    ) -> StoreResult<Option<CallbackTask>>;

    /// The latest SMS notice sent to this number: what a reply from it answers.
    async fn sms_reply_target(&self, phone_e164: &str) -> StoreResult<Option<ReplyTarget>>;
    /// Act on a citizen's reply: a reaction is evidence; a callback request also opens a
    /// callback task; anything else is kept on the timeline for a caseworker to read.
    async fn record_reply(&self, target: &ReplyTarget, reply: &Reply, now: i64) -> StoreResult<()>;

    async fn claim_webhook_messages(
        &self,
        worker: &str,
        now: i64,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<WebhookMessage>>;
    async fn webhook_message_sent(&self, id: i64) -> StoreResult<()>;
    async fn webhook_message_retry(&self, id: i64, available_at: i64, error: &str) -> StoreResult<()>;
    async fn webhook_message_dead(&self, id: i64, error: &str) -> StoreResult<()>;

    async fn stats(&self, now: i64) -> StoreResult<Stats>;
}

/// Open the store a database URL names.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    } else {
        Ok(Arc::new(postgres::PgStore::connect(url).await?))
    }
}
