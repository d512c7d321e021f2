//! The citizen's personal reading page: `/l/<token>` shows the letter and lists its documents;
//! each view is evidence (`opened`), each document download too (`document_opened`, naming
//! the document). Every view is written to the citizen's access log.
//!
//! Links are sent only inside Digital Post, an authenticated mailbox, so they open directly.
//! Links in SMS or e-mail (which can be forwarded) will first ask for a one-time code; until
//! then notices carry no link at all.

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
        .route("/assets/reading.css", get(stylesheet))
}

/// A verified link: the delivery it was sent with, and its letter.
async fn resolve(state: &AppState, token: &str) -> Result<(DeliveryRecord, LetterRecord), ApiError> {
    let not_found = || ApiError::NotFound("detail-reading-link-not-found");
    let delivery_id = reading::verify(&state.reading_key, token).ok_or_else(not_found)?;
    let delivery = state.store.delivery(delivery_id).await?.ok_or_else(not_found)?;
    // only links from an authenticated mailbox open without a one-time code
    if delivery.channel != ChannelKind::DigitalPost {
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

async fn read_letter(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let (delivery, letter) = resolve(&state, &token).await?;
    let data = serde_json::json!({ "via": "reading_link", "channel": delivery.channel, "delivery_id": delivery.id });
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
    html.push_str("<section class=\"body\">");
    for paragraph in letter.body.split("\n\n").filter(|p| !p.trim().is_empty()) {
        html.push_str(&format!("<p>{}</p>", esc(paragraph.trim()).replace('\n', "<br>")));
    }
    html.push_str("</section>");
    if !documents.is_empty() {
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
) -> Result<Response, ApiError> {
    let (delivery, letter) = resolve(&state, &token).await?;
    let document_id: Uuid = document.parse().map_err(|_| ApiError::NotFound("detail-reading-link-not-found"))?;
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

async fn stylesheet() -> Response {
    let mut response = include_str!("reading.css").into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    response
}
