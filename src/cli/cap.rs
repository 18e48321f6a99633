//! `hazardline cap`: read and validate CAP messages.
//!
//! `cap check [--json] PATH...` prints one line per message found. A PATH is
//! a file (any CAP, feed or envelope document) or a directory, read
//! recursively in sorted order; inside a directory only files that start
//! with `<` (after a byte-order mark and white space) are read, the others
//! are skipped and counted on stderr. The parsing and the verdicts are the
//! ingest crate's ([`cap::check::check_bytes`]); this module only walks
//! paths and prints. No file is read past the parser's size limit (a
//! device such as `/dev/zero` or a pipe that never ends is reported as too
//! large, not read forever).

use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use cap::check::{CheckRecord, check_bytes};
use cap::parse::{Limits, looks_like_xml};
use clap::{Args, Subcommand};
use serde::Serialize;

#[derive(Debug, Args)]
pub struct CapArgs {
    #[command(subcommand)]
    command: CapCommand,
}

#[derive(Debug, Subcommand)]
enum CapCommand {
    /// Validate CAP documents and print one line per message.
    ///
    /// Exit status: 0 when every message is valid, 1 when any is not (or a
    /// file holds no CAP message), 2 on a usage error.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Print one JSON object per line instead of text.
    #[arg(long)]
    json: bool,
    /// Files or directories (read recursively) to check.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

pub fn run(args: CapArgs) -> ExitCode {
    match args.command {
        CapCommand::Check(args) => check(&args),
    }
}

/// A record as printed: the file's path first, then the verdict.
#[derive(Serialize)]
struct Line<'a> {
    path: &'a str,
    #[serde(flatten)]
    record: &'a CheckRecord,
}

fn check(args: &CheckArgs) -> ExitCode {
    if let Some(missing) = args.paths.iter().find(|p| !p.exists()) {
        eprintln!("error: {}: no such file or directory", missing.display());
        return ExitCode::from(2);
    }
    match check_paths(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Returns whether every message was valid.
fn check_paths(args: &CheckArgs) -> anyhow::Result<bool> {
    let limits = Limits::default();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut all_ok = true;
    let mut skipped = 0usize;
    for root in &args.paths {
        let (files, in_directory) = if root.is_dir() {
            (
                walk(root).with_context(|| format!("reading {}", root.display()))?,
                true,
            )
        } else {
            (vec![root.clone()], false)
        };
        for file in files {
            let shown = file.display().to_string();
            let records = match read_at_most(&file, limits.max_bytes) {
                Ok(Some(bytes)) if in_directory && !looks_like_xml(&bytes) => {
                    skipped += 1;
                    continue;
                }
                Ok(Some(bytes)) => check_bytes(&bytes, &limits),
                Ok(None) => vec![too_large(limits.max_bytes)],
                Err(e) => vec![unreadable(&e)],
            };
            for record in &records {
                all_ok &= record.ok;
                print_record(&mut out, &shown, record, args.json)?;
            }
        }
    }
    out.flush()?;
    if skipped > 0 {
        eprintln!("skipped {skipped} file(s) that are not XML");
    }
    Ok(all_ok)
}

/// The whole of `path`, or `None` when it holds more than `max` bytes: one
/// byte past the limit is read to tell, never more.
fn read_at_most(path: &Path, max: usize) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() <= max).then_some(bytes))
}

fn too_large(max: usize) -> CheckRecord {
    CheckRecord::document_failure(
        format!("file too large: more than {max} bytes (the CAP size limit)"),
        Vec::new(),
    )
}

fn unreadable(e: &io::Error) -> CheckRecord {
    CheckRecord::document_failure(format!("cannot read file: {e}"), Vec::new())
}

/// Every regular file under `dir`, sorted by path. Symbolic links to
/// directories are not followed (no cycles).
fn walk(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn print_record(
    out: &mut impl Write,
    path: &str,
    r: &CheckRecord,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        serde_json::to_writer(&mut *out, &Line { path, record: r })?;
        writeln!(out)?;
        return Ok(());
    }
    let Some(index) = r.index else {
        writeln!(
            out,
            "{path}: FAIL {}",
            r.error.as_deref().unwrap_or("no CAP message")
        )?;
        return Ok(());
    };
    let id = r.identifier.as_deref().unwrap_or("-");
    if r.ok {
        let kind = r.hazard.map_or("-", |h| h.as_str());
        let colour = r.colour.map_or("-", |c| c.as_str());
        writeln!(
            out,
            "{path}#{index}: ok {id} {} {} {kind} {colour} infos={} areas={} polygons={} circles={} geocodes={} warnings={}",
            r.status.as_deref().unwrap_or("-"),
            r.msg_type.as_deref().unwrap_or("-"),
            r.infos,
            r.areas,
            r.polygons,
            r.circles,
            r.geocodes,
            r.warnings.len(),
        )?;
    } else {
        writeln!(
            out,
            "{path}#{index}: INVALID {id}: {}",
            r.error.as_deref().unwrap_or("-")
        )?;
        for v in &r.violations {
            writeln!(out, "    {} [{}] {}", v.path, v.rule, v.message)?;
        }
    }
    Ok(())
}
