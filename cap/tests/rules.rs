//! One case per CAP rule, on small messages written for these tests: the
//! valid base message is bent in exactly one way, and the verdict must name
//! that rule at that element path.

use cap::hazard::{HazardKind, classify};
use cap::parse::{DocumentError, DocumentFormat, Limits, ParsedMessage, parse_document, rules};
use cap::{Colour, MsgType, Status};

const NS12: &str = "urn:oasis:names:tc:emergency:cap:1.2";

/// A valid CAP 1.2 message; `alert_extra` goes after <scope>, `info_extra`
/// after <certainty>, `area_extra` after <areaDesc>.
fn message(alert_extra: &str, info_extra: &str, area_extra: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="{NS12}">
  <identifier>HL-TEST-0001</identifier>
  <sender>ops@example.org</sender>
  <sent>2025-07-01T08:00:00+08:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>{alert_extra}
  <info>
    <language>zh-TW</language>
    <category>Met</category>
    <event>豪雨</event>
    <urgency>Expected</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>{info_extra}
    <area>
      <areaDesc>試驗區</areaDesc>{area_extra}
    </area>
  </info>
</alert>"#
    )
}

fn parse_one(xml: &str) -> ParsedMessage {
    let doc = parse_document(xml.as_bytes(), &Limits::default()).expect("document parses");
    assert_eq!(doc.messages.len(), 1);
    doc.messages.into_iter().next().unwrap()
}

/// Asserts the message breaks exactly `rule` (possibly several times),
/// the first time at `path`.
fn assert_violation(xml: &str, rule: &str, path: &str) {
    let m = parse_one(xml);
    assert!(m.alert.is_none(), "alert must be None when invalid");
    assert!(!m.violations.is_empty(), "expected {rule} at {path}");
    assert!(
        m.violations.iter().all(|v| v.rule == rule),
        "only {rule} expected: {:?}",
        m.violations
    );
    assert_eq!(m.violations[0].path, path, "{:?}", m.violations);
}

#[test]
fn the_base_message_is_valid() {
    let m = parse_one(&message("", "", ""));
    assert!(m.violations.is_empty(), "{:?}", m.violations);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    let alert = m.alert.unwrap();
    assert_eq!(alert.status, Status::Actual);
    assert_eq!(alert.msg_type, MsgType::Alert);
    assert_eq!(alert.infos[0].areas[0].area_desc, "試驗區");
    assert_eq!(m.summary.identifier.as_deref(), Some("HL-TEST-0001"));
}

#[test]
fn each_missing_required_alert_element_is_reported_at_its_path() {
    for name in ["identifier", "sender", "sent", "status", "msgType", "scope"] {
        let base = message("", "", "");
        let start = base.find(&format!("<{name}>")).unwrap();
        let end = base.find(&format!("</{name}>")).unwrap() + name.len() + 3;
        let xml = format!("{}{}", &base[..start], &base[end..]);
        assert_violation(&xml, rules::REQUIRED, &format!("/alert/{name}"));
    }
}

#[test]
fn each_missing_required_info_element_is_reported_at_its_path() {
    for name in ["category", "event", "urgency", "severity", "certainty"] {
        let base = message("", "", "");
        let start = base.find(&format!("<{name}>")).unwrap();
        let end = base.find(&format!("</{name}>")).unwrap() + name.len() + 3;
        let xml = format!("{}{}", &base[..start], &base[end..]);
        assert_violation(&xml, rules::REQUIRED, &format!("/alert/info[0]/{name}"));
    }
    let no_desc = message("", "", "").replace("<areaDesc>試驗區</areaDesc>", "");
    assert_violation(&no_desc, rules::REQUIRED, "/alert/info[0]/area[0]/areaDesc");
}

