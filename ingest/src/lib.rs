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
//! - [`hazard`]: hazard kinds, colour levels, seismic intensity.

pub mod clock;
pub mod hazard;
pub mod lifecycle;
pub mod model;
pub mod signature;
pub mod source;
pub mod store;

pub use hazard::{Colour, HazardKind, Intensity};
pub use model::*;
