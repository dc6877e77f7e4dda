//! One module per subcommand. Each takes what it needs (parsed flags, a [`Ctx`] with the
//! environment, writers) as arguments and orchestrates the pieces in `store`, `session`, `mfa`
//! and `aws`; none of them parses text or builds SDK clients itself.

pub mod completions;
pub mod credential_process;
pub mod exec;
pub mod export;
pub mod login;
pub mod man;
pub mod policy;
pub mod refresh;
pub mod role;
pub mod setup;
pub mod status;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::{Command, LoginArgs, SessionOpts};
use crate::cmd::login::{Files, LoginMode, Outcome};
use crate::env::Env;

/// What every command may need, resolved once.
#[derive(Debug)]
pub struct Ctx {
    pub env: Env,
    pub quiet: bool,
    pub long_term_suffix: String,
    pub credentials_path: Option<PathBuf>,
    pub config_path: Option<PathBuf>,
}

impl Ctx {
    pub fn new(env: Env, quiet: bool, long_term_suffix: String) -> Ctx {
        Ctx {
            credentials_path: env.credentials_path(),
            config_path: env.config_path(),
            env,
            quiet,
            long_term_suffix,
        }
    }

    /// A status line for the person running the command: stderr, silenced by -q.
    pub fn say(&self, line: &str) {
        if !self.quiet {
            eprintln!("mfa-session: {line}");
        }
    }
}

pub fn dispatch(command: Command, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        Command::Login(args) => login::run(&args, ctx),
        Command::Refresh(args) => refresh::run(&args, ctx),
        Command::Setup(args) => setup::run(&args, ctx),
        Command::Policy { allow_ip, explain } => policy::run(&allow_ip, explain, &mut out),
        Command::Export {
            profile,
            format,
            session,
        } => export::run(profile, format, &session, ctx, &mut out),
        Command::CredentialProcess { profile, session } => {
            credential_process::run(profile, &session, ctx, &mut out)
        }
        Command::Exec {
            profile,
            session,
            command,
        } => exec::run(profile, &session, command, ctx),
        Command::Status {
            profile,
            json,
            refresh_window,
        } => status::run(profile.as_deref(), json, refresh_window, ctx, &mut out),
        Command::Completions { shell } => completions::run(shell, &mut out),
        Command::Man => man::run(&mut out),
    }
}

/// The session of a profile for `export`, `credential-process` and `exec`: the current one
/// when valid (read from the files only), else a login if `opts` and a terminal allow it.
pub fn session_for(
    profile: Option<String>,
    opts: &SessionOpts,
    ctx: &Ctx,
) -> anyhow::Result<(Outcome, Files)> {
    let files = Files::read(ctx)?;
    let args = LoginArgs::for_session(profile, opts.refresh_window);
    let mode = if opts.no_login {
        LoginMode::Never
    } else {
        LoginMode::IfPossible
    };
    let profile = ctx.env.profile(args.profile.as_deref());
    let outcome = match role::role_profile(&files.config, &profile) {
        Some(r) => role::ensure(&r, &args, ctx, &files, mode, None)?,
        None => login::ensure(&args, ctx, &files, mode)?,
    };
    if !matches!(outcome, Outcome::StillValid { .. }) {
        login::report(ctx, &outcome);
    }
    Ok((outcome, files))
}
