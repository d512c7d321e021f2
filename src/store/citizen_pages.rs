//! What the citizens' pages read and write (issue #5), for both databases.

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;

/// One change to a citizen's contact profile, and who made it: shown to the citizen.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProfileChange {
    pub id: Uuid,
    pub citizen_id: Uuid,
    /// `citizen`, `authority` (over the API) or `caseworker` (at the counter).
    pub actor_kind: String,
    /// The authority's name, or "caseworker name (authority)".
    pub actor_name: String,
    pub authority_id: Option<Uuid>,
    /// What changed, as machine-readable keys separated by commas (`exempt_from_digital_post,phone`).
    pub fields: String,
    pub created_at: i64,
}

/// A letter in the citizen's own list: who sent it, and whether it has been opened.
#[derive(Debug, Clone)]
pub struct CitizenLetter {
    pub letter: super::LetterRecord,
    /// The authority's name.
    pub sender: String,
    /// There is evidence (opened, reacted): the list marks the others as unread.
    pub read: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CitizenLetterRow {
    #[sqlx(flatten)]
    pub letter: super::LetterRow,
    pub sender: String,
    pub read: bool,
}

impl TryFrom<CitizenLetterRow> for CitizenLetter {
    type Error = super::StoreError;
    fn try_from(r: CitizenLetterRow) -> Result<Self, Self::Error> {
        Ok(CitizenLetter { letter: r.letter.try_into()?, sender: r.sender, read: r.read })
    }
}

#[async_trait]
pub trait CitizenPagesStore: Send + Sync {
    async fn record_profile_change(&self, change: &ProfileChange) -> StoreResult<()>;
    /// A citizen's profile changes, newest first.
    async fn profile_changes(&self, citizen_id: Uuid) -> StoreResult<Vec<ProfileChange>>;
    /// The citizen with this CPR number, created (with the default profile) if there is none:
    /// a MitID login needs a citizen row even before any letter.
    async fn ensure_citizen(&self, cpr: &str, cpr_hash: &str, now: i64) -> StoreResult<Uuid>;
    /// The CPR number and its keyed hash, to save a profile through `set_contact_profile`.
    async fn citizen_identity(&self, citizen_id: Uuid) -> StoreResult<Option<(String, String)>>;
    /// A one-time login code (only its hash) and the job that texts it (`sms`: `{"to", "text"}`),
    /// in one transaction; older live codes stop working.
    async fn create_login_code(
        &self,
        citizen_id: Uuid,
        code_hash: &str,
        expires_at: i64,
        sms: serde_json::Value,
        now: i64,
    ) -> StoreResult<()>;
    /// How many login codes were made for a citizen since `since`.
    async fn login_codes_since(&self, citizen_id: Uuid, since: i64) -> StoreResult<i64>;
    /// Check a login code against the newest live one; a wrong one counts an attempt, a right
    /// one is used up.
    async fn check_login_code(
        &self,
        citizen_id: Uuid,
        code_hash: &str,
        max_attempts: i64,
        now: i64,
    ) -> StoreResult<super::CodeCheck>;
    /// Count a login attempt under `key` (rate limits); old attempts are forgotten.
    async fn note_login_attempt(&self, key: &str, now: i64) -> StoreResult<()>;
    async fn login_attempts_since(&self, key: &str, since: i64) -> StoreResult<i64>;
    /// The citizen's letters (not cancelled ones), newest first.
    async fn citizen_letters(&self, citizen_id: Uuid) -> StoreResult<Vec<CitizenLetter>>;
    /// Every delivery of every letter to the citizen (letters, notices, copies to helpers).
    async fn citizen_deliveries(&self, citizen_id: Uuid) -> StoreResult<Vec<super::DeliveryRecord>>;
    /// The citizen answered on the web page: like an SMS reply, but `via: web`. A callback
    /// request is evidence and opens a callback task; other text goes on the timeline.
    async fn record_web_reply(
        &self,
        authority_id: Uuid,
        letter_id: Uuid,
        reply: &super::Reply,
        now: i64,
    ) -> StoreResult<()>;
}

macro_rules! citizen_pages_store_impl {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::citizen_pages::CitizenPagesStore for $store {
            async fn record_profile_change(
                &self,
                c: &$crate::store::citizen_pages::ProfileChange,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(sql(
                    "INSERT INTO profile_changes (id, citizen_id, actor_kind, actor_name, authority_id, fields, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                ))
                .bind(c.id)
                .bind(c.citizen_id)
                .bind(&c.actor_kind)
                .bind(&c.actor_name)
                .bind(c.authority_id)
                .bind(&c.fields)
                .bind(c.created_at)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn profile_changes(
                &self,
                citizen_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::store::citizen_pages::ProfileChange>> {
                Ok(sqlx::query_as(sql(
                    "SELECT id, citizen_id, actor_kind, actor_name, authority_id, fields, created_at \
                     FROM profile_changes WHERE citizen_id = $1 ORDER BY created_at DESC, id DESC",
                ))
                .bind(citizen_id)
                .fetch_all(self.reader())
                .await?)
            }

            async fn ensure_citizen(&self, cpr: &str, cpr_hash: &str, now: i64) -> $crate::store::StoreResult<uuid::Uuid> {
                let sealed = self.seal_cpr(cpr).await?;
                sqlx::query(sql(
                    "INSERT INTO citizens (id, cpr_hash, cpr, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (cpr_hash) DO NOTHING",
                ))
                .bind(uuid::Uuid::now_v7())
                .bind(cpr_hash)
                .bind(&sealed)
                .bind(now)
                .execute(self.writer())
                .await?;
                Ok(sqlx::query_scalar(sql("SELECT id FROM citizens WHERE cpr_hash = $1"))
                    .bind(cpr_hash)
                    .fetch_one(self.writer())
                    .await?)
            }

            async fn citizen_identity(
                &self,
                citizen_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<(String, String)>> {
                Ok(sqlx::query_as(sql("SELECT cpr, cpr_hash FROM citizens WHERE id = $1"))
                    .bind(citizen_id)
                    .fetch_optional(self.reader())
                    .await?)
            }

            async fn create_login_code(
                &self,
                citizen_id: uuid::Uuid,
                code_hash: &str,
                expires_at: i64,
                sms: serde_json::Value,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.writer().begin().await?;
                sqlx::query(sql(
                    "UPDATE citizen_login_codes SET used_at = $2 WHERE citizen_id = $1 AND used_at IS NULL",
                ))
                .bind(citizen_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(sql(
                    "INSERT INTO citizen_login_codes (id, citizen_id, code_hash, expires_at, attempts, created_at) \
                     VALUES ($1, $2, $3, $4, 0, $5)",
                ))
                .bind(uuid::Uuid::now_v7())
                .bind(citizen_id)
                .bind(code_hash)
                .bind(expires_at)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                Self::queue_code_sms(&mut tx, citizen_id, None, sms, now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn login_codes_since(&self, citizen_id: uuid::Uuid, since: i64) -> $crate::store::StoreResult<i64> {
                Ok(sqlx::query_scalar(sql(
                    "SELECT COUNT(*) FROM citizen_login_codes WHERE citizen_id = $1 AND created_at >= $2",
                ))
                .bind(citizen_id)
                .bind(since)
                .fetch_one(self.writer())
                .await?)
            }

            async fn check_login_code(
                &self,
                citizen_id: uuid::Uuid,
                code_hash: &str,
                max_attempts: i64,
                now: i64,
            ) -> $crate::store::StoreResult<$crate::store::CodeCheck> {
                let live: Option<(uuid::Uuid, String)> = sqlx::query_as(sql(
                    "SELECT id, code_hash FROM citizen_login_codes WHERE citizen_id = $1 AND used_at IS NULL \
                     AND expires_at > $2 AND attempts < $3 ORDER BY created_at DESC LIMIT 1",
                ))
                .bind(citizen_id)
                .bind(now)
                .bind(max_attempts)
                .fetch_optional(self.writer())
                .await?;
                let Some((id, stored)) = live else { return Ok($crate::store::CodeCheck::NoLiveCode) };
                if $crate::domain::secret::constant_time_eq(stored.as_bytes(), code_hash.as_bytes()) {
                    // the update decides: of two requests with the same code only one wins
                    let done = sqlx::query(sql(
                        "UPDATE citizen_login_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
                    ))
                    .bind(id)
                    .bind(now)
                    .execute(self.writer())
                    .await?;
                    return Ok(if done.rows_affected() == 1 {
                        $crate::store::CodeCheck::Accepted
                    } else {
                        $crate::store::CodeCheck::NoLiveCode
                    });
                }
                sqlx::query(sql("UPDATE citizen_login_codes SET attempts = attempts + 1 WHERE id = $1"))
                    .bind(id)
                    .execute(self.writer())
                    .await?;
                Ok($crate::store::CodeCheck::Wrong)
            }

            async fn note_login_attempt(&self, key: &str, now: i64) -> $crate::store::StoreResult<()> {
                sqlx::query(sql("DELETE FROM login_throttle WHERE created_at < $1"))
                    .bind(now - 86_400_000)
                    .execute(self.writer())
                    .await?;
                sqlx::query(sql("INSERT INTO login_throttle (id, key, created_at) VALUES ($1, $2, $3)"))
                    .bind(uuid::Uuid::now_v7())
                    .bind(key)
                    .bind(now)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn login_attempts_since(&self, key: &str, since: i64) -> $crate::store::StoreResult<i64> {
                Ok(sqlx::query_scalar(sql("SELECT COUNT(*) FROM login_throttle WHERE key = $1 AND created_at >= $2"))
                    .bind(key)
                    .bind(since)
                    .fetch_one(self.writer())
                    .await?)
            }

            async fn citizen_letters(
                &self,
                citizen_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::store::citizen_pages::CitizenLetter>> {
                let rows: Vec<$crate::store::citizen_pages::CitizenLetterRow> = sqlx::query_as(sql(concat!(
                    "SELECT ",
                    $crate::store::common::letter_cols!(),
                    ", (SELECT a.name FROM authorities a WHERE a.id = letters.authority_id) AS sender, \
                     evidence_at IS NOT NULL AS read FROM letters \
                     WHERE citizen_id = $1 AND status <> 'cancelled' ORDER BY created_at DESC, id DESC"
                )))
                .bind(citizen_id)
                .fetch_all(self.reader())
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn citizen_deliveries(
                &self,
                citizen_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::store::DeliveryRecord>> {
                let rows: Vec<$crate::store::DeliveryRow> = sqlx::query_as(sql(concat!(
                    "SELECT ",
                    $crate::store::common::delivery_cols!(),
                    " FROM deliveries WHERE letter_id IN (SELECT id FROM letters WHERE citizen_id = $1) \
                     ORDER BY created_at, id"
                )))
                .bind(citizen_id)
                .fetch_all(self.reader())
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn record_web_reply(
                &self,
                authority_id: uuid::Uuid,
                letter_id: uuid::Uuid,
                reply: &$crate::store::Reply,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                use $crate::domain::EventKind;
                let mut tx = self.writer().begin().await?;
                Self::lock_letter(&mut tx, letter_id).await?;
                let via = serde_json::json!({ "via": "web" });
                match reply {
                    $crate::store::Reply::Reaction => {
                        Self::append_event(&mut tx, letter_id, authority_id, EventKind::Reacted, via, now).await?;
                        Self::note_evidence(&mut tx, letter_id, authority_id, now).await?;
                    }
                    $crate::store::Reply::CallbackRequest(task) => {
                        Self::insert_callback(&mut tx, authority_id, letter_id, None, task, now).await?;
                        Self::append_event(&mut tx, letter_id, authority_id, EventKind::Reacted, via, now).await?;
                        Self::note_evidence(&mut tx, letter_id, authority_id, now).await?;
                        let data = serde_json::json!({ "via": "web", "callback_id": task.id });
                        Self::append_event(&mut tx, letter_id, authority_id, EventKind::CallbackRequested, data, now)
                            .await?;
                    }
                    $crate::store::Reply::Other(text) => {
                        let data = serde_json::json!({ "via": "web", "text": text });
                        Self::append_event(&mut tx, letter_id, authority_id, EventKind::ReplyReceived, data, now)
                            .await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}
pub(crate) use citizen_pages_store_impl;
