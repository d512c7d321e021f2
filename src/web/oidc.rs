//! OpenID Connect login (authorization code + PKCE) for citizens and caseworkers.
//!
//! Budbringer is the relying party: citizens log in with MitID through a broker, caseworkers
//! with their authority's identity provider. The citizen and staff pages call [`start`] from
//! their login route and [`finish`] from `/{citizen,staff}/login/oidc/callback`.
//!
//! What is checked, and why: the `state` is one-use, at most 10 minutes old and bound to the
//! browser that started the login by a short-lived cookie (login CSRF); PKCE S256 protects
//! the code; the ID token's RS256 signature is verified against the provider's JWKS (its
//! `iss`, `aud`/`azp`, `exp`/`iat` and `nonce` too), and the RFC 9207 `iss` parameter of the
//! callback guards against mix-up between providers. Tokens, codes and the identity claim
//! (a CPR number for citizens) are never logged.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use crate::web::session::Audience;

use super::error::WebError;
use super::session::{cookie, cookie_value};
use crate::app::{App, AppState};
use crate::config::{OidcSettings, Settings};
use crate::domain::secret::{constant_time_eq, random_bytes};
use crate::store::OidcPending;

/// Binds a login's `state` to the browser that started it.
pub const STATE_COOKIE: &str = "bb_oidc";
/// How long a started login may take (the provider's login page, MitID app and all).
const PENDING_MAX_AGE_MS: i64 = 10 * 60_000;
/// Clock skew allowed between us and the provider for `exp` and `iat`.
const LEEWAY_SECS: i64 = 120;
/// Discovery documents rarely change; an hour keeps a provider move from needing a restart.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);

/// Answer from the provider's callback (`/…/login/oidc/callback?code=…&state=…&iss=…`).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Who logged in.
#[derive(Debug, Clone)]
pub struct OidcLogin {
    /// The value of the settings' `identity_claim` (a CPR number for citizens: never log it).
    pub identity: String,
    /// Every claim of the verified ID token.
    pub claims: Map<String, Value>,
    /// Where the person was going before the login (a path on this site).
    pub return_to: String,
}

/// Why a login failed, for the log (never holds a token, a code or a claim value).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("not configured for {0}")]
    NotConfigured(&'static str),
    #[error("provider request failed: {0}")]
    Http(String),
    #[error("provider answered {status} at {endpoint}{error}")]
    ProviderStatus { endpoint: &'static str, status: u16, error: String },
    #[error("discovery names issuer {found:?}, configured {configured:?}")]
    IssuerMismatch { configured: String, found: String },
    #[error("provider returned error {0:?}")]
    ProviderError(String),
    #[error("callback without state or code")]
    MissingParameter,
    #[error("state cookie missing or different")]
    StateCookie,
    #[error("state unknown, used or older than 10 minutes")]
    StateUnknown,
    #[error("state belongs to another audience")]
    WrongAudience,
    #[error("callback iss parameter is missing or names another issuer")]
    CallbackIssuer,
    #[error("token answer has no id_token")]
    NoIdToken,
    #[error("ID token: {0}")]
    Token(#[from] TokenError),
    #[error("ID token lacks the identity claim {0:?}")]
    NoIdentity(String),
}

impl OidcError {
    /// The Fluent id of the plain-language reason shown to the person.
    fn message_id(&self) -> &'static str {
        match self {
            OidcError::NotConfigured(_) => "web-oidc-not-configured",
            OidcError::Http(_) | OidcError::ProviderStatus { .. } | OidcError::IssuerMismatch { .. } => {
                "web-oidc-provider-unavailable"
            }
            OidcError::ProviderError(e) if e == "access_denied" => "web-oidc-cancelled",
            OidcError::ProviderError(_) => "web-oidc-provider-error",
            OidcError::MissingParameter
            | OidcError::StateCookie
            | OidcError::StateUnknown
            | OidcError::WrongAudience => "web-oidc-expired",
            OidcError::CallbackIssuer | OidcError::NoIdToken | OidcError::Token(_) => "web-oidc-invalid",
            OidcError::NoIdentity(_) => "web-oidc-no-identity",
        }
    }
}

/// What is wrong with an ID token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a JWS compact serialization")]
    Malformed,
    #[error("algorithm {0:?} is not RS256")]
    Algorithm(String),
    #[error("no key in the JWKS fits")]
    UnknownKey,
    #[error("signature does not verify")]
    Signature,
    #[error("iss is not the configured issuer")]
    Issuer,
    #[error("aud does not name this client")]
    Audience,
    #[error("azp is not this client")]
    AuthorizedParty,
    #[error("expired")]
    Expired,
    #[error("iat missing or in the future")]
    IssuedAt,
    #[error("nonce differs")]
    Nonce,
}

