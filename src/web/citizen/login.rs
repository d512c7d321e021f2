//! Getting in: MitID (OpenID Connect), a one-time code texted to the registered phone, or the
//! personal access code printed in paper letters. The CPR number travels only in form bodies;
//! the answer to "send me a code" is the same whether or not the number is known.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::{Problems, log_citizen, text_input, with_cookies};
use crate::app::AppState;
use crate::channels::print::access_code;
use crate::domain::cpr::Cpr;
use crate::domain::secret::{constant_time_eq, keyed_hash};
use crate::i18n::I18N;
use crate::store::CodeCheck;
use crate::web::error::WebError;
use crate::web::lang::{self, Area};
use crate::web::oidc;
use crate::web::page::{Page, esc, m};
use crate::web::session::{self, Audience};

/// How long a texted code works, how many a citizen may get per quarter hour, how many tries.
const CODE_MS: i64 = 10 * 60 * 1000;
const QUARTER_MS: i64 = 15 * 60 * 1000;
const CODES_PER_QUARTER: i64 = 3;
const CODE_TRIES: i64 = 5;
/// Requests from one address per quarter hour (several people may share one).
const PER_ADDRESS_PER_QUARTER: i64 = 30;
/// Access-code tries per CPR number per hour: 80 bits cannot be guessed in so few.
const ACCESS_TRIES_PER_HOUR: i64 = 5;
/// Which login a code page belongs to: a signed cookie naming the keyed CPR hash.
const PENDING_COOKIE: &str = "bb_login_pending";

fn pre_login_lang(headers: &HeaderMap) -> &'static str {
    lang::choose(None, headers)
}

/// The caller's address as the proxy in front reports it; a coarse key for rate limits.
fn address_key(state: &AppState, headers: &HeaderMap) -> String {
    let ip = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .unwrap_or("direct");
    format!("addr:{}", keyed_hash(&state.cpr_key, &format!("address:{ip}")))
}

/// Count one attempt under each key; refuse when any key is over its limit.
async fn throttle(state: &AppState, limits: &[(&str, i64, i64)]) -> Result<(), WebError> {
    let now = state.clock.now_ms();
    for (key, window_ms, max) in limits {
        if state.store.login_attempts_since(key, now - window_ms).await? >= *max {
            tracing::warn!("citizen login rate-limited");
            return Err(WebError::RateLimited { retry_after_secs: (*window_ms / 1000) as u64 });
        }
    }
    for (key, _, _) in limits {
        state.store.note_login_attempt(key, now).await?;
    }
    Ok(())
}

#[derive(Default)]
struct LoginValues {
    sms_cpr: String,
    access_cpr: String,
    access_code: String,
}

fn login_html(state: &AppState, lang: &str, csrf: &str, values: &LoginValues, problems: &Problems) -> String {
    let csrf_field = format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(csrf));
    let mut body = problems.summary(lang);
    body.push_str(&format!("<p>{}</p>", m(lang, "citizen-login-intro")));
    if oidc::is_configured(state, Audience::Citizen) {
        body.push_str(&format!(
            "<section aria-labelledby=\"mitid\"><h2 id=\"mitid\">{}</h2><p><a class=\"button\" \
             href=\"/citizen/login/oidc\">{}</a></p></section>",
            m(lang, "citizen-login-mitid-title"),
            m(lang, "citizen-login-mitid-button")
        ));
    }
    body.push_str(&format!(
        "<section aria-labelledby=\"sms\"><h2 id=\"sms\">{title}</h2><p>{explain}</p>\
         <form method=\"post\" action=\"/citizen/login/sms\" novalidate>{csrf_field}{cpr}\
         <p><button type=\"submit\">{send}</button></p></form></section>",
        title = m(lang, "citizen-login-sms-title"),
        explain = m(lang, "citizen-login-sms-explain"),
        cpr = text_input(
            lang,
            problems,
            "sms-cpr",
            "text",
            "citizen-cpr-label",
            Some("citizen-cpr-hint"),
            &values.sms_cpr,
            "off"
        )
        .replace("name=\"sms-cpr\"", "name=\"cpr\" inputmode=\"numeric\""),
        send = m(lang, "citizen-login-sms-send"),
    ));
    body.push_str(&format!(
        "<section aria-labelledby=\"access\"><h2 id=\"access\">{title}</h2><p>{explain}</p>\
         <form method=\"post\" action=\"/citizen/login/access-code\" novalidate>{csrf_field}{cpr}{code}\
         <p><button type=\"submit\">{go}</button></p></form></section>",
        title = m(lang, "citizen-login-access-title"),
        explain = m(lang, "citizen-login-access-explain"),
        cpr = text_input(
            lang,
            problems,
            "access-cpr",
            "text",
            "citizen-cpr-label",
            Some("citizen-cpr-hint"),
            &values.access_cpr,
            "off"
        )
        .replace("name=\"access-cpr\"", "name=\"cpr\" inputmode=\"numeric\""),
        code = text_input(
            lang,
            problems,
            "access-code",
            "text",
            "citizen-access-code-label",
            Some("citizen-access-code-hint"),
            &values.access_code,
            "off"
        )
        .replace("name=\"access-code\"", "name=\"code\" autocapitalize=\"characters\" spellcheck=\"false\""),
        go = m(lang, "citizen-login-button"),
    ));
    body
}

