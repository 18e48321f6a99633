//! Command-line entry points. Each subcommand lives in its own module and
//! returns the process exit code: 0 success, 1 an input failed, 2 usage error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod backup;
mod cap;
mod demo;
mod geodata;
mod matching;
mod serve;

#[derive(Debug, Parser)]
#[command(
    name = "hazardline",
    version,
    about = "Disaster alert and mobile service push system"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole pipeline on the built-in fictional demo region.
    Demo(demo::DemoArgs),
    /// Read and validate CAP messages.
    Cap(cap::CapArgs),
    /// Administrative areas, geocoding and shelters.
    Geodata(geodata::GeodataArgs),
    /// Dry-run the matcher: count places inside areas.
    Match(matching::MatchArgs),
    /// Run the service: HTTP API, web pages, feeds, matcher and notifier.
    Serve(serve::ServeArgs),
    /// Copy the embedded store's data directory (safe while serving).
    Backup(backup::BackupArgs),
    /// Restore the embedded store from a backup (service stopped).
    Restore(backup::RestoreArgs),
    /// Print the HTTP API's OpenAPI document, as `serve` answers it at
    /// /openapi.json.
    Openapi,
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Cap(args) => cap::run(args),
        Command::Geodata(args) => geodata::run(args),
        Command::Match(args) => matching::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Backup(args) => backup::backup(args),
        Command::Restore(args) => backup::restore(args),
        Command::Openapi => {
            println!("{}", hazardline::http::openapi::document());
            ExitCode::SUCCESS
        }
    }
}
