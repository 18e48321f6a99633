//! The store on Redis, for deployments beyond one machine.
//!
//! Layout under the prefix `P` (personal data only inside sealed values):
//! - `P:sub:<id>`: hash `key` (hex key hash), `data` (the sealed record);
//!   `P:subkey:<hex key hash>` → id; `P:subs`: set of ids;
//! - `P:inbox:<id>`: list of sealed entries, newest first;
//! - `P:relay:<alert>␟<village>`: hash person → sealed acknowledgement;
//!   `P:relayby:<person>`: the relay hashes naming that person (so
//!   deletion finds them);
//! - `P:account:<id>` (JSON), `P:username:<username>` → id, `P:accounts`;
//! - `P:session:<hex token hash>` (JSON; Redis expires it a day after the
//!   session's own lifetime, the expiry itself is checked on read);
//! - `P:draft:<id>` (JSON), `P:drafts`: ids by creation time (µs);
//!   `P:drafts:office:<office>`: one office's draft ids by creation time
//!   (drafts written before offices existed are filed under their author's
//!   office once, at connect; `P:migrated:draft-offices` marks it done);
//! - `P:shelters`: hash shelter → JSON;
//! - `P:audit`: sorted set of entries (JSON) by sequence number;
//!   `P:audit:head`: `"<seq> <hash>"` of the last entry;
//! - `P:login:<key>`: login-attempt counter (INCR), expiring a window
//!   after its first attempt;
//! - `P:archive:…`: ingest's archive, [`RedisArchive`] (`archive.rs`);
//!   `P:queue:…`: the notifier's delivery queue, [`RedisQueue`]
//!   (`queue.rs`).
//!
//! Writes touching several keys are one Lua script or a MULTI/EXEC
//! transaction. The audit append is a compare-and-set on the head (the
//! SHA-256 chain is computed here, Redis's Lua has no SHA-256), retried
//! if another process appended first.
//!
//! Durability is Redis's: run it with `appendonly yes`; with `appendfsync
//! always` an acknowledged write is on disk, with `everysec` the last
//! second can be lost in a crash. `backup` is not offered: copy the AOF or
//! use Redis's own tools.

pub mod archive;
pub mod queue;
mod told;

pub use archive::RedisArchive;
pub use queue::RedisQueue;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use notifier::queue::QueueConfig;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

use crate::audit::{GENESIS, chain_hash};
use crate::seal::{DataKey, inbox_context, relay_context, seal_inbox, subscriber_context};
use crate::{
    Account, AccountId, AuditEntry, Draft, DraftId, InboxEntry, KeyHash, NewAuditEntry, RelayAck,
    Result, Session, ShelterStatus, Storage, StoreError, SubscriberId, SubscriberRecord,
    ToldChange, ToldRecords,
};

/// `KEYS`: record, new key index, ids. `ARGV`: id, key hex, sealed, key
/// index prefix. 0 when the device key belongs to someone else.
const PUT_SUBSCRIBER: &str = r"
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return 0 end
local old = redis.call('HGET', KEYS[1], 'key')
if old and old ~= ARGV[2] then redis.call('DEL', ARGV[4] .. old) end
redis.call('HSET', KEYS[1], 'key', ARGV[2], 'data', ARGV[3])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
";

/// `KEYS`: record, ids, inbox, relay index. `ARGV`: id, key index prefix.
const DELETE_SUBSCRIBER: &str = r"
local old = redis.call('HGET', KEYS[1], 'key')
local existed = redis.call('DEL', KEYS[1])
if old then redis.call('DEL', ARGV[2] .. old) end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3])
for _, relay in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  redis.call('HDEL', relay, ARGV[1])
end
redis.call('DEL', KEYS[4])
return existed
";

/// `KEYS`: account, username index, ids. `ARGV`: id, JSON, username index
/// prefix, username. 0 when the username belongs to another account.
const PUT_ACCOUNT: &str = r"
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return 0 end
local old = redis.call('GET', KEYS[1])
if old then
  local previous = cjson.decode(old).username
  if previous ~= ARGV[4] then redis.call('DEL', ARGV[3] .. previous) end
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
";

