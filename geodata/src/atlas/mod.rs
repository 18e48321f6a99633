//! [`Atlas`]: the loaded administrative model with its indexes, and the
//! code lookups the matcher uses.

mod lookup;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use geo::MultiPolygon;
use serde::Serialize;

use crate::GeodataError;
use crate::codes::{self, GeocodeTable, Level};
use crate::locate::{Location, VillageIndex};
use crate::model::{Area, CodeEntry};
use crate::store;
use lookup::NameIndex;

/// Counties, towns and villages of Taiwan (or of the demo region), their
/// boundaries, and the Taiwan_Geocode tables that point at them.
///
/// Built once (from an import or a compact file) and then read-only, so it
/// can be shared behind an `Arc` by any number of threads.
pub struct Atlas {
    counties: Vec<Area>,
    towns: Vec<Area>,
    villages: Vec<Area>,
    codes: Vec<CodeEntry>,
    code_index: HashMap<(GeocodeTable, String), usize>,
    tables: BTreeSet<GeocodeTable>,
    pub(crate) names: NameIndex,
    pub(crate) village_index: VillageIndex,
}

impl std::fmt::Debug for Atlas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Atlas")
            .field("counties", &self.counties.len())
            .field("towns", &self.towns.len())
            .field("villages", &self.villages.len())
            .field("code_entries", &self.codes.len())
            .field("tables", &self.tables)
            .finish()
    }
}

/// What a CAP geocode stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    /// The table named by the geocode's valueName.
    pub table: GeocodeTable,
    /// The value as given (trimmed).
    pub value: String,
    pub level: Level,
    /// Full name of the area in the atlas, e.g. 臺北市信義區.
    pub name: String,
    /// MOI code of the area (COUNTYCODE, TOWNCODE or VILLCODE).
    pub moi_code: String,
    /// MOI codes of every village inside the area, ascending; never empty.
    pub villages: Vec<String>,
}

impl Atlas {
    /// Builds an atlas from areas of any level and code-table entries.
    /// A later area with the same code replaces an earlier one.
    ///
    /// Fails when an area breaks the code invariants (a town whose code does
    /// not start with its county's, a village outside its town's prefix, a
    /// code of the wrong length): lookups by prefix rely on them.
    pub fn from_parts(areas: Vec<Area>, codes: Vec<CodeEntry>) -> Result<Atlas, GeodataError> {
        let mut by_code: HashMap<String, Area> = HashMap::with_capacity(areas.len());
        for area in areas {
            check_area_codes(&area)?;
            by_code.insert(area.code.clone(), area);
        }
        let mut counties = Vec::new();
        let mut towns = Vec::new();
        let mut villages = Vec::new();
        for area in by_code.into_values() {
            match area.level {
                Level::County => counties.push(area),
                Level::Town => towns.push(area),
                Level::Village => villages.push(area),
            }
        }
        for list in [&mut counties, &mut towns, &mut villages] {
            list.sort_by(|a, b| a.code.cmp(&b.code));
        }
        let mut code_index = HashMap::with_capacity(codes.len());
        let mut tables = BTreeSet::new();
        for (i, entry) in codes.iter().enumerate() {
            code_index.insert((entry.table, entry.code.clone()), i);
            tables.insert(entry.table);
        }
        let names = NameIndex::build(&counties, &towns, &villages);
        let village_index = VillageIndex::build(&villages);
        Ok(Atlas {
            counties,
            towns,
            villages,
            codes,
            code_index,
            tables,
            names,
            village_index,
        })
    }

    /// Replaces the code-table entries (already matched to areas).
    pub(crate) fn set_codes(&mut self, codes: Vec<CodeEntry>) {
        self.code_index.clear();
        self.tables.clear();
        for (i, entry) in codes.iter().enumerate() {
            self.code_index.insert((entry.table, entry.code.clone()), i);
            self.tables.insert(entry.table);
        }
        self.codes = codes;
    }

