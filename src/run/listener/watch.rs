//! Time limits hyper does not enforce itself: a connection on which
//! nothing moves ([`Activity`], [`Watched`]) and a request body that does
//! not arrive in time ([`DeadlineBody`]). hyper's own header-read timeout
//! covers request heads.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// The shortest pause between two looks at a connection's activity.
const MIN_IDLE_CHECK: Duration = Duration::from_millis(50);

/// When a connection last moved a byte, and whether a handler is working
/// for it (a handler computing a slow answer is not idleness).
#[derive(Debug)]
pub struct Activity {
    started: Instant,
    /// Milliseconds from `started` to the last byte read or written.
    last_millis: AtomicU64,
    handlers: AtomicUsize,
}

impl Activity {
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            started: Instant::now(),
            last_millis: AtomicU64::new(0),
            handlers: AtomicUsize::new(0),
        })
    }

    fn touch(&self) {
        let millis = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_millis.fetch_max(millis, Ordering::Relaxed);
    }

    /// Marks a handler at work until the guard is dropped.
    pub fn busy(self: &Arc<Self>) -> Busy {
        self.handlers.fetch_add(1, Ordering::Relaxed);
        Busy(self.clone())
    }

    /// Completes once no byte has moved for `limit` while no handler was
    /// working.
    pub async fn idle_for(&self, limit: Duration) {
        loop {
            let last =
                self.started + Duration::from_millis(self.last_millis.load(Ordering::Relaxed));
            let quiet = last.elapsed();
            let working = self.handlers.load(Ordering::Relaxed) > 0;
            if quiet >= limit && !working {
                return;
            }
            // Sleep to the earliest moment the connection could be idle;
            // a working handler is looked at again a full period later
            // (when it finishes, the quiet period starts afresh).
            let wait = if working {
                limit
            } else {
                limit.saturating_sub(quiet)
            };
            tokio::time::sleep(wait.max(MIN_IDLE_CHECK)).await;
        }
    }
}

/// A handler at work; see [`Activity::busy`].
pub struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        // The idle period starts when the handler finishes, not when the
        // request arrived.
        self.0.touch();
        self.0.handlers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A socket that records its traffic in an [`Activity`].
pub struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> Watched<T> {
    pub fn new(inner: T, activity: Arc<Activity>) -> Watched<T> {
        Watched { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The request body ran past its deadline.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimeout(Duration);

/// A request body that fails once its deadline passes, however steadily
/// it trickles in (tower-http's body timeout restarts at every frame, so a
/// client sending a byte at a time would never meet it).
pub struct DeadlineBody<B> {
    inner: B,
    limit: Duration,
    deadline: Pin<Box<Sleep>>,
    on_timeout: fn(),
}

impl<B> DeadlineBody<B> {
    /// `on_timeout` runs once, when the deadline cuts the body off.
    pub fn new(inner: B, limit: Duration, on_timeout: fn()) -> DeadlineBody<B> {
        DeadlineBody {
            inner,
            limit,
            deadline: Box::pin(tokio::time::sleep(limit)),
            on_timeout,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if self.inner.is_end_stream() {
            return Poll::Ready(None);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                (self.on_timeout)();
                Poll::Ready(Some(Err(Box::new(BodyTimeout(self.limit)))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    //! Real time with short limits; every wait is bounded by
    //! [`NEVER`], so a limit that does not act fails instead of hanging.
    use super::*;
    use http_body_util::BodyExt;
    use http_body_util::StreamBody;

    const NEVER: Duration = Duration::from_secs(10);

    #[tokio::test]
    async fn a_body_trickling_past_its_deadline_fails() {
        // A byte every 20 ms forever: each frame is prompt, the whole is
        // never done.
        let drip = futures_util::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Some((
                Ok::<_, io::Error>(Frame::data(Bytes::from_static(b"x"))),
                (),
            ))
        });
        let body = DeadlineBody::new(
            StreamBody::new(Box::pin(drip)),
            Duration::from_millis(200),
            || {},
        );
        let collected = tokio::time::timeout(NEVER, body.collect())
            .await
            .expect("the deadline cuts the body off");
        let Err(error) = collected else {
            panic!("a whole body from a client that never finishes");
        };
        assert!(error.to_string().contains("did not arrive"), "{error}");
    }

    #[tokio::test]
    async fn a_body_within_its_deadline_is_whole() {
        let body = DeadlineBody::new(
            http_body_util::Full::new(Bytes::from_static(b"{}")),
            Duration::from_secs(5),
            || {},
        );
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"{}");
    }

    #[tokio::test]
    async fn a_working_handler_is_not_idleness() {
        let activity = Activity::new();
        let busy = activity.busy();
        let limit = Duration::from_millis(50);
        let idle = tokio::time::timeout(Duration::from_millis(500), activity.idle_for(limit));
        assert!(idle.await.is_err(), "idle while a handler works");
        drop(busy);
        let idle = tokio::time::timeout(NEVER, activity.idle_for(limit));
        assert!(idle.await.is_ok(), "never idle once the handler is done");
    }
}
