//! Where MFA codes come from: `--code`, a configured non-interactive [`source::Source`]
//! (`mfa_process`, `mfa_totp_secret_file`), or a person — at the terminal, in a dialog or
//! touching a YubiKey ([`prompt`]) — first that applies.
//!
//! The terminal is `/dev/tty`, not stdin/stdout, so a prompt still reaches the user inside
//! `eval "$(mfa-session export)"` and never pollutes data on stdout. With no controlling terminal
//! (cron, CI, `setsid`) there is nobody to ask: callers get [`MfaError::NoSource`] at once instead
//! of a process waiting forever. Codes are [`Secret`]s: never in `Debug`, logs or messages.

use std::io;

use crate::session::Secret;

pub mod devices;
pub mod prompt;
pub mod source;

pub use prompt::{Prompt, Terminal};

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("an MFA code is exactly 6 digits; the one given has {len} characters or a non-digit")]
    BadFormat { len: usize },
    #[error(
        "no MFA code and no terminal or dialog to ask for one: pass --code 123456 (the current \
         code of your MFA device), run mfa-session in a terminal, or see docs/gui.md for dialogs \
         (zenity, kdialog) and YubiKeys"
    )]
    NoSource,
    #[error(
        "{count} MFA devices are enabled for this user and there is no terminal to choose one: \
         pass --serial ARN, or set mfa_serial in [{section}]. Devices: {devices}"
    )]
    MustChoose {
        count: usize,
        section: String,
        devices: String,
    },
    #[error("no code entered")]
    Cancelled,
    #[error("the MFA dialog ({prompt}) was cancelled; nothing was sent to AWS")]
    DialogCancelled { prompt: &'static str },
    #[error("the MFA prompt ({prompt}) got no answer within {seconds} s and was closed")]
    PromptTimeout { prompt: &'static str, seconds: u64 },
    #[error("the MFA prompt {prompt} ({origin}) cannot be used here: {why}")]
    PromptUnavailable {
        prompt: &'static str,
        origin: String,
        why: String,
    },
    #[error("the MFA prompt {prompt} failed: {why}")]
    PromptFailed { prompt: &'static str, why: String },
    #[error(
        "{origin}: unknown MFA prompt {value}; use one of {}",
        prompt::PromptKind::NAMES
    )]
    UnknownPrompt { value: String, origin: String },
    #[error(
        "{count} MFA devices are enabled for this user and ykman cannot choose one: pass \
         --serial ARN, or set mfa_serial in the profile. Devices: {devices}"
    )]
    CannotChoose { count: usize, devices: String },
    #[error(
        "the only MFA devices of {who} are security keys or passkeys ({keys}); {}",
        devices::SECURITY_KEYS_FIX
    )]
    OnlySecurityKeys { who: String, keys: String },
    #[error(
        "{serial} ({origin}) is a security key or passkey, which AWS does not take for an API \
         call, so nothing was sent; {}",
        devices::SECURITY_KEYS_FIX
    )]
    SecurityKeySerial { serial: String, origin: String },
    #[error("cannot use the terminal: {0}")]
    Tty(#[from] io::Error),
}

/// How long from `now` (since the Unix epoch) until the next 30-second TOTP step starts, plus
/// a second of margin: when a code was refused as used, the next one is worth asking for then.
pub fn next_window_in(now: std::time::Duration) -> std::time::Duration {
    let into = now.as_millis() % 30_000;
    std::time::Duration::from_millis(u64::try_from(30_000 - into).unwrap_or(30_000) + 1_000)
}

/// Checks a code's shape before any call is made, so a typo costs no round trip.
pub fn validate_code(code: &str) -> Result<Secret, MfaError> {
    let code = code.trim();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Secret::new(code))
    } else {
        Err(MfaError::BadFormat {
            len: code.chars().count(),
        })
    }
}

/// Where the code of one login comes from, chosen once before anything is asked or called.
pub enum CodeSource<'a> {
    /// `--code`: used once, never retried.
    Given(Secret),
    /// `mfa_process` or a TOTP seed: asked again in the next 30-second window if AWS refuses
    /// the code as used.
    Configured(source::Source),
    /// A person, asked again (up to three times) after a rejected code.
    Person(Box<dyn Prompt + 'a>),
}

impl std::fmt::Debug for CodeSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodeSource::Given(_) => f.write_str("Given(<redacted>)"),
            CodeSource::Configured(s) => write!(f, "Configured({s:?})"),
            CodeSource::Person(_) => f.write_str("Person"),
        }
    }
}

impl<'a> CodeSource<'a> {
    /// The first that applies: the given code, the configured source, else a person asked
    /// as `person` configures (`None`: no person may be asked). `Ok(None)`: nobody to ask.
    pub fn choose(
        given: Option<Secret>,
        configured: Option<source::Source>,
        person: Option<(&prompt::PromptConfig, &prompt::Desktop)>,
    ) -> Result<Option<CodeSource<'a>>, MfaError> {
        Ok(match (given, configured, person) {
            (Some(code), _, _) => Some(CodeSource::Given(code)),
            (None, Some(s), _) => Some(CodeSource::Configured(s)),
            (None, None, Some((config, desktop))) => prompt::open(config, desktop)?
                .map(|p| CodeSource::Person(p as Box<dyn Prompt + 'a>)),
            (None, None, None) => None,
        })
    }

    /// The person to ask for a device choice, if the code comes from one.
    pub fn person(&mut self) -> Option<&mut (dyn Prompt + 'a)> {
        match self {
            CodeSource::Person(p) => Some(p.as_mut()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(validate_code(" 012345\n").unwrap().expose(), "012345");
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６"] {
            let e = validate_code(bad).unwrap_err();
            assert!(!e.to_string().contains(bad) || bad.is_empty(), "{e}");
        }
    }
}
