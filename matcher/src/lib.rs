//! matcher: finds, for an alert, every subscriber with a registered place
//! inside the warned area, and nobody outside it.
//!
//! It is deliberately not a geocoder (administrative codes are resolved
//! through the [`codes::AreaCodes`] trait the binary implements with
//! geodata), not a store (the caller loads places and preferences), and
//! does no I/O: parsers here read byte slices and strings.
//!
//! Modules:
//! - [`index`]: [`PlaceIndex`], the places on a packed static R-tree
//!   ([`tree`]) with an overlay for changes;
//! - [`search`]: descending the tree against one shape;
//! - [`polygon`], [`circle`], [`bbox`]: exact boundary-inclusive shapes;
//! - [`codes`]: village/town codes and the [`codes::AreaCodes`] trait;
//! - [`places_csv`], [`areas_geojson`]: the dry-run input formats.

pub mod bbox;
pub mod circle;
pub mod codes;
pub mod index;
pub mod polygon;
pub mod search;
pub mod tree;

pub use index::{Hit, Location, PlaceIndex, PlaceKey, PlaceRecord, PrefsRef, SubscriberId};
pub mod area;
pub mod areas_geojson;
pub mod lifecycle;
pub mod places_csv;
pub mod prefs;
pub mod recipients;
