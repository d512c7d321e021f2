//! What you know about me: the contact profile, every letter and every contact attempt on any
//! channel, the access log (who read what, when) and the profile changes with who made them —
//! on a page, and to download as JSON and as an accessible (tagged) PDF. Each view and download
//! is itself in the access log.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Ctx, date_words, when, word};
use crate::app::AppState;
use crate::i18n::I18N;
use crate::store::citizen_pages::CitizenLetter;
use crate::store::{AccessEntry, DeliveryRecord, ProfileChange};
use crate::web::error::WebError;
use crate::web::page::esc;
use crate::web::session::CitizenSession;

/// Everything about one citizen, read once for the page and the downloads.
struct Everything {
    letters: Vec<CitizenLetter>,
    deliveries: Vec<DeliveryRecord>,
    access: Vec<AccessEntry>,
    changes: Vec<ProfileChange>,
}

async fn everything(state: &AppState, ctx: &Ctx) -> Result<Everything, WebError> {
    let id = ctx.id();
    let mut access = state.store.access_log(id).await?;
    access.reverse(); // newest first, like the rest
    Ok(Everything {
        letters: state.store.citizen_letters(id).await?,
        deliveries: state.store.citizen_deliveries(id).await?,
        access,
        changes: state.store.profile_changes(id).await?,
    })
}

fn actor(lang: &str, kind: &str, name: &str) -> String {
    match kind {
        "citizen" => crate::web::page::m(lang, "citizen-actor-you"),
        _ if name.is_empty() => word(lang, "citizen-actor-", kind),
        _ => format!("{} ({})", esc(name), word(lang, "citizen-actor-", kind)),
    }
}

