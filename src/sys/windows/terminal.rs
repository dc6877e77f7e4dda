//! The console on Windows: `CONIN$` and `CONOUT$`, which are the console whatever stdin and
//! stdout are redirected to (as `/dev/tty` is on Unix). A process without a console (started
//! by an IDE, a service, Task Scheduler) has none.

use std::fs::{File, OpenOptions};
use std::os::windows::io::AsRawHandle;

use windows_sys::Win32::System::Console::{
    CONSOLE_MODE, ENABLE_ECHO_INPUT, GetConsoleMode, SetConsoleMode,
};

use super::Tty;

/// The console input with its echo off, and the mode to restore.
pub(super) struct EchoOff {
    input: File,
    mode: CONSOLE_MODE,
}

/// Turns the console's echo off on `input` (`CONIN$`); `None` when it is not a console or the
/// mode cannot be changed (typing then shows, as before).
pub(super) fn echo_off(input: &File) -> Option<EchoOff> {
    let input = input.try_clone().ok()?;
    let mut mode: CONSOLE_MODE = 0;
    // SAFETY: a console handle owned by `input`, alive for both calls.
    unsafe {
        if GetConsoleMode(input.as_raw_handle(), &mut mode) == 0 {
            return None;
        }
        if SetConsoleMode(input.as_raw_handle(), mode & !ENABLE_ECHO_INPUT) == 0 {
            return None;
        }
    }
    Some(EchoOff { input, mode })
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: the handle is owned by `self.input`, still open here.
        unsafe {
            SetConsoleMode(self.input.as_raw_handle(), self.mode);
        }
    }
}

pub(super) fn open() -> Option<Tty> {
    let input = OpenOptions::new()
        .read(true)
        .write(true)
        .open("CONIN$")
        .ok()?;
    let output = OpenOptions::new()
        .read(true)
        .write(true)
        .open("CONOUT$")
        .ok()?;
    Some(Tty { input, output })
}

/// Consoles have no background: `f` as it is.
pub(in crate::sys) fn even_in_background<T>(f: impl FnOnce() -> T) -> T {
    f()
}
