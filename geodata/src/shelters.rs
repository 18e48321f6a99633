//! Shelters (避難收容處所) and the k nearest suitable ones to a point.
//!
//! Distances are geodesic on WGS84 (geo's `Geodesic`, Karney's algorithm),
//! in metres. The R-tree holds points in a locally equal-area frame
//! (longitude scaled by cos 23.5°), which orders candidates almost as the
//! geodesic does; the search keeps going until no farther candidate could
//! still be closer by more than that frame's error across Taiwan (±4 %),
//! then sorts by the geodesic distance.

use std::path::Path;

use cap::hazard::HazardKind;
use geo::{Distance, Geodesic, Point};
use rstar::RTree;
use rstar::primitives::GeomWithData;
use serde::Serialize;

use crate::GeodataError;

/// One shelter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shelter {
    pub id: String,
    pub name: String,
    pub address: String,
    pub lon: f64,
    pub lat: f64,
    /// People it can take.
    pub capacity: u32,
    /// Hazards it is suitable for.
    pub hazards: Vec<HazardKind>,
    pub indoor: bool,
}

/// A shelter and its distance from the query point.
#[derive(Debug, Clone, Serialize)]
pub struct NearbyShelter<'a> {
    pub shelter: &'a Shelter,
    pub distance_m: f64,
}

/// What a shelter must offer.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShelterFilter {
    pub hazard: Option<HazardKind>,
    pub indoor: Option<bool>,
    pub min_capacity: u32,
}

impl ShelterFilter {
    fn accepts(&self, s: &Shelter) -> bool {
        self.hazard.is_none_or(|h| s.hazards.contains(&h))
            && self.indoor.is_none_or(|i| s.indoor == i)
            && s.capacity >= self.min_capacity
    }
}

/// cos(23.5°): the longitude scale of the search frame.
const LON_SCALE: f64 = 0.917_060_074;
/// Relative error of the search frame over lat 21.5°–26.5°, with margin.
const FRAME_SLACK: f64 = 1.05;
/// Metres per degree of latitude, roughly (for the stopping rule only).
const M_PER_DEG: f64 = 110_800.0;

pub struct ShelterIndex {
    shelters: Vec<Shelter>,
    tree: RTree<GeomWithData<[f64; 2], usize>>,
}

fn parse_hazards(text: &str) -> Result<Vec<HazardKind>, String> {
    if text.trim().eq_ignore_ascii_case("all") {
        return Ok(HazardKind::ALL.to_vec());
    }
    text.split([';', '|', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            HazardKind::ALL
                .into_iter()
                .find(|h| h.as_str() == s.to_ascii_lowercase())
                .ok_or_else(|| format!("unknown hazard kind {s:?}"))
        })
        .collect()
}

fn parse_indoor(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "indoor" | "true" | "yes" | "1" | "室內" => Ok(true),
        "outdoor" | "false" | "no" | "0" | "室外" => Ok(false),
        other => Err(format!("indoor must be indoor/outdoor, got {other:?}")),
    }
}

impl ShelterIndex {
    pub fn new(shelters: Vec<Shelter>) -> ShelterIndex {
        let points = shelters
            .iter()
            .enumerate()
            .map(|(i, s)| GeomWithData::new([s.lon * LON_SCALE, s.lat], i))
            .collect();
        ShelterIndex {
            shelters,
            tree: RTree::bulk_load(points),
        }
    }

    /// Reads CSV with the header
    /// `id,name,address,lon,lat,capacity,hazards,indoor`; `hazards` is a
    /// `;`-separated list of hazard kinds (`flood;earthquake`) or `all`.
    pub fn from_csv(path: &Path) -> Result<ShelterIndex, GeodataError> {
        let text = std::fs::read_to_string(path).map_err(|e| GeodataError::io(path, e))?;
        ShelterIndex::from_csv_text(&text).map_err(|d| GeodataError::parse(path, d))
    }

