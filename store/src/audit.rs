//! The audit log's hash chain, shared by both backends.
//!
//! Entry `n` carries `hash_n = SHA-256(hash_{n-1} ‖ "\n" ‖ JSON of (seq,
//! at, actor, action, target, detail))` in hex, with 64 zeros before the
//! first entry. Editing, removing or reordering any entry breaks every hash
//! after it; [`verify_audit_chain`] finds the first entry that does not
//! follow.

use sha2::{Digest, Sha256};

use crate::{AuditEntry, NewAuditEntry, Result, Storage};

/// The hash "before" the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain hash of `entry` numbered `seq`, following `previous`.
pub fn chain_hash(previous: &str, seq: u64, entry: &NewAuditEntry) -> String {
    let body = serde_json::json!({
        "seq": seq,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "detail": entry.detail,
    });
    let digest = Sha256::new()
        .chain_update(previous.as_bytes())
        .chain_update(b"\n")
        .chain_update(body.to_string().as_bytes())
        .finalize();
    hex::encode(digest)
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("audit entry {seq}: expected sequence number {expected} (an entry is missing)")]
    Gap { seq: u64, expected: u64 },
    #[error("audit entry {seq}: hash does not match its content and predecessor (altered)")]
    Hash { seq: u64 },
}

/// Checks that `entries` (consecutive, oldest first) follow `previous`,
/// the hash of the entry before the first (or [`GENESIS`] from the start).
/// Returns the hash of the last entry, to continue with the next page.
pub fn verify_audit_chain(
    entries: &[AuditEntry],
    previous: &str,
) -> std::result::Result<String, ChainBreak> {
    let mut previous = previous.to_string();
    let mut expected_seq = None;
    for entry in entries {
        if let Some(expected) = expected_seq
            && entry.seq != expected
        {
            return Err(ChainBreak::Gap {
                seq: entry.seq,
                expected,
            });
        }
        if chain_hash(&previous, entry.seq, &entry.entry) != entry.hash {
            return Err(ChainBreak::Hash { seq: entry.seq });
        }
        previous.clone_from(&entry.hash);
        expected_seq = Some(entry.seq + 1);
    }
    Ok(previous)
}

/// Verifies a store's whole audit log from its first entry, a page at a
/// time. `Ok(Ok(n))`: `n` entries, all chained; `Ok(Err(break))`: where the
/// log was altered.
pub async fn verify_stored_audit_log(
    storage: &dyn Storage,
) -> Result<std::result::Result<u64, ChainBreak>> {
    const PAGE: usize = 1000;
    let mut previous = GENESIS.to_string();
    let mut after = 0;
    let mut verified = 0;
    loop {
        let page = storage.audit(after, PAGE).await?;
        if let Some(first) = page.first()
            && first.seq != after + 1
        {
            return Ok(Err(ChainBreak::Gap {
                seq: first.seq,
                expected: after + 1,
            }));
        }
        match verify_audit_chain(&page, &previous) {
            Ok(last) => previous = last,
            Err(broken) => return Ok(Err(broken)),
        }
        verified += page.len() as u64;
        match page.last() {
            Some(last) if page.len() == PAGE => after = last.seq,
            _ => return Ok(Ok(verified)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<AuditEntry> {
        let mut previous = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let entry = NewAuditEntry {
                    at: chrono::DateTime::from_timestamp(1_700_000_000 + seq as i64, 0).unwrap(),
                    actor: "a_1".into(),
                    action: "alert.send".into(),
                    target: format!("draft:{seq}"),
                    detail: serde_json::json!({"n": seq}),
                };
                let hash = chain_hash(&previous, seq, &entry);
                previous.clone_from(&hash);
                AuditEntry { seq, entry, hash }
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_and_any_edit_is_found() {
        let entries = chain(5);
        assert_eq!(
            verify_audit_chain(&entries, GENESIS).unwrap(),
            entries[4].hash
        );
        // Continuing from a page boundary.
        assert!(verify_audit_chain(&entries[2..], &entries[1].hash).is_ok());

        let mut edited = entries.clone();
        edited[2].entry.actor = "someone else".into();
        assert_eq!(
            verify_audit_chain(&edited, GENESIS),
            Err(ChainBreak::Hash { seq: 3 })
        );
        let mut removed = entries.clone();
        removed.remove(1);
        assert_eq!(
            verify_audit_chain(&removed, GENESIS),
            Err(ChainBreak::Gap {
                seq: 3,
                expected: 2
            })
        );
        // Recomputing one hash is not enough: the next entry still breaks.
        let mut rehashed = entries.clone();
        rehashed[2].entry.target = "draft:x".into();
        rehashed[2].hash = chain_hash(&rehashed[1].hash, 3, &rehashed[2].entry);
        assert_eq!(
            verify_audit_chain(&rehashed, GENESIS),
            Err(ChainBreak::Hash { seq: 4 })
        );
    }
}
