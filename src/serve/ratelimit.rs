//! Rate limits on the public and resident endpoints: one token bucket per
//! client and route class, refilled continuously, answering 429 with
//! `Retry-After` when empty.
//!
//! A client is, in order of preference, the device that authenticated the
//! request (its key hash), then the client address (the rightmost
//! `X-Forwarded-For` entry only when `[limits] trust_forwarded = true`, since
//! anyone can write that header). An unverified bearer token never names the
//! client: rotating made-up tokens would otherwise escape every limit.
//!
//! Unknown device keys are counted per client address (`KeyGuess`): a
//! request is first checked against the address's remaining allowance
//! ([`RateLimiter::peek`]) and only a failed lookup takes from it, so an
//! address that has spent it is refused even with a right key, while
//! clients presenting valid keys never use it up.
//!
//! Limits come from `[limits]` of the configuration ([`LimitsConfig`]); a
//! rate of 0 turns that limit off (load benchmarks).
//!
//! Time comes from the service clock, so tests step through refills without
//! sleeping. Memory is bounded: past `max_clients` buckets, the full (idle)
//! ones are dropped first — dropping a full bucket forgets nothing, since a
//! new bucket starts full.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};

use axum::extract::ConnectInfo;
use axum::http::header::{HeaderValue, RETRY_AFTER};
use axum::http::{Extensions, HeaderMap};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use store::KeyHash;

pub use super::config::LimitsConfig;
use super::error::{ApiError, ErrorCode};

/// Which limit a route falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteClass {
    Public,
    Subscribe,
    Resident,
    /// Unknown device keys presented.
    KeyGuess,
}

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    Device(KeyHash),
    Address(IpAddr),
    /// No address known (an in-process request without connection info):
    /// all such requests share one bucket.
    Unknown,
}

impl ClientKey {
    /// The client address of a request (see the module documentation).
    pub fn from_address(
        headers: &HeaderMap,
        extensions: &Extensions,
        trust_forwarded: bool,
    ) -> ClientKey {
        if trust_forwarded && let Some(ip) = forwarded_client(headers) {
            return ClientKey::Address(ip);
        }
        match extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(addr)) => ClientKey::Address(addr.ip()),
            None => ClientKey::Unknown,
        }
    }
}

/// The rightmost address of `X-Forwarded-For`: the one our proxy appended.
fn forwarded_client(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers.get_all("x-forwarded-for").iter().next_back()?;
    last.to_str()
        .ok()?
        .rsplit(',')
        .next()
        .and_then(|s| s.trim().parse().ok())
}

/// The request was refused; retry after this many whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after_secs: u64,
}

impl IntoResponse for Limited {
    fn into_response(self) -> Response {
        let mut response = ApiError::new(
            ErrorCode::RateLimited,
            format!("too many requests; retry after {} s", self.retry_after_secs),
        )
        .into_response();
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(self.retry_after_secs));
        response
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: DateTime<Utc>,
}

/// Independent locks so concurrent clients rarely wait on each other.
const SHARDS: usize = 16;

/// Token buckets keyed by client and route class.
#[derive(Debug)]
pub struct RateLimiter {
    config: LimitsConfig,
    shards: Vec<Mutex<HashMap<(ClientKey, RouteClass), Bucket>>>,
}

