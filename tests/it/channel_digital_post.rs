//! Digital Post over SF1601 against the in-process HTTPS peer (peers/sf1601.rs): mutual TLS,
//! the KombiPostAfsend request, the remote-print order validated by xmllint, and status
//! receipts through `POST /v1/inbound/digital-post/receipts`. Both backends.

use budbringer::channels::digital_post::{Settings, TransportKind};
use budbringer::domain::ChannelKind;
use budbringer::store::ProfileUpdate;
use serde_json::{Value, json};
use std::time::Duration;

use crate::harness::{Backend, TestApp, eventually, letter, on_both_backends, pdf_base64, temp_dir};
use crate::peers::sf1601::{Pki, Sf1601Peer};

const SECRET: &str = "receipt-secret-for-tests";
const RECEIPTS: &str = "/v1/inbound/digital-post/receipts";

fn sf1601_settings(peer: &Sf1601Peer, pki: &Pki, with_client_certificate: bool) -> Settings {
    Settings {
        transport: TransportKind::Sf1601,
        endpoint: peer.url.clone(),
        client_cert_file: with_client_certificate.then(|| pki.client_cert_file.clone()),
        client_key_file: with_client_certificate.then(|| pki.client_key_file.clone()),
        ca_file: Some(pki.ca_file.clone()),
        timeout_secs: 10,
        paper_fallback: true,
        receipt_secret: SECRET.into(),
    }
}

async fn letter_json(app: &TestApp, key: &str, id: &str) -> Value {
    app.get_json(key, &format!("/v1/letters/{id}")).await
}

async fn post_receipt(app: &TestApp, secret: &str, body: Value) -> reqwest::Response {
    app.client
        .post(format!("{}{RECEIPTS}", app.base))
        .bearer_auth(secret)
        .json(&body)
        .send()
        .await
        .expect("POST receipt")
}

/// A letter with an address and a PDF: Digital Post by default, with the paper route offered
/// (`Automatisk Valg` + a ForsendelseI). It becomes `sent`; a receipt makes it `delivered`.
async fn sf1601_letter_is_sent_then_delivered_by_receipt(backend: Backend) {
    let pki = Pki::generate(&temp_dir("sf1601-pki"));
    let peer = Sf1601Peer::start(&pki).await;
    let app = TestApp::start_with(&backend, |s| s.channels.digital_post = sf1601_settings(&peer, &pki, true)).await;
    let (_, key) = app.authority("Aarhus Kommune").await;
    let mut body = letter("0101901234");
    body["recipient"]["address"] = json!({ "street": "Vestergade", "house_number": "12", "floor": "2", "door": "tv", "postcode": "7100", "town": "Vejle" });
    body["documents"] = json!([{ "filename": "afgoerelse.pdf", "content": pdf_base64() }]);
    let created: Value = app.post_letter(&key, &body).await.json().await.expect("created");
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(created["deliveries"][0]["channel"], "digital_post");

    let sent = eventually(Duration::from_secs(20), || async {
        letter_json(&app, &key, &id).await["deliveries"][0]["status"] == "sent"
    })
    .await;
    let view = letter_json(&app, &key, &id).await;
    assert!(sent, "delivery never became sent: {view:#}\npeer saw: {:#?}", peer.recorded());

    let requests = peer.recorded();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let request = &requests[0];
    assert!(request.problems.is_empty(), "{:#?}", request.problems);
    assert_eq!(request.kombi_valg_kode, "Automatisk Valg");
    assert_eq!(request.forsendelse, Some(true), "{}", request.xmllint_errors);
    let memo = request.memo.as_ref().expect("MeMo message");
    assert_eq!(memo.header.label, "Afgørelse om boligstøtte");
    assert_eq!(memo.header.recipient.recipient_id, "0101901234");
    assert_eq!(memo.header.mandatory, Some(true));
    let message_uuid = uuid::Uuid::parse_str(&request.message_uuid).expect("messageUUID");
    assert_eq!(message_uuid.get_version_num(), 4);
    let delivery = &view["deliveries"][0];
    assert_eq!(delivery["transport"], "sf1601");
    assert_eq!(delivery["provider_ref"], message_uuid.to_string());

    // receipts need the secret, a UUID and a known message
    let delivered = json!({ "message_uuid": message_uuid.to_string().to_uppercase(), "status": "delivered" });
    assert_eq!(post_receipt(&app, "wrong", delivered.clone()).await.status(), 401);
    let unknown = json!({ "message_uuid": uuid::Uuid::new_v4(), "status": "delivered" });
    assert_eq!(post_receipt(&app, SECRET, unknown).await.status(), 404);
    let bad = json!({ "message_uuid": "not-a-uuid", "status": "delivered" });
    assert_eq!(post_receipt(&app, SECRET, bad).await.status(), 422);
    assert_eq!(letter_json(&app, &key, &id).await["deliveries"][0]["status"], "sent");

    let answer = post_receipt(&app, SECRET, delivered.clone()).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.json::<Value>().await.expect("JSON")["recorded"], true);
    let again = post_receipt(&app, SECRET, delivered).await;
    assert_eq!(again.json::<Value>().await.expect("JSON")["recorded"], false, "receipts are idempotent");

    let view = app.wait_for_status(&key, &id, "delivered").await;
    assert_eq!(view["deliveries"][0]["status"], "delivered");
    let kinds: Vec<&str> =
        view["timeline"].as_array().expect("timeline").iter().filter_map(|e| e["type"].as_str()).collect();
    let position =
        |kind: &str| kinds.iter().position(|k| *k == kind).unwrap_or_else(|| panic!("no {kind} in {kinds:?}"));
    assert!(position("dispatched") < position("sent") && position("sent") < position("delivered"), "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "delivered").count(), 1, "{kinds:?}");

    // a read receipt from the mailbox provider is evidence: the letter was opened
    let read = serde_json::json!({ "message_uuid": view["deliveries"][0]["provider_ref"], "status": "read" });
    assert_eq!(post_receipt(&app, SECRET, read).await.status(), 200);
    let opened = letter_json(&app, &key, &id).await;
    let opened_event = opened["timeline"].as_array().expect("timeline").iter().find(|e| e["type"] == "opened");
    assert_eq!(opened_event.expect("an opened event")["data"]["via"], "read_receipt");
    app.finish().await;
    let _ = std::fs::remove_dir_all(&pki.dir);
}

