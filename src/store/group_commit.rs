//! Group commit: work waits for a committer together with the work of its kind that arrived
//! meanwhile, and the lot is written in one transaction (up to `GROUP`) with one statement per
//! table where the kind knows how (`GroupWork::apply_all`): one commit (on SQLite with FULL,
//! one fsync) and a few round trips instead of many each. Nobody waits for a timer: work
//! arriving at an idle committer is committed at once. Each is answered only after the commit
//! that holds it. If anything in the group fails, nothing of it is stored and each goes again
//! alone, so each gets its own answer.

use sqlx::{Database, Transaction};

use super::batch_queue::BatchQueue;

/// Work that can share a transaction with other work of its kind.
pub(crate) trait GroupWork: Send + Sync + Sized + 'static {
    type Db: Database;
    /// What transactions for the group begin on: the writer pool, and on SQLite what it knows
    /// about its connection's safety level (see `SqliteWriter`).
    type Writer: Clone + Send + Sync + 'static;
    type Output: Send + 'static;
    type Error: From<sqlx::Error> + Send + 'static;
    /// For the log.
    const KIND: &'static str;
    /// A transaction for a group (or for this work alone), with the kind's durability.
    fn begin(writer: &Self::Writer)
    -> impl Future<Output = Result<Transaction<'static, Self::Db>, sqlx::Error>> + Send;
    /// A group's rows in `tx`, which the caller commits; answers in the group's order.
    fn apply_all<'a>(
        tx: &'a mut Transaction<'static, Self::Db>,
        group: &'a [&'a Self],
    ) -> impl Future<Output = Result<Vec<Self::Output>, Self::Error>> + Send + 'a;
    /// This work in a transaction of its own, committed: a group of one.
    fn commit_alone(&self, writer: &Self::Writer) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send {
        async move {
            let mut tx = Self::begin(writer).await?;
            let one = [self];
            let mut outputs = Self::apply_all(&mut tx, &one).await?;
            tx.commit().await?;
            outputs
                .pop()
                .ok_or_else(|| sqlx::Error::Protocol(format!("a group of one {} gave no answer", Self::KIND)).into())
        }
    }
}

pub(crate) struct GroupCommit<W: GroupWork> {
    queue: BatchQueue<W, Result<W::Output, W::Error>>,
}

/// Work in one transaction, at most.
const GROUP: usize = 128;

impl<W: GroupWork> GroupCommit<W> {
    /// `committers`: groups in flight at once: 1 where the database has one writer (SQLite),
    /// more where it commits transactions side by side (PostgreSQL).
    pub(crate) fn new(committers: usize) -> Self {
        Self { queue: BatchQueue::new(committers, GROUP) }
    }

    /// Work submitted and not yet committed (or given up by its caller).
    pub(crate) fn waiting(&self) -> usize {
        self.queue.waiting()
    }

    /// `work` committed in a group (the committers start on first use).
    pub(crate) async fn commit(&self, writer: &W::Writer, work: W) -> Result<W::Output, W::Error> {
        let start = || {
            let writer = writer.clone();
            move |group: Vec<W>| Self::commit_group(writer.clone(), group)
        };
        // a caller that has gone (a client hung up, an engine task was stopped) is not waited
        // for: its work is stored all the same
        self.queue.submit(work, start).await?
    }

    async fn commit_group(writer: W::Writer, group: Vec<W>) -> Vec<Result<W::Output, W::Error>> {
        tracing::debug!(kind = W::KIND, count = group.len(), "committing together");
        if group.len() > 1 {
            let works: Vec<&W> = group.iter().collect();
            let together = async {
                let mut tx = W::begin(&writer).await?;
                let outputs = W::apply_all(&mut tx, &works).await?;
                tx.commit().await?;
                Ok::<_, W::Error>(outputs)
            };
            if let Ok(outputs) = together.await {
                return outputs.into_iter().map(Ok).collect();
            }
            // one failed (say, an idempotency key raced) or the commit did: nothing of the
            // group is stored, so each goes again alone and gets its own answer
        }
        let mut answers = Vec::with_capacity(group.len());
        for work in &group {
            answers.push(work.commit_alone(&writer).await);
        }
        answers
    }
}

