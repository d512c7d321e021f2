//! Records going into and coming out of the store.

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::letter::{ContactPoint, PostalAddress};
use crate::domain::{ChannelKind, DeliveryStatus, Importance, LetterStatus};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Authority {
    pub id: Uuid,
    pub name: String,
    pub cvr: String,
    pub created_at: i64,
    /// When its caseworkers make callback calls (`"mon-fri 09:00-15:00"`); else the installation's.
    pub office_hours: Option<String>,
    pub time_zone: Option<String>,
    /// Days its offices are closed besides public holidays (`YYYY-MM-DD`).
    pub closing_days: Json<Vec<jiff::civil::Date>>,
}

impl Authority {
    /// The installation's calendar with this authority's own closing days added.
    pub fn calendar(&self, base: &crate::domain::calendar::Calendar) -> crate::domain::calendar::Calendar {
        base.clone().with_closing_days(self.closing_days.0.iter().copied())
    }
}

#[derive(Clone, sqlx::FromRow)]
pub struct Webhook {
    pub id: Uuid,
    pub authority_id: Uuid,
    pub url: String,
    pub secret: String,
    pub created_at: i64,
    /// The secret before the last rotation: messages are signed with it too until
    /// `previous_secret_expires_at`, so the receiver can switch without missing one.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never print a secret
        f.debug_struct("Webhook").field("id", &self.id).field("authority_id", &self.authority_id).finish()
    }
}

impl Webhook {
    /// A new endpoint with one secret.
    pub fn new(authority_id: Uuid, url: String, secret: String, now: i64) -> Self {
        Webhook {
            id: Uuid::now_v7(),
            authority_id,
            url,
            secret,
            created_at: now,
            previous_secret: None,
            previous_secret_expires_at: None,
        }
    }
}

/// Who a letter is for, as kept on the letter (the CPR number itself lives with the citizen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub cpr_masked: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<PostalAddress>,
}

#[derive(Debug, Clone)]
pub struct NewDocumentRecord {
    pub id: Uuid,
    pub filename: String,
    pub media_type: String,
    pub sha256: String,
    pub content: Vec<u8>,
}

/// A validated letter with its first routing decision, ready to be stored.
#[derive(Debug, Clone)]
pub struct NewLetter {
    pub id: Uuid,
    pub authority_id: Uuid,
    pub citizen_id: Uuid,
    pub cpr: String,
    pub cpr_hash: String,
    pub recipient: Recipient,
    pub subject: String,
    pub body: String,
    pub importance: Importance,
    pub category: Option<String>,
    pub respond_by: Option<String>,
    pub reference: Option<String>,
    pub contact: ContactPoint,
    pub documents: Vec<NewDocumentRecord>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub channel: ChannelKind,
    pub delivery_id: Uuid,
    pub job_id: Uuid,
    /// Notices (SMS, e-mail) that a letter has come, sent beside the letter itself.
    pub notices: Vec<NewDelivery>,
    /// The escalation timer for an important letter: when to try the next rung.
    pub escalation_timer: Option<Timer>,
    pub max_attempts: i64,
    /// Part of a bulk run, and who said so: its jobs wait in the bulk lane (see `LANE_BULK`).
    pub bulk: Option<BulkRun>,
    pub now: i64,
}

/// Why a letter counts as part of a bulk run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkRun {
    /// The authority said so (`"bulk": true`).
    Requested,
    /// The authority said nothing, and was sending faster than its letters sent one by one
    /// would come (see `api.bulk_detect_per_second`).
    Detected,
}

impl BulkRun {
    pub fn as_str(self) -> &'static str {
        match self {
            BulkRun::Requested => "requested",
            BulkRun::Detected => "detected",
        }
    }
}

/// The lane of a job: a claim takes the due jobs of the first lane before those of the bulk
/// lane (but for the bulk lane's share, see `bulk_share`), so a letter sent on its own is not
/// held up by a bulk run's backlog (a benefit decision run, a national reminder). Each lane is
/// taken oldest first.
pub const LANE_FIRST: i16 = 0;
/// The lane of a bulk letter's jobs: its deliveries, notices and escalations.
pub const LANE_BULK: i16 = 1;

/// The bulk lane's share of a claim of `limit` jobs: one in eight, taken before the first
/// lane's, so that a bulk run still moves while letters sent one by one keep the engine busy
/// (whatever the first lane leaves of a claim goes to the bulk lane too). None below eight, so
/// a nearly busy engine's last free slots go to the first lane.
pub fn bulk_share(limit: u32) -> u32 {
    limit / 8
}

