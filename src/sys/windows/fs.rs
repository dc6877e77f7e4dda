//! Files on Windows: no-follow opens through `FILE_FLAG_OPEN_REPARSE_POINT`, the ACL check for
//! private files, renames retried while another program has the target open.
//!
//! Windows has no owners or mode bits to keep on a replacement: the new file inherits its
//! directory's ACL, which in the user's profile is the user's alone. There are no FIFOs or
//! devices in the file system, so opens never block, and no hard-link count is read (std
//! gives it only on nightly), so a hard-linked credentials file is not detected here.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::os::windows::fs::{MetadataExt, OpenOptionsExt};
use std::os::windows::io::AsRawHandle;
use std::path::Path;
use std::time::Duration;

use windows_sys::Win32::Foundation::{GENERIC_ALL, GENERIC_READ, GENERIC_WRITE, LocalFree};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, GetSecurityInfo, SE_FILE_OBJECT,
};
use windows_sys::Win32::Security::{
    ACL, DACL_SECURITY_INFORMATION, EqualSid, GetAce, IsWellKnownSid, LookupAccountSidW,
    OWNER_SECURITY_INFORMATION, PSID, SID_NAME_USE, WinBuiltinAdministratorsSid, WinLocalSystemSid,
};
use windows_sys::Win32::Storage::FileSystem::{
    FILE_APPEND_DATA, FILE_FLAG_OPEN_REPARSE_POINT, FILE_READ_DATA, FILE_WRITE_DATA,
};

use super::{How, OpenError};

/// What identifies the version of a file that was read (size and times; Windows has no inode
/// number in stable std).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    size: u64,
    written: u64,
    created: u64,
}

impl Stamp {
    pub fn of(m: &Metadata) -> Stamp {
        Stamp {
            size: m.file_size(),
            written: m.last_write_time(),
            created: m.creation_time(),
        }
    }
}

/// What a file type is called in messages.
pub fn type_name(ft: fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

pub(super) fn open(path: &Path, how: How) -> Result<File, OpenError> {
    let mut opts = OpenOptions::new();
    match how {
        How::Read => {
            opts.read(true);
        }
        How::ReadNoFollow => {
            opts.read(true);
        }
        How::WriteNoFollow => {
            opts.write(true);
        }
        How::CreateNoFollow => {
            opts.read(true).write(true).create(true).truncate(false);
        }
    }
    if how != How::Read {
        // The link itself is opened, not what it names: then refused as not a regular file.
        opts.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
    }
    let file = opts.open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            OpenError::Missing
        } else {
            OpenError::Io(e)
        }
    })?;
    if how != How::Read {
        let meta = file.metadata().map_err(OpenError::Io)?;
        if meta.file_type().is_symlink() {
            return Err(OpenError::NotRegular("a symbolic link"));
        }
    }
    Ok(file)
}

/// Access that lets someone read or change a secret.
const READ_OR_WRITE: u32 = FILE_READ_DATA
    | FILE_WRITE_DATA
    | FILE_APPEND_DATA
    | GENERIC_READ
    | GENERIC_WRITE
    | GENERIC_ALL;

/// `ACCESS_ALLOWED_ACE_TYPE`: an entry that grants access.
const ACCESS_ALLOWED: u8 = 0;

/// An ACE of type `ACCESS_ALLOWED_ACE`: header, mask, then the SID.
#[repr(C)]
struct AllowedAce {
    kind: u8,
    flags: u8,
    size: u16,
    mask: u32,
    sid_start: u32,
}

