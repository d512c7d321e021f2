//! Read coalescing: reads of one kind that arrive while others of that kind are under way wait
//! for a reader and are then answered together, one statement per table for the lot
//! (`BatchRead::read_all`), instead of a round trip to a database thread each. Nobody waits for
//! a timer: a read arriving at an idle reader is sent at once. If a batch fails, each of its
//! reads goes again alone, so each gets its own answer.

use sqlx::{Database, Pool};
use std::collections::HashMap;

use super::StoreError;
use super::batch_queue::BatchQueue;

/// Reads that can be answered together.
pub(crate) trait BatchRead: Send + Sync + Sized + 'static {
    type Db: Database;
    type Key: Clone + Eq + std::hash::Hash + Send + Sync + 'static;
    type Value: Clone + Send + 'static;
    /// For the log.
    const KIND: &'static str;
    /// What is stored for `keys` (distinct); a key with nothing stored is left out.
    fn read_all<'a>(
        pool: &'a Pool<Self::Db>,
        keys: &'a [Self::Key],
    ) -> impl Future<Output = Result<HashMap<Self::Key, Self::Value>, StoreError>> + Send + 'a;
}

pub(crate) struct BatchReader<R: BatchRead> {
    queue: BatchQueue<R::Key, Result<Option<R::Value>, StoreError>>,
}

/// Reads in one batch, at most.
const BATCH: usize = 64;

impl<R: BatchRead> BatchReader<R> {
    /// `readers`: batches in flight at once.
    pub(crate) fn new(readers: usize) -> Self {
        Self { queue: BatchQueue::new(readers, BATCH) }
    }

    /// What is stored for `key`, read in a batch (the readers start on first use).
    pub(crate) async fn read(&self, pool: &Pool<R::Db>, key: R::Key) -> Result<Option<R::Value>, StoreError> {
        let start = || {
            let pool = pool.clone();
            move |keys: Vec<R::Key>| Self::read_batch(pool.clone(), keys)
        };
        self.queue.submit(key, start).await?
    }

    /// What is stored for each of `keys` (some may be asked twice), in their order.
    async fn read_batch(pool: Pool<R::Db>, keys: Vec<R::Key>) -> Vec<Result<Option<R::Value>, StoreError>> {
        let mut distinct: Vec<R::Key> = Vec::with_capacity(keys.len());
        for key in &keys {
            if !distinct.contains(key) {
                distinct.push(key.clone());
            }
        }
        match R::read_all(&pool, &distinct).await {
            Ok(found) => {
                tracing::debug!(kind = R::KIND, count = distinct.len(), "read together");
                keys.iter().map(|key| Ok(found.get(key).cloned())).collect()
            }
            Err(e) if keys.len() == 1 => vec![Err(e)],
            Err(_) => {
                // each alone, for its own answer
                let mut answers = Vec::with_capacity(keys.len());
                for key in &keys {
                    let answer = R::read_all(&pool, std::slice::from_ref(key)).await.map(|mut found| found.remove(key));
                    answers.push(answer);
                }
                answers
            }
        }
    }
}

