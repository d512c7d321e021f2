//! PostgreSQL: for several gateway processes behind a load balancer. Work is claimed with
//! `FOR UPDATE SKIP LOCKED`, so two processes never take the same job.

use sqlx::SqlSafeStr as _;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::time::Duration;

use super::common::common_store_impl;

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    const BACKEND: super::Backend = super::Backend::Postgres;

    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
        Ok(Self { pool })
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    async fn close_pools(&self) {
        self.pool.close().await;
    }

    fn migrator() -> Migrator {
        Migrator::with_migrations(vec![Migration::new(
            1,
            "core".into(),
            MigrationType::Simple,
            include_str!("../../migrations/postgres/0001_core.sql").into_sql_str(),
            false,
        )])
    }
}

fn sql(pg: &'static str) -> &'static str {
    pg
}

common_store_impl!(
    PgStore,
    sqlx::Postgres,
    lock = " FOR UPDATE",
    skip_locked = " FOR UPDATE SKIP LOCKED",
    visible = " AND xid < pg_snapshot_xmin(pg_current_snapshot())",
    snapshot = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
);
