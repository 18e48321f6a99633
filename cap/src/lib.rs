//! CAP, the Common Alerting Protocol: the alert model every crate shares,
//! its vocabulary, reading CAP XML into validated [`Alert`]s, writing
//! alerts back as CAP XML, and what an alert means.
//!
//! It reads CAP 1.2 (and 1.1 / 1.0), bare or wrapped in Atom, RSS, EDXL-DE
//! or a multi-alert root; it validates against the spec and reports every
//! violation with its element path; it decides what an alert means (hazard
//! kind, colour level, earthquake intensity). It writes CAP through the
//! same word tables it reads with.
//!
//! It is not a feed reader, a trust decision or an archive (those are
//! ingest's), not a geocoder (geocodes are kept as given), and it does not
//! decide who is warned. It does no I/O: bytes in, values out.
//!
//! Modules:
//! - [`model`]: the normalized alert model.
//! - [`words`]: the one word table per CAP enumeration ([`CapWord`]),
//!   read by the parser and written by the writer.
//! - [`parse`]: bytes → [`parse::Document`] of validated messages
//!   ([`parse::parse_document`], [`parse::Limits`], [`parse::Violation`]);
//!   decoding, XML safety limits, envelopes (Atom, RSS, EDXL-DE, alert
//!   lists), and the CAP rules beside the elements they check.
//! - [`write`]: an [`Alert`] → CAP XML that [`parse`] reads back equal
//!   ([`write::write_alert`]).
//! - [`hazard`]: hazard kinds, colour levels, seismic intensity
//!   ([`hazard::classify`], [`hazard::local_intensities`]).
//! - [`check`]: the per-message verdict records behind `hazardline cap
//!   check`.

pub mod check;
pub mod hazard;
pub mod model;
pub mod parse;
pub mod words;
pub mod write;

pub use hazard::{Classification, Colour, HazardKind, Intensity, LocalIntensity};
pub use model::*;
pub use parse::{Document, DocumentError, Limits, ParsedMessage, Violation, parse_document};
pub use words::CapWord;
pub use write::write_alert;
