//! The callback queue: calls the authority owes citizens, due within office hours. Claim one,
//! read what it is about and what the citizen needs, log the outcome and the minutes spent,
//! or move it to another time. "Reached" is evidence: it stops the letter's ladder.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::super::error::WebError;
use super::super::page::esc;
use super::{Ctx, flash, parse_id, see_other};
use crate::app::AppState;
use crate::domain::routing::HelperScope;
use crate::store::staff_pages::StaffCallback;
use crate::store::{CallLog, CallOutcome};

#[derive(Deserialize, Default)]
pub struct MsgQuery {
    #[serde(default)]
    msg: Option<String>,
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, Query(q): Query<MsgQuery>) -> Result<Response, WebError> {
    let tasks = state.store.staff_callbacks(ctx.authority.id).await?;
    let now = state.clock.now();
    let phone = &state.settings.channels.phone;
    let spec = ctx.authority.office_hours.clone().unwrap_or_else(|| phone.office_hours.clone());
    let open_now = phone.office_hours_of(&ctx.authority).is_ok_and(|h| h.next_open(now) == now);

    let mut body = flash(&ctx, q.msg.as_deref());
    let hours_id = if open_now { "staff-callbacks-hours-open" } else { "staff-callbacks-hours-closed" };
    body.push_str(&format!("<p class=\"box\">{}</p>", ctx.ma(hours_id, &[("hours", spec)])));
    let (due, later): (Vec<_>, Vec<_>) = tasks.iter().partition(|t| t.due_at <= now.as_millisecond());
    for (heading, list, empty) in [
        ("staff-callbacks-due-now", &due, "staff-callbacks-none-due"),
        ("staff-callbacks-later", &later, "staff-callbacks-none-later"),
    ] {
        body.push_str(&format!("<h2>{}</h2>", ctx.m(heading)));
        if list.is_empty() {
            body.push_str(&format!("<p>{}</p>", ctx.m(empty)));
            continue;
        }
        body.push_str(&format!(
            "<div class=\"table-wrap\"><table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th>\
             <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            ctx.m(heading),
            ctx.m("staff-col-citizen"),
            ctx.m("staff-col-letter"),
            ctx.m("staff-col-due"),
            ctx.m("staff-col-claimed-by"),
        ));
        for t in list {
            let who = t.citizen_name.clone().unwrap_or_else(|| t.phone.clone());
            body.push_str(&format!(
                "<tr><td><a href=\"/staff/callbacks/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                t.id,
                ctx.ma("staff-callback-call", &[("name", who)]),
                esc(&t.subject),
                ctx.time(&state, t.due_at),
                claimed_by(&ctx, t),
            ));
        }
        body.push_str("</tbody></table></div>");
    }
    let title = crate::i18n::I18N.message(ctx.lang, "staff-callbacks-title", &[]);
    Ok(ctx.page(title, "/staff/callbacks", body).into_response())
}

