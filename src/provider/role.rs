//! The AssumeRole provider, for role profiles as the AWS CLI defines them in `~/.aws/config`:
//!
//! ```ini
//! [profile admin]
//! role_arn = arn:aws:iam::123456789012:role/Admin
//! source_profile = work
//! mfa_serial = arn:aws:iam::123456789012:mfa/alice
//! ```
//!
//! One MFA code per identity: when the source profile already has a valid MFA session, the role
//! is assumed with that session (no code; AWS caps such chained sessions at one hour);
//! otherwise with the source's long-term keys plus SerialNumber and TokenCode (up to the role's
//! MaxSessionDuration), holding the source device's single-flight lock so a concurrent login of
//! the source and this role spend one code between them. Role sessions live in mfa-session's
//! own cache (0600 files of the user, with their expiry) and never in a credentials section
//! named after the role profile: the AWS CLI and SDKs resolve `[profile admin]` through its
//! `role_arn` themselves, and such a section would fight them. `--write-profile NAME` writes a
//! copy under another name for tools that read only the credentials file.
//!
//! Role chains: a source profile that is itself a role profile (`target` -> `jump` -> `work`)
//! is followed as the AWS CLI follows it. The MFA code, if any, is spent on the first hop only
//! (the role whose source has long-term keys or an MFA session); each later hop is a plain
//! AssumeRole signed by the previous hop's session, obtained through the broker like any other
//! request for that profile, so every hop is cached, single-flighted and renewed on its own, and
//! a chain whose root has a valid MFA session asks for nothing. AWS caps a session assumed
//! with a session at one hour: a longer duration is capped, with a word, not refused. A chain
//! that comes back to one of its profiles is refused ([`RoleError::Loop`]); a role whose
//! `source_profile` names itself uses that profile's own credentials, as the AWS CLI does.
//!
//! Role sessions do not carry MFA onward: where an SCP demands MFA, use the GetSessionToken
//! session of the source profile instead.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use chrono::Utc;
use serde_json::json;

use crate::aws::{self, AssumeRole, ClientSettings, LongTermKeys, MfaApi, SdkApi};
use crate::ctx::Ctx;
use crate::error::RoleError;
use crate::mfa::CodeSource;
use crate::mfa::source::Source;
use crate::provider::profile::{Files, ROLE_DEFAULT_DURATION, RoleProfile, role_profile};
use crate::provider::request::{DurationText, ROLE_BOUNDS, SessionRequest};
use crate::provider::{Needs, Outcome, Provider, flight, session_token};
use crate::session::{self, Holding, Secret, Session};
use crate::store::Document;
use crate::store::{self, fs as store_fs};
use crate::sys::fs::{self as sys_fs, How, OpenError};

/// The cap for a role assumed from a session.
const CHAINED_MAX_DURATION: u32 = 3_600;
/// A source session with less than this left is not used to assume a role.
const SOURCE_MARGIN: chrono::Duration = chrono::Duration::minutes(1);

/// `roles/<name>.json`; `/` and `%` (legal in profile names) are percent-encoded, and a name
/// too long for a file name is shortened with a hash ([`store_fs::bounded_file_name`]).
pub fn cache_path(ctx: &Ctx, name: &str) -> Result<PathBuf, RoleError> {
    let file = name.replace('%', "%25").replace('/', "%2F");
    Ok(ctx
        .env
        .role_cache_dir()
        .ok_or(RoleError::NoCacheDir)?
        .join(store_fs::bounded_file_name(&file, ".json")))
}

/// A cache entry records what the session was assumed with, so that an edit of the role
/// profile (another role, source profile, external id, session name or MFA serial) makes the
/// next request assume the role again instead of serving a session with the old settings.
/// `with_mfa`: the session was assumed with an MFA code (the serial then matters).
fn encode(role: &RoleProfile, s: &Session, with_mfa: bool) -> String {
    let doc = json!({
        "Version": 1,
        "Profile": role.name,
        "RoleArn": role.role_arn,
        "SourceProfile": role.source_profile,
        "ExternalId": role.external_id,
        "RoleSessionName": role.session_name,
        "MfaSerial": role.mfa_serial,
        "WithMfa": with_mfa,
        "AccessKeyId": s.access_key_id,
        "SecretAccessKey": s.secret_access_key.expose(),
        "SessionToken": s.session_token.expose(),
        "Expiration": session::format_expiration(s.expiration),
    });
    format!("{doc}\n")
}

