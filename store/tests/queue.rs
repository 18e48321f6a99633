//! One test suite, three delivery queues: embedded SQLite, Redis Streams,
//! and the notifier's in-memory queue (so that the fake the notifier's own
//! tests use behaves like the real ones).

use std::sync::Arc;
use std::time::Duration;

use notifier::Locale;
use notifier::channel::fcm::{FcmChannel, FcmConfig};
use notifier::channel::{Channel, Delivery, Outcome, SendFuture};
use notifier::notice::Recipient;
use notifier::notice::{Address, AlertVersion, ChannelKind, DeviceToken, NoticeKind, SubscriberId};
use notifier::policy::Loudness;
use notifier::queue::dispatch::{Channels, DispatchConfig, Until, dispatch_batch, run_dispatcher};
use notifier::queue::{
    DeliveryKey, DeliveryQueue, DeliveryStatus, Lane, QueueConfig, QueueDepth, Sealer, StatusCounts,
};
use notifier::testing::fcm::FcmContract;
use notifier::testing::sample_delivery;
use notifier::testing::sealer::KeySealer;
use notifier::{RecipientPlace, Renderer, fanout};

fn delivery(subscriber: &str, lane: Lane) -> Delivery {
    let mut d = sample_delivery(
        subscriber,
        Address::Fcm {
            token: DeviceToken::new(format!("tok-{subscriber}")),
        },
        Locale::En,
    );
    match lane {
        Lane::Urgent => d.facts.urgent = true,
        Lane::Normal => d.facts.urgent = false,
        Lane::Background => {
            d.facts.urgent = false;
            d.facts.kind = NoticeKind::Relief;
        }
    }
    d
}

const LEASE: Duration = Duration::from_millis(300);

/// The key `d` was stored under before devices were part of the key.
fn old_key(d: &Delivery) -> String {
    format!(
        "{}|{}|{}",
        d.channel().as_str(),
        d.subscriber,
        d.facts.alert
    )
}

mod suite {
    use super::*;

    pub async fn once_per_key(q: &dyn DeliveryQueue) {
        let d = delivery("s-1", Lane::Normal);
        assert!(q.enqueue(d.clone()).await.unwrap());
        assert!(
            !q.enqueue(d.clone()).await.unwrap(),
            "same key queued twice"
        );
        // Another channel or subscriber is another key.
        let mut by_sms = d.clone();
        by_sms.address = Address::Sms {
            to: notifier::notice::PhoneNumber::new("+886912000000"),
        };
        assert!(q.enqueue(by_sms).await.unwrap());
        let jobs = q.claim("w1", 10, LEASE).await.unwrap();
        assert_eq!(jobs.len(), 2);
        for job in &jobs {
            assert_eq!(job.attempts, 1);
            assert_eq!(
                q.complete(job, &Outcome::Sent).await.unwrap(),
                DeliveryStatus::Sent
            );
        }
        // Still known after delivery: a re-run of the fan-out sends nothing.
        assert!(!q.enqueue(d.clone()).await.unwrap());
        assert!(q.claim("w1", 10, LEASE).await.unwrap().is_empty());
        assert_eq!(
            q.status(&DeliveryKey::of(&d)).await.unwrap(),
            Some(DeliveryStatus::Sent)
        );
    }

    pub async fn urgent_first(q: &dyn DeliveryQueue) {
        q.enqueue(delivery("relief", Lane::Background))
            .await
            .unwrap();
        q.enqueue(delivery("normal", Lane::Normal)).await.unwrap();
        q.enqueue(delivery("urgent", Lane::Urgent)).await.unwrap();
        let mut order = Vec::new();
        for _ in 0..3 {
            let jobs = q.claim("w1", 1, LEASE).await.unwrap();
            assert_eq!(jobs.len(), 1);
            order.push((jobs[0].delivery.subscriber.0.clone(), jobs[0].lane));
            q.complete(&jobs[0], &Outcome::Sent).await.unwrap();
        }
        assert_eq!(
            order,
            vec![
                ("urgent".to_string(), Lane::Urgent),
                ("normal".to_string(), Lane::Normal),
                ("relief".to_string(), Lane::Background)
            ]
        );
    }

