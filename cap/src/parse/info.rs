//! `<info>` and `<resource>`.

use roxmltree::Node;

use crate::model::{
    CapVersion, Category, Certainty, Info, Resource, ResponseType, Severity, Timestamp, Urgency,
};

use crate::words::CapWord;

use super::area::{read_area, read_named_value};
use super::node::{Fields, Report, lookup_enum, token_text};
use super::time::parse_datetime;
use super::{MessageSummary, rules};

const INFO_FIELDS: &[&str] = &[
    "language",
    "category",
    "event",
    "responseType",
    "urgency",
    "severity",
    "certainty",
    "audience",
    "eventCode",
    "effective",
    "onset",
    "expires",
    "senderName",
    "headline",
    "description",
    "instruction",
    "web",
    "contact",
    "parameter",
    "resource",
    "area",
];

/// CAP 1.0's "Very Likely" has no CAP 1.2 equivalent but "Likely" (> 50 %).
const VERY_LIKELY_1_0: &[(&str, Certainty)] = &[("Very Likely", Certainty::Likely)];

pub(super) fn read_info(
    node: Node,
    ns: Option<&str>,
    path: &dyn std::fmt::Display,
    version: CapVersion,
    report: &mut Report,
    summary: &mut MessageSummary,
) -> Option<Info> {
    let fields = Fields::new(node, ns, path, INFO_FIELDS, report);
    if version == CapVersion::V1_0 && fields.has("responseType") {
        report.violation(
            fields.child_path("responseType"),
            rules::UNKNOWN_ELEMENT,
            "<responseType> is not defined in CAP 1.0",
        );
    }

    let language = match fields.token("language", report) {
        Some(tag) => check_language(&tag, &fields.child_path("language"), report).then_some(tag),
        None if fields.has("language") => None,
        None => Some("en-US".to_owned()),
    };

    let mut categories = Vec::new();
    let mut categories_ok = true;
    for (p, n) in fields.all("category") {
        match token_text(n, &p, report)
            .and_then(|t| lookup_enum(&t, categories_of(version), &p, report))
        {
            Some(c) => categories.push(c),
            None => categories_ok = false,
        }
    }
    if categories.is_empty() && categories_ok && version != CapVersion::V1_0 {
        report.violation(
            fields.child_path("category"),
            rules::REQUIRED,
            "required <category> is missing",
        );
    }

    let event = fields.required_text("event", report);

    let mut response_types = Vec::new();
    for (p, n) in fields.all("responseType") {
        // Avoid and AllClear arrived in CAP 1.2 (last in the table).
        let table = if version == CapVersion::V1_2 {
            ResponseType::WORDS
        } else {
            &ResponseType::WORDS[..7]
        };
        if let Some(r) =
            token_text(n, &p, report).and_then(|t| lookup_enum(&t, table.iter(), &p, report))
        {
            response_types.push(r);
        }
    }

    let urgency = required_enum(&fields, "urgency", Urgency::WORDS.iter(), report);
    let severity = required_enum(&fields, "severity", Severity::WORDS.iter(), report);
    let certainty_1_0 = if version == CapVersion::V1_0 {
        VERY_LIKELY_1_0
    } else {
        &[]
    };
    let certainty = required_enum(
        &fields,
        "certainty",
        Certainty::WORDS.iter().chain(certainty_1_0),
        report,
    );

    let event_codes = named_values(&fields, "eventCode", ns, version, report);
    let parameters = named_values(&fields, "parameter", ns, version, report);

    let effective = optional_time(&fields, "effective", report);
    let onset = optional_time(&fields, "onset", report);
    let expires = optional_time(&fields, "expires", report);

    let mut resources = Vec::new();
    for (p, n) in fields.all("resource") {
        if let Some(r) = read_resource(n, ns, &p, version, report) {
            resources.push(r);
        }
    }

    let mut areas = Vec::new();
    for (p, n) in fields.all("area") {
        summary.areas += 1;
        if let Some(a) = read_area(n, ns, &p, version, report, summary) {
            areas.push(a);
        }
    }

    Some(Info {
        language: language?,
        categories,
        event: event?,
        response_types,
        urgency: urgency?,
        severity: severity?,
        certainty: certainty?,
        audience: fields.text("audience", report),
        event_codes,
        effective: effective.ok()?,
        onset: onset.ok()?,
        expires: expires.ok()?,
        sender_name: fields.text("senderName", report),
        headline: fields.text("headline", report),
        description: fields.text("description", report),
        instruction: fields.text("instruction", report),
        web: fields.optional_token("web", report),
        contact: fields.text("contact", report),
        parameters,
        resources,
        areas,
    })
}