/// The session of a cache entry, if it was assumed with the settings `role` has now. Entries
/// written before these settings were recorded read as "none set" (`null`): still served for a
/// profile without them, assumed again for one with them.
fn decode(text: &str, role: &RoleProfile) -> Option<Session> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let same = |key: &str, now: Option<&str>| v[key].as_str() == now;
    // A cache entry for another role (the profile was edited) is not this role's session.
    if v["RoleArn"].as_str()? != role.role_arn
        || v["Profile"].as_str().is_some_and(|p| p != role.name)
        || !same("SourceProfile", role.source_profile.as_deref())
        || !same("ExternalId", role.external_id.as_deref())
        || !same("RoleSessionName", role.session_name.as_deref())
        || (v["WithMfa"].as_bool() == Some(true) && !same("MfaSerial", role.mfa_serial.as_deref()))
    {
        return None;
    }
    Some(Session {
        access_key_id: v["AccessKeyId"].as_str()?.to_string(),
        secret_access_key: Secret::new(v["SecretAccessKey"].as_str()?),
        session_token: Secret::new(v["SessionToken"].as_str()?),
        expiration: session::parse_expiration(v["Expiration"].as_str()?)?,
    })
}

/// Largest cache entry read: a role session is well under 4 KiB.
const CACHE_MAX: u64 = 64 * 1024;

/// The cached session of a role profile, if any (valid or not). A cache directory another user
/// could write to is refused ([`store_fs::check_cache_dir`]). A cache file that another user
/// could have planted or read (not ours, not a regular file, readable or writable by group or
/// others) is ignored with a warning, and replaced at the next assume.
pub fn cached(ctx: &Ctx, role: &RoleProfile) -> anyhow::Result<Option<Session>> {
    let cache = ctx.env.cache_dir().ok_or(RoleError::NoCacheDir)?;
    if !store_fs::check_cache_dir(&cache)? {
        return Ok(None);
    }
    let path = cache_path(ctx, &role.name)?;
    let cache_err = |source| RoleError::Cache {
        path: path.clone(),
        source,
    };
    let (file, meta) = match sys_fs::open(&path, How::ReadNoFollow) {
        Ok(opened) => opened,
        Err(OpenError::Missing) => return Ok(None),
        Err(OpenError::NotRegular(what)) => {
            untrusted(&path, what);
            return Ok(None);
        }
        Err(OpenError::Io(e)) => return Err(cache_err(e).into()),
    };
    let dir = path.parent().unwrap_or(&path);
    if let Some(why) = sys_fs::private_problem(&file, &meta, |uid| store_fs::owned_by_us(uid, dir))
    {
        untrusted(&path, &why);
        return Ok(None);
    }
    // Sized from the file: one read takes it all (8000 roles in `status` are 8000 of these).
    let mut text = String::with_capacity(meta.len().min(CACHE_MAX) as usize + 1);
    if (&file).take(CACHE_MAX).read_to_string(&mut text).is_err() {
        return Ok(None);
    }
    Ok(decode(&text, role))
}

fn untrusted(path: &std::path::Path, why: &str) {
    tracing::warn!(
        "ignoring the role-session cache file {}: it is {why}; a new session will replace it",
        path.display()
    );
}

/// A role login, planned from the files and the request.
pub struct RoleProvider {
    role: RoleProfile,
    source: String,
    requested: u32,
    settings: ClientSettings,
    /// The source's MFA session, when it has one valid for more than a minute.
    source_session: Option<Session>,
    /// The source's long-term keys, serial and configured code source, otherwise.
    keys: Option<(LongTermKeys, Option<String>, Option<Source>)>,
    /// The request for the source's session when the source is itself a role profile (a role
    /// chain): answered by the broker, which caches that hop and follows the chain further.
    source_role: Option<SessionRequest>,
    write_profile: Option<String>,
}

