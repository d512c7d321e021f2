//! The event feed and signed webhooks.

use crate::harness::*;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

on_both_backends!(the_event_feed_is_ordered_and_resumable, webhooks_are_signed_ordered_and_retried);

async fn the_event_feed_is_ordered_and_resumable(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Struer Kommune").await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let created: Value = app.post_letter(&key, &letter("0101901234")).await.json().await.unwrap();
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        app.wait_for_status(&key, id, "delivered").await;
    }

    // On PostgreSQL the feed holds back events while any older transaction in the cluster is
    // still running (so a cursor never skips one); under a busy test run that can take a moment.
    let mut events = Vec::new();
    let mut cursor = "0".to_owned();
    let start = std::time::Instant::now();
    while events.len() < 6 && start.elapsed() < Duration::from_secs(20) {
        let page = app.get_json(&key, &format!("/v1/events?after={cursor}&limit=2")).await;
        let batch = page["events"].as_array().unwrap().clone();
        let next = page["next_cursor"].as_str().unwrap().to_owned();
        if batch.is_empty() {
            assert_eq!(next, cursor, "an empty page keeps the cursor");
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        events.extend(batch);
        cursor = next;
    }
    assert_eq!(events.len(), 6);
    let mut seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    if matches!(backend, Backend::Sqlite) {
        // one writer: commit order is seq order (PostgreSQL orders by transaction, see below)
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "feed is in order: {seqs:?}");
    }
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 6, "each event once");
    for id in &ids {
        let kinds: Vec<&str> =
            events.iter().filter(|e| e["letter_id"] == id.as_str()).map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["accepted", "dispatched", "delivered"]);
    }
    assert!(events.iter().all(|e| e["at"].as_str().unwrap().ends_with('Z')));

    let problem = expect_problem(app.get(&key, "/v1/events?after=minus-one").await, 422).await;
    assert_eq!(error_locations(&problem), ["after"]);
    app.finish().await;
}

