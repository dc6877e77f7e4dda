//! One module per subcommand, orchestration only: each lowers its flags into a typed request,
//! asks the provider layer (or the store) and prints the result. No command imports another;
//! what several share (the request of the session commands, how an outcome is told) is here.

pub mod completions;
pub mod console;
pub mod credential_process;
pub mod credui_dialog;
pub mod doctor;
pub mod exec;
pub mod export;
pub mod login;
pub mod man;
pub mod policy;
pub mod refresh;
pub mod rotate;
pub mod setup;
pub mod status;

use std::process::ExitCode;

use chrono::Utc;

use crate::cli::{Command, SessionOpts};
pub use crate::ctx::Ctx;
use crate::provider::{self, Files, Mode, Outcome, SessionRequest};

pub fn dispatch(command: Command, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        Command::Login(args) => login::run(&args, ctx),
        Command::Refresh(args) => refresh::run(&args, ctx),
        Command::Setup(args) => setup::run(&args, ctx),
        Command::Rotate(args) => rotate::run(&args, ctx),
        Command::Policy { allow_ip, explain } => policy::run(&allow_ip, explain, &mut out),
        Command::Export {
            profile,
            format,
            session,
        } => export::run(profile, format, &session, ctx, &mut out),
        Command::Console(args) => console::run(&args, ctx, &mut out),
        Command::CredentialProcess { profile, session } => {
            credential_process::run(profile, &session, ctx, &mut out)
        }
        Command::Exec {
            profile,
            session,
            server,
            command,
        } => exec::run(profile, &session, server, command, ctx),
        Command::Status {
            profile,
            json,
            prompt,
            refresh_window,
        } => {
            let view = match (json, prompt) {
                (true, _) => status::View::Json,
                (_, true) => status::View::Prompt,
                _ => status::View::Table,
            };
            status::run(profile.as_deref(), view, refresh_window, ctx, &mut out)
        }
        Command::Doctor {
            profile,
            json,
            timeout,
            refresh_window,
        } => doctor::run(profile, json, timeout, refresh_window, ctx, &mut out),
        Command::Completions { shell } => completions::run(shell, &mut out),
        Command::Man => man::run(&mut out),
        Command::CreduiDialog { text, choose } => credui_dialog::run(&text, &choose, &mut out),
    }
}

/// The session of a profile for `export`, `credential-process` and `exec`: the stored one
/// when valid (a file read, nothing more), else a login if `--no-login` is absent and a code
/// source or a terminal allows it.
pub fn session_for(
    profile: Option<String>,
    opts: &SessionOpts,
    ctx: &Ctx,
) -> anyhow::Result<(Outcome, Files)> {
    let req = session_request(ctx.env.profile(profile.as_deref()), opts);
    let (outcome, files) = provider::session(&req, ctx)?;
    if !matches!(outcome, Outcome::StillValid { .. }) {
        ctx.say(&outcome.describe(Utc::now()));
    }
    Ok((outcome, files))
}

/// The request of the session commands' shared flags (`--no-login`, `--refresh-window`,
/// `--prompt`) for `profile`: a login when needed, unless `--no-login`.
pub fn session_request(profile: String, opts: &SessionOpts) -> SessionRequest {
    let mode = if opts.no_login {
        Mode::Never
    } else {
        Mode::IfPossible
    };
    SessionRequest {
        prompt: opts.prompt,
        ..SessionRequest::new(profile, mode, opts.refresh_window)
    }
}
