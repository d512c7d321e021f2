//! The inclusion report's hourly roll-ups (migration 0005) against the scan they replace:
//! random work through the store's own methods (and a few raw updates no method makes yet),
//! then both reports for several periods and units; and the backfill of a database that
//! already has letters when it is upgraded.

use crate::harness::*;
use budbringer::domain::letter::ContactPoint;
use budbringer::domain::policy::DeadlineChange;
use budbringer::domain::{ChannelKind, EventKind, Importance};
use budbringer::store::staff_pages::{ReportCounts, ReportQuery};
use budbringer::store::{
    Authority, CallLog, CallOutcome, DeliveryOutcome, EscalationPlan, Job, NewCallback, NewDelivery, NewLetter,
    ProfileUpdate, ProviderReceipt, Recipient, Reply, ReplyTarget, Store, connect,
};
use jiff::ToSpan as _;
use jiff::civil::Date;
use sqlx::SqlSafeStr as _;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use std::sync::Arc;
use uuid::Uuid;

on_both_backends!(the_roll_ups_match_the_scan_after_random_work, an_upgraded_database_gets_its_letters_rolled_up);

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// 2026-03-02T00:00:00Z
const T0: i64 = 1_772_409_600_000;
const UNITS: [Option<&str>; 4] = [None, Some("Borgerservice"), Some("Jobcenter"), Some("")];
const CITIZENS: u64 = 12;

/// PostgreSQL's triggers only append deltas (migration 0009): the gateway's background task
/// moves them into the hour tables, engine or no engine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_the_gateway_folds_the_deltas_in_the_background() {
    let Some(backend) = Backend::require_postgres() else { return };
    let app = TestApp::start_with(&backend, |s| s.engine.enabled = false).await;
    let (authority, key) = app.authority("Fold Kommune").await;
    for i in 0..5 {
        let response = app.post_letter(&key, &letter(&format!("01017012{i:02}"))).await;
        assert_eq!(response.status(), 201);
    }
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    let folded = eventually(std::time::Duration::from_secs(10), || async {
        let (deltas, letters): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM report_letter_deltas), \
             (SELECT CAST(COALESCE(SUM(letters), 0) AS BIGINT) FROM report_letter_hours WHERE authority_id = $1)",
        )
        .bind(authority)
        .fetch_one(&pool)
        .await
        .unwrap();
        deltas == 0 && letters == 5
    })
    .await;
    assert!(folded, "the five letters' deltas were moved into the hour table");
    pool.close().await;
    app.finish().await;
}

#[test]
fn only_whole_hours_from_the_second_hour_on_use_the_roll_ups() {
    let q = |from_ms, to_ms, unit: Option<&str>| ReportQuery { from_ms, to_ms, unit: unit.map(str::to_owned) };
    assert_eq!(q(T0, T0 + DAY, None).hours(), Some((T0 / HOUR, T0 / HOUR + 24)));
    assert_eq!(q(T0, T0 + DAY, Some("Jobcenter")).hours(), Some((T0 / HOUR, T0 / HOUR + 24)));
    // a zone with a half-hour offset, and an end off the hour
    assert_eq!(q(T0 - HOUR / 2, T0 + DAY, None).hours(), None);
    assert_eq!(q(T0, T0 + DAY + 1, None).hours(), None);
    // hour 0 also holds the last hour before 1970 (integer division truncates)
    assert_eq!(q(0, DAY, None).hours(), None);
    // the roll-ups keep letters without a unit under ""
    assert_eq!(q(T0, T0 + DAY, Some("")).hours(), None);
}

/// splitmix64: reproducible from the seed in a failure's message.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn ms_below(&mut self, n: i64) -> i64 {
        self.below(n as u64) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Raw SQL on the test database, for changes no store method makes (yet).
enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Raw {
    async fn connect(url: &str) -> Raw {
        if url.starts_with("sqlite:") {
            let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
            Raw::Sqlite(sqlx::SqlitePool::connect_with(options.create_if_missing(true)).await.unwrap())
        } else {
            Raw::Postgres(sqlx::PgPool::connect(url).await.unwrap())
        }
    }

    async fn close(self) {
        match self {
            Raw::Sqlite(pool) => pool.close().await,
            Raw::Postgres(pool) => pool.close().await,
        }
    }
}

