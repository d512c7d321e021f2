//! Hostile and malformed input over HTTP: generated letters (valid-ish structures with hostile
//! values, wrong types, duplicate keys, deep nesting) and generated calls to the inbound
//! endpoints (forged tokens, signatures and secrets). Never a 5xx, every refusal is a
//! problem+json answer, and a refused request leaves nothing behind.
//!
//! One app per backend serves every case (so the file stays fast); `PROPTEST_CASES=500` runs
//! more cases than the default 64.

use crate::harness::*;
use base64::Engine as _;
use budbringer::domain::ChannelKind;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::{Value, json};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
}

fn runner() -> TestRunner {
    TestRunner::new(Config { cases: cases(), failure_persistence: None, max_shrink_iters: 256, ..Config::default() })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

const MAX_DOCUMENT_BYTES: usize = 2048;

fn small_limits(s: &mut budbringer::config::Settings) {
    s.api.letters.max_document_bytes = MAX_DOCUMENT_BYTES;
}

// ---------------------------------------------------------------------------------------------
// Letters

/// A hostile JSON value for a field that wants a string.
fn hostile_value() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        Just("x".repeat(5000)),
        Just("\u{0}".to_owned()),
        Just("a\u{0}b".to_owned()),
        Just("\u{202E}fdp.exe".to_owned()),
        Just("\u{1b}[31m".to_owned()),
        Just("\r\n\t".to_owned()),
        Just("  ".to_owned()),
        Just(String::new()),
        Just("٠١٠١٩٠١٢٣٤".to_owned()),
        Just("０１０１９０１２３４".to_owned()),
        Just("0101901234".to_owned()),
        Just("010190-1234".to_owned()),
        Just("💌".repeat(300)),
        Just("'; DROP TABLE letters; --".to_owned()),
        Just("<script>alert(1)</script>".to_owned()),
        Just("\u{FEFF}\u{200B}".to_owned()),
        Just("2099-12-31".to_owned()),
        Just("99999-01-01".to_owned()),
        Just("12".to_owned()),
        any::<String>(),
    ];
    prop_oneof![
        6 => text.prop_map(Value::String),
        1 => any::<i64>().prop_map(|n| json!(n)),
        1 => any::<f64>().prop_filter("JSON has no NaN", |f| f.is_finite()).prop_map(|f| json!(f)),
        1 => Just(json!(1e308)),
        1 => Just(json!(u64::MAX)),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        1 => Just(json!([])),
        1 => Just(json!({})),
        1 => Just(json!(["0101901234"])),
        1 => Just(json!({ "cpr": "0101901234" })),
    ]
}

/// Where a hostile value may go (a JSON pointer into the letter).
const FIELDS: &[&str] = &[
    "/recipient/cpr",
    "/recipient/name",
    "/recipient/address",
    "/recipient/address/street",
    "/recipient/address/postcode",
    "/recipient/address/country",
    "/recipient/address/floor",
    "/recipient",
    "/subject",
    "/body",
    "/importance",
    "/respond_by",
    "/reference",
    "/category",
    "/contact",
    "/contact/phone",
    "/contact/email",
    "/contact/unit",
    "/contact/hours",
    "/documents",
    "/documents/0",
    "/documents/0/filename",
    "/documents/0/content",
    "/unknown",
    "/recipient/unknown",
];

#[derive(Debug, Clone)]
enum Document {
    None,
    Pdf,
    NotPdf,
    Encrypted,
    TooLarge,
    BadBase64,
}