/// The kinds of reads both backends answer in batches, for one store.
macro_rules! batch_reads {
    ($store:ty, $db:ty) => {
        /// What routing a new letter reads: its citizen's profile and its authority's own policy.
        struct LetterContextRead;

        impl $crate::store::batch_read::BatchRead for LetterContextRead {
            type Db = $db;
            type Key = $crate::store::model::LetterContextKey;
            type Value = $crate::store::model::LetterContext;
            const KIND: &'static str = "letter contexts";

            async fn read_all(
                pool: &sqlx::Pool<$db>,
                keys: &[$crate::store::model::LetterContextKey],
            ) -> $crate::store::StoreResult<
                std::collections::HashMap<$crate::store::model::LetterContextKey, $crate::store::model::LetterContext>,
            > {
                <$store>::letter_contexts(pool, keys).await
            }
        }

        /// What a delivery needs besides its authority: its letter, citizen and documents.
        struct DeliveryContextRead;

        impl $crate::store::batch_read::BatchRead for DeliveryContextRead {
            type Db = $db;
            type Key = uuid::Uuid;
            type Value = $crate::store::model::DeliveryContext;
            const KIND: &'static str = "delivery contexts";

            async fn read_all(
                pool: &sqlx::Pool<$db>,
                letter_ids: &[uuid::Uuid],
            ) -> $crate::store::StoreResult<std::collections::HashMap<uuid::Uuid, $crate::store::model::DeliveryContext>>
            {
                <$store>::delivery_contexts(pool, letter_ids).await
            }
        }

        /// What an escalation timer needs to decide, by letter and exemption offer rule.
        struct EscalationContextRead;

        impl $crate::store::batch_read::BatchRead for EscalationContextRead {
            type Db = $db;
            type Key = (uuid::Uuid, $crate::store::model::ExemptionOfferRule);
            type Value = $crate::store::model::EscalationContext;
            const KIND: &'static str = "escalation contexts";

            async fn read_all(
                pool: &sqlx::Pool<$db>,
                keys: &[(uuid::Uuid, $crate::store::model::ExemptionOfferRule)],
            ) -> $crate::store::StoreResult<
                std::collections::HashMap<
                    (uuid::Uuid, $crate::store::model::ExemptionOfferRule),
                    $crate::store::model::EscalationContext,
                >,
            > {
                <$store>::escalation_contexts(pool, keys).await
            }
        }
    };
}
pub(crate) use batch_reads;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// `read_all` calls of `Kv<T>`: one counter per test, as tests may run side by side.
    static CALLS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

    /// Reads `value` of the table `kv`; a batch holding key -1 fails.
    struct Kv<const T: usize>;

    impl<const T: usize> BatchRead for Kv<T> {
        type Db = sqlx::Sqlite;
        type Key = i64;
        type Value = String;
        const KIND: &'static str = "test values";

        async fn read_all(pool: &Pool<sqlx::Sqlite>, keys: &[i64]) -> Result<HashMap<i64, String>, StoreError> {
            CALLS[T].fetch_add(1, Ordering::SeqCst);
            if keys.contains(&-1) {
                return Err(StoreError::Corrupt("minus one".into()));
            }
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new("SELECT key, value FROM kv WHERE key IN (");
            let mut list = q.separated(", ");
            for k in keys {
                list.push_bind(*k);
            }
            q.push(")");
            Ok(q.build_query_as::<(i64, String)>().fetch_all(pool).await?.into_iter().collect())
        }
    }

    async fn pool() -> Pool<sqlx::Sqlite> {
        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
        sqlx::query("CREATE TABLE kv (key INTEGER PRIMARY KEY, value TEXT NOT NULL)").execute(&pool).await.unwrap();
        for k in 0..100_i64 {
            sqlx::query("INSERT INTO kv VALUES (?, ?)").bind(k).bind(format!("v{k}")).execute(&pool).await.unwrap();
        }
        pool
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_arriving_together_are_answered_each_with_its_own_value_in_fewer_reads() {
        let pool = pool().await;
        let reader = Arc::new(BatchReader::<Kv<0>>::new(1));
        let before = CALLS[0].load(Ordering::SeqCst);
        let mut reads = tokio::task::JoinSet::new();
        // keys 0..200: the first 100 stored, the rest not; some asked twice
        for k in (0..200_i64).chain(0..20) {
            let (reader, pool) = (Arc::clone(&reader), pool.clone());
            reads.spawn(async move { (k, reader.read(&pool, k).await.unwrap()) });
        }
        let mut answered = 0;
        while let Some(done) = reads.join_next().await {
            let (k, value) = done.unwrap();
            assert_eq!(value, (k < 100).then(|| format!("v{k}")), "key {k}");
            answered += 1;
        }
        assert_eq!(answered, 220);
        let calls = CALLS[0].load(Ordering::SeqCst) - before;
        assert!(calls >= 220 / BATCH, "{calls} reads for 220 keys");
        assert!(calls < 220, "{calls} reads for 220 keys: not batched");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_read_fails_alone_and_the_others_of_its_batch_are_answered() {
        let pool = pool().await;
        let reader = Arc::new(BatchReader::<Kv<1>>::new(1));
        // the one connection held, a first read waits for it while the others gather behind it,
        // and they are then read in one batch, the failing key among them
        let held = pool.acquire().await.unwrap();
        let before = CALLS[1].load(Ordering::SeqCst);
        let first = tokio::spawn({
            let (reader, pool) = (Arc::clone(&reader), pool.clone());
            async move { reader.read(&pool, 50).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut reads = tokio::task::JoinSet::new();
        for k in -1..40_i64 {
            let (reader, pool) = (Arc::clone(&reader), pool.clone());
            reads.spawn(async move { (k, reader.read(&pool, k).await) });
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        drop(held);
        assert_eq!(first.await.unwrap().unwrap(), Some("v50".to_owned()));
        while let Some(done) = reads.join_next().await {
            let (k, answer) = done.unwrap();
            match k {
                -1 => assert!(matches!(answer, Err(StoreError::Corrupt(m)) if m == "minus one")),
                _ => assert_eq!(answer.unwrap(), Some(format!("v{k}"))),
            }
        }
        // the first read, the batch of 41 that failed, and each of the 41 again alone
        assert_eq!(CALLS[1].load(Ordering::SeqCst) - before, 1 + 1 + 41);
    }
}
