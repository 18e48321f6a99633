//! Ingest's archive contract, run against the Redis archive (restarting
//! the server from its AOF between writing and reading) and against the
//! SQLite archive the embedded store opens.

#[path = "../../ingest/tests/sources_support/mod.rs"]
mod sources_support;

use std::cell::RefCell;

use ingest::source::SourceId;
use ingest::store::{AlertArchive, NewRecord, Verdict};
use notifier::testing::redis_server::RedisServer;
use sources_support::archive_contract::archive_contract;
use sources_support::utc;
use store::RedisArchive;

#[test]
fn redis_archive_keeps_every_message_across_restarts() {
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
        RedisArchive::open(&url, "hl").unwrap()
    });
    assert_eq!(*opened.borrow(), 2);
}

#[test]
fn embedded_store_archive_keeps_every_message_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let key = store::DataKey::generate();
    archive_contract(|| {
        let storage = store::SqliteStorage::open(dir.path(), key.clone()).unwrap();
        ArchiveOf(store::Storage::archive(&storage))
    });
}

/// The archive of a store, owned.
struct ArchiveOf(std::sync::Arc<dyn AlertArchive>);

impl AlertArchive for ArchiveOf {
    fn record(
        &self,
        r: &NewRecord<'_>,
    ) -> Result<ingest::store::Recorded, ingest::store::StoreError> {
        self.0.record(r)
    }
    fn find_accepted(
        &self,
        key: &ingest::model::MessageKey,
    ) -> Result<Option<ingest::store::StoredMessage>, ingest::store::StoreError> {
        self.0.find_accepted(key)
    }
    fn rejected(
        &self,
        limit: usize,
    ) -> Result<Vec<ingest::store::StoredMessage>, ingest::store::StoreError> {
        self.0.rejected(limit)
    }
    fn accepted_since(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ingest::store::AcceptedMessage>, ingest::store::StoreError> {
        self.0.accepted_since(since)
    }
    fn count(&self, verdict: Verdict) -> Result<u64, ingest::store::StoreError> {
        self.0.count(verdict)
    }
}

#[test]
fn redis_archive_carries_on_after_redis_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = RedisServer::start(dir.path()) else {
        eprintln!("redis-server not found: skipping");
        return;
    };
    let archive = RedisArchive::open(&server.url(), "hl").unwrap();
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
    assert!(archive.record(&reject(b"one")).unwrap().new);
    let _server = server.crash_and_restart().unwrap();
    // The same archive value, its connection now broken: the next call
    // reconnects by itself.
    assert!(archive.record(&reject(b"two")).unwrap().new);
    assert_eq!(archive.count(Verdict::Rejected).unwrap(), 2);
}
