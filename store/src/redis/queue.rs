//! The notifier's delivery queue ([`notifier::queue::DeliveryQueue`]) on
//! Redis Streams, for many workers on many machines.
//!
//! Layout (all keys under one prefix, `P`):
//! - `P:lane:0` / `:1` / `:2`: one stream per priority lane; consumer group
//!   `workers`. Entries carry the delivery key, earlier attempts and the
//!   delivery itself.
//! - `P:key:<delivery key>`: the idempotency record (the key as
//!   [`DeliveryKey::stored`] writes it: `channel|subscriber|tag|alert`, the
//!   device only as a keyed tag), created with
//!   `SET NX EX` in the same script as the `XADD`, so a key is recorded if
//!   and only if its delivery is queued. Its value is the delivery status.
//! - `P:alert:<alert version>`: counts per status, for the issuer's view.
//! - `P:delayed`: retries and held deliveries waiting for their time (a
//!   sorted set of delivery keys by due time; moved back into their lane
//!   when due), their jobs in the hash `P:delayed:jobs`.
//! - `P:dead`: the dead-letter stream: deliveries out of attempts.
//! - `P:subscriber:<subscriber>`: where each of the subscriber's
//!   deliveries is (`lane:<n>:<entry id>`, `delayed`, `dead:<entry id>`,
//!   `done`), so erasing a subscriber reads one hash instead of scanning;
//!   it expires with the idempotency records.
//! - `P:depth` (pending deliveries per `<lane>:<channel>`) and `P:waiting`
//!   (pending delivery keys by the time they became due): the queue's
//!   depth and oldest wait without a scan. Deliveries queued before these
//!   existed are not counted in them.
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
//! Payloads (the `payload` field of stream entries, delayed jobs and dead
//! letters) are sealed ([`notifier::queue::seal`]); entries written by an earlier
//! version hold plain JSON and are still read and delivered. The keys hold
//! only channels, pseudonymous subscriber ids, keyed device tags and alert
//! versions.
//!
//! Every entry carries the key it was queued under, and everything done to
//! a claimed entry (its completion, retry or dead letter, its payload's
//! sealing) uses that key, not one computed again from the delivery: an
//! entry queued before the device was part of the key
//! (`channel|subscriber|alert`) completes its own record.
//!
//! Redis Cluster: the scripts touch keys of several slots; run the queue on
//! a single primary (with replicas) or give the prefix a hash tag
//! (`{dq}`) so that every key lands in one slot.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimOptions, StreamId, StreamReadOptions, StreamReadReply};
use redis::{AsyncCommands, Script};

use notifier::channel::{Delivery, Outcome};
use notifier::notice::{AlertVersion, ChannelKind, SubscriberId};
use notifier::queue::seal::{open_payload, seal_payload};
use notifier::queue::{
    DeliveryKey, DeliveryQueue, DeliveryStatus, Job, Lane, QueueConfig, QueueDepth, QueueError,
    QueueFuture, Sealer, StatusCounts,
};

/// Redis's errors reach the notifier as the queue's backend failing.
fn backend(error: redis::RedisError) -> QueueError {
    QueueError::backend("redis", error)
}

const GROUP: &str = "workers";
/// A counts hash as read: field and number.
type Counts = Vec<(String, i64)>;
/// Commands per pipeline when enqueueing a fan-out.
const PIPELINE_CHUNK: usize = 1000;

/// `KEYS`: record, lane stream, alert counts, delayed, delayed jobs,
/// subscriber's deliveries, depth, waiting.
/// `ARGV`: ttl, key, payload, not-before (ms, '' = now), lane index,
/// channel, now (ms), subscriber.
const ENQUEUE: &str = r"
if redis.call('SET', KEYS[1], 'pending', 'NX', 'EX', ARGV[1]) then
  local place = 'delayed'
  local ready = ARGV[4]
  if ARGV[4] ~= '' then
    local job = cjson.encode({key = ARGV[2], lane = tonumber(ARGV[5]), attempts = 0, payload = ARGV[3], sub = ARGV[8]})
    redis.call('HSET', KEYS[5], ARGV[2], job)
    redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2])
  else
    local id = redis.call('XADD', KEYS[2], '*', 'key', ARGV[2], 'attempts', '0', 'payload', ARGV[3])
    place = 'lane:' .. ARGV[5] .. ':' .. id
    ready = ARGV[7]
  end
  redis.call('HSET', KEYS[6], ARGV[2], place)
  redis.call('EXPIRE', KEYS[6], ARGV[1])
  redis.call('HINCRBY', KEYS[3], 'pending', 1)
  redis.call('HINCRBY', KEYS[7], ARGV[5] .. ':' .. ARGV[6], 1)
  redis.call('ZADD', KEYS[8], ready, ARGV[2])
  return 1
