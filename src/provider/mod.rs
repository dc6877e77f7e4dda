//! "A valid session for profile P, please": the one place every command asks.
//!
//! The broker ([`session`]) resolves what the profile is ([`profile`]), picks the provider
//! that obtains its sessions — [`session_token`] (GetSessionToken from long-term keys and an
//! MFA code) or [`role`] (AssumeRole from the source's session or keys) — and keeps a session
//! that is still valid by the one rule of [`crate::session::Session::state`] (no network, no
//! runtime: this is the hot path of every shell start-up). Otherwise it chooses where the code
//! comes from once ([`CodeSource`]), then takes the single-flight lock ([`flight`]) so that of
//! many processes needing the same device or role exactly one asks for a code and calls STS;
//! the others wait, re-read the files and use what it wrote.
//!
//! Commands build a [`SessionRequest`] from their flags and print the [`Outcome`]; providers
//! never know which command asked. [`refresh_many`] answers many requests of one unattended
//! run by the same rules, renewing profiles that share an MFA device with one code.

pub mod console;
pub mod flight;
pub mod profile;
pub mod refresh;
pub mod request;
pub mod role;
pub mod rotate;
pub mod session_token;

use chrono::{DateTime, Utc};

use crate::ctx::Ctx;
use crate::error::{NoSession, RoleError};
use crate::mfa::prompt::{Desktop, PromptConfig, PromptKind};
use crate::mfa::source::Source;
use crate::mfa::{CodeSource, MfaError};
use crate::session::{self, Holding, Session};
use crate::store;

pub use profile::{Files, Kind, RoleProfile};
pub use refresh::{Refreshed, Targets, refresh_many};
pub use request::{Mode, SessionRequest};

/// How a request ended.
#[derive(Debug)]
pub enum Outcome {
    /// The stored session has more than the refresh window left: no call was made.
    StillValid { profile: String, session: Session },
    /// A new MFA session was obtained with `serial` and written to `[profile]` of `path`.
    Renewed {
        profile: String,
        session: Session,
        serial: String,
        path: std::path::PathBuf,
    },
    /// A role profile's session was assumed (and cached).
    RoleAssumed {
        profile: String,
        session: Session,
        via: String,
    },
    /// Another mfa-session logged in while this one waited for it; its session is used.
    Shared {
        profile: String,
        session: Session,
        from: String,
    },
}

impl Outcome {
    pub fn profile(&self) -> &str {
        match self {
            Outcome::StillValid { profile, .. }
            | Outcome::Renewed { profile, .. }
            | Outcome::RoleAssumed { profile, .. }
            | Outcome::Shared { profile, .. } => profile,
        }
    }

    pub fn session(&self) -> &Session {
        match self {
            Outcome::StillValid { session, .. }
            | Outcome::Renewed { session, .. }
            | Outcome::RoleAssumed { session, .. }
            | Outcome::Shared { session, .. } => session,
        }
    }

    /// One line for the person: what happened, until when the session is valid.
    pub fn describe(&self, now: DateTime<Utc>) -> String {
        let s = self.session();
        let until = session::local_time(s.expiration);
        let left = session::human_duration(s.remaining(now));
        let p = self.profile();
        match self {
            Outcome::StillValid { .. } => format!(
                "[{p}] session still valid until {until} ({left} left); nothing to do (--force renews)"
            ),
            Outcome::Renewed { serial, path, .. } => format!(
                "[{p}] logged in with {serial}: session valid until {until} ({left}), written to {}",
                path.display()
            ),
            Outcome::RoleAssumed { via, .. } => {
                format!("[{p}] role assumed with {via}: valid until {until} ({left})")
            }
            Outcome::Shared { from, .. } => format!(
                "[{p}] another mfa-session logged in {from} meanwhile: session valid until \
                 {until} ({left})"
            ),
        }
    }
}

/// What a provider needs before it can call STS.
#[derive(Debug)]
pub enum Needs {
    /// Nothing: it signs with a session or a role needs no MFA.
    Nothing,
    /// An MFA code; the configured non-interactive source, if any.
    Code(Option<Source>),
}

