//! A citizen's contact profile, seen and changed by a caseworker on the citizen's behalf
//! (the citizen sees who did it), and the authority's letters to them. Citizens are found by
//! CPR number posted in a form body — a CPR number never appears in a URL.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::super::error::WebError;
use super::super::page::esc;
use super::{Ctx, channel_label, flash, parse_id, see_other};
use crate::app::AppState;
use crate::domain::letter::FieldError;
use crate::domain::routing::{ContactProfile, Helper, HelperScope, validate_profile};
use crate::domain::secret::keyed_hash;
use crate::domain::{ChannelKind, Cpr};
use crate::store::{ProfileChange, ProfileUpdate, StoredProfile};

fn lookup_body(ctx: &Ctx, error: Option<&str>, not_found_cpr: Option<&str>) -> String {
    let mut body = String::new();
    if let Some(id) = error {
        body.push_str(&format!(
            "<div class=\"error-summary\" role=\"alert\"><h2>{}</h2><ul><li><a href=\"#cpr\">{}</a></li></ul></div>",
            ctx.m("staff-error-summary"),
            ctx.m(id)
        ));
    }
    if let Some(cpr) = not_found_cpr {
        // the CPR number goes back only in the form body of this no-store page
        body.push_str(&format!(
            "<div class=\"warning\" role=\"status\"><p>{}</p><form method=\"post\" action=\"/staff/citizens/lookup\">{}\
             <input type=\"hidden\" name=\"cpr\" value=\"{}\"><input type=\"hidden\" name=\"create\" value=\"1\">\
             <button type=\"submit\" class=\"secondary\">{}</button></form></div>",
            ctx.m("staff-citizen-not-found"),
            ctx.csrf_field(),
            esc(cpr),
            ctx.m("staff-citizen-create"),
        ));
    }
    let invalid = if error.is_some() { " aria-invalid=\"true\"" } else { "" };
    body.push_str(&format!(
        "<form method=\"post\" action=\"/staff/citizens/lookup\">{}<label for=\"cpr\">{}</label>\
         <p class=\"hint\" id=\"cpr-hint\">{}</p><input id=\"cpr\" name=\"cpr\" type=\"text\" inputmode=\"numeric\" \
         autocomplete=\"off\" required aria-describedby=\"cpr-hint\"{invalid}>\
         <div class=\"actions\"><button type=\"submit\">{}</button></div></form>",
        ctx.csrf_field(),
        ctx.m("staff-citizen-cpr"),
        ctx.m("staff-citizen-cpr-hint"),
        ctx.m("staff-citizen-find"),
    ));
    body
}

fn lookup_page(ctx: &Ctx, body: String, status: StatusCode) -> Response {
    let title = crate::i18n::I18N.message(ctx.lang, "staff-citizens-title", &[]);
    ctx.page(title, "/staff/citizens", body).status(status).into_response()
}

