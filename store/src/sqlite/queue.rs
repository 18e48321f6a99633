//! The notifier's delivery queue ([`notifier::queue::DeliveryQueue`]),
//! embedded: one SQLite file in WAL mode (`queue.sqlite` in the store's
//! directory).
//!
//! One table holds every delivery by its idempotency key (the primary key,
//! [`DeliveryKey::stored`]: the device only as a keyed tag), its lane, state, attempt count and the time it is next due. A claim sets
//! `due` to the end of the lease, so a job whose worker died becomes due
//! again by itself. Calls run on tokio's blocking pool.
//!
//! The file carries its schema version (`PRAGMA user_version`); opening an
//! older file migrates it in place, in one transaction. Payloads are sealed
//! ([`notifier::queue::seal`]); version 2 sealed the plaintext payloads earlier
//! versions wrote.
//!
//! The file (and SQLite's `-wal` and `-shm` beside it, which take the
//! file's permissions) is readable by its owner only.
//!
//! Rows queued before the device was part of the key keep their key
//! (`channel|subscriber|alert`): a job's id is the key its row is stored
//! under, so their completions update those rows.
//!
//! Durability: `synchronous = FULL`, so a committed enqueue or completion
//! survives power loss. Idempotency records are kept for
//! [`QueueConfig::key_ttl`] after they were queued, then purged.

use std::fs::{OpenOptions, Permissions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use notifier::channel::{Delivery, Outcome};
use notifier::notice::{AlertVersion, ChannelKind, SubscriberId};
use notifier::queue::seal::{is_plaintext, open_payload, seal_payload};
use notifier::queue::{
    DeliveryKey, DeliveryQueue, DeliveryStatus, Job, Lane, QueueConfig, QueueDepth, QueueError,
    QueueFuture, Sealer, StatusCounts,
};

/// What an operation here can fail with: SQLite, or the queue itself (a
/// payload that does not open). Becomes a [`QueueError`] at the trait.
#[derive(Debug)]
enum Failure {
    Sqlite(rusqlite::Error),
    Queue(QueueError),
}

impl From<rusqlite::Error> for Failure {
    fn from(error: rusqlite::Error) -> Self {
        Failure::Sqlite(error)
    }
}

impl From<QueueError> for Failure {
    fn from(error: QueueError) -> Self {
        Failure::Queue(error)
    }
}

impl From<Failure> for QueueError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Sqlite(error) => QueueError::backend("sqlite", error),
            Failure::Queue(error) => error,
        }
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS deliveries (
    key        TEXT PRIMARY KEY,
    alert      TEXT NOT NULL,
    lane       INTEGER NOT NULL,
    state      TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    due_ms     INTEGER NOT NULL,
    queued_ms  INTEGER NOT NULL,
    worker     TEXT,
    last_error TEXT,
    payload    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_ready ON deliveries (lane, due_ms) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_alert ON deliveries (alert, state);
";

/// Version 1 (`PRAGMA user_version`): the subscriber, for erasure; the
/// channel and the time a delivery became due (`ready_ms`: queued, or held
/// until its not-before time; unlike `due_ms` it does not move with claims
/// and retries), for the depth. Rows of older files are filled in from
/// their key and payload.
const MIGRATION_1: &str = "
ALTER TABLE deliveries ADD COLUMN subscriber TEXT;
ALTER TABLE deliveries ADD COLUMN channel TEXT;
ALTER TABLE deliveries ADD COLUMN ready_ms INTEGER;
UPDATE deliveries SET
    subscriber = json_extract(payload, '$.subscriber'),
    channel = substr(key, 1, instr(key, '|') - 1),
    ready_ms = max(queued_ms, coalesce(
        CAST(unixepoch(json_extract(payload, '$.not_before'), 'subsec') * 1000 AS INTEGER),
        0));
CREATE INDEX deliveries_subscriber ON deliveries (subscriber);
CREATE INDEX deliveries_pending ON deliveries (lane, channel, ready_ms) WHERE state = 'pending';
PRAGMA user_version = 1;
";

/// Brings a file of any earlier version to the current schema.
fn migrate(connection: &mut Connection, sealer: &dyn Sealer) -> Result<(), Failure> {
    connection.execute_batch(SCHEMA)?;
    let tx = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version < 1 {
        tx.execute_batch(MIGRATION_1)?;
    }
    if version < 2 {
        seal_plaintext_rows(&tx, sealer)?;
        tx.execute_batch("PRAGMA user_version = 2;")?;
    }
    tx.commit()?;
    if version < 2 {
        // The plaintext images live on in the WAL until it is checkpointed.
        connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    Ok(())
}

/// Version 2: seals the payloads earlier versions stored as plain JSON
/// (overwritten in place: `secure_delete` is on).
fn seal_plaintext_rows(c: &Connection, sealer: &dyn Sealer) -> Result<(), Failure> {
    let rows: Vec<(String, String)> = c
        .prepare("SELECT key, payload FROM deliveries WHERE substr(payload, 1, 1) = '{'")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = c.prepare("UPDATE deliveries SET payload = ?2 WHERE key = ?1")?;
    for (key, payload) in rows {
        if !is_plaintext(&payload) {
            continue;
        }
        let delivery = open_payload(sealer, &key, &payload)?;
        update.execute(params![key, seal_payload(sealer, &key, &delivery)?])?;
    }
    Ok(())
}

/// Creates `path` readable and writable by its owner only, or narrows an
/// existing file (and its `-wal` and `-shm`) to that: SQLite gives its
/// journal files the database file's permissions.
pub fn owner_only_file(path: &Path) -> std::io::Result<()> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::set_permissions(&name, Permissions::from_mode(0o600)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !suffix.is_empty() => {}
            other => other?,
        }
    }
    Ok(())
}

