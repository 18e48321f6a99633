//! Stores written by earlier versions open and read the same under this
//! one: records are written here in their old form, directly.

use store::sqlite::{SERVICE_FILE, SqliteStorage};
use store::{AccountId, DataKey, Storage};

/// An account as stored before accounts belonged to an office.
const ACCOUNT_WITHOUT_OFFICE: &str = r#"{"id":"a_old","username":"taipei.eoc","display_name":"Taipei EOC","role":"issuer","jurisdiction":["63000"],"password_hash":"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA","disabled":false}"#;

#[tokio::test]
async fn an_account_stored_before_offices_keeps_sending_as_its_username() {
    let dir = tempfile::tempdir().unwrap();
    let key = DataKey::generate();
    drop(SqliteStorage::open(dir.path(), key.clone()).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join(SERVICE_FILE)).unwrap();
    conn.execute(
        "INSERT INTO accounts (id, username, json) VALUES ('a_old', 'taipei.eoc', ?1)",
        [ACCOUNT_WITHOUT_OFFICE],
    )
    .unwrap();
    drop(conn);

    let store = SqliteStorage::open(dir.path(), key).unwrap();
    let account = store
        .account(&AccountId("a_old".into()))
        .await
        .unwrap()
        .expect("the old account is read");
    assert_eq!(account.office, None);
    assert_eq!(account.office_name(), "taipei.eoc");
    // Written back, it keeps its form until an operator gives it an office.
    store.put_account(&account).await.unwrap();
    let again = store.account_by_username("taipei.eoc").await.unwrap();
    assert_eq!(again.as_ref().map(|a| a.office_name()), Some("taipei.eoc"));
}

/// A draft as stored before drafts belonged to an office.
const DRAFT_WITHOUT_OFFICE: &str = r#"{"id":"d_old","author":"a_old","created":"2026-11-22T08:00:00Z","state":"approved","cap_xml":"<alert/>","approval_reason":null,"approved_by":null,"sent_alert":null}"#;

#[tokio::test]
async fn drafts_stored_before_offices_are_listed_for_their_authors_office() {
    let dir = tempfile::tempdir().unwrap();
    let key = DataKey::generate();
    {
        // The previous schema of the drafts table, without its office.
        let conn = rusqlite::Connection::open(dir.path().join(SERVICE_FILE)).unwrap();
        conn.execute_batch(
            "CREATE TABLE accounts (id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, json TEXT NOT NULL);
             CREATE TABLE drafts (id TEXT PRIMARY KEY, created TEXT NOT NULL, json TEXT NOT NULL);
             CREATE INDEX drafts_by_created ON drafts (created, id);",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO accounts (id, username, json) VALUES ('a_old', 'taipei.eoc', ?1)",
            [ACCOUNT_WITHOUT_OFFICE],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO drafts (id, created, json) VALUES ('d_old', '2026-11-22T08:00:00.000Z', ?1)",
            [DRAFT_WITHOUT_OFFICE],
        )
        .unwrap();
    }
    let store = SqliteStorage::open(dir.path(), key).unwrap();
    let listed = store.office_drafts("taipei.eoc", 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id.0, "d_old");
    assert!(store.office_drafts("other", 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn redis_drafts_stored_before_offices_are_listed_for_their_authors_office() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = notifier::testing::redis_server::RedisServer::start(dir.path()) else {
        eprintln!("redis-server not found: skipping");
        return;
    };
    {
        let client = redis::Client::open(server.url()).unwrap();
        let mut conn = client.get_connection().unwrap();
        redis::pipe()
            .set("hl:account:a_old", ACCOUNT_WITHOUT_OFFICE)
            .set("hl:draft:d_old", DRAFT_WITHOUT_OFFICE)
            .zadd("hl:drafts", "d_old", 1_795_000_000_000_000i64)
            .query::<()>(&mut conn)
            .unwrap();
    }
    for _ in 0..2 {
        // Twice: the migration runs once and is harmless after.
        let store = store::RedisStorage::connect(&server.url(), DataKey::generate(), "hl")
            .await
            .unwrap();
        let listed = store.office_drafts("taipei.eoc", 10).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id.0, "d_old");
    }
}
