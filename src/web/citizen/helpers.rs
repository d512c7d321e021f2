//! My helpers: trusted people who get a notice, or a paper copy, of important letters — as the
//! citizen chose, with consent recorded, revocable at any time. Routing gives a helper exactly
//! what was granted and nothing more.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::contact::save_profile;
use super::{Ctx, Problems, field_problem, non_blank, text_input};
use crate::app::AppState;
use crate::domain::letter::PostalAddress;
use crate::domain::routing::{ContactProfile, Helper, HelperScope, validate_profile};
use crate::i18n::I18N;
use crate::web::error::WebError;
use crate::web::page::esc;
use crate::web::session::CitizenSession;

#[derive(Deserialize, Default, Debug)]
pub struct HelperForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    house_number: String,
    #[serde(default)]
    postcode: String,
    #[serde(default)]
    town: String,
    #[serde(default)]
    receives: String,
    #[serde(default)]
    consent: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// `GET /citizen/helpers`.
pub async fn show(
    State(state): State<AppState>,
    citizen: CitizenSession,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    let ctx = Ctx::load(&state, citizen, &headers).await?;
    ctx.log(&state, "read_profile", None).await?;
    let notice = match done.done.as_str() {
        "added" => Some("citizen-helper-added"),
        "revoked" => Some("citizen-helper-revoked"),
        _ => None,
    };
    let form = HelperForm { receives: "notice".into(), ..Default::default() };
    Ok(render(&ctx, &form, &Problems::default(), notice, StatusCode::OK))
}

fn render(ctx: &Ctx, form: &HelperForm, problems: &Problems, notice: Option<&str>, status: StatusCode) -> Response {
    let lang = ctx.lang;
    let helpers = ctx.profile.as_ref().map(|p| p.profile.helpers.clone()).unwrap_or_default();
    let mut body = problems.summary(lang);
    if let Some(id) = notice {
        body.push_str(&format!("<p class=\"notice\" role=\"status\">{}</p>", ctx.m(id)));
    }
    body.push_str(&format!("<p>{}</p>", ctx.m("citizen-helpers-intro")));
    body.push_str(&format!("<h2 id=\"current\">{}</h2>", ctx.m("citizen-helpers-current")));
    if helpers.is_empty() {
        body.push_str(&format!("<p>{}</p>", ctx.m("citizen-helpers-none")));
    } else {
        body.push_str("<ul class=\"plain helpers\">");
        for (i, h) in helpers.iter().enumerate() {
            let what = match h.receives {
                HelperScope::Notice => "citizen-helper-receives-notice",
                HelperScope::Copy => "citizen-helper-receives-copy",
            };
            let reach: Vec<String> =
                [h.phone.clone(), h.email.clone()].into_iter().flatten().map(|s| esc(&s)).collect();
            body.push_str(&format!(
                "<li class=\"box\"><p><strong>{name}</strong><br>{what}<br>{reach}</p>\
                 <form method=\"post\" action=\"/citizen/helpers/{i}/revoke\">{csrf}\
                 <input type=\"hidden\" name=\"name\" value=\"{name}\">\
                 <button type=\"submit\" class=\"danger\">{revoke}</button></form></li>",
                name = esc(&h.name),
                what = ctx.m(what),
                reach = reach.join(", "),
                csrf = ctx.csrf_field(),
                revoke = ctx.ma("citizen-helper-revoke", &[("name", h.name.clone())]),
            ));
        }
        body.push_str("</ul>");
    }

    body.push_str(&format!(
        "<h2 id=\"add\">{}</h2><form method=\"post\" action=\"/citizen/helpers\" novalidate>{}",
        ctx.m("citizen-helper-add-title"),
        ctx.csrf_field()
    ));
    body.push_str(&text_input(lang, problems, "name", "text", "citizen-helper-name", None, &form.name, "off"));
    body.push_str(&text_input(
        lang,
        problems,
        "phone",
        "tel",
        "citizen-phone-label",
        Some("citizen-helper-phone-hint"),
        &form.phone,
        "off",
    ));
    body.push_str(&text_input(lang, problems, "email", "email", "citizen-email-label", None, &form.email, "off"));
    let (attrs, error) = problems.field(lang, "receives-notice", None);
    body.push_str(&format!("<fieldset{attrs}><legend>{}</legend>{error}", ctx.m("citizen-helper-receives-legend")));
    for (value, label) in [("notice", "citizen-helper-receives-notice"), ("copy", "citizen-helper-receives-copy")] {
        body.push_str(&format!(
            "<div class=\"choice\"><input type=\"radio\" id=\"receives-{value}\" name=\"receives\" value=\"{value}\"{}>\
             <label for=\"receives-{value}\">{}</label></div>",
            if form.receives == value { " checked" } else { "" },
            ctx.m(label)
        ));
    }
    body.push_str("</fieldset>");
    body.push_str(&format!(
        "<fieldset><legend>{}</legend><p class=\"hint\">{}</p>",
        ctx.m("citizen-helper-address-legend"),
        ctx.m("citizen-helper-address-hint")
    ));
    body.push_str(&text_input(lang, problems, "street", "text", "citizen-address-street", None, &form.street, "off"));
    body.push_str(&text_input(
        lang,
        problems,
        "house_number",
        "text",
        "citizen-address-number",
        None,
        &form.house_number,
        "off",
    ));
    body.push_str(&text_input(
        lang,
        problems,
        "postcode",
        "text",
        "citizen-address-postcode",
        None,
        &form.postcode,
        "off",
    ));
    body.push_str(&text_input(lang, problems, "town", "text", "citizen-address-town", None, &form.town, "off"));
    body.push_str("</fieldset>");
    let (attrs, error) = problems.field(lang, "consent", None);
    body.push_str(&format!(
        "{error}<div class=\"choice\"><input type=\"checkbox\" id=\"consent\" name=\"consent\"{}{attrs}>\
         <label for=\"consent\">{}</label></div><p><button type=\"submit\">{}</button></p></form>",
        if form.consent.is_some() { " checked" } else { "" },
        ctx.m("citizen-helper-consent"),
        ctx.m("citizen-helper-add-button"),
    ));
    let title = I18N.message(lang, "citizen-helpers-title", &[]);
    ctx.page(title, "/citizen/helpers", body).status(status).into_response()
}