#[test]
fn every_violation_is_reported_not_only_the_first() {
    let xml = message(
        "",
        "",
        "<polygon>1,1 2,2 1,1</polygon><circle>95,0 1</circle>",
    )
    .replace("<status>Actual</status>", "<status>Real</status>")
    .replace(
        "<sent>2025-07-01T08:00:00+08:00</sent>",
        "<sent>2025-07-01T08:00:00</sent>",
    );
    let m = parse_one(&xml);
    let got: Vec<(&str, &str)> = m
        .violations
        .iter()
        .map(|v| (v.path.as_str(), v.rule.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("/alert/sent", rules::DATETIME),
            ("/alert/status", rules::ENUM),
            ("/alert/info[0]/area[0]/polygon[0]", rules::POLYGON_POINTS),
            ("/alert/info[0]/area[0]/circle[0]", rules::COORDINATE_RANGE),
        ]
    );
    assert_eq!(m.summary.sent.as_deref(), Some("2025-07-01T08:00:00"));
    assert_eq!(m.summary.status.as_deref(), Some("Real"));
}

#[test]
fn enumerations() {
    let cases = [
        (
            "<msgType>Alert</msgType>",
            "<msgType>Notice</msgType>",
            "/alert/msgType",
        ),
        (
            "<scope>Public</scope>",
            "<scope>Everyone</scope>",
            "/alert/scope",
        ),
        (
            "<category>Met</category>",
            "<category>Weather</category>",
            "/alert/info[0]/category[0]",
        ),
        (
            "<urgency>Expected</urgency>",
            "<urgency>Soon</urgency>",
            "/alert/info[0]/urgency",
        ),
        (
            "<severity>Severe</severity>",
            "<severity>High</severity>",
            "/alert/info[0]/severity",
        ),
        (
            "<certainty>Likely</certainty>",
            "<certainty>Very Likely</certainty>",
            "/alert/info[0]/certainty",
        ),
    ];
    for (from, to, path) in cases {
        assert_violation(&message("", "", "").replace(from, to), rules::ENUM, path);
    }
    // Case aside, the meaning is plain: accepted with a warning.
    let m = parse_one(
        &message("", "", "").replace("<status>Actual</status>", "<status>actual</status>"),
    );
    assert_eq!(m.alert.unwrap().status, Status::Actual);
    assert_eq!(m.warnings.len(), 1);
}

#[test]
fn response_types_avoid_and_allclear_are_cap_1_2_only() {
    let xml = message("", "<responseType>AllClear</responseType>", "");
    assert!(parse_one(&xml).alert.is_some());
    let v11 = xml.replace(NS12, "urn:oasis:names:tc:emergency:cap:1.1");
    assert_violation(&v11, rules::ENUM, "/alert/info[0]/responseType[0]");
}

#[test]
fn geometry_rules_name_the_element() {
    let area = |extra: &str| message("", "", extra);
    assert_violation(
        &area("<polygon>22,120 23,120 23,121 22,121</polygon>"),
        rules::POLYGON_CLOSED,
        "/alert/info[0]/area[0]/polygon[0]",
    );
    assert_violation(
        &area("<polygon>22,120 23,120 23,121 22,120</polygon><polygon>22 120 23 120</polygon>"),
        rules::POLYGON_SYNTAX,
        "/alert/info[0]/area[0]/polygon[1]",
    );
    assert_violation(
        &area("<circle>22,120</circle>"),
        rules::CIRCLE_SYNTAX,
        "/alert/info[0]/area[0]/circle[0]",
    );
    assert_violation(
        &area("<polygon>22,190 23,120 23,121 22,190</polygon>"),
        rules::COORDINATE_RANGE,
        "/alert/info[0]/area[0]/polygon[0]",
    );
    let ok = parse_one(&area(
        "<polygon>22,120 23,120 23,121 22,120</polygon><circle>23.768,121.538 0.000</circle>",
    ));
    let a = &ok.alert.unwrap().infos[0].areas[0];
    assert_eq!(a.polygons[0].points.len(), 4);
    assert_eq!(a.polygons[0].points[1].lat, 23.0);
    assert_eq!(a.circles[0].center.lon, 121.538);
}

