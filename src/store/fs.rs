//! The only code that touches the shared files on disk.
//!
//! Users' credentials files hold keys they cannot get back, and cron jobs, shells and logins may
//! all write at once. So a write is: take an advisory lock on a sidecar file, re-read and parse
//! the file under that lock, apply the edit, write a temp file in the same directory, fsync it,
//! rename it over the target, fsync the directory. Readers never see a torn file (rename is
//! atomic), concurrent writers never lose each other's update (the lock spans read-edit-write),
//! and a crash at any moment leaves the old or the new file. The lock is only ever held around
//! that local sequence — callers do their prompting and network calls before `update`.
//!
//! What a write keeps and refuses (docs/files.md, "Guarantees and limits"): the file's mode
//! (setuid, setgid and sticky bits dropped; a warning when group or others may read it), its
//! owner and group (the temp file is given them before the rename; where that is not permitted
//! the write is refused), a symlink stays a link. Refused without blocking or writing: anything
//! that is not a regular file after following symlinks (a FIFO, a directory, a device) as the
//! file or as its lock, a lock path that is a symlink, a hard-linked file (a rename would split
//! the links), a file over [`MAX_FILE_BYTES`] or [`MAX_FILE_LINES`]. A program that writes the file without taking the
//! lock (an editor) is noticed just before the rename and the edit is redone on its content.

use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::StoreError;
use super::doc::{Document, FileKind};
use crate::sys::fs::{self as sysfs, How, OpenError, Stamp, type_name};

/// Temp files are named after their target so a stale one (left by a crash) is recognisable
/// and can be cleared by the next writer, which holds the lock.
const TMP_MARK: &str = ".mfa-session-tmp-";

/// The largest credentials or config file read: far beyond any real one (10 000 profiles are
/// about 1 MiB), small enough that parsing it stays fast and within a few hundred MiB.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The most lines a credentials or config file may have: each line costs the parser a few dozen
/// bytes, so this (not the size) bounds the memory a file of tiny lines takes. Real files have a
/// few lines per profile.
pub const MAX_FILE_LINES: usize = 1_000_000;

/// How many times an edit is redone when another program changed the file under us.
const MAX_REDO: usize = 3;

/// The file as read for an update: its document and the metadata of that version.
struct Version {
    doc: Document,
    meta: Metadata,
}

/// Opens `path` for reading (following symlinks) without ever blocking — a FIFO would block an
/// ordinary open until a writer comes — and checks it is a regular file. `Ok(None)`: missing.
fn open_regular(path: &Path) -> Result<Option<(File, Metadata)>, OpenError> {
    match sysfs::open(path, How::Read) {
        Ok(opened) => Ok(Some(opened)),
        Err(OpenError::Missing) => Ok(None),
        Err(e) => Err(e),
    }
}

/// One shared file (`~/.aws/credentials` or `~/.aws/config`) at a path.
#[derive(Clone, Debug)]
pub struct SharedFile {
    path: PathBuf,
    kind: FileKind,
}