/// The lane of a letter's jobs.
pub fn lane_of(bulk: Option<BulkRun>) -> i16 {
    if bulk.is_some() { LANE_BULK } else { LANE_FIRST }
}

#[derive(Debug, Clone)]
pub enum Inserted {
    Created(CreatedLetter),
    /// An earlier request used the same idempotency key.
    Existing {
        letter: LetterRecord,
        request_hash: Option<String>,
    },
}

/// A letter just stored, with its documents, deliveries and `accepted` event, as a read
/// right after the commit would show them.
#[derive(Debug, Clone)]
pub struct CreatedLetter {
    pub letter: LetterRecord,
    pub documents: Vec<DocumentMeta>,
    pub deliveries: Vec<DeliveryRecord>,
    pub timeline: Vec<EventRecord>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LetterRow {
    pub id: Uuid,
    pub authority_id: Uuid,
    pub citizen_id: Uuid,
    pub recipient: Json<Recipient>,
    pub subject: String,
    pub body: String,
    pub importance: String,
    pub category: Option<String>,
    pub respond_by: Option<String>,
    pub deadline: Option<String>,
    pub reference: Option<String>,
    pub contact: Json<ContactPoint>,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub content_deleted_at: Option<i64>,
    pub bulk: bool,
}

#[derive(Debug, Clone)]
pub struct LetterRecord {
    pub id: Uuid,
    pub authority_id: Uuid,
    pub citizen_id: Uuid,
    pub recipient: Recipient,
    pub subject: String,
    pub body: String,
    pub importance: Importance,
    /// The authority's kind of letter, choosing its escalation policy.
    pub category: Option<String>,
    pub respond_by: Option<String>,
    pub deadline: Option<String>,
    pub reference: Option<String>,
    pub contact: ContactPoint,
    pub status: LetterStatus,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the body and the documents' content were deleted under the retention rule (the
    /// body is then empty); the letter's facts, deliveries and timeline stay.
    pub content_deleted_at: Option<i64>,
    /// Part of a bulk run (its jobs wait while those of letters sent one by one go first).
    pub bulk: bool,
}

impl LetterRecord {
    /// The deadline was moved later than the authority set it (by escalation): messages say so.
    pub fn deadline_extended(&self) -> bool {
        matches!((&self.deadline, &self.respond_by), (Some(now), Some(first)) if now != first)
    }
}

impl TryFrom<LetterRow> for LetterRecord {
    type Error = super::StoreError;
    fn try_from(r: LetterRow) -> Result<Self, Self::Error> {
        Ok(LetterRecord {
            id: r.id,
            authority_id: r.authority_id,
            citizen_id: r.citizen_id,
            recipient: r.recipient.0,
            subject: r.subject,
            body: r.body,
            importance: parse_enum(&r.importance)?,
            category: r.category,
            respond_by: r.respond_by,
            deadline: r.deadline,
            reference: r.reference,
            contact: r.contact.0,
            status: parse_enum(&r.status)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
            content_deleted_at: r.content_deleted_at,
            bulk: r.bulk,
        })
    }
}

pub(crate) fn parse_enum<T: std::str::FromStr>(s: &str) -> Result<T, super::StoreError> {
    s.parse().map_err(|_| super::StoreError::Corrupt(format!("unknown stored value {s:?}")))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentMeta {
    pub id: Uuid,
    pub position: i64,
    pub filename: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Document {
    pub id: Uuid,
    pub filename: String,
    pub media_type: String,
    pub content: Vec<u8>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub letter_id: Uuid,
    pub channel: String,
    pub purpose: String,
    pub helper: Option<Json<crate::domain::routing::Helper>>,
    pub status: String,
    pub transport: Option<String>,
    pub provider_ref: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    pub id: Uuid,
    pub letter_id: Uuid,
    pub channel: ChannelKind,
    /// `letter`: carries the letter; `notice`: tells the citizen a letter has come;
    /// `helper`: a notice or copy for a helper the citizen named.
    pub purpose: String,
    pub helper: Option<crate::domain::routing::Helper>,
    pub status: DeliveryStatus,
    pub transport: Option<String>,
    pub provider_ref: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<DeliveryRow> for DeliveryRecord {
    type Error = super::StoreError;
    fn try_from(r: DeliveryRow) -> Result<Self, Self::Error> {
        Ok(DeliveryRecord {
            id: r.id,
            letter_id: r.letter_id,
            channel: parse_enum(&r.channel)?,
            purpose: r.purpose,
            helper: r.helper.map(|h| h.0),
            status: parse_enum(&r.status)?,
            transport: r.transport,
            provider_ref: r.provider_ref,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// An event to append (see `append_events`).
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub letter_id: Uuid,
    pub authority_id: Uuid,
    pub kind: crate::domain::EventKind,
    pub data: serde_json::Value,
    pub now: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRecord {
    pub seq: i64,
    pub id: Uuid,
    pub letter_id: Uuid,
    pub kind: String,
    pub data: Json<serde_json::Value>,
    pub created_at: i64,
}

/// A place in an authority's event feed. On PostgreSQL the feed runs in the order of the
/// writing transactions' ids, then `seq`: sequence values are taken before commit, so a
/// transaction that began earlier can commit an event with a *lower* `seq` after a later one
/// was already handed out; ordered by transaction id, and showing only transactions older
/// than any still running, nothing can appear behind a cursor. SQLite has one writer, so its
/// `seq` order is commit order and `xid` is 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedCursor {
    pub xid: i64,
    pub seq: i64,
}

impl FeedCursor {
    /// `seq` alone (SQLite, and cursors handed out before the feed was ordered by
    /// transaction), or `xid.seq`.
    pub fn parse(text: &str) -> Option<FeedCursor> {
        let number = |t: &str| t.parse::<i64>().ok().filter(|n| *n >= 0 && t.bytes().all(|b| b.is_ascii_digit()));
        match text.split_once('.') {
            Some((xid, seq)) => Some(FeedCursor { xid: number(xid)?, seq: number(seq)? }),
            None => Some(FeedCursor { xid: 0, seq: number(text)? }),
        }
    }
}

impl std::fmt::Display for FeedCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.xid == 0 { write!(f, "{}", self.seq) } else { write!(f, "{}.{}", self.xid, self.seq) }
    }
}

/// An event with its place in the feed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedRow {
    #[sqlx(flatten)]
    pub event: EventRecord,
    pub feed_xid: i64,
}

#[derive(Debug, Clone, Default)]
pub struct LetterFilter {
    pub status: Option<LetterStatus>,
    pub importance: Option<Importance>,
    pub reference: Option<String>,
    pub updated_since: Option<i64>,
    /// Letters with an id after this one (ids are time-ordered UUIDv7).
    pub after: Option<Uuid>,
    pub limit: u32,
}

#[derive(Debug, Clone)]
pub enum CancelOutcome {
    NotFound,
    Cancelled(Box<LetterRecord>),
    /// Nothing left to cancel: the letter already reached this state.
    Final(LetterStatus),
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: Uuid,
    pub kind: String,
    pub letter_id: Uuid,
    pub delivery_id: Option<Uuid>,
    /// Escalation timers: the rung this timer starts.
    pub step: Option<i64>,
    /// One-off jobs (a one-time code SMS): what they need.
    pub payload: Option<Json<serde_json::Value>>,
    pub attempts: i64,
    pub max_attempts: i64,
    /// The job's lane (`LANE_FIRST` or `LANE_BULK`); the jobs it makes wait in the same one.
    #[sqlx(default)]
    pub lane: i16,
    /// Whether the claim already started the job's delivery (see `ClaimedStart`).
    #[sqlx(skip)]
    pub start: ClaimedStart,
}

/// What the claim that took a delivery job did with its delivery. On SQLite a claim starts
/// the deliveries it takes in its own transaction (one turn at the single writer instead of
/// two); elsewhere the delivery is started on its own, as `NotStarted` says.
#[derive(Debug, Clone, Default)]
pub enum ClaimedStart {
    #[default]
    NotStarted,
    /// Marked as being sent (first attempt: its letter dispatched).
    Started(Box<DeliveryRecord>),
    /// No longer waiting (cancelled, settled): the claim removed the job.
    Settled,
}

/// What a delivery reads besides its authority (one read for the letters of many deliveries).
#[derive(Debug, Clone)]
pub struct DeliveryContext {
    pub letter: LetterRecord,
    /// With the CPR number as stored (sealed).
    pub citizen: CitizenContact,
    pub documents: Vec<Document>,
}

/// What a channel needs to deliver one letter.
#[derive(Debug, Clone)]
pub struct DeliveryWork {
    pub letter: LetterRecord,
    pub citizen: CitizenContact,
    pub authority: Authority,
    pub delivery: DeliveryRecord,
    pub documents: Vec<Document>,
    /// The delivery goes to a helper (their contact and address stand in for the citizen's):
    /// the name of the citizen it is about.
    pub for_helper: Option<String>,
}

#[derive(Debug, Clone)]
pub enum DeliveryOutcome {
    /// The transport took the message and confirmed it.
    Delivered { transport: String, provider_ref: Option<String> },
    /// The provider took the message; its receipt will say delivered or failed. A phone
    /// delivery also opens a callback task for caseworkers.
    Sent { transport: String, provider_ref: Option<String>, callback: Option<NewCallback> },
    /// A transient failure: try again at `at` (ms).
    Retry { at: i64, error: String },
    /// A permanent failure, or attempts exhausted.
    Failed { error: String },
}

impl DeliveryOutcome {
    /// For metrics and traces.
    pub fn name(&self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered { .. } => "delivered",
            DeliveryOutcome::Sent { .. } => "sent",
            DeliveryOutcome::Retry { .. } => "retry",
            DeliveryOutcome::Failed { .. } => "failed",
        }
    }
}

/// What a provider reports, later, about a message it took (SMS delivery report, print job
/// state, Digital Post status receipt).
#[derive(Debug, Clone)]
pub enum ProviderReceipt {
    Delivered { detail: Option<String> },
    Failed { error: String },
}

#[derive(Clone, sqlx::FromRow)]
pub struct WebhookMessage {
    pub id: i64,
    pub webhook_id: Uuid,
    pub url: String,
    pub secret: String,
    /// Signs beside `secret` until it expires (a rotation's overlap).
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    pub attempts: i64,
    pub created_at: i64,
    pub event_id: Uuid,
    pub letter_id: Uuid,
    pub kind: String,
    pub data: Json<serde_json::Value>,
    pub event_seq: i64,
    pub event_at: i64,
}

impl std::fmt::Debug for WebhookMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never print a secret
        f.debug_struct("WebhookMessage")
            .field("id", &self.id)
            .field("webhook_id", &self.webhook_id)
            .field("event_id", &self.event_id)
            .finish()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub letters_by_status: Vec<(String, i64)>,
    pub deliveries_by_channel_status: Vec<(String, String, i64)>,
    pub jobs_due: i64,
    pub oldest_due_age_ms: i64,
    pub webhook_backlog: i64,
    pub open_alerts_by_kind: Vec<(String, i64)>,
}

/// How to reach a citizen on the analog and notice channels.
#[derive(Clone, Default, sqlx::FromRow)]
pub struct CitizenContact {
    pub cpr: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// BCP 47 tag of the language the citizen reads (notices are written in it).
    pub language: Option<String>,
    /// Paper letters in large print (at least 16 pt).
    pub large_print: bool,
    /// Letters come on paper (or by phone), never in Digital Post: notices must say so.
    pub exempt_from_digital_post: bool,
}

/// A citizen's contact with the citizen's id, as read for many letters at once.
#[derive(sqlx::FromRow)]
pub(crate) struct CitizenContactRow {
    pub id: Uuid,
    #[sqlx(flatten)]
    pub contact: CitizenContact,
}

impl std::fmt::Debug for CitizenContact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never print the CPR number
        f.debug_struct("CitizenContact")
            .field("phone", &self.phone.is_some())
            .field("email", &self.email.is_some())
            .finish()
    }
}

