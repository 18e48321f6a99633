//! `hazardline serve` against clients holding its sockets, as in a
//! slowloris attack: the real binary with 512 open files (the incident's
//! service had 1,024 and lost inboxes when idle sockets used them up),
//! small connection caps and short timeouts. Clients from 127.0.0.2 to
//! 127.0.0.60 keep every connection the server allows and 500 more
//! (reconnecting whenever they are closed, as an attacker would); the
//! operator routes still answer, slow clients are cut off, and an alert
//! reaching 300 residents loses no inbox entry.

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use support::staff::{Seed, Server, eventually};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

/// Open connections the main listener serves with every route.
const CAP: usize = 200;
const PER_ADDRESS: usize = 20;
/// Connections beyond the cap for the operator routes.
const RESERVE: usize = 4;
/// The service's soft and hard RLIMIT_NOFILE: the cap, the reserve, the
/// operator listener and `reserved_files` fit; the held sockets would not.
const OPEN_FILES: u64 = 512;
const RESIDENTS: usize = 300;
/// Far longer than any configured timeout: a client not cut off by then
/// never will be.
const GIVE_UP: Duration = Duration::from_secs(25);

fn loopback(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

async fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(to).await
}

/// A client that connects from `from`, sends nothing and keeps the
/// connection until the server closes it, then connects again.
async fn hold(from: IpAddr, to: SocketAddr) {
    loop {
        if let Ok(mut stream) = connect_from(from, to).await {
            let mut buf = [0u8; 512];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// A plain HTTP/1.1 GET with `Connection: close`: (status, body).
async fn get(to: SocketAddr, path: &str) -> Option<(u16, String)> {
    let exchange = async {
        let mut stream = TcpStream::connect(to).await.ok()?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.ok()?;
        let response = String::from_utf8_lossy(&response).into_owned();
        let status = response.split(' ').nth(1)?.parse().ok()?;
        let body = response.split_once("\r\n\r\n")?.1.to_owned();
        Some((status, body))
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .ok()
        .flatten()
}

/// The value of the sample `series` (name and labels as rendered) in a
/// Prometheus text page; 0 when absent.
fn sample(page: &str, series: &str) -> f64 {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// Sends `head`, then `drip` one byte at a time (cycling) every 200 ms
/// while reading; returns how long until the server closed the
/// connection, or None when it was still open after [`GIVE_UP`].
async fn trickle(to: SocketAddr, head: &[u8], drip: &[u8]) -> Option<Duration> {
    let mut stream = TcpStream::connect(to).await.unwrap();
    let started = Instant::now();
    stream.write_all(head).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let closed = async {
        let mut buf = [0u8; 1024];
        while let Ok(n) = reader.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    let dripping = async {
        for byte in drip.iter().cycle() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
        }
    };
    let outcome = tokio::time::timeout(GIVE_UP, async {
        tokio::select! {
            _ = closed => {}
            _ = dripping => {}
        }
    })
    .await;
    outcome.ok().map(|()| started.elapsed())
}

/// Sets the child's open-file limit (soft and hard) before it starts.
fn limit_open_files(command: &mut std::process::Command) {
    // SAFETY: setrlimit is async-signal-safe and touches no memory of the
    // parent; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| rlimit::setrlimit(rlimit::Resource::NOFILE, OPEN_FILES, OPEN_FILES));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_connections_starve_neither_the_probes_nor_the_store() {
    // This process opens some 750 sockets.
    rlimit::increase_nofile_limit(4096).unwrap();
    let drop_dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "max_connections = {CAP}\nmax_connections_per_address = {PER_ADDRESS}\n\
         ops_reserve = {RESERVE}\nops_listen = \"127.0.0.1:0\"\n\
         header_timeout_secs = 3\nbody_timeout_secs = 2\nidle_timeout_secs = 2\n\n\
         [clock]\nstart = \"2026-07-01T08:30:00+08:00\"\n\n\
         [dispatch]\nidle_millis = 50\nmaintenance_secs = 1\n\n\
         [[ingest.sources]]\nid = \"drop\"\nkind = \"directory\"\npath = \"{}\"\n\
         poll_interval_secs = 1\nsenders = [\"*@demo.hazardline.invalid\"]\n",
        drop_dir.path().display()
    );
    // Everyone lives in 溪頭, inside the demo debris-flow alert.
    let residents: Vec<Seed> = (0..RESIDENTS)
        .map(|i| Seed::resident(&format!("s_held_{i}"), 123.175, 23.05, None))
        .collect();
    let server = Server::start_with(&residents, &extra, limit_open_files).await;
    let main = server.served.main;
    let ops = server.served.ops.expect("the operator listener announced");
    let metrics = || async move {
        get(ops, "/metrics")
            .await
            .map(|(_, page)| page)
            .unwrap_or_default()
    };

    // Slow clients are cut off: headers a byte at a time, a body a byte
    // at a time, a keep-alive connection left idle.
    let slow_head = trickle(
        main,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
        b"X-Slow: 1\r\n",
    )
    .await;
    assert!(
        slow_head.is_some(),
        "a client trickling its headers is never cut off"
    );
    let slow_body = trickle(
        main,
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n",
        b"{\"username\": \"slow\",                    ",
    )
    .await;
    assert!(
        slow_body.is_some(),
        "a client trickling its body is never cut off"
    );
    let mut idle = TcpStream::connect(main).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let closed = tokio::time::timeout(GIVE_UP, async {
        while idle.read(&mut buf).await.is_ok_and(|n| n > 0) {}
    })
    .await;
    assert!(
        closed.is_ok(),
        "an idle keep-alive connection is never closed"
    );
    let page = metrics().await;
    for reason in ["header_timeout", "body_timeout", "idle"] {
        let series = format!("hazardline_http_connections_cut_total{{reason=\"{reason}\"}}");
        assert!(sample(&page, &series) >= 1.0, "{series} missing:\n{page}");
    }

    // One address gets its share and no more.
    let mut same_address = Vec::new();
    for _ in 0..PER_ADDRESS {
        same_address.push(connect_from(loopback(61), main).await.unwrap());
    }
    let mut extra_one = connect_from(loopback(61), main).await.unwrap();
    let mut refused = String::new();
    let _ = tokio::time::timeout(
        Duration::from_secs(10),
        extra_one.read_to_string(&mut refused),
    )
    .await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused:?}");
    drop(same_address);
    let page = metrics().await;
    let series =
        "hazardline_http_connections_refused_total{listener=\"main\",reason=\"address_full\"}";
    assert!(sample(&page, series) >= 1.0, "{page}");

    // Clients from ten addresses take every regular connection; /healthz
    // on the main listener still answers, from the reserve.
    let mut holders = JoinSet::new();
    for last in 2..12 {
        for _ in 0..PER_ADDRESS {
            holders.spawn(hold(loopback(last), main));
        }
    }
    eventually("the main listener at its cap", || async {
        let page = metrics().await;
        let open = sample(
            &page,
            "hazardline_http_connections{listener=\"main\",slot=\"regular\"}",
        );
        (open as usize == CAP).then_some(())
    })
    .await;
    let (status, _) = eventually("/healthz through the reserve", || async {
        get(main, "/healthz")
            .await
            .filter(|(status, _)| *status == 200)
    })
    .await;
    assert_eq!(status, 200);
    let page = metrics().await;
    assert!(
        sample(
            &page,
            "hazardline_http_connections_total{listener=\"main\",slot=\"reserve\"}"
        ) >= 1.0,
        "{page}"
    );

    // 500 beyond the cap, from 49 more addresses.
    for last in 12..=60 {
        for _ in 0..11 {
            holders.spawn(hold(loopback(last), main));
        }
    }
    eventually("500 connections refused beyond the cap", || async {
        let page = metrics().await;
        let refused = sample(
            &page,
            "hazardline_http_connections_refused_total{listener=\"main\",reason=\"server_full\"}",
        );
        (refused >= 500.0).then_some(())
    })
    .await;

    // The operator listener answers, and the store is ready.
    assert_eq!(get(ops, "/healthz").await.unwrap().0, 200);
    let (status, body) = get(ops, "/readyz").await.unwrap();
    assert_eq!(status, 200, "{body}");

    // An alert for everyone while the connections are held.
    let cap = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/demo/cap/01-debris-flow-yellow.xml"
    ))
    .unwrap();
    std::fs::write(drop_dir.path().join(".incoming"), cap).unwrap();
    std::fs::rename(
        drop_dir.path().join(".incoming"),
        drop_dir.path().join("01-debris-flow-yellow.xml"),
    )
    .unwrap();
    eventually("the residents told and their deliveries queued", || async {
        let page = metrics().await;
        let told = sample(&page, "hazardline_engine_notices_total{kind=\"new\"}");
        let queued = sample(&page, "hazardline_deliveries_enqueued_total");
        (told as usize >= RESIDENTS && queued as usize >= RESIDENTS).then_some(())
    })
    .await;
    let page = metrics().await;
    let refused = sample(
        &page,
        "hazardline_http_connections_refused_total{listener=\"main\",reason=\"server_full\"}",
    );
    assert!(refused >= 500.0, "{page}");
    let (status, body) = get(ops, "/readyz").await.unwrap();
    assert_eq!(status, 200, "{body}");

    // Released: every resident's inbox has the alert.
    holders.shutdown().await;
    eventually("the main listener free again", || async {
        get(main, "/healthz")
            .await
            .filter(|(status, _)| *status == 200)
    })
    .await;
    let has_alert = |inbox: &Value| {
        inbox["entries"].as_array().is_some_and(|entries| {
            entries
                .iter()
                .any(|e| e["hazard"] == "debris_flow" && e["kind"] == "new")
        })
    };
    // The inboxes are written right after the queue.
    let last = residents.last().unwrap().caller();
    eventually("the last resident's inbox written", || async {
        let (_, inbox) = server.get(&last, "/api/v1/me/inbox").await;
        has_alert(&inbox).then_some(())
    })
    .await;
    for seed in &residents {
        let (status, inbox) = server.get(&seed.caller(), "/api/v1/me/inbox").await;
        assert_eq!(status, StatusCode::OK, "{inbox}");
        assert!(
            has_alert(&inbox),
            "{} has no inbox entry: {inbox}",
            seed.record.id.0
        );
    }
    let log = server.log();
    for failure in [
        "Too many open files",
        "unable to open database file",
        "inbox entries not written",
    ] {
        assert!(!log.contains(failure), "{failure} in the log:\n{log}");
    }
}
