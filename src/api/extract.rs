//! Request extractors that fail with problem+json: JSON bodies with field pointers, and the
//! calling authority from its API key.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::app::AppState;
use crate::domain::letter::FieldError;
use crate::domain::secret::hash_api_key;
use crate::store::Authority;

/// A JSON body, deserialized with the path of any bad field; when the request carries an
/// `Idempotency-Key`, keeps the parsed document too (canonicalised) so idempotency can compare
/// requests (empty otherwise: copying a body with its documents costs a burst dearly).
pub struct JsonBody<T> {
    pub value: T,
    pub canonical: Vec<u8>,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let idempotent = req.headers().contains_key("idempotency-key");
        let limit = req.extensions().get::<BodyLimit>().map(|l| l.0).unwrap_or(0);
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::BodyTooLarge { max: limit }
            } else {
                ApiError::MalformedJson(rejection.body_text())
            }
        })?;
        let document: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
        let canonical =
            if idempotent { serde_json::to_vec(&canonicalize(&document)).unwrap_or_default() } else { Vec::new() };
        let value = serde_path_to_error::deserialize(document).map_err(|e| ApiError::Invalid(vec![field_error(&e)]))?;
        Ok(JsonBody { value, canonical })
    }
}

/// The configured body limit, put into request extensions so a 413 can say what it is.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Turn serde's complaint into a pointer and a Fluent message.
fn field_error(e: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let mut pointer = String::new();
    for segment in e.path().iter() {
        use serde_path_to_error::Segment;
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => {}
        }
    }
    let message = e.inner().to_string();
    let field_in_backticks = || message.split('`').nth(1).map(str::to_owned);
    if message.starts_with("missing field")
        && let Some(field) = field_in_backticks()
    {
        return FieldError::new(format!("{pointer}/{field}"), "error-json-missing");
    }
    if message.starts_with("unknown field") {
        // serde_path_to_error's path already ends at the unknown key
        return FieldError::new(pointer, "error-json-unknown-field");
    }
    // drop serde's " at line L column C": the pointer already says where
    let problem = message.split(" at line ").next().unwrap_or(&message).to_owned();
    FieldError::new(if pointer.is_empty() { "/".to_owned() } else { pointer }, "error-json-type")
        .arg("problem", problem)
}

/// Sort object keys so two requests with the same content compare equal.
fn canonicalize(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), canonicalize(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonicalize).collect()),
        other => other.clone(),
    }
}

/// The authority behind the API key in `Authorization: Bearer …`, within its rate limit.
pub struct Caller {
    pub authority: Authority,
    /// The key's stored hint (its first characters): which key acted, for the audit log.
    pub key_hint: String,
}

impl Caller {
    /// Note an administrative action in the audit log (ids only in `subject` and `details`).
    pub async fn audit(
        &self,
        state: &AppState,
        action: &'static str,
        subject: impl ToString,
        details: serde_json::Value,
    ) -> Result<(), ApiError> {
        let entry = crate::store::AuditEntry::new(
            state.clock.now_ms(),
            crate::domain::audit_chain::ActorKind::ApiKey,
            self.key_hint.clone(),
            Some(self.authority.id),
            action,
            subject,
        )
        .details(details);
        state.store.append_audit(&entry).await?;
        Ok(())
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized("detail-missing-api-key"))?;
        let key = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(ApiError::Unauthorized("detail-missing-api-key"))?;
        let authority = state
            .store
            .authority_by_key_hash(&hash_api_key(key))
            .await?
            .ok_or(ApiError::Unauthorized("detail-bad-api-key"))?;
        state.limiter.check(authority.id, std::time::Instant::now())?;
        Ok(Caller { authority, key_hint: crate::domain::secret::api_key_hint(key) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
        list: Vec<u8>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    fn error_for(json: serde_json::Value) -> FieldError {
        field_error(&serde_path_to_error::deserialize::<_, Outer>(json).unwrap_err())
    }

    #[test]
    fn pointers_name_the_bad_field() {
        let e = error_for(serde_json::json!({"inner": {"name": 5}, "list": []}));
        assert_eq!((e.pointer.as_str(), e.message_id), ("/inner/name", "error-json-type"));
        let e = error_for(serde_json::json!({"inner": {}, "list": []}));
        assert_eq!((e.pointer.as_str(), e.message_id), ("/inner/name", "error-json-missing"));
        let e = error_for(serde_json::json!({"inner": {"name": "x", "nmae": 1}, "list": []}));
        assert_eq!((e.pointer.as_str(), e.message_id), ("/inner/nmae", "error-json-unknown-field"));
        let e = error_for(serde_json::json!({"inner": {"name": "x"}, "list": [1, "two"]}));
        assert_eq!(e.pointer, "/list/1");
    }

    #[test]
    fn canonical_form_ignores_key_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":{"d":2,"c":3}}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"a":{"c":3,"d":2},"b":1}"#).unwrap();
        assert_eq!(serde_json::to_vec(&canonicalize(&a)).unwrap(), serde_json::to_vec(&canonicalize(&b)).unwrap());
    }
}