fn claimed_by(ctx: &Ctx, t: &StaffCallback) -> String {
    match (&t.claimed_by, &t.claimed_name) {
        (Some(id), _) if *id == ctx.me.id => ctx.m("staff-alert-taken-by-you"),
        (Some(_), Some(name)) => esc(name),
        _ => ctx.m("staff-alert-not-taken"),
    }
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let t = state.store.staff_callback(ctx.authority.id, id).await?.ok_or(WebError::NotFound)?;
    ctx.log_access(&state, t.citizen_id, "read_callback", Some(t.letter_id)).await?;
    let mut body = flash(&ctx, q.msg.as_deref());
    body.push_str(&format!("<h2>{}</h2><p>{}</p>", ctx.m("staff-callback-summary"), esc(&t.summary)));

    let mut facts = String::new();
    let mut fact = |label: &str, value: String| facts.push_str(&format!("<dt>{}</dt><dd>{value}</dd>", ctx.m(label)));
    fact(
        "staff-fact-citizen",
        format!("<a href=\"/staff/citizens/{}\">{}</a>", t.citizen_id, esc(t.citizen_name.as_deref().unwrap_or("–"))),
    );
    fact("staff-fact-phone", format!("<a href=\"tel:{0}\">{0}</a>", esc(&t.phone)));
    fact("staff-fact-letter", format!("<a href=\"/staff/letters/{}\">{}</a>", t.letter_id, esc(&t.subject)));
    if let Some(deadline) = &t.deadline {
        fact("staff-fact-deadline", ctx.date(deadline));
    }
    fact("staff-fact-due", ctx.time(&state, t.due_at));
    fact("staff-fact-status", ctx.m(status_label(&t.status)));
    fact(
        "staff-fact-calls",
        ctx.ma(
            "staff-callback-tries",
            &[("count", t.no_answers.to_string()), ("minutes", t.minutes_spent.to_string())],
        ),
    );
    fact("staff-fact-taken-by", claimed_by(&ctx, &t));
    body.push_str(&format!("<dl class=\"facts\">{facts}</dl>"));

    // what the citizen needs, plainly: the caller adapts the call to it
    body.push_str(&format!("<h2>{}</h2><ul>", ctx.m("staff-callback-needs")));
    let mut needs = Vec::new();
    match t.language.as_deref() {
        Some(l) if l != "da" => needs.push(ctx.ma("staff-need-language", &[("language", l.to_owned())])),
        _ => {}
    }
    if t.large_print {
        needs.push(ctx.m("staff-need-large-print"));
    }
    if t.easy_read {
        needs.push(ctx.m("staff-need-easy-read"));
    }
    for h in &t.helpers.0 {
        let scope = match h.receives {
            HelperScope::Notice => "staff-helper-receives-notice",
            HelperScope::Copy => "staff-helper-receives-copy",
        };
        let reach = h.phone.clone().or_else(|| h.email.clone()).unwrap_or_default();
        needs.push(format!(
            "{} {}",
            ctx.ma("staff-need-helper", &[("name", h.name.clone()), ("contact", reach)]),
            ctx.m(scope)
        ));
    }
    if needs.is_empty() {
        needs.push(ctx.m("staff-need-none"));
    }
    for need in needs {
        body.push_str(&format!("<li>{need}</li>"));
    }
    body.push_str("</ul>");

    if t.status == "open" {
        let mine = t.claimed_by == Some(ctx.me.id);
        if !mine {
            body.push_str(&format!(
                "<form method=\"post\" action=\"/staff/callbacks/{}/claim\">{}<div class=\"actions\">\
                 <button type=\"submit\">{}</button></div></form>",
                t.id,
                ctx.csrf_field(),
                ctx.m("staff-callback-claim")
            ));
        }
        if mine || t.claimed_by.is_none() {
            body.push_str(&outcome_form(&ctx, &t));
        }
        body.push_str(&format!(
            "<form method=\"post\" action=\"/staff/callbacks/{}/reschedule\">{}<h2>{}</h2>\
             <label for=\"due\">{}</label><p class=\"hint\" id=\"due-hint\">{}</p>\
             <input id=\"due\" name=\"due\" type=\"datetime-local\" required aria-describedby=\"due-hint\">\
             <div class=\"actions\"><button type=\"submit\" class=\"secondary\">{}</button></div></form>",
            t.id,
            ctx.csrf_field(),
            ctx.m("staff-callback-reschedule-title"),
            ctx.m("staff-callback-reschedule-label"),
            ctx.m("staff-callback-reschedule-hint"),
            ctx.m("staff-callback-reschedule"),
        ));
    }
    let title = crate::i18n::I18N.message(
        ctx.lang,
        "staff-callback-title",
        &[("name", t.citizen_name.clone().unwrap_or_else(|| t.phone.clone()))],
    );
    Ok(ctx.page(title, &format!("/staff/callbacks/{}", t.id), body).into_response())
}

fn status_label(status: &str) -> &'static str {
    match status {
        "open" => "staff-callback-status-open",
        "done" => "staff-callback-status-done",
        _ => "staff-callback-status-failed",
    }
}

fn outcome_form(ctx: &Ctx, t: &StaffCallback) -> String {
    let mut radios = String::new();
    for (value, label) in [
        ("reached", "staff-outcome-reached"),
        ("no_answer", "staff-outcome-no-answer"),
        ("wrong_number", "staff-outcome-wrong-number"),
    ] {
        radios.push_str(&format!(
            "<div class=\"choice\"><input type=\"radio\" id=\"outcome-{value}\" name=\"outcome\" value=\"{value}\" required>\
             <label for=\"outcome-{value}\">{}</label></div>",
            ctx.m(label)
        ));
    }
    format!(
        "<form method=\"post\" action=\"/staff/callbacks/{}/outcome\">{}<fieldset><legend>{}</legend>{radios}</fieldset>\
         <label for=\"minutes\">{}</label><p class=\"hint\" id=\"minutes-hint\">{}</p>\
         <input id=\"minutes\" name=\"minutes\" type=\"number\" min=\"0\" max=\"600\" step=\"1\" inputmode=\"numeric\" \
         required aria-describedby=\"minutes-hint\">\
         <div class=\"actions\"><button type=\"submit\">{}</button></div></form>",
        t.id,
        ctx.csrf_field(),
        ctx.m("staff-outcome-legend"),
        ctx.m("staff-outcome-minutes"),
        ctx.m("staff-outcome-minutes-hint"),
        ctx.m("staff-outcome-submit"),
    )
}

