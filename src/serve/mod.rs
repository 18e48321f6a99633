//! `hazardline serve`: one process running the HTTP API, the web pages, the
//! feed workers, the engine (matcher) and the notifier's dispatchers.
//!
//! - `config`: the TOML file and environment overrides.
//! - `runtime`: builds everything from the configuration and runs it until
//!   a shutdown signal, then drains; `startup`: why it could not start;
//!   `clock`: the movable clock of the demo and of `[clock] start`.
//! - `listener`: the HTTP accept loop with connection caps, timeouts and
//!   the open-file budget.
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
//! - `metrics`, `ops`: Prometheus metrics, /healthz, /readyz, /metrics.
//! - `heartbeat`: the scheduled end-to-end exercise to a canary device;
//!   `heartbeat_status`: its last verdict, read by /readyz.
//! - `residents`, `issuers`, `chiefs`, `pages`: the route groups;
//!   `device_keys`: residents' verified keys, in memory.
//! - `ratelimit`: per-client rate limits of the public and resident routes.
//! - `openapi`: the API's OpenAPI document, generated from the route
//!   groups' annotations and served at /openapi.json; `schemas`: the
//!   shapes of bodies built as JSON values, for that document.
//! - `error`: stable error codes; `extract`: body extractors with the
//!   API's errors; `ids`: random record ids.
//! - `staff_text`: the rule for text people typed that staff will read.

pub mod alerts_view;
pub mod audit;
pub mod audit_log;
pub mod auth;
pub mod channels;
pub mod chiefs;
pub mod clock;
pub mod compose;
pub mod config;
pub mod convert;
pub mod device_keys;
pub mod edit_locks;
pub mod error;
pub mod events;
pub mod expiry;
pub mod extract;
pub mod heartbeat;
pub mod heartbeat_status;
pub mod ids;
pub mod issuers;
pub mod listener;
pub mod login_pool;
pub mod login_throttle;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod ratelimit;
pub mod residents;
pub mod runtime;
pub mod schemas;
pub mod staff_text;
pub mod startup;
pub mod state;
pub mod subscribers;
pub mod workers;

use std::time::Instant;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

pub use error::{ApiError, ApiResult, ErrorCode};
pub use state::{AppState, EngineHandle, StateInner};

/// Every route with its documentation: each route group registers its
/// handlers with `routes!`, which takes a handler's path and method from
/// its `#[utoipa::path]` annotation, so no route exists undocumented.
/// [`router`] serves these routes; [`openapi::document`] is built from
/// the same function.
///
/// Body limits: the JSON API's extractors read at most `body_limit`
/// (`server.body_limit`) and no body beyond it is accepted at all (refused
/// from its declared length). The routes that take CAP documents
/// ([`issuers::cap_routes`]) sit outside those limits and read up to
/// `server.cap_body_limit` themselves, naming that limit when they refuse.
pub fn routes(body_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .merge(residents::routes())
        .merge(issuers::routes())
        .merge(chiefs::routes())
        .merge(ops::routes())
        .merge(openapi::routes())
        .merge(pages::routes())
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit))
        // Added after the limits above: they do not apply to it.
        .merge(issuers::cap_routes())
}

/// The whole HTTP surface: [`routes`] with the error shape, metrics and
/// tracing around every request.
pub fn router(state: AppState) -> Router {
    let (routes, _) = routes(state.config.server.body_limit).split_for_parts();
    routes
        .layer(middleware::from_fn(error::json_errors))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_request,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Counts every request by route template (never the raw path: it may
/// carry ids) and status, with its latency.
async fn record_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.http(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
