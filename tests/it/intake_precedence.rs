//! During a burst new letters go first: while letters wait for their commit the engine claims
//! no new work, but no due job waits longer than `engine.intake_precedence_max_ms` for that.
//!
//! PostgreSQL only: there one letter's commit can be held (another transaction holds its
//! citizen's row) while the engine's claims go through. On SQLite every write waits for the one
//! writer, so holding a letter's commit would hold the claim too; the rule is the same code.

use crate::harness::*;
use serde_json::Value;
use sqlx::Connection as _;
use std::time::Duration;

/// A letter whose commit waits: another connection's transaction holds its citizen's row
/// until `release`.
struct HeldLetter {
    other: sqlx::PgConnection,
    request: tokio::task::JoinHandle<u16>,
}

impl HeldLetter {
    /// Let the letter commit; its request's status.
    async fn release(mut self) -> u16 {
        sqlx::query("ROLLBACK").execute(&mut self.other).await.unwrap();
        self.request.await.unwrap()
    }
}

async fn hold_a_letter(app: &TestApp, key: &str, cpr: &str) -> HeldLetter {
    // the citizen exists once a first letter to them is in
    assert_eq!(app.post_letter(key, &letter(cpr)).await.status(), 201);
    let mut other = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut other).await.unwrap();
    sqlx::query("SELECT id FROM citizens FOR UPDATE").execute(&mut other).await.unwrap();
    let (client, url, key, body) =
        (app.client.clone(), format!("{}/v1/letters", app.base), key.to_owned(), letter(cpr));
    let request = tokio::spawn(async move {
        client.post(url).bearer_auth(key).json(&body).send().await.expect("POST").status().as_u16()
    });
    let waiting = eventually(Duration::from_secs(10), || async { app.store.letters_waiting_for_commit() == 1 }).await;
    assert!(waiting, "the held letter never waited for its commit");
    HeldLetter { other, request }
}

/// A gateway on PostgreSQL whose engine holds back while one letter waits for its commit, at
/// most `max_ms`; with an authority's key. `None` without PostgreSQL.
async fn gateway_holding_back_for(max_ms: u64) -> Option<(TestApp, String)> {
    let backend = Backend::postgres()?;
    let app = TestApp::start_with(&backend, |s| {
        s.engine.intake_precedence_waiting = 1;
        s.engine.intake_precedence_max_ms = max_ms;
    })
    .await;
    let (_, key) = app.authority("Forrang Kommune").await;
    Some((app, key))
}

async fn post(app: &TestApp, key: &str, cpr: &str) -> String {
    let response = app.post_letter(key, &letter(cpr)).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    created["id"].as_str().unwrap().to_owned()
}

async fn status(app: &TestApp, key: &str, id: &str) -> String {
    app.get_json(key, &format!("/v1/letters/{id}")).await["status"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_new_letters_wait_for_their_commit_the_engine_claims_nothing_new() {
    let Some((app, key)) = gateway_holding_back_for(600_000).await else { return };
    let first = post(&app, &key, "0101901234").await;
    app.wait_for_status(&key, &first, "delivered").await;

    let held = hold_a_letter(&app, &key, "0101901234").await;
    // a letter to someone else commits at once, but the engine leaves it for the intake
    let other = post(&app, &key, "1502454321").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(status(&app, &key, &other).await, "accepted", "claimed while a letter waited for its commit");
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("\nbudbringer_letters_waiting_for_commit 1\n"), "{metrics}");
    // at least this hold (a letter's ordinary commit may have made a short one before)
    let holds = metrics.lines().find_map(|l| l.strip_prefix("budbringer_engine_intake_holds_total "));
    assert!(holds.and_then(|n| n.parse::<u64>().ok()).is_some_and(|n| n >= 1), "{metrics}");

    // once the held letter is committed the engine claims again and delivers both
    assert_eq!(held.release().await, 201);
    app.wait_for_status(&key, &other, "delivered").await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn however_long_new_letters_wait_the_engine_claims_again_after_the_longest_hold() {
    let Some((app, key)) = gateway_holding_back_for(300).await else { return };
    let held = hold_a_letter(&app, &key, "0101901234").await;
    let other = post(&app, &key, "1502454321").await;
    // delivered while the held letter still waits
    app.wait_for_status(&key, &other, "delivered").await;
    assert_eq!(app.store.letters_waiting_for_commit(), 1);
    assert_eq!(held.release().await, 201);
    app.finish().await;
}
