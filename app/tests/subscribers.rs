//! The one write path of stored subscribers: every change is made under
//! the subscriber's edit lock, so none overwrites another.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use app::alerts::AlertsView;
use app::engine_task::EngineHandle;
use app::outbox::Outbox;
use app::record::Recorder;
use app::subscribers::{SubscriberError, Subscribers};
use engine::{Directory, Engine};
use notifier::notice::{Address, SubscriberId as NoticeId};
use store::{
    DataKey, Device, DeviceChannel, PlaceRecord, Sensitive, SqliteStorage, Storage, SubscriberId,
    SubscriberRecord,
};

fn mqtt(device: &str) -> Device {
    Device {
        channel: DeviceChannel::Mqtt,
        address: Sensitive(device.into()),
        secret: None,
    }
}

fn resident(id: &str) -> SubscriberRecord {
    SubscriberRecord {
        id: SubscriberId(id.into()),
        created_at: chrono::Utc::now(),
        key_hash: store::KeyHash([7; 32]),
        locale: "zh-TW".into(),
        devices: vec![mqtt("old-phone"), mqtt("new-phone")],
        places: vec![PlaceRecord {
            id: 0,
            label: Sensitive("家".into()),
            address: None,
            lon: 123.175,
            lat: 23.05,
            village: None,
        }],
        location: None,
        preferences: store::PreferencesRecord::default(),
        relay: None,
    }
}

fn subscribers(dir: &std::path::Path) -> (Arc<Subscribers>, Arc<dyn Storage>) {
    let (subscribers, storage, _) = subscribers_with(dir, &[]);
    (subscribers, storage)
}

/// The write path over an engine in which `in_force` are already in force
/// (demo messages, by file name); also returns the alerts view.
fn subscribers_with(
    dir: &std::path::Path,
    in_force: &[&str],
) -> (Arc<Subscribers>, Arc<dyn Storage>, Arc<AlertsView>) {
    let storage: Arc<dyn Storage> =
        Arc::new(SqliteStorage::open(dir, DataKey::generate()).unwrap());
    let atlas = Arc::new(geodata::demo::atlas());
    let mut engine = Engine::new(
        atlas.clone(),
        geodata::demo::shelters().unwrap(),
        Directory::default(),
        "https://demo.invalid/a",
    )
    .unwrap();
    for name in in_force {
        let path = format!("{}/../demo/cap/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(path).unwrap();
        let document = cap::parse_document(&bytes, &cap::Limits::default()).unwrap();
        let alert = document.messages[0].alert.clone().unwrap();
        engine
            .handle(
                &ingest::lifecycle::LifecycleEvent::New(alert),
                chrono::Utc::now(),
            )
            .unwrap();
    }
    let view = Arc::new(AlertsView::new());
    let recorder = Arc::new(Recorder::new(
        storage.clone(),
        Outbox::new(storage.queue()),
        view.clone(),
        Arc::new(notifier::channel::live::LiveChannel::new(16)),
    ));
    let subscribers = Subscribers::new(
        storage.clone(),
        ingest::clock::system_clock(),
        atlas,
        EngineHandle::spawn(engine),
        view.clone(),
        recorder,
    );
    (Arc::new(subscribers), storage, view)
}

/// People sign up during typhoons: someone who subscribes while an alert
/// covers their place is told at once — queued to their devices, in their
/// inbox and in "my alerts" — and saving again tells them nothing more.
#[tokio::test]
async fn someone_subscribing_during_an_alert_is_told_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (subscribers, storage, view) = subscribers_with(dir.path(), &["01-debris-flow-yellow.xml"]);
    let id = SubscriberId("s_late".into());
    subscribers.create(resident(&id.0)).await.unwrap();

    let mine = view.for_subscriber(&id);
    assert_eq!(mine.len(), 1, "my alerts shows the alert in force");
    assert_eq!(mine[0].kind, "new");
    assert!(mine[0].body.contains("起生效中"), "{}", mine[0].body);
    let inbox = storage.inbox(&id, 10).await.unwrap();
    assert_eq!(inbox.len(), 1);
    let queued = storage.queue().depth().await.unwrap().total();
    assert_eq!(queued, 2, "queued to both their devices");

    // Saving their settings again tells them nothing more.
    subscribers
        .edit(&id, |record| {
            record.locale = "en".into();
            Ok::<_, SubscriberError>(true)
        })
        .await
        .unwrap();
    assert_eq!(storage.inbox(&id, 10).await.unwrap().len(), 1);
    assert_eq!(storage.queue().depth().await.unwrap().total(), queued);
}