/// `KEYS`: head, entries. `ARGV`: expected head ('' = empty log), new
/// head, seq, entry JSON. 0 when the head moved meanwhile.
const APPEND_AUDIT: &str = r"
local head = redis.call('GET', KEYS[1]) or ''
if head ~= ARGV[1] then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('SET', KEYS[1], ARGV[2])
return 1
";

/// `KEYS`: the counter. `ARGV`: window (ms). INCR and the expiry in one
/// script, so no counter is ever left without one (which would lock an
/// account for good).
const COUNT_LOGIN_ATTEMPT: &str = r"
local count = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
";

/// Lookups per pipeline when loading every subscriber.
const CHUNK: usize = 1000;
/// How long Redis keeps a session past its own lifetime.
const SESSION_GRACE_SECS: i64 = 24 * 3600;

const SEP: char = '\u{1f}';

/// The Redis [`Storage`].
pub struct RedisStorage {
    connection: ConnectionManager,
    prefix: String,
    key: Arc<DataKey>,
    archive: Arc<RedisArchive>,
    queue: Arc<RedisQueue>,
    put_subscriber: Script,
    delete_subscriber: Script,
    put_account: Script,
    append_audit: Script,
    count_login_attempt: Script,
    /// Appends from this process go one at a time (others retry).
    audit_lock: tokio::sync::Mutex<()>,
}

fn backend(error: redis::RedisError) -> StoreError {
    StoreError::Backend(format!("redis: {error}"))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        what: what.to_string(),
        detail: e.to_string(),
    })
}

fn to_json<T: serde::Serialize>(what: &str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        what: what.to_string(),
        detail: format!("does not encode: {e}"),
    })
}

/// A Redis that has just started answers LOADING while it replays its
/// AOF; the service waits for it rather than failing its start.
async fn wait_until_loaded(connection: &mut ConnectionManager) -> Result<()> {
    let deadline = tokio::time::Instant::now() + archive::LOADING_WAIT;
    loop {
        match redis::cmd("PING").query_async::<String>(connection).await {
            Ok(_) => return Ok(()),
            Err(error)
                if error.kind()
                    == redis::ErrorKind::Server(redis::ServerErrorKind::BusyLoading)
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(error) => return Err(backend(error)),
        }
    }
}

fn stop_index(limit: usize) -> isize {
    isize::try_from(limit).unwrap_or(isize::MAX) - 1
}

impl RedisStorage {
    /// Connects to `url` (`redis://host:port/db`); every key lives under
    /// `prefix`.
    pub async fn connect(url: &str, key: DataKey, prefix: &str) -> Result<RedisStorage> {
        RedisStorage::connect_with(url, key, prefix, QueueConfig::default()).await
    }

    /// [`RedisStorage::connect`] with the delivery queue's settings.
    pub async fn connect_with(
        url: &str,
        key: DataKey,
        prefix: &str,
        queue: QueueConfig,
    ) -> Result<RedisStorage> {
        let client = redis::Client::open(url).map_err(backend)?;
        let mut connection = ConnectionManager::new(client).await.map_err(backend)?;
        wait_until_loaded(&mut connection).await?;
        let archive = RedisArchive::open(url, prefix)
            .await
            .map_err(|e| StoreError::Backend(format!("archive: {e}")))?;
        let key = Arc::new(key);
        let queue = RedisQueue::connect(url, &format!("{prefix}:queue"), queue, key.clone())
            .await
            .map_err(|e| StoreError::Backend(format!("queue: {e}")))?;
        migrate_draft_offices(&mut connection, prefix).await?;
        told::mark_beginning(&mut connection, prefix).await?;
        Ok(RedisStorage {
            connection,
            prefix: prefix.to_string(),
            key,
            archive: Arc::new(archive),
            queue: Arc::new(queue),
            put_subscriber: Script::new(PUT_SUBSCRIBER),
            delete_subscriber: Script::new(DELETE_SUBSCRIBER),
            put_account: Script::new(PUT_ACCOUNT),
            append_audit: Script::new(APPEND_AUDIT),
            count_login_attempt: Script::new(COUNT_LOGIN_ATTEMPT),
            audit_lock: tokio::sync::Mutex::new(()),
        })
    }

