//! My letters: the list (newest first, unread marked), one letter (evidence `opened`), its
//! documents (evidence `document_opened`), a written reply and "call me". Only the session's
//! own letters: another citizen's letter is "not found", exactly like a missing one.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::{Ctx, Problems, date_words};
use crate::app::AppState;
use crate::domain::{EventKind, LetterStatus};
use crate::i18n::{DEFAULT_LANGUAGE, I18N};
use crate::store::{LetterRecord, NewCallback, Reply};
use crate::web::error::WebError;
use crate::web::page::esc;
use crate::web::session::CitizenSession;

/// How long a written reply may be (as an SMS reply).
const REPLY_MAX: usize = 2000;

/// `GET /citizen` and `/citizen/letters`.
pub async fn list(
    State(state): State<AppState>,
    citizen: CitizenSession,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let ctx = Ctx::load(&state, citizen, &headers).await?;
    let letters = state.store.citizen_letters(ctx.id()).await?;
    let mut body = String::new();
    if letters.is_empty() {
        body.push_str(&format!("<p>{}</p>", ctx.m("citizen-letters-none")));
    } else {
        let unread = letters.iter().filter(|l| !l.read).count();
        body.push_str(&format!("<p>{}</p>", ctx.ma("citizen-letters-unread-count", &[("count", unread.to_string())])));
        body.push_str("<ul class=\"letters\">");
        for l in &letters {
            let marker = if l.read {
                String::new()
            } else {
                format!("<strong class=\"unread\">{}</strong> ", ctx.m("citizen-letters-unread"))
            };
            let deadline = l
                .letter
                .deadline
                .as_deref()
                .map(|d| format!("<br>{}", ctx.ma("citizen-letters-deadline", &[("date", date_words(ctx.lang, d))])))
                .unwrap_or_default();
            body.push_str(&format!(
                "<li class=\"{class}\">{marker}<a href=\"/citizen/letters/{id}\">{subject}</a><br>\
                 <span class=\"meta\">{from}</span>{deadline}</li>",
                class = if l.read { "read" } else { "unread" },
                id = l.letter.id,
                subject = esc(&l.letter.subject),
                from = ctx.ma(
                    "citizen-letters-from",
                    &[("sender", l.sender.clone()), ("date", super::when(l.letter.created_at))]
                ),
            ));
        }
        body.push_str("</ul>");
    }
    let title = I18N.message(ctx.lang, "citizen-letters-title", &[]);
    Ok(ctx.page(title, "/citizen/letters", body).into_response())
}

/// The session citizen's letter, or "not found".
async fn own_letter(state: &AppState, ctx: &Ctx, id: &str) -> Result<LetterRecord, WebError> {
    let id: Uuid = id.parse().map_err(|_| WebError::NotFound)?;
    let letter = state.store.letter_for_reading(id).await?.ok_or(WebError::NotFound)?;
    if letter.citizen_id != ctx.id() || letter.status == LetterStatus::Cancelled {
        return Err(WebError::NotFound);
    }
    Ok(letter)
}

