//! Property tests for escalation: random sequences of letters, clock jumps, evidence and
//! cancellations against the real app on a manual clock. After every step the engine is left to
//! settle, and the escalation invariants are checked on every letter from the API (timelines,
//! alerts) and from the jobs table (escalation timers).
//!
//! `PROPTEST_CASES=200` runs more cases than the default.

use crate::harness::*;
use budbringer::domain::{Clock, ManualClock};
use jiff::civil::Date;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod escalation_invariants_hold {
    #[test]
    fn sqlite() {
        super::check_property(crate::harness::Backend::Sqlite, 24);
    }

    #[test]
    fn postgres() {
        if let Some(backend) = crate::harness::Backend::postgres() {
            super::check_property(backend, 16);
        }
    }
}

/// The ladder under test: two rungs an hour apart, then the unreachable alert an hour later.
const RUNGS: u64 = 2;

const CPR: &str = "0101901234";

#[derive(Debug, Clone, Copy)]
enum EvidenceKind {
    /// `{"type": "reacted", "via": "counter"}`
    Reacted,
    /// `{"type": "opened", "via": "read_receipt"}`
    Opened,
}

#[derive(Debug, Clone)]
enum Op {
    /// Post a letter; `cancel_at_once` cancels it before waiting for the engine (a race the
    /// engine may win: then the cancel is a 409). Any other answer fails the property — on
    /// PostgreSQL a 500 here has been a lock-order deadlock between `cancel_letter` (letter row,
    /// then deliveries) and `start_delivery`/`finish_delivery` (delivery row, then letter).
    Post {
        important: bool,
        respond_in_days: Option<u8>,
        cancel_at_once: bool,
    },
    Advance {
        minutes: u16,
    },
    Evidence {
        letter: Index,
        kind: EvidenceKind,
    },
    Cancel {
        letter: Index,
    },
    /// Advance the clock and record evidence at once, racing the escalation that may fall due.
    EvidenceRacingClock {
        minutes: u16,
        letter: Index,
        kind: EvidenceKind,
    },
}

/// Where the manual clock starts: the ladder then runs over ordinary days, a weekend, Christmas
/// and the turn of the year (when the UTC date is a day behind Copenhagen's).
const STARTS: &[&str] = &[
    "2026-11-25T09:00:00Z", // Wednesday 10:00 in Copenhagen
    "2026-11-27T21:30:00Z", // Friday 22:30, a weekend ahead
    "2026-12-23T21:30:00Z", // 23 December 22:30, Christmas ahead
    "2026-12-31T22:30:00Z", // already 1 January 2027 in Copenhagen
];

fn evidence_kind() -> impl Strategy<Value = EvidenceKind> {
    prop_oneof![Just(EvidenceKind::Reacted), Just(EvidenceKind::Opened)]
}

fn op() -> impl Strategy<Value = Op> {
    let post = (prop::bool::weighted(0.75), prop::option::weighted(0.8, 0u8..=20), prop::bool::weighted(0.2)).prop_map(
        |(important, respond_in_days, cancel_at_once)| Op::Post { important, respond_in_days, cancel_at_once },
    );
    prop_oneof![
        3 => post,
        4 => (0u16..=180).prop_map(|minutes| Op::Advance { minutes }),
        2 => (any::<Index>(), evidence_kind()).prop_map(|(letter, kind)| Op::Evidence { letter, kind }),
        1 => any::<Index>().prop_map(|letter| Op::Cancel { letter }),
        1 => (50u16..=70, any::<Index>(), evidence_kind())
            .prop_map(|(minutes, letter, kind)| Op::EvidenceRacingClock { minutes, letter, kind }),
    ]
}

fn check_property(backend: Backend, default_cases: u32) {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases);
    let config = Config {
        cases,
        // regressions are printed, not written to a file next to the tests
        failure_persistence: None,
        max_shrink_time: 60_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let case = (0..STARTS.len(), prop::collection::vec(op(), 1..=12));
    let result = runner.run(&case, |(start, ops)| {
        // a runtime per case: whatever a failed case leaves running dies with it
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        runtime.block_on(run_case(&backend, STARTS[start], &ops))
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, (start, ops))) => {
            panic!("{reason}\n\nminimal failing case: clock from {}, {ops:#?}", STARTS[start])
        }
        Err(TestError::Abort(reason)) => panic!("property aborted: {reason}"),
    }
}

