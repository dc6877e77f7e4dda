//! The only module that touches the AWS SDK.
//!
//! Commands see a small trait, [`MfaApi`], with the three calls this tool needs, and errors of our
//! own ([`AwsError`]) whose variants decide the one-line message and the exit code. Clients are
//! built from explicit long-term keys, region and endpoint: no provider chain, no profile
//! loading, no instance-metadata probing. That is both a security rule (a session in the
//! environment must never sign a renewal) and what keeps a login down to one round trip.

mod error;
pub mod signin;

use std::time::Duration;

use aws_sdk_iam as iam;
use aws_sdk_sts as sts;
use chrono::DateTime;

pub use error::{ATTEMPTS, AwsError};

use crate::session::{Secret, Session};

/// The long-term access key every call is signed with.
#[derive(Clone, Debug)]
pub struct LongTermKeys {
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

impl LongTermKeys {
    /// Keys checked for what the request signer can carry (see [`LongTermKeys::validate`]).
    pub fn new(access_key_id: &str, secret_access_key: &str) -> Result<LongTermKeys, AwsError> {
        let keys = LongTermKeys {
            access_key_id: access_key_id.to_string(),
            secret_access_key: Secret::new(secret_access_key),
        };
        keys.validate()?;
        Ok(keys)
    }

    /// An access key id is letters and digits; a secret is printable ASCII without blanks.
    /// Anything else (a control character pasted into the file) would make the SDK's signer
    /// panic when it builds the Authorization header.
    pub fn validate(&self) -> Result<(), AwsError> {
        check_key_id("the long-term aws_access_key_id", &self.access_key_id)?;
        check_secret(
            "the long-term aws_secret_access_key",
            self.secret_access_key.expose(),
            1024,
        )
    }
}

/// The longest value read from the files that we pass on in a request.
pub const MAX_VALUE: usize = 64 * 1024;

fn invalid(what: &'static str, why: impl Into<String>) -> AwsError {
    AwsError::InvalidSetting {
        what,
        why: why.into(),
    }
}

/// Where the first character outside `allowed` is, described without quoting the value (it may
/// be a secret): `a control character (0x01) at position 5`.
fn first_bad(value: &str, allowed: impl Fn(char) -> bool) -> Option<String> {
    let (i, c) = value.chars().enumerate().find(|(_, c)| !allowed(*c))?;
    let what = if c.is_control() {
        format!("a control character (0x{:02x})", c as u32)
    } else if c.is_whitespace() {
        "a blank".to_string()
    } else if c.is_ascii() {
        format!("the character {c:?}")
    } else {
        "a non-ASCII character".to_string()
    };
    Some(format!("{what} at position {}", i + 1))
}

fn check_key_id(what: &'static str, id: &str) -> Result<(), AwsError> {
    if id.is_empty() {
        return Err(invalid(what, "it is empty"));
    }
    if let Some(bad) = first_bad(id, |c| c.is_ascii_alphanumeric()) {
        return Err(invalid(
            what,
            format!("it must be letters and digits only, but has {bad}"),
        ));
    }
    if id.len() > 128 {
        return Err(invalid(what, "it is longer than 128 characters"));
    }
    Ok(())
}

fn check_secret(what: &'static str, value: &str, max: usize) -> Result<(), AwsError> {
    if value.is_empty() {
        return Err(invalid(what, "it is empty"));
    }
    if let Some(bad) = first_bad(value, |c| c.is_ascii_graphic()) {
        return Err(invalid(
            what,
            format!("it must be printable ASCII without blanks, but has {bad}"),
        ));
    }
    if value.len() > max {
        return Err(invalid(what, format!("it is longer than {max} bytes")));
    }
    Ok(())
}

/// A value that goes into a request parameter: printable ASCII, within AWS's length limits.
fn check_parameter(
    what: &'static str,
    value: &str,
    min: usize,
    max: usize,
    extra: &str,
) -> Result<(), AwsError> {
    if let Some(bad) = first_bad(value, |c| c.is_ascii_alphanumeric() || extra.contains(c)) {
        return Err(invalid(
            what,
            format!(
                "{:?} has {bad}; AWS accepts letters, digits and {extra}",
                crate::text::untrusted(value)
            ),
        ));
    }
    if value.len() < min || value.len() > max {
        return Err(invalid(
            what,
            format!(
                "{:?} is not {min} to {max} characters long",
                crate::text::untrusted(value)
            ),
        ));
    }
    Ok(())
}

/// An MFA serial: a virtual device's ARN or a hardware token's serial number.
pub fn check_serial(serial: &str) -> Result<(), AwsError> {
    check_parameter("the MFA serial", serial, 9, 256, "_+=/:,.@-")
}

/// A role ARN as AssumeRole takes it.
pub fn check_role_arn(arn: &str) -> Result<(), AwsError> {
    check_parameter("role_arn", arn, 20, 2048, "_+=/:,.@-")
}

/// Where and how to call AWS.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    pub region: String,
    pub sts_endpoint: Option<String>,
    pub iam_endpoint: Option<String>,
    /// Per attempt, connection included.
    pub attempt_timeout: Duration,
    /// Attempts per call; throttling and 5xx are retried with the SDK's backoff. Calls that
    /// carry a one-time MFA code are always made once (see [`ONE_ATTEMPT`]).
    pub max_attempts: u32,
}

