//! `mfa-session`: MFA-backed AWS STS sessions kept in `~/.aws/credentials`.
//!
//! The binary is a thin shell over this library so that every piece — the file store, the
//! session rules, the commands — can be tested without spawning a process. Pure pieces
//! (`store::doc`, `session`) take no environment, clock or file system; those are passed in.

#![cfg_attr(
    test,
    allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)
)]

pub mod aws;
pub mod cli;
pub mod cmd;
pub mod ctx;
pub mod doctor;
pub mod env;
pub mod error;
pub mod logging;
pub mod mfa;
pub mod provider;
pub mod secrets;
pub mod server;
pub mod session;
pub mod shell;
pub mod store;
pub mod sys;
pub mod text;

use std::process::ExitCode;

use clap::Parser;

/// Parses the command line, sets up logging and runs the subcommand.
pub fn run() -> anyhow::Result<ExitCode> {
    // Before anything secret is read: a core dump would hold keys, codes and sessions.
    no_core_dumps();
    let cli = cli::Cli::parse();
    let env = env::Env::from_process();
    logging::init(cli.verbose, cli.quiet, &env);
    let ctx = cmd::Ctx::new(env, cli.quiet, cli.long_term_suffix);
    cmd::dispatch(cli.command, &ctx)
}

/// The core-file size limit the process started with, restored for a program `exec` runs.
static CORE_LIMIT: std::sync::OnceLock<libc::rlimit> = std::sync::OnceLock::new();

/// Turns core dumps off for this process: the soft `RLIMIT_CORE` to 0 (the hard limit is kept so
/// [`restore_core_limit`] can give a program we `exec` the user's own limit back), and
/// `PR_SET_DUMPABLE` to 0, which also covers a `core_pattern` that pipes to a handler (those
/// ignore `RLIMIT_CORE`) and keeps other processes of the user from attaching with ptrace.
fn no_core_dumps() {
    // SAFETY: plain syscalls on our own process with valid pointers.
    unsafe {
        let mut old = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_CORE, &mut old) == 0 {
            let _ = CORE_LIMIT.set(old);
            let off = libc::rlimit {
                rlim_cur: 0,
                rlim_max: old.rlim_max,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &off);
        }
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// Gives the core-file limit the process started with back, just before `exec` replaces this
/// process with the user's command (`execve` resets the dumpable flag by itself). By then the
/// secrets in our memory are gone with the old image.
pub fn restore_core_limit() {
    if let Some(old) = CORE_LIMIT.get() {
        // SAFETY: a plain syscall with a valid pointer.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, old);
        }
    }
}
