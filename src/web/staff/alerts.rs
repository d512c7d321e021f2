//! The alert list: what the authority's caseworkers must act on, the nearest deadline first.
//! Take one (it is yours), close it with a note on what was done.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::super::error::WebError;
use super::super::page::esc;
use super::{Ctx, channel_label, flash, parse_id, see_other};
use crate::app::AppState;
use crate::store::staff_pages::{AlertFilter, StaffAlert};

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    unit: String,
    /// `""` everyone, `me`, `none` (not taken) or a caseworker's id.
    #[serde(default)]
    who: String,
    #[serde(default)]
    msg: Option<String>,
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "unopened" => "staff-alert-kind-unopened",
        "unreachable" => "staff-alert-kind-unreachable",
        "delivery_failed" => "staff-alert-kind-delivery-failed",
        "offer_exemption" => "staff-alert-kind-offer-exemption",
        _ => "staff-alert-kind-other",
    }
}

/// What the alert is about, in a sentence.
fn explain(ctx: &Ctx, alert: &StaffAlert) -> String {
    let d = &alert.details.0;
    let text = |key: &str| d.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    match alert.kind.as_str() {
        "unopened" => ctx.m("staff-alert-explain-unopened"),
        "unreachable" => {
            let tried: Vec<String> = d
                .get("tried")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(|c| ctx.m(channel_label(c))).collect())
                .unwrap_or_default();
            ctx.ma("staff-alert-explain-unreachable", &[("channels", tried.join(", "))])
        }
        "delivery_failed" => ctx.ma(
            "staff-alert-explain-delivery-failed",
            &[
                ("channel", crate::i18n::I18N.message(ctx.lang, channel_label(&text("channel")), &[])),
                ("error", text("error")),
            ],
        ),
        "offer_exemption" => {
            let letters = d.get("escalated_letters").and_then(Value::as_i64).unwrap_or_default();
            let suggestion =
                if text("suggestion") == "paper" { "staff-alert-suggest-paper" } else { "staff-alert-suggest-phone" };
            format!(
                "{} {}",
                ctx.ma("staff-alert-explain-offer-exemption", &[("count", letters.to_string())]),
                ctx.m(suggestion)
            )
        }
        _ => String::new(),
    }
}

fn option(value: &str, label: &str, selected: bool) -> String {
    let sel = if selected { " selected" } else { "" };
    format!("<option value=\"{}\"{sel}>{}</option>", esc(value), label)
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, Query(q): Query<ListQuery>) -> Result<Response, WebError> {
    let unit = Some(q.unit.trim().to_owned()).filter(|u| !u.is_empty());
    let mut filter = AlertFilter { unit: unit.clone(), limit: 200, ..Default::default() };
    match q.who.as_str() {
        "" => {}
        "me" => filter.assigned_to = Some(ctx.me.id),
        "none" => filter.unassigned = true,
        other => filter.assigned_to = Some(parse_id(other)?),
    }
    let alerts = state.store.staff_alerts(ctx.authority.id, &filter).await?;
    let units = state.store.staff_units(ctx.authority.id).await?;
    let colleagues = state.store.caseworkers(ctx.authority.id).await?;

    let mut body = flash(&ctx, q.msg.as_deref());
    // the filter: a plain GET form, so a filtered list can be bookmarked
    body.push_str(&format!(
        "<form method=\"get\" action=\"/staff/alerts\" class=\"filters\"><fieldset><legend>{}</legend>\
         <label for=\"f-unit\">{}</label><select id=\"f-unit\" name=\"unit\">{}",
        ctx.m("staff-filter-legend"),
        ctx.m("staff-filter-unit"),
        option("", &ctx.m("staff-filter-all-units"), unit.is_none())
    ));
    for u in &units {
        body.push_str(&option(u, &esc(u), unit.as_deref() == Some(u)));
    }
    body.push_str(&format!(
        "</select><label for=\"f-who\">{}</label><select id=\"f-who\" name=\"who\">{}{}{}",
        ctx.m("staff-filter-who"),
        option("", &ctx.m("staff-filter-everyone"), q.who.is_empty()),
        option("me", &ctx.m("staff-filter-me"), q.who == "me"),
        option("none", &ctx.m("staff-filter-nobody"), q.who == "none"),
    ));
    for c in colleagues.iter().filter(|c| c.disabled_at.is_none()) {
        let id = c.id.to_string();
        body.push_str(&option(&id, &esc(&c.display_name), q.who == id));
    }
    body.push_str(&format!(
        "</select><div class=\"actions\"><button type=\"submit\" class=\"secondary\">{}</button></div></fieldset></form>",
        ctx.m("staff-filter-apply")
    ));

    body.push_str(&format!(
        "<p role=\"status\">{}</p>",
        ctx.ma("staff-alerts-count", &[("count", alerts.len().to_string())])
    ));
    if alerts.is_empty() {
        body.push_str(&format!("<p>{}</p>", ctx.m("staff-alerts-none")));
    }
    body.push_str("<ul class=\"plain cards\">");
    for alert in &alerts {
        body.push_str(&render_alert(&state, &ctx, alert));
    }
    body.push_str("</ul>");
    let title = crate::i18n::I18N.message(ctx.lang, "staff-alerts-title", &[]);
    Ok(axum::response::IntoResponse::into_response(ctx.page(title, "/staff/alerts", body)))
}