/// A citizen's contact profile as registered (by the citizen, or on their behalf).
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub cpr: String,
    pub cpr_hash: String,
    pub preferred_channel: Option<crate::domain::ChannelKind>,
    pub exempt_from_digital_post: bool,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    pub large_print: bool,
    pub easy_read: bool,
    pub name: Option<String>,
    pub address: Option<PostalAddress>,
    pub notice_channels: Vec<crate::domain::ChannelKind>,
    /// The authority that registered it on the citizen's behalf (`None`: the citizen).
    pub updated_by: Option<Uuid>,
    pub helpers: Vec<crate::domain::routing::Helper>,
}

/// A stored profile with who changed it last.
#[derive(Debug, Clone)]
pub struct StoredProfile {
    pub citizen_id: Uuid,
    pub profile: crate::domain::routing::ContactProfile,
    pub updated_by: Option<String>,
    pub updated_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileRow {
    pub id: Uuid,
    pub name: Option<String>,
    pub address: Option<Json<PostalAddress>>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    pub large_print: bool,
    pub easy_read: bool,
    pub preferred_channel: Option<String>,
    pub notice_channels: Json<Vec<String>>,
    pub exempt_from_digital_post: bool,
    pub helpers: Json<Vec<crate::domain::routing::Helper>>,
    pub updated_by: Option<String>,
    pub profile_updated_at: Option<i64>,
}

impl TryFrom<ProfileRow> for StoredProfile {
    type Error = super::StoreError;
    fn try_from(r: ProfileRow) -> Result<Self, Self::Error> {
        Ok(StoredProfile {
            citizen_id: r.id,
            profile: crate::domain::routing::ContactProfile {
                name: r.name,
                address: r.address.map(|a| a.0),
                phone: r.phone,
                email: r.email,
                language: r.language,
                large_print: r.large_print,
                easy_read: r.easy_read,
                preferred_channel: r.preferred_channel.as_deref().map(parse_enum).transpose()?,
                notice_channels: r.notice_channels.0.iter().map(|c| parse_enum(c)).collect::<Result<_, _>>()?,
                exempt_from_digital_post: r.exempt_from_digital_post,
                helpers: r.helpers.0,
            },
            updated_by: r.updated_by,
            updated_at: r.profile_updated_at,
        })
    }
}

/// One read of a citizen's data: who (an authority, a caseworker, a helper, the citizen), what.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccessEntry {
    pub id: Uuid,
    pub citizen_id: Uuid,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    pub action: String,
    pub letter_id: Option<Uuid>,
    pub created_at: i64,
}

