//! Import of shapefiles the test writes itself (TWD97 lon/lat and TM2),
//! GeoJSON, re-import with changes, and the demo region's boundary rules.

use std::path::{Path, PathBuf};

use geodata::import::import_paths;
use geodata::import::shapefile::Tm2ToLonLat;
use proj4rs::proj::Proj;
use shapefile::dbase::{FieldName, FieldValue, Record, TableWriterBuilder};
use shapefile::{Point, Polygon, PolygonRing};

const TM2_PRJ: &str = r#"PROJCS["TWD97 / TM2 zone 121",GEOGCS["TWD97",DATUM["Taiwan_Datum_1997",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",121],PARAMETER["scale_factor",0.9999],PARAMETER["false_easting",250000],PARAMETER["false_northing",0],UNIT["metre",1]]"#;
const LONLAT_PRJ: &str = r#"GEOGCS["TWD97",DATUM["Taiwan_Datum_1997",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]"#;

struct Village {
    code: &'static str,
    name: &'static str,
    /// Rings: outer first, then holes (x, y in the file's CRS).
    rings: Vec<Vec<(f64, f64)>>,
}

fn field(name: &str) -> FieldName {
    FieldName::try_from(name).expect("field name")
}

fn write_shapefile(path: &Path, prj: Option<&str>, villages: &[Village]) {
    let table = TableWriterBuilder::new()
        .add_character_field(field("VILLCODE"), 11)
        .add_character_field(field("TOWNCODE"), 8)
        .add_character_field(field("COUNTYCODE"), 5)
        .add_character_field(field("VILLNAME"), 30)
        .add_character_field(field("VILLENG"), 30);
    let mut w = shapefile::Writer::from_path(path, table).expect("writer");
    for v in villages {
        // Shapefile outer rings run clockwise, holes counter-clockwise.
        let rings = v
            .rings
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let pts: Vec<Point> = r.iter().map(|&(x, y)| Point::new(x, y)).collect();
                if i == 0 {
                    PolygonRing::Outer(pts)
                } else {
                    PolygonRing::Inner(pts)
                }
            })
            .collect();
        let mut rec = Record::default();
        let text = |s: &str| FieldValue::Character(Some(s.to_string()));
        rec.insert("VILLCODE".into(), text(v.code));
        rec.insert("TOWNCODE".into(), text(&v.code[..8]));
        rec.insert("COUNTYCODE".into(), text(&v.code[..5]));
        rec.insert("VILLNAME".into(), text(v.name));
        rec.insert("VILLENG".into(), text("Test Vil."));
        w.write_shape_and_record(&Polygon::with_rings(rings), &rec)
            .expect("write");
    }
    drop(w);
    if let Some(prj) = prj {
        std::fs::write(path.with_extension("prj"), prj).expect("prj");
    }
}

fn square(x0: f64, y0: f64, size: f64) -> Vec<(f64, f64)> {
    // clockwise
    vec![
        (x0, y0),
        (x0, y0 + size),
        (x0 + size, y0 + size),
        (x0 + size, y0),
        (x0, y0),
    ]
}

fn square_ccw(x0: f64, y0: f64, size: f64) -> Vec<(f64, f64)> {
    let mut s = square(x0, y0, size);
    s.reverse();
    s
}

fn tm2_villages() -> Vec<Village> {
    vec![
        Village {
            code: "99000010001",
            name: "甲村",
            rings: vec![
                square(300_000.0, 2_770_000.0, 2_000.0),
                square_ccw(300_700.0, 2_770_700.0, 600.0),
            ],
        },
        Village {
            code: "99000010002",
            name: "乙村",
            rings: vec![square(302_000.0, 2_770_000.0, 2_000.0)],
        },
    ]
}

