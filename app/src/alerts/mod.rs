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
//! - `view`: each subscriber's alerts in force, for the app's hot read.

mod view;

use std::sync::Arc;

use cap::{Alert, Reference};
use engine::alert_id;
use ingest::authority::Authority;
use ingest::feed::pipeline::Pipeline;
use ingest::lifecycle::LifecycleEvent;
use ingest::source::{SourceHealth, SourceId};
use notifier::notice::AlertVersion;
use store::{Storage, StoreError, SubscriberId};

use crate::engine_task::EngineHandle;
use crate::outbox::Outbox;
pub use view::{AlertsView, MyAlert, notice_kind_name};

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

    /// The subscriber's alerts in force, most recent version of each.
    pub fn for_subscriber(&self, id: &SubscriberId) -> Arc<[MyAlert]> {
        self.view.for_subscriber(id)
    }

    /// After a restart, the alerts still in force (rebuilt by ingest from
    /// the archive) go through the engine again, so that their later
    /// Update, Cancel or expiry reaches exactly the people they reached,
    /// and the alerts view shows them. Deliveries are queued again: the
    /// queue's idempotency keys drop those already queued, and any lost in
    /// a crash between the engine and the queue go out now. Inboxes
    /// already hold them, and the live page has moved on.
    pub async fn restore(&self, outbox: &Outbox, now: chrono::DateTime<chrono::Utc>) -> usize {
        let mut restored = 0usize;
        for alert in self.in_force() {
            let event = LifecycleEvent::New(alert);
            let result = self
                .engine
                .run(move |engine| engine.handle(&event, now))
                .await;
            let Ok(Ok(mut outcome)) = result else {
                tracing::error!("an alert in force could not be restored into the engine");
                continue;
            };
            outcome.public.clear();
            if let Err(error) = outbox.queue(std::mem::take(&mut outcome.deliveries)).await {
                tracing::error!(%error, "restored deliveries not queued");
            }
            self.view.apply(&outcome);
            restored += 1;
        }
        if restored > 0 {
            tracing::info!(restored, "alerts in force restored into the engine");
        }
        restored
    }
}

/// The first alert of a CAP document written here.
fn first_alert(bytes: &[u8]) -> Option<Alert> {
    let document = cap::parse_document(bytes, &cap::Limits::default()).ok()?;
    document.messages.into_iter().find_map(|m| m.alert)
}
