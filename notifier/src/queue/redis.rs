//! The delivery queue on Redis Streams, for many workers on many machines.
//!
//! Layout (all keys under one prefix, `P`):
//! - `P:lane:0` / `:1` / `:2`: one stream per priority lane; consumer group
//!   `workers`. Entries carry the delivery key, earlier attempts and the
//!   delivery itself.
//! - `P:key:<delivery key>`: the idempotency record, created with
//!   `SET NX EX` in the same script as the `XADD`, so a key is recorded if
//!   and only if its delivery is queued. Its value is the delivery status.
//! - `P:alert:<alert version>`: counts per status, for the issuer's view.
//! - `P:delayed`: retries waiting for their time (a sorted set by due
//!   time; moved back into their lane when due).
//! - `P:dead`: the dead-letter stream: deliveries out of attempts.
//!
//! Claiming reads new entries with `XREADGROUP` and takes over entries a
//! crashed worker left unacknowledged longer than the lease with
//! `XAUTOCLAIM`; an entry delivered more than `max_attempts` times goes to
//! the dead-letter stream. Every state change is one Lua script, so it is
//! atomic.
//!
//! Persistence: run Redis with AOF (`appendonly yes`). With the default
//! `appendfsync everysec`, a Redis crash loses at most the last second of
//! enqueues and completions: lost enqueues are re-created by re-running the
//! fan-out (their idempotency records are lost with them); lost completions
//! cause one resend. `appendfsync always` closes that window at a cost in
//! throughput. Without AOF (RDB snapshots only) minutes can be lost: do not.
//!
//! Redis Cluster: the scripts touch keys of several slots; run the queue on
//! a single primary (with replicas) or give the prefix a hash tag
//! (`{dq}`) so that every key lands in one slot.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimOptions, StreamId, StreamReadOptions, StreamReadReply};
use redis::{AsyncCommands, Script};

use super::{
    DeliveryKey, DeliveryQueue, DeliveryStatus, Job, Lane, QueueConfig, QueueError, QueueFuture,
    StatusCounts,
};
use crate::channel::{Delivery, Outcome};
use crate::notice::AlertVersion;

const GROUP: &str = "workers";
/// Commands per pipeline when enqueueing a fan-out.
const PIPELINE_CHUNK: usize = 1000;

/// `KEYS`: record, lane stream, alert counts, delayed.
/// `ARGV`: ttl, key, payload, not-before (ms, '' = now), lane index.
const ENQUEUE: &str = r"
if redis.call('SET', KEYS[1], 'pending', 'NX', 'EX', ARGV[1]) then
  if ARGV[4] ~= '' then
    local member = cjson.encode({key = ARGV[2], lane = tonumber(ARGV[5]), attempts = 0, payload = ARGV[3]})
    redis.call('ZADD', KEYS[4], ARGV[4], member)
  else
    redis.call('XADD', KEYS[2], '*', 'key', ARGV[2], 'attempts', '0', 'payload', ARGV[3])
  end
  redis.call('HINCRBY', KEYS[3], 'pending', 1)
  return 1
end
return 0
";

/// Moves due retries back into their lanes.
/// `KEYS`: delayed, lane 0, lane 1, lane 2. `ARGV`: now (ms), limit.
const PROMOTE: &str = r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
  local job = cjson.decode(member)
  redis.call('XADD', KEYS[2 + job.lane], '*', 'key', job.key, 'attempts', tostring(job.attempts), 'payload', job.payload)
  redis.call('ZREM', KEYS[1], member)
end
return #due
";

/// Ends a delivery with a final status (dead-lettering failures that ran
/// out of attempts). Acts only if the entry was still unacknowledged, so a
/// second completion of the same claim changes nothing.
/// `KEYS`: lane, record, alert counts, dead stream.
/// `ARGV`: group, entry id, status, ttl, key, payload ('' = no dead letter), reason.
const FINISH: &str = r"
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
redis.call('HINCRBY', KEYS[3], 'pending', -1)
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
if ARGV[6] ~= '' then
  redis.call('XADD', KEYS[4], '*', 'key', ARGV[5], 'reason', ARGV[7], 'payload', ARGV[6])
end
return 1
";

