//! A delivery queue held in memory (feature `testing`): the same claims,
//! leases, lanes, attempts and idempotency as the durable queues in the
//! `store` crate, for tests of the notifier's own behaviour (fan-out,
//! dispatch, channels) without a database.
//!
//! It is not durable, so it breaks the queue's first promise: never the
//! queue of a running service. Nothing is at rest, so nothing is sealed
//! and no key is written down: entries are kept by the [`DeliveryKey`]
//! itself (device included), and a job's id is its enqueue number.
//! Idempotency records live as long as the value (no key TTL).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{
    DeliveryKey, DeliveryQueue, DeliveryStatus, Job, Lane, QueueConfig, QueueDepth, QueueFuture,
    StatusCounts,
};
use crate::channel::{Delivery, Outcome};
use crate::notice::{AlertVersion, SubscriberId};

struct Entry {
    /// Enqueue order, the tie-break between deliveries due together.
    seq: u64,
    key: DeliveryKey,
    lane: Lane,
    status: DeliveryStatus,
    attempts: u32,
    /// When it may next be claimed (a claim moves it to the lease's end).
    due: DateTime<Utc>,
    /// When it became due (enqueued, or its not-before time).
    ready: DateTime<Utc>,
    delivery: Delivery,
}

#[derive(Default)]
struct Contents {
    next_seq: u64,
    entries: HashMap<DeliveryKey, Entry>,
    /// Each entry's key by its job id (its `seq` as text).
    ids: HashMap<String, DeliveryKey>,
}

impl Contents {
    fn by_id(&mut self, id: &str) -> Option<&mut Entry> {
        let key = self.ids.get(id)?;
        self.entries.get_mut(key)
    }
}

/// The in-memory [`DeliveryQueue`].
#[derive(Default)]
pub struct MemoryQueue {
    config: QueueConfig,
    contents: Mutex<Contents>,
}

impl MemoryQueue {
    pub fn new(config: QueueConfig) -> Self {
        MemoryQueue {
            config,
            contents: Mutex::default(),
        }
    }

    fn contents(&self) -> MutexGuard<'_, Contents> {
        self.contents.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(&self, delivery: Delivery) -> bool {
        let key = DeliveryKey::of(&delivery);
        let mut contents = self.contents();
        if contents.entries.contains_key(&key) {
            return false;
        }
        let now = Utc::now();
        let due = delivery.not_before.map_or(now, |t| t.max(now));
        contents.next_seq += 1;
        let entry = Entry {
            seq: contents.next_seq,
            key: key.clone(),
            lane: Lane::of(&delivery),
            status: DeliveryStatus::Pending,
            attempts: 0,
            due,
            ready: due,
            delivery,
        };
        contents.ids.insert(entry.seq.to_string(), key.clone());
        contents.entries.insert(key, entry);
        true
    }

    fn record(&self, job: &Job, outcome: &Outcome) -> DeliveryStatus {
        let status = match (outcome, DeliveryStatus::after(outcome)) {
            (_, Some(status)) => status,
            (Outcome::Retry { .. }, None) if job.attempts >= self.config.max_attempts => {
                DeliveryStatus::Failed
            }
            (Outcome::Retry { after }, None) => {
                let mut contents = self.contents();
                if let Some(entry) = contents.by_id(&job.id) {
                    entry.due = Utc::now() + chrono_duration(*after);
                }
                return DeliveryStatus::Pending;
            }
            _ => DeliveryStatus::Failed,
        };
        let mut contents = self.contents();
        if let Some(entry) = contents.by_id(&job.id)
            && entry.status == DeliveryStatus::Pending
        {
            entry.status = status;
        }
        status
    }
}

fn chrono_duration(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

impl DeliveryQueue for MemoryQueue {
    fn enqueue(&self, delivery: Delivery) -> QueueFuture<'_, bool> {
        Box::pin(async move { Ok(self.insert(delivery)) })
    }

    fn claim<'a>(
        &'a self,
        _worker: &'a str,
        max: usize,
        lease: Duration,
    ) -> QueueFuture<'a, Vec<Job>> {
        Box::pin(async move {
            let now = Utc::now();
            let mut contents = self.contents();
            let mut due: Vec<&mut Entry> = contents
                .entries
                .values_mut()
                .filter(|e| e.status == DeliveryStatus::Pending && e.due <= now)
                .collect();
            due.sort_by_key(|e| (e.lane, e.due, e.seq));
            let mut jobs = Vec::new();
            for entry in due.into_iter().take(max) {
                // Jobs whose leases ran out too often are given up.
                if entry.attempts >= self.config.max_attempts {
                    entry.status = DeliveryStatus::Failed;
                    continue;
                }
                entry.attempts += 1;
                entry.due = now + chrono_duration(lease);
                jobs.push(Job {
                    id: entry.seq.to_string(),
                    key: entry.key.clone(),
                    lane: entry.lane,
                    attempts: entry.attempts,
                    delivery: entry.delivery.clone(),
                });
            }
            Ok(jobs)
        })
    }

    fn complete<'a>(
        &'a self,
        job: &'a Job,
        outcome: &'a Outcome,
    ) -> QueueFuture<'a, DeliveryStatus> {
        Box::pin(async move { Ok(self.record(job, outcome)) })
    }

    fn alert_status<'a>(&'a self, alert: &'a AlertVersion) -> QueueFuture<'a, StatusCounts> {
        Box::pin(async move {
            let mut counts = StatusCounts::default();
            for entry in self.contents().entries.values() {
                if entry.key.alert == *alert {
                    counts.add(entry.status, 1);
                }
            }
            Ok(counts)
        })
    }

    fn status<'a>(&'a self, key: &'a DeliveryKey) -> QueueFuture<'a, Option<DeliveryStatus>> {
        Box::pin(async move { Ok(self.contents().entries.get(key).map(|e| e.status)) })
    }

    fn purge_subscriber<'a>(&'a self, subscriber: &'a SubscriberId) -> QueueFuture<'a, u64> {
        Box::pin(async move {
            let mut contents = self.contents();
            let before = contents.entries.len();
            contents
                .entries
                .retain(|_, e| e.key.subscriber != *subscriber);
            contents.ids.retain(|_, key| key.subscriber != *subscriber);
            Ok((before - contents.entries.len()) as u64)
        })
    }

    fn depth(&self) -> QueueFuture<'_, QueueDepth> {
        Box::pin(async move {
            let now = Utc::now();
            let mut depth = QueueDepth::default();
            for entry in self.contents().entries.values() {
                if entry.status != DeliveryStatus::Pending {
                    continue;
                }
                *depth
                    .pending
                    .entry((entry.lane, entry.key.channel))
                    .or_default() += 1;
                if entry.ready <= now {
                    depth.oldest_due =
                        Some(depth.oldest_due.map_or(entry.ready, |o| o.min(entry.ready)));
                }
            }
            Ok(depth)
        })
    }
}
