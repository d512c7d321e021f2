//! `/v1/callbacks`: the calls an authority's caseworkers owe citizens, and what came of them.
//! (The caseworker web UI shows the same queue.)

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
use crate::store::{CallLog, CallOutcome, CallbackTask};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/v1/callbacks", get(list_callbacks)).route("/v1/callbacks/{id}/outcome", post(log_call))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackView {
    pub id: Uuid,
    pub letter_id: Uuid,
    pub delivery_id: Option<Uuid>,
    pub phone: String,
    /// What the call is about, in plain words, with the citizen's needs.
    pub summary: String,
    /// `open`, `done` or `failed`.
    pub status: String,
    /// When to call (within office hours).
    pub due_at: String,
    pub no_answers: i64,
    pub minutes_spent: i64,
    pub last_outcome: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<CallbackTask> for CallbackView {
    fn from(t: CallbackTask) -> Self {
        CallbackView {
            id: t.id,
            letter_id: t.letter_id,
            delivery_id: t.delivery_id,
            phone: t.phone,
            summary: t.summary,
            status: t.status,
            due_at: format_ms(t.due_at),
            no_answers: t.no_answers,
            minutes_spent: t.minutes_spent,
            last_outcome: t.last_outcome,
            created_at: format_ms(t.created_at),
            updated_at: format_ms(t.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallRequest {
    /// `reached` (evidence: the citizen got the message), `no_answer` or `wrong_number`.
    pub outcome: CallOutcome,
    /// Minutes the caseworker spent, for the cost of reaching citizens who are not reached digitally.
    #[serde(default)]
    pub minutes: i64,
}

/// Callback tasks, most urgent first. Open ones unless `all=true`.
#[utoipa::path(
    get, path = "/v1/callbacks", tag = "callbacks",
    params(("all" = Option<bool>, Query, description = "Include done and failed tasks")),
    responses((status = 200, body = Vec<CallbackView>), (status = 401, body = ProblemDoc, content_type = "application/problem+json")),
    security(("api_key" = []))
)]
pub async fn list_callbacks(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Vec<CallbackView>>, ApiError> {
    let all = all_flag(&params).map_err(ApiError::Invalid)?;
    let tasks = state.store.callback_tasks(caller.authority.id, all).await?;
    Ok(Json(tasks.into_iter().map(CallbackView::from).collect()))
}

/// Log a call. `reached` settles the phone delivery and is evidence that the citizen got the
/// message; `wrong_number`, or too many calls without an answer, fails it; otherwise the
/// task is due again later, within office hours.
#[utoipa::path(
    post, path = "/v1/callbacks/{id}/outcome", tag = "callbacks",
    params(("id" = Uuid, Path)),
    request_body = CallRequest,
    responses(
        (status = 200, body = CallbackView),
        (status = 404, description = "No open task with this id at this authority", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn log_call(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody<CallRequest>,
) -> Result<Json<CallbackView>, ApiError> {
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound("detail-callback-not-found"))?;
    let request = body.value;
    if !(0..=600).contains(&request.minutes) {
        return Err(ApiError::Invalid(vec![FieldError::new("/minutes", "error-minutes")]));
    }
    let phone = &state.settings.channels.phone;
    let hours = phone.office_hours_of(&caller.authority).map_err(|e| ApiError::Internal(e.into()))?;
    let now = state.clock.now();
    let later = now.saturating_add(jiff::SignedDuration::from_mins(phone.retry_after_minutes)).unwrap_or(now);
    let log = CallLog {
        outcome: request.outcome,
        minutes: request.minutes,
        max_no_answers: phone.max_no_answers,
        retry_at: hours.next_open(later).as_millisecond(),
    };
    let task = state
        .store
        .record_call(caller.authority.id, id, &log, now.as_millisecond())
        .await?
        .ok_or(ApiError::NotFound("detail-callback-not-found"))?;
    let details = serde_json::json!({ "outcome": log.outcome, "minutes": log.minutes });
    caller.audit(&state, "callback.outcome", id, details).await?;
    state.webhook_wake.notify_one();
    Ok(Json(task.into()))
}
