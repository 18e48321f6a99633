//! Taiwan_Geocode code tables (the JSON form: an array of
//! `{"code","english","name","fullname"}`) and their matching to the
//! atlas's MOI areas.
//!
//! Matching: the published conversion rule first, accepted when the area
//! it gives bears the same name (stem, so 中壢市 = 中壢區); otherwise the
//! full name is looked up (with former county names mapped to current ones:
//! the 100 table still has 桃園縣 and its 10003xx codes). An entry that fits
//! no area keeps `moi_code: None` and the reason, so resolving it later is
//! an error that says why.

use std::path::Path;

use serde::Deserialize;

use crate::GeodataError;
use crate::atlas::Atlas;
use crate::codes::{self, GeocodeTable, Level};
use crate::model::CodeEntry;
use crate::names::{self, NameLevel};

#[derive(Deserialize)]
struct Row {
    code: String,
    #[serde(default)]
    english: Option<String>,
    name: String,
    #[serde(default)]
    fullname: Option<String>,
}

/// True when a JSON document looks like a code table.
pub(super) fn looks_like_code_table(doc: &serde_json::Value) -> bool {
    doc.as_array().is_some_and(|rows| {
        !rows.is_empty()
            && rows.iter().take(5).all(|r| {
                r.get("code").is_some_and(serde_json::Value::is_string)
                    && r.get("name").is_some_and(serde_json::Value::is_string)
            })
    })
}

/// The table edition named in a file name (`village-103.json`,
/// `Taiwan_Geocode_112.json`): the content does not say it.
pub fn edition_from_file_name(path: &Path) -> Option<GeocodeTable> {
    let stem = path.file_stem()?.to_string_lossy();
    let digits: Vec<&str> = stem
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| s.len() == 3)
        .collect();
    digits
        .iter()
        .rev()
        .find_map(|d| d.parse().ok().and_then(GeocodeTable::from_edition))
}

pub(super) fn decode(
    doc: serde_json::Value,
    table: GeocodeTable,
    path: &Path,
) -> Result<Vec<CodeEntry>, GeodataError> {
    let rows: Vec<Row> = serde_json::from_value(doc)
        .map_err(|e| GeodataError::parse(path, format!("code table: {e}")))?;
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            let code = row.code.trim().to_string();
            let level = codes::geocode_level(table, &code).ok_or_else(|| {
                GeodataError::parse(
                    path,
                    format!("row {i}: {code:?} is not a {table} county, town or village code"),
                )
            })?;
            let name = names::display(&row.name);
            Ok(CodeEntry {
                table,
                level,
                fullname: row
                    .fullname
                    .map(|f| names::display(&f))
                    .unwrap_or_else(|| name.clone()),
                name,
                name_en: row.english.filter(|e| !e.trim().is_empty()),
                code,
                moi_code: None,
                unmatched: None,
            })
        })
        .collect()
}

fn level_of(level: Level) -> NameLevel {
    match level {
        Level::County => NameLevel::County,
        Level::Town => NameLevel::Town,
        Level::Village => NameLevel::Village,
    }
}

/// Fills `moi_code` / `unmatched` of every entry against `atlas`.
pub fn match_entries(atlas: &Atlas, entries: &mut [CodeEntry]) {
    for entry in entries {
        match match_entry(atlas, entry) {
            Ok(code) => {
                entry.moi_code = Some(code);
                entry.unmatched = None;
            }
            Err(reason) => {
                entry.moi_code = None;
                entry.unmatched = Some(reason);
            }
        }
    }
}

fn match_entry(atlas: &Atlas, entry: &CodeEntry) -> Result<String, String> {
    let by_rule = codes::moi_code_by_rule(entry.table, &entry.code)
        .and_then(|c| atlas.area(&c))
        .filter(|a| {
            a.level == entry.level
                && names::stem(&a.name, level_of(a.level))
                    == names::stem(&entry.name, level_of(entry.level))
        });
    if let Some(area) = by_rule {
        return Ok(area.code.clone());
    }
    // Strip the province prefix the 112 county rows carry (臺灣省宜蘭縣).
    let full = ["臺灣省", "福建省"]
        .iter()
        .find_map(|p| entry.fullname.strip_prefix(p))
        .unwrap_or(&entry.fullname);
    let found = match entry.level {
        Level::County => atlas.find_county(&entry.name),
        Level::Town => {
            let county = full.strip_suffix(entry.name.as_str()).unwrap_or("");
            atlas
                .find_county(county)
                .and_then(|c| atlas.find_town(Some(c), &entry.name))
        }
        Level::Village => {
            let rest = full.strip_suffix(entry.name.as_str()).unwrap_or("");
            // Every county name is three characters (臺北市, 連江縣).
            let split = rest
                .char_indices()
                .nth(3)
                .map(|(i, _)| i)
                .unwrap_or(rest.len());
            let (county, town) = rest.split_at(split);
            atlas
                .find_county(county)
                .and_then(|c| atlas.find_town(Some(c), town))
                .and_then(|t| atlas.find_village(Some(t), &entry.name))
        }
    };
    match found {
        Ok(area) if area.level == entry.level => Ok(area.code.clone()),
        Ok(area) => Err(format!("name matched a {} instead", area.level)),
        Err(e) => Err(match entry.level {
            Level::Village => format!(
                "village not in the boundary data (merged, split or renamed since the table): {e}"
            ),
            _ => e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editions_come_from_file_names() {
        assert_eq!(
            edition_from_file_name(Path::new("x/village-103.json")),
            Some(GeocodeTable::T103)
        );
        assert_eq!(
            edition_from_file_name(Path::new("Taiwan_Geocode_112.json")),
            Some(GeocodeTable::T112)
        );
        assert_eq!(edition_from_file_name(Path::new("codes.json")), None);
        assert_eq!(edition_from_file_name(Path::new("codes-104.json")), None);
    }
}
