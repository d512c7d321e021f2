//! `/v1/events`: the authority's status feed, in order, resumable from a cursor.

use axum::Json;
use axum::extract::{Query, State};
use axum::routing::get;
use std::collections::HashMap;

use super::error::ApiError;
use super::extract::Caller;
use super::model::{EventPage, EventView, ProblemDoc};
use super::query::{bad_value, page_limit, unknown_parameter};
use crate::app::AppState;
use crate::store::FeedCursor;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/v1/events", get(list_events))
}

/// Every event of the calling authority's letters after a cursor, oldest first.
///
/// Poll with the returned `next_cursor` to see each event exactly once, in order.
#[utoipa::path(
    get, path = "/v1/events", tag = "events",
    params(
        ("after" = Option<String>, Query, description = "`next_cursor` of the previous page; from the start when absent"),
        ("limit" = Option<u32>, Query, description = "Page size, 1–500 (default 100)"),
    ),
    responses(
        (status = 200, body = EventPage),
        (status = 401, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<EventPage>, ApiError> {
    let mut errors = Vec::new();
    let mut after = FeedCursor::default();
    let mut limit = 100u32;
    for (name, value) in &params {
        let bad = |expected: &str| bad_value(name, expected);
        match name.as_str() {
            "after" => match FeedCursor::parse(value) {
                Some(cursor) => after = cursor,
                None => errors.push(bad("cursor")),
            },
            "limit" => match page_limit(name, value, state.settings.api.max_page_size) {
                Ok(n) => limit = n,
                Err(e) => errors.push(e),
            },
            _ => errors.push(unknown_parameter(name)),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let (events, next) = state.store.events_after(caller.authority.id, after, limit).await?;
    Ok(Json(EventPage { events: events.into_iter().map(EventView::from).collect(), next_cursor: next.to_string() }))
}
