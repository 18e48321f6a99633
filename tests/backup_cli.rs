//! `hazardline backup` / `hazardline restore` on a real embedded store.

use std::path::Path;
use std::process::Command;

use store::{
    DataKey, KeyHash, PreferencesRecord, Sensitive, SqliteStorage, Storage, SubscriberId,
    SubscriberRecord,
};

fn hazardline(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hazardline"))
        .args(args)
        .output()
        .expect("run hazardline");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn subscriber(n: u8) -> SubscriberRecord {
    SubscriberRecord {
        id: SubscriberId(format!("s_{n}")),
        created_at: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
        key_hash: KeyHash([n; 32]),
        locale: "en".into(),
        devices: vec![store::Device {
            channel: store::DeviceChannel::Email,
            address: Sensitive(format!("resident{n}@example.com")),
            secret: None,
        }],
        places: vec![],
        location: None,
        preferences: PreferencesRecord::default(),
        relay: None,
    }
}

async fn write(data: &Path, key: &DataKey, record: &SubscriberRecord) {
    let store = SqliteStorage::open(data, key.clone()).unwrap();
    store.put_subscriber(record).await.unwrap();
}

async fn read(data: &Path, key: &DataKey, id: &str) -> Option<SubscriberRecord> {
    let store = SqliteStorage::open(data, key.clone()).unwrap();
    store.subscriber(&SubscriberId(id.into())).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_then_restore_brings_back_that_moment() {
    let root = tempfile::tempdir().unwrap();
    let (data, snapshot) = (root.path().join("data"), root.path().join("backup"));
    let key = DataKey::generate();
    write(&data, &key, &subscriber(1)).await;

    let (code, stdout, stderr) =
        hazardline(&["backup", "--data", path(&data), "--to", path(&snapshot)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("backed up"), "{stdout}");
    for file in store::sqlite::FILES {
        assert!(snapshot.join(file).is_file(), "{file}");
    }

    write(&data, &key, &subscriber(2)).await;

    // The data directory is in use: refused without --force, untouched.
    let (code, _, stderr) =
        hazardline(&["restore", "--from", path(&snapshot), "--data", path(&data)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert!(read(&data, &key, "s_2").await.is_some());

    let (code, _, stderr) = hazardline(&[
        "restore",
        "--from",
        path(&snapshot),
        "--data",
        path(&data),
        "--force",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(read(&data, &key, "s_1").await, Some(subscriber(1)));
    assert_eq!(
        read(&data, &key, "s_2").await,
        None,
        "written after the backup"
    );

    // Into a new, empty place no --force is needed.
    let fresh = root.path().join("fresh");
    let (code, _, stderr) =
        hazardline(&["restore", "--from", path(&snapshot), "--data", path(&fresh)]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(read(&fresh, &key, "s_1").await, Some(subscriber(1)));
}

#[test]
fn refuses_what_is_not_a_store_or_a_backup() {
    let root = tempfile::tempdir().unwrap();
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, _, stderr) = hazardline(&[
        "backup",
        "--data",
        path(&empty),
        "--to",
        path(&root.path().join("b")),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no embedded store"), "{stderr}");

    let (code, _, stderr) = hazardline(&[
        "restore",
        "--from",
        path(&empty),
        "--data",
        path(&root.path().join("d")),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("not a backup"), "{stderr}");
}
