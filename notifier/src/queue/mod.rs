//! The durable delivery queue: at-least-once, once per key.
//!
//! Every delivery has an idempotency key, [`DeliveryKey`] = (alert version,
//! subscriber, device). Enqueueing a key that was enqueued before (while
//! its record lives: [`QueueConfig::key_ttl`]) does nothing, so re-running
//! a fan-out after a crash, or an Update arriving twice, never sends a
//! second message for the same alert version to the same device. Each of a
//! person's devices (two phones' FCM tokens, a phone number and an e-mail
//! address) is a delivery of its own: every one is tried, and a dead one
//! fails alone without taking another's send.
//!
//! The device is part of the key only as a keyed tag
//! ([`DeliveryKey::stored`], [`Sealer::tag`]): stored keys, Redis key
//! names and logs never hold a token, a phone number or an e-mail address,
//! nor a plain hash of one.
//!
//! Upgrade: keys stored before the device was part of them read
//! `channel|subscriber|alert`. Deliveries queued under such a key are
//! still claimed, sent and completed under it. But an alert version that
//! was queued before the upgrade and is queued again after it (a re-run of
//! its fan-out, the same message arriving again) gets keys of the new form,
//! which match none of the old ones: it is queued and sent again, once per
//! device. That can happen only within [`QueueConfig::key_ttl`] of the old
//! enqueue and only for an alert version re-announced across the upgrade;
//! FCM collapses such a repeat on the device (same `collapse_key`), other
//! channels deliver it twice.
//!
//! Workers claim jobs under a lease; a worker that dies mid-send leaves its
//! lease to expire, and another worker claims the job. The one remaining
//! duplicate window: a worker that crashes after the provider accepted a
//! message and before [`DeliveryQueue::complete`] recorded it causes one
//! resend. FCM collapses it on the device (`collapse_key` = alert version);
//! MQTT and webhook receivers drop it by the alert version in the payload.
//!
//! Priority lanes: alerts of Extreme severity or Immediate urgency are
//! claimed before everything else, relief steps and exercises last.
//!
//! Erasure: [`DeliveryQueue::purge_subscriber`] removes everything of one
//! subscriber (a resident's right to erasure). Operators read the queue's
//! own depth and oldest wait with [`DeliveryQueue::depth`].
//!
//! At rest, each delivery's payload (address, secret, message) is sealed
//! by a [`Sealer`] the caller provides ([`seal`]).
//!
//! This module is the queue's port: the [`DeliveryQueue`] trait, its
//! plain types, the payload sealing every backend applies ([`seal`]) and
//! the worker step that drains any queue ([`dispatch`]). The durable
//! implementations live in the `store` crate, which alone knows SQL and
//! Redis: `store::sqlite::SqliteQueue` (embedded, one machine) and
//! `store::redis::RedisQueue` (Redis Streams with consumer groups, many
//! workers); both pass one test suite (`store/tests/queue.rs`). With the
//! `testing` feature, `memory::MemoryQueue` keeps the same contract in
//! memory for the notifier's own tests.

pub mod dispatch;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod seal;

pub use seal::{SealError, Sealer};

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::channel::{Delivery, Outcome};
use crate::notice::{Address, AlertVersion, ChannelKind, NoticeKind, SubscriberId};

/// The idempotency key: one message per alert version, subscriber and
/// device (address).
///
/// The device is held as its address's identity, in memory only: it is
/// written down solely as a keyed tag ([`DeliveryKey::stored`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeliveryKey {
    pub alert: AlertVersion,
    pub subscriber: SubscriberId,
    pub channel: ChannelKind,
    pub device: DeviceRef,
}

/// Which device of a subscriber a delivery goes to: the identity of its
/// address (an FCM token or topic, an MQTT device id or area, an e-mail
/// address, a phone number, a webhook URL, or the live page). Personal
/// data: `Debug` shows only its kind, and it is stored only as a keyed tag.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DeviceRef(String);

impl DeviceRef {
    /// The device `address` reaches. The kind is part of the identity, so
    /// an MQTT device and an MQTT area of the same name stay apart. A
    /// webhook is its URL: a new secret for the same endpoint is the same
    /// device.
    pub fn of(address: &Address) -> Self {
        DeviceRef(match address {
            Address::Fcm { token } => format!("fcm:{}", token.expose()),
            Address::FcmTopic { topic } => format!("fcm-topic:{topic}"),
            Address::Mqtt { device } => format!("mqtt:{device}"),
            Address::MqttArea { area } => format!("mqtt-area:{area}"),
            Address::Email { to } => format!("email:{}", to.expose()),
            Address::Sms { to } => format!("sms:{}", to.expose()),
            Address::Webhook { url, .. } => format!("webhook:{}", url.expose()),
            Address::Live => "live".to_string(),
        })
    }

