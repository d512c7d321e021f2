//! Load generator: drives a running gateway over HTTP the way an authority's bulk run would,
//! and reports letters accepted per second, latency percentiles, the time from accept to
//! delivered, and the server's peak memory. Prints a table, and JSON with `--json`.
//!
//!   cargo run --release --bin loadgen -- --url http://127.0.0.1:8080 --api-key KEY \
//!       --letters 20000 --concurrency 32 --server-pid $(pidof budbringer)
//!
//! Phase 1 (burst): `--letters` letters as fast as `--concurrency` connections allow; then
//! the wait until each has its `delivered` event (from the event feed): how long the whole
//! run took to deliver.
//! Phase 2 (paced): `--paced-rate` letters per second for `--paced-secs`; each letter's
//! `delivered` event gives the accept → delivered time at that rate. It starts once the
//! burst is delivered, or right after the burst with `--paced-right-after-burst`, when its
//! letters wait behind the burst's deliveries.

#[path = "loadgen/ceiling.rs"]
mod ceiling;

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser, Debug, Clone)]
#[command(about = "Load generator for the Budbringer authority API")]
struct Args {
    /// Base URL of the gateway.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An authority's API key (`budbringer admin create-api-key`, or the one `demo` prints).
    #[arg(long, env = "LOADGEN_API_KEY")]
    api_key: String,
    /// Letters in the burst phase.
    #[arg(long, default_value_t = 10_000)]
    letters: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Letters per second in the paced phase (0: skip it).
    #[arg(long, default_value_t = 1000)]
    paced_rate: u64,
    #[arg(long, default_value_t = 10)]
    paced_secs: u64,
    /// PID of the gateway, to report its peak resident memory (VmHWM).
    #[arg(long)]
    server_pid: Option<u32>,
    /// How long to wait for the last `delivered` events after each phase.
    #[arg(long, default_value_t = 30)]
    drain_secs: u64,
    /// Start the paced phase as soon as the burst is accepted, not once it is delivered.
    #[arg(long)]
    paced_right_after_burst: bool,
    /// Send the burst as a bulk run (`"bulk": true`): its deliveries then wait while the paced
    /// letters (always sent with `"bulk": false`) are delivered (see `--paced-right-after-burst`).
    /// Without this or `--burst-single` the burst says nothing and the gateway decides by its
    /// pace (see `api.bulk_detect_per_second`).
    #[arg(long, conflicts_with = "burst_single")]
    burst_bulk: bool,
    /// Send the burst as letters sent one by one (`"bulk": false`): the paced letters then
    /// wait behind it.
    #[arg(long)]
    burst_single: bool,
    /// Write the results as JSON to this file too.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Also measure the database's own ceiling: the same rows written by a minimal sqlx loop
    /// into this fresh, empty database (same kind and machine as the gateway's).
    #[arg(long)]
    ceiling_database_url: Option<String>,
    /// Label for the results (e.g. "sqlite" or "postgres").
    #[arg(long, default_value = "")]
    label: String,
}

/// A valid-looking CPR number per letter, so letters spread over many citizens.
fn cpr(n: u64) -> String {
    let day = 1 + n % 28;
    let month = 1 + (n / 28) % 12;
    let serial = (n / 336) % 10_000;
    format!("{day:02}{month:02}80{serial:04}")
}

/// `bulk`: what the letter says of being part of a bulk run; `None` leaves the field out.
fn letter(n: u64, run: &str, bulk: Option<bool>) -> Value {
    let mut letter = json!({
        "recipient": { "cpr": cpr(n), "name": "Belastning Testesen" },
        "subject": "Afgørelse om boligstøtte",
        "body": "Du får boligstøtte fra 1. januar.\n\nSvar inden fristen.",
        "importance": "important",
        "respond_by": "2099-12-31",
        "reference": format!("LOAD-{run}-{n}"),
        "contact": { "unit": "Borgerservice", "phone": "+45 70 10 10 10" }
    });
    if let Some(bulk) = bulk {
        letter["bulk"] = bulk.into();
    }
    letter
}

