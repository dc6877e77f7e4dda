//! Renewing many profiles in one unattended run (`refresh`): one call, [`refresh_many`], that
//! applies the broker's rules — the window, the single flight, the re-read after a wait — to a
//! whole list of profiles.
//!
//! It never prompts: a profile is renewed only from a non-interactive code source
//! (`mfa_process`, `mfa_totp_secret_file`, `--mfa-process`); one without is reported as failed,
//! with what to configure, and the others go on. [`Targets::All`] renews the same list `status`
//! shows ([`profile::managed`]: session profiles, then role profiles). Profiles sharing an MFA
//! device get one GetSessionToken call (AWS accepts a device's code once per 30-second window)
//! whose session is written to each of them. Device groups, then roles, are renewed a handful
//! at a time. A run lock makes overlapping runs take turns; each device group holds the
//! device's single-flight lock, so a `login` or `export` running meanwhile shares the code
//! instead of racing for it; and every write re-reads the file under the store lock and leaves
//! alone a profile someone renewed meanwhile.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::aws::{self, SdkApi};
use crate::ctx::Ctx;
use crate::error::SetupError;
use crate::mfa::CodeSource;
use crate::provider::flight::{self, Flight};
use crate::provider::profile::{self, Files, Kind, RoleProfile};
use crate::provider::request::SessionRequest;
use crate::provider::session_token::{self, Obtained, Plan, Written};
use crate::provider::{
    Outcome, no_unattended_source, renewed_meanwhile, session_from, take_flight,
};
use crate::store::{FileKind, SharedFile};

/// How long a run waits for an overlapping one to finish.
const RUN_LOCK_WAIT: Duration = Duration::from_secs(180);
/// Device groups (and roles) renewed at the same time.
const CONCURRENCY: usize = 8;

/// Which profiles a run renews.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Targets {
    /// Every managed profile, as `status` lists them.
    All,
    /// These profiles, in this order.
    Named(Vec<String>),
}

/// What happened to one profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refreshed {
    /// Valid beyond the window: left alone.
    StillValid(DateTime<Utc>),
    Renewed(DateTime<Utc>),
    /// Another process renewed it while this run waited for it.
    RenewedMeanwhile(DateTime<Utc>),
    Failed(String),
}

