//! The real `budbringer` binary: killed with SIGKILL under load, restarted, and run twice on
//! one PostgreSQL database. Each accepted letter must be delivered exactly once.

use crate::harness::*;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_budbringer");

use crate::peers::free_port;

/// Environment for a `budbringer` process on a test database and data directory.
pub fn gateway_env(db: &TestDb, data_dir: &Path, port: u16) -> Vec<(String, String)> {
    vec![
        ("BUDBRINGER_LISTEN".into(), format!("127.0.0.1:{port}")),
        ("BUDBRINGER_DATABASE_URL".into(), db.url.clone()),
        ("BUDBRINGER_DATA_DIR".into(), data_dir.display().to_string()),
        ("BUDBRINGER_PUBLIC_URL".into(), format!("http://127.0.0.1:{port}")),
        ("BUDBRINGER_LOG_FORMAT".into(), "json".into()),
        ("BUDBRINGER_ENGINE__POLL_INTERVAL_MS".into(), "50".into()),
        ("BUDBRINGER_ENGINE__LEASE_SECS".into(), "2".into()),
        ("BUDBRINGER_ENGINE__RETRY_BASE_MS".into(), "50".into()),
        ("RUST_LOG".into(), "info".into()),
    ]
}

pub struct Gateway {
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Gateway {
    pub async fn start(db: &TestDb, data_dir: &Path, name: &str) -> Gateway {
        Self::start_with_log_level(db, data_dir, name, "info").await
    }

    /// Start with `RUST_LOG` set to `level`; the JSON log goes to `<db dir>/<name>.log`.
    pub async fn start_with_log_level(db: &TestDb, data_dir: &Path, name: &str, level: &str) -> Gateway {
        Self::start_with_env(db, data_dir, name, &[("RUST_LOG", level)]).await
    }

    /// Start with more (or other) environment variables.
    pub async fn start_with_env(db: &TestDb, data_dir: &Path, name: &str, env: &[(&str, &str)]) -> Gateway {
        let port = free_port();
        let log = db.dir.join(format!("{name}.log"));
        let child = Command::new(BIN)
            .arg("serve")
            .envs(gateway_env(db, data_dir, port))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start budbringer");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let ready = eventually(Duration::from_secs(30), || {
            let request = client.get(format!("{base}/readyz")).send();
            async move { request.await.is_ok_and(|r| r.status() == 200) }
        })
        .await;
        assert!(ready, "gateway {name} did not become ready: {}", std::fs::read_to_string(&log).unwrap_or_default());
        Gateway { child, base, log }
    }

    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "gateway did not stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Delivery ids this process handed to a transport, from its JSON log.
    pub fn handed_over(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|v| v["message"] == "delivery handed to transport")
            .filter_map(|v| v["delivery_id"].as_str().map(str::to_owned))
            .collect()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `budbringer admin create-authority` through the binary; returns the API key.
pub fn create_authority(db: &TestDb, data_dir: &Path, name: &str) -> String {
    let output = Command::new(BIN)
        .args(["admin", "create-authority", "--name", name, "--cvr", &format!("{:08}", rand_u32() % 100_000_000)])
        .envs(gateway_env(db, data_dir, 1))
        .output()
        .expect("run admin");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let v: Value = serde_json::from_slice(&output.stdout).expect("admin prints JSON");
    v["api_key"].as_str().unwrap().to_owned()
}

/// Every letter id the authority has, through the API.
async fn all_letter_ids(client: &reqwest::Client, base: &str, key: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/v1/letters?limit=500");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = client.get(url).bearer_auth(key).send().await.unwrap().json().await.unwrap();
        ids.extend(page["letters"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
}

/// Letter ids of the files in the digital_post outbox, with how often each occurs.
fn delivered_letter_ids(data_dir: &Path) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for name in outbox_files(&data_dir.join("outbox"), "digital_post") {
        let letter_id = name.split('_').next().unwrap().to_owned();
        *counts.entry(letter_id).or_insert(0) += 1;
    }
    counts
}

/// Post letters from several tasks until `stop`; returns the ids answered 201.
fn load(
    base: String,
    key: String,
    stop: Arc<AtomicBool>,
    accepted: Arc<Mutex<Vec<String>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..6)
        .map(|_| {
            let (base, key, stop, accepted) = (base.clone(), key.clone(), Arc::clone(&stop), Arc::clone(&accepted));
            tokio::spawn(async move {
                let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
                while !stop.load(Ordering::Relaxed) {
                    let Ok(response) = client
                        .post(format!("{base}/v1/letters"))
                        .bearer_auth(&key)
                        .json(&letter("0101901234"))
                        .send()
                        .await
                    else {
                        return;
                    };
                    if response.status() != 201 {
                        return;
                    }
                    let Ok(body) = response.json::<Value>().await else { return };
                    accepted.lock().unwrap().push(body["id"].as_str().unwrap().to_owned());
                }
            })
        })
        .collect()
}

