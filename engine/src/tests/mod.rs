//! The engine over the demo region and the demo messages: exactly the
//! right people, in their language, through New → Update → Cancel.

use std::collections::BTreeSet;

use ingest::lifecycle::LifecycleEvent;
use matcher::prefs::{KindSet, Preferences};
use notifier::Locale;
use notifier::notice::Address;

use super::*;

mod told;

fn message(name: &str) -> Alert {
    let path = format!("{}/../demo/cap/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap();
    let document = cap::parse_document(&bytes, &cap::Limits::default()).unwrap();
    document.messages[0].alert.clone().unwrap()
}

/// A person at the centre of a demo village (demo villages are grid cells
/// of 0.05° × 0.1°; see geodata::demo).
fn person(pseudonym: &str, locale: Locale, lon: f64, lat: f64) -> Subscriber {
    Subscriber {
        pseudonym: pseudonym.into(),
        locale,
        addresses: vec![Address::Live],
        places: vec![Place {
            name: format!("{pseudonym}-home"),
            lon,
            lat,
        }],
        preferences: Preferences {
            kinds: KindSet::ALL,
            ..Preferences::default()
        },
        quiet_hours: None,
    }
}

fn engine(people: Vec<Subscriber>) -> Engine {
    Engine::new(
        geodata::demo::atlas(),
        geodata::demo::shelters().unwrap(),
        Directory::new(people),
        "https://demo.invalid/a",
    )
    .unwrap()
}

fn told(outcome: &Outcome) -> BTreeSet<(String, String)> {
    outcome
        .deliveries
        .iter()
        .map(|d| (d.subscriber.0.clone(), d.message.locale.tag().to_string()))
        .collect()
}

fn now() -> DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-07-01T12:00:00+08:00")
        .unwrap()
        .to_utc()
}

// 霧溪鄉 spans lon 123.10–123.20, lat 23.00–23.20; villages from the bottom
// left: 溪口 (-001), 溪頭 (-002), 溪源 (-003), 中興 (-004).
fn people() -> Vec<Subscriber> {
    vec![
        person("xikou", Locale::En, 123.125, 23.05),
        person("xitou", Locale::Vi, 123.175, 23.05),
        person("xiyuan", Locale::ZhTw, 123.125, 23.15),
        person("zhongxing", Locale::Th, 123.175, 23.15),
        person("elsewhere", Locale::Ja, 123.05, 23.05),
    ]
}

#[test]
fn debris_flow_reaches_exactly_its_villages_through_update_and_cancel() {
    let mut engine = engine(people());
    let first = message("01-debris-flow-yellow.xml");
    let new = engine
        .handle(&LifecycleEvent::New(first.clone()), now())
        .unwrap();
    assert_eq!(
        told(&new),
        BTreeSet::from([
            ("xitou".to_string(), "vi".to_string()),
            ("xiyuan".to_string(), "zh-TW".to_string()),
        ])
    );
    assert!(new.deliveries[0].message.full_text().contains("-home"));

    // The update moves the warned area to 溪源 and 中興 and raises it to red.
    let update = message("02-debris-flow-red-update.xml");
    let updated = engine
        .handle(
            &LifecycleEvent::Updated {
                previous: vec![first],
                current: update.clone(),
            },
            now(),
        )
        .unwrap();
    assert_eq!(updated.told.get("alert"), Some(&1), "zhongxing is new");
    assert_eq!(
        updated.told.get("update"),
        Some(&1),
        "xiyuan is still inside"
    );
    assert_eq!(updated.told.get("all_clear"), Some(&1), "xitou has left");
    assert_eq!(
        told(&updated),
        BTreeSet::from([
            ("xitou".to_string(), "vi".to_string()),
            ("xiyuan".to_string(), "zh-TW".to_string()),
            ("zhongxing".to_string(), "th".to_string()),
        ])
    );

    let cancel = message("06-debris-flow-cancel.xml");
    let cancelled = engine
        .handle(
            &LifecycleEvent::Cancelled {
                previous: vec![update],
                cancel,
            },
            now(),
        )
        .unwrap();
    assert_eq!(cancelled.told.get("all_clear"), Some(&2));
    assert_eq!(
        told(&cancelled),
        BTreeSet::from([
            ("xiyuan".to_string(), "zh-TW".to_string()),
            ("zhongxing".to_string(), "th".to_string()),
        ])
    );
    assert_eq!(engine.active_count(), 0);
}

