//! `mfa-session login`: long-term keys + an MFA code → STS session credentials in `[P]`.
//!
//! Three steps, kept apart so each can be tested and so the lock is never held across a prompt
//! or a network call:
//! 1. [`plan`]: read both files (no lock) and decide everything that needs no network — whether
//!    the current session is still good, the keys, serial, duration, region and endpoints.
//! 2. [`obtain`]: talk to AWS through [`MfaApi`] (find the device if needed, ask for the code,
//!    call GetSessionToken, re-prompt on a rejected code).
//! 3. Write: one locked re-read + edit + atomic write of the credentials file.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::aws::{self, AwsError, ClientSettings, LongTermKeys, MfaApi, SdkApi};
use crate::cli::LoginArgs;
use crate::cmd::Ctx;
use crate::mfa::source::Source;
use crate::mfa::{self, MfaError, Terminal};
use crate::session::{self, Holding, Secret, Session};
use crate::store::{self, Document, FileKind, SharedFile, StoreError};

/// Problems with the user's setup, found before any network call.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "cannot locate the AWS files: HOME is not set and AWS_SHARED_CREDENTIALS_FILE is not given"
    )]
    NoHome,
    #[error(
        "[{profile}] in {path} holds long-term access keys and there is no [{long_term}]. \
         mfa-session keeps long-term keys in [{long_term}] and writes sessions to [{profile}]: \
         run `mfa-session setup --profile {profile}` (or rename the header [{profile}] to \
         [{long_term}] in that file), then `mfa-session login --profile {profile}`"
    )]
    StaticKeysInProfile {
        profile: String,
        long_term: String,
        path: PathBuf,
    },
    #[error(
        "no long-term keys for profile {profile}: [{long_term}] in {path} needs \
         aws_access_key_id and aws_secret_access_key (your IAM user's access key)"
    )]
    NoLongTermKeys {
        profile: String,
        long_term: String,
        path: PathBuf,
    },
    #[error("--duration {0}")]
    BadDuration(String),
    #[error("duration_seconds in [profile {profile}] of {path}: {why}")]
    BadConfigDuration {
        profile: String,
        path: PathBuf,
        why: String,
    },
    #[error(
        "no MFA device is enabled for {who}. Enable one first (IAM console → Security \
         credentials → Assign MFA device, or `aws iam create-virtual-mfa-device` and \
         `aws iam enable-mfa-device`), then log in again"
    )]
    NoMfaDevice { who: String },
}

/// Everything `login` decided from the files and flags.
#[derive(Debug)]
pub struct Plan {
    pub profile: String,
    pub long_term: String,
    pub credentials_path: PathBuf,
    pub keys: LongTermKeys,
    /// Known before any call (flag or file); `None` means: discover it.
    pub serial: Option<String>,
    /// A non-interactive code source, if one is configured.
    pub source: Option<Source>,
    pub duration: u32,
    pub settings: ClientSettings,
}

/// What to do, decided without the network.
#[derive(Debug)]
pub enum Decision {
    /// The session in `[P]` has more than the refresh window left.
    StillValid(Session),
    Login(Box<Plan>),
}

