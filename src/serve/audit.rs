//! The append-only audit log as the API uses it: one helper every staff
//! action calls (who, when, what, on what), and the reading route for
//! operators and supervisors.
//!
//! Entries name people only by pseudonymous ids (account ids, subscriber
//! ids, alert ids), never by name, phone or address, so that erasing a
//! resident leaves the log intact and free of their personal data. The
//! store chains every entry to the previous one by hash.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use store::{AuditEntry, NewAuditEntry};

use super::auth::Auditor;
use super::error::ApiResult;
use super::state::AppState;

/// Most entries one read returns.
const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 100;

/// Appends one entry stamped with the service clock.
pub async fn record(
    state: &AppState,
    actor: &str,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> ApiResult<AuditEntry> {
    let entry = NewAuditEntry {
        at: state.clock.now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        target: target.to_owned(),
        detail,
    };
    Ok(state.storage.append_audit(entry).await?)
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/audit", get(read))
}

#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

async fn read(
    State(state): State<AppState>,
    Auditor(_): Auditor,
    Query(page): Query<Page>,
) -> ApiResult<Json<serde_json::Value>> {
    let limit = page.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let entries = state.storage.audit(page.after, limit).await?;
    Ok(Json(serde_json::json!({ "entries": entries })))
}
