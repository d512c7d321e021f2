//! Wiring: shared state, the router with its middleware, the engine, and `serve_on` — the
//! one seam that `main` and the tests both use.

use anyhow::Context as _;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::api::bulk::BulkDetector;
use crate::api::error::{ApiError, localize_problems, method_not_allowed, not_found};
use crate::api::extract::BodyLimit;
use crate::api::ratelimit::RateLimiter;
use crate::channels::Channels;
use crate::config::Settings;
use crate::domain::{Clock, SystemClock};
use crate::engine::Engine;
use crate::engine::webhook::WebhookDispatcher;
use crate::metrics::Metrics;
use crate::store::{self, Store};

pub type AppState = Arc<App>;

pub struct App {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Key of the keyed hash that finds a citizen by CPR number.
    pub cpr_key: Vec<u8>,
    pub engine_wake: Arc<Notify>,
    pub webhook_wake: Arc<Notify>,
    pub metrics: Arc<Metrics>,
    pub limiter: RateLimiter,
    /// Tells a bulk run's letters from those sent one by one (see `api.bulk_detect_per_second`).
    pub bulk_detector: BulkDetector,
    /// Business days and holidays, for deadlines and escalation waits.
    pub calendar: crate::domain::calendar::Calendar,
    /// Signs and checks the citizens' reading links.
    pub reading_key: Vec<u8>,
}

impl App {
    pub async fn new(settings: Settings, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
        let cpr_key = store.instance_key("cpr-hash").await.context("reading the CPR hash key")?;
        if settings.cpr_encryption_key.is_empty() {
            tracing::warn!("cpr_encryption_key is not set: CPR numbers are sealed with a key kept in the database");
        } else {
            let sealer = crate::domain::cpr_seal::CprSealer::from_base64(&settings.cpr_encryption_key)
                .context("cpr_encryption_key")?;
            if !store.use_cpr_key(sealer) {
                anyhow::bail!("the CPR encryption key was set after the database had started using another one");
            }
        }
        let reading_key =
            store.instance_key(crate::domain::reading::READING_KEY).await.context("reading the reading-link key")?;
        let limiter = RateLimiter::new(settings.api.rate_limit_per_second, settings.api.rate_limit_burst);
        let bulk_detector = BulkDetector::new(&settings.api);
        let calendar = crate::domain::calendar::Calendar::try_from(settings.calendar.clone()).context("calendar")?;
        Ok(Arc::new(App {
            settings,
            store,
            clock,
            cpr_key,
            engine_wake: Arc::new(Notify::new()),
            webhook_wake: Arc::new(Notify::new()),
            metrics: Arc::new(Metrics::default()),
            limiter,
            bulk_detector,
            calendar,
            reading_key,
        }))
    }
}

pub fn router(state: AppState) -> Router {
    let limit = state.settings.api.max_request_bytes;
    Router::new()
        .merge(crate::api::letters::router())
        .merge(crate::api::citizens::router())
        .merge(crate::api::callbacks::router())
        .merge(crate::api::alerts::router())
        .merge(crate::api::reading::router())
        .merge(crate::api::policies::router())
        .merge(crate::api::settings::router())
        .merge(crate::api::events::router())
        .merge(crate::api::webhooks::router())
        .merge(crate::api::health::router())
        .merge(crate::api::openapi::router())
        .merge(crate::api::inbound::router())
        .merge(crate::web::router(Arc::clone(&state)))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // outermost first: request id, tracing, security headers, panics, metrics, language
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request| {
                            let path = loggable_path(request.uri().path());
                            let traceparent = request.headers().get("traceparent").and_then(|v| v.to_str().ok());
                            tracing::debug_span!(
                                "request",
                                http.request.method = %request.method(),
                                url.path = %path,
                                otel.name = %format!("{} {path}", request.method()),
                                otel.kind = "server",
                                traceparent,
                                http.response.status_code = tracing::field::Empty,
                                otel.status_code = tracing::field::Empty,
                            )
                        })
                        .on_response(RecordStatus),
                )
                .layer(SetResponseHeaderLayer::if_not_present(
                    HeaderName::from_static("x-content-type-options"),
                    HeaderValue::from_static("nosniff"),
                ))
                // HSTS only when Budbringer is reached over TLS (behind a TLS-terminating proxy)
                .layer(tower::util::option_layer(state.settings.secure_cookies().then(|| {
                    SetResponseHeaderLayer::if_not_present(
                        axum::http::header::STRICT_TRANSPORT_SECURITY,
                        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
                    )
                })))
                .layer(CatchPanicLayer::custom(|_| {
                    ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
                }))
                .layer(middleware::from_fn_with_state(Arc::clone(&state), count_responses))
                .layer(middleware::from_fn(localize_problems))
                .layer(Extension(BodyLimit(limit)))
                .layer(DefaultBodyLimit::max(limit)),
        )
        .with_state(state)
}

/// Puts the answer's status on the request's span, for traces.
#[derive(Clone, Copy)]
struct RecordStatus;

