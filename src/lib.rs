//! The `hazardline` service: the wiring of ingest, matcher, geodata and
//! notifier into one pipeline, used by the binary's commands and by the
//! end-to-end tests.
//!
//! - [`engine`]: from ingest's lifecycle events to the notifier's
//!   deliveries, through the matcher and geodata.
//! - [`serve`]: `hazardline serve`, the HTTP API, web pages and workers.

pub use engine;
pub mod serve;
