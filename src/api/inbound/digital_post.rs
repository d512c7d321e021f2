//! Inbound endpoints for the digital_post channel: status receipts for messages sent with the
//! sf1601 transport.
//!
//! `POST /v1/inbound/digital-post/receipts` with `Authorization: Bearer <receipt_secret>`
//! (`[channels.digital_post] receipt_secret`) and a JSON body keyed by the MeMo messageUUID:
//!
//! ```json
//! { "message_uuid": "1b4e28ba-2fa1-41d2-883f-0016d3cca427",
//!   "status": "delivered",              // or "failed"
//!   "detail": "optional text kept with the event",
//!   "error": "why it failed (status failed)" }
//! ```
//!
//! Answers `200 {"recorded": true}` when the receipt settled the delivery (the timeline gets
//! `delivered` or `failed`), `200 {"recorded": false}` for a repeat or a delivery already
//! settled (receipts are idempotent), 401 without the right secret, 404 for an unknown
//! messageUUID (also when the receipt overtakes Budbringer's own record that the message was
//! sent: the provider should retry later), 400/415/422 for a body it cannot read.

use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::header;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::api::error::ApiError;
use crate::api::extract::JsonBody;
use crate::app::AppState;
use crate::domain::ChannelKind;
use crate::domain::EventKind;
use crate::domain::letter::{FieldError, keepable_text};
use crate::store::ProviderReceipt;

pub const RECEIPTS_PATH: &str = "/v1/inbound/digital-post/receipts";

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route(RECEIPTS_PATH, post(receipt))
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    Delivered,
    Failed,
    /// A mailbox provider's read receipt: the citizen opened the message (evidence).
    Read,
}

/// A status receipt. Unknown fields are ignored: providers add to their receipts.
#[derive(Debug, Deserialize)]
pub struct ReceiptBody {
    pub message_uuid: String,
    pub status: ReceiptStatus,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

/// Compares digests, so the time taken says nothing about how much of the secret matched.
fn secret_matches(expected: &str, given: &str) -> bool {
    !expected.is_empty() && Sha256::digest(expected.as_bytes()) == Sha256::digest(given.as_bytes())
}

async fn receipt(State(state): State<AppState>, request: Request) -> Result<Json<Value>, ApiError> {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .trim();
    // authenticate before reading the body: a stranger's body is not even parsed
    if !secret_matches(&state.settings.channels.digital_post.receipt_secret, given) {
        tracing::warn!("Digital Post receipt with a wrong or missing secret refused");
        return Err(ApiError::Unauthorized("digital-post-receipt-unauthorized"));
    }
    let body = JsonBody::<ReceiptBody>::from_request(request, &state).await?.value;
    // providers write UUIDs in either case; ours are stored lower-case
    let message_uuid = uuid::Uuid::parse_str(body.message_uuid.trim())
        .map_err(|_| ApiError::Invalid(vec![FieldError::new("/message_uuid", "digital-post-receipt-bad-uuid")]))?
        .to_string();
    let delivery = state
        .store
        .delivery_by_provider_ref(ChannelKind::DigitalPost, &message_uuid)
        .await?
        .ok_or(ApiError::NotFound("digital-post-receipt-unknown-message"))?;
    if let ReceiptStatus::Read = body.status {
        let letter = state
            .store
            .letter_for_reading(delivery.letter_id)
            .await?
            .ok_or(ApiError::NotFound("digital-post-receipt-unknown-message"))?;
        let data = json!({ "via": "read_receipt", "channel": "digital_post", "delivery_id": delivery.id });
        let now = state.clock.now_ms();
        // a read receipt also proves delivery
        let delivered = ProviderReceipt::Delivered { detail: Some("read receipt".into()) };
        state.store.record_receipt(delivery.id, &delivered, now).await?;
        state.store.record_evidence(letter.authority_id, letter.id, EventKind::Opened, data, now).await?;
        state.metrics.receipt("digital_post", "read");
        state.webhook_wake.notify_one();
        tracing::info!(delivery_id = %delivery.id, %message_uuid, "Digital Post read receipt");
        return Ok(Json(json!({ "recorded": true })));
    }
    // the provider's words go into the timeline: no control characters, a sane length
    let detail = body.detail.as_deref().map(|d| keepable_text(d, 500));
    let error = body.error.as_deref().map(|e| keepable_text(e, 500));
    let receipt = match body.status {
        ReceiptStatus::Read | ReceiptStatus::Delivered => ProviderReceipt::Delivered { detail },
        ReceiptStatus::Failed => ProviderReceipt::Failed {
            error: error.or(detail).unwrap_or_else(|| "Digital Post reported a failure".into()),
        },
    };
    let recorded = state.store.record_receipt(delivery.id, &receipt, state.clock.now_ms()).await?;
    let outcome = if matches!(receipt, ProviderReceipt::Delivered { .. }) { "delivered" } else { "failed" };
    state.metrics.receipt("digital_post", outcome);
    if recorded {
        state.webhook_wake.notify_one();
    }
    tracing::info!(delivery_id = %delivery.id, %message_uuid, status = ?body.status, recorded, "Digital Post receipt");
    Ok(Json(json!({ "recorded": recorded })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_secret_opens_nothing() {
        assert!(secret_matches("s3cret", "s3cret"));
        assert!(!secret_matches("s3cret", "s3cre"));
        assert!(!secret_matches("", ""));
    }
}
