//! Point-in-polygon with an edge index, for reverse geocoding at millions
//! of points per second.
//!
//! A polygon's edges (exterior and holes) are bucketed into horizontal
//! bands of equal height; a query tests only the edges of its band, so the
//! cost no longer grows with a village's vertex count. The test is
//! even-odd crossing (ring orientation does not matter; holes work) with
//! geo's robust orientation predicate, and reports points exactly on an
//! edge as on the boundary.

use geo::algorithm::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, Polygon};

/// Where a point lies relative to a polygon (boundary included in neither
/// inside nor outside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Inside,
    OnBoundary,
    Outside,
}

/// A polygon prepared for repeated point queries.
pub struct PreparedPolygon {
    edges: Vec<(Coord<f64>, Coord<f64>)>,
    y0: f64,
    band_height: f64,
    /// `band_start[b]..band_start[b + 1]` indexes `band_edges`.
    band_start: Vec<u32>,
    /// The edges of each band, copied inline so a query reads one
    /// contiguous run of memory.
    band_edges: Vec<(Coord<f64>, Coord<f64>)>,
}

/// About two edges per band keeps each query to a handful of edges.
const EDGES_PER_BAND: usize = 2;
const MAX_BANDS: usize = 1 << 14;

impl PreparedPolygon {
    pub fn new(polygon: &Polygon<f64>) -> PreparedPolygon {
        let edges: Vec<(Coord<f64>, Coord<f64>)> = std::iter::once(polygon.exterior())
            .chain(polygon.interiors())
            .flat_map(|ring| ring.0.windows(2).map(|w| (w[0], w[1])))
            .filter(|(a, b)| a != b)
            .collect();
        let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
        for (a, b) in &edges {
            y0 = y0.min(a.y.min(b.y));
            y1 = y1.max(a.y.max(b.y));
        }
        let bands = (edges.len() / EDGES_PER_BAND).clamp(1, MAX_BANDS);
        let band_height = if y1 > y0 {
            (y1 - y0) / bands as f64
        } else {
            1.0
        };
        let band_of = |y: f64| (((y - y0) / band_height) as usize).min(bands - 1);
        let mut counts = vec![0u32; bands + 1];
        for (a, b) in &edges {
            for band in band_of(a.y.min(b.y))..=band_of(a.y.max(b.y)) {
                counts[band + 1] += 1;
            }
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let mut fill = counts.clone();
        let mut band_edges = vec![(Coord::zero(), Coord::zero()); counts[bands] as usize];
        for &(a, b) in &edges {
            for band in band_of(a.y.min(b.y))..=band_of(a.y.max(b.y)) {
                band_edges[fill[band] as usize] = (a, b);
                fill[band] += 1;
            }
        }
        PreparedPolygon {
            edges,
            y0,
            band_height,
            band_start: counts,
            band_edges,
        }
    }

    /// The polygon's edges (all rings).
    pub fn edges(&self) -> &[(Coord<f64>, Coord<f64>)] {
        &self.edges
    }

    /// Position of `p`: inside, on an edge, or outside.
    pub fn position(&self, p: Coord<f64>) -> Position {
        let bands = self.band_start.len() - 1;
        let offset = (p.y - self.y0) / self.band_height;
        if self.edges.is_empty() || !(0.0..=bands as f64).contains(&offset) {
            return Position::Outside;
        }
        let band = (offset as usize).min(bands - 1);
        let (from, to) = (
            self.band_start[band] as usize,
            self.band_start[band + 1] as usize,
        );
        let mut inside = false;
        for &(a, b) in &self.band_edges[from..to] {
            let (lo_y, hi_y) = if a.y < b.y { (a.y, b.y) } else { (b.y, a.y) };
            if p.y < lo_y || p.y > hi_y || p.x > a.x.max(b.x) {
                continue;
            }
            let (lo, hi) = if a.y < b.y { (a, b) } else { (b, a) };
            match RobustKernel::orient2d(lo, hi, p) {
                Orientation::Collinear if p.x >= a.x.min(b.x) => return Position::OnBoundary,
                // p is left of the upward edge: a ray to +x crosses it.
                // Half-open in y so a vertex is counted once.
                Orientation::CounterClockwise if p.y >= lo_y && p.y < hi_y => inside = !inside,
                _ => {}
            }
        }
        if inside {
            Position::Inside
        } else {
            Position::Outside
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coordinate_position::{CoordPos, CoordinatePosition};
    use geo::{LineString, polygon};

    fn agree(poly: &Polygon<f64>, p: Coord<f64>) {
        let expected = match poly.coordinate_position(&p) {
            CoordPos::Inside => Position::Inside,
            CoordPos::OnBoundary => Position::OnBoundary,
            CoordPos::Outside => Position::Outside,
        };
        assert_eq!(PreparedPolygon::new(poly).position(p), expected, "{p:?}");
    }

    #[test]
    fn agrees_with_geo_on_a_holed_concave_polygon() {
        let poly = Polygon::new(
            LineString::from(vec![
                (0.0, 0.0),
                (10.0, 0.0),
                (10.0, 10.0),
                (5.0, 4.0),
                (0.0, 10.0),
                (0.0, 0.0),
            ]),
            vec![LineString::from(vec![
                (2.0, 1.0),
                (2.0, 2.0),
                (3.0, 2.0),
                (3.0, 1.0),
                (2.0, 1.0),
            ])],
        );
        for x in 0..=22 {
            for y in 0..=22 {
                agree(
                    &poly,
                    Coord {
                        x: f64::from(x) * 0.5 - 0.25,
                        y: f64::from(y) * 0.5 - 0.25,
                    },
                );
                agree(
                    &poly,
                    Coord {
                        x: f64::from(x) * 0.5,
                        y: f64::from(y) * 0.5,
                    },
                );
            }
        }
        agree(&poly, Coord { x: 5.0, y: 4.0 });
        agree(&poly, Coord { x: 7.5, y: 7.0 });
    }

    #[test]
    fn a_square_with_many_vertices() {
        let mut pts: Vec<(f64, f64)> = (0..100).map(|i| (f64::from(i) / 100.0, 0.0)).collect();
        pts.extend((0..100).map(|i| (1.0, f64::from(i) / 100.0)));
        pts.extend((0..100).map(|i| (1.0 - f64::from(i) / 100.0, 1.0)));
        pts.extend((0..=100).map(|i| (0.0, 1.0 - f64::from(i) / 100.0)));
        let poly = Polygon::new(LineString::from(pts), vec![]);
        for (x, y) in [
            (0.5, 0.5),
            (0.0, 0.37),
            (1.0, 1.0),
            (1.2, 0.5),
            (0.5, -0.1),
            (0.999, 0.001),
        ] {
            agree(&poly, Coord { x, y });
        }
        let tri = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 0.0, y: 1.0)];
        agree(&tri, Coord { x: 0.5, y: 0.5 });
        agree(&tri, Coord { x: 0.2, y: 0.2 });
    }
}