/// Run one statement with its binds on either backend (`$1`, `$2`, … in order of first use).
macro_rules! raw {
    ($raw:expr, $sql:expr $(, $bind:expr)* $(,)?) => {
        match $raw {
            Raw::Sqlite(pool) => {
                sqlx::query($sql)$(.bind($bind))*.execute(pool).await.unwrap();
            }
            Raw::Postgres(pool) => {
                sqlx::query($sql)$(.bind($bind))*.execute(pool).await.unwrap();
            }
        }
    };
}

fn date_of(ms: i64) -> Date {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_zoned(jiff::tz::TimeZone::UTC).date()
}

fn contact(unit: Option<&str>) -> ContactPoint {
    ContactPoint { unit: unit.map(str::to_owned), ..Default::default() }
}

async fn new_authority(store: &Arc<dyn Store>, name: &str) -> Uuid {
    let authority = Authority {
        id: Uuid::now_v7(),
        name: name.into(),
        cvr: format!("{:08}", rand_u32() % 100_000_000),
        created_at: T0,
        office_hours: None,
        closing_days: sqlx::types::Json(Vec::new()),
        time_zone: None,
    };
    store.create_authority(&authority).await.unwrap();
    authority.id
}

/// The periods compared: whole hours, as the report page asks for in whole-hour zones.
fn periods() -> Vec<ReportQuery> {
    let q = |from_ms, to_ms, unit: Option<&str>| ReportQuery { from_ms, to_ms, unit: unit.map(str::to_owned) };
    vec![
        q(T0 - 10 * DAY, T0 + 30 * DAY, None),
        q(T0 - 10 * DAY, T0 + 30 * DAY, Some("Jobcenter")),
        q(T0 - 10 * DAY, T0 + 30 * DAY, Some("Borgerservice")),
        q(T0 - HOUR, T0 + DAY - HOUR, None), // a Copenhagen day in winter
        q(T0 + DAY + 5 * HOUR, T0 + DAY + 12 * HOUR, None),
        q(T0 + 2 * DAY, T0 + 3 * DAY, Some("Jobcenter")),
        q(T0 + 40 * DAY, T0 + 41 * DAY, None), // nothing in it
    ]
}

/// Both reports for every period; returns the widest one for the caller's sanity checks.
async fn assert_roll_ups_match(store: &Arc<dyn Store>, authorities: &[Uuid], context: &str) -> ReportCounts {
    let mut widest = ReportCounts::default();
    for (a, authority) in authorities.iter().enumerate() {
        for (p, query) in periods().iter().enumerate() {
            assert!(query.hours().is_some(), "{query:?} must be answered by the roll-ups");
            let fast = store.inclusion_report(*authority, query).await.unwrap();
            let scan = store.inclusion_report_scan(*authority, query).await.unwrap();
            assert_eq!(fast, scan, "{context}: authority {a}, {query:?}");
            if a == 0 && p == 0 {
                widest = fast;
            }
        }
    }
    widest
}

/// Where a letter is on its ladder, as the test drove it.
#[derive(Clone)]
struct Ladder {
    step: i64,
    deadline: Option<Date>,
}

#[derive(Clone)]
struct Letter {
    id: Uuid,
    authority: Uuid,
    created: i64,
    ladder: Ladder,
    delivery: Uuid,
}

