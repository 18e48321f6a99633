//! Import: boundary files and code tables in, one [`Atlas`] out.
//!
//! Each path is read by content, not by extension: a shapefile by its
//! magic number, JSON by its top-level shape (`"type": "Topology"` →
//! TopoJSON, `FeatureCollection`/`Feature` → GeoJSON, an array of
//! `{"code","name"}` rows → a Taiwan_Geocode table whose edition comes from
//! the file name). Features are classified by their MOI properties
//! (`VILLCODE` → village, else `TOWNCODE` → town, else `COUNTYCODE` →
//! county); features with none of them (the atlas's `nation`) are counted
//! and skipped. A later file's area replaces an earlier one with the same
//! code.

mod codetable;
mod geojson;
pub mod geometry;
pub mod shapefile;
mod topojson;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use geo::MultiPolygon;
use serde::Serialize;

use crate::GeodataError;
use crate::atlas::Atlas;
use crate::codes::{GeocodeTable, Level};
use crate::model::{Area, CodeEntry};
use crate::names;

pub use codetable::{edition_from_file_name, match_entries};
pub use geometry::GeometryFixes;

/// One feature as read from a file, before classification.
#[derive(Debug)]
pub(crate) struct RawFeature {
    /// Property names upper-cased, values as text.
    pub properties: HashMap<String, String>,
    pub geometry: MultiPolygon<f64>,
    /// File and position, for messages.
    pub origin: String,
}

pub(crate) fn string_properties(v: Option<&serde_json::Value>) -> HashMap<String, String> {
    let Some(serde_json::Value::Object(map)) = v else {
        return HashMap::new();
    };
    map.iter()
        .filter_map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.trim().to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some((k.to_ascii_uppercase(), text))
        })
        .collect()
}

/// What an import read and did.
#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    pub files: Vec<FileSummary>,
    pub counties: usize,
    pub towns: usize,
    pub villages: usize,
    /// Features without MOI codes (e.g. the `nation` outline).
    pub skipped_features: usize,
    /// Code-table rows per table, and those that fit no area.
    pub code_entries: BTreeMap<String, usize>,
    pub unmatched_codes: Vec<UnmatchedCode>,
    /// Areas whose geometry had to be fixed or could not be.
    pub geometry_fixes: Vec<AreaFix>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct FileSummary {
    pub path: PathBuf,
    pub format: &'static str,
    pub items: usize,
}

#[derive(Debug, Serialize)]
pub struct UnmatchedCode {
    pub table: String,
    pub code: String,
    pub fullname: String,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct AreaFix {
    pub code: String,
    pub closed_rings: usize,
    pub dropped_rings: usize,
    pub repaired: Option<String>,
    pub unrepaired: Option<String>,
}

enum Content {
    Features(&'static str, Vec<RawFeature>),
    Codes(Vec<CodeEntry>),
}

fn read_one(path: &Path) -> Result<Content, GeodataError> {
    let bytes = std::fs::read(path).map_err(|e| GeodataError::io(path, e))?;
    // Shapefile main header: big-endian file code 9994.
    if bytes.len() >= 100 && bytes[..4] == [0x00, 0x00, 0x27, 0x0a] {
        return Ok(Content::Features("shapefile", shapefile::decode(path)?));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| GeodataError::UnknownFormat {
            path: path.into(),
            detail: format!("neither a shapefile nor UTF-8 JSON ({e})"),
        })?
        .trim_start_matches('\u{feff}');
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| GeodataError::UnknownFormat {
            path: path.into(),
            detail: format!("neither a shapefile nor JSON ({e})"),
        })?;
    match doc.get("type").and_then(|t| t.as_str()) {
        Some("Topology") => Ok(Content::Features("topojson", topojson::decode(&doc, path)?)),
        Some("FeatureCollection" | "Feature") => {
            Ok(Content::Features("geojson", geojson::decode(text, path)?))
        }
        _ if codetable::looks_like_code_table(&doc) => {
            let table =
                edition_from_file_name(path).ok_or_else(|| GeodataError::UnknownFormat {
                    path: path.into(),
                    detail: "a code table, but the file name does not name its edition \
                         (100, 103, 106, 107 or 112, e.g. village-103.json)"
                        .into(),
                })?;
            Ok(Content::Codes(codetable::decode(doc, table, path)?))
        }
        _ => Err(GeodataError::UnknownFormat {
            path: path.into(),
            detail: "JSON that is neither TopoJSON, GeoJSON nor a Taiwan_Geocode table".into(),
        }),
    }
}

fn prop<'a>(p: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    p.get(key).map(String::as_str).filter(|s| !s.is_empty())
}

