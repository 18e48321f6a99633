//! A small, clearly fictional demo region, generated deterministically, so
//! the service and the tests run without the official datasets.
//!
//! It lies in the open Pacific east of Taiwan (lon 123.00–123.45, lat
//! 23.00–23.35), where there is no land, and uses county codes 99000,
//! 99100 and 99200, which MOI has never assigned. Places:
//!
//! * 霧島縣 (99000): 雲港鎮, 霧溪鄉, 東嶼鄉, each split 2 × 2 into villages;
//!   東嶼鄉's 嶼北村 has a hole filled by the enclave 燈塔村 (99000030005),
//!   and 嶼東村 has an islet off the coast (a MultiPolygon);
//! * 雲海市 (99100) and 星河市 (99200): both have a 東區, so "東區" alone is
//!   ambiguous, as in Taiwan.
//!
//! Both 雲港鎮 and 霧溪鄉 have a village named 中興, to exercise
//! ambiguous village names. Taiwan_Geocode_103 rows follow the real
//! formats (`99000`, `9900001`, `9900001-001`).

use geo::{LineString, MultiPolygon, Polygon, polygon};

use crate::atlas::Atlas;
use crate::codes::{GeocodeTable, Level};
use crate::geocoder::Gazetteer;
use crate::import::match_entries;
use crate::model::{Area, CodeEntry};
use crate::shelters::ShelterIndex;
use crate::zones::{Zone, ZoneIndex};
use cap::hazard::HazardKind;

struct TownSpec {
    serial: u32,
    name: &'static str,
    name_en: &'static str,
    /// lon min, lat min, lon max, lat max
    rect: (f64, f64, f64, f64),
    /// Villages in a cols × rows grid, named row by row from the bottom.
    cols: u32,
    rows: u32,
    villages: &'static [(&'static str, &'static str)],
}

struct CountySpec {
    code: &'static str,
    /// The Taiwan_Geocode county code (5 digits).
    geocode: &'static str,
    name: &'static str,
    name_en: &'static str,
    towns: &'static [TownSpec],
}

const COUNTIES: &[CountySpec] = &[
    CountySpec {
        code: "99000",
        geocode: "99000",
        name: "霧島縣",
        name_en: "Wudao County",
        towns: &[
            TownSpec {
                serial: 1,
                name: "雲港鎮",
                name_en: "Yungang Township",
                rect: (123.00, 23.00, 123.10, 23.20),
                cols: 2,
                rows: 2,
                villages: &[
                    ("海豐里", "Haifeng Vil."),
                    ("海安里", "Haian Vil."),
                    ("海寧里", "Haining Vil."),
                    ("中興里", "Zhongxing Vil."),
                ],
            },
            TownSpec {
                serial: 2,
                name: "霧溪鄉",
                name_en: "Wuxi Township",
                rect: (123.10, 23.00, 123.20, 23.20),
                cols: 2,
                rows: 2,
                villages: &[
                    ("溪口村", "Xikou Vil."),
                    ("溪頭村", "Xitou Vil."),
                    ("溪源村", "Xiyuan Vil."),
                    ("中興村", "Zhongxing Vil."),
                ],
            },
            TownSpec {
                serial: 3,
                name: "東嶼鄉",
                name_en: "Dongyu Township",
                rect: (123.20, 23.00, 123.30, 23.20),
                cols: 2,
                rows: 2,
                villages: &[
                    ("嶼西村", "Yuxi Vil."),
                    ("嶼東村", "Yudong Vil."),
                    ("嶼南村", "Yunan Vil."),
                    ("嶼北村", "Yubei Vil."),
                ],
            },
        ],
    },
    CountySpec {
        code: "99100",
        geocode: "99100",
        name: "雲海市",
        name_en: "Yunhai City",
        towns: &[
            TownSpec {
                serial: 1,
                name: "東區",
                name_en: "East District",
                rect: (123.00, 23.25, 123.10, 23.35),
                cols: 2,
                rows: 1,
                villages: &[("朝陽里", "Chaoyang Vil."), ("光明里", "Guangming Vil.")],
            },
            TownSpec {
                serial: 2,
                name: "西區",
                name_en: "West District",
                rect: (123.10, 23.25, 123.20, 23.35),
                cols: 2,
                rows: 1,
                villages: &[("晚霞里", "Wanxia Vil."), ("星光里", "Xingguang Vil.")],
            },
        ],
    },
    CountySpec {
        code: "99200",
        geocode: "99200",
        name: "星河市",
        name_en: "Xinghe City",
        towns: &[
            TownSpec {
                serial: 1,
                name: "東區",
                name_en: "East District",
                rect: (123.25, 23.25, 123.35, 23.35),
                cols: 2,
                rows: 1,
                villages: &[("銀河里", "Yinhe Vil."), ("天鵝里", "Tiane Vil.")],
            },
            TownSpec {
                serial: 2,
                name: "北區",
                name_en: "North District",
                rect: (123.35, 23.25, 123.45, 23.35),
                cols: 2,
                rows: 1,
                villages: &[("北斗里", "Beidou Vil."), ("織女里", "Zhinu Vil.")],
            },
        ],
    },
];

