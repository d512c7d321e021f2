//! The append-only audit log of administrative and caseworker actions (issue #7), for both
//! databases. Appends are serialised on the chain head — `BEGIN IMMEDIATE` on SQLite (one
//! writer across processes), a transaction-level advisory lock on PostgreSQL — so seqs have no
//! gaps and every row links to the one before it, also with several gateway processes. The
//! table refuses UPDATE and DELETE by trigger; `budbringer audit verify` checks the chain.

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;
use crate::domain::audit_chain::{ActorKind, AuditRecord};

/// An action to record. Subject and details carry ids and small facts only — never a CPR
/// number, letter content, a note's text, a URL's query or a secret.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: i64,
    pub actor_kind: ActorKind,
    /// The caseworker's id, the API key's hint, the operator's login name.
    pub actor_id: String,
    pub authority_id: Option<Uuid>,
    /// `noun.past_tense`, e.g. `alert.closed`, `webhook.added`.
    pub action: &'static str,
    pub subject: String,
    pub details: serde_json::Value,
}

impl AuditEntry {
    pub fn new(
        at: i64,
        actor_kind: ActorKind,
        actor_id: impl Into<String>,
        authority_id: Option<Uuid>,
        action: &'static str,
        subject: impl ToString,
    ) -> Self {
        AuditEntry {
            at,
            actor_kind,
            actor_id: actor_id.into(),
            authority_id,
            action,
            subject: subject.to_string(),
            details: serde_json::json!({}),
        }
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Append one row at the head of the chain; returns it with its seq and hash.
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<AuditRecord>;
    /// Rows after `after_seq`, in seq order (page through with the last seq seen).
    async fn audit_entries(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<AuditRecord>>;
}

/// What the audit log keeps of a webhook: its host, never the path or query (which may carry
/// a token).
pub fn webhook_details(url: &str) -> serde_json::Value {
    let host = reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned));
    serde_json::json!({ "host": host })
}

/// Serialises appends on PostgreSQL: `pg_advisory_xact_lock` on this key ("bbaudit1").
pub const PG_AUDIT_LOCK: i64 = 0x6262_6175_6469_7431;

/// A row as read from either database.
#[derive(sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor_kind: String,
    pub actor_id: String,
    pub authority_id: Option<Uuid>,
    pub action: String,
    pub subject: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditRow> for AuditRecord {
    fn from(r: AuditRow) -> Self {
        AuditRecord {
            seq: r.seq,
            at: r.at,
            actor_kind: r.actor_kind,
            actor_id: r.actor_id,
            authority_id: r.authority_id,
            action: r.action,
            subject: r.subject,
            details: r.details,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

macro_rules! audit_store_impl {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::audit::AuditStore for $store {
            async fn append_audit(
                &self,
                e: &$crate::store::audit::AuditEntry,
            ) -> $crate::store::StoreResult<$crate::domain::audit_chain::AuditRecord> {
                let mut tx = match Self::BACKEND {
                    // take the write lock before reading the head, so no other process can
                    // append in between (a deferred transaction would fail to upgrade instead)
                    $crate::store::Backend::Sqlite => self.writer().begin_with("BEGIN IMMEDIATE").await?,
                    $crate::store::Backend::Postgres => {
                        let mut tx = self.writer().begin().await?;
                        sqlx::query("SELECT pg_advisory_xact_lock($1)")
                            .bind($crate::store::audit::PG_AUDIT_LOCK)
                            .execute(&mut *tx)
                            .await?;
                        tx
                    }
                };
                let head: Option<(i64, String)> =
                    sqlx::query_as(sql("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"))
                        .fetch_optional(&mut *tx)
                        .await?;
                let head = head.map(|(seq, hash)| $crate::domain::audit_chain::ChainHead { seq, hash });
                let record = $crate::domain::audit_chain::next_record(
                    head.as_ref(),
                    e.at,
                    e.actor_kind,
                    &e.actor_id,
                    e.authority_id,
                    e.action,
                    &e.subject,
                    &e.details,
                );
                sqlx::query(sql(
                    "INSERT INTO audit_log (seq, at, actor_kind, actor_id, authority_id, action, subject, details, \
                     prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                ))
                .bind(record.seq)
                .bind(record.at)
                .bind(&record.actor_kind)
                .bind(&record.actor_id)
                .bind(record.authority_id)
                .bind(&record.action)
                .bind(&record.subject)
                .bind(&record.details)
                .bind(&record.prev_hash)
                .bind(&record.hash)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(record)
            }

            async fn audit_entries(
                &self,
                after_seq: i64,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::domain::audit_chain::AuditRecord>> {
                let rows: Vec<$crate::store::audit::AuditRow> = sqlx::query_as(sql(
                    "SELECT seq, at, actor_kind, actor_id, authority_id, action, subject, details, prev_hash, hash \
                     FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                ))
                .bind(after_seq)
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }
        }
    };
}
pub(crate) use audit_store_impl;
