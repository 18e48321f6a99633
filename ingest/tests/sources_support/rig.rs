//! A pipeline on an in-memory archive with a settable clock, for the
//! pipeline tests. A rig on the archive of an earlier one is that
//! pipeline restarted.

use std::sync::Arc;

use ingest::clock::ManualClock;
use ingest::feed::{Pipeline, PipelineConfig};
use ingest::lifecycle::LifecycleEvent;
use ingest::source::SourceTrust;
use ingest::store::MemoryArchive;
use tokio::sync::mpsc;

use super::utc;

pub struct Rig {
    pub pipeline: Pipeline,
    pub events: mpsc::Receiver<LifecycleEvent>,
    pub archive: MemoryArchive,
    pub clock: Arc<ManualClock>,
}

pub async fn rig(archive: &MemoryArchive, now: &str, sources: Vec<SourceTrust>) -> Rig {
    let clock = ManualClock::shared(utc(now));
    let archive = archive.clone();
    let (tx, events) = mpsc::channel(64);
    let pipeline = Pipeline::new(
        clock.clone(),
        Arc::new(archive.clone()),
        sources,
        tx,
        PipelineConfig::default(),
    )
    .await
    .unwrap();
    Rig {
        pipeline,
        events,
        archive,
        clock,
    }
}

pub fn drain(rx: &mut mpsc::Receiver<LifecycleEvent>) -> Vec<LifecycleEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}