/// A delivery created together with a letter.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub channel: crate::domain::ChannelKind,
    pub delivery_id: Uuid,
    pub job_id: Uuid,
    /// A helper this delivery goes to instead of the citizen.
    pub helper: Option<crate::domain::routing::Helper>,
}

/// A call a caseworker owes a citizen.
#[derive(Debug, Clone)]
pub struct NewCallback {
    pub id: Uuid,
    pub phone: String,
    /// A short plain-language summary of the letter for the caseworker.
    pub summary: String,
    pub due_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CallbackTask {
    pub id: Uuid,
    pub authority_id: Uuid,
    pub letter_id: Uuid,
    pub delivery_id: Option<Uuid>,
    pub phone: String,
    pub summary: String,
    pub status: String,
    pub due_at: i64,
    pub no_answers: i64,
    pub minutes_spent: i64,
    pub last_outcome: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What came of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    Reached,
    NoAnswer,
    WrongNumber,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Reached => "reached",
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::WrongNumber => "wrong_number",
        }
    }
}

/// A caseworker's log of one call, and what to do after an unanswered one.
#[derive(Debug, Clone)]
pub struct CallLog {
    pub outcome: CallOutcome,
    pub minutes: i64,
    /// After this many unanswered calls the delivery fails.
    pub max_no_answers: i64,
    /// When to try again after no answer.
    pub retry_at: i64,
}

