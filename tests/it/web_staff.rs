//! The caseworkers' pages over HTTP: login and its rate limit, the alert → callback → "reached,
//! 6 minutes" flow with its webhook and report, and that another authority's caseworker sees
//! none of it (404 everywhere).

use crate::harness::*;
use axum::http::StatusCode;
use budbringer::cli::{NewCaseworker, create_caseworker};
use budbringer::domain::ManualClock;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

on_both_backends!(
    logging_in_and_out_with_a_rate_limit,
    an_unopened_letter_is_followed_up_by_phone,
    caseworkers_log_in_with_their_organisation
);

pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) async fn caseworker(app: &TestApp, authority: uuid::Uuid, username: &str, name: &str) -> uuid::Uuid {
    let new = NewCaseworker {
        authority_id: authority,
        username,
        name,
        role: "caseworker",
        unit: Some("Borgerservice"),
        oidc_subject: None,
        password: Some(PASSWORD),
    };
    create_caseworker(app.store.as_ref(), &new).await.expect("caseworker").id
}

/// A browser-like client: cookies kept, redirects not followed (so tests see them).
fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The value of the first `name="csrf"` field in a page.
fn csrf(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker).unwrap_or_else(|| panic!("no csrf field in {html}")) + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

struct Staff {
    client: reqwest::Client,
    base: String,
    csrf: String,
}

impl Staff {
    async fn try_login(app: &TestApp, username: &str, password: &str) -> (reqwest::Client, reqwest::Response) {
        let client = browser();
        let form = client.get(format!("{}/staff/login", app.base)).send().await.unwrap();
        assert_eq!(form.status(), 200);
        let token = csrf(&form.text().await.unwrap());
        let response = client
            .post(format!("{}/staff/login", app.base))
            .form(&[("csrf", token.as_str()), ("username", username), ("password", password)])
            .send()
            .await
            .unwrap();
        (client, response)
    }

    async fn login(app: &TestApp, username: &str) -> Staff {
        let (client, response) = Self::try_login(app, username, PASSWORD).await;
        assert_eq!(response.status(), 303, "logged in");
        assert_eq!(location(&response), "/staff/alerts");
        let page = client.get(format!("{}/staff/alerts", app.base)).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let csrf = csrf(&page.text().await.unwrap());
        Staff { client, base: app.base.clone(), csrf }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.unwrap()
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.client.post(format!("{}{path}", self.base)).form(&form).send().await.unwrap()
    }
}