fn log_and_convert(audience: Audience, error: OidcError) -> WebError {
    tracing::warn!(audience = audience.as_str(), reason = %error, "OpenID Connect login failed");
    WebError::LoginFailed(error.message_id())
}

/// Whether logins through an identity provider are set up for `audience`.
pub fn is_configured(state: &AppState, audience: Audience) -> bool {
    provider_settings(&state.settings, audience).is_some()
}

fn provider_settings(settings: &Settings, audience: Audience) -> Option<&OidcSettings> {
    match audience {
        Audience::Citizen => settings.web.citizen_oidc.as_ref(),
        Audience::Staff => settings.web.staff_oidc.as_ref(),
    }
}

/// The callback URL registered with the provider for `audience`.
pub fn redirect_uri(settings: &Settings, audience: Audience) -> String {
    format!("{}/{}/login/oidc/callback", settings.public_url(), audience.as_str())
}

/// 303 to the provider's authorization endpoint. Remembers state, nonce and PKCE verifier
/// and binds the state to this browser with a short-lived cookie.
pub async fn start(state: &AppState, audience: Audience, return_to: &str) -> Result<Response, WebError> {
    let settings = provider_settings(&state.settings, audience)
        .ok_or_else(|| log_and_convert(audience, OidcError::NotConfigured(audience.as_str())))?;
    let provider = provider(settings).await.map_err(|e| log_and_convert(audience, e))?;
    let pending = OidcPending {
        state: random_token(),
        audience: audience.as_str().to_owned(),
        nonce: random_token(),
        code_verifier: random_token(),
        return_to: safe_return_to(return_to, audience),
        created_at: state.clock.now_ms(),
    };
    state.store.save_oidc_pending(&pending).await?;
    let location = authorization_url(
        &provider.metadata.authorization_endpoint,
        settings,
        &redirect_uri(&state.settings, audience),
        &pending,
    )
    .map_err(|e| log_and_convert(audience, e))?;
    let location = HeaderValue::from_str(&location).map_err(|e| WebError::Internal(e.into()))?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    headers.insert(header::SET_COOKIE, cookie(state, STATE_COOKIE, &pending.state, Some(PENDING_MAX_AGE_MS / 1000)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Checks the callback's state (one use, at most 10 minutes old, this browser's), exchanges
/// the code, verifies the ID token and says who logged in. The caller starts the session.
pub async fn finish(
    state: &AppState,
    audience: Audience,
    headers: &HeaderMap,
    query: CallbackQuery,
) -> Result<OidcLogin, WebError> {
    let settings = provider_settings(&state.settings, audience)
        .ok_or_else(|| log_and_convert(audience, OidcError::NotConfigured(audience.as_str())))?;
    match finish_inner(state, settings, audience, headers, query).await {
        Ok(login) => Ok(login),
        Err(Failure::Store(e)) => Err(e.into()),
        Err(Failure::Oidc(e)) => Err(log_and_convert(audience, e)),
    }
}

/// A `Set-Cookie` value that removes the state cookie (for the callback's answer).
pub fn clear_state_cookie(app: &App) -> HeaderValue {
    cookie(app, STATE_COOKIE, "", Some(0))
}

enum Failure {
    Store(crate::store::StoreError),
    Oidc(OidcError),
}

impl From<OidcError> for Failure {
    fn from(e: OidcError) -> Self {
        Failure::Oidc(e)
    }
}

impl From<TokenError> for Failure {
    fn from(e: TokenError) -> Self {
        Failure::Oidc(e.into())
    }
}

async fn finish_inner(
    state: &AppState,
    settings: &OidcSettings,
    audience: Audience,
    headers: &HeaderMap,
    query: CallbackQuery,
) -> Result<OidcLogin, Failure> {
    // An error answer grants nothing, so it needs no state check; its login simply expires.
    if let Some(error) = query.error {
        return Err(OidcError::ProviderError(error).into());
    }
    let (Some(given_state), Some(code)) = (query.state.as_deref(), query.code.as_deref()) else {
        return Err(OidcError::MissingParameter.into());
    };
    // Before anything is used up: a callback from another browser (login CSRF) changes nothing.
    match cookie_value(headers, STATE_COOKIE) {
        Some(bound) if constant_time_eq(bound.as_bytes(), given_state.as_bytes()) => {}
        _ => return Err(OidcError::StateCookie.into()),
    }
    let since = state.clock.now_ms() - PENDING_MAX_AGE_MS;
    let pending = state
        .store
        .take_oidc_pending(given_state, since)
        .await
        .map_err(Failure::Store)?
        .ok_or(OidcError::StateUnknown)?;
    if pending.audience != audience.as_str() {
        return Err(OidcError::WrongAudience.into());
    }
    let provider = provider(settings).await?;
    // RFC 9207: a provider that announces `iss` in responses must send the right one.
    match query.iss.as_deref() {
        Some(iss) if iss != settings.issuer => return Err(OidcError::CallbackIssuer.into()),
        None if provider.metadata.authorization_response_iss_parameter_supported => {
            return Err(OidcError::CallbackIssuer.into());
        }
        _ => {}
    }
    let id_token = exchange_code(&provider, settings, &redirect_uri(&state.settings, audience), code, &pending).await?;
    let jwt = Jwt::parse(&id_token)?;
    verify_with_provider(&provider, &jwt).await?;
    let now_secs = state.clock.now_ms().div_euclid(1000);
    check_claims(
        &jwt.claims,
        &Expected { issuer: &settings.issuer, client_id: &settings.client_id, nonce: &pending.nonce },
        now_secs,
    )?;
    let identity = claim_as_string(&jwt.claims, &settings.identity_claim)
        .ok_or_else(|| OidcError::NoIdentity(settings.identity_claim.clone()))?;
    Ok(OidcLogin { identity, claims: jwt.claims, return_to: safe_return_to(&pending.return_to, audience) })
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// RFC 7636 S256: BASE64URL(SHA256(ASCII(code_verifier))).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Only a path on this site (no `//host` or `/\host`, which browsers treat as another site).
fn safe_return_to(return_to: &str, audience: Audience) -> String {
    let local = return_to.starts_with('/')
        && !return_to.starts_with("//")
        && !return_to.contains('\\')
        && !return_to.chars().any(char::is_control);
    if local { return_to.to_owned() } else { format!("/{}", audience.as_str()) }
}

fn authorization_url(
    endpoint: &str,
    settings: &OidcSettings,
    redirect_uri: &str,
    pending: &OidcPending,
) -> Result<String, OidcError> {
    let mut url = reqwest::Url::parse(endpoint).map_err(|e| OidcError::Http(format!("authorization endpoint: {e}")))?;
    let scopes: Vec<&str> = std::iter::once("openid")
        .chain(settings.scopes.iter().map(String::as_str).filter(|s| *s != "openid"))
        .collect();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &settings.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &scopes.join(" "))
        .append_pair("state", &pending.state)
        .append_pair("nonce", &pending.nonce)
        .append_pair("code_challenge", &pkce_challenge(&pending.code_verifier))
        .append_pair("code_challenge_method", "S256");
    Ok(url.into())
}

// ---------------------------------------------------------------------------------------------
// The provider: discovery and keys, cached per issuer.

#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

/// One RSA public key from a JWKS (other key types are skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaKey {
    pub kid: Option<String>,
    pub n: Vec<u8>,
    pub e: Vec<u8>,
}

struct Provider {
    metadata: Discovery,
    keys: Mutex<Arc<Vec<RsaKey>>>,
    fetched: Instant,
}

static PROVIDERS: LazyLock<Mutex<HashMap<String, Arc<Provider>>>> = LazyLock::new(Default::default);

static HTTP: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        // the token endpoint must answer itself: never resend a code somewhere else
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
});