#[test]
fn tm2_shapefile_imports_with_holes_and_converted_coordinates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shp = dir.path().join("village.shp");
    write_shapefile(&shp, Some(TM2_PRJ), &tm2_villages());
    let (atlas, report) = import_paths(&[shp], &mut |_| {}).expect("import");
    assert_eq!(report.villages, 2);
    assert_eq!(
        atlas.villages()[0].geometry.0[0].interiors().len(),
        1,
        "hole kept"
    );
    let t = Tm2ToLonLat::new().expect("tm2");
    let at = |x: f64, y: f64| {
        let (lon, lat) = t.convert(x, y).expect("convert");
        atlas.locate(lon, lat).map(|l| l.village_code().to_string())
    };
    assert_eq!(at(300_200.0, 2_770_200.0).as_deref(), Some("99000010001"));
    assert_eq!(at(303_000.0, 2_771_000.0).as_deref(), Some("99000010002"));
    // The middle of the 600 m hole is 300 m from the village: outside.
    assert_eq!(at(301_000.0, 2_771_000.0), None);
    // On the shared edge x = 302,000: the lower code.
    assert_eq!(at(302_000.0, 2_771_000.0).as_deref(), Some("99000010001"));
    // The converted coordinates are lon/lat near Taipei.
    let p = atlas.villages()[0].label_point.expect("label");
    assert!(
        (121.0..122.0).contains(&p.x) && (24.5..25.5).contains(&p.y),
        "{p:?}"
    );
}

#[test]
fn lonlat_shapefile_and_tm2_shapefile_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = Tm2ToLonLat::new().expect("tm2");
    let lonlat: Vec<Village> = tm2_villages()
        .into_iter()
        .map(|v| Village {
            rings: v
                .rings
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|&(x, y)| t.convert(x, y).expect("convert"))
                        .collect()
                })
                .collect(),
            ..v
        })
        .collect();
    let a = dir.path().join("a.shp");
    let b = dir.path().join("b.shp");
    write_shapefile(&a, Some(TM2_PRJ), &tm2_villages());
    write_shapefile(&b, Some(LONLAT_PRJ), &lonlat);
    let (atlas_a, _) = import_paths(&[a], &mut |_| {}).expect("a");
    let (atlas_b, _) = import_paths(&[b], &mut |_| {}).expect("b");
    assert_eq!(atlas_a.villages().len(), atlas_b.villages().len());
    for (va, vb) in atlas_a.villages().iter().zip(atlas_b.villages()) {
        assert_eq!(va.code, vb.code);
        let (pa, pb) = (va.label_point.expect("a"), vb.label_point.expect("b"));
        assert!((pa.x - pb.x).abs() < 1e-7 && (pa.y - pb.y).abs() < 1e-7);
    }
}

#[test]
fn a_shapefile_without_prj_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shp = dir.path().join("village.shp");
    write_shapefile(&shp, None, &tm2_villages());
    let e = import_paths(&[shp], &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains(".prj"), "{e}");
}

#[test]
fn tm2_forward_and_inverse_round_trip() {
    let tm2 = Proj::from_proj_string("+proj=tmerc +lat_0=0 +lon_0=121 +k=0.9999 +x_0=250000 +y_0=0 +ellps=GRS80 +units=m +no_defs").expect("tm2");
    let ll = Proj::from_proj_string("+proj=longlat +ellps=GRS80 +no_defs").expect("ll");
    let inverse = Tm2ToLonLat::new().expect("inverse");
    for (lon, lat) in [(121.5645, 25.034), (120.3, 22.6), (121.6, 23.97)] {
        let mut p = (f64::to_radians(lon), f64::to_radians(lat), 0.0);
        proj4rs::transform::transform(&ll, &tm2, &mut p).expect("forward");
        let (lon2, lat2) = inverse.convert(p.0, p.1).expect("inverse");
        assert!((lon - lon2).abs() < 1e-9 && (lat - lat2).abs() < 1e-9);
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

fn village_feature(code: &str, name: &str, x0: f64, x1: f64) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"VILLCODE":"{code}","TOWNCODE":"{}","COUNTYCODE":"{}","VILLNAME":"{name}","COUNTYNAME":"霧島縣","TOWNNAME":"雲港鎮"}},
        "geometry":{{"type":"Polygon","coordinates":[[[{x0},23.0],[{x1},23.0],[{x1},23.1],[{x0},23.1],[{x0},23.0]]]}}}}"#,
        &code[..8],
        &code[..5]
    )
}