async fn run_case(backend: &Backend, start: &str, ops: &[Op]) -> Result<(), TestCaseError> {
    let clock = Arc::new(ManualClock::new(start.parse().unwrap()));
    let app = TestApp::start_with_clock(backend, clock.clone(), |s| s.policies.important = fast_ladder()).await;
    let jobs = Jobs::connect(&app.db.url).await;
    let result = async {
        let (_, key) = app.authority("Vejle Kommune").await;
        let log = vec![format!("clock starts at {start}")];
        let mut case = Case { app: &app, clock: &clock, jobs: &jobs, key, letters: Vec::new(), log };
        case.register_citizen().await?;
        for op in ops {
            case.apply(op).await?;
            case.settle().await?;
            case.check().await?;
        }
        Ok(())
    }
    .await;
    jobs.close().await;
    app.finish().await;
    result
}

/// A letter posted in this case, and the last deadline seen on it.
struct Tracked {
    id: String,
    uuid: uuid::Uuid,
    important: bool,
    respond_by: Option<String>,
    deadline: Option<Date>,
}

struct Case<'a> {
    app: &'a TestApp,
    clock: &'a ManualClock,
    jobs: &'a Jobs,
    key: String,
    letters: Vec<Tracked>,
    /// What was done so far, as it happened (letters by number, answers by status).
    log: Vec<String>,
}

