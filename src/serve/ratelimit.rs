//! Rate limits on the public and resident endpoints: per client and route
//! class, `governor`'s cell-rate algorithm (a token bucket refilled
//! continuously), answering 429 with `Retry-After` when empty.
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
//! sleeping. Memory is bounded per route class: past `max_clients`
//! clients, the idle ones are forgotten first — forgetting a client whose
//! allowance has refilled changes nothing, since a new client starts full.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::ConnectInfo;
use axum::http::header::{HeaderValue, RETRY_AFTER};
use axum::http::{Extensions, HeaderMap};
use axum::response::{IntoResponse, Response};
use governor::Quota;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::state::keyed::ShrinkableKeyedStateStore;
use ingest::clock::SharedClock;
use store::KeyHash;

use crate::error::{ApiError, ErrorCode};
pub use crate::serve::config::LimitsConfig;

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

/// One limiter per route class on `governor`'s cell-rate algorithm, each
/// over a [`BoundedStore`]; a class whose rate is 0 has none.
#[derive(Debug)]
pub struct RateLimiter {
    config: LimitsConfig,
    clock: LimiterClock,
    classes: HashMap<RouteClass, ClassLimiter>,
}

#[derive(Debug)]
struct ClassLimiter {
    cells: governor::RateLimiter<Probe, BoundedStore, LimiterClock, NoOpMiddleware<Nanos>>,
    store: BoundedStore,
}

impl RateLimiter {
    /// Limits from `config`, timed by the service clock.
    pub fn new(config: LimitsConfig, clock: SharedClock) -> RateLimiter {
        let clock = LimiterClock {
            service: clock,
            latest: Arc::new(AtomicU64::new(0)),
        };
        let classes = [
            RouteClass::Public,
            RouteClass::Subscribe,
            RouteClass::Resident,
            RouteClass::KeyGuess,
        ]
        .into_iter()
        .filter_map(|class| {
            let quota = quota(&config, class)?;
            let store = BoundedStore::default();
            let cells = governor::RateLimiter::new(quota, store.clone(), clock.clone());
            Some((class, ClassLimiter { cells, store }))
        })
        .collect();
        RateLimiter {
            config,
            clock,
            classes,
        }
    }

    pub fn config(&self) -> &LimitsConfig {
        &self.config
    }

    /// Whether `client` has a request left for `class` now, taking none.
    pub fn peek(&self, client: ClientKey, class: RouteClass) -> Result<(), Limited> {
        self.probe(client, class, false)
    }

    /// Takes one request from `client`'s allowance for `class`.
    pub fn check(&self, client: ClientKey, class: RouteClass) -> Result<(), Limited> {
        self.probe(client, class, true)
    }

    fn probe(&self, client: ClientKey, class: RouteClass, take: bool) -> Result<(), Limited> {
        let Some(limiter) = self.classes.get(&class) else {
            return Ok(());
        };
        let outcome = limiter.cells.check_key(&Probe { client, take });
        if take && limiter.cells.len() > self.config.max_clients {
            // Idle clients first: forgetting a client whose allowance has
            // refilled changes nothing. If every client is still active,
            // the least recently active half goes.
            limiter.cells.retain_recent();
            if limiter.cells.len() > self.config.max_clients {
                limiter.store.keep_most_recent(self.config.max_clients / 2);
            }
        }
        outcome.map_err(|refused| {
            let wait = refused.wait_time_from(governor::clock::Clock::now(&self.clock));
            Limited {
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            }
        })
    }