#[test]
fn reimport_reports_changes_and_maps_merged_villages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let collection = |features: &[String]| {
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        )
    };
    // Old: three villages side by side. New: the first two merged under
    // the first code, the third renamed, and a fourth added.
    let old = write(
        dir.path(),
        "old.geojson",
        &collection(&[
            village_feature("99000010001", "甲里", 123.0, 123.1),
            village_feature("99000010002", "乙里", 123.1, 123.2),
            village_feature("99000010003", "丙里", 123.2, 123.3),
        ]),
    );
    let new = write(
        dir.path(),
        "new.geojson",
        &collection(&[
            village_feature("99000010001", "甲里", 123.0, 123.2),
            village_feature("99000010003", "新丙里", 123.2, 123.3),
            village_feature("99000010004", "丁里", 123.3, 123.4),
        ]),
    );
    let (old, _) = import_paths(&[old], &mut |_| {}).expect("old");
    let (new, _) = import_paths(&[new], &mut |_| {}).expect("new");
    let changes = geodata::diff::compare(&old, &new);
    let codes = |v: &[geodata::diff::AreaRef]| v.iter().map(|a| a.code.clone()).collect::<Vec<_>>();
    assert_eq!(codes(&changes.added), vec!["99000010004"]);
    assert_eq!(codes(&changes.removed), vec!["99000010002"]);
    assert_eq!(changes.renamed.len(), 1);
    assert_eq!(changes.renamed[0].code, "99000010003");
    assert_eq!(codes(&changes.geometry_changed), vec!["99000010001"]);
    assert_eq!(
        changes.village_migration.get("99000010002"),
        Some(&vec!["99000010001".to_string()])
    );
    assert!(changes.summary().contains("1 added, 1 removed, 1 renamed"));
    assert_eq!(
        geodata::diff::migrate_point(&new, 123.15, 23.05),
        Some("99000010001")
    );
}

#[test]
fn unknown_content_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(dir.path(), "x.json", r#"{"hello": 1}"#);
    let e = import_paths(&[p], &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("neither TopoJSON"), "{e}");
    let p = write(
        dir.path(),
        "codes.json",
        r#"[{"code":"9900001","name":"雲港鎮","fullname":"霧島縣雲港鎮"}]"#,
    );
    let e = import_paths(&[p], &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("edition"), "{e}");
}

#[test]
fn demo_boundaries_follow_the_rules() {
    let atlas = geodata::demo::atlas();
    // Shared edge between 海豐里 (…001) and 海安里 (…002) at lon 123.05.
    assert_eq!(
        atlas.locate(123.05, 23.02).unwrap().village_code(),
        "99000010001"
    );
    // The corner shared by four villages goes to the lowest code.
    assert_eq!(
        atlas.locate(123.05, 23.10).unwrap().village_code(),
        "99000010001"
    );
    // The enclave inside 嶼北村's hole.
    assert_eq!(
        atlas.locate(123.275, 23.145).unwrap().village_code(),
        "99000030005"
    );
    assert_eq!(
        atlas.locate(123.26, 23.16).unwrap().village_code(),
        "99000030004"
    );
    // The islet of 嶼東村.
    assert_eq!(
        atlas.locate(123.325, 23.025).unwrap().village_code(),
        "99000030002"
    );
    // 100 m east of the county's east coast: snapped; 1 km: outside.
    let (per_lon, _) = geodata::locate::metres_per_degree(23.1);
    let near = atlas.locate(123.30 + 100.0 / per_lon, 23.1 + 0.01).unwrap();
    assert!(
        near.snapped && (near.distance_m - 100.0).abs() < 1.0,
        "{near:?}"
    );
    assert!(atlas.locate(123.30 + 1000.0 / per_lon, 23.11).is_none());
    // A demo file written and read back is the same atlas.
    let bytes = atlas.to_bytes().expect("encode");
    let again = geodata::Atlas::from_bytes(&bytes, Path::new("demo")).expect("decode");
    assert_eq!(again.villages(), atlas.villages());
}