fn login_response(
    state: &AppState,
    headers: &HeaderMap,
    values: &LoginValues,
    problems: &Problems,
    status: StatusCode,
) -> Response {
    let lang = pre_login_lang(headers);
    let (csrf, set) = session::login_csrf(state, headers);
    let title = I18N.message(lang, "citizen-login-title", &[]);
    let page = Page::new(Area::Citizen, lang, title, "/citizen/login")
        .body(login_html(state, lang, &csrf, values, problems))
        .status(status);
    with_cookies(page, set.into_iter().collect())
}

/// `GET /citizen/login`: the three ways in.
pub async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    if session::current(&state, &headers, Audience::Citizen).await?.is_some() {
        return Ok(Redirect::to("/citizen/letters").into_response());
    }
    Ok(login_response(&state, &headers, &LoginValues::default(), &Problems::default(), StatusCode::OK))
}

#[derive(Deserialize)]
pub struct CprForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    cpr: String,
}

fn cpr_problem(raw: &str) -> Result<Cpr, &'static str> {
    let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    Cpr::parse(&digits).map_err(|_| "citizen-error-cpr")
}

fn pending_value(state: &AppState, exp: i64, cpr_hash: &str) -> String {
    let mac = keyed_hash(&state.reading_key, &format!("citizen-login-pending:{exp}:{cpr_hash}"));
    format!("{exp}.{cpr_hash}.{mac}")
}

/// The keyed CPR hash a code page belongs to, if its cookie is genuine and fresh.
fn pending_cpr_hash(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let value = session::cookie_value(headers, PENDING_COOKIE)?;
    let mut parts = value.splitn(3, '.');
    let (exp, hash, mac) = (parts.next()?, parts.next()?, parts.next()?);
    let exp_ms: i64 = exp.parse().ok()?;
    let expected = pending_value(state, exp_ms, hash);
    (exp_ms > state.clock.now_ms() && constant_time_eq(expected.as_bytes(), value.as_bytes()) && !mac.is_empty())
        .then(|| hash.to_owned())
}

fn code_hash(state: &AppState, citizen_id: Uuid, code: &str) -> String {
    keyed_hash(&state.reading_key, &format!("citizen-login-code:{citizen_id}:{code}"))
}

