//! `hazardline backup` and `hazardline restore`: copies of the embedded
//! store's data directory (service tables, alert archive, delivery queue).
//!
//! A backup may be taken while `hazardline serve` runs: each file is copied
//! from one consistent snapshot. A restore must not: stop the service
//! first. Neither needs the data key: personal data stays sealed in the
//! copy, so keep the key apart from the backups. The Redis store is backed
//! up by Redis itself (its AOF).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The data directory of the embedded store.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Where to write the backup (created; must not hold a backup already).
    #[arg(long, value_name = "DIR")]
    to: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// A directory written by `hazardline backup`.
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
    /// The data directory to restore into.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Replace the store already in the data directory.
    #[arg(long)]
    force: bool,
}

pub fn backup(args: BackupArgs) -> ExitCode {
    if !args.data.join(store::sqlite::SERVICE_FILE).is_file() {
        eprintln!(
            "error: {} holds no embedded store ({} is missing)",
            args.data.display(),
            store::sqlite::SERVICE_FILE
        );
        return ExitCode::from(2);
    }
    match store::sqlite::backup(&args.data, &args.to) {
        Ok(()) => {
            println!("backed up {} to {}", args.data.display(), args.to.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: backup failed: {error}");
            ExitCode::from(1)
        }
    }
}

pub fn restore(args: RestoreArgs) -> ExitCode {
    match holds_anything(&args.data) {
        Ok(true) if !args.force => {
            eprintln!(
                "error: {} is not empty; stop the service and give --force to replace its store",
                args.data.display()
            );
            return ExitCode::from(2);
        }
        Ok(_) => {}
        Err(error) => {
            eprintln!("error: cannot read {}: {error}", args.data.display());
            return ExitCode::from(1);
        }
    }
    match store::sqlite::restore(&args.from, &args.data) {
        Ok(()) => {
            println!(
                "restored {} into {}",
                args.from.display(),
                args.data.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: restore failed: {error}");
            ExitCode::from(1)
        }
    }
}

fn holds_anything(dir: &Path) -> std::io::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}
