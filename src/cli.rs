//! The command line: `serve`, `migrate`, `demo` and `admin …`. Output meant for scripts
//! (keys, ids) goes to stdout as JSON; logs go to stderr.

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use uuid::Uuid;

use crate::config::{LogFormat, Settings};
use crate::domain::secret;
use crate::store::staff_pages::Caseworker;
use crate::store::{self, Authority, Store, Webhook};

#[derive(Parser)]
#[command(name = "budbringer", version, about = "Contact gateway: letters from authorities that reach citizens")]
struct Cli {
    /// A TOML file layered over config/default.toml (environment variables still win).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway: HTTP API and delivery engine.
    Serve,
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Try it out: SQLite under ./var, a demo authority, citizens and letters, then serve.
    Demo,
    /// Set up authorities, API keys and webhooks.
    #[command(subcommand)]
    Admin(Admin),
    /// Copy the SQLite database to a new file while the gateway runs (a consistent snapshot).
    /// Restore: stop the gateway and put the copy in place of the database file.
    Backup {
        /// The file to write; it must not exist yet.
        #[arg(long)]
        to: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum Admin {
    /// Create an authority; prints {"authority_id", "api_key"}.
    CreateAuthority {
        #[arg(long)]
        name: String,
        /// The authority's CVR number (8 digits).
        #[arg(long)]
        cvr: String,
    },
    /// Create another API key for an authority; prints {"api_key"}.
    CreateApiKey {
        #[arg(long, value_name = "AUTHORITY_ID")]
        authority: Uuid,
    },
    /// Register a webhook for an authority; prints {"webhook_id", "secret"}.
    AddWebhook {
        #[arg(long, value_name = "AUTHORITY_ID")]
        authority: Uuid,
        #[arg(long)]
        url: String,
        /// `whsec_…`; generated when absent.
        #[arg(long)]
        secret: Option<String>,
    },
    /// Create a caseworker account; prints {"caseworker_id"}. The password is read from
    /// `BUDBRINGER_CASEWORKER_PASSWORD` or, when that is unset, the first line of stdin
    /// (never from the command line, where other users could see it). No password and an
    /// `--oidc-subject`: the account logs in with OpenID Connect only.
    CreateCaseworker {
        #[arg(long, value_name = "AUTHORITY_ID")]
        authority: Uuid,
        #[arg(long)]
        username: String,
        /// The name colleagues and citizens see ("Name (Authority)" in the access log).
        #[arg(long)]
        name: String,
        /// `caseworker`, `team_lead` or `administrator`.
        #[arg(long, default_value = "caseworker")]
        role: String,
        #[arg(long)]
        unit: Option<String>,
        /// The subject (the configured identity claim) the organisation's login provider gives them.
        #[arg(long)]
        oidc_subject: Option<String>,
    },
}

/// A caseworker account to create.
pub struct NewCaseworker<'a> {
    pub authority_id: Uuid,
    pub username: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub unit: Option<&'a str>,
    pub oidc_subject: Option<&'a str>,
    pub password: Option<&'a str>,
}

/// Create a caseworker account (password hashed with argon2).
pub async fn create_caseworker(store: &dyn Store, new: &NewCaseworker<'_>) -> anyhow::Result<Caseworker> {
    if store.authority(new.authority_id).await?.is_none() {
        bail!("no authority with id {}", new.authority_id);
    }
    let username = new.username.trim();
    if username.is_empty() || username.len() > 100 || username.chars().any(char::is_whitespace) {
        bail!("--username must be 1-100 characters without spaces");
    }
    if new.name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    if !matches!(new.role, "caseworker" | "team_lead" | "administrator") {
        bail!("--role must be caseworker, team_lead or administrator");
    }
    let password_hash = match new.password.filter(|p| !p.is_empty()) {
        Some(p) => Some(crate::web::staff::login::hash_password(p)?),
        None if new.oidc_subject.is_some() => None,
        None => bail!("a password is needed (BUDBRINGER_CASEWORKER_PASSWORD or stdin) unless --oidc-subject is given"),
    };
    let caseworker = Caseworker {
        id: Uuid::now_v7(),
        authority_id: new.authority_id,
        username: username.to_owned(),
        display_name: new.name.trim().to_owned(),
        role: new.role.to_owned(),
        password_hash,
        oidc_subject: new.oidc_subject.map(str::to_owned),
        unit: new.unit.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()),
        created_at: jiff::Timestamp::now().as_millisecond(),
        disabled_at: None,
    };
    store.create_caseworker(&caseworker).await?;
    Ok(caseworker)
}

