//! `hazardline cap check` end to end: the real binary over a directory of
//! hand-written files; JSON keys, verdicts, skipping and exit codes.

use std::path::PathBuf;
use std::process::Command;

const VALID: &str = r#"<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>E2E-1</identifier><sender>ops@example.org</sender>
  <sent>2025-07-01T08:00:00+08:00</sent><status>Actual</status><msgType>Alert</msgType>
  <scope>Public</scope>
  <info><category>Geo</category><event>地震</event><urgency>Past</urgency>
    <severity>Minor</severity><certainty>Observed</certainty>
    <area><areaDesc>某縣</areaDesc><circle>23.7,121.5 0</circle>
      <geocode><valueName>Taiwan_Geocode_103</valueName><value>09020</value></geocode></area>
  </info>
</alert>"#;

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "hazardline-cap-check-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    dir
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hazardline"))
        .args(args)
        .output()
        .expect("run hazardline");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn json_lines_verdicts_and_exit_codes() {
    let dir = scratch_dir("json");
    std::fs::write(dir.join("a_valid.cap"), VALID).unwrap();
    std::fs::write(
        dir.join("sub/b_invalid.xml"),
        VALID.replace("<scope>Public</scope>", ""),
    )
    .unwrap();
    std::fs::write(dir.join("c_notes.txt"), "not xml at all").unwrap();
    std::fs::write(
        dir.join("d_html.cap"),
        "<html><head><title>404</title></head></html>",
    )
    .unwrap();

    let (code, stdout, stderr) = run(&["cap", "check", "--json", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "an invalid message makes the exit code 1");
    assert!(stderr.contains("skipped 1"), "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");

    let keys: Vec<&str> = lines[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "path",
        "index",
        "ok",
        "identifier",
        "sender",
        "sent",
        "status",
        "msg_type",
        "hazard",
        "colour",
        "infos",
        "areas",
        "polygons",
        "circles",
        "geocodes",
        "warnings",
        "violations",
        "error",
    ];
    expected.sort();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(sorted, expected);

    // Sorted walk: a_valid.cap, d_html.cap, sub/b_invalid.xml.
    assert!(lines[0]["path"].as_str().unwrap().ends_with("a_valid.cap"));
    assert_eq!(lines[0]["ok"], true);
    assert_eq!(lines[0]["index"], 0);
    assert_eq!(lines[0]["hazard"], "earthquake");
    assert_eq!(lines[0]["colour"], "green");
    assert_eq!(lines[0]["circles"], 1);
    assert_eq!(lines[0]["geocodes"], 1);
    assert_eq!(lines[0]["error"], serde_json::Value::Null);

    assert!(lines[1]["path"].as_str().unwrap().ends_with("d_html.cap"));
    assert_eq!(lines[1]["ok"], false);
    assert_eq!(lines[1]["index"], serde_json::Value::Null);
    assert!(lines[1]["error"].as_str().unwrap().contains("HTML"));

    assert_eq!(lines[2]["ok"], false);
    assert_eq!(lines[2]["identifier"], "E2E-1");
    assert_eq!(lines[2]["violations"][0]["path"], "/alert/scope");
    assert_eq!(lines[2]["violations"][0]["rule"], "required");

    let (code, stdout, _) = run(&["cap", "check", dir.join("a_valid.cap").to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("ok E2E-1 Actual Alert earthquake green"),
        "{stdout}"
    );

    let (code, _, stderr) = run(&["cap", "check", dir.join("missing.cap").to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs `hazardline` with `args`, killing it after `limit` so a read that
/// never ends fails the test instead of hanging it.
fn run_within(args: &[&str], limit: std::time::Duration) -> (i32, String) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_hazardline"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run hazardline");
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stdout = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut stdout)
                .unwrap();
            return (status.code().unwrap_or(-1), stdout);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hazardline {args:?} still reading after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn an_endless_input_is_reported_too_large_not_read_forever() {
    if !std::path::Path::new("/dev/zero").exists() {
        eprintln!("no /dev/zero on this system: test skipped");
        return;
    }
    let (code, stdout) = run_within(
        &["cap", "check", "--json", "/dev/zero"],
        std::time::Duration::from_secs(60),
    );
    assert_eq!(code, 1, "{stdout}");
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["path"], "/dev/zero");
    assert_eq!(line["ok"], false);
    assert!(
        line["error"].as_str().unwrap().contains("too large"),
        "{line}"
    );
}

#[test]
fn a_file_one_byte_over_the_limit_is_too_large_and_named() {
    let dir = scratch_dir("large");
    let big = dir.join("big.cap");
    let limit = cap::parse::DEFAULT_MAX_BYTES;
    let mut text = VALID.to_string().into_bytes();
    text.resize(limit + 1, b' ');
    std::fs::write(&big, &text).unwrap();
    let (code, stdout, _) = run(&["cap", "check", big.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.starts_with(&format!("{}: FAIL", big.display())),
        "{stdout}"
    );
    assert!(stdout.contains("too large"), "{stdout}");
    text.truncate(limit);
    std::fs::write(&big, &text).unwrap();
    let (code, stdout, _) = run(&["cap", "check", big.to_str().unwrap()]);
    assert_eq!(code, 0, "exactly at the limit is read: {stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}
