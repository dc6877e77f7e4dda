//! `mfa-session refresh`: unattended renewal for cron and systemd timers.
//!
//! It never prompts: a profile is renewed only from a non-interactive code source
//! (`mfa_process`, `mfa_totp_secret_file`, `--mfa-process`); one without is reported as failed,
//! with what to configure, and the others go on. `--all` renews the same list `status` shows
//! (session profiles, then role profiles). Profiles sharing an MFA device get one
//! GetSessionToken call (AWS accepts a device's code once per 30-second window) whose session
//! is written to each of them. Device groups, then roles, are renewed a handful at a time. A
//! run lock makes overlapping runs take turns; each device group holds the device's
//! single-flight lock, so a `login` or `export` running meanwhile shares the code instead of
//! racing for it; and every write re-reads the file under the store lock and leaves alone a
//! profile someone renewed meanwhile.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};

use crate::aws::{self, SdkApi};
use crate::cli::RefreshArgs;
use crate::cmd::Ctx;
use crate::error::{Exit, SetupError};
use crate::mfa::CodeSource;
use crate::provider::flight::Flight;
use crate::provider::profile::{self, Kind, RoleProfile};
use crate::provider::session_token::{self, Obtained, Plan, Written};
use crate::provider::{self, Files, Mode, Outcome, SessionRequest, flight, role};
use crate::store::SharedFile;

/// How long a run waits for an overlapping one to finish.
const RUN_LOCK_WAIT: Duration = Duration::from_secs(180);
/// Device groups (and roles) renewed at the same time.
const CONCURRENCY: usize = 8;

/// What happened to one profile.
#[derive(Debug)]
enum Line {
    StillValid(chrono::DateTime<Utc>),
    Renewed(chrono::DateTime<Utc>),
    RenewedMeanwhile(chrono::DateTime<Utc>),
    Failed(String),
}

