//! The durable engine: claims due jobs from the store, asks a channel to deliver, and records
//! the outcome. Leases make a crashed process's jobs come back; SIGTERM stops claiming, lets
//! in-flight work finish, and gives back what did not.

pub mod backoff;
pub mod report_fold;
pub mod retention;
pub mod webhook;

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::channels::Channels;
use crate::config::EngineSettings;
use crate::domain::Clock;
use crate::domain::calendar::Calendar;
use crate::domain::policy::{DeadlineChange, Policies, extend_deadline, step_channels};
use crate::metrics::Metrics;
use crate::store::{DeliveryOutcome, EscalationPlan, ExemptionOfferRule, Job, NewAlert, NewDelivery, Store, Timer};

/// How often a claim held back for new letters looks again whether they have been committed.
const INTAKE_RECHECK: Duration = Duration::from_millis(5);

/// How long the intake still goes first after the engine last saw enough new letters waiting.
/// During a burst the count dips below the threshold for a moment after each commit answers
/// its group; a claim in that moment would take the writer from the next group. At a steady
/// rate the count does not reach the threshold, so this costs the deliveries nothing there.
const INTAKE_LINGER: Duration = Duration::from_millis(50);

pub struct Engine {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub channels: Arc<Channels>,
    pub settings: EngineSettings,
    pub wake: Arc<Notify>,
    /// Woken when new events were written, so webhooks go out without waiting for a poll.
    pub events_written: Arc<Notify>,
    pub policies: Policies,
    pub calendar: Calendar,
    pub metrics: Arc<Metrics>,
    /// Names this process in claims, so its leases can be released on shutdown.
    pub worker_id: String,
}

