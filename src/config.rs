//! Layered settings: compiled defaults → `config/default.toml` → `--config FILE` →
//! `BUDBRINGER_*` environment (nested keys with `__`, e.g. `BUDBRINGER_ENGINE__LEASE_SECS`).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::domain::letter::LetterLimits;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP server binds, host:port.
    pub listen: SocketAddr,
    /// `sqlite://…` or `postgres://…`; empty means SQLite in `<data_dir>/budbringer.db`.
    pub database_url: String,
    /// File drops and other local state.
    pub data_dir: PathBuf,
    /// Base of links sent to citizens and of `Location` headers.
    pub public_url: String,
    /// Run migrations when `serve` starts.
    pub migrate_on_start: bool,
    /// Log format: `text` or `json`.
    pub log_format: LogFormat,
    /// Key that seals CPR numbers at rest (base64 of 32 random bytes). Empty: a key generated
    /// and kept in the database itself, which does not protect a stolen copy of it. Set it
    /// (best through `BUDBRINGER_CPR_ENCRYPTION_KEY_FILE`) before the first letter arrives.
    #[serde(default)]
    pub cpr_encryption_key: String,
    pub api: ApiSettings,
    pub engine: EngineSettings,
    pub webhooks: WebhookSettings,
    /// Which transport each channel uses, and how to reach it.
    #[serde(default)]
    pub channels: crate::channels::ChannelsSettings,
    /// Business days and holidays for deadlines and escalation waits.
    #[serde(default = "default_calendar")]
    pub calendar: crate::domain::calendar::CalendarConfig,
    /// Escalation ladders per kind of letter.
    #[serde(default)]
    pub policies: crate::domain::policy::Policies,
    /// The citizens' and caseworkers' web pages: sessions and logins.
    #[serde(default)]
    pub web: WebSettings,
    /// The inclusion report: what reaching a citizen costs per channel.
    #[serde(default)]
    pub report: ReportSettings,
    /// How long letter content is kept.
    #[serde(default)]
    pub retention: RetentionSettings,
    /// Optional OpenTelemetry traces.
    #[serde(default)]
    pub telemetry: TelemetrySettings,
}

/// OpenTelemetry traces over OTLP/HTTP (JSON): off unless an endpoint is set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetrySettings {
    /// The collector's OTLP/HTTP base address, e.g. `http://otel-collector:4318` (spans go to
    /// `/v1/traces`). Empty: no traces.
    pub otlp_endpoint: String,
    /// `service.name` of the spans.
    pub service_name: String,
    /// How often queued spans are sent.
    pub export_interval_ms: u64,
    /// Spans per request to the collector.
    pub max_batch_spans: usize,
    /// Spans waiting for the collector; more are dropped (and counted in a warning).
    pub max_queued_spans: usize,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            otlp_endpoint: String::new(),
            service_name: "budbringer".to_owned(),
            export_interval_ms: 2000,
            max_batch_spans: 512,
            max_queued_spans: 8192,
        }
    }
}

/// Budbringer carries letters; it is not the authority's record of them (that is its case
/// system) nor the citizen's copy (Digital Post, or paper). So the content goes once nobody
/// needs it from here any more; the timeline, which proves what happened, stays.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Days after a letter's business is over — the later of its arrival and its deadline in
    /// force (an extended deadline counts) — that its body and documents are deleted. `0`:
    /// kept forever. 400 is as long as a reading link works, and covers a year of appeals after
    /// the deadline.
    pub letter_content_days: u32,
    /// How often the sweep looks for letters whose content is due (it also runs at start).
    pub sweep_interval_secs: u64,
    /// Letters per transaction, so a large backlog never holds the database for long.
    pub batch_size: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self { letter_content_days: 400, sweep_interval_secs: 3600, batch_size: 100 }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportSettings {
    /// Unit prices (per letter, message or caseworker minute) in the report's currency.
    pub prices: crate::web::staff::report::UnitPrices,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSettings {
    /// A session ends after this long without a request.
    pub session_idle_minutes: u32,
    /// A session ends after this long whatever happens.
    pub session_max_hours: u32,
    /// MitID (through a broker) for citizens: OpenID Connect. Absent: no MitID button.
    pub citizen_oidc: Option<OidcSettings>,
    /// The authority's identity provider for caseworkers. Absent: local accounts only.
    pub staff_oidc: Option<OidcSettings>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR blocks), for
    /// rate limits per client address. Anyone else's header is ignored.
    pub trusted_proxies: Vec<String>,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            session_idle_minutes: 30,
            session_max_hours: 12,
            citizen_oidc: None,
            staff_oidc: None,
            trusted_proxies: vec!["127.0.0.1".into(), "::1".into()],
        }
    }
}