fn read_password() -> anyhow::Result<Option<String>> {
    if let Ok(p) = std::env::var("BUDBRINGER_CASEWORKER_PASSWORD") {
        return Ok(Some(p));
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("reading the password from stdin")?;
    let line = line.trim_end_matches(['\r', '\n']).to_owned();
    Ok(Some(line).filter(|l| !l.is_empty()))
}

/// Entry point for the `budbringer` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("budbringer: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("budbringer: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("budbringer: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            let store = open(&settings).await?;
            store.close().await;
            println!("{}", serde_json::json!({ "migrated": true }));
            Ok(())
        }
        Command::Demo => crate::demo::run(settings).await,
        Command::Backup { to } => {
            let store = open(&settings).await?;
            let result = store.backup(&to).await;
            store.close().await;
            result.with_context(|| format!("backing up to {}", to.display()))?;
            let bytes = std::fs::metadata(&to).map(|m| m.len()).unwrap_or(0);
            println!("{}", serde_json::json!({ "backup": to.display().to_string(), "bytes": bytes }));
            Ok(())
        }
        Command::Admin(admin) => {
            let store = open(&settings).await?;
            let result = run_admin(admin, store.as_ref()).await;
            store.close().await;
            println!("{}", result?);
            Ok(())
        }
    }
}

async fn open(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let store = store::connect(&settings.effective_database_url()).await.context("opening the database")?;
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    crate::app::serve_on(listener, settings, shutdown_signal()).await
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown signal received");
}

/// Create an authority and its first API key.
pub async fn create_authority(store: &dyn Store, name: &str, cvr: &str) -> anyhow::Result<(Authority, String)> {
    if name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    if cvr.len() != 8 || !cvr.bytes().all(|b| b.is_ascii_digit()) {
        bail!("--cvr must be 8 digits");
    }
    let now = jiff::Timestamp::now().as_millisecond();
    let authority = Authority {
        id: Uuid::now_v7(),
        name: name.trim().to_owned(),
        cvr: cvr.to_owned(),
        created_at: now,
        office_hours: None,
        closing_days: sqlx::types::Json(Vec::new()),
        time_zone: None,
    };
    store.create_authority(&authority).await?;
    let key = create_api_key(store, authority.id).await?;
    Ok((authority, key))
}

pub async fn create_api_key(store: &dyn Store, authority_id: Uuid) -> anyhow::Result<String> {
    let key = secret::new_api_key();
    let now = jiff::Timestamp::now().as_millisecond();
    store.add_api_key(authority_id, &secret::hash_api_key(&key), &secret::api_key_hint(&key), now).await?;
    Ok(key)
}

async fn run_admin(admin: Admin, store: &dyn Store) -> anyhow::Result<serde_json::Value> {
    match admin {
        Admin::CreateAuthority { name, cvr } => {
            let (authority, key) = create_authority(store, &name, &cvr).await?;
            Ok(serde_json::json!({ "authority_id": authority.id, "api_key": key }))
        }
        Admin::CreateApiKey { authority } => {
            if store.authority(authority).await?.is_none() {
                bail!("no authority with id {authority}");
            }
            Ok(serde_json::json!({ "api_key": create_api_key(store, authority).await? }))
        }
        Admin::AddWebhook { authority, url, secret: given } => {
            if store.authority(authority).await?.is_none() {
                bail!("no authority with id {authority}");
            }
            if !crate::api::webhooks::valid_webhook_url(&url) {
                bail!("--url must be an http or https URL");
            }
            if let Some(s) = &given {
                secret::webhook_key(s)?;
            }
            let webhook = Webhook {
                id: Uuid::now_v7(),
                authority_id: authority,
                url,
                secret: given.unwrap_or_else(secret::new_webhook_secret),
                created_at: jiff::Timestamp::now().as_millisecond(),
            };
            store.add_webhook(&webhook).await?;
            Ok(serde_json::json!({ "webhook_id": webhook.id, "secret": webhook.secret }))
        }
        Admin::CreateCaseworker { authority, username, name, role, unit, oidc_subject } => {
            let password = read_password()?;
            let new = NewCaseworker {
                authority_id: authority,
                username: &username,
                name: &name,
                role: &role,
                unit: unit.as_deref(),
                oidc_subject: oidc_subject.as_deref(),
                password: password.as_deref(),
            };
            let caseworker = create_caseworker(store, &new).await?;
            Ok(serde_json::json!({ "caseworker_id": caseworker.id }))
        }
    }
}
