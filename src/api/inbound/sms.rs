//! Inbound endpoints for the sms channel: Kannel's delivery reports (`dlr-url`), the
//! citizens' replies (the sms-service `get-url`), and delivery reports from an HTTP provider.
//! A request that cannot prove it came from our provider gets the same 404 as a wrong path.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::api::error::ApiError;
use crate::app::AppState;
use crate::channels::sms::kannel::{self, Report};
use crate::channels::sms::normalise_number;
use crate::channels::sms::reply::{ReplyKind, classify_reply};
use crate::channels::sms::{REPORT_KEY, verify_report_token};
use crate::domain::DeliveryStatus;
use crate::domain::letter::keepable_text;
use crate::i18n::{DEFAULT_LANGUAGE, I18N};
use crate::store::{NewCallback, ProviderReceipt, Reply};

/// How long a report may wait for the engine to record that the provider took the message.
const OVERTAKE_WAIT: Duration = Duration::from_secs(5);

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route(kannel::REPORT_PATH, get(kannel_delivery_report))
        .route("/v1/inbound/sms/kannel/mo", get(kannel_reply))
        .route(crate::channels::sms::http::REPORT_PATH, get(provider_report).post(provider_report))
}

/// The delivery a report is about, if its token proves that Budbringer made the link.
async fn reported_delivery(state: &AppState, delivery: Option<&str>, token: Option<&str>) -> Result<Uuid, ApiError> {
    let unknown = || ApiError::NotFound("detail-route-not-found");
    let delivery_id = delivery.and_then(|d| Uuid::parse_str(d).ok()).ok_or_else(unknown)?;
    let key = state.store.instance_key(REPORT_KEY).await?;
    if !verify_report_token(&key, delivery_id, token.unwrap_or_default()) {
        tracing::warn!(%delivery_id, "SMS delivery report with a wrong token refused");
        return Err(unknown());
    }
    Ok(delivery_id)
}

/// Settle the delivery by a final report (a repeated one changes nothing).
async fn apply_receipt(state: &AppState, delivery_id: Uuid, receipt: &ProviderReceipt) -> Result<(), ApiError> {
    wait_until_sent(state, delivery_id).await?;
    let applied = state.store.record_receipt(delivery_id, receipt, state.clock.now_ms()).await?;
    if applied {
        state.webhook_wake.notify_one();
    }
    let delivered = matches!(receipt, ProviderReceipt::Delivered { .. });
    state.metrics.receipt("sms", if delivered { "delivered" } else { "failed" });
    tracing::info!(%delivery_id, delivered, applied, "SMS delivery report");
    Ok(())
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
    let delivery_id = reported_delivery(&state, query.delivery.as_deref(), query.token.as_deref()).await?;
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
    apply_receipt(&state, delivery_id, &receipt).await?;
    Ok(StatusCode::OK)
}

/// `GET|POST /v1/inbound/sms/http/report?delivery=…&token=…`: a delivery report from the HTTP
/// provider, its status in the query or in a JSON body (the field
/// `channels.sms.http.report_status_field` names). Final statuses settle the delivery; others
/// are acknowledged. Answers 200 with an empty body.
async fn provider_report(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let delivery_id =
        reported_delivery(&state, query.get("delivery").map(String::as_str), query.get("token").map(String::as_str))
            .await?;
    let settings = &state.settings.channels.sms.http;
    let field = settings.report_status_field.as_str();
    let from_body = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get(field).and_then(|s| s.as_str().map(str::to_owned)));
    let status = query.get(field).cloned().or(from_body).unwrap_or_default();
    match settings.receipt_for(&status) {
        Some(receipt) => apply_receipt(&state, delivery_id, &receipt).await?,
        None => tracing::debug!(%delivery_id, "intermediate SMS delivery report"),
    }
    Ok(StatusCode::OK)
}

/// Providers report fast (Kannel within milliseconds), often before the engine has recorded
/// that the provider took the message. Waiting briefly keeps the timeline in the order things
/// happened (sent, then delivered); after the wait the report is applied anyway.
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

/// `GET /v1/inbound/sms/kannel/mo`: a citizen's SMS reply, authenticated by the token in
/// Kannel's `get-url`. It is matched to the latest SMS notice sent to that number: "OK" is a
/// reaction (evidence), the callback keyword ("RING") opens a callback task, anything else is
/// kept on the letter's timeline for a caseworker. Answered with 200 and an empty body, so
/// Kannel sends no reply SMS.
async fn kannel_reply(State(state): State<AppState>, Query(query): Query<ReplyQuery>) -> Result<StatusCode, ApiError> {
    let expected = state.settings.channels.sms.kannel.mo_token.as_bytes();
    let given = query.token.as_deref().unwrap_or_default().as_bytes();
    if expected.is_empty() || !constant_time_eq(expected, given) {
        tracing::warn!("inbound SMS with a wrong token refused");
        return Err(ApiError::NotFound("detail-route-not-found"));
    }
    let text = query.text.as_deref().unwrap_or_default();
    let kind = classify_reply(text);
    // neither the number nor the text: both are personal
    tracing::info!(kind = kind.as_str(), has_sender = query.from.is_some(), "inbound SMS");
    let Some(number) = query.from.as_deref().and_then(normalise_number) else { return Ok(StatusCode::OK) };
    let Some(target) = state.store.sms_reply_target(&number).await? else {
        tracing::info!(kind = kind.as_str(), "inbound SMS from a number Budbringer sent no notice to");
        return Ok(StatusCode::OK);
    };
    let now = state.clock.now();
    let reply = match kind {
        ReplyKind::Reaction => Reply::Reaction,
        ReplyKind::CallbackRequest => {
            let authority = state.store.authority(target.authority_id).await?;
            let phone = &state.settings.channels.phone;
            let hours = match &authority {
                Some(a) => phone.office_hours_of(a),
                None => phone.office_hours(),
            }
            .map_err(|e| ApiError::Internal(e.into()))?;
            let args = [("sender", target.sender.clone()), ("subject", target.subject.clone())];
            Reply::CallbackRequest(NewCallback {
                id: Uuid::now_v7(),
                phone: target.phone.clone().unwrap_or(number),
                summary: I18N.message(DEFAULT_LANGUAGE, "callback-requested-summary", &args),
                due_at: hours.next_open(now).as_millisecond(),
            })
        }
        ReplyKind::Other => Reply::Other(keepable_text(text, 1600)),
    };
    state.store.record_reply(&target, &reply, now.as_millisecond()).await?;
    state.webhook_wake.notify_one();
    Ok(StatusCode::OK)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
