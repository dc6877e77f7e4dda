//! Why a profile does not work: `doctor`'s checks, each one line that is ok, a warning or a
//! failure, with the fix.
//!
//! A failed login says what went wrong at the first obstacle; a person setting up a machine
//! wants every obstacle at once, in the order they would meet them: which profile and files
//! are read and why, variables that make the AWS CLI ignore the profile, the long-term keys and
//! whether AWS accepts them, the clock, the MFA device, the session, the code source and the
//! `credential_process` wiring. The checks reuse the provider layer's own planning (so doctor
//! and login cannot disagree about a file) and spend nothing: no code is asked for or sent,
//! and the only calls are GetCallerIdentity and ListMFADevices, which AWS answers without MFA
//! even under the usual MFA-enforcing policy. Nothing is written.

use std::path::Path;
use std::time::Duration;

use chrono::Utc;

use crate::aws::{self, SdkApi};
use crate::ctx::Ctx;
use crate::mfa::prompt::Desktop;
use crate::provider::{self, Files, Kind, Mode, SessionRequest, session_token};
use crate::session::{self, State};
use crate::store::{Document, FileKind, SharedFile};

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Ok,
    /// Login works, but something will surprise the person (or another tool) later.
    Warn,
    /// Login cannot work until this is fixed.
    Fail,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "fail",
        }
    }
}

/// One finding.
#[derive(Clone, Debug)]
pub struct Check {
    /// What was looked at: `profile`, `environment`, `credentials file`, …
    pub area: &'static str,
    pub level: Level,
    pub detail: String,
    /// What to do about a warning or a failure.
    pub fix: Option<String>,
}

/// Every finding for one profile, in the order a login meets them.
#[derive(Debug)]
pub struct Report {
    pub profile: String,
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether a login (with a code) would work: no check failed.
    pub fn login_would_work(&self) -> bool {
        self.checks.iter().all(|c| c.level != Level::Fail)
    }

    fn push(&mut self, area: &'static str, level: Level, detail: String, fix: Option<String>) {
        self.checks.push(Check {
            area,
            level,
            detail,
            fix,
        });
    }

    fn ok(&mut self, area: &'static str, detail: String) {
        self.push(area, Level::Ok, detail, None);
    }
}

/// What `doctor` was asked.
#[derive(Debug)]
pub struct Request {
    /// `--profile`, if given.
    pub profile: Option<String>,
    /// Per attempt of the two AWS calls.
    pub timeout: Duration,
    /// The refresh window the session is judged against.
    pub window: Duration,
}

/// How far this machine's clock may be from AWS's before doctor warns, and before AWS refuses
/// requests (5 minutes for STS).
const SKEW_WARN: i64 = 60;
const SKEW_LIMIT: i64 = 5 * 60;

/// Runs every check for the requested profile.
pub fn diagnose(req: &Request, ctx: &Ctx) -> Report {
    let name = ctx.env.profile(req.profile.as_deref());
    let mut report = Report {
        profile: name.clone(),
        checks: Vec::new(),
    };
    if let Err(e) = provider::request::check_profile(&name) {
        report.push(
            "profile",
            Level::Fail,
            e.to_string(),
            Some("name a profile with --profile or AWS_PROFILE".into()),
        );
        return report;
    }
    environment(&mut report, req, ctx);
    let credentials = file(
        &mut report,
        "credentials file",
        ctx.credentials_path.as_deref(),
        ctx.env.credentials_file.is_some(),
        FileKind::Credentials,
    );
    let config = file(
        &mut report,
        "config file",
        ctx.config_path.as_deref(),
        ctx.env.config_file.is_some(),
        FileKind::Config,
    );
    // The documents just checked are the ones the rest reads: each file is read once.
    let (Some(credentials), Some(config), Some(credentials_path)) =
        (credentials, config, ctx.credentials_path.clone())
    else {
        // The file checks above said why.
        return report;
    };
    let files = Files {
        credentials_path,
        credentials,
        config,
    };
    let files_checked = report.checks.len();
    profile_onwards(&mut report, req, ctx, &files, &name);
    // What the profile is (the first finding of `profile_onwards`) leads the report, though it
    // could only be told once the files were read.
    if report.checks.len() > files_checked {
        report.checks[..=files_checked].rotate_right(1);
    }
    report
}

