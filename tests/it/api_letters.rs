//! Letters over the API: accept, deliver to the file drop, read, list, cancel, idempotency.

use crate::harness::*;
use serde_json::{Value, json};

on_both_backends!(
    a_letter_is_accepted_delivered_and_has_a_timeline,
    documents_are_stored_and_travel_with_the_letter,
    an_exempt_citizen_is_routed_to_paper,
    idempotency_key_replays_and_refuses_a_different_body,
    listing_filters_and_pages_through_letters,
    cancel_stops_a_pending_letter_and_refuses_a_final_one,
    another_authoritys_letter_is_not_found,
    a_cancel_racing_the_first_delivery_never_fails,
    a_bulk_runs_letter_is_accepted_and_delivered,
    letters_sent_fast_without_saying_are_a_bulk_run,
);

/// A bulk run's letter (`"bulk": true`) is accepted and delivered as any other (which lane
/// its jobs wait in, and that claims take the other lane first, is in `store_behaviour`); the
/// letter says it is a bulk run's, and its `accepted` event who said so.
async fn a_bulk_runs_letter_is_accepted_and_delivered(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    let mut body = letter("0101901234");
    body["bulk"] = json!(true);
    let response = app.post_letter(&key, &body).await;
    assert_eq!(response.status(), 201);
    let created = response.json::<Value>().await.unwrap();
    assert_eq!(created["bulk"], true);
    assert_eq!(created["timeline"][0]["data"]["bulk"], "requested");
    let id = created["id"].as_str().unwrap().to_owned();
    let delivered = app.wait_for_status(&key, &id, "delivered").await;
    assert_eq!(delivered["deliveries"][0]["status"], "delivered");
    assert_eq!(delivered["bulk"], true, "read back from the store");
    assert_eq!(delivered["timeline"][0]["data"]["bulk"], "requested");
    app.finish().await;
}

/// An authority that says nothing of bulk runs: its letters count as a bulk run's once it sends
/// more than `bulk_detect_burst` faster than `bulk_detect_per_second`; what it says wins, and
/// another authority's letters are counted on their own.
async fn letters_sent_fast_without_saying_are_a_bulk_run(backend: Backend) {
    let app = TestApp::start_with(&backend, |s| {
        s.api.bulk_detect_burst = 3.0;
        // nothing comes back during the test
        s.api.bulk_detect_per_second = 0.0001;
    })
    .await;
    let (_, key) = app.authority("Vejle Kommune").await;
    let (_, other) = app.authority("Kolding Kommune").await;
    let send = |key: String, bulk: Option<bool>| {
        let app = &app;
        async move {
            let mut body = letter("0101901234");
            if let Some(bulk) = bulk {
                body["bulk"] = json!(bulk);
            }
            let response = app.post_letter(&key, &body).await;
            assert_eq!(response.status(), 201);
            let created = response.json::<Value>().await.unwrap();
            (
                created["id"].as_str().unwrap().to_owned(),
                created["bulk"].clone(),
                created["timeline"][0]["data"]["bulk"].clone(),
            )
        }
    };
    let mut seen = Vec::new();
    for _ in 0..5 {
        let (_, bulk, why) = send(key.clone(), None).await;
        seen.push((bulk, why));
    }
    let no = (json!(false), Value::Null);
    let detected = (json!(true), json!("detected"));
    assert_eq!(seen, [no.clone(), no.clone(), no.clone(), detected.clone(), detected.clone()]);
    let (single, bulk, why) = send(key.clone(), Some(false)).await;
    assert_eq!((bulk, why), no, "a letter that says it is not a bulk run's is not");
    let (_, bulk, why) = send(key.clone(), Some(true)).await;
    assert_eq!((bulk, why), (json!(true), json!("requested")));
    let (_, bulk, why) = send(other.clone(), None).await;
    assert_eq!((bulk, why), no, "another authority's letters are counted on their own");
    let single = app.wait_for_status(&key, &single, "delivered").await;
    assert_eq!(single["bulk"], false);
    let metrics = reqwest::get(format!("{}/metrics", app.base)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("budbringer_bulk_letters_total{reason=\"detected\"} 2"), "{metrics}");
    assert!(metrics.contains("budbringer_bulk_letters_total{reason=\"requested\"} 1"), "{metrics}");
    app.finish().await;
}

