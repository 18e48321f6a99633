//! Finding the places of an index inside one shape.
//!
//! # How a search descends
//! From the roots down, every node box is classified against the shape:
//! - box and shape's bounding box disjoint, or no boundary edge touches
//!   the box and one of its corners is outside: **skip** the node;
//! - no boundary edge touches the box and a corner is covered: the whole
//!   box is inside, so **take every place** under it as one range, with no
//!   per-place test (this is what makes a whole-country alert cost little
//!   more than copying the ids);
//! - otherwise the boundary crosses the box: descend, and in a leaf test
//!   each point exactly ([`PreparedPolygon::covers`]).
//!
//! A polygon's edges are filtered on the way down: a child is only tested
//! against the edges that touch its parent, so the deeper (smaller) a
//! node, the fewer edges it sees. Cost: O(k + b·e) for k places inside,
//! b boundary leaves and e edges per band, plus the overlay scan
//! (bounded by the compaction policy).

use crate::bbox::Bbox;
use crate::circle::PreparedCircle;
use crate::index::{Hit, NO_VILLAGE, PlaceIndex};
use crate::polygon::{BoxRelation, PreparedPolygon, segment_touches_box, segment_touches_segment};

/// Reusable buffers for searches (one per thread).
#[derive(Debug, Default)]
pub struct SearchScratch {
    edges: Vec<u32>,
}