impl ClientSettings {
    /// Checks what would otherwise fail obscurely at call time or make the SDK panic: a region
    /// is letters, digits and `-` (it becomes part of a host name and of the signature's
    /// scope); an endpoint is an `http://` or `https://` URL with a host and no blanks or
    /// control characters; a timeout is at least a second.
    pub fn validate(&self) -> Result<(), AwsError> {
        let r = &self.region;
        if r.is_empty()
            || r.len() > 64
            || r.starts_with('-')
            || r.ends_with('-')
            || !r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(invalid(
                "the region",
                format!(
                    "{:?} is not a region name (like eu-west-1: letters, digits and '-'); check \
                     --region, AWS_REGION, AWS_DEFAULT_REGION and region in the config file",
                    crate::text::untrusted(r)
                ),
            ));
        }
        for url in [&self.sts_endpoint, &self.iam_endpoint]
            .into_iter()
            .flatten()
        {
            check_endpoint(
                url,
                "AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_IAM and endpoint_url in \
                 the config file",
            )?;
        }
        if self.attempt_timeout < Duration::from_secs(1) {
            return Err(invalid("the timeout", "it must be at least 1 s"));
        }
        Ok(())
    }
}

/// An endpoint URL: `http://` or `https://`, a host, a valid port, no blanks or control
/// characters; `origin` names where such a URL comes from, for the message.
fn check_endpoint(url: &str, origin: &str) -> Result<(), AwsError> {
    let bad = |why: &str| {
        invalid(
            "the endpoint URL",
            format!("{:?} {why}; check {origin}", crate::text::untrusted(url)),
        )
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| bad("does not start with http:// or https://"))?;
    if url.len() > 2048 || !url.chars().all(|c| c.is_ascii_graphic()) {
        return Err(bad(
            "has blanks, control characters or non-ASCII characters",
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    if host.is_empty() {
        return Err(bad("has no host name"));
    }
    if let Some(port) = authority.rsplit_once(']').map_or_else(
        || authority.split_once(':').map(|(_, p)| p),
        |(_, p)| p.strip_prefix(':'),
    ) && (port.is_empty() || port.parse::<u16>().is_err())
    {
        return Err(bad("has an invalid port"));
    }
    Ok(())
}

/// The calls `login` makes. A trait so the orchestration can be tested with a fake.
pub trait MfaApi {
    /// STS GetSessionToken with an MFA device and code.
    fn get_session_token(
        &self,
        serial: &str,
        code: &Secret,
        duration_seconds: u32,
    ) -> impl Future<Output = Result<Session, AwsError>>;

    /// IAM ListMFADevices, for the caller (`None`) or a named user.
    fn list_mfa_devices(
        &self,
        user: Option<&str>,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>>;

    /// STS GetCallerIdentity → the caller's ARN.
    fn caller_arn(&self) -> impl Future<Output = Result<String, AwsError>>;

    /// STS AssumeRole, with an MFA device and code when the role asks for them.
    fn assume_role(&self, req: &AssumeRole) -> impl Future<Output = Result<Session, AwsError>>;
}

/// The parameters of an AssumeRole call.
#[derive(Clone, Debug)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: String,
    pub duration_seconds: u32,
    pub external_id: Option<String>,
    /// The MFA device and its code, when calling with long-term keys.
    pub mfa: Option<(String, Secret)>,
}

/// Attempts for a call carrying a one-time MFA code: one. AWS takes a code once per device and
/// 30-second window, so after a timeout or a 5xx (the first request may well have been
/// served) a retry only sends the same code again to be refused, or worse, used twice.
pub const ONE_ATTEMPT: u32 = 1;

/// The process's one HTTP client, shared by every STS and IAM client it builds.
///
/// Building an HTTP client (connector, TLS configuration, root store) costs about as much CPU
/// as a call to a nearby endpoint; `refresh` builds a pair of SDK clients per MFA device, so
/// one client per process instead of one per SDK client is what lets a run renew many
/// profiles in little more than the time of one login. Connections are pooled per runtime's
/// use: a pooled connection whose runtime has ended is closed, and hyper retries a request
/// that such a connection cancelled before sending it.
///
/// TLS is rustls with the `ring` provider rather than the SDK's default aws-lc: the same
/// protocols and cipher suites for AWS endpoints, a smaller binary, and no C build of aws-lc.
fn http_client() -> sts::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    static CLIENT: std::sync::OnceLock<sts::config::SharedHttpClient> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
                .build_https()
        })
        .clone()
}

