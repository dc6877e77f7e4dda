//! The only code that touches the shared files on disk.
//!
//! Users' credentials files hold keys they cannot get back, and cron jobs, shells and logins may
//! all write at once. So a write is: take an advisory lock on a sidecar file, re-read and parse
//! the file under that lock, apply the edit, write a temp file in the same directory, fsync it,
//! rename it over the target, fsync the directory. Readers never see a torn file (rename is
//! atomic), concurrent writers never lose each other's update (the lock spans read-edit-write),
//! and a crash at any moment leaves the old or the new file. The lock is only ever held around
//! that local sequence — callers do their prompting and network calls before `update`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::StoreError;
use super::doc::{Document, FileKind};

/// Temp files are named after their target so a stale one (left by a crash) is recognisable
/// and can be cleared by the next writer, which holds the lock.
const TMP_MARK: &str = ".mfa-session-tmp-";

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
            .unwrap_or_else(|| Document::empty(self.kind)))
    }

    fn read_at(&self, path: &Path) -> Result<Option<Document>, StoreError> {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StoreError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let text = String::from_utf8(bytes).map_err(|_| StoreError::NotUtf8 {
            path: self.path.clone(),
        })?;
        Document::parse_owned(self.kind, text)
            .map(Some)
            .map_err(|e| StoreError::Parse {
                path: self.path.clone(),
                line: e.line,
                message: e.message,
            })
    }

    /// The one way to change the file: under the lock, re-read it, let `edit` change the
    /// document, and write it back atomically if anything changed. `edit` must not prompt or
    /// call the network. If reading, parsing or `edit` fails, the file is not touched.
    pub fn update<T, E>(&self, edit: impl FnOnce(&mut Document) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let target = resolve_symlinks(&self.path).map_err(|source| StoreError::Read {
            path: self.path.clone(),
            source,
        })?;
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.exists() {
            // ~/.aws holds secrets: only its owner may list it.
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|source| StoreError::Write {
                    path: self.path.clone(),
                    source,
                })?;
        }
        let _lock = Lock::acquire(&target).map_err(|source| StoreError::Lock {
            path: self.path.clone(),
            source,
        })?;
        let existing = self.read_at(&target)?;
        let before = existing.as_ref().map(|d| d.to_string());
        let mut doc = existing.unwrap_or_else(|| Document::empty(self.kind));
        let out = edit(&mut doc)?;
        let after = doc.to_string();
        if before.as_deref() != Some(after.as_str()) {
            write_atomic(&target, &dir, after.as_bytes()).map_err(|source| StoreError::Write {
                path: self.path.clone(),
                source,
            })?;
        }
        Ok(out)
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
        let target = resolve_symlinks(&self.path).map_err(|source| StoreError::Read {
            path: self.path.clone(),
            source,
        })?;
        let mut name = target.as_os_str().to_owned();
        name.push(format!(".{purpose}"));
        let lock_err = |source| StoreError::Lock {
            path: PathBuf::from(&name),
            source,
        };
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(lock_err)?;
        }
        let file = open_lock_file(&PathBuf::from(format!("{}.lock", name.to_string_lossy())))
            .map_err(lock_err)?;
        let deadline = std::time::Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(RunLock(Lock(file))),
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(lock_err(io::Error::other(format!(
                        "another run has held it for {} s",
                        wait.as_secs()
                    ))));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(lock_err(e)),
            }
        }
    }
}

/// Reads a private file of ours (a role-session cache entry); `None` when it does not exist.
pub fn read_private(path: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes a private file of ours atomically: directory 0700, file 0600, temp + fsync + rename.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".mfa-session-tmp-")
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
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
    fn acquire(target: &Path) -> io::Result<Lock> {
        let mut name = target.as_os_str().to_owned();
        name.push(".lock");
        let file = open_lock_file(&PathBuf::from(name))?;
        file.lock()?;
        Ok(Lock(file))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

fn write_atomic(target: &Path, dir: &Path, bytes: &[u8]) -> io::Result<()> {
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{file_name}{TMP_MARK}");
    remove_stale_temps(dir, &prefix);
    // Keep the mode the user chose; a new file is readable by its owner only.
    let mode = match fs::metadata(target) {
        Ok(m) => m.permissions().mode() & 0o7777,
        Err(e) if e.kind() == io::ErrorKind::NotFound => 0o600,
        Err(e) => return Err(e),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_all()?;
    tmp.persist(target).map_err(|e| e.error)?;
    // The rename is durable only once the directory entry is.
    File::open(dir)?.sync_all()
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
