//! Owners and modes on Unix: uids, gids and permission bits, and `fchown` for what root
//! creates in a user's directory.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

/// The effective user id of this process.
pub fn effective_uid() -> u32 {
    // SAFETY: a plain getter.
    unsafe { libc::geteuid() }
}

/// Owner, group and permission bits of `m`.
pub(super) fn ids_and_mode(m: &fs::Metadata) -> (u32, u32, u32) {
    (m.uid(), m.gid(), m.mode() & 0o7777)
}

/// Creates `dir` and any missing parents with `mode` (less the umask), like `mkdir -p`. Run as
/// root, each directory it creates inside a directory that belongs to another user is given to
/// that user and group, so a root run in a user's HOME leaves nothing of root's behind there.
pub fn create_dir_all(dir: &Path, mode: u32) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_all(parent, mode)?;
    }
    match fs::DirBuilder::new().mode(mode).create(dir) {
        Ok(()) => give_to_parent_owner(dir),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// A directory root has just created is given to the owner of the directory it is in, when
/// that is another user. Done on the directory opened without following a symlink, so a link
/// swapped in meanwhile is never what gets the new owner.
fn give_to_parent_owner(dir: &Path) -> io::Result<()> {
    if effective_uid() != 0 {
        return Ok(());
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let owner = fs::metadata(parent)?;
    if owner.uid() == 0 {
        return Ok(());
    }
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(dir)?;
    if opened.metadata()?.uid() != 0 {
        return Ok(());
    }
    std::os::unix::fs::fchown(&opened, Some(owner.uid()), Some(owner.gid()))
}