    pub async fn crashed_worker_is_replaced(q: &dyn DeliveryQueue) {
        q.enqueue(delivery("s-2", Lane::Normal)).await.unwrap();
        let first = q.claim("doomed", 10, LEASE).await.unwrap();
        assert_eq!(first.len(), 1);
        // While the lease holds, nobody else gets it.
        assert!(q.claim("w2", 10, LEASE).await.unwrap().is_empty());
        tokio::time::sleep(LEASE + Duration::from_millis(100)).await;
        let second = q.claim("w2", 10, LEASE).await.unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].key, first[0].key);
        assert_eq!(second[0].attempts, 2);
        q.complete(&second[0], &Outcome::Sent).await.unwrap();
        assert_eq!(
            q.status(&second[0].key).await.unwrap(),
            Some(DeliveryStatus::Sent)
        );
    }

    pub async fn retries_wait_and_give_up(q: &dyn DeliveryQueue) {
        // The queue under test allows 3 attempts.
        let d = delivery("s-3", Lane::Normal);
        q.enqueue(d.clone()).await.unwrap();
        for attempt in 1..=3 {
            let jobs = q.claim("w1", 10, LEASE).await.unwrap();
            assert_eq!(jobs.len(), 1, "attempt {attempt}");
            assert_eq!(jobs[0].attempts, attempt);
            let status = q
                .complete(
                    &jobs[0],
                    &Outcome::Retry {
                        after: Duration::from_millis(150),
                    },
                )
                .await
                .unwrap();
            if attempt < 3 {
                assert_eq!(status, DeliveryStatus::Pending);
                assert!(
                    q.claim("w1", 10, LEASE).await.unwrap().is_empty(),
                    "retried too early"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            } else {
                assert_eq!(status, DeliveryStatus::Failed);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(q.claim("w1", 10, LEASE).await.unwrap().is_empty());
        assert_eq!(
            q.status(&DeliveryKey::of(&d)).await.unwrap(),
            Some(DeliveryStatus::Failed)
        );
    }

    pub async fn poison_is_given_up(q: &dyn DeliveryQueue) {
        // A delivery whose worker dies on every attempt (3 allowed) ends as
        // failed instead of circulating forever.
        q.enqueue(delivery("poison", Lane::Normal)).await.unwrap();
        for _ in 0..3 {
            assert_eq!(q.claim("w", 10, LEASE).await.unwrap().len(), 1);
            tokio::time::sleep(LEASE + Duration::from_millis(50)).await;
        }
        assert!(q.claim("w", 10, LEASE).await.unwrap().is_empty());
        let d = delivery("poison", Lane::Normal);
        assert_eq!(
            q.status(&DeliveryKey::of(&d)).await.unwrap(),
            Some(DeliveryStatus::Failed)
        );
        assert_eq!(q.alert_status(&d.facts.alert).await.unwrap().failed, 1);
    }

    pub async fn held_until_not_before(q: &dyn DeliveryQueue) {
        let mut d = delivery("night-sms", Lane::Normal);
        d.not_before = Some(chrono::Utc::now() + chrono::Duration::milliseconds(300));
        assert!(q.enqueue(d.clone()).await.unwrap());
        assert!(
            !q.enqueue(d).await.unwrap(),
            "held deliveries are keyed too"
        );
        assert!(
            q.claim("w1", 10, LEASE).await.unwrap().is_empty(),
            "sent during quiet hours"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        let jobs = q.claim("w1", 10, LEASE).await.unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].attempts, 1);
    }

    pub async fn status_per_alert(q: &dyn DeliveryQueue) {
        for name in ["a", "b", "c", "d"] {
            q.enqueue(delivery(name, Lane::Normal)).await.unwrap();
        }
        let alert = delivery("a", Lane::Normal).facts.alert;
        assert_eq!(
            q.alert_status(&alert).await.unwrap(),
            StatusCounts {
                pending: 4,
                ..StatusCounts::default()
            }
        );
        let jobs = q.claim("w1", 3, LEASE).await.unwrap();
        assert_eq!(jobs.len(), 3);
        q.complete(&jobs[0], &Outcome::Sent).await.unwrap();
        q.complete(&jobs[1], &Outcome::InvalidAddress)
            .await
            .unwrap();
        q.complete(&jobs[2], &Outcome::Rejected("INVALID_ARGUMENT".into()))
            .await
            .unwrap();
        assert_eq!(
            q.alert_status(&alert).await.unwrap(),
            StatusCounts {
                pending: 1,
                sent: 1,
                failed: 1,
                invalid_address: 1
            }
        );
    }

    /// `subscriber`'s delivery of its own alert version `n`.
    fn version(subscriber: &str, n: u32) -> Delivery {
        let mut d = delivery(subscriber, Lane::Normal);
        d.facts.alert = AlertVersion(format!("{}#{n}", d.facts.alert.0));
        d
    }

    pub async fn purge_erases_one_subscriber(q: &dyn DeliveryQueue) {
        let gone = SubscriberId("gone".into());
        // Three claimed together: sent, rejected, retried in an hour.
        for n in 1..=3 {
            q.enqueue(version("gone", n)).await.unwrap();
        }
        let jobs = q.claim("w1", 3, LEASE).await.unwrap();
        assert_eq!(jobs.len(), 3);
        q.complete(&jobs[0], &Outcome::Sent).await.unwrap();
        q.complete(&jobs[1], &Outcome::Rejected("no".into()))
            .await
            .unwrap();
        let hour = Duration::from_secs(3600);
        q.complete(&jobs[2], &Outcome::Retry { after: hour })
            .await
            .unwrap();
        // Held for quiet hours, in flight, waiting; someone else's.
        let mut held = version("gone", 4);
        held.not_before = Some(chrono::Utc::now() + chrono::Duration::hours(1));
        q.enqueue(held).await.unwrap();
        q.enqueue(version("gone", 5)).await.unwrap();
        q.enqueue(version("gone", 6)).await.unwrap();
        q.enqueue(version("other", 7)).await.unwrap();
        let in_flight = q.claim("w1", 1, LEASE).await.unwrap();
        assert_eq!(in_flight.len(), 1);
        assert_eq!(in_flight[0].delivery.subscriber, gone);
        assert_eq!(q.depth().await.unwrap().total(), 5);

        assert_eq!(q.purge_subscriber(&gone).await.unwrap(), 6);

        for n in 1..=6 {
            let key = DeliveryKey::of(&version("gone", n));
            assert_eq!(q.status(&key).await.unwrap(), None, "version {n} kept");
            assert_eq!(
                q.alert_status(&key.alert).await.unwrap(),
                StatusCounts::default(),
                "version {n} still counted"
            );
        }
        let other = DeliveryKey::of(&version("other", 7));
        assert_eq!(
            q.status(&other).await.unwrap(),
            Some(DeliveryStatus::Pending)
        );
        assert_eq!(q.depth().await.unwrap().total(), 1);
        // The worker holding one in flight finishes its send; nothing of
        // it comes back.
        q.complete(&in_flight[0], &Outcome::Sent).await.unwrap();
        assert_eq!(q.status(&in_flight[0].key).await.unwrap(), None);
        // Nothing of theirs is ever handed out again, even once due.
        let jobs = q.claim("w1", 10, LEASE).await.unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].key, other);
        assert_eq!(q.purge_subscriber(&gone).await.unwrap(), 0);
        assert_eq!(
            q.purge_subscriber(&SubscriberId("other".into()))
                .await
                .unwrap(),
            1
        );
        assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
    }

    pub async fn depth_per_lane_and_channel(q: &dyn DeliveryQueue) {
        assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
        let before = chrono::Utc::now();
        q.enqueue(delivery("u1", Lane::Urgent)).await.unwrap();
        q.enqueue(delivery("u2", Lane::Urgent)).await.unwrap();
        let mut sms = delivery("n1", Lane::Normal);
        sms.address = Address::Sms {
            to: notifier::notice::PhoneNumber::new("+886912000000"),
        };
        q.enqueue(sms).await.unwrap();
        let mut held = delivery("held", Lane::Background);
        held.not_before = Some(chrono::Utc::now() + chrono::Duration::hours(1));
        q.enqueue(held).await.unwrap();
        let after = chrono::Utc::now();

        let depth = q.depth().await.unwrap();
        let expected: std::collections::BTreeMap<_, _> = [
            ((Lane::Urgent, ChannelKind::Fcm), 2),
            ((Lane::Normal, ChannelKind::Sms), 1),
            ((Lane::Background, ChannelKind::Fcm), 1),
        ]
        .into();
        assert_eq!(depth.pending, expected);
        assert_eq!(depth.total(), 4);
        let oldest = depth.oldest_due.expect("due deliveries wait");
        assert!(oldest >= before - chrono::Duration::milliseconds(1) && oldest <= after);

        // Claimed is still pending; finished is not; a retry keeps its
        // first due time.
        let jobs = q.claim("w1", 3, LEASE).await.unwrap();
        assert_eq!(jobs.len(), 3);
        q.complete(&jobs[0], &Outcome::Sent).await.unwrap();
        q.complete(
            &jobs[1],
            &Outcome::Retry {
                after: Duration::from_secs(3600),
            },
        )
        .await
        .unwrap();
        let depth = q.depth().await.unwrap();
        assert_eq!(depth.total(), 3);
        assert_eq!(
            depth.pending.get(&(Lane::Urgent, ChannelKind::Fcm)),
            Some(&1)
        );
        assert!(depth.oldest_due.is_some_and(|due| due <= after));
        q.complete(&jobs[2], &Outcome::Sent).await.unwrap();
        q.purge_subscriber(&jobs[1].delivery.subscriber)
            .await
            .unwrap();
        // Only the held one is left: pending, but not yet waiting.
        let depth = q.depth().await.unwrap();
        assert_eq!(
            depth.pending,
            [((Lane::Background, ChannelKind::Fcm), 1)].into()
        );
        assert_eq!(depth.oldest_due, None);
        assert_eq!(depth.oldest_age(chrono::Utc::now()), Duration::ZERO);
    }

    /// Two phones and a phone number of one person, one alert version: a
    /// delivery to each, every one claimable; queued again, none.
    pub async fn every_device_of_a_subscriber(q: &dyn DeliveryQueue) {
        let first = delivery("two-phones", Lane::Normal);
        let mut second = first.clone();
        second.address = Address::Fcm {
            token: DeviceToken::new("tok-two-phones-second"),
        };
        let mut sms = first.clone();
        sms.address = Address::Sms {
            to: notifier::notice::PhoneNumber::new("+886912000001"),
        };
        let all = vec![first.clone(), second.clone(), sms.clone()];
        assert_eq!(q.enqueue_many(all.clone()).await.unwrap(), 3);
        assert!(!q.enqueue(second.clone()).await.unwrap());
        assert_eq!(q.enqueue_many(all.clone()).await.unwrap(), 0);
        let jobs = q.claim("w1", 10, LEASE).await.unwrap();
        assert_eq!(jobs.len(), 3);
        for d in &all {
            assert!(
                jobs.iter().any(|job| job.delivery == *d),
                "{:?} not claimed",
                d.address
            );
        }
        let keys: std::collections::HashSet<DeliveryKey> =
            jobs.iter().map(|job| job.key.clone()).collect();
        assert_eq!(keys.len(), 3);
        let results: Vec<_> = jobs.into_iter().map(|job| (job, Outcome::Sent)).collect();
        q.complete_many(&results).await.unwrap();
        for d in &all {
            assert_eq!(
                q.status(&DeliveryKey::of(d)).await.unwrap(),
                Some(DeliveryStatus::Sent)
            );
        }
        assert_eq!(
            q.alert_status(&first.facts.alert).await.unwrap(),
            StatusCounts {
                sent: 3,
                ..StatusCounts::default()
            }
        );
        assert!(q.claim("w1", 10, LEASE).await.unwrap().is_empty());
    }

    /// A person with two phones, the dead one's token listed first, told
    /// through the real fan-out, this queue, the dispatch loop and the FCM
    /// client against the FCM contract peer: the live phone gets the
    /// message, the dead one's delivery alone ends as a dead address.
    pub async fn a_dead_device_does_not_take_the_live_ones_send(q: &dyn DeliveryQueue) {
        let peer = FcmContract::start().await;
        peer.unregister("tok-dead-phone");
        let fcm = FcmChannel::new(
            peer.service_account(),
            FcmConfig {
                base_url: peer.base_url.clone(),
                ..FcmConfig::default()
            },
        )
        .unwrap();
        let channels = Channels::new().with(Arc::new(fcm));
        let dead = Address::Fcm {
            token: DeviceToken::new("tok-dead-phone"),
        };
        let live = Address::Fcm {
            token: DeviceToken::new("tok-live-phone"),
        };
        let recipient = Recipient {
            subscriber: SubscriberId("s-two-phones".into()),
            locale: Locale::ZhTw,
            addresses: vec![dead.clone(), live.clone()],
        };
        let notice = notifier::testing::sample_notice();
        let place = RecipientPlace {
            name: "Xinyi".into(),
            shelter: None,
        };
        let deliveries = fanout::deliveries(
            &Renderer::new().unwrap(),
            &notice,
            &recipient,
            &place,
            Loudness::Audible,
            None,
        )
        .unwrap();
        assert_eq!(deliveries.len(), 2);
        assert_eq!(deliveries[0].address, dead, "the dead one comes first");
        assert_eq!(q.enqueue_many(deliveries.clone()).await.unwrap(), 2);

        let mut reported = Vec::new();
        let config = DispatchConfig {
            lease: LEASE,
            ..DispatchConfig::default()
        };
        let totals = run_dispatcher(
            q,
            &channels,
            &config,
            Duration::ZERO,
            Until::Drained,
            |report| {
                reported.extend(report.invalid);
                std::future::ready(())
            },
        )
        .await
        .unwrap();
        assert_eq!((totals.sent, totals.invalid), (1, 1));
        let accepted = peer.accepted();
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0]["token"], "tok-live-phone");
        assert_eq!(reported, vec![(recipient.subscriber.clone(), dead)]);
        assert_eq!(
            q.status(&DeliveryKey::of(&deliveries[0])).await.unwrap(),
            Some(DeliveryStatus::InvalidAddress)
        );
        assert_eq!(
            q.status(&DeliveryKey::of(&deliveries[1])).await.unwrap(),
            Some(DeliveryStatus::Sent)
        );
        assert_eq!(
            q.alert_status(&notice.alert).await.unwrap(),
            StatusCounts {
                sent: 1,
                invalid_address: 1,
                ..StatusCounts::default()
            }
        );
    }

    /// Answers from a script, one outcome per send.
    struct Scripted(std::sync::Mutex<Vec<Outcome>>);

    impl Channel for Scripted {
        fn kind(&self) -> ChannelKind {
            ChannelKind::Fcm
        }
        fn send<'a>(&'a self, _: &'a Delivery) -> SendFuture<'a> {
            let outcome = self.0.lock().unwrap().pop().unwrap_or(Outcome::Sent);
            Box::pin(async move { outcome })
        }
    }

    pub async fn dispatch_reports_dead_addresses(q: &dyn DeliveryQueue) {
        q.enqueue(delivery("dead", Lane::Normal)).await.unwrap();
        let channels = Channels::new().with(Arc::new(Scripted(std::sync::Mutex::new(vec![
            Outcome::InvalidAddress,
        ]))));
        let config = DispatchConfig {
            lease: LEASE,
            ..DispatchConfig::default()
        };
        let report = dispatch_batch(q, &channels, &config).await.unwrap();
        assert_eq!(report.claimed, 1);
        assert_eq!(report.invalid.len(), 1);
        assert_eq!(report.invalid[0].0.0, "dead");
        // No channel for SMS: rejected, not retried forever.
        let mut sms = delivery("sms", Lane::Normal);
        sms.address = Address::Sms {
            to: notifier::notice::PhoneNumber::new("+886912000000"),
        };
        q.enqueue(sms).await.unwrap();
        let report = dispatch_batch(q, &channels, &config).await.unwrap();
        assert_eq!((report.claimed, report.failed), (1, 1));
    }
}

