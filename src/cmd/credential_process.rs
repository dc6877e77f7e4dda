//! `mfa-session credential-process --profile P`: the JSON document the AWS CLI and SDKs read
//! from a `credential_process` command. It carries `Expiration`, so they ask again in time;
//! until then each call is just a file read.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::SessionOpts;
use crate::cmd::{Ctx, session_for};
use crate::shell;

pub fn run(
    profile: String,
    opts: &SessionOpts,
    ctx: &Ctx,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let (outcome, _) = session_for(Some(profile), opts, ctx)?;
    out.write_all(shell::credential_process_json(outcome.session()).as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}
