//! One test suite, two delivery queues: embedded SQLite and Redis Streams.

use std::sync::Arc;
use std::time::Duration;

use notifier::Locale;
use notifier::channel::{Channel, Delivery, Outcome, SendFuture};
use notifier::notice::{Address, ChannelKind, DeviceToken, NoticeKind};
use notifier::queue::dispatch::{Channels, DispatchConfig, dispatch_batch};
use notifier::queue::{
    DeliveryKey, DeliveryQueue, DeliveryStatus, Lane, QueueConfig, StatusCounts,
};
use notifier::testing::sample_delivery;

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
            async fn dispatch_reports_dead_addresses() {
                let Some((q, _guard)) = $make.await else {
                    return;
                };
                suite::dispatch_reports_dead_addresses(&*q).await;
            }
        }
    };
}

fn test_config() -> QueueConfig {
    QueueConfig {
        max_attempts: 3,
        ..QueueConfig::default()
    }
}

async fn sqlite() -> Option<(Box<dyn DeliveryQueue>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let q = notifier::queue::sqlite::SqliteQueue::open(&dir.path().join("queue.db"), test_config())
        .unwrap();
    Some((Box::new(q), dir))
}

suite_for!(sqlite_queue, sqlite());

#[tokio::test]
async fn sqlite_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.db");
    {
        let q = notifier::queue::sqlite::SqliteQueue::open(&path, test_config()).unwrap();
        q.enqueue(delivery("kept", Lane::Normal)).await.unwrap();
        q.enqueue(delivery("done", Lane::Urgent)).await.unwrap();
        let jobs = q.claim("w1", 1, LEASE).await.unwrap();
        q.complete(&jobs[0], &Outcome::Sent).await.unwrap();
    }
    let q = notifier::queue::sqlite::SqliteQueue::open(&path, test_config()).unwrap();
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
    let q = notifier::queue::redis::RedisQueue::connect(&server.url(), "test:dq", test_config())
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
        let q =
            notifier::queue::redis::RedisQueue::connect(&server.url(), "test:dq", test_config())
                .await
                .unwrap();
        q.enqueue(delivery("kept", Lane::Normal)).await.unwrap();
        q.enqueue(delivery("done", Lane::Urgent)).await.unwrap();
        let jobs = q.claim("w1", 1, LEASE).await.unwrap();
        assert_eq!(jobs[0].delivery.subscriber.0, "done");
        q.complete(&jobs[0], &Outcome::Sent).await.unwrap();
    }
    let server = server.crash_and_restart().unwrap();
    let q = notifier::queue::redis::RedisQueue::connect(&server.url(), "test:dq", test_config())
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