/// Sequence values are taken before commit: a transaction that took its id first can commit
/// an event with a higher `seq` while a later one still holds a lower `seq`. A reader that
/// followed `seq` passed the lower one for good once it committed; the feed follows the
/// transactions' order, so it comes next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committed_late_with_a_lower_seq_is_not_skipped() {
    let Some(backend) = Backend::postgres() else { return };
    let app = TestApp::start(&backend).await;
    let (authority, key) = app.authority("Struer Kommune").await;
    let created: Value = app.post_letter(&key, &letter("0101901234")).await.json().await.unwrap();
    let letter_id: uuid::Uuid = created["id"].as_str().unwrap().parse().unwrap();
    app.wait_for_status(&key, &letter_id.to_string(), "delivered").await;
    // on PostgreSQL the feed waits for every older transaction in the cluster: other tests
    // may hold it back for a moment, so each read waits until something comes
    let feed = |cursor: String| {
        let (app, key) = (&app, &key);
        async move {
            let start = std::time::Instant::now();
            loop {
                let page = app.get_json(key, &format!("/v1/events?after={cursor}&limit=500")).await;
                let ids: Vec<String> =
                    page["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
                if !ids.is_empty() || start.elapsed() > Duration::from_secs(20) {
                    return (ids, page["next_cursor"].as_str().unwrap().to_owned());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let mut cursor = "0".to_owned();
    let mut seen = 0;
    while seen < 3 {
        let (ids, next) = feed(cursor).await;
        assert!(!ids.is_empty(), "the letter's three events");
        seen += ids.len();
        cursor = next;
    }

    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    let insert = "INSERT INTO events (id, letter_id, authority_id, kind, data, created_at) \
                  VALUES ($1, $2, $3, 'dispatched', '{}', 0)";
    let (first_id, later_id) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let mut first = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()").execute(&mut *first).await.unwrap();
    let mut later = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()").execute(&mut *later).await.unwrap();
    // the later transaction takes the lower seq, the first one the higher, and commits first
    for (tx, id) in [(&mut later, later_id), (&mut first, first_id)] {
        sqlx::query(insert).bind(id).bind(letter_id).bind(authority).execute(&mut **tx).await.unwrap();
    }
    first.commit().await.unwrap();
    let (seen, next) = feed(cursor.clone()).await;
    assert_eq!(seen, [first_id.to_string()], "only what no running transaction can precede");
    later.commit().await.unwrap();
    let (seen, _) = feed(next).await;
    assert_eq!(seen, [later_id.to_string()], "the event with the lower seq comes next, not never");
    // a cursor of seq alone (as handed out before) still reads on from that event
    let seq_only = next_seq_only(&pool, first_id).await;
    let (seen, _) = feed(seq_only).await;
    assert_eq!(seen, [later_id.to_string()]);
    pool.close().await;
    app.finish().await;
}

async fn next_seq_only(pool: &sqlx::PgPool, event: uuid::Uuid) -> String {
    let seq: i64 =
        sqlx::query_scalar("SELECT seq FROM events WHERE id = $1").bind(event).fetch_one(pool).await.unwrap();
    seq.to_string()
}

/// One call the receiver got: headers, body, the status it answered.
type Call = (HeaderMap, Vec<u8>, u16);

#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<Mutex<Vec<Call>>>,
    fail_first: Arc<Mutex<bool>>,
}

/// A real HTTP endpoint on loopback that records every webhook call; it fails the first.
async fn start_receiver() -> (String, Receiver) {
    let receiver = Receiver { fail_first: Arc::new(Mutex::new(true)), ..Default::default() };
    let state = receiver.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let state = state.clone();
            async move {
                let status = {
                    let mut fail = state.fail_first.lock().unwrap();
                    if *fail {
                        *fail = false;
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                };
                state.calls.lock().unwrap().push((headers, body.to_vec(), status.as_u16()));
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, receiver)
}

async fn webhooks_are_signed_ordered_and_retried(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Thisted Kommune").await;
    let (url, receiver) = start_receiver().await;

    let bad = app
        .client
        .post(format!("{}/v1/webhooks", app.base))
        .bearer_auth(&key)
        .json(&json!({ "url": "ftp://x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_locations(&expect_problem(bad, 422).await), ["/url"]);
    let created = app
        .client
        .post(format!("{}/v1/webhooks", app.base))
        .bearer_auth(&key)
        .json(&json!({ "url": url }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let hook: Value = created.json().await.unwrap();
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let listed = app.get_json(&key, "/v1/webhooks").await;
    assert_eq!(listed[0]["url"], url.as_str());
    assert!(listed[0].get("secret").is_none(), "secrets are shown only once");

    let letter_json: Value = app.post_letter(&key, &letter("0101901234")).await.json().await.unwrap();
    let letter_id = letter_json["id"].as_str().unwrap().to_owned();
    let delivered_calls = || receiver.calls.lock().unwrap().iter().filter(|(_, _, status)| *status == 204).count();
    let arrived = eventually(Duration::from_secs(20), || async { delivered_calls() >= 3 }).await;
    assert!(arrived, "three events should arrive; got {:?}", receiver.calls.lock().unwrap().len());

    let calls = receiver.calls.lock().unwrap().clone();
    let (first_headers, _, first_status) = &calls[0];
    assert_eq!(*first_status, 500);
    let mut types = Vec::new();
    for (headers, body, status) in &calls {
        assert!(signature_is_valid(&secret, headers, body), "signature must verify");
        let ts: i64 = headers["webhook-timestamp"].to_str().unwrap().parse().unwrap();
        assert!((jiff::Timestamp::now().as_second() - ts).abs() < 300);
        let payload: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(payload["data"]["letter_id"], letter_id.as_str());
        assert_eq!(headers["webhook-id"].to_str().unwrap(), payload["data"]["id"].as_str().unwrap());
        if *status == 204 {
            types.push(payload["type"].as_str().unwrap().to_owned());
        }
    }
    // the failed call was retried with the same message id (at least once), and order held
    assert!(calls.iter().filter(|(_, _, s)| *s == 204).any(|(h, _, _)| h["webhook-id"] == first_headers["webhook-id"]));
    assert_eq!(types, ["letter.accepted", "letter.dispatched", "letter.delivered"]);

    // a tampered body does not verify
    let (headers, body, _) = &calls[1];
    let mut tampered = body.clone();
    tampered[0] = b' ';
    assert!(!signature_is_valid(&secret, headers, &tampered));

    let id = hook["id"].as_str().unwrap();
    let delete = || app.client.delete(format!("{}/v1/webhooks/{id}", app.base)).bearer_auth(&key).send();
    assert_eq!(delete().await.unwrap().status(), 204);
    expect_problem(delete().await.unwrap(), 404).await;
    app.finish().await;
}

on_both_backends!(a_webhook_that_keeps_failing_is_retried_for_three_days_then_given_up);

async fn a_webhook_that_keeps_failing_is_retried_for_three_days_then_given_up(backend: Backend) {
    use budbringer::domain::ManualClock;
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
    let app = TestApp::start_with_clock(&backend, clock.clone(), |s| {
        s.webhooks.retry_base_ms = 60_000;
        s.webhooks.retry_max_secs = 3600;
    })
    .await;
    let (_, key) = app.authority("Samsø Kommune").await;
    let calls = Arc::new(Mutex::new(0usize));
    let counter = calls.clone();
    let endpoint = axum::Router::new().route(
        "/down",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                *counter.lock().unwrap() += 1;
                StatusCode::SERVICE_UNAVAILABLE
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/down", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, endpoint).await });
    let response = app
        .client
        .post(format!("{}/v1/webhooks", app.base))
        .bearer_auth(&key)
        .json(&json!({ "url": url }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    // `accepted` fails first; the letter's later events wait behind it, in order
    assert_eq!(app.post_letter(&key, &letter("0101901234")).await.status(), 201);
    let count = || *calls.lock().unwrap();
    assert!(eventually(Duration::from_secs(10), || async { count() >= 1 }).await, "first attempt");
    let backlog = || async { app.store.stats(i64::MAX).await.unwrap().webhook_backlog };
    assert!(backlog().await >= 1, "the failed message waits for a retry");

    // time stands still: no retry before its backoff has passed
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = count();
    clock.advance(Duration::from_secs(2 * 3600));
    assert!(eventually(Duration::from_secs(10), || async { count() > before }).await, "retried after the backoff");

    // after three days of failures the message is given up, and nothing more is sent
    clock.advance(Duration::from_secs(73 * 3600));
    let given_up = eventually(Duration::from_secs(10), || async {
        backlog().await == 0 && app.state.metrics.render(&Default::default(), 0).contains("outcome=\"dead\"")
    })
    .await;
    assert!(given_up, "the message should be given up after 72 hours");
    let settled = count();
    clock.advance(Duration::from_secs(24 * 3600));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count(), settled, "a given-up message is not sent again");
    app.finish().await;
}
