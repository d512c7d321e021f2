//! The escalation sweep: 1,000,000 stored letters, 100,000 of them with an escalation timer due.
//!
//! Seeds `BENCH_LETTERS` important letters (default 1,000,000; ten per citizen, every citizen
//! with a phone number and an address) whose Digital Post delivery is `delivered` and that have
//! no evidence. Each letter has its first escalation timer: `BENCH_DUE` of them (default
//! 100,000, spread over the store) due now, the rest over the next 30 days. Seeding is plain SQL
//! in big transactions on a connection of its own and is not timed. Then the real gateway starts
//! (`App::new` + `app::run`: the engine, webhooks, the retention sweep; file-drop transports in
//! a temp dir) and is timed until no escalation timer is due or in flight any more. Prints the
//! seconds, timers per second and the peak RSS of this process during the sweep, and checks
//! that every due letter escalated exactly once.
//!
//! SQLite in a temp dir by default. `BENCH_DATABASE_URL=postgres://user@host/db` runs on
//! PostgreSQL instead, in a fresh database created beside `db` and dropped afterwards.
//! `BENCH_CONCURRENCY` overrides `engine.concurrency` (deliveries worked on at once) and
//! `BENCH_ESCALATION_CONCURRENCY` `engine.escalation_concurrency` (escalations at once);
//! `BENCH_LOG=budbringer=debug` prints the gateway's logs. `BENCH_UNTIL_DELIVERED=1` also waits
//! for the SMS and print deliveries the escalations queued and prints when the last was done:
//! the sweep's whole work, since the engine may leave those until the timers are claimed.
//! CI: `BENCH_LETTERS=2000 BENCH_DUE=200 cargo bench --profile dev --bench escalation_sweep`.

use budbringer::app::{self, App};
use budbringer::config::Settings;
use budbringer::domain::SystemClock;
use budbringer::domain::cpr_seal::CprSealer;
use budbringer::store::{self, Authority};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

// the gateway's allocator (`src/main.rs`), so the peak RSS is what the gateway's would be
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const DAY_MS: i64 = 86_400_000;
/// Rows per seeding transaction.
const CHUNK: usize = 50_000;
const LETTERS_PER_CITIZEN: usize = 10;

// the middle group of a seeded id, telling its table apart
const CITIZEN: u16 = 1;
const LETTER: u16 = 2;
const DELIVERY: u16 = 3;
const JOB: u16 = 4;
const EVENT_ACCEPTED: u16 = 5;
const EVENT_DISPATCHED: u16 = 6;
const EVENT_DELIVERED: u16 = 7;

const BODY: &str = "Kære borger. Du har søgt om boligstøtte. Vi har nu behandlet din ansøgning og \
    truffet afgørelse. Du får boligstøtte fra den 1. januar. Beløbet udbetales månedligt til din \
    NemKonto. Hvis dine forhold ændrer sig, skal du give os besked, fordi det kan have betydning \
    for din boligstøtte. Du kan klage over afgørelsen inden fire uger. Læs mere om dine \
    muligheder i vejledningen, der er vedlagt. Har du spørgsmål, er du velkommen til at ringe.";
const ADDRESS: &str =
    r#"{"street":"Vestergade","house_number":"12","floor":"2","door":"tv","postcode":"8000","town":"Aarhus C"}"#;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// A field of /proc/self/status in KiB (`VmHWM`: peak resident set, `VmRSS`: now).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Start `VmHWM` afresh from the present RSS, so the peak is the sweep's, not the seeding's.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "unknown".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

/// A multiplier for which `i * m % n` visits every letter once in a well-spread order (near
/// n times the golden ratio, and coprime with n), which picks exactly `BENCH_DUE` due letters
/// scattered over the whole store.
fn scatter(n: usize) -> usize {
    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let mut m = ((n as f64 * 0.618_033_988_75) as usize).max(1);
    while gcd(m, n) != 1 {
        m += 1;
    }
    m
}

/// Where the benchmark's database lives, and how to remove it.
enum Target {
    Sqlite { url: String },
    Postgres { url: String, admin: String, name: String },
}

impl Target {
    async fn new(dir: &Path) -> Result<Target, BoxError> {
        match std::env::var("BENCH_DATABASE_URL") {
            Ok(admin) if admin.starts_with("postgres") => {
                let name = format!("bb_bench_{}", Uuid::new_v4().simple());
                let pool = sqlx::PgPool::connect(&admin).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await?;
                pool.close().await;
                let mut url = reqwest::Url::parse(&admin)?;
                url.set_path(&format!("/{name}"));
                Ok(Target::Postgres { url: url.to_string(), admin, name })
            }
            Ok(other) if !other.is_empty() => {
                Err(format!("BENCH_DATABASE_URL must be a postgres:// URL, not {other}").into())
            }
            _ => Ok(Target::Sqlite { url: format!("sqlite://{}", dir.join("bench.db").display()) }),
        }
    }

