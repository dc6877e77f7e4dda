//! `mfa-session setup --profile P`: from "static keys in `[P]`" (how everyone starts) to the
//! layout `login` needs — keys in `[P-long-term]`, the MFA serial remembered, optionally a
//! non-interactive code source — without losing a line of the file.
//!
//! Safe to run again: a profile already set up is left as it is (only missing pieces are
//! added). It refuses when `[P]` holds a session but there are no long-term keys anywhere, and
//! when `[P]` and `[P-long-term]` hold different keys. Without a terminal it asks nothing.
//! Security keys and passkeys are never recorded as the device (STS does not take them,
//! [`crate::mfa::devices`]): a `--serial` or `mfa_serial` naming one is refused before anything
//! changes, and a user who has only those gets the keys moved and the message saying what to
//! register instead.

use std::process::ExitCode;

use crate::aws::{LongTermKeys, SdkApi};
use crate::cli::SetupArgs;
use crate::cmd::Ctx;
use crate::error::{SetupError, SetupRefused};
use crate::mfa::source::Source;
use crate::mfa::{MfaError, Terminal};
use crate::provider::Files;
use crate::provider::session_token::{client_settings, list_devices, serial_in_files};
use crate::secrets::{self, Store};
use crate::session::{self, Holding, Secret};
use crate::store::{FileKind, SharedFile, StoreError};

/// What setup will do, decided from a read of the file.
#[derive(Debug, PartialEq, Eq)]
enum Move {
    /// Move the keys from `[P]` to `[P-long-term]`.
    Keys,
    /// `[P-long-term]` already has them; `[P]` still has a copy to drop.
    DropCopy,
    /// Nothing to move.
    None,
}