pub async fn lookup_form(ctx: Ctx) -> Response {
    let body = lookup_body(&ctx, None, None);
    lookup_page(&ctx, body, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LookupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    cpr: String,
    #[serde(default)]
    create: String,
}

pub async fn lookup(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<LookupForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&form.csrf)?;
    let cpr = match Cpr::parse(form.cpr.trim()) {
        Ok(cpr) => cpr,
        Err(e) => {
            let id = match e {
                crate::domain::cpr::CprError::Format => "error-cpr-format",
                crate::domain::cpr::CprError::Date => "error-cpr-date",
            };
            return Ok(lookup_page(&ctx, lookup_body(&ctx, Some(id), None), StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    let hash = keyed_hash(&state.cpr_key, cpr.as_str());
    let now = state.clock.now_ms();
    let citizen_id = match state.store.citizen_id(&hash).await? {
        Some(id) => id,
        None if form.create == "1" => {
            // a citizen at the counter with no profile yet: an empty one, registered by the authority
            let update = ProfileUpdate {
                cpr: cpr.as_str().to_owned(),
                cpr_hash: hash,
                updated_by: Some(ctx.authority.id),
                ..Default::default()
            };
            let id = state.store.set_contact_profile(&update, now).await?;
            record_change(&state, &ctx, id, "created").await?;
            ctx.audit(&state, "citizen.registered_on_behalf", id, serde_json::json!({})).await?;
            id
        }
        None => {
            // who looked for whom is worth keeping even when nobody was found; the number is not
            ctx.audit(&state, "citizen.looked_up", "", serde_json::json!({ "found": false })).await?;
            let body = lookup_body(&ctx, None, Some(cpr.as_str()));
            return Ok(lookup_page(&ctx, body, StatusCode::NOT_FOUND));
        }
    };
    state.store.note_staff_citizen_lookup(ctx.authority.id, citizen_id, ctx.me.id, now).await?;
    ctx.audit(&state, "citizen.looked_up", citizen_id, serde_json::json!({ "found": true })).await?;
    Ok(see_other(format!("/staff/citizens/{citizen_id}")))
}

async fn record_change(state: &AppState, ctx: &Ctx, citizen_id: Uuid, fields: &str) -> Result<(), WebError> {
    let change = ProfileChange {
        id: Uuid::now_v7(),
        citizen_id,
        actor_kind: "caseworker".into(),
        actor_name: ctx.actor_name(),
        authority_id: Some(ctx.authority.id),
        fields: fields.to_owned(),
        created_at: state.clock.now_ms(),
    };
    state.store.record_profile_change(&change).await?;
    ctx.log_access(state, citizen_id, "update_profile", None).await
}

#[derive(Deserialize, Default)]
pub struct MsgQuery {
    #[serde(default)]
    msg: Option<String>,
}

/// The citizen, if this authority may see them (else "not found").
async fn visible_profile(state: &AppState, ctx: &Ctx, id: Uuid) -> Result<StoredProfile, WebError> {
    if !state.store.staff_citizen_visible(ctx.authority.id, id).await? {
        return Err(WebError::NotFound);
    }
    state.store.stored_profile(id).await?.ok_or(WebError::NotFound)
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let stored = visible_profile(&state, &ctx, id).await?;
    ctx.log_access(&state, id, "read_profile", None).await?;
    render(&state, &ctx, &stored, &stored.profile, &[], q.msg.as_deref(), StatusCode::OK).await
}

fn yes_no(ctx: &Ctx, b: bool) -> String {
    ctx.m(if b { "staff-yes" } else { "staff-no" })
}

/// Which form field a validation error belongs to.
fn field_of(pointer: &str) -> String {
    match pointer.strip_prefix("/helpers/") {
        Some(rest) => format!("helper_{}", rest.rsplit('/').next().unwrap_or("name")),
        None => pointer.trim_start_matches('/').replace('/', "_"),
    }
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    stored: &StoredProfile,
    form: &ContactProfile,
    errors: &[FieldError],
    msg: Option<&str>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let p = &stored.profile;
    let id = stored.citizen_id;
    let mut body = flash(ctx, msg);
    if !errors.is_empty() {
        body.push_str(&format!(
            "<div class=\"error-summary\" role=\"alert\"><h2>{}</h2><ul>",
            ctx.m("staff-error-summary")
        ));
        for e in errors {
            let args: Vec<(&str, String)> = e.args.iter().map(|(k, v)| (*k, v.clone())).collect();
            body.push_str(&format!(
                "<li><a href=\"#{}\">{}</a></li>",
                field_of(&e.pointer),
                ctx.ma(e.message_id, &args)
            ));
        }
        body.push_str("</ul></div>");
    }

    let mut facts = String::new();
    let mut fact = |label: &str, value: String| facts.push_str(&format!("<dt>{}</dt><dd>{value}</dd>", ctx.m(label)));
    fact("staff-fact-phone", esc(p.phone.as_deref().unwrap_or("–")));
    fact("staff-fact-email", esc(p.email.as_deref().unwrap_or("–")));
    if let Some(a) = &p.address {
        fact("staff-fact-address", esc(&format!("{} {}, {} {}", a.street, a.house_number, a.postcode, a.town)));
    }
    fact("staff-fact-language", esc(p.language.as_deref().unwrap_or("da")));
    fact("staff-fact-exempt", yes_no(ctx, p.exempt_from_digital_post));
    let preferred =
        p.preferred_channel.map(|c| ctx.m(channel_label(c.as_str()))).unwrap_or_else(|| ctx.m("staff-channel-default"));
    fact("staff-fact-preferred", preferred);
    fact("staff-need-large-print", yes_no(ctx, p.large_print));
    fact("staff-need-easy-read", yes_no(ctx, p.easy_read));
    let notices: Vec<String> = p.notice_channels.iter().map(|c| ctx.m(channel_label(c.as_str()))).collect();
    fact("staff-fact-notices", if notices.is_empty() { "–".into() } else { notices.join(", ") });
    let helpers: Vec<String> = p.helpers.iter().map(|h| esc(&h.name)).collect();
    fact("staff-fact-helpers", if helpers.is_empty() { "–".into() } else { helpers.join(", ") });
    if let Some(by) = &stored.updated_by {
        fact("staff-fact-updated-by", esc(by));
    }
    body.push_str(&format!("<h2>{}</h2><dl class=\"facts\">{facts}</dl>", ctx.m("staff-citizen-profile")));

    // the letters this authority sent the citizen
    let letters = state.store.staff_citizen_letters(ctx.authority.id, id).await?;
    body.push_str(&format!("<h2>{}</h2>", ctx.m("staff-citizen-letters")));
    if letters.is_empty() {
        body.push_str(&format!("<p>{}</p>", ctx.m("staff-citizen-no-letters")));
    } else {
        body.push_str(&format!(
            "<div class=\"table-wrap\"><table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th>\
             <th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            ctx.m("staff-citizen-letters"),
            ctx.m("staff-col-letter"),
            ctx.m("staff-col-sent"),
            ctx.m("staff-col-deadline"),
        ));
        for l in &letters {
            body.push_str(&format!(
                "<tr><td><a href=\"/staff/letters/{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
                l.id,
                esc(&l.subject),
                ctx.time(state, l.created_at),
                l.deadline.as_deref().map(|d| ctx.date(d)).unwrap_or_else(|| "–".into()),
            ));
        }
        body.push_str("</tbody></table></div>");
    }

    body.push_str(&edit_form(ctx, id, form, errors));
    let name = p.name.clone().unwrap_or_else(|| crate::i18n::I18N.message(ctx.lang, "staff-citizen-unnamed", &[]));
    Ok(ctx.page(name, &format!("/staff/citizens/{id}"), body).status(status).into_response())
}

fn edit_form(ctx: &Ctx, id: Uuid, p: &ContactProfile, errors: &[FieldError]) -> String {
    let invalid = |field: &str| {
        if errors.iter().any(|e| field_of(&e.pointer) == field) { " aria-invalid=\"true\"" } else { "" }
    };
    let check = |name: &str, label: &str, on: bool| {
        let checked = if on { " checked" } else { "" };
        format!(
            "<div class=\"choice\"><input type=\"checkbox\" id=\"{name}\" name=\"{name}\" value=\"on\"{checked}>\
             <label for=\"{name}\">{}</label></div>",
            ctx.m(label)
        )
    };
    let mut f = format!(
        "<h2>{}</h2><p>{}</p><form method=\"post\" action=\"/staff/citizens/{id}/profile\">{}",
        ctx.m("staff-citizen-edit"),
        ctx.m("staff-citizen-edit-intro"),
        ctx.csrf_field()
    );
    f.push_str(&format!(
        "<fieldset><legend>{}</legend>{}",
        ctx.m("staff-citizen-channels"),
        check("exempt", "staff-fact-exempt", p.exempt_from_digital_post)
    ));
    f.push_str(&format!(
        "<label for=\"preferred_channel\">{}</label><select id=\"preferred_channel\" name=\"preferred_channel\">",
        ctx.m("staff-fact-preferred")
    ));
    for (value, label) in [
        ("", "staff-channel-default"),
        ("digital_post", "staff-channel-digital-post"),
        ("print", "staff-channel-print"),
        ("phone", "staff-channel-phone"),
    ] {
        let selected = if p.preferred_channel.map(|c| c.as_str()).unwrap_or("") == value { " selected" } else { "" };
        f.push_str(&format!("<option value=\"{value}\"{selected}>{}</option>", ctx.m(label)));
    }
    f.push_str("</select>");
    f.push_str(&check("notice_sms", "staff-citizen-notice-sms", p.notice_channels.contains(&ChannelKind::Sms)));
    f.push_str(&check("notice_email", "staff-citizen-notice-email", p.notice_channels.contains(&ChannelKind::Email)));
    f.push_str("</fieldset>");
    f.push_str(&format!(
        "<fieldset><legend>{}</legend><label for=\"phone\">{}</label><input id=\"phone\" name=\"phone\" type=\"tel\" \
         autocomplete=\"off\" value=\"{}\"{}><label for=\"email\">{}</label><input id=\"email\" name=\"email\" \
         type=\"email\" autocomplete=\"off\" value=\"{}\"{}><label for=\"language\">{}</label>\
         <p class=\"hint\" id=\"language-hint\">{}</p><input id=\"language\" name=\"language\" type=\"text\" \
         aria-describedby=\"language-hint\" value=\"{}\"{}>{}{}</fieldset>",
        ctx.m("staff-citizen-contact"),
        ctx.m("staff-fact-phone"),
        esc(p.phone.as_deref().unwrap_or("")),
        invalid("phone"),
        ctx.m("staff-fact-email"),
        esc(p.email.as_deref().unwrap_or("")),
        invalid("email"),
        ctx.m("staff-fact-language"),
        ctx.m("staff-citizen-language-hint"),
        esc(p.language.as_deref().unwrap_or("")),
        invalid("language"),
        check("large_print", "staff-need-large-print", p.large_print),
        check("easy_read", "staff-need-easy-read", p.easy_read),
    ));
    f.push_str(&format!("<fieldset><legend>{}</legend>", ctx.m("staff-fact-helpers")));
    for (i, h) in p.helpers.iter().enumerate() {
        let name = format!("remove_helper_{i}");
        f.push_str(&format!(
            "<div class=\"choice\"><input type=\"checkbox\" id=\"{name}\" name=\"{name}\" value=\"on\">\
             <label for=\"{name}\">{}</label></div>",
            ctx.ma("staff-citizen-remove-helper", &[("name", h.name.clone())])
        ));
    }
    f.push_str(&format!(
        "<p>{}</p><label for=\"helper_name\">{}</label><input id=\"helper_name\" name=\"helper_name\" type=\"text\" autocomplete=\"off\"{}>\
         <label for=\"helper_phone\">{}</label><input id=\"helper_phone\" name=\"helper_phone\" type=\"tel\" autocomplete=\"off\"{}>\
         <label for=\"helper_email\">{}</label><input id=\"helper_email\" name=\"helper_email\" type=\"email\" autocomplete=\"off\"{}>\
         <label for=\"helper_receives\">{}</label><select id=\"helper_receives\" name=\"helper_receives\">\
         <option value=\"notice\">{}</option><option value=\"copy\">{}</option></select>{}</fieldset>",
        ctx.m("staff-citizen-add-helper"),
        ctx.m("staff-citizen-helper-name"),
        invalid("helper_name"),
        ctx.m("staff-fact-phone"),
        invalid("helper_phone"),
        ctx.m("staff-fact-email"),
        invalid("helper_email"),
        ctx.m("staff-citizen-helper-receives"),
        ctx.m("staff-helper-receives-notice"),
        ctx.m("staff-helper-receives-copy"),
        check("helper_consent", "staff-citizen-helper-consent", false),
    ));
    f.push_str(&format!(
        "<div class=\"actions\"><button type=\"submit\">{}</button></div></form>",
        ctx.m("staff-citizen-save")
    ));
    f
}

#[derive(Deserialize, Default)]
pub struct ProfileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    exempt: Option<String>,
    #[serde(default)]
    preferred_channel: String,
    #[serde(default)]
    notice_sms: Option<String>,
    #[serde(default)]
    notice_email: Option<String>,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    large_print: Option<String>,
    #[serde(default)]
    easy_read: Option<String>,
    #[serde(default)]
    helper_name: String,
    #[serde(default)]
    helper_phone: String,
    #[serde(default)]
    helper_email: String,
    #[serde(default)]
    helper_receives: String,
    #[serde(default)]
    helper_consent: Option<String>,
    #[serde(flatten)]
    rest: std::collections::HashMap<String, String>,
}

fn text(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<ProfileForm>,
) -> Result<Response, WebError> {
    ctx.check_csrf(&form.csrf)?;
    let id = parse_id(&id)?;
    let stored = visible_profile(&state, &ctx, id).await?;
    let old = &stored.profile;
    let preferred = match form.preferred_channel.as_str() {
        "digital_post" => Some(ChannelKind::DigitalPost),
        "print" => Some(ChannelKind::Print),
        "phone" => Some(ChannelKind::Phone),
        _ => None,
    };
    let mut notices = Vec::new();
    if form.notice_sms.is_some() {
        notices.push(ChannelKind::Sms);
    }
    if form.notice_email.is_some() {
        notices.push(ChannelKind::Email);
    }
    let mut helpers: Vec<Helper> = old
        .helpers
        .iter()
        .enumerate()
        .filter(|(i, _)| !form.rest.contains_key(&format!("remove_helper_{i}")))
        .map(|(_, h)| h.clone())
        .collect();
    let mut errors = Vec::new();
    if let Some(name) = text(&form.helper_name) {
        if form.helper_consent.is_none() {
            errors.push(FieldError::new(format!("/helpers/{}/consent", helpers.len()), "staff-error-helper-consent"));
        }
        helpers.push(Helper {
            name,
            phone: text(&form.helper_phone),
            email: text(&form.helper_email),
            address: None,
            receives: if form.helper_receives == "copy" { HelperScope::Copy } else { HelperScope::Notice },
        });
    }
    let new = ContactProfile {
        name: old.name.clone(),
        address: old.address.clone(),
        phone: text(&form.phone),
        email: text(&form.email),
        language: text(&form.language),
        large_print: form.large_print.is_some(),
        easy_read: form.easy_read.is_some(),
        preferred_channel: preferred,
        notice_channels: notices,
        exempt_from_digital_post: form.exempt.is_some(),
        helpers,
    };
    errors.extend(validate_profile(&new));
    if !errors.is_empty() {
        return render(&state, &ctx, &stored, &new, &errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut changed = Vec::new();
    let mut note = |differs: bool, key: &'static str| {
        if differs {
            changed.push(key);
        }
    };
    note(old.exempt_from_digital_post != new.exempt_from_digital_post, "exempt_from_digital_post");
    note(old.preferred_channel != new.preferred_channel, "preferred_channel");
    note(old.notice_channels != new.notice_channels, "notice_channels");
    note(old.phone != new.phone, "phone");
    note(old.email != new.email, "email");
    note(old.language != new.language, "language");
    note(old.large_print != new.large_print, "large_print");
    note(old.easy_read != new.easy_read, "easy_read");
    note(old.helpers != new.helpers, "helpers");
    if changed.is_empty() {
        return Ok(see_other(format!("/staff/citizens/{id}?msg=saved")));
    }
    let (cpr, cpr_hash) = state.store.staff_citizen_cpr(id).await?.ok_or(WebError::NotFound)?;
    let update = ProfileUpdate {
        cpr,
        cpr_hash,
        preferred_channel: new.preferred_channel,
        exempt_from_digital_post: new.exempt_from_digital_post,
        phone: new.phone,
        email: new.email,
        language: new.language,
        large_print: new.large_print,
        easy_read: new.easy_read,
        name: new.name,
        address: new.address,
        notice_channels: new.notice_channels,
        updated_by: Some(ctx.authority.id),
        helpers: new.helpers,
    };
    state.store.set_contact_profile(&update, state.clock.now_ms()).await?;
    record_change(&state, &ctx, id, &changed.join(",")).await?;
    // field names only, never their values
    ctx.audit(&state, "profile.changed_on_behalf", id, serde_json::json!({ "fields": changed })).await?;
    Ok(see_other(format!("/staff/citizens/{id}?msg=saved")))
}