/// The letter an SMS reply answers.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplyTarget {
    pub delivery_id: Uuid,
    pub letter_id: Uuid,
    pub authority_id: Uuid,
    pub subject: String,
    /// The authority's name.
    pub sender: String,
    /// The number as registered in the profile.
    pub phone: Option<String>,
}

/// What a citizen's reply asks for.
#[derive(Debug, Clone)]
pub enum Reply {
    Reaction,
    CallbackRequest(NewCallback),
    Other(String),
}

/// A timer in the job table: at `due_at`, escalation step `step` runs for the letter.
#[derive(Debug, Clone)]
pub struct Timer {
    pub job_id: Uuid,
    pub step: i64,
    pub due_at: i64,
}

/// What an escalation timer needs to decide.
#[derive(Debug, Clone)]
pub struct EscalationContext {
    pub letter: LetterRecord,
    pub evidence_at: Option<i64>,
    pub reach: crate::domain::policy::Reach,
    pub used_channels: Vec<crate::domain::ChannelKind>,
    /// The citizen should be offered exemption from Digital Post (`ExemptionOfferRule`); `None`
    /// when not, or when the citizen is already exempt.
    pub offer_exemption: Option<ExemptionOffer>,
    pub helpers: Vec<crate::domain::routing::Helper>,
    /// The authority's own policy for the letter's importance and category, if it set one.
    pub own_policy: Option<crate::domain::policy::Policy>,
    /// The authority's closing days, which are not business days.
    pub closing_days: Vec<jiff::civil::Date>,
}

