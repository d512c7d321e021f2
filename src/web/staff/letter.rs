//! One letter's whole story in plain sentences: each channel attempt, provider receipts,
//! evidence, escalations, alerts and every deadline change with its reason.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::super::error::WebError;
use super::super::page::esc;
use super::{Ctx, channel_label, parse_id};
use crate::app::AppState;
use crate::i18n::I18N;
use crate::store::EventRecord;

pub async fn show(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let details = state.store.letter_details(ctx.authority.id, id).await?.ok_or(WebError::NotFound)?;
    let letter = &details.letter;
    ctx.log_access(&state, letter.citizen_id, "read_letter", Some(letter.id)).await?;

    let mut facts = String::new();
    let mut fact = |label: &str, value: String| facts.push_str(&format!("<dt>{}</dt><dd>{value}</dd>", ctx.m(label)));
    let name = letter.recipient.name.clone().unwrap_or_default();
    fact(
        "staff-fact-citizen",
        format!(
            "<a href=\"/staff/citizens/{}\">{}</a> ({})",
            letter.citizen_id,
            esc(&name),
            esc(&letter.recipient.cpr_masked)
        ),
    );
    if let Some(reference) = &letter.reference {
        fact("staff-fact-reference", esc(reference));
    }
    if let Some(unit) = &letter.contact.unit {
        fact("staff-fact-unit", esc(unit));
    }
    let importance = if letter.importance == crate::domain::Importance::Important {
        "staff-importance-important"
    } else {
        "staff-importance-normal"
    };
    fact("staff-fact-importance", ctx.m(importance));
    fact("staff-fact-status", ctx.m(letter_status(letter.status.as_str())));
    fact("staff-fact-sent", ctx.time(&state, letter.created_at));
    if let Some(first) = &letter.respond_by {
        fact("staff-fact-respond-by", ctx.date(first));
    }
    if let Some(deadline) = &letter.deadline {
        let value = if letter.deadline_extended() {
            ctx.ma("staff-deadline-extended-to", &[("date", crate::i18n::long_date_str(ctx.lang, deadline))])
        } else {
            ctx.date(deadline)
        };
        fact("staff-fact-deadline", value);
    }
    if letter.bulk {
        // the `accepted` event says who said it is a bulk run's
        let detected = details
            .timeline
            .iter()
            .any(|e| e.kind == "accepted" && e.data.0.get("bulk").and_then(Value::as_str) == Some("detected"));
        fact("staff-fact-bulk", ctx.m(if detected { "staff-bulk-detected" } else { "staff-bulk-requested" }));
    }
    let mut body = format!("<dl class=\"facts\">{facts}</dl>");
    match letter.content_deleted_at {
        // the retention rule took the text and the documents; the story below stays whole
        Some(deleted_at) => {
            let days = details
                .timeline
                .iter()
                .rev()
                .find(|e| e.kind == "content_deleted")
                .and_then(|e| e.data.0.get("letter_content_days").and_then(Value::as_u64))
                .unwrap_or(u64::from(state.settings.retention.letter_content_days));
            let date = jiff::Timestamp::from_millisecond(deleted_at)
                .map(|t| t.to_zoned(ctx.time_zone(&state)).date().to_string())
                .unwrap_or_default();
            let args = [("date", crate::i18n::long_date_str(ctx.lang, &date)), ("days", days.to_string())];
            body.push_str(&format!(
                "<p class=\"notice\" role=\"status\">{}</p>",
                ctx.ma("staff-letter-content-deleted", &args)
            ));
        }
        None => body.push_str(&format!(
            "<details><summary>{}</summary><div class=\"letter-body\">{}</div></details>",
            ctx.m("staff-letter-text"),
            esc(&letter.body)
        )),
    }

    body.push_str(&format!(
        "<h2>{}</h2><div class=\"table-wrap\"><table><caption>{}</caption><thead><tr>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th></tr></thead><tbody>",
        ctx.m("staff-letter-deliveries"),
        ctx.m("staff-letter-deliveries-caption"),
        ctx.m("staff-col-channel"),
        ctx.m("staff-col-purpose"),
        ctx.m("staff-col-status"),
        ctx.m("staff-col-attempts"),
        ctx.m("staff-col-error"),
    ));
    for d in &details.deliveries {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ctx.m(channel_label(d.channel.as_str())),
            ctx.m(purpose_label(&d.purpose)),
            ctx.m(delivery_status(d.status.as_str())),
            d.attempts,
            esc(d.last_error.as_deref().unwrap_or("")),
        ));
    }
    body.push_str("</tbody></table></div>");

    body.push_str(&format!("<h2>{}</h2><ol class=\"timeline\">", ctx.m("staff-letter-timeline")));
    for event in &details.timeline {
        body.push_str(&format!("<li>{}{}</li>", ctx.time(&state, event.created_at), esc(&sentence(ctx.lang, event))));
    }
    body.push_str("</ol>");
    Ok(ctx.page(letter.subject.clone(), &format!("/staff/letters/{}", letter.id), body).into_response())
}