impl<B> tower_http::trace::OnResponse<B> for RecordStatus {
    fn on_response(self, response: &axum::http::Response<B>, _: Duration, span: &tracing::Span) {
        span.record("http.response.status_code", response.status().as_u16());
        if response.status().is_server_error() {
            span.record("otel.status_code", "error");
        }
    }
}

/// A request path fit for logs: ids, tokens and anything else that is not a plain word become
/// `{}` (reading-link tokens and letter ids travel in paths; logs must not collect them).
fn loggable_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            let word = segment.len() <= 24 && segment.bytes().all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'.');
            // short segments such as `v1` carry no identity
            let plain = word || (segment.len() <= 3 && segment.bytes().all(|b| b.is_ascii_alphanumeric()));
            if plain { segment } else { "{}" }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn count_responses(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    state.metrics.http_response(response.status().as_u16());
    response
}

/// A name for this process in job claims: unique per start, readable in the database.
fn worker_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    let unique = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &unique[..8])
}

/// Run the gateway on `listener` until `shutdown` resolves; then stop taking requests, let
/// the engine finish or give back its work, and close the store.
pub async fn serve_on(
    listener: TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let url = settings.effective_database_url();
    let store = store::connect(&url).await.context("opening the database")?;
    if settings.migrate_on_start {
        store.migrate().await.context("migrating the database")?;
    }
    let app = App::new(settings, store, Arc::new(SystemClock)).await?;
    run(listener, app, shutdown).await
}

/// Where providers call Budbringer back, and the keys that sign those links.
async fn inbound_links(app: &App) -> anyhow::Result<crate::channels::InboundLinks> {
    let sms_report_key =
        app.store.instance_key(crate::channels::sms::REPORT_KEY).await.context("reading the SMS report key")?;
    Ok(crate::channels::InboundLinks {
        public_url: app.settings.public_url().to_owned(),
        sms_report_key,
        reading_key: app.reading_key.clone(),
    })
}

/// Serve an assembled app (tests use this to supply their own clock or store).
pub async fn run(
    listener: TcpListener,
    app: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut workers = tokio::task::JoinSet::new();
    if app.store.backend() == crate::store::Backend::Postgres {
        workers.spawn(crate::engine::report_fold::run(Arc::clone(&app.store), stop_rx.clone()));
    }
    if app.settings.engine.enabled {
        let worker_id = worker_id();
        let engine = Arc::new(Engine {
            store: Arc::clone(&app.store),
            clock: Arc::clone(&app.clock),
            channels: Arc::new(
                Channels::from_settings(&app.settings.channels, &app.settings.data_dir, &inbound_links(&app).await?)
                    .context("setting up the channel transports")?,
            ),
            settings: app.settings.engine.clone(),
            wake: Arc::clone(&app.engine_wake),
            events_written: Arc::clone(&app.webhook_wake),
            policies: app.settings.policies.clone(),
            calendar: app.calendar.clone(),
            metrics: Arc::clone(&app.metrics),
            worker_id: worker_id.clone(),
        });
        workers.spawn(engine.run(stop_rx.clone()));
        let dispatcher = Arc::new(WebhookDispatcher {
            store: Arc::clone(&app.store),
            clock: Arc::clone(&app.clock),
            client: WebhookDispatcher::client(&app.settings.webhooks).context("building the webhook client")?,
            settings: app.settings.webhooks.clone(),
            metrics: Arc::clone(&app.metrics),
            wake: Arc::clone(&app.webhook_wake),
            poll: Duration::from_millis(app.settings.engine.poll_interval_ms),
            worker_id,
        });
        workers.spawn(dispatcher.run(stop_rx.clone()));
        let sweeper = Arc::new(crate::engine::retention::RetentionSweeper {
            store: Arc::clone(&app.store),
            clock: Arc::clone(&app.clock),
            settings: app.settings.retention.clone(),
            time_zone: app.calendar.time_zone().clone(),
            outbox: app.settings.data_dir.join("outbox"),
            events_written: Arc::clone(&app.webhook_wake),
        });
        workers.spawn(sweeper.run(stop_rx.clone()));
    }
    let address = listener.local_addr().context("reading the listening address")?;
    tracing::info!(%address, backend = ?app.store.backend(), "Budbringer is listening");
    let store = Arc::clone(&app.store);
    axum::serve(listener, router(app).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")?;
    tracing::info!("stopping: no new requests; finishing in-flight work");
    let _ = stop_tx.send(true);
    while workers.join_next().await.is_some() {}
    store.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn logged_paths_keep_words_and_hide_ids_and_tokens() {
        assert_eq!(super::loggable_path("/v1/letters"), "/v1/letters");
        assert_eq!(
            super::loggable_path("/citizen/letters/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
            "/citizen/letters/{}"
        );
        assert_eq!(super::loggable_path("/l/AbCdEf123_-xyz.sig"), "/l/{}");
        assert_eq!(super::loggable_path("/assets/web.css"), "/assets/web.css");
    }
}
