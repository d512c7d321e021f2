//! `budbringer demo`: the embedded default with something to look at — a demo authority,
//! two citizens (one exempt from Digital Post) and a few letters sent through the real API.

use anyhow::Context as _;
use std::time::Duration;

use crate::config::Settings;
use crate::domain::secret::keyed_hash;
use crate::domain::{ChannelKind, Cpr};
use crate::store::{self, ProfileUpdate};

const DEMO_CVR: &str = "11111111";
/// Fictitious CPR numbers (birth dates that pass validation; serials made up).
const CITIZEN_DIGITAL: &str = "0101901234";
const CITIZEN_EXEMPT: &str = "1502454321";

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let store = store::connect(&settings.effective_database_url()).await.context("opening the database")?;
    store.migrate().await.context("migrating the database")?;
    let authority = match store.authority_by_cvr(DEMO_CVR).await? {
        Some(a) => a,
        None => crate::cli::create_authority(store.as_ref(), "Demo Kommune", DEMO_CVR).await?.0,
    };
    let api_key = crate::cli::create_api_key(store.as_ref(), authority.id).await?;
    let caseworker_password = demo_caseworker(store.as_ref(), authority.id).await?;
    let cpr_key = store.instance_key("cpr-hash").await?;
    let exempt = Cpr::parse(CITIZEN_EXEMPT)?;
    store
        .set_contact_profile(
            &ProfileUpdate {
                cpr: exempt.as_str().to_owned(),
                cpr_hash: keyed_hash(&cpr_key, exempt.as_str()),
                preferred_channel: Some(ChannelKind::Print),
                exempt_from_digital_post: true,
                phone: Some("+4512345678".into()),
                email: None,
                language: Some("da".into()),
                large_print: true,
                name: Some("Karen Nielsen".into()),
                ..Default::default()
            },
            jiff::Timestamp::now().as_millisecond(),
        )
        .await?;
    store.close().await;

    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let address = listener.local_addr()?;
    let public_url = settings.public_url().to_owned();
    let outbox = settings.data_dir.join("outbox");
    let server = tokio::spawn(crate::app::serve_on(listener, settings, crate::cli::shutdown_signal()));

    let base = format!("http://{address}");
    let client = reqwest::Client::new();
    wait_until_ready(&client, &base).await?;
    let in_30_days = jiff::Zoned::now().date().saturating_add(jiff::Span::new().days(30)).to_string();
    let letters = [
        (
            "demo-1",
            serde_json::json!({
                "recipient": { "cpr": CITIZEN_DIGITAL, "name": "Jens Jensen" },
                "subject": "Afgørelse om boligstøtte",
                "body": "Du får boligstøtte fra 1. januar.\n\nSvar senest på fristen, hvis noget er forkert.",
                "importance": "important",
                "respond_by": in_30_days,
                "reference": "SAG-2026-0001",
                "contact": { "unit": "Borgerservice", "phone": "+45 70 10 10 10", "hours": "Man–fre 9–12" }
            }),
        ),
        (
            "demo-2",
            serde_json::json!({
                "recipient": { "cpr": CITIZEN_DIGITAL, "name": "Jens Jensen" },
                "subject": "Nyhedsbrev fra kommunen",
                "body": "Biblioteket holder åbent længere i december.",
                "reference": "INFO-12"
            }),
        ),
        (
            "demo-3",
            serde_json::json!({
                "recipient": {
                    "cpr": CITIZEN_EXEMPT, "name": "Karen Nielsen",
                    "address": { "street": "Vestergade", "house_number": "12", "floor": "2", "door": "th", "postcode": "8000", "town": "Aarhus C" }
                },
                "subject": "Indkaldelse til samtale",
                "body": "Du er indkaldt til en samtale på jobcentret.",
                "importance": "important",
                "respond_by": in_30_days,
                "reference": "SAG-2026-0002"
            }),
        ),
    ];
    for (key, letter) in letters {
        let response = client
            .post(format!("{base}/v1/letters"))
            .bearer_auth(&api_key)
            .header("Idempotency-Key", key)
            .json(&letter)
            .send()
            .await?;
        if !response.status().is_success() {
            anyhow::bail!("demo letter {key} was refused: {}", response.text().await.unwrap_or_default());
        }
    }
    println!(
        "\nBudbringer demo is running at {public_url}\n  API reference: {public_url}/docs\n  API key (Demo Kommune): {api_key}\n  Caseworker pages: {public_url}/staff  (user: {DEMO_CASEWORKER}, password: {caseworker_password})\n  Outbox (file drops): {}\n\nTry:\n  curl -s -H 'Authorization: Bearer {api_key}' {public_url}/v1/letters\n\nStop with Ctrl-C.",
        outbox.display()
    );
    server.await.context("server task")??;
    Ok(())
}

const DEMO_CASEWORKER: &str = "demo";

/// The demo caseworker gets a fresh random password at every start (only its hash is kept).
async fn demo_caseworker(store: &dyn store::Store, authority_id: uuid::Uuid) -> anyhow::Result<String> {
    use base64::Engine as _;
    let password = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(crate::domain::secret::random_bytes::<12>());
    match store.caseworker_by_username(DEMO_CASEWORKER).await? {
        Some(existing) => {
            let hash = crate::web::staff::login::hash_password(&password)?;
            store.set_caseworker_password(existing.id, &hash).await?;
        }
        None => {
            let new = crate::cli::NewCaseworker {
                authority_id,
                username: DEMO_CASEWORKER,
                name: "Demo Sagsbehandler",
                role: "team_lead",
                unit: Some("Borgerservice"),
                oidc_subject: None,
                password: Some(&password),
            };
            crate::cli::create_caseworker(store, &new).await?;
        }
    }
    Ok(password)
}

async fn wait_until_ready(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the gateway did not become ready")
}
