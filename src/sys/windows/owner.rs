//! Owners on Windows, where there are no uids or mode bits: every entry reads as the current
//! user's, with a private mode (read-only files and directories without the write bits). The
//! ACL is what decides who may read a file there; `sys::fs::private_problem` checks it.

use std::fs;
use std::io;
use std::path::Path;

/// What stands for "this user" where the portable API wants a uid.
const CURRENT_USER: u32 = u32::MAX - 1;

/// The stand-in id of the current user (Windows has no uids).
pub fn effective_uid() -> u32 {
    CURRENT_USER
}

/// The current user, no group, and `0o700`/`0o600` (less the write bits when read-only).
pub(super) fn ids_and_mode(m: &fs::Metadata) -> (u32, u32, u32) {
    let mode = if m.is_dir() { 0o700 } else { 0o600 };
    let mode = if m.permissions().readonly() {
        mode & !0o222
    } else {
        mode
    };
    (CURRENT_USER, 0, mode)
}

/// Creates `dir` and any missing parents (they inherit their parent's ACL; `mode` has no
/// meaning here).
pub fn create_dir_all(dir: &Path, mode: u32) -> io::Result<()> {
    let _ = mode;
    fs::create_dir_all(dir)
}
