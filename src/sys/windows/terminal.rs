//! The console on Windows: `CONIN$` and `CONOUT$`, which are the console whatever stdin and
//! stdout are redirected to (as `/dev/tty` is on Unix). A process without a console (started
//! by an IDE, a service, Task Scheduler) has none.

use std::fs::OpenOptions;

use super::Tty;

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
