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

/// Delivery queues written before the device was part of the idempotency
/// key (keys `channel|subscriber|alert`, payloads sealed bound to them).
mod queue_keys_without_devices {
    use std::sync::Arc;
    use std::time::Duration;

    use notifier::Locale;
    use notifier::channel::{Delivery, Outcome};
    use notifier::notice::{Address, PhoneNumber, SubscriberId};
    use notifier::queue::seal::seal_payload;
    use notifier::queue::{DeliveryQueue, DeliveryStatus, Lane, QueueConfig, Sealer, StatusCounts};
    use notifier::testing::sample_delivery;
    use notifier::testing::sealer::KeySealer;

    const LEASE: Duration = Duration::from_secs(60);

    fn sealer() -> Arc<dyn Sealer> {
        Arc::new(KeySealer::new([9; 32]))
    }

    fn by_sms(subscriber: &str, number: &str) -> Delivery {
        sample_delivery(
            subscriber,
            Address::Sms {
                to: PhoneNumber::new(number),
            },
            Locale::ZhTw,
        )
    }

    /// The key the previous version stored `d` under.
    fn old_key(d: &Delivery) -> String {
        format!(
            "{}|{}|{}",
            d.channel().as_str(),
            d.subscriber,
            d.facts.alert
        )
    }

    #[tokio::test]
    async fn sqlite_completes_the_record_of_a_delivery_queued_under_an_old_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.db");
        let sealer = sealer();
        drop(store::SqliteQueue::open(&path, QueueConfig::default(), sealer.clone()).unwrap());
        let d = by_sms("s-upgrade", "+886912000321");
        let old = old_key(&d);
        {
            // The row as the previous version's `insert` wrote it.
            let c = rusqlite::Connection::open(&path).unwrap();
            let now = chrono::Utc::now().timestamp_millis();
            c.execute(
                "INSERT INTO deliveries
                    (key, alert, lane, state, due_ms, queued_ms, payload, subscriber, channel, ready_ms)
                 VALUES (?1, ?2, ?3, 'pending', ?4, ?4, ?5, ?6, 'sms', ?4)",
                rusqlite::params![
                    old,
                    d.facts.alert.0,
                    Lane::of(&d).index() as i64,
                    now - 1000,
                    seal_payload(sealer.as_ref(), &old, &d).unwrap(),
                    d.subscriber.0,
                ],
            )
            .unwrap();
        }

        let q = store::SqliteQueue::open(&path, QueueConfig::default(), sealer).unwrap();
        let jobs = q.claim("w1", 10, LEASE).await.unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].delivery, d);
        assert_eq!(
            q.complete(&jobs[0], &Outcome::Sent).await.unwrap(),
            DeliveryStatus::Sent
        );
        let rows = || -> Vec<(String, String)> {
            let c = rusqlite::Connection::open(&path).unwrap();
            let mut select = c
                .prepare("SELECT key, state FROM deliveries ORDER BY rowid")
                .unwrap();
            select
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(rows(), vec![(old.clone(), "sent".to_string())]);
        assert_eq!(
            q.alert_status(&d.facts.alert).await.unwrap(),
            StatusCounts {
                sent: 1,
                ..StatusCounts::default()
            }
        );
        assert_eq!(q.depth().await.unwrap().total(), 0);
        assert!(q.claim("w1", 10, LEASE).await.unwrap().is_empty());

        // As the queue module says: queued again after the upgrade, the
        // same alert version gets a key of the new form and is queued anew.
        assert!(q.enqueue(d.clone()).await.unwrap());
        let keys = rows();
        assert_eq!(keys.len(), 2);
        assert!(!keys[1].0.contains("+886912000321"));
        assert_eq!(
            q.purge_subscriber(&d.subscriber).await.unwrap(),
            2,
            "erasure finds both forms"
        );
    }

    #[tokio::test]
    async fn redis_completes_the_record_of_a_delivery_queued_under_an_old_key() {
        let dir = tempfile::tempdir().unwrap();
        let Some(server) = notifier::testing::redis_server::RedisServer::start(dir.path()) else {
            eprintln!("redis-server not found: skipping");
            return;
        };
        let sealer = sealer();
        let prefix = "up:dq";
        let q = store::RedisQueue::connect(
            &server.url(),
            prefix,
            QueueConfig::default(),
            sealer.clone(),
        )
        .await
        .unwrap();
        let sent = by_sms("s-upgrade-1", "+886912000321");
        let retried = by_sms("s-upgrade-2", "+886912000654");
        let client = redis::Client::open(server.url()).unwrap();
        let mut c = client.get_multiplexed_async_connection().await.unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        for d in [&sent, &retried] {
            // What the previous version's ENQUEUE script wrote.
            let old = old_key(d);
            let lane = Lane::of(d).index();
            let id: String = redis::cmd("XADD")
                .arg(format!("{prefix}:lane:{lane}"))
                .arg("*")
                .arg("key")
                .arg(&old)
                .arg("attempts")
                .arg("0")
                .arg("payload")
                .arg(seal_payload(sealer.as_ref(), &old, d).unwrap())
                .query_async(&mut c)
                .await
                .unwrap();
            let places = format!("{prefix}:subscriber:{}", d.subscriber);
            let _: () = redis::pipe()
                .cmd("SET")
                .arg(format!("{prefix}:key:{old}"))
                .arg("pending")
                .arg("EX")
                .arg(3600)
                .hset(&places, &old, format!("lane:{lane}:{id}"))
                .expire(&places, 3600)
                .hincr(format!("{prefix}:alert:{}", d.facts.alert), "pending", 1)
                .hincr(format!("{prefix}:depth"), format!("{lane}:sms"), 1)
                .zadd(format!("{prefix}:waiting"), &old, now - 1000)
                .query_async(&mut c)
                .await
                .unwrap();
        }

        let jobs = q.claim("w1", 10, LEASE).await.unwrap();
        assert_eq!(jobs.len(), 2);
        for job in &jobs {
            let outcome = if job.delivery == sent {
                Outcome::Sent
            } else {
                assert_eq!(job.delivery, retried);
                Outcome::Retry {
                    after: Duration::ZERO,
                }
            };
            q.complete(job, &outcome).await.unwrap();
        }
        // The retry went back under its own key, its payload sealed to it.
        tokio::time::sleep(Duration::from_millis(10)).await;
        let again = q.claim("w1", 10, LEASE).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].delivery, retried);
        assert_eq!(again[0].attempts, 2);
        q.complete(&again[0], &Outcome::Sent).await.unwrap();

        let mut records: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}:key:*"))
            .query_async(&mut c)
            .await
            .unwrap();
        records.sort();
        let mut expected = vec![
            format!("{prefix}:key:{}", old_key(&sent)),
            format!("{prefix}:key:{}", old_key(&retried)),
        ];
        expected.sort();
        assert_eq!(records, expected, "no record beside the old ones");
        for d in [&sent, &retried] {
            let status: String = redis::cmd("GET")
                .arg(format!("{prefix}:key:{}", old_key(d)))
                .query_async(&mut c)
                .await
                .unwrap();
            assert_eq!(status, "sent");
            let place: String = redis::cmd("HGET")
                .arg(format!("{prefix}:subscriber:{}", d.subscriber))
                .arg(old_key(d))
                .query_async(&mut c)
                .await
                .unwrap();
            assert_eq!(place, "done");
        }
        assert_eq!(
            q.alert_status(&sent.facts.alert).await.unwrap(),
            StatusCounts {
                sent: 2,
                ..StatusCounts::default()
            }
        );
        let depth = q.depth().await.unwrap();
        assert_eq!((depth.total(), depth.oldest_due), (0, None));
        assert!(q.claim("w1", 10, LEASE).await.unwrap().is_empty());

        // Queued again after the upgrade: a new key, queued anew (see the
        // queue module). Erasure finds both forms and uncounts each from
        // its alert version.
        assert!(q.enqueue(sent.clone()).await.unwrap());
        assert_eq!(
            q.purge_subscriber(&SubscriberId("s-upgrade-1".into()))
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            q.alert_status(&sent.facts.alert).await.unwrap(),
            StatusCounts {
                sent: 1,
                ..StatusCounts::default()
            }
        );
    }
}

