//! Exponential backoff with jitter, for retrying a failing peer.
//!
//! After the n-th consecutive failure the wait is drawn uniformly from
//! `[d/2, d]` with `d = min(max, base · 2^(n-1))`: doubling backs off from a
//! struggling agency server; the jitter keeps many feeds (or many
//! Hazardline instances) from retrying in lockstep.

use std::time::Duration;

use rand::RngExt;

/// First retry after about this long.
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_secs(5);
/// Never wait longer than this between retries: an agency outage should be
/// noticed within minutes of its end.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_MAX)
    }
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max: max.max(base),
            failures: 0,
        }
    }

    /// Records a failure and returns how long to wait before the retry.
    pub fn next_delay(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let ceiling = self.ceiling();
        let low = ceiling / 2;
        let span = ceiling.saturating_sub(low);
        let jitter = rand::rng().random_range(0.0..=1.0);
        low + span.mul_f64(jitter)
    }

    /// The upper bound of the current wait.
    pub fn ceiling(&self) -> Duration {
        let exponent = self.failures.saturating_sub(1).min(31);
        self.base
            .checked_mul(1u32 << exponent)
            .unwrap_or(self.max)
            .min(self.max)
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_jitter_up_to_the_cap() {
        let mut b = Backoff::new(Duration::from_secs(5), Duration::from_secs(60));
        let expected_ceilings = [5, 10, 20, 40, 60, 60];
        for ceiling in expected_ceilings {
            let d = b.next_delay();
            let c = Duration::from_secs(ceiling);
            assert!(d >= c / 2 && d <= c, "{d:?} outside [{:?}, {c:?}]", c / 2);
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_secs(5));
    }

    #[test]
    fn jitter_spreads_retries() {
        let delays: std::collections::BTreeSet<_> = (0..20)
            .map(|_| Backoff::new(Duration::from_secs(8), Duration::from_secs(60)).next_delay())
            .collect();
        assert!(delays.len() > 1, "no jitter: {delays:?}");
    }
}
