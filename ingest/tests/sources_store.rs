//! The in-memory archive keeps the contract every archive keeps (the
//! durable ones run the same contract in the store crate): the pipeline
//! tests that use it test ingest, not a weaker archive.

mod sources_support;

use ingest::store::MemoryArchive;
use sources_support::archive_contract::archive_contract;

#[tokio::test]
async fn memory_archive_keeps_the_archive_contract() {
    let archive = MemoryArchive::new();
    // Every "restart" opens the same archive: clones share their contents.
    archive_contract(|| std::future::ready(archive.clone())).await;
}
