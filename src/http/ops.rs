//! Operator endpoints: `/healthz` (the process answers), `/readyz` (it can
//! do its job: store, engine, feeds, delivery queue, heartbeat; 503 with
//! the reasons otherwise) and `/metrics` (Prometheus text).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::serve::state::AppState;

/// An engine that does not answer within this is considered stuck.
const ENGINE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const STORE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Also served alone on the operator listener (`server.ops_listen`) and
/// on connections past the main listener's caps.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "ops",
    operation_id = "healthz",
    summary = "The process is up",
    description = "Answers as long as the process serves HTTP; says nothing of its dependencies (see /readyz).",
    extensions(("x-roles" = json!(["anyone"]))),
    responses(
        (status = 200, description = "Up", body = crate::schemas::Health),
    ),
)]
async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

#[utoipa::path(
    get,
    path = "/readyz",
    tag = "ops",
    operation_id = "readyz",
    summary = "Ready to serve: store, engine, feeds, queue, heartbeat",
    description = "503 with the reasons when the store does not answer, the engine has stopped, a feed is stale (with `readiness.fail_on_stale_feed`), the oldest pending delivery waits longer than `readiness.max_queue_age_secs`, or the last heartbeat failed.",
    extensions(("x-roles" = json!(["anyone"]))),
    responses(
        (status = 200, description = "Ready", body = crate::schemas::Readiness),
        (status = 503, description = "Not ready; reasons listed", body = crate::schemas::Readiness),
    ),
)]
async fn readyz(State(state): State<AppState>) -> Response {
    let reasons = not_ready_reasons(&state).await;
    if reasons.is_empty() {
        (StatusCode::OK, Json(json!({"status": "ready"}))).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not_ready", "reasons": reasons})),
        )
            .into_response()
    }
}

/// Why the service cannot do its job now; empty when it can.
pub async fn not_ready_reasons(state: &AppState) -> Vec<serde_json::Value> {
    let mut reasons = Vec::new();
    match tokio::time::timeout(STORE_PROBE_TIMEOUT, state.app.storage.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness: store ping failed");
            reasons.push(json!({"check": "store", "reason": "the store does not answer"}));
        }
        Err(_) => reasons.push(json!({"check": "store", "reason": "the store ping timed out"})),
    }
    let probe = state.app.engine.run(|engine| engine.active_count());
    match tokio::time::timeout(ENGINE_PROBE_TIMEOUT, probe).await {
        Ok(Ok(_)) => {}
        Ok(Err(_)) => reasons.push(json!({"check": "engine", "reason": "the engine has stopped"})),
        Err(_) => reasons.push(json!({"check": "engine", "reason": "the engine is not answering"})),
    }
    if state.config.readiness.fail_on_stale_feed {
        for status in state.app.alerts.feed_health().snapshot() {
            if status.stale {
                reasons.push(json!({
                    "check": "feed",
                    "source": status.source.to_string(),
                    "reason": "no message or successful poll within its stale_after",
                }));
            }
        }
    }
    // The queue's own figures as last polled; real time, as the queue keeps
    // it (the service clock may be replaying the past).
    let (depth, age) = state
        .metrics
        .queue_depth_and_age(chrono::Utc::now())
        .unwrap_or((0, 0.0));
    if depth > 0 && age > state.config.readiness.max_queue_age_secs as f64 {
        reasons.push(json!({
            "check": "queue",
            "reason": format!("the oldest of {depth} pending deliveries waits for {age:.0} s"),
        }));
    }
    if let Some(reason) = state.heartbeat.failure() {
        reasons.push(json!({"check": "heartbeat", "reason": reason}));
    }
    reasons
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "ops",
    operation_id = "metrics",
    summary = "Prometheus metrics",
    description = "Requests by route template and status, feeds, queue, deliveries, engine.",
    extensions(("x-roles" = json!(["anyone"]))),
    responses(
        (status = 200, description = "Prometheus text format (version 0.0.4)", content_type = "text/plain", body = String),
    ),
)]
async fn metrics(State(state): State<AppState>) -> Response {
    let text = state
        .metrics
        .render(state.app.alerts.feed_health(), state.app.clock.now());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
