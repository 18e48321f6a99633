//! The residents' API (`/api/v1/subscribers`, `/api/v1/me/*`) and the
//! public reads (`/api/v1/alerts`, `/api/v1/geocode`, `/api/v1/geo/areas`).
//!
//! - `request`: request bodies and their validation into store records.
//! - `places`: addresses geocoded and points located into places.
//! - `auth`: device keys and the [`auth::Resident`] extractor.
//! - `quota`: rate-limit extractors for the anonymous routes.
//! - `body`: JSON bodies with the API's error codes.
//! - `me`: registration and everything a resident does to their own data.
//! - `public`: what anyone may read.
//!
//! Every change goes through `app::subscribers`: written to the
//! store durably first, then pushed to the engine, serialized per
//! subscriber so two concurrent edits cannot lose one another. Personal data is never logged: log lines name
//! the pseudonymous id only.

pub mod auth;
pub mod body;
pub mod me;
pub mod places;
pub mod public;
pub mod quota;
pub mod request;

use axum::extract::DefaultBodyLimit;
use store::SubscriberId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiResult;
use crate::serve::state::AppState;

/// The resident and public routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me::register))
        .routes(routes!(me::show, me::update, me::delete))
        .routes(routes!(me::add_place))
        .routes(routes!(me::remove_place))
        .routes(routes!(me::share_location, me::stop_location))
        .routes(routes!(me::set_relay, me::clear_relay))
        .routes(routes!(me::alerts))
        .routes(routes!(me::inbox))
        .routes(routes!(public::alerts))
        .routes(routes!(public::live))
        .routes(routes!(public::geocode))
        .routes(routes!(public::areas))
        .layer(DefaultBodyLimit::max(body::RESIDENT_BODY_LIMIT))
}

/// Removes `id`'s relay need for `village` (a chief dismissing them from
/// the list), as if the person had withdrawn it: they see it gone and may
/// ask again. False when they have no relay need for that village.
pub async fn dismiss_relay(state: &AppState, id: &SubscriberId, village: &str) -> ApiResult<bool> {
    let mut dismissed = false;
    state
        .app
        .subscribers
        .edit(id, |record| {
            if record.relay.as_ref().is_some_and(|r| r.village == village) {
                record.relay = None;
                dismissed = true;
            }
            Ok::<_, crate::error::ApiError>(dismissed)
        })
        .await?;
    Ok(dismissed)
}
