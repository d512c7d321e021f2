//! Optional OpenTelemetry traces: Budbringer's own spans (each API request, each engine job)
//! sent as OTLP/HTTP JSON to a collector (`[telemetry] otlp_endpoint`). A request that carries
//! a W3C `traceparent` header continues the caller's trace. Spans carry what the logs carry —
//! the loggable path, ids, channels, outcomes — never a CPR number, a token or content.
//!
//! Finished spans wait in a bounded queue; when the collector is slow or away they are
//! dropped (and counted in a warning), never allowed to hold up letters.

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::config::TelemetrySettings;

/// What a span says, apart from its times.
#[derive(Debug, Clone)]
struct SpanData {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    parent_span_id: Option<[u8; 8]>,
    name: String,
    kind: i32,
    error: bool,
    attributes: Vec<(String, Value)>,
}

/// A span as it is being recorded, kept in the span's extensions.
struct Open {
    data: SpanData,
    start: SystemTime,
}

/// A finished span, ready for the collector.
#[derive(Debug, Clone)]
pub struct Finished {
    data: SpanData,
    start_ns: u128,
    end_ns: u128,
}

/// OTLP `SpanKind`.
const KIND_INTERNAL: i32 = 1;
const KIND_SERVER: i32 = 2;
const KIND_CLIENT: i32 = 3;

