//! Alerts coming back into the engine when the service starts, with what
//! each person was told of them (kept in the store). The rule:
//!
//! - **In force, with records**: those told keep what they were told and
//!   are not told again; anyone inside now and not told (their telling was
//!   lost in a crash between the queue and the record) is told at once,
//!   marked "in force since" — the delivery queue drops a device's repeat
//!   of a version it already took.
//! - **In force, received before this store kept records** (the first
//!   start after the upgrade that added them): everyone inside now counts
//!   as told; the version before told them.
//! - **Ended while the service was down** (expired): its records come back
//!   so that its all-clear reaches exactly those it told; the caller then
//!   ends it.
//!
//! Nobody is re-matched by any other rule: today's subscribers are matched
//! only to find those not yet told.

use cap::Alert;
use chrono::{DateTime, Utc};
use notifier::notice::NoticeKind;

use crate::told::ToldMap;
use crate::{
    Engine, EngineError, Outcome, Tell, ToldState, alert_key, serious_unit_for, told_anew, told_map,
};

/// How an alert comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restore {
    InForce,
    /// In force, sent before the store kept told records.
    Legacy,
    /// Expired while the service was down: only its records come back.
    Ended,
}

/// What a restore produced.
#[derive(Debug, Default)]
pub struct Restored {
    /// The notices of those already told, for "my alerts" only: nothing to
    /// deliver and nothing for their inboxes, which hold them.
    pub view: Outcome,
    /// Those told now: to be recorded like any outcome.
    pub told_now: Outcome,
}

impl Engine {
    /// Puts `alert` back with its told records (`told`, by pseudonym),
    /// by `rule`.
    pub fn restore(
        &mut self,
        alert: &Alert,
        told: &[(String, ToldState)],
        rule: Restore,
        now: DateTime<Utc>,
    ) -> Result<Restored, EngineError> {
        let mut units = self.units_of(alert)?;
        let recipients = self.match_units(&mut units);
        let mut map = ToldMap::new();
        for (pseudonym, state) in told {
            // A pseudonym no longer known was erased: it is told nothing.
            if let Some(position) = self.directory.position(pseudonym) {
                map.insert(matcher::SubscriberId(position), *state);
            }
        }
        let mut new_tells = Vec::new();
        match rule {
            Restore::Ended => {}
            Restore::Legacy => {
                for (subscriber, places) in recipients.iter() {
                    let tell = told_anew(&units, subscriber, places, None, "alert", now);
                    if let Some(state) = tell.state {
                        map.entry(subscriber).or_insert(state);
                    }
                }
            }
            Restore::InForce => {
                for (subscriber, places) in recipients.iter() {
                    if !map.contains_key(&subscriber) {
                        new_tells.push(told_anew(
                            &units,
                            subscriber,
                            places,
                            Some(NoticeKind::New),
                            "alert",
                            now,
                        ));
                    }
                }
            }
        }
        let key = alert_key(alert);
        let exercise = alert.status != cap::Status::Actual;
        let mut restored = Restored::default();
        if rule != Restore::Ended {
            let view_tells: Vec<Tell> = map
                .iter()
                .map(|(subscriber, state)| Tell {
                    subscriber: *subscriber,
                    place: state.place,
                    unit: serious_unit_for(&units, *subscriber),
                    kind: Some(if state.lowered {
                        NoticeKind::Lowered
                    } else {
                        NoticeKind::New
                    }),
                    label: "alert",
                    state: None,
                })
                .collect();
            restored.view = self.deliver(&key, exercise, &units, &view_tells, None, now)?;
            restored.view.deliveries.clear();
            restored.view.in_force = Some(key.clone());
            restored.told_now =
                self.deliver(&key, exercise, &units, &new_tells, Some(alert.sent), now)?;
            restored.told_now.in_force = Some(key.clone());
        }
        let full = told_map(&new_tells, map);
        restored.told_now.remembered = match rule {
            Restore::Legacy => self.pseudonymous(&full),
            _ => self.pseudonymous(&told_map(&new_tells, ToldMap::new())),
        };
        self.keep(alert, units, full);
        Ok(restored)
    }
}