/// Reads the files and decides. `now` is passed in so the decision is testable.
pub fn plan(
    args: &LoginArgs,
    ctx: &Ctx,
    config: &Document,
    credentials: &Document,
    credentials_path: PathBuf,
    now: DateTime<Utc>,
) -> Result<Decision, SetupError> {
    let profile = ctx.env.profile(args.profile.as_deref());
    let long_term = format!("{profile}{}", ctx.long_term_suffix);
    let session_props = credentials.profile(&profile).unwrap_or_default();
    let holding = Holding::of(&session_props);
    if let Holding::Session(Some(s)) = &holding
        && !args.force
        && !s.needs_renewal(now, session::window(args.refresh_window))
    {
        return Ok(Decision::StillValid(s.clone()));
    }
    let lt = credentials.profile(&long_term).unwrap_or_default();
    let Some((id, secret)) = session::key_pair(&lt) else {
        return Err(if holding == Holding::LongTermKeys && lt.is_empty() {
            SetupError::StaticKeysInProfile {
                profile,
                long_term,
                path: credentials_path,
            }
        } else {
            SetupError::NoLongTermKeys {
                profile,
                long_term,
                path: credentials_path,
            }
        });
    };
    let cfg = config.profile(&profile).unwrap_or_default();
    let serial = args
        .serial
        .clone()
        .filter(|s| !s.is_empty())
        .or_else(|| session::configured_serial(&cfg, &lt));
    let source = code_source(args, ctx, &profile, &long_term, &cfg, &lt);
    let duration = match (&args.duration, cfg.get("duration_seconds")) {
        (Some(d), _) => session::session_duration(d).map_err(SetupError::BadDuration)?,
        (None, Some(d)) => {
            session::session_duration(d).map_err(|why| SetupError::BadConfigDuration {
                profile: profile.clone(),
                path: ctx.config_path.clone().unwrap_or_default(),
                why,
            })?
        }
        (None, None) => session::DEFAULT_DURATION,
    };
    Ok(Decision::Login(Box::new(Plan {
        settings: client_settings(args.region.as_deref(), args.timeout, ctx, &cfg),
        profile,
        long_term,
        credentials_path,
        keys: LongTermKeys {
            access_key_id: id,
            secret_access_key: Secret::new(secret),
        },
        serial,
        source,
        duration,
    })))
}

/// Region: the flag, `AWS_REGION`/`AWS_DEFAULT_REGION`, the profile's `region`, else
/// `us-east-1`. Endpoints: `AWS_ENDPOINT_URL_STS`/`_IAM`, `AWS_ENDPOINT_URL`, the profile's
/// `endpoint_url` — the AWS CLI's order.
pub fn client_settings(
    region: Option<&str>,
    timeout: Duration,
    ctx: &Ctx,
    cfg: &BTreeMap<String, String>,
) -> ClientSettings {
    let endpoint = |specific: &Option<String>| {
        specific
            .clone()
            .or_else(|| ctx.env.endpoint_url.clone())
            .or_else(|| cfg.get("endpoint_url").cloned())
    };
    ClientSettings {
        region: region
            .map(str::to_string)
            .or_else(|| ctx.env.region.clone())
            .or_else(|| cfg.get("region").cloned())
            .unwrap_or_else(|| "us-east-1".to_string()),
        sts_endpoint: endpoint(&ctx.env.endpoint_url_sts),
        iam_endpoint: endpoint(&ctx.env.endpoint_url_iam),
        attempt_timeout: timeout,
        max_attempts: aws::ATTEMPTS,
    }
}

/// The caller's MFA devices, and who the caller is (for messages). Some endpoints cannot
/// resolve the caller from the signing key alone: then the user is named through
/// GetCallerIdentity.
pub async fn list_devices<A: MfaApi>(api: &A) -> Result<(Vec<String>, String), AwsError> {
    match api.list_mfa_devices(None).await {
        Ok(d) => Ok((d, "this user".to_string())),
        Err(AwsError::Other { code, .. })
            if code == "NoSuchEntity" || code == "ValidationError" =>
        {
            let arn = api.caller_arn().await?;
            match aws::user_name_from_arn(&arn) {
                Some(user) => Ok((
                    api.list_mfa_devices(Some(user)).await?,
                    format!("IAM user {user}"),
                )),
                None => Ok((Vec::new(), arn)),
            }
        }
        Err(e) => Err(e),
    }
}

