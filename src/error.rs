//! The errors that decide what the person reads and which exit code a script sees, in one
//! place, so scripts and monitoring can rely on them. Every layer raises its own kinds (the
//! store's, AWS's, the code sources', the keyring's and the store moves' in `secrets`); the kinds
//! that belong to no lower layer — a profile that is not set up, no session to give, a role that
//! cannot be assumed, a usage mistake in a file or flag — are defined here. [`code_for`] maps any of them, wherever it sits in an
//! `anyhow` chain, to its exit code. This module imports nothing from the commands.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | any other failure; for `doctor`, a check failed (a login would not work) |
//! | 2 | usage error: unknown flag, bad value (clap reports these), a duration out of AWS's bounds (flag or `duration_seconds`), or a profile of the wrong kind for the command (`console` with a GetSessionToken profile) |
//! | 3 | a credentials or config file, a lock file or the cache directory could not be read, parsed or written, or is unsafe to use; it was not changed |
//! | 4 | refused: overwriting long-term keys, or a value that cannot be stored or printed safely |
//! | 5 | MFA: the code or the device was rejected, the user has no MFA device AWS takes for an API call (none, or only security keys and passkeys; nothing was sent), or `mfa_process` or `ykman` failed |
//! | 6 | AWS rejected the long-term key, the signature or the clock, or denied the call |
//! | 7 | AWS unreachable or unavailable: connection refused, timeout, throttling, 5xx |
//! | 8 | input needed: no MFA code (or device choice) and no terminal or dialog to ask on, or the MFA prompt was cancelled or not answered in time; nothing was sent to AWS |
//! | 9 | not set up: no long-term keys, keys in the session section, an unusable code source or prompt (unsafe TOTP file, zenity or ykman not installed, no `mfa_ykman_account`), an OS keyring that is absent, locked or not answering, or no program to open a URL with (`console`) |
//! | 10 | no valid session: missing, expired or expiring, and no way to log in here (or another mfa-session kept logging in to it past the wait bound); for `status`, not every session shown is valid; for `refresh`, not every profile ended valid |
//! | 11 | busy: another mfa-session run held the lock it needed for longer than the wait; nothing was changed |
//! | 126 | `exec`: the command could not be run (not executable) |
//! | 127 | `exec`: the command was not found |
//!
//! The same table is in the README; a test keeps the two in step.

use std::process::ExitCode;

use std::path::PathBuf;

use crate::aws::AwsError;
use crate::aws::signin::SigninError;
use crate::mfa::MfaError;
use crate::mfa::source::SourceError;
use crate::secrets::seed_file::SeedFileError;
use crate::secrets::{KeyringError, MigrateError};
use crate::shell::RenderError;
use crate::store::StoreError;

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
        "[{profile}] holds {} {key} although [{long_term}] has the keys; \
         mfa-session writes sessions to [{profile}] and never over long-term keys, so nothing \
         was sent to AWS. {}",
        if *same { "a copy of long-term access key" } else { "long-term access key" },
        if *same {
            format!(
                "Run `mfa-session setup --profile {profile}` to remove the copy from [{profile}] \
                 (the keys stay in [{long_term}])"
            )
        } else {
            format!(
                "It differs from the key in [{long_term}]: keep the key you use in [{long_term}] \
                 and remove aws_access_key_id and aws_secret_access_key from [{profile}]"
            )
        }
    )]
    KeysInSessionSection {
        profile: String,
        long_term: String,
        /// The access key id in `[profile]` (never the secret).
        key: String,
        /// The same key pair as `[long_term]`'s.
        same: bool,
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
    #[error(
        "no MFA device is enabled for {who}. Enable one first (IAM console → Security \
         credentials → Assign MFA device, or `aws iam create-virtual-mfa-device` and \
         `aws iam enable-mfa-device`), then log in again"
    )]
    NoMfaDevice { who: String },
}

/// A session length that AWS would refuse, or that cannot be read: one parser, one message,
/// for `--duration` and `duration_seconds` alike, found before any network call.
#[derive(Debug, thiserror::Error)]
#[error("{origin} {value:?}: {why}")]
pub struct DurationError {
    /// `--duration`, or `duration_seconds in [profile P] of FILE`.
    pub origin: String,
    pub value: String,
    pub why: String,
}

/// A profile name no AWS file can hold.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid profile name {name}: the AWS SDKs accept only letters, digits and - / . % @ _ : +"
)]
pub struct BadProfileName {
    /// Already quoted and escaped.
    pub name: String,
}

/// Why a command that needs a session has none to give, without being allowed to log in.
#[derive(Debug, thiserror::Error)]
#[error("[{profile}] has no valid session ({state}) and {why}")]
pub struct NoSession {
    pub profile: String,
    pub state: String,
    pub why: String,
}

