//! The citizen's personal reading page: `/l/<token>` shows the letter and lists its documents;
//! each view is evidence (`opened`), each document download too (`document_opened`, naming
//! the document). Every view is written to the citizen's access log.
//!
//! A link inside Digital Post (an authenticated mailbox) opens directly. A link that arrived by
//! SMS or e-mail can have been forwarded, so it first asks for a one-time code, texted to the
//! citizen's registered phone; the right code opens the letter for half an hour in that browser
//! (a cookie bound to the link). Codes expire, are rate-limited, and every step is logged.

use axum::Form;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use uuid::Uuid;

use super::error::ApiError;
use crate::app::AppState;
use crate::domain::event::EventKind;
use crate::domain::{ChannelKind, reading};
use crate::i18n::{I18N, long_date_str};
use crate::store::{AccessEntry, DeliveryRecord, LetterRecord};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/l/{token}", get(read_letter))
        .route("/l/{token}/documents/{document}", get(download_document))
        .route("/l/{token}/code", axum::routing::post(send_code))
        .route("/l/{token}/verify", axum::routing::post(verify_code))
        .route("/assets/reading.css", get(stylesheet))
}

/// A verified link: the delivery it was sent with, and its letter.
async fn resolve(state: &AppState, token: &str) -> Result<(DeliveryRecord, LetterRecord), ApiError> {
    let not_found = || ApiError::NotFound("detail-reading-link-not-found");
    let delivery_id = reading::verify(&state.reading_key, token).ok_or_else(not_found)?;
    let delivery = state.store.delivery(delivery_id).await?.ok_or_else(not_found)?;
    // links go out in Digital Post, and (behind a one-time code) in SMS and e-mail notices
    if !matches!(delivery.channel, ChannelKind::DigitalPost | ChannelKind::Sms | ChannelKind::Email) {
        return Err(not_found());
    }
    let letter = state.store.letter_for_reading(delivery.letter_id).await?.ok_or_else(not_found)?;
    let expires_ms = state.settings.api.reading_link_days as i64 * 86_400_000;
    if letter.status == crate::domain::LetterStatus::Cancelled || state.clock.now_ms() > letter.created_at + expires_ms
    {
        return Err(not_found());
    }
    Ok((delivery, letter))
}

async fn evidence(
    state: &AppState,
    letter: &LetterRecord,
    kind: EventKind,
    data: serde_json::Value,
    action: &str,
) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    state.store.record_evidence(letter.authority_id, letter.id, kind, data, now).await?;
    let entry = AccessEntry {
        id: Uuid::now_v7(),
        citizen_id: letter.citizen_id,
        actor_kind: "citizen".into(),
        actor_id: None,
        actor_name: "reading_link".into(),
        action: action.into(),
        letter_id: Some(letter.id),
        created_at: now,
    };
    state.store.log_access(&entry).await?;
    state.webhook_wake.notify_one();
    Ok(())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// How long a correct code opens the letter in that browser.
const SESSION_MS: i64 = 30 * 60 * 1000;
/// How long a code works, how many a link may ask for per quarter hour, and how many tries.
const CODE_MS: i64 = 10 * 60 * 1000;
const CODES_PER_QUARTER: i64 = 3;
const CODE_TRIES: i64 = 5;

fn keyed(state: &AppState, purpose: &str, token: &str, extra: &str) -> String {
    crate::domain::secret::keyed_hash(&state.reading_key, &format!("{purpose}:{token}:{extra}"))
}

/// The hidden form field that proves a code request came from our own page.
fn csrf(state: &AppState, token: &str) -> String {
    keyed(state, "csrf", token, "")
}

