//! The service's background workers: queue dispatchers, the queue depth
//! poll, the expiry of shared locations, removal of dead devices, and the
//! demo replay.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ingest::source::SourceId;
use notifier::queue::dispatch::{Channels, DispatchConfig, Until};
use tokio_util::sync::CancellationToken;

use crate::serve::clock::RunningClock;
use crate::serve::state::AppState;

/// The demo's fictional agencies' source.
pub const DEMO_SOURCE: &str = "demo";
/// Pause between two demo messages: long enough to watch each arrive.
const DEMO_STEP: Duration = Duration::from_secs(4);

/// One queue worker: claims batches and sends them until `stop`; a claimed
/// batch is always finished (the application's dispatch loop, with this
/// service's settings).
pub async fn dispatcher(
    state: AppState,
    channels: Channels,
    worker: String,
    stop: CancellationToken,
) {
    let settings = &state.config.dispatch;
    let config = DispatchConfig {
        worker,
        batch: settings.batch,
        lease: Duration::from_secs(settings.lease_secs),
        ..DispatchConfig::default()
    };
    let idle = Duration::from_millis(settings.idle_millis.max(10));
    let until = Until::Stopped(stop);
    // A loop that stops on its token never answers with an error: it logs
    // a failing queue and tries again.
    let _ = app::dispatch::dispatcher(state.app.clone(), channels, config, idle, until).await;
}

/// How often the queue's depth is read for metrics and readiness.
const QUEUE_DEPTH_POLL: Duration = Duration::from_secs(5);

/// Reads the delivery queue's depth every few seconds into the metrics
/// (once at once, so the first scrape has it).
pub async fn poll_queue_depth(state: AppState, stop: CancellationToken) {
    let queue = state.app.outbox.delivery_queue().clone();
    loop {
        match queue.depth().await {
            Ok(depth) => state.metrics.queue_depth(depth),
            Err(error) => tracing::warn!(%error, "reading the queue depth failed"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(QUEUE_DEPTH_POLL) => {}
        }
    }
}

/// How often due location expiries are applied.
const LOCATION_SWEEP: Duration = Duration::from_secs(30);

/// Withdraws shared locations that expired (from the store and the
/// engine), so they stop matching.
pub async fn expire_locations(state: AppState, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(LOCATION_SWEEP) => {}
        }
        let withdrawn = state.app.subscribers.expire_locations().await;
        if withdrawn > 0 {
            tracing::debug!(withdrawn, "shared locations expired");
        }
    }
}

/// `--demo`: the demo messages, a few seconds apart, each read at the
/// moment it was sent.
pub async fn replay_demo(state: AppState, clock: Arc<RunningClock>, stop: CancellationToken) {
    let source = SourceId::new(DEMO_SOURCE);
    for (name, text) in crate::engine::demo_messages() {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(DEMO_STEP) => {}
        }
        if let Some(sent) = sent_of(text.as_bytes()) {
            clock.set(sent);
        }
        match state
            .app
            .alerts
            .pipeline()
            .ingest(&source, text.as_bytes())
            .await
        {
            Ok(report) => tracing::info!(
                file = name,
                accepted = report.accepted(),
                rejected = report.rejected(),
                "demo message replayed"
            ),
            Err(error) => tracing::error!(file = name, %error, "demo message not ingested"),
        }
    }
    tracing::info!("demo: every message replayed");
}

fn sent_of(bytes: &[u8]) -> Option<DateTime<Utc>> {
    let document = cap::parse_document(bytes, &cap::Limits::default()).ok()?;
    document
        .messages
        .iter()
        .find_map(|m| m.alert.as_ref())
        .map(|a| a.sent.to_utc())
}
