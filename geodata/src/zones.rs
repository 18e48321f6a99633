//! Hazard-prone zones (debris-flow potential areas, flood-prone areas):
//! polygons with a hazard kind, and which of them contain a point.
//!
//! "Contains" includes the boundary. An R-tree over every polygon part's
//! bounding box keeps a query to the few parts near the point.

use std::collections::BTreeMap;

use cap::hazard::HazardKind;
use geo::{BoundingRect, Contains, Coord, Geometry, Intersects, MultiPolygon, Polygon};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};
use serde::Serialize;

/// One zone.
#[derive(Debug, Clone, Serialize)]
pub struct Zone {
    pub id: String,
    pub kind: HazardKind,
    pub name: String,
    #[serde(skip)]
    pub geometry: MultiPolygon<f64>,
    /// The source feature's other properties, as text.
    pub properties: BTreeMap<String, String>,
}

/// R-tree entry: a polygon part's bounding box and (zone, part) indices.
type PartBox = GeomWithData<Rectangle<[f64; 2]>, (usize, usize)>;

pub struct ZoneIndex {
    zones: Vec<Zone>,
    tree: RTree<PartBox>,
}

impl ZoneIndex {
    pub fn new(zones: Vec<Zone>) -> ZoneIndex {
        let mut entries = Vec::new();
        for (zi, z) in zones.iter().enumerate() {
            for (pi, p) in z.geometry.0.iter().enumerate() {
                if let Some(r) = p.bounding_rect() {
                    entries.push(GeomWithData::new(
                        Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                        (zi, pi),
                    ));
                }
            }
        }
        ZoneIndex {
            zones,
            tree: RTree::bulk_load(entries),
        }
    }

    /// Reads a GeoJSON FeatureCollection of Polygon / MultiPolygon
    /// features, all of hazard `kind` (the files do not say it). The id is
    /// the feature id, else an `id`/`ID`/`FID` property, else the index; the
    /// name is a `name`/`Name` property. Other geometry types are errors.
    pub fn from_geojson_text(text: &str, kind: HazardKind) -> Result<Vec<Zone>, String> {
        let fc: geojson::FeatureCollection = text.parse().map_err(|e| format!("GeoJSON: {e}"))?;
        let mut zones = Vec::new();
        for (i, f) in fc.features.into_iter().enumerate() {
            let properties: BTreeMap<String, String> = f
                .properties
                .iter()
                .flatten()
                .filter_map(|(k, v)| match v {
                    serde_json::Value::String(s) => Some((k.clone(), s.clone())),
                    serde_json::Value::Number(n) => Some((k.clone(), n.to_string())),
                    _ => None,
                })
                .collect();
            let pick = |keys: &[&str]| keys.iter().find_map(|k| properties.get(*k).cloned());
            let id = match &f.id {
                Some(geojson::feature::Id::String(s)) => s.clone(),
                Some(geojson::feature::Id::Number(n)) => n.to_string(),
                None => pick(&["id", "ID", "FID"]).unwrap_or_else(|| i.to_string()),
            };
            let name = pick(&["name", "Name", "NAME"]).unwrap_or_else(|| id.clone());
            let geometry = f
                .geometry
                .ok_or_else(|| format!("feature {i} has no geometry"))?;
            let geometry: Geometry<f64> = geometry
                .try_into()
                .map_err(|e| format!("feature {i}: {e}"))?;
            let geometry = match geometry {
                Geometry::Polygon(p) => MultiPolygon(vec![p]),
                Geometry::MultiPolygon(mp) => mp,
                _ => return Err(format!("feature {i}: zones must be polygons")),
            };
            zones.push(Zone {
                id,
                kind,
                name,
                geometry,
                properties,
            });
        }
        Ok(zones)
    }

    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    /// Zones containing (`lon`, `lat`), boundary included, in load order,
    /// each once.
    pub fn containing(&self, lon: f64, lat: f64) -> Vec<&Zone> {
        let c = Coord { x: lon, y: lat };
        let mut hits: Vec<usize> = self
            .tree
            .locate_all_at_point(&[lon, lat])
            .filter(|e| {
                let p: &Polygon<f64> = &self.zones[e.data.0].geometry.0[e.data.1];
                p.contains(&c) || p.intersects(&c)
            })
            .map(|e| e.data.0)
            .collect();
        hits.sort_unstable();
        hits.dedup();
        hits.into_iter().map(|i| &self.zones[i]).collect()
    }
}
