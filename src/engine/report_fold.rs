//! PostgreSQL's report roll-ups take their changes as deltas (migration 0005), which this task
//! folds into the hour tables every half second, in a short transaction of its own, so that no
//! letter's or escalation's transaction pays for it (migration 0009). Every instance runs it;
//! the database lets one fold at a time and the others skip their turn. The report reads the
//! hour tables and the pending deltas together, so it is exact whenever it is asked.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

use crate::store::Store;

/// Often enough to keep the pending deltas a few thousand rows at the most the gateway takes
/// in (a fold moves up to 10,000 per table).
pub const FOLD_EVERY: Duration = Duration::from_millis(500);

pub async fn run(store: Arc<dyn Store>, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if let Err(e) = store.fold_report_deltas().await {
            // nothing is lost: the deltas wait for the next fold, and the report counts them
            tracing::warn!(error = %e, "could not fold the report roll-ups' deltas");
        }
        tokio::select! {
            _ = tokio::time::sleep(FOLD_EVERY) => {}
            _ = shutdown.changed() => {}
        }
    }
}