/// `--mfa-process`, else `mfa_process`, else `mfa_totp_secret_file`, each from `[profile P]` of
/// the config file first, then from `[P-long-term]`.
pub fn code_source(
    args: &LoginArgs,
    ctx: &Ctx,
    profile: &str,
    long_term: &str,
    cfg: &BTreeMap<String, String>,
    lt: &BTreeMap<String, String>,
) -> Option<Source> {
    if let Some(command) = &args.mfa_process {
        return Some(Source::Process {
            command: command.clone(),
            origin: "--mfa-process".into(),
        });
    }
    let places = [
        (cfg, format!("[profile {profile}] of the config file")),
        (lt, format!("[{long_term}]")),
    ];
    for (props, origin) in &places {
        if let Some(command) = props.get("mfa_process").filter(|c| !c.is_empty()) {
            return Some(Source::Process {
                command: command.clone(),
                origin: origin.clone(),
            });
        }
    }
    for (props, origin) in &places {
        if let Some(path) = props.get("mfa_totp_secret_file").filter(|c| !c.is_empty()) {
            let path = match (path.strip_prefix("~/"), &ctx.env.home) {
                (Some(rest), Some(home)) => home.join(rest),
                _ => PathBuf::from(path),
            };
            return Some(Source::TotpFile {
                path,
                origin: origin.clone(),
            });
        }
    }
    None
}

/// The result of talking to AWS.
#[derive(Debug)]
pub struct Obtained {
    pub session: Session,
    pub serial: String,
    /// The serial was found through ListMFADevices and should be remembered.
    pub discovered: bool,
}

/// Finds the device if needed, gets a code and calls GetSessionToken (see [`with_code`]).
pub async fn obtain<A: MfaApi, R: BufRead, W: Write>(
    api: &A,
    plan: &Plan,
    given: Option<Secret>,
    mut tty: Option<&mut Terminal<R, W>>,
) -> anyhow::Result<Obtained> {
    if given.is_none() && plan.source.is_none() && tty.is_none() {
        // Nobody to ask: fail before spending any call.
        return Err(MfaError::NoSource.into());
    }
    let (serial, discovered) = match &plan.serial {
        Some(s) => (s.clone(), false),
        None => (discover_serial(api, plan, tty.as_deref_mut()).await?, true),
    };
    let duration = plan.duration;
    let serial_ref = serial.as_str();
    let session = with_code(
        serial_ref,
        &plan.profile,
        given,
        plan.source.as_ref(),
        tty,
        |code| async move {
            tracing::info!(serial = %serial_ref, duration, "calling GetSessionToken");
            api.get_session_token(serial_ref, &code, duration).await
        },
    )
    .await?;
    Ok(Obtained {
        session,
        serial,
        discovered,
    })
}

/// Gets a code — given, from the configured source, or from the person at the terminal, first
/// that applies — and makes `call` with it. A person is asked again after a rejected code, up to
/// three times; a configured source is asked once more in the next 30-second window, because AWS
/// accepts a device's code only once per window and another login may have used this one.
pub async fn with_code<T, R, W, F, Fut>(
    serial: &str,
    profile: &str,
    given: Option<Secret>,
    source: Option<&Source>,
    mut tty: Option<&mut Terminal<R, W>>,
    mut call: F,
) -> anyhow::Result<T>
where
    R: BufRead,
    W: Write,
    F: FnMut(Secret) -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let from_source = |source: &Source| -> anyhow::Result<Secret> {
        tracing::info!("getting the MFA code from {}", source.describe());
        Ok(source.code(serial, profile, unix_now())?)
    };
    let person = given.is_none() && source.is_none();
    let mut code = match (given, source) {
        (Some(c), _) => c,
        (None, Some(s)) => from_source(s)?,
        (None, None) => tty
            .as_deref_mut()
            .ok_or(MfaError::NoSource)?
            .read_code(serial, false)?,
    };
    let mut attempt = 1;
    loop {
        match call(code).await {
            Err(AwsError::InvalidCode) if person && attempt < 3 => {
                attempt += 1;
                code = tty
                    .as_deref_mut()
                    .expect("a person answered")
                    .read_code(serial, true)?;
            }
            Err(AwsError::InvalidCode) if source.is_some() && attempt < 2 => {
                attempt += 1;
                let wait = next_window_in(unix_now_precise());
                tracing::warn!(
                    "AWS rejected the code (already used in this 30-second window?); trying \
                     again with the next code in {} s",
                    wait.as_secs()
                );
                tokio::time::sleep(wait).await;
                code = from_source(source.expect("checked"))?;
            }
            other => return other.map_err(anyhow::Error::from),
        }
    }
}

