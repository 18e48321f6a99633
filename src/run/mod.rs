//! Builds the service from its configuration and runs it: storage, atlas,
//! engine (with every stored subscriber), ingest pipeline and feed workers,
//! the event loop (lifecycle event → engine → queue, inboxes, alerts view),
//! queue dispatchers, maintenance, heartbeat and the HTTP server.
//!
//! Shutdown (SIGTERM, ctrl-c, or the caller's token): the server stops
//! accepting and finishes in-flight requests; feed workers finish the
//! document in hand; the event loop handles what ingest already accepted;
//! dispatchers finish their claimed batch (the rest stays queued, durable);
//! then the process exits. Each step is bounded by
//! `server.shutdown_grace_secs`.
//!
//! `listener`: the HTTP accept loop with connection caps, timeouts and the
//! open-file budget.

pub mod listener;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use chrono::{DateTime, Utc};
use geodata::Atlas;
use geodata::geocoder::Gazetteer;
use geodata::shelters::ShelterIndex;
use ingest::clock::SharedClock;
use ingest::feed::pipeline::{Pipeline, PipelineConfig};
use ingest::feed::runner::{spawn_workers, trust_rules};
use ingest::lifecycle::LifecycleEvent;
use ingest::source::{SenderPattern, SourceId, SourceTrust};
use notifier::channel::live::LiveChannel;
use notifier::queue::dispatch::Channels;
use store::Storage;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::engine::{Directory, Engine};
use crate::run::listener::admission::Caps;
use crate::run::listener::{Listener, OPS_MAX_CONNECTIONS, Timeouts, open_files};
use crate::serve::clock::RunningClock;
use crate::serve::config::{ServeConfig, StorageKind};
use crate::serve::device_keys::Residents;
use crate::serve::heartbeat::{self, HeartbeatStatus};
use crate::serve::metrics::Metrics;
use crate::serve::ratelimit::RateLimiter;
pub use crate::serve::startup::StartError;
use crate::serve::startup::start_error;
use crate::serve::state::{AppState, StateInner};
use app::App;

/// The source issuers' submissions (and the heartbeat) come from.
pub const ISSUER_SOURCE: &str = "issuers";
/// The demo's fictional agencies.
const DEMO_SENDERS: &str = "*@demo.hazardline.invalid";
/// Synthetic subscribers in `--demo`.
const DEMO_SUBSCRIBERS: usize = 2000;
/// Lifecycle events waiting for the engine; ingest waits when it is full.
const EVENT_BUFFER: usize = 256;

/// How `hazardline serve` was asked to run.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// The demo region, synthetic subscribers, an ephemeral store and the
    /// demo messages replayed.
    pub demo: bool,
    /// A clock to use instead of the configured one (tests that step
    /// through expiries and rate limits).
    pub clock: Option<SharedClock>,
}

/// Everything built, before anything runs.
pub struct Service {
    pub state: AppState,
    events: mpsc::Receiver<LifecycleEvent>,
    channels: Channels,
    /// The demo's clock, to move to each replayed message's time.
    demo_clock: Option<Arc<RunningClock>>,
    /// The ephemeral store's directory in `--demo` (removed on drop).
    _scratch: Option<tempfile::TempDir>,
    canary_point: Option<(f64, f64)>,
}

