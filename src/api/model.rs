//! The JSON shapes of the authority API (and their OpenAPI schemas).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::event::format_ms;
use crate::domain::letter::{ContactPoint, PostalAddress};
use crate::domain::{ChannelKind, DeliveryStatus, Importance, LetterStatus};
use crate::store::{DeliveryRecord, DocumentMeta, EventRecord, LetterRecord};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLetterRequest {
    pub recipient: RecipientInput,
    /// Shown as the letter's title.
    #[schema(example = "Afgørelse om boligstøtte")]
    pub subject: String,
    /// Plain text; a Markdown subset (paragraphs, lists, emphasis, links) is allowed.
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub documents: Vec<DocumentInput>,
    #[serde(default = "normal")]
    pub importance: Importance,
    /// The authority's own kind of letter (e.g. `housing_benefit`), choosing its escalation
    /// policy when the authority has one for it: 1–50 of a–z, 0–9, `_`, `-`.
    pub category: Option<String>,
    /// The date the citizen must respond by (YYYY-MM-DD), if any.
    #[schema(example = "2026-12-31")]
    pub respond_by: Option<String>,
    /// The authority's own case number.
    pub reference: Option<String>,
    pub contact: Option<ContactPoint>,
    /// Part of a bulk run (a benefit decision run, a national reminder). Its deliveries,
    /// notices and escalations wait while those of letters sent one by one go first, so a bulk
    /// run never holds those up; when nothing else waits, they go at full speed. Left out, the
    /// gateway decides: an authority's letters count as a bulk run's while it sends faster
    /// than letters sent one by one come (more than 200 at once, then over 20 a second, by
    /// default). Say `false` for a letter that must not wait behind your own bulk run.
    pub bulk: Option<bool>,
}

fn normal() -> Importance {
    Importance::Normal
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipientInput {
    /// 10 digits (DDMMYYXXXX); a hyphen after the date is allowed.
    #[schema(example = "0101901234")]
    pub cpr: String,
    pub name: Option<String>,
    pub address: Option<PostalAddress>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentInput {
    #[schema(example = "afgoerelse.pdf")]
    pub filename: String,
    /// The PDF file, base64-encoded.
    pub content: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientView {
    /// The birth-date part only; the full number is never sent back.
    #[schema(example = "010190-****")]
    pub cpr_masked: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<PostalAddress>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: Uuid,
    pub filename: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: Uuid,
    pub channel: ChannelKind,
    /// `letter` (carries the letter) or `notice` (tells the citizen a letter has come).
    pub purpose: String,
    pub status: DeliveryStatus,
    pub transport: Option<String>,
    pub provider_ref: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// One entry of a letter's timeline or of the event feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// Position in the authority's event feed; use it as the `after` cursor.
    pub seq: i64,
    pub id: Uuid,
    pub letter_id: Uuid,
    /// `accepted`, `dispatched`, `delivered`, `failed`, `cancelled` (more in later versions).
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
    /// Details that depend on the type (channel, delivery id, error …).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<EventRecord> for EventView {
    fn from(e: EventRecord) -> Self {
        EventView {
            seq: e.seq,
            id: e.id,
            letter_id: e.letter_id,
            kind: e.kind,
            at: format_ms(e.created_at),
            data: e.data.0,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LetterView {
    pub id: Uuid,
    pub status: LetterStatus,
    pub importance: Importance,
    pub category: Option<String>,
    pub subject: String,
    /// The letter's text; absent once the content was deleted under the retention rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// When the body and the documents' content were deleted under the retention rule (the
    /// documents are still listed; the timeline is whole). `null` while the content is kept.
    pub content_deleted_at: Option<String>,
    pub reference: Option<String>,
    pub recipient: RecipientView,
    pub contact: ContactPoint,
    /// The deadline the authority set.
    pub respond_by: Option<String>,
    /// The deadline in force now (never earlier than `respond_by`).
    pub deadline: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Part of a bulk run, as the authority said or the gateway found (the `accepted` event
    /// says which): its jobs waited while those of letters sent one by one went first.
    pub bulk: bool,
    pub documents: Vec<DocumentView>,
    pub deliveries: Vec<DeliveryView>,
    pub timeline: Vec<EventView>,
}

impl LetterView {
    pub fn new(
        l: LetterRecord,
        documents: Vec<DocumentMeta>,
        deliveries: Vec<DeliveryRecord>,
        timeline: Vec<EventRecord>,
    ) -> Self {
        LetterView {
            id: l.id,
            status: l.status,
            importance: l.importance,
            category: l.category,
            subject: l.subject,
            body: l.content_deleted_at.is_none().then_some(l.body),
            content_deleted_at: l.content_deleted_at.map(format_ms),
            reference: l.reference,
            recipient: RecipientView {
                cpr_masked: l.recipient.cpr_masked,
                name: l.recipient.name,
                address: l.recipient.address,
            },
            contact: l.contact,
            respond_by: l.respond_by,
            deadline: l.deadline,
            created_at: format_ms(l.created_at),
            updated_at: format_ms(l.updated_at),
            bulk: l.bulk,
            documents: documents
                .into_iter()
                .map(|d| DocumentView {
                    id: d.id,
                    filename: d.filename,
                    media_type: d.media_type,
                    size: d.size,
                    sha256: d.sha256,
                })
                .collect(),
            deliveries: deliveries
                .into_iter()
                .map(|d| DeliveryView {
                    id: d.id,
                    channel: d.channel,
                    purpose: d.purpose,
                    status: d.status,
                    transport: d.transport,
                    provider_ref: d.provider_ref,
                    attempts: d.attempts,
                    last_error: d.last_error,
                    created_at: format_ms(d.created_at),
                    updated_at: format_ms(d.updated_at),
                })
                .collect(),
            timeline: timeline.into_iter().map(EventView::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LetterSummary {
    pub id: Uuid,
    pub status: LetterStatus,
    pub importance: Importance,
    pub subject: String,
    pub reference: Option<String>,
    pub deadline: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<LetterRecord> for LetterSummary {
    fn from(l: LetterRecord) -> Self {
        LetterSummary {
            id: l.id,
            status: l.status,
            importance: l.importance,
            subject: l.subject,
            reference: l.reference,
            deadline: l.deadline,
            created_at: format_ms(l.created_at),
            updated_at: format_ms(l.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LetterPage {
    pub letters: Vec<LetterSummary>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub events: Vec<EventView>,
    /// Pass as `after` to continue; stays the same when there is nothing new.
    pub next_cursor: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    #[schema(example = "https://sagssystem.example.dk/budbringer/events")]
    pub url: String,
    /// `whsec_` + base64 of 24–64 random bytes; generated when absent.
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    /// Only in the answer that created the webhook or rotated its secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// After a rotation: until when the previous secret still signs beside the new one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<String>,
    pub created_at: String,
}

/// RFC 9457 problem details.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDoc {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// One entry per bad field: `pointer` (JSON body), `parameter` (query) or `header`.
    pub errors: Option<Vec<FieldProblem>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    pub pointer: Option<String>,
    pub parameter: Option<String>,
    pub header: Option<String>,
    pub detail: String,
}