/// Schedules a retry. `KEYS`: lane, delayed. `ARGV`: group, entry id, due
/// (ms), key, lane index, attempts so far, payload.
const RETRY: &str = r"
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XDEL', KEYS[1], ARGV[2])
local member = cjson.encode({key = ARGV[4], lane = tonumber(ARGV[5]), attempts = tonumber(ARGV[6]), payload = ARGV[7]})
redis.call('ZADD', KEYS[2], ARGV[3], member)
return 1
";

/// The Redis Streams queue.
#[derive(Clone)]
pub struct RedisQueue {
    connection: ConnectionManager,
    prefix: String,
    config: QueueConfig,
}

impl RedisQueue {
    /// Connects to `url` (`redis://host:port/db`) and creates the consumer
    /// groups if needed.
    pub async fn connect(url: &str, prefix: &str, config: QueueConfig) -> Result<Self, QueueError> {
        let client = redis::Client::open(url)?;
        let mut connection = ConnectionManager::new(client).await?;
        for lane in Lane::ALL {
            let stream = format!("{prefix}:lane:{}", lane.index());
            let created: Result<(), redis::RedisError> =
                connection.xgroup_create_mkstream(&stream, GROUP, "0").await;
            if let Err(error) = created
                && error.code() != Some("BUSYGROUP")
            {
                return Err(error.into());
            }
        }
        Ok(RedisQueue {
            connection,
            prefix: prefix.to_string(),
            config,
        })
    }

    fn lane_key(&self, lane: Lane) -> String {
        format!("{}:lane:{}", self.prefix, lane.index())
    }

    fn record_key(&self, key: &DeliveryKey) -> String {
        format!("{}:key:{key}", self.prefix)
    }

    fn alert_key(&self, alert: &AlertVersion) -> String {
        format!("{}:alert:{}", self.prefix, alert.0)
    }

    fn delayed_key(&self) -> String {
        format!("{}:delayed", self.prefix)
    }

    fn dead_key(&self) -> String {
        format!("{}:dead", self.prefix)
    }

    fn ttl_secs(&self) -> u64 {
        self.config.key_ttl.as_secs().max(1)
    }

    /// The job in a stream entry; `deliveries` counts this claim.
    fn job(
        &self,
        lane: Lane,
        entry: &StreamId,
        deliveries: u32,
    ) -> Result<(Job, String), QueueError> {
        let key: String = entry.get("key").unwrap_or_default();
        let earlier: u32 = entry
            .get::<String>("attempts")
            .and_then(|a| a.parse().ok())
            .unwrap_or(0);
        let payload: String = entry.get("payload").unwrap_or_default();
        let delivery: Delivery =
            serde_json::from_str(&payload).map_err(|source| QueueError::Corrupt {
                key: key.clone(),
                source,
            })?;
        let job = Job {
            id: format!("{}/{}", lane.index(), entry.id),
            key: DeliveryKey::of(&delivery),
            lane,
            attempts: earlier + deliveries,
            delivery,
        };
        Ok((job, payload))
    }

    async fn finish(
        &self,
        lane: Lane,
        entry_id: &str,
        key: &DeliveryKey,
        status: DeliveryStatus,
        dead_letter: Option<(&str, &str)>,
    ) -> Result<(), QueueError> {
        let mut connection = self.connection.clone();
        let (payload, reason) = dead_letter.unwrap_or(("", ""));
        let _: i64 = Script::new(FINISH)
            .key(self.lane_key(lane))
            .key(self.record_key(key))
            .key(self.alert_key(&key.alert))
            .key(self.dead_key())
            .arg(GROUP)
            .arg(entry_id)
            .arg(status.as_str())
            .arg(self.ttl_secs())
            .arg(key.to_string())
            .arg(payload)
            .arg(reason)
            .invoke_async(&mut connection)
            .await?;
        Ok(())
    }

