//! The whole service on real agency data: `hazardline serve` against a
//! private Redis (the store, with AOF), a private Mosquitto and the FCM v1
//! contract server, with the clock set to the afternoon of 22 April 2024 and
//! the whole country's boundaries imported from `../shared/data`.
//!
//! Residents register through the API (by address and by point, in several
//! languages, with their own thresholds); the Central Weather
//! Administration's real heavy-rain chain for that day is dropped into a feed
//! folder (Update 14:57 → Update 17:12 → Cancel 21:13); the test checks that
//! exactly the right people were told, in their language, on their channel,
//! at their level, each time. Then an emergency office composes its own
//! alert, corrects it as a false alarm (the same people told, within
//! seconds) and declares recovery.
//!
//! Skips (passes with a message) when the shared data is absent.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use notifier::testing::fcm::FcmContract;
use notifier::testing::mosquitto::Mosquitto;
use notifier::testing::redis_server::RedisServer;
use serde_json::{Value, json};
use support::real::*;

/// The heavy-rain chain of 22 April 2024, in the order CWA sent it.
const RAIN_CHAIN: [&str; 3] = [
    "fifows_extremely-rain_202404221457.cap",
    "fifows_extremely-rain_202404221712.cap",
    "fifows_extremely-rain_202404222113.cap",
];

/// A relief catalogue for the test: one fictional step for floods in the
/// given county, in all eight languages.
fn relief_catalogue(county: &str) -> String {
    let locales = ["zh-TW", "en", "ja", "ko", "th", "vi", "fil", "id"];
    let table = |field: &str, text: &str| {
        let mut out = format!("[step.{field}]\n");
        for locale in locales {
            let value = if locale == "vi" && field == "title" {
                "Hỗ trợ nhà bị ngập (thử nghiệm)".to_owned()
            } else {
                format!("{text} ({locale})")
            };
            out.push_str(&format!("{locale} = \"{value}\"\n"));
        }
        out
    };
    let documents = {
        let mut out = "[step.documents]\n".to_owned();
        for locale in locales {
            out.push_str(&format!("{locale} = [\"ID card ({locale})\"]\n"));
        }
        out
    };
    format!(
        "[[step]]\nid = \"test-flood-aid\"\nhazards = [\"flood\"]\ncounty = \"{county}\"\ntowns = []\nphone = \"00-0000-0009\"\nurl = \"https://relief.example/test\"\ndeadline_days = 30\n\n{}\n{}\n{}\n{}",
        table("title", "Test flood aid"),
        table("office", "Test office"),
        table("address", "Test address"),
        documents,
    )
}

