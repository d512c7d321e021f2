//! Issue #7, retention: a letter's content (body, documents, file-drop copies) is deleted a set
//! number of days after its business is over — the later of its arrival and its deadline in
//! force, an extended deadline included — while the timeline, the deliveries and the citizen's
//! data stay; the API, the citizen's and the caseworker's pages say plainly what happened.

use crate::harness::*;
use budbringer::domain::policy::{Escalation, Policy};
use budbringer::domain::{ChannelKind, Clock, ManualClock};
use budbringer::engine::retention::RetentionSweeper;
use budbringer::store::{NewLetter, Recipient, RetentionCutoff};
use budbringer::web::session::{self, Audience};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

on_both_backends!(letter_content_goes_after_the_retention_period_and_the_timeline_stays);
on_both_backends!(two_sweepers_on_one_database_empty_each_letter_exactly_once);

const CPR: &str = "0101901234";
const BODY_A: &str = "Hemmelig tekst om din boligstøtte.";
const BODY_B: &str = "Hemmelig tekst om din friplads.";
const DAYS: u32 = 30;

/// The database as it is, not as the API shows it: `(body, content_deleted_at)` and the byte
/// length of each of the letter's documents.
async fn stored(url: &str, letter: &str) -> (String, Option<i64>, Vec<i64>) {
    let id: Uuid = letter.parse().unwrap();
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let row: (String, Option<i64>) = sqlx::query_as("SELECT body, content_deleted_at FROM letters WHERE id = ?1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
        let docs: Vec<i64> = sqlx::query_scalar("SELECT length(content) FROM documents WHERE letter_id = ?1")
            .bind(id)
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        (row.0, row.1, docs)
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let row: (String, Option<i64>) = sqlx::query_as("SELECT body, content_deleted_at FROM letters WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
        let docs: Vec<i32> = sqlx::query_scalar("SELECT octet_length(content) FROM documents WHERE letter_id = $1")
            .bind(id)
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        (row.0, row.1, docs.into_iter().map(i64::from).collect())
    }
}

/// How many `content_deleted` events a letter has, straight from the events table.
async fn deletion_events(url: &str, letter: Uuid) -> i64 {
    let sql = "SELECT COUNT(*) FROM events WHERE kind = 'content_deleted' AND letter_id = ";
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let n =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("{sql}?1"))).bind(letter).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let n =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("{sql}$1"))).bind(letter).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

fn advance_to(clock: &ManualClock, when: &str) {
    let target: jiff::Timestamp = when.parse().unwrap();
    let by = target.as_millisecond() - clock.now_ms();
    assert!(by >= 0, "time only moves forward");
    clock.advance(Duration::from_millis(by as u64));
}

/// A sweep run by the test itself, exactly as the engine's periodic one runs: deterministic.
async fn sweep_now(app: &TestApp, clock: &Arc<ManualClock>) -> usize {
    let sweeper = RetentionSweeper {
        store: Arc::clone(&app.store),
        clock: clock.clone(),
        settings: app.state.settings.retention.clone(),
        time_zone: app.state.calendar.time_zone().clone(),
        outbox: app.outbox(),
        events_written: Arc::clone(&app.state.webhook_wake),
    };
    let (_stop, running) = tokio::sync::watch::channel(false);
    sweeper.sweep(&running).await.unwrap()
}

