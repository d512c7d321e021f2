//! Bad input gets a problem+json answer that names each bad field, and changes nothing.

use crate::harness::*;
use serde_json::{Value, json};

on_both_backends!(
    invalid_fields_are_all_named_and_nothing_is_stored,
    malformed_json_wrong_type_and_wrong_media_type,
    size_limits_answer_413,
    missing_or_unknown_api_keys_answer_401,
    a_flood_is_rate_limited_with_retry_after,
    operations_endpoints_and_documentation,
);

async fn nothing_stored(app: &TestApp, key: &str) {
    let list = app.get_json(key, "/v1/letters").await;
    assert!(list["letters"].as_array().unwrap().is_empty(), "a refused letter must not be stored: {list}");
    assert!(app.get_json(key, "/v1/events").await["events"].as_array().unwrap().is_empty());
}

async fn invalid_fields_are_all_named_and_nothing_is_stored(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Randers Kommune").await;
    let mut body = letter("3213901234");
    body["subject"] = json!("   ");
    body["respond_by"] = json!("2001-01-01");
    body["contact"]["email"] = json!("not-an-address");
    body["recipient"]["address"] =
        json!({ "street": "Vestergade", "house_number": "1", "postcode": "80000", "town": "Aarhus" });
    body["documents"] = json!([{ "filename": "../../etc/passwd.pdf", "content": pdf_base64() }, { "filename": "x.pdf", "content": "bm90IGEgcGRm" }]);
    let problem = expect_problem(app.post_letter(&key, &body).await, 422).await;
    assert_eq!(
        error_locations(&problem),
        [
            "/recipient/cpr",
            "/recipient/address/postcode",
            "/subject",
            "/respond_by",
            "/contact/email",
            "/documents/0/filename",
            "/documents/1/content"
        ]
    );
    for e in problem["errors"].as_array().unwrap() {
        assert!(e["detail"].as_str().is_some_and(|d| d.len() > 5), "every error explains itself: {e}");
    }

    let mut bad_date = letter("0101901234");
    bad_date["respond_by"] = json!("31-12-2099");
    let problem = expect_problem(app.post_letter(&key, &bad_date).await, 422).await;
    assert_eq!(error_locations(&problem), ["/respond_by"]);

    let mut empty = letter("0101901234");
    empty["body"] = json!("");
    let problem = expect_problem(app.post_letter(&key, &empty).await, 422).await;
    assert_eq!(error_locations(&problem), ["/body"]);

    nothing_stored(&app, &key).await;
    app.finish().await;
}