/// An OpenID Connect provider Budbringer logs people in with (authorization code + PKCE).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    /// Issuer URL exactly as the provider states it (discovery is read from it).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Scopes asked for besides `openid`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The ID-token claim that identifies the person: the CPR number for citizens
    /// (a MitID broker's CPR claim), the account's subject for caseworkers (`sub`).
    pub identity_claim: String,
}

fn default_calendar() -> crate::domain::calendar::CalendarConfig {
    crate::domain::calendar::CalendarConfig {
        country: crate::domain::calendar::Country::Denmark,
        time_zone: None,
        christmas_eve_closed: true,
        new_years_eve_closed: true,
        closing_days: Vec::new(),
        closes_at: None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    /// Largest request body accepted, in bytes (documents arrive base64-encoded inside it).
    pub max_request_bytes: usize,
    pub letters: LetterLimits,
    /// Requests per second each authority may make (token bucket refill rate).
    pub rate_limit_per_second: f64,
    /// Burst size of the token bucket.
    pub rate_limit_burst: f64,
    /// Largest page of `GET /v1/letters` and `GET /v1/events`.
    pub max_page_size: u32,
    /// How long a citizen's reading link works, counted from the letter's arrival.
    pub reading_link_days: u32,
    /// An authority's letters that do not say whether they are part of a bulk run count as
    /// one once it sends more than `bulk_detect_burst` at once and then faster than this on
    /// average (per instance). Letters sent one by one by caseworkers come far slower.
    #[serde(default = "default_bulk_detect_per_second")]
    pub bulk_detect_per_second: f64,
    /// See `bulk_detect_per_second`; 0 turns the detection off.
    #[serde(default = "default_bulk_detect_burst")]
    pub bulk_detect_burst: f64,
}

fn default_bulk_detect_per_second() -> f64 {
    20.0
}

fn default_bulk_detect_burst() -> f64 {
    200.0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSettings {
    /// Run the delivery engine in this process.
    pub enabled: bool,
    /// How long a claimed job is reserved for one worker before others may take it.
    pub lease_secs: u64,
    /// How often to look for due work when nothing woke the engine.
    pub poll_interval_ms: u64,
    /// Deliveries (and one-time code texts) worked on at once: what the transports see.
    pub concurrency: usize,
    /// Escalations worked on at once, beside the deliveries. An escalation sends nothing
    /// itself (it queues deliveries), so many can wait for the same commit: a sweep of due
    /// timers is committed in large groups.
    #[serde(default = "default_escalation_concurrency")]
    pub escalation_concurrency: usize,
    /// During a burst new letters go first: while at least this many of this process's new
    /// letters wait for their commit, and for 50 ms after the engine last saw so many, it
    /// claims no new work. 0: never holds back. The default, 16, is reached in a burst but not
    /// at a steady 1,000 letters a second on this project's test machine; what holding back
    /// gains and costs is in docs/performance.md.
    #[serde(default = "default_intake_precedence_waiting")]
    pub intake_precedence_waiting: usize,
    /// … but no due job waits longer than this many milliseconds for it: once the engine has
    /// held back that long since it last caught up, it claims as usual until it catches up.
    #[serde(default = "default_intake_precedence_max_ms")]
    pub intake_precedence_max_ms: u64,
    /// Attempts before a delivery is failed permanently.
    pub max_attempts: u32,
    /// First retry delay; doubled per attempt up to `retry_max_secs`, with jitter.
    pub retry_base_ms: u64,
    pub retry_max_secs: u64,
    /// How long SIGTERM waits for in-flight work before releasing it.
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    pub timeout_secs: u64,
    pub retry_base_ms: u64,
    pub retry_max_secs: u64,
    /// Keep retrying a message for this long before giving it up (at least 3 days).
    pub give_up_after_hours: u64,
    /// After a secret is rotated, messages carry a signature with the old secret too for this
    /// long, so the receiver can switch without refusing a message.
    #[serde(default = "default_secret_overlap_hours")]
    pub secret_overlap_hours: u64,
}

fn default_escalation_concurrency() -> usize {
    128
}

fn default_intake_precedence_waiting() -> usize {
    16
}

fn default_intake_precedence_max_ms() -> u64 {
    5000
}

fn default_secret_overlap_hours() -> u64 {
    24
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: String::new(),
            data_dir: PathBuf::from("var"),
            public_url: "http://127.0.0.1:8080".to_owned(),
            migrate_on_start: true,
            log_format: LogFormat::Text,
            cpr_encryption_key: String::new(),
            api: ApiSettings {
                max_request_bytes: 64 * 1024 * 1024,
                letters: LetterLimits::default(),
                rate_limit_per_second: 2000.0,
                rate_limit_burst: 4000.0,
                max_page_size: 500,
                reading_link_days: 400,
                bulk_detect_per_second: default_bulk_detect_per_second(),
                bulk_detect_burst: default_bulk_detect_burst(),
            },
            engine: EngineSettings {
                enabled: true,
                lease_secs: 60,
                poll_interval_ms: 1000,
                concurrency: 32,
                escalation_concurrency: default_escalation_concurrency(),
                intake_precedence_waiting: default_intake_precedence_waiting(),
                intake_precedence_max_ms: default_intake_precedence_max_ms(),
                max_attempts: 12,
                retry_base_ms: 1000,
                retry_max_secs: 3600,
                shutdown_grace_secs: 20,
            },
            webhooks: WebhookSettings {
                timeout_secs: 10,
                retry_base_ms: 2000,
                retry_max_secs: 3600,
                give_up_after_hours: 72,
                secret_overlap_hours: default_secret_overlap_hours(),
            },
            channels: Default::default(),
            calendar: default_calendar(),
            policies: Default::default(),
            web: WebSettings::default(),
            report: ReportSettings::default(),
            retention: RetentionSettings::default(),
            telemetry: TelemetrySettings::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(String),
    #[error("configuration key `{key}`: {problem}")]
    Invalid { key: &'static str, problem: String },
}

impl Settings {
    /// Load settings in layers; `config/default.toml` is read when present in the working dir.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment =
            Figment::from(Serialized::defaults(Settings::default())).merge(Toml::file("config/default.toml"));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Load(format!("file {} does not exist", file.display())));
            }
            figment = figment.merge(Toml::file(file));
        }
        // `BUDBRINGER_X_FILE=/run/secrets/x` sets X to the file's content (secrets stay out of
        // the environment and the config file)
        figment = figment.merge(Env::prefixed("BUDBRINGER_").split("__").filter(|key| {
            let key = key.as_str().to_ascii_lowercase();
            // BUDBRINGER_CASEWORKER_PASSWORD is an input of `admin create-caseworker`
            !key.ends_with("_file") && key != "caseworker_password"
        }));
        figment = figment.merge(Serialized::defaults(secret_files()?));
        let settings: Settings = figment.extract().map_err(|e| ConfigError::Load(one_line(&e)))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, problem: &str| Err(ConfigError::Invalid { key, problem: problem.to_owned() });
        if !(self.database_url.is_empty()
            || self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return invalid("database_url", "must start with sqlite: or postgres://");
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return invalid("public_url", "must be an http:// or https:// URL");
        }
        if self.data_dir.as_os_str().is_empty() {
            return invalid("data_dir", "must not be empty");
        }
        if self.engine.lease_secs == 0 || self.engine.concurrency == 0 || self.engine.max_attempts == 0 {
            return invalid("engine", "lease_secs, concurrency and max_attempts must be above 0");
        }
        if let Err(e) = crate::domain::calendar::Calendar::try_from(self.calendar.clone()) {
            return Err(ConfigError::Invalid { key: "calendar", problem: e.to_string() });
        }
        if let Err(e) = self.channels.phone.office_hours() {
            return Err(ConfigError::Invalid { key: "channels.phone.office_hours", problem: e.to_string() });
        }
        if self.webhooks.give_up_after_hours < 72 {
            return invalid("webhooks.give_up_after_hours", "must be at least 72 (three days)");
        }
        if self.webhooks.secret_overlap_hours > 24 * 30 {
            return invalid("webhooks.secret_overlap_hours", "must be at most 720 (30 days)");
        }
        if self.retention.sweep_interval_secs == 0 || !(1..=10_000).contains(&self.retention.batch_size) {
            return invalid("retention", "sweep_interval_secs must be above 0 and batch_size 1 to 10000");
        }
        if self.api.rate_limit_per_second <= 0.0 || self.api.rate_limit_burst < 1.0 {
            return invalid("api.rate_limit_per_second", "rate and burst must be positive");
        }
        if self.api.bulk_detect_per_second <= 0.0 || self.api.bulk_detect_burst < 0.0 {
            return invalid("api.bulk_detect_per_second", "the rate must be positive and the burst 0 or more");
        }
        if !self.cpr_encryption_key.is_empty()
            && let Err(e) = crate::domain::cpr_seal::CprSealer::from_base64(&self.cpr_encryption_key)
        {
            return Err(ConfigError::Invalid { key: "cpr_encryption_key", problem: e.to_string() });
        }
        if self.web.session_idle_minutes == 0 || self.web.session_max_hours == 0 {
            return invalid("web.session_idle_minutes", "session lengths must be above 0");
        }
        for (key, oidc) in [("web.citizen_oidc", &self.web.citizen_oidc), ("web.staff_oidc", &self.web.staff_oidc)] {
            if let Some(oidc) = oidc
                && !(oidc.issuer.starts_with("https://") || oidc.issuer.starts_with("http://127.0.0.1"))
            {
                return invalid(key, "issuer must be an https:// URL (http only on 127.0.0.1, for tests)");
            }
        }
        Ok(())
    }

    /// Cookies get `Secure` when the public address is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The database URL to use, defaulting to SQLite under the data directory.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("budbringer.db").display())
        } else {
            self.database_url.clone()
        }
    }

    pub fn public_url(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}

