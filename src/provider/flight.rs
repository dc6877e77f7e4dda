//! Single flight across processes: when several processes need a new session for the same
//! MFA device (or the same role), exactly one of them gets a code and calls STS.
//!
//! AWS accepts a device's code once per 30-second window, so a second process that asks for a
//! code meanwhile is refused (or piles a second prompt on the person). Each login therefore
//! takes an exclusive `flock` on a lock file named after what it spends: the long-term access
//! key (which names the IAM user and so its MFA devices) for GetSessionToken and AssumeRole
//! with a code, the role profile for a role. The lock is held across the code and the STS call
//! — never across a file write's lock, which stays short — and whoever gets it after waiting
//! re-reads the files first and uses what the one before it wrote. The leader records in the
//! lock file which profiles it wrote (names only, never a secret), so a process waiting for
//! another profile on the same device can adopt that session instead of spending a code.
//!
//! `flock` locks die with their process: a leader killed with SIGKILL frees its waiters at
//! once, and the next one takes over. Nothing waits longer than [`WAIT`].

use std::fs::{self, File};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::FlightTimeout;

/// How long a process waits for another one logging in with the same device or role: long
/// enough for a person to read a code off a phone (or an `mfa_process` to wait for the next
/// 30-second window), short enough that a forgotten prompt does not hang a build for ever.
pub const WAIT: Duration = Duration::from_secs(120);

/// How often a waiter checks whether the lock came free.
const POLL: Duration = Duration::from_millis(25);

/// The right to log in with one device or role, held until dropped.
#[derive(Debug)]
pub struct Flight {
    /// `None`: going on without the lock (see [`Flight::without_lock`]).
    file: Option<File>,
    /// Another process held it when we asked: re-read the files before doing anything.
    pub waited: bool,
}

/// The lock name for a login signed with the long-term access key `access_key_id`.
pub fn device_key(access_key_id: &str) -> String {
    format!("keys-{}", encode(access_key_id))
}

/// The lock name for role profile `name`.
pub fn role_key(name: &str) -> String {
    format!("role-{}", encode(name))
}

/// A file-name-safe spelling: ASCII letters, digits, `-`, `_` and `.` stay; the rest become
/// `%XX`.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && !out.is_empty()) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Flight {
    /// No lock at all, for a login that goes on without one when the lock directory cannot be
    /// written (read-only or full): nothing waits for it and it waits for nothing.
    pub fn without_lock() -> Flight {
        Flight {
            file: None,
            waited: false,
        }
    }
}

/// Takes the lock `key` in `dir`, waiting up to `wait` for another process holding it.
/// `on_wait` runs once, when the lock turns out to be held (to tell the person why we wait).
/// The lock file is opened by the store's rules for lock files: a symlink, FIFO or directory
/// in its place is refused ([`crate::store::StoreError::NotRegular`]).
pub fn acquire(
    dir: &Path,
    key: &str,
    profile: &str,
    wait: Duration,
    on_wait: impl FnOnce(),
) -> anyhow::Result<Flight> {
    let path = dir.join(crate::store::fs::bounded_file_name(key, ".lock"));
    let file = crate::store::fs::open_lock(&path)?;
    let started = Instant::now();
    let mut on_wait = Some(on_wait);
    loop {
        match file.try_lock() {
            Ok(()) => {
                return Ok(Flight {
                    file: Some(file),
                    waited: on_wait.is_none(),
                });
            }
            Err(fs::TryLockError::WouldBlock) => {
                if let Some(f) = on_wait.take() {
                    f();
                }
                if started.elapsed() >= wait {
                    return Err(FlightTimeout {
                        profile: profile.to_string(),
                        waited: wait,
                    }
                    .into());
                }
                std::thread::sleep(POLL);
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("cannot lock the login lock {}", path.display())));
            }
        }
    }
}

impl Flight {
    /// Records which profiles this flight wrote, for the processes waiting behind it.
    pub fn record(&mut self, profiles: &[&str]) {
        let Some(file) = &mut self.file else { return };
        let text: String = profiles.iter().map(|p| format!("{p}\n")).collect();
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(text.as_bytes()));
    }

    /// The profiles the previous holder wrote (empty when it wrote none, or died first).
    pub fn recorded(&mut self) -> Vec<String> {
        let Some(mut file) = self.file.as_ref() else {
            return Vec::new();
        };
        let mut text = String::new();
        let _ = file
            .rewind()
            .and_then(|()| file.take(64 * 1024).read_to_string(&mut text));
        text.lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        if let Some(file) = &self.file {
            let _ = file.unlock();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_file_names() {
        assert_eq!(device_key("AKIAEXAMPLE"), "keys-AKIAEXAMPLE");
        assert_eq!(role_key("a/b c"), "role-a%2Fb%20c");
        assert_eq!(role_key(".."), "role-%2E.");
        let long = role_key(&"x".repeat(250));
        let name = crate::store::fs::bounded_file_name(&long, ".lock");
        assert!(name.len() <= 255 && name.starts_with("role-xxx") && name.ends_with(".lock"));
        assert_ne!(
            name,
            crate::store::fs::bounded_file_name(&role_key(&"x".repeat(251)), ".lock")
        );
        assert_eq!(
            crate::store::fs::bounded_file_name("role-admin", ".lock"),
            "role-admin.lock"
        );
    }

    #[test]
    fn a_second_holder_waits_then_reads_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = acquire(dir.path(), "k", "p", WAIT, || panic!("free")).unwrap();
        assert!(!first.waited);
        first.record(&["p", "q"]);
        let mut told = 0;
        let err = acquire(dir.path(), "k", "p", Duration::from_millis(100), || {
            told += 1
        });
        assert!(err.unwrap_err().to_string().contains("logging in to [p]"));
        assert_eq!(told, 1);
        drop(first);
        let mut second = acquire(dir.path(), "k", "p", WAIT, || {}).unwrap();
        assert_eq!(second.recorded(), ["p", "q"]);
    }
}
