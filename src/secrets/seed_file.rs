//! `mfa_totp_secret_file`: a file holding a device's base32 TOTP seed, and the codes it gives.
//!
//! The file is refused unless it is the user's alone — owned by the user and unreadable by
//! group and others, the rule ssh applies to private keys (on Windows: an ACL that lets no one
//! but its owner, SYSTEM and Administrators read it). It lives here, beside the keyring's
//! seeds, because two layers read it: the code source (`mfa::source`) for a code, and
//! `setup --store keyring` for moving the seed into the keyring.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::session::Secret;
use crate::sys::fs::{self as sys_fs, How, OpenError};

/// Why a seed file gave no seed. Never carries the seed.
#[derive(Debug, thiserror::Error)]
pub enum SeedFileError {
    // io::Errors are part of these messages, not `source`s: `{:#}` would print them twice.
    #[error("cannot read the TOTP secret file {} ({origin}): {cause}", path.display())]
    Read {
        path: PathBuf,
        origin: String,
        cause: std::io::Error,
    },
    #[error(
        "refusing the TOTP secret file {} ({origin}): it is {why}; it must belong to you and be \
         unreadable by others, like an ssh key ({})",
        path.display(),
        crate::sys::fs::make_private_hint(path)
    )]
    Unsafe {
        path: PathBuf,
        origin: String,
        why: String,
    },
    #[error("the TOTP secret file {} ({origin}) does not hold a base32 seed", path.display())]
    BadSeed { path: PathBuf, origin: String },
}

/// The base32 seed in the TOTP secret file at `path` (configured at `origin`, for messages),
/// normalised (no blanks or padding, upper case), after the checks of the module
/// documentation. The seed is checked to decode.
pub fn read(path: &Path, origin: &str) -> Result<Secret, SeedFileError> {
    let read_err = |cause| SeedFileError::Read {
        path: path.to_path_buf(),
        origin: origin.to_string(),
        cause,
    };
    // Opened without blocking (a FIFO would wait for a writer forever) and checked on the open
    // file, so what is checked is what is read.
    let (file, meta) = sys_fs::open(path, How::Read).map_err(|e| {
        read_err(match e {
            OpenError::NotRegular(_) => std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file (a FIFO, directory or device)",
            ),
            other => other.into(),
        })
    })?;
    let me = crate::sys::owner::effective_uid();
    if let Some(why) = sys_fs::private_problem(&file, &meta, |uid| uid == me) {
        return Err(SeedFileError::Unsafe {
            path: path.to_path_buf(),
            origin: origin.to_string(),
            why,
        });
    }
    // A seed is a few dozen characters; a larger file is not one.
    let mut text = String::new();
    file.take(4096)
        .read_to_string(&mut text)
        .map_err(read_err)?;
    let seed = Secret::new(
        text.chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .collect::<String>()
            .to_ascii_uppercase(),
    );
    match totp(&seed, 0) {
        Some(_) => Ok(seed),
        None => Err(SeedFileError::BadSeed {
            path: path.to_path_buf(),
            origin: origin.to_string(),
        }),
    }
}

/// The RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 seed at `unix_time`; `None` when the
/// seed does not decode.
pub fn totp(seed: &Secret, unix_time: u64) -> Option<Secret> {
    let bytes = totp_rs::Secret::Encoded(seed.expose().to_string())
        .to_bytes()
        .ok()
        .filter(|b| !b.is_empty())?;
    let code =
        totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).generate(unix_time);
    Some(Secret::new(code))
}
