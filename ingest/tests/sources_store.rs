//! The SQLite archive on real files in a temporary folder.

mod sources_support;

use ingest::store::SqliteArchive;
use sources_support::archive_contract::archive_contract;

#[test]
fn sqlite_archive_keeps_every_message_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.sqlite");
    {
        let archive = SqliteArchive::open(&path).unwrap();
        assert_eq!(archive.journal_mode().unwrap(), "wal");
    }
    archive_contract(|| SqliteArchive::open(&path).unwrap());
}
