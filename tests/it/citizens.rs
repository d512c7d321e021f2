//! Contact profiles registered by an authority on a citizen's behalf, and routing by them.

use crate::harness::*;
use serde_json::{Value, json};

on_both_backends!(a_profile_routes_letters_and_every_read_is_logged, bad_profiles_are_refused_field_by_field);

async fn a_profile_routes_letters_and_every_read_is_logged(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key_a) = app.authority("Aarhus Kommune").await;
    let (_, key_b) = app.authority("Udbetaling Danmark").await;
    let profile = json!({
        "cpr": "150245-4321",
        "name": "Karen Nielsen",
        "address": { "street": "Vestergade", "house_number": "12", "floor": "2", "door": "th", "postcode": "8000", "town": "Aarhus C" },
        "phone": "+45 12 34 56 78",
        "language": "da",
        "needs": { "large_print": true },
        "notice_channels": ["sms"],
        "exempt_from_digital_post": true
    });
    let put = app
        .client
        .put(format!("{}/v1/citizens/profile", app.base))
        .bearer_auth(&key_a)
        .json(&profile)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let stored: Value = put.json().await.unwrap();
    assert_eq!(stored["exempt_from_digital_post"], true);
    assert_eq!(stored["needs"]["large_print"], true);
    assert_eq!(stored["updated_by"], "Aarhus Kommune", "the citizen sees who registered it");
    assert!(!stored.to_string().contains("1502454321"), "the CPR number is not sent back");
    let citizen_id = stored["citizen_id"].as_str().unwrap().to_owned();

    // another authority finds the same citizen by CPR (in a body, not a URL) and reads the profile
    let lookup = app
        .client
        .post(format!("{}/v1/citizens/lookup", app.base))
        .bearer_auth(&key_b)
        .json(&json!({ "cpr": "1502454321" }))
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.json::<Value>().await.unwrap()["citizen_id"], citizen_id.as_str());
    let read = app.get_json(&key_b, &format!("/v1/citizens/{citizen_id}/profile")).await;
    assert_eq!(read["name"], "Karen Nielsen");

    // the exemption holds for every authority: B's letter goes to paper at the registered
    // address, with an SMS notice beside it
    let mut body = letter("1502454321");
    body["recipient"] = json!({ "cpr": "1502454321" });
    let created: Value = app.post_letter(&key_b, &body).await.json().await.unwrap();
    let deliveries = created["deliveries"].as_array().unwrap();
    let channels: Vec<(&str, &str)> =
        deliveries.iter().map(|d| (d["channel"].as_str().unwrap(), d["purpose"].as_str().unwrap())).collect();
    assert_eq!(channels, [("print", "letter"), ("sms", "notice")]);
    assert_eq!(created["recipient"]["address"]["postcode"], "8000");
    assert_eq!(created["recipient"]["name"], "Karen Nielsen");
    let id = created["id"].as_str().unwrap();
    app.wait_for_status(&key_b, id, "delivered").await;
    // the letter is delivered with its paper letter; the SMS notice may still be on its way
    let path = format!("/v1/letters/{id}");
    let all_delivered = eventually(std::time::Duration::from_secs(20), || async {
        let letter = app.get_json(&key_b, &path).await;
        letter["deliveries"].as_array().unwrap().iter().all(|d| d["status"] == "delivered")
    })
    .await;
    assert!(all_delivered, "{:#}", app.get_json(&key_b, &path).await);
    assert!(outbox_files(&app.outbox(), "digital_post").is_empty(), "never to Digital Post");

    let log = app.store.access_log(citizen_id.parse().unwrap()).await.unwrap();
    let entries: Vec<(String, String)> = log.iter().map(|e| (e.actor_name.clone(), e.action.clone())).collect();
    assert_eq!(
        entries[..3],
        [
            ("Aarhus Kommune".to_owned(), "update_profile".to_owned()),
            ("Udbetaling Danmark".to_owned(), "read_profile".to_owned()),
            ("Udbetaling Danmark".to_owned(), "read_letter".to_owned()),
        ]
    );
    assert!(
        log.iter()
            .filter(|e| e.action == "read_letter")
            .all(|e| e.letter_id.map(|l| l.to_string()) == Some(id.to_owned()))
    );

    let unknown = app
        .client
        .post(format!("{}/v1/citizens/lookup", app.base))
        .bearer_auth(&key_a)
        .json(&json!({ "cpr": "0101901234" }))
        .send()
        .await
        .unwrap();
    expect_problem(unknown, 404).await;
    expect_problem(app.get(&key_a, &format!("/v1/citizens/{}/profile", uuid::Uuid::now_v7())).await, 404).await;
    app.finish().await;
}

async fn bad_profiles_are_refused_field_by_field(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Vejle Kommune").await;
    let bad = json!({
        "cpr": "3213901234",
        "phone": "12",
        "email": "nope",
        "language": "Dansk",
        "preferred_channel": "sms",
        "notice_channels": ["email", "print"],
        "address": { "street": "Vestergade", "house_number": "1", "postcode": "800", "town": "Vejle" }
    });
    let response =
        app.client.put(format!("{}/v1/citizens/profile", app.base)).bearer_auth(&key).json(&bad).send().await.unwrap();
    let problem = expect_problem(response, 422).await;
    assert_eq!(
        error_locations(&problem),
        ["/cpr", "/address/postcode", "/phone", "/email", "/language", "/preferred_channel", "/notice_channels/1"]
    );
    let lookup = app
        .client
        .post(format!("{}/v1/citizens/lookup", app.base))
        .bearer_auth(&key)
        .json(&json!({ "cpr": "12" }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_locations(&expect_problem(lookup, 422).await), ["/cpr"]);
    app.finish().await;
}
