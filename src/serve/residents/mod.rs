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

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, PoisonError};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use chrono::{DateTime, Utc};
use store::{SubscriberId, SubscriberRecord};

use crate::serve::error::{ApiError, ApiResult, ErrorCode};
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
    /// Shared locations by expiry, so each is withdrawn on time.
    expiries: Mutex<BTreeSet<(DateTime<Utc>, SubscriberId)>>,
    edit_locks: Vec<tokio::sync::Mutex<()>>,
}

impl Default for Residents {
    fn default() -> Residents {
        Residents {
            keys: auth::DeviceKeys::default(),
            expiries: Mutex::new(BTreeSet::new()),
            edit_locks: (0..EDIT_LOCKS)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }
}

impl Residents {
    /// Remembers when the shared locations of `subscribers` expire (call at
    /// start with every stored subscriber).
    pub fn track_locations<'a>(&self, subscribers: impl IntoIterator<Item = &'a SubscriberRecord>) {
        let mut expiries = self.expiries.lock().unwrap_or_else(PoisonError::into_inner);
        for s in subscribers {
            if let Some(location) = &s.location {
                expiries.insert((location.expires, s.id.clone()));
            }
        }
    }

    fn untrack_location(&self, id: &SubscriberId, expires: DateTime<Utc>) {
        self.expiries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(expires, id.clone()));
    }

    /// Subscribers whose location expired at or before `now`, forgotten.
    fn due(&self, now: DateTime<Utc>) -> Vec<SubscriberId> {
        let mut expiries = self.expiries.lock().unwrap_or_else(PoisonError::into_inner);
        let mut due = Vec::new();
        while let Some(first) = expiries.first() {
            if first.0 > now {
                break;
            }
            if let Some((_, id)) = expiries.pop_first() {
                due.push(id);
            }
        }
        due
    }

    /// Looks at `id` again in a while (the store could not be read).
    fn retry_later(&self, id: SubscriberId, now: DateTime<Utc>) {
        self.expiries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((now + chrono::Duration::seconds(30), id));
    }

    /// The lock serializing edits of `id`.
    async fn edit(&self, id: &SubscriberId) -> tokio::sync::MutexGuard<'_, ()> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut hasher);
        self.edit_locks[(hasher.finish() as usize) % EDIT_LOCKS]
            .lock()
            .await
    }
}

/// Writes `record` to the store, then gives it to the engine. A shared
/// location past its expiry is dropped on the way.
async fn publish(state: &AppState, mut record: SubscriberRecord) -> ApiResult<SubscriberRecord> {
    let now = state.clock.now();
    if record.location.as_ref().is_some_and(|l| l.expires <= now) {
        record.location = None;
    }
    // Converted before writing, so a record the engine cannot take is
    // refused rather than stored.
    let subscriber = crate::serve::convert::engine_subscriber(&record, &state.atlas)?;
    state.storage.put_subscriber(&record).await?;
    state
        .engine
        .run(move |engine| engine.upsert_subscriber(subscriber))
        .await
        .map_err(|_| ApiError::new(ErrorCode::Unavailable, "the service is shutting down"))?
        .map_err(|error| {
            tracing::error!(subscriber = %record.id.0, %error, "engine refused a stored subscriber");
            ApiError::new(ErrorCode::Internal, "the subscriber could not be activated")
        })?;
    if record.location.is_some() {
        state.residents.track_locations([&record]);
    }
    Ok(record)
}

/// Withdraws every shared location whose time is up; returns how many.
/// The runtime calls this every few seconds.
pub async fn expire_locations(state: &AppState) -> usize {
    let now = state.clock.now();
    let mut withdrawn = 0;
    for id in state.residents.due(now) {
        let _edit = state.residents.edit(&id).await;
        let record = match state.storage.subscriber(&id).await {
            Ok(Some(record)) => record,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(subscriber = %id.0, %error, "cannot load a subscriber to withdraw their location; retrying later");
                state.residents.retry_later(id, now);
                continue;
            }
        };
        match &record.location {
            // Renewed since: tracked under its new expiry.
            Some(location) if location.expires > now => continue,
            None => continue,
            Some(_) => {}
        }
        match publish(state, record).await {
            Ok(_) => withdrawn += 1,
            Err(error) => {
                tracing::warn!(subscriber = %id.0, code = ?error.code, "withdrawing an expired location failed")
            }
        }
    }
    withdrawn
}

/// Runs [`expire_locations`] every `every` until the task is dropped.
pub async fn run_location_expiry(state: AppState, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let withdrawn = expire_locations(&state).await;
        if withdrawn > 0 {
            tracing::debug!(withdrawn, "shared locations expired");
        }
    }
}
