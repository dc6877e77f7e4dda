//! Where long-term secrets live: the secret access key of `[P-long-term]` and a TOTP seed.
//!
//! Two stores, chosen per profile and recorded in `[P-long-term]` by a non-secret key:
//! - `file` (the default, compatible with aws-mfa): `aws_secret_access_key` in `[P-long-term]`,
//!   the seed in the file named by `mfa_totp_secret_file`.
//! - `keyring`: the OS keyring ([`keyring`]). `[P-long-term]` keeps the access key id (not a
//!   secret; it names the key in messages, `status` and the single-flight lock) and says
//!   `mfa_store = keyring` on the very line that held the secret; a seed moved to the keyring
//!   leaves `mfa_totp_secret_keyring = PATH` on the line of `mfa_totp_secret_file = PATH`, so
//!   moving back restores the file byte for byte.
//!
//! Every command that needs keys or a seed reads them through [`long_term_keys`] and
//! [`seed`]; nothing else knows where they are. [`migrate_profile`] moves one profile's
//! secrets from one store to the other (`setup --store`).

pub mod keyring;
mod migrate;
pub mod seed_file;

use std::collections::BTreeMap;

use crate::session::{self, Secret};
use crate::store::Document;
pub use keyring::KeyringError;
pub use migrate::{MigrateError, migrate_profile};

type Props = BTreeMap<String, String>;

/// `[P-long-term]`: `keyring` when the secret access key is in the OS keyring.
pub const STORE_KEY: &str = "mfa_store";
/// `[P-long-term]`: the seed is in the OS keyring; the value is the file it came from.
pub const SEED_KEY: &str = "mfa_totp_secret_keyring";

/// Keyring service names (the user is the access key id, or the profile for a seed).
const KEY_SERVICE: &str = "mfa-session aws_secret_access_key";
const SEED_SERVICE: &str = "mfa-session totp-seed";

/// Where a profile's long-term secret access key lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    File,
    Keyring,
}

impl Store {
    /// The store `[P-long-term]` records.
    pub fn of(long_term: &Props) -> Store {
        match long_term.get(STORE_KEY).map(String::as_str) {
            Some("keyring") => Store::Keyring,
            _ => Store::File,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Store::File => "file",
            Store::Keyring => "keyring",
        }
    }
}

/// The long-term key pair of a `[P-long-term]` section, wherever its secret lives; `None`
/// when the section names no key.
pub fn long_term_keys(long_term: &Props) -> Result<Option<(String, Secret)>, KeyringError> {
    match Store::of(long_term) {
        Store::File => Ok(session::key_pair(long_term).map(|(id, s)| (id, Secret::new(s)))),
        Store::Keyring => {
            let Some(id) = long_term
                .get(session::KEY_ACCESS_KEY_ID)
                .filter(|v| !v.is_empty())
            else {
                return Ok(None);
            };
            match keyring::get(KEY_SERVICE, id)? {
                Some(secret) => Ok(Some((id.clone(), secret))),
                None => Err(KeyringError::Missing {
                    what: format!("the secret access key of {id}"),
                }),
            }
        }
    }
}

/// Stores the secret access key of `access_key_id` in the keyring and reads it back.
pub fn put_secret_key(access_key_id: &str, secret: &Secret) -> Result<(), KeyringError> {
    put_checked(KEY_SERVICE, access_key_id, secret)
}

/// The secret access key of `access_key_id` in the keyring, if stored.
pub fn keyring_secret_key(access_key_id: &str) -> Result<Option<Secret>, KeyringError> {
    keyring::get(KEY_SERVICE, access_key_id)
}

/// The keyring holds one secret per access key id, which several profiles may read (two
/// `[P-long-term]` sections with the same key): the sections of `credentials` other than
/// `except` that read `access_key_id`'s secret from the keyring.
pub fn keyring_users(credentials: &Document, access_key_id: &str, except: &str) -> Vec<String> {
    credentials
        .profiles()
        .profiles
        .into_iter()
        .filter(|(name, props)| {
            name != except
                && Store::of(props) == Store::Keyring
                && props.get(session::KEY_ACCESS_KEY_ID).map(String::as_str) == Some(access_key_id)
        })
        .map(|(name, _)| name)
        .collect()
}

/// Deletes the keyring's secret of `access_key_id` once `[except]` no longer reads it, unless
/// another section of `credentials` (as read under the file's lock, after `[except]` changed)
/// still does. Returns those sections: empty when the secret was deleted.
pub fn release_secret_key(
    credentials: &Document,
    access_key_id: &str,
    except: &str,
) -> Result<Vec<String>, KeyringError> {
    let users = keyring_users(credentials, access_key_id, except);
    if users.is_empty() {
        keyring::delete(KEY_SERVICE, access_key_id)?;
    }
    Ok(users)
}

/// The TOTP seed of `profile` in the keyring.
pub fn seed(profile: &str) -> Result<Secret, KeyringError> {
    keyring::get(SEED_SERVICE, profile)?.ok_or_else(|| KeyringError::Missing {
        what: format!("the TOTP seed of profile {profile}"),
    })
}

pub fn put_seed(profile: &str, seed: &Secret) -> Result<(), KeyringError> {
    put_checked(SEED_SERVICE, profile, seed)
}

pub fn delete_seed(profile: &str) -> Result<(), KeyringError> {
    keyring::delete(SEED_SERVICE, profile)
}

/// Stores, reads back and compares: a secret is only ever removed from a file once the
/// keyring is known to hold it.
fn put_checked(service: &str, user: &str, secret: &Secret) -> Result<(), KeyringError> {
    keyring::set(service, user, secret)?;
    match keyring::get(service, user)? {
        Some(back) if back == *secret => Ok(()),
        _ => Err(KeyringError::Mismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FileKind;

    #[test]
    fn keyring_users_are_the_other_sections_reading_that_key_from_the_keyring() {
        let doc = Document::parse(
            FileKind::Credentials,
            "[a-long-term]\naws_access_key_id = AKIA1\nmfa_store = keyring\n\
             [b-long-term]\naws_access_key_id = AKIA1\nmfa_store = keyring\n\
             [c-long-term]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n\
             [d-long-term]\naws_access_key_id = AKIA2\nmfa_store = keyring\n",
        )
        .unwrap();
        assert_eq!(keyring_users(&doc, "AKIA1", "a-long-term"), ["b-long-term"]);
        assert!(keyring_users(&doc, "AKIA2", "d-long-term").is_empty());
    }
}
