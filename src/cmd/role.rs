//! Role profiles, as the AWS CLI defines them in `~/.aws/config`:
//!
//! ```ini
//! [profile admin]
//! role_arn = arn:aws:iam::123456789012:role/Admin
//! source_profile = work
//! mfa_serial = arn:aws:iam::123456789012:mfa/alice
//! ```
//!
//! One MFA code per identity: when the source profile already has a valid MFA session, the role
//! is assumed with that session (no prompt; AWS caps such chained sessions at one hour);
//! otherwise with the source's long-term keys plus SerialNumber and TokenCode (up to the role's
//! MaxSessionDuration). Role sessions live in mfa-session's own cache (0600 files, with their
//! expiry) and never in a credentials section named after the role profile: the AWS CLI and SDKs
//! resolve `[profile admin]` through its `role_arn` themselves, and such a section would fight
//! them. `--write-profile NAME` writes a copy under another name for tools that read only the
//! credentials file.
//!
//! Role sessions do not carry MFA onward: where an SCP demands MFA, use the GetSessionToken
//! session of the source profile instead.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::aws::{AssumeRole, LongTermKeys, MfaApi, SdkApi};
use crate::cli::LoginArgs;
use crate::cmd::Ctx;
use crate::cmd::login::{self, Files, LoginMode, NoSession, Outcome, SetupError};
use crate::mfa::{MfaError, Terminal};
use crate::session::{self, Holding, Secret, Session};
use crate::store::{self, FileKind, SharedFile, fs as store_fs};

/// AssumeRole's default, and the cap for a role assumed from a session.
const ROLE_DEFAULT_DURATION: u32 = 3_600;
const CHAINED_MAX_DURATION: u32 = 3_600;

/// A `[profile NAME]` with a `role_arn`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleProfile {
    pub name: String,
    pub role_arn: String,
    pub source_profile: Option<String>,
    pub mfa_serial: Option<String>,
    pub duration_seconds: Option<String>,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub config: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error(
        "[profile {profile}] has role_arn but no source_profile; mfa-session assumes roles from \
         a source profile (credential_source is for AWS compute, where no MFA applies)"
    )]
    NoSourceProfile { profile: String },
    #[error(
        "the source profile {source_profile} of role profile {profile} has neither a valid MFA session nor \
         long-term keys ([{source_profile}{suffix}], or static keys in [{source_profile}]); run `mfa-session setup \
         --profile {source_profile}` or `mfa-session login --profile {source_profile}`"
    )]
    SourceWithoutKeys {
        profile: String,
        source_profile: String,
        suffix: String,
    },
    #[error(
        "--write-profile {name}: that name is {why}; pick another name (the AWS CLI resolves \
         role profiles itself and a [{name}] section would fight it)"
    )]
    WriteProfileShadows { name: String, why: &'static str },
    #[error("cannot use the role-session cache {}: {source}", path.display())]
    Cache {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no cache directory: HOME and XDG_CACHE_HOME are not set")]
    NoCacheDir,
}

/// The role profile `name`, if `[profile name]` of the config file has a `role_arn`.
pub fn role_profile(config: &store::Document, name: &str) -> Option<RoleProfile> {
    let cfg = config.profile(name)?;
    let get = |k: &str| cfg.get(k).filter(|v| !v.is_empty()).cloned();
    Some(RoleProfile {
        name: name.to_string(),
        role_arn: get("role_arn")?,
        source_profile: get("source_profile"),
        mfa_serial: get("mfa_serial"),
        duration_seconds: get("duration_seconds"),
        session_name: get("role_session_name"),
        external_id: get("external_id"),
        config: cfg,
    })
}

/// Every role profile of the config file.
pub fn role_profiles(config: &store::Document) -> Vec<RoleProfile> {
    config
        .profiles()
        .profiles
        .keys()
        .filter_map(|n| role_profile(config, n))
        .collect()
}

/// `roles/<name>.json`; `/` and `%` (legal in profile names) are percent-encoded.
pub fn cache_path(ctx: &Ctx, name: &str) -> Result<PathBuf, RoleError> {
    let file = name.replace('%', "%25").replace('/', "%2F");
    Ok(ctx
        .env
        .role_cache_dir()
        .ok_or(RoleError::NoCacheDir)?
        .join(format!("{file}.json")))
}

fn encode(role: &RoleProfile, s: &Session) -> String {
    let doc = json!({
        "Version": 1,
        "RoleArn": role.role_arn,
        "SourceProfile": role.source_profile,
        "AccessKeyId": s.access_key_id,
        "SecretAccessKey": s.secret_access_key.expose(),
        "SessionToken": s.session_token.expose(),
        "Expiration": session::format_expiration(s.expiration),
    });
    format!("{doc}\n")
}

fn decode(text: &str, role_arn: &str) -> Option<Session> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    // A cache entry for another role (the profile was edited) is not this role's session.
    if v["RoleArn"].as_str()? != role_arn {
        return None;
    }
    Some(Session {
        access_key_id: v["AccessKeyId"].as_str()?.to_string(),
        secret_access_key: Secret::new(v["SecretAccessKey"].as_str()?),
        session_token: Secret::new(v["SessionToken"].as_str()?),
        expiration: session::parse_expiration(v["Expiration"].as_str()?)?,
    })
}

