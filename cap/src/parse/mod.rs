//! Bytes → validated CAP messages.
//!
//! [`parse_document`] is the single entry point. It runs in stages, each in
//! its own module:
//!
//! 1. `decode`: size limit, byte-order mark, declared encoding, invalid
//!    UTF-8 (rejected with its byte offset), HTML error pages;
//! 2. `xml`: a nesting-depth and DTD pre-scan, then roxmltree with DTDs
//!    refused and a node limit;
//! 3. `envelope`: finds the `<alert>` elements, whether the root is an
//!    alert, an `<alerts>` list, an Atom or RSS feed or an EDXL-DE
//!    distribution, and collects the links of index feeds;
//! 4. `alert`, `info`, `area`: read one alert into the model and check
//!    every CAP rule beside the element it concerns, recording each
//!    [`Violation`] with its element path. [`time`] and [`geometry`] hold
//!    the value grammars (date-times, polygons, circles) so they can be
//!    tested and reused alone; `node` the shared element-reading helpers
//!    (children by name, cardinality, white space, lazily built paths).
//!
//! A document-level failure (not XML, DTD, too large, no CAP) is a
//! [`DocumentError`]; a message that parsed as XML but breaks CAP rules is a
//! [`ParsedMessage`] whose `violations` say why and whose `alert` is `None`.
//! Nothing here panics on any input (the fuzz target checks this).

mod alert;
mod area;
mod decode;
mod envelope;
pub mod geometry;
mod info;
mod node;
pub mod time;
mod xml;

use std::ops::Range;

use serde::Serialize;

use crate::model::Alert;

/// Resource limits for one document. Every limit fails closed with a
/// [`DocumentError`] naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest document accepted, in bytes as received.
    pub max_bytes: usize,
    /// Deepest element nesting accepted (the root element is depth 1).
    pub max_depth: usize,
    /// Most XML nodes (elements, text, comments, PIs) roxmltree may build.
    pub max_nodes: usize,
}

/// 8 MiB: the largest real document seen (a Mexican Atom feed of 100+
/// alerts) is 1.8 MB, and single IPAWS messages with embedded base64
/// resources reach 0.5 MB; four times the largest still leaves a document's
/// tree at a few hundred MB in the very worst case.
pub const DEFAULT_MAX_BYTES: usize = 8 * 1024 * 1024;
/// 64: a CAP alert nests five levels (alert/info/area/geocode/value); an
/// EDXL-DE envelope or Atom entry adds at most four more and an enveloped
/// XML signature about six. 64 is generous for every real wrapping while
/// keeping any recursive walk of the tree shallow.
pub const DEFAULT_MAX_DEPTH: usize = 64;
/// 1,000,000 nodes: the 1.8 MB Mexican feed builds fewer than 100,000; a
/// million nodes cost roxmltree well under 100 MB.
pub const DEFAULT_MAX_NODES: usize = 1_000_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: DEFAULT_MAX_BYTES,
            max_depth: DEFAULT_MAX_DEPTH,
            max_nodes: DEFAULT_MAX_NODES,
        }
    }
}

/// Why a whole document was refused. Each variant says what and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("document is empty")]
    Empty,
    #[error("document is {size} bytes, more than the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("not XML: content starts with {start:?}, not '<'")]
    NotXml { start: String },
    #[error("an HTML page, not CAP (a server error page?){}", title_suffix(.title))]
    HtmlPage { title: Option<String> },
    #[error("invalid UTF-8 at byte offset {offset} (the document declares or defaults to UTF-8)")]
    InvalidUtf8 { offset: usize },
    #[error("unsupported encoding {label:?} declared")]
    UnsupportedEncoding { label: String },
    #[error("bytes not valid in the declared encoding {label:?}")]
    InvalidEncoding { label: String },
    #[error("document type declaration (DTD) refused at {line}:{col}: entities are never expanded")]
    DtdRefused { line: u32, col: u32 },
    #[error("elements nest deeper than {limit} levels at {line}:{col}")]
    TooDeep { limit: usize, line: u32, col: u32 },
    #[error("more than {limit} XML nodes")]
    TooManyNodes { limit: usize },
    #[error("not well-formed XML at {line}:{col}: {message}")]
    NotWellFormed {
        line: u32,
        col: u32,
        message: String,
    },
    #[error("no CAP alert found: {detail}")]
    NoCap { detail: String },
}

impl DocumentError {
    /// A stable short name for the kind of failure, for tests and tools.
    pub fn kind(&self) -> &'static str {
        match self {
            DocumentError::Empty => "empty",
            DocumentError::TooLarge { .. } => "too-large",
            DocumentError::NotXml { .. } => "not-xml",
            DocumentError::HtmlPage { .. } => "html",
            DocumentError::InvalidUtf8 { .. } => "invalid-utf8",
            DocumentError::UnsupportedEncoding { .. } => "unsupported-encoding",
            DocumentError::InvalidEncoding { .. } => "invalid-encoding",
            DocumentError::DtdRefused { .. } => "dtd",
            DocumentError::TooDeep { .. } => "too-deep",
            DocumentError::TooManyNodes { .. } => "too-many-nodes",
            DocumentError::NotWellFormed { .. } => "not-well-formed",
            DocumentError::NoCap { .. } => "no-cap",
        }
    }
}

fn title_suffix(title: &Option<String>) -> String {
    match title {
        Some(t) => format!(": title {t:?}"),
        None => String::new(),
    }
}

/// What kind of document held the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentFormat {
    /// A bare `<alert>`.
    Cap,
    /// A root (e.g. `<alerts>`) holding several `<alert>` elements.
    AlertList,
    /// An Atom feed, with CAP inside `<content>` or linked from entries.
    Atom,
    /// An RSS 2.0 feed, with CAP inline in items or linked from them.
    Rss,
    /// An EDXL-DE `<EDXLDistribution>` carrying CAP as embedded XML.
    EdxlDe,
}

