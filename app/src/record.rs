//! Where an engine outcome is recorded, whatever caused it (a lifecycle
//! event, a person joining while alerts are in force, a restore at start):
//! the public notice to the live feed, the deliveries to the outbox, what
//! each person was told to the store's told records, the notices to the
//! inboxes, and the alerts view.
//!
//! The told records are written after the deliveries are queued: a crash
//! in between leaves people queued but not recorded, whom the restore at
//! start tells again under the same version, which the queue drops. The
//! other order would lose them. For the same reason an outcome whose
//! deliveries the outbox gave up on records nobody as told.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use engine::Outcome;
use notifier::channel::Channel;
use notifier::channel::live::LiveChannel;
use store::Storage;

use crate::flow::CANARY_PSEUDONYM;
use crate::outbox::Outbox;
use crate::view::{AlertsView, notice_kind_name};

pub struct Recorder {
    storage: Arc<dyn Storage>,
    outbox: Outbox,
    view: Arc<AlertsView>,
    live: Arc<LiveChannel>,
}

impl Recorder {
    pub fn new(
        storage: Arc<dyn Storage>,
        outbox: Outbox,
        view: Arc<AlertsView>,
        live: Arc<LiveChannel>,
    ) -> Recorder {
        Recorder {
            storage,
            outbox,
            view,
            live,
        }
    }

    /// Public notice to the live feed (best effort), deliveries to the
    /// outbox (the record that matters), then inboxes and the alerts view.
    /// Returns how many deliveries were newly queued.
    pub async fn record(&self, outcome: &mut Outcome, now: DateTime<Utc>) -> usize {
        for notice in &outcome.public {
            let _ = self.live.send(notice).await;
        }
        // All-clears with no device to reach: nothing will report them
        // delivered, so the ended alert need not wait in their list.
        let reachable: std::collections::HashSet<&str> = outcome
            .deliveries
            .iter()
            .map(|d| d.subscriber.0.as_str())
            .collect();
        let unreachable_all_clears: Vec<(store::SubscriberId, String)> = outcome
            .notices
            .iter()
            .filter(|told| told.facts.kind == notifier::notice::NoticeKind::AllClear)
            .filter(|told| !reachable.contains(told.subscriber.as_str()))
            .map(|told| {
                (
                    store::SubscriberId(told.subscriber.clone()),
                    told.facts.alert.0.clone(),
                )
            })
            .collect();
        // A chunk the outbox gives up on is not lost for good: nobody of
        // this outcome is recorded as told, so the restore at the next
        // start tells the alert in force again to everyone inside (the
        // queue drops what it already took).
        let (queued, given_up) = match self
            .outbox
            .queue(std::mem::take(&mut outcome.deliveries))
            .await
        {
            Ok(queued) => (queued, false),
            Err(error) => {
                tracing::error!(%error, "deliveries not queued");
                (error.queued, true)
            }
        };
        let mut change = told_change(outcome);
        if given_up {
            change.entries.clear();
        }
        if !change.is_empty()
            && let Err(error) = self.storage.record_told(&change).await
        {
            tracing::error!(%error, entries = change.entries.len(), "told records not written");
        }
        let inbox: Vec<store::InboxEntry> = outcome
            .notices
            .iter()
            .filter(|told| told.subscriber != CANARY_PSEUDONYM)
            .map(|told| store::InboxEntry {
                subscriber: store::SubscriberId(told.subscriber.clone()),
                alert: told.facts.alert.0.clone(),
                at: now,
                kind: notice_kind_name(told.facts.kind).to_owned(),
                hazard: told.facts.hazard.as_str().to_owned(),
                colour: told.facts.colour.as_str().to_owned(),
                exercise: told.facts.exercise,
                title: told.message.full_title(),
                body: told.message.full_text(),
                expires: told.facts.expires.map(|t| t.to_utc()),
            })
            .collect();
        if !inbox.is_empty()
            && let Err(error) = self.storage.append_inbox(&inbox).await
        {
            tracing::error!(%error, entries = inbox.len(), "inbox entries not written");
        }
        self.view.apply(outcome, now);
        self.view.all_clears_sent(&unreachable_all_clears);
        queued
    }
}

/// The told records an outcome changes: the ended alerts' go, the alert in
/// force gets what was remembered.
fn told_change(outcome: &Outcome) -> store::ToldChange {
    store::ToldChange {
        ended: outcome.ended.iter().map(|key| key.to_string()).collect(),
        alert: outcome.in_force.as_ref().map(|key| key.to_string()),
        entries: outcome
            .remembered
            .iter()
            .map(|(pseudonym, state)| (store::SubscriberId(pseudonym.clone()), to_record(state)))
            .collect(),
    }
}

pub(crate) fn to_record(state: &engine::ToldState) -> store::ToldRecord {
    store::ToldRecord {
        place: state.place,
        unit: state.seen.unit,
        places: state.seen.places,
        at: state.at,
        lowered: state.lowered,
    }
}

pub(crate) fn from_record(record: &store::ToldRecord) -> engine::ToldState {
    engine::ToldState {
        place: record.place,
        seen: engine::told::Seen {
            unit: record.unit,
            places: record.places,
        },
        at: record.at,
        lowered: record.lowered,
    }
}
