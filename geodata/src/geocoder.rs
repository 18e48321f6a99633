//! Address → village and point.
//!
//! Precision, best first: `address` (the street address is in the loaded
//! gazetteer), `village` (the address names a village: its interior
//! point), `town` (only a town is known: its interior point, no village).
//! Names are looked up with [`Atlas::find_by_names`]' variants; a town
//! name found in several counties with no county given is an
//! [`GeodataError::Ambiguous`] error listing them, never a guess.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::GeodataError;
use crate::address::Address;
use crate::atlas::Atlas;
use crate::codes::Level;
use crate::names;

/// How exactly a geocoded point was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Address,
    Village,
    Town,
}

/// A geocoded address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Geocoded {
    pub address: Address,
    pub county_code: String,
    pub town_code: String,
    /// None at `town` precision.
    pub village_code: Option<String>,
    pub lon: f64,
    pub lat: f64,
    pub precision: Precision,
}

/// Address points (門牌): street address → lon/lat, keyed by the town the
/// point lies in and the street part of the address (road, section, lane,
/// alley, number), so rows need not repeat county and town names.
#[derive(Debug, Default)]
pub struct Gazetteer {
    points: HashMap<String, (f64, f64)>,
}

fn street_key(a: &Address) -> Option<String> {
    let road = a.road.as_deref()?;
    let number = a.number.as_deref()?;
    Some(format!(
        "{}|{}|{}|{}|{}",
        names::key(road),
        a.section.as_deref().unwrap_or(""),
        a.lane.as_deref().unwrap_or(""),
        a.alley.as_deref().unwrap_or(""),
        number
    ))
}

impl Gazetteer {
    /// Reads a CSV with columns `address,lon,lat` (header required). Rows
    /// whose point lies outside the atlas, or whose address has no road
    /// and number, are skipped and counted in the returned total.
    pub fn from_csv(atlas: &Atlas, path: &Path) -> Result<(Gazetteer, usize), GeodataError> {
        let text = std::fs::read_to_string(path).map_err(|e| GeodataError::io(path, e))?;
        Gazetteer::from_csv_text(atlas, &text).map_err(|d| GeodataError::parse(path, d))
    }

    pub fn from_csv_text(atlas: &Atlas, text: &str) -> Result<(Gazetteer, usize), String> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers = reader.headers().map_err(|e| e.to_string())?.clone();
        let col = |n: &str| {
            headers
                .iter()
                .position(|h| h.eq_ignore_ascii_case(n))
                .ok_or_else(|| format!("missing column {n:?} (header must be address,lon,lat)"))
        };
        let (ca, cx, cy) = (col("address")?, col("lon")?, col("lat")?);
        let mut g = Gazetteer::default();
        let mut skipped = 0;
        for (i, row) in reader.records().enumerate() {
            let row = row.map_err(|e| format!("line {}: {e}", i + 2))?;
            let num = |c: usize| row.get(c).and_then(|v| v.parse::<f64>().ok());
            let (Some(lon), Some(lat)) = (num(cx), num(cy)) else {
                return Err(format!("line {}: lon/lat is not a number", i + 2));
            };
            let address = Address::parse(row.get(ca).unwrap_or_default());
            match (atlas.locate(lon, lat), street_key(&address)) {
                (Some(loc), Some(key)) => {
                    g.points
                        .insert(format!("{}|{key}", loc.town_code()), (lon, lat));
                }
                _ => skipped += 1,
            }
        }
        Ok((g, skipped))
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    fn get(&self, town_code: &str, address: &Address) -> Option<(f64, f64)> {
        let key = street_key(address)?;
        self.points.get(&format!("{town_code}|{key}")).copied()
    }
}

/// Geocodes `input` against `atlas` (and `gazetteer` when given).
///
/// ```
/// use geodata::geocoder::{geocode, Precision};
/// let atlas = geodata::demo::atlas();
/// let g = geocode(&atlas, None, "霧島縣雲港鎮海安里中山路7號").unwrap();
/// assert_eq!(g.village_code.as_deref(), Some("99000010002"));
/// assert_eq!(g.precision, Precision::Village);
/// let e = geocode(&atlas, None, "東區朝陽里").unwrap_err();
/// assert_eq!(e.candidates().len(), 2);
/// ```
pub fn geocode(
    atlas: &Atlas,
    gazetteer: Option<&Gazetteer>,
    input: &str,
) -> Result<Geocoded, GeodataError> {
    let address = Address::parse(input);
    if address.county.is_none() && address.town.is_none() && address.village.is_none() {
        return Err(GeodataError::Address {
            reason: format!("{input:?} names no county, town or village"),
        });
    }
    let county = address
        .county
        .as_deref()
        .map(|c| atlas.find_county(c))
        .transpose()?;
    let town = address
        .town
        .as_deref()
        .map(|t| atlas.find_town(county, t))
        .transpose()?;
    let village = match address.village.as_deref() {
        Some(v) => Some(atlas.find_village(town.or(county), v)?),
        None => None,
    };
    let town = match (town, village) {
        (Some(t), _) => t,
        (None, Some(v)) => v
            .town_code
            .as_deref()
            .and_then(|t| atlas.area(t))
            .ok_or_else(|| GeodataError::UnknownMoiCode {
                code: v.town_code.clone().unwrap_or_default(),
            })?,
        (None, None) => {
            return Err(GeodataError::Address {
                reason: format!("{input:?} names a county but no town or village"),
            });
        }
    };
    if let Some((lon, lat)) = gazetteer.and_then(|g| g.get(&town.code, &address))
        && let Some(loc) = atlas.locate(lon, lat)
    {
        return Ok(Geocoded {
            county_code: loc.county_code().to_string(),
            town_code: loc.town_code().to_string(),
            village_code: Some(loc.village_code().to_string()),
            lon,
            lat,
            precision: Precision::Address,
            address,
        });
    }
    let (area, precision) = match village {
        Some(v) => (v, Precision::Village),
        None => (town, Precision::Town),
    };
    let point = area.label_point.ok_or_else(|| GeodataError::Address {
        reason: format!(
            "{} {} has no boundary to take a point from",
            area.level, area.code
        ),
    })?;
    Ok(Geocoded {
        county_code: area.county_code.clone(),
        town_code: town.code.clone(),
        village_code: (area.level == Level::Village).then(|| area.code.clone()),
        lon: point.x,
        lat: point.y,
        precision,
        address,
    })
}
