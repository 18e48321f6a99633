//! The `hazardline` service: the wiring of ingest, matcher, geodata and
//! notifier into one pipeline, used by the binary's commands and by the
//! end-to-end tests.
//!
//! - [`engine`]: from ingest's lifecycle events to the notifier's
//!   deliveries, through the matcher and geodata.
//! - [`http`]: the HTTP API and web pages, grouped by who calls them.
//! - [`run`]: starting `hazardline serve` — every part built from the
//!   configuration, the listeners, and the drain at shutdown.
//! - [`error`]: the API's error shape and stable codes, shared by the
//!   routes and the service; [`schemas`]: the shapes of bodies built as
//!   JSON values, for the OpenAPI document.
//! - [`serve`]: `hazardline serve`: runtime wiring, workers and the use
//!   cases the routes call.

pub use engine;
pub mod error;
pub mod http;
pub mod run;
pub mod schemas;
pub mod serve;