async fn provider(settings: &OidcSettings) -> Result<Arc<Provider>, OidcError> {
    let cached = PROVIDERS.lock().ok().and_then(|m| m.get(&settings.issuer).cloned());
    if let Some(provider) = cached.filter(|p| p.fetched.elapsed() < DISCOVERY_TTL) {
        return Ok(provider);
    }
    let url = format!("{}/.well-known/openid-configuration", settings.issuer.trim_end_matches('/'));
    let metadata: Discovery = get_json(&url, "discovery").await?;
    // OpenID Connect Discovery 1.0 §4.3: the document must name exactly the issuer asked.
    if metadata.issuer != settings.issuer {
        return Err(OidcError::IssuerMismatch { configured: settings.issuer.clone(), found: metadata.issuer });
    }
    let keys = fetch_keys(&metadata.jwks_uri).await?;
    let provider = Arc::new(Provider { metadata, keys: Mutex::new(Arc::new(keys)), fetched: Instant::now() });
    if let Ok(mut map) = PROVIDERS.lock() {
        map.insert(settings.issuer.clone(), Arc::clone(&provider));
    }
    Ok(provider)
}

async fn get_json<T: serde::de::DeserializeOwned>(url: &str, endpoint: &'static str) -> Result<T, OidcError> {
    let response = HTTP.get(url).send().await.map_err(|e| OidcError::Http(format!("{endpoint}: {e}")))?;
    if !response.status().is_success() {
        return Err(OidcError::ProviderStatus { endpoint, status: response.status().as_u16(), error: String::new() });
    }
    response.json().await.map_err(|e| OidcError::Http(format!("{endpoint}: {e}")))
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Value>,
}

