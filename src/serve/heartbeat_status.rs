//! The heartbeat's last verdict: written by the heartbeat task, read by
//! /readyz through the shared state.

use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

/// The last verdict, read by /readyz.
#[derive(Debug, Default)]
pub struct HeartbeatStatus {
    failure: Mutex<Option<String>>,
    last_success: Mutex<Option<DateTime<Utc>>>,
}

impl HeartbeatStatus {
    /// Why the last heartbeat failed, while it is the latest verdict.
    pub fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn last_success(&self) -> Option<DateTime<Utc>> {
        *self
            .last_success
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn record(&self, verdict: Result<DateTime<Utc>, String>) {
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        match verdict {
            Ok(at) => {
                *failure = None;
                *self
                    .last_success
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(at);
            }
            Err(reason) => *failure = Some(reason),
        }
    }
}
