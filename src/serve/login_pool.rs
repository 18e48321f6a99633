//! The bounded pool every password hash and verification runs on.
//!
//! argon2id is memory-hard on purpose: each call takes its own 19 MiB.
//! Handed to tokio's blocking pool, 200 concurrent logins ran on up to 200
//! threads at once and the allocator kept each thread's arena afterwards:
//! resident memory grew by gigabytes and never came back. Here a fixed set
//! of worker threads (one per core by default) does all argon2 work, so at
//! most that many hashes are in memory at a time and the same few arenas
//! are reused; a short queue in front of them absorbs bursts, and beyond it
//! the caller is told to come back ([`PoolError::Busy`], 429 at the API).
//!
//! A login takes its place ([`HashPool::admit`]) before it looks the
//! account up, so the whole login — store read included — is bounded, not
//! only the hash: unbounded, 200 simultaneous lookups alone grew the
//! process by some 200 MiB (a blocking thread and a read connection each).
//!
//! Two queues: a login from a trusted device (see `login_throttle`) is
//! taken before any other waiting job and has its own room in the queue, so
//! a flood of strangers' guesses can fill their queue but never delays the
//! owner by more than the hashes already running.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// Which queue a job waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A login presenting a valid device cookie for its account.
    Trusted,
    /// Everything else: other logins, account creation, the bootstrap.
    Normal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("every password worker is busy and the queue is full")]
    Busy,
    #[error("the password workers have stopped")]
    Stopped,
}

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queues {
    trusted: VecDeque<Job>,
    normal: VecDeque<Job>,
    closed: bool,
}

impl Queues {
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.trusted.len() + self.normal.len()
    }

    fn next(&mut self) -> Option<Job> {
        self.trusted.pop_front().or_else(|| self.normal.pop_front())
    }
}

struct Shared {
    queues: Mutex<Queues>,
    ready: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Worker threads and their two queues. Dropping the pool lets the workers
/// finish what is queued and stop.
pub struct HashPool {
    shared: Arc<Shared>,
    workers: usize,
    /// Places for trusted logins and for everything else: each the workers
    /// plus the queue.
    trusted_places: Arc<Semaphore>,
    normal_places: Arc<Semaphore>,
}

/// A place in the pool, held from before the account is looked up until
/// the password is checked; given back when dropped.
pub struct Admission {
    shared: Arc<Shared>,
    priority: Priority,
    _place: OwnedSemaphorePermit,
}

impl HashPool {
    /// `workers` threads (0: one per core); up to `queue` jobs of each
    /// priority wait beyond the workers' number.
    pub fn new(workers: usize, queue: usize) -> std::io::Result<HashPool> {
        let workers = if workers == 0 {
            thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            workers
        };
        let shared = Arc::new(Shared {
            queues: Mutex::new(Queues::default()),
            ready: Condvar::new(),
        });
        for n in 0..workers {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || work(&shared))?;
        }
        let places = workers.saturating_add(queue);
        Ok(HashPool {
            shared,
            workers,
            trusted_places: Arc::new(Semaphore::new(places)),
            normal_places: Arc::new(Semaphore::new(places)),
        })
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Takes a place of `priority`, or [`PoolError::Busy`] at once when
    /// they are all taken.
    pub fn admit(&self, priority: Priority) -> Result<Admission, PoolError> {
        let places = match priority {
            Priority::Trusted => &self.trusted_places,
            Priority::Normal => &self.normal_places,
        };
        let place = Arc::clone(places)
            .try_acquire_owned()
            .map_err(|_| PoolError::Busy)?;
        Ok(Admission {
            shared: Arc::clone(&self.shared),
            priority,
            _place: place,
        })
    }

