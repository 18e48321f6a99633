//! Writing CAP: every word of every table, a full alert, and every valid
//! message of the shared CAP set are written with `cap::write` and read
//! back with the parser, and must come back equal.

use std::path::{Path, PathBuf};

use cap::parse::{Limits, parse_document};
use cap::*;

fn read_back(xml: &str) -> Alert {
    let doc = parse_document(xml.as_bytes(), &Limits::default())
        .unwrap_or_else(|e| panic!("written document refused: {e}\n{xml}"));
    assert_eq!(doc.messages.len(), 1, "{xml}");
    let message = &doc.messages[0];
    assert!(
        message.violations.is_empty(),
        "written message invalid: {:?}\n{xml}",
        message.violations
    );
    assert!(
        message.warnings.is_empty(),
        "written message read with warnings: {:?}\n{xml}",
        message.warnings
    );
    message.alert.clone().expect("valid message has an alert")
}

fn time(text: &str) -> Timestamp {
    chrono::DateTime::parse_from_rfc3339(text).expect("test time")
}

fn pair(name: &str, value: &str) -> NamedValue {
    NamedValue {
        value_name: name.to_owned(),
        value: value.to_owned(),
    }
}

fn point(lat: f64, lon: f64) -> Point {
    Point { lat, lon }
}

fn minimal_info() -> Info {
    Info {
        language: "zh-TW".to_owned(),
        categories: vec![Category::Met],
        event: "大雨".to_owned(),
        response_types: Vec::new(),
        urgency: Urgency::Expected,
        severity: Severity::Moderate,
        certainty: Certainty::Likely,
        audience: None,
        event_codes: Vec::new(),
        effective: None,
        onset: None,
        expires: None,
        sender_name: None,
        headline: None,
        description: None,
        instruction: None,
        web: None,
        contact: None,
        parameters: Vec::new(),
        resources: Vec::new(),
        areas: vec![Area {
            area_desc: "臺北市".to_owned(),
            polygons: Vec::new(),
            circles: Vec::new(),
            geocodes: vec![pair("Taiwan_Geocode_112", "63000000")],
            altitude: None,
            ceiling: None,
        }],
    }
}

fn minimal_alert() -> Alert {
    Alert {
        cap_version: CapVersion::V1_2,
        identifier: "HZL-1".to_owned(),
        sender: "office@example.invalid".to_owned(),
        sent: time("2026-11-22T10:00:00+08:00"),
        status: Status::Actual,
        msg_type: MsgType::Alert,
        source: None,
        scope: Scope::Public,
        restriction: None,
        addresses: Vec::new(),
        codes: Vec::new(),
        note: None,
        references: Vec::new(),
        incidents: Vec::new(),
        infos: vec![minimal_info()],
    }
}

fn round_trip(alert: &Alert) {
    let xml = write_alert(alert);
    assert_eq!(&read_back(&xml), alert, "{xml}");
}

/// Each table word is the value's word, reads as the value, is the name
/// the model serializes the value under, and survives the parser.
fn words_agree<T: CapWord + std::fmt::Debug + serde::Serialize>(every_value: &[T]) {
    assert_eq!(T::WORDS.len(), every_value.len(), "one word per value");
    for value in every_value {
        let (word, _) = T::WORDS
            .iter()
            .find(|(_, v)| v == value)
            .unwrap_or_else(|| panic!("{value:?} has no word"));
        assert_eq!(value.word(), *word);
        assert_eq!(T::from_word(word), Some(*value));
        assert_eq!(serde_json::to_value(value).unwrap(), *word);
    }
}

#[test]
fn every_value_has_one_word_that_reads_back() {
    use Category::*;
    words_agree(&[
        Status::Actual,
        Status::Exercise,
        Status::System,
        Status::Test,
        Status::Draft,
    ]);
    words_agree(&[
        MsgType::Alert,
        MsgType::Update,
        MsgType::Cancel,
        MsgType::Ack,
        MsgType::Error,
    ]);
    words_agree(&[Scope::Public, Scope::Restricted, Scope::Private]);
    words_agree(&[
        Geo, Met, Safety, Security, Rescue, Fire, Health, Env, Transport, Infra, Cbrne, Other,
    ]);
    words_agree(&[
        ResponseType::Shelter,
        ResponseType::Evacuate,
        ResponseType::Prepare,
        ResponseType::Execute,
        ResponseType::Avoid,
        ResponseType::Monitor,
        ResponseType::Assess,
        ResponseType::AllClear,
        ResponseType::None,
    ]);
    words_agree(&[
        Urgency::Immediate,
        Urgency::Expected,
        Urgency::Future,
        Urgency::Past,
        Urgency::Unknown,
    ]);
    words_agree(&[
        Severity::Extreme,
        Severity::Severe,
        Severity::Moderate,
        Severity::Minor,
        Severity::Unknown,
    ]);
    words_agree(&[
        Certainty::Observed,
        Certainty::Likely,
        Certainty::Possible,
        Certainty::Unlikely,
        Certainty::Unknown,
    ]);
    assert_eq!(
        CapVersion::V1_2.word(),
        "urn:oasis:names:tc:emergency:cap:1.2"
    );
}

