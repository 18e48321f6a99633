//! Who is told what, on real agency messages: `hazardline serve` on the
//! whole country's boundaries, the FCM v1 contract server, the embedded
//! store, and the Central Weather Administration's messages of 22 April
//! 2024 from `../shared/data` dropped into a feed folder.
//!
//! It checks the delivery rules people would notice: every phone of a
//! person is tried (a dead token listed first takes nothing from the live
//! one); someone subscribing while a warning covers their home is told at
//! once; a downgrade below a person's threshold reads "lowered", not
//! "over"; a changed instruction reaches everyone still inside; two
//! earthquake reports minutes apart both reach a person in both areas
//! (and one only the first covers hears only the first);
//! reports that expire while the service is stopped get their all-clears at
//! the restart, and nothing already told is told again; TTLs follow the
//! service's clock in a replay.
//!
//! Skips (passes with a message) when the shared data is absent.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use notifier::testing::fcm::FcmContract;
use serde_json::{Value, json};
use support::real::*;

const RAIN_1457: &str = "fifows_extremely-rain_202404221457.cap";
const RAIN_1712: &str = "fifows_extremely-rain_202404221712.cap";
const QUAKE_1708: &str = "CWA-EQ113218-2024-0422-170839.cap";
const QUAKE_1712: &str = "CWA-EQ113220-2024-0422-171210.cap";

const DEAD_TOKEN: &str = "e2e-dead-token-hualien-en-0123456789abcdef";
const LIVE_TOKEN: &str = "e2e-live-token-hualien-en-0123456789abcdef";
const CAREFUL_TOKEN: &str = "e2e-token-hualien-vi-orange-0123456789abcd";
const LATE_TOKEN: &str = "e2e-token-hualien-ja-late-0123456789abcdef";
const TAIPEI_TOKEN: &str = "e2e-token-taipei-ko-0123456789abcdef012345";

fn config(work: &Path, atlas: &Path, fcm: &FcmContract, clock: &str) -> std::path::PathBuf {
    let service_account = work.join("fcm.json");
    std::fs::write(
        &service_account,
        serde_json::to_vec(&fcm.service_account()).expect("service account"),
    )
    .expect("write service account");
    let path = work.join("hazardline.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[storage]
kind = "embedded"
dir = "{store}"

[geodata]
file = "{atlas}"

[clock]
start = "{clock}"

[channels.fcm]
service_account = "{service_account}"
base_url = "{fcm_base}"

[dispatch]
idle_millis = 50
maintenance_secs = 1

[limits]
public_per_minute = 100000
public_burst = 10000
subscribe_per_minute = 100000

[[ingest.sources]]
id = "cwa"
kind = "directory"
path = "{drop}"
poll_interval_secs = 1
senders = ["weather@cwa.gov.tw", "cwasoc@cwa.gov.tw"]
"#,
            store = work.join("store").display(),
            atlas = atlas.display(),
            service_account = service_account.display(),
            fcm_base = fcm.base_url,
            drop = work.join("drop").display(),
        ),
    )
    .expect("config");
    path
}

/// Registers a resident through the API; returns their device key.
async fn register(
    client: &reqwest::Client,
    base: &str,
    locale: &str,
    tokens: &[&str],
    spot: &Spot,
    preferences: Value,
) -> String {
    let devices: Vec<Value> = tokens
        .iter()
        .map(|t| json!({ "channel": "fcm", "address": t }))
        .collect();
    let response = client
        .post(format!("{base}/api/v1/subscribers"))
        .json(&json!({
            "locale": locale,
            "devices": devices,
            "places": [{ "label": "home", "lon": spot.lon, "lat": spot.lat }],
            "preferences": preferences,
        }))
        .send()
        .await
        .expect("register");
    let status = response.status();
    let body: Value = response.json().await.expect("body");
    assert_eq!(status, 201, "{body}");
    body["key"].as_str().expect("key").to_owned()
}

/// What FCM accepted after the first `skip` messages, by token.
fn since(fcm: &FcmContract, skip: usize) -> BTreeMap<String, Vec<Received>> {
    let mut by_token: BTreeMap<String, Vec<Received>> = BTreeMap::new();
    for received in fcm_received(fcm).into_iter().skip(skip) {
        by_token
            .entry(received.address.clone())
            .or_default()
            .push(received);
    }
    by_token
}