fn render_alert(state: &AppState, ctx: &Ctx, a: &StaffAlert) -> String {
    let id = a.id;
    let heading = match &a.subject {
        Some(subject) => format!("{}: {}", ctx.m(kind_label(&a.kind)), esc(subject)),
        None => ctx.m(kind_label(&a.kind)),
    };
    let mut facts = String::new();
    let mut fact = |label: &str, value: String| {
        facts.push_str(&format!("<dt>{}</dt><dd>{value}</dd>", ctx.m(label)));
    };
    if let Some(deadline) = &a.deadline {
        fact("staff-fact-deadline", ctx.date(deadline));
    }
    if let Some(unit) = &a.unit {
        fact("staff-fact-unit", esc(unit));
    }
    if let Some(reference) = &a.reference {
        fact("staff-fact-reference", esc(reference));
    }
    fact("staff-fact-raised", ctx.time(state, a.created_at));
    let taken = match (&a.assigned_to, &a.assigned_name) {
        (Some(who), _) if *who == ctx.me.id => ctx.m("staff-alert-taken-by-you"),
        (Some(_), Some(name)) => esc(name),
        _ => ctx.m("staff-alert-not-taken"),
    };
    fact("staff-fact-taken-by", taken);
    let mut links = Vec::new();
    if let Some(letter) = a.letter_id {
        links.push(format!("<a href=\"/staff/letters/{letter}\">{}</a>", ctx.m("staff-alert-open-letter")));
    }
    if let Some(citizen) = a.citizen_id {
        links.push(format!("<a href=\"/staff/citizens/{citizen}\">{}</a>", ctx.m("staff-alert-open-citizen")));
    }
    let take = if a.assigned_to == Some(ctx.me.id) {
        String::new()
    } else {
        format!(
            "<form method=\"post\" action=\"/staff/alerts/{id}/take\">{}<button type=\"submit\" class=\"secondary\">{}</button></form>",
            ctx.csrf_field(),
            ctx.m("staff-alert-take")
        )
    };
    format!(
        "<li><section class=\"card\" aria-labelledby=\"alert-{id}\"><h2 id=\"alert-{id}\">{heading}</h2>\
         <p>{explain}</p><dl class=\"facts\">{facts}</dl><p class=\"links\">{links}</p>\
         <div class=\"actions\">{take}\
         <form method=\"post\" action=\"/staff/alerts/{id}/close\">{csrf}\
         <label for=\"note-{id}\">{note_label}</label><p class=\"hint\" id=\"note-hint-{id}\">{note_hint}</p>\
         <textarea id=\"note-{id}\" name=\"note\" rows=\"2\" required aria-describedby=\"note-hint-{id}\"></textarea>\
         <div class=\"actions\"><button type=\"submit\">{close}</button></div></form></div></section></li>",
        explain = esc(&explain(ctx, a)),
        links = links.join(" · "),
        csrf = ctx.csrf_field(),
        note_label = ctx.m("staff-alert-note"),
        note_hint = ctx.m("staff-alert-note-hint"),
        close = ctx.m("staff-alert-close"),
    )
}

#[derive(Deserialize)]
pub struct TakeForm {
    #[serde(default)]
    csrf: String,
}

pub async fn take(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<TakeForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&form.csrf)?;
    let id = parse_id(&id)?;
    if !state.store.assign_alert(ctx.authority.id, id, ctx.me.id, state.clock.now_ms()).await? {
        return Err(WebError::NotFound);
    }
    ctx.audit(&state, "alert.taken", id, serde_json::json!({})).await?;
    Ok(see_other("/staff/alerts?msg=taken".into()))
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

pub async fn close(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<CloseForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&form.csrf)?;
    let id = parse_id(&id)?;
    let note = form.note.trim();
    if note.is_empty() || note.chars().count() > 2000 {
        return Ok(see_other("/staff/alerts?msg=note-required".into()));
    }
    let Some(closed) = state.store.close_alert(ctx.authority.id, id, note, state.clock.now_ms()).await? else {
        return Err(WebError::NotFound);
    };
    state.store.set_alert_closed_by(ctx.authority.id, id, ctx.me.id).await?;
    // the note's words stay with the alert; the audit log keeps only that there was one
    ctx.audit(&state, "alert.closed", id, serde_json::json!({ "kind": closed.kind })).await?;
    // the authority's systems hear of it too (alert_closed event)
    state.webhook_wake.notify_one();
    Ok(see_other("/staff/alerts?msg=closed".into()))
}
