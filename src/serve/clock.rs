//! The service's movable clock (the demo's replay, `[clock] start`).

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, Utc};
use ingest::clock::Clock;

/// A clock that runs at real speed from a chosen instant and can be moved
/// (the demo jumps to each message's time; `[clock] start` replays real
/// CAP files at their own time).
#[derive(Debug)]
pub struct RunningClock {
    base: Mutex<(DateTime<Utc>, Instant)>,
}

impl RunningClock {
    pub fn starting_at(at: DateTime<Utc>) -> RunningClock {
        RunningClock {
            base: Mutex::new((at, Instant::now())),
        }
    }

    /// From now on the clock reads `at` plus the real time elapsed.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.base.lock().unwrap_or_else(PoisonError::into_inner) = (at, Instant::now());
    }
}

impl Clock for RunningClock {
    fn now(&self) -> DateTime<Utc> {
        let (at, since) = *self.base.lock().unwrap_or_else(PoisonError::into_inner);
        at + chrono::Duration::from_std(since.elapsed()).unwrap_or(chrono::Duration::zero())
    }
}
