//! Web sessions and OpenID Connect logins under way, for both databases.

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;

/// A logged-in person's session, as stored (the cookie value itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRecord {
    pub id_hash: String,
    /// `citizen` or `staff`.
    pub kind: String,
    /// The citizen's or the caseworker's id.
    pub subject_id: Uuid,
    pub authority_id: Option<Uuid>,
    /// `oidc`, `sms_code`, `access_code` or `password`.
    pub login_method: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

/// An OpenID Connect login between the redirect to the provider and its answer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OidcPending {
    pub state: String,
    /// `citizen` or `staff`.
    pub audience: String,
    pub nonce: String,
    pub code_verifier: String,
    /// Where to go after login (a path on this site).
    pub return_to: String,
    pub created_at: i64,
}

#[async_trait]
pub trait WebStore: Send + Sync {
    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// A session that is still valid at `now` (not expired, not idle past `idle_since`).
    async fn live_session(&self, id_hash: &str, now: i64, idle_since: i64) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, id_hash: &str, now: i64) -> StoreResult<()>;
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;
    /// Forget sessions that can no longer be used.
    async fn purge_sessions(&self, now: i64, idle_since: i64) -> StoreResult<u64>;
    async fn save_oidc_pending(&self, pending: &OidcPending) -> StoreResult<()>;
    /// Take (and delete) the login a provider's `state` names, if younger than `since`.
    async fn take_oidc_pending(&self, state: &str, since: i64) -> StoreResult<Option<OidcPending>>;
    /// The citizen's chosen language for pages, notices and letters.
    async fn set_citizen_language(&self, citizen_id: Uuid, language: &str, now: i64) -> StoreResult<()>;
}

macro_rules! web_store_impl {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::web::WebStore for $store {
            async fn create_session(&self, s: &$crate::store::web::SessionRecord) -> $crate::store::StoreResult<()> {
                sqlx::query(sql(
                    "INSERT INTO web_sessions (id_hash, kind, subject_id, authority_id, login_method, csrf_token, \
                     created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                ))
                .bind(&s.id_hash)
                .bind(&s.kind)
                .bind(s.subject_id)
                .bind(s.authority_id)
                .bind(&s.login_method)
                .bind(&s.csrf_token)
                .bind(s.created_at)
                .bind(s.last_seen_at)
                .bind(s.expires_at)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn live_session(
                &self,
                id_hash: &str,
                now: i64,
                idle_since: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::web::SessionRecord>> {
                Ok(sqlx::query_as(sql(
                    "SELECT id_hash, kind, subject_id, authority_id, login_method, csrf_token, created_at, \
                     last_seen_at, expires_at FROM web_sessions \
                     WHERE id_hash = $1 AND expires_at > $2 AND last_seen_at > $3",
                ))
                .bind(id_hash)
                .bind(now)
                .bind(idle_since)
                .fetch_optional(self.reader())
                .await?)
            }

            async fn touch_session(&self, id_hash: &str, now: i64) -> $crate::store::StoreResult<()> {
                sqlx::query(sql("UPDATE web_sessions SET last_seen_at = $2 WHERE id_hash = $1"))
                    .bind(id_hash)
                    .bind(now)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn delete_session(&self, id_hash: &str) -> $crate::store::StoreResult<()> {
                sqlx::query(sql("DELETE FROM web_sessions WHERE id_hash = $1"))
                    .bind(id_hash)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn purge_sessions(&self, now: i64, idle_since: i64) -> $crate::store::StoreResult<u64> {
                let done = sqlx::query(sql("DELETE FROM web_sessions WHERE expires_at <= $1 OR last_seen_at <= $2"))
                    .bind(now)
                    .bind(idle_since)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected())
            }

            async fn save_oidc_pending(&self, p: &$crate::store::web::OidcPending) -> $crate::store::StoreResult<()> {
                sqlx::query(sql(
                    "INSERT INTO oidc_pending (state, audience, nonce, code_verifier, return_to, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                ))
                .bind(&p.state)
                .bind(&p.audience)
                .bind(&p.nonce)
                .bind(&p.code_verifier)
                .bind(&p.return_to)
                .bind(p.created_at)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn take_oidc_pending(
                &self,
                state: &str,
                since: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::web::OidcPending>> {
                // old, abandoned logins go at the same time
                sqlx::query(sql("DELETE FROM oidc_pending WHERE created_at <= $1"))
                    .bind(since)
                    .execute(self.writer())
                    .await?;
                Ok(sqlx::query_as(sql(
                    "DELETE FROM oidc_pending WHERE state = $1 \
                     RETURNING state, audience, nonce, code_verifier, return_to, created_at",
                ))
                .bind(state)
                .fetch_optional(self.writer())
                .await?)
            }

            async fn set_citizen_language(
                &self,
                citizen_id: uuid::Uuid,
                language: &str,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(sql(
                    "UPDATE citizens SET language = $2, profile_updated_by = NULL, profile_updated_at = $3 WHERE id = $1",
                ))
                .bind(citizen_id)
                .bind(language)
                .bind(now)
                .execute(self.writer())
                .await?;
                Ok(())
            }
        }
    };
}
pub(crate) use web_store_impl;
