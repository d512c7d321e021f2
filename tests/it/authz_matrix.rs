//! Issue #7, access control: an authorization matrix over every route the gateway serves.
//!
//! Actors: two authorities (API keys A and B), a caseworker of each, two citizens (X has a
//! letter from A, Y one from B), X's helper (granted notices only; helpers never log in, so
//! what they are sent is checked instead) and an anonymous client. Every route is called by
//! every actor; what is not theirs answers exactly as a missing id would (no leaking of
//! existence), and nothing changes. The route list is checked against the routers' source and
//! the OpenAPI document, so a new route that the matrix does not cover fails this test.

use crate::harness::*;
use crate::web_staff::caseworker;
use budbringer::domain::ManualClock;
use budbringer::web::session::{self, Audience};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

on_both_backends!(every_route_answers_each_actor_with_exactly_what_is_theirs);

const CPR_X: &str = "1512883457";
const CPR_Y: &str = "0202902345";
const SUBJECT_A: &str = "Afgørelse om boligstøtte fra Alfa";
const SUBJECT_B: &str = "Afgørelse om friplads fra Beta";
const BODY_A: &str = "Hemmeligt indhold i brevet fra Alfa.";
const HELPER_PHONE: &str = "+4587654321";

/// Every route: method, path template, and who it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    /// The authority API: an API key, nothing else.
    Api,
    /// Caseworker pages behind a staff login.
    Staff,
    /// Citizen pages behind a citizen login.
    Citizen,
    /// Open to anyone: health, docs, assets, login forms, the language switch.
    Public,
    /// Capability links (`/l/{token}`): the signed token is the authorization.
    Link,
    /// Provider call-backs: authenticated by the provider's own secret or signed token.
    Inbound,
}

const ROUTES: &[(&str, &str, Area)] = &[
    // the authority API
    ("POST", "/v1/letters", Area::Api),
    ("GET", "/v1/letters", Area::Api),
    ("GET", "/v1/letters/{id}", Area::Api),
    ("POST", "/v1/letters/{id}/cancel", Area::Api),
    ("POST", "/v1/letters/{id}/evidence", Area::Api),
    ("GET", "/v1/events", Area::Api),
    ("PUT", "/v1/citizens/profile", Area::Api),
    ("POST", "/v1/citizens/lookup", Area::Api),
    ("GET", "/v1/citizens/{id}/profile", Area::Api),
    ("GET", "/v1/callbacks", Area::Api),
    ("POST", "/v1/callbacks/{id}/outcome", Area::Api),
    ("GET", "/v1/alerts", Area::Api),
    ("POST", "/v1/alerts/{id}/close", Area::Api),
    ("GET", "/v1/policies", Area::Api),
    ("PUT", "/v1/policies/{importance}", Area::Api),
    ("GET", "/v1/settings", Area::Api),
    ("PUT", "/v1/settings/office-hours", Area::Api),
    ("PUT", "/v1/settings/closing-days", Area::Api),
    ("GET", "/v1/webhooks", Area::Api),
    ("POST", "/v1/webhooks", Area::Api),
    ("DELETE", "/v1/webhooks/{id}", Area::Api),
    ("POST", "/v1/webhooks/{id}/rotate-secret", Area::Api),
    // operations and documentation
    ("GET", "/healthz", Area::Public),
    ("GET", "/readyz", Area::Public),
    ("GET", "/metrics", Area::Public),
    ("GET", "/openapi.json", Area::Public),
    ("GET", "/docs", Area::Public),
    ("GET", "/docs/style.css", Area::Public),
    ("GET", "/assets/web.css", Area::Public),
    ("GET", "/assets/reading.css", Area::Public),
    ("POST", "/lang", Area::Public),
    // reading links
    ("GET", "/l/{token}", Area::Link),
    ("GET", "/l/{token}/documents/{document}", Area::Link),
    ("POST", "/l/{token}/code", Area::Link),
    ("POST", "/l/{token}/verify", Area::Link),
    // providers
    ("POST", "/v1/inbound/digital-post/receipts", Area::Inbound),
    ("GET", "/v1/inbound/sms/kannel/dlr", Area::Inbound),
    ("GET", "/v1/inbound/sms/kannel/mo", Area::Inbound),
    ("GET", "/v1/inbound/sms/http/report", Area::Inbound),
    ("POST", "/v1/inbound/sms/http/report", Area::Inbound),
    // citizens
    ("GET", "/citizen/login", Area::Public),
    ("POST", "/citizen/login/sms", Area::Public),
    ("GET", "/citizen/login/code", Area::Public),
    ("POST", "/citizen/login/code", Area::Public),
    ("POST", "/citizen/login/access-code", Area::Public),
    ("GET", "/citizen/login/oidc", Area::Public),
    ("GET", "/citizen/login/oidc/callback", Area::Public),
    ("POST", "/citizen/logout", Area::Citizen),
    ("GET", "/citizen", Area::Citizen),
    ("GET", "/citizen/letters", Area::Citizen),
    ("GET", "/citizen/letters/{id}", Area::Citizen),
    ("GET", "/citizen/letters/{id}/documents/{document}", Area::Citizen),
    ("POST", "/citizen/letters/{id}/reply", Area::Citizen),
    ("POST", "/citizen/letters/{id}/callback", Area::Citizen),
    ("GET", "/citizen/contact", Area::Citizen),
    ("POST", "/citizen/contact", Area::Citizen),
    ("POST", "/citizen/contact/exemption", Area::Citizen),
    ("GET", "/citizen/helpers", Area::Citizen),
    ("POST", "/citizen/helpers", Area::Citizen),
    ("POST", "/citizen/helpers/{index}/revoke", Area::Citizen),
    ("GET", "/citizen/data", Area::Citizen),
    ("GET", "/citizen/data.json", Area::Citizen),
    ("GET", "/citizen/data.pdf", Area::Citizen),
    // caseworkers
    ("GET", "/staff", Area::Staff),
    ("GET", "/staff/login", Area::Public),
    ("POST", "/staff/login", Area::Public),
    ("GET", "/staff/login/oidc", Area::Public),
    ("GET", "/staff/login/oidc/callback", Area::Public),
    ("POST", "/staff/logout", Area::Staff),
    ("GET", "/staff/alerts", Area::Staff),
    ("POST", "/staff/alerts/{id}/take", Area::Staff),
    ("POST", "/staff/alerts/{id}/close", Area::Staff),
    ("GET", "/staff/callbacks", Area::Staff),
    ("GET", "/staff/callbacks/{id}", Area::Staff),
    ("POST", "/staff/callbacks/{id}/claim", Area::Staff),
    ("POST", "/staff/callbacks/{id}/outcome", Area::Staff),
    ("POST", "/staff/callbacks/{id}/reschedule", Area::Staff),
    ("GET", "/staff/letters/{id}", Area::Staff),
    ("GET", "/staff/citizens", Area::Staff),
    ("POST", "/staff/citizens/lookup", Area::Staff),
    ("GET", "/staff/citizens/{id}", Area::Staff),
    ("POST", "/staff/citizens/{id}/profile", Area::Staff),
    ("GET", "/staff/report", Area::Staff),
    ("GET", "/staff/report.csv", Area::Staff),
    ("GET", "/staff/report.json", Area::Staff),
];