async fn a_letter_is_accepted_delivered_and_has_a_timeline(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Aarhus Kommune").await;

    let response = app.post_letter(&key, &letter("0101901234")).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("{}/v1/letters/{id}", app.base));
    assert_eq!(created["status"], "accepted");
    assert_eq!(created["importance"], "important");
    assert_eq!(created["respond_by"], "2099-12-31");
    assert_eq!(created["deadline"], "2099-12-31");
    assert_eq!(created["recipient"]["cpr_masked"], "010190-****");
    assert!(!created.to_string().contains("0101901234"), "the full CPR number must not come back");
    assert_eq!(created["deliveries"][0]["channel"], "digital_post");
    assert_eq!(created["timeline"][0]["type"], "accepted");

    let delivered = app.wait_for_status(&key, &id, "delivered").await;
    let kinds: Vec<&str> =
        delivered["timeline"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["accepted", "dispatched", "delivered"]);
    let delivery = &delivered["deliveries"][0];
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["transport"], "file_drop");
    assert_eq!(delivery["attempts"], 1);
    // what the start and the finish wrote about the delivery (on PostgreSQL in one statement
    // each, on SQLite a statement per table): the same on both
    let timeline = delivered["timeline"].as_array().unwrap();
    assert_eq!(timeline[1]["data"], json!({ "delivery_id": delivery["id"], "channel": "digital_post" }));
    assert_eq!(
        timeline[2]["data"],
        json!({
            "delivery_id": delivery["id"], "channel": "digital_post", "purpose": "letter",
            "transport": "file_drop", "provider_ref": delivery["provider_ref"],
        })
    );
    assert!(timeline.windows(2).all(|w| w[0]["seq"].as_i64() < w[1]["seq"].as_i64()), "{timeline:?}");

    let files = outbox_files(&app.outbox(), "digital_post");
    assert_eq!(files.len(), 1);
    assert!(files[0].starts_with(&id), "file name {} should start with the letter id", files[0]);
    // the file drop holds the MeMo message for the Digital Post provider
    assert!(files[0].ends_with(".xml"), "{}", files[0]);
    let memo = std::fs::read_to_string(app.outbox().join("digital_post").join(&files[0])).unwrap();
    assert!(memo.contains("<memo:Message"), "{memo}");
    assert!(memo.contains("Afgørelse om boligstøtte"));
    assert!(memo.contains("0101901234"), "Digital Post addresses the citizen by CPR number");
    app.finish().await;
}

