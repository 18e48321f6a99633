//! Residents' credentials: a random 256-bit device key, given to the app
//! once at registration and stored only as its SHA-256. Requests present
//! it as `Authorization: Bearer <key>`.
//!
//! The key → subscriber lookups are cached in memory for a minute so the
//! hot read (`GET /me/alerts`) touches no storage; deleting an account
//! evicts its key at once on this process. With several processes on one
//! Redis store, another process may accept a deleted key for up to
//! [`KEY_CACHE_TTL_SECS`]; it then finds no alerts and no record.
//!
//! Unknown keys count against the client address (`[limits]
//! key_guesses_per_minute`); an address past its allowance is refused with
//! 429 before any lookup, a right key included, so guessing cannot be
//! spread over requests that happen to carry a valid key.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use sha2::{Digest, Sha256};
use store::{KeyHash, SubscriberId};

use crate::error::{ApiError, ErrorCode};
pub use crate::serve::device_keys::{DeviceKeys, KEY_CACHE_TTL_SECS};
use crate::serve::ratelimit::{ClientKey, RouteClass};
use crate::serve::state::AppState;

/// A new device key (returned to the app) and its hash (stored).
pub fn new_device_key() -> (String, KeyHash) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let key = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_key(&key);
    (key, hash)
}

/// A new pseudonymous subscriber id: `s_` and 128 random bits in hex.
pub fn new_subscriber_id() -> SubscriberId {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    SubscriberId(format!("s_{hex}"))
}

pub fn hash_key(key: &str) -> KeyHash {
    KeyHash(Sha256::digest(key.as_bytes()).into())
}

/// The bearer token of a request, if it carries one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// An authenticated resident (and the request counted against their
/// device's rate limit).
#[derive(Debug, Clone)]
pub struct Resident {
    pub id: SubscriberId,
    pub key_hash: KeyHash,
}

impl FromRequestParts<AppState> for Resident {
    /// A response, not an [`ApiError`]: a refusal for the rate limit
    /// carries `Retry-After`.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        authenticate(parts, state).await
    }
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Resident, Response> {
    let key = bearer(parts).ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unauthenticated,
            "send the device key as Authorization: Bearer <key>",
        )
        .into_response()
    })?;
    let key_hash = hash_key(key);
    let now = state.app.clock.now();
    let address = ClientKey::from_address(
        &parts.headers,
        &parts.extensions,
        state.limiter.config().trust_forwarded,
    );
    state
        .limiter
        .peek(address, RouteClass::KeyGuess)
        .map_err(IntoResponse::into_response)?;
    let id = match state.residents.keys.get(&key_hash, now) {
        Some(id) => id,
        None => {
            let record = state
                .app
                .storage
                .subscriber_by_key(&key_hash)
                .await
                .map_err(|e| ApiError::from(e).into_response())?;
            let Some(record) = record else {
                // Counted; this answer is still the plain refusal.
                let _ = state.limiter.check(address, RouteClass::KeyGuess);
                return Err(
                    ApiError::new(ErrorCode::Unauthenticated, "unknown device key").into_response(),
                );
            };
            state
                .residents
                .keys
                .insert(key_hash, record.id.clone(), now);
            record.id
        }
    };
    state
        .limiter
        .check(ClientKey::Device(key_hash), RouteClass::Resident)
        .map_err(IntoResponse::into_response)?;
    Ok(Resident { id, key_hash })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};

    #[test]
    fn keys_are_random_256_bit_and_only_their_hash_matches() {
        let (a, ha) = new_device_key();
        let (b, hb) = new_device_key();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_eq!(hash_key(&a), ha);
        assert_ne!(ha, hb);
        let id = new_subscriber_id();
        assert!(id.0.starts_with("s_") && id.0.len() == 34);
    }

    #[test]
    fn cached_keys_expire_and_can_be_revoked() {
        let cache = DeviceKeys::default();
        let now = Utc::now();
        let (_, hash) = new_device_key();
        cache.insert(hash, SubscriberId("s_1".into()), now);
        assert_eq!(cache.get(&hash, now), Some(SubscriberId("s_1".into())));
        let later = now + Duration::seconds(KEY_CACHE_TTL_SECS);
        assert_eq!(cache.get(&hash, later), None);
        cache.remove(&hash);
        assert_eq!(cache.get(&hash, now), None);
    }
}