/// The profiles of the chain that starts at `role`, each a role profile whose source is the
/// next: `[role, jump, ...]`, ending at the role whose source is not a role profile (or names
/// itself, and so has credentials of its own). A chain that comes back to one of its profiles
/// is [`RoleError::Loop`].
pub fn chain(config: &Document, role: &RoleProfile) -> Result<Vec<String>, RoleError> {
    let mut names = vec![role.name.clone()];
    let mut hop = role.clone();
    while let Some(source) = hop.source_profile.clone() {
        if source == hop.name {
            break;
        }
        if names.contains(&source) {
            names.push(source);
            return Err(RoleError::Loop {
                profile: role.name.clone(),
                chain: names.join(" -> "),
            });
        }
        let Some(next) = role_profile(config, &source) else {
            break;
        };
        names.push(source);
        hop = next;
    }
    Ok(names)
}

impl RoleProvider {
    pub fn new(
        role: RoleProfile,
        req: &SessionRequest,
        ctx: &Ctx,
        files: &Files,
    ) -> anyhow::Result<RoleProvider> {
        if let Some(name) = &req.write_profile {
            check_write_profile(
                name,
                &role,
                &files.credentials,
                &files.config,
                &ctx.long_term_suffix,
                || cached_key(ctx, &role),
            )?;
        }
        let source = role.source()?.to_string();
        let source_cfg = files.config.profile(&source).unwrap_or_default();
        let settings = session_token::client_settings(
            req.region.as_deref(),
            req.timeout,
            ctx,
            &merged(&source_cfg, &role.config),
        );
        let text = req.duration.clone().or_else(|| {
            role.duration_seconds.clone().map(|value| DurationText {
                value,
                origin: format!(
                    "duration_seconds in [profile {}] of {}",
                    role.name,
                    ctx.config_path.clone().unwrap_or_default().display()
                ),
            })
        });
        let requested = match text {
            Some(d) => d.seconds(ROLE_BOUNDS)?,
            None => ROLE_DEFAULT_DURATION,
        };
        if chain(&files.config, &role)?.len() > 1 {
            // The source's session comes from the broker: cached, single-flighted, and
            // assumed itself (with the code, at the first hop) when it has none. It only has
            // to outlive the call that uses it.
            let source_role = SessionRequest {
                profile: source.clone(),
                window: SOURCE_MARGIN.to_std().unwrap_or_default(),
                exact_window: true,
                force: false,
                duration: None,
                write_profile: None,
                ..req.clone()
            };
            return Ok(RoleProvider {
                role,
                source,
                requested,
                settings,
                source_session: None,
                keys: None,
                source_role: Some(source_role),
                write_profile: req.write_profile.clone(),
            });
        }
        let now = Utc::now();
        let source_props = files.credentials.profile(&source).unwrap_or_default();
        let source_session = match Holding::of(&source_props) {
            Holding::Session(Some(s)) if s.remaining(now) > SOURCE_MARGIN => Some(s),
            _ => None,
        };
        let keys = if source_session.is_some() {
            None
        } else {
            let long_term = ctx.long_term(&source);
            let lt = files.credentials.profile(&long_term).unwrap_or_default();
            let (id, secret) = crate::secrets::long_term_keys(&lt)?
                .or_else(|| {
                    (Holding::of(&source_props) == Holding::LongTermKeys)
                        .then(|| session::key_pair(&source_props))
                        .flatten()
                        .map(|(id, s)| (id, Secret::new(s)))
                })
                .ok_or_else(|| RoleError::SourceWithoutKeys {
                    profile: role.name.clone(),
                    source_profile: source.clone(),
                    suffix: ctx.long_term_suffix.clone(),
                })?;
            let serial = role
                .mfa_serial
                .clone()
                .or_else(|| session::configured_serial(&source_cfg, &lt));
            let code_source = session_token::configured_source(
                req,
                ctx,
                &role.name,
                &long_term,
                &role.config,
                &BTreeMap::new(),
            )
            .or_else(|| {
                session_token::configured_source(req, ctx, &source, &long_term, &source_cfg, &lt)
            });
            Some((
                LongTermKeys {
                    access_key_id: id,
                    secret_access_key: secret,
                },
                serial,
                code_source,
            ))
        };
        Ok(RoleProvider {
            role,
            source,
            requested,
            settings,
            source_session,
            keys,
            source_role: None,
            write_profile: req.write_profile.clone(),
        })
    }

