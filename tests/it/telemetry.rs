//! OpenTelemetry traces from the real binary to an OTLP/HTTP receiver that checks each export
//! against the official protobuf definitions (tests/peers/otlp/receiver.py).

use serde_json::Value;
use std::time::Duration;

use crate::harness::*;
use crate::peers::otlp::OtlpReceiver;
use crate::processes::{Gateway, create_authority};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const CPR: &str = "0101901234";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_deliveries_are_traced_and_a_callers_trace_goes_on() {
    let Some(receiver) = OtlpReceiver::start().await else { return };
    let db = TestDb::new(&Backend::Sqlite).await;
    let data_dir = db.dir.join("data");
    let endpoint = receiver.endpoint();
    let env = [
        ("RUST_LOG", "info"),
        ("BUDBRINGER_TELEMETRY__OTLP_ENDPOINT", endpoint.as_str()),
        ("BUDBRINGER_TELEMETRY__EXPORT_INTERVAL_MS", "100"),
    ];
    let gateway = Gateway::start_with_env(&db, &data_dir, "traced", &env).await;
    let key = create_authority(&db, &data_dir, "Vejle Kommune");

    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/v1/letters", gateway.base))
        .bearer_auth(&key)
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN}-01"))
        .json(&letter(CPR))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let letter: Value = created.json().await.unwrap();
    let letter_id = letter["id"].as_str().unwrap().to_owned();
    // one more, without a trace of its own, and a refused one
    let refused =
        client.post(format!("{}/v1/letters", gateway.base)).bearer_auth(&key).json(&serde_json::json!({})).send();
    assert_eq!(refused.await.unwrap().status(), 422);

    let traced = eventually(Duration::from_secs(20), || {
        let spans = receiver.spans();
        let letter_id = letter_id.clone();
        async move {
            spans.iter().any(|s| s["name"] == "job deliver" && s["attributes"]["letter.id"] == letter_id.as_str())
                && spans.iter().filter(|s| s["name"] == "POST /v1/letters").count() >= 2
        }
    })
    .await;
    let spans = receiver.spans();
    assert!(traced, "spans received: {spans:#?}");
    assert!(receiver.refusals().is_empty(), "the receiver refused exports: {:?}", receiver.refusals());

    // the request continues the caller's trace, as a server span with its status
    let request = spans
        .iter()
        .find(|s| s["name"] == "POST /v1/letters" && s["trace_id"] == TRACE_ID)
        .unwrap_or_else(|| panic!("no request span in the caller's trace: {spans:#?}"));
    assert_eq!(request["parent_span_id"], CALLER_SPAN);
    assert_eq!(request["kind"], 2, "SPAN_KIND_SERVER");
    assert_eq!(request["service"], "budbringer");
    assert_eq!(request["attributes"]["http.response.status_code"], 201);
    assert_eq!(request["attributes"]["url.path"], "/v1/letters");
    assert_eq!(request["attributes"]["http.request.method"], "POST");
    // the refused one: its own trace, status 422
    let other = spans
        .iter()
        .find(|s| s["name"] == "POST /v1/letters" && s["trace_id"] != TRACE_ID)
        .unwrap_or_else(|| panic!("the second request: {spans:#?}"));
    assert_eq!(other["attributes"]["http.response.status_code"], 422);
    assert_eq!(other["parent_span_id"], "");

    // the engine's delivery: a trace of its own, with the channel and the outcome
    let delivery = spans
        .iter()
        .find(|s| s["name"] == "job deliver" && s["attributes"]["letter.id"] == letter_id.as_str())
        .unwrap();
    assert_eq!(delivery["attributes"]["delivery.channel"], "digital_post");
    assert!(["delivered", "sent"].contains(&delivery["attributes"]["delivery.outcome"].as_str().unwrap_or_default()));
    assert_eq!(delivery["attributes"]["job.kind"], "deliver");

    // nothing personal travels in a trace
    let everything = serde_json::to_string(&spans).unwrap();
    assert!(!everything.contains(CPR) && !everything.contains(&key), "a CPR number or a key in a span");
    drop(gateway);
    db.drop_database().await;

    // the receiver is strict: protobuf-style base64 ids or an unknown field are refused
    let export = |trace_id: &str, extra: Option<(&str, Value)>| {
        let mut span = serde_json::json!({
            "traceId": trace_id, "spanId": CALLER_SPAN, "name": "x", "kind": 1,
            "startTimeUnixNano": "1", "endTimeUnixNano": "2"
        });
        if let Some((key, value)) = extra {
            span[key] = value;
        }
        serde_json::json!({ "resourceSpans": [{ "scopeSpans": [{ "spans": [span] }] }] })
    };
    let url = format!("{}/v1/traces", receiver.endpoint());
    let good = client.post(&url).json(&export(TRACE_ID, None)).send().await.unwrap();
    assert_eq!(good.status(), 200);
    for bad in [export("S/kvNXezTaajzpKdDg5HNg==", None), export(TRACE_ID, Some(("colour", Value::from("red"))))] {
        assert_eq!(client.post(&url).json(&bad).send().await.unwrap().status(), 400, "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_is_away_holds_up_nothing() {
    let db = TestDb::new(&Backend::Sqlite).await;
    let data_dir = db.dir.join("data");
    let nobody = format!("http://127.0.0.1:{}", crate::peers::free_port());
    let env =
        [("BUDBRINGER_TELEMETRY__OTLP_ENDPOINT", nobody.as_str()), ("BUDBRINGER_TELEMETRY__EXPORT_INTERVAL_MS", "50")];
    let gateway = Gateway::start_with_env(&db, &data_dir, "untraced", &env).await;
    let key = create_authority(&db, &data_dir, "Vejle Kommune");
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let created = client.post(format!("{}/v1/letters", gateway.base)).bearer_auth(&key).json(&letter(CPR)).send();
        assert_eq!(created.await.unwrap().status(), 201);
    }
    let all = eventually(Duration::from_secs(20), || async {
        let letters = client.get(format!("{}/v1/letters", gateway.base)).bearer_auth(&key).send().await.unwrap();
        let letters: Value = letters.json().await.unwrap();
        letters["letters"].as_array().is_some_and(|l| l.len() == 3 && l.iter().all(|l| l["status"] == "delivered"))
    })
    .await;
    assert!(all, "letters go out while the collector is away");
    let log = std::fs::read_to_string(&gateway.log).unwrap();
    assert_eq!(log.matches("the OTLP collector refused traces").count(), 1, "said once, not per batch: {log}");
    drop(gateway);
    db.drop_database().await;
}
