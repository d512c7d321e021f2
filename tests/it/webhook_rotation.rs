//! Issue #7, webhook secrets: rotatable per webhook (`POST /v1/webhooks/{id}/rotate-secret`,
//! `budbringer admin rotate-webhook-secret`). During the overlap every message carries a
//! signature with the new and with the old secret; after it only the new one signs. Another
//! authority cannot rotate, and no secret ever reaches the log.

use crate::harness::*;
use axum::http::{HeaderMap, StatusCode};
use budbringer::domain::{Clock, ManualClock};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

on_both_backends!(a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends);

type Calls = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A webhook endpoint on loopback that takes every call and keeps it.
async fn receiver() -> (String, Calls) {
    let calls: Calls = Arc::default();
    let kept = calls.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push((headers, body.to_vec()));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, calls)
}

/// The calls about one letter (its `accepted`, `dispatched` and `delivered` events).
async fn calls_for(calls: &Calls, letter: &str) -> Vec<(HeaderMap, Vec<u8>)> {
    let about = |body: &[u8]| serde_json::from_slice::<Value>(body).unwrap()["data"]["letter_id"] == letter;
    let arrived = eventually(Duration::from_secs(20), || async {
        calls.lock().unwrap().iter().filter(|(_, b)| about(b)).count() >= 3
    })
    .await;
    assert!(arrived, "three events for {letter}");
    calls.lock().unwrap().iter().filter(|(_, b)| about(b)).cloned().collect()
}

fn signatures(headers: &HeaderMap) -> usize {
    headers["webhook-signature"].to_str().unwrap().split(' ').filter(|s| s.starts_with("v1,")).count()
}

async fn rotate(app: &TestApp, key: &str, id: &str) -> reqwest::Response {
    app.client.post(format!("{}/v1/webhooks/{id}/rotate-secret", app.base)).bearer_auth(key).send().await.unwrap()
}

async fn a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends(backend: Backend) {
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
    let app = TestApp::start_with_clock(&backend, clock.clone(), |s| s.retention.sweep_interval_secs = 1).await;
    let (_, key) = app.authority("Rotation Kommune").await;
    let (_, other_key) = app.authority("Anden Kommune").await;
    let (url, calls) = receiver().await;
    let created = app.client.post(format!("{}/v1/webhooks", app.base)).bearer_auth(&key).json(&json!({ "url": url }));
    let hook: Value = created.send().await.unwrap().json().await.unwrap();
    let (id, old) = (hook["id"].as_str().unwrap().to_owned(), hook["secret"].as_str().unwrap().to_owned());

    // another authority's webhook answers exactly like one that does not exist, and stays as it was
    let theirs = expect_problem(rotate(&app, &other_key, &id).await, 404).await;
    let nobodys = expect_problem(rotate(&app, &other_key, &uuid::Uuid::now_v7().to_string()).await, 404).await;
    assert_eq!(theirs, nobodys);
    expect_problem(rotate(&app, &key, "not-an-id").await, 404).await;
    let stored = app.store.webhook(id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!((stored.secret.as_str(), stored.previous_secret.as_deref()), (old.as_str(), None));

    let rotated = rotate(&app, &key, &id).await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.unwrap();
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != old, "a new secret, shown once");
    let until = jiff::Timestamp::from_millisecond(clock.now_ms() + 24 * 3_600_000).unwrap().to_string();
    assert_eq!(rotated["previous_secret_expires_at"], until.as_str(), "the default overlap is 24 hours");
    let listed = app.get_json(&key, "/v1/webhooks").await;
    assert!(listed[0].get("secret").is_none(), "the list never shows a secret");
    assert_eq!(listed[0]["previous_secret_expires_at"], until.as_str());

    // during the overlap: two signatures, one for each secret
    let sent: Value = app.post_letter(&key, &letter("0101901234")).await.json().await.unwrap();
    let during = calls_for(&calls, sent["id"].as_str().unwrap()).await;
    for (headers, body) in &during {
        assert_eq!(signatures(headers), 2, "{:?}", headers["webhook-signature"]);
        assert!(signature_is_valid(&new, headers, body), "the new secret verifies");
        assert!(signature_is_valid(&old, headers, body), "the old secret still verifies");
    }

    // after the overlap: only the new secret signs; the old one verifies nothing
    clock.advance(Duration::from_secs(25 * 3600));
    let sent: Value = app.post_letter(&key, &letter("0101901234")).await.json().await.unwrap();
    let after = calls_for(&calls, sent["id"].as_str().unwrap()).await;
    for (headers, body) in &after {
        assert_eq!(signatures(headers), 1, "{:?}", headers["webhook-signature"]);
        assert!(signature_is_valid(&new, headers, body), "the new secret verifies");
        assert!(!signature_is_valid(&old, headers, body), "the old secret no longer verifies");
    }
    assert!(app.get_json(&key, "/v1/webhooks").await[0].get("previous_secret_expires_at").is_none());
    // and the database forgets the old secret (the periodic sweep)
    let forgotten = eventually(Duration::from_secs(10), || async {
        app.store.webhook(id.parse().unwrap()).await.unwrap().unwrap().previous_secret.is_none()
    })
    .await;
    assert!(forgotten, "an expired previous secret is not kept");
    app.finish().await;
}

