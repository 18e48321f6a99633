//! Feed workers and the pipeline they feed.
//!
//! - [`pipeline`]: parse → trust → dedupe → store → lifecycle → hand on;
//!   the one path every received document takes.
//! - [`http`]: polls CAP Atom/RSS feeds (conditional GET, backoff, size
//!   limit, linked CAP documents, HTML error pages refused).
//! - [`mqtt`]: subscribes to an MQTT topic carrying CAP (QoS 1, acked only
//!   once stored).
//! - [`directory`]: a drop folder; files move to `done/` or `rejected/`.
//! - [`issuer`]: submissions through the HTTP API by an issuing office.
//! - [`runner`]: starts the workers of the configured sources.
//!
//! Every worker runs until its `CancellationToken` is cancelled and finishes
//! the document in hand before it stops.

pub mod backoff;
pub mod directory;
pub mod http;
pub mod issuer;
pub mod mqtt;
pub mod pipeline;
pub mod runner;

pub use pipeline::{
    IngestReport, MessageOutcome, Pipeline, PipelineConfig, PipelineError, RejectReason,
};