/// An HTTP client for one staff member: session cookie and CSRF token.
struct Staff {
    client: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl Staff {
    async fn login(base: &str, username: &str, password: &str) -> Staff {
        let client = reqwest::Client::new();
        let response = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), 200, "login as {username}");
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("hazardline_session="))
            .and_then(|v| v.split(';').next())
            .expect("session cookie")
            .to_owned();
        let body: Value = response.json().await.expect("login body");
        Staff {
            client,
            base: base.to_owned(),
            cookie,
            csrf: body["csrf_token"].as_str().expect("csrf").to_owned(),
        }
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// One resident as the test registers them, and what they should hear.
struct Resident {
    name: &'static str,
    locale: &'static str,
    channel: &'static str,
    address: String,
    place: Value,
    preferences: Value,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_rain_chain_reaches_exactly_the_right_people() {
    let Some(data) = shared_data() else { return };
    let Some(mosquitto) = Mosquitto::start() else {
        panic!("mosquitto is required (see README: .ci/run installs it)");
    };
    let work = tempfile::tempdir().expect("tempdir");
    let redis_dir = work.path().join("redis");
    std::fs::create_dir_all(&redis_dir).expect("redis dir");
    let Some(redis) = RedisServer::start(&redis_dir) else {
        panic!("redis-server is required (see README: .ci/run installs it)");
    };
    let fcm = FcmContract::start().await;
    let service_account = work.path().join("fcm.json");
    std::fs::write(
        &service_account,
        serde_json::to_vec(&fcm.service_account()).expect("service account"),
    )
    .expect("write service account");

    let atlas_file = work.path().join("taiwan.geodata");
    let atlas = import_atlas(&data, &atlas_file);

    // Places named by CWA's town geocodes: Hualien City (orange, then
    // yellow), Xiulin (orange, then yellow), Puli (yellow throughout),
    // Zhushan (yellow) and Taipei's Da'an district (not warned at all).
    let hualien = spot(&atlas, "1001501", 0);
    let xiulin = spot(&atlas, "1001511", 1);
    let puli = spot(&atlas, "1000802", 2);
    let zhushan = spot(&atlas, "1000804", 0);
    let taipei = spot(&atlas, "6300300", 0);

    let hualien_county = atlas
        .area(&hualien.village_code)
        .expect("village")
        .county_code
        .clone();
    let drop_dir = work.path().join("drop");
    std::fs::create_dir_all(&drop_dir).expect("drop dir");
    let relief_file = work.path().join("relief.toml");
    std::fs::write(&relief_file, relief_catalogue(&hualien_county)).expect("relief catalogue");
    let config = work.path().join("hazardline.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[storage]
kind = "redis"
redis_url = "{redis}"

[geodata]
file = "{atlas}"

[clock]
start = "2024-04-22T14:58:00+08:00"

[channels.fcm]
service_account = "{service_account}"
base_url = "{fcm_base}"

[channels.mqtt]
host = "127.0.0.1"
port = {mqtt}
client_id = "hazardline-e2e"

[dispatch]
idle_millis = 50
maintenance_secs = 1

[limits]
public_per_minute = 100000
public_burst = 10000
subscribe_per_minute = 100000

[relief]
catalogue = "{relief}"

[[ingest.sources]]
id = "cwa"
kind = "directory"
path = "{drop}"
poll_interval_secs = 1
senders = ["weather@cwa.gov.tw"]
"#,
            redis = redis.url(),
            atlas = atlas_file.display(),
            service_account = service_account.display(),
            fcm_base = fcm.base_url,
            mqtt = mosquitto.port,
            drop = drop_dir.display(),
            relief = relief_file.display(),
        ),
    )
    .expect("config");
    let mut mqtt = mqtt_watch(mosquitto.port).await;
    let log = work.path().join("serve.log");
    let server = start_server(&config, &log).await;
    let _log_on_failure = LogOnFailure(log.clone());
    let client = reqwest::Client::new();

    let by_address = |spot: &Spot, label: &str| json!({ "label": label, "address": format!("{}{}{}中正路1號", spot.county, spot.town, spot.village) });
    let by_point =
        |spot: &Spot, label: &str| json!({ "label": label, "lon": spot.lon, "lat": spot.lat });
    let residents = vec![
        Resident {
            name: "hualien-zh",
            locale: "zh-TW",
            channel: "fcm",
            address: "e2e-token-hualien-zh-0123456789abcdef0123".into(),
            place: by_address(&hualien, "家"),
            preferences: json!({}),
        },
        Resident {
            name: "xiulin-vi",
            locale: "vi",
            channel: "mqtt",
            address: "phone-xiulin-vi".into(),
            place: by_point(&xiulin, "Nhà"),
            preferences: json!({}),
        },
        Resident {
            name: "puli-en",
            locale: "en",
            channel: "fcm",
            address: "e2e-token-puli-en-0123456789abcdef0123".into(),
            place: by_point(&puli, "Home"),
            preferences: json!({}),
        },
        Resident {
            // Only wants red warnings: orange and yellow stay silent.
            name: "hualien-ko-red-only",
            locale: "ko",
            channel: "fcm",
            address: "e2e-token-hualien-ko-0123456789abcdef0123".into(),
            place: by_point(&hualien, "집"),
            preferences: json!({ "min_colour": "red" }),
        },
        Resident {
            // Only earthquakes: rain stays silent.
            name: "zhushan-th-quakes",
            locale: "th",
            channel: "fcm",
            address: "e2e-token-zhushan-th-0123456789abcdef0123".into(),
            place: by_point(&zhushan, "บ้าน"),
            preferences: json!({ "kinds": ["earthquake"] }),
        },
        Resident {
            name: "taipei-ja",
            locale: "ja",
            channel: "fcm",
            address: "e2e-token-taipei-ja-0123456789abcdef0123".into(),
            place: by_point(&taipei, "自宅"),
            preferences: json!({}),
        },
    ];
    let mut keys = BTreeMap::new();
    for resident in &residents {
        let response = client
            .post(format!("{}/api/v1/subscribers", server.base))
            .json(&json!({
                "locale": resident.locale,
                "devices": [{ "channel": resident.channel, "address": resident.address }],
                "places": [resident.place],
                "preferences": resident.preferences,
            }))
            .send()
            .await
            .expect("register");
        let status = response.status();
        let body: Value = response.json().await.expect("body");
        assert_eq!(status, 201, "{}: {body}", resident.name);
        keys.insert(resident.name, body["key"].as_str().expect("key").to_owned());
        if resident.name == "hualien-zh" {
            // Registered by address: geocoded into the village named.
            assert_eq!(
                body["places"][0]["village"],
                hualien.village_code.as_str(),
                "{body}"
            );
        }
    }