macro_rules! suite_for {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;

            #[tokio::test]
            async fn once_per_key() {
                let Some((q, _guard)) = $make.await else {
                    return;
                };
                suite::once_per_key(&*q).await;
            }
            #[tokio::test]
            async fn urgent_first() {
                let Some((q, _guard)) = $make.await else {
                    return;
                };
                suite::urgent_first(&*q).await;
            }
            #[tokio::test]
            async fn crashed_worker_is_replaced() {
                let Some((q, _guard)) = $make.await else {
                    return;
                };
                suite::crashed_worker_is_replaced(&*q).await;
            }
            #[tokio::test]
            async fn retries_wait_and_give_up() {
                let Some((q, _guard)) = $make.await else {
                    return;
                };
                suite::retries_wait_and_give_up(&*q).await;
            }
            #[tokio::test]
            async fn poison_is_given_up() {
                let Some((q, _guard)) = $make.await else {
                    return;
                };
                suite::poison_is_given_up(&*q).await;
            }
            #[tokio::test]
            async fn held_until_not_before() {
                let Some((q, _guard)) = $make.await else {
                    return;
                };
                suite::held_until_not_before(&*q).await;
            }
            #[tokio::test]
            async fn status_per_alert() {
                let Some((q, _guard)) = $make.await else {
                    return;
                };
                suite::status_per_alert(&*q).await;
            }
            #[tokio::test]
            async fn purge_erases_one_subscriber() {
                let Some((q, _guard)) = $make.await else {
                    return;
                };
                suite::purge_erases_one_subscriber(&*q).await;
            }
            #[tokio::test]
            async fn depth_per_lane_and_channel() {
                let Some((q, _guard)) = $make.await else {
                    return;
                };
                suite::depth_per_lane_and_channel(&*q).await;
            }
            #[tokio::test]
            async fn every_device_of_a_subscriber() {
                let Some((q, _guard)) = $make.await else {
                    return;
                };
                suite::every_device_of_a_subscriber(&*q).await;
            }
            #[tokio::test]
            async fn a_dead_device_does_not_take_the_live_ones_send() {
                let Some((q, _guard)) = $make.await else {
                    return;
                };
                suite::a_dead_device_does_not_take_the_live_ones_send(&*q).await;
            }
            #[tokio::test]
            async fn dispatch_reports_dead_addresses() {
                let Some((q, _guard)) = $make.await else {
                    return;
                };
                suite::dispatch_reports_dead_addresses(&*q).await;
            }
        }
    };
}

