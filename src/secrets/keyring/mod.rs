//! The OS keyring, through the `keyring` ecosystem's entry API (`keyring-core`) over the
//! store of each platform, chosen by target below and nowhere else (`mod imp`):
//! - Linux and the BSDs (`secret_service.rs`): the Secret Service (GNOME Keyring,
//!   KWallet) through the pure-Rust D-Bus store `zbus-secret-service-keyring-store`, so a build
//!   needs no system library;
//! - macOS (`macos.rs`): the login Keychain (`apple-native-keyring-store`, generic passwords);
//! - Windows (`windows.rs`): the Credential Manager (`windows-native-keyring-store`, generic
//!   credentials kept on this machine).
//!
//! Callers see one API ([`get`], [`set`], [`delete`]) and one error ([`KeyringError`]) on all
//! of them, and two rules the stores themselves do not keep, kept here:
//! - **No unlock prompt, where one can be refused.** The Secret Service store unlocks a locked
//!   item or collection by asking the desktop to show a password dialog; from `refresh` under
//!   cron that dialog would appear on nobody's screen and the run would hang. So every operation
//!   first asks the platform's `refuse_locked` whether what it needs is locked, and if so
//!   fails at once saying how to unlock, or to use the file store. The Credential Manager is
//!   never locked and never asks; the Keychain may ask (docs/security.md says when), and then
//!   the next rule ends the wait.
//! - **Bounded time.** A keyring that does not answer must not hang a credential process:
//!   every operation runs on its own thread and is given up after [`TIMEOUT`].
//!
//! Storing is always followed by reading back and comparing, above this module
//! (`secrets::put_checked`), on every platform alike.

use std::sync::mpsc;
use std::time::Duration;

use crate::session::Secret;

#[cfg(all(unix, not(target_os = "macos")))]
#[path = "secret_service.rs"]
mod imp;
#[cfg(target_os = "macos")]
#[path = "macos.rs"]
mod imp;
#[cfg(windows)]
#[path = "windows.rs"]
mod imp;

/// The OS keyring could not give or take a secret. Never carries the secret. What to do about
/// it depends on the platform's keyring; its module says so.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(
        "the OS keyring is not available ({detail}): {}, or keep this profile's keys in the file \
         with `mfa-session setup --store file`",
        imp::START_HINT
    )]
    Unavailable { detail: String },
    #[error(
        "the OS keyring is locked, and mfa-session never asks to unlock it: unlock it ({}), or \
         keep this profile's keys in the file with `mfa-session setup --store file`",
        imp::UNLOCK_HINT
    )]
    Locked,
    #[error(
        "the OS keyring did not answer within {seconds} s ({}); try again, or keep this \
         profile's keys in the file with `mfa-session setup --store file`",
        imp::STUCK_HINT
    )]
    Timeout { seconds: u64 },
    #[error(
        "the OS keyring has no entry for {what} although the files say it is there; run \
         `mfa-session setup --store keyring` again from a file that holds it"
    )]
    Missing { what: String },
    #[error("the OS keyring gave back something else than what was just stored; nothing was moved")]
    Mismatch,
}

/// How long one keyring operation may take: long enough for a person to answer the Keychain's
/// dialog on macOS, short where nobody is ever asked.
pub const TIMEOUT: Duration = imp::TIMEOUT;

/// Runs `op` on its own thread, giving up after [`TIMEOUT`].
fn bounded<T: Send + 'static>(
    op: impl FnOnce() -> Result<T, KeyringError> + Send + 'static,
) -> Result<T, KeyringError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(op());
    });
    rx.recv_timeout(TIMEOUT)
        .unwrap_or(Err(KeyringError::Timeout {
            seconds: TIMEOUT.as_secs(),
        }))
}

/// What the platform's keyring said, escaped: it is shown to the person.
fn unavailable(e: impl std::fmt::Display) -> KeyringError {
    KeyringError::Unavailable {
        detail: crate::text::untrusted(&e.to_string()),
    }
}

/// The secret stored under (`service`, `user`), if any.
pub fn get(service: &str, user: &str) -> Result<Option<Secret>, KeyringError> {
    let (service, user) = (service.to_string(), user.to_string());
    bounded(move || {
        imp::refuse_locked(&service, &user)?;
        match imp::entry(&service, &user)?.get_password() {
            Ok(s) => Ok(Some(Secret::new(s))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    })
}

/// Stores `secret` under (`service`, `user`), replacing what was there.
pub fn set(service: &str, user: &str, secret: &Secret) -> Result<(), KeyringError> {
    let (service, user, secret) = (service.to_string(), user.to_string(), secret.clone());
    bounded(move || {
        imp::refuse_locked(&service, &user)?;
        imp::entry(&service, &user)?
            .set_password(secret.expose())
            .map_err(unavailable)
    })
}

/// Deletes what is stored under (`service`, `user`); nothing stored is not an error.
pub fn delete(service: &str, user: &str) -> Result<(), KeyringError> {
    let (service, user) = (service.to_string(), user.to_string());
    bounded(move || {
        imp::refuse_locked(&service, &user)?;
        match imp::entry(&service, &user)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    })
}
