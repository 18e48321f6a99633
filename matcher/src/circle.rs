//! Circles of a geodesic radius around a point (CAP `<circle>`).
//!
//! # Semantics
//! A place is inside when its great-circle distance from the centre, on a
//! sphere of the mean Earth radius (6371.0088 km, IUGG), is at most the
//! radius (boundary included). A radius of 0 means the centre point only:
//! a place matches when its coordinates equal the centre exactly. The
//! spherical model differs from the WGS84 ellipsoid by at most about 0.5 %
//! of the radius; CAP does not name an Earth model. Distances are computed
//! in `f64` with the haversine formula, so a place within about a
//! millimetre of the rim may fall either way.
//!
//! # Box classification
//! A lon/lat box (not spanning a pole or more than 180° of longitude) lies
//! inside the spherical cap exactly when its four corners do: along a
//! parallel the distance to the centre grows with the longitude difference,
//! and along a meridian it has a single minimum, so the farthest point of
//! the box is a corner. Cost: O(1) per box and per point.

use crate::bbox::Bbox;
use crate::polygon::BoxRelation;

/// Mean Earth radius (IUGG), kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// A circle prepared for point and box tests.
#[derive(Debug, Clone)]
pub struct PreparedCircle {
    lon: f64,
    lat: f64,
    radius_km: f64,
    cos_lat: f64,
    /// `hav(radius / R)`: compare haversines instead of distances.
    hav_limit: f64,
    bbox: Bbox,
}

impl PreparedCircle {
    /// A circle around (`lon`, `lat`) in degrees with `radius_km` ≥ 0.
    pub fn new(lon: f64, lat: f64, radius_km: f64) -> PreparedCircle {
        let radius_km = radius_km.max(0.0);
        let angle = radius_km / EARTH_RADIUS_KM;
        let bbox = if radius_km == 0.0 {
            Bbox::of_point(lon, lat)
        } else {
            // Latitude reach is exact on the sphere; longitude reach is the
            // tangent-meridian formula. Both widened by a margin far larger
            // than rounding so the box never cuts the cap.
            let margin = 1e-9;
            let dlat = angle.to_degrees() + margin;
            let lat_rad = lat.to_radians();
            let s = angle.sin() / lat_rad.cos();
            let dlon = if s >= 1.0 || lat.abs() + dlat >= 90.0 {
                180.0
            } else {
                s.asin().to_degrees() + margin
            };
            Bbox {
                min_x: lon - dlon,
                min_y: lat - dlat,
                max_x: lon + dlon,
                max_y: lat + dlat,
            }
        };
        let h = (angle / 2.0).sin();
        PreparedCircle {
            lon,
            lat,
            radius_km,
            cos_lat: lat.to_radians().cos(),
            hav_limit: if angle >= std::f64::consts::PI {
                1.0
            } else {
                h * h
            },
            bbox,
        }
    }

    pub fn bbox(&self) -> Bbox {
        self.bbox
    }

    pub fn radius_km(&self) -> f64 {
        self.radius_km
    }

    pub fn centre(&self) -> (f64, f64) {
        (self.lon, self.lat)
    }

    /// `hav(distance / R)` from the centre to (`x`, `y`).
    #[inline]
    fn haversine(&self, x: f64, y: f64) -> f64 {
        let dlat = (y - self.lat).to_radians();
        let dlon = (x - self.lon).to_radians();
        let a = (dlat / 2.0).sin();
        let b = (dlon / 2.0).sin();
        a * a + self.cos_lat * y.to_radians().cos() * b * b
    }

    /// Whether (`x`, `y`) lies within the radius (rim included).
    #[inline]
    pub fn covers(&self, x: f64, y: f64) -> bool {
        if self.radius_km == 0.0 {
            return x == self.lon && y == self.lat;
        }
        self.bbox.contains_point(x, y) && self.haversine(x, y) <= self.hav_limit
    }