/// What the burst's letters say of being part of a bulk run.
fn burst_says(args: &Args) -> Option<bool> {
    match (args.burst_bulk, args.burst_single) {
        (true, _) => Some(true),
        (false, true) => Some(false),
        (false, false) => None,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failed: AtomicU64,
}

/// Post one letter; its latency in ms and its id, or `None` when it was not accepted.
async fn post(client: &reqwest::Client, args: &Args, body: &Value, key: &str) -> Option<(f64, String, i64)> {
    let sent_ms = jiff::Timestamp::now().as_millisecond();
    let start = Instant::now();
    let response = client
        .post(format!("{}/v1/letters", args.url))
        .bearer_auth(&args.api_key)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .ok()?;
    let status = response.status();
    let value: Value = response.json().await.ok()?;
    let latency = start.elapsed().as_secs_f64() * 1000.0;
    if status.as_u16() != 201 {
        return None;
    }
    Some((latency, value["id"].as_str()?.to_owned(), sent_ms))
}

struct Burst {
    accepted: u64,
    failed: u64,
    seconds: f64,
    latencies: Vec<f64>,
    /// When each accepted letter was sent (ms since the epoch), by its id.
    sent_at: std::collections::HashMap<String, i64>,
    /// When the burst began (ms since the epoch).
    began_ms: i64,
}

async fn burst(client: &reqwest::Client, args: &Args, run: &str) -> Burst {
    let next = Arc::new(AtomicU64::new(0));
    let tally = Arc::new(Tally::default());
    let began_ms = jiff::Timestamp::now().as_millisecond();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let (client, args, next, tally, run) =
            (client.clone(), args.clone(), Arc::clone(&next), Arc::clone(&tally), run.to_owned());
        tasks.spawn(async move {
            let (mut latencies, mut sent_at) = (Vec::new(), Vec::new());
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= args.letters {
                    break;
                }
                match post(&client, &args, &letter(n, &run, burst_says(&args)), &format!("{run}-b{n}")).await {
                    Some((ms, id, sent_ms)) => {
                        tally.ok.fetch_add(1, Ordering::Relaxed);
                        latencies.push(ms);
                        sent_at.push((id, sent_ms));
                    }
                    None => {
                        tally.failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            (latencies, sent_at)
        });
    }
    let (mut latencies, mut sent_at) = (Vec::new(), std::collections::HashMap::new());
    while let Some(done) = tasks.join_next().await {
        let (some_latencies, some_sent_at) = done.unwrap_or_default();
        latencies.extend(some_latencies);
        sent_at.extend(some_sent_at);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    Burst {
        accepted: tally.ok.load(Ordering::Relaxed),
        failed: tally.failed.load(Ordering::Relaxed),
        seconds,
        latencies,
        sent_at,
        began_ms,
    }
}

/// One page of the authority's event feed after `cursor`.
async fn events_page(client: &reqwest::Client, args: &Args, cursor: &str) -> anyhow::Result<Value> {
    Ok(client
        .get(format!("{}/v1/events", args.url))
        .query(&[("after", cursor), ("limit", "500")])
        .bearer_auth(&args.api_key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// The event feed's cursor now, so the paced phase reads only its own events.
async fn feed_cursor(client: &reqwest::Client, args: &Args) -> anyhow::Result<String> {
    let mut cursor = "0".to_owned();
    loop {
        let page = events_page(client, args, &cursor).await?;
        let next = page["next_cursor"].as_str().unwrap_or(&cursor).to_owned();
        if page["events"].as_array().is_none_or(Vec::is_empty) || next == cursor {
            return Ok(next);
        }
        cursor = next;
    }
}

struct Paced {
    sent: usize,
    delivered: usize,
    to_delivered_ms: Vec<f64>,
}

async fn paced(client: &reqwest::Client, args: &Args, run: &str) -> anyhow::Result<Paced> {
    let cursor = feed_cursor(client, args).await?;
    let total = args.paced_rate * args.paced_secs;
    let interval = Duration::from_secs_f64(1.0 / args.paced_rate as f64);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..total {
        ticker.tick().await;
        let (client, args, run) = (client.clone(), args.clone(), run.to_owned());
        tasks.spawn(async move {
            post(&client, &args, &letter(1_000_000 + n, &run, Some(false)), &format!("{run}-p{n}")).await
        });
    }
    let mut sent_at = std::collections::HashMap::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok(Some((_, id, sent_ms))) = done {
            sent_at.insert(id, sent_ms);
        }
    }
    let sent = sent_at.len();
    let delivered = follow_deliveries(client, args, cursor, sent_at).await?;
    Ok(Paced { sent, delivered: delivered.to_delivered_ms.len(), to_delivered_ms: delivered.to_delivered_ms })
}

struct Deliveries {
    /// Each delivered letter's time from sent to delivered (ms), sorted.
    to_delivered_ms: Vec<f64>,
    /// When the last of them was delivered (ms since the epoch).
    last_at_ms: Option<i64>,
}

/// Follows the event feed from `cursor` until each letter of `sent_at` (id → when it was
/// sent, ms since the epoch) has its first `delivered` event, or `--drain-secs` pass.
async fn follow_deliveries(
    client: &reqwest::Client,
    args: &Args,
    mut cursor: String,
    mut sent_at: std::collections::HashMap<String, i64>,
) -> anyhow::Result<Deliveries> {
    let mut to_delivered = Vec::with_capacity(sent_at.len());
    let mut last_at_ms = None;
    let deadline = Instant::now() + Duration::from_secs(args.drain_secs);
    while !sent_at.is_empty() && Instant::now() < deadline {
        let page = events_page(client, args, &cursor).await?;
        let events = page["events"].as_array().cloned().unwrap_or_default();
        for event in &events {
            if event["type"] != "delivered" {
                continue;
            }
            let Some(letter_id) = event["letter_id"].as_str() else { continue };
            let Some(sent_ms) = sent_at.remove(letter_id) else { continue };
            if let Some(at) = event["at"].as_str().and_then(|a| a.parse::<jiff::Timestamp>().ok()) {
                to_delivered.push((at.as_millisecond() - sent_ms) as f64);
                last_at_ms = last_at_ms.max(Some(at.as_millisecond()));
            }
        }
        cursor = page["next_cursor"].as_str().unwrap_or(&cursor).to_owned();
        if events.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    to_delivered.sort_by(f64::total_cmp);
    Ok(Deliveries { to_delivered_ms: to_delivered, last_at_ms })
}

/// Peak and current resident memory of a process, in MiB, from /proc.
fn memory_mib(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .context("building the HTTP client")?;
    let health = client.get(format!("{}/readyz", args.url)).send().await.context("reaching the gateway")?;
    if !health.status().is_success() {
        bail!("the gateway is not ready: {}", health.status());
    }
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();

    // the ceiling first, while the gateway is idle, so neither slows the other down
    let ceiling = match &args.ceiling_database_url {
        Some(url) => Some(ceiling::measure(url, args.letters as usize, args.concurrency).await?),
        None => None,
    };
    let paces = args.paced_rate > 0 && args.paced_secs > 0;
    // the burst's deliveries are followed only before a paced phase that waits for them
    let follows_burst = paces && !args.paced_right_after_burst;
    let before_burst = if follows_burst { Some(feed_cursor(&client, &args).await?) } else { None };
    let mut b = burst(&client, &args, &run).await;
    let rate = b.accepted as f64 / b.seconds;
    // so that the paced phase measures its rate and not the burst's backlog
    let burst_delivered = match before_burst {
        Some(cursor) => Some(follow_deliveries(&client, &args, cursor, std::mem::take(&mut b.sent_at)).await?),
        None => None,
    };
    let p = if paces { Some(paced(&client, &args, &run).await?) } else { None };
    let memory = args.server_pid.and_then(memory_mib);

    let mut report = json!({
        "label": args.label,
        "burst": {
            "letters": args.letters, "concurrency": args.concurrency, "accepted": b.accepted, "failed": b.failed,
            "seconds": b.seconds, "accepted_per_second": rate,
            "latency_ms": { "p50": percentile(&b.latencies, 50.0), "p95": percentile(&b.latencies, 95.0),
                            "p99": percentile(&b.latencies, 99.0), "max": b.latencies.last().copied().unwrap_or(f64::NAN) }
        }
    });
    println!("Budbringer load run {run} {}", args.label);
    println!("{:<38} {:>12}", "letters accepted (burst)", format!("{}/{}", b.accepted, args.letters));
    println!("{:<38} {:>12.0}", "accepted per second", rate);
    for (name, q) in [("p50", 50.0), ("p95", 95.0), ("p99", 99.0)] {
        println!("{:<38} {:>12.1}", format!("accept latency {name} (ms)"), percentile(&b.latencies, q));
    }
    if let Some(d) = &burst_delivered {
        let all_after_s = d.last_at_ms.map(|at| (at - b.began_ms) as f64 / 1000.0);
        report["burst"]["delivered"] = json!({
            "letters": d.to_delivered_ms.len(),
            "all_delivered_after_s": all_after_s.filter(|_| d.to_delivered_ms.len() as u64 == b.accepted),
            "to_delivered_ms": { "p50": percentile(&d.to_delivered_ms, 50.0), "p95": percentile(&d.to_delivered_ms, 95.0),
                                 "p99": percentile(&d.to_delivered_ms, 99.0) }
        });
        println!("{:<38} {:>12}", "burst: delivered", format!("{}/{}", d.to_delivered_ms.len(), b.accepted));
        if d.to_delivered_ms.len() as u64 == b.accepted {
            println!("{:<38} {:>12.1}", "burst: all delivered after (s)", all_after_s.unwrap_or(f64::NAN));
        }
        println!("{:<38} {:>12.1}", "burst: accept → delivered p95 (ms)", percentile(&d.to_delivered_ms, 95.0));
    }
    if let Some(p) = &p {
        report["paced"] = json!({
            "right_after_burst": args.paced_right_after_burst,
            "burst_said_bulk": burst_says(&args),
            "rate": args.paced_rate, "seconds": args.paced_secs, "accepted": p.sent, "delivered": p.delivered,
            "to_delivered_ms": { "p50": percentile(&p.to_delivered_ms, 50.0), "p95": percentile(&p.to_delivered_ms, 95.0),
                                 "p99": percentile(&p.to_delivered_ms, 99.0) }
        });
        println!(
            "{:<38} {:>12}",
            format!(
                "paced {}/s{}: delivered",
                args.paced_rate,
                match (args.paced_right_after_burst, burst_says(&args)) {
                    (true, Some(true)) => " after bulk burst",
                    (true, Some(false)) => " after single burst",
                    (true, None) => " after burst",
                    (false, _) => "",
                }
            ),
            format!("{}/{}", p.delivered, p.sent)
        );
        for (name, q) in [("p50", 50.0), ("p95", 95.0), ("p99", 99.0)] {
            println!("{:<38} {:>12.1}", format!("accept → delivered {name} (ms)"), percentile(&p.to_delivered_ms, q));
        }
    }
    if let Some((peak, now)) = memory {
        report["server_memory_mib"] = json!({ "peak": peak, "now": now });
        println!("{:<38} {:>12.1}", "server peak RSS (MiB)", peak);
    }
    if let Some(c) = &ceiling {
        report["ceiling"] = json!({
            "one_letter_per_transaction_per_second": c.one_per_transaction,
            "letters_per_transaction": ceiling::GROUP, "grouped_per_second": c.grouped,
            "gateway_share_of_one_per_transaction": rate / c.one_per_transaction,
            "gateway_share_of_grouped": rate / c.grouped,
        });
        println!("{:<38} {:>12.0}", "ceiling: sqlx loop, 1 letter/tx (/s)", c.one_per_transaction);
        println!("{:<38} {:>12.0}", format!("ceiling: sqlx loop, {} letters/tx (/s)", ceiling::GROUP), c.grouped);
        println!("{:<38} {:>11.0}%", "gateway as share of 1 letter/tx", 100.0 * rate / c.one_per_transaction);
        println!("{:<38} {:>11.0}%", "gateway as share of grouped", 100.0 * rate / c.grouped);
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