fn letter_status(status: &str) -> &'static str {
    match status {
        "accepted" => "staff-letter-status-accepted",
        "dispatched" => "staff-letter-status-dispatched",
        "delivered" => "staff-letter-status-delivered",
        "failed" => "staff-letter-status-failed",
        "cancelled" => "staff-letter-status-cancelled",
        _ => "staff-letter-status-other",
    }
}

fn delivery_status(status: &str) -> &'static str {
    match status {
        "queued" => "staff-delivery-status-queued",
        "sending" => "staff-delivery-status-sending",
        "sent" => "staff-delivery-status-sent",
        "delivered" => "staff-delivery-status-delivered",
        "failed" => "staff-delivery-status-failed",
        "cancelled" => "staff-delivery-status-cancelled",
        _ => "staff-letter-status-other",
    }
}

fn purpose_label(purpose: &str) -> &'static str {
    match purpose {
        "notice" => "staff-purpose-notice",
        "helper" => "staff-purpose-helper",
        _ => "staff-purpose-letter",
    }
}

fn alert_kind(kind: &str) -> &'static str {
    match kind {
        "unopened" => "staff-alert-kind-unopened",
        "unreachable" => "staff-alert-kind-unreachable",
        "delivery_failed" => "staff-alert-kind-delivery-failed",
        "offer_exemption" => "staff-alert-kind-offer-exemption",
        _ => "staff-alert-kind-other",
    }
}

fn outcome_label(outcome: &str) -> &'static str {
    match outcome {
        "reached" => "staff-outcome-reached",
        "no_answer" => "staff-outcome-no-answer",
        _ => "staff-outcome-wrong-number",
    }
}

fn deadline_reason(reason: &str) -> &'static str {
    match reason {
        "escalation" => "staff-reason-escalation",
        "no_deadline" => "staff-reason-no-deadline",
        "deadline_already_later" => "staff-reason-already-later",
        "no_channel_to_try" => "staff-reason-no-channel",
        "ladder_exhausted" => "staff-reason-ladder-exhausted",
        _ => "staff-reason-other",
    }
}

/// One timeline event as a sentence a person reads.
pub fn sentence(lang: &str, e: &EventRecord) -> String {
    let d: &Value = &e.data.0;
    let text = |key: &str| d.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let word = |id: &str| I18N.message(lang, id, &[]);
    let channel = word(channel_label(&text("channel")));
    let date = |key: &str| {
        let raw = text(key);
        if raw.is_empty() { raw } else { crate::i18n::long_date_str(lang, &raw) }
    };
    let (id, args): (&str, Vec<(&str, String)>) = match e.kind.as_str() {
        "accepted" => ("staff-event-accepted", vec![("channel", channel)]),
        "dispatched" => {
            ("staff-event-dispatched", vec![("channel", channel), ("purpose", word(purpose_label(&text("purpose"))))])
        }
        "sent" => ("staff-event-sent", vec![("channel", channel), ("reference", text("provider_ref"))]),
        "delivered" => {
            let receipt = text("receipt");
            if receipt.is_empty() {
                ("staff-event-delivered", vec![("channel", channel)])
            } else {
                ("staff-event-delivered-receipt", vec![("channel", channel), ("receipt", receipt)])
            }
        }
        "failed" => ("staff-event-failed", vec![("channel", channel), ("error", text("error"))]),
        "opened" => ("staff-event-opened", vec![]),
        "document_opened" => ("staff-event-document-opened", vec![]),
        "reacted" => ("staff-event-reacted", vec![("via", text("via"))]),
        "call_logged" => (
            "staff-event-call-logged",
            vec![
                ("outcome", word(outcome_label(&text("outcome")))),
                ("minutes", d.get("minutes").and_then(Value::as_i64).unwrap_or_default().to_string()),
            ],
        ),
        "callback_requested" => ("staff-event-callback-requested", vec![]),
        "reply_received" => ("staff-event-reply-received", vec![("text", text("text"))]),
        "escalated" => {
            let channels: Vec<String> = d
                .get("channels")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(|c| word(channel_label(c))).collect())
                .unwrap_or_default();
            let step = d.get("step").and_then(Value::as_i64).unwrap_or_default() + 1;
            if channels.is_empty() {
                ("staff-event-escalated-nothing", vec![("step", step.to_string())])
            } else {
                ("staff-event-escalated", vec![("step", step.to_string()), ("channels", channels.join(", "))])
            }
        }
        "deadline_extended" => (
            "staff-event-deadline-extended",
            vec![("old", date("old")), ("new", date("new")), ("reason", word(deadline_reason(&text("reason"))))],
        ),
        "alert_raised" => ("staff-event-alert-raised", vec![("kind", word(alert_kind(&text("kind"))))]),
        "alert_resolved" => ("staff-event-alert-resolved", vec![("kind", word(alert_kind(&text("kind"))))]),
        "alert_closed" => {
            ("staff-event-alert-closed", vec![("kind", word(alert_kind(&text("kind")))), ("note", text("note"))])
        }
        "cancelled" => ("staff-event-cancelled", vec![]),
        "content_deleted" => (
            "staff-event-content-deleted",
            vec![("days", d.get("letter_content_days").and_then(Value::as_u64).unwrap_or_default().to_string())],
        ),
        _ => ("staff-event-other", vec![("kind", e.kind.clone())]),
    };
    I18N.message(lang, id, &args)
}
