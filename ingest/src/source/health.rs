//! When each source last delivered, and the staleness alarm.
//!
//! A feed that silently stops is as dangerous as a wrong alert: nobody
//! notices until the typhoon. Each source records its last success (a fetch
//! that returned 200 or 304, an MQTT message, a dropped file); a periodic
//! [`SourceHealth::check_stale`] raises the alarm for every source silent
//! longer than its `stale_after`: an ERROR log, the counter
//! `hazardline_ingest_source_stale_total{source}` (once per silent spell) and
//! the gauge `hazardline_ingest_source_stale{source}` (1 while silent).
//! `hazardline_ingest_source_last_success_timestamp_seconds{source}` is set
//! on every success, for the /metrics page.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::SourceId;
use crate::clock::SharedClock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStatus {
    pub source: SourceId,
    /// None: nothing has succeeded since start.
    pub last_success: Option<DateTime<Utc>>,
    /// When monitoring began (start-up), the reference for a source that has
    /// never succeeded.
    pub watched_since: DateTime<Utc>,
    pub stale_after: Option<Duration>,
    /// True while the source is in a silent spell that raised the alarm.
    pub stale: bool,
}

#[derive(Debug)]
pub struct SourceHealth {
    clock: SharedClock,
    sources: Mutex<BTreeMap<SourceId, SourceStatus>>,
}

impl SourceHealth {
    pub fn new(clock: SharedClock) -> Self {
        SourceHealth {
            clock,
            sources: Mutex::new(BTreeMap::new()),
        }
    }

    /// Starts watching a source (idempotent).
    pub fn register(&self, source: &SourceId, stale_after: Option<Duration>) {
        let now = self.clock.now();
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        sources
            .entry(source.clone())
            .or_insert_with(|| SourceStatus {
                source: source.clone(),
                last_success: None,
                watched_since: now,
                stale_after,
                stale: false,
            });
    }

    /// Records that the source delivered (or confirmed nothing changed).
    pub fn record_success(&self, source: &SourceId) {
        let now = self.clock.now();
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        let status = sources
            .entry(source.clone())
            .or_insert_with(|| SourceStatus {
                source: source.clone(),
                last_success: None,
                watched_since: now,
                stale_after: None,
                stale: false,
            });
        status.last_success = Some(now);
        if status.stale {
            status.stale = false;
            tracing::info!(source = %source, "source delivers again");
        }
        metrics::gauge!("hazardline_ingest_source_stale", "source" => source.to_string()).set(0.0);
        metrics::gauge!(
            "hazardline_ingest_source_last_success_timestamp_seconds",
            "source" => source.to_string()
        )
        .set(now.timestamp() as f64);
    }

    /// Raises the alarm for every source silent past its limit; returns the
    /// sources that are stale now (newly or still).
    pub fn check_stale(&self) -> Vec<SourceId> {
        let now = self.clock.now();
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        let mut stale = Vec::new();
        for status in sources.values_mut() {
            let Some(limit) = status.stale_after else {
                continue;
            };
            let since = status.last_success.unwrap_or(status.watched_since);
            let silent = now.signed_duration_since(since);
            let Ok(limit_chrono) = chrono::Duration::from_std(limit) else {
                continue;
            };
            if silent <= limit_chrono {
                continue;
            }
            stale.push(status.source.clone());
            if !status.stale {
                status.stale = true;
                tracing::error!(
                    source = %status.source,
                    silent_secs = silent.num_seconds(),
                    limit_secs = limit.as_secs(),
                    last_success = ?status.last_success,
                    "source is stale: nothing received within its limit"
                );
                metrics::counter!(
                    "hazardline_ingest_source_stale_total",
                    "source" => status.source.to_string()
                )
                .increment(1);
            }
            metrics::gauge!("hazardline_ingest_source_stale", "source" => status.source.to_string())
                .set(1.0);
        }
        stale
    }

    /// Last success per source, for the /metrics and status pages.
    pub fn snapshot(&self) -> Vec<SourceStatus> {
        self.sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    pub fn last_success(&self, source: &SourceId) -> Option<DateTime<Utc>> {
        self.sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(source)
            .and_then(|s| s.last_success)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::clock::ManualClock;

    #[test]
    fn silent_source_goes_stale_once_and_recovers() {
        let clock = ManualClock::shared(DateTime::from_timestamp(1_713_768_000, 0).unwrap());
        let health = SourceHealth::new(clock.clone());
        let ncdr = SourceId::new("ncdr");
        let quiet = SourceId::new("no-limit");
        health.register(&ncdr, Some(Duration::from_secs(600)));
        health.register(&quiet, None);

        clock.advance(chrono::Duration::seconds(300));
        assert!(health.check_stale().is_empty());
        health.record_success(&ncdr);
        assert_eq!(health.last_success(&ncdr), Some(clock.now()));

        clock.advance(chrono::Duration::seconds(601));
        assert_eq!(health.check_stale(), vec![ncdr.clone()]);
        assert!(
            health
                .snapshot()
                .iter()
                .any(|s| s.source == ncdr && s.stale)
        );
        // Still stale at the next check, but the alarm counter fires once.
        assert_eq!(health.check_stale(), vec![ncdr.clone()]);

        health.record_success(&ncdr);
        assert!(health.check_stale().is_empty());
    }

    #[test]
    fn a_source_that_never_delivered_goes_stale_from_start_up() {
        let clock = ManualClock::shared(DateTime::from_timestamp(1_713_768_000, 0).unwrap());
        let health = SourceHealth::new(clock.clone());
        let mqtt = SourceId::new("mqtt");
        health.register(&mqtt, Some(Duration::from_secs(60)));
        clock.advance(chrono::Duration::seconds(61));
        assert_eq!(health.check_stale(), vec![mqtt]);
    }
}
