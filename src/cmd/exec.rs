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
use std::process::{Command, ExitCode};

use anyhow::Context;

use crate::cli::SessionOpts;
use crate::cmd::{Ctx, session_for, session_request};
use crate::error::ExecError;
use crate::provider::{self, Files, Mode};
use crate::server::Endpoint;
use crate::shell;
use crate::sys;

/// Variables that would make the command's SDK use something else than the server: keys,
/// another endpoint or token, web identity (CI OIDC, EKS), a profile. Every SDK's default
/// chain ranks these above container credentials.
const SHADOWING: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
];

/// The profile the served command's SDKs select: it exists (so the AWS CLI accepts the name)
/// and holds no credentials, so their default chain passes it and ends at the endpoint.
const SERVED_PROFILE: &str = "mfa-session-served";

/// Credential settings of `[default]` that the served profile does not copy: each would make
/// the SDKs get credentials from somewhere else than the endpoint.
const CREDENTIAL_KEYS: &[&str] = &[
    "credential_source",
    "credential_process",
    "role_arn",
    "source_profile",
    "role_session_name",
    "external_id",
    "mfa_serial",
    "duration_seconds",
    "web_identity_token_file",
    "login_session",
];

/// The config file the served command reads: the user's own, byte for byte, plus one profile
/// without credentials that `AWS_PROFILE` names. Without it, `[default]` of the user's files
/// (a plain `login` writes one) would win over the endpoint. The user's other profiles stay
/// usable by name (`--profile other`), since the credentials file is the user's own and this
/// file holds their whole config. `[default]`'s other settings (region, output, pager…) are
/// carried over, so the command behaves as it would have. Returns the file (0600, removed when
/// dropped) and the profile's name.
fn served_config(
    files: &Files,
    region: Option<&str>,
) -> anyhow::Result<(tempfile::NamedTempFile, String)> {
    let taken = |name: &str| {
        files.config.profile(name).is_some() || files.credentials.profile(name).is_some()
    };
    let name = std::iter::once(SERVED_PROFILE.to_string())
        .chain((2..).map(|n| format!("{SERVED_PROFILE}-{n}")))
        .find(|n| !taken(n))
        .unwrap_or_default();
    let mut doc = files.config.clone();
    doc.append_section(&name, &[])?;
    let defaults = files.config.profile("default").unwrap_or_default();
    for (key, value) in &defaults {
        let credential = key.starts_with("aws_")
            || key.starts_with("sso_")
            || CREDENTIAL_KEYS.contains(&key.as_str());
        if !credential {
            // A value the file format cannot hold on one line (a nested section) is left out.
            let _ = doc.set(&name, key, value);
        }
    }
    if let Some(r) = region {
        doc.set(&name, "region", r)?;
    }
    let mut file = tempfile::Builder::new()
        .prefix("mfa-session-config-")
        .tempfile()
        .context("cannot write the served command's config file")?;
    std::io::Write::write_all(&mut file, doc.to_string().as_bytes())
        .context("cannot write the served command's config file")?;
    Ok((file, name))
}

/// `exec --server`: the command runs as a child with no keys, pointed at a credential endpoint
/// that lives as long as it does; its exit status and signals become ours. It dies with us,
/// however we die; while it runs, the terminal is its own.
fn serve_and_wait(
    mut cmd: Command,
    program: &OsString,
    profile: &str,
    files: &Files,
    region: Option<String>,
    opts: &SessionOpts,
    ctx: &Ctx,
) -> anyhow::Result<ExitCode> {
    // Held back until the command's pid is known and the handlers are in place, and before
    // any thread starts: a SIGTERM in between is forwarded, not lost with the command orphaned.
    let deferred = sys::signals::defer();
    sys::terminal::give_away();
    let endpoint = Endpoint::bind().context("cannot start the credential server on 127.0.0.1")?;
    let (config, served) = served_config(files, region.as_deref())?;
    for name in SHADOWING {
        cmd.env_remove(name);
    }
    cmd.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url()?)
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", endpoint.token.expose())
        .env("AWS_CONFIG_FILE", config.path())
        .env("AWS_PROFILE", &served);
    if let Some(r) = &region {
        cmd.env("AWS_REGION", r).env("AWS_DEFAULT_REGION", r);
    }
    if let Some(path) = &ctx.credentials_path {
        cmd.env("AWS_SHARED_CREDENTIALS_FILE", path);
    }
    let mut req = session_request(profile.to_string(), opts);
    if req.mode != Mode::Never {
        req.mode = Mode::Background;
    }
    let served_ctx = ctx.clone();
    std::thread::Builder::new()
        .name("credential-server".into())
        .spawn(move || {
            let result = endpoint.serve(move || {
                provider::session(&req, &served_ctx).map(|(o, _)| o.session().clone())
            });
            if let Err(e) = result {
                tracing::error!("the credential server stopped: {e}");
            }
        })
        .context("cannot start the credential server")?;
    // Started with our signal mask before `deferred`, and tied to us: it ends when we do.
    let (mut child, _tie) =
        sys::process::spawn_served(cmd, &deferred).map_err(|source| ExecError {
            program: program.to_string_lossy().into_owned(),
            source,
        })?;
    sys::signals::forward_to(child.id());
    drop(deferred);
    let status = child.wait().context("cannot wait for the command")?;
    drop(config);
    if let Some(code) = sys::signals::die_like(&status) {
        return Ok(ExitCode::from(code));
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
        .unwrap_or_else(|| sys::process::DEFAULT_SHELL.into());
    let (program, args) = command
        .split_first()
        .unwrap_or((&shell, &[] as &[OsString]));
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_DEFAULT_PROFILE")
        .env(crate::env::EXEC_MARKER, outcome.profile());
    if server {
        return serve_and_wait(cmd, program, outcome.profile(), &files, region, opts, ctx);
    }
    for (name, value) in shell::variables(outcome.session(), region.as_deref()) {
        cmd.env(name, value);
    }
    // Only returns on failure.
    let source = sys::process::exec(cmd);
    Err(ExecError {
        program: program.to_string_lossy().into_owned(),
        source,
    }
    .into())
}
