//! Recovery: once an alert is over, everyone it told gets the relief steps
//! that apply to the place it told them about (temporary housing, damage
//! certificates, relief payments, tax relief, disaster loans), once each,
//! in their language. Who may declare recovery is the console's rule
//! (the alert's office, or a supervisor over its area); this is what
//! happens once they have: the steps are queued to every device and, the
//! first time, written to each person's inbox (not among their alerts in
//! force: the alert is over).

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
        // Queued first: a store that is down answers 503 and writes no
        // inbox entry for steps that were not queued.
        let queued = self.outbox.queue(relief.deliveries).await?;
        let mut outcome = engine::Outcome {
            alert: engine::alert_key(alert),
            exercise: alert.status != cap::Status::Actual,
            notices: relief.notices,
            ..engine::Outcome::default()
        };
        self.recorder.record(&mut outcome, now).await;
        Ok(ReliefSent {
            people: relief.people,
            queued,
        })
    }
}
