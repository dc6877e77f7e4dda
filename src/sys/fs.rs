//! File-system facts the standard library does not give.

use std::path::Path;

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
        use std::os::unix::fs::MetadataExt;
        let parent = path.parent().unwrap_or(path);
        match (std::fs::symlink_metadata(path), std::fs::metadata(parent)) {
            (Ok(file), Ok(dir)) => file.dev() != dir.dev(),
            _ => false,
        }
    }
}
