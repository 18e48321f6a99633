//! One worker step: claim a batch, send each job through its channel,
//! record the outcomes. The service runs this in a loop per worker.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::{DeliveryQueue, DeliveryStatus, Job, QueueError};
use crate::channel::{Channel, Outcome, backoff};
use crate::notice::{Address, ChannelKind, SubscriberId};

/// The channels a worker can deliver through.
#[derive(Default, Clone)]
pub struct Channels {
    by_kind: HashMap<ChannelKind, Arc<dyn Channel>>,
}

impl Channels {
    pub fn new() -> Self {
        Channels::default()
    }

    pub fn with(mut self, channel: Arc<dyn Channel>) -> Self {
        self.by_kind.insert(channel.kind(), channel);
        self
    }

    pub fn get(&self, kind: ChannelKind) -> Option<&Arc<dyn Channel>> {
        self.by_kind.get(&kind)
    }
}

/// Worker settings.
#[derive(Debug, Clone)]
pub struct DispatchConfig {
    /// This worker's name in the queue (host and process id, say).
    pub worker: String,
    pub batch: usize,
    /// How long a claimed job stays this worker's before others may take it.
    /// Must exceed the slowest channel's timeout.
    pub lease: Duration,
    pub retry_base: Duration,
    pub retry_cap: Duration,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            worker: "worker".into(),
            batch: 256,
            lease: Duration::from_secs(60),
            retry_base: Duration::from_secs(2),
            retry_cap: Duration::from_secs(300),
        }
    }
}

/// What one step did.
#[derive(Debug, Default)]
pub struct DispatchReport {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    /// Addresses found dead: the caller disables them.
    pub invalid: Vec<(SubscriberId, Address)>,
}

/// Claims one batch and delivers it; jobs of one batch are sent
/// concurrently and their outcomes recorded together once all are known
/// (one transaction or pipeline). A worker killed mid-batch therefore
/// resends at most its batch: the in-flight window is `batch` per worker.
pub async fn dispatch_batch(
    queue: &dyn DeliveryQueue,
    channels: &Channels,
    config: &DispatchConfig,
) -> Result<DispatchReport, QueueError> {
    let jobs = queue
        .claim(&config.worker, config.batch, config.lease)
        .await?;
    let mut report = DispatchReport {
        claimed: jobs.len(),
        ..DispatchReport::default()
    };
    let mut results: Vec<(Job, Outcome)> = Vec::with_capacity(jobs.len());
    let mut sends: JoinSet<(Job, Outcome)> = JoinSet::new();
    for job in jobs {
        match channels.get(job.delivery.channel()).cloned() {
            Some(channel) => {
                sends.spawn(async move {
                    let outcome = channel.send(&job.delivery).await;
                    (job, outcome)
                });
            }
            None => {
                let outcome = Outcome::Rejected(format!(
                    "no {} channel configured",
                    job.delivery.channel().as_str()
                ));
                results.push((job, outcome));
            }
        }
    }
    while let Some(result) = sends.join_next().await {
        // A panicking channel loses nothing: its lease runs out and the job
        // is claimed again.
        let Ok((job, outcome)) = result else { continue };
        let outcome = match outcome {
            Outcome::Retry { after } => Outcome::Retry {
                after: backoff(job.attempts, after, config.retry_base, config.retry_cap),
            },
            other => other,
        };
        results.push((job, outcome));
    }
    let statuses = queue.complete_many(&results).await?;
    for ((job, _), status) in results.into_iter().zip(statuses) {
        match status {
            DeliveryStatus::Sent => report.sent += 1,
            DeliveryStatus::Pending => report.retried += 1,
            DeliveryStatus::Failed => report.failed += 1,
            DeliveryStatus::InvalidAddress => {
                report
                    .invalid
                    .push((job.delivery.subscriber, job.delivery.address));
            }
        }
    }
    Ok(report)
}