/// The fields of a span: the special `otel.*` ones and `traceparent`, and the rest as
/// attributes.
#[derive(Default)]
struct Fields {
    name: Option<String>,
    kind: Option<i32>,
    error: bool,
    traceparent: Option<String>,
    attributes: Vec<(String, Value)>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        match (field.name(), &value) {
            ("otel.name", Value::String(name)) => self.name = Some(name.clone()),
            ("otel.kind", Value::String(kind)) => {
                self.kind = Some(match kind.as_str() {
                    "server" => KIND_SERVER,
                    "client" => KIND_CLIENT,
                    _ => KIND_INTERNAL,
                })
            }
            ("otel.status_code", Value::String(code)) => self.error = code.eq_ignore_ascii_case("error"),
            ("traceparent", Value::String(header)) => self.traceparent = Some(header.clone()),
            (name, _) => self.attributes.push((name.to_owned(), value)),
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, json!(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, json!(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, json!(value));
    }
}

/// The `tracing` layer that records Budbringer's spans for OTLP.
pub struct OtlpLayer {
    queue: mpsc::Sender<Finished>,
    dropped: Arc<AtomicU64>,
}

/// Which spans go to the collector: Budbringer's own (not its libraries'), at any level.
pub fn is_exported(metadata: &Metadata<'_>) -> bool {
    metadata.is_span() && metadata.target().starts_with("budbringer")
}

impl<S> Layer<S> for OtlpLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let parent =
            span.parent().and_then(|p| p.extensions().get::<Open>().map(|o| (o.data.trace_id, o.data.span_id)));
        let (trace_id, parent_span_id) = match parent.or_else(|| fields.traceparent.as_deref().and_then(traceparent)) {
            Some((trace_id, parent)) => (trace_id, Some(parent)),
            None => (rand::random(), None),
        };
        let data = SpanData {
            trace_id,
            span_id: rand::random(),
            parent_span_id,
            name: fields.name.unwrap_or_else(|| attrs.metadata().name().to_owned()),
            kind: fields.kind.unwrap_or(KIND_INTERNAL),
            error: fields.error,
            attributes: fields.attributes,
        };
        let open = Open { data, start: SystemTime::now() };
        span.extensions_mut().insert(open);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::default();
        values.record(&mut fields);
        let mut extensions = span.extensions_mut();
        if let Some(Open { data, .. }) = extensions.get_mut::<Open>() {
            if let Some(name) = fields.name {
                data.name = name;
            }
            data.error |= fields.error;
            data.attributes.extend(fields.attributes);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(open) = span.extensions_mut().remove::<Open>() else { return };
        let nanos = |t: SystemTime| t.duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
        let finished = Finished { data: open.data, start_ns: nanos(open.start), end_ns: nanos(SystemTime::now()) };
        if self.queue.try_send(finished).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// `00-<trace id>-<parent id>-<flags>` (W3C Trace Context); `None` when malformed or all zero.
fn traceparent(header: &str) -> Option<([u8; 16], [u8; 8])> {
    let mut parts = header.trim().split('-');
    let (version, trace, parent, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version.len() != 2 || version == "ff" || flags.len() != 2 {
        return None;
    }
    let trace: [u8; 16] = hex_bytes(trace)?.try_into().ok()?;
    let parent: [u8; 8] = hex_bytes(parent)?.try_into().ok()?;
    (trace != [0; 16] && parent != [0; 8]).then_some((trace, parent))
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An attribute value in OTLP's JSON form (`AnyValue`); 64-bit integers as strings.
fn any_value(value: &Value) -> Value {
    match value {
        Value::Bool(b) => json!({ "boolValue": b }),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({ "intValue": n.to_string() }),
        Value::Number(n) => json!({ "doubleValue": n.as_f64() }),
        Value::String(s) => json!({ "stringValue": s }),
        other => json!({ "stringValue": other.to_string() }),
    }
}

/// One `ExportTraceServiceRequest` in OTLP/JSON (trace and span ids in hex, as OTLP/JSON
/// has it, unlike protobuf's own JSON mapping).
pub fn export_request(service_name: &str, spans: &[Finished]) -> Value {
    let spans: Vec<Value> = spans
        .iter()
        .map(|Finished { data: s, start_ns, end_ns }| {
            let mut span = json!({
                "traceId": hex(&s.trace_id),
                "spanId": hex(&s.span_id),
                "name": s.name,
                "kind": s.kind,
                "startTimeUnixNano": start_ns.to_string(),
                "endTimeUnixNano": end_ns.to_string(),
                "attributes": s.attributes.iter()
                    .map(|(key, value)| json!({ "key": key, "value": any_value(value) }))
                    .collect::<Vec<_>>(),
                // STATUS_CODE_ERROR; unset otherwise
                "status": if s.error { json!({ "code": 2 }) } else { json!({}) },
            });
            if let Some(parent) = s.parent_span_id {
                span["parentSpanId"] = json!(hex(&parent));
            }
            span
        })
        .collect();
    let version = env!("CARGO_PKG_VERSION");
    json!({
        "resourceSpans": [{
            "resource": { "attributes": [
                { "key": "service.name", "value": { "stringValue": service_name } },
                { "key": "service.version", "value": { "stringValue": version } },
            ]},
            "scopeSpans": [{ "scope": { "name": "budbringer", "version": version }, "spans": spans }],
        }]
    })
}

/// The sending half: batches finished spans and posts them to the collector.
pub struct Exporter {
    spans: mpsc::Receiver<Finished>,
    dropped: Arc<AtomicU64>,
    settings: TelemetrySettings,
}

/// The layer and its exporter, when an endpoint is configured.
pub fn pipeline(settings: &TelemetrySettings) -> Option<(OtlpLayer, Exporter)> {
    if settings.otlp_endpoint.trim().is_empty() {
        return None;
    }
    let (queue, spans) = mpsc::channel(settings.max_queued_spans.max(1));
    let dropped = Arc::new(AtomicU64::new(0));
    let layer = OtlpLayer { queue, dropped: Arc::clone(&dropped) };
    Some((layer, Exporter { spans, dropped, settings: settings.clone() }))
}

/// Stops the exporter after one last export of what is queued.
pub struct ExporterHandle {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl ExporterHandle {
    /// Send what is left, waiting at most `grace`.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(grace, self.task).await;
    }
}

impl Exporter {
    pub fn spawn(self) -> ExporterHandle {
        let (stop, stopped) = oneshot::channel();
        ExporterHandle { stop, task: tokio::spawn(self.run(stopped)) }
    }

    async fn run(mut self, mut stopped: oneshot::Receiver<()>) {
        let url = format!("{}/v1/traces", self.settings.otlp_endpoint.trim_end_matches('/'));
        let client = match reqwest::Client::builder().timeout(Duration::from_secs(10)).build() {
            Ok(client) => client,
            Err(e) => {
                tracing::error!(error = %e, "cannot build the OTLP client; no traces will be sent");
                return;
            }
        };
        let interval = Duration::from_millis(self.settings.export_interval_ms.max(10));
        let batch_size = self.settings.max_batch_spans.max(1);
        let mut batch = Vec::with_capacity(batch_size);
        let mut failing = false;
        loop {
            let stopping = tokio::select! {
                _ = tokio::time::sleep(interval) => false,
                _ = &mut stopped => true,
            };
            while self.spans.try_recv().map(|span| batch.push(span)).is_ok() {
                if batch.len() >= batch_size {
                    failing = self.send(&client, &url, &mut batch, failing).await;
                }
            }
            if !batch.is_empty() {
                failing = self.send(&client, &url, &mut batch, failing).await;
            }
            if stopping {
                return;
            }
        }
    }

    /// Post one batch (the batch is emptied either way); returns whether the collector failed,
    /// so a collector that is away is reported once, not once per batch.
    async fn send(&self, client: &reqwest::Client, url: &str, batch: &mut Vec<Finished>, failing: bool) -> bool {
        let body = export_request(&self.settings.service_name, batch);
        let count = batch.len();
        batch.clear();
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(dropped, "trace spans dropped: the queue to the collector was full");
        }
        let outcome = client.post(url).json(&body).send().await.and_then(reqwest::Response::error_for_status);
        match outcome {
            Ok(_) => {
                if failing {
                    tracing::info!("the OTLP collector takes traces again");
                }
                false
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, spans = count, "the OTLP collector refused traces; dropping them until it is back");
                }
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_read_as_w3c_trace_context_has_it() {
        let (trace, parent) = traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(hex(&trace), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(hex(&parent), "00f067aa0ba902b7");
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
        ] {
            assert!(traceparent(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn spans_are_written_in_otlp_json() {
        let data = SpanData {
            trace_id: [1; 16],
            span_id: [2; 8],
            parent_span_id: Some([3; 8]),
            name: "POST /v1/letters".into(),
            kind: KIND_SERVER,
            error: false,
            attributes: vec![("http.response.status_code".into(), json!(201)), ("ok".into(), json!(true))],
        };
        let span = Finished { data, start_ns: 1_700_000_000_000_000_000, end_ns: 1_700_000_000_500_000_000 };
        let body = export_request("budbringer", &[span]);
        let s = &body["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(s["traceId"], "01010101010101010101010101010101");
        assert_eq!(s["parentSpanId"], "0303030303030303");
        assert_eq!(s["kind"], 2);
        assert_eq!(s["endTimeUnixNano"], "1700000000500000000");
        assert_eq!(s["attributes"][0]["value"]["intValue"], "201");
        assert_eq!(s["attributes"][1]["value"]["boolValue"], true);
        assert_eq!(body["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"], "budbringer");
    }
}