/// `POST /citizen/helpers`: add a helper, with consent.
pub async fn add(
    State(state): State<AppState>,
    citizen: CitizenSession,
    headers: HeaderMap,
    Form(form): Form<HelperForm>,
) -> Result<Response, WebError> {
    let ctx = Ctx::load(&state, citizen, &headers).await?;
    ctx.check_csrf(&form.csrf)?;
    let old = ctx.profile.as_ref().map(|p| p.profile.clone()).unwrap_or_default();
    let mut problems = Problems::default();
    let receives = match form.receives.as_str() {
        "copy" => HelperScope::Copy,
        "notice" => HelperScope::Notice,
        _ => {
            problems.add("receives-notice", "citizen-error-helper-receives");
            HelperScope::Notice
        }
    };
    let any_address =
        [&form.street, &form.house_number, &form.postcode, &form.town].iter().any(|s| !s.trim().is_empty());
    let address = any_address.then(|| PostalAddress {
        co: None,
        street: form.street.trim().to_owned(),
        house_number: form.house_number.trim().to_owned(),
        floor: None,
        door: None,
        postcode: form.postcode.trim().to_owned(),
        town: form.town.trim().to_owned(),
        country: None,
    });
    let helper = Helper {
        name: form.name.trim().to_owned(),
        phone: non_blank(&form.phone),
        email: non_blank(&form.email),
        address,
        receives,
    };
    if helper.name.is_empty() {
        problems.add("name", "citizen-error-helper-name");
    }
    // validate the helper alone: the citizen's own fields were checked when they were saved
    let alone = ContactProfile { helpers: vec![helper.clone()], ..Default::default() };
    for e in validate_profile(&alone) {
        let field = e.pointer.rsplit('/').next().unwrap_or("");
        let field = match field {
            "receives" if receives == HelperScope::Copy => "street",
            "receives" => "phone",
            "name" | "phone" | "email" | "street" | "house_number" | "postcode" | "town" => field,
            _ => "street",
        };
        let message = match (field, receives) {
            ("street", HelperScope::Copy) if helper.address.is_none() => "citizen-error-helper-copy-address",
            ("phone", HelperScope::Notice) if helper.phone.is_none() && helper.email.is_none() => {
                "citizen-error-helper-notice-contact"
            }
            _ => field_problem(&e),
        };
        problems.add(field, message);
    }
    if form.consent.is_none() {
        problems.add("consent", "citizen-error-helper-consent");
    }
    if !problems.is_empty() {
        return Ok(render(&ctx, &form, &problems, None, StatusCode::UNPROCESSABLE_ENTITY));
    }
    let mut new = old.clone();
    new.helpers.push(helper);
    // the consent and its time are in the change log
    let scope = match receives {
        HelperScope::Notice => "notice",
        HelperScope::Copy => "copy",
    };
    save_profile(&state, ctx.id(), &new, &[format!("helper_added:{scope}:consent")]).await?;
    Ok(Redirect::to("/citizen/helpers?done=added").into_response())
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// `POST /citizen/helpers/{index}/revoke`: the helper gets nothing more, from now on.
pub async fn revoke(
    State(state): State<AppState>,
    citizen: CitizenSession,
    headers: HeaderMap,
    Path(index): Path<usize>,
    Form(form): Form<RevokeForm>,
) -> Result<Response, WebError> {
    let ctx = Ctx::load(&state, citizen, &headers).await?;
    ctx.check_csrf(&form.csrf)?;
    let mut new = ctx.profile.as_ref().map(|p| p.profile.clone()).unwrap_or_default();
    // the name guards against a list that changed in another tab
    if new.helpers.get(index).is_none_or(|h| h.name != form.name) {
        return Err(WebError::NotFound);
    }
    new.helpers.remove(index);
    save_profile(&state, ctx.id(), &new, &["helper_revoked".to_owned()]).await?;
    Ok(Redirect::to("/citizen/helpers?done=revoked").into_response())
}