pub(super) fn private_problem(
    file: &File,
    _meta: &Metadata,
    _owner_ok: impl Fn(u32) -> bool,
) -> Option<String> {
    let mut owner: PSID = std::ptr::null_mut();
    let mut dacl: *mut ACL = std::ptr::null_mut();
    let mut descriptor = std::ptr::null_mut();
    // SAFETY: the handle is an open file's; the out-pointers are valid; the descriptor is
    // freed with LocalFree below, and owner and dacl point into it.
    let r = unsafe {
        GetSecurityInfo(
            file.as_raw_handle(),
            SE_FILE_OBJECT,
            OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
            &mut owner,
            std::ptr::null_mut(),
            &mut dacl,
            std::ptr::null_mut(),
            &mut descriptor,
        )
    };
    if r != 0 {
        return Some(format!(
            "its access control list could not be read ({})",
            io::Error::from_raw_os_error(r.cast_signed())
        ));
    }
    let problem = if dacl.is_null() {
        Some("it has no access control list, so everyone may read it".to_string())
    } else {
        // SAFETY: dacl is a valid ACL of the descriptor, read within its AceCount.
        unsafe { foreign_reader(dacl, owner) }
    };
    // SAFETY: allocated by GetSecurityInfo, freed once.
    unsafe { LocalFree(descriptor) };
    problem
}

/// The first account other than `owner`, SYSTEM and Administrators that `dacl` lets read or
/// write, as a reason.
unsafe fn foreign_reader(dacl: *mut ACL, owner: PSID) -> Option<String> {
    // SAFETY: the caller's.
    let count = unsafe { (*dacl).AceCount };
    for i in 0..u32::from(count) {
        let mut ace = std::ptr::null_mut();
        // SAFETY: i < AceCount.
        if unsafe { GetAce(dacl, i, &mut ace) } == 0 {
            continue;
        }
        let ace = ace.cast::<AllowedAce>();
        // SAFETY: GetAce gave a pointer to an ACE, whose header is always there.
        let (kind, mask) = unsafe { ((*ace).kind, (*ace).mask) };
        if kind != ACCESS_ALLOWED || mask & READ_OR_WRITE == 0 {
            continue;
        }
        // SAFETY: an allowed ACE ends with its SID.
        let sid: PSID = unsafe { (&raw mut (*ace).sid_start).cast() };
        // SAFETY: valid SIDs.
        let trusted = unsafe {
            (!owner.is_null() && EqualSid(sid, owner) != 0)
                || IsWellKnownSid(sid, WinLocalSystemSid) != 0
                || IsWellKnownSid(sid, WinBuiltinAdministratorsSid) != 0
        };
        if !trusted {
            return Some(format!(
                "readable or writable by {} under its access control list",
                // SAFETY: a valid SID.
                unsafe { account_of(sid) }
            ));
        }
    }
    None
}

/// An account as people read it, `NAME (S-1-…)` (`DOMAIN\NAME` where it has a domain), or
/// just its SID when Windows cannot name it.
unsafe fn account_of(sid: PSID) -> String {
    // SAFETY: the caller's.
    let id = unsafe { sid_string(sid) };
    let (mut name, mut domain) = (vec![0u16; 256], vec![0u16; 256]);
    let (mut name_len, mut domain_len) = (256u32, 256u32);
    let mut kind: SID_NAME_USE = 0;
    // SAFETY: a valid SID and buffers of the lengths given.
    let found = unsafe {
        LookupAccountSidW(
            std::ptr::null(),
            sid,
            name.as_mut_ptr(),
            &mut name_len,
            domain.as_mut_ptr(),
            &mut domain_len,
            &mut kind,
        )
    } != 0;
    let text = |b: &[u16], len: u32| String::from_utf16_lossy(&b[..(len as usize).min(b.len())]);
    match (found, text(&name, name_len), text(&domain, domain_len)) {
        (true, name, domain) if !name.is_empty() && !domain.is_empty() => {
            format!("{domain}\\{name} ({id})")
        }
        (true, name, _) if !name.is_empty() => format!("{name} ({id})"),
        _ => format!("the account {id}"),
    }
}

/// A SID as `S-1-5-…`.
unsafe fn sid_string(sid: PSID) -> String {
    let mut text = std::ptr::null_mut();
    // SAFETY: a valid SID; the string is freed with LocalFree.
    unsafe {
        if ConvertSidToStringSidW(sid, &mut text) == 0 || text.is_null() {
            return "another account".into();
        }
        let mut len = 0;
        while *text.add(len) != 0 {
            len += 1;
        }
        let s = String::from_utf16_lossy(std::slice::from_raw_parts(text, len));
        LocalFree(text.cast());
        s
    }
}

