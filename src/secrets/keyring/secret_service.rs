//! The keyring on Linux and the BSDs: the Secret Service (GNOME Keyring, KWallet) on the
//! session D-Bus, through `zbus-secret-service-keyring-store`. A collection can be locked, and
//! the store would then ask the desktop for the password: [`refuse_locked`] looks first,
//! through the `secret-service` crate the store is built on, without unlocking anything.

use std::collections::HashMap;
use std::time::Duration;

use super::{KeyringError, unavailable};

pub(super) const TIMEOUT: Duration = Duration::from_secs(10);
pub(super) const START_HINT: &str =
    "start or unlock your desktop's keyring (GNOME Keyring, KWallet)";
pub(super) const UNLOCK_HINT: &str = "log in to the desktop, or `gnome-keyring-daemon --unlock`";
pub(super) const STUCK_HINT: &str = "is D-Bus or the keyring daemon stuck?";

/// Fails with [`KeyringError::Locked`] when the item (`service`, `user`) — or, for a new
/// item, the default collection it would go to — is locked.
pub(super) fn refuse_locked(service: &str, user: &str) -> Result<(), KeyringError> {
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

/// The Secret Service item of (`service`, `user`): attributes `service` and `username`, in the
/// default collection.
pub(super) fn entry(service: &str, user: &str) -> Result<keyring_core::Entry, KeyringError> {
    use keyring_core::api::CredentialStoreApi;
    let store = zbus_secret_service_keyring_store::Store::new().map_err(unavailable)?;
    store.build(service, user, None).map_err(unavailable)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a Linux user reads is what it was before there were other platforms.
    #[test]
    fn messages_are_the_secret_service_ones() {
        let unavailable = KeyringError::Unavailable {
            detail: "no bus".into(),
        };
        assert_eq!(
            unavailable.to_string(),
            "the OS keyring is not available (no bus): start or unlock your desktop's keyring \
             (GNOME Keyring, KWallet), or keep this profile's keys in the file with \
             `mfa-session setup --store file`"
        );
        assert_eq!(
            KeyringError::Locked.to_string(),
            "the OS keyring is locked, and mfa-session never asks to unlock it: unlock it (log in \
             to the desktop, or `gnome-keyring-daemon --unlock`), or keep this profile's keys in \
             the file with `mfa-session setup --store file`"
        );
        assert_eq!(
            KeyringError::Timeout { seconds: 10 }.to_string(),
            "the OS keyring did not answer within 10 s (is D-Bus or the keyring daemon stuck?); \
             try again, or keep this profile's keys in the file with `mfa-session setup --store \
             file`"
        );
        assert_eq!(super::super::TIMEOUT, Duration::from_secs(10));
    }
}