/// The checks that need the files: what the profile is, its keys and AWS's word on them, the
/// clock, device, session, code source and credential_process wiring. The first finding is
/// always what the profile is.
fn profile_onwards(report: &mut Report, req: &Request, ctx: &Ctx, files: &Files, name: &str) {
    let name = name.to_string();
    let origin = ctx.env.profile_origin(req.profile.as_deref());
    let kind = provider::profile::resolve(files, &name, &ctx.long_term_suffix);
    let session_profile = match &kind {
        Kind::Session => {
            report.ok(
                "profile",
                format!(
                    "[{name}] (from {origin}): a session profile, its session in [{name}] and \
                     its long-term keys in [{}]",
                    ctx.long_term(&name)
                ),
            );
            name.clone()
        }
        Kind::Role(r) => {
            let Ok(source) = r.source() else {
                report.push(
                    "profile",
                    Level::Fail,
                    format!(
                        "[profile {name}] (from {origin}) is a role profile without \
                         source_profile"
                    ),
                    Some(format!(
                        "add `source_profile = SOURCE` to [profile {name}], SOURCE being the \
                         profile with your long-term keys"
                    )),
                );
                return;
            };
            let arn = match aws::check_role_arn(&r.role_arn) {
                Ok(()) => r.role_arn.clone(),
                Err(e) => {
                    report.push("profile", Level::Fail, e.to_string(), None);
                    return;
                }
            };
            report.ok(
                "profile",
                format!(
                    "[profile {name}] (from {origin}): a role profile assuming {arn} from \
                     [{source}]; the checks below are of [{source}]"
                ),
            );
            source.to_string()
        }
        Kind::Neither => {
            report.push(
                "profile",
                Level::Fail,
                format!(
                    "[{name}] (from {origin}) is not in the files: no [{name}] or [{}] in the \
                     credentials file and no role_arn in [profile {name}] of the config file",
                    ctx.long_term(&name)
                ),
                Some(format!(
                    "put your access keys in [{name}] and run `mfa-session setup --profile \
                     {name}`, or name another profile with --profile"
                )),
            );
            return;
        }
    };
    let mut sreq = SessionRequest::new(session_profile.clone(), Mode::Never, req.window);
    sreq.timeout = req.timeout;
    let plan = match session_token::plan(&sreq, ctx, files) {
        Ok(plan) => plan,
        Err(e) => {
            report.push(
                "long-term keys",
                Level::Fail,
                format!("{e:#}"),
                Some(format!(
                    "run `mfa-session setup --profile {session_profile}`"
                )),
            );
            return;
        }
    };
    let lt = files
        .credentials
        .profile(&plan.long_term)
        .unwrap_or_default();
    report.ok(
        "long-term keys",
        format!(
            "{} in [{}], secret in the {} store",
            plan.keys.access_key_id,
            plan.long_term,
            crate::secrets::Store::of(&lt).name()
        ),
    );
    let api = match SdkApi::try_new(&plan.keys, &plan.settings) {
        Ok(api) => api,
        Err(e) => {
            report.push("long-term keys", Level::Fail, e.to_string(), None);
            return;
        }
    };
    let endpoint = plan
        .settings
        .sts_endpoint
        .clone()
        .unwrap_or_else(|| format!("STS in {}", plan.settings.region));
    let runtime = match aws::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            report.push("aws", Level::Fail, format!("{e:#}"), None);
            return;
        }
    };
    let identity = runtime.block_on(api.identity());
    let keys_work = identity.arn.is_ok();
    match &identity.arn {
        Ok(arn) => report.ok(
            "aws",
            format!("{endpoint} accepts the keys: GetCallerIdentity says {arn}"),
        ),
        Err(e) => report.push("aws", Level::Fail, format!("{endpoint}: {e}"), None),
    }
    clock(report, identity.clocks);
    let devices = keys_work.then(|| runtime.block_on(session_token::list_devices(&api)));
    device(report, plan.serial(), devices);
    stored_session(report, req, ctx, files, &name, &kind);
    code_source(
        report,
        ctx,
        plan.source.as_ref(),
        (files, &name, &kind),
        &session_profile,
    );
    credential_process(report, ctx, files, &name);
}

