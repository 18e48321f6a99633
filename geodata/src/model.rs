//! The administrative model: areas at three levels and the Taiwan_Geocode
//! code-table entries that point at them.

use geo::{Coord, InteriorPoint, MultiPolygon};
use serde::{Deserialize, Serialize};

use crate::codes::{GeocodeTable, Level};

/// A county (縣市), town (鄉鎮市區) or village (村里).
///
/// Invariants (checked by the importer): `code` is the MOI code of the
/// level's length (5, 8 or 11 digits); a town's code starts with its
/// county's, a village's with its town's; names use 臺, never 台.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub level: Level,
    /// MOI COUNTYCODE, TOWNCODE or VILLCODE.
    pub code: String,
    /// MOI code of the county this area is in (its own code for a county).
    pub county_code: String,
    /// MOI code of the town (None for a county; its own code for a town).
    pub town_code: Option<String>,
    /// Chinese name as published (e.g. 西村里), with 臺.
    pub name: String,
    /// English name when the data has one (e.g. "Xicun Vil.").
    pub name_en: Option<String>,
    /// Boundary, WGS84 lon/lat, holes kept. May be empty for an area that
    /// came only from a code table.
    pub geometry: MultiPolygon<f64>,
    /// A point inside the area (geo's interior point), used as the
    /// representative point when geocoding to this level.
    pub label_point: Option<Coord<f64>>,
}

impl Area {
    /// Recomputes the label point from the geometry.
    pub fn refresh_label_point(&mut self) {
        self.label_point = self.geometry.interior_point().map(|p| p.0);
    }
}

/// One row of a Taiwan_Geocode table, with the MOI code it was matched to
/// at import (None when no area of the atlas fits it; `unmatched` says why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeEntry {
    pub table: GeocodeTable,
    pub code: String,
    pub level: Level,
    /// Short name (信義區).
    pub name: String,
    /// County + town (+ village), e.g. 臺北市信義區.
    pub fullname: String,
    pub name_en: Option<String>,
    pub moi_code: Option<String>,
    pub unmatched: Option<String>,
}
