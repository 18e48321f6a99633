//! The flow from a lifecycle event to the people it concerns: each event
//! from ingest goes through the engine (on its task); its deliveries go to
//! the outbox, its notices to the inboxes, the alerts view follows it, and
//! its public notice goes to the live feed. The service's event loop
//! ([`event_loop`]) and the demo ([`handle_event`]) both run events
//! through here; the dispatch side is [`crate::dispatch`].

use engine::Outcome;
use ingest::lifecycle::LifecycleEvent;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::App;
use crate::engine_task::EngineStopped;

/// The pseudonym of the heartbeat's canary subscriber: its notices are
/// exercises of the pipeline and go in nobody's inbox.
pub const CANARY_PSEUDONYM: &str = "heartbeat-canary";

/// Why an event could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    EngineStopped(#[from] EngineStopped),
    #[error("the engine could not handle the event: {0}")]
    Engine(#[from] engine::EngineError),
}

/// Lifecycle events → engine → outbox, inboxes, alerts view, live feed,
/// until `stop`; then handles what is already waiting and cancels `done`.
pub async fn event_loop(
    app: std::sync::Arc<App>,
    mut events: mpsc::Receiver<LifecycleEvent>,
    stop: CancellationToken,
    done: CancellationToken,
) {
    loop {
        let event = tokio::select! {
            biased;
            event = events.recv() => event,
            _ = stop.cancelled() => break,
        };
        let Some(event) = event else { break };
        log_failure(handle_event(&app, event).await);
    }
    while let Ok(event) = events.try_recv() {
        log_failure(handle_event(&app, event).await);
    }
    done.cancel();
}

fn log_failure(result: Result<Handled, FlowError>) {
    if let Err(error) = result {
        tracing::error!(%error, "event not handled");
    }
}

fn event_label(event: &LifecycleEvent) -> &'static str {
    match event {
        LifecycleEvent::New(_) => "new",
        LifecycleEvent::Updated { .. } => "update",
        LifecycleEvent::Cancelled { .. } => "cancel",
        LifecycleEvent::Expired(_) => "expired",
    }
}

/// What one event did.
#[derive(Debug)]
pub struct Handled {
    /// The engine's outcome, its notices kept for a caller that shows them
    /// (the demo); its deliveries are in the outbox, no longer here.
    pub outcome: Outcome,
    /// Deliveries newly queued.
    pub queued: usize,
}

/// Runs one event through the engine and records its outcome.
pub async fn handle_event(app: &App, event: LifecycleEvent) -> Result<Handled, FlowError> {
    let kind = event_label(&event);
    let now = app.clock.now();
    let outcome = app
        .engine
        .run(move |engine| engine.handle(&event, now))
        .await??;
    metrics::counter!("hazardline_engine_events_total", "kind" => kind).increment(1);
    metrics::counter!("hazardline_engine_notices_total", "kind" => kind)
        .increment(outcome.notices.len() as u64);
    tracing::info!(
        kind,
        alert = %engine::alert_id(&outcome.alert),
        told = outcome.notices.len(),
        deliveries = outcome.deliveries.len(),
        coalesced = outcome.coalesced,
        exercise = outcome.exercise,
        "event handled"
    );
    let mut outcome = outcome;
    let queued = app.recorder.record(&mut outcome, now).await;
    Ok(Handled { outcome, queued })
}
