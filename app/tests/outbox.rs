//! The one queuing policy: a failing store is retried, a repeat is not
//! queued twice, and what is given up is reported, never silently lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use app::outbox::Outbox;
use notifier::Locale;
use notifier::channel::{Delivery, Outcome};
use notifier::notice::{Address, AlertVersion, SubscriberId};
use notifier::queue::memory::MemoryQueue;
use notifier::queue::{
    DeliveryKey, DeliveryQueue, DeliveryStatus, Job, QueueConfig, QueueDepth, QueueError,
    QueueFuture, StatusCounts,
};
use notifier::testing::sample_delivery;

/// A queue whose first `failures` writes fail, as a store that is briefly
/// down would.
struct Flaky {
    inner: MemoryQueue,
    failures: usize,
    writes: AtomicUsize,
}

impl Flaky {
    fn new(failures: usize) -> Flaky {
        Flaky {
            inner: MemoryQueue::new(QueueConfig::default()),
            failures,
            writes: AtomicUsize::new(0),
        }
    }
}

impl DeliveryQueue for Flaky {
    fn enqueue(&self, delivery: Delivery) -> QueueFuture<'_, bool> {
        Box::pin(async move {
            let added = self.enqueue_many(vec![delivery]).await?;
            Ok(added == 1)
        })
    }
    fn enqueue_many(&self, deliveries: Vec<Delivery>) -> QueueFuture<'_, usize> {
        let write = self.writes.fetch_add(1, Ordering::SeqCst);
        if write < self.failures {
            return Box::pin(async { Err(QueueError::backend("test", "the store is down")) });
        }
        self.inner.enqueue_many(deliveries)
    }
    fn claim<'a>(
        &'a self,
        worker: &'a str,
        max: usize,
        lease: Duration,
    ) -> QueueFuture<'a, Vec<Job>> {
        self.inner.claim(worker, max, lease)
    }
    fn complete<'a>(
        &'a self,
        job: &'a Job,
        outcome: &'a Outcome,
    ) -> QueueFuture<'a, DeliveryStatus> {
        self.inner.complete(job, outcome)
    }
    fn alert_status<'a>(&'a self, alert: &'a AlertVersion) -> QueueFuture<'a, StatusCounts> {
        self.inner.alert_status(alert)
    }
    fn status<'a>(&'a self, key: &'a DeliveryKey) -> QueueFuture<'a, Option<DeliveryStatus>> {
        self.inner.status(key)
    }
    fn purge_subscriber<'a>(&'a self, subscriber: &'a SubscriberId) -> QueueFuture<'a, u64> {
        self.inner.purge_subscriber(subscriber)
    }
    fn depth(&self) -> QueueFuture<'_, QueueDepth> {
        self.inner.depth()
    }
}

fn deliveries(count: usize) -> Vec<Delivery> {
    (0..count)
        .map(|i| {
            sample_delivery(
                &format!("s_{i}"),
                Address::Mqtt {
                    device: format!("phone-{i}"),
                },
                Locale::En,
            )
        })
        .collect()
}

async fn pending(queue: &dyn DeliveryQueue) -> usize {
    queue.depth().await.unwrap().total() as usize
}

#[tokio::test(start_paused = true)]
async fn a_store_that_recovers_within_the_retries_loses_nothing() {
    let queue = Arc::new(Flaky::new(3));
    let outbox = Outbox::new(queue.clone());
    let queued = outbox.queue(deliveries(7)).await.unwrap();
    assert_eq!(queued, 7);
    assert_eq!(
        queue.writes.load(Ordering::SeqCst),
        4,
        "three failures, then the write"
    );
    assert_eq!(pending(queue.as_ref()).await, 7);
}

#[tokio::test(start_paused = true)]
async fn a_repeat_is_not_queued_or_counted_again() {
    let queue = Arc::new(Flaky::new(0));
    let outbox = Outbox::new(queue.clone());
    assert_eq!(outbox.queue(deliveries(5)).await.unwrap(), 5);
    assert_eq!(outbox.queue(deliveries(5)).await.unwrap(), 0);
    assert_eq!(pending(queue.as_ref()).await, 5);
}

#[tokio::test(start_paused = true)]
async fn a_store_that_stays_down_is_reported_with_what_was_lost() {
    let queue = Arc::new(Flaky::new(usize::MAX));
    let outbox = Outbox::new(queue.clone());
    let error = outbox.queue(deliveries(3)).await.unwrap_err();
    assert_eq!((error.queued, error.lost), (0, 3));
    assert_eq!(
        queue.writes.load(Ordering::SeqCst),
        6,
        "the first try and five retries"
    );
    assert!(
        error
            .to_string()
            .contains("3 deliveries could not be queued"),
        "{error}"
    );
}

/// An outcome whose deliveries could not be queued records nobody as told:
/// the restore at the next start tells them again.
#[tokio::test(start_paused = true)]
async fn people_whose_deliveries_were_given_up_are_not_recorded_as_told() {
    use store::Storage;
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> =
        Arc::new(store::SqliteStorage::open(dir.path(), store::DataKey::generate()).unwrap());
    let state = engine::ToldState {
        place: 0,
        seen: engine::told::Seen { unit: 1, places: 2 },
        at: chrono::Utc::now(),
        lowered: false,
    };
    let outcome = |n: usize| engine::Outcome {
        alert: cap::MessageKey {
            sender: "a".into(),
            identifier: format!("{n}"),
            sent: "t".into(),
        },
        in_force: Some(cap::MessageKey {
            sender: "a".into(),
            identifier: format!("{n}"),
            sent: "t".into(),
        }),
        deliveries: deliveries(3),
        remembered: vec![("s_1".to_owned(), state)],
        ..engine::Outcome::default()
    };
    let recorder = |queue: Arc<dyn DeliveryQueue>| {
        app::record::Recorder::new(
            storage.clone(),
            Outbox::new(queue),
            Arc::new(app::view::AlertsView::new()),
            Arc::new(notifier::channel::live::LiveChannel::new(4)),
        )
    };

    let down = recorder(Arc::new(Flaky::new(usize::MAX)));
    down.record(&mut outcome(1), chrono::Utc::now()).await;
    assert!(storage.told_records().await.unwrap().is_empty());

    let up = recorder(Arc::new(Flaky::new(0)));
    assert_eq!(up.record(&mut outcome(2), chrono::Utc::now()).await, 3);
    let records = storage.told_records().await.unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records["a,2,t"].len(), 1);
}