/// Waits for `count` more accepted messages after `skip`, then lets the
/// queue settle so that nothing unexpected is missed.
async fn await_messages(fcm: &FcmContract, skip: usize, count: usize, what: &str) {
    eventually(what, Duration::from_secs(90), || {
        (fcm_received(fcm).len() >= skip + count).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
}

fn kinds(messages: Option<&Vec<Received>>) -> Vec<&str> {
    messages
        .map(|list| list.iter().map(|r| r.kind.as_str()).collect())
        .unwrap_or_default()
}

/// The 17:12 update with an instruction added, as CWA would send it: a new
/// identifier referencing 17:12, sent at 17:30. Made in memory from the
/// real message.
fn with_instruction(data: &Path, drop_dir: &Path) {
    let original = std::fs::read_to_string(data.join("cap/tw-ncdr").join(RAIN_1712))
        .expect("the 17:12 update");
    let identifier = "CWA-Weather_extremely-rain_202404221705001";
    let sent = "2024-04-22T17:12:20+08:00";
    assert!(original.contains(identifier) && original.contains("</description>"));
    let changed = original
        .replacen(
            &format!("<identifier>{identifier}</identifier>"),
            &format!("<identifier>{identifier}-instruction</identifier>"),
            1,
        )
        .replacen(
            &format!("<sent>{sent}</sent>"),
            "<sent>2024-04-22T17:30:00+08:00</sent>",
            1,
        );
    let changed = replace_references(&changed, &format!("weather@cwa.gov.tw,{identifier},{sent}"))
        .replacen(
            "</description>",
            "</description>\n    <instruction>請遠離河川及山區，留意落石。</instruction>",
            1,
        );
    let temp = drop_dir.join(".instruction.cap");
    std::fs::write(&temp, changed).expect("write");
    std::fs::rename(&temp, drop_dir.join("instruction.cap")).expect("rename");
}

fn replace_references(xml: &str, reference: &str) -> String {
    let start = xml.find("<references>").expect("references");
    let end = xml[start..].find("</references>").expect("references end") + start;
    format!("{}<references>{reference}{}", &xml[..start], &xml[end..])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_device_late_joiners_downgrades_repeats_and_restarts_on_real_messages() {
    let Some(data) = shared_data() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    let drop_dir = work.path().join("drop");
    std::fs::create_dir_all(&drop_dir).expect("drop dir");
    let fcm = FcmContract::start().await;
    fcm.unregister(DEAD_TOKEN);
    let atlas_file = work.path().join("taiwan.geodata");
    let atlas = import_atlas(&data, &atlas_file);
    // Hualien City: orange at 14:57, yellow at 17:12, intensity 4 in both
    // earthquake reports. Taipei's Da'an: none of it.
    let hualien = spot(&atlas, "1001501", 0);
    let taipei = spot(&atlas, "6300300", 0);

    let config_path = config(work.path(), &atlas_file, &fcm, "2024-04-22T14:58:00+08:00");
    let log = work.path().join("serve.log");
    let server = start_server(&config_path, &log).await;
    let _log_on_failure = LogOnFailure(log.clone());
    let client = reqwest::Client::new();
    let base = server.base.clone();

    let two_phones = register(
        &client,
        &base,
        "en",
        &[DEAD_TOKEN, LIVE_TOKEN],
        &hualien,
        json!({}),
    )
    .await;
    let careful = register(
        &client,
        &base,
        "vi",
        &[CAREFUL_TOKEN],
        &hualien,
        json!({ "min_colour": "orange" }),
    )
    .await;
    register(&client, &base, "ko", &[TAIPEI_TOKEN], &taipei, json!({})).await;

    // --- 14:57: orange for Hualien -------------------------------------
    drop_cap(&drop_dir, &data.join("cap/tw-ncdr").join(RAIN_1457));
    await_messages(&fcm, 0, 2, "the 14:57 warning").await;
    let told = since(&fcm, 0);
    assert_eq!(kinds(told.get(LIVE_TOKEN)), ["new"], "{told:#?}");
    assert_eq!(kinds(told.get(CAREFUL_TOKEN)), ["new"], "{told:#?}");
    assert!(
        !told.contains_key(DEAD_TOKEN),
        "a dead token is refused, never accepted"
    );
    assert!(!told.contains_key(TAIPEI_TOKEN));
    // TTL: from the alert's expiry (18:00) on the service's clock (14:58),
    // not the wall clock two years later.
    let ttl = fcm
        .accepted()
        .iter()
        .find(|m| m["token"] == LIVE_TOKEN)
        .and_then(|m| m["android"]["ttl"].as_str().map(str::to_owned))
        .expect("an android ttl");
    let seconds: u64 = ttl.trim_end_matches('s').parse().expect("seconds");
    assert!(
        (2 * 3600 + 1800..=3 * 3600 + 120).contains(&seconds),
        "ttl {ttl}"
    );
    // The dead phone was tried too: FCM answered it is gone, and it is
    // removed from the resident's devices.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let me = resident_get(&client, &base, &two_phones, "/api/v1/me").await;
        if me["devices"].as_array().map(Vec::len) == Some(1) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the dead device is still listed: {me}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // --- Someone subscribes during the warning: told at once -------------
    let before = fcm_received(&fcm).len();
    let late = register(&client, &base, "ja", &[LATE_TOKEN], &hualien, json!({})).await;
    await_messages(&fcm, before, 1, "the late joiner told at once").await;
    let told = since(&fcm, before);
    let late_messages = told.get(LATE_TOKEN).expect("the late joiner");
    assert_eq!(kinds(Some(late_messages)), ["new"]);
    assert!(
        late_messages[0].text.contains("14:57"),
        "marked in force since: {}",
        late_messages[0].text
    );
    assert_eq!(told.len(), 1, "nobody else: {told:#?}");
    let mine = resident_get(&client, &base, &late, "/api/v1/me/alerts").await;
    assert_eq!(mine["alerts"].as_array().map(Vec::len), Some(1), "{mine}");

    // --- 17:12: Hualien down to yellow -----------------------------------
    let before = fcm_received(&fcm).len();
    drop_cap(&drop_dir, &data.join("cap/tw-ncdr").join(RAIN_1712));
    await_messages(&fcm, before, 3, "the 17:12 update").await;
    let told = since(&fcm, before);
    assert_eq!(kinds(told.get(LIVE_TOKEN)), ["update"], "{told:#?}");
    assert_eq!(kinds(told.get(LATE_TOKEN)), ["update"], "{told:#?}");
    let lowered = told.get(CAREFUL_TOKEN).expect("the careful resident");
    assert_eq!(kinds(Some(lowered)), ["lowered"], "{told:#?}");
    assert_eq!(lowered[0].locale, "vi");
    assert!(lowered[0].text.contains("Hạ mức"), "{}", lowered[0].text);
    assert!(
        !lowered[0].text.contains("Đã hủy") && !lowered[0].text.contains("sinh hoạt bình thường"),
        "lowered is not over: {}",
        lowered[0].text
    );
    let mine = resident_get(&client, &base, &careful, "/api/v1/me/alerts").await;
    assert_eq!(mine["alerts"][0]["kind"], "lowered", "{mine}");

    // --- An instruction is added: everyone still inside is told ----------
    let before = fcm_received(&fcm).len();
    with_instruction(&data, &drop_dir);
    await_messages(&fcm, before, 2, "the changed instruction").await;
    let told = since(&fcm, before);
    assert_eq!(kinds(told.get(LIVE_TOKEN)), ["update"], "{told:#?}");
    assert_eq!(kinds(told.get(LATE_TOKEN)), ["update"], "{told:#?}");
    assert!(
        !told.contains_key(CAREFUL_TOKEN),
        "below their threshold, already told it was lowered"
    );

    // --- Two earthquake reports minutes apart: both reach them -----------
    let before = fcm_received(&fcm).len();
    drop_cap(&drop_dir, &data.join("cap/tw-ncdr").join(QUAKE_1708));
    drop_cap(&drop_dir, &data.join("cap/tw-ncdr").join(QUAKE_1712));
    await_messages(&fcm, before, 5, "both earthquake reports").await;
    let told = since(&fcm, before);
    for token in [LIVE_TOKEN, LATE_TOKEN] {
        let got = told.get(token).expect("told of the earthquakes");
        assert_eq!(kinds(Some(got)), ["new", "new"], "{token}: {got:#?}");
        assert_ne!(got[0].alert, got[1].alert, "two reports, two alerts");
    }
    assert!(
        !told.contains_key(CAREFUL_TOKEN),
        "yellow and green: below orange"
    );
    // Taipei felt the first (intensity 2) and is not named by the second.
    assert_eq!(kinds(told.get(TAIPEI_TOKEN)), ["new"], "{told:#?}");
    let quake_alerts: Vec<String> = told[LIVE_TOKEN].iter().map(|r| r.alert.clone()).collect();

    // --- Stopped across the reports' expiry (18:13, 18:18) ----------------
    drop(server);
    let config_path = config(work.path(), &atlas_file, &fcm, "2024-04-22T18:30:00+08:00");
    let before = fcm_received(&fcm).len();
    let server = start_server(&config_path, &log).await;
    let base = server.base.clone();
    await_messages(&fcm, before, 5, "the all-clears at restart").await;
    let told = since(&fcm, before);
    for token in [LIVE_TOKEN, LATE_TOKEN] {
        let got = told.get(token).expect("the all-clears");
        assert_eq!(
            kinds(Some(got)),
            ["all_clear", "all_clear"],
            "{token}: {got:#?}"
        );
        for (report, clear) in quake_alerts.iter().zip(got) {
            let id = report.split(',').nth(1).expect("identifier");
            assert!(
                got.iter().any(|c| c.alert.contains(id)),
                "{report} cleared: {clear:?}"
            );
        }
    }
    assert_eq!(kinds(told.get(TAIPEI_TOKEN)), ["all_clear"], "{told:#?}");
    assert_eq!(
        told.len(),
        3,
        "the rain warning, still in force, is not told again: {told:#?}"
    );
    assert!(fcm.duplicates().is_empty(), "{:?}", fcm.duplicates());
    // "My alerts" came back with the rain warning in force.
    let mine = resident_get(&client, &base, &careful, "/api/v1/me/alerts").await;
    assert_eq!(mine["alerts"].as_array().map(Vec::len), Some(1), "{mine}");
    assert_eq!(mine["alerts"][0]["kind"], "lowered", "{mine}");
    let mine = resident_get(&client, &base, &late, "/api/v1/me/alerts").await;
    assert_eq!(mine["alerts"].as_array().map(Vec::len), Some(1), "{mine}");
}
