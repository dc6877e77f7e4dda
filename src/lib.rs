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
    sys::process::no_core_dumps();
    let cli = cli::Cli::parse();
    let env = env::Env::from_process();
    logging::init(cli.verbose, cli.quiet, &env);
    let ctx = cmd::Ctx::new(env, cli.quiet, cli.long_term_suffix);
    cmd::dispatch(cli.command, &ctx)
}
