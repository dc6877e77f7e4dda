//! Rotating a profile's long-term access key with its MFA session.
//!
//! Under an MFA-enforcing policy the IAM key calls need MFA, so rotation signs them with the
//! profile's MFA session (logging in first when needed). The order is chosen so that a failure
//! or a SIGKILL at any step leaves a stored key that works:
//! 1. CreateAccessKey (never retried: a retry after a lost answer would make a second key);
//! 2. store the new key where the old one was (file or keyring), in one locked write;
//! 3. prove it: GetCallerIdentity signed with it (IAM keys take a few seconds to work);
//! 4. DeleteAccessKey the old one (or deactivate it with `--keep-old`).
//!
//! Until step 2 the stored key is the old one, still active; from step 2 on it is the new one,
//! which AWS already issued. A step that fails says what exists at AWS and what to do.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::aws::{self, AccessKeyInfo, KeyApi, LongTermKeys, MfaApi, SdkApi};
use crate::ctx::Ctx;
use crate::error::{RotateError, SetupError};
use crate::provider::profile::{self, Files, Kind};
use crate::provider::request::{Mode, SessionRequest};
use crate::provider::session_token;
use crate::secrets::{self, Store};
use crate::session;
use crate::store::StoreError;

/// `[P-long-term]`: when the key there was created (written by `rotate`; shown by `status`).
pub const CREATED_KEY: &str = "mfa_key_created";

/// What `rotate` was asked to do.
#[derive(Clone, Debug)]
pub struct RotateRequest {
    pub profile: String,
    /// Deactivate the old key instead of deleting it.
    pub keep_old: bool,
    /// When the user already has two keys: delete this one (not the stored one) first.
    pub delete_first: Option<String>,
    pub region: Option<String>,
    pub timeout: Duration,
}

/// What `rotate` did.
#[derive(Debug)]
pub struct Rotated {
    pub user: String,
    pub old: String,
    pub new: String,
    pub store: Store,
    pub deleted_first: Option<String>,
}

/// How long a new key may take to start working (IAM is eventually consistent).
const PROOF_WAIT: Duration = Duration::from_secs(20);