/// Renews each of `targets` whose session is due under `template`'s window, as `template` says
/// (its mode, code source and timeout; its profile is ignored). Returns each target's result in
/// the order of the targets; none when `Targets::All` finds no managed profile.
pub fn refresh_many(
    targets: Targets,
    template: &SessionRequest,
    ctx: &Ctx,
) -> anyhow::Result<Vec<(String, Refreshed)>> {
    let creds_path = ctx.credentials_path.clone().ok_or(SetupError::NoHome)?;
    let file = SharedFile::new(&creds_path, FileKind::Credentials);
    let _turn = file.run_lock("refresh", RUN_LOCK_WAIT)?;
    let files = Files::read(ctx)?;
    let suffix = &ctx.long_term_suffix;
    let targets: Vec<(String, Kind)> = match targets {
        Targets::All => profile::managed(&files, suffix, |r| {
            super::role::cached(ctx, r).ok().flatten().is_some()
        }),
        Targets::Named(names) => names
            .into_iter()
            .map(|n| {
                let kind = profile::resolve(&files, &n, suffix);
                (n, kind)
            })
            .collect(),
    };
    if targets.is_empty() {
        return Ok(Vec::new());
    }

    let request = |name: &str| SessionRequest {
        profile: name.to_string(),
        ..template.clone()
    };
    let now = Utc::now();
    let mut results: BTreeMap<String, Refreshed> = BTreeMap::new();
    // Profiles to renew, grouped by MFA device: one code, one call, one session per device.
    let mut groups: BTreeMap<(String, String), Vec<Plan>> = BTreeMap::new();
    let mut roles: Vec<RoleProfile> = Vec::new();
    for (name, kind) in &targets {
        if let Kind::Role(r) = kind {
            roles.push(r.clone());
            continue;
        }
        let req = request(name);
        let window = req.window_for(profile::lifetime(&files, name, kind, None));
        if let Some(s) = files.session(name)
            && !s.needs_renewal(now, window)
        {
            results.insert(name.clone(), Refreshed::StillValid(s.expiration));
            continue;
        }
        match session_token::plan(&req, ctx, &files) {
            Ok(plan) if plan.source.is_none() => {
                results.insert(
                    name.clone(),
                    Refreshed::Failed(no_unattended_source(ctx, name)),
                );
            }
            Ok(plan) => {
                // What can fail before a code is spent fails here, for this profile only.
                let checked = plan
                    .keys
                    .validate()
                    .and_then(|()| plan.settings.validate())
                    .map_err(anyhow::Error::from)
                    .and_then(|()| plan.check_serial().map_err(anyhow::Error::from))
                    .and_then(|()| file.preflight().map_err(anyhow::Error::from));
                if let Err(e) = checked {
                    results.insert(name.clone(), Refreshed::Failed(format!("{e:#}")));
                    continue;
                }
                let device = plan
                    .serial()
                    .map_or_else(|| format!("profile:{name}"), str::to_string);
                groups
                    .entry((plan.keys.access_key_id.clone(), device))
                    .or_default()
                    .push(plan);
            }
            Err(e) => {
                results.insert(name.clone(), Refreshed::Failed(format!("{e:#}")));
            }
        }
    }

    let groups: Vec<Vec<Plan>> = groups.into_values().collect();
    let mut renewals = Vec::new();
    for (out, renewal) in in_parallel(&groups, |group| renew_group(group, ctx, template)) {
        results.extend(out);
        renewals.extend(renewal);
    }
    if !renewals.is_empty() {
        results.extend(write_all(&file, &mut renewals, suffix, template));
    }
    // The flights go only now, with every session written.
    drop(renewals);
    // Roles come after the sessions they may be assumed from, read once with those written.
    let files = if roles.is_empty() {
        files
    } else {
        Files::read(ctx)?
    };
    results.extend(in_parallel(&roles, |r| {
        let result = match session_from(&request(&r.name), ctx, &files) {
            Ok((Outcome::StillValid { session, .. }, _)) => {
                Refreshed::StillValid(session.expiration)
            }
            Ok((Outcome::Shared { session, .. }, _)) => {
                Refreshed::RenewedMeanwhile(session.expiration)
            }
            Ok((outcome, _)) => Refreshed::Renewed(outcome.session().expiration),
            Err(e) => Refreshed::Failed(format!("{e:#}")),
        };
        (r.name.clone(), result)
    }));

    Ok(targets
        .into_iter()
        .map(|(name, _)| {
            let result = results
                .remove(&name)
                .unwrap_or_else(|| Refreshed::Failed("not processed".into()));
            (name, result)
        })
        .collect())
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
    req: &SessionRequest,
) -> (Vec<(String, Refreshed)>, Option<Renewal<'a>>) {
    let fail_all = |why: String| {
        let results = group
            .iter()
            .map(|p| (p.profile.clone(), Refreshed::Failed(why.clone())))
            .collect();
        (results, None)
    };
    let first = &group[0];
    let key = flight::device_key(&first.keys.access_key_id);
    let (flight, reread) = match take_flight(ctx, &key, &first.profile, true) {
        Ok(taken) => taken,
        Err(e) => return fail_all(format!("{e:#}")),
    };
    let mut out = Vec::new();
    let mut todo: Vec<&Plan> = group.iter().collect();
    if let Some(files) = reread {
        // Someone logged in with this device while we waited: keep what they wrote.
        todo.retain(|p| {
            match renewed_meanwhile(files.session(&p.profile), req.window_for(p.duration)) {
                Some(s) => {
                    out.push((p.profile.clone(), Refreshed::RenewedMeanwhile(s.expiration)));
                    false
                }
                None => true,
            }
        });
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
                    .map(|p| (p.profile.clone(), Refreshed::Failed(format!("{e:#}")))),
            );
            (out, None)
        }
    }
}

/// Writes every renewal in one locked update, leaving alone a profile someone renewed
/// meanwhile, then tells each flight's waiters what it wrote.
fn write_all(
    file: &SharedFile,
    renewals: &mut [Renewal<'_>],
    suffix: &str,
    req: &SessionRequest,
) -> Vec<(String, Refreshed)> {
    let outcome = file.update(|doc| {
        let mut written = Vec::new();
        for r in renewals.iter() {
            for plan in &r.plans {
                let w = session_token::write_into(
                    doc,
                    plan,
                    &r.got,
                    suffix,
                    Some(req.window_for(plan.duration)),
                )?;
                written.push((plan.profile.clone(), w));
            }
        }
        Ok::<_, crate::store::StoreError>(written)
    });
    match outcome {
        Ok(written) => {
            for r in renewals.iter_mut() {
                let names: Vec<&str> = written
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
            written
                .into_iter()
                .map(|(p, w)| {
                    let result = match w {
                        Written::Written => {
                            Refreshed::Renewed(expiry(&p).expect("a renewal wrote it"))
                        }
                        Written::KeptNewer(s) => Refreshed::RenewedMeanwhile(s.expiration),
                    };
                    (p, result)
                })
                .collect()
        }
        Err(e) => renewals
            .iter()
            .flat_map(|r| r.plans.iter())
            .map(|p| (p.profile.clone(), Refreshed::Failed(e.to_string())))
            .collect(),
    }
}
