//! One CAP-TW message through ingest's whole pipeline (parse, sender check,
//! dedupe lookup, archive write, lifecycle) into the SQLite archive (WAL,
//! `synchronous=FULL`), each message a new identity: what storing before
//! acting costs per message. Ingest's own `sources` bench measures the
//! same pipeline on the in-memory archive; the difference is the archive.
//!
//! `cargo bench -p store --bench archive_writes -- [MESSAGES]` (default
//! 300). The archive lives in Cargo's target temporary directory (a real
//! disk, not tmpfs; set `STORE_BENCH_DIR` to choose). Skips with a message
//! when the shared data is absent.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ingest::clock::ManualClock;
use ingest::feed::{Pipeline, PipelineConfig};
use ingest::signature::TrustedKeys;
use ingest::source::{SourceId, SourceTrust};
use store::SqliteArchive;

const MESSAGE: &str = "tw-ncdr/fifows_extremely-rain_202404221712.cap";
const IDENTIFIER: &str = "CWA-Weather_extremely-rain_202404221705001";

fn cap_dir() -> Option<PathBuf> {
    let base = std::env::var_os("HAZARDLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    let dir = base.join("cap");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("shared data not found at {}: skipping", dir.display());
        None
    }
}

fn sent(xml: &str) -> DateTime<Utc> {
    let start = xml.find("<sent>").expect("sent") + "<sent>".len();
    let end = start + xml[start..].find('<').expect("end");
    DateTime::parse_from_rfc3339(xml[start..end].trim())
        .expect("sent")
        .with_timezone(&Utc)
}

fn main() {
    let Some(cap) = cap_dir() else { return };
    let messages: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let original =
        String::from_utf8(std::fs::read(cap.join(MESSAGE)).expect("read")).expect("utf-8");
    let base = std::env::var_os("STORE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    std::fs::create_dir_all(&base).expect("bench dir");
    let dir = tempfile::tempdir_in(&base).expect("temporary archive");
    let archive = Arc::new(SqliteArchive::open(&dir.path().join("archive.sqlite")).expect("open"));
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let source = SourceId::new("ncdr");
    let trust = SourceTrust::new(
        source.clone(),
        vec!["*@cwa.gov.tw".parse().expect("pattern")],
        false,
        TrustedKeys::default(),
    );
    let clock = ManualClock::shared(sent(&original));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pipeline = runtime
        .block_on(Pipeline::new(
            clock,
            archive,
            vec![trust],
            tx,
            PipelineConfig::default(),
        ))
        .expect("pipeline");

    let mut times: Vec<Duration> = Vec::with_capacity(messages);
    for n in 0..messages {
        let bytes = original.replace(IDENTIFIER, &format!("{IDENTIFIER}-{n}"));
        let started = Instant::now();
        let report = runtime
            .block_on(pipeline.ingest(&source, bytes.as_bytes()))
            .expect("ingest");
        times.push(started.elapsed());
        assert_eq!(report.accepted(), 1);
        while rx.try_recv().is_ok() {}
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    let total: Duration = times.iter().sum();
    println!(
        "{messages} CAP-TW messages into the SQLite archive: median {:.2} ms, p90 {:.2} ms, \
         max {:.2} ms ({:.0} messages/s)",
        at(0.5).as_secs_f64() * 1e3,
        at(0.9).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
        messages as f64 / total.as_secs_f64()
    );
}