#[test]
fn datetimes_need_a_zone() {
    assert_violation(
        &message("", "<expires>2025-07-01T20:00:00</expires>", ""),
        rules::DATETIME,
        "/alert/info[0]/expires",
    );
    let zulu = parse_one(&message("", "<expires>2025-07-01T12:00:00Z</expires>", ""));
    assert!(zulu.alert.is_some());
    assert!(
        zulu.warnings[0].contains("/alert/info[0]/expires"),
        "{:?}",
        zulu.warnings
    );
}

#[test]
fn references_are_triplets() {
    let good = message(
        "<references>ops@example.org,HL-1,2025-07-01T07:00:00+08:00 ops@example.org,HL-2,2025-07-01T07:30:00+08:00</references>",
        "",
        "",
    )
    .replace("<msgType>Alert</msgType>", "<msgType>Update</msgType>");
    let alert = parse_one(&good).alert.unwrap();
    assert_eq!(alert.references.len(), 2);
    assert_eq!(alert.references[1].identifier, "HL-2");
    assert_eq!(alert.references[1].sent_raw, "2025-07-01T07:30:00+08:00");
    assert!(alert.references[1].sent.is_some());
    assert_violation(
        &message("<references>ops@example.org,HL-1</references>", "", ""),
        rules::REFERENCES,
        "/alert/references",
    );
}

#[test]
fn identifier_characters_cardinality_and_unknown_elements() {
    assert_violation(
        &message("", "", "").replace("HL-TEST-0001", "HL TEST,0001"),
        rules::IDENTIFIER_CHARS,
        "/alert/identifier",
    );
    assert_violation(
        &message("<note>a</note><note>b</note>", "", ""),
        rules::CARDINALITY,
        "/alert/note",
    );
    assert_violation(
        &message("<colour>red</colour>", "", ""),
        rules::UNKNOWN_ELEMENT,
        "/alert/colour",
    );
    assert_violation(
        &message("", "", "<altitude>high</altitude>"),
        rules::NUMBER,
        "/alert/info[0]/area[0]/altitude",
    );
    assert_violation(
        &message("", "", "<ceiling>100</ceiling>"),
        rules::CONDITIONAL,
        "/alert/info[0]/area[0]/ceiling",
    );
    assert_violation(
        &message("", "", "").replace("<scope>Public</scope>", "<scope>Private</scope>"),
        rules::CONDITIONAL,
        "/alert/addresses",
    );
    assert_violation(
        &message("", "", "").replace("<language>zh-TW</language>", "<language>zh_TW</language>"),
        rules::LANGUAGE,
        "/alert/info[0]/language",
    );
    assert_violation(
        &message(
            "",
            "<resource><resourceDesc>map</resourceDesc></resource>",
            "",
        ),
        rules::REQUIRED,
        "/alert/info[0]/resource[0]/mimeType",
    );
}

#[test]
fn a_wrong_namespace_is_a_violation_and_prefixes_are_fine() {
    let wrong = message("", "", "").replace(NS12, "urn:oasis:names:tc:emergency:alerts:1.2");
    assert_violation(&wrong, rules::NAMESPACE, "/alert");

    let prefixed = r#"<c:alert xmlns:c="urn:oasis:names:tc:emergency:cap:1.1"><c:identifier>p</c:identifier>
      <c:sender>s</c:sender><c:sent>2025-01-01T00:00:00-00:00</c:sent><c:status>Test</c:status>
      <c:msgType>Alert</c:msgType><c:scope>Public</c:scope></c:alert>"#;
    let m = parse_one(prefixed);
    let alert = m.alert.expect("prefixed CAP 1.1 is valid");
    assert_eq!(alert.cap_version, cap::CapVersion::V1_1);
    assert!(classify(&alert).exercise);
}