/// Variables that change what the AWS CLI (or mfa-session) reads.
fn environment(report: &mut Report, req: &Request, ctx: &Ctx) {
    let env = &ctx.env;
    if env.credential_vars.is_empty() {
        report.ok(
            "environment",
            "no AWS_ACCESS_KEY_ID, AWS_SESSION_TOKEN or other credential variable overrides \
             profiles"
                .into(),
        );
    } else {
        let names = env.credential_vars.join(", ");
        report.push(
            "environment",
            Level::Warn,
            format!(
                "{names} set: the AWS CLI and SDKs use these before any profile, so they ignore \
                 the session in the files (mfa-session itself never signs with them)"
            ),
            Some(format!(
                "unset {} (or use `mfa-session exec`, which sets them for one command)",
                env.credential_vars.join(" ")
            )),
        );
    }
    let name = env.profile(req.profile.as_deref());
    for (var, value) in [
        ("AWS_PROFILE", &env.aws_profile),
        ("AWS_DEFAULT_PROFILE", &env.aws_default_profile),
    ] {
        if let Some(v) = value.as_deref().filter(|v| *v != name) {
            report.push(
                "environment",
                Level::Warn,
                format!(
                    "{var}={}: the AWS CLI uses that profile, not [{name}], unless given \
                     --profile {name}",
                    crate::text::untrusted(v)
                ),
                Some(format!(
                    "export {var}={name}, or pass --profile to each command"
                )),
            );
        }
    }
    for (var, value) in [
        ("AWS_ENDPOINT_URL_STS", &env.endpoint_url_sts),
        ("AWS_ENDPOINT_URL", &env.endpoint_url),
        ("AWS_REGION or AWS_DEFAULT_REGION", &env.region),
    ] {
        if let Some(v) = value {
            report.ok(
                "environment",
                format!("{var}={} is used", crate::text::untrusted(v)),
            );
        }
    }
}

/// Where a file is, why there, its type, mode and owner, and whether it parses; the document
/// as login would read it (empty when absent), or `None` when it cannot be read.
fn file(
    report: &mut Report,
    area: &'static str,
    path: Option<&Path>,
    explicit: bool,
    kind: FileKind,
) -> Option<Document> {
    let Some(path) = path else {
        report.push(
            area,
            Level::Fail,
            "no HOME, so no default location".into(),
            Some("set HOME, or AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE".into()),
        );
        // Without a config file to read, login goes on with none; without a credentials file
        // it cannot.
        return (kind == FileKind::Config).then(|| Document::empty(kind));
    };
    let var = match kind {
        FileKind::Credentials => "AWS_SHARED_CREDENTIALS_FILE",
        FileKind::Config => "AWS_CONFIG_FILE",
    };
    let why = if explicit {
        format!("from {var}")
    } else {
        format!("the default; {var} is not set")
    };
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (level, fix) = match kind {
                FileKind::Credentials => (
                    Level::Fail,
                    Some(
                        "put your long-term access keys in it (see `mfa-session setup --help`)"
                            .to_string(),
                    ),
                ),
                FileKind::Config => (Level::Ok, None),
            };
            report.push(area, level, format!("{shown} ({why}) does not exist"), fix);
            return Some(Document::empty(kind));
        }
        Err(e) => {
            report.push(area, Level::Fail, format!("{shown} ({why}): {e}"), None);
            return None;
        }
    };
    let shared = SharedFile::new(path, kind);
    let doc = match shared.read() {
        Ok(doc) => doc,
        Err(e) => {
            report.push(area, Level::Fail, format!("{e} ({why})"), None);
            return None;
        }
    };
    let entry = crate::sys::owner::Entry::of(&meta);
    let mode = entry.mode;
    let owner = if entry.uid == crate::sys::owner::effective_uid() {
        "yours".to_string()
    } else {
        format!("owned by uid {}", entry.uid)
    };
    let profiles = doc.profiles().profiles.len();
    let detail = format!(
        "{shown} ({why}): mode {mode:04o}, {owner}, parses ({profiles} profile{})",
        if profiles == 1 { "" } else { "s" }
    );
    if kind == FileKind::Credentials
        && let Err(e) = shared.preflight()
    {
        report.push(area, Level::Fail, format!("{detail}; but {e}"), None);
    } else if kind == FileKind::Credentials && mode & 0o077 != 0 {
        report.push(
            area,
            Level::Warn,
            format!("{detail}; others can read the keys in it"),
            Some(format!("chmod 600 {shown}")),
        );
    } else {
        report.ok(area, detail);
    }
    Some(doc)
}