/// The command that makes `path` private: only you (and SYSTEM and Administrators, who read
/// everything anyway) may read it.
pub fn make_private_hint(path: &Path) -> String {
    format!(
        "icacls \"{}\" /inheritance:r /grant:r \"%USERNAME%:F\"",
        path.display()
    )
}

/// Owners cannot be kept or lost on Windows: always `None`.
pub fn ownership_problem(meta: &Metadata) -> Option<String> {
    let _ = meta;
    None
}

/// Whether `dir` is a directory we may create files in (not read-only).
pub fn dir_writable(dir: &Path) -> bool {
    fs::metadata(dir).is_ok_and(|m| m.is_dir() && !m.permissions().readonly())
}

/// Windows has no sticky directories.
pub fn sticky_problem(dir: &Metadata, file: &Metadata) -> bool {
    let _ = (dir, file);
    false
}

/// Who may read a file is its ACL's business, checked where secrets are read; never a warning
/// here.
pub fn exposed(meta: &Metadata) -> Option<u32> {
    let _ = meta;
    None
}

/// One name per file, as far as stable std can tell.
pub fn link_count(meta: &Metadata) -> u64 {
    let _ = meta;
    1
}

/// No mode bits: `0o600`.
pub fn mode_of(meta: &Metadata) -> u32 {
    let _ = meta;
    0o600
}

/// No mode bits to set.
pub fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    let _ = (file, mode);
    Ok(())
}

/// Windows has no mode bits: a mode without any write bit makes the file read-only, any other
/// makes it writable.
pub fn set_mode_at(path: &Path, mode: u32) -> io::Result<()> {
    let mut perms = fs::metadata(path)?.permissions();
    perms.set_readonly(mode & 0o222 == 0);
    fs::set_permissions(path, perms)
}

/// A new temp file in `dir`, named `prefix…` (it inherits the directory's ACL).
pub fn private_temp_in(dir: &Path, prefix: &str) -> io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new().prefix(prefix).tempfile_in(dir)
}

/// Nothing to keep: see the module documentation.
pub fn keep_owner(tmp: &File, old: &Metadata) -> io::Result<()> {
    let _ = (tmp, old);
    Ok(())
}

/// Nothing to give: see the module documentation.
pub fn give_to_directory_owner(file: &File, meta: &Metadata, path: &Path) {
    let _ = (file, meta, path);
}

/// How long a rename keeps being retried while another program has the target open without
/// sharing it for deletion (an editor, an antivirus scan, an SDK reading it).
const RENAME_PATIENCE: Duration = Duration::from_secs(2);

/// Renames the temp file over `target` (`MoveFileEx` with replace). Windows refuses while
/// another process has `target` open without `FILE_SHARE_DELETE`: retried, as zoxide does,
/// for up to [`RENAME_PATIENCE`].
pub fn replace(tmp: tempfile::NamedTempFile, target: &Path) -> io::Result<()> {
    let give_up = std::time::Instant::now() + RENAME_PATIENCE;
    let mut tmp = tmp;
    let mut pause = Duration::from_millis(5);
    loop {
        match tmp.persist(target) {
            Ok(_) => return Ok(()),
            Err(e) if busy(&e.error) && std::time::Instant::now() < give_up => {
                tmp = e.file;
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(e) if busy(&e.error) => {
                return Err(io::Error::new(
                    e.error.kind(),
                    format!(
                        "it is in use by another program, and Windows refuses to replace a file \
                         opened without delete sharing (tried for {} s: {}); close the program \
                         holding it (an editor, a virus scan) and try again",
                        RENAME_PATIENCE.as_secs(),
                        e.error
                    ),
                ));
            }
            Err(e) => return Err(e.error),
        }
    }
}

/// Access denied (the target is open without delete sharing, or being deleted), a sharing or
/// a lock violation: what another program holding the file causes, and what passes.
fn busy(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied || matches!(e.raw_os_error(), Some(5 | 32 | 33))
}

/// Directory entries are durable without a directory fsync on NTFS (and a directory cannot be
/// opened as a file without backup semantics): nothing to do.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    let _ = dir;
    Ok(())
}

/// Windows has no bind mounts of single files.
pub fn is_mount_root(path: &Path) -> bool {
    let _ = path;
    false
}
