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

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use notifier::channel::fcm::{FcmChannel, FcmConfig};
use notifier::queue::dispatch::{Channels, DispatchConfig, dispatch_batch};
use notifier::queue::{DeliveryQueue, QueueConfig, Sealer};
use notifier::testing::sealer::KeySealer;
use store::{RedisQueue, SqliteQueue};

type Failure = Box<dyn std::error::Error + Send + Sync>;

const FLAGS: &[&str] = &[
    "--sqlite",
    "--redis",
    "--prefix",
    "--data-key",
    "--service-account",
    "--fcm-base",
    "--token-uri",
    "--batch",
    "--workers",
    "--lease-ms",
    "--idle-poll-ms",
    "--rate-per-minute",
];

struct Args(HashMap<String, String>);

impl Args {
    fn parse() -> Result<Args, Failure> {
        let mut map = HashMap::new();
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            if !FLAGS.contains(&flag.as_str()) {
                return Err(format!("unknown argument {flag}").into());
            }
            let value = args.next().ok_or(format!("{flag} needs a value"))?;
            map.insert(flag, value);
        }
        Ok(Args(map))
    }

    fn get(&self, flag: &str) -> Option<&str> {
        self.0.get(flag).map(String::as_str)
    }

    fn number(&self, flag: &str, default: u64) -> Result<u64, Failure> {
        match self.get(flag) {
            Some(text) => text
                .parse()
                .map_err(|e| format!("{flag} {text:?}: {e}").into()),
            None => Ok(default),
        }
    }
}

async fn run(args: Args) -> Result<(), Failure> {
    let sealer: Arc<dyn Sealer> = Arc::new(KeySealer::from_hex(
        args.get("--data-key").ok_or("--data-key HEX is required")?,
    )?);
    let queue: Arc<dyn DeliveryQueue> = match (args.get("--sqlite"), args.get("--redis")) {
        (Some(path), None) => Arc::new(SqliteQueue::open(
            std::path::Path::new(path),
            QueueConfig::default(),
            sealer,
        )?),
        (None, Some(url)) => Arc::new(
            RedisQueue::connect(
                url,
                args.get("--prefix").unwrap_or("dq"),
                QueueConfig::default(),
                sealer,
            )
            .await?,
        ),
        _ => return Err("give exactly one of --sqlite PATH or --redis URL".into()),
    };
    let account_path = args
        .get("--service-account")
        .ok_or("--service-account FILE is required")?;
    let account = std::fs::read_to_string(account_path)
        .map_err(|e| format!("reading {account_path}: {e}"))?;
    let mut fcm = FcmConfig::default();
    if let Some(base) = args.get("--fcm-base") {
        fcm.base_url = base.to_string();
    }
    fcm.token_uri = args.get("--token-uri").map(str::to_string);
    fcm.rate_per_minute =
        u32::try_from(args.number("--rate-per-minute", u64::from(fcm.rate_per_minute))?)?;
    let channels = Channels::new().with(Arc::new(FcmChannel::from_json(&account, fcm)?));
    let batch = usize::try_from(args.number("--batch", 256)?)?;
    let workers = args.number("--workers", 1)?.max(1);
    let lease = Duration::from_millis(args.number("--lease-ms", 60_000)?);
    let idle = Duration::from_millis(args.number("--idle-poll-ms", 50)?);
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
            loop {
                match dispatch_batch(queue.as_ref(), &channels, &config).await {
                    Ok(report) if report.claimed == 0 => tokio::time::sleep(idle).await,
                    Ok(_) => {}
                    Err(error) => {
                        eprintln!("notifier-worker: {error}");
                        tokio::time::sleep(idle.max(Duration::from_millis(100))).await;
                    }
                }
            }
        });
    }
    while loops.join_next().await.is_some() {}
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("notifier-worker: {error}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("notifier-worker: {error}");
            ExitCode::FAILURE
        }
    }
}
