//! geodata: Taiwan's administrative geography for Hazardline.
//!
//! What it is for: knowing the county (縣市) ⊃ town (鄉鎮市區) ⊃ village
//! (村里) hierarchy with names, boundaries and codes in both schemes in use
//! (MOI codes of the boundary files, NCDR Taiwan_Geocode codes of CAP);
//! resolving a CAP geocode to villages; placing a point (reverse geocode)
//! or an address (geocode) in a village; finding shelters and hazard
//! zones near a point.
//!
//! What it is not: it does no network I/O and knows nothing of CAP XML,
//! subscribers or delivery. Files are read only by the importer and by
//! [`Atlas::load`] and the loaders of shelters, zones and gazetteers.
//!
//! Layout:
//! * [`model`] — [`Area`] (any level) and [`CodeEntry`] (a code-table row);
//! * [`codes`] — code schemes, [`GeocodeTable`], the geocode → MOI rule;
//! * [`names`] — name keys: 台 = 臺, suffixes, renamed counties;
//! * [`atlas`] — [`Atlas`], its indexes and [`Atlas::resolve_geocode`];
//!   name → area ([`Atlas::find_town`], …), never guessing, in
//!   `atlas/lookup.rs`;
//! * [`locate`] — point → village ([`Atlas::locate`]), grid + exact test;
//! * [`pip`] — point-in-polygon with a y-band edge index;
//! * [`import`] — TopoJSON, GeoJSON, shapefile, code tables → [`Atlas`];
//! * [`store`] — the compact file format;
//! * [`diff`] — what changed between two atlases, old → new village codes;
//! * [`address`] — Taiwan address parsing and formatting;
//! * [`geocoder`] — address → village and point, with its precision;
//! * [`shelters`], [`zones`] — shelters (k nearest) and hazard-prone zones;
//! * [`points`] — `id,lon,lat` CSV input for batch reverse geocoding;
//! * [`demo`] — a fictional demo region embedded in the binary.

pub mod address;
pub mod atlas;
pub mod codes;
pub mod demo;
pub mod diff;
mod error;
pub mod geocoder;
pub mod import;
pub mod locate;
pub mod model;
pub mod names;
pub mod pip;
pub mod points;
pub mod shelters;
pub mod store;
pub mod zones;

pub use atlas::{Atlas, Resolved};
pub use codes::{GeocodeTable, Level};
pub use error::GeodataError;
pub use locate::Location;
pub use model::{Area, CodeEntry};