    /// Entries of crashed workers in `lane`, idle longer than `lease`.
    async fn reclaim(
        &self,
        lane: Lane,
        worker: &str,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Job>, QueueError> {
        let mut connection = self.connection.clone();
        let stream = self.lane_key(lane);
        let reply: redis::streams::StreamAutoClaimReply = connection
            .xautoclaim_options(
                &stream,
                GROUP,
                worker,
                lease.as_millis() as u64,
                "0-0",
                StreamAutoClaimOptions::default().count(max),
            )
            .await?;
        let mut jobs = Vec::new();
        for entry in &reply.claimed {
            let pending: redis::streams::StreamPendingCountReply = connection
                .xpending_count(&stream, GROUP, &entry.id, &entry.id, 1)
                .await?;
            let deliveries = pending
                .ids
                .first()
                .map(|p| p.times_delivered as u32)
                .unwrap_or(1);
            let (job, payload) = self.job(lane, entry, deliveries)?;
            if job.attempts > self.config.max_attempts {
                tracing::warn!(
                    lane = lane.index(),
                    "delivery out of attempts; dead-lettered"
                );
                self.finish(
                    lane,
                    &entry.id,
                    &job.key,
                    DeliveryStatus::Failed,
                    Some((&payload, "out of attempts")),
                )
                .await?;
            } else {
                jobs.push(job);
            }
        }
        Ok(jobs)
    }
}

fn split_id(id: &str) -> Option<(Lane, &str)> {
    let (lane, entry) = id.split_once('/')?;
    let lane = Lane::ALL.get(lane.parse::<usize>().ok()?).copied()?;
    Some((lane, entry))
}

impl DeliveryQueue for RedisQueue {
    fn enqueue(&self, delivery: Delivery) -> QueueFuture<'_, bool> {
        Box::pin(async move { Ok(self.enqueue_many(vec![delivery]).await? == 1) })
    }