fn session_cookie_ok(state: &AppState, token: &str, headers: &axum::http::HeaderMap) -> bool {
    let now = state.clock.now_ms();
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix("bb_read="))
        .any(|value| {
            value.split_once('.').is_some_and(|(exp, mac)| {
                exp.parse::<i64>().is_ok_and(|e| e > now)
                    && crate::domain::secret::constant_time_eq(
                        mac.as_bytes(),
                        keyed(state, "session", token, exp).as_bytes(),
                    )
            })
        })
}

fn page(lang: &str, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/assets/reading.css\"></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>\n"
    );
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}

/// The page a forwarded link shows: no content, only the way to get a code.
async fn code_page(
    state: &AppState,
    token: &str,
    letter: &LetterRecord,
    lang: &str,
    notice: Option<&str>,
) -> Result<Response, ApiError> {
    let m = |id: &str, args: &[(&str, String)]| esc(&I18N.message(lang, id, args));
    let phone = state.store.stored_profile(letter.citizen_id).await?.and_then(|p| p.profile.phone);
    let mut body = String::new();
    if let Some(id) = notice {
        body.push_str(&format!("<p role=\"status\"><strong>{}</strong></p>", m(id, &[])));
    }
    match phone.as_deref().and_then(crate::domain::phone::normalise_number) {
        None => body.push_str(&format!("<p>{}</p>", m("reading-code-no-phone", &[]))),
        Some(number) => {
            let last: String = number.chars().skip(number.chars().count().saturating_sub(2)).collect();
            let csrf = csrf(state, token);
            body.push_str(&format!(
                "<p>{explain}</p><form method=\"post\" action=\"/l/{token}/code\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">{send}</button></form>\
                 <form method=\"post\" action=\"/l/{token}/verify\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <p><label for=\"code\">{label}</label><br><input id=\"code\" name=\"code\" inputmode=\"numeric\" \
                 autocomplete=\"one-time-code\" maxlength=\"6\" required></p><button type=\"submit\">{open}</button></form>",
                explain = m("reading-code-explain", &[("last", last)]),
                send = m("reading-code-send", &[]),
                label = m("reading-code-label", &[]),
                open = m("reading-code-open", &[]),
            ));
        }
    }
    Ok(page(lang, &m("reading-code-title", &[]), &body))
}

#[derive(Debug, serde::Deserialize)]
struct CodeForm {
    csrf: String,
    #[serde(default)]
    code: String,
}

fn language_of(headers: &axum::http::HeaderMap) -> &'static str {
    I18N.negotiate(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
}

async fn log_citizen(state: &AppState, letter: &LetterRecord, action: &str) -> Result<(), ApiError> {
    let entry = AccessEntry {
        id: Uuid::now_v7(),
        citizen_id: letter.citizen_id,
        actor_kind: "citizen".into(),
        actor_id: None,
        actor_name: "reading_link".into(),
        action: action.into(),
        letter_id: Some(letter.id),
        created_at: state.clock.now_ms(),
    };
    Ok(state.store.log_access(&entry).await?)
}

/// A form posted to a link: the link must be genuine and the form our own (CSRF token).
async fn resolve_form(
    state: &AppState,
    token: &str,
    form: &CodeForm,
) -> Result<(DeliveryRecord, LetterRecord), ApiError> {
    let found = resolve(state, token).await?;
    if !crate::domain::secret::constant_time_eq(form.csrf.as_bytes(), csrf(state, token).as_bytes()) {
        return Err(ApiError::NotFound("detail-reading-link-not-found"));
    }
    Ok(found)
}

