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
//! - [`area`]: a CAP area (polygons, circles, geocodes) resolved and prepared;
//! - [`prefs`]: per-place preferences and the alert facts they check;
//! - [`recipients`]: an alert's recipients, each subscriber once;
//! - [`places_csv`], [`areas_geojson`]: the dry-run input formats.
//!
//! Invariants (see README.md): boundary-inclusive, each subscriber once per
//! alert, an unresolvable code is an error, no I/O.

pub mod area;
pub mod areas_geojson;
pub mod bbox;
pub mod circle;
pub mod codes;
pub mod index;
pub mod places_csv;
pub mod polygon;
pub mod prefs;
pub mod recipients;
pub mod search;
pub mod tree;

pub use area::{AreaError, AreaSpec, PreparedArea, Presence};
pub use index::{Hit, Location, PlaceIndex, PlaceKey, PlaceRecord, PrefsRef, SubscriberId};
pub use recipients::{MatchContext, PlaceMatch, Recipients};