/// The cached session of a role profile, if any (valid or not).
pub fn cached(ctx: &Ctx, role: &RoleProfile) -> Result<Option<Session>, RoleError> {
    let path = cache_path(ctx, &role.name)?;
    let text = store_fs::read_private(&path).map_err(|source| RoleError::Cache {
        path: path.clone(),
        source,
    })?;
    Ok(text.and_then(|t| decode(&t, &role.role_arn)))
}

/// Makes sure the role profile has a session valid beyond the refresh window: the cached one
/// (no network), else a new one as the module documentation describes.
pub fn ensure(
    role: &RoleProfile,
    args: &LoginArgs,
    ctx: &Ctx,
    files: &Files,
    mode: LoginMode,
    write_profile: Option<&str>,
) -> anyhow::Result<Outcome> {
    let now = Utc::now();
    let window = session::window(args.refresh_window);
    if let Some(name) = write_profile {
        check_write_profile(name, role, files)?;
    }
    let cached = cached(ctx, role)?;
    if let Some(s) = &cached
        && !args.force
        && !s.needs_renewal(now, window)
    {
        return Ok(Outcome::StillValid {
            profile: role.name.clone(),
            session: s.clone(),
        });
    }
    if mode == LoginMode::Never {
        return Err(NoSession {
            profile: role.name.clone(),
            state: state_text(cached.as_ref(), now),
            why: "--no-login forbids assuming the role".into(),
        }
        .into());
    }
    let source = role
        .source_profile
        .clone()
        .ok_or(RoleError::NoSourceProfile {
            profile: role.name.clone(),
        })?;
    let source_cfg = files.config.profile(&source).unwrap_or_default();
    let settings = login::client_settings(
        args.region.as_deref(),
        args.timeout,
        ctx,
        &merged(&source_cfg, &role.config),
    );
    let session_name = role
        .session_name
        .clone()
        .unwrap_or_else(|| format!("mfa-session-{}", now.timestamp()));
    let requested = match (&args.duration, &role.duration_seconds) {
        (Some(d), _) | (None, Some(d)) => session::parse_duration(d)
            .map_err(SetupError::BadDuration)?
            .as_secs() as u32,
        (None, None) => ROLE_DEFAULT_DURATION,
    };
    let runtime = crate::aws::runtime()?;
    let base = AssumeRole {
        role_arn: role.role_arn.clone(),
        session_name,
        duration_seconds: requested,
        external_id: role.external_id.clone(),
        mfa: None,
    };

    let source_props = files.credentials.profile(&source).unwrap_or_default();
    let source_session = match Holding::of(&source_props) {
        Holding::Session(Some(s)) if s.remaining(now) > chrono::Duration::minutes(1) => Some(s),
        _ => None,
    };
    let (session, via) = if let Some(s) = source_session {
        // The source's MFA session carries MFA context: no code needed, but AWS allows a
        // chained role session one hour at most.
        let duration = requested.min(CHAINED_MAX_DURATION);
        if requested > CHAINED_MAX_DURATION {
            tracing::info!("role assumed from a session: duration capped at 1 hour");
        }
        let api = SdkApi::with_session(&s, &settings);
        let req = AssumeRole {
            duration_seconds: duration,
            ..base
        };
        let session = runtime.block_on(api.assume_role(&req))?;
        (session, format!("the MFA session of [{source}]"))
    } else {
        let long_term = format!("{source}{}", ctx.long_term_suffix);
        let lt = files.credentials.profile(&long_term).unwrap_or_default();
        let (id, secret) = session::key_pair(&lt)
            .or_else(|| {
                (Holding::of(&source_props) == Holding::LongTermKeys)
                    .then(|| session::key_pair(&source_props))
                    .flatten()
            })
            .ok_or_else(|| RoleError::SourceWithoutKeys {
                profile: role.name.clone(),
                source_profile: source.clone(),
                suffix: ctx.long_term_suffix.clone(),
            })?;
        let keys = LongTermKeys {
            access_key_id: id,
            secret_access_key: Secret::new(secret),
        };
        let serial = role
            .mfa_serial
            .clone()
            .or_else(|| session::configured_serial(&source_cfg, &lt));
        let api = SdkApi::new(&keys, &settings);
        let session = match serial {
            None => runtime.block_on(api.assume_role(&base))?,
            Some(serial) => {
                let given = args
                    .code
                    .as_deref()
                    .map(crate::mfa::validate_code)
                    .transpose()?;
                let code_source = login::code_source(
                    args,
                    ctx,
                    &role.name,
                    &long_term,
                    &role.config,
                    &BTreeMap::new(),
                )
                .or_else(|| login::code_source(args, ctx, &source, &long_term, &source_cfg, &lt));
                let mut tty =
                    if given.is_some() || code_source.is_some() || mode == LoginMode::Unattended {
                        None
                    } else {
                        Terminal::open()
                    };
                if given.is_none() && code_source.is_none() && tty.is_none() {
                    return Err(match mode {
                        LoginMode::Always => MfaError::NoSource.into(),
                        _ => anyhow::Error::from(NoSession {
                            profile: role.name.clone(),
                            state: state_text(cached.as_ref(), now),
                            why: format!(
                                "no MFA code source and no terminal: run `mfa-session login --profile {}` \
                                 or `mfa-session login --profile {source}` first",
                                role.name
                            ),
                        }),
                    });
                }
                let serial_ref = serial.as_str();
                let (api_ref, base_ref) = (&api, &base);
                runtime.block_on(login::with_code(
                    serial_ref,
                    &role.name,
                    given,
                    code_source.as_ref(),
                    tty.as_mut(),
                    |code| async move {
                        let req = AssumeRole {
                            mfa: Some((serial_ref.to_string(), code)),
                            ..base_ref.clone()
                        };
                        api_ref.assume_role(&req).await
                    },
                ))?
            }
        };
        (
            session,
            format!("the long-term keys of [{source}] and an MFA code"),
        )
    };

    let path = cache_path(ctx, &role.name)?;
    store_fs::write_private(&path, encode(role, &session).as_bytes())
        .map_err(|source| RoleError::Cache { path, source })?;
    if let Some(name) = write_profile {
        let file = SharedFile::new(&files.credentials_path, FileKind::Credentials);
        file.update(|doc| store::put_session(doc, name, &ctx.long_term_suffix, &session))?;
    }
    Ok(Outcome::RoleAssumed {
        profile: role.name.clone(),
        session,
        via,
    })
}