/// What `doctor` learns from one GetCallerIdentity: who the keys belong to, and the time the
/// server answered (its `Date` header) next to this machine's, for the clock-skew check. The
/// time is read from error answers too: a request AWS refuses for its timestamp still says
/// what time AWS thinks it is.
#[derive(Debug)]
pub struct Identity {
    pub arn: Result<String, AwsError>,
    /// The server's `Date` and this machine's clock when the answer arrived.
    pub clocks: Option<Clocks>,
}

/// The server's `Date` and this machine's clock when that answer arrived.
pub type Clocks = (DateTime<chrono::Utc>, DateTime<chrono::Utc>);

/// Records the `Date` header of an answer as it arrives, before it is deserialized.
#[derive(Debug, Default)]
struct ServerClock(std::sync::Arc<std::sync::Mutex<Option<Clocks>>>);

impl sts::config::Intercept for ServerClock {
    fn name(&self) -> &'static str {
        "ServerClock"
    }

    fn read_after_transmit(
        &self,
        context: &sts::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _: &sts::config::RuntimeComponents,
        _: &mut sts::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let local = chrono::Utc::now();
        let server = context
            .response()
            .headers()
            .get("date")
            .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
            .map(|d| d.with_timezone(&chrono::Utc));
        if let (Some(server), Ok(mut slot)) = (server, self.0.lock()) {
            slot.get_or_insert((server, local));
        }
        Ok(())
    }
}

/// The real thing: SDK clients for STS and IAM.
pub struct SdkApi {
    sts: sts::Client,
    /// Built on first use: most logins never call IAM, and building a client costs as much CPU
    /// as the call itself.
    iam: std::sync::OnceLock<iam::Client>,
    iam_conf: iam::Config,
    max_attempts: u32,
    /// Set when the keys or settings were invalid: every call fails with it, before the network.
    invalid: Option<(&'static str, String)>,
}

/// The per-call override that makes a call carrying a code a single attempt.
fn single_attempt() -> sts::config::Builder {
    sts::config::Builder::default()
        .retry_config(sts::config::retry::RetryConfig::standard().with_max_attempts(ONE_ATTEMPT))
}

impl SdkApi {
    /// Clients signing with long-term keys (GetSessionToken, ListMFADevices, AssumeRole + MFA),
    /// or an error saying which key or setting cannot be used. Prefer this to [`SdkApi::new`]:
    /// it fails before a code is asked for.
    pub fn try_new(keys: &LongTermKeys, s: &ClientSettings) -> Result<SdkApi, AwsError> {
        keys.validate()?;
        s.validate()?;
        Ok(Self::new(keys, s))
    }

