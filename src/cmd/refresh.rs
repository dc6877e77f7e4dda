//! `mfa-session refresh`: unattended renewal for cron and systemd timers.
//!
//! It never prompts: a profile is renewed only from a non-interactive code source
//! (`mfa_process`, `mfa_totp_secret_file`, `--mfa-process`); one without is reported as failed,
//! with what to configure, and the others go on. Profiles sharing an MFA device get one
//! GetSessionToken call (AWS accepts a device's code once per 30-second window) whose session
//! is written to each of them. Groups run concurrently, each on its own thread. A run lock makes
//! overlapping runs take turns, and every write re-reads the file under the store lock and
//! leaves alone a profile someone renewed meanwhile.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};

use crate::aws::SdkApi;
use crate::cli::{LoginArgs, RefreshArgs};
use crate::cmd::Ctx;
use crate::cmd::login::{self, Decision, Files, LoginMode, Obtained, Outcome, Plan};
use crate::cmd::role::{self, RoleProfile};
use crate::cmd::status;
use crate::exit::Exit;
use crate::mfa::Terminal;
use crate::session::{self, Holding};
use crate::store::{self, FileKind, SharedFile, StoreError};

/// How long a run waits for an overlapping one to finish.
const RUN_LOCK_WAIT: Duration = Duration::from_secs(180);

/// What happened to one profile.
#[derive(Debug)]
enum Line {
    StillValid(chrono::DateTime<Utc>),
    Renewed(chrono::DateTime<Utc>),
    RenewedMeanwhile(chrono::DateTime<Utc>),
    Failed(String),
}

type NoTty = Terminal<&'static [u8], Vec<u8>>;

