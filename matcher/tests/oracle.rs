//! Oracle test: the index's polygon search against brute force with geo's
//! exact `Intersects`, on real village polygons, with points exactly on
//! vertices and on edge midpoints. The 1M-point run over all villages is
//! the `oracle` example (see bench/RESULTS.md); this is a smaller one.

mod oracle_core;

use std::path::PathBuf;

use geo::{BoundingRect, MultiPolygon};
use matcher::areas_geojson::parse_geometry;

fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("HAZARDLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    dir.join("boundaries/geojson/villages.geojson")
        .exists()
        .then_some(dir)
}

#[test]
fn village_polygons_match_exactly_with_boundaries() {
    let Some(data) = shared_data() else {
        eprintln!("shared data not found (set HAZARDLINE_SHARED_DATA): oracle test skipped");
        return;
    };
    let text = std::fs::read_to_string(data.join("boundaries/geojson/villages.geojson")).unwrap();
    let root: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The villages of a window over Taipei and New Taipei: hundreds of
    // small, adjacent polygons sharing edges.
    let window = [121.45, 24.98, 121.62, 25.12];
    let villages: Vec<MultiPolygon<f64>> = root["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| parse_geometry(&f["geometry"], "village").unwrap())
        .filter(|shape| {
            let r = shape.bounding_rect().unwrap();
            r.min().x >= window[0]
                && r.max().x <= window[2]
                && r.min().y >= window[1]
                && r.max().y <= window[3]
        })
        .collect();
    assert!(
        villages.len() > 200,
        "{} villages in the window",
        villages.len()
    );
    let (points, boundary) = oracle_core::make_points(&villages, window, 30_000, 3, 7);
    let villages_len = villages.len();
    let report = oracle_core::run_oracle(&villages, points);
    eprintln!("{report:?}");
    assert!(boundary > 5_000);
    assert_eq!(report.polygons, villages_len);
    assert_eq!(report.points, 30_000 + boundary);
    assert!(
        report.matched > 30_000,
        "boundary points are matched by the villages sharing them"
    );
    assert_eq!(
        (report.false_negatives, report.false_positives),
        (0, 0),
        "{:?}",
        report.examples
    );
}
