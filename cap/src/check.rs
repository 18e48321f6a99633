//! Per-message verdicts for tools (`hazardline cap check`, the conformance
//! suite): one [`CheckRecord`] per message, or one for a document that
//! holds none.

use serde::Serialize;

use crate::hazard::{Colour, HazardKind, classify};
use crate::parse::{Limits, ParsedMessage, Violation, parse_document};

/// The verdict on one message (or on a document without messages, then
/// `index` is `None` and `ok` is false).
///
/// `hazard` and `colour` are given only for valid messages: they are read
/// from the validated model, and guessing them from a broken message would
/// invite acting on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckRecord {
    /// 0-based position of the message in the document.
    pub index: Option<usize>,
    pub ok: bool,
    pub identifier: Option<String>,
    pub sender: Option<String>,
    pub sent: Option<String>,
    pub status: Option<String>,
    pub msg_type: Option<String>,
    pub hazard: Option<HazardKind>,
    pub colour: Option<Colour>,
    pub infos: usize,
    pub areas: usize,
    pub polygons: usize,
    pub circles: usize,
    pub geocodes: usize,
    pub warnings: Vec<String>,
    pub violations: Vec<Violation>,
    /// One-line summary of what is wrong; `None` when `ok`.
    pub error: Option<String>,
}

impl CheckRecord {
    /// The record for a document (or file) that yields no message.
    pub fn document_failure(error: String, warnings: Vec<String>) -> Self {
        CheckRecord {
            index: None,
            ok: false,
            identifier: None,
            sender: None,
            sent: None,
            status: None,
            msg_type: None,
            hazard: None,
            colour: None,
            infos: 0,
            areas: 0,
            polygons: 0,
            circles: 0,
            geocodes: 0,
            warnings,
            violations: Vec::new(),
            error: Some(error),
        }
    }

    fn message(index: usize, m: &ParsedMessage, document_warnings: &[String]) -> Self {
        let class = m.alert.as_ref().map(classify);
        let s = &m.summary;
        let mut warnings = document_warnings.to_vec();
        warnings.extend(m.warnings.iter().cloned());
        let error = m.violations.first().map(|v| {
            let more = m.violations.len() - 1;
            let tail = if more > 0 {
                format!(" (and {more} more)")
            } else {
                String::new()
            };
            format!("{} [{}]: {}{tail}", v.path, v.rule, v.message)
        });
        CheckRecord {
            index: Some(index),
            ok: m.alert.is_some(),
            identifier: s.identifier.clone(),
            sender: s.sender.clone(),
            sent: s.sent.clone(),
            status: s.status.clone(),
            msg_type: s.msg_type.clone(),
            hazard: class.map(|c| c.hazard),
            colour: class.map(|c| c.colour),
            infos: s.infos,
            areas: s.areas,
            polygons: s.polygons,
            circles: s.circles,
            geocodes: s.geocodes,
            warnings,
            violations: m.violations.clone(),
            error,
        }
    }
}

/// Parses one document and returns its verdict records, in order.
pub fn check_bytes(bytes: &[u8], limits: &Limits) -> Vec<CheckRecord> {
    match parse_document(bytes, limits) {
        Err(e) => vec![CheckRecord::document_failure(e.to_string(), Vec::new())],
        Ok(doc) if doc.messages.is_empty() => {
            let error = format!(
                "index feed without inline CAP: links to {} CAP document(s)",
                doc.links.len()
            );
            vec![CheckRecord::document_failure(error, doc.warnings)]
        }
        Ok(doc) => doc
            .messages
            .iter()
            .enumerate()
            .map(|(i, m)| CheckRecord::message(i, m, &doc.warnings))
            .collect(),
    }
}