/// `POST /l/<token>/code`: text a one-time code to the registered phone.
async fn send_code(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: axum::http::HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, ApiError> {
    let (delivery, letter) = resolve_form(&state, &token, &form).await?;
    let lang = language_of(&headers);
    let now = state.clock.now_ms();
    if state.store.reading_codes_since(delivery.id, now - 15 * 60 * 1000).await? >= CODES_PER_QUARTER {
        tracing::warn!(delivery_id = %delivery.id, "one-time codes rate-limited");
        return code_page(&state, &token, &letter, lang, Some("reading-code-too-many")).await;
    }
    let Some(to) = state
        .store
        .stored_profile(letter.citizen_id)
        .await?
        .and_then(|p| p.profile.phone)
        .and_then(|p| crate::domain::phone::normalise_number(&p))
    else {
        return code_page(&state, &token, &letter, lang, None).await;
    };
    let code = format!("{:06}", rand::Rng::random_range(&mut rand::rng(), 0..1_000_000u32));
    let sender = state.store.authority(letter.authority_id).await?.map(|a| a.name).unwrap_or_default();
    let text = I18N.message(lang, "reading-code-sms", &[("code", code.clone()), ("sender", sender)]);
    let hash = keyed(&state, "code", &token, &code);
    let sms = serde_json::json!({ "to": to, "text": text });
    state.store.create_reading_code(delivery.id, letter.id, &hash, now + CODE_MS, sms, now).await?;
    state.engine_wake.notify_one();
    log_citizen(&state, &letter, "reading_code_sent").await?;
    code_page(&state, &token, &letter, lang, Some("reading-code-sent")).await
}

/// `POST /l/<token>/verify`: the right code opens the letter in this browser for half an hour.
async fn verify_code(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: axum::http::HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, ApiError> {
    let (delivery, letter) = resolve_form(&state, &token, &form).await?;
    let lang = language_of(&headers);
    let now = state.clock.now_ms();
    let hash = keyed(&state, "code", &token, form.code.trim());
    match state.store.check_reading_code(delivery.id, &hash, CODE_TRIES, now).await? {
        crate::store::CodeCheck::Accepted => {
            log_citizen(&state, &letter, "reading_code_accepted").await?;
            let exp = (now + SESSION_MS).to_string();
            let secure = if state.settings.public_url.starts_with("https://") { "; Secure" } else { "" };
            let cookie = format!(
                "bb_read={exp}.{}; Path=/l/{token}; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
                keyed(&state, "session", &token, &exp),
                SESSION_MS / 1000
            );
            let mut response = (StatusCode::SEE_OTHER, "").into_response();
            let out = response.headers_mut();
            if let (Ok(location), Ok(cookie)) =
                (HeaderValue::from_str(&format!("/l/{token}")), HeaderValue::from_str(&cookie))
            {
                out.insert(header::LOCATION, location);
                out.insert(header::SET_COOKIE, cookie);
            }
            Ok(response)
        }
        crate::store::CodeCheck::Wrong => {
            log_citizen(&state, &letter, "reading_code_wrong").await?;
            code_page(&state, &token, &letter, lang, Some("reading-code-wrong")).await
        }
        crate::store::CodeCheck::NoLiveCode => {
            code_page(&state, &token, &letter, lang, Some("reading-code-expired")).await
        }
    }
}

async fn read_letter(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let (delivery, letter) = resolve(&state, &token).await?;
    let with_code = delivery.channel != ChannelKind::DigitalPost;
    if with_code && !session_cookie_ok(&state, &token, request.headers()) {
        let lang = language_of(request.headers());
        return code_page(&state, &token, &letter, lang, None).await;
    }
    let via = if with_code { "reading_link_code" } else { "reading_link" };
    let data = serde_json::json!({ "via": via, "channel": delivery.channel, "delivery_id": delivery.id });
    evidence(&state, &letter, EventKind::Opened, data, "read_letter").await?;

    let accept = request.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let lang = I18N.negotiate(accept);
    let m = |id: &str, args: &[(&str, String)]| esc(&I18N.message(lang, id, args));
    let authority = state.store.authority(letter.authority_id).await?.map(|a| a.name).unwrap_or_default();
    let documents = state.store.documents(letter.id).await?;
    let mut html = format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{subject}</title><link rel=\"stylesheet\" href=\"/assets/reading.css\"></head>\
         <body><header><p>{from}</p></header><main><h1>{subject}</h1>",
        subject = esc(&letter.subject),
        from = m("reading-from", &[("sender", authority.clone())]),
    );
    if let Some(deadline) = &letter.deadline {
        let id = if letter.deadline_extended() { "reading-deadline-extended" } else { "reading-deadline" };
        html.push_str(&format!(
            "<section class=\"todo\" aria-labelledby=\"todo\"><h2 id=\"todo\">{}</h2><p>{}</p></section>",
            m("reading-what-to-do", &[]),
            m(id, &[("date", long_date_str(lang, deadline))])
        ));
    }
    if let Some(deleted_at) = letter.content_deleted_at {
        // the retention rule took the content; say so plainly instead of showing an empty letter
        let date = local_date(&state, deleted_at);
        let days = state.settings.retention.letter_content_days.to_string();
        html.push_str(&format!(
            "<p role=\"status\"><strong>{}</strong></p>",
            m("reading-content-deleted", &[("date", long_date_str(lang, &date)), ("days", days)])
        ));
    } else {
        html.push_str("<section class=\"body\">");
        for paragraph in letter.body.split("\n\n").filter(|p| !p.trim().is_empty()) {
            html.push_str(&format!("<p>{}</p>", esc(paragraph.trim()).replace('\n', "<br>")));
        }
        html.push_str("</section>");
    }
    if !documents.is_empty() && letter.content_deleted_at.is_none() {
        html.push_str(&format!(
            "<section aria-labelledby=\"docs\"><h2 id=\"docs\">{}</h2><ul>",
            m("reading-documents", &[])
        ));
        for d in &documents {
            html.push_str(&format!(
                "<li><a href=\"/l/{token}/documents/{}\">{}</a> ({} kB)</li>",
                d.id,
                esc(&d.filename),
                (d.size + 1023) / 1024
            ));
        }
        html.push_str("</ul></section>");
    }
    let contact = letter.contact.summary();
    if !contact.is_empty() {
        html.push_str(&format!(
            "<footer><p>{}</p></footer>",
            m("reading-contact", &[("sender", authority), ("contact", contact)])
        ));
    }
    html.push_str("</main></body></html>\n");
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    // a personal page: never cached by a shared proxy, never framed, no referrer leaks the token
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    Ok(response)
}

async fn download_document(
    State(state): State<AppState>,
    Path((token, document)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let (delivery, letter) = resolve(&state, &token).await?;
    if delivery.channel != ChannelKind::DigitalPost && !session_cookie_ok(&state, &token, &headers) {
        return Err(ApiError::NotFound("detail-reading-link-not-found"));
    }
    let document_id: Uuid = document.parse().map_err(|_| ApiError::NotFound("detail-reading-link-not-found"))?;
    if letter.content_deleted_at.is_some() {
        let listed = state.store.documents(letter.id).await?.iter().any(|d| d.id == document_id);
        return Err(if listed {
            ApiError::Gone("detail-content-deleted")
        } else {
            ApiError::NotFound("detail-reading-link-not-found")
        });
    }
    let doc = state
        .store
        .document(letter.id, document_id)
        .await?
        .ok_or(ApiError::NotFound("detail-reading-link-not-found"))?;
    let data = serde_json::json!({
        "via": "reading_link", "delivery_id": delivery.id, "document_id": doc.id, "filename": doc.filename,
    });
    evidence(&state, &letter, EventKind::DocumentOpened, data, "read_document").await?;
    let disposition = format!("attachment; filename=\"{}\"", doc.filename.replace(['"', '\\'], "_"));
    let mut response = (StatusCode::OK, doc.content).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The installation's local date (`YYYY-MM-DD`) of a stored moment.
fn local_date(state: &AppState, ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(state.calendar.time_zone().clone()).date().to_string())
        .unwrap_or_default()
}

async fn stylesheet() -> Response {
    let mut response = include_str!("reading.css").into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    response
}