    /// Like [`SdkApi::try_new`], with invalid keys or settings reported by the first call
    /// (before any request is sent) instead of here.
    pub fn new(keys: &LongTermKeys, s: &ClientSettings) -> SdkApi {
        Self::checked(keys.validate().and_then(|()| s.validate()), s, || {
            sts::config::Credentials::new(
                &keys.access_key_id,
                keys.secret_access_key.expose(),
                None,
                None,
                "mfa-session-long-term",
            )
        })
    }

    /// Clients signing with an MFA session (AssumeRole from a session carries its MFA context).
    /// A session whose values cannot be signed with fails the first call, as in [`SdkApi::new`].
    pub fn with_session(session: &Session, s: &ClientSettings) -> SdkApi {
        let valid = check_key_id("the session's aws_access_key_id", &session.access_key_id)
            .and_then(|()| {
                check_secret(
                    "the session's aws_secret_access_key",
                    session.secret_access_key.expose(),
                    1024,
                )
            })
            .and_then(|()| {
                check_secret(
                    "the session's aws_session_token",
                    session.session_token.expose(),
                    MAX_VALUE,
                )
            })
            .and_then(|()| s.validate());
        Self::checked(valid, s, || {
            sts::config::Credentials::new(
                &session.access_key_id,
                session.secret_access_key.expose(),
                Some(session.session_token.expose().to_string()),
                None,
                "mfa-session-session",
            )
        })
    }

    fn checked(
        valid: Result<(), AwsError>,
        s: &ClientSettings,
        creds: impl FnOnce() -> sts::config::Credentials,
    ) -> SdkApi {
        match valid {
            Ok(()) => Self::build(creds(), s),
            Err(e) => {
                let (what, why) = match e {
                    AwsError::InvalidSetting { what, why } => (what, why),
                    other => ("the client settings", other.to_string()),
                };
                // Clients that are never used: nothing invalid reaches the SDK.
                let harmless = ClientSettings {
                    region: "us-east-1".into(),
                    sts_endpoint: None,
                    iam_endpoint: None,
                    ..s.clone()
                };
                let mut api = Self::build(
                    sts::config::Credentials::new("A", "B", None, None, "invalid"),
                    &harmless,
                );
                api.invalid = Some((what, why));
                api
            }
        }
    }

    fn iam(&self) -> &iam::Client {
        self.iam
            .get_or_init(|| iam::Client::from_conf(self.iam_conf.clone()))
    }

    /// The error every call returns when the keys or settings were invalid.
    fn usable(&self) -> Result<(), AwsError> {
        match &self.invalid {
            Some((what, why)) => Err(invalid(what, why.clone())),
            None => Ok(()),
        }
    }

