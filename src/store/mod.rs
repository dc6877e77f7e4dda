//! The AWS shared config and credentials files: reading them as the SDKs do, editing them without
//! losing a byte we do not own, and writing them safely.
//!
//! - [`doc`] is the pure text model: the SDKs' grammar, lossless edits.
//! - [`fs`] is the one place that touches the disk: lock, re-read, edit, atomic write.
//! - This module holds the rules that sit on top: how the two files merge into the profiles an
//!   SDK sees, and the guard that never lets a session overwrite someone's long-term keys.

pub mod doc;
pub mod fs;

use std::path::PathBuf;

pub use doc::{Document, EditError, FileKind, ParseError, Profiles};
pub use fs::{RunLock, SharedFile};

use crate::session::{self, Holding, Session};

/// Everything that can go wrong reading or writing a shared file. Each message names the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    // The io::Error is part of the message, not a `source`: `{:#}` would print it twice.
    #[error("cannot read {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "{} is {what}, not a regular file; refusing to read or replace it (nothing was changed)",
        path.display()
    )]
    NotRegular { path: PathBuf, what: &'static str },
    #[error(
        "{} is larger than {} MiB or {} lines: refusing to read it (no credentials or config \
         file is that big; is it the right file?)",
        path.display(),
        limit / (1024 * 1024),
        fs::MAX_FILE_LINES
    )]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{} is not valid UTF-8 text; it was left unchanged", path.display())]
    NotUtf8 { path: PathBuf },
    #[error(
        "{}:{line}: {message}; fix that line — the file was left unchanged",
        path.display()
    )]
    Parse {
        path: PathBuf,
        line: usize,
        message: &'static str,
    },
    /// `path` is the lock file itself.
    #[error("cannot lock {}: {cause}", path.display())]
    Lock {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "{} is held by another mfa-session run and was not released within {waited} s; \
         try again when it has finished",
        path.display()
    )]
    Busy { path: PathBuf, waited: u64 },
    /// mfa-session's cache directory (or one in it) could not be created or read.
    #[error("cannot use the directory {}: {cause}", path.display())]
    Dir {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// mfa-session's cache directory is one that another user could write to.
    #[error(
        "refusing to use {}: {why}. mfa-session keeps its login locks and role sessions only \
         in a directory that is yours and that nobody else may write; fix that, or set \
         XDG_CACHE_HOME to an absolute directory of your own (unset, ~/.cache is used)",
        path.display()
    )]
    UnsafeDir { path: PathBuf, why: String },
    #[error("cannot write {}: {cause}; it was left unchanged", path.display())]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("refusing to write {}: {why}; it was left unchanged", path.display())]
    Ownership { path: PathBuf, why: String },
    #[error(
        "refusing to write {}: it has {links} hard links, and replacing it would leave the other \
         names holding the old secrets; replace the extra links with symlinks (ln -sf), then try \
         again — it was left unchanged",
        path.display()
    )]
    HardLinked { path: PathBuf, links: u64 },
    #[error(
        "{} is a bind mount (a file mounted on its own, as `docker run -v \
         ~/.aws/credentials:…` does): it cannot be replaced atomically, and mfa-session does not \
         write it in place; mount its directory instead (`-v ~/.aws:/root/.aws`). Nothing was \
         sent to AWS",
        path.display()
    )]
    BindMount { path: PathBuf },
    #[error(
        "{} kept being changed by another program (one that ignores {}.lock) while mfa-session \
         was writing it; it was left as that program wrote it: close the editor and try again",
        path.display(),
        path.display()
    )]
    KeptChanging { path: PathBuf },
    #[error(transparent)]
    Edit(#[from] EditError),
    #[error(
        "[{profile}] holds long-term access keys (an access key with no session token and no expiration); \
         refusing to overwrite them with a session. Move them to [{profile}{long_term_suffix}] \
         (rename the section header) and log in again"
    )]
    LongTermKeys {
        profile: String,
        long_term_suffix: String,
    },
}

impl StoreError {
    /// A lock or cache directory that this process may not create or write for a reason that
    /// says nothing about anyone else's doing: read-only, full, over quota, or not writable by
    /// us. A login that keeps nothing in the cache can go on without it.
    pub fn is_unavailable(&self) -> bool {
        use std::io::ErrorKind as K;
        match self {
            StoreError::Dir { cause, .. } | StoreError::Lock { cause, .. } => matches!(
                cause.kind(),
                K::PermissionDenied | K::ReadOnlyFilesystem | K::StorageFull | K::QuotaExceeded
            ),
            _ => false,
        }
    }
}

