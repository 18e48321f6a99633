//! Alerts in force: the one place that answers "which alerts are in force,
//! who owns each, and what does this resident see of them".
//!
//! The record is ingest's lifecycle (inside the [`Pipeline`]): it decides
//! what a message does (new, Update, Cancel, expiry), rebuilt from the
//! archive at start. The engine's memory of who was told and the
//! per-subscriber [`AlertsView`] are kept in step with it by the event flow
//! ([`crate::flow`]), which alone applies lifecycle events, and at start by
//! [`Alerts::restore`]. Nothing else keeps a list of alerts in force.
//!
//! Each subscriber's view of them, for the app's hot read, is
//! [`crate::view`].

use std::sync::Arc;

use cap::{Alert, MessageKey, Reference};
use chrono::{DateTime, Utc};
use engine::alert_id;
use engine::restore::Restore;
use ingest::authority::Authority;
use ingest::feed::pipeline::Pipeline;
use ingest::lifecycle::LifecycleEvent;
use ingest::source::{SourceHealth, SourceId};
use notifier::notice::AlertVersion;
use store::{Storage, StoreError, SubscriberId, ToldRecords};

use crate::engine_task::EngineHandle;
use crate::record::{Recorder, from_record};
pub use crate::view::{AlertsView, MyAlert, notice_kind_name};

/// Drafts read when looking for an alert that is no longer in force but
/// was sent from the console (for its recovery and progress).
const SENT_DRAFTS_SEARCHED: usize = 1000;

/// Alerts in force and what each resident sees of them.
pub struct Alerts {
    pipeline: Arc<Pipeline>,
    engine: EngineHandle,
    view: Arc<AlertsView>,
    storage: Arc<dyn Storage>,
    issuer_source: SourceId,
}

impl Alerts {
    pub fn new(
        pipeline: Arc<Pipeline>,
        engine: EngineHandle,
        view: Arc<AlertsView>,
        storage: Arc<dyn Storage>,
        issuer_source: SourceId,
    ) -> Alerts {
        Alerts {
            pipeline,
            engine,
            view,
            storage,
            issuer_source,
        }
    }

    /// Ingest: feeds and the console's messages enter here.
    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    /// The source the console's messages come from.
    pub fn issuer_source(&self) -> &SourceId {
        &self.issuer_source
    }

    /// Each feed's health (staleness), for readiness and metrics.
    pub fn feed_health(&self) -> &Arc<SourceHealth> {
        self.pipeline.health()
    }

    /// Every alert in force.
    pub fn in_force(&self) -> Vec<Alert> {
        self.pipeline.active()
    }

    /// Every alert in force with the authority that owns it.
    pub fn in_force_with_authority(&self) -> Vec<(Alert, Authority)> {
        self.pipeline.active_with_authority()
    }

    /// The alert in force with this id (`AlertVersion::id`) and its owner.
    pub fn in_force_by_id(&self, id: &str) -> Option<(Alert, Authority)> {
        self.in_force_with_authority()
            .into_iter()
            .find(|(alert, _)| alert_id(&cap::MessageKey::of(alert)) == id)
    }

    /// The alerts in force a CAP reference names, with their owners.
    pub fn referenced(&self, reference: &Reference) -> Vec<(Alert, Authority)> {
        self.pipeline.referenced(reference)
    }

    /// The alert with this id: in force, or sent from a draft here and
    /// since ended (its owner is then the office that sent it).
    pub async fn find(&self, id: &str) -> Result<Option<(Alert, Authority)>, StoreError> {
        if let Some(found) = self.in_force_by_id(id) {
            return Ok(Some(found));
        }
        for draft in self.storage.drafts(SENT_DRAFTS_SEARCHED).await? {
            if draft
                .sent_alert
                .as_deref()
                .map(AlertVersion::id_of)
                .as_deref()
                != Some(id)
            {
                continue;
            }
            let Some(alert) = first_alert(draft.cap_xml.as_bytes()) else {
                tracing::error!(draft = %draft.id.0, "a sent draft's CAP no longer reads");
                continue;
            };
            let owner = Authority::office(&alert.sender);
            return Ok(Some((alert, owner)));
        }
        Ok(None)
    }

    /// All-clears a provider took: the alerts they ended leave those
    /// people's lists.
    pub fn all_clears_sent(&self, sent: &[(SubscriberId, String)]) {
        self.view.all_clears_sent(sent);
    }

