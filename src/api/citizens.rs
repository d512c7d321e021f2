//! `/v1/citizens`: an authority registers a citizen's contact profile on their behalf (at the
//! counter, on the phone) and reads it. The CPR number travels only in request bodies — never
//! in a URL — and authorities then use the opaque citizen id. Every read and change is logged
//! for the citizen's access log.

use axum::Json;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Caller, JsonBody};
use super::model::ProblemDoc;
use crate::app::AppState;
use crate::domain::event::format_ms;
use crate::domain::letter::{FieldError, PostalAddress};
use crate::domain::routing::{ContactProfile, validate_profile};
use crate::domain::secret::keyed_hash;
use crate::domain::{ChannelKind, Cpr};
use crate::store::{AccessEntry, ProfileUpdate, StoredProfile};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/citizens/profile", put(put_profile))
        .route("/v1/citizens/lookup", post(lookup_citizen))
        .route("/v1/citizens/{id}/profile", get(get_profile))
}

/// Special needs that change how letters are made.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Needs {
    /// Paper letters in large print (at least 16 pt).
    pub large_print: bool,
    /// Plain, easy-to-read language where the authority offers it.
    pub easy_read: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    /// The citizen's CPR number (10 digits). Only ever sent in a body, never in a URL.
    #[schema(example = "0101901234")]
    pub cpr: String,
    pub name: Option<String>,
    pub address: Option<PostalAddress>,
    #[schema(example = "+45 12 34 56 78")]
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Language for letters and notices (BCP 47, e.g. `da`, `en`, `uk`).
    pub language: Option<String>,
    #[serde(default)]
    pub needs: Needs,
    /// How letters should come: `digital_post`, `print` or `phone`.
    pub preferred_channel: Option<ChannelKind>,
    /// Extra notices when a letter comes: `sms`, `email`.
    #[serde(default)]
    pub notice_channels: Vec<ChannelKind>,
    /// Exempt from Digital Post. No reason is asked for or stored.
    #[serde(default)]
    pub exempt_from_digital_post: bool,
    /// Trusted people who hear when an important letter goes unread — only with the citizen's
    /// consent, and only what they are granted (`receives`: `notice` or `copy`).
    #[serde(default)]
    pub helpers: Vec<HelperInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HelperInput {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<PostalAddress>,
    pub receives: crate::domain::routing::HelperScope,
    /// The citizen agreed to this helper and what they receive (required: `true`).
    pub consent: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    pub citizen_id: Uuid,
    pub name: Option<String>,
    pub address: Option<PostalAddress>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    pub needs: Needs,
    pub preferred_channel: Option<ChannelKind>,
    pub notice_channels: Vec<ChannelKind>,
    pub exempt_from_digital_post: bool,
    pub helpers: Vec<crate::domain::routing::Helper>,
    /// The authority that changed the profile last, on the citizen's behalf; absent when the
    /// citizen did.
    pub updated_by: Option<String>,
    pub updated_at: Option<String>,
}