#[test]
fn every_word_of_every_table_is_written_and_read_back() {
    for (_, status) in Status::WORDS {
        round_trip(&Alert {
            status: *status,
            ..minimal_alert()
        });
    }
    for (_, msg_type) in MsgType::WORDS {
        let earlier = minimal_alert();
        round_trip(&Alert {
            msg_type: *msg_type,
            references: vec![Reference {
                sender: earlier.sender.clone(),
                identifier: "HZL-0".to_owned(),
                sent_raw: "2026-11-22T09:00:00+08:00".to_owned(),
                sent: Some(time("2026-11-22T09:00:00+08:00")),
            }],
            ..earlier
        });
    }
    for (_, scope) in Scope::WORDS {
        round_trip(&Alert {
            scope: *scope,
            restriction: Some("staff only".to_owned()),
            addresses: vec!["ops@example.invalid".to_owned()],
            ..minimal_alert()
        });
    }
    for (_, urgency) in Urgency::WORDS {
        for (_, severity) in Severity::WORDS {
            for (_, certainty) in Certainty::WORDS {
                let mut alert = minimal_alert();
                let info = &mut alert.infos[0];
                (info.urgency, info.severity, info.certainty) = (*urgency, *severity, *certainty);
                round_trip(&alert);
            }
        }
    }
    let mut alert = minimal_alert();
    alert.infos[0].categories = Category::WORDS.iter().map(|(_, c)| *c).collect();
    alert.infos[0].response_types = ResponseType::WORDS.iter().map(|(_, r)| *r).collect();
    round_trip(&alert);
}

#[test]
fn a_full_alert_is_written_and_read_back_equal() {
    let mut zh = minimal_info();
    zh.categories = vec![Category::Geo, Category::Safety];
    zh.event = "土石流 <紅色> & \"警戒\"".to_owned();
    zh.response_types = vec![ResponseType::Evacuate, ResponseType::Avoid];
    zh.urgency = Urgency::Immediate;
    zh.severity = Severity::Severe;
    zh.certainty = Certainty::Observed;
    zh.audience = Some("居民 & 遊客".to_owned());
    zh.event_codes = vec![pair("profile:CAP-TWP:Event:1.0", "debrisFlow")];
    zh.effective = Some(time("2026-11-22T10:00:00+08:00"));
    zh.onset = Some(time("2026-11-22T10:30:00+08:00"));
    zh.expires = Some(time("2026-11-22T04:00:00-05:30"));
    zh.sender_name = Some("霧島縣災害應變中心".to_owned());
    zh.headline = Some("[演習] 土石流紅色警戒 <立即撤離>".to_owned());
    zh.description = Some("第一行 'quoted' & <b>not markup</b>\n第二行\r\n第三行".to_owned());
    zh.instruction = Some("Leave the valley <now> & go uphill; 立即撤離".to_owned());
    zh.web = Some("https://example.invalid/alerts?id=1&lang=zh-TW".to_owned());
    zh.contact = Some("1999 (24h)".to_owned());
    zh.parameters = vec![
        pair("alert_color", "紅色"),
        pair("note", ""),
        pair("LocalMaxIntensity", "4級;臺北市"),
    ];
    zh.resources = vec![Resource {
        resource_desc: "地圖 map".to_owned(),
        mime_type: Some("image/png".to_owned()),
        size: Some(12_345),
        uri: Some("https://example.invalid/map.png?a=1&b=2".to_owned()),
        deref_uri: Some("aGVsbG8=".to_owned()),
        digest: Some("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed".to_owned()),
    }];
    zh.areas = vec![
        Area {
            area_desc: "新北市烏來區 & 三峽區".to_owned(),
            polygons: vec![Polygon {
                points: vec![
                    point(24.86, 121.55),
                    point(24.8612345678901, 121.6),
                    point(24.9, 121.6),
                    point(-0.000001, 121.55),
                    point(24.86, 121.55),
                ],
            }],
            circles: vec![
                Circle {
                    center: point(24.87, 121.56),
                    radius_km: 2.5,
                },
                Circle {
                    center: point(-33.9, -151.2),
                    radius_km: 0.0,
                },
            ],
            geocodes: vec![
                pair("Taiwan_Geocode_112", "65000100"),
                pair("Taiwan_Geocode_103", "09020"),
                pair("UGC", "<&>"),
            ],
            altitude: Some(100.5),
            ceiling: Some(1.0e4),
        },
        Area {
            area_desc: "全區".to_owned(),
            polygons: Vec::new(),
            circles: Vec::new(),
            geocodes: vec![pair("Taiwan_Geocode_112", "65000000")],
            altitude: None,
            ceiling: None,
        },
    ];
    let mut en = zh.clone();
    en.language = "en-US".to_owned();
    en.headline = Some("Debris flow \"red\" warning".to_owned());
    en.resources = Vec::new();

    let alert = Alert {
        cap_version: CapVersion::V1_2,
        identifier: "HZL-20261122100000-ab12".to_owned(),
        sender: "wudao@issuers.example.invalid".to_owned(),
        sent: time("2026-11-22T10:00:00+08:00"),
        status: Status::Exercise,
        msg_type: MsgType::Update,
        source: Some("霧島 & 山區".to_owned()),
        scope: Scope::Private,
        restriction: None,
        addresses: vec![
            "ops@example.invalid".to_owned(),
            "county office".to_owned(),
            "消防局".to_owned(),
        ],
        codes: vec!["profile:CAP-TWP:1.0".to_owned(), "IPAWSv1.0".to_owned()],
        note: Some("EXERCISE 演習 — not a real alert <test>".to_owned()),
        references: vec![
            Reference {
                sender: "wudao@issuers.example.invalid".to_owned(),
                identifier: "HZL-20261122090000-cd34".to_owned(),
                sent_raw: "2026-11-22T09:00:00+08:00".to_owned(),
                sent: Some(time("2026-11-22T09:00:00+08:00")),
            },
            Reference {
                sender: "cwa@example.invalid".to_owned(),
                identifier: "CWA-1".to_owned(),
                sent_raw: "2026-11-21T23:59:59-00:00".to_owned(),
                sent: Some(time("2026-11-21T23:59:59+00:00")),
            },
        ],
        incidents: vec!["typhoon-2026-27".to_owned(), "颱風 康芮".to_owned()],
        infos: vec![zh, en],
    };
    let xml = write_alert(&alert);
    assert!(xml.contains("&lt;紅色&gt; &amp; &quot;警戒&quot;"), "{xml}");
    assert!(
        xml.contains("<addresses>ops@example.invalid &quot;county office&quot; 消防局</addresses>")
    );
    assert_eq!(read_back(&xml), alert, "{xml}");
}

