//! A delivery worker process: takes jobs from the queue and sends them
//! through FCM until it is stopped (or killed: the queue's leases make
//! that safe). Used by the crash tests; a deployment runs the same loop
//! inside the service. It lives in the store crate because it opens the
//! queue's backends, which are here (feature `testing`). `--data-key` is the key the queued payloads were
//! sealed with (the testing sealer's, 64 hex digits).
//!
//! ```text
//! notifier-worker (--sqlite PATH | --redis URL [--prefix P]) --data-key HEX
//!     --service-account FILE [--fcm-base URL] [--token-uri URL]
//!     [--batch N] [--workers N] [--lease-ms N] [--idle-poll-ms N]
//!     [--rate-per-minute N]
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use notifier::channel::fcm::{FcmChannel, FcmConfig};
use notifier::queue::dispatch::{
    CancellationToken, Channels, DispatchConfig, Until, run_dispatcher,
};
use notifier::queue::{DeliveryQueue, QueueConfig, Sealer};
use notifier::testing::sealer::KeySealer;
use store::{RedisQueue, SqliteQueue};

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// A delivery worker: claims queued deliveries and sends them through FCM.
#[derive(clap::Parser)]
#[command(name = "notifier-worker")]
#[command(group = clap::ArgGroup::new("queue").required(true).args(["sqlite", "redis"]))]
struct Args {
    /// The embedded queue's SQLite file.
    #[arg(long, value_name = "PATH")]
    sqlite: Option<std::path::PathBuf>,
    /// The Redis queue's URL.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// The Redis queue's key prefix.
    #[arg(long, default_value = "dq", requires = "redis")]
    prefix: String,
    /// The key the queued payloads were sealed with (64 hex digits).
    #[arg(long, value_name = "HEX")]
    data_key: String,
    /// The FCM service account (JSON).
    #[arg(long, value_name = "FILE")]
    service_account: std::path::PathBuf,
    /// FCM's base URL (a local contract peer in tests).
    #[arg(long, value_name = "URL")]
    fcm_base: Option<String>,
    /// The OAuth token endpoint (a local contract peer in tests).
    #[arg(long, value_name = "URL")]
    token_uri: Option<String>,
    /// Deliveries claimed per batch.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Dispatch loops in this process.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    workers: u64,
    /// How long a claim is held before another worker may take it over.
    #[arg(long, default_value_t = 60_000)]
    lease_ms: u64,
    /// The pause after a batch that found nothing.
    #[arg(long, default_value_t = 50)]
    idle_poll_ms: u64,
    /// FCM sends a minute (defaults to the channel's own limit).
    #[arg(long)]
    rate_per_minute: Option<u32>,
}

async fn run(args: Args) -> Result<(), Failure> {
    let sealer: Arc<dyn Sealer> = Arc::new(KeySealer::from_hex(&args.data_key)?);
    let queue: Arc<dyn DeliveryQueue> = match (&args.sqlite, &args.redis) {
        (Some(path), None) => Arc::new(SqliteQueue::open(path, QueueConfig::default(), sealer)?),
        (None, Some(url)) => {
            Arc::new(RedisQueue::connect(url, &args.prefix, QueueConfig::default(), sealer).await?)
        }
        _ => return Err("give exactly one of --sqlite PATH or --redis URL".into()),
    };
    let account = std::fs::read_to_string(&args.service_account)
        .map_err(|e| format!("reading {}: {e}", args.service_account.display()))?;
    let mut fcm = FcmConfig::default();
    if let Some(base) = args.fcm_base {
        fcm.base_url = base;
    }
    fcm.token_uri = args.token_uri;
    if let Some(rate) = args.rate_per_minute {
        fcm.rate_per_minute = rate;
    }
    let channels = Channels::new().with(Arc::new(FcmChannel::from_json(&account, fcm)?));
    let (batch, workers) = (args.batch, args.workers);
    let lease = Duration::from_millis(args.lease_ms);
    let idle = Duration::from_millis(args.idle_poll_ms);
    let mut loops = tokio::task::JoinSet::new();
    for index in 0..workers {
        let queue = queue.clone();
        let channels = channels.clone();
        let config = DispatchConfig {
            worker: format!("worker-{}-{index}", std::process::id()),
            batch,
            lease,
            ..DispatchConfig::default()
        };
        loops.spawn(async move {
            // Runs until the process is killed: the crash tests' way out.
            let until = Until::Stopped(CancellationToken::new());
            let _ = run_dispatcher(queue.as_ref(), &channels, &config, idle, until, |_| async {
            })
            .await;
        });
    }
    while loops.join_next().await.is_some() {}
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    // Usage errors exit with 2, as clap does.
    let args = <Args as clap::Parser>::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("notifier-worker: {error}");
            ExitCode::FAILURE
        }
    }
}
