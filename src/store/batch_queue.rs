//! A queue whose requests are answered in batches: requests wait for one of N workers, which
//! takes what has gathered (up to a maximum) while the others work, and answers the lot with one
//! call. Nobody waits for a timer: a request arriving at an idle worker is taken at once. Group
//! commit and batched reads are built on it; what a batch does is theirs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::{Mutex, mpsc, oneshot};

/// Requests waiting for a worker, at most; then the caller waits (back pressure).
const QUEUE: usize = 1024;

type Pending<Req, Ans> = (Req, oneshot::Sender<Ans>);

pub(crate) struct BatchQueue<Req, Ans> {
    queue: OnceLock<mpsc::Sender<Pending<Req, Ans>>>,
    /// Batches in flight at once.
    workers: usize,
    /// Requests in one batch, at most.
    batch: usize,
    /// Requests submitted and not yet answered (or given up by their caller).
    waiting: AtomicUsize,
}

/// Counts a request as waiting for as long as it lives, also when its caller gives up.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<Req: Send + 'static, Ans: Send + 'static> BatchQueue<Req, Ans> {
    pub(crate) fn new(workers: usize, batch: usize) -> Self {
        Self { queue: OnceLock::new(), workers: workers.max(1), batch: batch.max(1), waiting: AtomicUsize::new(0) }
    }

    /// Requests submitted and not yet answered: how far the workers are behind.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// `request` answered in a batch. The workers start on first use, each with a clone of the
    /// `answer_all` that `start` makes: it answers a batch in its order, one answer each.
    pub(crate) async fn submit<S, F, Fut>(&self, request: Req, start: S) -> Result<Ans, sqlx::Error>
    where
        S: FnOnce() -> F,
        F: Fn(Vec<Req>) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = Vec<Ans>> + Send + 'static,
    {
        let queue = self.queue.get_or_init(|| {
            let (queue, pending) = mpsc::channel(QUEUE);
            let pending = Arc::new(Mutex::new(pending));
            let answer_all = start();
            for _ in 0..self.workers {
                tokio::spawn(Self::work(Arc::clone(&pending), answer_all.clone(), self.batch));
            }
            queue
        });
        let _waiting = Waiting::new(&self.waiting);
        let (reply, answer) = oneshot::channel();
        // the workers end only when the queue does: a closed one means the store is going away
        queue.send((request, reply)).await.map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::Protocol("a batch left a request without an answer".into()))
    }

    async fn work<F, Fut>(pending: Arc<Mutex<mpsc::Receiver<Pending<Req, Ans>>>>, answer_all: F, max: usize)
    where
        F: Fn(Vec<Req>) -> Fut,
        Fut: Future<Output = Vec<Ans>>,
    {
        let mut batch = Vec::with_capacity(max);
        loop {
            // one worker takes what has gathered while the others answer theirs
            if pending.lock().await.recv_many(&mut batch, max).await == 0 {
                return;
            }
            let (requests, replies): (Vec<Req>, Vec<oneshot::Sender<Ans>>) = batch.drain(..).unzip();
            for (reply, answer) in replies.into_iter().zip(answer_all(requests).await) {
                // the caller may have gone (a client hung up, an engine task was stopped)
                let _ = reply.send(answer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_arriving_while_a_worker_is_busy_are_answered_together_each_with_its_own_answer() {
        let queue = Arc::new(BatchQueue::<u32, u32>::new(1, 16));
        let batches = Arc::new(StdMutex::new(Vec::new()));
        let mut asked = tokio::task::JoinSet::new();
        for n in 0..100_u32 {
            let (queue, batches) = (Arc::clone(&queue), Arc::clone(&batches));
            asked.spawn(async move {
                let start = move || {
                    move |requests: Vec<u32>| {
                        let batches = Arc::clone(&batches);
                        async move {
                            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                            batches.lock().unwrap().push(requests.len());
                            requests.into_iter().map(|r| r * 2).collect()
                        }
                    }
                };
                (n, queue.submit(n, start).await.unwrap())
            });
        }
        while let Some(done) = asked.join_next().await {
            let (n, answer) = done.unwrap();
            assert_eq!(answer, n * 2);
        }
        let batches = batches.lock().unwrap();
        assert_eq!(batches.iter().sum::<usize>(), 100);
        assert!(batches.iter().all(|len| *len <= 16), "{batches:?}");
        assert!(batches.len() < 100, "not batched: {batches:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_are_counted_as_waiting_until_answered_or_given_up() {
        let queue = Arc::new(BatchQueue::<u32, u32>::new(1, 16));
        let release = Arc::new(tokio::sync::Semaphore::new(0));
        let start = {
            let release = Arc::clone(&release);
            move || {
                move |requests: Vec<u32>| {
                    let release = Arc::clone(&release);
                    async move {
                        let _ = release.acquire().await.map(|p| p.forget());
                        requests
                    }
                }
            }
        };
        let mut asked = Vec::new();
        for n in 0..3_u32 {
            let (queue, start) = (Arc::clone(&queue), start.clone());
            asked.push(tokio::spawn(async move { queue.submit(n, start).await }));
        }
        while queue.waiting() < 3 {
            tokio::task::yield_now().await;
        }
        // a caller that gives up no longer counts
        asked.pop().unwrap().abort();
        while queue.waiting() > 2 {
            tokio::task::yield_now().await;
        }
        release.add_permits(10);
        for handle in asked {
            assert!(handle.await.unwrap().is_ok());
        }
        assert_eq!(queue.waiting(), 0);
    }

    #[tokio::test]
    async fn a_batch_answered_short_fails_the_requests_left_without_an_answer() {
        let queue = BatchQueue::<u32, u32>::new(1, 16);
        let start = || |_: Vec<u32>| async { Vec::new() };
        assert!(matches!(queue.submit(1, start).await, Err(sqlx::Error::Protocol(_))));
    }
}