/// The profiles an SDK sees when it reads both files: properties merged per profile, the
/// credentials file winning where both define a key.
pub fn merge(config: &Document, credentials: &Document) -> Profiles {
    let mut out = config.profiles();
    for (name, props) in credentials.profiles().profiles {
        out.profiles.entry(name).or_default().extend(props);
    }
    out
}

/// Writes `s` into `[profile]` of a credentials document: the three credentials and
/// `expiration`, plus aws-mfa's `aws_security_token` when the section already has one. Every
/// other key, comment and line stays. Refuses when the section holds long-term keys.
pub fn put_session(
    doc: &mut Document,
    profile: &str,
    long_term_suffix: &str,
    s: &Session,
) -> Result<(), StoreError> {
    let props = doc.profile(profile).unwrap_or_default();
    if Holding::of(&props) == Holding::LongTermKeys {
        return Err(StoreError::LongTermKeys {
            profile: profile.to_string(),
            long_term_suffix: long_term_suffix.to_string(),
        });
    }
    doc.set(profile, session::KEY_ACCESS_KEY_ID, &s.access_key_id)?;
    doc.set(
        profile,
        session::KEY_SECRET_ACCESS_KEY,
        s.secret_access_key.expose(),
    )?;
    doc.set(
        profile,
        session::KEY_SESSION_TOKEN,
        s.session_token.expose(),
    )?;
    if props.contains_key(session::KEY_SECURITY_TOKEN) {
        doc.set(
            profile,
            session::KEY_SECURITY_TOKEN,
            s.session_token.expose(),
        )?;
    }
    doc.set(
        profile,
        session::KEY_EXPIRATION,
        &session::format_expiration(s.expiration),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Secret;
    use chrono::{TimeZone, Utc};

    fn session() -> Session {
        Session {
            access_key_id: "ASIANEW".into(),
            secret_access_key: Secret::new("newsecret"),
            session_token: Secret::new("newtoken"),
            expiration: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        }
    }

    #[test]
    fn writes_a_session_next_to_foreign_keys() {
        let text =
            "[dev-long-term]\naws_access_key_id = AKIA\n\n[dev]\n# mine\nregion = eu-west-1\n";
        let mut d = Document::parse(FileKind::Credentials, text).unwrap();
        put_session(&mut d, "dev", "-long-term", &session()).unwrap();
        assert_eq!(
            d.to_string(),
            "[dev-long-term]\naws_access_key_id = AKIA\n\n[dev]\n# mine\nregion = eu-west-1\n\
             aws_access_key_id = ASIANEW\naws_secret_access_key = newsecret\n\
             aws_session_token = newtoken\nexpiration = 2026-01-02T03:04:05Z\n"
        );
    }

    #[test]
    fn keeps_aws_mfa_security_token_in_step() {
        let text = "[dev]\naws_access_key_id = ASIAOLD\naws_secret_access_key = s\n\
                    aws_session_token = t\naws_security_token = t\nexpiration = 2025-01-01 00:00:00\n";
        let mut d = Document::parse(FileKind::Credentials, text).unwrap();
        put_session(&mut d, "dev", "-long-term", &session()).unwrap();
        let p = d.profile("dev").unwrap();
        assert_eq!(p["aws_security_token"], "newtoken");
        assert_eq!(p["aws_session_token"], "newtoken");
        assert_eq!(p["expiration"], "2026-01-02T03:04:05Z");
    }

    #[test]
    fn refuses_to_overwrite_long_term_keys() {
        let text = "[dev]\naws_access_key_id = AKIA\naws_secret_access_key = s\n";
        let mut d = Document::parse(FileKind::Credentials, text).unwrap();
        let e = put_session(&mut d, "dev", "-long-term", &session()).unwrap_err();
        assert!(e.to_string().contains("[dev-long-term]"), "{e}");
        assert_eq!(d.to_string(), text);
    }

    #[test]
    fn merge_prefers_credentials() {
        let c = Document::parse(FileKind::Config, "[profile a]\nx = 1\ny = 1\n").unwrap();
        let k = Document::parse(FileKind::Credentials, "[a]\ny = 2\n").unwrap();
        let m = merge(&c, &k);
        assert_eq!(m.profiles["a"]["x"], "1");
        assert_eq!(m.profiles["a"]["y"], "2");
    }
}
