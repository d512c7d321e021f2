//! The embedded migrations of one database, in order. Forward-only: a released file is never
//! edited; a change is a new file.

use sqlx::SqlSafeStr as _;
use sqlx::migrate::{Migration, MigrationType};

pub(super) fn list(files: &[(i64, &'static str, &'static str)]) -> Vec<Migration> {
    files
        .iter()
        .map(|(version, name, sql)| {
            Migration::new(*version, (*name).into(), MigrationType::Simple, (*sql).into_sql_str(), false)
        })
        .collect()
}