impl From<StoredProfile> for ProfileView {
    fn from(s: StoredProfile) -> Self {
        let p = s.profile;
        ProfileView {
            citizen_id: s.citizen_id,
            name: p.name,
            address: p.address,
            phone: p.phone,
            email: p.email,
            language: p.language,
            needs: Needs { large_print: p.large_print, easy_read: p.easy_read },
            preferred_channel: p.preferred_channel,
            notice_channels: p.notice_channels,
            exempt_from_digital_post: p.exempt_from_digital_post,
            helpers: p.helpers,
            updated_by: s.updated_by,
            updated_at: s.updated_at.map(format_ms),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    #[schema(example = "0101901234")]
    pub cpr: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LookupView {
    pub citizen_id: Uuid,
}

fn parse_cpr(raw: &str) -> Result<Cpr, FieldError> {
    Cpr::parse(raw).map_err(|e| {
        let id = match e {
            crate::domain::cpr::CprError::Format => "error-cpr-format",
            crate::domain::cpr::CprError::Date => "error-cpr-date",
        };
        FieldError::new("/cpr", id)
    })
}

async fn log(state: &AppState, caller: &Caller, citizen_id: Uuid, action: &str) -> Result<(), ApiError> {
    let entry = AccessEntry {
        id: Uuid::now_v7(),
        citizen_id,
        actor_kind: "authority".into(),
        actor_id: Some(caller.authority.id),
        actor_name: caller.authority.name.clone(),
        action: action.into(),
        letter_id: None,
        created_at: state.clock.now_ms(),
    };
    Ok(state.store.log_access(&entry).await?)
}

/// Register or replace a citizen's contact profile on their behalf.
///
/// Takes effect at once for every authority using this gateway: an exemption from Digital
/// Post routes every later letter to the citizen's analog channel. The citizen sees the change
/// as made by your authority.
#[utoipa::path(
    put, path = "/v1/citizens/profile", tag = "citizens",
    request_body = ProfileRequest,
    responses(
        (status = 200, body = ProfileView),
        (status = 401, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn put_profile(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<ProfileRequest>,
) -> Result<Json<ProfileView>, ApiError> {
    let r = body.value;
    let profile = ContactProfile {
        name: r.name.map(|n| n.trim().to_owned()),
        address: r.address,
        phone: r.phone,
        email: r.email,
        language: r.language,
        large_print: r.needs.large_print,
        easy_read: r.needs.easy_read,
        preferred_channel: r.preferred_channel,
        notice_channels: r.notice_channels,
        exempt_from_digital_post: r.exempt_from_digital_post,
        helpers: r
            .helpers
            .iter()
            .map(|h| crate::domain::routing::Helper {
                name: h.name.trim().to_owned(),
                phone: h.phone.clone(),
                email: h.email.clone(),
                address: h.address.clone(),
                receives: h.receives,
            })
            .collect(),
    };
    let cpr = parse_cpr(&r.cpr);
    let mut errors: Vec<FieldError> = cpr.as_ref().err().cloned().into_iter().collect();
    errors.extend(validate_profile(&profile));
    for (i, h) in r.helpers.iter().enumerate() {
        if !h.consent {
            errors.push(FieldError::new(format!("/helpers/{i}/consent"), "error-helper-consent"));
        }
    }
    let cpr = match cpr {
        Ok(cpr) if errors.is_empty() => cpr,
        _ => return Err(ApiError::Invalid(errors)),
    };
    let update = ProfileUpdate {
        cpr: cpr.as_str().to_owned(),
        cpr_hash: keyed_hash(&state.cpr_key, cpr.as_str()),
        preferred_channel: profile.preferred_channel,
        exempt_from_digital_post: profile.exempt_from_digital_post,
        phone: profile.phone,
        email: profile.email,
        language: profile.language,
        large_print: profile.large_print,
        easy_read: profile.easy_read,
        name: profile.name,
        address: profile.address,
        notice_channels: profile.notice_channels,
        helpers: profile.helpers,
        updated_by: Some(caller.authority.id),
    };
    let before = match state.store.citizen_id(&update.cpr_hash).await? {
        Some(id) => state.store.stored_profile(id).await?.map(|s| s.profile),
        None => None,
    };
    let now = state.clock.now_ms();
    let registered = before.is_none();
    let citizen_id = state.store.set_contact_profile(&update, now).await?;
    log(&state, &caller, citizen_id, "update_profile").await?;
    // the citizen sees which authority changed what, on their data page
    if let Some(after) = state.store.stored_profile(citizen_id).await?.map(|s| s.profile) {
        let fields = crate::web::citizen::changed_fields(&before.unwrap_or_default(), &after);
        // field names only, never their values
        let details = serde_json::json!({ "fields": fields, "registered": registered });
        caller.audit(&state, "profile.changed_on_behalf", citizen_id, details).await?;
        if !fields.is_empty() {
            let change = crate::store::ProfileChange {
                id: Uuid::now_v7(),
                citizen_id,
                actor_kind: "authority".into(),
                actor_name: caller.authority.name.clone(),
                authority_id: Some(caller.authority.id),
                fields: fields.join(","),
                created_at: now,
            };
            state.store.record_profile_change(&change).await?;
        }
    }
    let stored = state.store.stored_profile(citizen_id).await?.ok_or(ApiError::NotFound("detail-citizen-not-found"))?;
    Ok(Json(stored.into()))
}

/// The citizen id for a CPR number, to read the profile with.
#[utoipa::path(
    post, path = "/v1/citizens/lookup", tag = "citizens",
    request_body = LookupRequest,
    responses(
        (status = 200, body = LookupView),
        (status = 404, description = "No profile or letter for this citizen yet", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn lookup_citizen(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<LookupRequest>,
) -> Result<Json<LookupView>, ApiError> {
    let cpr = parse_cpr(&body.value.cpr).map_err(|e| ApiError::Invalid(vec![e]))?;
    let found = state.store.citizen_id(&keyed_hash(&state.cpr_key, cpr.as_str())).await?;
    // a lookup by CPR number is kept even when it finds nobody; the number itself never is
    let subject = found.map(|id| id.to_string()).unwrap_or_default();
    caller.audit(&state, "citizen.looked_up", subject, serde_json::json!({ "found": found.is_some() })).await?;
    let citizen_id = found.ok_or(ApiError::NotFound("detail-citizen-not-found"))?;
    Ok(Json(LookupView { citizen_id }))
}

/// A citizen's contact profile. The read is logged for the citizen to see.
#[utoipa::path(
    get, path = "/v1/citizens/{id}/profile", tag = "citizens",
    params(("id" = Uuid, Path, description = "The citizen id (from a profile or lookup answer)")),
    responses(
        (status = 200, body = ProfileView),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn get_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ProfileView>, ApiError> {
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound("detail-citizen-not-found"))?;
    let stored = state.store.stored_profile(id).await?.ok_or(ApiError::NotFound("detail-citizen-not-found"))?;
    log(&state, &caller, id, "read_profile").await?;
    Ok(Json(stored.into()))
}
