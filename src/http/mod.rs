//! The HTTP surface: every route, grouped by who calls it, with one
//! extractor module and one error module. Handlers parse and check the
//! request, call the service (`crate::serve`), and shape the answer; the
//! rules they apply live with the service, not here.
//!
//! - `residents/`: the resident app's API (registration, places, alerts,
//!   inbox) and the public reads (alerts, geocoding, areas).
//! - `staff/`: staff sign-in and accounts (`auth`), the issuer console's
//!   drafts, sending, cancels, corrections, recovery and shelters
//!   (`issuers`), and the audit log (`audit_log`).
//! - `chiefs`: village chiefs' relay lists and their acknowledgements.
//! - `ops`: /healthz, /readyz and /metrics.
//! - `pages`: the web pages and their assets.
//! - `openapi`: the document generated from the handlers' annotations
//!   (with `crate::schemas`), served at /openapi.json.
//! - `extract`: body and cookie extractors that answer with the API's
//!   errors (`crate::error`).

pub mod chiefs;
pub mod extract;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod residents;
pub mod staff;

use std::time::Instant;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

pub use crate::error::{ApiError, ApiResult, ErrorCode};

use crate::serve::AppState;

/// Every route with its documentation: each route group registers its
/// handlers with `routes!`, which takes a handler's path and method from
/// its `#[utoipa::path]` annotation, so no route exists undocumented.
/// [`router`] serves these routes; [`openapi::document`] is built from
/// the same function.
///
/// Body limits: the JSON API's extractors read at most `body_limit`
/// (`server.body_limit`) and no body beyond it is accepted at all (refused
/// from its declared length). The routes that take CAP documents
/// ([`staff::issuers::cap_routes`]) sit outside those limits and read up to
/// `server.cap_body_limit` themselves, naming that limit when they refuse.
pub fn routes(body_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .merge(residents::routes())
        .merge(staff::routes())
        .merge(chiefs::routes())
        .merge(ops::routes())
        .merge(openapi::routes())
        .merge(pages::routes())
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit))
        // Added after the limits above: they do not apply to it.
        .merge(staff::issuers::cap_routes())
}

/// The whole HTTP surface: [`routes`] with the error shape, metrics and
/// tracing around every request.
pub fn router(state: AppState) -> Router {
    let (routes, _) = routes(state.config.server.body_limit).split_for_parts();
    routes
        .layer(middleware::from_fn(crate::error::json_errors))
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
