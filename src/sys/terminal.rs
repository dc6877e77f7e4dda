//! The controlling terminal, and the moment it stops being ours.
//!
//! Every prompt, hint and terminal hand-over opens the terminal here. Under `exec --server`
//! the terminal belongs to the command being served: once [`give_away`] is called, this
//! process neither reads nor writes it again (a renewal that needs a person then has to use
//! a dialog, or fail at once), so it can never print a prompt into the command's screen or
//! steal its keystrokes.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, Ordering};

static GIVEN_AWAY: AtomicBool = AtomicBool::new(false);

/// From now on, [`open`] finds no terminal.
pub fn give_away() {
    GIVEN_AWAY.store(true, Ordering::SeqCst);
}

/// Whether the terminal was given away.
pub fn given_away() -> bool {
    GIVEN_AWAY.load(Ordering::SeqCst)
}

/// The controlling terminal (`/dev/tty`) for reading and writing, or `None` when the process
/// has none or gave it away.
pub fn open() -> Option<File> {
    if given_away() {
        return None;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
        .open("/dev/tty")
        .ok()
}
