//! The `hazardline` binary: command line, service and wiring of the crates.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    cli::run(cli)
}
