//! The drop directory on a real temporary folder.

mod sources_support;

use std::sync::Arc;
use std::time::Duration;

use ingest::clock::ManualClock;
use ingest::feed::directory::{self, scan_once};
use ingest::feed::{Pipeline, PipelineConfig};
use ingest::lifecycle::LifecycleEvent;
use ingest::signature::TrustedKeys;
use ingest::source::{SourceId, SourceTrust};
use ingest::store::{AlertArchive, MemoryArchive, Verdict};
use sources_support::{cap_xml, utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn cap(sender: &str, identifier: &str) -> String {
    cap_xml(
        sender,
        identifier,
        "2024-04-22T14:57:47+08:00",
        "Alert",
        "",
        "2024-04-22T18:00:00+08:00",
    )
}

async fn pipeline() -> (
    Arc<Pipeline>,
    Arc<MemoryArchive>,
    mpsc::Receiver<LifecycleEvent>,
) {
    let archive = Arc::new(MemoryArchive::new());
    let (tx, rx) = mpsc::channel(16);
    let trust = SourceTrust::new(
        SourceId::new("drop"),
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
    (Arc::new(pipeline), archive, rx)
}

#[tokio::test]
async fn files_move_to_done_or_rejected_and_partial_files_wait() {
    let drop = tempfile::tempdir().unwrap();
    let (pipeline, archive, mut events) = pipeline().await;
    let source = SourceId::new("drop");

    std::fs::write(
        drop.path().join("good.cap"),
        cap("weather@cwa.gov.tw", "D1"),
    )
    .unwrap();
    std::fs::write(drop.path().join("spoof.cap"), cap("x@example.com", "D2")).unwrap();
    std::fs::write(drop.path().join("junk.cap"), "not xml at all").unwrap();
    std::fs::write(drop.path().join(".writing.cap"), "<alert").unwrap();
    std::fs::write(drop.path().join("partial.cap.tmp"), "<alert").unwrap();

    let report = scan_once(&pipeline, &source, drop.path()).await.unwrap();
    assert_eq!(report.done.len(), 1);
    assert_eq!(report.rejected.len(), 2);
    assert!(report.kept.is_empty());
    assert!(drop.path().join("done/good.cap").is_file());
    assert!(drop.path().join("rejected/spoof.cap").is_file());
    assert!(drop.path().join("rejected/junk.cap").is_file());
    assert!(drop.path().join(".writing.cap").is_file(), "dot files wait");
    assert!(
        drop.path().join("partial.cap.tmp").is_file(),
        ".tmp files wait"
    );
    assert!(matches!(events.try_recv(), Ok(LifecycleEvent::New(a)) if a.identifier == "D1"));
    assert_eq!(archive.count(Verdict::Accepted).await.unwrap(), 1);
    assert_eq!(archive.count(Verdict::Rejected).await.unwrap(), 2);

    // The same name again is not overwritten in done/.
    std::fs::write(
        drop.path().join("good.cap"),
        cap("weather@cwa.gov.tw", "D1"),
    )
    .unwrap();
    let report = scan_once(&pipeline, &source, drop.path()).await.unwrap();
    assert_eq!(report.done, vec![drop.path().join("done/good.cap.1")]);
    assert!(events.try_recv().is_err(), "a duplicate raises no event");
}

#[tokio::test]
async fn a_dropped_cancel_of_another_authoritys_alert_is_rejected() {
    let drop = tempfile::tempdir().unwrap();
    let (pipeline, archive, mut events) = pipeline().await;
    let source = SourceId::new("drop");
    std::fs::write(drop.path().join("a.cap"), cap("weather@cwa.gov.tw", "R1")).unwrap();
    scan_once(&pipeline, &source, drop.path()).await.unwrap();
    assert!(matches!(events.try_recv(), Ok(LifecycleEvent::New(_))));
    // Listed on the same source, but another sender: not its alert to end.
    let forged = cap_xml(
        "cwasoc@cwa.gov.tw",
        "R1-CANCEL",
        "2024-04-22T15:01:00+08:00",
        "Cancel",
        "weather@cwa.gov.tw,R1,2024-04-22T14:57:47+08:00",
        "2024-04-22T18:00:00+08:00",
    );
    std::fs::write(drop.path().join("cancel.cap"), forged).unwrap();
    let report = scan_once(&pipeline, &source, drop.path()).await.unwrap();
    assert_eq!(
        report.rejected,
        vec![drop.path().join("rejected/cancel.cap")]
    );
    assert!(events.try_recv().is_err(), "nothing ended");
    assert_eq!(pipeline.active().len(), 1);
    assert_eq!(
        archive.rejected(1).await.unwrap()[0].reason.as_deref(),
        Some("reference_not_allowed")
    );
}

#[tokio::test]
async fn the_worker_picks_up_renamed_files_until_shutdown() {
    let drop = tempfile::tempdir().unwrap();
    let (pipeline, _archive, mut events) = pipeline().await;
    let shutdown = CancellationToken::new();
    let worker = tokio::spawn(directory::run_every(
        pipeline,
        SourceId::new("drop"),
        drop.path().to_owned(),
        Duration::from_millis(20),
        shutdown.clone(),
    ));
    let tmp = drop.path().join("q.cap.tmp");
    std::fs::write(&tmp, cap("cwasoc@cwa.gov.tw", "Q1")).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(events.try_recv().is_err(), "not read while still .tmp");
    std::fs::rename(&tmp, drop.path().join("q.cap")).unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap();
    assert!(matches!(event, Some(LifecycleEvent::New(a)) if a.identifier == "Q1"));
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), worker)
        .await
        .unwrap()
        .unwrap();
    assert!(drop.path().join("done/q.cap").is_file());
}