/// Classifies a feature; Ok(None) for features without MOI codes.
fn to_area(f: RawFeature) -> Result<Option<Area>, String> {
    let p = &f.properties;
    let (level, code) = if let Some(v) = prop(p, "VILLCODE") {
        (Level::Village, v)
    } else if let Some(t) = prop(p, "TOWNCODE") {
        (Level::Town, t)
    } else if let Some(c) = prop(p, "COUNTYCODE") {
        (Level::County, c)
    } else {
        return Ok(None);
    };
    let code = code.to_string();
    let expected = match level {
        Level::County => 5,
        Level::Town => 8,
        Level::Village => 11,
    };
    if code.len() != expected || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{}: {level} code {code:?} is not {expected} digits",
            f.origin
        ));
    }
    let county_code = prop(p, "COUNTYCODE").unwrap_or(&code[..5]).to_string();
    let town_code = match level {
        Level::County => None,
        Level::Town => Some(code.clone()),
        Level::Village => Some(prop(p, "TOWNCODE").unwrap_or(&code[..8]).to_string()),
    };
    let (name_key, en_key) = match level {
        Level::County => ("COUNTYNAME", "COUNTYENG"),
        Level::Town => ("TOWNNAME", "TOWNENG"),
        Level::Village => ("VILLNAME", "VILLENG"),
    };
    let name = prop(p, name_key)
        .map(names::display)
        .ok_or_else(|| format!("{}: {level} {code} has no {name_key}", f.origin))?;
    Ok(Some(Area {
        level,
        code,
        county_code,
        town_code,
        name,
        name_en: prop(p, en_key).map(|s| s.trim().to_string()),
        geometry: f.geometry,
        label_point: None,
    }))
}

/// Reads `paths`, cleans the geometry, matches the code tables and builds
/// the atlas. `progress` receives one line per step (the CLI prints them
/// on stderr).
pub fn import_paths(
    paths: &[PathBuf],
    progress: &mut dyn FnMut(&str),
) -> Result<(Atlas, ImportReport), GeodataError> {
    let mut report = ImportReport::default();
    let mut areas: HashMap<String, Area> = HashMap::new();
    let mut codes: Vec<CodeEntry> = Vec::new();
    for path in paths {
        progress(&format!("reading {}", path.display()));
        match read_one(path)? {
            Content::Features(format, features) => {
                let n = features.len();
                for f in features {
                    match to_area(f) {
                        Ok(Some(area)) => {
                            areas.insert(area.code.clone(), area);
                        }
                        Ok(None) => report.skipped_features += 1,
                        Err(e) => return Err(GeodataError::parse(path, e)),
                    }
                }
                progress(&format!("  {format}: {n} features"));
                report.files.push(FileSummary {
                    path: path.clone(),
                    format,
                    items: n,
                });
            }
            Content::Codes(entries) => {
                let n = entries.len();
                let table = entries.first().map(|e| e.table);
                progress(&format!(
                    "  {}: {n} code-table rows",
                    table.map(|t| t.to_string()).unwrap_or_default()
                ));
                // A table given twice: the later file wins, row by row.
                let replaced: HashSet<(GeocodeTable, &str)> =
                    entries.iter().map(|e| (e.table, e.code.as_str())).collect();
                codes.retain(|c| !replaced.contains(&(c.table, c.code.as_str())));
                codes.extend(entries);
                report.files.push(FileSummary {
                    path: path.clone(),
                    format: "taiwan_geocode_table",
                    items: n,
                });
            }
        }
    }
    progress(&format!("checking geometry of {} areas", areas.len()));
    let mut areas: Vec<Area> = areas.into_values().collect();
    areas.sort_by(|a, b| a.code.cmp(&b.code));
    for area in &mut areas {
        let fixes = geometry::clean(&mut area.geometry);
        if !fixes.is_clean() {
            report.geometry_fixes.push(AreaFix {
                code: area.code.clone(),
                closed_rings: fixes.closed_rings,
                dropped_rings: fixes.dropped_rings,
                repaired: fixes.repaired,
                unrepaired: fixes.unrepaired,
            });
        }
        area.refresh_label_point();
        if area.label_point.is_none() {
            report.warnings.push(format!(
                "{} {} ({}) has no geometry left",
                area.level, area.code, area.name
            ));
        }
    }
    progress(&format!(
        "  {} geometries fixed, {} could not be repaired",
        report
            .geometry_fixes
            .iter()
            .filter(|f| f.unrepaired.is_none())
            .count(),
        report
            .geometry_fixes
            .iter()
            .filter(|f| f.unrepaired.is_some())
            .count()
    ));
    let mut atlas = Atlas::from_parts(areas, Vec::new())?;
    for village in atlas.villages() {
        if let Some(t) = &village.town_code
            && atlas.area(t).is_none()
        {
            report.warnings.push(format!(
                "village {} names town {t}, which no file gave",
                village.code
            ));
        }
    }
    if !codes.is_empty() {
        progress(&format!(
            "matching {} code-table rows to areas",
            codes.len()
        ));
        match_entries(&atlas, &mut codes);
    }
    for entry in &codes {
        *report
            .code_entries
            .entry(entry.table.to_string())
            .or_default() += 1;
        if let Some(reason) = &entry.unmatched {
            report.unmatched_codes.push(UnmatchedCode {
                table: entry.table.to_string(),
                code: entry.code.clone(),
                fullname: entry.fullname.clone(),
                reason: reason.clone(),
            });
        }
    }
    atlas.set_codes(codes);
    report.counties = atlas.counties().len();
    report.towns = atlas.towns().len();
    report.villages = atlas.villages().len();
    progress(&format!(
        "atlas: {} counties, {} towns, {} villages, {} code-table rows ({} without an area)",
        report.counties,
        report.towns,
        report.villages,
        report.code_entries.values().sum::<usize>(),
        report.unmatched_codes.len()
    ));
    Ok((atlas, report))
}

/// The tables an import holds, for messages.
pub fn table_names(tables: impl Iterator<Item = GeocodeTable>) -> String {
    tables.map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
}
