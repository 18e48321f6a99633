//! The append-only audit log as the API uses it: one helper every staff
//! action calls (who, when, what, on what). Operators and supervisors read
//! it through `audit_log`.
//!
//! Entries name people only by pseudonymous ids (account ids, subscriber
//! ids, alert ids), never by name, phone or address, so that erasing a
//! resident leaves the log intact and free of their personal data. The
//! store chains every entry to the previous one by hash.

use store::{AuditEntry, NewAuditEntry};

use crate::error::ApiResult;
use crate::serve::state::AppState;

/// Appends one entry stamped with the service clock.
pub async fn record(
    state: &AppState,
    actor: &str,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> ApiResult<AuditEntry> {
    let entry = NewAuditEntry {
        at: state.app.clock.now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        target: target.to_owned(),
        detail,
    };
    Ok(state.app.storage.append_audit(entry).await?)
}
