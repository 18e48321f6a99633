//! The maintenance loop under paused tokio time: expiry and the staleness
//! alarm, driven by one clock.

mod sources_support;

use std::sync::Arc;
use std::time::Duration;

use ingest::clock::TokioClock;
use ingest::feed::{Pipeline, PipelineConfig};
use ingest::lifecycle::LifecycleEvent;
use ingest::signature::TrustedKeys;
use ingest::source::{SourceId, SourceTrust};
use ingest::store::MemoryArchive;
use sources_support::{cap_xml, utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[tokio::test(start_paused = true)]
async fn expiry_and_staleness_follow_the_clock() {
    let archive = Arc::new(MemoryArchive::new());
    let (tx, mut events) = mpsc::channel(16);
    let source = SourceId::new("ncdr");
    let trust = SourceTrust::new(
        source.clone(),
        vec!["*@cwa.gov.tw".parse().unwrap()],
        false,
        TrustedKeys::default(),
    );
    // "Now" is the real message's own time.
    let clock = Arc::new(TokioClock::new(utc("2024-04-22T15:00:00+08:00")));
    let pipeline = Arc::new(
        Pipeline::new(clock, archive, vec![trust], tx, PipelineConfig::default())
            .await
            .unwrap(),
    );
    pipeline
        .health()
        .register(&source, Some(Duration::from_secs(3600)));

    let xml = cap_xml(
        "weather@cwa.gov.tw",
        "A1",
        "2024-04-22T14:57:47+08:00",
        "Alert",
        "",
        "2024-04-22T16:00:00+08:00",
    );
    pipeline.ingest(&source, xml.as_bytes()).await.unwrap();
    assert!(matches!(events.recv().await, Some(LifecycleEvent::New(_))));

    let shutdown = CancellationToken::new();
    let task = tokio::spawn(
        pipeline
            .clone()
            .run_maintenance(Duration::from_secs(30), shutdown.clone()),
    );

    // 59 minutes on: still in force, feed not stale.
    tokio::time::sleep(Duration::from_secs(59 * 60)).await;
    assert_eq!(pipeline.active().len(), 1);
    assert!(pipeline.health().check_stale().is_empty());

    // Past 16:00 the maintenance loop expires it.
    let expired = tokio::time::timeout(Duration::from_secs(120), events.recv())
        .await
        .unwrap();
    assert!(matches!(expired, Some(LifecycleEvent::Expired(a)) if a.identifier == "A1"));
    assert!(pipeline.active().is_empty());

    // An hour after the last delivery the source is stale.
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(pipeline.health().check_stale(), vec![source.clone()]);
    assert!(pipeline.health().snapshot()[0].stale);

    shutdown.cancel();
    task.await.unwrap();
}
