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
