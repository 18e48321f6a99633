//! Helpers shared by the `sources_*` tests: alert values built in code, the
//! shared data folder, and minimal CAP documents.
#![allow(dead_code)]

pub mod archive_contract;
pub mod rig;

use std::path::PathBuf;

use cap::model::*;
use chrono::{DateTime, Duration, FixedOffset, Utc};

pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("HAZARDLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    if dir.join("cap").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "shared data not found at {}: skipping (set HAZARDLINE_SHARED_DATA)",
            dir.display()
        );
        None
    }
}

pub fn ts(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

pub fn utc(s: &str) -> DateTime<Utc> {
    ts(s).with_timezone(&Utc)
}

/// A minimal valid alert; `expires_after` sets every info's expiry.
pub fn alert(
    sender: &str,
    identifier: &str,
    sent: &str,
    msg_type: MsgType,
    references: &[(&str, &str, &str)],
    expires_after: Option<Duration>,
) -> Alert {
    let sent = ts(sent);
    Alert {
        cap_version: CapVersion::V1_2,
        identifier: identifier.to_owned(),
        sender: sender.to_owned(),
        sent,
        status: Status::Actual,
        msg_type,
        source: None,
        scope: Scope::Public,
        restriction: None,
        addresses: vec![],
        codes: vec![],
        note: None,
        references: references
            .iter()
            .map(|(s, i, t)| Reference {
                sender: (*s).to_owned(),
                identifier: (*i).to_owned(),
                sent_raw: (*t).to_owned(),
                sent: DateTime::parse_from_rfc3339(t).ok(),
            })
            .collect(),
        incidents: vec![],
        infos: vec![Info {
            language: "zh-TW".to_owned(),
            categories: vec![Category::Met],
            event: "降雨".to_owned(),
            response_types: vec![],
            urgency: Urgency::Expected,
            severity: Severity::Moderate,
            certainty: Certainty::Likely,
            audience: None,
            event_codes: vec![],
            effective: None,
            onset: None,
            expires: expires_after.map(|d| sent + d),
            sender_name: None,
            headline: None,
            description: None,
            instruction: None,
            web: None,
            contact: None,
            parameters: vec![],
            resources: vec![],
            areas: vec![],
        }],
    }
}

/// A CAP 1.2 document matching [`alert`]'s fields, for byte-level paths.
pub fn cap_xml(
    sender: &str,
    identifier: &str,
    sent: &str,
    msg_type: &str,
    references: &str,
    expires: &str,
) -> String {
    let references = if references.is_empty() {
        String::new()
    } else {
        format!("<references>{references}</references>")
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>{identifier}</identifier><sender>{sender}</sender><sent>{sent}</sent>
<status>Actual</status><msgType>{msg_type}</msgType><scope>Public</scope>{references}
<info><language>zh-TW</language><category>Met</category><event>降雨</event>
<urgency>Expected</urgency><severity>Moderate</severity><certainty>Likely</certainty>
<expires>{expires}</expires><headline>test</headline>
<area><areaDesc>臺北市</areaDesc><geocode><valueName>Taiwan_Geocode_103</valueName><value>63</value></geocode></area>
</info></alert>
"#
    )
}
