//! Area code schemes: the Ministry of the Interior's (MOI) codes used by the
//! boundary files, and NCDR's Taiwan_Geocode tables used by CAP.
//!
//! | level | MOI | Taiwan_Geocode 100/103/106 | 107 | 112 |
//! |---|---|---|---|---|
//! | county | `64000`, `09020` | `64` (municipality) or `10015` | as 106 | `64000000` |
//! | town | `64000130` | `6401300`, `1001402` | `10014020` (= MOI) | 8 digits (= MOI) |
//! | village | `64000130006` | `6401300-006` | 11 digits (= MOI) | 11 digits (= MOI) |
//!
//! Codes are strings everywhere: Kinmen and Lienchiang start with `0`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Administrative level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    County,
    Town,
    Village,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::County => "county",
            Level::Town => "town",
            Level::Village => "village",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One edition of NCDR's Taiwan_Geocode table, named in CAP by
/// `<valueName>Taiwan_Geocode_NNN</valueName>` (NNN = ROC year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GeocodeTable {
    T100,
    T103,
    T106,
    T107,
    T112,
}

impl GeocodeTable {
    pub const ALL: [GeocodeTable; 5] = [
        GeocodeTable::T100,
        GeocodeTable::T103,
        GeocodeTable::T106,
        GeocodeTable::T107,
        GeocodeTable::T112,
    ];

    /// The edition number, e.g. 103.
    pub fn edition(self) -> u16 {
        match self {
            GeocodeTable::T100 => 100,
            GeocodeTable::T103 => 103,
            GeocodeTable::T106 => 106,
            GeocodeTable::T107 => 107,
            GeocodeTable::T112 => 112,
        }
    }

    pub fn from_edition(edition: u16) -> Option<GeocodeTable> {
        GeocodeTable::ALL
            .into_iter()
            .find(|t| t.edition() == edition)
    }

    /// Parses a CAP geocode valueName such as `Taiwan_Geocode_103`
    /// (case-insensitive, surrounding spaces ignored).
    pub fn from_value_name(value_name: &str) -> Option<GeocodeTable> {
        let v = value_name.trim();
        let prefix = "taiwan_geocode_";
        if v.len() <= prefix.len() || !v[..prefix.len()].eq_ignore_ascii_case(prefix) {
            return None;
        }
        v[prefix.len()..]
            .parse::<u16>()
            .ok()
            .and_then(GeocodeTable::from_edition)
    }

    /// The CAP valueName of this table.
    pub fn value_name(self) -> String {
        format!("Taiwan_Geocode_{}", self.edition())
    }
}

impl fmt::Display for GeocodeTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Taiwan_Geocode_{}", self.edition())
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The special municipalities' 2-digit Taiwan_Geocode prefixes.
fn is_municipality_prefix(p: &str) -> bool {
    matches!(p, "63" | "64" | "65" | "66" | "67" | "68")
}

/// The level a Taiwan_Geocode value denotes, from its shape alone, or None
/// when the shape fits no level of that table.
pub fn geocode_level(table: GeocodeTable, code: &str) -> Option<Level> {
    let len = code.len();
    if let Some((town, serial)) = code.split_once('-') {
        return (matches!(table, GeocodeTable::T100 | GeocodeTable::T103)
            && town.len() == 7
            && all_digits(town)
            && serial.len() == 3
            && all_digits(serial))
        .then_some(Level::Village);
    }
    if !all_digits(code) {
        return None;
    }
    match (table, len) {
        (_, 2) if is_municipality_prefix(code) => Some(Level::County),
        (_, 5) => Some(Level::County),
        (GeocodeTable::T100 | GeocodeTable::T103 | GeocodeTable::T106, 7) => Some(Level::Town),
        (GeocodeTable::T107 | GeocodeTable::T112, 8) if code.ends_with("000") => {
            Some(Level::County)
        }
        (GeocodeTable::T107 | GeocodeTable::T112, 8) => Some(Level::Town),
        (GeocodeTable::T106 | GeocodeTable::T107 | GeocodeTable::T112, 11) => Some(Level::Village),
        _ => None,
    }
}