#[test]
fn cap_1_0_reads_name_value_pairs_and_very_likely() {
    let xml = r#"<alert xmlns="http://www.incident.com/cap/1.0"><identifier>a</identifier><sender>b</sender>
      <sent>2003-06-11T20:56:00-07:00</sent><status>Actual</status><msgType>Alert</msgType>
      <info><event>Earthquake</event><urgency>Past</urgency><severity>Minor</severity>
      <certainty>Very Likely</certainty><eventCode>SAME=EQW</eventCode><parameter>Magnitude=3.4 Ml</parameter>
      <area><areaDesc>d</areaDesc><geocode>FIPS6=006037</geocode></area></info></alert>"#;
    let alert = parse_one(xml).alert.expect("valid CAP 1.0");
    let info = &alert.infos[0];
    assert_eq!(info.parameters[0].value_name, "Magnitude");
    assert_eq!(info.parameters[0].value, "3.4 Ml");
    assert_eq!(info.areas[0].geocodes[0].value, "006037");
    assert_eq!(classify(&alert).hazard, HazardKind::Earthquake);
}

#[test]
fn leniencies_are_warnings() {
    let base = message("", "<description><p>請<b>注意</b></p></description>", "");
    let bytes = [
        b"\xEF\xBB\xBF".as_slice(),
        base.replace('\n', "\r\n").as_bytes(),
    ]
    .concat();
    let doc = parse_document(&bytes, &Limits::default()).unwrap();
    let m = &doc.messages[0];
    let alert = m
        .alert
        .as_ref()
        .expect("valid despite BOM, CRLF and markup");
    assert_eq!(alert.infos[0].description.as_deref(), Some("請注意"));
    assert_eq!(doc.warnings.len(), 1, "BOM: {:?}", doc.warnings);
    assert!(
        m.warnings.iter().any(|w| w.contains("markup")),
        "{:?}",
        m.warnings
    );

    let spaced = message("", "", "").replace(
        "<sender>ops@example.org</sender>",
        "<sender>  ops@example.org\n</sender>",
    );
    let m = parse_one(&spaced);
    assert_eq!(m.alert.unwrap().sender, "ops@example.org");
    assert_eq!(m.warnings.len(), 1);
}

#[test]
fn named_values_outside_the_plain_shape_are_still_checked() {
    let spaced = parse_one(&message(
        "",
        "",
        "<geocode><valueName> Taiwan_Geocode_103 </valueName><value> 10015 </value></geocode>",
    ));
    let g = &spaced.alert.unwrap().infos[0].areas[0].geocodes[0];
    assert_eq!(
        (g.value_name.as_str(), g.value.as_str()),
        ("Taiwan_Geocode_103", "10015")
    );
    assert_eq!(spaced.warnings.len(), 1, "{:?}", spaced.warnings);
    assert_violation(
        &message(
            "",
            "<parameter><valueName>alert_color</valueName></parameter>",
            "",
        ),
        rules::REQUIRED,
        "/alert/info[0]/parameter[0]/value",
    );
    assert_violation(
        &message(
            "",
            "<eventCode><value>x</value><valueName>y</valueName><note/></eventCode>",
            "",
        ),
        rules::UNKNOWN_ELEMENT,
        "/alert/info[0]/eventCode[0]/note",
    );
    let empty_value = parse_one(&message(
        "",
        "<parameter><valueName>n</valueName><value/></parameter>",
        "",
    ));
    assert_eq!(empty_value.alert.unwrap().infos[0].parameters[0].value, "");
}

#[test]
fn geocodes_are_kept_verbatim() {
    let m = parse_one(&message(
        "",
        "",
        "<geocode><valueName>Taiwan_Geocode_103</valueName><value>09020</value></geocode>\
         <geocode><valueName>Taiwan_Geocode_103</valueName><value>1000211-007</value></geocode>",
    ));
    let area = &m.alert.unwrap().infos[0].areas[0];
    let values: Vec<&str> = area.geocodes.iter().map(|g| g.value.as_str()).collect();
    assert_eq!(values, ["09020", "1000211-007"]);
    assert_eq!(m.summary.geocodes, 2);
}