async fn evidence(
    state: &AppState,
    letter: &LetterRecord,
    kind: EventKind,
    data: serde_json::Value,
) -> Result<(), WebError> {
    state.store.record_evidence(letter.authority_id, letter.id, kind, data, state.clock.now_ms()).await?;
    state.webhook_wake.notify_one();
    Ok(())
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// `GET /citizen/letters/{id}`: reading is evidence, and is in the access log.
pub async fn read(
    State(state): State<AppState>,
    citizen: CitizenSession,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    let ctx = Ctx::load(&state, citizen, &headers).await?;
    let letter = own_letter(&state, &ctx, &id).await?;
    evidence(&state, &letter, EventKind::Opened, serde_json::json!({ "via": "citizen_pages" })).await?;
    ctx.log(&state, "read_letter", Some(letter.id)).await?;
    let notice = match done.done.as_str() {
        "reply" => Some("citizen-reply-sent"),
        "callback" => Some("citizen-callback-sent"),
        _ => None,
    };
    letter_page(&state, &ctx, &letter, notice, "", &Problems::default(), StatusCode::OK).await
}

async fn letter_page(
    state: &AppState,
    ctx: &Ctx,
    letter: &LetterRecord,
    notice: Option<&str>,
    reply: &str,
    problems: &Problems,
    status: StatusCode,
) -> Result<Response, WebError> {
    let sender = state.store.authority(letter.authority_id).await?.map(|a| a.name).unwrap_or_default();
    let documents = state.store.documents(letter.id).await?;
    let mut body = problems.summary(ctx.lang);
    if let Some(id) = notice {
        body.push_str(&format!("<p class=\"notice\" role=\"status\">{}</p>", ctx.m(id)));
    }
    body.push_str(&format!(
        "<p class=\"meta\">{}</p>",
        ctx.ma("citizen-letters-from", &[("sender", sender.clone()), ("date", super::when(letter.created_at))])
    ));
    // "what must I do, by when": the deadline in force, which escalation may have extended
    body.push_str(&format!(
        "<section class=\"todo\" aria-labelledby=\"todo\"><h2 id=\"todo\">{}</h2>",
        ctx.m("citizen-todo-title")
    ));
    match &letter.deadline {
        Some(deadline) => {
            let id =
                if letter.deadline_extended() { "citizen-todo-deadline-extended" } else { "citizen-todo-deadline" };
            body.push_str(&format!("<p>{}</p>", ctx.ma(id, &[("date", date_words(ctx.lang, deadline))])));
        }
        None => body.push_str(&format!("<p>{}</p>", ctx.m("citizen-todo-none"))),
    }
    body.push_str("</section>");
    body.push_str(&format!("<section aria-labelledby=\"text\"><h2 id=\"text\">{}</h2>", ctx.m("citizen-letter-text")));
    match letter.content_deleted_at {
        // the retention rule took the text and the documents: say so plainly, and when
        Some(deleted_at) => {
            let args = [
                ("date", date_words(ctx.lang, &copenhagen_date(deleted_at))),
                ("days", state.settings.retention.letter_content_days.to_string()),
            ];
            body.push_str(&format!("<p class=\"notice\">{}</p>", ctx.ma("citizen-letter-content-deleted", &args)));
        }
        None => {
            for paragraph in letter.body.split("\n\n").filter(|p| !p.trim().is_empty()) {
                body.push_str(&format!("<p>{}</p>", esc(paragraph.trim()).replace('\n', "<br>")));
            }
        }
    }
    body.push_str("</section>");
    if !documents.is_empty() && letter.content_deleted_at.is_none() {
        body.push_str(&format!(
            "<section aria-labelledby=\"docs\"><h2 id=\"docs\">{}</h2><ul>",
            ctx.m("citizen-letter-documents")
        ));
        for d in &documents {
            body.push_str(&format!(
                "<li><a href=\"/citizen/letters/{}/documents/{}\">{}</a> {}</li>",
                letter.id,
                d.id,
                esc(&d.filename),
                ctx.ma("citizen-letter-document-size", &[("kb", ((d.size + 1023) / 1024).to_string())])
            ));
        }
        body.push_str("</ul></section>");
    }
    let contact = letter.contact.summary();
    if !contact.is_empty() {
        body.push_str(&format!(
            "<p>{}</p>",
            ctx.ma("citizen-letter-contact", &[("sender", sender.clone()), ("contact", contact)])
        ));
    }

    // answer in writing, or ask to be called
    let (attrs, error) = problems.field(ctx.lang, "reply", Some("citizen-reply-hint"));
    body.push_str(&format!(
        "<section aria-labelledby=\"answer\"><h2 id=\"answer\">{title}</h2>\
         <form method=\"post\" action=\"/citizen/letters/{id}/reply\">{csrf}\
         <label for=\"reply\">{label}</label><p class=\"hint\" id=\"reply-hint\">{hint}</p>{error}\
         <textarea id=\"reply\" name=\"reply\" rows=\"5\"{attrs}>{value}</textarea>\
         <p><button type=\"submit\">{send}</button></p></form>",
        title = ctx.m("citizen-reply-title"),
        id = letter.id,
        csrf = ctx.csrf_field(),
        label = ctx.m("citizen-reply-label"),
        hint = ctx.m("citizen-reply-hint"),
        value = esc(reply),
        send = ctx.m("citizen-reply-send"),
    ));
    let phone = ctx.profile.as_ref().and_then(|p| p.profile.phone.clone());
    match phone {
        Some(phone) => body.push_str(&format!(
            "<h3>{title}</h3><p>{explain}</p><form method=\"post\" action=\"/citizen/letters/{id}/callback\">{csrf}\
             <p><button type=\"submit\" class=\"secondary\">{button}</button></p></form>",
            title = ctx.m("citizen-callback-title"),
            explain = ctx.ma("citizen-callback-explain", &[("phone", phone)]),
            id = letter.id,
            csrf = ctx.csrf_field(),
            button = ctx.m("citizen-callback-button"),
        )),
        None => body.push_str(&format!(
            "<h3>{}</h3><p>{} <a href=\"/citizen/contact\">{}</a></p>",
            ctx.m("citizen-callback-title"),
            ctx.m("citizen-callback-no-phone"),
            ctx.m("citizen-nav-contact")
        )),
    }
    body.push_str("</section>");
    body.push_str(&format!("<p><a href=\"/citizen/letters\">{}</a></p>", ctx.m("citizen-letters-back")));
    let path = format!("/citizen/letters/{}", letter.id);
    Ok(ctx.page(letter.subject.clone(), &path, body).status(status).into_response())
}

/// `GET /citizen/letters/{id}/documents/{document}`: evidence `document_opened`.
pub async fn document(
    State(state): State<AppState>,
    citizen: CitizenSession,
    headers: HeaderMap,
    Path((id, document)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let ctx = Ctx::load(&state, citizen, &headers).await?;
    let letter = own_letter(&state, &ctx, &id).await?;
    let document_id: Uuid = document.parse().map_err(|_| WebError::NotFound)?;
    if letter.content_deleted_at.is_some() {
        let listed = state.store.documents(letter.id).await?.iter().any(|d| d.id == document_id);
        return Err(if listed { WebError::Gone } else { WebError::NotFound });
    }
    let doc = state.store.document(letter.id, document_id).await?.ok_or(WebError::NotFound)?;
    let data = serde_json::json!({ "via": "citizen_pages", "document_id": doc.id, "filename": doc.filename });
    evidence(&state, &letter, EventKind::DocumentOpened, data).await?;
    ctx.log(&state, "read_document", Some(letter.id)).await?;
    let disposition = format!("attachment; filename=\"{}\"", doc.filename.replace(['"', '\\', '\r', '\n'], "_"));
    let mut response = (StatusCode::OK, doc.content).into_response();
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        out.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The date (`YYYY-MM-DD`) of a stored moment in Denmark, where the citizens' pages speak.
fn copenhagen_date(ms: i64) -> String {
    let ts = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let tz = jiff::tz::TimeZone::get("Europe/Copenhagen").unwrap_or(jiff::tz::TimeZone::UTC);
    ts.to_zoned(tz).date().to_string()
}

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reply: String,
}

/// `POST /citizen/letters/{id}/reply`: like an SMS reply, on the letter's timeline.
pub async fn reply(
    State(state): State<AppState>,
    citizen: CitizenSession,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ReplyForm>,
) -> Result<Response, WebError> {
    let ctx = Ctx::load(&state, citizen, &headers).await?;
    ctx.check_csrf(&form.csrf)?;
    let letter = own_letter(&state, &ctx, &id).await?;
    let text = form.reply.trim();
    let mut problems = Problems::default();
    if text.is_empty() {
        problems.add("reply", "citizen-error-reply-empty");
    } else if text.chars().count() > REPLY_MAX {
        problems.add("reply", "citizen-error-reply-long");
    }
    if !problems.is_empty() {
        return letter_page(&state, &ctx, &letter, None, &form.reply, &problems, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    }
    let reply = Reply::Other(text.to_owned());
    state.store.record_web_reply(letter.authority_id, letter.id, &reply, state.clock.now_ms()).await?;
    state.webhook_wake.notify_one();
    ctx.log(&state, "reply_sent", Some(letter.id)).await?;
    Ok(Redirect::to(&format!("/citizen/letters/{}?done=reply", letter.id)).into_response())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /citizen/letters/{id}/callback`: "Ring mig op" — a callback task for a caseworker,
/// due when the authority's phones next open; it is evidence, as the SMS reply RING is.
pub async fn callback(
    State(state): State<AppState>,
    citizen: CitizenSession,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let ctx = Ctx::load(&state, citizen, &headers).await?;
    ctx.check_csrf(&form.csrf)?;
    let letter = own_letter(&state, &ctx, &id).await?;
    let Some(phone) = ctx.profile.as_ref().and_then(|p| p.profile.phone.clone()) else {
        return Ok(Redirect::to("/citizen/contact").into_response());
    };
    let authority = state.store.authority(letter.authority_id).await?;
    let settings = &state.settings.channels.phone;
    let hours = match &authority {
        Some(a) => settings.office_hours_of(a),
        None => settings.office_hours(),
    }
    .map_err(|e| WebError::Internal(e.into()))?;
    let sender = authority.map(|a| a.name).unwrap_or_default();
    let now = state.clock.now();
    // for the caseworker, in the product's default language
    let args = [("sender", sender), ("subject", letter.subject.clone())];
    let task = NewCallback {
        id: Uuid::now_v7(),
        phone,
        summary: I18N.message(DEFAULT_LANGUAGE, "citizen-callback-summary", &args),
        due_at: hours.next_open(now).as_millisecond(),
    };
    state
        .store
        .record_web_reply(letter.authority_id, letter.id, &Reply::CallbackRequest(task), now.as_millisecond())
        .await?;
    state.webhook_wake.notify_one();
    ctx.log(&state, "callback_requested", Some(letter.id)).await?;
    Ok(Redirect::to(&format!("/citizen/letters/{}?done=callback", letter.id)).into_response())
}