    fn k(&self, rest: &str) -> String {
        format!("{}:{rest}", self.prefix)
    }

    fn conn(&self) -> ConnectionManager {
        self.connection.clone()
    }

    fn relay_key(&self, alert: &str, village: &str) -> String {
        self.k(&format!("relay:{alert}{SEP}{village}"))
    }

    async fn open_subscriber(&self, id: &str) -> Result<Option<SubscriberRecord>> {
        let sealed: Option<Vec<u8>> = self
            .conn()
            .hget(self.k(&format!("sub:{id}")), "data")
            .await
            .map_err(backend)?;
        sealed
            .map(|s| self.key.open_json(&subscriber_context(id), &s))
            .transpose()
    }

    async fn audit_head(&self) -> Result<(String, u64, String)> {
        let head: Option<String> = self
            .conn()
            .get(self.k("audit:head"))
            .await
            .map_err(backend)?;
        let Some(head) = head else {
            return Ok((String::new(), 0, GENESIS.to_string()));
        };
        let parsed = head
            .split_once(' ')
            .and_then(|(seq, hash)| Some((seq.parse::<u64>().ok()?, hash.to_string())));
        match parsed {
            Some((seq, hash)) => Ok((head, seq, hash)),
            None => Err(StoreError::Corrupt {
                what: "audit log head".into(),
                detail: "not `<seq> <hash>`".into(),
            }),
        }
    }
}

#[async_trait]
impl Storage for RedisStorage {
    async fn put_subscriber(&self, subscriber: &SubscriberRecord) -> Result<()> {
        let id = &subscriber.id.0;
        let sealed = self.key.seal_json(&subscriber_context(id), subscriber)?;
        let key_hex = hex::encode(subscriber.key_hash.0);
        let stored: i64 = self
            .put_subscriber
            .key(self.k(&format!("sub:{id}")))
            .key(self.k(&format!("subkey:{key_hex}")))
            .key(self.k("subs"))
            .arg(id)
            .arg(&key_hex)
            .arg(sealed)
            .arg(self.k("subkey:"))
            .invoke_async(&mut self.conn())
            .await
            .map_err(backend)?;
        if stored == 0 {
            return Err(StoreError::Conflict("device key already in use".into()));
        }
        Ok(())
    }

    async fn subscriber(&self, id: &SubscriberId) -> Result<Option<SubscriberRecord>> {
        self.open_subscriber(&id.0).await
    }

    async fn subscriber_by_key(&self, key_hash: &KeyHash) -> Result<Option<SubscriberRecord>> {
        match self.subscriber_id_by_key(key_hash).await? {
            Some(id) => self
                .open_subscriber(&id.0)
                .await?
                .map(|record| crate::check_key(record, key_hash))
                .transpose(),
            None => Ok(None),
        }
    }

    async fn subscriber_id_by_key(&self, key_hash: &KeyHash) -> Result<Option<SubscriberId>> {
        let id: Option<String> = self
            .conn()
            .get(self.k(&format!("subkey:{}", hex::encode(key_hash.0))))
            .await
            .map_err(backend)?;
        Ok(id.map(SubscriberId))
    }