on_both_backends!(sigkill_under_load_loses_nothing_and_delivers_once);

async fn sigkill_under_load_loses_nothing_and_delivers_once(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let data_dir = db.dir.join("data");
    let mut first = Gateway::start(&db, &data_dir, "first").await;
    let key = create_authority(&db, &data_dir, "Norddjurs Kommune");

    let stop = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let tasks = load(first.base.clone(), key.clone(), Arc::clone(&stop), Arc::clone(&accepted));
    let enough = eventually(Duration::from_secs(30), || {
        let n = accepted.lock().unwrap().len();
        async move { n >= 150 }
    })
    .await;
    assert!(enough, "the load generator got too few letters in");
    first.kill(); // SIGKILL in the middle of requests and deliveries
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let accepted: Vec<String> = accepted.lock().unwrap().clone();

    let second = Gateway::start(&db, &data_dir, "second").await;
    let client = reqwest::Client::new();
    let stored = all_letter_ids(&client, &second.base, &key).await;
    let stored_set: HashSet<&String> = stored.iter().collect();
    for id in &accepted {
        assert!(stored_set.contains(id), "letter {id} was answered 201 but is gone after the crash");
    }
    let all_out = eventually(Duration::from_secs(60), || {
        let n = delivered_letter_ids(&data_dir).len();
        let want = stored.len();
        async move { n >= want }
    })
    .await;
    let delivered = delivered_letter_ids(&data_dir);
    assert!(all_out, "only {} of {} letters reached the file drop", delivered.len(), stored.len());
    assert_eq!(delivered.len(), stored.len());
    for (id, count) in &delivered {
        assert!(stored_set.contains(id), "a file for an unknown letter {id}");
        assert_eq!(*count, 1, "letter {id} was dropped {count} times");
    }
    drop(second);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_never_deliver_twice() {
    let Some(backend) = Backend::require_postgres() else { return };
    let db = TestDb::new(&backend).await;
    let data_dir = db.dir.join("data");
    let mut a = Gateway::start(&db, &data_dir, "a").await;
    let mut b = Gateway::start(&db, &data_dir, "b").await;
    let key = create_authority(&db, &data_dir, "Syddjurs Kommune");

    const LETTERS: usize = 300;
    let client = reqwest::Client::new();
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..LETTERS {
        let base = if i % 2 == 0 { a.base.clone() } else { b.base.clone() };
        let (client, key) = (client.clone(), key.clone());
        posts.spawn(async move {
            client
                .post(format!("{base}/v1/letters"))
                .bearer_auth(&key)
                .json(&letter("0101901234"))
                .send()
                .await
                .unwrap()
                .status()
        });
        if posts.len() >= 8 {
            assert_eq!(posts.join_next().await.unwrap().unwrap(), 201);
        }
    }
    while let Some(status) = posts.join_next().await {
        assert_eq!(status.unwrap(), 201);
    }
    let done = eventually(Duration::from_secs(60), || {
        let n = delivered_letter_ids(&data_dir).len();
        async move { n >= LETTERS }
    })
    .await;
    assert!(done, "only {} of {LETTERS} delivered", delivered_letter_ids(&data_dir).len());

    assert!(a.terminate().success(), "SIGTERM gives a clean exit");
    assert!(b.terminate().success(), "SIGTERM gives a clean exit");
    let (from_a, from_b) = (a.handed_over(), b.handed_over());
    assert!(
        !from_a.is_empty() && !from_b.is_empty(),
        "both processes should have worked: {} / {}",
        from_a.len(),
        from_b.len()
    );
    let mut counts: HashMap<&String, usize> = HashMap::new();
    for id in from_a.iter().chain(&from_b) {
        *counts.entry(id).or_default() += 1;
    }
    assert_eq!(counts.len(), LETTERS);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "deliveries handed over more than once: {twice:?}");
    assert!(delivered_letter_ids(&data_dir).values().all(|n| *n == 1));
    db.drop_database().await;
}