fn kinds(letter: &Value) -> Vec<String> {
    letter["timeline"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
}

async fn login(app: &TestApp, audience: Audience, subject: Uuid, authority: Option<Uuid>) -> String {
    let (_, cookie) = session::start(&app.state, audience, subject, authority, "password").await.unwrap();
    cookie.to_str().unwrap().split(';').next().unwrap().to_owned()
}

async fn letter_content_goes_after_the_retention_period_and_the_timeline_stays(backend: Backend) {
    let clock = Arc::new(ManualClock::new("2026-11-25T09:00:00Z".parse().unwrap()));
    let app = TestApp::start_with_clock(&backend, clock.clone(), |s| {
        s.retention.letter_content_days = DAYS;
        s.retention.sweep_interval_secs = 1;
        s.retention.batch_size = 1; // several batches in one sweep
        // one rung: an SMS notice an hour later, with 20 more business days to answer
        s.policies.important = Policy {
            escalations: vec![Escalation {
                after: "1h".parse().unwrap(),
                channels: vec![ChannelKind::Sms],
                extend_by_business_days: 20,
                alert: Some(false),
            }],
            unreachable_after: None,
        };
    })
    .await;
    let (authority, key) = app.authority("Retention Kommune").await;
    let profile = json!({ "cpr": CPR, "name": "Jens Jensen", "phone": "+45 12 34 56 78" });
    let r = app.client.put(format!("{}/v1/citizens/profile", app.base)).bearer_auth(&key).json(&profile).send().await;
    let citizen: Uuid = r.unwrap().json::<Value>().await.unwrap()["citizen_id"].as_str().unwrap().parse().unwrap();

    // A: answered at once (no escalation); B: never answered, so its deadline is extended
    let send = |body: &str| {
        let mut letter = letter(CPR);
        letter["body"] = json!(body);
        letter["respond_by"] = json!("2026-11-30");
        letter["documents"] = json!([{ "filename": "afgoerelse.pdf", "content": pdf_base64() }]);
        letter
    };
    let a: Value = app.post_letter(&key, &send(BODY_A)).await.json().await.unwrap();
    let b: Value = app.post_letter(&key, &send(BODY_B)).await.json().await.unwrap();
    let (a, b) = (a["id"].as_str().unwrap().to_owned(), b["id"].as_str().unwrap().to_owned());
    app.wait_for_status(&key, &a, "delivered").await;
    app.wait_for_status(&key, &b, "delivered").await;
    let evidence = json!({ "type": "reacted", "via": "counter" });
    let r = app.client.post(format!("{}/v1/letters/{a}/evidence", app.base)).bearer_auth(&key).json(&evidence).send();
    assert_eq!(r.await.unwrap().status(), 200);
    clock.advance(Duration::from_secs(3601));
    let extended = eventually(Duration::from_secs(20), || async {
        let letter = app.get_json(&key, &format!("/v1/letters/{b}")).await;
        letter["deadline"] != "2026-11-30"
            && letter["deliveries"].as_array().unwrap().iter().all(|d| d["status"] == "delivered")
    })
    .await;
    assert!(extended, "B's deadline was extended and its SMS notice delivered");
    let deadline_b: jiff::civil::Date =
        app.get_json(&key, &format!("/v1/letters/{b}")).await["deadline"].as_str().unwrap().parse().unwrap();
    assert!(deadline_b > "2026-12-20".parse().unwrap(), "{deadline_b}");

    // the reading link in A's Digital Post message, and A's file drops, while they exist
    let outbox = app.outbox();
    let memo_of = |letter: &str| {
        let name = outbox_files(&outbox, "digital_post").into_iter().find(|f| f.starts_with(letter)).unwrap();
        std::fs::read_to_string(outbox.join("digital_post").join(name)).unwrap()
    };
    let memo = memo_of(&a);
    assert!(memo.contains("boligstøtte"), "the MeMo file carries the content");
    let token = memo.split("/l/").nth(1).unwrap().split(['<', '"', '/']).next().unwrap().to_owned();
    let before = app.get_json(&key, &format!("/v1/letters/{a}")).await;
    let document = before["documents"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(before["body"], BODY_A);
    assert_eq!(before["content_deleted_at"], Value::Null);

    // 30 days after arrival, but not yet 30 whole days after the deadline: everything is kept
    advance_to(&clock, "2026-12-30T12:00:00Z");
    assert_eq!(sweep_now(&app, &clock).await, 0);
    for (id, body) in [(&a, BODY_A), (&b, BODY_B)] {
        let (stored_body, deleted_at, docs) = stored(&app.db.url, id).await;
        assert_eq!((stored_body.as_str(), deleted_at), (body, None), "kept before the period ends");
        assert!(docs.iter().all(|&n| n > 0), "documents kept");
    }

    // a day later A's period has passed; B's extended deadline keeps it. The engine's own
    // periodic sweep does it.
    advance_to(&clock, "2026-12-31T12:00:00Z");
    let swept = eventually(Duration::from_secs(20), || async {
        app.get_json(&key, &format!("/v1/letters/{a}")).await["content_deleted_at"].is_string()
    })
    .await;
    assert!(swept, "the periodic sweep deleted A's content");
    let (body, deleted_at, docs) = stored(&app.db.url, &a).await;
    assert_eq!(body, "", "A's body is gone from the database");
    assert_eq!(deleted_at, Some(clock.now_ms()));
    assert_eq!(docs, [0], "A's document content is gone from the database");
    let (body, deleted_at, docs) = stored(&app.db.url, &b).await;
    assert_eq!((body.as_str(), deleted_at), (BODY_B, None), "B is kept until its extended deadline has passed");
    assert!(docs[0] > 0);
    assert!(!outbox_files(&outbox, "digital_post").iter().any(|f| f.starts_with(&a)), "A's file drops are gone");
    assert!(outbox_files(&outbox, "digital_post").iter().any(|f| f.starts_with(&b)), "B's file drops stay");
    assert_eq!(deletion_events(&app.db.url, a.parse().unwrap()).await, 1);

    // the API: no body, when it went, the documents still listed, every earlier event plus one
    let after = app.get_json(&key, &format!("/v1/letters/{a}")).await;
    assert!(after.get("body").is_none(), "{after:#}");
    assert_eq!(after["content_deleted_at"], "2026-12-31T12:00:00Z");
    assert_eq!(after["documents"][0]["id"], document.as_str());
    assert_eq!(after["subject"], before["subject"]);
    let (old, new) = (before["timeline"].as_array().unwrap(), after["timeline"].as_array().unwrap());
    assert_eq!(new.len(), old.len() + 1);
    assert_eq!(&new[..old.len()], &old[..], "every earlier event is kept as it was");
    assert_eq!(kinds(&after).last().unwrap(), "content_deleted");
    assert_eq!(new[old.len()]["data"]["letter_content_days"], DAYS);
    assert!(kinds(&before).contains(&"delivered".to_owned()) && kinds(&before).contains(&"reacted".to_owned()));
    let feed = app.get_json(&key, "/v1/events?after=0&limit=500").await;
    let in_feed = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["type"] == "content_deleted" && e["letter_id"] == a.as_str());
    assert!(in_feed, "the event feed tells the authority");

    // the citizen's page says so plainly; the document is gone for good; "my data" keeps the letter
    let citizen_cookie = login(&app, Audience::Citizen, citizen, None).await;
    let read = page(&app, &citizen_cookie, &format!("/citizen/letters/{a}")).await;
    assert_eq!(read.status(), 200);
    let html = read.text().await.unwrap();
    assert!(html.contains("were deleted on 31 December 2026"), "{html}");
    assert!(html.contains(&format!("for {DAYS} days after its deadline")), "{html}");
    assert!(!html.contains(BODY_A) && !html.contains(&format!("/documents/{document}")));
    let download = page(&app, &citizen_cookie, &format!("/citizen/letters/{a}/documents/{document}")).await;
    assert_eq!(download.status(), 410);
    let missing = page(&app, &citizen_cookie, &format!("/citizen/letters/{a}/documents/{}", Uuid::now_v7())).await;
    assert_eq!(missing.status(), 404, "only a document that existed is gone");
    let data = page(&app, &citizen_cookie, "/citizen/data.json").await.text().await.unwrap();
    assert!(data.contains(&a) && data.contains(&b), "my data keeps every letter");
    let b_page = page(&app, &citizen_cookie, &format!("/citizen/letters/{b}")).await.text().await.unwrap();
    assert!(b_page.contains(BODY_B), "B is still there to read");

    // the caseworker's page too, with the whole timeline
    let anna = crate::web_staff::caseworker(&app, authority, "anna", "Anna Andersen").await;
    let staff_cookie = login(&app, Audience::Staff, anna, Some(authority)).await;
    let staff = page(&app, &staff_cookie, &format!("/staff/letters/{a}")).await.text().await.unwrap();
    assert!(staff.contains("were deleted on 31 December 2026 under the retention rule (30 days"), "{staff}");
    assert!(staff.contains("deleted under the retention rule (30 days after the deadline)"), "the timeline sentence");
    assert!(staff.contains("Delivered by"), "earlier events stay on the timeline");
    assert!(!staff.contains(BODY_A));

    // the reading link still opens, says the same, and the document answers 410 problem+json
    let link = app.client.get(format!("{}/l/{token}", app.base)).header("accept-language", "en").send().await.unwrap();
    assert_eq!(link.status(), 200);
    let html = link.text().await.unwrap();
    assert!(html.contains("were deleted on 31 December 2026") && !html.contains(BODY_A), "{html}");
    let gone = app.client.get(format!("{}/l/{token}/documents/{document}", app.base)).send().await.unwrap();
    let problem = expect_problem(gone, 410).await;
    assert_eq!(problem["type"], "/docs#problem-gone");

    // B goes once 30 whole days have passed after its extended deadline, not a day before
    let last_kept = deadline_b.checked_add(jiff::Span::new().days(i64::from(DAYS))).unwrap();
    advance_to(&clock, &format!("{last_kept}T12:00:00Z"));
    sweep_now(&app, &clock).await;
    assert_eq!(stored(&app.db.url, &b).await.0, BODY_B, "kept through {last_kept}");
    advance_to(&clock, &format!("{}T12:00:00Z", last_kept.tomorrow().unwrap()));
    let swept = eventually(Duration::from_secs(20), || async { stored(&app.db.url, &b).await.1.is_some() }).await;
    assert!(swept, "B's content goes the day after");
    let (body, _, docs) = stored(&app.db.url, &b).await;
    assert_eq!((body.as_str(), docs.as_slice()), ("", &[0][..]));
    let b_after = app.get_json(&key, &format!("/v1/letters/{b}")).await;
    for kind in ["accepted", "delivered", "escalated", "deadline_extended", "content_deleted"] {
        assert!(kinds(&b_after).contains(&kind.to_owned()), "B's timeline keeps {kind}");
    }
    // a sweep never deletes twice
    assert_eq!(sweep_now(&app, &clock).await, 0);
    assert_eq!(deletion_events(&app.db.url, a.parse().unwrap()).await, 1);
    app.finish().await;
}

fn old_letter(authority_id: Uuid, now: i64) -> NewLetter {
    NewLetter {
        bulk: None,
        id: Uuid::now_v7(),
        authority_id,
        citizen_id: Uuid::now_v7(),
        cpr: CPR.into(),
        cpr_hash: "hash-0101901234".into(),
        recipient: Recipient { cpr_masked: "010190-****".into(), name: None, address: None },
        subject: "Emne".into(),
        body: "Tekst".into(),
        importance: budbringer::domain::Importance::Normal,
        category: None,
        respond_by: Some("2020-01-31".into()),
        reference: None,
        contact: Default::default(),
        documents: vec![],
        idempotency_key: None,
        request_hash: None,
        channel: ChannelKind::DigitalPost,
        delivery_id: Uuid::now_v7(),
        job_id: Uuid::now_v7(),
        notices: vec![],
        escalation_timer: None,
        max_attempts: 5,
        now,
    }
}

/// Several processes sweep at once (two stores on one database, small batches): every letter
/// is emptied, each by one sweeper, with exactly one `content_deleted` event.
async fn two_sweepers_on_one_database_empty_each_letter_exactly_once(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let first = budbringer::store::connect(&db.url).await.unwrap();
    first.migrate().await.unwrap();
    let second = budbringer::store::connect(&db.url).await.unwrap();
    let authority = budbringer::store::Authority {
        id: Uuid::now_v7(),
        name: "Sweep".into(),
        cvr: format!("{:08}", rand_u32() % 100_000_000),
        created_at: 0,
        office_hours: None,
        closing_days: sqlx::types::Json(Vec::new()),
        time_zone: None,
    };
    first.create_authority(&authority).await.unwrap();
    let then: i64 = "2020-01-01T09:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let mut ids = HashSet::new();
    for _ in 0..40 {
        let letter = old_letter(authority.id, then);
        first.insert_letter(&letter).await.unwrap();
        ids.insert(letter.id);
    }
    // one letter still has work pending (its delivery job): it is left alone
    let busy = old_letter(authority.id, then);
    first.insert_letter(&busy).await.unwrap();
    for job in first.claim_jobs("w", i64::MAX / 2, 1, 100).await.unwrap() {
        if job.letter_id != busy.id {
            first.drop_job(job.id).await.unwrap();
        }
    }
    let cutoff = RetentionCutoff { created_before: then + 1, deadline_before: "2020-02-01".into(), days: 400 };
    let now = then + 1000;
    let run = |store: Arc<dyn budbringer::store::Store>, cutoff: RetentionCutoff| {
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store.delete_expired_content(&cutoff, now, 3).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch);
            }
        })
    };
    let (a, b) = tokio::join!(run(first.clone(), cutoff.clone()), run(second.clone(), cutoff.clone()));
    let (a, b) = (a.unwrap(), b.unwrap());
    let all: HashSet<Uuid> = a.iter().chain(&b).copied().collect();
    assert_eq!(a.len() + b.len(), 40, "each letter once: {} + {}", a.len(), b.len());
    assert_eq!(all, ids, "every due letter, and not the busy one");
    for id in &ids {
        assert_eq!(deletion_events(&db.url, *id).await, 1, "one content_deleted event for {id}");
    }
    assert_eq!(deletion_events(&db.url, busy.id).await, 0);
    assert_eq!(first.letter(authority.id, busy.id).await.unwrap().unwrap().body, "Tekst");
    // the cutoff is exclusive: a letter arriving exactly at it stays
    let edge = old_letter(authority.id, then + 1);
    first.insert_letter(&edge).await.unwrap();
    for job in first.claim_jobs("w2", i64::MAX / 2, 1, 100).await.unwrap() {
        first.drop_job(job.id).await.unwrap();
    }
    assert!(first.delete_expired_content(&cutoff, now, 10).await.unwrap().is_empty());
    first.close().await;
    second.close().await;
    db.drop_database().await;
}
