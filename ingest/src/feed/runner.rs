//! Starts one worker per enabled source, all stopping on one shutdown signal.

use std::sync::Arc;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::http::{FeedError, HttpPoller, PollTiming};
use super::pipeline::Pipeline;
use super::{directory, mqtt};
use crate::signature::KeyError;
use crate::source::{SourceConfig, SourceKind, SourceTrust};

/// The trust rules of every configured source (enabled or not: a disabled
/// source's bad key file is still a configuration error worth reporting).
pub fn trust_rules(configs: &[SourceConfig]) -> Result<Vec<SourceTrust>, KeyError> {
    configs.iter().map(SourceTrust::from_config).collect()
}

/// Spawns the workers of the enabled HTTP, MQTT and directory sources
/// (issuer sources have no worker: the HTTP API calls
/// [`super::issuer::submit`]). Registers every enabled source with the
/// staleness monitor. Await the returned set after cancelling `shutdown` to
/// let each worker finish the document in hand.
pub fn spawn_workers(
    configs: &[SourceConfig],
    pipeline: &Arc<Pipeline>,
    timing: &PollTiming,
    shutdown: &CancellationToken,
) -> Result<JoinSet<()>, FeedError> {
    let mut workers = JoinSet::new();
    for config in configs.iter().filter(|c| c.enabled) {
        pipeline.health().register(&config.id, config.stale_after());
        let id = config.id.clone();
        let token = shutdown.clone();
        match &config.kind {
            SourceKind::Http(http) => {
                let poller = HttpPoller::new(id, http.clone(), pipeline.clone(), timing.clone())?;
                workers.spawn(poller.run(token));
            }
            SourceKind::Mqtt(mqtt_config) => {
                workers.spawn(mqtt::run(pipeline.clone(), id, mqtt_config.clone(), token));
            }
            SourceKind::Directory(dir) => {
                workers.spawn(directory::run(pipeline.clone(), id, dir.clone(), token));
            }
            SourceKind::Issuer => {}
        }
        tracing::info!(source = %config.id, kind = config.kind.label(), "source started");
    }
    Ok(workers)
}