    async fn all_subscribers(&self) -> Result<Vec<SubscriberRecord>> {
        let mut ids: Vec<String> = self
            .conn()
            .smembers(self.k("subs"))
            .await
            .map_err(backend)?;
        ids.sort();
        let mut all = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let mut pipe = redis::pipe();
            for id in chunk {
                pipe.hget(self.k(&format!("sub:{id}")), "data");
            }
            let sealed: Vec<Option<Vec<u8>>> =
                pipe.query_async(&mut self.conn()).await.map_err(backend)?;
            for (id, sealed) in chunk.iter().zip(sealed) {
                if let Some(sealed) = sealed {
                    all.push(self.key.open_json(&subscriber_context(id), &sealed)?);
                }
            }
        }
        Ok(all)
    }

    async fn delete_subscriber(&self, id: &SubscriberId) -> Result<bool> {
        let deliveries = notifier::notice::SubscriberId(id.0.clone());
        crate::purge_deliveries(&*self.queue, &deliveries).await?;
        let id = &id.0;
        let existed: i64 = self
            .delete_subscriber
            .key(self.k(&format!("sub:{id}")))
            .key(self.k("subs"))
            .key(self.k(&format!("inbox:{id}")))
            .key(self.k(&format!("relayby:{id}")))
            .arg(id)
            .arg(self.k("subkey:"))
            .invoke_async(&mut self.conn())
            .await
            .map_err(backend)?;
        told::forget(&mut self.conn(), &self.prefix, id).await?;
        // Again: deliveries queued while the record was being deleted.
        crate::purge_deliveries(&*self.queue, &deliveries).await?;
        Ok(existed > 0)
    }

    async fn append_inbox(&self, entries: &[InboxEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        // One MULTI/EXEC per chunk: a fan-out's worth in one transaction
        // would hold Redis (and its reply buffer) for too long.
        for chunk in seal_inbox(&self.key, entries).await?.chunks(CHUNK) {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for (id, sealed) in chunk {
                pipe.lpush(self.k(&format!("inbox:{id}")), sealed).ignore();
            }
            pipe.query_async::<()>(&mut self.conn())
                .await
                .map_err(backend)?;
        }
        Ok(())
    }

    async fn inbox(&self, id: &SubscriberId, limit: usize) -> Result<Vec<InboxEntry>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let sealed: Vec<Vec<u8>> = self
            .conn()
            .lrange(self.k(&format!("inbox:{}", id.0)), 0, stop_index(limit))
            .await
            .map_err(backend)?;
        let context = inbox_context(&id.0);
        sealed
            .iter()
            .map(|s| self.key.open_json(&context, s))
            .collect()
    }

    async fn put_account(&self, account: &Account) -> Result<()> {
        let stored: i64 = self
            .put_account
            .key(self.k(&format!("account:{}", account.id.0)))
            .key(self.k(&format!("username:{}", account.username)))
            .key(self.k("accounts"))
            .arg(&account.id.0)
            .arg(to_json("account", account)?)
            .arg(self.k("username:"))
            .arg(&account.username)
            .invoke_async(&mut self.conn())
            .await
            .map_err(backend)?;
        if stored == 0 {
            return Err(StoreError::Conflict("username already taken".into()));
        }
        Ok(())
    }

    async fn account(&self, id: &AccountId) -> Result<Option<Account>> {
        let json: Option<String> = self
            .conn()
            .get(self.k(&format!("account:{}", id.0)))
            .await
            .map_err(backend)?;
        json.map(|j| from_json("account", &j)).transpose()
    }

    async fn account_by_username(&self, username: &str) -> Result<Option<Account>> {
        let id: Option<String> = self
            .conn()
            .get(self.k(&format!("username:{username}")))
            .await
            .map_err(backend)?;
        match id {
            Some(id) => self.account(&AccountId(id)).await,
            None => Ok(None),
        }
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        let ids: Vec<String> = self
            .conn()
            .smembers(self.k("accounts"))
            .await
            .map_err(backend)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids
            .iter()
            .map(|id| self.k(&format!("account:{id}")))
            .collect();
        let jsons: Vec<Option<String>> = self.conn().mget(keys).await.map_err(backend)?;
        let mut all = jsons
            .into_iter()
            .flatten()
            .map(|j| from_json::<Account>("account", &j))
            .collect::<Result<Vec<_>>>()?;
        all.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(all)
    }

    async fn put_session(&self, session: &Session) -> Result<()> {
        let lifetime = (session.expires - session.created).num_seconds().max(1);
        let ttl = u64::try_from(lifetime + SESSION_GRACE_SECS).unwrap_or(u64::MAX);
        self.conn()
            .set_ex::<_, _, ()>(
                self.k(&format!("session:{}", hex::encode(session.token_hash.0))),
                to_json("session", session)?,
                ttl,
            )
            .await
            .map_err(backend)
    }

    async fn session(&self, token_hash: &KeyHash, now: DateTime<Utc>) -> Result<Option<Session>> {
        let json: Option<String> = self
            .conn()
            .get(self.k(&format!("session:{}", hex::encode(token_hash.0))))
            .await
            .map_err(backend)?;
        let session: Option<Session> = json.map(|j| from_json("session", &j)).transpose()?;
        Ok(session.filter(|s| s.expires > now))
    }

    async fn delete_session(&self, token_hash: &KeyHash) -> Result<()> {
        self.conn()
            .del::<_, ()>(self.k(&format!("session:{}", hex::encode(token_hash.0))))
            .await
            .map_err(backend)
    }

    async fn put_draft(&self, draft: &Draft) -> Result<()> {
        let created = draft.created.timestamp_micros();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .set(
                self.k(&format!("draft:{}", draft.id.0)),
                to_json("draft", draft)?,
            )
            .ignore()
            .zadd(self.k("drafts"), &draft.id.0, created)
            .ignore();
        if let Some(office) = &draft.office {
            pipe.zadd(
                self.k(&format!("drafts:office:{office}")),
                &draft.id.0,
                created,
            )
            .ignore();
        }
        pipe.query_async::<()>(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn office_drafts(&self, office: &str, limit: usize) -> Result<Vec<Draft>> {
        self.drafts_in(&self.k(&format!("drafts:office:{office}")), limit)
            .await
    }

    async fn draft(&self, id: &DraftId) -> Result<Option<Draft>> {
        let json: Option<String> = self
            .conn()
            .get(self.k(&format!("draft:{}", id.0)))
            .await
            .map_err(backend)?;
        json.map(|j| from_json("draft", &j)).transpose()
    }

    async fn drafts(&self, limit: usize) -> Result<Vec<Draft>> {
        self.drafts_in(&self.k("drafts"), limit).await
    }

    async fn put_shelter_status(&self, status: &ShelterStatus) -> Result<()> {
        self.conn()
            .hset::<_, _, _, ()>(
                self.k("shelters"),
                &status.shelter,
                to_json("shelter status", status)?,
            )
            .await
            .map_err(backend)
    }

    async fn shelter_statuses(&self) -> Result<Vec<ShelterStatus>> {
        let all: HashMap<String, String> = self
            .conn()
            .hgetall(self.k("shelters"))
            .await
            .map_err(backend)?;
        let mut all: Vec<(String, String)> = all.into_iter().collect();
        all.sort();
        all.iter()
            .map(|(_, json)| from_json("shelter status", json))
            .collect()
    }

    async fn put_relay_ack(&self, ack: &RelayAck) -> Result<()> {
        let person = &ack.person.0;
        let sealed = self
            .key
            .seal_json(&relay_context(&ack.alert, &ack.village, person), ack)?;
        let relay = self.relay_key(&ack.alert, &ack.village);
        redis::pipe()
            .atomic()
            .hset(&relay, person, sealed)
            .ignore()
            .sadd(self.k(&format!("relayby:{person}")), &relay)
            .ignore()
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn relay_acks(&self, alert: &str, village: &str) -> Result<Vec<RelayAck>> {
        let all: HashMap<String, Vec<u8>> = self
            .conn()
            .hgetall(self.relay_key(alert, village))
            .await
            .map_err(backend)?;
        let mut all: Vec<(String, Vec<u8>)> = all.into_iter().collect();
        all.sort();
        all.iter()
            .map(|(person, sealed)| {
                self.key
                    .open_json(&relay_context(alert, village, person), sealed)
            })
            .collect()
    }

    async fn told_began(&self) -> Result<DateTime<Utc>> {
        told::began(&mut self.conn(), &self.prefix).await
    }

    async fn record_told(&self, change: &ToldChange) -> Result<()> {
        told::record(&mut self.conn(), &self.prefix, change).await
    }

    async fn told_records(&self) -> Result<ToldRecords> {
        told::all(&mut self.conn(), &self.prefix).await
    }

    async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry> {
        let _one_at_a_time = self.audit_lock.lock().await;
        loop {
            let (head, last_seq, previous) = self.audit_head().await?;
            let seq = last_seq + 1;
            let hash = chain_hash(&previous, seq, &entry);
            let stored = AuditEntry {
                seq,
                entry: entry.clone(),
                hash,
            };
            let appended: i64 = self
                .append_audit
                .key(self.k("audit:head"))
                .key(self.k("audit"))
                .arg(&head)
                .arg(format!("{seq} {}", stored.hash))
                .arg(seq)
                .arg(to_json("audit entry", &stored)?)
                .invoke_async(&mut self.conn())
                .await
                .map_err(backend)?;
            if appended == 1 {
                return Ok(stored);
            }
            // Another process appended first: chain onto its entry.
        }
    }

    async fn audit(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let jsons: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(self.k("audit"))
            .arg(format!("({after}"))
            .arg("+inf")
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut self.conn())
            .await
            .map_err(backend)?;
        jsons.iter().map(|j| from_json("audit entry", j)).collect()
    }

    async fn count_login_attempt(&self, key: &str, window: std::time::Duration) -> Result<u64> {
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
        self.count_login_attempt
            .key(self.k(&format!("login:{key}")))
            .arg(window_ms)
            .invoke_async(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn clear_login_attempts(&self, key: &str) -> Result<()> {
        self.conn()
            .del::<_, ()>(self.k(&format!("login:{key}")))
            .await
            .map_err(backend)
    }

    fn archive(&self) -> Arc<dyn ingest::store::AlertArchive> {
        self.archive.clone()
    }

    fn queue(&self) -> Arc<dyn notifier::queue::DeliveryQueue> {
        self.queue.clone()
    }

    async fn backup(&self, _dir: &Path) -> Result<()> {
        Err(StoreError::Unsupported(
            "backup of the Redis store: copy its AOF, or use Redis replication",
        ))
    }

    async fn ping(&self) -> Result<()> {
        redis::cmd("PING")
            .query_async::<String>(&mut self.conn())
            .await
            .map(|_| ())
            .map_err(backend)
    }
}

impl RedisStorage {
    /// The drafts whose ids `index` holds, newest first.
    async fn drafts_in(&self, index: &str, limit: usize) -> Result<Vec<Draft>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = self
            .conn()
            .zrevrange(index, 0, stop_index(limit))
            .await
            .map_err(backend)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids
            .iter()
            .map(|id| self.k(&format!("draft:{id}")))
            .collect();
        let jsons: Vec<Option<String>> = self.conn().mget(keys).await.map_err(backend)?;
        jsons
            .into_iter()
            .flatten()
            .map(|j| from_json("draft", &j))
            .collect()
    }
}

/// Files drafts written before offices existed under their author's office
/// (its office, or its username, which was the office then). Runs once:
/// later drafts are filed as they are written.
async fn migrate_draft_offices(conn: &mut ConnectionManager, prefix: &str) -> Result<()> {
    let marker = format!("{prefix}:migrated:draft-offices");
    let done: bool = conn.exists(&marker).await.map_err(backend)?;
    if done {
        return Ok(());
    }
    let ids: Vec<(String, f64)> = conn
        .zrange_withscores(format!("{prefix}:drafts"), 0, -1)
        .await
        .map_err(backend)?;
    for (id, created) in ids {
        let json: Option<String> = conn
            .get(format!("{prefix}:draft:{id}"))
            .await
            .map_err(backend)?;
        let Some(json) = json else { continue };
        let draft: Draft = from_json("draft", &json)?;
        let office = match draft.office {
            Some(office) => office,
            None => {
                let account: Option<String> = conn
                    .get(format!("{prefix}:account:{}", draft.author.0))
                    .await
                    .map_err(backend)?;
                match account {
                    Some(json) => from_json::<Account>("account", &json)?
                        .office_name()
                        .to_owned(),
                    None => continue,
                }
            }
        };
        conn.zadd::<_, _, _, ()>(format!("{prefix}:drafts:office:{office}"), &id, created)
            .await
            .map_err(backend)?;
    }
    conn.set::<_, _, ()>(&marker, 1).await.map_err(backend)
}
