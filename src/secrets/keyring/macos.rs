//! The keyring on macOS: generic passwords in the user's login Keychain, through
//! `apple-native-keyring-store`'s `keychain` store (service and account are the item's
//! attributes; Keychain Access lists them under Passwords).
//!
//! The login Keychain is unlocked when the user logs in. The Keychain itself may show a dialog:
//! to unlock a keychain that is locked (after sleep or a timeout, if so set), or to ask whether
//! this program may use an item (the item's access list names the binary that created it, so
//! another build of mfa-session is asked about once, "Always Allow" ends that). There is no way
//! to look whether that will happen without asking, so nothing is refused beforehand
//! ([`refuse_locked`] lets every operation through); a dialog nobody answers is given up after
//! [`TIMEOUT`], long enough for a person at the screen. docs/security.md says what this means
//! for unattended use.

use std::time::Duration;

use super::{KeyringError, unavailable};

/// A person may have to answer the Keychain's dialog: as long as for a code in a dialog.
pub(super) const TIMEOUT: Duration = Duration::from_secs(120);
pub(super) const START_HINT: &str = "unlock your login keychain (Keychain Access, or `security \
     unlock-keychain`) and allow mfa-session when the Keychain asks";
pub(super) const UNLOCK_HINT: &str = "log in, or `security unlock-keychain`";
pub(super) const STUCK_HINT: &str = "is a Keychain dialog waiting for an answer?";

/// Nothing to look at beforehand: the Keychain asks (or not) as it reads.
pub(super) fn refuse_locked(_service: &str, _user: &str) -> Result<(), KeyringError> {
    Ok(())
}

/// The generic password of service `service` and account `user` in the login Keychain.
pub(super) fn entry(service: &str, user: &str) -> Result<keyring_core::Entry, KeyringError> {
    use keyring_core::api::CredentialStoreApi;
    let store = apple_native_keyring_store::keychain::Store::new().map_err(unavailable)?;
    store.build(service, user, None).map_err(unavailable)
}
