//! `mfa-session console`: the AWS console opened as a role profile's session.
//!
//! Orchestration only: the files say whether the profile is a role and which partition it is
//! in (refused before any request when it is not a role); the opener is found before a code is
//! asked for; the provider layer gives the role session (as `export` gets it); `aws::signin`
//! trades it for a sign-in token and builds the URL, which is printed or handed to the
//! platform's opener (`sys::process::open_url`). The URL holds the token: never logged, and
//! printed only with `--print`.

use std::io::Write;
use std::process::{ExitCode, Stdio};

use anyhow::Context;

use crate::aws::{self, signin};
use crate::cli::ConsoleArgs;
use crate::cmd::{Ctx, session_for};
use crate::error::ConsoleError;
use crate::provider::{Files, console, request};
use crate::sys;

pub fn run(args: &ConsoleArgs, ctx: &Ctx, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let name = ctx.env.profile(args.profile.as_deref());
    request::check_profile(&name)?;
    let target = console::signin_target(ctx, &Files::read(ctx)?, &name)?;
    let partition = signin::Partition::of_region(&target.region);
    let endpoint = signin::Endpoint::new(partition, ctx.env.endpoint_url_signin.as_deref())?;
    let destination = match &args.destination {
        Some(d) => {
            signin::check_destination(d)?;
            d.clone()
        }
        None => partition.default_destination(),
    };
    if !args.print && ctx.env.find_program(sys::process::URL_OPENER).is_none() {
        return Err(ConsoleError::NoOpener {
            program: sys::process::URL_OPENER.into(),
        }
        .into());
    }

    let (outcome, _) = session_for(Some(target.profile.clone()), &args.session, ctx)?;
    tracing::info!(
        "[{}] asking {} ({}) for a console sign-in token",
        target.profile,
        endpoint.host,
        partition.name()
    );
    let token = aws::runtime()?.block_on(signin::signin_token(
        &endpoint,
        outcome.session(),
        args.duration.map(|d| d.as_secs()),
        args.timeout,
    ))?;
    let url = signin::login_url(&endpoint, &destination, &token);

    if args.print {
        writeln!(out, "{}", url.expose())
            .and_then(|()| out.flush())
            .context("cannot write to stdout")?;
        return Ok(ExitCode::SUCCESS);
    }
    let program = sys::process::URL_OPENER;
    let status = sys::process::open_url(url.expose())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => {
            ctx.say(&format!(
                "[{}] console opened in your browser with {program}",
                target.profile
            ));
            Ok(ExitCode::SUCCESS)
        }
        Ok(s) => Err(ConsoleError::OpenerFailed {
            program: program.into(),
            status: s.to_string(),
        }
        .into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ConsoleError::NoOpener {
            program: program.into(),
        }
        .into()),
        Err(e) => Err(ConsoleError::OpenerFailed {
            program: program.into(),
            status: e.to_string(),
        }
        .into()),
    }
}
