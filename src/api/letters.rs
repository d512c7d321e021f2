//! `/v1/letters`: authorities send letters, follow them and cancel them.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Caller, JsonBody};
use super::model::*;
use super::query::{bad_value, page_limit, unknown_parameter};
use crate::app::AppState;
use crate::domain::letter::{DocumentInput as DomainDocument, FieldError, LetterInput, LetterRejection};
use crate::domain::routing::route;
use crate::domain::secret::{keyed_hash, sha256_hex};
use crate::store::{
    AccessEntry, CancelOutcome, CreatedLetter, Inserted, LetterFilter, NewDelivery, NewDocumentRecord, NewLetter,
    Recipient, Timer,
};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/letters", post(create_letter).get(list_letters))
        .route("/v1/letters/{id}", get(get_letter))
        .route("/v1/letters/{id}/cancel", post(cancel_letter))
        .route("/v1/letters/{id}/evidence", post(record_evidence))
}

/// Send a letter to a citizen.
///
/// The letter is stored with its first delivery before the answer is sent: a 201 means it
/// will be delivered even if the gateway crashes right after. Send an `Idempotency-Key` to
/// retry safely: the same key with the same body answers with the same letter.
#[utoipa::path(
    post, path = "/v1/letters", tag = "letters",
    request_body = CreateLetterRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe (1–255 visible characters).")),
    responses(
        (status = 201, description = "Accepted; `Location` names the letter.", body = LetterView),
        (status = 400, description = "Malformed JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Body, a document or the number of documents too large", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or an Idempotency-Key reused for another request", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit; see Retry-After", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "Store unavailable; nothing was stored", body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn create_letter(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<CreateLetterRequest>,
) -> Result<Response, ApiError> {
    let idempotency_key = idempotency_key(&headers)?;
    let request = &body.value;
    let now = state.clock.now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let input = LetterInput {
        cpr: &request.recipient.cpr,
        recipient_name: request.recipient.name.as_deref(),
        address: request.recipient.address.as_ref(),
        subject: &request.subject,
        body: &request.body,
        importance: request.importance,
        respond_by: request.respond_by.as_deref(),
        reference: request.reference.as_deref(),
        contact: request.contact.as_ref(),
        documents: request
            .documents
            .iter()
            .map(|d| DomainDocument { filename: &d.filename, content_base64: &d.content })
            .collect(),
    };
    let category = request.category.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let category_ok = category.is_none_or(|c| {
        c.len() <= 50 && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    });
    let mut letter = input.validate(today, &state.settings.api.letters);
    if !category_ok {
        let bad = FieldError::new("/category", "error-category");
        letter = match letter {
            Ok(_) => Err(LetterRejection::Invalid(vec![bad])),
            Err(LetterRejection::Invalid(mut errors)) => {
                errors.push(bad);
                Err(LetterRejection::Invalid(errors))
            }
            too_large => too_large,
        };
    }
    let letter = letter.map_err(|rejection| match rejection {
        LetterRejection::Invalid(errors) => ApiError::Invalid(errors),
        LetterRejection::TooLarge(errors) => ApiError::TooLarge(errors),
    })?;

    let cpr_hash = keyed_hash(&state.cpr_key, letter.cpr.as_str());
    let (profile, own) =
        state.store.letter_context(&cpr_hash, caller.authority.id, letter.importance, category).await?;
    let profile = profile.unwrap_or_default();
    let route = route(&profile);
    let policy = own.as_ref().unwrap_or_else(|| state.settings.policies.for_importance(letter.importance));
    // the first rung's timer: no evidence by then, and the ladder starts
    let escalation_timer = match policy.wait_before(0) {
        Some(wait) => Some(Timer {
            job_id: Uuid::now_v7(),
            step: 0,
            due_at: wait
                .after(&caller.authority.calendar(&state.calendar), now)
                .map_err(|e| ApiError::Internal(e.into()))?
                .as_millisecond(),
        }),
        None => None,
    };
    // the authority's address wins; the citizen's registered one fills in (paper needs one)
    let address = letter.address.or(profile.address);
    let recipient_name = letter.recipient_name.or(profile.name);
    let bulk = state.bulk_detector.bulk_run(request.bulk, caller.authority.id, std::time::Instant::now());
    let new = NewLetter {
        bulk,
        id: Uuid::now_v7(),
        authority_id: caller.authority.id,
        citizen_id: Uuid::now_v7(),
        cpr: letter.cpr.as_str().to_owned(),
        cpr_hash,
        recipient: Recipient { cpr_masked: letter.cpr.masked(), name: recipient_name, address },
        subject: letter.subject,
        body: letter.body,
        importance: letter.importance,
        category: category.map(str::to_owned),
        respond_by: letter.respond_by.map(|d| d.to_string()),
        reference: letter.reference,
        contact: letter.contact,
        documents: letter
            .documents
            .into_iter()
            .map(|d| NewDocumentRecord {
                id: Uuid::now_v7(),
                sha256: sha256_hex(&d.content),
                filename: d.filename,
                media_type: d.media_type,
                content: d.content,
            })
            .collect(),
        request_hash: idempotency_key.as_ref().map(|_| sha256_hex(&body.canonical)),
        idempotency_key,
        channel: route.letter,
        delivery_id: Uuid::now_v7(),
        job_id: Uuid::now_v7(),
        notices: route
            .notices
            .iter()
            .map(|channel| NewDelivery {
                channel: *channel,
                delivery_id: Uuid::now_v7(),
                job_id: Uuid::now_v7(),
                helper: None,
            })
            .collect(),
        escalation_timer,
        max_attempts: i64::from(state.settings.engine.max_attempts),
        now: now.as_millisecond(),
    };
    let (view, replayed) = match state.store.insert_letter(&new).await? {
        Inserted::Created(created) => {
            state.metrics.letter_accepted(new.bulk);
            state.engine_wake.notify_one();
            state.webhook_wake.notify_one();
            // the letter as stored, without reading it back
            let CreatedLetter { letter, documents, deliveries, timeline } = created;
            (LetterView::new(letter, documents, deliveries, timeline), false)
        }
        Inserted::Existing { letter, request_hash } if request_hash == new.request_hash => {
            (letter_view(&state, letter).await?, true)
        }
        Inserted::Existing { .. } => return Err(ApiError::IdempotencyMismatch),
    };
    let location = format!("{}/v1/letters/{}", state.settings.public_url(), view.id);
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic() || b == b' '));
    match key {
        Some(k) => Ok(Some(k.to_owned())),
        None => Err(ApiError::Invalid(vec![FieldError::new("@Idempotency-Key", "error-idempotency-key")])),
    }
}

