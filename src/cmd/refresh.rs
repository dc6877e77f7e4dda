//! `mfa-session refresh`: unattended renewal for cron and systemd timers. Lowers the flags into
//! one request, asks [`provider::refresh_many`] (which holds the rules: the window, device
//! groups, the single flight, one write) and prints one timestamped line per profile.

use std::process::ExitCode;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};

use crate::cli::RefreshArgs;
use crate::cmd::Ctx;
use crate::error::Exit;
use crate::provider::{self, Mode, Refreshed, SessionRequest, Targets};

/// The default `--threshold`, capped at a third of each session's life.
const DEFAULT_THRESHOLD: Duration = Duration::from_secs(3_600);

pub fn run(args: &RefreshArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let targets = if args.all {
        Targets::All
    } else if args.profile.is_empty() {
        Targets::Named(vec![ctx.env.profile(None)])
    } else {
        Targets::Named(args.profile.clone())
    };
    let template = SessionRequest {
        mfa_process: args.mfa_process.clone(),
        timeout: args.timeout,
        exact_window: args.threshold.is_some(),
        ..SessionRequest::new(
            String::new(),
            Mode::Unattended,
            args.threshold.unwrap_or(DEFAULT_THRESHOLD),
        )
    };
    let results = provider::refresh_many(targets, &template, ctx)?;
    if results.is_empty() {
        let path = ctx.credentials_path.clone().unwrap_or_default();
        log(
            ctx,
            false,
            &format!("no managed profiles in {}", path.display()),
        );
        return Ok(Exit::NoSession.into());
    }
    let mut all_good = true;
    for (name, result) in results {
        let (failed, text) = match result {
            Refreshed::StillValid(t) => (
                false,
                format!("still valid until {}", crate::session::local_time(t)),
            ),
            Refreshed::Renewed(t) => (
                false,
                format!("renewed until {}", crate::session::local_time(t)),
            ),
            Refreshed::RenewedMeanwhile(t) => (
                false,
                format!(
                    "renewed meanwhile by another process, valid until {}",
                    crate::session::local_time(t)
                ),
            ),
            Refreshed::Failed(why) => (true, format!("failed: {why}")),
        };
        all_good &= !failed;
        log(ctx, failed, &format!("[{name}] {text}"));
    }
    Ok(if all_good {
        ExitCode::SUCCESS
    } else {
        Exit::NoSession.into()
    })
}

/// A timestamped line on stderr, as cron mails and journald keep them; `-q` keeps failures only.
fn log(ctx: &Ctx, failure: bool, text: &str) {
    if failure || !ctx.quiet {
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        eprintln!("{now} mfa-session refresh: {text}");
    }
}
