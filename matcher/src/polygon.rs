//! Exact, boundary-inclusive point-in-polygon on a prepared polygon.
//!
//! # Semantics
//! [`PreparedPolygon::covers`] answers the DE-9IM *covers* predicate for a
//! point (the same as PostGIS `ST_Covers(area, point)` and geo's
//! `Intersects`): a point in the interior **or on the boundary** (on an
//! edge, or exactly on a vertex) is covered. Holes and the parts of a
//! multipolygon are handled by the even-odd rule over all rings, which is
//! the OGC meaning for valid polygons (holes inside their shell, parts with
//! disjoint interiors; parts may touch).
//!
//! The decision is exact for the given `f64` coordinates: every side test
//! uses the adaptive-precision `robust::orient2d` predicate, so a point
//! 1e-15° from an edge is classified as correctly as one 1 km away.
//!
//! ```
//! use matcher::polygon::PreparedPolygon;
//! let square = geo::MultiPolygon::new(vec![geo::Polygon::new(
//!     geo::LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]),
//!     vec![],
//! )]);
//! let p = PreparedPolygon::new(&square);
//! assert!(p.covers(0.5, 0.5));
//! assert!(p.covers(1.0, 0.25)); // on an edge
//! assert!(p.covers(1.0, 1.0)); // on a vertex
//! assert!(!p.covers(1.0000001, 0.5));
//! ```
//!
//! # Cost
//! Preparation is O(E + B) for E edges and B band entries; edges are
//! bucketed into horizontal bands (about one band per edge), so a point test reads
//! only the edges of its band: O(edges crossing one horizontal strip),
//! typically a few dozen even for a county coastline. Memory: 32 bytes per
//! edge plus 32 bytes per band entry.

use geo::MultiPolygon;
use robust::{Coord, orient2d};

use crate::bbox::Bbox;

/// One edge `a → b` as `[ax, ay, bx, by]`.
pub(crate) type Edge = [f64; 4];

/// A polygon or multipolygon prepared for many point and box tests.
#[derive(Debug, Clone)]
pub struct PreparedPolygon {
    edges: Vec<Edge>,
    bbox: Bbox,
    band_origin: f64,
    band_scale: f64,
    band_start: Vec<u32>,
    band_edges: Vec<Edge>,
}

/// How a box lies relative to an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoxRelation {
    /// Every point of the closed box is covered.
    Inside,
    /// No point of the closed box is covered.
    Outside,
    /// The boundary may pass through the box: test its points one by one.
    Crossing,
}

impl PreparedPolygon {
    /// Prepares all rings of `shape`. Rings need not repeat their first
    /// point; zero-length edges are dropped (they change nothing).
    pub fn new(shape: &MultiPolygon<f64>) -> PreparedPolygon {
        let mut edges = Vec::new();
        for polygon in shape {
            push_ring(&mut edges, polygon.exterior());
            for hole in polygon.interiors() {
                push_ring(&mut edges, hole);
            }
        }
        PreparedPolygon::from_edges(edges)
    }

    /// Prepares a single ring given as lon/lat pairs (a CAP `<polygon>`).
    pub fn from_ring(points: &[[f64; 2]]) -> PreparedPolygon {
        let line: geo::LineString<f64> = points.iter().map(|p| (p[0], p[1])).collect();
        let mut edges = Vec::new();
        push_ring(&mut edges, &line);
        PreparedPolygon::from_edges(edges)
    }

    fn from_edges(edges: Vec<Edge>) -> PreparedPolygon {
        let mut bbox = Bbox::EMPTY;
        for e in &edges {
            bbox.extend(e[0], e[1]);
            bbox.extend(e[2], e[3]);
        }
        let band_count = edges.len().clamp(1, 1 << 16);
        let height = bbox.max_y - bbox.min_y;
        let band_scale = if height > 0.0 {
            band_count as f64 / height
        } else {
            0.0
        };
        let mut prepared = PreparedPolygon {
            edges,
            bbox,
            band_origin: bbox.min_y,
            band_scale,
            band_start: vec![0; band_count + 1],
            band_edges: Vec::new(),
        };
        // Counting sort of edges into every band their y-range touches.
        let mut counts = vec![0u32; band_count + 1];
        for e in &prepared.edges {
            let (lo, hi) = prepared.band_span(e);
            for b in lo..=hi {
                counts[b + 1] += 1;
            }
        }
        for b in 0..band_count {
            counts[b + 1] += counts[b];
        }
        prepared.band_start.copy_from_slice(&counts);
        let mut fill = counts;
        prepared.band_edges = vec![[0.0; 4]; prepared.band_start[band_count] as usize];
        for i in 0..prepared.edges.len() {
            let e = prepared.edges[i];
            let (lo, hi) = prepared.band_span(&e);
            for f in &mut fill[lo..=hi] {
                prepared.band_edges[*f as usize] = e;
                *f += 1;
            }
        }
        prepared
    }