/// The categories a version defines: CBRNE arrived in CAP 1.1.
fn categories_of(
    version: CapVersion,
) -> impl Iterator<Item = &'static (&'static str, Category)> + Clone {
    Category::WORDS
        .iter()
        .filter(move |(_, c)| version != CapVersion::V1_0 || *c != Category::Cbrne)
}

fn required_enum<'t, T: Copy + 't>(
    fields: &Fields,
    name: &str,
    table: impl Iterator<Item = &'t (&'static str, T)> + Clone,
    report: &mut Report,
) -> Option<T> {
    let text = fields.required_token(name, report)?;
    lookup_enum(&text, table, &fields.child_path(name), report)
}

fn named_values(
    fields: &Fields,
    name: &str,
    ns: Option<&str>,
    version: CapVersion,
    report: &mut Report,
) -> Vec<crate::model::NamedValue> {
    fields
        .all(name)
        .filter_map(|(p, n)| read_named_value(n, ns, &p, version, report))
        .collect()
}

/// An optional date-time: `Ok(None)` when absent, `Err` when broken.
pub(super) fn optional_time(
    fields: &Fields,
    name: &str,
    report: &mut Report,
) -> Result<Option<Timestamp>, ()> {
    let Some(text) = fields.token(name, report) else {
        return if fields.has(name) { Err(()) } else { Ok(None) };
    };
    checked_time(&text, &fields.child_path(name), report).map(Some)
}

pub(super) fn checked_time(
    text: &str,
    path: &dyn std::fmt::Display,
    report: &mut Report,
) -> Result<Timestamp, ()> {
    match parse_datetime(text) {
        Ok((t, leniency)) => {
            if let Some(l) = leniency {
                report.warn(path, l);
            }
            Ok(t)
        }
        Err(e) => {
            report.violation(path, rules::DATETIME, e.to_string());
            Err(())
        }
    }
}

/// RFC 3066 / BCP 47 shape (`xs:language`): 1–8 letters, then `-` and
/// 1–8 letters or digits. Tags compare case-insensitively, so `zh-tw` is
/// fine; a warning notes a non-canonical case for the record.
fn check_language(tag: &str, path: &dyn std::fmt::Display, report: &mut Report) -> bool {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    let primary_ok =
        (1..=8).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
    let rest_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !(primary_ok && rest_ok) {
        report.violation(
            path,
            rules::LANGUAGE,
            format!("{tag:?} is not a language tag such as zh-TW"),
        );
        return false;
    }
    let canonical = canonical_language(tag);
    if canonical != tag {
        report.warn(
            path,
            format_args!("language {tag:?} compared as {canonical:?}"),
        );
    }
    true
}

/// Lower-case language, upper-case two-letter region (`zh-TW`).
fn canonical_language(tag: &str) -> String {
    let mut out = String::with_capacity(tag.len());
    for (i, part) in tag.split('-').enumerate() {
        if i > 0 {
            out.push('-');
        }
        if i > 0 && part.len() == 2 {
            out.push_str(&part.to_ascii_uppercase());
        } else {
            out.push_str(&part.to_ascii_lowercase());
        }
    }
    out
}

fn read_resource(
    node: Node,
    ns: Option<&str>,
    path: &dyn std::fmt::Display,
    version: CapVersion,
    report: &mut Report,
) -> Option<Resource> {
    let fields = Fields::new(
        node,
        ns,
        path,
        &[
            "resourceDesc",
            "mimeType",
            "size",
            "uri",
            "derefUri",
            "digest",
        ],
        report,
    );
    let resource_desc = fields.required_text("resourceDesc", report);
    let mime_type = if version == CapVersion::V1_2 {
        fields.required_token("mimeType", report).map(Some)
    } else {
        Some(fields.optional_token("mimeType", report))
    };
    let size = match fields.token("size", report) {
        Some(text) => match text.parse::<u64>() {
            Ok(n) => Some(Some(n)),
            Err(_) => {
                report.violation(
                    fields.child_path("size"),
                    rules::NUMBER,
                    format!("<size> {text:?} is not a whole number of bytes"),
                );
                None
            }
        },
        None => Some(None),
    };
    Some(Resource {
        resource_desc: resource_desc?,
        mime_type: mime_type?,
        size: size?,
        uri: fields.optional_token("uri", report),
        deref_uri: fields.optional_token("derefUri", report),
        digest: fields.optional_token("digest", report),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_language_case() {
        assert_eq!(canonical_language("Zh-tw"), "zh-TW");
        assert_eq!(canonical_language("en-GB"), "en-GB");
        assert_eq!(canonical_language("es-419"), "es-419");
        assert_eq!(canonical_language("no"), "no");
    }
}