async fn logging_in_and_out_with_a_rate_limit(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (authority, _) = app.authority("Skive Kommune").await;
    caseworker(&app, authority, "anna", "Anna Andersen").await;
    caseworker(&app, authority, "bo", "Bo Bech").await;

    // not logged in: to the login page
    let anonymous = browser().get(format!("{}/staff/alerts", app.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(location(&anonymous), "/staff/login");

    // a login form without its token is refused
    let forged = browser()
        .post(format!("{}/staff/login", app.base))
        .form(&[("csrf", "x"), ("username", "anna"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    let (_, wrong) = Staff::try_login(&app, "anna", "wrong password here").await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("set-cookie").is_none_or(|c| !c.to_str().unwrap().contains("bb_session=")));
    let (_, unknown) = Staff::try_login(&app, "nobody", PASSWORD).await;
    assert_eq!(unknown.status(), 401, "an unknown user is answered like a wrong password");

    let staff = Staff::login(&app, "anna").await;
    let html = staff.page("/staff/alerts").await;
    assert!(html.contains("<html lang=\"da\""), "staff pages are Danish by default");
    let english = staff.client.get(format!("{}/staff/alerts", app.base)).header("accept-language", "en").send().await;
    assert!(english.unwrap().text().await.unwrap().contains("Alerts"));
    let out = staff.post("/staff/logout", &[]).await;
    assert_eq!(out.status(), 303);
    assert_eq!(staff.get("/staff/alerts").await.status(), 303, "the session has ended");

    // guessing is slowed down: after five wrong passwords even the right one waits
    for _ in 0..5 {
        let (_, response) = Staff::try_login(&app, "bo", "not the password").await;
        assert_eq!(response.status(), 401);
    }
    let (_, limited) = Staff::try_login(&app, "bo", PASSWORD).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    // another account is not locked by it
    Staff::login(&app, "anna").await;
    app.finish().await;
}

/// A webhook endpoint that records every call's body.
pub(crate) async fn webhook_receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let state = calls.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let state = state.clone();
            async move {
                state.lock().unwrap().push(serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, calls)
}

pub(crate) fn kinds(letter: &Value) -> Vec<String> {
    letter["timeline"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

pub(crate) async fn wait_until<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    assert!(eventually(Duration::from_secs(20), check).await, "timed out waiting for {what}");
}

async fn an_unopened_letter_is_followed_up_by_phone(backend: Backend) {
    // Wednesday 2026-11-25 10:00 in Copenhagen: office hours
    let clock = Arc::new(ManualClock::new("2026-11-25T09:00:00Z".parse().unwrap()));
    let app = TestApp::start_with_clock(&backend, clock.clone(), |s| {
        s.policies.important = fast_ladder();
        s.web.session_idle_minutes = 24 * 60;
    })
    .await;
    let (authority, key) = app.authority("Vejle Kommune").await;
    let (other_authority, _) = app.authority("Horsens Kommune").await;
    caseworker(&app, authority, "anna", "Anna Andersen").await;
    caseworker(&app, other_authority, "otto", "Otto Olsen").await;
    let (hook, calls) = webhook_receiver().await;
    let created = app.client.post(format!("{}/v1/webhooks", app.base)).bearer_auth(&key).json(&json!({ "url": hook }));
    assert_eq!(created.send().await.unwrap().status(), 201);

    let profile = json!({
        "cpr": "0101901234", "name": "Jens Jensen", "phone": "+45 12 34 56 78", "needs": { "large_print": true },
        "address": { "street": "Vestergade", "house_number": "1", "postcode": "7100", "town": "Vejle" }
    });
    let put = app.client.put(format!("{}/v1/citizens/profile", app.base)).bearer_auth(&key).json(&profile);
    let citizen_id =
        put.send().await.unwrap().json::<Value>().await.unwrap()["citizen_id"].as_str().unwrap().to_owned();
    let mut body = letter("0101901234");
    body["respond_by"] = json!("2026-11-30");
    let created: Value = app.post_letter(&key, &body).await.json().await.unwrap();
    let letter_id = created["id"].as_str().unwrap().to_owned();
    app.wait_for_status(&key, &letter_id, "delivered").await;

    // an hour without evidence: SMS and paper, and an "unopened" alert for caseworkers
    clock.advance(Duration::from_secs(3601));
    wait_until("the unopened alert", || async {
        !app.get_json(&key, "/v1/alerts").await.as_array().unwrap().is_empty()
    })
    .await;
    let alert_id = app.get_json(&key, "/v1/alerts").await[0]["id"].as_str().unwrap().to_owned();

    let anna = Staff::login(&app, "anna").await;
    let html = anna.page("/staff/alerts").await;
    assert!(html.contains("Ikke åbnet: Afgørelse om boligstøtte"), "{html}");
    assert!(html.contains("9. december 2026"), "the extended deadline is shown");
    assert!(anna.page("/staff/alerts?unit=Andet").await.contains("Åbne advarsler: 0."), "filtered by unit");
    let taken = anna.post(&format!("/staff/alerts/{alert_id}/take"), &[]).await;
    assert_eq!(taken.status(), 303);
    assert!(anna.page("/staff/alerts?who=me").await.contains(&format!("alert-{alert_id}")), "taken by me");

    // another hour: the phone rung opens a callback task
    clock.advance(Duration::from_secs(3601));
    wait_until("the callback task", || async {
        !app.get_json(&key, "/v1/callbacks").await.as_array().unwrap().is_empty()
    })
    .await;
    let task_id = app.get_json(&key, "/v1/callbacks").await[0]["id"].as_str().unwrap().to_owned();
    let queue = anna.page("/staff/callbacks").await;
    assert!(queue.contains(&format!("/staff/callbacks/{task_id}")), "{queue}");
    let task_page = anna.page(&format!("/staff/callbacks/{task_id}")).await;
    assert!(task_page.contains("Stor skrift") && task_page.contains("+45 12 34 56 78"), "{task_page}");

    // a caseworker of another authority finds none of it
    let otto = Staff::login(&app, "otto").await;
    for path in [
        format!("/staff/letters/{letter_id}"),
        format!("/staff/citizens/{citizen_id}"),
        format!("/staff/callbacks/{task_id}"),
    ] {
        assert_eq!(otto.get(&path).await.status(), 404, "GET {path}");
    }
    for (path, fields) in [
        (format!("/staff/alerts/{alert_id}/take"), vec![]),
        (format!("/staff/alerts/{alert_id}/close"), vec![("note", "x")]),
        (format!("/staff/callbacks/{task_id}/claim"), vec![]),
        (format!("/staff/callbacks/{task_id}/outcome"), vec![("outcome", "reached"), ("minutes", "1")]),
        (format!("/staff/callbacks/{task_id}/reschedule"), vec![("due", "2026-11-26T10:00")]),
        (format!("/staff/citizens/{citizen_id}/profile"), vec![("exempt", "on")]),
    ] {
        assert_eq!(otto.post(&path, &fields).await.status(), 404, "POST {path}");
    }
    assert!(!otto.page("/staff/alerts").await.contains("boligstøtte"));
    assert!(!otto.page("/staff/callbacks").await.contains(&task_id));
    let report: Value = otto.get("/staff/report.json?from=2026-11-01&to=2026-11-30").await.json().await.unwrap();
    assert_eq!(report["letters"]["letters"], 0);
    // a form without the session's token is refused
    let forged = anna.client.post(format!("{}/staff/callbacks/{task_id}/claim", app.base)).form(&[("csrf", "x")]);
    assert_eq!(forged.send().await.unwrap().status(), 403);

    // claim the call, reach the citizen, 6 minutes
    assert_eq!(anna.post(&format!("/staff/callbacks/{task_id}/claim"), &[]).await.status(), 303);
    let logged =
        anna.post(&format!("/staff/callbacks/{task_id}/outcome"), &[("outcome", "reached"), ("minutes", "6")]).await;
    assert_eq!(logged.status(), 303);
    assert_eq!(location(&logged), "/staff/callbacks?msg=logged");
    assert!(app.get_json(&key, "/v1/callbacks").await.as_array().unwrap().is_empty());
    assert!(app.get_json(&key, "/v1/alerts").await.as_array().unwrap().is_empty(), "the alert closed itself");

    // the ladder has stopped: no "unreachable" step an hour later
    clock.advance(Duration::from_secs(2 * 3600));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let letter = app.get_json(&key, &format!("/v1/letters/{letter_id}")).await;
    let kinds = kinds(&letter);
    assert_eq!(kinds.iter().filter(|k| *k == "escalated").count(), 2, "{kinds:?}");
    assert!(kinds.contains(&"reacted".to_owned()) && kinds.contains(&"alert_resolved".to_owned()), "{kinds:?}");

    // the authority heard of it by webhook
    wait_until("the webhook", || async {
        let calls = calls.lock().unwrap();
        calls.iter().any(|c| c["type"] == "letter.reacted") && calls.iter().any(|c| c["type"] == "letter.call_logged")
    })
    .await;

    // the letter's story, in sentences, and the read is in the citizen's access log
    let story = anna.page(&format!("/staff/letters/{letter_id}")).await;
    assert!(story.contains("Fristen blev flyttet fra 30. november 2026 til 9. december 2026"), "{story}");
    assert!(story.contains("Fik fat i borgeren, 6 minutter"), "{story}");
    let citizen = uuid::Uuid::parse_str(&citizen_id).unwrap();
    let log = app.store.access_log(citizen).await.unwrap();
    assert!(
        log.iter().any(|e| e.actor_kind == "caseworker"
            && e.actor_name == "Anna Andersen (Vejle Kommune)"
            && e.action == "read_letter"),
        "{log:?}"
    );

    // the report counts the 6 minutes
    let report: Value = anna.get("/staff/report.json?from=2026-11-01&to=2026-11-30").await.json().await.unwrap();
    assert_eq!(report["letters"]["letters"], 1);
    assert_eq!(report["callbacks"]["minutes"], 6);
    assert_eq!(report["callbacks"]["reached"], 1);
    let html = anna.page("/staff/report?from=2026-11-01&to=2026-11-30").await;
    assert!(html.contains("role=\"img\"") && html.contains("<title id=\"chart-letters-title\">"), "{html}");
    let csv = anna.get("/staff/report.csv?from=2026-11-01&to=2026-11-30").await;
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.text().await.unwrap().contains("\"callbacks\",\"\",\"minutes\",\"6\""));

    // the citizen at the counter: found by CPR (in the body), exempted on their behalf
    let found = anna.post("/staff/citizens/lookup", &[("cpr", "0101901234")]).await;
    assert_eq!(found.status(), 303);
    assert_eq!(location(&found), format!("/staff/citizens/{citizen_id}"));
    let page = anna.page(&format!("/staff/citizens/{citizen_id}")).await;
    assert!(page.contains("Afgørelse om boligstøtte"), "the authority's letters are listed");
    let saved = anna
        .post(
            &format!("/staff/citizens/{citizen_id}/profile"),
            &[("exempt", "on"), ("phone", "+45 12 34 56 78"), ("large_print", "on"), ("preferred_channel", "print")],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let stored = app.store.stored_profile(citizen).await.unwrap().unwrap();
    assert!(stored.profile.exempt_from_digital_post);
    assert_eq!(stored.updated_by.as_deref(), Some("Vejle Kommune"));
    let changes = app.store.profile_changes(citizen).await.unwrap();
    assert_eq!(changes[0].actor_kind, "caseworker");
    assert_eq!(changes[0].actor_name, "Anna Andersen (Vejle Kommune)");
    assert!(changes[0].fields.contains("exempt_from_digital_post"), "{:?}", changes[0]);

    // a bulk run's letter says so, and who said it; a letter sent on its own says nothing
    assert!(!story.contains("Massefremsendelse"), "{story}");
    let mut bulk = crate::harness::letter("0101901234");
    bulk["bulk"] = json!(true);
    let bulk: Value = app.post_letter(&key, &bulk).await.json().await.unwrap();
    let bulk_story = anna.page(&format!("/staff/letters/{}", bulk["id"].as_str().unwrap())).await;
    assert!(
        bulk_story.contains(
            "<dt>Massefremsendelse</dt><dd>Ja: afsenderen har sagt, at brevet er en del af en massefremsendelse."
        ),
        "{bulk_story}"
    );
    app.finish().await;
}

/// The session a login response started: its record, found by the cookie's hash.
async fn session_of(app: &TestApp, response: &reqwest::Response) -> Option<budbringer::store::SessionRecord> {
    let token = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("bb_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
        .filter(|t| !t.is_empty())?;
    let hash = budbringer::domain::secret::sha256_hex(token.as_bytes());
    let now = app.state.clock.now_ms();
    app.store.live_session(&hash, now, now - 60_000).await.unwrap()
}

/// `/staff/login/oidc` → the provider's login form → `/staff/login/oidc/callback`: the
/// provider's `sub` must be a caseworker account's `oidc_subject`; anyone else is refused.
async fn caseworkers_log_in_with_their_organisation(backend: Backend) {
    use crate::peers::oidc::{self as provider, CASEWORKER, CITIZEN, OidcProvider, TestUser};
    let Some(provider) = OidcProvider::shared().await else { return };
    let settings = provider.staff_settings();
    let app = TestApp::start_with(&backend, |s| s.web.staff_oidc = Some(settings)).await;
    let (authority, _) = app.authority("Aarhus Kommune").await;

    let log_in = |user: TestUser| {
        let base = app.base.clone();
        let issuer = provider.issuer.clone();
        async move {
            let client = provider::browser_client();
            let start = client.get(format!("{base}/staff/login/oidc")).send().await.unwrap();
            assert_eq!(start.status(), 303);
            let authorize = location(&start);
            assert!(authorize.starts_with(&issuer), "{authorize}");
            let callback = provider::login(&client, &authorize, &user).await;
            assert!(callback.as_str().starts_with(&format!("{base}/staff/login/oidc/callback?")), "{callback}");
            let response = client.get(callback).send().await.unwrap();
            (client, response)
        }
    };

    // the login page offers the organisation's login
    let form = browser().get(format!("{}/staff/login", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("href=\"/staff/login/oidc\""), "{form}");

    // a subject no caseworker account has is refused, in words, with no session
    let (_, refused) = log_in(CASEWORKER).await;
    assert_eq!(refused.status(), 400);
    assert!(session_of(&app, &refused).await.is_none());
    let page = refused.text().await.unwrap();
    assert!(page.contains("du har ingen sagsbehandlerkonto her"), "{page}");

    // Sara's account is OpenID Connect only (no password) and carries the provider's subject
    let new = NewCaseworker {
        authority_id: authority,
        username: "sara",
        name: "Sara Sagsbehandler",
        role: "caseworker",
        unit: None,
        oidc_subject: Some(CASEWORKER.sub),
        password: None,
    };
    let sara = create_caseworker(app.store.as_ref(), &new).await.unwrap();
    // a local login cannot use an account without a password
    let (_, no_password) = Staff::try_login(&app, "sara", PASSWORD).await;
    assert_eq!(no_password.status(), 401);

    let (client, welcomed) = log_in(CASEWORKER).await;
    assert_eq!(welcomed.status(), 303);
    assert_eq!(location(&welcomed), "/staff/alerts");
    let session = session_of(&app, &welcomed).await.expect("a session");
    assert_eq!((session.kind.as_str(), session.login_method.as_str()), ("staff", "oidc"));
    assert_eq!(session.subject_id, sara.id);
    assert_eq!(session.authority_id, Some(authority));
    let alerts = client.get(format!("{}/staff/alerts", app.base)).send().await.unwrap();
    assert_eq!(alerts.status(), 200);
    assert!(alerts.text().await.unwrap().contains("action=\"/staff/logout\""), "logged in");

    // the provider vouching for someone else (a citizen's subject) is not enough
    let (_, stranger) = log_in(CITIZEN).await;
    assert_eq!(stranger.status(), 400);
    assert!(session_of(&app, &stranger).await.is_none());
    app.finish().await;
}
