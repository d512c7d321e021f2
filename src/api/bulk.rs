//! Which letters count as part of a bulk run. The authority may say (`"bulk": true` or
//! `false`); when it says nothing, its letters count as a bulk run's once it sends faster than
//! letters sent one by one come: a benefit decision run sent without the flag then waits in
//! the bulk lane instead of holding up every other authority's letters.

use std::time::Instant;
use uuid::Uuid;

use super::ratelimit::TokenBuckets;
use crate::config::ApiSettings;
use crate::store::BulkRun;

/// Per authority and per instance: behind a load balancer each instance counts what it
/// receives, so a run spread over instances is recognised a little later.
pub struct BulkDetector(Option<TokenBuckets>);

impl BulkDetector {
    pub fn new(api: &ApiSettings) -> Self {
        Self(
            (api.bulk_detect_burst >= 1.0)
                .then(|| TokenBuckets::new(api.bulk_detect_per_second, api.bulk_detect_burst)),
        )
    }

    /// Whether a letter is part of a bulk run: as the authority said, or else by its pace.
    pub fn bulk_run(&self, said: Option<bool>, authority: Uuid, now: Instant) -> Option<BulkRun> {
        match said {
            Some(true) => Some(BulkRun::Requested),
            Some(false) => None,
            None => match &self.0 {
                Some(buckets) if buckets.take(authority, now).is_err() => Some(BulkRun::Detected),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn detector(per_second: f64, burst: f64) -> BulkDetector {
        let mut api = crate::config::Settings::default().api;
        api.bulk_detect_per_second = per_second;
        api.bulk_detect_burst = burst;
        BulkDetector::new(&api)
    }

    #[test]
    fn an_authority_sending_fast_is_a_bulk_run_until_it_slows_down() {
        let detector = detector(2.0, 3.0);
        let (a, b) = (Uuid::nil(), Uuid::max());
        let t0 = Instant::now();
        let pace: Vec<_> = (0..5).map(|_| detector.bulk_run(None, a, t0)).collect();
        assert_eq!(pace, [None, None, None, Some(BulkRun::Detected), Some(BulkRun::Detected)]);
        // another authority's letters are its own
        assert_eq!(detector.bulk_run(None, b, t0), None);
        // what the authority says wins either way
        assert_eq!(detector.bulk_run(Some(false), a, t0), None);
        assert_eq!(detector.bulk_run(Some(true), b, t0), Some(BulkRun::Requested));
        // half a second at 2 a second: one letter more on its own
        let later = t0 + Duration::from_millis(500);
        assert_eq!(detector.bulk_run(None, a, later), None);
        assert_eq!(detector.bulk_run(None, a, later), Some(BulkRun::Detected));
    }

    #[test]
    fn a_burst_of_zero_turns_detection_off() {
        let detector = detector(1.0, 0.0);
        let t0 = Instant::now();
        assert!((0..100).all(|_| detector.bulk_run(None, Uuid::nil(), t0).is_none()));
        assert_eq!(detector.bulk_run(Some(true), Uuid::nil(), t0), Some(BulkRun::Requested));
    }
}