/// Without an address the letter goes as Digital Post only, and a failure receipt fails it.
async fn sf1601_digital_post_only_and_a_failure_receipt(backend: Backend) {
    let pki = Pki::generate(&temp_dir("sf1601-pki"));
    let peer = Sf1601Peer::start(&pki).await;
    let app = TestApp::start_with(&backend, |s| s.channels.digital_post = sf1601_settings(&peer, &pki, true)).await;
    let (authority_id, key) = app.authority("Vejle Kommune").await;
    let (letter_id, _) =
        app.letter_on_channel(authority_id, ChannelKind::DigitalPost, ProfileUpdate::default(), None).await;
    let id = letter_id.to_string();
    assert!(
        eventually(Duration::from_secs(20), || async {
            letter_json(&app, &key, &id).await["deliveries"][0]["status"] == "sent"
        })
        .await,
        "never sent: {:#?}",
        peer.recorded()
    );
    let request = peer.recorded().pop().expect("a request");
    assert_eq!(request.kombi_valg_kode, "Digital Post");
    assert_eq!(request.forsendelse, None);
    let failed =
        json!({ "message_uuid": request.message_uuid, "status": "failed", "error": "recipient has no mailbox" });
    assert_eq!(post_receipt(&app, SECRET, failed).await.status(), 200);
    let view = app.wait_for_status(&key, &id, "failed").await;
    assert_eq!(view["deliveries"][0]["last_error"], "recipient has no mailbox");
    app.finish().await;
    let _ = std::fs::remove_dir_all(&pki.dir);
}

/// The peer demands a client certificate: without one the TLS handshake fails, which the
/// transport treats as transient (retried with backoff); nothing is sent or delivered.
async fn sf1601_without_client_certificate_is_refused(backend: Backend) {
    let pki = Pki::generate(&temp_dir("sf1601-pki"));
    let peer = Sf1601Peer::start(&pki).await;
    let app = TestApp::start_with(&backend, |s| s.channels.digital_post = sf1601_settings(&peer, &pki, false)).await;
    let (authority_id, key) = app.authority("Odense Kommune").await;
    let (letter_id, _) =
        app.letter_on_channel(authority_id, ChannelKind::DigitalPost, ProfileUpdate::default(), None).await;
    let id = letter_id.to_string();
    let retried = eventually(Duration::from_secs(20), || async {
        let view = letter_json(&app, &key, &id).await;
        view["deliveries"][0]["attempts"].as_i64().unwrap_or(0) >= 2 && view["deliveries"][0]["last_error"].is_string()
    })
    .await;
    let view = letter_json(&app, &key, &id).await;
    assert!(retried, "{view:#}");
    assert!(peer.refused_handshakes.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    assert!(peer.recorded().is_empty(), "no request gets through: {:#?}", peer.recorded());
    let delivery = &view["deliveries"][0];
    assert!(["queued", "sending", "failed"].contains(&delivery["status"].as_str().unwrap_or("")), "{view:#}");
    assert!(delivery["last_error"].as_str().unwrap_or("").contains("sf1601"), "{view:#}");
    assert_ne!(view["status"], "delivered");
    app.finish().await;
    let _ = std::fs::remove_dir_all(&pki.dir);
}

on_both_backends!(
    sf1601_letter_is_sent_then_delivered_by_receipt,
    sf1601_digital_post_only_and_a_failure_receipt,
    sf1601_without_client_certificate_is_refused,
);