/// What routing a new letter reads (`Store::letter_context`), read in batches: the citizen's
/// profile by CPR hash, and the authority's own policy for the letter's importance and category.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LetterContextKey {
    pub cpr_hash: String,
    pub authority_id: Uuid,
    pub importance: Importance,
    pub category: Option<String>,
}

/// The citizen's profile (none for a citizen not yet known) and the authority's own policy (none
/// where it keeps the default).
pub type LetterContext = (Option<crate::domain::routing::ContactProfile>, Option<crate::domain::policy::Policy>);

/// When digital post obviously fails a citizen, so that the authority must offer exemption:
/// this letter and at least `after_escalations - 1` other important letters to the citizen
/// escalated since `window_start`. `after_escalations` 0 never offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExemptionOfferRule {
    pub window_start: i64,
    pub after_escalations: i64,
}

impl ExemptionOfferRule {
    /// Whether a citizen not yet exempt, with `recent_escalations` other letters escalated in
    /// the window, is to be offered exemption now that this letter escalates.
    pub fn offers(&self, recent_escalations: i64, exempt: bool) -> bool {
        self.after_escalations > 0 && recent_escalations + 1 >= self.after_escalations && !exempt
    }
}

/// Why a citizen should be offered exemption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExemptionOffer {
    /// Important letters to the citizen escalated within the window, this one included.
    pub escalated_letters: i64,
    /// Paper failed for the citizen before, so the offer should be of phone or in person.
    pub paper_failed: bool,
}

/// One escalation, decided by the engine, applied by the store in one transaction.
#[derive(Debug, Clone)]
pub struct EscalationPlan {
    pub step: i64,
    pub deliveries: Vec<NewDelivery>,
    pub deadline: crate::domain::policy::DeadlineChange,
    pub alerts: Vec<NewAlert>,
    pub next: Option<Timer>,
    pub max_attempts: i64,
}

#[derive(Debug, Clone)]
pub struct NewAlert {
    pub id: Uuid,
    /// `unopened`, `unreachable`, `delivery_failed`, `offer_exemption`.
    pub kind: &'static str,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Alert {
    pub id: Uuid,
    pub authority_id: Uuid,
    pub letter_id: Option<Uuid>,
    pub citizen_id: Option<Uuid>,
    pub kind: String,
    pub status: String,
    pub details: Json<serde_json::Value>,
    pub note: Option<String>,
    pub created_at: i64,
    pub closed_at: Option<i64>,
}

/// Everything about one letter, consistent with itself.
#[derive(Debug, Clone)]
pub struct LetterDetails {
    pub letter: LetterRecord,
    pub documents: Vec<DocumentMeta>,
    pub deliveries: Vec<DeliveryRecord>,
    pub timeline: Vec<EventRecord>,
}

/// What came of checking a one-time code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted,
    Wrong,
    /// No live code: never sent, expired, used, or too many wrong tries.
    NoLiveCode,
}

/// A delivery the transport delivered, on its way to being settled with its group
/// (`finish_deliveries_rows`, then each backend's `settle_delivered`).
pub(crate) struct Delivered<'a> {
    pub job: &'a Job,
    pub delivery_id: Uuid,
    pub transport: &'a str,
    pub provider_ref: Option<&'a str>,
    pub now: i64,
}

#[cfg(test)]
mod tests {
    use super::FeedCursor;

    #[test]
    fn feed_cursors_read_back_what_they_write() {
        for cursor in [FeedCursor { xid: 0, seq: 0 }, FeedCursor { xid: 0, seq: 42 }, FeedCursor { xid: 7811, seq: 42 }]
        {
            assert_eq!(FeedCursor::parse(&cursor.to_string()), Some(cursor));
        }
        // SQLite's cursors (and PostgreSQL's from before) are the seq alone
        assert_eq!(FeedCursor { xid: 0, seq: 42 }.to_string(), "42");
        assert_eq!(FeedCursor { xid: 7811, seq: 42 }.to_string(), "7811.42");
        for bad in ["", "-1", "+5", " 5", "5.", ".5", "1.2.3", "x", "99999999999999999999"] {
            assert_eq!(FeedCursor::parse(bad), None, "{bad:?}");
        }
    }
}
