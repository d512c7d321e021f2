//! `/v1/settings`: an authority's own settings — for now its office hours for callback calls.

use axum::Json;
use axum::extract::State;
use axum::routing::{get, put};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;
use super::extract::{Caller, JsonBody};
use super::model::ProblemDoc;
use crate::app::AppState;
use crate::domain::letter::FieldError;
use crate::domain::office_hours::OfficeHours;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/settings", get(get_settings))
        .route("/v1/settings/office-hours", put(put_office_hours))
        .route("/v1/settings/closing-days", put(put_closing_days))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsView {
    pub name: String,
    pub cvr: String,
    /// When callback calls are due, e.g. `mon-fri 09:00-15:00`; the installation's when absent.
    pub office_hours: Option<String>,
    pub time_zone: Option<String>,
    /// Days the authority is closed besides public holidays; deadlines and waits skip them.
    #[schema(value_type = Vec<String>)]
    pub closing_days: Vec<jiff::civil::Date>,
}

impl SettingsView {
    fn of(a: crate::store::Authority) -> Self {
        SettingsView {
            name: a.name,
            cvr: a.cvr,
            office_hours: a.office_hours,
            time_zone: a.time_zone,
            closing_days: a.closing_days.0,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosingDaysRequest {
    /// `YYYY-MM-DD` dates; replaces the list.
    #[schema(value_type = Vec<String>)]
    pub closing_days: Vec<jiff::civil::Date>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficeHoursRequest {
    /// `mon-fri 09:00-15:00`, or `null` to use the installation's.
    pub office_hours: Option<String>,
    /// IANA time zone, e.g. `Europe/Copenhagen`.
    pub time_zone: Option<String>,
}

/// The calling authority's settings.
#[utoipa::path(get, path = "/v1/settings", tag = "settings",
    responses((status = 200, body = SettingsView), (status = 401, body = ProblemDoc, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub async fn get_settings(caller: Caller) -> Json<SettingsView> {
    Json(SettingsView::of(caller.authority))
}

/// Set when the authority's caseworkers make callback calls.
#[utoipa::path(put, path = "/v1/settings/office-hours", tag = "settings", request_body = OfficeHoursRequest,
    responses((status = 200, body = SettingsView), (status = 422, body = ProblemDoc, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub async fn put_office_hours(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<OfficeHoursRequest>,
) -> Result<Json<SettingsView>, ApiError> {
    let r = body.value;
    if let Some(spec) = &r.office_hours {
        let tz = r.time_zone.as_deref().unwrap_or(&state.settings.channels.phone.time_zone);
        if OfficeHours::parse(spec, tz).is_err() {
            let pointer = if jiff::tz::TimeZone::get(tz).is_err() { "/time_zone" } else { "/office_hours" };
            return Err(ApiError::Invalid(vec![FieldError::new(pointer, "error-office-hours")]));
        }
    }
    state.store.set_office_hours(caller.authority.id, r.office_hours.as_deref(), r.time_zone.as_deref()).await?;
    let details = serde_json::json!({ "office_hours": r.office_hours, "time_zone": r.time_zone });
    caller.audit(&state, "settings.office_hours_changed", caller.authority.id, details).await?;
    let mut authority = caller.authority;
    authority.office_hours = r.office_hours;
    authority.time_zone = r.time_zone;
    Ok(Json(SettingsView::of(authority)))
}

/// Set the days the authority's offices are closed besides public holidays.
#[utoipa::path(put, path = "/v1/settings/closing-days", tag = "settings", request_body = ClosingDaysRequest,
    responses((status = 200, body = SettingsView), (status = 422, body = ProblemDoc, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub async fn put_closing_days(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<ClosingDaysRequest>,
) -> Result<Json<SettingsView>, ApiError> {
    let mut days = body.value.closing_days;
    days.sort();
    days.dedup();
    if days.len() > 366 {
        return Err(ApiError::Invalid(vec![FieldError::new("/closing_days", "error-too-many-days")]));
    }
    state.store.set_closing_days(caller.authority.id, &days).await?;
    let details = serde_json::json!({ "closing_days": days.len() });
    caller.audit(&state, "settings.closing_days_changed", caller.authority.id, details).await?;
    let mut authority = caller.authority;
    authority.closing_days = sqlx::types::Json(days);
    Ok(Json(SettingsView::of(authority)))
}
