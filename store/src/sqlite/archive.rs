//! Ingest's archive ([`ingest::store::AlertArchive`]), embedded: one SQLite
//! file (`archive.sqlite` in the store's directory).
//!
//! SQLite (bundled, so no system library is needed) rather than redb:
//! operators can read the archive with the `sqlite3` shell during an
//! incident ("which messages were rejected today, and why?"), the schema
//! is plain SQL, and WAL mode gives crash-safe commits with readers that
//! never block the writer. `synchronous=FULL` makes every commit durable on
//! power loss: losing a received warning costs more than an fsync.
//!
//! rusqlite blocks, so every call runs on tokio's blocking pool with the
//! one connection, as the SQLite delivery queue does (`queue.rs`).

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use cap::model::{Alert, MessageKey};
use ingest::authority::Authority;
use ingest::source::SourceId;
use ingest::store::{
    AcceptedMessage, AlertArchive, ArchiveFuture, NewRecord, Recorded, StoreError, StoredMessage,
    Verdict, content_hash,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    id          INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,              -- RFC 3339, UTC
    source      TEXT NOT NULL,
    verdict     TEXT NOT NULL CHECK (verdict IN ('accepted', 'rejected')),
    reason      TEXT,                       -- stable label
    detail      TEXT,                       -- what was wrong, and where
    sender      TEXT,
    identifier  TEXT,
    sent        TEXT,                       -- as CAP writes it
    sent_utc    TEXT,                       -- the instant, for identity
    sha256      TEXT NOT NULL,
    raw         BLOB NOT NULL,
    alert_json  TEXT,
    authority   TEXT                        -- owner of the alert chain (accepted)
);
CREATE UNIQUE INDEX IF NOT EXISTS accepted_identity
    ON messages (sender, identifier, sent_utc) WHERE verdict = 'accepted';
CREATE UNIQUE INDEX IF NOT EXISTS rejected_once
    ON messages (source, sha256, reason) WHERE verdict = 'rejected';
CREATE INDEX IF NOT EXISTS by_verdict ON messages (verdict, id);
CREATE INDEX IF NOT EXISTS accepted_by_sent ON messages (sent_utc) WHERE verdict = 'accepted';
";

const COLUMNS: &str = "id, source, received_at, verdict, reason, detail, sender, identifier, sent, sha256, raw, alert_json, authority";

/// Adds what archives written by earlier versions lack. Rows accepted
/// before authorities were recorded keep NULL: the pipeline derives their
/// authority from their source's rules (see `crate::authority`).
fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let has_authority: bool = conn
        .query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('messages') WHERE name = 'authority'",
            [],
            |r| r.get(0),
        )
        .map_err(db)?;
    if !has_authority {
        conn.execute_batch("ALTER TABLE messages ADD COLUMN authority TEXT")
            .map_err(db)?;
    }
    Ok(())
}

/// SQLite's errors reach ingest as the archive's backend failing.
fn db(error: rusqlite::Error) -> StoreError {
    StoreError::Backend(format!("sqlite: {error}"))
}

#[derive(Debug, Clone)]
pub struct SqliteArchive {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteArchive {
    /// Opens (creating if needed) the archive file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        migrate(&conn)?;
        Ok(SqliteArchive {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `work` with the connection on the blocking pool.
    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            work(&conn)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("sqlite archive task failed: {e}")))?
    }

    /// The journal mode in force (`wal` once opened).
    pub async fn journal_mode(&self) -> Result<String, StoreError> {
        self.with(|conn| {
            conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .map_err(db)
        })
        .await
    }
}

fn utc_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse_utc(row: i64, value: String) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(&value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StoreError::Timestamp { row, value })
}

/// The instant a key's `sent` names, as stored in `sent_utc`.
fn sent_utc(sent: &str) -> Option<String> {
    DateTime::parse_from_rfc3339(sent.trim())
        .ok()
        .map(|t| utc_text(t.with_timezone(&Utc)))
}

struct RawRow {
    id: i64,
    source: String,
    received_at: String,
    verdict: String,
    reason: Option<String>,
    detail: Option<String>,
    sender: Option<String>,
    identifier: Option<String>,
    sent: Option<String>,
    sha256: String,
    raw: Vec<u8>,
    alert_json: Option<String>,
    authority: Option<String>,
}

fn read_row(row: &Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        id: row.get(0)?,
        source: row.get(1)?,
        received_at: row.get(2)?,
        verdict: row.get(3)?,
        reason: row.get(4)?,
        detail: row.get(5)?,
        sender: row.get(6)?,
        identifier: row.get(7)?,
        sent: row.get(8)?,
        sha256: row.get(9)?,
        raw: row.get(10)?,
        alert_json: row.get(11)?,
        authority: row.get(12)?,
    })
}

impl RawRow {
    fn into_stored(self) -> Result<StoredMessage, StoreError> {
        let alert =
            match &self.alert_json {
                Some(json) => Some(serde_json::from_str::<Alert>(json).map_err(|source| {
                    StoreError::Json {
                        row: self.id,
                        source,
                    }
                })?),
                None => None,
            };
        let key = match (self.sender, self.identifier, self.sent) {
            (Some(sender), Some(identifier), Some(sent)) => Some(MessageKey {
                sender,
                identifier,
                sent,
            }),
            _ => None,
        };
        Ok(StoredMessage {
            id: self.id,
            source: SourceId(self.source),
            received_at: parse_utc(self.id, self.received_at)?,
            verdict: if self.verdict == "accepted" {
                Verdict::Accepted
            } else {
                Verdict::Rejected
            },
            reason: self.reason,
            detail: self.detail,
            key,
            sha256: self.sha256,
            raw: self.raw,
            alert,
            authority: self.authority.as_deref().and_then(Authority::parse),
        })
    }
}

