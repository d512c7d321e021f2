//! Logged-in sessions for citizens and caseworkers: a random cookie (only its hash is
//! stored), an idle timeout and a maximum age, and a CSRF token that every form carries.
//! Before login, forms are protected by a double-submit cookie instead.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::error::WebError;
use crate::app::{App, AppState};
use crate::domain::secret::{constant_time_eq, random_bytes, sha256_hex};
use crate::store::SessionRecord;

pub const SESSION_COOKIE: &str = "bb_session";
const LOGIN_CSRF_COOKIE: &str = "bb_login_csrf";

/// Who a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Citizen,
    Staff,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Citizen => "citizen",
            Audience::Staff => "staff",
        }
    }

    pub fn login_path(self) -> &'static str {
        match self {
            Audience::Citizen => "/citizen/login",
            Audience::Staff => "/staff/login",
        }
    }
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// A cookie header value with the attributes every Budbringer cookie has.
pub fn cookie(app: &App, name: &str, value: &str, max_age_secs: Option<i64>) -> HeaderValue {
    let secure = if app.settings.secure_cookies() { "; Secure" } else { "" };
    let age = max_age_secs.map(|s| format!("; Max-Age={s}")).unwrap_or_default();
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{age}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("bb_invalid=; Max-Age=0"))
}

/// The value of a cookie in the request, if present.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// Start a session after a successful login: a fresh id (never one the browser brought).
/// Returns the session and the `Set-Cookie` value.
pub async fn start(
    app: &App,
    audience: Audience,
    subject_id: Uuid,
    authority_id: Option<Uuid>,
    login_method: &str,
) -> Result<(SessionRecord, HeaderValue), WebError> {
    let token = random_token();
    let now = app.clock.now_ms();
    let record = SessionRecord {
        id_hash: sha256_hex(token.as_bytes()),
        kind: audience.as_str().to_owned(),
        subject_id,
        authority_id,
        login_method: login_method.to_owned(),
        csrf_token: random_token(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + i64::from(app.settings.web.session_max_hours) * 3_600_000,
    };
    app.store.create_session(&record).await?;
    Ok((record, cookie(app, SESSION_COOKIE, &token, None)))
}

/// End the session the request carries (if any); returns the cookie that clears it.
pub async fn end(app: &App, headers: &HeaderMap) -> Result<HeaderValue, WebError> {
    if let Some(token) = cookie_value(headers, SESSION_COOKIE) {
        app.store.delete_session(&sha256_hex(token.as_bytes())).await?;
    }
    Ok(cookie(app, SESSION_COOKIE, "", Some(0)))
}

/// The live session of `audience` the request carries, touched so it stays alive.
pub async fn current(app: &App, headers: &HeaderMap, audience: Audience) -> Result<Option<SessionRecord>, WebError> {
    let Some(token) = cookie_value(headers, SESSION_COOKIE) else { return Ok(None) };
    let now = app.clock.now_ms();
    let idle_since = now - i64::from(app.settings.web.session_idle_minutes) * 60_000;
    let id_hash = sha256_hex(token.as_bytes());
    let Some(session) = app.store.live_session(&id_hash, now, idle_since).await? else { return Ok(None) };
    if session.kind != audience.as_str() {
        return Ok(None);
    }
    // one write a minute at most: enough for an idle timeout counted in minutes
    if now - session.last_seen_at > 60_000 {
        app.store.touch_session(&id_hash, now).await?;
    }
    Ok(Some(session))
}

/// A form's CSRF token must be the session's.
pub fn check_csrf(session: &SessionRecord, given: &str) -> Result<(), WebError> {
    if constant_time_eq(session.csrf_token.as_bytes(), given.as_bytes()) { Ok(()) } else { Err(WebError::Csrf) }
}

/// A logged-in citizen.
#[derive(Debug, Clone)]
pub struct CitizenSession {
    pub citizen_id: Uuid,
    pub session: SessionRecord,
}

/// A logged-in caseworker of one authority.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub caseworker_id: Uuid,
    pub authority_id: Uuid,
    pub session: SessionRecord,
}

impl FromRequestParts<AppState> for CitizenSession {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match current(state, &parts.headers, Audience::Citizen).await? {
            Some(session) => Ok(CitizenSession { citizen_id: session.subject_id, session }),
            None => Err(WebError::LoginRequired { login_path: Audience::Citizen.login_path() }),
        }
    }
}

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = current(state, &parts.headers, Audience::Staff).await?;
        match session.and_then(|s| s.authority_id.map(|a| (a, s))) {
            Some((authority_id, session)) => {
                Ok(StaffSession { caseworker_id: session.subject_id, authority_id, session })
            }
            None => Err(WebError::LoginRequired { login_path: Audience::Staff.login_path() }),
        }
    }
}

/// The token a login form carries before there is a session, and the cookie to set when the
/// browser has none yet (double submit: another site can neither read nor set it).
pub fn login_csrf(app: &App, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match cookie_value(headers, LOGIN_CSRF_COOKIE).filter(|v| v.len() >= 32) {
        Some(existing) => (existing.to_owned(), None),
        None => {
            let token = random_token();
            let set = cookie(app, LOGIN_CSRF_COOKIE, &token, None);
            (token, Some(set))
        }
    }
}

pub fn check_login_csrf(headers: &HeaderMap, given: &str) -> Result<(), WebError> {
    match cookie_value(headers, LOGIN_CSRF_COOKIE) {
        Some(expected) if !given.is_empty() && constant_time_eq(expected.as_bytes(), given.as_bytes()) => Ok(()),
        _ => Err(WebError::Csrf),
    }
}
