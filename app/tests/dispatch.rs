//! The dispatch worker of the application: a resident with two phones,
//! the dead one's token listed first. The live phone is told, and the
//! dead one is removed from the resident's record.

use std::sync::Arc;
use std::time::Duration;

use app::{App, Parts};
use engine::{Directory, Engine};
use ingest::feed::pipeline::{Pipeline, PipelineConfig};
use ingest::source::SourceId;
use notifier::Locale;
use notifier::channel::fcm::{FcmChannel, FcmConfig};
use notifier::channel::live::LiveChannel;
use notifier::notice::{Address, DeviceToken};
use notifier::queue::DeliveryKey;
use notifier::queue::DeliveryStatus;
use notifier::queue::dispatch::{Channels, DispatchConfig, Until};
use notifier::testing::fcm::FcmContract;
use notifier::testing::sample_delivery;
use store::{
    DataKey, Device, DeviceChannel, PlaceRecord, Sensitive, SqliteStorage, Storage, SubscriberId,
    SubscriberRecord,
};

const DEAD: &str = "dead-phone-token-7Qx2";
const LIVE: &str = "live-phone-token-9Kd4";

fn fcm(token: &str) -> Device {
    Device {
        channel: DeviceChannel::Fcm,
        address: Sensitive(token.into()),
        secret: None,
    }
}

fn resident(id: &SubscriberId) -> SubscriberRecord {
    SubscriberRecord {
        id: id.clone(),
        created_at: chrono::Utc::now(),
        key_hash: store::KeyHash([7; 32]),
        locale: "zh-TW".into(),
        devices: vec![fcm(DEAD), fcm(LIVE)],
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

async fn app(dir: &std::path::Path) -> Arc<App> {
    let storage: Arc<dyn Storage> =
        Arc::new(SqliteStorage::open(dir, DataKey::generate()).unwrap());
    let atlas = Arc::new(geodata::demo::atlas());
    let engine = Engine::new(
        atlas.clone(),
        geodata::demo::shelters().unwrap(),
        Directory::default(),
        "https://demo.invalid/a",
    )
    .unwrap();
    let clock = ingest::clock::system_clock();
    let (events, _) = tokio::sync::mpsc::channel(8);
    let pipeline = Pipeline::new(
        clock.clone(),
        storage.archive(),
        Vec::new(),
        events,
        PipelineConfig::default(),
    )
    .await
    .unwrap();
    Arc::new(App::new(Parts {
        storage,
        clock,
        atlas,
        gazetteer: None,
        engine,
        pipeline: Arc::new(pipeline),
        issuer_source: SourceId::new("issuers"),
        relief: Arc::new(notifier::relief::Catalogue::default()),
        live: Arc::new(LiveChannel::new(16)),
    }))
}

#[tokio::test]
async fn a_dead_phone_listed_first_is_removed_and_the_live_one_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let id = SubscriberId("s_two_phones".into());
    app.subscribers.create(resident(&id)).await.unwrap();

    // What the flow queues for this resident: one delivery per phone, in
    // the order of the record.
    let deliveries: Vec<_> = [DEAD, LIVE]
        .into_iter()
        .map(|token| {
            sample_delivery(
                &id.0,
                Address::Fcm {
                    token: DeviceToken::new(token),
                },
                Locale::ZhTw,
            )
        })
        .collect();
    let queue = app.outbox.delivery_queue().clone();
    assert_eq!(queue.enqueue_many(deliveries.clone()).await.unwrap(), 2);

    let peer = FcmContract::start().await;
    peer.unregister(DEAD);
    let channels = Channels::new().with(Arc::new(
        FcmChannel::new(
            peer.service_account(),
            FcmConfig {
                base_url: peer.base_url.clone(),
                ..FcmConfig::default()
            },
        )
        .unwrap(),
    ));
    let totals = app::dispatch::dispatcher(
        app.clone(),
        channels,
        DispatchConfig::default(),
        Duration::ZERO,
        Until::Drained,
    )
    .await
    .unwrap();

    assert_eq!((totals.sent, totals.invalid), (1, 1));
    let accepted = peer.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["token"], LIVE, "the live phone is told");
    assert_eq!(
        queue
            .status(&DeliveryKey::of(&deliveries[0]))
            .await
            .unwrap(),
        Some(DeliveryStatus::InvalidAddress)
    );
    let stored = app.storage.subscriber(&id).await.unwrap().unwrap();
    let devices: Vec<&str> = stored.devices.iter().map(|d| d.address.expose()).collect();
    assert_eq!(devices, [LIVE], "the dead phone is removed");
}