async fn fetch_keys(jwks_uri: &str) -> Result<Vec<RsaKey>, OidcError> {
    let set: JwkSet = get_json(jwks_uri, "jwks").await?;
    Ok(parse_jwks(&set.keys))
}

/// The RSA signing keys of a JWKS.
pub fn parse_jwks(keys: &[Value]) -> Vec<RsaKey> {
    keys.iter()
        .filter(|k| k["kty"] == "RSA")
        .filter(|k| k.get("use").is_none_or(|u| u == "sig"))
        .filter(|k| k.get("alg").is_none_or(|a| a == "RS256"))
        .filter_map(|k| {
            let decode = |field: &str| k[field].as_str().and_then(|s| URL_SAFE_NO_PAD.decode(s).ok());
            Some(RsaKey { kid: k["kid"].as_str().map(str::to_owned), n: decode("n")?, e: decode("e")? })
        })
        .collect()
}

/// Verify against the cached keys; a `kid` we do not know means the provider rotated its
/// keys, so the JWKS is fetched again, once.
async fn verify_with_provider(provider: &Provider, jwt: &Jwt) -> Result<(), OidcError> {
    let keys = provider.keys.lock().map(|k| Arc::clone(&k)).unwrap_or_default();
    match jwt.verify(&keys) {
        Err(TokenError::UnknownKey) => {
            let fresh = Arc::new(fetch_keys(&provider.metadata.jwks_uri).await?);
            if let Ok(mut keys) = provider.keys.lock() {
                *keys = Arc::clone(&fresh);
            }
            Ok(jwt.verify(&fresh)?)
        }
        other => Ok(other?),
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenErrorAnswer {
    error: String,
}

/// The code for tokens, authenticated with `client_secret_basic`; returns the ID token.
async fn exchange_code(
    provider: &Provider,
    settings: &OidcSettings,
    redirect_uri: &str,
    code: &str,
    pending: &OidcPending,
) -> Result<String, OidcError> {
    // RFC 6749 §2.3.1: id and secret are form-encoded before they go into Basic auth.
    let response = HTTP
        .post(&provider.metadata.token_endpoint)
        .basic_auth(form_encode(&settings.client_id), Some(form_encode(&settings.client_secret)))
        .header(header::ACCEPT, "application/json")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", pending.code_verifier.as_str()),
        ])
        .send()
        .await
        .map_err(|e| OidcError::Http(format!("token: {e}")))?;
    let status = response.status();
    if !status.is_success() {
        // the error code only: descriptions may echo what we sent
        let error = response.json::<TokenErrorAnswer>().await.map(|e| format!(" ({})", e.error)).unwrap_or_default();
        return Err(OidcError::ProviderStatus { endpoint: "token", status: status.as_u16(), error });
    }
    let answer: TokenAnswer = response.json().await.map_err(|e| OidcError::Http(format!("token: {e}")))?;
    answer.id_token.ok_or(OidcError::NoIdToken)
}