impl RateLimiter {
    pub fn new(config: LimitsConfig) -> RateLimiter {
        RateLimiter {
            config,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    pub fn config(&self) -> &LimitsConfig {
        &self.config
    }

    fn per_minute(&self, class: RouteClass) -> u32 {
        match class {
            RouteClass::Public => self.config.public_per_minute,
            RouteClass::Subscribe => self.config.subscribe_per_minute,
            RouteClass::Resident => self.config.resident_per_minute,
            RouteClass::KeyGuess => self.config.key_guesses_per_minute,
        }
    }

    /// Requests a client may make at once: the configured burst for public
    /// reads, otherwise a full minute's allowance.
    fn capacity(&self, class: RouteClass) -> f64 {
        match class {
            RouteClass::Public if self.config.public_burst > 0 => {
                f64::from(self.config.public_burst)
            }
            _ => f64::from(self.per_minute(class)),
        }
    }

    /// Whether `client` has a token left for `class` at `now`, taking none.
    pub fn peek(
        &self,
        client: ClientKey,
        class: RouteClass,
        now: DateTime<Utc>,
    ) -> Result<(), Limited> {
        let per_minute = self.per_minute(class);
        if per_minute == 0 {
            return Ok(());
        }
        let key = (client, class);
        let shard = self.shards[shard_of(&key)]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // No bucket: a full one.
        let Some(bucket) = shard.get(&key) else {
            return Ok(());
        };
        let per_second = f64::from(per_minute) / 60.0;
        let elapsed = (now - bucket.updated).num_milliseconds().max(0) as f64 / 1000.0;
        let tokens = (bucket.tokens + elapsed * per_second).min(self.capacity(class));
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err(Limited {
                retry_after_secs: ((1.0 - tokens) / per_second).ceil().max(1.0) as u64,
            })
        }
    }

    /// Takes one token from `client`'s bucket for `class` at `now`.
    pub fn check(
        &self,
        client: ClientKey,
        class: RouteClass,
        now: DateTime<Utc>,
    ) -> Result<(), Limited> {
        let per_minute = self.per_minute(class);
        if per_minute == 0 {
            return Ok(());
        }
        // Up to `capacity` at once, then it refills at per_minute / 60
        // tokens a second.
        let capacity = self.capacity(class);
        let per_second = f64::from(per_minute) / 60.0;
        let key = (client, class);
        let mut shard = self.shards[shard_of(&key)]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let max_per_shard = self.config.max_clients.div_ceil(SHARDS).max(1);
        if shard.len() >= max_per_shard && !shard.contains_key(&key) {
            evict(&mut shard, now, max_per_shard, |class| {
                (
                    self.capacity(class),
                    f64::from(self.per_minute(class)) / 60.0,
                )
            });
        }
        let bucket = shard.entry(key).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        // A clock set backwards refills nothing (and takes nothing back).
        let elapsed = (now - bucket.updated).num_milliseconds().max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.updated = bucket.updated.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / per_second;
            Err(Limited {
                retry_after_secs: wait.ceil().max(1.0) as u64,
            })
        }
    }

    /// Buckets currently held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn shard_of(key: &(ClientKey, RouteClass)) -> usize {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    (hasher.finish() as usize) % SHARDS
}

