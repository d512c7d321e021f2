//! Webhooks to authorities, per the Standard Webhooks spec: `webhook-id`, `webhook-timestamp`
//! and `webhook-signature` (HMAC-SHA256). At least once, in order per letter and endpoint
//! (a message waits while an earlier one for the same letter is pending), retried with capped
//! backoff for at least three days before it is given up. For a while after a secret is
//! rotated, messages carry two signatures: one with the new secret, one with the old.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::config::WebhookSettings;
use crate::domain::event::{EventKind, event_json, format_ms};
use crate::domain::{Clock, secret};
use crate::metrics::Metrics;
use crate::store::{Store, WebhookMessage};

pub struct WebhookDispatcher {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub settings: WebhookSettings,
    pub metrics: Arc<Metrics>,
    pub wake: Arc<Notify>,
    pub poll: Duration,
    pub worker_id: String,
    pub client: reqwest::Client,
}

const BATCH: u32 = 64;

impl WebhookDispatcher {
    pub fn client(settings: &WebhookSettings) -> reqwest::Result<reqwest::Client> {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_secs))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Budbringer-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
    }

    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        // the lease outlives one send with its timeout, so no other worker sends it meanwhile
        let lease_ms = (self.settings.timeout_secs as i64 + 30) * 1000;
        while !*shutdown.borrow() {
            let claimed =
                self.store.claim_webhook_messages(&self.worker_id, self.clock.now_ms(), lease_ms, BATCH).await;
            match claimed {
                Ok(messages) if !messages.is_empty() => {
                    let mut sends = JoinSet::new();
                    for message in messages {
                        let this = Arc::clone(&self);
                        sends.spawn(async move { this.send(message).await });
                    }
                    while sends.join_next().await.is_some() {}
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not claim webhook messages"),
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    async fn send(&self, m: WebhookMessage) {
        let result = self.post(&m).await;
        let now = self.clock.now_ms();
        let stored = match result {
            Ok(()) => {
                self.metrics.webhook("sent");
                self.store.webhook_message_sent(m.id).await
            }
            Err(error) if now - m.created_at >= self.give_up_after_ms() => {
                self.metrics.webhook("dead");
                tracing::error!(webhook_id = %m.webhook_id, event_id = %m.event_id, %error, "webhook given up after retrying");
                self.store.webhook_message_dead(m.id, &error).await
            }
            Err(error) => {
                self.metrics.webhook("retry");
                let wait = super::backoff::delay(
                    m.attempts,
                    Duration::from_millis(self.settings.retry_base_ms),
                    Duration::from_secs(self.settings.retry_max_secs),
                );
                tracing::info!(webhook_id = %m.webhook_id, event_id = %m.event_id, %error, "webhook will be retried");
                self.store.webhook_message_retry(m.id, now + wait.as_millis() as i64, &error).await
            }
        };
        if let Err(e) = stored {
            tracing::warn!(error = %e, "could not record webhook outcome; it will be sent again");
        }
    }

    fn give_up_after_ms(&self) -> i64 {
        self.settings.give_up_after_hours as i64 * 3_600_000
    }

    async fn post(&self, m: &WebhookMessage) -> Result<(), String> {
        let now = self.clock.now();
        let mut keys = vec![secret::webhook_key(&m.secret).map_err(|e| e.to_string())?];
        // during a rotation's overlap the old secret signs too, so either verifies
        if let (Some(previous), Some(until)) = (&m.previous_secret, m.previous_secret_expires_at)
            && until > now.as_millisecond()
        {
            match secret::webhook_key(previous) {
                Ok(key) => keys.push(key),
                Err(_) => {
                    tracing::warn!(webhook_id = %m.webhook_id, "previous webhook secret unusable; not signing with it")
                }
            }
        }
        let event = event_json(m.event_seq, m.event_id, m.letter_id, &m.kind, &m.data.0, m.event_at);
        let body = serde_json::json!({
            "type": EventKind::webhook_type(&m.kind),
            "timestamp": format_ms(m.event_at),
            "data": event,
        });
        let body = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
        let msg_id = m.event_id.to_string();
        let timestamp = now.as_second();
        let signature = secret::sign_webhook_with_keys(&keys, &msg_id, timestamp, &body);
        let response = self
            .client
            .post(&m.url)
            .header("content-type", "application/json")
            .header("webhook-id", &msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        if response.status().is_success() { Ok(()) } else { Err(format!("endpoint answered {}", response.status())) }
    }
}