pub fn run(args: &RefreshArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let creds_path = ctx
        .credentials_path
        .clone()
        .ok_or(login::SetupError::NoHome)?;
    let file = SharedFile::new(&creds_path, FileKind::Credentials);
    let _turn = file.run_lock("refresh", RUN_LOCK_WAIT)?;
    let files = Files::read(ctx)?;
    let now = Utc::now();
    let names: Vec<String> = if args.all {
        status::managed(
            &files.credentials.profiles().profiles,
            &ctx.long_term_suffix,
        )
        .into_iter()
        .collect()
    } else if args.profile.is_empty() {
        vec![ctx.env.profile(None)]
    } else {
        args.profile.clone()
    };
    if names.is_empty() {
        log(
            ctx,
            false,
            &format!("no managed profiles in {}", creds_path.display()),
        );
        return Ok(Exit::NoSession.into());
    }

    let mut lines: BTreeMap<String, Line> = BTreeMap::new();
    // Profiles to renew, grouped by MFA device: one code, one call, one session per device.
    let mut groups: BTreeMap<String, Vec<Plan>> = BTreeMap::new();
    // Role profiles come after the sessions they may be assumed from.
    let mut roles: Vec<RoleProfile> = Vec::new();
    let login_args = |name: &str| LoginArgs {
        mfa_process: args.mfa_process.clone(),
        timeout: args.timeout,
        ..LoginArgs::for_session(Some(name.to_string()), args.threshold)
    };
    for name in &names {
        if let Some(r) = role::role_profile(&files.config, name) {
            roles.push(r);
            continue;
        }
        let largs = login_args(name);
        match login::plan(
            &largs,
            ctx,
            &files.config,
            &files.credentials,
            creds_path.clone(),
            now,
        ) {
            Ok(Decision::StillValid(s)) => {
                lines.insert(name.clone(), Line::StillValid(s.expiration));
            }
            Ok(Decision::Login(plan)) if plan.source.is_none() => {
                lines.insert(
                    name.clone(),
                    Line::Failed(format!(
                        "no non-interactive MFA code source: set mfa_process (a command printing \
                         the code) or mfa_totp_secret_file in [{}] or in [profile {name}] of the \
                         config file, or pass --mfa-process; see docs/unattended.md",
                        plan.long_term
                    )),
                );
            }
            Ok(Decision::Login(plan)) => {
                let key = plan
                    .serial
                    .clone()
                    .unwrap_or_else(|| format!("profile:{name}"));
                groups.entry(key).or_default().push(*plan);
            }
            Err(e) => {
                lines.insert(name.clone(), Line::Failed(e.to_string()));
            }
        }
    }

    let results: Vec<(String, Line)> = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .values()
            .map(|group| scope.spawn(|| renew_group(group, &file, ctx, args.threshold)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    lines.extend(results);

    if !roles.is_empty() {
        // Re-read: the sessions the roles are assumed from may have just been renewed.
        let files = Files::read(ctx)?;
        for r in &roles {
            let line = match role::ensure(
                r,
                &login_args(&r.name),
                ctx,
                &files,
                LoginMode::Unattended,
                None,
            ) {
                Ok(Outcome::StillValid { session, .. }) => Line::StillValid(session.expiration),
                Ok(outcome) => Line::Renewed(outcome.session().expiration),
                Err(e) => Line::Failed(format!("{e:#}")),
            };
            lines.insert(r.name.clone(), line);
        }
    }

    let mut all_good = true;
    for name in &names {
        let line = lines
            .remove(name)
            .unwrap_or_else(|| Line::Failed("not processed".into()));
        let (failed, text) = match line {
            Line::StillValid(t) => (
                false,
                format!("still valid until {}", session::local_time(t)),
            ),
            Line::Renewed(t) => (false, format!("renewed until {}", session::local_time(t))),
            Line::RenewedMeanwhile(t) => (
                false,
                format!(
                    "renewed meanwhile by another process, valid until {}",
                    session::local_time(t)
                ),
            ),
            Line::Failed(why) => (true, format!("failed: {why}")),
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

/// One GetSessionToken for the group's device, written to every profile of the group.
fn renew_group(
    group: &[Plan],
    file: &SharedFile,
    ctx: &Ctx,
    threshold: Duration,
) -> Vec<(String, Line)> {
    let first = &group[0];
    let fail_all = |why: String| {
        group
            .iter()
            .map(|p| (p.profile.clone(), Line::Failed(why.clone())))
            .collect()
    };
    let runtime = match crate::aws::runtime() {
        Ok(r) => r,
        Err(e) => return fail_all(format!("{e:#}")),
    };
    let api = SdkApi::new(&first.keys, &first.settings);
    let got = match runtime.block_on(login::obtain::<_, &[u8], Vec<u8>>(
        &api,
        first,
        None,
        None::<&mut NoTty>,
    )) {
        Ok(got) => got,
        Err(e) => return fail_all(format!("{e:#}")),
    };
    group
        .iter()
        .map(|plan| {
            let line = write_unless_renewed(file, plan, &got, &ctx.long_term_suffix, threshold)
                .unwrap_or_else(|e| Line::Failed(e.to_string()));
            (plan.profile.clone(), line)
        })
        .collect()
}

/// Writes the session unless, under the lock, the profile turns out to have been renewed by
/// someone else meanwhile (an interactive login, say). Returns the line to report.
fn write_unless_renewed(
    file: &SharedFile,
    plan: &Plan,
    got: &Obtained,
    suffix: &str,
    threshold: Duration,
) -> Result<Line, StoreError> {
    let window = session::window(threshold);
    file.update(|doc| {
        let current = doc.profile(&plan.profile).unwrap_or_default();
        if let Holding::Session(Some(s)) = Holding::of(&current)
            && !s.needs_renewal(Utc::now(), window)
            && s.access_key_id != got.session.access_key_id
        {
            return Ok(Line::RenewedMeanwhile(s.expiration));
        }
        if got.discovered {
            doc.set(&plan.long_term, "mfa_serial", &got.serial)?;
        }
        store::put_session(doc, &plan.profile, suffix, &got.session)?;
        Ok(Line::Renewed(got.session.expiration))
    })
}
