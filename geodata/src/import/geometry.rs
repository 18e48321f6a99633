//! Geometry checks at import: rings closed, repeated points removed,
//! degenerate rings dropped, and invalid polygons (self-intersections,
//! overlapping parts) repaired with geo's `MakeValid`, each fix reported.

use geo::{Coord, LineString, MakeValid, MultiPolygon, Polygon, Validation};

/// What cleaning did to one geometry.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GeometryFixes {
    pub closed_rings: usize,
    pub dropped_rings: usize,
    /// Set when the geometry was invalid; holds the validator's first reason.
    pub repaired: Option<String>,
    /// Set when the geometry was invalid and could not be repaired (kept as is).
    pub unrepaired: Option<String>,
}

impl GeometryFixes {
    pub fn is_clean(&self) -> bool {
        *self == GeometryFixes::default()
    }
}

fn clean_ring(ring: &LineString<f64>, fixes: &mut GeometryFixes) -> Option<LineString<f64>> {
    let mut coords: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len() + 1);
    for c in &ring.0 {
        if !(c.x.is_finite() && c.y.is_finite()) {
            continue;
        }
        if coords.last() != Some(c) {
            coords.push(*c);
        }
    }
    if coords.len() > 1 && coords.first() != coords.last() {
        let first = coords[0];
        coords.push(first);
        fixes.closed_rings += 1;
    }
    if coords.len() < 4 {
        fixes.dropped_rings += 1;
        return None;
    }
    Some(LineString(coords))
}

/// Cleans and validates `geometry` in place.
pub fn clean(geometry: &mut MultiPolygon<f64>) -> GeometryFixes {
    let mut fixes = GeometryFixes::default();
    let polygons = std::mem::take(&mut geometry.0);
    for polygon in polygons {
        let (exterior, interiors) = polygon.into_inner();
        let Some(exterior) = clean_ring(&exterior, &mut fixes) else {
            fixes.dropped_rings += interiors.len();
            continue;
        };
        let interiors = interiors
            .iter()
            .filter_map(|r| clean_ring(r, &mut fixes))
            .collect();
        geometry.0.push(Polygon::new(exterior, interiors));
    }
    if let Err(problem) = geometry.check_validation() {
        let reason = problem.to_string();
        match geometry.make_valid() {
            Ok(valid) if !valid.0.is_empty() => {
                *geometry = valid;
                fixes.repaired = Some(reason);
            }
            Ok(_) => fixes.unrepaired = Some(format!("{reason}; repair left nothing")),
            Err(e) => fixes.unrepaired = Some(format!("{reason}; repair failed: {e}")),
        }
    }
    fixes
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, polygon};

    #[test]
    fn drops_degenerate_rings() {
        // geo closes rings on construction; the cleaner drops rings that
        // have fewer than three distinct points.
        let mut mp = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]),
            vec![LineString::from(vec![(0.2, 0.2), (0.2, 0.2), (0.2, 0.2)])],
        )]);
        let fixes = clean(&mut mp);
        assert_eq!(fixes.dropped_rings, 1);
        assert!(fixes.repaired.is_none());
        assert_eq!(mp.0[0].exterior().0.len(), 5);
        assert!(mp.0[0].interiors().is_empty());
    }

    #[test]
    fn repairs_a_bow_tie() {
        let mut mp = MultiPolygon(vec![polygon![
            (x: 0.0, y: 0.0), (x: 2.0, y: 2.0), (x: 2.0, y: 0.0), (x: 0.0, y: 2.0), (x: 0.0, y: 0.0)
        ]]);
        let fixes = clean(&mut mp);
        assert!(fixes.repaired.is_some(), "{fixes:?}");
        assert!(mp.is_valid());
        assert!((mp.unsigned_area() - 2.0).abs() < 1e-9);
    }
}