/// The load generator drives a real gateway and reports what it measured (CI checks that it
/// runs and that its numbers add up; the figures themselves come from release runs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_generator_reports_accepted_and_delivered_letters() {
    let db = TestDb::new(&Backend::Sqlite).await;
    let gateway = Gateway::start(&db, &db.dir.join("data"), "loadgen").await;
    let out = Command::new(BIN)
        .args(["admin", "create-authority", "--name", "Belastning Kommune", "--cvr", "29189730"])
        .envs(gateway_env(&db, &db.dir.join("data"), 1))
        .output()
        .unwrap();
    let key = serde_json::from_slice::<Value>(&out.stdout).unwrap()["api_key"].as_str().unwrap().to_owned();
    let report_file = db.dir.join("loadgen.json");
    let pid = gateway.child.id().to_string();
    let run = tokio::task::spawn_blocking({
        let (base, report_file, key) = (gateway.base.clone(), report_file.clone(), key.clone());
        move || {
            Command::new(env!("CARGO_BIN_EXE_loadgen"))
                .args(["--url", &base, "--api-key", &key, "--letters", "200", "--concurrency", "8"])
                .args(["--paced-rate", "50", "--paced-secs", "2", "--drain-secs", "30", "--server-pid", &pid])
                .args(["--label", "sqlite", "--json", report_file.to_str().unwrap()])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let table = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{table}\n{}", String::from_utf8_lossy(&run.stderr));
    assert!(table.contains("accepted per second") && table.contains("accept → delivered p95"), "{table}");
    let report: Value = serde_json::from_slice(&std::fs::read(&report_file).unwrap()).unwrap();
    assert_eq!(report["burst"]["accepted"], 200, "{report:#}");
    assert_eq!(report["burst"]["failed"], 0);
    assert!(report["burst"]["accepted_per_second"].as_f64().unwrap() > 0.0);
    let p50 = report["burst"]["latency_ms"]["p50"].as_f64().unwrap();
    let p99 = report["burst"]["latency_ms"]["p99"].as_f64().unwrap();
    assert!(p50 > 0.0 && p50 <= p99, "{report:#}");
    // the burst's letters are each seen delivered before the paced phase begins
    assert_eq!(report["burst"]["delivered"]["letters"], 200, "{report:#}");
    let all_after = report["burst"]["delivered"]["all_delivered_after_s"].as_f64().unwrap();
    let burst_p95 = report["burst"]["delivered"]["to_delivered_ms"]["p95"].as_f64().unwrap();
    assert!(all_after > 0.0 && burst_p95 > 0.0 && burst_p95 <= all_after * 1000.0, "{report:#}");
    assert_eq!(report["paced"]["right_after_burst"], false);
    assert_eq!(report["paced"]["accepted"], 100);
    assert_eq!(report["paced"]["delivered"], 100, "every paced letter's delivery was seen: {report:#}");
    assert!(report["server_memory_mib"]["peak"].as_f64().unwrap() > 1.0);
    // the letters really are there
    let client = reqwest::Client::new();
    let ids = all_letter_ids(&client, &gateway.base, &key).await;
    assert_eq!(ids.len(), 300);
    drop(gateway);
    db.drop_database().await;
}

/// SQLite, 20 times: SIGKILL at a random moment under load, restart, and check that every
/// letter answered 201 so far is there; at the end every letter is delivered exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_sigkills_at_random_moments_lose_nothing_on_sqlite() {
    let db = TestDb::new(&Backend::Sqlite).await;
    let data_dir = db.dir.join("data");
    let mut accepted_so_far: Vec<String> = Vec::new();
    let mut key = String::new();
    for round in 0..20 {
        let mut gateway = Gateway::start(&db, &data_dir, &format!("round-{round}")).await;
        if round == 0 {
            key = create_authority(&db, &data_dir, "Favrskov Kommune");
        }
        // after each restart, nothing answered 201 before a crash is missing
        let client = reqwest::Client::new();
        let stored: HashSet<String> = all_letter_ids(&client, &gateway.base, &key).await.into_iter().collect();
        for id in &accepted_so_far {
            assert!(stored.contains(id), "round {round}: letter {id} was answered 201 but is gone");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let tasks = load(gateway.base.clone(), key.clone(), Arc::clone(&stop), Arc::clone(&accepted));
        // a random moment: somewhere in accepting, committing, delivering
        tokio::time::sleep(Duration::from_millis(50 + u64::from(rand_u32() % 700))).await;
        gateway.kill();
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = t.await;
        }
        accepted_so_far.extend(accepted.lock().unwrap().iter().cloned());
    }
    assert!(accepted_so_far.len() >= 100, "the rounds got letters in: {}", accepted_so_far.len());

    let last = Gateway::start(&db, &data_dir, "last").await;
    let client = reqwest::Client::new();
    let stored = all_letter_ids(&client, &last.base, &key).await;
    let stored_set: HashSet<&String> = stored.iter().collect();
    for id in &accepted_so_far {
        assert!(stored_set.contains(id), "letter {id} was answered 201 but is gone");
    }
    let all_out = eventually(Duration::from_secs(90), || {
        let (n, want) = (delivered_letter_ids(&data_dir).len(), stored.len());
        async move { n >= want }
    })
    .await;
    let delivered = delivered_letter_ids(&data_dir);
    assert!(all_out, "only {} of {} letters reached the file drop", delivered.len(), stored.len());
    for (id, count) in &delivered {
        assert!(stored_set.contains(id), "a file for an unknown letter {id}");
        assert_eq!(*count, 1, "letter {id} was dropped {count} times");
    }
    drop(last);
    db.drop_database().await;
}

/// Scale-out: 10,000 letters posted across three `serve` processes on one PostgreSQL; one is
/// killed with SIGKILL mid-run and the other two take over its claims when their lease ends.
/// Every letter answered 201 is delivered exactly once to the file drop, and the survivors
/// never hand the same delivery to a transport twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_ten_thousand_letters_and_survive_a_sigkill() {
    let Some(backend) = Backend::require_postgres() else { return };
    let db = TestDb::new(&backend).await;
    let data_dir = db.dir.join("data");
    let a = Gateway::start(&db, &data_dir, "scale-a").await;
    let b = Gateway::start(&db, &data_dir, "scale-b").await;
    let mut c = Gateway::start(&db, &data_dir, "scale-c").await;
    let key = create_authority(&db, &data_dir, "Aarhus Kommune");

    const LETTERS: usize = 10_000;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut accepted: Vec<String> = Vec::with_capacity(LETTERS);
    let mut posts = tokio::task::JoinSet::new();
    let mut c_alive = true;
    for i in 0..LETTERS {
        if c_alive && i == LETTERS / 3 {
            // mid-run, with posts and deliveries in flight on c
            c.kill();
            c_alive = false;
        }
        let base = match i % 3 {
            0 => a.base.clone(),
            1 => b.base.clone(),
            _ => c.base.clone(),
        };
        let (client, key) = (client.clone(), key.clone());
        posts.spawn(async move {
            let response =
                client.post(format!("{base}/v1/letters")).bearer_auth(&key).json(&letter("0101901234")).send().await;
            match response {
                Ok(r) if r.status() == 201 => {
                    r.json::<Value>().await.ok().and_then(|v| v["id"].as_str().map(str::to_owned))
                }
                _ => None,
            }
        });
        while posts.len() >= 12 {
            if let Some(id) = posts.join_next().await.unwrap().unwrap() {
                accepted.push(id);
            }
        }
    }
    while let Some(id) = posts.join_next().await {
        if let Some(id) = id.unwrap() {
            accepted.push(id);
        }
    }
    assert!(accepted.len() >= LETTERS * 3 / 5, "most letters were accepted: {}", accepted.len());

    let stored = all_letter_ids(&client, &a.base, &key).await;
    let stored_set: HashSet<&String> = stored.iter().collect();
    for id in &accepted {
        assert!(stored_set.contains(id), "letter {id} was answered 201 but is gone");
    }
    let done = eventually(Duration::from_secs(240), || {
        let (n, want) = (delivered_letter_ids(&data_dir).len(), stored.len());
        async move { n >= want }
    })
    .await;
    let delivered = delivered_letter_ids(&data_dir);
    assert!(done, "only {} of {} delivered", delivered.len(), stored.len());
    for (id, count) in &delivered {
        assert!(stored_set.contains(id), "a file for an unknown letter {id}");
        assert_eq!(*count, 1, "letter {id} was dropped {count} times");
    }
    let (mut a, mut b) = (a, b);
    assert!(a.terminate().success() && b.terminate().success(), "SIGTERM gives a clean exit");
    let (from_a, from_b, from_c) = (a.handed_over(), b.handed_over(), c.handed_over());
    assert!(!from_a.is_empty() && !from_b.is_empty() && !from_c.is_empty(), "all three worked");
    let survivors: Vec<&String> = from_a.iter().chain(&from_b).collect();
    let unique: HashSet<&&String> = survivors.iter().collect();
    assert_eq!(unique.len(), survivors.len(), "the survivors never handed a delivery over twice");
    // what c had in hand when it died was taken over: at most its in-flight work is repeated
    let c_set: HashSet<&String> = from_c.iter().collect();
    let repeated = survivors.iter().filter(|id| c_set.contains(**id)).count();
    assert!(repeated <= 16, "only c's in-flight deliveries are repeated, not {repeated}");
    assert_eq!(unique.len() + from_c.len() - repeated, stored.len(), "every delivery handed over");
    db.drop_database().await;
}
