//! `mfa-session login`: make sure a profile has a session valid beyond the refresh window,
//! asking for a code (flag, configured source, else the terminal) when it needs a new one.
//! Orchestration only: flags → [`SessionRequest`] → the provider layer → one line on stderr.

use std::process::ExitCode;

use chrono::Utc;

use crate::cli::LoginArgs;
use crate::ctx::Ctx;
use crate::provider::{self, Mode, SessionRequest};

pub fn run(args: &LoginArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let req = SessionRequest {
        force: args.force,
        serial: args.serial.clone(),
        region: args.region.clone(),
        timeout: args.timeout,
        mfa_process: args.mfa_process.clone(),
        write_profile: args.write_profile.clone(),
        prompt: args.prompt,
        ..SessionRequest::new(
            ctx.env.profile(args.profile.as_deref()),
            Mode::Always,
            args.refresh_window,
        )
    }
    .with_code(args.code.as_deref())?
    .with_duration(args.duration.as_deref())?;
    let (outcome, _) = provider::session(&req, ctx)?;
    ctx.say(&outcome.describe(Utc::now()));
    Ok(ExitCode::SUCCESS)
}
