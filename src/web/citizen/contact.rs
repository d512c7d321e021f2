//! How I want to hear from you: the letter channel, notices, needs, language — and exemption
//! from Digital Post in one step, no reason asked, revocable. Saved through the same profile
//! storage the authority API uses (so it applies at once for every authority), and recorded
//! as a change the citizen made.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::{Ctx, Problems, field_problem, non_blank, text_input};
use crate::app::AppState;
use crate::domain::ChannelKind;
use crate::domain::routing::{ContactProfile, validate_profile};
use crate::i18n::I18N;
use crate::store::{ProfileChange, ProfileUpdate};
use crate::web::error::WebError;
use crate::web::lang::LANGUAGE_NAMES;
use crate::web::page::esc;
use crate::web::session::CitizenSession;

/// Save a profile the citizen changed, and note which fields changed, by them.
pub(crate) async fn save_profile(
    state: &AppState,
    citizen_id: Uuid,
    profile: &ContactProfile,
    fields: &[String],
) -> Result<(), WebError> {
    let (cpr, cpr_hash) = state.store.citizen_identity(citizen_id).await?.ok_or(WebError::NotFound)?;
    let update = ProfileUpdate {
        cpr,
        cpr_hash,
        preferred_channel: profile.preferred_channel,
        exempt_from_digital_post: profile.exempt_from_digital_post,
        phone: profile.phone.clone(),
        email: profile.email.clone(),
        language: profile.language.clone(),
        large_print: profile.large_print,
        easy_read: profile.easy_read,
        name: profile.name.clone(),
        address: profile.address.clone(),
        notice_channels: profile.notice_channels.clone(),
        helpers: profile.helpers.clone(),
        updated_by: None,
    };
    let now = state.clock.now_ms();
    state.store.set_contact_profile(&update, now).await?;
    if !fields.is_empty() {
        let change = ProfileChange {
            id: Uuid::now_v7(),
            citizen_id,
            actor_kind: "citizen".into(),
            actor_name: String::new(),
            authority_id: None,
            fields: fields.join(","),
            created_at: now,
        };
        state.store.record_profile_change(&change).await?;
    }
    Ok(())
}

/// Which fields differ between two profiles (the keys the change log shows).
pub(crate) fn changed_fields(old: &ContactProfile, new: &ContactProfile) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |differs: bool, key: &str| {
        if differs {
            out.push(key.to_owned());
        }
    };
    check(old.preferred_channel != new.preferred_channel, "preferred_channel");
    check(old.notice_channels != new.notice_channels, "notice_channels");
    check(old.phone != new.phone, "phone");
    check(old.email != new.email, "email");
    check(old.large_print != new.large_print, "large_print");
    check(old.easy_read != new.easy_read, "easy_read");
    check(old.language != new.language, "language");
    check(old.exempt_from_digital_post != new.exempt_from_digital_post, "exempt_from_digital_post");
    check(old.name != new.name, "name");
    check(old.address != new.address, "address");
    check(old.helpers != new.helpers, "helpers");
    out
}

#[derive(Deserialize, Default, Debug)]
pub struct ContactForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    letter_channel: String,
    #[serde(default)]
    notice_sms: Option<String>,
    #[serde(default)]
    notice_email: Option<String>,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    large_print: Option<String>,
    #[serde(default)]
    easy_read: Option<String>,
    #[serde(default)]
    language: String,
}