/// Builds the service.
pub async fn build(config: ServeConfig, options: &ServeOptions) -> Result<Service, StartError> {
    let config = Arc::new(config);
    let running_clock = match (config.clock.start, options.demo) {
        (Some(start), _) => Some(Arc::new(RunningClock::starting_at(start))),
        (None, true) => Some(Arc::new(RunningClock::starting_at(demo_start()))),
        (None, false) => None,
    };
    let clock: SharedClock = match (&options.clock, &running_clock) {
        (Some(c), _) => c.clone(),
        (None, Some(c)) => c.clone(),
        (None, None) => ingest::clock::system_clock(),
    };
    if let Some(start) = config.clock.start {
        tracing::warn!(%start, "clock set by [clock] start: the service lives at that time");
    }

    let (atlas, shelters, gazetteer) = load_geodata(&config, options)?;
    let relief = load_relief(&config.relief, options.demo || config.geodata.demo)?;
    let (storage, scratch) = open_storage(&config, options).await?;

    let mut directory = if options.demo {
        Directory::synthetic(&atlas, DEMO_SUBSCRIBERS)
    } else {
        Directory::default()
    };
    let now = clock.now();
    let stored = storage
        .all_subscribers()
        .await
        .map_err(|e| start_error("reading subscribers", e))?;
    let mut skipped = 0usize;
    let mut subscribers: Vec<_> = directory.slots().map(|(_, s)| s.clone()).collect();
    let mut loaded = Vec::with_capacity(stored.len());
    for record in &stored {
        match app::subscribers::convert::engine_subscriber_at(record, &atlas, now) {
            Ok(subscriber) => {
                loaded.push(record);
                subscribers.push(subscriber)
            }
            Err(error) => {
                skipped += 1;
                tracing::error!(subscriber = %record.id.0, field = ?error.field(), "stored subscriber not loaded");
            }
        }
    }
    let mut canary_point = None;
    if config.heartbeat.enabled {
        let canary = heartbeat::canary(&config.heartbeat, &atlas)
            .map_err(|e| start_error("heartbeat", e))?;
        canary_point = canary.places.first().map(|p| (p.lon, p.lat));
        subscribers.push(canary);
    }
    directory = Directory::new(subscribers);
    tracing::info!(
        subscribers = directory.len(),
        stored = stored.len(),
        skipped,
        "subscribers loaded"
    );
    let link_base = format!("{}/a", config.server.public_url.trim_end_matches('/'));
    let mut engine = Engine::new(atlas.clone(), shelters, directory, link_base)
        .map_err(|e| start_error("building the engine", e))?;
    // Shelters the offices closed stay closed across restarts.
    for status in storage
        .shelter_statuses()
        .await
        .map_err(|e| start_error("reading shelter statuses", e))?
    {
        engine.set_shelter_open(&status.shelter, status.open);
    }

    let mut trust = trust_rules(&config.ingest.sources)
        .map_err(|e| start_error("ingest.sources signature keys", e))?;
    let issuer_source = SourceId::new(ISSUER_SOURCE);
    trust.push(
        SourceTrust::new(
            issuer_source.clone(),
            vec![sender_pattern(&format!(
                "*@{}",
                config.issuers.sender_domain
            ))?],
            false,
            Default::default(),
        )
        // Each office is its own authority: it may end only its own alerts.
        .with_authority(ingest::authority::AuthorityRule::Offices),
    );
    if options.demo {
        trust.push(SourceTrust::new(
            SourceId::new(crate::serve::workers::DEMO_SOURCE),
            vec![sender_pattern(DEMO_SENDERS)?],
            false,
            Default::default(),
        ));
    }
    let (events_tx, events) = mpsc::channel(EVENT_BUFFER);
    let pipeline = Pipeline::new(
        clock.clone(),
        storage.archive(),
        trust,
        events_tx,
        PipelineConfig::default(),
    )
    .await
    .map_err(|e| start_error("opening the alert archive", e))?;

    let limiter = Arc::new(RateLimiter::new(config.limits.clone(), clock.clone()));
    let metrics = Arc::new(Metrics::new());
    let live = Arc::new(LiveChannel::new(1024));
    let channels = crate::serve::channels::build_channels(
        &config,
        live.clone(),
        metrics.clone(),
        clock.clone(),
    )?;
    let logins = crate::serve::login_throttle::Logins::new(&config.logins, config.data_key_text())
        .map_err(|e| start_error("starting the password workers", e))?;
    let app = App::new(app::Parts {
        storage,
        clock,
        atlas,
        gazetteer,
        engine,
        pipeline: Arc::new(pipeline),
        issuer_source,
        relief: Arc::new(relief),
        live,
    });
    for record in loaded {
        app.subscribers.schedule_expiry(record, now);
    }
    let state = AppState::new(StateInner {
        app: Arc::new(app),
        config,
        limiter,
        metrics,
        heartbeat: Arc::new(HeartbeatStatus::default()),
        residents: Arc::new(Residents::default()),
        logins: Arc::new(logins),
    });
    Ok(Service {
        state,
        events,
        channels,
        demo_clock: options.demo.then_some(running_clock).flatten(),
        _scratch: scratch,
        canary_point,
    })
}