/// A device reported dead while the resident's own edit is under way:
/// the removal waits for that edit, then applies to what it wrote, so
/// both changes are kept. (Written without the lock, the removal would
/// write the record it read before the resident's edit, or the
/// resident's edit would write the dead device back.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dead_device_removal_waits_for_a_residents_edit_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (subscribers, storage) = subscribers(dir.path());
    let id = SubscriberId("s_dead_device".into());
    subscribers.create(resident(&id.0)).await.unwrap();

    // The resident's edit has read the record and is changing it.
    let entered = Arc::new(Barrier::new(2));
    let proceed = Arc::new(Barrier::new(2));
    let resident_edit = tokio::spawn({
        let (subscribers, id) = (subscribers.clone(), id.clone());
        let (entered, proceed) = (entered.clone(), proceed.clone());
        async move {
            subscribers
                .edit(&id, |record| {
                    entered.wait();
                    proceed.wait();
                    record.preferences.languages.push("en".into());
                    Ok::<_, SubscriberError>(true)
                })
                .await
        }
    });
    let waiting = entered.clone();
    tokio::task::spawn_blocking(move || waiting.wait())
        .await
        .unwrap();

    let removal = tokio::spawn({
        let subscribers = subscribers.clone();
        let dead = vec![(
            NoticeId(id.0.clone()),
            Address::Mqtt {
                device: "old-phone".into(),
            },
        )];
        async move { subscribers.disable_dead_addresses(dead).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let during = storage.subscriber(&id).await.unwrap().unwrap();
    // Let the resident's edit finish before asserting, so that a failure
    // fails instead of leaving the edit blocked.
    tokio::task::spawn_blocking(move || proceed.wait())
        .await
        .unwrap();
    assert_eq!(
        during.devices.len(),
        2,
        "the removal wrote while the resident's edit was under way"
    );
    resident_edit.await.unwrap().unwrap();
    removal.await.unwrap();
    let stored = storage.subscriber(&id).await.unwrap().unwrap();
    assert_eq!(
        stored.preferences.languages,
        ["en"],
        "the resident's change"
    );
    let devices: Vec<&str> = stored.devices.iter().map(|d| d.address.expose()).collect();
    assert_eq!(devices, ["new-phone"], "the dead device's removal");
}

/// A change that leaves the record unusable is refused with the field to
/// blame, and nothing is written.
#[tokio::test]
async fn an_invalid_change_names_its_field_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (subscribers, storage) = subscribers(dir.path());
    let id = SubscriberId("s_invalid".into());
    subscribers.create(resident(&id.0)).await.unwrap();
    let error = subscribers
        .edit(&id, |record| {
            record.places[0].lon = 0.0;
            record.places[0].lat = 0.0;
            Ok::<_, SubscriberError>(true)
        })
        .await
        .unwrap_err();
    match error {
        SubscriberError::Invalid(error) => assert_eq!(error.field(), Some("places[0]")),
        other => panic!("not refused as invalid: {other}"),
    }
    let stored = storage.subscriber(&id).await.unwrap().unwrap();
    assert_eq!(stored.places[0].lon, 123.175, "nothing written");
}

/// Erasure removes the record; a later edit finds nobody.
#[tokio::test]
async fn a_deleted_subscriber_is_gone_for_later_edits() {
    let dir = tempfile::tempdir().unwrap();
    let (subscribers, storage) = subscribers(dir.path());
    let id = SubscriberId("s_gone".into());
    subscribers.create(resident(&id.0)).await.unwrap();
    subscribers.delete(&id).await.unwrap();
    assert!(storage.subscriber(&id).await.unwrap().is_none());
    let edited = subscribers
        .edit(&id, |_| Ok::<_, SubscriberError>(true))
        .await
        .unwrap();
    assert!(edited.is_none());
}
