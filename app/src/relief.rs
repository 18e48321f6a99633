//! Recovery: once an alert is over, everyone it told gets the relief steps
//! that apply to the place it told them about (temporary housing, damage
//! certificates, relief payments, tax relief, disaster loans), once each,
//! in their language. Who may declare recovery is the console's rule
//! (the alert's office, or a supervisor over its area); this is what
//! happens once they have.

use cap::Alert;

use crate::App;
use crate::engine_task::EngineStopped;
use crate::outbox::OutboxError;

/// What a declaration of recovery sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReliefSent {
    /// People with at least one step for their place.
    pub people: usize,
    /// Deliveries newly queued (a repeated declaration queues none).
    pub queued: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ReliefError {
    #[error(transparent)]
    EngineStopped(#[from] EngineStopped),
    #[error("the relief messages could not be composed: {0}")]
    Engine(#[from] engine::EngineError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
}

impl App {
    /// Sends the relief steps of `alert` (in force, or ended but still
    /// remembered by the engine) to everyone it told.
    pub async fn send_relief(&self, alert: &Alert) -> Result<ReliefSent, ReliefError> {
        let catalogue = self.relief.clone();
        let now = self.clock.now();
        let key = engine::alert_key(alert);
        let relief = self
            .engine
            .run(move |engine| engine.relief(&key, &catalogue, now))
            .await??;
        let queued = self.outbox.queue(relief.deliveries).await?;
        Ok(ReliefSent {
            people: relief.people,
            queued,
        })
    }
}