/// This machine's clock against the `Date` of AWS's answer.
fn clock(report: &mut Report, clocks: Option<aws::Clocks>) {
    let Some((server, local)) = clocks else {
        report.push(
            "clock",
            Level::Warn,
            "no answer with a Date header to compare this machine's clock with".into(),
            None,
        );
        return;
    };
    let skew = (local - server).num_seconds();
    let direction = if skew > 0 { "ahead of" } else { "behind" };
    let detail = format!(
        "this machine's clock is {} {direction} AWS's (server time {})",
        session::human_duration(chrono::Duration::seconds(skew.abs())),
        server.format("%Y-%m-%d %H:%M:%S UTC")
    );
    let fix =
        Some("sync the clock: `timedatectl set-ntp true`, or `sudo chronyc makestep`".to_string());
    if skew.abs() <= SKEW_WARN {
        report.ok("clock", format!("within {} s of AWS's", skew.abs().max(1)));
    } else if skew.abs() <= SKEW_LIMIT {
        report.push(
            "clock",
            Level::Warn,
            format!("{detail}; AWS refuses requests beyond 5 minutes"),
            fix,
        );
    } else {
        report.push(
            "clock",
            Level::Fail,
            format!("{detail}; AWS refuses requests signed more than 5 minutes off"),
            fix,
        );
    }
}

/// The MFA device: configured, or what ListMFADevices finds (when the keys work).
fn device(
    report: &mut Report,
    configured: Option<&str>,
    listed: Option<Result<(Vec<String>, String), aws::AwsError>>,
) {
    if let Some(Err(e)) = configured.map(|s| crate::mfa::devices::check_configured(s, "configured"))
    {
        report.push(
            "mfa device",
            Level::Fail,
            e.to_string(),
            Some("set mfa_serial to a virtual or hardware TOTP device, or remove it".into()),
        );
        return;
    }
    // Security keys and passkeys cannot give a code for STS: as login, doctor skips them.
    let listed = match listed {
        Some(Ok((devices, who))) => match crate::mfa::devices::usable(devices.clone(), &who) {
            Ok(usable) if configured.is_none() => Some(Ok((usable, who))),
            Ok(_) => Some(Ok((devices, who))),
            Err(e) => {
                if configured.is_none() {
                    report.push(
                        "mfa device",
                        Level::Fail,
                        e.to_string(),
                        Some(
                            "register a virtual or hardware TOTP MFA device for this user, then \
                             log in"
                                .into(),
                        ),
                    );
                    return;
                }
                Some(Ok((devices, who)))
            }
        },
        other => other,
    };
    match (configured, listed) {
        (Some(serial), Some(Ok((devices, _)))) if !devices.iter().any(|d| d == serial) => {
            report.push(
                "mfa device",
                Level::Fail,
                format!(
                    "{serial} is configured but is not one of this user's MFA devices ({})",
                    if devices.is_empty() {
                        "none".to_string()
                    } else {
                        devices.join(", ")
                    }
                ),
                Some("correct mfa_serial, or remove it so login finds the device".into()),
            );
        }
        (Some(serial), _) => report.ok("mfa device", format!("{serial} (configured)")),
        (None, Some(Ok((devices, who)))) => match devices.as_slice() {
            [] => report.push(
                "mfa device",
                Level::Fail,
                format!("no MFA device is enabled for {who}"),
                Some(
                    "enable a virtual MFA device in the IAM console (Security credentials), \
                     then log in"
                        .into(),
                ),
            ),
            [one] => report.ok(
                "mfa device",
                format!("{one}, found with ListMFADevices (login remembers it)"),
            ),
            several => report.push(
                "mfa device",
                Level::Warn,
                format!(
                    "{} devices are enabled: {}; login asks which one at a terminal, and fails \
                     without one",
                    several.len(),
                    several.join(", ")
                ),
                Some("set mfa_serial in the long-term section to the one to use".into()),
            ),
        },
        (None, Some(Err(e))) => report.push(
            "mfa device",
            Level::Warn,
            format!("none configured, and ListMFADevices failed: {e}"),
            Some("set mfa_serial in the long-term section (or pass --serial)".into()),
        ),
        (None, None) => report.push(
            "mfa device",
            Level::Warn,
            "none configured; not looked up, since AWS did not accept the keys".into(),
            None,
        ),
    }
}

/// The stored session of the profile asked about (a role's cached one for a role).
fn stored_session(
    report: &mut Report,
    req: &Request,
    ctx: &Ctx,
    files: &Files,
    name: &str,
    kind: &Kind,
) {
    let stored = match kind {
        Kind::Role(r) => provider::role::cached(ctx, r).ok().flatten(),
        _ => files.session(name),
    };
    let now = Utc::now();
    let window = provider::profile::window(req.window, files, name, kind, None);
    match stored {
        None => report.ok(
            "session",
            format!("[{name}] has no session yet: a login gets one"),
        ),
        Some(s) => {
            let until = session::local_time(s.expiration);
            match s.state(now, window) {
                State::Valid => report.ok(
                    "session",
                    format!(
                        "valid until {until} ({} left)",
                        session::human_duration(s.remaining(now))
                    ),
                ),
                State::Expiring => report.push(
                    "session",
                    Level::Warn,
                    format!(
                        "expires at {until} ({} left): inside the refresh window",
                        session::human_duration(s.remaining(now))
                    ),
                    Some(format!("`mfa-session login --profile {name}` renews it")),
                ),
                State::Expired => report.push(
                    "session",
                    Level::Warn,
                    format!("expired at {until}"),
                    Some(format!("`mfa-session login --profile {name}` renews it")),
                ),
            }
        }
    }
}

