//! Authenticating a resident's request on the embedded store: the device
//! key hash looked up to a subscriber id (`subscriber_id_by_key`, nothing
//! unsealed) and to the whole record (`subscriber_by_key`, one record
//! unsealed), from many concurrent tasks on a 2-worker runtime.
//!
//! `cargo bench -p store --bench key_lookups -- [SECONDS] [CONCURRENCY]`
//! (defaults 5 s per kind, 64 tasks; 10,000 subscribers stored first).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use store::*;

const SUBSCRIBERS: usize = 10_000;

fn key_hash(n: usize) -> KeyHash {
    let mut hash = [7u8; 32];
    hash[..8].copy_from_slice(&(n as u64).to_le_bytes());
    KeyHash(hash)
}

fn record(n: usize) -> SubscriberRecord {
    SubscriberRecord {
        id: SubscriberId(format!("s_{n:08}")),
        created_at: Utc::now(),
        key_hash: key_hash(n),
        locale: "zh-TW".into(),
        devices: vec![Device {
            channel: DeviceChannel::Fcm,
            address: Sensitive(format!("fcm-token-{n}-{}", "x".repeat(140))),
            secret: None,
        }],
        places: vec![PlaceRecord {
            id: 0,
            label: Sensitive("Home".into()),
            address: Some(Sensitive("臺北市信義區市府路1號".into())),
            lon: 121.5645,
            lat: 25.0375,
            village: Some("63000020001".into()),
        }],
        location: None,
        preferences: PreferencesRecord::default(),
        relay: None,
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(5);
    let tasks: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(64);
    let base = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&base).expect("bench dir");
    let dir = tempfile::tempdir_in(&base).expect("temporary store");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = Arc::new(SqliteStorage::open(dir.path(), DataKey::generate()).expect("open"));
        let writes: Vec<_> = (0..SUBSCRIBERS)
            .map(|n| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.put_subscriber(&record(n)).await.expect("write") })
            })
            .collect();
        for write in writes {
            write.await.expect("writer");
        }
        for whole_record in [false, true] {
            let deadline = Instant::now() + Duration::from_secs(seconds);
            let started = Instant::now();
            let workers: Vec<_> = (0..tasks)
                .map(|task| {
                    let store = Arc::clone(&store);
                    tokio::spawn(async move {
                        let mut latencies = Vec::new();
                        let mut n = task;
                        while Instant::now() < deadline {
                            let hash = key_hash(n % SUBSCRIBERS);
                            let t = Instant::now();
                            let found = if whole_record {
                                store
                                    .subscriber_by_key(&hash)
                                    .await
                                    .expect("read")
                                    .is_some()
                            } else {
                                store
                                    .subscriber_id_by_key(&hash)
                                    .await
                                    .expect("read")
                                    .is_some()
                            };
                            latencies.push(t.elapsed());
                            assert!(found);
                            n += 7919;
                        }
                        latencies
                    })
                })
                .collect();
            let mut latencies = Vec::new();
            for worker in workers {
                latencies.extend(worker.await.expect("reader"));
            }
            let elapsed = started.elapsed().as_secs_f64();
            latencies.sort();
            let pct = |p: f64| {
                latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)]
            };
            println!(
                "{}: {:.0} lookups/s by {tasks} tasks; p50 {:.2} ms, p99 {:.2} ms",
                if whole_record {
                    "subscriber_by_key"
                } else {
                    "subscriber_id_by_key"
                },
                latencies.len() as f64 / elapsed,
                pct(0.50).as_secs_f64() * 1e3,
                pct(0.99).as_secs_f64() * 1e3,
            );
        }
    });
}