    fn url(&self) -> &str {
        match self {
            Target::Sqlite { url } | Target::Postgres { url, .. } => url,
        }
    }

    async fn remove(&self) {
        if let Target::Postgres { admin, name, .. } = self
            && let Ok(pool) = sqlx::PgPool::connect(admin).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&pool)
                .await;
            pool.close().await;
        }
    }
}

/// A connection of the benchmark's own, for seeding in bulk and for watching the jobs table.
/// The rows are made by the database itself (`INSERT … SELECT` over a run of numbers), so the
/// few places where the dialects differ are the methods below.
enum Seeder {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Seeder {
    async fn connect(url: &str) -> Result<Seeder, BoxError> {
        if url.starts_with("sqlite:") {
            let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect(url).await?;
            sqlx::query("PRAGMA synchronous = OFF").execute(&pool).await?;
            Ok(Seeder::Sqlite(pool))
        } else {
            let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await?;
            sqlx::query("SET synchronous_commit = off").execute(&pool).await?;
            Ok(Seeder::Postgres(pool))
        }
    }

    /// `INSERT … SELECT … FROM <rows>` with `i` running over `from..to`: the prefix that goes
    /// before the INSERT, and the source after FROM.
    fn numbers(&self, from: usize, to: usize) -> (String, String) {
        match self {
            Seeder::Sqlite(_) => (
                format!("WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {to})"),
                "n".to_owned(),
            ),
            Seeder::Postgres(_) => {
                (String::new(), format!("generate_series({from}::bigint, {to}::bigint - 1) AS n(i)"))
            }
        }
    }

    /// The seeded id of row `index` (an SQL expression) of kind `kind`, as text.
    fn id_text(&self, kind: u16, index: &str) -> String {
        match self {
            Seeder::Sqlite(_) => format!("printf('019a0000-{kind:04x}-7000-8000-%012x', {index})"),
            Seeder::Postgres(_) => format!("('019a0000-{kind:04x}-7000-8000-' || lpad(to_hex({index}), 12, '0'))"),
        }
    }

    /// The same id as the column type (a 16-byte blob, a uuid).
    fn id(&self, kind: u16, index: &str) -> String {
        match self {
            Seeder::Sqlite(_) => format!("unhex(printf('019a0000{kind:04x}70008000%012x', {index}))"),
            Seeder::Postgres(_) => format!("{}::uuid", self.id_text(kind, index)),
        }
    }

    fn uuid(&self, id: Uuid) -> String {
        match self {
            Seeder::Sqlite(_) => format!("X'{}'", id.simple()),
            Seeder::Postgres(_) => format!("'{id}'::uuid"),
        }
    }

    /// A JSON column's value from a text expression.
    fn json(&self, text: &str) -> String {
        match self {
            Seeder::Sqlite(_) => text.to_owned(),
            Seeder::Postgres(_) => format!("({text})::jsonb"),
        }
    }