impl ContactForm {
    fn from_profile(p: &ContactProfile) -> Self {
        let on = |b: bool| b.then(|| "on".to_owned());
        ContactForm {
            csrf: String::new(),
            letter_channel: p.preferred_channel.map(|c| c.as_str().to_owned()).unwrap_or_else(|| "digital_post".into()),
            notice_sms: on(p.notice_channels.contains(&ChannelKind::Sms)),
            notice_email: on(p.notice_channels.contains(&ChannelKind::Email)),
            phone: p.phone.clone().unwrap_or_default(),
            email: p.email.clone().unwrap_or_default(),
            large_print: on(p.large_print),
            easy_read: on(p.easy_read),
            language: p.language.clone().unwrap_or_default(),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct Saved {
    #[serde(default)]
    saved: String,
}

/// `GET /citizen/contact`.
pub async fn show(
    State(state): State<AppState>,
    citizen: CitizenSession,
    headers: HeaderMap,
    Query(saved): Query<Saved>,
) -> Result<Response, WebError> {
    let ctx = Ctx::load(&state, citizen, &headers).await?;
    ctx.log(&state, "read_profile", None).await?;
    let profile = ctx.profile.as_ref().map(|p| p.profile.clone()).unwrap_or_default();
    let notice = match saved.saved.as_str() {
        "profile" => Some("citizen-contact-saved"),
        "exempt" => Some("citizen-exempt-done"),
        "digital" => Some("citizen-exempt-revoked"),
        _ => None,
    };
    Ok(render(&ctx, &profile, &ContactForm::from_profile(&profile), &Problems::default(), notice, StatusCode::OK))
}

fn radio(ctx: &Ctx, name: &str, value: &str, checked: bool, label: &str, hint: Option<&str>) -> String {
    let id = format!("{name}-{value}");
    let hint_html = hint.map(|h| format!("<p class=\"hint\" id=\"{id}-hint\">{}</p>", ctx.m(h))).unwrap_or_default();
    let described = if hint.is_some() { format!(" aria-describedby=\"{id}-hint\"") } else { String::new() };
    format!(
        "<div class=\"choice\"><input type=\"radio\" id=\"{id}\" name=\"{name}\" value=\"{value}\"{checked}{described}>\
         <div><label for=\"{id}\">{}</label>{hint_html}</div></div>",
        ctx.m(label),
        checked = if checked { " checked" } else { "" },
    )
}

fn checkbox(ctx: &Ctx, name: &str, checked: bool, label: &str) -> String {
    format!(
        "<div class=\"choice\"><input type=\"checkbox\" id=\"{name}\" name=\"{name}\"{}>\
         <label for=\"{name}\">{}</label></div>",
        if checked { " checked" } else { "" },
        ctx.m(label)
    )
}

fn render(
    ctx: &Ctx,
    profile: &ContactProfile,
    form: &ContactForm,
    problems: &Problems,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let mut body = problems.summary(lang);
    if let Some(id) = notice {
        body.push_str(&format!("<p class=\"notice\" role=\"status\">{}</p>", ctx.m(id)));
    }
    body.push_str(&format!("<p>{}</p>", ctx.m("citizen-contact-intro")));

    // exemption first: one button, no reason asked
    body.push_str(&format!(
        "<section class=\"box\" aria-labelledby=\"exempt\"><h2 id=\"exempt\">{}</h2>",
        ctx.m("citizen-exempt-title")
    ));
    let (text, value, button, class) = if profile.exempt_from_digital_post {
        ("citizen-exempt-is-exempt", "0", "citizen-exempt-revoke-button", "secondary")
    } else {
        ("citizen-exempt-explain", "1", "citizen-exempt-button", "")
    };
    body.push_str(&format!(
        "<p>{}</p><form method=\"post\" action=\"/citizen/contact/exemption\">{}\
         <input type=\"hidden\" name=\"exempt\" value=\"{value}\"><button type=\"submit\" class=\"{class}\">{}</button>\
         </form></section>",
        ctx.m(text),
        ctx.csrf_field(),
        ctx.m(button),
    ));

    body.push_str(&format!(
        "<form method=\"post\" action=\"/citizen/contact\" novalidate>{}<fieldset><legend>{}</legend>",
        ctx.csrf_field(),
        ctx.m("citizen-contact-letters-legend")
    ));
    let channel = form.letter_channel.as_str();
    body.push_str(&radio(
        ctx,
        "letter_channel",
        "digital_post",
        channel == "digital_post",
        "citizen-channel-digital_post",
        Some("citizen-channel-digital_post-hint"),
    ));
    body.push_str(&radio(ctx, "letter_channel", "print", channel == "print", "citizen-channel-print", None));
    body.push_str(&radio(
        ctx,
        "letter_channel",
        "phone",
        channel == "phone",
        "citizen-channel-phone",
        Some("citizen-channel-phone-hint"),
    ));
    body.push_str("</fieldset>");
    body.push_str(&format!("<fieldset><legend>{}</legend>", ctx.m("citizen-contact-notices-legend")));
    body.push_str(&checkbox(ctx, "notice_sms", form.notice_sms.is_some(), "citizen-notice-sms"));
    body.push_str(&checkbox(ctx, "notice_email", form.notice_email.is_some(), "citizen-notice-email"));
    body.push_str("</fieldset>");
    body.push_str(&text_input(
        lang,
        problems,
        "phone",
        "tel",
        "citizen-phone-label",
        Some("citizen-phone-hint"),
        &form.phone,
        "tel",
    ));
    body.push_str(&text_input(lang, problems, "email", "email", "citizen-email-label", None, &form.email, "email"));
    body.push_str(&format!("<fieldset><legend>{}</legend>", ctx.m("citizen-contact-needs-legend")));
    body.push_str(&checkbox(ctx, "large_print", form.large_print.is_some(), "citizen-need-large-print"));
    body.push_str(&checkbox(ctx, "easy_read", form.easy_read.is_some(), "citizen-need-easy-read"));
    body.push_str("</fieldset>");
    let (attrs, error) = problems.field(lang, "language", None);
    body.push_str(&format!(
        "<label for=\"language\">{}</label>{error}<select id=\"language\" name=\"language\"{attrs}><option value=\"\">{}</option>",
        ctx.m("citizen-language-label"),
        ctx.m("citizen-language-none")
    ));
    for (tag, name) in LANGUAGE_NAMES {
        let selected = if form.language == *tag { " selected" } else { "" };
        body.push_str(&format!("<option value=\"{tag}\" lang=\"{tag}\"{selected}>{}</option>", esc(name)));
    }
    body.push_str(&format!(
        "</select><p><button type=\"submit\">{}</button></p></form>",
        ctx.m("citizen-contact-save")
    ));
    let title = I18N.message(lang, "citizen-contact-title", &[]);
    ctx.page(title, "/citizen/contact", body).status(status).into_response()
}

/// `POST /citizen/contact`: validated on the server; on error the values stay.
pub async fn save(
    State(state): State<AppState>,
    citizen: CitizenSession,
    headers: HeaderMap,
    Form(form): Form<ContactForm>,
) -> Result<Response, WebError> {
    let ctx = Ctx::load(&state, citizen, &headers).await?;
    ctx.check_csrf(&form.csrf)?;
    let old = ctx.profile.as_ref().map(|p| p.profile.clone()).unwrap_or_default();
    let mut problems = Problems::default();
    let preferred = match form.letter_channel.as_str() {
        "digital_post" => None,
        "print" => Some(ChannelKind::Print),
        "phone" => Some(ChannelKind::Phone),
        _ => {
            problems.add("letter_channel-digital_post", "citizen-error-invalid");
            None
        }
    };
    let mut notices = Vec::new();
    if form.notice_sms.is_some() {
        notices.push(ChannelKind::Sms);
    }
    if form.notice_email.is_some() {
        notices.push(ChannelKind::Email);
    }
    let language = non_blank(&form.language);
    if let Some(l) = &language
        && !LANGUAGE_NAMES.iter().any(|(tag, _)| tag == l)
    {
        problems.add("language", "citizen-error-invalid");
    }
    let new = ContactProfile {
        preferred_channel: preferred,
        notice_channels: notices,
        phone: non_blank(&form.phone),
        email: non_blank(&form.email),
        large_print: form.large_print.is_some(),
        easy_read: form.easy_read.is_some(),
        language,
        ..old.clone()
    };
    for e in validate_profile(&new) {
        let field = match e.pointer.as_str() {
            "/phone" => "phone",
            "/email" => "email",
            "/language" => "language",
            _ => continue,
        };
        problems.add(field, field_problem(&e));
    }
    if new.phone.is_none() && form.notice_sms.is_some() {
        problems.add("phone", "citizen-error-sms-needs-phone");
    }
    if new.phone.is_none() && preferred == Some(ChannelKind::Phone) {
        problems.add("phone", "citizen-error-call-needs-phone");
    }
    if new.email.is_none() && form.notice_email.is_some() {
        problems.add("email", "citizen-error-email-needed");
    }
    if !problems.is_empty() {
        return Ok(render(&ctx, &old, &form, &problems, None, StatusCode::UNPROCESSABLE_ENTITY));
    }
    save_profile(&state, ctx.id(), &new, &changed_fields(&old, &new)).await?;
    Ok(Redirect::to("/citizen/contact?saved=profile").into_response())
}

#[derive(Deserialize)]
pub struct ExemptionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    exempt: String,
}

/// `POST /citizen/contact/exemption`: exempt (or back to Digital Post) at once, for every
/// authority. No reason is asked or kept.
pub async fn exemption(
    State(state): State<AppState>,
    citizen: CitizenSession,
    headers: HeaderMap,
    Form(form): Form<ExemptionForm>,
) -> Result<Response, WebError> {
    let ctx = Ctx::load(&state, citizen, &headers).await?;
    ctx.check_csrf(&form.csrf)?;
    let exempt = form.exempt == "1";
    let old = ctx.profile.as_ref().map(|p| p.profile.clone()).unwrap_or_default();
    let new = ContactProfile { exempt_from_digital_post: exempt, ..old.clone() };
    save_profile(&state, ctx.id(), &new, &changed_fields(&old, &new)).await?;
    Ok(Redirect::to(if exempt { "/citizen/contact?saved=exempt" } else { "/citizen/contact?saved=digital" })
        .into_response())
}
