//! Issue #7, disk full: the SQLite database lives on a small tmpfs of its own (a real file
//! system that really runs out of space), a filler file takes the rest, and the API must answer
//! 503 with `Retry-After`, store nothing it answered 503 for, keep everything it answered 201
//! for, and accept letters again by itself once space is freed — without a restart.
//!
//! Mounting needs root (CI runs as root). Elsewhere the test is skipped, unless
//! `TEST_REQUIRE_DISK_FULL=1` makes that a failure.

use crate::harness::*;
use budbringer::domain::SystemClock;
use serde_json::Value;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// A tmpfs mounted for the test, unmounted when dropped (also when the test panics).
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(path: &Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(path).expect("mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted && std::env::var("TEST_REQUIRE_DISK_FULL").is_ok_and(|v| v == "1") {
            panic!("TEST_REQUIRE_DISK_FULL=1 but a tmpfs cannot be mounted (needs root)");
        }
        mounted.then(|| SmallDisk { path: path.to_owned() })
    }

    /// Write a file until the file system refuses: the disk is full.
    fn fill(&self) -> PathBuf {
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).expect("filler");
        let chunk = vec![0x5a_u8; 64 * 1024];
        loop {
            if file.write_all(&chunk).and_then(|_| file.sync_all()).is_err() {
                break;
            }
        }
        // the last partial chunks: down to the byte
        for size in [4096, 512, 1] {
            while file.write_all(&chunk[..size]).and_then(|_| file.sync_all()).is_ok() {}
        }
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// A letter whose body takes ~90 KB, so a few of them need more than a full disk has.
fn big_letter(i: usize) -> Value {
    let mut body = letter("0101901234");
    let text: String = (0..9_000).map(|n| format!("{:09} ", (n * 7919 + i * 104_729) % 1_000_000_007)).collect();
    body["body"] = Value::String(text);
    body["reference"] = Value::String(format!("FULD-{i}"));
    body
}

async fn post(app: &TestApp, key: &str, idempotency_key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(format!("{}/v1/letters", app.base))
        .bearer_auth(key)
        .header("idempotency-key", idempotency_key)
        .json(body)
        .send()
        .await
        .expect("POST /v1/letters")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_503_keeps_what_it_accepted_and_recovers_by_itself() {
    let db = TestDb::new(&Backend::Sqlite).await;
    // a private file system for the database only; the file drop stays on the test's disk
    let Some(disk) = SmallDisk::mount(&db.dir.join("small-disk"), "24m") else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    let db = db.with_sqlite_file(&disk.path.join("test.db"));
    // a delivery whose outcome could not be written is taken up again when its lease ends
    let app = TestApp::start_on(db, Arc::new(SystemClock), |s| s.engine.lease_secs = 2).await;
    let (_, key) = app.authority("Fanø Kommune").await;
    let first = post(&app, &key, "fuld-warm-up", &big_letter(0)).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();

    let filler = disk.fill();
    let mut accepted = vec![(first["id"].as_str().unwrap().to_owned(), big_letter(0))];
    let mut refused = Vec::new();
    for i in 1..200 {
        let body = big_letter(i);
        let idempotency_key = format!("fuld-{i}");
        let response = post(&app, &key, &idempotency_key, &body).await;
        match response.status().as_u16() {
            201 => {
                let created: Value = response.json().await.unwrap();
                accepted.push((created["id"].as_str().unwrap().to_owned(), body));
            }
            503 => {
                assert!(response.headers().contains_key("retry-after"), "503 without Retry-After");
                let problem = expect_problem(response, 503).await;
                assert!(problem["title"].is_string());
                refused.push((idempotency_key, body));
                if refused.len() == 3 {
                    break;
                }
            }
            other => panic!("a full disk answered {other}: {}", response.text().await.unwrap_or_default()),
        }
    }
    assert!(!refused.is_empty(), "the disk never filled up: {} letters accepted", accepted.len());

    // space comes back: the same process accepts again, with no restart and no operator
    std::fs::remove_file(&filler).expect("remove filler");
    let (retry_key, retry_body) = &refused[0];
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let again = loop {
        let response = post(&app, &key, retry_key, retry_body).await;
        if response.status() == 201 {
            break response;
        }
        assert!(std::time::Instant::now() < deadline, "the gateway did not recover after space was freed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // a request answered 503 stored nothing: its idempotency key is new to the store
    assert!(again.headers().get("idempotent-replayed").is_none(), "a refused letter had been stored");
    let again: Value = again.json().await.unwrap();
    accepted.push((again["id"].as_str().unwrap().to_owned(), retry_body.clone()));

    // and what the API answered is what a fresh connection finds on disk
    let fresh = sqlx::SqlitePool::connect(&app.db.url).await.unwrap();
    let on_disk: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM letters").fetch_one(&fresh).await.unwrap();
    assert_eq!(on_disk as usize, accepted.len(), "letters on disk differ from letters answered 201");
    fresh.close().await;

    // every letter answered 201 can be read at once, whole, and is delivered
    for (id, body) in &accepted {
        let stored = app.get_json(&key, &format!("/v1/letters/{id}")).await;
        assert_eq!(stored["reference"], body["reference"]);
        assert!(stored["body"] == body["body"], "letter {id} changed on the full disk");
        let until = std::time::Instant::now() + Duration::from_secs(30);
        let (delivered, last) = loop {
            let deliveries = app.get_json(&key, &format!("/v1/letters/{id}")).await["deliveries"].take();
            if deliveries[0]["status"] == "delivered" || std::time::Instant::now() > until {
                break (deliveries[0]["status"] == "delivered", deliveries);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(delivered, "letter {id} was not delivered after the disk had space again: {last:#}");
    }
    app.finish().await;
    drop(disk);
}
