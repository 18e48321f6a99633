//! Parse throughput over the real CAP samples in `../shared/data/cap`
//! (messages/s and MB/s): the Taiwan set (`tw-ncdr/`, typical CAP-TW
//! messages of 2–26 KB) and the whole set (feeds, envelopes, signed and
//! invalid files included). Skips with a message when the data is absent.
//!
//! `cargo bench -p cap --bench parse`

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cap::parse::{Limits, parse_document};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn data_dir() -> Option<PathBuf> {
    let base = std::env::var_os("HAZARDLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    let dir = base.join("cap");
    dir.is_dir().then_some(dir)
}

fn read_all(dir: &Path) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|n| n != "README.md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read(p).expect("read file"))
        .collect()
}

fn parse_all(docs: &[Vec<u8>], limits: &Limits) -> usize {
    docs.iter()
        .map(|d| parse_document(black_box(d), limits).map_or(0, |doc| doc.messages.len()))
        .sum()
}

fn bench(c: &mut Criterion) {
    let Some(dir) = data_dir() else {
        eprintln!("shared CAP data not found; parse benchmark skipped");
        return;
    };
    let limits = Limits::default();
    for (name, docs) in [
        ("taiwan", read_all(&dir.join("tw-ncdr"))),
        ("all", read_all(&dir)),
    ] {
        let bytes: usize = docs.iter().map(Vec::len).sum();
        let messages = parse_all(&docs, &limits);
        eprintln!(
            "{name}: {} files, {bytes} bytes, {messages} messages",
            docs.len()
        );
        let mut group = c.benchmark_group(format!("parse/{name}"));
        group
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .sample_size(20);
        group.throughput(Throughput::Elements(messages as u64));
        group.bench_function("messages", |b| b.iter(|| parse_all(&docs, &limits)));
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function("bytes", |b| b.iter(|| parse_all(&docs, &limits)));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
