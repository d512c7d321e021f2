//! The database's own ceiling: the rows one accepted letter costs (citizen, letter, delivery,
//! job, `accepted` event) written by a minimal sqlx loop into a fresh database of the same
//! kind, with the gateway's durability settings (SQLite: WAL, `synchronous=FULL`, one writer).
//! The gateway's rate divided by this is how close it gets to what the database can do here.

use anyhow::Context;
use budbringer::store::model::Authority;
use sqlx::types::Json;
use std::str::FromStr;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub struct Ceiling {
    /// Letters per second, one transaction per letter.
    pub one_per_transaction: f64,
    /// Letters per second, `GROUP` letters per transaction (what group commit can reach).
    pub grouped: f64,
}

pub const GROUP: usize = 64;

enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Write `letters` letters twice (alone, then grouped) into the empty database at `url`.
pub async fn measure(url: &str, letters: usize, concurrency: usize) -> anyhow::Result<Ceiling> {
    let store = budbringer::store::connect(url).await.context("opening the ceiling database")?;
    store.migrate().await.context("migrating the ceiling database")?;
    let authority = Uuid::now_v7();
    store
        .create_authority(&Authority {
            id: authority,
            name: "Loftet Kommune".into(),
            cvr: format!("{:08}", authority.as_u128() % 100_000_000),
            created_at: 0,
            office_hours: None,
            time_zone: None,
            closing_days: Json(Vec::new()),
        })
        .await?;
    store.close().await;
    let db = if url.starts_with("sqlite") {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        Db::Sqlite(sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await?)
    } else {
        Db::Postgres(sqlx::postgres::PgPoolOptions::new().max_connections(16).connect(url).await?)
    };
    let one_per_transaction = run(&db, authority, letters, concurrency, 1).await?;
    let grouped = run(&db, authority, letters, concurrency, GROUP).await?;
    Ok(Ceiling { one_per_transaction, grouped })
}

async fn run(db: &Db, authority: Uuid, letters: usize, concurrency: usize, group: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    let per_task = letters.div_ceil(concurrency);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let db = match db {
            Db::Sqlite(p) => Db::Sqlite(p.clone()),
            Db::Postgres(p) => Db::Postgres(p.clone()),
        };
        tasks.spawn(async move {
            let mut written = 0;
            while written < per_task {
                let n = group.min(per_task - written);
                match &db {
                    Db::Sqlite(pool) => write_group::<sqlx::Sqlite>(pool, authority, n, "?").await?,
                    Db::Postgres(pool) => write_group::<sqlx::Postgres>(pool, authority, n, "$").await?,
                }
                written += n;
            }
            anyhow::Ok(written)
        });
    }
    let mut total = 0;
    while let Some(done) = tasks.join_next().await {
        total += done??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// `n` letters' rows in one transaction. `p` is the backend's placeholder sign.
async fn write_group<DB>(pool: &sqlx::Pool<DB>, authority: Uuid, n: usize, p: &str) -> anyhow::Result<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    Uuid: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Json<serde_json::Value>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let q = |sql: &str| sqlx::AssertSqlSafe(sql.replace('$', p));
    let now = jiff::Timestamp::now().as_millisecond();
    let mut tx = pool.begin().await?;
    for _ in 0..n {
        let (citizen, letter, delivery, job) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        sqlx::query(q("INSERT INTO citizens (id, cpr_hash, cpr, created_at) VALUES ($1, $2, $3, $4)"))
            .bind(citizen)
            .bind(citizen.simple().to_string())
            .bind("sealed")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(q(
            "INSERT INTO letters (id, authority_id, citizen_id, recipient, subject, body, importance, respond_by, \
             deadline, reference, contact, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'important', '2099-12-31', '2099-12-31', $7, $8, 'accepted', $9, $9)",
        ))
        .bind(letter)
        .bind(authority)
        .bind(citizen)
        .bind(Json(serde_json::json!({ "cpr_masked": "010180-****", "name": "Belastning Testesen" })))
        .bind("Afgørelse om boligstøtte")
        .bind("Du får boligstøtte fra 1. januar.\n\nSvar inden fristen.")
        .bind("LOAD")
        .bind(Json(serde_json::json!({ "unit": "Borgerservice", "phone": "+45 70 10 10 10" })))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(q(
            "INSERT INTO deliveries (id, letter_id, channel, purpose, status, attempts, created_at, updated_at) \
             VALUES ($1, $2, 'digital_post', 'letter', 'queued', 0, $3, $3)",
        ))
        .bind(delivery)
        .bind(letter)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(q(
            "INSERT INTO jobs (id, kind, letter_id, delivery_id, available_at, attempts, max_attempts, created_at) \
             VALUES ($1, 'deliver', $2, $3, $4, 0, 10, $4)",
        ))
        .bind(job)
        .bind(letter)
        .bind(delivery)
        .bind(now + 86_400_000) // nobody delivers these
        .execute(&mut *tx)
        .await?;
        sqlx::query(q(
            "INSERT INTO events (id, letter_id, authority_id, kind, data, created_at) VALUES ($1, $2, $3, 'accepted', $4, $5)",
        ))
        .bind(Uuid::now_v7())
        .bind(letter)
        .bind(authority)
        .bind(Json(serde_json::json!({ "channel": "digital_post" })))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
