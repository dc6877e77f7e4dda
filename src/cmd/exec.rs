//! `mfa-session exec -- CMD ARGS…`: run one command (or, without one, the user's `$SHELL`) with
//! the session in its environment.
//!
//! The command replaces this process (`execvp`): its exit status and the signals sent to it
//! (Ctrl-C, a supervisor's SIGTERM) are its own, with no forwarding code to get wrong. The
//! secrets travel in the environment, never in argv, where `ps` would show them.
//! `MFA_SESSION_PROFILE` names the profile, so a prompt can show it (`status --prompt`) and an
//! `exec` inside such a shell can say that it replaces the session.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use crate::cli::SessionOpts;
use crate::cmd::{Ctx, session_for};
use crate::error::ExecError;
use crate::shell;

pub fn run(
    profile: Option<String>,
    opts: &SessionOpts,
    command: Vec<OsString>,
    ctx: &Ctx,
) -> anyhow::Result<ExitCode> {
    let (outcome, files) = session_for(profile, opts, ctx)?;
    let region = files.region(outcome.profile());
    if let Some(current) = &ctx.env.exec_profile {
        tracing::warn!(
            "already inside `mfa-session exec` for [{current}]: the session of [{}] replaces it \
             for this command",
            outcome.profile()
        );
    }
    let shell: OsString = ctx
        .env
        .shell
        .clone()
        .map(OsString::from)
        .unwrap_or_else(|| "/bin/sh".into());
    let (program, args) = command
        .split_first()
        .unwrap_or((&shell, &[] as &[OsString]));
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_DEFAULT_PROFILE")
        .env(crate::env::EXEC_MARKER, outcome.profile());
    for (name, value) in shell::variables(outcome.session(), region.as_deref()) {
        cmd.env(name, value);
    }
    crate::restore_core_limit();
    // Only returns on failure.
    let source = cmd.exec();
    Err(ExecError {
        program: program.to_string_lossy().into_owned(),
        source,
    }
    .into())
}