end
return 0
";

/// Moves due retries and held deliveries back into their lanes. Members
/// written before the delayed jobs hash existed hold the job themselves.
/// `KEYS`: delayed, lane 0, lane 1, lane 2, delayed jobs.
/// `ARGV`: now (ms), limit, prefix of the subscribers' delivery hashes.
const PROMOTE: &str = r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
  local job = nil
  if string.sub(member, 1, 1) == '{' then
    job = cjson.decode(member)
  else
    local stored = redis.call('HGET', KEYS[5], member)
    if stored then job = cjson.decode(stored) end
    redis.call('HDEL', KEYS[5], member)
  end
  if job then
    local id = redis.call('XADD', KEYS[2 + job.lane], '*', 'key', job.key, 'attempts', tostring(job.attempts), 'payload', job.payload)
    if job.sub then
      local places = ARGV[3] .. job.sub
      if redis.call('HEXISTS', places, job.key) == 1 then
        redis.call('HSET', places, job.key, 'lane:' .. job.lane .. ':' .. id)
      end
    end
  end
  redis.call('ZREM', KEYS[1], member)
end
return #due
";

/// Ends a delivery with a final status (dead-lettering failures that ran
/// out of attempts). Acts only if the entry was still unacknowledged, so a
/// second completion of the same claim, or one of a delivery erased
/// meanwhile, changes nothing.
/// `KEYS`: lane, record, alert counts, dead stream, subscriber's
/// deliveries, depth, waiting.
/// `ARGV`: group, entry id, status, ttl, key, payload ('' = no dead letter),
/// reason, lane index.
const FINISH: &str = r"
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
redis.call('HINCRBY', KEYS[3], 'pending', -1)
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
if redis.call('ZREM', KEYS[7], ARGV[5]) == 1 then
  redis.call('HINCRBY', KEYS[6], ARGV[8] .. ':' .. string.match(ARGV[5], '^[^|]*'), -1)
end
local place = 'done'
if ARGV[6] ~= '' then
  place = 'dead:' .. redis.call('XADD', KEYS[4], '*', 'key', ARGV[5], 'reason', ARGV[7], 'payload', ARGV[6])
end
redis.call('HSET', KEYS[5], ARGV[5], place)
redis.call('EXPIRE', KEYS[5], ARGV[4])
return 1
";

/// Schedules a retry. `KEYS`: lane, delayed, delayed jobs, subscriber's
/// deliveries. `ARGV`: group, entry id, due (ms), key, lane index,
/// attempts so far, payload, subscriber, ttl.
const RETRY: &str = r"
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XDEL', KEYS[1], ARGV[2])
local job = cjson.encode({key = ARGV[4], lane = tonumber(ARGV[5]), attempts = tonumber(ARGV[6]), payload = ARGV[7], sub = ARGV[8]})
redis.call('HSET', KEYS[3], ARGV[4], job)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[4], ARGV[4], 'delayed')
redis.call('EXPIRE', KEYS[4], ARGV[9])
return 1
";

/// Erases every delivery of one subscriber, wherever it is: its
/// idempotency record, its stream entry (acknowledged first, so a worker
/// holding it in flight records nothing afterwards), its delayed job, its
/// dead letter, and its share of the counts.
/// `KEYS`: subscriber's deliveries, delayed, delayed jobs, dead stream,
/// depth, waiting. `ARGV`: prefix, group, subscriber.
const PURGE: &str = r"
local entries = redis.call('HGETALL', KEYS[1])
local erased = 0
for i = 1, #entries, 2 do
  local key = entries[i]
  local place = entries[i + 1]
  local channel = string.match(key, '^[^|]*')
  -- key = channel|subscriber|tag|alert (tag: 32 hex digits), or
  -- channel|subscriber|alert as stored before devices were in the key;
  -- the subscriber is known. (An old key whose alert version itself began
  -- with 32 hex digits and a bar would be misread; CAP senders do not.)
  local alert = string.sub(key, string.len(channel) + string.len(ARGV[3]) + 3)
  local tagged = string.match(alert, '^' .. string.rep('[0-9a-f]', 32) .. '|(.*)$')
  if tagged then alert = tagged end
  local found = false
  local record = ARGV[1] .. ':key:' .. key
  local status = redis.call('GET', record)
  if status then
    redis.call('DEL', record)
    redis.call('HINCRBY', ARGV[1] .. ':alert:' .. alert, status, -1)
    found = true
  end
  local lane = nil
  local stream_lane, id = string.match(place, '^lane:(%d+):(.+)$')
  if stream_lane then
    lane = stream_lane
    local stream = ARGV[1] .. ':lane:' .. stream_lane
    redis.call('XACK', stream, ARGV[2], id)
    if redis.call('XDEL', stream, id) == 1 then found = true end
  elseif place == 'delayed' then
    local stored = redis.call('HGET', KEYS[3], key)
    if stored then lane = cjson.decode(stored).lane end
    redis.call('HDEL', KEYS[3], key)
    if redis.call('ZREM', KEYS[2], key) == 1 then found = true end
  elseif string.sub(place, 1, 5) == 'dead:' then
    if redis.call('XDEL', KEYS[4], string.sub(place, 6)) == 1 then found = true end
  end
  if redis.call('ZREM', KEYS[6], key) == 1 and lane then
    redis.call('HINCRBY', KEYS[5], lane .. ':' .. channel, -1)
  end
  if found then erased = erased + 1 end
