//! The sms channel against a real Kannel (bearerbox + smsbox + fakesmsc): notices go out
//! over sendsms, delivery reports come back to the dlr-url, replies to the get-url. And the
//! generic HTTP provider transport against a small provider stub.

use budbringer::channels::sms::{self, REPORT_KEY, TransportKind, report_token};
use budbringer::config::Settings;
use budbringer::domain::ChannelKind;
use budbringer::store::ProfileUpdate;
use serde_json::Value;
use std::time::Duration;

use crate::harness::{Backend, TestApp, eventually, expect_problem, on_both_backends};
use crate::peers::kannel::{self, Kannel};

on_both_backends!(
    notices_reach_the_phone_and_delivery_reports_settle_them,
    arabic_and_ukrainian_notices_travel_as_ucs2,
    an_sms_kannel_cannot_route_fails_the_delivery,
    kannel_down_means_retries_until_it_is_back,
    a_failed_delivery_report_fails_the_delivery,
    replies_are_accepted_only_with_the_token,
    a_citizens_reply_is_matched_to_the_notice_and_acted_on,
    an_http_provider_takes_notices_and_reports_back,
);

const MO_TOKEN: &str = "mo-token-for-tests";
const AUTHORITY: &str = "Aarhus Kommune";

/// The notices as they reach the phone, for the letter `letter_on_channel` makes (important,
/// deadline 2099-12-31). Reviewed: sender, importance, where to read, deadline, callback
/// keyword; no subject, no body; GSM-7 and one segment each.
const NOTICE_DA: &str = "Vigtigt brev fra Aarhus Kommune. Læs det på borger.dk eller i appen Digital Post. \
                         Frist: 31. december 2099. Svar RING, så ringer vi.";
const NOTICE_EN: &str = "Important letter from Aarhus Kommune. Read it at borger.dk or in the Digital Post app. \
                         Deadline: 31 December 2099. Reply CALL to get a call.";

fn use_kannel(s: &mut Settings, sendsms_port: u16) {
    s.channels.sms.transport = TransportKind::Kannel;
    s.channels.sms.sender = "1919".into();
    s.channels.sms.kannel = sms::kannel::Settings {
        sendsms_url: format!("http://127.0.0.1:{sendsms_port}/cgi-bin/sendsms"),
        username: kannel::USERNAME.into(),
        password: kannel::PASSWORD.into(),
        mo_token: MO_TOKEN.into(),
        timeout_secs: 5,
        ..Default::default()
    };
}

/// The app on Kannel, and Kannel calling the app back.
async fn app_and_kannel(backend: &Backend, configure: impl FnOnce(&mut Settings)) -> (TestApp, Kannel) {
    let port = Kannel::pick_sendsms_port();
    let app = TestApp::start_with(backend, |s| {
        use_kannel(s, port);
        configure(s);
    })
    .await;
    let kannel = Kannel::start(port, &mo_url(&app)).await;
    (app, kannel)
}

fn mo_url(app: &TestApp) -> String {
    format!("{}/v1/inbound/sms/kannel/mo?token={MO_TOKEN}", app.base)
}

fn profile(phone: &str, language: &str) -> ProfileUpdate {
    ProfileUpdate { phone: Some(phone.into()), language: Some(language.into()), ..Default::default() }
}