pub fn run(args: &SetupArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let files = Files::read(ctx)?;
    let profile = ctx.env.profile(args.profile.as_deref());
    crate::provider::request::check_profile(&profile)?;
    let long_term = format!("{profile}{}", ctx.long_term_suffix);
    let main = files.credentials.profile(&profile).unwrap_or_default();
    let lt = files.credentials.profile(&long_term).unwrap_or_default();
    let lt_keys = crate::secrets::long_term_keys(&lt)?.map(|(id, s)| (id, s.expose().to_string()));
    let main_keys = session::key_pair(&main);
    let holding = Holding::of(&main);
    let (keys, action) = match (&holding, &lt_keys) {
        (Holding::LongTermKeys, None) => match &main_keys {
            Some(k) => (k.clone(), Move::Keys),
            None => {
                return Err(SetupError::NoLongTermKeys {
                    profile,
                    long_term,
                    path: files.credentials_path,
                }
                .into());
            }
        },
        (Holding::LongTermKeys, Some(l)) if Some(l) == main_keys.as_ref() => {
            (l.clone(), Move::DropCopy)
        }
        (Holding::LongTermKeys, Some(_)) => {
            return Err(SetupRefused::DifferentKeys { profile, long_term }.into());
        }
        (_, Some(l)) => (l.clone(), Move::None),
        (Holding::Session(_), None) => {
            return Err(SetupRefused::SessionWithoutKeys {
                profile,
                long_term,
                path: files.credentials_path,
            }
            .into());
        }
        (Holding::Empty, None) => {
            return Err(SetupError::NoLongTermKeys {
                profile,
                long_term,
                path: files.credentials_path,
            }
            .into());
        }
    };

    // Everything that may take time or ask happens before the locked write.
    let cfg = files.config.profile(&profile).unwrap_or_default();
    let known_serial = args
        .serial
        .clone()
        .filter(|s| !s.is_empty())
        .map(|s| (s, "--serial".to_string()))
        .or_else(|| serial_in_files(&cfg, &lt, &profile, &long_term));
    // A security key or passkey cannot give a code for STS: refused before anything changes.
    if let Some((s, origin)) = &known_serial {
        crate::mfa::devices::check_configured(s, origin)?;
    }
    let (serial, only_keys) = match &known_serial {
        Some((s, _)) => (Some(s.clone()), None),
        None => match discover(args, ctx, &profile, &long_term, &cfg, &keys) {
            Ok(found) => (found, None),
            Err(e) => match e.downcast::<MfaError>() {
                Ok(e @ MfaError::OnlySecurityKeys { .. }) => (None, Some(e)),
                Ok(e) => return Err(e.into()),
                Err(e) => return Err(e),
            },
        },
    };
    let source = match (&args.mfa_process, &args.totp_secret_file) {
        (Some(c), _) => Some(("mfa_process", c.clone())),
        (None, Some(p)) => {
            let path = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            // Refuse an unsafe or unreadable seed now, not at the first unattended renewal.
            Source::TotpFile {
                path: path.clone(),
                origin: "--totp-secret-file".into(),
            }
            .code("", &profile, 0)?;
            Some(("mfa_totp_secret_file", path.display().to_string()))
        }
        (None, None) => None,
    };

    // Store the serial unless the files already name this one (config or long-term section).
    let already_stored = serial
        .as_deref()
        .is_some_and(|s| session::configured_serials(&cfg, &lt).any(|c| c == s));
    let file = SharedFile::new(&files.credentials_path, FileKind::Credentials);
    let changed_keys = keys.clone();
    let before = files.credentials.to_string();
    file.update(|doc| {
        // Plans were made on a read without the lock: the file must still be what we saw.
        if doc.to_string() != before {
            return Err(anyhow::Error::from(SetupRefused::Changed));
        }
        if action == Move::Keys {
            doc.set(&long_term, session::KEY_ACCESS_KEY_ID, &changed_keys.0)
                .map_err(StoreError::from)?;
            doc.set(&long_term, session::KEY_SECRET_ACCESS_KEY, &changed_keys.1)
                .map_err(StoreError::from)?;
        }
        if action != Move::None {
            for key in [session::KEY_ACCESS_KEY_ID, session::KEY_SECRET_ACCESS_KEY] {
                doc.remove(&profile, key).map_err(StoreError::from)?;
            }
        }
        if let Some(s) = &serial
            && !already_stored
        {
            doc.set(&long_term, "mfa_serial", s)
                .map_err(StoreError::from)?;
        }
        if let Some((key, value)) = &source {
            doc.set(&long_term, key, value).map_err(StoreError::from)?;
        }
        Ok(())
    })?;

    match action {
        Move::Keys => ctx.say(&format!(
            "moved access key {} from [{profile}] to [{long_term}] in {}",
            keys.0,
            files.credentials_path.display()
        )),
        Move::DropCopy => ctx.say(&format!(
            "removed the copy of access key {} from [{profile}]; it stays in [{long_term}]",
            keys.0
        )),
        Move::None => ctx.say(&format!("[{long_term}] already holds the long-term keys")),
    }
    match (&serial, &only_keys) {
        (Some(s), _) => ctx.say(&format!("MFA device: {s}")),
        (None, Some(e)) => ctx.say(&format!("no MFA device recorded: {e}")),
        (None, None) => ctx.say(
            "no MFA device found: enable one (IAM console → Security credentials → Assign MFA \
             device), or pass --serial ARN",
        ),
    }
    if let Some((key, _)) = &source {
        ctx.say(&format!("recorded {key} in [{long_term}]"));
    }
    if let Some(to) = args.store {
        let to = match to {
            crate::cli::StoreArg::File => Store::File,
            crate::cli::StoreArg::Keyring => Store::Keyring,
        };
        secrets::migrate_profile(
            to,
            &file,
            &profile,
            &long_term,
            ctx.env.home.as_deref(),
            &mut |line| ctx.say(&line),
        )?;
    }
    ctx.say(&format!("next: mfa-session login --profile {profile}"));
    Ok(ExitCode::SUCCESS)
}

/// ListMFADevices with the long-term keys, security keys and passkeys skipped. Several devices:
/// ask at the terminal, or fail with the list when there is none. A failure to list is
/// reported, not fatal: the keys still move; so is a user with only security keys or passkeys
/// ([`MfaError::OnlySecurityKeys`], which the caller tells the person).
fn discover(
    args: &SetupArgs,
    ctx: &Ctx,
    profile: &str,
    long_term: &str,
    cfg: &std::collections::BTreeMap<String, String>,
    keys: &(String, String),
) -> anyhow::Result<Option<String>> {
    let settings = client_settings(args.region.as_deref(), args.timeout, ctx, cfg);
    let api = SdkApi::new(
        &LongTermKeys {
            access_key_id: keys.0.clone(),
            secret_access_key: Secret::new(keys.1.clone()),
        },
        &settings,
    );
    let runtime = crate::aws::runtime()?;
    let listed = runtime.block_on(list_devices(&api));
    let devices = match listed {
        Ok((d, who)) => crate::mfa::devices::usable(d, &who)?,
        Err(e) => {
            tracing::warn!(
                "cannot list the MFA devices of [{profile}] ({e}); pass --serial ARN to record one"
            );
            return Ok(None);
        }
    };
    match devices.len() {
        0 => Ok(None),
        1 => Ok(devices.into_iter().next()),
        count => match Terminal::open() {
            Some(mut t) => Ok(Some(t.choose(&devices)?)),
            None => Err(MfaError::MustChoose {
                count,
                section: long_term.to_string(),
                devices: devices.join(", "),
            }
            .into()),
        },
    }
}
