//! The service's background workers: queue dispatchers, the queue depth
//! poll, the expiry of shared locations, removal of dead devices, and the
//! demo replay.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ingest::source::SourceId;
use notifier::queue::dispatch::{Channels, DispatchConfig, dispatch_batch};
use tokio_util::sync::CancellationToken;

use crate::serve::clock::RunningClock;
use crate::serve::state::AppState;

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
        let withdrawn = crate::serve::subscribers::expire_locations(&state).await;
        if withdrawn > 0 {
            tracing::debug!(withdrawn, "shared locations expired");
        }
    }
}

/// Removes the devices providers reported dead, so nothing more is sent
/// to them.
pub(crate) async fn disable_dead_addresses(
    state: &AppState,
    dead: Vec<(notifier::notice::SubscriberId, notifier::notice::Address)>,
) {
    for (id, address) in dead {
        let mut removed = false;
        let outcome = crate::serve::subscribers::edit(state, &id, |record| {
            let before = record.devices.len();
            record
                .devices
                .retain(|device| !same_address(device, &address));
            removed = record.devices.len() < before;
            Ok(removed)
        })
        .await;
        match outcome {
            Ok(_) if removed => {
                tracing::info!(subscriber = %id.0, channel = address.channel().as_str(), "dead device removed");
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(subscriber = %id.0, code = ?error.code, "dead device not removed")
            }
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
    let document = cap::parse_document(bytes, &cap::Limits::default()).ok()?;
    document
        .messages
        .iter()
        .find_map(|m| m.alert.as_ref())
        .map(|a| a.sent.to_utc())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use notifier::notice::{Address, SubscriberId as NoticeId};
    use store::{Device, DeviceChannel, PlaceRecord, Sensitive, SubscriberId, SubscriberRecord};

    use super::disable_dead_addresses;
    use crate::run::{ServeOptions, build};
    use crate::serve::config::ServeConfig;
    use crate::serve::state::AppState;

    const KEY: &str = "5f2b0c3d4e6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e";

    async fn service_state(dir: &std::path::Path) -> AppState {
        let config = ServeConfig::load(
            None,
            [
                ("HAZARDLINE_GEODATA_DEMO", "true".to_owned()),
                ("HAZARDLINE_STORAGE_DIR", dir.display().to_string()),
                ("HAZARDLINE_DATA_KEY", KEY.to_owned()),
            ]
            .map(|(k, v)| (k.to_owned(), v)),
        )
        .unwrap();
        build(config, &ServeOptions::default()).await.unwrap().state
    }

    fn mqtt(device: &str) -> Device {
        Device {
            channel: DeviceChannel::Mqtt,
            address: Sensitive(device.into()),
            secret: None,
        }
    }

    fn resident(id: &str) -> SubscriberRecord {
        SubscriberRecord {
            id: SubscriberId(id.into()),
            created_at: chrono::Utc::now(),
            key_hash: store::KeyHash([7; 32]),
            locale: "zh-TW".into(),
            devices: vec![mqtt("old-phone"), mqtt("new-phone")],
            places: vec![PlaceRecord {
                id: 0,
                label: Sensitive("家".into()),
                address: None,
                lon: 123.175,
                lat: 23.05,
                village: None,
            }],
            location: None,
            preferences: store::PreferencesRecord::default(),
            relay: None,
        }
    }

    /// A device reported dead while the resident's own edit is under way:
    /// the removal waits for that edit, then applies to what it wrote, so
    /// both changes are kept. (Written without the lock, the removal would
    /// write the record it read before the resident's edit, or the
    /// resident's edit would write the dead device back.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn dead_device_removal_waits_for_a_residents_edit_and_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let state = service_state(dir.path()).await;
        let id = SubscriberId("s_dead_device".into());
        crate::serve::subscribers::create(&state, resident(&id.0))
            .await
            .unwrap();

        // The resident's edit has read the record and is changing it.
        let entered = Arc::new(Barrier::new(2));
        let proceed = Arc::new(Barrier::new(2));
        let resident_edit = tokio::spawn({
            let (state, id) = (state.clone(), id.clone());
            let (entered, proceed) = (entered.clone(), proceed.clone());
            async move {
                crate::serve::subscribers::edit(&state, &id, |record| {
                    entered.wait();
                    proceed.wait();
                    record.preferences.languages.push("en".into());
                    Ok(true)
                })
                .await
            }
        });
        let waiting = entered.clone();
        tokio::task::spawn_blocking(move || waiting.wait())
            .await
            .unwrap();

        let removal = tokio::spawn({
            let state = state.clone();
            let dead = vec![(
                NoticeId(id.0.clone()),
                Address::Mqtt {
                    device: "old-phone".into(),
                },
            )];
            async move { disable_dead_addresses(&state, dead).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let stored = state.storage.subscriber(&id).await.unwrap().unwrap();
        assert_eq!(
            stored.devices.len(),
            2,
            "the removal wrote while the resident's edit was under way"
        );

        tokio::task::spawn_blocking(move || proceed.wait())
            .await
            .unwrap();
        resident_edit.await.unwrap().unwrap();
        removal.await.unwrap();
        let stored = state.storage.subscriber(&id).await.unwrap().unwrap();
        assert_eq!(
            stored.preferences.languages,
            ["en"],
            "the resident's change"
        );
        let devices: Vec<&str> = stored.devices.iter().map(|d| d.address.expose()).collect();
        assert_eq!(devices, ["new-phone"], "the dead device's removal");
    }
}
