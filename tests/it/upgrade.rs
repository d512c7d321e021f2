//! Upgrades: a database made by the previous release (schema 0001 only, CPR numbers stored
//! before they were sealed) is migrated forward on start and keeps working.

use crate::harness::*;
use budbringer::domain::SystemClock;
use budbringer::domain::secret::{hash_api_key, keyed_hash};
use serde_json::Value;
use sqlx::SqlSafeStr as _;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use std::sync::Arc;
use uuid::Uuid;

on_both_backends!(a_database_from_the_previous_release_upgrades_and_keeps_working);

const API_KEY: &str = "bb_previous-release-key-0000000000000000000000";
const CPR: &str = "0101901234";
const CPR_HASH_KEY: [u8; 32] = [9u8; 32];

fn release_0_1_0(sql: &'static str) -> Migrator {
    Migrator::with_migrations(vec![Migration::new(1, "core".into(), MigrationType::Simple, sql.into_sql_str(), false)])
}

/// What release 0.1.0 left in a database: its schema, keys, an authority, a citizen.
macro_rules! previous_release_data {
    ($pool:expr, $authority:expr, $citizen:expr) => {{
        let pool = $pool;
        sqlx::query("INSERT INTO instance_keys (name, value) VALUES ($1, $2)")
            .bind("cpr-hash")
            .bind(CPR_HASH_KEY.to_vec())
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO authorities (id, name, cvr, created_at) VALUES ($1, $2, $3, $4)")
            .bind($authority)
            .bind("Randers Kommune")
            .bind("29189730")
            .bind(1_700_000_000_000i64)
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO api_keys (id, authority_id, key_hash, hint, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(Uuid::now_v7())
            .bind($authority)
            .bind(hash_api_key(API_KEY))
            .bind("bb_prev")
            .bind(1_700_000_000_000i64)
            .execute(&pool)
            .await
            .unwrap();
        // before sealing: the CPR number in plain digits
        sqlx::query("INSERT INTO citizens (id, cpr_hash, cpr, phone, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind($citizen)
            .bind(keyed_hash(&CPR_HASH_KEY, CPR))
            .bind(CPR)
            .bind("+4512345678")
            .bind(1_700_000_000_000i64)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }};
}

async fn a_database_from_the_previous_release_upgrades_and_keeps_working(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let (authority, citizen) = (Uuid::now_v7(), Uuid::now_v7());
    if db.url.starts_with("sqlite:") {
        let options: sqlx::sqlite::SqliteConnectOptions = db.url.parse().unwrap();
        let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true)).await.unwrap();
        release_0_1_0(include_str!("../../migrations/sqlite/0001_core.sql")).run(&pool).await.unwrap();
        previous_release_data!(pool, authority, citizen);
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        release_0_1_0(include_str!("../../migrations/postgres/0001_core.sql")).run(&pool).await.unwrap();
        previous_release_data!(pool, authority, citizen);
    }

    // this release migrates forward on start
    let app = TestApp::start_on(db, Arc::new(SystemClock), |_| {}).await;
    let response = app.post_letter(API_KEY, &letter(CPR)).await;
    assert_eq!(response.status(), 201, "the old API key still works");
    let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    app.wait_for_status(API_KEY, &id, "delivered").await;
    // the letter went to the citizen the old release knew, by the old hash key
    let stored = app.store.letter(authority, id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.citizen_id, citizen);
    // and Digital Post got the right CPR number (the stored one, sealed again on the way)
    let files = outbox_files(&app.outbox(), "digital_post");
    let memo = std::fs::read_to_string(app.outbox().join("digital_post").join(&files[0])).unwrap();
    assert!(memo.contains(CPR), "{memo}");
    // the new parts work on the old data: the citizen can ask for a login code
    let profile = app.store.stored_profile(citizen).await.unwrap().unwrap();
    assert_eq!(profile.profile.phone.as_deref(), Some("+4512345678"));
    app.finish().await;
}
