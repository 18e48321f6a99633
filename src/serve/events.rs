//! The event loop: each lifecycle event from ingest goes through the engine
//! (on its task), then its deliveries are queued durably, its notices
//! appended to the inboxes and the alerts view updated; the public notice
//! goes to the live feed. Also the restoring of alerts in force at start.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ingest::lifecycle::LifecycleEvent;
use notifier::channel::Channel;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::engine::Outcome;
use crate::serve::alerts_view::notice_kind_name;
use crate::serve::heartbeat;
use crate::serve::state::AppState;

/// Deliveries written to the queue per transaction.
const ENQUEUE_CHUNK: usize = 5000;
/// Retries of a failed enqueue before the chunk is given up.
const ENQUEUE_ATTEMPTS: u64 = 5;

/// Lifecycle events → engine → deliveries queued, inboxes written, the
/// alerts view updated. After `stop`, handles what is already waiting.
pub async fn event_loop(
    state: AppState,
    mut events: mpsc::Receiver<LifecycleEvent>,
    stop: CancellationToken,
    done: CancellationToken,
) {
    loop {
        let event = tokio::select! {
            biased;
            event = events.recv() => event,
            _ = stop.cancelled() => break,
        };
        let Some(event) = event else { break };
        handle_event(&state, event).await;
    }
    while let Ok(event) = events.try_recv() {
        handle_event(&state, event).await;
    }
    done.cancel();
}

/// After a restart, the alerts still in force (rebuilt by ingest from the
/// archive) go through the engine again, so that their later Update,
/// Cancel or expiry reaches exactly the people they reached, and the
/// alerts view shows them. Deliveries are queued again: the queue's
/// idempotency keys drop those already queued, and any lost in a crash
/// between the engine and the queue go out now. Inboxes already hold them.
pub async fn restore_active(state: &AppState) {
    let active = state.pipeline.active();
    if active.is_empty() {
        return;
    }
    let now = state.clock.now();
    let mut restored = 0usize;
    for alert in active {
        let event = LifecycleEvent::New(alert);
        let result = state
            .engine
            .run(move |engine| engine.handle(&event, now))
            .await;
        let Ok(Ok(mut outcome)) = result else {
            tracing::error!("an alert in force could not be restored into the engine");
            continue;
        };
        outcome.public.clear();
        let deliveries = std::mem::take(&mut outcome.deliveries);
        match state.storage.queue().enqueue_many(deliveries).await {
            Ok(added) => state.metrics.enqueued(added),
            Err(error) => tracing::error!(%error, "restored deliveries not queued"),
        }
        state.alerts_view.apply(&outcome);
        restored += 1;
    }
    tracing::info!(restored, "alerts in force restored into the engine");
}

fn event_label(event: &LifecycleEvent) -> &'static str {
    match event {
        LifecycleEvent::New(_) => "new",
        LifecycleEvent::Updated { .. } => "update",
        LifecycleEvent::Cancelled { .. } => "cancel",
        LifecycleEvent::Expired(_) => "expired",
    }
}

async fn handle_event(state: &AppState, event: LifecycleEvent) {
    let kind = event_label(&event);
    let now = state.clock.now();
    let result = state
        .engine
        .run(move |engine| engine.handle(&event, now))
        .await;
    let outcome = match result {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(error)) => {
            tracing::error!(kind, %error, "engine could not handle the event");
            return;
        }
        Err(error) => {
            tracing::error!(kind, %error, "engine stopped");
            return;
        }
    };
    state.metrics.event(kind, outcome.notices.len());
    tracing::info!(
        kind,
        alert = %crate::engine::alert_id(&outcome.alert),
        told = outcome.notices.len(),
        deliveries = outcome.deliveries.len(),
        coalesced = outcome.coalesced,
        exercise = outcome.exercise,
        "event handled"
    );
    record_outcome(state, outcome, now).await;
}

/// Queues the deliveries durably, then inboxes and the alerts view.
pub async fn record_outcome(state: &AppState, mut outcome: Outcome, now: DateTime<Utc>) {
    // The live page is best effort (no record): straight to the broadcast.
    for notice in std::mem::take(&mut outcome.public) {
        let _ = state.live.send(&notice).await;
    }
    // The queue is the record that matters: each chunk is retried a few
    // times on a failing store before it is given up (the alert stays in
    // the archive and is restored at the next start). Chunks keep each
    // transaction short and let the workers start on the first while the
    // rest is written.
    let deliveries = std::mem::take(&mut outcome.deliveries);
    for chunk in deliveries.chunks(ENQUEUE_CHUNK) {
        let mut attempt = 0u64;
        loop {
            match state.storage.queue().enqueue_many(chunk.to_vec()).await {
                Ok(added) => {
                    state.metrics.enqueued(added);
                    break;
                }
                Err(error) if attempt < ENQUEUE_ATTEMPTS => {
                    attempt += 1;
                    tracing::warn!(%error, attempt, "enqueue failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(error) => {
                    tracing::error!(%error, deliveries = chunk.len(), "deliveries could not be queued");
                    break;
                }
            }
        }
    }
    let inbox: Vec<store::InboxEntry> = outcome
        .notices
        .iter()
        .filter(|t| !heartbeat::is_canary(&t.subscriber))
        .map(|told| store::InboxEntry {
            subscriber: store::SubscriberId(told.subscriber.clone()),
            alert: told.facts.alert.0.clone(),
            at: now,
            kind: notice_kind_name(told.facts.kind).to_owned(),
            hazard: told.facts.hazard.as_str().to_owned(),
            colour: told.facts.colour.as_str().to_owned(),
            exercise: told.facts.exercise,
            title: told.message.full_title(),
            body: told.message.full_text(),
            expires: told.facts.expires.map(|t| t.to_utc()),
        })
        .collect();
    if !inbox.is_empty()
        && let Err(error) = state.storage.append_inbox(&inbox).await
    {
        tracing::error!(%error, entries = inbox.len(), "inbox entries not written");
    }
    state.alerts_view.apply(&outcome);
}
