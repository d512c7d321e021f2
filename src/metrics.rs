//! Prometheus metrics: counters kept in memory, gauges read from the store when scraped.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::{BulkRun, Stats};

#[derive(Default)]
pub struct Metrics {
    letters_accepted: AtomicU64,
    /// Of those, the bulk runs' letters: as the authority said, and as found by their pace.
    bulk_requested: AtomicU64,
    bulk_detected: AtomicU64,
    escalations: AtomicU64,
    intake_holds: AtomicU64,
    deliveries: Mutex<BTreeMap<(String, &'static str), u64>>,
    webhooks: Mutex<BTreeMap<&'static str, u64>>,
    http_responses: Mutex<BTreeMap<u16, u64>>,
    /// Seconds spent in each channel's transport: (sum, count).
    transport_seconds: Mutex<BTreeMap<String, (f64, u64)>>,
    receipts: Mutex<BTreeMap<(String, &'static str), u64>>,
}

impl Metrics {
    pub fn letter_accepted(&self, bulk: Option<BulkRun>) {
        self.letters_accepted.fetch_add(1, Ordering::Relaxed);
        match bulk {
            Some(BulkRun::Requested) => self.bulk_requested.fetch_add(1, Ordering::Relaxed),
            Some(BulkRun::Detected) => self.bulk_detected.fetch_add(1, Ordering::Relaxed),
            None => 0,
        };
    }

    /// An important letter went one rung up its ladder.
    pub fn escalation(&self) {
        self.escalations.fetch_add(1, Ordering::Relaxed);
    }

    /// The engine held its claims back because new letters were waiting for their commit.
    pub fn intake_hold(&self) {
        self.intake_holds.fetch_add(1, Ordering::Relaxed);
    }

    pub fn delivery(&self, channel: &str, outcome: &'static str) {
        let mut map = self.deliveries.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry((channel.to_owned(), outcome)).or_default() += 1;
    }

    /// How long one call to a channel's transport took.
    pub fn transport_latency(&self, channel: &str, seconds: f64) {
        let mut map = self.transport_seconds.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(channel.to_owned()).or_default();
        entry.0 += seconds;
        entry.1 += 1;
    }

    /// A provider's receipt (delivery report, status receipt) for a channel.
    pub fn receipt(&self, channel: &str, outcome: &'static str) {
        let mut map = self.receipts.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry((channel.to_owned(), outcome)).or_default() += 1;
    }

    pub fn webhook(&self, outcome: &'static str) {
        let mut map = self.webhooks.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(outcome).or_default() += 1;
    }

    pub fn http_response(&self, status: u16) {
        let mut map = self.http_responses.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(status).or_default() += 1;
    }

    /// The text exposition format (version 0.0.4), with the store's gauges and the letters of
    /// this process waiting for their commit.
    pub fn render(&self, stats: &Stats, letters_waiting_for_commit: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP budbringer_letters_accepted_total Letters accepted by this process.");
        let _ = writeln!(out, "# TYPE budbringer_letters_accepted_total counter");
        let _ = writeln!(out, "budbringer_letters_accepted_total {}", self.letters_accepted.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "# HELP budbringer_bulk_letters_total Letters accepted as part of a bulk run, by who said so (this process)."
        );
        let _ = writeln!(out, "# TYPE budbringer_bulk_letters_total counter");
        for (reason, n) in [("requested", &self.bulk_requested), ("detected", &self.bulk_detected)] {
            let _ = writeln!(out, "budbringer_bulk_letters_total{{reason=\"{reason}\"}} {}", n.load(Ordering::Relaxed));
        }

        let _ = writeln!(
            out,
            "# HELP budbringer_delivery_attempts_total Delivery attempts by channel and outcome (this process)."
        );
        let _ = writeln!(out, "# TYPE budbringer_delivery_attempts_total counter");
        for ((channel, outcome), n) in self.deliveries.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ =
                writeln!(out, "budbringer_delivery_attempts_total{{channel=\"{channel}\",outcome=\"{outcome}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP budbringer_transport_seconds Time spent sending, per channel (this process).");
        let _ = writeln!(out, "# TYPE budbringer_transport_seconds summary");
        for (channel, (sum, count)) in self.transport_seconds.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "budbringer_transport_seconds_sum{{channel=\"{channel}\"}} {sum}");
            let _ = writeln!(out, "budbringer_transport_seconds_count{{channel=\"{channel}\"}} {count}");
        }
        let _ =
            writeln!(out, "# HELP budbringer_receipts_total Provider receipts by channel and outcome (this process).");
        let _ = writeln!(out, "# TYPE budbringer_receipts_total counter");
        for ((channel, outcome), n) in self.receipts.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "budbringer_receipts_total{{channel=\"{channel}\",outcome=\"{outcome}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP budbringer_webhook_sends_total Webhook sends by outcome (this process).");
        let _ = writeln!(out, "# TYPE budbringer_webhook_sends_total counter");
        for (outcome, n) in self.webhooks.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "budbringer_webhook_sends_total{{outcome=\"{outcome}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP budbringer_http_responses_total HTTP responses by status (this process).");
        let _ = writeln!(out, "# TYPE budbringer_http_responses_total counter");
        for (status, n) in self.http_responses.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "budbringer_http_responses_total{{status=\"{status}\"}} {n}");
        }

        let _ = writeln!(
            out,
            "# HELP budbringer_letters_waiting_for_commit New letters of this process waiting for their commit."
        );
        let _ = writeln!(out, "# TYPE budbringer_letters_waiting_for_commit gauge");
        let _ = writeln!(out, "budbringer_letters_waiting_for_commit {letters_waiting_for_commit}");
        let _ = writeln!(
            out,
            "# HELP budbringer_engine_intake_holds_total Times the engine held its claims for new letters (this process)."
        );
        let _ = writeln!(out, "# TYPE budbringer_engine_intake_holds_total counter");
        let _ = writeln!(out, "budbringer_engine_intake_holds_total {}", self.intake_holds.load(Ordering::Relaxed));

        let _ = writeln!(out, "# HELP budbringer_letters Letters in the store by status.");
        let _ = writeln!(out, "# TYPE budbringer_letters gauge");
        for (status, n) in &stats.letters_by_status {
            let _ = writeln!(out, "budbringer_letters{{status=\"{status}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP budbringer_deliveries Deliveries in the store by channel and status.");
        let _ = writeln!(out, "# TYPE budbringer_deliveries gauge");
        for (channel, status, n) in &stats.deliveries_by_channel_status {
            let _ = writeln!(out, "budbringer_deliveries{{channel=\"{channel}\",status=\"{status}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP budbringer_jobs_due Jobs due now and not claimed.");
        let _ = writeln!(out, "# TYPE budbringer_jobs_due gauge");
        let _ = writeln!(out, "budbringer_jobs_due {}", stats.jobs_due);
        let _ = writeln!(out, "# HELP budbringer_oldest_due_job_seconds Age of the oldest due job.");
        let _ = writeln!(out, "# TYPE budbringer_oldest_due_job_seconds gauge");
        let _ = writeln!(out, "budbringer_oldest_due_job_seconds {}", stats.oldest_due_age_ms as f64 / 1000.0);
        let _ = writeln!(out, "# HELP budbringer_webhook_backlog Webhook messages waiting to be sent.");
        let _ = writeln!(out, "# TYPE budbringer_webhook_backlog gauge");
        let _ = writeln!(out, "budbringer_webhook_backlog {}", stats.webhook_backlog);
        let _ = writeln!(out, "# HELP budbringer_escalations_total Escalations applied by this process.");
        let _ = writeln!(out, "# TYPE budbringer_escalations_total counter");
        let _ = writeln!(out, "budbringer_escalations_total {}", self.escalations.load(Ordering::Relaxed));
        let _ = writeln!(out, "# HELP budbringer_open_alerts Alerts waiting for a caseworker, by kind.");
        let _ = writeln!(out, "# TYPE budbringer_open_alerts gauge");
        for (kind, n) in &stats.open_alerts_by_kind {
            let _ = writeln!(out, "budbringer_open_alerts{{kind=\"{kind}\"}} {n}");
        }
        out
    }
}