pub fn run(args: &RefreshArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let creds_path = ctx.credentials_path.clone().ok_or(SetupError::NoHome)?;
    let file = SharedFile::new(&creds_path, crate::store::FileKind::Credentials);
    let _turn = file.run_lock("refresh", RUN_LOCK_WAIT)?;
    let files = Files::read(ctx)?;
    let suffix = &ctx.long_term_suffix;
    let targets: Vec<(String, Kind)> = if args.all {
        profile::managed(&files, suffix, |r| {
            role::cached(ctx, r).ok().flatten().is_some()
        })
    } else {
        let names = if args.profile.is_empty() {
            vec![ctx.env.profile(None)]
        } else {
            args.profile.clone()
        };
        names
            .into_iter()
            .map(|n| {
                let kind = profile::resolve(&files, &n, suffix);
                (n, kind)
            })
            .collect()
    };
    if targets.is_empty() {
        log(
            ctx,
            false,
            &format!("no managed profiles in {}", creds_path.display()),
        );
        return Ok(Exit::NoSession.into());
    }

    let request = |name: &str| SessionRequest {
        mfa_process: args.mfa_process.clone(),
        timeout: args.timeout,
        ..SessionRequest::new(name.to_string(), Mode::Unattended, args.threshold)
    };
    let now = Utc::now();
    let mut lines: BTreeMap<String, Line> = BTreeMap::new();
    // Profiles to renew, grouped by MFA device: one code, one call, one session per device.
    let mut groups: BTreeMap<(String, String), Vec<Plan>> = BTreeMap::new();
    let mut roles: Vec<RoleProfile> = Vec::new();
    for (name, kind) in &targets {
        if let Kind::Role(r) = kind {
            roles.push(r.clone());
            continue;
        }
        let req = request(name);
        let window = profile::window(args.threshold, &files, name, kind, None);
        if let Some(s) = files.session(name)
            && !s.needs_renewal(now, window)
        {
            lines.insert(name.clone(), Line::StillValid(s.expiration));
            continue;
        }
        match session_token::plan(&req, ctx, &files) {
            Ok(plan) if plan.source.is_none() => {
                lines.insert(
                    name.clone(),
                    Line::Failed(provider::no_unattended_source(ctx, name)),
                );
            }
            Ok(plan) => {
                // What can fail before a code is spent fails here, for this profile only.
                let checked = plan
                    .keys
                    .validate()
                    .and_then(|()| plan.settings.validate())
                    .map_err(anyhow::Error::from)
                    .and_then(|()| file.preflight().map_err(anyhow::Error::from));
                if let Err(e) = checked {
                    lines.insert(name.clone(), Line::Failed(format!("{e:#}")));
                    continue;
                }
                let device = plan
                    .serial
                    .clone()
                    .unwrap_or_else(|| format!("profile:{name}"));
                groups
                    .entry((plan.keys.access_key_id.clone(), device))
                    .or_default()
                    .push(plan);
            }
            Err(e) => {
                lines.insert(name.clone(), Line::Failed(format!("{e:#}")));
            }
        }
    }

    let groups: Vec<Vec<Plan>> = groups.into_values().collect();
    let mut renewals = Vec::new();
    for (out, renewal) in in_parallel(&groups, |group| renew_group(group, ctx, args.threshold)) {
        lines.extend(out);
        renewals.extend(renewal);
    }
    if !renewals.is_empty() {
        lines.extend(write_all(
            &file,
            &mut renewals,
            &ctx.long_term_suffix,
            args.threshold,
        ));
    }
    // The flights go only now, with every session written.
    drop(renewals);
    // Roles come after the sessions they may be assumed from.
    lines.extend(in_parallel(&roles, |r| {
        let line = match provider::session(&request(&r.name), ctx) {
            Ok((Outcome::StillValid { session, .. }, _)) => Line::StillValid(session.expiration),
            Ok((Outcome::Shared { session, .. }, _)) => Line::RenewedMeanwhile(session.expiration),
            Ok((outcome, _)) => Line::Renewed(outcome.session().expiration),
            Err(e) => Line::Failed(format!("{e:#}")),
        };
        (r.name.clone(), line)
    }));

    let mut all_good = true;
    for (name, _) in &targets {
        let line = lines
            .remove(name)
            .unwrap_or_else(|| Line::Failed("not processed".into()));
        let (failed, text) = match line {
            Line::StillValid(t) => (
                false,
                format!("still valid until {}", crate::session::local_time(t)),
            ),
            Line::Renewed(t) => (
                false,
                format!("renewed until {}", crate::session::local_time(t)),
            ),
            Line::RenewedMeanwhile(t) => (
                false,
                format!(
                    "renewed meanwhile by another process, valid until {}",
                    crate::session::local_time(t)
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

/// Runs `work` on every item, at most [`CONCURRENCY`] at a time, each on its own thread.
fn in_parallel<'a, T: Sync, R: Send>(items: &'a [T], work: impl Fn(&'a T) -> R + Sync) -> Vec<R> {
    let next = Mutex::new(items.iter());
    let results = Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|scope| {
        for _ in 0..CONCURRENCY.min(items.len()) {
            scope.spawn(|| {
                loop {
                    let item = next.lock().expect("queue").next();
                    let Some(item) = item else { break };
                    let r = work(item);
                    results.lock().expect("results").push(r);
                }
            });
        }
    });
    results.into_inner().expect("results")
}

/// A timestamped line on stderr, as cron mails and journald keep them; `-q` keeps failures only.
fn log(ctx: &Ctx, failure: bool, text: &str) {
    if failure || !ctx.quiet {
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        eprintln!("{now} mfa-session refresh: {text}");
    }
}

/// What a device group's login produced: written with every other group's in one locked update
/// (one fsync for the whole run), its flight held until then so that a process waiting for the
/// device finds the session written when it gets the flight.
struct Renewal<'a> {
    plans: Vec<&'a Plan>,
    got: Obtained,
    flight: Flight,
}

/// One GetSessionToken for the group's device, under the device's single-flight lock.
fn renew_group<'a>(
    group: &'a [Plan],
    ctx: &Ctx,
    threshold: Duration,
) -> (Vec<(String, Line)>, Option<Renewal<'a>>) {
    let fail_all = |why: String| {
        let lines = group
            .iter()
            .map(|p| (p.profile.clone(), Line::Failed(why.clone())))
            .collect();
        (lines, None)
    };
    let first = &group[0];
    let flight = match provider::acquire_or_go_on(
        ctx,
        &flight::device_key(&first.keys.access_key_id),
        &first.profile,
    ) {
        Ok(f) => f,
        Err(e) => return fail_all(format!("{e:#}")),
    };
    let mut out = Vec::new();
    let mut todo: Vec<&Plan> = group.iter().collect();
    if flight.waited {
        // Someone logged in with this device while we waited: keep what they wrote.
        match Files::read(ctx) {
            Ok(files) => todo.retain(|p| match files.session(&p.profile) {
                Some(s) if !s.needs_renewal(Utc::now(), window(threshold, p)) => {
                    out.push((p.profile.clone(), Line::RenewedMeanwhile(s.expiration)));
                    false
                }
                _ => true,
            }),
            Err(e) => return fail_all(format!("{e:#}")),
        }
    }
    let Some(lead) = todo.first() else {
        return (out, None);
    };
    let Some(source) = lead.source.clone() else {
        return fail_all("no code source".into());
    };
    let mut code = CodeSource::Configured(source);
    let api = SdkApi::new(&lead.keys, &lead.settings);
    match aws::runtime().and_then(|rt| rt.block_on(session_token::obtain(&api, lead, &mut code))) {
        Ok(got) => (
            out,
            Some(Renewal {
                plans: todo,
                got,
                flight,
            }),
        ),
        Err(e) => {
            out.extend(
                todo.iter()
                    .map(|p| (p.profile.clone(), Line::Failed(format!("{e:#}")))),
            );
            (out, None)
        }
    }
}

/// The window a profile's session must outlive (see [`crate::session::effective_window`]).
fn window(threshold: Duration, plan: &Plan) -> Duration {
    crate::session::effective_window(threshold, plan.duration)
}

/// Writes every renewal in one locked update, leaving alone a profile someone renewed
/// meanwhile, then tells each flight's waiters what it wrote.
fn write_all(
    file: &SharedFile,
    renewals: &mut [Renewal<'_>],
    suffix: &str,
    threshold: Duration,
) -> Vec<(String, Line)> {
    let outcome = file.update(|doc| {
        let mut lines = Vec::new();
        for r in renewals.iter() {
            for plan in &r.plans {
                let written = session_token::write_into(
                    doc,
                    plan,
                    &r.got,
                    suffix,
                    Some(window(threshold, plan)),
                )?;
                lines.push((plan.profile.clone(), written));
            }
        }
        Ok::<_, crate::store::StoreError>(lines)
    });
    match outcome {
        Ok(lines) => {
            for r in renewals.iter_mut() {
                let names: Vec<&str> = lines
                    .iter()
                    .filter(|(p, w)| {
                        *w == Written::Written && r.plans.iter().any(|pl| pl.profile == *p)
                    })
                    .map(|(p, _)| p.as_str())
                    .collect();
                r.flight.record(&names);
            }
            let expiry = |p: &str| {
                renewals
                    .iter()
                    .find(|r| r.plans.iter().any(|pl| pl.profile == p))
                    .map(|r| r.got.session.expiration)
            };
            lines
                .into_iter()
                .map(|(p, w)| {
                    let line = match w {
                        Written::Written => Line::Renewed(expiry(&p).expect("a renewal wrote it")),
                        Written::KeptNewer(s) => Line::RenewedMeanwhile(s.expiration),
                    };
                    (p, line)
                })
                .collect()
        }
        Err(e) => renewals
            .iter()
            .flat_map(|r| r.plans.iter())
            .map(|p| (p.profile.clone(), Line::Failed(e.to_string())))
            .collect(),
    }
}
