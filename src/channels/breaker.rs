//! A circuit breaker per transport: after repeated transient failures the provider is left
//! alone for a while (every attempt fails fast and is retried later by the engine), then one
//! trial call decides whether it is back. A dead provider does not tie up every worker.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{ChannelError, OutboundMessage, Receipt, Transport};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Consecutive transient failures that open the circuit.
    pub failure_threshold: u32,
    /// How long an open circuit refuses calls before one trial.
    pub open_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self { failure_threshold: 5, open_secs: 30 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One trial call is under way.
    HalfOpen,
}

pub struct Breaker {
    inner: Arc<dyn Transport>,
    settings: Settings,
    state: Mutex<State>,
}

impl Breaker {
    pub fn new(inner: Arc<dyn Transport>, settings: Settings) -> Self {
        Self { inner, settings, state: Mutex::new(State::Closed { failures: 0 }) }
    }

    /// May a call go through now? Moves an expired open circuit to half-open.
    fn admit(&self, now: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match *state {
            State::Closed { .. } => true,
            State::Open { until } if now >= until => {
                *state = State::HalfOpen;
                true
            }
            State::Open { .. } | State::HalfOpen => false,
        }
    }

    fn record(&self, result: &Result<Receipt, ChannelError>, now: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let transient_failure = matches!(result, Err(ChannelError::Transient(_)));
        *state = match (*state, transient_failure) {
            (_, false) => State::Closed { failures: 0 },
            (State::Closed { failures }, true) if failures + 1 < self.settings.failure_threshold => {
                State::Closed { failures: failures + 1 }
            }
            (_, true) => {
                tracing::warn!(open_secs = self.settings.open_secs, "transport failing: circuit opened");
                State::Open { until: now + Duration::from_secs(self.settings.open_secs) }
            }
        };
    }
}

#[async_trait]
impl Transport for Breaker {
    async fn send(&self, message: &OutboundMessage) -> Result<Receipt, ChannelError> {
        if !self.admit(Instant::now()) {
            return Err(ChannelError::Transient("the provider is failing; circuit open, retrying later".into()));
        }
        let result = self.inner.send(message).await;
        self.record(&result, Instant::now());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ChannelKind;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Flaky {
        calls: AtomicU32,
        fail: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl Transport for Flaky {
        async fn send(&self, _: &OutboundMessage) -> Result<Receipt, ChannelError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.fail.load(Ordering::SeqCst) {
                Err(ChannelError::Transient("down".into()))
            } else {
                Ok(Receipt { transport: "flaky", provider_ref: None, confirmed: true })
            }
        }
    }

    fn message() -> OutboundMessage {
        OutboundMessage {
            channel: ChannelKind::Sms,
            letter_id: uuid::Uuid::nil(),
            delivery_id: uuid::Uuid::nil(),
            extension: "txt",
            bytes: vec![],
            recipient: None,
        }
    }

    #[tokio::test]
    async fn opens_after_repeated_failures_and_closes_after_a_good_trial() {
        let flaky = Arc::new(Flaky { calls: AtomicU32::new(0), fail: true.into() });
        let breaker = Breaker::new(flaky.clone(), Settings { failure_threshold: 3, open_secs: 0 });
        for _ in 0..3 {
            assert!(breaker.send(&message()).await.is_err());
        }
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 3);
        assert!(matches!(*breaker.state.lock().unwrap(), State::Open { .. }));
        // open_secs = 0: the next call is the trial; it succeeds and closes the circuit
        flaky.fail.store(false, Ordering::SeqCst);
        assert!(breaker.send(&message()).await.is_ok());
        assert_eq!(*breaker.state.lock().unwrap(), State::Closed { failures: 0 });
    }

    #[tokio::test]
    async fn an_open_circuit_does_not_call_the_provider() {
        let flaky = Arc::new(Flaky { calls: AtomicU32::new(0), fail: true.into() });
        let breaker = Breaker::new(flaky.clone(), Settings { failure_threshold: 2, open_secs: 3600 });
        for _ in 0..5 {
            let err = breaker.send(&message()).await.unwrap_err();
            assert!(!err.is_permanent());
        }
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 2, "calls stop once the circuit is open");
    }
}
