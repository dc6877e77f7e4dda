//! `mfa-session export`: the session as text a shell (or a .env reader) evaluates.
//!
//! On a valid session this is the hot path of every shell start-up: read two files, render,
//! print. No runtime, no SDK configuration. Everything is rendered before anything is printed,
//! so a value that cannot be quoted safely prints nothing at all.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::SessionOpts;
use crate::cmd::{Ctx, session_for};
use crate::shell::{self, Format};

pub fn run(
    profile: Option<String>,
    format: Format,
    opts: &SessionOpts,
    ctx: &Ctx,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let (outcome, files) = session_for(profile, opts, ctx)?;
    let region = files.region(outcome.profile());
    let text = shell::render(format, outcome.session(), region.as_deref())?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}