fn sender_pattern(text: &str) -> Result<SenderPattern, StartError> {
    text.parse::<SenderPattern>()
        .map_err(|e| start_error("issuers.sender_domain", e))
}

/// The demo region's morning (its messages are dated that day).
fn demo_start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-07-01T07:00:00+08:00")
        .map(|t| t.to_utc())
        .unwrap_or_else(|_| Utc::now())
}

async fn open_storage(
    config: &ServeConfig,
    options: &ServeOptions,
) -> Result<(Arc<dyn Storage>, Option<tempfile::TempDir>), StartError> {
    let key = match config.data_key_text() {
        Some(text) => {
            store::DataKey::parse(text).map_err(|e| start_error("storage.data_key", e))?
        }
        None if options.demo => {
            tracing::warn!(
                "no data key configured: --demo uses an ephemeral key; what it stores cannot be read after exit"
            );
            store::DataKey::generate()
        }
        None => {
            return Err(start_error(
                "storage.data_key",
                "no key to seal personal data with: set HAZARDLINE_DATA_KEY (64 hex digits) or storage.data_key",
            ));
        }
    };
    if options.demo {
        let scratch = tempfile::tempdir().map_err(|e| start_error("demo store", e))?;
        let storage = store::SqliteStorage::open(scratch.path(), key)
            .map_err(|e| start_error("demo store", e))?;
        tracing::info!("demo: subscribers and alerts live in an ephemeral store");
        return Ok((Arc::new(storage), Some(scratch)));
    }
    match config.storage.kind {
        StorageKind::Embedded => {
            let dir = config
                .storage
                .dir
                .as_deref()
                .ok_or_else(|| start_error("storage.dir", "required for the embedded store"))?;
            std::fs::create_dir_all(dir).map_err(|e| start_error("storage.dir", e))?;
            let storage = store::SqliteStorage::open(dir, key)
                .map_err(|e| start_error("opening the embedded store", e))?;
            Ok((Arc::new(storage), None))
        }
        StorageKind::Redis => {
            let url = config.storage.redis_url.as_deref().unwrap_or_default();
            let storage = store::RedisStorage::connect(url, key, "hazardline")
                .await
                .map_err(|e| start_error("connecting to Redis (storage.redis_url)", e))?;
            Ok((Arc::new(storage), None))
        }
    }
}

/// The relief catalogue: the configured file, the demo region's with the
/// demo geodata, else none.
fn load_relief(
    config: &crate::serve::config::ReliefConfig,
    demo_region: bool,
) -> Result<notifier::relief::Catalogue, StartError> {
    match (&config.catalogue, demo_region) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| start_error("relief.catalogue", format!("{}: {e}", path.display())))?;
            notifier::relief::Catalogue::from_toml(&text)
                .map_err(|e| start_error("relief.catalogue", format!("{}: {e}", path.display())))
        }
        (None, true) => notifier::relief::Catalogue::demo()
            .map_err(|e| start_error("the demo relief catalogue", e)),
        (None, false) => {
            tracing::warn!("no relief.catalogue: recovery will send no relief steps");
            Ok(notifier::relief::Catalogue::default())
        }
    }
}

type Geodata = (Arc<Atlas>, ShelterIndex, Option<Arc<Gazetteer>>);

fn load_geodata(config: &ServeConfig, options: &ServeOptions) -> Result<Geodata, StartError> {
    let demo = options.demo || config.geodata.demo;
    let atlas = match (&config.geodata.file, demo) {
        (Some(path), _) => Atlas::load(path).map_err(|e| start_error("geodata.file", e))?,
        (None, true) => geodata::demo::atlas(),
        (None, false) => {
            return Err(start_error(
                "geodata.file",
                "required: the compact file from `hazardline geodata import` (or run with --demo)",
            ));
        }
    };
    let shelters = match (&config.geodata.shelters, demo) {
        (Some(path), _) => {
            ShelterIndex::from_csv(path).map_err(|e| start_error("geodata.shelters", e))?
        }
        (None, true) => geodata::demo::shelters().map_err(|e| start_error("demo shelters", e))?,
        (None, false) => {
            tracing::warn!("no geodata.shelters: messages will name no shelter");
            ShelterIndex::new(Vec::new())
        }
    };
    let gazetteer = match (&config.geodata.gazetteer, demo) {
        (Some(path), _) => Some(
            Gazetteer::from_csv(&atlas, path)
                .map_err(|e| start_error("geodata.gazetteer", e))?
                .0,
        ),
        (None, true) => {
            Some(geodata::demo::gazetteer(&atlas).map_err(|e| start_error("demo gazetteer", e))?)
        }
        (None, false) => None,
    };
    Ok((Arc::new(atlas), shelters, gazetteer.map(Arc::new)))
}