fn open_connection(path: &Path, sealer: &dyn Sealer) -> Result<Connection, Failure> {
    let mut connection = Connection::open(path)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    // Erased deliveries hold addresses: their bytes are overwritten,
    // not left in free pages.
    connection.pragma_update(None, "secure_delete", "ON")?;
    connection.busy_timeout(Duration::from_secs(5))?;
    migrate(&mut connection, sealer)?;
    Ok(connection)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The embedded queue.
#[derive(Clone)]
pub struct SqliteQueue {
    connection: Arc<Mutex<Connection>>,
    config: QueueConfig,
    sealer: Arc<dyn Sealer>,
}

impl SqliteQueue {
    /// Opens (creating if needed, owner-only) the queue in `path`; payloads
    /// are sealed and opened with `sealer`.
    pub fn open(
        path: &Path,
        config: QueueConfig,
        sealer: Arc<dyn Sealer>,
    ) -> Result<Self, QueueError> {
        owner_only_file(path)?;
        let connection = open_connection(path, sealer.as_ref())?;
        Ok(SqliteQueue {
            connection: Arc::new(Mutex::new(connection)),
            config,
            sealer,
        })
    }

    /// Runs `work` with the connection on the blocking pool.
    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection, &QueueConfig, &dyn Sealer) -> Result<T, Failure>
        + Send
        + 'static,
    ) -> Result<T, QueueError> {
        let connection = self.connection.clone();
        let config = self.config;
        let sealer = Arc::clone(&self.sealer);
        tokio::task::spawn_blocking(move || {
            let mut connection = connection.lock().unwrap_or_else(|e| e.into_inner());
            work(&mut connection, &config, sealer.as_ref()).map_err(QueueError::from)
        })
        .await
        .map_err(|e| QueueError::Worker(e.to_string()))?
    }

    /// Deletes finished records older than the key TTL.
    pub async fn purge_expired(&self) -> Result<usize, QueueError> {
        self.with(|c, config, _| {
            let cutoff = now_ms() - millis(config.key_ttl);
            Ok(c.execute(
                "DELETE FROM deliveries WHERE state != 'pending' AND queued_ms < ?1",
                [cutoff],
            )?)
        })
        .await
    }
}

