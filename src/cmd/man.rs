//! `mfa-session man`: the man page, rendered from the same clap definitions as `--help`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::Cli;

pub fn run(out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    clap_mangen::Man::new(Cli::command())
        .render(out)
        .context("cannot write the man page")?;
    Ok(ExitCode::SUCCESS)
}