/// application/x-www-form-urlencoded for one value.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(char::from(byte)),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// ID tokens: parsing, signature and claims. Pure, so unit tests cover them.

/// A JWS in compact serialization, decoded but not yet trusted.
#[derive(Debug, Clone)]
pub struct Jwt {
    pub alg: String,
    pub kid: Option<String>,
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

impl Jwt {
    pub fn parse(token: &str) -> Result<Jwt, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let decode_json = |part: &str| -> Result<Map<String, Value>, TokenError> {
            let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| TokenError::Malformed)?;
            serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
        };
        let head = decode_json(header)?;
        let claims = decode_json(payload)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenError::Malformed)?;
        Ok(Jwt {
            alg: head.get("alg").and_then(Value::as_str).unwrap_or_default().to_owned(),
            kid: head.get("kid").and_then(Value::as_str).map(str::to_owned),
            claims,
            signing_input: format!("{header}.{payload}"),
            signature,
        })
    }

    /// RS256 only: `none`, HMAC (with the public key as secret) and friends are refused.
    pub fn verify(&self, keys: &[RsaKey]) -> Result<(), TokenError> {
        if self.alg != "RS256" {
            return Err(TokenError::Algorithm(self.alg.clone()));
        }
        let mut candidates = keys.iter().filter(|k| self.kid.is_none() || k.kid == self.kid).peekable();
        if candidates.peek().is_none() {
            return Err(TokenError::UnknownKey);
        }
        let ok = candidates.any(|key| {
            ring::signature::RsaPublicKeyComponents { n: &key.n, e: &key.e }
                .verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, self.signing_input.as_bytes(), &self.signature)
                .is_ok()
        });
        if ok { Ok(()) } else { Err(TokenError::Signature) }
    }
}

/// What the ID token must say.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
}

/// OpenID Connect Core §3.1.3.7: issuer, audience, authorized party, lifetime, nonce.
pub fn check_claims(claims: &Map<String, Value>, expected: &Expected<'_>, now_secs: i64) -> Result<(), TokenError> {
    if claims.get("iss").and_then(Value::as_str) != Some(expected.issuer) {
        return Err(TokenError::Issuer);
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(TokenError::Audience);
    }
    match claims.get("azp") {
        Some(azp) if azp.as_str() != Some(expected.client_id) => return Err(TokenError::AuthorizedParty),
        // several audiences: the token must say it was issued to us
        None if audiences.len() > 1 => return Err(TokenError::AuthorizedParty),
        _ => {}
    }
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if now_secs < exp.saturating_add(LEEWAY_SECS) => {}
        _ => return Err(TokenError::Expired),
    }
    match claims.get("iat").and_then(Value::as_i64) {
        Some(iat) if iat <= now_secs.saturating_add(LEEWAY_SECS) => {}
        _ => return Err(TokenError::IssuedAt),
    }
    match claims.get("nonce").and_then(Value::as_str) {
        Some(nonce) if constant_time_eq(nonce.as_bytes(), expected.nonce.as_bytes()) => Ok(()),
        _ => Err(TokenError::Nonce),
    }
}