/// One key for every queue of a test, so that a reopened queue reads what
/// the first one sealed.
fn sealer() -> Arc<dyn Sealer> {
    Arc::new(KeySealer::new([7; 32]))
}

fn test_config() -> QueueConfig {
    QueueConfig {
        max_attempts: 3,
        ..QueueConfig::default()
    }
}

async fn sqlite() -> Option<(Box<dyn DeliveryQueue>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let q =
        store::SqliteQueue::open(&dir.path().join("queue.db"), test_config(), sealer()).unwrap();
    Some((Box::new(q), dir))
}

suite_for!(sqlite_queue, sqlite());

async fn memory() -> Option<(Box<dyn DeliveryQueue>, ())> {
    Some((
        Box::new(notifier::queue::memory::MemoryQueue::new(test_config())),
        (),
    ))
}

suite_for!(memory_queue, memory());

#[tokio::test]
async fn sqlite_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.db");
    {
        let q = store::SqliteQueue::open(&path, test_config(), sealer()).unwrap();
        q.enqueue(delivery("kept", Lane::Normal)).await.unwrap();
        q.enqueue(delivery("done", Lane::Urgent)).await.unwrap();
        let jobs = q.claim("w1", 1, LEASE).await.unwrap();
        q.complete(&jobs[0], &Outcome::Sent).await.unwrap();
    }
    let q = store::SqliteQueue::open(&path, test_config(), sealer()).unwrap();
    assert!(!q.enqueue(delivery("done", Lane::Urgent)).await.unwrap());
    let jobs = q.claim("w1", 10, LEASE).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].delivery.subscriber.0, "kept");
}