/// `POST /citizen/login/sms`: text a code to the registered phone, if there is one. The
/// answer (a page that asks for the code) is the same either way: nobody learns whether a
/// CPR number is known here, or which phone it has.
pub async fn send_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CprForm>,
) -> Result<Response, WebError> {
    session::check_login_csrf(&headers, &form.csrf)?;
    let cpr = match cpr_problem(&form.cpr) {
        Ok(cpr) => cpr,
        Err(msg) => {
            let mut problems = Problems::default();
            problems.add("sms-cpr", msg);
            let values = LoginValues { sms_cpr: form.cpr.clone(), ..Default::default() };
            return Ok(login_response(&state, &headers, &values, &problems, StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    let cpr_hash = keyed_hash(&state.cpr_key, cpr.as_str());
    let address = address_key(&state, &headers);
    throttle(
        &state,
        &[
            (&format!("sms:{cpr_hash}"), QUARTER_MS, CODES_PER_QUARTER),
            (&format!("sms-{address}"), QUARTER_MS, PER_ADDRESS_PER_QUARTER),
        ],
    )
    .await?;
    let now = state.clock.now_ms();
    if let Some(citizen_id) = state.store.citizen_id(&cpr_hash).await? {
        let profile = state.store.stored_profile(citizen_id).await?;
        let phone =
            profile.as_ref().and_then(|p| p.profile.phone.as_deref()).and_then(crate::domain::phone::normalise_number);
        match phone {
            Some(to) if state.store.login_codes_since(citizen_id, now - QUARTER_MS).await? < CODES_PER_QUARTER => {
                let code = format!("{:06}", rand::Rng::random_range(&mut rand::rng(), 0..1_000_000u32));
                let lang = profile
                    .as_ref()
                    .and_then(|p| p.profile.language.as_deref())
                    .map(|l| lang::choose(Some(l), &HeaderMap::new()))
                    .unwrap_or_else(|| pre_login_lang(&headers));
                let text = I18N.message(lang, "citizen-login-sms", &[("code", code.clone())]);
                let sms = serde_json::json!({ "to": to, "text": text });
                let hash = code_hash(&state, citizen_id, &code);
                state.store.create_login_code(citizen_id, &hash, now + CODE_MS, sms, now).await?;
                state.engine_wake.notify_one();
                log_citizen(&state, citizen_id, "login_code_sent", None).await?;
            }
            Some(_) => log_citizen(&state, citizen_id, "login_code_rate_limited", None).await?,
            None => log_citizen(&state, citizen_id, "login_code_no_phone", None).await?,
        }
    }
    let exp = now + CODE_MS;
    let cookie = session::cookie(&state, PENDING_COOKIE, &pending_value(&state, exp, &cpr_hash), Some(CODE_MS / 1000));
    Ok(with_cookies(Redirect::to("/citizen/login/code"), vec![cookie]))
}

fn code_html(lang: &str, csrf: &str, problems: &Problems) -> String {
    let mut body = problems.summary(lang);
    body.push_str(&format!(
        "<p>{}</p><form method=\"post\" action=\"/citizen/login/code\" novalidate>\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">{}<p><button type=\"submit\">{}</button></p></form>\
         <p><a href=\"/citizen/login\">{}</a></p>",
        m(lang, "citizen-code-explain"),
        esc(csrf),
        text_input(
            lang,
            problems,
            "code",
            "text",
            "citizen-code-label",
            Some("citizen-code-hint"),
            "",
            "one-time-code"
        )
        .replace("type=\"text\"", "type=\"text\" inputmode=\"numeric\" maxlength=\"6\""),
        m(lang, "citizen-login-button"),
        m(lang, "citizen-code-new"),
    ));
    body
}

fn code_response(state: &AppState, headers: &HeaderMap, problems: &Problems, status: StatusCode) -> Response {
    let lang = pre_login_lang(headers);
    let (csrf, set) = session::login_csrf(state, headers);
    let title = I18N.message(lang, "citizen-code-title", &[]);
    let page = Page::new(Area::Citizen, lang, title, "/citizen/login/code")
        .body(code_html(lang, &csrf, problems))
        .status(status);
    with_cookies(page, set.into_iter().collect())
}

/// `GET /citizen/login/code`: where to type the texted code.
pub async fn code_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if pending_cpr_hash(&state, &headers).is_none() {
        return Redirect::to("/citizen/login").into_response();
    }
    code_response(&state, &headers, &Problems::default(), StatusCode::OK)
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

/// Start the session and go to the letters (or where the citizen was going).
async fn logged_in(
    state: &AppState,
    citizen_id: Uuid,
    method: &str,
    to: &str,
    mut cookies: Vec<HeaderValue>,
) -> Result<Response, WebError> {
    let (_, cookie) = session::start(state, Audience::Citizen, citizen_id, None, method).await?;
    cookies.push(cookie);
    Ok(with_cookies(Redirect::to(to), cookies))
}

/// `POST /citizen/login/code`: the right code logs in. A wrong, expired or used code and an
/// unknown CPR number get the same answer.
pub async fn verify_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, WebError> {
    session::check_login_csrf(&headers, &form.csrf)?;
    let Some(cpr_hash) = pending_cpr_hash(&state, &headers) else {
        return Ok(Redirect::to("/citizen/login").into_response());
    };
    let address = address_key(&state, &headers);
    throttle(&state, &[(&format!("code-{address}"), QUARTER_MS, PER_ADDRESS_PER_QUARTER)]).await?;
    let code: String = form.code.chars().filter(char::is_ascii_digit).collect();
    let now = state.clock.now_ms();
    if let Some(citizen_id) = state.store.citizen_id(&cpr_hash).await? {
        let check =
            state.store.check_login_code(citizen_id, &code_hash(&state, citizen_id, &code), CODE_TRIES, now).await?;
        match check {
            CodeCheck::Accepted => {
                log_citizen(&state, citizen_id, "login_code_accepted", None).await?;
                let clear = session::cookie(&state, PENDING_COOKIE, "", Some(0));
                return logged_in(&state, citizen_id, "sms_code", "/citizen/letters", vec![clear]).await;
            }
            CodeCheck::Wrong => log_citizen(&state, citizen_id, "login_code_wrong", None).await?,
            CodeCheck::NoLiveCode => log_citizen(&state, citizen_id, "login_code_expired", None).await?,
        }
    }
    let mut problems = Problems::default();
    problems.add("code", "citizen-error-code");
    Ok(code_response(&state, &headers, &problems, StatusCode::UNPROCESSABLE_ENTITY))
}

#[derive(Deserialize)]
pub struct AccessCodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    cpr: String,
    #[serde(default)]
    code: String,
}

/// `POST /citizen/login/access-code`: the CPR number and the code printed in a paper letter.
pub async fn access_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<AccessCodeForm>,
) -> Result<Response, WebError> {
    session::check_login_csrf(&headers, &form.csrf)?;
    let values = LoginValues { access_cpr: form.cpr.clone(), access_code: form.code.clone(), ..Default::default() };
    let mut problems = Problems::default();
    let cpr = cpr_problem(&form.cpr).map_err(|msg| problems.add("access-cpr", msg)).ok();
    if access_code::normalise(&form.code).is_none() {
        problems.add("access-code", "citizen-error-access-code");
    }
    let Some(cpr) = cpr.filter(|_| problems.is_empty()) else {
        return Ok(login_response(&state, &headers, &values, &problems, StatusCode::UNPROCESSABLE_ENTITY));
    };
    let cpr_hash = keyed_hash(&state.cpr_key, cpr.as_str());
    let address = address_key(&state, &headers);
    throttle(
        &state,
        &[
            (&format!("access:{cpr_hash}"), 3_600_000, ACCESS_TRIES_PER_HOUR),
            (&format!("access-{address}"), QUARTER_MS, PER_ADDRESS_PER_QUARTER),
        ],
    )
    .await?;
    let now = state.clock.now_ms();
    let citizen = state.store.citizen_id(&cpr_hash).await?;
    let right = access_code::matches(&state.reading_key, cpr.as_str(), &form.code, now);
    match citizen {
        Some(citizen_id) if right => {
            log_citizen(&state, citizen_id, "login_access_code", None).await?;
            logged_in(&state, citizen_id, "access_code", "/citizen/letters", Vec::new()).await
        }
        other => {
            if let Some(citizen_id) = other {
                log_citizen(&state, citizen_id, "login_access_code_wrong", None).await?;
            }
            problems.add("access-code", "citizen-error-access-code-wrong");
            Ok(login_response(&state, &headers, &values, &problems, StatusCode::UNPROCESSABLE_ENTITY))
        }
    }
}

/// `GET /citizen/login/oidc`: off to MitID.
pub async fn oidc_start(State(state): State<AppState>) -> Result<Response, WebError> {
    oidc::start(&state, Audience::Citizen, "/citizen/letters").await
}

/// `GET /citizen/login/oidc/callback`: MitID says who it is (a CPR number); the citizen row is
/// made if this is their first visit.
pub async fn oidc_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<oidc::CallbackQuery>,
) -> Result<Response, WebError> {
    let login = oidc::finish(&state, Audience::Citizen, &headers, query).await?;
    let cpr = Cpr::parse(login.identity.trim()).map_err(|_| {
        tracing::warn!("MitID login without a valid CPR number in the identity claim");
        WebError::LoginFailed("citizen-error-oidc-identity")
    })?;
    let citizen_id = state
        .store
        .ensure_citizen(cpr.as_str(), &keyed_hash(&state.cpr_key, cpr.as_str()), state.clock.now_ms())
        .await?;
    log_citizen(&state, citizen_id, "login_oidc", None).await?;
    let to = crate::web::lang::safe_return_path(&login.return_to).to_owned();
    logged_in(&state, citizen_id, "oidc", &to, vec![oidc::clear_state_cookie(&state)]).await
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /citizen/logout`: the session ends here and in the database.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, WebError> {
    // only a citizen's own session ends here, and only with its form token: the cookie may
    // carry a caseworker's session, which this form must not touch
    let mut clear = Vec::new();
    if let Some(current) = session::current(&state, &headers, Audience::Citizen).await? {
        session::check_csrf(&current, &form.csrf)?;
        clear.push(session::end(&state, &headers).await?);
    }
    let lang = pre_login_lang(&headers);
    let title = I18N.message(lang, "citizen-logged-out-title", &[]);
    let body = format!(
        "<p role=\"status\">{}</p><p><a href=\"/citizen/login\">{}</a></p>",
        m(lang, "citizen-logged-out"),
        m(lang, "citizen-login-again")
    );
    let page = Page::new(Area::Citizen, lang, title, "/citizen/logout").body(body);
    let mut response = with_cookies(page, clear);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
