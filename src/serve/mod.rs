//! `hazardline serve`: one process running the HTTP API, the web pages, the
//! feed workers, the engine (matcher) and the notifier's dispatchers.
//!
//! - `error`: stable error codes.
//! - `state`: what every request handler shares, and the engine's handle.
//! - `pages`: the web pages and their embedded static assets.

pub mod error;
pub mod pages;
pub mod state;

pub use error::{ApiError, ApiResult, ErrorCode};
pub use state::{AppState, EngineHandle, StateInner};
