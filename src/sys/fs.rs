//! Files as mfa-session needs them on every platform: opened without following a link or
//! blocking, checked to be regular and private, replaced atomically keeping owner and mode.
//!
//! [`open`] is the one way a file of the user's or of ours is opened for reading, locking or
//! creating (the store, the locks, the role cache, TOTP seed files, `doctor`); [`private_problem`]
//! is the one check that a file holding a secret is the user's alone (owner and mode bits on
//! Unix, the ACL on Windows). A FIFO is never waited on: Unix opens without blocking; Windows
//! has no FIFOs in the file system.

use std::fs::{File, Metadata};
use std::io;
use std::path::Path;

#[cfg(unix)]
#[path = "unix/fs.rs"]
mod imp;
#[cfg(windows)]
#[path = "windows/fs.rs"]
mod imp;

pub use imp::{
    Stamp, dir_writable, exposed, give_to_directory_owner, is_mount_root, keep_owner, link_count,
    mode_of, ownership_problem, private_temp_in, replace, set_mode, set_mode_at, sticky_problem,
    sync_dir, type_name,
};

/// How [`open`] opens a file. Every way refuses anything but a regular file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// For reading, following symlinks (the user's credentials and config files, which may be
    /// links into a dotfiles repository).
    Read,
    /// For reading, refusing a symlink (our own cache entries, which nobody links).
    ReadNoFollow,
    /// For writing, an existing file only, refusing a symlink (a lock file we check).
    WriteNoFollow,
    /// For reading and writing, created private (`0600`) when missing, refusing a symlink (a
    /// dangling one would make us create its target, as root anywhere): lock files.
    CreateNoFollow,
}

/// Why [`open`] gave no file.
#[derive(Debug)]
pub enum OpenError {
    /// There is no file at the path.
    Missing,
    /// There is something else: a symbolic link (with a `NoFollow` way), a FIFO, a directory, a
    /// device. Says what, as "a FIFO (named pipe)".
    NotRegular(&'static str),
    Io(io::Error),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Missing => f.write_str("it does not exist"),
            OpenError::NotRegular(what) => write!(f, "it is {what}, not a regular file"),
            OpenError::Io(e) => e.fmt(f),
        }
    }
}

impl From<OpenError> for io::Error {
    fn from(e: OpenError) -> io::Error {
        match e {
            OpenError::Io(e) => e,
            OpenError::Missing => io::Error::from(io::ErrorKind::NotFound),
            other => io::Error::new(io::ErrorKind::InvalidInput, other.to_string()),
        }
    }
}

/// Opens the regular file at `path` the way `how` says, never blocking, and gives it with its
/// metadata (of the open file: what is checked is what is read).
pub fn open(path: &Path, how: How) -> Result<(File, Metadata), OpenError> {
    let file = imp::open(path, how)?;
    let meta = file.metadata().map_err(OpenError::Io)?;
    if !meta.file_type().is_file() {
        return Err(OpenError::NotRegular(type_name(meta.file_type())));
    }
    Ok((file, meta))
}

/// The command a person runs to make the file at `path` private: `chmod 600 PATH` on Unix,
/// `icacls "PATH" /inheritance:r /grant:r "%USERNAME%:F"` on Windows.
pub fn make_private_hint(path: &Path) -> String {
    imp::make_private_hint(path)
}

/// Why the open `file` (with its metadata `meta`) is not private to this user, or `None` when
/// it is: on Unix, owned by another user than those `owner_ok` accepts, or readable or
/// writable by group or others; on Windows, an ACL that lets anyone but its owner, SYSTEM and
/// Administrators read or write it (what OpenSSH for Windows accepts for private keys).
pub fn private_problem(
    file: &File,
    meta: &Metadata,
    owner_ok: impl Fn(u32) -> bool,
) -> Option<String> {
    imp::private_problem(file, meta, owner_ok)
}
