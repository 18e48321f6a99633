//! Fan-out throughput and latency against the contract peers (FCM HTTP v1
//! on loopback, a private Mosquitto), through the notifier's channels and
//! the embedded (SQLite) delivery queue; here because the queue is. Prints
//! figures; run with `cargo bench -p store --bench fanout`. Sizes from the environment:
//! `FANOUT_MESSAGES` (default 1,000,000 channel sends), `FANOUT_QUEUED`
//! (default 200,000 through the SQLite queue), `FANOUT_CONCURRENCY`
//! (default 512 sends in flight).
//!
//! Targets: FCM ≥ 10,000 messages/s; MQTT ≥ 50,000 messages/s; first
//! message ≤ 200 ms after the alert is accepted; a country-wide alert on
//! 7,700 village topics in ≤ 2 s.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use notifier::Locale;
use notifier::channel::fcm::{FcmChannel, FcmConfig};
use notifier::channel::mqtt::{MqttChannel, MqttConfig};
use notifier::channel::{Channel, Delivery, Outcome};
use notifier::notice::{Address, AlertVersion, DeviceToken, SubscriberId};
use notifier::queue::dispatch::{Channels, DispatchConfig, dispatch_batch};
use notifier::queue::{DeliveryQueue, QueueConfig};
use notifier::render::Budgets;
use notifier::testing::fcm::FcmContract;
use notifier::testing::mosquitto::Mosquitto;
use notifier::testing::sample_delivery;
use store::SqliteQueue;

const VILLAGES: usize = 7_700;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sends `count` deliveries made by `make` through `channel` with
/// `concurrency` sends in flight; returns the elapsed time.
async fn blast(
    channel: Arc<dyn Channel>,
    count: usize,
    concurrency: usize,
    make: Arc<dyn Fn(usize) -> Delivery + Send + Sync>,
) -> Duration {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (channel, next, make) = (channel.clone(), next.clone(), make.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let outcome = channel.send(&make(i)).await;
                assert_eq!(outcome, Outcome::Sent, "send {i}");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("sender task");
    }
    started.elapsed()
}

fn rate(count: usize, elapsed: Duration) -> String {
    format!(
        "{count} messages in {:.2} s = {:.0} messages/s",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    )
}

fn fcm_channel(fcm: &FcmContract) -> Arc<FcmChannel> {
    Arc::new(
        FcmChannel::new(
            fcm.service_account(),
            FcmConfig {
                base_url: fcm.base_url.clone(),
                // The contract peer has no quota; production is capped by
                // the project's (600,000/min by default).
                rate_per_minute: u32::MAX,
                ..FcmConfig::default()
            },
        )
        .expect("FCM channel"),
    )
}

fn device_delivery(template: &Delivery, i: usize) -> Delivery {
    let mut d = template.clone();
    d.subscriber = SubscriberId(format!("s-{i}"));
    d.address = Address::Fcm {
        token: DeviceToken::new(format!("tok-{i}")),
    };
    d
}

async fn fcm_fanout(messages: usize, concurrency: usize) {
    let fcm = FcmContract::start().await;
    fcm.keep_messages(false);
    let template = sample_delivery("s", Address::Live, Locale::ZhTw);
    let elapsed = blast(
        fcm_channel(&fcm),
        messages,
        concurrency,
        Arc::new(move |i| device_delivery(&template, i)),
    )
    .await;
    assert_eq!(fcm.distinct_received(), messages);
    println!("fcm channel fan-out: {}", rate(messages, elapsed));
}

async fn fcm_through_queue(messages: usize) {
    let fcm = FcmContract::start().await;
    fcm.keep_messages(false);
    let dir = tempfile::tempdir().expect("temp dir");
    let queue = Arc::new(
        SqliteQueue::open(
            &dir.path().join("queue.db"),
            QueueConfig::default(),
            std::sync::Arc::new(notifier::testing::sealer::KeySealer::random()),
        )
        .expect("queue"),
    );
    let template = sample_delivery("s", Address::Live, Locale::ZhTw);
    let alert = template.facts.alert.clone();
    let started = Instant::now();
    for start in (0..messages).step_by(10_000) {
        let chunk = (start..(start + 10_000).min(messages))
            .map(|i| device_delivery(&template, i))
            .collect();
        queue.enqueue_many(chunk).await.expect("enqueue");
    }
    println!("sqlite enqueue: {}", rate(messages, started.elapsed()));
    let channels = Channels::new().with(fcm_channel(&fcm));
    let started = Instant::now();
    let mut loops = tokio::task::JoinSet::new();
    for index in 0..4 {
        let (queue, channels) = (queue.clone(), channels.clone());
        loops.spawn(async move {
            let config = DispatchConfig {
                worker: format!("bench-{index}"),
                batch: 500,
                ..DispatchConfig::default()
            };
            while dispatch_batch(queue.as_ref(), &channels, &config)
                .await
                .expect("dispatch")
                .claimed
                > 0
            {}
        });
    }
    while let Some(done) = loops.join_next().await {
        done.expect("dispatch loop");
    }
    let counts = queue.alert_status(&alert).await.expect("status");
    assert_eq!(counts.sent, messages as u64, "{counts:?}");
    println!(
        "fcm via sqlite queue (4 loops x batch 500): {}",
        rate(messages, started.elapsed())
    );
}

