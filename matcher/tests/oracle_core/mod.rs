//! The brute-force oracle shared by the `oracle` test and the `oracle`
//! example: every village polygon is searched through the index and the
//! result compared, point by point, with geo's `Intersects` (DE-9IM, exact
//! orientation predicates, boundary included) over all points in the
//! polygon's bounding box.

use geo::{BoundingRect, Intersects, MultiPolygon, Point};
use matcher::PlaceIndex;
use matcher::polygon::PreparedPolygon;
use matcher::search::SearchScratch;

#[derive(Debug, Default)]
pub struct OracleReport {
    pub points: usize,
    pub polygons: usize,
    pub oracle_tests: u64,
    pub matched: u64,
    pub false_negatives: u64,
    pub false_positives: u64,
    pub examples: Vec<String>,
}

/// Uniform points in `window` rounded to 7 decimals, plus every
/// `stride`-th vertex and edge midpoint of the polygons.
pub fn make_points(
    polygons: &[MultiPolygon<f64>],
    window: [f64; 4],
    uniform: usize,
    stride: usize,
    seed: u64,
) -> (Vec<[f64; 2]>, usize) {
    let mut s = seed;
    let mut next = || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut points = Vec::with_capacity(uniform);
    for _ in 0..uniform {
        let x = window[0] + (window[2] - window[0]) * next();
        let y = window[1] + (window[3] - window[1]) * next();
        points.push([(x * 1e7).round() / 1e7, (y * 1e7).round() / 1e7]);
    }
    let mut k = 0usize;
    let before = points.len();
    for shape in polygons {
        for polygon in shape {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                for w in ring.0.windows(2) {
                    k += 1;
                    if k.is_multiple_of(stride) {
                        points.push([w[0].x, w[0].y]);
                        points.push([(w[0].x + w[1].x) / 2.0, (w[0].y + w[1].y) / 2.0]);
                    }
                }
            }
        }
    }
    let boundary = points.len() - before;
    (points, boundary)
}

pub fn run_oracle(polygons: &[MultiPolygon<f64>], points: Vec<[f64; 2]>) -> OracleReport {
    let mut report = OracleReport {
        points: points.len(),
        polygons: polygons.len(),
        ..OracleReport::default()
    };
    // Points sorted by x for the oracle's bounding-box scan.
    let mut by_x: Vec<u32> = (0..points.len() as u32).collect();
    by_x.sort_by(|&a, &b| points[a as usize][0].total_cmp(&points[b as usize][0]));
    let xs: Vec<f64> = by_x.iter().map(|&i| points[i as usize][0]).collect();
    let index = PlaceIndex::from_points(points.clone()).expect("index");
    let mut scratch = SearchScratch::default();
    let mut hits = Vec::new();
    for (pi, shape) in polygons.iter().enumerate() {
        let Some(rect) = shape.bounding_rect() else {
            continue;
        };
        let lo = xs.partition_point(|&x| x < rect.min().x);
        let hi = xs.partition_point(|&x| x <= rect.max().x);
        let mut expected: Vec<u32> = Vec::new();
        for &i in &by_x[lo..hi] {
            let [x, y] = points[i as usize];
            if y < rect.min().y || y > rect.max().y {
                continue;
            }
            report.oracle_tests += 1;
            if shape.intersects(&Point::new(x, y)) {
                expected.push(i);
            }
        }
        expected.sort_unstable();
        hits.clear();
        index.search_polygon(&PreparedPolygon::new(shape), &mut scratch, &mut hits);
        let mut got: Vec<u32> = hits
            .iter()
            .map(|&h| index.place(h).key.subscriber.0)
            .collect();
        got.sort_unstable();
        report.matched += got.len() as u64;
        let (mut a, mut b) = (0, 0);
        while a < expected.len() || b < got.len() {
            let (e, g) = (expected.get(a), got.get(b));
            if e == g {
                a += 1;
                b += 1;
                continue;
            }
            let missing = match (e, g) {
                (Some(e), Some(g)) => e < g,
                (Some(_), None) => true,
                _ => false,
            };
            let i = if missing { expected[a] } else { got[b] };
            if missing {
                report.false_negatives += 1;
                a += 1;
            } else {
                report.false_positives += 1;
                b += 1;
            }
            if report.examples.len() < 10 {
                let kind = if missing { "missed" } else { "wrongly matched" };
                report.examples.push(format!(
                    "polygon {pi}: {kind} point {:?}",
                    points[i as usize]
                ));
            }
        }
    }
    report
}