/// How a session is obtained: one interface for the GetSessionToken and AssumeRole providers.
pub trait Provider {
    /// The profile the session is for.
    fn profile(&self) -> &str;
    /// The single-flight lock this login takes.
    fn flight_key(&self) -> String;
    /// Whether the session lives outside mfa-session's cache, so that a login may go on
    /// without the single-flight lock when the cache cannot be written ([`acquire_or_go_on`]).
    fn keeps_nothing_in_the_cache(&self) -> bool {
        false
    }
    /// The session as stored now (no network).
    fn stored(&self, ctx: &Ctx, files: &Files) -> anyhow::Result<Option<Session>>;
    /// Whether a code is needed, and from which configured source.
    fn needs(&self) -> Needs;
    /// Everything that can be checked before a code is asked for or a call is made: keys and
    /// settings that could not be signed with, a file that could not be written.
    fn preflight(&self, ctx: &Ctx, files: &Files) -> anyhow::Result<()>;
    /// Called when a code is needed and nobody can give one: a reason the login could never
    /// work that one call shows (the user's only MFA devices are security keys or passkeys),
    /// said instead of "nobody to ask". `Ok` when there is none, or it cannot be told.
    fn unusable_devices(&self) -> anyhow::Result<()> {
        Ok(())
    }
    /// Obtains a new session and stores it. Called with the flight held.
    fn renew(
        &self,
        ctx: &Ctx,
        files: &Files,
        code: Option<CodeSource<'_>>,
    ) -> anyhow::Result<Outcome>;
    /// A stored session is kept: write any copy the request asked for (`--write-profile`).
    fn keep(&self, _ctx: &Ctx, _files: &Files, _session: &Session) -> anyhow::Result<()> {
        Ok(())
    }
    /// After waiting for another process: a session it wrote for another profile on the same
    /// device that this profile may use instead of spending a code. `recorded` names the
    /// profiles the other process wrote.
    fn adopt(
        &self,
        _ctx: &Ctx,
        _files: &Files,
        _recorded: &[String],
    ) -> anyhow::Result<Option<Outcome>> {
        Ok(None)
    }
}

/// The provider for `req.profile`, planned from `files` (no network).
fn provider_for(
    kind: Kind,
    req: &SessionRequest,
    ctx: &Ctx,
    files: &Files,
) -> anyhow::Result<Box<dyn Provider>> {
    Ok(match kind {
        Kind::Role(r) => Box::new(role::RoleProvider::new(r, req, ctx, files)?),
        Kind::Session | Kind::Neither => {
            if req.write_profile.is_some() {
                return Err(RoleError::WriteProfileNotRole {
                    profile: req.profile.clone(),
                }
                .into());
            }
            Box::new(session_token::SessionTokenProvider::new(req, ctx, files)?)
        }
    })
}

/// The stored session of a profile of any kind, and a phrase for its state.
fn stored(
    kind: &Kind,
    req: &SessionRequest,
    ctx: &Ctx,
    files: &Files,
) -> anyhow::Result<Option<Session>> {
    Ok(match kind {
        Kind::Role(r) => role::cached(ctx, r)?,
        Kind::Session | Kind::Neither => files.session(&req.profile),
    })
}

/// Why there is no session, for [`NoSession`] messages; `cached` is a role's cached session.
fn state_text(
    kind: &Kind,
    req: &SessionRequest,
    files: &Files,
    cached: Option<&Session>,
    now: DateTime<Utc>,
) -> String {
    if let Kind::Role(_) = kind {
        return match cached {
            Some(s) => s.time_left_text(now),
            None => "none cached yet".into(),
        };
    }
    let props = files.credentials.profile(&req.profile).unwrap_or_default();
    match Holding::of(&props) {
        Holding::Session(Some(s)) => s.time_left_text(now),
        Holding::Session(None) => match props.get(session::KEY_EXPIRATION) {
            Some(e) if !e.is_empty() && session::parse_expiration(e).is_none() => format!(
                "its expiration {} cannot be read; expected RFC 3339 such as \
                 2026-01-02T03:04:05Z",
                crate::text::untrusted(&format!("{e:?}"))
            ),
            _ => "its session keys are incomplete".to_string(),
        },
        Holding::LongTermKeys => "it holds long-term keys, not a session".to_string(),
        Holding::Empty => "none was written yet".to_string(),
    }
}