/// A claim as text: strings as they are, numbers written out (some brokers send CPR as one).
fn claim_as_string(claims: &Map<String, Value>, name: &str) -> Option<String> {
    match claims.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // An RS256 token made with Node's crypto for these tests (2048-bit key, kid "k1").
    const TOKEN: &str = concat!(
        "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwic3ViIjoidXNlci0xIiwiYXVk",
        "IjoiYmIiLCJub25jZSI6Im4tMSIsImlhdCI6MTgwMDAwMDAwMCwiZXhwIjoxODAwMDAwNjAwfQ.m2GXEEVa6ZndxeRd4uhJObZSH",
        "JP2drpATI6Iw4YsHkrc8rmEDe4oe383K7T_ifjUFcftMPd-UGxJ3kxAc2Ix35pE0_U5kPccXxzd9_29FhHSUOJktLu5-Szwt6LkH",
        "-HWfvgpx29AzNwe85Pvy_YAMLAGvx29E6cLM41kXO9ulI71hFK0GAEaClztpjM5nDUdDdgem40JUGK2yrDP8jDfZIl4o4qbR8ENo",
        "8S1MG8Z8oMkx1oHV8t5jg4Icd77I2IM3JOfD25HGVEvLil7Dutb3UMWbQ5NAekVlOE8HJk-L1r7IYbpy3XBRU3kAYpBgAW79edsj",
        "Av9gwG7kcioPO7E1g",
    );
    const JWKS: &str = concat!(
        r#"{"keys": [{"kty": "RSA", "n": "6HnDt45XgZ8tbtCy3MaAmfE3C3GlcsiOsgUKFWVl0chvojrC4xOZsl3tyanwm6OgsYmlG"#,
        r#"UkaSvdRITlnXkcMjC14Gb1muxGREYPHMitdrVSXa9VN8CkDr1yUGtXHkB6SvHYI7O-iEEs8-Wbj29DMcO084_NiQf09_pE3dsqbY"#,
        r#"VZ3ZalBcV30TCYVW1vDAEKnRKBPPvf8RYEDC4Qb3DQbeJb3MesTSLfDt-nl-3rMDkDad0wLOxonhh7klgsfRjzDe6nuXH-cSnM-k"#,
        r#"4SQTZ6K2YWo_Eo4PKUnjJbKGnaEccmTHdmr6E85y3a52clckL3xzfcZOV70v0OA7a8x2uBkcw", "e": "AQAB", "kid": "k1""#,
        r#", "alg": "RS256", "use": "sig"}]}"#,
    );

    fn keys() -> Vec<RsaKey> {
        let set: JwkSet = serde_json::from_str(JWKS).unwrap();
        parse_jwks(&set.keys)
    }

    #[test]
    fn pkce_challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn random_tokens_are_long_and_fresh() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn parses_and_verifies_a_real_token() {
        let jwt = Jwt::parse(TOKEN.trim()).unwrap();
        assert_eq!(jwt.alg, "RS256");
        assert_eq!(jwt.kid.as_deref(), Some("k1"));
        assert_eq!(jwt.claims["sub"], "user-1");
        jwt.verify(&keys()).unwrap();
    }

    #[test]
    fn a_changed_payload_or_signature_does_not_verify() {
        let token = TOKEN.trim();
        let parts: Vec<&str> = token.split('.').collect();
        let forged_claims = URL_SAFE_NO_PAD.encode(br#"{"sub":"someone-else"}"#);
        let forged = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
        assert_eq!(Jwt::parse(&forged).unwrap().verify(&keys()), Err(TokenError::Signature));
        let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        signature[10] ^= 1;
        let flipped = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(signature));
        assert_eq!(Jwt::parse(&flipped).unwrap().verify(&keys()), Err(TokenError::Signature));
    }

    #[test]
    fn unknown_kid_and_other_algorithms_are_refused() {
        let jwt = Jwt::parse(TOKEN.trim()).unwrap();
        let other_kid: Vec<RsaKey> = keys().into_iter().map(|k| RsaKey { kid: Some("k2".into()), ..k }).collect();
        assert_eq!(jwt.verify(&other_kid), Err(TokenError::UnknownKey));
        let none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#), TOKEN.split('.').nth(1).unwrap());
        assert_eq!(Jwt::parse(&none).unwrap().verify(&keys()), Err(TokenError::Algorithm("none".into())));
        let hs = format!("{}.{}.AAAA", URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#), TOKEN.split('.').nth(1).unwrap());
        assert_eq!(Jwt::parse(&hs).unwrap().verify(&keys()), Err(TokenError::Algorithm("HS256".into())));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for token in ["", "a.b", "a.b.c.d", "!!.e30.AA", "e30.bm90IGpzb24.AA"] {
            assert_eq!(Jwt::parse(token).unwrap_err(), TokenError::Malformed, "{token}");
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    const NOW: i64 = 1_800_000_000;
    const EXPECTED: Expected<'static> = Expected { issuer: "https://idp.example", client_id: "bb", nonce: "n-1" };

    fn good() -> Value {
        json!({ "iss": "https://idp.example", "aud": "bb", "exp": NOW + 600, "iat": NOW, "nonce": "n-1", "sub": "s" })
    }

    fn with(field: &str, value: Value) -> Map<String, Value> {
        let mut c = claims(good());
        c.insert(field.into(), value);
        c
    }

    #[test]
    fn good_claims_pass() {
        check_claims(&claims(good()), &EXPECTED, NOW).unwrap();
        check_claims(&with("aud", json!(["bb"])), &EXPECTED, NOW).unwrap();
        check_claims(&with("azp", json!("bb")), &EXPECTED, NOW).unwrap();
        // small clock skew either way
        check_claims(&claims(good()), &EXPECTED, NOW + 600 + 60).unwrap();
        check_claims(&with("iat", json!(NOW + 60)), &EXPECTED, NOW).unwrap();
    }

    #[test]
    fn each_wrong_claim_is_refused() {
        use TokenError::*;
        let cases = [
            (with("iss", json!("https://evil.example")), Issuer),
            (with("aud", json!("other")), Audience),
            (with("aud", json!(["other", "bb"])), AuthorizedParty),
            (with("azp", json!("other")), AuthorizedParty),
            (with("exp", json!(NOW - 600)), Expired),
            (with("exp", json!("soon")), Expired),
            (with("iat", json!(NOW + 3600)), IssuedAt),
            (with("nonce", json!("n-2")), Nonce),
            (with("nonce", Value::Null), Nonce),
        ];
        for (c, error) in cases {
            assert_eq!(check_claims(&c, &EXPECTED, NOW), Err(error.clone()), "{c:?}");
        }
        let mut no_aud = claims(good());
        no_aud.remove("aud");
        assert_eq!(check_claims(&no_aud, &EXPECTED, NOW), Err(Audience));
    }

    #[test]
    fn identity_claim_as_text() {
        let c = claims(json!({ "cpr": "0101901234", "n": 42, "empty": "", "obj": {} }));
        assert_eq!(claim_as_string(&c, "cpr").as_deref(), Some("0101901234"));
        assert_eq!(claim_as_string(&c, "n").as_deref(), Some("42"));
        assert_eq!(claim_as_string(&c, "empty"), None);
        assert_eq!(claim_as_string(&c, "obj"), None);
        assert_eq!(claim_as_string(&c, "missing"), None);
    }

    #[test]
    fn return_to_stays_on_this_site() {
        assert_eq!(safe_return_to("/citizen/letters/1?x=y", Audience::Citizen), "/citizen/letters/1?x=y");
        for bad in ["https://evil.example/", "//evil.example", "/\\evil.example", "", "letters", "/a\nb"] {
            assert_eq!(safe_return_to(bad, Audience::Staff), "/staff", "{bad:?}");
        }
    }

    #[test]
    fn authorization_url_carries_pkce_and_scopes() {
        let settings = OidcSettings {
            issuer: "https://idp.example".into(),
            client_id: "bb client".into(),
            client_secret: "s".into(),
            scopes: vec!["openid".into(), "cpr".into()],
            identity_claim: "cpr".into(),
        };
        let pending = OidcPending {
            state: "st".into(),
            audience: "citizen".into(),
            nonce: "no".into(),
            code_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
            return_to: "/citizen".into(),
            created_at: 0,
        };
        let url =
            authorization_url("https://idp.example/auth?x=1", &settings, "https://bb/citizen/cb", &pending).unwrap();
        let url = reqwest::Url::parse(&url).unwrap();
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["x"], "1");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "bb client");
        assert_eq!(q["scope"], "openid cpr");
        assert_eq!(q["code_challenge"], "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["redirect_uri"], "https://bb/citizen/cb");
        assert_eq!((q["state"].as_str(), q["nonce"].as_str()), ("st", "no"));
    }

    #[test]
    fn form_encoding_for_basic_auth() {
        assert_eq!(form_encode("a b:c/é"), "a+b%3Ac%2F%C3%A9");
        assert_eq!(form_encode("Az09-._*"), "Az09-._*");
    }
}