#[test]
fn older_versions_are_written_in_their_own_form() {
    for version in [CapVersion::V1_1, CapVersion::V1_0] {
        let mut alert = minimal_alert();
        alert.cap_version = version;
        alert.infos[0].parameters = vec![pair("alert_color", "yellow")];
        let xml = write_alert(&alert);
        assert!(xml.contains(version.word()), "{xml}");
        assert_eq!(read_back(&xml), alert, "{xml}");
    }
    let xml = write_alert(&Alert {
        cap_version: CapVersion::V1_0,
        ..minimal_alert()
    });
    assert!(xml.contains("<geocode>Taiwan_Geocode_112=63000000</geocode>"));
}

#[test]
fn control_characters_xml_cannot_carry_are_dropped() {
    let mut alert = minimal_alert();
    alert.note = Some("bell\u{7} here".to_owned());
    let read = read_back(&write_alert(&alert));
    assert_eq!(read.note.as_deref(), Some("bell here"));
}

fn cap_dir() -> Option<PathBuf> {
    let base = std::env::var_os("HAZARDLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    let dir = base.join("cap");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "shared CAP data not found at {}; round trip not checked",
            dir.display()
        );
        None
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read data dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_valid_shared_message_is_written_and_read_back_equal() {
    let Some(dir) = cap_dir() else { return };
    let mut written = 0;
    for path in files_under(&dir) {
        let bytes = std::fs::read(&path).expect("read CAP file");
        let Ok(doc) = parse_document(&bytes, &Limits::default()) else {
            continue;
        };
        for alert in doc.messages.iter().filter_map(|m| m.alert.as_ref()) {
            let xml = write_alert(alert);
            let doc = parse_document(xml.as_bytes(), &Limits::default())
                .unwrap_or_else(|e| panic!("{}: written document refused: {e}", path.display()));
            let again = doc.messages.first().and_then(|m| m.alert.as_ref());
            assert_eq!(
                again,
                Some(alert),
                "{}: {:?}\n{xml}",
                path.display(),
                doc.messages.first().map(|m| &m.violations)
            );
            written += 1;
        }
    }
    // The Taiwan set alone holds 65 valid messages.
    assert!(written >= 65, "only {written} messages written");
}

/// A message's identity is written in one place: the key of a parsed
/// message names `sent` in CAP 1.2's form (whatever spelling the agency
/// used), and the reference an Update writes names the same message.
#[test]
fn the_key_and_the_reference_of_a_message_agree() {
    let xml = |sent: &str| {
        format!(
            r#"<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>ID-1</identifier><sender>a@b</sender><sent>{sent}</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope></alert>"#
        )
    };
    for sent in [
        "2026-07-01T00:00:00+00:00",
        "2026-07-01T00:00:00Z",
        "2026-07-01T00:00:00.250Z",
    ] {
        let alert = cap::parse_document(xml(sent).as_bytes(), &cap::Limits::default())
            .expect("parses")
            .messages
            .remove(0)
            .alert
            .expect("valid");
        let key = cap::MessageKey::of(&alert);
        assert_eq!(
            key.to_string(),
            "a@b,ID-1,2026-07-01T00:00:00+00:00",
            "{sent}"
        );
        let reference = cap::Reference::to(&alert);
        assert_eq!(reference.to_string(), key.to_string());
        assert_eq!(reference.sent, Some(alert.sent));
    }
}