struct RedisGuard {
    server: notifier::testing::redis_server::RedisServer,
    _dir: tempfile::TempDir,
}

async fn redis() -> Option<(Box<dyn DeliveryQueue>, RedisGuard)> {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = notifier::testing::redis_server::RedisServer::start(dir.path()) else {
        eprintln!("redis-server not installed: skipping the Redis queue test");
        return None;
    };
    let q = store::RedisQueue::connect(&server.url(), "test:dq", test_config(), sealer())
        .await
        .unwrap();
    Some((Box::new(q), RedisGuard { server, _dir: dir }))
}

suite_for!(redis_queue, redis());

#[tokio::test]
async fn redis_survives_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = notifier::testing::redis_server::RedisServer::start(dir.path()) else {
        return;
    };
    {
        let q = store::RedisQueue::connect(&server.url(), "test:dq", test_config(), sealer())
            .await
            .unwrap();
        q.enqueue(delivery("kept", Lane::Normal)).await.unwrap();
        q.enqueue(delivery("done", Lane::Urgent)).await.unwrap();
        let jobs = q.claim("w1", 1, LEASE).await.unwrap();
        assert_eq!(jobs[0].delivery.subscriber.0, "done");
        q.complete(&jobs[0], &Outcome::Sent).await.unwrap();
    }
    let server = server.crash_and_restart().unwrap();
    let q = store::RedisQueue::connect(&server.url(), "test:dq", test_config(), sealer())
        .await
        .unwrap();
    assert!(!q.enqueue(delivery("done", Lane::Urgent)).await.unwrap());
    let jobs = q.claim("w1", 10, LEASE).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].delivery.subscriber.0, "kept");
}

