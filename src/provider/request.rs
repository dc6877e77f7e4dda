//! What a command asks the provider layer for, lowered once from its flags.
//!
//! Commands turn their clap structs into a [`SessionRequest`] and nothing below them knows a
//! flag existed: durations are parsed and bounded here (one parser for `--duration` and for
//! `duration_seconds` in the config file, one message, found before any network call), the
//! code given on the command line is checked for shape here, and the mode says how far the
//! provider may go to get a session.

use std::time::Duration;

use crate::error::{BadProfileName, DurationError};
use crate::mfa::{self, MfaError};
use crate::session::Secret;

/// A profile name the files could hold: the SDKs' characters only (no line break, no blank),
/// checked before anything else so that a typo is one clear line, exit 2.
pub fn check_profile(name: &str) -> Result<(), BadProfileName> {
    if crate::store::doc::is_valid_identifier(name) {
        Ok(())
    } else {
        Err(BadProfileName {
            name: crate::text::untrusted(&format!("{name:?}")),
        })
    }
}

/// When the provider may obtain a new session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `login`: always; with no code source and no terminal that is [`MfaError::NoSource`].
    Always,
    /// `export`, `credential-process`, `exec`: when a code source exists, else
    /// [`crate::error::NoSession`].
    IfPossible,
    /// `--no-login`: never; no network at all.
    Never,
    /// `refresh`: only from `--code` or a configured source, never from a person.
    Unattended,
    /// `exec --server` renewing for the command it serves: as [`Mode::IfPossible`] (the
    /// terminal is the command's by then, so a person is asked only in a dialog), but when no
    /// new session can be had, the stored one is served for as long as it has time left.
    Background,
}

/// GetSessionToken's bounds for IAM users, in seconds, and its default.
pub const SESSION_BOUNDS: Bounds = Bounds {
    min: 900,
    max: 129_600,
    what: "a session",
};
/// AssumeRole's bounds: 900 s up to the role's MaxSessionDuration, which IAM caps at 12 h.
pub const ROLE_BOUNDS: Bounds = Bounds {
    min: 900,
    max: 43_200,
    what: "a role session (the role's MaxSessionDuration may be lower)",
};

/// Seconds a duration may span, and what for (for the message).
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub min: u32,
    pub max: u32,
    pub what: &'static str,
}

/// A duration as the person wrote it and where (`--duration`, or `duration_seconds` of a
/// profile), checked against `bounds` only when the provider knows which bounds apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurationText {
    pub value: String,
    pub origin: String,
}

impl DurationText {
    /// Whole seconds within `bounds`: `3600`, `90m`, `12h`, `1d12h`.
    pub fn seconds(&self, bounds: Bounds) -> Result<u32, DurationError> {
        let err = |why: String| DurationError {
            origin: self.origin.clone(),
            value: self.value.clone(),
            why,
        };
        let d = crate::session::parse_duration(&self.value).map_err(err)?;
        let short = |s: u32| {
            if s.is_multiple_of(3600) {
                format!("{}h", s / 3600)
            } else {
                format!("{}m", s / 60)
            }
        };
        let outside = || {
            err(format!(
                "outside what AWS allows for {}: {} s ({}) to {} s ({})",
                bounds.what,
                bounds.min,
                short(bounds.min),
                bounds.max,
                short(bounds.max)
            ))
        };
        if d.subsec_nanos() != 0 {
            return Err(err("whole seconds only".into()));
        }
        let secs = u32::try_from(d.as_secs()).map_err(|_| outside())?;
        if secs < bounds.min || secs > bounds.max {
            return Err(outside());
        }
        Ok(secs)
    }
}

/// "A valid session for profile P, please", with everything the flags said about how.
#[derive(Clone, Debug)]
pub struct SessionRequest {
    pub profile: String,
    pub mode: Mode,
    /// A session with less than this left is renewed (the refresh window, or refresh's
    /// threshold); see [`SessionRequest::window_for`].
    pub window: Duration,
    /// `window` was asked for explicitly (`refresh --threshold`): honoured as given, not capped
    /// at a third of the session's life as a default is.
    pub exact_window: bool,
    /// Renew even a valid session (`login --force`).
    pub force: bool,
    /// `--duration`, checked against the profile kind's bounds by its provider.
    pub duration: Option<DurationText>,
    /// `--code`, already checked for shape.
    pub code: Option<Secret>,
    /// `--mfa-process`: overrides the configured code sources.
    pub mfa_process: Option<String>,
    /// `--serial`.
    pub serial: Option<String>,
    /// `--region`.
    pub region: Option<String>,
    /// Per attempt of an AWS call.
    pub timeout: Duration,
    /// `--write-profile` (role profiles only).
    pub write_profile: Option<String>,
    /// `--prompt`: who asks a person for the code.
    pub prompt: Option<crate::mfa::prompt::PromptKind>,
}

impl SessionRequest {
    /// A plain request for `profile` in `mode`, with the defaults of the session commands.
    pub fn new(profile: String, mode: Mode, window: Duration) -> SessionRequest {
        SessionRequest {
            profile,
            mode,
            window,
            exact_window: false,
            force: false,
            duration: None,
            code: None,
            mfa_process: None,
            serial: None,
            region: None,
            timeout: Duration::from_secs(10),
            write_profile: None,
            prompt: None,
        }
    }

    /// The window a session lasting `lifetime_secs` in all must outlive: the one asked for when
    /// it was asked for explicitly, else the default capped at a third of the session's life
    /// (see [`crate::session::effective_window`]).
    pub fn window_for(&self, lifetime_secs: u32) -> Duration {
        if self.exact_window {
            self.window
        } else {
            crate::session::effective_window(self.window, lifetime_secs)
        }
    }

    /// Sets `--code` after checking its shape (six digits), before any call is made.
    pub fn with_code(mut self, code: Option<&str>) -> Result<Self, MfaError> {
        self.code = code.map(mfa::validate_code).transpose()?;
        Ok(self)
    }

    /// Sets `--duration`, checked against the widest bounds AWS has (a session's) now, so a
    /// typo fails as a usage error before anything else; the provider applies its own bounds.
    pub fn with_duration(mut self, flag: Option<&str>) -> Result<Self, DurationError> {
        self.duration = flag
            .map(|value| {
                let d = DurationText {
                    value: value.to_string(),
                    origin: "--duration".into(),
                };
                d.seconds(SESSION_BOUNDS).map(|_| d)
            })
            .transpose()?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(v: &str) -> DurationText {
        DurationText {
            value: v.into(),
            origin: "--duration".into(),
        }
    }

    #[test]
    fn durations_are_bounded_without_wrapping() {
        assert_eq!(flag("3600").seconds(SESSION_BOUNDS).unwrap(), 3600);
        assert_eq!(flag("1d12h").seconds(SESSION_BOUNDS).unwrap(), 129_600);
        assert_eq!(flag("12h").seconds(ROLE_BOUNDS).unwrap(), 43_200);
        for bad in [
            "4294968196",
            "2147484548",
            "99999999999999999999",
            "899",
            "37h",
        ] {
            let e = flag(bad).seconds(SESSION_BOUNDS).unwrap_err();
            assert!(e.to_string().starts_with("--duration"), "{e}");
        }
        let e = flag("13h").seconds(ROLE_BOUNDS).unwrap_err().to_string();
        assert!(e.contains("900 s (15m) to 43200 s (12h)"), "{e}");
        assert!(flag("soon").seconds(SESSION_BOUNDS).is_err());
    }
}
