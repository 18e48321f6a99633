//! The full oracle run: 1M uniform points over the bounding box of all
//! villages plus every vertex and edge midpoint of every village polygon,
//! searched by every village polygon and checked against geo's exact
//! `Intersects`. Exits 1 on any false negative or false positive.
//!
//! ```text
//! oracle --data ../shared/data --points 1000000
//! ```

#[path = "../tests/oracle_core/mod.rs"]
mod oracle_core;

use std::path::PathBuf;
use std::time::Instant;

use geo::{BoundingRect, MultiPolygon};
use matcher::areas_geojson::parse_geometry;

fn main() -> std::process::ExitCode {
    let mut data = PathBuf::from("../shared/data");
    let mut uniform = 1_000_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--data", Some(d)) => data = d.into(),
            ("--points", Some(n)) => match n.parse() {
                Ok(n) => uniform = n,
                Err(e) => {
                    eprintln!("--points: {e}");
                    return std::process::ExitCode::from(2);
                }
            },
            _ => {
                eprintln!("usage: oracle [--data DIR] [--points N]");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let path = data.join("boundaries/geojson/villages.geojson");
    let villages: Result<Vec<MultiPolygon<f64>>, String> = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e}", path.display()))
        .and_then(|text| {
            serde_json::from_str::<serde_json::Value>(&text).map_err(|e| e.to_string())
        })
        .and_then(|root| {
            root["features"]
                .as_array()
                .ok_or("no features".to_owned())?
                .iter()
                .map(|f| parse_geometry(&f["geometry"], "village").map_err(|e| e.to_string()))
                .collect()
        });
    let villages = match villages {
        Ok(v) => v,
        Err(e) => {
            eprintln!("oracle: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let mut window = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for v in &villages {
        if let Some(r) = v.bounding_rect() {
            window = [
                window[0].min(r.min().x),
                window[1].min(r.min().y),
                window[2].max(r.max().x),
                window[3].max(r.max().y),
            ];
        }
    }
    let start = Instant::now();
    let (points, boundary) = oracle_core::make_points(&villages, window, uniform, 1, 42);
    let report = oracle_core::run_oracle(&villages, points);
    println!(
        "{}",
        serde_json::json!({
            "uniform_points": uniform,
            "boundary_points": boundary,
            "points": report.points,
            "polygons": report.polygons,
            "oracle_tests": report.oracle_tests,
            "matched": report.matched,
            "false_negatives": report.false_negatives,
            "false_positives": report.false_positives,
            "seconds": start.elapsed().as_secs_f64(),
        })
    );
    for e in &report.examples {
        eprintln!("{e}");
    }
    if report.false_negatives == 0 && report.false_positives == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    }
}
