//! Placeholder route group: replaced by the module's owner.

use axum::Router;

use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
