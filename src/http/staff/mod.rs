//! What staff call: sign-in, sessions and accounts (`auth`), the issuer
//! console's alert routes (`issuers`) and the audit log (`audit_log`).

pub mod audit_log;
pub mod auth;
pub mod issuers;

use utoipa_axum::router::OpenApiRouter;

use crate::serve::AppState;

/// The staff routes that take JSON bodies (the CAP upload routes are
/// [`issuers::cap_routes`], outside the JSON body limits).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::routes())
        .merge(audit_log::routes())
        .merge(issuers::routes())
}
