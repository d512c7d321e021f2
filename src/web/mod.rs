//! The web pages for people: citizens (`/citizen/…`) and caseworkers (`/staff/…`).
//! Server-rendered HTML that works without JavaScript; every text from Fluent.

pub mod citizen;
pub mod client;
pub mod error;
pub mod lang;
pub mod oidc;
pub mod page;
pub mod session;
pub mod staff;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;

use crate::app::AppState;
use error::ErrorPage;
use lang::Area;
use page::Page;

pub fn router(state: AppState) -> axum::Router<AppState> {
    axum::Router::new()
        .merge(citizen::router())
        .merge(staff::router())
        .route("/lang", post(lang::switch))
        .route("/assets/web.css", get(stylesheet))
        .layer(middleware::from_fn_with_state(Arc::clone(&state), render_error_pages))
        .route_layer(middleware::from_fn_with_state(state, client::normalise_forwarded_for))
}

/// The logged-in citizen's own language, if they chose one.
async fn profile_language(state: &AppState, headers: &axum::http::HeaderMap) -> Option<String> {
    let session = session::current(state, headers, session::Audience::Citizen).await.ok().flatten()?;
    state.store.stored_profile(session.subject_id).await.ok().flatten()?.profile.language
}

/// Turn a bare error answer from a page handler into a page in the person's language.
async fn render_error_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let Some(error) = response.extensions().get::<ErrorPage>().copied() else { return response };
    let area = if path.starts_with("/staff") { Area::Staff } else { Area::Citizen };
    let profile = if area == Area::Citizen { profile_language(&state, &headers).await } else { None };
    let lang = lang::choose(profile.as_deref(), &headers);
    let mut body = format!("<p>{}</p>", page::m(lang, error.message));
    if let Some(detail) = error.detail {
        body.push_str(&format!("<p>{}</p>", page::m(lang, detail)));
    }
    let home = if area == Area::Staff { "/staff" } else { "/citizen" };
    body.push_str(&format!("<p><a href=\"{home}\">{}</a></p>", page::m(lang, "web-error-back")));
    let title = crate::i18n::I18N.message(lang, "web-error-title", &[]);
    let mut page = Page::new(area, lang, title, path).body(body).status(response.status()).into_response();
    for name in [header::RETRY_AFTER, header::SET_COOKIE] {
        for value in response.headers().get_all(&name) {
            page.headers_mut().append(name.clone(), value.clone());
        }
    }
    page
}

async fn stylesheet() -> Response {
    let mut response = include_str!("web.css").into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}
