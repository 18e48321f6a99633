//! `hazardline matching`: placeholder until the subcommand lands.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct MatchArgs {}

pub fn run(_args: MatchArgs) -> ExitCode {
    eprintln!("not available yet");
    ExitCode::from(2)
}