/// Route paths that the source names by a constant rather than a literal.
fn constant_path(name: &str) -> Option<&'static str> {
    match name.rsplit("::").next()? {
        "RECEIPTS_PATH" => Some(budbringer::api::inbound::digital_post::RECEIPTS_PATH),
        "REPORT_PATH" if name.contains("kannel") => Some(budbringer::channels::sms::kannel::REPORT_PATH),
        "REPORT_PATH" if name.contains("http") => Some(budbringer::channels::sms::http::REPORT_PATH),
        _ => None,
    }
}

/// Every `(METHOD, path)` the routers in `src/` declare with `.route(…)`.
fn routes_in_source() -> BTreeSet<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let mut routes = BTreeSet::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        for (at, _) in source.match_indices(".route(") {
            let rest = &source[at + ".route(".len()..];
            // the call's arguments, up to its closing parenthesis
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(i, _)| i)
                .unwrap_or_else(|| panic!("unbalanced .route( in {}", file.display()));
            let args = &rest[..end];
            let (first, handlers) = args.split_once(',').unwrap();
            let first = first.trim();
            let path = match first.strip_prefix('"') {
                Some(literal) => literal.trim_end_matches('"').to_owned(),
                None => constant_path(first)
                    .unwrap_or_else(|| panic!("{}: route path {first} is unknown to the matrix", file.display()))
                    .to_owned(),
            };
            let bytes = handlers.as_bytes();
            for method in ["get", "post", "put", "delete", "patch"] {
                for (i, _) in handlers.match_indices(&format!("{method}(")) {
                    let before = if i == 0 { b' ' } else { bytes[i - 1] };
                    if !(before.is_ascii_alphanumeric() || before == b'_') {
                        routes.insert((method.to_uppercase(), path.clone()));
                    }
                }
            }
        }
    }
    routes
}