/// Takes the single-flight lock `key` for `profile`, telling the person once if it waits.
pub fn acquire(ctx: &Ctx, key: &str, profile: &str) -> anyhow::Result<flight::Flight> {
    let cache = ctx.env.cache_dir().ok_or(RoleError::NoCacheDir)?;
    let dir = store::fs::cache_subdir(&cache, "locks")?;
    flight::acquire(&dir, key, profile, flight::WAIT, || {
        ctx.say(&format!(
            "waiting for another mfa-session logging in to [{profile}] (at most {} s)",
            flight::WAIT.as_secs()
        ));
    })
}

/// The single-flight rule: takes the flight `key` for `profile`; when another process held it,
/// also the files as they are now, since whoever held it may have done this one's work.
/// `go_on`: a login that keeps nothing in the cache goes on without the lock when the cache
/// cannot be written ([`acquire_or_go_on`]).
fn take_flight(
    ctx: &Ctx,
    key: &str,
    profile: &str,
    go_on: bool,
) -> anyhow::Result<(flight::Flight, Option<Files>)> {
    let flight = if go_on {
        acquire_or_go_on(ctx, key, profile)?
    } else {
        acquire(ctx, key, profile)?
    };
    let reread = if flight.waited {
        Some(Files::read(ctx)?)
    } else {
        None
    };
    Ok((flight, reread))
}

/// After waiting for a flight: the session stored meanwhile, when it needs no renewal under
/// `window`.
fn renewed_meanwhile(stored: Option<Session>, window: std::time::Duration) -> Option<Session> {
    stored.filter(|s| !s.needs_renewal(Utc::now(), window))
}

/// [`acquire`], for a login that keeps nothing in the cache (GetSessionToken): when the lock
/// directory is read-only, full or not writable by us, it goes on without the single-flight
/// lock, with a warning, rather than failing a login that needs no cache. Concurrent logins
/// with the same MFA device may then each ask for a code. A lock path or directory that is
/// unsafe (a symlink, a FIFO, another user's) is still refused.
pub fn acquire_or_go_on(ctx: &Ctx, key: &str, profile: &str) -> anyhow::Result<flight::Flight> {
    match acquire(ctx, key, profile) {
        Ok(f) => Ok(f),
        Err(e)
            if e.chain()
                .find_map(|c| c.downcast_ref::<store::StoreError>())
                .is_some_and(store::StoreError::is_unavailable) =>
        {
            tracing::warn!(
                "{}; logging in to [{profile}] without the single-flight lock (another \
                 mfa-session using the same MFA device at the same time may ask for a code too)",
                crate::error::describe(&e)
            );
            Ok(flight::Flight::without_lock())
        }
        Err(e) => Err(e),
    }
}

/// The session `req` asks for: the stored one while valid, else a new one as `req.mode`
/// allows. Returns the files as last read (for the profile's region, say).
pub fn session(req: &SessionRequest, ctx: &Ctx) -> anyhow::Result<(Outcome, Files)> {
    let renewed = obtain(req, ctx);
    if req.mode != Mode::Background {
        return renewed;
    }
    let Err(why) = renewed else {
        return renewed;
    };
    // Nobody could give a code (or AWS said no): what is stored still works until it expires.
    let keep = SessionRequest {
        mode: Mode::Never,
        window: std::time::Duration::ZERO,
        force: false,
        ..req.clone()
    };
    match obtain(&keep, ctx) {
        Ok(kept) => {
            tracing::warn!(
                "[{}] cannot renew ({}); serving the stored session, which expires at {}",
                req.profile,
                crate::error::describe(&why),
                session::format_expiration(kept.0.session().expiration)
            );
            Ok(kept)
        }
        Err(_) => Err(why),
    }
}

fn obtain(req: &SessionRequest, ctx: &Ctx) -> anyhow::Result<(Outcome, Files)> {
    request::check_profile(&req.profile)?;
    let files = Files::read(ctx)?;
    let (outcome, reread) = session_from(req, ctx, &files)?;
    Ok((outcome, reread.unwrap_or(files)))
}

