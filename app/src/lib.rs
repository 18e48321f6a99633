//! The application: what Hazardline does, as use cases the edge (HTTP
//! routes, the CLI, background workers) calls. Each part is built from
//! explicit dependencies and answers with its own error type:
//!
//! - [`alerts`]: the alerts in force, who owns each, and what each
//!   resident sees of them (the one owner of "in force");
//! - [`subscribers`]: the one write path of stored subscribers (edit lock,
//!   store, engine);
//! - [`outbox`]: the one way a delivery is queued (one retry and counting
//!   policy); [`relief`]: the relief steps sent on recovery;
//! - [`flow`]: a lifecycle event through the engine to the outbox,
//!   inboxes, alerts view and live feed ([`record`]: where any outcome is
//!   recorded); [`dispatch`]: the outbox through the channels;
//! - [`compose`]: CAP written from the console's compose form, and the
//!   Cancel and correction of an alert;
//! - [`view`]: each resident's alerts in force, for the app's hot read;
//! - [`engine_task`]: the engine on its own task; [`ids`]: random record ids.
//!
//! It is not the engine's rules (the `engine` crate: matching, repeats,
//! rendering decisions), not storage (`store`), and knows nothing of HTTP:
//! the binary maps these errors onto its answers.

pub mod alerts;
pub mod compose;
pub mod dispatch;
pub mod engine_task;
pub mod flow;
pub mod ids;
pub mod outbox;
pub mod record;
pub mod relief;
pub mod subscribers;
pub mod view;

use std::sync::Arc;

use geodata::Atlas;
use geodata::geocoder::Gazetteer;
use ingest::clock::SharedClock;
use ingest::feed::pipeline::Pipeline;
use ingest::source::SourceId;
use notifier::channel::live::LiveChannel;
use store::Storage;

use alerts::{Alerts, AlertsView};
use engine_task::EngineHandle;
use outbox::Outbox;
use record::Recorder;
use subscribers::Subscribers;

/// What the application is built from.
pub struct Parts {
    pub storage: Arc<dyn Storage>,
    pub clock: SharedClock,
    /// Boundaries and codes, for geocoding and jurisdiction checks.
    pub atlas: Arc<Atlas>,
    pub gazetteer: Option<Arc<Gazetteer>>,
    pub engine: engine::Engine,
    /// Ingest, with its lifecycle: the record of alerts in force.
    pub pipeline: Arc<Pipeline>,
    /// The source the console's messages come from.
    pub issuer_source: SourceId,
    /// Relief steps sent when an office declares recovery.
    pub relief: Arc<notifier::relief::Catalogue>,
    /// Public notices for the live page.
    pub live: Arc<LiveChannel>,
}

/// The application, shared by every handler and worker (`Arc<App>`).
pub struct App {
    pub storage: Arc<dyn Storage>,
    pub clock: SharedClock,
    pub atlas: Arc<Atlas>,
    pub gazetteer: Option<Arc<Gazetteer>>,
    pub engine: EngineHandle,
    pub alerts: Alerts,
    pub subscribers: Subscribers,
    pub outbox: Outbox,
    /// Records every engine outcome (the flow's and late joiners').
    pub recorder: Arc<Recorder>,
    pub relief: Arc<notifier::relief::Catalogue>,
    pub live: Arc<LiveChannel>,
}

impl App {
    /// Builds the application and starts the engine's task (so it must be
    /// called inside a Tokio runtime).
    pub fn new(parts: Parts) -> App {
        let Parts {
            storage,
            clock,
            atlas,
            gazetteer,
            engine,
            pipeline,
            issuer_source,
            relief,
            live,
        } = parts;
        let engine = EngineHandle::spawn(engine);
        let view = Arc::new(AlertsView::new());
        let alerts = Alerts::new(
            pipeline,
            engine.clone(),
            view.clone(),
            storage.clone(),
            issuer_source,
        );
        let outbox = Outbox::new(storage.queue());
        let recorder = Arc::new(Recorder::new(
            storage.clone(),
            outbox.clone(),
            view.clone(),
            live.clone(),
        ));
        let subscribers = Subscribers::new(
            storage.clone(),
            clock.clone(),
            atlas.clone(),
            engine.clone(),
            view,
            recorder.clone(),
        );
        App {
            outbox,
            recorder,
            storage,
            clock,
            atlas,
            gazetteer,
            engine,
            alerts,
            subscribers,
            relief,
            live,
        }
    }
}
