//! What the caseworkers' pages read and write (issue #6), for both databases.

use async_trait::async_trait;
use sqlx::types::Json;
use uuid::Uuid;

use super::StoreResult;

/// A caseworker's account. Belongs to one authority and sees only its data.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Caseworker {
    pub id: Uuid,
    pub authority_id: Uuid,
    pub username: String,
    pub display_name: String,
    /// `caseworker`, `team_lead` or `administrator`.
    pub role: String,
    /// argon2 PHC string; `None`: the account logs in with OpenID Connect only.
    pub password_hash: Option<String>,
    pub oidc_subject: Option<String>,
    pub unit: Option<String>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

impl std::fmt::Debug for Caseworker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never print the password hash
        f.debug_struct("Caseworker").field("id", &self.id).field("username", &self.username).finish()
    }
}

/// What the alert list shows: the alert with its letter's subject, deadline and unit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffAlert {
    pub id: Uuid,
    pub kind: String,
    pub status: String,
    pub letter_id: Option<Uuid>,
    pub citizen_id: Option<Uuid>,
    pub details: Json<serde_json::Value>,
    pub created_at: i64,
    pub assigned_to: Option<Uuid>,
    pub assigned_name: Option<String>,
    pub subject: Option<String>,
    pub deadline: Option<String>,
    pub unit: Option<String>,
    pub reference: Option<String>,
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// The unit of the letter (its contact point's unit).
    pub unit: Option<String>,
    /// Taken by this caseworker.
    pub assigned_to: Option<Uuid>,
    /// Taken by nobody.
    pub unassigned: bool,
    pub limit: i64,
}

/// A callback task with what the caller needs: the letter and the citizen's needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffCallback {
    pub id: Uuid,
    pub letter_id: Uuid,
    pub phone: String,
    pub summary: String,
    pub status: String,
    pub due_at: i64,
    pub no_answers: i64,
    pub minutes_spent: i64,
    pub last_outcome: Option<String>,
    pub claimed_by: Option<Uuid>,
    pub claimed_name: Option<String>,
    pub subject: String,
    pub deadline: Option<String>,
    pub unit: Option<String>,
    pub citizen_id: Uuid,
    pub citizen_name: Option<String>,
    pub language: Option<String>,
    pub large_print: bool,
    pub easy_read: bool,
    pub helpers: Json<Vec<crate::domain::routing::Helper>>,
}

/// The period and unit of an inclusion report (ms, `from` inclusive, `to` exclusive).
#[derive(Debug, Clone)]
pub struct ReportQuery {
    pub from_ms: i64,
    pub to_ms: i64,
    pub unit: Option<String>,
}

/// Roll-up buckets are hours of created_at (ms / 3,600,000, as in migration 0005).
const HOUR_MS: i64 = 3_600_000;

