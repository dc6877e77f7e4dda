//! Exit codes, in one place, so scripts and monitoring can rely on them.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | any other failure |
//! | 2 | usage error: unknown flag, bad value (clap reports these) |
//! | 3 | a credentials or config file could not be read, parsed or written; it was not changed |
//! | 4 | refused: overwriting long-term keys, or a value that cannot be stored or printed safely |
//! | 5 | MFA: the code or the device was rejected, the user has no MFA device, or `mfa_process` failed |
//! | 6 | AWS rejected the long-term key, the signature or the clock, or denied the call |
//! | 7 | AWS unreachable or unavailable: connection refused, timeout, throttling, 5xx |
//! | 8 | input needed: no MFA code (or device choice) and no terminal to ask on |
//! | 9 | not set up: no long-term keys, keys in the session section, or an unusable code source (unsafe TOTP file) |
//! | 10 | no valid session: missing, expired or expiring, and no way to log in here; for `status`, not every session shown is valid; for `refresh`, not every profile ended valid |
//! | 11 | busy: another mfa-session run held the lock it needed for longer than the wait; nothing was changed |
//! | 126 | `exec`: the command could not be run (not executable) |
//! | 127 | `exec`: the command was not found |
//!
//! The same table is in the README; a test keeps the two in step.

use std::process::ExitCode;

use crate::aws::AwsError;
use crate::cmd::exec::ExecError;
use crate::cmd::login::{NoSession, SetupError};
use crate::mfa::MfaError;
use crate::mfa::source::SourceError;
use crate::shell::RenderError;
use crate::store::StoreError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Success = 0,
    Failure = 1,
    Usage = 2,
    File = 3,
    Refused = 4,
    Mfa = 5,
    AwsAuth = 6,
    Unavailable = 7,
    NeedsInput = 8,
    NotSetUp = 9,
    NoSession = 10,
    Busy = 11,
    CannotRun = 126,
    NotFound = 127,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// The exit code for an error: decided by the first error kind in its chain that we know.
pub fn code_for(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            return match e {
                StoreError::LongTermKeys { .. } | StoreError::Edit(_) => Exit::Refused,
                StoreError::Busy { .. } => Exit::Busy,
                _ => Exit::File,
            };
        }
        if let Some(e) = cause.downcast_ref::<AwsError>() {
            return match e {
                AwsError::InvalidCode | AwsError::SerialNotAssociated => Exit::Mfa,
                AwsError::InvalidKey { .. }
                | AwsError::SignatureMismatch
                | AwsError::ClockSkew
                | AwsError::AccessDenied { .. } => Exit::AwsAuth,
                AwsError::Throttled { .. }
                | AwsError::Server { .. }
                | AwsError::Timeout { .. }
                | AwsError::Connect { .. }
                | AwsError::CutOff { .. } => Exit::Unavailable,
                AwsError::RoleMaxDuration | AwsError::ChainedDuration => Exit::Usage,
                AwsError::InvalidSetting { .. } => Exit::NotSetUp,
                AwsError::Other { .. }
                | AwsError::Malformed { .. }
                | AwsError::Unreadable { .. } => Exit::Failure,
            };
        }
        if let Some(e) = cause.downcast_ref::<MfaError>() {
            return match e {
                MfaError::BadFormat { .. } => Exit::Usage,
                MfaError::NoSource | MfaError::MustChoose { .. } | MfaError::Cancelled => {
                    Exit::NeedsInput
                }
                MfaError::Tty(_) => Exit::Failure,
            };
        }
        if let Some(e) = cause.downcast_ref::<ExecError>() {
            return match e.kind() {
                std::io::ErrorKind::NotFound => Exit::NotFound,
                _ => Exit::CannotRun,
            };
        }
        if cause.downcast_ref::<RenderError>().is_some() {
            return Exit::Refused;
        }
        if let Some(e) = cause.downcast_ref::<SourceError>() {
            return match e {
                SourceError::Unsafe { .. }
                | SourceError::BadSeed { .. }
                | SourceError::BadCommand { .. }
                | SourceError::Read { .. } => Exit::NotSetUp,
                _ => Exit::Mfa,
            };
        }
        if cause.is::<crate::cmd::policy::BadCidr>() {
            return Exit::Usage;
        }
        if let Some(e) = cause.downcast_ref::<crate::cmd::setup::SetupRefused>() {
            return match e {
                crate::cmd::setup::SetupRefused::SessionWithoutKeys { .. } => Exit::NotSetUp,
                _ => Exit::Refused,
            };
        }
        if let Some(e) = cause.downcast_ref::<crate::cmd::role::RoleError>() {
            use crate::cmd::role::RoleError;
            return match e {
                RoleError::NoSourceProfile { .. } | RoleError::SourceWithoutKeys { .. } => {
                    Exit::NotSetUp
                }
                RoleError::WriteProfileShadows { .. } => Exit::Refused,
                RoleError::Cache { .. } | RoleError::NoCacheDir => Exit::File,
            };
        }
        if cause.is::<NoSession>() {
            return Exit::NoSession;
        }
        if let Some(e) = cause.downcast_ref::<SetupError>() {
            return match e {
                SetupError::BadDuration(_) => Exit::Usage,
                SetupError::NoMfaDevice { .. } => Exit::Mfa,
                _ => Exit::NotSetUp,
            };
        }
    }
    Exit::Failure
}

/// One line: the context we added, then the causes, joined — `anyhow`'s `{:#}`, with any control
/// character that came from outside (a file, a server, a process) escaped and the line capped.
pub fn describe(err: &anyhow::Error) -> String {
    crate::text::untrusted_keeping(&format!("{err:#}"), 4 * crate::text::MAX_SHOWN, false)
}