#[test]
fn earthquake_threshold_is_honoured_per_area_intensity() {
    // 霧島縣 feels 5弱, 雲海市 4級 (see the demo message).
    let mut strict_in_wudao = person("strict-wudao", Locale::Ko, 123.125, 23.05);
    strict_in_wudao.preferences.min_intensity = Some(Intensity::I5Lower);
    let mut strict_in_yunhai = person("strict-yunhai", Locale::Ko, 123.025, 23.30);
    strict_in_yunhai.preferences.min_intensity = Some(Intensity::I5Lower);
    let relaxed_in_yunhai = person("relaxed-yunhai", Locale::Id, 123.025, 23.30);
    let mut engine = engine(vec![strict_in_wudao, strict_in_yunhai, relaxed_in_yunhai]);
    let outcome = engine
        .handle(&LifecycleEvent::New(message("03-earthquake.xml")), now())
        .unwrap();
    let names: BTreeSet<String> = told(&outcome).into_iter().map(|(s, _)| s).collect();
    assert_eq!(
        names,
        BTreeSet::from(["strict-wudao".to_string(), "relaxed-yunhai".to_string()])
    );
}

#[test]
fn exercises_reach_only_those_who_opted_in_and_say_so() {
    let opted_out = person("out", Locale::En, 123.225, 23.05);
    let mut opted_in = person("in", Locale::En, 123.225, 23.06);
    opted_in.preferences.exercises = true;
    let mut engine = engine(vec![opted_out, opted_in]);
    let outcome = engine
        .handle(&LifecycleEvent::New(message("05-exercise.xml")), now())
        .unwrap();
    assert!(outcome.exercise);
    assert_eq!(outcome.deliveries.len(), 1);
    let delivery = &outcome.deliveries[0];
    assert_eq!(delivery.subscriber.0, "in");
    assert!(delivery.message.full_title().starts_with("[EXERCISE]"));
}

#[test]
fn an_unknown_area_code_is_an_error_not_silence() {
    let mut alert = message("01-debris-flow-yellow.xml");
    alert.infos[0].areas[0].geocodes[0].value = "9900002-099".into();
    let mut engine = engine(people());
    let error = engine
        .handle(&LifecycleEvent::New(alert), now())
        .unwrap_err();
    assert!(error.to_string().contains("9900002-099"), "{error}");
}

#[test]
fn rainfall_level_comes_from_the_agency_level_or_the_headline() {
    use matcher::prefs::RainfallLevel;
    let mut info = message("01-debris-flow-yellow.xml").infos[0].clone();
    info.parameters.clear();
    info.headline = Some("豪雨特報".into());
    assert_eq!(rainfall_level(&info), Some(RainfallLevel::ExtremelyHeavy));
    info.headline = Some("超大豪雨特報".into());
    assert_eq!(
        rainfall_level(&info),
        Some(RainfallLevel::ExtremelyTorrential)
    );
    info.parameters.push(cap::NamedValue {
        value_name: "severity_level".into(),
        value: "大雨".into(),
    });
    assert_eq!(rainfall_level(&info), Some(RainfallLevel::Heavy));
    info.parameters.clear();
    info.headline = Some("雷雨".into());
    assert_eq!(rainfall_level(&info), None);
}

/// The real CWA rain warnings in the shared data name their level in every
/// `<info>`, so rainfall thresholds apply to them.
#[test]
fn real_rain_warnings_carry_their_level() {
    let dir = std::env::var("HAZARDLINE_SHARED_DATA")
        .unwrap_or_else(|_| format!("{}/../../shared/data", env!("CARGO_MANIFEST_DIR")));
    let path = format!("{dir}/cap/tw-ncdr/fifows_extremely-rain_202404230229.cap");
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("SKIPPED: {path} not found (set HAZARDLINE_SHARED_DATA)");
        return;
    };
    let document = cap::parse_document(&bytes, &cap::Limits::default()).unwrap();
    let alert = document.messages[0].alert.clone().unwrap();
    let levels: Vec<_> = alert.infos.iter().map(rainfall_level).collect();
    assert!(levels.iter().all(Option::is_some), "{levels:?}");
}

