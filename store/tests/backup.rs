//! Backup and restore of the embedded store, on real files; the Redis store
//! refuses to back up (Redis keeps its own AOF).

mod support;

use store::*;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_running_restores_to_that_moment() {
    let data = tempfile::tempdir().unwrap();
    let backups = tempfile::tempdir().unwrap();
    let key = DataKey::generate();
    let store = SqliteStorage::open(data.path(), key.clone()).unwrap();
    let before = subscriber(1);
    store.put_subscriber(&before).await.unwrap();
    store.append_audit(audit_entry(1, "a")).await.unwrap();
    store
        .archive()
        .record(&ingest::store::NewRecord {
            source: &ingest::source::SourceId::new("ncdr"),
            received_at: at("2026-11-22T08:00:00Z"),
            verdict: ingest::store::Verdict::Rejected,
            reason: Some("not_cap"),
            detail: None,
            alert: None,
            key: None,
            raw: b"<html/>",
            authority: None,
        })
        .unwrap();

    let snapshot = backups.path().join("2026-11-22");
    store.backup(&snapshot).await.unwrap();
    for file in store::sqlite::FILES {
        assert!(snapshot.join(file).is_file(), "{file} backed up");
    }
    // A second backup into the same place would mix two moments: refused.
    assert!(matches!(
        store.backup(&snapshot).await,
        Err(StoreError::Conflict(_))
    ));

    // Written after the backup: not in it.
    let after = subscriber(2);
    store.put_subscriber(&after).await.unwrap();
    store.append_audit(audit_entry(2, "b")).await.unwrap();
    drop(store);

    // Restore over the live data directory (WAL files and all).
    store::sqlite::restore(&snapshot, data.path()).unwrap();
    let restored = SqliteStorage::open(data.path(), key.clone()).unwrap();
    assert_eq!(restored.subscriber(&before.id).await.unwrap(), Some(before));
    assert_eq!(restored.subscriber(&after.id).await.unwrap(), None);
    assert_eq!(verify_stored_audit_log(&restored).await.unwrap(), Ok(1));
    assert_eq!(
        restored
            .archive()
            .count(ingest::store::Verdict::Rejected)
            .unwrap(),
        1
    );
    // The backup is sealed like the store: another key opens nothing.
    let elsewhere = tempfile::tempdir().unwrap();
    store::sqlite::restore(&snapshot, elsewhere.path()).unwrap();
    let wrong = SqliteStorage::open(elsewhere.path(), DataKey::generate()).unwrap();
    assert!(matches!(
        wrong.all_subscribers().await,
        Err(StoreError::Seal(_))
    ));
}

#[test]
fn restore_refuses_what_is_not_a_backup() {
    let empty = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let error = store::sqlite::restore(empty.path(), target.path()).unwrap_err();
    assert!(error.to_string().contains("not a backup"), "{error}");

    let garbage = tempfile::tempdir().unwrap();
    std::fs::write(garbage.path().join("service.sqlite"), vec![0x55; 8192]).unwrap();
    assert!(store::sqlite::restore(garbage.path(), target.path()).is_err());
    assert_eq!(
        std::fs::read_dir(target.path()).unwrap().count(),
        0,
        "nothing touched when the backup is bad"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_store_leaves_backups_to_redis() {
    let Some(backend) = Backend::redis() else {
        return;
    };
    let store = backend.open().await;
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        store.backup(dir.path()).await,
        Err(StoreError::Unsupported(_))
    ));
}