async fn documents_are_stored_and_travel_with_the_letter(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Odense Kommune").await;
    let mut body = letter("0101901234");
    body["documents"] = json!([{ "filename": "afgoerelse.pdf", "content": pdf_base64() }]);
    let response = app.post_letter(&key, &body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let doc = &created["documents"][0];
    assert_eq!(doc["filename"], "afgoerelse.pdf");
    assert_eq!(doc["media_type"], "application/pdf");
    assert!(doc["size"].as_i64().unwrap() > 20);
    assert_eq!(doc["sha256"].as_str().unwrap().len(), 64);

    let id = created["id"].as_str().unwrap();
    app.wait_for_status(&key, id, "delivered").await;
    let files = outbox_files(&app.outbox(), "digital_post");
    let memo = std::fs::read_to_string(app.outbox().join("digital_post").join(&files[0])).unwrap();
    assert!(memo.contains(&pdf_base64()), "the authority's PDF travels inside the MeMo message");
    assert!(memo.contains("afgoerelse.pdf"));
    app.finish().await;
}

async fn an_exempt_citizen_is_routed_to_paper(backend: Backend) {
    use budbringer::domain::secret::keyed_hash;
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    let cpr = "1502454321";
    app.store
        .set_contact_profile(
            &budbringer::store::ProfileUpdate {
                cpr: cpr.into(),
                cpr_hash: keyed_hash(&app.state.cpr_key, cpr),
                exempt_from_digital_post: true,
                ..Default::default()
            },
            0,
        )
        .await
        .unwrap();
    let mut body = letter(cpr);
    body["recipient"]["address"] =
        json!({ "street": "Vestergade", "house_number": "12", "postcode": "7100", "town": "Vejle" });
    let created: Value = app.post_letter(&key, &body).await.json().await.unwrap();
    assert_eq!(created["deliveries"][0]["channel"], "print");
    app.wait_for_status(&key, created["id"].as_str().unwrap(), "delivered").await;
    assert_eq!(outbox_files(&app.outbox(), "print").len(), 1);
    assert!(outbox_files(&app.outbox(), "digital_post").is_empty());

    // without an address a paper letter cannot go out: it fails permanently, visibly
    let mut no_address = letter(cpr);
    no_address["subject"] = json!("Uden adresse");
    let created: Value = app.post_letter(&key, &no_address).await.json().await.unwrap();
    let failed = app.wait_for_status(&key, created["id"].as_str().unwrap(), "failed").await;
    assert_eq!(failed["deliveries"][0]["status"], "failed");
    assert!(failed["deliveries"][0]["last_error"].as_str().unwrap().contains("address"));
    // the failure is on the timeline, and caseworkers get an alert for it
    let timeline = failed["timeline"].as_array().unwrap();
    let tail: Vec<&str> = timeline[timeline.len() - 2..].iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(tail, ["failed", "alert_raised"]);
    assert_eq!(timeline.last().unwrap()["data"]["kind"], "delivery_failed");
    app.finish().await;
}

async fn idempotency_key_replays_and_refuses_a_different_body(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Herning Kommune").await;
    let post = |body: Value, idem: &'static str| {
        let request = app
            .client
            .post(format!("{}/v1/letters", app.base))
            .bearer_auth(&key)
            .header("Idempotency-Key", idem)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    let first = post(letter("0101901234"), "case-77-letter-1").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();

    // the same body with keys in another order is the same request
    let reordered: Value = serde_json::from_str(&{
        let mut fields: Vec<(String, Value)> = letter("0101901234").as_object().unwrap().clone().into_iter().collect();
        fields.reverse();
        let map: serde_json::Map<String, Value> = fields.into_iter().collect();
        serde_json::to_string(&map).unwrap()
    })
    .unwrap();
    let again = post(reordered, "case-77-letter-1").await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);

    let mut other = letter("0101901234");
    other["subject"] = json!("Noget andet");
    let conflict = post(other, "case-77-letter-1").await;
    let problem = expect_problem(conflict, 422).await;
    assert!(problem["detail"].as_str().unwrap().contains("Idempotency-Key"));

    let bad_key = app
        .client
        .post(format!("{}/v1/letters", app.base))
        .bearer_auth(&key)
        .header("Idempotency-Key", "")
        .json(&letter("0101901234"))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(bad_key, 422).await;
    assert_eq!(error_locations(&problem), ["Idempotency-Key"]);

    // concurrent retries with one new key: one letter, the same answer for all
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let request = app
            .client
            .post(format!("{}/v1/letters", app.base))
            .bearer_auth(&key)
            .header("Idempotency-Key", "case-78-letter-1")
            .json(&letter("0101901234"));
        racing.spawn(async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 201);
            response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
        });
    }
    let mut raced = std::collections::HashSet::new();
    while let Some(id) = racing.join_next().await {
        raced.insert(id.unwrap());
    }
    assert_eq!(raced.len(), 1, "concurrent requests with one key made {} letters", raced.len());

    let list = app.get_json(&key, "/v1/letters").await;
    assert_eq!(list["letters"].as_array().unwrap().len(), 2, "replays must not store another letter");
    app.finish().await;
}

