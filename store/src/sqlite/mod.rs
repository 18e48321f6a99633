//! The embedded store: SQLite files in one data directory.
//!
//! - `service.sqlite`: this crate's tables (schema in `SCHEMA`);
//! - `archive.sqlite`: ingest's archive, [`SqliteArchive`] (`archive.rs`);
//! - `queue.sqlite`: the notifier's delivery queue, [`SqliteQueue`]
//!   (`queue.rs`).
//!
//! Writes go through one writer thread that commits concurrent writes
//! together (`writer.rs`); reads run on a small pool of read connections on
//! blocking threads (`readers.rs`). WAL with `synchronous=FULL`: a commit
//! has reached the disk (the WAL is fsynced) before any caller is told it
//! succeeded, so an acknowledged registration survives a power cut. NORMAL
//! would skip that fsync and could lose the last commits on power loss; the
//! group commit makes FULL affordable (one fsync per batch, not per
//! write). See `store/README.md` for the figures.
//!
//! Personal data is sealed ([`crate::seal`]) before it reaches a statement:
//! a subscriber row holds its id, its key hash and one sealed blob.

pub mod archive;
mod backup;
pub mod queue;
mod readers;
mod told;
mod writer;

pub use archive::SqliteArchive;
pub use backup::{FILES, backup, restore};
pub use queue::{SqliteQueue, owner_only_file};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use notifier::queue::QueueConfig;
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use crate::audit::{GENESIS, chain_hash};
use crate::seal::{DataKey, inbox_context, relay_context, seal_inbox, subscriber_context};
use crate::{
    Account, AccountId, AuditEntry, Draft, DraftId, InboxEntry, KeyHash, NewAuditEntry, RelayAck,
    Result, Session, ShelterStatus, Storage, StoreError, SubscriberId, SubscriberRecord,
    ToldChange, ToldRecords,
};
use readers::{Readers, backend};
use writer::Writer;

pub const SERVICE_FILE: &str = "service.sqlite";
pub const ARCHIVE_FILE: &str = "archive.sqlite";
pub const QUEUE_FILE: &str = "queue.sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS subscribers (
    id       TEXT PRIMARY KEY,
    key_hash BLOB NOT NULL UNIQUE,   -- SHA-256 of the device key
    sealed   BLOB NOT NULL           -- the whole record, sealed
);
CREATE TABLE IF NOT EXISTS inbox (
    seq        INTEGER PRIMARY KEY,  -- append order: newest is highest
    subscriber TEXT NOT NULL,
    sealed     BLOB NOT NULL         -- the entry (its text may name a place)
);
CREATE INDEX IF NOT EXISTS inbox_by_subscriber ON inbox (subscriber, seq);
CREATE TABLE IF NOT EXISTS accounts (
    id       TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    json     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash BLOB PRIMARY KEY,
    expires    TEXT NOT NULL,        -- RFC 3339 UTC, for clean-up
    json       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires);
