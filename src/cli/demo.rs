//! `hazardline demo`: the whole pipeline on embedded defaults, no server to
//! install. Fictional CAP messages for the fictional demo region go through
//! ingest (trust, validation, lifecycle, SQLite archive), the matcher (over
//! synthetic subscribers), the notifier (rendering in eight languages, the
//! durable SQLite delivery queue) and out on the live channel.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use ingest::clock::{Clock, ManualClock};
use ingest::feed::pipeline::{MessageOutcome, Pipeline, PipelineConfig};
use ingest::lifecycle::LifecycleEvent;
use ingest::source::{SenderPattern, SourceId, SourceTrust};
use notifier::channel::live::LiveChannel;
use notifier::queue::dispatch::{Channels, DispatchConfig, dispatch_batch};
use notifier::queue::{DeliveryQueue, QueueConfig};
use store::{SqliteArchive, SqliteQueue};
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

    let atlas = geodata::demo::atlas();
    let shelters = geodata::demo::shelters().map_err(|e| anyhow::anyhow!("demo shelters: {e}"))?;
    let directory = Directory::synthetic(&atlas, args.subscribers);
    println!(
        "Demo region (fictional): {} villages, {} shelters; {} synthetic subscribers in 8 languages.",
        atlas.villages().len(),
        shelters.shelters().len(),
        directory.len()
    );
    let mut engine = Engine::new(
        atlas,
        shelters,
        directory,
        "https://demo.hazardline.invalid/a",
    )?;

    let start = chrono::DateTime::parse_from_rfc3339("2026-07-01T07:00:00+08:00")?.to_utc();
    let clock = ManualClock::shared(start);
    let archive = Arc::new(SqliteArchive::open(&workdir.path().join("archive.db"))?);
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
        archive,
        vec![trust],
        events_tx,
        PipelineConfig::default(),
    )
    .await?;

    // A throwaway key: the queue seals what it holds even in the demo.
    let queue = SqliteQueue::open(
        &workdir.path().join("queue.db"),
        QueueConfig::default(),
        Arc::new(store::DataKey::generate()),
    )?;
    let live = Arc::new(LiveChannel::new(1024));
    let channels = Channels::new().with(live.clone());
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
        let report = pipeline.ingest(&source, bytes).await?;
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
        while let Ok(event) = events_rx.try_recv() {
            let outcome = engine.handle(&event, clock.now())?;
            print_outcome(&event, &outcome, args.samples);
            for delivery in outcome.deliveries {
                if queue.enqueue(delivery).await? {
                    queued += 1;
                }
            }
        }
        // Workers drain the queue onto the live channel.
        loop {
            let report = dispatch_batch(&queue, &channels, &dispatch).await?;
            if report.claimed == 0 {
                break;
            }
            sent += report.sent;
        }
    }
    println!(
        "\n{queued} deliveries queued durably, {sent} sent on the live channel; {} alert(s) still in force.",
        engine.active_count()
    );
    if queued == 0 {
        bail!("the demo delivered nothing: the demo data or the pipeline is broken");
    }
    Ok(())
}

fn print_outcome(event: &LifecycleEvent, outcome: &Outcome, samples: usize) {
    let what = match event {
        LifecycleEvent::New(_) => "new alert",
        LifecycleEvent::Updated { .. } => "update",
        LifecycleEvent::Cancelled { .. } => "cancel",
        LifecycleEvent::Expired(_) => "expired",
    };
    let told: Vec<String> = outcome
        .told
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    println!(
        "  {what} of {}{}: {} ({} coalesced)",
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
    for delivery in &outcome.deliveries {
        if seen.len() >= samples {
            break;
        }
        let locale = delivery.message.locale;
        if seen.contains(&locale) {
            continue;
        }
        seen.push(locale);
        println!("    [{}] {}", locale.tag(), delivery.message.full_title());
        for line in delivery.message.full_text().lines() {
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