    // --- 14:57: orange for Hualien, yellow for Nantou ------------------------
    drop_cap(&drop_dir, &data.join("cap/tw-ncdr").join(RAIN_CHAIN[0]));
    eventually("the 14:57 warning on FCM", Duration::from_secs(60), || {
        (fcm_received(&fcm).len() >= 2).then_some(())
    })
    .await;
    let xiulin_first = eventually("the 14:57 warning on MQTT", Duration::from_secs(30), || {
        mqtt.try_recv().ok()
    })
    .await;
    // Settle: nothing else may arrive for this message.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let first = fcm_received(&fcm);
    let told: BTreeSet<&str> = first.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(
        told,
        BTreeSet::from([
            "e2e-token-hualien-zh-0123456789abcdef0123",
            "e2e-token-puli-en-0123456789abcdef0123"
        ]),
        "exactly the two FCM residents inside and willing: {first:#?}"
    );
    let hualien_msg = first
        .iter()
        .find(|r| r.address == "e2e-token-hualien-zh-0123456789abcdef0123")
        .expect("hualien");
    assert_eq!(hualien_msg.locale, "zh-TW");
    assert_eq!(hualien_msg.colour, "orange");
    assert_eq!(hualien_msg.kind, "new");
    assert!(!hualien_msg.exercise);
    assert!(
        hualien_msg.text.contains("豪雨") || hualien_msg.text.contains("雨"),
        "{}",
        hualien_msg.text
    );
    let puli_msg = first
        .iter()
        .find(|r| r.address == "e2e-token-puli-en-0123456789abcdef0123")
        .expect("puli");
    assert_eq!(puli_msg.locale, "en");
    assert_eq!(puli_msg.colour, "yellow");
    assert!(
        puli_msg.text.to_lowercase().contains("rain"),
        "{}",
        puli_msg.text
    );
    let xiulin_msg = mqtt_received(&xiulin_first.0, &xiulin_first.1);
    assert_eq!(xiulin_msg.address, "phone-xiulin-vi");
    assert_eq!(xiulin_msg.locale, "vi");
    assert_eq!(xiulin_msg.colour, "orange");

    // The residents' own view agrees: my alerts, then the inbox.
    for (name, expected) in [
        ("hualien-zh", 1),
        ("puli-en", 1),
        ("xiulin-vi", 1),
        ("taipei-ja", 0),
        ("hualien-ko-red-only", 0),
        ("zhushan-th-quakes", 0),
    ] {
        let body: Value =
            resident_get(&client, &server.base, &keys[name], "/api/v1/me/alerts").await;
        assert_eq!(
            body["alerts"].as_array().map(Vec::len),
            Some(expected),
            "{name}: {body}"
        );
    }