/// Like [`session`], from files already read: many requests answered from one read of the
/// files cost each its own profile, not the whole files again. Returns the files as re-read
/// after waiting for another process, if it waited.
fn session_from(
    req: &SessionRequest,
    ctx: &Ctx,
    files: &Files,
) -> anyhow::Result<(Outcome, Option<Files>)> {
    request::check_profile(&req.profile)?;
    let now = Utc::now();
    let kind = profile::resolve(files, &req.profile, &ctx.long_term_suffix);
    let window = req.window_for(profile::lifetime(
        files,
        &req.profile,
        &kind,
        req.duration.as_ref(),
    ));
    let before = stored(&kind, req, ctx, files)?;
    if let Some(s) = &before
        && !req.force
        && !s.needs_renewal(now, window)
    {
        if req.write_profile.is_some() {
            provider_for(kind, req, ctx, files)?.keep(ctx, files, s)?;
        }
        let outcome = Outcome::StillValid {
            profile: req.profile.clone(),
            session: s.clone(),
        };
        return Ok((outcome, None));
    }
    if req.mode == Mode::Never {
        let why = match kind {
            Kind::Role(_) => "--no-login forbids assuming the role",
            _ => "--no-login forbids logging in",
        };
        return Err(NoSession {
            profile: req.profile.clone(),
            state: state_text(&kind, req, files, before.as_ref(), now),
            why: why.into(),
        }
        .into());
    }
    let mut provider = provider_for(kind.clone(), req, ctx, files)?;
    provider.preflight(ctx, files)?;
    let mut code = choose_code(
        provider.as_ref(),
        req,
        ctx,
        &kind,
        files,
        before.as_ref(),
        now,
    )?;
    let (mut flight, reread) = take_flight(
        ctx,
        &provider.flight_key(),
        &req.profile,
        provider.keeps_nothing_in_the_cache(),
    )?;
    if let Some(files) = &reread {
        let kind = profile::resolve(files, &req.profile, &ctx.long_term_suffix);
        let after = stored(&kind, req, ctx, files)?;
        if let Some(s) = renewed_meanwhile(after, window)
            && (!req.force || Some(&s) != before.as_ref())
        {
            if req.write_profile.is_some() {
                provider_for(kind, req, ctx, files)?.keep(ctx, files, &s)?;
            }
            let outcome = Outcome::Shared {
                profile: req.profile.clone(),
                session: s,
                from: "to it".into(),
            };
            return Ok((outcome, reread));
        }
        provider = provider_for(kind.clone(), req, ctx, files)?;
        if let Some(outcome) = provider.adopt(ctx, files, &flight.recorded())? {
            return Ok((outcome, reread));
        }
        code = choose_code(
            provider.as_ref(),
            req,
            ctx,
            &kind,
            files,
            before.as_ref(),
            now,
        )?;
    }
    let outcome = provider.renew(ctx, reread.as_ref().unwrap_or(files), code)?;
    flight.record(&[outcome.profile()]);
    Ok((outcome, reread))
}

