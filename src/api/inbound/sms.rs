//! Inbound endpoints for the sms channel: Kannel's delivery reports (`dlr-url`) and the
//! citizens' replies (the sms-service `get-url`). Both are plain GETs, as Kannel makes them;
//! a request that cannot prove it came from our Kannel gets the same 404 as a wrong path.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::api::error::ApiError;
use crate::app::AppState;
use crate::channels::sms::kannel::{self, Report};
use crate::channels::sms::reply::classify_reply;
use crate::channels::sms::{REPORT_KEY, verify_report_token};
use crate::domain::DeliveryStatus;

/// How long a report may wait for the engine to record that Kannel took the message.
const OVERTAKE_WAIT: Duration = Duration::from_secs(5);

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route(kannel::REPORT_PATH, get(kannel_delivery_report))
        .route("/v1/inbound/sms/kannel/mo", get(kannel_reply))
}

/// The query Kannel calls `dlr-url` with (built by the Kannel transport). Every field is
/// optional here so that a bad call gets our problem answer, not a bare extractor error.
#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    delivery: Option<String>,
    status: Option<String>,
    answer: Option<String>,
    token: Option<String>,
}

/// `GET /v1/inbound/sms/kannel/dlr`: apply a delivery report. Final reports (delivered,
/// failed, rejected) settle the delivery and write its timeline event; intermediate ones
/// (buffered, accepted by the SMSC) and repeats are acknowledged and change nothing.
/// Answers 200 with an empty body: Kannel does not retry, so any other answer loses the report.
async fn kannel_delivery_report(
    State(state): State<AppState>,
    Query(query): Query<ReportQuery>,
) -> Result<StatusCode, ApiError> {
    let unknown = || ApiError::NotFound("detail-route-not-found");
    let delivery_id = query.delivery.as_deref().and_then(|d| Uuid::parse_str(d).ok()).ok_or_else(unknown)?;
    let key = state.store.instance_key(REPORT_KEY).await?;
    if !verify_report_token(&key, delivery_id, query.token.as_deref().unwrap_or_default()) {
        tracing::warn!(%delivery_id, "SMS delivery report with a wrong token refused");
        return Err(unknown());
    }
    let status = query.status.as_deref().and_then(|s| s.trim().parse::<u32>().ok());
    let report = status.and_then(|status| kannel::report(status, query.answer.as_deref()));
    let Some(report) = report else {
        tracing::warn!(%delivery_id, status = ?query.status, "SMS delivery report of an unknown type ignored");
        return Ok(StatusCode::OK);
    };
    let Report::Final(receipt) = report else {
        tracing::debug!(%delivery_id, status, "intermediate SMS delivery report");
        return Ok(StatusCode::OK);
    };
    wait_until_sent(&state, delivery_id).await?;
    let applied = state.store.record_receipt(delivery_id, &receipt, state.clock.now_ms()).await?;
    if applied {
        state.webhook_wake.notify_one();
    }
    tracing::info!(%delivery_id, status, applied, "SMS delivery report");
    Ok(StatusCode::OK)
}

/// Kannel reports within milliseconds, often before the engine has recorded that Kannel took
/// the message. Waiting briefly keeps the timeline in the order things happened
/// (sent, then delivered); after the wait the report is applied anyway.
async fn wait_until_sent(state: &AppState, delivery_id: Uuid) -> Result<(), ApiError> {
    let start = Instant::now();
    while start.elapsed() < OVERTAKE_WAIT {
        match state.store.delivery(delivery_id).await? {
            Some(delivery) if delivery.status == DeliveryStatus::Sending => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            _ => return Ok(()),
        }
    }
    Ok(())
}

/// The query Kannel's sms-service `get-url` is configured with:
/// `…/v1/inbound/sms/kannel/mo?from=%p&text=%a&token=<channels.sms.kannel.mo_token>`.
#[derive(Debug, Deserialize)]
pub struct ReplyQuery {
    from: Option<String>,
    text: Option<String>,
    token: Option<String>,
}

/// `GET /v1/inbound/sms/kannel/mo`: a citizen's SMS reply. It is authenticated and classified
/// ("OK" a reaction, the callback keyword a callback request, anything else other) and
/// answered with 200 and an empty body, so Kannel sends no reply SMS. Finding the letter the
/// reply is about and acting on it is the engine's job, not this endpoint's.
async fn kannel_reply(State(state): State<AppState>, Query(query): Query<ReplyQuery>) -> Result<StatusCode, ApiError> {
    let expected = state.settings.channels.sms.kannel.mo_token.as_bytes();
    let given = query.token.as_deref().unwrap_or_default().as_bytes();
    if expected.is_empty() || !constant_time_eq(expected, given) {
        tracing::warn!("inbound SMS with a wrong token refused");
        return Err(ApiError::NotFound("detail-route-not-found"));
    }
    let kind = classify_reply(query.text.as_deref().unwrap_or_default());
    // neither the number nor the text: both are personal
    tracing::info!(kind = kind.as_str(), has_sender = query.from.is_some(), "inbound SMS");
    Ok(StatusCode::OK)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