    // --- 17:12: Hualien down to yellow; Nantou unchanged ------------------
    let before = fcm_received(&fcm).len();
    drop_cap(&drop_dir, &data.join("cap/tw-ncdr").join(RAIN_CHAIN[1]));
    eventually("the 17:12 update", Duration::from_secs(60), || {
        (fcm_received(&fcm).len() > before).then_some(())
    })
    .await;
    let (topic, body) = eventually("the update on MQTT", Duration::from_secs(30), || {
        mqtt.try_recv().ok()
    })
    .await;
    let xiulin_update = mqtt_received(&topic, &body);
    assert_eq!(xiulin_update.address, "phone-xiulin-vi");
    assert_eq!(xiulin_update.kind, "update");
    assert_eq!(xiulin_update.colour, "yellow");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let update: Vec<_> = fcm_received(&fcm).into_iter().skip(before).collect();
    let told: BTreeSet<String> = update.iter().map(|r| r.address.clone()).collect();
    assert!(
        told.contains("e2e-token-hualien-zh-0123456789abcdef0123"),
        "Hualien's level changed: {update:#?}"
    );
    for r in update
        .iter()
        .filter(|r| r.address == "e2e-token-hualien-zh-0123456789abcdef0123")
    {
        assert_eq!(r.kind, "update");
        assert_ne!(r.alert, hualien_msg.alert, "the update's own version");
        assert_eq!(r.colour, "yellow");
    }
    assert!(
        !told
            .iter()
            .any(|t| t.contains("taipei") || t.contains("-ko") || t.contains("zhushan")),
        "nobody outside or unwilling: {update:#?}"
    );

