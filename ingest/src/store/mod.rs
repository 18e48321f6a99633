//! The archive: every message received, accepted or rejected, with its raw
//! bytes, source, time of receipt and the reason for the verdict.
//!
//! [`AlertArchive`] is the one storage question ingest asks, and this
//! module is its port: the trait and its record types. The durable
//! archives live in the `store` crate (SQLite and Redis), which knows SQL
//! and Redis so that ingest does not; [`MemoryArchive`] keeps the same
//! contract in memory, for tests of ingest's behaviour.
//!
//! Invariants:
//! - a message is recorded before anything acts on it (the pipeline stores,
//!   then updates the active set, then hands events on);
//! - at most one accepted message per identity (sender, identifier, `sent`
//!   as an instant); a rejected message is recorded once per (source,
//!   content, reason), so a feed that repeats a bad entry every poll does
//!   not grow the archive or repeat the alarm.

mod memory;

pub use memory::MemoryArchive;

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::authority::Authority;
use crate::lifecycle::{Lifecycle, LifecycleConfig};
use crate::source::SourceId;
use cap::model::{Alert, MessageKey};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("stored alert JSON in row {row}: {source}")]
    Json {
        row: i64,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot encode alert: {0}")]
    Encode(serde_json::Error),
    #[error("bad timestamp `{value}` in row {row}")]
    Timestamp { row: i64, value: String },
    /// The archive's backend failed (SQLite, Redis: see the `store` crate).
    #[error("archive backend: {0}")]
    Backend(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    Rejected,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Rejected => "rejected",
        }
    }
}

/// One message to record.
#[derive(Debug, Clone)]
pub struct NewRecord<'a> {
    pub source: &'a SourceId,
    pub received_at: DateTime<Utc>,
    pub verdict: Verdict,
    /// Stable label (`sender_not_allowed`, `invalid`, …); None if accepted
    /// without remark.
    pub reason: Option<&'a str>,
    /// Human-readable detail (what was wrong, and where).
    pub detail: Option<&'a str>,
    /// The parsed alert, when there is one (accepted always; rejected when
    /// parsing succeeded but trust failed).
    pub alert: Option<&'a Alert>,
    /// The message's key when it could be read, even if invalid.
    pub key: Option<&'a MessageKey>,
    pub raw: &'a [u8],
    /// Whose alert chain an accepted message belongs to (see
    /// [`crate::authority`]).
    pub authority: Option<&'a Authority>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    pub id: i64,
    /// False when the same rejected message was already recorded.
    pub new: bool,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    pub id: i64,
    pub source: SourceId,
    pub received_at: DateTime<Utc>,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub key: Option<MessageKey>,
    pub sha256: String,
    pub raw: Vec<u8>,
    pub alert: Option<Alert>,
    /// The authority it was accepted under; None for rejected messages and
    /// for messages archived before authorities were recorded.
    pub authority: Option<Authority>,
}

/// An accepted message, as the active set is rebuilt from it.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptedMessage {
    pub alert: Alert,
    pub source: SourceId,
    /// None for messages archived before authorities were recorded.
    pub authority: Option<Authority>,
}

/// What every [`AlertArchive`] method returns: a boxed future, as the
/// notifier's `DeliveryQueue` port returns (`QueueFuture`), so that both
/// ports are used as `dyn` trait objects in one style.
pub type ArchiveFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Storage for received messages.
///
/// Calls are async: the durable archives wait on Redis or on SQLite (run
/// on the blocking pool) without holding an executor thread. Callers
/// await each call before acting on its message, so "stored before acted
/// on" holds as it did.
pub trait AlertArchive: Send + Sync {
    /// Records one message; see [`Recorded::new`].
    fn record<'a>(&'a self, record: &'a NewRecord<'a>) -> ArchiveFuture<'a, Recorded>;
    /// The accepted message with this key (`sent` compared as an instant
    /// when it parses).
    fn find_accepted<'a>(&'a self, key: &'a MessageKey)
    -> ArchiveFuture<'a, Option<StoredMessage>>;
    /// Rejected messages, newest first.
    fn rejected(&self, limit: usize) -> ArchiveFuture<'_, Vec<StoredMessage>>;
    /// Accepted messages sent at or after `since`, oldest first (to rebuild
    /// the active set after a restart).
    fn accepted_since(&self, since: DateTime<Utc>) -> ArchiveFuture<'_, Vec<AcceptedMessage>>;
    /// Number of stored messages by verdict.
    fn count(&self, verdict: Verdict) -> ArchiveFuture<'_, u64>;
}

/// The lifecycle as the archive's accepted messages sent since `since`
/// make it at `now`: how the active set comes back after a restart. A
/// message archived without its authority gets `default_authority(source,
/// sender)` (its source's rule).
pub async fn rebuild_lifecycle(
    archive: &dyn AlertArchive,
    config: LifecycleConfig,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    default_authority: &(dyn Fn(&SourceId, &str) -> Authority + Sync),
) -> Result<Lifecycle, StoreError> {
    let messages = archive.accepted_since(since).await?.into_iter().map(|m| {
        let authority = m
            .authority
            .unwrap_or_else(|| default_authority(&m.source, &m.alert.sender));
        (m.alert, authority)
    });
    Ok(Lifecycle::rebuild_with(config, messages, now))
}

/// The alerts in force at `now` according to the archive (accepted
/// messages sent since `since`), oldest identity first.
pub async fn active_set(
    archive: &dyn AlertArchive,
    config: LifecycleConfig,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Alert>, StoreError> {
    let lifecycle = rebuild_lifecycle(archive, config, since, now, &|_, sender| {
        Authority::sender(sender)
    })
    .await?;
    Ok(lifecycle.active().into_iter().cloned().collect())
}

/// Hex SHA-256 of the raw bytes, the content identity of a message.
pub fn content_hash(raw: &[u8]) -> String {
    let digest = Sha256::digest(raw);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}