/// Queues one delivery unless its key is known; `true` if new.
fn insert(c: &Connection, sealer: &dyn Sealer, delivery: &Delivery) -> Result<bool, Failure> {
    let key = DeliveryKey::of(delivery);
    let stored = key.stored(sealer);
    let payload = seal_payload(sealer, &stored, delivery)?;
    let now = now_ms();
    let due = delivery
        .not_before
        .map_or(now, |t| t.timestamp_millis().max(now));
    let inserted = c
        .prepare_cached(
            "INSERT OR IGNORE INTO deliveries
                (key, alert, lane, state, due_ms, queued_ms, payload, subscriber, channel, ready_ms)
             VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?7, ?8, ?4)",
        )?
        .execute(params![
            stored,
            key.alert.0,
            Lane::of(delivery).index() as i64,
            due,
            now,
            payload,
            key.subscriber.0,
            key.channel.as_str(),
        ])?;
    Ok(inserted == 1)
}

/// Records the outcome of the claim of `key` (its `attempts`-th).
fn record(
    c: &Connection,
    config: &QueueConfig,
    key: &str,
    attempts: u32,
    outcome: &Outcome,
) -> Result<DeliveryStatus, Failure> {
    let (status, due, error) = match (outcome, DeliveryStatus::after(outcome)) {
        (_, Some(status)) => {
            let error = match outcome {
                Outcome::Rejected(reason) => Some(reason.clone()),
                _ => None,
            };
            (status, now_ms(), error)
        }
        (Outcome::Retry { .. }, None) if attempts >= config.max_attempts => (
            DeliveryStatus::Failed,
            now_ms(),
            Some("out of attempts".to_string()),
        ),
        (Outcome::Retry { after }, None) => {
            (DeliveryStatus::Pending, now_ms() + millis(*after), None)
        }
        _ => (DeliveryStatus::Failed, now_ms(), None),
    };
    c.prepare_cached(
        "UPDATE deliveries SET state = ?2, due_ms = ?3, worker = NULL, last_error = ?4
         WHERE key = ?1 AND state = 'pending'",
    )?
    .execute(params![key, status.as_str(), due, error])?;
    Ok(status)
}