/// A [`NewRecord`] as the row it becomes, owned so that it can go to the
/// blocking pool.
struct NewRow {
    received_at: String,
    source: String,
    verdict: Verdict,
    reason: Option<String>,
    detail: Option<String>,
    sender: Option<String>,
    identifier: Option<String>,
    sent: Option<String>,
    sent_utc: Option<String>,
    sha256: String,
    raw: Vec<u8>,
    alert_json: Option<String>,
    authority: Option<String>,
}

impl NewRow {
    fn of(record: &NewRecord<'_>) -> Result<NewRow, StoreError> {
        let alert_json = record
            .alert
            .map(serde_json::to_string)
            .transpose()
            .map_err(StoreError::Encode)?;
        Ok(NewRow {
            received_at: utc_text(record.received_at),
            source: record.source.as_str().to_owned(),
            verdict: record.verdict,
            reason: record.reason.map(str::to_owned),
            detail: record.detail.map(str::to_owned),
            sender: record.key.map(|k| k.sender.clone()),
            identifier: record.key.map(|k| k.identifier.clone()),
            sent: record.key.map(|k| k.sent.clone()),
            sent_utc: record.key.and_then(|k| sent_utc(&k.sent)),
            sha256: content_hash(record.raw),
            raw: record.raw.to_vec(),
            alert_json,
            authority: record.authority.map(|a| a.as_str().to_owned()),
        })
    }

    /// Inserts the row unless its identity is taken; either way the id of
    /// the row that holds it.
    fn insert(&self, conn: &Connection) -> Result<Recorded, StoreError> {
        let inserted = conn
            .execute(
                "INSERT INTO messages (received_at, source, verdict, reason, detail, sender,
                 identifier, sent, sent_utc, sha256, raw, alert_json, authority)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT DO NOTHING",
                params![
                    self.received_at,
                    self.source,
                    self.verdict.as_str(),
                    self.reason,
                    self.detail,
                    self.sender,
                    self.identifier,
                    self.sent,
                    self.sent_utc,
                    self.sha256,
                    self.raw,
                    self.alert_json,
                    self.authority,
                ],
            )
            .map_err(db)?;
        if inserted == 1 {
            return Ok(Recorded {
                id: conn.last_insert_rowid(),
                new: true,
            });
        }
        // The row that made this one a conflict.
        let id: i64 = match self.verdict {
            Verdict::Rejected => conn
                .query_row(
                    "SELECT id FROM messages WHERE verdict = 'rejected' AND source = ?1
                   AND sha256 = ?2 AND reason IS ?3",
                    params![self.source, self.sha256, self.reason],
                    |r| r.get(0),
                )
                .map_err(db)?,
            Verdict::Accepted => conn
                .query_row(
                    "SELECT id FROM messages WHERE verdict = 'accepted' AND sender = ?1
                   AND identifier = ?2 AND sent_utc = ?3",
                    params![self.sender, self.identifier, self.sent_utc],
                    |r| r.get(0),
                )
                .map_err(db)?,
        };
        Ok(Recorded { id, new: false })
    }
}

impl AlertArchive for SqliteArchive {
    fn record<'a>(&'a self, record: &'a NewRecord<'a>) -> ArchiveFuture<'a, Recorded> {
        Box::pin(async move {
            let row = NewRow::of(record)?;
            self.with(move |conn| row.insert(conn)).await
        })
    }

    fn find_accepted<'a>(
        &'a self,
        key: &'a MessageKey,
    ) -> ArchiveFuture<'a, Option<StoredMessage>> {
        let key = key.clone();
        Box::pin(self.with(move |conn| {
            let sql = format!(
                "SELECT {COLUMNS} FROM messages WHERE verdict = 'accepted' AND sender = ?1
               AND identifier = ?2 AND (sent_utc = ?3 OR sent = ?4) LIMIT 1"
            );
            let row = conn
                .query_row(
                    &sql,
                    params![key.sender, key.identifier, sent_utc(&key.sent), key.sent],
                    read_row,
                )
                .optional()
                .map_err(db)?;
            row.map(RawRow::into_stored).transpose()
        }))
    }

    fn rejected(&self, limit: usize) -> ArchiveFuture<'_, Vec<StoredMessage>> {
        Box::pin(self.with(move |conn| {
            let sql = format!(
                "SELECT {COLUMNS} FROM messages WHERE verdict = 'rejected' ORDER BY id DESC LIMIT ?1"
            );
            let mut stmt = conn.prepare(&sql).map_err(db)?;
            let rows = stmt
                .query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], read_row)
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            rows.into_iter().map(RawRow::into_stored).collect()
        }))
    }

    fn accepted_since(&self, since: DateTime<Utc>) -> ArchiveFuture<'_, Vec<AcceptedMessage>> {
        Box::pin(self.with(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT id, alert_json, source, authority FROM messages
             WHERE verdict = 'accepted' AND sent_utc >= ?1 AND alert_json IS NOT NULL
             ORDER BY sent_utc, id",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(params![utc_text(since)], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            rows.into_iter()
                .map(|(row, json, source, authority)| {
                    Ok(AcceptedMessage {
                        alert: serde_json::from_str(&json)
                            .map_err(|source| StoreError::Json { row, source })?,
                        source: SourceId(source),
                        authority: authority.as_deref().and_then(Authority::parse),
                    })
                })
                .collect()
        }))
    }

    fn count(&self, verdict: Verdict) -> ArchiveFuture<'_, u64> {
        Box::pin(self.with(move |conn| {
            let n: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM messages WHERE verdict = ?1",
                    params![verdict.as_str()],
                    |r| r.get(0),
                )
                .map_err(db)?;
            Ok(u64::try_from(n).unwrap_or(0))
        }))
    }
}