    /// The device's tag under `sealer`'s key: 32 hex digits.
    pub fn tag(&self, sealer: &dyn Sealer) -> String {
        sealer
            .tag(DEVICE_TAG_CONTEXT, self.0.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl fmt::Debug for DeviceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.0.split(':').next().unwrap_or_default();
        write!(f, "DeviceRef({kind}, <redacted>)")
    }
}

/// What a device tag is computed under ([`Sealer::tag`]'s context).
const DEVICE_TAG_CONTEXT: &str = "queue:device";

impl DeliveryKey {
    /// The key of the delivery of `alert` to `subscriber` at `address`.
    pub fn new(alert: AlertVersion, subscriber: SubscriberId, address: &Address) -> Self {
        DeliveryKey {
            alert,
            subscriber,
            channel: address.channel(),
            device: DeviceRef::of(address),
        }
    }

    pub fn of(delivery: &Delivery) -> Self {
        DeliveryKey::new(
            delivery.facts.alert.clone(),
            delivery.subscriber.clone(),
            &delivery.address,
        )
    }

    /// The key as the queues store it: `channel|subscriber|tag|alert`,
    /// where `tag` is the device's keyed tag under `sealer` (32 hex
    /// digits; the same device gives the same tag under the same key). The
    /// alert version comes last because it may itself contain any
    /// character.
    ///
    /// Keys stored before devices were part of the key read
    /// `channel|subscriber|alert`; the queues still claim and complete
    /// those under the key they were stored with.
    pub fn stored(&self, sealer: &dyn Sealer) -> String {
        format!(
            "{}|{}|{}|{}",
            self.channel.as_str(),
            self.subscriber,
            self.device.tag(sealer),
            self.alert
        )
    }
}

/// Priority lanes, claimed in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Lane {
    /// Extreme severity or Immediate urgency.
    Urgent = 0,
    /// Other alerts, updates, all-clears.
    Normal = 1,
    /// Relief steps and exercises.
    Background = 2,
}

impl Lane {
    pub const ALL: [Lane; 3] = [Lane::Urgent, Lane::Normal, Lane::Background];

    pub fn of(delivery: &Delivery) -> Lane {
        let facts = &delivery.facts;
        if facts.exercise || facts.kind == NoticeKind::Relief {
            Lane::Background
        } else if facts.urgent {
            Lane::Urgent
        } else {
            Lane::Normal
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Where one delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Queued, in flight, or waiting to be retried.
    Pending,
    Sent,
    /// Rejected by the provider, or out of attempts.
    Failed,
    /// The address is dead (e.g. an unregistered FCM token).
    InvalidAddress,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::InvalidAddress => "invalid_address",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(DeliveryStatus::Pending),
            "sent" => Some(DeliveryStatus::Sent),
            "failed" => Some(DeliveryStatus::Failed),
            "invalid_address" => Some(DeliveryStatus::InvalidAddress),
            _ => None,
        }
    }

    /// The final status an outcome leads to, or `None` for a retry.
    pub fn after(outcome: &Outcome) -> Option<Self> {
        match outcome {
            Outcome::Sent => Some(DeliveryStatus::Sent),
            Outcome::InvalidAddress => Some(DeliveryStatus::InvalidAddress),
            Outcome::Rejected(_) => Some(DeliveryStatus::Failed),
            Outcome::Retry { .. } => None,
        }
    }
}

/// Deliveries of one alert version by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
    pub invalid_address: u64,
}

impl StatusCounts {
    pub fn add(&mut self, status: DeliveryStatus, n: u64) {
        match status {
            DeliveryStatus::Pending => self.pending += n,
            DeliveryStatus::Sent => self.sent += n,
            DeliveryStatus::Failed => self.failed += n,
            DeliveryStatus::InvalidAddress => self.invalid_address += n,
        }
    }
}

/// How much the queue holds, as the queue itself knows it (every process's
/// deliveries, including those left by earlier runs): for operators'
/// metrics and readiness.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Pending deliveries (waiting, in flight, waiting for a retry or held
    /// until their not-before time) per lane and channel; pairs with none
    /// are left out.
    pub pending: BTreeMap<(Lane, ChannelKind), u64>,
    /// Since when the longest-waiting pending delivery has been due: its
    /// enqueue time, or its not-before time if it was held. `None` when no
    /// pending delivery is due yet (held ones do not count as waiting).
    pub oldest_due: Option<DateTime<Utc>>,
}

impl QueueDepth {
    /// Pending deliveries in all lanes and channels.
    pub fn total(&self) -> u64 {
        self.pending.values().sum()
    }

