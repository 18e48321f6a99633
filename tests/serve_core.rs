//! `hazardline serve` end to end: the real binary with a temporary
//! configuration on port 0, its embedded store, a drop directory
//! feed and a private Mosquitto broker. Checks the operator endpoints, that
//! a CAP file dropped in reaches a subscriber stored beforehand as an MQTT
//! message in their language (and their inbox), the heartbeat, and that
//! SIGTERM drains and exits 0.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use notifier::testing::mosquitto::Mosquitto;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

const KEY: &str = "5f2b0c3d4e6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e";

/// A plain HTTP/1.1 GET: (status, body).
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

struct Server {
    served: support::Served,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl Server {
    fn start(config: &Path) -> Server {
        Server::start_with(&["--config".as_ref(), config.as_os_str()], Some(KEY))
    }

    fn start_with(args: &[&std::ffi::OsStr], key: Option<&str>) -> Server {
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut command = support::serve_command();
        command
            .args(["--log-format", "json"])
            .args(args)
            .env_remove("HAZARDLINE_DATA_KEY")
            .stderr(log.reopen().unwrap());
        if let Some(key) = key {
            command.env("HAZARDLINE_DATA_KEY", key);
        }
        let served = support::Served::start(command, || {
            std::fs::read_to_string(log.path()).unwrap_or_default()
        });
        Server {
            port: served.port(),
            served,
            log,
        }
    }

    /// SIGTERM, then the exit status and the log.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let status = self.served.terminate();
        let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        (status, log)
    }
}

/// The morning of the demo story: the demo alerts are in force.
const DEMO_MORNING: &str = "2026-07-01T08:30:00+08:00";

fn write_config(dir: &Path, mqtt_port: Option<u16>, extra: &str) -> std::path::PathBuf {
    write_config_at(dir, mqtt_port, extra, DEMO_MORNING)
}

/// The same, with the service's clock starting at `clock`.
fn write_config_at(
    dir: &Path,
    mqtt_port: Option<u16>,
    extra: &str,
    clock: &str,
) -> std::path::PathBuf {
    let storage = format!(
        "[storage]\nkind = \"embedded\"\ndir = \"{}\"\n",
        dir.join("store").display()
    );
    write_config_with(dir, &storage, mqtt_port, extra, clock)
}

