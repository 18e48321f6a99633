//! `<alert>`: the message envelope, its namespace and version, and the
//! assembly of a [`ParsedMessage`].

use roxmltree::Node;

use crate::model::{Alert, CapVersion, MsgType, Reference, Scope, Status};
use crate::words::{CAP_1_0_NS, CAP_1_1_NS, CAP_1_2_NS, CapWord};

use super::info::{checked_time, read_info};
use super::node::{Fields, Report, lookup_enum, split_quoted_list};
use super::time::parse_datetime;
use super::{MessageSummary, ParsedMessage, rules};

const ALERT_FIELDS: &[&str] = &[
    "identifier",
    "sender",
    "password",
    "sent",
    "status",
    "msgType",
    "source",
    "scope",
    "restriction",
    "addresses",
    "code",
    "note",
    "references",
    "incidents",
    "info",
];

/// The CAP version a namespace names, if it names one.
pub fn version_of_namespace(ns: &str) -> Option<CapVersion> {
    CapVersion::from_word(ns)
}

pub(super) fn read_message(node: Node) -> ParsedMessage {
    let mut report = Report::default();
    let mut summary = MessageSummary::default();
    let ns = node.tag_name().namespace();
    let version = match ns.and_then(version_of_namespace) {
        Some(v) => v,
        None => {
            report.violation(
                "/alert",
                rules::NAMESPACE,
                format!(
                    "namespace {:?} is not a CAP namespace ({CAP_1_2_NS}, {CAP_1_1_NS} or {CAP_1_0_NS}); read by CAP 1.2 rules",
                    ns.unwrap_or("")
                ),
            );
            CapVersion::V1_2
        }
    };

    let root: &dyn std::fmt::Display = &"/alert";
    let fields = Fields::new(node, ns, root, ALERT_FIELDS, &mut report);
    if version != CapVersion::V1_0 && fields.has("password") {
        report.violation(
            fields.child_path("password"),
            rules::UNKNOWN_ELEMENT,
            "<password> was removed after CAP 1.0",
        );
    }

    let identifier = fields.required_token("identifier", &mut report);
    let sender = fields.required_token("sender", &mut report);
    for (name, value) in [("identifier", &identifier), ("sender", &sender)] {
        if let Some(v) = value
            && v.contains([' ', ',', '<', '&'])
        {
            report.violation(
                fields.child_path(name),
                rules::IDENTIFIER_CHARS,
                format!("<{name}> {v:?} contains a space, comma, '<' or '&'"),
            );
        }
    }
    let sent_text = fields.required_token("sent", &mut report);
    let sent = sent_text
        .as_deref()
        .and_then(|t| checked_time(t, &fields.child_path("sent"), &mut report).ok());

    let status_text = fields.required_token("status", &mut report);
    // Draft arrived in CAP 1.1 (last in the table).
    let status_table = if version == CapVersion::V1_0 {
        &Status::WORDS[..4]
    } else {
        Status::WORDS
    };
    let status = status_text.as_deref().and_then(|t| {
        lookup_enum(
            t,
            status_table.iter(),
            &fields.child_path("status"),
            &mut report,
        )
    });
    let msg_type_text = fields.required_token("msgType", &mut report);
    let msg_type = msg_type_text.as_deref().and_then(|t| {
        lookup_enum(
            t,
            MsgType::WORDS.iter(),
            &fields.child_path("msgType"),
            &mut report,
        )
    });

    // CAP 1.0 made <scope> optional; its absence there reads as Public,
    // the only scope a public feed can carry.
    let scope = if version == CapVersion::V1_0 && !fields.has("scope") {
        Some(Scope::Public)
    } else {
        fields.required_token("scope", &mut report).and_then(|t| {
            lookup_enum(
                &t,
                Scope::WORDS.iter(),
                &fields.child_path("scope"),
                &mut report,
            )
        })
    };

    let source = fields.optional_token("source", &mut report);
    let note = fields.text("note", &mut report);
    let restriction = fields
        .text("restriction", &mut report)
        .filter(|s| !s.is_empty());
    if scope == Some(Scope::Restricted) && restriction.is_none() {
        report.warn("/alert", "scope Restricted without <restriction>");
    }
    let addresses = fields
        .text("addresses", &mut report)
        .map(|t| split_quoted_list(&t))
        .unwrap_or_default();
    if scope == Some(Scope::Private) && addresses.is_empty() {
        report.violation(
            fields.child_path("addresses"),
            rules::CONDITIONAL,
            "<addresses> is required when <scope> is Private",
        );
    }
    let codes: Vec<String> = fields
        .all("code")
        .filter_map(|(p, n)| super::node::token_text(n, &p, &mut report))
        .collect();
    let references = match fields.text("references", &mut report) {
        Some(text) => read_references(&text, &fields.child_path("references"), &mut report),
        None => Vec::new(),
    };
    if matches!(msg_type, Some(MsgType::Update | MsgType::Cancel)) && references.is_empty() {
        report.warn("/alert", "Update or Cancel without <references>");
    }
    let incidents = fields
        .text("incidents", &mut report)
        .map(|t| split_quoted_list(&t))
        .unwrap_or_default();

    let mut infos = Vec::new();
    for (p, n) in fields.all("info") {
        summary.infos += 1;
        if let Some(info) = read_info(n, ns, &p, version, &mut report, &mut summary) {
            infos.push(info);
        }
    }

    summary.identifier = identifier.clone();
    summary.sender = sender.clone();
    summary.sent = sent_text.clone();
    summary.status = status_text;
    summary.msg_type = msg_type_text;

    let alert = if report.violations.is_empty() {
        match (identifier, sender, sent, sent_text, status, msg_type, scope) {
            (
                Some(identifier),
                Some(sender),
                Some(sent),
                Some(_),
                Some(status),
                Some(msg_type),
                Some(scope),
            ) if infos.len() == summary.infos => Some(Alert {
                cap_version: version,
                identifier,
                sender,
                sent,
                status,
                msg_type,
                source,
                scope,
                restriction,
                addresses,
                codes,
                note,
                references,
                incidents,
                infos,
            }),
            _ => {
                // Every missing piece above reports its own violation; this
                // is a guard so that `alert` can never be Some with a hole.
                report.violation(
                    "/alert",
                    "internal",
                    "message incomplete without a recorded violation",
                );
                None
            }
        }
    } else {
        None
    };

    ParsedMessage {
        alert,
        summary,
        warnings: report.warnings,
        violations: report.violations,
        signed: fields.signed,
        raw_range: node.range(),
    }
}