    fn enqueue_many(&self, deliveries: Vec<Delivery>) -> QueueFuture<'_, usize> {
        Box::pin(async move {
            let script = Script::new(ENQUEUE);
            let mut connection = self.connection.clone();
            let mut added = 0;
            // Pipelined in chunks: one round trip (and, with
            // `appendfsync always`, one fsync) per chunk instead of per
            // delivery, without building one huge reply.
            for chunk in deliveries.chunks(PIPELINE_CHUNK) {
                let mut pipe = redis::pipe();
                pipe.load_script(&script).ignore();
                let now = chrono::Utc::now().timestamp_millis();
                for delivery in chunk {
                    let key = DeliveryKey::of(delivery);
                    let payload = serde_json::to_string(delivery).map_err(QueueError::Encode)?;
                    let not_before = delivery
                        .not_before
                        .map(|t| t.timestamp_millis())
                        .filter(|t| *t > now)
                        .map(|t| t.to_string())
                        .unwrap_or_default();
                    let lane = Lane::of(delivery);
                    pipe.invoke_script(
                        script
                            .key(self.record_key(&key))
                            .key(self.lane_key(lane))
                            .key(self.alert_key(&key.alert))
                            .key(self.delayed_key())
                            .arg(self.ttl_secs())
                            .arg(key.to_string())
                            .arg(payload)
                            .arg(not_before)
                            .arg(lane.index()),
                    );
                }
                let results: Vec<i64> = pipe.query_async(&mut connection).await?;
                added += results.iter().filter(|r| **r == 1).count();
            }
            Ok(added)
        })
    }

    fn claim<'a>(
        &'a self,
        worker: &'a str,
        max: usize,
        lease: Duration,
    ) -> QueueFuture<'a, Vec<Job>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let now = chrono::Utc::now().timestamp_millis();
            let _: i64 = Script::new(PROMOTE)
                .key(self.delayed_key())
                .key(self.lane_key(Lane::Urgent))
                .key(self.lane_key(Lane::Normal))
                .key(self.lane_key(Lane::Background))
                .arg(now)
                .arg(1000)
                .invoke_async(&mut connection)
                .await?;
            let mut jobs = Vec::new();
            for lane in Lane::ALL {
                if jobs.len() >= max {
                    break;
                }
                jobs.extend(self.reclaim(lane, worker, max - jobs.len(), lease).await?);
                if jobs.len() >= max {
                    break;
                }
                let options = StreamReadOptions::default()
                    .group(GROUP, worker)
                    .count(max - jobs.len());
                let reply: StreamReadReply = connection
                    .xread_options(&[self.lane_key(lane)], &[">"], &options)
                    .await?;
                for stream in &reply.keys {
                    for entry in &stream.ids {
                        jobs.push(self.job(lane, entry, 1)?.0);
                    }
                }
            }
            Ok(jobs)
        })
    }

    fn complete<'a>(
        &'a self,
        job: &'a Job,
        outcome: &'a Outcome,
    ) -> QueueFuture<'a, DeliveryStatus> {
        Box::pin(async move {
            let Some((lane, entry_id)) = split_id(&job.id) else {
                return Err(QueueError::Worker(format!(
                    "job id {} is not a Redis job",
                    job.id
                )));
            };
            match (outcome, DeliveryStatus::after(outcome)) {
                (_, Some(status)) => {
                    self.finish(lane, entry_id, &job.key, status, None).await?;
                    Ok(status)
                }
                (Outcome::Retry { after }, None) if job.attempts < self.config.max_attempts => {
                    let payload =
                        serde_json::to_string(&job.delivery).map_err(QueueError::Encode)?;
                    let due = chrono::Utc::now().timestamp_millis() + after.as_millis() as i64;
                    let mut connection = self.connection.clone();
                    let _: i64 = Script::new(RETRY)
                        .key(self.lane_key(lane))
                        .key(self.delayed_key())
                        .arg(GROUP)
                        .arg(entry_id)
                        .arg(due)
                        .arg(job.key.to_string())
                        .arg(lane.index())
                        .arg(job.attempts)
                        .arg(payload)
                        .invoke_async(&mut connection)
                        .await?;
                    Ok(DeliveryStatus::Pending)
                }
                _ => {
                    let payload =
                        serde_json::to_string(&job.delivery).map_err(QueueError::Encode)?;
                    self.finish(
                        lane,
                        entry_id,
                        &job.key,
                        DeliveryStatus::Failed,
                        Some((&payload, "out of attempts")),
                    )
                    .await?;
                    Ok(DeliveryStatus::Failed)
                }
            }
        })
    }

    fn complete_many<'a>(
        &'a self,
        results: &'a [(Job, Outcome)],
    ) -> QueueFuture<'a, Vec<DeliveryStatus>> {
        Box::pin(async move {
            let script = Script::new(FINISH);
            let mut statuses = Vec::with_capacity(results.len());
            // Final outcomes (nearly all of a healthy batch) go in one
            // pipeline; retries and failures out of attempts one by one.
            let mut pipe = redis::pipe();
            pipe.load_script(&script).ignore();
            let mut pipelined = 0;
            for (job, outcome) in results {
                match (DeliveryStatus::after(outcome), split_id(&job.id)) {
                    (Some(status), Some((lane, entry_id))) => {
                        pipe.invoke_script(
                            script
                                .key(self.lane_key(lane))
                                .key(self.record_key(&job.key))
                                .key(self.alert_key(&job.key.alert))
                                .key(self.dead_key())
                                .arg(GROUP)
                                .arg(entry_id)
                                .arg(status.as_str())
                                .arg(self.ttl_secs())
                                .arg(job.key.to_string())
                                .arg("")
                                .arg(""),
                        )
                        .ignore();
                        pipelined += 1;
                        statuses.push(status);
                    }
                    _ => statuses.push(self.complete(job, outcome).await?),
                }
            }
            if pipelined > 0 {
                let mut connection = self.connection.clone();
                let () = pipe.query_async(&mut connection).await?;
            }
            Ok(statuses)
        })
    }

    fn alert_status<'a>(&'a self, alert: &'a AlertVersion) -> QueueFuture<'a, StatusCounts> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let fields: Vec<(String, i64)> = connection.hgetall(self.alert_key(alert)).await?;
            let mut counts = StatusCounts::default();
            for (field, n) in fields {
                if let Some(status) = DeliveryStatus::parse(&field) {
                    counts.add(status, n.max(0) as u64);
                }
            }
            Ok(counts)
        })
    }

    fn status<'a>(&'a self, key: &'a DeliveryKey) -> QueueFuture<'a, Option<DeliveryStatus>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let state: Option<String> = connection.get(self.record_key(key)).await?;
            Ok(state.as_deref().and_then(DeliveryStatus::parse))
        })
    }
}
