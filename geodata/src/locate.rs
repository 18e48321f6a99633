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
//! Cost: a uniform 0.01° grid lists the village polygon parts whose
//! bounding box meets each cell, in ascending code order; a query reads one
//! cell, checks bounding boxes and tests the survivors exactly with a
//! banded edge index ([`crate::pip`]), stopping at the first hit: O(1) plus
//! a few edge tests, whatever the village size. An rstar R-tree over the
//! same boxes serves the snapping search (points in no polygon only). The
//! grid replaced an R-tree descent for point queries because the descent's
//! cache misses halved throughput (see `bench/RESULTS.md`).

use geo::BoundingRect;
use geo::Coord;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::model::Area;
use crate::pip::{Position, PreparedPolygon};

/// How far (metres) outside every polygon a point may be and still be
/// placed in the nearest village: 200 m covers piers, harbours and the
/// coastline detail lost by the 1:10,000 generalisation.
pub const SNAP_DISTANCE_M: f64 = 200.0;

type Entry = GeomWithData<Rectangle<[f64; 2]>, (u32, u32)>;

/// Village polygon parts, indexed twice: a uniform grid for point queries
/// (one memory lookup instead of an R-tree descent; parts listed per cell
/// in ascending village order, so the first hit is the lowest code) and an
/// R-tree for the snapping search. data = (village index, part index).
pub(crate) struct VillageIndex {
    tree: RTree<Entry>,
    prepared: Vec<PreparedPolygon>,
    parts: Vec<PartBox>,
    grid: Grid,
}

/// A part's village and bounding box.
struct PartBox {
    village: u32,
    min: Coord<f64>,
    max: Coord<f64>,
}

/// Grid cell size in degrees (about 1 km).
const CELL_DEG: f64 = 0.01;

struct Grid {
    origin: Coord<f64>,
    /// Cell size in degrees: [`CELL_DEG`], or larger for data spanning more
    /// than 4,096 cells.
    cell: f64,
    nx: usize,
    ny: usize,
    /// `cell_start[c]..cell_start[c + 1]` indexes `items` (part indices).
    cell_start: Vec<u32>,
    items: Vec<u32>,
}

