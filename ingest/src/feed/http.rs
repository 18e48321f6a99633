//! Polls a CAP feed (Atom, RSS, or a single CAP document) over HTTP(S).
//!
//! Each poll is a conditional GET (`If-None-Match` / `If-Modified-Since`
//! from the last 200): a 304 costs the agency nothing and counts as the
//! feed being alive. A 200 body is read as it streams and refused as soon
//! as it passes `max_bytes`; a body whose `Content-Type` is HTML, or which
//! does not start like XML, is refused before parsing (NCDR's CDN answers
//! missing files with an IIS 404 page in Big5, sometimes with status 200),
//! and the parser refuses HTML pages again on content. The document then
//! goes through the pipeline; CAP documents an index feed links to are
//! fetched the same way (each link once, unless fetching it failed).
//!
//! Errors (network, timeouts, 4xx/5xx, oversized or non-CAP bodies) are
//! retried with exponential backoff and jitter; a successful poll waits the
//! feed's interval, never less than the minimum interval.
//!
//! Loss windows: an entry that appears and disappears from a feed between
//! two polls is never seen; a linked document that keeps failing is retried
//! every poll while the feed lists it, and lost once the feed drops it.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{
    CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use reqwest::{StatusCode, Url};
use tokio_util::sync::CancellationToken;

use super::backoff::Backoff;
use super::pipeline::{IngestReport, MessageOutcome, Pipeline, PipelineError, RejectReason};
use crate::source::config::MIN_POLL_INTERVAL_SECS;
use crate::source::{HttpFeedConfig, SourceId};
use cap::parse;

/// A response body and its (ETag, Last-Modified).
type Fetched = (Vec<u8>, (Option<String>, Option<String>));