    pub fn from_csv_text(text: &str) -> Result<ShelterIndex, String> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers = reader.headers().map_err(|e| e.to_string())?.clone();
        let col = |n: &str| {
            headers
                .iter()
                .position(|h| h.eq_ignore_ascii_case(n))
                .ok_or_else(|| format!("missing column {n:?}"))
        };
        let cols = [
            col("id")?,
            col("name")?,
            col("address")?,
            col("lon")?,
            col("lat")?,
            col("capacity")?,
            col("hazards")?,
            col("indoor")?,
        ];
        let mut shelters = Vec::new();
        for (i, row) in reader.records().enumerate() {
            let line = i + 2;
            let row = row.map_err(|e| format!("line {line}: {e}"))?;
            let f = |k: usize| row.get(cols[k]).unwrap_or_default();
            let num = |k: usize, what: &str| {
                f(k).parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| format!("line {line}: {what} is not a number"))
            };
            shelters.push(Shelter {
                id: f(0).to_string(),
                name: f(1).to_string(),
                address: f(2).to_string(),
                lon: num(3, "lon")?,
                lat: num(4, "lat")?,
                capacity: f(5)
                    .parse()
                    .map_err(|_| format!("line {line}: capacity is not a whole number"))?,
                hazards: parse_hazards(f(6)).map_err(|e| format!("line {line}: {e}"))?,
                indoor: parse_indoor(f(7)).map_err(|e| format!("line {line}: {e}"))?,
            });
        }
        Ok(ShelterIndex::new(shelters))
    }

    /// Reads a GeoJSON FeatureCollection of Points whose properties carry
    /// the CSV columns (hazards as a list or a `;` string).
    pub fn from_geojson_text(text: &str) -> Result<ShelterIndex, String> {
        let fc: geojson::FeatureCollection = text.parse().map_err(|e| format!("GeoJSON: {e}"))?;
        let mut shelters = Vec::new();
        for (i, f) in fc.features.into_iter().enumerate() {
            let at = |d: &str| format!("feature {i}: {d}");
            let geometry: Option<geo::Geometry<f64>> =
                f.geometry.clone().and_then(|g| g.try_into().ok());
            let (lon, lat) = match geometry {
                Some(geo::Geometry::Point(p)) => (p.x(), p.y()),
                _ => return Err(at("geometry is not a Point")),
            };
            let prop = |k: &str| f.property(k).cloned().unwrap_or(serde_json::Value::Null);
            let text = |k: &str| match prop(k) {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => String::new(),
            };
            let hazards = match prop("hazards") {
                serde_json::Value::Array(items) => items
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(";"),
                _ => text("hazards"),
            };
            shelters.push(Shelter {
                id: text("id"),
                name: text("name"),
                address: text("address"),
                lon,
                lat,
                capacity: text("capacity")
                    .parse()
                    .map_err(|_| at("capacity is not a whole number"))?,
                hazards: parse_hazards(&hazards).map_err(|e| at(&e))?,
                indoor: parse_indoor(&text("indoor")).map_err(|e| at(&e))?,
            });
        }
        Ok(ShelterIndex::new(shelters))
    }

    pub fn shelters(&self) -> &[Shelter] {
        &self.shelters
    }

    /// The `k` nearest shelters that pass `filter`, nearest first, with
    /// geodesic distances in metres.
    pub fn nearest(
        &self,
        lon: f64,
        lat: f64,
        k: usize,
        filter: ShelterFilter,
    ) -> Vec<NearbyShelter<'_>> {
        let origin = Point::new(lon, lat);
        let mut found: Vec<NearbyShelter<'_>> = Vec::new();
        if k == 0 || !lon.is_finite() || !lat.is_finite() {
            return found;
        }
        for item in self.tree.nearest_neighbor_iter(&[lon * LON_SCALE, lat]) {
            let s = &self.shelters[item.data];
            if found.len() >= k {
                // Frame distance in degrees → metres, with slack: once even
                // that exceeds the k-th geodesic distance, stop.
                let [x, y] = *item.geom();
                let frame_m =
                    ((x - lon * LON_SCALE).powi(2) + (y - lat).powi(2)).sqrt() * M_PER_DEG;
                let kth = found[k - 1].distance_m;
                if frame_m > kth * FRAME_SLACK + 1.0 {
                    break;
                }
            }
            if !filter.accepts(s) {
                continue;
            }
            let distance_m = Geodesic.distance(origin, Point::new(s.lon, s.lat));
            found.push(NearbyShelter {
                shelter: s,
                distance_m,
            });
            found.sort_by(|a, b| {
                a.distance_m
                    .total_cmp(&b.distance_m)
                    .then(a.shelter.id.cmp(&b.shelter.id))
            });
        }
        found.truncate(k);
        found
    }
}
