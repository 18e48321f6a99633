//! The HTTP feed poller against a real HTTP server on 127.0.0.1:0.

mod sources_support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ingest::clock::ManualClock;
use ingest::feed::http::{FeedError, HttpPoller, PollOutcome, PollTiming};
use ingest::feed::{Pipeline, PipelineConfig};
use ingest::lifecycle::LifecycleEvent;
use ingest::signature::TrustedKeys;
use ingest::source::{HttpFeedConfig, SourceId, SourceTrust};
use ingest::store::{AlertArchive, MemoryArchive};
use sources_support::{cap_xml, utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const ETAG: &str = "\"v1\"";
const LAST_MODIFIED: &str = "Mon, 22 Apr 2024 06:58:00 GMT";

#[derive(Default)]
struct Server {
    feed_hits: AtomicUsize,
    conditional_hits: AtomicUsize,
    cap_hits: AtomicUsize,
    flaky_times: Mutex<Vec<Instant>>,
}

fn atom_index(links: &[&str]) -> String {
    let entries: String = links
        .iter()
        .enumerate()
        .map(|(i, href)| {
            format!(
                "<entry><id>e{i}</id><title>t</title><updated>2024-04-22T14:58:00+08:00</updated>\
                 <link rel=\"alternate\" type=\"application/cap+xml\" href=\"{href}\"/></entry>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <id>ncdr</id><title>NCDR</title><updated>2024-04-22T14:58:00+08:00</updated>{entries}</feed>"
    )
}

fn cap(identifier: &str) -> String {
    cap_xml(
        "weather@cwa.gov.tw",
        identifier,
        "2024-04-22T14:57:47+08:00",
        "Alert",
        "",
        "2024-04-22T18:00:00+08:00",
    )
}

async fn feed(State(s): State<Arc<Server>>, headers: HeaderMap) -> Response {
    s.feed_hits.fetch_add(1, Ordering::SeqCst);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(ETAG)
        && headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            == Some(LAST_MODIFIED);
    if matches {
        s.conditional_hits.fetch_add(1, Ordering::SeqCst);
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "application/atom+xml"),
            (header::ETAG, ETAG),
            (header::LAST_MODIFIED, LAST_MODIFIED),
        ],
        // A relative and an absolute-path link; the second is a missing file.
        atom_index(&["cap/A1.cap", "/missing.cap"]),
    )
        .into_response()
}

async fn cap_a1(State(s): State<Arc<Server>>) -> Response {
    s.cap_hits.fetch_add(1, Ordering::SeqCst);
    ([(header::CONTENT_TYPE, "application/cap+xml")], cap("A1")).into_response()
}

/// What NCDR's CDN serves for a missing .cap: an IIS 404 page, as HTML.
async fn missing() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=big5")],
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\"><html><head><title>404 - File or directory not found.</title></head><body>404</body></html>",
    )
        .into_response()
}

/// HTML error page served with an XML Content-Type: caught by content.
async fn disguised() -> Response {
    (
        [(header::CONTENT_TYPE, "application/xml")],
        "  \n<html><body>Server Error</body></html>",
    )
        .into_response()
}

/// A body that never ends, streamed in chunks without Content-Length.
async fn endless() -> Response {
    let chunk = vec![b' '; 64 * 1024];
    let stream = futures_util::StreamExt::map(
        futures_util::stream::repeat(bytes::Bytes::from(chunk)),
        Ok::<_, std::io::Error>,
    );
    (
        [(header::CONTENT_TYPE, "application/xml")],
        Body::from_stream(stream),
    )
        .into_response()
}

/// A server that answers too late.
async fn slow() -> Response {
    tokio::time::sleep(Duration::from_secs(10)).await;
    ([(header::CONTENT_TYPE, "application/cap+xml")], cap("S1")).into_response()
}

/// A body whose Content-Length alone is over the limit.
async fn declared_big() -> Response {
    (
        [(header::CONTENT_TYPE, "application/xml")],
        format!("<a>{}</a>", " ".repeat(300 * 1024)),
    )
        .into_response()
}

async fn flaky(State(s): State<Arc<Server>>) -> Response {
    let n = {
        let mut times = s.flaky_times.lock().unwrap();
        times.push(Instant::now());
        times.len()
    };
    if n <= 4 {
        (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/cap+xml")], cap("F1")).into_response()
    }
}

async fn serve() -> (SocketAddr, Arc<Server>) {
    let state = Arc::new(Server::default());
    #[expect(
        clippy::disallowed_methods,
        reason = "a stand-in feed server, not the service's API"
    )]
    let app = Router::new()
        .route("/feed.atom", get(feed))
        .route("/cap/A1.cap", get(cap_a1))
        .route("/missing.cap", get(missing))
        .route("/disguised.xml", get(disguised))
        .route("/endless.xml", get(endless))
        .route("/flaky.cap", get(flaky))
        .route("/declared-big.xml", get(declared_big))
        .route("/slow.cap", get(slow))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, state)
}

struct Rig {
    pipeline: Arc<Pipeline>,
    archive: Arc<MemoryArchive>,
    events: mpsc::Receiver<LifecycleEvent>,
}

async fn rig() -> Rig {
    let archive = Arc::new(MemoryArchive::new());
    let (tx, events) = mpsc::channel(64);
    let trust = SourceTrust::new(
        SourceId::new("ncdr"),
        vec!["*@cwa.gov.tw".parse().unwrap()],
        false,
        TrustedKeys::default(),
    );
    let pipeline = Pipeline::new(
        ManualClock::shared(utc("2024-04-22T15:00:00+08:00")),
        archive.clone(),
        vec![trust],
        tx,
        PipelineConfig::default(),
    )
    .await
    .unwrap();
    Rig {
        pipeline: Arc::new(pipeline),
        archive,
        events,
    }
}