async fn letter_view(state: &AppState, letter: crate::store::LetterRecord) -> Result<LetterView, ApiError> {
    let (documents, deliveries, timeline) = tokio::try_join!(
        state.store.documents(letter.id),
        state.store.deliveries(letter.id),
        state.store.timeline(letter.id),
    )?;
    Ok(LetterView::new(letter, documents, deliveries, timeline))
}

/// Parse a path id; a malformed id is simply a letter that does not exist.
fn parse_id(raw: &str, not_found: &'static str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound(not_found))
}

/// A letter with its deliveries and full timeline.
#[utoipa::path(
    get, path = "/v1/letters/{id}", tag = "letters",
    params(("id" = Uuid, Path, description = "The letter's id")),
    responses(
        (status = 200, body = LetterView),
        (status = 401, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such letter at this authority", body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn get_letter(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<LetterView>, ApiError> {
    let id = parse_id(&id, "detail-letter-not-found")?;
    let details = state
        .store
        .letter_details(caller.authority.id, id)
        .await?
        .ok_or(ApiError::NotFound("detail-letter-not-found"))?;
    // the authority read the citizen's letter: the citizen can see that
    let entry = AccessEntry {
        id: Uuid::now_v7(),
        citizen_id: details.letter.citizen_id,
        actor_kind: "authority".into(),
        actor_id: Some(caller.authority.id),
        actor_name: caller.authority.name.clone(),
        action: "read_letter".into(),
        letter_id: Some(details.letter.id),
        created_at: state.clock.now_ms(),
    };
    state.store.log_access(&entry).await?;
    Ok(Json(LetterView::new(details.letter, details.documents, details.deliveries, details.timeline)))
}

/// Letters of the calling authority, oldest first, in pages.
#[utoipa::path(
    get, path = "/v1/letters", tag = "letters",
    params(
        ("status" = Option<LetterStatus>, Query, description = "Only letters in this status"),
        ("importance" = Option<Importance>, Query, description = "Only letters of this importance"),
        ("reference" = Option<String>, Query, description = "Only letters with this case reference"),
        ("updated_since" = Option<String>, Query, description = "Only letters changed at or after this RFC 3339 time"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1–500 (default 50)"),
    ),
    responses(
        (status = 200, body = LetterPage),
        (status = 401, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A bad query parameter", body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list_letters(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<LetterPage>, ApiError> {
    let mut errors = Vec::new();
    let mut filter = LetterFilter { limit: 50, ..Default::default() };
    for (name, value) in &params {
        let bad = |expected: &str| bad_value(name, expected);
        match name.as_str() {
            "status" => match value.parse() {
                Ok(v) => filter.status = Some(v),
                Err(e) => errors.push(bad(&format!("{e}"))),
            },
            "importance" => match value.parse() {
                Ok(v) => filter.importance = Some(v),
                Err(e) => errors.push(bad(&format!("{e}"))),
            },
            "reference" => filter.reference = Some(value.clone()),
            "updated_since" => match value.parse::<jiff::Timestamp>() {
                Ok(t) => filter.updated_since = Some(t.as_millisecond()),
                Err(_) => errors.push(bad("RFC 3339")),
            },
            "cursor" => match value.parse::<Uuid>() {
                Ok(id) => filter.after = Some(id),
                Err(_) => errors.push(bad("cursor")),
            },
            "limit" => match page_limit(name, value, state.settings.api.max_page_size) {
                Ok(n) => filter.limit = n,
                Err(e) => errors.push(e),
            },
            _ => errors.push(unknown_parameter(name)),
        }
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        return Err(ApiError::Invalid(errors));
    }
    let page_size = filter.limit;
    // one extra row tells whether another page follows
    filter.limit += 1;
    let mut letters = state.store.list_letters(caller.authority.id, &filter).await?;
    let more = letters.len() > page_size as usize;
    letters.truncate(page_size as usize);
    let next_cursor = more.then(|| letters.last().map(|l| l.id.to_string())).flatten();
    Ok(Json(LetterPage { letters: letters.into_iter().map(LetterSummary::from).collect(), next_cursor }))
}

/// Cancel a letter that is not yet delivered: pending deliveries and timers stop.
#[utoipa::path(
    post, path = "/v1/letters/{id}/cancel", tag = "letters",
    params(("id" = Uuid, Path, description = "The letter's id")),
    responses(
        (status = 200, description = "Cancelled", body = LetterView),
        (status = 401, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Already delivered, failed or cancelled", body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn cancel_letter(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<LetterView>, ApiError> {
    let id = parse_id(&id, "detail-letter-not-found")?;
    match state.store.cancel_letter(caller.authority.id, id, state.clock.now_ms()).await? {
        CancelOutcome::NotFound => Err(ApiError::NotFound("detail-letter-not-found")),
        CancelOutcome::Final(status) => {
            Err(ApiError::Conflict("detail-cannot-cancel", vec![("status", status.as_str().to_owned())]))
        }
        CancelOutcome::Cancelled(letter) => {
            state.webhook_wake.notify_one();
            Ok(Json(letter_view(&state, *letter).await?))
        }
    }
}

use crate::domain::{Importance, LetterStatus};

/// Evidence the authority saw itself: the citizen came to the counter, called, replied by
/// letter, or a mailbox provider sent a read receipt.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRequest {
    /// `reacted` (the citizen made contact or replied) or `opened` (a read receipt).
    #[serde(rename = "type")]
    pub kind: EvidenceKind,
    /// How: e.g. `counter`, `phone`, `letter`, `email`, `read_receipt`.
    pub via: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Reacted,
    Opened,
}

/// Record that the citizen got the letter. Escalation stops at once (pending timers are
/// cancelled in the same transaction) and open "unopened"/"unreachable" alerts are resolved.
#[utoipa::path(
    post, path = "/v1/letters/{id}/evidence", tag = "letters",
    params(("id" = Uuid, Path)),
    request_body = EvidenceRequest,
    responses(
        (status = 200, body = LetterView),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn record_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody<EvidenceRequest>,
) -> Result<Json<LetterView>, ApiError> {
    let id = parse_id(&id, "detail-letter-not-found")?;
    let request = body.value;
    let via = request.via.trim();
    let mut errors = Vec::new();
    if via.is_empty() || via.len() > 50 || !via.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        errors.push(FieldError::new("/via", "error-via"));
    }
    if let Some(note) = &request.note {
        crate::domain::letter::check_free_text(&mut errors, "/note", note, 2000);
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let kind = match request.kind {
        EvidenceKind::Reacted => crate::domain::EventKind::Reacted,
        EvidenceKind::Opened => crate::domain::EventKind::Opened,
    };
    let data = serde_json::json!({ "via": via, "note": request.note, "recorded_by": caller.authority.name });
    if !state.store.record_evidence(caller.authority.id, id, kind, data, state.clock.now_ms()).await? {
        return Err(ApiError::NotFound("detail-letter-not-found"));
    }
    state.webhook_wake.notify_one();
    let letter =
        state.store.letter(caller.authority.id, id).await?.ok_or(ApiError::NotFound("detail-letter-not-found"))?;
    Ok(Json(letter_view(&state, letter).await?))
}