#[derive(Debug, Clone)]
enum Body {
    /// The base letter with values replaced.
    Mutated { document: Document, changes: Vec<(&'static str, Value)> },
    /// Text that is not (quite) a JSON letter.
    Raw(String),
}

fn raw_body() -> impl Strategy<Value = String> {
    let base = letter("0101901234").to_string();
    prop_oneof![
        // duplicate keys: the last one counts, and it is validated like any other
        Just(r#"{"recipient":{"cpr":"0101901234","cpr":"x"},"subject":"a","subject":"\u0000","body":"b"}"#.to_owned()),
        Just(r#"{"recipient":{"cpr":"0101901234"},"subject":"a","body":"b","body":null}"#.to_owned()),
        // deep nesting, beyond any parser's patience
        (50usize..3000).prop_map(|depth| format!(
            r#"{{"recipient":{{"cpr":"0101901234"}},"subject":"a","body":{}1{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        )),
        (50usize..3000).prop_map(|depth| format!("{}{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))),
        // numbers as strings and strings as numbers
        Just(r#"{"recipient":{"cpr":101901234},"subject":"a","body":"b","importance":"1"}"#.to_owned()),
        // not JSON, or a JSON that is not an object
        Just(String::new()),
        Just("null".to_owned()),
        Just("[]".to_owned()),
        Just("\"letter\"".to_owned()),
        Just("{\"subject\": \"a\u{0}\"}".to_owned()),
        Just(r#"{"subject":"\ud800"}"#.to_owned()),
        any::<String>(),
        // a good letter cut off
        (0usize..200).prop_map(move |cut| base.chars().take(cut).collect()),
    ]
}

fn body() -> impl Strategy<Value = Body> {
    let document = prop_oneof![
        4 => Just(Document::None),
        1 => Just(Document::Pdf),
        1 => Just(Document::NotPdf),
        1 => Just(Document::Encrypted),
        1 => Just(Document::TooLarge),
        1 => Just(Document::BadBase64),
    ];
    prop_oneof![
        4 => (document, prop::collection::vec((prop::sample::select(FIELDS), hostile_value()), 0..4))
            .prop_map(|(document, changes)| Body::Mutated { document, changes }),
        1 => raw_body().prop_map(Body::Raw),
    ]
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A minimal PDF whose trailer names an encryption dictionary (RC4, 40 bit, as PDF 1.1 had it).
fn encrypted_pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n\
3 0 obj<</Filter/Standard/V 1/R 2/O(0123456789abcdef0123456789abcdef)/U(0123456789abcdef0123456789abcdef)/P -44>>endobj\n\
trailer<</Root 1 0 R/Encrypt 3 0 R/ID[<00112233445566778899aabbccddeeff><00112233445566778899aabbccddeeff>]>>\n%%EOF\n"
        .to_vec()
}

fn document_json(document: &Document) -> Option<Value> {
    let content = match document {
        Document::None => return None,
        Document::Pdf => pdf_base64(),
        Document::NotPdf => b64(b"GIF89a not a pdf"),
        Document::Encrypted => b64(&encrypted_pdf()),
        Document::TooLarge => {
            let mut pdf = b"%PDF-1.4\n".to_vec();
            pdf.resize(MAX_DOCUMENT_BYTES + 1, b' ');
            b64(&pdf)
        }
        Document::BadBase64 => "%%%not base64%%%".to_owned(),
    };
    Some(json!({ "filename": "afgoerelse.pdf", "content": content }))
}

/// Put `value` at `pointer`, making the parents it needs (a `0` makes an array).
fn set(target: &mut Value, pointer: &str, value: Value) {
    let mut here = target;
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i == parts.len() - 1;
        let next = if last {
            value.clone()
        } else if parts[i + 1] == "0" {
            json!([{}])
        } else {
            json!({})
        };
        match here {
            Value::Object(map) => {
                let slot = map.entry(*part).or_insert(Value::Null);
                if last || !(slot.is_object() || slot.is_array()) {
                    *slot = next;
                }
                here = slot;
            }
            Value::Array(items) => {
                if items.is_empty() {
                    items.push(Value::Null);
                }
                if last || !(items[0].is_object() || items[0].is_array()) {
                    items[0] = next;
                }
                here = &mut items[0];
            }
            _ => return,
        }
    }
}

fn render(body: &Body) -> Vec<u8> {
    match body {
        Body::Raw(text) => text.clone().into_bytes(),
        Body::Mutated { document, changes } => {
            let mut letter = letter("0101901234");
            letter["recipient"]["address"] =
                json!({ "street": "Vestergade", "house_number": "1", "postcode": "8000", "town": "Aarhus C" });
            if let Some(document) = document_json(document) {
                letter["documents"] = json!([document]);
            }
            for (pointer, value) in changes {
                set(&mut letter, pointer, value.clone());
            }
            serde_json::to_vec(&letter).expect("JSON")
        }
    }
}

async fn letter_count(app: &TestApp, key: &str) -> usize {
    let page = app.get_json(key, "/v1/letters?limit=500").await;
    page["letters"].as_array().map(Vec::len).unwrap_or_default()
}

/// A 4xx answer is problem+json; a 422 names the fields, a 413 names them or the limit.
async fn check_refusal(response: reqwest::Response) -> Result<(u16, Value), TestCaseError> {
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let text = response.text().await.map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(status < 500, "{status}: {text}");
    if status < 400 {
        return Ok((status, Value::Null));
    }
    prop_assert_eq!(content_type.as_str(), "application/problem+json", "{}: {}", status, text);
    let problem: Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
    prop_assert_eq!(&problem["status"], &json!(status));
    if status == 422 {
        let locations = error_locations(&problem);
        // an Idempotency-Key reused for another body is about the request, not one field
        let conflict = problem["type"] == "/docs#problem-conflict";
        prop_assert!(conflict || !locations.is_empty(), "422 without field errors: {problem}");
        prop_assert!(
            locations.iter().all(|l| l.starts_with('/') || !l.is_empty()),
            "field errors without a location: {problem}"
        );
    }
    if status == 413 {
        prop_assert!(
            !error_locations(&problem).is_empty() || problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{problem}"
        );
    }
    Ok((status, problem))
}

fn hostile_letters_are_refused_cleanly(backend: Backend) {
    let rt = runtime();
    let (app, key) = rt.block_on(async {
        let app = TestApp::start_with(&backend, small_limits).await;
        let (_, key) = app.authority("Hostile Kommune").await;
        (app, key)
    });
    let count = std::cell::Cell::new(rt.block_on(letter_count(&app, &key)));
    let strategy = (body(), prop::option::of(prop_oneof![Just("ok-key".to_owned()), Just("\u{7f}bad".to_owned())]));
    let result = runner().run(&strategy, |(body, idempotency)| {
        rt.block_on(async {
            let mut request = app
                .client
                .post(format!("{}/v1/letters", app.base))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(render(&body));
            if let Some(idempotency) = &idempotency {
                // a header value reqwest refuses to send is no test of the server
                if let Ok(value) = reqwest::header::HeaderValue::from_str(idempotency) {
                    request = request.header("idempotency-key", value);
                }
            }
            let response = request.send().await.map_err(|e| TestCaseError::fail(e.to_string()))?;
            let (status, _) = check_refusal(response).await?;
            let now = letter_count(&app, &key).await;
            // a refused letter leaves nothing; an accepted one (or an idempotent replay) is one letter
            let was = count.replace(now);
            match status {
                201 => prop_assert!(now == was + 1 || now == was, "{} letters, was {}", now, was),
                _ => prop_assert_eq!(now, was, "a refused letter ({}) was stored", status),
            }
            Ok(())
        })
    });
    rt.block_on(app.finish());
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, case)) => panic!("{reason}\n\nminimal failing case: {case:#?}"),
        Err(TestError::Abort(reason)) => panic!("property aborted: {reason}"),
    }
}

mod hostile_letters {
    #[test]
    fn sqlite() {
        super::hostile_letters_are_refused_cleanly(crate::harness::Backend::Sqlite);
    }

    #[test]
    fn postgres() {
        if let Some(backend) = crate::harness::Backend::postgres() {
            super::hostile_letters_are_refused_cleanly(backend);
        }
    }
}

on_both_backends!(documents_that_cannot_be_printed_are_refused, text_that_cannot_be_stored_is_refused);

async fn documents_that_cannot_be_printed_are_refused(backend: Backend) {
    let app = TestApp::start_with(&backend, small_limits).await;
    let (_, key) = app.authority("Hostile Kommune").await;
    let with_document = |content: String| {
        let mut letter = letter("0101901234");
        letter["documents"] = json!([{ "filename": "bilag.pdf", "content": pdf_base64() },
                                     { "filename": "afgoerelse.pdf", "content": content }]);
        letter
    };

    // not a PDF
    let problem = expect_problem(app.post_letter(&key, &with_document(b64(b"\x89PNG\r\n"))).await, 422).await;
    assert_eq!(error_locations(&problem), ["/documents/1/content"]);

    // an encrypted PDF can be neither printed nor appended
    let problem = expect_problem(app.post_letter(&key, &with_document(b64(&encrypted_pdf()))).await, 422).await;
    assert_eq!(error_locations(&problem), ["/documents/1/content"]);
    assert!(problem["errors"][0]["detail"].as_str().is_some_and(|d| d.contains("krypteret")), "{problem}");
    let english = app
        .client
        .post(format!("{}/v1/letters", app.base))
        .bearer_auth(&key)
        .header("accept-language", "en")
        .json(&with_document(b64(&encrypted_pdf())))
        .send()
        .await
        .expect("POST");
    let problem = expect_problem(english, 422).await;
    assert!(problem["errors"][0]["detail"].as_str().is_some_and(|d| d.contains("encrypted")), "{problem}");
    // …while `/EncryptMetadata` alone (an unencrypted file may say it) is no encryption
    let mut plain = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R/EncryptMetadata false>>endobj\n".to_vec();
    plain.extend_from_slice(b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n");
    assert_eq!(app.post_letter(&key, &with_document(b64(&plain))).await.status(), 201);

    // just over the document limit: 413, naming the document
    let mut huge = b"%PDF-1.4\n".to_vec();
    huge.resize(MAX_DOCUMENT_BYTES + 1, b' ');
    let problem = expect_problem(app.post_letter(&key, &with_document(b64(&huge))).await, 413).await;
    assert_eq!(error_locations(&problem), ["/documents/1/content"]);
    huge.truncate(MAX_DOCUMENT_BYTES);
    assert_eq!(app.post_letter(&key, &with_document(b64(&huge))).await.status(), 201, "exactly the limit is fine");

    assert_eq!(letter_count(&app, &key).await, 2, "only the two good letters were stored");
    app.finish().await;
}

/// Values PostgreSQL cannot store (NUL) are refused as field errors, not stored half-way or
/// answered with a 500.
async fn text_that_cannot_be_stored_is_refused(backend: Backend) {
    let app = TestApp::start(&backend).await;
    let (_, key) = app.authority("Hostile Kommune").await;

    let mut bad = letter("0101901234");
    bad["body"] = json!("Hej\u{0}med dig");
    bad["recipient"]["address"] = json!({ "street": "Storgatan", "house_number": "1", "postcode": "11\u{0}22",
                                          "town": "Stockholm", "country": "SE" });
    bad["documents"] = json!([{ "filename": "bilag\u{202E}fdp.exe", "content": pdf_base64() }]);
    let problem = expect_problem(app.post_letter(&key, &bad).await, 422).await;
    let mut locations = error_locations(&problem);
    locations.sort();
    assert_eq!(locations, ["/body", "/documents/0/filename", "/recipient/address/postcode"]);

    // line breaks and tabs are text
    let mut good = letter("0101901234");
    good["body"] = json!("Hej\r\n\n\t- punkt\nmed **fed**");
    let response = app.post_letter(&key, &good).await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.expect("JSON")["id"].as_str().expect("id").to_owned();

    let evidence = |note: &str| {
        app.client
            .post(format!("{}/v1/letters/{id}/evidence", app.base))
            .bearer_auth(&key)
            .json(&json!({ "type": "reacted", "via": "counter", "note": note }))
            .send()
    };
    let problem = expect_problem(evidence("kom\u{0}forbi").await.expect("POST"), 422).await;
    assert_eq!(error_locations(&problem), ["/note"]);
    assert_eq!(evidence("Kom forbi skranken.\nAlt i orden.").await.expect("POST").status(), 200);
    assert_eq!(letter_count(&app, &key).await, 1);
    app.finish().await;
}

// ---------------------------------------------------------------------------------------------
// Inbound endpoints

const MO_TOKEN: &str = "mo-token-for-hostile-tests";
const RECEIPT_SECRET: &str = "receipt-secret-for-hostile-tests";

/// Everything a forged or malformed inbound call could have changed.
async fn fingerprint(app: &TestApp, key: &str, letter: uuid::Uuid) -> Value {
    let view = app.get_json(key, &format!("/v1/letters/{letter}")).await;
    let callbacks = app.get_json(key, "/v1/callbacks").await;
    json!({
        "status": view["status"],
        "deliveries": view["deliveries"].as_array().map(|ds| ds.iter().map(|d| json!([d["status"], d["last_error"]])).collect::<Vec<_>>()),
        "timeline": view["timeline"].as_array().map(Vec::len),
        "callbacks": callbacks.as_array().map(Vec::len),
    })
}

#[derive(Debug, Clone)]
enum Inbound {
    KannelReport { status: String, answer: String, token: Token },
    KannelReply { from: String, text: String, token: Token },
    ProviderReport { query: Vec<(String, String)>, body: String, token: Token },
    Receipt { secret: Token, body: String },
}

/// A token: the right one (for calls that are only malformed), a forged one, or none.
#[derive(Debug, Clone)]
enum Token {
    Right,
    Forged(String),
    Missing,
}

fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        1 => Just(Token::Right),
        3 => prop_oneof![any::<String>(), Just(String::new()), Just("%00".to_owned()), "[a-zA-Z0-9_-]{20,50}"]
            .prop_map(Token::Forged),
        1 => Just(Token::Missing),
    ]
}

fn junk() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just("\u{0}".to_owned()),
        Just("1".to_owned()),
        Just("2".to_owned()),
        Just("16".to_owned()),
        Just("-1".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("NACK/0x00000045/\u{0}".to_owned()),
        Just("stat:UNDELIV\u{0} err:\u{1b}".to_owned()),
        Just("+4512345678".to_owned()),
        Just("OK".to_owned()),
        Just("RING".to_owned()),
        Just("x".repeat(4000)),
    ]
}

fn inbound() -> impl Strategy<Value = Inbound> {
    let receipt_body = prop_oneof![
        junk(),
        (junk(), prop::sample::select(vec!["delivered", "failed", "read", "opened", ""]), junk()).prop_map(
            |(uuid, status, detail)| {
                json!({ "message_uuid": uuid, "status": status, "detail": detail, "error": detail }).to_string()
            }
        ),
        Just(r#"{"message_uuid":"1b4e28ba-2fa1-41d2-883f-0016d3cca427","status":"delivered"}"#.to_owned()),
        Just(r#"{"message_uuid":["x"],"status":{"a":1}}"#.to_owned()),
    ];
    prop_oneof![
        (junk(), junk(), token()).prop_map(|(status, answer, token)| Inbound::KannelReport { status, answer, token }),
        (junk(), junk(), token()).prop_map(|(from, text, token)| Inbound::KannelReply { from, text, token }),
        (prop::collection::vec((junk(), junk()), 0..4), junk(), token())
            .prop_map(|(query, body, token)| Inbound::ProviderReport { query, body, token }),
        (token(), receipt_body).prop_map(|(secret, body)| Inbound::Receipt { secret, body }),
    ]
}

fn inbound_calls_change_nothing_unless_proven(backend: Backend) {
    let rt = runtime();
    let (app, key, letter, delivery, report_key) = rt.block_on(async {
        let app = TestApp::start_with(&backend, |s| {
            // nothing moves unless an inbound call moves it
            s.engine.enabled = false;
            s.channels.sms.kannel.mo_token = MO_TOKEN.into();
            s.channels.digital_post.receipt_secret = RECEIPT_SECRET.into();
        })
        .await;
        let (authority, key) = app.authority("Hostile Kommune").await;
        let profile = budbringer::store::ProfileUpdate {
            phone: Some("+4512345678".into()),
            language: Some("da".into()),
            ..Default::default()
        };
        let (letter, delivery) = app.letter_on_channel(authority, ChannelKind::Sms, profile, None).await;
        let report_key = app.store.instance_key(budbringer::channels::sms::REPORT_KEY).await.expect("report key");
        (app, key, letter, delivery, report_key)
    });
    let right_report_token = budbringer::channels::sms::report_token(&report_key, delivery);
    let before = std::cell::RefCell::new(rt.block_on(fingerprint(&app, &key, letter)));
    let result = runner().run(&inbound(), |call| {
        rt.block_on(async {
            let token_of = |token: &Token, right: &str| match token {
                Token::Right => Some(right.to_owned()),
                Token::Forged(t) => Some(t.clone()),
                Token::Missing => None,
            };
            let delivery = delivery.to_string();
            let (request, proven) = match &call {
                Inbound::KannelReport { status, answer, token } => {
                    let mut query =
                        vec![("delivery", delivery.clone()), ("status", status.clone()), ("answer", answer.clone())];
                    let token = token_of(token, &right_report_token);
                    let proven = token.as_deref() == Some(right_report_token.as_str());
                    query.extend(token.map(|t| ("token", t)));
                    (app.client.get(format!("{}/v1/inbound/sms/kannel/dlr", app.base)).query(&query), proven)
                }
                Inbound::KannelReply { from, text, token } => {
                    let mut query = vec![("from", from.clone()), ("text", text.clone())];
                    let token = token_of(token, MO_TOKEN);
                    let proven = token.as_deref() == Some(MO_TOKEN);
                    query.extend(token.map(|t| ("token", t)));
                    (app.client.get(format!("{}/v1/inbound/sms/kannel/mo", app.base)).query(&query), proven)
                }
                Inbound::ProviderReport { query, body, token } => {
                    let mut query = query.clone();
                    query.push(("delivery".into(), delivery.clone()));
                    let token = token_of(token, &right_report_token);
                    let proven = token.as_deref() == Some(right_report_token.as_str());
                    query.extend(token.map(|t| ("token".to_owned(), t)));
                    let path = budbringer::channels::sms::http::REPORT_PATH;
                    (app.client.post(format!("{}{path}", app.base)).query(&query).body(body.clone()), proven)
                }
                Inbound::Receipt { secret, body } => {
                    let path = budbringer::api::inbound::digital_post::RECEIPTS_PATH;
                    let mut request = app
                        .client
                        .post(format!("{}{path}", app.base))
                        .header("content-type", "application/json")
                        .body(body.clone());
                    let secret = token_of(secret, RECEIPT_SECRET);
                    let proven = secret.as_deref() == Some(RECEIPT_SECRET);
                    if let Some(value) =
                        secret.and_then(|s| reqwest::header::HeaderValue::from_str(&format!("Bearer {s}")).ok())
                    {
                        request = request.header("authorization", value);
                    }
                    (request, proven)
                }
            };
            let response = request.send().await.map_err(|e| TestCaseError::fail(e.to_string()))?;
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            prop_assert!(status < 500, "{:?} → {}: {}", call, status, text);
            let after = fingerprint(&app, &key, letter).await;
            if proven {
                // a proven call may settle the delivery: later forgeries are compared with that
                before.replace(after);
            } else {
                prop_assert!(matches!(status, 400..=499), "an unproven call was answered {}: {}", status, text);
                prop_assert_eq!(&after, &*before.borrow(), "an unproven call changed something: {:?}", call);
            }
            Ok(())
        })
    });
    rt.block_on(app.finish());
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, case)) => panic!("{reason}\n\nminimal failing case: {case:#?}"),
        Err(TestError::Abort(reason)) => panic!("property aborted: {reason}"),
    }
}

mod hostile_inbound_calls {
    #[test]
    fn sqlite() {
        super::inbound_calls_change_nothing_unless_proven(crate::harness::Backend::Sqlite);
    }

    #[test]
    fn postgres() {
        if let Some(backend) = crate::harness::Backend::postgres() {
            super::inbound_calls_change_nothing_unless_proven(backend);
        }
    }
}
