//! `/v1/webhooks`: where an authority wants its events pushed, signed per Standard Webhooks.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Caller, JsonBody};
use super::model::{CreateWebhookRequest, ProblemDoc, WebhookView};
use crate::app::AppState;
use crate::domain::event::format_ms;
use crate::domain::letter::FieldError;
use crate::domain::secret;
use crate::store::{Store, StoreResult, Webhook};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/webhooks", get(list_webhooks).post(create_webhook))
        .route("/v1/webhooks/{id}", delete(delete_webhook))
        .route("/v1/webhooks/{id}/rotate-secret", post(rotate_webhook_secret))
}

/// What the API shows of a webhook; the secret only right after it was made.
fn view(w: Webhook, with_secret: bool, now: i64) -> WebhookView {
    WebhookView {
        id: w.id,
        url: w.url,
        secret: with_secret.then_some(w.secret),
        previous_secret_expires_at: w.previous_secret_expires_at.filter(|&until| until > now).map(format_ms),
        created_at: format_ms(w.created_at),
    }
}

/// Give the authority's webhook a new random secret; the current one becomes the previous
/// secret and keeps signing for `overlap_hours`. Rotating again within the overlap drops the
/// older secret. `None`: no such webhook at this authority.
pub async fn rotate_secret(
    store: &dyn Store,
    authority_id: Uuid,
    id: Uuid,
    overlap_hours: u64,
    now: i64,
) -> StoreResult<Option<Webhook>> {
    let overlap_ms = i64::try_from(overlap_hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX);
    let fresh = secret::new_webhook_secret();
    store.rotate_webhook_secret(authority_id, id, &fresh, now.saturating_add(overlap_ms)).await
}

/// Whether a webhook URL is acceptable: http or https with a host.
pub fn valid_webhook_url(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// Register an endpoint for the event feed. The secret is shown only in this answer.
#[utoipa::path(
    post, path = "/v1/webhooks", tag = "webhooks",
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, body = WebhookView),
        (status = 401, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<CreateWebhookRequest>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let request = body.value;
    let mut errors = Vec::new();
    if !valid_webhook_url(&request.url) {
        errors.push(FieldError::new("/url", "error-url"));
    }
    if let Some(s) = &request.secret
        && secret::webhook_key(s).is_err()
    {
        errors.push(FieldError::new("/secret", "error-webhook-secret"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let now = state.clock.now_ms();
    let secret = request.secret.unwrap_or_else(secret::new_webhook_secret);
    let webhook = Webhook::new(caller.authority.id, request.url, secret, now);
    state.store.add_webhook(&webhook).await?;
    caller.audit(&state, "webhook.added", webhook.id, crate::store::audit::webhook_details(&webhook.url)).await?;
    Ok((StatusCode::CREATED, Json(view(webhook, true, now))))
}

/// The calling authority's webhooks (without their secrets).
#[utoipa::path(
    get, path = "/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = Vec<WebhookView>), (status = 401, body = ProblemDoc, content_type = "application/problem+json")),
    security(("api_key" = []))
)]
pub async fn list_webhooks(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<WebhookView>>, ApiError> {
    let hooks = state.store.webhooks(caller.authority.id).await?;
    let now = state.clock.now_ms();
    Ok(Json(hooks.into_iter().map(|w| view(w, false, now)).collect()))
}

/// Remove a webhook; events not yet sent to it are dropped.
#[utoipa::path(
    delete, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound("detail-webhook-not-found"))?;
    if state.store.delete_webhook(caller.authority.id, id).await? {
        caller.audit(&state, "webhook.deleted", id, serde_json::json!({})).await?;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("detail-webhook-not-found"))
    }
}

/// Give a webhook a new secret, shown only in this answer. For `webhooks.secret_overlap_hours`
/// (24 by default) every message carries two signatures in `webhook-signature` — one with the
/// new secret, one with the old — so the receiver can switch without refusing a message; then
/// only the new secret signs. Another authority's webhook answers exactly like a missing one.
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Rotated; `secret` is the new one, `previous_secret_expires_at` when the old one stops signing", body = WebhookView),
        (status = 401, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn rotate_webhook_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound("detail-webhook-not-found"))?;
    let now = state.clock.now_ms();
    let overlap = state.settings.webhooks.secret_overlap_hours;
    let webhook = rotate_secret(state.store.as_ref(), caller.authority.id, id, overlap, now)
        .await?
        .ok_or(ApiError::NotFound("detail-webhook-not-found"))?;
    tracing::info!(webhook_id = %webhook.id, "webhook secret rotated");
    caller.audit(&state, "webhook.secret_rotated", webhook.id, serde_json::json!({})).await?;
    Ok(Json(view(webhook, true, now)))
}
