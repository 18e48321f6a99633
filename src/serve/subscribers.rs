//! The one way a stored subscriber is changed: under that subscriber's
//! edit lock, read fresh from the store, change, write durably, then give
//! to the engine. Residents' own edits, a chief dismissing a relay need,
//! expired locations and devices providers report dead all go through
//! [`edit`], so none can overwrite another's change. The locks themselves
//! are [`crate::serve::edit_locks::EditLocks`], shared through the state.

use store::{SubscriberId, SubscriberRecord};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::serve::state::AppState;

/// Changes subscriber `id`: under their lock, reads the stored record,
/// applies `change` and, when it says so (`Ok(true)`), writes the
/// record and gives it to the engine. Returns the record as it now
/// stands, or None when there is no such subscriber. An error from
/// `change` leaves the record untouched.
pub async fn edit<F>(
    state: &AppState,
    id: &SubscriberId,
    change: F,
) -> ApiResult<Option<SubscriberRecord>>
where
    F: FnOnce(&mut SubscriberRecord) -> ApiResult<bool>,
{
    let _edit = state.subscriber_locks.lock(id).await;
    let Some(mut record) = state.storage.subscriber(id).await? else {
        return Ok(None);
    };
    if !change(&mut record)? {
        return Ok(Some(record));
    }
    publish(state, record).await.map(Some)
}

/// Stores a new subscriber (its id is fresh: nobody else can be
/// editing it) and gives it to the engine.
pub async fn create(state: &AppState, record: SubscriberRecord) -> ApiResult<SubscriberRecord> {
    let _edit = state.subscriber_locks.lock(&record.id).await;
    publish(state, record).await
}

/// Erases subscriber `id` from the store, then from the engine and the
/// alerts view. The engine's part may fail (shutting down) after the
/// store's succeeded: that is logged, not returned, as the store no
/// longer holds them and a restarted engine will not either.
pub async fn delete(state: &AppState, id: &SubscriberId) -> ApiResult<()> {
    let _edit = state.subscriber_locks.lock(id).await;
    state.storage.delete_subscriber(id).await?;
    if let Err(error) = forget(state, id).await {
        tracing::warn!(subscriber = %id.0, code = ?error.code, "deleted subscriber not yet removed from the engine");
    }
    Ok(())
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
    sync_engine(state, &record).await?;
    Ok(record)
}

/// Makes the engine match `record` as stored now. A shared location that
/// has expired is left out.
async fn sync_engine(state: &AppState, record: &SubscriberRecord) -> ApiResult<()> {
    let now = state.clock.now();
    let subscriber = crate::serve::convert::engine_subscriber_at(record, &state.atlas, now)?;
    if let Some(location) = record.location.as_ref().filter(|l| l.expires > now) {
        state
            .location_expiries
            .schedule(location.expires, record.id.clone());
    }
    match state
        .engine
        .run(move |engine| engine.upsert_subscriber(subscriber))
        .await
    {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => {
            tracing::error!(%error, "engine refused a subscriber");
            Err(ApiError::new(
                ErrorCode::Internal,
                "the subscriber could not be indexed",
            ))
        }
        Err(_) => Err(engine_stopped()),
    }
}

/// Removes the subscriber from the engine and the alerts view.
async fn forget(state: &AppState, id: &SubscriberId) -> ApiResult<()> {
    let pseudonym = id.0.clone();
    state.alerts_view.forget(id);
    state
        .engine
        .run(move |engine| engine.remove_subscriber(&pseudonym))
        .await
        .map(|_| ())
        .map_err(|_| engine_stopped())
}

fn engine_stopped() -> ApiError {
    ApiError::new(
        ErrorCode::Unavailable,
        "the matcher is not running; retry later",
    )
}

/// Withdraws every shared location whose time is up, from the store and
/// the engine; returns how many. The runtime calls this periodically.
pub async fn expire_locations(state: &AppState) -> usize {
    let now = state.clock.now();
    let mut withdrawn = 0;
    for id in state.location_expiries.take_due(now) {
        // A location renewed since is scheduled again under its new expiry
        // and left alone; an expired one is dropped by the write.
        let mut expired = false;
        let outcome = edit(state, &id, |record| {
            expired = record.location.as_ref().is_some_and(|l| l.expires <= now);
            Ok(expired)
        })
        .await;
        match outcome {
            Ok(_) => withdrawn += usize::from(expired),
            Err(error) => {
                tracing::warn!(subscriber = %id.0, code = ?error.code, "withdrawing an expired location failed; retrying later");
                state
                    .location_expiries
                    .schedule(now + chrono::Duration::seconds(30), id);
            }
        }
    }
    withdrawn
}
