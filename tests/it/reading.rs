//! The citizen's reading link from Digital Post: opening it (and a document) is evidence that
//! stops escalation; the view is in the citizen's access log; forged links find nothing.

use crate::harness::*;
use budbringer::domain::ManualClock;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

on_both_backends!(opening_the_reading_link_is_evidence);

fn kinds(letter: &Value) -> Vec<String> {
    letter["timeline"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

async fn opening_the_reading_link_is_evidence(backend: Backend) {
    let clock = Arc::new(ManualClock::new("2026-11-25T09:00:00Z".parse().unwrap()));
    let app = TestApp::start_with_clock(&backend, clock.clone(), |s| {
        s.policies.important.escalations[0].after = "1h".parse().unwrap();
    })
    .await;
    let (_, key) = app.authority("Horsens Kommune").await;
    let mut body = letter("0101901234");
    body["documents"] = json!([{ "filename": "afgoerelse.pdf", "content": pdf_base64() }]);
    let created: Value = app.post_letter(&key, &body).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    app.wait_for_status(&key, &id, "delivered").await;

    // the link travels inside the MeMo message, as the action's entry point
    let files = outbox_files(&app.outbox(), "digital_post");
    let memo = std::fs::read_to_string(app.outbox().join("digital_post").join(&files[0])).unwrap();
    let start = memo.find("<memo:url>").expect("an entry point") + "<memo:url>".len();
    let url = memo[start..].split('<').next().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/l/", app.base)), "{url}");

    let page = app.client.get(&url).header("accept-language", "da").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("<html lang=\"da\">") && html.contains("Afgørelse om boligstøtte"), "{html}");
    assert!(html.contains("Du får boligstøtte fra 1. januar."));
    assert!(html.contains("Svar senest 31. december 2099."));
    assert!(!html.contains("0101901234"), "no CPR number on the page");
    let href_start = html.find("/documents/").expect("a document link");
    let doc_id = html[href_start + "/documents/".len()..].split('"').next().unwrap().to_owned();

    let pdf = app.client.get(format!("{url}/documents/{doc_id}")).send().await.unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD.decode(pdf_base64()).unwrap();
    assert_eq!(pdf.bytes().await.unwrap().to_vec(), expected);

    let letter = app.get_json(&key, &format!("/v1/letters/{id}")).await;
    let timeline = kinds(&letter);
    assert!(
        timeline.contains(&"opened".to_owned()) && timeline.contains(&"document_opened".to_owned()),
        "{timeline:?}"
    );
    let opened_doc = letter["timeline"].as_array().unwrap().iter().find(|e| e["type"] == "document_opened").unwrap();
    assert_eq!(opened_doc["data"]["document_id"], doc_id.as_str());

    // evidence stops the ladder: hours later, nothing escalates
    clock.advance(Duration::from_secs(5 * 3600));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let later = kinds(&app.get_json(&key, &format!("/v1/letters/{id}")).await);
    assert!(!later.contains(&"escalated".to_owned()), "{later:?}");

    // the citizen can see the views
    let citizen_id: uuid::Uuid = letter_citizen(&app, &id).await;
    let log = app.store.access_log(citizen_id).await.unwrap();
    let citizen_reads: Vec<&str> =
        log.iter().filter(|e| e.actor_kind == "citizen").map(|e| e.action.as_str()).collect();
    assert_eq!(citizen_reads, ["read_letter", "read_document"]);

    // a forged or altered link finds nothing
    let mut forged = url.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    expect_problem(app.client.get(&forged).send().await.unwrap(), 404).await;
    expect_problem(app.client.get(format!("{}/l/nothing", app.base)).send().await.unwrap(), 404).await;
    app.finish().await;
}

async fn letter_citizen(app: &TestApp, id: &str) -> uuid::Uuid {
    app.store.letter_for_reading(id.parse().unwrap()).await.unwrap().unwrap().citizen_id
}