/// `<references>`: white-space separated `sender,identifier,sent`
/// triplets. A triplet of another shape is a violation. A `sent` that is
/// not a CAP date-time is kept as written with a warning (references name
/// messages; they are matched on the text as written).
fn read_references(
    text: &str,
    path: &dyn std::fmt::Display,
    report: &mut Report,
) -> Vec<Reference> {
    if text.is_empty() {
        report.warn(path, "empty <references> ignored");
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, triplet) in text.split_whitespace().enumerate() {
        let parts: Vec<&str> = triplet.split(',').collect();
        match parts.as_slice() {
            [sender, identifier, sent]
                if !sender.is_empty() && !identifier.is_empty() && !sent.is_empty() =>
            {
                let parsed = match parse_datetime(sent) {
                    Ok((t, _)) => Some(t),
                    Err(e) => {
                        report.warn(path, format_args!("reference {}: {e}", i + 1));
                        None
                    }
                };
                out.push(Reference {
                    sender: (*sender).to_owned(),
                    identifier: (*identifier).to_owned(),
                    sent_raw: (*sent).to_owned(),
                    sent: parsed,
                });
            }
            _ => report.violation(
                path,
                rules::REFERENCES,
                format!(
                    "reference {} {triplet:?} is not sender,identifier,sent",
                    i + 1
                ),
            ),
        }
    }
    out
}
