//! CAP ingest: turns the bytes agencies publish into validated, normalized
//! [`Alert`]s, and keeps track of which alerts are in force.
//!
//! This crate is the only producer of [`Alert`]; the matcher and the notifier
//! never see XML. It reads CAP 1.2 (and 1.1 / 1.0), bare or wrapped in Atom,
//! RSS, EDXL-DE or a multi-alert root; it validates against the spec and
//! reports every violation with its element path; it decides what an alert
//! means (hazard kind, colour level, earthquake intensity).
//!
//! It is not a geocoder (geocodes are kept as given), and it does not decide
//! who is warned.
//!
//! Modules:
//! - [`model`]: the normalized alert model.
//! - [`parse`]: bytes → [`parse::Document`] of validated messages
//!   ([`parse::parse_document`], [`parse::Limits`], [`parse::Violation`]);
//!   decoding, XML safety limits, envelopes (Atom, RSS, EDXL-DE, alert
//!   lists), and the CAP rules beside the elements they check.
//! - [`hazard`]: hazard kinds, colour levels, seismic intensity
//!   ([`hazard::classify`], [`hazard::local_intensities`]).
//! - [`authority`]: who owns an alert, and so who may Update or Cancel it.
//! - [`check`]: the per-message verdict records behind `hazardline cap
//!   check`.
//! - [`source`]: configured inputs, whom each may speak for
//!   ([`source::SourceTrust`]), and the staleness alarm
//!   ([`source::SourceHealth`]).
//! - [`sender`]: sender patterns, shared by sources and authorities.
//! - [`signature`]: enveloped XML-DSig verification against pinned keys.
//! - [`feed`]: the [`feed::Pipeline`] (parse → trust → dedupe → store →
//!   lifecycle → hand on) and its workers: HTTP feeds, MQTT, drop
//!   directory, issuer submissions.
//! - [`lifecycle`]: dedupe, Update/Cancel chains, expiry; the active set and
//!   the [`lifecycle::LifecycleEvent`]s the matcher consumes.
//! - [`store`]: the archive of every received message
//!   ([`store::AlertArchive`], embedded [`store::SqliteArchive`]).
//! - [`clock`]: the one source of "now", settable in tests.

pub mod authority;
pub mod check;
pub mod clock;
pub mod feed;
pub mod hazard;
pub mod lifecycle;
pub mod model;
pub mod parse;
pub mod sender;
pub mod signature;
pub mod source;
pub mod store;

pub use hazard::{Classification, Colour, HazardKind, Intensity, LocalIntensity};
pub use model::*;
pub use parse::{Document, DocumentError, Limits, ParsedMessage, Violation, parse_document};
