//! `/metrics` stays the same size whatever clients send: the real binary on
//! a free port is sent thousands of made-up methods and paths, and the
//! exposition keeps exactly the series it had (every label comes from a
//! closed set: standard methods or `other`, route templates or
//! `unmatched`).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "5f2b0c3d4e6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

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

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path, port: u16) -> Server {
    let config = dir.join("hazardline.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\nkind = \"embedded\"\ndir = \"{}\"\n\n[geodata]\ndemo = true\n",
            dir.join("store").display()
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_hazardline"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("HAZARDLINE_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .env("HAZARDLINE_DATA_KEY", KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start hazardline serve");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if request(port, "GET", "/healthz").is_some() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("hazardline serve did not come up");
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
    let port = free_port();
    let _server = start(dir.path(), port);
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
