//! Trees on Unix: a process group (`setpgid`), given the terminal's foreground (`tcsetpgrp`)
//! while it runs when we have it, killed with `kill(-pgid, …)`.

use std::io;
use std::os::fd::IntoRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

use crate::sys::signals::imp::{TrackedGroup, track_group};
use crate::sys::terminal::imp::even_in_background;

#[derive(Debug)]
pub(super) struct Group {
    pgid: libc::pid_t,
    _tracked: TrackedGroup,
    /// Dropped after the registration: the terminal is taken back last.
    _foreground: Option<ForegroundTerminal>,
}

pub(super) fn spawn(mut cmd: Command, foreground: bool) -> io::Result<(Child, Group)> {
    // Its own process group, so that at the time limit the whole of it — a shell and whatever
    // that shell started — is killed. When we own the terminal's foreground, the group gets it
    // for the duration, so a source asking on /dev/tty (a password manager's unlock) still can.
    let tty = if foreground {
        ForegroundTerminal::ours()
    } else {
        None
    };
    match tty.as_ref().map(|t| t.fd) {
        // SAFETY: only async-signal-safe calls (setpgid, signal, tcsetpgrp, getpid) in the child.
        Some(fd) => unsafe {
            cmd.pre_exec(move || {
                libc::setpgid(0, 0);
                libc::signal(libc::SIGTTOU, libc::SIG_IGN);
                libc::tcsetpgrp(fd, libc::getpid());
                libc::signal(libc::SIGTTOU, libc::SIG_DFL);
                Ok(())
            });
        },
        // No terminal to hand over (cron, refresh, an IDE): the group alone, which lets the
        // standard library spawn with posix_spawn instead of fork, a large saving for a
        // multi-threaded process starting one source per device.
        None => {
            cmd.process_group(0);
        }
    }
    let child = cmd.spawn()?;
    // Killed with us if we are signalled meanwhile: a YubiKey or a dialog is not left held.
    let tracked = track_group(child.id());
    let pgid = libc::pid_t::try_from(child.id()).unwrap_or(libc::pid_t::MAX);
    Ok((
        child,
        Group {
            pgid,
            _tracked: tracked,
            _foreground: tty,
        },
    ))
}

impl Group {
    pub(super) fn kill(&self, _child: &mut Child) {
        // SAFETY: a signal to the process group we created.
        unsafe {
            libc::kill(-self.pgid, libc::SIGKILL);
        }
    }

    pub(super) fn terminate(&self, _child: &mut Child) {
        // SAFETY: a signal to the process group we created.
        unsafe {
            libc::kill(-self.pgid, libc::SIGTERM);
        }
    }
}

/// The controlling terminal while a child group holds its foreground: given back to our
/// process group on drop.
#[derive(Debug)]
struct ForegroundTerminal {
    fd: libc::c_int,
}

impl ForegroundTerminal {
    /// `/dev/tty`, when this process group is its foreground (a person is at it).
    fn ours() -> Option<ForegroundTerminal> {
        let fd = crate::sys::terminal::open()?.input.into_raw_fd();
        // SAFETY: plain calls on a file descriptor we own.
        unsafe {
            if libc::tcgetpgrp(fd) != libc::getpgrp() {
                libc::close(fd);
                return None;
            }
            Some(ForegroundTerminal { fd })
        }
    }
}

impl Drop for ForegroundTerminal {
    fn drop(&mut self) {
        // We are a background group now: SIGTTOU blocked, taking the terminal back does not
        // stop us.
        // SAFETY: terminal calls on our own descriptor.
        even_in_background(|| unsafe {
            libc::tcsetpgrp(self.fd, libc::getpgrp());
        });
        // SAFETY: the descriptor is ours and closed once.
        unsafe {
            libc::close(self.fd);
        }
    }
}
