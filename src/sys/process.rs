//! Child processes that cannot outlive us.

use std::process::Command;

/// Makes `cmd`'s process receive SIGTERM when this process dies, however it dies (SIGKILL
/// included): Linux's parent-death signal. If we are already gone by the time it starts, it
/// exits at once instead of running orphaned. Elsewhere this does nothing (macOS has no such
/// signal: docs/security.md says what that means).
pub fn die_with_parent(cmd: &mut Command) {
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