    /// Loads a compact atlas file written by [`Atlas::save`].
    pub fn load(path: &Path) -> Result<Atlas, GeodataError> {
        let bytes = std::fs::read(path).map_err(|e| GeodataError::io(path, e))?;
        Atlas::from_bytes(&bytes, path)
    }

    /// Decodes a compact atlas; `origin` names the source in errors.
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Atlas, GeodataError> {
        let (areas, codes) = store::decode(bytes, origin)?;
        Atlas::from_parts(areas, codes)
    }

    /// Encodes this atlas in the compact file format.
    pub fn to_bytes(&self) -> Result<Vec<u8>, GeodataError> {
        store::encode(self.areas(), &self.codes)
    }

    /// Writes the compact file (to a temporary name first, then renames, so
    /// a reader never sees half a file).
    pub fn save(&self, path: &Path) -> Result<(), GeodataError> {
        let bytes = self.to_bytes()?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        std::fs::write(&tmp, &bytes).map_err(|e| GeodataError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| GeodataError::io(path, e))
    }

    /// Every area: counties, then towns, then villages, each by code.
    pub fn areas(&self) -> impl Iterator<Item = &Area> {
        self.counties
            .iter()
            .chain(self.towns.iter())
            .chain(self.villages.iter())
    }

    pub fn counties(&self) -> &[Area] {
        &self.counties
    }

    pub fn towns(&self) -> &[Area] {
        &self.towns
    }

    pub fn villages(&self) -> &[Area] {
        &self.villages
    }

    /// Code-table entries, in import order.
    pub fn code_entries(&self) -> &[CodeEntry] {
        &self.codes
    }

