//! `/v1/policies`: an authority's own escalation ladders per kind of letter. Where it has
//! none, the installation's `[policies]` apply.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::routing::{get, put};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

use super::error::ApiError;
use super::extract::{Caller, JsonBody};
use super::model::ProblemDoc;
use super::query::{bad_value, unknown_parameter};
use crate::app::AppState;
use crate::domain::Importance;
use crate::domain::letter::FieldError;
use crate::domain::policy::Policy;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/v1/policies", get(list_policies)).route("/v1/policies/{importance}", put(put_policy))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    pub importance: String,
    /// Empty: every letter of this importance without a policy of its own category.
    pub category: String,
    /// `{"escalations": [{"after": "5 business days", "channels": ["sms", "print"],
    /// "extend_by_business_days": 10}, …], "unreachable_after": "5 business days"}`
    #[schema(value_type = Object)]
    pub policy: serde_json::Value,
}

/// The authority's own policies (the installation's apply to every kind not listed).
#[utoipa::path(
    get, path = "/v1/policies", tag = "policies",
    responses((status = 200, body = Vec<PolicyView>), (status = 401, body = ProblemDoc, content_type = "application/problem+json")),
    security(("api_key" = []))
)]
pub async fn list_policies(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<PolicyView>>, ApiError> {
    let policies = state.store.policies(caller.authority.id).await?;
    Ok(Json(
        policies
            .into_iter()
            .map(|(importance, category, policy)| PolicyView {
                importance,
                category,
                policy: serde_json::to_value(policy).unwrap_or_default(),
            })
            .collect(),
    ))
}

/// Set the ladder for `important` or `normal` letters, optionally for one `category`.
/// An empty `escalations` list with no `unreachable_after` means: deliver, do not chase.
#[utoipa::path(
    put, path = "/v1/policies/{importance}", tag = "policies",
    params(
        ("importance" = String, Path, description = "`important` or `normal`"),
        ("category" = Option<String>, Query, description = "Only letters of this category"),
    ),
    request_body(content = Object, description = "The ladder"),
    responses(
        (status = 200, body = PolicyView),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn put_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(importance): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    body: JsonBody<Policy>,
) -> Result<Json<PolicyView>, ApiError> {
    let importance: Importance = importance.parse().map_err(|_| ApiError::NotFound("detail-route-not-found"))?;
    let mut errors = Vec::new();
    let mut category = String::new();
    for (name, value) in &params {
        match name.as_str() {
            "category"
                if (1..=50).contains(&value.len())
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-') =>
            {
                category = value.clone()
            }
            "category" => errors.push(bad_value(name, "a-z, 0-9, _ and -")),
            _ => errors.push(unknown_parameter(name)),
        }
    }
    let policy = body.value;
    for (i, rung) in policy.escalations.iter().enumerate() {
        if rung.channels.is_empty() {
            errors.push(FieldError::new(format!("/escalations/{i}/channels"), "error-required"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    state.store.set_policy(caller.authority.id, importance, &category, &policy, state.clock.now_ms()).await?;
    let rungs = policy.escalations.len();
    let details = serde_json::json!({ "importance": importance.as_str(), "category": category, "rungs": rungs });
    caller.audit(&state, "policy.changed", caller.authority.id, details).await?;
    Ok(Json(PolicyView {
        importance: importance.as_str().to_owned(),
        category,
        policy: serde_json::to_value(policy).unwrap_or_default(),
    }))
}