/// Another mfa-session held the login of this profile (or its MFA device) past the wait bound.
#[derive(Debug, thiserror::Error)]
#[error(
    "another mfa-session has been logging in to [{profile}] for {} s and has not finished; \
     answer its prompt or stop it, then try again",
    waited.as_secs()
)]
pub struct FlightTimeout {
    pub profile: String,
    pub waited: std::time::Duration,
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
    WriteProfileShadows { name: String, why: String },
    #[error(
        "--write-profile {name}: that is {why}; a role's copy goes only to a section that is \
         absent, empty or an earlier copy of the same role: pick another name (nothing was \
         changed)"
    )]
    WriteProfileManaged { name: String, why: String },
    #[error("--write-profile is for role profiles; [profile {profile}] has no role_arn")]
    WriteProfileNotRole { profile: String },
    #[error(
        "role profile {profile} has a source_profile loop ({chain}); each role's source_profile \
         must lead to a profile with an MFA session or long-term keys"
    )]
    Loop { profile: String, chain: String },
    #[error("cannot use the role-session cache {}: {source}", path.display())]
    Cache {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no cache directory: HOME and XDG_CACHE_HOME are not set")]
    NoCacheDir,
}

/// `rotate` stopped. Each message says what exists at AWS and what to do.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error("[profile {profile}] is a role profile; rotate the keys of its source profile")]
    RoleProfile { profile: String },
    #[error(
        "the MFA session belongs to {arn}, not to an IAM user; only IAM users have access keys to rotate"
    )]
    NotAUser { arn: String },
    #[error(
        "IAM user {user} already has two access keys, the most AWS allows: {keys}. {stored} is \
         the stored one; pass --delete KEY_ID to delete the other one first"
    )]
    TwoKeys {
        user: String,
        keys: String,
        stored: String,
    },
    #[error("--delete {id}: that is the key stored for this profile; name the other key")]
    WouldDeleteStored { id: String },
    #[error("rotation stopped while {step} ({cause}). {state}; {fix}")]
    Step {
        step: &'static str,
        cause: String,
        state: String,
        fix: String,
    },
}

/// `exec` could not run its command.
#[derive(Debug, thiserror::Error)]
#[error("cannot run {program}: {source}")]
pub struct ExecError {
    pub program: String,
    pub source: std::io::Error,
}

/// `console` cannot sign in, or cannot open what it signed in to.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error(
        "[{profile}] is {what}, not a role profile: the console's federation endpoint does not \
         accept GetSessionToken sessions, so nothing was sent. Use a role profile ([profile \
         NAME] with role_arn and source_profile = {profile}; see docs/roles.md), or sign in to \
         the console as the IAM user with a password, or with the AWS CLI's `aws login`"
    )]
    NotARole { profile: String, what: String },
    #[error(
        "cannot open the sign-in URL: {program} was not found; install it, or print the URL \
         with --print and open it yourself"
    )]
    NoOpener { program: String },
    #[error("{program} could not open the sign-in URL ({status}); use --print to print it instead")]
    OpenerFailed { program: String, status: String },
}

/// `setup` will not guess.
#[derive(Debug, thiserror::Error)]
pub enum SetupRefused {
    #[error(
        "[{profile}] and [{long_term}] hold different access keys; refusing to choose. Keep the \
         long-term keys in [{long_term}] only and remove them from [{profile}], then run setup again"
    )]
    DifferentKeys { profile: String, long_term: String },
    #[error(
        "[{profile}] holds session credentials, not long-term keys, and there is no \
         [{long_term}]: put your IAM user's access key into [{long_term}] in {path}"
    )]
    SessionWithoutKeys {
        profile: String,
        long_term: String,
        path: PathBuf,
    },
    #[error("the credentials file changed while setup was running; run setup again")]
    Changed,
}

