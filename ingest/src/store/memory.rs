//! An archive held in memory: the same contract as the durable archives
//! (SQLite and Redis, in the `store` crate), kept for as long as the value
//! lives.
//!
//! For tests of ingest's own behaviour and for short-lived tools that need
//! an archive but nothing kept: it forgets everything when dropped, so it
//! is never the archive of a running service. Clones share one archive, so
//! a test can "restart" a pipeline on what an earlier one recorded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use super::{
    AcceptedMessage, AlertArchive, ArchiveFuture, NewRecord, Recorded, StoredMessage, Verdict,
    content_hash,
};
use cap::model::MessageKey;

/// What makes two records the same message (see the module invariants in
/// [`super`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Identity {
    /// Sender, identifier, and `sent` as an instant (as written when it
    /// does not parse).
    Accepted(String, String, String),
    /// An accepted message without a key: its content.
    AcceptedUnkeyed(String),
    /// Source, content, reason.
    Rejected(String, String, Option<String>),
}

fn accepted_identity(key: &MessageKey) -> Identity {
    let sent = DateTime::parse_from_rfc3339(key.sent.trim())
        .map(|t| t.with_timezone(&Utc).to_rfc3339())
        .unwrap_or_else(|_| key.sent.clone());
    Identity::Accepted(key.sender.clone(), key.identifier.clone(), sent)
}

#[derive(Debug, Default)]
struct Contents {
    /// In the order recorded; a message's id is its index + 1.
    messages: Vec<StoredMessage>,
    by_identity: HashMap<Identity, i64>,
}

impl Contents {
    fn get(&self, id: i64) -> Option<&StoredMessage> {
        usize::try_from(id - 1)
            .ok()
            .and_then(|index| self.messages.get(index))
    }
}

/// The in-memory [`AlertArchive`].
#[derive(Debug, Clone, Default)]
pub struct MemoryArchive {
    contents: Arc<Mutex<Contents>>,
}

impl MemoryArchive {
    pub fn new() -> Self {
        Self::default()
    }

    fn contents(&self) -> MutexGuard<'_, Contents> {
        self.contents.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`AlertArchive::record`]. Nothing here waits, so the trait's futures
    /// run these at once; the lock is never held across an await.
    fn record_now(&self, record: &NewRecord<'_>) -> Recorded {
        let sha256 = content_hash(record.raw);
        let identity = match (record.verdict, record.key) {
            (Verdict::Accepted, Some(key)) => accepted_identity(key),
            (Verdict::Accepted, None) => Identity::AcceptedUnkeyed(sha256.clone()),
            (Verdict::Rejected, _) => Identity::Rejected(
                record.source.as_str().to_owned(),
                sha256.clone(),
                record.reason.map(str::to_owned),
            ),
        };
        let mut contents = self.contents();
        if let Some(&id) = contents.by_identity.get(&identity) {
            return Recorded { id, new: false };
        }
        let id = i64::try_from(contents.messages.len()).unwrap_or(i64::MAX - 1) + 1;
        contents.messages.push(StoredMessage {
            id,
            source: record.source.clone(),
            received_at: record.received_at,
            verdict: record.verdict,
            reason: record.reason.map(str::to_owned),
            detail: record.detail.map(str::to_owned),
            key: record.key.cloned(),
            sha256,
            raw: record.raw.to_vec(),
            alert: record.alert.cloned(),
            authority: record.authority.cloned(),
        });
        contents.by_identity.insert(identity, id);
        Recorded { id, new: true }
    }

    /// [`AlertArchive::accepted_since`].
    fn accepted_since_now(&self, since: DateTime<Utc>) -> Vec<AcceptedMessage> {
        let contents = self.contents();
        let mut accepted: Vec<(DateTime<Utc>, i64, AcceptedMessage)> = contents
            .messages
            .iter()
            .filter(|m| m.verdict == Verdict::Accepted)
            .filter_map(|m| {
                let alert = m.alert.clone()?;
                let sent = alert.sent.with_timezone(&Utc);
                (sent >= since).then(|| {
                    let message = AcceptedMessage {
                        alert,
                        source: m.source.clone(),
                        authority: m.authority.clone(),
                    };
                    (sent, m.id, message)
                })
            })
            .collect();
        accepted.sort_by_key(|(sent, id, _)| (*sent, *id));
        accepted.into_iter().map(|(_, _, m)| m).collect()
    }
}

impl AlertArchive for MemoryArchive {
    fn record<'a>(&'a self, record: &'a NewRecord<'a>) -> ArchiveFuture<'a, Recorded> {
        Box::pin(async move { Ok(self.record_now(record)) })
    }

    fn find_accepted<'a>(
        &'a self,
        key: &'a MessageKey,
    ) -> ArchiveFuture<'a, Option<StoredMessage>> {
        Box::pin(async move {
            let contents = self.contents();
            Ok(contents
                .by_identity
                .get(&accepted_identity(key))
                .and_then(|&id| contents.get(id))
                .cloned())
        })
    }

    fn rejected(&self, limit: usize) -> ArchiveFuture<'_, Vec<StoredMessage>> {
        Box::pin(async move {
            Ok(self
                .contents()
                .messages
                .iter()
                .rev()
                .filter(|m| m.verdict == Verdict::Rejected)
                .take(limit)
                .cloned()
                .collect())
        })
    }

    fn accepted_since(&self, since: DateTime<Utc>) -> ArchiveFuture<'_, Vec<AcceptedMessage>> {
        Box::pin(async move { Ok(self.accepted_since_now(since)) })
    }

    fn count(&self, verdict: Verdict) -> ArchiveFuture<'_, u64> {
        Box::pin(async move {
            let n = self
                .contents()
                .messages
                .iter()
                .filter(|m| m.verdict == verdict)
                .count();
            Ok(u64::try_from(n).unwrap_or(u64::MAX))
        })
    }
}
