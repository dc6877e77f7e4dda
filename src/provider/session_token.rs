//! The GetSessionToken provider: long-term keys of `[P-long-term]` + an MFA code → an MFA
//! session in `[P]`.
//!
//! Three steps, kept apart so each can be tested and so the file lock is never held across a
//! prompt or a network call:
//! 1. [`plan`]: decide from the files everything that needs no network — the keys, serial,
//!    duration, region, endpoints and configured code source.
//! 2. [`obtain`]: talk to AWS through [`MfaApi`] (find the device if needed, get the code, call
//!    GetSessionToken, ask again after a rejected code).
//! 3. [`write`]: one locked re-read + edit + atomic write of the credentials file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::aws::{self, AwsError, ClientSettings, LongTermKeys, MfaApi, SdkApi};
use crate::ctx::Ctx;
use crate::error::SetupError;
use crate::mfa::prompt::CodeFor;
use crate::mfa::source::Source;
use crate::mfa::{CodeSource, MfaError, next_window_in};
use crate::provider::profile::Files;
use crate::provider::request::{DurationText, SESSION_BOUNDS, SessionRequest};
use crate::provider::{Needs, Outcome, Provider, flight};
use crate::session::{self, Holding, Secret, Session};
use crate::store::{self, SharedFile, StoreError};

/// Everything a GetSessionToken login needs, decided from the files and the request.
#[derive(Debug)]
pub struct Plan {
    pub profile: String,
    pub long_term: String,
    pub credentials_path: PathBuf,
    pub keys: LongTermKeys,
    /// Known before any call (flag or file), and where it was given; `None` means: discover
    /// it.
    pub serial: Option<(String, String)>,
    /// A non-interactive code source, if one is configured.
    pub source: Option<Source>,
    pub duration: u32,
    pub settings: ClientSettings,
}

/// Reads what `req.profile` needs from the files. Fails, before any network call, when the
/// profile is not set up or its duration is out of bounds.
pub fn plan(req: &SessionRequest, ctx: &Ctx, files: &Files) -> anyhow::Result<Plan> {
    let profile = req.profile.clone();
    let long_term = ctx.long_term(&profile);
    let session_props = files.credentials.profile(&profile).unwrap_or_default();
    let lt = files.credentials.profile(&long_term).unwrap_or_default();
    let Some((id, secret)) = crate::secrets::long_term_keys(&lt)? else {
        let path = files.credentials_path.clone();
        return Err(
            if Holding::of(&session_props) == Holding::LongTermKeys && lt.is_empty() {
                SetupError::StaticKeysInProfile {
                    profile,
                    long_term,
                    path,
                }
            } else {
                SetupError::NoLongTermKeys {
                    profile,
                    long_term,
                    path,
                }
            }
            .into(),
        );
    };
    // Sessions go to [P]: long-term keys there would refuse the write after the code was spent.
    if Holding::of(&session_props) == Holding::LongTermKeys {
        let (key, same) = match session::key_pair(&session_props) {
            Some((key, s)) => (key.clone(), key == id && s == secret.expose()),
            None => (String::new(), false),
        };
        return Err(SetupError::KeysInSessionSection {
            profile,
            long_term,
            key,
            same,
        }
        .into());
    }
    let cfg = files.config.profile(&profile).unwrap_or_default();
    let serial = req
        .serial
        .clone()
        .filter(|s| !s.is_empty())
        .map(|s| (s, "--serial".to_string()))
        .or_else(|| serial_in_files(&cfg, &lt, &profile, &long_term));
    let source = configured_source(req, ctx, &profile, &long_term, &cfg, &lt);
    let duration = match duration_text(req, &cfg, &profile, ctx) {
        Some(d) => d.seconds(SESSION_BOUNDS)?,
        None => session::DEFAULT_DURATION,
    };
    Ok(Plan {
        settings: client_settings(req.region.as_deref(), req.timeout, ctx, &cfg),
        profile,
        long_term,
        credentials_path: files.credentials_path.clone(),
        keys: LongTermKeys {
            access_key_id: id,
            secret_access_key: secret,
        },
        serial,
        source,
        duration,
    })
}

