//! A pipeline on a real SQLite archive with a settable clock, for the
//! pipeline tests.

use std::path::Path;
use std::sync::Arc;

use ingest::clock::ManualClock;
use ingest::feed::{Pipeline, PipelineConfig};
use ingest::lifecycle::LifecycleEvent;
use ingest::source::SourceTrust;
use ingest::store::SqliteArchive;
use tokio::sync::mpsc;

use super::utc;

pub struct Rig {
    pub pipeline: Pipeline,
    pub events: mpsc::Receiver<LifecycleEvent>,
    pub archive: Arc<SqliteArchive>,
    pub clock: Arc<ManualClock>,
}

pub fn rig(db: &Path, now: &str, sources: Vec<SourceTrust>) -> Rig {
    let clock = ManualClock::shared(utc(now));
    let archive = Arc::new(SqliteArchive::open(db).unwrap());
    let (tx, events) = mpsc::channel(64);
    let pipeline = Pipeline::new(
        clock.clone(),
        archive.clone(),
        sources,
        tx,
        PipelineConfig::default(),
    )
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
