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
