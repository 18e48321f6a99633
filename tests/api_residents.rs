//! The residents' API end to end, in process: the service's router over a
//! real embedded store in a temporary directory, the engine on its task,
//! the ingest pipeline and a clock the tests set. Requests go through the
//! whole router (`tower::ServiceExt::oneshot`), so body limits, extractors
//! and error bodies are the ones clients see.

use axum::http::StatusCode;
use chrono::Duration;
use residents_harness::{Harness, Reply};
use serde_json::{Value, json};

const HAIAN_ADDRESS: &str = "霧島縣雲港鎮海安里中山路7號";
const HAIAN: &str = "99000010002";
/// 溪頭村 of 霧溪鄉: inside the first demo debris-flow alert's area.
const XITOU_ADDRESS: &str = "霧島縣霧溪鄉溪頭村";

fn registration(places: Value) -> Value {
    json!({
        "locale": "en",
        "devices": [{"channel": "mqtt", "address": "phone-1"}],
        "places": places,
        "preferences": {"kinds": [], "exercises": true},
    })
}

async fn register(h: &Harness, places: Value) -> (String, String, Value) {
    let reply = h
        .post("/api/v1/subscribers", None, registration(places))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_string();
    let key = reply.body["key"].as_str().unwrap().to_string();
    (id, key, reply.body)
}

fn assert_error(reply: &Reply, status: StatusCode, code: &str, field: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["error"]["code"], code, "{}", reply.body);
    if let Some(field) = field {
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.body);
    }
}

#[tokio::test]
async fn register_read_change_and_delete_every_trace() {
    let h = Harness::start().await;
    a_residents_life(&h).await;
}

#[tokio::test]
async fn register_read_change_and_delete_every_trace_on_redis() {
    let Some(h) = Harness::start_on_redis().await else {
        eprintln!("redis-server not installed: test skipped");
        return;
    };
    a_residents_life(&h).await;
}