impl Engine {
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        // deliveries hold the transports' slots; escalations only read and queue work, so
        // they run beside them in a larger set of their own and are committed in large groups
        let mut inflight = JoinSet::new();
        let mut escalating = JoinSet::new();
        let lease_ms = i64::try_from(self.settings.lease_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let poll = Duration::from_millis(self.settings.poll_interval_ms);
        // a claim is a write transaction (on SQLite an fsync): under load, claim once half the
        // slots are free rather than once per finished job
        let claim_at = (self.settings.concurrency / 2).max(1);
        let escalation_slots = self.settings.escalation_concurrency.max(1);
        // when a claim last left nothing due behind: whatever is due now became due since
        let mut drained_at: Option<Instant> = None;
        let mut intake = IntakeWatch::new(&self.settings);
        let mut holding = false;
        tracing::info!(worker = %self.worker_id, "engine started");
        while !*shutdown.borrow() {
            // a claim may hold either kind: no more than both sets have room for
            let free = self
                .settings
                .concurrency
                .saturating_sub(inflight.len())
                .min(escalation_slots.saturating_sub(escalating.len()));
            if free >= claim_at.min(escalation_slots) {
                // during a burst the claims (and the starts and finishes they bring) would take
                // the writer from new letters; they wait for the intake, though not for long
                let waiting = self.store.letters_waiting_for_commit();
                if intake.goes_first(waiting, drained_at, Instant::now()) {
                    if !holding {
                        tracing::debug!(waiting, "new letters go first: holding claims");
                        self.metrics.intake_hold();
                        holding = true;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(INTAKE_RECHECK) => {}
                        _ = shutdown.changed() => {}
                        Some(_) = inflight.join_next(), if !inflight.is_empty() => {}
                        Some(_) = escalating.join_next(), if !escalating.is_empty() => {}
                    }
                    continue;
                }
                holding = false;
                let claimed_at = Instant::now();
                let now = self.clock.now_ms();
                let claimed = self.store.claim_jobs(&self.worker_id, now, lease_ms, free as u32).await;
                if claimed.as_ref().is_ok_and(|jobs| jobs.len() < free) {
                    drained_at = Some(claimed_at);
                }
                match claimed {
                    Ok(jobs) if !jobs.is_empty() => {
                        tracing::debug!(
                            claimed = jobs.len(),
                            deliveries = inflight.len(),
                            escalations = escalating.len(),
                            "claimed jobs"
                        );
                        for job in jobs {
                            let engine = Arc::clone(&self);
                            let set = if job.kind == "escalate" { &mut escalating } else { &mut inflight };
                            set.spawn(async move { engine.process(job).await });
                        }
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not claim jobs"),
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
                Some(_) = inflight.join_next(), if !inflight.is_empty() => {}
                Some(_) = escalating.join_next(), if !escalating.is_empty() => {}
            }
        }
        self.drain(inflight, escalating).await;
    }

    async fn drain(&self, mut inflight: JoinSet<()>, mut escalating: JoinSet<()>) {
        let grace = Duration::from_secs(self.settings.shutdown_grace_secs);
        let finished = tokio::time::timeout(grace, async {
            while inflight.join_next().await.is_some() {}
            while escalating.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            inflight.abort_all();
            escalating.abort_all();
        }
        match self.store.release_jobs(&self.worker_id).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "gave back unfinished jobs"),
            Err(e) => tracing::warn!(error = %e, "could not release jobs; their leases will expire"),
        }
        tracing::info!(worker = %self.worker_id, "engine stopped");
    }

    async fn process(&self, job: Job) {
        // one span per job (a trace of its own, for OpenTelemetry): what was done, for which letter
        let span = tracing::debug_span!(
            "job",
            otel.name = %format!("job {}", job.kind),
            job.kind = %job.kind,
            job.attempt = job.attempts,
            letter.id = %job.letter_id,
            delivery.channel = tracing::field::Empty,
            delivery.outcome = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        let work = async {
            match job.kind.as_str() {
                "deliver" => self.deliver(&job).await,
                "escalate" => self.escalate(&job).await,
                "code_sms" => self.send_code(&job).await,
                other => {
                    tracing::error!(job_id = %job.id, kind = other, "unknown job kind; left for a newer version");
                    Ok(())
                }
            }
        };
        let result = work.instrument(span.clone()).await;
        if result.is_err() {
            span.record("otel.status_code", "error");
        }
        if let Err(e) = result {
            // the lease runs out and another attempt follows: nothing is lost
            tracing::warn!(job_id = %job.id, error = %e, "job interrupted by a store error");
        }
    }

    async fn deliver(&self, job: &Job) -> Result<(), crate::store::StoreError> {
        let Some(work) = self.store.start_delivery(job, self.clock.now_ms()).await? else {
            return Ok(());
        };
        self.events_written.notify_one();
        let channel = work.delivery.channel;
        tracing::Span::current().record("delivery.channel", channel.as_str());
        tracing::info!(
            delivery_id = %work.delivery.id, letter_id = %work.letter.id, channel = %channel,
            attempt = work.delivery.attempts, "delivery handed to transport"
        );
        let started = Instant::now();
        let sent = self.channels.deliver(&work).await;
        self.metrics.transport_latency(channel.as_str(), started.elapsed().as_secs_f64());
        let outcome = match sent {
            Ok(receipt) if receipt.confirmed => DeliveryOutcome::Delivered {
                transport: receipt.transport.to_owned(),
                provider_ref: receipt.provider_ref,
            },
            Ok(receipt) => {
                let callback = self.channels.callback_task(&work, &receipt, self.clock.now());
                DeliveryOutcome::Sent {
                    transport: receipt.transport.to_owned(),
                    provider_ref: receipt.provider_ref,
                    callback,
                }
            }
            Err(e) if e.is_permanent() || job.attempts >= job.max_attempts => {
                tracing::warn!(delivery_id = %work.delivery.id, error = %e, "delivery failed");
                DeliveryOutcome::Failed { error: e.to_string() }
            }
            Err(e) => {
                let wait = backoff::delay(
                    job.attempts,
                    Duration::from_millis(self.settings.retry_base_ms),
                    Duration::from_secs(self.settings.retry_max_secs),
                );
                tracing::info!(delivery_id = %work.delivery.id, error = %e, retry_in_ms = wait.as_millis() as u64, "delivery will be retried");
                DeliveryOutcome::Retry { at: self.clock.now_ms() + wait.as_millis() as i64, error: e.to_string() }
            }
        };
        let span = tracing::Span::current();
        self.metrics.delivery(channel.as_str(), outcome.name());
        span.record("delivery.outcome", outcome.name());
        if matches!(outcome, DeliveryOutcome::Failed { .. }) {
            span.record("otel.status_code", "error");
        }
        self.store.finish_delivery(job, &outcome, self.clock.now_ms()).await?;
        self.events_written.notify_one();
        Ok(())
    }

    /// An escalation timer fired: no evidence yet. Try the rung's channels, extend the deadline
    /// so they can work, alert caseworkers, and set the next timer — or, past the last rung,
    /// raise the alert that the citizen cannot be reached.
    async fn escalate(&self, job: &Job) -> Result<(), crate::store::StoreError> {
        let now = self.clock.now();
        let window_days = i64::from(self.policies.offer_exemption_window_days);
        // the proposal makes offering exemption the authority's duty when digital post fails a
        // citizen; the window starts to the minute, so escalations due together share one read
        let offer = ExemptionOfferRule {
            window_start: (now.as_millisecond() - window_days * 86_400_000).div_euclid(60_000) * 60_000,
            after_escalations: i64::from(self.policies.offer_exemption_after_escalations),
        };
        let Some(ctx) = self.store.escalation_context(job.letter_id, offer).await? else {
            return self.store.drop_job(job.id).await;
        };
        // a failed delivery does not stop the ladder: that is when another way matters most
        if ctx.evidence_at.is_some() || ctx.letter.status == crate::domain::LetterStatus::Cancelled {
            return self.store.drop_job(job.id).await;
        }
        let policy = ctx.own_policy.as_ref().unwrap_or_else(|| self.policies.for_importance(ctx.letter.importance));
        let calendar = self.calendar.clone().with_closing_days(ctx.closing_days.iter().copied());
        let step = usize::try_from(job.step.unwrap_or(0)).unwrap_or(usize::MAX);
        let today = now.to_zoned(calendar.time_zone().clone()).date();
        let letter = &ctx.letter;
        let mut alerts = Vec::new();
        let (deliveries, deadline) = match policy.escalations.get(step) {
            Some(rung) => {
                let channels = step_channels(rung, &ctx.reach, &ctx.used_channels);
                let deadline = if channels.is_empty() {
                    DeadlineChange::Unchanged { reason: "no_channel_to_try" }
                } else {
                    let current = letter.deadline.as_deref().and_then(|d| d.parse().ok());
                    extend_deadline(current, today, rung.extend_by_business_days, &calendar)
                };
                let deliveries = channels
                    .into_iter()
                    .map(|channel| NewDelivery {
                        channel,
                        delivery_id: uuid::Uuid::now_v7(),
                        job_id: uuid::Uuid::now_v7(),
                        helper: None,
                    })
                    .collect();
                if rung.alerts(step) {
                    let in_force = match &deadline {
                        DeadlineChange::Extended { new, .. } => Some(new.to_string()),
                        DeadlineChange::Unchanged { .. } => letter.deadline.clone(),
                    };
                    let details = serde_json::json!({ "subject": letter.subject, "deadline": in_force });
                    alerts.push(NewAlert { id: uuid::Uuid::now_v7(), kind: "unopened", details });
                    if let Some(offer) = ctx.offer_exemption {
                        let details = serde_json::json!({
                            "escalated_letters": offer.escalated_letters,
                            "paper_failed": offer.paper_failed,
                            "suggestion": if offer.paper_failed { "phone_or_in_person" } else { "paper" },
                        });
                        alerts.push(NewAlert { id: uuid::Uuid::now_v7(), kind: "offer_exemption", details });
                    }
                }
                let mut deliveries: Vec<NewDelivery> = deliveries;
                // at the first escalation, the helpers the citizen named hear of it, as granted
                if step == 0 && !deliveries.is_empty() {
                    for helper in &ctx.helpers {
                        if let Some(channel) = crate::domain::routing::helper_channel(helper) {
                            deliveries.push(NewDelivery {
                                channel,
                                delivery_id: uuid::Uuid::now_v7(),
                                job_id: uuid::Uuid::now_v7(),
                                helper: Some(helper.clone()),
                            });
                        }
                    }
                }
                (deliveries, deadline)
            }
            None => {
                let details = serde_json::json!({ "subject": letter.subject, "tried": ctx.used_channels });
                alerts.push(NewAlert { id: uuid::Uuid::now_v7(), kind: "unreachable", details });
                (Vec::new(), DeadlineChange::Unchanged { reason: "ladder_exhausted" })
            }
        };
        let next = match policy.wait_before(step + 1).filter(|_| step < policy.escalations.len()) {
            Some(wait) => match wait.after(&calendar, now) {
                Ok(due) => Some(Timer {
                    job_id: uuid::Uuid::now_v7(),
                    step: job.step.unwrap_or(0) + 1,
                    due_at: due.as_millisecond(),
                }),
                Err(e) => {
                    tracing::error!(letter_id = %letter.id, error = %e, "cannot compute the next escalation time");
                    None
                }
            },
            None => None,
        };
        let plan = EscalationPlan {
            step: job.step.unwrap_or(0),
            deliveries,
            deadline,
            alerts,
            next,
            max_attempts: i64::from(self.settings.max_attempts),
        };
        if self.store.apply_escalation(job, &plan, now.as_millisecond()).await? {
            tracing::info!(letter_id = %letter.id, step = plan.step, channels = plan.deliveries.len(), "letter escalated");
            self.metrics.escalation();
            self.wake.notify_one();
            self.events_written.notify_one();
        }
        Ok(())
    }

    /// Text a one-time code to the citizen's registered phone. Codes are short-lived: a failed
    /// send is retried a few times, then dropped (the citizen can ask for a new code).
    async fn send_code(&self, job: &Job) -> Result<(), crate::store::StoreError> {
        let payload = job.payload.as_ref().map(|p| &p.0);
        let to = payload.and_then(|p| p["to"].as_str()).unwrap_or_default();
        let text = payload.and_then(|p| p["text"].as_str()).unwrap_or_default();
        match self.channels.send_sms_text(job.letter_id, to, text).await {
            Ok(_) => self.store.drop_job(job.id).await,
            Err(e) if !e.is_permanent() && job.attempts < job.max_attempts => {
                tracing::info!(error = %e, "one-time code SMS will be retried");
                Ok(()) // the lease runs out and the job comes back
            }
            Err(e) => {
                tracing::warn!(error = %e, "one-time code SMS could not be sent");
                self.store.drop_job(job.id).await
            }
        }
    }
}

/// Whether new letters waiting for their commit go before a claim now (see `goes_first`).
struct IntakeWatch {
    threshold: usize,
    hold: Duration,
    /// When enough new letters were last seen waiting.
    crowded_at: Option<Instant>,
}

impl IntakeWatch {
    fn new(settings: &EngineSettings) -> Self {
        Self {
            threshold: settings.intake_precedence_waiting,
            hold: Duration::from_millis(settings.intake_precedence_max_ms),
            crowded_at: None,
        }
    }

    /// With `waiting` new letters waiting at `now`: whether they go first. They do while at
    /// least `intake_precedence_waiting` wait, or did less than `INTAKE_LINGER` ago, and the
    /// last claim that left nothing due behind (`drained_at`) was less than
    /// `intake_precedence_max_ms` ago. So no due job waits longer than that for the intake:
    /// after it the engine claims as usual until it has caught up.
    fn goes_first(&mut self, waiting: usize, drained_at: Option<Instant>, now: Instant) -> bool {
        if self.threshold == 0 {
            return false;
        }
        if waiting >= self.threshold {
            self.crowded_at = Some(now);
        }
        let since = |at: Option<Instant>| at.map(|at| now.saturating_duration_since(at));
        since(self.crowded_at).is_some_and(|d| d < INTAKE_LINGER) && since(drained_at).is_some_and(|d| d < self.hold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_letters_go_first_only_when_enough_wait_and_only_for_a_while() {
        let mut settings = crate::config::Settings::default().engine;
        let t0 = Instant::now();
        let drained = Some(t0);
        let ms = |n: u64| t0 + Duration::from_millis(n);
        assert_eq!(settings.intake_precedence_waiting, 16);
        let mut watch = IntakeWatch::new(&settings);
        assert!(!watch.goes_first(15, drained, t0), "too few waiting for the default");
        assert!(watch.goes_first(16, drained, t0), "on by default");
        assert!(watch.goes_first(3, drained, ms(49)), "a dip right after a commit: still a burst");
        assert!(!watch.goes_first(3, drained, ms(50)), "the burst is over");
        assert!(watch.goes_first(16, drained, ms(60)), "a new burst");

        settings.intake_precedence_waiting = 0;
        assert!(!IntakeWatch::new(&settings).goes_first(1000, drained, t0), "off");

        settings.intake_precedence_waiting = 8;
        settings.intake_precedence_max_ms = 1000;
        let mut watch = IntakeWatch::new(&settings);
        assert!(!watch.goes_first(7, drained, t0), "too few waiting");
        assert!(watch.goes_first(8, drained, t0));
        assert!(watch.goes_first(100, drained, ms(999)));
        assert!(!watch.goes_first(100, drained, ms(1000)), "held for long enough");
        assert!(!IntakeWatch::new(&settings).goes_first(100, None, t0), "not before a claim has caught up");
    }
}
