//! Files on Unix: `O_NOFOLLOW | O_NONBLOCK | O_NOCTTY` opens, uids and mode bits, `fchown` to
//! keep a replaced file's owner, `faccessat` for a writable directory, `statx` for a mount root.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::{How, OpenError};

/// What identifies the version of a file that was read: if any of it differs just before the
/// rename, someone wrote the file without the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    pub fn of(m: &Metadata) -> Stamp {
        Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}

/// What a file type is called in messages.
pub fn type_name(ft: fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "a device"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

pub(super) fn open(path: &Path, how: How) -> Result<File, OpenError> {
    let mut opts = OpenOptions::new();
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    match how {
        How::Read => {
            opts.read(true);
        }
        How::ReadNoFollow => {
            opts.read(true);
            flags |= libc::O_NOFOLLOW;
        }
        How::WriteNoFollow => {
            opts.write(true);
            flags |= libc::O_NOFOLLOW;
        }
        How::CreateNoFollow => {
            // Checked first: O_NOFOLLOW alone would not refuse a FIFO without opening it.
            if let Ok(m) = fs::symlink_metadata(path)
                && !m.file_type().is_file()
            {
                return Err(OpenError::NotRegular(type_name(m.file_type())));
            }
            opts.read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600);
            flags |= libc::O_NOFOLLOW;
        }
    }
    opts.custom_flags(flags).open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            OpenError::Missing
        } else if e.raw_os_error() == Some(libc::ELOOP) && how != How::Read {
            OpenError::NotRegular("a symbolic link")
        } else {
            OpenError::Io(e)
        }
    })
}

pub(super) fn private_problem(
    _file: &File,
    meta: &Metadata,
    owner_ok: impl Fn(u32) -> bool,
) -> Option<String> {
    let me = crate::sys::owner::effective_uid();
    if !owner_ok(meta.uid()) {
        return Some(format!(
            "owned by uid {}, not by you (uid {me})",
            meta.uid()
        ));
    }
    if meta.mode() & 0o077 != 0 {
        return Some(format!(
            "readable or writable by group or others (mode {:o})",
            meta.mode() & 0o777
        ));
    }
    None
}

/// Why a replacement of the file described by `meta` could not keep its owner and group, or
/// `None` if it can. Checked before anything is written, and again by the `fchown` itself.
pub fn ownership_problem(meta: &Metadata) -> Option<String> {
    // SAFETY: plain getters.
    let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if euid == 0 {
        return None;
    }
    if meta.uid() != euid {
        return Some(format!(
            "it belongs to uid {} and only root can give the new version that owner (you are uid \
             {euid}); run mfa-session as its owner",
            meta.uid()
        ));
    }
    if meta.gid() != egid && !in_group(meta.gid()) {
        return Some(format!(
            "its group is gid {}, which you are not a member of, so the new version could not \
             keep it; run mfa-session as a member or change the file's group",
            meta.gid()
        ));
    }
    None
}

fn in_group(gid: u32) -> bool {
    // SAFETY: getgroups with a buffer of the size it reports.
    unsafe {
        let n = libc::getgroups(0, std::ptr::null_mut());
        if n <= 0 {
            return false;
        }
        let mut groups = vec![0 as libc::gid_t; n as usize];
        let n = libc::getgroups(n, groups.as_mut_ptr());
        n > 0 && groups[..n as usize].contains(&gid)
    }
}

/// Whether this process may create and rename files in `dir` (write and search permission, as
/// the effective user).
pub fn dir_writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path.
    unsafe {
        libc::faccessat(
            libc::AT_FDCWD,
            c.as_ptr(),
            libc::W_OK | libc::X_OK,
            libc::AT_EACCESS,
        ) == 0
    }
}

/// Whether `dir` is sticky (like /tmp) in a way that keeps us from replacing the file
/// described by `file`: only the file's or the directory's owner (or root) may.
pub fn sticky_problem(dir: &Metadata, file: &Metadata) -> bool {
    let euid = crate::sys::owner::effective_uid();
    dir.mode() & 0o1000 != 0 && euid != 0 && file.uid() != euid && dir.uid() != euid
}

/// The permission bits of a file others may read or write, or `None` when only its owner may
/// (a warning on every write of a file holding secrets).
pub fn exposed(meta: &Metadata) -> Option<u32> {
    let mode = meta.mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

/// How many names the file has (a rename would split hard links).
pub fn link_count(meta: &Metadata) -> u64 {
    meta.nlink()
}

/// The permission bits a replacement keeps (setuid, setgid and sticky bits dropped).
pub fn mode_of(meta: &Metadata) -> u32 {
    meta.mode() & 0o777
}

/// Sets the permission bits of an open file.
pub fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    file.set_permissions(fs::Permissions::from_mode(mode))
}

/// Sets the permission bits of the file at `path` (tests and `setup`).
pub fn set_mode_at(path: &Path, mode: u32) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// A new temp file (`0600`) in `dir`, named `prefix…`.
pub fn private_temp_in(dir: &Path, prefix: &str) -> io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(prefix)
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
}

/// Gives the open `tmp` the owner and group of `old` (the version it replaces), when they
/// differ; an error when that is not permitted.
pub fn keep_owner(tmp: &File, old: &Metadata) -> io::Result<()> {
    let own = tmp.metadata()?;
    if (own.uid(), own.gid()) != (old.uid(), old.gid()) {
        std::os::unix::fs::fchown(tmp, Some(old.uid()), Some(old.gid()))?;
    }
    Ok(())
}

/// A file root creates in a user's directory (root with `HOME` kept) is given to the
/// directory's owner: left root's, it would lock that user out of their own next write.
pub fn give_to_directory_owner(file: &File, meta: &Metadata, path: &Path) {
    if crate::sys::owner::effective_uid() != 0 || meta.uid() != 0 {
        return;
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = fs::metadata(dir)
        && d.uid() != 0
    {
        let _ = std::os::unix::fs::fchown(file, Some(d.uid()), Some(d.gid()));
    }
}

/// Renames the temp file over `target` (atomic on the same file system).
pub fn replace(tmp: tempfile::NamedTempFile, target: &Path) -> io::Result<()> {
    tmp.persist(target).map(drop).map_err(|e| e.error)
}

/// Makes a rename in `dir` durable (fsync of the directory).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Whether `path` is itself a mount point: a file bind-mounted on its own (`docker run -v
/// ~/.aws/credentials:…`), which a rename can never replace (EBUSY). Linux says so directly
/// (`statx`'s mount-root attribute); elsewhere a path on another device than its directory is
/// one.
pub fn is_mount_root(path: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: statx fills the zeroed buffer; the path is a valid C string.
        let mut buf: libc::statx = unsafe { std::mem::zeroed() };
        let r = unsafe {
            libc::statx(
                libc::AT_FDCWD,
                c.as_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
                libc::STATX_BASIC_STATS,
                &raw mut buf,
            )
        };
        let flag = u64::try_from(libc::STATX_ATTR_MOUNT_ROOT).unwrap_or(0);
        r == 0 && buf.stx_attributes_mask & flag != 0 && buf.stx_attributes & flag != 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        let parent = path.parent().unwrap_or(path);
        match (fs::symlink_metadata(path), fs::metadata(parent)) {
            (Ok(file), Ok(dir)) => file.dev() != dir.dev(),
            _ => false,
        }
    }
}

/// The command that makes `path` private: readable and writable by its owner only.
pub fn make_private_hint(path: &Path) -> String {
    format!("chmod 600 {}", path.display())
}
