//! The benchmark's R-tree comparison: the same places bulk-loaded into
//! rstar (the version geo uses), queried by the area's bounding box and
//! filtered with the same exact test. Shows what the packed tree and the
//! node classification buy. Output as `hazardline match --json`.

use std::io::Write;
use std::time::Instant;

use matcher::areas_geojson::parse_areas;
use matcher::places_csv::parse_points;
use matcher::polygon::PreparedPolygon;
use rstar::primitives::GeomWithData;
use rstar::{AABB, RTree};
use serde_json::json;

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_rstar: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

fn run() -> Result<(), String> {
    let mut places = None;
    let mut areas = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--places" => places = args.next(),
            "--areas" => areas = args.next(),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    let (Some(places), Some(areas)) = (places, areas) else {
        return Err("usage: bench_rstar --places PLACES.csv --areas AREAS.geojson".into());
    };
    let t = Instant::now();
    let bytes = std::fs::read(&places).map_err(|e| format!("{places}: {e}"))?;
    let points = parse_points(&bytes).map_err(|e| format!("{places}: {e}"))?;
    drop(bytes);
    let text = std::fs::read_to_string(&areas).map_err(|e| format!("{areas}: {e}"))?;
    let areas = parse_areas(&text).map_err(|e| format!("{areas}: {e}"))?;
    let load_ms = t.elapsed().as_millis();
    let n = points.len();
    let entries: Vec<GeomWithData<[f64; 2], u32>> = points
        .iter()
        .enumerate()
        .map(|(i, p)| GeomWithData::new(*p, i as u32))
        .collect();
    drop(points);
    let before = rss_kb();
    let t = Instant::now();
    let tree = RTree::bulk_load(entries);
    let index_ms = t.elapsed().as_millis();
    let index_bytes = rss_kb().saturating_sub(before) * 1024;
    let t = Instant::now();
    let mut lines = Vec::new();
    for area in &areas {
        let start = Instant::now();
        let polygon = PreparedPolygon::new(&area.shape);
        let b = polygon.bbox();
        let envelope = AABB::from_corners([b.min_x, b.min_y], [b.max_x, b.max_y]);
        let matched = tree
            .locate_in_envelope(&envelope)
            .filter(|e| polygon.covers(e.geom()[0], e.geom()[1]))
            .count();
        lines.push(
            json!({"id": area.id, "matched": matched, "micros": start.elapsed().as_micros()}),
        );
    }
    let query_ms = t.elapsed().as_millis();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let io = |e: std::io::Error| e.to_string();
    for l in lines {
        writeln!(out, "{l}").map_err(io)?;
    }
    writeln!(
        out,
        "{}",
        json!({"places": n, "load_ms": load_ms, "index_ms": index_ms, "query_ms": query_ms, "index_bytes": index_bytes, "threads": 1})
    )
    .map_err(io)?;
    out.flush().map_err(io)
}