    /// `YYYY-MM-DD` (UTC) of a milliseconds expression.
    fn date(&self, ms: &str) -> String {
        match self {
            Seeder::Sqlite(_) => format!("date(({ms}) / 1000, 'unixepoch')"),
            Seeder::Postgres(_) => format!("to_char(to_timestamp(({ms}) / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
        }
    }

    /// Run `statements` in one transaction.
    async fn run(&self, statements: &[String]) -> Result<(), BoxError> {
        match self {
            Seeder::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                for s in statements {
                    sqlx::query(sqlx::AssertSqlSafe(s.clone())).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Seeder::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                for s in statements {
                    sqlx::query(sqlx::AssertSqlSafe(s.clone())).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    async fn count(&self, sql: &str) -> Result<i64, BoxError> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        Ok(match self {
            Seeder::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
            Seeder::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
        })
    }

    async fn close(&self) {
        match self {
            Seeder::Sqlite(pool) => pool.close().await,
            Seeder::Postgres(pool) => pool.close().await,
        }
    }
}

/// What the seeding decided, for the sweep and its checks.
struct Seeded {
    /// Every due timer is due at or before this; every other one a day after it at the earliest.
    due_by: i64,
}

async fn seed(db: &Seeder, store: &dyn store::Store, letters: usize, due: usize) -> Result<Seeded, BoxError> {
    let now = now_ms();
    let start = now - 30 * DAY_MS;
    let authority_id = Uuid::now_v7();
    store
        .create_authority(&Authority {
            id: authority_id,
            name: "Bench Kommune".into(),
            cvr: "12345678".into(),
            created_at: start,
            office_hours: None,
            time_zone: None,
            closing_days: sqlx::types::Json(Vec::new()),
        })
        .await?;
    // one sealed CPR number serves every citizen: opening it costs the same, and the escalation
    // never reads it
    let sealed = CprSealer::new(&store.instance_key("cpr-encryption").await?)?.seal("0101901234");
    if !sealed.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
        return Err("a sealed CPR number is not plain base64url".into());
    }
    let authority = db.uuid(authority_id);

    let citizens = letters.div_ceil(LETTERS_PER_CITIZEN);
    for from in (0..citizens).step_by(CHUNK) {
        let (with, rows) = db.numbers(from, (from + CHUNK).min(citizens));
        db.run(&[format!(
            "{with} INSERT INTO citizens (id, cpr_hash, cpr, name, address, phone, phone_e164, created_at) \
             SELECT {id}, 'bench-' || i, '{sealed}', 'Jens Jensen', {address}, '+45 ' || (20000000 + i), \
             '+45' || (20000000 + i), {start} FROM {rows}",
            id = db.id(CITIZEN, "i"),
            address = db.json(&format!("'{ADDRESS}'")),
        )])
        .await?;
    }

    // letters over the last 30 days; a letter is due when its place in a scattered order of all
    // letters falls among the first `due`
    let spread = scatter(letters);
    let created = format!("({start} + i * {} / {letters})", 29 * DAY_MS);
    let is_due = format!("(i * {spread}) % {letters} < {due}");
    let due_by = now - 1000;
    let available = format!(
        "CASE WHEN {is_due} THEN {due_by} - (i * {spread}) % {letters} * 600000 / {letters} \
         ELSE {} + i * {} / {letters} END",
        now + DAY_MS,
        29 * DAY_MS
    );
    let letter_id = db.id(LETTER, "i");
    let delivery_text = db.id_text(DELIVERY, "i");
    let recipient = format!(r#"{{"cpr_masked":"010190-****","name":"Jens Jensen","address":{ADDRESS}}}"#);
    let contact = "'{\"unit\":\"' || CASE i % 4 WHEN 0 THEN 'Borgerservice' WHEN 1 THEN 'Jobcenter' \
                   WHEN 2 THEN 'Ydelse' ELSE 'Børn og unge' END || '\",\"phone\":\"+45 70 10 10 10\"}'";
    let event = |kind: u16, name: &str, data: String, after_ms: i64| {
        format!(
            "INSERT INTO events (id, letter_id, authority_id, kind, data, created_at) \
             SELECT {}, {letter_id}, {authority}, '{name}', {}, {created} + {after_ms} FROM {{rows}}",
            db.id(kind, "i"),
            db.json(&data),
        )
    };
    let events = [
        event(
            EVENT_ACCEPTED,
            "accepted",
            format!(
                "'{{\"importance\":\"important\",\"channel\":\"digital_post\",\"delivery_id\":\"' || {delivery_text} \
                 || '\",\"notices\":[],\"documents\":0}}'"
            ),
            0,
        ),
        event(
            EVENT_DISPATCHED,
            "dispatched",
            format!("'{{\"delivery_id\":\"' || {delivery_text} || '\",\"channel\":\"digital_post\"}}'"),
            1000,
        ),
        event(
            EVENT_DELIVERED,
            "delivered",
            format!(
                "'{{\"delivery_id\":\"' || {delivery_text} || '\",\"channel\":\"digital_post\",\"purpose\":\"letter\",\
                 \"transport\":\"file\",\"provider_ref\":null}}'"
            ),
            2000,
        ),
    ];
    let seeding = Instant::now();
    for from in (0..letters).step_by(CHUNK) {
        let (with, rows) = db.numbers(from, (from + CHUNK).min(letters));
        let mut statements = vec![
            format!(
                "{with} INSERT INTO letters (id, authority_id, citizen_id, recipient, subject, body, importance, \
                 respond_by, deadline, reference, contact, status, escalation_step, created_at, updated_at) \
                 SELECT {letter_id}, {authority}, {citizen}, {recipient}, 'Afgørelse om boligstøtte', '{BODY}', \
                 'important', {deadline}, {deadline}, 'SAG-' || i, {contact}, 'delivered', 0, {created}, \
                 {created} + 2000 FROM {rows}",
                citizen = db.id(CITIZEN, &format!("i / {LETTERS_PER_CITIZEN}")),
                recipient = db.json(&format!("'{recipient}'")),
                deadline = db.date(&format!("{created} + {}", 30 * DAY_MS)),
                contact = db.json(contact),
            ),
            format!(
                "{with} INSERT INTO deliveries (id, letter_id, channel, purpose, status, transport, attempts, \
                 created_at, updated_at) SELECT {}, {letter_id}, 'digital_post', 'letter', 'delivered', 'file', 1, \
                 {created}, {created} + 2000 FROM {rows}",
                db.id(DELIVERY, "i"),
            ),
            format!(
                "{with} INSERT INTO jobs (id, kind, letter_id, step, available_at, attempts, max_attempts, created_at) \
                 SELECT {}, 'escalate', {letter_id}, 0, {available}, 0, 1000, {created} FROM {rows}",
                db.id(JOB, "i"),
            ),
        ];
        statements.extend(events.iter().map(|e| format!("{with} {}", e.replace("{rows}", &rows))));
        db.run(&statements).await?;
        if letters > 100_000 && from % (10 * CHUNK) == 0 && from > 0 {
            println!("  … {from} letters seeded ({:.0} s)", seeding.elapsed().as_secs_f64());
        }
    }
    if let Seeder::Postgres(pool) = db {
        // what autovacuum would have done by the time a real store had this many rows (SQLite
        // gets no ANALYZE: the gateway never runs one)
        sqlx::query("VACUUM ANALYZE").execute(pool).await?;
    }
    Ok(Seeded { due_by })
}

/// An error once the gateway has stopped, or once `timeout` has passed since `started` with
/// `what` (say, "deliveries still queued") still so.
fn still_working<T>(
    server: &tokio::task::JoinHandle<T>,
    started: Instant,
    timeout: Duration,
    what: &str,
) -> Result<(), BoxError> {
    if server.is_finished() {
        return Err(format!("the gateway stopped with {what}").into());
    }
    if started.elapsed() > timeout {
        return Err(format!("{what} after {} s", timeout.as_secs()).into());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // BENCH_LOG=budbringer=debug (an EnvFilter) shows the gateway's logs, e.g. commit group sizes
    if let Ok(filter) = std::env::var("BENCH_LOG") {
        tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(filter)).init();
    }
    let letters = env_number("BENCH_LETTERS", 1_000_000).max(1);
    let due = env_number("BENCH_DUE", 100_000).min(letters);
    let dir = std::env::temp_dir().join(format!("budbringer-bench-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let target = Target::new(&dir).await?;
    let result = bench(&target, dir.clone(), letters, due).await;
    target.remove().await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn bench(target: &Target, dir: PathBuf, letters: usize, due: usize) -> Result<(), BoxError> {
    let backend = if matches!(target, Target::Sqlite { .. }) { "SQLite" } else { "PostgreSQL" };
    let store = store::connect(target.url()).await?;
    store.migrate().await?;
    let db = Seeder::connect(target.url()).await?;
    let seeding = Instant::now();
    let seeded = seed(&db, store.as_ref(), letters, due).await?;
    let size = match target {
        Target::Sqlite { .. } => {
            std::fs::metadata(dir.join("bench.db")).map(|m| format!(", {:.2} GB file", m.len() as f64 / 1e9))
        }
        Target::Postgres { .. } => Ok(String::new()),
    };
    println!(
        "seeded {letters} letters ({due} escalation timers due) on {backend} in {:.1} s{}; peak RSS while seeding {}",
        seeding.elapsed().as_secs_f64(),
        size.unwrap_or_default(),
        mib(status_kib("VmHWM:"))
    );

    let mut settings =
        Settings { database_url: target.url().to_owned(), data_dir: dir.join("data"), ..Default::default() };
    if let Some(concurrency) = std::env::var("BENCH_CONCURRENCY").ok().and_then(|v| v.parse().ok()) {
        settings.engine.concurrency = concurrency;
    }
    if let Some(slots) = std::env::var("BENCH_ESCALATION_CONCURRENCY").ok().and_then(|v| v.parse().ok()) {
        settings.engine.escalation_concurrency = slots;
    }
    let concurrency = settings.engine.concurrency;
    let escalation_concurrency = settings.engine.escalation_concurrency;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    settings.public_url = format!("http://{}", listener.local_addr()?);
    // The polls must not slow down what they watch: whether a due timer is still unclaimed
    // looks at the first entry of the jobs_due index ranges (only due timers are in them,
    // claimed ones leave them), whether one is still in flight at the few claimed jobs (the
    // jobs_locked_by index); the full count only every 10 s.
    let due_by = seeded.due_by;
    let unclaimed = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE lane IN (0, 1) AND available_at <= {due_by} AND kind = 'escalate' LIMIT 1) t"
    );
    let in_flight = "SELECT COUNT(*) FROM jobs WHERE locked_by IS NOT NULL AND kind = 'escalate'";
    let remaining =
        format!("SELECT COUNT(*) FROM jobs WHERE lane IN (0, 1) AND available_at <= {due_by} AND kind = 'escalate'");
    let before = db.count(&remaining).await?;
    if before != due as i64 {
        return Err(format!("seeded {before} due escalation timers, expected {due}").into());
    }

    let peak_reset = reset_peak_rss();
    let started = Instant::now();
    let app = App::new(settings, Arc::clone(&store), Arc::new(SystemClock)).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::run(listener, app, async {
        let _ = stopped.await;
    }));
    let timeout = Duration::from_secs(env_number("BENCH_TIMEOUT_SECS", 3600) as u64);
    let mut reported = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if db.count(&unclaimed).await? == 0 && db.count(in_flight).await? == 0 {
            break;
        }
        still_working(&server, started, timeout, "escalation timers still due")?;
        if reported.elapsed() > Duration::from_secs(10) {
            let left = db.count(&remaining).await?;
            println!("  … {left} timers left after {:.0} s", started.elapsed().as_secs_f64());
            reported = Instant::now();
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // the deliveries are due when queued, long before the next rung's timers and the seeded
    // timers not yet due, so the first entry of this index range says whether one is left
    let until_delivered = std::env::var("BENCH_UNTIL_DELIVERED").is_ok_and(|v| v == "1");
    let mut delivered_after = None;
    if until_delivered {
        let soon = due_by + DAY_MS / 24;
        let deliveries_left = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE lane IN (0, 1) AND available_at <= {soon} AND kind = 'deliver' LIMIT 1) t"
        );
        while db.count(&deliveries_left).await? > 0 {
            still_working(&server, started, timeout, "deliveries still queued")?;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        delivered_after = Some(started.elapsed().as_secs_f64());
    }
    let peak = status_kib("VmHWM:");
    let _ = stop.send(());
    server.await??;

    let escalated = db.count("SELECT COUNT(*) FROM letters WHERE escalation_step = 1").await?;
    let events = db.count("SELECT COUNT(*) FROM events WHERE kind = 'escalated'").await?;
    let deliveries = db.count("SELECT COUNT(*) FROM deliveries WHERE channel <> 'digital_post'").await?;
    let alerts = db.count("SELECT COUNT(*) FROM alerts").await?;
    // only when the bench waited for the deliveries: a scan of them all otherwise for nothing
    let unsettled = match delivered_after {
        Some(_) => {
            db.count(
                "SELECT COUNT(*) FROM deliveries WHERE channel <> 'digital_post' AND status IN ('queued', 'sending')",
            )
            .await?
        }
        None => 0,
    };
    let next = db.count("SELECT COUNT(*) FROM jobs WHERE kind = 'escalate' AND step = 1").await?;
    db.close().await;
    println!(
        "escalation sweep on {backend}, {letters} letters, engine.concurrency {concurrency}, \
         engine.escalation_concurrency {escalation_concurrency}"
    );
    println!("  timers processed         {due}");
    println!("  total                    {elapsed:.2} s");
    println!("  timers per second        {:.0}", due as f64 / elapsed.max(f64::EPSILON));
    if let Some(done) = delivered_after {
        println!("  deliveries done after    {done:.2} s");
    }
    println!(
        "  peak RSS during sweep    {}{}",
        mib(peak),
        if peak_reset { "" } else { " (could not reset: the whole process's peak)" }
    );
    println!("  made                     {deliveries} deliveries, {alerts} alerts, {next} next-rung timers");
    if unsettled > 0 {
        return Err(format!("{unsettled} of the {deliveries} deliveries were still queued or being sent").into());
    }
    if escalated != due as i64 || events != due as i64 || next != due as i64 {
        return Err(format!(
            "expected {due} escalated letters, events and next-rung timers; found {escalated}, {events}, {next}"
        )
        .into());
    }
    Ok(())
}
