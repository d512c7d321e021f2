//! Retention (issue #7): a letter's content — its body and its documents' content — is deleted
//! a set time after the letter's business is over; the letter's facts, deliveries, timeline and
//! the citizen's access log stay. Also the housekeeping of rotated webhook secrets.

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;

/// Which letters are due for content deletion: both limits must be passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionCutoff {
    /// Arrived before this instant (ms since the epoch).
    pub created_before: i64,
    /// Deadline in force (possibly extended) before this date (`YYYY-MM-DD`), or no deadline.
    pub deadline_before: String,
    /// The rule in days, recorded on the `content_deleted` event.
    pub days: u32,
}

#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Delete the content of up to `limit` letters past `cutoff` that have no work pending (no
    /// job: no delivery waiting or retrying, no escalation timer). Each gets `content_deleted_at`
    /// and a `content_deleted` event in the same transaction. Rows another process holds are
    /// skipped (PostgreSQL: `SKIP LOCKED`) and a letter is never done twice. Returns the letters.
    async fn delete_expired_content(&self, cutoff: &RetentionCutoff, now: i64, limit: u32) -> StoreResult<Vec<Uuid>>;
    /// Forget the previous secrets of webhooks whose rotation overlap has ended.
    async fn forget_expired_webhook_secrets(&self, now: i64) -> StoreResult<u64>;
}

/// Expands `RetentionStore` for one backend; `$skip_locked` is appended to the claim.
macro_rules! retention_store_impl {
    ($store:ty, skip_locked = $skip_locked:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::retention::RetentionStore for $store {
            async fn delete_expired_content(
                &self,
                cutoff: &$crate::store::retention::RetentionCutoff,
                now: i64,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<uuid::Uuid>> {
                let mut tx = self.writer().begin().await?;
                // claim and empty in one statement: rows another process holds are skipped, and a
                // write first takes SQLite's write lock at once (no read-to-write upgrade to fail).
                // No deadline counts as the earliest one: only the arrival limit applies.
                let due: Vec<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(sql(concat!(
                    "UPDATE letters SET body = '', content_deleted_at = $4, updated_at = $4 \
                     WHERE content_deleted_at IS NULL AND id IN (SELECT id FROM letters \
                     WHERE content_deleted_at IS NULL AND created_at < $1 AND COALESCE(deadline, respond_by, '') < $2 \
                     AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.letter_id = letters.id) \
                     ORDER BY created_at LIMIT $3",
                    $skip_locked,
                    ") RETURNING id, authority_id"
                )))
                .bind(cutoff.created_before)
                .bind(&cutoff.deadline_before)
                .bind(i64::from(limit))
                .bind(now)
                .fetch_all(&mut *tx)
                .await?;
                let mut deleted = Vec::with_capacity(due.len());
                for (letter_id, authority_id) in due {
                    // names, sizes and hashes stay: they say what was sent, not what it said
                    let documents = sqlx::query(sql("UPDATE documents SET content = $2 WHERE letter_id = $1"))
                        .bind(letter_id)
                        .bind(Vec::<u8>::new())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    let data = serde_json::json!({
                        "rule": "retention", "letter_content_days": cutoff.days, "documents": documents,
                    });
                    let kind = $crate::domain::EventKind::ContentDeleted;
                    Self::append_event(&mut tx, letter_id, authority_id, kind, data, now).await?;
                    deleted.push(letter_id);
                }
                tx.commit().await?;
                Ok(deleted)
            }

            async fn forget_expired_webhook_secrets(&self, now: i64) -> $crate::store::StoreResult<u64> {
                let done = sqlx::query(sql(
                    "UPDATE webhooks SET previous_secret = NULL, previous_secret_expires_at = NULL \
                     WHERE previous_secret_expires_at <= $1",
                ))
                .bind(now)
                .execute(self.writer())
                .await?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use retention_store_impl;
