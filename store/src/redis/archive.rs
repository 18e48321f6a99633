//! Ingest's alert archive on Redis: every message received, accepted or
//! rejected, with the same identities as ingest's SQLite archive.
//!
//! Layout under the prefix `P`:
//! - `P:archive:next`: the last message id given;
//! - `P:archive:msg:<id>`: one hash per message (source, received_at,
//!   verdict, reason, detail, sender, identifier, sent, sha256, raw,
//!   alert_json, authority; absent fields are not set: messages recorded
//!   before authorities were kept have none, and get their source's rule);
//! - `P:archive:id:accepted:<sender>␟<identifier>␟<sent as UTC>` and
//!   `P:archive:id:rejected:<source>␟<sha256>␟<reason>`: the identity of a
//!   message, pointing at its id (one accepted message per alert identity,
//!   one rejected record per source, content and reason);
//! - `P:archive:accepted` / `P:archive:rejected`: ids by arrival;
//! - `P:archive:sent`: accepted alerts by `sent` (ms), to rebuild the
//!   active set.
//!
//! Recording is one Lua script, so a message and its identity are written
//! together or not at all. Calls go over the async connection manager the
//! delivery queue uses (`queue.rs`), so ingest never blocks an executor
//! thread on Redis; a call that meets a broken connection is sent once
//! more on the manager's new one.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use cap::model::{Alert, MessageKey};
use chrono::{DateTime, Utc};
use ingest::authority::Authority;
use ingest::source::SourceId;
use ingest::store::{
    AcceptedMessage, AlertArchive, ArchiveFuture, NewRecord, Recorded, StoreError, StoredMessage,
    Verdict, content_hash,
};
use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// `KEYS`: identity, id counter, ids by verdict, accepted by sent.
/// `ARGV`: message key prefix, sent score ('' = none), then field/value pairs.
const RECORD: &str = r"
local existing = redis.call('GET', KEYS[1])
if existing then return {tonumber(existing), 0} end
local id = redis.call('INCR', KEYS[2])
local member = string.format('%020d', id)
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', ARGV[1] .. member, unpack(fields))
redis.call('SET', KEYS[1], id)
redis.call('ZADD', KEYS[3], id, member)
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[4], ARGV[2], member) end
return {id, 1}
";

/// How long to wait for a Redis that is still loading its data at start.
pub(crate) const LOADING_WAIT: Duration = Duration::from_secs(60);

/// How long one archive call waits for Redis's answer. The client's
/// default (half a second) is too short for the start-up read of two
/// weeks of alerts or for a Redis pausing to fsync or rewrite its AOF; a
/// call given up on makes ingest keep its input and retry the whole
/// message later.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Separates parts of an identity key (ASCII unit separator: appears in
/// no sender, identifier or timestamp).
const SEP: char = '\u{1f}';

pub struct RedisArchive {
    connection: ConnectionManager,
    prefix: String,
    record: Script,
}

impl std::fmt::Debug for RedisArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisArchive")
            .field("prefix", &self.prefix)
            .finish()
    }
}

fn backend(error: redis::RedisError) -> StoreError {
    StoreError::Backend(format!("redis: {error}"))
}

fn utc_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The instant a key's `sent` names, as the identity uses it.
fn sent_utc(sent: &str) -> Option<String> {
    DateTime::parse_from_rfc3339(sent.trim())
        .ok()
        .map(|t| utc_text(t.with_timezone(&Utc)))
}

fn member_id(member: &str) -> i64 {
    member.parse().unwrap_or(0)
}

/// A failure after which the same request may succeed on a new connection.
fn connection_lost(error: &redis::RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout()
}

impl RedisArchive {
    /// Connects to `url`; keys live under `prefix:archive:`.
    pub async fn open(url: &str, prefix: &str) -> Result<RedisArchive, StoreError> {
        let client = redis::Client::open(url).map_err(backend)?;
        let config = ConnectionManagerConfig::new().set_response_timeout(Some(RESPONSE_TIMEOUT));
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(backend)?;
        let archive = RedisArchive {
            connection,
            prefix: format!("{prefix}:archive"),
            record: Script::new(RECORD),
        };
        // Waits out a Redis still loading its AOF (see `with_connection`).
        archive
            .with_connection(|mut conn| async move {
                redis::cmd("PING").query_async::<String>(&mut conn).await
            })
            .await?;
        Ok(archive)
    }

    fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.prefix)
    }

    fn accepted_identity(&self, key: &MessageKey) -> String {
        let sent = sent_utc(&key.sent).unwrap_or_else(|| key.sent.clone());
        self.key(&format!(
            "id:accepted:{}{SEP}{}{SEP}{sent}",
            key.sender, key.identifier
        ))
    }

    /// Runs `request` on the connection (a clone of the manager: they
    /// share one connection). A connection found broken (Redis restarted,
    /// network blip) is replaced by the manager, and `request` is sent once
    /// more, waiting for the new connection; every request here is safe to
    /// repeat (recording is idempotent by identity). A Redis replaying its
    /// AOF answers LOADING: that is waited out, without holding a thread.
    async fn with_connection<T, Request, Answer>(&self, request: Request) -> Result<T, StoreError>
    where
        Request: Fn(ConnectionManager) -> Answer,
        Answer: Future<Output = redis::RedisResult<T>>,
    {
        let mut retried = false;
        let loading_deadline = tokio::time::Instant::now() + LOADING_WAIT;
        loop {
            match request(self.connection.clone()).await {
                Err(error) if connection_lost(&error) => {
                    if retried {
                        return Err(backend(error));
                    }
                    retried = true;
                }
                Err(error)
                    if error.kind()
                        == redis::ErrorKind::Server(redis::ServerErrorKind::BusyLoading)
                        && tokio::time::Instant::now() < loading_deadline =>
                {
                    // Redis restarted and is replaying its AOF.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                result => return result.map_err(backend),
            }
        }
    }

    /// Runs one command (see [`Self::with_connection`]).
    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        self.with_connection(|mut conn| async move { cmd.query_async(&mut conn).await })
            .await
    }

    /// Runs one pipeline (see [`Self::with_connection`]).
    async fn query_pipe<T: redis::FromRedisValue>(
        &self,
        pipe: &redis::Pipeline,
    ) -> Result<T, StoreError> {
        self.with_connection(|mut conn| async move { pipe.query_async(&mut conn).await })
            .await
    }

    async fn load(&self, members: &[String]) -> Result<Vec<StoredMessage>, StoreError> {
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for member in members {
            pipe.hgetall(self.key(&format!("msg:{member}")));
        }
        let rows: Vec<HashMap<String, Vec<u8>>> = self.query_pipe(&pipe).await?;
        members
            .iter()
            .zip(rows)
            .map(|(member, fields)| stored(member_id(member), fields))
            .collect()
    }
}

fn text(fields: &mut HashMap<String, Vec<u8>>, name: &str) -> Option<String> {
    fields
        .remove(name)
        .map(|v| String::from_utf8_lossy(&v).into_owned())
}

fn stored(id: i64, mut fields: HashMap<String, Vec<u8>>) -> Result<StoredMessage, StoreError> {
    let received = text(&mut fields, "received_at").unwrap_or_default();
    let received_at = DateTime::parse_from_rfc3339(&received)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StoreError::Timestamp {
            row: id,
            value: received,
        })?;
    let alert = text(&mut fields, "alert_json")
        .map(|json| {
            serde_json::from_str::<Alert>(&json)
                .map_err(|source| StoreError::Json { row: id, source })
        })
        .transpose()?;
    let key = match (
        text(&mut fields, "sender"),
        text(&mut fields, "identifier"),
        text(&mut fields, "sent"),
    ) {
        (Some(sender), Some(identifier), Some(sent)) => Some(MessageKey {
            sender,
            identifier,
            sent,
        }),
        _ => None,
    };
    Ok(StoredMessage {
        id,
        source: SourceId(text(&mut fields, "source").unwrap_or_default()),
        received_at,
        verdict: if text(&mut fields, "verdict").as_deref() == Some("accepted") {
            Verdict::Accepted
        } else {
            Verdict::Rejected
        },
        reason: text(&mut fields, "reason"),
        detail: text(&mut fields, "detail"),
        key,
        sha256: text(&mut fields, "sha256").unwrap_or_default(),
        raw: fields.remove("raw").unwrap_or_default(),
        alert,
        authority: text(&mut fields, "authority").and_then(|a| Authority::parse(&a)),
    })
}

