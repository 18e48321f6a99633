//! Ingest's archive contract, run against the SQLite archive (reopening
//! its file), the Redis archive (restarting the server from its AOF
//! between writing and reading) and the archive the embedded store opens;
//! and what only the SQLite archive has: its older files.

#[path = "../../ingest/tests/sources_support/mod.rs"]
mod sources_support;

use std::cell::RefCell;

use cap::model::MsgType;
use chrono::Duration;
use ingest::source::SourceId;
use ingest::store::{
    AcceptedMessage, AlertArchive, ArchiveFuture, NewRecord, Recorded, StoredMessage, Verdict,
};
use notifier::testing::redis_server::RedisServer;
use sources_support::archive_contract::archive_contract;
use sources_support::{alert, utc};
use store::{RedisArchive, SqliteArchive};

#[tokio::test]
async fn sqlite_archive_keeps_every_message_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.sqlite");
    {
        let archive = SqliteArchive::open(&path).unwrap();
        assert_eq!(archive.journal_mode().await.unwrap(), "wal");
    }
    archive_contract(|| std::future::ready(SqliteArchive::open(&path).unwrap())).await;
}

/// A file of the schema before authorities were recorded: it opens, its
/// accepted message comes back without an authority (ingest then gives it
/// its source's rule), and new messages are recorded with theirs.
#[tokio::test]
async fn sqlite_archive_reads_a_file_written_before_authorities_were_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    let old = alert(
        "hualien@issuers.example",
        "A-OLD",
        "2024-04-22T14:00:00+08:00",
        MsgType::Alert,
        &[],
        Some(Duration::hours(6)),
    );
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE messages (
                id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, source TEXT NOT NULL,
                verdict TEXT NOT NULL CHECK (verdict IN ('accepted', 'rejected')),
                reason TEXT, detail TEXT, sender TEXT, identifier TEXT, sent TEXT,
                sent_utc TEXT, sha256 TEXT NOT NULL, raw BLOB NOT NULL, alert_json TEXT);",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO messages (received_at, source, verdict, sender, identifier, sent,
                 sent_utc, sha256, raw, alert_json)
             VALUES ('2024-04-22T06:00:00.000Z', 'issuers', 'accepted', ?1, 'A-OLD',
                 '2024-04-22T14:00:00+08:00', '2024-04-22T06:00:00.000Z', 'x', 'raw', ?2)",
            rusqlite::params![old.sender, serde_json::to_string(&old).unwrap()],
        )
        .unwrap();
    }
    let archive = SqliteArchive::open(&path).unwrap();
    let since = utc("2024-04-22T00:00:00+08:00");
    let accepted = archive.accepted_since(since).await.unwrap();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].alert, old);
    assert_eq!(accepted[0].source, SourceId::new("issuers"));
    assert_eq!(accepted[0].authority, None);

    let newer = alert(
        "hualien@issuers.example",
        "A-NEW",
        "2024-04-22T15:00:00+08:00",
        MsgType::Alert,
        &[],
        Some(Duration::hours(6)),
    );
    let office = ingest::authority::Authority::office("hualien@issuers.example");
    let recorded = archive
        .record(&NewRecord {
            source: &SourceId::new("issuers"),
            received_at: utc("2024-04-22T15:00:00+08:00"),
            verdict: Verdict::Accepted,
            reason: None,
            detail: None,
            alert: Some(&newer),
            key: Some(&cap::MessageKey::of(&newer)),
            raw: b"<alert>new</alert>",
            authority: Some(&office),
        })
        .await
        .unwrap();
    assert!(recorded.new);
    let accepted = archive.accepted_since(since).await.unwrap();
    assert_eq!(accepted.len(), 2);
    assert_eq!(accepted[1].authority.as_ref(), Some(&office));
}

#[tokio::test]
async fn redis_archive_keeps_every_message_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = RedisServer::start(dir.path()) else {
        eprintln!("redis-server not found: skipping");
        return;
    };
    // The first call writes; every later one restarts the server first.
    let server = RefCell::new(Some(server));
    let opened = RefCell::new(0);
    archive_contract(|| {
        if *opened.borrow() > 0 {
            let running = server.borrow_mut().take().unwrap();
            *server.borrow_mut() = Some(running.crash_and_restart().unwrap());
        }
        *opened.borrow_mut() += 1;
        let url = server.borrow().as_ref().unwrap().url();
        async move { RedisArchive::open(&url, "hl").await.unwrap() }
    })
    .await;
    assert_eq!(*opened.borrow(), 2);
}