impl ReportQuery {
    /// The hours `[from, to)` when the roll-ups answer this query exactly: both ends on whole
    /// hours (local midnights of zones with whole-hour offsets, as in the Nordic countries).
    /// `None`: scan the letters instead. From the second hour on, because integer division
    /// truncates towards zero, so hour 0 would also hold the last hour before 1970; and never
    /// for the unit `""`, which the roll-ups cannot tell from "no unit".
    pub fn hours(&self) -> Option<(i64, i64)> {
        let whole = self.from_ms % HOUR_MS == 0 && self.to_ms % HOUR_MS == 0;
        (whole && self.from_ms >= HOUR_MS && self.unit.as_deref() != Some(""))
            .then_some((self.from_ms / HOUR_MS, self.to_ms / HOUR_MS))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct LetterTotals {
    pub letters: i64,
    pub important: i64,
    /// Letters that climbed at least one rung of the ladder.
    pub escalated_letters: i64,
    /// Rungs climbed in all.
    pub escalations: i64,
    pub with_evidence: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct CitizenTotals {
    pub citizens: i64,
    pub exempt: i64,
}

/// Deliveries of the period's letters on one channel for one purpose (`letter`, `notice`, `helper`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct ChannelCount {
    pub channel: String,
    pub purpose: String,
    pub deliveries: i64,
    pub failed: i64,
    /// Of those letters: evidence (opened, reacted) before the deadline in force ended.
    pub opened_in_time: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct CallbackTotals {
    pub tasks: i64,
    pub reached: i64,
    pub failed: i64,
    pub open: i64,
    pub calls: i64,
    pub minutes: i64,
}

/// Everything the inclusion report counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportCounts {
    pub letters: LetterTotals,
    pub citizens: CitizenTotals,
    pub channels: Vec<ChannelCount>,
    pub callbacks: CallbackTotals,
}

#[async_trait]
pub trait StaffPagesStore: Send + Sync {
    async fn create_caseworker(&self, caseworker: &Caseworker) -> StoreResult<()>;
    async fn caseworker(&self, id: Uuid) -> StoreResult<Option<Caseworker>>;
    async fn set_caseworker_password(&self, id: Uuid, password_hash: &str) -> StoreResult<()>;
    async fn caseworker_by_username(&self, username: &str) -> StoreResult<Option<Caseworker>>;
    async fn caseworker_by_oidc_subject(&self, subject: &str) -> StoreResult<Option<Caseworker>>;
    /// The authority's caseworkers, by name.
    async fn caseworkers(&self, authority_id: Uuid) -> StoreResult<Vec<Caseworker>>;

    /// Failed logins under `key` since `since` (rate limiting).
    async fn login_failures_since(&self, key: &str, since: i64) -> StoreResult<i64>;
    async fn record_login_failure(&self, key: &str, now: i64) -> StoreResult<()>;
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()>;

    /// Open alerts, the nearest deadline first (alerts without one last).
    async fn staff_alerts(&self, authority_id: Uuid, filter: &AlertFilter) -> StoreResult<Vec<StaffAlert>>;
    /// Units to filter by: those of letters with open alerts and those of the caseworkers.
    async fn staff_units(&self, authority_id: Uuid) -> StoreResult<Vec<String>>;
    /// Take an open alert. `false`: no such open alert at this authority.
    async fn assign_alert(
        &self,
        authority_id: Uuid,
        alert_id: Uuid,
        caseworker_id: Uuid,
        now: i64,
    ) -> StoreResult<bool>;
    /// Note who closed an alert (after `close_alert`).
    async fn set_alert_closed_by(&self, authority_id: Uuid, alert_id: Uuid, caseworker_id: Uuid) -> StoreResult<()>;

    /// Open callback tasks, the earliest due first.
    async fn staff_callbacks(&self, authority_id: Uuid) -> StoreResult<Vec<StaffCallback>>;
    async fn staff_callback(&self, authority_id: Uuid, id: Uuid) -> StoreResult<Option<StaffCallback>>;
    /// Claim an open task nobody else holds. `false`: not open here, or someone else has it.
    async fn claim_callback(&self, authority_id: Uuid, id: Uuid, caseworker_id: Uuid, now: i64) -> StoreResult<bool>;
    /// Move an open task to another time (the citizen asked to be called then).
    async fn reschedule_callback(&self, authority_id: Uuid, id: Uuid, due_at: i64, now: i64) -> StoreResult<bool>;

    /// May this authority's caseworkers open the citizen's page: a letter to them, a lookup by
    /// CPR number, or a profile change made by the authority.
    async fn staff_citizen_visible(&self, authority_id: Uuid, citizen_id: Uuid) -> StoreResult<bool>;
    async fn note_staff_citizen_lookup(
        &self,
        authority_id: Uuid,
        citizen_id: Uuid,
        caseworker_id: Uuid,
        now: i64,
    ) -> StoreResult<()>;
    /// The citizen's CPR number and its keyed hash (to re-register the profile).
    async fn staff_citizen_cpr(&self, citizen_id: Uuid) -> StoreResult<Option<(String, String)>>;
    /// The authority's letters to a citizen, newest first.
    async fn staff_citizen_letters(
        &self,
        authority_id: Uuid,
        citizen_id: Uuid,
    ) -> StoreResult<Vec<super::LetterRecord>>;

    /// Counts for the inclusion report: letters created in the period, their deliveries,
    /// and callback tasks opened in it. Read from the hourly roll-ups when the period is
    /// whole hours (see [`ReportQuery::hours`]), else as [`Self::inclusion_report_scan`].
    async fn inclusion_report(&self, authority_id: Uuid, query: &ReportQuery) -> StoreResult<ReportCounts>;
    /// The same counts from the letters themselves, for any period: the fallback, and the
    /// oracle the roll-ups are tested against.
    async fn inclusion_report_scan(&self, authority_id: Uuid, query: &ReportQuery) -> StoreResult<ReportCounts>;
    /// PostgreSQL: move a batch of the roll-ups' pending deltas into the hour tables, unless
    /// another instance is doing so (migrations 0005 and 0009). Nothing to do on SQLite, whose
    /// single writer adds into the hour rows directly.
    async fn fold_report_deltas(&self) -> StoreResult<()>;
}

/// The channel counts of the report; `$deadline_end` is the backend's expression for the
/// end of the letter's deadline day in ms.
macro_rules! channel_report_sql {
    ($deadline_end:literal) => {
        concat!(
            "SELECT d.channel, d.purpose, COUNT(*) AS deliveries, \
             CAST(COALESCE(SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed, \
             CAST(COALESCE(SUM(CASE WHEN l.evidence_at IS NOT NULL AND (l.deadline IS NULL OR l.evidence_at < ",
            $deadline_end,
            ") THEN 1 ELSE 0 END), 0) AS BIGINT) AS opened_in_time \
             FROM letters l JOIN deliveries d ON d.letter_id = l.id \
             WHERE l.authority_id = $1 AND l.created_at >= $2 AND l.created_at < $3 AND ($4 IS NULL OR l.unit = $4) \
             GROUP BY d.channel, d.purpose ORDER BY d.channel, d.purpose"
        )
    };
}
pub(crate) use channel_report_sql;

macro_rules! staff_pages_store_impl {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::staff_pages::StaffPagesStore for $store {
            async fn create_caseworker(
                &self,
                c: &$crate::store::staff_pages::Caseworker,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(sql(
                    "INSERT INTO caseworkers (id, authority_id, username, display_name, role, password_hash, \
                     oidc_subject, unit, created_at, disabled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                ))
                .bind(c.id)
                .bind(c.authority_id)
                .bind(&c.username)
                .bind(&c.display_name)
                .bind(&c.role)
                .bind(&c.password_hash)
                .bind(&c.oidc_subject)
                .bind(&c.unit)
                .bind(c.created_at)
                .bind(c.disabled_at)
                .execute(self.writer())
                .await
                .map_err(|e| {
                    if $crate::store::common::is_unique_violation(&e) {
                        $crate::store::StoreError::Conflict("a caseworker with this username or OpenID subject")
                    } else {
                        e.into()
                    }
                })?;
                Ok(())
            }

            async fn caseworker(
                &self,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::store::staff_pages::Caseworker>> {
                Ok(sqlx::query_as(sql(
                    "SELECT id, authority_id, username, display_name, role, password_hash, oidc_subject, unit, \
                     created_at, disabled_at FROM caseworkers WHERE id = $1",
                ))
                .bind(id)
                .fetch_optional(self.reader())
                .await?)
            }

            async fn set_caseworker_password(
                &self,
                id: uuid::Uuid,
                password_hash: &str,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(sql("UPDATE caseworkers SET password_hash = $2 WHERE id = $1"))
                    .bind(id)
                    .bind(password_hash)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn caseworker_by_username(
                &self,
                username: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::staff_pages::Caseworker>> {
                Ok(sqlx::query_as(sql(
                    "SELECT id, authority_id, username, display_name, role, password_hash, oidc_subject, unit, \
                     created_at, disabled_at FROM caseworkers WHERE username = $1",
                ))
                .bind(username)
                .fetch_optional(self.reader())
                .await?)
            }

            async fn caseworker_by_oidc_subject(
                &self,
                subject: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::staff_pages::Caseworker>> {
                Ok(sqlx::query_as(sql(
                    "SELECT id, authority_id, username, display_name, role, password_hash, oidc_subject, unit, \
                     created_at, disabled_at FROM caseworkers WHERE oidc_subject = $1",
                ))
                .bind(subject)
                .fetch_optional(self.reader())
                .await?)
            }

            async fn caseworkers(
                &self,
                authority_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::store::staff_pages::Caseworker>> {
                Ok(sqlx::query_as(sql(
                    "SELECT id, authority_id, username, display_name, role, password_hash, oidc_subject, unit, \
                     created_at, disabled_at FROM caseworkers WHERE authority_id = $1 ORDER BY display_name, id",
                ))
                .bind(authority_id)
                .fetch_all(self.reader())
                .await?)
            }

            async fn login_failures_since(&self, key: &str, since: i64) -> $crate::store::StoreResult<i64> {
                Ok(sqlx::query_scalar(sql("SELECT COUNT(*) FROM staff_login_failures WHERE key = $1 AND at > $2"))
                    .bind(key)
                    .bind(since)
                    .fetch_one(self.reader())
                    .await?)
            }

            async fn record_login_failure(&self, key: &str, now: i64) -> $crate::store::StoreResult<()> {
                // old failures go at the same time: the table stays small
                sqlx::query(sql("DELETE FROM staff_login_failures WHERE at < $1"))
                    .bind(now - 86_400_000)
                    .execute(self.writer())
                    .await?;
                sqlx::query(sql("INSERT INTO staff_login_failures (key, at) VALUES ($1, $2)"))
                    .bind(key)
                    .bind(now)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn clear_login_failures(&self, key: &str) -> $crate::store::StoreResult<()> {
                sqlx::query(sql("DELETE FROM staff_login_failures WHERE key = $1"))
                    .bind(key)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn staff_alerts(
                &self,
                authority_id: uuid::Uuid,
                f: &$crate::store::staff_pages::AlertFilter,
            ) -> $crate::store::StoreResult<Vec<$crate::store::staff_pages::StaffAlert>> {
                Ok(sqlx::query_as(sql(
                    "SELECT a.id, a.kind, a.status, a.letter_id, a.citizen_id, a.details, a.created_at, a.assigned_to, \
                     cw.display_name AS assigned_name, l.subject, l.deadline, l.unit, l.reference \
                     FROM alerts a LEFT JOIN letters l ON l.id = a.letter_id \
                     LEFT JOIN caseworkers cw ON cw.id = a.assigned_to \
                     WHERE a.authority_id = $1 AND a.status = 'open' AND ($2 IS NULL OR l.unit = $2) \
                     AND ($3 IS NULL OR a.assigned_to = $3) AND (NOT $4 OR a.assigned_to IS NULL) \
                     ORDER BY CASE WHEN l.deadline IS NULL THEN 1 ELSE 0 END, l.deadline, a.created_at, a.id \
                     LIMIT $5",
                ))
                .bind(authority_id)
                .bind(&f.unit)
                .bind(f.assigned_to)
                .bind(f.unassigned)
                .bind(f.limit)
                .fetch_all(self.reader())
                .await?)
            }

            async fn staff_units(&self, authority_id: uuid::Uuid) -> $crate::store::StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar(sql(
                    "SELECT DISTINCT l.unit FROM alerts a JOIN letters l ON l.id = a.letter_id \
                     WHERE a.authority_id = $1 AND a.status = 'open' AND l.unit IS NOT NULL \
                     UNION SELECT DISTINCT unit FROM caseworkers WHERE authority_id = $1 AND unit IS NOT NULL \
                     ORDER BY 1",
                ))
                .bind(authority_id)
                .fetch_all(self.reader())
                .await?)
            }

            async fn assign_alert(
                &self,
                authority_id: uuid::Uuid,
                alert_id: uuid::Uuid,
                caseworker_id: uuid::Uuid,
                now: i64,
            ) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query(sql(
                    "UPDATE alerts SET assigned_to = $3, assigned_at = $4 \
                     WHERE id = $1 AND authority_id = $2 AND status = 'open'",
                ))
                .bind(alert_id)
                .bind(authority_id)
                .bind(caseworker_id)
                .bind(now)
                .execute(self.writer())
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_alert_closed_by(
                &self,
                authority_id: uuid::Uuid,
                alert_id: uuid::Uuid,
                caseworker_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(sql("UPDATE alerts SET closed_by = $3 WHERE id = $1 AND authority_id = $2"))
                    .bind(alert_id)
                    .bind(authority_id)
                    .bind(caseworker_id)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn staff_callbacks(
                &self,
                authority_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::store::staff_pages::StaffCallback>> {
                Ok(sqlx::query_as(sql(
                    "SELECT t.id, t.letter_id, t.phone, t.summary, t.status, t.due_at, t.no_answers, t.minutes_spent, \
                     t.last_outcome, t.claimed_by, cw.display_name AS claimed_name, l.subject, l.deadline, l.unit, \
                     c.id AS citizen_id, c.name AS citizen_name, c.language, c.large_print, c.easy_read, c.helpers \
                     FROM callback_tasks t JOIN letters l ON l.id = t.letter_id JOIN citizens c ON c.id = l.citizen_id \
                     LEFT JOIN caseworkers cw ON cw.id = t.claimed_by \
                     WHERE t.authority_id = $1 AND t.status = 'open' ORDER BY t.due_at, t.id LIMIT 500",
                ))
                .bind(authority_id)
                .fetch_all(self.reader())
                .await?)
            }

            async fn staff_callback(
                &self,
                authority_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::store::staff_pages::StaffCallback>> {
                Ok(sqlx::query_as(sql(
                    "SELECT t.id, t.letter_id, t.phone, t.summary, t.status, t.due_at, t.no_answers, t.minutes_spent, \
                     t.last_outcome, t.claimed_by, cw.display_name AS claimed_name, l.subject, l.deadline, l.unit, \
                     c.id AS citizen_id, c.name AS citizen_name, c.language, c.large_print, c.easy_read, c.helpers \
                     FROM callback_tasks t JOIN letters l ON l.id = t.letter_id JOIN citizens c ON c.id = l.citizen_id \
                     LEFT JOIN caseworkers cw ON cw.id = t.claimed_by \
                     WHERE t.id = $1 AND t.authority_id = $2",
                ))
                .bind(id)
                .bind(authority_id)
                .fetch_optional(self.reader())
                .await?)
            }

            async fn claim_callback(
                &self,
                authority_id: uuid::Uuid,
                id: uuid::Uuid,
                caseworker_id: uuid::Uuid,
                now: i64,
            ) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query(sql(
                    "UPDATE callback_tasks SET claimed_by = $3, claimed_at = $4 WHERE id = $1 AND authority_id = $2 \
                     AND status = 'open' AND (claimed_by IS NULL OR claimed_by = $3)",
                ))
                .bind(id)
                .bind(authority_id)
                .bind(caseworker_id)
                .bind(now)
                .execute(self.writer())
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn reschedule_callback(
                &self,
                authority_id: uuid::Uuid,
                id: uuid::Uuid,
                due_at: i64,
                now: i64,
            ) -> $crate::store::StoreResult<bool> {
                let done = sqlx::query(sql(
                    "UPDATE callback_tasks SET due_at = $3, updated_at = $4 \
                     WHERE id = $1 AND authority_id = $2 AND status = 'open'",
                ))
                .bind(id)
                .bind(authority_id)
                .bind(due_at)
                .bind(now)
                .execute(self.writer())
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn staff_citizen_visible(
                &self,
                authority_id: uuid::Uuid,
                citizen_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<bool> {
                let found: Option<uuid::Uuid> = sqlx::query_scalar(sql(
                    "SELECT citizen_id FROM letters WHERE citizen_id = $2 AND authority_id = $1 \
                     UNION ALL SELECT citizen_id FROM staff_citizen_lookups WHERE authority_id = $1 AND citizen_id = $2 \
                     UNION ALL SELECT citizen_id FROM profile_changes WHERE authority_id = $1 AND citizen_id = $2 \
                     LIMIT 1",
                ))
                .bind(authority_id)
                .bind(citizen_id)
                .fetch_optional(self.reader())
                .await?;
                Ok(found.is_some())
            }

            async fn note_staff_citizen_lookup(
                &self,
                authority_id: uuid::Uuid,
                citizen_id: uuid::Uuid,
                caseworker_id: uuid::Uuid,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(sql(
                    "INSERT INTO staff_citizen_lookups (authority_id, citizen_id, caseworker_id, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (authority_id, citizen_id) DO NOTHING",
                ))
                .bind(authority_id)
                .bind(citizen_id)
                .bind(caseworker_id)
                .bind(now)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn staff_citizen_cpr(
                &self,
                citizen_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<(String, String)>> {
                let stored: Option<(String, String)> =
                    sqlx::query_as(sql("SELECT cpr, cpr_hash FROM citizens WHERE id = $1"))
                        .bind(citizen_id)
                        .fetch_optional(self.reader())
                        .await?;
                match stored {
                    Some((cpr, hash)) => Ok(Some((self.open_cpr(&cpr).await?, hash))),
                    None => Ok(None),
                }
            }

            async fn staff_citizen_letters(
                &self,
                authority_id: uuid::Uuid,
                citizen_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::store::LetterRecord>> {
                let rows: Vec<$crate::store::LetterRow> = sqlx::query_as(sql(concat!(
                    "SELECT ",
                    $crate::store::common::letter_cols!(),
                    " FROM letters WHERE citizen_id = $1 AND authority_id = $2 ORDER BY created_at DESC, id DESC LIMIT 200"
                )))
                .bind(citizen_id)
                .bind(authority_id)
                .fetch_all(self.reader())
                .await?;
                rows.into_iter().map($crate::store::LetterRecord::try_from).collect()
            }

            async fn inclusion_report(
                &self,
                authority_id: uuid::Uuid,
                q: &$crate::store::staff_pages::ReportQuery,
            ) -> $crate::store::StoreResult<$crate::store::staff_pages::ReportCounts> {
                let Some((from_hour, to_hour)) = q.hours() else {
                    return self.inclusion_report_scan(authority_id, q).await;
                };
                // the report_*_by_hour views: the roll-up tables (on PostgreSQL plus their
                // pending deltas), kept by the triggers of migration 0005
                let letters = sqlx::query_as::<_, $crate::store::staff_pages::LetterTotals>(sql(
                    "SELECT CAST(COALESCE(SUM(letters), 0) AS BIGINT) AS letters, \
                     CAST(COALESCE(SUM(important), 0) AS BIGINT) AS important, \
                     CAST(COALESCE(SUM(escalated_letters), 0) AS BIGINT) AS escalated_letters, \
                     CAST(COALESCE(SUM(escalations), 0) AS BIGINT) AS escalations, \
                     CAST(COALESCE(SUM(with_evidence), 0) AS BIGINT) AS with_evidence \
                     FROM report_letters_by_hour WHERE authority_id = $1 AND hour >= $2 AND hour < $3 \
                     AND ($4 IS NULL OR unit = $4)",
                ))
                .bind(authority_id)
                .bind(from_hour)
                .bind(to_hour)
                .bind(&q.unit)
                .fetch_one(self.reader());
                let channels = sqlx::query_as::<_, $crate::store::staff_pages::ChannelCount>(sql(
                    "SELECT channel, purpose, CAST(SUM(deliveries) AS BIGINT) AS deliveries, \
                     CAST(SUM(failed) AS BIGINT) AS failed, CAST(SUM(opened_in_time) AS BIGINT) AS opened_in_time \
                     FROM report_channels_by_hour WHERE authority_id = $1 AND hour >= $2 AND hour < $3 \
                     AND ($4 IS NULL OR unit = $4) \
                     GROUP BY channel, purpose HAVING SUM(deliveries) <> 0 ORDER BY channel, purpose",
                ))
                .bind(authority_id)
                .bind(from_hour)
                .bind(to_hour)
                .bind(&q.unit)
                .fetch_all(self.reader());
                let callbacks = sqlx::query_as::<_, $crate::store::staff_pages::CallbackTotals>(sql(
                    "SELECT CAST(COALESCE(SUM(tasks), 0) AS BIGINT) AS tasks, \
                     CAST(COALESCE(SUM(reached), 0) AS BIGINT) AS reached, \
                     CAST(COALESCE(SUM(failed), 0) AS BIGINT) AS failed, \
                     CAST(COALESCE(SUM(open), 0) AS BIGINT) AS open, \
                     CAST(COALESCE(SUM(calls), 0) AS BIGINT) AS calls, \
                     CAST(COALESCE(SUM(minutes), 0) AS BIGINT) AS minutes \
                     FROM report_callbacks_by_hour WHERE authority_id = $1 AND hour >= $2 AND hour < $3 \
                     AND ($4 IS NULL OR unit = $4)",
                ))
                .bind(authority_id)
                .bind(from_hour)
                .bind(to_hour)
                .bind(&q.unit)
                .fetch_one(self.reader());
                // distinct citizens do not add up over hours: count them on the letters' report
                // index, without the join to citizens ...
                let citizens = sqlx::query_scalar::<_, i64>(sql(
                    "SELECT COUNT(DISTINCT l.citizen_id) FROM letters l \
                     WHERE l.authority_id = $1 AND l.created_at >= $2 AND l.created_at < $3 \
                     AND ($4 IS NULL OR l.unit = $4)",
                ))
                .bind(authority_id)
                .bind(q.from_ms)
                .bind(q.to_ms)
                .bind(&q.unit)
                .fetch_one(self.reader());
                // ... and the exempt ones by probing the authority's exempt citizens for a letter
                // in the period (a few per cent of its citizens)
                let exempt = sqlx::query_scalar::<_, i64>(sql(
                    "SELECT COUNT(*) FROM report_exempt_citizens e JOIN citizens c ON c.id = e.citizen_id \
                     WHERE e.authority_id = $1 AND c.exempt_from_digital_post AND EXISTS (SELECT 1 FROM letters l \
                     WHERE l.citizen_id = e.citizen_id AND l.authority_id = $1 AND l.created_at >= $2 \
                     AND l.created_at < $3 AND ($4 IS NULL OR l.unit = $4))",
                ))
                .bind(authority_id)
                .bind(q.from_ms)
                .bind(q.to_ms)
                .bind(&q.unit)
                .fetch_one(self.reader());
                let (letters, channels, callbacks, citizens, exempt) =
                    tokio::try_join!(letters, channels, callbacks, citizens, exempt)?;
                let citizens = $crate::store::staff_pages::CitizenTotals { citizens, exempt };
                Ok($crate::store::staff_pages::ReportCounts { letters, citizens, channels, callbacks })
            }

            async fn fold_report_deltas(&self) -> $crate::store::StoreResult<()> {
                if Self::BACKEND == $crate::store::Backend::Postgres {
                    // its own short transaction (READ COMMITTED, which the fold requires)
                    sqlx::query(sql("SELECT report_fold_deltas()")).execute(self.writer()).await?;
                }
                Ok(())
            }

            async fn inclusion_report_scan(
                &self,
                authority_id: uuid::Uuid,
                q: &$crate::store::staff_pages::ReportQuery,
            ) -> $crate::store::StoreResult<$crate::store::staff_pages::ReportCounts> {
                let letters = sqlx::query_as::<_, $crate::store::staff_pages::LetterTotals>(sql(
                    "SELECT COUNT(*) AS letters, \
                     CAST(COALESCE(SUM(CASE WHEN l.importance = 'important' THEN 1 ELSE 0 END), 0) AS BIGINT) AS important, \
                     CAST(COALESCE(SUM(CASE WHEN l.escalation_step > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS escalated_letters, \
                     CAST(COALESCE(SUM(l.escalation_step), 0) AS BIGINT) AS escalations, \
                     CAST(COALESCE(SUM(CASE WHEN l.evidence_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS with_evidence \
                     FROM letters l WHERE l.authority_id = $1 AND l.created_at >= $2 AND l.created_at < $3 \
                     AND ($4 IS NULL OR l.unit = $4)",
                ))
                .bind(authority_id)
                .bind(q.from_ms)
                .bind(q.to_ms)
                .bind(&q.unit)
                .fetch_one(self.reader());
                let citizens = sqlx::query_as::<_, $crate::store::staff_pages::CitizenTotals>(sql(
                    "SELECT COUNT(DISTINCT l.citizen_id) AS citizens, \
                     COUNT(DISTINCT CASE WHEN c.exempt_from_digital_post THEN l.citizen_id END) AS exempt \
                     FROM letters l JOIN citizens c ON c.id = l.citizen_id \
                     WHERE l.authority_id = $1 AND l.created_at >= $2 AND l.created_at < $3 \
                     AND ($4 IS NULL OR l.unit = $4)",
                ))
                .bind(authority_id)
                .bind(q.from_ms)
                .bind(q.to_ms)
                .bind(&q.unit)
                .fetch_one(self.reader());
                let channel_sql = match Self::BACKEND {
                    $crate::store::Backend::Sqlite => sql($crate::store::staff_pages::channel_report_sql!(
                        "(CAST(strftime('%s', l.deadline) AS INTEGER) + 86400) * 1000"
                    )),
                    $crate::store::Backend::Postgres => sql($crate::store::staff_pages::channel_report_sql!(
                        "(EXTRACT(EPOCH FROM CAST(l.deadline AS date)) + 86400) * 1000"
                    )),
                };
                let channels = sqlx::query_as::<_, $crate::store::staff_pages::ChannelCount>(channel_sql)
                    .bind(authority_id)
                    .bind(q.from_ms)
                    .bind(q.to_ms)
                    .bind(&q.unit)
                    .fetch_all(self.reader());
                let callbacks = sqlx::query_as::<_, $crate::store::staff_pages::CallbackTotals>(sql(
                    "SELECT COUNT(*) AS tasks, \
                     CAST(COALESCE(SUM(CASE WHEN t.status = 'done' THEN 1 ELSE 0 END), 0) AS BIGINT) AS reached, \
                     CAST(COALESCE(SUM(CASE WHEN t.status = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed, \
                     CAST(COALESCE(SUM(CASE WHEN t.status = 'open' THEN 1 ELSE 0 END), 0) AS BIGINT) AS open, \
                     CAST(COALESCE(SUM(t.no_answers + CASE WHEN t.last_outcome IN ('reached', 'wrong_number') \
                     THEN 1 ELSE 0 END), 0) AS BIGINT) AS calls, \
                     CAST(COALESCE(SUM(t.minutes_spent), 0) AS BIGINT) AS minutes \
                     FROM callback_tasks t JOIN letters l ON l.id = t.letter_id \
                     WHERE t.authority_id = $1 AND t.created_at >= $2 AND t.created_at < $3 \
                     AND ($4 IS NULL OR l.unit = $4)",
                ))
                .bind(authority_id)
                .bind(q.from_ms)
                .bind(q.to_ms)
                .bind(&q.unit)
                .fetch_one(self.reader());
                // four independent aggregates: run them side by side on separate read connections
                let (letters, citizens, channels, callbacks) = tokio::try_join!(letters, citizens, channels, callbacks)?;
                Ok($crate::store::staff_pages::ReportCounts { letters, citizens, channels, callbacks })
            }
        }
    };
}
pub(crate) use staff_pages_store_impl;