/// Links remembered as fetched, per feed; far more than any feed lists.
const SEEN_LINKS_CAPACITY: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("bad feed URL `{url}`: {detail}")]
    BadUrl { url: String, detail: String },
    #[error("HTTP client: {0}")]
    Client(reqwest::Error),
    #[error("{url}: request failed: {source}")]
    Request {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url}: HTTP status {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: body larger than {limit} bytes, refused")]
    TooLarge { url: String, limit: usize },
    #[error("{url}: not CAP: {detail}")]
    NotCap { url: String, detail: String },
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

/// Timing rules of the poll loop; defaults are the production values.
#[derive(Debug, Clone)]
pub struct PollTiming {
    /// No poll follows a successful one sooner than this.
    pub min_interval: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl Default for PollTiming {
    fn default() -> Self {
        PollTiming {
            min_interval: Duration::from_secs(MIN_POLL_INTERVAL_SECS),
            backoff_base: super::backoff::DEFAULT_BACKOFF_BASE,
            backoff_max: super::backoff::DEFAULT_BACKOFF_MAX,
        }
    }
}

/// What one poll did.
#[derive(Debug, Clone, PartialEq)]
pub enum PollOutcome {
    /// 304: nothing changed since the last poll.
    NotModified,
    /// The feed (and its new linked documents) went through the pipeline.
    Fetched {
        feed: IngestReport,
        linked: Vec<IngestReport>,
        /// Linked documents that could not be fetched (retried next poll).
        link_failures: usize,
    },
}

/// One feed's poller and its memory between polls.
pub struct HttpPoller {
    source: SourceId,
    config: HttpFeedConfig,
    url: Url,
    client: reqwest::Client,
    pipeline: Arc<Pipeline>,
    timing: PollTiming,
    etag: Option<String>,
    last_modified: Option<String>,
    seen_links: HashSet<String>,
    seen_order: VecDeque<String>,
    backoff: Backoff,
}

impl HttpPoller {
    pub fn new(
        source: SourceId,
        config: HttpFeedConfig,
        pipeline: Arc<Pipeline>,
        timing: PollTiming,
    ) -> Result<Self, FeedError> {
        let url = Url::parse(&config.url).map_err(|e| FeedError::BadUrl {
            url: config.url.clone(),
            detail: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FeedError::BadUrl {
                url: config.url.clone(),
                detail: "only http and https are polled".to_owned(),
            });
        }
        let client = reqwest::Client::builder()
            .redirect(redirect_policy())
            .timeout(config.timeout())
            .connect_timeout(config.timeout())
            .user_agent(concat!("hazardline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(FeedError::Client)?;
        let backoff = Backoff::new(timing.backoff_base, timing.backoff_max);
        Ok(HttpPoller {
            source,
            config,
            url,
            client,
            pipeline,
            timing,
            etag: None,
            last_modified: None,
            seen_links: HashSet::new(),
            seen_order: VecDeque::new(),
            backoff,
        })
    }

    /// Polls the feed once: conditional GET, pipeline, linked documents.
    pub async fn poll_once(&mut self) -> Result<PollOutcome, FeedError> {
        let url = self.url.clone();
        let Some((body, validators)) = self.fetch(&url, true).await? else {
            self.pipeline.health().record_success(&self.source);
            return Ok(PollOutcome::NotModified);
        };
        let feed = self.pipeline.ingest(&self.source, &body).await?;
        if let [
            MessageOutcome::Rejected {
                key: None,
                reason,
                detail,
            },
        ] = feed.outcomes.as_slice()
            && matches!(reason, RejectReason::NotCap | RejectReason::Unreadable)
        {
            // The feed itself was unreadable (already archived as rejected):
            // a failed poll, retried with backoff and without validators.
            return Err(FeedError::NotCap {
                url: url.to_string(),
                detail: detail.clone(),
            });
        }
        // Validators are kept only for a feed we could read, so a bad
        // response is fetched in full again next time.
        (self.etag, self.last_modified) = validators;
        let mut linked = Vec::new();
        let mut link_failures = 0;
        if self.config.follow_links {
            let new_links: Vec<Url> = feed
                .links
                .iter()
                .filter_map(|link| url.join(link).ok())
                .filter(|link| matches!(link.scheme(), "http" | "https"))
                .filter(|link| !self.seen_links.contains(link.as_str()))
                .take(self.config.max_links_per_poll)
                .collect();
            for link in new_links {
                match self.fetch(&link, false).await {
                    Ok(Some((body, _))) => {
                        linked.push(self.pipeline.ingest(&self.source, &body).await?);
                        self.remember(link.as_str());
                    }
                    Ok(None) => self.remember(link.as_str()),
                    Err(FeedError::Pipeline(e)) => return Err(FeedError::Pipeline(e)),
                    Err(error) => {
                        link_failures += 1;
                        tracing::warn!(source = %self.source, %error, "linked CAP document not fetched; retried next poll");
                    }
                }
            }
        }
        Ok(PollOutcome::Fetched {
            feed,
            linked,
            link_failures,
        })
    }

    fn remember(&mut self, link: &str) {
        if self.seen_links.insert(link.to_owned()) {
            self.seen_order.push_back(link.to_owned());
            while self.seen_order.len() > SEEN_LINKS_CAPACITY {
                if let Some(old) = self.seen_order.pop_front() {
                    self.seen_links.remove(&old);
                }
            }
        }
    }

    /// GETs `url`: the body and its validators (ETag, Last-Modified), or
    /// None on 304. Conditional headers only for the feed.
    async fn fetch(&mut self, url: &Url, conditional: bool) -> Result<Option<Fetched>, FeedError> {
        let mut request = self.client.get(url.clone()).header(
            reqwest::header::ACCEPT,
            "application/cap+xml, application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1",
        );
        if conditional {
            if let Some(etag) = &self.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(last_modified) = &self.last_modified {
                request = request.header(IF_MODIFIED_SINCE, last_modified);
            }
        }
        let request_error = |source| FeedError::Request {
            url: url.to_string(),
            source,
        };
        let mut response = request.send().await.map_err(request_error)?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED && conditional {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(FeedError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let limit = self.config.max_bytes;
        let too_large = || FeedError::TooLarge {
            url: url.to_string(),
            limit,
        };
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|len| len > limit) {
            return Err(too_large());
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        let validators = (
            header_string(&response, ETAG),
            header_string(&response, LAST_MODIFIED),
        );
        let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit));
        while let Some(chunk) = response.chunk().await.map_err(request_error)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        if let Err(detail) = check_is_cap(content_type.as_deref(), &body) {
            // Kept in the archive (once per distinct page) for the operator.
            self.pipeline
                .reject_document(
                    &self.source,
                    &body,
                    RejectReason::NotCap,
                    format!("{url}: {detail}"),
                )
                .await?;
            return Err(FeedError::NotCap {
                url: url.to_string(),
                detail,
            });
        }
        Ok(Some((body, validators)))
    }

    /// Polls until shutdown: the feed's interval after a success, backoff
    /// after a failure. A poll in progress is finished before stopping.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let interval = self.config.interval(self.timing.min_interval);
        loop {
            let wait = match self.poll_once().await {
                Ok(outcome) => {
                    self.backoff.reset();
                    if let PollOutcome::Fetched { feed, linked, .. } = &outcome {
                        tracing::debug!(
                            source = %self.source,
                            accepted = feed.accepted() + linked.iter().map(IngestReport::accepted).sum::<usize>(),
                            "feed polled"
                        );
                    }
                    interval
                }
                Err(error) => {
                    let wait = self.backoff.next_delay();
                    tracing::warn!(
                        source = %self.source,
                        %error,
                        failures = self.backoff.failures(),
                        retry_in_ms = wait.as_millis() as u64,
                        "feed poll failed"
                    );
                    metrics::counter!("hazardline_ingest_poll_errors_total", "source" => self.source.to_string())
                        .increment(1);
                    wait
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// Follows at most five redirects, and never from HTTPS down to HTTP: a feed
/// trusted for its HTTPS origin must not be served over plain HTTP.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let downgrade = attempt.url().scheme() == "http"
            && attempt.previous().iter().any(|u| u.scheme() == "https");
        if downgrade {
            attempt.error("redirect from https to http refused")
        } else if attempt.previous().len() > 5 {
            attempt.error("more than 5 redirects")
        } else {
            attempt.follow()
        }
    })
}

/// Refuses what is certainly not CAP: an HTML Content-Type, or a body that
/// does not start like XML. (The parser also recognizes HTML by content.)
fn check_is_cap(content_type: Option<&str>, body: &[u8]) -> Result<(), String> {
    if let Some(ct) = content_type
        && (ct.starts_with("text/html") || ct.starts_with("application/xhtml"))
    {
        return Err(format!("Content-Type {ct}"));
    }
    if !parse::looks_like_xml(body) {
        return Err("body does not start like XML".to_owned());
    }
    Ok(())
}

fn header_string(
    response: &reqwest::Response,
    name: reqwest::header::HeaderName,
) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
