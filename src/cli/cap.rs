//! `hazardline cap`: placeholder until the subcommand lands.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CapArgs {}

pub fn run(_args: CapArgs) -> ExitCode {
    eprintln!("not available yet");
    ExitCode::from(2)
}
