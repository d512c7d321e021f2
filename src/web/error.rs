//! The one place where the web pages' errors become answers: an HTML page in the person's
//! language (never problem+json: these are pages for people), or a redirect to the login.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Not logged in (or the session ended): go to this login page.
    #[error("login required")]
    LoginRequired { login_path: &'static str },
    /// A form without the right CSRF token (an old tab, or another site posting).
    #[error("form token missing or wrong")]
    Csrf,
    /// Logged in, but this is not theirs to see (answered as "not found": no leaking).
    #[error("not found")]
    NotFound,
    /// It was there, and was deleted for good (a letter's content, under the retention rule).
    #[error("gone")]
    Gone,
    /// Logged in with a role that may not do this.
    #[error("forbidden")]
    Forbidden,
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    /// A login with the identity provider failed; the text id says why, in plain words.
    #[error("login failed: {0}")]
    LoginFailed(&'static str),
    #[error("store unavailable")]
    Unavailable(#[source] StoreError),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() { WebError::Unavailable(e) } else { WebError::Internal(e.into()) }
    }
}

impl WebError {
    fn status_and_message(&self) -> (StatusCode, &'static str) {
        match self {
            WebError::LoginRequired { .. } => (StatusCode::SEE_OTHER, "web-error-login"),
            WebError::Csrf => (StatusCode::FORBIDDEN, "web-error-csrf"),
            WebError::NotFound => (StatusCode::NOT_FOUND, "web-error-not-found"),
            WebError::Gone => (StatusCode::GONE, "web-error-gone"),
            WebError::Forbidden => (StatusCode::FORBIDDEN, "web-error-forbidden"),
            WebError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "web-error-rate-limited"),
            WebError::LoginFailed(_) => (StatusCode::BAD_REQUEST, "web-error-login-failed"),
            WebError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "web-error-unavailable"),
            WebError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "web-error-internal"),
        }
    }
}

/// The language to render an error page in, set by the page middleware for this request.
#[derive(Clone, Copy)]
pub struct ErrorLanguage(pub &'static str);

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match &self {
            WebError::LoginRequired { login_path } => return Redirect::to(login_path).into_response(),
            WebError::Unavailable(e) => tracing::warn!(error = %e, "web page: store unavailable"),
            WebError::Internal(e) => tracing::error!(error = ?e, "web page failed"),
            _ => {}
        }
        let (status, message) = self.status_and_message();
        // the page is put into words by `render_error_pages`, which knows the language
        let mut response = status.into_response();
        response.extensions_mut().insert(ErrorPage { message, detail: self.detail() });
        if let WebError::RateLimited { retry_after_secs } = self
            && let Ok(v) = retry_after_secs.to_string().parse()
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if matches!(self, WebError::Unavailable(_))
            && let Ok(v) = "5".parse()
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl WebError {
    fn detail(&self) -> Option<&'static str> {
        match self {
            WebError::LoginFailed(id) => Some(id),
            _ => None,
        }
    }
}

/// Marks a bare error answer that `render_error_pages` turns into a page.
#[derive(Debug, Clone, Copy)]
pub struct ErrorPage {
    pub message: &'static str,
    pub detail: Option<&'static str>,
}
