//! What every request handler shares. Cheap to clone (one `Arc`).

use std::ops::Deref;
use std::sync::Arc;

use geodata::Atlas;
use geodata::geocoder::Gazetteer;
use ingest::clock::SharedClock;
use ingest::feed::pipeline::Pipeline;
use ingest::source::SourceId;
use notifier::channel::live::LiveChannel;
use store::Storage;
use tokio::sync::{mpsc, oneshot};

use crate::engine::Engine;
use crate::serve::alerts_view::AlertsView;
use crate::serve::config::ServeConfig;
use crate::serve::expiry::LocationExpiries;
use crate::serve::heartbeat_status::HeartbeatStatus;
use crate::serve::metrics::Metrics;

#[derive(Clone)]
pub struct AppState(Arc<StateInner>);

impl AppState {
    pub fn new(inner: StateInner) -> AppState {
        AppState(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = StateInner;
    fn deref(&self) -> &StateInner {
        &self.0
    }
}

pub struct StateInner {
    pub storage: Arc<dyn Storage>,
    pub clock: SharedClock,
    /// Boundaries and codes, for geocoding and jurisdiction checks.
    pub atlas: Arc<Atlas>,
    pub gazetteer: Option<Arc<Gazetteer>>,
    pub engine: EngineHandle,
    pub config: Arc<ServeConfig>,
    /// Ingest: issuers submit CAP with
    /// `ingest::feed::issuer::submit(&pipeline, bytes, &issuer_source)`.
    pub pipeline: Arc<Pipeline>,
    /// The source issuers' messages come from (senders
    /// `*@<config.issuers.sender_domain>`).
    pub issuer_source: SourceId,
    pub metrics: Arc<Metrics>,
    /// Each subscriber's alerts in force, for `GET /api/v1/me/alerts`.
    pub alerts_view: Arc<AlertsView>,
    /// Public notices for the live page (SSE).
    pub live: Arc<LiveChannel>,
    /// The end-to-end heartbeat's last verdict (for /readyz).
    pub heartbeat: Arc<HeartbeatStatus>,
    /// When shared locations expire (kept by the subscriber edits).
    pub location_expiries: Arc<LocationExpiries>,
    /// Rate limits of the public and resident routes, per client.
    pub limiter: Arc<crate::serve::ratelimit::RateLimiter>,
    /// Verified device keys.
    pub residents: Arc<crate::serve::device_keys::Residents>,
    /// The locks `subscribers` (the one write path of stored subscribers)
    /// serializes each subscriber's edits with.
    pub subscriber_locks: Arc<crate::serve::edit_locks::EditLocks>,
    /// Staff logins: the password workers and the failure counters.
    pub logins: Arc<crate::serve::login_throttle::Logins>,
    /// Relief steps sent when an office declares recovery.
    pub relief: Arc<notifier::relief::Catalogue>,
}

type EngineJob = Box<dyn FnOnce(&mut Engine) + Send>;

/// The engine lives on one task; everything else reaches it through this
/// handle, one job at a time, so its state never needs a lock.
#[derive(Clone)]
pub struct EngineHandle {
    jobs: mpsc::Sender<EngineJob>,
}

#[derive(Debug, thiserror::Error)]
#[error("the engine task has stopped")]
pub struct EngineStopped;

impl EngineHandle {
    /// Starts the engine's task.
    pub fn spawn(mut engine: Engine) -> EngineHandle {
        let (jobs, mut rx) = mpsc::channel::<EngineJob>(1024);
        tokio::task::spawn_blocking(move || {
            while let Some(job) = rx.blocking_recv() {
                job(&mut engine);
            }
        });
        EngineHandle { jobs }
    }

    /// Runs `f` on the engine and returns its result.
    pub async fn run<R, F>(&self, f: F) -> Result<R, EngineStopped>
    where
        R: Send + 'static,
        F: FnOnce(&mut Engine) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: EngineJob = Box::new(move |engine| {
            let _ = tx.send(f(engine));
        });
        self.jobs.send(job).await.map_err(|_| EngineStopped)?;
        rx.await.map_err(|_| EngineStopped)
    }
}