fn timeline(letter: &Value) -> Vec<String> {
    letter["timeline"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

async fn wait_for_delivery(app: &TestApp, key: &str, letter: uuid::Uuid, status: &str) -> Value {
    let path = format!("/v1/letters/{letter}");
    let start = std::time::Instant::now();
    loop {
        let view = app.get_json(key, &path).await;
        if view["deliveries"][0]["status"] == status {
            return view;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "delivery never reached {status}: {view:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn notices_reach_the_phone_and_delivery_reports_settle_them(backend: Backend) {
    let (app, kannel) = app_and_kannel(&backend, |_| {}).await;
    let (authority, key) = app.authority(AUTHORITY).await;

    for (phone, on_the_wire, language, expected) in
        [("12 34 56 78", "+4512345678", "da", NOTICE_DA), ("+45 87 65 43 21", "+4587654321", "en-GB", NOTICE_EN)]
    {
        let (letter, delivery) =
            app.letter_on_channel(authority, ChannelKind::Sms, profile(phone, language), None).await;
        let view = app.wait_for_status(&key, &letter.to_string(), "delivered").await;
        let d = &view["deliveries"][0];
        assert_eq!((d["channel"].as_str(), d["transport"].as_str()), (Some("sms"), Some("kannel")));
        assert_eq!(d["provider_ref"], delivery.to_string());
        let events = timeline(&view);
        let order: Vec<_> =
            ["dispatched", "sent", "delivered"].iter().map(|k| events.iter().position(|e| e == k)).collect();
        assert!(order.iter().all(Option::is_some) && order.is_sorted(), "timeline {events:?}");

        let text = kannel.wait_for_sms(on_the_wire).await;
        assert_eq!(text, expected, "the notice as it reached the phone ({language})");
        let length = sms::segments::measure(&text);
        assert_eq!((length.encoding, length.segments), (sms::segments::Encoding::Gsm7, 1), "{text}");
        assert!(!text.contains("boligstøtte") && !text.contains("1. januar"), "no subject or body: {text}");
    }
    assert!(!kannel.smsbox_log().contains("Couldn't fetch"), "every report reached the app");
    drop(kannel);
    app.finish().await;
}

/// Arabic and Cyrillic are outside the GSM alphabet: the notice goes to Kannel as UCS-2
/// (`coding=2`) and reaches the phone intact, in at most three segments.
async fn arabic_and_ukrainian_notices_travel_as_ucs2(backend: Backend) {
    let (app, kannel) = app_and_kannel(&backend, |_| {}).await;
    let (authority, key) = app.authority(AUTHORITY).await;
    for (phone, on_the_wire, language, words) in
        [("22 33 44 55", "+4522334455", "ar", "اتصل"), ("33 44 55 66", "+4533445566", "uk", "ДЗВІНОК")]
    {
        let (letter, _) = app.letter_on_channel(authority, ChannelKind::Sms, profile(phone, language), None).await;
        app.wait_for_status(&key, &letter.to_string(), "delivered").await;
        let text = kannel.wait_for_sms(on_the_wire).await;
        assert!(text.contains(AUTHORITY) && text.contains(words) && text.contains("2099"), "{text}");
        let length = sms::segments::measure(&text);
        assert_eq!(length.encoding, sms::segments::Encoding::Ucs2, "{text}");
        assert!(length.segments <= 3, "{text}");
    }
    drop(kannel);
    app.finish().await;
}

async fn an_sms_kannel_cannot_route_fails_the_delivery(backend: Backend) {
    let (app, kannel) = app_and_kannel(&backend, |_| {}).await;
    let (authority, key) = app.authority(AUTHORITY).await;
    let number = format!("{}12345678", kannel::UNROUTABLE_PREFIX);
    let (letter, _) = app.letter_on_channel(authority, ChannelKind::Sms, profile(&number, "da"), None).await;

    let view = app.wait_for_status(&key, &letter.to_string(), "failed").await;
    let d = &view["deliveries"][0];
    assert_eq!(d["status"], "failed");
    assert_eq!(d["attempts"], 1, "a refusal is not retried");
    let error = d["last_error"].as_str().unwrap();
    assert!(error.contains("Not routable"), "{error}");
    assert!(!error.contains("12345678"), "no phone number in errors: {error}");
    assert!(timeline(&view).contains(&"failed".to_owned()));
    drop(kannel);
    app.finish().await;
}

async fn kannel_down_means_retries_until_it_is_back(backend: Backend) {
    let port = Kannel::pick_sendsms_port();
    let app = TestApp::start_with(&backend, |s| {
        use_kannel(s, port);
        s.engine.retry_base_ms = 500;
        s.engine.retry_max_secs = 2;
    })
    .await;
    let (authority, key) = app.authority(AUTHORITY).await;
    let (letter, _) = app.letter_on_channel(authority, ChannelKind::Sms, profile("12345678", "da"), None).await;

    // nothing listens on the sendsms port: transient, so the engine tries again
    let path = format!("/v1/letters/{letter}");
    let retried = eventually(Duration::from_secs(10), || async {
        let view = app.get_json(&key, &path).await;
        view["deliveries"][0]["attempts"].as_i64().unwrap_or(0) >= 2
    })
    .await;
    assert!(retried, "the engine retried");
    let view = app.get_json(&key, &path).await;
    assert_eq!(view["status"], "dispatched", "not failed while Kannel is down: {view:#}");
    let error = view["deliveries"][0]["last_error"].as_str().unwrap_or_default().to_owned();
    assert!(error.contains("Kannel unreachable"), "{error}");
    assert!(!error.contains("12345678") && !error.contains(kannel::PASSWORD), "nothing personal or secret: {error}");

    let kannel = Kannel::start(port, &mo_url(&app)).await;
    let view = wait_for_delivery(&app, &key, letter, "delivered").await;
    assert!(view["deliveries"][0]["attempts"].as_i64().unwrap() >= 2);
    assert_eq!(kannel.wait_for_sms("+4512345678").await, NOTICE_DA);
    drop(kannel);
    app.finish().await;
}

async fn a_failed_delivery_report_fails_the_delivery(backend: Backend) {
    // only "accepted by the SMSC" reports from Kannel: the final one is the test's to give,
    // as an SMSC that could not reach the phone would (fakesmsc always reports success)
    let (app, kannel) = app_and_kannel(&backend, |s| s.channels.sms.kannel.dlr_mask = 8).await;
    let (authority, key) = app.authority(AUTHORITY).await;
    let (letter, delivery) = app.letter_on_channel(authority, ChannelKind::Sms, profile("12345678", "da"), None).await;
    wait_for_delivery(&app, &key, letter, "sent").await;
    kannel.wait_for_sms("+4512345678").await;

    let key_bytes = app.store.instance_key(REPORT_KEY).await.unwrap();
    let token = report_token(&key_bytes, delivery);
    let report = |status: &str, token: &str| {
        app.client
            .get(format!("{}/v1/inbound/sms/kannel/dlr", app.base))
            .query(&[
                ("delivery", delivery.to_string().as_str()),
                ("status", status),
                ("answer", "id:7 sub:001 dlvrd:000 stat:UNDELIV err:001 text:Vigtigt brev fra"),
                ("token", token),
            ])
            .send()
    };

    // someone else's report: refused, and nothing changes
    let forged = report_token(b"not our key", delivery);
    expect_problem(report("2", &forged).await.unwrap(), 404).await;
    expect_problem(report("2", "").await.unwrap(), 404).await;
    // buffered at the SMSC: not final
    assert_eq!(report("4", &token).await.unwrap().status(), 200);
    assert_eq!(app.get_json(&key, &format!("/v1/letters/{letter}")).await["deliveries"][0]["status"], "sent");

    let answer = report("2", &token).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "");
    let view = app.wait_for_status(&key, &letter.to_string(), "failed").await;
    let d = &view["deliveries"][0];
    assert_eq!(d["last_error"], "the SMS was not delivered to the phone (stat:UNDELIV err:001)");
    let events = timeline(&view);
    assert_eq!(events.iter().filter(|e| *e == "failed").count(), 1, "{events:?}");

    // a repeated or late report changes nothing
    assert_eq!(report("1", &token).await.unwrap().status(), 200);
    let again = app.get_json(&key, &format!("/v1/letters/{letter}")).await;
    assert_eq!(again["status"], "failed");
    assert_eq!(timeline(&again), events);
    drop(kannel);
    app.finish().await;
}

async fn replies_are_accepted_only_with_the_token(backend: Backend) {
    let (app, mut kannel) = app_and_kannel(&backend, |_| {}).await;
    let reply = |token: &str, text: &str| {
        app.client
            .get(format!("{}/v1/inbound/sms/kannel/mo", app.base))
            .query(&[("from", "+4512345678"), ("text", text), ("token", token)])
            .send()
    };
    expect_problem(reply("wrong", "OK").await.unwrap(), 404).await;
    expect_problem(reply("", "OK").await.unwrap(), 404).await;
    let answer = reply(MO_TOKEN, "Ok.").await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "", "an empty body: Kannel sends no reply SMS");

    // a real reply through Kannel's sms-service reaches the endpoint and is answered 200
    kannel.send_from_phone("+4512345678", "1919", "RING");
    let fetched =
        eventually(Duration::from_secs(10), || async { kannel.smsbox_log().contains("/v1/inbound/sms/kannel/mo") })
            .await;
    assert!(fetched, "smsbox called the reply endpoint; logs in {}", kannel.dir.display());
    assert!(!kannel.smsbox_log().contains("Couldn't fetch"), "the endpoint answered");
    drop(kannel);
    app.finish().await;
}

async fn a_citizens_reply_is_matched_to_the_notice_and_acted_on(backend: Backend) {
    let (app, mut kannel) = app_and_kannel(&backend, |_| {}).await;
    let (authority, key) = app.authority(AUTHORITY).await;
    let (letter, _) = app.letter_on_channel(authority, ChannelKind::Sms, profile("12 34 56 78", "da"), None).await;
    app.wait_for_status(&key, &letter.to_string(), "delivered").await;
    kannel.wait_for_sms("+4512345678").await;
    let path = format!("/v1/letters/{letter}");

    // "Ok." through the real Kannel: evidence that the citizen saw it
    kannel.send_from_phone("+4512345678", "1919", "Ok.");
    let reacted = eventually(Duration::from_secs(10), || async {
        timeline(&app.get_json(&key, &path).await).contains(&"reacted".to_owned())
    })
    .await;
    assert!(reacted, "an OK reply is a reaction; smsbox log in {}", kannel.dir.display());

    // "RING": a callback task for the authority's caseworkers
    kannel.send_from_phone("+4512345678", "1919", "ring");
    let asked = eventually(Duration::from_secs(10), || async {
        app.get_json(&key, "/v1/callbacks").await.as_array().is_some_and(|t| !t.is_empty())
    })
    .await;
    assert!(asked, "RING opens a callback task");
    let task = app.get_json(&key, "/v1/callbacks").await[0].clone();
    assert_eq!(task["letter_id"], letter.to_string());
    assert_eq!(task["phone"], "12 34 56 78");
    assert!(task["summary"].as_str().unwrap().contains("RING"), "{task}");

    // anything else is kept for a person to read
    kannel.send_from_phone("+4512345678", "1919", "Hvad betyder brevet?");
    let kept = eventually(Duration::from_secs(10), || async {
        app.get_json(&key, &path).await["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "reply_received" && e["data"]["text"] == "Hvad betyder brevet?")
    })
    .await;
    assert!(kept, "other replies are stored on the timeline");
    let events = timeline(&app.get_json(&key, &path).await);
    assert_eq!(events.iter().filter(|e| *e == "callback_requested").count(), 1, "{events:?}");
    drop(kannel);
    app.finish().await;
}

/// What the provider stub saw: the auth header and the JSON body of each send.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(Option<String>, Value)>>>;

/// A provider stub: records each JSON send request (with its auth header) and answers like a
/// provider would — 400 for numbers it cannot serve (+4599…), else 200 with its message id.
async fn provider_stub() -> (String, Seen) {
    use axum::Json;
    use axum::http::{HeaderMap, StatusCode};
    let seen = Seen::default();
    let record = std::sync::Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/sms",
        axum::routing::post(move |headers: HeaderMap, Json(body): Json<Value>| {
            let record = std::sync::Arc::clone(&record);
            async move {
                let auth = headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
                let refused = body["recipient"].as_str().is_some_and(|to| to.starts_with("+4599"));
                record.lock().unwrap().push((auth, body));
                if refused {
                    (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": "unknown number" })))
                } else {
                    (StatusCode::OK, Json(serde_json::json!({ "id": "prov-1", "state": "queued" })))
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn an_http_provider_takes_notices_and_reports_back(backend: Backend) {
    let (url, seen) = provider_stub().await;
    let app = TestApp::start_with(&backend, |s| {
        s.channels.sms.transport = TransportKind::Http;
        s.channels.sms.http = sms::http::Settings {
            url,
            auth_header: "X-Api-Key".into(),
            auth_value: "provider-key".into(),
            to_field: "recipient".into(),
            text_field: "message".into(),
            report_url_field: "callback_url".into(),
            ..Default::default()
        };
    })
    .await;
    let (authority, key) = app.authority(AUTHORITY).await;
    let (letter, delivery) = app.letter_on_channel(authority, ChannelKind::Sms, profile("12345678", "da"), None).await;
    let view = wait_for_delivery(&app, &key, letter, "sent").await;
    assert_eq!(view["deliveries"][0]["transport"], "sms_http");
    assert_eq!(view["deliveries"][0]["provider_ref"], "prov-1");
    let (auth, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(auth.as_deref(), Some("provider-key"));
    assert_eq!(body["recipient"], "+4512345678");
    assert_eq!(body["message"], NOTICE_DA);
    assert_eq!(body["reference"], delivery.to_string());

    // the provider reports on the callback URL it was given
    let callback = body["callback_url"].as_str().unwrap().to_owned();
    assert!(callback.starts_with(&format!("{}/v1/inbound/sms/http/report?", app.base)), "{callback}");
    let forged = callback.replace("token=", "token=x");
    expect_problem(
        app.client.post(&forged).json(&serde_json::json!({ "status": "DELIVRD" })).send().await.unwrap(),
        404,
    )
    .await;
    let queued = app.client.post(&callback).json(&serde_json::json!({ "status": "queued" })).send().await.unwrap();
    assert_eq!(queued.status(), 200);
    let delivered = app.client.post(&callback).json(&serde_json::json!({ "status": "DELIVRD" })).send().await.unwrap();
    assert_eq!(delivered.status(), 200);
    let view = app.wait_for_status(&key, &letter.to_string(), "delivered").await;
    let events = timeline(&view);
    assert!(events.ends_with(&["sent".to_owned(), "delivered".to_owned()]), "{events:?}");

    // a number the provider refuses: failed at once, not retried
    let (letter, _) = app.letter_on_channel(authority, ChannelKind::Sms, profile("+45 99 00 00 00", "da"), None).await;
    let view = app.wait_for_status(&key, &letter.to_string(), "failed").await;
    assert_eq!(view["deliveries"][0]["attempts"], 1);
    assert_eq!(view["deliveries"][0]["last_error"], "the SMS provider refused the SMS (HTTP 400)");
    app.finish().await;
}