    /// The code-table editions this atlas holds.
    pub fn tables(&self) -> impl Iterator<Item = GeocodeTable> + '_ {
        self.tables.iter().copied()
    }

    fn list(&self, level: Level) -> &[Area] {
        match level {
            Level::County => &self.counties,
            Level::Town => &self.towns,
            Level::Village => &self.villages,
        }
    }

    /// The area with this MOI code (any level).
    pub fn area(&self, moi_code: &str) -> Option<&Area> {
        let list = self.list(codes::moi_level(moi_code)?);
        list.binary_search_by(|a| a.code.as_str().cmp(moi_code))
            .ok()
            .map(|i| &list[i])
    }

    /// The village containing (`lon`, `lat`), WGS84 degrees; see
    /// [`crate::locate`] for boundaries and snapping. `None` outside Taiwan.
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
        self.village_index.locate(&self.villages, lon, lat)
    }

    /// Boundary of the village with this MOI VILLCODE.
    pub fn village_geometry(&self, villcode: &str) -> Option<&MultiPolygon<f64>> {
        self.area(villcode)
            .filter(|a| a.level == Level::Village)
            .map(|a| &a.geometry)
    }

    /// Boundary of the town with this MOI TOWNCODE.
    pub fn town_geometry(&self, towncode: &str) -> Option<&MultiPolygon<f64>> {
        self.area(towncode)
            .filter(|a| a.level == Level::Town)
            .map(|a| &a.geometry)
    }

    /// Villages whose MOI code starts with `prefix` (a county or town code),
    /// ascending by code.
    pub fn villages_within(&self, prefix: &str) -> &[Area] {
        let start = self.villages.partition_point(|v| v.code.as_str() < prefix);
        let len = self.villages[start..]
            .iter()
            .take_while(|v| v.code.starts_with(prefix))
            .count();
        &self.villages[start..start + len]
    }

    /// Towns of a county, ascending by code.
    pub fn towns_within(&self, county_code: &str) -> &[Area] {
        let start = self
            .towns
            .partition_point(|t| t.code.as_str() < county_code);
        let len = self.towns[start..]
            .iter()
            .take_while(|t| t.code.starts_with(county_code))
            .count();
        &self.towns[start..start + len]
    }

    /// Full name: county + town + village, e.g. 臺北市信義區西村里.
    pub fn full_name(&self, area: &Area) -> String {
        let mut name = String::new();
        if area.level != Level::County
            && let Some(county) = self.area(&area.county_code)
        {
            name.push_str(&county.name);
        }
        if area.level == Level::Village
            && let Some(town) = area.town_code.as_deref().and_then(|t| self.area(t))
        {
            name.push_str(&town.name);
        }
        name.push_str(&area.name);
        name
    }

    /// Resolves a CAP `<geocode>` to the villages it covers.
    ///
    /// `value_name` names the table (`Taiwan_Geocode_103`, …); `value` may be
    /// a county, town or village code of that table. When the atlas holds
    /// that table the value must be one of its rows; otherwise the
    /// published conversion rule is applied and the result must be an area
    /// of the atlas. Never returns an empty village list: an unknown code,
    /// an area without boundary or without villages is an error naming it.
    ///
    /// ```
    /// let atlas = geodata::demo::atlas();
    /// let r = atlas.resolve_geocode("Taiwan_Geocode_103", "9900001").unwrap();
    /// assert_eq!(r.moi_code, "99000010");
    /// assert!(r.villages.iter().all(|v| v.starts_with("99000010")));
    /// ```
    pub fn resolve_geocode(&self, value_name: &str, value: &str) -> Result<Resolved, GeodataError> {
        let table = GeocodeTable::from_value_name(value_name).ok_or_else(|| {
            GeodataError::UnknownScheme {
                value_name: value_name.to_string(),
            }
        })?;
        let value = value.trim();
        let value_name = table.value_name();
        let level =
            codes::geocode_level(table, value).ok_or_else(|| GeodataError::MalformedCode {
                value_name: value_name.clone(),
                value: value.to_string(),
            })?;
        let moi_code = if self.tables.contains(&table) {
            let entry = self
                .code_index
                .get(&(table, value.to_string()))
                .map(|&i| &self.codes[i])
                .ok_or_else(|| GeodataError::UnknownCode {
                    value_name: value_name.clone(),
                    value: value.to_string(),
                })?;
            entry
                .moi_code
                .clone()
                .ok_or_else(|| GeodataError::NoBoundary {
                    value_name: value_name.clone(),
                    value: value.to_string(),
                    name: entry.fullname.clone(),
                    reason: entry
                        .unmatched
                        .clone()
                        .unwrap_or_else(|| "no matching area".into()),
                })?
        } else {
            codes::moi_code_by_rule(table, value).ok_or_else(|| GeodataError::MalformedCode {
                value_name: value_name.clone(),
                value: value.to_string(),
            })?
        };
        let area = self
            .area(&moi_code)
            .ok_or_else(|| GeodataError::UnknownCode {
                value_name: value_name.clone(),
                value: value.to_string(),
            })?;
        let villages: Vec<String> = match level {
            Level::Village => vec![area.code.clone()],
            Level::Town | Level::County => self
                .villages_within(&area.code)
                .iter()
                .map(|v| v.code.clone())
                .collect(),
        };
        if villages.is_empty() || (level == Level::Village && area.geometry.0.is_empty()) {
            return Err(GeodataError::NoBoundary {
                value_name,
                value: value.to_string(),
                name: self.full_name(area),
                reason: "the area has no village boundaries".into(),
            });
        }
        Ok(Resolved {
            table,
            value: value.to_string(),
            level: area.level,
            name: self.full_name(area),
            moi_code: area.code.clone(),
            villages,
        })
    }
}

fn check_area_codes(area: &Area) -> Result<(), GeodataError> {
    let bad = |why: &str| GeodataError::Corrupt {
        path: "<areas>".into(),
        detail: format!("{} {} ({}): {why}", area.level, area.code, area.name),
    };
    if codes::moi_level(&area.code) != Some(area.level) {
        return Err(bad("code length does not fit the level"));
    }
    if !area.code.starts_with(&area.county_code) {
        return Err(bad("code does not start with its county code"));
    }
    match (area.level, &area.town_code) {
        (Level::County, None) => Ok(()),
        (Level::Town, Some(t)) if t == &area.code => Ok(()),
        (Level::Village, Some(t)) if area.code.starts_with(t.as_str()) && t.len() == 8 => Ok(()),
        _ => Err(bad("town code missing or not a prefix of the code")),
    }
}