/// Makes room in a full shard: first drops buckets that have refilled
/// (forgetting them changes nothing), then, if every client is still
/// active, the least recently used half.
fn evict(
    shard: &mut HashMap<(ClientKey, RouteClass), Bucket>,
    now: DateTime<Utc>,
    max: usize,
    rates: impl Fn(RouteClass) -> (f64, f64),
) {
    shard.retain(|(_, class), bucket| {
        let (capacity, per_second) = rates(*class);
        let elapsed = (now - bucket.updated).num_milliseconds().max(0) as f64 / 1000.0;
        bucket.tokens + elapsed * per_second < capacity
    });
    if shard.len() >= max {
        let mut ages: Vec<DateTime<Utc>> = shard.values().map(|b| b.updated).collect();
        ages.sort_unstable();
        let cutoff = ages[ages.len() / 2];
        shard.retain(|_, bucket| bucket.updated > cutoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    fn limiter(subscribe_per_minute: u32) -> RateLimiter {
        RateLimiter::new(LimitsConfig {
            subscribe_per_minute,
            ..LimitsConfig::default()
        })
    }

    fn ip(last: u8) -> ClientKey {
        ClientKey::Address(IpAddr::from([192, 0, 2, last]))
    }

    #[test]
    fn a_minutes_allowance_then_refused_with_the_wait_until_one_token() {
        let limiter = limiter(6);
        for _ in 0..6 {
            assert!(limiter.check(ip(1), RouteClass::Subscribe, t0()).is_ok());
        }
        // 6 a minute = one every 10 s.
        assert_eq!(
            limiter.check(ip(1), RouteClass::Subscribe, t0()),
            Err(Limited {
                retry_after_secs: 10
            })
        );
        let later = t0() + Duration::seconds(4);
        assert_eq!(
            limiter.check(ip(1), RouteClass::Subscribe, later),
            Err(Limited {
                retry_after_secs: 6
            })
        );
        assert!(
            limiter
                .check(ip(1), RouteClass::Subscribe, t0() + Duration::seconds(10))
                .is_ok()
        );
    }

    #[test]
    fn clients_and_classes_have_their_own_buckets() {
        let limiter = limiter(1);
        assert!(limiter.check(ip(1), RouteClass::Subscribe, t0()).is_ok());
        assert!(limiter.check(ip(1), RouteClass::Subscribe, t0()).is_err());
        assert!(limiter.check(ip(2), RouteClass::Subscribe, t0()).is_ok());
        assert!(limiter.check(ip(1), RouteClass::Public, t0()).is_ok());
        let device = ClientKey::Device(KeyHash([7; 32]));
        assert!(limiter.check(device, RouteClass::Subscribe, t0()).is_ok());
    }

    #[test]
    fn zero_turns_a_limit_off_and_a_clock_set_back_refills_nothing() {
        let limiter = limiter(0);
        for _ in 0..1000 {
            assert!(limiter.check(ip(1), RouteClass::Subscribe, t0()).is_ok());
        }
        let limiter = self::limiter(1);
        assert!(limiter.check(ip(1), RouteClass::Subscribe, t0()).is_ok());
        let earlier = t0() - Duration::hours(1);
        assert!(
            limiter
                .check(ip(1), RouteClass::Subscribe, earlier)
                .is_err()
        );
    }

    #[test]
    fn memory_stays_bounded_and_refilled_buckets_go_first() {
        let limiter = RateLimiter::new(LimitsConfig {
            subscribe_per_minute: 1,
            max_clients: 64,
            ..LimitsConfig::default()
        });
        for i in 0..5000u32 {
            let key = ClientKey::Address(IpAddr::from(i.to_be_bytes()));
            assert!(limiter.check(key, RouteClass::Public, t0()).is_ok());
        }
        assert!(limiter.len() <= 64, "held {}", limiter.len());
        // 100 s later those buckets are full again: they make room, and a
        // client that has spent its allowance stays limited.
        let later = t0() + Duration::seconds(100);
        let busy = ClientKey::Address(IpAddr::from([10, 0, 0, 1]));
        assert!(limiter.check(busy, RouteClass::Subscribe, later).is_ok());
        for i in 5000..5100u32 {
            let key = ClientKey::Address(IpAddr::from(i.to_be_bytes()));
            let _ = limiter.check(key, RouteClass::Public, t0());
        }
        assert!(limiter.check(busy, RouteClass::Subscribe, later).is_err());
        assert!(limiter.len() <= 64, "held {}", limiter.len());
    }

    #[test]
    fn forwarded_for_only_when_trusted_and_rightmost_entry() {
        use axum::http::Request;
        let key =
            |r: &Request<()>, trust| ClientKey::from_address(r.headers(), r.extensions(), trust);
        let request = Request::builder()
            .header("x-forwarded-for", "203.0.113.9, 198.51.100.7")
            .body(())
            .unwrap();
        assert_eq!(
            key(&request, true),
            ClientKey::Address("198.51.100.7".parse().unwrap())
        );
        assert_eq!(key(&request, false), ClientKey::Unknown);
        let mut request = Request::builder().body(()).unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))));
        assert_eq!(
            key(&request, true),
            ClientKey::Address("127.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn peek_takes_nothing_and_sees_an_empty_bucket() {
        let limiter = RateLimiter::new(LimitsConfig {
            key_guesses_per_minute: 2,
            ..LimitsConfig::default()
        });
        for _ in 0..5 {
            assert!(limiter.peek(ip(1), RouteClass::KeyGuess, t0()).is_ok());
        }
        assert!(limiter.check(ip(1), RouteClass::KeyGuess, t0()).is_ok());
        assert!(limiter.check(ip(1), RouteClass::KeyGuess, t0()).is_ok());
        assert_eq!(
            limiter.peek(ip(1), RouteClass::KeyGuess, t0()),
            Err(Limited {
                retry_after_secs: 30
            })
        );
        assert!(limiter.peek(ip(2), RouteClass::KeyGuess, t0()).is_ok());
        assert!(
            limiter
                .peek(ip(1), RouteClass::KeyGuess, t0() + Duration::seconds(30))
                .is_ok()
        );
    }

    #[test]
    fn limited_answers_429_with_retry_after() {
        let response = Limited {
            retry_after_secs: 7,
        }
        .into_response();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()[RETRY_AFTER], "7");
    }
}
