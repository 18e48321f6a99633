//! Property tests: generated alerts written as CAP XML read back to the
//! same model; arbitrary bytes never panic; geometry text round-trips.

use cap::parse::geometry::{format_circle, format_polygon, parse_circle, parse_polygon};
use cap::parse::time::format_datetime;
use cap::parse::{Limits, parse_document};
use cap::*;
use proptest::prelude::*;

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9@._:-]{1,24}"
}

fn free_text() -> impl Strategy<Value = String> {
    // Trimmed and non-empty (the parser trims free text); includes markup
    // characters and CJK.
    "[a-zA-Z0-9颱風豪雨地震<>&]([a-zA-Z0-9颱風豪雨地震<>&\"' ]{0,30}[a-zA-Z0-9颱風豪雨地震<>&])?"
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (
        0i64..4_000_000_000,
        -12i32..=14,
        prop::sample::select(vec![0, 30, 45]),
    )
        .prop_map(|(secs, hours, minutes)| {
            let sign = if hours < 0 { -1 } else { 1 };
            let offset = chrono::FixedOffset::east_opt(hours * 3600 + sign * minutes * 60).unwrap();
            chrono::DateTime::from_timestamp(secs, 0)
                .unwrap()
                .with_timezone(&offset)
        })
}

fn point() -> impl Strategy<Value = Point> {
    (-90.0f64..=90.0, -180.0f64..=180.0).prop_map(|(lat, lon)| Point {
        lat: (lat * 1e4).round() / 1e4,
        lon: (lon * 1e4).round() / 1e4,
    })
}

fn polygon() -> impl Strategy<Value = Polygon> {
    prop::collection::vec(point(), 3..8).prop_map(|mut points| {
        points.push(points[0]);
        Polygon { points }
    })
}

fn circle() -> impl Strategy<Value = Circle> {
    (point(), 0.0f64..500.0).prop_map(|(center, r)| Circle {
        center,
        radius_km: (r * 1e3).round() / 1e3,
    })
}

fn named_value() -> impl Strategy<Value = NamedValue> {
    (token(), "[0-9A-Za-z-]{0,12}").prop_map(|(value_name, value)| NamedValue { value_name, value })
}

fn area() -> impl Strategy<Value = Area> {
    (
        free_text(),
        prop::collection::vec(polygon(), 0..3),
        prop::collection::vec(circle(), 0..3),
        prop::collection::vec(named_value(), 0..4),
    )
        .prop_map(|(area_desc, polygons, circles, geocodes)| Area {
            area_desc,
            polygons,
            circles,
            geocodes,
            altitude: None,
            ceiling: None,
        })
}

fn info() -> impl Strategy<Value = Info> {
    (
        prop::sample::select(vec!["zh-TW", "en-US", "de-DE"]),
        prop::collection::vec(
            prop::sample::select(vec![Category::Met, Category::Geo, Category::Cbrne]),
            1..3,
        ),
        free_text(),
        prop::sample::select(vec![Urgency::Immediate, Urgency::Past, Urgency::Unknown]),
        prop::sample::select(vec![Severity::Extreme, Severity::Minor, Severity::Unknown]),
        prop::sample::select(vec![Certainty::Observed, Certainty::Possible]),
        prop::option::of(timestamp()),
        prop::collection::vec(named_value(), 0..3),
        prop::option::of(free_text()),
        prop::collection::vec(area(), 0..3),
    )
        .prop_map(
            |(
                language,
                categories,
                event,
                urgency,
                severity,
                certainty,
                expires,
                parameters,
                description,
                areas,
            )| Info {
                language: language.to_owned(),
                categories,
                event,
                response_types: Vec::new(),
                urgency,
                severity,
                certainty,
                audience: None,
                event_codes: Vec::new(),
                effective: None,
                onset: None,
                expires,
                sender_name: None,
                headline: None,
                description,
                instruction: None,
                web: None,
                contact: None,
                parameters,
                resources: Vec::new(),
                areas,
            },
        )
}