/// The addresses the listeners are bound to (the port chosen by the
/// system where the configuration says port 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub main: SocketAddr,
    pub ops: Option<SocketAddr>,
}

impl std::fmt::Display for Bound {
    /// The announcement `hazardline serve` prints on stdout, one line that
    /// scripts and tests read: `listening on http://MAIN` followed by
    /// ` ops http://OPS` when the operator listener is configured.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "listening on http://{}", self.main)?;
        if let Some(ops) = self.ops {
            write!(f, " ops http://{ops}")?;
        }
        Ok(())
    }
}

impl Service {
    /// Runs until `shutdown` is cancelled, then drains. `ready` gets the
    /// bound addresses once the server accepts connections.
    pub async fn run(
        self,
        shutdown: CancellationToken,
        ready: Option<tokio::sync::oneshot::Sender<Bound>>,
    ) -> Result<(), StartError> {
        let Service {
            state,
            events,
            channels,
            demo_clock,
            _scratch,
            canary_point,
        } = self;
        let config = state.config.clone();
        let grace = Duration::from_secs(config.server.shutdown_grace_secs);
        let listeners = bind_listeners(&state).await?;
        let bound = Bound {
            main: listeners[0]
                .local_addr()
                .map_err(|e| start_error("server.listen", e))?,
            ops: match listeners.get(1) {
                Some(ops) => Some(
                    ops.local_addr()
                        .map_err(|e| start_error("server.ops_listen", e))?,
                ),
                None => None,
            },
        };
        state
            .app
            .alerts
            .restore(&state.app.recorder, state.app.clock.now())
            .await;

        // Input side: feeds, maintenance, demo replay, heartbeat.
        let inputs = CancellationToken::new();
        let feeds = spawn_workers(
            &config.ingest.sources,
            state.app.alerts.pipeline(),
            &Default::default(),
            &inputs,
        )
        .map_err(|e| start_error("ingest.sources", e))?;
        let mut background = JoinSet::new();
        background.spawn(state.app.alerts.pipeline().clone().run_maintenance(
            Duration::from_secs(config.dispatch.maintenance_secs.max(1)),
            inputs.clone(),
        ));
        background.spawn(crate::serve::workers::poll_queue_depth(
            state.clone(),
            inputs.clone(),
        ));
        background.spawn(crate::serve::workers::expire_locations(
            state.clone(),
            inputs.clone(),
        ));
        if let Some(clock) = demo_clock {
            background.spawn(crate::serve::workers::replay_demo(
                state.clone(),
                clock,
                inputs.clone(),
            ));
        }
        if let Some((lon, lat)) = canary_point {
            background.spawn(heartbeat::run(state.clone(), lon, lat, inputs.clone()));
        }

        // Middle: the event loop.
        let events_done = CancellationToken::new();
        let event_loop = tokio::spawn(app::flow::event_loop(
            state.app.clone(),
            events,
            inputs.clone(),
            events_done.clone(),
        ));

        // Output side: dispatchers.
        let outputs = CancellationToken::new();
        let mut dispatchers = JoinSet::new();
        for n in 0..config.dispatch.workers {
            dispatchers.spawn(crate::serve::workers::dispatcher(
                state.clone(),
                channels.clone(),
                format!("{}-{}-{n}", hostname(), std::process::id()),
                outputs.clone(),
            ));
        }

        let mut server = JoinSet::new();
        for listener in listeners {
            let address = listener.local_addr().ok();
            tracing::info!(listener = listener.name, address = ?address, "hazardline serve listening");
            server.spawn(listener.run(shutdown.clone()));
        }
        if let Some(ready) = ready {
            let _ = ready.send(bound);
        }
        // Graceful shutdown waits for open connections; a live-feed (SSE)
        // watcher never closes its own, so in-flight requests get the
        // grace period and the rest are dropped (with the join set).
        shutdown.cancelled().await;
        if tokio::time::timeout(grace, server.join_all())
            .await
            .is_err()
        {
            tracing::warn!("connections still open after the grace period are dropped");
        }
        tracing::info!("shutting down: HTTP closed; stopping feeds");

        inputs.cancel();
        let _ = tokio::time::timeout(grace, feeds.join_all()).await;
        background.abort_all();
        // The event loop handles what ingest accepted, then stops.
        let _ = tokio::time::timeout(grace, event_loop).await;
        outputs.cancel();
        if tokio::time::timeout(grace, dispatchers.join_all())
            .await
            .is_err()
        {
            tracing::warn!(
                "dispatchers did not finish their batch in time: leases will expire and the jobs be retried"
            );
        }
        let _ = events_done;
        tracing::info!("shutdown complete");
        Ok(())
    }
}