impl SharedFile {
    pub fn new(path: impl Into<PathBuf>, kind: FileKind) -> Self {
        SharedFile {
            path: path.into(),
            kind,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// Reads and parses the file without locking: writers replace it atomically, so a read sees
    /// one whole version. A missing file reads as empty.
    pub fn read(&self) -> Result<Document, StoreError> {
        Ok(self
            .read_at(&self.path)?
            .map(|v| v.doc)
            .unwrap_or_else(|| Document::empty(self.kind)))
    }

    fn read_at(&self, path: &Path) -> Result<Option<Version>, StoreError> {
        let read_err = |cause| StoreError::Read {
            path: self.path.clone(),
            cause,
        };
        let (file, meta) = match open_regular(path) {
            Ok(Some(opened)) => opened,
            Ok(None) => return Ok(None),
            Err(OpenError::NotRegular(what)) => {
                return Err(StoreError::NotRegular {
                    path: self.path.clone(),
                    what,
                });
            }
            Err(e) => return Err(read_err(e.into())),
        };
        let too_large = || StoreError::TooLarge {
            path: self.path.clone(),
            limit: MAX_FILE_BYTES,
        };
        if meta.len() > MAX_FILE_BYTES {
            return Err(too_large());
        }
        // Read with a cap: the file may grow between the fstat and the read.
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(read_err)?;
        if bytes.len() as u64 > MAX_FILE_BYTES
            || memchr::memchr_iter(b'\n', &bytes).count() >= MAX_FILE_LINES
        {
            return Err(too_large());
        }
        let text = String::from_utf8(bytes).map_err(|_| StoreError::NotUtf8 {
            path: self.path.clone(),
        })?;
        let doc = Document::parse_owned(self.kind, text).map_err(|e| StoreError::Parse {
            path: self.path.clone(),
            line: e.line,
            message: e.message,
        })?;
        Ok(Some(Version { doc, meta }))
    }

    /// The one way to change the file: under the lock, re-read it, let `edit` change the
    /// document, and write it back atomically if anything changed. `edit` must not prompt or
    /// call the network. If reading, parsing or `edit` fails, the file is not touched. If another
    /// program (one that ignores the lock) changes the file before the rename, the edit is
    /// redone on its content, so `edit` may run more than once.
    pub fn update<T, E>(&self, mut edit: impl FnMut(&mut Document) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let target = resolve_symlinks(&self.path).map_err(|cause| StoreError::Read {
            path: self.path.clone(),
            cause,
        })?;
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.exists() {
            // ~/.aws holds secrets: only its owner may list it (the HOME's owner, when root
            // works in a user's HOME).
            crate::sys::owner::create_dir_all(&dir, 0o700).map_err(|cause| StoreError::Write {
                path: self.path.clone(),
                cause,
            })?;
        }
        let _lock = Lock::acquire(&target).map_err(|e| self.lock_error(&target, e))?;
        let mut redone = 0;
        loop {
            let existing = self.read_at(&target)?;
            if let Some(v) = &existing {
                self.check_replaceable(&v.meta)?;
            }
            let before = existing.as_ref().map(|v| v.doc.to_string());
            let (mut doc, meta) = match existing {
                Some(v) => (v.doc, Some(v.meta)),
                None => (Document::empty(self.kind), None),
            };
            let out = edit(&mut doc)?;
            let after = doc.to_string();
            if before.as_deref() == Some(after.as_str()) {
                return Ok(out);
            }
            match write_atomic(&target, &dir, after.as_bytes(), meta.as_ref()) {
                Ok(Written::Done) => {
                    warn_if_exposed(&self.path, meta.as_ref());
                    return Ok(out);
                }
                Ok(Written::ChangedMeanwhile) if redone < MAX_REDO => {
                    redone += 1;
                    tracing::warn!(
                        "{} was changed by another program while mfa-session was writing it; \
                         applying the change again on the new content",
                        self.path.display()
                    );
                }
                Ok(Written::ChangedMeanwhile) => {
                    return Err(StoreError::KeptChanging {
                        path: self.path.clone(),
                    }
                    .into());
                }
                Err(WriteError::Io(cause)) => {
                    return Err(StoreError::Write {
                        path: self.path.clone(),
                        cause,
                    }
                    .into());
                }
                Err(WriteError::Owner(cause)) => {
                    return Err(StoreError::Ownership {
                        path: self.path.clone(),
                        why: cause.to_string(),
                    }
                    .into());
                }
            }
        }
    }

    /// Refuses a file a rename cannot replace faithfully: hard-linked, or with an owner or group
    /// this process cannot give the new version.
    fn check_replaceable(&self, meta: &Metadata) -> Result<(), StoreError> {
        if sysfs::link_count(meta) > 1 {
            return Err(StoreError::HardLinked {
                path: self.path.clone(),
                links: sysfs::link_count(meta),
            });
        }
        if let Some(why) = sysfs::ownership_problem(meta) {
            return Err(StoreError::Ownership {
                path: self.path.clone(),
                why,
            });
        }
        Ok(())
    }

    fn lock_error(&self, target: &Path, e: LockError) -> StoreError {
        let mut name = target.as_os_str().to_owned();
        name.push(".lock");
        match e {
            LockError::Io(cause) => StoreError::Lock {
                path: PathBuf::from(name),
                cause,
            },
            LockError::NotRegular(what) => StoreError::NotRegular {
                path: PathBuf::from(name),
                what,
            },
        }
    }

    /// Checks, without writing anything, what can be checked before a network call: that an
    /// [`update`](Self::update) would be able to lock, read and replace the file — the lock file
    /// can be opened (a regular file, not a directory, FIFO or symlink), the directory is
    /// writable, the file (if any) is a readable regular file within [`MAX_FILE_BYTES`], not
    /// hard-linked, in a directory that lets us replace it, and its owner and group can be kept.
    /// It does not parse the file: callers have read it already.
    pub fn preflight(&self) -> Result<(), StoreError> {
        let target = resolve_symlinks(&self.path).map_err(|cause| StoreError::Read {
            path: self.path.clone(),
            cause,
        })?;
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let unwritable = |why: String| StoreError::Write {
            path: self.path.clone(),
            cause: io::Error::new(io::ErrorKind::PermissionDenied, why),
        };
        // The directory, or the nearest ancestor we would create it in.
        let mut existing_dir = dir.as_path();
        while !existing_dir.exists() {
            match existing_dir.parent() {
                Some(p) if !p.as_os_str().is_empty() => existing_dir = p,
                _ => {
                    existing_dir = Path::new(".");
                    break;
                }
            }
        }
        if !existing_dir.is_dir() {
            return Err(unwritable(format!(
                "{} is not a directory",
                existing_dir.display()
            )));
        }
        if !sysfs::dir_writable(existing_dir) {
            return Err(unwritable(format!(
                "its directory {} is not writable by you",
                existing_dir.display()
            )));
        }
        let mut lock = target.as_os_str().to_owned();
        lock.push(".lock");
        let lock = PathBuf::from(lock);
        match fs::symlink_metadata(&lock) {
            Ok(m) if !m.file_type().is_file() => {
                return Err(StoreError::NotRegular {
                    path: lock,
                    what: type_name(m.file_type()),
                });
            }
            Ok(_) => {
                sysfs::open(&lock, How::WriteNoFollow).map_err(|e| StoreError::Lock {
                    path: lock.clone(),
                    cause: e.into(),
                })?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(cause) => return Err(StoreError::Lock { path: lock, cause }),
        }
        let meta = match open_regular(&target) {
            Ok(Some((_, meta))) => meta,
            Ok(None) => return Ok(()),
            Err(OpenError::NotRegular(what)) => {
                return Err(StoreError::NotRegular {
                    path: self.path.clone(),
                    what,
                });
            }
            Err(e) => {
                return Err(StoreError::Read {
                    path: self.path.clone(),
                    cause: e.into(),
                });
            }
        };
        if meta.len() > MAX_FILE_BYTES {
            return Err(StoreError::TooLarge {
                path: self.path.clone(),
                limit: MAX_FILE_BYTES,
            });
        }
        if crate::sys::fs::is_mount_root(&target) {
            return Err(StoreError::BindMount {
                path: self.path.clone(),
            });
        }
        self.check_replaceable(&meta)?;
        // In a sticky directory (like /tmp) only the file's or the directory's owner may
        // replace it.
        if let Ok(d) = fs::metadata(&dir)
            && sysfs::sticky_problem(&d, &meta)
        {
            return Err(unwritable(format!(
                "its directory {} is sticky and neither it nor the file is yours",
                dir.display()
            )));
        }
        Ok(())
    }
}

/// A warning on every write of a file others may read: it holds secrets.
fn warn_if_exposed(path: &Path, meta: Option<&Metadata>) {
    let Some(mode) = meta.and_then(sysfs::exposed) else {
        return;
    };
    {
        tracing::warn!(
            "{} is readable or writable by group or others (mode {mode:o}) and holds secrets; \
             fix it with: chmod 600 {}",
            path.display(),
            path.display()
        );
    }
}

/// Held by one `refresh` run at a time (see [`SharedFile::run_lock`]); released on drop.
#[derive(Debug)]
pub struct RunLock(#[allow(dead_code)] Lock);

impl SharedFile {
    /// An exclusive lock on `<file>.<purpose>.lock`, separate from the write lock, waited for up
    /// to `wait`. `refresh` holds it for its whole run, network calls included, so overlapping
    /// cron runs take turns: the second one re-reads the file after the first and finds the
    /// sessions already renewed. Writers are never blocked by it.
    pub fn run_lock(
        &self,
        purpose: &str,
        wait: std::time::Duration,
    ) -> Result<RunLock, StoreError> {
        let target = resolve_symlinks(&self.path).map_err(|cause| StoreError::Read {
            path: self.path.clone(),
            cause,
        })?;
        let mut name = target.as_os_str().to_owned();
        name.push(format!(".{purpose}"));
        let lock_path = PathBuf::from(format!("{}.lock", name.to_string_lossy()));
        let lock_err = |cause| StoreError::Lock {
            path: lock_path.clone(),
            cause,
        };
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            crate::sys::owner::create_dir_all(dir, 0o700).map_err(lock_err)?;
        }
        let file = open_lock_file(&lock_path).map_err(|e| match e {
            LockError::Io(cause) => lock_err(cause),
            LockError::NotRegular(what) => StoreError::NotRegular {
                path: lock_path.clone(),
                what,
            },
        })?;
        let deadline = std::time::Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(RunLock(Lock(file))),
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(StoreError::Busy {
                        path: lock_path.clone(),
                        waited: wait.as_secs(),
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(lock_err(e)),
            }
        }
    }
}

/// Whether what mfa-session finds in `dir` may be trusted as its own: it belongs to this user,
/// or — running as root — to the user whose directory `dir` is (root working in a user's HOME
/// leaves its files to that user, see [`crate::sys::owner::create_dir_all`]).
pub fn owned_by_us(uid: u32, dir: &Path) -> bool {
    let me = crate::sys::owner::effective_uid();
    uid == me || (me == 0 && crate::sys::owner::stat(dir).is_ok_and(|d| d.uid == uid))
}

/// Checks mfa-session's own cache directory `dir` (`~/.cache/mfa-session`, or under
/// `XDG_CACHE_HOME`) before anything in it is trusted: the single-flight locks and the role
/// sessions live there, so another user able to write in it could hold our locks (every login
/// waits for them) or plant a session. It must be a directory of ours (as root, or of the user
/// whose directory holds it) that neither group nor others may write; a symlink to one is
/// accepted only if the link is ours too. `Ok(false)`: it does not exist yet.
pub fn check_cache_dir(dir: &Path) -> Result<bool, StoreError> {
    // Checked once per process and directory: `status` asks for every role profile's cache
    // entry, and thousands of them would each stat the same directories again. Only a pass is
    // remembered (a directory that does not exist yet may be created meanwhile).
    static PASSED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let passed = || PASSED.lock().unwrap_or_else(|e| e.into_inner());
    if passed().iter().any(|p| p == dir) {
        return Ok(true);
    }
    let ok = check_cache_dir_now(dir)?;
    if ok {
        passed().push(dir.to_path_buf());
    }
    Ok(ok)
}

fn check_cache_dir_now(dir: &Path) -> Result<bool, StoreError> {
    use crate::sys::owner::{self, Kind};
    let cannot = |cause| StoreError::Dir {
        path: dir.to_path_buf(),
        cause,
    };
    let unsafe_dir = |why: String| StoreError::UnsafeDir {
        path: dir.to_path_buf(),
        why,
    };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let me = owner::effective_uid();
    let not_ours = |uid: u32| {
        let hint = if uid == 0 {
            format!(
                " (a run as root left it: give it back with `sudo chown -R {me} {}`)",
                dir.display()
            )
        } else {
            String::new()
        };
        unsafe_dir(format!(
            "it belongs to uid {uid}, not to you (uid {me}){hint}"
        ))
    };
    let link = match owner::lstat(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(cannot(e)),
    };
    if link.kind == Kind::Symlink && !owned_by_us(link.uid, parent) {
        return Err(not_ours(link.uid));
    }
    let target = match owner::stat(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(unsafe_dir("it is a symbolic link to nothing".into()));
        }
        Err(e) => return Err(cannot(e)),
    };
    if target.kind != Kind::Dir {
        return Err(unsafe_dir("it is not a directory".into()));
    }
    if !owned_by_us(target.uid, parent) {
        return Err(not_ours(target.uid));
    }
    if target.mode & 0o022 != 0 {
        let who = if target.mode & 0o002 != 0 {
            "others"
        } else {
            "its group"
        };
        return Err(unsafe_dir(format!(
            "it is writable by {who} (mode {:o}); if it is yours, `chmod 700 {}`",
            target.mode & 0o777,
            dir.display()
        )));
    }
    Ok(true)
}

/// `dir/sub` (`~/.cache/mfa-session/locks`, `.../roles`), created `0700` if missing, once
/// [`check_cache_dir`] accepts `dir` (checked again after creating it, in case another user made
/// it first).
pub fn cache_subdir(dir: &Path, sub: &str) -> Result<PathBuf, StoreError> {
    let existed = check_cache_dir(dir)?;
    let path = dir.join(sub);
    crate::sys::owner::create_dir_all(&path, 0o700).map_err(|cause| StoreError::Dir {
        path: if existed || dir.is_dir() {
            path.clone()
        } else {
            dir.to_path_buf()
        },
        cause,
    })?;
    if !existed {
        check_cache_dir(dir)?;
    }
    Ok(path)
}

/// The longest file name most file systems take (`NAME_MAX`).
const MAX_NAME_BYTES: usize = 255;

/// `stem` + `ext` as a file name of at most 255 bytes. Names that fit stay exactly as they are
/// (so existing caches and locks keep their names); a longer one keeps a readable start of
/// `stem` and ends with a hash of the whole of it, so different long names stay different.
/// `stem` must be ASCII (the callers percent-encode names).
pub fn bounded_file_name(stem: &str, ext: &str) -> String {
    if stem.len() + ext.len() <= MAX_NAME_BYTES {
        return format!("{stem}{ext}");
    }
    // FNV-1a, 128 bits: stable across versions and platforms, unlike the std hasher.
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in stem.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    let hash = format!("{h:032x}");
    let keep = MAX_NAME_BYTES - ext.len() - hash.len() - 1;
    let mut end = keep.min(stem.len());
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}-{hash}{ext}", &stem[..end])
}

/// Reads a private file of ours (a role-session cache entry); `None` when it does not exist.
/// Like the shared files, never blocking on a FIFO and never reading more than
/// [`MAX_FILE_BYTES`].
pub fn read_private(path: &Path) -> io::Result<Option<String>> {
    let (file, _) = match open_regular(path) {
        Ok(Some(opened)) => opened,
        Ok(None) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut text = String::new();
    file.take(MAX_FILE_BYTES).read_to_string(&mut text)?;
    Ok(Some(text))
}

/// Writes a private file of ours atomically: directory 0700, file 0600, temp + fsync + rename.
/// As root in another user's directory, the directories and the file are given to that user,
/// like the lock files.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::sys::owner::create_dir_all(dir, 0o700)?;
    let mut tmp = sysfs::private_temp_in(dir, ".mfa-session-tmp-")?;
    let meta = tmp.as_file().metadata()?;
    sysfs::give_to_directory_owner(tmp.as_file(), &meta, path);
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    sysfs::replace(tmp, path)?;
    sysfs::sync_dir(dir)
}

enum LockError {
    Io(io::Error),
    NotRegular(&'static str),
}

/// Opens (creating it 0600) a lock file: never through a symlink (a dangling one would make us
/// create its target, as root anywhere), never blocking on a FIFO, and only a regular file.
fn open_lock_file(path: &Path) -> Result<File, LockError> {
    let (file, meta) = sysfs::open(path, How::CreateNoFollow).map_err(|e| match e {
        OpenError::NotRegular(what) => LockError::NotRegular(what),
        other => LockError::Io(other.into()),
    })?;
    sysfs::give_to_directory_owner(&file, &meta, path);
    Ok(file)
}

/// Opens (creating it 0600, for reading and writing) a lock file of mfa-session's own, such as
/// a single-flight lock, with the rules of the shared files' locks: never through a symlink,
/// never blocking on a FIFO, only a regular file (anything else is [`StoreError::NotRegular`]),
/// and given to the directory's owner when root creates it in a user's directory.
pub fn open_lock(path: &Path) -> Result<File, StoreError> {
    open_lock_file(path).map_err(|e| match e {
        LockError::Io(cause) => StoreError::Lock {
            path: path.to_path_buf(),
            cause,
        },
        LockError::NotRegular(what) => StoreError::NotRegular {
            path: path.to_path_buf(),
            what,
        },
    })
}

/// Follows a chain of symlinks to the file they name (which may not exist yet), so the link
/// itself survives the rename and the lock is shared by every path to the same file.
fn resolve_symlinks(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = fs::read_link(&p)?;
                p = match p.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// An exclusive advisory lock on `<file>.lock`, released on drop. The lock file is never
/// deleted: removing it would let two writers lock two different inodes.
#[derive(Debug)]
struct Lock(File);

impl Lock {
    fn acquire(target: &Path) -> Result<Lock, LockError> {
        let mut name = target.as_os_str().to_owned();
        name.push(".lock");
        let file = open_lock_file(&PathBuf::from(name))?;
        file.lock().map_err(LockError::Io)?;
        Ok(Lock(file))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

enum Written {
    Done,
    /// The file is not the version that was read any more: nothing was replaced.
    ChangedMeanwhile,
}

enum WriteError {
    Io(io::Error),
    /// The new version could not be given the old one's owner and group.
    Owner(io::Error),
}

/// Writes `bytes` to a temp file next to `target` with the old version's mode (without
/// setuid, setgid and sticky bits; 0600 for a new file), owner and group, and renames it over
/// `target` — unless `target` is no longer the version described by `read`.
fn write_atomic(
    target: &Path,
    dir: &Path,
    bytes: &[u8],
    read: Option<&Metadata>,
) -> Result<Written, WriteError> {
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{file_name}{TMP_MARK}");
    remove_stale_temps(dir, &prefix);
    let mode = read.map_or(0o600, sysfs::mode_of);
    let mut tmp = sysfs::private_temp_in(dir, &prefix).map_err(WriteError::Io)?;
    if let Some(m) = read {
        sysfs::keep_owner(tmp.as_file(), m).map_err(WriteError::Owner)?;
    }
    tmp.write_all(bytes).map_err(WriteError::Io)?;
    // After the chown, which clears setuid/setgid bits anyway.
    sysfs::set_mode(tmp.as_file(), mode).map_err(WriteError::Io)?;
    tmp.as_file().sync_all().map_err(WriteError::Io)?;
    // Just before the rename: is the file still the version we read? An editor that ignores
    // the lock may have written it meanwhile; its change must not be lost.
    let now = match fs::metadata(target) {
        Ok(m) => Some(Stamp::of(&m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(WriteError::Io(e)),
    };
    if now != read.map(Stamp::of) {
        return Ok(Written::ChangedMeanwhile);
    }
    sysfs::replace(tmp, target).map_err(WriteError::Io)?;
    // The rename is durable only once the directory entry is.
    sysfs::sync_dir(dir).map_err(WriteError::Io)?;
    Ok(Written::Done)
}

/// Temp files of ours that a killed writer left behind. Safe to remove: we hold the lock, so no
/// writer of ours is using one.
fn remove_stale_temps(dir: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(prefix) {
            let _ = fs::remove_file(entry.path());
        }
    }
}