    fn request(&self, duration_seconds: u32) -> AssumeRole {
        AssumeRole {
            role_arn: self.role.role_arn.clone(),
            session_name: self
                .role
                .session_name
                .clone()
                .unwrap_or_else(|| format!("mfa-session-{}", Utc::now().timestamp())),
            duration_seconds,
            external_id: self.role.external_id.clone(),
            mfa: None,
        }
    }

    /// AssumeRole with a session (the source's MFA session, or the previous hop's role
    /// session): no code, at most one hour. `via` says which session, for the person.
    fn chained(&self, ctx: &Ctx, s: &Session, via: String) -> anyhow::Result<(Session, String)> {
        if self.requested > CHAINED_MAX_DURATION {
            ctx.say(&format!(
                "[{}] is assumed with a session (role chaining), which AWS allows 1 hour at \
                 most: {} s asked, capped at {CHAINED_MAX_DURATION} s",
                self.role.name, self.requested
            ));
        }
        let req = self.request(self.requested.min(CHAINED_MAX_DURATION));
        let api = SdkApi::with_session(s, &self.settings);
        let session = aws::runtime()?.block_on(api.assume_role(&req))?;
        Ok((session, via))
    }

    /// The MFA session of the source profile, as `via` text.
    fn source_session_text(&self) -> String {
        format!("the MFA session of [{}]", self.source)
    }
}

impl Provider for RoleProvider {
    fn profile(&self) -> &str {
        &self.role.name
    }

    fn flight_key(&self) -> String {
        flight::role_key(&self.role.name)
    }

    fn stored(&self, ctx: &Ctx, _: &Files) -> anyhow::Result<Option<Session>> {
        cached(ctx, &self.role)
    }

    fn keep(&self, ctx: &Ctx, files: &Files, session: &Session) -> anyhow::Result<()> {
        if let Some(name) = &self.write_profile {
            // Checked again under the file's lock: another run may have written [name] since.
            files
                .credentials_file()
                .update(|doc| -> anyhow::Result<()> {
                    check_write_profile(
                        name,
                        &self.role,
                        doc,
                        &files.config,
                        &ctx.long_term_suffix,
                        || cached_key(ctx, &self.role),
                    )?;
                    store::put_session(doc, name, &ctx.long_term_suffix, session)?;
                    doc.set(name, COPY_OF_KEY, &self.role.name)
                        .map_err(store::StoreError::from)?;
                    Ok(())
                })?;
        }
        Ok(())
    }

    fn preflight(&self, ctx: &Ctx, files: &Files) -> anyhow::Result<()> {
        self.settings.validate()?;
        // Where the session will be kept, made and checked before a code is spent on it.
        let cache = ctx.env.cache_dir().ok_or(RoleError::NoCacheDir)?;
        store_fs::cache_subdir(&cache, "roles")?;
        if let Some((keys, serial, _)) = &self.keys {
            keys.validate()?;
            if let Some(serial) = serial {
                let origin = if self.role.mfa_serial.as_ref() == Some(serial) {
                    format!(
                        "mfa_serial in [profile {}] of the config file",
                        self.role.name
                    )
                } else {
                    format!("the mfa_serial of source profile {}", self.source)
                };
                crate::mfa::devices::check_configured(serial, &origin)?;
            }
        }
        if self.write_profile.is_some() {
            files.credentials_file().preflight()?;
        }
        Ok(())
    }

    fn needs(&self) -> Needs {
        match &self.keys {
            Some((_, Some(_), source)) => Needs::Code(source.clone()),
            _ => Needs::Nothing,
        }
    }