fn fast_timing() -> PollTiming {
    PollTiming {
        min_interval: Duration::from_millis(10),
        backoff_base: Duration::from_millis(40),
        backoff_max: Duration::from_secs(2),
    }
}

fn poller(rig: &Rig, url: String, max_bytes: usize) -> HttpPoller {
    let mut config = HttpFeedConfig::new(url);
    config.max_bytes = max_bytes;
    config.timeout_secs = 5;
    HttpPoller::new(
        SourceId::new("ncdr"),
        config,
        rig.pipeline.clone(),
        fast_timing(),
    )
    .unwrap()
}

#[tokio::test]
async fn index_feed_links_are_fetched_then_304_until_the_feed_changes() {
    let (addr, server) = serve().await;
    let mut rig = rig().await;
    let mut poller = poller(&rig, format!("http://{addr}/feed.atom"), 1 << 20);

    let outcome = poller.poll_once().await.unwrap();
    let PollOutcome::Fetched {
        feed,
        linked,
        link_failures,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(feed.outcomes.is_empty(), "an index carries no CAP itself");
    assert_eq!(feed.links.len(), 2);
    assert_eq!(linked.len(), 1);
    assert!(linked[0].outcomes[0].is_accepted());
    assert_eq!(link_failures, 1, "the HTML 404 page is refused");
    assert!(matches!(rig.events.try_recv(), Ok(LifecycleEvent::New(a)) if a.identifier == "A1"));

    // The refused page is kept in the archive with its reason.
    let rejected = rig.archive.rejected(10).await.unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].reason.as_deref(), Some("not_cap"));
    assert!(
        rejected[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("missing.cap")
    );

    // Second poll: validators sent back, 304, nothing fetched again.
    assert_eq!(poller.poll_once().await.unwrap(), PollOutcome::NotModified);
    assert_eq!(server.conditional_hits.load(Ordering::SeqCst), 1);
    assert_eq!(server.feed_hits.load(Ordering::SeqCst), 2);
    assert_eq!(server.cap_hits.load(Ordering::SeqCst), 1);
    assert!(
        rig.pipeline
            .health()
            .last_success(&SourceId::new("ncdr"))
            .is_some()
    );
}

#[tokio::test]
async fn html_pages_and_oversized_bodies_are_refused() {
    let (addr, _server) = serve().await;
    let rig = rig().await;

    let mut p = poller(&rig, format!("http://{addr}/missing.cap"), 1 << 20);
    let err = p.poll_once().await.unwrap_err();
    assert!(
        matches!(&err, FeedError::NotCap { detail, .. } if detail.contains("text/html")),
        "{err}"
    );

    let mut p = poller(&rig, format!("http://{addr}/disguised.xml"), 1 << 20);
    let err = p.poll_once().await.unwrap_err();
    assert!(
        matches!(&err, FeedError::NotCap { .. }) || matches!(&err, FeedError::Pipeline(_)),
        "{err}"
    );
    // Either way nothing was accepted from it.
    assert!(rig.pipeline.active().is_empty());

    let mut p = poller(&rig, format!("http://{addr}/endless.xml"), 256 * 1024);
    let started = Instant::now();
    let err = p.poll_once().await.unwrap_err();
    assert!(
        matches!(err, FeedError::TooLarge { limit: 262_144, .. }),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    let mut p = poller(&rig, format!("http://{addr}/declared-big.xml"), 256 * 1024);
    assert!(matches!(
        p.poll_once().await.unwrap_err(),
        FeedError::TooLarge { .. }
    ));

    let mut config = HttpFeedConfig::new(format!("http://{addr}/slow.cap"));
    config.timeout_secs = 1;
    let mut p = HttpPoller::new(
        SourceId::new("ncdr"),
        config,
        rig.pipeline.clone(),
        fast_timing(),
    )
    .unwrap();
    let started = Instant::now();
    let err = p.poll_once().await.unwrap_err();
    assert!(
        matches!(&err, FeedError::Request { source, .. } if source.is_timeout()),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    let mut p = poller(&rig, format!("http://{addr}/no-such-route"), 1 << 20);
    assert!(matches!(
        p.poll_once().await.unwrap_err(),
        FeedError::Status { status: 404, .. }
    ));
}

#[tokio::test]
async fn errors_back_off_exponentially_then_the_feed_is_read() {
    let (addr, server) = serve().await;
    let mut rig = rig().await;
    let p = poller(&rig, format!("http://{addr}/flaky.cap"), 1 << 20);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(p.run(shutdown.clone()));

    let event = tokio::time::timeout(Duration::from_secs(10), rig.events.recv())
        .await
        .unwrap();
    assert!(matches!(event, Some(LifecycleEvent::New(a)) if a.identifier == "F1"));
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();

    let times = server.flaky_times.lock().unwrap().clone();
    assert!(times.len() >= 5);
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    // Waits are drawn from [d/2, d] with d = 40, 80, 160, 320 ms.
    assert!(gaps[0] >= Duration::from_millis(20), "{gaps:?}");
    assert!(gaps[3] >= Duration::from_millis(160), "{gaps:?}");
    assert!(gaps[3] > gaps[0], "{gaps:?}");
}