#[tokio::test]
async fn redis_dead_letters_go_to_their_stream() {
    let Some((q, guard)) = redis().await else {
        return;
    };
    suite::poison_is_given_up(&*q).await;
    let client = redis::Client::open(guard.server.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let dead: usize = redis::cmd("XLEN")
        .arg("test:dq:dead")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(dead, 1);
}

/// Every byte Redis holds under the queue's prefix, as text.
async fn redis_contents(url: &str) -> String {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("test:dq:*")
        .query_async(&mut c)
        .await
        .unwrap();
    let mut all = String::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut c)
            .await
            .unwrap();
        let value: redis::Value = match kind.as_str() {
            "string" => redis::cmd("GET")
                .arg(&key)
                .query_async(&mut c)
                .await
                .unwrap(),
            "hash" => redis::cmd("HGETALL")
                .arg(&key)
                .query_async(&mut c)
                .await
                .unwrap(),
            "zset" => redis::cmd("ZRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .query_async(&mut c)
                .await
                .unwrap(),
            "stream" => redis::cmd("XRANGE")
                .arg(&key)
                .arg("-")
                .arg("+")
                .query_async(&mut c)
                .await
                .unwrap(),
            _ => redis::Value::Nil,
        };
        all.push_str(&format!("{key} {value:?}\n"));
    }
    all
}

#[tokio::test]
async fn redis_purge_leaves_no_trace_and_takes_dead_letters() {
    let Some((q, guard)) = redis().await else {
        return;
    };
    suite::poison_is_given_up(&*q).await;
    let mut held = delivery("poison", Lane::Background);
    held.facts.alert = AlertVersion("later".into());
    held.not_before = Some(chrono::Utc::now() + chrono::Duration::hours(1));
    assert!(q.enqueue(held).await.unwrap());
    q.enqueue(delivery("kept", Lane::Urgent)).await.unwrap();
    let before = redis_contents(&guard.server.url()).await;
    assert!(before.contains("poison|"));
    assert!(!before.contains("tok-"), "addresses are sealed: {before}");

    assert_eq!(
        q.purge_subscriber(&SubscriberId("poison".into()))
            .await
            .unwrap(),
        2
    );
    let after = redis_contents(&guard.server.url()).await;
    assert!(!after.contains("|poison|"), "a key survived: {after}");
    assert!(after.contains("|kept|"));
    let client = redis::Client::open(guard.server.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let dead: usize = redis::cmd("XLEN")
        .arg("test:dq:dead")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(dead, 0);
}

#[tokio::test]
async fn sqlite_purge_leaves_no_trace_in_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.db");
    let q = store::SqliteQueue::open(&path, test_config(), sealer()).unwrap();
    let files = || {
        let mut bytes = std::fs::read(&path).unwrap();
        if let Ok(wal) = std::fs::read(dir.path().join("queue.db-wal")) {
            bytes.extend(wal);
        }
        bytes
    };
    let contains =
        |bytes: &[u8], needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    for name in ["gone", "kept"] {
        q.enqueue(delivery(name, Lane::Normal)).await.unwrap();
    }
    let jobs = q.claim("w1", 1, LEASE).await.unwrap();
    q.complete(&jobs[0], &Outcome::Sent).await.unwrap();
    assert!(contains(&files(), "fcm|gone|"));
    assert!(!contains(&files(), "tok-gone"), "addresses are sealed");

    assert_eq!(
        q.purge_subscriber(&SubscriberId("gone".into()))
            .await
            .unwrap(),
        1
    );
    let bytes = files();
    assert!(
        !contains(&bytes, "fcm|gone|"),
        "a delivery survived on disk"
    );
    assert!(contains(&bytes, "fcm|kept|"));
}

