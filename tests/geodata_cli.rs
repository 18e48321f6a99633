//! `hazardline geodata …` end to end, on the embedded demo region.

use std::process::Command;

fn hazardline(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hazardline"))
        .args(args)
        .output()
        .expect("run hazardline");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn locate_points_in_input_order() {
    let dir = tempfile_dir();
    let csv = dir.join("points.csv");
    std::fs::write(
        &csv,
        "id,lon,lat\nb,123.175,23.15\na,123.02,23.02\nsea,0,0\n",
    )
    .expect("write");
    let (code, out, _) = hazardline(&[
        "geodata",
        "locate",
        "--points",
        csv.to_str().expect("path"),
        "--json",
    ]);
    assert_eq!(code, 1, "one point is outside: exit 1");
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["id"], "b");
    assert_eq!(rows[0]["village_code"], "99000020004");
    assert_eq!(rows[0]["town_code"], "99000020");
    assert_eq!(rows[0]["county_code"], "99000");
    assert_eq!(rows[0]["village_name"], "中興村");
    assert_eq!(rows[0]["snapped"], false);
    assert_eq!(rows[1]["id"], "a");
    assert!(rows[2]["village_code"].is_null() && rows[2]["county_code"].is_null());

    let (code, out, _) = hazardline(&["geodata", "locate", "--point", "123.02,23.02", "--json"]);
    assert_eq!(code, 0);
    let row = &json_lines(&out)[0];
    assert!(row["id"].is_null());
    assert_eq!(row["village_code"], "99000010001");
}

#[test]
fn resolve_and_geocode() {
    let (code, out, _) = hazardline(&[
        "geodata",
        "resolve",
        "Taiwan_Geocode_103",
        "9900003",
        "--json",
    ]);
    assert_eq!(code, 0);
    let r = &json_lines(&out)[0];
    assert_eq!(r["level"], "town");
    assert_eq!(r["moi_code"], "99000030");
    assert_eq!(r["name"], "霧島縣東嶼鄉");
    assert_eq!(r["villages"].as_array().map(Vec::len), Some(5));

    let (code, out, _) = hazardline(&[
        "geodata",
        "resolve",
        "Taiwan_Geocode_103",
        "9900009",
        "--json",
    ]);
    assert_eq!(code, 1);
    assert!(
        json_lines(&out)[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("9900009"))
    );

    let (code, out, _) = hazardline(&[
        "geodata",
        "geocode",
        "霧島縣東嶼鄉燈塔村燈塔路1號5樓",
        "--json",
    ]);
    assert_eq!(code, 0);
    let g = &json_lines(&out)[0];
    assert_eq!(g["precision"], "village");
    assert_eq!(g["village_code"], "99000030005");
    assert_eq!(g["components"]["floor"], "5");
    assert_eq!(g["components"]["road"], "燈塔路");

    let (code, out, _) = hazardline(&["geodata", "geocode", "東區1號", "--json"]);
    assert_eq!(code, 1);
    let e = &json_lines(&out)[0];
    assert_eq!(e["candidates"].as_array().map(Vec::len), Some(2));
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, _) = hazardline(&["geodata", "locate", "--point", "nonsense"]);
    assert_eq!(code, 2);
    let (code, _, _) = hazardline(&["geodata", "locate"]);
    assert_eq!(code, 2);
    let (code, _, err) = hazardline(&[
        "geodata",
        "resolve",
        "--geodata",
        "/nonexistent/atlas",
        "Taiwan_Geocode_103",
        "63",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/atlas"), "{err}");
}

#[test]
fn import_writes_a_file_that_locate_reads() {
    let dir = tempfile_dir();
    let geojson = dir.join("villages.geojson");
    std::fs::write(
        &geojson,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"VILLCODE":"99000010001","VILLNAME":"測試里"},"geometry":{"type":"Polygon","coordinates":[[[123,23],[123.1,23],[123.1,23.1],[123,23.1],[123,23]]]}}]}"#,
    )
    .expect("write");
    let out_file = dir.join("atlas.hzgeo");
    let (code, _, err) = hazardline(&[
        "geodata",
        "import",
        "--out",
        out_file.to_str().expect("p"),
        geojson.to_str().expect("p"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 villages"), "progress on stderr: {err}");
    let (code, out, _) = hazardline(&[
        "geodata",
        "locate",
        "--geodata",
        out_file.to_str().expect("p"),
        "--point",
        "123.05,23.05",
        "--json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(json_lines(&out)[0]["village_code"], "99000010001");
}

/// A fresh directory under the target's temp dir (no extra dependency).
fn tempfile_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "hazardline-geodata-cli-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
