//! Prometheus metrics at `/metrics`. Every crate records through the
//! `metrics` facade (ingest already counts accepted and rejected messages
//! and feed staleness); this module installs the Prometheus recorder and
//! records the service's own: deliveries by channel and outcome, queue
//! depth and oldest age, HTTP requests by route and status with latency,
//! feed staleness per source, heartbeat.
//!
//! Queue depth and age are what this process enqueued and has not yet seen
//! finished (its own workers drain the queue it fills); a delivery left by
//! an earlier run shows in the store's counts, not here.

use std::collections::VecDeque;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Instant;

use ingest::source::SourceHealth;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Latency buckets (seconds) for HTTP requests: the API's targets are
/// p99 < 20 ms for reads and < 50 ms for registrations.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
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
    /// Enqueue instants of deliveries not yet finished, oldest first, in
    /// runs of (instant, count).
    pending: Mutex<VecDeque<(Instant, u64)>>,
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
            pending: Mutex::new(VecDeque::new()),
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
        let (depth, age) = self.queue_depth_and_age();
        metrics::gauge!("hazardline_queue_depth").set(depth as f64);
        metrics::gauge!("hazardline_queue_oldest_age_seconds").set(age);
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// `count` new deliveries were queued.
    pub fn enqueued(&self, count: usize) {
        if count == 0 {
            return;
        }
        metrics::counter!("hazardline_deliveries_enqueued_total").increment(count as u64);
        self.lock_pending()
            .push_back((Instant::now(), count as u64));
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

    /// Deliveries finished for good (sent, failed, dead address): they
    /// leave the queue depth.
    pub fn finished(&self, count: usize) {
        let mut pending = self.lock_pending();
        let mut left = count as u64;
        while left > 0 {
            let Some(front) = pending.front_mut() else {
                break;
            };
            if front.1 > left {
                front.1 -= left;
                left = 0;
            } else {
                left -= front.1;
                pending.pop_front();
            }
        }
    }

    /// Pending deliveries and the age of the oldest, in seconds.
    pub fn queue_depth_and_age(&self) -> (u64, f64) {
        let pending = self.lock_pending();
        let depth = pending.iter().map(|(_, n)| n).sum();
        let age = pending
            .front()
            .map(|(at, _)| at.elapsed().as_secs_f64())
            .unwrap_or(0.0);
        (depth, age)
    }

    /// One lifecycle event handled by the engine.
    pub fn event(&self, kind: &'static str, told: usize) {
        metrics::counter!("hazardline_engine_events_total", "kind" => kind).increment(1);
        metrics::counter!("hazardline_engine_notices_total", "kind" => kind).increment(told as u64);
    }

    /// One HTTP request answered.
    pub fn http(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let labels = [
            ("route", route.to_owned()),
            ("method", method.to_owned()),
            ("status", status.to_string()),
        ];
        metrics::counter!("hazardline_http_requests_total", &labels).increment(1);
        metrics::histogram!(
            "hazardline_http_request_duration_seconds",
            "route" => route.to_owned(),
            "method" => method.to_owned()
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

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, VecDeque<(Instant, u64)>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_depth_follows_enqueues_and_completions() {
        let metrics = Metrics::new();
        metrics.enqueued(5);
        metrics.enqueued(3);
        assert_eq!(metrics.queue_depth_and_age().0, 8);
        metrics.finished(6);
        assert_eq!(metrics.queue_depth_and_age().0, 2);
        metrics.finished(2);
        assert_eq!(metrics.queue_depth_and_age(), (0, 0.0));
    }
}
