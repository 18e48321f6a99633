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
        .await
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
            .await
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

/// Every file and folder of the embedded store, and of its backups and
/// restores, is readable by its owner only; an existing data directory
/// with looser permissions is narrowed when the store opens it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_files_backups_and_restores_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A file left by an earlier version, world-readable.
    let service = data.join(store::sqlite::SERVICE_FILE);
    std::fs::write(&service, b"").unwrap();
    std::fs::set_permissions(&service, std::fs::Permissions::from_mode(0o644)).unwrap();

    let key = DataKey::generate();
    let store = SqliteStorage::open(&data, key.clone()).unwrap();
    store.put_subscriber(&subscriber(1)).await.unwrap();
    store
        .queue()
        .enqueue(notifier::testing::sample_delivery(
            "s_0001",
            notifier::notice::Address::Sms {
                to: notifier::notice::PhoneNumber::new("+886912345678"),
            },
            notifier::Locale::En,
        ))
        .await
        .unwrap();
    assert_eq!(mode(&data), 0o700, "data directory");
    for file in store::sqlite::FILES {
        for suffix in ["", "-wal", "-shm"] {
            let path = data.join(format!("{file}{suffix}"));
            if suffix.is_empty() || path.exists() {
                assert_eq!(mode(&path), 0o600, "{}", path.display());
            }
        }
    }
    assert!(
        data.join(format!("{}-wal", store::sqlite::QUEUE_FILE))
            .exists()
    );

    let snapshot = root.path().join("backups/first");
    store.backup(&snapshot).await.unwrap();
    drop(store);
    assert_eq!(mode(&snapshot), 0o700, "backup directory");
    for file in store::sqlite::FILES {
        assert_eq!(mode(&snapshot.join(file)), 0o600, "backup of {file}");
    }
    let restored = root.path().join("restored");
    store::sqlite::restore(&snapshot, &restored).unwrap();
    assert_eq!(mode(&restored), 0o700, "restored directory");
    for file in store::sqlite::FILES {
        assert_eq!(mode(&restored.join(file)), 0o600, "restored {file}");
    }
    let reopened = SqliteStorage::open(&restored, key).unwrap();
    assert_eq!(reopened.queue().depth().await.unwrap().total(), 1);
}
