//! The caseworkers' pages (issue #6): alerts, the callback queue, letter timelines, citizens'
//! contact profiles and the inclusion report. Server-rendered, no script; every text from
//! Fluent (`locales/{da,en}/staff.ftl`).
//!
//! Access: a caseworker belongs to one authority and sees only its data; anything else is
//! answered "not found". Every role (caseworker, team lead, administrator) sees every unit of
//! its own authority — the unit filters are for focus, not for secrecy, and the inclusion
//! report is about the whole authority. Every read of a citizen's letter or profile goes into
//! the citizen's access log as "Name (Authority)".

mod alerts;
mod callbacks;
mod citizen;
mod letter;
pub mod login;
pub mod report;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use uuid::Uuid;

use super::error::WebError;
use super::lang::{self, Area};
use super::page::{NavLink, Page, esc, m};
use super::session::{StaffSession, check_csrf};
use crate::app::AppState;
use crate::domain::audit_chain::ActorKind;
use crate::store::staff_pages::Caseworker;
use crate::store::{AccessEntry, AuditEntry, Authority};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/staff", get(|| async { Redirect::to("/staff/alerts") }))
        .route("/staff/login", get(login::form).post(login::submit))
        .route("/staff/logout", post(login::logout))
        .merge(login::oidc_routes())
        .route("/staff/alerts", get(alerts::list))
        .route("/staff/alerts/{id}/take", post(alerts::take))
        .route("/staff/alerts/{id}/close", post(alerts::close))
        .route("/staff/callbacks", get(callbacks::list))
        .route("/staff/callbacks/{id}", get(callbacks::show))
        .route("/staff/callbacks/{id}/claim", post(callbacks::claim))
        .route("/staff/callbacks/{id}/outcome", post(callbacks::outcome))
        .route("/staff/callbacks/{id}/reschedule", post(callbacks::reschedule))
        .route("/staff/letters/{id}", get(letter::show))
        .route("/staff/citizens", get(citizen::lookup_form))
        .route("/staff/citizens/lookup", post(citizen::lookup))
        .route("/staff/citizens/{id}", get(citizen::show))
        .route("/staff/citizens/{id}/profile", post(citizen::update))
        .route("/staff/report", get(report::page))
        .route("/staff/report.csv", get(report::csv))
        .route("/staff/report.json", get(report::json))
}

/// A logged-in caseworker with their account and authority, and the page language.
pub struct Ctx {
    pub session: StaffSession,
    pub me: Caseworker,
    pub authority: Authority,
    pub lang: &'static str,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = StaffSession::from_request_parts(parts, state).await?;
        let login = WebError::LoginRequired { login_path: "/staff/login" };
        // a disabled account, or one moved to another authority, loses its sessions at once
        let me = state
            .store
            .caseworker(session.caseworker_id)
            .await?
            .filter(|c| c.disabled_at.is_none() && c.authority_id == session.authority_id)
            .ok_or(login)?;
        let authority = state
            .store
            .authority(session.authority_id)
            .await?
            .ok_or(WebError::LoginRequired { login_path: "/staff/login" })?;
        let lang = lang::choose(None, &parts.headers);
        Ok(Ctx { session, me, authority, lang })
    }
}

const NAV: [(&str, &str); 4] = [
    ("/staff/alerts", "staff-nav-alerts"),
    ("/staff/callbacks", "staff-nav-callbacks"),
    ("/staff/citizens", "staff-nav-citizens"),
    ("/staff/report", "staff-nav-report"),
];

impl Ctx {
    /// The page frame, logged in: navigation, logout and the language switch.
    pub fn page(&self, title: String, path: &str, body: String) -> Page {
        let nav = NAV.iter().map(|(href, label)| NavLink { href, label }).collect();
        Page::new(Area::Staff, self.lang, title, path).body(body).logged_in(nav, &self.session.session.csrf_token)
    }

    pub fn m(&self, id: &str) -> String {
        m(self.lang, id)
    }

    pub fn ma(&self, id: &str, args: &[(&str, String)]) -> String {
        super::page::ma(self.lang, id, args)
    }