/// The serial the files name for a profile ([`session::configured_serial`]), and where.
pub fn serial_in_files(
    cfg: &BTreeMap<String, String>,
    lt: &BTreeMap<String, String>,
    profile: &str,
    long_term: &str,
) -> Option<(String, String)> {
    let serial = session::configured_serial(cfg, lt)?;
    let origin = if cfg.get("mfa_serial") == Some(&serial) {
        format!("mfa_serial in [profile {profile}] of the config file")
    } else {
        format!("mfa_serial in [{long_term}]")
    };
    Some((serial, origin))
}

impl Plan {
    /// The configured serial, if any.
    pub fn serial(&self) -> Option<&str> {
        self.serial.as_ref().map(|(s, _)| s.as_str())
    }

    /// Refuses a configured serial STS would not take (a security key or passkey), before a
    /// code is asked for or a call is made.
    pub fn check_serial(&self) -> Result<(), MfaError> {
        match &self.serial {
            Some((serial, origin)) => crate::mfa::devices::check_configured(serial, origin),
            None => Ok(()),
        }
    }
}

/// `--duration`, else `duration_seconds` of `[profile P]` in the config file.
pub fn duration_text(
    req: &SessionRequest,
    cfg: &BTreeMap<String, String>,
    profile: &str,
    ctx: &Ctx,
) -> Option<DurationText> {
    req.duration.clone().or_else(|| {
        cfg.get("duration_seconds")
            .filter(|d| !d.is_empty())
            .map(|d| DurationText {
                value: d.clone(),
                origin: format!(
                    "duration_seconds in [profile {profile}] of {}",
                    ctx.config_path.clone().unwrap_or_default().display()
                ),
            })
    })
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

/// `--mfa-process`, else `mfa_process`, else a seed in the OS keyring (`mfa_totp_secret_keyring`
/// in `[P-long-term]`), else `mfa_totp_secret_file`, each from `[profile P]` of
/// the config file first, then from `[P-long-term]`.
pub fn configured_source(
    req: &SessionRequest,
    ctx: &Ctx,
    profile: &str,
    long_term: &str,
    cfg: &BTreeMap<String, String>,
    lt: &BTreeMap<String, String>,
) -> Option<Source> {
    if let Some(command) = &req.mfa_process {
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
    if lt.contains_key(crate::secrets::SEED_KEY) {
        return Some(Source::TotpKeyring {
            profile: profile.to_string(),
            origin: format!("[{long_term}]"),
        });
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
pub async fn obtain<A: MfaApi>(
    api: &A,
    plan: &Plan,
    code: &mut CodeSource<'_>,
) -> anyhow::Result<Obtained> {
    plan.check_serial()?;
    let (serial, discovered) = match &plan.serial {
        Some((s, _)) => (s.clone(), false),
        None => (discover_serial(api, plan, code).await?, true),
    };
    let duration = plan.duration;
    let serial_ref = serial.as_str();
    let session = with_code(serial_ref, &plan.profile, code, |code| async move {
        tracing::info!(serial = %serial_ref, duration, "calling GetSessionToken");
        api.get_session_token(serial_ref, &code, duration).await
    })
    .await?;
    Ok(Obtained {
        session,
        serial,
        discovered,
    })
}

/// Gets a code from `code` and makes `call` with it. A person is asked again after a rejected
/// code, up to three times; a configured source is asked once more in the next 30-second
/// window, because AWS accepts a device's code only once per window and another login may have
/// used this one; a given code is used once.
pub async fn with_code<T, F, Fut>(
    serial: &str,
    profile: &str,
    code: &mut CodeSource<'_>,
    mut call: F,
) -> anyhow::Result<T>
where
    F: FnMut(Secret) -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let from_source = |source: &Source| -> anyhow::Result<Secret> {
        tracing::info!("getting the MFA code from {}", source.describe());
        Ok(source.code(serial, profile, unix_now())?)
    };
    let mut current = match code {
        CodeSource::Given(c) => c.clone(),
        CodeSource::Configured(s) => from_source(s)?,
        CodeSource::Person(p) => p.read_code(CodeFor { profile, serial }, false)?,
    };
    let mut attempt = 1;
    loop {
        match (call(current).await, &mut *code) {
            (Err(AwsError::InvalidCode), CodeSource::Person(p)) if attempt < 3 => {
                attempt += 1;
                current = p.read_code(CodeFor { profile, serial }, true)?;
            }
            (Err(AwsError::InvalidCode), CodeSource::Configured(s)) if attempt < 2 => {
                attempt += 1;
                let wait = next_window_in(unix_now_precise());
                tracing::warn!(
                    "AWS rejected the code (already used in this 30-second window?); trying \
                     again with the next code in {} s",
                    wait.as_secs()
                );
                tokio::time::sleep(wait).await;
                current = from_source(s)?;
            }
            (other, _) => return other.map_err(anyhow::Error::from),
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

async fn discover_serial<A: MfaApi>(
    api: &A,
    plan: &Plan,
    code: &mut CodeSource<'_>,
) -> anyhow::Result<String> {
    let hint = || {
        format!(
            "cannot list your MFA devices; pass --serial arn:aws:iam::ACCOUNT:mfa/NAME or set \
             mfa_serial in [{}]",
            plan.long_term
        )
    };
    let (devices, who) = list_devices(api).await.with_context(hint)?;
    let devices = crate::mfa::devices::usable(devices, &who)?;
    match devices.len() {
        0 => Err(SetupError::NoMfaDevice { who }.into()),
        1 => Ok(devices.into_iter().next().expect("one")),
        count => match code.person() {
            Some(p) => Ok(p.choose(&devices)?),
            None => Err(MfaError::MustChoose {
                count,
                section: plan.long_term.clone(),
                devices: devices.join(", "),
            }
            .into()),
        },
    }
}

/// How a write of a new session ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Written,
    /// Under the lock, the profile turned out to hold a session someone else wrote meanwhile,
    /// valid beyond `window`: it was kept.
    KeptNewer(Session),
}

/// Writes the session (and a newly found serial) in one locked update. With `keep_newer`, a
/// profile that someone else renewed meanwhile (valid beyond the window, other keys) is left
/// alone — `refresh` writes a device's session to several profiles and must not clobber one
/// a person just logged in.
pub fn write(
    file: &SharedFile,
    plan: &Plan,
    got: &Obtained,
    suffix: &str,
    keep_newer: Option<Duration>,
) -> Result<Written, StoreError> {
    file.update(|doc| write_into(doc, plan, got, suffix, keep_newer))
}

/// [`write`]'s edit, for callers that write several sessions in one locked update.
pub fn write_into(
    doc: &mut crate::store::Document,
    plan: &Plan,
    got: &Obtained,
    suffix: &str,
    keep_newer: Option<Duration>,
) -> Result<Written, StoreError> {
    if let Some(window) = keep_newer {
        let current = doc.profile(&plan.profile).unwrap_or_default();
        if let Holding::Session(Some(s)) = Holding::of(&current)
            && !s.needs_renewal(chrono::Utc::now(), window)
            && s.access_key_id != got.session.access_key_id
        {
            return Ok(Written::KeptNewer(s));
        }
    }
    if got.discovered {
        doc.set(&plan.long_term, "mfa_serial", &got.serial)?;
    }
    store::put_session(doc, &plan.profile, suffix, &got.session)?;
    Ok(Written::Written)
}

/// The GetSessionToken provider behind the broker's interface.
pub struct SessionTokenProvider {
    plan: Plan,
    window: Duration,
}

impl SessionTokenProvider {
    pub fn new(req: &SessionRequest, ctx: &Ctx, files: &Files) -> anyhow::Result<Self> {
        let plan = plan(req, ctx, files)?;
        Ok(SessionTokenProvider {
            window: req.window_for(plan.duration),
            plan,
        })
    }
}

impl Provider for SessionTokenProvider {
    fn profile(&self) -> &str {
        &self.plan.profile
    }

    fn flight_key(&self) -> String {
        flight::device_key(&self.plan.keys.access_key_id)
    }

    fn keeps_nothing_in_the_cache(&self) -> bool {
        true
    }

    fn stored(&self, _: &Ctx, files: &Files) -> anyhow::Result<Option<Session>> {
        Ok(files.session(&self.plan.profile))
    }

    fn needs(&self) -> Needs {
        Needs::Code(self.plan.source.clone())
    }

    fn preflight(&self, _: &Ctx, files: &Files) -> anyhow::Result<()> {
        self.plan.keys.validate()?;
        self.plan.settings.validate()?;
        self.plan.check_serial()?;
        files.credentials_file().preflight()?;
        Ok(())
    }

    fn unusable_devices(&self) -> anyhow::Result<()> {
        // Only when the device would be looked up anyway: with a configured serial (checked in
        // preflight) nothing is called and "nobody to ask" comes at once.
        if self.plan.serial.is_some() {
            return Ok(());
        }
        let api = SdkApi::try_new(&self.plan.keys, &self.plan.settings)?;
        match aws::runtime()?.block_on(list_devices(&api)) {
            Ok((devices, who)) => crate::mfa::devices::usable(devices, &who)
                .map(drop)
                .map_err(anyhow::Error::from),
            // Whatever went wrong is for the login to meet; the missing code is the news now.
            Err(e) => {
                tracing::debug!("could not list the MFA devices: {e}");
                Ok(())
            }
        }
    }

    fn renew(
        &self,
        ctx: &Ctx,
        files: &Files,
        code: Option<CodeSource<'_>>,
    ) -> anyhow::Result<Outcome> {
        let plan = &self.plan;
        let mut code = code.ok_or(MfaError::NoSource)?;
        let api = SdkApi::try_new(&plan.keys, &plan.settings)?;
        let got = aws::runtime()?.block_on(obtain(&api, plan, &mut code))?;
        write(
            &files.credentials_file(),
            plan,
            &got,
            &ctx.long_term_suffix,
            None,
        )?;
        if plan.duration > session::ROOT_MAX_DURATION
            && got.session.remaining(chrono::Utc::now())
                <= chrono::Duration::seconds(i64::from(session::ROOT_MAX_DURATION) + 60)
        {
            tracing::warn!(
                "AWS shortened this session to at most 1 hour: sessions of the root user are \
                 capped at 3600 s; use an IAM user for longer sessions"
            );
        }
        Ok(Outcome::Renewed {
            profile: plan.profile.clone(),
            session: got.session,
            serial: got.serial,
            path: plan.credentials_path.clone(),
        })
    }

    /// A profile the previous flight wrote, signed by the same long-term key (so the same IAM
    /// user and MFA devices), holding a session valid beyond our window: copy it.
    fn adopt(
        &self,
        ctx: &Ctx,
        files: &Files,
        recorded: &[String],
    ) -> anyhow::Result<Option<Outcome>> {
        let now = chrono::Utc::now();
        for other in recorded.iter().filter(|p| **p != self.plan.profile) {
            if super::long_term_key_id(files, ctx, other).as_deref()
                != Some(self.plan.keys.access_key_id.as_str())
            {
                continue;
            }
            let props = files.credentials.profile(other).unwrap_or_default();
            if let Holding::Session(Some(s)) = Holding::of(&props)
                && !s.needs_renewal(now, self.window)
            {
                super::write_copy(files, ctx, &self.plan.profile, &s)?;
                return Ok(Some(Outcome::Shared {
                    profile: self.plan.profile.clone(),
                    session: s,
                    from: format!("to [{other}] with the same keys and MFA device"),
                }));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mfa::Terminal;
    use chrono::Utc;
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
            serial: serial.map(|s| (s.to_string(), "--serial".to_string())),
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

    fn person<'a>(input: &'a [u8], out: &'a mut Vec<u8>) -> CodeSource<'a> {
        CodeSource::Person(Box::new(Terminal::new(input, out)))
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
        let mut code = person(b"111111\n222222\n333333\n", &mut out);
        let got = block(obtain(&api, &plan(Some("arn:d")), &mut code)).unwrap();
        drop(code);
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
        let mut out = Vec::new();
        let mut code = person(b"111111\n222222\n333333\n444444\n", &mut out);
        let err = block(obtain(&api, &plan(Some("arn:d")), &mut code)).unwrap_err();
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
        let mut code = CodeSource::Given(Secret::new("111111"));
        let err = block(obtain(&api, &plan(Some("arn:d")), &mut code));
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
        let mut out = Vec::new();
        let mut code = person(b"2\n123456\n", &mut out);
        let got = block(obtain(&api, &plan(None), &mut code)).unwrap();
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
        let mut code = CodeSource::Configured(Source::Process {
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
            .block_on(obtain(&api, &plan(Some("arn:d")), &mut code))
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
        let mut code = CodeSource::Given(Secret::new("123456"));
        let err = block(obtain(&api, &plan(None), &mut code)).unwrap_err();
        assert!(err.to_string().contains("enable-mfa-device"), "{err}");
    }
}