fn write_config_with(
    dir: &Path,
    storage: &str,
    mqtt_port: Option<u16>,
    extra: &str,
    clock: &str,
) -> std::path::PathBuf {
    let drop_dir = dir.join("drop");
    std::fs::create_dir_all(&drop_dir).unwrap();
    let mqtt = mqtt_port
        .map(|port| format!("[channels.mqtt]\nhost = \"127.0.0.1\"\nport = {port}\nclient_id = \"hazardline-test\"\n"))
        .unwrap_or_default();
    let text = format!(
        r#"
{storage}

[geodata]
demo = true

[clock]
start = "{clock}"

[dispatch]
idle_millis = 50
maintenance_secs = 1

{mqtt}
{extra}

[[ingest.sources]]
id = "drop"
kind = "directory"
path = "{drop}"
poll_interval_secs = 1
senders = ["*@demo.hazardline.invalid"]
"#,
        drop = drop_dir.display(),
    );
    let path = dir.join("hazardline.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A subscriber in 溪頭 (inside the demo debris-flow alert), reading
/// English, reachable on MQTT as device `phone-en`.
async fn store_subscriber(dir: &Path) {
    let key = store::DataKey::parse(KEY).unwrap();
    let storage = store::SqliteStorage::open(&dir.join("store"), key).unwrap();
    put_subscriber(&storage).await;
}

async fn put_subscriber(storage: &dyn store::Storage) {
    storage
        .put_subscriber(&store::SubscriberRecord {
            id: store::SubscriberId("s_e2e_1".into()),
            created_at: chrono::Utc::now(),
            key_hash: store::KeyHash([7; 32]),
            locale: "en".into(),
            devices: vec![store::Device {
                channel: store::DeviceChannel::Mqtt,
                address: store::Sensitive("phone-en".into()),
                secret: None,
            }],
            places: vec![store::PlaceRecord {
                id: 0,
                label: store::Sensitive("Grandma's".into()),
                address: None,
                lon: 123.175,
                lat: 23.05,
                village: None,
            }],
            location: None,
            preferences: store::PreferencesRecord::default(),
            relay: None,
        })
        .await
        .unwrap();
}

/// Subscribes to everything under `hazardline/` and returns the receiver
/// of (topic, payload).
async fn watch(port: u16) -> tokio::sync::mpsc::UnboundedReceiver<(String, String)> {
    let mut options = MqttOptions::new("watcher", "127.0.0.1", port);
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut event_loop) = AsyncClient::new(options, 64);
    client
        .subscribe("hazardline/#", QoS::AtLeastOnce)
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (subscribed_tx, subscribed_rx) = tokio::sync::oneshot::channel();
    let mut subscribed_tx = Some(subscribed_tx);
    tokio::spawn(async move {
        let _client = client;
        while let Ok(event) = event_loop.poll().await {
            match event {
                Event::Incoming(Packet::SubAck(_)) => {
                    if let Some(tx) = subscribed_tx.take() {
                        let _ = tx.send(());
                    }
                }
                Event::Incoming(Packet::Publish(p)) => {
                    let _ = tx.send((p.topic, String::from_utf8_lossy(&p.payload).into_owned()));
                }
                _ => {}
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(10), subscribed_rx)
        .await
        .expect("MQTT subscription acknowledged")
        .unwrap();
    rx
}

async fn until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_cap_file_reaches_a_stored_subscriber_over_mqtt() {
    let Some(broker) = Mosquitto::start() else {
        eprintln!("mosquitto not installed: test skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), Some(broker.port), "");
    store_subscriber(dir.path()).await;
    let mut messages = watch(broker.port).await;
    let server = Server::start(&config);
    let port = server.port;

    assert_eq!(get(port, "/healthz").unwrap().0, 200);
    let (status, body) = get(port, "/readyz").unwrap();
    assert_eq!(status, 200, "{body}");
    let (status, metrics) = get(port, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("hazardline_queue_depth"), "{metrics}");
    assert!(
        metrics.contains("hazardline_feed_stale{source=\"drop\"} 0"),
        "{metrics}"
    );

    // Written under a temporary name, then renamed: the worker reads only
    // complete files.
    let drop_dir = dir.path().join("drop");
    drop_file(&drop_dir, "01-debris-flow-yellow.xml");

    let (topic, payload) = tokio::time::timeout(Duration::from_secs(60), messages.recv())
        .await
        .expect("an MQTT delivery")
        .unwrap();
    assert_eq!(topic, "hazardline/device/phone-en");
    assert!(payload.contains("Grandma's"), "{payload}");
    assert!(
        payload.contains("ebris"),
        "English text expected: {payload}"
    );
    assert!(!payload.contains("土石流"), "not in Chinese: {payload}");

    let metrics = until("the delivery in the metrics", || {
        let (_, metrics) = get(port, "/metrics")?;
        metrics
            .contains("hazardline_deliveries_total{channel=\"mqtt\",outcome=\"sent\"} 1")
            .then_some(metrics)
    })
    .await;
    assert!(
        metrics.contains("hazardline_ingest_accepted_total{source=\"drop\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "hazardline_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"200\"}"
        ),
        "{metrics}"
    );

    let (status, log) = server.terminate();
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(log.contains("shutdown complete"), "{log}");
    assert!(!log.contains("Grandma"), "a place label reached the log");
    assert!(
        !log.contains("phone-en"),
        "a device address reached the log"
    );

    // The inbox was written, sealed, in the same store.
    use store::Storage;
    let key = store::DataKey::parse(KEY).unwrap();
    let storage = store::SqliteStorage::open(&dir.path().join("store"), key).unwrap();
    let inbox = storage
        .inbox(&store::SubscriberId("s_e2e_1".into()), 10)
        .await
        .unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].kind, "new");
    assert_eq!(inbox[0].hazard, "debris_flow");
    drop(storage);

    // After a restart the alert is still in force for the engine: its
    // Update, which moves the area away from 溪頭, tells this subscriber
    // the all-clear, and nothing already sent is sent again.
    let server = Server::start(&config);
    drop_file(&drop_dir, "02-debris-flow-red-update.xml");
    let (kind, alert) = next_on_phone(&mut messages, "the all-clear after the restart").await;
    assert_eq!(kind, "allclear");
    assert!(alert.contains("DEMO-DF-0002"), "{alert}");
    let (status, log) = server.terminate();
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(log.contains("alerts restored into the engine"), "{log}");
    assert!(messages.try_recv().is_err(), "nothing sent twice");
}

/// An alert that expires while the service is stopped: at the next start
/// its all-clear reaches those it told, once; a further restart sends
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_expiring_while_the_service_is_stopped_gets_its_all_clear_at_restart() {
    let Some(broker) = Mosquitto::start() else {
        eprintln!("mosquitto not installed: test skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), Some(broker.port), "");
    store_subscriber(dir.path()).await;
    let mut messages = watch(broker.port).await;
    let server = Server::start(&config);
    drop_file(&dir.path().join("drop"), "01-debris-flow-yellow.xml");
    let (kind, _) = next_on_phone(&mut messages, "the alert").await;
    assert_eq!(kind, "new");
    let (status, log) = server.terminate();
    assert!(status.success(), "exit {status:?}\n{log}");

    // The alert expires at 20:00; the service comes back at 21:00.
    let config = write_config_at(
        dir.path(),
        Some(broker.port),
        "",
        "2026-07-01T21:00:00+08:00",
    );
    let server = Server::start(&config);
    let (kind, alert) = next_on_phone(&mut messages, "the all-clear at restart").await;
    assert_eq!(kind, "allclear");
    assert!(alert.contains("DEMO-DF-0001"), "{alert}");
    let (status, log) = server.terminate();
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(log.contains("\"ended\":1"), "{log}");

    // Told once: the next start has nothing to say.
    let server = Server::start(&config);
    until("the service ready", || {
        let (status, _) = get(server.port, "/readyz")?;
        (status == 200).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (status, log) = server.terminate();
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(messages.try_recv().is_err(), "nothing sent twice");
}

/// The next message on the subscriber's device topic: its kind (lower
/// case, without underscores) and alert.
async fn next_on_phone(
    messages: &mut tokio::sync::mpsc::UnboundedReceiver<(String, String)>,
    what: &str,
) -> (String, String) {
    let (topic, payload) = tokio::time::timeout(Duration::from_secs(60), messages.recv())
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
        .unwrap();
    assert_eq!(topic, "hazardline/device/phone-en");
    let json: serde_json::Value = serde_json::from_str(&payload).unwrap();
    let kind = json["kind"].as_str().unwrap_or_default().to_lowercase();
    let alert = json["alert"].as_str().unwrap_or_default().to_owned();
    (kind.replace('_', ""), alert)
}

fn drop_file(drop_dir: &Path, demo_name: &str) {
    let cap = std::fs::read(format!(
        "{}/demo/cap/{demo_name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    std::fs::write(drop_dir.join(".incoming"), &cap).unwrap();
    std::fs::rename(drop_dir.join(".incoming"), drop_dir.join(demo_name)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heartbeat_reaches_its_canary_or_raises_the_alarm() {
    let Some(broker) = Mosquitto::start() else {
        eprintln!("mosquitto not installed: test skipped");
        return;
    };
    let heartbeat = "[heartbeat]\nenabled = true\ninterval_secs = 2\ndeadline_secs = 20\narea = \"99000030001\"\ncanary_channel = \"mqtt\"\ncanary_address = \"canary-1\"\n";

    // With the MQTT channel: the canary gets its exercise.
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), Some(broker.port), heartbeat);
    let mut messages = watch(broker.port).await;
    let server = Server::start(&config);
    let (topic, payload) = tokio::time::timeout(Duration::from_secs(60), messages.recv())
        .await
        .expect("the canary's exercise")
        .unwrap();
    assert_eq!(topic, "hazardline/device/canary-1");
    assert!(
        payload.contains("演習") || payload.to_lowercase().contains("exercise"),
        "{payload}"
    );
    let port = server.port;
    until("hazardline_heartbeat_ok 1", || {
        let (_, metrics) = get(port, "/metrics")?;
        metrics.contains("hazardline_heartbeat_ok 1").then_some(())
    })
    .await;
    assert_eq!(get(port, "/readyz").unwrap().0, 200);
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");

    // Without it, the canary's delivery fails: alarm and not ready.
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), None, heartbeat);
    let server = Server::start(&config);
    let port = server.port;
    let body = until("/readyz to fail on the heartbeat", || {
        let (status, body) = get(port, "/readyz")?;
        (status == 503 && body.contains("heartbeat")).then_some(body)
    })
    .await;
    assert!(body.contains("canary"), "{body}");
    let (_, metrics) = get(port, "/metrics").unwrap();
    assert!(metrics.contains("hazardline_heartbeat_ok 0"), "{metrics}");
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("heartbeat FAILED"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_runs_on_redis_too() {
    let dir = tempfile::tempdir().unwrap();
    let Some(redis) = notifier::testing::redis_server::RedisServer::start(dir.path()) else {
        eprintln!("redis-server not installed: test skipped");
        return;
    };
    let Some(broker) = Mosquitto::start() else {
        eprintln!("mosquitto not installed: test skipped");
        return;
    };
    let key = store::DataKey::parse(KEY).unwrap();
    let storage = store::RedisStorage::connect(&redis.url(), key, "hazardline")
        .await
        .unwrap();
    put_subscriber(&storage).await;
    let storage_section = format!(
        "[storage]\nkind = \"redis\"\nredis_url = \"{}\"\n",
        redis.url()
    );
    let config = write_config_with(
        dir.path(),
        &storage_section,
        Some(broker.port),
        "",
        DEMO_MORNING,
    );
    let mut messages = watch(broker.port).await;
    let server = Server::start(&config);
    let (status, body) = get(server.port, "/readyz").unwrap();
    assert_eq!(status, 200, "{body}");
    drop_file(&dir.path().join("drop"), "01-debris-flow-yellow.xml");
    let (topic, payload) = tokio::time::timeout(Duration::from_secs(60), messages.recv())
        .await
        .expect("an MQTT delivery")
        .unwrap();
    assert_eq!(topic, "hazardline/device/phone-en");
    assert!(payload.contains("Grandma's"), "{payload}");
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    use store::Storage;
    let inbox = storage
        .inbox(&store::SubscriberId("s_e2e_1".into()), 10)
        .await
        .unwrap();
    assert_eq!(inbox.len(), 1, "the inbox is in Redis");
}

/// The in-process form other tests and benchmarks use: a free port, the
/// demo region, the embedded store in a temporary directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_runs_in_process_for_tests() {
    use hazardline::run::{RunningService, ServeOptions};
    use hazardline::serve::config::ServeConfig;
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store").display().to_string();
    let config = ServeConfig::load(
        None,
        [
            ("HAZARDLINE_SERVER_LISTEN", "127.0.0.1:0"),
            ("HAZARDLINE_GEODATA_DEMO", "true"),
            ("HAZARDLINE_STORAGE_DIR", store_dir.as_str()),
            ("HAZARDLINE_DATA_KEY", KEY),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
    .unwrap();
    let service = RunningService::start(config, &ServeOptions::default())
        .await
        .unwrap();
    assert_ne!(service.address.port(), 0);
    let port = service.address.port();
    let (status, body) = tokio::task::spawn_blocking(move || get(port, "/readyz"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, 200, "{body}");
    // No JSON route takes a body over `server.body_limit`: refused from
    // its declared length, before anything is read.
    let status = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            stream,
            "POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response.split(' ').nth(1).unwrap_or_default().to_owned()
    })
    .await
    .unwrap();
    assert_eq!(status, "413");
    let alerts = service
        .state
        .app
        .alerts
        .for_subscriber(&store::SubscriberId("nobody".into()));
    assert!(alerts.is_empty());
    service.stop().await.unwrap();
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "still listening after stop"
    );
}

/// The README's `hazardline serve --demo`: no configuration, no key, and
/// alerts flowing within seconds.
#[test]
fn serve_demo_shows_alerts_flowing_at_once() {
    let server = Server::start_with(&["--demo".as_ref()], None);
    let port = server.port;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let metrics = get(port, "/metrics").map(|(_, m)| m).unwrap_or_default();
        if metrics.contains("hazardline_engine_events_total{kind=\"new\"}")
            && metrics.contains("hazardline_deliveries_total{channel=\"live\",outcome=\"sent\"}")
        {
            break;
        }
        assert!(Instant::now() < deadline, "no alert flowed: {metrics}");
        std::thread::sleep(Duration::from_millis(250));
    }
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(
        log.contains("ephemeral key"),
        "the demo says its key is throwaway: {log}"
    );
}