    /// The band of latitude `y`. Monotone in `y` (subtraction and
    /// multiplication by a positive constant round monotonically), so an
    /// edge whose y-range holds `y` is always registered in `band(y)`.
    #[inline]
    fn band(&self, y: f64) -> usize {
        let last = self.band_start.len() - 2;
        (((y - self.band_origin) * self.band_scale) as usize).min(last)
    }

    fn band_span(&self, e: &Edge) -> (usize, usize) {
        let (lo, hi) = if e[1] <= e[3] {
            (e[1], e[3])
        } else {
            (e[3], e[1])
        };
        (self.band(lo), self.band(hi))
    }

    pub fn bbox(&self) -> Bbox {
        self.bbox
    }

    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    pub(crate) fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// Bytes held by this prepared polygon.
    pub fn heap_bytes(&self) -> usize {
        (self.edges.len() + self.band_edges.len()) * std::mem::size_of::<Edge>()
            + self.band_start.len() * 4
    }

    /// Whether the point `(x, y)` lies in the polygon or on its boundary.
    #[inline]
    pub fn covers(&self, x: f64, y: f64) -> bool {
        if !self.bbox.contains_point(x, y) {
            return false;
        }
        let band = self.band(y);
        let lo = self.band_start[band] as usize;
        let hi = self.band_start[band + 1] as usize;
        let mut inside = false;
        for &[ax, ay, bx, by] in &self.band_edges[lo..hi] {
            if (y < ay && y < by) || (y > ay && y > by) || (x > ax && x > bx) {
                continue;
            }
            // Half-open rule: an edge counts for the ray to +x when exactly
            // one end lies strictly above the point; a vertex on the ray is
            // then counted once.
            let straddles = (ay > y) != (by > y);
            if x < ax && x < bx {
                inside ^= straddles;
                continue;
            }
            // The point lies within the edge's box: decide exactly.
            let side = orient2d(
                Coord { x: ax, y: ay },
                Coord { x: bx, y: by },
                Coord { x, y },
            );
            if side == 0.0 {
                return true; // on the edge (or on one of its vertices)
            }
            // Upward edge with the point on its left, or downward edge with
            // the point on its right: the edge lies to +x of the point.
            if straddles && ((by > ay) == (side > 0.0)) {
                inside = !inside;
            }
        }
        inside
    }
}

/// Whether the segment touches the closed box. Exact: separating axes of a
/// segment and a box are the box's two axes and the segment's normal.
#[inline]
pub(crate) fn segment_touches_box(e: &Edge, b: &Bbox) -> bool {
    let [ax, ay, bx, by] = *e;
    if ax.max(bx) < b.min_x || ax.min(bx) > b.max_x || ay.max(by) < b.min_y || ay.min(by) > b.max_y
    {
        return false;
    }
    if b.contains_point(ax, ay) || b.contains_point(bx, by) {
        return true;
    }
    let a = Coord { x: ax, y: ay };
    let c = Coord { x: bx, y: by };
    let mut positive = false;
    let mut negative = false;
    for [x, y] in b.corners() {
        let s = orient2d(a, c, Coord { x, y });
        if s == 0.0 {
            return true;
        }
        positive |= s > 0.0;
        negative |= s < 0.0;
    }
    positive && negative
}

/// Whether the edge and the closed segment `p`–`q` share a point.
/// Conservative only for collinear segments whose boxes overlap (reported
/// as touching); exact otherwise.
#[inline]
pub(crate) fn segment_touches_segment(e: &Edge, p: [f64; 2], q: [f64; 2]) -> bool {
    let [ax, ay, bx, by] = *e;
    if ax.max(bx) < p[0].min(q[0])
        || ax.min(bx) > p[0].max(q[0])
        || ay.max(by) < p[1].min(q[1])
        || ay.min(by) > p[1].max(q[1])
    {
        return false;
    }
    let (a, b) = (Coord { x: ax, y: ay }, Coord { x: bx, y: by });
    let (c, d) = (Coord { x: p[0], y: p[1] }, Coord { x: q[0], y: q[1] });
    let strictly_apart = |s: f64, t: f64| (s > 0.0 && t > 0.0) || (s < 0.0 && t < 0.0);
    !(strictly_apart(orient2d(a, b, c), orient2d(a, b, d))
        || strictly_apart(orient2d(c, d, a), orient2d(c, d, b)))
}

fn push_ring(edges: &mut Vec<Edge>, ring: &geo::LineString<f64>) {
    let pts = &ring.0;
    if pts.is_empty() {
        return;
    }
    for w in pts.windows(2) {
        push_edge(edges, w[0], w[1]);
    }
    // Close the ring if the input did not repeat its first point.
    push_edge(edges, pts[pts.len() - 1], pts[0]);
}

