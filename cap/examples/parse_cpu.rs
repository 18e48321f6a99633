//! CPU-time throughput of `parse_document` over the Taiwan samples.
//!
//! Criterion measures wall-clock time, which on a shared machine says more
//! about the neighbours than about the parser. This harness counts the
//! process's own CPU time (utime + stime from `/proc/self/stat`, Linux) and
//! reports messages and bytes per CPU-second on one thread.
//!
//! `cargo run --release -p cap --example parse_cpu -- [ROUNDS] [DIR]`
//! (defaults: 300 rounds over `../shared/data/cap/tw-ncdr`).

use std::path::PathBuf;
use std::time::Instant;

use cap::parse::{Limits, parse_document};

/// CPU seconds used by this process so far, or `None` off Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are the
    // 14th and 15th fields of the whole line, in clock ticks (100 Hz).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let dir = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/cap/tw-ncdr")
    });
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("{} not found; nothing measured", dir.display());
        return;
    };
    let mut docs: Vec<Vec<u8>> = entries
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .collect();
    docs.sort();
    let bytes: usize = docs.iter().map(Vec::len).sum();
    let limits = Limits::default();
    let (Some(cpu0), wall0) = (cpu_seconds(), Instant::now()) else {
        eprintln!("/proc/self/stat unavailable; nothing measured");
        return;
    };
    let mut messages = 0usize;
    for _ in 0..rounds {
        for d in &docs {
            messages += parse_document(std::hint::black_box(d), &limits)
                .map_or(0, |doc| doc.messages.len());
        }
    }
    let cpu = cpu_seconds().unwrap_or(cpu0) - cpu0;
    let wall = wall0.elapsed().as_secs_f64();
    let total_bytes = (bytes * rounds) as f64;
    println!(
        "{} files x {rounds} rounds: {messages} messages, {:.1} MB in {cpu:.2} s CPU ({wall:.2} s wall)",
        docs.len(),
        total_bytes / 1e6
    );
    println!(
        "per CPU-second: {:.0} messages/s, {:.1} MB/s; {:.1} µs CPU per message",
        messages as f64 / cpu,
        total_bytes / 1e6 / cpu,
        cpu * 1e6 / messages as f64
    );
}
