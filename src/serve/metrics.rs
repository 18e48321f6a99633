//! Prometheus metrics at `/metrics`. Every crate records through the
//! `metrics` facade (ingest already counts accepted and rejected messages
//! and feed staleness); this module installs the Prometheus recorder and
//! records the service's own: deliveries by channel and outcome, queue
//! depth and oldest age, HTTP requests by route and status with latency,
//! feed staleness per source, heartbeat.
//!
//! Queue depth and age are the queue's own ([`DeliveryQueue::depth`]:
//! every process's deliveries, those left by earlier runs included), read
//! every few seconds by the runtime ([`crate::serve::workers::poll_queue_depth`])
//! rather than per scrape; the oldest wait is reckoned from the last read
//! at the time it is asked for.
//!
//! Every label value comes from a closed set, so no caller can make the
//! exposition grow: HTTP methods are the standard ones or `other`, routes
//! are route templates (axum's `MatchedPath`) or `unmatched`, statuses are
//! the codes the service answers with; channels, lanes and outcomes are
//! enums; sources are configured. Never a raw path, id or address.
//!
//! [`DeliveryQueue::depth`]: notifier::queue::DeliveryQueue::depth

use std::sync::{Mutex, OnceLock, PoisonError};

use chrono::{DateTime, Utc};
use ingest::source::SourceHealth;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use notifier::notice::ChannelKind;
use notifier::queue::{Lane, QueueDepth};

/// Latency buckets (seconds) for HTTP requests: the API's targets are
/// p99 < 20 ms for reads and < 50 ms for registrations.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The HTTP methods counted by name; any other is counted as `other`
/// (a client may send any token as a method).
const KNOWN_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
];

/// One recorder per process (the facade is global).
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(
                    "hazardline_http_request_duration_seconds".into(),
                ),
                LATENCY_BUCKETS,
            )
            .map(|b| b.build_recorder())
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Fails only when another recorder is installed (a test binary
        // running several services): the metrics then go to that one.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::debug!("a metrics recorder was already installed");
        }
        handle
    })
}

/// The service's metrics.
pub struct Metrics {
    handle: &'static PrometheusHandle,
    /// The queue's depth as last read; `None` until the first read.
    queue: Mutex<Option<QueueDepth>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            handle: handle(),
            queue: Mutex::new(None),
        }
    }

    /// The Prometheus text exposition, after refreshing the gauges read
    /// from other parts.
    pub fn render(&self, health: &SourceHealth, now: chrono::DateTime<chrono::Utc>) -> String {
        for status in health.snapshot() {
            let source = status.source.to_string();
            // Since the last success, or since start for a source that has
            // not delivered yet.
            let since = status.last_success.unwrap_or(status.watched_since);
            let age = (now - since).num_milliseconds().max(0) as f64 / 1000.0;
            metrics::gauge!("hazardline_feed_staleness_seconds", "source" => source.clone())
                .set(age);
            metrics::gauge!("hazardline_feed_stale", "source" => source)
                .set(f64::from(u8::from(status.stale)));
        }
        let (depth, age) = self.queue_depth_and_age(Utc::now()).unwrap_or((0, 0.0));
        metrics::gauge!("hazardline_queue_depth").set(depth as f64);
        metrics::gauge!("hazardline_queue_oldest_age_seconds").set(age);
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// One delivery attempt's outcome on a channel (`sent`, `retry`,
    /// `invalid_address`, `rejected`).
    pub fn attempt(&self, channel: &'static str, outcome: &'static str) {
        metrics::counter!(
            "hazardline_deliveries_total",
            "channel" => channel,
            "outcome" => outcome
        )
        .increment(1);
    }

    /// The queue's depth as just read from it: kept for readiness and the
    /// totals, and published per lane and channel (zero for pairs with
    /// nothing pending, so a drained pair does not keep its last value).
    pub fn queue_depth(&self, depth: QueueDepth) {
        for lane in Lane::ALL {
            for channel in ChannelKind::ALL {
                let pending = depth.pending.get(&(lane, channel)).copied().unwrap_or(0);
                metrics::gauge!(
                    "hazardline_queue_pending",
                    "lane" => lane_name(lane),
                    "channel" => channel.as_str()
                )
                .set(pending as f64);
            }
        }
        *self.queue.lock().unwrap_or_else(PoisonError::into_inner) = Some(depth);
    }

    /// Pending deliveries and how long the oldest due one has waited at
    /// `now`, in seconds, as of the last read; `None` before the first.
    pub fn queue_depth_and_age(&self, now: DateTime<Utc>) -> Option<(u64, f64)> {
        let queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let depth = queue.as_ref()?;
        Some((depth.total(), depth.oldest_age(now).as_secs_f64()))
    }

    /// One HTTP request answered. `route` is the matched route template
    /// (or `unmatched`); `method` is mapped onto a closed set.
    pub fn http(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let method = method_label(method);
        let labels = [
            ("route", route.to_owned()),
            ("method", method.to_owned()),
            ("status", status.to_string()),
        ];
        metrics::counter!("hazardline_http_requests_total", &labels).increment(1);
        metrics::histogram!(
            "hazardline_http_request_duration_seconds",
            "route" => route.to_owned(),
            "method" => method
        )
        .record(seconds);
    }

    /// The heartbeat's verdict: `ok` with the time of the success.
    pub fn heartbeat(&self, ok: bool, at_unix: Option<i64>) {
        metrics::gauge!("hazardline_heartbeat_ok").set(f64::from(u8::from(ok)));
        if let Some(at) = at_unix {
            metrics::gauge!("hazardline_heartbeat_last_success_timestamp_seconds").set(at as f64);
        }
    }
}

/// The method's label: its name if standard, else `other`.
fn method_label(method: &str) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("other")
}

fn lane_name(lane: Lane) -> &'static str {
    match lane {
        Lane::Urgent => "urgent",
        Lane::Normal => "normal",
        Lane::Background => "background",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_set_are_other() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("DELETE"), "DELETE");
        assert_eq!(method_label("get"), "other");
        assert_eq!(method_label("XYZZY123"), "other");
    }

    #[test]
    fn queue_depth_is_the_last_read_and_its_age_runs_on() {
        let metrics = Metrics::new();
        let now = Utc::now();
        assert_eq!(metrics.queue_depth_and_age(now), None);
        let mut depth = QueueDepth {
            oldest_due: Some(now - chrono::Duration::seconds(90)),
            ..QueueDepth::default()
        };
        depth.pending.insert((Lane::Urgent, ChannelKind::Sms), 5);
        depth.pending.insert((Lane::Normal, ChannelKind::Fcm), 3);
        metrics.queue_depth(depth);
        assert_eq!(metrics.queue_depth_and_age(now), Some((8, 90.0)));
        let later = now + chrono::Duration::seconds(10);
        assert_eq!(metrics.queue_depth_and_age(later), Some((8, 100.0)));
        metrics.queue_depth(QueueDepth::default());
        assert_eq!(metrics.queue_depth_and_age(later), Some((0, 0.0)));
    }
}
