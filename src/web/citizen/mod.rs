//! The citizens' pages (issue #5): log in (MitID, a code by SMS, or the access code printed in
//! paper letters), read letters, choose how to be reached, name helpers, and see everything
//! Budbringer knows. Server-rendered, no script; every text from `citizen.ftl`.

mod contact;
pub(crate) use contact::changed_fields;
mod data;
mod helpers;
mod letters;
mod login;

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use uuid::Uuid;

use super::error::WebError;
use super::lang::{self, Area};
use super::page::{NavLink, Page, esc, m};
use super::session::CitizenSession;
use crate::app::AppState;
use crate::domain::letter::FieldError;
use crate::store::{AccessEntry, StoredProfile};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/citizen/login", get(login::login_page))
        .route("/citizen/login/sms", post(login::send_code))
        .route("/citizen/login/code", get(login::code_page).post(login::verify_code))
        .route("/citizen/login/access-code", post(login::access_code))
        .route("/citizen/login/oidc", get(login::oidc_start))
        .route("/citizen/login/oidc/callback", get(login::oidc_callback))
        .route("/citizen/logout", post(login::logout))
        .route("/citizen", get(letters::list))
        .route("/citizen/letters", get(letters::list))
        .route("/citizen/letters/{id}", get(letters::read))
        .route("/citizen/letters/{id}/documents/{document}", get(letters::document))
        .route("/citizen/letters/{id}/reply", post(letters::reply))
        .route("/citizen/letters/{id}/callback", post(letters::callback))
        .route("/citizen/contact", get(contact::show).post(contact::save))
        .route("/citizen/contact/exemption", post(contact::exemption))
        .route("/citizen/helpers", get(helpers::show).post(helpers::add))
        .route("/citizen/helpers/{index}/revoke", post(helpers::revoke))
        .route("/citizen/data", get(data::show))
        .route("/citizen/data.json", get(data::json))
        .route("/citizen/data.pdf", get(data::pdf))
}

/// A logged-in citizen's request: who, their profile, and the language to answer in.
pub(crate) struct Ctx {
    pub citizen: CitizenSession,
    pub profile: Option<StoredProfile>,
    pub lang: &'static str,
}

impl Ctx {
    pub async fn load(state: &AppState, citizen: CitizenSession, headers: &HeaderMap) -> Result<Self, WebError> {
        let profile = state.store.stored_profile(citizen.citizen_id).await?;
        let lang = lang::choose(profile.as_ref().and_then(|p| p.profile.language.as_deref()), headers);
        Ok(Self { citizen, profile, lang })
    }

    pub fn id(&self) -> Uuid {
        self.citizen.citizen_id
    }

    pub fn csrf(&self) -> &str {
        &self.citizen.session.csrf_token
    }

    /// The hidden form field every logged-in form carries.
    pub fn csrf_field(&self) -> String {
        format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(self.csrf()))
    }

    pub fn check_csrf(&self, given: &str) -> Result<(), WebError> {
        super::session::check_csrf(&self.citizen.session, given)
    }

    pub fn m(&self, id: &str) -> String {
        m(self.lang, id)
    }

    pub fn ma(&self, id: &str, args: &[(&str, String)]) -> String {
        super::page::ma(self.lang, id, args)
    }

    /// The page frame with the citizen's navigation; `title_id` names the `<title>`/`<h1>`.
    pub fn page(&self, title: String, path: &str, body: String) -> Page {
        Page::new(Area::Citizen, self.lang, title, path).body(body).logged_in(nav(), self.csrf())
    }

    /// Note in the citizen's own access log that they read something.
    pub async fn log(&self, state: &AppState, action: &str, letter_id: Option<Uuid>) -> Result<(), WebError> {
        log_citizen(state, self.id(), action, letter_id).await
    }
}

pub(crate) fn nav() -> Vec<NavLink> {
    vec![
        NavLink { href: "/citizen/letters", label: "citizen-nav-letters" },
        NavLink { href: "/citizen/contact", label: "citizen-nav-contact" },
        NavLink { href: "/citizen/helpers", label: "citizen-nav-helpers" },
        NavLink { href: "/citizen/data", label: "citizen-nav-data" },
    ]
}

/// An entry in the citizen's access log, made by the citizen themself on these pages.
pub(crate) async fn log_citizen(
    state: &AppState,
    citizen_id: Uuid,
    action: &str,
    letter_id: Option<Uuid>,
) -> Result<(), WebError> {
    let entry = AccessEntry {
        id: Uuid::now_v7(),
        citizen_id,
        actor_kind: "citizen".into(),
        actor_id: Some(citizen_id),
        actor_name: "citizen_pages".into(),
        action: action.into(),
        letter_id,
        created_at: state.clock.now_ms(),
    };
    Ok(state.store.log_access(&entry).await?)
}