/// The role's own settings win over the source profile's (region, endpoint_url).
fn merged(
    source: &BTreeMap<String, String>,
    role: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut m = source.clone();
    m.extend(role.iter().map(|(k, v)| (k.clone(), v.clone())));
    m
}

fn state_text(s: Option<&Session>, now: DateTime<Utc>) -> String {
    match s {
        None => "none cached yet".into(),
        Some(s) => s.time_left_text(now),
    }
}

fn check_write_profile(name: &str, role: &RoleProfile, files: &Files) -> Result<(), RoleError> {
    let why = if name == role.name {
        Some("the role profile itself")
    } else if role.source_profile.as_deref() == Some(name) {
        Some("the source profile, whose MFA session it would overwrite")
    } else if role_profile(&files.config, name).is_some() {
        Some("another role profile")
    } else {
        None
    };
    match why {
        Some(why) => Err(RoleError::WriteProfileShadows {
            name: name.to_string(),
            why,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Document;
    use chrono::TimeZone;

    #[test]
    fn reads_role_profiles_and_round_trips_the_cache() {
        let config = Document::parse(
            FileKind::Config,
            "[profile admin]\nrole_arn = arn:aws:iam::1:role/Admin\nsource_profile = work\n\
             mfa_serial = arn:aws:iam::1:mfa/me\nduration_seconds = 7200\nexternal_id = x\n\
             [profile work]\nregion = eu-west-1\n",
        )
        .unwrap();
        let r = role_profile(&config, "admin").unwrap();
        assert_eq!(r.source_profile.as_deref(), Some("work"));
        assert_eq!(r.external_id.as_deref(), Some("x"));
        assert!(role_profile(&config, "work").is_none());
        assert_eq!(role_profiles(&config).len(), 1);
        let s = Session {
            access_key_id: "ASIAROLE".into(),
            secret_access_key: Secret::new("s"),
            session_token: Secret::new("t"),
            expiration: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        };
        let text = encode(&r, &s);
        assert_eq!(decode(&text, &r.role_arn), Some(s));
        assert_eq!(decode(&text, "arn:aws:iam::1:role/Other"), None);
        assert_eq!(decode("garbage", &r.role_arn), None);
    }
}
