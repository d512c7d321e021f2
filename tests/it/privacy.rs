//! Privacy at rest: CPR numbers are sealed in the database (AES-256-GCM, key from
//! configuration) and still reach Digital Post intact.

use crate::harness::*;
use base64::Engine as _;
use sqlx::Row as _;
use std::time::Duration;

on_both_backends!(cpr_numbers_are_sealed_at_rest_and_still_reach_digital_post);

async fn stored_cprs(url: &str) -> Vec<String> {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let rows = sqlx::query("SELECT cpr FROM citizens").fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows.iter().map(|r| r.get::<String, _>(0)).collect()
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let rows = sqlx::query("SELECT cpr FROM citizens").fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows.iter().map(|r| r.get::<String, _>(0)).collect()
    }
}

async fn cpr_numbers_are_sealed_at_rest_and_still_reach_digital_post(backend: Backend) {
    let key = base64::engine::general_purpose::STANDARD.encode([42u8; 32]);
    let app = TestApp::start_with(&backend, |s| s.cpr_encryption_key = key.clone()).await;
    let (_, api_key) = app.authority("Aarhus Kommune").await;
    let response = app.post_letter(&api_key, &letter("0101901234")).await;
    assert_eq!(response.status(), 201);
    let id = response.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    app.wait_for_status(&api_key, &id, "delivered").await;

    let stored = stored_cprs(&app.db.url).await;
    assert_eq!(stored.len(), 1);
    assert!(stored[0].starts_with("v1."), "sealed: {}", stored[0]);
    assert!(!stored[0].contains("0101901234") && !stored[0].contains("010190"));
    if app.db.url.starts_with("sqlite:") {
        // nowhere in the database file or its log either
        let raw = std::fs::read(app.db.dir.join("test.db")).unwrap();
        let wal = std::fs::read(app.db.dir.join("test.db-wal")).unwrap_or_default();
        assert!(!raw.windows(10).chain(wal.windows(10)).any(|w| w == b"0101901234"));
    }

    let files = outbox_files(&app.outbox(), "digital_post");
    let memo = std::fs::read_to_string(app.outbox().join("digital_post").join(&files[0])).unwrap();
    assert!(memo.contains("0101901234"), "Digital Post still gets the CPR number");
    app.finish().await;
}

/// Everything a full run logs (JSON lines at debug level for Budbringer and its HTTP layer),
/// from accepting a letter to a citizen logging in by SMS code and reading it, holds no CPR
/// number, API key, one-time code, session cookie, reading-link token or letter content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_run_logs_no_cpr_number_secret_or_letter_content() {
    use crate::processes::{BIN, Gateway};
    use serde_json::{Value, json};
    use std::process::Command;
    const CPR: &str = "0101901234";

    let db = TestDb::new(&Backend::Sqlite).await;
    let data = db.dir.join("data");
    // a verbose run: whatever a debugging operator would switch on
    let gateway = Gateway::start_with_log_level(&db, &data, "logscrub", "info,budbringer=debug,tower_http=debug").await;
    let out = Command::new(BIN)
        .args(["admin", "create-authority", "--name", "Logfri Kommune", "--cvr", "29189730"])
        .envs(crate::processes::gateway_env(&db, &data, 1))
        .output()
        .unwrap();
    let key = serde_json::from_slice::<Value>(&out.stdout).unwrap()["api_key"].as_str().unwrap().to_owned();
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let api = |path: &str| format!("{}{path}", gateway.base);

    let profile = json!({ "cpr": CPR, "phone": "+45 12 34 56 78", "email": "borger@example.dk" });
    let r = client.put(api("/v1/citizens/profile")).bearer_auth(&key).json(&profile).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let mut body = letter(CPR);
    body["subject"] = json!("Hemmeligt emne Q7X");
    body["body"] = json!("Hemmelig tekst Z9W om din sag.");
    let r = client.post(api("/v1/letters")).bearer_auth(&key).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let delivered = eventually(Duration::from_secs(20), || {
        let request = client.get(api(&format!("/v1/letters/{id}"))).bearer_auth(&key).send();
        async move { request.await.unwrap().json::<Value>().await.unwrap()["status"] == "delivered" }
    })
    .await;
    assert!(delivered);
    // a bad request with a CPR number in it is refused without echoing it to the log
    let mut bad = letter("3213901234");
    bad["subject"] = json!("");
    assert_eq!(client.post(api("/v1/letters")).bearer_auth(&key).json(&bad).send().await.unwrap().status(), 422);

    // the reading link from the Digital Post message
    let memo_dir = data.join("outbox").join("digital_post");
    let memo = std::fs::read_to_string(memo_dir.join(&outbox_files(&data.join("outbox"), "digital_post")[0])).unwrap();
    let token = memo.split("/l/").nth(1).unwrap().split(['<', '"', '/']).next().unwrap().to_owned();
    assert_eq!(client.get(api(&format!("/l/{token}"))).send().await.unwrap().status(), 200);

    // the citizen logs in by SMS code and reads the letter
    let page = client.get(api("/citizen/login")).send().await.unwrap().text().await.unwrap();
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = client.post(api("/citizen/login/sms")).form(&[("csrf", csrf.as_str()), ("cpr", CPR)]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let sms_dir = data.join("outbox").join("sms");
    assert!(
        eventually(Duration::from_secs(10), || async { !outbox_files(&data.join("outbox"), "sms").is_empty() }).await
    );
    let text = std::fs::read_to_string(sms_dir.join(&outbox_files(&data.join("outbox"), "sms")[0])).unwrap();
    let code: String = text.split("kode er ").nth(1).unwrap().chars().take(6).collect();
    let r = client
        .post(api("/citizen/login/code"))
        .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.url().path().ends_with("/citizen/letters"), "{}", r.url());
    let r = client.get(api(&format!("/citizen/letters/{id}"))).send().await.unwrap();
    assert!(r.text().await.unwrap().contains("Hemmelig tekst Z9W"));
    drop(gateway);

    let log = std::fs::read_to_string(db.dir.join("logscrub.log")).unwrap();
    assert!(log.lines().count() > 10, "the run logged: {log}");
    assert!(log.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()), "JSON lines only");
    let secrets = [
        ("a CPR number", CPR.to_owned()),
        ("a CPR number", "010190-1234".to_owned()),
        ("a rejected CPR number", "3213901234".to_owned()),
        ("the API key", key.clone()),
        ("the letter's subject", "Q7X".to_owned()),
        ("the letter's body", "Z9W".to_owned()),
        ("the reading-link token", token.clone()),
        ("the one-time code", format!("\"{code}\"")),
        ("the one-time code", format!(" {code} ")),
        ("the phone number", "12345678".to_owned()),
        ("the phone number", "12 34 56 78".to_owned()),
        ("the e-mail address", "borger@example.dk".to_owned()),
        ("the form token", csrf.clone()),
    ];
    for (what, secret) in secrets {
        assert!(!log.contains(&secret), "the log holds {what}: {}", log.lines().find(|l| l.contains(&secret)).unwrap());
    }
    db.drop_database().await;
}
