//! The one way a stored subscriber is changed: under that subscriber's
//! edit lock, read fresh from the store, change, write durably, then give
//! to the engine. Residents' own edits, a chief dismissing a relay need,
//! expired locations and devices providers report dead all go through
//! [`Subscribers::edit`], so none can overwrite another's change.
//!
//! - `convert`: stored records → the engine's subscribers, every value
//!   checked with the field to blame.
//! - `locks`: the edit locks; `expiry`: when shared locations run out.

pub mod convert;
mod expiry;
mod locks;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use geodata::Atlas;
use ingest::clock::SharedClock;
use store::{Storage, StoreError, SubscriberId, SubscriberRecord};

use crate::alerts::AlertsView;
use crate::engine_task::EngineHandle;
use crate::record::Recorder;
pub use convert::ConvertError;
use expiry::LocationExpiries;
use locks::EditLocks;

/// Why a subscriber could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum SubscriberError {
    /// The record, as changed, is not one the engine can use.
    #[error(transparent)]
    Invalid(#[from] ConvertError),
    /// The engine refused it (a bug, not the resident's doing).
    #[error("the subscriber could not be indexed")]
    NotIndexed,
    #[error("the matcher is not running; retry later")]
    EngineStopped,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Stored subscribers and their copy in the engine, kept in step.
pub struct Subscribers {
    storage: Arc<dyn Storage>,
    clock: SharedClock,
    atlas: Arc<Atlas>,
    engine: EngineHandle,
    view: Arc<AlertsView>,
    /// Records what a person is told at once on joining an alert in force.
    recorder: Arc<Recorder>,
    locks: EditLocks,
    expiries: LocationExpiries,
}

impl Subscribers {
    pub fn new(
        storage: Arc<dyn Storage>,
        clock: SharedClock,
        atlas: Arc<Atlas>,
        engine: EngineHandle,
        view: Arc<AlertsView>,
        recorder: Arc<Recorder>,
    ) -> Subscribers {
        Subscribers {
            storage,
            clock,
            atlas,
            engine,
            view,
            recorder,
            locks: EditLocks::default(),
            expiries: LocationExpiries::default(),
        }
    }

    /// Changes the stored subscriber `id` with `change` (which returns
    /// whether it changed anything) and gives the result to the engine.
    /// `Ok(None)`: no such subscriber. A change that leaves the record
    /// invalid is refused and nothing is written.
    pub async fn edit<F, E>(
        &self,
        id: &SubscriberId,
        change: F,
    ) -> Result<Option<SubscriberRecord>, E>
    where
        F: FnOnce(&mut SubscriberRecord) -> Result<bool, E>,
        E: From<SubscriberError>,
    {
        let _edit = self.locks.lock(id).await;
        let Some(mut record) = self
            .storage
            .subscriber(id)
            .await
            .map_err(|e| E::from(SubscriberError::Store(e)))?
        else {
            return Ok(None);
        };
        if !change(&mut record)? {
            return Ok(Some(record));
        }
        Ok(Some(self.publish(record).await?))
    }

    /// Stores a new subscriber and gives it to the engine.
    pub async fn create(
        &self,
        record: SubscriberRecord,
    ) -> Result<SubscriberRecord, SubscriberError> {
        let _edit = self.locks.lock(&record.id).await;
        self.publish(record).await
    }

    /// Erases the subscriber from the store (every trace of their personal
    /// data), then from the engine and the alerts view.
    pub async fn delete(&self, id: &SubscriberId) -> Result<(), SubscriberError> {
        let _edit = self.locks.lock(id).await;
        self.storage.delete_subscriber(id).await?;
        self.view.forget(id);
        let pseudonym = id.0.clone();
        if self
            .engine
            .run(move |engine| engine.remove_subscriber(&pseudonym))
            .await
            .is_err()
        {
            tracing::warn!(subscriber = %id.0, "deleted subscriber not yet removed from the engine");
        }
        Ok(())
    }

    /// Schedules the withdrawal of the record's shared location when it
    /// expires (for subscribers loaded at start; edits schedule their own).
    pub fn schedule_expiry(&self, record: &SubscriberRecord, now: DateTime<Utc>) {
        if let Some(location) = record.location.as_ref().filter(|l| l.expires > now) {
            self.expiries.schedule(location.expires, record.id.clone());
        }
    }
    /// Drops an expired shared location, checks the record, writes it and
    /// gives it to the engine.
    async fn publish(
        &self,
        mut record: SubscriberRecord,
    ) -> Result<SubscriberRecord, SubscriberError> {
        let now = self.clock.now();
        if record.location.as_ref().is_some_and(|l| l.expires <= now) {
            record.location = None;
        }
        let subscriber = convert::engine_subscriber_at(&record, &self.atlas, now)?;
        self.storage.put_subscriber(&record).await?;
        self.schedule_expiry(&record, now);
        // Given to the engine, the person is told at once of the alerts in
        // force at their places that they have not been told of (a new
        // subscriber, a place added or moved, a location shared).
        let pseudonym = subscriber.pseudonym.clone();
        match self
            .engine
            .run(move |engine| {
                engine.upsert_subscriber(subscriber)?;
                engine.tell_in_force(&pseudonym, now)
            })
            .await
        {
            Ok(Ok(told)) => {
                for mut outcome in told {
                    self.recorder.record(&mut outcome, now).await;
                }
                Ok(record)
            }
            Ok(Err(error)) => {
                tracing::error!(%error, "engine refused a subscriber");
                Err(SubscriberError::NotIndexed)
            }
            Err(_) => Err(SubscriberError::EngineStopped),
        }
    }

    /// Withdraws the shared locations that expired by now (from the store
    /// and the engine), so they stop matching. Returns how many.
    pub async fn expire_locations(&self) -> usize {
        let now = self.clock.now();
        let mut withdrawn = 0;
        for id in self.expiries.take_due(now) {
            let mut expired = false;
            let outcome = self
                .edit(&id, |record| {
                    expired = record.location.as_ref().is_some_and(|l| l.expires <= now);
                    Ok::<_, SubscriberError>(expired)
                })
                .await;
            match outcome {
                Ok(_) => withdrawn += usize::from(expired),
                Err(error) => {
                    tracing::warn!(subscriber = %id.0, %error, "withdrawing an expired location failed; retrying later");
                    self.expiries
                        .schedule(now + chrono::Duration::seconds(30), id);
                }
            }
        }
        withdrawn
    }

    /// Removes the devices providers reported dead, so nothing more is
    /// sent to them.
    pub async fn disable_dead_addresses(
        &self,
        dead: Vec<(notifier::notice::SubscriberId, notifier::notice::Address)>,
    ) {
        for (id, address) in dead {
            let mut removed = false;
            let outcome = self
                .edit(&id, |record| {
                    let before = record.devices.len();
                    record
                        .devices
                        .retain(|device| !same_address(device, &address));
                    removed = record.devices.len() < before;
                    Ok::<_, SubscriberError>(removed)
                })
                .await;
            match outcome {
                Ok(_) if removed => {
                    tracing::info!(subscriber = %id.0, channel = address.channel().as_str(), "dead device removed");
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(subscriber = %id.0, %error, "dead device not removed")
                }
            }
        }
    }
}

fn same_address(device: &store::Device, address: &notifier::notice::Address) -> bool {
    use notifier::notice::Address;
    use store::DeviceChannel;
    let value = device.address.expose().trim();
    match (device.channel, address) {
        (DeviceChannel::Fcm, Address::Fcm { token }) => token.expose() == value,
        (DeviceChannel::Mqtt, Address::Mqtt { device }) => device == value,
        (DeviceChannel::Email, Address::Email { to }) => to.expose() == value,
        (DeviceChannel::Sms, Address::Sms { to }) => to.expose() == value,
        (DeviceChannel::Webhook, Address::Webhook { url, .. }) => url.expose() == value,
        _ => false,
    }
}