/// The kinds of work both backends commit in groups — new letters, escalations, delivery
/// starts and delivery finishes — for one store. `$full` and `$relaxed` begin a transaction on a
/// `$writer` (the store's `group_writer()`) that is durable on commit, or engine bookkeeping
/// (see `begin_relaxed`).
macro_rules! group_works {
    ($store:ty, $db:ty, writer = $writer:ty, full = $full:path, relaxed = $relaxed:path) => {
        /// A new letter (durable: a letter answered 201 survives power loss).
        struct LetterWork {
            letter: $crate::store::NewLetter,
            sealed_cpr: String,
        }

        impl $crate::store::group_commit::GroupWork for LetterWork {
            type Db = $db;
            type Writer = $writer;
            type Output = $crate::store::CreatedLetter;
            type Error = sqlx::Error;
            const KIND: &'static str = "letters";

            async fn begin(writer: &$writer) -> Result<sqlx::Transaction<'static, $db>, sqlx::Error> {
                $full(writer).await
            }

            async fn apply_all(
                tx: &mut sqlx::Transaction<'static, $db>,
                group: &[&Self],
            ) -> Result<Vec<$crate::store::CreatedLetter>, sqlx::Error> {
                let letters: Vec<_> = group.iter().map(|w| (&w.letter, w.sealed_cpr.as_str())).collect();
                <$store>::insert_letters_rows(tx, &letters).await
            }
        }

        /// A delivery being handed to its transport (relaxed: engine bookkeeping the leases redo).
        struct DeliveryStart {
            job: $crate::store::Job,
            now: i64,
        }

        impl $crate::store::group_commit::GroupWork for DeliveryStart {
            type Db = $db;
            type Writer = $writer;
            type Output = Option<$crate::store::DeliveryRecord>;
            type Error = $crate::store::StoreError;
            const KIND: &'static str = "delivery starts";

            async fn begin(writer: &$writer) -> Result<sqlx::Transaction<'static, $db>, sqlx::Error> {
                $relaxed(writer).await
            }

            async fn apply_all(
                tx: &mut sqlx::Transaction<'static, $db>,
                group: &[&Self],
            ) -> $crate::store::StoreResult<Vec<Option<$crate::store::DeliveryRecord>>> {
                let starts: Vec<_> = group.iter().map(|w| (&w.job, w.now)).collect();
                <$store>::lock_letters(tx, starts.iter().map(|(job, _)| job.letter_id).collect()).await?;
                <$store>::start_deliveries_rows(tx, &starts).await
            }
        }

        /// What a delivery's transport reported (relaxed, as its start).
        struct DeliveryFinish {
            job: $crate::store::Job,
            outcome: $crate::store::DeliveryOutcome,
            now: i64,
        }

        impl $crate::store::group_commit::GroupWork for DeliveryFinish {
            type Db = $db;
            type Writer = $writer;
            type Output = ();
            type Error = $crate::store::StoreError;
            const KIND: &'static str = "delivery finishes";

            async fn begin(writer: &$writer) -> Result<sqlx::Transaction<'static, $db>, sqlx::Error> {
                $relaxed(writer).await
            }

            async fn apply_all(
                tx: &mut sqlx::Transaction<'static, $db>,
                group: &[&Self],
            ) -> $crate::store::StoreResult<Vec<()>> {
                let finishes: Vec<_> = group.iter().map(|w| (&w.job, &w.outcome, w.now)).collect();
                <$store>::finish_deliveries_rows(tx, &finishes).await?;
                Ok(vec![(); group.len()])
            }
        }

        /// An escalation (durable, as every change of a letter a citizen or caseworker
        /// sees), checked against its letter inside the group's transaction as it would be alone.
        struct EscalationWork {
            job: $crate::store::Job,
            plan: $crate::store::EscalationPlan,
            now: i64,
        }

        impl $crate::store::group_commit::GroupWork for EscalationWork {
            type Db = $db;
            type Writer = $writer;
            type Output = bool;
            type Error = $crate::store::StoreError;
            const KIND: &'static str = "escalations";

            async fn begin(writer: &$writer) -> Result<sqlx::Transaction<'static, $db>, sqlx::Error> {
                $full(writer).await
            }

            async fn apply_all(
                tx: &mut sqlx::Transaction<'static, $db>,
                group: &[&Self],
            ) -> $crate::store::StoreResult<Vec<bool>> {
                let escalations: Vec<_> = group.iter().map(|w| (&w.job, &w.plan, w.now)).collect();
                <$store>::apply_escalations_rows(tx, &escalations).await
            }
        }

        impl $store {
            /// A letter committed in a group with the letters that arrived meanwhile (durable;
            /// answered only after the commit).
            async fn commit_letter(
                &self,
                letter: &$crate::store::NewLetter,
                sealed_cpr: String,
            ) -> Result<$crate::store::CreatedLetter, sqlx::Error> {
                self.letters.commit(self.group_writer(), LetterWork { letter: letter.clone(), sealed_cpr }).await
            }

            /// An escalation committed in a group with the escalations that arrived meanwhile.
            async fn commit_escalation(
                &self,
                job: &$crate::store::Job,
                plan: &$crate::store::EscalationPlan,
                now: i64,
            ) -> $crate::store::StoreResult<bool> {
                self.escalations
                    .commit(self.group_writer(), EscalationWork { job: job.clone(), plan: plan.clone(), now })
                    .await
            }

            /// A delivery's start, committed in a relaxed group (see `begin_relaxed`).
            async fn commit_delivery_start(
                &self,
                job: &$crate::store::Job,
                now: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::DeliveryRecord>> {
                self.delivery_starts.commit(self.group_writer(), DeliveryStart { job: job.clone(), now }).await
            }

            /// A delivery's outcome, committed in a relaxed group as the starts.
            async fn commit_delivery_finish(
                &self,
                job: &$crate::store::Job,
                outcome: &$crate::store::DeliveryOutcome,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                let finish = DeliveryFinish { job: job.clone(), outcome: outcome.clone(), now };
                self.delivery_finishes.commit(self.group_writer(), finish).await
            }
        }
    };
}
pub(crate) use group_works;
