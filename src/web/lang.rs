//! Which language a page is in: the citizen's profile, then the `bb_lang` cookie, then
//! `Accept-Language`. A language switch on every page posts to `/lang`.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::error::WebError;
use super::session::{self, Audience};
use crate::app::AppState;
use crate::i18n::{I18N, LANGUAGES};

pub const LANG_COOKIE: &str = "bb_lang";

/// The languages of every page, with their own names (shown in the switch); the same order
/// as `i18n::LANGUAGES`.
pub const LANGUAGE_NAMES: &[(&str, &str)] =
    &[("da", "Dansk"), ("en", "English"), ("sv", "Svenska"), ("ar", "العربية"), ("uk", "Українська")];

/// Which pages a person is on: the citizens' or the caseworkers'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Citizen,
    Staff,
}

/// The language to show a page in. `profile` is the logged-in citizen's own choice, if any.
pub fn choose(profile: Option<&str>, headers: &HeaderMap) -> &'static str {
    let known = |tag: &str| LANGUAGES.iter().copied().find(|t| *t == tag);
    if let Some(tag) = profile.and_then(|p| known(p.split('-').next().unwrap_or(p))) {
        return tag;
    }
    if let Some(tag) = session::cookie_value(headers, LANG_COOKIE).and_then(known) {
        return tag;
    }
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    I18N.negotiate(accept)
}

#[derive(Deserialize)]
pub struct LanguageForm {
    lang: String,
    #[serde(default)]
    back: String,
    #[serde(default)]
    csrf: String,
}

/// A path on this site to go back to (never another site).
pub fn safe_return_path(back: &str) -> &str {
    let ok = back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') && !back.contains("://");
    if ok { back } else { "/citizen" }
}

/// The language switch: remembered in a cookie; for a logged-in citizen (whose form carries
/// the session's token) also in the profile, so letters and notices follow.
pub async fn switch(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<LanguageForm>) -> Response {
    let Some((tag, _)) = LANGUAGE_NAMES.iter().find(|(tag, _)| *tag == form.lang) else {
        return WebError::NotFound.into_response();
    };
    if let Ok(Some(citizen)) = session::current(&state, &headers, Audience::Citizen).await
        && session::check_csrf(&citizen, &form.csrf).is_ok()
        && let Err(e) = state.store.set_citizen_language(citizen.subject_id, tag, state.clock.now_ms()).await
    {
        return WebError::from(e).into_response();
    }
    let cookie = session::cookie(&state, LANG_COOKIE, tag, Some(365 * 86_400));
    let mut response = Redirect::to(safe_return_path(&form.back)).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_beats_cookie_beats_header() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, "sv, en;q=0.5".parse().unwrap());
        assert_eq!(choose(None, &headers), "sv");
        headers.insert(header::COOKIE, "a=b; bb_lang=uk".parse().unwrap());
        assert_eq!(choose(None, &headers), "uk");
        assert_eq!(choose(Some("ar"), &headers), "ar");
        assert_eq!(choose(Some("ar-SA"), &headers), "ar");
        // a language Budbringer lacks falls through to the next source
        assert_eq!(choose(Some("fr"), &headers), "uk");
        assert_eq!(LANGUAGE_NAMES.iter().map(|(tag, _)| *tag).collect::<Vec<_>>(), LANGUAGES);
    }

    #[test]
    fn return_paths_stay_on_this_site() {
        assert_eq!(safe_return_path("/citizen/letters"), "/citizen/letters");
        assert_eq!(safe_return_path("//evil.example/x"), "/citizen");
        assert_eq!(safe_return_path("https://evil.example"), "/citizen");
        assert_eq!(safe_return_path("/\\evil"), "/citizen");
    }
}