/// A file written before the subscriber, channel and due-time columns
/// existed: its rows can be erased and counted after the upgrade.
#[tokio::test]
async fn sqlite_migrates_an_older_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.db");
    let held_until = chrono::Utc::now() + chrono::Duration::hours(2);
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE deliveries (
                key TEXT PRIMARY KEY, alert TEXT NOT NULL, lane INTEGER NOT NULL,
                state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                due_ms INTEGER NOT NULL, queued_ms INTEGER NOT NULL, worker TEXT,
                last_error TEXT, payload TEXT NOT NULL);",
        )
        .unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        let mut held = delivery("old-held", Lane::Normal);
        held.not_before = Some(held_until);
        for (d, due) in [
            (delivery("old", Lane::Normal), now - 60_000),
            (held, held_until.timestamp_millis()),
        ] {
            c.execute(
                "INSERT INTO deliveries (key, alert, lane, state, due_ms, queued_ms, payload)
                 VALUES (?1, ?2, 1, 'pending', ?3, ?4, ?5)",
                rusqlite::params![
                    old_key(&d),
                    d.facts.alert.0,
                    due,
                    now - 60_000,
                    serde_json::to_string(&d).unwrap()
                ],
            )
            .unwrap();
        }
    }
    let q = store::SqliteQueue::open(&path, test_config(), sealer()).unwrap();
    let depth = q.depth().await.unwrap();
    assert_eq!(
        depth.pending,
        [((Lane::Normal, ChannelKind::Fcm), 2)].into()
    );
    let age = depth.oldest_age(chrono::Utc::now());
    assert!(
        age >= Duration::from_secs(59) && age < Duration::from_secs(3600),
        "{age:?}"
    );
    assert_eq!(
        q.purge_subscriber(&SubscriberId("old".into()))
            .await
            .unwrap(),
        1
    );
    // The held one's due time came from its not-before time: not waiting yet.
    assert_eq!(q.depth().await.unwrap().oldest_due, None);
    drop(q);
    // Opening again does not migrate twice.
    let q = store::SqliteQueue::open(&path, test_config(), sealer()).unwrap();
    assert_eq!(q.depth().await.unwrap().total(), 1);
}

/// A delivery with every kind of personal data a queued one can carry: a
/// webhook URL and secret, and a message naming the subscriber's place.
fn personal_delivery(subscriber: &str) -> Delivery {
    let mut d = sample_delivery(
        subscriber,
        Address::Webhook {
            url: notifier::notice::WebhookUrl::new(format!(
                "https://hooks.example.org/{subscriber}-9c1e"
            )),
            secret: notifier::notice::Secret::new(format!("whsec-{subscriber}-77aa")),
        },
        Locale::ZhTw,
    );
    d.message.title = format!("土石流紅色警戒：阿嬤家-{subscriber}");
    d
}

fn personal_strings(subscriber: &str) -> [String; 3] {
    [
        format!("hooks.example.org/{subscriber}-9c1e"),
        format!("whsec-{subscriber}-77aa"),
        format!("阿嬤家-{subscriber}"),
    ]
}

/// The SQLite queue file and its WAL, as bytes.
fn sqlite_files(path: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(more) = std::fs::read(wal) {
        bytes.extend(more);
    }
    bytes
}

fn holds(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn sqlite_pending_deliveries_are_sealed_in_an_owner_only_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.db");
    let q = store::SqliteQueue::open(&path, test_config(), sealer()).unwrap();
    assert!(q.enqueue(personal_delivery("s-9")).await.unwrap());
    let bytes = sqlite_files(&path);
    assert!(
        holds(&bytes, "webhook|s-9|"),
        "the check reads the right bytes"
    );
    for secret in personal_strings("s-9") {
        assert!(!holds(&bytes, &secret), "`{secret}` found in the clear");
    }
    for file in ["queue.db", "queue.db-wal", "queue.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
    }
    // Another key opens nothing, and says which delivery.
    drop(q);
    let other =
        store::SqliteQueue::open(&path, test_config(), Arc::new(KeySealer::new([8; 32]))).unwrap();
    let error = other.claim("w1", 1, LEASE).await.unwrap_err().to_string();
    assert!(error.contains("does not open"), "{error}");
}