fn fields_words(lang: &str, fields: &str) -> String {
    fields
        .split(',')
        .filter(|f| !f.is_empty())
        .map(|f| word(lang, "citizen-field-", f.split(':').next().unwrap_or(f)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn subject_of(all: &Everything, letter_id: Option<uuid::Uuid>) -> String {
    letter_id
        .and_then(|id| all.letters.iter().find(|l| l.letter.id == id))
        .map(|l| esc(&l.letter.subject))
        .unwrap_or_default()
}

fn table(ctx: &Ctx, id: &str, caption: &str, heads: &[&str], rows: Vec<Vec<String>>) -> String {
    if rows.is_empty() {
        return format!("<p>{}</p>", ctx.m("citizen-data-empty"));
    }
    let mut html = format!(
        "<div class=\"table-wrap\" role=\"region\" aria-labelledby=\"{id}-caption\" tabindex=\"0\"><table>\
         <caption id=\"{id}-caption\">{}</caption><thead><tr>",
        ctx.m(caption)
    );
    for h in heads {
        html.push_str(&format!("<th scope=\"col\">{}</th>", ctx.m(h)));
    }
    html.push_str("</tr></thead><tbody>");
    for row in rows {
        html.push_str("<tr>");
        for cell in row {
            html.push_str(&format!("<td>{cell}</td>"));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div>");
    html
}

/// `GET /citizen/data`.
pub async fn show(
    State(state): State<AppState>,
    citizen: CitizenSession,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let ctx = Ctx::load(&state, citizen, &headers).await?;
    ctx.log(&state, "read_data", None).await?;
    let all = everything(&state, &ctx).await?;
    let lang = ctx.lang;
    let mut body = format!(
        "<p>{}</p><ul class=\"actions plain\"><li><a class=\"button\" href=\"/citizen/data.json\" download>{}</a></li>\
         <li><a class=\"button\" href=\"/citizen/data.pdf\" download>{}</a></li></ul>",
        ctx.m("citizen-data-intro"),
        ctx.m("citizen-data-json"),
        ctx.m("citizen-data-pdf"),
    );

    body.push_str(&format!("<h2>{}</h2><dl class=\"facts\">", ctx.m("citizen-data-profile")));
    let profile = ctx.profile.as_ref().map(|p| p.profile.clone()).unwrap_or_default();
    let yes_no = |b: bool| ctx.m(if b { "citizen-yes" } else { "citizen-no" });
    let none = ctx.m("citizen-data-none");
    let facts = [
        ("citizen-field-name", profile.name.clone().map(|s| esc(&s)).unwrap_or_else(|| none.clone())),
        ("citizen-field-phone", profile.phone.clone().map(|s| esc(&s)).unwrap_or_else(|| none.clone())),
        ("citizen-field-email", profile.email.clone().map(|s| esc(&s)).unwrap_or_else(|| none.clone())),
        (
            "citizen-field-preferred_channel",
            profile
                .preferred_channel
                .map(|c| word(lang, "citizen-channel-", c.as_str()))
                .unwrap_or_else(|| word(lang, "citizen-channel-", "digital_post")),
        ),
        (
            "citizen-field-notice_channels",
            if profile.notice_channels.is_empty() {
                none.clone()
            } else {
                profile
                    .notice_channels
                    .iter()
                    .map(|c| word(lang, "citizen-channel-", c.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ),
        ("citizen-field-exempt_from_digital_post", yes_no(profile.exempt_from_digital_post)),
        ("citizen-field-large_print", yes_no(profile.large_print)),
        ("citizen-field-easy_read", yes_no(profile.easy_read)),
        ("citizen-field-language", profile.language.clone().map(|s| esc(&s)).unwrap_or_else(|| none.clone())),
        ("citizen-field-helpers", profile.helpers.iter().map(|h| esc(&h.name)).collect::<Vec<_>>().join(", ")),
    ];
    for (label, value) in facts {
        let value = if value.is_empty() { none.clone() } else { value };
        body.push_str(&format!("<dt>{}</dt><dd>{value}</dd>", ctx.m(label)));
    }
    body.push_str("</dl>");

    body.push_str(&format!("<h2>{}</h2>", ctx.m("citizen-data-letters")));
    let rows = all
        .letters
        .iter()
        .map(|l| {
            vec![
                when(l.letter.created_at),
                esc(&l.sender),
                format!("<a href=\"/citizen/letters/{}\">{}</a>", l.letter.id, esc(&l.letter.subject)),
                l.letter.deadline.as_deref().map(|d| date_words(lang, d)).unwrap_or_default(),
            ]
        })
        .collect();
    body.push_str(&table(
        &ctx,
        "letters",
        "citizen-data-letters",
        &["citizen-col-when", "citizen-col-from", "citizen-col-subject", "citizen-col-deadline"],
        rows,
    ));

    body.push_str(&format!("<h2>{}</h2>", ctx.m("citizen-data-deliveries")));
    let rows = all
        .deliveries
        .iter()
        .map(|d| {
            let to = match &d.helper {
                Some(h) => ctx.ma("citizen-data-to-helper", &[("name", h.name.clone())]),
                None => ctx.m("citizen-data-to-you"),
            };
            vec![
                when(d.created_at),
                subject_of(&all, Some(d.letter_id)),
                word(lang, "citizen-channel-", d.channel.as_str()),
                to,
                word(lang, "citizen-delivery-", d.status.as_str()),
            ]
        })
        .collect();
    body.push_str(&table(
        &ctx,
        "deliveries",
        "citizen-data-deliveries",
        &["citizen-col-when", "citizen-col-subject", "citizen-col-channel", "citizen-col-to", "citizen-col-status"],
        rows,
    ));

    body.push_str(&format!("<h2>{}</h2><p>{}</p>", ctx.m("citizen-data-access"), ctx.m("citizen-data-access-intro")));
    let rows = all
        .access
        .iter()
        .map(|e| {
            vec![
                when(e.created_at),
                actor(lang, &e.actor_kind, &e.actor_name),
                word(lang, "citizen-action-", &e.action),
                subject_of(&all, e.letter_id),
            ]
        })
        .collect();
    body.push_str(&table(
        &ctx,
        "access",
        "citizen-data-access",
        &["citizen-col-when", "citizen-col-who", "citizen-col-what", "citizen-col-subject"],
        rows,
    ));

    body.push_str(&format!("<h2>{}</h2>", ctx.m("citizen-data-changes")));
    let rows = all
        .changes
        .iter()
        .map(|c| vec![when(c.created_at), actor(lang, &c.actor_kind, &c.actor_name), fields_words(lang, &c.fields)])
        .collect();
    body.push_str(&table(
        &ctx,
        "changes",
        "citizen-data-changes",
        &["citizen-col-when", "citizen-col-who", "citizen-col-what"],
        rows,
    ));

    let title = I18N.message(lang, "citizen-data-title", &[]);
    Ok(ctx.page(title, "/citizen/data", body).into_response())
}

fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default()
}

fn export(state: &AppState, ctx: &Ctx, all: &Everything) -> Value {
    let stored = ctx.profile.as_ref();
    json!({
        "generated_at": iso(state.clock.now_ms()),
        "citizen_id": ctx.id(),
        "profile": stored.map(|p| json!({
            "contact": p.profile,
            "updated_by": p.updated_by,
            "updated_at": p.updated_at.map(iso),
        })),
        "letters": all.letters.iter().map(|l| json!({
            "id": l.letter.id,
            "from": l.sender,
            "subject": l.letter.subject,
            "importance": l.letter.importance,
            "status": l.letter.status,
            "respond_by": l.letter.respond_by,
            "deadline": l.letter.deadline,
            "reference": l.letter.reference,
            "opened": l.read,
            "created_at": iso(l.letter.created_at),
        })).collect::<Vec<_>>(),
        "contact_attempts": all.deliveries.iter().map(|d| json!({
            "id": d.id,
            "letter_id": d.letter_id,
            "channel": d.channel,
            "purpose": d.purpose,
            "to_helper": d.helper.as_ref().map(|h| h.name.clone()),
            "status": d.status,
            "attempts": d.attempts,
            "created_at": iso(d.created_at),
            "updated_at": iso(d.updated_at),
        })).collect::<Vec<_>>(),
        "access_log": all.access.iter().map(|e| json!({
            "at": iso(e.created_at),
            "who": e.actor_kind,
            "name": e.actor_name,
            "action": e.action,
            "letter_id": e.letter_id,
        })).collect::<Vec<_>>(),
        "profile_changes": all.changes.iter().map(|c| json!({
            "at": iso(c.created_at),
            "who": c.actor_kind,
            "name": c.actor_name,
            "fields": c.fields.split(',').filter(|f| !f.is_empty()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn download(body: Vec<u8>, content_type: &'static str, filename: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(filename));
    response
}

/// `GET /citizen/data.json`.
pub async fn json(
    State(state): State<AppState>,
    citizen: CitizenSession,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let ctx = Ctx::load(&state, citizen, &headers).await?;
    ctx.log(&state, "download_data_json", None).await?;
    let all = everything(&state, &ctx).await?;
    let body = serde_json::to_vec_pretty(&export(&state, &ctx, &all)).map_err(|e| WebError::Internal(e.into()))?;
    Ok(download(body, "application/json", "attachment; filename=\"budbringer-data.json\""))
}

/// `GET /citizen/data.pdf`: the same, laid out by the print channel's accessible letter
/// renderer (tagged PDF/UA). Danish or English: the letter fonts do not shape Arabic.
pub async fn pdf(
    State(state): State<AppState>,
    citizen: CitizenSession,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let ctx = Ctx::load(&state, citizen, &headers).await?;
    ctx.log(&state, "download_data_pdf", None).await?;
    let all = everything(&state, &ctx).await?;
    let lang = if ctx.lang == "da" { "da" } else { "en" };
    let t = |id: &str| I18N.message(lang, id, &[]);
    let item = |s: String| format!("- {}\n", s.replace('\n', " "));
    let mut text = format!("{}\n\n", t("citizen-data-intro"));
    let profile = ctx.profile.as_ref().map(|p| p.profile.clone()).unwrap_or_default();
    text.push_str(&format!("**{}**\n\n", t("citizen-data-profile")));
    let profile_json = serde_json::to_value(&profile).unwrap_or_default();
    if let Some(map) = profile_json.as_object() {
        for (k, v) in map {
            let shown = match v {
                Value::String(s) => s.clone(),
                Value::Null => "-".into(),
                other => other.to_string(),
            };
            text.push_str(&item(format!("{k}: {shown}")));
        }
    }
    text.push_str(&format!("\n**{}**\n\n", t("citizen-data-letters")));
    for l in &all.letters {
        text.push_str(&item(format!("{} {}: {}", when(l.letter.created_at), l.sender, l.letter.subject)));
    }
    text.push_str(&format!("\n**{}**\n\n", t("citizen-data-deliveries")));
    for d in &all.deliveries {
        let to = d.helper.as_ref().map(|h| format!(" ({})", h.name)).unwrap_or_default();
        text.push_str(&item(format!("{} {} {}{to}: {}", when(d.created_at), d.channel, d.purpose, d.status)));
    }
    text.push_str(&format!("\n**{}**\n\n", t("citizen-data-access")));
    for e in &all.access {
        text.push_str(&item(format!("{} {} {}: {}", when(e.created_at), e.actor_kind, e.actor_name, e.action)));
    }
    text.push_str(&format!("\n**{}**\n\n", t("citizen-data-changes")));
    for c in &all.changes {
        text.push_str(&item(format!("{} {} {}: {}", when(c.created_at), c.actor_kind, c.actor_name, c.fields)));
    }
    let title = t("citizen-data-title");
    let pdf = crate::channels::print::render_report(&title, &text, lang, state.clock.now_ms())
        .map_err(|e| WebError::Internal(e.into()))?;
    Ok(download(pdf, "application/pdf", "attachment; filename=\"budbringer-data.pdf\""))
}
