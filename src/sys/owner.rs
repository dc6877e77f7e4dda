//! Who owns what: the effective user, the owner and mode of a directory entry, and directories
//! created for the user whose directory they are created in.
//!
//! Root often works in a user's HOME (`sudo -E`, a root cron job with `HOME` set): whatever it
//! creates there would stay root's, and the user's own next run could not create or open its
//! files in them. So, as root, a directory created inside another user's directory is given to
//! that user (and group), as the lock files of the shared files are.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

/// The effective user id of this process.
pub fn effective_uid() -> u32 {
    // SAFETY: a plain getter.
    unsafe { libc::geteuid() }
}

/// What a directory entry is, by `lstat` (a symlink is not followed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Symlink,
    Other,
}

/// The owner, mode and kind of a directory entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub uid: u32,
    pub gid: u32,
    /// The permission bits (`0o7777`).
    pub mode: u32,
    pub kind: Kind,
}

impl Entry {
    fn of(m: &fs::Metadata) -> Entry {
        let ft = m.file_type();
        Entry {
            uid: m.uid(),
            gid: m.gid(),
            mode: m.mode() & 0o7777,
            kind: if ft.is_symlink() {
                Kind::Symlink
            } else if ft.is_dir() {
                Kind::Dir
            } else if ft.is_file() {
                Kind::File
            } else {
                Kind::Other
            },
        }
    }
}

/// The entry at `path` itself (a symlink is described, not followed).
pub fn lstat(path: &Path) -> io::Result<Entry> {
    fs::symlink_metadata(path).map(|m| Entry::of(&m))
}

/// The entry `path` names, following symlinks.
pub fn stat(path: &Path) -> io::Result<Entry> {
    fs::metadata(path).map(|m| Entry::of(&m))
}

/// The owner of an open file.
pub fn file_owner(file: &File) -> io::Result<u32> {
    file.metadata().map(|m| m.uid())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_missing_parents_with_the_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b/c");
        create_dir_all(&dir, 0o700).unwrap();
        create_dir_all(&dir, 0o700).unwrap();
        let e = lstat(&dir).unwrap();
        assert_eq!((e.kind, e.mode & 0o077), (Kind::Dir, 0));
        assert_eq!(lstat(&tmp.path().join("a")).unwrap().kind, Kind::Dir);
        std::fs::write(tmp.path().join("f"), "").unwrap();
        assert!(create_dir_all(&tmp.path().join("f/x"), 0o700).is_err());
    }
}
