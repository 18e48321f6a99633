//! The whole notifier path against contract peers: fan-out, a queue (the
//! in-memory one: the durable queues are tested in the store crate), a
//! worker step through FCM and SMS, statuses, and a re-run of the fan-out
//! that sends nothing twice.

use std::sync::Arc;
use std::time::Duration;

use notifier::channel::fcm::{FcmChannel, FcmConfig};
use notifier::channel::sms::{SmsChannel, SmsConfig};
use notifier::notice::{Address, DeviceToken, PhoneNumber, Recipient, Secret, SubscriberId};
use notifier::policy::Loudness;
use notifier::queue::dispatch::{Channels, DispatchConfig, dispatch_batch};
use notifier::queue::memory::MemoryQueue;
use notifier::queue::{DeliveryQueue, QueueConfig, StatusCounts};
use notifier::render::Budgets;
use notifier::testing::fcm::FcmContract;
use notifier::testing::sample_notice;
use notifier::testing::sms::SmsContract;
use notifier::{Locale, RecipientPlace, Renderer, fanout};

fn recipients() -> Vec<Recipient> {
    let locales = [Locale::ZhTw, Locale::Vi, Locale::Id, Locale::Th];
    (0..4)
        .map(|i| Recipient {
            subscriber: SubscriberId(format!("s-{i}")),
            locale: locales[i],
            addresses: vec![
                Address::Fcm {
                    token: DeviceToken::new(format!("token-{i}")),
                },
                Address::Sms {
                    to: PhoneNumber::new(format!("+88691200000{i}")),
                },
            ],
        })
        .collect()
}

#[tokio::test]
async fn fan_out_queue_and_deliver_once() {
    let fcm_peer = FcmContract::start().await;
    let sms_peer = SmsContract::start().await;
    fcm_peer.unregister("token-3");
    let channels = Channels::new()
        .with(Arc::new(
            FcmChannel::new(
                fcm_peer.service_account(),
                FcmConfig {
                    base_url: fcm_peer.base_url.clone(),
                    ..FcmConfig::default()
                },
            )
            .unwrap(),
        ))
        .with(Arc::new(
            SmsChannel::new(SmsConfig {
                base_url: sms_peer.base_url.clone(),
                account_sid: sms_peer.account_sid.clone(),
                auth_token: Secret::new(sms_peer.auth_token.clone()),
                from: "Hazardline".into(),
                budgets: Budgets::default(),
                request_timeout: Duration::from_secs(5),
            })
            .unwrap(),
        ));
    let queue = MemoryQueue::new(QueueConfig::default());
    let renderer = Renderer::new().unwrap();
    let notice = sample_notice();
    let place = RecipientPlace {
        name: "Xinyi".into(),
        shelter: None,
    };

    let fan_out = || async {
        let mut queued = 0;
        for recipient in recipients() {
            for delivery in fanout::deliveries(
                &renderer,
                &notice,
                &recipient,
                &place,
                Loudness::Audible,
                None,
            )
            .unwrap()
            {
                queued += usize::from(queue.enqueue(delivery).await.unwrap());
            }
        }
        queued
    };
    assert_eq!(fan_out().await, 8);
    let report = dispatch_batch(&queue, &channels, &DispatchConfig::default())
        .await
        .unwrap();
    assert_eq!((report.claimed, report.sent), (8, 7));
    assert_eq!(report.invalid.len(), 1);
    assert_eq!(report.invalid[0].0, SubscriberId("s-3".into()));
    assert_eq!(
        queue.alert_status(&notice.alert).await.unwrap(),
        StatusCounts {
            sent: 7,
            invalid_address: 1,
            ..StatusCounts::default()
        }
    );

    // The fan-out runs again (a restart, a duplicate alert): nothing new.
    assert_eq!(fan_out().await, 0);
    let report = dispatch_batch(&queue, &channels, &DispatchConfig::default())
        .await
        .unwrap();
    assert_eq!(report.claimed, 0);
    assert_eq!(fcm_peer.accepted().len(), 3);
    assert_eq!(sms_peer.sent().len(), 4);
    let vi = fcm_peer
        .accepted()
        .into_iter()
        .find(|m| m["token"] == "token-1")
        .unwrap();
    assert_eq!(vi["data"]["locale"], "vi");
}
