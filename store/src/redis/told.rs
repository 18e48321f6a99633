//! The told records on Redis: a hash per alert (`told:<alert>`, subscriber
//! → record as JSON), the set of alerts that have one (`told:alerts`), per
//! subscriber the alerts naming them (`toldby:<id>`, for erasure), and
//! since when records are kept (`told:began`).
//!
//! A change is one MULTI/EXEC per thousand entries: a fan-out's worth in
//! one transaction would hold Redis for too long. A crash between chunks
//! leaves some of an alert's people without a record; the restore at start
//! tells them at once, and the delivery queue drops what was already sent.

use chrono::{DateTime, Utc};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::{CHUNK, backend};
use crate::{Result, StoreError, SubscriberId, ToldChange, ToldRecord, ToldRecords};

pub(super) struct ToldKeys<'a>(pub &'a str);

impl ToldKeys<'_> {
    fn alerts(&self) -> String {
        format!("{}:told:alerts", self.0)
    }
    fn alert(&self, alert: &str) -> String {
        format!("{}:told:{alert}", self.0)
    }
    fn by(&self, subscriber: &str) -> String {
        format!("{}:toldby:{subscriber}", self.0)
    }
    fn began(&self) -> String {
        format!("{}:told:began", self.0)
    }
}

/// Writes, once, since when records are kept: now when the store already
/// holds subscribers (an upgrade), else the epoch.
pub(super) async fn mark_beginning(conn: &mut ConnectionManager, prefix: &str) -> Result<()> {
    let keys = ToldKeys(prefix);
    let existing: bool = conn
        .exists(format!("{prefix}:subs"))
        .await
        .map_err(backend)?;
    let at = if existing {
        Utc::now()
    } else {
        DateTime::<Utc>::UNIX_EPOCH
    };
    let _: bool = redis::cmd("SET")
        .arg(keys.began())
        .arg(at.to_rfc3339())
        .arg("NX")
        .query_async::<Option<String>>(conn)
        .await
        .map_err(backend)?
        .is_some();
    Ok(())
}

pub(super) async fn began(conn: &mut ConnectionManager, prefix: &str) -> Result<DateTime<Utc>> {
    let at: Option<String> = conn.get(ToldKeys(prefix).began()).await.map_err(backend)?;
    Ok(at
        .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
        .map_or(DateTime::<Utc>::UNIX_EPOCH, |at| at.to_utc()))
}

pub(super) async fn record(
    conn: &mut ConnectionManager,
    prefix: &str,
    change: &ToldChange,
) -> Result<()> {
    let keys = ToldKeys(prefix);
    if !change.ended.is_empty() {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for alert in &change.ended {
            pipe.del(keys.alert(alert)).ignore();
            pipe.srem(keys.alerts(), alert).ignore();
        }
        pipe.query_async::<()>(conn).await.map_err(backend)?;
    }
    let Some(alert) = &change.alert else {
        return Ok(());
    };
    for chunk in change.entries.chunks(CHUNK) {
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.sadd(keys.alerts(), alert).ignore();
        for (subscriber, record) in chunk {
            let json = serde_json::to_string(record).map_err(|e| StoreError::Corrupt {
                what: "told record".into(),
                detail: e.to_string(),
            })?;
            pipe.hset(keys.alert(alert), &subscriber.0, json).ignore();
            pipe.sadd(keys.by(&subscriber.0), alert).ignore();
        }
        pipe.query_async::<()>(conn).await.map_err(backend)?;
    }
    Ok(())
}

pub(super) async fn all(conn: &mut ConnectionManager, prefix: &str) -> Result<ToldRecords> {
    let keys = ToldKeys(prefix);
    let alerts: Vec<String> = conn.smembers(keys.alerts()).await.map_err(backend)?;
    let mut all = ToldRecords::new();
    for alert in alerts {
        let entries: std::collections::HashMap<String, String> =
            conn.hgetall(keys.alert(&alert)).await.map_err(backend)?;
        let mut list = Vec::with_capacity(entries.len());
        for (subscriber, json) in entries {
            let record: ToldRecord =
                serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
                    what: format!("told record of {alert}"),
                    detail: e.to_string(),
                })?;
            list.push((SubscriberId(subscriber), record));
        }
        list.sort_by(|a, b| a.0.cmp(&b.0));
        if !list.is_empty() {
            all.insert(alert, list);
        }
    }
    Ok(all)
}

/// Removes the subscriber from every told record (erasure).
pub(super) async fn forget(conn: &mut ConnectionManager, prefix: &str, id: &str) -> Result<()> {
    let keys = ToldKeys(prefix);
    let alerts: Vec<String> = conn.smembers(keys.by(id)).await.map_err(backend)?;
    let mut pipe = redis::pipe();
    pipe.atomic();
    for alert in &alerts {
        pipe.hdel(keys.alert(alert), id).ignore();
    }
    pipe.del(keys.by(id)).ignore();
    pipe.query_async::<()>(conn).await.map_err(backend)
}