async fn listing_filters_and_pages_through_letters(backend: Backend) {
    let app = TestApp::start_with(&backend, |s| s.engine.enabled = false).await;
    let (_, key) = app.authority("Silkeborg Kommune").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut body = letter("0101901234");
        body["importance"] = json!(if i % 2 == 0 { "important" } else { "normal" });
        body["reference"] = json!(format!("SAG-{}", i % 3));
        let created: Value = app.post_letter(&key, &body).await.json().await.unwrap();
        ids.push(created["id"].as_str().unwrap().to_owned());
    }

    let mut seen = Vec::new();
    let mut path = "/v1/letters?limit=2".to_owned();
    loop {
        let page = app.get_json(&key, &path).await;
        let letters = page["letters"].as_array().unwrap();
        assert!(letters.len() <= 2);
        seen.extend(letters.iter().map(|l| l["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/letters?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "paging returns every letter once, oldest first");

    let important = app.get_json(&key, "/v1/letters?importance=important").await;
    assert_eq!(important["letters"].as_array().unwrap().len(), 3);
    let by_reference = app.get_json(&key, "/v1/letters?reference=SAG-1").await;
    let refs: Vec<&str> =
        by_reference["letters"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(refs, [ids[1].as_str(), ids[4].as_str()]);
    let accepted = app.get_json(&key, "/v1/letters?status=accepted&updated_since=2020-01-01T00:00:00Z").await;
    assert_eq!(accepted["letters"].as_array().unwrap().len(), 5);
    let future = app.get_json(&key, "/v1/letters?updated_since=2099-01-01T00:00:00Z").await;
    assert!(future["letters"].as_array().unwrap().is_empty());

    let bad = app.get(&key, "/v1/letters?status=opened&limit=0&colour=blue").await;
    let problem = expect_problem(bad, 422).await;
    assert_eq!(error_locations(&problem), ["colour", "limit", "status"]);
    app.finish().await;
}

async fn cancel_stops_a_pending_letter_and_refuses_a_final_one(backend: Backend) {
    let app = TestApp::start_with(&backend, |s| s.engine.enabled = false).await;
    let (_, key) = app.authority("Viborg Kommune").await;
    let created: Value = app.post_letter(&key, &letter("0101901234")).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();

    let cancel = |id: String| {
        let request = app.client.post(format!("{}/v1/letters/{id}/cancel", app.base)).bearer_auth(&key);
        async move { request.send().await.unwrap() }
    };
    let response = cancel(id.to_owned()).await;
    assert_eq!(response.status(), 200);
    let cancelled: Value = response.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["deliveries"][0]["status"], "cancelled");
    let last = cancelled["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "cancelled");
    assert_eq!(last["data"]["previous_status"], "accepted");

    let again = expect_problem(cancel(id.to_owned()).await, 409).await;
    assert!(again["detail"].as_str().unwrap().contains("cancelled"));
    expect_problem(cancel(uuid::Uuid::now_v7().to_string()).await, 404).await;

    // no job is left behind: nothing is ever delivered for it
    let stats = app.store.stats(i64::MAX).await.unwrap();
    assert_eq!(stats.jobs_due, 0);
    app.finish().await;
}

async fn another_authoritys_letter_is_not_found(backend: Backend) {
    let app = TestApp::start_with(&backend, |s| s.engine.enabled = false).await;
    let (_, key_a) = app.authority("Kommune A").await;
    let (_, key_b) = app.authority("Kommune B").await;
    let created: Value = app.post_letter(&key_a, &letter("0101901234")).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();

    let theirs = expect_problem(app.get(&key_b, &format!("/v1/letters/{id}")).await, 404).await;
    let missing = expect_problem(app.get(&key_b, &format!("/v1/letters/{}", uuid::Uuid::now_v7())).await, 404).await;
    assert_eq!(theirs, missing, "a foreign letter looks exactly like a missing one");
    let cancel =
        app.client.post(format!("{}/v1/letters/{id}/cancel", app.base)).bearer_auth(&key_b).send().await.unwrap();
    expect_problem(cancel, 404).await;
    assert!(app.get_json(&key_b, "/v1/letters").await["letters"].as_array().unwrap().is_empty());
    assert!(app.get_json(&key_b, "/v1/events").await["events"].as_array().unwrap().is_empty());
    // and it was not cancelled by the other authority
    assert_eq!(app.get_json(&key_a, &format!("/v1/letters/{id}")).await["status"], "accepted");
    app.finish().await;
}

/// A cancel sent right after the letter races the engine's first delivery: it wins (200) or
/// loses (409), but never errors — both sides lock the letter before its deliveries.
async fn a_cancel_racing_the_first_delivery_never_fails(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Faaborg-Midtfyn Kommune").await;
    let mut answers = std::collections::BTreeMap::new();
    for _ in 0..60 {
        let created: Value = app.post_letter(&key, &letter("0101901234")).await.json().await.unwrap();
        let id = created["id"].as_str().unwrap();
        let cancel =
            app.client.post(format!("{}/v1/letters/{id}/cancel", app.base)).bearer_auth(&key).send().await.unwrap();
        *answers.entry(cancel.status().as_u16()).or_insert(0) += 1;
    }
    assert!(answers.keys().all(|s| *s == 200 || *s == 409), "answers: {answers:?}");
    app.finish().await;
}