/// A parsed document: the messages it holds, in document order.
#[derive(Debug, Clone)]
pub struct Document {
    pub format: DocumentFormat,
    pub messages: Vec<ParsedMessage>,
    /// CAP document URLs from index feeds (Atom/RSS entries without inline
    /// CAP), in document order; fetching them is the feed worker's job.
    pub links: Vec<String>,
    /// Document-level leniencies (BOM removed, transcoded, ...).
    pub warnings: Vec<String>,
    /// The decoded document text; every `raw_range` indexes into it.
    pub text: String,
}

impl Document {
    /// The decoded document text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The exact text of one message's `<alert>` element (what a signature
    /// check or an archive wants), or `None` if the range is not in the text.
    pub fn raw_text(&self, message: &ParsedMessage) -> Option<&str> {
        self.text.get(message.raw_range.clone())
    }
}

/// One `<alert>` found in a document.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedMessage {
    /// The validated alert; `Some` exactly when `violations` is empty.
    pub alert: Option<Alert>,
    /// What could be read even from an invalid message.
    pub summary: MessageSummary,
    /// Leniencies applied to this message (each says what was tolerated).
    pub warnings: Vec<String>,
    /// Every CAP rule the message breaks, each with its element path.
    pub violations: Vec<Violation>,
    /// Carries an enveloped XML-DSig `<Signature>`; verifying it is the
    /// signature module's job.
    pub signed: bool,
    /// Byte range of the `<alert>` element in [`Document::text`].
    pub raw_range: Range<usize>,
}

impl ParsedMessage {
    pub fn is_valid(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Key fields and counts of a message, as written, valid or not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MessageSummary {
    pub identifier: Option<String>,
    pub sender: Option<String>,
    pub sent: Option<String>,
    pub status: Option<String>,
    pub msg_type: Option<String>,
    pub infos: usize,
    pub areas: usize,
    pub polygons: usize,
    pub circles: usize,
    pub geocodes: usize,
}

/// One broken rule. `rule` is a stable identifier that tests and clients
/// can match on; `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Violation {
    /// Element path inside the message, with 0-based positions among
    /// same-named siblings, e.g. `/alert/info[1]/area[0]/polygon[2]`.
    pub path: String,
    pub rule: String,
    pub message: String,
}

/// Rule identifiers used in [`Violation::rule`].
pub mod rules {
    /// A required element is missing.
    pub const REQUIRED: &str = "required";
    /// A required element is present but empty.
    pub const EMPTY: &str = "empty";
    /// An element that may appear once appears more often.
    pub const CARDINALITY: &str = "cardinality";
    /// A value outside the element's enumeration.
    pub const ENUM: &str = "enum";
    /// The alert is not in a CAP namespace.
    pub const NAMESPACE: &str = "namespace";
    /// A date-time that is not `YYYY-MM-DDThh:mm:ss` with a zone.
    pub const DATETIME: &str = "datetime";
    /// A polygon that is not a list of `lat,lon` pairs.
    pub const POLYGON_SYNTAX: &str = "polygon-syntax";
    /// A polygon with fewer than four points.
    pub const POLYGON_POINTS: &str = "polygon-points";
    /// A polygon whose first and last points differ.
    pub const POLYGON_CLOSED: &str = "polygon-closed";
    /// A circle that is not `lat,lon radius`.
    pub const CIRCLE_SYNTAX: &str = "circle-syntax";
    /// A latitude outside -90..90 or longitude outside -180..180.
    pub const COORDINATE_RANGE: &str = "coordinate-range";
    /// `references` that are not `sender,identifier,sent` triplets.
    pub const REFERENCES: &str = "references";
    /// An identifier or sender containing a space, comma, `<` or `&`.
    pub const IDENTIFIER_CHARS: &str = "identifier-chars";
    /// A number (altitude, ceiling, size) that does not parse.
    pub const NUMBER: &str = "number";
    /// `ceiling` without `altitude`, `addresses` missing for private scope.
    pub const CONDITIONAL: &str = "conditional";
    /// A language tag that is not RFC 3066 / BCP 47 shaped.
    pub const LANGUAGE: &str = "language";
    /// An element not defined by the CAP version in use.
    pub const UNKNOWN_ELEMENT: &str = "unknown-element";
}

/// Parses a document of any supported format and validates every CAP
/// message in it.
///
/// # Examples
/// ```
/// use cap::parse::{parse_document, Limits};
/// let doc = parse_document(b"<html><title>404</title></html>", &Limits::default());
/// assert!(doc.is_err());
/// ```
pub fn parse_document(bytes: &[u8], limits: &Limits) -> Result<Document, DocumentError> {
    let mut warnings = Vec::new();
    let text = decode::decode(bytes, limits, &mut warnings)?;
    xml::prescan(&text, limits)?;
    let (format, messages, links) = {
        let tree = xml::parse_tree(&text, limits)?;
        let found = envelope::find_alerts(&tree, &mut warnings)?;
        let messages = found
            .alerts
            .iter()
            .map(|node| alert::read_message(*node))
            .collect();
        (found.format, messages, found.links)
    };
    Ok(Document {
        format,
        messages,
        links,
        warnings,
        text,
    })
}

/// True when `bytes`, after a UTF-8 byte-order mark and white space, start
/// with `<`: the cheap test for "could this file be XML at all".
pub fn looks_like_xml(bytes: &[u8]) -> bool {
    let rest = bytes.strip_prefix(decode::UTF8_BOM).unwrap_or(bytes);
    rest.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'<')
}