end
redis.call('DEL', KEYS[1])
return erased
";

/// The Redis Streams queue.
#[derive(Clone)]
pub struct RedisQueue {
    connection: ConnectionManager,
    prefix: String,
    config: QueueConfig,
    sealer: Arc<dyn Sealer>,
}

impl RedisQueue {
    /// Connects to `url` (`redis://host:port/db`) and creates the consumer
    /// groups if needed; payloads are sealed and opened with `sealer`.
    pub async fn connect(
        url: &str,
        prefix: &str,
        config: QueueConfig,
        sealer: Arc<dyn Sealer>,
    ) -> Result<Self, QueueError> {
        let client = redis::Client::open(url).map_err(backend)?;
        let mut connection = ConnectionManager::new(client).await.map_err(backend)?;
        for lane in Lane::ALL {
            let stream = format!("{prefix}:lane:{}", lane.index());
            let created: Result<(), redis::RedisError> =
                connection.xgroup_create_mkstream(&stream, GROUP, "0").await;
            if let Err(error) = created
                && error.code() != Some("BUSYGROUP")
            {
                return Err(backend(error));
            }
        }
        Ok(RedisQueue {
            connection,
            prefix: prefix.to_string(),
            config,
            sealer,
        })
    }

    fn lane_key(&self, lane: Lane) -> String {
        format!("{}:lane:{}", self.prefix, lane.index())
    }

