//! The emergency offices' and village chiefs' API end to end, against
//! `hazardline serve` on the demo region with an embedded store holding
//! residents: login, compose by codes / polygon / circle, preview against
//! what the send actually queued, the approval rule, exercise marks,
//! cancel and correction reaching the same people, recovery, jurisdiction,
//! relay lists and the audit chain.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::staff::{Caller, OPERATOR, PASSWORD, Seed, Server, compose, eventually};

/// Deliveries queued for an alert, all statuses.
fn queued(progress: &Value) -> u64 {
    let d = &progress["deliveries"];
    ["queued", "sent", "failed", "invalid_address"]
        .iter()
        .map(|k| d[k].as_u64().unwrap_or(0))
        .sum()
}

fn channel_sum(preview: &Value) -> u64 {
    preview["channels"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum()
}

/// Waits until the alert's deliveries are all queued (the count stops at
/// `expected`) and returns the progress.
async fn wait_queued(server: &Server, who: &Caller, alert: &str, expected: u64) -> Value {
    eventually("deliveries queued", || async {
        let (status, progress) = server
            .get(who, &format!("/api/v1/alerts/{alert}/progress"))
            .await;
        (status == StatusCode::OK && queued(&progress) >= expected).then_some(progress)
    })
    .await
}

async fn send_draft(server: &Server, who: &Caller, form: Value) -> (Value, String) {
    let (status, draft) = server.post(who, "/api/v1/drafts", form).await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    assert_eq!(draft["state"], "approved", "{draft}");
    let id = draft["id"].as_str().unwrap();
    let (status, sent) = server
        .post(who, &format!("/api/v1/drafts/{id}/send"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    (draft, sent["alert_id"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offices_compose_preview_send_end_and_audit() {
    let atlas = geodata::demo::atlas();
    // One resident in every village of towns 99000010 and 99000020, and
    // one with a relay need in the first village of 99000020.
    let villages: Vec<_> = atlas
        .villages()
        .iter()
        .filter(|v| v.code.starts_with("99000010") || v.code.starts_with("99000020"))
        .collect();
    let relay_village = *villages
        .iter()
        .find(|v| v.code.starts_with("99000020"))
        .unwrap();
    let p = relay_village.label_point.unwrap();
    let person = "s_relay1".to_owned();
    let mut seeds = vec![Seed::resident(&person, p.x, p.y, Some("王阿嬤"))];
    for (i, village) in villages.iter().enumerate() {
        let at = village.label_point.unwrap();
        seeds.push(Seed::resident(&format!("s_{i}"), at.x, at.y, None));
    }
    let in_town = |town: &str| villages.iter().filter(|v| v.code.starts_with(town)).count() as u64;
    let server = Server::start(&seeds).await;

    // Login: a wrong password is refused, the right one opens a session.
    let (status, body) = server
        .post(
            &Caller::Anonymous,
            "/api/v1/auth/login",
            json!({"username": OPERATOR, "password": "wrong password!!"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    let operator = server.login(OPERATOR, PASSWORD).await;
    let (status, me) = server.get(&operator, "/api/v1/auth/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["account"]["role"], "operator");

    let issuer = server
        .account(&operator, "wudao-issuer", "issuer", &["99000"])
        .await;
    let supervisor = server
        .account(&operator, "wudao-supervisor", "supervisor", &["99000"])
        .await;
    let other = server
        .account(&operator, "yunhai-issuer", "issuer", &["99100"])
        .await;
    let chief = server
        .account(
            &operator,
            "chief-a",
            "village_chief",
            &[&relay_village.code],
        )
        .await;

    // Compose by town code: preview, send, and the deliveries queued are
    // exactly the preview's.
    let (draft, flood) = send_draft(
        &server,
        &issuer,
        compose("flood", json!({"codes": ["99000020"]}), "Severe", false),
    )
    .await;
    let preview = &draft["preview"];
    // Everyone in the town, the relay resident included.
    assert_eq!(
        preview["total"].as_u64().unwrap(),
        in_town("99000020") + 1,
        "{preview}"
    );
    assert_eq!(
        preview["channels"]["mqtt"].as_u64().unwrap(),
        in_town("99000020") + 1
    );
    let per_village: u64 = preview["villages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            assert!(v["code"].as_str().unwrap().starts_with("99000020"), "{v}");
            v["count"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(per_village, preview["total"].as_u64().unwrap());
    assert_eq!(preview["relay"]["people"], 1);
    let expected = channel_sum(preview);
    let progress = wait_queued(&server, &issuer, &flood, expected).await;
    assert_eq!(queued(&progress), expected, "{progress}");
    assert_eq!(progress["relay"]["people"], 1);

    // Polygon and circle areas preview the people inside them.
    let first = villages[0].label_point.unwrap();
    let (d, x, y) = (0.002, first.x, first.y);
    let (status, polygon) = server
        .post(
            &issuer,
            "/api/v1/drafts",
            compose(
                "heat",
                json!({"polygon": [[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d]]}),
                "Moderate",
                false,
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{polygon}");
    assert_eq!(polygon["preview"]["total"], 1, "{polygon}");
    let (status, circle) = server
        .post(
            &issuer,
            "/api/v1/drafts",
            compose(
                "wind",
                json!({"circle": {"lon": p.x, "lat": p.y, "radius_km": 1.0}}),
                "Moderate",
                false,
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{circle}");
    // The relay resident and the village's other resident share the point.
    assert_eq!(circle["preview"]["total"], 2, "{circle}");
    let id = circle["id"].as_str().unwrap();
    let (status, again) = server
        .get(&issuer, &format!("/api/v1/drafts/{id}/preview"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, circle["preview"]);

    // Extreme severity needs a second person: a supervisor, not the author.
    let (status, extreme) = server
        .post(
            &issuer,
            "/api/v1/drafts",
            compose("fog", json!({"codes": ["99000030"]}), "Extreme", false),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(extreme["state"], "awaiting_approval");
    assert_eq!(extreme["approval_reason"], "extreme");
    let id = extreme["id"].as_str().unwrap();
    let (status, body) = server
        .post(&issuer, &format!("/api/v1/drafts/{id}/send"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = server
        .post(&issuer, &format!("/api/v1/drafts/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, own) = server
        .post(
            &supervisor,
            "/api/v1/drafts",
            compose("fog", json!({"codes": ["99000030"]}), "Extreme", false),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let own_id = own["id"].as_str().unwrap();
    let (status, _) = server
        .post(
            &supervisor,
            &format!("/api/v1/drafts/{own_id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the author may not approve");
    let (status, approved) = server
        .post(
            &supervisor,
            &format!("/api/v1/drafts/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["state"], "approved");
    let (status, sent) = server
        .post(&issuer, &format!("/api/v1/drafts/{id}/send"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let (status, _) = server
        .post(&issuer, &format!("/api/v1/drafts/{id}/send"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "a draft is sent once");

    // An exercise is marked in the message itself, in every language.
    let (status, exercise) = server
        .post(
            &issuer,
            "/api/v1/drafts",
            compose("tsunami", json!({"codes": ["99000010"]}), "Severe", true),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let xml = exercise["cap_xml"].as_str().unwrap();
    assert!(xml.contains("<status>Exercise</status>"));
    assert!(xml.contains("<headline>【演習】 測試警報</headline>"));
    assert!(xml.contains("<headline>[EXERCISE] Test warning</headline>"));
    assert_eq!(exercise["exercise"], true);

    // Outside the jurisdiction: refused, for composing and for ending.
    let (status, body) = server
        .post(
            &other,
            "/api/v1/drafts",
            compose("flood", json!({"codes": ["99000020"]}), "Severe", false),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = server
        .post(
            &issuer,
            "/api/v1/drafts",
            compose(
                "flood",
                json!({"codes": ["99000020", "99100010"]}),
                "Severe",
                false,
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = server
        .post(
            &other,
            &format!("/api/v1/alerts/{flood}/cancel"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The chief sees the list, acknowledges, and the office sees it.
    let (status, lists) = server.get(&chief, "/api/v1/relay").await;
    assert_eq!(status, StatusCode::OK);
    let list = lists["lists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["alert_id"] == flood.as_str())
        .unwrap_or_else(|| panic!("no list for the flood alert: {lists}"));
    assert_eq!(list["people"][0]["person"], person.as_str());
    assert_eq!(list["people"][0]["name"], "王阿嬤");
    let ack_path = format!("/api/v1/relay/{flood}/{}/ack", relay_village.code);
    let (status, body) = server
        .post(
            &chief,
            &ack_path,
            json!({"person": person, "outcome": "reached"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server
        .post(
            &chief,
            &ack_path,
            json!({"person": person, "outcome": "fine"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let response = server
        .request(
            &chief,
            reqwest::Method::GET,
            &format!("/relay/{flood}/{}/print", relay_village.code),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("王阿嬤"));
    let (_, progress) = server
        .get(&issuer, &format!("/api/v1/alerts/{flood}/progress"))
        .await;
    assert_eq!(progress["relay"]["acknowledged"], 1);

    // Recovery: relief steps to the people told (the demo catalogue covers
    // floods in county 99000).
    let (status, recovery) = server
        .post(
            &issuer,
            &format!("/api/v1/alerts/{flood}/recovery"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{recovery}");
    assert_eq!(
        recovery["people"].as_u64().unwrap(),
        preview["total"].as_u64().unwrap()
    );
    assert!(recovery["queued"].as_u64().unwrap() > 0);

    // A false alarm corrected in one step reaches exactly the same
    // deliveries as the alert did.
    let (status, corrected) = server
        .post(
            &issuer,
            &format!("/api/v1/alerts/{flood}/correct"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{corrected}");
    let correction = corrected["alert_id"].as_str().unwrap();
    let progress = wait_queued(&server, &issuer, correction, expected).await;
    assert_eq!(queued(&progress), expected, "{progress}");
    let (status, _) = server
        .post(
            &issuer,
            &format!("/api/v1/alerts/{flood}/cancel"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no longer in force");

    // Cancel likewise reaches the alert's own recipients.
    let (draft, wind) = send_draft(
        &server,
        &issuer,
        compose(
            "wind",
            json!({"codes": ["99000010001", "99000010002"]}),
            "Moderate",
            false,
        ),
    )
    .await;
    let expected = channel_sum(&draft["preview"]);
    assert_eq!(expected, 2, "one resident in each of the two villages");
    wait_queued(&server, &issuer, &wind, expected).await;
    // An update names the alert it replaces and goes through a draft.
    let mut form = compose(
        "wind",
        json!({"codes": ["99000010001", "99000010002"]}),
        "Moderate",
        false,
    );
    form["references"] = json!(wind);
    form["texts"]["zh-TW"]["headline"] = json!("強風警報更新");
    let (update, wind) = send_draft(&server, &issuer, form).await;
    assert_eq!(update["msg_type"], "Update");
    assert!(update["cap_xml"].as_str().unwrap().contains("<references>"));
    let (status, cancelled) = server
        .post(
            &issuer,
            &format!("/api/v1/alerts/{wind}/cancel"),
            json!({"reason": "風勢減弱"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    let progress = wait_queued(
        &server,
        &issuer,
        cancelled["alert_id"].as_str().unwrap(),
        expected,
    )
    .await;
    assert_eq!(queued(&progress), expected);

    // Shelters: an office closes one of its own, not another county's.
    let (status, shelters) = server.get(&issuer, "/api/v1/shelters").await;
    assert_eq!(status, StatusCode::OK);
    let shelter = shelters["shelters"][0]["id"].as_str().unwrap().to_owned();
    assert!(
        shelters["shelters"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["village"].as_str().unwrap().starts_with("99000"))
    );
    let (status, _) = server
        .post(
            &other,
            &format!("/api/v1/shelters/{shelter}/close"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, closed) = server
        .post(
            &issuer,
            &format!("/api/v1/shelters/{shelter}/close"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    let (_, shelters) = server.get(&issuer, "/api/v1/shelters").await;
    let listed = shelters["shelters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == shelter.as_str())
        .unwrap();
    assert_eq!(listed["open"], false);

    // Every action is in the audit log, chained, naming people only by id.
    let (status, audit) = server.get(&supervisor, "/api/v1/audit?limit=1000").await;
    assert_eq!(status, StatusCode::OK);
    let entries: Vec<store::AuditEntry> = serde_json::from_value(audit["entries"].clone()).unwrap();
    let mut previous = store::audit::GENESIS.to_owned();
    for entry in &entries {
        assert_eq!(
            entry.hash,
            store::audit::chain_hash(&previous, entry.seq, &entry.entry)
        );
        previous = entry.hash.clone();
    }
    let actions: Vec<&str> = entries.iter().map(|e| e.entry.action.as_str()).collect();
    for action in [
        "login",
        "account.create",
        "draft.create",
        "draft.approve",
        "alert.send",
        "relay.ack",
        "alert.recovery",
        "alert.correct",
        "alert.cancel",
        "shelter.close",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    let text = audit.to_string();
    assert!(!text.contains("王阿嬤") && !text.contains("912345678"));
    assert!(
        entries
            .iter()
            .any(|e| e.entry.action == "relay.ack" && e.entry.target == person)
    );
    let (status, _) = server.get(&issuer, "/api/v1/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// A chief's list holds only people with a place in the village, shows no
/// hidden characters (an entry stored before they were refused is cleaned
/// and flagged), and the chief can dismiss an entry, audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chiefs_dismiss_entries_and_never_read_hidden_characters() {
    let atlas = geodata::demo::atlas();
    let mut villages = atlas
        .villages()
        .iter()
        .filter(|v| v.code.starts_with("99000020"));
    let here = villages.next().unwrap();
    let there = villages.next().unwrap();
    let (p, q) = (here.label_point.unwrap(), there.label_point.unwrap());
    let genuine = Seed::resident("s_genuine", p.x, p.y, Some("林阿公"));
    // Written in the old way, straight into the store: a name with an
    // override and a zero-width space, and a need naming a village where
    // the person has no place.
    let tampered = Seed::resident("s_tampered", p.x, p.y, Some("王\u{202E}阿嬤\u{200B}"));
    let mut stranger = Seed::resident("s_stranger", q.x, q.y, Some("Nobody Here"));
    if let Some(need) = stranger.record.relay.as_mut() {
        need.village = here.code.clone();
    }
    let server = Server::start(&[genuine, tampered, stranger]).await;
    let operator = server.login(OPERATOR, PASSWORD).await;
    let issuer = server
        .account(&operator, "issuer-d", "issuer", &["99000"])
        .await;
    let chief = server
        .account(&operator, "chief-d", "village_chief", &[&here.code])
        .await;
    let (_, flood) = send_draft(
        &server,
        &issuer,
        compose("flood", json!({"codes": ["99000020"]}), "Severe", false),
    )
    .await;
    let list_of = |lists: &Value| {
        lists["lists"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["alert_id"] == flood.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("no list for the flood alert: {lists}"))
    };
    let (status, lists) = server.get(&chief, "/api/v1/relay").await;
    assert_eq!(status, StatusCode::OK, "{lists}");
    let list = list_of(&lists);
    let people: Vec<&str> = list["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["person"].as_str().unwrap())
        .collect();
    assert_eq!(people.len(), 2, "{list}");
    assert!(!people.contains(&"s_stranger"), "{list}");
    let tampered = list["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["person"] == "s_tampered")
        .unwrap();
    assert_eq!(tampered["name"], "王阿嬤");
    assert_eq!(tampered["hidden_characters_removed"], true);
    let genuine = list["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["person"] == "s_genuine")
        .unwrap();
    assert_eq!(genuine["hidden_characters_removed"], false);
    let print = server
        .request(
            &chief,
            reqwest::Method::GET,
            &format!("/relay/{flood}/{}/print", here.code),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(print.contains("王阿嬤"), "{print}");
    assert!(!print.contains('\u{202E}') && !print.contains('\u{200B}'));

    // A chief's note is refused with a hidden character in it.
    let base = format!("/api/v1/relay/{flood}/{}", here.code);
    let (status, body) = server
        .post(
            &chief,
            &format!("{base}/ack"),
            json!({"person": "s_genuine", "outcome": "reached", "note": "ok\u{2066}"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "note");

    // A staff route's errors name the field, never the value sent.
    let (status, body) = server
        .post(
            &chief,
            &format!("{base}/ack"),
            json!({"person": 886912345678u64, "outcome": "reached"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "malformed_request");
    assert_eq!(body["error"]["field"], "person");
    assert!(!body.to_string().contains("886912345678"), "{body}");
    let (status, body) = server
        .post(
            &chief,
            &format!("{base}/dismiss"),
            json!({"person": ["王阿嬤"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], "person");
    assert!(!body.to_string().contains("阿嬤"), "{body}");
    let (status, body) = server
        .get(&operator, "/api/v1/audit?limit=0912345678x")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "malformed_request");
    assert_eq!(body["error"]["field"], "limit");
    assert!(!body.to_string().contains("0912345678"), "{body}");

    // Dismissed: off the list, the person's need is gone, audited.
    let dismiss = format!("{base}/dismiss");
    let (status, body) = server
        .post(&chief, &dismiss, json!({"person": "s_tampered"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["dismissed"], true);
    let (_, lists) = server.get(&chief, "/api/v1/relay").await;
    let list = list_of(&lists);
    assert_eq!(list["people"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["people"][0]["person"], "s_genuine");
    let (status, me) = server
        .get(
            &Caller::Bearer("device-key-s_tampered".into()),
            "/api/v1/me",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["relay"], Value::Null);
    for person in ["s_tampered", "s_stranger", "s_nobody"] {
        let (status, body) = server
            .post(&chief, &dismiss, json!({"person": person}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{person}: {body}");
        assert_eq!(body["error"]["field"], "person");
    }
    let (status, me) = server
        .get(
            &Caller::Bearer("device-key-s_stranger".into()),
            "/api/v1/me",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(
        me["relay"],
        Value::Null,
        "another village's chief moved nothing"
    );
    let (_, audit) = server.get(&operator, "/api/v1/audit?limit=1000").await;
    let entries = audit["entries"].as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["action"] == "relay.dismiss"
            && e["target"] == "s_tampered"
            && e["actor"] == chief.id()),
        "{audit}"
    );
    assert!(!audit.to_string().contains("阿嬤"));
}

/// `HAZARDLINE_RELIEF_CATALOGUE` replaces the demo region's catalogue: the
/// relief steps a resident gets after recovery are the file's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relief_catalogue_from_the_environment_is_the_one_residents_get() {
    use notifier::testing::mosquitto::Mosquitto;
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

    let Some(broker) = Mosquitto::start() else {
        eprintln!("mosquitto not installed: test skipped");
        return;
    };
    // The demo's flood step, renamed: only this file can have sent it.
    const DEMO_TITLE: &str = "住宅淹水救助金";
    const OWN_TITLE: &str = "環境變數指定的淹水救助金";
    let demo = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/notifier/relief/demo.toml"
    ))
    .unwrap();
    let first_step = demo.find("\n[[step]]").unwrap();
    let second_step = first_step + 1 + demo[first_step + 1..].find("\n[[step]]").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let catalogue = dir.path().join("relief.toml");
    std::fs::write(
        &catalogue,
        demo[first_step..second_step].replace(DEMO_TITLE, OWN_TITLE),
    )
    .unwrap();

    let atlas = geodata::demo::atlas();
    let village = atlas
        .villages()
        .iter()
        .find(|v| v.code.starts_with("99000020"))
        .unwrap();
    let at = village.label_point.unwrap();
    let resident = Seed::resident("s_relief", at.x, at.y, None);

    let (client, mut events) = AsyncClient::new(
        MqttOptions::new("relief-watcher", "127.0.0.1", broker.port),
        16,
    );
    client
        .subscribe("hazardline/device/device-s_relief", QoS::AtLeastOnce)
        .await
        .unwrap();
    let (messages_tx, mut messages) = tokio::sync::mpsc::unbounded_channel();
    let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _client = client;
        let mut subscribed_tx = Some(subscribed_tx);
        while let Ok(event) = events.poll().await {
            match event {
                Event::Incoming(Packet::SubAck(_)) => {
                    if let Some(tx) = subscribed_tx.take() {
                        let _ = tx.send(());
                    }
                }
                Event::Incoming(Packet::Publish(p)) => {
                    let body: Value = serde_json::from_slice(&p.payload).unwrap_or_default();
                    let _ = messages_tx.send(body);
                }
                _ => {}
            }
        }
    });
    subscribed.await.unwrap();

    let mqtt = format!(
        "\n[channels.mqtt]\nhost = \"127.0.0.1\"\nport = {}\nclient_id = \"hazardline-relief\"\n",
        broker.port
    );
    let server = Server::start_with(&[resident], &mqtt, |command| {
        command.env("HAZARDLINE_RELIEF_CATALOGUE", &catalogue);
    })
    .await;
    let operator = server.login(OPERATOR, PASSWORD).await;
    let issuer = server
        .account(&operator, "wudao-issuer", "issuer", &["99000"])
        .await;
    let (_, flood) = send_draft(
        &server,
        &issuer,
        compose("flood", json!({"codes": [village.code]}), "Severe", false),
    )
    .await;
    let alert = next_message(&mut messages, "alert").await;
    assert_eq!(alert["kind"], "new", "{alert}");

    let (status, recovery) = server
        .post(
            &issuer,
            &format!("/api/v1/alerts/{flood}/recovery"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{recovery}");
    assert_eq!(recovery["people"], 1, "{recovery}");
    let relief = next_message(&mut messages, "relief steps").await;
    assert_eq!(relief["kind"], "relief", "{relief}");
    let text = relief.to_string();
    assert!(text.contains(OWN_TITLE), "{relief}");
    assert!(!text.contains(DEMO_TITLE), "{relief}");
}

async fn next_message(
    messages: &mut tokio::sync::mpsc::UnboundedReceiver<Value>,
    what: &str,
) -> Value {
    tokio::time::timeout(std::time::Duration::from_secs(30), messages.recv())
        .await
        .unwrap_or_else(|_| panic!("no {what} over MQTT"))
        .expect("the MQTT watcher stopped")
}