    /// [`HashPool::admit`], then [`Admission::run`].
    pub async fn run<R, F>(&self, priority: Priority, job: F) -> Result<R, PoolError>
    where
        R: Send + 'static,
        F: FnOnce() -> R + Send + 'static,
    {
        self.admit(priority)?.run(job).await
    }
}

impl Admission {
    /// Runs `job` on a worker (trusted jobs before any other waiting) and
    /// returns its result; the place is given back afterwards.
    pub async fn run<R, F>(self, job: F) -> Result<R, PoolError>
    where
        R: Send + 'static,
        F: FnOnce() -> R + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The caller went away (request cancelled) while this waited:
            // spare the core for someone still waiting.
            if !reply.is_closed() {
                let _ = reply.send(job());
            }
        });
        {
            let mut queues = self.shared.lock();
            if queues.closed {
                return Err(PoolError::Stopped);
            }
            match self.priority {
                Priority::Trusted => queues.trusted.push_back(job),
                Priority::Normal => queues.normal.push_back(job),
            }
        }
        self.shared.ready.notify_one();
        answer.await.map_err(|_| PoolError::Stopped)
    }
}

impl Drop for HashPool {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_all();
    }
}

fn work(shared: &Shared) {
    let mut queues = shared.lock();
    loop {
        if let Some(job) = queues.next() {
            drop(queues);
            // A panicking job loses its own answer (the caller sees
            // Stopped), not the worker.
            if std::panic::catch_unwind(AssertUnwindSafe(job)).is_err() {
                tracing::error!("a password job panicked");
            }
            queues = shared.lock();
        } else if queues.closed {
            return;
        } else {
            queues = shared
                .ready
                .wait(queues)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Occupies the pool's only worker until the returned sender is used
    /// or dropped; returns once the worker has started on it.
    async fn occupy(pool: &Arc<HashPool>) -> (mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, hold) = mpsc::channel::<()>();
        let (started, running) = oneshot::channel();
        let pool2 = Arc::clone(pool);
        let task = tokio::spawn(async move {
            pool2
                .run(Priority::Normal, move || {
                    let _ = started.send(());
                    let _ = hold.recv();
                })
                .await
                .unwrap();
        });
        running.await.unwrap();
        (release, task)
    }

    #[tokio::test]
    async fn busy_when_the_workers_and_the_queue_are_full() {
        let pool = Arc::new(HashPool::new(1, 1).unwrap());
        let (release, first) = occupy(&pool).await;
        // The one queue place is taken …
        let pool2 = Arc::clone(&pool);
        let queued = tokio::spawn(async move { pool2.run(Priority::Normal, || 7).await });
        tokio::task::yield_now().await;
        while pool.shared.lock().normal.is_empty() {
            tokio::task::yield_now().await;
        }
        // … so the next is refused at once, not queued.
        assert_eq!(pool.run(Priority::Normal, || 8).await, Err(PoolError::Busy));
        release.send(()).unwrap();
        first.await.unwrap();
        assert_eq!(queued.await.unwrap(), Ok(7));
        // Free again.
        assert_eq!(pool.run(Priority::Normal, || 9).await, Ok(9));
    }

    #[tokio::test]
    async fn trusted_jobs_have_their_own_room_and_go_first() {
        let pool = Arc::new(HashPool::new(1, 2).unwrap());
        let (release, first) = occupy(&pool).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for (n, priority) in [
            (1, Priority::Normal),
            (2, Priority::Normal),
            (3, Priority::Trusted),
        ] {
            let (pool2, order) = (Arc::clone(&pool), Arc::clone(&order));
            waiting.push(tokio::spawn(async move {
                pool2
                    .run(priority, move || order.lock().unwrap().push(n))
                    .await
            }));
            while pool.shared.lock().waiting() < n {
                tokio::task::yield_now().await;
            }
        }
        // Strangers' queue is full; a trusted login still gets in.
        assert_eq!(
            pool.run(Priority::Normal, || ()).await,
            Err(PoolError::Busy)
        );
        release.send(()).unwrap();
        first.await.unwrap();
        for task in waiting {
            assert_eq!(task.await.unwrap(), Ok(()));
        }
        assert_eq!(*order.lock().unwrap(), vec![3, 1, 2]);
    }

    #[tokio::test]
    async fn a_panicking_job_keeps_its_worker() {
        let pool = HashPool::new(1, 1).unwrap();
        let result: Result<(), _> = pool.run(Priority::Normal, || panic!("boom")).await;
        assert_eq!(result, Err(PoolError::Stopped));
        assert_eq!(pool.run(Priority::Normal, || 1).await, Ok(1));
    }
}
