//! `hazardline serve`: the service (API, pages, feeds, engine, notifier) in
//! one process, until SIGTERM or ctrl-c.

use std::path::PathBuf;
use std::process::ExitCode;

use hazardline::http::staff::auth::{BOOTSTRAP_ENV, bootstrap_operator};
use hazardline::run::{self as runtime, ServeOptions};
use tokio_util::sync::CancellationToken;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The configuration file (see the commented `hazardline.toml`).
    /// Environment variables `HAZARDLINE_<SECTION>_<KEY>` override it.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// The demo region with synthetic subscribers, an ephemeral store and
    /// the demo messages replayed a few seconds apart.
    #[arg(long)]
    demo: bool,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

pub fn run(args: ServeArgs) -> ExitCode {
    init_logging(args.log_format);
    let config = match runtime::load_config(args.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let tokio = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(tokio) => tokio,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let options = ServeOptions {
        demo: args.demo,
        ..ServeOptions::default()
    };
    let result = tokio.block_on(async move {
        let service = runtime::build(config, &options).await?;
        if let Ok(spec) = std::env::var(BOOTSTRAP_ENV) {
            bootstrap_operator(
                service.state.app.storage.as_ref(),
                &service.state.logins.pool,
                &spec,
            )
            .await
            .map_err(|e| runtime::StartError {
                what: BOOTSTRAP_ENV,
                detail: e.to_string(),
            })?;
        }
        let shutdown = CancellationToken::new();
        tokio::spawn(runtime::cancel_on_signal(shutdown.clone()));
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<runtime::Bound>();
        tokio::spawn(async move {
            if let Ok(bound) = ready_rx.await {
                // On stdout (logs go to stderr): with port 0 configured,
                // this is how a script or test learns the port.
                println!("{bound}");
            }
        });
        service.run(shutdown, Some(ready_tx)).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "hazardline serve failed");
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