/// A store written before told records existed (subscribers, no told
/// table) opens and keeps working; its records begin now, so the alerts
/// its version told are not told again by the first restore.
#[tokio::test]
async fn a_store_from_before_told_records_begins_them_at_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let key = DataKey::generate();
    {
        let conn = rusqlite::Connection::open(dir.path().join(SERVICE_FILE)).unwrap();
        conn.execute_batch(
            "CREATE TABLE subscribers (id TEXT PRIMARY KEY, key_hash BLOB NOT NULL UNIQUE, sealed BLOB NOT NULL);",
        )
        .unwrap();
    }
    let before = chrono::Utc::now();
    let store = SqliteStorage::open(dir.path(), key.clone()).unwrap();
    let began = store.told_began().await.unwrap();
    assert!(began >= before - chrono::Duration::seconds(1), "{began}");
    store
        .record_told(&store::ToldChange {
            ended: vec![],
            alert: Some("a,1,t".into()),
            entries: vec![(
                store::SubscriberId("s_1".into()),
                store::ToldRecord {
                    place: 0,
                    unit: 1,
                    places: 2,
                    at: chrono::Utc::now(),
                    lowered: false,
                },
            )],
        })
        .await
        .unwrap();
    drop(store);
    // Opened again, the beginning does not move.
    let store = SqliteStorage::open(dir.path(), key).unwrap();
    assert_eq!(store.told_began().await.unwrap(), began);
    assert_eq!(store.told_records().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_redis_store_from_before_told_records_begins_them_at_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = notifier::testing::redis_server::RedisServer::start(dir.path()) else {
        eprintln!("redis-server not found: skipping");
        return;
    };
    {
        let client = redis::Client::open(server.url()).unwrap();
        let mut conn = client.get_connection().unwrap();
        redis::cmd("SADD")
            .arg("hl:subs")
            .arg("s_old")
            .query::<()>(&mut conn)
            .unwrap();
    }
    let before = chrono::Utc::now();
    let store = store::RedisStorage::connect(&server.url(), DataKey::generate(), "hl")
        .await
        .unwrap();
    let began = store.told_began().await.unwrap();
    assert!(began >= before - chrono::Duration::seconds(1), "{began}");
    drop(store);
    let store = store::RedisStorage::connect(&server.url(), DataKey::generate(), "hl")
        .await
        .unwrap();
    assert_eq!(store.told_began().await.unwrap(), began);
}