    fn build(creds: sts::config::Credentials, s: &ClientSettings) -> SdkApi {
        let timeouts = aws_smithy_types_timeout(s.attempt_timeout);
        let retry = sts::config::retry::RetryConfig::standard().with_max_attempts(s.max_attempts);
        let region = sts::config::Region::new(s.region.clone());

        let mut sc = sts::Config::builder()
            .behavior_version(sts::config::BehaviorVersion::latest())
            .http_client(http_client())
            .region(region.clone())
            .credentials_provider(creds.clone())
            .timeout_config(timeouts.clone())
            .retry_config(retry.clone());
        if let Some(url) = &s.sts_endpoint {
            sc = sc.endpoint_url(url);
        }
        let mut ic = iam::Config::builder()
            .behavior_version(iam::config::BehaviorVersion::latest())
            .http_client(http_client())
            .region(region)
            .credentials_provider(creds)
            .timeout_config(timeouts)
            .retry_config(retry);
        if let Some(url) = &s.iam_endpoint {
            ic = ic.endpoint_url(url);
        }
        SdkApi {
            sts: sts::Client::from_conf(sc.build()),
            iam: std::sync::OnceLock::new(),
            iam_conf: ic.build(),
            max_attempts: s.max_attempts,
            invalid: None,
        }
    }
}

fn aws_smithy_types_timeout(attempt: Duration) -> sts::config::timeout::TimeoutConfig {
    sts::config::timeout::TimeoutConfig::builder()
        .connect_timeout(attempt.min(Duration::from_secs(5)))
        .operation_attempt_timeout(attempt)
        .build()
}

/// The longest session token we accept from STS. Real ones are a few hundred bytes to ~2 KiB
/// (session tags and policies make them longer); anything near this is not a token.
pub const MAX_SESSION_TOKEN: usize = 8 * 1024;

/// How much later than asked an Expiration may be: clocks may differ by this much before AWS
/// refuses the signature itself (RequestTimeTooSkewed).
const EXPIRATION_SLACK: i64 = 15 * 60;

/// The session in an STS response (GetSessionToken and AssumeRole share the shape), checked
/// before anything is written: an answer with empty or malformed credentials, an Expiration in
/// the past or far beyond the `requested_seconds`, is an unusable answer, not a session.
fn session_from(
    op: &'static str,
    credentials: Option<sts::types::Credentials>,
    requested_seconds: u32,
) -> Result<Session, AwsError> {
    let malformed = |what| AwsError::Malformed { op, what };
    let c = credentials.ok_or(malformed("no Credentials in the response"))?;
    let expiration = DateTime::from_timestamp(c.expiration.secs(), c.expiration.subsec_nanos())
        .ok_or(malformed("an Expiration out of range"))?;
    let session = Session {
        access_key_id: c.access_key_id,
        secret_access_key: Secret::new(c.secret_access_key),
        session_token: Secret::new(c.session_token),
        expiration,
    };
    check_session(&session, requested_seconds, chrono::Utc::now()).map_err(malformed)?;
    Ok(session)
}

/// Why a session from STS cannot be used, or `Ok`. Never quotes a value.
fn check_session(
    s: &Session,
    requested_seconds: u32,
    now: DateTime<chrono::Utc>,
) -> Result<(), &'static str> {
    let id = &s.access_key_id;
    if id.is_empty() {
        return Err("an empty AccessKeyId");
    }
    if id.len() < 16 || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("an AccessKeyId that is not 16 to 128 letters and digits");
    }
    let secret = s.secret_access_key.expose();
    if secret.is_empty() {
        return Err("an empty SecretAccessKey");
    }
    if secret.len() > 1024 || !secret.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("a SecretAccessKey with blanks, control characters or over 1 KiB");
    }
    let token = s.session_token.expose();
    if token.is_empty() {
        return Err("an empty SessionToken");
    }
    if token.len() > MAX_SESSION_TOKEN {
        return Err("a SessionToken over 8 KiB");
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("a SessionToken with blanks or control characters");
    }
    if s.expiration <= now {
        return Err("an Expiration in the past (check this machine's clock)");
    }
    let latest = now + chrono::Duration::seconds(requested_seconds as i64 + EXPIRATION_SLACK);
    if s.expiration > latest {
        return Err("an Expiration far beyond the requested duration");
    }
    Ok(())
}

impl SdkApi {
    /// GetCallerIdentity, which AWS answers for any valid key, even under a policy that denies
    /// everything without MFA, with the clocks of the first answer.
    pub async fn identity(&self) -> Identity {
        let clock = ServerClock::default();
        let slot = std::sync::Arc::clone(&clock.0);
        let arn = match self.usable() {
            Err(e) => Err(e),
            Ok(()) => self
                .sts
                .get_caller_identity()
                .customize()
                .interceptor(clock)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("GetCallerIdentity", self.max_attempts, e))
                .and_then(|out| {
                    out.arn.ok_or(AwsError::Malformed {
                        op: "GetCallerIdentity",
                        what: "no Arn in the response",
                    })
                }),
        };
        let clocks = *slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Identity { arn, clocks }
    }
}