/// The MOI code that the published conversion rule gives for a
/// Taiwan_Geocode value (see `shared` geocodes README):
/// * county: `63` → `63000`; 5 digits unchanged; 8 digits `CCCCC000` → `CCCCC`;
/// * municipality town `CC0TT00` → `CC000TT0`; county town `CCCCCTT` → `CCCCCTT0`;
/// * village `TTTTTTT-VVV` → town rule + `VVV`; 11 digits unchanged.
///
/// The rule does not know renamed areas (Taoyuan's `10003xx` codes in the
/// 100 table): the importer checks each result against the atlas by name.
pub fn moi_code_by_rule(table: GeocodeTable, code: &str) -> Option<String> {
    let level = geocode_level(table, code)?;
    match (level, code.len()) {
        (Level::County, 2) => Some(format!("{code}000")),
        (Level::County, 5) => Some(code.to_string()),
        (Level::County, 8) => Some(code[..5].to_string()),
        (Level::Town, 7) => Some(town7_to_moi(code)),
        (Level::Town, 8) | (Level::Village, 11) if !code.contains('-') => Some(code.to_string()),
        (Level::Village, _) => {
            let (town, serial) = code.split_once('-')?;
            Some(format!("{}{serial}", town7_to_moi(town)))
        }
        _ => None,
    }
}

fn town7_to_moi(town: &str) -> String {
    if is_municipality_prefix(&town[..2]) {
        format!("{}000{}0", &town[..2], &town[3..5])
    } else {
        format!("{town}0")
    }
}

/// The level of an MOI code from its length (5, 8 or 11 digits).
pub fn moi_level(code: &str) -> Option<Level> {
    if !all_digits(code) {
        return None;
    }
    match code.len() {
        5 => Some(Level::County),
        8 => Some(Level::Town),
        11 => Some(Level::Village),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_names_parse() {
        assert_eq!(
            GeocodeTable::from_value_name("Taiwan_Geocode_103"),
            Some(GeocodeTable::T103)
        );
        assert_eq!(
            GeocodeTable::from_value_name(" taiwan_geocode_100 "),
            Some(GeocodeTable::T100)
        );
        assert_eq!(GeocodeTable::from_value_name("Taiwan_Geocode_104"), None);
        assert_eq!(GeocodeTable::from_value_name("SAME"), None);
    }

    #[test]
    fn the_published_examples_convert() {
        use GeocodeTable::*;
        assert_eq!(
            moi_code_by_rule(T103, "6300200").as_deref(),
            Some("63000020")
        );
        assert_eq!(
            moi_code_by_rule(T103, "1001402").as_deref(),
            Some("10014020")
        );
        assert_eq!(
            moi_code_by_rule(T103, "0900701").as_deref(),
            Some("09007010")
        );
        assert_eq!(
            moi_code_by_rule(T103, "6401300-006").as_deref(),
            Some("64000130006")
        );
        assert_eq!(moi_code_by_rule(T103, "63").as_deref(), Some("63000"));
        assert_eq!(moi_code_by_rule(T103, "09020").as_deref(), Some("09020"));
        assert_eq!(moi_code_by_rule(T112, "68000000").as_deref(), Some("68000"));
        assert_eq!(
            moi_code_by_rule(T107, "10014020").as_deref(),
            Some("10014020")
        );
        assert_eq!(
            moi_code_by_rule(T112, "64000130006").as_deref(),
            Some("64000130006")
        );
    }

    #[test]
    fn malformed_codes_have_no_level() {
        use GeocodeTable::*;
        assert_eq!(geocode_level(T103, "6401300-06"), None);
        assert_eq!(geocode_level(T103, "12"), None);
        assert_eq!(geocode_level(T103, "64000130006"), None);
        assert_eq!(geocode_level(T112, "6401300-006"), None);
        assert_eq!(geocode_level(T103, "63a"), None);
        assert_eq!(geocode_level(T103, ""), None);
    }
}