impl Case<'_> {
    async fn register_citizen(&mut self) -> Result<(), TestCaseError> {
        let profile = json!({
            "cpr": CPR, "phone": "+45 12 34 56 78",
            "address": { "street": "Vestergade", "house_number": "1", "postcode": "7100", "town": "Vejle" }
        });
        let put = self.request(reqwest::Method::PUT, "/v1/citizens/profile", &profile).await;
        prop_assert_eq!(put.status(), 200, "registering the citizen's profile");
        Ok(())
    }

    async fn request(&self, method: reqwest::Method, path: &str, body: &Value) -> reqwest::Response {
        self.app
            .client
            .request(method, format!("{}{path}", self.app.base))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    fn today(&self) -> Date {
        self.clock.now().to_zoned(jiff::tz::TimeZone::UTC).date()
    }

    fn fail(&self, message: String) -> TestCaseError {
        let mut text = format!("{message}\n\nsteps:\n");
        for (i, line) in self.log.iter().enumerate() {
            let _ = writeln!(text, "  {}. {line}", i + 1);
        }
        TestCaseError::fail(text)
    }

    async fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match *op {
            Op::Post { important, respond_in_days, cancel_at_once } => {
                let mut body = letter(CPR);
                body["importance"] = json!(if important { "important" } else { "normal" });
                let respond_by = respond_in_days
                    .map(|days| self.today().checked_add(jiff::Span::new().days(i64::from(days))).unwrap().to_string());
                match &respond_by {
                    Some(date) => body["respond_by"] = json!(date),
                    None => {
                        body.as_object_mut().unwrap().remove("respond_by");
                    }
                }
                let response = self.app.post_letter(&self.key, &body).await;
                let status = response.status();
                let created: Value = response.json().await.expect("JSON");
                if status != 201 {
                    return Err(self.fail(format!("posting a letter answered {status}: {created:#}")));
                }
                let id = created["id"].as_str().expect("letter id").to_owned();
                let n = self.letters.len();
                self.log.push(format!(
                    "{} letter #{n} posted at {}, respond_by {}",
                    if important { "important" } else { "normal" },
                    self.clock.now(),
                    respond_by.as_deref().unwrap_or("none"),
                ));
                let uuid = id.parse().expect("letter id is a UUID");
                self.letters.push(Tracked { id, uuid, important, respond_by, deadline: None });
                if cancel_at_once {
                    self.cancel(n, "at once").await?;
                }
            }
            Op::Advance { minutes } => self.advance(minutes),
            Op::Evidence { ref letter, kind } => self.evidence(letter, kind).await?,
            Op::EvidenceRacingClock { minutes, ref letter, kind } => {
                self.advance(minutes);
                self.evidence(letter, kind).await?;
            }
            Op::Cancel { ref letter } => {
                if self.letters.is_empty() {
                    self.log.push("cancel: no letter yet, skipped".into());
                    return Ok(());
                }
                self.cancel(letter.index(self.letters.len()), "later").await?;
            }
        }
        Ok(())
    }

    /// Cancel letter `n`: 200, or 409 when it is already delivered.
    async fn cancel(&mut self, n: usize, when: &str) -> Result<(), TestCaseError> {
        let path = format!("/v1/letters/{}/cancel", self.letters[n].id);
        let response = self.request(reqwest::Method::POST, &path, &json!({})).await;
        let status = response.status();
        self.log.push(format!("cancel letter #{n} {when} → {}", status.as_u16()));
        if !matches!(status.as_u16(), 200 | 409) {
            let body = response.text().await.unwrap_or_default();
            return Err(self.fail(format!("cancelling letter #{n} answered {status}: {body}")));
        }
        Ok(())
    }

    fn advance(&mut self, minutes: u16) {
        self.clock.advance(Duration::from_secs(u64::from(minutes) * 60));
        // the engine polls every 50 ms; no need to wait for it
        self.app.state.engine_wake.notify_one();
        self.log.push(format!("clock +{minutes} min → {}", self.clock.now()));
    }

    async fn evidence(&mut self, letter: &Index, kind: EvidenceKind) -> Result<(), TestCaseError> {
        if self.letters.is_empty() {
            self.log.push(format!("evidence {kind:?}: no letter yet, skipped"));
            return Ok(());
        }
        let n = letter.index(self.letters.len());
        let body = match kind {
            EvidenceKind::Reacted => json!({ "type": "reacted", "via": "counter" }),
            EvidenceKind::Opened => json!({ "type": "opened", "via": "read_receipt" }),
        };
        let path = format!("/v1/letters/{}/evidence", self.letters[n].id);
        let response = self.request(reqwest::Method::POST, &path, &body).await;
        let status = response.status();
        self.log.push(format!("evidence {kind:?} on letter #{n} → {}", status.as_u16()));
        if status != 200 {
            let body = response.text().await.unwrap_or_default();
            return Err(self.fail(format!("recording evidence on letter #{n} answered {status}: {body}")));
        }
        Ok(())
    }

    /// Wait until the engine has nothing due at the manual clock's now and nothing in flight,
    /// twice in a row a little apart.
    async fn settle(&self) -> Result<(), TestCaseError> {
        let start = Instant::now();
        let mut quiet = 0;
        while quiet < 2 {
            let now = self.clock.now_ms();
            let due = self.app.store.stats(now).await.expect("stats").jobs_due;
            let busy = self.jobs.busy(now).await;
            quiet = if due == 0 && busy == 0 { quiet + 1 } else { 0 };
            if start.elapsed() > Duration::from_secs(5) {
                return Err(
                    self.fail(format!("the engine did not settle in 5 s: {due} jobs due, {busy} due or leased"))
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Ok(())
    }

    async fn check(&mut self) -> Result<(), TestCaseError> {
        let alerts = self.app.get_json(&self.key, "/v1/alerts?all=true").await;
        let alerts = alerts.as_array().expect("alerts").clone();
        for n in 0..self.letters.len() {
            let view = self.app.get_json(&self.key, &format!("/v1/letters/{}", self.letters[n].id)).await;
            let timers = self.jobs.escalation_timers(self.letters[n].uuid).await;
            let letter_alerts: Vec<&Value> =
                alerts.iter().filter(|a| a["letter_id"].as_str() == Some(self.letters[n].id.as_str())).collect();
            if let Err(broken) = check_letter(&self.letters[n], &view, &timers, &letter_alerts) {
                let t = &self.letters[n];
                return Err(self.fail(format!(
                    "letter #{n} ({}, {}): {broken}\n\ntimeline:\n{}\n\nalerts: {:#}\n\nescalation timers (step, due): {timers:?}",
                    t.id,
                    if t.important { "important" } else { "normal" },
                    timeline_text(&view),
                    json!(letter_alerts),
                )));
            }
            self.letters[n].deadline = view["deadline"].as_str().map(|d| d.parse().expect("deadline is a date"));
        }
        Ok(())
    }
}

fn timeline_text(view: &Value) -> String {
    let mut text =
        format!("  status {}, respond_by {}, deadline {}\n", view["status"], view["respond_by"], view["deadline"]);
    for e in view["timeline"].as_array().into_iter().flatten() {
        let _ = writeln!(
            text,
            "  {:>4} {} {:<18} {}",
            e["seq"],
            e["at"].as_str().unwrap_or("?"),
            e["type"].as_str().unwrap_or("?"),
            e["data"]
        );
    }
    text
}

const EVIDENCE: &[&str] = &["opened", "document_opened", "reacted"];

fn date(value: &Value, what: &str) -> Result<Date, String> {
    value.as_str().and_then(|d| d.parse().ok()).ok_or_else(|| format!("{what} is not a date: {value}"))
}

/// The invariants for one letter at one settled moment; `Err` says which one broke.
fn check_letter(t: &Tracked, view: &Value, timers: &[(Option<i64>, i64)], alerts: &[&Value]) -> Result<(), String> {
    let timeline = view["timeline"].as_array().ok_or("no timeline")?;
    if !timeline.windows(2).all(|w| w[0]["seq"].as_i64() < w[1]["seq"].as_i64()) {
        return Err("the timeline is not in seq order".into());
    }
    let of_type = |kind: &str| -> Vec<&Value> { timeline.iter().filter(|e| e["type"] == kind).collect() };
    let escalated = of_type("escalated");
    let extended = of_type("deadline_extended");
    let first_evidence = timeline.iter().position(|e| EVIDENCE.iter().any(|k| e["type"] == *k));
    let cancelled = view["status"] == "cancelled";

    // 1. the deadline never moves earlier and is never earlier than respond_by
    if view["respond_by"].as_str() != t.respond_by.as_deref() {
        return Err(format!("respond_by {} is not the one posted ({:?})", view["respond_by"], t.respond_by));
    }
    match (&t.respond_by, view["deadline"].is_null()) {
        (None, true) => {}
        (None, false) => return Err(format!("a letter without respond_by got deadline {}", view["deadline"])),
        (Some(_), true) => return Err("the deadline vanished".into()),
        (Some(respond_by), false) => {
            let deadline = date(&view["deadline"], "deadline")?;
            if deadline < respond_by.parse::<Date>().unwrap() {
                return Err(format!("invariant 1: deadline {deadline} is earlier than respond_by {respond_by}"));
            }
            if let Some(seen) = t.deadline
                && deadline < seen
            {
                return Err(format!("invariant 1: deadline moved earlier, from {seen} to {deadline}"));
            }
        }
    }

    // 5. normal letters never escalate
    if !t.important {
        if !escalated.is_empty() || !extended.is_empty() || !timers.is_empty() {
            return Err("invariant 5: a normal letter escalated or has an escalation timer".into());
        }
        return Ok(());
    }

    // 2. an important, live letter without evidence is always watched: a timer or an open alert
    let open_alert =
        alerts.iter().any(|a| a["status"] == "open" && (a["kind"] == "unopened" || a["kind"] == "unreachable"));
    if !cancelled && first_evidence.is_none() && timers.is_empty() && !open_alert {
        return Err(
            "invariant 2: no evidence, yet neither an escalation timer nor an open unopened/unreachable alert".into()
        );
    }
    // ... and evidence or cancellation stops the watching
    if (cancelled || first_evidence.is_some()) && !timers.is_empty() {
        return Err("an escalation timer survived evidence or cancellation".into());
    }
    if first_evidence.is_some() && open_alert {
        return Err("an unopened/unreachable alert is still open after evidence".into());
    }
    if timers.len() > 1 {
        return Err(format!("{} escalation timers for one letter", timers.len()));
    }
    if let Some((step, _)) = timers.first()
        && *step != Some(escalated.len() as i64)
    {
        return Err(format!("the pending timer is for step {step:?} after {} escalations", escalated.len()));
    }

    // 3. nothing escalates after the first evidence
    if let Some(first) = first_evidence
        && timeline[first..].iter().any(|e| e["type"] == "escalated")
    {
        return Err("invariant 3: an escalated event after evidence".into());
    }

    // 4. every rung is paired with its deadline change; the ladder climbs one step at a time
    for (i, e) in escalated.iter().enumerate() {
        let step = e["data"]["step"].as_u64().ok_or("an escalated event without a step")?;
        if step != i as u64 || step > RUNGS {
            return Err(format!("escalation #{i} is for step {step}"));
        }
        let same_step: Vec<&&Value> = extended.iter().filter(|x| x["data"]["step"].as_u64() == Some(step)).collect();
        let deadline = &e["data"]["deadline"];
        match (deadline["extended_to"].as_str(), deadline["unchanged"].as_str()) {
            (Some(to), None) if step < RUNGS => {
                if same_step.len() != 1 || same_step[0]["data"]["new"] != to {
                    return Err(format!(
                        "invariant 4: step {step} extended the deadline to {to} but has {} deadline_extended events for it",
                        same_step.len()
                    ));
                }
            }
            (None, Some(reason)) if !reason.is_empty() => {
                if !same_step.is_empty() {
                    return Err(format!(
                        "invariant 4: step {step} left the deadline unchanged ({reason}) yet extended it"
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "invariant 4: step {step} says neither how the deadline changed nor why not: {deadline}"
                ));
            }
        }
    }
    for x in &extended {
        let (old, new) = (date(&x["data"]["old"], "old")?, date(&x["data"]["new"], "new")?);
        if old >= new {
            return Err(format!("invariant 4: deadline_extended from {old} to {new}"));
        }
        if !escalated.iter().any(|e| e["data"]["step"] == x["data"]["step"]) {
            return Err(format!("invariant 4: deadline_extended for step {} without an escalation", x["data"]["step"]));
        }
    }
    Ok(())
}

/// Direct reads of the jobs table, on a connection of its own.
enum Jobs {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Jobs {
    async fn connect(url: &str) -> Jobs {
        use std::str::FromStr as _;
        if url.starts_with("sqlite") {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .expect("SQLite URL")
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .read_only(true);
            let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await;
            Jobs::Sqlite(pool.expect("open the SQLite database"))
        } else {
            let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await;
            Jobs::Postgres(pool.expect("connect to the PostgreSQL database"))
        }
    }

    /// Jobs due at `now` or leased by a worker (in flight).
    async fn busy(&self, now: i64) -> i64 {
        let result = match self {
            Jobs::Sqlite(pool) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE available_at <= ? OR locked_by IS NOT NULL")
                    .bind(now)
                    .fetch_one(pool)
                    .await
            }
            Jobs::Postgres(pool) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE available_at <= $1 OR locked_by IS NOT NULL")
                    .bind(now)
                    .fetch_one(pool)
                    .await
            }
        };
        result.expect("count jobs")
    }

    /// The letter's escalation timers: (step, due at in ms).
    async fn escalation_timers(&self, letter_id: uuid::Uuid) -> Vec<(Option<i64>, i64)> {
        let result = match self {
            Jobs::Sqlite(pool) => {
                sqlx::query_as("SELECT step, available_at FROM jobs WHERE letter_id = ? AND kind = 'escalate'")
                    .bind(letter_id)
                    .fetch_all(pool)
                    .await
            }
            Jobs::Postgres(pool) => {
                sqlx::query_as("SELECT step, available_at FROM jobs WHERE letter_id = $1 AND kind = 'escalate'")
                    .bind(letter_id)
                    .fetch_all(pool)
                    .await
            }
        };
        result.expect("read escalation timers")
    }

    async fn close(&self) {
        match self {
            Jobs::Sqlite(pool) => pool.close().await,
            Jobs::Postgres(pool) => pool.close().await,
        }
    }
}