impl MfaApi for SdkApi {
    async fn get_session_token(
        &self,
        serial: &str,
        code: &Secret,
        duration_seconds: u32,
    ) -> Result<Session, AwsError> {
        self.usable()?;
        check_serial(serial)?;
        let out = self
            .sts
            .get_session_token()
            .serial_number(serial)
            .token_code(code.expose())
            .duration_seconds(i32::try_from(duration_seconds).unwrap_or(i32::MAX))
            .customize()
            .config_override(single_attempt())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetSessionToken", ONE_ATTEMPT, e))?;
        session_from("GetSessionToken", out.credentials, duration_seconds)
    }

    async fn list_mfa_devices(&self, user: Option<&str>) -> Result<Vec<String>, AwsError> {
        self.usable()?;
        let out = self
            .iam()
            .list_mfa_devices()
            .set_user_name(user.map(str::to_string))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListMFADevices", self.max_attempts, e))?;
        Ok(out
            .mfa_devices
            .into_iter()
            .map(|d| d.serial_number)
            .collect())
    }

    async fn caller_arn(&self) -> Result<String, AwsError> {
        self.usable()?;
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetCallerIdentity", self.max_attempts, e))?;
        out.arn.ok_or(AwsError::Malformed {
            op: "GetCallerIdentity",
            what: "no Arn in the response",
        })
    }

    async fn assume_role(&self, req: &AssumeRole) -> Result<Session, AwsError> {
        self.usable()?;
        check_role_arn(&req.role_arn)?;
        check_parameter("the role session name", &req.session_name, 2, 64, "_+=,.@-")?;
        if let Some(id) = &req.external_id {
            check_parameter("external_id", id, 2, 1224, "_+=,.@:/-")?;
        }
        if let Some((serial, _)) = &req.mfa {
            check_serial(serial)?;
        }
        let (serial, code) = match &req.mfa {
            Some((s, c)) => (Some(s.clone()), Some(c.expose().to_string())),
            None => (None, None),
        };
        let with_code = code.is_some();
        let call = self
            .sts
            .assume_role()
            .role_arn(&req.role_arn)
            .role_session_name(&req.session_name)
            .duration_seconds(i32::try_from(req.duration_seconds).unwrap_or(i32::MAX))
            .set_external_id(req.external_id.clone())
            .set_serial_number(serial)
            .set_token_code(code);
        let (result, attempts) = if with_code {
            let r = call
                .customize()
                .config_override(single_attempt())
                .send()
                .await;
            (r, ONE_ATTEMPT)
        } else {
            (call.send().await, self.max_attempts)
        };
        let out = result.map_err(|e| AwsError::from_sdk("AssumeRole", attempts, e))?;
        session_from("AssumeRole", out.credentials, req.duration_seconds)
    }
}

/// One access key of an IAM user, as ListAccessKeys reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessKeyInfo {
    pub id: String,
    pub active: bool,
    pub created: Option<chrono::DateTime<chrono::Utc>>,
}

/// The IAM calls of key rotation, signed with the user's MFA session (IAM refuses them without
/// MFA under an MFA-enforcing policy).
pub trait KeyApi {
    fn list_access_keys(
        &self,
        user: &str,
    ) -> impl Future<Output = Result<Vec<AccessKeyInfo>, AwsError>>;
    fn create_access_key(&self, user: &str)
    -> impl Future<Output = Result<LongTermKeys, AwsError>>;
    fn delete_access_key(&self, user: &str, id: &str)
    -> impl Future<Output = Result<(), AwsError>>;
    fn deactivate_access_key(
        &self,
        user: &str,
        id: &str,
    ) -> impl Future<Output = Result<(), AwsError>>;
}

impl KeyApi for SdkApi {
    async fn list_access_keys(&self, user: &str) -> Result<Vec<AccessKeyInfo>, AwsError> {
        self.usable()?;
        let out = self
            .iam()
            .list_access_keys()
            .user_name(user)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListAccessKeys", self.max_attempts, e))?;
        Ok(out
            .access_key_metadata
            .into_iter()
            .filter_map(|k| {
                Some(AccessKeyInfo {
                    id: k.access_key_id?,
                    active: k.status.as_ref().is_some_and(|s| s.as_str() == "Active"),
                    created: k
                        .create_date
                        .and_then(|d| DateTime::from_timestamp(d.secs(), d.subsec_nanos())),
                })
            })
            .collect())
    }

