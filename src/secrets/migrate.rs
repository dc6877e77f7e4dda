//! Moving one profile's secrets between the stores (`setup --store`): the secret access key of
//! `[P-long-term]` and its TOTP seed.

use std::path::{Path, PathBuf};

use crate::secrets::{self, KeyringError, Store};
use crate::session;
use crate::store::{SharedFile, StoreError};

/// Why a move between the stores stopped before changing anything. The first and last read as
/// `setup`'s own refusals do (a test in `error.rs` keeps them word for word the same).
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
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
        "[{long_term}] says mfa_store = keyring but also holds an aws_secret_access_key for {id} \
         that differs from the keyring's; refusing to choose. Remove the line that is wrong \
         (or the mfa_store line, to use the file), then run setup again"
    )]
    KeysInBothPlaces { long_term: String, id: String },
    #[error("the credentials file changed while setup was running; run setup again")]
    Changed,
}

/// Moves the secret access key (and a seed) of `[long_term]` of the credentials `file` into
/// store `to`. Each secret is stored, read back and compared before the file gives it up; the
/// file changes by one line each, renamed in place, so that moving back restores it byte for
/// byte. `home` expands a `~/` seed path; `say` is told each step done, as it is done.
pub fn migrate_profile(
    to: Store,
    file: &SharedFile,
    profile: &str,
    long_term: &str,
    home: Option<&Path>,
    say: &mut dyn FnMut(String),
) -> anyhow::Result<()> {
    let credentials = file.read()?;
    let path = file.path();
    let lt = credentials.profile(long_term).unwrap_or_default();
    let no_keys = || MigrateError::NoLongTermKeys {
        profile: profile.to_string(),
        long_term: long_term.to_string(),
        path: path.to_path_buf(),
    };
    let id = lt
        .get(session::KEY_ACCESS_KEY_ID)
        .filter(|v| !v.is_empty())
        .cloned()
        .ok_or_else(no_keys)?;
    let seed_file = lt
        .get("mfa_totp_secret_file")
        .filter(|v| !v.is_empty())
        .cloned();
    let seed_moved = lt.get(secrets::SEED_KEY).cloned();
    // A secret in the file while the section says keyring: which one is right is not ours to
    // guess when they differ.
    if Store::of(&lt) == Store::Keyring
        && let Some(in_file) = lt
            .get(session::KEY_SECRET_ACCESS_KEY)
            .filter(|v| !v.is_empty())
        && let Some(in_keyring) = secrets::keyring_secret_key(&id)?
        && in_keyring.expose() != in_file
    {
        return Err(MigrateError::KeysInBothPlaces {
            long_term: long_term.to_string(),
            id,
        }
        .into());
    }
    match (to, Store::of(&lt)) {
        (Store::Keyring, Store::File) => {
            let (_, secret) = secrets::long_term_keys(&lt)?.ok_or_else(no_keys)?;
            secrets::put_secret_key(&id, &secret)?;
            file.update(|doc| {
                if doc
                    .get(long_term, session::KEY_SECRET_ACCESS_KEY)
                    .as_deref()
                    != Some(secret.expose())
                {
                    return Err(anyhow::Error::from(MigrateError::Changed));
                }
                doc.rename(
                    long_term,
                    session::KEY_SECRET_ACCESS_KEY,
                    secrets::STORE_KEY,
                    "keyring",
                )
                .map_err(StoreError::from)?;
                Ok(())
            })?;
            say(format!(
                "moved the secret access key of {id} into the OS keyring; [{long_term}] keeps the key id and mfa_store = keyring"
            ));
        }
        (Store::File, Store::Keyring) => {
            let secret =
                secrets::keyring_secret_key(&id)?.ok_or_else(|| KeyringError::Missing {
                    what: format!("the secret access key of {id}"),
                })?;
            // The file as written, under its lock: who else still reads this key's secret.
            let after = file.update(|doc| {
                doc.rename(
                    long_term,
                    secrets::STORE_KEY,
                    session::KEY_SECRET_ACCESS_KEY,
                    secret.expose(),
                )
                .map_err(StoreError::from)?;
                Ok::<_, anyhow::Error>(doc.clone())
            })?;
            let still = secrets::release_secret_key(&after, &id, long_term)?;
            say(format!(
                "moved the secret access key of {id} back into [{long_term}] of {}",
                path.display()
            ));
            if !still.is_empty() {
                say(format!(
                    "the OS keyring keeps it: [{}] still reads it there",
                    still.join("], [")
                ));
            }
        }
        (_, now) => say(format!(
            "the secret access key of {id} is already in the {} store",
            now.name()
        )),
    }
    match (to, seed_file, seed_moved) {
        (Store::Keyring, Some(seed_path), None) => {
            let full = expand_home(&seed_path, home);
            let seed = secrets::seed_file::read(&full, "mfa_totp_secret_file")?;
            secrets::put_seed(profile, &seed)?;
            file.update(|doc| {
                doc.rename(
                    long_term,
                    "mfa_totp_secret_file",
                    secrets::SEED_KEY,
                    &seed_path,
                )
                .map_err(StoreError::from)?;
                Ok::<_, anyhow::Error>(())
            })?;
            std::fs::remove_file(&full)
                .map_err(|e| anyhow::anyhow!("the seed is in the keyring, but {} could not be deleted: {e}; delete it yourself", full.display()))?;
            say(format!(
                "moved the TOTP seed of {} into the OS keyring and deleted the file",
                full.display()
            ));
        }
        (Store::File, None, Some(seed_path)) => {
            let full = expand_home(&seed_path, home);
            let seed = secrets::seed(profile)?;
            crate::store::fs::write_private(&full, format!("{}\n", seed.expose()).as_bytes())
                .map_err(|e| {
                    anyhow::anyhow!("cannot write the TOTP seed to {}: {e}", full.display())
                })?;
            file.update(|doc| {
                doc.rename(
                    long_term,
                    secrets::SEED_KEY,
                    "mfa_totp_secret_file",
                    &seed_path,
                )
                .map_err(StoreError::from)?;
                Ok::<_, anyhow::Error>(())
            })?;
            secrets::delete_seed(profile)?;
            say(format!(
                "moved the TOTP seed back into {} (mode 600)",
                full.display()
            ));
        }
        _ => {}
    }
    Ok(())
}

/// `~/x` as the SDKs expand it.
fn expand_home(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}
