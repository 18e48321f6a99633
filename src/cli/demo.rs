//! `hazardline demo`: the whole pipeline on embedded defaults, no server to
//! install. Fictional CAP messages for the fictional demo region go through
//! ingest (trust, validation, lifecycle, SQLite archive), the matcher (over
//! synthetic subscribers), the notifier (rendering in eight languages, the
//! durable SQLite delivery queue) and out on the live channel — through
//! the same application flow and dispatch loop as `hazardline serve`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use ingest::clock::ManualClock;
use ingest::feed::pipeline::{MessageOutcome, Pipeline, PipelineConfig};
use ingest::lifecycle::LifecycleEvent;
use ingest::source::{SenderPattern, SourceId, SourceTrust};
use std::time::Duration;

use app::App;
use notifier::channel::live::LiveChannel;
use notifier::queue::dispatch::{Channels, DispatchConfig, Until};
use store::{SqliteStorage, Storage};
use tokio::sync::mpsc;

use hazardline::engine::{Directory, Engine, Outcome};

/// The senders the demo's one source may carry: only the fictional
/// agencies' addresses.
const DEMO_SENDERS: &str = "*@demo.hazardline.invalid";

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Synthetic subscribers to spread over the demo region.
    #[arg(long, default_value_t = 2000)]
    subscribers: usize,
    /// Read CAP files from this directory (in name order) instead of the
    /// built-in demo messages.
    #[arg(long)]
    cap: Option<PathBuf>,
    /// Sample messages to print per event, each in a different language.
    #[arg(long, default_value_t = 3)]
    samples: usize,
}

pub fn run(args: DemoArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(demo(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}

async fn demo(args: DemoArgs) -> Result<()> {
    let messages = match &args.cap {
        Some(dir) => read_dir_sorted(dir)?,
        None => hazardline::engine::demo_messages()
            .iter()
            .map(|(name, text)| (name.to_string(), text.as_bytes().to_vec()))
            .collect(),
    };
    let workdir = tempfile::tempdir().context("creating a working directory")?;

    let atlas = Arc::new(geodata::demo::atlas());
    let shelters = geodata::demo::shelters().map_err(|e| anyhow::anyhow!("demo shelters: {e}"))?;
    let directory = Directory::synthetic(&atlas, args.subscribers);
    println!(
        "Demo region (fictional): {} villages, {} shelters; {} synthetic subscribers in 8 languages.",
        atlas.villages().len(),
        shelters.shelters().len(),
        directory.len()
    );
    let engine = Engine::new(
        atlas.clone(),
        shelters,
        directory,
        "https://demo.hazardline.invalid/a",
    )?;

    let start = chrono::DateTime::parse_from_rfc3339("2026-07-01T07:00:00+08:00")?.to_utc();
    let clock = ManualClock::shared(start);
    // A throwaway key: the store seals what it holds even in the demo.
    let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(
        workdir.path(),
        store::DataKey::generate(),
    )?);
    let source = SourceId::new("demo");
    let trust = SourceTrust::new(
        source.clone(),
        vec![DEMO_SENDERS.parse::<SenderPattern>()?],
        false,
        Default::default(),
    );
    let (events_tx, mut events_rx) = mpsc::channel::<LifecycleEvent>(64);
    let pipeline = Pipeline::new(
        clock.clone(),
        storage.archive(),
        vec![trust],
        events_tx,
        PipelineConfig::default(),
    )
    .await?;
    let live = Arc::new(LiveChannel::new(1024));
    let app = Arc::new(App::new(app::Parts {
        storage,
        clock: clock.clone(),
        atlas,
        gazetteer: None,
        engine,
        pipeline: Arc::new(pipeline),
        issuer_source: SourceId::new("issuers"),
        relief: Arc::new(notifier::relief::Catalogue::default()),
        live: live.clone(),
    }));
    let channels = Channels::new().with(live);
    let dispatch = DispatchConfig {
        worker: "demo".into(),
        batch: 512,
        ..DispatchConfig::default()
    };

    let mut queued = 0usize;
    let mut sent = 0usize;
    for (name, bytes) in &messages {
        // Each message is read at the moment it was sent.
        if let Some(sent) = sent_of(bytes) {
            clock.set(sent);
        }
        let report = app.alerts.pipeline().ingest(&source, bytes).await?;
        for outcome in &report.outcomes {
            match outcome {
                MessageOutcome::Accepted { key, .. } => {
                    println!("\n▶ {name}: accepted {}", key.identifier)
                }
                MessageOutcome::Duplicate { key } => {
                    println!("\n▶ {name}: duplicate of {}", key.identifier)
                }
                MessageOutcome::Rejected { reason, detail, .. } => {
                    println!("\n▶ {name}: REJECTED ({}): {detail}", reason.label())
                }
            }
        }
        // The service's own flow: engine, outbox, inboxes, alerts view.
        while let Ok(event) = events_rx.try_recv() {
            let what = event_name(&event);
            let handled = app::flow::handle_event(&app, event).await?;
            queued += handled.queued;
            print_outcome(what, &handled.outcome, args.samples);
        }
        // The service's dispatch loop drains the outbox onto the live
        // channel.
        let totals = app::dispatch::dispatcher(
            app.clone(),
            channels.clone(),
            dispatch.clone(),
            Duration::ZERO,
            Until::Drained,
        )
        .await?;
        sent += totals.sent;
    }
    let in_force = app.engine.run(|engine| engine.active_count()).await?;
    println!(
        "\n{queued} deliveries queued durably, {sent} sent on the live channel; {in_force} alert(s) still in force."
    );
    if queued == 0 {
        bail!("the demo delivered nothing: the demo data or the pipeline is broken");
    }
    Ok(())
}

fn event_name(event: &LifecycleEvent) -> &'static str {
    match event {
        LifecycleEvent::New(_) => "new alert",
        LifecycleEvent::Updated { .. } => "update",
        LifecycleEvent::Cancelled { .. } => "cancel",
        LifecycleEvent::Expired(_) => "expired",
    }
}

fn print_outcome(what: &str, outcome: &Outcome, samples: usize) {
    let told: Vec<String> = outcome
        .told
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    println!(
        "  {what} of {}{}: {} ({} held as repeats)",
        outcome.alert,
        if outcome.exercise { " [EXERCISE]" } else { "" },
        if told.is_empty() {
            "nobody inside the area".to_string()
        } else {
            told.join(", ")
        },
        outcome.coalesced
    );
    let mut seen = Vec::new();
    for notice in &outcome.notices {
        if seen.len() >= samples {
            break;
        }
        let locale = notice.message.locale;
        if seen.contains(&locale) {
            continue;
        }
        seen.push(locale);
        println!("    [{}] {}", locale.tag(), notice.message.full_title());
        for line in notice.message.full_text().lines() {
            println!("         {line}");
        }
    }
}

/// The `<sent>` of a CAP document, to set the demo clock.
fn sent_of(bytes: &[u8]) -> Option<chrono::DateTime<chrono::Utc>> {
    let document = cap::parse_document(bytes, &cap::Limits::default()).ok()?;
    document
        .messages
        .iter()
        .find_map(|m| m.alert.as_ref())
        .map(|a| a.sent.to_utc())
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    entries
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            std::fs::read(&p)
                .with_context(|| format!("reading {}", p.display()))
                .map(|bytes| (name, bytes))
        })
        .collect()
}
