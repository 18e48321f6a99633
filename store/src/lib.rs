//! Hazardline's durable state, behind one trait ([`Storage`]) with two real
//! implementations that pass one test suite: embedded (SQLite files, the
//! default) and Redis (with AOF persistence).
//!
//! It covers every store the service keeps: subscribers and their places,
//! devices and preferences; resident inboxes; issuer and village-chief
//! accounts and their sessions; alert drafts awaiting approval; shelter
//! status; relay acknowledgements; the append-only audit log; login-attempt
//! counters that expire by themselves; and, through
//! [`Storage::archive`] and [`Storage::queue`], ingest's alert archive and
//! the notifier's delivery queue. Those two crates define only their ports
//! (`ingest::store::AlertArchive`, `notifier::queue::DeliveryQueue`); their
//! SQLite and Redis implementations are here, so that this is the one
//! crate that knows SQL or Redis.
//!
//! Personal data (phone numbers, e-mail addresses, address text, device
//! tokens, relay contacts) is sealed with the configured key before it is
//! written ([`seal`]); the records here hold it in the clear only in memory.
//! The delivery queue seals its payloads with the same key, through the
//! notifier's `Sealer` port (`queue_seal.rs`).
//!
//! It is not the matcher's index (rebuilt from [`Storage::all_subscribers`]
//! at start) and knows nothing of HTTP.
//!
//! Modules: [`model`] (the records), [`seal`] (the data key and sealing),
//! [`audit`] (the audit log's hash chain), [`sqlite`] ([`SqliteStorage`],
//! group commit, backup and restore, [`sqlite::SqliteArchive`],
//! [`sqlite::SqliteQueue`]) and [`redis`] ([`RedisStorage`],
//! [`RedisArchive`], [`RedisQueue`]). `README.md` states the invariants,
//! what is sealed and the durability of each backend.

pub mod audit;
pub mod model;
mod queue_seal;
pub mod redis;
pub mod seal;
pub mod sqlite;