/// From enqueue of the first delivery of a fresh alert (an idle worker
/// polling every `poll`) to the FCM peer accepting it.
async fn first_message_latency(poll: Duration) {
    let fcm = FcmContract::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let queue = Arc::new(
        SqliteQueue::open(
            &dir.path().join("queue.db"),
            QueueConfig::default(),
            std::sync::Arc::new(notifier::testing::sealer::KeySealer::random()),
        )
        .expect("queue"),
    );
    let channels = Channels::new().with(fcm_channel(&fcm));
    let worker_queue = queue.clone();
    let worker = tokio::spawn(async move {
        let config = DispatchConfig::default();
        loop {
            let report = dispatch_batch(worker_queue.as_ref(), &channels, &config)
                .await
                .expect("dispatch");
            if report.claimed == 0 {
                tokio::time::sleep(poll).await;
            }
        }
    });
    let template = sample_delivery("s", Address::Live, Locale::ZhTw);
    let mut total = fcm.watch_total();
    let mut samples = Vec::new();
    for round in 0..30 {
        let mut d = device_delivery(&template, round);
        d.facts.alert = AlertVersion(format!("cwa@example,LAT-{round},2026-11-22T08:00:00+08:00"));
        // Let the worker fall idle, at a random point of its poll cycle.
        tokio::time::sleep(Duration::from_millis(37 + (round as u64 * 7) % 50)).await;
        total.borrow_and_update();
        let started = Instant::now();
        queue.enqueue(d).await.expect("enqueue");
        total.changed().await.expect("peer running");
        samples.push(started.elapsed());
    }
    worker.abort();
    samples.sort();
    println!(
        "first message after enqueue (poll {poll:?}, 30 alerts): median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        samples[15].as_secs_f64() * 1e3,
        samples[27].as_secs_f64() * 1e3,
        samples[29].as_secs_f64() * 1e3
    );
}

fn mqtt_channel(broker: &Mosquitto, name: &str) -> Arc<MqttChannel> {
    Arc::new(MqttChannel::connect(MqttConfig {
        host: "127.0.0.1".into(),
        port: broker.port,
        client_id: name.into(),
        prefix: "hazardline".into(),
        ack_timeout: Duration::from_secs(30),
        budgets: Budgets::default(),
        inflight: 10_000,
    }))
}

async fn mqtt_fanout(messages: usize, concurrency: usize) {
    let Some(broker) = Mosquitto::start() else {
        println!("mosquitto not installed: MQTT figures skipped");
        return;
    };
    let template = sample_delivery("s", Address::Live, Locale::ZhTw);
    let elapsed = blast(
        mqtt_channel(&broker, "bench-devices"),
        messages,
        concurrency,
        Arc::new(move |i| {
            let mut d = template.clone();
            d.address = Address::Mqtt {
                device: format!("install-{i}"),
            };
            d
        }),
    )
    .await;
    println!("mqtt device fan-out (QoS 1): {}", rate(messages, elapsed));
}

async fn country_wide(concurrency: usize) {
    let template = sample_delivery("s", Address::Live, Locale::ZhTw);
    let village = |i: usize| format!("{:08}", 10_000_000 + i * 7);
    if let Some(broker) = Mosquitto::start() {
        let template = template.clone();
        let elapsed = blast(
            mqtt_channel(&broker, "bench-areas"),
            VILLAGES,
            concurrency,
            Arc::new(move |i| {
                let mut d = template.clone();
                d.address = Address::MqttArea { area: village(i) };
                d
            }),
        )
        .await;
        println!(
            "country-wide on {VILLAGES} MQTT area topics (retained): {}",
            rate(VILLAGES, elapsed)
        );
    }
    let fcm = FcmContract::start().await;
    fcm.keep_messages(false);
    let elapsed = blast(
        fcm_channel(&fcm),
        VILLAGES,
        concurrency,
        Arc::new(move |i| {
            let mut d = template.clone();
            d.address = Address::FcmTopic {
                topic: format!("area-{}", village(i)),
            };
            d
        }),
    )
    .await;
    assert_eq!(fcm.distinct_received(), VILLAGES);
    println!(
        "country-wide on {VILLAGES} FCM topics: {}",
        rate(VILLAGES, elapsed)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // run only a smoke-sized pass.
    let benching = std::env::args().any(|a| a == "--bench");
    let scale = |n: usize| if benching { n } else { n.min(2_000) };
    let messages = scale(env_number("FANOUT_MESSAGES", 1_000_000));
    let queued = scale(env_number("FANOUT_QUEUED", 200_000));
    let concurrency = env_number("FANOUT_CONCURRENCY", 512);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        country_wide(concurrency).await;
        first_message_latency(Duration::from_millis(10)).await;
        fcm_fanout(messages, concurrency).await;
        mqtt_fanout(messages, concurrency).await;
        fcm_through_queue(queued).await;
    });
}
