//! `mfa-session completions SHELL`: completion scripts generated from the clap definitions, so
//! they can never drift from the real flags.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::Cli;

pub fn run(shell: clap_complete::Shell, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    clap_complete::generate(shell, &mut Cli::command(), "mfa-session", out);
    Ok(ExitCode::SUCCESS)
}