async fn malformed_json_wrong_type_and_wrong_media_type(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Horsens Kommune").await;
    let url = format!("{}/v1/letters", app.base);
    let send = |content_type: &'static str, body: &'static str| {
        let request = app.client.post(&url).bearer_auth(&key).header("content-type", content_type).body(body);
        async move { request.send().await.unwrap() }
    };

    let problem = expect_problem(send("application/json", "{\"subject\": ").await, 400).await;
    assert!(problem["detail"].as_str().unwrap().contains("JSON"));
    expect_problem(send("text/plain", "{}").await, 415).await;

    let wrong_type = expect_problem(
        send("application/json", r#"{"recipient":{"cpr":101901234},"subject":"x","body":"y"}"#).await,
        422,
    )
    .await;
    assert_eq!(error_locations(&wrong_type), ["/recipient/cpr"]);
    let missing =
        expect_problem(send("application/json", r#"{"recipient":{"cpr":"0101901234"},"body":"y"}"#).await, 422).await;
    assert_eq!(error_locations(&missing), ["/subject"]);
    let unknown = expect_problem(
        send(
            "application/json",
            r#"{"recipient":{"cpr":"0101901234"},"subject":"x","body":"y","importnace":"important"}"#,
        )
        .await,
        422,
    )
    .await;
    assert_eq!(error_locations(&unknown), ["/importnace"]);
    let bad_enum = expect_problem(
        send(
            "application/json",
            r#"{"recipient":{"cpr":"0101901234"},"subject":"x","body":"y","importance":"urgent"}"#,
        )
        .await,
        422,
    )
    .await;
    assert_eq!(error_locations(&bad_enum), ["/importance"]);
    let bad_bulk = expect_problem(
        send("application/json", r#"{"recipient":{"cpr":"0101901234"},"subject":"x","body":"y","bulk":"yes"}"#).await,
        422,
    )
    .await;
    assert_eq!(error_locations(&bad_bulk), ["/bulk"]);
    nothing_stored(&app, &key).await;
    app.finish().await;
}

async fn size_limits_answer_413(backend: Backend) {
    let app = TestApp::start_with(&backend, |s| {
        s.api.max_request_bytes = 64 * 1024;
        s.api.letters.max_documents = 2;
        s.api.letters.max_document_bytes = 1024;
    })
    .await;
    let (_, key) = app.authority("Kolding Kommune").await;

    let mut too_many = letter("0101901234");
    let doc = json!({ "filename": "a.pdf", "content": pdf_base64() });
    too_many["documents"] = json!([doc, doc, doc]);
    let problem = expect_problem(app.post_letter(&key, &too_many).await, 413).await;
    assert_eq!(error_locations(&problem), ["/documents"]);

    use base64::Engine as _;
    let mut big_pdf = b"%PDF-1.7\n".to_vec();
    big_pdf.resize(4096, b'x');
    let mut too_big = letter("0101901234");
    too_big["documents"] =
        json!([{ "filename": "big.pdf", "content": base64::engine::general_purpose::STANDARD.encode(&big_pdf) }]);
    let problem = expect_problem(app.post_letter(&key, &too_big).await, 413).await;
    assert_eq!(error_locations(&problem), ["/documents/0/content"]);

    let mut huge = letter("0101901234");
    huge["body"] = json!("x".repeat(100 * 1024));
    let problem = expect_problem(app.post_letter(&key, &huge).await, 413).await;
    assert!(problem["detail"].as_str().unwrap().contains("65536"), "{problem}");
    nothing_stored(&app, &key).await;
    app.finish().await;
}

async fn missing_or_unknown_api_keys_answer_401(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Aalborg Kommune").await;
    let url = format!("{}/v1/letters", app.base);

    let none = app.client.post(&url).json(&letter("0101901234")).send().await.unwrap();
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    expect_problem(none, 401).await;
    let wrong = app.client.get(&url).bearer_auth(format!("{key}x")).send().await.unwrap();
    expect_problem(wrong, 401).await;
    let basic = app.client.get(&url).header("authorization", "Basic Zm9vOmJhcg==").send().await.unwrap();
    expect_problem(basic, 401).await;
    for path in ["/v1/events", "/v1/webhooks", "/v1/letters/00000000-0000-0000-0000-000000000000"] {
        let response = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        expect_problem(response, 401).await;
    }
    nothing_stored(&app, &key).await;
    app.finish().await;
}

async fn a_flood_is_rate_limited_with_retry_after(backend: Backend) {
    let app = TestApp::start_with(&backend, |s| {
        s.api.rate_limit_per_second = 1.0;
        s.api.rate_limit_burst = 3.0;
    })
    .await;
    let (_, key) = app.authority("Esbjerg Kommune").await;
    let (_, other) = app.authority("Fanø Kommune").await;
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..6 {
        let response = app.get(&key, "/v1/letters").await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 && limited.is_none() {
            limited = Some(response);
        }
    }
    assert_eq!(&statuses[..3], [200, 200, 200]);
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    let limited = limited.unwrap();
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after));
    expect_problem(limited, 429).await;
    // each authority has its own budget
    assert_eq!(app.get(&other, "/v1/letters").await.status(), 200);
    app.finish().await;
}

async fn operations_endpoints_and_documentation(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Skive Kommune").await;
    let get = |path: &str| app.client.get(format!("{}{path}", app.base)).send();

    let health: Value = get("/healthz").await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let ready = get("/readyz").await.unwrap();
    assert_eq!(ready.status(), 200);

    app.post_letter(&key, &letter("0101901234")).await;
    let metrics = get("/metrics").await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(metrics.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = metrics.text().await.unwrap();
    assert!(text.contains("budbringer_letters_accepted_total 1"), "{text}");
    assert!(text.contains("budbringer_jobs_due"));

    let spec: Value = get("/openapi.json").await.unwrap().json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    assert!(spec["paths"]["/v1/letters"]["post"]["requestBody"].is_object());

    let docs = get("/docs").await.unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(html.contains("/docs/style.css") && html.contains("POST /v1/letters"));
    // every asset the page loads comes from the gateway itself
    for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!html.contains(attr), "external asset in /docs: {attr}");
    }
    let css = get("/docs/style.css").await.unwrap();
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));

    expect_problem(get("/v2/nothing").await.unwrap(), 404).await;
    let wrong_method = app.client.delete(format!("{}/v1/letters", app.base)).bearer_auth(&key).send().await.unwrap();
    expect_problem(wrong_method, 405).await;

    // problem texts follow Accept-Language (Danish by default)
    let danish = expect_problem(get("/v2/nothing").await.unwrap(), 404).await;
    assert_eq!(danish["title"], "Findes ikke");
    let english = app
        .client
        .get(format!("{}/v2/nothing", app.base))
        .header("accept-language", "en-GB,en;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(english.headers()["content-language"], "en");
    assert_eq!(expect_problem(english, 404).await["title"], "Not found");
    app.finish().await;
}

/// The database disappears under a running gateway: 503 + Retry-After, nothing accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_answers_503_with_retry_after() {
    let Some(backend) = Backend::postgres() else { return };
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Ærø Kommune").await;
    assert_eq!(app.post_letter(&key, &letter("0101901234")).await.status(), 201);
    app.db.drop_database().await; // terminates every connection and removes the database

    let readiness = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert!(readiness.headers().contains_key("retry-after"));
    expect_problem(readiness, 503).await;
    let refused = app.post_letter(&key, &letter("0101901234")).await;
    // the API key cannot even be checked: the answer is 503, never 201 or 500
    assert_eq!(refused.headers()["retry-after"], "5");
    expect_problem(refused, 503).await;
}
