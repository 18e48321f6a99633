//! A worker process killed with SIGKILL in the middle of a 100,000-message
//! FCM fan-out, then restarted: every message arrives, and duplicates stay
//! within the in-flight window (batch size × concurrent loops), on both
//! queues.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use notifier::Locale;
use notifier::channel::Delivery;
use notifier::notice::{Address, DeviceToken, SubscriberId};
use notifier::queue::DeliveryQueue;
use notifier::queue::QueueConfig;
use notifier::testing::fcm::FcmContract;
use notifier::testing::redis_server::RedisServer;
use notifier::testing::sample_delivery;
use store::{RedisQueue, SqliteQueue};

const MESSAGES: usize = 100_000;
const BATCH: usize = 250;
const LOOPS: usize = 4;
/// Deliveries a killed worker may have sent without recording it.
const IN_FLIGHT_WINDOW: u64 = (BATCH * LOOPS) as u64;
/// Long enough that no batch outlives its lease on a busy 2-core machine:
/// a batch whose lease runs out while it is still being sent is claimed
/// again by another loop, which would add duplicates beyond the window
/// this test is about (seen at 5 s, with both crash tests running at once).
const LEASE_MS: u64 = 20_000;

fn deliveries() -> Vec<Delivery> {
    let template = sample_delivery("s", Address::Live, Locale::ZhTw);
    (0..MESSAGES)
        .map(|i| {
            let mut d = template.clone();
            d.subscriber = SubscriberId(format!("s-{i}"));
            d.address = Address::Fcm {
                token: DeviceToken::new(format!("tok-{i}")),
            };
            d
        })
        .collect()
}

/// The key the test seals with and gives the worker processes.
const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn sealer() -> std::sync::Arc<dyn notifier::queue::Sealer> {
    std::sync::Arc::new(notifier::testing::sealer::KeySealer::from_hex(DATA_KEY).unwrap())
}

/// A worker process, killed when dropped: a failing assertion must not
/// leave it running after the test.
struct Worker(Child);

impl Worker {
    fn kill(&mut self) {
        self.0.kill().expect("SIGKILL the worker");
        self.0.wait().expect("the killed worker is reaped");
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How long the worker may take to get through its share: a bound that
/// only a stuck worker reaches (the 2-core CI machine, busy with other
/// tests, needs about a minute for the whole run), not a timing.
const STUCK_AFTER: Duration = Duration::from_secs(600);

fn start_worker(queue_args: &[String], fcm: &FcmContract, account: &Path) -> Worker {
    let child = Command::new(env!("CARGO_BIN_EXE_notifier-worker"))
        .args(queue_args)
        .arg("--service-account")
        .arg(account)
        .args(["--fcm-base", &fcm.base_url])
        .args(["--batch", &BATCH.to_string()])
        .args(["--workers", &LOOPS.to_string()])
        .args(["--lease-ms", &LEASE_MS.to_string()])
        .args(["--idle-poll-ms", "20"])
        .args(["--rate-per-minute", "100000000"])
        .stdout(Stdio::null())
        .spawn()
        .expect("worker binary starts");
    Worker(child)
}

async fn crash_and_resume(queue: &dyn DeliveryQueue, queue_args: Vec<String>, dir: &Path) {
    let fcm = FcmContract::start().await;
    fcm.keep_messages(false);
    let account = dir.join("service-account.json");
    std::fs::write(
        &account,
        serde_json::to_string(&fcm.service_account()).unwrap(),
    )
    .unwrap();

    let all = deliveries();
    let alert = all[0].facts.alert.clone();
    let started = Instant::now();
    for chunk in all.chunks(10_000) {
        assert_eq!(
            queue.enqueue_many(chunk.to_vec()).await.unwrap(),
            chunk.len()
        );
    }
    eprintln!("enqueued {MESSAGES} in {:?}", started.elapsed());

    let mut total = fcm.watch_total();
    let mut worker = start_worker(&queue_args, &fcm, &account);
    let started = Instant::now();
    let killed_at = (MESSAGES as u64) * 2 / 5;
    tokio::time::timeout(STUCK_AFTER, total.wait_for(|n| *n >= killed_at))
        .await
        .expect("worker reaches 40%")
        .unwrap();
    worker.kill();
    let at_kill = fcm.total_received();
    eprintln!("killed after {at_kill} messages, {:?}", started.elapsed());
    assert!(
        at_kill < MESSAGES as u64,
        "worker finished before it was killed"
    );

    let mut worker = start_worker(&queue_args, &fcm, &account);
    let deadline = Instant::now() + STUCK_AFTER;
    let counts = loop {
        let counts = queue.alert_status(&alert).await.unwrap();
        if counts.sent == MESSAGES as u64 {
            break counts;
        }
        assert!(
            Instant::now() < deadline,
            "not all sent after restart: {counts:?}, {} distinct received",
            fcm.distinct_received()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    worker.kill();
    eprintln!("all sent after {:?}: {counts:?}", started.elapsed());

    assert_eq!(counts.pending + counts.failed + counts.invalid_address, 0);
    for i in 0..MESSAGES {
        assert!(
            fcm.received_count(&format!("tok-{i}"), &alert.0) >= 1,
            "tok-{i} never delivered"
        );
    }
    assert_eq!(fcm.distinct_received(), MESSAGES);
    let duplicates = fcm.total_received() - MESSAGES as u64;
    let duplicated: Vec<_> = fcm.duplicates();
    eprintln!(
        "duplicates: {duplicates} ({} keys), in-flight window {IN_FLIGHT_WINDOW}",
        duplicated.len()
    );
    assert!(
        duplicates <= IN_FLIGHT_WINDOW,
        "{duplicates} duplicates exceed the in-flight window {IN_FLIGHT_WINDOW}"
    );
    assert!(
        duplicated.iter().all(|(_, n)| *n == 2),
        "a key sent 3 times"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_worker_killed_mid_fanout_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.db");
    let queue = SqliteQueue::open(&path, QueueConfig::default(), sealer()).unwrap();
    let args = vec![
        "--sqlite".to_string(),
        path.display().to_string(),
        "--data-key".to_string(),
        DATA_KEY.to_string(),
    ];
    crash_and_resume(&queue, args, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_worker_killed_mid_fanout_resumes() {
    let dir = tempfile::tempdir().unwrap();
    // AOF with `appendfsync everysec`: the worker is what crashes here.
    let Some(redis) = RedisServer::start_everysec(dir.path()) else {
        eprintln!("redis-server not installed: skipping the Redis crash test");
        return;
    };
    let queue = RedisQueue::connect(&redis.url(), "crash", QueueConfig::default(), sealer())
        .await
        .unwrap();
    let args = vec![
        "--redis".to_string(),
        redis.url(),
        "--prefix".to_string(),
        "crash".to_string(),
        "--data-key".to_string(),
        DATA_KEY.to_string(),
    ];
    crash_and_resume(&queue, args, dir.path()).await;
}
