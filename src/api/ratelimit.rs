//! A token bucket per authority: bursts are fine, sustained floods get 429 + Retry-After.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use uuid::Uuid;

use super::error::ApiError;

/// A token bucket per key: up to `burst` at once, then `rate_per_sec` on average.
pub struct TokenBuckets {
    rate_per_sec: f64,
    burst: f64,
    buckets: Mutex<HashMap<Uuid, (f64, Instant)>>,
}

impl TokenBuckets {
    pub fn new(rate_per_sec: f64, burst: f64) -> Self {
        Self { rate_per_sec, burst, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes a token from `key`'s bucket, or says how many seconds until there is one.
    pub fn take(&self, key: Uuid, now: Instant) -> Result<(), f64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = buckets.entry(key).or_insert((self.burst, now));
        let refilled =
            (*tokens + now.saturating_duration_since(*last).as_secs_f64() * self.rate_per_sec).min(self.burst);
        *last = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            Err((1.0 - refilled) / self.rate_per_sec)
        }
    }
}

pub struct RateLimiter(TokenBuckets);

impl RateLimiter {
    pub fn new(rate_per_sec: f64, burst: f64) -> Self {
        Self(TokenBuckets::new(rate_per_sec, burst))
    }

    pub fn check(&self, key: Uuid, now: Instant) -> Result<(), ApiError> {
        self.0.take(key, now).map_err(|wait| ApiError::RateLimited { retry_after_secs: wait.ceil().max(1.0) as u64 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn allows_a_burst_then_refills() {
        let limiter = RateLimiter::new(1.0, 2.0);
        let key = Uuid::nil();
        let t0 = Instant::now();
        assert!(limiter.check(key, t0).is_ok());
        assert!(limiter.check(key, t0).is_ok());
        match limiter.check(key, t0) {
            Err(ApiError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(limiter.check(key, t0 + Duration::from_millis(1100)).is_ok());
        // another authority has its own bucket
        assert!(limiter.check(Uuid::max(), t0).is_ok());
    }
}