impl AlertArchive for RedisArchive {
    fn record<'a>(&'a self, record: &'a NewRecord<'a>) -> ArchiveFuture<'a, Recorded> {
        Box::pin(async move {
            let alert_json = record
                .alert
                .map(serde_json::to_string)
                .transpose()
                .map_err(StoreError::Encode)?;
            let sha = content_hash(record.raw);
            let identity = match (record.verdict, record.key) {
                (Verdict::Accepted, Some(key)) => self.accepted_identity(key),
                (Verdict::Accepted, None) => self.key(&format!("id:accepted-unkeyed:{sha}")),
                (Verdict::Rejected, _) => self.key(&format!(
                    "id:rejected:{}{SEP}{sha}{SEP}{}",
                    record.source.as_str(),
                    record.reason.unwrap_or("")
                )),
            };
            let sent_score = match (record.verdict, record.alert) {
                (Verdict::Accepted, Some(alert)) => alert.sent.timestamp_millis().to_string(),
                _ => String::new(),
            };
            let mut fields: Vec<(&str, Vec<u8>)> = vec![
                ("source", record.source.as_str().as_bytes().to_vec()),
                ("received_at", utc_text(record.received_at).into_bytes()),
                ("verdict", record.verdict.as_str().as_bytes().to_vec()),
                ("sha256", sha.into_bytes()),
                ("raw", record.raw.to_vec()),
            ];
            let optional = [
                ("reason", record.reason.map(str::to_string)),
                ("detail", record.detail.map(str::to_string)),
                ("sender", record.key.map(|k| k.sender.clone())),
                ("identifier", record.key.map(|k| k.identifier.clone())),
                ("sent", record.key.map(|k| k.sent.clone())),
                ("alert_json", alert_json),
                ("authority", record.authority.map(|a| a.as_str().to_owned())),
            ];
            for (name, value) in optional {
                if let Some(value) = value {
                    fields.push((name, value.into_bytes()));
                }
            }
            let mut invocation = self.record.prepare_invoke();
            invocation
                .key(&identity)
                .key(self.key("next"))
                .key(self.key(record.verdict.as_str()))
                .key(self.key("sent"))
                .arg(self.key("msg:"))
                .arg(&sent_score);
            for (name, value) in &fields {
                invocation.arg(*name).arg(value.as_slice());
            }
            let invocation = &invocation;
            let (id, new): (i64, i64) = self
                .with_connection(|mut conn| async move { invocation.invoke_async(&mut conn).await })
                .await?;
            Ok(Recorded { id, new: new == 1 })
        })
    }

    fn find_accepted<'a>(
        &'a self,
        key: &'a MessageKey,
    ) -> ArchiveFuture<'a, Option<StoredMessage>> {
        Box::pin(async move {
            let mut get = redis::cmd("GET");
            get.arg(self.accepted_identity(key));
            let id: Option<i64> = self.query(&get).await?;
            match id {
                Some(id) => Ok(self.load(&[format!("{id:020}")]).await?.pop()),
                None => Ok(None),
            }
        })
    }

    fn rejected(&self, limit: usize) -> ArchiveFuture<'_, Vec<StoredMessage>> {
        Box::pin(async move {
            if limit == 0 {
                return Ok(Vec::new());
            }
            let stop = isize::try_from(limit).unwrap_or(isize::MAX) - 1;
            let mut range = redis::cmd("ZREVRANGE");
            range.arg(self.key("rejected")).arg(0).arg(stop);
            let members: Vec<String> = self.query(&range).await?;
            self.load(&members).await
        })
    }

    fn accepted_since(&self, since: DateTime<Utc>) -> ArchiveFuture<'_, Vec<AcceptedMessage>> {
        Box::pin(async move {
            let mut range = redis::cmd("ZRANGEBYSCORE");
            range
                .arg(self.key("sent"))
                .arg(since.timestamp_millis())
                .arg("+inf");
            let members: Vec<String> = self.query(&range).await?;
            if members.is_empty() {
                return Ok(Vec::new());
            }
            let mut pipe = redis::pipe();
            for member in &members {
                pipe.cmd("HMGET")
                    .arg(self.key(&format!("msg:{member}")))
                    .arg("alert_json")
                    .arg("source")
                    .arg("authority");
            }
            type Fields = (Option<String>, Option<String>, Option<String>);
            let rows: Vec<Fields> = self.query_pipe(&pipe).await?;
            members
                .iter()
                .zip(rows)
                .filter_map(|(member, (json, source, authority))| {
                    json.map(|json| (member_id(member), json, source, authority))
                })
                .map(|(row, json, source, authority)| {
                    Ok(AcceptedMessage {
                        alert: serde_json::from_str(&json)
                            .map_err(|source| StoreError::Json { row, source })?,
                        source: SourceId(source.unwrap_or_default()),
                        authority: authority.as_deref().and_then(Authority::parse),
                    })
                })
                .collect()
        })
    }

    fn count(&self, verdict: Verdict) -> ArchiveFuture<'_, u64> {
        Box::pin(async move {
            let mut card = redis::cmd("ZCARD");
            card.arg(self.key(verdict.as_str()));
            self.query(&card).await
        })
    }
}
