//! `/v1/webhooks`: where an authority wants its events pushed, signed per Standard Webhooks.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Caller, JsonBody};
use super::model::{CreateWebhookRequest, ProblemDoc, WebhookView};
use crate::app::AppState;
use crate::domain::event::format_ms;
use crate::domain::letter::FieldError;
use crate::domain::secret;
use crate::store::Webhook;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/webhooks", get(list_webhooks).post(create_webhook))
        .route("/v1/webhooks/{id}", delete(delete_webhook))
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
    let webhook = Webhook {
        id: Uuid::now_v7(),
        authority_id: caller.authority.id,
        url: request.url,
        secret: request.secret.unwrap_or_else(secret::new_webhook_secret),
        created_at: state.clock.now_ms(),
    };
    state.store.add_webhook(&webhook).await?;
    Ok((
        StatusCode::CREATED,
        Json(WebhookView {
            id: webhook.id,
            url: webhook.url,
            secret: Some(webhook.secret),
            created_at: format_ms(webhook.created_at),
        }),
    ))
}

/// The calling authority's webhooks (without their secrets).
#[utoipa::path(
    get, path = "/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = Vec<WebhookView>), (status = 401, body = ProblemDoc, content_type = "application/problem+json")),
    security(("api_key" = []))
)]
pub async fn list_webhooks(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<WebhookView>>, ApiError> {
    let hooks = state.store.webhooks(caller.authority.id).await?;
    Ok(Json(
        hooks
            .into_iter()
            .map(|w| WebhookView { id: w.id, url: w.url, secret: None, created_at: format_ms(w.created_at) })
            .collect(),
    ))
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
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("detail-webhook-not-found"))
    }
}
