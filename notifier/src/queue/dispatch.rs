//! One worker step ([`dispatch_batch`]): claim a batch, send each job
//! through its channel, record the outcomes; and the one loop every
//! process runs it in ([`run_dispatcher`]): the service's dispatchers, the
//! demo and the stand-alone notifier worker.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
/// The token that stops a dispatch loop ([`Until::Stopped`]).
pub use tokio_util::sync::CancellationToken;

use super::{DeliveryQueue, DeliveryStatus, Job, QueueError};
use crate::channel::{Channel, Outcome, backoff};
use crate::notice::{Address, AlertVersion, ChannelKind, NoticeKind, SubscriberId};

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
    /// All-clears a provider took, by subscriber and version: the caller
    /// stops showing those alerts as ended.
    pub all_clears_sent: Vec<(SubscriberId, AlertVersion)>,
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
            DeliveryStatus::Sent => {
                report.sent += 1;
                if job.delivery.facts.kind == NoticeKind::AllClear {
                    report
                        .all_clears_sent
                        .push((job.delivery.subscriber, job.delivery.facts.alert));
                }
            }
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

/// When a dispatch loop ends.
#[derive(Debug, Clone)]
pub enum Until {
    /// At this token's cancellation; a claimed batch is always finished
    /// first. A failing queue is logged and tried again after a pause.
    Stopped(CancellationToken),
    /// When a claim finds nothing (the demo: deliver what was queued, then
    /// stop). A failing queue ends the loop with its error.
    Drained,
}

/// What a loop delivered in all.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DispatchTotals {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub invalid: usize,
}

/// The pause after a failed claim, so that a queue that is down is not
/// hammered.
const AFTER_FAILURE: Duration = Duration::from_millis(100);

/// Claims and delivers batches until `until`; after each batch,
/// `after_batch` gets its report (to disable the dead addresses in it).
/// When a claim finds nothing the loop waits `idle` before it claims again.
pub async fn run_dispatcher<F, Fut>(
    queue: &dyn DeliveryQueue,
    channels: &Channels,
    config: &DispatchConfig,
    idle: Duration,
    until: Until,
    mut after_batch: F,
) -> Result<DispatchTotals, QueueError>
where
    F: FnMut(DispatchReport) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut totals = DispatchTotals::default();
    let stop = match &until {
        Until::Stopped(token) => token.clone(),
        Until::Drained => CancellationToken::new(),
    };
    while !stop.is_cancelled() {
        let pause = match dispatch_batch(queue, channels, config).await {
            Ok(report) => {
                let claimed = report.claimed;
                totals.claimed += claimed;
                totals.sent += report.sent;
                totals.retried += report.retried;
                totals.failed += report.failed;
                totals.invalid += report.invalid.len();
                after_batch(report).await;
                if claimed > 0 {
                    continue;
                }
                if matches!(until, Until::Drained) {
                    break;
                }
                idle
            }
            Err(error) => {
                if matches!(until, Until::Drained) {
                    return Err(error);
                }
                tracing::error!(worker = %config.worker, %error, "claiming deliveries failed");
                idle.max(AFTER_FAILURE)
            }
        };
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(pause) => {}
        }
    }
    Ok(totals)
}
