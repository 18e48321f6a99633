//! `hazardline serve`: one process running the HTTP API, the feed
//! workers, the engine and the notifier's dispatchers — the
//! runtime wiring and the use cases the routes call.
//!
//! - `config`: the TOML file and environment overrides.
//! - `startup`: why the service could not start; `clock`: the movable
//!   clock of the demo and of `[clock] start`.
//! - `events`: the event loop (lifecycle event → engine → queue, inboxes,
//!   alerts view, live feed).
//! - `channels`, `workers`: delivery channels and the background workers
//!   (queue dispatchers, location expiry, demo replay).
//! - `state`: what every request handler shares, and the engine's handle.
//! - `subscribers`: the one write path of stored subscribers (edit lock,
//!   store, engine); `edit_locks`: the locks it takes.
//! - `convert`: stored subscriber records → the engine's subscribers.
//! - `alerts_view`: each subscriber's alerts in force, for fast reads.
//! - `expiry`: when travellers' shared locations run out.
//! - `metrics`: Prometheus metrics (served at /metrics).
//! - `heartbeat`: the scheduled end-to-end exercise to a canary device;
//!   `heartbeat_status`: its last verdict, read by /readyz.
//! - `device_keys`: residents' verified keys, in memory.
//! - `ratelimit`: per-client rate limits of the public and resident routes.
//! - `ids`: random record ids.
//! - `staff_text`: the rule for text people typed that staff will read.

pub mod alerts_view;
pub mod audit;
pub mod channels;
pub mod clock;
pub mod compose;
pub mod config;
pub mod convert;
pub mod device_keys;
pub mod edit_locks;
pub mod events;
pub mod expiry;
pub mod heartbeat;
pub mod heartbeat_status;
pub mod ids;
pub mod login_pool;
pub mod login_throttle;
pub mod metrics;
pub mod ratelimit;
pub mod staff_text;
pub mod startup;
pub mod state;
pub mod subscribers;
pub mod workers;

pub use state::{AppState, EngineHandle, StateInner};