async fn the_roll_ups_match_the_scan_after_random_work(backend: Backend) {
    let seed =
        std::env::var("REPORT_ROLLUPS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| u64::from(rand_u32()));
    let mut rng = Rng(seed);
    let context = format!("seed {seed} (REPORT_ROLLUPS_SEED={seed} repeats it)");
    let db = TestDb::new(&backend).await;
    let store = connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let raw = Raw::connect(&db.url).await;
    let authorities = [new_authority(&store, "Aarhus").await, new_authority(&store, "Odense").await];
    let mut exempt = [false; CITIZENS as usize];
    let mut letters: Vec<Letter> = Vec::new();
    let mut sent_deliveries: Vec<(Uuid, i64)> = Vec::new();
    let mut claim_at = 4_000_000_000_000i64;

    for op in 0..500 {
        let kind = if letters.len() < 8 { 0 } else { rng.below(100) };
        match kind {
            // a letter, in one of four days' hours, to one of a dozen citizens; now and then
            // several at once from one authority and unit, in one hour or across its end, which
            // the store commits as one group (on PostgreSQL one statement, whose inserted rows
            // the roll-ups sum per group: migration 0013)
            0..=27 => {
                let together = if rng.chance(30) { 2 + rng.below(6) } else { 1 };
                let (authority, unit) = (*rng.pick(&authorities), *rng.pick(&UNITS));
                let first_created = T0 + rng.ms_below(4 * DAY);
                let mut batch = Vec::new();
                for _ in 0..together {
                    let citizen = rng.below(CITIZENS);
                    let created = first_created + rng.ms_below(20 * 60_000);
                    let deadline = rng.chance(75).then(|| date_of(created + rng.ms_below(5 * DAY)));
                    let channel = *rng.pick(&[ChannelKind::DigitalPost, ChannelKind::Print, ChannelKind::Phone]);
                    let notices = if rng.chance(40) {
                        vec![NewDelivery {
                            channel: ChannelKind::Sms,
                            delivery_id: Uuid::now_v7(),
                            job_id: Uuid::now_v7(),
                            helper: None,
                        }]
                    } else {
                        vec![]
                    };
                    let letter = NewLetter {
                        bulk: None,
                        id: Uuid::now_v7(),
                        authority_id: authority,
                        citizen_id: Uuid::now_v7(),
                        cpr: format!("01019{citizen:05}"),
                        cpr_hash: format!("hash-{citizen}"),
                        recipient: Recipient { cpr_masked: "010190-****".into(), name: None, address: None },
                        subject: "Afgørelse".into(),
                        body: "Tekst".into(),
                        importance: if rng.chance(40) { Importance::Important } else { Importance::Normal },
                        category: None,
                        respond_by: deadline.map(|d| d.to_string()),
                        reference: None,
                        contact: contact(unit),
                        documents: vec![],
                        idempotency_key: None,
                        request_hash: None,
                        channel,
                        delivery_id: Uuid::now_v7(),
                        job_id: Uuid::now_v7(),
                        notices,
                        escalation_timer: None,
                        max_attempts: 3,
                        now: created,
                    };
                    letters.push(Letter {
                        id: letter.id,
                        authority: letter.authority_id,
                        created,
                        ladder: Ladder { step: 0, deadline },
                        delivery: letter.delivery_id,
                    });
                    batch.push(letter);
                }
                let mut inserts = tokio::task::JoinSet::new();
                for letter in batch {
                    let store = store.clone();
                    inserts.spawn(async move { store.insert_letter(&letter).await.unwrap() });
                }
                while let Some(inserted) = inserts.join_next().await {
                    inserted.unwrap();
                }
            }
            // the engine takes a delivery and the transport answers
            28..=50 => {
                claim_at += 10;
                let jobs = store.claim_jobs("report-rollups", claim_at, 1, 3).await.unwrap();
                for job in jobs.into_iter().filter(|j| j.kind == "deliver") {
                    let Some(work) = store.start_delivery(&job, claim_at).await.unwrap() else { continue };
                    let now = work.letter.created_at + rng.ms_below(3 * DAY);
                    let outcome = match rng.below(4) {
                        0 => DeliveryOutcome::Delivered { transport: "test".into(), provider_ref: None },
                        1 => DeliveryOutcome::Failed { error: "refused".into() },
                        2 => DeliveryOutcome::Retry { at: claim_at, error: "busy".into() },
                        _ => {
                            let callback =
                                (work.delivery.channel == ChannelKind::Phone || rng.chance(20)).then(|| NewCallback {
                                    id: Uuid::now_v7(),
                                    phone: "+4512345678".into(),
                                    summary: "Ring".into(),
                                    due_at: now,
                                });
                            sent_deliveries.push((work.delivery.id, now));
                            DeliveryOutcome::Sent {
                                transport: "test".into(),
                                provider_ref: Some(Uuid::now_v7().to_string()),
                                callback,
                            }
                        }
                    };
                    store.finish_delivery(&job, &outcome, now).await.unwrap();
                }
            }
            // a provider's receipt for a message it took
            51..=55 if !sent_deliveries.is_empty() => {
                let (delivery, at) = *rng.pick(&sent_deliveries);
                let receipt = if rng.chance(50) {
                    ProviderReceipt::Delivered { detail: None }
                } else {
                    ProviderReceipt::Failed { error: "no such number".into() }
                };
                store.record_receipt(delivery, &receipt, at + HOUR).await.unwrap();
            }
            // the citizen opens the letter, before or after the end of its deadline day
            56..=65 => {
                let letter = rng.pick(&letters).clone();
                let at = letter.created + rng.ms_below(8 * DAY);
                store
                    .record_evidence(letter.authority, letter.id, EventKind::Opened, serde_json::json!({}), at)
                    .await
                    .unwrap();
            }
            // a rung of the ladder: more deliveries, maybe a later deadline
            66..=74 => {
                let index = rng.below(letters.len() as u64) as usize;
                let letter = letters[index].clone();
                let channel = *rng.pick(&[ChannelKind::Sms, ChannelKind::Print, ChannelKind::Phone]);
                let new_deadline =
                    letter.ladder.deadline.map(|d| d.checked_add((1 + rng.below(4) as i64).days()).unwrap());
                let plan = EscalationPlan {
                    step: letter.ladder.step,
                    deliveries: vec![NewDelivery {
                        channel,
                        delivery_id: Uuid::now_v7(),
                        job_id: Uuid::now_v7(),
                        helper: None,
                    }],
                    deadline: match (letter.ladder.deadline, new_deadline) {
                        (Some(old), Some(new)) => DeadlineChange::Extended { old, new },
                        _ => DeadlineChange::Unchanged { reason: "no_deadline" },
                    },
                    alerts: vec![],
                    next: None,
                    max_attempts: 3,
                };
                let job = Job {
                    id: Uuid::now_v7(),
                    kind: "escalate".into(),
                    letter_id: letter.id,
                    delivery_id: None,
                    step: Some(letter.ladder.step),
                    payload: None,
                    attempts: 1,
                    max_attempts: 1000,
                    lane: budbringer::store::LANE_FIRST,
                    start: Default::default(),
                };
                if store.apply_escalation(&job, &plan, letter.created + DAY).await.unwrap() {
                    letters[index].ladder = Ladder { step: letter.ladder.step + 1, deadline: new_deadline };
                }
            }
            // a caseworker's call, with minutes
            75..=82 => {
                let authority = *rng.pick(&authorities);
                let tasks = store.callback_tasks(authority, false).await.unwrap();
                if tasks.is_empty() {
                    continue;
                }
                let task = rng.pick(&tasks);
                let log = CallLog {
                    outcome: *rng.pick(&[CallOutcome::Reached, CallOutcome::NoAnswer, CallOutcome::WrongNumber]),
                    minutes: rng.below(20) as i64,
                    max_no_answers: 2,
                    retry_at: task.due_at + HOUR,
                };
                store.record_call(authority, task.id, &log, task.due_at + HOUR).await.unwrap();
            }
            // the citizen answers RING: a callback task without a delivery
            83..=85 => {
                let letter = rng.pick(&letters).clone();
                let now = letter.created + rng.ms_below(2 * DAY);
                let target = ReplyTarget {
                    delivery_id: letter.delivery,
                    letter_id: letter.id,
                    authority_id: letter.authority,
                    subject: "Afgørelse".into(),
                    sender: "Kommunen".into(),
                    phone: None,
                };
                let task = NewCallback {
                    id: Uuid::now_v7(),
                    phone: "+4512345678".into(),
                    summary: "Ring".into(),
                    due_at: now,
                };
                store.record_reply(&target, &Reply::CallbackRequest(task), now).await.unwrap();
            }
            // a citizen becomes exempt from Digital Post, or stops being so
            86..=89 => {
                let citizen = rng.below(CITIZENS);
                exempt[citizen as usize] ^= true;
                let profile = ProfileUpdate {
                    cpr: format!("01019{citizen:05}"),
                    cpr_hash: format!("hash-{citizen}"),
                    exempt_from_digital_post: exempt[citizen as usize],
                    ..Default::default()
                };
                store.set_contact_profile(&profile, T0).await.unwrap();
            }
            90..=91 => {
                let letter = rng.pick(&letters).clone();
                store.cancel_letter(letter.authority, letter.id, letter.created + HOUR).await.unwrap();
            }
            // no method moves a letter to another unit or hour, or changes a deadline after
            // the evidence: an import or a repair might
            92..=93 => {
                // often one with callback tasks, which count under their letter's unit
                let tasks = store.callback_tasks(*rng.pick(&authorities), true).await.unwrap();
                let letter_id =
                    if tasks.is_empty() || rng.chance(30) { rng.pick(&letters).id } else { rng.pick(&tasks).letter_id };
                let moved = sqlx::types::Json(contact(*rng.pick(&UNITS)));
                raw!(&raw, "UPDATE letters SET contact = $1 WHERE id = $2", moved, letter_id);
            }
            94..=97 => {
                let letter = rng.pick(&letters).clone();
                let deadline = rng.chance(80).then(|| date_of(letter.created + rng.ms_below(9 * DAY)).to_string());
                raw!(&raw, "UPDATE letters SET deadline = $1 WHERE id = $2", deadline, letter.id);
            }
            98..=99 => {
                let index = rng.below(letters.len() as u64) as usize;
                let shift = (rng.ms_below(7) - 3) * HOUR + rng.ms_below(HOUR);
                raw!(&raw, "UPDATE letters SET created_at = created_at + $1 WHERE id = $2", shift, letters[index].id);
                letters[index].created += shift;
            }
            _ => {}
        }
        // PostgreSQL: the gateway folds the deltas in the background (migration 0009); here
        // the store's own fold runs now and then, at random points of the work
        if rng.below(30) == 0 {
            store.fold_report_deltas().await.unwrap();
        }
        if op % 125 == 124 {
            assert_roll_ups_match(&store, &authorities, &format!("{context}, after {} operations", op + 1)).await;
        }
    }
    let counts = assert_roll_ups_match(&store, &authorities, &format!("{context}, at the end")).await;
    if let Raw::Postgres(pool) = &raw {
        // the pending deltas folded into the hour tables change nothing
        store.fold_report_deltas().await.unwrap();
        let deltas: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM report_letter_deltas) + (SELECT COUNT(*) FROM report_channel_deltas) \
             + (SELECT COUNT(*) FROM report_callback_deltas)",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(deltas, 0, "folded");
        let folded = assert_roll_ups_match(&store, &authorities, &format!("{context}, folded")).await;
        assert_eq!(folded, counts);
    }
    // the comparison had something to compare
    assert!(counts.letters.letters > 20, "{context}: {counts:?}");
    assert!(counts.channels.iter().any(|c| c.failed > 0), "{context}: {counts:?}");
    assert!(counts.callbacks.tasks > 0, "{context}: {counts:?}");
    assert!(letters.iter().any(|l| l.ladder.step > 0), "{context}: no escalation took");
    raw.close().await;
    store.close().await;
    db.drop_database().await;
}

