//! The caseworkers' alert list and inclusion report with 1,000,000 letters in the store.
//!
//! Seeds `BENCH_LETTERS` letters (default 1,000,000) for one authority over a year, on SQLite
//! in a temp dir (bulk inserts in big transactions), with deliveries, alerts and callback
//! tasks in realistic shares; then times the alert list and the report (`BENCH_RUNS` runs,
//! default 30) and prints p50/p95. The seeding goes through the roll-up triggers like any
//! writer; the report is checked against the scan it replaced, which is timed beside it.
//! CI: `BENCH_LETTERS=2000 cargo bench --bench staff_pages`.

use budbringer::store::staff_pages::{AlertFilter, ReportQuery};
use budbringer::store::{self, Authority};
use std::time::{Duration, Instant};
use uuid::Uuid;

const DAY_MS: i64 = 86_400_000;
const START_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn time<F, Fut>(name: &str, runs: usize, mut run: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut times = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs {
        let start = Instant::now();
        rows = run().await;
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "{name:<28} p50 {:>8.2} ms   p95 {:>8.2} ms   ({rows} rows, {runs} runs)",
        percentile(&times, 0.5).as_secs_f64() * 1000.0,
        percentile(&times, 0.95).as_secs_f64() * 1000.0
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let letters = env_number("BENCH_LETTERS", 1_000_000);
    let runs = env_number("BENCH_RUNS", 30).max(1);
    let dir = std::env::temp_dir().join(format!("budbringer-bench-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let store = store::connect(&url).await?;
    store.migrate().await?;
    let authority = Authority {
        id: Uuid::now_v7(),
        name: "Bench Kommune".into(),
        cvr: "12345678".into(),
        created_at: START_MS,
        office_hours: None,
        time_zone: None,
        closing_days: sqlx::types::Json(Vec::new()),
    };
    store.create_authority(&authority).await?;

    let seeding = Instant::now();
    let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect(&url).await?;
    sqlx::query("PRAGMA synchronous = OFF").execute(&pool).await?;
    let citizens = (letters / 10).max(1);
    let mut citizen_ids = Vec::with_capacity(citizens);
    let mut tx = pool.begin().await?;
    for i in 0..citizens {
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO citizens (id, cpr_hash, cpr, exempt_from_digital_post, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(id)
        .bind(format!("hash-{i}"))
        .bind(format!("{:010}", i))
        .bind(i % 25 == 0)
        .bind(START_MS)
        .execute(&mut *tx)
        .await?;
        citizen_ids.push(id);
    }
    tx.commit().await?;
    let units = ["Borgerservice", "Jobcenter", "Ydelse", "Børn og unge"];
    let span_ms = 365 * DAY_MS;
    let batch = 50_000;
    let mut done = 0;
    while done < letters {
        let mut tx = pool.begin().await?;
        for i in done..(done + batch).min(letters) {
            let id = Uuid::now_v7();
            let created = START_MS + (i as i64 * span_ms) / letters as i64;
            let important = i % 3 == 0;
            let escalated = important && i % 7 == 0;
            let exempt = i % 25 == 0;
            let deadline =
                jiff::Timestamp::from_millisecond(created + 30 * DAY_MS)?.to_zoned(jiff::tz::TimeZone::UTC).date();
            let evidence = (important && !escalated).then_some(created + 2 * DAY_MS);
            let contact = serde_json::json!({ "unit": units[i % units.len()] }).to_string();
            sqlx::query(
                "INSERT INTO letters (id, authority_id, citizen_id, recipient, subject, body, importance, respond_by, \
                 deadline, contact, status, evidence_at, escalation_step, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, '{\"cpr_masked\":\"010190-****\"}', 'Afgørelse', 'Tekst', ?4, ?5, ?5, ?6, \
                 'delivered', ?7, ?8, ?9, ?9)",
            )
            .bind(id)
            .bind(authority.id)
            .bind(citizen_ids[i % citizens])
            .bind(if important { "important" } else { "normal" })
            .bind(deadline.to_string())
            .bind(contact)
            .bind(evidence)
            .bind(if escalated { 2 } else { 0 })
            .bind(created)
            .execute(&mut *tx)
            .await?;
            let mut channels = vec![(if exempt { "print" } else { "digital_post" }, "letter")];
            if escalated {
                channels.extend([("sms", "notice"), ("print", "letter"), ("phone", "letter")]);
            }
            for (channel, purpose) in channels {
                sqlx::query(
                    "INSERT INTO deliveries (id, letter_id, channel, purpose, status, attempts, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, 'delivered', 1, ?5, ?5)",
                )
                .bind(Uuid::now_v7())
                .bind(id)
                .bind(channel)
                .bind(purpose)
                .bind(created)
                .execute(&mut *tx)
                .await?;
            }
            if escalated {
                let open = created > START_MS + span_ms - 30 * DAY_MS;
                sqlx::query(
                    "INSERT INTO alerts (id, authority_id, letter_id, citizen_id, kind, status, details, created_at) \
                     VALUES (?1, ?2, ?3, ?4, 'unopened', ?5, '{}', ?6)",
                )
                .bind(Uuid::now_v7())
                .bind(authority.id)
                .bind(id)
                .bind(citizen_ids[i % citizens])
                .bind(if open { "open" } else { "resolved" })
                .bind(created)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO callback_tasks (id, authority_id, letter_id, phone, summary, status, due_at, \
                     minutes_spent, last_outcome, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, '+4512345678', 'Ring', ?4, ?5, 6, ?6, ?5, ?5)",
                )
                .bind(Uuid::now_v7())
                .bind(authority.id)
                .bind(id)
                .bind(if open { "open" } else { "done" })
                .bind(created)
                .bind(if open { None } else { Some("reached") })
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        done = (done + batch).min(letters);
    }
    sqlx::query("ANALYZE").execute(&pool).await?;
    pool.close().await;
    println!("seeded {letters} letters for {citizens} citizens in {:.1} s", seeding.elapsed().as_secs_f64());

    let filter = AlertFilter { limit: 200, ..Default::default() };
    time("alert list (open, 200)", runs, || async {
        store.staff_alerts(authority.id, &filter).await.map(|a| a.len()).unwrap_or_default()
    })
    .await;
    let by_unit = AlertFilter { unit: Some("Jobcenter".into()), limit: 200, ..Default::default() };
    time("alert list (one unit)", runs, || async {
        store.staff_alerts(authority.id, &by_unit).await.map(|a| a.len()).unwrap_or_default()
    })
    .await;
    let month = ReportQuery { from_ms: START_MS + 300 * DAY_MS, to_ms: START_MS + 331 * DAY_MS, unit: None };
    time("report (one month)", runs, || async {
        store.inclusion_report(authority.id, &month).await.map(|r| r.letters.letters as usize).unwrap_or_default()
    })
    .await;
    let month_unit = ReportQuery { unit: Some("Borgerservice".into()), ..month.clone() };
    time("report (one month, one unit)", runs, || async {
        store.inclusion_report(authority.id, &month_unit).await.map(|r| r.letters.letters as usize).unwrap_or_default()
    })
    .await;
    let year = ReportQuery { from_ms: START_MS, to_ms: START_MS + 366 * DAY_MS, unit: None };
    time("report (whole year)", runs.min(5), || async {
        store.inclusion_report(authority.id, &year).await.map(|r| r.letters.letters as usize).unwrap_or_default()
    })
    .await;
    time("report scan (one month)", runs.min(5), || async {
        store.inclusion_report_scan(authority.id, &month).await.map(|r| r.letters.letters as usize).unwrap_or_default()
    })
    .await;
    // the roll-ups must say what the scan says
    for query in [&month, &month_unit, &year] {
        let (fast, scan) = (
            store.inclusion_report(authority.id, query).await?,
            store.inclusion_report_scan(authority.id, query).await?,
        );
        if fast != scan {
            return Err(format!("the roll-ups disagree with the scan for {query:?}: {fast:?} <> {scan:?}").into());
        }
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