/// Where the code would come from, and whether that source could give one now: a configured
/// source, else the person the prompt settings name (`--prompt` is not a doctor flag, but
/// `MFA_SESSION_PROMPT` and `mfa_prompt` are read as login reads them).
fn code_source(
    report: &mut Report,
    ctx: &Ctx,
    source: Option<&crate::mfa::source::Source>,
    (files, name, kind): (&Files, &str, &Kind),
    profile: &str,
) {
    if let Some(s) = source {
        match s.check(|p| ctx.env.find_program(p)) {
            Ok(how) => report.ok("code source", format!("{}: {how}", s.describe())),
            Err(e) => report.push("code source", Level::Fail, e.to_string(), None),
        }
        return;
    }
    let req = SessionRequest::new(name.to_string(), Mode::Always, Duration::ZERO);
    let person = provider::prompt_config(&req, ctx, kind, files)
        .and_then(|config| crate::mfa::prompt::open(&config, &Desktop::from_env(&ctx.env)));
    match person {
        Ok(Some(person)) => report.push(
            "code source",
            Level::Warn,
            format!(
                "{}: no mfa_process or TOTP seed is configured, so `refresh`, cron and \
                 credential_process where nobody can answer cannot log in by themselves",
                person.describe()
            ),
            Some(format!(
                "only if you want that: {}",
                unattended_fix(ctx, profile)
            )),
        ),
        Ok(None) => report.push(
            "code source",
            Level::Fail,
            "no mfa_process or TOTP seed is configured, and there is no terminal or dialog to \
             ask on"
                .into(),
            Some(format!(
                "run mfa-session from a terminal, pass --code, set up a dialog (docs/gui.md), or \
                 {}",
                unattended_fix(ctx, profile)
            )),
        ),
        Err(e) => report.push("code source", Level::Fail, e.to_string(), None),
    }
}

/// How to give a profile a code source that needs nobody.
fn unattended_fix(ctx: &Ctx, profile: &str) -> String {
    format!(
        "set mfa_process (a command printing the code) or mfa_totp_secret_file in [{}]; see \
         docs/unattended.md",
        ctx.long_term(profile)
    )
}

/// `credential_process` lines of the config file that hand out this profile's session.
fn credential_process(report: &mut Report, ctx: &Ctx, files: &Files, name: &str) {
    let mut found = false;
    for (section, props) in files.config.profiles().profiles {
        let Some(line) = props.get("credential_process") else {
            continue;
        };
        let Some(words) = shlex::split(line) else {
            continue;
        };
        if !words.iter().any(|w| w == "credential-process") {
            continue;
        }
        let target = words
            .windows(2)
            .find(|w| w[0] == "--profile" || w[0] == "-p")
            .map(|w| w[1].clone())
            .or_else(|| {
                words
                    .iter()
                    .find_map(|w| w.strip_prefix("--profile=").map(str::to_string))
            });
        if target.as_deref() != Some(name) {
            continue;
        }
        found = true;
        let shown = crate::text::untrusted(line);
        if section == name {
            report.push(
                "credential_process",
                Level::Fail,
                format!(
                    "[profile {section}] runs `{shown}` for itself: the AWS CLI reads [{name}] of \
                     the credentials file first, so it never runs it and uses a stale session"
                ),
                Some(format!(
                    "move credential_process to a profile of another name, e.g. [profile \
                     {name}-mfa]"
                )),
            );
        } else if ctx.env.find_program(&words[0]).is_none() {
            report.push(
                "credential_process",
                Level::Fail,
                format!(
                    "[profile {section}] runs `{shown}`, but {} is not an executable file or \
                     not found on PATH",
                    crate::text::untrusted(&words[0])
                ),
                Some("give the full path of mfa-session in credential_process".into()),
            );
        } else {
            report.ok(
                "credential_process",
                format!("[profile {section}] runs `{shown}`"),
            );
        }
    }
    if !found {
        report.ok(
            "credential_process",
            format!(
                "no config profile hands out [{name}] through credential_process (optional; see \
                 `mfa-session credential-process --help`)"
            ),
        );
    }
}