/// A time in Danish local time, `2026-11-25 09:00` (unambiguous in every language).
pub(crate) fn when(ms: i64) -> String {
    let ts = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let tz = jiff::tz::TimeZone::get("Europe/Copenhagen").unwrap_or(jiff::tz::TimeZone::UTC);
    ts.to_zoned(tz).strftime("%Y-%m-%d %H:%M").to_string()
}

/// A stored `YYYY-MM-DD` date in words, in any of the citizens' languages.
pub(crate) fn date_words(lang: &str, date: &str) -> String {
    match date.parse::<jiff::civil::Date>() {
        Ok(d) => super::page::ma(
            lang,
            "citizen-date",
            &[
                ("day", d.day().to_string()),
                ("month", crate::i18n::I18N.message(lang, &format!("citizen-month-{}", d.month()), &[])),
                ("year", d.year().to_string()),
            ],
        ),
        Err(_) => esc(date),
    }
}

/// A message for a stored key (`citizen-channel-print`), or the key itself when none exists
/// (a newer version may log actions this one has no words for).
pub(crate) fn word(lang: &str, prefix: &str, key: &str) -> String {
    let id = format!("{prefix}{key}");
    if crate::i18n::I18N.has_message(lang, &id) || crate::i18n::I18N.has_message("da", &id) {
        m(lang, &id)
    } else {
        esc(key)
    }
}

/// Form problems: which field (its HTML id) and the message id that says what to do.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub Vec<(String, &'static str)>);

impl Problems {
    pub fn add(&mut self, field: &str, message: &'static str) {
        if !self.0.iter().any(|(f, _)| f == field) {
            self.0.push((field.to_owned(), message));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn of(&self, field: &str) -> Option<&'static str> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, msg)| *msg)
    }

    /// The summary at the top of a form: a heading and a link to each field.
    pub fn summary(&self, lang: &str) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let mut html = format!(
            "<div class=\"error-summary\" role=\"alert\" aria-labelledby=\"error-summary-title\">\
             <h2 id=\"error-summary-title\">{}</h2><ul>",
            m(lang, "citizen-error-summary")
        );
        for (field, msg) in &self.0 {
            html.push_str(&format!("<li><a href=\"#{}\">{}</a></li>", esc(field), m(lang, msg)));
        }
        html.push_str("</ul></div>");
        html
    }

    /// Attributes for an input, and the message under it, tying the two together.
    pub fn field(&self, lang: &str, field: &str, hint: Option<&str>) -> (String, String) {
        let mut described = Vec::new();
        if hint.is_some() {
            described.push(format!("{field}-hint"));
        }
        let mut message = String::new();
        let mut invalid = "";
        if let Some(msg) = self.of(field) {
            described.push(format!("{field}-error"));
            message = format!("<p class=\"field-error\" id=\"{field}-error\">{}</p>", m(lang, msg));
            invalid = " aria-invalid=\"true\"";
        }
        let attrs = if described.is_empty() {
            invalid.to_owned()
        } else {
            format!(" aria-describedby=\"{}\"{invalid}", described.join(" "))
        };
        (attrs, message)
    }
}

/// The citizen pages' message for a profile validation error (the API's messages are in
/// Danish and English only).
pub(crate) fn field_problem(e: &FieldError) -> &'static str {
    let last = e.pointer.rsplit('/').next().unwrap_or("");
    match last {
        "phone" => "citizen-error-phone",
        "email" => "citizen-error-email",
        "name" => "citizen-error-name",
        "street" | "house_number" | "postcode" | "town" | "co" | "floor" | "door" | "country" => {
            "citizen-error-address"
        }
        "receives" => "citizen-error-helper-unreachable",
        _ => "citizen-error-invalid",
    }
}

/// A labelled text input with its hint and error.
#[allow(clippy::too_many_arguments)] // each is one attribute of the field; a struct would only rename them
pub(crate) fn text_input(
    lang: &str,
    problems: &Problems,
    field: &str,
    kind: &str,
    label_id: &str,
    hint_id: Option<&str>,
    value: &str,
    autocomplete: &str,
) -> String {
    let (attrs, error) = problems.field(lang, field, hint_id);
    let hint = hint_id.map(|h| format!("<p class=\"hint\" id=\"{field}-hint\">{}</p>", m(lang, h))).unwrap_or_default();
    format!(
        "<label for=\"{field}\">{label}</label>{hint}{error}<input type=\"{kind}\" id=\"{field}\" name=\"{field}\" \
         value=\"{value}\" autocomplete=\"{autocomplete}\"{attrs}>",
        label = m(lang, label_id),
        value = esc(value),
    )
}

/// `Some(trimmed)` unless blank.
pub(crate) fn non_blank(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// A response with `Set-Cookie` values added.
pub(crate) fn with_cookies(response: impl IntoResponse, cookies: Vec<axum::http::HeaderValue>) -> Response {
    let mut response = response.into_response();
    for c in cookies {
        response.headers_mut().append(axum::http::header::SET_COOKIE, c);
    }
    response
}