/// The code source of this login, chosen once; an error when one is needed and nobody can
/// give it.
fn choose_code<'a>(
    provider: &dyn Provider,
    req: &SessionRequest,
    ctx: &Ctx,
    kind: &Kind,
    files: &Files,
    cached: Option<&Session>,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<CodeSource<'a>>> {
    let Needs::Code(configured) = provider.needs() else {
        return Ok(None);
    };
    let person_allowed = matches!(req.mode, Mode::Always | Mode::IfPossible | Mode::Background);
    let prompt = if person_allowed && req.code.is_none() && configured.is_none() {
        Some(prompt_config(req, ctx, kind, files)?)
    } else {
        None
    };
    let desktop = Desktop::from_env(&ctx.env);
    let person = prompt.as_ref().map(|p| (p, &desktop));
    let chosen = CodeSource::choose(req.code.clone(), configured, person)?;
    if chosen.is_none() {
        // A user whose devices STS can never take is told so, not to find a terminal.
        provider.unusable_devices()?;
    }
    match chosen {
        Some(c) => Ok(Some(c)),
        None if req.mode == Mode::Always => Err(MfaError::NoSource.into()),
        None => {
            let why = match (req.mode, kind) {
                (Mode::Unattended, _) => {
                    format!("it has {}", no_unattended_source(ctx, &req.profile))
                }
                (_, Kind::Role(r)) => format!(
                    "no MFA code source and no terminal or dialog: run `mfa-session login \
                     --profile {}` or `mfa-session login --profile {}` first (docs/gui.md: \
                     dialogs and YubiKeys)",
                    r.name,
                    r.source_profile.as_deref().unwrap_or("SOURCE")
                ),
                _ => format!(
                    "there is no terminal or dialog to ask for an MFA code: run `mfa-session \
                     login --profile {}` first (docs/gui.md: dialogs and YubiKeys)",
                    req.profile
                ),
            };
            Err(NoSession {
                profile: req.profile.clone(),
                state: state_text(kind, req, files, cached, now),
                why,
            }
            .into())
        }
    }
}

/// Who asks a person for the code: `--prompt`, else `MFA_SESSION_PROMPT`, else `mfa_prompt`;
/// and `mfa_ykman_account`. The keys are read from `[profile P]` of the config file, then
/// `[P-long-term]`; for a role profile from the role's `[profile R]`, then its source
/// profile's.
pub fn prompt_config(
    req: &SessionRequest,
    ctx: &Ctx,
    kind: &Kind,
    files: &Files,
) -> Result<PromptConfig, MfaError> {
    let mut places = Vec::new();
    let mut add_profile = |name: &str| {
        places.push((
            files.config.profile(name).unwrap_or_default(),
            format!("[profile {name}] of the config file"),
        ));
        let long_term = ctx.long_term(name);
        places.push((
            files.credentials.profile(&long_term).unwrap_or_default(),
            format!("[{long_term}]"),
        ));
    };
    match kind {
        Kind::Role(r) => {
            add_profile(&r.name);
            if let Some(source) = &r.source_profile {
                add_profile(source);
            }
        }
        _ => add_profile(&req.profile),
    }
    let find = |key: &str| {
        places.iter().find_map(|(props, origin)| {
            props
                .get(key)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (v.clone(), origin.clone()))
        })
    };
    let kind = match (req.prompt, &ctx.env.prompt, find("mfa_prompt")) {
        (Some(k), _, _) => Some((k, "--prompt".to_string())),
        (None, Some(v), _) => {
            let origin = "MFA_SESSION_PROMPT".to_string();
            Some((PromptKind::parse(v, &origin)?, origin))
        }
        (None, None, Some((v, place))) => {
            let origin = format!("mfa_prompt in {place}");
            Some((PromptKind::parse(&v, &origin)?, origin))
        }
        (None, None, None) => None,
    };
    Ok(PromptConfig {
        kind,
        ykman_account: find("mfa_ykman_account").map(|(v, _)| v),
    })
}

/// What a profile lacks for unattended renewal, and how to give it that.
pub fn no_unattended_source(ctx: &Ctx, profile: &str) -> String {
    format!(
        "no non-interactive MFA code source: set mfa_process (a command printing the code) or \
         mfa_totp_secret_file in [{}] or in [profile {profile}] of the config file, or pass \
         --mfa-process; see docs/unattended.md",
        ctx.long_term(profile)
    )
}

/// The long-term access key of `[P-long-term]`, if any.
fn long_term_key_id(files: &Files, ctx: &Ctx, profile: &str) -> Option<String> {
    let lt = files
        .credentials
        .profile(&ctx.long_term(profile))
        .unwrap_or_default();
    session::key_pair(&lt).map(|(id, _)| id)
}

/// Copies `session` into `[profile]` (used when adopting a sibling's session).
fn write_copy(files: &Files, ctx: &Ctx, profile: &str, s: &Session) -> anyhow::Result<()> {
    files
        .credentials_file()
        .update(|doc| store::put_session(doc, profile, &ctx.long_term_suffix, s))?;
    Ok(())
}
