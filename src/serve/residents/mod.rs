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
//! Every change is written to the store durably first, then pushed to the
//! engine; a subscriber's changes are serialized so two concurrent edits
//! cannot lose one another. Personal data is never logged: log lines name
//! the pseudonymous id only.

pub mod auth;
pub mod body;
pub mod me;
pub mod places;
pub mod public;
pub mod quota;
pub mod request;

use std::hash::{Hash, Hasher};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use store::{SubscriberId, SubscriberRecord};

use crate::serve::error::ApiResult;
use crate::serve::state::AppState;

/// The resident and public routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/subscribers", post(me::register))
        .route(
            "/api/v1/me",
            get(me::show).patch(me::update).delete(me::delete),
        )
        .route("/api/v1/me/places", post(me::add_place))
        .route("/api/v1/me/places/{id}", delete(me::remove_place))
        .route(
            "/api/v1/me/location",
            put(me::share_location).delete(me::stop_location),
        )
        .route(
            "/api/v1/me/relay",
            put(me::set_relay).delete(me::clear_relay),
        )
        .route("/api/v1/me/alerts", get(me::alerts))
        .route("/api/v1/me/inbox", get(me::inbox))
        .route("/api/v1/alerts", get(public::alerts))
        .route("/api/v1/alerts/live", get(public::live))
        .route("/api/v1/geocode", get(public::geocode))
        .route("/api/v1/geo/areas", get(public::areas))
        .layer(DefaultBodyLimit::max(body::RESIDENT_BODY_LIMIT))
}

/// Independent locks serializing edits of one subscriber.
const EDIT_LOCKS: usize = 64;

/// What the resident routes keep in memory between requests.
#[derive(Debug)]
pub struct Residents {
    /// Verified device keys.
    pub keys: auth::DeviceKeys,
    edit_locks: Vec<tokio::sync::Mutex<()>>,
}

impl Default for Residents {
    fn default() -> Residents {
        Residents {
            keys: auth::DeviceKeys::default(),
            edit_locks: (0..EDIT_LOCKS)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }
}

impl Residents {
    /// The lock serializing edits of `id` (read, change, write, sync).
    async fn edit(&self, id: &SubscriberId) -> tokio::sync::MutexGuard<'_, ()> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut hasher);
        self.edit_locks[(hasher.finish() as usize) % EDIT_LOCKS]
            .lock()
            .await
    }
}

/// Writes `record` to the store, then gives it to the engine (which
/// schedules the withdrawal of a shared location). A shared location past
/// its expiry is dropped on the way: only a live point is ever kept.
async fn publish(state: &AppState, mut record: SubscriberRecord) -> ApiResult<SubscriberRecord> {
    let now = state.clock.now();
    if record.location.as_ref().is_some_and(|l| l.expires <= now) {
        record.location = None;
    }
    // Checked before writing, so a record the engine cannot take is refused
    // rather than stored.
    crate::serve::convert::engine_subscriber_at(&record, &state.atlas, now)?;
    state.storage.put_subscriber(&record).await?;
    state.sync_subscriber(&record).await?;
    Ok(record)
}

/// Removes `id`'s relay need for `village` (a chief dismissing them from
/// the list), as if the person had withdrawn it: they see it gone and may
/// ask again. False when they have no relay need for that village.
pub async fn dismiss_relay(state: &AppState, id: &SubscriberId, village: &str) -> ApiResult<bool> {
    let _edit = state.residents.edit(id).await;
    let Some(mut record) = state.storage.subscriber(id).await? else {
        return Ok(false);
    };
    if record.relay.as_ref().is_none_or(|r| r.village != village) {
        return Ok(false);
    }
    record.relay = None;
    publish(state, record).await?;
    Ok(true)
}

/// Withdraws every shared location whose time is up, from the store and
/// the engine; returns how many. The runtime calls this periodically.
pub async fn expire_locations(state: &AppState) -> usize {
    let now = state.clock.now();
    let mut withdrawn = 0;
    for id in state.location_expiries.take_due(now) {
        let _edit = state.residents.edit(&id).await;
        let record = match state.storage.subscriber(&id).await {
            Ok(Some(record)) => record,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(subscriber = %id.0, %error, "cannot load a subscriber to withdraw their location; retrying later");
                state
                    .location_expiries
                    .schedule(now + chrono::Duration::seconds(30), id);
                continue;
            }
        };
        match &record.location {
            // Renewed since: scheduled again under its new expiry.
            Some(location) if location.expires > now => continue,
            None => continue,
            Some(_) => {}
        }
        match publish(state, record).await {
            Ok(_) => withdrawn += 1,
            Err(error) => {
                tracing::warn!(subscriber = %id.0, code = ?error.code, "withdrawing an expired location failed");
            }
        }
    }
    withdrawn
}