    fn renew(
        &self,
        ctx: &Ctx,
        files: &Files,
        code: Option<CodeSource<'_>>,
    ) -> anyhow::Result<Outcome> {
        if let Some(inner) = &self.source_role {
            // The previous hop first (from its cache, or assumed now, with the code if it is
            // the first hop), then this one, signed with its session.
            let (hop, _) = super::session_from(inner, ctx, files)?;
            if !matches!(hop, Outcome::StillValid { .. }) {
                ctx.say(&hop.describe(Utc::now()));
            }
            let via = format!("the session of role profile [{}]", self.source);
            let (session, via, with_mfa) = without_code(self.chained(ctx, hop.session(), via)?);
            return self.store(ctx, files, session, via, with_mfa);
        }
        let (session, via, with_mfa) = match (&self.source_session, &self.keys) {
            (Some(s), _) => without_code(self.chained(ctx, s, self.source_session_text())?),
            (None, Some((keys, None, _))) => {
                let api = SdkApi::try_new(keys, &self.settings)?;
                let session =
                    aws::runtime()?.block_on(api.assume_role(&self.request(self.requested)))?;
                (
                    session,
                    format!("the long-term keys of [{}]", self.source),
                    false,
                )
            }
            (None, Some((keys, Some(serial), _))) => {
                // The code is the source device's: take its flight, and if the source got a
                // session while we waited, chain from it instead of spending a code.
                let device =
                    super::acquire(ctx, &flight::device_key(&keys.access_key_id), &self.source)?;
                let fresh = if device.waited {
                    let files = Files::read(ctx)?;
                    let props = files.credentials.profile(&self.source).unwrap_or_default();
                    match Holding::of(&props) {
                        Holding::Session(Some(s)) if s.remaining(Utc::now()) > SOURCE_MARGIN => {
                            Some(s)
                        }
                        _ => None,
                    }
                } else {
                    None
                };
                match fresh {
                    Some(s) => without_code(self.chained(ctx, &s, self.source_session_text())?),
                    None => {
                        let mut code = code.ok_or(crate::mfa::MfaError::NoSource)?;
                        let api = SdkApi::try_new(keys, &self.settings)?;
                        let base = self.request(self.requested);
                        let (api_ref, base_ref, serial_ref) = (&api, &base, serial.as_str());
                        let session = aws::runtime()?.block_on(session_token::with_code(
                            serial_ref,
                            &self.role.name,
                            &mut code,
                            |code| async move {
                                let req = AssumeRole {
                                    mfa: Some((serial_ref.to_string(), code)),
                                    ..base_ref.clone()
                                };
                                api_ref.assume_role(&req).await
                            },
                        ))?;
                        (
                            session,
                            format!("the long-term keys of [{}] and an MFA code", self.source),
                            true,
                        )
                    }
                }
            }
            (None, None) => unreachable!("a role provider has a source session or keys"),
        };
        self.store(ctx, files, session, via, with_mfa)
    }
}

impl RoleProvider {
    /// Caches a session just assumed (and writes any `--write-profile` copy).
    fn store(
        &self,
        ctx: &Ctx,
        files: &Files,
        session: Session,
        via: String,
        with_mfa: bool,
    ) -> anyhow::Result<Outcome> {
        let path = cache_path(ctx, &self.role.name)?;
        store_fs::write_private(&path, encode(&self.role, &session, with_mfa).as_bytes())
            .map_err(|source| RoleError::Cache { path, source })?;
        self.keep(ctx, files, &session)?;
        Ok(Outcome::RoleAssumed {
            profile: self.role.name.clone(),
            session,
            via,
        })
    }
}

