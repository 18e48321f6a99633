//! `hazardline match`: a dry run of the matcher. Counts the places of a
//! CSV (`id,lon,lat`) inside each area of a GeoJSON FeatureCollection,
//! with the timings the benchmark harness compares.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use matcher::PlaceIndex;
use matcher::areas_geojson::{AreaFeature, parse_areas};
use matcher::polygon::PreparedPolygon;
use matcher::search::SearchScratch;
use rayon::prelude::*;
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct MatchArgs {
    /// Print one JSON object per line.
    #[arg(long)]
    json: bool,
    /// Match areas on this many threads (default: one).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Places: CSV with the header `id,lon,lat` (WGS84 degrees).
    #[arg(long, value_name = "PLACES.csv")]
    places: PathBuf,
    /// Areas: GeoJSON FeatureCollection of Polygon / MultiPolygon features
    /// with `properties.id`.
    #[arg(long, value_name = "AREAS.geojson")]
    areas: PathBuf,
}

pub fn run(args: MatchArgs) -> ExitCode {
    match dry_run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hazardline match: {e:#}");
            ExitCode::from(1)
        }
    }
}

struct AreaResult {
    matched: usize,
    micros: u128,
}

fn dry_run(args: &MatchArgs) -> anyhow::Result<()> {
    let load_start = Instant::now();
    let points = load_places(&args.places)?;
    let text = std::fs::read_to_string(&args.areas)
        .with_context(|| format!("reading {}", args.areas.display()))?;
    let areas = parse_areas(&text).with_context(|| format!("in {}", args.areas.display()))?;
    let load_ms = load_start.elapsed().as_millis();

    let places = points.len();
    let index_start = Instant::now();
    let index = PlaceIndex::from_points(points).context("building the index")?;
    let index_ms = index_start.elapsed().as_millis();

    let threads = usize::from(args.threads.unwrap_or(1));
    let query_start = Instant::now();
    let results: Vec<AreaResult> = if threads == 1 {
        let mut scratch = SearchScratch::default();
        let mut hits = Vec::new();
        areas
            .iter()
            .map(|a| match_one(&index, a, &mut scratch, &mut hits))
            .collect()
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .context("starting the thread pool")?;
        pool.install(|| {
            areas
                .par_iter()
                .map_init(
                    || (SearchScratch::default(), Vec::new()),
                    |(scratch, hits), a| match_one(&index, a, scratch, hits),
                )
                .collect()
        })
    };
    let query_ms = query_start.elapsed().as_millis();

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (area, r) in areas.iter().zip(&results) {
        if args.json {
            writeln!(
                out,
                "{}",
                json!({"id": area.id, "matched": r.matched, "micros": r.micros})
            )?;
        } else {
            writeln!(out, "{}\t{} matched\t{} µs", area.id, r.matched, r.micros)?;
        }
    }
    let summary = json!({
        "places": places,
        "load_ms": load_ms,
        "index_ms": index_ms,
        "query_ms": query_ms,
        "index_bytes": index.spatial_bytes(),
        "matcher_bytes": index.total_bytes(),
        "peak_rss_kb": peak_rss_kb(),
        "threads": threads,
    });
    if args.json {
        writeln!(out, "{summary}")?;
    } else {
        writeln!(out, "summary: {summary}")?;
    }
    out.flush()?;
    Ok(())
}

/// Matches one area, preparation included in the time.
fn match_one(
    index: &PlaceIndex,
    area: &AreaFeature,
    scratch: &mut SearchScratch,
    hits: &mut Vec<matcher::Hit>,
) -> AreaResult {
    let start = Instant::now();
    hits.clear();
    let polygon = PreparedPolygon::new(&area.shape);
    index.search_polygon(&polygon, scratch, hits);
    AreaResult {
        matched: hits.len(),
        micros: start.elapsed().as_micros(),
    }
}

fn load_places(path: &Path) -> anyhow::Result<Vec<[f64; 2]>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    // SAFETY: the map is read-only and lives only while parsing; a file
    // truncated meanwhile by another process is the one hazard, accepted
    // for a dry-run tool.
    let map = unsafe { memmap2::Mmap::map(&file) }
        .with_context(|| format!("mapping {}", path.display()))?;
    matcher::places_csv::parse_points(&map).with_context(|| format!("in {}", path.display()))
}

/// Peak resident set of this process (Linux), in KiB.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
