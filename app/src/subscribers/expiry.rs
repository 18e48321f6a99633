//! When travellers' shared locations run out. The engine matches a shared
//! location as one more place; once its expiry passes it must stop
//! matching, so each expiry is scheduled here when a subscriber is synced
//! and a sweep re-syncs the subscriber from the store when it is due.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use store::SubscriberId;

#[derive(Debug, Default)]
pub struct LocationExpiries {
    due: Mutex<BTreeSet<(DateTime<Utc>, SubscriberId)>>,
}

impl LocationExpiries {
    pub fn schedule(&self, at: DateTime<Utc>, id: SubscriberId) {
        self.due
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((at, id));
    }

    /// Takes every subscriber whose location expired at or before `now`.
    pub fn take_due(&self, now: DateTime<Utc>) -> Vec<SubscriberId> {
        let mut due = self.due.lock().unwrap_or_else(PoisonError::into_inner);
        let mut taken = Vec::new();
        while let Some(first) = due.first() {
            if first.0 > now {
                break;
            }
            if let Some((_, id)) = due.pop_first() {
                taken.push(id);
            }
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_is_due_is_taken_in_order() {
        let expiries = LocationExpiries::default();
        let t0 = Utc::now();
        let id = |s: &str| SubscriberId(s.into());
        expiries.schedule(t0 + chrono::Duration::minutes(5), id("b"));
        expiries.schedule(t0 + chrono::Duration::minutes(1), id("a"));
        expiries.schedule(t0 + chrono::Duration::minutes(30), id("c"));
        assert!(expiries.take_due(t0).is_empty());
        assert_eq!(
            expiries.take_due(t0 + chrono::Duration::minutes(10)),
            vec![id("a"), id("b")]
        );
        assert!(
            expiries
                .take_due(t0 + chrono::Duration::minutes(10))
                .is_empty()
        );
        assert_eq!(
            expiries.take_due(t0 + chrono::Duration::hours(1)),
            vec![id("c")]
        );
    }
}