/// A session assumed without an MFA code: its serial is not part of what it was assumed with.
fn without_code((session, via): (Session, String)) -> (Session, String, bool) {
    (session, via, false)
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

/// The access key of the role's cached session: a copy written before [`COPY_OF_KEY`] existed
/// is recognised by it.
fn cached_key(ctx: &Ctx, role: &RoleProfile) -> Option<String> {
    cached(ctx, role).ok().flatten().map(|s| s.access_key_id)
}

/// The key `--write-profile` writes into its copy: the role profile whose session it holds.
/// Only a section carrying this role's mark is overwritten by later runs.
pub const COPY_OF_KEY: &str = "mfa_role_copy_of";

/// Config keys that give a profile credentials of its own: a credentials section of that name
/// would be used instead of them.
const CREDENTIAL_CONFIG_KEYS: &[&str] = &[
    "source_profile",
    "credential_source",
    "credential_process",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
];

/// Whether `--write-profile name` may write there: only a name that shadows nothing, and
/// whose credentials section is absent, empty, or a copy this same role wrote earlier (its
/// mark, or — for copies written before the mark existed — the cached session's key).
fn check_write_profile(
    name: &str,
    role: &RoleProfile,
    credentials: &store::Document,
    config: &store::Document,
    suffix: &str,
    cached_key: impl Fn() -> Option<String>,
) -> Result<(), RoleError> {
    let why = if name == role.name {
        Some("the role profile itself".to_string())
    } else if role.source_profile.as_deref() == Some(name) {
        Some("the source profile, whose MFA session it would overwrite".to_string())
    } else if role_profile(config, name).is_some() {
        Some("another role profile".to_string())
    } else {
        None
    };
    if let Some(why) = why {
        return Err(RoleError::WriteProfileShadows {
            name: name.to_string(),
            why,
        });
    }
    let cfg = config.profile(name).unwrap_or_default();
    let why = if let Some(k) = CREDENTIAL_CONFIG_KEYS
        .iter()
        .find(|k| cfg.contains_key(**k))
    {
        Some(format!(
            "a profile of the config file with credentials of its own ({k} in [profile {name}])"
        ))
    } else if let Some(base) = name.strip_suffix(suffix).filter(|b| !b.is_empty()) {
        Some(format!(
            "the long-term section of profile {base}, where mfa-session keeps its keys"
        ))
    } else if credentials
        .profile(&format!("{name}{suffix}"))
        .is_some_and(|p| !p.is_empty())
    {
        Some(format!(
            "a session profile managed by mfa-session (its long-term keys are in [{name}{suffix}])"
        ))
    } else {
        section_in_use(
            name,
            role,
            &credentials.profile(name).unwrap_or_default(),
            cached_key,
        )
    };
    match why {
        Some(why) => Err(RoleError::WriteProfileManaged {
            name: name.to_string(),
            why,
        }),
        None => Ok(()),
    }
}

/// Why the credentials section `[name]` (its properties `props`) is not free for this role's
/// copy, if it is not.
fn section_in_use(
    name: &str,
    role: &RoleProfile,
    props: &BTreeMap<String, String>,
    cached_key: impl Fn() -> Option<String>,
) -> Option<String> {
    if props.is_empty() {
        return None;
    }
    match props.get(COPY_OF_KEY).map(String::as_str) {
        Some(owner) if owner == role.name => return None,
        Some(owner) => {
            return Some(format!(
                "the copy of role profile {} in the credentials file",
                crate::text::untrusted(owner)
            ));
        }
        None => {}
    }
    Some(match Holding::of(props) {
        Holding::Session(s) => {
            let ours = s
                .as_ref()
                .is_some_and(|s| cached_key().is_some_and(|k| k == s.access_key_id));
            if ours {
                return None;
            }
            format!(
                "[{name}] in the credentials file, which holds session credentials that \
                 mfa-session did not write for role profile {} (another profile's MFA session?)",
                role.name
            )
        }
        Holding::LongTermKeys => {
            format!("[{name}] in the credentials file, which holds long-term access keys")
        }
        Holding::Empty => {
            let keys: Vec<&str> = props.keys().map(String::as_str).collect();
            format!(
                "[{name}] in the credentials file, which holds other settings ({})",
                crate::text::untrusted(&keys.join(", "))
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Document, FileKind};
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
        let s = Session {
            access_key_id: "ASIAROLE".into(),
            secret_access_key: Secret::new("s"),
            session_token: Secret::new("t"),
            expiration: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        };
        let text = encode(&r, &s, true);
        assert_eq!(decode(&text, &r), Some(s.clone()));
        assert_eq!(decode("garbage", &r), None);
        // Any setting it was assumed with, changed: not this profile's session any more.
        let edits: [fn(&mut RoleProfile); 7] = [
            |r| r.name = "other".into(),
            |r| r.role_arn = "arn:aws:iam::1:role/Other".into(),
            |r| r.source_profile = Some("other".into()),
            |r| r.external_id = None,
            |r| r.external_id = Some("y".into()),
            |r| r.session_name = Some("alice".into()),
            |r| r.mfa_serial = Some("arn:aws:iam::1:mfa/other".into()),
        ];
        for edit in edits {
            let mut changed = r.clone();
            edit(&mut changed);
            assert_eq!(decode(&text, &changed), None, "{changed:?}");
        }
        // The serial only counts when a code was spent on the session.
        let mut other_serial = r.clone();
        other_serial.mfa_serial = None;
        assert_eq!(
            decode(&encode(&r, &s, false), &other_serial),
            Some(s.clone())
        );
        // An entry from before these were recorded: served while the profile sets none of them.
        let old = format!(
            "{{\"Version\":1,\"RoleArn\":\"{}\",\"SourceProfile\":\"work\",\
             \"AccessKeyId\":\"ASIAROLE\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\",\
             \"Expiration\":\"2026-01-01T00:00:00Z\"}}",
            r.role_arn
        );
        assert_eq!(decode(&old, &r), None, "r has an external id");
        let mut plain = r.clone();
        plain.external_id = None;
        assert_eq!(decode(&old, &plain), Some(s));
    }

    #[test]
    fn chains_are_followed_to_the_first_hop_and_loops_refused() {
        let config = Document::parse(
            FileKind::Config,
            "[profile target]\nrole_arn = arn:aws:iam::1:role/T\nsource_profile = jump\n\
             [profile jump]\nrole_arn = arn:aws:iam::1:role/J\nsource_profile = work\n\
             [profile self]\nrole_arn = arn:aws:iam::1:role/S\nsource_profile = self\n\
             [profile via-self]\nrole_arn = arn:aws:iam::1:role/V\nsource_profile = self\n\
             [profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = b\n\
             [profile b]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = a\n",
        )
        .unwrap();
        let of = |name: &str| chain(&config, &role_profile(&config, name).unwrap());
        assert_eq!(of("target").unwrap(), ["target", "jump"]);
        assert_eq!(of("jump").unwrap(), ["jump"]);
        // A role naming itself uses that profile's own credentials, as the AWS CLI does.
        assert_eq!(of("self").unwrap(), ["self"]);
        assert_eq!(of("via-self").unwrap(), ["via-self", "self"]);
        let e = of("a").unwrap_err();
        assert!(matches!(e, RoleError::Loop { .. }), "{e}");
        assert!(e.to_string().contains("a -> b -> a"), "{e}");
    }

    #[test]
    fn a_copy_is_recognised_by_its_mark_or_by_the_cached_key() {
        let config = Document::parse(
            FileKind::Config,
            "[profile admin]\nrole_arn = arn:aws:iam::1:role/Admin\nsource_profile = work\n",
        )
        .unwrap();
        let r = role_profile(&config, "admin").unwrap();
        let session = "aws_access_key_id = ASIAOLD\naws_secret_access_key = s\n\
                       aws_session_token = t\nexpiration = 2026-01-01T00:00:00Z\n";
        let check = |creds: &str, cached: Option<&str>| {
            let creds = Document::parse(FileKind::Credentials, creds).unwrap();
            let cached = cached.map(str::to_string);
            check_write_profile("copy", &r, &creds, &config, "-long-term", || cached.clone())
        };
        assert!(check("", None).is_ok());
        assert!(check("[copy]\n", None).is_ok());
        assert!(
            check(
                &format!("[copy]\n{session}mfa_role_copy_of = admin\n"),
                None
            )
            .is_ok()
        );
        assert!(check(&format!("[copy]\n{session}"), Some("ASIAOLD")).is_ok());
        assert!(check(&format!("[copy]\n{session}"), Some("ASIANEW")).is_err());
        assert!(
            check(
                &format!("[copy]\n{session}mfa_role_copy_of = other\n"),
                None
            )
            .is_err()
        );
        assert!(check("[copy-long-term]\naws_access_key_id = AKIA\n", None).is_err());
    }
}
