//! Test harness: fresh databases, the app on a free port, HTTP helpers, polling.

use budbringer::app::{self, App, AppState};
use budbringer::config::Settings;
use budbringer::domain::{Clock, SystemClock};
use budbringer::store::{self, Store};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Run an async test body once on SQLite and once on PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(crate::harness::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(backend) = crate::harness::Backend::postgres() {
                        super::$name(backend).await
                    }
                }
            }
        )+
    };
}
pub(crate) use on_both_backends;

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// The PostgreSQL server to test against. CI sets `TEST_REQUIRE_POSTGRES=1` so
    /// a missing server fails the run instead of skipping half of it.
    pub fn postgres() -> Option<Backend> {
        let url = std::env::var("TEST_DATABASE_URL").or_else(|_| std::env::var("DATABASE_URL")).ok();
        match url {
            Some(url) if url.starts_with("postgres") => Some(Backend::Postgres(url)),
            _ if std::env::var("TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
                panic!("TEST_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not a postgres:// URL")
            }
            _ => {
                eprintln!("PostgreSQL variant skipped: TEST_DATABASE_URL is not set");
                None
            }
        }
    }

    pub fn require_postgres() -> Option<Backend> {
        Self::postgres()
    }
}

/// A database of its own for one test: a SQLite file in a temp dir or a new PostgreSQL database.
pub struct TestDb {
    pub url: String,
    pub dir: PathBuf,
    admin: Option<(String, String)>,
}