pub use self::redis::{RedisArchive, RedisQueue, RedisStorage};
pub use audit::{ChainBreak, verify_audit_chain, verify_stored_audit_log};
pub use model::*;
pub use seal::{DataKey, KeyError};
pub use sqlite::{SqliteArchive, SqliteQueue, SqliteStorage};

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage backend: {0}")]
    Backend(String),
    #[error("stored record {what} is unreadable: {detail}")]
    Corrupt { what: String, detail: String },
    #[error("sealed field cannot be opened (wrong data key?): {0}")]
    Seal(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not supported by this backend: {0}")]
    Unsupported(&'static str),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The record found through a key index must carry that key: a sealed
/// record cannot be altered, but the index beside it can, and a swapped
/// index entry must not let one resident's key open another's record.
pub(crate) fn check_key(record: SubscriberRecord, key_hash: &KeyHash) -> Result<SubscriberRecord> {
    if record.key_hash == *key_hash {
        Ok(record)
    } else {
        Err(StoreError::Corrupt {
            what: format!("subscriber {}", record.id.0),
            detail: "the device key index does not match the sealed record".into(),
        })
    }
}

/// Every store of the service. Implementations are cheap to share
/// (`Arc<dyn Storage>`); every write is durable when the call returns.
#[async_trait]
pub trait Storage: Send + Sync {
    // --- Subscribers --------------------------------------------------------
    /// Inserts or replaces a subscriber (devices, places, preferences, relay
    /// need) as one atomic write.
    async fn put_subscriber(&self, subscriber: &SubscriberRecord) -> Result<()>;
    async fn subscriber(&self, id: &SubscriberId) -> Result<Option<SubscriberRecord>>;
    /// The subscriber whose device key hashes to `key_hash`.
    async fn subscriber_by_key(&self, key_hash: &KeyHash) -> Result<Option<SubscriberRecord>>;
    /// Only the id of the subscriber whose device key hashes to
    /// `key_hash`: the cheap check for authenticating a request (nothing
    /// is unsealed).
    async fn subscriber_id_by_key(&self, key_hash: &KeyHash) -> Result<Option<SubscriberId>>;
    /// Every subscriber, to rebuild the matcher's index at start.
    async fn all_subscribers(&self) -> Result<Vec<SubscriberRecord>>;
    /// Erases the subscriber and every trace of their personal data: record,
    /// places, location, inbox, relay acknowledgements and told records
    /// naming them. The audit
    /// log keeps only the pseudonymous id. Returns false if unknown.
    async fn delete_subscriber(&self, id: &SubscriberId) -> Result<bool>;

    // --- Inbox --------------------------------------------------------------
    /// Appends notices told to subscribers: a fan-out's worth at once (one
    /// transaction on SQLite; on Redis one per thousand entries).
    async fn append_inbox(&self, entries: &[InboxEntry]) -> Result<()>;
    /// Newest first.
    async fn inbox(&self, id: &SubscriberId, limit: usize) -> Result<Vec<InboxEntry>>;

    // --- Accounts and sessions ----------------------------------------------
    async fn put_account(&self, account: &Account) -> Result<()>;
    async fn account(&self, id: &AccountId) -> Result<Option<Account>>;
    async fn account_by_username(&self, username: &str) -> Result<Option<Account>>;
    async fn accounts(&self) -> Result<Vec<Account>>;
    async fn put_session(&self, session: &Session) -> Result<()>;
    /// The session with this token hash, if it has not expired at `now`.
    async fn session(&self, token_hash: &KeyHash, now: DateTime<Utc>) -> Result<Option<Session>>;
    async fn delete_session(&self, token_hash: &KeyHash) -> Result<()>;

    // --- Drafts (composed alerts awaiting preview / approval) ---------------
    async fn put_draft(&self, draft: &Draft) -> Result<()>;
    async fn draft(&self, id: &DraftId) -> Result<Option<Draft>>;
    /// Newest first.
    async fn drafts(&self, limit: usize) -> Result<Vec<Draft>>;
    /// One office's drafts, newest first (drafts stored before offices
    /// existed count as their author's office).
    async fn office_drafts(&self, office: &str, limit: usize) -> Result<Vec<Draft>>;

    // --- Shelters -------------------------------------------------------------
    async fn put_shelter_status(&self, status: &ShelterStatus) -> Result<()>;
    async fn shelter_statuses(&self) -> Result<Vec<ShelterStatus>>;

    // --- Relay lists ----------------------------------------------------------
    async fn put_relay_ack(&self, ack: &RelayAck) -> Result<()>;
    async fn relay_acks(&self, alert: &str, village: &str) -> Result<Vec<RelayAck>>;

    // --- What each person was told of each alert in force ----------------------
    /// Since when told records are kept in this store: the epoch for a
    /// store created with them, the upgrade's time for one written by a
    /// version without them (alerts sent before were told by that version
    /// and have no records).
    async fn told_began(&self) -> Result<DateTime<Utc>>;
    /// Applies one change as one atomic write.
    async fn record_told(&self, change: &ToldChange) -> Result<()>;
    /// Every told record, by alert key (to restore the engine at start).
    async fn told_records(&self) -> Result<ToldRecords>;

    // --- Audit log (append-only) ------------------------------------------------
    /// Appends an entry; returns it with its sequence number and the hash
    /// chaining it to the previous entry.
    async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry>;
    /// Entries with `seq > after`, oldest first.
    async fn audit(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>>;

    // --- Login throttling -------------------------------------------------------
    /// Adds one to the login-attempt counter `key` and returns the count
    /// after this attempt, in one atomic step: concurrent calls each get
    /// their own count, none is lost. A counter lives `window` from its
    /// first attempt, then expires by itself (and starts again from 1), so
    /// the counters of an attack go away without anyone cleaning up.
    /// Windows run on the backend's own clock (SQLite: this machine's;
    /// Redis: the server's), not the service's simulated clock.
    async fn count_login_attempt(&self, key: &str, window: std::time::Duration) -> Result<u64>;
    /// Forgets the counter `key` (after a successful login).
    async fn clear_login_attempts(&self, key: &str) -> Result<()>;

    // --- The other crates' stores ---------------------------------------------
    /// Ingest's alert archive (accepted and rejected messages).
    fn archive(&self) -> Arc<dyn ingest::store::AlertArchive>;
    /// The notifier's delivery queue.
    fn queue(&self) -> Arc<dyn notifier::queue::DeliveryQueue>;

    /// A consistent copy of everything into `dir` (embedded only).
    async fn backup(&self, dir: &std::path::Path) -> Result<()>;
    /// Checks that the backend answers (for `/readyz`).
    async fn ping(&self) -> Result<()>;
}

/// Erases the subscriber's deliveries (addresses and message text) from the
/// delivery queue: part of erasing the subscriber in both backends.
pub(crate) async fn purge_deliveries(
    queue: &dyn notifier::queue::DeliveryQueue,
    subscriber: &notifier::notice::SubscriberId,
) -> Result<()> {
    queue
        .purge_subscriber(subscriber)
        .await
        .map(|_| ())
        .map_err(|e| StoreError::Backend(format!("queue: {e}")))
}
