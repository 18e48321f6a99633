//! The service's background workers: queue dispatchers, the queue depth
//! poll, the expiry of shared locations, removal of dead devices, and the
//! demo replay.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ingest::source::SourceId;
use notifier::queue::dispatch::{Channels, DispatchConfig, dispatch_batch};
use tokio_util::sync::CancellationToken;

use super::runtime::RunningClock;
use super::state::AppState;

/// The demo's fictional agencies' source.
pub const DEMO_SOURCE: &str = "demo";
/// Pause between two demo messages: long enough to watch each arrive.
const DEMO_STEP: Duration = Duration::from_secs(4);

/// One queue worker: claims batches and sends them until `stop`; a claimed
/// batch is always finished.
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
    let queue = state.storage.queue();
    while !stop.is_cancelled() {
        match dispatch_batch(queue.as_ref(), &channels, &config).await {
            Ok(report) => {
                if !report.invalid.is_empty() {
                    tracing::warn!(
                        count = report.invalid.len(),
                        "dead addresses reported by providers"
                    );
                    disable_dead_addresses(&state, report.invalid).await;
                }
                if report.claimed > 0 {
                    continue;
                }
            }
            Err(error) => tracing::error!(%error, "claiming deliveries failed"),
        }
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(idle) => {}
        }
    }
}

/// How often the queue's depth is read for metrics and readiness.
const QUEUE_DEPTH_POLL: Duration = Duration::from_secs(5);

/// Reads the delivery queue's depth every few seconds into the metrics
/// (once at once, so the first scrape has it).
pub async fn poll_queue_depth(state: AppState, stop: CancellationToken) {
    let queue = state.storage.queue();
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
        let withdrawn = super::residents::expire_locations(&state).await;
        if withdrawn > 0 {
            tracing::debug!(withdrawn, "shared locations expired");
        }
    }
}

/// Removes the devices providers reported dead, so nothing more is sent
/// to them.
async fn disable_dead_addresses(
    state: &AppState,
    dead: Vec<(notifier::notice::SubscriberId, notifier::notice::Address)>,
) {
    for (subscriber, address) in dead {
        let id = store::SubscriberId(subscriber.0);
        let Ok(Some(mut record)) = state.storage.subscriber(&id).await else {
            continue;
        };
        let before = record.devices.len();
        record
            .devices
            .retain(|device| !same_address(device, &address));
        if record.devices.len() == before {
            continue;
        }
        match state.storage.put_subscriber(&record).await {
            Ok(()) => {
                let _ = state.sync_subscriber(&record).await;
                tracing::info!(subscriber = %id.0, channel = address.channel().as_str(), "dead device removed");
            }
            Err(error) => tracing::warn!(%error, "dead device not removed"),
        }
    }
}

fn same_address(device: &store::Device, address: &notifier::notice::Address) -> bool {
    use notifier::notice::Address;
    use store::DeviceChannel;
    let value = device.address.expose().trim();
    match (device.channel, address) {
        (DeviceChannel::Fcm, Address::Fcm { token }) => token.expose() == value,
        (DeviceChannel::Mqtt, Address::Mqtt { device }) => device == value,
        (DeviceChannel::Email, Address::Email { to }) => to.expose() == value,
        (DeviceChannel::Sms, Address::Sms { to }) => to.expose() == value,
        (DeviceChannel::Webhook, Address::Webhook { url, .. }) => url.expose() == value,
        _ => false,
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
        match state.pipeline.ingest(&source, text.as_bytes()).await {
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
    let document = ingest::parse_document(bytes, &ingest::Limits::default()).ok()?;
    document
        .messages
        .iter()
        .find_map(|m| m.alert.as_ref())
        .map(|a| a.sent.to_utc())
}