    /// The hidden field every form carries.
    pub fn csrf_field(&self) -> String {
        format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(&self.session.session.csrf_token))
    }

    pub fn check_csrf(&self, given: &str) -> Result<(), WebError> {
        check_csrf(&self.session.session, given)
    }

    /// How the citizen's access log and profile history name this caseworker.
    pub fn actor_name(&self) -> String {
        format!("{} ({})", self.me.display_name, self.authority.name)
    }

    /// Note a read or change of a citizen's data for the citizen's access log.
    pub async fn log_access(
        &self,
        state: &AppState,
        citizen_id: Uuid,
        action: &str,
        letter_id: Option<Uuid>,
    ) -> Result<(), WebError> {
        let entry = AccessEntry {
            id: Uuid::now_v7(),
            citizen_id,
            actor_kind: "caseworker".into(),
            actor_id: Some(self.me.id),
            actor_name: self.actor_name(),
            action: action.into(),
            letter_id,
            created_at: state.clock.now_ms(),
        };
        Ok(state.store.log_access(&entry).await?)
    }

    /// Note an action in the audit log (ids only in `subject` and `details`).
    pub async fn audit(
        &self,
        state: &AppState,
        action: &'static str,
        subject: impl ToString,
        details: serde_json::Value,
    ) -> Result<(), WebError> {
        let entry = AuditEntry::new(
            state.clock.now_ms(),
            ActorKind::Caseworker,
            self.me.id.to_string(),
            Some(self.authority.id),
            action,
            subject,
        )
        .details(details);
        state.store.append_audit(&entry).await?;
        Ok(())
    }

    /// The time zone the authority works in (its own, else the installation's call hours').
    pub fn time_zone(&self, state: &AppState) -> jiff::tz::TimeZone {
        let name = self.authority.time_zone.as_deref().unwrap_or(&state.settings.channels.phone.time_zone);
        jiff::tz::TimeZone::get(name).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    /// A moment as the caseworker reads it, with a machine-readable `<time>`.
    pub fn time(&self, state: &AppState, ms: i64) -> String {
        let Ok(at) = jiff::Timestamp::from_millisecond(ms) else { return String::new() };
        let local = at.to_zoned(self.time_zone(state));
        format!("<time datetime=\"{at}\">{}</time>", esc(&local.strftime("%Y-%m-%d %H:%M").to_string()))
    }

    /// A date (`YYYY-MM-DD`) in words.
    pub fn date(&self, date: &str) -> String {
        esc(&crate::i18n::long_date_str(self.lang, date))
    }
}

/// A short confirmation after a form (post/redirect/get): only known ids are shown.
pub fn flash(ctx: &Ctx, msg: Option<&str>) -> String {
    let (class, id) = match msg {
        Some("taken") => ("notice", "staff-flash-taken"),
        Some("closed") => ("notice", "staff-flash-closed"),
        Some("note-required") => ("warning", "staff-flash-note-required"),
        Some("claimed") => ("notice", "staff-flash-claimed"),
        Some("claimed-by-other") => ("warning", "staff-flash-claimed-by-other"),
        Some("logged") => ("notice", "staff-flash-logged"),
        Some("bad-minutes") => ("warning", "staff-flash-bad-minutes"),
        Some("bad-time") => ("warning", "staff-flash-bad-time"),
        Some("rescheduled") => ("notice", "staff-flash-rescheduled"),
        Some("saved") => ("notice", "staff-flash-saved"),
        _ => return String::new(),
    };
    format!("<p class=\"{class}\" role=\"status\">{}</p>", ctx.m(id))
}

/// Ids in URLs: anything that is not a UUID is simply not found.
pub fn parse_id(raw: &str) -> Result<Uuid, WebError> {
    raw.parse().map_err(|_| WebError::NotFound)
}

/// The words for a channel.
pub fn channel_label(channel: &str) -> &'static str {
    match channel {
        "digital_post" => "staff-channel-digital-post",
        "print" => "staff-channel-print",
        "sms" => "staff-channel-sms",
        "email" => "staff-channel-email",
        "phone" => "staff-channel-phone",
        _ => "staff-channel-other",
    }
}

pub fn see_other(path: String) -> Response {
    Redirect::to(&path).into_response()
}

#[cfg(test)]
mod tests {
    /// Every `staff-…` id the staff pages use exists in Danish and English.
    #[test]
    fn every_message_id_exists_in_both_languages() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("login.rs"),
            include_str!("alerts.rs"),
            include_str!("callbacks.rs"),
            include_str!("letter.rs"),
            include_str!("citizen.rs"),
            include_str!("report.rs"),
        ];
        for source in sources {
            for (at, _) in source.match_indices("\"staff-") {
                let rest = &source[at + 1..];
                let piece = &rest[..rest.find('"').unwrap_or(rest.len())];
                if piece.len() > 6 && piece.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
                    for lang in ["da", "en"] {
                        assert!(crate::i18n::I18N.has_message(lang, piece), "{lang}/staff.ftl lacks {piece}");
                    }
                }
            }
        }
    }
}