#[tokio::test]
async fn embedded_store_archive_keeps_every_message_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let key = store::DataKey::generate();
    archive_contract(|| {
        let storage = store::SqliteStorage::open(dir.path(), key.clone()).unwrap();
        std::future::ready(ArchiveOf(store::Storage::archive(&storage)))
    })
    .await;
}

/// The archive of a store, owned.
struct ArchiveOf(std::sync::Arc<dyn AlertArchive>);

impl AlertArchive for ArchiveOf {
    fn record<'a>(&'a self, r: &'a NewRecord<'a>) -> ArchiveFuture<'a, Recorded> {
        self.0.record(r)
    }
    fn find_accepted<'a>(
        &'a self,
        key: &'a cap::model::MessageKey,
    ) -> ArchiveFuture<'a, Option<StoredMessage>> {
        self.0.find_accepted(key)
    }
    fn rejected(&self, limit: usize) -> ArchiveFuture<'_, Vec<StoredMessage>> {
        self.0.rejected(limit)
    }
    fn accepted_since(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> ArchiveFuture<'_, Vec<AcceptedMessage>> {
        self.0.accepted_since(since)
    }
    fn count(&self, verdict: Verdict) -> ArchiveFuture<'_, u64> {
        self.0.count(verdict)
    }
}

#[tokio::test]
async fn redis_archive_carries_on_after_redis_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = RedisServer::start(dir.path()) else {
        eprintln!("redis-server not found: skipping");
        return;
    };
    let archive = RedisArchive::open(&server.url(), "hl").await.unwrap();
    let source = SourceId::new("ncdr");
    let reject = |raw: &'static [u8]| NewRecord {
        source: &source,
        received_at: utc("2024-04-22T15:00:00+08:00"),
        verdict: Verdict::Rejected,
        reason: Some("not_cap"),
        detail: None,
        alert: None,
        key: None,
        raw,
        authority: None,
    };
    assert!(archive.record(&reject(b"one")).await.unwrap().new);
    let _server = server.crash_and_restart().unwrap();
    // The same archive value, its connection now broken: the next call
    // reconnects by itself.
    assert!(archive.record(&reject(b"two")).await.unwrap().new);
    assert_eq!(archive.count(Verdict::Rejected).await.unwrap(), 2);
}

/// A Redis slow to answer holds up the archive call, not the runtime: on a
/// single-threaded runtime another task keeps running while the call
/// waits. An implementation that made a blocking Redis call inside its
/// future would stop that task for the whole wait.
#[tokio::test(flavor = "current_thread")]
async fn a_slow_redis_holds_up_the_call_but_not_the_runtime() {
    const PAUSE: std::time::Duration = std::time::Duration::from_millis(500);
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = RedisServer::start(dir.path()) else {
        eprintln!("redis-server not found: skipping");
        return;
    };
    let archive = RedisArchive::open(&server.url(), "hl").await.unwrap();
    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let ticker = tokio::spawn({
        let ticks = ticks.clone();
        async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                ticks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    // Another client makes Redis hold every client's commands for a while.
    let mut other = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(PAUSE.as_millis().to_string())
        .arg("ALL")
        .query_async::<()>(&mut other)
        .await
        .unwrap();

    let before = ticks.load(std::sync::atomic::Ordering::SeqCst);
    let started = std::time::Instant::now();
    let count = archive.count(Verdict::Rejected).await.unwrap();
    let waited = started.elapsed();
    let during = ticks.load(std::sync::atomic::Ordering::SeqCst) - before;
    ticker.abort();

    assert_eq!(count, 0);
    assert!(
        waited >= PAUSE * 3 / 4,
        "the call was not held up by the pause ({waited:?}), so this shows nothing"
    );
    // About 100 ticks fit in the pause; a blocked thread allows none.
    assert!(
        during >= 10,
        "only {during} ticks while the call waited {waited:?}: the runtime was blocked"
    );
}
