//! Capped exponential backoff with jitter (as River does): attempt n waits about
//! base·2^(n-1), never more than the cap, spread ±20 % so retries don't arrive together.

use rand::Rng;
use std::time::Duration;

pub fn delay(attempt: i64, base: Duration, cap: Duration) -> Duration {
    let exp = attempt.clamp(1, 30) - 1;
    let raw = base.saturating_mul(1u32 << exp.min(31) as u32).min(cap);
    let jitter = rand::rng().random_range(0.8..1.2);
    raw.mul_f64(jitter).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps() {
        let base = Duration::from_secs(1);
        let cap = Duration::from_secs(60);
        let first = delay(1, base, cap);
        assert!(first >= Duration::from_millis(800) && first <= Duration::from_millis(1200), "{first:?}");
        let fourth = delay(4, base, cap);
        assert!(fourth >= Duration::from_millis(6400) && fourth <= Duration::from_millis(9600), "{fourth:?}");
        for attempt in [10, 30, 1000] {
            assert!(delay(attempt, base, cap) <= cap);
        }
    }
}
