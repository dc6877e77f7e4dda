//! `mfa-session exec -- CMD ARGS…`: run one command (or, without one, the user's `$SHELL`) with
//! the session in its environment.
//!
//! The command replaces this process (`execvp`): its exit status and the signals sent to it
//! (Ctrl-C, a supervisor's SIGTERM) are its own, with no forwarding code to get wrong. The
//! secrets travel in the environment, never in argv, where `ps` would show them.
//! `MFA_SESSION_PROFILE` names the profile, so a prompt can show it (`status --prompt`) and an
//! `exec` inside such a shell can say that it replaces the session.
//!
//! `--server` is the exception to replacing this process: the command runs as a child with no
//! keys in its environment, and this process stays to serve it renewing credentials
//! ([`crate::server`]) until it exits, then exits with its status (or dies of its signal).

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::Context;

use crate::cli::SessionOpts;
use crate::cmd::{Ctx, session_for, session_request};
use crate::error::ExecError;
use crate::provider;
use crate::server::Endpoint;
use crate::shell;

/// Variables that would make the command's SDK use something else than the server.
const SHADOWING: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
];

/// The child's pid, for the signal handler that forwards SIGTERM and SIGHUP.
static CHILD: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(signal: libc::c_int) {
    let pid = CHILD.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, signal) };
    }
}

/// `exec --server`: the command runs as a child with no keys, pointed at a credential endpoint
/// that lives as long as it does; its exit status and signals become ours.
fn serve_and_wait(
    mut cmd: Command,
    program: &OsString,
    profile: &str,
    region: Option<String>,
    opts: &SessionOpts,
    ctx: &Ctx,
) -> anyhow::Result<ExitCode> {
    let endpoint = Endpoint::bind().context("cannot start the credential server on 127.0.0.1")?;
    for name in SHADOWING {
        cmd.env_remove(name);
    }
    cmd.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url()?)
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", endpoint.token.expose());
    if let Some(r) = &region {
        cmd.env("AWS_REGION", r).env("AWS_DEFAULT_REGION", r);
    }
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            crate::restore_core_limit();
            Ok(())
        });
    }
    let req = session_request(profile.to_string(), opts);
    let served = ctx.clone();
    std::thread::spawn(move || {
        endpoint.serve(move || provider::session(&req, &served).map(|(o, _)| o.session().clone()))
    });
    let mut child = cmd.spawn().map_err(|source| ExecError {
        program: program.to_string_lossy().into_owned(),
        source,
    })?;
    CHILD.store(i32::try_from(child.id()).unwrap_or(0), Ordering::Relaxed);
    // SAFETY: installing handlers; `forward` only calls kill. A terminal's Ctrl-C and Ctrl-\
    // reach the child directly (same process group): we only must not die of them first.
    unsafe {
        libc::signal(libc::SIGTERM, forward as *const () as libc::sighandler_t);
        libc::signal(libc::SIGHUP, forward as *const () as libc::sighandler_t);
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
    }
    let status = child.wait().context("cannot wait for the command")?;
    use std::os::unix::process::ExitStatusExt;
    if let Some(signal) = status.signal() {
        // Die of the same signal, so whoever waits for us sees what the command did.
        // SAFETY: resetting a handler and raising a signal on ourselves.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
        return Ok(ExitCode::from(u8::try_from(128 + signal).unwrap_or(255)));
    }
    Ok(ExitCode::from(
        status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(1),
    ))
}

pub fn run(
    profile: Option<String>,
    opts: &SessionOpts,
    server: bool,
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
    if server {
        return serve_and_wait(cmd, program, outcome.profile(), region, opts, ctx);
    }
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