CREATE TABLE IF NOT EXISTS drafts (
    id      TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    json    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS drafts_by_created ON drafts (created, id);
CREATE TABLE IF NOT EXISTS shelters (
    shelter TEXT PRIMARY KEY,
    json    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS relay_acks (
    alert   TEXT NOT NULL,
    village TEXT NOT NULL,
    person  TEXT NOT NULL,           -- pseudonymous subscriber id
    sealed  BLOB NOT NULL,           -- the acknowledgement (its note)
    PRIMARY KEY (alert, village, person)
);
CREATE INDEX IF NOT EXISTS relay_acks_by_person ON relay_acks (person);
CREATE TABLE IF NOT EXISTS audit (
    seq  INTEGER PRIMARY KEY,
    json TEXT NOT NULL               -- the AuditEntry, hash included
);
-- Login attempts per throttling key (an account, a client address, a
-- device cookie); a row is dead once expires_ms (Unix ms) has passed and is
-- deleted by the next count. Added after the first release: CREATE IF NOT
-- EXISTS is its migration.
CREATE TABLE IF NOT EXISTS login_attempts (
    key        TEXT PRIMARY KEY,
    count      INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_by_expiry ON login_attempts (expires_ms);
-- What each person was told of each alert in force (ToldRecord as JSON).
-- Added after the first release: see migrate_told.
CREATE TABLE IF NOT EXISTS told (
    alert      TEXT NOT NULL,
    subscriber TEXT NOT NULL,
    json       TEXT NOT NULL,
    PRIMARY KEY (alert, subscriber)
);
CREATE INDEX IF NOT EXISTS told_by_subscriber ON told (subscriber);
CREATE TABLE IF NOT EXISTS told_began (
    at TEXT NOT NULL                 -- RFC 3339 UTC
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
";

/// The embedded [`Storage`].
pub struct SqliteStorage {
    dir: PathBuf,
    key: Arc<DataKey>,
    writer: Writer,
    readers: Arc<Readers>,
    archive: Arc<SqliteArchive>,
    queue: Arc<SqliteQueue>,
}

impl SqliteStorage {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: &Path, key: DataKey) -> Result<SqliteStorage> {
        SqliteStorage::open_with(dir, key, QueueConfig::default())
    }

    /// [`SqliteStorage::open`] with the delivery queue's settings.
    pub fn open_with(dir: &Path, key: DataKey, queue: QueueConfig) -> Result<SqliteStorage> {
        owner_only_dir(dir)?;
        let service = dir.join(SERVICE_FILE);
        owner_only_file(&service)?;
        owner_only_file(&dir.join(ARCHIVE_FILE))?;
        let conn = Connection::open(&service).map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        let upgrading = told::is_upgrade(&conn)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        migrate_draft_offices(&conn)?;
        told::mark_beginning(&conn, upgrading)?;
        let archive = SqliteArchive::open(&dir.join(ARCHIVE_FILE))
            .map_err(|e| StoreError::Backend(format!("archive: {e}")))?;
        let key = Arc::new(key);
        let queue = SqliteQueue::open(&dir.join(QUEUE_FILE), queue, key.clone())
            .map_err(|e| StoreError::Backend(format!("queue: {e}")))?;
        Ok(SqliteStorage {
            dir: dir.to_path_buf(),
            key,
            writer: Writer::start(conn)?,
            readers: Readers::new(service),
            archive: Arc::new(archive),
            queue: Arc::new(queue),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The delivery queue with its SQLite-specific operations.
    pub fn sqlite_queue(&self) -> Arc<SqliteQueue> {
        Arc::clone(&self.queue)
    }
}

/// Drafts are listed per office. Stores written before that have no
/// `office` column: it is added and filled from each draft's own record or,
/// for drafts written before offices existed, from its author's account
/// (its office, or its username, which was the office then).
fn migrate_draft_offices(conn: &Connection) -> Result<()> {
    let has_office: bool = conn
        .query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('drafts') WHERE name = 'office'",
            [],
            |r| r.get(0),
        )
        .map_err(backend)?;
    if !has_office {
        conn.execute_batch("ALTER TABLE drafts ADD COLUMN office TEXT")
            .map_err(backend)?;
    }
    conn.execute_batch(
        "UPDATE drafts SET office = COALESCE(
             json_extract(drafts.json, '$.office'),
             (SELECT COALESCE(json_extract(a.json, '$.office'), a.username)
                FROM accounts a WHERE a.id = json_extract(drafts.json, '$.author')))
         WHERE office IS NULL;
         CREATE INDEX IF NOT EXISTS drafts_by_office ON drafts (office, created, id);",
    )
    .map_err(backend)?;
    Ok(())
}

/// The records a query's single JSON column holds, in its order.
fn json_rows<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    what: &str,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let rows = stmt
        .query_map(params, |r| r.get::<_, String>(0))
        .map_err(backend)?;
    let mut all = Vec::new();
    for row in rows {
        all.push(from_json(what, &row.map_err(backend)?)?);
    }
    Ok(all)
}

/// Creates `dir` (and its parents) readable by its owner only, or narrows
/// an existing one to that: it holds every file of the store.
pub(crate) fn owner_only_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

fn to_json<T: serde::Serialize>(what: &str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        what: what.to_string(),
        detail: format!("does not encode: {e}"),
    })
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        what: what.to_string(),
        detail: e.to_string(),
    })
}

/// A unique index refused the write: someone else holds that key.
fn conflict_or_backend(error: rusqlite::Error, what: &str) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict(what.to_string()),
        _ => backend(error),
    }
}

