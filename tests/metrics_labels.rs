//! `/metrics` stays the same size whatever clients send: the real binary on
//! port 0 is sent thousands of made-up methods and paths, and the
//! exposition keeps exactly the series it had (every label comes from a
//! closed set: standard methods or `other`, route templates or
//! `unmatched`).

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const KEY: &str = "5f2b0c3d4e6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e";

/// One HTTP/1.1 request with any method and target: the status, and the
/// body.
fn request(port: u16, method: &str, target: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

fn start(dir: &Path) -> support::Served {
    let config = dir.join("hazardline.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\nkind = \"embedded\"\ndir = \"{}\"\n\n[geodata]\ndemo = true\n",
            dir.join("store").display()
        ),
    )
    .unwrap();
    let mut command = support::serve_command();
    command
        .arg("--config")
        .arg(&config)
        .env("HAZARDLINE_DATA_KEY", KEY)
        .stderr(Stdio::null());
    support::Served::start(command, String::new)
}

/// The HTTP request series in the exposition (name and labels, no value).
fn http_series(port: u16) -> BTreeSet<String> {
    let (status, text) = request(port, "GET", "/metrics").expect("/metrics answers");
    assert_eq!(status, 200);
    text.lines()
        .filter(|line| line.starts_with("hazardline_http_"))
        .filter_map(|line| line.rsplit_once(' ').map(|(series, _)| series.to_owned()))
        .collect()
}

/// Made-up methods and paths, `n` of each kind, from `seed`.
fn junk(port: u16, seed: usize, n: usize) {
    for i in seed..seed + n {
        request(port, &format!("M{i}X"), &format!("/made-up/{i}"));
        request(port, &format!("M{i}Y"), "/healthz");
        request(port, "GET", &format!("/nothing-here-{i}?q={i}"));
    }
}

#[test]
fn made_up_methods_and_paths_add_no_series() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let port = server.port();
    // One of each kind first, so the series they fall into exist.
    junk(port, 0, 1);
    let _ = http_series(port);
    let before = http_series(port);
    assert!(
        before.iter().any(|s| s.contains("method=\"other\"")),
        "{before:#?}"
    );
    assert!(
        before.iter().any(|s| s.contains("route=\"unmatched\"")),
        "{before:#?}"
    );
    junk(port, 1, 1500);
    let after = http_series(port);
    assert_eq!(
        after.len(),
        before.len(),
        "new series: {:#?}",
        after.difference(&before).collect::<Vec<_>>()
    );
    assert!(
        !after
            .iter()
            .any(|s| s.contains("made-up") || s.contains("M77X") || s.contains("nothing-here")),
        "a client's text became a label"
    );
}