impl PlaceIndex {
    /// Appends to `out` the hits of every live place whose point the
    /// polygon covers (boundary included).
    pub fn search_polygon(
        &self,
        polygon: &PreparedPolygon,
        scratch: &mut SearchScratch,
        out: &mut Vec<Hit>,
    ) {
        let tree = &self.tree;
        if !tree.is_empty() && polygon.edge_count() > 0 {
            let edges = &mut scratch.edges;
            edges.clear();
            edges.extend(0..polygon.edge_count() as u32);
            let n = edges.len();
            let top = tree.top_level();
            for node in 0..tree.level_len(top) {
                self.visit_polygon(polygon, edges, top, node, 0, n, out);
            }
        }
        let base = tree.len() as u32;
        for (i, o) in self.overlay.iter().enumerate() {
            if polygon.covers(o.point[0], o.point[1]) {
                out.push(base + i as u32);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn visit_polygon(
        &self,
        polygon: &PreparedPolygon,
        edges: &mut Vec<u32>,
        level: usize,
        node: usize,
        lo: usize,
        hi: usize,
        out: &mut Vec<Hit>,
    ) {
        let tree = &self.tree;
        let b: Bbox = *tree.node_box(level, node);
        let shape_box = polygon.bbox();
        if !b.intersects(&shape_box) {
            return;
        }
        let mark = edges.len();
        let (lo, hi) = if b.contains_box(&shape_box) {
            // Every edge may touch this box: pass the list down unchanged.
            (lo, hi)
        } else {
            let all = polygon.edges();
            for k in lo..hi {
                let e = edges[k];
                if segment_touches_box(&all[e as usize], &b) {
                    edges.push(e);
                }
            }
            if edges.len() == mark {
                // No boundary in the closed box: all in or all out.
                if polygon.covers(b.min_x, b.min_y) {
                    self.take_range(tree.point_range(level, node), out);
                }
                return;
            }
            (mark, edges.len())
        };
        if level == 0 {
            // Consecutive points of a leaf are close (Hilbert order). When
            // no boundary edge touches the segment from the previous point
            // (all such edges touch this box, so they are in the local
            // list), the status carries over exactly; otherwise test anew.
            let all = polygon.edges();
            let local = &edges[lo..hi];
            let mut previous: Option<([f64; 2], bool)> = None;
            for pos in tree.point_range(0, node) {
                let p = tree.point(pos);
                let inside = match previous {
                    Some((q, status))
                        if !local
                            .iter()
                            .any(|&e| segment_touches_segment(&all[e as usize], q, p)) =>
                    {
                        status
                    }
                    _ => polygon.covers(p[0], p[1]),
                };
                previous = Some((p, inside));
                if inside {
                    self.take_one(pos, out);
                }
            }
        } else {
            for child in tree.children(level, node) {
                self.visit_polygon(polygon, edges, level - 1, child, lo, hi, out);
            }
        }
        edges.truncate(mark);
    }

    /// Appends to `out` the hits of every live place within the circle.
    pub fn search_circle(&self, circle: &PreparedCircle, out: &mut Vec<Hit>) {
        let tree = &self.tree;
        if !tree.is_empty() {
            let top = tree.top_level();
            for node in 0..tree.level_len(top) {
                self.visit_circle(circle, top, node, out);
            }
        }
        let base = tree.len() as u32;
        for (i, o) in self.overlay.iter().enumerate() {
            if circle.covers(o.point[0], o.point[1]) {
                out.push(base + i as u32);
            }
        }
    }

    fn visit_circle(&self, circle: &PreparedCircle, level: usize, node: usize, out: &mut Vec<Hit>) {
        let tree = &self.tree;
        match circle.classify(tree.node_box(level, node)) {
            BoxRelation::Outside => {}
            BoxRelation::Inside => self.take_range(tree.point_range(level, node), out),
            BoxRelation::Crossing if level == 0 => {
                for pos in tree.point_range(0, node) {
                    let [x, y] = tree.point(pos);
                    if circle.covers(x, y) {
                        self.take_one(pos, out);
                    }
                }
            }
            BoxRelation::Crossing => {
                for child in tree.children(level, node) {
                    self.visit_circle(circle, level - 1, child, out);
                }
            }
        }
    }

    /// Appends to `out` the hits of every live place with a point whose
    /// stored village is in `villages` (matching by code, not geometry).
    /// O(n) over 2 bytes per place.
    pub(crate) fn search_villages(
        &self,
        villages: &[crate::codes::VillageCode],
        out: &mut Vec<Hit>,
    ) {
        let mut wanted = vec![false; self.villages.len()];
        let mut any = false;
        for &v in villages {
            if let Some(i) = self.villages.find(v) {
                wanted[usize::from(i)] = true;
                any = true;
            }
        }
        if !any {
            return;
        }
        let is_wanted = |v: u16| v != NO_VILLAGE && wanted[usize::from(v)];
        for (pos, a) in self.attrs.iter().enumerate() {
            if is_wanted(a.village) {
                self.take_one(pos, out);
            }
        }
        let base = self.tree.len() as u32;
        for (i, o) in self.overlay.iter().enumerate() {
            if is_wanted(o.attrs.village) {
                out.push(base + i as u32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Location, PlaceKey, PlaceRecord, PrefsRef, SubscriberId};
    use geo::{LineString, MultiPolygon, Polygon};

    fn grid_points(step: f64) -> Vec<[f64; 2]> {
        let mut pts = Vec::new();
        let n = (1.0 / step).round() as i32;
        for i in 0..=n {
            for j in 0..=n {
                pts.push([120.0 + f64::from(i) * step, 23.0 + f64::from(j) * step]);
            }
        }
        pts
    }

    fn brute(points: &[[f64; 2]], p: &PreparedPolygon) -> Vec<[f64; 2]> {
        let mut v: Vec<[f64; 2]> = points
            .iter()
            .copied()
            .filter(|q| p.covers(q[0], q[1]))
            .collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v
    }

    fn found(index: &PlaceIndex, hits: &[Hit]) -> Vec<[f64; 2]> {
        let mut v: Vec<[f64; 2]> = hits.iter().map(|&h| index.place(h).point).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v
    }

    fn l_shape() -> MultiPolygon<f64> {
        // Vertices on the point grid, so many points lie on the boundary.
        MultiPolygon::new(vec![
            Polygon::new(
                LineString::from(vec![
                    (120.1, 23.1),
                    (120.9, 23.1),
                    (120.9, 23.4),
                    (120.4, 23.4),
                    (120.4, 23.9),
                    (120.1, 23.9),
                ]),
                vec![LineString::from(vec![
                    (120.2, 23.2),
                    (120.3, 23.2),
                    (120.3, 23.3),
                    (120.2, 23.3),
                ])],
            ),
            Polygon::new(
                LineString::from(vec![(120.95, 23.95), (121.0, 23.95), (121.0, 24.0)]),
                vec![],
            ),
        ])
    }

    #[test]
    fn polygon_search_equals_brute_force_and_takes_boundary() {
        let points = grid_points(0.01);
        let index = PlaceIndex::from_points(points.clone()).unwrap();
        let poly = PreparedPolygon::new(&l_shape());
        let mut out = Vec::new();
        index.search_polygon(&poly, &mut SearchScratch::default(), &mut out);
        let expected = brute(&points, &poly);
        assert_eq!(out.len(), expected.len(), "no place twice");
        assert_eq!(found(&index, &out), expected);
        assert!(expected.contains(&[120.1, 23.1]), "vertex taken");
        assert!(expected.contains(&[120.25, 23.2]), "hole edge taken");
        assert!(!expected.contains(&[120.25, 23.25]), "hole interior left");
    }

    #[test]
    fn overlay_and_tombstones_are_searched() {
        let points = grid_points(0.02);
        let mut index = PlaceIndex::from_points(points.clone()).unwrap();
        let poly = PreparedPolygon::new(&l_shape());
        let key = |s: u32| PlaceKey {
            subscriber: SubscriberId(s),
            place: 0,
        };
        // Move place 0 (at 120.0, 23.0, outside) into the shape, remove one
        // place inside, add a new one inside.
        index
            .upsert(PlaceRecord {
                key: key(0),
                location: Location::Point {
                    lon: 120.5,
                    lat: 23.2,
                    village: None,
                },
                prefs: PrefsRef(0),
            })
            .unwrap();
        let inside = points.iter().position(|p| *p == [120.2, 23.6]).unwrap() as u32;
        assert!(index.remove(key(inside)).unwrap());
        assert!(!index.remove(key(inside)).unwrap());
        index
            .upsert(PlaceRecord {
                key: key(1_000_000),
                location: Location::Point {
                    lon: 120.3,
                    lat: 23.5,
                    village: None,
                },
                prefs: PrefsRef(0),
            })
            .unwrap();
        let mut live: Vec<[f64; 2]> = points
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != 0 && i as u32 != inside)
            .map(|(_, p)| *p)
            .collect();
        live.push([120.5, 23.2]);
        live.push([120.3, 23.5]);
        let expected = brute(&live, &poly);
        let mut out = Vec::new();
        index.search_polygon(&poly, &mut SearchScratch::default(), &mut out);
        assert_eq!(found(&index, &out), expected);
        assert_eq!(index.pending_changes(), (2, 2));
        index.compact().unwrap();
        assert_eq!(index.pending_changes(), (0, 0));
        out.clear();
        index.search_polygon(&poly, &mut SearchScratch::default(), &mut out);
        assert_eq!(found(&index, &out), expected);
        // Keys still resolve after compaction.
        assert!(index.remove(key(1_000_000)).unwrap());
    }

    #[test]
    fn compaction_threshold_keeps_results() {
        let points = grid_points(0.05);
        let mut index = PlaceIndex::from_points(points.clone()).unwrap();
        index.set_compaction_policy(crate::index::CompactionPolicy {
            overlay_floor: 3,
            overlay_share: 0.0,
            dead_share: 0.01,
        });
        for s in 0..50u32 {
            index
                .upsert(PlaceRecord {
                    key: PlaceKey {
                        subscriber: SubscriberId(s),
                        place: 0,
                    },
                    location: Location::Point {
                        lon: 120.5,
                        lat: 23.25 + f64::from(s) * 1e-3,
                        village: None,
                    },
                    prefs: PrefsRef(0),
                })
                .unwrap();
        }
        assert!(index.pending_changes().0 <= 3);
        let mut live: Vec<[f64; 2]> = points[50..].to_vec();
        live.extend((0..50u32).map(|s| [120.5, 23.25 + f64::from(s) * 1e-3]));
        let poly = PreparedPolygon::new(&l_shape());
        let mut out = Vec::new();
        index.search_polygon(&poly, &mut SearchScratch::default(), &mut out);
        assert_eq!(found(&index, &out), brute(&live, &poly));
    }

    #[test]
    fn circle_search_equals_brute_force() {
        let points = grid_points(0.01);
        let index = PlaceIndex::from_points(points.clone()).unwrap();
        for (r, cx) in [(0.0, 120.5), (5.0, 120.5), (30.0, 120.3), (200.0, 120.5)] {
            let c = PreparedCircle::new(cx, 23.5, r);
            let mut out = Vec::new();
            index.search_circle(&c, &mut out);
            let mut expected: Vec<[f64; 2]> = points
                .iter()
                .copied()
                .filter(|p| c.covers(p[0], p[1]))
                .collect();
            expected.sort_by(|a, b| a.partial_cmp(b).unwrap());
            assert_eq!(found(&index, &out), expected, "radius {r}");
            if r == 0.0 {
                assert_eq!(out.len(), 1);
            }
        }
    }
}