fn utc_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// This machine's time in Unix milliseconds (login-attempt windows).
fn unix_millis_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn put_subscriber(&self, subscriber: &SubscriberRecord) -> Result<()> {
        let id = subscriber.id.0.clone();
        let sealed = self.key.seal_json(&subscriber_context(&id), subscriber)?;
        let key_hash = subscriber.key_hash.0;
        self.writer
            .write(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO subscribers (id, key_hash, sealed) VALUES (?1, ?2, ?3)
                     ON CONFLICT (id) DO UPDATE SET key_hash = excluded.key_hash,
                         sealed = excluded.sealed",
                )
                .and_then(|mut stmt| stmt.execute(params![id, key_hash.as_slice(), sealed]))
                .map_err(|e| conflict_or_backend(e, "device key already in use"))?;
                Ok(())
            })
            .await
    }

    async fn subscriber(&self, id: &SubscriberId) -> Result<Option<SubscriberRecord>> {
        let id = id.0.clone();
        let key = Arc::clone(&self.key);
        self.readers
            .read(move |conn| {
                let sealed: Option<Vec<u8>> = conn
                    .prepare_cached("SELECT sealed FROM subscribers WHERE id = ?1")
                    .and_then(|mut stmt| stmt.query_row([&id], |r| r.get(0)).optional())
                    .map_err(backend)?;
                sealed
                    .map(|s| key.open_json(&subscriber_context(&id), &s))
                    .transpose()
            })
            .await
    }

    async fn subscriber_by_key(&self, key_hash: &KeyHash) -> Result<Option<SubscriberRecord>> {
        let hash = key_hash.0;
        let key = Arc::clone(&self.key);
        self.readers
            .read(move |conn| {
                let row: Option<(String, Vec<u8>)> = conn
                    .prepare_cached("SELECT id, sealed FROM subscribers WHERE key_hash = ?1")
                    .and_then(|mut stmt| {
                        stmt.query_row([hash.as_slice()], |r| Ok((r.get(0)?, r.get(1)?)))
                            .optional()
                    })
                    .map_err(backend)?;
                row.map(|(id, s)| {
                    let record = key.open_json(&subscriber_context(&id), &s)?;
                    crate::check_key(record, &KeyHash(hash))
                })
                .transpose()
            })
            .await
    }

    async fn subscriber_id_by_key(&self, key_hash: &KeyHash) -> Result<Option<SubscriberId>> {
        let hash = key_hash.0;
        self.readers
            .read(move |conn| {
                conn.prepare_cached("SELECT id FROM subscribers WHERE key_hash = ?1")
                    .and_then(|mut stmt| stmt.query_row([hash.as_slice()], |r| r.get(0)).optional())
                    .map(|id| id.map(SubscriberId))
                    .map_err(backend)
            })
            .await
    }

    async fn all_subscribers(&self) -> Result<Vec<SubscriberRecord>> {
        let key = Arc::clone(&self.key);
        self.readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare("SELECT id, sealed FROM subscribers ORDER BY id")
                    .map_err(backend)?;
                let rows = stmt
                    .query_map([], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
                    })
                    .map_err(backend)?;
                let mut all = Vec::new();
                for row in rows {
                    let (id, sealed) = row.map_err(backend)?;
                    all.push(key.open_json(&subscriber_context(&id), &sealed)?);
                }
                Ok(all)
            })
            .await
    }

    async fn delete_subscriber(&self, id: &SubscriberId) -> Result<bool> {
        let deliveries = notifier::notice::SubscriberId(id.0.clone());
        crate::purge_deliveries(&*self.queue, &deliveries).await?;
        let id = id.0.clone();
        let existed = self
            .writer
            .write(move |conn| {
                let run = || -> rusqlite::Result<bool> {
                    let removed = conn.execute("DELETE FROM subscribers WHERE id = ?1", [&id])?;
                    conn.execute("DELETE FROM inbox WHERE subscriber = ?1", [&id])?;
                    conn.execute("DELETE FROM relay_acks WHERE person = ?1", [&id])?;
                    conn.execute("DELETE FROM told WHERE subscriber = ?1", [&id])?;
                    Ok(removed > 0)
                };
                run().map_err(backend)
            })
            .await?;
        // Again: deliveries queued while the record was being deleted.
        crate::purge_deliveries(&*self.queue, &deliveries).await?;
        Ok(existed)
    }

    async fn append_inbox(&self, entries: &[InboxEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let sealed = seal_inbox(&self.key, entries).await?;
        self.writer
            .write(move |conn| {
                let mut stmt = conn
                    .prepare_cached("INSERT INTO inbox (subscriber, sealed) VALUES (?1, ?2)")
                    .map_err(backend)?;
                for (id, sealed) in &sealed {
                    stmt.execute(params![id, sealed]).map_err(backend)?;
                }
                Ok(())
            })
            .await
    }

    async fn inbox(&self, id: &SubscriberId, limit: usize) -> Result<Vec<InboxEntry>> {
        let id = id.0.clone();
        let key = Arc::clone(&self.key);
        self.readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT sealed FROM inbox WHERE subscriber = ?1 ORDER BY seq DESC LIMIT ?2",
                    )
                    .map_err(backend)?;
                let rows = stmt
                    .query_map(params![id, limit_param(limit)], |r| r.get::<_, Vec<u8>>(0))
                    .map_err(backend)?;
                let context = inbox_context(&id);
                let mut entries = Vec::new();
                for row in rows {
                    entries.push(key.open_json(&context, &row.map_err(backend)?)?);
                }
                Ok(entries)
            })
            .await
    }

    async fn put_account(&self, account: &Account) -> Result<()> {
        let json = to_json("account", account)?;
        let (id, username) = (account.id.0.clone(), account.username.clone());
        self.writer
            .write(move |conn| {
                conn.execute(
                    "INSERT INTO accounts (id, username, json) VALUES (?1, ?2, ?3)
                     ON CONFLICT (id) DO UPDATE SET username = excluded.username,
                         json = excluded.json",
                    params![id, username, json],
                )
                .map_err(|e| conflict_or_backend(e, "username already taken"))?;
                Ok(())
            })
            .await
    }

    async fn account(&self, id: &AccountId) -> Result<Option<Account>> {
        let id = id.0.clone();
        self.readers
            .read(move |conn| {
                let json: Option<String> = conn
                    .prepare_cached("SELECT json FROM accounts WHERE id = ?1")
                    .and_then(|mut stmt| stmt.query_row([&id], |r| r.get(0)).optional())
                    .map_err(backend)?;
                json.map(|j| from_json("account", &j)).transpose()
            })
            .await
    }

    async fn account_by_username(&self, username: &str) -> Result<Option<Account>> {
        let username = username.to_string();
        self.readers
            .read(move |conn| {
                let json: Option<String> = conn
                    .prepare_cached("SELECT json FROM accounts WHERE username = ?1")
                    .and_then(|mut stmt| stmt.query_row([&username], |r| r.get(0)).optional())
                    .map_err(backend)?;
                json.map(|j| from_json("account", &j)).transpose()
            })
            .await
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        self.readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare("SELECT json FROM accounts ORDER BY username")
                    .map_err(backend)?;
                let rows = stmt
                    .query_map([], |r| r.get::<_, String>(0))
                    .map_err(backend)?;
                let mut all = Vec::new();
                for row in rows {
                    all.push(from_json("account", &row.map_err(backend)?)?);
                }
                Ok(all)
            })
            .await
    }

    async fn put_session(&self, session: &Session) -> Result<()> {
        let json = to_json("session", session)?;
        let hash = session.token_hash.0;
        let expires = utc_text(session.expires);
        // Sessions that ended before this one began are of no more use.
        let ended = utc_text(session.created);
        self.writer
            .write(move |conn| {
                conn.execute("DELETE FROM sessions WHERE expires < ?1", [&ended])
                    .map_err(backend)?;
                conn.execute(
                    "INSERT OR REPLACE INTO sessions (token_hash, expires, json) VALUES (?1, ?2, ?3)",
                    params![hash.as_slice(), expires, json],
                )
                .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn session(&self, token_hash: &KeyHash, now: DateTime<Utc>) -> Result<Option<Session>> {
        let hash = token_hash.0;
        let json: Option<String> = self
            .readers
            .read(move |conn| {
                conn.prepare_cached("SELECT json FROM sessions WHERE token_hash = ?1")
                    .and_then(|mut stmt| stmt.query_row([hash.as_slice()], |r| r.get(0)).optional())
                    .map_err(backend)
            })
            .await?;
        let session: Option<Session> = json.map(|j| from_json("session", &j)).transpose()?;
        Ok(session.filter(|s| s.expires > now))
    }

    async fn delete_session(&self, token_hash: &KeyHash) -> Result<()> {
        let hash = token_hash.0;
        self.writer
            .write(move |conn| {
                conn.execute(
                    "DELETE FROM sessions WHERE token_hash = ?1",
                    [hash.as_slice()],
                )
                .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn put_draft(&self, draft: &Draft) -> Result<()> {
        let json = to_json("draft", draft)?;
        let (id, created) = (draft.id.0.clone(), utc_text(draft.created));
        let office = draft.office.clone();
        self.writer
            .write(move |conn| {
                conn.execute(
                    "INSERT OR REPLACE INTO drafts (id, created, json, office)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![id, created, json, office],
                )
                .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn draft(&self, id: &DraftId) -> Result<Option<Draft>> {
        let id = id.0.clone();
        self.readers
            .read(move |conn| {
                let json: Option<String> = conn
                    .prepare_cached("SELECT json FROM drafts WHERE id = ?1")
                    .and_then(|mut stmt| stmt.query_row([&id], |r| r.get(0)).optional())
                    .map_err(backend)?;
                json.map(|j| from_json("draft", &j)).transpose()
            })
            .await
    }

    async fn drafts(&self, limit: usize) -> Result<Vec<Draft>> {
        self.readers
            .read(move |conn| {
                json_rows(
                    conn,
                    "draft",
                    "SELECT json FROM drafts ORDER BY created DESC, id DESC LIMIT ?1",
                    params![limit_param(limit)],
                )
            })
            .await
    }

    async fn office_drafts(&self, office: &str, limit: usize) -> Result<Vec<Draft>> {
        let office = office.to_owned();
        self.readers
            .read(move |conn| {
                json_rows(
                    conn,
                    "draft",
                    "SELECT json FROM drafts WHERE office = ?1
                     ORDER BY created DESC, id DESC LIMIT ?2",
                    params![office, limit_param(limit)],
                )
            })
            .await
    }

    async fn put_shelter_status(&self, status: &ShelterStatus) -> Result<()> {
        let json = to_json("shelter status", status)?;
        let shelter = status.shelter.clone();
        self.writer
            .write(move |conn| {
                conn.execute(
                    "INSERT OR REPLACE INTO shelters (shelter, json) VALUES (?1, ?2)",
                    params![shelter, json],
                )
                .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn shelter_statuses(&self) -> Result<Vec<ShelterStatus>> {
        self.readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare("SELECT json FROM shelters ORDER BY shelter")
                    .map_err(backend)?;
                let rows = stmt
                    .query_map([], |r| r.get::<_, String>(0))
                    .map_err(backend)?;
                let mut all = Vec::new();
                for row in rows {
                    all.push(from_json("shelter status", &row.map_err(backend)?)?);
                }
                Ok(all)
            })
            .await
    }

    async fn put_relay_ack(&self, ack: &RelayAck) -> Result<()> {
        let (alert, village, person) =
            (ack.alert.clone(), ack.village.clone(), ack.person.0.clone());
        let sealed = self
            .key
            .seal_json(&relay_context(&alert, &village, &person), ack)?;
        self.writer
            .write(move |conn| {
                conn.execute(
                    "INSERT OR REPLACE INTO relay_acks (alert, village, person, sealed)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![alert, village, person, sealed],
                )
                .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn relay_acks(&self, alert: &str, village: &str) -> Result<Vec<RelayAck>> {
        let (alert, village) = (alert.to_string(), village.to_string());
        let key = Arc::clone(&self.key);
        self.readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT person, sealed FROM relay_acks WHERE alert = ?1 AND village = ?2
                         ORDER BY person",
                    )
                    .map_err(backend)?;
                let rows = stmt
                    .query_map(params![alert, village], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
                    })
                    .map_err(backend)?;
                let mut acks = Vec::new();
                for row in rows {
                    let (person, sealed) = row.map_err(backend)?;
                    acks.push(key.open_json(&relay_context(&alert, &village, &person), &sealed)?);
                }
                Ok(acks)
            })
            .await
    }

    async fn told_began(&self) -> Result<DateTime<Utc>> {
        self.readers.read(told::began).await
    }

    async fn record_told(&self, change: &ToldChange) -> Result<()> {
        if change.is_empty() {
            return Ok(());
        }
        let change = change.clone();
        self.writer
            .write(move |conn| told::record(conn, &change))
            .await
    }

    async fn told_records(&self) -> Result<ToldRecords> {
        self.readers.read(told::all).await
    }

    async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry> {
        self.writer
            .write(move |conn| {
                let last: Option<(i64, String)> = conn
                    .query_row(
                        "SELECT seq, json FROM audit ORDER BY seq DESC LIMIT 1",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(backend)?;
                let (seq, previous) = match last {
                    Some((seq, json)) => {
                        let last: AuditEntry = from_json("audit entry", &json)?;
                        (u64::try_from(seq).unwrap_or(0) + 1, last.hash)
                    }
                    None => (1, GENESIS.to_string()),
                };
                let hash = chain_hash(&previous, seq, &entry);
                let stored = AuditEntry { seq, entry, hash };
                conn.execute(
                    "INSERT INTO audit (seq, json) VALUES (?1, ?2)",
                    params![
                        i64::try_from(seq).unwrap_or(i64::MAX),
                        to_json("audit entry", &stored)?
                    ],
                )
                .map_err(backend)?;
                Ok(stored)
            })
            .await
    }

    async fn audit(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.readers
            .read(move |conn| {
                json_rows(
                    conn,
                    "audit entry",
                    "SELECT json FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                    params![after, limit_param(limit)],
                )
            })
            .await
    }

    async fn count_login_attempt(&self, key: &str, window: std::time::Duration) -> Result<u64> {
        let key = key.to_string();
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX / 2);
        self.writer
            .write(move |conn| {
                // The clock is read on the writer thread, so counts and
                // expiries are ordered as the writes are.
                let now = unix_millis_now();
                conn.prepare_cached("DELETE FROM login_attempts WHERE expires_ms <= ?1")
                    .and_then(|mut stmt| stmt.execute([now]))
                    .map_err(backend)?;
                // One upsert: atomic by itself (and the writer thread runs
                // one write at a time).
                let count: i64 = conn
                    .prepare_cached(
                        "INSERT INTO login_attempts (key, count, expires_ms) VALUES (?1, 1, ?2 + ?3)
                         ON CONFLICT (key) DO UPDATE SET
                             count = CASE WHEN expires_ms <= ?2 THEN 1 ELSE count + 1 END,
                             expires_ms = CASE WHEN expires_ms <= ?2
                                 THEN excluded.expires_ms ELSE expires_ms END
                         RETURNING count",
                    )
                    .and_then(|mut stmt| {
                        stmt.query_row(params![key, now, window_ms], |r| r.get(0))
                    })
                    .map_err(backend)?;
                Ok(u64::try_from(count).unwrap_or(0))
            })
            .await
    }

    async fn clear_login_attempts(&self, key: &str) -> Result<()> {
        let key = key.to_string();
        self.writer
            .write(move |conn| {
                conn.prepare_cached("DELETE FROM login_attempts WHERE key = ?1")
                    .and_then(|mut stmt| stmt.execute([&key]))
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    fn archive(&self) -> Arc<dyn ingest::store::AlertArchive> {
        self.archive.clone()
    }

    fn queue(&self) -> Arc<dyn notifier::queue::DeliveryQueue> {
        self.queue.clone()
    }

    async fn backup(&self, dir: &Path) -> Result<()> {
        let (from, to) = (self.dir.clone(), dir.to_path_buf());
        tokio::task::spawn_blocking(move || backup::backup(&from, &to))
            .await
            .map_err(|e| StoreError::Backend(format!("backup task failed: {e}")))?
    }

    async fn ping(&self) -> Result<()> {
        self.readers
            .read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(backend))
            .await
    }
}
