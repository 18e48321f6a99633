//! `hazardline serve`'s own parts around the application (`app`): the
//! configuration, the HTTP edge's shared state and limits, the delivery
//! channels built from the configuration, and the background workers.
//!
//! - `config`: the TOML file and environment overrides.
//! - `startup`: why the service could not start; `clock`: the movable
//!   clock of the demo and of `[clock] start`.
//! - `channels`, `workers`: delivery channels and the background workers
//!   (queue dispatchers, location expiry, demo replay).
//! - `state`: what every request handler shares: the application, the
//!   configuration, the limiter and the edge's own caches.
//! - `audit`: recording a staff action.
//! - `metrics`: Prometheus metrics (served at /metrics).
//! - `heartbeat`: the scheduled end-to-end exercise to a canary device;
//!   `heartbeat_status`: its last verdict, read by /readyz.
//! - `device_keys`: residents' verified keys, in memory.
//! - `ratelimit`: per-client rate limits of the public and resident routes.
//! - `login_pool`, `login_throttle`: staff password checks and their
//!   limits.
//! - `staff_text`: the rule for text people typed that staff will read.

pub mod audit;
pub mod channels;
pub mod clock;
pub mod config;
pub mod device_keys;
pub mod heartbeat;
pub mod heartbeat_status;
pub mod login_pool;
pub mod login_throttle;
pub mod metrics;
pub mod ratelimit;
pub mod staff_text;
pub mod startup;
pub mod state;
pub mod workers;

pub use state::{AppState, StateInner};
