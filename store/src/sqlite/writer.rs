//! Group commit: one thread owns the write connection and commits every
//! write waiting for it in one transaction.
//!
//! A durable commit costs an fsync (a few milliseconds on most disks);
//! committing writes one by one would cap the store at a few hundred
//! writes a second. Here callers queue their write as a job; the thread
//! takes every job that is waiting (up to [`MAX_BATCH`]), runs each inside
//! its own savepoint (a failing job is rolled back alone and gets its own
//! error), commits once, and only then answers every caller. So a write
//! is durable when its call returns, and under load one fsync carries many
//! writes.

use std::sync::mpsc;
use std::thread;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::{Result, StoreError};

/// Most jobs in one transaction: bounds the latency a single commit adds
/// to the first job of a batch.
const MAX_BATCH: usize = 512;

/// One write, type-erased so jobs of any result type share the channel.
trait Job: Send {
    /// Runs the write; false if it failed (and must be rolled back).
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the batch's fate is known.
    fn finish(self: Box<Self>, commit: std::result::Result<(), String>);
}

struct TypedJob<R, F> {
    work: Option<F>,
    result: Option<Result<R>>,
    reply: oneshot::Sender<Result<R>>,
}

impl<R, F> Job for TypedJob<R, F>
where
    R: Send,
    F: FnOnce(&Connection) -> Result<R> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let result = work(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, commit: std::result::Result<(), String>) {
        let answer = match (self.result, commit) {
            (Some(Err(error)), _) => Err(error),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(error)) => Err(StoreError::Backend(format!("commit failed: {error}"))),
            (None, Ok(())) => Err(StoreError::Backend("write was not run".into())),
        };
        // The caller may have gone away (request cancelled); the write
        // stands regardless.
        let _ = self.reply.send(answer);
    }
}

/// Handle to the writer thread. Dropping it lets the thread finish the
/// jobs already queued and waits for it to close its connection, so the
/// files are released when the store is dropped (restore relies on it).
pub(crate) struct Writer {
    jobs: Option<mpsc::Sender<Box<dyn Job>>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Writer {
    pub(crate) fn start(conn: Connection) -> Result<Writer> {
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        let thread = thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run_writer(conn, queue))?;
        Ok(Writer {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `work` in the next group commit; returns once it is durable.
    pub(crate) async fn write<R, F>(&self, work: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = TypedJob {
            work: Some(work),
            result: None,
            reply,
        };
        self.jobs
            .as_ref()
            .ok_or_else(|| StoreError::Backend("the store is closing".into()))?
            .send(Box::new(job))
            .map_err(|_| StoreError::Backend("the store's writer thread has stopped".into()))?;
        answer.await.map_err(|_| {
            StoreError::Backend("the store's writer thread stopped mid-write".into())
        })?
    }
}

fn run_writer(conn: Connection, queue: mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let outcome = commit_batch(&conn, &mut batch);
        if let Err(error) = &outcome {
            tracing::error!(%error, jobs = batch.len(), "store commit failed");
            let _ = conn.execute_batch("ROLLBACK");
        }
        for job in batch {
            job.finish(outcome.clone());
        }
    }
}

fn commit_batch(conn: &Connection, batch: &mut [Box<dyn Job>]) -> std::result::Result<(), String> {
    let step = |sql: &str| conn.execute_batch(sql).map_err(|e| e.to_string());
    step("BEGIN IMMEDIATE")?;
    for job in batch.iter_mut() {
        step("SAVEPOINT job")?;
        if job.run(conn) {
            step("RELEASE job")?;
        } else {
            step("ROLLBACK TO job")?;
            step("RELEASE job")?;
        }
    }
    step("COMMIT")
}