/// The real binary, logging at debug level: secrets made by `admin add-webhook`, rotated by
/// `admin rotate-webhook-secret` and by the API, and messages signed with them — none of the
/// secrets appears in the gateway's log or the command's error output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_secrets_are_rotated_from_the_command_line_and_never_logged() {
    use crate::processes::{BIN, Gateway, gateway_env};
    use std::process::Command;

    let db = TestDb::new(&Backend::Sqlite).await;
    let data = db.dir.join("data");
    let gateway = Gateway::start_with_log_level(&db, &data, "secrets", "info,budbringer=debug,tower_http=debug").await;
    let admin = |args: &[&str]| {
        let output = Command::new(BIN).arg("admin").args(args).envs(gateway_env(&db, &data, 1)).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        (serde_json::from_slice::<Value>(&output.stdout).unwrap(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (authority, _) = admin(&["create-authority", "--name", "Hemmelig Kommune", "--cvr", "29189730"]);
    let (key, authority) = (authority["api_key"].as_str().unwrap(), authority["authority_id"].as_str().unwrap());
    let (url, calls) = receiver().await;
    let (hook, stderr_add) = admin(&["add-webhook", "--authority", authority, "--url", &url]);
    let (id, first) = (hook["webhook_id"].as_str().unwrap(), hook["secret"].as_str().unwrap().to_owned());
    let (rotated, stderr_rotate) = admin(&["rotate-webhook-secret", "--webhook", id]);
    let second = rotated["secret"].as_str().unwrap().to_owned();
    assert_eq!(rotated["webhook_id"], id);
    assert!(rotated["previous_secret_expires_at"].is_string());
    assert_ne!(first, second);
    let missing = Command::new(BIN)
        .args(["admin", "rotate-webhook-secret", "--webhook", &uuid::Uuid::now_v7().to_string()])
        .envs(gateway_env(&db, &data, 1))
        .output()
        .unwrap();
    assert!(!missing.status.success(), "an unknown webhook is an error");

    let client = reqwest::Client::new();
    let third = client
        .post(format!("{}/v1/webhooks/{id}/rotate-secret", gateway.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = client.post(format!("{}/v1/letters", gateway.base)).bearer_auth(key).json(&letter("0101901234"));
    let letter: Value = response.send().await.unwrap().json().await.unwrap();
    let arrived = calls_for(&calls, letter["id"].as_str().unwrap()).await;
    // a second rotation within the overlap: the newest and the one before it sign, not the first
    for (headers, body) in &arrived {
        assert!(signature_is_valid(&third, headers, body) && signature_is_valid(&second, headers, body));
        assert!(!signature_is_valid(&first, headers, body));
    }
    drop(gateway);

    let log = std::fs::read_to_string(db.dir.join("secrets.log")).unwrap();
    assert!(log.contains("webhook secret rotated"), "the rotation itself is logged (without the secret)");
    for secret in [&first, &second, &third] {
        let bare = secret.trim_start_matches("whsec_");
        for (place, text) in
            [("the gateway log", &log), ("add-webhook's stderr", &stderr_add), ("rotate's stderr", &stderr_rotate)]
        {
            assert!(!text.contains(bare), "{place} holds a webhook secret");
        }
    }
    db.drop_database().await;
}