pub fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("budbringer-{prefix}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

impl TestDb {
    pub async fn new(backend: &Backend) -> TestDb {
        let dir = temp_dir("test");
        match backend {
            Backend::Sqlite => TestDb { url: format!("sqlite://{}", dir.join("test.db").display()), dir, admin: None },
            Backend::Postgres(base) => {
                let name = format!("bb_test_{}", uuid::Uuid::new_v4().simple());
                let pool = sqlx::PgPool::connect(base).await.expect("connect to the PostgreSQL test server");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&pool)
                    .await
                    .expect("create test database");
                pool.close().await;
                let mut url = reqwest::Url::parse(base).expect("database URL");
                url.set_path(&format!("/{name}"));
                TestDb { url: url.to_string(), dir, admin: Some((base.clone(), name)) }
            }
        }
    }

    /// The same test database, with the SQLite file at `path` instead (e.g. on a small disk).
    pub fn with_sqlite_file(self, path: &Path) -> TestDb {
        self.with_url(format!("sqlite://{}", path.display()))
    }

    /// The same test database, reached by `url` (say, with other connection parameters).
    pub fn with_url(self, url: String) -> TestDb {
        TestDb { url, ..self }
    }

    pub async fn drop_database(&self) {
        if let Some((base, name)) = &self.admin
            && let Ok(pool) = sqlx::PgPool::connect(base).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&pool)
                .await;
            pool.close().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Settings for tests: fast polling and retries, everything under the test's directory.
pub fn test_settings(db: &TestDb) -> Settings {
    let mut s = Settings { database_url: db.url.clone(), data_dir: db.dir.join("data"), ..Default::default() };
    s.engine.poll_interval_ms = 50;
    s.engine.retry_base_ms = 50;
    s.engine.retry_max_secs = 1;
    s.engine.shutdown_grace_secs = 5;
    s.webhooks.retry_base_ms = 100;
    s.webhooks.retry_max_secs = 1;
    s
}

/// The gateway running in this test process on a free loopback port.
pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub state: AppState,
    pub db: TestDb,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn start(backend: &Backend) -> TestApp {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: &Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
        Self::start_with_clock(backend, Arc::new(SystemClock), configure).await
    }

    pub async fn start_with_clock(
        backend: &Backend,
        clock: Arc<dyn Clock>,
        configure: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let db = TestDb::new(backend).await;
        Self::start_on(db, clock, configure).await
    }

    /// The gateway on a database the test prepared itself (migrated on start).
    pub async fn start_on(db: TestDb, clock: Arc<dyn Clock>, configure: impl FnOnce(&mut Settings)) -> TestApp {
        // BB_TEST_LOG=debug (an EnvFilter) shows the in-process gateway's logs when a test fails
        if let Ok(filter) = std::env::var("BB_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
        let mut settings = test_settings(&db);
        configure(&mut settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        settings.public_url = base.clone();
        let store = store::connect(&settings.effective_database_url()).await.expect("open store");
        store.migrate().await.expect("migrate");
        let state = App::new(settings, Arc::clone(&store), clock).await.expect("app");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app::run(listener, Arc::clone(&state), async {
            let _ = stopped.await;
        }));
        TestApp { base, store, state, db, client: reqwest::Client::new(), stop: Some(stop), server: Some(server) }
    }

    pub fn outbox(&self) -> PathBuf {
        self.state.settings.data_dir.join("outbox")
    }

    /// A new authority and its API key.
    pub async fn authority(&self, name: &str) -> (uuid::Uuid, String) {
        let cvr = format!("{:08}", rand_u32() % 100_000_000);
        let (authority, key) =
            budbringer::cli::create_authority(self.store.as_ref(), name, &cvr).await.expect("authority");
        (authority.id, key)
    }

    /// Store a letter whose first delivery goes to `channel`, for a citizen with `profile`
    /// (its `cpr`/`cpr_hash` are filled in). Returns the letter and delivery ids. For channel
    /// tests: the engine then delivers it over the configured transport.
    #[allow(dead_code)] // used by the channel tests as they land
    pub async fn letter_on_channel(
        &self,
        authority_id: uuid::Uuid,
        channel: budbringer::domain::ChannelKind,
        mut profile: budbringer::store::ProfileUpdate,
        address: Option<budbringer::domain::letter::PostalAddress>,
    ) -> (uuid::Uuid, uuid::Uuid) {
        use budbringer::domain::secret::keyed_hash;
        use budbringer::store::{NewLetter, Recipient};
        let cpr = "0101901234";
        profile.cpr = cpr.into();
        profile.cpr_hash = keyed_hash(&self.state.cpr_key, cpr);
        let now = jiff::Timestamp::now().as_millisecond();
        self.store.set_contact_profile(&profile, now).await.expect("profile");
        let letter = NewLetter {
            bulk: None,
            id: uuid::Uuid::now_v7(),
            authority_id,
            citizen_id: uuid::Uuid::now_v7(),
            cpr: cpr.into(),
            cpr_hash: profile.cpr_hash.clone(),
            recipient: Recipient { cpr_masked: "010190-****".into(), name: Some("Jens Jensen".into()), address },
            subject: "Afgørelse om boligstøtte".into(),
            body: "Du får boligstøtte fra 1. januar.\n\nSvar inden fristen.".into(),
            importance: budbringer::domain::Importance::Important,
            category: None,
            respond_by: Some("2099-12-31".into()),
            reference: Some("SAG-1".into()),
            contact: budbringer::domain::letter::ContactPoint {
                unit: Some("Borgerservice".into()),
                phone: Some("+45 70 10 10 10".into()),
                email: None,
                hours: Some("Man–fre 9–12".into()),
            },
            documents: vec![],
            idempotency_key: None,
            request_hash: None,
            channel,
            delivery_id: uuid::Uuid::now_v7(),
            job_id: uuid::Uuid::now_v7(),
            notices: vec![],
            escalation_timer: None,
            max_attempts: 5,
            now,
        };
        self.store.insert_letter(&letter).await.expect("insert letter");
        self.state.engine_wake.notify_one();
        (letter.id, letter.delivery_id)
    }

    pub async fn post_letter(&self, key: &str, body: &Value) -> reqwest::Response {
        self.client.post(format!("{}/v1/letters", self.base)).bearer_auth(key).json(body).send().await.expect("POST")
    }

    pub async fn get(&self, key: &str, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).bearer_auth(key).send().await.expect("GET")
    }

    pub async fn get_json(&self, key: &str, path: &str) -> Value {
        let response = self.get(key, path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON")
    }

    /// Wait until the letter reaches `status` (the engine works in the background).
    pub async fn wait_for_status(&self, key: &str, id: &str, status: &str) -> Value {
        let path = format!("/v1/letters/{id}");
        let start = Instant::now();
        loop {
            let letter = self.get_json(key, &path).await;
            if letter["status"] == status {
                return letter;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "letter {id} never reached {status}: {letter:#}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stop the server (as SIGTERM would) and remove the test's database.
    pub async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server stopped cleanly");
        }
        self.db.drop_database().await;
    }
}

pub fn rand_u32() -> u32 {
    let bytes = uuid::Uuid::new_v4();
    u32::from_le_bytes(bytes.as_bytes()[..4].try_into().unwrap())
}

/// A letter with everything filled in; tests change what they need.
pub fn letter(cpr: &str) -> Value {
    json!({
        "recipient": { "cpr": cpr, "name": "Jens Jensen" },
        "subject": "Afgørelse om boligstøtte",
        "body": "Du får boligstøtte fra 1. januar.",
        "importance": "important",
        "respond_by": "2099-12-31",
        "reference": "SAG-1",
        "contact": { "unit": "Borgerservice", "phone": "+45 70 10 10 10", "email": "borgerservice@example.dk" }
    })
}

/// A small but real PDF.
pub fn pdf_base64() -> String {
    use base64::Engine as _;
    let pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
    base64::engine::general_purpose::STANDARD.encode(pdf)
}

/// Poll `check` until it is true or `limit` passes.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Regular files (not the `.tmp` staging dir) in one channel's outbox.
pub fn outbox_files(outbox: &Path, channel: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(outbox.join(channel)) else { return Vec::new() };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Assert a problem+json answer with the given status; returns its body.
pub async fn expect_problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("problem JSON");
    assert_eq!(body["status"], status);
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    assert!(body["type"].as_str().is_some_and(|t| t.starts_with("/docs#problem-")), "{body}");
    body
}

/// The pointers (or parameter/header names) of a problem's field errors.
pub fn error_locations(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    e.get("pointer")
                        .or_else(|| e.get("parameter"))
                        .or_else(|| e.get("header"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One hour per rung (SMS notice + paper, then a phone call, then "unreachable"): long enough
/// that nothing fires by accident, short to advance a manual clock past.
pub fn fast_ladder() -> budbringer::domain::policy::Policy {
    use budbringer::domain::ChannelKind;
    use budbringer::domain::policy::{Escalation, Policy};
    Policy {
        escalations: vec![
            Escalation {
                after: "1h".parse().unwrap(),
                channels: vec![ChannelKind::Sms, ChannelKind::Print],
                extend_by_business_days: 10,
                alert: None,
            },
            Escalation {
                after: "1h".parse().unwrap(),
                channels: vec![ChannelKind::Phone],
                extend_by_business_days: 5,
                alert: None,
            },
        ],
        unreachable_after: Some("1h".parse().unwrap()),
    }
}

/// Verify a Standard Webhooks signature independently of the gateway's code.
pub fn signature_is_valid(secret: &str, headers: &reqwest::header::HeaderMap, body: &[u8]) -> bool {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    let key = base64::engine::general_purpose::STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap();
    let id = headers["webhook-id"].to_str().unwrap();
    let ts = headers["webhook-timestamp"].to_str().unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    headers["webhook-signature"].to_str().unwrap().split(' ').any(|s| s == format!("v1,{expected}"))
}

/// What the engine prints paper letters with: the app's address and key for access codes.
pub fn access_codes(app: &TestApp) -> budbringer::channels::print::access_code::AccessCodes {
    budbringer::channels::print::access_code::AccessCodes {
        public_url: app.state.settings.public_url().to_owned(),
        key: app.state.reading_key.clone(),
    }
}