/// Registers, reads, changes everything a resident can change, then
/// deletes the account and checks nothing of it is left.
async fn a_residents_life(h: &Harness) {
    let (id, key, body) = register(
        h,
        json!([
            {"label": "Home", "address": HAIAN_ADDRESS},
            {"label": "Work", "lon": 123.15, "lat": 23.15},
        ]),
    )
    .await;
    assert!(id.starts_with("s_"));
    assert_eq!(key.len(), 43, "256 bits in base64url");
    assert_eq!(body["places"][0]["village"], HAIAN);
    assert_eq!(body["places"][0]["town"], "99000010");
    assert_eq!(body["places"][0]["county"], "99000");
    // The demo gazetteer knows this street address.
    assert_eq!(body["places"][0]["precision"], "address");
    assert_eq!(body["places"][1]["precision"], "point");
    assert!(
        body["places"][1]["village"]
            .as_str()
            .unwrap()
            .starts_with("99000020")
    );

    let me = h.get("/api/v1/me", Some(&key)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["id"], id.as_str());
    assert_eq!(me.body["devices"][0]["address"], "phone-1");
    assert_eq!(me.body["places"][0]["address"], HAIAN_ADDRESS);
    assert_eq!(me.body["location"], Value::Null);

    // The store holds it, and it is readable by id.
    let stored = h.stored(&id).await.expect("stored");
    assert_eq!(stored.places.len(), 2);

    let patched = h
        .patch(
            "/api/v1/me",
            Some(&key),
            json!({
                "locale": "zh-Hant-TW",
                "preferences": {"kinds": ["earthquake"], "min_intensity": "5+",
                                 "quiet_hours": {"start": "22:00", "end": "07:00"}},
            }),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["locale"], "zh-TW");
    assert_eq!(patched.body["preferences"]["kinds"], json!(["earthquake"]));
    assert_eq!(patched.body["preferences"]["min_intensity"], "5+");
    assert_eq!(
        patched.body["devices"][0]["address"], "phone-1",
        "untouched"
    );
    assert_eq!(
        h.stored(&id)
            .await
            .unwrap()
            .preferences
            .min_intensity
            .as_deref(),
        Some("5+")
    );

    let added = h
        .post(
            "/api/v1/me/places",
            Some(&key),
            json!({"label": "Parents", "address": XITOU_ADDRESS}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(added.body["id"], 2);
    assert_eq!(added.body["village"], "99000020002");
    let removed = h.delete("/api/v1/me/places/0", Some(&key)).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_error(
        &h.delete("/api/v1/me/places/0", Some(&key)).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    let places: Vec<i64> = h
        .stored(&id)
        .await
        .unwrap()
        .places
        .iter()
        .map(|p| i64::from(p.id))
        .collect();
    assert_eq!(places, [1, 2]);

    // Relay need: the village of the first place unless given.
    let relay = h
        .put(
            "/api/v1/me/relay",
            Some(&key),
            json!({"name": "Grandma Lin", "phone": "+886912345678", "note": "wheelchair"}),
        )
        .await;
    assert_eq!(relay.status, StatusCode::OK, "{}", relay.body);
    let first_village = h.stored(&id).await.unwrap().places[0]
        .village
        .clone()
        .unwrap();
    assert_eq!(relay.body["village"], first_village.as_str());
    assert_error(
        &h.put(
            "/api/v1/me/relay",
            Some(&key),
            json!({"name": "X", "village": "99000"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("village"),
    );
    assert_eq!(
        h.delete("/api/v1/me/relay", Some(&key)).await.status,
        StatusCode::NO_CONTENT
    );
    assert!(h.stored(&id).await.unwrap().relay.is_none());
    h.put(
        "/api/v1/me/relay",
        Some(&key),
        json!({"name": "Grandma Lin", "phone": "+886912345678"}),
    )
    .await;

    // Delete: the store has nothing of them, the key no longer works, the
    // audit log names only the pseudonymous id.
    let deleted = h.delete("/api/v1/me", Some(&key)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(h.stored(&id).await.is_none());
    assert!(h.inbox(&id).await.is_empty());
    assert_error(
        &h.get("/api/v1/me", Some(&key)).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    assert_error(
        &h.get("/api/v1/me/alerts", Some(&key)).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    let audit = h.audit_text().await;
    assert!(audit.contains("subscriber.delete"), "{audit}");
    assert!(audit.contains(&id));
    for personal in ["phone-1", "Grandma", "+886912345678", "中山路", "Home"] {
        assert!(!audit.contains(personal), "audit log holds {personal}");
    }
}

#[tokio::test]
async fn a_relay_need_only_for_a_village_where_one_has_a_place() {
    let h = Harness::start().await;
    let (id, key, _) = register(&h, json!([{"label": "Home", "address": HAIAN_ADDRESS}])).await;
    // Another village's list: refused, naming the field.
    let elsewhere = h
        .put(
            "/api/v1/me/relay",
            Some(&key),
            json!({"name": "Grandma Lin", "village": "99000020002"}),
        )
        .await;
    assert_error(
        &elsewhere,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("village"),
    );
    assert!(h.stored(&id).await.unwrap().relay.is_none());
    let own = h
        .put(
            "/api/v1/me/relay",
            Some(&key),
            json!({"name": "Grandma Lin", "village": HAIAN}),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert_eq!(own.body["village"], HAIAN);

    // The place the relay need stands on cannot go while the need does.
    assert_error(
        &h.delete("/api/v1/me/places/0", Some(&key)).await,
        StatusCode::CONFLICT,
        "conflict",
        Some("relay"),
    );
    let stored = h.stored(&id).await.unwrap();
    assert_eq!(stored.places.len(), 1);
    assert_eq!(stored.relay.unwrap().village, HAIAN);
    // A second place in the same village keeps the need standing.
    let (lon, lat) = h.village_label_point(HAIAN);
    let second = h
        .post(
            "/api/v1/me/places",
            Some(&key),
            json!({"label": "Shop", "lon": lon, "lat": lat}),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_eq!(
        h.delete("/api/v1/me/places/0", Some(&key)).await.status,
        StatusCode::NO_CONTENT
    );
    // Withdrawn first, the last place may go.
    h.delete("/api/v1/me/relay", Some(&key)).await;
    assert_eq!(
        h.delete("/api/v1/me/places/1", Some(&key)).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn invisible_and_direction_changing_characters_are_refused_at_input() {
    let h = Harness::start().await;
    let (id, key, _) = register(&h, json!([{"label": "Home", "address": HAIAN_ADDRESS}])).await;
    for (body, field, code_point) in [
        (json!({"name": "Lin\u{202E}gnahC"}), "name", "U+202E"),
        (json!({"name": "Lin\u{2067}x"}), "name", "U+2067"),
        (
            json!({"name": "Lin", "note": "wheel\u{200B}chair"}),
            "note",
            "U+200B",
        ),
        (json!({"name": "\u{FEFF}Lin"}), "name", "U+FEFF"),
        (json!({"name": "Lin\u{200F}"}), "name", "U+200F"),
    ] {
        let reply = h.put("/api/v1/me/relay", Some(&key), body).await;
        assert_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some(field),
        );
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(code_point), "{message}");
        assert!(
            !message.contains("Lin"),
            "the value is not echoed: {message}"
        );
    }
    assert!(h.stored(&id).await.unwrap().relay.is_none());
    assert_error(
        &h.post(
            "/api/v1/me/places",
            Some(&key),
            json!({"label": "Ho\u{200D}me", "lon": 123.15, "lat": 23.15}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("label"),
    );
}

#[tokio::test]
async fn every_bad_input_has_its_code_and_field() {
    let h = Harness::start().await;
    let post = |body: Value| h.post("/api/v1/subscribers", None, body);

    let raw = h
        .post_raw(
            "/api/v1/subscribers",
            None,
            "application/json",
            b"{\"locale\":".to_vec(),
        )
        .await;
    assert_error(&raw, StatusCode::BAD_REQUEST, "malformed_request", None);
    let raw = h
        .post_raw("/api/v1/subscribers", None, "text/plain", b"{}".to_vec())
        .await;
    assert_error(&raw, StatusCode::BAD_REQUEST, "malformed_request", None);
    assert_error(
        &post(json!({"locale": "en", "colour": "red"})).await,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        None,
    );
    assert_error(
        &post(json!({"locale": "en", "devices": [{"channel": "pager", "address": "1"}]})).await,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        Some("devices[0].channel"),
    );
    assert_error(
        &post(json!({"locale": "de"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("locale"),
    );
    let bad_devices = [
        (
            json!({"channel": "sms", "address": "0912345678"}),
            "devices[0].address",
        ),
        (
            json!({"channel": "email", "address": "nobody"}),
            "devices[0].address",
        ),
        (
            json!({"channel": "fcm", "address": "short"}),
            "devices[0].address",
        ),
        (
            json!({"channel": "mqtt", "address": "a/#"}),
            "devices[0].address",
        ),
        (
            json!({"channel": "webhook", "address": "ftp://x"}),
            "devices[0].address",
        ),
        (
            json!({"channel": "sms", "address": "+886912345678", "secret": "0123456789abcdef"}),
            "devices[0].secret",
        ),
    ];
    for (device, field) in bad_devices {
        let reply = post(json!({"locale": "en", "devices": [device]})).await;
        assert_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some(field),
        );
        assert!(
            !reply.body.to_string().contains("0912345678"),
            "values are not echoed"
        );
    }
    assert_error(
        &post(json!({"locale": "en", "preferences": {"min_colour": "purple"}})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("preferences.min_colour"),
    );
    assert_error(
        &post(json!({"locale": "en", "places": [{"label": "", "address": HAIAN_ADDRESS}]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("places[0].label"),
    );
    assert_error(
        &post(json!({"locale": "en", "places": [{"label": "A", "lon": 200.0, "lat": 23.1}]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("places[0].lon"),
    );
    assert_error(
        &post(json!({"locale": "en", "places": [{"label": "A", "address": "霧島縣不存在鄉"}]}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "address_not_found",
        Some("places[0].address"),
    );
    let ambiguous =
        post(json!({"locale": "en", "places": [{"label": "A", "address": "東區朝陽里"}]})).await;
    assert_error(
        &ambiguous,
        StatusCode::UNPROCESSABLE_ENTITY,
        "address_ambiguous",
        Some("places[0].address"),
    );
    assert_eq!(
        ambiguous.body["error"]["details"].as_array().unwrap().len(),
        2
    );
    assert_error(
        &post(json!({"locale": "en", "places": [{"label": "Taipei", "lon": 121.5, "lat": 25.04}]}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "outside_coverage",
        Some("places[0]"),
    );
    let eleven: Vec<Value> = (0..11)
        .map(|i| json!({"label": format!("P{i}"), "lon": 123.05, "lat": 23.05}))
        .collect();
    assert_error(
        &post(json!({"locale": "en", "places": eleven})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("places"),
    );

    // Authentication.
    assert_error(
        &h.get("/api/v1/me", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    assert_error(
        &h.get("/api/v1/me", Some("not-a-key")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );

    // A tenth place is fine, an eleventh is refused.
    let ten: Vec<Value> = (0..10)
        .map(|i| json!({"label": format!("P{i}"), "lon": 123.05, "lat": 23.05}))
        .collect();
    let (_, key, _) = register(&h, Value::Array(ten)).await;
    assert_error(
        &h.post(
            "/api/v1/me/places",
            Some(&key),
            json!({"label": "More", "lon": 123.05, "lat": 23.05}),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
        None,
    );
    assert_error(
        &h.get("/api/v1/me/inbox?limit=0", Some(&key)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("limit"),
    );
}

#[tokio::test]
async fn a_shared_location_expires_and_is_withdrawn() {
    let h = Harness::start().await;
    let (id, key, _) = register(&h, json!([{"label": "Home", "address": HAIAN_ADDRESS}])).await;
    for (body, field) in [
        (
            json!({"lon": 123.15, "lat": 23.15, "ttl_minutes": 0}),
            "ttl_minutes",
        ),
        (
            json!({"lon": 123.15, "lat": 23.15, "ttl_minutes": 1441}),
            "ttl_minutes",
        ),
        (
            json!({"lon": 123.15, "lat": 95.0, "ttl_minutes": 10}),
            "lat",
        ),
    ] {
        assert_error(
            &h.put("/api/v1/me/location", Some(&key), body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some(field),
        );
    }
    assert_error(
        &h.put(
            "/api/v1/me/location",
            Some(&key),
            json!({"lon": 121.5, "lat": 25.04, "ttl_minutes": 10}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "outside_coverage",
        None,
    );

    let shared = h
        .put(
            "/api/v1/me/location",
            Some(&key),
            json!({"lon": 123.15, "lat": 23.05, "ttl_minutes": 60}),
        )
        .await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.body);
    // Only the latest point is kept.
    let shared = h
        .put(
            "/api/v1/me/location",
            Some(&key),
            json!({"lon": 123.15, "lat": 23.15, "ttl_minutes": 30}),
        )
        .await;
    assert_eq!(shared.status, StatusCode::OK);
    let stored = h
        .stored(&id)
        .await
        .unwrap()
        .location
        .expect("location kept");
    assert_eq!((stored.lon, stored.lat), (123.15, 23.15));
    assert_eq!(stored.expires - stored.at, Duration::minutes(30));
    assert_eq!(
        h.get("/api/v1/me", Some(&key)).await.body["location"]["lat"],
        23.15
    );

    // Not yet due: nothing withdrawn.
    h.advance(Duration::minutes(29));
    assert_eq!(h.expire_locations().await, 0);
    assert!(h.stored(&id).await.unwrap().location.is_some());
    h.advance(Duration::minutes(2));
    // Hidden at once, withdrawn from store and engine by the sweep.
    assert_eq!(
        h.get("/api/v1/me", Some(&key)).await.body["location"],
        Value::Null
    );
    assert_eq!(h.expire_locations().await, 1);
    assert!(h.stored(&id).await.unwrap().location.is_none());
    assert_eq!(h.expire_locations().await, 0);

    // Stopping sharing forgets the point.
    h.put(
        "/api/v1/me/location",
        Some(&key),
        json!({"lon": 123.15, "lat": 23.15, "ttl_minutes": 5}),
    )
    .await;
    assert_eq!(
        h.delete("/api/v1/me/location", Some(&key)).await.status,
        StatusCode::NO_CONTENT
    );
    assert!(h.stored(&id).await.unwrap().location.is_none());
}

#[tokio::test]
async fn my_alerts_and_inbox_after_a_demo_alert() {
    let h = Harness::start().await;
    let (_, inside, _) = register(&h, json!([{"label": "Home", "address": XITOU_ADDRESS}])).await;
    let (_, outside, _) = register(&h, json!([{"label": "Home", "address": HAIAN_ADDRESS}])).await;
    // A traveller whose shared location is in the warned village.
    let (_, traveller, _) =
        register(&h, json!([{"label": "Home", "address": HAIAN_ADDRESS}])).await;
    let village = h.village_label_point("99000020003");
    let shared = h
        .put(
            "/api/v1/me/location",
            Some(&traveller),
            json!({"lon": village.0, "lat": village.1, "ttl_minutes": 600}),
        )
        .await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.body);

    h.submit_demo_cap("01-debris-flow-yellow.xml").await;

    let alerts = h.wait_for_alerts(&inside).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["hazard"], "debris_flow");
    assert_eq!(alerts[0]["colour"], "yellow");
    assert_eq!(h.wait_for_alerts(&traveller).await.len(), 1);
    let none = h.get("/api/v1/me/alerts", Some(&outside)).await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.body["alerts"], json!([]));

    let inbox = h.get("/api/v1/me/inbox?limit=10", Some(&inside)).await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);
    let entries = inbox.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{}", inbox.body);
    assert_eq!(entries[0]["hazard"], "debris_flow");
    assert_eq!(entries[0]["alert_id"], alerts[0]["alert_id"]);
    assert_eq!(
        h.get("/api/v1/me/inbox", Some(&outside)).await.body["entries"],
        json!([])
    );

    // The public list shows it too, without anyone's data.
    let public = h.get("/api/v1/alerts?lang=zh-TW", None).await;
    assert_eq!(public.status, StatusCode::OK);
    assert_eq!(public.body["alerts"][0]["alert_id"], alerts[0]["alert_id"]);
    assert_eq!(public.body["alerts"][0]["hazard"], "debris_flow");
}

#[tokio::test]
async fn the_live_feed_streams_public_notices() {
    use http_body_util::BodyExt;
    let h = Harness::start().await;
    let response = h.open("/api/v1/alerts/live").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    h.submit_demo_cap("01-debris-flow-yellow.xml").await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !seen.contains("event: notice") {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("a notice within 20 s")
            .expect("stream open")
            .unwrap();
        if let Ok(data) = frame.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
        }
    }
    let data = seen
        .lines()
        .skip_while(|l| *l != "event: notice")
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap();
    let notice: Value = serde_json::from_str(data).unwrap();
    assert!(
        notice["alert"].as_str().unwrap().contains("DEMO-DF-0001"),
        "{notice}"
    );
    assert!(notice["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(notice["exercise"], false);
}

#[tokio::test]
async fn public_lookups_geocode_and_boundaries() {
    let h = Harness::start().await;
    let found = h
        .get(
            &format!("/api/v1/geocode?address={}", urlencode(HAIAN_ADDRESS)),
            None,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert_eq!(found.body["candidates"][0]["village"]["code"], HAIAN);
    let ambiguous = h
        .get(
            &format!("/api/v1/geocode?address={}", urlencode("東區朝陽里")),
            None,
        )
        .await;
    assert_error(
        &ambiguous,
        StatusCode::UNPROCESSABLE_ENTITY,
        "address_ambiguous",
        Some("address"),
    );

    let counties = h.get("/api/v1/geo/areas", None).await;
    assert_eq!(counties.status, StatusCode::OK);
    let codes: Vec<&str> = counties.body["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["99000", "99100", "99200"]);
    let towns = h.get("/api/v1/geo/areas?parent=99000", None).await;
    assert_eq!(towns.body["features"].as_array().unwrap().len(), 3);
    assert_eq!(
        towns.body["features"][0]["geometry"]["type"],
        "MultiPolygon"
    );
    let villages = h.get("/api/v1/geo/areas?parent=99000010", None).await;
    assert_eq!(villages.body["features"].as_array().unwrap().len(), 4);
    assert_eq!(
        villages.body["features"][0]["properties"]["level"],
        "village"
    );
    assert_error(
        &h.get("/api/v1/geo/areas?parent=12345", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_and_refill() {
    let h = Harness::start_with_limits(2, 3).await;
    let (_, key, _) = register(&h, json!([])).await;
    register(&h, json!([])).await;
    let refused = h
        .post("/api/v1/subscribers", None, registration(json!([])))
        .await;
    assert_error(
        &refused,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        None,
    );
    // 2 a minute: one token every 30 s.
    assert_eq!(refused.headers["retry-after"], "30");
    h.advance(Duration::seconds(30));
    assert_eq!(
        h.post("/api/v1/subscribers", None, registration(json!([])))
            .await
            .status,
        StatusCode::CREATED
    );

    // Per device on /me: 3 a minute.
    for _ in 0..3 {
        assert_eq!(
            h.get("/api/v1/me/alerts", Some(&key)).await.status,
            StatusCode::OK
        );
    }
    let refused = h.get("/api/v1/me/alerts", Some(&key)).await;
    assert_error(
        &refused,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        None,
    );
    assert_eq!(refused.headers["retry-after"], "20");
}

#[tokio::test]
async fn guessed_device_keys_are_limited_per_address() {
    let h = Harness::start_with_key_guesses(0, 0, 3).await;
    let (_, key, _) = register(&h, json!([])).await;
    let (guesser, neighbour) = ("198.51.100.7", "203.0.113.9");
    // Right keys never spend the allowance.
    for _ in 0..5 {
        assert_eq!(
            h.get_from(guesser, "/api/v1/me", Some(&key)).await.status,
            StatusCode::OK
        );
    }
    for i in 0..3 {
        let wrong = format!("guess-{i}");
        assert_error(
            &h.get_from(guesser, "/api/v1/me/alerts", Some(&wrong)).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            None,
        );
    }
    let refused = h
        .get_from(guesser, "/api/v1/me/alerts", Some("guess-3"))
        .await;
    assert_error(
        &refused,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        None,
    );
    // 3 a minute: one every 20 s.
    assert_eq!(refused.headers["retry-after"], "20");
    // Even a right key from that address, until the allowance refills.
    assert_error(
        &h.get_from(guesser, "/api/v1/me", Some(&key)).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        None,
    );
    assert_eq!(
        h.get_from(neighbour, "/api/v1/me", Some(&key)).await.status,
        StatusCode::OK
    );
    h.advance(Duration::seconds(20));
    assert_eq!(
        h.get_from(guesser, "/api/v1/me", Some(&key)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn errors_before_a_handler_runs_have_the_api_shape() {
    let h = Harness::start().await;
    let (_, key, _) = register(&h, json!([])).await;
    // A query string axum cannot read: the parameter is named, the value
    // never repeated.
    let reply = h
        .get("/api/v1/alerts?lang=secret-one&lang=secret-two", None)
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "malformed_request", None);
    assert!(!reply.body.to_string().contains("secret"), "{}", reply.body);
    // An unknown route and a wrong method.
    assert_error(
        &h.get("/api/v1/no-such-route", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    assert_error(
        &h.request("PATCH", "/api/v1/me/alerts", Some(&key)).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        None,
    );
    // The body-limit layer's own 413, from the declared length alone.
    let reply = h
        .post_with_length("/api/v1/subscribers", 2 * 1024 * 1024)
        .await;
    assert_error(
        &reply,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    );
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let h = Harness::start().await;
    let mut body = registration(json!([]));
    body["padding"] = Value::String("x".repeat(20 * 1024));
    let reply = h.post("/api/v1/subscribers", None, body).await;
    assert_error(
        &reply,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    );
}

#[tokio::test]
async fn every_documented_resident_and_public_route_is_answered() {
    let h = Harness::start().await;
    let doc = h.get("/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    let mut checked = 0;
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let tags = operation["tags"].to_string();
            if !tags.contains("residents") && !tags.contains("public") {
                continue;
            }
            let concrete = path.replace("{id}", "0");
            let reply = h.request(method, &concrete, None).await;
            assert!(
                reply.status != StatusCode::NOT_FOUND || reply.body["error"]["code"] == "not_found",
                "{method} {path}: {}",
                reply.status
            );
            assert_ne!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked}");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The service built from a configuration file over the demo region's
/// files (written to a temporary directory), with a clock the test moves.
#[tokio::test]
async fn webhooks_to_internal_addresses_are_refused_at_registration() {
    let h = Harness::start().await;
    for url in [
        "http://127.0.0.1:9000/hook",
        "http://[::1]/hook",
        "http://2130706433/hook",
        "http://0.0.0.0/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.20.30.40/hook",
        "http://[::ffff:192.168.0.1]/hook",
        "http://localhost/hook",
    ] {
        let device = json!({"channel": "webhook", "address": url, "secret": "0123456789abcdef"});
        let reply = h
            .post(
                "/api/v1/subscribers",
                None,
                json!({"locale": "en", "devices": [device]}),
            )
            .await;
        assert_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("devices[0].address"),
        );
        let text = reply.body.to_string();
        assert!(text.contains("internal"), "{text}");
        assert!(
            !text.contains("/hook") && !text.contains("meta-data"),
            "the URL is not echoed: {text}"
        );
    }
    let device = json!({"channel": "webhook", "address": "https://hooks.example.org/h", "secret": "0123456789abcdef"});
    let reply = h
        .post(
            "/api/v1/subscribers",
            None,
            json!({"locale": "en", "devices": [device], "places": [{"label": "home", "address": HAIAN_ADDRESS}]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

mod residents_harness {
    use std::sync::Arc;

    use axum::Router;
    use axum::body::Body;
    use axum::http::{HeaderMap, Request, StatusCode};
    use chrono::{DateTime, Duration, Utc};
    use hazardline::run::{self as runtime, ServeOptions};
    use hazardline::serve::AppState;
    use hazardline::serve::config::ServeConfig;
    use ingest::clock::ManualClock;
    use notifier::testing::redis_server::RedisServer;
    use serde_json::Value;
    use store::{InboxEntry, SubscriberId, SubscriberRecord};
    use tokio_util::sync::CancellationToken;
    use tower::ServiceExt;

    pub struct Reply {
        pub status: StatusCode,
        pub headers: HeaderMap,
        pub body: Value,
    }

    pub struct Harness {
        pub state: AppState,
        router: Router,
        clock: Arc<ManualClock>,
        shutdown: CancellationToken,
        _redis: Option<RedisServer>,
        _dir: tempfile::TempDir,
    }

    impl Drop for Harness {
        fn drop(&mut self) {
            self.shutdown.cancel();
        }
    }

    /// 08:05 Taiwan time on the demo day: the first demo message was sent
    /// at 08:00.
    fn demo_morning() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-07-01T08:05:00+08:00")
            .unwrap()
            .to_utc()
    }

    impl Harness {
        pub async fn start() -> Harness {
            Harness::start_with_limits(0, 0).await
        }

        /// `0` turns a limit off.
        pub async fn start_with_limits(
            subscribe_per_minute: u32,
            resident_per_minute: u32,
        ) -> Harness {
            Harness::start_with_key_guesses(subscribe_per_minute, resident_per_minute, 0).await
        }

        /// With a limit on unknown device keys per address (the address is
        /// the request's `X-Forwarded-For`, believed here).
        pub async fn start_with_key_guesses(
            subscribe_per_minute: u32,
            resident_per_minute: u32,
            key_guesses_per_minute: u32,
        ) -> Harness {
            let dir = tempfile::tempdir().unwrap();
            let storage = format!(
                "kind = \"embedded\"\ndir = {:?}",
                dir.path().join("store").display().to_string()
            );
            Harness::build(
                dir,
                &storage,
                [
                    subscribe_per_minute,
                    resident_per_minute,
                    key_guesses_per_minute,
                ],
                None,
            )
            .await
        }

        /// The same over a private Redis (AOF on), if `redis-server` is
        /// installed.
        pub async fn start_on_redis() -> Option<Harness> {
            let dir = tempfile::tempdir().unwrap();
            let redis = RedisServer::start(dir.path())?;
            let storage = format!("kind = \"redis\"\nredis_url = \"{}\"", redis.url());
            Some(Harness::build(dir, &storage, [0, 0, 0], Some(redis)).await)
        }

        async fn build(
            dir: tempfile::TempDir,
            storage: &str,
            [
                subscribe_per_minute,
                resident_per_minute,
                key_guesses_per_minute,
            ]: [u32; 3],
            redis: Option<RedisServer>,
        ) -> Harness {
            let atlas_file = dir.path().join("demo.geodata");
            geodata::demo::atlas().save(&atlas_file).unwrap();
            let shelters = dir.path().join("shelters.csv");
            std::fs::write(&shelters, geodata::demo::SHELTERS_CSV).unwrap();
            let gazetteer = dir.path().join("gazetteer.csv");
            std::fs::write(&gazetteer, geodata::demo::GAZETTEER_CSV).unwrap();
            let config_file = dir.path().join("hazardline.toml");
            let text = format!(
                r#"
[server]
listen = "127.0.0.1:0"
public_url = "http://127.0.0.1"

[storage]
{storage}
data_key = "{key}"

[geodata]
file = {atlas:?}
shelters = {shelters:?}
gazetteer = {gazetteer:?}

[limits]
public_per_minute = 0
subscribe_per_minute = {subscribe_per_minute}
resident_per_minute = {resident_per_minute}
key_guesses_per_minute = {key_guesses_per_minute}
trust_forwarded = true
"#,
                key = "11".repeat(32),
                atlas = atlas_file.display().to_string(),
                shelters = shelters.display().to_string(),
                gazetteer = gazetteer.display().to_string(),
            );
            std::fs::write(&config_file, text).unwrap();
            let config = ServeConfig::load(Some(&config_file), Vec::new()).unwrap();
            let clock = ManualClock::shared(demo_morning());
            let options = ServeOptions {
                clock: Some(clock.clone()),
                ..ServeOptions::default()
            };
            let service = runtime::build(config, &options).await.unwrap();
            let state = service.state.clone();
            let router = hazardline::http::router(state.clone());
            let shutdown = CancellationToken::new();
            let running = shutdown.clone();
            tokio::spawn(async move { service.run(running, None).await });
            Harness {
                state,
                router,
                clock,
                shutdown,
                _redis: redis,
                _dir: dir,
            }
        }

        pub fn advance(&self, by: Duration) {
            self.clock.advance(by);
        }

        pub async fn expire_locations(&self) -> usize {
            self.state.app.subscribers.expire_locations().await
        }

        pub async fn stored(&self, id: &str) -> Option<SubscriberRecord> {
            self.state
                .app
                .storage
                .subscriber(&SubscriberId(id.to_string()))
                .await
                .unwrap()
        }

        pub async fn inbox(&self, id: &str) -> Vec<InboxEntry> {
            self.state
                .app
                .storage
                .inbox(&SubscriberId(id.to_string()), 100)
                .await
                .unwrap()
        }

        pub async fn audit_text(&self) -> String {
            let entries = self.state.app.storage.audit(0, 10_000).await.unwrap();
            serde_json::to_string(&entries).unwrap()
        }

        pub fn village_label_point(&self, code: &str) -> (f64, f64) {
            let point = self
                .state
                .app
                .atlas
                .area(code)
                .unwrap()
                .label_point
                .unwrap();
            (point.x, point.y)
        }

        /// Submits a demo CAP file as an issuing office would (its sender
        /// moved to the issuers' domain).
        pub async fn submit_demo_cap(&self, name: &str) {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("demo/cap")
                .join(name);
            let text = std::fs::read_to_string(path).unwrap();
            let start = text.find("<sender>").unwrap() + "<sender>".len();
            let end = text.find("</sender>").unwrap();
            let sender = format!("demo@{}", self.state.config.issuers.sender_domain);
            let text = format!("{}{}{}", &text[..start], sender, &text[end..]);
            let outcome = ingest::feed::issuer::submit(
                self.state.app.alerts.pipeline(),
                text.as_bytes(),
                self.state.app.alerts.issuer_source(),
                None,
            )
            .await
            .unwrap();
            assert!(
                matches!(
                    outcome,
                    ingest::feed::issuer::SubmitOutcome::Accepted { .. }
                ),
                "{outcome:?}"
            );
        }

        /// My alerts once the engine has told me something (the event loop
        /// runs on its own task); fails after 20 s.
        pub async fn wait_for_alerts(&self, key: &str) -> Vec<Value> {
            for _ in 0..200 {
                let reply = self.get("/api/v1/me/alerts", Some(key)).await;
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                let alerts = reply.body["alerts"].as_array().cloned().unwrap_or_default();
                if !alerts.is_empty() {
                    return alerts;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("no alert reached the subscriber");
        }

        /// A GET whose response body is left to the caller (streams).
        pub async fn open(&self, path: &str) -> axum::response::Response {
            let request = Request::builder().uri(path).body(Body::empty()).unwrap();
            self.router.clone().oneshot(request).await.unwrap()
        }

        pub async fn get(&self, path: &str, key: Option<&str>) -> Reply {
            self.request("GET", path, key).await
        }

        pub async fn delete(&self, path: &str, key: Option<&str>) -> Reply {
            self.request("DELETE", path, key).await
        }

        pub async fn post(&self, path: &str, key: Option<&str>, body: Value) -> Reply {
            self.send(
                "POST",
                path,
                key,
                "application/json",
                body.to_string().into_bytes(),
            )
            .await
        }

        pub async fn put(&self, path: &str, key: Option<&str>, body: Value) -> Reply {
            self.send(
                "PUT",
                path,
                key,
                "application/json",
                body.to_string().into_bytes(),
            )
            .await
        }

        pub async fn patch(&self, path: &str, key: Option<&str>, body: Value) -> Reply {
            self.send(
                "PATCH",
                path,
                key,
                "application/json",
                body.to_string().into_bytes(),
            )
            .await
        }

        pub async fn post_raw(
            &self,
            path: &str,
            key: Option<&str>,
            content_type: &str,
            body: Vec<u8>,
        ) -> Reply {
            self.send("POST", path, key, content_type, body).await
        }

        pub async fn request(&self, method: &str, path: &str, key: Option<&str>) -> Reply {
            self.send(&method.to_uppercase(), path, key, "", Vec::new())
                .await
        }

        /// A POST declaring `length` bytes of body (and sending none).
        pub async fn post_with_length(&self, path: &str, length: usize) -> Reply {
            let request = Request::builder()
                .method("POST")
                .uri(path)
                .header("content-type", "application/json")
                .header("content-length", length)
                .body(Body::empty())
                .unwrap();
            self.reply(self.router.clone().oneshot(request).await.unwrap())
                .await
        }

        /// A GET from client address `from`.
        pub async fn get_from(&self, from: &str, path: &str, key: Option<&str>) -> Reply {
            self.send_from(from, "GET", path, key, "", Vec::new()).await
        }

        async fn send(
            &self,
            method: &str,
            path: &str,
            key: Option<&str>,
            content_type: &str,
            body: Vec<u8>,
        ) -> Reply {
            self.send_from("", method, path, key, content_type, body)
                .await
        }

        async fn send_from(
            &self,
            from: &str,
            method: &str,
            path: &str,
            key: Option<&str>,
            content_type: &str,
            body: Vec<u8>,
        ) -> Reply {
            let mut request = Request::builder().method(method).uri(path);
            if !from.is_empty() {
                request = request.header("x-forwarded-for", from);
            }
            if let Some(key) = key {
                request = request.header("authorization", format!("Bearer {key}"));
            }
            if !content_type.is_empty() {
                request = request.header("content-type", content_type);
            }
            let request = request.body(Body::from(body)).unwrap();
            self.reply(self.router.clone().oneshot(request).await.unwrap())
                .await
        }

        async fn reply(&self, response: axum::response::Response) -> Reply {
            let status = response.status();
            let headers = response.headers().clone();
            let streaming = headers
                .get("content-type")
                .is_some_and(|c| c.as_bytes().starts_with(b"text/event-stream"));
            let body = if streaming {
                Value::Null
            } else {
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .unwrap();
                serde_json::from_slice(&bytes)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
            };
            Reply {
                status,
                headers,
                body,
            }
        }
    }
}
