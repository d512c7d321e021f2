//! The command line: `serve`, `migrate`, `demo` and `admin …`. Output meant for scripts
//! (keys, ids) goes to stdout as JSON; logs go to stderr.

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use uuid::Uuid;

use crate::config::{LogFormat, Settings};
use crate::domain::audit_chain::ActorKind;
use crate::domain::secret;
use crate::store::staff_pages::Caseworker;
use crate::store::{self, AuditEntry, Authority, Store, Webhook};

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
    /// The audit log of administrative and caseworker actions.
    #[command(subcommand)]
    Audit(Audit),
}

#[derive(Subcommand)]
enum Audit {
    /// Check the hash chain from the first row to the last. Prints the rows checked and the
    /// head (`SEQ:HASH`, worth recording outside the database); exit status 3 and the first
    /// bad seq when the chain is broken.
    Verify {
        /// A head recorded earlier (`SEQ:HASH`): that row must still be there, unchanged.
        #[arg(long, value_name = "SEQ:HASH")]
        head: Option<crate::domain::audit_chain::ChainHead>,
    },
    /// Print rows as JSON lines, oldest first.
    List {
        /// Only rows after this seq.
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
}

/// `audit verify` found a broken chain (exit status 3, apart from failing to check at all).
#[derive(Debug, thiserror::Error)]
#[error("the audit log is broken at {0}")]
pub struct AuditChainBroken(crate::domain::audit_chain::ChainBreak);

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
    /// Give a webhook a new secret; prints {"webhook_id", "secret", "previous_secret_expires_at"}.
    /// The old secret keeps signing beside it for `webhooks.secret_overlap_hours`.
    RotateWebhookSecret {
        #[arg(long, value_name = "WEBHOOK_ID")]
        webhook: Uuid,
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
    let traces = init_logging(settings.log_format, &settings.telemetry);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("budbringer: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let traces = traces.map(|exporter| runtime.block_on(async { exporter.spawn() }));
    let outcome = runtime.block_on(run(cli.command, settings));
    if let Some(traces) = traces {
        runtime.block_on(traces.shutdown(std::time::Duration::from_secs(5)));
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("budbringer: {e:#}");
            if e.is::<AuditChainBroken>() { ExitCode::from(3) } else { ExitCode::FAILURE }
        }
    }
}

/// Logs to stderr (text or JSON, filtered by `RUST_LOG`), and traces to an OTLP collector
/// when one is configured; returns the traces' exporter, to be started on the runtime.
fn init_logging(format: LogFormat, telemetry: &crate::config::TelemetrySettings) -> Option<crate::telemetry::Exporter> {
    use tracing_subscriber::prelude::*;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let logs = match format {
        LogFormat::Json => {
            tracing_subscriber::fmt::layer().json().flatten_event(true).with_writer(std::io::stderr).boxed()
        }
        LogFormat::Text => tracing_subscriber::fmt::layer().with_writer(std::io::stderr).boxed(),
    };
    let (traces, exporter) = crate::telemetry::pipeline(telemetry).unzip();
    // each its own filter: the logs' level does not decide which spans are traced
    let traces =
        traces.map(|layer| layer.with_filter(tracing_subscriber::filter::filter_fn(crate::telemetry::is_exported)));
    tracing_subscriber::registry().with(logs.with_filter(filter)).with(traces).init();
    exporter
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
        Command::Audit(audit) => {
            let store = open(&settings).await?;
            let result = run_audit(audit, store.as_ref()).await;
            store.close().await;
            result
        }
        Command::Admin(admin) => {
            let store = open(&settings).await?;
            let result = run_admin(admin, store.as_ref(), &settings).await;
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
    let (authority, _, key) = new_authority(store, name, cvr).await?;
    Ok((authority, key))
}

/// An authority, its first API key's id and the key.
async fn new_authority(store: &dyn Store, name: &str, cvr: &str) -> anyhow::Result<(Authority, Uuid, String)> {
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
    let (key_id, key) = issue_api_key(store, authority.id).await?;
    Ok((authority, key_id, key))
}

pub async fn create_api_key(store: &dyn Store, authority_id: Uuid) -> anyhow::Result<String> {
    Ok(issue_api_key(store, authority_id).await?.1)
}

/// A new key for an authority: its id and the key itself (shown once, stored hashed).
async fn issue_api_key(store: &dyn Store, authority_id: Uuid) -> anyhow::Result<(Uuid, String)> {
    let key = secret::new_api_key();
    let now = jiff::Timestamp::now().as_millisecond();
    let id = store.add_api_key(authority_id, &secret::hash_api_key(&key), &secret::api_key_hint(&key), now).await?;
    Ok((id, key))
}

/// Note an operator's command in the audit log, by their login name.
async fn audit(
    store: &dyn Store,
    authority_id: Uuid,
    action: &'static str,
    subject: impl ToString,
    details: serde_json::Value,
) -> anyhow::Result<()> {
    let operator = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    let at = jiff::Timestamp::now().as_millisecond();
    let entry =
        AuditEntry::new(at, ActorKind::AdminCli, operator, Some(authority_id), action, subject).details(details);
    store.append_audit(&entry).await.context("writing the audit log")?;
    Ok(())
}

/// Rows read per query by `audit verify`.
const AUDIT_PAGE: u32 = 1000;

async fn run_audit(audit: Audit, store: &dyn Store) -> anyhow::Result<()> {
    use crate::domain::audit_chain::Verifier;
    match audit {
        Audit::Verify { head } => {
            let mut verifier = Verifier::new();
            if let Some(head) = head {
                verifier = verifier.with_recorded_head(head);
            }
            let mut after = 0;
            let outcome = loop {
                let page = store.audit_entries(after, AUDIT_PAGE).await?;
                let Some(last) = page.last() else { break verifier.clone().finish() };
                after = last.seq;
                if let Err(broken) = page.iter().try_for_each(|row| verifier.check(row)) {
                    break Err(broken);
                }
            };
            match outcome {
                Ok(head) => {
                    // `record`: what to keep elsewhere and pass back as `--head`
                    let head =
                        head.map(|h| serde_json::json!({ "seq": h.seq, "hash": h.hash, "record": h.to_string() }));
                    println!("{}", serde_json::json!({ "verified": true, "rows": verifier.checked(), "head": head }));
                    Ok(())
                }
                Err(broken) => {
                    println!(
                        "{}",
                        serde_json::json!({
                            "verified": false,
                            "rows": verifier.checked(),
                            "first_bad_seq": broken.seq,
                            "reason": broken.reason.to_string(),
                        })
                    );
                    Err(AuditChainBroken(broken).into())
                }
            }
        }
        Audit::List { after, limit } => {
            for row in store.audit_entries(after, limit).await? {
                let details: serde_json::Value = serde_json::from_str(&row.details).unwrap_or(serde_json::Value::Null);
                println!(
                    "{}",
                    serde_json::json!({
                        "seq": row.seq,
                        "at": crate::domain::event::format_ms(row.at),
                        "actor_kind": row.actor_kind,
                        "actor_id": row.actor_id,
                        "authority_id": row.authority_id,
                        "action": row.action,
                        "subject": row.subject,
                        "details": details,
                        "prev_hash": row.prev_hash,
                        "hash": row.hash,
                    })
                );
            }
            Ok(())
        }
    }
}

async fn run_admin(admin: Admin, store: &dyn Store, settings: &Settings) -> anyhow::Result<serde_json::Value> {
    match admin {
        Admin::CreateAuthority { name, cvr } => {
            let (authority, key_id, key) = new_authority(store, &name, &cvr).await?;
            audit(store, authority.id, "authority.created", authority.id, serde_json::json!({ "cvr": authority.cvr }))
                .await?;
            audit(store, authority.id, "api_key.created", key_id, serde_json::json!({})).await?;
            Ok(serde_json::json!({ "authority_id": authority.id, "api_key": key }))
        }
        Admin::CreateApiKey { authority } => {
            if store.authority(authority).await?.is_none() {
                bail!("no authority with id {authority}");
            }
            let (key_id, key) = issue_api_key(store, authority).await?;
            audit(store, authority, "api_key.created", key_id, serde_json::json!({})).await?;
            Ok(serde_json::json!({ "api_key": key }))
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
            let chosen = given.unwrap_or_else(secret::new_webhook_secret);
            let webhook = Webhook::new(authority, url, chosen, jiff::Timestamp::now().as_millisecond());
            store.add_webhook(&webhook).await?;
            audit(store, authority, "webhook.added", webhook.id, store::audit::webhook_details(&webhook.url)).await?;
            Ok(serde_json::json!({ "webhook_id": webhook.id, "secret": webhook.secret }))
        }
        Admin::RotateWebhookSecret { webhook } => {
            let Some(found) = store.webhook(webhook).await? else { bail!("no webhook with id {webhook}") };
            let now = jiff::Timestamp::now().as_millisecond();
            let overlap = settings.webhooks.secret_overlap_hours;
            let Some(rotated) =
                crate::api::webhooks::rotate_secret(store, found.authority_id, webhook, overlap, now).await?
            else {
                bail!("no webhook with id {webhook}");
            };
            audit(store, found.authority_id, "webhook.secret_rotated", webhook, serde_json::json!({})).await?;
            Ok(serde_json::json!({
                "webhook_id": rotated.id,
                "secret": rotated.secret,
                "previous_secret_expires_at": rotated.previous_secret_expires_at.map(crate::domain::event::format_ms),
            }))
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
            let details = serde_json::json!({ "role": caseworker.role, "oidc": caseworker.oidc_subject.is_some() });
            audit(store, authority, "caseworker.created", caseworker.id, details).await?;
            Ok(serde_json::json!({ "caseworker_id": caseworker.id }))
        }
    }
}
