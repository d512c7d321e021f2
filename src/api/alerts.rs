//! `/v1/alerts`: what the authority's caseworkers must act on — an important letter not opened,
//! a citizen who cannot be reached, a delivery that failed for good, a citizen who should be
//! offered exemption from Digital Post. Evidence resolves the first two by itself.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Caller, JsonBody};
use super::model::ProblemDoc;
use super::query::all_flag;
use crate::app::AppState;
use crate::domain::event::format_ms;
use crate::domain::letter::FieldError;
use crate::store::Alert;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/v1/alerts", get(list_alerts)).route("/v1/alerts/{id}/close", post(close_alert))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    pub id: Uuid,
    /// `unopened`, `unreachable`, `delivery_failed` or `offer_exemption`.
    pub kind: String,
    /// `open`, `resolved` (evidence arrived) or `closed` (by a caseworker, with a note).
    pub status: String,
    pub letter_id: Option<Uuid>,
    pub citizen_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub note: Option<String>,
    pub created_at: String,
    pub closed_at: Option<String>,
}

impl From<Alert> for AlertView {
    fn from(a: Alert) -> Self {
        AlertView {
            id: a.id,
            kind: a.kind,
            status: a.status,
            letter_id: a.letter_id,
            citizen_id: a.citizen_id,
            details: a.details.0,
            note: a.note,
            created_at: format_ms(a.created_at),
            closed_at: a.closed_at.map(format_ms),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// What the caseworker did about it.
    pub note: String,
}

/// The authority's alerts, oldest first; open ones unless `all=true`.
#[utoipa::path(
    get, path = "/v1/alerts", tag = "alerts",
    params(("all" = Option<bool>, Query, description = "Include resolved and closed alerts")),
    responses((status = 200, body = Vec<AlertView>), (status = 401, body = ProblemDoc, content_type = "application/problem+json")),
    security(("api_key" = []))
)]
pub async fn list_alerts(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Vec<AlertView>>, ApiError> {
    let all = all_flag(&params).map_err(ApiError::Invalid)?;
    let alerts = state.store.alerts(caller.authority.id, all).await?;
    Ok(Json(alerts.into_iter().map(AlertView::from).collect()))
}

/// Close an open alert with a note on what was done.
#[utoipa::path(
    post, path = "/v1/alerts/{id}/close", tag = "alerts",
    params(("id" = Uuid, Path)),
    request_body = CloseRequest,
    responses(
        (status = 200, body = AlertView),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn close_alert(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody<CloseRequest>,
) -> Result<Json<AlertView>, ApiError> {
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound("detail-alert-not-found"))?;
    let note = body.value.note.trim().to_owned();
    if note.is_empty() || note.chars().count() > 2000 {
        return Err(ApiError::Invalid(vec![FieldError::new("/note", "error-required")]));
    }
    let alert = state
        .store
        .close_alert(caller.authority.id, id, &note, state.clock.now_ms())
        .await?
        .ok_or(ApiError::NotFound("detail-alert-not-found"))?;
    caller.audit(&state, "alert.closed", id, serde_json::json!({ "kind": alert.kind })).await?;
    state.webhook_wake.notify_one();
    Ok(Json(alert.into()))
}