fn unix_now() -> u64 {
    unix_now_precise().as_secs()
}

fn unix_now_precise() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// How long until the next 30-second TOTP step starts (plus a second of margin).
fn next_window_in(now: Duration) -> Duration {
    let into = now.as_millis() % 30_000;
    Duration::from_millis((30_000 - into) as u64 + 1_000)
}

async fn discover_serial<A: MfaApi, R: BufRead, W: Write>(
    api: &A,
    plan: &Plan,
    tty: Option<&mut Terminal<R, W>>,
) -> anyhow::Result<String> {
    let hint = || {
        format!(
            "cannot list your MFA devices; pass --serial arn:aws:iam::ACCOUNT:mfa/NAME or set \
             mfa_serial in [{}]",
            plan.long_term
        )
    };
    let (devices, who) = list_devices(api).await.with_context(hint)?;
    match devices.len() {
        0 => Err(SetupError::NoMfaDevice { who }.into()),
        1 => Ok(devices.into_iter().next().expect("one")),
        count => match tty {
            Some(t) => Ok(t.choose(&devices)?),
            None => Err(MfaError::MustChoose {
                count,
                section: plan.long_term.clone(),
                devices: devices.join(", "),
            }
            .into()),
        },
    }
}

/// Writes the session (and a newly found serial) in one locked update.
pub fn write(
    file: &SharedFile,
    plan: &Plan,
    got: &Obtained,
    suffix: &str,
) -> Result<(), StoreError> {
    file.update(|doc| {
        if got.discovered {
            doc.set(&plan.long_term, "mfa_serial", &got.serial)?;
        }
        store::put_session(doc, &plan.profile, suffix, &got.session)
    })
}

/// How [`ensure`] ended.
#[derive(Debug)]
pub enum Outcome {
    /// `[P]` already had a session with more than the refresh window left: no call was made.
    StillValid { profile: String, session: Session },
    /// A new session was obtained and written.
    Renewed { plan: Box<Plan>, got: Obtained },
    /// A role profile's session was assumed (and cached).
    RoleAssumed {
        profile: String,
        session: Session,
        via: String,
    },
}

impl Outcome {
    pub fn profile(&self) -> &str {
        match self {
            Outcome::StillValid { profile, .. } | Outcome::RoleAssumed { profile, .. } => profile,
            Outcome::Renewed { plan, .. } => &plan.profile,
        }
    }

    pub fn session(&self) -> &Session {
        match self {
            Outcome::StillValid { session, .. } | Outcome::RoleAssumed { session, .. } => session,
            Outcome::Renewed { got, .. } => &got.session,
        }
    }
}

/// Why a command that needs a session has none to give, without being allowed to log in.
#[derive(Debug, thiserror::Error)]
#[error("[{profile}] has no valid session ({state}) and {why}")]
pub struct NoSession {
    pub profile: String,
    pub state: String,
    pub why: String,
}

/// The files as read for a profile: the credentials document and the profile's config.
pub struct Files {
    pub credentials_path: PathBuf,
    pub credentials: Document,
    pub config: Document,
}

impl Files {
    pub fn read(ctx: &Ctx) -> anyhow::Result<Files> {
        let credentials_path = ctx.credentials_path.clone().ok_or(SetupError::NoHome)?;
        let credentials = SharedFile::new(&credentials_path, FileKind::Credentials).read()?;
        let config = match &ctx.config_path {
            Some(p) => SharedFile::new(p, FileKind::Config).read()?,
            None => Document::empty(FileKind::Config),
        };
        Ok(Files {
            credentials_path,
            credentials,
            config,
        })
    }