/// Agencies give different levels to different areas in separate `<info>`
/// blocks (CWA heat and rain warnings do): each person is told the level of
/// the block that covers them.
#[test]
fn each_person_gets_the_level_of_the_block_covering_them() {
    let mut alert = message("01-debris-flow-yellow.xml");
    let mut red = alert.infos[0].clone();
    for p in &mut red.parameters {
        if p.value_name == "alert_color" {
            p.value = "紅色".into();
        }
    }
    red.areas[0].geocodes = vec![cap::NamedValue {
        value_name: "Taiwan_Geocode_103".into(),
        value: "9900002-004".into(),
    }];
    alert.infos.push(red);
    let mut engine = engine(people());
    let outcome = engine.handle(&LifecycleEvent::New(alert), now()).unwrap();
    let colour_of = |who: &str| {
        outcome
            .deliveries
            .iter()
            .find(|d| d.subscriber.0 == who)
            .map(|d| d.facts.colour)
    };
    assert_eq!(colour_of("xitou"), Some(cap::Colour::Yellow));
    assert_eq!(colour_of("xiyuan"), Some(cap::Colour::Yellow));
    assert_eq!(colour_of("zhongxing"), Some(cap::Colour::Red));
    assert_eq!(colour_of("xikou"), None);
}

#[test]
fn subscribers_added_moved_and_removed_while_running() {
    let mut engine = engine(people());
    // A newcomer in 溪頭 (inside the first alert), then xitou moves out
    // (to 霧溪鄉's outside) and xiyuan leaves.
    engine
        .upsert_subscriber(person("newcomer", Locale::Ko, 123.176, 23.06))
        .unwrap();
    engine
        .upsert_subscriber(person("xitou", Locale::Vi, 123.05, 23.05))
        .unwrap();
    assert!(engine.remove_subscriber("xiyuan"));
    assert!(!engine.remove_subscriber("xiyuan"));
    assert_eq!(engine.subscriber_count(), 5);
    let new = engine
        .handle(
            &LifecycleEvent::New(message("01-debris-flow-yellow.xml")),
            now(),
        )
        .unwrap();
    assert_eq!(
        told(&new),
        BTreeSet::from([("newcomer".to_string(), "ko".to_string())])
    );
    assert_eq!(new.notices.len(), 1);
    assert_eq!(new.notices[0].subscriber, "newcomer");
    assert_eq!(new.notices[0].message.locale, Locale::Ko);
    assert_eq!(new.in_force.as_ref(), Some(&new.alert));
}

#[test]
fn a_person_without_addresses_is_still_told_for_the_app() {
    let mut silent = person("silent", Locale::En, 123.175, 23.05);
    silent.addresses.clear();
    let mut engine = engine(vec![silent]);
    let new = engine
        .handle(
            &LifecycleEvent::New(message("01-debris-flow-yellow.xml")),
            now(),
        )
        .unwrap();
    assert!(new.deliveries.is_empty());
    assert_eq!(new.notices.len(), 1);
    assert!(new.notices[0].message.full_text().contains("silent-home"));
    // The public notice: every language, the alert's own areas, no one's place.
    assert_eq!(new.public.len(), notifier::Locale::ALL.len());
    for notice in &new.public {
        assert_eq!(notice.subscriber.0, PUBLIC_SUBSCRIBER);
        assert_eq!(notice.address, Address::Live);
        assert!(!notice.message.full_text().contains("silent-home"));
    }
    assert!(new.public[0].message.full_text().contains("霧溪鄉"));
}

#[test]
fn alert_ids_are_short_stable_hashes_of_the_key() {
    let key = |identifier: &str| cap::MessageKey {
        sender: "a@b".into(),
        identifier: identifier.into(),
        sent: "2026-07-01T08:00:00+08:00".into(),
    };
    let id = alert_id(&key("ID-1"));
    assert_eq!(id.len(), 16);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(id, alert_id(&key("ID-1")));
    assert_ne!(id, alert_id(&key("ID-2")));
    // A key kept as text (a sent draft, an inbox entry) has the same id.
    assert_eq!(
        id,
        AlertVersion::id_of("a@b,ID-1,2026-07-01T08:00:00+08:00")
    );
}

