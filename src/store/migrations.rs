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

#[cfg(test)]
mod tests {
    use super::super::{postgres::PgStore, sqlite::SqliteStore};

    /// The versions of the files in `migrations/<dir>`, in order (`0009_name.sql` is 9).
    fn versions_on_disk(dir: &str) -> Vec<i64> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dir);
        let mut versions: Vec<i64> = std::fs::read_dir(path)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().split('_').next().unwrap().parse().unwrap())
            .collect();
        versions.sort_unstable();
        versions
    }

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        for (dir, migrator) in [("sqlite", SqliteStore::migrator()), ("postgres", PgStore::migrator())] {
            let embedded: Vec<i64> = migrator.iter().map(|m| m.version).collect();
            assert_eq!(embedded, versions_on_disk(dir), "migrations/{dir}");
        }
    }
}