    /// The region configured for a profile, if any.
    pub fn region(&self, profile: &str) -> Option<String> {
        self.config.get(profile, "region").filter(|r| !r.is_empty())
    }
}

/// When [`ensure`] may log in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginMode {
    /// `login` itself: always; with no code source that is an [`MfaError::NoSource`].
    Always,
    /// `export` and friends: when a code source exists, else a [`NoSession`].
    IfPossible,
    /// `--no-login`: never; no network at all.
    Never,
    /// `refresh`: only from `--code` or a configured source, never from the terminal.
    Unattended,
}

/// Makes sure `[P]` holds a session valid beyond the refresh window: keeps a good one (no
/// network, no runtime), else logs in as `mode` allows.
pub fn ensure(
    args: &LoginArgs,
    ctx: &Ctx,
    files: &Files,
    mode: LoginMode,
) -> anyhow::Result<Outcome> {
    let now = Utc::now();
    let given = args.code.as_deref().map(mfa::validate_code).transpose()?;
    let decision = plan(
        args,
        ctx,
        &files.config,
        &files.credentials,
        files.credentials_path.clone(),
        now,
    );
    let plan = match (decision, mode) {
        (Ok(Decision::StillValid(session)), _) => {
            return Ok(Outcome::StillValid {
                profile: ctx.env.profile(args.profile.as_deref()),
                session,
            });
        }
        (_, LoginMode::Never) => {
            return Err(no_session(args, ctx, files, now, "--no-login forbids logging in").into());
        }
        (Ok(Decision::Login(p)), _) => p,
        (Err(e), _) => return Err(e.into()),
    };
    // A configured source is used before the terminal, as for `login`.
    let mut tty = if given.is_some() || plan.source.is_some() || mode == LoginMode::Unattended {
        None
    } else {
        Terminal::open()
    };
    if given.is_none() && plan.source.is_none() && tty.is_none() && mode != LoginMode::Always {
        let profile = &plan.profile;
        return Err(no_session(
            args,
            ctx,
            files,
            now,
            &format!(
                "there is no terminal to ask for an MFA code: run `mfa-session login --profile {profile}` first"
            ),
        )
        .into());
    }
    let api = SdkApi::try_new(&plan.keys, &plan.settings)?;
    SharedFile::new(&plan.credentials_path, FileKind::Credentials).preflight()?;
    let runtime = aws::runtime()?;
    let got = runtime.block_on(obtain(&api, &plan, given, tty.as_mut()))?;
    write(
        &SharedFile::new(&plan.credentials_path, FileKind::Credentials),
        &plan,
        &got,
        &ctx.long_term_suffix,
    )?;
    if plan.duration > session::ROOT_MAX_DURATION
        && got.session.remaining(Utc::now())
            <= chrono::Duration::seconds(session::ROOT_MAX_DURATION as i64 + 60)
    {
        tracing::warn!(
            "AWS shortened this session to at most 1 hour: sessions of the root user are capped \
             at 3600 s; use an IAM user for longer sessions"
        );
    }
    Ok(Outcome::Renewed { plan, got })
}

fn no_session(
    args: &LoginArgs,
    ctx: &Ctx,
    files: &Files,
    now: DateTime<Utc>,
    why: &str,
) -> NoSession {
    let profile = ctx.env.profile(args.profile.as_deref());
    let props = files.credentials.profile(&profile).unwrap_or_default();
    let state = match Holding::of(&props) {
        Holding::Session(Some(s)) => s.time_left_text(now),
        Holding::Session(None) => "its session keys are incomplete".to_string(),
        Holding::LongTermKeys => "it holds long-term keys, not a session".to_string(),
        Holding::Empty => "none was written yet".to_string(),
    };
    NoSession {
        profile,
        state,
        why: why.to_string(),
    }
}

