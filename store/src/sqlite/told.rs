//! The told records on SQLite: one row per (alert, subscriber), the record
//! as JSON, and the one-row table saying since when records are kept.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::readers::backend;
use super::{from_json, to_json};
use crate::{Result, SubscriberId, ToldChange, ToldRecord, ToldRecords};

/// Whether this open upgrades a store written before told records: it has
/// subscribers' table but no told table yet.
pub(super) fn is_upgrade(conn: &Connection) -> Result<bool> {
    let count = |name: &str| -> Result<i64> {
        conn.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get(0),
        )
        .map_err(backend)
    };
    Ok(count("subscribers")? > 0 && count("told")? == 0)
}

/// Writes, once, since when records are kept: now for an upgrade, the
/// epoch for a new store.
pub(super) fn mark_beginning(conn: &Connection, upgrading: bool) -> Result<()> {
    let at = if upgrading {
        Utc::now()
    } else {
        DateTime::<Utc>::UNIX_EPOCH
    };
    conn.execute(
        "INSERT INTO told_began (at) SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM told_began)",
        [at.to_rfc3339()],
    )
    .map_err(backend)?;
    Ok(())
}

pub(super) fn began(conn: &Connection) -> Result<DateTime<Utc>> {
    let at: Option<String> = conn
        .query_row("SELECT at FROM told_began LIMIT 1", [], |r| r.get(0))
        .optional()
        .map_err(backend)?;
    Ok(at
        .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
        .map_or(DateTime::<Utc>::UNIX_EPOCH, |at| at.to_utc()))
}

/// Runs as one writer job, which is its own savepoint: all of it or none.
pub(super) fn record(conn: &Connection, change: &ToldChange) -> Result<()> {
    let mut drop_alert = conn
        .prepare_cached("DELETE FROM told WHERE alert = ?1")
        .map_err(backend)?;
    for alert in &change.ended {
        drop_alert.execute([alert]).map_err(backend)?;
    }
    if let Some(alert) = &change.alert {
        let mut put = conn
            .prepare_cached(
                "INSERT OR REPLACE INTO told (alert, subscriber, json) VALUES (?1, ?2, ?3)",
            )
            .map_err(backend)?;
        for (subscriber, record) in &change.entries {
            put.execute(params![
                alert,
                subscriber.0,
                to_json("told record", record)?
            ])
            .map_err(backend)?;
        }
    }
    Ok(())
}

pub(super) fn all(conn: &Connection) -> Result<ToldRecords> {
    let mut stmt = conn
        .prepare_cached("SELECT alert, subscriber, json FROM told ORDER BY alert, subscriber")
        .map_err(backend)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(backend)?;
    let mut all = ToldRecords::new();
    for row in rows {
        let (alert, subscriber, json) = row.map_err(backend)?;
        let record: ToldRecord = from_json("told record", &json)?;
        all.entry(alert)
            .or_default()
            .push((SubscriberId(subscriber), record));
    }
    Ok(all)
}
