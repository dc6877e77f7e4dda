//! The terminal on Unix: `/dev/tty`, and writing to it from the background without being
//! stopped by SIGTTOU.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;

use super::Tty;

/// Never made: the terminal keeps echoing on Unix (see `sys::terminal::Hidden`).
pub(super) enum EchoOff {}

pub(super) fn echo_off(input: &std::fs::File) -> Option<EchoOff> {
    let _ = input;
    None
}

pub(super) fn open() -> Option<Tty> {
    let input = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
        .open("/dev/tty")
        .ok()?;
    let output = input.try_clone().ok()?;
    Some(Tty { input, output })
}

/// Runs `f` with SIGTTOU blocked in this thread: a process in the background of its terminal
/// may then write to it or take its foreground back without being stopped.
pub(in crate::sys) fn even_in_background<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: signal-mask calls with valid arguments; the old mask is restored.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGTTOU);
        libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old);
        let out = f();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        out
    }
}