/// A file written by the previous version (schema 1, payloads in plain
/// JSON) with a delivery still pending: after the upgrade it is sealed in
/// place and still delivered.
#[tokio::test]
async fn sqlite_delivers_and_seals_a_pending_row_of_the_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.db");
    let old = personal_delivery("s-old");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE deliveries (
                key TEXT PRIMARY KEY, alert TEXT NOT NULL, lane INTEGER NOT NULL,
                state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                due_ms INTEGER NOT NULL, queued_ms INTEGER NOT NULL, worker TEXT,
                last_error TEXT, payload TEXT NOT NULL,
                subscriber TEXT, channel TEXT, ready_ms INTEGER);
             PRAGMA user_version = 1;",
        )
        .unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        c.execute(
            "INSERT INTO deliveries (key, alert, lane, state, due_ms, queued_ms, payload,
                 subscriber, channel, ready_ms)
             VALUES (?1, ?2, 1, 'pending', ?3, ?3, ?4, ?5, 'webhook', ?3)",
            rusqlite::params![
                old_key(&old),
                old.facts.alert.0,
                now - 1000,
                serde_json::to_string(&old).unwrap(),
                old.subscriber.0
            ],
        )
        .unwrap();
    }
    assert!(holds(&sqlite_files(&path), &personal_strings("s-old")[1]));
    let q = store::SqliteQueue::open(&path, test_config(), sealer()).unwrap();
    let bytes = sqlite_files(&path);
    for secret in personal_strings("s-old") {
        assert!(!holds(&bytes, &secret), "`{secret}` left in the clear");
    }
    let jobs = q.claim("w1", 10, LEASE).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].delivery, old);
    assert_eq!(
        q.complete(&jobs[0], &Outcome::Sent).await.unwrap(),
        DeliveryStatus::Sent
    );
}

#[tokio::test]
async fn redis_pending_deliveries_are_sealed() {
    let Some((q, guard)) = redis().await else {
        return;
    };
    assert!(q.enqueue(personal_delivery("s-9")).await.unwrap());
    let mut held = personal_delivery("s-10");
    held.not_before = Some(chrono::Utc::now() + chrono::Duration::hours(1));
    assert!(q.enqueue(held).await.unwrap());
    let contents = redis_contents(&guard.server.url()).await;
    assert!(
        contents.contains("webhook|s-9|"),
        "the check reads the right keys"
    );
    for secret in personal_strings("s-9")
        .into_iter()
        .chain(personal_strings("s-10"))
    {
        assert!(!contents.contains(&secret), "`{secret}` found in the clear");
    }
}

/// Entries written by the previous version (plain JSON payloads), one in
/// a lane and one waiting for a retry, are still delivered after an
/// upgrade; a retry seals the payload it writes back.
#[tokio::test]
async fn redis_delivers_pending_entries_of_the_previous_version() {
    let Some((q, guard)) = redis().await else {
        return;
    };
    let in_lane = personal_delivery("s-old-1");
    let delayed = personal_delivery("s-old-2");
    let client = redis::Client::open(guard.server.url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let key = old_key(&in_lane);
    let _: String = redis::cmd("XADD")
        .arg("test:dq:lane:1")
        .arg("*")
        .arg("key")
        .arg(&key)
        .arg("attempts")
        .arg("0")
        .arg("payload")
        .arg(serde_json::to_string(&in_lane).unwrap())
        .query_async(&mut c)
        .await
        .unwrap();
    let key = old_key(&delayed);
    let job = serde_json::json!({
        "key": key, "lane": 1, "attempts": 1,
        "payload": serde_json::to_string(&delayed).unwrap(), "sub": "s-old-2",
    });
    let _: () = redis::pipe()
        .hset("test:dq:delayed:jobs", &key, job.to_string())
        .zadd(
            "test:dq:delayed",
            &key,
            chrono::Utc::now().timestamp_millis() - 1000,
        )
        .query_async(&mut c)
        .await
        .unwrap();

    let mut jobs = q.claim("w1", 10, LEASE).await.unwrap();
    jobs.sort_by(|a, b| a.delivery.subscriber.0.cmp(&b.delivery.subscriber.0));
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].delivery, in_lane);
    assert_eq!(jobs[1].delivery, delayed);
    assert_eq!(jobs[1].attempts, 2);
    q.complete(&jobs[0], &Outcome::Sent).await.unwrap();
    q.complete(
        &jobs[1],
        &Outcome::Retry {
            after: Duration::from_secs(3600),
        },
    )
    .await
    .unwrap();
    let contents = redis_contents(&guard.server.url()).await;
    for secret in personal_strings("s-old-2") {
        assert!(
            !contents.contains(&secret),
            "`{secret}` written back in the clear"
        );
    }
}