#[test]
fn the_all_clear_of_an_expiry_is_not_taken_for_the_alert_itself() {
    use notifier::queue::DeliveryKey;
    let mut engine = engine(people());
    let alert = message("01-debris-flow-yellow.xml");
    let new = engine
        .handle(&LifecycleEvent::New(alert.clone()), now())
        .unwrap();
    let expired = engine
        .handle(&LifecycleEvent::Expired(alert), now())
        .unwrap();
    assert_eq!(
        told(&expired),
        told(&new),
        "the same people hear it is over"
    );
    let sent: std::collections::HashSet<DeliveryKey> =
        new.deliveries.iter().map(DeliveryKey::of).collect();
    for delivery in &expired.deliveries {
        assert_eq!(delivery.facts.kind, NoticeKind::AllClear);
        assert!(!sent.contains(&DeliveryKey::of(delivery)));
    }
}

/// A circle whose rim reaches a fraction of a metre into a village: the
/// person there is matched, and the relay lists (and so jurisdiction) and
/// the preview name exactly the villages matching told. An inscribed
/// 64-gon, or one on another Earth radius, falls metres short of that
/// village and would leave it off the chief's list.
#[test]
fn a_circle_grazing_a_village_reaches_it_in_matching_relay_and_preview() {
    use geo::BoundingRect;

    let atlas = geodata::demo::atlas();
    // A village with a neighbour to the east (demo villages are grid
    // cells): the circle is centred in the neighbour, its rim just past
    // the shared edge.
    let (grazed, east) = atlas
        .villages()
        .iter()
        .find_map(|v| {
            let rect = v.geometry.bounding_rect()?;
            let y = (rect.min().y + rect.max().y) / 2.0;
            let centre = (rect.max().x + 0.02, y);
            let neighbour = atlas.locate(centre.0, centre.1)?;
            (neighbour.village_code() != v.code).then(|| (v, (rect.max().x, centre)))
        })
        .expect("a village with an eastern neighbour");
    let (edge_x, (centre_lon, centre_lat)) = east;
    // Haversine distance along the parallel to the shared edge.
    let to_edge = 2.0
        * matcher::circle::EARTH_RADIUS_KM
        * (centre_lat.to_radians().cos() * ((edge_x - centre_lon).to_radians().abs() / 2.0).sin())
            .asin();
    // About 0.3 m past the edge.
    let radius_km = to_edge * (1.0 + 1e-4);
    let rim = (edge_x - 1e-6, centre_lat);
    let circle = matcher::circle::PreparedCircle::new(centre_lon, centre_lat, radius_km);
    assert!(circle.covers(rim.0, rim.1), "the rim point is inside");
    assert_eq!(
        atlas
            .locate(rim.0, rim.1)
            .map(|l| l.village_code().to_owned()),
        Some(grazed.code.clone())
    );

    let xml = format!(
        r#"<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>rim-1</identifier><sender>a@b.invalid</sender><sent>2026-07-01T12:00:00+08:00</sent>
<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><language>zh-TW</language><category>Geo</category><event>淹水</event><urgency>Immediate</urgency>
<severity>Severe</severity><certainty>Likely</certainty><expires>2026-07-02T12:00:00+08:00</expires>
<headline>淹水警戒</headline>
<area><areaDesc>圓</areaDesc><circle>{centre_lat},{centre_lon} {radius_km}</circle></area></info></alert>"#
    );
    let document = cap::parse_document(xml.as_bytes(), &cap::Limits::default()).unwrap();
    let alert = document.messages[0].alert.clone().expect("a valid alert");

    let mut engine = engine(vec![
        person("at-the-rim", Locale::ZhTw, rim.0, rim.1),
        person("at-the-centre", Locale::ZhTw, centre_lon, centre_lat),
    ]);
    let relay = relay::villages_covered(&atlas, &alert).unwrap();
    let preview = engine.preview(&alert).unwrap();
    let outcome = engine
        .handle(&LifecycleEvent::New(alert.clone()), now())
        .unwrap();
    let matched: BTreeSet<String> = told(&outcome)
        .into_iter()
        .filter_map(|(pseudonym, _)| {
            let (lon, lat) = if pseudonym == "at-the-rim" {
                rim
            } else {
                (centre_lon, centre_lat)
            };
            atlas.locate(lon, lat).map(|l| l.village_code().to_owned())
        })
        .collect();
    assert!(matched.contains(&grazed.code), "{matched:?}");
    assert_eq!(matched.len(), 2, "{matched:?}");
    assert_eq!(relay, matched);
    assert_eq!(
        preview.villages.keys().cloned().collect::<BTreeSet<_>>(),
        matched
    );
}