/// The enclave inside 嶼北村 (99000030004).
const ENCLAVE: (f64, f64, f64, f64) = (123.27, 23.14, 123.28, 23.15);
/// The islet of 嶼東村 (99000030002), off the east coast.
const ISLET: (f64, f64, f64, f64) = (123.32, 23.02, 123.33, 23.03);
/// The village with the islet and the one with the hole.
const ISLET_VILLAGE: &str = "99000030002";
const HOLED_VILLAGE: &str = "99000030004";

fn rect(r: (f64, f64, f64, f64)) -> Polygon<f64> {
    let (x0, y0, x1, y1) = r;
    polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)]
}

fn ring(r: (f64, f64, f64, f64)) -> LineString<f64> {
    rect(r).exterior().clone()
}

/// Rounds to the 1e-7° grid the compact file stores, so that shared
/// edges stay exactly shared after a save and load.
fn snap(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// The demo areas (counties, towns, villages) and Taiwan_Geocode_103 rows.
pub fn parts() -> (Vec<Area>, Vec<CodeEntry>) {
    let mut areas = Vec::new();
    let mut codes = Vec::new();
    for county in COUNTIES {
        let mut county_parts = Vec::new();
        codes.push(entry(
            county.geocode,
            Level::County,
            county.name,
            county.name.to_string(),
            county.name_en,
        ));
        for town in county.towns {
            let town_code = format!("{}{:02}0", county.code, town.serial);
            let town_geocode = format!("{}{:02}", county.geocode, town.serial);
            let mut town_parts = vec![rect(town.rect)];
            let (x0, y0, x1, y1) = town.rect;
            let (w, h) = (
                (x1 - x0) / f64::from(town.cols),
                (y1 - y0) / f64::from(town.rows),
            );
            for (i, (name, name_en)) in town.villages.iter().enumerate() {
                let i = i as u32;
                let (c, r) = (i % town.cols, i / town.cols);
                let cell = (
                    snap(x0 + w * f64::from(c)),
                    snap(y0 + h * f64::from(r)),
                    snap(x0 + w * f64::from(c + 1)),
                    snap(y0 + h * f64::from(r + 1)),
                );
                let code = format!("{town_code}{:03}", i + 1);
                let mut polygons = vec![rect(cell)];
                if code == HOLED_VILLAGE {
                    polygons[0] = Polygon::new(ring(cell), vec![ring(ENCLAVE)]);
                }
                if code == ISLET_VILLAGE {
                    polygons.push(rect(ISLET));
                    town_parts.push(rect(ISLET));
                }
                codes.push(entry(
                    &format!("{town_geocode}-{:03}", i + 1),
                    Level::Village,
                    name,
                    format!("{}{}{}", county.name, town.name, name),
                    name_en,
                ));
                areas.push(area(
                    Level::Village,
                    &code,
                    county.code,
                    Some(&town_code),
                    name,
                    name_en,
                    polygons,
                ));
            }
            if town_code == HOLED_VILLAGE[..8] {
                let code = format!("{town_code}005");
                codes.push(entry(
                    &format!("{town_geocode}-005"),
                    Level::Village,
                    "燈塔村",
                    format!("{}{}燈塔村", county.name, town.name),
                    "Dengta Vil.",
                ));
                areas.push(area(
                    Level::Village,
                    &code,
                    county.code,
                    Some(&town_code),
                    "燈塔村",
                    "Dengta Vil.",
                    vec![rect(ENCLAVE)],
                ));
            }
            codes.push(entry(
                &town_geocode,
                Level::Town,
                town.name,
                format!("{}{}", county.name, town.name),
                town.name_en,
            ));
            county_parts.extend(town_parts.iter().cloned());
            areas.push(area(
                Level::Town,
                &town_code,
                county.code,
                Some(&town_code),
                town.name,
                town.name_en,
                town_parts,
            ));
        }
        areas.push(area(
            Level::County,
            county.code,
            county.code,
            None,
            county.name,
            county.name_en,
            county_parts,
        ));
    }
    (areas, codes)
}

fn entry(code: &str, level: Level, name: &str, fullname: String, name_en: &str) -> CodeEntry {
    CodeEntry {
        table: GeocodeTable::T103,
        code: code.to_string(),
        level,
        name: name.to_string(),
        fullname,
        name_en: Some(name_en.to_string()),
        moi_code: None,
        unmatched: None,
    }
}

fn area(
    level: Level,
    code: &str,
    county_code: &str,
    town_code: Option<&str>,
    name: &str,
    name_en: &str,
    polygons: Vec<Polygon<f64>>,
) -> Area {
    let mut a = Area {
        level,
        code: code.to_string(),
        county_code: county_code.to_string(),
        town_code: town_code.map(str::to_string),
        name: name.to_string(),
        name_en: Some(name_en.to_string()),
        geometry: MultiPolygon(polygons),
        label_point: None,
    };
    a.refresh_label_point();
    a.label_point = a.label_point.map(|c| geo::Coord {
        x: snap(c.x),
        y: snap(c.y),
    });
    a
}

/// The demo atlas, with its Taiwan_Geocode_103 rows matched.
pub fn atlas() -> Atlas {
    let (areas, mut codes) = parts();
    // The generated codes satisfy the invariants from_parts checks; a
    // failure here is a bug in this module, caught by its tests.
    let mut atlas = match Atlas::from_parts(areas, Vec::new()) {
        Ok(a) => a,
        Err(e) => panic!("demo atlas is inconsistent: {e}"),
    };
    match_entries(&atlas, &mut codes);
    atlas.set_codes(codes);
    atlas
}

/// The demo files, embedded in the binary (see `demo/README.md`).
pub const SHELTERS_CSV: &str = include_str!("../demo/shelters.csv");
pub const GAZETTEER_CSV: &str = include_str!("../demo/gazetteer.csv");
pub const ZONES_GEOJSON: &str = include_str!("../demo/zones.geojson");

/// The demo shelters.
pub fn shelters() -> Result<ShelterIndex, String> {
    ShelterIndex::from_csv_text(SHELTERS_CSV)
}

/// The demo address points, keyed against `atlas` (the demo atlas).
pub fn gazetteer(atlas: &Atlas) -> Result<Gazetteer, String> {
    Gazetteer::from_csv_text(atlas, GAZETTEER_CSV).map(|(g, _)| g)
}

/// The demo hazard zones; each feature's `kind` property names its hazard.
pub fn zones() -> Result<ZoneIndex, String> {
    let mut all: Vec<Zone> = Vec::new();
    for kind in [HazardKind::Flood, HazardKind::DebrisFlow] {
        let zones = ZoneIndex::from_geojson_text(ZONES_GEOJSON, kind)?;
        all.extend(
            zones
                .into_iter()
                .filter(|z| z.properties.get("kind").map(String::as_str) == Some(kind.as_str())),
        );
    }
    Ok(ZoneIndex::new(all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atlas_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Atlas>();
    }

    #[test]
    fn embedded_files_parse() {
        let atlas = atlas();
        assert_eq!(shelters().map(|s| s.shelters().len()), Ok(8));
        assert_eq!(gazetteer(&atlas).map(|g| g.len()), Ok(8));
        assert_eq!(zones().map(|z| z.zones().len()), Ok(2));
    }

    #[test]
    fn every_code_row_matches_an_area() {
        let atlas = atlas();
        assert_eq!(atlas.counties().len(), 3);
        assert_eq!(atlas.towns().len(), 7);
        assert_eq!(atlas.villages().len(), 4 * 3 + 1 + 8);
        for e in atlas.code_entries() {
            assert!(e.moi_code.is_some(), "{e:?}");
        }
    }
}
