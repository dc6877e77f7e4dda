//! The keyring on Windows: generic credentials in the user's Credential Manager ("Windows
//! Credentials" in the Control Panel), through `windows-native-keyring-store`. The target name
//! is `USER.SERVICE` (for example `AKIA….mfa-session aws_secret_access_key`).
//!
//! The Credential Manager belongs to the user's logon session and is encrypted with the user's
//! logon secret (DPAPI); it is never locked while the user is logged in and never shows a
//! dialog, so [`refuse_locked`] has nothing to refuse. A logon without the user's password (an
//! SSH key login, a scheduled task that does not store the password) has no access to it: the
//! store answers "no such logon session", reported as unavailable. Credentials are kept with
//! `Local` persistence: on this machine only, never roaming with a domain profile to others.

use std::collections::HashMap;
use std::time::Duration;

use super::{KeyringError, unavailable};

pub(super) const TIMEOUT: Duration = Duration::from_secs(10);
pub(super) const START_HINT: &str = "the Credential Manager needs a logon with your password, \
     not an SSH key login or a scheduled task that does not store the password";
pub(super) const UNLOCK_HINT: &str = "log in to Windows";
pub(super) const STUCK_HINT: &str = "is the Credential Manager stuck?";

/// The Credential Manager is never locked while its user is logged in.
pub(super) fn refuse_locked(_service: &str, _user: &str) -> Result<(), KeyringError> {
    Ok(())
}

/// The generic credential of (`service`, `user`), written with local-machine persistence.
pub(super) fn entry(service: &str, user: &str) -> Result<keyring_core::Entry, KeyringError> {
    use keyring_core::api::CredentialStoreApi;
    let store = windows_native_keyring_store::Store::new().map_err(unavailable)?;
    let local = HashMap::from([("persistence", "Local")]);
    store
        .build(service, user, Some(&local))
        .map_err(unavailable)
}
