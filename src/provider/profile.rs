//! What a profile is, decided in one place for every command: a session profile (an MFA
//! session in `[P]` from the long-term keys of `[P-long-term]`), a role profile (`role_arn` in
//! `[profile P]` of the config file), or neither. `status` and `refresh --all` ask the same
//! question of the same list, [`managed`], so what one lists the other renews.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::ctx::Ctx;
use crate::error::{RoleError, SetupError};
use crate::provider::request::{DurationText, ROLE_BOUNDS, SESSION_BOUNDS};
use crate::session::{self, Holding, Session};

/// AssumeRole's default duration.
pub const ROLE_DEFAULT_DURATION: u32 = 3_600;
use crate::store::{Document, FileKind, SharedFile};

type Props = BTreeMap<String, String>;

/// The files as read for one decision: the credentials document and the config document.
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

    /// The session stored in `[profile]` of the credentials file, if it is a complete one.
    pub fn session(&self, profile: &str) -> Option<Session> {
        match Holding::of(&self.credentials.profile(profile).unwrap_or_default()) {
            Holding::Session(s) => s,
            _ => None,
        }
    }

    /// The credentials file, for writing.
    pub fn credentials_file(&self) -> SharedFile {
        SharedFile::new(&self.credentials_path, FileKind::Credentials)
    }
}

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
    pub config: Props,
}

impl RoleProfile {
    /// The source profile, which a role needs here (credential_source is for AWS compute).
    pub fn source(&self) -> Result<&str, RoleError> {
        self.source_profile
            .as_deref()
            .ok_or_else(|| RoleError::NoSourceProfile {
                profile: self.name.clone(),
            })
    }
}

/// What a profile is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An MFA session from long-term keys; the provider says what is missing, if anything.
    Session,
    Role(RoleProfile),
    /// No long-term section, no session, no role: nothing mfa-session manages.
    Neither,
}

/// The kind of profile `name`.
pub fn resolve(files: &Files, name: &str, suffix: &str) -> Kind {
    if let Some(r) = role_profile(&files.config, name) {
        return Kind::Role(r);
    }
    let has = |n: &str| files.credentials.profile(n).is_some_and(|p| !p.is_empty());
    if has(name) || has(&format!("{name}{suffix}")) {
        Kind::Session
    } else {
        Kind::Neither
    }
}

/// How long a new session of this profile lasts, in seconds: the `--duration` given, else its
/// `duration_seconds`, else AWS's default (12 h for a session, 1 h for a role). An unreadable
/// duration counts as the default here; the provider reports it when it is used.
pub fn lifetime(files: &Files, name: &str, kind: &Kind, flag: Option<&DurationText>) -> u32 {
    let role = matches!(kind, Kind::Role(_));
    let configured = match kind {
        Kind::Role(r) => r.duration_seconds.clone(),
        _ => files.config.get(name, "duration_seconds"),
    };
    lifetime_of(flag.map(|d| d.value.clone()).or(configured), role)
}

/// The lifetime a `duration_seconds` value gives a session (`role`: an AssumeRole session).
pub fn lifetime_of(duration_seconds: Option<String>, role: bool) -> u32 {
    let (bounds, default) = if role {
        (ROLE_BOUNDS, ROLE_DEFAULT_DURATION)
    } else {
        (SESSION_BOUNDS, session::DEFAULT_DURATION)
    };
    duration_seconds
        .and_then(|value| {
            DurationText {
                value,
                origin: String::new(),
            }
            .seconds(bounds)
            .ok()
        })
        .unwrap_or(default)
}

/// The refresh window that applies to profile `name` (see [`session::effective_window`]).
pub fn window(
    asked: std::time::Duration,
    files: &Files,
    name: &str,
    kind: &Kind,
    flag: Option<&DurationText>,
) -> std::time::Duration {
    session::effective_window(asked, lifetime(files, name, kind, flag))
}

/// The role profile `name`, if `[profile name]` of the config file has a `role_arn`.
pub fn role_profile(config: &Document, name: &str) -> Option<RoleProfile> {
    role_of(name, config.profile(name)?)
}

