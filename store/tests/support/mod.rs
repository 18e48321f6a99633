//! The two backends under test, each on private real storage: SQLite in a
//! temporary directory, and a private `redis-server` with AOF on a free
//! port. Plus records built in code whose personal fields are easy to
//! search for in raw bytes.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use notifier::testing::redis_server::RedisServer;
use store::*;

pub enum Backend {
    Sqlite {
        dir: tempfile::TempDir,
        key: DataKey,
    },
    Redis {
        dir: tempfile::TempDir,
        server: Option<RedisServer>,
        key: DataKey,
    },
}

const PREFIX: &str = "hl";

impl Backend {
    pub fn sqlite() -> Backend {
        Backend::Sqlite {
            dir: tempfile::tempdir().unwrap(),
            key: DataKey::generate(),
        }
    }

    /// None (and a note) when `redis-server` is not installed.
    pub fn redis() -> Option<Backend> {
        let dir = tempfile::tempdir().unwrap();
        match RedisServer::start(dir.path()) {
            Some(server) => Some(Backend::Redis {
                dir,
                server: Some(server),
                key: DataKey::generate(),
            }),
            None => {
                eprintln!("redis-server not found: skipping the Redis half of this test");
                None
            }
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Redis { .. } => "redis",
        }
    }

    pub async fn open(&self) -> Arc<dyn Storage> {
        let key = match self {
            Backend::Sqlite { key, .. } | Backend::Redis { key, .. } => key.clone(),
        };
        self.open_with_key(key).await
    }

    pub async fn open_with_key(&self, key: DataKey) -> Arc<dyn Storage> {
        match self {
            Backend::Sqlite { dir, .. } => Arc::new(SqliteStorage::open(dir.path(), key).unwrap()),
            Backend::Redis { server, .. } => {
                let url = server.as_ref().unwrap().url();
                Arc::new(RedisStorage::connect(&url, key, PREFIX).await.unwrap())
            }
        }
    }

    pub fn redis_url(&self) -> Option<String> {
        match self {
            Backend::Redis { server, .. } => server.as_ref().map(RedisServer::url),
            Backend::Sqlite { .. } => None,
        }
    }

    /// A restart: SQLite files are simply reopened (the caller dropped its
    /// store); the Redis server is killed without saving and started again
    /// from its AOF.
    pub fn restart(&mut self) {
        if let Backend::Redis { server, .. } = self {
            let restarted = server.take().unwrap().crash_and_restart();
            *server = Some(restarted.expect("redis restarts"));
        }
    }

    /// Every byte the backend keeps on disk.
    pub fn raw_bytes(&self) -> Vec<u8> {
        let dir = match self {
            Backend::Sqlite { dir, .. } | Backend::Redis { dir, .. } => dir.path(),
        };
        let mut bytes = Vec::new();
        collect(dir, &mut bytes);
        assert!(!bytes.is_empty(), "nothing on disk in {}", dir.display());
        bytes
    }

    /// Points the device-key index entry `hash` at subscriber `id` behind
    /// the store's back.
    pub async fn point_key_index(&self, hash: &KeyHash, id: &SubscriberId) {
        match self {
            Backend::Sqlite { dir, .. } => {
                let conn = rusqlite::Connection::open(dir.path().join("service.sqlite")).unwrap();
                let changed = conn
                    .execute(
                        "UPDATE subscribers SET key_hash = ?1 WHERE id = ?2",
                        rusqlite::params![hash.0.as_slice(), id.0],
                    )
                    .unwrap();
                assert_eq!(changed, 1);
            }
            Backend::Redis { server, .. } => {
                let client = ::redis::Client::open(server.as_ref().unwrap().url()).unwrap();
                let mut conn = client.get_multiplexed_async_connection().await.unwrap();
                let _: () = ::redis::cmd("SET")
                    .arg(format!("{PREFIX}:subkey:{}", hex_of(hash)))
                    .arg(&id.0)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
            }
        }
    }

    /// Rewrites audit entry `seq` behind the store's back, as someone with
    /// access to the files or the server could.
    pub async fn tamper_audit(&self, seq: u64) {
        match self {
            Backend::Sqlite { dir, .. } => {
                let conn = rusqlite::Connection::open(dir.path().join("service.sqlite")).unwrap();
                let refused = conn.execute(
                    "UPDATE audit SET json = replace(json, 'alert.send', 'alert.edit') WHERE seq = ?1",
                    [seq as i64],
                );
                assert!(refused.is_err(), "the audit table refuses updates");
                conn.execute_batch("DROP TRIGGER audit_no_update").unwrap();
                let changed = conn
                    .execute(
                        "UPDATE audit SET json = replace(json, 'alert.send', 'alert.edit') WHERE seq = ?1",
                        [seq as i64],
                    )
                    .unwrap();
                assert_eq!(changed, 1);
            }
            Backend::Redis { server, .. } => {
                let client = ::redis::Client::open(server.as_ref().unwrap().url()).unwrap();
                let mut conn = client.get_multiplexed_async_connection().await.unwrap();
                let key = format!("{PREFIX}:audit");
                let found: Vec<String> = ::redis::cmd("ZRANGEBYSCORE")
                    .arg(&key)
                    .arg(seq)
                    .arg(seq)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                assert_eq!(found.len(), 1);
                let _: () = ::redis::cmd("ZREM")
                    .arg(&key)
                    .arg(&found[0])
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                let _: () = ::redis::cmd("ZADD")
                    .arg(&key)
                    .arg(seq)
                    .arg(found[0].replace("alert.send", "alert.edit"))
                    .query_async(&mut conn)
                    .await
                    .unwrap();
            }
        }
    }
}