    /// Where the closed box `b` lies relative to the circle.
    pub fn classify(&self, b: &Bbox) -> BoxRelation {
        if !self.bbox.intersects(b) {
            return BoxRelation::Outside;
        }
        if self.radius_km == 0.0 || b.max_x - b.min_x >= 180.0 {
            return BoxRelation::Crossing;
        }
        // Keep a relative safety margin so that rounding in the corner
        // distances cannot call a box inside whose far points are outside.
        let limit = self.hav_limit * (1.0 - 1e-9);
        if b.corners()
            .iter()
            .all(|&[x, y]| self.haversine(x, y) <= limit)
        {
            BoxRelation::Inside
        } else {
            BoxRelation::Crossing
        }
    }

    /// Whether the circle and `shape` (boundary or interior) share a
    /// point, by the same distance test as [`PreparedCircle::covers`]: the
    /// centre lies in the shape, or some boundary segment comes within the
    /// radius. The point of a segment nearest the centre is found on a
    /// local equirectangular frame, then tested exactly.
    pub fn intersects(&self, shape: &geo::MultiPolygon<f64>) -> bool {
        use geo::{BoundingRect, Intersects};
        let Some(rect) = shape.bounding_rect() else {
            return false;
        };
        let shape_box = Bbox {
            min_x: rect.min().x,
            min_y: rect.min().y,
            max_x: rect.max().x,
            max_y: rect.max().y,
        };
        if !self.bbox.intersects(&shape_box) {
            return false;
        }
        if shape.intersects(&geo::Point::new(self.lon, self.lat)) {
            return true;
        }
        if self.radius_km == 0.0 {
            return false;
        }
        shape
            .iter()
            .flat_map(|polygon| std::iter::once(polygon.exterior()).chain(polygon.interiors()))
            .flat_map(|ring| ring.lines())
            .any(|segment| self.reaches(segment.start, segment.end))
    }

