//! Caseworkers log in with a local account (argon2 password hash) or, where configured, with
//! their organisation's OpenID Connect provider. Failed logins are counted per username and
//! per client address, and the password check takes the same path whether or not the
//! account exists.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::LazyLock;

use super::super::error::WebError;
use super::super::lang::{self, Area};
use super::super::oidc;
use super::super::page::{Page, esc, m};
use super::super::session::{self, Audience, StaffSession, check_csrf, check_login_csrf, login_csrf};
use crate::app::AppState;
use crate::domain::audit_chain::ActorKind;
use crate::domain::secret::random_bytes;
use crate::store::AuditEntry;
use crate::store::staff_pages::Caseworker;

/// Failed logins allowed per username, and per client address, within the window.
const USER_LIMIT: i64 = 5;
const CLIENT_LIMIT: i64 = 30;
const WINDOW_MS: i64 = 15 * 60_000;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("hashing the password: {0}")]
    Hash(argon2::password_hash::Error),
    #[error("a password must have at least 12 characters")]
    TooShort,
}

/// An argon2id PHC string with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < 12 {
        return Err(PasswordError::TooShort);
    }
    let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(PasswordError::Hash)?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt).map_err(PasswordError::Hash)?.to_string())
}

/// Does `password` match the stored hash? (argon2 compares in constant time.)
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Checked against when there is no account, so an unknown username costs the same time.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).ok();
    salt.and_then(|s| Argon2::default().hash_password(b"no account has this password", &s).ok().map(|h| h.to_string()))
        .unwrap_or_default()
});

/// A key for the client's address: the first forwarded hop behind a proxy, else "direct".
fn client_key(headers: &HeaderMap) -> String {
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 64);
    format!("client:{}", forwarded.unwrap_or("direct"))
}

fn user_key(username: &str) -> String {
    format!("user:{}", username.trim().to_lowercase())
}

fn render_form(state: &AppState, headers: &HeaderMap, username: &str, failed: bool) -> Response {
    let lang = lang::choose(None, headers);
    let (token, set_cookie) = login_csrf(state, headers);
    let mut body = String::new();
    if failed {
        body.push_str(&format!(
            "<div class=\"error-summary\" role=\"alert\" tabindex=\"-1\"><h2>{}</h2><p>{}</p></div>",
            m(lang, "staff-login-failed-title"),
            m(lang, "staff-login-failed")
        ));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/staff/login\"><input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
         <label for=\"username\">{user_label}</label>\
         <input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" required value=\"{username}\">\
         <label for=\"password\">{password_label}</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <div class=\"actions\"><button type=\"submit\">{submit}</button></div></form>",
        token = esc(&token),
        user_label = m(lang, "staff-login-username"),
        username = esc(username),
        password_label = m(lang, "staff-login-password"),
        submit = m(lang, "staff-login-submit"),
    ));
    if oidc::is_configured(state, Audience::Staff) {
        body.push_str(&format!(
            "<p><a class=\"button secondary\" href=\"/staff/login/oidc\">{}</a></p>",
            m(lang, "staff-login-oidc")
        ));
    }
    let title = crate::i18n::I18N.message(lang, "staff-login-title", &[]);
    let status = if failed { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    let mut response = Page::new(Area::Staff, lang, title, "/staff/login").body(body).status(status).into_response();
    if let Some(cookie) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    render_form(&state, &headers, "", false)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    check_login_csrf(&headers, &form.csrf)?;
    let now = state.clock.now_ms();
    let (user, client) = (user_key(&form.username), client_key(&headers));
    for (key, limit) in [(&user, USER_LIMIT), (&client, CLIENT_LIMIT)] {
        if state.store.login_failures_since(key, now - WINDOW_MS).await? >= limit {
            return Err(WebError::RateLimited { retry_after_secs: (WINDOW_MS / 1000) as u64 });
        }
    }
    let account = state.store.caseworker_by_username(form.username.trim()).await?;
    let usable = account.filter(|c| c.disabled_at.is_none());
    let hash = usable.as_ref().and_then(|c| c.password_hash.clone());
    let password = form.password.clone();
    let checked = hash.clone().unwrap_or_else(|| DUMMY_HASH.clone());
    // argon2 is deliberately slow: keep it off the async workers
    let matches = tokio::task::spawn_blocking(move || verify_password(&checked, &password))
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    let Some(caseworker) = usable.clone().filter(|_| matches && hash.is_some()) else {
        state.store.record_login_failure(&user, now).await?;
        state.store.record_login_failure(&client, now).await?;
        // the account's id when there is one; what was typed as a username is never kept
        let account = usable.map(|c| (c.id.to_string(), Some(c.authority_id))).unwrap_or_default();
        let entry =
            AuditEntry::new(now, ActorKind::Caseworker, "anonymous", account.1, "caseworker.login_failed", account.0);
        state.store.append_audit(&entry).await?;
        tracing::info!("staff login failed");
        return Ok(render_form(&state, &headers, &form.username, true));
    };
    state.store.clear_login_failures(&user).await?;
    start_session(&state, &caseworker, "password").await
}

/// Log the caseworker in: a fresh session, then the alert list.
pub async fn start_session(state: &AppState, caseworker: &Caseworker, method: &str) -> Result<Response, WebError> {
    let (_, cookie) =
        session::start(state, Audience::Staff, caseworker.id, Some(caseworker.authority_id), method).await?;
    tracing::info!(caseworker_id = %caseworker.id, method, "staff login");
    let entry = AuditEntry::new(
        state.clock.now_ms(),
        ActorKind::Caseworker,
        caseworker.id.to_string(),
        Some(caseworker.authority_id),
        "caseworker.logged_in",
        caseworker.id,
    )
    .details(serde_json::json!({ "method": method }));
    state.store.append_audit(&entry).await?;
    let mut response = Redirect::to("/staff/alerts").into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    staff: StaffSession,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, WebError> {
    check_csrf(&staff.session, &form.csrf)?;
    let cookie = session::end(&state, &headers).await?;
    let mut response = Redirect::to("/staff/login").into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `/staff/login/oidc` and its callback: the organisation's provider says who it is, and the
/// subject must be a caseworker account's `oidc_subject` (accounts are never created here).
pub fn oidc_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/staff/login/oidc", axum::routing::get(oidc_start))
        .route("/staff/login/oidc/callback", axum::routing::get(oidc_callback))
}

async fn oidc_start(State(state): State<AppState>) -> Result<Response, WebError> {
    oidc::start(&state, Audience::Staff, "/staff/alerts").await
}

async fn oidc_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<oidc::CallbackQuery>,
) -> Result<Response, WebError> {
    let login = oidc::finish(&state, Audience::Staff, &headers, query).await?;
    let caseworker = state
        .store
        .caseworker_by_oidc_subject(&login.identity)
        .await?
        .filter(|c| c.disabled_at.is_none())
        .ok_or(WebError::LoginFailed("staff-login-oidc-unknown"))?;
    let mut response = start_session(&state, &caseworker, "oidc").await?;
    response.headers_mut().append(header::SET_COOKIE, oidc::clear_state_cookie(&state));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_a_salt_and_verify() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert_ne!(a, b, "a fresh salt each time");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password(&a, "correct horse battery"));
        assert!(!verify_password(&a, "correct horse battery!"));
        assert!(!verify_password("not a hash", "x"));
        assert!(matches!(hash_password("short"), Err(PasswordError::TooShort)));
        assert!(!DUMMY_HASH.is_empty());
    }
}
