//! The phone channel: callback tasks for caseworkers, and the outcome of each call.

use crate::harness::*;
use budbringer::domain::ChannelKind;
use budbringer::store::ProfileUpdate;
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    a_reached_citizen_is_evidence,
    unanswered_and_wrong_numbers_fail_the_delivery,
    an_authoritys_own_office_hours_set_when_calls_are_due
);

async fn open_task(app: &TestApp, key: &str, letter_id: uuid::Uuid) -> Value {
    let mut found = Value::Null;
    for _ in 0..400 {
        let tasks = app.get_json(key, "/v1/callbacks").await;
        if let Some(task) = tasks.as_array().unwrap().iter().find(|t| t["letter_id"] == letter_id.to_string()) {
            found = task.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(found.is_object(), "no callback task for {letter_id}");
    found
}

async fn log_call(app: &TestApp, key: &str, task: &Value, outcome: &str, minutes: i64) -> reqwest::Response {
    app.client
        .post(format!("{}/v1/callbacks/{}/outcome", app.base, task["id"].as_str().unwrap()))
        .bearer_auth(key)
        .json(&json!({ "outcome": outcome, "minutes": minutes }))
        .send()
        .await
        .unwrap()
}

async fn a_reached_citizen_is_evidence(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (authority, key) = app.authority("Aalborg Kommune").await;
    let profile = ProfileUpdate {
        phone: Some("+4512345678".into()),
        large_print: true,
        exempt_from_digital_post: true,
        preferred_channel: Some(ChannelKind::Phone),
        ..Default::default()
    };
    let (letter_id, _) = app.letter_on_channel(authority, ChannelKind::Phone, profile, None).await;
    let task = open_task(&app, &key, letter_id).await;
    assert_eq!(task["phone"], "+4512345678");
    assert!(task["summary"].as_str().unwrap().contains("Aalborg Kommune"), "{task}");
    assert!(task["summary"].as_str().unwrap().contains("stor skrift"), "the caseworker sees the citizen's needs");
    let letter = app.get_json(&key, &format!("/v1/letters/{letter_id}")).await;
    assert_eq!(letter["deliveries"][0]["status"], "sent", "waiting for the call");

    let first = log_call(&app, &key, &task, "no_answer", 2).await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["status"], "open");
    assert_eq!(first["no_answers"], 1);
    // due again at least two hours later (retry_after_minutes), within office hours
    let due: jiff::Timestamp = first["due_at"].as_str().unwrap().parse().unwrap();
    let earliest = jiff::Timestamp::now().saturating_add(jiff::SignedDuration::from_mins(119)).unwrap();
    assert!(due >= earliest, "called again later: {due}");

    let reached: Value = log_call(&app, &key, &task, "reached", 6).await.json().await.unwrap();
    assert_eq!(reached["status"], "done");
    assert_eq!(reached["minutes_spent"], 8);
    let letter = app.get_json(&key, &format!("/v1/letters/{letter_id}")).await;
    assert_eq!(letter["status"], "delivered");
    assert_eq!(letter["deliveries"][0]["status"], "delivered");
    let kinds: Vec<&str> = letter["timeline"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["accepted", "dispatched", "sent", "call_logged", "call_logged", "reacted", "delivered"]);

    // a closed task takes no more outcomes; open queue no longer lists it
    expect_problem(log_call(&app, &key, &task, "reached", 1).await, 404).await;
    assert!(app.get_json(&key, "/v1/callbacks").await.as_array().unwrap().is_empty());
    assert_eq!(app.get_json(&key, "/v1/callbacks?all=true").await.as_array().unwrap().len(), 1);
    app.finish().await;
}

async fn unanswered_and_wrong_numbers_fail_the_delivery(backend: Backend) {
    let app = TestApp::start_with(&backend, |s| s.channels.phone.max_no_answers = 2).await;
    let (authority, key) = app.authority("Thisted Kommune").await;
    let (_, other_key) = app.authority("Morsø Kommune").await;
    let profile = || ProfileUpdate { phone: Some("+4512345678".into()), ..Default::default() };

    let (letter_id, _) = app.letter_on_channel(authority, ChannelKind::Phone, profile(), None).await;
    let task = open_task(&app, &key, letter_id).await;
    expect_problem(log_call(&app, &other_key, &task, "reached", 1).await, 404).await;
    let bad = app
        .client
        .post(format!("{}/v1/callbacks/{}/outcome", app.base, task["id"].as_str().unwrap()))
        .bearer_auth(&key)
        .json(&json!({ "outcome": "maybe", "minutes": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_locations(&expect_problem(bad, 422).await), ["/outcome"]);
    log_call(&app, &key, &task, "no_answer", 1).await;
    let second: Value = log_call(&app, &key, &task, "no_answer", 1).await.json().await.unwrap();
    assert_eq!(second["status"], "failed");
    let letter = app.get_json(&key, &format!("/v1/letters/{letter_id}")).await;
    assert_eq!(letter["deliveries"][0]["status"], "failed");
    assert!(letter["deliveries"][0]["last_error"].as_str().unwrap().contains("no_answer"));

    let (letter_id, _) = app.letter_on_channel(authority, ChannelKind::Phone, profile(), None).await;
    let task = open_task(&app, &key, letter_id).await;
    let wrong: Value = log_call(&app, &key, &task, "wrong_number", 3).await.json().await.unwrap();
    assert_eq!(wrong["status"], "failed");
    assert_eq!(app.get_json(&key, &format!("/v1/letters/{letter_id}")).await["status"], "failed");
    app.finish().await;
}

async fn an_authoritys_own_office_hours_set_when_calls_are_due(backend: Backend) {
    let clock = std::sync::Arc::new(budbringer::domain::ManualClock::new("2026-11-25T09:00:00Z".parse().unwrap()));
    let app = TestApp::start_with_clock(&backend, clock, |_| {}).await;
    let (authority, key) = app.authority("Lolland Kommune").await;
    let put = |body: Value| {
        let request = app.client.put(format!("{}/v1/settings/office-hours", app.base)).bearer_auth(&key).json(&body);
        async move { request.send().await.unwrap() }
    };
    let bad = put(json!({ "office_hours": "whenever" })).await;
    assert_eq!(error_locations(&expect_problem(bad, 422).await), ["/office_hours"]);
    let bad = put(json!({ "office_hours": "sat-sun 10:00-12:00", "time_zone": "Mars/Olympus" })).await;
    assert_eq!(error_locations(&expect_problem(bad, 422).await), ["/time_zone"]);
    assert_eq!(put(json!({ "office_hours": "sat-sun 10:00-12:00" })).await.status(), 200);
    assert_eq!(app.get_json(&key, "/v1/settings").await["office_hours"], "sat-sun 10:00-12:00");

    let profile = ProfileUpdate { phone: Some("+4512345678".into()), ..Default::default() };
    let (letter_id, _) = app.letter_on_channel(authority, ChannelKind::Phone, profile, None).await;
    let task = open_task(&app, &key, letter_id).await;
    // Wednesday → the weekend team's Saturday 10:00 in Copenhagen (09:00 UTC)
    assert_eq!(task["due_at"], "2026-11-28T09:00:00Z");
    app.finish().await;
}
