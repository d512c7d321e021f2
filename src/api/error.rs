//! The one place where errors become HTTP answers: RFC 9457 `application/problem+json`,
//! with `errors: [{pointer | parameter | header, detail}]` for each bad field. Titles and
//! details come from Fluent; a middleware re-renders them in the caller's language.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::domain::letter::FieldError;
use crate::i18n::{DEFAULT_LANGUAGE, I18N};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed JSON")]
    MalformedJson(String),
    #[error("content type is not JSON")]
    UnsupportedMediaType,
    #[error("request body too large")]
    BodyTooLarge { max: usize },
    #[error("documents too large or too many")]
    TooLarge(Vec<FieldError>),
    #[error("invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("not authenticated")]
    Unauthorized(&'static str),
    #[error("not found")]
    NotFound(&'static str),
    /// It existed, and is gone for good (letter content deleted under the retention rule).
    #[error("gone")]
    Gone(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("idempotency key reused with another request")]
    IdempotencyMismatch,
    #[error("conflict: {0}")]
    Conflict(&'static str, Vec<(&'static str, String)>),
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("store unavailable")]
    Unavailable(#[source] StoreError),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() { ApiError::Unavailable(e) } else { ApiError::Internal(e.into()) }
    }
}

/// An answer still to be put into words (so it can be rendered in the caller's language).
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    /// Fluent id of the title; also names the problem type.
    pub kind: &'static str,
    pub detail: &'static str,
    pub detail_args: Vec<(&'static str, String)>,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
}

impl Problem {
    fn new(status: StatusCode, kind: &'static str, detail: &'static str) -> Self {
        Self { status, kind, detail, detail_args: Vec::new(), errors: Vec::new(), retry_after: None }
    }

    pub fn render(&self, language: &str) -> serde_json::Value {
        let slug = self.kind.trim_start_matches("problem-");
        let mut body = json!({
            "type": format!("/docs#problem-{slug}"),
            "title": I18N.message(language, self.kind, &[]),
            "status": self.status.as_u16(),
            "detail": I18N.message(language, self.detail, &self.detail_args),
        });
        if !self.errors.is_empty() {
            let errors: Vec<_> = self
                .errors
                .iter()
                .map(|e| {
                    let detail = I18N.message(language, e.message_id, &e.args);
                    // `?name` marks a query parameter, `@name` a header; anything else is a JSON pointer
                    match (e.pointer.strip_prefix('?'), e.pointer.strip_prefix('@')) {
                        (Some(p), _) => json!({ "parameter": p, "detail": detail }),
                        (_, Some(h)) => json!({ "header": h, "detail": detail }),
                        _ => json!({ "pointer": e.pointer, "detail": detail }),
                    }
                })
                .collect();
            body["errors"] = serde_json::Value::Array(errors);
        }
        body
    }

    pub fn to_response(&self, language: &str) -> Response {
        let body = serde_json::to_vec(&self.render(language)).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_str(language).unwrap_or(HeaderValue::from_static("da")),
        );
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response.extensions_mut().insert(self.clone());
        response
    }
}

impl From<&ApiError> for Problem {
    fn from(e: &ApiError) -> Self {
        use StatusCode as S;
        match e {
            ApiError::MalformedJson(problem) => Problem {
                detail_args: vec![("problem", problem.clone())],
                ..Problem::new(S::BAD_REQUEST, "problem-bad-request", "detail-malformed-json")
            },
            ApiError::UnsupportedMediaType => {
                Problem::new(S::UNSUPPORTED_MEDIA_TYPE, "problem-unsupported-media-type", "detail-json-content-type")
            }
            ApiError::BodyTooLarge { max } => Problem {
                detail_args: vec![("max", max.to_string())],
                ..Problem::new(S::PAYLOAD_TOO_LARGE, "problem-too-large", "detail-body-too-large")
            },
            ApiError::TooLarge(errors) => Problem {
                errors: errors.clone(),
                ..Problem::new(S::PAYLOAD_TOO_LARGE, "problem-too-large", "detail-too-large-fields")
            },
            ApiError::Invalid(errors) => Problem {
                errors: errors.clone(),
                ..Problem::new(S::UNPROCESSABLE_ENTITY, "problem-invalid", "detail-invalid-fields")
            },
            ApiError::Unauthorized(detail) => Problem::new(S::UNAUTHORIZED, "problem-unauthorized", detail),
            ApiError::NotFound(detail) => Problem::new(S::NOT_FOUND, "problem-not-found", detail),
            ApiError::Gone(detail) => Problem::new(S::GONE, "problem-gone", detail),
            ApiError::MethodNotAllowed => {
                Problem::new(S::METHOD_NOT_ALLOWED, "problem-method-not-allowed", "detail-method-not-allowed")
            }
            ApiError::IdempotencyMismatch => {
                Problem::new(S::UNPROCESSABLE_ENTITY, "problem-conflict", "detail-idempotency-mismatch")
            }
            ApiError::Conflict(detail, args) => {
                Problem { detail_args: args.clone(), ..Problem::new(S::CONFLICT, "problem-conflict", detail) }
            }
            ApiError::RateLimited { retry_after_secs } => Problem {
                detail_args: vec![("seconds", retry_after_secs.to_string())],
                retry_after: Some(*retry_after_secs),
                ..Problem::new(S::TOO_MANY_REQUESTS, "problem-rate-limited", "detail-rate-limited")
            },
            ApiError::Unavailable(_) => Problem {
                retry_after: Some(5),
                ..Problem::new(S::SERVICE_UNAVAILABLE, "problem-unavailable", "detail-unavailable")
            },
            ApiError::Internal(_) => Problem::new(S::INTERNAL_SERVER_ERROR, "problem-internal", "detail-internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            // logged once, with the cause chain; the body says nothing internal
            ApiError::Internal(e) => tracing::error!(error = format!("{e:#}"), "request failed"),
            ApiError::Unavailable(e) => tracing::warn!(error = %e, "store unavailable"),
            _ => {}
        }
        Problem::from(&self).to_response(DEFAULT_LANGUAGE)
    }
}

/// Re-render problem answers in the language the caller asked for.
pub async fn localize_problems(request: Request, next: Next) -> Response {
    let accept = request.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let response = next.run(request).await;
    let language = I18N.negotiate(accept.as_deref());
    match response.extensions().get::<Problem>() {
        Some(problem) if language != DEFAULT_LANGUAGE => problem.clone().to_response(language),
        _ => response,
    }
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound("detail-route-not-found")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