#[derive(Deserialize)]
pub struct ClaimForm {
    #[serde(default)]
    csrf: String,
}

pub async fn claim(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<ClaimForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&form.csrf)?;
    let id = parse_id(&id)?;
    if state.store.claim_callback(ctx.authority.id, id, ctx.me.id, state.clock.now_ms()).await? {
        ctx.audit(&state, "callback.claimed", id, serde_json::json!({})).await?;
        return Ok(see_other(format!("/staff/callbacks/{id}?msg=claimed")));
    }
    match state.store.staff_callback(ctx.authority.id, id).await? {
        Some(t) if t.status == "open" => Ok(see_other(format!("/staff/callbacks/{id}?msg=claimed-by-other"))),
        _ => Err(WebError::NotFound),
    }
}

#[derive(Deserialize)]
pub struct OutcomeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    minutes: String,
}

pub async fn outcome(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<OutcomeForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&form.csrf)?;
    let id = parse_id(&id)?;
    let task = state.store.staff_callback(ctx.authority.id, id).await?.ok_or(WebError::NotFound)?;
    if task.claimed_by.is_some_and(|who| who != ctx.me.id) {
        return Ok(see_other(format!("/staff/callbacks/{id}?msg=claimed-by-other")));
    }
    let outcome = match form.outcome.as_str() {
        "reached" => CallOutcome::Reached,
        "no_answer" => CallOutcome::NoAnswer,
        "wrong_number" => CallOutcome::WrongNumber,
        _ => return Ok(see_other(format!("/staff/callbacks/{id}?msg=bad-minutes"))),
    };
    let Some(minutes) = form.minutes.trim().parse::<i64>().ok().filter(|m| (0..=600).contains(m)) else {
        return Ok(see_other(format!("/staff/callbacks/{id}?msg=bad-minutes")));
    };
    // the same rules as the API's POST /v1/callbacks/{id}/outcome
    let phone = &state.settings.channels.phone;
    let hours = phone.office_hours_of(&ctx.authority).map_err(|e| WebError::Internal(e.into()))?;
    let now = state.clock.now();
    let later = now.saturating_add(jiff::SignedDuration::from_mins(phone.retry_after_minutes)).unwrap_or(now);
    let log = CallLog {
        outcome,
        minutes,
        max_no_answers: phone.max_no_answers,
        retry_at: hours.next_open(later).as_millisecond(),
    };
    state.store.claim_callback(ctx.authority.id, id, ctx.me.id, now.as_millisecond()).await?;
    state.store.record_call(ctx.authority.id, id, &log, now.as_millisecond()).await?.ok_or(WebError::NotFound)?;
    let details = serde_json::json!({ "outcome": form.outcome, "minutes": minutes });
    ctx.audit(&state, "callback.outcome", id, details).await?;
    state.webhook_wake.notify_one();
    state.engine_wake.notify_one();
    Ok(see_other("/staff/callbacks?msg=logged".into()))
}

#[derive(Deserialize)]
pub struct RescheduleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    due: String,
}

pub async fn reschedule(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<RescheduleForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&form.csrf)?;
    let id = parse_id(&id)?;
    // a datetime-local value is the caseworker's wall clock, in the authority's time zone
    let due = form
        .due
        .trim()
        .parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(ctx.time_zone(&state)).ok())
        .map(|z| z.timestamp().as_millisecond());
    let Some(due) = due else {
        if state.store.staff_callback(ctx.authority.id, id).await?.is_none() {
            return Err(WebError::NotFound);
        }
        return Ok(see_other(format!("/staff/callbacks/{id}?msg=bad-time")));
    };
    if !state.store.reschedule_callback(ctx.authority.id, id, due, state.clock.now_ms()).await? {
        return Err(WebError::NotFound);
    }
    ctx.audit(&state, "callback.rescheduled", id, serde_json::json!({ "due_at": due })).await?;
    Ok(see_other(format!("/staff/callbacks/{id}?msg=rescheduled")))
}