#[test]
fn envelopes_yield_their_alerts_and_links() {
    let inner = message("", "", "");
    let inner = inner.trim_start_matches(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let atom = format!(
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><content type="text/xml">{inner}</content></entry>
        <entry><link rel="alternate" type="text/html" href="https://example.org/page"/>
        <link rel="related" type="application/cap+xml" href="https://example.org/a.cap"/></entry></feed>"#
    );
    let doc = parse_document(atom.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(doc.format, DocumentFormat::Atom);
    assert_eq!(doc.messages.len(), 1);
    assert_eq!(doc.links, ["https://example.org/a.cap"]);
    let raw = doc.raw_text(&doc.messages[0]).unwrap();
    assert!(raw.starts_with("<alert") && raw.ends_with("</alert>"));

    let rss = r#"<rss version="2.0"><channel><item><link> https://example.org/b.cap </link></item></channel></rss>"#;
    let doc = parse_document(rss.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(
        (doc.format, doc.links.as_slice()),
        (
            DocumentFormat::Rss,
            ["https://example.org/b.cap".to_owned()].as_slice()
        )
    );

    let edxl = format!(
        r#"<EDXLDistribution xmlns="urn:oasis:names:tc:emergency:EDXL:DE:1.0"><contentObject><xmlContent>
        <embeddedXMLContent>{inner}</embeddedXMLContent></xmlContent></contentObject></EDXLDistribution>"#
    );
    let doc = parse_document(edxl.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(doc.format, DocumentFormat::EdxlDe);
    assert!(doc.messages[0].alert.is_some());

    let list = format!(
        "<alerts>{inner}{}</alerts>",
        inner.replace("HL-TEST-0001", "HL-TEST-0002")
    );
    let doc = parse_document(list.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(doc.format, DocumentFormat::AlertList);
    let ids: Vec<_> = doc
        .messages
        .iter()
        .map(|m| m.summary.identifier.clone().unwrap())
        .collect();
    assert_eq!(ids, ["HL-TEST-0001", "HL-TEST-0002"]);
}

#[test]
fn document_level_refusals() {
    let l = Limits::default();
    let kind = |bytes: &[u8]| parse_document(bytes, &l).err().map(|e| e.kind());
    assert_eq!(kind(b"<a><b></a>"), Some("not-well-formed"));
    assert_eq!(kind(b"<!DOCTYPE a SYSTEM \"http://x/\"><a/>"), Some("dtd"));
    assert_eq!(kind(b"<root><other/></root>"), Some("no-cap"));
    assert_eq!(
        kind(b"<html><head><title>Not Found</title></head></html>"),
        Some("html")
    );
    assert_eq!(kind(b"404 Not Found"), Some("not-xml"));
    assert_eq!(
        kind("<a>x</a>".repeat(10).as_bytes()),
        Some("not-well-formed"),
        "several roots are not well-formed"
    );
    let err = parse_document(b"<alert>\n  <sent>\xff</sent></alert>", &l).unwrap_err();
    assert_eq!(err, DocumentError::InvalidUtf8 { offset: 16 });
}

#[test]
fn colour_and_hazard_from_agency_parameters() {
    let xml = message(
        "",
        "<eventCode><valueName>profile:CAP-TWP:Event:1.0</valueName><value>debrisFlow</value></eventCode>\
         <parameter><valueName>alert_color</valueName><value>紅色</value></parameter>",
        "",
    );
    let class = classify(parse_one(&xml).alert.as_ref().unwrap());
    assert_eq!(
        (class.hazard, class.colour, class.exercise),
        (HazardKind::DebrisFlow, Colour::Red, false)
    );

    // No agency colour: Severe + Expected → orange, by the documented table.
    let class = classify(parse_one(&message("", "", "")).alert.as_ref().unwrap());
    assert_eq!(
        (class.hazard, class.colour),
        (HazardKind::Rainfall, Colour::Orange)
    );

    let drill = message("", "", "").replace("<status>Actual</status>", "<status>Exercise</status>");
    assert!(classify(parse_one(&drill).alert.as_ref().unwrap()).exercise);
}
