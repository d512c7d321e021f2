//! Privacy at rest: CPR numbers are sealed in the database (AES-256-GCM, key from
//! configuration) and still reach Digital Post intact.

use crate::harness::*;
use base64::Engine as _;
use sqlx::Row as _;

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
