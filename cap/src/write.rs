//! Writing an [`Alert`] as a CAP XML document that [`crate::parse`] reads
//! back equal.
//!
//! A small escaping writer rather than an XML library: CAP is elements of
//! plain text in a fixed order, so escaping five characters is all the
//! writing there is, and the crate stays free of a second XML dependency.
//! Enumerations are written through [`crate::words`], the tables the
//! parser reads with; date-times, polygons and circles through the
//! parser's own formatters.
//!
//! The message is written in the version `alert.cap_version` declares. An
//! alert that uses a word its version lacks (Draft in CAP 1.0) is written
//! as it is and refused on reading, as any such message would be.

use std::fmt::Write as _;

use crate::model::{Alert, Area, CapVersion, Info, NamedValue, Resource};
use crate::parse::geometry::{format_circle, format_polygon};
use crate::parse::time::format_datetime;
use crate::words::CapWord;

/// The alert as a CAP XML document (UTF-8, with an XML declaration).
pub fn write_alert(alert: &Alert) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = write!(
        out,
        "<alert xmlns=\"{}\">",
        escape(alert.cap_version.word())
    );
    element(&mut out, "identifier", &alert.identifier);
    element(&mut out, "sender", &alert.sender);
    element(&mut out, "sent", &format_datetime(&alert.sent));
    element(&mut out, "status", alert.status.word());
    element(&mut out, "msgType", alert.msg_type.word());
    optional(&mut out, "source", &alert.source);
    element(&mut out, "scope", alert.scope.word());
    optional(&mut out, "restriction", &alert.restriction);
    if !alert.addresses.is_empty() {
        element(&mut out, "addresses", &quoted_list(&alert.addresses));
    }
    for code in &alert.codes {
        element(&mut out, "code", code);
    }
    optional(&mut out, "note", &alert.note);
    if !alert.references.is_empty() {
        let triplets: Vec<String> = alert.references.iter().map(|r| r.to_string()).collect();
        element(&mut out, "references", &triplets.join(" "));
    }
    if !alert.incidents.is_empty() {
        element(&mut out, "incidents", &quoted_list(&alert.incidents));
    }
    for info in &alert.infos {
        write_info(&mut out, info, alert.cap_version);
    }
    out.push_str("</alert>\n");
    out
}

fn write_info(out: &mut String, info: &Info, version: CapVersion) {
    out.push_str("<info>");
    element(out, "language", &info.language);
    for category in &info.categories {
        element(out, "category", category.word());
    }
    element(out, "event", &info.event);
    for response in &info.response_types {
        element(out, "responseType", response.word());
    }
    element(out, "urgency", info.urgency.word());
    element(out, "severity", info.severity.word());
    element(out, "certainty", info.certainty.word());
    optional(out, "audience", &info.audience);
    for code in &info.event_codes {
        named_value(out, "eventCode", code, version);
    }
    for (name, time) in [
        ("effective", &info.effective),
        ("onset", &info.onset),
        ("expires", &info.expires),
    ] {
        if let Some(time) = time {
            element(out, name, &format_datetime(time));
        }
    }
    optional(out, "senderName", &info.sender_name);
    optional(out, "headline", &info.headline);
    optional(out, "description", &info.description);
    optional(out, "instruction", &info.instruction);
    optional(out, "web", &info.web);
    optional(out, "contact", &info.contact);
    for parameter in &info.parameters {
        named_value(out, "parameter", parameter, version);
    }
    for resource in &info.resources {
        write_resource(out, resource);
    }
    for area in &info.areas {
        write_area(out, area, version);
    }
    out.push_str("</info>");
}

fn write_resource(out: &mut String, resource: &Resource) {
    out.push_str("<resource>");
    element(out, "resourceDesc", &resource.resource_desc);
    optional(out, "mimeType", &resource.mime_type);
    if let Some(size) = resource.size {
        element(out, "size", &size.to_string());
    }
    optional(out, "uri", &resource.uri);
    optional(out, "derefUri", &resource.deref_uri);
    optional(out, "digest", &resource.digest);
    out.push_str("</resource>");
}

fn write_area(out: &mut String, area: &Area, version: CapVersion) {
    out.push_str("<area>");
    element(out, "areaDesc", &area.area_desc);
    for polygon in &area.polygons {
        element(out, "polygon", &format_polygon(polygon));
    }
    for circle in &area.circles {
        element(out, "circle", &format_circle(circle));
    }
    for geocode in &area.geocodes {
        named_value(out, "geocode", geocode, version);
    }
    // `{}` of an f64 is the shortest text that reads back to the same value.
    if let Some(altitude) = area.altitude {
        element(out, "altitude", &altitude.to_string());
    }
    if let Some(ceiling) = area.ceiling {
        element(out, "ceiling", &ceiling.to_string());
    }
    out.push_str("</area>");
}

/// CAP 1.1 and 1.2 write `<valueName>` and `<value>` children; CAP 1.0
/// writes `valueName=value` as the element's text.
fn named_value(out: &mut String, name: &str, pair: &NamedValue, version: CapVersion) {
    if version == CapVersion::V1_0 {
        element(out, name, &format!("{}={}", pair.value_name, pair.value));
        return;
    }
    let _ = write!(out, "<{name}>");
    element(out, "valueName", &pair.value_name);
    element(out, "value", &pair.value);
    let _ = write!(out, "</{name}>");
}

/// CAP's list form (`addresses`, `incidents`): separated by spaces, an
/// entry that holds white space (or is empty) in double quotes.
fn quoted_list(entries: &[String]) -> String {
    let written: Vec<String> = entries
        .iter()
        .map(|e| {
            if e.is_empty() || e.contains(char::is_whitespace) {
                format!("\"{e}\"")
            } else {
                e.clone()
            }
        })
        .collect();
    written.join(" ")
}

fn optional(out: &mut String, name: &str, value: &Option<String>) {
    if let Some(value) = value {
        element(out, name, value);
    }
}

fn element(out: &mut String, name: &str, value: &str) {
    let _ = write!(out, "<{name}>{}</{name}>", escape(value));
}

/// Text as XML character data.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Written as a reference: a literal CR would be read as a line
            // end and turned into LF by every XML reader.
            '\r' => out.push_str("&#13;"),
            // XML 1.0 forbids every other control character, even as a
            // reference; dropping it is the only way to a readable message.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}