    /// How long the longest-waiting due delivery has waited at `now`.
    pub fn oldest_age(&self, now: DateTime<Utc>) -> Duration {
        self.oldest_due
            .and_then(|due| (now - due).to_std().ok())
            .unwrap_or(Duration::ZERO)
    }
}

/// A claimed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The backend's handle for this claim.
    pub id: String,
    pub key: DeliveryKey,
    pub lane: Lane,
    /// Attempts including this one.
    pub attempts: u32,
    pub delivery: Delivery,
}

/// Queue settings shared by both implementations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueConfig {
    /// Attempts (claims) after which a delivery is given up as failed.
    pub max_attempts: u32,
    /// How long an idempotency record outlives its delivery. Must exceed the
    /// longest time an alert version can be re-announced (a day is plenty:
    /// CAP updates get new versions).
    pub key_ttl: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            max_attempts: 8,
            key_ttl: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// Why the queue could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The backend failed (`backend` names it: `sqlite`, `redis`).
    #[error("{backend}: {source}")]
    Backend {
        backend: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("stored delivery {key} does not decode: {source}")]
    Corrupt {
        key: String,
        source: serde_json::Error,
    },
    #[error("stored delivery {key} does not open: {reason}")]
    Sealed { key: String, reason: String },
    #[error("queue file: {0}")]
    File(#[from] std::io::Error),
    #[error("delivery does not encode: {0}")]
    Encode(serde_json::Error),
    #[error("queue worker thread failed: {0}")]
    Worker(String),
}

impl QueueError {
    /// A failure of the named backend (its own error type stays with it).
    pub fn backend(
        backend: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        QueueError::Backend {
            backend,
            source: source.into(),
        }
    }
}

pub type QueueFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, QueueError>> + Send + 'a>>;

/// A durable, at-least-once delivery queue with idempotency keys.
pub trait DeliveryQueue: Send + Sync {
    /// Queues `delivery` unless its key was queued before; `true` if new.
    fn enqueue(&self, delivery: Delivery) -> QueueFuture<'_, bool>;

    /// Queues many deliveries at once (a fan-out's worth): the same as
    /// [`DeliveryQueue::enqueue`] for each, in one transaction or pipeline
    /// where the backend has one. Returns how many were new.
    fn enqueue_many(&self, deliveries: Vec<Delivery>) -> QueueFuture<'_, usize> {
        Box::pin(async move {
            let mut added = 0;
            for delivery in deliveries {
                added += usize::from(self.enqueue(delivery).await?);
            }
            Ok(added)
        })
    }

    /// Claims up to `max` due jobs, most urgent lane first, leased to
    /// `worker` for `lease`. Jobs out of attempts are marked failed instead.
    fn claim<'a>(
        &'a self,
        worker: &'a str,
        max: usize,
        lease: Duration,
    ) -> QueueFuture<'a, Vec<Job>>;

    /// Records the outcome of a claimed job: final, or retried after the
    /// delay in [`Outcome::Retry`] (failed when out of attempts).
    fn complete<'a>(
        &'a self,
        job: &'a Job,
        outcome: &'a Outcome,
    ) -> QueueFuture<'a, DeliveryStatus>;

    /// Records the outcomes of many claimed jobs (one worker step's batch)
    /// in one transaction or pipeline where the backend has one; statuses
    /// in the order given.
    fn complete_many<'a>(
        &'a self,
        results: &'a [(Job, Outcome)],
    ) -> QueueFuture<'a, Vec<DeliveryStatus>> {
        Box::pin(async move {
            let mut statuses = Vec::with_capacity(results.len());
            for (job, outcome) in results {
                statuses.push(self.complete(job, outcome).await?);
            }
            Ok(statuses)
        })
    }

    /// Counts of one alert version's deliveries by status.
    fn alert_status<'a>(&'a self, alert: &'a AlertVersion) -> QueueFuture<'a, StatusCounts>;

    /// The status of one delivery, if its key is known.
    fn status<'a>(&'a self, key: &'a DeliveryKey) -> QueueFuture<'a, Option<DeliveryStatus>>;

    /// Erases every delivery of `subscriber`, whatever its state (pending,
    /// in flight, finished, dead-lettered), with its address, message and
    /// idempotency record: a resident's right to erasure. A pending one is
    /// never sent afterwards (a worker holding it in flight may still finish
    /// that one send). Returns how many deliveries were erased.
    fn purge_subscriber<'a>(&'a self, subscriber: &'a SubscriberId) -> QueueFuture<'a, u64>;

    /// Pending deliveries per lane and channel and the oldest one's wait,
    /// read from the queue itself. Costs a pass over the pending index
    /// (SQLite) or a few reads (Redis): poll it, do not call it per request.
    fn depth(&self) -> QueueFuture<'_, QueueDepth>;
}
