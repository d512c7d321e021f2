//! The command line: admin commands print JSON for scripts; bad configuration fails at
//! start-up with one line naming the key.

use crate::harness::*;
use crate::processes::{BIN, Gateway, gateway_env};
use serde_json::Value;
use std::process::Command;

fn run(db: &TestDb, args: &[&str], extra_env: &[(&str, &str)]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .envs(gateway_env(db, &db.dir.join("data"), 1))
        .envs(extra_env.iter().copied())
        .output()
        .expect("run budbringer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_create_working_keys_and_webhooks() {
    let db = TestDb::new(&Backend::Sqlite).await;
    let out = run(&db, &["migrate"], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = run(&db, &["admin", "create-authority", "--name", "Lemvig Kommune", "--cvr", "29189730"], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let authority = created["authority_id"].as_str().unwrap().to_owned();
    let first_key = created["api_key"].as_str().unwrap().to_owned();
    assert!(first_key.len() >= 46, "256-bit keys");

    let duplicate = run(&db, &["admin", "create-authority", "--name", "Igen", "--cvr", "29189730"], &[]);
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));
    let bad_cvr = run(&db, &["admin", "create-authority", "--name", "X", "--cvr", "12"], &[]);
    assert!(!bad_cvr.status.success());

    let out = run(&db, &["admin", "create-api-key", "--authority", &authority], &[]);
    assert!(out.status.success());
    let second_key = serde_json::from_slice::<Value>(&out.stdout).unwrap()["api_key"].as_str().unwrap().to_owned();
    assert_ne!(first_key, second_key);

    let out = run(&db, &["admin", "add-webhook", "--authority", &authority, "--url", "https://example.org/hook"], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hook: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(hook["secret"].as_str().unwrap().starts_with("whsec_"));

    // keys are stored hashed: the database file never contains a key
    let raw = std::fs::read(db.dir.join("test.db")).unwrap();
    let wal = std::fs::read(db.dir.join("test.db-wal")).unwrap_or_default();
    for key in [&first_key, &second_key] {
        assert!(!raw.windows(key.len()).chain(wal.windows(key.len())).any(|w| w == key.as_bytes()));
    }

    // both keys work against a running gateway
    let gateway = Gateway::start(&db, &db.dir.join("data"), "admin").await;
    let client = reqwest::Client::new();
    for key in [&first_key, &second_key] {
        let hooks: Value = client
            .get(format!("{}/v1/webhooks", gateway.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(hooks[0]["url"], "https://example.org/hook");
    }
    drop(gateway);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_fails_with_one_line_naming_the_key() {
    let db = TestDb::new(&Backend::Sqlite).await;
    for (var, value, key) in [
        ("BUDBRINGER_LISTEN", "not-an-address", "listen"),
        ("BUDBRINGER_DATABASE_URL", "mysql://localhost/x", "database_url"),
        ("BUDBRINGER_PUBLIC_URL", "budbringer.example", "public_url"),
        ("BUDBRINGER_ENGINE__LEASE_SECS", "soon", "engine.lease_secs"),
    ] {
        let out = run(&db, &["serve"], &[(var, value)]);
        assert_eq!(out.status.code(), Some(2), "{var}={value} must stop start-up");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(key), "{var}: {stderr}");
    }
    let missing_file = run(&db, &["--config", "/nonexistent.toml", "serve"], &[]);
    assert_eq!(missing_file.status.code(), Some(2));
    db.drop_database().await;
}

/// `budbringer backup` copies a running SQLite gateway's database while letters pour in;
/// restoring the copy brings back every letter that was accepted before the backup began.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backup_under_load_restores_every_letter_accepted_before_it() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let db = TestDb::new(&Backend::Sqlite).await;
    assert!(run(&db, &["migrate"], &[]).status.success());
    let out = run(&db, &["admin", "create-authority", "--name", "Vejle Kommune", "--cvr", "29189730"], &[]);
    let key = serde_json::from_slice::<Value>(&out.stdout).unwrap()["api_key"].as_str().unwrap().to_owned();
    let mut gateway = Gateway::start(&db, &db.dir.join("data"), "backup").await;

    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut posters = tokio::task::JoinSet::new();
    for worker in 0..4 {
        let (accepted, stop, key, base) = (accepted.clone(), stop.clone(), key.clone(), gateway.base.clone());
        posters.spawn(async move {
            let client = reqwest::Client::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = letter(&format!("{:02}0190{:04}", 1 + worker, n % 10_000));
                let response = client.post(format!("{base}/v1/letters")).bearer_auth(&key).json(&body).send().await;
                if let Ok(r) = response
                    && r.status() == 201
                {
                    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
                    accepted.lock().unwrap().push(id);
                }
            }
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let before: Vec<String> = accepted.lock().unwrap().clone();
    assert!(!before.is_empty(), "letters were accepted before the backup");
    let copy = db.dir.join("backup.db");
    let out = {
        let (db_url, dir, copy) = (db.url.clone(), db.dir.clone(), copy.clone());
        tokio::task::spawn_blocking(move || {
            Command::new(BIN)
                .args(["backup", "--to", copy.to_str().unwrap()])
                .env("BUDBRINGER_DATABASE_URL", db_url)
                .env("BUDBRINGER_DATA_DIR", dir.join("data"))
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    while posters.join_next().await.is_some() {}
    let during = accepted.lock().unwrap().len();
    assert!(during > before.len(), "the gateway kept accepting letters during the backup");

    // a second backup to the same file is refused rather than overwriting it
    let again = run(&db, &["backup", "--to", copy.to_str().unwrap()], &[]);
    assert!(!again.status.success());

    // restore: stop the gateway, put the copy in place, start again
    gateway.kill();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(db.dir.join(format!("test.db{suffix}")));
    }
    std::fs::copy(&copy, db.dir.join("test.db")).unwrap();
    let restored = Gateway::start(&db, &db.dir.join("data-restored"), "restored").await;
    let client = reqwest::Client::new();
    for id in &before {
        let response = client.get(format!("{}/v1/letters/{id}", restored.base)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(response.status(), 200, "letter {id}, accepted before the backup, is in the copy");
    }
    drop(restored);
    db.drop_database().await;
}