impl Grid {
    fn build(parts: &[PartBox]) -> Grid {
        let (mut lo, mut hi) = (
            Coord {
                x: f64::INFINITY,
                y: f64::INFINITY,
            },
            Coord {
                x: f64::NEG_INFINITY,
                y: f64::NEG_INFINITY,
            },
        );
        for p in parts {
            lo = Coord {
                x: lo.x.min(p.min.x),
                y: lo.y.min(p.min.y),
            };
            hi = Coord {
                x: hi.x.max(p.max.x),
                y: hi.y.max(p.max.y),
            };
        }
        if parts.is_empty() {
            return Grid {
                origin: Coord::zero(),
                cell: CELL_DEG,
                nx: 0,
                ny: 0,
                cell_start: vec![0],
                items: Vec::new(),
            };
        }
        let cell = CELL_DEG.max((hi.x - lo.x).max(hi.y - lo.y) / 4096.0);
        let nx = ((hi.x - lo.x) / cell) as usize + 1;
        let ny = ((hi.y - lo.y) / cell) as usize + 1;
        let grid = Grid {
            origin: lo,
            cell,
            nx,
            ny,
            cell_start: Vec::new(),
            items: Vec::new(),
        };
        let mut counts = vec![0u32; nx * ny + 1];
        for p in parts {
            grid.for_cells(p, |c| counts[c + 1] += 1);
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let mut fill = counts.clone();
        let mut items = vec![0u32; counts[nx * ny] as usize];
        for (pi, p) in parts.iter().enumerate() {
            grid.for_cells(p, |c| {
                items[fill[c] as usize] = pi as u32;
                fill[c] += 1;
            });
        }
        Grid {
            cell_start: counts,
            items,
            ..grid
        }
    }

    fn cell_xy(&self, c: Coord<f64>) -> (usize, usize) {
        let x = ((c.x - self.origin.x) / self.cell).max(0.0) as usize;
        let y = ((c.y - self.origin.y) / self.cell).max(0.0) as usize;
        (
            x.min(self.nx.saturating_sub(1)),
            y.min(self.ny.saturating_sub(1)),
        )
    }

    fn for_cells(&self, p: &PartBox, mut f: impl FnMut(usize)) {
        let (x0, y0) = self.cell_xy(p.min);
        let (x1, y1) = self.cell_xy(p.max);
        for y in y0..=y1 {
            for x in x0..=x1 {
                f(y * self.nx + x);
            }
        }
    }

    /// Part indices that may contain `c` (empty outside the grid).
    fn candidates(&self, c: Coord<f64>) -> &[u32] {
        let fx = (c.x - self.origin.x) / self.cell;
        let fy = (c.y - self.origin.y) / self.cell;
        if !(fx >= 0.0 && fy >= 0.0 && fx < self.nx as f64 && fy < self.ny as f64) {
            return &[];
        }
        let cell = fy as usize * self.nx + fx as usize;
        &self.items[self.cell_start[cell] as usize..self.cell_start[cell + 1] as usize]
    }
}

impl VillageIndex {
    pub(crate) fn build(villages: &[Area]) -> VillageIndex {
        let mut entries = Vec::with_capacity(villages.len() + villages.len() / 8);
        let mut prepared = Vec::with_capacity(entries.capacity());
        let mut parts = Vec::with_capacity(entries.capacity());
        for (vi, village) in villages.iter().enumerate() {
            for polygon in &village.geometry.0 {
                if let Some(rect) = polygon.bounding_rect() {
                    let (min, max) = (rect.min(), rect.max());
                    entries.push(GeomWithData::new(
                        Rectangle::from_corners([min.x, min.y], [max.x, max.y]),
                        (vi as u32, prepared.len() as u32),
                    ));
                    prepared.push(PreparedPolygon::new(polygon));
                    parts.push(PartBox {
                        village: vi as u32,
                        min,
                        max,
                    });
                }
            }
        }
        VillageIndex {
            tree: RTree::bulk_load(entries),
            prepared,
            grid: Grid::build(&parts),
            parts,
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

impl VillageIndex {
    /// The village of `villages` (the slice this index was built from)
    /// containing (`lon`, `lat`); [`Atlas::locate`](crate::Atlas::locate)
    /// is the public face.
    pub(crate) fn locate<'a>(
        &self,
        villages: &'a [Area],
        lon: f64,
        lat: f64,
    ) -> Option<Location<'a>> {
        if !lon.is_finite() || !lat.is_finite() {
            return None;
        }
        let coord = Coord { x: lon, y: lat };
        let index = self;
        for &pi in index.grid.candidates(coord) {
            let part = &index.parts[pi as usize];
            if coord.x < part.min.x
                || coord.x > part.max.x
                || coord.y < part.min.y
                || coord.y > part.max.y
            {
                continue;
            }
            if index.prepared[pi as usize].position(coord) != Position::Outside {
                return Some(Location {
                    village: &villages[part.village as usize],
                    snapped: false,
                    distance_m: 0.0,
                });
            }
        }
        self.snap(villages, coord)
    }

    fn snap<'a>(&self, villages: &'a [Area], p: Coord<f64>) -> Option<Location<'a>> {
        let (per_lon, per_lat) = metres_per_degree(p.y);
        let (dx, dy) = (SNAP_DISTANCE_M / per_lon, SNAP_DISTANCE_M / per_lat);
        let envelope = AABB::from_corners([p.x - dx, p.y - dy], [p.x + dx, p.y + dy]);
        let mut best: Option<(f64, u32)> = None;
        for entry in self.tree.locate_in_envelope_intersecting(&envelope) {
            let (vi, pi) = entry.data;
            let d = self.prepared[pi as usize].distance_m(p, per_lon, per_lat);
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
                village: &villages[vi as usize],
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
