//! `hazardline geodata`: placeholder until the subcommand lands.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct GeodataArgs {}

pub fn run(_args: GeodataArgs) -> ExitCode {
    eprintln!("not available yet");
    ExitCode::from(2)
}
