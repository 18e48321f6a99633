//! Residents' verified device keys, kept in memory so that most resident
//! requests need not ask the store.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use chrono::{DateTime, Duration, Utc};
use store::{KeyHash, SubscriberId};

/// How long a verified key is believed without asking the store again.
pub const KEY_CACHE_TTL_SECS: i64 = 60;
/// Cached keys kept; past this the cache is cleared (the store answers).
const KEY_CACHE_MAX: usize = 200_000;

/// Verified device keys, in memory.
#[derive(Debug, Default)]
pub struct DeviceKeys {
    // Read on every resident request, written once a minute per device:
    // readers share the lock.
    keys: RwLock<HashMap<KeyHash, (SubscriberId, DateTime<Utc>)>>,
}

impl DeviceKeys {
    pub fn get(&self, hash: &KeyHash, now: DateTime<Utc>) -> Option<SubscriberId> {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        keys.get(hash)
            .filter(|(_, until)| *until > now)
            .map(|(id, _)| id.clone())
    }

    pub fn insert(&self, hash: KeyHash, id: SubscriberId, now: DateTime<Utc>) {
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        if keys.len() >= KEY_CACHE_MAX {
            keys.retain(|_, (_, until)| *until > now);
            if keys.len() >= KEY_CACHE_MAX {
                keys.clear();
            }
        }
        keys.insert(hash, (id, now + Duration::seconds(KEY_CACHE_TTL_SECS)));
    }

    pub fn remove(&self, hash: &KeyHash) {
        self.keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(hash);
    }
}

/// What the resident routes keep in memory between requests.
#[derive(Debug, Default)]
pub struct Residents {
    /// Verified device keys.
    pub keys: DeviceKeys,
}