fn push_edge(edges: &mut Vec<Edge>, a: geo::Coord<f64>, b: geo::Coord<f64>) {
    if a != b {
        edges.push([a.x, a.y, b.x, b.y]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Intersects, LineString, Point, Polygon};
    use proptest::prelude::*;

    fn square_with_hole() -> MultiPolygon<f64> {
        MultiPolygon::new(vec![Polygon::new(
            LineString::from(vec![
                (0.0, 0.0),
                (4.0, 0.0),
                (4.0, 4.0),
                (0.0, 4.0),
                (0.0, 0.0),
            ]),
            vec![LineString::from(vec![
                (1.0, 1.0),
                (3.0, 1.0),
                (3.0, 3.0),
                (1.0, 3.0),
                (1.0, 1.0),
            ])],
        )])
    }

    #[test]
    fn boundary_of_shell_and_hole_is_covered() {
        let p = PreparedPolygon::new(&square_with_hole());
        assert!(p.covers(0.0, 0.0));
        assert!(p.covers(2.0, 0.0));
        assert!(p.covers(0.5, 0.5));
        assert!(p.covers(1.0, 2.0), "hole edge is boundary");
        assert!(p.covers(3.0, 3.0), "hole vertex is boundary");
        assert!(!p.covers(2.0, 2.0), "inside the hole");
        assert!(!p.covers(4.5, 2.0));
        assert!(!p.covers(-1e-12, 2.0));
    }

    #[test]
    fn ray_through_vertices_counts_once() {
        // A diamond: a ray from (0, 0) runs exactly through the right vertex.
        let diamond = MultiPolygon::new(vec![Polygon::new(
            LineString::from(vec![(0.0, -1.0), (1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)]),
            vec![],
        )]);
        let p = PreparedPolygon::new(&diamond);
        assert!(p.covers(0.0, 0.0));
        assert!(!p.covers(-2.0, 0.0));
        assert!(!p.covers(1.5, 0.0));
        assert!(p.covers(1.0, 0.0));
        assert!(p.covers(0.5, 0.5));
    }

    #[test]
    fn segment_box_touching_is_detected() {
        let b = Bbox {
            min_x: 0.0,
            min_y: 0.0,
            max_x: 1.0,
            max_y: 1.0,
        };
        assert!(
            segment_touches_box(&[-1.0, 2.0, 2.0, -1.0], &b),
            "crosses the box diagonally"
        );
        assert!(
            !segment_touches_box(&[1.0, 2.0, 2.0, 1.0], &b),
            "passes beside the corner (1, 1)"
        );
        assert!(
            segment_touches_box(&[0.0, 2.0, 2.0, 0.0], &b),
            "touches corner (1, 1)"
        );
        assert!(segment_touches_box(&[-1.0, 0.5, 2.0, 0.5], &b));
        assert!(!segment_touches_box(&[-1.0, 1.5, 2.0, 1.1], &b));
    }

    #[test]
    fn segment_segment_touching_is_detected() {
        let e = [0.0, 0.0, 1.0, 1.0];
        assert!(
            segment_touches_segment(&e, [0.0, 1.0], [1.0, 0.0]),
            "crossing"
        );
        assert!(
            segment_touches_segment(&e, [0.5, 0.5], [2.0, 0.0]),
            "ends on the edge"
        );
        assert!(
            segment_touches_segment(&e, [1.0, 1.0], [2.0, 1.0]),
            "shares a vertex"
        );
        assert!(
            !segment_touches_segment(&e, [0.0, 0.1], [0.8, 0.9]),
            "parallel beside"
        );
        assert!(
            !segment_touches_segment(&e, [0.6, 0.5], [2.0, 0.0]),
            "stops short"
        );
    }

    fn star(n: usize, seed: u64) -> Vec<(f64, f64)> {
        let mut s = seed;
        let mut pts = Vec::new();
        for i in 0..n {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = 2.0 + 4.0 * ((s >> 11) as f64 / (1u64 << 53) as f64);
            let t = i as f64 / n as f64 * std::f64::consts::TAU;
            // Round to a coarse grid so that many test points fall on edges.
            pts.push((
                (r * t.cos() * 8.0).round() / 8.0,
                (r * t.sin() * 8.0).round() / 8.0,
            ));
        }
        pts
    }

    proptest! {
        #[test]
        fn agrees_with_geo_intersects(seed in 0u64..1000, xi in -56i32..=56, yi in -56i32..=56, fine in 0u32..3, pick in 0usize..24, kind in 0u8..3) {
            let ring = star(24, seed);
            let shape = MultiPolygon::new(vec![Polygon::new(LineString::from(ring.clone()), vec![])]);
            let p = PreparedPolygon::new(&shape);
            let (a, b) = (ring[pick], ring[(pick + 1) % ring.len()]);
            let (x, y) = match kind {
                // A vertex, an edge midpoint, or a point of a grid finer than the vertices'.
                0 => a,
                1 => ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0),
                _ => {
                    let step = 1.0 / 8.0 / f64::from(1 << fine);
                    (f64::from(xi) * step, f64::from(yi) * step)
                }
            };
            prop_assert_eq!(p.covers(x, y), shape.intersects(&Point::new(x, y)), "({}, {})", x, y);
        }
    }
}