/// `policy --allow-ip` got something that is not an address or CIDR block.
#[derive(Debug, thiserror::Error)]
#[error(
    "--allow-ip {value:?} is not an IPv4 or IPv6 address or CIDR block (e.g. 203.0.113.0/24, 2001:db8::/32)"
)]
pub struct BadCidr {
    pub value: String,
}

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
        if let Some(e) = cause.downcast_ref::<SigninError>() {
            return match e {
                SigninError::BadEndpoint(_) => Exit::NotSetUp,
                SigninError::BadDestination(_) => Exit::Usage,
                SigninError::Refused { .. } => Exit::AwsAuth,
                SigninError::Unavailable { .. }
                | SigninError::Connect { .. }
                | SigninError::Timeout { .. } => Exit::Unavailable,
                SigninError::Malformed { .. } => Exit::Failure,
            };
        }
        if let Some(e) = cause.downcast_ref::<ConsoleError>() {
            return match e {
                ConsoleError::NotARole { .. } => Exit::Usage,
                ConsoleError::NoOpener { .. } => Exit::NotSetUp,
                ConsoleError::OpenerFailed { .. } => Exit::Failure,
            };
        }
        if let Some(e) = cause.downcast_ref::<MfaError>() {
            return match e {
                MfaError::BadFormat { .. } | MfaError::UnknownPrompt { .. } => Exit::Usage,
                MfaError::NoSource
                | MfaError::MustChoose { .. }
                | MfaError::CannotChoose { .. }
                | MfaError::Cancelled
                | MfaError::DialogCancelled { .. }
                | MfaError::PromptTimeout { .. } => Exit::NeedsInput,
                MfaError::PromptUnavailable { .. } => Exit::NotSetUp,
                MfaError::PromptFailed { .. }
                | MfaError::OnlySecurityKeys { .. }
                | MfaError::SecurityKeySerial { .. } => Exit::Mfa,
                MfaError::Tty(_) => Exit::Failure,
            };
        }
        if let Some(e) = cause.downcast_ref::<ExecError>() {
            return match e.source.kind() {
                std::io::ErrorKind::NotFound => Exit::NotFound,
                _ => Exit::CannotRun,
            };
        }
        if cause.downcast_ref::<RenderError>().is_some() {
            return Exit::Refused;
        }
        if let Some(e) = cause.downcast_ref::<SourceError>() {
            return match e {
                SourceError::SeedFile(_)
                | SourceError::Keyring { .. }
                | SourceError::BadKeyringSeed { .. }
                | SourceError::BadCommand { .. } => Exit::NotSetUp,
                _ => Exit::Mfa,
            };
        }
        if cause.is::<BadCidr>() || cause.is::<DurationError>() || cause.is::<BadProfileName>() {
            return Exit::Usage;
        }
        if cause.is::<KeyringError>() || cause.is::<SeedFileError>() {
            return Exit::NotSetUp;
        }
        if let Some(e) = cause.downcast_ref::<MigrateError>() {
            return match e {
                MigrateError::NoLongTermKeys { .. } => Exit::NotSetUp,
                MigrateError::KeysInBothPlaces { .. } | MigrateError::Changed => Exit::Refused,
            };
        }
        if let Some(e) = cause.downcast_ref::<RotateError>() {
            return match e {
                RotateError::RoleProfile { .. } | RotateError::WouldDeleteStored { .. } => {
                    Exit::Usage
                }
                RotateError::TwoKeys { .. } | RotateError::NotAUser { .. } => Exit::Refused,
                RotateError::Step { .. } => Exit::Failure,
            };
        }
        if let Some(e) = cause.downcast_ref::<SetupRefused>() {
            return match e {
                SetupRefused::SessionWithoutKeys { .. } => Exit::NotSetUp,
                _ => Exit::Refused,
            };
        }
        if let Some(e) = cause.downcast_ref::<RoleError>() {
            return match e {
                RoleError::NoSourceProfile { .. }
                | RoleError::SourceWithoutKeys { .. }
                | RoleError::Loop { .. } => Exit::NotSetUp,
                RoleError::WriteProfileShadows { .. } | RoleError::WriteProfileManaged { .. } => {
                    Exit::Refused
                }
                RoleError::WriteProfileNotRole { .. } => Exit::Usage,
                RoleError::Cache { .. } | RoleError::NoCacheDir => Exit::File,
            };
        }
        if cause.is::<NoSession>() || cause.is::<FlightTimeout>() {
            return Exit::NoSession;
        }
        if let Some(e) = cause.downcast_ref::<SetupError>() {
            return match e {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `setup --store` stops with `secrets`' own kinds where `setup` itself would stop with
    /// these: same words, same exit codes.
    #[test]
    fn store_moves_read_and_exit_as_setup_does() {
        let (profile, long_term, path) = ("p".to_string(), "p-lt".to_string(), PathBuf::from("f"));
        let moved = anyhow::Error::from(MigrateError::NoLongTermKeys {
            profile: profile.clone(),
            long_term: long_term.clone(),
            path: path.clone(),
        });
        let setup = anyhow::Error::from(SetupError::NoLongTermKeys {
            profile,
            long_term,
            path,
        });
        assert_eq!(moved.to_string(), setup.to_string());
        assert_eq!(code_for(&moved), code_for(&setup));
        let moved = anyhow::Error::from(MigrateError::Changed);
        let setup = anyhow::Error::from(SetupRefused::Changed);
        assert_eq!(moved.to_string(), setup.to_string());
        assert_eq!(code_for(&moved), code_for(&setup));
        let both = anyhow::Error::from(MigrateError::KeysInBothPlaces {
            long_term: "p-lt".into(),
            id: "AKIA1".into(),
        });
        assert_eq!(code_for(&both), Exit::Refused);
        assert_eq!(
            code_for(&anyhow::Error::from(KeyringError::Locked)),
            Exit::NotSetUp
        );
    }
}
