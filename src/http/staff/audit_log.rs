//! The audit log's reading route, for operators and supervisors
//! (`GET /api/v1/audit`); entries are written through `audit::record`.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::http::staff::auth::Auditor;
use crate::serve::state::AppState;

/// Most entries one read returns.
const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 100;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Page {
    /// Sequence number: entries after it.
    #[serde(default)]
    #[param(default = 0)]
    after: u64,
    /// Entries at most (default 100; more than 1000 are read as 1000).
    #[param(minimum = 1)]
    limit: Option<usize>,
}

#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "operators",
    operation_id = "audit",
    summary = "Audit log (operators, supervisors)",
    description = "Operators and supervisors. Every entry is chained to the previous one by `hash`, so an edited or removed entry shows.",
    params(Page),
    security(("session" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["operator", "supervisor"]))),
    responses(
        (status = 200, description = "Entries after `after`, oldest first", body = crate::schemas::AuditPage),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: only operators and supervisors may read the audit log.", body = ErrorBody),
        (status = 400, description = "`malformed_request` (`field` names the parameter): `after` or `limit` is not a number.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
async fn read(
    State(state): State<AppState>,
    Auditor(_auditor): Auditor,
    Query(page): Query<Page>,
) -> ApiResult<Json<serde_json::Value>> {
    let limit = page.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let entries = state.app.storage.audit(page.after, limit).await?;
    Ok(Json(serde_json::json!({ "entries": entries })))
}
