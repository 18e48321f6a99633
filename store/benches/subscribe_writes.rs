//! Durable subscriber writes on the embedded store under concurrency: what
//! the group commit gives (`POST /api/v1/subscribers` minus HTTP and
//! geocoding). Each write seals a full record and is committed with
//! `synchronous=FULL` before its call returns.
//!
//! `cargo bench -p store --bench subscribe_writes -- [SECONDS] [CONCURRENCY]`
//! (defaults 10 s, 64 writers). The store lives in Cargo's target temporary
//! directory (a real disk, not tmpfs; set `STORE_BENCH_DIR` to choose).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use store::*;

fn record(writer: usize, n: usize) -> SubscriberRecord {
    SubscriberRecord {
        id: SubscriberId(format!("s_{writer:03}_{n:08}")),
        created_at: Utc::now(),
        key_hash: KeyHash({
            let mut hash = [0u8; 32];
            hash[..8].copy_from_slice(&(writer as u64).to_le_bytes());
            hash[8..16].copy_from_slice(&(n as u64).to_le_bytes());
            hash
        }),
        locale: "zh-TW".into(),
        devices: vec![Device {
            channel: DeviceChannel::Fcm,
            address: Sensitive(format!("fcm-token-{writer}-{n}-{}", "x".repeat(140))),
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
        preferences: PreferencesRecord {
            kinds: vec!["earthquake".into()],
            min_intensity: Some("5-".into()),
            languages: vec!["zh-TW".into()],
            ..PreferencesRecord::default()
        },
        relay: None,
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    let writers: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(64);
    let base = std::env::var_os("STORE_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    std::fs::create_dir_all(&base).expect("bench dir");
    let dir = tempfile::tempdir_in(&base).expect("temporary store");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = Arc::new(SqliteStorage::open(dir.path(), DataKey::generate()).expect("open"));
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let tasks: Vec<_> = (0..writers)
            .map(|writer| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut n = 0;
                    while Instant::now() < deadline {
                        let subscriber = record(writer, n);
                        let t = Instant::now();
                        store.put_subscriber(&subscriber).await.expect("write");
                        latencies.push(t.elapsed());
                        n += 1;
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await.expect("writer"));
        }
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort();
        let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        println!(
            "{} durable writes in {elapsed:.1} s by {writers} writers: {:.0} writes/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            latencies.len(),
            latencies.len() as f64 / elapsed,
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        );
        let stored = store.all_subscribers().await.expect("read back").len();
        assert_eq!(stored, latencies.len(), "every acknowledged write is stored");
    });
}