    // --- 21:13: the all-clear to everyone told, and nobody else -----------
    let before = fcm_received(&fcm).len();
    drop_cap(&drop_dir, &data.join("cap/tw-ncdr").join(RAIN_CHAIN[2]));
    eventually("the all-clear", Duration::from_secs(60), || {
        (fcm_received(&fcm).len() >= before + 2).then_some(())
    })
    .await;
    let xiulin_clear = eventually("the all-clear on MQTT", Duration::from_secs(30), || {
        mqtt.try_recv().ok()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let clear_all: Vec<_> = fcm_received(&fcm).into_iter().skip(before).collect();
    let told: BTreeSet<&str> = clear_all.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(
        told,
        BTreeSet::from([
            "e2e-token-hualien-zh-0123456789abcdef0123",
            "e2e-token-puli-en-0123456789abcdef0123"
        ]),
        "{clear_all:#?}"
    );
    assert!(
        clear_all.iter().all(|r| r.kind == "all_clear"),
        "{clear_all:#?}"
    );
    assert_eq!(
        mqtt_received(&xiulin_clear.0, &xiulin_clear.1).kind,
        "all_clear"
    );
    let body: Value = resident_get(
        &client,
        &server.base,
        &keys["hualien-zh"],
        "/api/v1/me/alerts",
    )
    .await;
    assert_eq!(body["alerts"].as_array().map(Vec::len), Some(0), "{body}");
    let inbox: Value = resident_get(
        &client,
        &server.base,
        &keys["hualien-zh"],
        "/api/v1/me/inbox",
    )
    .await;
    let kinds: Vec<&str> = inbox["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        ["all_clear", "update", "new"],
        "newest first: {inbox}"
    );

    // --- An office's own alert, corrected as a false alarm, then recovery ---
    let operator = Staff::login(&server.base, OPERATOR, OPERATOR_PASSWORD).await;
    let (status, body) = operator
        .post(
            "/api/v1/accounts",
            json!({
                "username": "hualien-eoc",
                "display_name": "Hualien County EOC",
                "password": "hualien county eoc 2024",
                "role": "issuer",
                "office": "hualien-eoc",
                "jurisdiction": [hualien_county.clone()],
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let issuer = Staff::login(&server.base, "hualien-eoc", "hualien county eoc 2024").await;
    let town_of = |geocode: &str| {
        atlas
            .resolve_geocode("Taiwan_Geocode_103", geocode)
            .expect("town")
            .moi_code
    };
    let compose = |hazard: &str, town: String, headline: &str| {
        json!({
            "hazard": hazard,
            "area": { "codes": [town] },
            "severity": "Severe",
            "urgency": "Immediate",
            "certainty": "Likely",
            "colour": "red",
            "texts": {
                "zh-TW": { "headline": headline, "description": "花蓮縣災害應變中心發布", "instruction": "請依指示撤離" },
                "en": { "headline": "Warning from Hualien County", "description": "Issued by the county EOC", "instruction": "Evacuate as instructed" }
            },
            "expires": "2024-04-23T06:00:00+08:00",
            "exercise": false
        })
    };

    // A debris-flow alert for Hualien City: previewed, sent, then corrected
    // as a false alarm in one step.
    let (status, draft) = issuer
        .post(
            "/api/v1/drafts",
            compose("debris_flow", town_of("1001501"), "土石流紅色警戒"),
        )
        .await;
    assert_eq!(status, 201, "{draft}");
    let draft_id = draft["id"].as_str().expect("draft id").to_owned();
    let (status, preview) = issuer
        .get(&format!("/api/v1/drafts/{draft_id}/preview"))
        .await;
    assert_eq!(status, 200, "{preview}");
    // In Hualien City: hualien-zh and hualien-ko (red is what ko waits for).
    assert_eq!(preview["total"], 2, "{preview}");
    let before = fcm_received(&fcm).len();
    let (status, sent) = issuer
        .post(&format!("/api/v1/drafts/{draft_id}/send"), json!({}))
        .await;
    assert_eq!(status, 200, "{sent}");
    let alert_id = sent["alert_id"].as_str().expect("alert id").to_owned();
    eventually("the office's alert", Duration::from_secs(30), || {
        (fcm_received(&fcm).len() >= before + 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let alerted: Vec<Received> = fcm_received(&fcm).into_iter().skip(before).collect();
    let alerted_to: BTreeSet<String> = alerted.iter().map(|r| r.address.clone()).collect();
    assert_eq!(
        alerted_to,
        BTreeSet::from([
            "e2e-token-hualien-zh-0123456789abcdef0123".to_owned(),
            "e2e-token-hualien-ko-0123456789abcdef0123".to_owned()
        ]),
        "preview and sending agree: {alerted:#?}"
    );
    let korean = alerted
        .iter()
        .find(|r| r.locale == "ko")
        .expect("korean message");
    assert_eq!(korean.colour, "red");

    // One step: the correction reaches exactly the same people, in seconds.
    let before = fcm_received(&fcm).len();
    let started = Instant::now();
    let (status, body) = issuer
        .post(
            &format!("/api/v1/alerts/{alert_id}/correct"),
            json!({ "text": "The debris-flow alert was sent in error." }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    eventually("the correction", Duration::from_secs(30), || {
        (fcm_received(&fcm).len() >= before + alerted_to.len()).then_some(())
    })
    .await;
    let correction_seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let corrections: Vec<Received> = fcm_received(&fcm).into_iter().skip(before).collect();
    let corrected: BTreeSet<String> = corrections.iter().map(|r| r.address.clone()).collect();
    assert_eq!(corrected, alerted_to, "the same people, no one else");
    assert!(
        corrections.iter().all(|r| r.kind == "all_clear"),
        "{corrections:#?}"
    );
    assert!(
        correction_seconds < 10.0,
        "correction took {correction_seconds:.1} s"
    );

    // A flood alert for Xiulin, cancelled, then recovery: the relief steps
    // of the county's catalogue reach the resident there, in Vietnamese.
    while mqtt.try_recv().is_ok() {}
    let (status, draft) = issuer
        .post(
            "/api/v1/drafts",
            compose("flood", town_of("1001511"), "淹水警戒"),
        )
        .await;
    assert_eq!(status, 201, "{draft}");
    let draft_id = draft["id"].as_str().expect("draft id").to_owned();
    // Xiulin is larger than the approval threshold: a supervisor other
    // than the author approves first.
    assert_eq!(draft["state"], "awaiting_approval", "{draft}");
    let (status, body) = issuer
        .post(&format!("/api/v1/drafts/{draft_id}/send"), json!({}))
        .await;
    assert_eq!(status, 409, "sending before approval is refused: {body}");
    let (status, body) = operator
        .post(
            "/api/v1/accounts",
            json!({
                "username": "hualien-duty-officer",
                "display_name": "Hualien County duty officer",
                "password": "hualien duty officer 2024",
                "role": "supervisor",
                "office": "hualien-eoc",
                "jurisdiction": [hualien_county.clone()],
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let supervisor = Staff::login(
        &server.base,
        "hualien-duty-officer",
        "hualien duty officer 2024",
    )
    .await;
    let (status, body) = supervisor
        .post(&format!("/api/v1/drafts/{draft_id}/approve"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, sent) = issuer
        .post(&format!("/api/v1/drafts/{draft_id}/send"), json!({}))
        .await;
    assert_eq!(status, 200, "{sent}");
    let flood_id = sent["alert_id"].as_str().expect("alert id").to_owned();
    let (topic, body) = eventually("the flood alert on MQTT", Duration::from_secs(30), || {
        mqtt.try_recv().ok()
    })
    .await;
    assert_eq!(mqtt_received(&topic, &body).kind, "new");
    let (status, body) = issuer
        .post(
            &format!("/api/v1/alerts/{flood_id}/cancel"),
            json!({ "reason": "water receding" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (topic, body) = eventually("the flood all-clear", Duration::from_secs(30), || {
        mqtt.try_recv().ok()
    })
    .await;
    assert_eq!(mqtt_received(&topic, &body).kind, "all_clear");
    let (status, body) = issuer
        .post(&format!("/api/v1/alerts/{flood_id}/recovery"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["people"], 1, "{body}");
    let (topic, body) = eventually("the relief steps", Duration::from_secs(30), || {
        mqtt.try_recv().ok()
    })
    .await;
    let relief = mqtt_received(&topic, &body);
    assert_eq!(relief.address, "phone-xiulin-vi");
    assert_eq!(relief.kind, "relief");
    assert_eq!(relief.locale, "vi");
    assert!(relief.text.contains("Hỗ trợ"), "{}", relief.text);
    // The steps are in the resident's inbox too, once, not among the
    // alerts in force; a second declaration adds nothing.
    let (status, body) = issuer
        .post(&format!("/api/v1/alerts/{flood_id}/recovery"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let inbox = resident_get(
        &client,
        &server.base,
        &keys["xiulin-vi"],
        "/api/v1/me/inbox",
    )
    .await;
    let reliefs: Vec<&Value> = inbox["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["kind"] == "relief")
        .collect();
    assert_eq!(reliefs.len(), 1, "{inbox}");
    assert!(
        reliefs[0]["body"]
            .as_str()
            .unwrap_or_default()
            .contains("Hỗ trợ")
            || reliefs[0]["title"]
                .as_str()
                .unwrap_or_default()
                .contains("Hỗ trợ"),
        "{inbox}"
    );
    let mine = resident_get(
        &client,
        &server.base,
        &keys["xiulin-vi"],
        "/api/v1/me/alerts",
    )
    .await;
    assert!(
        mine["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .all(|a| a["kind"] != "relief"),
        "{mine}"
    );

    // The audit log names the office's actions and no personal data.
    let (status, audit) = operator.get("/api/v1/audit?limit=1000").await;
    assert_eq!(status, 200, "{audit}");
    let text = audit.to_string();
    for action in ["send", "correct", "cancel", "recovery"] {
        assert!(text.contains(action), "audit has {action}: {text}");
    }
    for secret in [
        "e2e-token-hualien-zh-0123456789abcdef0123",
        "phone-xiulin-vi",
        "中正路1號",
    ] {
        assert!(!text.contains(secret), "audit log free of personal data");
    }
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    for secret in [
        "e2e-token-hualien-zh-0123456789abcdef0123",
        "phone-xiulin-vi",
        "中正路1號",
    ] {
        assert!(
            !log_text.contains(secret),
            "service log free of personal data"
        );
    }
    drop(server);
}
