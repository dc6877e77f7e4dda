//! The OS keyring: the Secret Service on Linux (GNOME Keyring, KWallet), through the `keyring`
//! ecosystem's pure-Rust D-Bus store (`keyring-core` with `zbus-secret-service-keyring-store`),
//! so a build needs no system library.
//!
//! Two rules the store itself does not keep, kept here:
//! - **No unlock prompt, ever.** The store unlocks a locked item or collection by asking the
//!   desktop to show a password dialog; from `refresh` under cron that dialog would appear on
//!   nobody's screen and the run would hang. So every operation first looks (through the
//!   `secret-service` crate the store is built on) whether what it needs is locked, and if so
//!   fails at once saying how to unlock, or to use the file store.
//! - **Bounded time.** A D-Bus that does not answer must not hang a credential process: every
//!   operation runs on its own thread and is given up after [`TIMEOUT`].

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

use crate::session::Secret;

/// The OS keyring could not give or take a secret. Never carries the secret.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(
        "the OS keyring is not available ({detail}): start or unlock your desktop's keyring \
         (GNOME Keyring, KWallet), or keep this profile's keys in the file with \
         `mfa-session setup --store file`"
    )]
    Unavailable { detail: String },
    #[error(
        "the OS keyring is locked, and mfa-session never asks to unlock it: unlock it (log in to \
         the desktop, or `gnome-keyring-daemon --unlock`), or keep this profile's keys in the \
         file with `mfa-session setup --store file`"
    )]
    Locked,
    #[error(
        "the OS keyring did not answer within {seconds} s (is D-Bus or the keyring daemon \
         stuck?); try again, or keep this profile's keys in the file with `mfa-session setup \
         --store file`"
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

/// How long one keyring operation may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

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

fn unavailable(e: impl std::fmt::Display) -> KeyringError {
    KeyringError::Unavailable {
        detail: crate::text::untrusted(&e.to_string()),
    }
}

/// Fails with [`KeyringError::Locked`] when the item (`service`, `user`) — or, for a new
/// item, the default collection it would go to — is locked.
fn refuse_locked(service: &str, user: &str) -> Result<(), KeyringError> {
    use secret_service::EncryptionType;
    use secret_service::blocking::SecretService;
    let ss = SecretService::connect(EncryptionType::Dh).map_err(unavailable)?;
    let found = ss
        .search_items(HashMap::from([("service", service), ("username", user)]))
        .map_err(unavailable)?;
    tracing::debug!(
        unlocked = found.unlocked.len(),
        locked = found.locked.len(),
        "keyring search"
    );
    if !found.locked.is_empty() {
        return Err(KeyringError::Locked);
    }
    if found.unlocked.is_empty() {
        let collection = ss.get_default_collection().map_err(unavailable)?;
        let locked = collection.is_locked().map_err(unavailable)?;
        tracing::debug!(locked, "default collection");
        if locked {
            return Err(KeyringError::Locked);
        }
    }
    Ok(())
}

fn entry(service: &str, user: &str) -> Result<keyring_core::Entry, KeyringError> {
    use keyring_core::api::CredentialStoreApi;
    let store = zbus_secret_service_keyring_store::Store::new().map_err(unavailable)?;
    store.build(service, user, None).map_err(unavailable)
}

/// The secret stored under (`service`, `user`), if any.
pub fn get(service: &str, user: &str) -> Result<Option<Secret>, KeyringError> {
    let (service, user) = (service.to_string(), user.to_string());
    bounded(move || {
        refuse_locked(&service, &user)?;
        match entry(&service, &user)?.get_password() {
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
        refuse_locked(&service, &user)?;
        entry(&service, &user)?
            .set_password(secret.expose())
            .map_err(unavailable)
    })
}

/// Deletes what is stored under (`service`, `user`); nothing stored is not an error.
pub fn delete(service: &str, user: &str) -> Result<(), KeyringError> {
    let (service, user) = (service.to_string(), user.to_string());
    bounded(move || {
        refuse_locked(&service, &user)?;
        match entry(&service, &user)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    })
}