impl DeliveryQueue for SqliteQueue {
    fn enqueue(&self, delivery: Delivery) -> QueueFuture<'_, bool> {
        Box::pin(self.with(move |c, _, sealer| insert(c, sealer, &delivery)))
    }

    fn enqueue_many(&self, deliveries: Vec<Delivery>) -> QueueFuture<'_, usize> {
        Box::pin(self.with(move |c, _, sealer| {
            // One transaction: one fsync for the whole fan-out, not one each.
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut added = 0;
            for delivery in &deliveries {
                added += usize::from(insert(&tx, sealer, delivery)?);
            }
            tx.commit()?;
            Ok(added)
        }))
    }

    fn claim<'a>(
        &'a self,
        worker: &'a str,
        max: usize,
        lease: Duration,
    ) -> QueueFuture<'a, Vec<Job>> {
        let worker = worker.to_string();
        Box::pin(self.with(move |c, config, sealer| {
            let now = now_ms();
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let rows: Vec<(String, i64, u32, String)> = {
                let mut select = tx.prepare_cached(
                    "SELECT key, lane, attempts, payload FROM deliveries
                     WHERE state = 'pending' AND due_ms <= ?1
                     ORDER BY lane, due_ms, rowid LIMIT ?2",
                )?;
                select
                    .query_map(params![now, max as i64], |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                    })?
                    .collect::<Result<_, _>>()?
            };
            let mut jobs = Vec::with_capacity(rows.len());
            {
                let mut lease_it = tx.prepare_cached(
                    "UPDATE deliveries SET attempts = attempts + 1, due_ms = ?2, worker = ?3 WHERE key = ?1",
                )?;
                // Jobs whose leases ran out too often (a message that crashes
                // its worker) are given up rather than handed out forever.
                // Checked per selected row: a scan of every due row per claim
                // would make a large fan-out quadratic.
                let mut give_up = tx.prepare_cached(
                    "UPDATE deliveries SET state = 'failed', last_error = 'out of attempts', worker = NULL
                     WHERE key = ?1",
                )?;
                for (key, lane, attempts, payload) in rows {
                    if attempts >= config.max_attempts {
                        give_up.execute([&key])?;
                        continue;
                    }
                    lease_it.execute(params![key, now + millis(lease), worker])?;
                    let delivery = open_payload(sealer, &key, &payload)?;
                    let lane = Lane::ALL.get(lane as usize).copied().unwrap_or(Lane::Normal);
                    jobs.push(Job {
                        id: key,
                        key: DeliveryKey::of(&delivery),
                        lane,
                        attempts: attempts + 1,
                        delivery,
                    });
                }
            }
            tx.commit()?;
            Ok(jobs)
        }))
    }

    fn complete<'a>(
        &'a self,
        job: &'a Job,
        outcome: &'a Outcome,
    ) -> QueueFuture<'a, DeliveryStatus> {
        let key = job.id.clone();
        let attempts = job.attempts;
        let outcome = outcome.clone();
        Box::pin(self.with(move |c, config, _| record(c, config, &key, attempts, &outcome)))
    }

    fn complete_many<'a>(
        &'a self,
        results: &'a [(Job, Outcome)],
    ) -> QueueFuture<'a, Vec<DeliveryStatus>> {
        let results: Vec<(String, u32, Outcome)> = results
            .iter()
            .map(|(job, outcome)| (job.id.clone(), job.attempts, outcome.clone()))
            .collect();
        Box::pin(self.with(move |c, config, _| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let statuses = results
                .iter()
                .map(|(key, attempts, outcome)| record(&tx, config, key, *attempts, outcome))
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit()?;
            Ok(statuses)
        }))
    }

    fn alert_status<'a>(&'a self, alert: &'a AlertVersion) -> QueueFuture<'a, StatusCounts> {
        let alert = alert.0.clone();
        Box::pin(self.with(move |c, _, _| {
            let mut counts = StatusCounts::default();
            let mut select = c.prepare_cached(
                "SELECT state, COUNT(*) FROM deliveries WHERE alert = ?1 GROUP BY state",
            )?;
            let rows = select.query_map([alert], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })?;
            for row in rows {
                let (state, n) = row?;
                if let Some(status) = DeliveryStatus::parse(&state) {
                    counts.add(status, n.max(0) as u64);
                }
            }
            Ok(counts)
        }))
    }

    fn purge_subscriber<'a>(&'a self, subscriber: &'a SubscriberId) -> QueueFuture<'a, u64> {
        let subscriber = subscriber.0.clone();
        Box::pin(self.with(move |c, _, _| {
            let erased = c.execute("DELETE FROM deliveries WHERE subscriber = ?1", [subscriber])?;
            if erased > 0 {
                // Earlier images of the erased rows live on in the WAL
                // until it is checkpointed: copy back and truncate it now.
                c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            }
            Ok(erased as u64)
        }))
    }

    fn depth(&self) -> QueueFuture<'_, QueueDepth> {
        Box::pin(self.with(|c, _, _| {
            // One pass over the pending index, grouped: the smallest
            // `ready_ms` of a group is due if anything in it is.
            let mut select = c.prepare_cached(
                "SELECT lane, channel, COUNT(*), MIN(ready_ms) FROM deliveries
                 WHERE state = 'pending' GROUP BY lane, channel",
            )?;
            let rows = select.query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, Option<i64>>(3)?,
                ))
            })?;
            let now = now_ms();
            let mut depth = QueueDepth::default();
            let mut oldest: Option<i64> = None;
            for row in rows {
                let (lane, channel, n, ready) = row?;
                let lane = Lane::ALL
                    .get(lane as usize)
                    .copied()
                    .unwrap_or(Lane::Normal);
                let Some(channel) = channel.as_deref().and_then(ChannelKind::parse) else {
                    continue;
                };
                *depth.pending.entry((lane, channel)).or_default() += n.max(0) as u64;
                if let Some(ready) = ready.filter(|ready| *ready <= now) {
                    oldest = Some(oldest.map_or(ready, |o| o.min(ready)));
                }
            }
            depth.oldest_due = oldest.and_then(chrono::DateTime::from_timestamp_millis);
            Ok(depth)
        }))
    }

    fn status<'a>(&'a self, key: &'a DeliveryKey) -> QueueFuture<'a, Option<DeliveryStatus>> {
        let key = key.clone();
        Box::pin(self.with(move |c, _, sealer| {
            let key = key.stored(sealer);
            let state: Option<String> = c
                .query_row(
                    "SELECT state FROM deliveries WHERE key = ?1",
                    [key],
                    |row| row.get(0),
                )
                .optional()?;
            Ok(state.as_deref().and_then(DeliveryStatus::parse))
        }))
    }
}