    async fn create_access_key(&self, user: &str) -> Result<LongTermKeys, AwsError> {
        self.usable()?;
        // Not retried: a retry after a lost answer would create a second key.
        let out = self
            .iam()
            .create_access_key()
            .user_name(user)
            .customize()
            .config_override(iam::config::Builder::default().retry_config(
                iam::config::retry::RetryConfig::standard().with_max_attempts(ONE_ATTEMPT),
            ))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("CreateAccessKey", ONE_ATTEMPT, e))?;
        let k = out.access_key.ok_or(AwsError::Malformed {
            op: "CreateAccessKey",
            what: "no AccessKey in the response",
        })?;
        let keys = LongTermKeys {
            access_key_id: k.access_key_id,
            secret_access_key: Secret::new(k.secret_access_key),
        };
        keys.validate()?;
        Ok(keys)
    }

    async fn delete_access_key(&self, user: &str, id: &str) -> Result<(), AwsError> {
        self.usable()?;
        self.iam()
            .delete_access_key()
            .user_name(user)
            .access_key_id(id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeleteAccessKey", self.max_attempts, e))?;
        Ok(())
    }

    async fn deactivate_access_key(&self, user: &str, id: &str) -> Result<(), AwsError> {
        self.usable()?;
        self.iam()
            .update_access_key()
            .user_name(user)
            .access_key_id(id)
            .status(iam::types::StatusType::Inactive)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UpdateAccessKey", self.max_attempts, e))?;
        Ok(())
    }
}

/// The async runtime for SDK calls: one current thread, started only when a call is to be made,
/// never on the hot path of a command that just reads the files.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The user name in an IAM user ARN (`arn:aws:iam::123456789012:user/path/alice` → `alice`).
pub fn user_name_from_arn(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let path = resource.strip_prefix("user/")?;
    path.rsplit('/').next().filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_sessions_are_refused() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let good = Session {
            access_key_id: "ASIAFAKESESSION00001".into(),
            secret_access_key: Secret::new("s/e+c=r"),
            session_token: Secret::new("tok/+="),
            expiration: now + chrono::Duration::hours(1),
        };
        assert_eq!(check_session(&good, 3600, now), Ok(()));
        let bad = |f: &dyn Fn(&mut Session)| {
            let mut s = good.clone();
            f(&mut s);
            check_session(&s, 3600, now).unwrap_err()
        };
        assert!(bad(&|s| s.access_key_id.clear()).contains("empty AccessKeyId"));
        assert!(bad(&|s| s.access_key_id.push('\u{1}')).contains("AccessKeyId"));
        assert!(bad(&|s| s.secret_access_key = Secret::new("")).contains("SecretAccessKey"));
        assert!(bad(&|s| s.session_token = Secret::new("")).contains("SessionToken"));
        assert!(bad(&|s| s.session_token = Secret::new("a b")).contains("SessionToken"));
        assert!(
            bad(&|s| s.session_token = Secret::new("a".repeat(MAX_SESSION_TOKEN + 1)))
                .contains("8 KiB")
        );
        assert!(bad(&|s| s.expiration = now).contains("past"));
        assert!(bad(&|s| s.expiration = now + chrono::Duration::days(2)).contains("beyond"));
    }

    #[test]
    fn user_names_from_arns() {
        assert_eq!(
            user_name_from_arn("arn:aws:iam::123456789012:user/alice"),
            Some("alice")
        );
        assert_eq!(
            user_name_from_arn("arn:aws:iam::123456789012:user/team/ops/bob"),
            Some("bob")
        );
        assert_eq!(user_name_from_arn("arn:aws:iam::123456789012:root"), None);
        assert_eq!(
            user_name_from_arn("arn:aws:sts::123456789012:assumed-role/r/s"),
            None
        );
    }
}