/// The matrix covers exactly the routes the source declares and the OpenAPI document lists.
#[test]
fn the_matrix_covers_every_route() {
    let matrix: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    assert_eq!(matrix.len(), ROUTES.len(), "a route is listed twice");
    let source = routes_in_source();
    let missing: Vec<_> = source.difference(&matrix).collect();
    let stale: Vec<_> = matrix.difference(&source).collect();
    assert!(missing.is_empty(), "routes not in the authorization matrix: {missing:?}");
    assert!(stale.is_empty(), "matrix routes no router declares: {stale:?}");
    let spec = serde_json::to_value(<budbringer::api::openapi::ApiDoc as utoipa::OpenApi>::openapi()).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let route = (method.to_uppercase(), path.clone());
            assert!(matrix.contains(&route), "OpenAPI operation not in the matrix: {route:?}");
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Anonymous,
    KeyA,
    KeyB,
    StaffA,
    StaffB,
    CitizenX,
    CitizenY,
}

const ACTORS: [Actor; 7] =
    [Actor::Anonymous, Actor::KeyA, Actor::KeyB, Actor::StaffA, Actor::StaffB, Actor::CitizenX, Actor::CitizenY];

impl Actor {
    fn area(self) -> Option<Area> {
        match self {
            Actor::Anonymous => None,
            Actor::KeyA | Actor::KeyB => Some(Area::Api),
            Actor::StaffA | Actor::StaffB => Some(Area::Staff),
            Actor::CitizenX | Actor::CitizenY => Some(Area::Citizen),
        }
    }
}

/// A logged-in browser's cookie and form token.
struct Login {
    cookie: String,
    csrf: String,
}

/// What came back, enough to compare two answers exactly.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    location: Option<String>,
    content_type: String,
    body: String,
}

