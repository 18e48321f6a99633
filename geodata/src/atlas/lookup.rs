//! Name → area lookups with the usual variants: 臺/台, with or without the
//! 縣市/鄉鎮市區/村里 suffix, English names, and former county names
//! (臺北縣 → 新北市, 桃園縣 → 桃園市, …).
//!
//! A name that fits several areas is an error listing them; a lookup never
//! picks one silently.

use std::collections::HashMap;

use super::Atlas;
use crate::GeodataError;
use crate::codes::Level;
use crate::model::Area;
use crate::names::{self, NameLevel};

/// Indexes of area positions by name key and by stem, per level.
#[derive(Default)]
pub(crate) struct NameIndex {
    exact: [HashMap<String, Vec<usize>>; 3],
    stems: [HashMap<String, Vec<usize>>; 3],
}

fn slot(level: Level) -> usize {
    match level {
        Level::County => 0,
        Level::Town => 1,
        Level::Village => 2,
    }
}

fn name_level(level: Level) -> NameLevel {
    match level {
        Level::County => NameLevel::County,
        Level::Town => NameLevel::Town,
        Level::Village => NameLevel::Village,
    }
}

impl NameIndex {
    pub(crate) fn build(counties: &[Area], towns: &[Area], villages: &[Area]) -> NameIndex {
        let mut index = NameIndex::default();
        for (level, list) in [
            (Level::County, counties),
            (Level::Town, towns),
            (Level::Village, villages),
        ] {
            let s = slot(level);
            for (i, area) in list.iter().enumerate() {
                for name in std::iter::once(&area.name).chain(area.name_en.iter()) {
                    let key = names::key(name);
                    let stem = names::stem(name, name_level(level));
                    push_unique(index.exact[s].entry(key).or_default(), i);
                    push_unique(index.stems[s].entry(stem).or_default(), i);
                }
            }
        }
        index
    }
}

fn push_unique(v: &mut Vec<usize>, i: usize) {
    if !v.contains(&i) {
        v.push(i);
    }
}

impl Atlas {
    fn level_list(&self, level: Level) -> &[Area] {
        match level {
            Level::County => self.counties(),
            Level::Town => self.towns(),
            Level::Village => self.villages(),
        }
    }

    /// Candidates for `name` at `level` whose code starts with `within`
    /// (empty: anywhere): exact key matches if any, else stem matches.
    fn candidates(&self, level: Level, name: &str, within: &str) -> Vec<&Area> {
        let s = slot(level);
        let list = self.level_list(level);
        let pick = |ids: Option<&Vec<usize>>| -> Vec<&Area> {
            ids.map(|ids| {
                ids.iter()
                    .map(|&i| &list[i])
                    .filter(|a| a.code.starts_with(within))
                    .collect()
            })
            .unwrap_or_default()
        };
        let key = if level == Level::County {
            names::current_county_key(name)
        } else {
            names::key(name)
        };
        let exact = pick(self.names.exact[s].get(&key));
        if !exact.is_empty() || (level == Level::County && names::is_former_county(name)) {
            return exact;
        }
        // A name given without its suffix (西村 for 西村里) is a stem
        // already; otherwise compare stems (板橋市 = 板橋區).
        let bare = pick(self.names.stems[s].get(&key));
        if !bare.is_empty() {
            return bare;
        }
        pick(self.names.stems[s].get(&names::stem(name, name_level(level))))
    }

    fn single<'a>(
        &self,
        level: Level,
        name: &str,
        within: Option<&Area>,
        found: Vec<&'a Area>,
    ) -> Result<&'a Area, GeodataError> {
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(GeodataError::NameNotFound {
                level,
                name: name.to_string(),
                within: within
                    .map(|a| format!(" in {}", self.full_name(a)))
                    .unwrap_or_default(),
            }),
            many => Err(GeodataError::Ambiguous {
                level,
                name: name.to_string(),
                candidates: many.iter().map(|a| self.full_name(a)).collect(),
            }),
        }
    }

    /// The county named `name` (臺北市, 台北市, 臺北, Taipei City, 臺北縣 →
    /// 新北市). 新竹 alone is ambiguous (新竹縣, 新竹市).
    pub fn find_county(&self, name: &str) -> Result<&Area, GeodataError> {
        let found = self.candidates(Level::County, name, "");
        self.single(Level::County, name, None, found)
    }

    /// The town named `name`, inside `county` when given. 東區 without a
    /// county is ambiguous and the error lists 新竹市東區, 嘉義市東區, ….
    pub fn find_town(&self, county: Option<&Area>, name: &str) -> Result<&Area, GeodataError> {
        let within = county.map(|c| c.code.as_str()).unwrap_or("");
        let found = self.candidates(Level::Town, name, within);
        self.single(Level::Town, name, county, found)
    }

    /// The village named `name` inside `within` (a town or county).
    pub fn find_village(&self, within: Option<&Area>, name: &str) -> Result<&Area, GeodataError> {
        let prefix = within.map(|c| c.code.as_str()).unwrap_or("");
        let found = self.candidates(Level::Village, name, prefix);
        self.single(Level::Village, name, within, found)
    }

    /// Resolves names given as county, town and village (each optional; at
    /// least one) to the most specific area they name.
    pub fn find_by_names(
        &self,
        county: Option<&str>,
        town: Option<&str>,
        village: Option<&str>,
    ) -> Result<&Area, GeodataError> {
        let county = county.map(|c| self.find_county(c)).transpose()?;
        let town = town.map(|t| self.find_town(county, t)).transpose()?;
        match (village, town.or(county)) {
            (Some(v), within) => self.find_village(within, v),
            (None, Some(area)) => Ok(area),
            (None, None) => Err(GeodataError::Address {
                reason: "names no county, town or village".into(),
            }),
        }
    }
}