#[tokio::test]
async fn configured_sources_start_and_stop_together() {
    use ingest::feed::http::PollTiming;
    use ingest::feed::runner::{spawn_workers, trust_rules};
    use ingest::source::SourcesSection;

    let drop = tempfile::tempdir().unwrap();
    let toml_text = format!(
        r#"
        [[sources]]
        id = "drop"
        kind = "directory"
        path = "{}"
        poll_interval_secs = 1
        senders = ["*@cwa.gov.tw"]
        stale_after_secs = 3600

        [[sources]]
        id = "off"
        kind = "directory"
        enabled = false
        path = "/nonexistent"
        senders = []

        [[sources]]
        id = "office"
        kind = "issuer"
        senders = ["eoc@gov.taipei"]
        "#,
        drop.path().display()
    );
    let section: SourcesSection = toml::from_str(&toml_text).unwrap();
    let archive = Arc::new(MemoryArchive::new());
    let (tx, mut events) = mpsc::channel(16);
    let pipeline = Arc::new(
        Pipeline::new(
            ManualClock::shared(utc("2024-04-22T15:00:00+08:00")),
            archive,
            trust_rules(&section.sources).unwrap(),
            tx,
            PipelineConfig::default(),
        )
        .await
        .unwrap(),
    );
    let shutdown = CancellationToken::new();
    let mut workers = spawn_workers(
        &section.sources,
        &pipeline,
        &PollTiming::default(),
        &shutdown,
    )
    .unwrap();
    assert_eq!(workers.len(), 1, "one worker: the enabled directory");
    let monitored: Vec<_> = pipeline
        .health()
        .snapshot()
        .into_iter()
        .map(|s| s.source.0)
        .collect();
    assert_eq!(monitored, vec!["drop", "office"]);

    std::fs::write(drop.path().join("r.cap"), cap("weather@cwa.gov.tw", "R1")).unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap();
    assert!(matches!(event, Some(LifecycleEvent::New(a)) if a.identifier == "R1"));
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(done) = workers.join_next().await {
            done.unwrap();
        }
    })
    .await
    .unwrap();
}