/// The schema of the release before the roll-ups (migrations 0001–0004).
fn before_roll_ups(sqlite: bool) -> Migrator {
    let files: [(i64, &str, &'static str); 4] = if sqlite {
        [
            (1, "core", include_str!("../../migrations/sqlite/0001_core.sql")),
            (2, "web", include_str!("../../migrations/sqlite/0002_web.sql")),
            (3, "citizen pages", include_str!("../../migrations/sqlite/0003_citizen_pages.sql")),
            (4, "staff pages", include_str!("../../migrations/sqlite/0004_staff_pages.sql")),
        ]
    } else {
        [
            (1, "core", include_str!("../../migrations/postgres/0001_core.sql")),
            (2, "web", include_str!("../../migrations/postgres/0002_web.sql")),
            (3, "citizen pages", include_str!("../../migrations/postgres/0003_citizen_pages.sql")),
            (4, "staff pages", include_str!("../../migrations/postgres/0004_staff_pages.sql")),
        ]
    };
    Migrator::with_migrations(
        files
            .into_iter()
            .map(|(version, name, sql)| {
                Migration::new(version, name.into(), MigrationType::Simple, sql.into_sql_str(), false)
            })
            .collect(),
    )
}

async fn an_upgraded_database_gets_its_letters_rolled_up(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let raw = Raw::connect(&db.url).await;
    match &raw {
        Raw::Sqlite(pool) => before_roll_ups(true).run(pool).await.unwrap(),
        Raw::Postgres(pool) => before_roll_ups(false).run(pool).await.unwrap(),
    }
    // what the previous release left: letters over three days in two units and none, to
    // citizens of whom every third is exempt, with deliveries (some failed) and callback tasks
    let authority = Uuid::now_v7();
    raw!(
        &raw,
        "INSERT INTO authorities (id, name, cvr, created_at) VALUES ($1, 'Randers Kommune', '29189730', $2)",
        authority,
        T0
    );
    let citizens: Vec<Uuid> = (0..6).map(|_| Uuid::now_v7()).collect();
    for (i, citizen) in citizens.iter().enumerate() {
        raw!(
            &raw,
            "INSERT INTO citizens (id, cpr_hash, cpr, exempt_from_digital_post, created_at) VALUES ($1, $2, 'x', $3, $4)",
            *citizen,
            format!("hash-{i}"),
            i % 3 == 0,
            T0
        );
    }
    let letters = 60;
    for i in 0..letters {
        let (id, created) = (Uuid::now_v7(), T0 + i * 71 * 60_000);
        let unit = UNITS[(i % 3) as usize];
        let deadline = date_of(created + (i % 4) * DAY).to_string();
        let evidence = (i % 2 == 0).then_some(created + (i % 5) * DAY);
        raw!(
            &raw,
            "INSERT INTO letters (id, authority_id, citizen_id, recipient, subject, body, importance, respond_by, \
             deadline, contact, status, evidence_at, escalation_step, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'Afgørelse', 'Tekst', $5, $6, $6, $7, 'delivered', $8, $9, $10, $10)",
            id,
            authority,
            citizens[(i % 6) as usize],
            sqlx::types::Json(serde_json::json!({ "cpr_masked": "010190-****" })),
            if i % 3 == 0 { "important" } else { "normal" },
            deadline,
            sqlx::types::Json(contact(unit)),
            evidence,
            i % 3,
            created
        );
        for (n, channel) in ["digital_post", "sms", "print"].iter().take(1 + (i % 3) as usize).enumerate() {
            let delivery = Uuid::now_v7();
            raw!(
                &raw,
                "INSERT INTO deliveries (id, letter_id, channel, purpose, status, attempts, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 1, $6, $6)",
                delivery,
                id,
                *channel,
                if *channel == "sms" { "notice" } else { "letter" },
                if (i + n as i64) % 4 == 0 { "failed" } else { "delivered" },
                created
            );
        }
        if i % 4 == 1 {
            raw!(
                &raw,
                "INSERT INTO callback_tasks (id, authority_id, letter_id, phone, summary, status, due_at, no_answers, \
                 minutes_spent, last_outcome, created_at, updated_at) \
                 VALUES ($1, $2, $3, '+4512345678', 'Ring', $4, $5, $6, $7, $8, $5, $5)",
                Uuid::now_v7(),
                authority,
                id,
                ["open", "done", "failed"][(i % 3) as usize],
                created + 2 * HOUR,
                i % 2,
                i % 7,
                (i % 3 == 1).then_some("reached")
            );
        }
    }
    raw.close().await;

    // this release migrates forward and fills the roll-ups from what is there
    let store = connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let counts = assert_roll_ups_match(&store, &[authority], "after the upgrade").await;
    assert_eq!(counts.letters.letters, letters);
    assert_eq!(counts.citizens.exempt, 2);
    assert!(counts.callbacks.minutes > 0 && counts.channels.iter().any(|c| c.failed > 0), "{counts:?}");

    // and from then on the triggers keep them
    let more = NewLetter {
        bulk: None,
        id: Uuid::now_v7(),
        authority_id: authority,
        citizen_id: Uuid::now_v7(),
        cpr: "0101900001".into(),
        cpr_hash: "hash-0".into(),
        recipient: Recipient { cpr_masked: "010190-****".into(), name: None, address: None },
        subject: "Afgørelse".into(),
        body: "Tekst".into(),
        importance: Importance::Important,
        category: None,
        respond_by: Some(date_of(T0 + DAY).to_string()),
        reference: None,
        contact: contact(Some("Jobcenter")),
        documents: vec![],
        idempotency_key: None,
        request_hash: None,
        channel: ChannelKind::Print,
        delivery_id: Uuid::now_v7(),
        job_id: Uuid::now_v7(),
        notices: vec![],
        escalation_timer: None,
        max_attempts: 3,
        now: T0 + 5 * HOUR,
    };
    store.insert_letter(&more).await.unwrap();
    store.record_evidence(authority, more.id, EventKind::Opened, serde_json::json!({}), T0 + 6 * HOUR).await.unwrap();
    let after = assert_roll_ups_match(&store, &[authority], "after a new letter").await;
    assert_eq!(after.letters.letters, letters + 1);
    store.close().await;
    db.drop_database().await;
}