/// Tells the person what [`ensure`] did.
pub fn report(ctx: &Ctx, outcome: &Outcome) {
    let now = Utc::now();
    match outcome {
        Outcome::StillValid { profile, session } => ctx.say(&format!(
            "[{profile}] session still valid until {} ({} left); nothing to do (--force renews)",
            session::local_time(session.expiration),
            session::human_duration(session.remaining(now)),
        )),
        Outcome::Renewed { plan, got } => ctx.say(&format!(
            "[{}] logged in with {}: session valid until {} ({}), written to {}",
            plan.profile,
            got.serial,
            session::local_time(got.session.expiration),
            session::human_duration(got.session.remaining(now)),
            plan.credentials_path.display()
        )),
        Outcome::RoleAssumed {
            profile,
            session,
            via,
        } => ctx.say(&format!(
            "[{profile}] role assumed with {via}: valid until {} ({})",
            session::local_time(session.expiration),
            session::human_duration(session.remaining(now)),
        )),
    }
}

pub fn run(args: &LoginArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let files = Files::read(ctx)?;
    let profile = ctx.env.profile(args.profile.as_deref());
    let outcome = match crate::cmd::role::role_profile(&files.config, &profile) {
        Some(role) => crate::cmd::role::ensure(
            &role,
            args,
            ctx,
            &files,
            LoginMode::Always,
            args.write_profile.as_deref(),
        )?,
        None if args.write_profile.is_some() => {
            anyhow::bail!(
                "--write-profile is for role profiles; [profile {profile}] has no role_arn"
            )
        }
        None => ensure(args, ctx, &files, LoginMode::Always)?,
    };
    report(ctx, &outcome);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A scripted AWS: replies to GetSessionToken in order, and a fixed device list.
    struct FakeApi {
        replies: RefCell<Vec<Result<Session, AwsError>>>,
        devices: Vec<String>,
        calls: RefCell<Vec<String>>,
    }

    fn session() -> Session {
        Session {
            access_key_id: "ASIA".into(),
            secret_access_key: Secret::new("s"),
            session_token: Secret::new("t"),
            expiration: Utc::now() + chrono::Duration::hours(12),
        }
    }

    impl MfaApi for FakeApi {
        async fn get_session_token(
            &self,
            serial: &str,
            code: &Secret,
            _: u32,
        ) -> Result<Session, AwsError> {
            self.calls
                .borrow_mut()
                .push(format!("GetSessionToken {serial} {}", code.expose()));
            self.replies.borrow_mut().remove(0)
        }
        async fn list_mfa_devices(&self, _: Option<&str>) -> Result<Vec<String>, AwsError> {
            self.calls.borrow_mut().push("ListMFADevices".into());
            Ok(self.devices.clone())
        }
        async fn caller_arn(&self) -> Result<String, AwsError> {
            unreachable!()
        }
        async fn assume_role(&self, _: &crate::aws::AssumeRole) -> Result<Session, AwsError> {
            unreachable!()
        }
    }

    fn plan(serial: Option<&str>) -> Plan {
        Plan {
            profile: "p".into(),
            long_term: "p-long-term".into(),
            credentials_path: "/x".into(),
            keys: LongTermKeys {
                access_key_id: "AKIA".into(),
                secret_access_key: Secret::new("s"),
            },
            serial: serial.map(str::to_string),
            source: None,
            duration: 3600,
            settings: ClientSettings {
                region: "us-east-1".into(),
                sts_endpoint: None,
                iam_endpoint: None,
                attempt_timeout: Duration::from_secs(1),
                max_attempts: 1,
            },
        }
    }

    fn block<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_rejected_code_is_asked_again_up_to_three_times() {
        let api = FakeApi {
            replies: RefCell::new(vec![
                Err(AwsError::InvalidCode),
                Err(AwsError::InvalidCode),
                Ok(session()),
            ]),
            devices: vec![],
            calls: RefCell::default(),
        };
        let mut out = Vec::new();
        let mut tty = Terminal::new(&b"111111\n222222\n333333\n"[..], &mut out);
        let got = block(obtain(&api, &plan(Some("arn:d")), None, Some(&mut tty))).unwrap();
        assert_eq!(got.serial, "arn:d");
        assert!(!got.discovered);
        assert_eq!(
            *api.calls.borrow(),
            [
                "GetSessionToken arn:d 111111",
                "GetSessionToken arn:d 222222",
                "GetSessionToken arn:d 333333"
            ]
        );
        let shown = String::from_utf8(out).unwrap();
        assert_eq!(shown.matches("AWS rejected that code").count(), 2);

        // A fourth rejection is not asked again.
        let api = FakeApi {
            replies: RefCell::new(vec![
                Err(AwsError::InvalidCode),
                Err(AwsError::InvalidCode),
                Err(AwsError::InvalidCode),
            ]),
            devices: vec![],
            calls: RefCell::default(),
        };
        let mut tty = Terminal::new(&b"111111\n222222\n333333\n444444\n"[..], Vec::new());
        let err = block(obtain(&api, &plan(Some("arn:d")), None, Some(&mut tty))).unwrap_err();
        assert!(matches!(
            err.downcast_ref::<AwsError>(),
            Some(AwsError::InvalidCode)
        ));
        assert_eq!(api.calls.borrow().len(), 3);
    }

    #[test]
    fn a_given_code_is_not_retried() {
        let api = FakeApi {
            replies: RefCell::new(vec![Err(AwsError::InvalidCode), Ok(session())]),
            devices: vec![],
            calls: RefCell::default(),
        };
        let mut tty = Terminal::new(&b"222222\n"[..], Vec::new());
        let err = block(obtain(
            &api,
            &plan(Some("arn:d")),
            Some(Secret::new("111111")),
            Some(&mut tty),
        ));
        assert!(err.is_err());
        assert_eq!(api.calls.borrow().len(), 1);
    }

    #[test]
    fn several_devices_are_chosen_at_the_terminal() {
        let api = FakeApi {
            replies: RefCell::new(vec![Ok(session())]),
            devices: vec!["arn:a".into(), "arn:b".into()],
            calls: RefCell::default(),
        };
        let mut tty = Terminal::new(&b"2\n123456\n"[..], Vec::new());
        let got = block(obtain(&api, &plan(None), None, Some(&mut tty))).unwrap();
        assert_eq!(got.serial, "arn:b");
        assert!(got.discovered);
        assert_eq!(
            *api.calls.borrow(),
            ["ListMFADevices", "GetSessionToken arn:b 123456"]
        );
    }

    #[test]
    fn next_window() {
        assert_eq!(
            next_window_in(Duration::from_millis(60_000)),
            Duration::from_millis(31_000)
        );
        assert_eq!(
            next_window_in(Duration::from_millis(89_500)),
            Duration::from_millis(1_500)
        );
    }

    #[test]
    fn a_source_code_rejected_as_used_is_retried_in_the_next_window() {
        let api = FakeApi {
            replies: RefCell::new(vec![Err(AwsError::InvalidCode), Ok(session())]),
            devices: vec![],
            calls: RefCell::default(),
        };
        let mut p = plan(Some("arn:d"));
        p.source = Some(Source::Process {
            command: "echo 123456".into(),
            origin: "test".into(),
        });
        let start = std::time::Instant::now();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let got = rt
            .block_on(obtain::<_, &[u8], Vec<u8>>(&api, &p, None, None))
            .unwrap();
        assert_eq!(got.serial, "arn:d");
        assert_eq!(api.calls.borrow().len(), 2);
        // The wait is virtual (paused clock): the test does not take 30 s.
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn no_device_says_how_to_enable_one() {
        let api = FakeApi {
            replies: RefCell::new(vec![]),
            devices: vec![],
            calls: RefCell::default(),
        };
        let err = block(obtain::<_, &[u8], Vec<u8>>(
            &api,
            &plan(None),
            Some(Secret::new("123456")),
            None,
        ))
        .unwrap_err();
        assert!(err.to_string().contains("enable-mfa-device"), "{err}");
    }
}