/// Settings read from the files that `BUDBRINGER_*_FILE` variables name, as nested values.
fn secret_files() -> Result<figment::value::Dict, ConfigError> {
    let mut root = figment::value::Dict::new();
    for (name, path) in std::env::vars() {
        let Some(key) = name.strip_prefix("BUDBRINGER_").and_then(|k| k.strip_suffix("_FILE")) else { continue };
        let content = std::fs::read_to_string(&path)
            .map_err(|e| ConfigError::Load(format!("{name}: cannot read {path}: {e}")))?;
        // a trailing newline is an artefact of how the file was written, not part of the secret
        let value = content.trim_end_matches(['\n', '\r']).to_owned();
        let parts: Vec<String> = key.to_ascii_lowercase().split("__").map(str::to_owned).collect();
        let Some((last, parents)) = parts.split_last() else { continue };
        let mut dict = &mut root;
        for part in parents {
            let entry = dict.entry(part.clone()).or_insert_with(|| figment::value::Dict::new().into());
            let figment::value::Value::Dict(_, inner) = entry else {
                return Err(ConfigError::Load(format!("{name}: conflicts with another setting")));
            };
            dict = inner;
        }
        dict.insert(last.clone(), value.into());
    }
    Ok(root)
}

/// figment's errors can span lines; start-up failure must be one clear line naming the key.
fn one_line(error: &figment::Error) -> String {
    let mut parts = Vec::new();
    for e in error.clone() {
        let key = e.path.join(".");
        let msg = e.kind.to_string();
        parts.push(if key.is_empty() { msg } else { format!("key `{key}`: {msg}") });
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Settings::default().validate().unwrap();
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn environment_overrides_and_bad_values_name_the_key() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("BUDBRINGER_LISTEN", "127.0.0.1:9999");
            jail.set_env("BUDBRINGER_ENGINE__LEASE_SECS", "5");
            jail.set_env("BUDBRINGER_CASEWORKER_PASSWORD", "not a setting");
            let s = Settings::load(None).unwrap();
            assert_eq!(s.listen.port(), 9999);
            assert_eq!(s.engine.lease_secs, 5);

            jail.set_env("BUDBRINGER_LISTEN", "not-an-address");
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(err.contains("`listen`"), "{err}");
            assert!(!err.contains('\n'));

            // a secret from a file, trailing newline dropped
            jail.set_env("BUDBRINGER_LISTEN", "127.0.0.1:9999");
            jail.create_file("secret.txt", "postgres://u:p@db/budbringer\n")?;
            jail.set_env("BUDBRINGER_DATABASE_URL_FILE", "secret.txt");
            jail.create_file("oidc.txt", "s3cret")?;
            jail.set_env("BUDBRINGER_WEB__CITIZEN_OIDC__CLIENT_SECRET_FILE", "oidc.txt");
            jail.set_env("BUDBRINGER_WEB__CITIZEN_OIDC__ISSUER", "https://broker.example");
            jail.set_env("BUDBRINGER_WEB__CITIZEN_OIDC__CLIENT_ID", "bb");
            jail.set_env("BUDBRINGER_WEB__CITIZEN_OIDC__IDENTITY_CLAIM", "cpr");
            let s = Settings::load(None).unwrap();
            assert_eq!(s.database_url, "postgres://u:p@db/budbringer");
            assert_eq!(s.web.citizen_oidc.unwrap().client_secret, "s3cret");
            jail.set_env("BUDBRINGER_DATABASE_URL_FILE", "missing.txt");
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(err.contains("BUDBRINGER_DATABASE_URL_FILE"), "{err}");
            jail.clear_env();

            jail.set_env("BUDBRINGER_LISTEN", "127.0.0.1:9999");
            jail.set_env("BUDBRINGER_DATABASE_URL", "mysql://x");
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(err.contains("database_url"), "{err}");
            Ok(())
        });
    }

    /// The example configurations we ship must load as they are (unknown keys are refused).
    #[test]
    fn shipped_configurations_load() {
        // absolute paths: another test here moves the working directory (figment's Jail)
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for file in ["deploy/production.example.toml", "config/demo-fast.toml"] {
            if let Err(e) = Settings::load(Some(&root.join(file))) {
                panic!("{file}: {e}");
            }
        }
        // the Kubernetes ConfigMap carries a TOML file, indented under `budbringer.toml: |`
        let manifest = std::fs::read_to_string(root.join("deploy/kubernetes/configmap.yaml")).unwrap();
        let (_, block) = manifest.split_once("budbringer.toml: |\n").unwrap();
        let toml: String = block.lines().map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l))).collect();
        let dir = std::env::temp_dir().join(format!("bb-configmap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("budbringer.toml");
        std::fs::write(&file, toml).unwrap();
        let loaded = Settings::load(Some(&file));
        std::fs::remove_dir_all(&dir).ok();
        if let Err(e) = loaded {
            panic!("configmap.yaml: {e}");
        }
    }
}
