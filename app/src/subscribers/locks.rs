//! The locks serializing edits of one subscriber (taken by
//! `subscribers`, the one write path of stored subscribers).

use std::hash::{Hash, Hasher};

use store::SubscriberId;

/// Independent locks serializing edits of one subscriber.
const EDIT_LOCKS: usize = 64;

/// One lock per slot; a subscriber's edits take the slot of their id.
#[derive(Debug)]
pub struct EditLocks {
    locks: Vec<tokio::sync::Mutex<()>>,
}

/// Held while one subscriber is being changed.
pub type EditGuard<'a> = tokio::sync::MutexGuard<'a, ()>;

impl Default for EditLocks {
    fn default() -> EditLocks {
        EditLocks {
            locks: (0..EDIT_LOCKS)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }
}

impl EditLocks {
    /// The lock serializing edits of `id` (read, change, write, sync).
    pub async fn lock(&self, id: &SubscriberId) -> EditGuard<'_> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut hasher);
        self.locks[(hasher.finish() as usize) % EDIT_LOCKS]
            .lock()
            .await
    }
}