pub fn rotate(req: &RotateRequest, ctx: &Ctx) -> anyhow::Result<Rotated> {
    crate::provider::request::check_profile(&req.profile)?;
    let files = Files::read(ctx)?;
    if let Kind::Role(_) = profile::resolve(&files, &req.profile, &ctx.long_term_suffix) {
        return Err(RotateError::RoleProfile {
            profile: req.profile.clone(),
        }
        .into());
    }
    let sreq = SessionRequest {
        region: req.region.clone(),
        timeout: req.timeout,
        ..SessionRequest::new(
            req.profile.clone(),
            Mode::Always,
            Duration::from_secs(15 * 60),
        )
    };
    let (outcome, files) = super::session(&sreq, ctx)?;
    let long_term = ctx.long_term(&req.profile);
    let lt = files.credentials.profile(&long_term).unwrap_or_default();
    let store = Store::of(&lt);
    let (old_id, old_secret) =
        secrets::long_term_keys(&lt)?.ok_or_else(|| SetupError::NoLongTermKeys {
            profile: req.profile.clone(),
            long_term: long_term.clone(),
            path: files.credentials_path.clone(),
        })?;
    let cfg = files.config.profile(&req.profile).unwrap_or_default();
    let settings = session_token::client_settings(req.region.as_deref(), req.timeout, ctx, &cfg);
    settings.validate()?;
    let api = SdkApi::with_session(outcome.session(), &settings);
    let rt = aws::runtime()?;

    let arn = rt.block_on(api.caller_arn())?;
    let user = aws::user_name_from_arn(&arn)
        .ok_or_else(|| RotateError::NotAUser { arn: arn.clone() })?
        .to_string();
    let keys = rt.block_on(api.list_access_keys(&user))?;
    let mut deleted_first = None;
    if keys.len() >= 2 {
        match &req.delete_first {
            Some(id) if *id != old_id && keys.iter().any(|k| k.id == *id) => {
                rt.block_on(api.delete_access_key(&user, id))?;
                deleted_first = Some(id.clone());
            }
            Some(id) if *id == old_id => {
                return Err(RotateError::WouldDeleteStored { id: id.clone() }.into());
            }
            _ => {
                return Err(RotateError::TwoKeys {
                    user,
                    keys: describe(&keys, Utc::now()),
                    stored: old_id,
                }
                .into());
            }
        }
    }

    // 1. The new key. From here on, every failure says what exists at AWS.
    let new = match rt.block_on(api.create_access_key(&user)) {
        Ok(new) => new,
        Err(e) => match e.lost_answer() {
            Some(lost) => return Err(lost_create(&rt, &api, &user, &keys, &old_id, lost)),
            None => return Err(e.into()),
        },
    };
    let exists = |stored: &str| {
        format!(
            "AWS now has two keys for {user}: {} (new) and {old_id}; {stored} is stored",
            new.access_key_id
        )
    };
    // 2. Stored where the old one was.
    if let Err(e) = store_key(&files, &long_term, store, &new, Some(&old_id)) {
        return Err(RotateError::Step {
            step: "storing the new key",
            cause: format!("{e:#}"),
            state: exists(&old_id),
            fix: format!(
                "the stored key works; delete the new one with `aws iam delete-access-key \
                 --user-name {user} --access-key-id {}`",
                new.access_key_id
            ),
        }
        .into());
    }
    // 3. Proven.
    let new_api = SdkApi::try_new(&new, &settings)?;
    let deadline = std::time::Instant::now() + PROOF_WAIT;
    let proof = loop {
        match rt.block_on(new_api.caller_arn()) {
            Ok(a) => break Ok(a),
            Err(e) if std::time::Instant::now() >= deadline => break Err(e),
            Err(_) => std::thread::sleep(Duration::from_secs(1)),
        }
    };
    if let Err(e) = proof {
        let old = LongTermKeys {
            access_key_id: old_id.clone(),
            secret_access_key: old_secret,
        };
        let restored = store_key(&files, &long_term, store, &old, Some(&new.access_key_id));
        // The new key is deleted only once the old one is stored again: never the stored key.
        let cleaned = restored
            .is_ok()
            .then(|| rt.block_on(api.delete_access_key(&user, &new.access_key_id)));
        let new_id = &new.access_key_id;
        let (state, fix) = match (&restored, &cleaned) {
            (Ok(()), Some(Ok(()))) => (
                format!("the old key {old_id} is stored again and the new one was deleted"),
                "try again later".to_string(),
            ),
            (Ok(()), Some(Err(d))) => (
                format!(
                    "AWS now has two keys for {user}: {new_id} (new, not working) and {old_id}, \
                     which is stored again and works; deleting {new_id} failed ({d})"
                ),
                format!(
                    "delete the new one with {} before rotating again (AWS allows two keys at most)",
                    delete_command(&user, new_id)
                ),
            ),
            (Err(r), _) => (
                format!(
                    "AWS now has two keys for {user}: {new_id} (new, stored, but not working \
                     within {} s) and {old_id} (still active; storing it again failed: {r:#})",
                    PROOF_WAIT.as_secs()
                ),
                format!(
                    "when the new key works (`aws sts get-caller-identity --profile {long_term}`), \
                     delete the old one with {}; if it never does, delete it with {} and create \
                     another",
                    delete_command(&user, &old_id),
                    delete_command(&user, new_id)
                ),
            ),
            (Ok(()), None) => unreachable!("the clean-up runs once the old key is stored"),
        };
        return Err(RotateError::Step {
            step: "proving the new key with GetCallerIdentity",
            cause: e.to_string(),
            state,
            fix,
        }
        .into());
    }
    // 4. The old key goes.
    let retired = if req.keep_old {
        rt.block_on(api.deactivate_access_key(&user, &old_id))
    } else {
        rt.block_on(api.delete_access_key(&user, &old_id))
    };
    if let Err(e) = retired {
        return Err(RotateError::Step {
            step: if req.keep_old {
                "deactivating the old key"
            } else {
                "deleting the old key"
            },
            cause: e.to_string(),
            state: exists(&new.access_key_id),
            fix: format!(
                "delete the old one with `aws iam delete-access-key --user-name {user} \
                 --access-key-id {old_id}`"
            ),
        }
        .into());
    }
    if store == Store::Keyring {
        // The old secret is dead at AWS; a failure to forget it is not worth failing for. Another
        // profile reading the same key from the keyring keeps it (and finds it dead at AWS).
        let released = Files::read(ctx)
            .map_err(|e| format!("{e:#}"))
            .and_then(|f| {
                secrets::release_secret_key(&f.credentials, &old_id, &long_term)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = released {
            tracing::warn!("the old key's secret stays in the keyring: {e}");
        }
    }
    Ok(Rotated {
        user,
        old: old_id,
        new: new.access_key_id,
        store,
        deleted_first,
    })
}

/// `aws iam delete-access-key …`, quoted for a message.
fn delete_command(user: &str, id: &str) -> String {
    format!("`aws iam delete-access-key --user-name {user} --access-key-id {id}`")
}

/// The error after CreateAccessKey was sent and no usable answer came back (`lost` says how):
/// a key may exist whose secret nobody has. ListAccessKeys, compared with the keys listed
/// before (`before`), names it for the delete command; when that fails too, the command that
/// lists the keys. Nothing is deleted here: another key may have appeared for another reason.
fn lost_create(
    rt: &tokio::runtime::Runtime,
    api: &SdkApi,
    user: &str,
    before: &[AccessKeyInfo],
    old_id: &str,
    lost: String,
) -> anyhow::Error {
    let list = format!("`aws iam list-access-keys --user-name {user}`");
    let (state, fix) = match rt.block_on(api.list_access_keys(user)) {
        Ok(after) => {
            let new: Vec<&str> = after
                .iter()
                .filter(|k| !before.iter().any(|b| b.id == k.id))
                .map(|k| k.id.as_str())
                .collect();
            if new.is_empty() {
                (
                    format!(
                        "ListAccessKeys shows no new key for {user} yet (IAM can take a few \
                         seconds to list one); the stored key {old_id} is unchanged and works"
                    ),
                    format!(
                        "check with {list} before rotating again; a key other than {old_id} \
                         listed there has a lost secret: delete it with {}",
                        delete_command(user, "KEY_ID")
                    ),
                )
            } else {
                (
                    format!(
                        "AWS created {} for {user}, whose secret was lost with the answer; the \
                         stored key {old_id} is unchanged and works",
                        new.join(" and ")
                    ),
                    format!(
                        "delete the new key with {} before rotating again (AWS allows two keys at most)",
                        new.iter()
                            .map(|id| delete_command(user, id))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ),
                )
            }
        }
        Err(_) => (
            format!(
                "AWS may have created a new key for {user} whose secret was lost with the \
                 answer; the stored key {old_id} is unchanged and works"
            ),
            format!(
                "list the keys with {list} and delete any key other than {old_id} with {} \
                 before rotating again (AWS allows two keys at most)",
                delete_command(user, "KEY_ID")
            ),
        ),
    };
    RotateError::Step {
        step: "creating the new key",
        cause: lost,
        state,
        fix,
    }
    .into()
}

/// Writes `keys` into `[P-long-term]` in `store`, with its creation time, if the section still
/// holds `replacing` (another rotation may have run meanwhile).
fn store_key(
    files: &Files,
    long_term: &str,
    store: Store,
    keys: &LongTermKeys,
    replacing: Option<&str>,
) -> anyhow::Result<()> {
    if store == Store::Keyring {
        secrets::put_secret_key(&keys.access_key_id, &keys.secret_access_key)?;
    }
    files.credentials_file().update(|doc| {
        if let Some(old) = replacing
            && doc.get(long_term, session::KEY_ACCESS_KEY_ID).as_deref() != Some(old)
        {
            return Err(anyhow::anyhow!(
                "[{long_term}] no longer holds {old}: another process changed it"
            ));
        }
        doc.set(long_term, session::KEY_ACCESS_KEY_ID, &keys.access_key_id)
            .map_err(StoreError::from)?;
        if store == Store::File {
            doc.set(
                long_term,
                session::KEY_SECRET_ACCESS_KEY,
                keys.secret_access_key.expose(),
            )
            .map_err(StoreError::from)?;
        }
        doc.set(
            long_term,
            CREATED_KEY,
            &session::format_expiration(Utc::now()),
        )
        .map_err(StoreError::from)?;
        Ok(())
    })
}

/// `AKIA… (active, 120 days old), AKIA… (inactive, 3 days old)`.
fn describe(keys: &[AccessKeyInfo], now: DateTime<Utc>) -> String {
    keys.iter()
        .map(|k| {
            let age = k
                .created
                .map(|c| format!(", {} days old", (now - c).num_days()))
                .unwrap_or_default();
            let state = if k.active { "active" } else { "inactive" };
            format!("{} ({state}{age})", k.id)
        })
        .collect::<Vec<_>>()
        .join(", ")
}
