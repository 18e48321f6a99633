//! The one way a delivery is queued. The event flow, the restoring of
//! alerts in force, recovery's relief steps and the heartbeat all hand
//! their deliveries here, so they share one policy: written in chunks, a
//! failing chunk retried a few times with a growing pause, and every newly
//! queued delivery counted once (`hazardline_deliveries_enqueued_total`).
//! The queue's idempotency keys make a repeat harmless: a delivery already
//! queued is not queued or counted again.

use std::sync::Arc;
use std::time::Duration;

use notifier::channel::Delivery;
use notifier::queue::{DeliveryQueue, QueueError};

/// Deliveries written to the queue per transaction: keeps each one short
/// and lets the dispatchers start on the first chunk while the rest is
/// written.
const CHUNK: usize = 5000;
/// Retries of a failed chunk before it is given up.
const ATTEMPTS: u32 = 5;
/// The pause before the first retry; each retry waits one more of these.
const RETRY_STEP: Duration = Duration::from_millis(200);

/// Why deliveries were not all queued.
#[derive(Debug, thiserror::Error)]
#[error("{lost} deliveries could not be queued ({queued} were): {source}")]
pub struct OutboxError {
    /// Newly queued before the failure.
    pub queued: usize,
    /// Given up.
    pub lost: usize,
    #[source]
    pub source: QueueError,
}

/// The durable delivery queue, behind the one queuing policy.
#[derive(Clone)]
pub struct Outbox {
    queue: Arc<dyn DeliveryQueue>,
}

impl Outbox {
    pub fn new(queue: Arc<dyn DeliveryQueue>) -> Outbox {
        Outbox { queue }
    }

    /// The queue itself, for the dispatchers and the progress counts.
    pub fn delivery_queue(&self) -> &Arc<dyn DeliveryQueue> {
        &self.queue
    }

    /// Queues every delivery; returns how many were new (not already
    /// queued). A chunk that still fails after its retries is given up
    /// and the error says how many were lost; the chunks after it are not
    /// tried (the store is down), so the caller can answer "retry".
    pub async fn queue(&self, deliveries: Vec<Delivery>) -> Result<usize, OutboxError> {
        let total = deliveries.len();
        let mut queued = 0usize;
        let mut written = 0usize;
        for chunk in deliveries.chunks(CHUNK) {
            let mut attempt = 0u32;
            loop {
                match self.queue.enqueue_many(chunk.to_vec()).await {
                    Ok(added) => {
                        if added > 0 {
                            metrics::counter!("hazardline_deliveries_enqueued_total")
                                .increment(added as u64);
                        }
                        queued += added;
                        written += chunk.len();
                        break;
                    }
                    Err(error) if attempt < ATTEMPTS => {
                        attempt += 1;
                        tracing::warn!(%error, attempt, "enqueue failed; retrying");
                        tokio::time::sleep(RETRY_STEP * attempt).await;
                    }
                    Err(source) => {
                        return Err(OutboxError {
                            queued,
                            lost: total - written,
                            source,
                        });
                    }
                }
            }
        }
        Ok(queued)
    }
}