    /// Clients currently remembered, over all route classes (for tests
    /// and metrics).
    pub fn len(&self) -> usize {
        self.classes.values().map(|l| l.cells.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A class's quota: up to its capacity at once (the configured burst for
/// public reads, otherwise a full minute's allowance), then refilled at
/// its per-minute rate. `None` when the rate is 0 (the limit is off).
fn quota(config: &LimitsConfig, class: RouteClass) -> Option<Quota> {
    let per_minute = match class {
        RouteClass::Public => config.public_per_minute,
        RouteClass::Subscribe => config.subscribe_per_minute,
        RouteClass::Resident => config.resident_per_minute,
        RouteClass::KeyGuess => config.key_guesses_per_minute,
    };
    let per_minute = NonZeroU32::new(per_minute)?;
    let burst = match class {
        RouteClass::Public => NonZeroU32::new(config.public_burst).unwrap_or(per_minute),
        _ => per_minute,
    };
    Some(Quota::per_minute(per_minute).allow_burst(burst))
}

/// The key a check is made with: the client, and whether the check takes
/// a request (`false` is a peek; the store then writes nothing back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Probe {
    client: ClientKey,
    take: bool,
}

/// Independent locks so concurrent clients rarely wait on each other.
const SHARDS: usize = 16;

/// Each client's theoretical arrival time, in shards.
///
/// Written here rather than taken from `governor`'s own stores for two
/// things they lack: a peek that reads a client's allowance without
/// spending it (unknown-key counting needs it), and a hard bound on
/// memory when every client is active (`keep_most_recent`); their
/// `retain_recent` only drops idle clients, so a flood from many addresses
/// would grow them without limit.
#[derive(Debug, Clone)]
struct BoundedStore {
    shards: Arc<[Mutex<HashMap<ClientKey, Nanos>>; SHARDS]>,
}

impl Default for BoundedStore {
    fn default() -> Self {
        BoundedStore {
            shards: Arc::new(std::array::from_fn(|_| Mutex::new(HashMap::new()))),
        }
    }
}

impl BoundedStore {
    fn shard(&self, client: &ClientKey) -> MutexGuard<'_, HashMap<ClientKey, Nanos>> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        client.hash(&mut hasher);
        self.shards[(hasher.finish() as usize) % SHARDS]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn locked(&self) -> impl Iterator<Item = MutexGuard<'_, HashMap<ClientKey, Nanos>>> {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Keeps the `keep` clients whose next arrival is latest (the most
    /// recently and most heavily active); ties go either way.
    fn keep_most_recent(&self, keep: usize) {
        let mut clients: Vec<(Nanos, ClientKey)> = Vec::new();
        for shard in self.locked() {
            clients.extend(shard.iter().map(|(client, arrival)| (*arrival, *client)));
        }
        if clients.len() <= keep {
            return;
        }
        clients.sort_unstable_by_key(|(arrival, _)| std::cmp::Reverse(*arrival));
        let kept: HashSet<ClientKey> = clients[..keep].iter().map(|(_, c)| *c).collect();
        for mut shard in self.locked() {
            shard.retain(|client, _| kept.contains(client));
        }
    }
}

impl StateStore for BoundedStore {
    type Key = Probe;

    fn measure_and_replace<T, F, E>(&self, probe: &Probe, decide: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut shard = self.shard(&probe.client);
        let (outcome, next) = decide(shard.get(&probe.client).copied())?;
        if probe.take {
            shard.insert(probe.client, next);
        }
        Ok(outcome)
    }
}

impl ShrinkableKeyedStateStore<Probe> for BoundedStore {
    fn retain_recent(&self, drop_below: Nanos) {
        for mut shard in self.locked() {
            shard.retain(|_, arrival| *arrival >= drop_below);
        }
    }

    fn shrink_to_fit(&self) {
        for mut shard in self.locked() {
            shard.shrink_to_fit();
        }
    }

    fn len(&self) -> usize {
        self.locked().map(|s| s.len()).sum()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The service clock as the limiter sees it: it never runs backwards. A
/// clock set back (the demo's replay) refills nothing and takes nothing
/// back until it passes the latest time the limiter saw.
#[derive(Debug, Clone)]
struct LimiterClock {
    service: SharedClock,
    latest: Arc<AtomicU64>,
}

impl governor::clock::Clock for LimiterClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let now = self.service.now().timestamp_nanos_opt().unwrap_or(0).max(0) as u64;
        Nanos::from(self.latest.fetch_max(now, Ordering::Relaxed).max(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use ingest::clock::ManualClock;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    fn limiter_with(config: LimitsConfig) -> (RateLimiter, Arc<ManualClock>) {
        let clock = ManualClock::shared(t0());
        (RateLimiter::new(config, clock.clone()), clock)
    }

    fn limiter(subscribe_per_minute: u32) -> (RateLimiter, Arc<ManualClock>) {
        limiter_with(LimitsConfig {
            subscribe_per_minute,
            ..LimitsConfig::default()
        })
    }

    fn ip(last: u8) -> ClientKey {
        ClientKey::Address(IpAddr::from([192, 0, 2, last]))
    }

    #[test]
    fn a_minutes_allowance_then_refused_with_the_wait_until_one_token() {
        let (limiter, clock) = limiter(6);
        for _ in 0..6 {
            assert!(limiter.check(ip(1), RouteClass::Subscribe).is_ok());
        }
        // 6 a minute = one every 10 s.
        assert_eq!(
            limiter.check(ip(1), RouteClass::Subscribe),
            Err(Limited {
                retry_after_secs: 10
            })
        );
        clock.set(t0() + Duration::seconds(4));
        assert_eq!(
            limiter.check(ip(1), RouteClass::Subscribe),
            Err(Limited {
                retry_after_secs: 6
            })
        );
        clock.set(t0() + Duration::seconds(10));
        assert!(limiter.check(ip(1), RouteClass::Subscribe).is_ok());
        assert!(limiter.check(ip(1), RouteClass::Subscribe).is_err());
    }

    #[test]
    fn the_public_burst_then_the_per_minute_rate() {
        let (limiter, clock) = limiter_with(LimitsConfig {
            public_per_minute: 60,
            public_burst: 5,
            ..LimitsConfig::default()
        });
        for _ in 0..5 {
            assert!(limiter.check(ip(1), RouteClass::Public).is_ok());
        }
        assert_eq!(
            limiter.check(ip(1), RouteClass::Public),
            Err(Limited {
                retry_after_secs: 1
            })
        );
        // A long pause refills the burst, never more.
        clock.advance(Duration::minutes(10));
        for _ in 0..5 {
            assert!(limiter.check(ip(1), RouteClass::Public).is_ok());
        }
        assert!(limiter.check(ip(1), RouteClass::Public).is_err());
    }

    #[test]
    fn clients_and_classes_have_their_own_buckets() {
        let (limiter, _clock) = limiter(1);
        assert!(limiter.check(ip(1), RouteClass::Subscribe).is_ok());
        assert!(limiter.check(ip(1), RouteClass::Subscribe).is_err());
        assert!(limiter.check(ip(2), RouteClass::Subscribe).is_ok());
        assert!(limiter.check(ip(1), RouteClass::Public).is_ok());
        let device = ClientKey::Device(KeyHash([7; 32]));
        assert!(limiter.check(device, RouteClass::Subscribe).is_ok());
    }

    #[test]
    fn zero_turns_a_limit_off_and_a_clock_set_back_refills_nothing() {
        let (limiter, _clock) = limiter(0);
        for _ in 0..1000 {
            assert!(limiter.check(ip(1), RouteClass::Subscribe).is_ok());
        }
        let (limiter, clock) = self::limiter(1);
        assert!(limiter.check(ip(1), RouteClass::Subscribe).is_ok());
        clock.set(t0() - Duration::hours(1));
        assert!(limiter.check(ip(1), RouteClass::Subscribe).is_err());
        // Nor does it take back what time gave: a minute after the first
        // request the next one is allowed, whatever the clock did between.
        clock.set(t0() + Duration::seconds(60));
        assert!(limiter.check(ip(1), RouteClass::Subscribe).is_ok());
    }

    #[test]
    fn memory_stays_bounded_and_idle_clients_go_first() {
        let (limiter, clock) = limiter_with(LimitsConfig {
            subscribe_per_minute: 1,
            max_clients: 64,
            ..LimitsConfig::default()
        });
        for i in 0..5000u32 {
            let key = ClientKey::Address(IpAddr::from(i.to_be_bytes()));
            assert!(limiter.check(key, RouteClass::Subscribe).is_ok());
        }
        assert!(limiter.len() <= 64, "held {}", limiter.len());
        // Minutes later those clients are idle again: they make room for
        // new ones, and a client that has spent its allowance stays
        // limited.
        clock.set(t0() + Duration::seconds(200));
        let busy = ClientKey::Address(IpAddr::from([10, 0, 0, 1]));
        assert!(limiter.check(busy, RouteClass::Subscribe).is_ok());
        for i in 5000..5050u32 {
            let key = ClientKey::Address(IpAddr::from(i.to_be_bytes()));
            assert!(limiter.check(key, RouteClass::Subscribe).is_ok());
        }
        assert!(limiter.check(busy, RouteClass::Subscribe).is_err());
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
        let (limiter, clock) = limiter_with(LimitsConfig {
            key_guesses_per_minute: 2,
            ..LimitsConfig::default()
        });
        for _ in 0..5 {
            assert!(limiter.peek(ip(1), RouteClass::KeyGuess).is_ok());
        }
        assert!(limiter.check(ip(1), RouteClass::KeyGuess).is_ok());
        assert!(limiter.check(ip(1), RouteClass::KeyGuess).is_ok());
        assert_eq!(
            limiter.peek(ip(1), RouteClass::KeyGuess),
            Err(Limited {
                retry_after_secs: 30
            })
        );
        assert!(limiter.peek(ip(2), RouteClass::KeyGuess).is_ok());
        clock.set(t0() + Duration::seconds(30));
        assert!(limiter.peek(ip(1), RouteClass::KeyGuess).is_ok());
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
