//! The audit log's reading route, for operators and supervisors
//! (`GET /api/v1/audit`); entries are written through `audit::record`.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::Auditor;
use super::error::ApiResult;
use super::state::AppState;

/// Most entries one read returns.
const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 100;

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
