//! Reverse geocoding: which village a point is in.
//!
//! Semantics: a point belongs to the village whose closed polygon (boundary
//! included) contains it; a point on a boundary shared by several villages
//! (or in an overlap left by simplified data) goes to the **lowest** MOI
//! village code. A point in no polygon but within [`SNAP_DISTANCE_M`] of a
//! village (a pier, a beach, a coastline simplified away) goes to the
//! nearest village and is flagged `snapped`; anything farther is outside
//! Taiwan (`None`).
//!
//! Cost: an R-tree (rstar) over the bounding boxes of every village
//! polygon part narrows a query to a handful of candidates, each tested
//! exactly with a banded edge index ([`crate::pip`]), so a query costs
//! O(log n) plus a few edge tests regardless of village size. Snapping adds a second R-tree query and a point-to-segment
//! distance per candidate edge, only for points in no polygon.

use geo::BoundingRect;
use geo::Coord;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::atlas::Atlas;
use crate::model::Area;
use crate::pip::{Position, PreparedPolygon};

/// How far (metres) outside every polygon a point may be and still be
/// placed in the nearest village: 200 m covers piers, harbours and the
/// coastline detail lost by the 1:10,000 generalisation.
pub const SNAP_DISTANCE_M: f64 = 200.0;

type Entry = GeomWithData<Rectangle<[f64; 2]>, (u32, u32)>;

/// R-tree over village polygon parts: data = (village index, index into
/// `prepared`).
pub(crate) struct VillageIndex {
    tree: RTree<Entry>,
    prepared: Vec<PreparedPolygon>,
}

impl VillageIndex {
    pub(crate) fn build(villages: &[Area]) -> VillageIndex {
        let mut entries = Vec::with_capacity(villages.len() + villages.len() / 8);
        let mut prepared = Vec::with_capacity(entries.capacity());
        for (vi, village) in villages.iter().enumerate() {
            for polygon in &village.geometry.0 {
                if let Some(rect) = polygon.bounding_rect() {
                    let (min, max) = (rect.min(), rect.max());
                    entries.push(GeomWithData::new(
                        Rectangle::from_corners([min.x, min.y], [max.x, max.y]),
                        (vi as u32, prepared.len() as u32),
                    ));
                    prepared.push(PreparedPolygon::new(polygon));
                }
            }
        }
        VillageIndex {
            tree: RTree::bulk_load(entries),
            prepared,
        }
    }
}

/// Where a point lies: its village (and through it town and county).
#[derive(Debug, Clone, Copy)]
pub struct Location<'a> {
    pub village: &'a Area,
    /// True when the point is in no polygon and was placed in the nearest
    /// village within [`SNAP_DISTANCE_M`].
    pub snapped: bool,
    /// Distance in metres to the village (0 when inside).
    pub distance_m: f64,
}

impl Location<'_> {
    pub fn village_code(&self) -> &str {
        &self.village.code
    }

    pub fn town_code(&self) -> &str {
        self.village.town_code.as_deref().unwrap_or_default()
    }

    pub fn county_code(&self) -> &str {
        &self.village.county_code
    }
}

/// Metres per degree of longitude and latitude at latitude `lat` (degrees),
/// from the series expansion of the WGS84 ellipsoid; within 0.01 % of the
/// geodesic over the few hundred metres snapping looks at.
pub fn metres_per_degree(lat: f64) -> (f64, f64) {
    let phi = lat.to_radians();
    let per_lat = 111_132.92 - 559.82 * (2.0 * phi).cos() + 1.175 * (4.0 * phi).cos();
    let per_lon = 111_412.84 * phi.cos() - 93.5 * (3.0 * phi).cos();
    (per_lon, per_lat)
}

impl Atlas {
    /// The village containing (`lon`, `lat`), WGS84 degrees; see the module
    /// documentation for boundaries and snapping. `None` outside Taiwan.
    ///
    /// ```
    /// let atlas = geodata::demo::atlas();
    /// let v = &atlas.villages()[0];
    /// let p = v.label_point.unwrap();
    /// let loc = atlas.locate(p.x, p.y).unwrap();
    /// assert_eq!(loc.village_code(), v.code);
    /// assert!(atlas.locate(0.0, 0.0).is_none());
    /// ```
    pub fn locate(&self, lon: f64, lat: f64) -> Option<Location<'_>> {
        if !lon.is_finite() || !lat.is_finite() {
            return None;
        }
        let coord = Coord { x: lon, y: lat };
        let mut best: Option<u32> = None;
        for entry in self.village_index.tree.locate_all_at_point(&[lon, lat]) {
            let (vi, pi) = entry.data;
            if best.is_some_and(|b| b <= vi) {
                continue;
            }
            if self.village_index.prepared[pi as usize].position(coord) != Position::Outside {
                best = Some(vi);
            }
        }
        if let Some(vi) = best {
            return Some(Location {
                village: self.village_at(vi as usize),
                snapped: false,
                distance_m: 0.0,
            });
        }
        self.snap(coord)
    }

    fn snap(&self, p: Coord<f64>) -> Option<Location<'_>> {
        let (per_lon, per_lat) = metres_per_degree(p.y);
        let (dx, dy) = (SNAP_DISTANCE_M / per_lon, SNAP_DISTANCE_M / per_lat);
        let envelope = AABB::from_corners([p.x - dx, p.y - dy], [p.x + dx, p.y + dy]);
        let mut best: Option<(f64, u32)> = None;
        for entry in self
            .village_index
            .tree
            .locate_in_envelope_intersecting(&envelope)
        {
            let (vi, pi) = entry.data;
            let d = self.village_index.prepared[pi as usize].distance_m(p, per_lon, per_lat);
            let better = match best {
                None => true,
                Some((bd, bv)) => d < bd || (d == bd && vi < bv),
            };
            if better {
                best = Some((d, vi));
            }
        }
        best.filter(|&(d, _)| d <= SNAP_DISTANCE_M)
            .map(|(d, vi)| Location {
                village: self.village_at(vi as usize),
                snapped: true,
                distance_m: d,
            })
    }
}

impl PreparedPolygon {
    /// Distance in metres from `p` to the polygon's edges, in a local
    /// equirectangular frame centred on `p` (metres per degree given).
    fn distance_m(&self, p: Coord<f64>, per_lon: f64, per_lat: f64) -> f64 {
        let local = |c: Coord<f64>| ((c.x - p.x) * per_lon, (c.y - p.y) * per_lat);
        let mut best = f64::INFINITY;
        for &(a, b) in self.edges() {
            let (ax, ay) = local(a);
            let (bx, by) = local(b);
            let (ex, ey) = (bx - ax, by - ay);
            let len2 = ex * ex + ey * ey;
            let t = if len2 > 0.0 {
                (-(ax * ex + ay * ey) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (cx, cy) = (ax + t * ex, ay + t * ey);
            best = best.min((cx * cx + cy * cy).sqrt());
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metres_per_degree_matches_known_values() {
        // At 24°N one degree of latitude is about 110.8 km and one of
        // longitude about 101.7 km (WGS84).
        let (lon, lat) = metres_per_degree(24.0);
        assert!((lat - 110_800.0).abs() < 100.0, "{lat}");
        assert!((lon - 101_750.0).abs() < 150.0, "{lon}");
    }
}