fn collect(path: &Path, bytes: &mut Vec<u8>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            collect(&entry.unwrap().path(), bytes);
        }
    } else if let Ok(content) = std::fs::read(path) {
        bytes.extend_from_slice(&content);
    }
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

pub fn key_hash(seed: &str) -> KeyHash {
    use sha2::Digest;
    KeyHash(sha2::Sha256::digest(seed.as_bytes()).into())
}

/// The personal strings of [`subscriber`] `n`, each unique to it.
pub fn personal_strings(n: u32) -> Vec<String> {
    vec![
        format!("tok-fcm-{n}-a8f3e1c9d2"),
        format!("person{n}@example.com"),
        format!("+8869120{n:05}"),
        format!("臺北市信義區市府路{n}號"),
        format!("阿嬤家{n}"),
        format!("Lin Mei-hua {n}"),
        format!("+8862270{n:05}"),
        format!("uses a wheelchair {n}"),
        format!("whsec-{n}-5f0d"),
    ]
}

pub fn subscriber(n: u32) -> SubscriberRecord {
    let p = personal_strings(n);
    SubscriberRecord {
        id: SubscriberId(format!("s_{n:04}")),
        created_at: at("2026-11-22T08:00:00Z") + Duration::seconds(n.into()),
        key_hash: key_hash(&format!("device key {n}")),
        locale: "zh-TW".into(),
        devices: vec![
            Device {
                channel: DeviceChannel::Fcm,
                address: Sensitive(p[0].clone()),
                secret: None,
            },
            Device {
                channel: DeviceChannel::Email,
                address: Sensitive(p[1].clone()),
                secret: None,
            },
            Device {
                channel: DeviceChannel::Sms,
                address: Sensitive(p[2].clone()),
                secret: None,
            },
            Device {
                channel: DeviceChannel::Webhook,
                address: Sensitive(format!("https://hooks.example/{n}")),
                secret: Some(Sensitive(p[8].clone())),
            },
        ],
        places: vec![
            PlaceRecord {
                id: 0,
                label: Sensitive("Home".into()),
                address: Some(Sensitive(p[3].clone())),
                lon: 121.5645,
                lat: 25.0375,
                village: Some("63000020001".into()),
            },
            PlaceRecord {
                id: 1,
                label: Sensitive(p[4].clone()),
                address: None,
                lon: 120.9876,
                lat: 24.1234,
                village: None,
            },
        ],
        location: Some(CurrentLocation {
            lon: 121.0,
            lat: 23.5,
            at: at("2026-11-22T09:00:00Z"),
            expires: at("2026-11-22T21:00:00Z"),
        }),
        preferences: PreferencesRecord {
            kinds: vec!["earthquake".into(), "debris_flow".into()],
            min_colour: Some("orange".into()),
            min_intensity: Some("5-".into()),
            min_rainfall: None,
            languages: vec!["zh-TW".into(), "en".into()],
            exercises: true,
            quiet_hours: Some(("22:00".into(), "07:00".into())),
        },
        relay: Some(RelayNeed {
            name: Sensitive(p[5].clone()),
            phone: Some(Sensitive(p[6].clone())),
            village: "63000020001".into(),
            note: Some(Sensitive(p[7].clone())),
        }),
    }
}

pub fn inbox_entry(subscriber: &SubscriberId, n: u32, title: &str) -> InboxEntry {
    InboxEntry {
        subscriber: subscriber.clone(),
        alert: format!("cwa@cwa.gov.tw,DF-{n},2026-11-22T08:00:00+08:00"),
        at: at("2026-11-22T08:00:00Z") + Duration::minutes(n.into()),
        kind: "new".into(),
        hazard: "debris_flow".into(),
        colour: "red".into(),
        exercise: false,
        title: title.to_string(),
        body: format!("Evacuate now ({n})"),
        expires: Some(at("2026-11-23T08:00:00Z")),
    }
}

pub fn relay_ack(person: &SubscriberId, outcome: &str, note: Option<&str>) -> RelayAck {
    RelayAck {
        alert: "cwa@cwa.gov.tw,DF-1,2026-11-22T08:00:00+08:00".into(),
        village: "63000020001".into(),
        person: person.clone(),
        chief: AccountId("a_chief".into()),
        at: at("2026-11-22T08:30:00Z"),
        outcome: outcome.into(),
        note: note.map(str::to_string),
    }
}

pub fn account(id: &str, username: &str, role: Role) -> Account {
    Account {
        id: AccountId(id.into()),
        username: username.into(),
        display_name: format!("{username} (Taipei EOC)"),
        role,
        jurisdiction: vec!["63000".into()],
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        disabled: false,
        office: Some("taipei-eoc".into()),
    }
}

pub fn audit_entry(n: u32, target: &str) -> NewAuditEntry {
    NewAuditEntry {
        at: at("2026-11-22T08:00:00Z") + Duration::seconds(n.into()),
        actor: "a_issuer".into(),
        action: "alert.send".into(),
        target: target.into(),
        detail: serde_json::json!({"n": n, "villages": 12}),
    }
}

fn hex_of(hash: &KeyHash) -> String {
    hash.0.iter().map(|b| format!("{b:02x}")).collect()
}