    /// Whether some point of the segment from `a` to `b` is covered.
    fn reaches(&self, a: geo::Coord<f64>, b: geo::Coord<f64>) -> bool {
        let mut segment_box = Bbox::of_point(a.x, a.y);
        segment_box.extend(b.x, b.y);
        if !self.bbox.intersects(&segment_box) {
            return false;
        }
        // Longitude scaled by the cosine of the latitude: distances in this
        // frame are proportional to ground distances near the centre.
        let (ax, ay) = ((a.x - self.lon) * self.cos_lat, a.y - self.lat);
        let (bx, by) = ((b.x - self.lon) * self.cos_lat, b.y - self.lat);
        let (dx, dy) = (bx - ax, by - ay);
        let length2 = dx * dx + dy * dy;
        let t = if length2 > 0.0 {
            (-(ax * dx + ay * dy) / length2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let nearest = (a.x + t * (b.x - a.x), a.y + t * (b.y - a.y));
        self.covers(a.x, a.y) || self.covers(b.x, b.y) || self.covers(nearest.0, nearest.1)
    }

    /// A polygon with `n` vertices that contains the circle (vertices on a
    /// slightly larger circle), for conservative intersection tests against
    /// village or town geometry.
    pub fn enclosing_polygon(&self, n: usize) -> geo::Polygon<f64> {
        let n = n.max(8);
        let grow = 1.0 / (std::f64::consts::PI / n as f64).cos() * 1.001;
        let ring: Vec<(f64, f64)> = (0..=n)
            .map(|i| {
                let bearing = (i % n) as f64 / n as f64 * std::f64::consts::TAU;
                self.destination(bearing, self.radius_km * grow)
            })
            .collect();
        geo::Polygon::new(geo::LineString::from(ring), vec![])
    }

    /// The point `distance_km` from the centre along `bearing` (radians
    /// clockwise from north), as (lon, lat) degrees.
    fn destination(&self, bearing: f64, distance_km: f64) -> (f64, f64) {
        let angle = distance_km / EARTH_RADIUS_KM;
        let (lat1, lon1) = (self.lat.to_radians(), self.lon.to_radians());
        let lat2 = (lat1.sin() * angle.cos() + lat1.cos() * angle.sin() * bearing.cos()).asin();
        let lon2 = lon1
            + (bearing.sin() * angle.sin() * lat1.cos())
                .atan2(angle.cos() - lat1.sin() * lat2.sin());
        (lon2.to_degrees(), lat2.to_degrees())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radius_is_great_circle_distance() {
        // One degree of latitude is 111.195 km on this sphere.
        let c = PreparedCircle::new(121.0, 23.0, 111.2);
        assert!(c.covers(121.0, 24.0));
        assert!(c.covers(121.0, 22.0));
        let c = PreparedCircle::new(121.0, 23.0, 111.19);
        assert!(!c.covers(121.0, 24.0));
        // East-west a degree of longitude is shorter at 23° N: 102.35 km.
        let c = PreparedCircle::new(121.0, 23.0, 102.4);
        assert!(c.covers(122.0, 23.0));
        assert!(!c.covers(122.01, 23.0));
    }

    #[test]
    fn radius_zero_is_the_point_only() {
        let c = PreparedCircle::new(121.5, 25.0, 0.0);
        assert!(c.covers(121.5, 25.0));
        assert!(!c.covers(121.500_000_1, 25.0));
        assert_eq!(
            c.classify(&Bbox::of_point(121.5, 25.0)),
            BoxRelation::Crossing
        );
    }

    #[test]
    fn boxes_are_classified_conservatively() {
        let c = PreparedCircle::new(121.0, 23.0, 50.0);
        let inner = Bbox {
            min_x: 120.9,
            min_y: 22.9,
            max_x: 121.1,
            max_y: 23.1,
        };
        assert_eq!(c.classify(&inner), BoxRelation::Inside);
        let far = Bbox {
            min_x: 122.0,
            min_y: 22.9,
            max_x: 122.1,
            max_y: 23.1,
        };
        assert_eq!(c.classify(&far), BoxRelation::Outside);
        let rim = Bbox {
            min_x: 121.3,
            min_y: 22.9,
            max_x: 121.6,
            max_y: 23.1,
        };
        assert_eq!(c.classify(&rim), BoxRelation::Crossing);
        // Every point of an inside box is covered.
        for i in 0..=20 {
            for j in 0..=20 {
                let x = 120.9 + 0.01 * f64::from(i);
                let y = 22.9 + 0.01 * f64::from(j);
                assert!(c.covers(x, y));
            }
        }
    }

    #[test]
    fn enclosing_polygon_contains_the_rim() {
        use geo::Contains;
        let c = PreparedCircle::new(121.0, 23.0, 20.0);
        let poly = c.enclosing_polygon(32);
        for i in 0..720 {
            let (x, y) = c.destination(f64::from(i) / 720.0 * std::f64::consts::TAU, 20.0);
            assert!(c.covers(x, y) || c.haversine(x, y) <= c.hav_limit * (1.0 + 1e-12));
            assert!(poly.contains(&geo::Point::new(x, y)));
        }
    }

    #[test]
    fn a_shape_grazed_by_the_rim_intersects_and_one_just_beyond_does_not() {
        let c = PreparedCircle::new(121.0, 23.0, 5.0);
        // A square west of the circle whose east edge is the point due
        // west at `reach` km: inside the radius or just outside it.
        let square_at = |reach: f64| {
            let (x, _) = c.destination(3.0 * std::f64::consts::FRAC_PI_2, reach);
            geo::MultiPolygon::new(vec![geo::Polygon::new(
                geo::LineString::from(vec![
                    (x - 0.1, 22.9),
                    (x, 22.9),
                    (x, 23.1),
                    (x - 0.1, 23.1),
                    (x - 0.1, 22.9),
                ]),
                vec![],
            )])
        };
        assert!(c.intersects(&square_at(5.0 - 0.0003)));
        assert!(!c.intersects(&square_at(5.0 + 0.0003)));
        // A shape holding the centre; a circle far from the shape.
        assert!(c.intersects(&square_at(-3.0)));
        assert!(!PreparedCircle::new(125.0, 23.0, 5.0).intersects(&square_at(5.0)));
    }
}
