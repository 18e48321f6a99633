//! Backup and restore of the embedded store's files.
//!
//! A backup is `VACUUM INTO` of each file: a compact, self-contained copy
//! of one consistent snapshot of that file, taken while the service keeps
//! running (it is a read transaction; writers go on). Each file is
//! consistent on its own; the three are taken one after the other, so a
//! delivery queued between the snapshots may be in the queue copy without
//! (or with) its trace elsewhere, which restore tolerates: the queue is
//! idempotent and the archive is append-only.
//!
//! Personal data stays sealed in a backup: keep the data key apart from
//! it, and without the key it cannot be read. Backups and restored files
//! are readable by their owner only (0600 files in 0700 directories).

use std::fs::{self, File};
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::queue::owner_only_file;

use super::{ARCHIVE_FILE, QUEUE_FILE, SERVICE_FILE, owner_only_dir};
use crate::{Result, StoreError};

/// The files of a data directory, all in every backup.
pub const FILES: [&str; 3] = [SERVICE_FILE, ARCHIVE_FILE, QUEUE_FILE];

fn sqlite(error: rusqlite::Error, file: &str) -> StoreError {
    StoreError::Backend(format!("{file}: {error}"))
}

/// Copies every file of the data directory `from` into `to` (created if
/// needed; it must not already hold a backup). Safe while the service runs
/// on `from`, even from another process; needs no data key (sealed values
/// are copied as they are).
pub fn backup(from: &Path, to: &Path) -> Result<()> {
    owner_only_dir(to)?;
    for file in FILES {
        let target = to.join(file);
        if target.exists() {
            return Err(StoreError::Conflict(format!(
                "{} already exists; back up into an empty directory",
                target.display()
            )));
        }
    }
    for file in FILES {
        let source = from.join(file);
        if !source.exists() {
            continue;
        }
        let conn = Connection::open_with_flags(&source, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(|e| sqlite(e, file))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| sqlite(e, file))?;
        let target = to.join(file);
        let target_text = target.to_str().ok_or_else(|| {
            StoreError::Backend(format!("backup path {} is not UTF-8", target.display()))
        })?;
        // `VACUUM INTO` writes into an empty file as it finds it: created
        // owner-only first, it keeps those permissions.
        owner_only_file(&target)?;
        conn.execute("VACUUM INTO ?1", [target_text])
            .map_err(|e| sqlite(e, file))?;
        File::open(&target)?.sync_all()?;
    }
    sync_dir(to)
}

/// Restores a backup made by [`crate::Storage::backup`] into the data
/// directory `to`, replacing the files there (the service must not be
/// running on it). Each file is checked with `PRAGMA integrity_check`
/// before anything in `to` is touched.
pub fn restore(from: &Path, to: &Path) -> Result<()> {
    if !from.join(SERVICE_FILE).is_file() {
        return Err(StoreError::Backend(format!(
            "{} holds no {SERVICE_FILE}: not a backup of the embedded store",
            from.display()
        )));
    }
    let present: Vec<&str> = FILES
        .into_iter()
        .filter(|file| from.join(file).is_file())
        .collect();
    for file in &present {
        let conn = Connection::open_with_flags(from.join(file), OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| sqlite(e, file))?;
        let verdict: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| sqlite(e, file))?;
        if verdict != "ok" {
            return Err(StoreError::Corrupt {
                what: format!("backup file {file}"),
                detail: verdict,
            });
        }
    }
    owner_only_dir(to)?;
    for file in present {
        let partial = to.join(format!("{file}.restoring"));
        owner_only_file(&partial)?;
        fs::copy(from.join(file), &partial)?;
        // `fs::copy` gives the copy the backup file's permissions.
        owner_only_file(&partial)?;
        File::open(&partial)?.sync_all()?;
        // A journal left by the replaced database would be replayed into
        // the restored one.
        for stale in [format!("{file}-wal"), format!("{file}-shm")] {
            match fs::remove_file(to.join(stale)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        fs::rename(&partial, to.join(file))?;
    }
    sync_dir(to)
}

fn sync_dir(dir: &Path) -> Result<()> {
    // Makes the new directory entries durable (Unix; a no-op elsewhere).
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    let _ = dir;
    Ok(())
}
