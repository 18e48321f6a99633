//! `hazardline match`: the dry-run command, run as a user would.

use std::path::PathBuf;
use std::process::Command;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hazardline-match-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// Coordinates are exact binary fractions where a point must lie exactly on
// an edge.
const AREAS: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"id":"square-with-hole"},"geometry":{"type":"Polygon","coordinates":[
   [[120,23],[121,23],[121,24],[120,24],[120,23]],
   [[120.25,23.25],[120.75,23.25],[120.75,23.75],[120.25,23.75],[120.25,23.25]]]}},
 {"type":"Feature","properties":{"id":7},"geometry":{"type":"MultiPolygon","coordinates":[
   [[[120,23],[120.5,23],[120.5,23.5],[120,23.5],[120,23]]],
   [[[122,25],[122.5,25],[122.5,25.5],[122,25]]]]}},
 {"type":"Feature","properties":{"id":null},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}
]}"#;

// 1 inside; 2 on the outer edge; 3 on a vertex; 4 on the hole's edge;
// 5 inside the hole; 6 just outside; 7 on the second part's diagonal edge.
const PLACES: &str = "id,lon,lat\n1,120.125,23.125\n2,121,23.875\n3,120,24\n4,120.5,23.25\n5,120.5,23.5\n6,121.0000001,23.5\n7,122.25,25.25\n";

fn run(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hazardline"))
        .arg("match")
        .args(args)
        .arg("--places")
        .arg(dir.join("places.csv"))
        .arg("--areas")
        .arg(dir.join("areas.geojson"))
        .output()
        .unwrap()
}

fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn counts_places_per_area_with_boundaries() {
    let dir = temp_dir("ok");
    std::fs::write(dir.join("areas.geojson"), AREAS).unwrap();
    std::fs::write(dir.join("places.csv"), PLACES).unwrap();
    let out = run(&["--json"], &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["id"], "square-with-hole");
    assert_eq!(lines[0]["matched"], 4, "inside, edge, vertex, hole edge");
    assert_eq!(lines[1]["id"], 7);
    // Places 1, 4 (on the first part's edge), 5 (its corner), 7.
    assert_eq!(lines[1]["matched"], 4);
    assert_eq!(lines[2]["id"], serde_json::Value::Null);
    assert_eq!(lines[2]["matched"], 0);
    assert!(lines[0]["micros"].is_u64());
    let summary = &lines[3];
    assert_eq!(summary["places"], 7);
    assert_eq!(summary["threads"], 1);
    for key in ["load_ms", "index_ms", "query_ms", "index_bytes"] {
        assert!(summary[key].is_u64(), "{key}");
    }

    let threaded = json_lines(&run(&["--json", "--threads", "2"], &dir));
    let matched: Vec<&serde_json::Value> = threaded.iter().take(3).map(|l| &l["matched"]).collect();
    assert_eq!(matched, [4, 4, 0]);
    assert_eq!(threaded[3]["threads"], 2);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn bad_input_exits_1_and_says_where() {
    let dir = temp_dir("bad");
    std::fs::write(dir.join("areas.geojson"), AREAS).unwrap();
    std::fs::write(
        dir.join("places.csv"),
        "id,lon,lat\n1,120.2,23.2\n2,abc,23\n",
    )
    .unwrap();
    let out = run(&[], &dir);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3") && err.contains("lon"), "{err}");
    let usage = Command::new(env!("CARGO_BIN_EXE_hazardline"))
        .args(["match", "--json"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    std::fs::remove_dir_all(dir).ok();
}