/// The role profile of `[profile name]` with properties `cfg`, if it has a `role_arn`.
fn role_of(name: &str, cfg: Props) -> Option<RoleProfile> {
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

/// The session profiles of a credentials file: those with a long-term section, and those
/// holding a session.
pub fn session_profiles(credentials: &BTreeMap<String, Props>, suffix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (name, props) in credentials {
        if let Some(base) = name.strip_suffix(suffix).filter(|b| !b.is_empty()) {
            out.insert(base.to_string());
        } else if Holding::is_session(props) {
            out.insert(name.clone());
        }
    }
    out
}

/// Every profile mfa-session manages, in the order `status` shows them and `refresh --all`
/// renews them: session profiles first (roles may be assumed from their sessions), then role
/// profiles whose source profile is managed (a session profile, or a managed role profile: a
/// role chain) or that have a cached session, each role after the roles it is assumed from. A
/// config profile with a `role_arn` is a role even where the credentials file has a section of
/// that name.
pub fn managed(
    files: &Files,
    suffix: &str,
    has_cached: impl Fn(&RoleProfile) -> bool,
) -> Vec<(String, Kind)> {
    let credentials = files.credentials.profiles().profiles;
    let sessions = session_profiles(&credentials, suffix);
    let all: BTreeMap<String, RoleProfile> = files
        .config
        .profiles()
        .profiles
        .into_iter()
        .filter_map(|(n, cfg)| role_of(&n, cfg).map(|r| (n, r)))
        .collect();
    // Hops from each role to the end of its chain; a loop counts as endless (it is listed
    // only with a cached session, and last).
    let depth = |r: &RoleProfile| -> usize {
        let mut hop = r;
        for d in 0..=all.len() {
            match hop.source_profile.as_ref().and_then(|s| all.get(s)) {
                Some(next) if next.name != hop.name => hop = next,
                _ => return d,
            }
        }
        usize::MAX
    };
    let mut ordered: Vec<(usize, &RoleProfile)> = all.values().map(|r| (depth(r), r)).collect();
    ordered.sort_by_key(|(d, _)| *d);
    let mut included: BTreeSet<&str> = BTreeSet::new();
    let mut roles: Vec<RoleProfile> = Vec::new();
    for (_, r) in ordered {
        let source_managed = r.source_profile.as_deref().is_some_and(|s| {
            if s != r.name && all.contains_key(s) {
                included.contains(s)
            } else {
                sessions.contains(s)
            }
        });
        if source_managed || has_cached(r) {
            included.insert(&r.name);
            roles.push(r.clone());
        }
    }
    let role_names: BTreeSet<String> = roles.iter().map(|r| r.name.clone()).collect();
    sessions
        .into_iter()
        .filter(|n| !role_names.contains(n))
        .map(|n| (n, Kind::Session))
        .chain(roles.into_iter().map(|r| (r.name.clone(), Kind::Role(r))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(creds: &str, config: &str) -> Files {
        Files {
            credentials_path: "/x".into(),
            credentials: Document::parse(FileKind::Credentials, creds).unwrap(),
            config: Document::parse(FileKind::Config, config).unwrap(),
        }
    }

    #[test]
    fn resolves_kinds_and_lists_roles_after_sessions() {
        let f = files(
            "[work-long-term]\naws_access_key_id = AKIA\n[old]\naws_access_key_id = ASIA\n\
             expiration = 2026-01-01T00:00:00Z\n[static]\naws_access_key_id = AKIA\n",
            "[profile admin]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = work\n\
             [profile other]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = nobody\n",
        );
        assert_eq!(resolve(&f, "work", "-long-term"), Kind::Session);
        assert_eq!(resolve(&f, "static", "-long-term"), Kind::Session);
        assert_eq!(resolve(&f, "nothing", "-long-term"), Kind::Neither);
        assert!(matches!(resolve(&f, "admin", "-long-term"), Kind::Role(_)));
        let names: Vec<String> = managed(&f, "-long-term", |_| false)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["old", "work", "admin"]);
        let with_cache: Vec<String> = managed(&f, "-long-term", |r| r.name == "other")
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(with_cache, ["old", "work", "admin", "other"]);
    }

    #[test]
    fn lists_role_chains_after_the_roles_they_are_assumed_from() {
        let f = files(
            "[work-long-term]\naws_access_key_id = AKIA\n",
            "[profile a-target]\nrole_arn = arn:aws:iam::1:role/T\nsource_profile = m-jump\n\
             [profile m-jump]\nrole_arn = arn:aws:iam::1:role/J\nsource_profile = z-first\n\
             [profile z-first]\nrole_arn = arn:aws:iam::1:role/F\nsource_profile = work\n\
             [profile loop1]\nrole_arn = arn:aws:iam::1:role/L\nsource_profile = loop2\n\
             [profile loop2]\nrole_arn = arn:aws:iam::1:role/L\nsource_profile = loop1\n\
             [profile orphan]\nrole_arn = arn:aws:iam::1:role/O\nsource_profile = nobody\n",
        );
        let names = |cached: &str| -> Vec<String> {
            managed(&f, "-long-term", |r| r.name == cached)
                .into_iter()
                .map(|(n, _)| n)
                .collect()
        };
        assert_eq!(names(""), ["work", "z-first", "m-jump", "a-target"]);
        assert_eq!(
            names("loop2"),
            ["work", "z-first", "m-jump", "a-target", "loop2"]
        );
    }
}
