//! Who owns what: the effective user, the owner and mode of a directory entry, and directories
//! created for the user whose directory they are created in.
//!
//! Root often works in a user's HOME (`sudo -E`, a root cron job with `HOME` set): whatever it
//! creates there would stay root's, and the user's own next run could not create or open its
//! files in them. So, as root, a directory created inside another user's directory is given to
//! that user (and group), as the lock files of the shared files are.
//!
//! Windows has no user ids or mode bits: there every entry reads as the current user's
//! ([`effective_uid`]) with a private mode, because who may read a file is its ACL's business
//! ([`crate::sys::fs::private_problem`] checks that), and the per-user profile directories
//! (`%USERPROFILE%`, `%LOCALAPPDATA%`) are private to their user by default.

#[cfg(unix)]
#[path = "unix/owner.rs"]
mod imp;
#[cfg(windows)]
#[path = "windows/owner.rs"]
mod imp;

pub use imp::*;

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
    /// The entry described by `m`.
    pub fn of(m: &std::fs::Metadata) -> Entry {
        let ft = m.file_type();
        let kind = if ft.is_symlink() {
            Kind::Symlink
        } else if ft.is_dir() {
            Kind::Dir
        } else if ft.is_file() {
            Kind::File
        } else {
            Kind::Other
        };
        let (uid, gid, mode) = imp::ids_and_mode(m);
        Entry {
            uid,
            gid,
            mode,
            kind,
        }
    }
}

/// The entry at `path` itself (a symlink is described, not followed).
pub fn lstat(path: &std::path::Path) -> std::io::Result<Entry> {
    std::fs::symlink_metadata(path).map(|m| Entry::of(&m))
}

/// The entry `path` names, following symlinks.
pub fn stat(path: &std::path::Path) -> std::io::Result<Entry> {
    std::fs::metadata(path).map(|m| Entry::of(&m))
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
