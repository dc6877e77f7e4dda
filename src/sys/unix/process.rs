//! Hardening, served commands and `exec` on Unix: `RLIMIT_CORE`, `PR_SET_DUMPABLE`,
//! `PR_SET_PDEATHSIG`, `execve`.

use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use crate::sys::signals::Deferred;

/// The shell for a command line that needs one, and for `exec` without a command when `SHELL`
/// is not set.
pub const DEFAULT_SHELL: &str = "/bin/sh";

/// `line` run by the shell: `/bin/sh -c LINE`.
pub fn shell_command(line: &str) -> Command {
    let mut c = Command::new(DEFAULT_SHELL);
    c.arg("-c").arg(line);
    c
}

/// A plain command line (no shell syntax) split into its words as `sh` would: quotes group,
/// backslashes escape. `None` when a quote is left open.
pub fn split_command(line: &str) -> Option<Vec<String>> {
    shlex::split(line)
}

/// The program that opens a URL in the person's browser: `open` on macOS (Launch Services),
/// `xdg-open` elsewhere (the freedesktop.org opener of Linux and the BSDs).
pub const URL_OPENER: &str = if cfg!(target_os = "macos") {
    "open"
} else {
    "xdg-open"
};

/// [`URL_OPENER`] opening `url`: the URL is its one argument.
pub fn open_url(url: &str) -> Command {
    let mut c = Command::new(URL_OPENER);
    c.arg(url);
    c
}

/// `program` in `dir`, if it is a regular file with an execute bit.
pub fn executable_in(dir: &Path, program: &str) -> Option<PathBuf> {
    let p = dir.join(program);
    is_executable(&p).then_some(p)
}

/// A regular file with an execute bit.
pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What ties a served command to us: nothing to hold on Unix (the parent-death signal is set
/// in the child).
#[derive(Debug)]
pub struct Tie(());

/// Starts the command `exec --server` serves: with the signal mask we had before `deferred`,
/// the user's core-file limit back, and on Linux a SIGTERM when we die (however we die).
pub fn spawn_served(mut cmd: Command, deferred: &Deferred) -> io::Result<(Child, Tie)> {
    deferred.not_in(&mut cmd);
    die_with_parent(&mut cmd);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            restore_core_limit();
            Ok(())
        });
    }
    Ok((cmd.spawn()?, Tie(())))
}

/// Replaces this process with `cmd` (`execve`), the user's core-file limit given back; only
/// returns on failure.
pub fn exec(mut cmd: Command) -> io::Error {
    restore_core_limit();
    cmd.exec()
}

/// Makes `cmd`'s process receive SIGTERM when this process dies, however it dies (SIGKILL
/// included): Linux's parent-death signal. If we are already gone by the time it starts, it
/// exits at once instead of running orphaned. Elsewhere this does nothing (macOS has no such
/// signal: docs/security.md says what that means).
fn die_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: getpid before the fork; prctl, getppid and _exit are async-signal-safe.
        let parent = unsafe { libc::getpid() };
        let signal = libc::c_ulong::try_from(libc::SIGTERM).unwrap_or(15);
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, signal, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    libc::_exit(143);
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

/// Raises the soft limit of open files to the hard limit (at most `want`), for a server that
/// must keep answering while many connections are open; returns the soft limit now in force.
pub fn raise_open_files(want: u64) -> u64 {
    // SAFETY: getrlimit/setrlimit with a valid struct.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 256;
        }
        let target = want.min(lim.rlim_max);
        if lim.rlim_cur < target {
            let raised = libc::rlimit {
                rlim_cur: target,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return target;
            }
        }
        lim.rlim_cur
    }
}

/// The core-file size limit the process started with, restored for a program `exec` runs.
static CORE_LIMIT: std::sync::OnceLock<libc::rlimit> = std::sync::OnceLock::new();

/// Turns core dumps off for this process: the soft `RLIMIT_CORE` to 0 (the hard limit is kept so
/// [`restore_core_limit`] can give a program we `exec` the user's own limit back), and on Linux
/// `PR_SET_DUMPABLE` to 0, which also covers a `core_pattern` that pipes to a handler (those
/// ignore `RLIMIT_CORE`) and keeps other processes of the user from attaching with ptrace.
pub fn no_core_dumps() {
    // SAFETY: plain syscalls on our own process with valid pointers.
    unsafe {
        let mut old = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_CORE, &mut old) == 0 {
            let _ = CORE_LIMIT.set(old);
            let off = libc::rlimit {
                rlim_cur: 0,
                rlim_max: old.rlim_max,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &off);
        }
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// Gives the core-file limit the process started with back, just before `exec` replaces this
/// process with the user's command (`execve` resets the dumpable flag by itself). By then the
/// secrets in our memory are gone with the old image. Async-signal-safe (called after fork).
fn restore_core_limit() {
    if let Some(old) = CORE_LIMIT.get() {
        // SAFETY: a plain syscall with a valid pointer.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, old);
        }
    }
}
