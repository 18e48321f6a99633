//! The web pages in a real browser: `hazardline serve --demo` on port 0,
//! and `web/tests/run.mjs` driving Debian's headless Chromium with
//! playwright-core through the issuer console (log in, draw an area,
//! preview, send, follow progress) and the resident page (subscribe by
//! address, receive the alert, delete my data).
//!
//! Needs `node`, `web/node_modules` (`npm ci --prefix web`) and
//! `/usr/bin/chromium` (or `$CHROMIUM`). When one is missing the test says
//! which and passes, except under `CI=true`, where it fails: CI installs
//! them (`.ci/run`).

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const OPERATOR: &str = "browser-operator:browser operator password";

fn missing_tools(web: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_or(true, |s| !s.success())
    {
        missing.push("node".to_owned());
    }
    if !web.join("node_modules/playwright-core").is_dir() {
        missing.push("web/node_modules (npm ci --prefix web)".to_owned());
    }
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.exists() {
        missing.push(format!("{} (apt-get install chromium)", chromium.display()));
    }
    missing
}

#[test]
fn console_and_resident_page_in_headless_chromium() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let missing = missing_tools(&web);
    if !missing.is_empty() {
        let message = format!("browser test needs {}", missing.join(", "));
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("SKIPPED: {message}");
        return;
    }

    let log = tempfile::NamedTempFile::new().expect("log file");
    let log_path = log.path().to_owned();
    let mut command = support::serve_command();
    command
        .args(["--demo", "--log-format", "json"])
        .env("HAZARDLINE_SERVER_PUBLIC_URL", "http://127.0.0.1")
        .env("HAZARDLINE_BOOTSTRAP_OPERATOR", OPERATOR)
        .stderr(log.reopen().expect("log file"));
    let server = support::Served::start(command, || {
        std::fs::read_to_string(&log_path).unwrap_or_default()
    });

    let mut walk = Command::new("node")
        .arg(web.join("tests/run.mjs"))
        .arg(server.base())
        .env("HAZARDLINE_TEST_OPERATOR", OPERATOR)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node web/tests/run.mjs");
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut out) = walk.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    if let Some(mut err) = walk.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    let status = walk.wait().expect("walk finished");
    eprintln!("{stdout}\n{stderr}");
    if !status.success() {
        let service_log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = service_log.lines().rev().take(40).collect();
        panic!(
            "browser walk failed ({status}); screenshots in web/test-results/\nservice log (newest first):\n{}",
            tail.join("\n")
        );
    }
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