/// The main listener and, when configured, the operator listener, with
/// their caps fitted under the open-file limit.
async fn bind_listeners(state: &AppState) -> Result<Vec<Listener>, StartError> {
    let server = &state.config.server;
    let max_connections =
        open_files::prepare(server).map_err(|e| start_error("open-file limit", e))?;
    let timeouts = Timeouts::from_config(server);
    let ops_app = || {
        Router::new()
            .merge(crate::http::ops::routes())
            .with_state(state.clone())
    };
    let tcp = tokio::net::TcpListener::bind(server.listen)
        .await
        .map_err(|e| start_error("server.listen", e))?;
    let mut listeners = vec![Listener::new(
        "main",
        tcp,
        crate::http::router(state.clone()),
        ops_app(),
        Caps {
            total: max_connections,
            per_address: server.max_connections_per_address,
            reserve: server.ops_reserve,
        },
        timeouts,
    )];
    if let Some(ops_listen) = server.ops_listen {
        let tcp = tokio::net::TcpListener::bind(ops_listen)
            .await
            .map_err(|e| start_error("server.ops_listen", e))?;
        listeners.push(Listener::new(
            "ops",
            tcp,
            ops_app(),
            ops_app(),
            Caps {
                total: OPS_MAX_CONNECTIONS,
                // Monitors share an address or two; the cap is the total.
                per_address: 0,
                reserve: 0,
            },
            timeouts,
        ));
    }
    Ok(listeners)
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "hazardline".into())
}

/// A service running on the current tokio runtime, for in-process tests
/// and benchmarks (listen on port 0 to get a free one).
pub struct RunningService {
    pub address: std::net::SocketAddr,
    pub state: AppState,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), StartError>>,
}

impl RunningService {
    /// Builds and starts the service; returns once it accepts connections.
    pub async fn start(
        config: ServeConfig,
        options: &ServeOptions,
    ) -> Result<RunningService, StartError> {
        let service = build(config, options).await?;
        let state = service.state.clone();
        let shutdown = CancellationToken::new();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let mut task = tokio::spawn(service.run(shutdown.clone(), Some(ready_tx)));
        tokio::select! {
            ready = ready_rx => match ready {
                Ok(bound) => Ok(RunningService { address: bound.main, state, shutdown, task }),
                Err(_) => Err(start_error("starting", "the service stopped before it was ready")),
            },
            finished = &mut task => Err(match finished {
                Ok(Err(error)) => error,
                _ => start_error("starting", "the service stopped before it was ready"),
            }),
        }
    }

    /// Shuts down as on SIGTERM and waits for the drain.
    pub async fn stop(self) -> Result<(), StartError> {
        self.shutdown.cancel();
        self.task
            .await
            .map_err(|e| start_error("the service task", e))?
    }
}

/// Waits for SIGTERM or ctrl-c, then cancels `token`.
pub async fn cancel_on_signal(token: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(error) => {
                    tracing::error!(%error, "cannot watch SIGTERM");
                    let _ = ctrl_c.await;
                    token.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown signal received");
    token.cancel();
}

/// Loads the configuration file (if any) with the process environment.
pub fn load_config(path: Option<&Path>) -> Result<ServeConfig, crate::serve::config::ConfigError> {
    ServeConfig::load(path, std::env::vars())
}