    /// The idempotency record of the key stored as `stored`.
    fn record_key(&self, stored: &str) -> String {
        format!("{}:key:{stored}", self.prefix)
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

    fn delayed_jobs_key(&self) -> String {
        format!("{}:delayed:jobs", self.prefix)
    }

    fn subscriber_prefix(&self) -> String {
        format!("{}:subscriber:", self.prefix)
    }

    fn subscriber_key(&self, subscriber: &SubscriberId) -> String {
        format!("{}{}", self.subscriber_prefix(), subscriber.0)
    }

    fn depth_key(&self) -> String {
        format!("{}:depth", self.prefix)
    }

    fn waiting_key(&self) -> String {
        format!("{}:waiting", self.prefix)
    }

    /// The [`FINISH`] script's keys and arguments for one claimed entry.
    fn finish_invocation<'s>(
        &self,
        script: &'s Script,
        claim: Claim<'_>,
        key: &DeliveryKey,
        status: DeliveryStatus,
        dead_letter: Option<(&str, &str)>,
    ) -> redis::ScriptInvocation<'s> {
        let (payload, reason) = dead_letter.unwrap_or(("", ""));
        let Claim {
            lane,
            entry,
            stored,
        } = claim;
        let mut invocation = script.prepare_invoke();
        invocation
            .key(self.lane_key(lane))
            .key(self.record_key(stored))
            .key(self.alert_key(&key.alert))
            .key(self.dead_key())
            .key(self.subscriber_key(&key.subscriber))
            .key(self.depth_key())
            .key(self.waiting_key())
            .arg(GROUP)
            .arg(entry)
            .arg(status.as_str())
            .arg(self.ttl_secs())
            .arg(stored)
            .arg(payload)
            .arg(reason)
            .arg(lane.index());
        invocation
    }

    fn ttl_secs(&self) -> u64 {
        self.config.key_ttl.as_secs().max(1)
    }

    /// A delivery's payload as stored: sealed, bound to the key it is
    /// stored under.
    fn payload(&self, stored: &str, delivery: &Delivery) -> Result<String, QueueError> {
        seal_payload(self.sealer.as_ref(), stored, delivery)
    }

    /// The job in a stream entry; `deliveries` counts this claim. Its id
    /// is `lane/entry id/stored key`: the entry's own key goes with the
    /// claim to its completion.
    fn job(&self, lane: Lane, entry: &StreamId, deliveries: u32) -> Result<Job, QueueError> {
        let key: String = entry.get("key").unwrap_or_default();
        let earlier: u32 = entry
            .get::<String>("attempts")
            .and_then(|a| a.parse().ok())
            .unwrap_or(0);
        let payload: String = entry.get("payload").unwrap_or_default();
        let delivery = open_payload(self.sealer.as_ref(), &key, &payload)?;
        Ok(Job {
            id: format!("{}/{}/{key}", lane.index(), entry.id),
            key: DeliveryKey::of(&delivery),
            lane,
            attempts: earlier + deliveries,
            delivery,
        })
    }

    async fn finish(
        &self,
        claim: Claim<'_>,
        key: &DeliveryKey,
        status: DeliveryStatus,
        dead_letter: Option<(&str, &str)>,
    ) -> Result<(), QueueError> {
        let mut connection = self.connection.clone();
        let script = Script::new(FINISH);
        let _: i64 = self
            .finish_invocation(&script, claim, key, status, dead_letter)
            .invoke_async(&mut connection)
            .await
            .map_err(backend)?;
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
            .await
            .map_err(backend)?;
        let mut jobs = Vec::new();
        for entry in &reply.claimed {
            let pending: redis::streams::StreamPendingCountReply = connection
                .xpending_count(&stream, GROUP, &entry.id, &entry.id, 1)
                .await
                .map_err(backend)?;
            let deliveries = pending
                .ids
                .first()
                .map(|p| p.times_delivered as u32)
                .unwrap_or(1);
            let job = self.job(lane, entry, deliveries)?;
            if job.attempts > self.config.max_attempts {
                let Some(claim) = Claim::of(&job.id) else {
                    return Err(unknown_job(&job.id));
                };
                // Sealed afresh: an entry of an earlier version held it plain.
                let payload = self.payload(claim.stored, &job.delivery)?;
                tracing::warn!(
                    lane = lane.index(),
                    "delivery out of attempts; dead-lettered"
                );
                self.finish(
                    claim,
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

/// A claimed entry, as its job id names it ([`RedisQueue::job`]).
#[derive(Clone, Copy)]
struct Claim<'a> {
    lane: Lane,
    /// The stream entry's id.
    entry: &'a str,
    /// The key the entry was queued under, of whatever format.
    stored: &'a str,
}

impl<'a> Claim<'a> {
    fn of(id: &'a str) -> Option<Self> {
        // Lanes and entry ids hold no `/`; the key, last, may.
        let mut parts = id.splitn(3, '/');
        let lane = Lane::ALL
            .get(parts.next()?.parse::<usize>().ok()?)
            .copied()?;
        let entry = parts.next()?;
        let stored = parts.next().filter(|stored| !stored.is_empty())?;
        Some(Claim {
            lane,
            entry,
            stored,
        })
    }
}

fn unknown_job(id: &str) -> QueueError {
    QueueError::Worker(format!("job id {id} is not a Redis job"))
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
                    let stored = key.stored(self.sealer.as_ref());
                    let payload = self.payload(&stored, delivery)?;
                    let not_before = delivery
                        .not_before
                        .map(|t| t.timestamp_millis())
                        .filter(|t| *t > now)
                        .map(|t| t.to_string())
                        .unwrap_or_default();
                    let lane = Lane::of(delivery);
                    pipe.invoke_script(
                        script
                            .key(self.record_key(&stored))
                            .key(self.lane_key(lane))
                            .key(self.alert_key(&key.alert))
                            .key(self.delayed_key())
                            .key(self.delayed_jobs_key())
                            .key(self.subscriber_key(&key.subscriber))
                            .key(self.depth_key())
                            .key(self.waiting_key())
                            .arg(self.ttl_secs())
                            .arg(&stored)
                            .arg(payload)
                            .arg(not_before)
                            .arg(lane.index())
                            .arg(key.channel.as_str())
                            .arg(now)
                            .arg(&key.subscriber.0),
                    );
                }
                let results: Vec<i64> = pipe.query_async(&mut connection).await.map_err(backend)?;
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
                .key(self.delayed_jobs_key())
                .arg(now)
                .arg(1000)
                .arg(self.subscriber_prefix())
                .invoke_async(&mut connection)
                .await
                .map_err(backend)?;
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
                    .await
                    .map_err(backend)?;
                for stream in &reply.keys {
                    for entry in &stream.ids {
                        jobs.push(self.job(lane, entry, 1)?);
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
            let Some(claim) = Claim::of(&job.id) else {
                return Err(unknown_job(&job.id));
            };
            match (outcome, DeliveryStatus::after(outcome)) {
                (_, Some(status)) => {
                    self.finish(claim, &job.key, status, None).await?;
                    Ok(status)
                }
                (Outcome::Retry { after }, None) if job.attempts < self.config.max_attempts => {
                    let payload = self.payload(claim.stored, &job.delivery)?;
                    let due = chrono::Utc::now().timestamp_millis() + after.as_millis() as i64;
                    let mut connection = self.connection.clone();
                    let _: i64 = Script::new(RETRY)
                        .key(self.lane_key(claim.lane))
                        .key(self.delayed_key())
                        .key(self.delayed_jobs_key())
                        .key(self.subscriber_key(&job.key.subscriber))
                        .arg(GROUP)
                        .arg(claim.entry)
                        .arg(due)
                        .arg(claim.stored)
                        .arg(claim.lane.index())
                        .arg(job.attempts)
                        .arg(payload)
                        .arg(&job.key.subscriber.0)
                        .arg(self.ttl_secs())
                        .invoke_async(&mut connection)
                        .await
                        .map_err(backend)?;
                    Ok(DeliveryStatus::Pending)
                }
                _ => {
                    let payload = self.payload(claim.stored, &job.delivery)?;
                    self.finish(
                        claim,
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
                match (DeliveryStatus::after(outcome), Claim::of(&job.id)) {
                    (Some(status), Some(claim)) => {
                        pipe.invoke_script(
                            &self.finish_invocation(&script, claim, &job.key, status, None),
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
                let () = pipe.query_async(&mut connection).await.map_err(backend)?;
            }
            Ok(statuses)
        })
    }

    fn alert_status<'a>(&'a self, alert: &'a AlertVersion) -> QueueFuture<'a, StatusCounts> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let fields: Vec<(String, i64)> = connection
                .hgetall(self.alert_key(alert))
                .await
                .map_err(backend)?;
            let mut counts = StatusCounts::default();
            for (field, n) in fields {
                if let Some(status) = DeliveryStatus::parse(&field) {
                    counts.add(status, n.max(0) as u64);
                }
            }
            Ok(counts)
        })
    }

    fn purge_subscriber<'a>(&'a self, subscriber: &'a SubscriberId) -> QueueFuture<'a, u64> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let erased: i64 = Script::new(PURGE)
                .key(self.subscriber_key(subscriber))
                .key(self.delayed_key())
                .key(self.delayed_jobs_key())
                .key(self.dead_key())
                .key(self.depth_key())
                .key(self.waiting_key())
                .arg(&self.prefix)
                .arg(GROUP)
                .arg(&subscriber.0)
                .invoke_async(&mut connection)
                .await
                .map_err(backend)?;
            Ok(erased.max(0) as u64)
        })
    }

    fn depth(&self) -> QueueFuture<'_, QueueDepth> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let (counts, oldest): (Counts, Vec<(String, f64)>) = redis::pipe()
                .hgetall(self.depth_key())
                .zrange_withscores(self.waiting_key(), 0, 0)
                .query_async(&mut connection)
                .await
                .map_err(backend)?;
            let mut depth = QueueDepth::default();
            for (field, n) in counts {
                let Some((lane, channel)) = field.split_once(':') else {
                    continue;
                };
                let lane = lane.parse::<usize>().ok().and_then(|i| Lane::ALL.get(i));
                if let (Some(lane), Some(channel), true) =
                    (lane, ChannelKind::parse(channel), n > 0)
                {
                    depth.pending.insert((*lane, channel), n as u64);
                }
            }
            let now = chrono::Utc::now().timestamp_millis();
            depth.oldest_due = oldest
                .first()
                .map(|(_, ready)| *ready as i64)
                .filter(|ready| *ready <= now)
                .and_then(chrono::DateTime::from_timestamp_millis);
            Ok(depth)
        })
    }

    fn status<'a>(&'a self, key: &'a DeliveryKey) -> QueueFuture<'a, Option<DeliveryStatus>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let state: Option<String> = connection
                .get(self.record_key(&key.stored(self.sealer.as_ref())))
                .await
                .map_err(backend)?;
            Ok(state.as_deref().and_then(DeliveryStatus::parse))
        })
    }
}