    /// The subscriber's alerts in force, most recent version of each.
    pub fn for_subscriber(&self, id: &SubscriberId) -> Arc<[MyAlert]> {
        self.view.for_subscriber(id)
    }

    /// After a restart: the alerts still in force (rebuilt by ingest from
    /// the archive) and those that expired while the service was down go
    /// back into the engine with what each person was told of them (the
    /// store's told records), by the rule of `engine::restore`: nobody
    /// already told is told again, those not yet told are told at once,
    /// and an alert that ended while the service was down sends its
    /// all-clear to exactly those it told. The alerts view is rebuilt.
    /// Returns how many alerts came back in force.
    pub async fn restore(&self, recorder: &Recorder, now: DateTime<Utc>) -> usize {
        let (began, mut records) = match (
            self.storage.told_began().await,
            self.storage.told_records().await,
        ) {
            (Ok(began), Ok(records)) => (began, records),
            (Err(error), _) | (_, Err(error)) => {
                // Without the records, nobody is told again: the view is
                // rebuilt as if everyone inside had been told.
                tracing::error!(%error, "told records unreadable; restoring without them");
                (now, ToldRecords::new())
            }
        };
        let mut restored = 0usize;
        for alert in self.in_force() {
            let key = engine::alert_key(&alert).to_string();
            let told = records.remove(&key);
            let rule = match &told {
                None if alert.sent.to_utc() < began => Restore::Legacy,
                _ => Restore::InForce,
            };
            let told: Vec<(String, engine::ToldState)> = told
                .unwrap_or_default()
                .iter()
                .map(|(id, record)| (id.0.clone(), from_record(record)))
                .collect();
            let result = self
                .engine
                .run(move |engine| engine.restore(&alert, &told, rule, now))
                .await;
            let Ok(Ok(mut back)) = result else {
                tracing::error!(alert = %key, "an alert in force could not be restored into the engine");
                continue;
            };
            self.view.apply(&back.view, now);
            recorder.record(&mut back.told_now, now).await;
            restored += 1;
        }
        let ended = self.end_while_down(recorder, records, now).await;
        if restored > 0 || ended > 0 {
            tracing::info!(restored, ended, "alerts restored into the engine");
        }
        restored
    }

    /// The all-clears of alerts that ended while the service was down:
    /// each comes back with its records and is ended as an expiry.
    async fn end_while_down(
        &self,
        recorder: &Recorder,
        records: ToldRecords,
        now: DateTime<Utc>,
    ) -> usize {
        let mut ended = 0;
        for (key, told) in records {
            let alert = match parse_key(&key) {
                Some(message_key) => self
                    .pipeline
                    .archive()
                    .find_accepted(&message_key)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|stored| stored.alert),
                None => None,
            };
            let Some(alert) = alert else {
                tracing::warn!(alert = %key, "told records of an alert no longer archived; dropped");
                let change = store::ToldChange {
                    ended: vec![key],
                    ..Default::default()
                };
                if let Err(error) = self.storage.record_told(&change).await {
                    tracing::error!(%error, "told records not dropped");
                }
                continue;
            };
            let told: Vec<(String, engine::ToldState)> = told
                .iter()
                .map(|(id, record)| (id.0.clone(), from_record(record)))
                .collect();
            let result = self
                .engine
                .run(move |engine| {
                    engine.restore(&alert, &told, Restore::Ended, now)?;
                    engine.handle(&LifecycleEvent::Expired(alert), now)
                })
                .await;
            let Ok(Ok(mut outcome)) = result else {
                tracing::error!(alert = %key, "the all-clear of an alert that ended while down failed");
                continue;
            };
            outcome.public.clear();
            recorder.record(&mut outcome, now).await;
            ended += 1;
        }
        ended
    }
}

/// A message key as stored (`sender,identifier,sent`: CAP forbids commas
/// in the first two).
fn parse_key(key: &str) -> Option<MessageKey> {
    let mut parts = key.splitn(3, ',');
    Some(MessageKey {
        sender: parts.next()?.to_owned(),
        identifier: parts.next()?.to_owned(),
        sent: parts.next()?.to_owned(),
    })
}

/// The first alert of a CAP document written here.
fn first_alert(bytes: &[u8]) -> Option<Alert> {
    let document = cap::parse_document(bytes, &cap::Limits::default()).ok()?;
    document.messages.into_iter().find_map(|m| m.alert)
}