enum Body {
    Empty,
    Json(Value),
    Form(Vec<(&'static str, String)>),
}

struct World {
    app: TestApp,
    client: reqwest::Client,
    key_a: String,
    key_b: String,
    staff_a: Login,
    staff_b: Login,
    citizen_x: Login,
    citizen_y: Login,
    citizen_x_id: String,
    letter_a: String,
    document_a: String,
    alert_a: String,
    callback_a: String,
    webhook_a: String,
}

impl World {
    async fn call(&self, actor: Actor, method: &str, path: &str, body: Body) -> Answer {
        let url = format!("{}{path}", self.app.base);
        let method: reqwest::Method = method.parse().unwrap();
        let mut request = self.client.request(method, url);
        let login = match actor {
            Actor::KeyA => {
                request = request.bearer_auth(&self.key_a);
                None
            }
            Actor::KeyB => {
                request = request.bearer_auth(&self.key_b);
                None
            }
            Actor::StaffA => Some(&self.staff_a),
            Actor::StaffB => Some(&self.staff_b),
            Actor::CitizenX => Some(&self.citizen_x),
            Actor::CitizenY => Some(&self.citizen_y),
            Actor::Anonymous => None,
        };
        if let Some(login) = login {
            request = request.header("cookie", &login.cookie);
        }
        request = match body {
            Body::Empty => request,
            Body::Json(value) => request.json(&value),
            Body::Form(mut fields) => {
                let csrf = login.map(|l| l.csrf.clone()).unwrap_or_else(|| "x".repeat(43));
                fields.insert(0, ("csrf", csrf));
                request.form(&fields)
            }
        };
        let response = request.send().await.unwrap();
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        let location = header("location");
        let content_type = header("content-type").unwrap_or_default();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        Answer { status, location, content_type, body }
    }

    /// A route template with A's and X's ids filled in (what B, Y and strangers must not reach).
    fn fill(&self, template: &str) -> String {
        let id = if template.starts_with("/v1/alerts") || template.starts_with("/staff/alerts") {
            &self.alert_a
        } else if template.starts_with("/v1/callbacks") || template.starts_with("/staff/callbacks") {
            &self.callback_a
        } else if template.starts_with("/v1/webhooks") {
            &self.webhook_a
        } else if template.contains("/citizens/") {
            &self.citizen_x_id
        } else {
            &self.letter_a
        };
        template
            .replace("{id}", id)
            .replace("{document}", &self.document_a)
            .replace("{importance}", "important")
            .replace("{index}", "0")
            .replace("{token}", "bm90LWEtdG9rZW4.c2lnbmF0dXJl")
    }

    /// A plausible body for a route (well-formed, so only authorization can refuse it).
    fn body(method: &str, template: &str, area: Area) -> Body {
        match (method, area) {
            ("GET", _) | ("DELETE", _) => Body::Empty,
            (_, Area::Api) => Body::Json(api_body(template)),
            (_, Area::Inbound) if template.contains("digital-post") => Body::Json(json!({})),
            (_, Area::Inbound) => Body::Empty,
            _ => Body::Form(form_body(template)),
        }
    }
}

fn api_body(template: &str) -> Value {
    match template {
        "/v1/letters" => letter(CPR_Y),
        "/v1/letters/{id}/evidence" => json!({ "type": "reacted", "via": "phone" }),
        "/v1/citizens/profile" => json!({ "cpr": CPR_X, "phone": "+45 99 99 99 99" }),
        "/v1/citizens/lookup" => json!({ "cpr": CPR_X }),
        "/v1/callbacks/{id}/outcome" => json!({ "outcome": "wrong_number", "minutes": 1 }),
        "/v1/alerts/{id}/close" => json!({ "note": "lukket af en anden" }),
        "/v1/policies/{importance}" => json!({ "escalations": [] }),
        "/v1/settings/office-hours" => {
            json!({ "office_hours": "mon-fri 09:00-15:00", "time_zone": "Europe/Copenhagen" })
        }
        "/v1/settings/closing-days" => json!({ "closing_days": ["2026-12-24"] }),
        "/v1/webhooks" => json!({ "url": "http://127.0.0.1:9/hook" }),
        _ => json!({}),
    }
}

fn form_body(template: &str) -> Vec<(&'static str, String)> {
    let s = |v: &str| v.to_owned();
    match template {
        "/citizen/letters/{id}/reply" => vec![("reply", s("Et svar fra en anden"))],
        "/citizen/contact" => vec![("phone", s("+45 99 99 99 99"))],
        "/citizen/helpers" => vec![("name", s("Fremmed")), ("phone", s("+45 11 11 11 11")), ("consent", s("on"))],
        "/staff/alerts/{id}/close" => vec![("note", s("lukket af en anden"))],
        "/staff/callbacks/{id}/outcome" => vec![("outcome", s("wrong_number")), ("minutes", s("1"))],
        "/staff/callbacks/{id}/reschedule" => vec![("when", s("2026-11-26T10:00"))],
        "/staff/citizens/lookup" => vec![("cpr", s(CPR_X))],
        "/staff/citizens/{id}/profile" => vec![("phone", s("+45 99 99 99 99"))],
        "/staff/login" => vec![("username", s("anna")), ("password", s("wrong"))],
        "/citizen/login/sms" | "/citizen/login/access-code" => vec![("cpr", s(CPR_X)), ("code", s("ABCD-EFGH"))],
        "/citizen/login/code" => vec![("code", s("123456"))],
        "/lang" => vec![("lang", s("en")), ("return", s("/citizen"))],
        _ => vec![],
    }
}

/// Log in without the login forms (they are tested on their own): a session for the subject.
async fn login(app: &TestApp, audience: Audience, subject: uuid::Uuid, authority: Option<uuid::Uuid>) -> Login {
    let (record, cookie) = session::start(&app.state, audience, subject, authority, "password").await.unwrap();
    let cookie = cookie.to_str().unwrap().split(';').next().unwrap().to_owned();
    Login { cookie, csrf: record.csrf_token }
}

async fn json_of(app: &TestApp, key: &str, path: &str) -> Value {
    app.get_json(key, path).await
}

async fn setup(backend: &Backend, clock: Arc<ManualClock>) -> World {
    let app = TestApp::start_with_clock(backend, clock.clone() as Arc<dyn budbringer::domain::Clock>, |s| {
        s.policies.important = fast_ladder()
    })
    .await;
    let (authority_a, key_a) = app.authority("Alfa Kommune").await;
    let (authority_b, key_b) = app.authority("Beta Kommune").await;
    let put_profile = |key: String, body: Value| {
        let request = app.client.put(format!("{}/v1/citizens/profile", app.base)).bearer_auth(key).json(&body);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let x = put_profile(
        key_a.clone(),
        json!({ "cpr": CPR_X, "name": "Xenia Xavier", "phone": "+45 12 34 56 78",
                "helpers": [{ "name": "Mette Hjælper", "phone": HELPER_PHONE, "receives": "notice", "consent": true }] }),
    )
    .await;
    let y = put_profile(key_b.clone(), json!({ "cpr": CPR_Y, "name": "Yrsa Yde", "phone": "+45 23 45 67 89" })).await;
    let citizen_x: uuid::Uuid = x["citizen_id"].as_str().unwrap().parse().unwrap();
    let citizen_y: uuid::Uuid = y["citizen_id"].as_str().unwrap().parse().unwrap();

    let send = |key: String, cpr: &str, subject: &str, body: &str| {
        let mut letter = letter(cpr);
        letter["subject"] = json!(subject);
        letter["body"] = json!(body);
        letter["documents"] = json!([{ "filename": "afgoerelse.pdf", "content": pdf_base64() }]);
        let request = app.client.post(format!("{}/v1/letters", app.base)).bearer_auth(key).json(&letter);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 201);
            response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
        }
    };
    let letter_a = send(key_a.clone(), CPR_X, SUBJECT_A, BODY_A).await;
    let letter_b = send(key_b.clone(), CPR_Y, SUBJECT_B, "Indhold fra Beta.").await;
    app.wait_for_status(&key_a, &letter_a, "delivered").await;
    app.wait_for_status(&key_b, &letter_b, "delivered").await;

    // nobody opens them: the first escalation raises an alert and tells X's helper
    clock.advance(Duration::from_secs(3601));
    for (key, id) in [(&key_a, &letter_a), (&key_b, &letter_b)] {
        let escalated = eventually(Duration::from_secs(20), || async {
            let letter = json_of(&app, key, &format!("/v1/letters/{id}")).await;
            letter["timeline"].as_array().unwrap().iter().any(|e| e["type"] == "escalated")
        })
        .await;
        assert!(escalated, "letter {id} escalated");
    }
    let mut alert_a = String::new();
    for key in [&key_a, &key_b] {
        let start = std::time::Instant::now();
        loop {
            let alerts = json_of(&app, key, "/v1/alerts").await;
            if let Some(first) = alerts.as_array().unwrap().first() {
                if key == &key_a {
                    alert_a = first["id"].as_str().unwrap().to_owned();
                }
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "an alert was raised");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    let letter_view = json_of(&app, &key_a, &format!("/v1/letters/{letter_a}")).await;
    let document_a = letter_view["documents"][0]["id"].as_str().unwrap().to_owned();

    // still unopened an hour later: the phone rung gives each authority a callback task
    clock.advance(Duration::from_secs(3601));
    for key in [&key_a, &key_b] {
        let called = eventually(Duration::from_secs(20), || async {
            !json_of(&app, key, "/v1/callbacks").await.as_array().unwrap().is_empty()
        })
        .await;
        assert!(called, "a callback task");
    }
    let anna = caseworker(&app, authority_a, "anna", "Anna Alfa").await;
    let bent = caseworker(&app, authority_b, "bent", "Bent Beta").await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let world = World {
        staff_a: login(&app, Audience::Staff, anna, Some(authority_a)).await,
        staff_b: login(&app, Audience::Staff, bent, Some(authority_b)).await,
        citizen_x: login(&app, Audience::Citizen, citizen_x, None).await,
        citizen_y: login(&app, Audience::Citizen, citizen_y, None).await,
        citizen_x_id: citizen_x.to_string(),
        letter_a,
        document_a,
        alert_a,
        callback_a: String::new(),
        webhook_a: String::new(),
        client,
        key_a,
        key_b,
        app,
    };
    let callbacks = json_of(&world.app, &world.key_a, "/v1/callbacks").await;
    let callback_a = callbacks[0]["id"].as_str().unwrap().to_owned();
    for key in [&world.key_a, &world.key_b] {
        let actor = if key == &world.key_a { Actor::KeyA } else { Actor::KeyB };
        let hook = world.call(actor, "POST", "/v1/webhooks", Body::Json(api_body("/v1/webhooks"))).await;
        assert_eq!(hook.status, 201, "{hook:?}");
    }
    let hooks = json_of(&world.app, &world.key_a, "/v1/webhooks").await;
    let webhook_a = hooks[0]["id"].as_str().unwrap().to_owned();
    World { callback_a, webhook_a, ..world }
}

/// A's state as A sees it: what no other actor may change.
async fn a_state(world: &World) -> Value {
    let key = &world.key_a;
    let letter = json_of(&world.app, key, &format!("/v1/letters/{}", world.letter_a)).await;
    json!({
        "status": letter["status"],
        "timeline": letter["timeline"].as_array().unwrap().len(),
        "alerts": json_of(&world.app, key, "/v1/alerts?all=true").await,
        "callbacks": json_of(&world.app, key, "/v1/callbacks?all=true").await,
        "webhooks": json_of(&world.app, key, "/v1/webhooks").await,
        "settings": json_of(&world.app, key, "/v1/settings").await,
        "policies": json_of(&world.app, key, "/v1/policies").await,
        "profile": world.app.store.stored_profile(world.citizen_x_id.parse().unwrap()).await.unwrap().unwrap().profile.phone,
        "helpers": world.app.store.stored_profile(world.citizen_x_id.parse().unwrap()).await.unwrap().unwrap().profile.helpers.len(),
    })
}

/// What an actor outside a route's area gets: the same as anonymous.
fn anonymous_expectation(method: &str, template: &str, area: Area) -> (u16, Option<&'static str>) {
    match area {
        // the logged-out page, for anyone; no other session is touched
        _ if template == "/citizen/logout" => (200, None),
        // a plain redirect to the alerts, which then want a login
        _ if template == "/staff" => (303, Some("/staff/alerts")),
        Area::Api => (401, None),
        Area::Staff => (303, Some("/staff/login")),
        Area::Citizen => (303, Some("/citizen/login")),
        _ => public_expectation(Actor::Anonymous, method, template),
    }
}

/// Routes anyone may call: what a stranger gets with no credentials and made-up input.
fn public_expectation(actor: Actor, method: &str, template: &str) -> (u16, Option<&'static str>) {
    match (method, template) {
        // a logged-in citizen needs no login form
        ("GET", "/citizen/login") if actor.area() == Some(Area::Citizen) => (303, Some("/citizen/letters")),
        // a form without the double-submit cookie is refused
        ("POST", "/staff/login" | "/citizen/login/sms" | "/citizen/login/code" | "/citizen/login/access-code") => {
            (403, None)
        }
        // no login in progress: back to the start
        ("GET", "/citizen/login/code") => (303, Some("/citizen/login")),
        // single sign-on is not configured here
        (
            _,
            "/citizen/login/oidc" | "/citizen/login/oidc/callback" | "/staff/login/oidc" | "/staff/login/oidc/callback",
        ) => (400, None),
        ("POST", "/lang") => (303, Some("/citizen")),
        // a reading link that was never signed does not exist
        (_, t) if t.starts_with("/l/") => (404, None),
        // a provider call without its secret or token
        ("POST", "/v1/inbound/digital-post/receipts") => (401, None),
        (_, t) if t.starts_with("/v1/inbound/") => (404, None),
        _ => (200, None),
    }
}

async fn every_route_answers_each_actor_with_exactly_what_is_theirs(backend: Backend) {
    let clock = Arc::new(ManualClock::new("2026-11-25T09:00:00Z".parse().unwrap()));
    let world = setup(&backend, clock).await;
    let before = a_state(&world).await;

    // public routes answer everyone alike
    let mut wrong = Vec::new();
    for &(method, template, area) in ROUTES.iter().filter(|r| matches!(r.2, Area::Public | Area::Link | Area::Inbound))
    {
        let path = world.fill(template);
        for actor in ACTORS {
            let answer = world.call(actor, method, &path, World::body(method, template, area)).await;
            let (status, location) = public_expectation(actor, method, template);
            if (answer.status, answer.location.as_deref()) != (status, location) {
                wrong.push(format!("{actor:?} {method} {path}: {} {:?}", answer.status, answer.location));
            }
            assert!(answer.status < 500);
        }
    }
    // 1. Every route × every actor outside the route's area: exactly the anonymous answer
    // (API keys open no pages, sessions open no API, a citizen's session opens no staff page
    // and the reverse); and nothing changes.
    for &(method, template, area) in ROUTES {
        let path = world.fill(template);
        let (status, location) = anonymous_expectation(method, template, area);
        for actor in ACTORS {
            // public routes are checked for everyone below
            if actor.area() == Some(area) || matches!(area, Area::Public | Area::Link | Area::Inbound) {
                continue;
            }
            let answer = world.call(actor, method, &path, World::body(method, template, area)).await;
            assert_eq!(answer.status, status, "{actor:?} {method} {path}: {answer:?}");
            assert_eq!(answer.location.as_deref(), location, "{actor:?} {method} {path}");
            if area == Area::Api || template.starts_with("/v1/") {
                assert_eq!(answer.content_type, "application/problem+json", "{actor:?} {method} {path}");
            }
            for secret in [SUBJECT_A, BODY_A, CPR_X] {
                assert!(!answer.body.contains(secret), "{actor:?} {method} {path} leaks {secret}");
            }
        }
    }
    assert!(wrong.is_empty(), "public routes: {wrong:#?}");
    // the citizens' logout form ends no caseworker's session (the cookie name is shared)
    for actor in [Actor::StaffA, Actor::StaffB] {
        let alerts = world.call(actor, "GET", "/staff/alerts", Body::Empty).await;
        assert_eq!(alerts.status, 200, "{actor:?} still logged in after POST /citizen/logout");
    }
    assert_eq!(a_state(&world).await, before, "no outsider changed anything of A's");

    // 2. Inside an area, another tenant's id answers exactly like an id that does not exist.
    let missing = uuid::Uuid::now_v7().to_string();
    let own_area_routes = |area: Area| ROUTES.iter().filter(move |r| r.2 == area && r.1.contains('{'));
    for (actor, area) in [(Actor::KeyB, Area::Api), (Actor::StaffB, Area::Staff), (Actor::CitizenY, Area::Citizen)] {
        for &(method, template, _) in own_area_routes(area) {
            // shared by design: a citizen's contact profile is the same for every authority
            // (found by CPR number, every read in the citizen's access log); an escalation
            // ladder is named by importance, not by an id
            if matches!(template, "/v1/citizens/{id}/profile" | "/v1/policies/{importance}")
                || template == "/citizen/helpers/{index}/revoke"
            {
                continue;
            }
            let theirs = world.fill(template);
            let nothing = template.replace("{id}", &missing).replace("{document}", &missing).replace("{index}", "0");
            let a = world.call(actor, method, &theirs, World::body(method, template, area)).await;
            let b = world.call(actor, method, &nothing, World::body(method, template, area)).await;
            assert_eq!(a.status, 404, "{actor:?} {method} {theirs}: {a:?}");
            // pages echo their own path (the language switch returns to it): ids aside, equal
            let ids = [
                &world.letter_a,
                &world.document_a,
                &world.alert_a,
                &world.callback_a,
                &world.webhook_a,
                &world.citizen_x_id,
                &missing,
            ];
            let blind = |mut answer: Answer| {
                for id in ids {
                    answer.body = answer.body.replace(id.as_str(), "ID");
                }
                answer
            };
            let (a, b) = (blind(a), blind(b));
            assert_eq!(a, b, "{actor:?} {method} {template}: another's id must answer like a missing one");
        }
    }
    // Y has no helper 0; X's helper stays
    let revoke = world.call(Actor::CitizenY, "POST", "/citizen/helpers/0/revoke", Body::Form(vec![])).await;
    assert_eq!(revoke.status, 404, "{revoke:?}");
    assert_eq!(a_state(&world).await, before, "no other tenant changed anything of A's");

    // 3. Lists show only one's own.
    for path in ["/v1/letters", "/v1/events?after=0", "/v1/alerts?all=true", "/v1/callbacks?all=true", "/v1/webhooks"] {
        let b = world.call(Actor::KeyB, "GET", path, Body::Empty).await;
        assert_eq!(b.status, 200, "{path}");
        for secret in [
            world.letter_a.as_str(),
            world.alert_a.as_str(),
            world.callback_a.as_str(),
            world.webhook_a.as_str(),
            SUBJECT_A,
        ] {
            assert!(!b.body.contains(secret), "B's {path} shows A's {secret}");
        }
        let a = world.call(Actor::KeyA, "GET", path, Body::Empty).await;
        assert_eq!(a.status, 200, "{path}");
    }
    assert!(world.call(Actor::KeyA, "GET", "/v1/letters", Body::Empty).await.body.contains(&world.letter_a));
    for path in ["/staff/alerts", "/staff/callbacks", "/staff/report", "/staff/report.csv", "/staff/report.json"] {
        let b = world.call(Actor::StaffB, "GET", path, Body::Empty).await;
        assert_eq!(b.status, 200, "{path}");
        for secret in [SUBJECT_A, world.letter_a.as_str(), world.alert_a.as_str(), "Xenia"] {
            assert!(!b.body.contains(secret), "caseworker B's {path} shows A's {secret}");
        }
    }
    let a_alerts = world.call(Actor::StaffA, "GET", "/staff/alerts", Body::Empty).await;
    assert!(
        a_alerts.body.contains(&world.letter_a) || a_alerts.body.contains(SUBJECT_A),
        "A's caseworker sees A's alert"
    );
    for path in ["/citizen/letters", "/citizen/data", "/citizen/data.json", "/citizen/contact", "/citizen/helpers"] {
        let y = world.call(Actor::CitizenY, "GET", path, Body::Empty).await;
        assert_eq!(y.status, 200, "{path}");
        for secret in [SUBJECT_A, world.letter_a.as_str(), "Xenia", "Mette", CPR_X] {
            assert!(!y.body.contains(secret), "citizen Y's {path} shows X's {secret}");
        }
    }
    let pdf = world.call(Actor::CitizenY, "GET", "/citizen/data.pdf", Body::Empty).await;
    assert_eq!((pdf.status, pdf.content_type.as_str()), (200, "application/pdf"));

    // 4. The owners see and change what is theirs.
    // (closing first: the citizen reading the letter below is evidence, which resolves the alert)
    let close = world
        .call(
            Actor::StaffA,
            "POST",
            &world.fill("/staff/alerts/{id}/close"),
            World::body("POST", "/staff/alerts/{id}/close", Area::Staff),
        )
        .await;
    assert_eq!(close.status, 303, "{close:?}");
    let alerts = json_of(&world.app, &world.key_a, "/v1/alerts?all=true").await;
    let closed = alerts.as_array().unwrap().iter().find(|a| a["id"] == world.alert_a.as_str()).unwrap();
    assert_eq!(closed["status"], "closed", "{closed}");
    // B's key cannot close it again or reopen it: still "not found"
    let again = world
        .call(Actor::KeyB, "POST", &world.fill("/v1/alerts/{id}/close"), Body::Json(api_body("/v1/alerts/{id}/close")))
        .await;
    assert_eq!(again.status, 404);
    let cancel = world.call(Actor::KeyA, "POST", &world.fill("/v1/letters/{id}/cancel"), Body::Empty).await;
    assert_eq!(cancel.status, 409, "a delivered letter cannot be cancelled, but A is told so: {cancel:?}");

    let a_letter = world.call(Actor::KeyA, "GET", &world.fill("/v1/letters/{id}"), Body::Empty).await;
    assert!(a_letter.status == 200 && a_letter.body.contains(SUBJECT_A), "{a_letter:?}");
    let staff_letter = world.call(Actor::StaffA, "GET", &world.fill("/staff/letters/{id}"), Body::Empty).await;
    assert!(staff_letter.status == 200 && staff_letter.body.contains(SUBJECT_A), "{staff_letter:?}");
    let staff_citizen = world.call(Actor::StaffA, "GET", &world.fill("/staff/citizens/{id}"), Body::Empty).await;
    assert!(staff_citizen.status == 200 && staff_citizen.body.contains("Xenia"), "{staff_citizen:?}");
    let x_letter = world.call(Actor::CitizenX, "GET", &world.fill("/citizen/letters/{id}"), Body::Empty).await;
    assert!(x_letter.status == 200 && x_letter.body.contains(BODY_A), "{x_letter:?}");
    let x_pdf = world
        .call(Actor::CitizenX, "GET", &world.fill("/citizen/letters/{id}/documents/{document}"), Body::Empty)
        .await;
    assert_eq!((x_pdf.status, x_pdf.content_type.as_str()), (200, "application/pdf"));
    // 5. The helper: granted notices, so one SMS that says a letter came — never its content,
    // never a link to it — and no paper copy.
    let deliveries: Vec<(String, String)> =
        json_of(&world.app, &world.key_a, &world.fill("/v1/letters/{id}")).await["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["purpose"] == "helper")
            .map(|d| (d["channel"].as_str().unwrap().to_owned(), d["purpose"].as_str().unwrap().to_owned()))
            .collect();
    assert_eq!(deliveries, [("sms".to_owned(), "helper".to_owned())], "only what was granted");
    let outbox = world.app.outbox();
    let sent = eventually(Duration::from_secs(10), || async {
        outbox_files(&outbox, "sms").iter().any(|f| {
            std::fs::read_to_string(outbox.join("sms").join(f)).unwrap().starts_with(&format!("To: {HELPER_PHONE}"))
        })
    })
    .await;
    assert!(sent, "the helper is told");
    let to_helper: Vec<String> = outbox_files(&outbox, "sms")
        .iter()
        .map(|f| std::fs::read_to_string(outbox.join("sms").join(f)).unwrap())
        .filter(|t| t.starts_with(&format!("To: {HELPER_PHONE}")))
        .collect();
    assert_eq!(to_helper.len(), 1, "one notice, for A's letter only (Y's letter is not X's helper's business)");
    for secret in [SUBJECT_A, BODY_A, "boligstøtte", CPR_X, "/l/", "/citizen/letters/"] {
        assert!(!to_helper[0].contains(secret), "a helper's notice carries {secret}: {}", to_helper[0]);
    }
    world.app.finish().await;
}