fn alert() -> impl Strategy<Value = Alert> {
    (
        token(),
        token(),
        timestamp(),
        prop::sample::select(vec![Status::Actual, Status::Test, Status::Draft]),
        prop::sample::select(vec![MsgType::Alert, MsgType::Update, MsgType::Cancel]),
        prop::collection::vec(info(), 0..3),
    )
        .prop_map(
            |(identifier, sender, sent, status, msg_type, infos)| Alert {
                cap_version: CapVersion::V1_2,
                identifier,
                sender,
                sent,
                status,
                msg_type,
                source: None,
                scope: Scope::Public,
                restriction: None,
                addresses: Vec::new(),
                codes: Vec::new(),
                note: None,
                references: Vec::new(),
                incidents: Vec::new(),
                infos,
            },
        )
}

/// CAP's own spelling of an enum value: its serde name.
fn cap_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

fn to_xml(a: &Alert) -> String {
    let mut x = String::from("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">");
    let el = |x: &mut String, name: &str, text: &str| {
        x.push_str(&format!("<{name}>{}</{name}>", xml_escape(text)));
    };
    let nv = |x: &mut String, name: &str, v: &NamedValue| {
        x.push_str(&format!(
            "<{name}><valueName>{}</valueName><value>{}</value></{name}>",
            xml_escape(&v.value_name),
            xml_escape(&v.value)
        ));
    };
    el(&mut x, "identifier", &a.identifier);
    el(&mut x, "sender", &a.sender);
    el(&mut x, "sent", &format_datetime(&a.sent));
    el(&mut x, "status", &cap_name(&a.status));
    el(&mut x, "msgType", &cap_name(&a.msg_type));
    el(&mut x, "scope", &cap_name(&a.scope));
    for i in &a.infos {
        x.push_str("<info>");
        el(&mut x, "language", &i.language);
        for c in &i.categories {
            el(&mut x, "category", &cap_name(c));
        }
        el(&mut x, "event", &i.event);
        el(&mut x, "urgency", &cap_name(&i.urgency));
        el(&mut x, "severity", &cap_name(&i.severity));
        el(&mut x, "certainty", &cap_name(&i.certainty));
        if let Some(t) = &i.expires {
            el(&mut x, "expires", &format_datetime(t));
        }
        if let Some(d) = &i.description {
            el(&mut x, "description", d);
        }
        for p in &i.parameters {
            nv(&mut x, "parameter", p);
        }
        for area in &i.areas {
            x.push_str("<area>");
            el(&mut x, "areaDesc", &area.area_desc);
            for p in &area.polygons {
                el(&mut x, "polygon", &format_polygon(p));
            }
            for c in &area.circles {
                el(&mut x, "circle", &format_circle(c));
            }
            for g in &area.geocodes {
                nv(&mut x, "geocode", g);
            }
            x.push_str("</area>");
        }
        x.push_str("</info>");
    }
    x.push_str("</alert>");
    x
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_alerts_read_back_to_the_same_model(a in alert()) {
        let xml = to_xml(&a);
        let doc = parse_document(xml.as_bytes(), &Limits::default()).unwrap();
        prop_assert_eq!(doc.messages.len(), 1);
        let m = &doc.messages[0];
        prop_assert!(m.violations.is_empty(), "{:?}\n{}", m.violations, xml);
        prop_assert_eq!(m.alert.as_ref(), Some(&a));
        prop_assert_eq!(m.raw_range.clone(), 0..xml.len());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(doc) = parse_document(&bytes, &Limits::default()) {
            for m in &doc.messages {
                prop_assert_eq!(m.alert.is_some(), m.violations.is_empty());
            }
        }
    }

    #[test]
    fn xml_shaped_noise_never_panics(parts in prop::collection::vec(
        prop::sample::select(vec!["<alert>", "</alert>", "<info>", "</info>", "<area>", "</area>",
            "<polygon>", "</polygon>", "1,2 ", "<sent>", "</sent>", "2024-01-01T00:00:00+08:00",
            "<!--", "-->", "<![CDATA[", "]]>", "&amp;", "&bogus;", "<?x?>", " xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"",
            "<feed>", "<entry>", "<content>", "<link href='x'/>", "\u{feff}", "颱風", ">", "<"]),
        0..40,
    )) {
        let text: String = parts.concat();
        let _ = parse_document(text.as_bytes(), &Limits::default());
    }

    #[test]
    fn polygon_text_round_trips(p in polygon()) {
        prop_assert_eq!(parse_polygon(&format_polygon(&p)).unwrap(), p);
    }

    #[test]
    fn circle_text_round_trips(c in circle()) {
        prop_assert_eq!(parse_circle(&format_circle(&c)).unwrap(), c);
    }
}
