//! A drop directory: CAP files written into a folder are ingested, then
//! moved to `done/` (something in them was accepted or already known) or
//! `rejected/` (nothing was). Nothing is deleted, so nothing is lost; a
//! file whose ingest failed (archive unavailable) stays where it is and is
//! tried again at the next scan.
//!
//! Writers must create a file under a name starting with `.` or ending in
//! `.tmp` and rename it when complete: such names are skipped, so a
//! half-written file is never read.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::pipeline::Pipeline;
use crate::source::{DirectoryConfig, SourceId};

pub const DONE_DIR: &str = "done";
pub const REJECTED_DIR: &str = "rejected";

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DirectoryError + '_ {
    move |source| DirectoryError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What one scan did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScanReport {
    pub done: Vec<PathBuf>,
    pub rejected: Vec<PathBuf>,
    /// Files left in place for a retry.
    pub kept: Vec<PathBuf>,
}

fn skipped(name: &str) -> bool {
    name.starts_with('.') || name.ends_with(".tmp")
}

/// Ingests every complete file in the folder once.
pub async fn scan_once(
    pipeline: &Pipeline,
    source: &SourceId,
    dir: &Path,
) -> Result<ScanReport, DirectoryError> {
    for sub in [DONE_DIR, REJECTED_DIR] {
        let path = dir.join(sub);
        tokio::fs::create_dir_all(&path).await.map_err(io(&path))?;
    }
    let mut files = Vec::new();
    let mut entries = tokio::fs::read_dir(dir).await.map_err(io(dir))?;
    while let Some(entry) = entries.next_entry().await.map_err(io(dir))? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().await.is_ok_and(|t| t.is_file());
        if is_file && !skipped(&name) {
            files.push(entry.path());
        }
    }
    files.sort();
    let mut report = ScanReport::default();
    for path in files {
        let bytes = tokio::fs::read(&path).await.map_err(io(&path))?;
        let outcome = match pipeline.ingest(source, &bytes).await {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::error!(source = %source, file = %path.display(), %error, "file kept for retry");
                report.kept.push(path);
                continue;
            }
        };
        let target_dir = if outcome.all_rejected() {
            REJECTED_DIR
        } else {
            DONE_DIR
        };
        let target = free_name(&dir.join(target_dir), &path).await;
        tokio::fs::rename(&path, &target).await.map_err(io(&path))?;
        if target_dir == DONE_DIR {
            report.done.push(target);
        } else {
            report.rejected.push(target);
        }
    }
    Ok(report)
}

/// `dir/<file name>`, or with `.1`, `.2`, … appended when taken.
async fn free_name(dir: &Path, file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "unnamed".to_owned());
    let mut candidate = dir.join(&name);
    let mut n = 1u32;
    while tokio::fs::try_exists(&candidate).await.unwrap_or(false) {
        candidate = dir.join(format!("{name}.{n}"));
        n += 1;
    }
    candidate
}

/// Scans the folder every `poll_interval_secs` until shutdown.
pub async fn run(
    pipeline: Arc<Pipeline>,
    source: SourceId,
    config: DirectoryConfig,
    shutdown: CancellationToken,
) {
    let every = Duration::from_secs(config.poll_interval_secs.max(1));
    run_every(pipeline, source, config.path, every, shutdown).await
}

/// [`run`] with an explicit interval (tests use milliseconds).
pub async fn run_every(
    pipeline: Arc<Pipeline>,
    source: SourceId,
    dir: PathBuf,
    every: Duration,
    shutdown: CancellationToken,
) {
    loop {
        match scan_once(&pipeline, &source, &dir).await {
            // Success for the staleness alarm is a file read, which the
            // pipeline records; an empty folder is a silent source.
            Ok(report) => {
                if !report.done.is_empty() || !report.rejected.is_empty() {
                    tracing::info!(
                        source = %source,
                        done = report.done.len(),
                        rejected = report.rejected.len(),
                        "drop directory scanned"
                    );
                }
            }
            Err(error) => tracing::error!(source = %source, %error, "drop directory unreadable"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
