//! Rate-limit checks for the anonymous routes, as extractors: a handler
//! that takes [`PublicQuota`] or [`SubscribeQuota`] runs only when the
//! client has a token left. (Authenticated routes are counted by
//! [`crate::http::residents::auth::Resident`] against the device.)

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::http::residents::auth::{bearer, hash_key};
use crate::serve::ratelimit::{ClientKey, Limited, RouteClass};
use crate::serve::state::AppState;

/// The client of an anonymous request: a device whose key this process has
/// already verified (a cache hit, so no storage read), else the address.
fn client(parts: &Parts, state: &AppState) -> ClientKey {
    if let Some(key) = bearer(parts) {
        let hash = hash_key(key);
        if state
            .residents
            .keys
            .get(&hash, state.app.clock.now())
            .is_some()
        {
            return ClientKey::Device(hash);
        }
    }
    ClientKey::from_address(
        &parts.headers,
        &parts.extensions,
        state.limiter.config().trust_forwarded,
    )
}

fn take(parts: &Parts, state: &AppState, class: RouteClass) -> Result<(), Limited> {
    state.limiter.check(client(parts, state), class)
}

/// One request of the `public_per_minute` allowance.
pub struct PublicQuota;

impl FromRequestParts<AppState> for PublicQuota {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        take(parts, state, RouteClass::Public)
            .map(|()| PublicQuota)
            .map_err(IntoResponse::into_response)
    }
}

/// One registration of the `subscribe_per_minute` allowance.
pub struct SubscribeQuota;

impl FromRequestParts<AppState> for SubscribeQuota {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        take(parts, state, RouteClass::Subscribe)
            .map(|()| SubscribeQuota)
            .map_err(IntoResponse::into_response)
    }
}
