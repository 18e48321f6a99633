//! The engine lives on one task; everything else reaches it through
//! [`EngineHandle`], one job at a time, so its state never needs a lock.

use engine::Engine;
use tokio::sync::{mpsc, oneshot};

type EngineJob = Box<dyn FnOnce(&mut Engine) + Send>;

/// The way to the engine's task. Cheap to clone.
#[derive(Clone)]
pub struct EngineHandle {
    jobs: mpsc::Sender<EngineJob>,
}

#[derive(Debug, thiserror::Error)]
#[error("the engine task has stopped")]
pub struct EngineStopped;

impl EngineHandle {
    /// Starts the engine's task.
    pub fn spawn(mut engine: Engine) -> EngineHandle {
        let (jobs, mut rx) = mpsc::channel::<EngineJob>(1024);
        tokio::task::spawn_blocking(move || {
            while let Some(job) = rx.blocking_recv() {
                job(&mut engine);
            }
        });
        EngineHandle { jobs }
    }

    /// Runs `f` on the engine and returns its result.
    pub async fn run<R, F>(&self, f: F) -> Result<R, EngineStopped>
    where
        R: Send + 'static,
        F: FnOnce(&mut Engine) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: EngineJob = Box::new(move |engine| {
            let _ = tx.send(f(engine));
        });
        self.jobs.send(job).await.map_err(|_| EngineStopped)?;
        rx.await.map_err(|_| EngineStopped)
    }
}
