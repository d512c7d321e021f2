//! Important letters without evidence escalate: the next rung's channels, a longer deadline,
//! alerts for caseworkers; evidence stops it all. Time is a manual clock.

use crate::harness::*;
use budbringer::domain::ManualClock;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

on_both_backends!(
    an_unopened_letter_escalates_until_evidence_stops_it,
    an_authority_sets_its_own_ladder_per_category,
    helpers_hear_of_an_unread_letter_as_granted
);

fn kinds(letter: &Value) -> Vec<String> {
    letter["timeline"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

async fn wait_for_kind(app: &TestApp, key: &str, id: &str, kind: &str, count: usize) -> Value {
    let path = format!("/v1/letters/{id}");
    for _ in 0..400 {
        let letter = app.get_json(key, &path).await;
        if kinds(&letter).iter().filter(|k| *k == kind).count() >= count {
            return letter;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("letter {id} never got {count} × {kind}: {:?}", kinds(&app.get_json(key, &path).await));
}

async fn an_unopened_letter_escalates_until_evidence_stops_it(backend: Backend) {
    // Wednesday 2026-11-25 10:00 Copenhagen
    let clock = Arc::new(ManualClock::new("2026-11-25T09:00:00Z".parse().unwrap()));
    let app = TestApp::start_with_clock(&backend, clock.clone(), |s| s.policies.important = fast_ladder()).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    let profile = json!({
        "cpr": "0101901234", "phone": "+45 12 34 56 78",
        "address": { "street": "Vestergade", "house_number": "1", "postcode": "7100", "town": "Vejle" }
    });
    let put = app
        .client
        .put(format!("{}/v1/citizens/profile", app.base))
        .bearer_auth(&key)
        .json(&profile)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);

    let mut body = letter("0101901234");
    body["respond_by"] = json!("2026-11-30");
    let first: Value = app.post_letter(&key, &body).await.json().await.unwrap();
    let first_id = first["id"].as_str().unwrap().to_owned();
    app.wait_for_status(&key, &first_id, "delivered").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!kinds(&app.get_json(&key, &format!("/v1/letters/{first_id}")).await).contains(&"escalated".to_owned()));

    // an hour without evidence: SMS notice and paper letter, deadline + 10 business days
    clock.advance(Duration::from_secs(3601));
    let escalated = wait_for_kind(&app, &key, &first_id, "escalated", 1).await;
    let extended =
        escalated["timeline"].as_array().unwrap().iter().find(|e| e["type"] == "deadline_extended").unwrap().clone();
    assert_eq!(extended["data"]["old"], "2026-11-30");
    assert_eq!(extended["data"]["new"], "2026-12-09", "10 business days after Wednesday 25 November");
    assert_eq!(escalated["deadline"], "2026-12-09");
    assert_eq!(escalated["respond_by"], "2026-11-30", "the original deadline is kept");
    let channels: Vec<&str> =
        escalated["deliveries"].as_array().unwrap().iter().map(|d| d["channel"].as_str().unwrap()).collect();
    assert_eq!(channels, ["digital_post", "sms", "print"]);
    let alerts = app.get_json(&key, "/v1/alerts").await;
    assert_eq!(
        alerts.as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect::<Vec<_>>(),
        ["unopened"]
    );
    // operators see it too
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("budbringer_escalations_total 1\n"), "{metrics}");
    assert!(metrics.contains("budbringer_open_alerts{kind=\"unopened\"} 1\n"), "{metrics}");

    // the escalated messages state the new deadline plainly
    let delivered_all = eventually(Duration::from_secs(10), || async {
        outbox_files(&app.outbox(), "sms").len() == 1 && outbox_files(&app.outbox(), "print").len() == 1
    })
    .await;
    assert!(delivered_all, "the SMS notice and the paper letter went out");
    let sms = std::fs::read_to_string(app.outbox().join("sms").join(&outbox_files(&app.outbox(), "sms")[0])).unwrap();
    assert!(sms.contains("Din frist er forlænget til 9. december 2026."), "{sms}");
    let pdf = app.outbox().join("print").join(&outbox_files(&app.outbox(), "print")[0]);
    let text = std::process::Command::new("pdftotext").arg(&pdf).arg("-").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Din frist er forlænget") && text.contains("9. december 2026"), "{text}");

    // the citizen comes to the counter: evidence stops the ladder and resolves the alert
    let evidence = app
        .client
        .post(format!("{}/v1/letters/{first_id}/evidence", app.base))
        .bearer_auth(&key)
        .json(&json!({ "type": "reacted", "via": "counter" }))
        .send()
        .await
        .unwrap();
    assert_eq!(evidence.status(), 200);
    assert!(app.get_json(&key, "/v1/alerts").await.as_array().unwrap().is_empty());
    clock.advance(Duration::from_secs(3 * 3600));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after = kinds(&app.get_json(&key, &format!("/v1/letters/{first_id}")).await);
    assert_eq!(after.iter().filter(|k| *k == "escalated").count(), 1, "nothing escalates after evidence: {after:?}");
    assert!(after.contains(&"alert_resolved".to_owned()));

    // a second letter nobody reacts to climbs the whole ladder
    let second: Value = app.post_letter(&key, &body).await.json().await.unwrap();
    let second_id = second["id"].as_str().unwrap().to_owned();
    app.wait_for_status(&key, &second_id, "delivered").await;
    for step in 1..=3 {
        clock.advance(Duration::from_secs(3601));
        wait_for_kind(&app, &key, &second_id, "escalated", step).await;
    }
    let letter = app.get_json(&key, &format!("/v1/letters/{second_id}")).await;
    let raised: Vec<String> = letter["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "alert_raised")
        .map(|e| e["data"]["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        raised,
        ["unopened", "offer_exemption", "unreachable"],
        "the second escalated letter suggests exemption"
    );
    let deliveries: Vec<&str> =
        letter["deliveries"].as_array().unwrap().iter().map(|d| d["channel"].as_str().unwrap()).collect();
    assert_eq!(deliveries, ["digital_post", "sms", "print", "phone"]);
    assert_eq!(
        app.get_json(&key, "/v1/callbacks").await.as_array().unwrap().len(),
        1,
        "the phone rung is a callback task"
    );
    let extensions = kinds(&letter).iter().filter(|k| *k == "deadline_extended").count();
    assert_eq!(extensions, 1, "the phone rung's 5 days do not beat the 10 already given");

    // a caseworker closes the exemption alert with a note
    let alerts = app.get_json(&key, "/v1/alerts").await;
    let offer = alerts.as_array().unwrap().iter().find(|a| a["kind"] == "offer_exemption").unwrap().clone();
    let closed = app
        .client
        .post(format!("{}/v1/alerts/{}/close", app.base, offer["id"].as_str().unwrap()))
        .bearer_auth(&key)
        .json(&json!({ "note": "Tilbudt fritagelse ved telefonopkald" }))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), 200);
    assert_eq!(closed.json::<Value>().await.unwrap()["status"], "closed");
    app.finish().await;
}

async fn an_authority_sets_its_own_ladder_per_category(backend: Backend) {
    let clock = Arc::new(ManualClock::new("2026-11-25T09:00:00Z".parse().unwrap()));
    let app = TestApp::start_with_clock(&backend, clock.clone(), |_| {}).await;
    let (_, key) = app.authority("Kolding Kommune").await;
    let (_, other) = app.authority("Fredericia Kommune").await;
    let profile = json!({ "cpr": "0101901234", "phone": "+45 12 34 56 78" });
    app.client.put(format!("{}/v1/citizens/profile", app.base)).bearer_auth(&key).json(&profile).send().await.unwrap();

    let put = |key: &str, path: &str, body: Value| {
        let request = app.client.put(format!("{}{path}", app.base)).bearer_auth(key).json(&body);
        async move { request.send().await.unwrap() }
    };
    let ladder = json!({ "escalations": [{ "after": "1h", "channels": ["sms"], "extend_by_business_days": 3 }] });
    let bad = put(
        &key,
        "/v1/policies/important?category=Bolig!",
        json!({ "escalations": [{ "after": "soon", "channels": [] }] }),
    )
    .await;
    assert_eq!(error_locations(&expect_problem(bad, 422).await), ["/escalations/0/after"]);
    let bad = put(&key, "/v1/policies/important?category=Bolig!", ladder.clone()).await;
    assert_eq!(error_locations(&expect_problem(bad, 422).await), ["category"]);
    assert_eq!(put(&key, "/v1/policies/important?category=housing", ladder.clone()).await.status(), 200);
    let listed = app.get_json(&key, "/v1/policies").await;
    assert_eq!(listed[0]["category"], "housing");
    assert!(app.get_json(&other, "/v1/policies").await.as_array().unwrap().is_empty(), "policies are per authority");

    // the authority closes on Friday 27 November: deadlines skip it
    let closing = app
        .client
        .put(format!("{}/v1/settings/closing-days", app.base))
        .bearer_auth(&key)
        .json(&json!({ "closing_days": ["2026-11-27"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(closing.status(), 200);
    assert_eq!(app.get_json(&key, "/v1/settings").await["closing_days"][0], "2026-11-27");

    let mut housing = letter("0101901234");
    housing["category"] = json!("housing");
    housing["respond_by"] = json!("2026-11-26");
    let housing: Value = app.post_letter(&key, &housing).await.json().await.unwrap();
    let plain: Value = app.post_letter(&key, &letter("0101901234")).await.json().await.unwrap();
    let (housing_id, plain_id) = (housing["id"].as_str().unwrap().to_owned(), plain["id"].as_str().unwrap().to_owned());
    app.wait_for_status(&key, &housing_id, "delivered").await;
    app.wait_for_status(&key, &plain_id, "delivered").await;

    clock.advance(Duration::from_secs(3601));
    let escalated = wait_for_kind(&app, &key, &housing_id, "escalated", 1).await;
    assert_eq!(escalated["category"], "housing");
    assert_eq!(
        escalated["deadline"], "2026-12-01",
        "3 business days after Wednesday 25 November, skipping the authority's closed Friday"
    );
    let channels: Vec<&str> =
        escalated["deliveries"].as_array().unwrap().iter().map(|d| d["channel"].as_str().unwrap()).collect();
    assert_eq!(channels, ["digital_post", "sms"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let untouched = kinds(&app.get_json(&key, &format!("/v1/letters/{plain_id}")).await);
    assert!(
        !untouched.contains(&"escalated".to_owned()),
        "the installation's 5 business days still apply: {untouched:?}"
    );
    app.finish().await;
}

async fn helpers_hear_of_an_unread_letter_as_granted(backend: Backend) {
    let clock = Arc::new(ManualClock::new("2026-11-25T09:00:00Z".parse().unwrap()));
    let app = TestApp::start_with_clock(&backend, clock.clone(), |s| s.policies.important = fast_ladder()).await;
    let (_, key) = app.authority("Nyborg Kommune").await;
    let put = |body: Value| {
        let request = app.client.put(format!("{}/v1/citizens/profile", app.base)).bearer_auth(&key).json(&body);
        async move { request.send().await.unwrap() }
    };
    let no_consent = json!({ "cpr": "0101901234", "helpers": [{ "name": "Mette", "phone": "+4587654321", "receives": "notice", "consent": false }] });
    assert_eq!(error_locations(&expect_problem(put(no_consent).await, 422).await), ["/helpers/0/consent"]);
    let unreachable =
        json!({ "cpr": "0101901234", "helpers": [{ "name": "Mette", "receives": "copy", "consent": true }] });
    assert_eq!(error_locations(&expect_problem(put(unreachable).await, 422).await), ["/helpers/0/receives"]);
    let profile = json!({
        "cpr": "0101901234", "name": "Jens Jensen", "phone": "+45 12 34 56 78",
        "address": { "street": "Vestergade", "house_number": "1", "postcode": "5800", "town": "Nyborg" },
        "helpers": [
            { "name": "Mette Jensen", "phone": "+45 87 65 43 21", "receives": "notice", "consent": true },
            { "name": "Ole Hansen", "address": { "street": "Kongegade", "house_number": "9", "postcode": "5000", "town": "Odense C" },
              "receives": "copy", "consent": true }
        ]
    });
    let stored: Value = put(profile).await.json().await.unwrap();
    assert_eq!(stored["helpers"].as_array().unwrap().len(), 2);

    let created: Value = app.post_letter(&key, &letter("0101901234")).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    app.wait_for_status(&key, &id, "delivered").await;
    assert!(outbox_files(&app.outbox(), "sms").is_empty(), "helpers hear nothing while the letter may still be read");
    clock.advance(Duration::from_secs(3601));
    let escalated = wait_for_kind(&app, &key, &id, "escalated", 1).await;
    let deliveries: Vec<(&str, &str)> = escalated["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["channel"].as_str().unwrap(), d["purpose"].as_str().unwrap()))
        .collect();
    assert_eq!(
        deliveries,
        [("digital_post", "letter"), ("sms", "notice"), ("print", "letter"), ("sms", "helper"), ("print", "helper")]
    );

    let all_out = eventually(Duration::from_secs(10), || async {
        outbox_files(&app.outbox(), "sms").len() == 2 && outbox_files(&app.outbox(), "print").len() == 2
    })
    .await;
    assert!(all_out, "notices and copies went out");
    let texts: Vec<String> = outbox_files(&app.outbox(), "sms")
        .iter()
        .map(|f| std::fs::read_to_string(app.outbox().join("sms").join(f)).unwrap())
        .collect();
    let to_helper = texts.iter().find(|t| t.starts_with("To: +4587654321")).expect("an SMS to the helper");
    assert!(to_helper.contains("Jens Jensen har fået et vigtigt brev fra Nyborg Kommune"), "{to_helper}");
    assert!(!to_helper.contains("boligstøtte"), "a notice to a helper never carries the letter: {to_helper}");
    let copies: Vec<String> = outbox_files(&app.outbox(), "print")
        .iter()
        .map(|f| {
            let out = std::process::Command::new("pdftotext")
                .arg(app.outbox().join("print").join(f))
                .arg("-")
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
        .collect();
    assert!(
        copies.iter().any(|t| t.contains("Ole Hansen") && t.contains("5000 Odense C")),
        "the copy goes to the helper's address"
    );
    assert!(
        copies.iter().any(|t| t.contains("Jens Jensen") && t.contains("5800 Nyborg")),
        "and the letter to the citizen's"
    );
    app.finish().await;
}
